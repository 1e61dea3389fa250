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
alone. Single quarters (for trend charts) are ``YYYY-q1`` … ``YYYY-q4``; any range can be written
``YYYY-MM-DD..YYYY-MM-DD`` (both ends inclusive).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from geo.errors import GeoInputError

#: Report due dates in the plan (day, month) within reporting year N.
DUE_DATES = {"Q1": (5, 3), "H1": (5, 6), "Q3": (5, 9), "year": (5, 12)}

_KIND_MONTHS = {"Q1": 3, "H1": 6, "9M": 9, "year": 12}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
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
            raise GeoInputError(f"year_start {self.year_start!r} is not MM-DD with a day from 01 to 28 "
                                "(e.g. '12-01' or '01-01')")
        if self.q3_scope not in Q3_SCOPES:
            raise GeoInputError(f"q3_scope {self.q3_scope!r} is not one of: {', '.join(Q3_SCOPES)}")

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

    ``kind`` is ``"year"``, ``"Q1"``, ``"H1"``, ``"9M"``, ``"quarter"`` or ``"range"``; ``number`` is the
    quarter number for ``"quarter"``; ``due`` the plan's due date of the report, when it has one.
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

    def dates_vi(self) -> str:
        return f"từ {self.start:%d/%m/%Y} đến {self.end:%d/%m/%Y}"

    def dates_en(self) -> str:
        return f"{self.start:%d/%m/%Y} to {self.end:%d/%m/%Y}"

    def previous_year(self) -> "Period":
        """The same period one year earlier (the comparison period of the plan's "so với năm 2023")."""
        if self.kind == "range":
            start, end = _shift_year(self.start, -1), _shift_year(self.end, -1)
            return range_period(start, end, scheme=self.scheme)
        if self.kind == "quarter":
            return quarter_period(self.year - 1, self.number, scheme=self.scheme)
        return _standard_period(self.year - 1, self.kind, self.scheme, code_kind=_code_kind(self))

    def truncated(self, last_day: date) -> "Period":
        """This period cut at ``last_day`` (for comparing a period still in progress with the same span)."""
        if last_day >= self.end:
            return self
        if last_day < self.start:
            raise GeoInputError(f"last_day {last_day} is before the period start {self.start}")
        return replace(self, end=last_day, code=f"{self.code}@{last_day.isoformat()}",
                       label_vi=f"{self.label_vi} (đến {last_day:%d/%m/%Y})",
                       label_en=f"{self.label_en} (to {last_day:%d/%m/%Y})")


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
        return Period(str(year), "year", year, start, end, f"Năm {year}", f"Year {year}",
                      due=_due(year, "year"), scheme=scheme)
    if kind == "Q1":
        return Period(f"{year}-Q1", "Q1", year, start, end, f"Quý I năm {year}", f"First quarter of {year}",
                      number=1, due=_due(year, "Q1"), scheme=scheme)
    if kind == "H1":
        return Period(f"{year}-H1", "H1", year, start, end, f"6 tháng đầu năm {year}", f"First six months of {year}",
                      due=_due(year, "H1"), scheme=scheme)
    code = f"{year}-{code_kind or '9M'}"
    return Period(code, "9M", year, start, end, f"Quý III và 9 tháng năm {year}" if code.endswith("Q3")
                  else f"9 tháng năm {year}", f"Nine months of {year}", due=_due(year, "Q3"), scheme=scheme)


