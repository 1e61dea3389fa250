"""Communes coloured by drug status (drug-free, with drugs, key commune class III/II/I) for one year."""
from __future__ import annotations


import folium
import geopandas as gpd
import shapely
from folium.utilities import JsCode

from layers.base import make_map
from layers.legend import Legend
from layers.text import choose
from layers.text import escape as _esc

STATUS_COLORS = {"drug_free": "#15803d", "with_drugs": "#facc15", "key_3": "#f97316", "key_2": "#dc2626",
                 "key_1": "#7f1d1d"}
NO_DATA_COLOR = "#d1d5db"
MAP_ID = "drug_status"
WORDS = {
    "layer": ("Tình hình ma túy theo xã", "Drug status per commune"),
    "legend": ("Phân loại xã/phường/thị trấn", "Commune classification"),
    "no_data": ("Chưa có số liệu", "No record"),
    "rules": ("Theo", "Under"),
    "year": ("Năm", "Year"),
    "district": ("Huyện", "District"),
    "illustrative": ("Dữ liệu minh họa", "Illustrative data"),
}


def word(key: str, lang: str) -> str:
    return choose(WORDS[key], lang)


def add_drug_status(m, communes: gpd.GeoDataFrame, statuses: dict[str, dict], *, lang: str = "vi",
                    status_labels: dict | None = None, year=None, legend: bool = True) -> Legend | None:
    """Add the commune choropleth of drug status.

    Parameters
    ----------
    m : folium.Map
    communes : GeoDataFrame
        commune_code, commune_name, district_name, geometry (EPSG:4326; display-simplified is fine).
    statuses : dict
        commune code → record with ``status``, ``rule_document_number``, optional ``notes``/``is_demo``.
    status_labels : dict, optional
        ``{status: (vi, en)}``.
    """
    if communes.crs is None or communes.crs.to_epsg() != 4326:
        raise ValueError(f"communes must be in EPSG:4326 for display; got {communes.crs}")
    labels = status_labels or {s: (s, s) for s in STATUS_COLORS}
    pick = 1 if lang == "en" else 0
    features = []
    for rec, geom in zip(communes.to_dict("records"), communes.geometry):
        status = statuses.get(rec["commune_code"])
        name = _esc(rec["commune_name"])
        if status is None:
            fill, state = NO_DATA_COLOR, _esc(word("no_data", lang))
            popup = f"<strong>{name}</strong><br>{state}"
        else:
            if status["status"] not in STATUS_COLORS:
                raise ValueError(f"status {status['status']!r} is not one of: {', '.join(STATUS_COLORS)}")
            fill = STATUS_COLORS[status["status"]]
            state = _esc(labels[status["status"]][pick])
            lines = [f"<strong>{name}</strong>", f"{_esc(word('district', lang))}: {_esc(rec.get('district_name'))}",
                     f"{_esc(word('year', lang))} {_esc(year or status.get('year'))}: <strong>{state}</strong>",
                     f"{_esc(word('rules', lang))}: {_esc(status.get('rule_document_number'))}"]
            if status.get("notes"):
                lines.append(_esc(status["notes"]))
            if status.get("is_demo"):
                lines.append(f"<small>{_esc(word('illustrative', lang))}</small>")
            popup = "<br>".join(lines)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": {"tip": f"{name} — {state}", "pop": popup, "fill": fill}})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=word("layer", lang),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555", "weight": 0.6,
                                  "fillOpacity": 0.8},
        highlight_function=lambda f: {"weight": 2.5, "color": "#111"},
        on_each_feature=JsCode("function (feature, layer) { layer.bindTooltip(feature.properties.tip, {sticky: true});"
                               " layer.bindPopup(feature.properties.pop); }"),
    ).add_to(m)
    if not legend:
        return None
    entries = [(STATUS_COLORS[s], labels[s][pick]) for s in ("drug_free", "with_drugs", "key_3", "key_2", "key_1")]
    entries.append((NO_DATA_COLOR, word("no_data", lang)))
    box = Legend(word("legend", lang), entries)
    m.add_child(box)
    return box


def drug_status_map(communes: gpd.GeoDataFrame, statuses: dict[str, dict], *, districts=None, lang: str = "vi",
                    status_labels: dict | None = None, year=None, tile_url: str = "", tile_attribution: str = "",
                    vendor_url: str = "/vendor", map_id: str = MAP_ID, bounds=None) -> folium.Map:
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id)
    add_drug_status(m, communes, statuses, lang=lang, status_labels=status_labels, year=year)
    if districts is not None and len(districts):
        from layers.communes import add_district_outlines

        add_district_outlines(m, districts, lang=lang)
    if bounds is not None:
        m.fit_bounds(bounds)
    return m
