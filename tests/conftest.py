"""Shared fixtures in the flaskr manner: ``app`` on a temporary database, ``client``, ``runner``,
plus one signed-in user per role and the real boundary files.

The schema, boundaries, population and users are prepared once per session in a template database that
each test copies, so a test starts from a migrated, loaded store in milliseconds.
"""
from __future__ import annotations

import os
import re

# The commands' messages in English, as most CLI tests read them; tests of the language itself set it.
os.environ.setdefault("BANDO_CLI_LANGUAGE", "en")
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mat-khau-kiem-thu-138"
# username -> (role, district)
USERS = {
    "admin": ("admin", None),
    "planner": ("planner", None),
    "guard": ("border_guard", None),
    "district_869": ("district", "869"),  # Tân Hồng, on the border
    "district_866": ("district", "866"),  # Thành phố Cao Lãnh
    "commune_29929": ("commune", "29929"),  # Xã Tân Hộ Cơ, on the border (a code of the set in force)
}


def find_data_dir() -> Path:
    """Where the boundary and population files are: $BANDO_DATA_DIR, ./data, or ../shared/data."""
    candidates = [os.environ.get("BANDO_DATA_DIR"), ROOT / "data", ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "boundaries" / "dong_thap_communes_2024.geojson").exists():
            return Path(candidate)
    pytest.fail("boundary files not found: run `make data` or set BANDO_DATA_DIR")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return find_data_dir()


@pytest.fixture(scope="session")
def boundary_set(data_dir):
    from geo.boundaries import read_communes

    return read_communes(data_dir / "boundaries" / "dong_thap_communes_2024.geojson")


@pytest.fixture(scope="session")
def population(data_dir, boundary_set):
    from geo.boundaries import read_population

    return read_population(data_dir / "population" / "dong_thap_population_2019.csv", boundaries=boundary_set)


POSTGRES_URL = os.environ.get("BANDO_TEST_DATABASE_URL", "")


def _create_users(session, users) -> None:
    from web.auth import create_user

    for username, (role, unit) in users.items():
        if role == "commune":
            create_user(session, username, PASSWORD, role, commune_code=unit, actor="test-setup")
        else:
            create_user(session, username, PASSWORD, role, unit, actor="test-setup")


def _template(tmp_path_factory, prefix: str, prepare):
    """Yield a migrated database prepared by ``prepare(db)``: a SQLite file, or a PostgreSQL template
    database when ``BANDO_TEST_DATABASE_URL`` names a PostgreSQL server (the suite's PostgreSQL run)."""
    from store.db import Database

    if POSTGRES_URL:
        name = f"bando_{prefix}_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        db = Database(_pg_url(name))
        db.upgrade()
        prepare(db)
        db.dispose()
        yield name
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        return
    path = tmp_path_factory.mktemp(prefix) / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    prepare(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    yield path


@pytest.fixture(scope="session")
def template_db(tmp_path_factory, boundary_set, population, data_dir):
    """A migrated database with the 2024 set, its population and one user per role, that each test copies."""
    from store.boundaries import save_boundary_set, save_population

    def prepare(db):
        with db.transaction() as session:
            save_boundary_set(session, boundary_set)
            save_population(session, population, source="census 2019")
            _create_users(session, USERS)

    yield from _template(tmp_path_factory, "tpl", prepare)


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def _pg_admin(*statements: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


_PG_COUNTER = iter(range(1_000_000))


def make_app(tmp_path: Path, template_db, data_dir: Path, **config):
    from server import create_app

    if POSTGRES_URL:
        name = f"bando_t_{os.getpid()}_{next(_PG_COUNTER)}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        url = _pg_url(name)
    else:
        db_path = tmp_path / "bando138.sqlite3"
        shutil.copy(template_db, db_path)
        url = f"sqlite:///{db_path}"
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "BASEMAP_PMTILES": "",  # not the developer's instance/basemap.pmtiles; tests that need one build it
    }
    settings.update(config)
    return create_app(settings)


def drop_app_database(application) -> None:
    application.extensions["db"].dispose()
    if POSTGRES_URL:
        from sqlalchemy.engine import make_url

        _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(application.config["DATABASE_URL"]).database}"')


@pytest.fixture
def app(tmp_path, template_db, data_dir):
    application = make_app(tmp_path, template_db, data_dir)
    yield application
    drop_app_database(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class SignIn:
    """``login("planner")`` signs the test client in through the real form (with its CSRF token)."""

    def __init__(self, client):
        self.client = client
        self.csrf_token = None

    def __call__(self, username: str = "admin"):
        page = self.client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        response = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"sign-in of {username} failed: {response.status_code}"
        self.csrf_token = self.fresh_token()
        return self.client

    def fresh_token(self) -> str:
        """A CSRF token valid for the signed-in session, for POST requests in tests."""
        page = self.client.get("/login")
        return csrf_token_from(page.get_data(as_text=True))


@pytest.fixture
def login(client):
    return SignIn(client)


@pytest.fixture
def db(app):
    return app.extensions["db"]


# --- the three shipped boundary sets (2024, 2025-01, 2025-07) and their crosswalks ----------------------------
VERSIONED_USERS = {
    "planner": ("planner", None),
    "district_869": ("district", "869"),
    "commune_29929": ("commune", "29929"),  # Xã Tân Hộ Cơ (2025), on the border
    "commune_29869": ("commune", "29869"),  # Phường Cao Lãnh (2025): in 2024 this code was Phường 2
}


@pytest.fixture(scope="session")
def shipped_sets(data_dir):
    from store.shipped_boundaries import read_shipped_sets

    return read_shipped_sets(data_dir)


@pytest.fixture(scope="session")
def versioned_template_db(tmp_path_factory, shipped_sets):
    """Like ``template_db``, with the three shipped sets, their population and crosswalks."""
    from store.shipped_boundaries import save_shipped_sets

    def prepare(db):
        with db.transaction() as session:
            save_shipped_sets(session, shipped_sets)
            _create_users(session, VERSIONED_USERS)

    yield from _template(tmp_path_factory, "vtpl", prepare)


@pytest.fixture
def versioned_app(tmp_path, versioned_template_db, data_dir):
    application = make_app(tmp_path, versioned_template_db, data_dir)
    yield application
    drop_app_database(application)


@pytest.fixture
def vclient(versioned_app):
    return versioned_app.test_client()


@pytest.fixture
def vlogin(vclient):
    return SignIn(vclient)
