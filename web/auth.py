"""Sign-in with Flask-Login: hashed passwords, attempt limiting, API tokens for scripts and GIS clients."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from store.models import ApiToken, User, utcnow
from web import access
from web.access import allow

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


@dataclass(frozen=True)
class SignedInUser:
    """What a request knows about its user, detached from any database session."""

    id: int
    username: str
    role: str
    district_code: str | None
    sensitive_clearance: bool
    display_name: str = ""
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def from_row(cls, row: User) -> "SignedInUser":
        return cls(row.id, row.username, row.role, row.district_code, bool(row.sensitive_clearance),
                   row.display_name or row.username)


def _session():
    from web import db_session

    return db_session()


@login_manager.user_loader
def load_user(user_id: str):
    row = _session().get(User, int(user_id)) if user_id.isdigit() else None
    return SignedInUser.from_row(row) if row is not None and row.active else None


@login_manager.request_loader
def load_user_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token_row = _session().scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked.is_(False))
    )
    if token_row is None:
        return None
    row = _session().get(User, token_row.user_id)
    if row is None or not row.active:
        return None
    g.token_auth = True
    return SignedInUser.from_row(row)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def validate_new_user(username: str, password: str, role: str, district_code: str | None) -> list[str]:
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
        problems.append(f"role {role!r} is province-wide and takes no district")
    return problems


def create_user(session, username, password, role, district_code=None, *, display_name="",
                sensitive_clearance=False, known_districts=None, actor="cli"):
    """Create a user after validation; raises ValueError listing every problem."""
    from store import audit

    problems = validate_new_user(username, password, role, district_code)
    if district_code and known_districts is not None and district_code not in known_districts:
        problems.append(f"district {district_code!r} is not one of: {', '.join(sorted(known_districts))}")
    if session.scalar(select(User).where(User.username == username)) is not None:
        problems.append(f"username {username!r} already exists")
    if problems:
        raise ValueError("; ".join(problems))
    user = User(username=username, password_hash=hash_password(password), role=role,
                district_code=district_code or None, display_name=display_name,
                sensitive_clearance=sensitive_clearance)
    session.add(user)
    session.flush()
    audit.record(session, username=actor, action="create_user", entity="user", entity_id=user.id,
                 after={"username": username, "role": role, "district_code": district_code,
                        "sensitive_clearance": sensitive_clearance})
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


@bp.route("/login", methods=["GET", "POST"])
@allow(access.PUBLIC)
def login():
    from web.i18n import t

    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        session = _session()
        row = session.scalar(select(User).where(User.username == username))
        now = utcnow()
        if row is not None and row.locked_until and row.locked_until > now:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            error, status = t("login.locked", minutes=minutes), 429
        elif row is not None and row.active and check_password_hash(row.password_hash, password):
            row.failed_logins = 0
            row.locked_until = None
            session.commit()
            login_user(SignedInUser.from_row(row))
            return redirect(_safe_next(request.args.get("next")))
        else:
            if row is not None:
                row.failed_logins = (row.failed_logins or 0) + 1
                if row.failed_logins >= current_app.config["LOGIN_MAX_ATTEMPTS"]:
                    row.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                    row.failed_logins = 0
                session.commit()
            error, status = t("login.failed"), 401
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
@allow(*access.EVERYONE)
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
