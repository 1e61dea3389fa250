"""``flask serve``: gunicorn with several worker processes, and state that any worker can answer."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_application_takes_the_options(app):
    from cli.ops import KEEPALIVE_S, gunicorn_application

    application = gunicorn_application(app, {"bind": "127.0.0.1:0", "workers": 3, "threads": 4,
                                              "worker_class": "gthread", "keepalive": KEEPALIVE_S})
    cfg = application.cfg
    assert (cfg.workers, cfg.threads, cfg.keepalive, cfg.bind) == (3, 4, KEEPALIVE_S, ["127.0.0.1:0"])
    assert cfg.worker_class_str == "gthread"
    assert application.load() is app


def test_serve_offers_both_servers(runner):
    result = runner.invoke(args=["serve", "--help"])
    assert result.exit_code == 0
    assert "gunicorn" in result.output and "waitress" in result.output and "--workers" in result.output
    result = runner.invoke(args=["serve", "--server", "uwsgi"])
    assert result.exit_code != 0 and "uwsgi" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(parent: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{parent}$", text, re.M):
            children.append(int(status.parent.name))
    return children


@pytest.fixture
def served(app, data_dir):
    """The app's database served by ``flask serve`` (gunicorn, 2 workers) on a free loopback port."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], BANDO_SECRET_KEY="serve-test",
               BANDO_DATA_DIR=str(data_dir))
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "2", "--threads", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(server.pid)) < 2 or not _answers(port):
            assert server.poll() is None, "flask serve stopped"
            assert time.monotonic() < deadline, "flask serve did not start"
            time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/login")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    # A new connection per request, so requests are spread over the workers.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_import_progress_and_map_scripts_are_answered_by_every_worker(app, db, served):
    from store import drug_status as ds
    from store import import_jobs
    from store.models import User
    from tests.tracker_helpers import PLANNER, SA_RAI
    from web.auth import issue_token

    port, server = served
    assert len(worker_pids(server.pid)) == 2
    with db.transaction() as session:
        token = issue_token(session, session.scalar(select(User).where(User.username == "planner")), "serve-test")
        import_jobs.create_job(session, "f" * 32, username="planner", filename="a.csv", skip_invalid=False)
        ds.record_drug_status(session, PLANNER, commune_code=SA_RAI, year=2024, indicators={"residents": 9000})
        import_jobs.update_progress(session, "f" * 32, "validate", 7, 10)
    for _ in range(8):
        status, payload = get(port, f"/import/{'f' * 32}/status", token)
        assert status == 200 and json.loads(payload)["done"] == 7
    status, page = get(port, "/drug-status?year=2024", token)
    assert status == 200
    script_url = re.search(r'src="(/tracker-maps/[^"]+)"', page.decode()).group(1)
    for _ in range(8):
        status, script = get(port, script_url, token)
        assert status == 200 and b"L.map(" in script
