"""Drug status of communes: map per year, drug-free communes kept and communes with drugs reduced against
the previous year, per-commune records (classified by the rule set in force), and rule set versions."""
from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from geo import drug_rules
from store import drug_status as ds
from store import key_areas as ka
from store.boundaries import communes_frame
from web.basemap import basemap_key, basemap_source
from web import access, db_session
from web.access import allow
from web.boundary_view import communes_of_district, district_choices, read_view_set
from web.i18n import current_language, error_text, t
from store.meta import data_version
from web.key_areas import unit_decisions, display_frames, district_bounds, district_names, int_arg, province_bounds, stash_parts
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("drug_status", __name__)


def rule_set_rows(session):
    return ds.rule_sets(session)


def _comparison_rows(session, year, set_key=None):
    rows = ds.comparison_by_district(session, current_user, year, set_key)
    return rows, ds.year_comparison(session, current_user, year, set_key=set_key)


def _status_map(session, rows, view, year, district):
    """The folium map of the drug status of ``rows`` in ``view``'s set, zoomed to ``district`` or the province."""
    from layers.drug_status import drug_status_map

    statuses = ds.snapshots_in(session, rows, view.key) if view.key else {}
    shown, districts = display_frames(view.key or None)
    whole = province_bounds(shown)
    if district:
        shown = shown[shown["commune_code"].isin(communes_of_district(view, district))]
    return drug_status_map(
        shown, statuses, districts=districts, lang=current_language(), status_labels=drug_rules.STATUS_LABELS,
        year=year, tile_url=current_app.config.get("TILE_URL", ""),
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION", ""), basemap=basemap_source(),
        bounds=district_bounds(districts, district) or whole)


def _page_filters(session):
    """(years, year, view, district) of the query string, as the page and its print read them."""
    years = ds.drug_years(session)
    year = int_arg("year") or (years[0] if years else date.today().year)
    view = read_view_set(date(year, 12, 31))
    district = request.args.get("district") or None
    if current_user.role == access.DISTRICT:
        district = current_user.district_code
    return years, year, view, district


@bp.route("/drug-status/print.<fmt>")
@allow(*access.EVERYONE)
def print_map(fmt: str):
    """The drug-status map of the year and district in the query string on an A4 landscape sheet."""
    from store.incidents import has_demo_data
    from web.printing import check_format, print_response, sheet

    check_format(fmt)
    session = db_session()
    _years, year, view, district = _page_filters(session)
    rows = ds.drug_status_rows(session, current_user, year=year,
                               district_code=district if view.has_districts else None)
    m = _status_map(session, rows, view, year, district)
    names = district_choices(view) if view.key else district_names()
    lines = [f"{t('ka.year')}: {year}", f"{t('boundary.label')} {view.label}" if view.key else "",
             names.get(district, district or "") if district else ""]
    return print_response(m, sheet(f"{t('ds.title')} — {year}", lines, demo=has_demo_data(session),
                                   sources=[t("print.source_tracker")]), fmt, "ma-tuy-xa-phuong")


@bp.route("/drug-status")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    years, year, view, district = _page_filters(session)
    # Versions are read before the data, so a cached map is never older than its key says.
    versions = data_version(session, "drug_status", "boundaries")
    rows = ds.drug_status_rows(session, current_user, year=year,
                               district_code=district if view.has_districts else None)

    def render():
        from layers.base import map_parts

        from web.communes import with_commune_search

        return map_parts(with_commune_search(_status_map(session, rows, view, year, district),
                                             display_frames(view.key or None)[0], view.key or None))

    # The rendered map, once per drug-status/boundary version, filters, language and viewer scope.
    key = ("drug_status", str(session.get_bind().url), versions, year, view.key,
           district, current_language(), viewer_scope(current_user), basemap_key())
    parts = cached_view(key, render)
    by_district, province = _comparison_rows(session, year, view.key or None)
    if district:
        by_district = {k: v for k, v in by_district.items() if k == district}
    commune_names = ds.commune_names_of(session, rows)
    return render_template(
        "drug_status/index.html", map=stash_parts(parts), years=years, year=year, district=district,
        districts=district_choices(view) if view.key else district_names(), rows=rows, commune_names=commune_names,
        view_set=view, by_district=by_district,
        province=province, rule_sets=rule_set_rows(session), STATUS_LABELS=drug_rules.STATUS_LABELS,
        may_record=current_user.role in (access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE),
        proposals=[ds.worded_proposal(ds.proposal_snapshot(p), current_language())
                   for p in ds.drug_status_proposals(session, current_user, state=ka.PENDING)],
        indicator_labels=drug_rules.INDICATOR_LABELS,
        is_province=current_user.role in (access.ADMIN, access.PLANNER),
        decisions=unit_decisions(session), PROPOSAL_STATE_LABELS=ka.PROPOSAL_STATES,
        rule_json=json.dumps(drug_rules.QD_28_2025.to_dict(), ensure_ascii=False, indent=1))


