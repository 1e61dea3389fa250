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
    ``lisa_p <= alpha``, else ``"not significant"``) (``statistic="lisa"``). On a grid, a Low–Low label on a
    cell *without incidents* is shown only when asked (``show_empty_low_low``); ``lisa_cluster_raw`` keeps
    the label before that choice (see Notes of :func:`run_hotspot_analysis`).
``density``
    Quartic kernel density per km² at the unit's centre (``statistic="kde"``).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from geo.crs import METRIC_CRS
from geo.errors import GeoInputError
from translations import message

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
        raise GeoInputError(message("geo.hotspot_pipeline.neighbours_got", neighbour_forms=NEIGHBOUR_FORMS,
                                    text=text))
    if match.group(1):
        return Neighbours(match.group(1))
    if match.group(2):
        distance = float(match.group(2))
        if distance <= 0:
            raise GeoInputError(message("geo.hotspot_pipeline.neighbours_distance_positive_number", text=text))
        return Neighbours("distance", distance)
    k = int(match.group(3))
    if k < 1:
        raise GeoInputError(message("geo.hotspot_pipeline.neighbours_knn_k_needs", text=text))
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
    show_empty_low_low : bool
        Label grid cells without incidents "Low–Low" when LISA finds them so (default False: they are
        reported as not significant, with the number withheld in ``params["n_empty_low_low"]``).
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
    show_empty_low_low: bool = False

    def __post_init__(self):
        if self.statistic not in STATISTICS:
            raise GeoInputError(message("geo.hotspot_pipeline.statistic_one_got", statistics=', '.join(STATISTICS),
                                        self_statistic=self.statistic))
        if self.units not in UNIT_KINDS:
            raise GeoInputError(message("geo.hotspot_pipeline.units_one_got", unit_kinds=', '.join(UNIT_KINDS),
                                        self_units=self.units))
        if self.cell_size is not None:
            try:
                size = float(self.cell_size)
            except (TypeError, ValueError):
                raise GeoInputError(message("geo.hotspot_pipeline.cell_size_number_metres",
                                            self_cell_size=self.cell_size)) from None
            if not np.isfinite(size) or size <= 0:
                raise GeoInputError(message("geo.hotspot_pipeline.cell_size_positive_number",
                                            self_cell_size=self.cell_size))
            object.__setattr__(self, "cell_size", size)
        object.__setattr__(self, "neighbours", str(parse_neighbours(self.neighbours)))
        if isinstance(self.bandwidth, str):
            from geo.kde import BANDWIDTH_RULES

            if self.bandwidth not in BANDWIDTH_RULES:
                try:
                    object.__setattr__(self, "bandwidth", float(self.bandwidth))
                except ValueError:
                    raise GeoInputError(message("geo.hotspot_pipeline.bandwidth_metres_one_got",
                                                bandwidth_rules=', '.join(BANDWIDTH_RULES),
                                                self_bandwidth=self.bandwidth)) from None
        if self.bandwidth is not None and not isinstance(self.bandwidth, str):
            h = float(self.bandwidth)
            if not np.isfinite(h) or h <= 0:
                raise GeoInputError(message("geo.hotspot_pipeline.bandwidth_positive_distance_metres",
                                            self_bandwidth=self.bandwidth))
            object.__setattr__(self, "bandwidth", h)
        permutations = self.permutations
        if permutations is None:
            permutations = DEFAULT_PERMUTATIONS[self.statistic]
        from geo.permutation import check_permutations

        object.__setattr__(self, "permutations", check_permutations(permutations))
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))):
            raise GeoInputError(message("geo.hotspot_pipeline.seed_integer_got", self_seed=self.seed))
        if not 0 < float(self.alpha) < 1:
            raise GeoInputError(message("geo.hotspot_pipeline.alpha_lie_between_got", self_alpha=self.alpha))
        object.__setattr__(self, "fdr", bool(self.fdr))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class HotspotResult:
    """Result of :func:`run_hotspot_analysis`.

    Attributes
    ----------
    columns : dict of str -> ndarray
        The output columns of this module, one value per analysis unit (``cell_id`` first for a grid).
    geometry : ndarray of shapely geometries
        The unit polygons, in ``crs``.
    crs : str or pyproj.CRS or None
        CRS of the geometry (the analysis CRS, in metres).
    params : dict
        The spec plus what was derived from the data (cell size, bandwidth, unit and point counts).
    zones : GeoDataFrame, optional
        The given zones (``units="zones"``), whose own columns :attr:`frame` keeps.
    centre_x, centre_y : ndarray
        Centre of each unit (lattice centre of a grid cell, centroid of a zone): where distances are measured.

    Notes
    -----
    The arrays are the result; :attr:`frame` builds a GeoDataFrame from them on first use, so a caller that
    only writes the arrays (the command line) never imports geopandas.
    """

    columns: dict
    geometry: np.ndarray
    crs: object = None
    params: dict = field(default_factory=dict)
    zones: object = None
    centre_x: np.ndarray | None = None
    centre_y: np.ndarray | None = None

    @cached_property
    def frame(self):
        """One row per analysis unit, in the analysis CRS, with the output columns of this module."""
        import geopandas as gpd

        if self.zones is not None:
            frame = gpd.GeoDataFrame(self.zones.copy(), geometry=self.zones.geometry.name, crs=self.zones.crs)
            for name, values in self.columns.items():
                frame[name] = values
            return frame
        columns = {name: (list(v) if v.dtype.kind in "OUT" else v) for name, v in self.columns.items()}
        cell_id = columns.pop("cell_id")
        frame = gpd.GeoDataFrame({"cell_id": cell_id}, geometry=self.geometry, crs=self.crs)
        for name, values in columns.items():
            frame[name] = values
        return frame

    @property
    def n_units(self) -> int:
        return int(self.geometry.size)


