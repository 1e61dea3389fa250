"""Every JSON body of the API is loaded by its marshmallow schema (web/api_schemas.py) before the store sees it:
a wrong type, a missing member, a value outside its vocabulary, a member the body does not have and a body
nested too deeply are each a 400 naming the member, worded in the request's language, and change nothing.
The same schemas are the bodies of /api/openapi.json, and every route that reads a body or a query declares
a schema the document describes (walked from the url_map)."""
from __future__ import annotations

import copy
import json

import pytest

from tests.tracker_helpers import SA_RAI, make_area, snapshot
from web import api_schemas
from web.openapi import BODIES, openapi_document

AREA = {"name": "Chợ Sa Rài", "kind": "market", "year_selected": 2024, "complexity_types": ["theft"],
        "decision_number": "12/QĐ-BCĐ138", "district_code": "869", "commune_code": SA_RAI}
TRANSITION = {"version": 1, "to_status": "converting", "event_date": "2024-06-01", "reason": "Đủ điều kiện",
              "document_number": "5/BC"}
DECISION = {"version": 1, "decision": "approve"}
DRUG_STATUS = {"commune_code": SA_RAI, "year": 2024, "indicators": {"residents": 9800, "on_drug_route": False}}
RULE_SET = {"definition": {"code": "qd28_2025", "document_number": "28/2025/QĐ-TTg (sửa đổi)",
                           "effective_from": "2026-01-01", "levels": [
                               {"status": "key_1", "min_met": 1, "criteria": [
                                   {"code": "places", "minimums": {"drug_use_places": 2}}]}]},
            "reason": "Cập nhật"}


def _set(path: str, value):
    """A mutation: the member at dotted ``path`` (list indexes as numbers) set to ``value``."""
    def mutate(body):
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _drop(path: str):
    def mutate(body):
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]
    return mutate


def _deep(levels: int):
    value = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


