"""Plan targets dashboard: tiles (value, target, status), per-quarter trends, per-district table, threshold editing.

Figures come from :func:`store.targets.measure`; the rules (what is counted, intervals, status) are in
:mod:`geo.targets`. Charts are drawn by Chart.js served from ``/vendor`` with the page's data in a JSON
block read by ``static/js/targets.js`` (no inline script, no CDN).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import Period, describe_scheme, parse_period, quarters, report_periods, reporting_year_of, \
    scheme_from_config
from geo.targets import RECORD_METRICS, STATUS_LABELS, compute_metric, format_interval, format_target, format_value, \
    summary_counts, trend
from store import boundaries
from store.boundaries import communes_frame
from store.meta import data_version
from store.targets import external_counts, incident_coverage, measure, measure_by_district, records_and_coverage, \
    targets_for_year, update_target
from translations import message
from web import access, db_session
from web.access import allow
from web.i18n import current_language, date_span, pick, t
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("targets", __name__)


# Targets measured from other trackers open those pages on the period's year.
OTHER_PAGES = {"key_areas_achieved": "key_areas.page", "key_areas_not_relapsed": "key_areas.page",
               "drug_free_kept": "drug_status.page", "drug_communes_change": "drug_status.page"}


def period_scheme():
    return scheme_from_config(current_app.config)


def district_names(session) -> dict[str, str]:
    return boundaries.district_names(communes_frame(session))


@dataclass(frozen=True)
class Choice:
    period: Period
    district: str | None
    year_periods: list[Period]
    districts: dict[str, str]


def read_choice(session) -> Choice:
    """Period and district from the query string; a district account is held to its own district."""
    scheme = period_scheme()
    districts = district_names(session)
    code = request.args.get("period", "").strip()
    if code:
        period = parse_period(code, scheme=scheme)
    else:
        coverage = incident_coverage(session)
        from datetime import date

        year = reporting_year_of(coverage[1] if coverage else date.today(), scheme=scheme)
        period = parse_period(str(year), scheme=scheme)
    district = request.args.get("district", "").strip() or None
    if current_user.role == access.DISTRICT:
        if district and district != current_user.district_code:
            raise GeoInputError(message("errors.district_only", district=repr(district),
                                        reason=message("targets.district_only")))
        district = current_user.district_code
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(districts)))
    year = period.year or period.end.year
    return Choice(period, district, report_periods(year, scheme=scheme), districts)


def map_link(result, period: Period, district: str | None) -> str | None:
    """Where a card's "see on the map" goes: the overview map on exactly the span the card measured, its
    district and the incidents the target counts (``target=`` of :func:`geo.targets.counted_by`), so the
    map's total equals the card's count (its denominator for a share, its count for a change)."""
    code = result.code
    if code in OTHER_PAGES:
        from flask import current_app as app

        endpoint = OTHER_PAGES[code]
        if endpoint not in app.view_functions:
            return None
        # The tracker page of the year the card counted (store.targets.external_counts), its district and,
        # for drug statuses, the boundary set both years were compared on: the page shows the card's counts.
        args = {"year": period.year or period.end.year}
        if district:
            args["district"] = district
        if endpoint == "drug_status.page":
            from store.drug_status import comparison_set
            from web import db_session

            boundary_set = comparison_set(db_session(), args["year"])
            if boundary_set:
                args["set"] = boundary_set
        return url_for(endpoint, **args)
    if code not in RECORD_METRICS:
        return None
    start = result.period_start or period.start
    # The card measured the period from its own start (to the data-through date, where the map's data end
    # too); when the data start late the card's span starts late, and the map is given that span.
    span = period.code if start == period.start else f"{start.isoformat()}..{(result.period_end or period.end).isoformat()}"
    args = {"period": span, "target": code}
    if result.kind == "change" and result.baseline_year:
        args["baseline"] = result.baseline_year  # the map leaves out the communes the card leaves out
    if district:
        args["district"] = district
    from store.targets import period_set
    from web import db_session

    boundary_set = period_set(db_session(), period)
    if boundary_set:
        args["set"] = boundary_set  # the set the card counted in
    return url_for("maps.overview", **args)


def _percent(value):
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return None
    return round(value * 100, 2)


def trend_series(session, target_set, period: Period, district: str | None) -> dict:
    """Per-quarter values of every records target for the period's year and the year before (chart data)."""
    scheme = period_scheme()
    year = period.year or period.end.year
    from store.targets import period_set

    records, coverage = records_and_coverage(session, None, boundary_set=period_set(session, period))
    this_year, last_year = quarters(year, scheme=scheme), quarters(year - 1, scheme=scheme)
    labels = [q.label_vi if current_language() == "vi" else q.label_en for q in this_year]
    charts = {}
    for spec in target_set.specs:
        if spec.source != "records":
            continue
        now = trend(spec, records, this_year, district_code=district, coverage=coverage)
        if spec.kind == "change":
            before = [r.comparison_count for r in now]
            charts[spec.code] = {"kind": "count", "labels": labels,
                                 "series": [{"label": str(year), "data": [r.numerator for r in now]},
                                            {"label": str(year - 1), "data": before}]}
        else:
            previous = trend(spec, records, last_year, district_code=district, coverage=coverage)
            charts[spec.code] = {"kind": "percent", "labels": labels, "target": round(spec.threshold * 100, 2),
                                 "series": [{"label": str(year), "data": [_percent(r.value) for r in now]},
                                            {"label": str(year - 1), "data": [_percent(r.value) for r in previous]}]}
    return charts


