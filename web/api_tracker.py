"""JSON API of the tracker: key areas, their status changes and proposals, targets, commune drug status.

Documented in docs/API.md. Sign in with a session cookie (then send the CSRF token in ``X-CSRFToken`` on
writes) or with ``Authorization: Bearer <token>`` (``flask create-token``). The same store functions as the
pages enforce roles, districts, the lifecycle and versions, so the API can do nothing a page cannot.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from geo.errors import GeoInputError
from store import drug_status as ds
from store import key_areas as ka
from web import access, db_session
from web.access import allow

bp = Blueprint("api_tracker", __name__)
EDITORS = (access.ADMIN, access.PLANNER, access.DISTRICT)
PROVINCE = (access.ADMIN, access.PLANNER)


def error(message: str, status: int):
    return jsonify({"error": message, "status": status}), status


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ka.TrackerError("Nội dung yêu cầu phải là một đối tượng JSON (Content-Type: application/json).")
    return data


def write(action, status=200):
    """Run ``action(session)`` in one transaction; refusals become JSON errors and change nothing."""
    try:
        with current_app.extensions["db"].transaction() as session:
            result = action(session)
    except (ka.TrackerError, GeoInputError) as e:
        return error(str(e), getattr(e, "status", 400))
    return jsonify(result), status


def year_arg():
    """The ``year`` query argument: None when absent, else a year 1900–2100 (anything else is a 400)."""
    raw = (request.args.get("year") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and 1900 <= int(raw) <= 2100):
        raise GeoInputError(f"year {raw[:20]!r} is not a year between 1900 and 2100")
    return int(raw)


def area_feature(session, area_id) -> dict:
    features = ka.area_features(session, current_user)
    match = [f for f in features if f["id"] == int(area_id)]
    if not match:
        raise ka.NotFound("Không tìm thấy địa bàn (hoặc địa bàn không thuộc huyện của bạn).")
    return match[0]


@bp.route("/api/key-areas")
@allow(*access.EVERYONE)
def list_areas():
    year = year_arg()
    status = request.args.get("status") or None
    if status and status not in ka.STATUSES:
        return error(f"status {status!r} is not one of: {', '.join(ka.STATUSES)}", 400)
    features = ka.area_features(db_session(), current_user, year=year, district_code=request.args.get("district"),
                                status=status)
    return jsonify({"type": "FeatureCollection", "features": features})


@bp.route("/api/key-areas", methods=["POST"])
@allow(*EDITORS)
def create_area():
    def action(session):
        data = body()
        geometry = None
        if data.get("geometry"):
            from geo.key_area_geometry import parse_geojson
            import json

            geometry = parse_geojson(json.dumps(data["geometry"]))
        district = current_user.district_code if current_user.role == access.DISTRICT else data.get("district_code")
        if current_user.role == access.DISTRICT and data.get("district_code") not in (None, district):
            raise ka.PermissionDenied("Bạn không có quyền sửa địa bàn của huyện/thành phố này.")
        area = ka.create_key_area(
            session, current_user, name=data.get("name"), kind=data.get("kind", ""), district_code=district,
            year_selected=data.get("year_selected"), complexity_types=data.get("complexity_types") or [],
            decision_number=data.get("decision_number"), decision_date=data.get("decision_date"),
            commune_code=data.get("commune_code"), geometry=geometry, notes=data.get("notes", ""))
        return ka.area_snapshot(area)

    return write(action, 201)


@bp.route("/api/key-areas/<int:area_id>")
@allow(*access.EVERYONE)
def get_area(area_id):
    session = db_session()
    try:
        feature = area_feature(session, area_id)
    except ka.NotFound as e:
        return error(str(e), 404)
    return jsonify({"area": feature, "events": [ka.event_snapshot(e) for e in ka.timeline(session, area_id)],
                    "proposals": [ka.proposal_snapshot(p) for p in ka.proposals(session, current_user, area_id=area_id)]})


@bp.route("/api/key-areas/<int:area_id>", methods=["PATCH"])
@allow(*EDITORS)
def update_area(area_id):
    def action(session):
        data = body()
        changes = {k: data[k] for k in ka.EDITABLE_FIELDS if k in data}
        area = ka.update_key_area(session, current_user, area_id, expected_version=data.get("version"),
                                  changes=changes, reason=data.get("reason", ""))
        return ka.area_snapshot(area)

    return write(action)


def _transition_args(data):
    return dict(expected_version=data.get("version"), to_status=data.get("to_status", ""),
                event_date=data.get("event_date", ""), reason=data.get("reason", ""),
                document_number=data.get("document_number", ""))


@bp.route("/api/key-areas/<int:area_id>/transitions", methods=["POST"])
@allow(*PROVINCE)
def transition_area(area_id):
    def action(session):
        event = ka.transition_key_area(session, current_user, area_id, **_transition_args(body()))
        session.flush()
        return {"event": ka.event_snapshot(event), "area": ka.area_snapshot(ka.get_key_area(session, current_user, area_id))}

    return write(action, 201)


@bp.route("/api/key-areas/<int:area_id>/proposals", methods=["POST"])
@allow(*EDITORS)
def propose(area_id):
    return write(lambda s: ka.proposal_snapshot(ka.propose_transition(s, current_user, area_id,
                                                                      **_transition_args(body()))), 201)


@bp.route("/api/key-area-proposals")
@allow(*access.EVERYONE)
def list_proposals():
    state = request.args.get("state") or None
    if state and state not in ka.PROPOSAL_STATES:
        return error(f"state {state!r} is not one of: {', '.join(ka.PROPOSAL_STATES)}", 400)
    rows = ka.proposals(db_session(), current_user, state=state)
    return jsonify({"proposals": [ka.proposal_snapshot(p) for p in rows]})


@bp.route("/api/key-area-proposals/<int:proposal_id>/decision", methods=["POST"])
@allow(*PROVINCE)
def decide(proposal_id):
    def action(session):
        data = body()
        if data.get("decision") not in ("approve", "reject"):
            raise ka.TrackerError("decision phải là 'approve' hoặc 'reject'.")
        proposal = ka.decide_proposal(session, current_user, proposal_id, expected_version=data.get("version"),
                                      approve=data["decision"] == "approve", note=data.get("note", ""))
        return ka.proposal_snapshot(proposal)

    return write(action)


@bp.route("/api/key-areas/targets")
@allow(*access.EVERYONE)
def targets():
    year = year_arg() or date.today().year
    table = ka.conversion_table(ka.key_area_records(db_session(), current_user, year=year), year)
    return jsonify({"year": year, "province": table.pop("province").as_dict(),
                    "districts": {code: row.as_dict() for code, row in table.items()}})


# --- drug status --------------------------------------------------------------------------------------------
@bp.route("/api/drug-status")
@allow(*access.EVERYONE)
def drug_statuses():
    rows = ds.drug_status_rows(db_session(), current_user, year=year_arg(),
                               district_code=request.args.get("district"))
    return jsonify({"records": [ds.status_snapshot(r) for r in rows]})


@bp.route("/api/drug-status", methods=["POST"])
@allow(*EDITORS)
def record_drug_status():
    def action(session):
        data = body()
        row = ds.record_drug_status(session, current_user, commune_code=data.get("commune_code", ""),
                                    year=data.get("year"), indicators=data.get("indicators") or {},
                                    assessed_on=data.get("assessed_on"), notes=data.get("notes", ""),
                                    expected_version=data.get("version"), reason=data.get("reason", ""))
        return ds.status_snapshot(row)

    return write(action)


@bp.route("/api/drug-status/comparison")
@allow(*access.EVERYONE)
def drug_comparison():
    session = db_session()
    year = year_arg() or date.today().year
    province = ds.year_comparison(session, current_user, year)
    districts = ds.comparison_by_district(session, current_user, year)
    return jsonify({"year": year, "previous_year": year - 1, "total": province.__dict__,
                    "districts": {code: c.__dict__ for code, c in districts.items()}})


@bp.route("/api/drug-status/rule-sets")
@allow(*access.EVERYONE)
def drug_rule_sets():
    return jsonify({"rule_sets": [r.to_dict() for r in ds.rule_sets(db_session())]})


@bp.route("/api/drug-status/rule-sets", methods=["POST"])
@allow(*PROVINCE)
def add_drug_rule_set():
    def action(session):
        data = body()
        row = ds.add_rule_set_version(session, current_user, data.get("definition") or {}, reason=data.get("reason", ""))
        return {"id": row.id, "code": row.code, "effective_from": row.effective_from.isoformat()}

    return write(action, 201)