def _points(x, y, point_weights):
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(message("geo.hotspot_pipeline.x_y_same_length", x_size=x.size, y_size=y.size))
    if x.size == 0:
        raise GeoInputError(message("geo.hotspot_pipeline.points_there_incidents_analyse"))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = int((~(np.isfinite(x) & np.isfinite(y))).sum())
        raise GeoInputError(message("geo.hotspot_pipeline.points_missing_infinite_coordinates", bad=bad))
    w = None
    if point_weights is not None:
        w = np.asarray(point_weights, dtype=float).ravel()
        if w.shape != x.shape:
            raise GeoInputError(message("geo.hotspot_pipeline.point_weights_one_value", x_size=x.size,
                                        w_size=w.size))
        if not np.isfinite(w).all():
            raise GeoInputError(message("geo.hotspot_pipeline.point_weights_contain_missing"))
    return x, y, w


def convex_hull_of_points(x, y, buckets: int = 2048):
    """Convex hull of many points, computed on the few that can be its vertices.

    Parameters
    ----------
    x, y : ndarray
        Coordinates.
    buckets : int
        Vertical strips used to pick candidate vertices.

    Returns
    -------
    shapely geometry
        Exactly ``shapely.convex_hull(shapely.multipoints(x, y))``, without building a geometry per point.

    Notes
    -----
    A throw-away step in the manner of Akl & Toussaint (1978, "A fast convex hull algorithm", Information
    Processing Letters 7(5)): the lowest and highest point of each vertical strip and the leftmost and
    rightmost points span a polygon inside the hull; a point strictly inside that polygon cannot be a
    vertex of the hull, so the hull is that of the polygon's corners and of the points not inside it.
    """
    import shapely

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size <= 4 * buckets:
        return shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    x0, width = x.min(), np.ptp(x)
    strip = np.minimum(((x - x0) / (width or 1.0) * buckets).astype(np.int64), buckets - 1)
    low = np.full(buckets, np.inf)
    high = np.full(buckets, -np.inf)
    np.minimum.at(low, strip, y)
    np.maximum.at(high, strip, y)
    candidate = (y == low[strip]) | (y == high[strip]) | (x == x0) | (x == x.max())
    inner = shapely.convex_hull(shapely.multipoints(np.column_stack([x[candidate], y[candidate]])))
    if inner.geom_type != "Polygon":
        return shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    # Over each strip the inner polygon contains the band between the highest of its lower edge and the
    # lowest of its upper edge at the strip's two sides (both edges are convex chains); only points
    # outside that band need the exact point-in-polygon test.
    ring = np.asarray(inner.exterior.coords)
    sides = x0 + (width or 1.0) * np.arange(buckets + 1) / buckets
    lower_at, upper_at = _hull_chains_at(ring, sides)
    floor = np.maximum(lower_at[:-1], lower_at[1:])[strip]
    ceiling = np.minimum(upper_at[:-1], upper_at[1:])[strip]
    doubt = ~((y > floor) & (y < ceiling))
    shapely.prepare(inner)
    outside = np.zeros(x.size, dtype=bool)
    outside[doubt] = ~shapely.contains_xy(inner, x[doubt], y[doubt])
    keep = candidate | outside
    return shapely.convex_hull(shapely.multipoints(np.column_stack([x[keep], y[keep]])))


