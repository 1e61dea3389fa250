"""Basemaps of the layer control: the app's own PMTiles file (offline), a configured tile server, or none.

The PMTiles layer is drawn in the browser by ``protomaps-leaflet`` from the single file the app serves with
HTTP range requests (``pmtiles`` reads it); ``static/js/basemap.js`` reads the file's metadata first and
draws an archive built by ``build-basemap`` with the app's own style and any other Protomaps build (a cut of
the OpenStreetMap planet) with Protomaps' "light" flavour.
"""
from __future__ import annotations

from dataclasses import dataclass

import folium
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from layers.base import _host_of
from translations import translate


@dataclass(frozen=True)
class BasemapSource:
    """Where the browser finds the app's PMTiles basemap and the script that draws it.

    ``url`` must end with ``.pmtiles`` (protomaps-leaflet picks its reader by that suffix);
    ``script_url`` is ``static/js/basemap.js`` as the app serves it.
    """

    url: str
    script_url: str
    attribution: str = ""

    def __post_init__(self):
        if not self.url.split("?", 1)[0].endswith(".pmtiles"):
            raise ValueError(f"basemap url must end with .pmtiles; got {self.url!r}")


class PMTilesLayer(JSCSSMixin, Layer):
    """A base layer of the layer control drawn by protomaps-leaflet from one PMTiles archive."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = bandoBasemap.pmtilesLayer({{ this.layer_options|tojson }});
        {% endmacro %}
    """)

    def __init__(self, source: BasemapSource, *, name: str, vendor_url: str, lang: str = "vi", show: bool = True):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "PMTilesLayer"
        vendor = vendor_url.rstrip("/")
        self.default_js = [("pmtiles", f"{vendor}/pmtiles/dist/pmtiles.js"),
                           ("protomaps_leaflet", f"{vendor}/protomaps-leaflet/dist/protomaps-leaflet.js"),
                           ("bando_basemap", source.script_url)]
        self.layer_options = {"url": source.url, "lang": lang, "attribution": source.attribution}


class EmptyBaseLayer(Layer):
    """"No basemap": the layers on a plain background (clearest for reading a choropleth)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
    """)

    def __init__(self, *, name: str, show: bool = False):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "EmptyBaseLayer"


def add_basemaps(m: folium.Map, *, basemap: BasemapSource | None, tile_url: str, tile_attribution: str,
                 vendor_url: str, lang: str = "vi") -> int:
    """Add the available basemaps to ``m`` as base layers; returns how many (0: boundaries only).

    A configured tile server (``tile_url``) is shown first: a site that set one chose it; otherwise the
    offline PMTiles basemap. With any basemap there is also "no basemap".
    """
    names = {"tiles": translate("basemap.tile_server", lang), "pmtiles": translate("basemap.offline", lang),
             "none": translate("basemap.none", lang)}
    added = 0
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution or _host_of(tile_url), name=names["tiles"],
                         overlay=False, control=True, max_zoom=19, show=True).add_to(m)
        added += 1
    if basemap is not None:
        PMTilesLayer(basemap, name=names["pmtiles"], vendor_url=vendor_url, lang=lang, show=not tile_url).add_to(m)
        added += 1
    if added:
        EmptyBaseLayer(name=names["none"]).add_to(m)
    return added
