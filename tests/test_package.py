"""The project as an installable package (issue 14, point 2).

The wheel is built from a copy of the checkout, installed into a fresh virtualenv and run from a directory
outside the checkout, so nothing can be found through the current directory or the checkout's own files.
The fresh virtualenv gets no dependencies of its own (none is downloaded): a ``.pth`` file adds this test
run's site-packages, where the pinned requirements are installed.
"""
from __future__ import annotations

import email.parser
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# Never part of the package: development files, third-party data, the npm tree.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "node_modules", "instance", "build", "*.egg-info",
                                    "__pycache__", ".pytest_cache", "bench")


def setuptools_builds_wheels() -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("setuptools").split(".")[0]) >= 70  # bdist_wheel inside setuptools since 70.1
    except PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not setuptools_builds_wheels():
        pytest.fail("this virtualenv's setuptools cannot build a wheel offline: run `make venv` "
                    "(setuptools==80.9.0 from requirements-dev.txt)")
    source = tmp_path_factory.mktemp("source") / "ban-do-138"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED, symlinks=False)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, cwd=out)
    (built,) = out.glob("ban_do_138-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding only the wheel; its ``bin`` folder."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "project_dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    return env_dir / "bin"


@pytest.fixture
def outside(tmp_path) -> dict:
    """A working directory outside the checkout, and an environment naming only a temporary database."""
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("BANDO_") and key not in ("DATABASE_URL", "PYTHONPATH", "FLASK_APP")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'installed.sqlite3'}",
               BANDO_INSTANCE_PATH=str(tmp_path / "instance"), BANDO_SECRET_KEY="package-test")
    return {"cwd": workdir, "env": env, "database": tmp_path / "installed.sqlite3", "tmp": tmp_path}


def run(bin_dir: Path, args: list[str], outside: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=outside["cwd"], env=outside["env"],
                          capture_output=True, text=True, timeout=240, **kwargs)


def listed_commands(help_text: str) -> set[str]:
    return set(re.findall(r"^  ([a-z][a-z-]+)\s", help_text.split("\nCommands:\n", 1)[1], re.M))


def test_wheel_holds_the_app_and_its_files_but_no_tests_or_third_party_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("server.py", "geo/gistar.py", "layers/base.py", "store/db.py", "web/__init__.py",
                   "cli/__init__.py", "reports/docx_report.py", "templates/base.html",
                   "templates/key_areas/index.html", "static/css/app.css", "static/favicon.svg",
                   "migrations/env.py", "migrations/script.py.mako", "migrations/versions/0001_foundation_boundaries_population_.py",
                   "data/targets/targets_2024.json", "data/admin_changes/2025-01-01_nq1284.csv"):
        assert needed in names, needed
    shipped_catalogs = {p.relative_to(ROOT).as_posix() for p in (ROOT / "translations").rglob("*.po")} \
        if (ROOT / "translations").is_dir() else set()
    assert shipped_catalogs <= names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/", "node_modules/",
                                                  "data/boundaries/", "data/population/"))]


def test_wheel_requires_exactly_the_pinned_requirements(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt")).decode()
    pinned = {re.sub(r"\s+", "", line.split("#")[0]) for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.split("#")[0].strip()}
    assert {re.sub(r"\s+", "", r) for r in metadata.get_all("Requires-Dist")} == pinned
    assert re.search(r"^bando138\s*=\s*cli:main$", entry_points, re.M)


def test_console_script_lists_the_flask_commands_from_outside_the_checkout(installed, outside):
    result = run(installed, ["bando138", "--help"], outside)
    assert result.returncode == 0, result.stderr
    # No node_modules beside the installed server.py and no BANDO_VENDOR_DIR: the operator is told.
    assert "no front-end assets (Leaflet) in VENDOR_DIR" in result.stderr and "BANDO_VENDOR_DIR" in result.stderr
    commands = listed_commands(result.stdout)
    flask_help = subprocess.run([sys.executable, "-m", "flask", "--app", "server", "--help"], cwd=ROOT,
                                capture_output=True, text=True, check=True, env=outside["env"]).stdout
    assert commands == listed_commands(flask_help)
    assert {"init-db", "load-boundaries", "import-incidents", "report", "serve", "backup"} <= commands


def test_installed_init_db_migrates_a_fresh_database_and_serves_its_templates(installed, outside):
    where = run(installed, ["python", "-c", "import server, store.db; print(server.__file__); "
                                            "print(store.db.MIGRATIONS_DIR)"], outside)
    module_file, migrations = where.stdout.split()
    assert Path(module_file).is_relative_to(installed.parent) and not Path(module_file).is_relative_to(ROOT)
    assert Path(migrations).is_relative_to(installed.parent)

    result = run(installed, ["bando138", "init-db"], outside)
    assert result.returncode == 0, result.stderr
    assert "lược đồ ở phiên bản" in result.stdout  # the CLI speaks Vietnamese unless BANDO_CLI_LANGUAGE says otherwise
    with sqlite3.connect(outside["database"]) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        (targets,) = conn.execute("SELECT count(*) FROM plan_targets").fetchone()
    assert revision in result.stdout
    assert targets > 0  # seeded by a migration from the packaged data/targets
    assert (outside["tmp"] / "instance").is_dir() and not (outside["cwd"] / "instance").exists()

    outside["env"]["BANDO_VENDOR_DIR"] = str(ROOT / "node_modules")
    page = run(installed, ["python", "-c", "from server import create_app; c = create_app().test_client(); "
                                           "r = c.get('/login'); s = c.get('/static/css/app.css'); "
                                           "print(r.status_code, s.status_code, 'csrf_token' in r.text)"],
               outside)
    assert page.stdout.split() == ["200", "200", "True"], page.stderr
    assert "no front-end assets" not in page.stderr


def test_installed_instance_folder_defaults_to_the_environment_prefix(installed, outside):
    del outside["env"]["BANDO_INSTANCE_PATH"]
    result = run(installed, ["python", "-c", "from server import create_app; print(create_app().instance_path)"],
                 outside)
    assert Path(result.stdout.strip()) == installed.parent / "var" / "server-instance", result.stderr


def test_installed_load_boundaries_reads_the_packaged_admin_changes(installed, outside, data_dir):
    assert run(installed, ["bando138", "init-db"], outside).returncode == 0
    outside["env"]["BANDO_DATA_DIR"] = str(data_dir)
    result = run(installed, ["bando138", "load-boundaries"], outside)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(outside["database"]) as conn:
        sets = dict(conn.execute("SELECT s.version, count(*) FROM communes c JOIN boundary_sets s "
                                 "ON s.id = c.boundary_set_id GROUP BY s.version").fetchall())
    assert sets["2024"] == 143 and sets["2025-01"] == 141  # 2025-01 derived by the packaged NQ 1284 changes
