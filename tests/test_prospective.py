"""Prospective hot spot surface (geo.prospective) against the brute-force sum; corridor segment ranking."""
import numpy as np
import pytest

from geo.errors import GeoInputError
from geo.prospective import event_weight, prospective_brute_force, prospective_surface, rank_segments


def test_weight_of_one_incident_by_hand():
    # 100 m away in 50 m units, 14 days old: 1/(1 + 2) · 1/(1 + 2) = 1/9.
    assert event_weight(100.0, 14.0, 50.0) == pytest.approx(1 / 9)
    surface = prospective_surface([0.0, 100.0, 500.0], [0.0, 0.0, 0.0], [0.0], [0.0], [14],
                                  space_bandwidth_m=400, time_bandwidth_days=60, distance_unit_m=50)
    assert surface.risk == pytest.approx([1 / 3, 1 / 9, 0.0])
    assert surface.n_events == 1


@pytest.mark.parametrize("seed", range(3))
def test_equals_the_brute_force_sum(seed):
    rng = np.random.default_rng(seed)
    cx, cy = np.meshgrid(np.arange(0, 5000, 250.0), np.arange(0, 5000, 250.0))
    x, y = rng.uniform(0, 5000, 300), rng.uniform(0, 5000, 300)
    x[:5], y[:5] = cx.ravel()[:5], cy.ravel()[:5]  # incidents exactly on cell centres
    age = rng.integers(-10, 120, 300)
    kwargs = {"space_bandwidth_m": 600, "time_bandwidth_days": 60, "distance_unit_m": 250}
    fast = prospective_surface(cx.ravel(), cy.ravel(), x, y, age, **kwargs)
    slow = prospective_brute_force(cx.ravel(), cy.ravel(), x, y, age, **kwargs)
    np.testing.assert_allclose(fast.risk, slow, rtol=1e-12, atol=1e-15)
    assert fast.n_events == int(((age >= 0) & (age <= 60)).sum())


def test_old_and_future_incidents_do_not_count():
    surface = prospective_surface([0.0], [0.0], [0.0, 0.0], [0.0, 0.0], [61, -1], time_bandwidth_days=60)
    assert surface.risk.tolist() == [0.0] and surface.n_events == 0


def test_bad_parameters_are_refused():
    with pytest.raises(GeoInputError, match="space_bandwidth_m"):
        prospective_surface([0], [0], [0], [0], [0], space_bandwidth_m=0)
    with pytest.raises(GeoInputError, match="same length"):
        prospective_surface([0], [0], [0, 1], [0], [0])
    with pytest.raises(GeoInputError, match="missing"):
        prospective_surface([0], [0], [np.nan], [0], [0])


def test_rank_segments_per_km_with_ties_and_empty_segments():
    ranking = rank_segments([1.0, 2.0, 3.0, 1.0], [1, 1, 2, 3], [1, 2, 3, 4], [5.0, 5.0, 1.0, 5.0])
    assert [(r["segment_id"], r["rank"]) for r in ranking] == [(3, 1), (1, 2), (2, 2), (4, 4)]
    assert ranking[0]["risk_per_km"] == pytest.approx(1.0) and ranking[-1]["risk"] == 0.0
    with pytest.raises(GeoInputError, match="not in segment_ids"):
        rank_segments([1.0], [9], [1, 2], [5.0, 5.0])
