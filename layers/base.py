"""The base map: a folium.Map whose Leaflet and plugin assets come from the app, never from a CDN.

folium names CDN URLs in the ``default_js`` / ``default_css`` of the map and of each plugin. Before a map
is rendered, :func:`localise_assets` walks its element tree and rewrites every URL it recognises to the
copy the app serves under ``/vendor/`` (installed from npm at setup, see ``web/vendor.py``); an external
URL it does not recognise raises :class:`ExternalAssetError`, so a new plugin cannot slip a CDN request
into a page served on an offline intranet.

Rendering is split (:func:`map_parts`) so a page can link the assets, hold the map's ``<div>`` and load
the map's JavaScript from its own URL (no inline script: compatible with a Content-Security-Policy
``script-src 'self'``); :func:`map_document` gives a standalone HTML document for export.
"""
from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import folium
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin

#: Centre of Đồng Tháp (lat, lon) and a zoom that shows the whole province in a 1000 px map.
PROVINCE_CENTRE = (10.56, 105.63)
PROVINCE_ZOOM = 9

# (pattern of a CDN URL folium or a plugin uses, path under the vendor URL). The first match wins.
LOCAL_ASSETS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), local)
    for pattern, local in (
        (r"/leaflet@[\d.]+/dist/leaflet\.js$", "leaflet/dist/leaflet.js"),
        (r"/leaflet@[\d.]+/dist/leaflet\.css$", "leaflet/dist/leaflet.css"),
        (r"/leaflet\.markercluster/[\d.]+/leaflet\.markercluster\.js$",
         "leaflet.markercluster/dist/leaflet.markercluster.js"),
        (r"/leaflet\.markercluster/[\d.]+/MarkerCluster\.css$", "leaflet.markercluster/dist/MarkerCluster.css"),
        (r"/leaflet\.markercluster/[\d.]+/MarkerCluster\.Default\.css$",
         "leaflet.markercluster/dist/MarkerCluster.Default.css"),
        (r"/jquery-[\d.]+\.min\.js$", "jquery/dist/jquery.min.js"),
        (r"/bootstrap@[\d.]+/dist/js/bootstrap\.bundle\.min\.js$", "bootstrap/dist/js/bootstrap.bundle.min.js"),
        (r"/bootstrap@[\d.]+/dist/css/bootstrap\.min\.css$", "bootstrap/dist/css/bootstrap.min.css"),
        (r"/fontawesome-free@[\d.]+/css/all\.min\.css$", "@fortawesome/fontawesome-free/css/all.min.css"),
        (r"/Leaflet\.awesome-markers/[\d.]+/leaflet\.awesome-markers\.js$",
         "leaflet.awesome-markers/dist/leaflet.awesome-markers.js"),
        (r"/Leaflet\.awesome-markers/[\d.]+/leaflet\.awesome-markers\.css$",
         "leaflet.awesome-markers/dist/leaflet.awesome-markers.css"),
    )
)

# The base map needs Leaflet only; folium's defaults also pull Bootstrap 3 glyphicons, jQuery and
# awesome-markers, which these maps do not use (and Bootstrap's CSS would restyle the host page).
MAP_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")]
MAP_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")]

_EXTERNAL = re.compile(r"^(?:https?:)?//", re.IGNORECASE)


# ------------------------------------------------------------------ rendering each element's parts once
# branca's MacroElement.render puts each rendered part of an element (header, html, script) into the figure
# as ``Element(text)``, which compiles the text as a Jinja template and renders it a second time when the
# figure renders: for a commune map, some 40 compilations of long scripts per request, a seventh of the
# page's CPU. Text without Jinja syntax (nor a carriage return, which Jinja turns into a newline) renders to
# itself less one trailing newline (Jinja's keep_trailing_newline is off), so such a part is written as it
# is; any other text keeps branca's template, so every map renders byte for byte as before
# (tests/test_layers_base.py renders maps both ways).
_JINJA_SYNTAX = re.compile(r"\{[{%#]|\r")


