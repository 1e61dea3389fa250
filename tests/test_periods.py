"""Reporting periods: default boundaries (year from 01/12), configurable start, Q3 scope, comparisons."""
from datetime import date

import pytest

from geo.errors import GeoInputError
from geo.periods import (
    DEFAULT_SCHEME,
    PeriodScheme,
    describe_scheme,
    parse_period,
    quarters,
    report_periods,
    reporting_year_of,
    scheme_from_config,
)


def test_default_report_periods_end_before_the_plans_due_dates():
    q1, h1, q3, year = report_periods(2024)
    assert (q1.start, q1.end, q1.due) == (date(2023, 12, 1), date(2024, 2, 29), date(2024, 3, 5))
    assert (h1.start, h1.end, h1.due) == (date(2023, 12, 1), date(2024, 5, 31), date(2024, 6, 5))
    assert (q3.code, q3.kind, q3.end, q3.due) == ("2024-Q3", "9M", date(2024, 8, 31), date(2024, 9, 5))
    assert (year.start, year.end, year.due) == (date(2023, 12, 1), date(2024, 11, 30), date(2024, 12, 5))
    for period in (q1, h1, q3, year):
        assert period.end < period.due


def test_q3_can_be_the_third_quarter_alone():
    q3 = parse_period("2024-Q3", scheme=PeriodScheme(q3_scope="quarter"))
    assert (q3.start, q3.end, q3.kind) == (date(2024, 6, 1), date(2024, 8, 31), "quarter")
    assert parse_period("2024-9M").start == date(2023, 12, 1)


def test_calendar_scheme_and_mid_month_start():
    calendar = PeriodScheme(year_start="01-01")
    assert (parse_period("2024", scheme=calendar).start, parse_period("2024", scheme=calendar).end) == (
        date(2024, 1, 1), date(2024, 12, 31))
    assert parse_period("2024-Q1", scheme=calendar).end == date(2024, 3, 31)
    mid = PeriodScheme(year_start="12-15")
    assert (parse_period("2024", scheme=mid).start, parse_period("2024", scheme=mid).end) == (
        date(2023, 12, 15), date(2024, 12, 14))


def test_quarters_tile_the_year_without_gaps():
    qs = quarters(2024)
    assert [q.code for q in qs] == ["2024-q1", "2024-q2", "2024-q3", "2024-q4"]
    assert qs[0].start == parse_period("2024").start and qs[-1].end == parse_period("2024").end
    for a, b in zip(qs, qs[1:]):
        assert (b.start - a.end).days == 1
    assert sum(q.days for q in qs) == parse_period("2024").days == 366


def test_previous_year_is_the_same_span_a_year_earlier():
    q1 = parse_period("2024-Q1")
    previous = q1.previous_year()
    assert (previous.start, previous.end) == (date(2022, 12, 1), date(2023, 2, 28))
    assert parse_period("2024-Q3").previous_year().code == "2023-Q3"
    ranged = parse_period("2024-02-01..2024-02-29").previous_year()
    assert (ranged.start, ranged.end) == (date(2023, 2, 1), date(2023, 2, 28))


def test_range_codes_and_truncation():
    period = parse_period("2024-01-01..2024-03-31")
    assert period.days == 91 and period.start_at.isoformat() == "2024-01-01T00:00:00"
    assert period.end_before.isoformat() == "2024-04-01T00:00:00"
    cut = period.truncated(date(2024, 2, 10))
    assert cut.end == date(2024, 2, 10) and "10/02/2024" in cut.label_vi


@pytest.mark.parametrize("code", ["2024-Q5", "24", "2024-H2", "2024-02-30..2024-03-01", "2024-03-01..2024-02-01", ""])
def test_bad_codes_name_the_value_and_the_choices(code):
    with pytest.raises(GeoInputError) as info:
        parse_period(code)
    assert repr(code) in str(info.value) or "before" in str(info.value)


@pytest.mark.parametrize("start", ["13-01", "12-31", "1201", "00-10"])
def test_bad_scheme_is_refused(start):
    with pytest.raises(GeoInputError, match="year_start"):
        PeriodScheme(year_start=start)
    with pytest.raises(GeoInputError, match="q3_scope"):
        PeriodScheme(q3_scope="half")


def test_reporting_year_of_a_day():
    assert reporting_year_of(date(2023, 12, 1)) == 2024
    assert reporting_year_of(date(2023, 11, 30)) == 2023
    assert reporting_year_of(date(2024, 6, 1), scheme=PeriodScheme("01-01")) == 2024


def test_scheme_from_config_and_description():
    assert scheme_from_config({}) == DEFAULT_SCHEME
    scheme = scheme_from_config({"REPORT_YEAR_START": "01-01", "REPORT_Q3_SCOPE": "quarter"})
    assert scheme == PeriodScheme("01-01", "quarter")
    text = describe_scheme(DEFAULT_SCHEME, 2024)
    assert "từ 01/12/2023 đến 30/11/2024" in text and "mặc định" in text and "9 tháng" in text
    assert "01/01/2024 to 31/12/2024" in describe_scheme(scheme, 2024, "en")


