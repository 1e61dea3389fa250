"""Import jobs live in the database: another server process (gunicorn worker) answers a job's progress."""
from __future__ import annotations

import io
import time

from store import import_jobs
from store.importing import ImportReport
from geo.incidents import RowError
from tests.conftest import SignIn
from tests.test_imports_web import GOOD_ROWS, HEADER, BAD_ROWS


def second_worker(app):
    """The same application on the same database, as a second gunicorn worker process would run it."""
    from server import create_app

    return create_app({key: app.config[key] for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "DATA_DIR")})


def test_progress_and_result_are_answered_by_another_worker(app, login, client):
    login("planner")
    response = client.post("/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO((HEADER + GOOD_ROWS + BAD_ROWS).encode()), "vu_viec.csv"),
        "csrf_token": login.csrf_token, "skip_invalid": "1"})
    assert response.status_code == 303
    job_url = response.headers["Location"]
    other_app = second_worker(app)
    try:
        other = other_app.test_client()
        SignIn(other)("planner")
        deadline = time.monotonic() + 20
        while not (status := other.get(job_url + "/status").get_json())["finished"]:
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        # the file is validated and written chunk by chunk: the count is of the file's rows, refused ones too
        assert status["stage"] == "done" and status["total"] == 4
        page = other.get(job_url).get_data(as_text=True)
        assert 'id="import-written">2<' in page and 'id="import-refused">2<' in page
        report = other.get(job_url + "/errors.csv").get_data(as_text=True)
        assert "3,category,xyz," in report
        assert "vu_viec.csv" in other.get("/import").get_data(as_text=True)  # recent imports, from the table
    finally:
        other_app.extensions["db"].dispose()


def test_job_rows_record_stages_reports_and_failures(db):
    with db.transaction() as session:
        import_jobs.create_job(session, "a" * 32, username="planner", filename="a.csv", skip_invalid=False)
        import_jobs.create_job(session, "b" * 32, username="admin", filename="b.csv", skip_invalid=True)
    with db.transaction() as session:
        import_jobs.update_progress(session, "a" * 32, "validate", 5, 10)
    with db.transaction() as session:
        job = import_jobs.get_job(session, "a" * 32)
    assert (job.stage, job.done, job.total, job.finished) == ("validate", 5, 10, False)
    report = ImportReport(filename="a.csv", rows=3, written=1, unchanged=1, committed=True,
                          errors=[RowError(row=2, field="lon", value="999", reason="ngoài tỉnh")])
    with db.transaction() as session:
        import_jobs.finish_job(session, "a" * 32, report=report)
        import_jobs.finish_job(session, "b" * 32, error="tệp hỏng")
    with db.transaction() as session:
        done, failed = import_jobs.get_job(session, "a" * 32), import_jobs.get_job(session, "b" * 32)
        assert [j.id for j in import_jobs.recent_jobs(session, "planner")] == ["a" * 32]
        assert len(import_jobs.recent_jobs(session, None)) == 2
    assert done.stage == "done" and done.report.written == 1 and done.report.refused == 1
    assert done.report.errors[0].row == 2 and done.report.errors[0].value == "999"
    assert failed.stage == "failed" and failed.error == "tệp hỏng" and failed.report is None


def test_only_the_newest_finished_jobs_are_kept(db, monkeypatch):
    monkeypatch.setattr(import_jobs, "KEPT_FINISHED", 2)
    with db.transaction() as session:
        for n in range(4):
            import_jobs.create_job(session, f"{n:032d}", username="planner", filename=f"{n}.csv",
                                   skip_invalid=False)
            session.get(import_jobs.ImportJobRecord, f"{n:032d}").started_at = import_jobs.utcnow().replace(
                year=2020 + n)
    with db.transaction() as session:
        for n in range(3):
            import_jobs.finish_job(session, f"{n:032d}", error="x")
    with db.transaction() as session:
        kept = sorted(j.id[-1] for j in import_jobs.recent_jobs(session, None))
    assert kept == ["1", "2", "3"]  # job 0, the oldest finished one, went; job 3 is still running


def test_a_refused_file_is_kept_as_a_message_and_worded_in_the_readers_language(db):
    from geo.errors import GeoInputError
    from geo.incidents import check_table_bounds
    import pandas as pd

    table = pd.DataFrame({"a": ["x" * 40_000]})
    try:
        check_table_bounds(table, "upload-1f3a.csv")
    except GeoInputError as refused:
        kept = import_jobs.refusal_to_keep(refused, {"upload-1f3a.csv": "vu_viec.csv"})
    for job_id in ("c" * 32, "d" * 32):
        with db.transaction() as session:
            import_jobs.create_job(session, job_id, username="planner", filename="vu_viec.csv",
                                   skip_invalid=False, upload_path="/nowhere")
    with db.transaction() as session:
        import_jobs.finish_job(session, "c" * 32, error=kept)
        import_jobs.finish_job(session, "d" * 32, error="tệp hỏng")  # a job kept before messages: its text
    with db.transaction() as session:
        job, old = import_jobs.get_job(session, "c" * 32), import_jobs.get_job(session, "d" * 32)
    assert job.error_in("en").startswith("path 'vu_viec.csv': row 1 holds a cell of 40,000 characters, more than")
    assert job.error_in("vi").startswith("tệp 'vu_viec.csv': dòng 1 có một ô dài 40.000 ký tự, quá")
    assert "upload-1f3a" not in job.error_in("vi") + job.error_in("en")
    assert old.error_in("en") == "tệp hỏng"
