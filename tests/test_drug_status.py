"""Commune drug status in the store, pages and API: classification stored with its rule set, versions,
district limits, comparison with the previous year, rule set versions, escaping."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from store import drug_status as ds
from store import key_areas as ka
from store.models import AuditLog
from tests.tracker_helpers import DISTRICT_866, DISTRICT_869, GUARD, PHUONG_1, PLANNER, SA_RAI, snapshot

CLASS_ONE_2010 = {"residents": 9000, "addicts": 120}
CLASS_ONE_2025 = {"residents": 10000, "addicts": 40, "users_with_records": 20, "drug_use_places": 2,
                  "offenders_arrested": 12}


def record(db, actor=PLANNER, commune=SA_RAI, year=2024, values=None, **kw):
    with db.transaction() as session:
        return ds.status_snapshot(ds.record_drug_status(session, actor, commune_code=commune, year=year,
                                                        indicators=values or {"residents": 9000}, **kw))


def test_classification_is_stored_with_the_rule_set_in_force(db):
    before_2025 = record(db, year=2024, values=CLASS_ONE_2010)
    assert before_2025["status"] == "key_1"
    assert before_2025["rule_document_number"] == "3122/2010/QĐ-BCA"
    after = record(db, year=2025, values=CLASS_ONE_2025)
    assert after["status"] == "key_1" and after["rule_document_number"] == "28/2025/QĐ-TTg"
    assert set(after["criteria_met"]) == {"addicts_users_share", "places", "offenders_share"}


def test_assessment_date_decides_the_rule_set_within_2025(db):
    early = record(db, year=2025, values=CLASS_ONE_2010, assessed_on="2025-06-30")
    assert early["rule_document_number"] == "3122/2010/QĐ-BCA"


def test_assessment_date_outside_year_refused(db):
    with pytest.raises(ka.TrackerError, match="không thuộc năm 2024"):
        record(db, year=2024, assessed_on="2025-01-01")


def test_update_needs_current_version_and_is_audited(db):
    first = record(db, values={"residents": 9000})
    assert first["status"] == "drug_free"
    updated = record(db, values={"residents": 9000, "users_with_records": 2}, expected_version=1, reason="Rà soát")
    assert updated["status"] == "with_drugs" and updated["version"] == 2
    with pytest.raises(ka.ConflictError, match="Xung đột"):
        record(db, values={"residents": 9000}, expected_version=1)
    from sqlalchemy import select

    from store.models import AuditLog

    with db.transaction() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity == "commune_drug_status")).all()
    assert [r.action for r in rows] == ["drug_status.create", "drug_status.update"]
    assert '"drug_free"' in rows[1].before and '"with_drugs"' in rows[1].after and rows[1].reason == "Rà soát"


def propose(db, actor=DISTRICT_869, commune=SA_RAI, year=2024, values=None, **kw):
    with db.transaction() as session:
        return ds.proposal_snapshot(ds.propose_drug_status(session, actor, commune_code=commune, year=year,
                                                           indicators=values or {"residents": 9000}, **kw))


def decide(db, proposal, actor=PLANNER, approve=True, note=""):
    with db.transaction() as session:
        return ds.proposal_snapshot(ds.decide_drug_status_proposal(session, actor, proposal["id"],
                                                                   expected_version=proposal["version"],
                                                                   approve=approve, note=note))


def test_district_entries_are_proposals_a_planner_approves(db):
    before = snapshot(db)
    with pytest.raises(ka.PermissionDenied, match="đề xuất"):
        record(db, actor=DISTRICT_869, commune=SA_RAI)  # no direct write for a district committee
    assert snapshot(db) == before
    proposal = propose(db, values={"residents": 9000, "addicts": 120})
    with db.transaction() as session:
        assert ds.drug_status_rows(session, PLANNER, year=2024) == []  # nothing recorded yet
    with pytest.raises(ka.ConflictError, match="đang chờ duyệt"):
        propose(db)  # one pending proposal per commune and year
    with pytest.raises(ka.PermissionDenied):
        decide(db, proposal, actor=DISTRICT_869)
    with pytest.raises(ka.TrackerError, match="lý do"):
        decide(db, proposal, approve=False)
    decided = decide(db, proposal)
    assert decided["state"] == "approved" and decided["decided_by"] == "planner"
    with db.transaction() as session:
        [row] = ds.drug_status_rows(session, PLANNER, year=2024)
        from sqlalchemy import select

        from store.models import AuditLog

        actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))
                   if a.entity in ("commune_drug_status", "drug_status_proposal")]
    assert (row.status, row.updated_by) == ("key_1", "planner")
    assert actions == ["drug_status.propose", "drug_status.create", "drug_status.approve"]
    with pytest.raises(ka.ConflictError, match="đã được xử lý"):
        decide(db, {**decided})


def test_rejected_proposal_writes_nothing_and_needs_a_reason(db):
    proposal = propose(db)
    decided = decide(db, proposal, approve=False, note="Số liệu chưa khớp báo cáo")
    assert decided["state"] == "rejected"
    with db.transaction() as session:
        assert ds.drug_status_rows(session, PLANNER, year=2024) == []


def test_district_proposes_only_for_its_own_communes_and_guard_not_at_all(db):
    before = snapshot(db)
    with pytest.raises(ka.PermissionDenied):
        propose(db, actor=DISTRICT_866, commune=SA_RAI)
    with pytest.raises(ka.PermissionDenied):
        propose(db, actor=GUARD, commune=PHUONG_1)
    assert snapshot(db) == before


@pytest.mark.parametrize("values, previous, fragment", [
    ({"residents": 900, "addicts": 1200}, None, "lớn hơn số dân"),
    ({"residents": 0, "addicts": 3}, None, "Số dân bằng 0"),
    ({"residents": 900, "addicts": 500, "users_with_records": 500}, None, "cộng người sử dụng"),
    ({"residents": 20000}, {"residents": 9000}, "Số dân thay đổi +122%"),
    ({"residents": 900}, {"residents": 9000}, "Số dân thay đổi −90%"),
])
def test_plausibility_warnings_must_be_confirmed_before_saving(db, values, previous, fragment):
    if previous:
        record(db, year=2023, values=previous)
    before = snapshot(db)
    with pytest.raises(ds.PlausibilityWarning) as info:
        record(db, values=values)
    worded = [w.text("vi") for w in info.value.warnings]
    assert any(fragment.replace("−", "-") in w.replace("−", "-") for w in worded), worded
    with pytest.raises(ds.PlausibilityWarning):
        propose(db, values=values)
    assert snapshot(db) == before
    proposal = propose(db, values=values, confirm_warnings=True)
    assert proposal["warnings"] == [w.as_json() for w in info.value.warnings]  # the checker sees what was confirmed
    saved = record(db, values=values, confirm_warnings=True)
    assert saved["residents"] == values["residents"]


def test_plausibility_warnings_are_worded_in_the_readers_language():
    from geo.drug_rules import DrugIndicators, plausibility_warnings

    [more] = plausibility_warnings(DrugIndicators(residents=900, addicts=1200))
    assert more.text("vi") == "Số người nghiện (1200) lớn hơn số dân (900)"
    assert more.text("en") == "Addicts (1200) outnumber the residents (900)"
    [changed] = plausibility_warnings(DrugIndicators(residents=900), DrugIndicators(residents=9000))
    assert changed.text("en") == "Residents changed by -90% since the year before (9000 → 900)"
    assert "Số dân thay đổi -90% so với năm trước" in changed.text("vi")
    error = ds.PlausibilityWarning([more, changed])
    assert error.text("en").startswith("Check these figures before saving") and "Addicts (1200)" in error.text("en")
    assert "Số dân" not in error.text("en") and "lớn hơn số dân" in str(error)


def test_a_proposal_stored_before_warnings_were_messages_keeps_its_sentences():
    assert ds.warning_text("Số dân bằng 0", "en") == "Số dân bằng 0"
    assert ds.stored_warnings('["Số dân bằng 0", {"key": "geo.drug_rules.warn.no_residents", "params": {}}]')[0] \
        == "Số dân bằng 0"
    assert ds.warning_text({"key": "geo.drug_rules.warn.no_residents", "params": {}}, "en").startswith("Residents are 0")
    assert ds.stored_warnings("not json") == [] and ds.stored_warnings('{"a": 1}') == []


def test_confirmed_warnings_are_kept_with_the_audited_figures(db):
    record(db, values={"residents": 900, "addicts": 1200}, confirm_warnings=True)
    with db.transaction() as session:
        row = session.scalars(select(AuditLog).where(AuditLog.action == "drug_status.create")).all()[-1]
    after = json.loads(row.after)
    assert [w["key"] for w in after["confirmed_warnings"]] == ["geo.drug_rules.warn.addicts_above_residents"]
    assert "xác nhận" not in row.reason


def test_plausible_figures_raise_no_warning():
    from geo.drug_rules import DrugIndicators, plausibility_warnings

    assert plausibility_warnings(DrugIndicators(residents=9000, addicts=12),
                                 DrugIndicators(residents=8000)) == []


@pytest.mark.parametrize("values, message", [({"addicts": -3}, "addicts"), ({"heroin": 1}, "heroin")])
def test_bad_indicators_refused(db, values, message):
    with pytest.raises(ka.TrackerError, match=message):
        record(db, values=values)


def test_unknown_commune_refused(db):
    with pytest.raises(ka.TrackerError, match="99999"):
        record(db, commune="99999")


def test_year_comparison_kept_and_reduced(db):
    record(db, commune=SA_RAI, year=2023, values={"residents": 9000})
    record(db, commune=SA_RAI, year=2024, values={"residents": 9000})
    record(db, commune=PHUONG_1, year=2023, values={"residents": 9000, "addicts": 3})
    record(db, commune=PHUONG_1, year=2024, values={"residents": 9000})
    with db.transaction() as session:
        comparison = ds.year_comparison(session, PLANNER, 2024)
        restricted = ds.year_comparison(session, DISTRICT_869, 2024)
    assert comparison.kept_drug_free == 1 and comparison.became_drug_free == 1
    assert comparison.with_drugs_change == -1
    assert restricted.compared == 1 and restricted.became_drug_free == 0


def test_new_rule_set_version_applies_from_its_date(db):
    from geo import drug_rules

    newer = drug_rules.with_thresholds(drug_rules.QD_3122_2010, "key_2", {"addicts": {"addicts": 20}},
                                       effective_from=date(2024, 1, 1))
    with db.transaction() as session:
        ds.add_rule_set_version(session, PLANNER, newer.to_dict(), reason="Ngưỡng được xác nhận")
    assert record(db, year=2023, values={"residents": 9000, "addicts": 25})["status"] == "key_3"
    assert record(db, year=2024, values={"residents": 9000, "addicts": 25})["status"] == "key_2"
    with pytest.raises(ka.PermissionDenied):
        with db.transaction() as session:
            ds.add_rule_set_version(session, DISTRICT_869, newer.to_dict())
    with pytest.raises(ka.TrackerError, match="min_met"):
        bad = newer.to_dict()
        bad["levels"][0]["min_met"] = 0
        bad["effective_from"] = "2024-06-01"
        with db.transaction() as session:
            ds.add_rule_set_version(session, PLANNER, bad)


def test_page_shows_comparison_rule_sets_and_escaped_notes(client, login, db):
    record(db, commune=SA_RAI, year=2023, values={"residents": 9000})
    record(db, commune=SA_RAI, year=2024, values={"residents": 9000}, notes="<script>alert(1)</script>")
    login("planner")
    page = client.get("/drug-status?year=2024").get_data(as_text=True)
    assert 'id="ds-kept">1<' in page
    assert "3122/2010/QĐ-BCA" in page and "28/2025/QĐ-TTg" in page and "chưa xác nhận" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_record_form_classifies_and_redirects(client, login, db):
    login("planner")
    response = client.post("/drug-status/record", data={
        "csrf_token": login.csrf_token, "commune_code": SA_RAI, "year": "2024", "residents": "9000",
        "addicts": "120", "reason": "Báo cáo năm"})
    assert response.status_code == 303
    with db.transaction() as session:
        row = ds.drug_status_rows(session, PLANNER, year=2024)[0]
    assert (row.commune_code, row.status, row.rule_document_number) == (SA_RAI, "key_1", "3122/2010/QĐ-BCA")


def test_district_form_sends_a_proposal_the_planner_approves_on_the_page(client, login, db):
    login("district_869")
    page = client.get(f"/drug-status/record?commune_code={SA_RAI}&year=2024").get_data(as_text=True)
    assert "Gửi đề xuất" in page and "cấp tỉnh duyệt" in page
    warned = client.post("/drug-status/record", data={
        "csrf_token": login.csrf_token, "commune_code": SA_RAI, "year": "2024", "residents": "90",
        "addicts": "120", "reason": "Báo cáo năm"})
    assert warned.status_code == 422 and 'id="ds-warnings"' in warned.get_data(as_text=True)
    assert 'name="confirm_warnings"' in warned.get_data(as_text=True)
    response = client.post("/drug-status/record", data={
        "csrf_token": login.csrf_token, "commune_code": SA_RAI, "year": "2024", "residents": "9000",
        "addicts": "120", "reason": "Báo cáo năm"})
    assert response.status_code == 303
    with db.transaction() as session:
        assert ds.drug_status_rows(session, PLANNER, year=2024) == []
        [proposal] = ds.drug_status_proposals(session, PLANNER, state="pending")
    login("planner")
    page = client.get("/drug-status?year=2024").get_data(as_text=True)
    assert 'id="ds-proposals"' in page and "district_869" in page
    decided = client.post(f"/drug-status/proposals/{proposal.id}/decision", data={
        "csrf_token": login.fresh_token(), "version": str(proposal.version), "decision": "approve"})
    assert decided.status_code == 303
    with db.transaction() as session:
        [row] = ds.drug_status_rows(session, PLANNER, year=2024)
    assert row.status == "key_1"


def test_record_form_refuses_other_district(client, login, db):
    login("district_869")
    before = snapshot(db)
    response = client.post("/drug-status/record", data={
        "csrf_token": login.csrf_token, "commune_code": PHUONG_1, "year": "2024", "residents": "9000"})
    assert response.status_code == 403
    assert snapshot(db) == before


def test_layer_escapes_names_and_notes():
    import folium
    import geopandas as gpd
    from shapely.geometry import box

    from layers.drug_status import add_drug_status

    communes = gpd.GeoDataFrame({"commune_code": ["1"], "commune_name": ["<b>X</b>"], "district_name": ["D"]},
                                geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    m = folium.Map(tiles=None)
    add_drug_status(m, communes, {"1": {"status": "key_1", "rule_document_number": "28/2025/QĐ-TTg",
                                        "notes": "<img src=x onerror=alert(1)>"}})
    html = m.get_root().render()
    assert "<img src=x" not in html and "\\u0026lt;img" in html and "\\u0026lt;b\\u0026gt;X" in html


def test_the_form_and_the_pending_list_word_warnings_in_the_pages_language(client, login, db):
    login("district_869")
    client.get("/drug-status?lang=en")
    form = {"csrf_token": login.csrf_token, "commune_code": SA_RAI, "year": "2024", "residents": "90",
            "addicts": "120", "reason": "Annual report"}
    warned = client.post("/drug-status/record", data=form).get_data(as_text=True)
    assert "Addicts (120) outnumber the residents (90)" in warned and "lớn hơn số dân" not in warned
    assert client.post("/drug-status/record", data={**form, "confirm_warnings": "1"}).status_code == 303
    login("planner")
    client.get("/drug-status?lang=vi")
    listing = client.get("/drug-status?year=2024").get_data(as_text=True)
    assert "Số người nghiện (120) lớn hơn số dân (90)" in listing
    client.get("/drug-status?lang=en")
    listing = client.get("/drug-status?year=2024").get_data(as_text=True)
    assert "Addicts (120) outnumber the residents (90)" in listing and "lớn hơn số dân" not in listing
