"""Reporting periods of the steering committee: first quarter, six months, third quarter, the year.

The 2024 plan (section III.1) sets when reports are due — Q1 before 05/3, six months before 05/6, Q3
before 05/9, the year before 05/12 — but not where each period starts and ends. The boundaries are
therefore configuration, described by a :class:`PeriodScheme`, and every report prints them.

Notes
-----
Default scheme (our decision, stated on every report):

* the reporting year *N* runs from **01/12 of year N−1 to 30/11 of year N**. Each due date falls on the
  5th day after the end of February, May, August and November, which leaves the units four days to
  compile the figures; a calendar-year report could not be due on 05/12, and the province published its
  2024 results on 06/12/2024 (plo.vn), before the calendar year ended;
* ``Q1`` = the first three months (01/12/N−1 – end of February), ``H1`` = six months (to 31/5),
  ``Q3`` = **nine months cumulative** (to 31/8): the "báo cáo quý III" goes with the nine-month totals in
  Vietnamese administrative practice, and the plan's targets are rates over the year so far;
* the year = twelve months (to 30/11).

``year_start="01-01"`` gives calendar periods; ``q3_scope="quarter"`` makes ``Q3`` the third quarter
alone. Single quarters (for trend charts) are ``YYYY-q1`` … ``YYYY-q4``; whatever the scheme, ``YYYY-CY``
is the calendar year and ``YYYY-MM`` a calendar month; any range can be written ``YYYY-MM-DD..YYYY-MM-DD``
(both ends inclusive).

**One model for every page.** The maps, the hot spots, the targets, the reports and the JSON answers all
read the same codes with :func:`parse_period`, offer the same choices (:func:`period_choices`) and state
the same :attr:`Period.api_kind` (``reporting_year``, ``half``, ``nine_months``, ``quarter``,
``calendar_year``, ``month``, ``custom``).

**Like for like** (:func:`like_for_like`). A comparison with a baseline year takes the *same calendar
span* of that year: each date moves by whole years, and a period ending on the last day of a month ends
on the last day of the same month of the baseline year (so the first quarter of 2025, 01/12/2024–28/02/2025,
is compared with 01/12/2023–29/02/2024, the first quarter of 2024). When the data end inside the period,
the period is cut at the data-through date and the baseline at the same calendar date. Counts are then
compared as counts: the plan asks for "5% fewer cases", not fewer cases per day, so a leap day is not
divided away (100 → 96 cases is −4 %, whatever the lengths of the two Februaries).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from geo.errors import GeoInputError
from translations import message, month_names

#: Report due dates in the plan (day, month) within reporting year N.
DUE_DATES = {"Q1": (5, 3), "H1": (5, 6), "Q3": (5, 9), "year": (5, 12)}

_KIND_MONTHS = {"Q1": 3, "H1": 6, "9M": 9, "year": 12}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _labels(key: str, **params) -> tuple[str, str]:
    """The (vi, en) wording of the catalog message ``key``: a period keeps both so any page picks its own.

    Dates among ``params`` are written dd/mm/yyyy by :class:`translations.LocaleFormatter` (Babel, CLDR
    ``vi_VN`` and ``en``); a ``(vi, en)`` pair fills each language with its half.
    """
    worded = message(key, **params)
    return worded.text("vi"), worded.text("en")
Q3_SCOPES = ("nine_months", "quarter")


@dataclass(frozen=True)
class PeriodScheme:
    """Where reporting periods start and end.

    Parameters
    ----------
    year_start : str
        ``"MM-DD"`` on which reporting year N starts: in year N−1 unless it is ``"01-01"``. Default
        ``"12-01"`` (year N = 01/12/N−1 – 30/11/N; see the module Notes for why).
    q3_scope : str
        What the ``Q3`` report covers: ``"nine_months"`` (default, cumulative) or ``"quarter"``.
    """

    year_start: str = "12-01"
    q3_scope: str = "nine_months"

    def __post_init__(self):
        match = re.fullmatch(r"(\d{2})-(\d{2})", str(self.year_start))
        ok = match is not None
        if ok:
            month, day = int(match.group(1)), int(match.group(2))
            ok = 1 <= month <= 12 and 1 <= day <= 28
        if not ok:
            raise GeoInputError(message("geo.periods.year_start_mm_dd", self_year_start=self.year_start))
        if self.q3_scope not in Q3_SCOPES:
            raise GeoInputError(message("geo.periods.q_scope_one", self_q3_scope=self.q3_scope,
                                        q3_scopes=', '.join(Q3_SCOPES)))

    @property
    def start_month_day(self) -> tuple[int, int]:
        month, day = self.year_start.split("-")
        return int(month), int(day)

    @property
    def is_calendar(self) -> bool:
        return self.start_month_day == (1, 1)

    def year_start_date(self, year: int) -> date:
        month, day = self.start_month_day
        return date(year if self.is_calendar else year - 1, month, day)


DEFAULT_SCHEME = PeriodScheme()


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends inclusive (dates, local time).

    ``kind`` is ``"year"``, ``"Q1"``, ``"H1"``, ``"9M"``, ``"quarter"``, ``"calendar_year"``, ``"month"`` or
    ``"range"``; ``number`` is the quarter number for ``"quarter"`` (the month for ``"month"``); ``due`` the
    plan's due date of the report, when it has one. ``data_through`` is set by :meth:`cut_at` when the
    data end inside the period: ``end`` is then the data-through date and ``nominal_end`` the period's own
    end (the ``code`` still names the whole period, so links open the same period).
    """

    code: str
    kind: str
    year: int | None
    start: date
    end: date
    label_vi: str
    label_en: str
    number: int | None = None
    due: date | None = None
    scheme: PeriodScheme = DEFAULT_SCHEME
    data_through: date | None = None
    nominal_end: date | None = None

    @property
    def api_kind(self) -> str:
        """The kind as the JSON answers and the period menus name it (module docstring)."""
        return API_KINDS[self.kind]

    @property
    def reference_year(self) -> int:
        """The year the period is named after (reporting year, calendar year; a range: its end's year)."""
        return self.year if self.year is not None else self.end.year

    @property
    def label(self) -> str:
        return self.label_vi

    def as_dict(self) -> dict:
        """The period as the JSON answers give it: ``code``, ``kind``, ``start``, ``end``, ``data_through``."""
        return {"code": self.code, "kind": self.api_kind, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "nominal_end": (self.nominal_end or self.end).isoformat(),
                "data_through": self.data_through.isoformat() if self.data_through else None,
                "label_vi": self.label_vi, "label_en": self.label_en}

    def cut_at(self, data_through: date | None) -> "Period":
        """This period as far as the data go: ``end`` = ``data_through`` when the data end inside it.

        The code is unchanged (it still names the whole period); ``data_through`` is recorded either way,
        so every page can print "Số liệu đến dd/mm/yyyy".
        """
        if data_through is None:
            return self
        if data_through >= self.end:
            return replace(self, data_through=data_through)
        if data_through < self.start:
            raise PeriodNotCovered(message("geo.periods.data_end_before_period", data_through=data_through,
                                           label=(self.label_vi, self.label_en), start=self.start, end=self.end))
        label_vi, label_en = _labels("periods.label.data_to", label=(self.label_vi, self.label_en),
                                     date=data_through)
        return replace(self, end=data_through, data_through=data_through, nominal_end=self.end,
                       label_vi=label_vi, label_en=label_en)

    @property
    def start_at(self) -> datetime:
        """Inclusive start as a datetime (for filters ``occurred_at >= start_at``)."""
        return datetime.combine(self.start, time.min)

    @property
    def end_before(self) -> datetime:
        """Exclusive end as a datetime (for filters ``occurred_at < end_before``)."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self, lang: str = "vi") -> str:
        """``từ 01/12/2023 đến 29/02/2024`` / ``01/12/2023 to 29/02/2024`` (catalog ``periods.dates``)."""
        return message("periods.dates", start=self.start, end=self.end).text(lang)

    def dates_vi(self) -> str:
        return self.dates("vi")

    def dates_en(self) -> str:
        return self.dates("en")

    def previous_year(self) -> "Period":
        """The same period one year earlier (the comparison period of the plan's "so với năm 2023")."""
        if self.kind == "range":
            start, end = _shift_year(self.start, -1), _shift_year(self.end, -1)
            return range_period(start, end, scheme=self.scheme)
        if self.kind == "quarter":
            return quarter_period(self.year - 1, self.number, scheme=self.scheme)
        if self.kind == "calendar_year":
            return calendar_year_period(self.year - 1, scheme=self.scheme)
        if self.kind == "month":
            return month_period(self.year - 1, self.number, scheme=self.scheme)
        return _standard_period(self.year - 1, self.kind, self.scheme, code_kind=_code_kind(self))

    def truncated(self, last_day: date) -> "Period":
        """This period cut at ``last_day`` (for comparing a period still in progress with the same span)."""
        if last_day >= self.end:
            return self
        if last_day < self.start:
            raise GeoInputError(message("geo.periods.last_day_before_period", last_day=last_day,
                                        self_start=self.start))
        label_vi, label_en = _labels("periods.label.cut_to", label=(self.label_vi, self.label_en), date=last_day)
        return replace(self, end=last_day, code=f"{self.code}@{last_day.isoformat()}",
                       label_vi=label_vi, label_en=label_en)


API_KINDS = {"year": "reporting_year", "Q1": "quarter", "H1": "half", "9M": "nine_months", "quarter": "quarter",
             "calendar_year": "calendar_year", "month": "month", "range": "custom"}


class PeriodNotCovered(GeoInputError):
    """The data do not reach into the period (or its baseline): nothing to measure, which is ``no_data``."""


def _code_kind(period: Period) -> str:
    return period.code.split("-", 1)[1] if "-" in period.code else "year"


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _shift_year(day: date, years: int) -> date:
    year = day.year + years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def _due(year: int, key: str) -> date:
    day, month = DUE_DATES[key]
    return date(year, month, day)


def _standard_period(year: int, kind: str, scheme: PeriodScheme, *, code_kind: str | None = None) -> Period:
    start = scheme.year_start_date(year)
    end = _add_months(start, _KIND_MONTHS[kind]) - timedelta(days=1)
    if kind == "year":
        return Period(str(year), "year", year, start, end, *_labels("periods.label.year", year=year),
                      due=_due(year, "year"), scheme=scheme)
    if kind == "Q1":
        return Period(f"{year}-Q1", "Q1", year, start, end, *_labels("periods.label.first_quarter", year=year),
                      number=1, due=_due(year, "Q1"), scheme=scheme)
    if kind == "H1":
        return Period(f"{year}-H1", "H1", year, start, end, *_labels("periods.label.first_half", year=year),
                      due=_due(year, "H1"), scheme=scheme)
    code = f"{year}-{code_kind or '9M'}"
    label_vi, label_en = _labels("periods.label.third_quarter_nine_months" if code.endswith("Q3")
                                 else "periods.label.nine_months", year=year)
    return Period(code, "9M", year, start, end, label_vi, label_en, due=_due(year, "Q3"), scheme=scheme)


def quarter_period(year: int, number: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """The ``number``-th single quarter (1–4) of reporting year ``year``."""
    if number not in _ROMAN:
        raise GeoInputError(message("geo.periods.quarter_number_one", number=number))
    start = _add_months(scheme.year_start_date(year), 3 * (number - 1))
    end = _add_months(start, 3) - timedelta(days=1)
    return Period(f"{year}-q{number}", "quarter", year, start, end,
                  *_labels("periods.label.quarter", quarter=(_ROMAN[number], str(number)), year=year),
                  number=number, scheme=scheme)


def quarters(year: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> list[Period]:
    """The four single quarters of reporting year ``year`` (for per-quarter trend charts)."""
    return [quarter_period(year, n, scheme=scheme) for n in (1, 2, 3, 4)]


def range_period(start: date, end: date, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """Any period from ``start`` to ``end``, both inclusive."""
    if end < start:
        raise GeoInputError(message("geo.periods.period_end_before_start", end=end, start=start))
    return Period(f"{start.isoformat()}..{end.isoformat()}", "range", None, start, end,
                  *_labels("periods.label.range", start=start, end=end), scheme=scheme)


def calendar_year_period(year: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """01/01–31/12 of ``year`` (code ``YYYY-CY``), whatever the reporting scheme."""
    return Period(f"{year}-CY", "calendar_year", year, date(year, 1, 1), date(year, 12, 31),
                  *_labels("periods.label.calendar_year", year=year), scheme=scheme)


def month_period(year: int, month: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """The calendar month ``month`` of ``year`` (code ``YYYY-MM``)."""
    if not 1 <= int(month) <= 12:
        raise GeoInputError(message("geo.periods.month_one", month=month))
    last = calendar.monthrange(year, month)[1]
    return Period(f"{year}-{month:02d}", "month", year, date(year, month, 1), date(year, month, last),
                  *_labels("periods.label.month", month_name=month_names(month), year=year), number=month,
                  scheme=scheme)


def report_periods(year: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> list[Period]:
    """The plan's four reports of ``year``: Q1, six months, Q3, the year (codes as :func:`parse_period`)."""
    return [parse_period(f"{year}-{k}", scheme=scheme) for k in ("Q1", "H1", "Q3")] + [parse_period(str(year),
                                                                                                  scheme=scheme)]


_CODE = re.compile(r"(?P<year>\d{4})(?:-(?P<part>Q1|Q2|Q3|Q4|H1|6M|9M|q[1-4]|CY|\d{2}))?")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
ACCEPTED_CODES = ("YYYY (reporting year), YYYY-Q1, YYYY-H1, YYYY-Q3, YYYY-9M, YYYY-Q2, YYYY-Q4, YYYY-q1…q4, "
                  "YYYY-CY (calendar year), YYYY-MM (month), YYYY-MM-DD..YYYY-MM-DD")
#: The same list as a message, so a page words "reporting year", "month" in its language.
ACCEPTED = message("periods.accepted_codes")


def parse_period(code: str, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """Read a period code.

    Parameters
    ----------
    code : str
        ``"2024"`` (year), ``"2024-Q1"``, ``"2024-H1"`` (six months), ``"2024-Q3"`` (the Q3 report:
        nine months cumulative unless ``scheme.q3_scope == "quarter"``), ``"2024-9M"``, ``"2024-Q2"`` /
        ``"2024-Q4"`` / ``"2024-q1"`` … ``"2024-q4"`` (single quarters), ``"2024-CY"`` (calendar year),
        ``"2024-03"`` (a month), or ``"2024-01-01..2024-03-31"``.
    scheme : PeriodScheme
        Period boundaries (default: year from 01/12 of the previous year).

    Returns
    -------
    Period
    """
    text = str(code).strip()
    found = _RANGE.fullmatch(text)
    if found:
        try:
            start, end = date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2))
        except ValueError:
            raise GeoInputError(message("geo.periods.period_impossible_date_accepted", code=code,
                                        accepted_codes=ACCEPTED_CODES)) from None
        return range_period(start, end, scheme=scheme)
    found = _CODE.fullmatch(text)
    if not found or not 1990 <= int(found.group("year")) <= 2100:
        raise GeoInputError(message("errors.not_one_of", name="period", value=repr(code), allowed=ACCEPTED))
    year, part = int(found.group("year")), found.group("part")
    if part is None:
        return _standard_period(year, "year", scheme)
    if part == "Q1":
        return _standard_period(year, "Q1", scheme)
    if part in ("H1", "6M"):
        return _standard_period(year, "H1", scheme)
    if part == "9M":
        return _standard_period(year, "9M", scheme, code_kind="9M")
    if part == "CY":
        return calendar_year_period(year, scheme=scheme)
    if part.isdigit():
        if not 1 <= int(part) <= 12:
            raise GeoInputError(message("geo.periods.period_names_month_one", code=code, part=part,
                                        accepted_codes=ACCEPTED_CODES))
        return month_period(year, int(part), scheme=scheme)
    if part == "Q3":
        if scheme.q3_scope == "nine_months":
            return _standard_period(year, "9M", scheme, code_kind="Q3")
        return replace(quarter_period(year, 3, scheme=scheme), code=f"{year}-Q3", due=_due(year, "Q3"))
    number = int(part[1])
    return quarter_period(year, number, scheme=scheme)


def reporting_year_of(day: date, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> int:
    """The reporting year containing ``day`` (with the default scheme, 15/12/2023 is in 2024)."""
    for year in (day.year, day.year + 1):
        period = _standard_period(year, "year", scheme)
        if period.start <= day <= period.end:
            return year
    return day.year - 1


def scheme_from_config(config) -> PeriodScheme:
    """Build the scheme from app config keys ``REPORT_YEAR_START`` and ``REPORT_Q3_SCOPE`` (env ``BANDO_…``)."""
    return PeriodScheme(year_start=str(config.get("REPORT_YEAR_START") or DEFAULT_SCHEME.year_start),
                        q3_scope=str(config.get("REPORT_Q3_SCOPE") or DEFAULT_SCHEME.q3_scope))


def describe_scheme(scheme: PeriodScheme, year: int, lang: str = "vi") -> str:
    """One sentence stating the period boundaries in force, printed on every report and dashboard (in the
    reader's words: the setting's name belongs in the README, not on a page or a report)."""
    year_period = _standard_period(year, "year", scheme)
    q3_scope = message("periods.scheme.q3_nine_months" if scheme.q3_scope == "nine_months"
                       else "periods.scheme.q3_alone")
    origin = message("periods.scheme.default" if scheme == DEFAULT_SCHEME else "periods.scheme.set_by_admin")
    return message("periods.scheme.sentence", year=year, dates=message("periods.dates", start=year_period.start,
                                                                         end=year_period.end),
                   q3_scope=q3_scope, origin=origin).text(lang)


# ---------------------------------------------------------------- choices offered on every page


def period_choices(years, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> list[tuple[int, list[Period]]]:
    """The periods every page offers, per reporting year (newest first): the plan's four reports, the four
    single quarters, the calendar year and its twelve months.

    Parameters
    ----------
    years : iterable of int
        Years with data (reporting or calendar years: both are offered for each).
    scheme : PeriodScheme

    Returns
    -------
    list of (year, [Period, ...])
    """
    out = []
    for year in sorted({int(y) for y in years}, reverse=True):
        periods = report_periods(year, scheme=scheme) + quarters(year, scheme=scheme)
        periods.append(calendar_year_period(year, scheme=scheme))
        periods.extend(month_period(year, m, scheme=scheme) for m in range(1, 13))
        seen, unique = set(), []
        for p in periods:  # with a calendar scheme the reporting year and the calendar year coincide
            if (p.start, p.end) not in seen:
                seen.add((p.start, p.end))
                unique.append(p)
        out.append((year, unique))
    return out


# ---------------------------------------------------------------- like-for-like comparison


def default_baseline_year(period: Period, plan_baseline: int | None = None) -> int:
    """The year a period is compared with: the plan's comparison year when it names one for the period's
    year (the 2024 plan compares with 2023), else the year before the period's."""
    if plan_baseline is not None and plan_baseline < period.reference_year:
        return int(plan_baseline)
    return period.reference_year - 1


def shift_start(day: date, years: int) -> date:
    """``day`` moved by whole years (29/02 becomes 28/02 in a common year)."""
    return _shift_year(day, years)


def shift_end(day: date, years: int) -> date:
    """The last day of a span moved by whole years: a month's last day stays its month's last day, so
    28/02/2025 ↦ 29/02/2024 and a quarter ending in February ends on the same quarter's last day."""
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        year = day.year + years
        return date(year, day.month, calendar.monthrange(year, day.month)[1])
    return _shift_year(day, years)


@dataclass(frozen=True)
class LikeForLike:
    """A period and its baseline over the same calendar span (see :func:`like_for_like`).

    Attributes
    ----------
    period : Period
        The period as asked (its nominal dates).
    span : Period
        The part compared: the period cut at the data-through date (and, when the data start inside the
        baseline, started as late).
    baseline : Period
        The same calendar span of ``baseline_year`` (a ``range`` period).
    baseline_year : int
    data_through : date or None
    note_vi, note_en : str
        What was cut and why, for the page ("" when nothing was).
    """

    period: Period
    span: Period
    baseline: Period
    baseline_year: int
    data_through: date | None
    note_vi: str = ""
    note_en: str = ""

    def as_dict(self) -> dict:
        return {"span": self.span.as_dict(), "baseline_span": self.baseline.as_dict(),
                "baseline_year": self.baseline_year,
                "data_through": self.data_through.isoformat() if self.data_through else None}


def _note(notes_vi: list[str], notes_en: list[str], key: str, **params) -> None:
    worded_vi, worded_en = _labels(key, **params)
    notes_vi.append(worded_vi)
    notes_en.append(worded_en)


def like_for_like(period: Period, baseline_year: int | None = None, *, data_through: date | None = None,
                  data_from: date | None = None) -> LikeForLike:
    """Pair ``period`` with the same calendar span of ``baseline_year``, both cut to the data.

    Parameters
    ----------
    period : Period
    baseline_year : int, optional
        Default :func:`default_baseline_year` (the previous year). Must be before the period: a baseline
        of the period's own year or later, or a baseline span that overlaps the period, is refused.
    data_through : date, optional
        Last day the data cover. A period ending later is cut there and the baseline at the same calendar
        date (:func:`shift_end`); a period starting later raises :class:`PeriodNotCovered`.
    data_from : date, optional
        First day the data cover. When it falls inside the baseline span, both spans start that many
        calendar years apart from it; when it is after the baseline span, :class:`PeriodNotCovered`.

    Returns
    -------
    LikeForLike

    Notes
    -----
    Same calendar span, not same number of days: the plan compares case counts "so với năm 2023", so the
    first quarter 01/12/2023–29/02/2024 (91 days) is compared with 01/12/2022–28/02/2023 (90 days) and
    100 → 96 cases is a 4 % reduction, not the 5.1 % a per-day rate would claim.
    """
    if baseline_year is None:
        baseline_year = default_baseline_year(period)
    try:
        baseline_year = int(baseline_year)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.periods.baseline_year", baseline_year=baseline_year)) from None
    offset = baseline_year - period.reference_year
    nominal = replace(period, end=period.nominal_end or period.end, data_through=None, nominal_end=None)
    base_start, base_end = shift_start(nominal.start, offset), shift_end(nominal.end, offset)
    if offset >= 0 or base_end >= nominal.start:
        raise GeoInputError(
            message("geo.periods.baseline_before_period_choose", baseline_year=baseline_year,
                    base_start=base_start, base_end=base_end, nominal_label=(nominal.label_vi, nominal.label_en),
                    nominal_start=nominal.start, nominal_end=nominal.end))
    span_start, span_end = nominal.start, nominal.end
    notes_vi, notes_en = [], []
    if data_through is not None and data_through < span_end:
        if data_through < span_start:
            raise PeriodNotCovered(message("geo.periods.data_end_before_period", data_through=data_through,
                                           label=(nominal.label_vi, nominal.label_en), start=nominal.start,
                                           end=nominal.end))
        span_end = data_through
        base_end = min(base_end, shift_end(data_through, offset))
        _note(notes_vi, notes_en, "periods.note.data_to", data_through=data_through, base_end=base_end)
    if data_from is not None and data_from > base_start:
        if data_from > base_end:
            raise PeriodNotCovered(message("geo.periods.data_start_after_baseline", data_from=data_from,
                                           base_start=base_start, base_end=base_end, baseline_year=baseline_year))
        base_start = data_from
        span_start = max(span_start, shift_start(data_from, -offset))
        _note(notes_vi, notes_en, "periods.note.data_from", data_from=data_from, span_start=span_start,
              span_end=span_end, base_start=base_start, base_end=base_end)
    span = nominal.cut_at(data_through) if data_through is not None else nominal
    if span_start != span.start:
        span = replace(span, start=span_start)
    baseline = range_period(base_start, base_end, scheme=period.scheme)
    return LikeForLike(nominal, span, baseline, baseline_year, data_through, "; ".join(notes_vi),
                       "; ".join(notes_en))


#: Vietnam local time (ICT) is UTC+7 all year; stored timestamps are naive UTC.
LOCAL_UTC_OFFSET = timedelta(hours=7)


def end_instant_utc(period: Period) -> datetime:
    """The instant a period ends (exclusive: midnight after its last local day), as naive UTC, for reading the
    audit trail "as of the end of the period"."""
    return datetime.combine((period.nominal_end or period.end) + timedelta(days=1), time.min) - LOCAL_UTC_OFFSET


def status_on(events, day: date) -> dict:
    """The status of each record in force on ``day``, from its timeline.

    Parameters
    ----------
    events : iterable of (record id, event date, order, status)
        Every step of every timeline (``order`` breaks ties between steps of the same date, e.g. the event id).
    day : date

    Returns
    -------
    dict
        ``{record id: status}`` of the latest step on or before ``day``; records whose first step is later
        (not yet selected then) are absent.
    """
    latest: dict = {}
    for record, when, order, status in events:
        if when > day:
            continue
        seen = latest.get(record)
        if seen is None or (when, order) > seen[:2]:
            latest[record] = (when, order, status)
    return {record: value[2] for record, value in latest.items()}
