"""Audit rows, written in the same transaction as the change they describe."""
from __future__ import annotations

import json

from store.models import AuditLog


def record(session, *, username: str, action: str, entity: str, entity_id, before=None, after=None, reason=""):
    """Add an audit row to ``session``; it commits (or rolls back) with the change itself."""
    row = AuditLog(
        username=username,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_dump(before),
        after=_dump(after),
        reason=reason or "",
    )
    session.add(row)
    return row


def _dump(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
