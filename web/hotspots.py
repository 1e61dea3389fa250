"""The hot spot page: Gi*, LISA, kernel density and emerging hot spots of the stored incidents, and the change
of each commune and district against a baseline year.

Filters live in the query string (a view can be bookmarked and shared): the period (a code of the one period
model, :mod:`web.periods` — reporting year, half, nine months, quarter, calendar year, month or range; ``year=Y``
alone is the calendar year, ``year=Y&period=q1|m03`` from older bookmarks a calendar quarter or month), category, district, statistic, analysis units (hexagons, squares or communes), cell size,
neighbours, the value analysed on communes (count, rate per 10,000, global or spatial Empirical Bayes rate),
FDR and the baseline year (default the year before; the same calendar span of it, cut at the data-through
date like the period, :func:`geo.periods.like_for_like`; a baseline not before the period is refused). The map's JavaScript is served by ``/hotspots/map.js`` with the same query string,
so the page has no inline script.

Every analysis is stored with its parameters (``store.hotspot_cache``) and reused while the data version is
unchanged; the page shows the parameters, the run number and the data version so any map can be reproduced.

Who sees what
-------------
Planners, administrators and border guards start on the whole province. A district committee starts on its
own district (the analysis is then run on that district's communes or cells only) and may widen the view to
the province, as on the overview map — statistics of other districts are not secret, exact sensitive
locations are. Sensitive cases of a viewer without clearance have no coordinates: they are left out of
grid statistics (the page says how many were withheld) but counted in every commune-level figure.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime

import folium
import numpy as np
from flask import Blueprint, abort, current_app, g, jsonify, make_response, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import Period, parse_period
from geo.taxonomy import (CATEGORIES, CATEGORY_SETS, GROUPS, category_selections, selection_codes,
                          selection_label)
from store.boundaries import communes_frame, district_names, population_frame
from store.hotspot_cache import TOPICS, get_or_run, run_by_id, run_frame_for_display, run_geojson_text
from store.incidents import incident_frame, incident_years
from web.basemap import basemap_key, basemap_source
from web import access, db_session
from web.access import allow
from translations import message
from web.i18n import current_language, date_span, error_text, format_date, format_number, pick, t
from web.periods import menu, read_baseline, read_period, scheme as period_scheme
from web.view_cache import cached_view, map_assets, viewer_scope

bp = Blueprint("hotspots", __name__)

ROLES = (access.PLANNER, access.ADMIN, access.BORDER_GUARD, access.DISTRICT, access.COMMUNE)
STATISTICS = ("gistar", "lisa", "kde", "emerging")
UNITS = ("hex", "square", "communes")
MEASURES = ("count", "rate", "eb", "seb")
LEGACY_PERIODS = ("year", "q1", "q2", "q3", "q4") + tuple(f"m{m:02d}" for m in range(1, 13))
CELL_SIZE_RANGE = (250, 5000)
DEFAULT_CELL_SIZE = 1000
LISA_PERMUTATIONS = 999
SEED = 138  # fixed so that every LISA map of the same data and parameters is identical
PARAMS_VERSION = 2  # bump when the computation changes, so old cache entries are not reused

STATISTIC_LABELS = {
    "gistar": ("Điểm nóng Gi* (Getis-Ord)", "Gi* hot spots (Getis-Ord)"),
    "lisa": ("Cụm và ngoại lai (LISA)", "Clusters and outliers (LISA)"),
    "kde": ("Mật độ hạt nhân (KDE)", "Kernel density (KDE)"),
    "emerging": ("Xu hướng điểm nóng theo tháng", "Emerging hot spots (monthly)"),
}
UNIT_LABELS = {
    "hex": ("Lưới lục giác", "Hexagon grid"),
    "square": ("Lưới ô vuông", "Square grid"),
    "communes": ("Xã/phường/thị trấn", "Communes"),
}
MEASURE_LABELS = {
    "count": ("Số vụ", "Incident count"),
    "rate": ("Tỷ lệ /10.000 dân", "Rate per 10,000"),
    "eb": ("Tỷ lệ làm trơn Bayes thực nghiệm", "Empirical Bayes rate"),
    "seb": ("Tỷ lệ Bayes thực nghiệm không gian", "Spatial Empirical Bayes rate"),
}
NEIGHBOUR_CHOICES = ("queen", "rook", "distance:2000", "distance:3000", "knn:6", "knn:8")


@dataclass(frozen=True)
class HotspotFilters:
    period: Period
    category: str
    district: str
    statistic: str
    units: str
    cell_size: int
    neighbours: str
    measure: str
    fdr: bool
    baseline: int
    show: str
    boundary_set: str = ""  # the set communes and grids are expressed in

    def query(self) -> dict:
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values["period"] = self.period.code
        values["fdr"] = "1" if self.fdr else "0"
        values["stat"] = values.pop("statistic")  # the query parameter's name
        values["set"] = values.pop("boundary_set")
        return values

    @property
    def year(self) -> int:
        return self.period.reference_year

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def category_label(self) -> str:
        return selection_label(self.category, current_language()) or t("hotspots.all_categories")

    def bounds(self) -> tuple[datetime, datetime]:
        """First instant and end (exclusive) of the period."""
        return self.period.start_at, self.period.end_before


def _legacy_period(args):
    """``year=Y&period=year|qN|mMM`` of bookmarks made before the one period model: calendar spans."""
    from geo.periods import month_period, range_period

    old = args.get("period", "")
    year = int(args["year"])
    if old in ("", "year"):
        return parse_period(f"{year}-CY", scheme=period_scheme())
    if old.startswith("q"):
        first = 3 * (int(old[1]) - 1) + 1
        last = month_period(year, first + 2)
        return range_period(date(year, first, 1), last.end, scheme=period_scheme())
    return month_period(year, int(old[1:]), scheme=period_scheme())


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default) or default
    if value not in allowed:
        raise GeoInputError(message("errors.not_one_of", name=name, value=repr(value), allowed=", ".join(allowed)))
    return value


def _year(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    try:
        year = int(raw) if raw else default
    except ValueError:
        raise GeoInputError(message("hotspots.error.not_a_year", name=name, value=repr(raw))) from None
    if not 1900 <= year <= 2100:
        raise GeoInputError(message("hotspots.error.year_range", name=name, year=year))
    return year


def read_filters(years: list[int], districts: dict[str, str], boundary_set: str = "") -> HotspotFilters:
    """Filters from the query string; an unknown value is a 400 that names the parameter and what is allowed."""
    from geo.hotspot_pipeline import parse_neighbours

    args = request.args
    if args.get("period", "") in LEGACY_PERIODS and args.get("year", "").strip():
        _year("year", date.today().year)
        period = _legacy_period(args)
    else:
        period = read_period()
    category = args.get("category", "")
    if category and category not in category_selections():
        raise GeoInputError(message("errors.not_one_of", name="category", value=repr(category),
                                    allowed=", ".join(sorted(category_selections()))))
    if "district" in args:
        district = args.get("district", "")
    elif current_user.role == access.DISTRICT and current_user.district_code in districts:
        district = current_user.district_code  # a district committee starts on its own district
    else:
        district = ""
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(districts)))
    units = _choice("units", UNITS, "hex")
    raw_cell = args.get("cell_size", "") or str(DEFAULT_CELL_SIZE)
    try:
        cell_size = int(float(raw_cell))
    except (ValueError, OverflowError):  # OverflowError: inf, 1e309
        raise GeoInputError(message("hotspots.error.cell_size_not_number", value=repr(raw_cell[:20]))) from None
    low, high = CELL_SIZE_RANGE
    if not low <= cell_size <= high:
        raise GeoInputError(message("hotspots.error.cell_size_range", cell_size=cell_size, low=low, high=high))
    neighbours = str(parse_neighbours(args.get("neighbours", "queen") or "queen"))
    measure = _choice("measure", MEASURES, "count")
    if units != "communes":
        measure = "count"  # grid cells have no population
    baseline = read_baseline(period)
    from geo.periods import like_for_like

    like_for_like(period, baseline)  # refuses a baseline not before the period, naming both
    return HotspotFilters(
        period=period, category=category, district=district,
        statistic=_choice("stat", STATISTICS, "gistar"), units=units, cell_size=cell_size, neighbours=neighbours,
        measure=measure, fdr=_choice("fdr", ("1", "0"), "1") == "1", baseline=baseline,
        show=_choice("show", ("significant", "all"), "significant"), boundary_set=boundary_set,
    )


def _viewer():
    return current_user._get_current_object()


def _cleared() -> bool:
    return bool(getattr(current_user, "sensitive_clearance", False))


def analysis_params(filters: HotspotFilters) -> dict:
    """Everything that determines the result (the cache key and the stored record of the run)."""
    start, end = filters.bounds()
    return {
        "v": PARAMS_VERSION, "period": filters.period.code,
        "start": start.isoformat(), "end": end.isoformat(), "categories": filters.category_codes(),
        "district": filters.district or None, "statistic": filters.statistic, "units": filters.units,
        "boundary_set": filters.boundary_set or None,
        "cell_size": filters.cell_size if filters.units != "communes" else None, "neighbours": filters.neighbours,
        "measure": filters.measure, "fdr": filters.fdr if filters.statistic in ("gistar", "emerging") else None,
        "permutations": LISA_PERMUTATIONS if filters.statistic == "lisa" else 0,
        "seed": SEED if filters.statistic == "lisa" else None, "bandwidth": "arcgis" if filters.statistic == "kde" else None,
        "sensitive_included": _cleared(),
    }


def _units_in_view(communes, district: str):
    if not district:
        return communes
    column = "district_code" if communes.attrs.get("has_districts", True) else "former_district_code"
    return communes[communes[column] == district]


_STUDY_AREAS: dict = {}
_STUDY_AREAS_LOCK = threading.Lock()


def _study_area(communes, district: str):
    """The communes in view in metres and their union (the grid's boundary), once per communes frame and
    district: the union of a province's polygons takes longer than the statistic on its grid.

    The communes frame is cached per boundary version (:func:`store.boundaries.communes_frame`) and kept
    alive here, so its id is not reused while the entry lives."""
    from geo.crs import to_metric

    key = (id(communes), district)
    with _STUDY_AREAS_LOCK:
        hit = _STUDY_AREAS.get(key)
    if hit is not None and hit[0] is communes:
        return hit[1], hit[2]
    zones = to_metric(_units_in_view(communes, district)).reset_index(drop=True)
    boundary = zones.geometry.union_all()
    with _STUDY_AREAS_LOCK:
        if len(_STUDY_AREAS) >= 64:
            _STUDY_AREAS.clear()
        _STUDY_AREAS[key] = (communes, zones, boundary)
    return zones, boundary


_GRIDS: dict = {}
_GRIDS_LOCK = threading.Lock()
#: Cells of the clipped grids kept per process: a 250 m hexagon grid of the province is 108,436 polygons and
#: about 65 MiB, so this keeps a 250 m hexagon and a 250 m square grid, or many coarser ones.
_GRID_CACHE_CELLS = 250_000


def _study_grid(communes, district: str, units: str, cell_size: int):
    """The grid of ``units`` and ``cell_size`` clipped to the communes in view, once per communes frame
    (a boundary version), district, kind and size: clipping a 250 m grid to the province takes longer
    than the statistic on it. The least recently used grids are dropped beyond :data:`_GRID_CACHE_CELLS`
    cells (the newest is always kept)."""
    from geo.grid import make_grid

    key = (id(communes), district, units, int(cell_size))
    with _GRIDS_LOCK:
        hit = _GRIDS.get(key)
        if hit is not None and hit[0] is communes:
            _GRIDS[key] = _GRIDS.pop(key)  # most recently used last
            return hit[1]
    _zones, boundary = _study_area(communes, district)
    grid = make_grid(boundary, cell_size, units)
    with _GRIDS_LOCK:
        _GRIDS[key] = (communes, grid)
        while len(_GRIDS) > 1 and sum(kept.n_cells for _frame, kept in _GRIDS.values()) > _GRID_CACHE_CELLS:
            _GRIDS.pop(next(iter(_GRIDS)))
    return grid


def compute(filters: HotspotFilters, params: dict, communes, incidents, population):
    """Run the analysis of ``filters`` (called on a cache miss); returns (result frame, summary)."""
    import geopandas as gpd

    from geo.crs import METRIC_CRS, lonlat_to_metric
    from geo.hotspot_pipeline import HotspotSpec, measure_values, run_hotspot_analysis

    zones, boundary = _study_area(communes, filters.district)
    located = (incidents["lon"].notna() & incidents["lat"].notna()).to_numpy()
    x, y = lonlat_to_metric(incidents.loc[located, "lon"], incidents.loc[located, "lat"])
    grid = filters.units != "communes"
    uses_points = grid or filters.statistic == "kde"
    summary = {"n_incidents": int(len(incidents)), "n_withheld": int((~located).sum()) if uses_points else 0}
    counts = (incidents["commune_code"].astype(str).value_counts()
              .reindex(zones["commune_code"].astype(str)).fillna(0).to_numpy(dtype=float))
    if uses_points and len(x) == 0:
        raise GeoInputError(message("hotspots.err.no_located_incidents"))
    if filters.statistic == "emerging":
        frame, extra = _emerging(filters, communes, zones, incidents[located] if grid else incidents, x, y)
        summary.update(extra)
        return frame, summary
    spec = HotspotSpec(statistic=filters.statistic, units=filters.units if grid else "zones",
                       cell_size=filters.cell_size if grid else None, neighbours=filters.neighbours,
                       bandwidth=params["bandwidth"], fdr=bool(params["fdr"]), permutations=params["permutations"],
                       seed=params["seed"])
    keep = ["commune_code", "commune_name", "district_code", "district_name", "geometry"]
    if grid:
        grid_cells = _study_grid(communes, filters.district, filters.units, filters.cell_size)
        result = run_hotspot_analysis(spec, x=x, y=y, boundary=boundary, grid=grid_cells, crs=METRIC_CRS)
    elif filters.statistic == "kde":
        result = run_hotspot_analysis(spec, x=x, y=y, zones=zones[keep], crs=METRIC_CRS)
        result.frame["count"] = counts.astype(np.int64)  # commune counts include confidential cases
    else:
        residents = None
        if filters.measure != "count":
            residents = (population.set_index(population["commune_code"].astype(str))["population"]
                         .reindex(zones["commune_code"].astype(str)).to_numpy(dtype=float))
            if np.isnan(residents).any():
                raise GeoInputError(message("hotspots.error.population_missing",
                                            count=int(np.isnan(residents).sum())))
        weights = None
        if filters.measure == "seb":
            from geo.weights import contiguity

            weights = contiguity(zones, "queen")
        values = measure_values(counts, residents, filters.measure, weights)
        result = run_hotspot_analysis(spec, zones=zones[keep], zone_values=values, crs=METRIC_CRS)
        result.frame["count"] = counts.astype(np.int64)
    derived = {k: result.params.get(k) for k in ("cell_size", "bandwidth", "bandwidth_rule", "n_units", "n_islands",
                                                 "n_points", "n_outside", "n_empty_low_low")}
    summary.update({k: v for k, v in derived.items() if v is not None})
    frame = result.frame
    if "gi_bin" in frame:
        summary.update(hot=int((frame["gi_bin"] > 0).sum()), cold=int((frame["gi_bin"] < 0).sum()))
    if "lisa_cluster" in frame:
        summary.update(hot=int((frame["lisa_cluster"] == "HH").sum()), cold=int((frame["lisa_cluster"] == "LL").sum()))
    drop = [c for c in ("district_code",) if c in frame.columns]
    return gpd.GeoDataFrame(frame.drop(columns=drop), crs=frame.crs), summary


def _emerging(filters, communes, zones, incidents, x, y):
    import geopandas as gpd

    from geo.emerging import emerging_hotspots, space_time_cube, time_step_index
    from geo.grid import bin_points
    from geo.hotspot_pipeline import parse_neighbours
    from geo.weights import contiguity, distance_band, grid_contiguity, grid_distance_band, knn

    start, end = filters.bounds()
    neighbours = parse_neighbours(filters.neighbours)
    if len(incidents) == 0:
        raise GeoInputError(message("hotspots.err.no_incidents"))
    last_month = datetime(filters.period.end.year, filters.period.end.month, 1)
    steps, labels = time_step_index(incidents["occurred_at"], "month", start=start, end=last_month)
    if filters.units == "communes":
        position = {code: i for i, code in enumerate(zones["commune_code"].astype(str))}
        cells = incidents["commune_code"].astype(str).map(position).fillna(-1).to_numpy(dtype=np.int64)
        frame = gpd.GeoDataFrame(zones[["commune_code", "commune_name", "district_name"]].copy(),
                                 geometry=zones.geometry.values, crs=zones.crs)
        centres = zones.geometry.centroid
        if neighbours.kind in ("queen", "rook"):
            w = contiguity(zones, neighbours.kind)
        elif neighbours.kind == "distance":
            w = distance_band(centres.x, centres.y, neighbours.value)
        else:
            w = knn(centres.x, centres.y, int(neighbours.value))
        n = len(zones)
    else:
        grid = _study_grid(communes, filters.district, filters.units, filters.cell_size)
        cells = bin_points(grid, x, y).cell_index
        frame = grid.to_geodataframe()
        if neighbours.kind in ("queen", "rook"):
            w = grid_contiguity(grid, neighbours.kind)
        elif neighbours.kind == "distance":
            w = grid_distance_band(grid, neighbours.value)
        else:
            w = knn(grid.x, grid.y, int(neighbours.value))
        n = grid.n_cells
    cube = space_time_cube(cells, steps, n, len(labels))
    result = emerging_hotspots(cube, w, fdr=filters.fdr)
    frame["count"] = cube.sum(axis=1).astype(np.int64)
    frame["value"] = frame["count"]
    frame["category"] = result.category
    frame["trend_z"] = result.trend_z
    frame["trend_p"] = result.trend_p
    hot = np.char.endswith(result.category.astype(str), "_hot")
    cold = np.char.endswith(result.category.astype(str), "_cold")
    return frame, {"n_units": int(n), "time_steps": labels, "hot": int(hot.sum()), "cold": int(cold.sum()),
                   "cell_size": filters.cell_size if filters.units != "communes" else None}


def _incidents(filters, start=None, end=None):
    if start is None:
        start, end = filters.bounds()
    communes = communes_frame(db_session(), filters.boundary_set or None)
    has_districts = communes.attrs.get("has_districts", True)
    frame = incident_frame(db_session(), start=start, end=end, categories=filters.category_codes(),
                           district_code=(filters.district or None) if has_districts else None, viewer=_viewer(),
                           boundary_set=filters.boundary_set or None)
    if filters.district and not has_districts:
        members = set(communes.loc[communes["former_district_code"] == filters.district, "commune_code"])
        frame = frame[frame["commune_code"].isin(members)].reset_index(drop=True)
    return frame


def _run(filters, communes):
    """The stored (or newly computed) run for ``filters``; ``(run, hit, error message)``."""
    session = db_session()
    params = analysis_params(filters)

    def work():
        return compute(filters, params, communes, _incidents(filters),
                       population_frame(session, boundary_set=filters.boundary_set or None))

    try:
        cached = get_or_run(session, params, work, username=current_user.username)
    except GeoInputError as e:
        session.rollback()
        return None, False, error_text(e)
    session.commit()
    return cached.run, cached.hit, None


def _context():
    """Communes of the set shown (by default the one in force at the end of the period asked), the years with
    data, and the district choices of that set (former districts in a set without districts)."""
    from web.boundary_view import district_choices, read_view_set

    session = db_session()
    years = incident_years(session)
    try:
        period = read_period()
        end = period.nominal_end or period.end
    except GeoInputError:
        end = None  # read_filters names the bad period
    view = read_view_set(end)
    g.hotspot_view_set = view
    return view.communes, years, district_choices(view)


def build_map(filters, communes, run, demo: bool):
    """The folium map of a run: the hot spot layer over district outlines, zoomed to the units in view; returns
    (map, hot spot layer, layer control). Next month's forecast is drawn on it by the page's
    ``static/js/hotspot_forecast.js`` from :func:`forecast_geojson`, so the map never waits for the forecast."""
    from layers.base import make_map
    from layers.communes import add_district_outlines
    from layers.hotspots import add_hotspot_layer
    from layers.overview import display_layers
    from web.communes import with_commune_search
    from layers.text import text

    lang = current_language()
    shown, districts = display_layers(communes)
    in_view = shown[shown["district_code"] == filters.district] if filters.district else shown
    m = make_map(tile_url=current_app.config.get("TILE_URL") or "",
                 tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
                 vendor_url=url_for("vendor.asset", filename="").rstrip("/"), map_id="hotspots",
                 basemap=basemap_source(), lang=lang)
    west, south, east, north = in_view.total_bounds
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    with_commune_search(m, shown, filters.boundary_set or communes.attrs.get("version"))
    folium.GeoJson(
        in_view[["geometry"]].to_json(drop_id=True), name=text("layer_communes", lang), interactive=False,
        style_function=lambda _f: {"color": "#9a9a9a", "weight": 0.5, "fill": True, "fillColor": "#ffffff",
                                   "fillOpacity": 0.35},
    ).add_to(m)
    layer = None
    if run is not None:
        frame = run_frame_for_display(run)
        if len(frame):
            layer = add_hotspot_layer(m, frame, filters.statistic, **_layer_options(filters, run, demo))
    add_district_outlines(m, districts, lang=lang)
    control = folium.LayerControl(collapsed=True)
    control.add_to(m)
    return m, layer, control


def _caption(filters) -> str:
    p = filters.period
    parts = [f"{pick((p.label_vi, p.label_en))} ({date_span(p.start, p.end)})"]
    parts.append(filters.category_label())
    return " · ".join(parts)


def _fmt(value, decimals=0):
    from layers.text import format_number

    return format_number(value, current_language(), decimals)


def _pct(value) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    sign = "+" if value > 0 else ""
    return f"{sign}{_fmt(value, 1)}%"


def change_tables(filters, communes, population):
    """Commune and district change against the baseline year (same period), with rates and EB rates.

    Commune counts include confidential cases (no coordinates needed), so they match official totals.
    """
    from geo.change import VERDICT_LABELS, change_table, change_vs_baseline
    from geo.rates import crude_rate, empirical_bayes
    from layers.text import format_numbers

    view = _units_in_view(communes, filters.district)
    pair = comparison(filters)
    current = _incidents(filters, pair.span.start_at, pair.span.end_before)
    baseline = _incidents(filters, pair.baseline.start_at, pair.baseline.end_before)
    codes = view["commune_code"].astype(str).to_numpy()
    c1 = current["commune_code"].astype(str).value_counts().reindex(codes).fillna(0).to_numpy()
    c0 = baseline["commune_code"].astype(str).value_counts().reindex(codes).fillna(0).to_numpy()
    lang = current_language()
    from geo.change import NO_BASELINE
    from web.boundary_view import without_baseline

    # Communes the baseline's records cannot reach (old Tiền Giang before 01/07/2025) are shown with their
    # counts, not compared, and left out of the district and province totals.
    unreached = without_baseline(db_session(), str(communes.attrs.get("version", "")), pair.baseline, view)
    uncompared = np.isin(codes, [c["code"] for c in unreached["communes"]])

    def verdict(code):
        if code == NO_BASELINE:
            return t("hotspots.no_baseline_verdict")
        return VERDICT_LABELS[code][1 if lang == "en" else 0]

    communes_change = change_vs_baseline(c0, c1)
    residents = (population.set_index(population["commune_code"].astype(str))["population"].reindex(codes)
                 .to_numpy(dtype=float)) if len(population) else np.full(codes.size, np.nan)
    has_population = np.isfinite(residents).all() and (residents > 0).all()
    rate = crude_rate(c1, residents) if has_population else np.full(codes.size, np.nan)
    eb = empirical_bayes(c1, residents) if has_population and codes.size >= 2 else np.full(codes.size, np.nan)
    # Formatted column by column (one locale lookup per column, not per number: a province has ~1,900 rows).
    pct_texts = _pcts(communes_change.pct_change)
    ci_texts = _cis(communes_change.ci_low, communes_change.ci_high)
    rate_texts, eb_texts = format_numbers(rate, lang, 1), format_numbers(eb, lang, 1)
    commune_rows = []
    for i, (name, district) in enumerate(zip(view["commune_name"].tolist(), view["district_name"].tolist())):
        outcome = NO_BASELINE if uncompared[i] else communes_change.verdict[i]
        commune_rows.append({
            "name": name, "district": district, "baseline": int(c0[i]), "current": int(c1[i]),
            "pct": "–" if uncompared[i] else pct_texts[i],
            "ci": "–" if uncompared[i] else ci_texts[i],
            "verdict": outcome, "verdict_label": verdict(outcome),
            "rate": rate_texts[i], "eb": eb_texts[i], "sort": (district, -c1[i]),
        })
    commune_rows.sort(key=lambda r: r["sort"])
    # A set without districts (07/2025) is grouped by former district; communes of old Tiền Giang have none.
    with_districts = communes.attrs.get("has_districts", True)
    code_column, name_column = (("district_code", "district_name") if with_districts
                                else ("former_district_code", "former_district_name"))
    names = dict(sorted((c, n) for c, n in zip(view[code_column], view[name_column]) if c))
    grouped = view[code_column].astype(str).replace("", "—").to_numpy()
    names.setdefault("—", t("boundary.former_name", name="Tiền Giang"))
    c0, c1 = c0[~uncompared], c1[~uncompared]
    table = change_table(grouped[~uncompared], c0, c1)
    district_rows = [{
        "name": names.get(r.unit, r.unit), "baseline": int(r.baseline), "current": int(r.current),
        "pct": _pct(r.pct_change), "ci": _ci(r.ci_low, r.ci_high), "verdict": r.verdict,
        "verdict_label": verdict(r.verdict),
    } for r in table.itertuples()]
    total = change_vs_baseline([c0.sum()], [c1.sum()])
    total_row = {"name": t("hotspots.whole_province") if not filters.district else names.get(filters.district, ""),
                 "baseline": int(c0.sum()), "current": int(c1.sum()), "pct": _pct(total.pct_change[0]),
                 "ci": _ci(total.ci_low[0], total.ci_high[0]), "verdict": total.verdict[0],
                 "verdict_label": verdict(total.verdict[0])}
    population_year = int(population["year"].iloc[0]) if len(population) else None
    spans = {key: date_span(p.start, p.end) for key, p in (("current", pair.span),
                                                                          ("base", pair.baseline))}
    return {"communes": commune_rows, "spans": spans, "districts": district_rows, "total": total_row,
            "population_year": population_year, "note": pick((pair.note_vi, pair.note_en)),
            "baseline_year": pair.baseline_year,
            "without_baseline": pick((unreached["note_vi"], unreached["note_en"])) if unreached["communes"] else "",
            "without_baseline_names": [c["name"] for c in unreached["communes"]]}


def comparison(filters):
    """The period and its baseline over the same calendar span, both cut to the data
    (:func:`geo.periods.like_for_like`); a baseline not before the period is a 400 naming both."""
    from geo.periods import LikeForLike, PeriodNotCovered, like_for_like
    from web.periods import coverage

    span = coverage()
    try:
        return like_for_like(filters.period, filters.baseline, data_through=span[1] if span else None,
                             data_from=span[0] if span else None)
    except PeriodNotCovered:
        # Nothing recorded in the period or its baseline: compare the nominal spans (all counts zero).
        pair = like_for_like(filters.period, filters.baseline)
        return LikeForLike(pair.period, pair.span, pair.baseline, pair.baseline_year, None,
                           "Không có số liệu trong kỳ hoặc cùng kỳ", "No data in the period or its baseline")


def _pcts(values) -> list[str]:
    """:func:`_pct` of each of ``values``."""
    from layers.text import format_numbers

    values = np.asarray(values, dtype=float)
    texts = format_numbers(values, current_language(), 1)
    return ["–" if not np.isfinite(v) else f"{'+' if v > 0 else ''}{text}%" for v, text in zip(values, texts)]


def _cis(lows, highs) -> list[str]:
    """:func:`_ci` of each pair of ``lows`` and ``highs``."""
    lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    low_texts, high_texts = _pcts((lows - 1) * 100), _pcts((highs - 1) * 100)
    return ["–" if not np.isfinite(low) else f"{low_text} … {'∞' if not np.isfinite(high) else high_text}"
            for low, high, low_text, high_text in zip(lows, highs, low_texts, high_texts)]


def _ci(low, high) -> str:
    if not np.isfinite(low):
        return "–"
    upper = "∞" if not np.isfinite(high) else _pct((high - 1) * 100)
    return f"{_pct((low - 1) * 100)} … {upper}"


def neighbour_label(choice: str) -> str:
    """A neighbour choice (``queen``, ``rook``, ``distance:2000``, ``knn:6``) in words."""
    kind, _, size = choice.partition(":")
    if kind == "distance":
        return t("hotspots.nb_distance", metres=format_number(int(size)))
    if kind == "knn":
        return t("hotspots.nb_knn", k=size)
    return t(f"hotspots.nb_{kind}")


def parameter_rows(filters, run) -> list[tuple[str, str]]:
    """(label, value) lines describing the analysis exactly as it ran."""
    details = run.details if run is not None else {}
    rows = [
        (t("hotspots.statistic"), pick(STATISTIC_LABELS[filters.statistic])),
        (t("hotspots.units"), pick(UNIT_LABELS[filters.units])),
    ]
    if filters.units != "communes":
        rows.append((t("hotspots.cell_size"), _fmt(details.get("cell_size") or filters.cell_size)))
    else:
        rows.append((t("hotspots.measure"), pick(MEASURE_LABELS[filters.measure])))
    if filters.statistic != "kde":
        rows.append((t("hotspots.neighbours"), neighbour_label(filters.neighbours)))
    if filters.statistic in ("gistar", "emerging"):
        rows.append((t("hotspots.fdr"), t("hotspots.yes") if filters.fdr else t("hotspots.no")))
    if filters.statistic == "lisa":
        rows.append((t("hotspots.permutations_seed"), f"{LISA_PERMUTATIONS} / {SEED}"))
    if filters.statistic == "kde" and details.get("bandwidth"):
        rule = details.get("bandwidth_rule") or ""
        rows.append((t("hotspots.bandwidth_m"),
                     f"{_fmt(details['bandwidth'])} ({rule})" if rule else _fmt(details["bandwidth"])))
    p = filters.period
    rows.append((t("hotspots.period"),
                 f"{pick((p.label_vi, p.label_en))}: {format_date(p.start)} – {format_date(p.end)}"))
    rows.append((t("hotspots.category"), filters.category_label()))
    return rows


class HotspotPage(NamedTuple):
    """What the page shows beside its map: change tables, the demo flag and what the map draws."""
    change: dict
    demo: bool
    layer: object  # layers.hotspots.HotspotLayer without features (None: no layer)


class HotspotMap(NamedTuple):
    """The rendered map: the assets its script needs, the container id and the script."""
    css: tuple
    js: tuple
    map_id: str
    script: str


def _view_key(kind: str, filters, run, error) -> tuple:
    """Everything a view of ``filters`` and ``run`` depends on: data versions (incidents, boundaries,
    population), filters, run, language, viewer scope and the basemap configuration."""
    from store.meta import data_version

    session = db_session()
    return (kind, str(session.get_bind().url), data_version(session, *TOPICS), filters,
            run.id if run is not None else None, error, current_language(), viewer_scope(current_user), basemap_key())


def _map_notes(filters, run, demo: bool) -> list[str]:
    from layers.text import text

    notes = [_caption(filters)]
    if demo:
        notes.append(text("illustrative", current_language()))
    withheld = run.details.get("n_withheld", 0)
    if withheld:
        notes.append(t("hotspots.withheld_note", n=withheld))
    return notes


def _layer_options(filters, run, demo: bool) -> dict:
    options = {"lang": current_language(), "notes": _map_notes(filters, run, demo)}
    if filters.statistic != "kde":
        options["significant_only"] = filters.show == "significant"
    return options


def _page_part(filters, communes, run, error) -> HotspotPage:
    """Change tables and what the map draws (units, subset note), once per view key; no map is built:
    the map's script is a request of its own (:func:`_map_part`)."""
    from layers.hotspots import add_hotspot_layer
    from store.incidents import has_demo_data

    session = db_session()

    def build():
        demo = has_demo_data(session)
        change = change_tables(filters, communes, population_frame(session, boundary_set=filters.boundary_set or None))
        layer = None
        if run is not None:
            frame = run_frame_for_display(run)
            if len(frame):
                layer = add_hotspot_layer(None, frame, filters.statistic, **_layer_options(filters, run, demo))
        return HotspotPage(change, demo, layer)

    return cached_view(_view_key("hotspots-page", filters, run, error), build)


def _map_part(filters, communes, run, error) -> HotspotMap:
    """The rendered map of a run, once per view key."""
    from layers.base import asset_urls, map_parts
    from store.incidents import has_demo_data

    def build():
        m, _layer, control = build_map(filters, communes, run, has_demo_data(db_session()))
        css, js = asset_urls(m)
        # The forecast script adds its layer to this map and its layer control (static/js/hotspot_forecast.js).
        script = (map_parts(m).script
                  + f"\nwindow.bandoHotspotMap = {{map: {m.get_name()}, layers: {control.get_name()}}};\n")
        return HotspotMap(css, js, m.get_name(), script)

    return cached_view(_view_key("hotspots-map", filters, run, error), build)


def _map_assets(filters, communes, run, error, has_layer: bool) -> tuple:
    """(css, js, map id) of the map the page's script draws. They follow from the kinds of elements on the
    map, which do not change with the figures: they are taken from the first map rendered with the same
    configuration and kind of layer (rendering it, and keeping its script for ``/hotspots/map.js``, on a miss)."""
    key = ("hotspots-assets", filters.statistic if has_layer else None, current_language(), basemap_key(),
           url_for("vendor.asset", filename=""))

    def build():
        rendered = _map_part(filters, communes, run, error)
        return rendered.css, rendered.js, rendered.map_id

    return map_assets(key, build)


def _page_context(filters, communes, years, districts):
    run, hit, error = _run(filters, communes)
    page = _page_part(filters, communes, run, error)
    css, js, map_id = _map_assets(filters, communes, run, error, page.layer is not None)
    lang = current_language()
    return {
        "evaluation_url": url_for("hotspots.evaluation", lang=lang, category=filters.category or None,
                                  district=filters.district or None),
        "forecast_url": url_for("hotspots.forecast_geojson", lang=lang, category=filters.category or None,
                                district=filters.district or None),
        "filters": filters, "period": filters.period, "period_menu": menu(years, filters.period),
        "districts": districts,
        "categories": CATEGORIES, "groups": GROUPS, "category_sets": CATEGORY_SETS, "run": run, "hit": hit,
        "error": error, "details": run.details if run is not None else {}, "change": page.change,
        "parameters": parameter_rows(filters, run), "demo": page.demo, "statistics": STATISTICS,
        "statistic_labels": STATISTIC_LABELS, "unit_labels": UNIT_LABELS, "measure_labels": MEASURE_LABELS,
        "neighbour_label": neighbour_label,
        "neighbour_choices": list(NEIGHBOUR_CHOICES) + ([filters.neighbours]
                                                        if filters.neighbours not in NEIGHBOUR_CHOICES else []),
        "fmt": _fmt,
        "css_urls": css, "js_urls": js, "map_id": map_id, "layer": page.layer,
    }


def _evaluation_filters() -> tuple[str, str | None]:
    """Category and district of the evaluation sections (the page's own filters; a wrong one is a 400)."""
    communes, _years, districts = _context()
    category = request.args.get("category", "")
    if category and category not in category_selections():
        raise GeoInputError(message("errors.not_one_of", name="category", value=repr(category),
                                    allowed=", ".join(sorted(category_selections()))))
    district = request.args.get("district", "")
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(districts)))
    return category, district or None


