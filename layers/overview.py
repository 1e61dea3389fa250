"""The province overview map: commune choropleth, district outlines, clustered points, legend, layer control."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import FastMarkerCluster

from layers.base import asset_urls, make_map, per_frame
from layers.communes import add_commune_choropleth, add_district_outlines, commune_statistics, \
    display_geometries, district_outlines
from layers.hotspots import gi_star_legend_entries
from layers.incidents import DEFAULT_MAX_POINTS, PointSummary, add_incident_points, legend_entries, point_summary
from layers.legend import Legend
from layers.search import add_commune_search
from layers.text import text

#: The overview map's fixed id: the page holds its container (``map_overview``) while ``/map/overview.js``
#: serves the script that fills it.
OVERVIEW_MAP_ID = "overview"
OVERVIEW_MAP_ELEMENT = f"map_{OVERVIEW_MAP_ID}"  # folium's get_name() of a map with that id

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
    districts = district_outlines(_grouping(shown))
    with _DISPLAY_LOCK:
        if len(_DISPLAY_CACHE) >= 4:
            _DISPLAY_CACHE.clear()
        _DISPLAY_CACHE[key] = (communes, shown, districts)
    return shown, districts


def _grouping(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Communes with the district columns to group by: the set's districts, or for a set without a district
    level (from 01/07/2025) the former districts the crosswalk gives (communes of old Tiền Giang have none)."""
    if "former_district_code" not in communes or (communes["district_code"] != "").any():
        return communes
    former = communes[communes["former_district_code"] != ""].copy()
    former["district_code"] = former["former_district_code"]
    former["district_name"] = former["former_district_name"]
    former["former"] = True  # worded "(cũ)"/"(former)" in the viewer's language where the name is shown
    return former


def add_commune_hotspots(m, communes: gpd.GeoDataFrame, statistics: pd.DataFrame, *, lang: str = "vi"):
    """Overlay (off until ticked) of the communes' Gi* bins on the counts shown, queen contiguity.

    Only for the whole province: Gi* compares each commune with the province, so a district's communes
    alone would be judged against a partial picture. Returns the :class:`layers.hotspots.HotspotLayer`, or
    None when no layer could be computed.
    """
    from geo.crs import to_metric
    from geo.errors import GeoInputError
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis
    from layers.hotspots import add_overview_hotspot_layer

    from geo.weights import contiguity

    counts = statistics.set_index("commune_code")["count"]
    values = counts.reindex(communes["commune_code"]).fillna(0).to_numpy(dtype=float)
    zones = per_frame(communes, "metric-zones", lambda: to_metric(
        communes[["commune_code", "commune_name", "geometry"]]))
    try:
        # Queen contiguity of a set's communes is the same for every period and category: built once per frame.
        result = run_hotspot_analysis(HotspotSpec(statistic="gistar", units="zones", neighbours="queen"),
                                      zones=zones, zone_values=values,
                                      zone_weights=per_frame(communes, "queen-weights",
                                                             lambda: contiguity(zones, "queen")))
    except GeoInputError:  # e.g. no variation at all in a sparse category: nothing to show
        return None
    return add_overview_hotspot_layer(m, result.frame, "gistar", lang=lang)


