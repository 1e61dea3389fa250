"""Regular analysis grids (square fishnet or hexagons) in metres, and fast binning of points into them.

Every grid lives in the metric CRS (EPSG:32648). Cells are addressed on an integer lattice so that
binning a million points, building contiguity or distance-band neighbours and kernel density all reduce to
integer arithmetic instead of geometric predicates.

* Square cells: lattice ``(col, row)``, centre ``origin + ((col + ½)·s, (row + ½)·s)``, ``s`` the side.
* Hexagons (pointy-top): axial coordinates ``(q, r)``, centre ``origin + (s·(q + r/2), s·(√3/2)·r)``, ``s``
  the distance between the centres of adjacent hexagons (the flat-to-flat width); circumradius ``s/√3``,
  area ``(√3/2)·s²``. Axial coordinates and cube rounding follow Patel, "Hexagonal Grids" (Red Blob Games).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.crs import METRIC_CRS, require_metres
from geo.errors import GeoInputError
from translations import message

MAX_CELLS = 200_000
GRID_KINDS = ("hex", "square")
SQRT3 = np.sqrt(3.0)


@dataclass(frozen=True, eq=False)
class Grid:
    """Cells of a regular grid kept where they meet the boundary.

    Attributes
    ----------
    kind : {"hex", "square"}
    cell_size : float
        Square side, or distance between adjacent hexagon centres, in metres.
    origin : tuple of float
        Lattice origin (metres, EPSG:32648); a multiple of ``cell_size`` so that grids are reproducible.
    col, row : ndarray of int64
        Lattice address of each kept cell (``col``/``row`` for squares, axial ``q``/``r`` for hexagons).
    x, y : ndarray of float
        Cell centres in metres.
    geometry : ndarray of shapely.Polygon
        Cell polygons, clipped to the boundary when the grid was built with ``clip=True``.
    lookup : ndarray of int64, shape (n_rows, n_cols)
        ``lookup[row - row_min, col - col_min]`` is the index of the kept cell at that lattice address, or -1.
    col_min, row_min : int
        Lattice address of ``lookup[0, 0]``.
    """

    kind: str
    cell_size: float
    origin: tuple
    col: np.ndarray
    row: np.ndarray
    x: np.ndarray
    y: np.ndarray
    geometry: np.ndarray
    lookup: np.ndarray
    col_min: int
    row_min: int
    crs: str = field(default=METRIC_CRS)

    @property
    def n_cells(self) -> int:
        return int(self.col.size)

    @property
    def cell_area(self) -> float:
        """Area of a whole (unclipped) cell in m²."""
        s = self.cell_size
        return s * s if self.kind == "square" else SQRT3 / 2.0 * s * s

    @property
    def max_centre_offset(self) -> float:
        """Largest distance from a cell's centre to a point of that cell (half diagonal or circumradius)."""
        s = self.cell_size
        return s / np.sqrt(2.0) if self.kind == "square" else s / SQRT3

    def lattice_address(self, x, y):
        """Return the (unbounded) lattice address ``(col, row)`` of the cell containing each point."""
        return _lattice_address(self.kind, self.cell_size, self.origin, x, y)

    def lattice_centre(self, col, row):
        """Return centre coordinates of lattice addresses (kept or not)."""
        return _lattice_centre(self.kind, self.cell_size, self.origin, col, row)

    def to_geodataframe(self, **columns):
        """Return the cells as a GeoDataFrame in EPSG:32648 with ``cell_id`` and any extra columns."""
        import geopandas as gpd

        data = {"cell_id": np.arange(self.n_cells)}
        data.update(columns)
        return gpd.GeoDataFrame(data, geometry=self.geometry, crs=self.crs)


