"""Emerging hot spot analysis (geo/emerging.py): each class rule alone, the cube and the pipeline."""
import datetime as dt

import numpy as np
import pytest
import shapely

from geo.emerging import (
    CLASS_LABELS_VI,
    CLASSES,
    classify_series,
    emerging_hotspots,
    space_time_cube,
    space_time_weights,
    time_step_index,
)
from geo.errors import GeoInputError
from geo.gistar import gi_star
from geo.grid import make_grid
from geo.weights import grid_contiguity

H, C, O = 2, -2, 0  # hot, cold, not significant


@pytest.mark.parametrize(
    ("bins", "trend", "expected"),
    [
        ([O] * 9 + [H], 0, "new_hot"),
        ([O] * 7 + [H, H, H], 0, "consecutive_hot"),
        ([H] * 10, +1, "intensifying_hot"),
        ([O] + [H] * 9, +1, "intensifying_hot"),  # 90 % including the final step
        ([H] * 10, 0, "persistent_hot"),
        ([H] * 10, -1, "diminishing_hot"),
        ([O, H, O, O, H, O, H, O, O, H], 0, "sporadic_hot"),
        ([H, O, O, O, O, O, O, H, H, H], 0, "sporadic_hot"),  # hot before the final run: not consecutive
        ([O, C, O, O, O, O, O, O, H, H], 0, "oscillating_hot"),
        ([H] * 9 + [O], 0, "historical_hot"),
        ([O] * 10, 0, "no_pattern"),
        ([H, H, O, O, O, O, O, O, O, O], 0, "no_pattern"),
        ([O] * 9 + [C], 0, "new_cold"),
        ([O] * 8 + [C, C], 0, "consecutive_cold"),
        ([C] * 10, -1, "intensifying_cold"),
        ([C] * 10, 0, "persistent_cold"),
        ([C] * 10, +1, "diminishing_cold"),
        ([C, O, C, O, O, O, O, O, O, C], 0, "sporadic_cold"),
        ([O, H, O, O, O, O, O, O, O, C], 0, "oscillating_cold"),
        ([C] * 9 + [O], 0, "historical_cold"),
    ],
)
def test_each_class_rule(bins, trend, expected):
    assert classify_series(bins, trend) == expected


def test_rules_do_not_depend_on_bin_strength_and_cover_all_classes():
    assert classify_series([1] * 9 + [3], 0) == "persistent_hot"
    assert classify_series([O] * 8 + [1, 3], 0) == "consecutive_hot"
    # A trend without 90 % hot steps does not make a hot spot intensifying.
    assert classify_series([O] * 8 + [H, H], +1) == "consecutive_hot"
    assert set(CLASS_LABELS_VI) == set(CLASSES) and len(CLASSES) == 17


def test_time_steps_by_month_and_quarter():
    dates = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 3, 15), dt.date(2024, 4, 2)]
    index, labels = time_step_index(dates, "month")
    assert list(index) == [0, 1, 3, 4] and labels == ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
    index, labels = time_step_index(dates, "quarter", start="2024-01-01", end="2024-12-31")
    assert list(index) == [-1, 0, 0, 1] and labels == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    with pytest.raises(GeoInputError, match="freq"):
        time_step_index(dates, "week")
    with pytest.raises(GeoInputError, match="missing or unreadable"):
        time_step_index(["2024-01-01", "not a date"])


def test_cube_counts_and_space_time_weights():
    cube = space_time_cube([0, 0, 1, -1, 2], [0, 0, 2, 1, -1], n_cells=3, n_steps=3)
    assert cube.tolist() == [[2, 0, 0], [0, 0, 1], [0, 0, 0]]
    spatial = grid_contiguity(make_grid(shapely.box(560_000, 1_150_000, 561_500, 1_150_500), 500, "square"))
    w = space_time_weights(spatial, 4, time_window=1).toarray()
    n = spatial.shape[0]
    # Bin (location 1, step 2) sees locations 0–2 in steps 1 and 2, nothing in steps 0 and 3.
    row = w[2 * n + 1].reshape(4, n)
    assert row.tolist() == [[0, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]]


def test_pipeline_finds_a_growing_cluster():
    grid = make_grid(shapely.box(560_000, 1_150_000, 566_000, 1_156_000), 500, "square")
    spatial = grid_contiguity(grid)
    rng = np.random.default_rng(9)
    steps = 12
    cube = rng.poisson(1.0, (grid.n_cells, steps)).astype(float)
    centre = np.hypot(grid.x - 563_000, grid.y - 1_153_000) < 800
    cube[centre] += np.arange(steps) * 1.5 + 6
    result = emerging_hotspots(cube, spatial, time_window=1)
    assert result.z.shape == (grid.n_cells, steps)
    assert set(result.category[centre]) <= {"intensifying_hot", "persistent_hot", "consecutive_hot"}
    assert "intensifying_hot" in set(result.category[centre])
    assert (result.trend[centre] == 1).all()
    far = np.hypot(grid.x - 563_000, grid.y - 1_153_000) > 2500
    assert not any(c.endswith("_hot") and c != "new_hot" and c != "sporadic_hot" for c in result.category[far])
    # Space-time Gi* equals plain Gi* on the flattened cube with the space-time weights.
    flat = gi_star(cube.T.ravel(), space_time_weights(spatial, steps, 1), fdr=True)
    np.testing.assert_allclose(result.z, flat.z.reshape(steps, -1).T)


def test_bad_inputs_are_named():
    spatial = grid_contiguity(make_grid(shapely.box(560_000, 1_150_000, 563_000, 1_153_000), 500, "square"))
    with pytest.raises(GeoInputError, match="too few time steps"):
        emerging_hotspots(np.ones((36, 5)), spatial)
    with pytest.raises(GeoInputError, match="zero variance"):
        emerging_hotspots(np.ones((36, 12)), spatial)
    with pytest.raises(GeoInputError, match="no incident"):
        space_time_cube([-1], [0], 3, 3)
    with pytest.raises(GeoInputError, match="time_window"):
        space_time_weights(spatial, 12, -1)