def _hull_chains_at(ring, at):
    """Lower and upper edge of a convex polygon (its exterior ring) at abscissae ``at`` (−inf/+inf outside)."""
    xs, ys = ring[:-1, 0], ring[:-1, 1]
    left, right = int(np.argmin(xs)), int(np.argmax(xs))
    order = np.r_[np.arange(left, xs.size), np.arange(0, left)]
    xs, ys = xs[order], ys[order]
    split = int(np.flatnonzero(order == right)[0])
    first = (xs[: split + 1], ys[: split + 1])
    second = (np.r_[xs[split:], xs[:1]][::-1], np.r_[ys[split:], ys[:1]][::-1])
    chains = []
    for cx, cy in (first, second):
        keep = np.r_[True, np.diff(cx) > 0]  # vertical edges leave repeated abscissae
        chains.append(np.interp(at, cx[keep], cy[keep], left=np.nan, right=np.nan))
    a, b = chains
    lower = np.fmin(a, b)
    upper = np.fmax(a, b)
    lower = np.where(np.isnan(lower), np.inf, lower)
    upper = np.where(np.isnan(upper), -np.inf, upper)
    return lower, upper


def _study_area(x, y, boundary, cell_size):
    if boundary is not None:
        return boundary
    return convex_hull_of_points(x, y).buffer(cell_size / 2.0)


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


def _resolve_bandwidth(spec: HotspotSpec, x, y, cell_size, weights=None):
    from geo.kde import bandwidth_rule

    if spec.bandwidth is None or isinstance(spec.bandwidth, str):
        rule = spec.bandwidth or "arcgis"
        h = bandwidth_rule(x, y, rule, weights=weights)
        if weights is not None:
            rule = f"{rule} (weighted)"
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
        raise GeoInputError(message("geo.hotspot_pipeline.measure_one_got", measures=', '.join(MEASURES),
                                    measure=measure))
    counts = np.asarray(counts, dtype=float)
    if measure == "count":
        return counts
    if population is None:
        raise GeoInputError(message("geo.hotspot_pipeline.measure_needs_population_every", measure=measure))
    if measure == "rate":
        return crude_rate(counts, population)
    if measure == "eb":
        return empirical_bayes(counts, population)
    if weights is None:
        raise GeoInputError(message("geo.hotspot_pipeline.measure_seb_spatial_empirical"))
    return spatial_empirical_bayes(counts, population, weights)


