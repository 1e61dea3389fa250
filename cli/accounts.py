"""Database and account commands: ``init-db``, ``create-user``, ``create-token``."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask import current_app
from sqlalchemy import select

from store.models import User
from cli import say, worded
from translations import message


def register(app) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_token)
    app.cli.add_command(revoke_tokens)
    app.cli.add_command(ensure_admin)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (Alembic migrations to head)."""
    db = current_app.extensions["db"]
    db.upgrade()
    click.echo(say("cli.accounts.schema_revision", db=db.current_revision(), redacted=_redacted(db.url)))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["admin", "planner", "border_guard", "district", "commune"]))
@click.option("--district", "district_code", default=None, help="3-digit district code (2024), for --role district")
@click.option("--commune", "commune_code", default=None,
              help="5-digit commune code of the set in force today, for --role commune")
@click.option("--name", "display_name", default="", help="Full name shown in the audit log")
@click.option("--sensitive-clearance", is_flag=True, help="May see exact locations of trafficking cases")
def create_user_command(username, role, district_code, commune_code, display_name, sensitive_clearance):
    """Create a user; the password is read from standard input (first line)."""
    from store.boundaries import known_district_codes
    from web.auth import create_user

    password = sys.stdin.readline().rstrip("\r\n")
    db = current_app.extensions["db"]
    try:
        with db.transaction() as session:
            known = known_district_codes(session) or None
            create_user(session, username, password, role, district_code, display_name=display_name,
                        sensitive_clearance=sensitive_clearance, known_districts=known, commune_code=commune_code)
    except ValueError as e:
        raise click.ClickException(worded(e)) from None
    unit = (message("cli.accounts.for_district", code=district_code) if district_code
            else message("cli.accounts.for_commune", code=commune_code) if commune_code else "")
    click.echo(say("cli.accounts.user_created_role", username=username, role=role, unit=unit))


@click.command("ensure-admin")
@with_appcontext
def ensure_admin():
    """On a database with no users, create ``admin`` with a random password (printed once, kept in
    instance/initial-admin-password, readable by the owner only). Does nothing when any user exists."""
    import secrets
    from pathlib import Path

    from web.auth import create_user

    db = current_app.extensions["db"]
    with db.transaction() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            click.echo(say("cli.accounts.accounts_exist_account_created"))
            return
        password = secrets.token_urlsafe(12)
        create_user(session, "admin", password, "admin", display_name="Quản trị viên đầu tiên",
                    actor="ensure-admin")
    note = Path(current_app.config.get("INITIAL_PASSWORD_FILE")
                or Path(current_app.instance_path) / "initial-admin-password")
    note.write_text(password + "\n")
    note.chmod(0o600)
    click.echo(say("cli.accounts.first_account_admin_also", password=password, note=note))


@click.command("create-token")
@with_appcontext
@click.argument("username")
@click.option("--name", default="", help="What the token is for, e.g. 'QGIS máy phòng PV01'")
def create_token(username, name):
    """Issue an API token for USERNAME (printed once; only its hash is kept)."""
    from store import audit
    from web.auth import issue_token

    db = current_app.extensions["db"]
    with db.transaction() as session:
        user = _existing_user(session, username)
        token = issue_token(session, user, name)
        audit.record(session, username="cli", action="create_token", entity="user", entity_id=user.id,
                     after={"token_name": name})
    click.echo(token)


@click.command("revoke-tokens")
@click.argument("username")
@click.option("--name", default=None, help="Only the tokens issued with this name")
@with_appcontext
def revoke_tokens(username, name):
    """Revoke USERNAME's API tokens (all, or those named --name); revoked tokens stop working at once."""
    from store import audit
    from store.models import ApiToken

    db = current_app.extensions["db"]
    with db.transaction() as session:
        user = _existing_user(session, username)
        query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        if name is not None:
            query = query.where(ApiToken.name == name)
        tokens = session.scalars(query).all()
        for token in tokens:
            token.revoked = True
        audit.record(session, username="cli", action="revoke_tokens", entity="user", entity_id=user.id,
                     after={"revoked": len(tokens), "token_name": name})
    click.echo(say("cli.accounts.token_s_revoked", n_tokens=len(tokens), username=username))


def _existing_user(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(say("cli.accounts.user", username=username))
    return user


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