@bp.route("/hotspots/evaluation")
@allow(*ROLES)
def evaluation():
    """The page's evaluation sections (last quarter's accuracy, near repeats, next month's forecast) as an HTML
    fragment: the page loads it after it has shown (``static/js/lazy_sections.js``), because these take
    seconds on new data while the analysis itself does not."""
    from web.evaluation_views import accuracy_section, forecast_result, forecast_section, near_repeat_section

    category, district = _evaluation_filters()
    sections = {"accuracy": accuracy_section(category, district), "near": near_repeat_section(category, district),
                "forecast": forecast_section(forecast_result(category, district))}
    return render_template("evaluation/_hotspot_sections.html", evaluation=sections,
                           filters={"category": category, "district": district or ""})


@bp.route("/hotspots/forecast.geojson")
@allow(*ROLES)
def forecast_geojson():
    """Next month's flagged cells as the map draws them (coordinates to about 1 m, a FORECAST tooltip per
    cell, the layer's name) for ``static/js/hotspot_forecast.js``; an empty collection when there is no
    forecast for the filters."""
    from layers.forecast import forecast_display
    from store.evaluation import forecast_features
    from web.evaluation_views import forecast_result

    import json

    from web.api_evaluation import cache_key

    category, district = _evaluation_filters()
    lang = current_language()

    def build() -> bytes:
        result = forecast_result(category, district)
        collection = (forecast_features(result) if result is not None
                      else {"type": "FeatureCollection", "features": []})
        return json.dumps(forecast_display(collection, lang=lang), ensure_ascii=False,
                          separators=(",", ":")).encode()

    body = cached_view(cache_key("forecast_display", category, district, lang), build)
    response = current_app.response_class(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/hotspots")
@allow(*ROLES)
def page():
    communes, years, districts = _context()
    if communes.empty:
        return render_template("hotspots.html", no_boundaries=True, filters=None)
    filters = read_filters(years, districts, g.hotspot_view_set.key)
    context = _page_context(filters, communes, years, districts)
    return render_template(
        "hotspots.html", no_boundaries=False, view_set=g.hotspot_view_set,
        script_url=url_for("hotspots.map_script", lang=current_language(), **filters.query()), **context,
    )


@bp.route("/hotspots/map.js")
@allow(*ROLES)
def map_script():
    """The hot spot map's JavaScript for the filters in the query string (same rules as the page)."""
    communes, years, districts = _context()
    if communes.empty:
        abort(404)
    filters = read_filters(years, districts, g.hotspot_view_set.key)
    run, _hit, error = _run(filters, communes)
    response = make_response(_map_part(filters, communes, run, error).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/hotspots/print.<fmt>")
@allow(*ROLES)
def print_map(fmt: str):
    """The hot spot map of the filters in the query string on an A4 landscape sheet (PDF or PNG)."""
    from store.incidents import has_demo_data
    from web.printing import check_format, print_response, sheet

    check_format(fmt)
    communes, years, districts = _context()
    if communes.empty:
        abort(404)
    view = g.hotspot_view_set
    filters = read_filters(years, districts, view.key)
    run, _hit, error = _run(filters, communes)
    demo = has_demo_data(db_session())
    m, _layer, _control = build_map(filters, communes, run, demo)
    p = filters.period
    units = pick(UNIT_LABELS[filters.units]) + (f" {filters.cell_size} m" if filters.units != "communes" else "")
    lines = [f"{pick((p.label_vi, p.label_en))} ({date_span(p.start, p.end)})",
             f"{t('boundary.label')} {communes.attrs.get('label', view.key)}",
             filters.category_label(), f"{pick(STATISTIC_LABELS[filters.statistic])} · {units}",
             districts.get(filters.district, "") if filters.district else "", error or ""]
    return print_response(m, sheet(t("hotspots.heading"), lines, demo=demo, sources=[t("print.source_incidents")]),
                          fmt, "diem-nong")


@bp.route("/hotspots/runs/<int:run_id>.geojson")
@allow(*ROLES)
def run_geojson(run_id: int):
    """A stored run (parameters and result) for reproduction; runs that used confidential locations are
    given only to viewers cleared for them."""
    run = run_by_id(db_session(), run_id)
    if run is None:
        abort(404)
    params = run.parameters
    if params.get("sensitive_included") and not _cleared():
        abort(403)
    import json

    document = json.loads(run_geojson_text(run))
    document["properties"] = {"run_id": run.id, "params": params, "data_version": run.data_version,
                              "created_at": run.created_at.isoformat(), "created_by": run.created_by,
                              "summary": run.details}
    response = jsonify(document)
    response.headers["Content-Disposition"] = f'attachment; filename="hotspot-run-{run.id}.geojson"'
    return response
