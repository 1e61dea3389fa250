"""Local Moran's I (geo/lisa.py) against PySAL esda."""
import numpy as np
import pytest

from geo.errors import GeoInputError
from geo.lisa import NOT_SIGNIFICANT, local_moran
from geo.weights import contiguity, knn

libpysal = pytest.importorskip("libpysal")
esda = pytest.importorskip("esda")
gpd = pytest.importorskip("geopandas")


@pytest.fixture(scope="module")
def columbus():
    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    return frame["CRIME"].to_numpy(float), contiguity(frame, "queen")


@pytest.mark.parametrize("transform", ["r", "b"])
def test_columbus_local_i_matches_esda(columbus, transform):
    y, w = columbus
    ours = local_moran(y, w, transform=transform, permutations=0)
    peer = esda.Moran_Local(y, libpysal.weights.WSP(w).to_W(), transformation=transform.upper(),
                            permutations=0)
    np.testing.assert_allclose(ours.I, peer.Is, rtol=0, atol=1e-9)
    assert np.array_equal(ours.quadrant, peer.q)
    assert (ours.label == NOT_SIGNIFICANT).all()


def test_st_louis_local_i_matches_esda():
    try:
        path = libpysal.examples.get_path("stl_hom.shp")
    except Exception:
        pytest.skip("libpysal does not bundle stl_hom offline")
    frame = gpd.read_file(path)
    y = frame["HR8893"].to_numpy(float)
    c = frame.geometry.centroid
    w = knn(c.x.to_numpy() * 1e5, c.y.to_numpy() * 1e5, 6)
    peer = esda.Moran_Local(y, libpysal.weights.WSP(w).to_W(), permutations=0)
    np.testing.assert_allclose(local_moran(y, w, permutations=0).I, peer.Is, rtol=0, atol=1e-9)


def test_permutations_are_seeded_and_labels_follow_significance(columbus):
    y, w = columbus
    a = local_moran(y, w, permutations=999, seed=3, alpha=0.05)
    b = local_moran(y, w, permutations=999, seed=3, alpha=0.05)
    assert np.array_equal(a.p_sim, b.p_sim)
    significant = a.p_sim <= 0.05
    codes = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
    assert all(a.label[i] == codes[a.quadrant[i]] for i in np.flatnonzero(significant))
    assert (a.label[~significant] == NOT_SIGNIFICANT).all()
    assert {"HH", "LL"} <= set(a.label)
    peer = esda.Moran_Local(y, libpysal.weights.WSP(w).to_W(), permutations=999, seed=1)
    assert np.abs(a.p_sim - peer.p_sim).max() < 0.08


def test_bad_inputs_are_named(columbus):
    y, w = columbus
    with pytest.raises(GeoInputError, match="zero variance"):
        local_moran(np.full(y.size, 3.0), w)
    with pytest.raises(GeoInputError, match="too few units"):
        local_moran(y[:10], w[:10, :10])
    with pytest.raises(GeoInputError, match="diagonal"):
        local_moran(y, w + __import__("scipy").sparse.identity(y.size))
    with pytest.raises(GeoInputError, match="transform"):
        local_moran(y, w, transform="v")


def _draw_by_draw_larger(values, offdiag, observed, shift, scale, permutations, seed):
    """Simulations at least as large as observed, each draw's neighbours gathered one by one (the reference)."""
    from geo.permutation import _tie_tolerance

    n = values.size
    rng = np.random.default_rng(seed)
    card = np.diff(offdiag.indptr)
    draws = np.array([rng.choice(n - 1, size=int(card.max()), replace=False) for _ in range(permutations)])
    larger = np.zeros(n)
    for i in range(n):
        k = card[i]
        w = offdiag.data[offdiag.indptr[i]:offdiag.indptr[i + 1]]
        d = draws[:, :k]
        sim = shift[i] + scale[i] * (values[d + (d >= i)] * w).sum(axis=1)
        floor = observed[i] - _tie_tolerance(values, k, shift[i], scale[i] * np.abs(w).max(), observed[i])
        larger[i] = (sim >= floor).sum()
    return larger


@pytest.mark.parametrize("values_kind", ["sparse counts", "continuous"])
def test_permutation_counts_equal_draw_by_draw_on_a_grid(values_kind):
    """Counts of a fine grid (few distinct tests: the rows are grouped by test) and continuous values (one
    test per row: the draw loop) give the pseudo p-values of the draw-by-draw reference."""
    from geo.grid import make_grid
    from geo.permutation import conditional_permutation_p
    from geo.weights import grid_contiguity

    grid = make_grid((500_000, 1_100_000, 520_000, 1_112_000), 500, "hex")
    rng = np.random.default_rng(7)
    n = grid.n_cells
    if values_kind == "sparse counts":
        values = np.where(rng.random(n) < 0.15, rng.poisson(2.0, n), 0).astype(float)
    else:
        values = rng.normal(size=n)
    w = grid_contiguity(grid, "queen").tocsr()
    w.setdiag(0)
    w.eliminate_zeros()
    w = w.multiply(1.0 / np.maximum(np.diff(w.indptr), 1)[:, None]).tocsr()  # row-standardised
    w.sort_indices()
    z = (values - values.mean()) / values.std()
    observed = z * (w @ z)
    shift, scale = np.zeros(n), z.copy()
    permutations = 199
    p_sim = conditional_permutation_p(z, w, observed, shift, scale, permutations, seed=3)
    larger = _draw_by_draw_larger(z, w, observed, shift, scale, permutations, seed=3)
    folded = np.minimum(larger, permutations - larger)
    expected = (folded + 1.0) / (permutations + 1.0)
    has_neighbours = np.diff(w.indptr) > 0
    assert has_neighbours.sum() > 900
    np.testing.assert_array_equal(p_sim[has_neighbours], expected[has_neighbours])
