"""Targets engine: each metric on a small hand-made data set with a known answer."""
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from geo.errors import GeoInputError
from geo.exact_tests import clopper_pearson
from geo.periods import parse_period, quarters
from geo.targets import (
    ExternalCount,
    TargetSpec,
    compute_all,
    compute_by_district,
    compute_metric,
    format_interval,
    format_value,
    rate_change_interval,
    read_targets,
    status_of,
    targets_from_dict,
    trend,
    wilson,
)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = read_targets(ROOT / "data" / "targets" / "targets_2024.json")
YEAR_2024 = parse_period("2024")
FULL_COVERAGE = (date(2022, 12, 1), date(2024, 11, 30))


def incidents(n, *, day="2024-03-15", category="theft", severity="less_serious", status="cleared", district="869"):
    return pd.DataFrame({"occurred_at": pd.to_datetime([day] * n), "category": [category] * n,
                         "severity": [severity] * n, "case_status": [status] * n, "district_code": [district] * n})


def frame(*parts):
    return pd.concat(parts, ignore_index=True)


def test_the_committed_2024_targets_mirror_the_plan():
    assert TARGETS.year == 2024 and TARGETS.compared_with_year == 2023
    clearance = TARGETS.spec("clearance")
    assert (clearance.operator, clearance.threshold) == (">", 0.75)
    assert (TARGETS.spec("grave_clearance").operator, TARGETS.spec("grave_clearance").threshold) == (">", 0.90)
    assert TARGETS.spec("social_order_change").threshold == -0.05
    assert (TARGETS.spec("suspended_change").threshold, TARGETS.spec("suspended_change").stretch) == (-0.05, -0.10)
    assert TARGETS.spec("key_areas_achieved").threshold == 0.60
    assert TARGETS.spec("key_areas_not_relapsed").threshold == 0.85
    assert [TARGETS.spec(c).threshold for c in ("trafficking_cleared", "trafficking_indicted", "trafficking_tried")] \
        == [0.90, 0.95, 0.90]
    assert TARGETS.spec("asset_recovery").source == "manual"


