"""Operator logs (issue 14, point 7): the level setting, the access log of both WSGI servers, and one line for
every import, report, sign-in failure and refused request — without passwords, tokens, case details or file
names."""
from __future__ import annotations

import http.client
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug.test import Client

from tests.conftest import PASSWORD, csrf_token_from, make_app
from tests.report_data import seed_incidents

ROOT = Path(__file__).resolve().parent.parent
CASE_TEXT = "Nạn nhân Nguyễn Thị Bích"
FILE_NAME = "vu_an_nguyen_van_a.csv"
HEADER = "id,occurred_at,reported_at,category,severity,case_status,lon,lat,description\n"
ROW = f"CA-LOG-1,2024-03-05 21:30,2024-03-06,theft,less_serious,cleared,105.7630,10.2960,{CASE_TEXT}\n"
BAD_ROW = f"CA-LOG-2,2024-03-05,2024-03-06,theft,less_serious,cleared,100.0,20.0,{CASE_TEXT}\n"


def lines(caplog, logger_prefix: str = "bando138") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(logger_prefix)]


def everything_logged(caplog) -> str:
    return "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)


# --------------------------------------------------------------------------------------------- level setting

def test_log_level_setting_is_applied_to_our_loggers(tmp_path, template_db, data_dir, monkeypatch):
    monkeypatch.setenv("BANDO_LOG_LEVEL", "warning")
    application = make_app(tmp_path, template_db, data_dir)
    assert application.config["LOG_LEVEL"] == "WARNING"
    assert logging.getLogger("bando138").level == logging.WARNING
    assert logging.getLogger(application.name).level == logging.WARNING  # Flask's own (errors of views)
    application.extensions["db"].dispose()
    monkeypatch.setenv("BANDO_LOG_LEVEL", "10")  # parsed as JSON by from_prefixed_env: a level number
    (tmp_path / "again").mkdir()
    application = make_app(tmp_path / "again", template_db, data_dir)
    assert application.config["LOG_LEVEL"] == "DEBUG"
    application.extensions["db"].dispose()


def test_an_unknown_log_level_is_refused_naming_the_levels(tmp_path, template_db, data_dir):
    with pytest.raises(ValueError, match=r"BANDO_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; "
                                         r"got 'LOUD'"):
        make_app(tmp_path, template_db, data_dir, LOG_LEVEL="LOUD")


def test_info_lines_are_dropped_at_warning_level(tmp_path, template_db, data_dir, caplog):
    application = make_app(tmp_path, template_db, data_dir, LOG_LEVEL="WARNING")
    caplog.set_level(logging.DEBUG)  # the root: only our loggers' own level filters
    logging.getLogger("bando138.reports").info("hidden")
    logging.getLogger("bando138.reports").warning("shown")
    assert lines(caplog, "bando138.reports") == ["shown"]
    application.extensions["db"].dispose()


def test_lines_reach_stderr_in_the_documented_format(app, capsys):
    logging.getLogger("bando138.requests").warning("refused GET /x: 403 forbidden")
    err = capsys.readouterr().err
    assert " WARNING bando138.requests: refused GET /x: 403 forbidden" in err


# --------------------------------------------------------------------------------------------- sign-in

def post_login(client, username, password):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_sign_in_failures_are_logged_without_the_password(client, caplog):
    caplog.set_level(logging.INFO)
    assert post_login(client, "planner", "sai-mat-khau-bi-mat").status_code == 401
    logged = everything_logged(caplog)
    assert "sign-in failed for planner from 127.0.0.1: wrong password" in logged
    assert "refused POST /login: 401 sign-in failed (endpoint auth.login, by -)" in logged
    assert "sai-mat-khau-bi-mat" not in logged


