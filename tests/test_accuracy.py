"""Hot spot accuracy (geo.accuracy): PAI, PEI and RRI against hand counts and a brute-force n*."""
from itertools import combinations

import numpy as np
import pytest

from geo.accuracy import emerging_flags, gi_bin_flags, max_catch, score_hotspots, top_share
from geo.errors import GeoInputError


def test_pai_pei_rri_hand_count():
    # 10 equal cells of 1 km²; cells 0 and 1 flagged (a/A = 0.2).
    test = np.array([6, 2, 9, 1, 0, 0, 1, 0, 1, 0])      # N = 20, n = 8
    train = np.array([10, 5, 3, 0, 0, 0, 1, 0, 1, 0])   # N1 = 20, n1 = 15
    flagged = np.zeros(10, dtype=bool)
    flagged[[0, 1]] = True
    score = score_hotspots(flagged, test, np.full(10, 1e6), train_counts=train)
    assert (score.n, score.N, score.n_flagged) == (8, 20, 2)
    assert score.hit_rate == pytest.approx(0.4)
    assert score.area_share == pytest.approx(0.2)
    assert score.pai == pytest.approx(2.0)               # (8/20)/(2/10)
    assert score.n_star == 15 and score.n_star_exact     # the two best cells: 9 + 6
    assert score.pei == pytest.approx(8 / 15)
    assert (score.n1, score.N1) == (15, 20)
    assert score.rri == pytest.approx((8 / 15) / (20 / 20))


def test_perfect_forecast_has_pei_one():
    test = np.array([0, 4, 0, 7, 0, 0])
    score = score_hotspots(test > 0, test, np.ones(6))
    assert score.pei == 1.0 and score.hit_rate == 1.0 and score.pai == pytest.approx(3.0)


@pytest.mark.parametrize("seed", range(5))
def test_max_catch_equals_brute_force_on_equal_cells(seed):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, 9)
    areas = np.full(9, 250.0 ** 2)
    for k in range(0, 10):
        best = max((counts[list(c)].sum() for c in combinations(range(9), k)), default=0)
        n_star, exact = max_catch(counts, areas, k * areas[0])
        assert exact and n_star == best


@pytest.mark.parametrize("seed", range(5))
def test_max_catch_bounds_the_knapsack_on_unequal_cells(seed):
    rng = np.random.default_rng(100 + seed)
    counts = rng.poisson(3.0, 8)
    areas = rng.uniform(0.5, 2.0, 8)
    flagged = rng.random(8) < 0.4
    budget = areas[flagged].sum()
    brute = max(counts[list(c)].sum() for k in range(9) for c in combinations(range(8), k)
                if areas[list(c)].sum() <= budget + 1e-12)
    n_star, exact = max_catch(counts, areas, budget)
    assert not exact
    assert brute - 1e-9 <= n_star <= brute + counts.max()   # fractional bound: at most one cell above
    score = score_hotspots(flagged, counts, areas)
    assert score.pei is None or score.pei <= 1.0


def test_undefined_ratios_are_none():
    empty_test = score_hotspots(np.array([True, False]), [0, 0], [1.0, 1.0], train_counts=[3, 1])
    assert empty_test.hit_rate is None and empty_test.pai is None and empty_test.pei is None
    assert empty_test.rri is None
    nothing_flagged = score_hotspots(np.array([False, False]), [2, 1], [1.0, 1.0])
    assert nothing_flagged.pai is None and nothing_flagged.n == 0 and nothing_flagged.hit_rate == 0.0
    no_training_hits = score_hotspots(np.array([True, False]), [2, 1], [1.0, 1.0], train_counts=[0, 5])
    assert no_training_hits.rri is None


def test_bad_inputs_are_refused():
    with pytest.raises(GeoInputError, match="boolean"):
        score_hotspots([1, 0], [1, 2], [1, 1])
    with pytest.raises(GeoInputError, match="one value per cell"):
        score_hotspots(np.array([True]), [1, 2], [1, 1])
    with pytest.raises(GeoInputError, match="non-negative"):
        score_hotspots(np.array([True, False]), [-1, 2], [1, 1])
    with pytest.raises(GeoInputError, match="positive"):
        score_hotspots(np.array([True, False]), [1, 2], [1, 0])
    with pytest.raises(GeoInputError, match="share"):
        top_share([1, 2], [1, 1], 0)


def test_top_share_takes_the_densest_cells_within_the_area():
    values = np.array([0.1, 5.0, 3.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert top_share(values, np.ones(10), 0.2).tolist() == [False, True, False, False, True] + [False] * 5
    # Cells without any density are never flagged, even when the share would allow them.
    assert top_share(values, np.ones(10), 1.0).sum() == 4


def test_flags_of_gi_bins_and_emerging_classes():
    assert gi_bin_flags([3, 2, 1, 0, -2]).tolist() == [True, True, False, False, False]
    assert gi_bin_flags([3, 2, 1, 0, -2], 1).tolist() == [True, True, True, False, False]
    with pytest.raises(GeoInputError):
        gi_bin_flags([1], 4)
    assert emerging_flags(["new_hot", "no_pattern", "persistent_cold", "sporadic_hot"]).tolist() == [
        True, False, False, True]