def overview_map(communes: gpd.GeoDataFrame, incidents: pd.DataFrame, *, population: pd.DataFrame | None = None,
                 population_year=None, measure: str = "count", lang: str = "vi", district_code: str | None = None,
                 demo: bool = False, caption: str = "", tile_url: str = "", tile_attribution: str = "", basemap=None,
                 vendor_url: str = "/vendor", map_id: str | None = OVERVIEW_MAP_ID,
                 max_points: int = DEFAULT_MAX_POINTS, points_scope=None, profile_url: str = "",
                 district_url: str = "") -> OverviewMap:
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
    points_scope : callable, optional
        ``frame -> frame`` keeping the incidents the viewer may receive as points (a local committee's own
        unit); counts still cover the view.
    demo : bool
        Label the legend as illustrative data.
    profile_url : str
        The commune profile's URL with ``{code}``: a click on a commune zooms to it and links there, and the
        map gets a commune search (:mod:`layers.search`).
    district_url : str
        The overview of one district with ``{district}``: the commune popups offer to zoom to their district.
    caption : str
        Plain-text line naming the period and category, shown in the legend.
    """
    shown, statistics, in_view = _figures(communes, incidents, population, district_code)
    _, districts = display_layers(communes)
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id,
                 basemap=basemap, lang=lang)
    west, south, east, north = shown.total_bounds
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    names = dict(zip(shown["commune_code"], shown["commune_name"]))
    legend_notes = [caption] if caption else []
    if demo:
        legend_notes.append(text("illustrative", lang))
    # Communes first, outlines over them, points on top: later layers draw above earlier ones.
    legend = add_commune_choropleth(m, shown, statistics, measure=measure, lang=lang,
                                    population_year=population_year, notes=legend_notes, profile_url=profile_url,
                                    district_url="" if district_code else district_url)
    add_district_outlines(m, districts, lang=lang)
    hotspots = add_commune_hotspots(m, shown, statistics, lang=lang) if not district_code else None
    in_view = _pointed(in_view, points_scope)
    points = add_incident_points(m, in_view, commune_names=names, lang=lang, max_points=max_points)
    if legend is not None:
        legend.notes.extend(points.notes(lang))
        # Every symbol drawn is explained, each section only while its layer is switched on.
        if points.layer is not None:
            legend.add_layer_section(points.layer, text("legend_points", lang), legend_entries(points, lang))
        if hotspots is not None and hotspots.layer is not None:
            legend.add_layer_section(hotspots.layer, text("legend_gistar", lang), gi_star_legend_entries(lang))
    if profile_url:  # a page's map (a printed sheet has no search box)
        add_commune_search(m, communes, profile_url=profile_url, lang=lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return OverviewMap(map=m, statistics=statistics, points=points, legend=legend)


def _figures(communes: gpd.GeoDataFrame, incidents: pd.DataFrame, population, district_code):
    """The communes shown (all, or those of ``district_code``), their statistics and the incidents in them."""
    if communes.empty:
        raise ValueError("communes is empty: load the boundaries first")
    shown, _ = display_layers(communes)
    if district_code:
        grouped = _grouping(shown)
        if district_code not in set(grouped["district_code"]):
            raise ValueError(f"district_code {district_code!r} is not one of: "
                             f"{', '.join(sorted(set(grouped['district_code'])))}")
        shown = shown[shown["commune_code"].isin(grouped.loc[grouped["district_code"] == district_code,
                                                             "commune_code"])]
    statistics = commune_statistics(shown, incidents, population)
    in_view = incidents[incidents["commune_code"].isin(set(shown["commune_code"]))] if len(incidents) else incidents
    return shown, statistics, in_view


def _pointed(in_view: pd.DataFrame, points_scope) -> pd.DataFrame:
    """The incidents the viewer may receive as points (``points_scope``, for a local committee)."""
    return points_scope(in_view) if points_scope is not None and len(in_view) else in_view


@dataclass
class OverviewFigures:
    """What :func:`overview_map` shows in numbers (the page's side panel), without the map."""

    statistics: pd.DataFrame
    points: PointSummary


def overview_figures(communes: gpd.GeoDataFrame, incidents: pd.DataFrame, *, population: pd.DataFrame | None = None,
                     district_code: str | None = None, max_points: int = DEFAULT_MAX_POINTS,
                     points_scope=None) -> OverviewFigures:
    """The commune statistics and point summary :func:`overview_map` computes for the same arguments, by the
    same code, without building the map: the overview page shows them while its map script is served
    (and built) by another request."""
    _, statistics, in_view = _figures(communes, incidents, population, district_code)
    return OverviewFigures(statistics=statistics, points=point_summary(_pointed(in_view, points_scope),
                                                                       max_points=max_points))


def overview_assets(*, points_drawn: bool, tile_url: str = "", tile_attribution: str = "", basemap=None,
                    vendor_url: str = "/vendor", lang: str = "vi") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(css, js) URLs :func:`overview_map`'s map loads (:func:`layers.base.asset_urls`), from a map holding
    one element of each asset-bearing kind it may hold: the basemaps of :func:`layers.base.make_map` and,
    when points are drawn, the marker cluster. Its other layers (GeoJSON, legend, search, layer control)
    bring no files of their own."""
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, basemap=basemap,
                 lang=lang)
    if points_drawn:
        FastMarkerCluster([]).add_to(m)
    return asset_urls(m)
