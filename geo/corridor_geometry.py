"""The Prey Veng border corridor's geometry: border line, distance bands, border segments, gates, distances.

Border guards look at what happens along the Đồng Tháp – Prey Veng (Cambodia) border. This module turns the
border line into distance bands clipped to the province, cuts it into segments of fixed length and assigns
every incident its distance to the border, band, nearest segment, chainage and nearest gate;
:mod:`geo.corridor_statistics` summarises those assignments.

Conventions
-----------
* Every geometry returned is in the metric CRS :data:`geo.crs.METRIC_CRS` (EPSG:32648, UTM 48N); use
  :func:`geo.crs.to_wgs84` for display. Bare shapely geometries passed in must already be in metres.
* The border line is oriented from its western end to its eastern end (for the Đồng Tháp stretch: from the
  Tiền river entry at Thường Phước to the Long An tri-point), and chainage (``along_km``, ``from_km``,
  ``to_km``) is measured from the western end.
* Band edges: band *i* holds the points with ``edges[i] < distance <= edges[i + 1]``; the first band also
  holds ``distance == edges[0]``. A point exactly on an edge therefore belongs to the **inner** band, so that
  "0–2 km" means "within 2 km" (the closed buffer of 2 km), and a point exactly at the outermost edge is still
  in the corridor. Points outside the province polygon (the Cambodian side, or a neighbouring Vietnamese
  province beyond the line's ends) are never in the corridor: their band is ``-1``.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon, MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo import VECTOR_ENGINE
from geo.crs import METRIC_CRS, require_metres, to_metric
from geo.errors import GeoInputError
from translations import CatalogTable, format_number, message, translate

BORDER_LINE_ID = "vn_side_from_communes"
"""``id`` of the Vietnamese-side line in ``cambodia_vietnam_border_dong_thap.geojson`` (consistent with the
commune polygons; the other line, ``kh_side_from_osm``, follows OpenStreetMap's Prey Veng outline)."""

DEFAULT_EDGES_M = (0.0, 2000.0, 5000.0, 10000.0)
DEFAULT_SEGMENT_LENGTH_M = 5000.0
DEFAULT_SHARED_EDGE_TOLERANCE_M = 300.0
"""Largest offset between the Vietnamese-side and Cambodian-side outlines measured along this border
(286 m, data/boundaries PROVENANCE.md §3): edges closer than this are treated as shared."""

GATE_CLASSES = ("international", "main", "secondary")
#: Gate class labels, (vi, en) from the catalogs (``geo.corridor.gate_class.*``).
GATE_CLASS_LABELS = CatalogTable("geo.corridor.gate_class")
GATE_CLASS_LABELS_VI = {code: GATE_CLASS_LABELS[code][0] for code in GATE_CLASSES}

_CHUNK = 1 << 18


# --------------------------------------------------------------------------------------------- inputs


def _as_metric_geometry(obj, what: str) -> BaseGeometry:
    """Return one shapely geometry in metres from a GeoDataFrame/GeoSeries (any CRS) or a metric geometry."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(obj) == 0:
            raise GeoInputError(message("geo.corridor_geometry.received_empty_layer_least", what=what))
        series = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        geom = to_metric(series).union_all()
    elif isinstance(obj, BaseGeometry):
        geom = obj
        coords = shapely.get_coordinates(geom)
        if len(coords):
            require_metres(coords[:, 0], coords[:, 1], what)
    else:
        raise GeoInputError(
            message("geo.corridor_geometry.received_allowed_geodataframe_geoseries", what=what,
                    type_name=type(obj).__name__, metric_crs=METRIC_CRS)
        )
    if geom is None or geom.is_empty:
        raise GeoInputError(message("geo.corridor_geometry.geometry_empty", what=what))
    return geom


def _as_metric_line(border_line) -> LineString:
    geom = _as_metric_geometry(border_line, "border_line")
    if isinstance(geom, MultiLineString):
        geom = shapely.line_merge(geom)
    if not isinstance(geom, LineString):
        raise GeoInputError(
            message("geo.corridor_geometry.border_line_received_that", geom_geom_type=geom.geom_type)
        )
    if not geom.length > 0:
        raise GeoInputError(message("geo.corridor_geometry.border_line_received_line"))
    return geom


def _as_metric_area(polygon, what: str) -> BaseGeometry:
    geom = _as_metric_geometry(polygon, what)
    if not isinstance(geom, (Polygon, MultiPolygon)):
        raise GeoInputError(message("geo.corridor_geometry.received_allowed_polygon_multipolygon", what=what,
                                    geom_geom_type=geom.geom_type))
    return geom


def _west_to_east(line: LineString) -> LineString:
    coords = np.asarray(line.coords)
    return LineString(coords[::-1]) if coords[0, 0] > coords[-1, 0] else line


def validate_edges(edges_m) -> np.ndarray:
    """Check band edges in metres: at least two finite values, non-negative and strictly increasing.

    Raises
    ------
    GeoInputError
        Naming ``edges_m``, the value received and what is allowed.
    """
    try:
        edges = np.asarray(edges_m, dtype=float).ravel()
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.corridor_geometry.edges_m_received_allowed_5", edges_m=edges_m)) from None
    if edges.size < 2:
        raise GeoInputError(message("geo.corridor_geometry.edges_m_received_allowed", edges_m=list(edges_m)))
    if not np.all(np.isfinite(edges)):
        raise GeoInputError(message("geo.corridor_geometry.edges_m_received_allowed_2", edges_m=list(edges_m)))
    if edges[0] < 0:
        raise GeoInputError(message("geo.corridor_geometry.edges_m_received_allowed_3", edges_m=list(edges_m)))
    if np.any(np.diff(edges) <= 0):
        raise GeoInputError(message("geo.corridor_geometry.edges_m_received_allowed_4", edges_m=list(edges_m)))
    return edges


def _km_text(metres: float) -> str:
    km = metres / 1000.0
    text = f"{km:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")  # Vietnamese decimal comma


def segment_label(segment_id: int, from_km: float, to_km: float, lang: str = "vi") -> str:
    """``Đoạn 3 (10–15 km)`` / ``Segment 3 (10–15 km)``: a border segment by its number and chainage."""
    return translate("corridor.segment_label", lang, n=int(segment_id),
                     start=format_number(from_km, lang, 3, trim=True), end=format_number(to_km, lang, 3, trim=True))


def band_label(inner_m: float, outer_m: float) -> str:
    """Label of a band for users, e.g. ``"0–2 km"`` or ``"2,5–5 km"`` (Vietnamese decimal comma)."""
    return f"{_km_text(inner_m)}–{_km_text(outer_m)} km"


# --------------------------------------------------------------------------------------------- files


def _read(path, what: str) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.is_file():
        raise GeoInputError(message("geo.corridor_geometry.file_does_exist_allowed", what=what, path=str(path)))
    try:
        gdf = gpd.read_file(path, engine=VECTOR_ENGINE)
    except Exception as exc:  # fiona/GDAL raise several error types for unreadable files
        raise GeoInputError(message("geo.corridor_geometry.could_read_vector_file", what=what, path=str(path),
                                    exc=exc)) from exc
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON without a crs member is WGS 84
    return gdf


def read_border_line(path, line_id: str = BORDER_LINE_ID) -> gpd.GeoDataFrame:
    """Read one border line from ``cambodia_vietnam_border_dong_thap.geojson``.

    Parameters
    ----------
    path : str or Path
        GeoJSON with LineStrings named by the ``id`` property (``vn_side_from_communes``,
        ``kh_side_from_osm``).
    line_id : str
        Which line to use. The default Vietnamese-side line is the one consistent with the commune polygons
        (data/boundaries PROVENANCE.md §3), so communes and bands clipped to the province touch it exactly.

    Returns
    -------
    GeoDataFrame
        One row in EPSG:32648 with ``id``, ``name``, ``length_m`` (computed) and the line oriented west to east.
    """
    gdf = _read(path, "path")
    if "id" not in gdf.columns:
        raise GeoInputError(message("geo.corridor_geometry.path_id_property_naming", path=str(path),
                                    gdf_columns=list(gdf.columns)))
    ids = [str(v) for v in gdf["id"]]
    if line_id not in ids:
        raise GeoInputError(message("geo.corridor_geometry.line_id_received_allowed", line_id=line_id, ids=ids))
    row = gdf[gdf["id"].astype(str) == line_id]
    line = _as_metric_line(to_metric(row.geometry))
    line = _west_to_east(line)
    name = str(row["name"].iloc[0]) if "name" in row.columns else line_id
    return gpd.GeoDataFrame(
        {"id": [line_id], "name": [name], "length_m": [line.length]}, geometry=[line], crs=METRIC_CRS
    )


def _gate_class(text) -> str:
    """Map the gate class wording of the source (English or Vietnamese) to international/main/secondary.

    The leading term decides (``"national …; listed as auxiliary in 2017"`` is a main gate today).
    """
    t = str(text or "").strip().lower()
    rules = (
        ("international", ("international", "quốc tế", "quoc te")),
        ("main", ("national", "main", "quốc gia", "quoc gia", "chính", "chinh", "song phương")),
        ("secondary", ("auxiliary", "secondary", "phụ", "phu", "lối mở", "crossing")),
    )
    best, best_pos = None, math.inf
    for cls, words in rules:
        for word in words:
            pos = t.find(word)
            if pos != -1 and pos < best_pos:
                best, best_pos = cls, pos
    if best is None:
        raise GeoInputError(message("geo.corridor_geometry.gate_class_received_allowed", text=text))
    return best


def read_border_gates(path) -> gpd.GeoDataFrame:
    """Read border gates and crossings as points (``border_gates.geojson``).

    Returns
    -------
    GeoDataFrame
        In EPSG:32648 with ``name``, ``name_en``, ``gate_class`` (``international``/``main``/``secondary``),
        ``gate_class_label`` (Vietnamese), ``gate_class_source`` (the source wording), ``mode``,
        ``counterpart_kh``, ``commune_code``, ``commune_name``, ``district_name``, ``approximate`` (bool),
        ``uncertainty_m``, ``location_method``, ``source``. Missing optional properties become empty values;
        a gate without a class is refused.

    Notes
    -----
    All four gates in the shared data are placed approximately (PROVENANCE.md §4); keep ``approximate`` and
    ``uncertainty_m`` visible wherever a distance to a gate is shown.
    """
    gdf = _read(path, "path")
    if "name" not in gdf.columns:
        raise GeoInputError(message("geo.corridor_geometry.path_name_property_columns", path=str(path),
                                    gdf_columns=list(gdf.columns)))
    bad = [t for t in gdf.geometry.geom_type.unique() if t != "Point"]
    if bad:
        raise GeoInputError(message("geo.corridor_geometry.path_gates_points_received", bad=bad))
    out = pd.DataFrame({"name": gdf["name"].astype(str)})
    for col in ("name_en", "mode", "counterpart_kh", "commune_code", "commune_name", "district_name",
                "location_method", "source"):
        out[col] = gdf[col].astype("string") if col in gdf.columns else pd.Series(pd.NA, index=gdf.index, dtype="string")
    source_class = gdf["gate_class"] if "gate_class" in gdf.columns else pd.Series([None] * len(gdf), index=gdf.index)
    out["gate_class"] = [_gate_class(t) for t in source_class]
    out["gate_class_label"] = out["gate_class"].map(GATE_CLASS_LABELS_VI)
    out["gate_class_source"] = source_class.astype("string")
    out["approximate"] = gdf["approximate"].fillna(True).astype(bool) if "approximate" in gdf.columns else True
    unc = gdf["positional_uncertainty_m"] if "positional_uncertainty_m" in gdf.columns else np.nan
    out["uncertainty_m"] = pd.to_numeric(unc, errors="coerce").astype(float) if not np.isscalar(unc) else np.nan
    return gpd.GeoDataFrame(out, geometry=to_metric(gdf.geometry).values, crs=METRIC_CRS)


# --------------------------------------------------------------------------------------------- border line


def derive_border_line(province_outline, neighbour_polygon, tolerance_m: float = DEFAULT_SHARED_EDGE_TOLERANCE_M,
                       max_gap_m: float = 500.0, step_m: float | None = None) -> gpd.GeoDataFrame:
    """Derive the border as the part of the province outline lying within ``tolerance_m`` of the neighbour.

    Parameters
    ----------
    province_outline, neighbour_polygon : GeoDataFrame, GeoSeries or shapely (Multi)Polygon in metres
        The province (e.g. the dissolved communes) and the neighbouring province (Prey Veng). Layers are
        dissolved and projected to EPSG:32648.
    tolerance_m : float
        Distance within which an outline point counts as shared. Independently digitised outlines do not
        coincide: along this border the Vietnamese and OSM outlines differ by up to 286 m (PROVENANCE.md §3),
        hence the default of 300 m.
    max_gap_m : float
        Runs of shared outline separated by less than this (measured along the outline) are bridged along the
        outline, so a short stretch where the two sources diverge does not break the line.
    step_m : float, optional
        Sampling step along the outline (default ``min(tolerance_m / 4, 25)``); the line's ends are exact to
        within one step.

    Returns
    -------
    GeoDataFrame
        One row in EPSG:32648 (``id="derived_shared_edge"``, ``length_m``), the longest bridged shared run of
        the outline, oriented west to east.

    Notes
    -----
    The outline is sampled densely, each sample is tested with a prepared ``dwithin`` against the neighbour
    (GEOS), runs are found on the circular ring and the result is cut from the original ring with linear
    referencing (``shapely.ops.substring``), so it keeps the outline's own vertices – the same construction as
    the VN-side line of PROVENANCE.md §3, without its trimming at the tri-points.
    """
    from shapely.ops import substring

    for name, value in (("tolerance_m", tolerance_m), ("max_gap_m", max_gap_m)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise GeoInputError(message("geo.corridor_geometry.received_allowed_non_negative", name=name,
                                        value=value))
    if tolerance_m <= 0:
        raise GeoInputError(message("geo.corridor_geometry.tolerance_m_received_allowed", tolerance_m=tolerance_m))
    step = float(step_m) if step_m is not None else min(tolerance_m / 4.0, 25.0)
    if not (math.isfinite(step) and step > 0):
        raise GeoInputError(message("geo.corridor_geometry.step_m_received_allowed", step_m=step_m))
    province = _as_metric_area(province_outline, "province_outline")
    neighbour = _as_metric_area(neighbour_polygon, "neighbour_polygon")
    shapely.prepare(neighbour)

    best = None
    for poly in getattr(province, "geoms", [province]):
        ring = LineString(poly.exterior.coords)
        dense = np.asarray(shapely.segmentize(ring, step).coords)[:-1]  # ring without the closing repeat
        near = shapely.dwithin(neighbour, shapely.points(dense), tolerance_m)
        if not near.any():
            continue
        if near.all():
            raise GeoInputError(message("geo.corridor_geometry.neighbour_polygon_whole_province"))
        # Rotate so the ring starts where a shared run begins: the last samples are then a non-shared run,
        # and the only gap that wraps around the start is the one from the last run back to the first.
        begins = np.flatnonzero(near & ~np.roll(near, 1))
        dense = np.roll(dense, -int(begins[0]), axis=0)
        near = np.roll(near, -int(begins[0]))
        closed = np.vstack([dense, dense, dense[:1]])  # twice round, so a bridged run may cross the seam
        chain = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
        perimeter = chain[len(dense)]
        edges = np.diff(np.concatenate([[0], near.astype(np.int8), [0]]))
        run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        merged = [[chain[run_starts[0]], chain[run_ends[0]]]]
        for i, j in zip(run_starts[1:], run_ends[1:]):
            if chain[i] - merged[-1][1] <= max_gap_m:
                merged[-1][1] = chain[j]
            else:
                merged.append([chain[i], chain[j]])
        if perimeter - merged[-1][1] + merged[0][0] <= max_gap_m:  # the gap across the seam is small too
            if len(merged) == 1:
                raise GeoInputError(message("geo.corridor_geometry.max_gap_m_gaps"))
            merged[-1][1] = merged[0][1] + perimeter
            merged = merged[1:]
        a, b = max(merged, key=lambda r: r[1] - r[0])
        if b - a <= 0:
            continue
        rotated = LineString(closed)
        if best is None or b - a > best.length:
            best = substring(rotated, a, b)
    if best is None or best.is_empty or best.length == 0:
        raise GeoInputError(message("geo.corridor_geometry.tolerance_m_part_province", tolerance_m=tolerance_m))
    line = _west_to_east(best)
    return gpd.GeoDataFrame({"id": ["derived_shared_edge"], "name": ["Đường biên giới (cạnh chung suy ra)"],
                             "length_m": [line.length]}, geometry=[line], crs=METRIC_CRS)


# --------------------------------------------------------------------------------------------- bands, communes, segments


def corridor_bands(border_line, province_polygon, edges_m=DEFAULT_EDGES_M) -> gpd.GeoDataFrame:
    """Distance bands around the border line, clipped to the province.

    Parameters
    ----------
    border_line : GeoDataFrame, GeoSeries or LineString in metres
    province_polygon : GeoDataFrame, GeoSeries or (Multi)Polygon in metres
    edges_m : sequence of float
        Band edges in metres, non-negative and strictly increasing; default 0, 2, 5, 10 km.

    Returns
    -------
    GeoDataFrame
        In EPSG:32648, one row per band: ``band`` (0-based index), ``label`` ("0–2 km"), ``inner_m``,
        ``outer_m``, ``area_km2`` and the polygon (possibly empty when the province lies farther away).

    Notes
    -----
    Band *i* = (buffer(outer) − buffer(inner)) ∩ province, buffers in EPSG:32648 with 32 segments per quarter
    circle (ArcGIS "Multiple Ring Buffer" with the "outside only" rings, clipped). The polygons are for maps
    and commune shares; incident assignment uses exact distances (:func:`assign_corridor`).
    """
    edges = validate_edges(edges_m)
    line = _as_metric_line(border_line)
    province = _as_metric_area(province_polygon, "province_polygon")
    rows, geoms = [], []
    for i, (inner, outer) in enumerate(zip(edges[:-1], edges[1:])):
        ring = line.buffer(outer, quad_segs=32)
        if inner > 0:
            ring = ring.difference(line.buffer(inner, quad_segs=32))
        band = shapely.make_valid(ring.intersection(province))
        if not band.is_empty and band.geom_type == "GeometryCollection":
            band = shapely.union_all([g for g in band.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
        rows.append({"band": i, "label": band_label(inner, outer), "inner_m": float(inner), "outer_m": float(outer),
                     "area_km2": band.area / 1e6})
        geoms.append(band)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)


def communes_in_bands(communes, bands, id_col: str = "commune_code", name_col: str = "commune_name") -> gpd.GeoDataFrame:
    """Communes (pieces) in each corridor band with the area and share of the commune inside the band.

    Returns
    -------
    GeoDataFrame
        In EPSG:32648, one row per (commune, band) that overlap with positive area: ``id_col``, ``name_col``,
        ``band``, ``label``, ``area_km2`` (of the piece), ``share`` (piece area / commune area), geometry.
    """
    for col in (id_col, name_col):
        if col not in communes.columns:
            raise GeoInputError(message("geo.corridor_geometry.column_communes_columns",
                                        value0='id_col' if col == id_col else 'name_col', col=col,
                                        communes_columns=list(communes.columns)))
    for col in ("band", "label"):
        if col not in bands.columns:
            raise GeoInputError(message("geo.corridor_geometry.bands_column_missing_pass", col=col))
    com = to_metric(communes)[[id_col, name_col, "geometry"]].copy()
    com["_commune_area"] = com.geometry.area
    bnd = to_metric(bands)[["band", "label", "geometry"]]
    bnd = bnd[~bnd.geometry.is_empty]
    pieces = gpd.overlay(com, bnd, how="intersection", keep_geom_type=True)
    pieces["area_km2"] = pieces.geometry.area / 1e6
    pieces = pieces[pieces["area_km2"] > 1e-6].copy()
    pieces["share"] = pieces["area_km2"] * 1e6 / pieces["_commune_area"]
    pieces = pieces.drop(columns="_commune_area").sort_values(["band", id_col]).reset_index(drop=True)
    return pieces[[id_col, name_col, "band", "label", "area_km2", "share", "geometry"]]


def border_communes(communes, border_line, tolerance_m: float = DEFAULT_SHARED_EDGE_TOLERANCE_M,
                    min_length_m: float = 100.0, step_m: float = 10.0) -> gpd.GeoDataFrame:
    """Communes that touch the border line, with the length of border each one holds.

    Parameters
    ----------
    tolerance_m : float
        The line is cut into pieces of ``step_m``; each piece goes to the nearest commune within
        ``tolerance_m`` of its midpoint. Pieces are never counted twice, so a generous tolerance (default
        300 m, the largest VN/KH outline offset) also works for the Cambodian-side or a derived line.
    min_length_m : float
        Communes holding less line than this (touching only near a tri-point) are left out.

    Returns
    -------
    GeoDataFrame
        The touching communes in EPSG:32648 with ``border_length_km`` and ``from_km`` (chainage of their
        first piece, west to east), sorted by ``from_km``.
    """
    for name, value in (("tolerance_m", tolerance_m), ("min_length_m", min_length_m)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise GeoInputError(message("geo.corridor_geometry.received_allowed_non_negative", name=name,
                                        value=value))
    if not (isinstance(step_m, (int, float)) and math.isfinite(step_m) and step_m > 0):
        raise GeoInputError(message("geo.corridor_geometry.step_m_received_allowed", step_m=step_m))
    line = _as_metric_line(border_line)
    com = to_metric(communes).reset_index(drop=True)
    cuts = np.append(np.arange(0.0, line.length, step_m), line.length)
    mids = shapely.line_interpolate_point(line, (cuts[:-1] + cuts[1:]) / 2.0)
    pairs = com.sindex.nearest(mids, max_distance=tolerance_m, return_all=False)
    piece, owner = pairs[0], pairs[1]
    length = np.bincount(owner, weights=np.diff(cuts)[piece], minlength=len(com))
    first = np.full(len(com), np.inf)
    np.minimum.at(first, owner, cuts[piece])
    out = com.assign(border_length_km=length / 1000.0, from_km=first / 1000.0)
    out = out[length >= max(min_length_m, 1e-9)]
    return out.sort_values("from_km").reset_index(drop=True)


def border_segments(border_line, length_m: float = DEFAULT_SEGMENT_LENGTH_M) -> gpd.GeoDataFrame:
    """Cut the border line into consecutive segments of ``length_m`` (the last one is shorter).

    Returns
    -------
    GeoDataFrame
        In EPSG:32648: ``segment_id`` (1, 2, … from the western end), ``from_km``, ``to_km``, ``length_km``,
        ``label`` ("Đoạn 1 (0–5 km)") and the piece of line (linear referencing, ``shapely.ops.substring``).
    """
    from shapely.ops import substring

    if not (isinstance(length_m, (int, float)) and math.isfinite(length_m) and length_m > 0):
        raise GeoInputError(message("geo.corridor_geometry.length_m_received_allowed", length_m=length_m))
    line = _as_metric_line(border_line)
    total = line.length
    starts = np.arange(0.0, total, float(length_m))
    if len(starts) > 1 and total - starts[-1] < 1e-6:
        starts = starts[:-1]
    ends = np.append(starts[1:], total)
    rows, geoms = [], []
    for i, (a, b) in enumerate(zip(starts, ends), start=1):
        rows.append({"segment_id": i, "from_km": a / 1000.0, "to_km": b / 1000.0, "length_km": (b - a) / 1000.0,
                     "label": segment_label(i, a / 1000.0, b / 1000.0)})
        geoms.append(substring(line, a, b))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)


# --------------------------------------------------------------------------------------------- assignment


class _NearestOnLine:
    """Exact nearest point on a polyline for many points, via a uniform grid of candidate segments.

    For each grid cell (side ``c``) the candidates are the segments whose distance to the cell centre is at
    most the smallest such distance plus ``c·√2``: for any point of the cell (within ``c·√2/2`` of the centre)
    every other segment is provably farther than the best candidate. Each point is then projected exactly on
    its cell's few candidates. Points outside the grid are compared with every segment (chunked). This is the
    classic "candidate list per cell" acceleration of nearest-segment queries (e.g. Samet, *Foundations of
    Multidimensional and Metric Data Structures*, 2006, §2.2), vectorised with numpy.
    """

    def __init__(self, line: LineString, reach_m: float, max_cells: int = 1 << 16):
        xy = np.asarray(line.coords, dtype=float)[:, :2]
        keep = np.concatenate([[True], np.any(np.diff(xy, axis=0) != 0, axis=1)])
        xy = xy[keep]
        self.ax, self.ay = xy[:-1, 0], xy[:-1, 1]
        self.dx, self.dy = np.diff(xy[:, 0]), np.diff(xy[:, 1])
        self.len2 = self.dx**2 + self.dy**2
        self.seglen = np.sqrt(self.len2)
        self.start = np.concatenate([[0.0], np.cumsum(self.seglen)[:-1]])
        xmin, ymin = xy.min(axis=0) - reach_m
        xmax, ymax = xy.max(axis=0) + reach_m
        cell = max(math.sqrt((xmax - xmin) * (ymax - ymin) / max_cells), 1.0)
        self.x0, self.y0, self.cell = xmin, ymin, cell
        self.nx, self.ny = int(math.ceil((xmax - xmin) / cell)), int(math.ceil((ymax - ymin) / cell))
        cx = xmin + (np.arange(self.nx) + 0.5) * cell
        cy = ymin + (np.arange(self.ny) + 0.5) * cell
        gx, gy = np.meshgrid(cx, cy, indexing="ij")
        gx, gy = gx.ravel(), gy.ravel()
        nseg = len(self.ax)
        slack = cell * math.sqrt(2.0) + 1e-6 * cell
        cands, width = [], 1
        step = max(1, (1 << 20) // nseg)  # about a million cell-segment pairs at a time
        for lo in range(0, len(gx), step):
            px, py = gx[lo:lo + step, None], gy[lo:lo + step, None]
            d2 = self._dist2_all(px, py)
            d = np.sqrt(d2)
            dmin = d.min(axis=1, keepdims=True)
            masked = np.where(d <= dmin + slack, d, np.inf)
            order = np.argsort(masked, axis=1, kind="stable")
            count = np.isfinite(masked).sum(axis=1)
            width = max(width, int(count.max()))
            cands.append((order, count))
        table = np.empty((len(gx), width), dtype=np.int32)
        counts = np.empty(len(gx), dtype=np.int32)
        row = 0
        for order, count in cands:
            block = order[:, :width].astype(np.int32)
            # Pad with the best candidate: duplicates never change the minimum.
            pad = np.arange(width)[None, :] >= count[:, None]
            block[pad] = np.broadcast_to(block[:, :1], block.shape)[pad]
            table[row:row + len(block)] = block
            counts[row:row + len(block)] = count
            row += len(block)
        self.table = table
        self.counts = counts

    def _dist2_all(self, px, py):
        t = np.clip(((px - self.ax) * self.dx + (py - self.ay) * self.dy) / self.len2, 0.0, 1.0)
        return (px - (self.ax + t * self.dx)) ** 2 + (py - (self.ay + t * self.dy)) ** 2

    def _project(self, px, py, cand):
        """Best of the candidate segments ``cand`` (n, k) for points (n, 1): (distance, chainage)."""
        ax, ay, dx, dy = self.ax[cand], self.ay[cand], self.dx[cand], self.dy[cand]
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / self.len2[cand], 0.0, 1.0)
        d2 = (px - (ax + t * dx)) ** 2 + (py - (ay + t * dy)) ** 2
        j = np.argmin(d2, axis=1)
        rows = np.arange(len(j))
        seg = cand[rows, j]
        return np.sqrt(d2[rows, j]), self.start[seg] + t[rows, j] * self.seglen[seg]

    def query(self, x, y):
        n = len(x)
        dist = np.empty(n)
        along = np.empty(n)
        ix = np.floor((x - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((y - self.y0) / self.cell).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        cell_id = np.where(inside, ix * self.ny + iy, -1)
        width = np.where(inside, self.counts[np.maximum(cell_id, 0)], 0)
        # Most cells have one or two candidates: project each point on as few columns as its cell needs.
        low = 0
        for high in (1, 2, 4, 8, self.table.shape[1]):
            high = min(high, self.table.shape[1])
            if high <= low:
                continue
            idx = np.flatnonzero((width > low) & (width <= high))
            low = high
            for lo in range(0, len(idx), _CHUNK):
                sel = idx[lo:lo + _CHUNK]
                d, a = self._project(x[sel, None], y[sel, None], self.table[cell_id[sel], :high])
                dist[sel], along[sel] = d, a
        idx_out = np.flatnonzero(~inside)
        every = np.broadcast_to(np.arange(len(self.ax), dtype=np.int32), (min(len(idx_out), 8192), len(self.ax)))
        for lo in range(0, len(idx_out), 8192):
            sel = idx_out[lo:lo + 8192]
            d, a = self._project(x[sel, None], y[sel, None], every[:len(sel)])
            dist[sel], along[sel] = d, a
        return dist, along


@functools.lru_cache(maxsize=16)
def _nearest_index(line_wkb: bytes, reach_m: float) -> _NearestOnLine:
    """The candidate table of a border line, built once per line and reach: it depends on nothing else, and
    building it costs far more than the queries of a page's few thousand incidents."""
    return _NearestOnLine(shapely.from_wkb(line_wkb), reach_m=reach_m)


def _band_index(distance, edges):
    """Band of each distance with the inner-band rule on edges (see the module docstring); -1 outside."""
    j = np.searchsorted(edges, distance, side="left") - 1
    j[distance == edges[0]] = 0
    j[(distance > edges[-1]) | (distance < edges[0]) | ~np.isfinite(distance)] = -1
    return j


def assign_corridor(x, y, border_line, segments, gates, edges_m=DEFAULT_EDGES_M, *, province_polygon) -> pd.DataFrame:
    """Assign each incident its distance to the border, band, segment, chainage and nearest gate.

    Parameters
    ----------
    x, y : array_like
        Incident coordinates in EPSG:32648 metres (degrees are refused).
    border_line : GeoDataFrame, GeoSeries or LineString in metres
    segments : GeoDataFrame
        Result of :func:`border_segments` on the same line (``segment_id``, ``from_km``, ``to_km``).
    gates : GeoDataFrame
        Gate points with a ``name`` column (e.g. :func:`read_border_gates`); may be empty.
    edges_m : sequence of float
        Band edges in metres (see :func:`validate_edges`).
    province_polygon : GeoDataFrame, GeoSeries or (Multi)Polygon in metres
        The province; points outside it (boundary included as inside) are on the Cambodian side or in another
        province and are not in the corridor.

    Returns
    -------
    DataFrame
        One row per point, in input order: ``distance_m`` (to the line), ``in_province`` (bool), ``band``
        (index of the band, -1 outside the corridor), ``segment_id`` (segment holding the nearest point of the
        line), ``along_km`` (chainage of that point from the western end), ``gate`` (nearest gate name,
        categorical; missing when there are no gates) and ``gate_distance_m`` (straight-line).

    Notes
    -----
    Exact point-to-polyline projection on candidate segments from a uniform grid (:class:`_NearestOnLine`),
    prepared GEOS point-in-polygon (``shapely.intersects_xy``) for the side, and a brute-force argmin over the
    few gates. Band rule: an edge distance belongs to the inner band (module docstring). Segment rule: a
    nearest point exactly at a segment boundary belongs to the later segment. Results equal a geopandas
    ``sjoin_nearest`` on the segments and gates (bench/bench_corridor.py) up to exact ties.
    """
    edges = validate_edges(edges_m)
    x = np.ascontiguousarray(x, dtype=float).ravel()
    y = np.ascontiguousarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(message("geo.corridor_geometry.x_y_received_x", x_size=x.size, y_size=y.size))
    if x.size:
        require_metres(x, y, "x, y")
    line = _as_metric_line(border_line)
    province = _as_metric_area(province_polygon, "province_polygon")
    from_m, to_m, seg_ids = _segment_table(segments, line)

    index = _nearest_index(line.wkb, max(edges[-1], 1000.0) * 1.5)
    distance, along = index.query(x, y)
    shapely.prepare(province)
    in_province = shapely.intersects_xy(province, x, y)
    band = np.where(in_province, _band_index(distance, edges), -1).astype(np.int16)
    k = np.clip(np.searchsorted(from_m, along, side="right") - 1, 0, len(from_m) - 1)
    segment_id = seg_ids[k]

    gate_name, gate_dist = _nearest_gate(x, y, gates)
    return pd.DataFrame({"distance_m": distance, "in_province": in_province, "band": band,
                         "segment_id": segment_id, "along_km": along / 1000.0,
                         "gate": gate_name, "gate_distance_m": gate_dist})


def _segment_table(segments, line: LineString):
    for col in ("segment_id", "from_km", "to_km"):
        if col not in segments.columns:
            raise GeoInputError(message("geo.corridor_geometry.segments_column_missing_pass", col=col))
    seg = segments.sort_values("from_km")
    from_m = seg["from_km"].to_numpy(float) * 1000.0
    to_m = seg["to_km"].to_numpy(float) * 1000.0
    if len(seg) == 0 or abs(to_m[-1] - line.length) > 1.0 or from_m[0] > 1.0:
        raise GeoInputError(message("geo.corridor_geometry.segments_they_cover_m", from_m=from_m[:1],
                                    to_m=to_m[-1:], line_length=line.length))
    return from_m, to_m, seg["segment_id"].to_numpy()


def _nearest_gate(x, y, gates):
    n = len(x)
    if gates is None or len(gates) == 0:
        return pd.Categorical([None] * n), np.full(n, np.nan)
    if "name" not in gates.columns:
        raise GeoInputError(message("geo.corridor_geometry.gates_column_name_missing",
                                    gates_columns=list(gates.columns)))
    g = to_metric(gates)
    gx, gy = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
    code = np.empty(n, dtype=np.int32)
    dist = np.empty(n)
    for lo in range(0, n, _CHUNK):
        px, py = x[lo:lo + _CHUNK, None], y[lo:lo + _CHUNK, None]
        d2 = (px - gx) ** 2 + (py - gy) ** 2
        j = np.argmin(d2, axis=1)
        code[lo:lo + _CHUNK] = j
        dist[lo:lo + _CHUNK] = np.sqrt(d2[np.arange(len(j)), j])
    names = g["name"].astype(str).to_numpy()
    categories = pd.unique(names)
    remap = pd.Index(categories).get_indexer(names)
    return pd.Categorical.from_codes(remap[code], categories=categories), dist
