"""A web import whose process was killed is closed as failed at the next start (or read), its upload deleted."""
from __future__ import annotations

import socket
import subprocess
from datetime import timedelta

from sqlalchemy import update

from tests.conftest import SignIn


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _leave_running(app, job_id: str, worker: str, upload) -> None:
    from store import import_jobs

    with app.extensions["db"].transaction() as session:
        import_jobs.create_job(session, job_id, username="planner", filename="lon.csv", skip_invalid=False,
                               upload_path=str(upload))
        import_jobs.update_progress(session, job_id, "validate", 10, 100)
        session.execute(update(import_jobs.ImportJobRecord).where(import_jobs.ImportJobRecord.id == job_id)
                        .values(worker=worker))


def test_a_restart_closes_imports_of_dead_processes_and_removes_their_uploads(app, tmp_path):
    from server import create_app
    from store import import_jobs

    upload = tmp_path / "import-x.csv"
    upload.write_text("id\n1\n")
    _leave_running(app, "a" * 32, f"{socket.gethostname()}:{_dead_pid()}", upload)
    alive_upload = tmp_path / "import-y.csv"
    alive_upload.write_text("id\n")
    _leave_running(app, "b" * 32, import_jobs.this_worker(), alive_upload)  # this very process: still running
    restarted = create_app({key: app.config[key] for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "DATA_DIR")})
    try:
        with restarted.extensions["db"].transaction() as session:
            killed, running = import_jobs.get_job(session, "a" * 32), import_jobs.get_job(session, "b" * 32)
        assert killed.stage == "failed" and not killed.internal_error
        assert "stopped" in killed.error_in("en") and "đã dừng" in killed.error_in("vi")
        assert not upload.exists()
        assert running.stage == "validate" and alive_upload.exists()
        client = restarted.test_client()
        SignIn(client)("planner")
        status = client.get(f"/import/{'a' * 32}/status").get_json()
        assert status["finished"] and status["stage"] == "failed"
        page = client.get(f"/import/{'a' * 32}").get_data(as_text=True)
        assert "đã dừng" in page and "stopped" not in page  # the Vietnamese page in its own words
    finally:
        restarted.extensions["db"].dispose()


def test_a_silent_job_of_another_host_ends_when_read(app, client, login, tmp_path):
    from store import import_jobs

    upload = tmp_path / "import-z.csv"
    upload.write_text("id\n")
    _leave_running(app, "c" * 32, "may-chu-khac:12345", upload)
    login("planner")
    assert not client.get(f"/import/{'c' * 32}/status").get_json()["finished"]  # not silent long enough yet
    with app.extensions["db"].transaction() as session:
        record = session.get(import_jobs.ImportJobRecord, "c" * 32)
        record.updated_at = record.updated_at - timedelta(hours=3)
    status = client.get(f"/import/{'c' * 32}/status").get_json()
    assert status["finished"] and status["stage"] == "failed" and not upload.exists()
    page = client.get(f"/import/{'c' * 32}").get_data(as_text=True)
    assert "tải tệp lên lại" in page
