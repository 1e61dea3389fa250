"""Beyond the anchors, from the store: hot spot accuracy, displacement around key areas, near repeats, forecasts.

The hot spot page, the key-area page, the corridor page, the JSON API and the quarterly report all call these
functions, so every place shows the same numbers. Each reads incidents with :func:`store.incidents.incident_frame`
for the caller's ``viewer`` and hands plain arrays to the pure statistics of ``geo`` (:mod:`geo.accuracy`,
:mod:`geo.displacement`, :mod:`geo.near_repeat`, :mod:`geo.prospective`).

Confidential cases
------------------
As on the hot spot page, a sensitive case has no coordinates for a viewer without clearance, so it cannot be
put in a grid cell, a key area's buffer ring, a pair of near repeats or a forecast cell: such cases are left out
of these location-based statistics, and every answer says how many were left out (``n_withheld``). A cleared
viewer's statistics include them. Nothing is ever computed from a location the viewer may not see, so varying
the parameters cannot reveal one.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from geo.errors import GeoInputError
from translations import message

ACCURACY_METHODS = ("gistar", "kde", "emerging", "prospective")
METHOD_LABELS = {
    "gistar": ("Điểm nóng Gi* (độ tin cậy ≥95%)", "Gi* hot spots (≥95% confidence)"),
    "kde": ("Mật độ KDE (5% diện tích cao nhất)", "KDE (top 5% of the area)"),
    "emerging": ("Xu hướng điểm nóng (các lớp nóng)", "Emerging hot spots (hot classes)"),
    "prospective": ("Dự báo tiềm năng (5% diện tích cao nhất)", "Prospective forecast (top 5% of the area)"),
}
DEFAULT_CELL_SIZE_M = 1000
FORECAST_CELL_SIZE_M = 250
TOP_SHARE = 0.05
GI_MIN_CONFIDENCE = 2
EMERGING_MONTHS = 12
NEAR_REPEAT_SELECTIONS = ("theft", "robbery", "drugs")
DEFAULT_SPACE_BANDS = (100, 200, 400)
DEFAULT_TIME_BANDS = (7, 14, 28)
DEFAULT_PERMUTATIONS = 999
SEED = 138  # fixed so that the same data and parameters always give the same p-values
MAX_PERMUTATIONS = 9999


@dataclass(frozen=True)
class Located:
    """Incidents of a window with coordinates in metres; ``withheld`` had no coordinates for the viewer."""

    x: np.ndarray
    y: np.ndarray
    day: np.ndarray  # datetime64[D]
    category: np.ndarray
    withheld: int

    @property
    def size(self) -> int:
        return int(self.x.size)


def district_communes(session, district_code):
    """Communes a district filter means in the set in force: its district, or its former district in a set
    without districts (07/2025), as the downloads and maps read it."""
    from store.boundaries import communes_frame

    communes = communes_frame(session)
    column = "district_code" if communes.attrs.get("has_districts", True) else "former_district_code"
    return communes[communes[column].astype(str) == str(district_code)]


def _located(session, viewer, start: date, end_exclusive: date, *, categories=None, district_code=None) -> Located:
    from geo.crs import lonlat_to_metric
    from store.incidents import incident_frame

    members = None
    if district_code:
        members = set(district_communes(session, district_code)["commune_code"].astype(str))
    frame = incident_frame(session, start=datetime.combine(start, datetime.min.time()),
                           end=datetime.combine(end_exclusive, datetime.min.time()), categories=categories,
                           viewer=viewer)
    if members is not None:
        frame = frame[frame["commune_code"].astype(str).isin(members)]
    has_point = (frame["lon"].notna() & frame["lat"].notna()).to_numpy() if len(frame) else np.zeros(0, bool)
    kept = frame[has_point]
    x, y = lonlat_to_metric(kept["lon"], kept["lat"]) if len(kept) else (np.zeros(0), np.zeros(0))
    day = pd.to_datetime(kept["occurred_at"]).to_numpy(dtype="datetime64[D]") if len(kept) else \
        np.zeros(0, dtype="datetime64[D]")
    return Located(np.asarray(x, float), np.asarray(y, float), day, kept["category"].astype(str).to_numpy(),
                   int((~has_point).sum()))


def data_through(session) -> date | None:
    """Date of the latest incident stored (the end of the data)."""
    from store.models import Incident

    last = session.scalar(select(func.max(Incident.occurred_at)))
    return None if last is None else (last.date() if isinstance(last, datetime) else last)


def _view_geometry(session, district_code):
    from geo.crs import to_metric
    from store.boundaries import communes_frame

    communes = communes_frame(session)
    if communes.empty:
        raise GeoInputError(message("store.evaluation.no_boundaries"))
    if district_code:
        communes = district_communes(session, district_code)
        if communes.empty:
            raise GeoInputError(message("store.evaluation.district_no_communes", district=district_code))
    return to_metric(communes).geometry.union_all()


_GRIDS: OrderedDict = OrderedDict()
_GRID_LOCK = threading.Lock()
_GRID_CACHE_SIZE = 8


def _grid(session, district_code, cell_size):
    """Hexagons over the province or a district, kept per boundary version (a 250 m grid takes ~1 s to clip)."""
    import shapely

    from geo.grid import make_grid
    from store.meta import data_version

    key = (str(session.get_bind().url), data_version(session, "boundaries"), district_code or None, float(cell_size))
    with _GRID_LOCK:
        if key in _GRIDS:
            _GRIDS.move_to_end(key)
            return _GRIDS[key]
    grid = make_grid(_view_geometry(session, district_code), float(cell_size), "hex")
    value = (grid, shapely.area(grid.geometry))
    with _GRID_LOCK:
        _GRIDS[key] = value
        while len(_GRIDS) > _GRID_CACHE_SIZE:
            _GRIDS.popitem(last=False)
    return value


def _bin(grid, located: Located):
    from geo.grid import bin_points

    if located.size == 0:
        return np.zeros(grid.n_cells)
    return bin_points(grid, located.x, located.y).counts.astype(float)


def _period_json(period) -> dict:
    return {"code": period.code, "start": period.start.isoformat(), "end": period.end.isoformat(),
            "label_vi": period.label_vi, "label_en": period.label_en}


def _flag_cells(session, viewer, grid, areas, method, train, train_counts, *, categories, district_code):
    """Cells the ``method`` flags from the training period, and the method's parameters."""
    from geo import accuracy as acc

    if method == "gistar":
        from geo.gistar import gi_star
        from geo.weights import grid_contiguity

        if train_counts.sum() == 0:
            raise GeoInputError(message("store.evaluation.no_training_incidents"))
        result = gi_star(train_counts, grid_contiguity(grid, "queen"), fdr=True)
        return acc.gi_bin_flags(result.bin, GI_MIN_CONFIDENCE), {"neighbours": "queen", "fdr": True,
                                                                 "min_confidence": "95%"}
    located = _located(session, viewer, train.start, train.end + timedelta(days=1), categories=categories,
                       district_code=district_code)
    if method == "kde":
        from geo.kde import bandwidth_rule, kernel_density

        if located.size < 2:
            raise GeoInputError(message("store.evaluation.too_few_for_density"))
        bandwidth = max(bandwidth_rule(located.x, located.y, "arcgis"), grid.cell_size)
        density = kernel_density(grid, located.x, located.y, bandwidth).density
        return acc.top_share(density, areas, TOP_SHARE), {"bandwidth_m": round(bandwidth, 1), "share": TOP_SHARE}
    if method == "emerging":
        from geo.emerging import emerging_hotspots, space_time_cube, time_step_index
        from geo.grid import bin_points
        from geo.weights import grid_contiguity

        first_month = (pd.Timestamp(train.end).to_period("M") - (EMERGING_MONTHS - 1)).to_timestamp().date()
        window = _located(session, viewer, first_month, train.end + timedelta(days=1), categories=categories,
                          district_code=district_code)
        if window.size == 0:
            raise GeoInputError(message("store.evaluation.empty_cube"))
        steps, labels = time_step_index(pd.Series(window.day.astype("datetime64[ns]")), "month", start=first_month,
                                        end=train.end)
        cells = bin_points(grid, window.x, window.y).cell_index
        cube = space_time_cube(cells, steps, grid.n_cells, len(labels))
        result = emerging_hotspots(cube, grid_contiguity(grid, "queen"), fdr=True)
        return acc.emerging_flags(result.category), {"months": labels[0] + "…" + labels[-1], "fdr": True}
    surface, params = _surface(grid, located, train.end)
    return acc.top_share(surface.risk, areas, TOP_SHARE), {**params, "share": TOP_SHARE}


