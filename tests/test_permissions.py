"""The permission matrix: every role (and anonymous) against every route and API endpoint.

* Declarations: the tracker's and the foundation's endpoints declare exactly the audience below.
* Denial (every endpoint of the app, whoever wrote it): a role outside the declared audience gets 403, an
  anonymous visitor a redirect to sign-in (pages) or 401 (API), and the database is unchanged.
* Allowed: each role reaches the tracker's pages and API with real requests; a district committee is limited
  to its own district's records inside the endpoints it may call; nothing changes when it is refused.
* CSRF: state-changing requests with a session but without a token fail and change nothing; API tokens
  (no cookie) need no CSRF token.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.tracker_helpers import PHUONG_1, SA_RAI, make_area, snapshot

ALL = frozenset({"admin", "planner", "border_guard", "district", "commune"})
EDITORS = frozenset({"admin", "planner", "district", "commune"})
PROVINCE = frozenset({"admin", "planner"})
ADMIN_ONLY = frozenset({"admin"})
PUBLIC = frozenset({"public"})
USER_OF_ROLE = {"admin": "admin", "planner": "planner", "border_guard": "guard", "district": "district_869",
                "commune": "commune_29929"}

EXPECTED_AUDIENCE = {
    # foundation
    "maps.overview": ALL, "maps.api_communes": ALL, "maps.api_boundary_sets": ALL, "auth.login": PUBLIC, "auth.logout": ALL, "vendor.asset": PUBLIC,
    # tracker pages
    "key_areas.page": ALL, "key_areas.detail": ALL, "key_areas.map_script": ALL,
    "key_areas.district": EDITORS, "key_areas.new": EDITORS, "key_areas.edit": EDITORS, "key_areas.propose": EDITORS,
    "key_areas.transition": PROVINCE, "key_areas.decide": PROVINCE,
    "drug_status.page": ALL, "drug_status.record": EDITORS, "drug_status.add_rule_set": PROVINCE,
    "admin.users": ADMIN_ONLY, "admin.update": ADMIN_ONLY,
    "audit.page": PROVINCE, "audit.export": PROVINCE,
    # tracker API
    "api_tracker.list_areas": ALL, "api_tracker.get_area": ALL, "api_tracker.list_proposals": ALL,
    "api_tracker.targets": ALL, "api_tracker.drug_statuses": ALL, "api_tracker.drug_comparison": ALL,
    "api_tracker.drug_rule_sets": ALL,
    "api_tracker.create_area": EDITORS, "api_tracker.update_area": EDITORS, "api_tracker.propose": EDITORS,
    "api_tracker.record_drug_status": EDITORS,
    "api_tracker.transition_area": PROVINCE, "api_tracker.decide": PROVINCE, "api_tracker.add_drug_rule_set": PROVINCE,
}


def test_declared_audiences_match_the_matrix(app):
    from web.access import allowed_roles

    actual = {name: allowed_roles(app.view_functions[name]) for name in EXPECTED_AUDIENCE}
    assert actual == EXPECTED_AUDIENCE


def every_route(app, area_id=1, proposal_id=1):
    """(endpoint, method, url) for every rule of the app, its URL arguments filled with plausible values."""
    samples = {"area_id": area_id, "proposal_id": proposal_id, "user_id": 1, "token": "x", "year": 2024,
               "filename": "leaflet/dist/leaflet.js", "fmt": "geojson", "gate_id": 1, "kind": "csv"}
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: samples.get(arg, "1") for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


@pytest.fixture
def seeded(db):
    """One area in Tân Hồng (869) with a pending district proposal."""
    from store import key_areas as ka
    from tests.tracker_helpers import DISTRICT_869

    area_id = make_area(db)
    with db.transaction() as session:
        proposal = ka.propose_transition(session, DISTRICT_869, area_id, expected_version=1, to_status="converting",
                                         event_date="2024-06-01", reason="Đề nghị", document_number="1/TTr")
        return {"area_id": area_id, "proposal_id": proposal.id}


@pytest.mark.parametrize("role", sorted(ALL))
def test_every_endpoint_denies_roles_outside_its_audience_and_changes_nothing(app, client, login, db, seeded, role):
    from web.access import allowed_roles

    login(USER_OF_ROLE[role])
    before = snapshot(db)
    denied = 0
    for endpoint, method, url in every_route(app, **seeded):
        roles = allowed_roles(app.view_functions[endpoint]) or frozenset()
        if role in roles or "public" in roles:
            continue
        response = client.open(url, method=method, data={"csrf_token": login.csrf_token},
                               headers={"X-CSRFToken": login.csrf_token})
        assert response.status_code == 403, f"{role} {method} {url} → {response.status_code}"
        response.close()
        denied += 1
    assert snapshot(db) == before
    assert denied > 0 or role == "admin"


def test_anonymous_is_sent_to_sign_in_everywhere(app, client, db, seeded):
    from web.access import allowed_roles

    before = snapshot(db)
    for endpoint, method, url in every_route(app, **seeded):
        if "public" in (allowed_roles(app.view_functions[endpoint]) or ()):
            continue
        response = client.open(url, method=method)
        if url.startswith(("/api/", "/ogc")):
            assert response.status_code in (400, 401), f"{method} {url} → {response.status_code}"
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"], f"{method} {url}"
        else:
            assert response.status_code in (302, 400), f"{method} {url} → {response.status_code}"
        response.close()
    assert snapshot(db) == before


# --- allowed: real requests per role ----------------------------------------------------------------------
READ_PAGES = ["/key-areas", "/key-areas?year=2024&status=selected", "/drug-status", "/api/key-areas",
              "/api/key-area-proposals?state=pending", "/api/key-areas/targets?year=2024", "/api/drug-status",
              "/api/drug-status/comparison?year=2024", "/api/drug-status/rule-sets", "/", "/api/communes"]


@pytest.mark.parametrize("role", sorted(ALL))
def test_every_role_reads_the_tracker(client, login, db, seeded, role):
    # A commune committee reads the areas of its own commune (the seeded one is in another commune).
    area_id = seeded["area_id"] if role != "commune" else make_area(db, commune="29929", name="Xã Tân Hộ Cơ")
    login(USER_OF_ROLE[role])
    for url in READ_PAGES + [f"/key-areas/{area_id}", f"/api/key-areas/{area_id}"]:
        response = client.get(url)
        assert response.status_code == 200, f"{role} GET {url} → {response.status_code}"
        response.close()


@pytest.mark.parametrize("role, expected", [("admin", 200), ("planner", 200), ("district", 200),
                                            ("commune", 200), ("border_guard", 403)])
def test_edit_forms_by_role(client, login, role, expected):
    login(USER_OF_ROLE[role])
    for url in ("/key-areas/new", "/drug-status/record", "/key-areas/district"):
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("role, expected", [("admin", 200), ("planner", 200), ("district", 403),
                                            ("border_guard", 403)])
def test_audit_by_role(client, login, role, expected):
    login(USER_OF_ROLE[role])
    assert client.get("/audit").status_code == expected
    response = client.get("/audit.csv")
    assert response.status_code == expected
    response.close()


@pytest.mark.parametrize("role, expected", [("admin", 200), ("planner", 403), ("district", 403),
                                            ("border_guard", 403)])
def test_admin_page_by_role(client, login, role, expected):
    login(USER_OF_ROLE[role])
    assert client.get("/admin/users").status_code == expected


def post_json(client, url, payload, token, method="POST"):
    return client.open(url, method=method, data=json.dumps(payload), content_type="application/json",
                       headers={"X-CSRFToken": token})


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_province_roles_decide_and_transition_through_api(client, login, db, seeded, role):
    login(USER_OF_ROLE[role])
    response = post_json(client, f"/api/key-area-proposals/{seeded['proposal_id']}/decision",
                         {"version": 1, "decision": "approve"}, login.csrf_token)
    assert response.status_code == 200, response.get_json()
    response = post_json(client, f"/api/key-areas/{seeded['area_id']}/transitions",
                         {"version": 2, "to_status": "achieved", "event_date": "2024-12-01", "reason": "Đạt",
                          "document_number": "9/BC"}, login.csrf_token)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["area"]["status"] == "achieved"


def test_district_limited_to_own_district_inside_allowed_endpoints(client, login, db):
    other = make_area(db, district="866", commune=PHUONG_1, name="Phường 1")
    mine = make_area(db)
    login("district_869")
    before = snapshot(db)
    token = login.csrf_token
    attempts = [
        client.post(f"/key-areas/{other}/propose", data={"csrf_token": token, "version": "1",
                                                         "to_status": "converting", "event_date": "2024-06-01",
                                                         "reason": "x", "document_number": "1"}),
        client.post(f"/key-areas/{other}/edit", data={"csrf_token": token, "version": "1", "name": "x",
                                                      "kind": "commune", "complexity_types": "drugs",
                                                      "decision_number": "1"}),
        post_json(client, f"/api/key-areas/{other}/proposals", {"version": 1, "to_status": "converting",
                                                                "event_date": "2024-06-01", "reason": "x",
                                                                "document_number": "1"}, token),
        post_json(client, f"/api/key-areas/{other}", {"version": 1, "name": "x"}, token, method="PATCH"),
        post_json(client, "/api/key-areas", {"name": "x", "kind": "commune", "district_code": "866",
                                             "commune_code": PHUONG_1, "year_selected": 2024,
                                             "complexity_types": ["drugs"], "decision_number": "1"}, token),
        post_json(client, "/api/drug-status", {"commune_code": PHUONG_1, "year": 2024,
                                               "indicators": {"residents": 100}}, token),
        # and a district committee cannot approve, nor record a province-level transition, on its own area
        post_json(client, f"/api/key-areas/{mine}/transitions", {"version": 1, "to_status": "converting",
                                                                 "event_date": "2024-06-01", "reason": "x",
                                                                 "document_number": "1"}, token),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404, 404, 403, 403, 403]
    assert snapshot(db) == before
    assert client.get(f"/api/key-areas/{other}").status_code == 404
    listed = client.get("/api/key-areas").get_json()["features"]
    assert [f["id"] for f in listed] == [mine]


def test_guard_reads_but_cannot_write_even_through_the_api_with_a_token(app, runner, db, seeded):
    result = runner.invoke(args=["create-token", "guard"])
    token = result.output.strip().splitlines()[-1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/key-areas", headers=headers).status_code == 200
    before = snapshot(db)
    response = client.post(f"/api/key-areas/{seeded['area_id']}/proposals", headers=headers,
                           json={"version": 1, "to_status": "converting"})
    assert response.status_code == 403
    assert snapshot(db) == before


# --- CSRF ----------------------------------------------------------------------------------------------------
def state_changing_requests(seeded):
    area, proposal = seeded["area_id"], seeded["proposal_id"]
    form = {"version": "1", "to_status": "converting", "event_date": "2024-06-01", "reason": "x",
            "document_number": "1", "name": "Giả mạo", "kind": "commune", "decision": "approve",
            "complexity_types": "drugs", "decision_number": "1", "commune_code": SA_RAI, "year": "2024",
            "residents": "100", "username": "ke_gia_mao", "password": "mat-khau-gia-mao", "role": "admin",
            "definition": "{}", "year_selected": "2024"}
    return [
        ("POST", f"/key-areas/{area}/edit", form), ("POST", f"/key-areas/{area}/propose", form),
        ("POST", f"/key-areas/{area}/transition", form), ("POST", f"/key-areas/proposals/{proposal}/decide", form),
        ("POST", "/key-areas/new", form), ("POST", "/drug-status/record", form),
        ("POST", "/drug-status/rule-sets", form), ("POST", "/admin/users", form), ("POST", "/admin/users/2", form),
        ("POST", "/api/key-areas", None), ("PATCH", f"/api/key-areas/{area}", None),
        ("POST", f"/api/key-areas/{area}/transitions", None), ("POST", f"/api/key-areas/{area}/proposals", None),
        ("POST", f"/api/key-area-proposals/{proposal}/decision", None), ("POST", "/api/drug-status", None),
        ("POST", "/api/drug-status/rule-sets", None),
    ]


def test_forged_requests_without_csrf_token_fail_and_change_nothing(client, login, db, seeded):
    login("admin")
    before = snapshot(db)
    for method, url, form in state_changing_requests(seeded):
        if form is None:
            response = client.open(url, method=method, json={"version": 1, "to_status": "converting",
                                                             "decision": "approve", "name": "Giả mạo"})
        else:
            response = client.open(url, method=method, data=form)
        assert response.status_code == 400, f"{method} {url} → {response.status_code}"
        text = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
        assert "hết hạn hoặc không hợp lệ" in text, f"{method} {url}: {text[:200]}"
        response.close()
    # a token from another session is no better than none
    response = client.open(f"/key-areas/{seeded['area_id']}/transition", method="POST",
                           data={**state_changing_requests(seeded)[2][2], "csrf_token": "forged-token"})
    assert response.status_code == 400
    assert snapshot(db) == before


def test_api_token_requests_need_no_csrf_token(app, runner, db, seeded):
    token = runner.invoke(args=["create-token", "planner"]).output.strip().splitlines()[-1]
    client = app.test_client()
    response = client.post(f"/api/key-area-proposals/{seeded['proposal_id']}/decision",
                           headers={"Authorization": f"Bearer {token}"}, json={"version": 1, "decision": "approve"})
    assert response.status_code == 200
    assert response.get_json()["state"] == "approved"


def test_every_write_form_of_the_tracker_carries_a_csrf_token(client, login, db, seeded):
    login("admin")
    for url in (f"/key-areas/{seeded['area_id']}", "/key-areas", "/key-areas/new", "/drug-status",
                "/drug-status/record", "/admin/users"):
        page = client.get(url).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, flags=re.S | re.I)
        assert forms, url
        assert all('name="csrf_token"' in body for body in forms), url