@bp.route("/drug-status/record", methods=["GET", "POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE)
def record():
    session = db_session()
    frame = communes_frame(session)
    if current_user.role == access.DISTRICT:
        frame = frame[frame["district_code"] == current_user.district_code]
    communes = [(r.commune_code, r.commune_name) for r in frame.sort_values("commune_name").itertuples()]
    source = request.form if request.method == "POST" else request.args
    commune_code = source.get("commune_code") or (communes[0][0] if communes else "")
    raw_year = str(source.get("year", ""))
    # four ASCII digits: "²" passes isdigit but not int, and a longer number overflows the database integer
    year = int(raw_year) if raw_year.isascii() and raw_year.isdigit() and len(raw_year) <= 4 else date.today().year - 1
    existing = next((r for r in ds.drug_status_rows(session, current_user, year=year) if r.commune_code == commune_code),
                    None)
    error, status, warnings = None, 200, []
    province = current_user.role in (access.ADMIN, access.PLANNER)
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in drug_rules.INDICATOR_NAMES if name != "on_drug_route"}
        values["on_drug_route"] = request.form.get("on_drug_route", "")
        entry = dict(commune_code=commune_code, year=year, indicators=values,
                     assessed_on=request.form.get("assessed_on") or None, notes=request.form.get("notes", ""),
                     expected_version=request.form.get("version") or None, reason=request.form.get("reason", ""),
                     confirm_warnings=request.form.get("confirm_warnings") == "1")
        try:
            with current_app.extensions["db"].transaction() as write:
                if province:
                    row = ds.record_drug_status(write, current_user, **entry)
                    message = t("ds.saved", status=drug_rules.STATUS_LABELS[row.status][
                        0 if current_language() == "vi" else 1], doc=row.rule_document_number)
                else:  # district and commune committees propose; a province planner approves
                    message = t("ds.proposed", id=ds.propose_drug_status(write, current_user, **entry).id)
            flash(message, "success")
            return redirect(url_for("drug_status.page", year=year), 303)
        except ds.PlausibilityWarning as e:
            warnings, status = [w.text(current_language()) for w in e.warnings], e.status
        except ka.TrackerError as e:
            error, status = error_text(e), e.status
    return render_template("drug_status/record.html", communes=communes, commune_code=commune_code, year=year,
                           existing=existing, error=error, form=request.form, warnings=warnings, province=province,
                           labels=drug_rules.INDICATOR_LABELS, names=drug_rules.INDICATOR_NAMES), status


@bp.route("/drug-status/proposals/<int:proposal_id>/decision", methods=["POST"])
@allow(access.ADMIN, access.PLANNER)
def decide(proposal_id: int):
    """A province planner approves (the record is written) or rejects a district's figures."""
    try:
        with current_app.extensions["db"].transaction() as write:
            proposal = ds.decide_drug_status_proposal(write, current_user, proposal_id,
                                                      expected_version=request.form.get("version"),
                                                      approve=request.form.get("decision") == "approve",
                                                      note=request.form.get("note", ""))
            year = proposal.year
        flash(t("ds.decided", id=proposal_id), "success")
    except ka.TrackerError as e:
        flash(error_text(e), "error")
        year = None
    return redirect(url_for("drug_status.page", year=year), 303)


@bp.route("/drug-status/rule-sets", methods=["POST"])
@allow(access.ADMIN, access.PLANNER)
def add_rule_set():
    try:
        definition = json.loads(request.form.get("definition", ""))
        if not isinstance(definition, dict):
            raise ValueError("not an object")
    except RecursionError:
        flash("JSON không hợp lệ: lồng nhau quá sâu", "error")
        return redirect(url_for("drug_status.page"), 303)
    except ValueError as e:
        flash(f"JSON không hợp lệ: {e}", "error")
        return redirect(url_for("drug_status.page"), 303)
    try:
        with current_app.extensions["db"].transaction() as write:
            ds.add_rule_set_version(write, current_user, definition, reason=request.form.get("reason", ""))
    except ka.TrackerError as e:
        flash(error_text(e), "error")
        return redirect(url_for("drug_status.page"), 303)
    flash(t("ds.rule_set_added"), "success")
    return redirect(url_for("drug_status.page"), 303)
