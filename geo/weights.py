"""Spatial weights as binary ``scipy.sparse`` CSR matrices.

Row ``i`` lists the neighbours of unit ``i`` with weight 1. The diagonal (the unit itself) is 0 unless
``include_self=True`` — Getis-Ord Gi* needs it, Local Moran's I must not have it. Definitions follow
PySAL libpysal (``Queen``, ``Rook``, ``DistanceBand(binary=True)``, ``KNN``) so results can be checked
against it; for regular grids the same neighbourhoods are built from lattice offsets, without any
geometric predicate.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import shapely

from geo.errors import GeoInputError
from geo.grid import SQRT3, Grid, cell_index_of

CONTIGUITY_KINDS = ("queen", "rook")
# Distances within this relative tolerance of the band count as inside it, so that a band equal to a lattice
# distance (for example the cell size) catches every such neighbour whatever the floating-point rounding.
BAND_TOLERANCE = 1e-9


def _csr(rows, cols, n, include_self):
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    off = rows != cols
    rows, cols = rows[off], cols[off]
    if include_self:
        diag = np.arange(n, dtype=np.int64)
        rows = np.concatenate([rows, diag])
        cols = np.concatenate([cols, diag])
    w = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    w.sum_duplicates()
    w.data[:] = 1.0
    w.sort_indices()
    return w


def _as_geometries(polygons):
    if hasattr(polygons, "geometry"):
        polygons = polygons.geometry.values
    geoms = np.asarray(polygons, dtype=object)
    if geoms.size == 0:
        raise GeoInputError("no polygons given: cannot build contiguity weights")
    return geoms


def contiguity(polygons, kind="queen", *, include_self=False):
    """Queen or rook contiguity between polygons (for example communes).

    Parameters
    ----------
    polygons : GeoDataFrame, GeoSeries or array of shapely polygons
    kind : {"queen", "rook"}
        Queen: neighbours share at least one boundary point. Rook: they share a boundary segment of
        positive length.
    include_self : bool, default False

    Returns
    -------
    scipy.sparse.csr_matrix
        Binary, symmetric, shape (n, n).

    Notes
    -----
    Candidate pairs come from a ``shapely.STRtree`` query with the ``intersects`` predicate, so slightly
    overlapping digitised boundaries still count as neighbours. libpysal ``Queen``/``Rook`` match on shared
    vertices instead; both agree on topologically clean data.
    """
    if kind not in CONTIGUITY_KINDS:
        raise GeoInputError(f"kind must be one of {CONTIGUITY_KINDS}, got {kind!r}")
    geoms = _as_geometries(polygons)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    if kind == "rook" and left.size:
        shared = shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
        overlap = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 0
        edge = (shapely.length(shared) > 0) | overlap
        left, right = left[edge], right[edge]
    rows = np.concatenate([left, right])
    cols = np.concatenate([right, left])
    return _csr(rows, cols, geoms.size, include_self)


def _grid_offsets(grid: Grid, kind_or_threshold):
    """Lattice offsets (dcol, drow) of the neighbourhood, excluding (0, 0)."""
    if isinstance(kind_or_threshold, str):
        if grid.kind == "hex":
            # Hexagons share edges with exactly six neighbours: queen and rook coincide.
            return np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)])
        if kind_or_threshold == "rook":
            return np.array([(1, 0), (-1, 0), (0, 1), (0, -1)])
        return np.array([(dc, dr) for dc in (-1, 0, 1) for dr in (-1, 0, 1) if (dc, dr) != (0, 0)])
    threshold = float(kind_or_threshold)
    reach = int(np.ceil(threshold / (grid.cell_size * (SQRT3 / 2.0 if grid.kind == "hex" else 1.0)))) + 1
    dc, dr = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1))
    dc, dr = dc.ravel(), dr.ravel()
    # Distances computed exactly as between centres, so that the band matches a KD-tree on the centres.
    x0, y0 = grid.lattice_centre(0, 0)
    x1, y1 = grid.lattice_centre(dc, dr)
    d = np.hypot(x1 - x0, y1 - y0)
    keep = (d <= threshold * (1 + BAND_TOLERANCE)) & ~((dc == 0) & (dr == 0))
    return np.column_stack([dc[keep], dr[keep]])


def _grid_weights(grid: Grid, offsets, include_self):
    n = grid.n_cells
    rows, cols = [], []
    for dc, dr in offsets:
        j = cell_index_of(grid, grid.col + dc, grid.row + dr)
        ok = j >= 0
        rows.append(np.flatnonzero(ok))
        cols.append(j[ok])
    rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
    cols = np.concatenate(cols) if cols else np.empty(0, np.int64)
    return _csr(rows, cols, n, include_self)


def grid_contiguity(grid: Grid, kind="queen", *, include_self=False):
    """Queen (8 neighbours) or rook (4) contiguity on a square grid; the 6 edge neighbours on hexagons.

    Parameters
    ----------
    grid : Grid
    kind : {"queen", "rook"}
    include_self : bool, default False

    Returns
    -------
    scipy.sparse.csr_matrix

    Notes
    -----
    Built from lattice offsets, so it equals libpysal ``lat2W``/``Queen`` on the unclipped cells without
    any polygon test. Cells clipped by the boundary keep their lattice neighbours.
    """
    if kind not in CONTIGUITY_KINDS:
        raise GeoInputError(f"kind must be one of {CONTIGUITY_KINDS}, got {kind!r}")
    return _grid_weights(grid, _grid_offsets(grid, kind), include_self)


def _check_threshold(threshold):
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise GeoInputError(f"threshold must be a distance in metres, got {threshold!r}") from None
    if not np.isfinite(threshold) or threshold <= 0:
        raise GeoInputError(f"threshold must be a positive distance in metres, got {threshold!r}")
    return threshold


def grid_distance_band(grid: Grid, threshold, *, include_self=False):
    """Fixed distance band between grid cell centres (``d <= threshold``), from lattice offsets.

    Equals :func:`distance_band` on ``(grid.x, grid.y)`` (and libpysal ``DistanceBand``), in time linear in
    the number of cells.
    """
    threshold = _check_threshold(threshold)
    if threshold > 200 * grid.cell_size:
        raise GeoInputError(
            f"threshold={threshold:g} m is more than 200 cells wide (cell_size={grid.cell_size:g} m); "
            f"use a smaller distance band or a larger cell"
        )
    return _grid_weights(grid, _grid_offsets(grid, threshold), include_self)


def _coords(x, y):
    from geo.crs import require_metres

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 2:
        raise GeoInputError(f"at least 2 locations are needed for neighbours, got {x.size}")
    require_metres(x, y, what="unit coordinates")
    return np.column_stack([x, y])


def distance_band(x, y, threshold, *, include_self=False):
    """Binary fixed distance band: ``w_ij = 1`` when ``0 < d_ij <= threshold`` (metres).

    Parameters
    ----------
    x, y : array_like
        Unit locations (centroids) in metres.
    threshold : float
        Band in metres.
    include_self : bool, default False

    Returns
    -------
    scipy.sparse.csr_matrix

    Notes
    -----
    ``scipy.spatial.cKDTree.sparse_distance_matrix``, as libpysal ``DistanceBand(binary=True)``.
    Coincident locations are neighbours of each other. Distances within a relative 1e-9 of the threshold
    count as inside (``BAND_TOLERANCE``), so lattice neighbours exactly one band away are never lost to
    rounding.
    """
    from scipy.spatial import cKDTree

    xy = _coords(x, y)
    threshold = _check_threshold(threshold)
    tree = cKDTree(xy)
    pairs = tree.query_pairs(threshold * (1 + BAND_TOLERANCE), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return _csr(rows, cols, xy.shape[0], include_self)


def knn(x, y, k, *, include_self=False):
    """k nearest neighbours (asymmetric in general), as libpysal ``KNN``.

    Parameters
    ----------
    x, y : array_like
        Unit locations in metres.
    k : int
        Number of neighbours, 1 <= k < n.
    include_self : bool, default False

    Returns
    -------
    scipy.sparse.csr_matrix
        Row ``i`` has exactly ``k`` off-diagonal ones.

    Notes
    -----
    ``scipy.spatial.cKDTree.query`` with ``k + 1`` and the unit itself removed; ties at the k-th distance
    are broken by the tree's order, as in libpysal.
    """
    from scipy.spatial import cKDTree

    xy = _coords(x, y)
    n = xy.shape[0]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k < n:
        raise GeoInputError(f"k must be an integer between 1 and n-1={n - 1}, got {k!r}")
    _, idx = cKDTree(xy).query(xy, k=k + 1)
    rows = np.repeat(np.arange(n), k + 1).reshape(n, k + 1)
    not_self = idx != rows
    # When duplicates make the unit itself not come first, drop the farthest extra instead.
    keep = np.zeros_like(not_self)
    order = np.cumsum(not_self, axis=1)
    keep[not_self & (order <= k)] = True
    return _csr(rows[keep], idx[keep], n, include_self)


def with_self(weights, value=1.0):
    """Return a copy of ``weights`` with the diagonal set to ``value`` (Gi* includes each unit itself)."""
    w = sp.csr_matrix(weights, dtype=float)
    n = w.shape[0]
    w = (w + sp.diags(np.broadcast_to(np.asarray(value, dtype=float), (n,)) - w.diagonal())).tocsr()
    w.eliminate_zeros()
    w.sort_indices()
    return w


def check_weights(weights, n):
    """Validate a weights matrix for ``n`` units and return it as a float CSR matrix."""
    if not sp.issparse(weights):
        weights = sp.csr_matrix(np.asarray(weights, dtype=float))
    w = sp.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise GeoInputError(f"weights must be an {n}×{n} matrix (one row per unit), got shape {w.shape}")
    if w.nnz and (not np.isfinite(w.data).all() or (w.data < 0).any()):
        raise GeoInputError("weights must be finite and non-negative")
    return w
