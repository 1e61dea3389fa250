"""Key areas: lifecycle, maker-checker, optimistic concurrency, audit, geometry checks, targets, pages."""
from __future__ import annotations

import json
from datetime import date

import pytest
import shapely
from shapely.geometry import Point, box

from store import key_areas as ka
from tests.tracker_helpers import (CAO_LANH_CITY, DISTRICT_866, DISTRICT_869, GUARD, PHUONG_1, PLANNER, SA_RAI,
                                   TAN_HONG, make_area, snapshot)


def area_row(db, area_id):
    with db.transaction() as session:
        return ka.area_snapshot(session.get(ka.KeyArea, area_id))


def audit_rows(db, action=None):
    from sqlalchemy import select

    from store.models import AuditLog

    with db.transaction() as session:
        query = select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        return [(r.username, r.action, r.entity, r.entity_id, json.loads(r.before or "null"),
                 json.loads(r.after or "null"), r.reason) for r in session.scalars(query)]


# --- pure rules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("start, end", [("selected", "converting"), ("converting", "achieved"),
                                        ("converting", "not_achieved"), ("achieved", "relapsed")])
def test_allowed_transitions(start, end):
    ka.check_transition(start, end)


@pytest.mark.parametrize("start, end", [("selected", "achieved"), ("selected", "relapsed"),
                                        ("converting", "relapsed"), ("not_achieved", "relapsed"),
                                        ("relapsed", "achieved"), ("achieved", "converting"),
                                        ("achieved", "not_achieved"), ("converting", "selected")])
def test_invalid_transitions_refused_with_vietnamese_message(start, end):
    with pytest.raises(ka.InvalidTransition, match="Không thể chuyển từ") as info:
        ka.check_transition(start, end)
    assert "Không có thay đổi nào được lưu" in str(info.value)


def test_unknown_status_refused():
    with pytest.raises(ka.InvalidTransition, match="không tồn tại"):
        ka.check_transition("selected", "done")


def test_conversion_shares_counts_relapsed_as_achieved_once():
    shares = ka.conversion_shares(["achieved"] * 5 + ["relapsed"] + ["not_achieved"] * 3 + ["converting"])
    assert shares.selected == 10 and shares.ever_achieved == 6 and shares.relapsed == 1
    assert shares.achieved_share == pytest.approx(0.6)
    assert shares.achieved_status == "on_track"
    assert shares.not_relapsed_share == pytest.approx(5 / 6)
    assert shares.not_relapsed_status == "at_risk"  # 83 % < 85 %


def test_conversion_shares_missed_when_target_out_of_reach():
    at_risk = ka.conversion_shares(["achieved", "converting", "not_achieved"])  # best case 2/3 ≥ 60 %
    missed = ka.conversion_shares(["achieved", "not_achieved", "not_achieved"])  # best case 1/3
    assert at_risk.achieved_status == "at_risk" and missed.achieved_status == "missed"


def test_conversion_shares_empty_group_has_no_data():
    shares = ka.conversion_shares([])
    assert shares.achieved_share is None and shares.achieved_status == "no_data"
    assert shares.not_relapsed_status == "no_data"


def test_conversion_shares_targets_are_parameters():
    assert ka.conversion_shares(["achieved", "not_achieved"], achieved_target=0.5).achieved_status == "on_track"
    with pytest.raises(ValueError, match="'done'"):
        ka.conversion_shares(["done"])


def test_conversion_table_groups_by_district_and_year():
    records = [{"year_selected": 2024, "district_code": "869", "status": "achieved"},
               {"year_selected": 2024, "district_code": "869", "status": "relapsed"},
               {"year_selected": 2024, "district_code": "866", "status": "not_achieved"},
               {"year_selected": 2023, "district_code": "866", "status": "achieved"}]
    table = ka.conversion_table(records, 2024)
    assert set(table) == {"869", "866", "province"}
    assert table["869"].achieved_share == 1.0 and table["869"].not_relapsed_share == 0.5
    assert table["province"].selected == 3