def test_published_2024_clearance_1124_of_1443():
    """plo.vn, 06/12/2024: 1,124 of 1,443 cases cleared (77.89%); 76 of 76 very/especially serious."""
    records = frame(incidents(76, severity="very_serious"),
                    incidents(1124 - 76),
                    incidents(1443 - 1124, status="prosecuted"))
    clearance = compute_metric(TARGETS.spec("clearance"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert (clearance.numerator, clearance.denominator) == (1124, 1443)
    assert round(clearance.value * 100, 2) == 77.89
    assert format_value(clearance) == "77,89%"
    low, high = clearance.interval
    assert low == pytest.approx(0.7566, abs=1e-4) and high == pytest.approx(0.8001, abs=1e-4)
    assert clearance.meets_target and clearance.status == "on_track"
    grave = compute_metric(TARGETS.spec("grave_clearance"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert (grave.numerator, grave.denominator, grave.value) == (76, 76, 1.0)
    assert grave.interval[0] == pytest.approx(0.9526, abs=1e-4)  # 0.025 ** (1/76)
    assert grave.status == "on_track"


def test_clearance_counts_only_social_order_and_counts_received_as_not_cleared():
    records = frame(incidents(6), incidents(3, status="received"), incidents(1, status="tried"),
                    incidents(50, category="drugs", status="prosecuted"))
    result = compute_metric(TARGETS.spec("clearance"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert (result.numerator, result.denominator) == (7, 10)
    # 70% on ten cases: the interval (34.8%–93.3%) contains 75%, so the counts cannot tell
    assert result.meets_target is False and result.status == "at_risk"


def test_clearance_clearly_missed():
    records = frame(incidents(500), incidents(500, status="prosecuted"))
    result = compute_metric(TARGETS.spec("clearance"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert result.value == 0.5 and result.status == "missed"


def test_social_order_change_against_the_same_period_of_2023():
    records = frame(incidents(1000, day="2023-05-01"), incidents(800, day="2024-05-01"),
                    incidents(300, day="2024-05-01", category="drugs"))  # drugs are not social-order crimes
    result = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert (result.numerator, result.comparison_count) == (800, 1000)
    assert result.value == pytest.approx(800 / 1000 - 1)  # counts over the same calendar span, not per day
    assert result.comparison_period_code == "2023" and result.comparison_start == date(2022, 12, 1)
    assert result.status == "on_track"


def test_change_interval_matches_the_exact_conditional_binomial():
    low, high, p_value = rate_change_interval(90, 100)
    ci = stats.binomtest(90, 190).proportion_ci(0.95, method="exact")
    assert low == pytest.approx(ci.low / (1 - ci.low) - 1)
    assert high == pytest.approx(ci.high / (1 - ci.high) - 1)
    assert p_value == pytest.approx(stats.binomtest(90, 190, 0.5).pvalue)


def test_four_to_three_is_not_a_25_percent_success():
    spec = TARGETS.spec("social_order_change")
    records = frame(incidents(4, day="2023-04-01"), incidents(3, day="2024-04-01"))
    result = compute_metric(spec, records, parse_period("2024-01-01..2024-12-31"),
                            coverage=(date(2023, 1, 1), date(2024, 12, 31)))
    assert result.value == pytest.approx(3 / 4 - 1)
    assert result.meets_target is True
    assert result.status == "at_risk"
    assert result.interval[0] < -0.8 and result.interval[1] > 2.5


def test_rise_in_crime_is_missed_and_small_rise_is_at_risk():
    spec = TARGETS.spec("social_order_change")
    coverage = (date(2023, 1, 1), date(2024, 12, 31))
    period = parse_period("2024-01-01..2024-06-30")
    big = frame(incidents(100, day="2023-03-01"), incidents(140, day="2024-03-01"))
    assert compute_metric(spec, big, period, coverage=coverage).status == "missed"
    small = frame(incidents(100, day="2023-03-01"), incidents(98, day="2024-03-01"))
    assert compute_metric(spec, small, period, coverage=coverage).status == "at_risk"


def test_suspended_change_counts_suspended_cases_in_every_category():
    records = frame(incidents(40, day="2023-02-01", status="suspended", category="drugs"),
                    incidents(30, day="2024-02-01", status="suspended"),
                    incidents(500, day="2024-02-01"))
    result = compute_metric(TARGETS.spec("suspended_change"), records, parse_period("2024-Q1"),
                            coverage=FULL_COVERAGE)
    assert (result.numerator, result.comparison_count) == (30, 40)
    assert result.value == pytest.approx(30 / 40 - 1)


def test_change_without_last_years_data_is_no_data():
    records = incidents(10, day="2024-03-01")
    result = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024)
    assert result.status == "no_data" and result.value is None and "cùng kỳ" in result.note
    strict = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024,
                            coverage=(date(2023, 12, 1), date(2024, 11, 30)))
    assert strict.status == "no_data" and "bắt đầu từ 01/12/2023" in strict.note


def test_records_starting_inside_the_comparison_period_compare_the_overlap():
    # Comparison 01/12/2022–30/11/2023, records from 01/01/2023: both periods lose their first 31 days.
    records = frame(incidents(7, day="2022-12-15"), incidents(100, day="2023-06-01"),
                    incidents(50, day="2023-12-10"), incidents(80, day="2024-06-01"))
    result = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024,
                            coverage=(date(2023, 1, 1), date(2024, 11, 30)))
    assert (result.period_start, result.comparison_start) == (date(2024, 1, 1), date(2023, 1, 1))
    assert (result.numerator, result.comparison_count) == (80, 100)
    assert result.value == pytest.approx(80 / 100 - 1)
    assert "chỉ so sánh 01/01/2024–30/11/2024 với 01/01/2023–30/11/2023" in result.note


def test_period_in_progress_is_compared_with_the_same_elapsed_span():
    records = frame(incidents(10, day="2023-01-10"), incidents(90, day="2023-06-10"),
                    incidents(8, day="2024-01-10"))
    result = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024,
                            coverage=(date(2022, 12, 1), date(2024, 1, 31)))
    assert (result.numerator, result.comparison_count) == (8, 10)
    assert result.period_end == date(2024, 1, 31) and result.comparison_end == date(2023, 1, 31)
    assert "đang diễn ra" in result.note


def test_leap_day_first_quarter_100_to_96_is_minus_4_percent_not_met():
    # Q1 2024 = 01/12/2023–29/02/2024 (91 days) against 01/12/2022–28/02/2023 (90 days). Per day this
    # would be 96/91 ÷ 100/90 − 1 = −5.05 %, "met"; the plan counts cases: −4 %, not met.
    spec = TARGETS.spec("social_order_change")
    records = frame(incidents(100, day="2023-01-15"), incidents(95, day="2024-01-15"),
                    incidents(1, day="2024-02-29"))
    result = compute_metric(spec, records, parse_period("2024-Q1"), coverage=FULL_COVERAGE)
    assert (result.comparison_start, result.comparison_end) == (date(2022, 12, 1), date(2023, 2, 28))
    assert (result.numerator, result.comparison_count) == (96, 100)
    assert result.value == pytest.approx(-0.04)
    assert result.meets_target is False and result.status != "on_track"
    assert format_value(result) == "−4,0%"


def test_partial_year_is_cut_at_the_data_through_date_and_compared_with_the_same_calendar_span():
    # Calendar year 2025 with data to 31/03/2025 against 2024: 01/01–31/03 of each, not the whole of 2024.
    spec = TARGETS.spec("social_order_change")
    records = frame(incidents(100, day="2024-02-10"), incidents(300, day="2024-07-01"),
                    incidents(90, day="2025-03-01"))
    result = compute_metric(spec, records, parse_period("2025-CY"), coverage=(date(2023, 1, 1), date(2025, 3, 31)))
    assert (result.period_start, result.period_end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert (result.comparison_start, result.comparison_end) == (date(2024, 1, 1), date(2024, 3, 31))
    assert (result.numerator, result.comparison_count, result.baseline_year) == (90, 100, 2024)
    assert result.value == pytest.approx(-0.10)
    assert "31/03/2025" in result.note


def test_baseline_year_not_before_the_period_is_refused_naming_both():
    spec = TARGETS.spec("social_order_change")
    records = incidents(10, day="2024-03-01")
    for year in (2024, 2030):
        with pytest.raises(GeoInputError) as info:
            compute_metric(spec, records, YEAR_2024, coverage=FULL_COVERAGE, baseline_year=year)
        assert str(year) in str(info.value) and "Year 2024" in str(info.value) and "not before" in str(info.value)
        assert "Năm 2024" in info.value.text("vi") and "không trước" in info.value.text("vi")


def test_reports_resolved_is_the_share_past_received():
    records = frame(incidents(19), incidents(1, status="received", category="drugs"))
    result = compute_metric(TARGETS.spec("reports_resolved"), records, YEAR_2024, coverage=FULL_COVERAGE)
    assert (result.numerator, result.denominator) == (19, 20)


def test_trafficking_chain_cleared_indicted_tried():
    t = "human_trafficking"
    records = frame(incidents(1, category=t, status="received"), incidents(1, category=t, status="prosecuted"),
                    incidents(2, category=t, status="cleared"), incidents(3, category=t, status="indicted"),
                    incidents(3, category=t, status="tried"), incidents(20, status="tried"))
    got = {c: compute_metric(TARGETS.spec(c), records, YEAR_2024, coverage=FULL_COVERAGE)
           for c in ("trafficking_cleared", "trafficking_indicted", "trafficking_tried")}
    assert (got["trafficking_cleared"].numerator, got["trafficking_cleared"].denominator) == (8, 9)
    assert (got["trafficking_indicted"].numerator, got["trafficking_indicted"].denominator) == (6, 8)
    assert (got["trafficking_tried"].numerator, got["trafficking_tried"].denominator) == (3, 6)
    assert got["trafficking_tried"].status == "missed"  # 50% of 6: interval 11.8%–88.2%, all below 90%
    assert got["trafficking_indicted"].status == "at_risk"  # 75% of 8: interval 34.9%–96.8% contains 95%


def test_per_district_results_split_the_province():
    records = frame(incidents(9, district="869"), incidents(1, district="869", status="prosecuted"),
                    incidents(2, district="866"), incidents(8, district="866", status="prosecuted"))
    by_district = compute_by_district(TARGETS.spec("clearance"), records, YEAR_2024, ["869", "866", "870"],
                                      coverage=FULL_COVERAGE)
    assert [(r.district_code, r.numerator, r.denominator) for r in by_district] == [
        ("869", 9, 10), ("866", 2, 10), ("870", 0, 0)]
    assert by_district[1].status == "missed" and by_district[2].status == "no_data"


def test_external_key_area_and_drug_counts_are_a_census():
    key = TARGETS.spec("key_areas_achieved")
    assert compute_metric(key, None, YEAR_2024, external=ExternalCount(8, 12)).status == "on_track"
    assert compute_metric(key, None, YEAR_2024, external=ExternalCount(7, 12)).status == "missed"
    relapse = compute_metric(TARGETS.spec("key_areas_not_relapsed"), None, YEAR_2024, external=ExternalCount(5, 6))
    assert relapse.value == pytest.approx(5 / 6) and relapse.interval is None and relapse.status == "missed"
    kept = TARGETS.spec("drug_free_kept")
    assert compute_metric(kept, None, YEAR_2024, external=ExternalCount(30, 30)).status == "on_track"
    assert compute_metric(kept, None, YEAR_2024, external=ExternalCount(29, 30)).status == "missed"
    fewer = compute_metric(TARGETS.spec("drug_communes_change"), None, YEAR_2024, external=ExternalCount(40, 44))
    assert fewer.value == pytest.approx(40 / 44 - 1) and fewer.status == "on_track"


def test_targets_without_data_say_so():
    results = compute_all(TARGETS, incidents(5), YEAR_2024, coverage=FULL_COVERAGE)
    by_code = {r.code: r for r in results}
    for code in ("asset_recovery", "key_areas_achieved", "drug_free_kept", "adjudication"):
        assert by_code[code].status == "no_data" and by_code[code].value is None and by_code[code].note
    assert format_value(by_code["asset_recovery"]) == "—"
    assert [r.code for r in results] == [s.code for s in TARGETS.specs]


def test_trend_over_quarters():
    records = frame(incidents(3, day="2023-12-15"), incidents(1, day="2023-12-16", status="prosecuted"),
                    incidents(4, day="2024-04-01"))
    series = trend(TARGETS.spec("clearance"), records, quarters(2024), coverage=FULL_COVERAGE)
    assert [(r.period_code, r.numerator, r.denominator) for r in series] == [
        ("2024-q1", 3, 4), ("2024-q2", 4, 4), ("2024-q3", 0, 0), ("2024-q4", 0, 0)]


def test_intervals_agree_with_scipy():
    for k, n in ((0, 5), (3, 4), (77, 100), (5, 5)):
        exact = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        assert clopper_pearson(k, n) == pytest.approx((exact.low, exact.high))
        score = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((score.low, score.high))
    with pytest.raises(GeoInputError, match="successes=6, trials=5"):
        clopper_pearson(6, 5)


def test_status_rule_for_decreasing_targets():
    spec = TARGETS.spec("social_order_change")
    assert status_of(spec, -0.2, (-0.3, -0.1)) == "on_track"
    assert status_of(spec, -0.06, (-0.2, 0.1)) == "at_risk"
    assert status_of(spec, 0.1, (0.0, 0.2)) == "missed"
    assert status_of(spec, None, None) == "no_data"


def test_format_interval_and_infinite_change():
    records = frame(incidents(3, day="2024-03-01"), incidents(5, day="2023-05-01", category="drugs"))
    result = compute_metric(TARGETS.spec("social_order_change"), records, YEAR_2024, coverage=FULL_COVERAGE)
    # 0 → 3 is a rise, but three cases cannot show a trend: the interval still reaches −59%
    assert math.isinf(result.value) and result.meets_target is False and result.status == "at_risk"
    assert format_value(result) == "+∞" and format_interval(result).endswith("+∞")


def test_bad_specs_are_refused_with_the_reason():
    good = dict(code="x", kind="proportion", operator=">", threshold=0.5, source="manual", label_vi="x", label_en="x")
    with pytest.raises(GeoInputError, match="operator '=>'"):
        TargetSpec(**{**good, "operator": "=>"})
    with pytest.raises(GeoInputError, match="between 0 and 1"):
        TargetSpec(**{**good, "threshold": 75})
    with pytest.raises(GeoInputError, match="records measure only"):
        TargetSpec(**{**good, "source": "records"})
    with pytest.raises(GeoInputError, match="unknown fields"):
        targets_from_dict({"year": 2024, "metrics": [{**good, "colour": "red"}]})
    with pytest.raises(GeoInputError, match="repeat a code"):
        targets_from_dict({"year": 2024, "metrics": [good, good]})
    with pytest.raises(GeoInputError, match="lack columns"):
        compute_metric(TARGETS.spec("clearance"), pd.DataFrame({"occurred_at": []}), YEAR_2024)


def test_targets_worded_from_the_threshold():
    from geo.targets import describe_target

    assert describe_target(TARGETS.spec("clearance")) == "trên 75%"
    assert describe_target(TARGETS.spec("key_areas_achieved")) == "từ 60% trở lên"
    assert describe_target(TARGETS.spec("social_order_change")) == "giảm ít nhất 5%"
    assert describe_target(TARGETS.spec("social_order_change"), "en") == "at least 5% fewer"
    assert describe_target(TARGETS.spec("drug_communes_change")) == "giảm"


def test_a_target_without_plan_wording_is_worded_in_each_language_with_its_decimal_mark():
    from geo.targets import TargetSpec, describe_target

    spec = TargetSpec(code="clearance", label_vi="x", label_en="x", kind="proportion", operator=">",
                      threshold=0.755, source="records")
    assert (describe_target(spec, "vi"), describe_target(spec, "en")) == ("trên 75,5%", "above 75.5%")
    fewer = TargetSpec(code="social_order_change", label_vi="y", label_en="y", kind="change", operator="<=",
                       threshold=-0.05, source="records")
    assert (describe_target(fewer, "vi"), describe_target(fewer, "en")) == ("giảm ít nhất 5%", "at least 5% fewer")