def _surface(grid, located: Located, as_of: date, space_bandwidth_m=None, time_bandwidth_days=None):
    from geo.prospective import DEFAULT_SPACE_BANDWIDTH_M, DEFAULT_TIME_BANDWIDTH_DAYS, prospective_surface

    h = float(space_bandwidth_m or DEFAULT_SPACE_BANDWIDTH_M)
    tau = float(time_bandwidth_days or DEFAULT_TIME_BANDWIDTH_DAYS)
    age = (np.datetime64(as_of) - located.day).astype(np.int64)
    surface = prospective_surface(grid.x, grid.y, located.x, located.y, age, space_bandwidth_m=h,
                                  time_bandwidth_days=tau, distance_unit_m=grid.cell_size)
    return surface, {"space_bandwidth_m": h, "time_bandwidth_days": tau, "as_of": as_of.isoformat()}


def hotspot_accuracy(session, viewer, train, test, *, method="gistar", categories=None, district_code=None,
                     cell_size=DEFAULT_CELL_SIZE_M) -> dict:
    """Score the hot spots of period ``train`` on the incidents of period ``test`` (PAI, PEI, RRI, hit rate).

    Parameters
    ----------
    train, test : geo.periods.Period
        Test must start after the training period ends.
    method : {"gistar", "kde", "emerging", "prospective"}
        Gi* bins at ≥95 % confidence (FDR); the top 5 % of the area by kernel density; the hot classes of an
        emerging hot spot analysis of the twelve months up to the end of training; the top 5 % of a prospective
        surface as of the last training day.
    cell_size : float
        Hexagon cells in metres (250–5,000).
    """
    from geo.accuracy import score_hotspots

    if method not in ACCURACY_METHODS:
        raise GeoInputError(message("errors.not_one_of", name="method", value=repr(method),
                                    allowed=", ".join(ACCURACY_METHODS)))
    if test.start <= train.end:
        raise GeoInputError(message("store.evaluation.test_before_training_end", test=test.code, train=train.code))
    if not 250 <= float(cell_size) <= 5000:
        raise GeoInputError(message("store.evaluation.cell_size_range", cell_size=repr(cell_size)))
    grid, areas = _grid(session, district_code, cell_size)
    kwargs = {"categories": categories, "district_code": district_code}
    train_points = _located(session, viewer, train.start, train.end + timedelta(days=1), **kwargs)
    test_points = _located(session, viewer, test.start, test.end + timedelta(days=1), **kwargs)
    train_counts, test_counts = _bin(grid, train_points), _bin(grid, test_points)
    flagged, params = _flag_cells(session, viewer, grid, areas, method, train, train_counts, **kwargs)
    score = score_hotspots(flagged, test_counts, areas, train_counts=train_counts)
    return {
        "method": method, "train": _period_json(train), "test": _period_json(test), "cell_size_m": float(cell_size),
        "categories": categories, "district": district_code or None, "method_params": params,
        "hit_rate": score.hit_rate, "area_share": score.area_share, "pai": score.pai, "pei": score.pei,
        "rri": score.rri, "n": score.n, "N": score.N, "a_km2": score.a / 1e6, "A_km2": score.A / 1e6,
        "n_star": score.n_star, "n_star_exact": score.n_star_exact, "n1": score.n1, "N1": score.N1,
        "n_cells": score.n_cells, "n_flagged": score.n_flagged,
        "n_withheld": train_points.withheld + test_points.withheld,
    }