# --- store: create, transitions, audit ----------------------------------------------------------------------
def test_create_from_commune_writes_timeline_and_audit(db):
    area_id = make_area(db)
    row = area_row(db, area_id)
    assert row["status"] == "selected" and row["version"] == 1 and row["geometry_source"] == "commune"
    creates = audit_rows(db, "key_area.create")
    assert creates[-1][0] == "planner" and creates[-1][5]["name"] == "Thị trấn Sa Rài"
    with db.transaction() as session:
        assert [e.to_status for e in ka.timeline(session, area_id)] == ["selected"]


def test_full_lifecycle_with_dates_reasons_and_documents(db):
    area_id = make_area(db, status_path=("converting", "achieved", "relapsed"))
    with db.transaction() as session:
        events = ka.timeline(session, area_id)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "selected"), ("selected", "converting"), ("converting", "achieved"), ("achieved", "relapsed")]
    assert all(e.document_number and e.reason for e in events)
    transitions = audit_rows(db, "key_area.transition")
    assert [(b["status"], a["status"]) for _, _, _, _, b, a, _ in transitions] == [
        ("selected", "converting"), ("converting", "achieved"), ("achieved", "relapsed")]
    assert area_row(db, area_id)["version"] == 4


def test_invalid_transition_changes_nothing(db):
    area_id = make_area(db)
    before = snapshot(db)
    with pytest.raises(ka.InvalidTransition, match="“Đã lựa chọn” sang “Chuyển hóa đạt”"):
        with db.transaction() as session:
            ka.transition_key_area(session, PLANNER, area_id, expected_version=1, to_status="achieved",
                                   event_date=date(2024, 5, 1), reason="x", document_number="1/BC")
    assert snapshot(db) == before


@pytest.mark.parametrize("field, value, message", [
    ("reason", "  ", "Thiếu lý do"), ("document_number", "", "Thiếu số văn bản"),
    ("event_date", "2024-13-01", "không phải ngày hợp lệ"), ("event_date", "2023-01-01", "trước ngày quyết định"),
    ("event_date", "2999-01-01", "tương lai")])
def test_transition_needs_date_reason_and_document(db, field, value, message):
    area_id = make_area(db)
    args = {"reason": "Đủ tiêu chí", "document_number": "5/BC", "event_date": "2024-06-01", field: value}
    with pytest.raises(ka.TrackerError, match=message):
        with db.transaction() as session:
            ka.transition_key_area(session, PLANNER, area_id, expected_version=1, to_status="converting", **args)
    assert area_row(db, area_id)["status"] == "selected"


# --- maker-checker --------------------------------------------------------------------------------------------
def propose(db, actor, area_id, to_status="converting", version=1):
    with db.transaction() as session:
        p = ka.propose_transition(session, actor, area_id, expected_version=version, to_status=to_status,
                                  event_date="2024-06-01", reason="Đã triển khai mô hình tự quản",
                                  document_number="45/TTr-BCĐ")
        return p.id, p.version


def decide(db, actor, proposal_id, version, approve=True, note=""):
    with db.transaction() as session:
        return ka.proposal_snapshot(ka.decide_proposal(session, actor, proposal_id, expected_version=version,
                                                       approve=approve, note=note))


def test_district_proposes_and_planner_approves(db):
    area_id = make_area(db)
    proposal_id, version = propose(db, DISTRICT_869, area_id)
    assert area_row(db, area_id)["status"] == "selected"  # nothing changes before approval
    result = decide(db, PLANNER, proposal_id, version)
    assert result["state"] == "approved" and result["decided_by"] == "planner"
    row = area_row(db, area_id)
    assert row["status"] == "converting" and row["status_date"] == "2024-06-01"
    with db.transaction() as session:
        last = ka.timeline(session, area_id)[-1]
    assert (last.username, last.approved_by, last.proposal_id) == ("district_869", "planner", proposal_id)
    actions = [a[1] for a in audit_rows(db) if a[1].startswith("key_area.")]
    assert actions[-3:] == ["key_area.propose", "key_area.approve", "key_area.transition"]


