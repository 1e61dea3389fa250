"""The tracker's JSON API as documented in docs/API.md."""
from __future__ import annotations

import json

from shapely.geometry import mapping

from tests.tracker_helpers import SA_RAI, make_area, snapshot


def call(client, login, method, url, payload=None):
    return client.open(url, method=method, data=json.dumps(payload) if payload is not None else None,
                       content_type="application/json", headers={"X-CSRFToken": login.csrf_token})


def sa_rai_square(db):
    from store.boundaries import communes_frame

    with db.transaction() as session:
        frame = communes_frame(session)
    return mapping(frame.loc[frame["commune_code"] == SA_RAI, "geometry"].iloc[0].representative_point().buffer(0.002))


def test_create_read_patch_with_versions(client, login, db):
    login("district_869")
    created = call(client, login, "POST", "/api/key-areas", {
        "name": "Chợ Sa Rài", "kind": "market", "year_selected": 2024, "complexity_types": ["theft"],
        "decision_number": "12/QĐ-BCĐ138", "decision_date": "2024-03-01", "geometry": sa_rai_square(db)})
    assert created.status_code == 201, created.get_json()
    area = created.get_json()
    assert area["district_code"] == "869" and area["version"] == 1 and area["geometry_source"] == "drawn"
    detail = client.get(f"/api/key-areas/{area['id']}").get_json()
    assert detail["area"]["geometry"]["type"] == "Polygon" and detail["events"][0]["to_status"] == "selected"
    ok = call(client, login, "PATCH", f"/api/key-areas/{area['id']}", {"version": 1, "notes": "Họp dân"})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    stale = call(client, login, "PATCH", f"/api/key-areas/{area['id']}", {"version": 1, "notes": "Ghi đè"})
    assert stale.status_code == 409 and "Xung đột" in stale.get_json()["error"]
    assert client.get(f"/api/key-areas/{area['id']}").get_json()["area"]["properties"]["notes"] == "Họp dân"


