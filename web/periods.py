"""The one period model (:mod:`geo.periods`) as every page reads it from the query string.

``period=CODE`` (``2024``, ``2024-Q1``, ``2024-H1``, ``2024-Q3``, ``2024-q2``, ``2024-CY``, ``2024-03``,
``2024-01-01..2024-03-31``, or the two date inputs ``from=``/``to=`` of a form, which win over its menu) means the same dates on the maps, the hot spots, the targets, the reports, the
downloads and the JSON answers; the menus offer the same choices (:func:`menu`). The data-through date is
the last day with an incident, printed on every page ("Số liệu đến dd/mm/yyyy").
"""
from __future__ import annotations

import functools
from datetime import date

from flask import current_app, g, request

from geo.errors import GeoInputError
from geo.periods import (Period, default_baseline_year, parse_period, period_choices, reporting_year_of,
                         scheme_from_config)
from translations import message


def scheme():
    return scheme_from_config(current_app.config)


def coverage() -> tuple[date, date] | None:
    """First and last day with an incident, read once per request."""
    if "incident_coverage" not in g:
        from store.targets import incident_coverage
        from web import db_session

        try:
            g.incident_coverage = incident_coverage(db_session())
        except Exception:  # schema not created yet: the page itself says so
            g.incident_coverage = None
    return g.incident_coverage


def data_through() -> date | None:
    span = coverage()
    return span[1] if span else None


def default_period() -> Period:
    """The reporting year holding the last recorded day (the year in progress), as on the targets page."""
    last = data_through() or date.today()
    return parse_period(str(reporting_year_of(last, scheme=scheme())), scheme=scheme())


def read_period(name: str = "period", *, legacy_year: bool = True) -> Period:
    """The period of the query string; without one, ``year=Y`` (old bookmarks of the maps) is the calendar
    year Y, and nothing at all is :func:`default_period`. A bad code is a 400 naming the accepted codes."""
    code = request.args.get(name, "").strip()
    first, last = request.args.get("from", "").strip(), request.args.get("to", "").strip()
    if name == "period" and (first or last):
        # The date-range inputs of a filter form win over its period menu (whose choice they refine).
        if not (first and last):
            raise GeoInputError(message("periods.error.range_needs_both"))
        return parse_period(f"{first}..{last}", scheme=scheme())
    if code:
        return parse_period(code, scheme=scheme())
    year = request.args.get("year", "").strip() if legacy_year else ""
    if year:
        if not year.isdigit():
            raise GeoInputError(message("hotspots.error.not_a_year", name="year", value=repr(year)))
        return parse_period(f"{year}-CY", scheme=scheme())
    return default_period()


def read_baseline(period: Period, name: str = "baseline", plan_baseline: int | None = None) -> int:
    """The baseline year (default: :func:`geo.periods.default_baseline_year`); whether it is before the
    period is checked by :func:`geo.periods.like_for_like`, which names both when it is not."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default_baseline_year(period, plan_baseline)
    try:
        year = int(raw)
    except ValueError:
        raise GeoInputError(message("hotspots.error.not_a_year", name=name, value=repr(raw))) from None
    if not 1900 <= year <= 2100:
        raise GeoInputError(message("hotspots.error.year_range", name=name, year=year))
    return year


@functools.lru_cache(maxsize=64)
def _choices(years: frozenset, period_scheme) -> tuple:
    """:func:`geo.periods.period_choices` once per set of years and scheme (some 5 ms of every map page);
    the periods are frozen, and each caller gets a list of its own to add the selected one to."""
    return tuple(period_choices(years, scheme=period_scheme))


def menu(years, selected: Period) -> list[tuple[int, list[Period]]]:
    """The period choices every page offers: the years with data (and the selected period's year)."""
    wanted = set(years) | {selected.reference_year}
    last = data_through()
    if last is not None:
        wanted.add(reporting_year_of(last, scheme=scheme()))
    groups = list(_choices(frozenset(wanted), scheme()))
    if not any(p.code == selected.code for _y, periods in groups for p in periods):
        groups.insert(0, (selected.reference_year, [selected]))
    return groups
