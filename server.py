"""Bản đồ 138 — Flask application factory and development entry point.

Configuration is layered in the flaskr manner: defaults below → ``instance/config.py`` → environment
variables prefixed ``BANDO_`` (``from_prefixed_env``) → the ``test_config`` mapping. ``DATABASE_URL``,
``HOST`` and ``PORT`` are also read unprefixed because deployment tools set them that way.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent


def default_config(instance_path: Path) -> dict:
    return {
        "SECRET_KEY": None,  # filled from instance/secret_key (created once) when not configured
        "DATABASE_URL": f"sqlite:///{instance_path / 'bando138.sqlite3'}",
        "DATA_DIR": str(ROOT / "data"),
        "BOUNDARIES_PATH": None,  # default: DATA_DIR/boundaries/dong_thap_communes_2024.geojson
        "POPULATION_PATH": None,  # default: DATA_DIR/population/dong_thap_population_2019.csv
        "CATEGORY_MAP_PATH": "",  # the office's own offence names for /import (geo.offences.read_category_map)
        "TILE_URL": "",  # basemap tiles, e.g. an intranet tile server; empty = boundaries only
        "TILE_ATTRIBUTION": "",
        # the offline basemap (build-basemap); relative to the instance folder; served only when the file exists
        "BASEMAP_PMTILES": "basemap.pmtiles",
        "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set BANDO_SESSION_COOKIE_SECURE=true behind TLS
        "REMEMBER_COOKIE_HTTPONLY": True,
        "LOGIN_MAX_ATTEMPTS": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "LOGIN_ADDRESS_LIMIT": "20 per minute; 200 per hour",  # sign-in requests per client address
        "RATELIMIT_STORAGE_URI": "bando138-db://",  # counters in the app's database, shared by every worker
        "SESSION_LIFETIME_HOURS": 12,
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host/-Port; 0 = trust none of them
        # (a client could forge them when it reaches the app directly).
        "TRUSTED_PROXIES": 0,
        "WTF_CSRF_TIME_LIMIT": None,
        "DEFAULT_LANGUAGE": "vi",
        "CLI_LANGUAGE": "",  # the commands' messages (cli.cli_language); empty: DEFAULT_LANGUAGE
        "DB_BUSY_TIMEOUT_S": 30,
        "VENDOR_DIR": str(ROOT / "node_modules"),
        "LOG_LEVEL": "INFO",  # web.logs: our loggers and Flask's, on stderr
    }


def create_app(test_config: dict | None = None, *, web: bool | None = None) -> Flask:
    """The application: configuration, database, commands and (``web``) the pages, sign-in and API.

    ``web=None`` builds the web layer unless the Flask CLI is loading the app for one of
    :data:`cli.COMMANDS_WITHOUT_WEB` (``flask --app server import-incidents …``): those commands need the
    configuration, the database and the catalogs only, and importing the pages' modules (folium, matplotlib,
    scipy, the layers and reports) costs a command ≈ 4 CPU s and 100 MiB before it starts.
    """
    app = Flask(__name__, instance_path=instance_folder(), instance_relative_config=True,
                template_folder="templates", static_folder="static")
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(default_config(instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BANDO")
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance_path)

    from web.logs import configure_logging

    app.config["LOG_LEVEL"] = configure_logging(app.config["LOG_LEVEL"], app_logger=app.name)
    if not (Path(app.config["VENDOR_DIR"]) / "leaflet" / "dist").is_dir():
        # An installed package has no node_modules beside server.py: say so once instead of maps failing quietly.
        import logging

        logging.getLogger("bando138").warning(
            "no front-end assets (Leaflet) in VENDOR_DIR %s: maps will not load; run `npm ci` and set "
            "BANDO_VENDOR_DIR to its node_modules", app.config["VENDOR_DIR"])

    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)

    from store.db import Database

    app.extensions["db"] = Database(app.config["DATABASE_URL"], busy_timeout_s=app.config["DB_BUSY_TIMEOUT_S"])

    if web is None:
        from cli import command_without_web

        web = not command_without_web()
    if web:
        from web import register

        register(app)  # the pages, and the commands (web.register calls cli.register)
    else:
        from cli import register as register_cli

        register_cli(app)
    return app


def instance_folder() -> str | None:
    """``BANDO_INSTANCE_PATH`` (made absolute), else Flask's default.

    Flask's default is ``instance/`` beside ``server.py`` in a checkout, and ``PREFIX/var/server-instance``
    when the package is installed (``pip install .``), where an operator usually wants a folder of their own.
    """
    configured = os.environ.get("BANDO_INSTANCE_PATH")
    return str(Path(configured).expanduser().resolve()) if configured else None


def _instance_secret(instance_path: Path) -> str:
    """A random key kept in ``instance/secret_key`` so sessions survive restarts; never committed."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if __name__ == "__main__":
    # waitress rather than Flask's development server: threaded, production-grade, same on every platform.
    # For several processes (all cores) use `flask --app server serve` (gunicorn).
    from cli.ops import run_waitress

    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    print(f"Bản đồ 138 on http://{host}:{port}", flush=True)
    run_waitress(create_app(), host=host, port=port, threads=8)
