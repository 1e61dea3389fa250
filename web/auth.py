"""Sign-in with Flask-Login: hashed passwords, attempt limiting, server-side sessions, API tokens.

A sign-in answers the same for a name that matches no account as for a real one — same status, same
work (a password hash is checked against a stand-in hash of the same cost), the same lock after
``LOGIN_MAX_ATTEMPTS`` failures — so the answers do not reveal which usernames exist. Per client address,
Flask-Limiter caps sign-in requests (``LOGIN_ADDRESS_LIMIT``) with its counters in the database.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from store import sign_in
from store.models import ApiToken, User
from web import access
from web.access import allow
from web.logs import unknown_account_label

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
log = logging.getLogger("bando138.auth")
# Checked when the name typed matches no account, so that answer costs what a wrong password costs.
STAND_IN_PASSWORD_HASH = generate_password_hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignedInUser:
    """What a request knows about its user, detached from any database session."""

    id: int
    username: str
    role: str
    district_code: str | None
    sensitive_clearance: bool
    display_name: str = ""
    commune_code: str | None = None
    commune_set_id: int | None = None
    session_key: str = ""  # the server-side session this request belongs to (empty for API tokens)
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        # What Flask-Login keeps in the signed cookie: the user and the key of its server-side session.
        return f"{self.id}:{self.session_key}"

    @classmethod
    def from_row(cls, row: User, session_key: str = "") -> "SignedInUser":
        return cls(row.id, row.username, row.role, row.district_code, bool(row.sensitive_clearance),
                   row.display_name or row.username, commune_code=row.commune_code,
                   commune_set_id=row.commune_set_id, session_key=session_key)


def _session():
    from web import db_session

    return db_session()


def session_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


@login_manager.user_loader
def load_user(cookie_id: str):
    """The user of a cookie whose server-side session is still open (not signed out, reset or expired)."""
    number, _, key = cookie_id.partition(":")
    if not number.isdigit() or not key:
        return None
    row = sign_in.user_of_session(_session(), int(number), key, lifetime=session_lifetime())
    return SignedInUser.from_row(row, key) if row is not None and row.active else None


@login_manager.request_loader
def load_user_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token_row = _session().scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked.is_(False))
    )
    if token_row is None:
        g.refusal = "unknown or revoked API token"
        log.warning("API token refused on %s %s: unknown or revoked", req.method, req.path)
        return None
    row = _session().get(User, token_row.user_id)
    if row is None or not row.active or sign_in.locked_until(_session(), row.username) is not None:
        why = "account locked" if row is not None and row.active else "account deactivated"
        g.refusal = f"API token refused: {why}"
        log.warning("API token of %s refused on %s %s: %s", row.username if row is not None else "-", req.method,
                    req.path, why)
        return None  # a locked account's tokens are locked with it
    g.token_auth = True
    return SignedInUser.from_row(row)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def validate_new_user(username: str, password: str, role: str, district_code: str | None,
                      commune_code: str | None = None) -> list[str]:
    problems = []
    if not username or len(username) > 80 or not all(c.isalnum() or c in "._-" for c in username):
        problems.append(f"username {username!r} must be 1–80 letters, digits, '.', '_' or '-'")
    if len(password) < 10:
        problems.append("password must have at least 10 characters")
    if role not in access.ROLES:
        problems.append(f"role {role!r} is not one of: {', '.join(access.ROLES)}")
    if role == access.DISTRICT and not district_code:
        problems.append("a district committee user needs --district CODE")
    if role != access.DISTRICT and district_code:
        problems.append(f"role {role!r} takes no district")
    if role == access.COMMUNE and not commune_code:
        problems.append("a commune committee user needs --commune CODE")
    if role != access.COMMUNE and commune_code:
        problems.append(f"role {role!r} takes no commune")
    return problems


def create_user(session, username, password, role, district_code=None, *, display_name="",
                sensitive_clearance=False, known_districts=None, actor="cli", commune_code=None):
    """Create a user after validation; raises ValueError listing every problem.

    A commune committee's ``commune_code`` is a code of the set in force today; the account keeps that set,
    because the same code may name another commune in another set.
    """
    from store import audit
    from store.boundaries import UnknownBoundarySet, commune_in_current_set

    problems = validate_new_user(username, password, role, district_code, commune_code)
    commune_set_id = None
    if commune_code and role == access.COMMUNE:
        try:
            commune_set_id = commune_in_current_set(session, commune_code)[0].id
        except UnknownBoundarySet as e:
            problems.append(str(e))
    if district_code and known_districts is not None and district_code not in known_districts:
        problems.append(f"district {district_code!r} is not one of: {', '.join(sorted(known_districts))}")
    if session.scalar(select(User).where(User.username == username)) is not None:
        problems.append(f"username {username!r} already exists")
    if problems:
        raise ValueError("; ".join(problems))
    user = User(username=username, password_hash=hash_password(password), role=role,
                district_code=district_code or None, display_name=display_name,
                sensitive_clearance=sensitive_clearance, commune_code=commune_code or None,
                commune_set_id=commune_set_id)
    session.add(user)
    session.flush()
    audit.record(session, username=actor, action="create_user", entity="user", entity_id=user.id,
                 after={"username": username, "role": role, "district_code": district_code,
                        "commune_code": commune_code, "sensitive_clearance": sensitive_clearance})
    return user


def issue_token(session, user: User, name: str = "") -> str:
    """Create an API token; only its hash is stored, so the token is shown once."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    return token


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("maps.overview")
    parts = urlsplit(target)
    # Only same-site relative paths: an absolute or scheme-relative URL would be an open redirect.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("maps.overview")
    return target