class RenderedPart(Element):
    """A rendered part of an element, written as it is (what ``Element(text).render()`` gives for text
    without Jinja syntax)."""

    def __init__(self, text: str):
        super().__init__()
        text = str(text)
        self.text = text[:-1] if text.endswith("\n") else text

    def render(self, **kwargs):
        return self.text


def rendered_part(text: str) -> Element:
    """The figure's element for a rendered ``text``: a :class:`RenderedPart`, or branca's template element
    when the text holds Jinja syntax."""
    return Element(text) if _JINJA_SYNTAX.search(text) else RenderedPart(text)


_BRANCA_MACRO_RENDER = MacroElement.render


def _render_macro(self, **kwargs):
    """branca 0.8's MacroElement.render with the parts added as :func:`rendered_part`."""
    figure = self.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    macros = self._template.module.__dict__
    for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
        macro = macros.get(part)
        if macro is not None:
            target.add_child(rendered_part(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


MacroElement.render = _render_macro


class ExternalAssetError(ValueError):
    """A map element asks for a script or stylesheet from outside the app and no local copy is known."""


@dataclass(frozen=True)
class MapParts:
    """A rendered map in pieces for embedding in a page.

    ``css`` and ``js`` are the asset URLs to link (in order), ``html`` is the map container element and
    ``script`` the JavaScript that draws the map (to be served from the app's own URL).
    """

    css: tuple[str, ...]
    js: tuple[str, ...]
    html: str
    script: str


def make_map(*, tile_url: str = "", tile_attribution: str = "", vendor_url: str = "/vendor",
             map_id: str | None = None, location=PROVINCE_CENTRE, zoom_start: int = PROVINCE_ZOOM,
             basemap=None, lang: str = "vi", **options) -> folium.Map:
    """Return a folium.Map that loads Leaflet from ``vendor_url`` and tiles only from ``tile_url``.

    Parameters
    ----------
    tile_url : str
        Leaflet tile URL template (``{z}/{x}/{y}``), e.g. an intranet tile server. Empty: no basemap; the
        layers are drawn on a plain background, so the map works with no network at all.
    tile_attribution : str
        Attribution shown for the tiles (required by most tile licences); defaults to the tile host.
    vendor_url : str
        Where the app serves its npm assets (``/vendor`` in this app).
    basemap : layers.basemap.BasemapSource, optional
        The app's own PMTiles basemap (offline); with ``tile_url`` too, the layer control switches them.
    lang : str
        Language of the basemap names in the layer control and of a Protomaps build's labels.
    map_id : str, optional
        Fixed element id suffix (the container is ``map_<map_id>``) so a page can hold the container
        while the script is served from another URL.
    location, zoom_start, options
        Passed to :class:`folium.Map`.
    """
    if map_id is not None and not re.fullmatch(r"[A-Za-z0-9_]+", map_id):
        raise ValueError(f"map_id must be letters, digits or _; got {map_id!r}")
    if tile_url and not re.search(r"\{z\}.*\{x\}.*\{y\}|\{z\}.*\{y\}.*\{x\}", tile_url):
        raise ValueError(f"tile_url must be a tile template with {{z}}, {{x}} and {{y}}; got {tile_url!r}")
    options.setdefault("control_scale", True)
    options.setdefault("zoom_snap", 0.25)
    options.setdefault("zoom_delta", 0.5)
    m = folium.Map(location=list(location), zoom_start=zoom_start, tiles=None, **options)
    # Leaflet.markercluster needs a maxZoom on the map, which a map without a tile layer lacks.
    m.options.setdefault("max_zoom", 18)
    m.options.setdefault("min_zoom", 7)
    m.default_js = list(MAP_JS)
    m.default_css = list(MAP_CSS)
    m.vendor_url = vendor_url.rstrip("/")
    if map_id is not None:
        m._id = map_id
    from layers.basemap import add_basemaps

    m.basemap_count = add_basemaps(m, basemap=basemap, tile_url=tile_url, tile_attribution=tile_attribution,
                                   vendor_url=m.vendor_url, lang=lang)
    return m


def _host_of(url: str) -> str:
    match = re.match(r"^(?:[a-z]+:)?//([^/]+)", url, re.IGNORECASE)
    return match.group(1) if match else url


def local_asset_url(url: str, vendor_url: str = "/vendor") -> str:
    """The app URL of a known CDN asset; a URL already local (no scheme, no host) is returned unchanged.

    Raises
    ------
    ExternalAssetError
        When ``url`` is external and not in :data:`LOCAL_ASSETS`.
    """
    if not _EXTERNAL.match(url):
        return url
    for pattern, local in LOCAL_ASSETS:
        if pattern.search(url):
            return f"{vendor_url.rstrip('/')}/{local}"
    raise ExternalAssetError(f"asset url {url!r} is external and has no local copy; add the npm package to "
                             f"package.json, web/vendor.py and layers.base.LOCAL_ASSETS")


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def localise_assets(m: folium.Map) -> folium.Map:
    """Rewrite the asset URLs of ``m`` and of every element below it to the app's local copies.

    Sets instance-level ``default_js`` / ``default_css`` (folium's class-level lists stay untouched).
    Raises :class:`ExternalAssetError` for an external URL with no local copy.
    """
    vendor_url = getattr(m, "vendor_url", "/vendor")
    roots = [m]
    figure = m.get_root()
    if figure is not m:
        roots.append(figure)
    for root in roots:
        for element in _walk(root):
            if isinstance(element, JSCSSMixin):
                element.default_js = [(name, local_asset_url(url, vendor_url)) for name, url in element.default_js]
                element.default_css = [(name, local_asset_url(url, vendor_url)) for name, url in element.default_css]
            elif isinstance(element, (JavascriptLink, CssLink)):
                element.url = local_asset_url(element.url, vendor_url)
    return m


def asset_urls(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(css, js) URLs the map needs, in load order (parents before plugins), without rendering."""
    localise_assets(m)
    css: list[str] = []
    js: list[str] = []
    for element in _walk(m):
        if isinstance(element, JSCSSMixin):
            js.extend(url for _, url in element.default_js if url not in js)
            css.extend(url for _, url in element.default_css if url not in css)
    return tuple(css), tuple(js)


def _render_figure(m: folium.Map):
    localise_assets(m)
    figure = m.get_root()
    figure.render()
    _check_header(figure)
    return figure


def _check_header(figure) -> None:
    for element in figure.header._children.values():
        if isinstance(element, (JavascriptLink, CssLink)) and _EXTERNAL.match(element.url):
            raise ExternalAssetError(f"asset url {element.url!r} is still external after localisation")


# A GeoJSON geometry already serialised stands in the rendered text as this marker (in JSON quotes), replaced
# by the text once the figure is rendered: folium would otherwise dump every coordinate per request, and
# branca re-reads each element's rendered script as a Jinja template, which costs in proportion to its length.
_RAW_MARKER = re.compile(r'"__raw_json_([0-9a-f]+_\w+?)__"')


@dataclass(frozen=True)
class SerialisedGeometries:
    """The geometries of a frame as GeoJSON mappings (for bounds and printing) and as JSON text (for the map)."""

    mappings: tuple[dict, ...]
    texts: tuple[str, ...]


_PER_FRAME: OrderedDict = OrderedDict()
_PER_FRAME_LOCK = threading.Lock()
#: Entries remembered by :func:`per_frame`, least recently used dropped first (a frame filtered per request
#: would otherwise keep every request's copy alive, and must not push out the boundary sets' own frames).
PER_FRAME_ENTRIES = 64


def per_frame(frame, name: str, build):
    """``build()`` computed once per frame object and ``name``: for what a map draws the same way whatever
    the filters (geometry text, search entries) of a frame that is itself cached per data version (the
    communes of a boundary set, their display geometries). The memo keeps the frame alive, so its id is not
    reused while the entry stands; a frame built per request simply misses. The value must not be modified.
    """
    key = (id(frame), name)
    with _PER_FRAME_LOCK:
        hit = _PER_FRAME.get(key)
        if hit is not None and hit[0] is frame:
            _PER_FRAME.move_to_end(key)
            return hit[1]
    value = build()
    with _PER_FRAME_LOCK:
        _PER_FRAME[key] = (frame, value)
        _PER_FRAME.move_to_end(key)
        while len(_PER_FRAME) > PER_FRAME_ENTRIES:
            _PER_FRAME.popitem(last=False)
    return value


def serialised_geometries(frame, *, boundary: bool = False) -> SerialisedGeometries:
    """Each geometry of ``frame`` (its boundary line with ``boundary``) as a GeoJSON mapping and its JSON
    text, computed once per frame object (:func:`per_frame`).

    The coordinates of 102–143 communes are then written once per process and boundary version instead of
    at every request (the shapely ``__geo_interface__`` mapping, then :func:`json.dumps`, as folium does).
    """
    def build():
        geometries = frame.geometry.boundary if boundary else frame.geometry
        mappings = tuple(shapely.geometry.mapping(g) for g in geometries)
        return SerialisedGeometries(mappings, tuple(json.dumps(g, separators=(",", ":")) for g in mappings))

    return per_frame(frame, "geometry-boundary" if boundary else "geometry", build)


class PreSerialisedGeoJson(folium.GeoJson):
    """A :class:`folium.GeoJson` whose features' geometries are written from JSON text serialised earlier.

    ``geometry_texts[i]`` is the JSON of ``data["features"][i]["geometry"]`` (from
    :func:`serialised_geometries`); the features keep their mappings, so bounds, style functions and the
    printed sheet (which reads ``layer.data``) see the same layer. Rendered through :func:`map_parts` or
    :func:`map_document`, which put the texts in place.
    """

    def __init__(self, data: dict, geometry_texts, **kwargs):
        super().__init__(data, **kwargs)
        texts = tuple(geometry_texts)
        if len(texts) != len(self.data["features"]):
            raise ValueError(f"geometry_texts has {len(texts)} entries for {len(self.data['features'])} features")
        self._geometry_texts = texts

    def render(self, **kwargs):
        shown = self.data
        self.data = {**shown, "features": [{**feature, "geometry": raw_text(self, text, f"{i}")}
                                           for i, (feature, text) in enumerate(zip(shown["features"],
                                                                                   self._geometry_texts))]}
        try:
            super().render(**kwargs)
        finally:
            self.data = shown


def raw_text(element, text: str, part: str = "") -> str:
    """A marker standing for ``text`` in what ``element`` renders, replaced by ``text`` itself once
    :func:`map_parts` or :func:`map_document` has rendered the figure: for long JSON an element writes
    unchanged at every request (a string the caller keeps, e.g. from :func:`per_frame`). Used as a value
    folium writes with ``tojson``, or as the result of a template expression (it carries its own quotes).
    ``part`` tells apart several texts of one element."""
    fragments = element.get_root().__dict__.setdefault("_raw_json", {})
    token = f"{id(element):x}_{part or '0'}"
    fragments[token] = text
    return f"__raw_json_{token}__"


def _with_raw_json(figure, rendered: str) -> str:
    fragments = getattr(figure, "_raw_json", None)
    if not fragments:
        return rendered
    return _RAW_MARKER.sub(lambda match: fragments[match.group(1)], rendered)


def map_parts(m: folium.Map) -> MapParts:
    """Render ``m`` into asset URLs, container HTML and script for embedding in a page.

    The header's inline pieces folium adds (a viewport ``<meta>``, the container size ``<style>`` and
    the ``L_NO_TOUCH`` / ``L_DISABLE_3D`` globals, which default to off) are left out: the host page
    styles ``.folium-map`` itself.
    """
    figure = _render_figure(m)
    css, js = [], []
    for element in figure.header._children.values():
        if isinstance(element, JavascriptLink) and element.url not in js:
            js.append(element.url)
        elif isinstance(element, CssLink) and element.url not in css:
            css.append(element.url)
    return MapParts(css=tuple(css), js=tuple(js), html=figure.html.render(),
                    script=_with_raw_json(figure, figure.script.render()))


def map_document(m: folium.Map, title: str = "") -> str:
    """A complete standalone HTML document for ``m`` with local asset URLs (for export and tests)."""
    localise_assets(m)
    figure = m.get_root()
    if title:
        figure.title = title
    html = _with_raw_json(figure, figure.render())
    _check_header(figure)
    return html
