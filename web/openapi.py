"""OpenAPI 3.0 description of the JSON API, served at ``/api/openapi.json``.

It describes the commune boundaries (``/api/communes``), the tracker API of ``web/api_tracker.py``, the hot spot
evaluations of ``web/api_evaluation.py`` (both documented for people in docs/API.md) and the read-only OGC API –
Features endpoints, with their
parameters, request bodies and the shape of every answer, so clients can be generated and the API can be
fuzzed against it (tests/test_fuzz_api.py runs schemathesis on this document).

The document is built in code from the same vocabularies the API checks (statuses, kinds, proposal states,
drug indicators), so it cannot drift from them, and assembled by apispec: request parameters that are
marshmallow schemas (``web/api_schemas.py``, e.g. the OGC items query) become parameters through its
MarshmallowPlugin, from the very schemas the routes validate requests with. The OGC API's own document
(``/ogc/api``, :func:`ogc_document`) is the ``/ogc`` part of this one with ``/ogc`` as its server, so the two
cannot disagree on a parameter's name, type or serialisation.
"""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify

from web import access
from web.access import allow
from web.api_schemas import (Bbox, ChangeQuery, CommunesQuery, Coordinates, CorridorStatsQuery, DecisionBody,
                             DisplacementQuery, DrugStatusBody, DrugStatusListQuery, ForecastQuery,
                             HotspotAccuracyQuery, Interval, KeyAreaChangesBody, KeyAreaListQuery, NearRepeatsQuery,
                             NewKeyAreaBody, OgcFormat, OgcItemsQuery, ProposalListQuery, ReselectionBody,
                             RuleSetInputBody, TargetsQuery, TransitionBody, YearQuery)

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
    nullable_number = _nullable(number)
    interval = _nullable({"type": "array", "items": nullable_number, "minItems": 2, "maxItems": 2,
                          "description": "[low, high] of the 95% interval; null bounds are unbounded"})
    figure_status = {"type": "string", "enum": ["met", "not_met", "uncertain", "no_data"]}
    period = {"type": "object", "required": ["code", "kind", "start", "end", "data_through"], "properties": {
        "code": text, "kind": {"type": "string", "enum": ["reporting_year", "half", "nine_months", "quarter",
                                                          "calendar_year", "month", "custom"]},
        "start": day, "end": day, "nominal_end": day, "data_through": _nullable(day), "label_vi": text,
        "label_en": text}}
    unit_change = {"type": "object", "required": ["code", "count", "baseline_count", "change", "interval", "status"],
                   "properties": {"code": text, "name": text, "count": integer, "baseline_count": integer,
                                  "change": nullable_number, "interval": interval, "status": {
                                      "type": "string", "enum": ["met", "not_met", "uncertain", "no_data",
                                                                 "no_baseline"],
                                      "description": "no_baseline: no record of the baseline span can fall in "
                                                     "this commune (not compared, left out of the totals)"}}}
    total_change = {"type": "object", "required": ["count", "baseline_count", "change", "interval", "status"],
                    "properties": {k: v for k, v in unit_change["properties"].items() if k not in ("code", "name")}}
    return {
        "Period": period,
        "TargetFigures": {"type": "object", "required": ["period", "scope", "metrics"], "properties": {
            "period": _ref("Period"), "scope": {"type": "object", "properties": {
                "district": _nullable(text), "commune": _nullable(text), "set": text}},
            "targets_year": integer, "borrowed": {"type": "boolean"}, "baseline_year": integer,
            "data_version": integer,
            "metrics": {"type": "array", "items": {"type": "object", "required": [
                "id", "value", "numerator", "denominator", "interval", "status"], "properties": {
                "id": text, "label_vi": text, "label_en": text, "kind": {"type": "string", "enum": ["proportion",
                                                                                                   "change"]},
                "value": nullable_number, "numerator": _nullable(integer), "denominator": _nullable(integer),
                "interval": interval, "status": figure_status, "meets_target": _nullable({"type": "boolean"}),
                "note": text}}}}},
        "ChangeFigures": {"type": "object", "required": ["period", "span", "baseline_span", "districts", "communes"],
                          "properties": {"period": _ref("Period"), "span": _ref("Period"),
                                         "baseline_span": _ref("Period"), "baseline_year": integer,
                                         "category": _nullable(text), "district": _nullable(text), "set": text,
                                         "province": total_change, "total": total_change,
                                         "districts": {"type": "array", "items": unit_change},
                                         "communes": {"type": "array", "items": unit_change},
                                         "without_baseline": {"type": "object", "properties": {
                                             "communes": {"type": "array", "items": {
                                                 "type": "object", "properties": {"code": text, "name": text}}},
                                             "baseline_sets": {"type": "array", "items": text},
                                             "note_vi": text, "note_en": text}}}},
        "CorridorFigures": {"type": "object", "required": ["period", "span", "baseline_span", "rows"], "properties": {
            "period": _ref("Period"), "span": _ref("Period"), "baseline_span": _ref("Period"),
            "baseline_year": integer, "withheld": integer, "data_version": integer,
            "rows": {"type": "array", "items": {"type": "object", "required": ["dimension", "key", "count",
                                                                               "previous_count"], "properties": {
                "dimension": text, "key": text, "label": text, "count": integer, "previous_count": integer,
                "change": _nullable(integer), "change_pct": nullable_number, "p_value": nullable_number}}}}},
        "Error": {"type": "object", "required": ["error", "status"], "properties": {
            "error": text, "status": integer,
            "fields": {"type": "object", "additionalProperties": text,
                       "description": "A refused body's or parameter's messages per member "
                                      "(definition.levels.0.status); bodies' in the request's language"}}},
        "Geometry": {"type": "object", "required": ["type"], "properties": {"type": text}},
        "CommuneCollection": {"type": "object", "required": ["type", "features", "boundary_set"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "boundary_set": text,
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                                                    "properties": {"type": text, "geometry": _ref("Geometry"),
                                                                   "properties": {"type": "object", "properties": {
                                                                       "commune_code": text, "commune_name": text,
                                                                       "district_code": text, "district_name": text,
                                                                       "former_district_code": text,
                                                                       "former_district_name": text,
                                                                       "commune_type": text, "boundary_set": text},
                                                                       "required": ["commune_code", "commune_name",
                                                                                    "boundary_set"]}}}}}},
        "BoundarySets": {"type": "object", "required": ["boundary_sets"], "properties": {
            "boundary_sets": {"type": "array", "items": {
                "type": "object", "required": ["id", "effective_from", "effective_to", "province_code", "levels"],
                "properties": {"id": text, "label": text, "effective_from": day, "effective_to": _nullable(day),
                               "province_code": text, "province_name": text,
                               "levels": {"type": "array", "items": text}, "communes": integer}}}}},
        "KeyArea": {"type": "object", "required": ["id", "name", "status", "version"], "properties": {
            "id": integer, "name": text, "kind": text, "district_code": text, "commune_code": _nullable(text),
            "year_selected": integer, "complexity_types": {"type": "array", "items": text},
            "decision_number": _nullable(text), "decision_date": _nullable(day), "geometry_source": _nullable(text),
            "status": status, "status_date": _nullable(day), "notes": _nullable(text), "is_demo": {"type": "boolean"},
            "previous_cycle_id": _nullable(integer), "version": integer, "updated_by": _nullable(text),
            "updated_at": _nullable(stamp)}},
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
        "TransitionResult": {"type": "object", "required": ["event", "area"],
                             "properties": {"event": _ref("KeyAreaEvent"), "area": _ref("KeyArea")}},
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
        "DrugStatusProposal": {"type": "object", "required": ["id", "commune_code", "year", "state", "version"],
                               "properties": {"id": integer, "commune_code": text, "district_code": text,
                                              "year": integer, "assessed_on": _nullable(day),
                                              "indicators": {"type": "object"}, "notes": text, "reason": text,
                                              "warnings": {"type": "array", "items": text},
                                              "record_version": _nullable(integer), "proposed_by": text,
                                              "proposed_at": stamp, "state": {"type": "string", "enum": list(
                                                  ka.PROPOSAL_STATES)}, "decided_by": text,
                                              "decided_at": _nullable(stamp), "decision_note": text,
                                              "version": integer}},
        "PlausibilityError": {"type": "object", "required": ["error", "status", "warnings"], "properties": {
            "error": text, "status": integer, "warnings": {"type": "array", "items": text}}},
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
        **_evaluation_schemas(),
        "OgcException": {"type": "object", "required": ["code", "description"],
                         "properties": {"code": text, "description": text}},
        "OgcFeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                                                    "properties": {"geometry": _nullable({"type": "object"})}}},
            "numberMatched": integer, "numberReturned": integer, "links": {"type": "array"}}},
    }