@dataclass(frozen=True)
class BinnedPoints:
    """Result of :func:`bin_points`.

    Attributes
    ----------
    counts : ndarray
        Points (or summed weights) per cell, length ``grid.n_cells``.
    cell_index : ndarray of int64
        Cell index of each point, -1 when the point falls in no kept cell.
    n_outside : int
        Number of points that fell in no kept cell.
    """

    counts: np.ndarray
    cell_index: np.ndarray
    n_outside: int


def _check_cell_size(cell_size):
    try:
        cell_size = float(cell_size)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.grid.cell_size_number_metres", cell_size=cell_size)) from None
    if not np.isfinite(cell_size) or cell_size <= 0:
        raise GeoInputError(message("geo.grid.cell_size_positive_number", cell_size=cell_size))
    return cell_size


def _lattice_address(kind, s, origin, x, y):
    x = np.asarray(x, dtype=float) - origin[0]
    y = np.asarray(y, dtype=float) - origin[1]
    if kind == "square":
        # In place on the fresh differences: a million points need no further temporaries.
        for v in (x, y):
            np.divide(v, s, out=v)
            np.floor(v, out=v)
        return x.astype(np.int64), y.astype(np.int64)
    # Pointy-top axial coordinates, then cube rounding (q + r + t = 0).
    r_frac = y / (s * SQRT3 / 2.0)
    q_frac = x / s - r_frac / 2.0
    t_frac = -q_frac - r_frac
    q = np.rint(q_frac)
    r = np.rint(r_frac)
    t = np.rint(t_frac)
    dq = np.abs(q - q_frac)
    dr = np.abs(r - r_frac)
    dt = np.abs(t - t_frac)
    fix_q = (dq > dr) & (dq > dt)
    fix_r = ~fix_q & (dr > dt)
    q = np.where(fix_q, -r - t, q)
    r = np.where(fix_r, -q - t, r)
    return q.astype(np.int64), r.astype(np.int64)


def _lattice_centre(kind, s, origin, col, row):
    col = np.asarray(col, dtype=float)
    row = np.asarray(row, dtype=float)
    if kind == "square":
        return origin[0] + (col + 0.5) * s, origin[1] + (row + 0.5) * s
    return origin[0] + s * (col + row / 2.0), origin[1] + s * (SQRT3 / 2.0) * row


def _cell_polygons(kind, s, cx, cy):
    cx = np.asarray(cx, dtype=float)
    cy = np.asarray(cy, dtype=float)
    if kind == "square":
        h = s / 2.0
        # shapely.box's ring order (counter-clockwise from the lower right corner).
        dx = np.array([h, h, -h, -h, h])
        dy = np.array([-h, h, h, -h, -h])
    else:
        radius = s / SQRT3
        angles = np.deg2rad(30.0 + 60.0 * np.arange(6))
        dx = np.r_[radius * np.cos(angles), radius * np.cos(angles[0])]
        dy = np.r_[radius * np.sin(angles), radius * np.sin(angles[0])]
    n, k = cx.size, dx.size
    coords = np.empty((n, k, 2))
    coords[:, :, 0] = cx[:, None] + dx[None, :]
    coords[:, :, 1] = cy[:, None] + dy[None, :]
    # One ragged array for GEOS (rings of k vertices, one ring per polygon): no per-polygon call.
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords.reshape(-1, 2),
                                     (np.arange(0, n * k + 1, k), np.arange(n + 1)))


#: Lattice steps to the cells around a cell: the 8 around a square, the 6 around a hexagon (axial q, r).
_RING = {
    "square": [(dc, dr) for dc in (-1, 0, 1) for dr in (-1, 0, 1)],
    "hex": [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)],
}
#: Side of the tiles the boundary is cut into for clipping, in cells.
_CLIP_TILE_CELLS = 16


