"""Pages of the key-area tracker: map and list, new area, area record with timeline, district page,
proposals and approvals (maker-checker).

Every write runs in one transaction (``Database.transaction``) through :mod:`store.key_areas`, which checks
permissions, the lifecycle and the version the user saw, and writes the audit row. A refused change
re-renders the page with the reason and the HTTP status of the refusal (403, 409, 422), and nothing is saved.
"""
from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from layers import palette
from store import key_areas as ka
from store.boundaries import communes_frame
from translations import message
from web.basemap import basemap_key, basemap_source
from web import access, db_session, script_stash
from web.access import allow
from web.boundary_view import read_view_set
from web.i18n import current_language, error_text, t

bp = Blueprint("key_areas", __name__)


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


def display_frames(boundary_set: str | None = None):
    """(display communes, district polygons) of a boundary set (default: in force today), simplified and
    cached; for a set without districts the polygons are the former districts."""
    from layers.overview import display_layers

    return display_layers(communes_frame(db_session(), boundary_set))


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


def area_map(features, *, draw=False, focus_district=None, fit_features=False, boundary_set=None):
    """The key-area map zoomed to the areas shown (``fit_features``), else the district, else the province,
    drawn over the districts (or former districts) of ``boundary_set`` (default: in force today)."""
    import hashlib

    from layers.base import map_parts
    from store.meta import data_version
    from web.communes import with_commune_search
    from web.view_cache import cached_view

    session = db_session()
    search_set = boundary_set or communes_frame(session).attrs.get("version")
    # The rendered map is a function of what it draws, so it is kept per content of the features (whoever
    # may see them), the boundary version under them, the language and the basemap configuration.
    drawn = hashlib.sha256(json.dumps(features, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    key = ("key-area-map", str(session.get_bind().url), data_version(session, "boundaries"), drawn, draw,
           focus_district, fit_features, boundary_set, search_set, current_language(), basemap_key(),
           url_for("key_areas.detail", area_id=0), url_for("vendor.asset", filename=""))

    def render():
        m = area_folium_map(features, draw=draw, focus_district=focus_district, fit_features=fit_features,
                            boundary_set=boundary_set)
        shown, _districts = display_frames(boundary_set)
        return map_parts(with_commune_search(m, shown, search_set))

    return stash_parts(cached_view(key, render))


def area_folium_map(features, *, draw=False, focus_district=None, fit_features=False, boundary_set=None):
    """The folium map of :func:`area_map` (for the page's script and its print)."""
    from layers.key_areas import key_area_map

    shown, districts = display_frames(boundary_set)
    bounds = (features_bounds(features) if fit_features else None) or district_bounds(districts, focus_district) \
        or province_bounds(shown)
    m = key_area_map(features, districts=districts, lang=current_language(), status_labels=ka.STATUS_LABELS,
                     draw=draw, tile_url=current_app.config.get("TILE_URL", ""),
                     tile_attribution=current_app.config.get("TILE_ATTRIBUTION", ""), basemap=basemap_source(),
                     detail_url_template=url_for("key_areas.detail", area_id=0).replace("/0", "/{id}"),
                     bounds=bounds)
    return m


# --- helpers ------------------------------------------------------------------------------------------------
def district_names() -> dict[str, str]:
    """The districts of the 2024 structure (latest set that has districts): district committees' records keep
    them after 01/07/2025."""
    from store.boundaries import set_rows, version_of

    with_districts = [r for r in set_rows(db_session()) if version_of(r).has_districts]
    if not with_districts:
        return {}
    frame = communes_frame(db_session(), with_districts[-1].version)
    return dict(sorted(zip(frame["district_code"], frame["district_name"])))


def commune_choices(district_code=None, frame=None, commune_code=None) -> list[tuple[str, str, str]]:
    """Communes offered by the form: of ``frame`` (default: the set in force today), one district's or one's."""
    frame = frame if frame is not None else communes_frame(db_session())
    if district_code:
        frame = frame[frame["district_code"] == district_code]
    if commune_code:
        frame = frame[frame["commune_code"] == commune_code]
    return [(r.commune_code, r.commune_name, r.district_code) for r in frame.sort_values("commune_name").itertuples()]


def vocab():
    return {"STATUS_LABELS": ka.STATUS_LABELS, "KINDS": ka.KINDS, "COMPLEXITY_TYPES": ka.COMPLEXITY_TYPES,
            "PROPOSAL_STATES": ka.PROPOSAL_STATES, "STATUS_COLORS": palette.KEY_AREA_STATUS, "TRANSITIONS": ka.TRANSITIONS}


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
    years, year, district, status, target_year, view = _map_filters(session)
    features = ka.area_features(session, current_user, year=year, district_code=district, status=status,
                                lang=current_language())
    pending = ka.proposals(session, current_user, state=ka.PENDING)
    areas_by_id = {f["properties"]["id"]: f["properties"] for f in features}
    communes = communes_frame(session)
    return render_template(
        "key_areas/index.html", map=area_map(features, focus_district=district, boundary_set=view.key or None),
        features=features, view_set=view, unit_names={**district_names(), **dict(zip(
            communes["commune_code"], communes["commune_name"]))},
        years=years, year=year, district=district, status=status, districts=district_names(), pending=pending,
        areas_by_id=areas_by_id, targets=targets_rows(target_year, current_user), target_year=target_year,
        may_create=current_user.role in (access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE),
        is_province=is_province(current_user), decisions=unit_decisions(session),
        PROPOSAL_STATE_LABELS=ka.PROPOSAL_STATES, **vocab())


def _map_filters(session):
    """The key-area map's filters from the query string, shared by the page and its printed sheet:
    (years with areas, year, district, status, the targets' year, the boundary set in view)."""
    years = ka.area_years(session)
    year = int_arg("year")
    district = request.args.get("district") or None
    status = request.args.get("status") if request.args.get("status") in ka.STATUSES else None
    if access.is_local(current_user):
        district = current_user.district_code or None  # a commune committee's list is its commune's already
    target_year = year or (years[0] if years else date.today().year)
    return years, year, district, status, target_year, read_view_set(date(target_year, 12, 31))


def unit_decisions(session):
    """A committee's decided proposals (None for province roles and guards, who see no such section)."""
    from store.work_queue import decisions_for_unit

    return decisions_for_unit(session, current_user) if access.is_local(current_user) else None


@bp.route("/key-areas/print.<fmt>")
@allow(*access.EVERYONE)
def print_map(fmt: str):
    """The key-area map of the filters in the query string (year, district, status) on an A4 sheet."""
    from store.incidents import has_demo_data
    from web.printing import check_format, print_response, sheet

    check_format(fmt)
    session = db_session()
    _years, year, district, status, _target_year, view = _map_filters(session)
    features = ka.area_features(session, current_user, year=year, district_code=district, status=status)
    m = area_folium_map(features, focus_district=district, boundary_set=view.key or None)
    lines = [f"{t('ka.year')}: {year or t('ka.all')}", f"{t('boundary.label')} {view.label}" if view.key else "",
             district_names().get(district, district or ""),
             pick(ka.STATUS_LABELS[status]) if status else "", t("print.areas_shown", n=len(features))]
    return print_response(m, sheet(t("ka.title"), lines, demo=has_demo_data(session),
                                   sources=[t("print.source_tracker")]), fmt, "dia-ban-trong-diem")


@bp.route("/key-areas/district")
@allow(access.DISTRICT, access.COMMUNE, access.PLANNER, access.ADMIN)
def district():
    """A district committee's areas with the actions it may take on each (province roles pick a district)."""
    session = db_session()
    names = district_names()
    if current_user.role == access.COMMUNE:
        from store.boundaries import commune_in_current_set

        code = current_user.commune_code
        names = {code: commune_in_current_set(session, code)[1]}
        areas = ka.list_key_areas(session, current_user)
        pending = {p.key_area_id: p for p in ka.proposals(session, current_user, state=ka.PENDING)}
        years = sorted({a.year_selected for a in areas}, reverse=True)
        targets = {y: targets_rows(y, current_user).get(code) for y in years}
        return render_template("key_areas/district.html", code=code, names=names, areas=areas, pending=pending,
                               targets=targets, years=years, may_edit=True, is_province=False, **vocab())
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
            raise GeoInputError(message("key_areas.error.file_too_large", name=repr(upload.filename[:80]),
                                            limit_kb=limit // 1024))
        return read_area_file(upload.filename, content), "upload"
    drawn = (request.form.get("geometry") or "").strip()
    if drawn:
        return parse_geojson(drawn), "drawn"
    return None, "commune"


@bp.route("/key-areas/new", methods=["GET", "POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE)
def new():
    own = current_user.district_code if current_user.role == access.DISTRICT else None
    own_commune = current_user.commune_code if current_user.role == access.COMMUNE else None
    view = read_view_set()
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
                    decision_date=form.get("decision_date") or None,
                    commune_code=own_commune or form.get("commune_code") or None,
                    geometry=geometry, geometry_source=source, notes=form.get("notes", ""),
                    expected_set=form.get("set") or None)
                area_id = area.id
            flash(t("ka.created"), "success")
            return redirect(url_for("key_areas.detail", area_id=area_id), 303)
        except (ka.TrackerError, GeoInputError) as e:
            error, status = error_text(e), getattr(e, "status", 400)
    features = ka.area_features(db_session(), current_user, district_code=own, lang=current_language())
    return render_template("key_areas/new.html", map=area_map(features, draw=True, focus_district=own), error=error,
                           form=form, own=own, districts=district_names() if view.has_districts else {},
                           communes=commune_choices(own, view.communes, own_commune), view_set=view,
                           this_year=date.today().year, **vocab()), status


def _detail(area_id, *, error=None, status=200, form=None):
    from web.evaluation_views import displacement_section

    session = db_session()
    try:
        area = ka.get_key_area(session, current_user, area_id)
    except ka.NotFound:
        abort(404)
    features = ka.area_features(session, current_user, district_code=area.district_code,
                                lang=current_language())
    features = [f for f in features if f["properties"]["id"] == area.id]
    pending = ka.pending_proposal(session, area.id)
    return render_template(
        "key_areas/detail.html", area=area, error=error, form=form or {}, map=area_map(features, fit_features=True),
        props=features[0]["properties"] if features else {}, events=ka.timeline(session, area.id),
        proposals=ka.proposals(session, current_user, area_id=area.id), pending=pending,
        may_edit=ka.may_edit(current_user, area.district_code) and current_user.role != access.BORDER_GUARD,
        is_province=is_province(current_user), allowed=ka.allowed_transitions(area.status),
        cycles=ka.cycles(session, area), next_year=max(area.year_selected + 1, date.today().year),
        today=date.today().isoformat(), districts=district_names(), displacement=displacement_section(area),
        **vocab()), status


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
        return _detail(area_id, error=error_text(e), status=getattr(e, "status", 400), form=request.form)
    flash(t(success_key), "success")
    return redirect(url_for("key_areas.detail", area_id=area_id), 303)


@bp.route("/key-areas/<int:area_id>/edit", methods=["POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE)
def edit(area_id):
    form = request.form
    changes = {"name": form.get("name", ""), "kind": form.get("kind", ""),
               "complexity_types": form.getlist("complexity_types"), "decision_number": form.get("decision_number", ""),
               "decision_date": form.get("decision_date") or None, "notes": form.get("notes", "")}
    return _write(area_id, lambda s: ka.update_key_area(s, current_user, area_id, expected_version=form.get("version"),
                                                       changes=changes, reason=form.get("reason", "")), "ka.saved")


@bp.route("/key-areas/<int:area_id>/propose", methods=["POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE)
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


@bp.route("/key-areas/<int:area_id>/reselect", methods=["POST"])
@allow(access.ADMIN, access.PLANNER, access.DISTRICT)
def reselect(area_id):
    """Select a relapsed area again in a later year (a new cycle linked to this one)."""
    form = request.form
    try:
        with current_app.extensions["db"].transaction() as session:
            cycle = ka.reselect_key_area(session, current_user, area_id, year_selected=form.get("year_selected"),
                                         decision_number=form.get("decision_number", ""),
                                         decision_date=form.get("decision_date") or None,
                                         reason=form.get("reason", ""))
            new_id = cycle.id
    except (ka.TrackerError, GeoInputError) as e:
        if isinstance(e, ka.NotFound):
            abort(404)
        return _detail(area_id, error=error_text(e), status=getattr(e, "status", 400), form=form)
    flash(t("ka.reselected"), "success")
    return redirect(url_for("key_areas.detail", area_id=new_id), 303)


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
