"""Knox test (geo.near_repeat): equal to the brute force over every pair; finds planted near repeats; keeps its
false-positive rate on random data."""
import numpy as np
import pytest

from geo.errors import GeoInputError
from geo.near_repeat import (band_ranges, knox_brute_force, knox_test, near_repeat_extent, parse_bands)

SPACE, TIME = (100, 200, 400), (7, 14, 28)


def _random_events(rng, n, side=5000.0, days=365):
    return rng.uniform(0, side, n), rng.uniform(0, side, n), rng.integers(0, days, n)


def test_bands_as_the_near_repeat_calculator():
    assert parse_bands("100,200,400", "space") == (100, 200, 400)
    assert band_ranges((100, 200, 400)) == [(0, 100), (101, 200), (201, 400), (401, None)]
    assert band_ranges((7, 14, 28)) == [(0, 7), (8, 14), (15, 28), (29, None)]
    for bad in ("", "100,50", "0,10", "1.5,3", "a,b"):
        with pytest.raises(GeoInputError):
            parse_bands(bad, "space_bands")


def test_band_edges_are_inclusive_in_whole_units():
    # Pairs at exactly 100 m / 7 days fall in the first band; 100.4 m and 8 days in the second.
    x = np.array([0.0, 100.0, 1000.0, 1100.4, 5000.0])
    y = np.zeros(5)
    t = np.array([0, 7, 100, 108, 300])
    result = knox_test(x, y, t, SPACE, TIME, permutations=99, seed=1)
    assert result.observed[0, 0] == 1   # (0, 100 m, 7 days)
    assert result.observed[1, 1] == 1   # (101–200 m, 8–14 days)
    assert result.observed.sum() == 10  # every pair counted once


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_brute_force_over_every_pair(seed):
    rng = np.random.default_rng(seed)
    x, y, t = _random_events(rng, 300, side=2000.0, days=120)
    fast = knox_test(x, y, t, SPACE, TIME, permutations=199, seed=seed)
    slow = knox_brute_force(x, y, t, SPACE, TIME, permutations=199, seed=seed)
    np.testing.assert_array_equal(fast.observed, slow.observed)
    np.testing.assert_allclose(fast.expected, slow.expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast.p_value, slow.p_value)
    assert fast.n_pairs == slow.n_pairs == 300 * 299 // 2


def test_accepts_datetimes_and_reports_rows():
    rng = np.random.default_rng(5)
    x, y, t = _random_events(rng, 60)
    dates = np.datetime64("2024-01-01") + t.astype("timedelta64[D]")
    from_days = knox_test(x, y, t, SPACE, TIME, permutations=99, seed=3)
    from_dates = knox_test(x, y, dates.astype("datetime64[s]"), SPACE, TIME, permutations=99, seed=3)
    np.testing.assert_array_equal(from_days.observed, from_dates.observed)
    rows = from_days.rows()
    assert len(rows) == 16
    assert rows[0]["space_from"] == 0 and rows[0]["space_to"] == 100 and rows[-1]["time_to"] is None
    assert set(rows[0]) == {"space_from", "space_to", "time_from", "time_to", "observed", "expected", "ratio",
                            "p_value"}


def test_planted_near_repeats_are_found():
    rng = np.random.default_rng(7)
    x, y, t = _random_events(rng, 400, side=10000.0, days=365)
    # 60 repeats planted 120–180 m and 9–13 days after a random origin event.
    origin = rng.integers(0, 400, 60)
    angle = rng.uniform(0, 2 * np.pi, 60)
    radius = rng.uniform(120, 180, 60)
    x = np.concatenate([x, x[origin] + radius * np.cos(angle)])
    y = np.concatenate([y, y[origin] + radius * np.sin(angle)])
    t = np.concatenate([t, t[origin] + rng.integers(9, 14, 60)])
    result = knox_test(x, y, t, SPACE, TIME, permutations=999, seed=11)
    assert result.p_value[1, 1] <= 0.001 and result.ratio[1, 1] > 3
    # The other close cells show nothing; the open "beyond" cells mirror the excess (fixed margins), so they
    # are not near repeats and are not checked here.
    others = np.ones((3, 3), dtype=bool)
    others[1, 1] = False
    assert (result.p_value[:-1, :-1][others] > 0.01).all()


def test_random_data_keep_the_false_positive_rate():
    rng = np.random.default_rng(2024)
    p_values = []
    for _ in range(40):
        x, y, t = _random_events(rng, 250, side=3000.0, days=200)
        result = knox_test(x, y, t, SPACE, TIME, permutations=99, seed=int(rng.integers(1 << 30)))
        p_values.append(result.p_value[:-1, :-1].ravel())
    p_values = np.concatenate(p_values)
    rate = (p_values <= 0.05).mean()
    # 360 tests at α = 0.05: a valid test stays below 0.05 + 3 binomial standard errors (0.085).
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / p_values.size)
    assert rate > 0.0  # the test is not blind: some chance clusters do reach 5 %


def test_near_repeat_extent():
    rng = np.random.default_rng(7)
    x, y, t = _random_events(rng, 300, side=10000.0, days=365)
    origin = rng.integers(0, 300, 80)
    x = np.concatenate([x, x[origin] + rng.uniform(-40, 40, 80)])
    y = np.concatenate([y, y[origin] + rng.uniform(-40, 40, 80)])
    t = np.concatenate([t, t[origin] + rng.integers(0, 5, 80)])
    result = knox_test(x, y, t, SPACE, TIME, permutations=199, seed=1)
    assert near_repeat_extent(result) == (100, 7)
    x2, y2, t2 = _random_events(np.random.default_rng(99), 200, side=10000.0)
    assert near_repeat_extent(knox_test(x2, y2, t2, SPACE, TIME, permutations=99, seed=1)) is None


def test_bad_input_is_refused():
    with pytest.raises(GeoInputError, match="permutations"):
        knox_test([0, 1, 2], [0, 1, 2], [0, 1, 2], SPACE, TIME, permutations=0)
    with pytest.raises(GeoInputError, match="permutations"):
        knox_test([0, 1, 2], [0, 1, 2], [0, 1, 2], SPACE, TIME, permutations=50)
    with pytest.raises(GeoInputError, match="at least 3"):
        knox_test([0, 1], [0, 1], [0, 1], SPACE, TIME, permutations=99)
    with pytest.raises(GeoInputError, match="same length"):
        knox_test([0, 1, 2], [0, 1], [0, 1, 2], SPACE, TIME, permutations=99)
    with pytest.raises(GeoInputError, match="missing"):
        knox_test([0, np.nan, 2], [0, 1, 2], [0, 1, 2], SPACE, TIME, permutations=99)
