"""Fuzz the JSON API with schemathesis against its OpenAPI description (/api/openapi.json), in process (WSGI).

Every operation of the document is called with generated parameters and bodies, signed in with an API token
(``Authorization: Bearer``, from ``flask create-token``) of a planner (who may write) and of a district
committee (whose writes are limited to its district). Checks: no answer is a server error, and every answer
matches the status codes, content types and response schemas the document declares. Generation is
derandomized and small so the run stays well under a minute.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import drop_app_database, make_app
from web.openapi import openapi_document

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The document itself is checked by the tests below; schemathesis leaves the schema's own URL out.
OPERATIONS = sorted((method.upper(), path) for path, methods in openapi_document()["paths"].items()
                    for method in methods if path != "/api/openapi.json")
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


STATUSES: dict = {}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, template_db, data_dir):
    from tests.report_data import seed_incidents
    from tests.tracker_helpers import make_area

    app = make_app(tmp_path_factory.mktemp("fuzz-api"), template_db, data_dir)
    seed_incidents(app)
    make_area(app.extensions["db"], status_path=("converting",))
    yield app
    drop_app_database(app)


def token_for(app, username: str) -> str:
    result = app.test_cli_runner().invoke(args=["create-token", username, "--name", "schemathesis"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def api_schema(api_app):
    headers = {"Authorization": f"Bearer {token_for(api_app, 'planner')}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_app, headers=headers)
    return schema, headers


@pytest.fixture(scope="module")
def district_headers(api_app):
    return {"Authorization": f"Bearer {token_for(api_app, 'district_869')}"}


def test_document_is_served_to_signed_in_users_only(client, login):
    assert client.get("/api/openapi.json").status_code == 401
    login("guard")
    body = client.get("/api/openapi.json").get_json()
    assert body["openapi"].startswith("3.") and "/api/key-areas" in body["paths"]


def test_document_covers_every_json_api_route(app):
    """A new /api/ route must be described (or the fuzzing misses it)."""
    described = {(m.upper(), p) for p, methods in openapi_document()["paths"].items() for m in methods}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in described, f"{method} {path} is not in /api/openapi.json"


def _operation(schema, method: str, path: str):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == method and operation.path == path:
            return operation
    raise AssertionError(f"{method} {path} not found in the loaded schema")


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_never_fails_and_answers_as_documented(api_app, api_schema, district_headers, method, path):
    schema, planner_headers = api_schema
    operation = _operation(schema, method, path)

    @FUZZ
    @given(case=operation.as_strategy())
    def check(case):
        for headers in (planner_headers, district_headers):
            response = case.call(app=api_app, headers=headers)
            STATUSES.setdefault(f"{method} {path}", []).append(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

    check()


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_invalid_input_is_refused_without_a_server_error(api_app, api_schema, method, path):
    """Negative mode: parameters and bodies that break the schema (wrong types, out of range, missing)."""
    from schemathesis.generation import GenerationMode

    schema, headers = api_schema
    operation = _operation(schema, method, path)

    @settings(FUZZ, max_examples=10)
    @given(case=operation.as_strategy(GenerationMode.NEGATIVE))
    def check(case):
        response = case.call(app=api_app, headers=headers)
        STATUSES.setdefault(f"negative {method} {path}", []).append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)

    check()


BODY_OPERATIONS = sorted((method.upper(), path) for path, methods in openapi_document()["paths"].items()
                         for method, operation in methods.items() if "requestBody" in operation)


@pytest.mark.parametrize("method, path", BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_bodies_the_schema_refuses_are_refused_with_their_members_named(api_app, api_schema, method, path):
    """Negative mode on the bodies alone: whatever breaks the body's schema (a wrong type, a missing member,
    a value outside an enum or a bound, an extra member) is answered 400 with ``fields`` naming the member, so
    the route validates from the very schema the document shows."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import negative_data_rejection

    schema, headers = api_schema
    operation = _operation(schema, method, path)
    refused = []

    @settings(FUZZ, max_examples=12)
    @given(case=operation.as_strategy(GenerationMode.NEGATIVE))
    def check(case):
        if case.meta is None or not case.meta.is_negative_at(ParameterLocation.BODY) \
                or case.meta.is_negative_at(ParameterLocation.PATH):
            return  # a mutated path (a 404): the tests above cover those
        response = case.call(app=api_app, headers=headers)
        case.validate_response(response, checks=[not_a_server_error, negative_data_rejection], headers=headers)
        if response.status_code == 400:
            refused.append(response.json())

    check()
    assert refused, f"no negative body of {method} {path} was generated"
    assert all(answer.get("fields") for answer in refused), [a for a in refused if not a.get("fields")][:3]


# ------------------------------------------------------------------------------------------ regressions
# Found by the fuzzing above: an id or a year beyond a 64-bit integer reached SQLite and raised OverflowError
# (a 500); "²" passes str.isdigit() but not int().

HUGE = "9" * 25


@pytest.mark.parametrize("url", [f"/api/key-areas/{HUGE}", f"/key-areas/{HUGE}", f"/hotspots/runs/{HUGE}.geojson"])
def test_regression_ids_beyond_a_database_integer_are_not_found(client, login, url):
    login("planner")
    assert client.get(url).status_code == 404


def test_regression_decision_on_a_huge_proposal_id_is_not_a_server_error(client, login):
    login("planner")
    response = client.post(f"/api/key-area-proposals/{HUGE}/decision", json={"version": 1, "decision": "reject"},
                           headers={"X-CSRFToken": login.csrf_token})
    assert response.status_code in (404, 405)


@pytest.mark.parametrize("path", ["/api/key-areas", "/api/key-areas/targets", "/api/drug-status",
                                  "/api/drug-status/comparison"])
@pytest.mark.parametrize("year", [HUGE, f"-{HUGE}", "²", "abc", "1899", "2101"])
def test_regression_api_year_outside_1900_2100_is_a_clear_400(client, login, path, year):
    login("planner")
    response = client.get(path, query_string={"year": year, "lang": "en"})
    assert response.status_code == 400
    assert "between 1900 and 2100" in response.get_json()["error"]
    vietnamese = client.get(path, query_string={"year": year, "lang": "vi"})
    assert "không phải năm trong khoảng 1900–2100" in vietnamese.get_json()["error"]


@pytest.mark.parametrize("url", [f"/key-areas?year={HUGE}", "/key-areas?year=²", f"/drug-status?year={HUGE}",
                                 f"/drug-status/record?year={HUGE}", "/drug-status/record?year=²",
                                 f"/audit?page={HUGE}", "/audit?page=²"])
def test_regression_pages_ignore_unusable_numbers(client, login, url):
    login("planner")
    assert client.get(url).status_code == 200
