"""Spatial weights as binary ``scipy.sparse`` CSR matrices.

Row ``i`` lists the neighbours of unit ``i`` with weight 1. The diagonal (the unit itself) is 0 unless
``include_self=True`` — Getis-Ord Gi* needs it, Local Moran's I must not have it. Definitions follow
PySAL libpysal (``Queen``, ``Rook``, ``DistanceBand(binary=True)``, ``KNN``) so results can be checked
against it; for regular grids the same neighbourhoods are built from lattice offsets, without any
geometric predicate.
"""
from __future__ import annotations

import hashlib
import threading

import numpy as np
import shapely

from geo.errors import GeoInputError
from geo.grid import SQRT3, Grid, cell_index_of
from translations import message

CONTIGUITY_KINDS = ("queen", "rook")
# Distances within this relative tolerance of the band count as inside it, so that a band equal to a lattice
# distance (for example the cell size) catches every such neighbour whatever the floating-point rounding.
BAND_TOLERANCE = 1e-9
# libpysal builds its KD-tree with scipy's cKDTree and a leaf size of 10 (libpysal.cg.KDTree); scipy's own default
# is 16. Units tied at the k-th distance come out of the tree in an order that depends on its shape, so only the
# same leaf size picks the same tied neighbours.
LIBPYSAL_KDTREE_LEAFSIZE = 10


def _csr(rows, cols, n, include_self):
    import scipy.sparse as sp

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
        raise GeoInputError(message("geo.weights.polygons_given_cannot_build"))
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
        raise GeoInputError(message("geo.weights.kind_one_got", contiguity_kinds=CONTIGUITY_KINDS, kind=kind))
    geoms = _as_geometries(polygons)
    # The same communes come back on every page view: remember the matrix by the polygons' exact bytes.
    key = (kind, include_self, hashlib.blake2b(b"".join(shapely.to_wkb(geoms)), digest_size=16).digest())
    with _CONTIGUITY_LOCK:
        known = _CONTIGUITY.get(key)
    if known is not None:
        return known.copy()
    matrix = _contiguity(geoms, kind, include_self)
    with _CONTIGUITY_LOCK:
        if len(_CONTIGUITY) >= 32:
            _CONTIGUITY.pop(next(iter(_CONTIGUITY)))
        _CONTIGUITY[key] = matrix
    return matrix.copy()


_CONTIGUITY: dict = {}
_CONTIGUITY_LOCK = threading.Lock()


def _contiguity(geoms, kind, include_self):
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


def grid_neighbour_sums(grid: Grid, neighbours, values, *, include_self=False):
    """Sums over each cell's binary lattice neighbourhood, without building a weights matrix.

    Parameters
    ----------
    grid : Grid
    neighbours : {"queen", "rook"} or float
        Contiguity, or a distance band in metres, as :func:`grid_contiguity` / :func:`grid_distance_band`.
    values : ndarray, shape (n_cells,)
    include_self : bool, default False

    Returns
    -------
    lag : ndarray
        ``Σ_j w_ij x_j`` — the same as ``W @ values`` with ``W`` from :func:`grid_contiguity` or
        :func:`grid_distance_band`.
    cardinality : ndarray of int64
        ``Σ_j w_ij`` (= ``Σ_j w_ij²`` for binary weights): neighbours, the cell itself counted when
        ``include_self``.

    Notes
    -----
    A binary lattice neighbourhood is a fixed set of offsets, so the spatial lag is a sum of shifted
    copies of the values (a convolution of the grid with the neighbourhood's footprint). This needs no
    sparse matrix at all, which is what the command line uses for analytical Gi* on a grid.
    """
    if isinstance(neighbours, str):
        if neighbours not in CONTIGUITY_KINDS:
            raise GeoInputError(message("geo.weights.kind_one_got_3", contiguity_kinds=CONTIGUITY_KINDS,
                                        neighbours=neighbours))
        offsets = _grid_offsets(grid, neighbours)
    else:
        offsets = _band_offsets(grid, neighbours)
    values = np.asarray(values, dtype=float)
    if values.shape != (grid.n_cells,):
        raise GeoInputError(message("geo.weights.values_one_value_per", grid_n_cells=grid.n_cells,
                                    shape=values.shape))
    lag = values.copy() if include_self else np.zeros(grid.n_cells)
    cardinality = np.full(grid.n_cells, 1 if include_self else 0, dtype=np.int64)
    padded = np.r_[values, 0.0]  # index -1 (no cell there) reads the 0 appended
    for dc, dr in offsets:
        j = cell_index_of(grid, grid.col + dc, grid.row + dr)
        lag += padded[j]
        cardinality += j >= 0
    return lag, cardinality


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
        raise GeoInputError(message("geo.weights.kind_one_got", contiguity_kinds=CONTIGUITY_KINDS, kind=kind))
    return _grid_weights(grid, _grid_offsets(grid, kind), include_self)