def _counter_key(username: str) -> str:
    # A name longer than any account's cannot match one; hashing keeps its counter row bounded.
    return username if len(username) <= 80 else hashlib.sha256(username.encode()).hexdigest()


def _locked_answer(until: float, account: str):
    from web.i18n import t

    wait_s = max(1, math.ceil(until - time.time()))
    g.refusal = "account locked"
    log.warning("sign-in refused for %s from %s: account locked for %d more seconds", account, request.remote_addr,
                wait_s)
    body = render_template("login.html", error=t("login.locked", minutes=max(1, math.ceil(wait_s / 60))))
    return body, 429, {"Retry-After": str(wait_s)}


@bp.route("/login", methods=["GET", "POST"])
@allow(access.PUBLIC)
def login():
    from web.i18n import t

    if request.method != "POST":
        return render_template("login.html", error=None)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    key = _counter_key(username)
    config = current_app.config
    max_attempts, lock_s = config["LOGIN_MAX_ATTEMPTS"], config["LOGIN_LOCK_MINUTES"] * 60
    db = current_app.extensions["db"]
    with db.transaction() as session:
        attempt = sign_in.reserve_attempt(session, key, window_s=lock_s)
        exists = session.scalar(select(User.id).where(User.username == username)) is not None
    # The log, unlike the answer, says whether the account exists: by its username, or for a name matching
    # none by a keyed hash (often it is a password typed into the name field).
    account = username if exists else unknown_account_label(username, current_app.secret_key)
    if attempt.locked(time.time()):
        return _locked_answer(attempt.locked_until, account)
    if attempt.number > max_attempts:  # parallel attempts beyond the allowance: lock without checking
        with db.transaction() as session:
            return _locked_answer(sign_in.lock(session, key, lock_s=lock_s), account)
    row = _session().scalar(select(User).where(User.username == username))
    right = check_password_hash(row.password_hash if row is not None else STAND_IN_PASSWORD_HASH, password)
    if right and row.active:
        with db.transaction() as session:
            if not sign_in.succeed(session, key):  # a parallel wrong attempt locked the account meanwhile
                return _locked_answer(sign_in.locked_until(session, key) or time.time(), account)
            session_key = sign_in.open_session(session, row.id, lifetime=session_lifetime())
            sign_in.forget_stale_failures(session, window_s=lock_s)
        login_user(SignedInUser.from_row(row, session_key))
        log.info("signed in: %s from %s", row.username, request.remote_addr)
        return redirect(_safe_next(request.args.get("next")))
    reason = "no such account" if row is None else "wrong password" if not right else "account deactivated"
    if attempt.number >= max_attempts:
        with db.transaction() as session:
            sign_in.lock(session, key, lock_s=lock_s)
        reason += f"; locked for {config['LOGIN_LOCK_MINUTES']} minutes"
    g.refusal = "sign-in failed"
    log.warning("sign-in failed for %s from %s: %s", account, request.remote_addr, reason)
    return render_template("login.html", error=t("login.failed")), 401


@bp.route("/logout", methods=["POST"])
@allow(*access.EVERYONE)
def logout():
    if current_user.session_key:
        with current_app.extensions["db"].transaction() as session:
            sign_in.close_session(session, current_user.session_key)
    logout_user()
    return redirect(url_for("auth.login"))