def last_complete_quarters(session, scheme, *, through: date | None = None):
    """(train, test): the last single quarter ending on or before the data's end (or ``through``), and the one
    before it."""
    from geo.periods import quarter_period, reporting_year_of

    end = data_through(session)
    if end is None:
        return None
    end = min(end, through) if through else end
    year = reporting_year_of(end, scheme=scheme)
    quarters = [quarter_period(y, n, scheme=scheme) for y in (year - 2, year - 1, year) for n in (1, 2, 3, 4)]
    complete = [q for q in quarters if q.end <= end]
    if len(complete) < 2:
        return None
    return complete[-2], complete[-1]


# --- displacement -------------------------------------------------------------------------------------------
def intervention_date(session, area) -> date:
    """The conversion decision of a key area: its decision date, else the day it entered "converting"."""
    from store import key_areas as ka

    if area.decision_date is not None:
        return area.decision_date
    for event in ka.timeline(session, area.id):
        if event.to_status == ka.CONVERTING:
            return event.event_date
    raise GeoInputError(message("store.evaluation.no_decision_date"))


def commune_group(session, area, area_metric, decided: date):
    """The communes forming a key area's default control: its commune group.

    The group is the area's district in a set with districts, or its former district (the 2024 district its
    commune came from) in a set without them (07/2025); the set is the one in force on the decision date,
    else the one in force today. Without any group the whole province is the control.

    Returns
    -------
    (GeoDataFrame, str, str)
        The communes, the set id and the kind: ``"district"``, ``"former_district"`` or ``"province"``.
    """
    import shapely

    from geo.crs import METRIC_CRS
    from store.boundaries import active_boundary_set, communes_frame

    in_force = active_boundary_set(session, on=decided)
    keys = [None] + ([in_force.version] if in_force is not None else [])
    for key in reversed(keys):
        communes = communes_frame(session, boundary_set=key)
        if communes.empty:
            continue
        has_districts = bool(communes.attrs.get("has_districts", True))
        if area.district_code and has_districts:
            group = communes[communes["district_code"].astype(str) == str(area.district_code)]
            if len(group):
                return group, communes.attrs.get("version"), "district"
        home = communes[communes["commune_code"].astype(str) == str(area.commune_code or "")]
        if home.empty:
            centre = area_metric.representative_point()
            metric = communes.to_crs(METRIC_CRS)
            home = communes[shapely.covers(metric.geometry.values, centre)]
        if home.empty:
            continue
        column, kind = ("district_code", "district") if has_districts else ("former_district_code", "former_district")
        value = str(home.iloc[0][column] or "")
        if value:
            return communes[communes[column].astype(str) == value], communes.attrs.get("version"), kind
    communes = communes_frame(session)
    return communes, communes.attrs.get("version"), "province"


