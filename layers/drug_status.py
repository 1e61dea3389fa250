"""Communes coloured by drug status (drug-free, with drugs, key commune class III/II/I) for one year."""
from __future__ import annotations


import folium
import geopandas as gpd
from folium.utilities import JsCode

from geo.geojson import collection_of
from layers import palette
from layers.base import make_map
from layers.legend import Legend
from layers.text import choose
from layers.text import escape as _esc
from translations import CatalogTable

STATUS_COLORS = palette.DRUG_STATUS
NO_DATA_COLOR = palette.DRUG_NO_DATA
MAP_ID = "drug_status"
WORDS = CatalogTable("layers.drug_status")


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
    tips, popups, fills = [], [], []
    for rec in communes.to_dict("records"):
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
        tips.append(f"{name} — {state}")
        popups.append(popup)
        fills.append(fill)
    folium.GeoJson(
        collection_of(communes.geometry.values, {"tip": tips, "pop": popups, "fill": fills}), name=word("layer", lang),
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
                    basemap=None, vendor_url: str = "/vendor", map_id: str = MAP_ID, bounds=None) -> folium.Map:
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id,
                 basemap=basemap, lang=lang)
    add_drug_status(m, communes, statuses, lang=lang, status_labels=status_labels, year=year)
    if districts is not None and len(districts):
        from layers.communes import add_district_outlines

        add_district_outlines(m, districts, lang=lang)
    if bounds is not None:
        m.fit_bounds(bounds)
    if m.basemap_count:
        folium.LayerControl(collapsed=True).add_to(m)  # to switch basemaps
    return m
