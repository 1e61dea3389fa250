"""The hot spot page: Gi*, LISA, kernel density and emerging hot spots of the stored incidents, and the change
of each commune and district against a baseline year.

Filters live in the query string (a view can be bookmarked and shared): year, period (the year, a quarter or
a month), category, district, statistic, analysis units (hexagons, squares or communes), cell size,
neighbours, the value analysed on communes (count, rate per 10,000, global or spatial Empirical Bayes rate),
FDR and the baseline year. The map's JavaScript is served by ``/hotspots/map.js`` with the same query string,
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

from dataclasses import asdict, dataclass
from typing import NamedTuple
from datetime import date, datetime

import folium
import numpy as np
import pandas as pd
from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from geo.taxonomy import (CATEGORIES, CATEGORY_SETS, GROUPS, category_selections, selection_codes,
                          selection_label)
from store.boundaries import communes_frame, district_names, population_frame
from store.hotspot_cache import TOPICS, get_or_run, run_by_id, run_frame
from store.incidents import incident_frame, incident_years
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, pick, t
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("hotspots", __name__)

ROLES = (access.PLANNER, access.ADMIN, access.BORDER_GUARD, access.DISTRICT)
STATISTICS = ("gistar", "lisa", "kde", "emerging")
UNITS = ("hex", "square", "communes")
MEASURES = ("count", "rate", "eb", "seb")
PERIODS = ("year", "q1", "q2", "q3", "q4") + tuple(f"m{m:02d}" for m in range(1, 13))
CELL_SIZE_RANGE = (250, 5000)
DEFAULT_CELL_SIZE = 1000
DEFAULT_BASELINE = 2023
LISA_PERMUTATIONS = 999
SEED = 138  # fixed so that every LISA map of the same data and parameters is identical
PARAMS_VERSION = 1  # bump when the computation changes, so old cache entries are not reused

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
VERDICT_LABELS_EN = {
    "clearly_met": "Target met (statistically clear)",
    "uncertain": "Not enough evidence to conclude",
    "clearly_not_met": "Target not met",
    "no_data": "No incidents in either period",
}

add_messages({
    "hotspots.heading": ("Phân tích điểm nóng", "Hot spot analysis"),
    "hotspots.year": ("Năm", "Year"),
    "hotspots.period": ("Kỳ", "Period"),
    "hotspots.period_year": ("Cả năm", "Whole year"),
    "hotspots.quarter": ("Quý {n}", "Quarter {n}"),
    "hotspots.month": ("Tháng {n}", "Month {n}"),
    "hotspots.category": ("Loại vụ việc", "Category"),
    "hotspots.all_categories": ("Tất cả", "All"),
    "hotspots.district": ("Huyện/thành phố", "District"),
    "hotspots.whole_province": ("Toàn tỉnh", "Whole province"),
    "hotspots.statistic": ("Phương pháp", "Statistic"),
    "hotspots.units": ("Đơn vị phân tích", "Analysis units"),
    "hotspots.cell_size": ("Kích thước ô (m)", "Cell size (m)"),
    "hotspots.neighbours": ("Lân cận", "Neighbours"),
    "hotspots.measure": ("Giá trị (theo xã)", "Value (communes)"),
    "hotspots.fdr": ("Hiệu chỉnh FDR", "FDR correction"),
    "hotspots.yes": ("Có", "Yes"),
    "hotspots.no": ("Không", "No"),
    "hotspots.baseline": ("Năm gốc so sánh", "Baseline year"),
    "hotspots.show": ("Hiển thị", "Show"),
    "hotspots.show_significant": ("Chỉ ô có ý nghĩa", "Significant only"),
    "hotspots.show_all": ("Tất cả các ô", "All units"),
    "hotspots.apply": ("Phân tích", "Analyse"),
    "hotspots.map_label": ("Bản đồ điểm nóng", "Hot spot map"),
    "hotspots.summary": ("Kết quả", "Result"),
    "hotspots.incidents": ("Số vụ trong kỳ", "Incidents in the period"),
    "hotspots.withheld": ("Vụ bảo mật không đưa vào lưới", "Confidential cases left out of the grid"),
    "hotspots.withheld_note": (
        "{n} vụ bảo mật không có tọa độ với tài khoản này: không tính trong phân tích theo ô lưới, vẫn tính "
        "trong số liệu theo xã.",
        "{n} confidential cases have no coordinates for this account: left out of the grid analysis, still "
        "counted in commune figures.",
    ),
    "hotspots.units_total": ("Số đơn vị phân tích", "Analysis units"),
    "hotspots.hot": ("Đơn vị điểm nóng", "Hot units"),
    "hotspots.cold": ("Đơn vị điểm lạnh", "Cold units"),
    "hotspots.drawn": ("Đơn vị vẽ trên bản đồ", "Units drawn"),
    "hotspots.parameters": ("Tham số đã dùng", "Parameters used"),
    "hotspots.run": ("Lần phân tích số", "Run"),
    "hotspots.data_version": ("Phiên bản dữ liệu", "Data version"),
    "hotspots.created": ("Tính lúc", "Computed at"),
    "hotspots.created_by": ("Người chạy", "Run by"),
    "hotspots.cache_hit": ("Kết quả lưu sẵn", "Stored result"),
    "hotspots.cache_miss": ("Vừa tính", "Just computed"),
    "hotspots.download": ("Tải kết quả (GeoJSON)", "Download result (GeoJSON)"),
    "hotspots.error": ("Không thể phân tích với bộ lọc này", "The analysis cannot run with these filters"),
    "hotspots.no_boundaries": (
        "Chưa nạp ranh giới xã. Chạy lệnh: flask --app server load-boundaries",
        "No commune boundaries loaded. Run: flask --app server load-boundaries",
    ),
    "hotspots.change_heading": ("So sánh với năm gốc {baseline}", "Change against {baseline}"),
    "hotspots.change_note": (
        "So sánh {current} với cùng kỳ {base}. Khoảng tin cậy 95% chính xác (Poisson có điều kiện) của mức "
        "thay đổi; chỉ tiêu: giảm ít nhất 5%. Số vụ theo xã gồm cả vụ bảo mật.",
        "{current} compared with the same period {base}. Exact 95% confidence interval (conditional Poisson) "
        "of the change; target: at least a 5% reduction. Commune counts include confidential cases.",
    ),
    "hotspots.show_communes": ("Xem bảng {n} xã/phường/thị trấn", "Show the table of {n} communes"),
    "hotspots.by_district": ("Theo huyện/thành phố", "By district"),
    "hotspots.by_commune": ("Theo xã/phường/thị trấn", "By commune"),
    "hotspots.unit": ("Đơn vị", "Unit"),
    "hotspots.baseline_count": ("Năm gốc", "Baseline"),
    "hotspots.current_count": ("Kỳ này", "Current"),
    "hotspots.pct_change": ("Thay đổi", "Change"),
    "hotspots.ci": ("KTC 95%", "95% CI"),
    "hotspots.target": ("Đạt giảm ≥5%?", "≥5% reduction?"),
    "hotspots.rate": ("/10.000 dân", "/10,000"),
    "hotspots.eb_rate": ("Bayes TN /10.000", "EB /10,000"),
    "hotspots.rates_note": (
        "Tỷ lệ trên 10.000 dân (dân số {year}); cột Bayes thực nghiệm kéo tỷ lệ của xã ít dân về mức chung "
        "của tỉnh (Marshall 1991, như GeoDa).",
        "Rates per 10,000 residents ({year} population); the Empirical Bayes column shrinks the rates of small "
        "communes toward the province rate (Marshall 1991, as GeoDa).",
    ),
    "hotspots.emerging_note": (
        "Xu hướng điểm nóng dùng 12 bước thời gian theo tháng của năm đã chọn (bỏ qua bộ lọc kỳ).",
        "Emerging hot spots use the 12 monthly steps of the selected year (the period filter is ignored).",
    ),
    "hotspots.demo_note": ("Minh họa", "Illustrative"),
})


@dataclass(frozen=True)
class HotspotFilters:
    year: int
    period: str
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

    def query(self) -> dict:
        values = asdict(self)
        values["fdr"] = "1" if self.fdr else "0"
        values["stat"] = values.pop("statistic")  # the query parameter's name
        return values

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def category_label(self) -> str:
        return selection_label(self.category, current_language()) or t("hotspots.all_categories")

    def bounds(self, year: int | None = None) -> tuple[datetime, datetime]:
        """First instant and end (exclusive) of the period in ``year`` (default the selected year)."""
        year = self.year if year is None else year
        if self.period == "year" or self.statistic == "emerging":
            return datetime(year, 1, 1), datetime(year + 1, 1, 1)
        if self.period.startswith("q"):
            first = 3 * (int(self.period[1]) - 1) + 1
            return datetime(year, first, 1), _month_after(year, first + 2)
        month = int(self.period[1:])
        return datetime(year, month, 1), _month_after(year, month)


def _month_after(year: int, month: int) -> datetime:
    return datetime(year + 1, 1, 1) if month == 12 else datetime(year, month + 1, 1)


def period_label(period: str) -> str:
    if period == "year":
        return t("hotspots.period_year")
    if period.startswith("q"):
        return t("hotspots.quarter", n=int(period[1]))
    return t("hotspots.month", n=int(period[1:]))


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default) or default
    if value not in allowed:
        raise GeoInputError(f"{name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _year(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    try:
        year = int(raw) if raw else default
    except ValueError:
        raise GeoInputError(f"{name} {raw!r} is not a year") from None
    if not 1900 <= year <= 2100:
        raise GeoInputError(f"{name} {year} is out of range 1900–2100")
    return year


def read_filters(years: list[int], districts: dict[str, str]) -> HotspotFilters:
    """Filters from the query string; an unknown value is a 400 that names the parameter and what is allowed."""
    from geo.hotspot_pipeline import parse_neighbours

    args = request.args
    year = _year("year", years[-1] if years else date.today().year)
    category = args.get("category", "")
    if category and category not in category_selections():
        raise GeoInputError(f"category {category!r} is not one of: {', '.join(sorted(category_selections()))}")
    if "district" in args:
        district = args.get("district", "")
    elif current_user.role == access.DISTRICT and current_user.district_code in districts:
        district = current_user.district_code  # a district committee starts on its own district
    else:
        district = ""
    if district and district not in districts:
        raise GeoInputError(f"district {district!r} is not one of: {', '.join(districts)}")
    units = _choice("units", UNITS, "hex")
    raw_cell = args.get("cell_size", "") or str(DEFAULT_CELL_SIZE)
    try:
        cell_size = int(float(raw_cell))
    except ValueError:
        raise GeoInputError(f"cell_size {raw_cell!r} is not a number of metres") from None
    low, high = CELL_SIZE_RANGE
    if not low <= cell_size <= high:
        raise GeoInputError(f"cell_size {cell_size} m is outside the allowed {low}–{high} m")
    neighbours = str(parse_neighbours(args.get("neighbours", "queen") or "queen"))
    measure = _choice("measure", MEASURES, "count")
    if units != "communes":
        measure = "count"  # grid cells have no population
    return HotspotFilters(
        year=year, period=_choice("period", PERIODS, "year"), category=category, district=district,
        statistic=_choice("stat", STATISTICS, "gistar"), units=units, cell_size=cell_size, neighbours=neighbours,
        measure=measure, fdr=_choice("fdr", ("1", "0"), "1") == "1", baseline=_year("baseline", DEFAULT_BASELINE),
        show=_choice("show", ("significant", "all"), "significant"),
    )


def _viewer():
    return current_user._get_current_object()


def _cleared() -> bool:
    return bool(getattr(current_user, "sensitive_clearance", False))


def analysis_params(filters: HotspotFilters) -> dict:
    """Everything that determines the result (the cache key and the stored record of the run)."""
    start, end = filters.bounds()
    return {
        "v": PARAMS_VERSION, "year": filters.year,
        "period": "year" if filters.statistic == "emerging" else filters.period,
        "start": start.isoformat(), "end": end.isoformat(), "categories": filters.category_codes(),
        "district": filters.district or None, "statistic": filters.statistic, "units": filters.units,
        "cell_size": filters.cell_size if filters.units != "communes" else None, "neighbours": filters.neighbours,
        "measure": filters.measure, "fdr": filters.fdr if filters.statistic in ("gistar", "emerging") else None,
        "permutations": LISA_PERMUTATIONS if filters.statistic == "lisa" else 0,
        "seed": SEED if filters.statistic == "lisa" else None, "bandwidth": "arcgis" if filters.statistic == "kde" else None,
        "sensitive_included": _cleared(),
    }


def _units_in_view(communes, filters):
    return communes[communes["district_code"] == filters.district] if filters.district else communes


def compute(filters: HotspotFilters, params: dict, communes, incidents, population):
    """Run the analysis of ``filters`` (called on a cache miss); returns (result frame, summary)."""
    import geopandas as gpd

    from geo.crs import METRIC_CRS, lonlat_to_metric, to_metric
    from geo.hotspot_pipeline import HotspotSpec, measure_values, run_hotspot_analysis

    zones = to_metric(_units_in_view(communes, filters)).reset_index(drop=True)
    located = (incidents["lon"].notna() & incidents["lat"].notna()).to_numpy()
    x, y = lonlat_to_metric(incidents.loc[located, "lon"], incidents.loc[located, "lat"])
    grid = filters.units != "communes"
    uses_points = grid or filters.statistic == "kde"
    summary = {"n_incidents": int(len(incidents)), "n_withheld": int((~located).sum()) if uses_points else 0}
    counts = (incidents["commune_code"].astype(str).value_counts()
              .reindex(zones["commune_code"].astype(str)).fillna(0).to_numpy(dtype=float))
    if uses_points and len(x) == 0:
        raise GeoInputError("no incident with a location matches the filters: nothing to analyse on a grid "
                            "or as a density")
    if filters.statistic == "emerging":
        frame, extra = _emerging(filters, zones, incidents[located] if grid else incidents, x, y)
        summary.update(extra)
        return frame, summary
    spec = HotspotSpec(statistic=filters.statistic, units=filters.units if grid else "zones",
                       cell_size=filters.cell_size if grid else None, neighbours=filters.neighbours,
                       bandwidth=params["bandwidth"], fdr=bool(params["fdr"]), permutations=params["permutations"],
                       seed=params["seed"])
    boundary = zones.geometry.union_all()
    keep = ["commune_code", "commune_name", "district_code", "district_name", "geometry"]
    if grid:
        result = run_hotspot_analysis(spec, x=x, y=y, boundary=boundary, crs=METRIC_CRS)
    elif filters.statistic == "kde":
        result = run_hotspot_analysis(spec, x=x, y=y, zones=zones[keep], crs=METRIC_CRS)
        result.frame["count"] = counts.astype(np.int64)  # commune counts include confidential cases
    else:
        residents = None
        if filters.measure != "count":
            residents = (population.set_index(population["commune_code"].astype(str))["population"]
                         .reindex(zones["commune_code"].astype(str)).to_numpy(dtype=float))
            if np.isnan(residents).any():
                raise GeoInputError(f"{int(np.isnan(residents).sum())} communes have no population figure: "
                                    f"rates need the population of every commune")
        weights = None
        if filters.measure == "seb":
            from geo.weights import contiguity

            weights = contiguity(zones, "queen")
        values = measure_values(counts, residents, filters.measure, weights)
        result = run_hotspot_analysis(spec, zones=zones[keep], zone_values=values, crs=METRIC_CRS)
        result.frame["count"] = counts.astype(np.int64)
    derived = {k: result.params.get(k) for k in ("cell_size", "bandwidth", "bandwidth_rule", "n_units", "n_islands",
                                                 "n_points", "n_outside")}
    summary.update({k: v for k, v in derived.items() if v is not None})
    frame = result.frame
    if "gi_bin" in frame:
        summary.update(hot=int((frame["gi_bin"] > 0).sum()), cold=int((frame["gi_bin"] < 0).sum()))
    if "lisa_cluster" in frame:
        summary.update(hot=int((frame["lisa_cluster"] == "HH").sum()), cold=int((frame["lisa_cluster"] == "LL").sum()))
    drop = [c for c in ("district_code",) if c in frame.columns]
    return gpd.GeoDataFrame(frame.drop(columns=drop), crs=frame.crs), summary


def _emerging(filters, zones, incidents, x, y):
    import geopandas as gpd

    from geo.emerging import emerging_hotspots, space_time_cube, time_step_index
    from geo.grid import bin_points, make_grid
    from geo.hotspot_pipeline import parse_neighbours
    from geo.weights import contiguity, distance_band, grid_contiguity, grid_distance_band, knn

    start, end = filters.bounds()
    neighbours = parse_neighbours(filters.neighbours)
    if len(incidents) == 0:
        raise GeoInputError("no incidents match the filters: nothing to analyse over time")
    steps, labels = time_step_index(incidents["occurred_at"], "month", start=start, end=datetime(filters.year, 12, 1))
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
        grid = make_grid(zones.geometry.union_all(), filters.cell_size, filters.units)
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
    return incident_frame(db_session(), start=start, end=end, categories=filters.category_codes(),
                          district_code=filters.district or None, viewer=_viewer())


def _run(filters, communes):
    """The stored (or newly computed) run for ``filters``; ``(run, hit, error message)``."""
    session = db_session()
    params = analysis_params(filters)

    def work():
        return compute(filters, params, communes, _incidents(filters), population_frame(session))

    try:
        cached = get_or_run(session, params, work, username=current_user.username)
    except GeoInputError as e:
        session.rollback()
        return None, False, str(e)
    session.commit()
    return cached.run, cached.hit, None


def _context():
    session = db_session()
    communes = communes_frame(session)
    years = incident_years(session)
    return communes, years, district_names(communes)


def build_map(filters, communes, run, demo: bool):
    """The folium map of a run: the hot spot layer over district outlines, zoomed to the units in view."""
    from layers.base import make_map
    from layers.communes import add_district_outlines
    from layers.hotspots import add_hotspot_layer
    from layers.overview import display_layers
    from layers.text import text

    lang = current_language()
    shown, districts = display_layers(communes)
    in_view = shown[shown["district_code"] == filters.district] if filters.district else shown
    m = make_map(tile_url=current_app.config.get("TILE_URL") or "",
                 tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
                 vendor_url=url_for("vendor.asset", filename="").rstrip("/"), map_id="hotspots")
    west, south, east, north = in_view.total_bounds
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    folium.GeoJson(
        in_view[["geometry"]].to_json(drop_id=True), name=text("layer_communes", lang), interactive=False,
        style_function=lambda _f: {"color": "#9a9a9a", "weight": 0.5, "fill": True, "fillColor": "#ffffff",
                                   "fillOpacity": 0.35},
    ).add_to(m)
    layer = None
    if run is not None:
        frame = run_frame(run)
        notes = [_caption(filters)]
        if demo:
            notes.append(text("illustrative", lang))
        withheld = run.details.get("n_withheld", 0)
        if withheld:
            notes.append(t("hotspots.withheld_note", n=withheld))
        if len(frame):
            options = {"lang": lang, "notes": notes}
            if filters.statistic != "kde":
                options["significant_only"] = filters.show == "significant"
            layer = add_hotspot_layer(m, frame, filters.statistic, **options)
    add_district_outlines(m, districts, lang=lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, layer


def _caption(filters) -> str:
    parts = [f"{t('hotspots.year')} {filters.year}"]
    if filters.statistic != "emerging" and filters.period != "year":
        parts.append(period_label(filters.period))
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
    from geo.change import VERDICT_LABELS_VI, change_table, change_vs_baseline
    from geo.rates import crude_rate, empirical_bayes

    view = _units_in_view(communes, filters)
    current = _incidents(filters)
    start, end = filters.bounds(filters.baseline)
    baseline = _incidents(filters, start, end)
    codes = view["commune_code"].astype(str).to_numpy()
    c1 = current["commune_code"].astype(str).value_counts().reindex(codes).fillna(0).to_numpy()
    c0 = baseline["commune_code"].astype(str).value_counts().reindex(codes).fillna(0).to_numpy()
    lang = current_language()

    def verdict(code):
        return VERDICT_LABELS_EN[code] if lang == "en" else VERDICT_LABELS_VI[code]

    communes_change = change_vs_baseline(c0, c1)
    residents = (population.set_index(population["commune_code"].astype(str))["population"].reindex(codes)
                 .to_numpy(dtype=float)) if len(population) else np.full(codes.size, np.nan)
    has_population = np.isfinite(residents).all() and (residents > 0).all()
    rate = crude_rate(c1, residents) if has_population else np.full(codes.size, np.nan)
    eb = empirical_bayes(c1, residents) if has_population and codes.size >= 2 else np.full(codes.size, np.nan)
    commune_rows = []
    for i, row in enumerate(view.itertuples()):
        commune_rows.append({
            "name": row.commune_name, "district": row.district_name, "baseline": int(c0[i]), "current": int(c1[i]),
            "pct": _pct(communes_change.pct_change[i]),
            "ci": _ci(communes_change.ci_low[i], communes_change.ci_high[i]),
            "verdict": communes_change.verdict[i], "verdict_label": verdict(communes_change.verdict[i]),
            "rate": _fmt(rate[i], 1), "eb": _fmt(eb[i], 1), "sort": (row.district_name, -c1[i]),
        })
    commune_rows.sort(key=lambda r: r["sort"])
    names = district_names(view)
    table = change_table(view["district_code"].astype(str).to_numpy(), c0, c1)
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
    spans = {key: f"{a:%d/%m/%Y}–{(b - pd.Timedelta(days=1)):%d/%m/%Y}"
             for key, (a, b) in (("current", filters.bounds()), ("base", (start, end)))}
    return {"communes": commune_rows, "spans": spans, "districts": district_rows, "total": total_row,
            "population_year": population_year}


def _ci(low, high) -> str:
    if not np.isfinite(low):
        return "–"
    upper = "∞" if not np.isfinite(high) else _pct((high - 1) * 100)
    return f"{_pct((low - 1) * 100)} … {upper}"


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
        rows.append((t("hotspots.neighbours"), filters.neighbours))
    if filters.statistic in ("gistar", "emerging"):
        rows.append((t("hotspots.fdr"), t("hotspots.yes") if filters.fdr else t("hotspots.no")))
    if filters.statistic == "lisa":
        rows.append(("Permutations / seed", f"{LISA_PERMUTATIONS} / {SEED}"))
    if filters.statistic == "kde" and details.get("bandwidth"):
        rule = details.get("bandwidth_rule") or ""
        rows.append(("Bandwidth (m)", f"{_fmt(details['bandwidth'])} ({rule})" if rule else _fmt(details["bandwidth"])))
    start, end = filters.bounds()
    rows.append((t("hotspots.period"), f"{start:%d/%m/%Y} – {(end - pd.Timedelta(days=1)):%d/%m/%Y}"))
    rows.append((t("hotspots.category"), filters.category_label()))
    return rows


class RenderedHotspots(NamedTuple):
    change: dict
    demo: bool
    css: list
    js: list
    map_id: str
    layer: object
    script: str


def _rendered(filters, communes, run, error):
    """Change tables and the rendered map of a run, built once per data version (incidents, boundaries,
    population), filters, run, language and viewer scope; the run itself is looked up per request."""
    from layers.base import asset_urls, map_parts
    from store.incidents import has_demo_data
    from store.meta import data_version

    session = db_session()
    key = ("hotspots", str(session.get_bind().url), data_version(session, *TOPICS), filters,
           run.id if run is not None else None, error, current_language(), viewer_scope(current_user),
           current_app.config.get("TILE_URL") or "", current_app.config.get("TILE_ATTRIBUTION") or "")

    def build():
        demo = has_demo_data(session)
        change = change_tables(filters, communes, population_frame(session))
        m, layer = build_map(filters, communes, run, demo)
        css, js = asset_urls(m)
        return RenderedHotspots(change, demo, css, js, m.get_name(), layer, map_parts(m).script)

    return cached_view(key, build)


def _page_context(filters, communes, years, districts):
    run, hit, error = _run(filters, communes)
    rendered = _rendered(filters, communes, run, error)
    return {
        "filters": filters, "years": sorted(set(years) | {filters.year, filters.baseline}), "districts": districts,
        "categories": CATEGORIES, "groups": GROUPS, "category_sets": CATEGORY_SETS, "run": run, "hit": hit,
        "error": error, "details": run.details if run is not None else {}, "change": rendered.change,
        "parameters": parameter_rows(filters, run), "demo": rendered.demo, "statistics": STATISTICS,
        "statistic_labels": STATISTIC_LABELS, "unit_labels": UNIT_LABELS, "measure_labels": MEASURE_LABELS,
        "neighbour_choices": list(NEIGHBOUR_CHOICES) + ([filters.neighbours]
                                                        if filters.neighbours not in NEIGHBOUR_CHOICES else []),
        "periods": PERIODS, "period_label": period_label, "fmt": _fmt,
        "css_urls": rendered.css, "js_urls": rendered.js, "map_id": rendered.map_id, "layer": rendered.layer,
    }


@bp.route("/hotspots")
@allow(*ROLES)
def page():
    communes, years, districts = _context()
    if communes.empty:
        return render_template("hotspots.html", no_boundaries=True, filters=None)
    filters = read_filters(years, districts)
    context = _page_context(filters, communes, years, districts)
    return render_template(
        "hotspots.html", no_boundaries=False,
        script_url=url_for("hotspots.map_script", lang=current_language(), **filters.query()), **context,
    )


@bp.route("/hotspots/map.js")
@allow(*ROLES)
def map_script():
    """The hot spot map's JavaScript for the filters in the query string (same rules as the page)."""
    communes, years, districts = _context()
    if communes.empty:
        abort(404)
    filters = read_filters(years, districts)
    run, _hit, error = _run(filters, communes)
    response = make_response(_rendered(filters, communes, run, error).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


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

    document = json.loads(run.result)
    document["properties"] = {"run_id": run.id, "params": params, "data_version": run.data_version,
                              "created_at": run.created_at.isoformat(), "created_by": run.created_by,
                              "summary": run.details}
    response = jsonify(document)
    response.headers["Content-Disposition"] = f'attachment; filename="hotspot-run-{run.id}.geojson"'
    return response