def test_rejection_needs_a_note_and_leaves_status(db):
    area_id = make_area(db)
    proposal_id, version = propose(db, DISTRICT_869, area_id)
    with pytest.raises(ka.TrackerError, match="Thiếu ý kiến"):
        decide(db, PLANNER, proposal_id, version, approve=False)
    result = decide(db, PLANNER, proposal_id, version, approve=False, note="Chưa đủ hồ sơ")
    assert result["state"] == "rejected" and area_row(db, area_id)["status"] == "selected"


def test_district_cannot_propose_for_another_district(db):
    area_id = make_area(db)
    before = snapshot(db)
    with pytest.raises(ka.NotFound):  # it cannot even see it
        propose(db, DISTRICT_866, area_id)
    assert snapshot(db) == before


def test_district_and_guard_cannot_approve_and_nobody_approves_own_proposal(db):
    area_id = make_area(db)
    proposal_id, version = propose(db, PLANNER, area_id)
    before = snapshot(db)
    for actor in (DISTRICT_869, GUARD):
        with pytest.raises(ka.PermissionDenied):
            decide(db, actor, proposal_id, version)
    with pytest.raises(ka.PermissionDenied, match="không được tự duyệt"):
        decide(db, PLANNER, proposal_id, version)
    assert snapshot(db) == before


def test_guard_cannot_create_or_propose(db):
    area_id = make_area(db)
    with pytest.raises(ka.PermissionDenied):
        propose(db, GUARD, area_id)
    with pytest.raises(ka.PermissionDenied):
        make_area(db, actor=GUARD)


def test_invalid_proposal_refused_before_it_is_stored(db):
    area_id = make_area(db)
    before = snapshot(db)
    with pytest.raises(ka.InvalidTransition):
        propose(db, DISTRICT_869, area_id, to_status="relapsed")
    assert snapshot(db) == before


def test_second_pending_proposal_refused(db):
    area_id = make_area(db)
    propose(db, DISTRICT_869, area_id)
    with pytest.raises(ka.ConflictError, match="đang chờ duyệt"):
        propose(db, DISTRICT_869, area_id)


def test_approving_twice_is_a_conflict(db):
    area_id = make_area(db)
    proposal_id, version = propose(db, DISTRICT_869, area_id)
    decide(db, PLANNER, proposal_id, version)
    with pytest.raises(ka.ConflictError):
        decide(db, ka_admin(), proposal_id, version)
    assert area_row(db, area_id)["version"] == 2


def ka_admin():
    from tests.tracker_helpers import ADMIN

    return ADMIN


def test_stale_proposal_cannot_be_approved_after_status_moved(db):
    area_id = make_area(db)
    proposal_id, version = propose(db, DISTRICT_869, area_id)
    with pytest.raises(ka.TrackerError, match="đề xuất chờ duyệt"):  # a direct change must wait for the proposal
        with db.transaction() as session:
            ka.transition_key_area(session, PLANNER, area_id, expected_version=1, to_status="converting",
                                   event_date="2024-06-02", reason="x", document_number="9/BC")


# --- optimistic concurrency ----------------------------------------------------------------------------------
def test_second_editor_with_stale_version_gets_conflict_and_first_edit_survives(db):
    area_id = make_area(db)
    with db.transaction() as session:
        ka.update_key_area(session, PLANNER, area_id, expected_version=1, changes={"name": "Tên của người thứ nhất"})
    with pytest.raises(ka.ConflictError, match="Xung đột") as info:
        with db.transaction() as session:
            ka.update_key_area(session, DISTRICT_869, area_id, expected_version=1,
                               changes={"name": "Tên của người thứ hai"})
    assert "tải lại trang" in str(info.value)
    row = area_row(db, area_id)
    assert row["name"] == "Tên của người thứ nhất" and row["version"] == 2


def test_concurrent_sessions_race_is_caught_by_version_column(db):
    """Both sessions read version 1; the slower writer's UPDATE matches no row and is refused."""
    area_id = make_area(db)
    first, second = db.Session(), db.Session()
    try:
        for session in (first, second):
            ka.get_key_area(session, PLANNER, area_id)  # both load version 1
        ka.update_key_area(first, PLANNER, area_id, expected_version=1, changes={"notes": "A"})
        first.commit()
        with pytest.raises(ka.ConflictError):
            ka.update_key_area(second, PLANNER, area_id, expected_version=1, changes={"notes": "B"})
        second.rollback()
    finally:
        first.close()
        second.close()
    assert area_row(db, area_id)["notes"] == "A"


