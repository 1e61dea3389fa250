"""Pages of the key-area tracker: map and list, new area, area record with timeline, district page,
proposals and approvals (maker-checker).

Every write runs in one transaction (``Database.transaction``) through :mod:`store.key_areas`, which checks
permissions, the lifecycle and the version the user saw, and writes the audit row. A refused change
re-renders the page with the reason and the HTTP status of the refusal (403, 409, 422), and nothing is saved.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from store import key_areas as ka
from store.boundaries import communes_frame
from web import access, db_session, script_stash
from web.access import allow
from web.i18n import add_messages, current_language, t

bp = Blueprint("key_areas", __name__)

add_messages({
    "ka.title": ("Địa bàn trọng điểm, phức tạp", "Key complex areas"),
    "ka.map": ("Bản đồ địa bàn theo trạng thái", "Map of areas by status"),
    "ka.list": ("Danh sách địa bàn", "Areas"),
    "ka.new": ("Thêm địa bàn", "New area"),
    "ka.district_page": ("Trang BCĐ 138 huyện", "District committee page"),
    "ka.pending": ("Đề xuất chờ duyệt", "Pending proposals"),
    "ka.none_pending": ("Không có đề xuất chờ duyệt.", "No pending proposals."),
    "ka.targets": ("Chỉ tiêu chuyển hóa", "Conversion targets"),
    "ka.achieved_share": ("Tỷ lệ chuyển hóa đạt (chỉ tiêu ≥ {pct}%)", "Share achieved (target ≥ {pct}%)"),
    "ka.not_relapsed_share": ("Tỷ lệ không tái phức tạp (chỉ tiêu ≥ {pct}%)", "Share not relapsed (target ≥ {pct}%)"),
    "ka.achieved_short": ("Đạt ≥ 60%", "Achieved ≥ 60%"),
    "ka.not_relapsed_short": ("Không tái ≥ 85%", "Not relapsed ≥ 85%"),
    "ka.on_track": ("Đạt tiến độ", "On track"),
    "ka.at_risk": ("Có nguy cơ không đạt", "At risk"),
    "ka.missed": ("Không thể đạt", "Missed"),
    "ka.no_data": ("Chưa có dữ liệu", "No data"),
    "ka.province": ("Toàn tỉnh", "Province"),
    "ka.year": ("Năm chọn", "Year selected"),
    "ka.all": ("Tất cả", "All"),
    "ka.district": ("Huyện/thành phố", "District"),
    "ka.commune": ("Xã/phường/thị trấn", "Commune"),
    "ka.status": ("Trạng thái", "Status"),
    "ka.name": ("Tên địa bàn", "Name"),
    "ka.kind": ("Loại địa bàn", "Kind of place"),
    "ka.types": ("Loại phức tạp", "Complexity types"),
    "ka.decision": ("Quyết định lựa chọn (số)", "Selecting decision (number)"),
    "ka.decision_date": ("Ngày quyết định", "Decision date"),
    "ka.notes": ("Ghi chú", "Notes"),
    "ka.filter": ("Lọc", "Filter"),
    "ka.open": ("Mở", "Open"),
    "ka.timeline": ("Dòng thời gian", "Timeline"),
    "ka.proposals": ("Đề xuất", "Proposals"),
    "ka.propose": ("Đề xuất chuyển trạng thái (BCĐ huyện)", "Propose a status change (district)"),
    "ka.transition": ("Ghi nhận chuyển trạng thái (cấp tỉnh)", "Record a status change (province)"),
    "ka.to_status": ("Chuyển sang", "Change to"),
    "ka.date": ("Ngày", "Date"),
    "ka.reason": ("Lý do", "Reason"),
    "ka.document": ("Số văn bản", "Document number"),
    "ka.submit_proposal": ("Gửi đề xuất", "Send proposal"),
    "ka.submit_transition": ("Ghi nhận", "Record"),
    "ka.approve": ("Duyệt", "Approve"),
    "ka.reject": ("Từ chối", "Reject"),
    "ka.note": ("Ý kiến (bắt buộc khi từ chối)", "Note (required to reject)"),
    "ka.edit": ("Sửa thông tin", "Edit details"),
    "ka.save": ("Lưu", "Save"),
    "ka.edit_reason": ("Lý do sửa", "Reason for the edit"),
    "ka.geometry": ("Hình của địa bàn", "Shape of the area"),
    "ka.geometry_help": (
        "Chọn một xã để lấy cả xã; hoặc vẽ vùng trên bản đồ (ấp, chợ, bến, tuyến); hoặc tải lên tệp GeoJSON/KML.",
        "Choose a commune to take all of it; or draw the area on the map (hamlet, market, wharf, route); or "
        "upload a GeoJSON/KML file."),
    "ka.upload": ("Tệp GeoJSON/KML (tùy chọn)", "GeoJSON/KML file (optional)"),
    "ka.created": ("Đã thêm địa bàn.", "Area created."),
    "ka.saved": ("Đã lưu.", "Saved."),
    "ka.proposed": ("Đã gửi đề xuất; chờ tỉnh duyệt.", "Proposal sent; waiting for the province."),
    "ka.recorded": ("Đã ghi nhận chuyển trạng thái.", "Status change recorded."),
    "ka.approved": ("Đã duyệt đề xuất.", "Proposal approved."),
    "ka.rejected": ("Đã từ chối đề xuất.", "Proposal rejected."),
    "ka.no_actions": ("Trạng thái cuối: không còn chuyển trạng thái nào.", "Final status: no further change."),
    "ka.read_only": ("Bạn chỉ có quyền xem.", "You may only read."),
    "ka.has_pending": ("Đang có đề xuất chờ duyệt: chuyển sang “{to}” (bởi {by}).",
                       "A proposal is pending: change to “{to}” (by {by})."),
    "ka.by": ("Người ghi", "By"),
    "ka.approved_by": ("Người duyệt", "Approved by"),
    "ka.direct": ("ghi nhận trực tiếp", "recorded directly"),
    "ka.state": ("Tình trạng", "State"),
    "ka.proposed_by": ("Người đề xuất", "Proposed by"),
    "ka.decided_by": ("Người xử lý", "Decided by"),
    "ka.actions": ("Thao tác được phép", "Allowed actions"),
    "ka.selected_n": ("Số địa bàn", "Areas"),
    "ka.achieved_n": ("Đạt", "Achieved"),
    "ka.relapsed_n": ("Tái phức tạp", "Relapsed"),
    "ka.pending_n": ("Chưa đánh giá", "Not yet evaluated"),
    "ka.illustrative": ("minh họa", "illustrative"),
    "ka.version": ("Phiên bản", "Version"),
    "ka.choose_commune": ("— không chọn (vẽ hoặc tải lên) —", "— none (draw or upload) —"),
    "ka.drawn_hint": ("Dùng công cụ vẽ ở góc trái bản đồ để vẽ vùng.", "Use the draw tool on the map's left to draw."),
})

# --- maps: the page holds the container; the script is served from this blueprint's own URL ---------------
# (kept by web.script_stash in files every server process reads, so any gunicorn worker can serve it)
def stash_map(m) -> dict:
    """Render a folium map for a page: asset URLs, container HTML, and the URL of its script."""
    from layers.base import map_parts

    return stash_parts(map_parts(m))


def stash_parts(parts) -> dict:
    """The page's view of rendered map parts (``layers.base.MapParts``), its script stashed for this user."""
    token = script_stash.stash(current_user.get_id(), parts.script)
    return {"css": parts.css, "js": parts.js, "html": parts.html,
            "script_url": url_for("key_areas.map_script", token=token)}


