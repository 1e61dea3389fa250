"""Audit rows, written in the same transaction as the change they describe, chained by SHA-256.

Each row stores ``row_hash = SHA-256(prev_hash, at, username, action, entity, entity_id, before, after,
reason)`` with ``prev_hash`` the previous row's ``row_hash`` (a hash chain, as in RFC 6962's append-only
logs or a blockchain's block links). A row inserted, changed or deleted outside :func:`record` — with the
database file in hand, past the append-only triggers — breaks the chain at that row, and
:func:`verify_chain` names the first broken link. The chain's head (last hash, row count) is one locked
row, so concurrent writers append one after the other and the chain never forks.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text, update

from store.models import AuditChainHead, AuditLog, utcnow

HEAD_ID = 1


def record(session, *, username: str, action: str, entity: str, entity_id, before=None, after=None, reason=""):
    """Add an audit row to ``session``; it commits (or rolls back) with the change itself."""
    head = _locked_head(session)
    row = AuditLog(at=utcnow(), username=username, action=action, entity=entity, entity_id=str(entity_id),
                   before=_dump(before), after=_dump(after), reason=reason or "", prev_hash=head.last_hash)
    row.row_hash = row_digest(row)
    head.last_hash, head.rows = row.row_hash, head.rows + 1
    session.add(row)
    return row


def _locked_head(session) -> AuditChainHead:
    if session.get_bind().dialect.name == "sqlite":
        # A write first: SQLite then holds its single write lock, so the head read below cannot go stale.
        session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                        .values(rows=AuditChainHead.rows))
    head = session.scalar(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update())
    if head is None:
        head = AuditChainHead(id=HEAD_ID, last_hash="", rows=0)
        session.add(head)
        session.flush()
    return head


def row_digest(row) -> str:
    """The SHA-256 link of an audit row (its content and the previous row's hash)."""
    at = row.at.isoformat(timespec="microseconds") if row.at is not None else ""
    content = [row.prev_hash or "", at, row.username, row.action, row.entity, row.entity_id, row.before or "",
               row.after or "", row.reason or ""]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of :func:`verify_chain`: rows checked, and the first broken link if any."""

    rows: int
    broken_at: int | None = None  # id of the first row that does not link, or None
    reason: str = ""
    kind: str = ""  # "unlinked", "changed", "truncated" or "triggers" (for messages in other languages)
    detail: str = ""  # the row id, row count or trigger names the reason names

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.reason


APPEND_ONLY_TRIGGERS = {"sqlite": {"audit_log_no_update", "audit_log_no_delete"},
                        "postgresql": {"audit_log_append_only"}}


def verify_chain(session) -> ChainCheck:
    """Walk the audit rows in order and check every link, the head and the append-only triggers."""
    expected, count = "", 0
    for row in session.execute(select(AuditLog).order_by(AuditLog.id)).scalars():
        count += 1
        if row.prev_hash != expected:
            return ChainCheck(count, row.id, f"row {row.id} does not follow the row before it (a row was removed "
                                             f"or inserted before it)", "unlinked", str(row.id))
        if row_digest(row) != row.row_hash:
            return ChainCheck(count, row.id, f"row {row.id} was changed after it was written (its hash differs)",
                              "changed", str(row.id))
        expected = row.row_hash
    head = session.get(AuditChainHead, HEAD_ID)
    if (head.last_hash if head else "") != expected or (head.rows if head else 0) != count:
        return ChainCheck(count, None, f"the chain ends at row {count} but its head records "
                                       f"{head.rows if head else 0} rows: rows were removed from the end",
                          "truncated", str(head.rows if head else 0))
    missing = _missing_triggers(session)
    if missing:
        return ChainCheck(count, None, f"the append-only trigger(s) {', '.join(sorted(missing))} were dropped",
                          "triggers", ", ".join(sorted(missing)))
    return ChainCheck(count)


def _missing_triggers(session) -> set[str]:
    dialect = session.get_bind().dialect.name
    expected = APPEND_ONLY_TRIGGERS.get(dialect, set())
    if dialect == "sqlite":
        found = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    elif dialect == "postgresql":
        found = set(session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    else:
        return set()
    return expected - found


def _dump(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class FieldChange:
    """One field of an audited record, as it was and as it became (None: absent on that side)."""

    field: str
    before: str | None
    after: str | None


def field_changes(before: str, after: str, *, max_chars: int = 160) -> list[FieldChange]:
    """The fields an audit row's ``before`` and ``after`` JSON differ in, as short texts, in key order.

    A creation (no ``before``) lists every non-empty field of ``after``; a deletion every field of
    ``before``. A value that is not an object (a list, a number) is one field named ``""``.
    """
    old, new = _load(before), _load(after)
    if not isinstance(old, dict) or not isinstance(new, dict):
        old = old if isinstance(old, dict) else ({} if old is None else {"": old})
        new = new if isinstance(new, dict) else ({} if new is None else {"": new})
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        if key in old and key in new and a == b:
            continue
        if key not in old and b in (None, "", [], {}):
            continue
        changes.append(FieldChange(key, _short(a, max_chars) if key in old else None,
                                   _short(b, max_chars) if key in new else None))
    return changes


def _load(text_value):
    if not text_value:
        return None
    try:
        return json.loads(text_value)
    except ValueError:
        return text_value


def _short(value, max_chars: int) -> str:
    if value is None:
        return "–"
    text_value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text_value if len(text_value) <= max_chars else text_value[: max_chars - 1] + "…"