def run_hotspot_analysis(spec: HotspotSpec, *, x=None, y=None, point_weights=None, zones=None, zone_values=None,
                         boundary=None, grid=None, crs=METRIC_CRS, zone_weights=None) -> HotspotResult:
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
    grid : geo.grid.Grid, optional
        The grid already built over ``boundary`` (:func:`geo.grid.make_grid` with ``spec.units`` and
        ``spec.cell_size``), so a caller that keeps grids per study area and cell size does not clip the
        province again for every analysis; its kind and cell size must be the spec's.
    crs : str or pyproj.CRS or None
        CRS of the coordinates, given to the output frame.
    zone_weights : scipy.sparse.csr_matrix, optional
        The zones' neighbours for ``spec.neighbours`` as :mod:`geo.weights` builds them (binary, no self
        links), already built by a caller that keeps them per set of zones: the same matrix, not rebuilt
        for every analysis of other values. Only with ``units="zones"``.

    Returns
    -------
    HotspotResult

    Notes
    -----
    Zero-count units inside the study area are kept (as ArcGIS *Optimized Hot Spot Analysis* does within
    a bounding polygon): a hot spot is a cluster of high values against the whole area, including the
    places without incidents. Gi* includes each unit in its own neighbourhood (Getis & Ord 1992); Local
    Moran's I does not (Anselin 1995); the kernel is quartic (Silverman 1986), evaluated at unit centres.

    **Empty cells and LISA (our choice).** On a grid over a province most cells hold no incident, and
    an empty cell among empty cells is, to Local Moran's I, a significant Low–Low cluster: the map would
    paint the countryside as "cold spots", which readers take as a finding about safety rather than an
    absence of records. The statistic is still computed over every cell of the study area (so the
    High–High clusters are judged against the whole area, as ArcGIS *Optimized Outlier Analysis* does
    within a bounding polygon), but by default a Low–Low label on a cell with no incident is reported as
    not significant; ``show_empty_low_low=True`` shows them. ``lisa_q`` and ``lisa_p`` are unchanged.
    Zones (communes) are never relabelled: a commune without incidents is a fact worth seeing.
    """
    # Each statistic imports only what it needs: a density needs no sparse matrices (scipy.sparse alone
    # takes longer to import than the command takes to bin a million points).
    from geo.grid import bin_points, default_cell_size, make_grid

    neighbours = parse_neighbours(spec.neighbours)
    have_points = x is not None or y is not None
    params = {**spec.as_dict(), "crs": None if crs is None else str(crs)}
    if have_points and zone_values is not None:
        raise GeoInputError(message("geo.hotspot_pipeline.give_either_points_zone"))
    if not have_points and zone_values is None:
        raise GeoInputError(message("geo.hotspot_pipeline.input_give_incident_points"))
    if spec.statistic == "kde" and not have_points:
        raise GeoInputError(message("geo.hotspot_pipeline.statistic_kde_needs_incident"))
    if spec.units == "zones" and zones is None:
        raise GeoInputError(message("geo.hotspot_pipeline.units_zones_needs_zone"))
    if spec.units != "zones" and not have_points:
        raise GeoInputError(message("geo.hotspot_pipeline.units_grid_needs_incident", spec_units=spec.units))
    if grid is not None and spec.units == "zones":
        raise GeoInputError(message("geo.hotspot_pipeline.grid_with_zones"))
    if zone_weights is not None and spec.units != "zones":
        raise ValueError("zone_weights are the neighbours of zones: give them with units='zones' only")

    count = None
    if have_points:
        x, y, w = _points(x, y, point_weights)
        params["n_points"] = int(x.size)

    columns: dict = {}
    if spec.units in ("hex", "square"):
        cell_size = spec.cell_size
        if cell_size is None:
            cell_size = default_cell_size(x, y, method="arcgis", boundary=boundary)
            params["cell_size_rule"] = "arcgis"
        if grid is None:
            grid = make_grid(_study_area(x, y, boundary, cell_size), cell_size, spec.units)
        elif grid.kind != spec.units or float(grid.cell_size) != float(cell_size):
            raise GeoInputError(message("geo.hotspot_pipeline.grid_m_but_analysis", grid_kind=grid.kind,
                                        grid_cell_size=grid.cell_size, spec_units=spec.units,
                                        cell_size=float(cell_size)))
        binned = bin_points(grid, x, y, weights=w)
        count = np.bincount(binned.cell_index[binned.cell_index >= 0], minlength=grid.n_cells)
        values = np.asarray(binned.counts, dtype=float)
        params.update(cell_size=float(cell_size), n_outside=int(binned.n_outside))
        columns["cell_id"] = np.arange(grid.n_cells)
        geometry = grid.geometry
        cx, cy = grid.x, grid.y
        build_weights = lambda: _weights_for_grid(grid, neighbours)  # noqa: E731
        base = None
    else:
        if len(zones) == 0:
            raise GeoInputError(message("geo.hotspot_pipeline.zones_empty_polygons_analyse"))
        base = zones
        geometry = np.asarray(zones.geometry.values, dtype=object)
        import shapely

        centres = shapely.centroid(geometry)
        cx, cy = shapely.get_x(centres), shapely.get_y(centres)
        if have_points:
            zone = _zone_of_points(geometry, x, y)
            inside = zone >= 0
            if not inside.any():
                raise GeoInputError(message("geo.hotspot_pipeline.all_points_fall_outside", x_size=x.size))
            count = np.bincount(zone[inside], minlength=geometry.size)
            values = (count.astype(float) if w is None
                      else np.bincount(zone[inside], weights=w[inside], minlength=geometry.size))
            params["n_outside"] = int((~inside).sum())
        else:
            values = np.asarray(zone_values, dtype=float).ravel()
            if values.size != geometry.size:
                raise GeoInputError(message("geo.hotspot_pipeline.zone_values_one_value",
                                            geometry_size=geometry.size, size=values.size))
            if not np.isfinite(values).all():
                raise GeoInputError(message("geo.hotspot_pipeline.zone_values_contain_missing",
                                            value0=int((~np.isfinite(values)).sum())))
        if zone_weights is not None and zone_weights.shape != (geometry.size, geometry.size):
            raise ValueError(f"zone_weights is {zone_weights.shape[0]}×{zone_weights.shape[1]}; "
                             f"{geometry.size} zones given")
        build_weights = (lambda: zone_weights) if zone_weights is not None else (  # noqa: E731
            lambda: _weights_for_zones(zones, cx, cy, neighbours))
        grid = None
        cell_size = None

    params["n_units"] = int(geometry.size)
    columns["value"] = values
    if count is not None:
        columns["count"] = count.astype(np.int64)

    def result():
        return HotspotResult(columns=columns, geometry=geometry, crs=crs if base is None else zones.crs,
                             params=params, zones=base, centre_x=cx, centre_y=cy)

    if spec.statistic == "kde":
        from geo.kde import kernel_density

        h, rule = _resolve_bandwidth(spec, x, y, cell_size, w)
        if grid is not None:
            density = kernel_density(grid, x, y, h, weights=w).density
        else:
            density = _density_at(cx, cy, x, y, h, w)
        columns["density"] = density
        params.update(bandwidth=h, bandwidth_rule=rule, kernel="quartic", density_unit="per km²",
                      method="Silverman 1986 eq. 4.5; ArcGIS Kernel Density")
        return result()

    gi = None
    if spec.statistic == "gistar" and grid is not None and neighbours.kind != "knn" and not spec.permutations:
        # Binary lattice neighbours and no permutations: the neighbourhood sums are shifted copies of the
        # grid, so no weights matrix (nor scipy.sparse) is needed; z equals the matrix route's.
        from geo.gistar import gi_star_on_grid

        band = neighbours.kind if neighbours.kind in ("queen", "rook") else neighbours.value
        gi = gi_star_on_grid(grid, band, values, fdr=spec.fdr)
        n_neigh = gi.n_neighbours - 1
    else:
        weights = build_weights()
        n_neigh = np.diff(weights.indptr) - (weights.diagonal() != 0)
    columns["n_neighbours"] = n_neigh.astype(np.int64)
    params["n_islands"] = int((n_neigh == 0).sum())
    if spec.statistic == "gistar":
        if gi is None:
            from geo.gistar import gi_star

            gi = gi_star(values, weights, fdr=spec.fdr, permutations=spec.permutations, seed=spec.seed)
        columns["gi_z"] = gi.z
        columns["gi_p"] = gi.p
        columns["gi_bin"] = gi.bin.astype(np.int64)
        if gi.p_sim is not None:
            columns["gi_p_sim"] = gi.p_sim
        params["method"] = gi.params["method"]
    else:
        from geo.lisa import NOT_SIGNIFICANT, QUADRANT_CODES, local_moran

        lisa = local_moran(values, weights, transform="r", permutations=spec.permutations, seed=spec.seed,
                           alpha=spec.alpha)
        columns["lisa_i"] = lisa.I
        columns["lisa_p"] = lisa.p_sim if lisa.p_sim is not None else np.full(values.size, np.nan)
        quadrant_names = np.array([QUADRANT_CODES.get(code, "") for code in range(5)], dtype=object)
        columns["lisa_q"] = quadrant_names[np.asarray(lisa.quadrant, dtype=np.int64)]
        label = np.asarray(lisa.label, dtype=object)
        columns["lisa_cluster_raw"] = label.copy()
        if grid is not None and not spec.show_empty_low_low:
            empty_low_low = (label == "LL") & (np.asarray(values) == 0)
            label = np.where(empty_low_low, NOT_SIGNIFICANT, label)
            params["n_empty_low_low"] = int(empty_low_low.sum())
        columns["lisa_cluster"] = label
        params.update(method=lisa.params["method"], transform="r")
    return result()


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