def test_conflict_on_transition_with_stale_version(db):
    area_id = make_area(db, status_path=("converting",))
    with pytest.raises(ka.ConflictError):
        with db.transaction() as session:
            ka.transition_key_area(session, PLANNER, area_id, expected_version=1, to_status="achieved",
                                   event_date="2024-12-01", reason="x", document_number="1/BC")
    assert area_row(db, area_id)["status"] == "converting"


# --- geometry ----------------------------------------------------------------------------------------------
def district_point(db, commune_code):
    from store.boundaries import communes_frame

    with db.transaction() as session:
        frame = communes_frame(session)
    return frame.loc[frame["commune_code"] == commune_code, "geometry"].iloc[0].representative_point()


def create_with_geometry(db, geometry, actor=DISTRICT_869, district=TAN_HONG):
    with db.transaction() as session:
        return ka.create_key_area(session, actor, name="Chợ Sa Rài", kind="market", district_code=district,
                                  year_selected=2024, complexity_types=["theft", "gambling"],
                                  decision_number="3/QĐ", geometry=geometry).id


def test_drawn_polygon_inside_district_accepted(db):
    point = district_point(db, SA_RAI)
    area_id = create_with_geometry(db, point.buffer(0.003))
    row = area_row(db, area_id)
    assert row["geometry_source"] == "drawn" and row["commune_code"] is None


def test_polygon_outside_district_refused(db):
    point = district_point(db, PHUONG_1)  # in TP Cao Lãnh, not Tân Hồng
    before = snapshot(db)
    with pytest.raises(ka.TrackerError, match="nằm ngoài Huyện Tân Hồng"):
        create_with_geometry(db, point.buffer(0.003))
    assert snapshot(db) == before


def test_self_intersecting_polygon_refused(db):
    p = district_point(db, SA_RAI)
    bowtie = shapely.Polygon([(p.x, p.y), (p.x + .01, p.y + .01), (p.x + .01, p.y), (p.x, p.y + .01)])
    with pytest.raises(ka.TrackerError, match="không hợp lệ"):
        create_with_geometry(db, bowtie)


def test_point_refused_as_area(db):
    with pytest.raises(ka.TrackerError, match="Polygon"):
        create_with_geometry(db, district_point(db, SA_RAI))


def test_district_cannot_create_in_other_district(db):
    with pytest.raises(ka.PermissionDenied):
        create_with_geometry(db, district_point(db, PHUONG_1).buffer(0.003), district=CAO_LANH_CITY)


def test_commune_of_other_district_refused(db):
    with pytest.raises(ka.TrackerError, match="không thuộc huyện"):
        make_area(db, commune=PHUONG_1)


def test_parse_geojson_feature_collection_and_kml():
    from geo.key_area_geometry import parse_geojson, parse_kml, read_area_file

    square = box(105.45, 10.87, 105.46, 10.88)
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(square)}]}
    assert parse_geojson(json.dumps(collection)).equals(square)
    kml = ("<?xml version='1.0'?><kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><Polygon><outerBoundaryIs>"
           "<LinearRing><coordinates>105.45,10.87,0 105.46,10.87,0 105.46,10.88,0 105.45,10.88,0 105.45,10.87,0"
           "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>")
    assert parse_kml(kml).equals(square)
    assert read_area_file("cho.KML", kml.encode()).equals(square)


@pytest.mark.parametrize("name, content, message", [
    ("a.geojson", b"{not json", "not valid GeoJSON"),
    ("a.kml", b"<kml><Polygon></Polygon></kml>", "outerBoundaryIs"),
    ("a.shp", b"", "must end with"),
    ("a.geojson", b'{"type": "LineString", "coordinates": [[105.4, 10.8], [105.5, 10.9]]}', "LineString"),
])
def test_bad_uploads_refused(name, content, message):
    from geo.errors import GeoInputError
    from geo.key_area_geometry import read_area_file

    with pytest.raises(GeoInputError, match=message):
        read_area_file(name, content)