# (method, url, schema, a body the schema accepts, {case: (mutation, member the answer names)})
BODY_CASES = {
    "create key area": ("POST", "/api/key-areas", api_schemas.NewKeyAreaBody, AREA, {
        "wrong type": (_set("year_selected", "2024"), "year_selected"),
        "missing": (_drop("decision_number"), "decision_number"),
        "unknown enum": (_set("complexity_types", ["theft", "piracy"]), "complexity_types.1"),
        "extra member": (_set("decison_date", "2024-03-01"), "decison_date"),
        "too deep": (_set("geometry", {"type": "Polygon", "coordinates": [[[[[[[[0, 0]]]]]]]]}),
                     "geometry.coordinates.0.0.0.0.0.0"),
    }),
    "edit key area": ("PATCH", "/api/key-areas/{area}", api_schemas.KeyAreaChangesBody,
                      {"version": 1, "notes": "Họp dân"}, {
        "wrong type": (_set("notes", ["Họp dân"]), "notes"),
        "missing": (_drop("version"), "version"),
        "unknown enum": (_set("kind", "shop"), "kind"),
        "extra member": (_set("status", "achieved"), "status"),
        "too deep": (_set("notes", _deep(10)), "notes.a.a.a.a.a.a.a"),
    }),
    "transition": ("POST", "/api/key-areas/{area}/transitions", api_schemas.TransitionBody, TRANSITION, {
        "wrong type": (_set("version", True), "version"),
        "missing": (_drop("event_date"), "event_date"),
        "unknown enum": (_set("to_status", "done"), "to_status"),
        "extra member": (_set("approved_by", "planner"), "approved_by"),
        "too deep": (_set("reason", _deep(10)), "reason.a.a.a.a.a.a.a"),
    }),
    "proposal": ("POST", "/api/key-areas/{area}/proposals", api_schemas.TransitionBody, TRANSITION, {
        "wrong type": (_set("event_date", 20240601), "event_date"),
        "missing": (_drop("document_number"), "document_number"),
        "unknown enum": (_set("to_status", "Converting"), "to_status"),
        "extra member": (_set("state", "approved"), "state"),
        "too deep": (_set("document_number", [[[[[[[[["5"]]]]]]]]]), "document_number.0.0.0.0.0.0.0"),
    }),
    "reselect": ("POST", "/api/key-areas/{area}/reselect", api_schemas.ReselectionBody,
                 {"year_selected": 2026, "decision_number": "7/QĐ"}, {
        "wrong type": (_set("year_selected", 2026.5), "year_selected"),
        "missing": (_drop("decision_number"), "decision_number"),
        "out of range": (_set("year_selected", 10**30), "year_selected"),
        "extra member": (_set("previous_cycle_id", 1), "previous_cycle_id"),
        "too deep": (_set("reason", _deep(9)), "reason.a.a.a.a.a.a.a"),
    }),
    "key-area decision": ("POST", "/api/key-area-proposals/1/decision", api_schemas.DecisionBody, DECISION, {
        "wrong type": (_set("version", "1"), "version"),
        "missing": (_drop("decision"), "decision"),
        "unknown enum": (_set("decision", "approved"), "decision"),
        "extra member": (_set("approve", True), "approve"),
        "too deep": (_set("note", _deep(10)), "note.a.a.a.a.a.a.a"),
    }),
    "drug status": ("POST", "/api/drug-status", api_schemas.DrugStatusBody, DRUG_STATUS, {
        "wrong type": (_set("indicators.on_drug_route", "yes"), "indicators.on_drug_route"),
        "missing": (_drop("year"), "year"),
        "out of range": (_set("indicators.addicts", -3), "indicators.addicts"),
        "extra member": (_set("indicators.dealers", 4), "indicators.dealers"),
        "too deep": (_set("indicators.residents", _deep(9)), "indicators.residents.a.a.a.a.a.a"),
    }),
    "drug-status decision": ("POST", "/api/drug-status/proposals/1/decision", api_schemas.DecisionBody, DECISION, {
        "wrong type": (_set("note", 5), "note"),
        "missing": (_drop("version"), "version"),
        "unknown enum": (_set("decision", "maybe"), "decision"),
        "extra member": (_set("record_version", 1), "record_version"),
        "too deep": (_set("decision", [[[[[[[[[["approve"]]]]]]]]]]), "decision.0.0.0.0.0.0.0"),
    }),
    "rule set": ("POST", "/api/drug-status/rule-sets", api_schemas.RuleSetInputBody, RULE_SET, {
        "wrong type": (_set("definition.levels.0.min_met", "1"), "definition.levels.0.min_met"),
        "missing": (_drop("definition.effective_from"), "definition.effective_from"),
        "unknown enum": (_set("definition.levels.0.status", "key_4"), "definition.levels.0.status"),
        "extra member": (_set("definition.levels.0.criteria.0.minimums.dealers", 3),
                         "definition.levels.0.criteria.0.minimums.dealers"),
        "too deep": (_set("definition.levels.0.criteria.0.label_vi", _deep(4)),
                     "definition.levels.0.criteria.0.label_vi.a.a"),
    }),
}


def _call(client, login, method, url, payload, lang=None):
    return client.open(url, method=method, data=json.dumps(payload), content_type="application/json",
                       query_string={"lang": lang} if lang else None, headers={"X-CSRFToken": login.csrf_token})


@pytest.mark.parametrize("name", BODY_CASES)
def test_the_example_body_is_one_the_schema_accepts(name):
    """So each refusal below is caused by its one mutation."""
    _method, _url, schema, valid, _cases = BODY_CASES[name]
    api_schemas.load_body(schema(), copy.deepcopy(valid))