def _evaluation_schemas() -> dict:
    from geo.displacement import READINGS
    from store.evaluation import ACCURACY_METHODS

    text, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    day = {"type": "string", "format": "date"}
    ratio = lambda meaning: {**_nullable(number), "description": meaning}  # noqa: E731
    period = {"type": "object", "required": ["code", "start", "end"], "properties": {
        "code": text, "start": day, "end": day, "label_vi": text, "label_en": text}}
    span = {"type": "object", "required": ["start", "end"], "properties": {"start": day, "end": day}}
    categories = _nullable({"type": "array", "items": text})
    score = {"type": "object", "properties": {
        "pai": _nullable(number), "hit_rate": _nullable(number), "area_share": _nullable(number),
        "pei": _nullable(number), "n": integer, "N": integer, "complete": {"type": "boolean"}, "test": span,
        "as_of": day}}
    return {
        "HotspotAccuracy": {"type": "object", "required": ["method", "train", "test", "hit_rate", "area_share", "pai",
                                                           "pei", "rri", "n", "N"], "properties": {
            "method": {"type": "string", "enum": list(ACCURACY_METHODS)}, "train": period, "test": period,
            "cell_size_m": number, "categories": categories, "district": _nullable(text),
            "method_params": {"type": "object"},
            "hit_rate": ratio("n/N: share of the test incidents in the flagged cells"),
            "area_share": ratio("a/A: share of the area flagged"),
            "pai": ratio("Predictive Accuracy Index (n/N)/(a/A), Chainey et al. 2008"),
            "pei": ratio("Predictive Efficiency Index n/n*, Hunt 2016"),
            "rri": ratio("Recapture Rate Index (n2/n1)/(N2/N1), Levine 2008"),
            "n": integer, "N": integer, "a_km2": number, "A_km2": number, "n_star": number,
            "n_star_exact": {"type": "boolean"}, "n1": _nullable(integer), "N1": _nullable(integer),
            "n_cells": integer, "n_flagged": integer,
            "n_withheld": {**integer, "description": "Confidential cases this viewer may not locate, left out"}}},
        "Displacement": {"type": "object", "required": ["wdq", "reading", "R0", "R1", "B0", "B1", "C0", "C1"],
                         "properties": {
            "key_area_id": integer, "key_area": text,
            "wdq": ratio("Weighted Displacement Quotient (Bowers & Johnson 2003); null when undefined"),
            "reading": {"type": "string", "enum": list(READINGS)}, "reading_vi": text, "reading_en": text,
            **{name: integer for name in ("R0", "R1", "B0", "B1", "C0", "C1")},
            "success_measure": _nullable(number), "buffer_measure": _nullable(number),
            "total_net_effect": _nullable(number), "displacement_exceeds_gain": {"type": "boolean"},
            "decision_date": day, "span_days": integer, "before": span, "after": span, "buffer_m": number,
            "control": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["district", "former_district", "province", "communes"]}, "boundary_set": _nullable(text),
                                                         "communes": {"type": "array", "items": text}}},
            "categories": categories, "n_withheld": integer, "method": text}},
        "NearRepeats": {"type": "object", "required": ["period", "rows", "n_events"], "properties": {
            "period": period, "categories": categories, "district": _nullable(text), "n_withheld": integer,
            "n_events": integer, "n_pairs": integer, "permutations": integer, "seed": integer,
            "space_bands": {"type": "array", "items": integer}, "time_bands": {"type": "array", "items": integer},
            "extent": _nullable({"type": "object", "properties": {"metres": integer, "days": integer}}),
            "method": text, "note": text,
            "rows": {"type": "array", "items": {"type": "object", "required": [
                "space_from", "space_to", "time_from", "time_to", "observed", "expected", "ratio", "p_value"],
                "properties": {"space_from": integer, "space_to": _nullable(integer), "time_from": integer,
                               "time_to": _nullable(integer), "observed": integer, "expected": number,
                               "ratio": _nullable(number), "p_value": number}}}}},
        "Forecast": {"type": "object", "required": ["type", "features", "properties"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                                                    "properties": {"geometry": _ref("Geometry"), "properties": {
                                                        "type": "object", "properties": {
                                                            "cell_id": integer, "risk": number, "rank": integer}}}}},
            "properties": {"type": "object", "required": ["as_of", "horizon", "score", "backtest"], "properties": {
                "as_of": day, "horizon": span, "cell_size_m": number, "share": number, "categories": categories,
                "district": _nullable(text), "space_bandwidth_m": number, "time_bandwidth_days": number,
                "bandwidth_source": {"type": "string", "enum": ["chosen", "near_repeat", "bowers_johnson_pease_2004"]},
                "n_events": integer, "n_withheld": integer, "n_cells": integer, "n_flagged": integer,
                "score": _nullable(score), "backtest": score, "method": text}}}},
    }


