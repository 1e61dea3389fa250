"""Commune drug status in the store, pages and API: classification stored with its rule set, versions,
district limits, comparison with the previous year, rule set versions, escaping."""
from __future__ import annotations

from datetime import date

import pytest

from store import drug_status as ds
from store import key_areas as ka
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


def test_district_records_only_its_own_communes_and_guard_none(db):
    record(db, actor=DISTRICT_869, commune=SA_RAI)
    before = snapshot(db)
    with pytest.raises(ka.PermissionDenied):
        record(db, actor=DISTRICT_866, commune=SA_RAI, expected_version=1)
    with pytest.raises(ka.PermissionDenied):
        record(db, actor=GUARD, commune=PHUONG_1)
    assert snapshot(db) == before


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
    login("district_869")
    response = client.post("/drug-status/record", data={
        "csrf_token": login.csrf_token, "commune_code": SA_RAI, "year": "2024", "residents": "9000",
        "addicts": "120", "reason": "Báo cáo năm"})
    assert response.status_code == 303
    with db.transaction() as session:
        row = ds.drug_status_rows(session, PLANNER, year=2024)[0]
    assert (row.commune_code, row.status, row.rule_document_number) == (SA_RAI, "key_1", "3122/2010/QĐ-BCA")


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
