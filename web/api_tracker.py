"""JSON API of the tracker: key areas, their status changes and proposals, targets, commune drug status.

Documented in docs/API.md. Sign in with a session cookie (then send the CSRF token in ``X-CSRFToken`` on
writes) or with ``Authorization: Bearer <token>`` (``flask create-token``). The same store functions as the
pages enforce roles, districts, the lifecycle and versions, so the API can do nothing a page cannot.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from geo.errors import GeoInputError
from store import drug_status as ds
from store import key_areas as ka
from translations import message
from web import access, db_session
from web.access import allow
from web.api_input import refusal, with_body, with_query
from web.api_schemas import (DecisionBody, DrugStatusBody, DrugStatusListQuery, KeyAreaChangesBody, KeyAreaListQuery,
                             NewKeyAreaBody, ProposalListQuery, ReselectionBody, RuleSetInputBody, TransitionBody,
                             YearQuery, error_body)
from web.i18n import current_language

bp = Blueprint("api_tracker", __name__)
EDITORS = (access.ADMIN, access.PLANNER, access.DISTRICT, access.COMMUNE)
PROVINCE = (access.ADMIN, access.PLANNER)


def write(action, status=200):
    """Run ``action(session)`` in one transaction; refusals become JSON errors and change nothing."""
    try:
        with current_app.extensions["db"].transaction() as session:
            result = action(session)
    except (ka.TrackerError, GeoInputError) as e:
        return refusal(e)
    return jsonify(result), status


def area_feature(session, area_id) -> dict:
    features = ka.area_features(session, current_user)
    match = [f for f in features if f["id"] == int(area_id)]
    if not match:
        raise ka.NotFound(message("ka.err.area_not_found"))
    return match[0]


@bp.route("/api/key-areas")
@allow(*access.EVERYONE)
@with_query(KeyAreaListQuery)
def list_areas(query):
    features = ka.area_features(db_session(), current_user, year=query.get("year"),
                                district_code=query.get("district"), status=query.get("status") or None)
    return jsonify({"type": "FeatureCollection", "features": features})


@bp.route("/api/key-areas", methods=["POST"])
@allow(*EDITORS)
@with_body(NewKeyAreaBody)
def create_area(data):
    def action(session):
        geometry = None
        if data.get("geometry"):
            from geo.key_area_geometry import parse_geojson
            import json

            geometry = parse_geojson(json.dumps(data["geometry"]))
        district = current_user.district_code if current_user.role == access.DISTRICT else data.get("district_code")
        if current_user.role == access.DISTRICT and data.get("district_code") not in (None, district):
            raise ka.PermissionDenied(message("ka.err.other_district"))
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
        return refusal(e)
    return jsonify({"area": feature, "events": [ka.event_snapshot(e) for e in ka.timeline(session, area_id)],
                    "proposals": [ka.proposal_snapshot(p) for p in ka.proposals(session, current_user, area_id=area_id)]})


@bp.route("/api/key-areas/<int:area_id>", methods=["PATCH"])
@allow(*EDITORS)
@with_body(KeyAreaChangesBody)
def update_area(area_id, data):
    def action(session):
        changes = {k: data[k] for k in ka.EDITABLE_FIELDS if k in data}
        area = ka.update_key_area(session, current_user, area_id, expected_version=data.get("version"),
                                  changes=changes, reason=data.get("reason", ""))
        return ka.area_snapshot(area)

    return write(action)


def _transition_args(data):
    return dict(expected_version=data["version"], to_status=data["to_status"], event_date=data["event_date"],
                reason=data["reason"], document_number=data["document_number"])


@bp.route("/api/key-areas/<int:area_id>/transitions", methods=["POST"])
@allow(*PROVINCE)
@with_body(TransitionBody)
def transition_area(area_id, data):
    def action(session):
        event = ka.transition_key_area(session, current_user, area_id, **_transition_args(data))
        session.flush()
        return {"event": ka.event_snapshot(event), "area": ka.area_snapshot(ka.get_key_area(session, current_user, area_id))}

    return write(action, 201)


@bp.route("/api/key-areas/<int:area_id>/reselect", methods=["POST"])
@allow(*EDITORS)
@with_body(ReselectionBody)
def reselect_area(area_id, data):
    """Select a relapsed area again in a later year: a new cycle linked to this one (201)."""
    def action(session):
        cycle = ka.reselect_key_area(session, current_user, area_id, year_selected=data.get("year_selected"),
                                     decision_number=data.get("decision_number", ""),
                                     decision_date=data.get("decision_date"), reason=data.get("reason", ""))
        return ka.area_snapshot(cycle)

    return write(action, 201)


@bp.route("/api/key-areas/<int:area_id>/proposals", methods=["POST"])
@allow(*EDITORS)
@with_body(TransitionBody)
def propose(area_id, data):
    return write(lambda s: ka.proposal_snapshot(ka.propose_transition(s, current_user, area_id,
                                                                      **_transition_args(data))), 201)


@bp.route("/api/key-area-proposals")
@allow(*access.EVERYONE)
@with_query(ProposalListQuery)
def list_proposals(query):
    rows = ka.proposals(db_session(), current_user, state=query.get("state"))
    return jsonify({"proposals": [ka.proposal_snapshot(p) for p in rows]})


@bp.route("/api/key-area-proposals/<int:proposal_id>/decision", methods=["POST"])
@allow(*PROVINCE)
@with_body(DecisionBody)
def decide(proposal_id, data):
    def action(session):
        proposal = ka.decide_proposal(session, current_user, proposal_id, expected_version=data["version"],
                                      approve=data["decision"] == "approve", note=data["note"])
        return ka.proposal_snapshot(proposal)

    return write(action)


@bp.route("/api/key-areas/targets")
@allow(*access.EVERYONE)
@with_query(YearQuery)
def targets(query):
    year = query.get("year") or date.today().year
    table = ka.conversion_table(ka.key_area_records(db_session(), current_user, year=year), year)
    return jsonify({"year": year, "province": table.pop("province").as_dict(),
                    "districts": {code: row.as_dict() for code, row in table.items()}})


# --- drug status --------------------------------------------------------------------------------------------
@bp.route("/api/drug-status")
@allow(*access.EVERYONE)
@with_query(DrugStatusListQuery)
def drug_statuses(query):
    rows = ds.drug_status_rows(db_session(), current_user, year=query.get("year"), district_code=query.get("district"))
    return jsonify({"records": [ds.status_snapshot(r) for r in rows]})


@bp.route("/api/drug-status", methods=["POST"])
@allow(*EDITORS)
@with_body(DrugStatusBody)
def record_drug_status(data):
    """Province roles write the record (200); district and commune committees get a proposal a planner
    approves (202). Implausible figures are answered 422 with ``warnings`` unless ``confirm_warnings``."""
    def action(session):
        entry = dict(commune_code=data["commune_code"], year=data["year"], indicators=data["indicators"],
                     assessed_on=data.get("assessed_on"), notes=data.get("notes", ""),
                     expected_version=data.get("version"), reason=data.get("reason", ""),
                     confirm_warnings=data["confirm_warnings"])
        if current_user.role in PROVINCE:
            return ds.status_snapshot(ds.record_drug_status(session, current_user, **entry))
        proposal = ds.propose_drug_status(session, current_user, **entry)
        return ds.worded_proposal(ds.proposal_snapshot(proposal), current_language())

    try:
        with current_app.extensions["db"].transaction() as session:
            result = action(session)
    except ds.PlausibilityWarning as e:
        lang = current_language()
        return jsonify({**error_body(e, 422, lang), "warnings": [w.text(lang) for w in e.warnings]}), 422
    except (ka.TrackerError, GeoInputError) as e:
        return refusal(e)
    return jsonify(result), 200 if current_user.role in PROVINCE else 202


@bp.route("/api/drug-status/proposals")
@allow(*access.EVERYONE)
@with_query(ProposalListQuery)
def drug_status_proposals(query):
    state = query.get("state")
    rows = ds.drug_status_proposals(db_session(), current_user, state=state)
    return jsonify({"proposals": [ds.worded_proposal(ds.proposal_snapshot(p), current_language()) for p in rows]})


@bp.route("/api/drug-status/proposals/<int:proposal_id>/decision", methods=["POST"])
@allow(*PROVINCE)
@with_body(DecisionBody)
def decide_drug_status_proposal(proposal_id: int, data):
    def action(session):
        proposal = ds.decide_drug_status_proposal(session, current_user, proposal_id,
                                                  expected_version=data["version"],
                                                  approve=data["decision"] == "approve", note=data["note"])
        return ds.worded_proposal(ds.proposal_snapshot(proposal), current_language())

    return write(action)


@bp.route("/api/drug-status/comparison")
@allow(*access.EVERYONE)
@with_query(YearQuery)
def drug_comparison(query):
    session = db_session()
    year = query.get("year") or date.today().year
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
@with_body(RuleSetInputBody)
def add_drug_rule_set(data):
    def action(session):
        row = ds.add_rule_set_version(session, current_user, data["definition"], reason=data.get("reason", ""))
        return {"id": row.id, "code": row.code, "effective_from": row.effective_from.isoformat()}

    return write(action, 201)
