"""Weighted Displacement Quotient (geo.displacement) on worked examples and on planted points."""
from datetime import date, datetime

import numpy as np
import pytest
from shapely.geometry import box

from geo.displacement import (count_displacement, displacement_zones, equal_spans,
                              weighted_displacement_quotient)
from geo.errors import GeoInputError


def test_worked_example_displacement():
    # Area 40 → 20, buffer 30 → 36, control 200 → 200.
    result = weighted_displacement_quotient(40, 20, 30, 36, 200, 200)
    assert result.success_measure == pytest.approx(20 / 200 - 40 / 200)
    assert result.buffer_measure == pytest.approx(36 / 200 - 30 / 200)
    assert result.wdq == pytest.approx(-0.3)
    assert result.reading == "displacement" and not result.displacement_exceeds_gain
    # TNE = (40·1 − 20) + (30·1 − 36) = 14 incidents saved overall.
    assert result.total_net_effect == pytest.approx(14.0)


def test_worked_example_diffusion_with_a_changing_control():
    # Control 100 → 150; area 20 → 15; buffer 10 → 9.
    sm = 15 / 150 - 20 / 100
    bdm = 9 / 150 - 10 / 100
    result = weighted_displacement_quotient(20, 15, 10, 9, 100, 150)
    assert result.wdq == pytest.approx(bdm / sm)
    assert result.wdq == pytest.approx(0.4)
    assert result.reading == "diffusion_of_benefits"


def test_displacement_exceeding_the_gain():
    result = weighted_displacement_quotient(10, 5, 10, 20, 100, 100)
    assert result.wdq == pytest.approx(-2.0) and result.displacement_exceeds_gain


def test_no_effect_on_the_buffer_is_zero():
    result = weighted_displacement_quotient(10, 5, 8, 8, 50, 50)
    assert result.wdq == 0.0 and result.reading == "no_effect"


@pytest.mark.parametrize("counts, reading", [
    ((10, 10, 3, 7, 50, 50), "no_change_in_area"),
    ((10, 20, 3, 7, 100, 200), "no_change_in_area"),   # R/C unchanged although the counts doubled
    ((10, 12, 3, 7, 50, 50), "no_reduction_in_area"),
    ((10, 5, 3, 7, 0, 50), "zero_control"),
    ((10, 5, 3, 7, 50, 0), "zero_control"),
])
def test_undefined_cases_give_no_number(counts, reading):
    result = weighted_displacement_quotient(*counts)
    assert result.wdq is None and result.reading == reading


def test_counts_must_be_whole_and_non_negative():
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(GeoInputError, match="R0"):
            weighted_displacement_quotient(bad, 1, 1, 1, 1, 1)


def test_equal_spans():
    spans = equal_spans(date(2024, 3, 1), date(2024, 12, 31))
    assert spans.days == 306 and spans.before_start == date(2023, 4, 30) and spans.after_end == date(2025, 1, 1)
    assert equal_spans(date(2024, 3, 1), date(2026, 1, 1)).days == 365
    assert equal_spans(date(2024, 3, 1), date(2026, 1, 1), 90).after_end == date(2024, 5, 30)
    with pytest.raises(GeoInputError, match="no data after"):
        equal_spans(date(2024, 3, 1), date(2024, 2, 1))
    with pytest.raises(GeoInputError, match="longer"):
        equal_spans(date(2024, 3, 1), date(2024, 3, 10), 30)


def test_counts_in_area_ring_and_control_on_planted_points():
    area = box(0, 0, 1000, 1000)
    district = box(-5000, -5000, 5000, 5000)
    zones = displacement_zones(area, 500, district)
    assert zones[1].area == pytest.approx(area.buffer(500).area - area.area)
    assert zones[2].area == pytest.approx(district.area - area.buffer(500).area)
    spans = equal_spans(date(2024, 1, 1), date(2024, 12, 31), 100)
    before, after, outside_span = datetime(2023, 12, 1), datetime(2024, 2, 1, 10), datetime(2023, 6, 1)
    points = [((500, 500), before)] * 4 + [((500, 500), after)] * 1 \
        + [((1200, 500), before)] * 2 + [((1200, 500), after)] * 5 \
        + [((3000, 3000), before)] * 20 + [((3000, 3000), after)] * 20 \
        + [((500, 500), outside_span)] * 9 + [((9000, 9000), after)] * 3   # outside the district
    xy = np.array([p for p, _ in points], dtype=float)
    when = [d for _, d in points]
    counts = count_displacement(xy[:, 0], xy[:, 1], when, zones, spans)
    assert counts == {"R0": 4, "R1": 1, "B0": 2, "B1": 5, "C0": 20, "C1": 20}
    # A point on the area's edge is counted once, in the area.
    edge = count_displacement([1000.0], [500.0], [after], zones, spans)
    assert (edge["R1"], edge["B1"]) == (1, 0)


def test_zones_refuse_bad_input():
    with pytest.raises(GeoInputError, match="buffer_m"):
        displacement_zones(box(0, 0, 1, 1), 0, box(-9, -9, 9, 9))
    with pytest.raises(GeoInputError, match="control"):
        displacement_zones(box(0, 0, 1, 1), 500, None)
    with pytest.raises(GeoInputError, match="entirely within"):
        displacement_zones(box(0, 0, 1000, 1000), 500, box(-100, -100, 1100, 1100))
