"""A storage backend of the ``limits`` library (used by Flask-Limiter) in the application's own database.

Flask-Limiter's SQL-free storages are process memory (each gunicorn worker would count alone) or a Redis,
Memcached or MongoDB server the deployment does not have. Counting in the database every worker already
shares keeps one limit per client address across all of them. Fixed windows only: one row per key, each
hit one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING``.
"""
from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.exc import SQLAlchemyError

from store.models import RateLimitCounter

SCHEME = "bando138-db"


class DatabaseStorage(Storage):
    """``limits`` storage over a :class:`store.db.Database` (passed as the ``database`` option)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, database=None, **options):
        if database is None:
            raise ValueError(f"{SCHEME}:// storage needs the application's database (storage option 'database')")
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _insert(self):
        if self.database.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        table = RateLimitCounter.__table__
        expired = table.c.expires_at <= now
        statement = self._insert()(table).values(key=key, hits=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"hits": case((expired, literal(amount)), else_=table.c.hits + amount),
                  "expires_at": case((expired, literal(now + expiry)), else_=table.c.expires_at)},
        ).returning(table.c.hits)
        with self.database.transaction() as session:
            return int(session.execute(statement).scalar_one())

    def get(self, key: str) -> int:
        with self.database.transaction() as session:
            hits = session.scalar(select(RateLimitCounter.hits).where(RateLimitCounter.key == key,
                                                                      RateLimitCounter.expires_at > time.time()))
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        with self.database.transaction() as session:
            expires = session.scalar(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key))
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.database.transaction() as session:
                session.scalar(select(func.count()).select_from(RateLimitCounter))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.database.transaction() as session:
            return session.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self.database.transaction() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    def forget_expired(self) -> None:
        with self.database.transaction() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= time.time()))