def quarter_period(year: int, number: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """The ``number``-th single quarter (1–4) of reporting year ``year``."""
    if number not in _ROMAN:
        raise GeoInputError(f"quarter number {number!r} is not one of: 1, 2, 3, 4")
    start = _add_months(scheme.year_start_date(year), 3 * (number - 1))
    end = _add_months(start, 3) - timedelta(days=1)
    return Period(f"{year}-q{number}", "quarter", year, start, end, f"Quý {_ROMAN[number]}/{year}",
                  f"Q{number} {year}", number=number, scheme=scheme)


def quarters(year: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> list[Period]:
    """The four single quarters of reporting year ``year`` (for per-quarter trend charts)."""
    return [quarter_period(year, n, scheme=scheme) for n in (1, 2, 3, 4)]


def range_period(start: date, end: date, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """Any period from ``start`` to ``end``, both inclusive."""
    if end < start:
        raise GeoInputError(f"period end {end} is before its start {start}")
    return Period(f"{start.isoformat()}..{end.isoformat()}", "range", None, start, end,
                  f"Từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}", f"{start:%d/%m/%Y} to {end:%d/%m/%Y}", scheme=scheme)


def report_periods(year: int, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> list[Period]:
    """The plan's four reports of ``year``: Q1, six months, Q3, the year (codes as :func:`parse_period`)."""
    return [parse_period(f"{year}-{k}", scheme=scheme) for k in ("Q1", "H1", "Q3")] + [parse_period(str(year),
                                                                                                  scheme=scheme)]


_CODE = re.compile(r"(?P<year>\d{4})(?:-(?P<part>Q1|Q2|Q3|Q4|H1|6M|9M|q[1-4]))?")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
ACCEPTED_CODES = "YYYY, YYYY-Q1, YYYY-H1, YYYY-Q3, YYYY-9M, YYYY-Q2, YYYY-Q4, YYYY-q1…q4, YYYY-MM-DD..YYYY-MM-DD"


def parse_period(code: str, *, scheme: PeriodScheme = DEFAULT_SCHEME) -> Period:
    """Read a period code.

    Parameters
    ----------
    code : str
        ``"2024"`` (year), ``"2024-Q1"``, ``"2024-H1"`` (six months), ``"2024-Q3"`` (the Q3 report:
        nine months cumulative unless ``scheme.q3_scope == "quarter"``), ``"2024-9M"``, ``"2024-Q2"`` /
        ``"2024-Q4"`` / ``"2024-q1"`` … ``"2024-q4"`` (single quarters), or ``"2024-01-01..2024-03-31"``.
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
            raise GeoInputError(f"period {code!r} has an impossible date; accepted: {ACCEPTED_CODES}") from None
        return range_period(start, end, scheme=scheme)
    found = _CODE.fullmatch(text)
    if not found or not 1990 <= int(found.group("year")) <= 2100:
        raise GeoInputError(f"period {code!r} is not one of: {ACCEPTED_CODES}")
    year, part = int(found.group("year")), found.group("part")
    if part is None:
        return _standard_period(year, "year", scheme)
    if part == "Q1":
        return _standard_period(year, "Q1", scheme)
    if part in ("H1", "6M"):
        return _standard_period(year, "H1", scheme)
    if part == "9M":
        return _standard_period(year, "9M", scheme, code_kind="9M")
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
    """One sentence stating the period boundaries in force, printed on every report and dashboard."""
    year_period = _standard_period(year, "year", scheme)
    default = scheme == DEFAULT_SCHEME
    if lang == "en":
        q3 = "nine months cumulative" if scheme.q3_scope == "nine_months" else "the third quarter alone"
        return (f"Reporting year {year}: {year_period.dates_en()}; the Q3 report covers {q3}. "
                + ("Default boundaries (the plan does not state them; set BANDO_REPORT_YEAR_START and "
                   "BANDO_REPORT_Q3_SCOPE to change)." if default else
                   "Boundaries configured by BANDO_REPORT_YEAR_START / BANDO_REPORT_Q3_SCOPE."))
    q3 = "lũy kế 9 tháng" if scheme.q3_scope == "nine_months" else "riêng quý III"
    return (f"Năm báo cáo {year} tính {year_period.dates_vi()}; báo cáo quý III tính {q3}. "
            + ("Mốc kỳ báo cáo mặc định (kế hoạch không quy định; cấu hình BANDO_REPORT_YEAR_START, "
               "BANDO_REPORT_Q3_SCOPE)." if default else
               "Mốc kỳ báo cáo theo cấu hình BANDO_REPORT_YEAR_START / BANDO_REPORT_Q3_SCOPE."))
