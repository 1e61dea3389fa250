"""The Prey Veng border corridor built from the store: cached geometry, incidents assigned, statistics.

The geometry (border line, Prey Veng, province outline, bands, segments, border communes) depends only on
the active boundary set, the data files and the band/segment configuration, so it is built once per such
key and kept in a small process-wide cache; gates (a few editable rows) and incidents are read per call.
The web page and the ``corridor-stats`` command both go through :func:`corridor_analysis`, so the page and
the batch file agree.

Confidential cases: incidents come from :func:`store.incidents.incident_frame` with the caller's viewer.
Redacted rows (no coordinates for this viewer) are never assigned a band, segment or gate; those whose
commune lies in the corridor are counted apart, by category and commune only (``withheld``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import VECTOR_ENGINE
from geo import corridor_geometry as C
from geo import corridor_statistics as CS
from geo.crs import METRIC_CRS, lonlat_to_metric, to_metric
from geo.errors import GeoInputError
from geo.taxonomy import BORDER_CORRIDOR_CATEGORIES, CATEGORIES
from store.boundaries import active_boundary_set, communes_frame, get_boundary_set
from store.gates import GateGeometry, gates_frame, list_gates
from translations import message

BORDER_FILE = "boundaries/cambodia_vietnam_border_dong_thap.geojson"
PREY_VENG_FILE = "boundaries/prey_veng_province.geojson"
#: Segment lengths offered (km): at least 3 segments on the 48 km border, so Gi* has neighbours.
SEGMENT_LENGTHS_KM = (1.0, 2.0, 2.5, 5.0, 10.0)
MAX_OUTER_EDGE_M = 30_000.0
MAX_BANDS = 6
_CACHE_SIZE = 12

STAT_COLUMNS = ["dimension", "key", "label", "year", "period", "previous_period", "count", "previous_count", "change",
                "change_pct", "ratio_low", "ratio_high", "p_value", "per_km", "gi_z", "gi_p", "gi_bin"]


@dataclass(frozen=True)
class CorridorGeometry:
    """Everything about the corridor that does not change with incidents or gates (EPSG:32648)."""

    key: tuple
    border_line: gpd.GeoDataFrame
    prey_veng: gpd.GeoDataFrame | None
    province: object  # shapely (Multi)Polygon
    bands: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    border_communes: gpd.GeoDataFrame
    communes_in_bands: gpd.GeoDataFrame
    edges_m: tuple[float, ...]
    segment_length_m: float
    boundary_set: str = ""

    @property
    def border_commune_codes(self) -> frozenset[str]:
        return frozenset(str(c) for c in self.border_communes["commune_code"])

    @property
    def border_district_codes(self) -> frozenset[str]:
        return frozenset(str(c) for c in self.border_communes["district_code"] if c)

    @property
    def corridor_commune_codes(self) -> frozenset[str]:
        return frozenset(str(c) for c in self.communes_in_bands["commune_code"])

    def gate_geometry(self) -> GateGeometry:
        return GateGeometry(border_line=self.border_line.geometry.iloc[0], province=self.province)


_CACHE: OrderedDict = OrderedDict()
_LOCK = threading.Lock()


def check_configuration(edges_m, segment_length_m) -> tuple[tuple[float, ...], float]:
    """Validate band edges (``geo.corridor_geometry.validate_edges`` plus limits that bound the cache) and segment
    length."""
    edges = C.validate_edges(edges_m)
    if len(edges) - 1 > MAX_BANDS or edges[-1] > MAX_OUTER_EDGE_M:
        raise GeoInputError(message("store.corridor.edges_m", received=repr(list(edges_m)), bands=MAX_BANDS,
                                    outer_m=int(MAX_OUTER_EDGE_M)))
    try:
        length = float(segment_length_m)
    except (TypeError, ValueError):
        length = float("nan")
    if length / 1000.0 not in SEGMENT_LENGTHS_KM:
        raise GeoInputError(message("store.corridor.segment_length_m", received=repr(segment_length_m),
                                    allowed=", ".join(str(int(k * 1000)) for k in SEGMENT_LENGTHS_KM)))
    return tuple(float(e) for e in edges), length


def corridor_geometry(session, data_dir, *, edges_m=C.DEFAULT_EDGES_M,
                      segment_length_m: float = C.DEFAULT_SEGMENT_LENGTH_M,
                      boundary_set: str | None = None) -> CorridorGeometry:
    """The corridor geometry on one boundary set (default: in force today), cached per set, files and
    configuration. The border communes follow the set: the province outline changed on 01/07/2025.

    Raises
    ------
    GeoInputError
        When no boundaries are loaded, or neither the border file nor Prey Veng (to derive it) exists.
    """
    edges, length = check_configuration(edges_m, segment_length_m)
    active = active_boundary_set(session) if boundary_set is None else get_boundary_set(session, boundary_set)
    if active is None:
        raise GeoInputError(message("store.no_boundary_set_loaded"))
    data_dir = Path(data_dir)
    files = tuple(_stamp(data_dir / name) for name in (BORDER_FILE, PREY_VENG_FILE))
    key = (str(session.get_bind().url), active.id, active.version, str(active.loaded_at), files, edges, length)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    geometry = _build(key, communes_frame(session, active.version), data_dir, edges, length)
    with _LOCK:
        _CACHE[key] = geometry
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return geometry


def _stamp(path: Path):
    return (str(path), path.stat().st_mtime_ns) if path.is_file() else (str(path), None)


def _build(key, communes: gpd.GeoDataFrame, data_dir: Path, edges, length) -> CorridorGeometry:
    metric_communes = to_metric(communes)
    province = shapely.make_valid(metric_communes.union_all())
    prey_path, border_path = data_dir / PREY_VENG_FILE, data_dir / BORDER_FILE
    prey_veng = None
    if prey_path.is_file():
        raw = gpd.read_file(prey_path, engine=VECTOR_ENGINE)
        prey_veng = to_metric(raw if raw.crs is not None else raw.set_crs("EPSG:4326"))[["name", "geometry"]]
    if border_path.is_file():
        border = C.read_border_line(border_path)
    elif prey_veng is not None:
        border = C.derive_border_line(province, prey_veng)
    else:
        raise GeoInputError(message("store.corridor.no_border_file", border=repr(str(border_path)),
                                    prey_veng=repr(str(prey_path))))
    bands = C.corridor_bands(border, province, edges)
    segments = C.border_segments(border, length)
    touching = C.border_communes(metric_communes, border)
    in_bands = C.communes_in_bands(metric_communes, bands)
    return CorridorGeometry(key=key, border_line=border, prey_veng=prey_veng, province=province, bands=bands,
                            segments=segments, border_communes=touching, communes_in_bands=in_bands,
                            edges_m=edges, segment_length_m=length, boundary_set=communes.attrs.get("version", ""))


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


# ------------------------------------------------------------------------------------------ analysis


@dataclass
class CorridorResult:
    """Incidents of the corridor for one year and their statistics, as one viewer may see them."""

    geometry: CorridorGeometry
    year: int
    categories: list[str]
    gates: gpd.GeoDataFrame          # placed gates, EPSG:32648
    unplaced_gates: list[str]
    points: pd.DataFrame             # located incidents of ``year`` in the corridor, with their assignment
    withheld: pd.DataFrame           # redacted incidents of ``year`` in corridor communes (no location)
    withheld_previous: int
    statistics: pd.DataFrame         # long table, STAT_COLUMNS
    hotspot: pd.DataFrame            # linear Gi* of the segments (``year``)
    compared_until: date | None = None  # data end inside the period: both spans are cut at this calendar date
    span: object = None                 # geo.periods.Period compared (cut at the data-through date)
    baseline: object = None             # geo.periods.Period: the same calendar span of the baseline year

    @property
    def withheld_count(self) -> int:
        return len(self.withheld)


def corridor_analysis(session, geometry: CorridorGeometry, *, year: int | None = None, categories=None, viewer=None,
                      same_span: bool = True, period=None, baseline_year: int | None = None) -> CorridorResult:
    """Assign the incidents of a period and of its baseline to the corridor and summarise them.

    Parameters
    ----------
    year : int, optional
        A calendar year (the period ``YYYY-CY``), compared with the year before.
    period : geo.periods.Period, optional
        Any period of the one period model instead of ``year``.
    baseline_year : int, optional
        Compared with the same calendar span of this year (default the year before the period's).
    categories : iterable of str, optional
        Border-corridor category codes (default: all of :data:`geo.taxonomy.BORDER_CORRIDOR_CATEGORIES`).
    viewer : user or None
        Passed to :func:`store.incidents.incident_frame`; ``None`` sees no exact point of a sensitive case.
    same_span : bool
        When the data end inside ``year`` (the latest incident of any category is before 31 December), compare
        with the same span of the previous year (1 January to the same day), not with the whole of it: three
        months against twelve would read as a fall of three quarters.
    """
    from store.incidents import incident_frame

    codes = sorted(BORDER_CORRIDOR_CATEGORIES) if not categories else sorted(categories)
    unknown = [c for c in codes if c not in BORDER_CORRIDOR_CATEGORIES]
    if unknown:
        raise GeoInputError(message("store.corridor.categories", received=repr(unknown),
                                    allowed=", ".join(sorted(BORDER_CORRIDOR_CATEGORIES))))
    gates = gates_frame(session)
    unplaced = [g.name for g in list_gates(session) if not g.placed]
    from geo.periods import PeriodNotCovered, calendar_year_period, like_for_like

    if period is None:
        if year is None:
            raise GeoInputError(message("store.corridor.year_or_period"))
        period = calendar_year_period(int(year))
    year = period.reference_year
    last = _last_incident_day(session) if same_span else None
    try:
        pair = like_for_like(period, baseline_year, data_through=last if last and last < period.end else None)
    except PeriodNotCovered:  # no data in the period at all: nothing to cut, every count is zero
        pair = like_for_like(period, baseline_year)
    span, base = pair.span, pair.baseline
    compared_until = span.data_through if span.data_through and span.data_through < period.end else None
    frame = incident_frame(session, start=base.start_at, end=span.end_before, categories=codes, viewer=viewer,
                           boundary_set=geometry.boundary_set or None)
    occurred = pd.to_datetime(frame["occurred_at"])
    in_span = (occurred >= span.start_at) & (occurred < span.end_before)
    in_base = (occurred >= base.start_at) & (occurred < base.end_before)
    frame = frame[in_span | in_base].reset_index(drop=True)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    located = np.isfinite(lon) & np.isfinite(lat) & ~frame["redacted"].astype(bool).to_numpy()
    seen = frame[located].reset_index(drop=True)
    x, y = lonlat_to_metric(lon[located], lat[located]) if located.any() else (np.zeros(0), np.zeros(0))
    assignment = C.assign_corridor(x, y, geometry.border_line, geometry.segments, gates, geometry.edges_m,
                                   province_polygon=geometry.province)
    assigned = pd.concat([seen, assignment], axis=1)
    assigned["occurred_on"] = pd.to_datetime(assigned["occurred_at"])
    statistics = CS.corridor_statistics(assigned, year=year, categories=codes, bands=geometry.bands,
                                        segments=geometry.segments, gates=gates, span=(span.start, span.end),
                                        baseline_span=(base.start, base.end))
    this_year = (assigned["occurred_on"] >= span.start_at) & (assigned["occurred_on"] < span.end_before)
    points = assigned[this_year & (assigned["band"] >= 0)].reset_index(drop=True)

    seg_stats = statistics[statistics["dimension"] == "segment"]
    segments = geometry.segments.sort_values("from_km")
    counts = seg_stats.set_index("key")["count"].reindex([str(s) for s in segments["segment_id"]]).fillna(0)
    hotspot = CS.linear_hotspot(counts.to_numpy(), segments["length_km"].to_numpy(),
                                segment_ids=segments["segment_id"].to_numpy()) if len(segments) >= 3 else \
        pd.DataFrame(columns=["segment_id", "count", "length_km", "per_km", "gi_z", "gi_p", "gi_bin"])
    statistics = _with_hotspot(statistics, hotspot)

    redacted = frame[~located]
    in_corridor = redacted["commune_code"].astype(str).isin(geometry.corridor_commune_codes)
    redacted_at = pd.to_datetime(redacted["occurred_at"])
    # year label of each withheld case: the period's year or, for the baseline span, the year before
    when = pd.Series(np.where(redacted_at >= span.start_at, year, year - 1), index=redacted.index)
    withheld = redacted[in_corridor & (when == year)][["id", "category", "commune_code", "district_code"]]
    withheld_previous = int((in_corridor & (when == year - 1)).sum())
    if len(redacted[in_corridor]):
        statistics = _count_withheld(statistics, redacted[in_corridor], when[in_corridor], year,
                                     span.start, base.start)
        statistics = pd.concat([statistics, _withheld_rows(redacted[in_corridor], when[in_corridor], year, geometry)],
                               ignore_index=True)
    statistics["period"] = f"{span.start.isoformat()}/{span.end.isoformat()}"
    statistics["previous_period"] = f"{base.start.isoformat()}/{base.end.isoformat()}"
    return CorridorResult(geometry=geometry, year=year, categories=codes, gates=gates, unplaced_gates=unplaced,
                          points=points, withheld=withheld.reset_index(drop=True), withheld_previous=withheld_previous,
                          statistics=statistics[STAT_COLUMNS], hotspot=hotspot, compared_until=compared_until,
                          span=span, baseline=base)


def _last_incident_day(session) -> date | None:
    """The day of the latest incident of any category (the data-through date)."""
    from sqlalchemy import func, select

    from store.models import Incident

    last = session.scalar(select(func.max(Incident.occurred_at)))
    return last.date() if last is not None else None


def _count_withheld(statistics: pd.DataFrame, redacted: pd.DataFrame, years: pd.Series, year: int,
                    span_start: date, baseline_start: date) -> pd.DataFrame:
    """Confidential cases of corridor communes counted in the ``total``, ``category`` and ``month`` rows
    (their category and date are known, their place is not), so the table by category keeps counts whole.
    Only the location breakdowns — bands, segments, gates — leave them out, and the page says so."""
    out = statistics.copy()
    categories = redacted["category"].astype(str)
    occurred = pd.to_datetime(redacted["occurred_at"])
    current = (years == year).to_numpy()
    # a month of the baseline counts against the month as far from the period's start
    offset = (occurred.dt.year - np.where(current, span_start.year, baseline_start.year)) * 12 + \
        occurred.dt.month - np.where(current, span_start.month, baseline_start.month)
    first = pd.Period(span_start, freq="M")
    month_keys = pd.Series([f"{(first + int(k)).year}-{(first + int(k)).month:02d}" for k in offset],
                           index=redacted.index, dtype=object)
    changed = pd.Series(False, index=out.index)
    for dimension, keys in (("category", categories), ("month", month_keys)):
        now, before = keys[current].value_counts(), keys[~current].value_counts()
        rows = out["dimension"] == dimension
        out.loc[rows, "count"] += out.loc[rows, "key"].map(now).fillna(0).astype(np.int64).to_numpy()
        out.loc[rows, "previous_count"] += out.loc[rows, "key"].map(before).fillna(0).astype(np.int64).to_numpy()
        changed |= rows
    total = out["dimension"] == "total"
    out.loc[total, "count"] += int(current.sum())
    out.loc[total, "previous_count"] += int((~current).sum())
    changed |= total
    recomputed = CS.yearly_change(out.loc[changed, "count"].to_numpy(), out.loc[changed, "previous_count"].to_numpy())
    for column in recomputed.columns:
        out.loc[changed, column] = recomputed[column].to_numpy()
    return out


def _with_hotspot(statistics: pd.DataFrame, hotspot: pd.DataFrame) -> pd.DataFrame:
    out = statistics.copy()
    for column in ("per_km", "gi_z", "gi_p", "gi_bin"):
        out[column] = np.nan
    if len(hotspot):
        by_key = hotspot.assign(key=hotspot["segment_id"].astype(str)).set_index("key")
        rows = out["dimension"] == "segment"
        for column in ("per_km", "gi_z", "gi_p", "gi_bin"):
            out.loc[rows, column] = out.loc[rows, "key"].map(by_key[column]).astype(float).to_numpy()
    return out


def _withheld_rows(redacted: pd.DataFrame, years: pd.Series, year: int, geometry: CorridorGeometry) -> pd.DataFrame:
    """Counts of withheld (located-for-nobody-here) cases by category and by commune, with yearly change."""
    names = dict(zip(geometry.communes_in_bands["commune_code"].astype(str),
                     geometry.communes_in_bands["commune_name"]))
    tables = []
    for dimension, column, label in (("withheld_category", "category",
                                      lambda c: CATEGORIES[c].label_vi if c in CATEGORIES else c),
                                     ("withheld_commune", "commune_code", lambda c: names.get(c, c))):
        values = redacted[column].astype(str)
        keys = sorted(values.unique())
        current = values[years == year].value_counts().reindex(keys, fill_value=0).to_numpy()
        previous = values[years == year - 1].value_counts().reindex(keys, fill_value=0).to_numpy()
        frame = pd.DataFrame({"dimension": dimension, "key": keys, "label": [label(k) for k in keys],
                              "year": int(year), "count": current.astype(np.int64),
                              "previous_count": previous.astype(np.int64)})
        tables.append(pd.concat([frame, CS.yearly_change(current, previous)], axis=1))
    out = pd.concat(tables, ignore_index=True)
    for column in ("per_km", "gi_z", "gi_p", "gi_bin"):
        out[column] = np.nan
    return out


def corridor_features(result: CorridorResult) -> dict[str, gpd.GeoDataFrame]:
    """The exportable layers in EPSG:4326: border, bands, segments (with counts and Gi*), gates, incidents.

    ``incidents`` holds only located, non-redacted incidents in the corridor (see :func:`corridor_analysis`).
    """
    g = result.geometry
    border = g.border_line[["id", "name", "length_m", "geometry"]].copy()
    bands = g.bands[["band", "label", "inner_m", "outer_m", "area_km2", "geometry"]].copy()
    segments = g.segments.merge(result.hotspot[["segment_id", "count", "per_km", "gi_z", "gi_p", "gi_bin"]],
                                on="segment_id", how="left") if len(result.hotspot) else g.segments.copy()
    gates = result.gates[["name", "gate_class", "gate_class_label", "mode", "commune_name", "approximate",
                          "uncertainty_m", "geometry"]].copy()
    pts = result.points
    incidents = gpd.GeoDataFrame(
        {"id": pts["id"].astype(str), "occurred_at": pd.to_datetime(pts["occurred_at"]).dt.strftime("%Y-%m-%d"),
         "category": pts["category"].astype(str), "severity": pts["severity"].astype(str),
         "commune_code": pts["commune_code"].astype(str), "band": pts["band"].astype(int),
         "segment_id": pts["segment_id"].astype(int), "distance_m": pts["distance_m"].round(0),
         "gate": pts["gate"].astype(object), "gate_distance_m": pts["gate_distance_m"].round(0)},
        geometry=gpd.points_from_xy(pts["lon"].astype(float), pts["lat"].astype(float)), crs="EPSG:4326")
    layers = {"border": border, "bands": bands, "segments": segments, "gates": gates}
    out = {name: frame.set_crs(METRIC_CRS, allow_override=True).to_crs("EPSG:4326") if frame.crs is None
           else frame.to_crs("EPSG:4326") for name, frame in layers.items()}
    out["incidents"] = incidents
    return out
