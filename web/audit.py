"""The audit log: paginated, filtered view (text, dates in Vietnam time) and CSV export, for province planners
and administrators; readable action names and before → after; the import jobs of the same span beside it.

The log itself is append-only (database triggers refuse UPDATE and DELETE); each export is audited too.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, or_, select

from geo.export import spreadsheet_text
from store import audit, import_jobs
from store.models import AuditLog
from web import VIETNAM_TIME, access, db_session
from web.access import allow
from web.i18n import current_language

bp = Blueprint("audit", __name__)
PAGE_SIZE = 50
CSV_COLUMNS = ("id", "at", "username", "action", "entity", "entity_id", "before", "after", "reason")
MAX_QUERY_CHARS = 200


#: Readable names of the audited actions: code -> (Vietnamese, English). An unknown code shows itself.
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "audit.export": ("Xuất nhật ký", "Audit log exported"),
    "create_user": ("Tạo tài khoản", "Account created"),
    "update_user": ("Sửa tài khoản", "Account changed"),
    "create_token": ("Tạo mã truy cập API", "API token created"),
    "revoke_tokens": ("Thu hồi mã truy cập API", "API tokens revoked"),
    "incidents.import": ("Nhập dữ liệu vụ việc", "Incidents imported"),
    "incidents.import_refused": ("Nhập dữ liệu bị từ chối (không ghi)", "Import refused (nothing written)"),
    "key_area.create": ("Thêm địa bàn trọng điểm", "Key area added"),
    "key_area.update": ("Sửa địa bàn trọng điểm", "Key area changed"),
    "key_area.reselect": ("Chọn lại địa bàn (chu kỳ mới)", "Key area selected again (new cycle)"),
    "key_area.transition": ("Chuyển trạng thái địa bàn", "Key area status changed"),
    "key_area.propose": ("Đề xuất chuyển trạng thái địa bàn", "Key area status proposed"),
    "key_area.approve": ("Duyệt đề xuất địa bàn", "Key area proposal approved"),
    "key_area.reject": ("Từ chối đề xuất địa bàn", "Key area proposal rejected"),
    "drug_status.create": ("Ghi số liệu ma túy xã", "Commune drug figures recorded"),
    "drug_status.update": ("Cập nhật số liệu ma túy xã", "Commune drug figures updated"),
    "drug_status.propose": ("Đề xuất số liệu ma túy xã", "Commune drug figures proposed"),
    "drug_status.approve": ("Duyệt đề xuất số liệu ma túy", "Drug figures proposal approved"),
    "drug_status.reject": ("Từ chối đề xuất số liệu ma túy", "Drug figures proposal rejected"),
    "drug_rule_set.add": ("Thêm phiên bản bộ tiêu chí ma túy", "Drug rule set version added"),
    "seed_targets": ("Nạp chỉ tiêu kế hoạch", "Plan targets loaded"),
    "update_target": ("Sửa chỉ tiêu", "Target changed"),
    "create": ("Thêm", "Added"),
    "update": ("Sửa", "Changed"),
    "delete": ("Xóa", "Deleted"),
    "seed": ("Nạp dữ liệu ban đầu", "Initial records loaded"),
}
ENTITY_LABELS: dict[str, tuple[str, str]] = {
    "audit_log": ("Nhật ký", "Audit log"),
    "border_gate": ("Cửa khẩu, lối mở", "Border gate"),
    "commune_drug_status": ("Số liệu ma túy xã", "Commune drug figures"),
    "drug_rule_set": ("Bộ tiêu chí ma túy", "Drug rule set"),
    "drug_status_proposal": ("Đề xuất số liệu ma túy", "Drug figures proposal"),
    "import_batch": ("Đợt nhập dữ liệu", "Import batch"),
    "key_area": ("Địa bàn trọng điểm", "Key area"),
    "key_area_proposal": ("Đề xuất địa bàn", "Key area proposal"),
    "plan_target": ("Chỉ tiêu", "Target"),
    "target_plan": ("Kế hoạch chỉ tiêu", "Target plan"),
    "user": ("Tài khoản", "Account"),
}


def label_of(table: dict, code: str) -> str:
    pair = table.get(code)
    if pair is None:
        return code
    return pair[1] if current_language() == "en" else pair[0]


def vietnam_day_start(day: date) -> datetime:
    """00:00 of ``day`` in Vietnam (UTC+7) as the naive UTC datetime the log stores."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(VIETNAM_TIME))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _day(name, problems: list):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(raw[:40])
        return None


def matching_actions(text: str) -> list[str]:
    """Action codes whose readable name (either language) contains ``text``, so "duyệt" finds approvals."""
    needle = text.casefold()
    return [code for code, pair in ACTION_LABELS.items() if any(needle in name.casefold() for name in pair)]


def filters():
    """The request's filters: exact columns, a text, and the span [start, end) in UTC from Vietnam days."""
    problems: list[str] = []
    exact = {c: request.args.get(c, "").strip() for c in ("username", "action", "entity", "entity_id")}
    text = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    first, last = _day("from", problems), _day("to", problems)
    start = vietnam_day_start(first) if first else None
    end = vietnam_day_start(last + timedelta(days=1)) if last else None
    return exact, text, start, end, problems, bool(first and last and first > last)


def filtered_query():
    exact, text, start, end, _problems, _reversed = filters()
    query = select(AuditLog)
    for column, value in exact.items():
        if value:
            query = query.where(getattr(AuditLog, column) == value)
    if text:
        columns = [AuditLog.username, AuditLog.action, AuditLog.entity, AuditLog.entity_id, AuditLog.before,
                   AuditLog.after, AuditLog.reason]
        conditions = [c.icontains(text, autoescape=True) for c in columns]
        if (codes := matching_actions(text)):
            conditions.append(AuditLog.action.in_(codes))
        query = query.where(or_(*conditions))
    if start:
        query = query.where(AuditLog.at >= start)
    if end:
        query = query.where(AuditLog.at < end)
    return query


def _page_number(pages: int) -> int:
    raw = request.args.get("page", "1")
    # ASCII digits only ("²" passes isdigit but not int) and few enough for a database OFFSET
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 1
    return min(max(1, number), max(1, pages))


@bp.route("/audit")
@allow(access.ADMIN, access.PLANNER)
def page():
    session = db_session()
    exact, text, start, end, problems, reversed_span = filters()
    query = filtered_query()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page_number = _page_number(pages)
    rows = session.scalars(query.order_by(AuditLog.id.desc()).offset((page_number - 1) * PAGE_SIZE)
                           .limit(PAGE_SIZE)).all()
    actions = sorted(set(session.scalars(select(AuditLog.action).distinct())), key=lambda a: label_of(ACTION_LABELS, a))
    entities = sorted(set(session.scalars(select(AuditLog.entity).distinct())))
    imports = import_jobs.jobs_between(session, start=start, end=end, username=exact["username"], text=text)
    changes = {row.id: audit.field_changes(row.before, row.after) for row in rows}
    return render_template("audit/log.html", rows=rows, total=total, page=page_number, pages=pages,
                           page_size=PAGE_SIZE, actions=actions, entities=entities, changes=changes,
                           imports=imports, date_problems=problems, reversed_span=reversed_span,
                           action_label=lambda code: label_of(ACTION_LABELS, code),
                           entity_label=lambda code: label_of(ENTITY_LABELS, code))


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
    return spreadsheet_text("" if value is None else str(value))
