"""The Flask CLI builds the app without the web layer for the commands that need none (issue #15 point 3)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from flask.cli import FlaskGroup

from cli import COMMANDS_WITHOUT_WEB, command_without_web

ROOT = Path(__file__).resolve().parent.parent


def decided_under_cli(monkeypatch, argv: list[str]) -> bool:
    """:func:`command_without_web` as the app factory sees it while ``flask`` resolves its command."""
    monkeypatch.setattr(sys, "argv", argv)
    group = FlaskGroup(create_app=lambda: None)
    with click.Context(group, info_name="flask"):
        return command_without_web()


@pytest.mark.parametrize("argv", [
    ["flask", "--app", "server", "import-incidents", "f.csv", "--skip-invalid"],
    ["flask", "--app=server", "import-incidents", "f.csv"],
    ["flask", "-A", "server", "--debug", "-e", "other.env", "import-incidents", "f.csv"],
    ["bando138", "import-incidents", "f.csv"],
])
def test_import_command_is_recognised_on_the_command_line(monkeypatch, argv):
    assert decided_under_cli(monkeypatch, argv)


@pytest.mark.parametrize("argv", [
    ["flask", "--app", "server", "routes"],
    ["flask", "--app", "server", "run"],
    ["flask", "--app", "server", "--help"],
    ["flask", "--app", "server"],
    ["flask", "--app", "import-incidents", "routes"],  # an option's value is not the command
    ["flask", "--app", "server", "export-incidents", "import-incidents"],
])
def test_every_other_command_gets_the_whole_application(monkeypatch, argv):
    assert not decided_under_cli(monkeypatch, argv)


def test_outside_the_flask_cli_the_application_is_whole(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["flask", "import-incidents", "f.csv"])
    assert not command_without_web()  # no click context: a WSGI server, python server.py, a test
    with click.Context(click.Command("import-incidents")):
        assert not command_without_web()  # a click command that is not the Flask CLI


def test_app_without_web_has_the_commands_but_no_pages(tmp_path):
    from server import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "SECRET_KEY": "x"}, web=False)
    assert COMMANDS_WITHOUT_WEB <= set(app.cli.commands)
    assert not app.blueprints
    whole = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "SECRET_KEY": "x"})
    assert set(app.cli.commands) == set(whole.cli.commands)
    assert whole.blueprints


def test_flask_import_command_runs_without_importing_the_pages(tmp_path):
    """The whole process: ``flask --app server import-incidents`` writes the rows, and neither folium,
    matplotlib, scipy nor any module of the pages, layers or reports was imported."""
    env = {**os.environ, "BANDO_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "BANDO_SECRET_KEY": "x",
           "BANDO_INSTANCE_PATH": str(tmp_path / "instance")}
    flask = [sys.executable, "-m", "flask", "--app", "server"]
    for setup in (["init-db"], ["load-boundaries"]):
        assert subprocess.run([*flask, *setup], cwd=ROOT, env=env, capture_output=True).returncode == 0
    path = tmp_path / "vu_viec.csv"
    path.write_text("id,occurred_at,category,severity,case_status,lon,lat\n"
                    "CA-1,2024-03-05,theft,less_serious,received,105.7630,10.2960\n", encoding="utf-8")
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in "
             "('folium', 'matplotlib', 'scipy', 'layers', 'reports') or m.startswith('web.') and m not in "
             "('web.logs', 'web.access', 'web.i18n')), file=sys.stderr))\n"
             "from flask.cli import main\n"
             "sys.argv = ['flask', '--app', 'server', 'import-incidents', sys.argv[1]]\n"
             "main()\n")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr
    with __import__("sqlite3").connect(tmp_path / "x.sqlite3") as connection:
        assert connection.execute("SELECT id FROM incidents").fetchall() == [("CA-1",)]