def test_proposal_decision_and_targets(client, login, db):
    area_id = make_area(db, status_path=("converting",))
    login("district_869")
    proposal = call(client, login, "POST", f"/api/key-areas/{area_id}/proposals", {
        "version": 2, "to_status": "achieved", "event_date": "2024-12-10", "reason": "Đạt tiêu chí",
        "document_number": "45/BC"})
    assert proposal.status_code == 201
    listed = client.get("/api/key-areas").get_json()["features"][0]["properties"]
    assert listed["pending_to"] == "achieved"
    client.post("/logout", data={"csrf_token": login.csrf_token})
    login("planner")
    pending = client.get("/api/key-area-proposals?state=pending").get_json()["proposals"]
    assert [p["id"] for p in pending] == [proposal.get_json()["id"]]
    decided = call(client, login, "POST", f"/api/key-area-proposals/{pending[0]['id']}/decision",
                   {"version": pending[0]["version"], "decision": "approve"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    targets = client.get("/api/key-areas/targets?year=2024").get_json()
    assert targets["province"]["achieved_share"] == 1.0 and targets["province"]["achieved_status"] == "on_track"
    assert targets["districts"]["869"]["selected"] == 1


def test_invalid_transition_is_422_and_changes_nothing(client, login, db):
    area_id = make_area(db)
    login("planner")
    before = snapshot(db)
    response = call(client, login, "POST", f"/api/key-areas/{area_id}/transitions", {
        "version": 1, "to_status": "relapsed", "event_date": "2024-06-01", "reason": "x", "document_number": "1"})
    assert response.status_code == 422 and "Không thể chuyển" in response.get_json()["error"]
    assert snapshot(db) == before


def test_non_json_body_refused(client, login, db):
    area_id = make_area(db)
    login("planner")
    response = client.post(f"/api/key-areas/{area_id}/transitions", data="x=1",
                           headers={"X-CSRFToken": login.csrf_token})
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_district_drug_status_via_the_api_is_a_proposal(client, login, db):
    login("district_869")
    proposed = call(client, login, "POST", "/api/drug-status", {"commune_code": SA_RAI, "year": 2024,
                                                                  "indicators": {"residents": 9800}})
    assert proposed.status_code == 202 and proposed.get_json()["state"] == "pending"
    assert client.get("/api/drug-status?year=2024").get_json()["records"] == []
    warned = call(client, login, "POST", "/api/drug-status", {"commune_code": SA_RAI, "year": 2023,
                                                                "indicators": {"residents": 10, "addicts": 30}})
    assert warned.status_code == 422 and warned.get_json()["warnings"]
    listed = client.get("/api/drug-status/proposals?state=pending").get_json()["proposals"]
    assert [p["id"] for p in listed] == [proposed.get_json()["id"]]
    login("planner")
    decided = call(client, login, "POST", f"/api/drug-status/proposals/{listed[0]['id']}/decision",
                   {"version": listed[0]["version"], "decision": "approve"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    assert [r["status"] for r in client.get("/api/drug-status?year=2024").get_json()["records"]] == ["drug_free"]
    for lang, wording in (("vi", "Số người nghiện (30) lớn hơn số dân (10)"),
                          ("en", "Addicts (30) outnumber the residents (10)")):
        warned = call(client, login, "POST", f"/api/drug-status?lang={lang}",
                      {"commune_code": SA_RAI, "year": 2023, "indicators": {"residents": 10, "addicts": 30}})
        assert warned.status_code == 422 and warned.get_json()["warnings"] == [wording]
        assert (wording in warned.get_json()["error"]) and (lang == "vi") == ("Số liệu" in warned.get_json()["error"])


def test_drug_status_api_round_trip(client, login, db):
    login("planner")
    first = call(client, login, "POST", "/api/drug-status", {"commune_code": SA_RAI, "year": 2024,
                                                               "indicators": {"residents": 9800}})
    assert first.status_code == 200 and first.get_json()["status"] == "drug_free"
    second = call(client, login, "POST", "/api/drug-status", {
        "commune_code": SA_RAI, "year": 2025, "indicators": {"residents": 9800, "addicts": 3}})
    assert second.get_json()["rule_document_number"] == "28/2025/QĐ-TTg"
    stale = call(client, login, "POST", "/api/drug-status", {"commune_code": SA_RAI, "year": 2024,
                                                               "indicators": {"residents": 1}})
    assert stale.status_code == 409  # updating needs the version read
    comparison = client.get("/api/drug-status/comparison?year=2025").get_json()
    assert comparison["total"]["lost_drug_free"] == 1 and comparison["districts"]["869"]["compared"] == 1
    records = client.get("/api/drug-status?year=2025").get_json()["records"]
    assert [r["commune_code"] for r in records] == [SA_RAI]


def test_rule_set_versions_api(client, login):
    login("planner")
    sets = client.get("/api/drug-status/rule-sets").get_json()["rule_sets"]
    assert [s["document_number"] for s in sets] == ["3122/2010/QĐ-BCA", "28/2025/QĐ-TTg"]
    definition = dict(sets[1], effective_from="2026-01-01", document_number="28/2025/QĐ-TTg (sửa đổi)")
    added = call(client, login, "POST", "/api/drug-status/rule-sets", {"definition": definition, "reason": "Cập nhật"})
    assert added.status_code == 201
    again = call(client, login, "POST", "/api/drug-status/rule-sets", {"definition": definition})
    assert again.status_code == 409
    assert len(client.get("/api/drug-status/rule-sets").get_json()["rule_sets"]) == 3


def test_key_area_refusals_are_worded_in_the_request_language(client, login, db):
    """The store's key-area refusals carry catalog messages: an English request reads them in English,
    a Vietnamese one in Vietnamese, with the same parameters (here a stale version)."""
    login("district_869")
    created = call(client, login, "POST", "/api/key-areas", {
        "name": "Chợ Sa Rài", "kind": "market", "year_selected": 2024, "complexity_types": ["theft"],
        "decision_number": "12/QĐ-BCĐ138", "decision_date": "2024-03-01", "geometry": sa_rai_square(db)})
    area = created.get_json()
    assert call(client, login, "PATCH", f"/api/key-areas/{area['id']}", {"version": 1, "notes": "a"}).status_code == 200
    english = call(client, login, "PATCH", f"/api/key-areas/{area['id']}?lang=en", {"version": 1, "notes": "b"})
    vietnamese = call(client, login, "PATCH", f"/api/key-areas/{area['id']}?lang=vi", {"version": 1, "notes": "b"})
    assert english.status_code == vietnamese.status_code == 409
    assert english.get_json()["error"].startswith("Conflict: key area “Chợ Sa Rài” was just updated by district_869")
    assert "version 2; you are editing version 1" in english.get_json()["error"]
    assert vietnamese.get_json()["error"].startswith("Xung đột: địa bàn “Chợ Sa Rài” vừa được district_869 cập nhật")
    missing = call(client, login, "GET", "/api/key-areas/99999?lang=en")
    assert missing.status_code == 404 and missing.get_json()["error"].startswith("Key area not found")
