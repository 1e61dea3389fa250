"""The audit log: filtered view and CSV export, for province planners and administrators.

The log itself is append-only (database triggers refuse UPDATE and DELETE); each export is audited too.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from store import audit
from store.models import AuditLog
from web import access, db_session
from web.access import allow
from web.i18n import add_messages

bp = Blueprint("audit", __name__)
PAGE_SIZE = 100
CSV_COLUMNS = ("id", "at", "username", "action", "entity", "entity_id", "before", "after", "reason")

add_messages({
    "aud.title": ("Nhật ký thay đổi", "Audit log"),
    "aud.at": ("Thời điểm (UTC)", "When (UTC)"),
    "aud.user": ("Người thực hiện", "User"),
    "aud.action": ("Thao tác", "Action"),
    "aud.entity": ("Đối tượng", "Record"),
    "aud.before": ("Trước", "Before"),
    "aud.after": ("Sau", "After"),
    "aud.reason": ("Lý do", "Reason"),
    "aud.from": ("Từ ngày", "From"),
    "aud.to": ("Đến ngày", "To"),
    "aud.filter": ("Lọc", "Filter"),
    "aud.export": ("Xuất CSV", "Export CSV"),
    "aud.count": ("{n} dòng", "{n} rows"),
    "aud.next": ("Trang sau", "Next page"),
    "aud.prev": ("Trang trước", "Previous page"),
    "aud.append_only": ("Nhật ký chỉ ghi thêm, không sửa hoặc xóa được.", "The log is append-only: rows cannot be edited or deleted."),
})


def _day(name):
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def filtered_query():
    query = select(AuditLog)
    for column in ("username", "action", "entity", "entity_id"):
        value = request.args.get(column, "").strip()
        if value:
            query = query.where(getattr(AuditLog, column) == value)
    start, end = _day("from"), _day("to")
    if start:
        query = query.where(AuditLog.at >= datetime.combine(start, datetime.min.time()))
    if end:
        query = query.where(AuditLog.at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    return query


@bp.route("/audit")
@allow(access.ADMIN, access.PLANNER)
def page():
    session = db_session()
    query = filtered_query()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    raw_page = request.args.get("page", "1")
    # ASCII digits only ("²" passes isdigit but not int) and few enough for a database OFFSET
    page_number = max(1, int(raw_page)) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 9 else 1
    rows = session.scalars(query.order_by(AuditLog.id.desc()).offset((page_number - 1) * PAGE_SIZE)
                           .limit(PAGE_SIZE)).all()
    actions = sorted(set(session.scalars(select(AuditLog.action).distinct())))
    entities = sorted(set(session.scalars(select(AuditLog.entity).distinct())))
    return render_template("audit/log.html", rows=rows, total=total, page=page_number, page_size=PAGE_SIZE,
                           actions=actions, entities=entities)


@bp.route("/audit.csv")
@allow(access.ADMIN, access.PLANNER)
def export():
    session = db_session()
    rows = session.scalars(filtered_query().order_by(AuditLog.id)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, c)) for c in CSV_COLUMNS])
    with current_app.extensions["db"].transaction() as write:
        audit.record(write, username=current_user.username, action="audit.export", entity="audit_log", entity_id="",
                     after={"rows": len(rows), "filters": dict(request.args)})
    # BOM so spreadsheet programs read the Vietnamese text as UTF-8.
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=nhat-ky-{date.today().isoformat()}.csv"
    return response


def _cell(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
