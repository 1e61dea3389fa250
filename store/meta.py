"""Data versions: counters bumped by every write that changes what maps and reports show (cache keys).

Each kind of record has its own counter (``incidents``, ``boundaries``, ``key_areas`` …) so that, say, a
district recording a commune's drug status does not throw away every cached incident map; the global
``data_version`` moves with any of them and is what reports print.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from store.models import Meta

GLOBAL = "data_version"
# Set in ``session.info`` by a bump until the transaction ends: what such a session reads may be rolled back,
# so it must not fill a cache keyed by the (not yet committed) version.
UNCOMMITTED_VERSION = "bando_uncommitted_version"
TOPICS = ("incidents", "boundaries", "population", "key_areas", "drug_status", "gates", "targets")


def data_version(session, *topics: str):
    """The global version, or with ``topics`` a tuple of those topics' versions."""
    if not topics:
        return _read(session, GLOBAL)
    for topic in topics:
        if topic not in TOPICS:
            raise ValueError(f"data topic {topic!r} is not one of: {', '.join(TOPICS)}")
    return tuple(_read(session, f"version:{topic}") for topic in topics)


def bump_data_version(session, topic: str | None = None) -> int:
    """Record a change of ``topic`` (and of the data as a whole); returns the new global version."""
    session.info[UNCOMMITTED_VERSION] = True
    if topic is not None:
        if topic not in TOPICS:
            raise ValueError(f"data topic {topic!r} is not one of: {', '.join(TOPICS)}")
        _increment(session, f"version:{topic}")
    return _increment(session, GLOBAL)


# Versions read in the session's current transaction (``session.info``): a page asks for them a dozen times
# (one per cached part), and a counter never written has no row for the identity map to keep, so each ask
# was a query. Cleared when the transaction ends; a bump in the same transaction updates it.
_READ_IN_TRANSACTION = "bando_versions_read"


def _read(session, key: str) -> int:
    read = session.info.setdefault(_READ_IN_TRANSACTION, {})
    if key not in read:
        row = session.get(Meta, key)
        read[key] = int(row.value) if row else 0
    return read[key]


def _increment(session, key: str) -> int:
    row = session.get(Meta, key)
    if row is None:
        row = Meta(key=key, value="0")
        session.add(row)
    row.value = str(int(row.value) + 1)
    session.info.setdefault(_READ_IN_TRANSACTION, {})[key] = int(row.value)
    return int(row.value)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session) -> None:
    session.info.pop(UNCOMMITTED_VERSION, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_versions_read(session, transaction) -> None:
    # Any transaction or savepoint that ends: the next one may see other writers' bumps, or have rolled back ours.
    session.info.pop(_READ_IN_TRANSACTION, None)