def _cells_near_rings(kind, s, origin, boundary, cols, rows):
    """Mask of the cells (lattice addresses ``cols``, ``rows``) that the boundary's rings may cross.

    The rings are densified to vertices at most a quarter cell apart, so every point of a ring lies within
    an eighth of a cell of a vertex; the cell holding that point is then the vertex's cell or one of the
    cells around it. Every other cell is crossed by no ring: it lies wholly inside or wholly outside.
    """
    rings = shapely.segmentize(shapely.boundary(boundary), s / 4.0)
    xy = shapely.get_coordinates(rings)
    vc, vr = _lattice_address(kind, s, origin, xy[:, 0], xy[:, 1])
    c0, r0 = int(cols.min()) - 1, int(rows.min()) - 1
    width, height = int(cols.max()) - c0 + 2, int(rows.max()) - r0 + 2
    near = np.zeros((height, width), dtype=bool)
    for dc, dr in _RING[kind]:
        c, r = vc + dc - c0, vr + dr - r0
        inside = (c >= 0) & (c < width) & (r >= 0) & (r < height)
        near[r[inside], c[inside]] = True
    return near[rows - r0, cols - c0]


def _clip_to_boundary(cells, cx, cy, boundary, s, reach, origin):
    """``shapely.intersection(cells, boundary)``, each cell against the piece of the boundary around it.

    The boundary is cut once into square tiles (grown by a cell's reach, so each cell lies in the grown
    tile of its centre); a cell's intersection with that piece is its intersection with the whole boundary,
    at the cost of the piece's vertices instead of the province's.
    """
    if cells.size == 0:
        return cells
    tile = s * _CLIP_TILE_CELLS
    tx = np.floor((cx - origin[0]) / tile).astype(np.int64)
    ty = np.floor((cy - origin[1]) / tile).astype(np.int64)
    keys, which = np.unique(np.column_stack([tx, ty]), axis=0, return_inverse=True)
    grow = reach + s
    x0 = origin[0] + keys[:, 0] * tile - grow
    y0 = origin[1] + keys[:, 1] * tile - grow
    pieces = shapely.intersection(boundary, shapely.box(x0, y0, x0 + tile + 2 * grow, y0 + tile + 2 * grow))
    return shapely.intersection(cells, pieces[which.ravel()])


def _boundary_geometry(boundary):
    """Accept a shapely geometry in metres, a (xmin, ymin, xmax, ymax) tuple, or a GeoSeries/GeoDataFrame."""
    if hasattr(boundary, "crs") and hasattr(boundary, "geometry"):
        from geo.crs import to_metric

        boundary = to_metric(boundary).geometry.union_all()
    elif isinstance(boundary, (tuple, list, np.ndarray)) and len(boundary) == 4:
        boundary = shapely.box(*[float(v) for v in boundary])
    if not isinstance(boundary, shapely.Geometry):
        raise GeoInputError(
            message("geo.grid.boundary_polygon_metres_xmin", type_name=type(boundary).__name__)
        )
    if boundary.is_empty or boundary.area <= 0:
        raise GeoInputError(message("geo.grid.boundary_empty_area_give"))
    xmin, ymin, xmax, ymax = boundary.bounds
    require_metres([xmin, xmax], [ymin, ymax], what="boundary coordinates")
    return boundary


def estimate_cell_count(boundary, cell_size, kind="hex"):
    """Approximate number of cells a grid of ``cell_size`` over ``boundary`` would hold (area / cell area)."""
    boundary = _boundary_geometry(boundary)
    s = _check_cell_size(cell_size)
    cell_area = s * s if kind == "square" else SQRT3 / 2.0 * s * s
    return int(np.ceil(boundary.area / cell_area))