# --- pages ----------------------------------------------------------------------------------------------------
def test_page_lists_areas_with_status_and_targets(client, login, db):
    make_area(db, status_path=("converting", "achieved"))
    login("planner")
    page = client.get("/key-areas?year=2024").get_data(as_text=True)
    assert "Thị trấn Sa Rài" in page and "Chuyển hóa đạt" in page
    assert 'id="ka-targets"' in page and "100%" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_district_user_sees_only_own_district(client, login, db):
    mine = make_area(db)
    other = make_area(db, district=CAO_LANH_CITY, commune=PHUONG_1, name="Phường 1 trọng điểm")
    login("district_869")
    page = client.get("/key-areas").get_data(as_text=True)
    assert "Thị trấn Sa Rài" in page and "Phường 1 trọng điểm" not in page
    assert client.get(f"/key-areas/{mine}").status_code == 200
    assert client.get(f"/key-areas/{other}").status_code == 404


def test_district_page_lists_allowed_actions(client, login, db):
    make_area(db, status_path=("converting", "not_achieved"), name="Xong rồi")
    make_area(db, name="Còn đi tiếp")
    login("district_869")
    page = client.get("/key-areas/district").get_data(as_text=True)
    assert "Còn đi tiếp" in page and "Gửi đề xuất: Đang chuyển hóa" in page
    assert "Trạng thái cuối" in page  # the not-achieved area has no action left


def test_propose_and_approve_through_pages(client, login, db):
    area_id = make_area(db)
    login("district_869")
    response = client.post(f"/key-areas/{area_id}/propose", data={
        "csrf_token": login.csrf_token, "version": "1", "to_status": "converting", "event_date": "2024-06-01",
        "reason": "Mô hình tự quản đã chạy", "document_number": "45/TTr"})
    assert response.status_code == 303
    assert "Đang có đề xuất chờ duyệt" in client.get(f"/key-areas/{area_id}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": login.csrf_token})
    login("planner")
    with db.transaction() as session:
        proposal = ka.pending_proposal(session, area_id)
    response = client.post(f"/key-areas/proposals/{proposal.id}/decide", data={
        "csrf_token": login.csrf_token, "version": str(proposal.version), "decision": "approve"})
    assert response.status_code == 303
    assert area_row(db, area_id)["status"] == "converting"


def test_invalid_transition_page_shows_message_and_changes_nothing(client, login, db):
    area_id = make_area(db)
    login("planner")
    before = snapshot(db)
    response = client.post(f"/key-areas/{area_id}/transition", data={
        "csrf_token": login.csrf_token, "version": "1", "to_status": "relapsed", "event_date": "2024-06-01",
        "reason": "x", "document_number": "1/BC"})
    assert response.status_code == 422
    assert "Không thể chuyển từ “Đã lựa chọn” sang “Tái phức tạp”" in response.get_data(as_text=True)
    assert snapshot(db) == before


def test_concurrent_edit_through_pages_gives_conflict(app, db):
    from tests.conftest import SignIn

    area_id = make_area(db)
    first, second = app.test_client(), app.test_client()
    login_first, login_second = SignIn(first), SignIn(second)
    login_first("planner")
    login_second("district_869")
    data = {"version": "1", "kind": "commune", "complexity_types": ["drugs"], "decision_number": "12/QĐ-BCĐ138",
            "reason": "sửa"}
    ok = first.post(f"/key-areas/{area_id}/edit", data={**data, "name": "Tên A", "csrf_token": login_first.csrf_token})
    assert ok.status_code == 303
    conflict = second.post(f"/key-areas/{area_id}/edit",
                           data={**data, "name": "Tên B", "csrf_token": login_second.csrf_token})
    assert conflict.status_code == 409
    assert "Xung đột" in conflict.get_data(as_text=True)
    assert area_row(db, area_id)["name"] == "Tên A"


