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
        "TILE_URL": "",  # basemap tiles, e.g. an intranet tile server; empty = boundaries only
        "TILE_ATTRIBUTION": "",
        "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set BANDO_SESSION_COOKIE_SECURE=true behind TLS
        "REMEMBER_COOKIE_HTTPONLY": True,
        "LOGIN_MAX_ATTEMPTS": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "WTF_CSRF_TIME_LIMIT": None,
        "DEFAULT_LANGUAGE": "vi",
        "DB_BUSY_TIMEOUT_S": 30,
        "VENDOR_DIR": str(ROOT / "node_modules"),
    }


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, template_folder="templates", static_folder="static")
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

    from store.db import Database

    app.extensions["db"] = Database(app.config["DATABASE_URL"], busy_timeout_s=app.config["DB_BUSY_TIMEOUT_S"])

    from web import register

    register(app)
    return app


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
    from waitress import serve

    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    print(f"Bản đồ 138 on http://{host}:{port}", flush=True)
    serve(create_app(), host=host, port=port, threads=8, ident="bando138")