def make_grid(boundary, cell_size, kind="hex", *, clip=True, max_cells=MAX_CELLS) -> Grid:
    """Build a square or hexagonal grid over ``boundary``, keeping the cells that overlap it.

    Parameters
    ----------
    boundary : shapely geometry, GeoDataFrame/GeoSeries or (xmin, ymin, xmax, ymax)
        Study area. A shapely geometry or tuple must already be in metres (EPSG:32648); a GeoDataFrame
        is projected and unioned.
    cell_size : float
        Square side, or distance between adjacent hexagon centres, in metres.
    kind : {"hex", "square"}
    clip : bool, default True
        Clip cell polygons to the boundary (display only; lattice addresses and centres are unchanged).
    max_cells : int, default 200,000
        Refuse grids with more candidate cells than this (a stray point or a typo in the cell size would
        otherwise exhaust memory). sfhotspot warns above 100,000 cells for the same reason.

    Returns
    -------
    Grid

    Notes
    -----
    A cell is kept when its interior overlaps the boundary (cells that merely touch it are dropped), as
    ArcGIS *Generate Tessellation* does with an extent polygon.
    """
    if kind not in GRID_KINDS:
        raise GeoInputError(message("geo.grid.kind_one_got", grid_kinds=GRID_KINDS, kind=kind))
    s = _check_cell_size(cell_size)
    boundary = _boundary_geometry(boundary)
    xmin, ymin, xmax, ymax = boundary.bounds
    origin = (np.floor(xmin / s) * s, np.floor(ymin / s) * s)

    if kind == "square":
        c0, r0 = 0, 0
        c1 = int(np.floor((xmax - origin[0]) / s))
        r1 = int(np.floor((ymax - origin[1]) / s))
    else:
        dy = s * SQRT3 / 2.0
        r0 = int(np.floor((ymin - origin[1]) / dy)) - 1
        r1 = int(np.ceil((ymax - origin[1]) / dy)) + 1
        # q range must cover x for every row: x/s - r/2 spans both ends of the row range.
        c0 = int(np.floor((xmin - origin[0]) / s - r1 / 2.0)) - 1
        c1 = int(np.ceil((xmax - origin[0]) / s - r0 / 2.0)) + 1
    n_candidates = (c1 - c0 + 1) * (r1 - r0 + 1)
    approx_cells = estimate_cell_count(boundary, s, kind)
    if approx_cells > max_cells or n_candidates > 4 * max_cells:
        raise GeoInputError(
            message("geo.grid.cell_size_m_gives", s=s, approx_cells=approx_cells, max_cells=max_cells,
                    np=np.sqrt(boundary.area / max_cells * (1 if kind == 'square' else 2 / SQRT3)))
        )
    cols, rows = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
    cols = cols.ravel().astype(np.int64)
    rows = rows.ravel().astype(np.int64)
    cx, cy = _lattice_centre(kind, s, origin, cols, rows)
    # Cheap pre-filter on centres before building polygons.
    reach = s / np.sqrt(2.0) if kind == "square" else s / SQRT3
    near = (cx >= xmin - reach) & (cx <= xmax + reach) & (cy >= ymin - reach) & (cy <= ymax + reach)
    cols, rows, cx, cy = cols[near], rows[near], cx[near], cy[near]

    shapely.prepare(boundary)
    # A cell the boundary's rings do not cross lies wholly inside or wholly outside: its centre decides.
    # Only the cells near the rings get a polygon and the exact predicates.
    doubt = _cells_near_rings(kind, s, origin, boundary, cols, rows)
    keep = np.zeros(cols.size, dtype=bool)
    clear = np.flatnonzero(~doubt)
    keep[clear] = shapely.contains_xy(boundary, cx[clear], cy[clear])
    doubt_idx = np.flatnonzero(doubt)
    doubt_cells = _cell_polygons(kind, s, cx[doubt_idx], cy[doubt_idx])
    inside = shapely.contains(boundary, doubt_cells)
    edge = ~inside & shapely.intersects(boundary, doubt_cells)
    edge_idx = np.flatnonzero(edge)
    clipped = _clip_to_boundary(doubt_cells[edge_idx], cx[doubt_idx[edge_idx]], cy[doubt_idx[edge_idx]], boundary,
                                s, reach, origin)
    overlaps = shapely.area(clipped) > 1e-9 * s * s
    keep[doubt_idx[inside]] = True
    keep[doubt_idx[edge_idx[overlaps]]] = True
    keep_idx = np.flatnonzero(keep)
    if keep_idx.size == 0:
        raise GeoInputError(message("geo.grid.grid_cell_overlaps_boundary"))

    # Polygons of the cells kept (the clipped ones where they meet the boundary), in lattice order.
    cells = _cell_polygons(kind, s, cx[keep_idx], cy[keep_idx])
    position = np.full(keep.size, -1, dtype=np.int64)
    position[keep_idx] = np.arange(keep_idx.size)
    cut = doubt_idx[edge_idx[overlaps]]
    if clip:
        cells[position[cut]] = clipped[overlaps]
    cols, rows = cols[keep_idx], rows[keep_idx]
    col_min, row_min = int(cols.min()), int(rows.min())
    lookup = np.full((int(rows.max()) - row_min + 1, int(cols.max()) - col_min + 1), -1, dtype=np.int64)
    lookup[rows - row_min, cols - col_min] = np.arange(keep_idx.size)
    return Grid(
        kind=kind,
        cell_size=s,
        origin=(float(origin[0]), float(origin[1])),
        col=cols,
        row=rows,
        x=cx[keep_idx],
        y=cy[keep_idx],
        geometry=cells,
        lookup=lookup,
        col_min=col_min,
        row_min=row_min,
    )