def test_new_area_drawn_on_map_through_page(client, login, db):
    login("district_869")
    page = client.get("/key-areas/new").get_data(as_text=True)
    assert "/vendor/leaflet-draw/dist/leaflet.draw.js" in page and "cdnjs" not in page
    point = district_point(db, SA_RAI)
    drawn = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(point.buffer(0.002))}]}
    response = client.post("/key-areas/new", data={
        "csrf_token": login.csrf_token, "name": "Bến đò Sa Rài", "kind": "wharf", "year_selected": "2024",
        "complexity_types": ["drugs", "smuggling"], "decision_number": "7/QĐ", "geometry": json.dumps(drawn)})
    assert response.status_code == 303
    area_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = area_row(db, area_id)
    assert row["district_code"] == TAN_HONG and row["geometry_source"] == "drawn"


def test_new_area_uploaded_outside_district_refused_on_page(client, login, db):
    import io

    login("district_869")
    outside = shapely.geometry.mapping(district_point(db, PHUONG_1).buffer(0.002))
    before = snapshot(db)
    response = client.post("/key-areas/new", content_type="multipart/form-data", data={
        "csrf_token": login.csrf_token, "name": "Ngoài huyện", "kind": "market", "year_selected": "2024",
        "complexity_types": ["theft"], "decision_number": "7/QĐ",
        "geometry_file": (io.BytesIO(json.dumps(outside).encode()), "ngoai.geojson")})
    assert response.status_code == 400
    assert "nằm ngoài Huyện Tân Hồng" in response.get_data(as_text=True)
    assert snapshot(db) == before


# --- escaping ---------------------------------------------------------------------------------------------
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_text_is_escaped_in_pages_map_script_and_api(client, login, db):
    area_id = make_area(db, name=EVIL)
    with db.transaction() as session:
        ka.propose_transition(session, DISTRICT_869, area_id, expected_version=1, to_status="converting",
                              event_date="2024-06-01", reason=EVIL, document_number=EVIL)
    login("planner")
    for url in ("/key-areas", f"/key-areas/{area_id}", "/key-areas/district?district=869"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
        for script_url in set(__import__("re").findall(r'src="(/tracker-maps/[^"]+)"', page)):
            script = client.get(script_url).get_data(as_text=True)
            assert "<script>alert" not in script and "<img src=x" not in script and "</script>" not in script
            # folium writes the data as JSON with <, > and & as \u escapes; the text inside is HTML-escaped
            assert "\\u0026lt;script\\u0026gt;" in script


def test_layer_popups_escape_every_value():
    from layers.key_areas import area_texts

    tip, popup = area_texts({"name": EVIL, "status_label": EVIL, "kind_label": "Chợ", "district_name": EVIL,
                             "types_label": EVIL, "decision_number": EVIL, "pending_to": "achieved",
                             "pending_label": EVIL, "pending_by": EVIL, "year_selected": 2024, "id": 1})
    for html in (tip, popup):
        assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_map_shows_pending_proposals_distinctly():
    import folium

    from layers.key_areas import PENDING_COLOR, add_key_areas

    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(Point(105.4, 10.8).buffer(0.01)),
               "properties": {"id": 1, "name": "A", "status": "converting", "status_label": "Đang chuyển hóa",
                              "pending_to": "achieved", "pending_label": "Chuyển hóa đạt", "pending_by": "d"}}
    m = folium.Map(tiles=None)
    add_key_areas(m, [feature])
    html = m.get_root().render()
    assert PENDING_COLOR in html and "8 6" in html  # dashed amber outline layer
    assert "Đề xuất chờ duyệt" in html