def _operations() -> dict:
    database_id = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # larger ids are answered 404
    area_id = _path("area_id", database_id, "Key area id")
    ok = lambda schema, media=JSON, text="OK": {"description": text, **_content(schema, media)}  # noqa: E731
    body = lambda name: {"required": True, **_content(_ref(name))}  # noqa: E731
    readers, write_errors = _errors(400, 401), _errors(400, 401, 403, 404, 409, 422)
    return {
        "/api/openapi.json": {"get": {"summary": "This document", "operationId": "getOpenApi", "tags": ["meta"],
                                      "responses": {"200": ok({"type": "object", "required": ["openapi", "paths"]}),
                                                    **_errors(401)}}},
        "/api/communes": {"get": {"summary": "Communes of one boundary set (EPSG:4326); default: in force today",
                                  "operationId": "listCommunes", "tags": ["boundaries"],
                                  "parameters": [{"in": "query", "schema": CommunesQuery}],
                                  "responses": {"200": ok(_ref("CommuneCollection")), **_errors(400, 401)}}},
        "/api/boundary-sets": {"get": {"summary": "Loaded boundary sets with their validity and levels",
                                       "operationId": "listBoundarySets", "tags": ["boundaries"],
                                       "responses": {"200": ok(_ref("BoundarySets")), **_errors(401)}}},
        "/api/key-areas": {
            "get": {"summary": "Visible key areas", "operationId": "listKeyAreas", "tags": ["key areas"],
                    "parameters": [{"in": "query", "schema": KeyAreaListQuery}],
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
        "/api/key-areas/{area_id}/reselect": {"post": {
            "summary": "Select a relapsed area again in a later year (a new cycle linked to it)",
            "operationId": "reselectKeyArea", "tags": ["key areas"], "parameters": [area_id],
            "requestBody": body("Reselection"),
            "responses": {"201": ok(_ref("KeyArea"), text="Created"), **write_errors}}},
        "/api/key-areas/{area_id}/proposals": {"post": {
            "summary": "Propose a status change (maker)", "operationId": "proposeTransition", "tags": ["key areas"],
            "parameters": [area_id], "requestBody": body("Transition"),
            "responses": {"201": ok(_ref("Proposal"), text="Created"), **write_errors}}},
        "/api/key-area-proposals": {"get": {
            "summary": "Proposals", "operationId": "listProposals", "tags": ["key areas"],
            "parameters": [{"in": "query", "schema": ProposalListQuery}],
            "responses": {"200": ok({"type": "object", "required": ["proposals"], "properties": {
                "proposals": {"type": "array", "items": _ref("Proposal")}}}), **readers}}},
        "/api/key-area-proposals/{proposal_id}/decision": {"post": {
            "summary": "Approve or reject a proposal (checker)", "operationId": "decideProposal",
            "tags": ["key areas"], "requestBody": body("Decision"),
            "parameters": [_path("proposal_id", database_id, "Proposal id")],
            "responses": {"200": ok(_ref("Proposal")), **write_errors}}},
        "/api/key-areas/targets": {"get": {
            "summary": "Shares against the conversion targets", "operationId": "keyAreaTargets",
            "tags": ["key areas"], "parameters": [{"in": "query", "schema": YearQuery}],
            "responses": {"200": ok(_ref("Targets")), **readers}}},
        "/api/drug-status": {
            "get": {"summary": "Commune drug-status records", "operationId": "listDrugStatus", "tags": ["drug status"],
                    "parameters": [{"in": "query", "schema": DrugStatusListQuery}],
                    "responses": {"200": ok({"type": "object", "required": ["records"], "properties": {
                        "records": {"type": "array", "items": _ref("DrugStatus")}}}), **readers}},
            "post": {"summary": "Record a commune's year (province) or propose it (district, commune committees)",
                     "operationId": "recordDrugStatus", "tags": ["drug status"], "requestBody": body("DrugStatusInput"),
                     "responses": {"200": ok(_ref("DrugStatus")),
                                   "202": ok(_ref("DrugStatusProposal"), text="Proposal awaiting a planner"),
                                   **write_errors,
                                   "422": {"description": "Implausible figures (confirm them) or invalid input",
                                           **_content({"oneOf": [_ref("PlausibilityError"), _ref("Error")]})}}}},
        "/api/drug-status/proposals": {"get": {
            "summary": "Drug-status proposals", "operationId": "listDrugStatusProposals", "tags": ["drug status"],
            "parameters": [{"in": "query", "schema": ProposalListQuery}],
            "responses": {"200": ok({"type": "object", "required": ["proposals"], "properties": {
                "proposals": {"type": "array", "items": _ref("DrugStatusProposal")}}}), **readers}}},
        "/api/drug-status/proposals/{proposal_id}/decision": {"post": {
            "summary": "Approve (the record is written) or reject a drug-status proposal (checker)",
            "operationId": "decideDrugStatusProposal", "tags": ["drug status"], "requestBody": body("Decision"),
            "parameters": [_path("proposal_id", database_id, "Proposal id")],
            "responses": {"200": ok(_ref("DrugStatusProposal")), **write_errors}}},
        "/api/drug-status/comparison": {"get": {
            "summary": "This year against the previous one", "operationId": "drugStatusComparison",
            "tags": ["drug status"], "parameters": [{"in": "query", "schema": YearQuery}],
            "responses": {"200": ok(_ref("Comparison")), **readers}}},
        "/api/drug-status/rule-sets": {
            "get": {"summary": "Rule set versions", "operationId": "listRuleSets", "tags": ["drug status"],
                    "responses": {"200": ok({"type": "object", "required": ["rule_sets"], "properties": {
                        "rule_sets": {"type": "array", "items": _ref("RuleSet")}}}), **readers}},
            "post": {"summary": "Add a rule set version (province)", "operationId": "addRuleSet",
                     "tags": ["drug status"], "requestBody": body("RuleSetInput"),
                     "responses": {"201": ok({"type": "object", "required": ["id", "code", "effective_from"]},
                                             text="Created"), **write_errors}}},
        **_evaluation_operations(area_id, ok, readers),
        "/api/targets": {"get": {
            "summary": "The plan's targets over a period (province, district or commune)",
            "operationId": "targetFigures", "tags": ["figures"],
            "parameters": [{"in": "query", "schema": TargetsQuery}],
            "responses": {"200": ok(_ref("TargetFigures")), **_errors(400, 401)}}},
        "/api/change": {"get": {
            "summary": "Counts against the same calendar span of a baseline year, per commune and district",
            "operationId": "changeFigures", "tags": ["figures"],
            "parameters": [{"in": "query", "schema": ChangeQuery}],
            "responses": {"200": ok(_ref("ChangeFigures")), **_errors(400, 401, 403)}}},
        "/api/corridor-stats": {"get": {
            "summary": "Border-corridor statistics of /corridor", "operationId": "corridorFigures",
            "tags": ["figures"],
            "parameters": [{"in": "query", "schema": CorridorStatsQuery}],
            "responses": {"200": ok(_ref("CorridorFigures")), **_errors(400, 401, 403)}}},
        **_ogc_operations(ok),
    }


def _ogc_operations(ok) -> dict:
    from web.exports import LAYERS

    collection = _path("collectionId", {"type": "string", "enum": list(LAYERS)}, "Collection (layer) id")
    exception = lambda text: {"description": text, **_content(_ref("OgcException"))}  # noqa: E731
    errors = {"400": exception("Bad parameter"), "401": exception("Not signed in / unknown token"),
              "403": exception("Role not allowed"), "405": exception("Method not allowed"),
              "500": exception("Server error")}
    missing = {"404": exception("No such collection or feature, or not visible to you")}
    encoding = {"in": "query", "schema": OgcFormat}
    tags = ["ogc"]
    return {
        "/ogc": {"get": {"summary": "OGC API landing page", "operationId": "ogcLanding", "tags": tags,
                         "parameters": [encoding],
                         "responses": {"200": ok({"type": "object", "required": ["links"]}), **errors}}},
        "/ogc/api": {"get": {"summary": "The OGC API's OpenAPI document (/req/oas30)", "operationId": "ogcApi",
                             "tags": tags, "parameters": [encoding], "responses": {
                                 "200": ok({"type": "object", "required": ["openapi", "paths"]},
                                           "application/vnd.oai.openapi+json;version=3.0"), **errors}}},
        "/ogc/conformance": {"get": {"summary": "Conformance classes", "operationId": "ogcConformance",
                                     "tags": tags, "parameters": [encoding],
                                     "responses": {"200": ok({"type": "object", "required": ["conformsTo"]}),
                                                   **errors}}},
        "/ogc/collections": {"get": {"summary": "Collections", "operationId": "ogcCollections", "tags": tags,
                                     "parameters": [encoding],
                                     "responses": {"200": ok({"type": "object", "required": ["collections"]}),
                                                   **errors}}},
        "/ogc/collections/{collectionId}": {"get": {
            "summary": "A collection", "operationId": "ogcCollection", "tags": tags,
            "parameters": [collection, encoding],
            "responses": {"200": ok({"type": "object", "required": ["id", "extent"]}), **errors, **missing}}},
        "/ogc/collections/{collectionId}/queryables": {"get": {
            "summary": "What items can be filtered on (JSON Schema)", "operationId": "ogcQueryables",
            "tags": tags, "parameters": [collection, encoding],
            "responses": {"200": ok({"type": "object", "required": ["type", "properties"]},
                                    "application/schema+json"), **errors, **missing}}},
        "/ogc/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection", "operationId": "ogcItems", "tags": tags,
            "parameters": [collection, {"in": "query", "schema": OgcItemsQuery}],
            "responses": {"200": ok(_ref("OgcFeatureCollection"), GEOJSON), **errors, **missing}}},
        "/ogc/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature", "operationId": "ogcItem", "tags": tags,
            "parameters": [collection, _path("featureId", {"type": "string"}, "Feature id"), encoding],
            "responses": {"200": ok({"type": "object", "required": ["type", "properties"]}, GEOJSON),
                          **errors, **missing}}},
    }


