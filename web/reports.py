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
from translations import message
from web import access, db_session
from web.access import allow
from web.i18n import current_language, t
from web.targets import district_names, period_scheme

bp = Blueprint("reports", __name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"docx": DOCX_TYPE, "xlsx": XLSX_TYPE}


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
            raise GeoInputError(message("errors.district_only", district=repr(district),
                                        reason=message("reports.district_only")))
        return current_user.district_code
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(districts)))
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
    from reports.content import build_report, log_delivered
    from reports.docx_report import docx_bytes
    from reports.xlsx_report import xlsx_bytes

    session = db_session()
    fmt = request.args.get("format", "docx")
    if fmt not in FORMATS:
        raise GeoInputError(message("errors.not_one_of", name="format", value=repr(fmt), allowed=", ".join(FORMATS)))
    period = parse_period(request.args.get("period", ""), scheme=period_scheme())
    commune, commune_set = None, None
    if current_user.role == access.COMMUNE:
        # A commune committee's report is its commune's, on the set its account belongs to.
        from store.boundaries import set_rows

        commune = current_user.commune_code
        commune_set = next((r.version for r in set_rows(session) if r.id == current_user.commune_set_id), None)
        if commune_set is None:
            raise GeoInputError(message("reports.error.commune_set_gone"))
        district = None
    else:
        district = _district(district_names(session))
    report = build_report(session, current_user._get_current_object(), period, district_code=district,
                          scheme=period_scheme(), commune_code=commune, boundary_set=commune_set,
                          lang=current_language())
    body = docx_bytes(report) if fmt == "docx" else xlsx_bytes(report)
    log_delivered(report, file_format=fmt, by=current_user.username)
    unit = district or commune or "toan-tinh"
    name = f"bao-cao-138_{period.code.replace('..', '_')}_{unit}_v{report.data_version}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