def key_area_displacement(session, viewer, area, *, buffer_m=None, control_communes=None, span_days=None,
                          categories=None, through: date | None = None) -> dict:
    """WDQ of a key area: incidents in the area, a ring around it and a control, before and after its decision.

    Parameters
    ----------
    area : store.key_areas.KeyArea
        Already checked visible to ``viewer``.
    buffer_m : float, optional
        Width of the ring (default 500 m).
    control_communes : list of str, optional
        Commune codes (of the set in force today) forming the control; default the area's commune group
        (:func:`commune_group`).
    span_days : int, optional
        Days before and after (default the shorter of a year and the data since the decision).
    through : date, optional
        Ignore data after this day (a report as of its period's end is regenerated identically).
    """
    import shapely
    from shapely.geometry import shape

    from geo.crs import METRIC_CRS
    from geo.displacement import (DEFAULT_BUFFER_M, READING_LABELS, count_displacement, displacement_zones,
                                  equal_spans, weighted_displacement_quotient)
    from geo.crs import to_metric
    from store.boundaries import communes_frame

    buffer_m = DEFAULT_BUFFER_M if buffer_m is None else buffer_m
    decided = intervention_date(session, area)
    last = data_through(session)
    if last is None:
        raise GeoInputError(message("store.evaluation.nothing_to_compare"))
    spans = equal_spans(decided, min(last, through) if through else last, span_days)
    import geopandas as gpd

    geometry = gpd.GeoSeries([shape(json.loads(area.geometry))], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    if control_communes:
        communes = communes_frame(session)
        set_key = communes.attrs.get("version")
        codes = [str(c) for c in control_communes]
        unknown = sorted(set(codes) - set(communes["commune_code"].astype(str)))
        if unknown:
            raise GeoInputError(message("store.evaluation.unknown_control_communes", codes=", ".join(unknown[:5])))
        chosen = communes[communes["commune_code"].astype(str).isin(codes)]
        control_kind = "communes"
    else:
        chosen, set_key, control_kind = commune_group(session, area, geometry, decided)
        codes = sorted(chosen["commune_code"].astype(str))
    control = to_metric(chosen).geometry.union_all()
    zones = displacement_zones(geometry, buffer_m, shapely.union(control, geometry))
    frame_codes = set(codes) | ({area.commune_code} if area.commune_code else set())
    located = _located(session, viewer, spans.before_start, spans.after_end, categories=categories)
    counts = count_displacement(located.x, located.y, located.day, zones, spans)
    from store.incidents import incident_frame

    window = incident_frame(session, start=datetime.combine(spans.before_start, datetime.min.time()),
                            end=datetime.combine(spans.after_end, datetime.min.time()), categories=categories,
                            viewer=viewer, boundary_set=set_key)
    withheld = int((window["lon"].isna() & window["commune_code"].astype(str).isin(frame_codes)).sum()) \
        if len(window) else 0
    result = weighted_displacement_quotient(**counts)
    return {
        "key_area_id": area.id, "key_area": area.name, "wdq": result.wdq, "reading": result.reading,
        "reading_vi": READING_LABELS[result.reading][0], "reading_en": READING_LABELS[result.reading][1],
        **{k: counts[k] for k in ("R0", "R1", "B0", "B1", "C0", "C1")},
        "success_measure": result.success_measure, "buffer_measure": result.buffer_measure,
        "total_net_effect": result.total_net_effect, "displacement_exceeds_gain": result.displacement_exceeds_gain,
        "decision_date": decided.isoformat(), "span_days": spans.days,
        "before": {"start": spans.before_start.isoformat(), "end": (decided - timedelta(days=1)).isoformat()},
        "after": {"start": decided.isoformat(), "end": (spans.after_end - timedelta(days=1)).isoformat()},
        "buffer_m": float(buffer_m),
        "control": {"kind": control_kind, "communes": codes, "boundary_set": set_key},
        "categories": categories, "n_withheld": withheld,
        "method": "Bowers & Johnson (2003) Weighted Displacement Quotient",
    }


# --- near repeats -------------------------------------------------------------------------------------------
def near_repeats(session, viewer, period, *, categories=None, district_code=None, space_bands=DEFAULT_SPACE_BANDS,
                 time_bands=DEFAULT_TIME_BANDS, permutations=DEFAULT_PERMUTATIONS, seed=SEED) -> dict:
    """Knox table of the located incidents of ``period`` (Near Repeat Calculator rows) and the near-repeat extent."""
    from geo.near_repeat import knox_test, near_repeat_extent

    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations > MAX_PERMUTATIONS:
        raise GeoInputError(message("store.evaluation.permutations_range", maximum=MAX_PERMUTATIONS,
                                    value=repr(permutations)))
    located = _located(session, viewer, period.start, period.end + timedelta(days=1), categories=categories,
                       district_code=district_code)
    base = {"period": _period_json(period), "categories": categories, "district": district_code or None,
            "n_withheld": located.withheld, "n_events": located.size, "permutations": permutations, "seed": seed}
    if located.size < 3:
        return {**base, "rows": [], "extent": None, "n_pairs": 0,
                "note": "fewer than 3 located incidents: no pairs to test"}
    result = knox_test(located.x, located.y, located.day, space_bands, time_bands, permutations=permutations,
                       seed=seed)
    extent = near_repeat_extent(result)
    return {**base, "rows": result.rows(), "n_pairs": result.n_pairs,
            "space_bands": list(result.params["space_bands"]), "time_bands": list(result.params["time_bands"]),
            "extent": None if extent is None else {"metres": extent[0], "days": extent[1]},
            "method": result.params["method"]}


# --- forecast -----------------------------------------------------------------------------------------------
def _month_after(day: date) -> date:
    """``day`` plus one calendar month; from a month's last day, the next month's last day."""
    stamp = pd.Timestamp(day)
    if stamp.is_month_end:
        return (stamp + pd.offsets.MonthEnd(1)).date()
    return (stamp + pd.DateOffset(months=1)).date()


def _month_before(day: date) -> date:
    """``day`` minus one calendar month; from a month's last day, the previous month's last day."""
    stamp = pd.Timestamp(day)
    if stamp.is_month_end:
        return (stamp - pd.offsets.MonthEnd(1)).date()
    return (stamp - pd.DateOffset(months=1)).date()


def forecast(session, viewer, *, as_of: date | None = None, categories=None, district_code=None,
             cell_size=FORECAST_CELL_SIZE_M, space_bandwidth_m=None, time_bandwidth_days=None, share=TOP_SHARE,
             grid=None) -> dict:
    """Prospective hot spots for the month after ``as_of`` (default: the end of the data), with measured accuracy.

    Bandwidths default to the near-repeat extent of the twelve months before ``as_of`` (a significant Knox
    cell at 0–first band) or else Bowers, Johnson & Pease's 400 m and 60 days. The forecast is scored by PAI on
    the following month when those incidents exist; the same forecast made one month earlier is always scored
    on the month up to ``as_of`` (``backtest``), so the page can state its measured accuracy.
    """
    from geo.accuracy import score_hotspots, top_share
    from geo.periods import range_period

    through = data_through(session)
    if through is None:
        raise GeoInputError(message("store.evaluation.nothing_to_forecast"))
    as_of = as_of or through
    if not 250 <= float(cell_size) <= 5000:
        raise GeoInputError(message("store.evaluation.cell_size_range", cell_size=repr(cell_size)))
    if not 0 < float(share) <= 0.5:
        raise GeoInputError(message("store.evaluation.share_range", share=repr(share)))
    kwargs = {"categories": categories, "district_code": district_code}
    bandwidth_source = "chosen"
    if space_bandwidth_m is None or time_bandwidth_days is None:
        year_before = range_period(as_of - timedelta(days=364), as_of)
        repeats = near_repeats(session, viewer, year_before, permutations=199, **kwargs)
        extent = repeats.get("extent")
        if extent:
            space_bandwidth_m = space_bandwidth_m or extent["metres"]
            time_bandwidth_days = time_bandwidth_days or extent["days"]
            bandwidth_source = "near_repeat"
        else:
            bandwidth_source = "bowers_johnson_pease_2004"
    if grid is None:
        grid, areas = _grid(session, district_code, cell_size)
    else:
        import shapely

        areas = shapely.area(grid.geometry)
    horizon_days = 366
    history = _located(session, viewer, as_of - timedelta(days=horizon_days), _month_after(as_of) + timedelta(days=1),
                       **kwargs)

    def run(origin: date, horizon_end: date):
        past = history.day <= np.datetime64(origin)
        located = Located(history.x[past], history.y[past], history.day[past], history.category[past], 0)
        surface, params = _surface(grid, located, origin, space_bandwidth_m, time_bandwidth_days)
        flagged = top_share(surface.risk, areas, share)
        following = (history.day > np.datetime64(origin)) & (history.day <= np.datetime64(horizon_end))
        score = None
        if origin < through:
            counts = np.zeros(grid.n_cells)
            if following.any():
                from geo.grid import bin_points

                counts = bin_points(grid, history.x[following], history.y[following]).counts.astype(float)
            s = score_hotspots(flagged, counts, areas)
            score = {"pai": s.pai, "hit_rate": s.hit_rate, "area_share": s.area_share, "n": s.n, "N": s.N,
                     "pei": s.pei, "complete": horizon_end <= through,
                     "test": {"start": (origin + timedelta(days=1)).isoformat(),
                              "end": min(horizon_end, through).isoformat()}}
        return surface, flagged, params, score

    surface, flagged, params, score = run(as_of, _month_after(as_of))
    previous = _month_before(as_of)
    _s, _f, _p, backtest = run(previous, as_of)
    return {
        "as_of": as_of.isoformat(), "horizon": {"start": (as_of + timedelta(days=1)).isoformat(),
                                                "end": _month_after(as_of).isoformat()},
        "cell_size_m": float(cell_size), "share": float(share), "categories": categories,
        "district": district_code or None, **params, "bandwidth_source": bandwidth_source,
        "n_events": surface.n_events, "n_withheld": history.withheld, "n_cells": grid.n_cells,
        "n_flagged": int(flagged.sum()), "score": score, "backtest": {"as_of": previous.isoformat(), **(backtest or {})},
        "method": "Bowers, Johnson & Pease (2004) prospective hot-spotting",
        "_grid": grid, "_risk": surface.risk, "_flagged": flagged,
    }


def forecast_features(result: dict) -> dict:
    """GeoJSON FeatureCollection (EPSG:4326) of the flagged forecast cells with their risk and rank."""
    import geopandas as gpd

    grid, risk, flagged = result["_grid"], result["_risk"], result["_flagged"]
    idx = np.flatnonzero(flagged)
    order = idx[np.argsort(-risk[idx], kind="stable")]
    frame = gpd.GeoDataFrame({"cell_id": order, "risk": np.round(risk[order], 6),
                              "rank": np.arange(1, order.size + 1)}, geometry=grid.geometry[order],
                             crs=grid.crs).to_crs("EPSG:4326")
    collection = json.loads(frame.to_json(drop_id=True))
    collection["properties"] = public(result)
    return collection


def public(result: dict) -> dict:
    """The JSON-safe part of a :func:`forecast` result (no grid or arrays)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def corridor_patrol_ranking(session, viewer, geometry, *, as_of: date | None = None, categories=None) -> dict:
    """5 km corridor segments ranked by next month's forecast risk (cells within the corridor bands)."""
    from geo.corridor_geometry import assign_corridor
    from geo.grid import make_grid
    from geo.prospective import rank_segments
    from geo.taxonomy import BORDER_CORRIDOR_CATEGORIES

    categories = categories or sorted(BORDER_CORRIDOR_CATEGORIES)
    corridor_area = geometry.bands.geometry.union_all()
    grid = make_grid(corridor_area, float(FORECAST_CELL_SIZE_M), "hex")
    result = forecast(session, viewer, as_of=as_of, categories=categories, grid=grid,
                      cell_size=FORECAST_CELL_SIZE_M)
    assigned = assign_corridor(grid.x, grid.y, geometry.border_line, geometry.segments,
                               _no_gates(), geometry.edges_m, province_polygon=geometry.province)
    inside = (assigned["band"] >= 0).to_numpy()
    segments = geometry.segments
    ranking = rank_segments(result["_risk"][inside], assigned["segment_id"].to_numpy()[inside],
                            segments["segment_id"].to_numpy(), segments["length_km"].to_numpy())
    labels = dict(zip(segments["segment_id"], segments["label"]))
    spans = {int(r.segment_id): (float(r.from_km), float(r.to_km)) for r in segments.itertuples()}
    for row in ranking:
        row["label"] = labels[row["segment_id"]]
        row["from_km"], row["to_km"] = spans[int(row["segment_id"])]
    return {**public(result), "segments": ranking}


def _no_gates():
    import geopandas as gpd

    from geo.crs import METRIC_CRS

    return gpd.GeoDataFrame({"name": []}, geometry=[], crs=METRIC_CRS)


__all__ = ["ACCURACY_METHODS", "METHOD_LABELS", "NEAR_REPEAT_SELECTIONS", "corridor_patrol_ranking", "data_through",
           "district_communes",
           "forecast", "forecast_features", "hotspot_accuracy", "intervention_date", "key_area_displacement",
           "last_complete_quarters", "near_repeats", "public"]
