"""Change against the baseline year (geo/change.py)."""
import numpy as np
import pytest
from scipy import stats

from geo.change import VERDICT_LABELS_VI, VERDICTS, change_table, change_vs_baseline
from geo.errors import GeoInputError


def test_four_to_three_is_not_a_proven_success():
    result = change_vs_baseline([4], [3])
    assert result.pct_change[0] == pytest.approx(-25.0)
    assert result.target_met[0]
    assert result.verdict[0] == "uncertain"
    assert result.ci_low[0] < 0.2 and result.ci_high[0] > 3


def test_large_counts_settle_the_question():
    result = change_vs_baseline([1000, 1000, 1000], [800, 1200, 940])
    assert list(result.verdict) == ["clearly_met", "clearly_not_met", "uncertain"]
    assert list(result.target_met) == [True, False, True]


def test_interval_is_clopper_pearson_on_the_conditional_binomial():
    result = change_vs_baseline([30], [18], confidence=0.95)
    ci = stats.binomtest(18, 48).proportion_ci(0.95, method="exact")
    assert result.ci_low[0] == pytest.approx(ci.low / (1 - ci.low))
    assert result.ci_high[0] == pytest.approx(ci.high / (1 - ci.high))
    assert result.p_value[0] == pytest.approx(stats.binomtest(18, 48, 0.5).pvalue)
    assert result.rate_ratio[0] == pytest.approx(0.6)


def test_exposures_turn_counts_into_rates():
    # Half a year with 40 cases against a full year with 100: the rate went down 20 %.
    result = change_vs_baseline([100], [40], baseline_exposure=12, current_exposure=6)
    assert result.rate_ratio[0] == pytest.approx(0.8)
    assert result.pct_change[0] == pytest.approx(-20.0)


def test_zero_counts():
    result = change_vs_baseline([0, 0, 5], [0, 3, 0])
    assert list(result.verdict[:1]) == ["no_data"]
    assert np.isnan(result.pct_change[1]) and result.ci_high[1] == np.inf and not result.target_met[1]
    assert result.rate_ratio[2] == 0 and result.ci_low[2] == 0
    assert set(VERDICT_LABELS_VI) == set(VERDICTS)


def test_change_table_sums_communes_into_districts():
    table = change_table(["A", "A", "B"], [10, 20, 4], [8, 12, 3])
    assert table["unit"].tolist() == ["A", "B"]
    assert table["baseline"].tolist() == [30, 4] and table["current"].tolist() == [20, 3]
    assert table["verdict"].tolist()[1] == "uncertain"


def test_bad_inputs_are_named():
    with pytest.raises(GeoInputError, match="baseline is empty"):
        change_vs_baseline([], [])
    with pytest.raises(GeoInputError, match="whole counts"):
        change_vs_baseline([1.5], [1])
    with pytest.raises(GeoInputError, match="one count per unit"):
        change_vs_baseline([1, 2], [1])
    with pytest.raises(GeoInputError, match="target_reduction"):
        change_vs_baseline([1], [1], target_reduction=5)
    with pytest.raises(GeoInputError, match="current_exposure must be positive"):
        change_vs_baseline([1], [1], current_exposure=0)
