"""Operations commands: ``serve`` (production WSGI server), ``backup`` and ``restore``."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext


def register(app) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="$HOST or 127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="$PORT or 5000")
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve(host, port, threads):
    """Serve with waitress, a production WSGI server (put it behind a TLS proxy)."""
    from waitress import serve as waitress_serve

    click.echo(f"serving on http://{host}:{port} with {threads} threads")
    waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads,
                   ident="bando138")


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
