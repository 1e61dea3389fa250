"""The province overview map: commune choropleth, district outlines, clustered points, legend, layer control."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd

from layers.base import make_map
from layers.communes import add_commune_choropleth, add_district_outlines, commune_statistics, \
    display_geometries, district_outlines
from layers.incidents import DEFAULT_MAX_POINTS, PointSummary, add_incident_points
from layers.legend import Legend
from layers.text import text

_DISPLAY_CACHE: dict = {}
_DISPLAY_LOCK = threading.Lock()


@dataclass
class OverviewMap:
    """The map plus what it shows, for the page's side panel."""

    map: folium.Map
    statistics: pd.DataFrame
    points: PointSummary
    legend: Legend | None


def display_layers(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Simplified communes and their dissolved districts, computed once per communes frame.

    The frame from ``store.boundaries.communes_frame`` is cached per data version, so keying on the
    object (kept alive in the cache, so its id is not reused) recomputes after each boundary change.
    """
    key = id(communes)
    with _DISPLAY_LOCK:
        hit = _DISPLAY_CACHE.get(key)
        if hit is not None and hit[0] is communes:
            return hit[1], hit[2]
    shown = display_geometries(communes)
    districts = district_outlines(shown)
    with _DISPLAY_LOCK:
        if len(_DISPLAY_CACHE) >= 4:
            _DISPLAY_CACHE.clear()
        _DISPLAY_CACHE[key] = (communes, shown, districts)
    return shown, districts


def add_commune_hotspots(m, communes: gpd.GeoDataFrame, statistics: pd.DataFrame, *, lang: str = "vi") -> bool:
    """Overlay (off until ticked) of the communes' Gi* bins on the counts shown, queen contiguity.

    Only for the whole province: Gi* compares each commune with the province, so a district's communes
    alone would be judged against a partial picture. Returns whether a layer was added.
    """
    from geo.crs import to_metric
    from geo.errors import GeoInputError
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis
    from layers.hotspots import add_overview_hotspot_layer

    counts = statistics.set_index("commune_code")["count"]
    values = counts.reindex(communes["commune_code"]).fillna(0).to_numpy(dtype=float)
    try:
        result = run_hotspot_analysis(HotspotSpec(statistic="gistar", units="zones", neighbours="queen"),
                                      zones=to_metric(communes[["commune_code", "commune_name", "geometry"]]),
                                      zone_values=values)
    except GeoInputError:  # e.g. no variation at all in a sparse category: nothing to show
        return False
    add_overview_hotspot_layer(m, result.frame, "gistar", lang=lang)
    return True


def overview_map(communes: gpd.GeoDataFrame, incidents: pd.DataFrame, *, population: pd.DataFrame | None = None,
                 population_year=None, measure: str = "count", lang: str = "vi", district_code: str | None = None,
                 demo: bool = False, caption: str = "", tile_url: str = "", tile_attribution: str = "",
                 vendor_url: str = "/vendor", map_id: str | None = "overview",
                 max_points: int = DEFAULT_MAX_POINTS) -> OverviewMap:
    """Build the overview map of ``incidents`` over ``communes`` (all, or those of ``district_code``).

    Parameters
    ----------
    communes : GeoDataFrame
        All communes of the province (EPSG:4326); district outlines are drawn for all of them.
    incidents : DataFrame
        Already filtered (year, category, district) and redacted for the viewer.
    population : DataFrame, optional
        commune_code, population; needed for ``measure="rate"``.
    population_year : int, optional
        Year of the population figures (labelled on the map).
    measure : {"count", "rate"}
    lang : {"vi", "en"}
    district_code : str, optional
        Restrict the choropleth to this district and zoom to it.
    demo : bool
        Label the legend as illustrative data.
    caption : str
        Plain-text line naming the period and category, shown in the legend.
    """
    if communes.empty:
        raise ValueError("communes is empty: load the boundaries first")
    shown, districts = display_layers(communes)
    if district_code:
        if district_code not in set(shown["district_code"]):
            raise ValueError(f"district_code {district_code!r} is not one of: "
                             f"{', '.join(sorted(set(shown['district_code'])))}")
        shown = shown[shown["district_code"] == district_code]
    statistics = commune_statistics(shown, incidents, population)
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id)
    west, south, east, north = shown.total_bounds
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    names = dict(zip(shown["commune_code"], shown["commune_name"]))
    in_view = incidents[incidents["commune_code"].isin(names)] if len(incidents) else incidents
    legend_notes = [caption] if caption else []
    if demo:
        legend_notes.append(text("illustrative", lang))
    # Communes first, outlines over them, points on top: later layers draw above earlier ones.
    legend = add_commune_choropleth(m, shown, statistics, measure=measure, lang=lang,
                                    population_year=population_year, notes=legend_notes)
    add_district_outlines(m, districts, lang=lang)
    if not district_code:
        add_commune_hotspots(m, shown, statistics, lang=lang)
    points = add_incident_points(m, in_view, commune_names=names, lang=lang, max_points=max_points)
    if legend is not None:
        legend.notes.extend(points.notes(lang))
    folium.LayerControl(collapsed=True).add_to(m)
    return OverviewMap(map=m, statistics=statistics, points=points, legend=legend)