# Topics the incident-based figures depend on; the key-area and drug-status figures are measured on every
# request (a few cheap queries), so a district recording a drug status keeps the incident figures cached.
RECORDS_TOPICS = ("incidents", "boundaries", "targets")


def _records_figures(session, viewer, choice: Choice):
    """Measurement, per-district results and trend charts, computed once per incident/target version, period,
    district, language and viewer scope (the external figures in them are replaced on every request)."""
    key = ("targets", str(session.get_bind().url), data_version(session, *RECORDS_TOPICS), choice.period,
           choice.district, tuple(choice.districts), current_language(), viewer_scope(viewer), period_scheme())

    def build():
        from store.targets import period_set

        # The incidents are read once for the province and every district; the key-area and drug-status
        # figures are left empty here, since _with_current_external measures them on every request.
        records = records_and_coverage(session, viewer, boundary_set=period_set(session, choice.period))
        no_external = ({}, {})
        measurement = measure(session, viewer, choice.period, district_code=choice.district,
                              records_coverage=records, external=no_external)
        if measurement is None:
            return None, {}, {}
        by_district = (measure_by_district(session, viewer, choice.period, list(choice.districts),
                                           records_coverage=records, external=no_external)
                       if choice.district is None else {})
        return measurement, by_district, _trend_charts(session, measurement.targets.target_set, choice)

    return cached_view(key, build)


# What the key-area and drug-status counts depend on (external_counts reads statuses in force today).
EXTERNAL_TOPICS = ("key_areas", "drug_status", "boundaries", "population")


def _current_external_counts(session, viewer, year: int):
    """:func:`store.targets.external_counts` once per version of the trackers' data, day, year and viewer
    scope: a drug status recorded bumps the version, so the next response shows it."""
    from datetime import date

    key = ("targets-external", str(session.get_bind().url), data_version(session, *EXTERNAL_TOPICS), date.today(),
           year, viewer_scope(viewer))
    return cached_view(key, lambda: external_counts(session, viewer, year))


def _trend_charts(session, target_set, choice: Choice) -> dict:
    """:func:`trend_series`, once per year (every period of a year charts the same quarters), boundary set,
    district, targets and language: it reads every viewer's records alike (no viewer)."""
    from store.targets import period_set

    year = choice.period.year or choice.period.end.year
    key = ("targets-trend", str(session.get_bind().url), data_version(session, *RECORDS_TOPICS), year,
           period_set(session, choice.period), choice.district, target_set, current_language(), period_scheme())
    return cached_view(key, lambda: trend_series(session, target_set, choice.period, choice.district))


def _with_current_external(session, viewer, choice: Choice, measurement, by_district):
    """The cached figures with the key-area and drug-status targets measured now, and today's data version."""
    year = choice.period.year or choice.period.end.year
    province, per_district = _current_external_counts(session, viewer, year)
    external = province if choice.district is None else {
        code: counts[choice.district] for code, counts in per_district.items() if choice.district in counts}
    specs = {s.code: s for s in measurement.targets.target_set.specs}

    def now(result, district_code, counts):
        spec = specs[result.code]
        if spec.source == "records":
            return result
        return compute_metric(spec, None, choice.period, district_code=district_code, external=counts,
                              coverage=measurement.coverage)

    results = [now(r, choice.district, external.get(r.code)) for r in measurement.results]
    measurement = dataclasses.replace(measurement, results=results, data_version=data_version(session))
    codes = list(choice.districts)
    by_district = {code: [now(r, codes[i], per_district.get(code, {}).get(codes[i])) for i, r in enumerate(rows)]
                   for code, rows in by_district.items()}
    return measurement, by_district


