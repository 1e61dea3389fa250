"""Rates and Empirical Bayes smoothing (geo/rates.py) against PySAL esda on St Louis homicides."""
import numpy as np
import pytest
import scipy.sparse as sp

from geo.errors import GeoInputError
from geo.rates import crude_rate, empirical_bayes, spatial_empirical_bayes
from geo.weights import contiguity

libpysal = pytest.importorskip("libpysal")
smoothing = pytest.importorskip("esda.smoothing")
gpd = pytest.importorskip("geopandas")


@pytest.fixture(scope="module")
def st_louis():
    try:
        path = libpysal.examples.get_path("stl_hom.shp")
    except Exception:
        pytest.skip("libpysal does not bundle stl_hom offline")
    frame = gpd.read_file(path)
    return frame["HC8893"].to_numpy(float), frame["PO8893"].to_numpy(float), contiguity(frame, "queen")


def test_crude_rate_per_10000():
    np.testing.assert_allclose(crude_rate([3, 0], [20_000, 5_000]), [1.5, 0.0])
    assert crude_rate([3], [1_000], per=100_000).tolist() == [300.0]


def test_global_empirical_bayes_matches_esda(st_louis):
    e, b, _ = st_louis
    expected = smoothing.Empirical_Bayes(e, b).r.ravel()
    np.testing.assert_allclose(empirical_bayes(e, b, per=1), expected, rtol=1e-12)


def test_spatial_empirical_bayes_matches_esda(st_louis):
    e, b, w = st_louis
    expected = smoothing.Spatial_Empirical_Bayes(e, b, libpysal.weights.WSP(w).to_W()).r.ravel()
    np.testing.assert_allclose(spatial_empirical_bayes(e, b, w, per=1), expected, rtol=1e-10)


def test_small_units_are_shrunk_more():
    e = np.array([4.0, 40.0, 1.0, 5.0, 0.0, 10.0])
    b = np.array([2_000.0, 20_000.0, 9_000.0, 10_000.0, 3_000.0, 60_000.0])
    crude = crude_rate(e, b)
    smoothed = empirical_bayes(e, b)
    m = e.sum() / b.sum() * 10_000
    # Every smoothed rate lies between its crude rate and the province rate.
    assert ((smoothed - crude) * (smoothed - m) <= 1e-12).all()
    # Same crude rate (20 per 10,000), smaller population → closer to the mean.
    assert abs(smoothed[0] - m) < abs(smoothed[1] - m) - 1


def test_no_extra_variance_means_full_shrinkage():
    # Rates that vary less than Poisson noise: prior variance is clipped to 0 (GeoDa), every rate → mean.
    e = np.array([10.0, 11.0, 9.0, 10.0])
    b = np.full(4, 10_000.0)
    np.testing.assert_allclose(empirical_bayes(e, b), 10.0)


def test_bad_inputs_are_named():
    with pytest.raises(GeoInputError, match="population must be positive"):
        crude_rate([1, 2], [100, 0])
    with pytest.raises(GeoInputError, match="one value per unit"):
        crude_rate([1, 2], [100])
    with pytest.raises(GeoInputError, match="empty"):
        empirical_bayes([], [])
    with pytest.raises(GeoInputError, match="too few units"):
        empirical_bayes([1], [100])
    with pytest.raises(GeoInputError, match="non-negative"):
        crude_rate([-1], [100])
    with pytest.raises(GeoInputError, match="3×3"):
        spatial_empirical_bayes([1, 2, 3], [10, 10, 10], sp.identity(2))
