"""One GDAL binding for vector files (issue 14, point 5): fiona reads and writes them, pyogrio is never needed,
and GeoPackage exports are version 1.2, which Debian's own GDAL (gdal-bin, 3.6 on Debian 12) opens without a
warning."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pytest
import shapely

from tests.report_data import seed_incidents

ROOT = Path(__file__).resolve().parent.parent
OGRINFO = "/usr/bin/ogrinfo"
GPKG_1_2 = 10200  # PRAGMA user_version of a GeoPackage 1.2 file (GeoPackage 1.2 §1.1.1.1.1)
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"


@pytest.fixture
def without_pyogrio(monkeypatch):
    """Any attempt to import pyogrio fails, as on an installation without it."""
    import geopandas.io.file as geopandas_file

    monkeypatch.setitem(sys.modules, "pyogrio", None)
    monkeypatch.setattr(geopandas_file, "pyogrio", None)

    def refuse():
        raise AssertionError("pyogrio was asked for; fiona is the only GDAL binding")

    monkeypatch.setattr(geopandas_file, "_import_pyogrio", refuse)


def ogrinfo(path: Path) -> subprocess.CompletedProcess:
    if not Path(OGRINFO).exists():
        pytest.fail(f"{OGRINFO} is missing: install Debian's gdal-bin (make browser-deps)")
    return subprocess.run([OGRINFO, "-ro", "-so", "-al", str(path)], capture_output=True, text=True, timeout=60)


def test_every_vector_read_and_write_names_the_one_engine():
    import geo

    assert geo.VECTOR_ENGINE == "fiona"
    call = re.compile(r"\b(read_file|to_file)\(")
    folders = ("geo", "layers", "store", "web", "cli", "reports")
    offenders = []
    for path in [p for folder in folders for p in (ROOT / folder).rglob("*.py")] + [ROOT / "server.py"]:
        text = path.read_text(encoding="utf-8")
        for match in call.finditer(text):
            statement = text[match.start():text.find(")", match.end()) + 1]
            # the call's arguments may span lines; look up to the closing line of the statement
            tail = text[match.start():match.start() + 400]
            if "engine=" not in tail.split("\n\n")[0]:
                offenders.append(f"{path.relative_to(ROOT)}: {statement[:60]}")
    assert offenders == []


def test_no_code_imports_pyogrio():
    uses = re.compile(r"^\s*(import|from)\s+pyogrio\b|engine\s*=\s*[\"']pyogrio", re.M)
    folders = ("geo", "layers", "store", "web", "cli", "reports", "migrations", "tests", "bench", "scripts")
    offenders = [str(path.relative_to(ROOT)) for folder in folders for path in (ROOT / folder).rglob("*.py")
                 if uses.search(path.read_text(encoding="utf-8"))]
    offenders += ["server.py"] if uses.search((ROOT / "server.py").read_text(encoding="utf-8")) else []
    assert offenders == []
    pinned = (ROOT / "requirements.txt").read_text() + (ROOT / "requirements-dev.txt").read_text()
    assert not re.search(r"^pyogrio\b", pinned, re.M | re.I) and re.search(r"^fiona==", pinned, re.M)


@pytest.mark.parametrize("layer, query", [("incidents", "year=2024"), ("communes", "year=2024&district=869"),
                                          ("incidents", "year=1999")])
def test_geopackage_export_is_version_1_2_and_debian_gdal_reads_it_without_warnings(
        client, login, app, tmp_path, without_pyogrio, layer, query):
    seed_incidents(app)
    login("planner")
    response = client.get(f"/exports/{layer}.gpkg?{query}")
    assert response.status_code == 200
    path = tmp_path / f"{layer}.gpkg"
    path.write_bytes(response.data)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == GPKG_APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == GPKG_1_2
    info = ogrinfo(path)
    assert info.returncode == 0, info.stderr
    assert "Warning" not in info.stderr + info.stdout and "ERROR" not in info.stderr
    assert "using driver `GPKG' successful" in info.stdout and f"Layer name: {layer}" in info.stdout
    expected = len(gpd.read_file(path, layer=layer, engine="fiona"))
    assert re.search(rf"^Feature Count: {expected}$", info.stdout, re.M)
    assert (expected == 0) == query.endswith("1999")


def test_boundaries_and_corridor_files_read_without_pyogrio(without_pyogrio, data_dir, tmp_path):
    from geo.boundaries import read_communes
    from geo.corridor_geometry import read_border_line

    communes = read_communes(data_dir / "boundaries" / "dong_thap_communes_2024.geojson")
    assert len(communes.communes) == 143
    gpkg = tmp_path / "communes.gpkg"
    communes.communes.head(5).to_file(gpkg, layer="communes", driver="GPKG", engine="fiona")
    assert len(read_communes(gpkg).communes) == 5
    assert read_border_line(data_dir / "boundaries" / "cambodia_vietnam_border_dong_thap.geojson").geometry.length.sum() > 0


def test_stored_hot_spot_result_reads_back_without_pyogrio(without_pyogrio):
    from store.hotspot_cache import frame_to_geojson, run_frame

    frame = gpd.GeoDataFrame({"value": [1.5, None]}, geometry=[shapely.Point(105.6, 10.5), shapely.Point(105.7, 10.6)],
                             crs=4326)
    back = run_frame(SimpleNamespace(id=None, cache_key="", result=frame_to_geojson(frame)))
    assert back.crs.to_epsg() == 4326 and len(back) == 2
    assert back["value"].iloc[0] == 1.5 and back["value"].isna().iloc[1]
