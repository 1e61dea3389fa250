"""The one exact-test module (geo/exact_tests.py) against scipy's binomtest and the formulas it replaced."""
import itertools

import numpy as np
import pytest
from scipy import stats

from geo.errors import GeoInputError
from geo.exact_tests import clopper_pearson, proportion_intervals, rate_ratio_test

CASES = [(k, n) for n in (1, 2, 3, 5, 7, 10, 48, 190, 1000) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]
COUNT_PAIRS = list(itertools.product((0, 1, 2, 3, 4, 7, 12, 30, 90, 100, 800, 1000), repeat=2))


def _change_py_before(c0, c1, e0, e1, confidence):
    """geo/change.py's interval and p-value as they were written before this module (the reference)."""
    n = c0 + c1
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (c1 / e1) / (c0 / e0)
        pi_low = np.where(c1 > 0, stats.beta.ppf(alpha / 2, c1, n - c1 + 1), 0.0)
        pi_high = np.where(c1 < n, stats.beta.ppf(1 - alpha / 2, c1 + 1, n - c1), 1.0)
        scale = e0 / e1
        ci_low = np.where(n > 0, pi_low / (1.0 - pi_low) * scale, np.nan)
        ci_high = np.where(n > 0, np.where(pi_high < 1, pi_high / (1.0 - pi_high) * scale, np.inf), np.nan)
    p_value = np.array([stats.binomtest(int(k), int(m), p0).pvalue if m > 0 else np.nan
                        for k, m, p0 in zip(c1, n, e1 / (e0 + e1))])
    return np.where(n > 0, rr, np.nan), ci_low, ci_high, p_value


def _corridor_py_before(k, m, confidence):
    """geo/corridor.py's yearly_change statistics as they were written before this module."""
    total = k + m
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.minimum(1.0, 2.0 * np.minimum(stats.binom.cdf(k, total, 0.5), stats.binom.sf(k - 1, total, 0.5)))
        lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, m + 1), 0.0)
        hi = np.where(m > 0, stats.beta.ppf(1 - alpha / 2, k + 1, m), 1.0)
        ratio_low = lo / (1.0 - lo)
        ratio_high = np.where(hi >= 1.0, np.inf, hi / (1.0 - hi))
    none = total == 0
    return (np.where(none, np.nan, ratio_low), np.where(none, np.nan, ratio_high), np.where(none, np.nan, p))


def _same(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_intervals_are_scipys_exact_binomtest_intervals(confidence):
    k, n = np.array(CASES).T
    low, high = proportion_intervals(k, n, confidence)
    for i, (kk, nn) in enumerate(CASES):
        exact = stats.binomtest(int(kk), int(nn)).proportion_ci(confidence, method="exact")
        assert (low[i], high[i]) == pytest.approx((exact.low, exact.high), rel=1e-9, abs=1e-12)
        assert clopper_pearson(int(kk), int(nn), confidence) == pytest.approx((low[i], high[i]), abs=0)


def test_interval_edges_are_exact_zero_and_one():
    low, high = proportion_intervals([0, 5, 0], [5, 5, 0])
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])  # nothing observed: nothing known
    assert 0 < high[0] < 1 and 0 < low[1] < 1


@pytest.mark.parametrize("confidence", [0.95, 0.8])
@pytest.mark.parametrize("exposures", [(1.0, 1.0), (12.0, 6.0), (365.0, 366.0)])
def test_rate_ratio_equals_the_change_module_before(confidence, exposures):
    e0, e1 = exposures
    c0, c1 = (np.array(v, dtype=float) for v in zip(*COUNT_PAIRS))
    test = rate_ratio_test(c1, c0, current_exposure=e1, baseline_exposure=e0, confidence=confidence)
    rr, low, high, p = _change_py_before(c0, c1, np.full(c0.size, e0), np.full(c0.size, e1), confidence)
    _same(test.ratio, rr)
    _same(test.low, low)
    _same(test.high, high)
    _same(test.p_value, p)


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_rate_ratio_equals_the_corridor_module_before(confidence):
    m, k = (np.array(v, dtype=float) for v in zip(*COUNT_PAIRS))
    test = rate_ratio_test(k, m, confidence=confidence)
    low, high, p = _corridor_py_before(k, m, confidence)
    _same(test.low, low)
    _same(test.high, high)
    _same(test.p_value, p)


def test_p_value_is_binomtest_per_unit():
    test = rate_ratio_test([30, 18, 90], [12, 30, 100])
    expected = [stats.binomtest(30, 42, 0.5).pvalue, stats.binomtest(18, 48, 0.5).pvalue,
                stats.binomtest(90, 190, 0.5).pvalue]
    assert test.p_value.tolist() == pytest.approx(expected, rel=1e-9)
    unequal = rate_ratio_test([30, 18, 30], [12, 30, 12], current_exposure=[6, 6, 6], baseline_exposure=[12, 12, 12])
    assert unequal.p_value.tolist() == pytest.approx([stats.binomtest(30, 42, 1 / 3).pvalue,
                                                      stats.binomtest(18, 48, 1 / 3).pvalue,
                                                      stats.binomtest(30, 42, 1 / 3).pvalue], rel=1e-12)



def test_zero_counts_and_zero_baseline():
    test = rate_ratio_test([0, 3, 0], [0, 0, 5])
    assert np.isnan([test.ratio[0], test.low[0], test.high[0], test.p_value[0]]).all()
    assert test.ratio[1] == np.inf and test.high[1] == np.inf and test.low[1] > 0
    assert test.p_value[1] == pytest.approx(0.25)  # 3 of 3 in the current period under Binomial(3, ½)
    assert test.ratio[2] == 0 and test.low[2] == 0 and np.isfinite(test.high[2])


def test_four_to_three_is_no_evidence():
    test = rate_ratio_test(3, 4)
    assert float(test.p_value) == pytest.approx(1.0)
    assert float(test.low) < 0.75 < float(test.high)


def test_bad_inputs_are_named_and_nothing_is_computed():
    with pytest.raises(GeoInputError, match="current must be non-negative whole counts"):
        rate_ratio_test([-1], [2])
    with pytest.raises(GeoInputError, match="baseline must be non-negative whole counts"):
        rate_ratio_test([1], [2.5])
    with pytest.raises(GeoInputError, match="baseline_exposure must be positive"):
        rate_ratio_test([1], [2], baseline_exposure=0)
    with pytest.raises(GeoInputError, match="confidence"):
        rate_ratio_test([1], [2], confidence=1.5)
    with pytest.raises(GeoInputError, match="successes <= trials"):
        proportion_intervals([6], [5])
    with pytest.raises(GeoInputError, match="trials >= 1"):
        clopper_pearson(0, 0)