def test_an_unknown_sign_in_name_is_logged_as_a_keyed_hash(client, caplog):
    caplog.set_level(logging.INFO)
    typed = "mat-khau-go-nham-o-truong-ten"  # a password typed into the name field
    post_login(client, typed, "x")
    post_login(client, typed, "y")
    post_login(client, "someone-else", "z")
    failures = [m for m in lines(caplog) if m.startswith("sign-in failed")]
    assert len(failures) == 3 and typed not in everything_logged(caplog)
    labels = [m.split(" from ")[0].removeprefix("sign-in failed for ") for m in failures]
    assert labels[0] == labels[1] != labels[2] and labels[0].startswith("unknown account #")


def test_locking_and_a_locked_account_are_logged(client, app, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(app.config["LOGIN_MAX_ATTEMPTS"]):
        post_login(client, "guard", "sai")
    assert post_login(client, "guard", PASSWORD).status_code == 429
    messages = lines(caplog)
    assert f"sign-in failed for guard from 127.0.0.1: wrong password; locked for " \
           f"{app.config['LOGIN_LOCK_MINUTES']} minutes" in messages
    assert any(m.startswith("sign-in refused for guard from 127.0.0.1: account locked for ") for m in messages)
    assert "refused POST /login: 429 account locked (endpoint auth.login, by -)" in messages


def test_a_successful_sign_in_is_an_info_line(client, caplog):
    caplog.set_level(logging.INFO)
    assert post_login(client, "planner", PASSWORD).status_code == 302
    assert "signed in: planner from 127.0.0.1" in lines(caplog)
    assert not [m for m in lines(caplog) if m.startswith("refused")]


# --------------------------------------------------------------------------------------------- refused requests

def test_forbidden_unauthenticated_and_csrf_refusals_are_logged(client, login, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/api/key-areas").status_code == 401
    login("district_869")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/logout").status_code == 400  # no CSRF token
    messages = lines(caplog, "bando138.requests")
    assert any(m.startswith("refused GET /api/key-areas: 401 not signed in (endpoint ") and m.endswith("by -)")
               for m in messages)
    assert any(m.startswith("refused GET /admin/users: 403 forbidden to role district (endpoint ")
               and m.endswith("by district_869)") for m in messages)
    assert "refused POST /logout: 400 CSRF token missing or invalid (endpoint auth.logout, by district_869)" \
        in messages


def test_a_bad_api_token_is_logged_but_never_the_token(client, caplog):
    caplog.set_level(logging.INFO)
    secret = "tok-khong-hop-le-0123456789"
    assert client.get("/api/key-areas", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    logged = everything_logged(caplog)
    assert "API token refused on GET /api/key-areas: unknown or revoked" in logged
    assert "401 unknown or revoked API token" in logged and secret not in logged


def test_a_refused_input_is_logged_without_its_message(client, login, caplog):
    caplog.set_level(logging.INFO)
    login("planner")
    assert client.get("/reports/download?period=2024-Q9&format=docx").status_code == 400
    (line,) = [m for m in lines(caplog, "bando138.requests") if m.startswith("refused")]
    assert line.startswith("refused GET /reports/download: 400 input refused (")
    assert "2024-Q9" not in line and line.endswith("by planner)")


def test_pages_answered_normally_write_no_refusal(client, login, caplog):
    caplog.set_level(logging.INFO)
    login("planner")
    assert client.get("/reports").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    assert not [m for m in lines(caplog, "bando138.requests")]


# --------------------------------------------------------------------------------------------- imports, reports

def test_an_import_is_logged_with_counts_but_no_file_name_or_case_text(runner, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    good = tmp_path / FILE_NAME
    good.write_text(HEADER + ROW, encoding="utf-8")
    assert runner.invoke(args=["import-incidents", str(good)]).exit_code == 0
    bad = tmp_path / "ho_so_tran_van_b.csv"
    bad.write_text(HEADER + BAD_ROW, encoding="utf-8")
    assert runner.invoke(args=["import-incidents", str(bad)]).exit_code != 0
    missing = tmp_path / "khong_co.xlsx"
    missing.write_bytes(b"not a workbook")
    assert runner.invoke(args=["import-incidents", str(missing)]).exit_code != 0
    messages = lines(caplog, "bando138.imports")
    assert messages[0] == "import by cli of a csv file: 1 rows, 1 written, 0 unchanged, 0 refused, 0 warnings"
    assert messages[1] == "import by cli of a csv file refused: 1 of 1 rows invalid; nothing written"
    assert messages[2].startswith("import by cli of a xlsx file refused (") and messages[2].endswith("nothing written")
    logged = everything_logged(caplog)
    assert "nguyen_van_a" not in logged and "tran_van_b" not in logged and "Bích" not in logged
    assert "CA-LOG" not in logged


def test_an_upload_import_is_logged_under_the_uploader(client, login, caplog):
    from tests.test_imports_web import finished_job, upload

    caplog.set_level(logging.INFO)
    login("planner")
    page, _ = finished_job(client, upload(client, login.csrf_token, FILE_NAME, (HEADER + ROW).encode()))
    assert 'id="import-written">1<' in page
    assert "import by planner of a csv file: 1 rows, 1 written, 0 unchanged, 0 refused, 0 warnings" \
        in lines(caplog, "bando138.imports")
    assert "nguyen_van_a" not in everything_logged(caplog)


def test_reports_are_logged_from_the_page_and_the_command(app, client, login, runner, tmp_path, caplog):
    seed_incidents(app)
    caplog.set_level(logging.INFO)
    login("planner")
    response = client.get("/reports/download?period=2024-Q1&district=869&format=xlsx")
    assert response.status_code == 200
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(tmp_path / "r.docx")]).exit_code == 0
    messages = lines(caplog, "bando138.reports")
    assert len(messages) == 2
    assert messages[0].startswith("report 2024-Q1 for district 869 as xlsx by planner (data version ")
    assert messages[1].startswith("report 2024 for the province as docx by cli (data version ")


# --------------------------------------------------------------------------------------------- access logs

def test_access_log_middleware_writes_one_combined_line_per_request(app, caplog):
    from web.logs import AccessLog

    caplog.set_level(logging.INFO)
    client = Client(AccessLog(app.wsgi_app))
    response = client.get("/login?lang=en", headers={"User-Agent": "QGIS/3.28", "Referer": "http://x/"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    body = response.get_data()
    response.close()
    (line,) = lines(caplog, "bando138.access")
    assert line.startswith(f'127.0.0.1 "GET /login?lang=en HTTP/1.1" 200 {len(body)} "http://x/" "QGIS/3.28" ')
    assert line.endswith("ms")
    client.get("/static/no-such-file.css", environ_base={"REMOTE_ADDR": "127.0.0.1"}).close()
    assert lines(caplog, "bando138.access")[1].startswith('127.0.0.1 "GET /static/no-such-file.css HTTP/1.1" 404 ')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_both_wsgi_servers_write_an_access_log(app, data_dir, tmp_path, server):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], BANDO_SECRET_KEY="log-test",
               BANDO_DATA_DIR=str(data_dir), BANDO_INSTANCE_PATH=str(tmp_path / "instance"))
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "serve", "--server", server,
                                    "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "2"],
                                   cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, err.read_text()
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/login?lang=en", headers={"User-Agent": "log-test-agent"})
                    response = connection.getresponse()
                    response.read()
                    connection.close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.3)
            assert response.status == 200
            deadline = time.monotonic() + 30
            while "log-test-agent" not in out.read_text() + err.read_text():
                assert time.monotonic() < deadline, out.read_text() + err.read_text()
                time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=30)
    (line,) = [l for l in (out.read_text() + err.read_text()).splitlines() if "log-test-agent" in l]
    assert '"GET /login?lang=en HTTP/1.1" 200 ' in line and line.startswith(
        "127.0.0.1 " if server == "gunicorn" else line[:0]) and line.rstrip().endswith("ms")
    if server == "waitress":
        assert " INFO bando138.access: 127.0.0.1 " in line
