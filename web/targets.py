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
from geo.targets import STATUS_LABELS, compute_metric, format_interval, format_target, format_value, \
    summary_counts, trend
from store import boundaries
from store.boundaries import communes_frame
from store.meta import data_version
from store.targets import external_counts, incident_coverage, measure, measure_by_district, records_and_coverage, \
    targets_for_year, update_target
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, pick, t
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("targets", __name__)

add_messages({
    "targets.heading": ("Theo dõi chỉ tiêu kế hoạch", "Plan targets"),
    "targets.period": ("Kỳ báo cáo", "Reporting period"),
    "targets.district": ("Huyện/thành phố", "District"),
    "targets.province": ("Toàn tỉnh", "Whole province"),
    "targets.show": ("Xem", "Show"),
    "targets.print": ("In trang", "Print"),
    "targets.value": ("Kết quả", "Result"),
    "targets.target": ("Chỉ tiêu", "Target"),
    "targets.counts": ("Tử số / mẫu số", "Numerator / denominator"),
    "targets.same_period": ("cùng kỳ", "same period last year"),
    "targets.interval": ("Khoảng tin cậy 95%", "95% interval"),
    "targets.meets": ("Đạt theo số liệu", "Met by the figure"),
    "targets.yes": ("có", "yes"),
    "targets.no": ("không", "no"),
    "targets.on_map": ("Xem trên bản đồ", "See on the map"),
    "targets.trend": ("Diễn biến theo quý", "Per-quarter trend"),
    "targets.by_district": ("Theo huyện/thành phố", "By district"),
    "targets.status_rule": (
        "Đánh giá: “Đạt, vững chắc” khi cả khoảng tin cậy 95% đạt chỉ tiêu; “Không đạt” khi cả khoảng không đạt; "
        "“Chưa chắc chắn” khi số liệu chưa đủ để kết luận (số vụ ít hoặc kết quả sát chỉ tiêu). Chỉ tiêu 100% và "
        "số liệu đếm toàn bộ (địa bàn, xã) đánh giá theo chính con số.",
        "Status: “on track” when the whole 95% interval meets the target; “missed” when the whole interval misses "
        "it; “at risk” when the counts cannot tell (few cases, or a result close to the target). 100% targets and "
        "census counts (areas, communes) follow the figure itself."),
    "targets.coverage": ("Số liệu vụ việc từ {start} đến {end}; phiên bản dữ liệu {version}.",
                         "Incident data from {start} to {end}; data version {version}."),
    "targets.no_records": ("Chưa có vụ việc nào trong hệ thống.", "No incidents recorded yet."),
    "targets.borrowed": ("Chưa có chỉ tiêu năm {year}: đang dùng chỉ tiêu năm {used}.",
                         "No targets for {year}: using the {used} targets."),
    "targets.none": ("Chưa có chỉ tiêu nào.", "No targets defined."),
    "targets.plan": ("Căn cứ", "Source"),
    "targets.edit": ("Sửa chỉ tiêu năm {year}", "Edit the {year} targets"),
    "targets.threshold": ("Ngưỡng (%)", "Threshold (%)"),
    "targets.reason": ("Lý do thay đổi", "Reason for the change"),
    "targets.save": ("Lưu", "Save"),
    "targets.saved": ("Đã lưu chỉ tiêu.", "Targets saved."),
    "targets.reason_needed": ("Cần ghi lý do thay đổi.", "A reason is required."),
    "targets.map_year_note": ("Bản đồ lọc theo năm dương lịch {year}.", "The map filters by calendar year {year}."),
    "targets.quarter_count": ("Số vụ", "Cases"),
    "targets.previous_year": ("Năm trước", "Previous year"),
    "targets.district_only": ("Tài khoản huyện chỉ xem số liệu của huyện mình.",
                              "District accounts see their own district only."),
    "targets.comparison": ("So với", "Compared with"),
})

# What the map shows for each target: a category filter of maps.overview (None: no category filter).
MAP_CATEGORY = {
    "social_order_change": "social_order", "clearance": "social_order", "suspended_change": "",
    "grave_clearance": "", "reports_resolved": "", "trafficking_cleared": "human_trafficking",
    "trafficking_indicted": "human_trafficking", "trafficking_tried": "human_trafficking",
}
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
            raise GeoInputError(f"district {district!r}: {t('targets.district_only')}")
        district = current_user.district_code
    if district and district not in districts:
        raise GeoInputError(f"district {district!r} is not one of: {', '.join(districts)}")
    year = period.year or period.end.year
    return Choice(period, district, report_periods(year, scheme=scheme), districts)


def map_link(code: str, period: Period, district: str | None) -> str | None:
    if code in OTHER_PAGES:
        from flask import current_app as app

        endpoint = OTHER_PAGES[code]
        if endpoint not in app.view_functions:
            return None
        return url_for(endpoint, **({"year": period.year} if period.year else {}))
    if code not in MAP_CATEGORY:
        return None
    args = {"year": period.end.year}
    if MAP_CATEGORY[code]:
        args["category"] = MAP_CATEGORY[code]
    if district:
        args["district"] = district
    return url_for("maps.overview", **args)


def _percent(value):
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return None
    return round(value * 100, 2)


def trend_series(session, target_set, period: Period, district: str | None) -> dict:
    """Per-quarter values of every records target for the period's year and the year before (chart data)."""
    scheme = period_scheme()
    year = period.year or period.end.year
    records, coverage = records_and_coverage(session, None)
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
        measurement = measure(session, viewer, choice.period, district_code=choice.district)
        if measurement is None:
            return None, {}, {}
        by_district = (measure_by_district(session, viewer, choice.period, list(choice.districts))
                       if choice.district is None else {})
        charts = trend_series(session, measurement.targets.target_set, choice.period, choice.district)
        return measurement, by_district, charts

    return cached_view(key, build)


def _with_current_external(session, viewer, choice: Choice, measurement, by_district):
    """The cached figures with the key-area and drug-status targets measured now, and today's data version."""
    year = choice.period.year or choice.period.end.year
    province, per_district = external_counts(session, viewer, year)
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
        return render_template("targets/page.html", measurement=None, choice=choice)
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
            "meets": result.meets_target, "kind": result.kind, "note": result.note,
            "comparison": result.comparison_period_code, "comparison_dates": (
                f"{result.comparison_start:%d/%m/%Y}–{result.comparison_end:%d/%m/%Y}" if result.comparison_start else ""),
            "link": map_link(result.code, choice.period, choice.district), "source": spec.source,
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
    return render_template(
        "targets/page.html", measurement=measurement, choice=choice, tiles=tiles, table=table, columns=columns,
        charts=charts, counts=summary_counts(measurement.results), status_labels=STATUS_LABELS,
        scheme_text=describe_scheme(period_scheme(), year, lang),
        can_edit=current_user.role == access.ADMIN and not measurement.targets.borrowed,
        specs=measurement.targets.target_set.specs, year=year,
    )


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
        raise GeoInputError(f"year {year} has no stored targets")
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
                raise GeoInputError(f"threshold of {spec.code!r}: {raw!r} is not a number") from None
            update_target(session, current_user.username, year, spec.code, threshold=percent / 100, reason=reason)
        session.commit()
    except Exception:
        session.rollback()
        raise
    flash(t("targets.saved"), "success")
    return redirect(url_for("targets.page", period=str(year)))
