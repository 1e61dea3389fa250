"""Faults: a process killed mid-import, a locked database, a full database — never a half-written store."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, ROOT, make_app

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite file faults (PostgreSQL has its own WAL)")


def _csv(path: Path, n: int) -> Path:
    # One point inside Phường 1, TP Sa Đéc, repeated under distinct ids.
    lines = ["id,occurred_at,category,severity,case_status,lon,lat"]
    lines += [f"K-{i:07d},2024-05-{1 + i % 28:02d},theft,less_serious,received,105.7630,10.2960" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(db_file: Path):
    connection = sqlite3.connect(db_file)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        incidents = connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
        batches = connection.execute("SELECT count(*) FROM import_batches").fetchone()[0]
        return incidents, batches
    finally:
        connection.close()


def test_import_killed_during_the_write_leaves_all_or_nothing(app, tmp_path):
    db_file = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    source = _csv(tmp_path / "lon.csv", 150_000)
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], BANDO_SECRET_KEY="x",
               BANDO_DATA_DIR=app.config["DATA_DIR"])
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "import-incidents", str(source)],
                               cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    # Wait until validation is over and the write has begun, then kill without any chance to clean up.
    for line in process.stderr:
        if line.startswith("validate:"):
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()
    incidents, batches = _counts(db_file)
    assert (incidents, batches) in ((0, 0), (150_000, 1))


def test_locked_database_gives_a_clear_error_and_changes_nothing(tmp_path, template_db, data_dir):
    application = make_app(tmp_path, template_db, data_dir, DB_BUSY_TIMEOUT_S=0.2)
    db_file = Path(application.config["DATABASE_URL"].removeprefix("sqlite:///"))
    source = _csv(tmp_path / "nho.csv", 5)
    blocker = sqlite3.connect(db_file, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        result = application.test_cli_runner().invoke(args=["import-incidents", str(source)])
    finally:
        blocker.rollback()
        blocker.close()
    assert result.exit_code != 0
    assert "busy with another writer" in result.output
    assert "Traceback" not in result.output
    assert _counts(db_file) == (0, 0)
    application.extensions["db"].dispose()


def test_full_database_gives_a_clear_error_and_stays_intact(app, tmp_path):
    db = app.extensions["db"]
    db_file = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    with db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    from sqlalchemy import event

    @event.listens_for(db.engine, "connect")
    def cap_size(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 2}")

    db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["import-incidents", str(_csv(tmp_path / "lon.csv", 20_000))])
    assert result.exit_code != 0
    assert "full" in result.output and "Traceback" not in result.output
    db.engine.dispose()
    event.remove(db.engine, "connect", cap_size)
    assert _counts(db_file) == (0, 0)


def test_web_write_on_a_locked_database_answers_503_not_a_traceback(tmp_path, template_db, data_dir):
    from tests.conftest import csrf_token_from

    application = make_app(tmp_path, template_db, data_dir, DB_BUSY_TIMEOUT_S=0.2)
    client = application.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    db_file = Path(application.config["DATABASE_URL"].removeprefix("sqlite:///"))
    blocker = sqlite3.connect(db_file, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        # A wrong password makes the sign-in page record the failure: a write the lock refuses.
        response = client.post("/login", data={"username": "planner", "password": "sai", "csrf_token": token})
    finally:
        blocker.rollback()
        blocker.close()
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "busy with another writer" in body and "Traceback" not in body
    application.extensions["db"].dispose()
