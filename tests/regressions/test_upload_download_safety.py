"""Uploads are limited in size and type; every download names its file safely (Content-Disposition).

A downloaded file's name is built from request values (period, filters, ids). Whatever the request, the
name must be a plain file name: no directory part, no "..", no quote or line break that could break the
header, only letters, digits, dot, dash and underscore.
"""
from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

import pytest
import shapely.geometry

from tests.report_data import seed_incidents
from tests.test_confidentiality import id_urls, seed_urls
from tests.test_imports_web import BAD_ROWS, GOOD_ROWS, HEADER, finished_job, upload
from tests.tracker_helpers import make_area, snapshot

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
DISPOSITION = re.compile(r'^attachment; filename=(?:"([^"]*)"|([^;"\s]+))$')


def file_name(header: str) -> str:
    match = DISPOSITION.match(header)
    assert match, f"Content-Disposition {header!r} is not 'attachment; filename=…'"
    return match.group(1) or match.group(2)


def test_every_download_has_a_path_safe_file_name(app, client, login, db):
    seed_incidents(app)
    make_area(db)
    login("admin")
    _, job_url = finished_job(client, upload(client, login.csrf_token, "../../etc/vụ việc.csv",
                                             (HEADER + GOOD_ROWS + BAD_ROWS).encode(), skip_invalid="1"))
    client.get("/hotspots?year=2024")  # stores a hot spot run
    urls = seed_urls(app, [], "admin") + id_urls(app) + [
        job_url + "/errors.csv", "/audit.csv",
        "/reports/download?period=2024-01-01..2024-03-31&format=docx",
        "/reports/download?period=2024-H1&format=xlsx&district=869"]
    adapter = app.url_map.bind("localhost")
    named = {}
    for url in urls:
        response = client.get(url)
        response.close()
        header = response.headers.get("Content-Disposition")
        if response.status_code != 200 or header is None:
            continue
        name = file_name(header)
        assert SAFE_NAME.match(name) and ".." not in name, f"GET {url}: unsafe file name {name!r}"
        named[adapter.match(url.split("?")[0], method="GET")[0]] = name
    assert {"exports.download", "corridor.export", "reports.download", "audit.export", "hotspots.run_geojson",
            "imports.job_errors"} <= set(named), named


@pytest.mark.parametrize("query", ["year=../../x", "category=../..%2Fetc", "district=..%5C..", 'year=2024"%0d%0aX:1'])
def test_export_names_cannot_be_steered_by_filters(client, login, query):
    """Filter values that are not allowed are refused before any file is named."""
    login("planner")
    response = client.get(f"/exports/incidents.csv?{query}")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers


def test_report_period_cannot_steer_the_file_name(client, login):
    login("planner")
    response = client.get("/reports/download?format=xlsx&period=" + quote("../../2024"))
    assert response.status_code == 400 and "Content-Disposition" not in response.headers


# ------------------------------------------------------------------------------------------ key-area uploads


def _new_area(client, login, name, content):
    return client.post("/key-areas/new", content_type="multipart/form-data", data={
        "csrf_token": login.csrf_token, "name": "Chợ thử", "kind": "market", "year_selected": "2024",
        "complexity_types": ["theft"], "decision_number": "7/QĐ", "geometry_file": (io.BytesIO(content), name)})


def test_key_area_upload_over_the_limit_is_refused_and_nothing_saved(app, client, login, db):
    app.config["KEY_AREA_UPLOAD_MAX_BYTES"] = 1024
    login("district_869")
    square = shapely.geometry.mapping(shapely.geometry.box(105.45, 10.87, 105.451, 10.871))
    padded = json.dumps({"type": "Feature", "properties": {"note": "x" * 2000}, "geometry": square}).encode()
    before = snapshot(db)
    response = _new_area(client, login, "cho.geojson", padded)
    assert response.status_code == 400
    assert "lớn hơn 1 KB" in response.get_data(as_text=True)
    assert snapshot(db) == before


@pytest.mark.parametrize("name, content", [
    ("cho.shp", b"\x00\x00\x27\x0a"), ("cho.exe", b"MZ"), ("cho", b"{}"), ("cho.geojson.exe", b"{}"),
    ("cho.geojson", b"\xff\xfe{"), ("cho.kml", b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><kml>&a;</kml>"),
])
def test_key_area_upload_of_another_type_is_refused(client, login, db, name, content):
    login("district_869")
    before = snapshot(db)
    response = _new_area(client, login, name, content)
    assert response.status_code == 400
    assert snapshot(db) == before
