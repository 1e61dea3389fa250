"""Consistent backups and restores of the database.

SQLite uses the online backup API, which copies a consistent snapshot even while the app writes (WAL);
PostgreSQL uses ``pg_dump``/``pg_restore`` in custom format.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from translations import TranslatableError, message


class BackupError(TranslatableError, RuntimeError):
    """A backup or restore refused; worded in the reader's language (the CLI's, ``BANDO_CLI_LANGUAGE``)."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(message("store.backup.in_memory"))
    return Path(database)


def backup(url: str, destination) -> Path:
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        tmp = destination.with_suffix(destination.suffix + ".part")
        source = sqlite3.connect(sqlite_path(url))
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        _check_sqlite_backup(tmp)
        tmp.replace(destination)  # a half-written backup never carries the final name
        return destination
    if url.startswith("postgresql"):
        _run(["pg_dump", "--format=custom", f"--file={destination}", _libpq_url(url)])
        return destination
    raise BackupError(message("store.backup.no_backup_for", driver=make_url(url).drivername))


def restore(url: str, source) -> None:
    source = Path(source)
    if not source.exists():
        raise BackupError(message("store.backup.missing", path=str(source)))
    if url.startswith("sqlite"):
        _check_sqlite_backup(source)
        live = sqlite3.connect(sqlite_path(url), timeout=30)
        backup_db = sqlite3.connect(source)
        try:
            # The backup API replaces the live database page by page under one lock: readers see old or new.
            backup_db.backup(live)
        finally:
            backup_db.close()
            live.close()
        return
    if url.startswith("postgresql"):
        listing = _run(["pg_restore", "--list", str(source)],
                       refusal=message("store.backup.not_a_backup", name=source.name))
        if "alembic_version" not in listing:
            raise BackupError(message("store.backup.no_revision", name=source.name))
        # Extensions (PostGIS and its spatial_ref_sys table) belong to the database owner, not to the app:
        # leave them in place.
        kept = "\n".join(line for line in listing.splitlines()
                         if " EXTENSION " not in line and "spatial_ref_sys" not in line)
        list_file = source.with_suffix(source.suffix + ".list")
        list_file.write_text(kept)
        try:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  f"--use-list={list_file}", f"--dbname={_libpq_url(url)}", str(source)])
        finally:
            list_file.unlink(missing_ok=True)
        return
    raise BackupError(message("store.backup.no_restore_for", driver=make_url(url).drivername))


def _check_sqlite_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(message("store.backup.unreadable", name=path.name, reason=str(e))) from None
    if status != "ok":
        raise BackupError(message("store.backup.integrity", name=path.name, status=str(status)))
    if revision is None:
        raise BackupError(message("store.backup.no_revision", name=path.name))


def _libpq_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], refusal=None) -> str:
    if shutil.which(command[0]) is None:
        raise BackupError(message("store.backup.not_installed", command=command[0]))
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BackupError(message("store.backup.command_failed", what=refusal or message("store.backup.failed", command=command[0]),
                                  stderr=completed.stderr.strip()))
    return completed.stdout