def cell_index_of(grid: Grid, col, row):
    """Return the kept-cell index for lattice addresses, -1 where no kept cell exists."""
    col = np.asarray(col, dtype=np.int64) - grid.col_min
    row = np.asarray(row, dtype=np.int64) - grid.row_min
    n_rows, n_cols = grid.lookup.shape
    valid = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)
    if valid.all():  # a grid over the points' own hull: one gather, no masked copies of a million addresses
        return grid.lookup[row, col]
    out = np.full(col.shape, -1, dtype=np.int64)
    out[valid] = grid.lookup[row[valid], col[valid]]
    return out


def bin_points(grid: Grid, x, y, weights=None, *, outside="ignore") -> BinnedPoints:
    """Count points (or sum their weights) per grid cell.

    Parameters
    ----------
    grid : Grid
    x, y : array_like
        Point coordinates in metres (EPSG:32648); longitude/latitude is refused.
    weights : array_like, optional
        Weight of each point (for example number of offenders); counts when omitted.
    outside : {"ignore", "raise"}, default "ignore"
        What to do with points that fall in no kept cell: give them cell index -1, or refuse the input.

    Returns
    -------
    BinnedPoints

    Notes
    -----
    Pure integer arithmetic on the lattice (floor division for squares, cube rounding of axial
    coordinates for hexagons) followed by ``np.bincount``; no geometric predicate is evaluated, so the
    cost is linear in the number of points. A point exactly on a shared edge goes to the cell on its
    upper/right side (floor convention). Points in a boundary cell but outside the boundary itself count.
    """
    if outside not in ("ignore", "raise"):
        raise GeoInputError(message("geo.grid.outside_ignore_raise_got", outside=outside))
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(message("geo.grid.x_y_same_length", x_size=x.size, y_size=y.size))
    if x.size == 0:
        raise GeoInputError(message("geo.grid.points_bin_x_y"))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise GeoInputError(message("geo.grid.x_y_contain_nan"))
    require_metres(x, y, what="point coordinates")
    if weights is not None:
        weights = np.asarray(weights, dtype=float).ravel()
        if weights.shape != x.shape:
            raise GeoInputError(message("geo.grid.weights_one_value_per", x_size=x.size, weights_size=weights.size))
        if not np.isfinite(weights).all():
            raise GeoInputError(message("geo.grid.weights_contain_nan_infinite"))
    col, row = grid.lattice_address(x, y)
    cell_index = cell_index_of(grid, col, row)
    inside = cell_index >= 0
    n_outside = int(x.size - np.count_nonzero(inside))
    if n_outside == x.size:
        raise GeoInputError(
            message("geo.grid.all_points_fall_outside", x_size=x.size, grid_x=grid.x.min(), grid_x2=grid.x.max(),
                    grid_y=grid.y.min(), grid_y2=grid.y.max())
        )
    if n_outside and outside == "raise":
        raise GeoInputError(message("geo.grid.points_fall_outside_grid", n_outside=n_outside, x_size=x.size))
    if weights is None:
        counts = np.bincount(cell_index[inside], minlength=grid.n_cells)
    else:
        counts = np.bincount(cell_index[inside], weights=weights[inside], minlength=grid.n_cells)
    return BinnedPoints(counts=counts, cell_index=cell_index, n_outside=n_outside)