@pytest.mark.parametrize("name", BODY_CASES)
def test_each_bad_body_is_a_400_naming_the_member_and_changes_nothing(client, login, db, name):
    method, url, _schema, valid, cases = BODY_CASES[name]
    area_id = make_area(db)
    login("planner")
    before = snapshot(db)
    for case, (mutate, member) in cases.items():
        body = copy.deepcopy(valid)
        mutate(body)
        response = _call(client, login, method, url.format(area=area_id), body)
        answer = response.get_json()
        assert response.status_code == 400, (case, answer)
        assert set(answer) == {"error", "status", "fields"} and answer["status"] == 400, (case, answer)
        assert list(answer["fields"]) == [member], (case, answer)
        assert member in answer["error"], (case, answer)
    assert snapshot(db) == before


def test_refusals_are_worded_in_the_request_language(client, login, db):
    login("planner")
    body = {**AREA, "kind": "shop", "year_selected": "2024"}
    del body["name"]
    vietnamese = _call(client, login, "POST", "/api/key-areas", body).get_json()
    english = _call(client, login, "POST", "/api/key-areas", body, lang="en").get_json()
    assert english["fields"] == {"kind": "must be one of: commune, hamlet, market, wharf, route, other",
                                 "name": "is required but missing", "year_selected": "must be an integer"}
    assert vietnamese["fields"] == {"kind": "phải là một trong: commune, hamlet, market, wharf, route, other",
                                    "name": "là trường bắt buộc nhưng bị thiếu",
                                    "year_selected": "phải là một số nguyên"}
    assert english["error"].startswith("The request body was refused and nothing was saved: ")
    assert vietnamese["error"].startswith("Nội dung yêu cầu không hợp lệ, chưa có gì được lưu: ")


def test_a_body_that_is_not_an_object_or_too_deep_for_the_parser_is_refused(client, login, db):
    login("planner")
    before = snapshot(db)
    listed = _call(client, login, "POST", "/api/drug-status", [DRUG_STATUS], lang="en").get_json()
    assert listed["fields"] == {"": "The request body must be a JSON object (Content-Type: application/json)"}
    deep = client.open("/api/drug-status?lang=en", method="POST", content_type="application/json",
                       data='{"notes": ' + "[" * 50_000 + "]" * 50_000 + "}", headers={"X-CSRFToken": login.csrf_token})
    assert deep.status_code == 400 and "nested too deeply" in deep.get_json()["error"]
    assert snapshot(db) == before


def test_a_geometry_of_the_wrong_depth_for_its_type_is_refused(client, login, db):
    login("planner")
    before = snapshot(db)
    ring = [[105.0, 10.0], [105.1, 10.0], [105.1, 10.1], [105.0, 10.0]]
    polygon_as_multi = _call(client, login, "POST", "/api/key-areas",
                             {**AREA, "geometry": {"type": "MultiPolygon", "coordinates": [ring]}}).get_json()
    assert list(polygon_as_multi["fields"]) == ["geometry.coordinates.0.0.0"]  # a number where a position belongs
    bad_position = _call(client, login, "POST", "/api/key-areas",
                         {**AREA, "geometry": {"type": "Polygon", "coordinates": [[*ring[:3], [105.0, "10"]]]}})
    assert list(bad_position.get_json()["fields"]) == ["geometry.coordinates.0.3"]
    assert snapshot(db) == before


def test_a_rule_set_needing_more_criteria_than_it_has_is_refused(client, login, db):
    login("planner")
    before = snapshot(db)
    body = copy.deepcopy(RULE_SET)
    body["definition"]["levels"][0]["min_met"] = 2
    answer = _call(client, login, "POST", "/api/drug-status/rule-sets", body, lang="en").get_json()
    assert answer["fields"] == {"definition.levels.0.min_met": "must be at most 1"}
    assert snapshot(db) == before


def test_the_stores_own_refusals_keep_the_same_shape(client, login, db):
    """Defence in depth: a body the schema accepts but the store refuses (an unknown commune) is the same shape."""
    login("planner")
    answer = _call(client, login, "POST", "/api/drug-status", {**DRUG_STATUS, "commune_code": "00000"})
    assert answer.status_code == 400 and set(answer.get_json()) == {"error", "status"}


