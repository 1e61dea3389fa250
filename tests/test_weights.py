"""Spatial weights (geo/weights.py), checked against libpysal."""
import numpy as np
import pytest
import shapely

from geo.errors import GeoInputError
from geo.grid import make_grid
from geo.weights import contiguity, distance_band, grid_contiguity, grid_distance_band, knn, with_self

X0, Y0 = 560_000.0, 1_150_000.0


def _dense(w):
    return w.toarray()


def test_contiguity_queen_and_rook_on_a_lattice_of_polygons():
    boxes = [shapely.box(X0 + c, Y0 + r, X0 + c + 1, Y0 + r + 1) for r in range(3) for c in range(3)]
    queen = _dense(contiguity(boxes, "queen"))
    rook = _dense(contiguity(boxes, "rook"))
    assert queen[4].sum() == 8 and rook[4].sum() == 4
    assert queen[0].sum() == 3 and rook[0].sum() == 2
    assert (queen == queen.T).all() and np.diag(queen).sum() == 0
    assert np.diag(_dense(contiguity(boxes, "queen", include_self=True))).sum() == 9


def test_remembered_contiguity_is_a_fresh_matrix_and_follows_the_polygons():
    boxes = [shapely.box(X0 + c, Y0, X0 + c + 1, Y0 + 1) for c in range(3)]
    first = contiguity(boxes, "queen")
    first.data[:] = 7  # a caller scaling its matrix in place does not change the next caller's
    again = contiguity(boxes, "queen")
    assert _dense(again).tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    apart = [shapely.box(X0 + 3 * c, Y0, X0 + 3 * c + 1, Y0 + 1) for c in range(3)]
    assert _dense(contiguity(apart, "queen")).sum() == 0  # other polygons, other matrix


def test_contiguity_matches_libpysal_on_columbus():
    libpysal = pytest.importorskip("libpysal")
    import geopandas as gpd

    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    for ours, theirs in (("queen", libpysal.weights.Queen), ("rook", libpysal.weights.Rook)):
        expected = theirs.from_dataframe(frame, use_index=False).sparse.toarray()
        assert np.array_equal(_dense(contiguity(frame, ours)), expected)


@pytest.mark.parametrize("kind", ["square", "hex"])
def test_grid_contiguity_equals_polygon_contiguity(kind):
    area = shapely.Point(X0, Y0).buffer(3000)
    grid = make_grid(area, 500, kind, clip=False)
    for rule in ("queen", "rook"):
        assert np.array_equal(_dense(grid_contiguity(grid, rule)), _dense(contiguity(grid.geometry, rule)))


@pytest.mark.parametrize("kind", ["square", "hex"])
@pytest.mark.parametrize("threshold", [500.0, 750.0, 1200.0])
def test_grid_distance_band_equals_kdtree(kind, threshold):
    grid = make_grid(shapely.Point(X0, Y0).buffer(4000), 500, kind)
    lattice = grid_distance_band(grid, threshold)
    tree = distance_band(grid.x, grid.y, threshold)
    assert (lattice != tree).nnz == 0


def test_distance_band_matches_libpysal():
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 5000, (200, 2)) + [X0, Y0]
    expected = libpysal.weights.DistanceBand(xy, 600, binary=True, silence_warnings=True).sparse
    assert (distance_band(xy[:, 0], xy[:, 1], 600) != expected).nnz == 0


def test_knn_matches_libpysal():
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 5000, (150, 2)) + [X0, Y0]
    expected = libpysal.weights.KNN(xy, k=5).sparse
    ours = knn(xy[:, 0], xy[:, 1], 5)
    assert (ours != expected).nnz == 0
    assert (np.diff(ours.indptr) == 5).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 4, 5, 8])
def test_knn_breaks_ties_as_libpysal_on_integer_coordinates(seed, k):
    # Integer lattice coordinates: most units have several neighbours exactly at the k-th distance, so the
    # result depends on tie-breaking. A scipy tree with its default leaf size picks other tied units.
    libpysal = pytest.importorskip("libpysal")
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    lattice = np.unique(rng.integers(0, 15, (300, 2)), axis=0)
    xy = rng.permutation(lattice).astype(float) * 100 + [X0, Y0]
    distances, _ = cKDTree(xy).query(xy, k=k + 2)
    assert (distances[:, k] == distances[:, k + 1]).sum() > len(xy) / 4  # ties at the k-th distance abound
    expected = libpysal.weights.KNN(xy, k=k, silence_warnings=True).sparse
    ours = knn(xy[:, 0], xy[:, 1], k)
    assert (ours != expected).nnz == 0
    assert (np.diff(ours.indptr) == k).all()


def test_knn_with_coincident_units_matches_libpysal():
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(7)
    xy = rng.integers(0, 6, (80, 2)).astype(float) * 50 + [X0, Y0]  # many exact duplicates
    expected = libpysal.weights.KNN(xy, k=3, silence_warnings=True).sparse
    assert (knn(xy[:, 0], xy[:, 1], 3) != expected).nnz == 0


def test_with_self_sets_the_diagonal_only():
    w = distance_band([X0, X0 + 10, X0 + 1000], [Y0, Y0, Y0], 50)
    assert np.array_equal(_dense(with_self(w)), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])


def test_bad_weight_inputs():
    with pytest.raises(GeoInputError, match="kind"):
        contiguity([shapely.box(0, 0, 1, 1)], "bishop")
    with pytest.raises(GeoInputError, match="no polygons"):
        contiguity([], "queen")
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        distance_band([105.1, 105.2], [10.1, 10.2], 1000)
    with pytest.raises(GeoInputError, match="threshold"):
        distance_band([X0, X0 + 1], [Y0, Y0], -5)
    with pytest.raises(GeoInputError, match="k must be"):
        knn([X0, X0 + 1, X0 + 2], [Y0, Y0, Y0], 3)
    with pytest.raises(GeoInputError, match="at least 2 locations"):
        knn([X0], [Y0], 1)


def test_degrees_error_suggests_the_utm_zone_of_the_data():
    from geo.crs import DegreesNotMetresError, utm_crs_of

    assert utm_crs_of([105.6, 105.7], [10.4, 10.5]) == "EPSG:32648"  # Đồng Tháp
    assert utm_crs_of([-0.1], [51.5]) == "EPSG:32630"                # London
    assert utm_crs_of([151.2], [-33.9]) == "EPSG:32756"              # Sydney
    assert utm_crs_of([179.9], [0.0]) == "EPSG:32660"
    with pytest.raises(DegreesNotMetresError, match="EPSG:32633") as caught:
        knn([14.40, 14.41, 14.42], [50.08, 50.09, 50.10], 1)
    assert caught.value.suggested_crs == "EPSG:32633"
