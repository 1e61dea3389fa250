"""OpenAPI 3.0 description of the JSON API, served at ``/api/openapi.json``.

It describes the commune boundaries (``/api/communes``), the tracker API of ``web/api_tracker.py``
(documented for people in docs/API.md) and the read-only OGC API – Features endpoints, with their
parameters, request bodies and the shape of every answer, so clients can be generated and the API can be
fuzzed against it (tests/test_fuzz_api.py runs schemathesis on this document).

The document is built in code from the same vocabularies the API checks (statuses, kinds, proposal states,
drug indicators), so it cannot drift from them.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from web import access
from web.access import allow

bp = Blueprint("openapi", __name__)

JSON = "application/json"
GEOJSON = "application/geo+json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: dict, media: str = JSON) -> dict:
    return {"content": {media: {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    meanings = {400: "Malformed input", 401: "Not signed in / unknown token", 403: "Role or district not allowed",
                404: "No such record, or not visible to you", 409: "Stale version or conflicting state",
                422: "Transition not allowed by the lifecycle"}
    return {str(s): {"description": meanings[s], **_content(_ref("Error"))} for s in statuses}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _schemas() -> dict:
    from geo.drug_rules import INDICATOR_NAMES
    from store import key_areas as ka

    text, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    day = {"type": "string", "format": "date"}
    stamp = {"type": "string"}  # ISO 8601 without zone (local time)
    status = {"type": "string", "enum": list(ka.STATUSES)}
    drug_status = {"type": "string", "enum": ["drug_free", "with_drugs", "key_3", "key_2", "key_1"]}
    shares = {"type": "object", "required": ["selected", "achieved_status", "not_relapsed_status"], "properties": {
        "selected": integer, "ever_achieved": integer, "relapsed": integer, "not_achieved": integer,
        "pending": integer, "achieved_share": _nullable(number), "not_relapsed_share": _nullable(number),
        "achieved_status": {"type": "string", "enum": ["on_track", "at_risk", "missed", "no_data"]},
        "not_relapsed_status": {"type": "string", "enum": ["on_track", "at_risk", "missed", "no_data"]},
        "achieved_target": number, "not_relapsed_target": number}}
    comparison = {"type": "object", "properties": {name: integer for name in (
        "year_drug_free", "previous_drug_free", "kept_drug_free", "became_drug_free", "lost_drug_free",
        "year_with_drugs", "previous_with_drugs", "with_drugs_change", "year_key", "previous_key", "compared")}}
    indicators = {"type": "object", "description": "Indicators of the commune (numbers; on_drug_route true/false)",
                  "properties": {name: ({"type": "boolean"} if name == "on_drug_route" else {"type": "number"})
                                 for name in INDICATOR_NAMES}}
    transition = {"type": "object", "required": ["version", "to_status", "event_date", "reason", "document_number"],
                  "properties": {"version": integer, "to_status": status, "event_date": day, "reason": text,
                                 "document_number": text}}
    return {
        "Error": {"type": "object", "required": ["error", "status"],
                  "properties": {"error": text, "status": integer}},
        "Geometry": {"type": "object", "required": ["type"], "properties": {"type": text}},
        "CommuneCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                                                    "properties": {"type": text, "geometry": _ref("Geometry"),
                                                                   "properties": {"type": "object", "properties": {
                                                                       "commune_code": text, "commune_name": text,
                                                                       "district_code": text, "district_name": text,
                                                                       "commune_type": text}}}}}}},
        "KeyArea": {"type": "object", "required": ["id", "name", "status", "version"], "properties": {
            "id": integer, "name": text, "kind": text, "district_code": text, "commune_code": _nullable(text),
            "year_selected": integer, "complexity_types": {"type": "array", "items": text},
            "decision_number": _nullable(text), "decision_date": _nullable(day), "geometry_source": _nullable(text),
            "status": status, "status_date": _nullable(day), "notes": _nullable(text), "is_demo": {"type": "boolean"},
            "version": integer, "updated_by": _nullable(text), "updated_at": _nullable(stamp)}},
        "KeyAreaFeature": {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
            "type": {"type": "string", "enum": ["Feature"]}, "id": integer, "geometry": _ref("Geometry"),
            "properties": {"allOf": [_ref("KeyArea"), {"type": "object", "properties": {
                "status_label": text, "kind_label": text, "types_label": text, "district_name": text,
                "commune_name": text, "pending_to": _nullable(status), "pending_label": text,
                "pending_by": text}}]}}},
        "KeyAreaCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("KeyAreaFeature")}}},
        "KeyAreaEvent": {"type": "object", "required": ["id", "to_status", "event_date"], "properties": {
            "id": integer, "from_status": _nullable(text), "to_status": status, "event_date": day, "reason": text,
            "document_number": _nullable(text), "username": text, "approved_by": _nullable(text),
            "proposal_id": _nullable(integer), "recorded_at": stamp}},
        "Proposal": {"type": "object", "required": ["id", "key_area_id", "to_status", "state", "version"],
                     "properties": {
                         "id": integer, "key_area_id": integer, "from_status": status, "to_status": status,
                         "event_date": day, "reason": text, "document_number": _nullable(text),
                         "proposed_by": text, "proposed_at": stamp,
                         "state": {"type": "string", "enum": list(ka.PROPOSAL_STATES)},
                         "decided_by": _nullable(text), "decided_at": _nullable(stamp),
                         "decision_note": _nullable(text), "version": integer}},
        "KeyAreaRecord": {"type": "object", "required": ["area", "events", "proposals"], "properties": {
            "area": _ref("KeyAreaFeature"), "events": {"type": "array", "items": _ref("KeyAreaEvent")},
            "proposals": {"type": "array", "items": _ref("Proposal")}}},
        "NewKeyArea": {"type": "object", "required": ["name", "kind", "year_selected"], "properties": {
            "name": text, "kind": {"type": "string", "enum": list(ka.KINDS)}, "district_code": text,
            "commune_code": text, "year_selected": integer,
            "complexity_types": {"type": "array", "items": {"type": "string", "enum": list(ka.COMPLEXITY_TYPES)}},
            "decision_number": text, "decision_date": day, "notes": text,
            "geometry": {"type": "object", "description": "GeoJSON Polygon/MultiPolygon in EPSG:4326",
                         "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                                        "coordinates": {"type": "array"}}}}},
        "KeyAreaChanges": {"type": "object", "required": ["version"], "properties": {
            "version": integer, "reason": text, "name": text, "kind": {"type": "string", "enum": list(ka.KINDS)},
            "complexity_types": {"type": "array", "items": {"type": "string", "enum": list(ka.COMPLEXITY_TYPES)}},
            "decision_number": text, "decision_date": day, "notes": text}},
        "Transition": transition,
        "TransitionResult": {"type": "object", "required": ["event", "area"],
                             "properties": {"event": _ref("KeyAreaEvent"), "area": _ref("KeyArea")}},
        "Decision": {"type": "object", "required": ["version", "decision"], "properties": {
            "version": integer, "decision": {"type": "string", "enum": ["approve", "reject"]}, "note": text}},
        "Shares": shares,
        "Targets": {"type": "object", "required": ["year", "province", "districts"], "properties": {
            "year": integer, "province": _ref("Shares"),
            "districts": {"type": "object", "additionalProperties": _ref("Shares")}}},
        "DrugStatus": {"type": "object", "required": ["id", "commune_code", "year", "status", "version"],
                       "properties": {
                           "id": integer, "commune_code": text, "district_code": text, "year": integer,
                           "assessed_on": day, "status": drug_status, "rule_set_code": text,
                           "rule_document_number": text, "criteria_met": {"type": "array", "items": text},
                           "notes": _nullable(text), "is_demo": {"type": "boolean"}, "version": integer,
                           "updated_by": _nullable(text), "updated_at": _nullable(stamp),
                           **{name: _nullable({"type": "boolean"} if name == "on_drug_route" else number)
                              for name in INDICATOR_NAMES}}},
        "DrugStatusInput": {"type": "object", "required": ["commune_code", "year"], "properties": {
            "commune_code": text, "year": integer, "assessed_on": day, "version": integer, "reason": text,
            "notes": text, "indicators": indicators}},
        "Comparison": {"type": "object", "required": ["year", "previous_year", "total", "districts"], "properties": {
            "year": integer, "previous_year": integer, "total": comparison,
            "districts": {"type": "object", "additionalProperties": comparison}}},
        "RuleSet": {"type": "object", "required": ["code", "effective_from", "levels"], "properties": {
            "code": text, "document_number": text, "title_vi": text, "effective_from": day, "notes_vi": text,
            "levels": {"type": "array", "items": {"type": "object", "properties": {
                "status": text, "min_met": integer, "unconfirmed": {"type": "boolean"},
                "criteria": {"type": "array", "items": {"type": "object", "properties": {
                    "code": text, "label_vi": text, "minimums": {"type": "object"},
                    "per_resident": {"type": "boolean"}}}}}}}}},
        "RuleSetInput": {"type": "object", "required": ["definition", "reason"], "properties": {
            "definition": _ref("RuleSet"), "reason": text}},
        "OgcException": {"type": "object", "required": ["code", "description"],
                         "properties": {"code": text, "description": text}},
        "OgcFeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                                                    "properties": {"geometry": _nullable({"type": "object"})}}},
            "numberMatched": integer, "numberReturned": integer, "links": {"type": "array"}}},
    }


def _operations() -> dict:
    from store import key_areas as ka
    from web.exports import LAYERS

    year = _query("year", {"type": "integer", "minimum": 1900, "maximum": 2100}, "Calendar year")
    district = _query("district", {"type": "string"}, "District code (3 digits); a district account sees its own")
    database_id = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # larger ids are answered 404
    area_id = _path("area_id", database_id, "Key area id")
    collection = _path("collection_id", {"type": "string", "enum": list(LAYERS)}, "Collection (layer) id")
    ok = lambda schema, media=JSON, text="OK": {"description": text, **_content(schema, media)}  # noqa: E731
    body = lambda name: {"required": True, **_content(_ref(name))}  # noqa: E731
    readers, write_errors = _errors(400, 401), _errors(400, 401, 403, 404, 409, 422)
    ogc_errors = {"400": {"description": "Bad parameter", **_content(_ref("OgcException"))},
                  "401": {"description": "Not signed in", **_content(_ref("Error"))}}
    return {
        "/api/openapi.json": {"get": {"summary": "This document", "operationId": "getOpenApi", "tags": ["meta"],
                                      "responses": {"200": ok({"type": "object", "required": ["openapi", "paths"]}),
                                                    **_errors(401)}}},
        "/api/communes": {"get": {"summary": "Communes of the active boundary set (EPSG:4326)",
                                  "operationId": "listCommunes", "tags": ["boundaries"],
                                  "responses": {"200": ok(_ref("CommuneCollection")), **_errors(401)}}},
        "/api/key-areas": {
            "get": {"summary": "Visible key areas", "operationId": "listKeyAreas", "tags": ["key areas"],
                    "parameters": [year, district, _query("status", {"type": "string", "enum": list(ka.STATUSES)},
                                                          "Current status")],
                    "responses": {"200": ok(_ref("KeyAreaCollection")), **readers}},
            "post": {"summary": "Create a key area (status selected)", "operationId": "createKeyArea",
                     "tags": ["key areas"], "requestBody": body("NewKeyArea"),
                     "responses": {"201": ok(_ref("KeyArea"), text="Created"), **write_errors}}},
        "/api/key-areas/{area_id}": {
            "get": {"summary": "A key area with its timeline and proposals", "operationId": "getKeyArea",
                    "tags": ["key areas"], "parameters": [area_id],
                    "responses": {"200": ok(_ref("KeyAreaRecord")), **_errors(401, 404)}},
            "patch": {"summary": "Edit a key area's details", "operationId": "updateKeyArea", "tags": ["key areas"],
                      "parameters": [area_id], "requestBody": body("KeyAreaChanges"),
                      "responses": {"200": ok(_ref("KeyArea")), **write_errors}}},
        "/api/key-areas/{area_id}/transitions": {"post": {
            "summary": "Record a status change (province)", "operationId": "transitionKeyArea", "tags": ["key areas"],
            "parameters": [area_id], "requestBody": body("Transition"),
            "responses": {"201": ok(_ref("TransitionResult"), text="Created"), **write_errors}}},
        "/api/key-areas/{area_id}/proposals": {"post": {
            "summary": "Propose a status change (maker)", "operationId": "proposeTransition", "tags": ["key areas"],
            "parameters": [area_id], "requestBody": body("Transition"),
            "responses": {"201": ok(_ref("Proposal"), text="Created"), **write_errors}}},
        "/api/key-area-proposals": {"get": {
            "summary": "Proposals", "operationId": "listProposals", "tags": ["key areas"],
            "parameters": [_query("state", {"type": "string", "enum": list(ka.PROPOSAL_STATES)}, "Proposal state")],
            "responses": {"200": ok({"type": "object", "required": ["proposals"], "properties": {
                "proposals": {"type": "array", "items": _ref("Proposal")}}}), **readers}}},
        "/api/key-area-proposals/{proposal_id}/decision": {"post": {
            "summary": "Approve or reject a proposal (checker)", "operationId": "decideProposal",
            "tags": ["key areas"], "requestBody": body("Decision"),
            "parameters": [_path("proposal_id", database_id, "Proposal id")],
            "responses": {"200": ok(_ref("Proposal")), **write_errors}}},
        "/api/key-areas/targets": {"get": {
            "summary": "Shares against the conversion targets", "operationId": "keyAreaTargets",
            "tags": ["key areas"], "parameters": [year],
            "responses": {"200": ok(_ref("Targets")), **readers}}},
        "/api/drug-status": {
            "get": {"summary": "Commune drug-status records", "operationId": "listDrugStatus", "tags": ["drug status"],
                    "parameters": [year, district],
                    "responses": {"200": ok({"type": "object", "required": ["records"], "properties": {
                        "records": {"type": "array", "items": _ref("DrugStatus")}}}), **readers}},
            "post": {"summary": "Create or update a commune's record for a year", "operationId": "recordDrugStatus",
                     "tags": ["drug status"], "requestBody": body("DrugStatusInput"),
                     "responses": {"200": ok(_ref("DrugStatus")), **write_errors}}},
        "/api/drug-status/comparison": {"get": {
            "summary": "This year against the previous one", "operationId": "drugStatusComparison",
            "tags": ["drug status"], "parameters": [year],
            "responses": {"200": ok(_ref("Comparison")), **readers}}},
        "/api/drug-status/rule-sets": {
            "get": {"summary": "Rule set versions", "operationId": "listRuleSets", "tags": ["drug status"],
                    "responses": {"200": ok({"type": "object", "required": ["rule_sets"], "properties": {
                        "rule_sets": {"type": "array", "items": _ref("RuleSet")}}}), **readers}},
            "post": {"summary": "Add a rule set version (province)", "operationId": "addRuleSet",
                     "tags": ["drug status"], "requestBody": body("RuleSetInput"),
                     "responses": {"201": ok({"type": "object", "required": ["id", "code", "effective_from"]},
                                             text="Created"), **write_errors}}},
        "/ogc": {"get": {"summary": "OGC API landing page", "operationId": "ogcLanding", "tags": ["ogc"],
                         "responses": {"200": ok({"type": "object", "required": ["links"]}), **ogc_errors}}},
        "/ogc/conformance": {"get": {"summary": "Conformance classes", "operationId": "ogcConformance",
                                     "tags": ["ogc"], "responses": {"200": ok({"type": "object",
                                                                               "required": ["conformsTo"]}),
                                                                    **ogc_errors}}},
        "/ogc/collections": {"get": {"summary": "Collections", "operationId": "ogcCollections", "tags": ["ogc"],
                                     "responses": {"200": ok({"type": "object", "required": ["collections"]}),
                                                   **ogc_errors}}},
        "/ogc/collections/{collection_id}": {"get": {
            "summary": "A collection", "operationId": "ogcCollection", "tags": ["ogc"], "parameters": [collection],
            "responses": {"200": ok({"type": "object", "required": ["id", "extent"]}), **ogc_errors}}},
        "/ogc/collections/{collection_id}/items": {"get": {
            "summary": "Features of a collection", "operationId": "ogcItems", "tags": ["ogc"],
            "parameters": [collection,
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": 10_000}, "Items per page"),
                           _query("offset", {"type": "integer", "minimum": 0}, "Items to skip"),
                           _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat (CRS84)"),
                           _query("datetime", {"type": "string"}, "RFC 3339 instant or interval"),
                           year, _query("category", {"type": "string"}, "Category code or set"), district],
            "responses": {"200": ok(_ref("OgcFeatureCollection"), GEOJSON), **ogc_errors}}},
        "/ogc/collections/{collection_id}/items/{feature_id}": {"get": {
            "summary": "One feature", "operationId": "ogcItem", "tags": ["ogc"],
            "parameters": [collection, _path("feature_id", {"type": "string"}, "Feature id")],
            "responses": {"200": ok({"type": "object", "required": ["type", "properties"]}, GEOJSON),
                          "404": {"description": "No such feature", **_content(_ref("OgcException"))},
                          **ogc_errors}}},
    }


def openapi_document(server_url: str = "/") -> dict:
    """The OpenAPI 3.0.3 description of the JSON API (a plain dict, no request needed)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bản đồ 138 — JSON API", "version": "1.0.0",
                 "description": "Tracker API (key areas, proposals, targets, commune drug status), commune "
                                "boundaries and OGC API – Features. See docs/API.md. Authenticate with "
                                "`Authorization: Bearer <token>` (`flask create-token`) or the session cookie "
                                "(then send `X-CSRFToken` on writes)."},
        "servers": [{"url": server_url}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
                       "schemas": _schemas()},
        "security": [{"bearer": []}, {"session": []}],
        "paths": _operations(),
    }


@bp.route("/api/openapi.json")
@allow(*access.EVERYONE)
def document():
    return jsonify(openapi_document())