@bp.route("/targets")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    choice = read_choice(session)
    viewer = current_user._get_current_object()
    lang = current_language()
    measurement, by_district, charts = _records_figures(session, viewer, choice)
    if measurement is None:
        from store.incidents import incident_years
        from web.periods import menu

        return render_template("targets/page.html", measurement=None, choice=choice,
                               period_menu=menu(incident_years(session), choice.period), period=choice.period)
    measurement, by_district = _with_current_external(session, viewer, choice, measurement, by_district)
    specs = {s.code: s for s in measurement.targets.target_set.specs}
    tiles = []
    for result in measurement.results:
        spec = specs[result.code]
        tiles.append({
            "code": result.code, "label": pick((spec.label_vi, spec.label_en)), "value": format_value(result, lang),
            "target": format_target(spec, lang), "status": result.status,
            "status_label": pick(STATUS_LABELS[result.status]), "numerator": result.numerator,
            "denominator": result.denominator, "interval": format_interval(result, lang),
            "meets": result.meets_target, "kind": result.kind, "note": result.note_in(current_language()),
            "comparison": result.comparison_period_code, "comparison_dates": (
                date_span(result.comparison_start, result.comparison_end) if result.comparison_start else ""),
            "link": map_link(result, choice.period, choice.district), "source": spec.source,
            "plan_text": spec.plan_text,
        })
    table = []
    if choice.district is None:
        shown = [s for s in measurement.targets.target_set.specs if s.source != "manual"]
        for index, (code, name) in enumerate(choice.districts.items()):
            table.append({"code": code, "name": name, "cells": [
                {"value": format_value(by_district[s.code][index], lang), "status": by_district[s.code][index].status,
                 "counts": _counts_text(by_district[s.code][index])} for s in shown]})
        columns = [pick((s.label_vi, s.label_en)) for s in shown]
    else:
        columns = []
    year = choice.period.year or choice.period.end.year
    from store.incidents import incident_years
    from web.periods import menu

    return render_template(
        "targets/page.html", measurement=measurement, choice=choice, tiles=tiles, table=table, columns=columns,
        period_menu=menu(incident_years(session), choice.period), period=choice.period,
        charts=charts, counts=summary_counts(measurement.results), status_labels=STATUS_LABELS,
        scheme_text=describe_scheme(period_scheme(), year, lang),
        can_edit=current_user.role == access.ADMIN and not measurement.targets.borrowed,
        specs=measurement.targets.target_set.specs, year=year, set_line=_set_line(session, choice.period),
    )


def _set_line(session, period) -> str:
    """Which boundary set the figures are counted in (the one in force at the period's end)."""
    from store.boundaries import communes_frame, get_boundary_set, version_of
    from store.targets import period_set
    from web.boundary_view import set_statement

    key = period_set(session, period)
    if key is None:
        return ""
    communes = communes_frame(session, key)
    return set_statement(version_of(get_boundary_set(session, key)), len(communes), communes)


def _counts_text(result) -> str:
    if result.numerator is None:
        return ""
    if result.kind == "change":
        return f"{result.numerator} / {result.denominator}"
    return f"{result.numerator}/{result.denominator}"


@bp.route("/targets/<int:year>/edit", methods=["POST"])
@allow(access.ADMIN)
def edit(year: int):
    """Save changed thresholds (percent in the form) with the reason, one audit row per change."""
    session = db_session()
    in_force = targets_for_year(session, year)
    if in_force is None or in_force.borrowed:
        raise GeoInputError(message("targets.error.no_stored_targets", year=year))
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(t("targets.reason_needed"), "error")
        return redirect(url_for("targets.page", period=str(year)))
    try:
        for spec in in_force.target_set.specs:
            raw = request.form.get(f"threshold_{spec.code}", "").strip().replace(",", ".")
            if raw == "":
                continue
            try:
                percent = float(raw)
            except ValueError:
                raise GeoInputError(message("targets.error.threshold_not_number", code=repr(spec.code),
                                                value=repr(raw))) from None
            update_target(session, current_user.username, year, spec.code, threshold=percent / 100, reason=reason)
        session.commit()
    except Exception:
        session.rollback()
        raise
    flash(t("targets.saved"), "success")
    return redirect(url_for("targets.page", period=str(year)))
