"""The data version: one counter bumped by every write that changes what maps show (cache key)."""
from __future__ import annotations

from sqlalchemy import select

from store.models import Meta


def data_version(session) -> int:
    row = session.get(Meta, "data_version")
    return int(row.value) if row else 0


def bump_data_version(session) -> int:
    row = session.get(Meta, "data_version")
    if row is None:
        row = Meta(key="data_version", value="0")
        session.add(row)
    row.value = str(int(row.value) + 1)
    return int(row.value)