# ------------------------------------------------------------------ the document and the url_map agree


def _document_path(rule) -> str:
    return rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(("/api/", "/ogc"))]


def test_every_route_reading_a_body_declares_the_schema_its_document_entry_names(app):
    document = openapi_document()
    schema_names = {schema: name for name, schema in BODIES.items()}
    writes = 0
    for rule in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            writes += 1
            declared = getattr(view, "body_schema", None)
            assert declared is not None, f"{method} {rule.rule} reads a body without a schema (use with_body)"
            operation = document["paths"][_document_path(rule)][method.lower()]
            reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert reference == f"#/components/schemas/{schema_names[declared]}", f"{method} {rule.rule}"
            component = document["components"]["schemas"][schema_names[declared]]
            assert component["additionalProperties"] is False
            assert set(component["properties"]) == {f.data_key or n for n, f in declared().fields.items()}
    assert writes >= 9


def test_every_api_route_reading_a_query_loads_it_with_the_schema_its_document_shows(app):
    """The query parameters each GET route of /api documents are the fields of the schema the route loads its
    query with (``with_query``); a route that reads ``request.args`` itself must declare one."""
    import inspect

    document = openapi_document()
    declared_routes = 0
    for rule in _api_rules(app):
        if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        operation = document["paths"][_document_path(rule)]["get"]
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        schema = getattr(view, "query_schema", None)
        if schema is None:
            assert not documented, f"GET {rule.rule} documents {documented} but loads no query schema"
            assert "request.args" not in inspect.getsource(inspect.unwrap(view)), f"GET {rule.rule}"
            continue
        declared_routes += 1
        assert documented == {f.data_key or n for n, f in schema().fields.items()}, f"GET {rule.rule}"
        for parameter in operation["parameters"]:
            assert parameter["schema"].get("type"), (rule.rule, parameter)
    assert declared_routes >= 14


def test_every_ogc_route_is_documented_with_typed_parameters(app):
    document = openapi_document()
    for rule in _api_rules(app):
        if not rule.rule.startswith("/ogc"):
            continue
        path = _document_path(rule).rstrip("/").replace("{collection_id}", "{collectionId}")
        path = path.replace("{feature_id}", "{featureId}")
        assert "get" in document["paths"][path], f"GET {path} is not documented"
        for parameter in document["paths"][path]["get"].get("parameters", []):
            assert parameter["schema"].get("type"), (path, parameter)


def test_query_refusals_have_the_same_shape(client, login):
    login("planner")
    answer = client.get("/api/forecast?lang=en&share=0.9&as_of=2024-13-01").get_json()
    assert set(answer) == {"error", "status", "fields"} and set(answer["fields"]) == {"share", "as_of"}
    assert answer["fields"]["share"] == "share '0.9' is outside the allowed 0.001–0.5"
    assert answer["error"] == "as_of '2024-13-01' is not a date YYYY-MM-DD; share '0.9' is outside the allowed 0.001–0.5"
    # The same refusal in Vietnamese, with its number symbols (?lang= is remembered: ask for it again).
    vietnamese = client.get("/api/forecast?lang=vi&share=0.9&as_of=2024-13-01").get_json()
    assert vietnamese["fields"]["share"] == "share “0.9” nằm ngoài khoảng cho phép 0,001–0,5"
    assert "không phải ngày dạng YYYY-MM-DD" in vietnamese["error"]


def test_the_ogc_document_is_the_json_documents_ogc_part():
    from web.openapi import ogc_document

    whole, ogc = openapi_document(), ogc_document("/ogc")
    for path, operations in ogc["paths"].items():
        assert whole["paths"]["/ogc" + (path if path != "/" else "")] == operations
    bbox = next(p for p in ogc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
                if p["name"] == "bbox")
    assert (bbox["style"], bbox["explode"], bbox["schema"]["type"]) == ("form", False, "array")
    assert not any("collection_id" in path for path in whole["paths"])
