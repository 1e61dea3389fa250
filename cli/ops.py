"""Operations commands: ``serve`` (production WSGI server: gunicorn or waitress), ``backup``, ``restore`` and
``verify-audit``."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from cli import say, worded


KEEPALIVE_S = 75


def register(app) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(verify_audit)


@click.command("verify-audit")
@with_appcontext
def verify_audit():
    """Check the audit trail's hash chain and append-only triggers; report the first broken link."""
    from store.audit import verify_chain

    with current_app.extensions["db"].transaction() as session:
        check = verify_chain(session)
    if check.intact:
        click.echo(say("cli.ops.audit_trail_intact_rows", check_rows=check.rows))
        return
    raise click.ClickException(say("cli.ops.audit_trail_broken", check_reason=check.reason))


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="$HOST or 127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="$PORT or 5000")
@click.option("--server", "server_name", type=click.Choice(["gunicorn", "waitress"]), default="gunicorn",
              show_default=True, help="gunicorn: several processes (uses every core); waitress: one process")
@click.option("--workers", default=lambda: os.cpu_count() or 1, type=click.IntRange(min=1),
              show_default="number of cores", help="gunicorn worker processes")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1),
              help="threads per worker process (gunicorn gthread) or of the one waitress process")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(min=1),
              help="gunicorn: seconds before a silent worker is restarted")
@with_appcontext
def serve(host, port, server_name, workers, threads, timeout):
    """Serve with a production WSGI server (put it behind a TLS proxy).

    gunicorn runs WORKERS processes × THREADS threads, so map rendering (Python, bound by the GIL) uses every
    core; waitress (``--server waitress``) is one process with THREADS threads and also runs on Windows.
    """
    app = current_app._get_current_object()
    if server_name == "waitress":
        click.echo(say("cli.ops.serving_http_waitress_threads", host=host, port=port, threads=threads))
        run_waitress(app, host=host, port=port, threads=threads)
        return
    click.echo(say("cli.ops.serving_http_gunicorn_workers", host=host, port=port, workers=workers, threads=threads))
    # Idle keep-alive connections stay open longer than a reader's pause between pages (gunicorn's 2 s
    # default closes them while a client may be sending on them: a connection reset) and than a proxy's.
    gunicorn_application(app, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": timeout, "keepalive": KEEPALIVE_S,
                               **gunicorn_log_options(app.config["LOG_LEVEL"])}).run()


def gunicorn_log_options(level: str) -> dict:
    """gunicorn's access log on standard output (Apache combined format plus the time taken) and its own messages at
    the level of ours (``BANDO_LOG_LEVEL``)."""
    from web.logs import GUNICORN_ACCESS_FORMAT

    return {"accesslog": "-", "errorlog": "-", "access_log_format": GUNICORN_ACCESS_FORMAT,
            "loglevel": level.lower()}


def run_waitress(app, *, host: str, port: int, threads: int) -> None:
    """waitress behind our access log (:class:`web.logs.AccessLog`).

    Through ``create_server`` rather than ``waitress.serve``, whose ``logging.basicConfig()`` would add a
    root handler and so print every line of ours a second time.
    """
    from waitress.server import create_server

    from web.logs import AccessLog

    create_server(AccessLog(app), host=host, port=port, threads=threads, ident="bando138").run()


def gunicorn_application(app, options: dict):
    """A gunicorn application serving ``app`` (gunicorn's custom-application API) with ``options``.

    The app is built once here and forked into the workers; each worker drops the database connections it
    inherited (a connection must never be shared between processes) and opens its own.
    """
    from gunicorn.app.base import BaseApplication

    def post_fork(_server, _worker):
        app.extensions["db"].engine.dispose(close=False)

    class Application(BaseApplication):
        def load_config(self):
            for key, value in {"post_fork": post_fork, "proc_name": "bando138", **options}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    return Application()


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(destination):
    """Write a consistent backup of the database to DESTINATION (safe while the app runs)."""
    from store.backup import BackupError, backup

    try:
        path = backup(current_app.config["DATABASE_URL"], destination)
    except BackupError as e:
        raise click.ClickException(worded(e)) from None
    click.echo(say("cli.ops.backup_written", path=path))


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm that the current data is replaced")
@with_appcontext
def restore_command(source, yes):
    """Replace the database with the backup in SOURCE (checked before anything is replaced)."""
    from store.backup import BackupError, restore

    if not yes:
        raise click.ClickException(say("cli.ops.restore_replaces_all_current"))
    try:
        restore(current_app.config["DATABASE_URL"], source)
    except BackupError as e:
        raise click.ClickException(worded(e)) from None
    current_app.extensions["db"].dispose()
    click.echo(say("cli.ops.database_restored_from", source=source))
