"""Audit trail: page and CSV export for planners, append-only rows, admin user management audited."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select, text

from store.models import AuditLog, User
from tests.tracker_helpers import make_area, snapshot


def test_audit_page_shows_before_after_and_reason_escaped(client, login, db):
    from store import key_areas as ka
    from tests.tracker_helpers import PLANNER

    area_id = make_area(db)
    with db.transaction() as session:
        ka.update_key_area(session, PLANNER, area_id, expected_version=1, changes={"notes": "<b>mới</b>"},
                           reason="<script>x()</script>")
    login("planner")
    page = client.get("/audit?action=key_area.update").get_data(as_text=True)
    assert "key_area.update" in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<script>x()" not in page and "&lt;b&gt;mới&lt;/b&gt;" in page


def test_csv_export_has_every_row_and_is_itself_audited(client, login, db):
    make_area(db)
    login("planner")
    with db.transaction() as session:
        count = session.scalar(select(text("count(*)")).select_from(AuditLog))
    response = client.get("/audit.csv")
    body = response.get_data(as_text=True)
    response.close()
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["id", "at", "username", "action", "entity", "entity_id", "before", "after", "reason"]
    assert len(rows) - 1 == count
    assert any(r[3] == "key_area.create" and json.loads(r[7])["name"] == "Thị trấn Sa Rài" for r in rows[1:])
    with db.transaction() as session:
        last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (last.username, last.action) == ("planner", "audit.export")


def test_csv_export_filters_and_neutralises_formulas(client, login, db):
    from store import key_areas as ka
    from tests.tracker_helpers import PLANNER

    area_id = make_area(db)
    with db.transaction() as session:
        ka.update_key_area(session, PLANNER, area_id, expected_version=1, changes={"notes": "x"},
                           reason="=HYPERLINK(\"http://evil\")")
    login("planner")
    response = client.get("/audit.csv?action=key_area.update")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    response.close()
    assert len(rows) == 2 and rows[1][8].startswith("'=")


def test_audit_rows_cannot_be_changed_or_deleted(db):
    make_area(db)
    for statement in ("UPDATE audit_log SET reason = 'sửa'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with db.transaction() as session:
                session.execute(text(statement))


def test_admin_creates_user_through_page_and_it_is_audited(app, client, login, db):
    login("admin")
    response = client.post("/admin/users", data={
        "csrf_token": login.csrf_token, "username": "lan_869", "password": "mat-khau-du-dai", "role": "district",
        "district_code": "869", "display_name": "Nguyễn Thị Lan"})
    assert response.status_code == 303
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == "lan_869"))
        row = session.scalars(select(AuditLog).where(AuditLog.action == "create_user")
                              .order_by(AuditLog.id.desc())).first()
    assert (user.role, user.district_code) == ("district", "869")
    assert row.username == "admin" and "mat-khau" not in row.after and "password" not in row.after
    other = app.test_client()
    from tests.conftest import SignIn

    SignIn(other)  # the form path is the real one
    page = other.get("/login").get_data(as_text=True)
    token = __import__("tests.conftest", fromlist=["csrf_token_from"]).csrf_token_from(page)
    assert other.post("/login", data={"username": "lan_869", "password": "mat-khau-du-dai",
                                      "csrf_token": token}).status_code == 302


@pytest.mark.parametrize("data, message", [
    ({"username": "x y", "password": "mat-khau-du-dai", "role": "planner"}, "username"),
    ({"username": "ngan", "password": "ngan", "role": "planner"}, "at least 10"),
    ({"username": "huyen", "password": "mat-khau-du-dai", "role": "district"}, "needs"),
    ({"username": "admin", "password": "mat-khau-du-dai", "role": "admin"}, "already exists"),
])
def test_admin_page_refuses_bad_users(client, login, db, data, message):
    login("admin")
    before = snapshot(db)
    response = client.post("/admin/users", data={**data, "csrf_token": login.csrf_token})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    after = snapshot(db)
    assert after["users"] == before["users"] and after["audit_log"] == before["audit_log"]


def test_admin_sets_role_district_active_and_clearance_audited(client, login, db):
    login("admin")
    with db.transaction() as session:
        guard = session.scalar(select(User).where(User.username == "guard"))
    response = client.post(f"/admin/users/{guard.id}", data={
        "csrf_token": login.csrf_token, "role": "district", "district_code": "866", "sensitive_clearance": "1",
        "reason": "Điều chuyển"})
    assert response.status_code == 303
    with db.transaction() as session:
        changed = session.get(User, guard.id)
        row = session.scalars(select(AuditLog).where(AuditLog.action == "update_user")).one()
    assert (changed.role, changed.district_code, changed.active, changed.sensitive_clearance) == \
        ("district", "866", False, True)
    assert json.loads(row.before)["role"] == "border_guard" and json.loads(row.after)["active"] is False
    assert row.reason == "Điều chuyển"


def test_deactivated_user_is_signed_out_and_cannot_sign_in(app, client, login, db):
    from tests.conftest import SignIn

    guard_client = app.test_client()
    SignIn(guard_client)("guard")
    login("admin")
    with db.transaction() as session:
        guard = session.scalar(select(User).where(User.username == "guard"))
    client.post(f"/admin/users/{guard.id}", data={"csrf_token": login.csrf_token, "role": "border_guard"})
    assert guard_client.get("/key-areas").status_code == 302


def test_admin_cannot_lock_themself_out(client, login, db):
    login("admin")
    with db.transaction() as session:
        me = session.scalar(select(User).where(User.username == "admin"))
    before = snapshot(db)
    response = client.post(f"/admin/users/{me.id}", data={"csrf_token": login.csrf_token, "role": "planner",
                                                           "active": "1"})
    assert response.status_code == 400 and "chính mình" in response.get_data(as_text=True)
    assert snapshot(db)["users"] == before["users"]