@bp.route("/tracker-maps/<token>.js")
@allow(*access.EVERYONE)
def map_script(token):
    script = script_stash.fetch(token, current_user.get_id())
    if script is None:
        abort(404)
    response = current_app.response_class(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


def display_frames():
    """(display communes, district polygons) of the active boundary set, simplified and cached."""
    from layers.overview import display_layers

    return display_layers(communes_frame(db_session()))


def province_bounds(districts):
    if districts is None or districts.empty:
        return None
    minx, miny, maxx, maxy = districts.total_bounds
    return [[miny, minx], [maxy, maxx]]


def district_bounds(districts, district_code):
    part = districts[districts["district_code"] == district_code] if district_code else districts.iloc[0:0]
    if part.empty:
        return None
    minx, miny, maxx, maxy = part.total_bounds
    return [[miny, minx], [maxy, maxx]]


def features_bounds(features):
    import shapely
    from shapely.geometry import shape

    if not features:
        return None
    minx, miny, maxx, maxy = shapely.union_all([shape(f["geometry"]) for f in features]).bounds
    pad = 0.004  # about 400 m, so a market or wharf is not drawn edge to edge
    return [[miny - pad, minx - pad], [maxy + pad, maxx + pad]]


def area_map(features, *, draw=False, focus_district=None, fit_features=False):
    """The key-area map zoomed to the areas shown (``fit_features``), else the district, else the province."""
    from layers.key_areas import key_area_map

    _, districts = display_frames()
    bounds = (features_bounds(features) if fit_features else None) or district_bounds(districts, focus_district) \
        or province_bounds(districts)
    m = key_area_map(features, districts=districts, lang=current_language(), status_labels=ka.STATUS_LABELS,
                     draw=draw, tile_url=current_app.config.get("TILE_URL", ""),
                     tile_attribution=current_app.config.get("TILE_ATTRIBUTION", ""),
                     detail_url_template=url_for("key_areas.detail", area_id=0).replace("/0", "/{id}"),
                     bounds=bounds)
    return stash_map(m)


# --- helpers ------------------------------------------------------------------------------------------------
def district_names() -> dict[str, str]:
    frame = communes_frame(db_session())
    return dict(sorted(zip(frame["district_code"], frame["district_name"])))


def commune_choices(district_code=None) -> list[tuple[str, str, str]]:
    frame = communes_frame(db_session())
    if district_code:
        frame = frame[frame["district_code"] == district_code]
    return [(r.commune_code, r.commune_name, r.district_code) for r in frame.sort_values("commune_name").itertuples()]


def vocab():
    return {"STATUS_LABELS": ka.STATUS_LABELS, "KINDS": ka.KINDS, "COMPLEXITY_TYPES": ka.COMPLEXITY_TYPES,
            "PROPOSAL_STATES": ka.PROPOSAL_STATES, "STATUS_COLORS": ka.STATUS_COLORS, "TRANSITIONS": ka.TRANSITIONS}


def int_arg(name):
    """A non-negative integer query argument, or None (also for "²" or a number no database column holds)."""
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def is_province(user) -> bool:
    return user.role in (access.ADMIN, access.PLANNER)


def targets_rows(year, viewer):
    records = ka.key_area_records(db_session(), viewer, year=year)
    return ka.conversion_table(records, year)


# --- pages --------------------------------------------------------------------------------------------------
@bp.route("/key-areas")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    years = ka.area_years(session)
    year = int_arg("year")
    district = request.args.get("district") or None
    status = request.args.get("status") if request.args.get("status") in ka.STATUSES else None
    if current_user.role == access.DISTRICT:
        district = current_user.district_code
    features = ka.area_features(session, current_user, year=year, district_code=district, status=status)
    pending = ka.proposals(session, current_user, state=ka.PENDING)
    target_year = year or (years[0] if years else date.today().year)
    areas_by_id = {f["properties"]["id"]: f["properties"] for f in features}
    return render_template(
        "key_areas/index.html", map=area_map(features, focus_district=district), features=features,
        years=years, year=year, district=district, status=status, districts=district_names(), pending=pending,
        areas_by_id=areas_by_id, targets=targets_rows(target_year, current_user), target_year=target_year,
        may_create=current_user.role in (access.ADMIN, access.PLANNER, access.DISTRICT),
        is_province=is_province(current_user), **vocab())


@bp.route("/key-areas/district")
@allow(access.DISTRICT, access.PLANNER, access.ADMIN)
def district():
    """A district committee's areas with the actions it may take on each (province roles pick a district)."""
    session = db_session()
    names = district_names()
    code = current_user.district_code if current_user.role == access.DISTRICT else request.args.get("district")
    if not code:
        code = next(iter(names), None)
    if code not in names:
        abort(404)
    areas = ka.list_key_areas(session, current_user, district_code=code)
    pending = {p.key_area_id: p for p in ka.proposals(session, current_user, state=ka.PENDING)}
    years = sorted({a.year_selected for a in areas}, reverse=True)
    targets = {y: targets_rows(y, current_user).get(code) for y in years}
    return render_template("key_areas/district.html", code=code, names=names, areas=areas, pending=pending,
                           targets=targets, years=years, may_edit=ka.may_edit(current_user, code),
                           is_province=is_province(current_user), **vocab())


def _uploaded_or_drawn_geometry():
    from geo.key_area_geometry import parse_geojson, read_area_file

    upload = request.files.get("geometry_file")
    if upload is not None and upload.filename:
        # A key area's shape is a few kilobytes; refuse a large file before parsing it (not only at the
        # 200 MB request limit).
        limit = int(current_app.config.get("KEY_AREA_UPLOAD_MAX_BYTES", 5 * 1024 * 1024))
        content = upload.read(limit + 1)
        if len(content) > limit:
            raise GeoInputError(f"Tệp {upload.filename[:80]!r} lớn hơn {limit // 1024} KB; hãy đơn giản hóa hình "
                                f"trước khi tải lên. / The file is larger than {limit // 1024} KB.")
        return read_area_file(upload.filename, content), "upload"
    drawn = (request.form.get("geometry") or "").strip()
    if drawn:
        return parse_geojson(drawn), "drawn"
    return None, "commune"


@bp.route("/key-areas/new", methods=["GET", "POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT)
def new():
    own = current_user.district_code if current_user.role == access.DISTRICT else None
    error, status, form = None, 200, request.form
    if request.method == "POST":
        district_code = own or request.form.get("district_code", "")
        try:
            geometry, source = _uploaded_or_drawn_geometry()
            with current_app.extensions["db"].transaction() as session:
                area = ka.create_key_area(
                    session, current_user, name=form.get("name"), kind=form.get("kind", ""),
                    district_code=district_code, year_selected=form.get("year_selected"),
                    complexity_types=form.getlist("complexity_types"), decision_number=form.get("decision_number"),
                    decision_date=form.get("decision_date") or None, commune_code=form.get("commune_code") or None,
                    geometry=geometry, geometry_source=source, notes=form.get("notes", ""))
                area_id = area.id
            flash(t("ka.created"), "success")
            return redirect(url_for("key_areas.detail", area_id=area_id), 303)
        except (ka.TrackerError, GeoInputError) as e:
            error, status = str(e), getattr(e, "status", 400)
    features = ka.area_features(db_session(), current_user, district_code=own)
    return render_template("key_areas/new.html", map=area_map(features, draw=True, focus_district=own), error=error,
                           form=form, own=own, districts=district_names(), communes=commune_choices(own),
                           this_year=date.today().year, **vocab()), status


def _detail(area_id, *, error=None, status=200, form=None):
    session = db_session()
    try:
        area = ka.get_key_area(session, current_user, area_id)
    except ka.NotFound:
        abort(404)
    features = ka.area_features(session, current_user, district_code=area.district_code)
    features = [f for f in features if f["properties"]["id"] == area.id]
    pending = ka.pending_proposal(session, area.id)
    return render_template(
        "key_areas/detail.html", area=area, error=error, form=form or {}, map=area_map(features, fit_features=True),
        props=features[0]["properties"] if features else {}, events=ka.timeline(session, area.id),
        proposals=ka.proposals(session, current_user, area_id=area.id), pending=pending,
        may_edit=ka.may_edit(current_user, area.district_code) and current_user.role != access.BORDER_GUARD,
        is_province=is_province(current_user), allowed=ka.allowed_transitions(area.status),
        today=date.today().isoformat(), districts=district_names(), **vocab()), status


@bp.route("/key-areas/<int:area_id>")
@allow(*access.EVERYONE)
def detail(area_id):
    return _detail(area_id)


def _write(area_id, action, success_key):
    try:
        with current_app.extensions["db"].transaction() as session:
            action(session)
    except (ka.TrackerError, GeoInputError) as e:
        if isinstance(e, ka.NotFound):
            abort(404)
        return _detail(area_id, error=str(e), status=getattr(e, "status", 400), form=request.form)
    flash(t(success_key), "success")
    return redirect(url_for("key_areas.detail", area_id=area_id), 303)


@bp.route("/key-areas/<int:area_id>/edit", methods=["POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT)
def edit(area_id):
    form = request.form
    changes = {"name": form.get("name", ""), "kind": form.get("kind", ""),
               "complexity_types": form.getlist("complexity_types"), "decision_number": form.get("decision_number", ""),
               "decision_date": form.get("decision_date") or None, "notes": form.get("notes", "")}
    return _write(area_id, lambda s: ka.update_key_area(s, current_user, area_id, expected_version=form.get("version"),
                                                       changes=changes, reason=form.get("reason", "")), "ka.saved")


@bp.route("/key-areas/<int:area_id>/propose", methods=["POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT)
def propose(area_id):
    return _status_change(area_id, ka.propose_transition, "ka.proposed")


@bp.route("/key-areas/<int:area_id>/transition", methods=["POST"])
@allow(access.ADMIN, access.PLANNER)
def transition(area_id):
    return _status_change(area_id, ka.transition_key_area, "ka.recorded")


def _status_change(area_id, change, done_message):
    """A proposed (maker) or recorded (province) status change from the area's form: same fields, same checks."""
    form = request.form
    return _write(area_id, lambda s: change(
        s, current_user, area_id, expected_version=form.get("version"), to_status=form.get("to_status", ""),
        event_date=form.get("event_date", ""), reason=form.get("reason", ""),
        document_number=form.get("document_number", "")), done_message)


@bp.route("/key-areas/proposals/<int:proposal_id>/decide", methods=["POST"])
@allow(access.ADMIN, access.PLANNER)
def decide(proposal_id):
    form = request.form
    approve = form.get("decision") == "approve"
    if form.get("decision") not in ("approve", "reject"):
        abort(400)
    proposal = db_session().get(ka.KeyAreaProposal, proposal_id)
    if proposal is None:
        abort(404)
    area_id = proposal.key_area_id
    return _write(area_id, lambda s: ka.decide_proposal(s, current_user, proposal_id,
                                                       expected_version=form.get("version"), approve=approve,
                                                       note=form.get("note", "")),
                  "ka.approved" if approve else "ka.rejected")


# --- demo data: `flask seed-demo` also seeds the tracker -----------------------------------------------------
@bp.record_once
def _register_demo_seeder(state):
    from store.demo_tracker import seed_demo_tracker

    seeders = state.app.extensions.setdefault("demo_seeders", [])
    if seed_demo_tracker not in seeders:
        seeders.append(seed_demo_tracker)