def _evaluation_operations(area_id, ok, readers) -> dict:
    tags = ["evaluation"]
    return {
        "/api/hotspot-accuracy": {"get": {
            "summary": "How well the hot spots of one period caught the next period's incidents (PAI, PEI, RRI)",
            "operationId": "hotspotAccuracy", "tags": tags, "parameters": [{"in": "query", "schema": HotspotAccuracyQuery}],
            "responses": {"200": ok(_ref("HotspotAccuracy")), **readers}}},
        "/api/key-areas/{area_id}/displacement": {"get": {
            "summary": "Weighted Displacement Quotient around a key area, with the six counts",
            "operationId": "keyAreaDisplacement", "tags": tags,
            "parameters": [area_id, {"in": "query", "schema": DisplacementQuery}],
            "responses": {"200": ok(_ref("Displacement")), **_errors(400, 401, 404)}}},
        "/api/near-repeats": {"get": {
            "summary": "Knox test table by distance band and time band (Near Repeat Calculator)",
            "operationId": "nearRepeats", "tags": tags, "parameters": [{"in": "query", "schema": NearRepeatsQuery}],
            "responses": {"200": ok(_ref("NearRepeats")), **readers}}},
        "/api/forecast": {"get": {
            "summary": "Prospective hot spots for the month after as_of, with measured accuracy",
            "operationId": "forecast", "tags": tags, "parameters": [{"in": "query", "schema": ForecastQuery}],
            "responses": {"200": ok(_ref("Forecast"), GEOJSON), **readers}}},
    }


