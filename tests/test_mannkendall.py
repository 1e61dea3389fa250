"""Mann-Kendall (geo/mannkendall.py) against pymannkendall.original_test."""
import numpy as np
import pytest

from geo.errors import GeoInputError
from geo.mannkendall import mann_kendall, mann_kendall_many

mk = pytest.importorskip("pymannkendall")


@pytest.mark.parametrize(
    "series",
    [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [8, 7, 6, 5, 4, 3, 2, 1],
        [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5],
        [0, 0, 0, 1, 0, 0, 2, 2, 2, 3, 3, 0],  # heavy ties
        [2.5, np.nan, 3.1, 4.0, 3.9, 5.2],
        [1, 1, 1, 1, 2],
    ],
)
def test_matches_pymannkendall(series):
    ours = mann_kendall(series)
    peer = mk.original_test(np.asarray(series, dtype=float))
    assert ours.trend == peer.trend
    assert ours.s == peer.s and ours.var_s == pytest.approx(peer.var_s, rel=1e-12)
    assert ours.z == pytest.approx(peer.z, abs=1e-12) and ours.p == pytest.approx(peer.p, abs=1e-12)
    assert ours.tau == pytest.approx(peer.Tau, abs=1e-12)


def test_many_series_at_once_match_one_by_one():
    rng = np.random.default_rng(4)
    block = rng.poisson(2, (200, 12)).astype(float) + np.arange(12) * rng.uniform(-0.3, 0.3, (200, 1))
    s, var_s, z, p, trend = mann_kendall_many(block)
    for i in range(0, 200, 17):
        peer = mk.original_test(block[i])
        assert (s[i], z[i], p[i]) == pytest.approx((peer.s, peer.z, peer.p), abs=1e-12)
        assert {"increasing": 1, "decreasing": -1, "no trend": 0}[peer.trend] == trend[i]


def test_constant_series_has_no_trend():
    result = mann_kendall([4, 4, 4, 4, 4])
    assert result.trend == "no trend" and result.z == 0 and result.p == 1


def test_bad_inputs_are_named():
    with pytest.raises(GeoInputError, match="too few time steps"):
        mann_kendall([1, 2])
    with pytest.raises(GeoInputError, match="2-D"):
        mann_kendall_many([1, 2, 3])
    with pytest.raises(GeoInputError, match="alpha"):
        mann_kendall([1, 2, 3], alpha=2)
