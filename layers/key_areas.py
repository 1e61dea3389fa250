"""Key areas on the map, coloured by lifecycle status, pending proposals drawn distinctly, and a draw tool.

Every name, reason and note comes from users: tooltips and popups are built here from HTML-escaped text
and bound from those strings (folium's GeoJsonTooltip would insert raw property values as HTML).
"""
from __future__ import annotations


import folium
from folium.plugins import Draw
from folium.utilities import JsCode

from geo.geojson import collection_of
from layers import palette
from layers.base import make_map
from layers.legend import Legend
from layers.text import choose
from layers.text import escape as _esc
from translations import CatalogTable

STATUS_COLORS = palette.KEY_AREA_STATUS
PENDING_COLOR = palette.KEY_AREA_PENDING
DRAWN_GROUP_ID = "drawn"  # the draw tool's feature group is ``feature_group_drawn`` in the page's script
MAP_ID = "key_areas"

WORDS = CatalogTable("layers.key_areas")


def word(key: str, lang: str) -> str:
    return choose(WORDS[key], lang)


def area_texts(props: dict, lang: str = "vi", detail_url: str | None = None) -> tuple[str, str]:
    """(tooltip, popup) HTML of one area; every value from the record is escaped."""
    tip = f"<strong>{_esc(props.get('name'))}</strong> — {_esc(props.get('status_label'))}"
    if props.get("pending_to"):
        tip += f"<br><em>{_esc(word('proposed', lang))}: {_esc(props.get('pending_label'))}</em>"
    lines = [
        f"<strong>{_esc(props.get('name'))}</strong>",
        f"{_esc(props.get('kind_label'))}{' · ' + _esc(props['commune_name']) if props.get('commune_name') else ''}",
        f"{_esc(word('district', lang))}: {_esc(props.get('district_name'))}",
        f"{_esc(word('year', lang))}: {_esc(props.get('year_selected'))}",
        f"{_esc(word('types', lang))}: {_esc(props.get('types_label'))}",
        f"{_esc(word('decision', lang))}: {_esc(props.get('decision_number'))}",
        f"{_esc(word('status', lang))}: <strong>{_esc(props.get('status_label'))}</strong>",
    ]
    if props.get("pending_to"):
        lines.append(f"<em>{_esc(word('proposed', lang))}: {_esc(props.get('pending_label'))} "
                     f"({_esc(word('by', lang))} {_esc(props.get('pending_by'))})</em>")
    if props.get("is_demo"):
        lines.append(f"<small>{_esc(word('illustrative', lang))}</small>")
    if detail_url:
        lines.append(f'<a href="{_esc(detail_url)}">{_esc(word("open", lang))}</a>')
    return tip, "<br>".join(lines)


def add_key_areas(m, features: list[dict], *, lang: str = "vi", detail_url_template: str | None = "/key-areas/{id}",
                  status_labels: dict | None = None, legend: bool = True) -> Legend | None:
    """Add key-area polygons coloured by status, and pending proposals as a dashed amber overlay.

    Parameters
    ----------
    m : folium.Map
    features : list of dict
        GeoJSON features from ``store.key_areas.area_features`` (raw, unescaped text in properties).
    detail_url_template : str, optional
        Link of each popup, ``{id}`` replaced by the area id.
    status_labels : dict, optional
        ``{status: (vi, en)}`` for the legend; defaults to the status codes.
    """
    texts, pending = [], []
    for feature in features:
        props = feature["properties"]
        if props.get("status") not in STATUS_COLORS:
            raise ValueError(f"status {props.get('status')!r} is not one of: {', '.join(STATUS_COLORS)}")
        url = detail_url_template.format(id=int(props["id"])) if detail_url_template else None
        tip, popup = area_texts(props, lang, url)
        texts.append((tip, popup, STATUS_COLORS[props["status"]], bool(props.get("pending_to"))))
    geometries = [feature["geometry"] for feature in features]
    shown = collection_of(geometries, {name: [t[i] for t in texts] for i, name in enumerate(("tip", "pop", "fill"))})
    # Copies: folium's GeoJson writes ids and styles into the features it is given.
    pending = {**shown, "features": [{**feature, "properties": {**feature["properties"]}}
                                     for feature, t in zip(shown["features"], texts) if t[3]]}
    bind = JsCode("function (feature, layer) { layer.bindTooltip(feature.properties.tip, {sticky: true});"
                  " layer.bindPopup(feature.properties.pop); }")
    folium.GeoJson(
        shown, name=word("layer_areas", lang),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["fill"],
                                  "weight": 2, "fillOpacity": 0.45},
        highlight_function=lambda f: {"weight": 4},
        on_each_feature=bind,
    ).add_to(m)
    if pending["features"]:
        folium.GeoJson(
            pending, name=word("layer_pending", lang),
            style_function=lambda f: {"color": PENDING_COLOR, "weight": 4, "dashArray": "8 6", "fill": False},
            on_each_feature=bind,
        ).add_to(m)
    if not legend:
        return None
    labels = status_labels or {s: (s, s) for s in STATUS_COLORS}
    entries = [(color, labels[s][1 if lang == "en" else 0]) for s, color in STATUS_COLORS.items()]
    entries.append((PENDING_COLOR, word("pending", lang), "dashed"))
    box = Legend(word("legend", lang), entries)
    m.add_child(box)
    return box


def add_draw_tool(m, *, vendor_url: str = "/vendor") -> folium.FeatureGroup:
    """Add Leaflet.draw (polygons and rectangles only), served from the app, never a CDN.

    The drawn shapes go into the feature group ``feature_group_drawn``; the page's script reads it with
    ``feature_group_drawn.toGeoJSON()`` when the form is sent.
    """
    group = folium.FeatureGroup(name="drawn", control=False)
    group._id = DRAWN_GROUP_ID
    group.add_to(m)
    draw = Draw(
        feature_group=group,
        draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False,
                      "polygon": {"allowIntersection": False, "showArea": True}, "rectangle": True},
        edit_options={"edit": True, "remove": True},
    )
    base = vendor_url.rstrip("/")
    draw.default_js = [("leaflet_draw_js", f"{base}/leaflet-draw/dist/leaflet.draw.js")]
    draw.default_css = [("leaflet_draw_css", f"{base}/leaflet-draw/dist/leaflet.draw.css")]
    draw.add_to(m)
    return group


def key_area_map(features: list[dict], *, districts=None, lang: str = "vi", status_labels: dict | None = None,
                 draw: bool = False, tile_url: str = "", tile_attribution: str = "", basemap=None,
                 vendor_url: str = "/vendor",
                 map_id: str = MAP_ID, detail_url_template: str | None = "/key-areas/{id}",
                 bounds=None) -> folium.Map:
    """A map of key areas (and optionally the draw tool) over the district outlines.

    ``districts`` is a GeoDataFrame of district polygons (EPSG:4326) drawn as outlines; ``bounds`` is
    ``[[south, west], [north, east]]`` to zoom to (e.g. one district).
    """
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id,
                 basemap=basemap, lang=lang)
    if districts is not None and len(districts):
        from layers.communes import add_district_outlines

        add_district_outlines(m, districts, lang=lang)
    add_key_areas(m, features, lang=lang, status_labels=status_labels, detail_url_template=detail_url_template)
    if draw:
        add_draw_tool(m, vendor_url=vendor_url)
    if bounds is not None:
        m.fit_bounds(bounds)
    folium.LayerControl(collapsed=True).add_to(m)
    return m
