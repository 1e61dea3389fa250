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
