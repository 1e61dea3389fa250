"""Work that waits (issue #12 point 8): planners see in the menu how many proposals wait for them; a
committee sees the decisions taken on its own proposals, in Vietnam time."""
from __future__ import annotations

import re
from datetime import date, datetime

from store import drug_status as ds
from store import key_areas as ka
from store.work_queue import decisions_for_unit, pending_counts
from tests.tracker_helpers import DISTRICT_866, DISTRICT_869, GUARD, PLANNER, SA_RAI, make_area


def propose_key_area(db, area_id, actor=DISTRICT_869):
    with db.transaction() as session:
        p = ka.propose_transition(session, actor, area_id, expected_version=1, to_status="converting",
                                  event_date=date(2024, 5, 1), reason="Đã triển khai", document_number="5/BC")
        return p.id, p.version


def propose_drugs(db, actor=DISTRICT_869):
    with db.transaction() as session:
        p = ds.propose_drug_status(session, actor, commune_code=SA_RAI, year=2024, indicators={"residents": 9000})
        return p.id, p.version


def menu_badges(html: str) -> dict[str, str]:
    return dict(re.findall(r'href="/([a-z-]+)#pending"[^>]*>[^<]*<span class="nav-badge"[^>]*>(\d+)</span>', html))


def test_pending_counts_per_kind_exclude_own_and_decided(db):
    area_id = make_area(db)
    other_id = make_area(db, name="Ấp Gò Da")
    propose_key_area(db, area_id)
    propose_drugs(db)
    with db.transaction() as session:
        assert pending_counts(session, PLANNER).key_areas == 1
        assert pending_counts(session, PLANNER).drug_status == 1
        assert pending_counts(session, DISTRICT_869) is None and pending_counts(session, GUARD) is None
    mine, version = propose_key_area(db, other_id, actor=PLANNER)
    with db.transaction() as session:
        assert pending_counts(session, PLANNER).key_areas == 1  # a planner never decides their own
        ka.decide_proposal(session, _admin(), mine,
                           expected_version=version, approve=True)
    with db.transaction() as session:
        counts = pending_counts(session, _admin())
        assert (counts.key_areas, counts.drug_status, counts.total) == (1, 1, 2)


def _admin():
    from tests.tracker_helpers import ADMIN

    return ADMIN


def test_menu_shows_planner_the_waiting_proposals_and_nobody_else(client, login, db):
    area_id = make_area(db)
    propose_key_area(db, area_id)
    propose_drugs(db)
    login("planner")
    page = client.get("/targets").get_data(as_text=True)
    assert menu_badges(page) == {"key-areas": "1", "drug-status": "1"}
    assert "1 đề xuất chờ duyệt" in page
    assert 'id="pending"' in client.get("/key-areas").get_data(as_text=True)
    for username in ("guard", "district_869"):
        login(username)
        assert menu_badges(client.get("/targets").get_data(as_text=True)) == {}


def test_menu_badge_disappears_once_decided(client, login, db):
    area_id = make_area(db)
    proposal_id, version = propose_key_area(db, area_id)
    with db.transaction() as session:
        ka.decide_proposal(session, PLANNER, proposal_id, expected_version=version, approve=False,
                           note="Thiếu biên bản")
    login("planner")
    assert menu_badges(client.get("/targets").get_data(as_text=True)) == {}


def test_committee_sees_the_decisions_on_its_own_proposals(client, login, db):
    area_id = make_area(db)
    ka_id, ka_version = propose_key_area(db, area_id)
    ds_id, ds_version = propose_drugs(db)
    with db.transaction() as session:
        ka.decide_proposal(session, PLANNER, ka_id, expected_version=ka_version, approve=False,
                           note="Thiếu biên bản <họp>")
        ds.decide_drug_status_proposal(session, PLANNER, ds_id, expected_version=ds_version, approve=True)
        stamp = session.get(ka.KeyAreaProposal, ka_id).decided_at
    with db.transaction() as session:
        decisions = decisions_for_unit(session, DISTRICT_869)
        assert {(d.kind, d.state) for d in decisions} == {("key_area", "rejected"), ("drug_status", "approved")}
        assert decisions_for_unit(session, DISTRICT_866) == []  # another district's committee
        assert decisions_for_unit(session, PLANNER) == []
        assert decisions_for_unit(session, DISTRICT_869, since=date(2999, 1, 1)) == []
    login("district_869")
    page = client.get("/key-areas").get_data(as_text=True)
    assert 'id="decisions-table"' in page and "Từ chối" in page
    assert "Thiếu biên bản &lt;họp&gt;" in page  # the note, escaped
    local = stamp.replace(hour=(stamp.hour + 7) % 24)  # Vietnam time, UTC+7
    assert f"{local.hour:02d}:{stamp.minute:02d}" in page
    assert 'data-kind="drug_status"' not in page  # each page lists its own kind
    drugs = client.get("/drug-status?year=2024").get_data(as_text=True)
    assert 'data-kind="drug_status"' in drugs and "Đã duyệt" in drugs
    login("planner")
    assert 'id="decisions"' not in client.get("/key-areas").get_data(as_text=True)


def test_committee_with_no_decided_proposal_is_told_so(client, login):
    login("district_866")
    assert "Chưa có đề xuất nào của đơn vị được xử lý." in client.get("/key-areas").get_data(as_text=True)


def test_vietnam_time_text_converts_from_utc():
    from web import vietnam_time_text

    assert vietnam_time_text(datetime(2026, 11, 30, 20, 5)) == "01/12/2026 03:05"
    assert vietnam_time_text(None) == ""
