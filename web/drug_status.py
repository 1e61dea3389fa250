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
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, t
from store.meta import data_version
from web.key_areas import display_frames, district_bounds, district_names, int_arg, province_bounds, stash_parts
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("drug_status", __name__)

add_messages({
    "ds.title": ("Tình hình ma túy xã, phường, thị trấn", "Drug status of communes"),
    "ds.year": ("Năm", "Year"),
    "ds.compare": ("So với năm trước", "Against the previous year"),
    "ds.drug_free": ("Xã không có ma túy", "Drug-free communes"),
    "ds.kept": ("Giữ vững không có ma túy", "Kept drug-free"),
    "ds.became": ("Mới đạt không có ma túy", "Newly drug-free"),
    "ds.lost": ("Mất danh hiệu không có ma túy", "No longer drug-free"),
    "ds.with_drugs": ("Xã có ma túy", "Communes with drugs"),
    "ds.change": ("Tăng (+) / giảm (−)", "Change (+/−)"),
    "ds.key": ("Xã trọng điểm (loại I–III)", "Key communes (class I–III)"),
    "ds.rule_sets": ("Bộ tiêu chí phân loại theo thời gian hiệu lực", "Classification rule sets by effective date"),
    "ds.effective": ("Hiệu lực từ", "In force from"),
    "ds.unconfirmed": ("ngưỡng chưa xác nhận — có thể cấu hình", "thresholds unconfirmed — configurable"),
    "ds.records": ("Số liệu theo xã", "Records per commune"),
    "ds.commune": ("Xã/phường/thị trấn", "Commune"),
    "ds.status": ("Phân loại", "Classification"),
    "ds.rule": ("Căn cứ", "Rule set"),
    "ds.record": ("Ghi/cập nhật số liệu", "Record / update"),
    "ds.saved": ("Đã lưu và phân loại: {status} (theo {doc}).", "Saved and classified: {status} (under {doc})."),
    "ds.assessed_on": ("Ngày đánh giá", "Assessment date"),
    "ds.notes": ("Ghi chú", "Notes"),
    "ds.reason": ("Lý do thay đổi", "Reason for the change"),
    "ds.add_rule_set": ("Thêm phiên bản bộ tiêu chí (JSON)", "Add a rule set version (JSON)"),
    "ds.rule_set_added": ("Đã thêm phiên bản bộ tiêu chí.", "Rule set version added."),
    "ds.district": ("Huyện/thành phố", "District"),
    "ds.province": ("Toàn tỉnh", "Province"),
    "ds.all": ("Tất cả", "All"),
    "ds.filter": ("Xem", "Show"),
    "ds.no_data": ("Chưa có số liệu năm này.", "No records for this year."),
    "ds.criteria": ("Tiêu chí thỏa mãn", "Criteria met"),
    "ds.min_met": ("cần ít nhất {k}/{n} tiêu chí", "needs at least {k} of {n}"),
    "ds.edit": ("Sửa", "Edit"),
    "ds.save": ("Lưu", "Save"),
})


def rule_set_rows(session):
    return ds.rule_sets(session)


def _comparison_rows(session, year):
    rows = ds.comparison_by_district(session, current_user, year)
    return rows, ds.year_comparison(session, current_user, year)


@bp.route("/drug-status")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    years = ds.drug_years(session)
    year = int_arg("year") or (years[0] if years else date.today().year)
    district = request.args.get("district") or None
    if current_user.role == access.DISTRICT:
        district = current_user.district_code
    # Versions are read before the data, so a cached map is never older than its key says.
    versions = data_version(session, "drug_status", "boundaries")
    rows = ds.drug_status_rows(session, current_user, year=year, district_code=district)

    def render():
        from layers.base import map_parts
        from layers.drug_status import drug_status_map

        statuses = {r.commune_code: ds.status_snapshot(r) for r in rows}
        shown, districts = display_frames()
        if district:
            shown = shown[shown["district_code"] == district]
        return map_parts(drug_status_map(
            shown, statuses, districts=districts, lang=current_language(), status_labels=drug_rules.STATUS_LABELS,
            year=year, tile_url=current_app.config.get("TILE_URL", ""),
            tile_attribution=current_app.config.get("TILE_ATTRIBUTION", ""),
            bounds=district_bounds(districts, district) or province_bounds(districts)))

    # The rendered map, once per drug-status/boundary version, filters, language and viewer scope.
    key = ("drug_status", str(session.get_bind().url), versions, year,
           district, current_language(), viewer_scope(current_user), current_app.config.get("TILE_URL", ""),
           current_app.config.get("TILE_ATTRIBUTION", ""))
    parts = cached_view(key, render)
    by_district, province = _comparison_rows(session, year)
    if district:
        by_district = {k: v for k, v in by_district.items() if k == district}
    frame = communes_frame(session)
    commune_names = dict(zip(frame["commune_code"], frame["commune_name"]))
    return render_template(
        "drug_status/index.html", map=stash_parts(parts), years=years, year=year, district=district,
        districts=district_names(), rows=rows, commune_names=commune_names, by_district=by_district,
        province=province, rule_sets=rule_set_rows(session), STATUS_LABELS=drug_rules.STATUS_LABELS,
        may_record=current_user.role in (access.ADMIN, access.PLANNER, access.DISTRICT),
        is_province=current_user.role in (access.ADMIN, access.PLANNER),
        rule_json=json.dumps(drug_rules.QD_28_2025.to_dict(), ensure_ascii=False, indent=1))


@bp.route("/drug-status/record", methods=["GET", "POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT)
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
    error, status = None, 200
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in drug_rules.INDICATOR_NAMES if name != "on_drug_route"}
        values["on_drug_route"] = request.form.get("on_drug_route", "")
        try:
            with current_app.extensions["db"].transaction() as write:
                row = ds.record_drug_status(write, current_user, commune_code=commune_code, year=year, indicators=values,
                                            assessed_on=request.form.get("assessed_on") or None,
                                            notes=request.form.get("notes", ""),
                                            expected_version=request.form.get("version") or None,
                                            reason=request.form.get("reason", ""))
                label = drug_rules.STATUS_LABELS[row.status][0 if current_language() == "vi" else 1]
                doc = row.rule_document_number
            flash(t("ds.saved", status=label, doc=doc), "success")
            return redirect(url_for("drug_status.page", year=year), 303)
        except ka.TrackerError as e:
            error, status = str(e), e.status
    return render_template("drug_status/record.html", communes=communes, commune_code=commune_code, year=year,
                           existing=existing, error=error, form=request.form,
                           labels=drug_rules.INDICATOR_LABELS, names=drug_rules.INDICATOR_NAMES), status


@bp.route("/drug-status/rule-sets", methods=["POST"])
@allow(access.ADMIN, access.PLANNER)
def add_rule_set():
    try:
        definition = json.loads(request.form.get("definition", ""))
        if not isinstance(definition, dict):
            raise ValueError("not an object")
    except ValueError as e:
        flash(f"JSON không hợp lệ: {e}", "error")
        return redirect(url_for("drug_status.page"), 303)
    try:
        with current_app.extensions["db"].transaction() as write:
            ds.add_rule_set_version(write, current_user, definition, reason=request.form.get("reason", ""))
    except ka.TrackerError as e:
        flash(str(e), "error")
        return redirect(url_for("drug_status.page"), 303)
    flash(t("ds.rule_set_added"), "success")
    return redirect(url_for("drug_status.page"), 303)