def test_seed_demo_adds_illustrative_areas_at_every_stage_and_drug_statuses(runner, db):
    from sqlalchemy import Integer, cast, func, select

    from store.drug_status import CommuneDrugStatus

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "illustrative key areas" in result.output
    with db.transaction() as session:
        areas = session.scalars(select(ka.KeyArea)).all()
        pending = ka.proposals(session, None, state=ka.PENDING)
        statuses = session.execute(select(CommuneDrugStatus.year, func.count(), func.min(cast(CommuneDrugStatus.is_demo, Integer)))
                                   .group_by(CommuneDrugStatus.year)).all()
    assert all(a.is_demo and "minh họa" in a.name for a in areas)
    for year in (2023, 2024):
        per_district = {}
        for a in areas:
            if a.year_selected == year:
                per_district[a.district_code] = per_district.get(a.district_code, 0) + 1
        assert len(per_district) == 12 and set(per_district.values()) <= {1, 2}
    assert {a.status for a in areas} == set(ka.STATUSES)
    assert pending
    assert sorted((y, n, bool(demo)) for y, n, demo in statuses) == [(2023, 143, True), (2024, 143, True), (2025, 143, True)]
    again = runner.invoke(args=["seed-demo"])
    assert "already present" in again.output


def test_a_relapsed_area_is_selected_again_as_a_new_cycle_linked_to_the_earlier(db):
    from store import key_areas as ka
    from tests.tracker_helpers import PLANNER, make_area

    area_id = make_area(db, status_path=("converting", "achieved", "relapsed"), year=2024)
    with db.transaction() as session:
        with pytest.raises(ka.TrackerError, match="năm sau"):
            ka.reselect_key_area(session, PLANNER, area_id, year_selected=2024, decision_number="5/QĐ")
    with db.transaction() as session:
        cycle = ka.reselect_key_area(session, PLANNER, area_id, year_selected=2025, decision_number="5/QĐ-BCĐ138",
                                     decision_date="2025-02-01")
        new_id = cycle.id
        assert (cycle.status, cycle.year_selected, cycle.previous_cycle_id) == ("selected", 2025, area_id)
        old = session.get(ka.KeyArea, area_id)
        assert old.status == "relapsed"  # the earlier cycle keeps its record
        assert [c.id for c in ka.cycles(session, old)] == [area_id, new_id]
        assert [c.id for c in ka.cycles(session, cycle)] == [area_id, new_id]
        # the 2024 targets still count the relapse; 2025 counts the new selection
        assert ka.conversion_table(ka.key_area_records(session, PLANNER), 2024)["province"].relapsed == 1
        assert ka.conversion_table(ka.key_area_records(session, PLANNER), 2025)["province"].selected == 1
    with db.transaction() as session:
        with pytest.raises(ka.ConflictError, match="lựa chọn lại"):
            ka.reselect_key_area(session, PLANNER, area_id, year_selected=2026, decision_number="6/QĐ")
    with db.transaction() as session:
        with pytest.raises(ka.InvalidTransition, match="tái phức tạp"):
            ka.reselect_key_area(session, PLANNER, new_id, year_selected=2026, decision_number="6/QĐ")


def test_reselect_from_the_detail_page_and_the_api(client, login, db):
    import json

    from tests.tracker_helpers import make_area

    area_id = make_area(db, status_path=("converting", "achieved", "relapsed"), year=2024)
    login("district_869")
    page = client.get(f"/key-areas/{area_id}").get_data(as_text=True)
    assert 'id="reselect-form"' in page
    response = client.post(f"/key-areas/{area_id}/reselect", data={
        "csrf_token": login.csrf_token, "year_selected": "2025", "decision_number": "5/QĐ-BCĐ138"})
    assert response.status_code == 303
    new_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="ka-cycles"' in new_page and f'/key-areas/{area_id}"' in new_page
    again = client.open(f"/api/key-areas/{area_id}/reselect", method="POST", content_type="application/json",
                        data=json.dumps({"year_selected": 2026, "decision_number": "7/QĐ"}),
                        headers={"X-CSRFToken": login.csrf_token})
    assert again.status_code == 409


def test_a_unit_refusal_names_the_unit_in_the_readers_language():
    from tests.tracker_helpers import DISTRICT_866 as actor

    with pytest.raises(ka.PermissionDenied) as refused:
        ka._require_edit(actor, "999")
    assert f"huyện {actor.district_code}" in refused.value.text("vi")
    assert f"(district {actor.district_code})" in refused.value.text("en") and "huyện" not in refused.value.text("en")
