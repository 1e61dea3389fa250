"""Operations commands: ``serve`` (production WSGI server: gunicorn or waitress), ``backup`` and ``restore``."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext


KEEPALIVE_S = 75


def register(app) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


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
        from waitress import serve as waitress_serve

        click.echo(f"serving on http://{host}:{port} with waitress, {threads} threads")
        waitress_serve(app, host=host, port=port, threads=threads, ident="bando138")
        return
    click.echo(f"serving on http://{host}:{port} with gunicorn, {workers} workers × {threads} threads")
    # Idle keep-alive connections stay open longer than a reader's pause between pages (gunicorn's 2 s
    # default closes them while a client may be sending on them: a connection reset) and than a proxy's.
    gunicorn_application(app, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": timeout, "keepalive": KEEPALIVE_S}).run()


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
        raise click.ClickException(str(e)) from None
    click.echo(f"backup written to {path}")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm that the current data is replaced")
@with_appcontext
def restore_command(source, yes):
    """Replace the database with the backup in SOURCE (checked before anything is replaced)."""
    from store.backup import BackupError, restore

    if not yes:
        raise click.ClickException("restore replaces all current data: add --yes to confirm")
    try:
        restore(current_app.config["DATABASE_URL"], source)
    except BackupError as e:
        raise click.ClickException(str(e)) from None
    current_app.extensions["db"].dispose()
    click.echo(f"database restored from {source}")