def _check_threshold(threshold):
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.weights.threshold_distance_metres_got", threshold=threshold)) from None
    if not np.isfinite(threshold) or threshold <= 0:
        raise GeoInputError(message("geo.weights.threshold_positive_distance_metres", threshold=threshold))
    return threshold


def grid_distance_band(grid: Grid, threshold, *, include_self=False):
    """Fixed distance band between grid cell centres (``d <= threshold``), from lattice offsets.

    Equals :func:`distance_band` on ``(grid.x, grid.y)`` (and libpysal ``DistanceBand``), in time linear in
    the number of cells.
    """
    return _grid_weights(grid, _band_offsets(grid, threshold), include_self)


def _band_offsets(grid: Grid, threshold):
    threshold = _check_threshold(threshold)
    if threshold > 200 * grid.cell_size:
        raise GeoInputError(
            message("geo.weights.threshold_m_more_than", threshold=threshold, grid_cell_size=grid.cell_size)
        )
    return _grid_offsets(grid, threshold)


def _coords(x, y):
    from geo.crs import require_metres

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(message("geo.weights.x_y_same_length", x_size=x.size, y_size=y.size))
    if x.size < 2:
        raise GeoInputError(message("geo.weights.least_locations_needed_neighbours", x_size=x.size))
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
    ``scipy.spatial.cKDTree.query`` with ``k + 1`` and the unit itself removed, as libpysal
    ``weights.KNN`` does. **Ties.** When several units lie exactly at the k-th distance (common on grids
    and on integer or rounded coordinates) only ``k`` of them are kept, the ones the KD-tree returns
    first. That order depends on the tree's shape, so the tree is built exactly as libpysal builds it
    (``cKDTree`` with ``leafsize=10``, :data:`LIBPYSAL_KDTREE_LEAFSIZE`; scipy's default of 16 picks other
    tied units): the same coordinates in the same order give libpysal's neighbours, ties included. The
    choice among tied units is otherwise arbitrary; use a distance band when every unit at a distance
    must count.
    """
    from scipy.spatial import cKDTree

    xy = _coords(x, y)
    n = xy.shape[0]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k < n:
        raise GeoInputError(message("geo.weights.k_integer_between_n", n=n - 1, k=k))
    _, idx = cKDTree(xy, leafsize=LIBPYSAL_KDTREE_LEAFSIZE).query(xy, k=k + 1)
    rows = np.repeat(np.arange(n), k + 1).reshape(n, k + 1)
    not_self = idx != rows
    # When duplicates make the unit itself not come first, drop the farthest extra instead.
    keep = np.zeros_like(not_self)
    order = np.cumsum(not_self, axis=1)
    keep[not_self & (order <= k)] = True
    return _csr(rows[keep], idx[keep], n, include_self)


def with_self(weights, value=1.0):
    """Return a copy of ``weights`` with the diagonal set to ``value`` (Gi* includes each unit itself)."""
    import scipy.sparse as sp

    w = sp.csr_matrix(weights, dtype=float)
    n = w.shape[0]
    w = (w + sp.diags(np.broadcast_to(np.asarray(value, dtype=float), (n,)) - w.diagonal())).tocsr()
    w.eliminate_zeros()
    w.sort_indices()
    return w


def check_weights(weights, n):
    """Validate a weights matrix for ``n`` units and return it as a float CSR matrix."""
    import scipy.sparse as sp

    if not sp.issparse(weights):
        weights = sp.csr_matrix(np.asarray(weights, dtype=float))
    w = sp.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise GeoInputError(message("geo.weights.weights_matrix_one_row", n=n, w_shape=w.shape))
    if w.nnz and (not np.isfinite(w.data).all() or (w.data < 0).any()):
        raise GeoInputError(message("geo.weights.weights_finite_non_negative"))
    return w
