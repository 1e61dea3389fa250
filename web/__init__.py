"""Web layer: blueprints, sign-in, access control, error handling.

Every module in this package that defines a blueprint named ``bp`` is registered automatically, so a
new resource is one new module and no shared list to edit.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from geo.errors import GeoInputError
from web import access
from web import i18n
from web.i18n import current_language, format_date, format_number, pick, t
from web.logs import log_refused

csrf = CSRFProtect()
log = logging.getLogger("bando138")


def register(app: Flask) -> None:
    from web import auth

    # CSRF is checked in check_access so that API-token requests (no cookie, no CSRF risk) skip it.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    i18n.init_app(app)
    auth.login_manager.init_app(app)

    # Before the blueprints build their rules: an id beyond SQLite/PostgreSQL BIGINT is a 404, not an
    # OverflowError in the database driver (found by fuzzing the API).
    app.url_map.converters["int"] = DatabaseIntegerConverter
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        blueprint = getattr(module, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)

    from cli import register as register_cli

    register_cli(app)

    app.before_request(check_access)
    limit_sign_in_by_address(app)
    close_abandoned_imports(app)
    app.teardown_appcontext(close_session)
    app.after_request(security_headers)
    app.after_request(log_refused)
    register_error_handlers(app)

    @app.context_processor
    def interface_helpers():
        return {"t": t, "pick": pick, "format_number": format_number, "format_date": format_date,
                "lang": current_language(), "current_user": current_user,
                "role_labels": access.ROLE_LABELS, "nav_endpoints": navigable_endpoints(app),
                "show_demo_banner": demo_data_present(), "data_through": _data_through_for_pages(),
                "pending_counts": _pending_counts_for_menu()}

    @app.template_filter("vn_time")
    def vn_time(stamp, with_seconds: bool = False) -> str:
        """A stored UTC time as Vietnam time (UTC+7), ``dd/mm/yyyy HH:MM``; empty for none."""
        return vietnam_time_text(stamp, with_seconds=with_seconds)

    @app.template_filter("querystring_with")
    def querystring_with(args, **changes):
        """The current query string with some parameters replaced (keeps a bookmarked view intact)."""
        from urllib.parse import urlencode

        merged = {k: v for k, v in args.items(multi=True) if k not in changes}
        merged.update({k: v for k, v in changes.items() if v is not None})
        return urlencode(merged)


VIETNAM_TIME = "Asia/Ho_Chi_Minh"


def vietnam_time_text(stamp, *, with_seconds: bool = False) -> str:
    """``stamp`` (naive = UTC, as ``store.models.utcnow`` stores it) in Vietnam time, ``dd/mm/yyyy HH:MM``."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    if stamp is None:
        return ""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    from flask import has_app_context

    from translations import format_datetime

    local = stamp.astimezone(ZoneInfo(VIETNAM_TIME)).replace(tzinfo=None)
    # Outside the app (a script formatting a stamp) there is no page language: the default interface one.
    lang = current_language() if has_app_context() else "vi"
    return format_datetime(local, lang, seconds=with_seconds)


