"""One hot spot analysis from inputs to a GeoDataFrame: units, values, neighbours, statistic.

The command line (``flask --app server hotspot``) and the hot spot page both call
:func:`run_hotspot_analysis`, so a map and a batch run with the same parameters give the same numbers.
It only orchestrates the tested pieces of ``geo`` — grids and binning (:mod:`geo.grid`), neighbours
(:mod:`geo.weights`), Getis-Ord Gi* (:mod:`geo.gistar`), Local Moran's I (:mod:`geo.lisa`) and quartic
kernel density (:mod:`geo.kde`) — in the order ArcGIS *Optimized Hot Spot Analysis* follows: aggregate
incidents into analysis units (a fishnet/hexagon grid or given polygons), build the neighbourhood, run
the local statistic, report every parameter used.

Output columns
--------------
``value``
    The analysed value of each unit: incidents (or summed ``point_weights``) per unit, or the zone value.
``count``
    Incidents per unit (unweighted) when points were given.
``n_neighbours``
    Neighbours of each unit (itself not counted).
``gi_z``, ``gi_p``, ``gi_bin`` (and ``gi_p_sim`` with permutations)
    Gi* z-score, two-sided p-value and confidence bin −3…+3 (``statistic="gistar"``).
``lisa_i``, ``lisa_p``, ``lisa_q``, ``lisa_cluster``
    Local Moran's I, permutation pseudo p-value, Moran scatterplot quadrant (``HH``, ``LH``, ``LL``,
    ``HL`` whatever the significance, as esda's ``q``) and the cluster label (the quadrant where
    ``lisa_p <= alpha``, else ``"not significant"``) (``statistic="lisa"``).
``density``
    Quartic kernel density per km² at the unit's centre (``statistic="kde"``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from geo.crs import METRIC_CRS
from geo.errors import GeoInputError

STATISTICS = ("gistar", "lisa", "kde")
UNIT_KINDS = ("hex", "square", "zones")
NEIGHBOUR_FORMS = "queen, rook, distance:METRES or knn:K"
DEFAULT_PERMUTATIONS = {"gistar": 0, "lisa": 999, "kde": 0}
MEASURES = ("count", "rate", "eb", "seb")

_NEIGHBOURS = re.compile(r"^(queen|rook)$|^distance:(\d+(?:\.\d+)?)$|^knn:(\d+)$")


@dataclass(frozen=True)
class Neighbours:
    """A parsed neighbourhood: ``kind`` in {"queen", "rook", "distance", "knn"} and its ``value``."""

    kind: str
    value: float | int | None = None

    def __str__(self) -> str:
        if self.kind in ("queen", "rook"):
            return self.kind
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{self.kind}:{value}"


def parse_neighbours(text) -> Neighbours:
    """Parse ``queen``, ``rook``, ``distance:METRES`` or ``knn:K``.

    Raises
    ------
    GeoInputError
        Naming the value received and the accepted forms.
    """
    raw = str(text).strip().lower() if text is not None else ""
    match = _NEIGHBOURS.match(raw)
    if not match:
        raise GeoInputError(f"neighbours must be {NEIGHBOUR_FORMS}, got {text!r}")
    if match.group(1):
        return Neighbours(match.group(1))
    if match.group(2):
        distance = float(match.group(2))
        if distance <= 0:
            raise GeoInputError(f"neighbours distance must be a positive number of metres, got {text!r}")
        return Neighbours("distance", distance)
    k = int(match.group(3))
    if k < 1:
        raise GeoInputError(f"neighbours knn:K needs K of at least 1, got {text!r}")
    return Neighbours("knn", k)


@dataclass(frozen=True)
class HotspotSpec:
    """Parameters of one analysis; :meth:`as_dict` is stored with each result so a map can be rebuilt.

    Attributes
    ----------
    statistic : {"gistar", "lisa", "kde"}
    units : {"hex", "square", "zones"}
        Grid of hexagons or squares over the study area, or the given zones (communes, polygons).
    cell_size : float, optional
        Grid cell size in metres (square side / distance between hexagon centres); chosen as ArcGIS
        *Optimized Hot Spot Analysis* does (:func:`geo.grid.default_cell_size`) when omitted.
    neighbours : str
        ``queen``, ``rook``, ``distance:METRES`` or ``knn:K``.
    bandwidth : float or str, optional
        Kernel radius in metres or a rule name (``"arcgis"``, ``"sfhotspot"``); see :func:`geo.kde.bandwidth_rule`.
    fdr : bool
        False Discovery Rate correction of the Gi* bins.
    permutations : int, optional
        Conditional permutations (0 or ≥ 99); default 999 for LISA, 0 (analytical only) for Gi*.
    seed : int, optional
    alpha : float
        Significance level of the LISA cluster labels.
    """

    statistic: str = "gistar"
    units: str = "hex"
    cell_size: float | None = None
    neighbours: str = "queen"
    bandwidth: float | str | None = None
    fdr: bool = False
    permutations: int | None = None
    seed: int | None = None
    alpha: float = 0.05

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise GeoInputError(f"statistic must be one of {', '.join(STATISTICS)}, got {self.statistic!r}")
        if self.units not in UNIT_KINDS:
            raise GeoInputError(f"units must be one of {', '.join(UNIT_KINDS)}, got {self.units!r}")
        if self.cell_size is not None:
            try:
                size = float(self.cell_size)
            except (TypeError, ValueError):
                raise GeoInputError(f"cell_size must be a number of metres, got {self.cell_size!r}") from None
            if not np.isfinite(size) or size <= 0:
                raise GeoInputError(f"cell_size must be a positive number of metres, got {self.cell_size!r}")
            object.__setattr__(self, "cell_size", size)
        object.__setattr__(self, "neighbours", str(parse_neighbours(self.neighbours)))
        if isinstance(self.bandwidth, str):
            from geo.kde import BANDWIDTH_RULES

            if self.bandwidth not in BANDWIDTH_RULES:
                try:
                    object.__setattr__(self, "bandwidth", float(self.bandwidth))
                except ValueError:
                    raise GeoInputError(f"bandwidth must be metres or one of {', '.join(BANDWIDTH_RULES)}, "
                                        f"got {self.bandwidth!r}") from None
        if self.bandwidth is not None and not isinstance(self.bandwidth, str):
            h = float(self.bandwidth)
            if not np.isfinite(h) or h <= 0:
                raise GeoInputError(f"bandwidth must be a positive distance in metres, got {self.bandwidth!r}")
            object.__setattr__(self, "bandwidth", h)
        permutations = self.permutations
        if permutations is None:
            permutations = DEFAULT_PERMUTATIONS[self.statistic]
        from geo.permutation import check_permutations

        object.__setattr__(self, "permutations", check_permutations(permutations))
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))):
            raise GeoInputError(f"seed must be an integer, got {self.seed!r}")
        if not 0 < float(self.alpha) < 1:
            raise GeoInputError(f"alpha must lie between 0 and 1, got {self.alpha!r}")
        object.__setattr__(self, "fdr", bool(self.fdr))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class HotspotResult:
    """Result of :func:`run_hotspot_analysis`.

    Attributes
    ----------
    frame : GeoDataFrame
        One row per analysis unit, in the analysis CRS, with the output columns of this module.
    params : dict
        The spec plus what was derived from the data (cell size, bandwidth, unit and point counts).
    """

    frame: object
    params: dict = field(default_factory=dict)


def _points(x, y, point_weights):
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size == 0:
        raise GeoInputError("no points: there are no incidents to analyse (check the filters or the file)")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = int((~(np.isfinite(x) & np.isfinite(y))).sum())
        raise GeoInputError(f"{bad} points have missing or infinite coordinates; drop them first")
    w = None
    if point_weights is not None:
        w = np.asarray(point_weights, dtype=float).ravel()
        if w.shape != x.shape:
            raise GeoInputError(f"point_weights must have one value per point ({x.size}), got {w.size}")
        if not np.isfinite(w).all():
            raise GeoInputError("point_weights contain missing or infinite values")
    return x, y, w


def _study_area(x, y, boundary, cell_size):
    import shapely

    if boundary is not None:
        return boundary
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    return hull.buffer(cell_size / 2.0)


def _weights_for_grid(grid, neighbours: Neighbours):
    from geo.weights import grid_contiguity, grid_distance_band, knn

    if neighbours.kind in ("queen", "rook"):
        return grid_contiguity(grid, neighbours.kind)
    if neighbours.kind == "distance":
        return grid_distance_band(grid, neighbours.value)
    return knn(grid.x, grid.y, int(neighbours.value))


def _weights_for_zones(zones, cx, cy, neighbours: Neighbours):
    from geo.weights import contiguity, distance_band, knn

    if neighbours.kind in ("queen", "rook"):
        return contiguity(zones, neighbours.kind)
    if neighbours.kind == "distance":
        return distance_band(cx, cy, neighbours.value)
    return knn(cx, cy, int(neighbours.value))


def _zone_of_points(geometries, x, y):
    """Index of the zone containing each point (lowest index on shared edges), −1 outside every zone."""
    import shapely

    points = shapely.points(x, y)
    tree = shapely.STRtree(geometries)
    point_idx, zone_idx = tree.query(points, predicate="intersects")
    out = np.full(x.size, -1, dtype=np.int64)
    order = np.lexsort((zone_idx, point_idx))
    point_idx, zone_idx = point_idx[order], zone_idx[order]
    first = np.ones(point_idx.size, dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    out[point_idx[first]] = zone_idx[first]
    return out


def _density_at(cx, cy, x, y, bandwidth, weights):
    """Quartic kernel density per km² at arbitrary centres (a KD-tree limits each sum to the disc)."""
    from scipy.spatial import cKDTree

    from geo.kde import quartic_kernel

    tree = cKDTree(np.column_stack([x, y]))
    out = np.zeros(cx.size)
    for i, near in enumerate(tree.query_ball_point(np.column_stack([cx, cy]), bandwidth)):
        if near:
            near = np.asarray(near)
            k = quartic_kernel(np.hypot(x[near] - cx[i], y[near] - cy[i]), bandwidth)
            out[i] = (k if weights is None else k * weights[near]).sum()
    return out * 1e6


def _resolve_bandwidth(spec: HotspotSpec, x, y, cell_size):
    from geo.kde import bandwidth_rule

    if spec.bandwidth is None or isinstance(spec.bandwidth, str):
        rule = spec.bandwidth or "arcgis"
        h = bandwidth_rule(x, y, rule)
        if cell_size is not None and h < cell_size:
            # A rule-based radius narrower than a cell would miss incidents between centres.
            return float(cell_size), f"{rule} (raised to the cell size)"
        return h, rule
    return float(spec.bandwidth), None


def measure_values(counts, population=None, measure="count", weights=None):
    """Values to analyse on zones: counts, rates per 10,000 or Empirical Bayes smoothed rates.

    Parameters
    ----------
    counts : array_like
        Incidents per zone.
    population : array_like, optional
        Residents per zone (required unless ``measure="count"``).
    measure : {"count", "rate", "eb", "seb"}
        Count, crude rate, global or spatial Empirical Bayes rate per 10,000 (:mod:`geo.rates`, as GeoDa).
    weights : scipy.sparse matrix, optional
        Neighbours for ``"seb"``.
    """
    from geo.rates import crude_rate, empirical_bayes, spatial_empirical_bayes

    if measure not in MEASURES:
        raise GeoInputError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    counts = np.asarray(counts, dtype=float)
    if measure == "count":
        return counts
    if population is None:
        raise GeoInputError(f"measure={measure!r} needs the population of every zone")
    if measure == "rate":
        return crude_rate(counts, population)
    if measure == "eb":
        return empirical_bayes(counts, population)
    if weights is None:
        raise GeoInputError("measure='seb' (spatial Empirical Bayes) needs neighbour weights")
    return spatial_empirical_bayes(counts, population, weights)


def run_hotspot_analysis(spec: HotspotSpec, *, x=None, y=None, point_weights=None, zones=None, zone_values=None,
                         boundary=None, crs=METRIC_CRS) -> HotspotResult:
    """Aggregate points (or take zone values), build neighbours and run the statistic of ``spec``.

    Parameters
    ----------
    spec : HotspotSpec
    x, y : array_like, optional
        Incident coordinates in metres in ``crs``.
    point_weights : array_like, optional
        Weight of each incident (a ``--weight-field``): summed per unit, and used by the kernel.
    zones : GeoDataFrame, optional
        Polygons in ``crs`` (metres, or no CRS for contiguity only); the units when ``spec.units="zones"``.
    zone_values : array_like, optional
        Value of each zone (values already on polygons); needs ``zones`` and no points. Not for KDE.
    boundary : shapely geometry, optional
        Study area (metres) for a grid; default the convex hull of the points grown by half a cell.
    crs : str or pyproj.CRS or None
        CRS of the coordinates, given to the output frame.

    Returns
    -------
    HotspotResult

    Notes
    -----
    Zero-count units inside the study area are kept (as ArcGIS *Optimized Hot Spot Analysis* does within
    a bounding polygon): a hot spot is a cluster of high values against the whole area, including the
    places without incidents. Gi* includes each unit in its own neighbourhood (Getis & Ord 1992); Local
    Moran's I does not (Anselin 1995); the kernel is quartic (Silverman 1986), evaluated at unit centres.
    """
    import geopandas as gpd

    from geo.gistar import gi_star
    from geo.grid import bin_points, default_cell_size, make_grid
    from geo.kde import kernel_density
    from geo.lisa import local_moran

    neighbours = parse_neighbours(spec.neighbours)
    have_points = x is not None or y is not None
    params = {**spec.as_dict(), "crs": None if crs is None else str(crs)}
    if have_points and zone_values is not None:
        raise GeoInputError("give either points or zone_values, not both")
    if not have_points and zone_values is None:
        raise GeoInputError("no input: give incident points (x, y) or zones with zone_values")
    if spec.statistic == "kde" and not have_points:
        raise GeoInputError("statistic 'kde' needs incident points; zone values cannot be smoothed into a density")
    if spec.units == "zones" and zones is None:
        raise GeoInputError("units='zones' needs the zone polygons")
    if spec.units != "zones" and not have_points:
        raise GeoInputError(f"units={spec.units!r} (a grid) needs incident points; zone values use units='zones'")

    count = None
    if have_points:
        x, y, w = _points(x, y, point_weights)
        params["n_points"] = int(x.size)

    if spec.units in ("hex", "square"):
        cell_size = spec.cell_size
        if cell_size is None:
            cell_size = default_cell_size(x, y, method="arcgis", boundary=boundary)
            params["cell_size_rule"] = "arcgis"
        area = _study_area(x, y, boundary, cell_size)
        grid = make_grid(area, cell_size, spec.units)
        binned = bin_points(grid, x, y, weights=w)
        count = np.bincount(binned.cell_index[binned.cell_index >= 0], minlength=grid.n_cells)
        values = np.asarray(binned.counts, dtype=float)
        params.update(cell_size=float(cell_size), n_outside=int(binned.n_outside))
        frame = gpd.GeoDataFrame({"cell_id": np.arange(grid.n_cells)}, geometry=grid.geometry, crs=crs)
        cx, cy = grid.x, grid.y
        build_weights = lambda: _weights_for_grid(grid, neighbours)  # noqa: E731
    else:
        if len(zones) == 0:
            raise GeoInputError("zones is empty: no polygons to analyse")
        frame = gpd.GeoDataFrame(zones.copy(), geometry=zones.geometry.name, crs=zones.crs)
        centres = frame.geometry.centroid
        cx, cy = centres.x.to_numpy(), centres.y.to_numpy()
        if have_points:
            zone = _zone_of_points(frame.geometry.values, x, y)
            inside = zone >= 0
            if not inside.any():
                raise GeoInputError(f"all {x.size} points fall outside the zones; check the CRS of the points")
            count = np.bincount(zone[inside], minlength=len(frame))
            values = (count.astype(float) if w is None
                      else np.bincount(zone[inside], weights=w[inside], minlength=len(frame)))
            params["n_outside"] = int((~inside).sum())
        else:
            values = np.asarray(zone_values, dtype=float).ravel()
            if values.size != len(frame):
                raise GeoInputError(f"zone_values must have one value per zone ({len(frame)}), got {values.size}")
            if not np.isfinite(values).all():
                raise GeoInputError(f"zone_values contain {int((~np.isfinite(values)).sum())} missing values")
        build_weights = lambda: _weights_for_zones(frame, cx, cy, neighbours)  # noqa: E731
        grid = None
        cell_size = None

    params["n_units"] = int(len(frame))
    frame["value"] = values
    if count is not None:
        frame["count"] = count.astype(np.int64)

    if spec.statistic == "kde":
        h, rule = _resolve_bandwidth(spec, x, y, cell_size)
        if grid is not None:
            density = kernel_density(grid, x, y, h, weights=w).density
        else:
            density = _density_at(cx, cy, x, y, h, w)
        frame["density"] = density
        params.update(bandwidth=h, bandwidth_rule=rule, kernel="quartic", density_unit="per km²",
                      method="Silverman 1986 eq. 4.5; ArcGIS Kernel Density")
        return HotspotResult(frame=frame, params=params)

    weights = build_weights()
    n_neigh = np.diff(weights.indptr) - (weights.diagonal() != 0)
    frame["n_neighbours"] = n_neigh.astype(np.int64)
    params["n_islands"] = int((n_neigh == 0).sum())
    if spec.statistic == "gistar":
        result = gi_star(values, weights, fdr=spec.fdr, permutations=spec.permutations, seed=spec.seed)
        frame["gi_z"] = result.z
        frame["gi_p"] = result.p
        frame["gi_bin"] = result.bin.astype(np.int64)
        if result.p_sim is not None:
            frame["gi_p_sim"] = result.p_sim
        params["method"] = result.params["method"]
    else:
        result = local_moran(values, weights, transform="r", permutations=spec.permutations, seed=spec.seed,
                             alpha=spec.alpha)
        from geo.lisa import QUADRANT_CODES

        frame["lisa_i"] = result.I
        frame["lisa_p"] = result.p_sim if result.p_sim is not None else np.nan
        frame["lisa_q"] = [QUADRANT_CODES[int(q)] for q in result.quadrant]
        frame["lisa_cluster"] = list(result.label)
        params.update(method=result.params["method"], transform="r")
    return HotspotResult(frame=frame, params=params)


__all__ = [
    "DEFAULT_PERMUTATIONS",
    "HotspotResult",
    "HotspotSpec",
    "MEASURES",
    "Neighbours",
    "STATISTICS",
    "UNIT_KINDS",
    "measure_values",
    "parse_neighbours",
    "run_hotspot_analysis",
]