def _field_schema(_converter, field, **kwargs) -> dict:
    """The OpenAPI schema of the custom fields (they say it themselves)."""
    return dict(field.openapi) if isinstance(field, (Bbox, Interval, Coordinates)) else {}


def _comma_separated(_converter, field, **kwargs) -> dict:
    """A bbox is sent as ``bbox=1,2,3,4`` (OGC 17-069r4, 7.15.3): an array in form style, not exploded."""
    return {"style": "form", "explode": False} if isinstance(field, Bbox) else {}


#: The request bodies, by component name: the very schemas the routes load their bodies with (``with_body``).
BODIES = {"Decision": DecisionBody, "NewKeyArea": NewKeyAreaBody, "KeyAreaChanges": KeyAreaChangesBody,
          "Transition": TransitionBody, "Reselection": ReselectionBody, "DrugStatusInput": DrugStatusBody,
          "RuleSetInput": RuleSetInputBody}


def build_spec(server_url: str = "/") -> APISpec:
    """The JSON API as an apispec :class:`~apispec.APISpec` (OpenAPI 3.0.3)."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Bản đồ 138 — JSON API", version="1.0.0", openapi_version="3.0.3", plugins=[marshmallow],
        info={"description": "Tracker API (key areas, proposals, targets, commune drug status), hot spot "
                             "evaluations (accuracy, displacement, near repeats, forecast), commune "
                             "boundaries and OGC API – Features. See docs/API.md. Authenticate with "
                             "`Authorization: Bearer <token>` (`flask create-token`) or the session cookie "
                             "(then send `X-CSRFToken` on writes)."},
        servers=[{"url": server_url}], security=[{"bearer": []}, {"session": []}])
    marshmallow.converter.add_attribute_function(_field_schema)
    marshmallow.converter.add_parameter_attribute_function(_comma_separated)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    for name, schema in BODIES.items():
        spec.components.schema(name, schema=schema)
    for name, schema in _schemas().items():
        spec.components.schema(name, schema)
    for path, operations in _operations().items():
        spec.path(path=path, operations=operations)
    return spec


def openapi_document(server_url: str = "/") -> dict:
    """The OpenAPI 3.0.3 description of the JSON API (a plain dict, no request needed)."""
    return build_spec(server_url).to_dict()


def ogc_document(server_url: str) -> dict:
    """The OGC API – Features document: this API's ``/ogc`` paths, relative to ``server_url`` (…/ogc)."""
    whole = openapi_document(server_url)
    paths = {(path[len("/ogc"):] or "/"): operations for path, operations in whole["paths"].items()
             if path == "/ogc" or path.startswith("/ogc/")}
    return {**whole, "info": {"title": "Bản đồ 138 — OGC API Features", "version": whole["info"]["version"],
                              "description": "OGC API – Features – Part 1 (Core, GeoJSON, OpenAPI 3.0) over the "
                                             "map layers; part of the JSON API at /api/openapi.json."},
            "security": [{"bearer": []}], "paths": paths}


@bp.route("/api/openapi.json")
@allow(*access.EVERYONE)
def document():
    return jsonify(openapi_document())