def close_abandoned_imports(app: Flask) -> None:
    """On start, close upload imports whose process died (marked failed, uploads deleted)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from store import import_jobs

    try:
        with app.extensions["db"].transaction() as session:
            closed = import_jobs.close_abandoned_jobs(session)
    except (OperationalError, ProgrammingError):  # schema not created yet (before init-db)
        return
    if closed:
        log.warning("%d upload import(s) left running by a stopped process were marked failed", closed)


def limit_sign_in_by_address(app: Flask) -> None:
    """Flask-Limiter on ``POST /login`` per client address, one limiter per application.

    Its counters live in the application's database (``store.rate_limits``) unless
    ``RATELIMIT_STORAGE_URI`` names another storage (``redis://…``); every gunicorn worker counts together.
    Over the limit the answer is 429 with ``Retry-After``.
    """
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    import store.rate_limits  # noqa: F401  (registers the bando138-db:// storage scheme)

    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if app.config["RATELIMIT_STORAGE_URI"].startswith(store.rate_limits.SCHEME):
        options["database"] = app.extensions["db"]
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"],
                      storage_options=options, headers_enabled=True, key_prefix="bando138")
    app.view_functions["auth.login"] = limiter.limit(lambda: app.config["LOGIN_ADDRESS_LIMIT"],
                                                     methods=["POST"])(app.view_functions["auth.login"])


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what every database's integer key holds (PostgreSQL ``integer``: signed 32 bits)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def navigable_endpoints(app: Flask) -> set[str]:
    """Endpoints the signed-in user may open, so the menu never offers a page that answers 403."""
    if not current_user.is_authenticated:
        return set()
    return {endpoint for endpoint, view in app.view_functions.items() if access.shown_in_menu(view, current_user)}


def _data_through_for_pages():
    """The last recorded day, printed in every page's header ("Số liệu đến dd/mm/yyyy")."""
    if not current_user.is_authenticated:
        return None
    from web.periods import data_through

    return data_through()


def _pending_counts_for_menu():
    """Proposals waiting for the signed-in planner's decision, shown as badges in the menu."""
    if not current_user.is_authenticated:
        return None
    from store.work_queue import pending_counts

    try:
        return pending_counts(db_session(), current_user)
    except Exception:  # schema not created yet: the page itself will say so
        return None


def demo_data_present() -> bool:
    if not current_user.is_authenticated:
        return False
    from store.incidents import has_demo_data

    try:
        return has_demo_data(db_session())
    except Exception:  # schema not created yet: the page itself will say so
        return False


def db_session():
    """The request's session (opened on first use, closed at teardown)."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = current_app.extensions["db"].Session()
    return g.db_session


def close_session(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def is_ogc() -> bool:
    """Requests of the OGC API, whose every answer (errors too) speaks its JSON encoding."""
    return request.path == "/ogc" or request.path.startswith("/ogc/")


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc")) or request.accept_mimetypes.best == "application/json"


def check_access():
    if request.endpoint is None:
        return None  # unknown URL: let the 404 handler answer
    if request.endpoint == "static":
        return None
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    roles = access.allowed_roles(view)
    if roles is None:
        log.warning("endpoint %s declares no audience; denied", request.endpoint)
        return deny(403)
    if access.PUBLIC in roles:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        return None
    if not current_user.is_authenticated:
        if wants_json():
            return deny(401)
        return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("token_auth"):
        csrf.protect()
    if current_user.role not in roles:
        g.refusal = f"forbidden to role {current_user.role}"
        return deny(403)
    return None


def deny(status: int):
    key = {401: "login.required", 403: "error.forbidden", 404: "error.not_found", 400: "error.bad_request",
           405: "error.method", 413: "error.too_large", 429: "error.too_many"}.get(status, "error.server")
    if is_ogc():
        from web.ogc import exception

        return exception(status, t(key))
    if wants_json():
        response = jsonify({"error": t(key), "status": status})
        if status == 401:  # RFC 9110 §15.5.2: a 401 names the scheme that would succeed
            response.headers["WWW-Authenticate"] = 'Bearer realm="bando138"'
        return response, status
    return render_template("error.html", message=t(key), status=status), status


def content_security_policy(tile_url: str = "") -> str:
    """Scripts only from the app itself (no inline script, no eval); tiles from the configured server.

    Inline *styles* stay allowed: Leaflet and folium popups position and colour elements with style
    attributes, and a style cannot run code.
    """
    from urllib.parse import urlsplit

    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            images.append(f"{parts.scheme}://{host}")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(images)}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


def security_headers(response):
    from flask import current_app

    response.headers.setdefault("Content-Security-Policy",
                                content_security_policy(current_app.config.get("TILE_URL", "")))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint not in ("static", "vendor.asset"):
        # Police data must not linger in shared browser caches or proxies.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        g.refusal = "CSRF token missing or invalid"
        if is_ogc():
            from web.ogc import exception

            return exception(400, t("error.csrf"))
        if wants_json():
            return jsonify({"error": t("error.csrf"), "status": 400}), 400
        return render_template("error.html", message=t("error.csrf"), status=400), 400

    @app.errorhandler(GeoInputError)
    def geo_input_error(e):
        g.refusal = f"input refused ({type(e).__name__})"
        if is_ogc():
            from web.ogc import exception

            return exception(400, str(e))
        if wants_json():
            from web.api_schemas import error_body

            return jsonify(error_body(e, 400, i18n.current_language())), 400
        return render_template("error.html", message=i18n.error_text(e), status=400), 400

    for status in (400, 401, 403, 404, 405, 406, 413):
        app.register_error_handler(status, lambda _e, status=status: deny(status))

    @app.errorhandler(429)
    def too_many_requests(_e):
        # Flask-Limiter adds Retry-After to this answer (after_request).
        if request.endpoint == "auth.login" and not wants_json():
            return render_template("login.html", error=t("error.too_many")), 429
        return deny(429)

    from sqlalchemy.exc import OperationalError

    @app.errorhandler(OperationalError)
    def database_unavailable(e):
        from store.db import explain_operational_error

        log.error("database error on %s: %s", request.path, e)
        message = explain_operational_error(e)
        if wants_json():
            return jsonify({"error": message, "status": 503}), 503
        return render_template("error.html", message=message, status=503), 503

    @app.errorhandler(500)
    def server_error(_e):
        # The traceback goes to the log, never to the user.
        return deny(500)