def standard_distance(x, y) -> float:
    """Standard distance (ArcGIS *Standard Distance*, one standard deviation): √(σx² + σy²)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.sqrt(x.var() + y.var()))


def locational_outliers(x, y, n_std=3.0):
    """Boolean mask of points farther than ``n_std`` standard distances from the mean centre.

    Notes
    -----
    ArcGIS Optimized Hot Spot Analysis reports such stray points and leaves them out when it sizes the
    fishnet, so that a single mis-geocoded incident cannot blow up the grid extent.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    sd = standard_distance(x, y)
    d = np.hypot(x - x.mean(), y - y.mean())
    return d > n_std * sd


def default_cell_size(x, y, *, method="arcgis", boundary=None, min_points=None) -> float:
    """Default cell size (metres) for aggregating incident points, in the manner of the named tool.

    Parameters
    ----------
    x, y : array_like
        Incident coordinates in metres.
    method : {"arcgis", "sfhotspot"}
        ``"arcgis"`` — Optimized Hot Spot Analysis fishnet: with ``m`` and ``d`` the mean and median
        nearest-neighbour distance between distinct locations, cell = max(m, d) × max(2, max(m, d) /
        min(m, d)). ``"sfhotspot"`` — about 50 cells along the shorter side of the points' bounding box.
    boundary : geometry, optional
        When given, ArcGIS needs 30 incidents instead of 60.
    min_points : int, optional
        Override the minimum number of incidents (ArcGIS: 60 without a boundary, 30 with one).

    Returns
    -------
    float

    Notes
    -----
    Locational outliers (more than 3 standard distances from the mean centre) are ignored first, so a
    stray point cannot produce an absurd extent or cell count.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size == 0:
        raise GeoInputError(message("geo.grid.points_cannot_choose_default"))
    require_metres(x, y, what="point coordinates")
    if min_points is None:
        min_points = 30 if boundary is not None else 60
    if x.size < min_points:
        raise GeoInputError(
            message("geo.grid.too_few_incidents_choose", x_size=x.size, min_points=min_points)
        )
    keep = ~locational_outliers(x, y)
    x, y = x[keep], y[keep]
    if method == "sfhotspot":
        short = min(np.ptp(x), np.ptp(y))
        if short <= 0:
            raise GeoInputError(message("geo.grid.all_incidents_lie_one"))
        return float(short / 50.0)
    if method != "arcgis":
        raise GeoInputError(message("geo.grid.method_arcgis_sfhotspot_got", method=method))
    from scipy.spatial import cKDTree

    xy = np.unique(np.column_stack([x, y]), axis=0)
    if xy.shape[0] < 3:
        raise GeoInputError(message("geo.grid.fewer_than_distinct_incident"))
    dist, _ = cKDTree(xy).query(xy, k=2)
    nn = dist[:, 1]
    mean_nn, median_nn = float(nn.mean()), float(np.median(nn))
    big, small = max(mean_nn, median_nn), min(mean_nn, median_nn)
    ratio = big / small if small > 0 else 2.0
    return float(big * max(2.0, ratio))
