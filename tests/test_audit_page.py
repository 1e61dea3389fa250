"""The audit page a clerk can use (issue #12 point 9): pages, text and date filters in Vietnam time, readable
action names and before → after, and the imports listed beside the log."""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select, update

from store import audit, key_areas as ka
from store.audit import FieldChange, field_changes
from store.models import AuditLog
from tests.test_imports_web import GOOD_ROWS, HEADER, finished_job, upload
from tests.tracker_helpers import PLANNER, make_area
from web.audit import PAGE_SIZE, vietnam_day_start


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-action="[^"]*"><td class="num">(\d+)</td>', html)]


def add_rows(db, n: int, *, reason="Kiểm tra"):
    with db.transaction() as session:
        for i in range(n):
            audit.record(session, username="planner", action="update_target", entity="plan_target",
                         entity_id=str(i), before={"value": i}, after={"value": i + 1}, reason=reason)


def test_field_changes_lists_only_what_differs():
    assert field_changes('{"a": 1, "b": "x", "v": 1}', '{"a": 1, "b": "y", "v": 2}') == [
        FieldChange("b", "x", "y"), FieldChange("v", "1", "2")]
    assert field_changes("", '{"name": "Ấp 1", "notes": ""}') == [FieldChange("name", None, "Ấp 1")]
    assert field_changes('{"name": "Ấp 1"}', "") == [FieldChange("name", "Ấp 1", None)]
    assert field_changes("", "") == []
    [long] = field_changes("", '{"g": "' + "x" * 500 + '"}')
    assert len(long.after) == 160 and long.after.endswith("…")


def test_vietnam_day_starts_at_17h_utc_the_day_before():
    assert vietnam_day_start(date(2026, 12, 1)) == datetime(2026, 11, 30, 17, 0)


def test_page_is_paginated_newest_first(client, login, db):
    add_rows(db, PAGE_SIZE + 5)
    login("planner")
    with db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(AuditLog))
    first = client.get("/audit").get_data(as_text=True)
    ids = row_ids(first)
    assert len(ids) == PAGE_SIZE and ids == sorted(ids, reverse=True)
    pages = -(-total // PAGE_SIZE)
    assert f"Trang 1/{pages}" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/audit?page=2").get_data(as_text=True)
    assert row_ids(second)[0] == ids[-1] - 1 and 'rel="prev"' in second
    beyond = client.get("/audit?page=999").get_data(as_text=True)
    assert f"Trang {pages}/{pages}" in beyond  # past the end: the last page


def test_readable_action_names_and_before_after(client, login, db):
    area_id = make_area(db)
    with db.transaction() as session:
        ka.update_key_area(session, PLANNER, area_id, expected_version=1, changes={"notes": "bổ sung <b>"},
                           reason="Rà soát")
    login("planner")
    page = client.get("/audit?action=key_area.update").get_data(as_text=True)
    assert "<td>Sửa địa bàn trọng điểm</td>" in page and "Địa bàn trọng điểm " + str(area_id) in page
    assert '<span class="change-field">notes</span>: <del></del> → <ins>bổ sung &lt;b&gt;</ins>' in page
    assert '<option value="key_area.update" selected>Sửa địa bàn trọng điểm</option>' in page
    english = client.get("/audit?action=key_area.update&lang=en").get_data(as_text=True)
    assert "<td>Key area changed</td>" in english and "Vietnam time, UTC+7" in english


def test_text_filter_searches_content_and_readable_names(client, login, db):
    add_rows(db, 3, reason="Điều chỉnh theo QĐ 99")
    make_area(db)
    login("planner")
    by_reason = row_ids(client.get("/audit?q=QĐ 99").get_data(as_text=True))
    assert len(by_reason) == 3
    by_name = client.get("/audit?q=thêm địa bàn").get_data(as_text=True)  # the readable name, any case
    assert row_ids(by_name) and set(re.findall(r'data-action="([^"]*)"', by_name)) == {"key_area.create"}
    wildcard = client.get("/audit?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert row_ids(wildcard) == [] and 'id="audit-empty"' in wildcard


def test_date_filter_uses_vietnam_days(client, login, db):
    add_rows(db, 2)
    with db.transaction() as session:
        early, late = session.scalars(select(AuditLog.id).where(AuditLog.action == "update_target")
                                      .order_by(AuditLog.id)).all()
    # 30/11 17:30 UTC is already 01/12 00:30 in Vietnam; 30/11 16:30 UTC is still 30/11 in Vietnam.
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update") if db.engine.dialect.name == "sqlite" \
            else conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.execute(update(AuditLog).where(AuditLog.id == early).values(at=datetime(2026, 11, 30, 16, 30)))
        conn.execute(update(AuditLog).where(AuditLog.id == late).values(at=datetime(2026, 11, 30, 17, 30)))
    login("planner")
    december = client.get("/audit?from=2026-12-01&to=2026-12-01&action=update_target").get_data(as_text=True)
    assert row_ids(december) == [late] and "01/12/2026 00:30:00" in december
    november = client.get("/audit?from=2026-11-30&to=2026-11-30&action=update_target").get_data(as_text=True)
    assert row_ids(november) == [early] and "30/11/2026 23:30:00" in november


def test_bad_dates_are_said_and_a_reversed_span_is_empty(client, login, db):
    login("planner")
    page = client.get("/audit?from=2026-13-01").get_data(as_text=True)
    assert "Ngày không hợp lệ «2026-13-01»" in page and row_ids(page)
    reversed_span = client.get("/audit?from=2026-12-02&to=2026-12-01").get_data(as_text=True)
    assert "Ngày bắt đầu sau ngày kết thúc" in reversed_span and row_ids(reversed_span) == []


def test_imports_are_listed_with_their_outcome(client, login, db):
    login("planner")
    finished_job(client, upload(client, login.csrf_token, "vu-viec-thang-3.csv", (HEADER + GOOD_ROWS).encode()))
    bad = (HEADER + "W-9,2024-03-05,xyz,serious,received,105.6330,10.4560,\n").encode()
    finished_job(client, upload(client, login.csrf_token, "loi.csv", bad))
    page = client.get("/audit").get_data(as_text=True)
    section = page[page.index('id="audit-imports"'):]
    assert section.count('class="import-row"') == 2 and "vu-viec-thang-3.csv" in section
    assert "2 / 2 / 0" in section and "1 / 0 / 1" in section
    assert "Nhập dữ liệu bị từ chối (không ghi)" in page
    only = client.get("/audit?q=thang-3").get_data(as_text=True)
    assert only[only.index('id="audit-imports"'):].count('class="import-row"') == 1
    future = client.get("/audit?from=2999-01-01").get_data(as_text=True)
    assert "Không có lần nhập nào trong khoảng này." in future