def test_every_kind_of_the_one_period_model():
    from geo.periods import period_choices

    kinds = {parse_period(code).api_kind for code in ("2024", "2024-H1", "2024-Q3", "2024-q2", "2024-Q1", "2024-CY",
                                                       "2024-03", "2024-01-05..2024-02-10")}
    assert kinds == {"reporting_year", "half", "nine_months", "quarter", "calendar_year", "month", "custom"}
    cy, march = parse_period("2024-CY"), parse_period("2024-03")
    assert (cy.start, cy.end) == (date(2024, 1, 1), date(2024, 12, 31))
    assert (march.start, march.end, march.label_vi) == (date(2024, 3, 1), date(2024, 3, 31), "Tháng 3/2024")
    assert parse_period("2024-02").end == date(2024, 2, 29)
    [(year, offered)] = period_choices([2024])
    codes = [p.code for p in offered]
    assert year == 2024 and codes[:4] == ["2024-Q1", "2024-H1", "2024-Q3", "2024"]
    assert {"2024-q2", "2024-q4", "2024-CY", "2024-01", "2024-12"} <= set(codes)
    assert "2024-q1" not in codes  # the first quarter is the Q1 report: offered once
    calendar_codes = [p.code for p in period_choices([2024], scheme=PeriodScheme(year_start="01-01"))[0][1]]
    assert "2024-CY" not in calendar_codes  # same dates as the reporting year: offered once


@pytest.mark.parametrize("code", ["2024-13", "2024-00"])
def test_bad_month_codes_are_refused(code):
    with pytest.raises(GeoInputError, match="month"):
        parse_period(code)


def test_like_for_like_takes_the_same_calendar_span_of_the_baseline_year():
    from geo.periods import like_for_like

    pair = like_for_like(parse_period("2024-Q1"))
    assert pair.baseline_year == 2023
    assert (pair.baseline.start, pair.baseline.end) == (date(2022, 12, 1), date(2023, 2, 28))
    # A span ending on a month's last day ends on that month's last day in the baseline year (leap day kept).
    pair = like_for_like(parse_period("2025-Q1"))
    assert (pair.baseline.start, pair.baseline.end) == (date(2023, 12, 1), date(2024, 2, 29))
    pair = like_for_like(parse_period("2025-CY"), 2023, data_through=date(2025, 3, 20))
    assert (pair.span.start, pair.span.end, pair.span.data_through) == (date(2025, 1, 1), date(2025, 3, 20),
                                                                        date(2025, 3, 20))
    assert (pair.baseline.start, pair.baseline.end) == (date(2023, 1, 1), date(2023, 3, 20))
    assert pair.span.code == "2025-CY" and "20/03/2025" in pair.span.label_vi
    assert pair.as_dict()["span"]["nominal_end"] == "2025-12-31"


def test_like_for_like_starts_both_spans_as_late_as_the_data():
    from geo.periods import PeriodNotCovered, like_for_like

    pair = like_for_like(parse_period("2024"), data_from=date(2023, 1, 1))
    assert (pair.span.start, pair.baseline.start) == (date(2024, 1, 1), date(2023, 1, 1))
    with pytest.raises(PeriodNotCovered):
        like_for_like(parse_period("2024"), data_from=date(2023, 12, 1))
    with pytest.raises(PeriodNotCovered):
        like_for_like(parse_period("2025-CY"), data_through=date(2024, 12, 31))


@pytest.mark.parametrize("baseline", [2024, 2030, "2024"])
def test_a_baseline_not_before_the_period_is_refused_naming_both(baseline):
    from geo.periods import like_for_like

    with pytest.raises(GeoInputError) as info:
        like_for_like(parse_period("2024-CY"), baseline)
    message = str(info.value)  # English, as logs read it
    assert f"baseline {baseline}" in message and "Calendar year 2024" in message and "01/01/2024" in message
    worded = info.value.text("vi")
    assert f"kỳ gốc {baseline}" in worded and "Năm dương lịch 2024" in worded and "01/01/2024" in worded


def test_a_baseline_span_overlapping_a_long_custom_period_is_refused():
    from geo.periods import like_for_like

    with pytest.raises(GeoInputError, match="not before"):
        like_for_like(parse_period("2023-06-01..2024-12-31"), 2023)


def test_default_baseline_is_the_plans_year_else_the_previous_year():
    from geo.periods import default_baseline_year

    assert default_baseline_year(parse_period("2024")) == 2023
    assert default_baseline_year(parse_period("2025-CY")) == 2024
    assert default_baseline_year(parse_period("2025"), plan_baseline=2023) == 2023
    assert default_baseline_year(parse_period("2023"), plan_baseline=2023) == 2022


def test_scheme_sentence_names_no_configuration_variable():
    for scheme in (DEFAULT_SCHEME, PeriodScheme(year_start="01-01")):
        for lang in ("vi", "en"):
            assert "BANDO_" not in describe_scheme(scheme, 2024, lang)
