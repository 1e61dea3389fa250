"""Border gates: seeding, the administrator's page (add, move, delete), validation, versions, audit, CSRF."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from store.gates import BorderGate, ensure_seeded, seed_gates
from store.models import AuditLog

DINH_BA = "Cửa khẩu quốc tế Dinh Bà"
INSIDE_NEAR_BORDER = ("105.4229", "10.9500")  # about 1.8 km south of the line at Dinh Bà, in Tân Hộ Cơ
FAR_INLAND = ("105.6300", "10.4600")          # Cao Lãnh, ~50 km from the border
CAMBODIA = ("105.4229", "11.0500")            # Prey Veng, ~9 km beyond the line


def gate(db, name):
    with db.transaction() as session:
        return session.scalar(select(BorderGate).where(BorderGate.name == name))


def audit_rows(db, action=None):
    with db.transaction() as session:
        query = select(AuditLog).where(AuditLog.entity == "border_gate")
        if action:
            query = query.where(AuditLog.action == action)
        return session.scalars(query.order_by(AuditLog.id)).all()


def form(row: BorderGate | None = None, **changes):
    data = {"name": "Cửa khẩu thử", "gate_class": "secondary", "mode": "đường bộ", "counterpart_kh": "",
            "commune_code": "", "commune_name": "", "lon": "", "lat": "", "approximate": "1", "uncertainty_m": "",
            "source": "", "note": "", "reason": "kiểm thử"}
    if row is not None:
        data.update({k: ("" if getattr(row, k) is None else str(getattr(row, k)))
                     for k in ("name", "gate_class", "mode", "counterpart_kh", "commune_code", "commune_name",
                               "lon", "lat", "uncertainty_m", "source", "note")})
        data["version"] = str(row.version)
        if not row.approximate:
            data.pop("approximate")
    data.update(changes)
    return data


def test_seed_adds_four_placed_and_three_unplaced_gates_once(app, db, data_dir):
    assert ensure_seeded(db, data_dir) == 7
    assert ensure_seeded(db, data_dir) == 0
    with db.transaction() as session:
        gates = session.scalars(select(BorderGate)).all()
        assert seed_gates(session, data_dir / "boundaries" / "border_gates.geojson") == 0
    placed = [g for g in gates if g.placed]
    assert len(gates) == 7 and len(placed) == 4
    assert {g.name for g in gates if not g.placed} == {"Cửa khẩu Mộc Rá", "Cửa khẩu Á Đôn", "Cửa khẩu Bình Phú"}
    assert all(g.approximate for g in gates)
    dinh_ba = next(g for g in gates if g.name == DINH_BA)
    assert dinh_ba.gate_class == "international" and dinh_ba.uncertainty_m == 4830
    assert len(audit_rows(db, "seed")) == 7


def test_deleting_every_gate_does_not_bring_the_file_back(app, db, data_dir):
    ensure_seeded(db, data_dir)
    with db.transaction() as session:
        for row in session.scalars(select(BorderGate)).all():
            session.delete(row)
    assert ensure_seeded(db, data_dir) == 0


@pytest.mark.parametrize("username", ["guard", "planner", "district_869"])
def test_non_admin_gets_403(client, login, username, db):
    login(username)
    assert client.get("/corridor/gates").status_code == 403
    response = client.post("/corridor/gates", data=form(csrf_token=login.csrf_token))
    assert response.status_code == 403
    assert audit_rows(db, "create") == []


def test_admin_page_lists_gates_with_unplaced_marked(client, login):
    login("admin")
    html = client.get("/corridor/gates").get_data(as_text=True)
    assert DINH_BA in html and "Cửa khẩu Mộc Rá" in html
    assert html.count("chưa có tọa độ") >= 3
    assert 'name="csrf_token"' in html and 'name="version"' in html


def test_admin_moves_a_gate_with_audit_and_new_version(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    response = client.post(f"/corridor/gates/{row.id}",
                           data=form(row, lon=INSIDE_NEAR_BORDER[0], lat=INSIDE_NEAR_BORDER[1], uncertainty_m="200",
                                     csrf_token=login.csrf_token, reason="đo GPS tại chỗ"))
    assert response.status_code == 303
    moved = gate(db, DINH_BA)
    assert (moved.lon, moved.lat, moved.uncertainty_m) == (105.4229, 10.95, 200.0)
    assert moved.version == row.version + 1 and moved.updated_by == "admin"
    audit = audit_rows(db, "update")[-1]
    assert audit.username == "admin" and audit.reason == "đo GPS tại chỗ"
    assert json.loads(audit.before)["lat"] == row.lat and json.loads(audit.after)["lat"] == 10.95


def test_moved_gate_changes_the_corridor_map(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    client.post(f"/corridor/gates/{row.id}", data=form(row, lon=INSIDE_NEAR_BORDER[0], lat=INSIDE_NEAR_BORDER[1],
                                                     csrf_token=login.csrf_token))
    script = client.get("/corridor/map.js").get_data(as_text=True)
    assert "10.95," in script and "105.4229" in script


def test_placing_an_unplaced_gate(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, "Cửa khẩu Bình Phú")
    assert not row.placed
    client.post(f"/corridor/gates/{row.id}", data=form(row, lon=INSIDE_NEAR_BORDER[0], lat=INSIDE_NEAR_BORDER[1],
                                                     csrf_token=login.csrf_token))
    assert gate(db, "Cửa khẩu Bình Phú").placed
    features = client.get("/corridor/export/gates.geojson").get_json(force=True)["features"]
    assert "Cửa khẩu Bình Phú" in {f["properties"]["name"] for f in features}


@pytest.mark.parametrize("changes, message", [
    ({"lon": FAR_INLAND[0], "lat": FAR_INLAND[1]}, "cách đường biên giới"),
    ({"lon": CAMBODIA[0], "lat": CAMBODIA[1]}, "ngoài tỉnh"),
    ({"lon": "105.4", "lat": ""}, "Kinh độ và vĩ độ"),
    ({"lon": "abc", "lat": "10.9"}, "Kinh độ và vĩ độ"),
    ({"lon": "10.95", "lat": "105.42"}, "Tọa độ ngoài phạm vi"),  # swapped
    ({"name": ""}, "Tên cửa khẩu"),
    ({"gate_class": "bridge"}, "Loại cửa khẩu"),
    ({"uncertainty_m": "-5"}, "Sai số vị trí"),
])
def test_invalid_input_is_refused_with_a_message_and_nothing_changes(client, login, db, changes, message):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    response = client.post(f"/corridor/gates/{row.id}", data=form(row, csrf_token=login.csrf_token, **changes),
                           follow_redirects=True)
    assert message in response.get_data(as_text=True)
    after = gate(db, DINH_BA)
    assert (after.version, after.lon, after.lat, after.name) == (row.version, row.lon, row.lat, row.name)
    assert audit_rows(db, "update") == []


def test_point_on_the_cambodian_side_within_tolerance_is_accepted(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, "Cửa khẩu quốc tế Thường Phước")  # placed on the line itself
    lat = str(round(row.lat + 0.002, 6))  # ~220 m north: beyond the line, within 500 m
    client.post(f"/corridor/gates/{row.id}", data=form(row, lat=lat, csrf_token=login.csrf_token))
    assert gate(db, "Cửa khẩu quốc tế Thường Phước").lat == float(lat)


def test_stale_version_is_refused(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    first = client.post(f"/corridor/gates/{row.id}", data=form(row, mode="đường bộ (đã sửa)",
                                                               csrf_token=login.csrf_token))
    assert first.status_code == 303
    second = client.post(f"/corridor/gates/{row.id}", data=form(row, mode="sửa trên bản cũ",
                                                                csrf_token=login.csrf_token), follow_redirects=True)
    assert "người khác sửa" in second.get_data(as_text=True)
    assert gate(db, DINH_BA).mode == "đường bộ (đã sửa)"
    delete = client.post(f"/corridor/gates/{row.id}/delete",
                         data={"version": str(row.version), "csrf_token": login.csrf_token}, follow_redirects=True)
    assert "người khác sửa" in delete.get_data(as_text=True) and gate(db, DINH_BA) is not None


def test_unchanged_save_makes_no_version_and_no_audit(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    response = client.post(f"/corridor/gates/{row.id}", data=form(row, csrf_token=login.csrf_token),
                           follow_redirects=True)
    assert "Không có gì thay đổi" in response.get_data(as_text=True)
    assert gate(db, DINH_BA).version == row.version and audit_rows(db, "update") == []


def test_admin_adds_and_deletes_a_gate(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    response = client.post("/corridor/gates", data=form(name="Lối mở Thử", lon=INSIDE_NEAR_BORDER[0],
                                                        lat=INSIDE_NEAR_BORDER[1], csrf_token=login.csrf_token))
    assert response.status_code == 303
    added = gate(db, "Lối mở Thử")
    assert added.placed and added.gate_class == "secondary" and added.approximate
    duplicate = client.post("/corridor/gates", data=form(name="Lối mở Thử", csrf_token=login.csrf_token),
                            follow_redirects=True)
    assert "Đã có cửa khẩu cùng tên" in duplicate.get_data(as_text=True)
    client.post(f"/corridor/gates/{added.id}/delete",
                data={"version": str(added.version), "reason": "nhập nhầm", "csrf_token": login.csrf_token})
    assert gate(db, "Lối mở Thử") is None
    deleted = audit_rows(db, "delete")[-1]
    assert deleted.reason == "nhập nhầm" and json.loads(deleted.before)["name"] == "Lối mở Thử"
    assert len(audit_rows(db, "create")) == 1


def test_post_without_csrf_token_is_refused(client, login, db):
    login("admin")
    client.get("/corridor/gates")
    row = gate(db, DINH_BA)
    response = client.post(f"/corridor/gates/{row.id}", data=form(row, mode="không có token"))
    assert response.status_code == 400
    assert client.post("/corridor/gates", data=form(name="Không token")).status_code == 400
    assert gate(db, DINH_BA).mode == row.mode and gate(db, "Không token") is None


def test_load_border_gates_command_seeds_once(runner, db):
    first = runner.invoke(args=["load-border-gates"])
    assert first.exit_code == 0 and "7 border gates added" in first.output
    again = runner.invoke(args=["load-border-gates"])
    assert again.exit_code == 0 and "already seeded" in again.output
    assert {r.username for r in audit_rows(db, "seed")} == {"cli"}


def test_gate_page_carries_the_placement_map_data_in_lon_lat(client, login):
    """Issue #12 point 7: the placement map's border line and province come as JSON (no inline script), in
    degrees, beside a "Place on the map" button on every gate's form."""
    import json
    import re

    login("admin")
    html = client.get("/corridor/gates").get_data(as_text=True)
    data = json.loads(re.search(r'id="gate-placement-data">(.*?)</script>', html, re.S).group(1))
    lon, lat = data["border"]["coordinates"][0][:2] if data["border"]["type"] == "LineString" else \
        data["border"]["coordinates"][0][0][:2]
    assert 105 < lon < 106 and 10.5 < lat < 11.2
    (south, west), (north, east) = data["bounds"]
    assert south < lat < north and west < lon < east
    assert html.count('class="secondary place-on-map"') == html.count('class="gate-form"')
    assert "<script>" not in html and "/static/js/gate_placement.js" in html
