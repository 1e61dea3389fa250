"""Database engine and sessions.

SQLite in ``instance/`` (WAL journal, foreign keys on) is the embedded default; ``DATABASE_URL`` selects
PostgreSQL for a multi-user deployment. The schema is created and upgraded only by Alembic migrations
(``migrations/``), never by ``create_all``, so an upgrade never loses data.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def explain_operational_error(error) -> str:
    """A plain-language reason for a driver's operational error; the transaction was rolled back."""
    text = str(getattr(error, "orig", error)).lower()
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return "the database is busy with another writer (locked); nothing was changed — try again shortly"
    if "full" in text or "no space" in text:
        return "the database or its disk is full; nothing was changed — free space or ask the administrator"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only; nothing was changed"
    return "the database could not complete the change; nothing was changed"


class Database:
    """An engine and its session factory for one database URL."""

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        connect_args = {"timeout": busy_timeout_s, "check_same_thread": False} if self.is_sqlite else {}
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self):
        """One unit of work: commit on success, roll back everything on any error."""
        session: Session = self.Session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic."""
        from alembic import command

        command.upgrade(alembic_config(self.url), revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:
                return None

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets map readers keep reading while an import writes; NORMAL sync is safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB page cache: index updates of large imports stay in memory instead of thrashing the disk.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
