"""Reports page: choose the period and the district, download the Word report or the Excel figures.

A district committee account gets its own district only; province-level roles choose any district or the
whole province. The files are built on request from the current data (their data version is printed).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import describe_scheme, parse_period, report_periods, reporting_year_of
from sqlalchemy import func, select

from store.incidents import incident_years
from store.models import Incident
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, t
from web.targets import district_names, period_scheme

bp = Blueprint("reports", __name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"docx": DOCX_TYPE, "xlsx": XLSX_TYPE}

add_messages({
    "reports.heading": ("Báo cáo định kỳ", "Periodic reports"),
    "reports.intro": (
        "Báo cáo quý I, 6 tháng, quý III và năm theo kế hoạch của BCĐ 138: bản Word theo thể thức văn bản hành "
        "chính (bảng chỉ tiêu, tình hình tội phạm, bản đồ điểm nóng và địa bàn trọng điểm) và bản Excel chứa số "
        "liệu của mọi bảng.",
        "Q1, six-month, Q3 and annual reports of the BCĐ 138 plan: a Word document in the administrative layout "
        "(targets, crime figures, hotspot and key-area maps) and an Excel workbook with the figures of every table."),
    "reports.period": ("Kỳ báo cáo", "Period"),
    "reports.district": ("Phạm vi", "Scope"),
    "reports.province": ("Toàn tỉnh", "Whole province"),
    "reports.docx": ("Tải báo cáo Word (.docx)", "Download Word report (.docx)"),
    "reports.xlsx": ("Tải số liệu Excel (.xlsx)", "Download Excel figures (.xlsx)"),
    "reports.cli": ("Lệnh tương đương", "Equivalent command"),
    "reports.periods_of": ("Các kỳ của năm {year}", "Periods of {year}"),
    "reports.due": ("hạn {due}", "due {due}"),
    "reports.district_only": ("Tài khoản huyện chỉ lập báo cáo của huyện mình.",
                              "District accounts report on their own district only."),
})


def _years(session) -> list[int]:
    scheme = period_scheme()
    years = incident_years(session)
    today_year = reporting_year_of(date.today(), scheme=scheme)
    candidates = set(years) | {y + 1 for y in years} | {today_year}
    return sorted(candidates, reverse=True)


def _district(districts: dict[str, str]) -> str | None:
    district = request.args.get("district", "").strip() or None
    if current_user.role == access.DISTRICT:
        if district and district != current_user.district_code:
            raise GeoInputError(f"district {district!r}: {t('reports.district_only')}")
        return current_user.district_code
    if district and district not in districts:
        raise GeoInputError(f"district {district!r} is not one of: {', '.join(districts)}")
    return district


@bp.route("/reports")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    scheme = period_scheme()
    districts = district_names(session)
    options = [(year, report_periods(year, scheme=scheme)) for year in _years(session)]
    last = session.scalar(select(func.max(Incident.occurred_at)))
    last_day = last.date() if last else date.today()
    chosen_year = reporting_year_of(last_day, scheme=scheme)
    # Preselect the report covering the latest data: the first of that year's reports reaching it.
    periods = dict(options).get(chosen_year, [])
    selected = next((p.code for p in periods if p.end >= last_day), periods[-1].code if periods else None)
    return render_template("reports/page.html", options=options, districts=districts, selected=selected,
                           scheme_text=describe_scheme(scheme, chosen_year, current_language()),
                           own_district=current_user.district_code if current_user.role == access.DISTRICT else None)


@bp.route("/reports/download")
@allow(*access.EVERYONE)
def download():
    """``?period=2024-Q1&district=869&format=docx|xlsx``"""
    from reports.content import build_report
    from reports.docx_report import docx_bytes
    from reports.xlsx_report import xlsx_bytes

    session = db_session()
    fmt = request.args.get("format", "docx")
    if fmt not in FORMATS:
        raise GeoInputError(f"format {fmt!r} is not one of: {', '.join(FORMATS)}")
    period = parse_period(request.args.get("period", ""), scheme=period_scheme())
    district = _district(district_names(session))
    report = build_report(session, current_user._get_current_object(), period, district_code=district,
                          scheme=period_scheme())
    body = docx_bytes(report) if fmt == "docx" else xlsx_bytes(report)
    name = f"bao-cao-138_{period.code.replace('..', '_')}_{district or 'toan-tinh'}_v{report.data_version}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
