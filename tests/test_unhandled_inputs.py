"""Inputs that used to end in a server error: each is a 400 with a message, and nothing changes."""
from __future__ import annotations

import io
import json

import pytest

from tests.test_imports_web import finished_job, incident_count, upload
from tests.tracker_helpers import make_area, snapshot

DEEP_JSON = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize("url", ["/exports/incidents.csv?year=²", "/exports?year=²",
                                 "/ogc/collections/incidents/items?year=²", "/ogc/collections/communes/items?year=٢٠٢٤"])
def test_non_ascii_digits_as_a_year(client, login, url):
    login("planner")
    response = client.get(url)
    assert response.status_code == 400
    assert "year" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e309", "nan"])
def test_infinite_cell_size(client, login, value):
    login("planner")
    response = client.get(f"/hotspots?units=hex&cell_size={value}")
    assert response.status_code == 400
    assert "cell_size" in response.get_data(as_text=True)


def _json_call(client, login, method, url, text):
    return client.open(url, method=method, data=text, content_type="application/json",
                       headers={"X-CSRFToken": login.csrf_token})


def test_deeply_nested_api_body(client, login, db):
    login("planner")
    before = snapshot(db)
    response = _json_call(client, login, "POST", "/api/key-areas", '{"name": ' + DEEP_JSON + "}")
    assert response.status_code == 400 and "sâu" in response.get_json()["error"]
    assert snapshot(db) == before


def test_lists_where_texts_belong(client, login, db):
    login("planner")
    area_id = make_area(db)
    before = snapshot(db)
    created = _json_call(client, login, "POST", "/api/key-areas", json.dumps({
        "name": "Chợ", "kind": "market", "year_selected": 2024, "complexity_types": [["x"]],
        "decision_number": "1/QĐ", "district_code": "869", "commune_code": "29926"}))
    assert created.status_code == 400 and "complexity_types.0" in created.get_json()["fields"]
    patched = _json_call(client, login, "PATCH", f"/api/key-areas/{area_id}",
                         json.dumps({"version": 1, "kind": ["market"]}))
    assert patched.status_code == 400 and "kind" in patched.get_json()["fields"]
    types = _json_call(client, login, "PATCH", f"/api/key-areas/{area_id}",
                       json.dumps({"version": 1, "complexity_types": {"drugs": 1}}))
    assert types.status_code == 400 and "complexity_types" in types.get_json()["fields"]
    assert snapshot(db) == before


def test_deeply_nested_geojson_import(client, login, db):
    login("planner")
    content = ('{"type": "FeatureCollection", "features": ' + DEEP_JSON + "}").encode()
    page, _ = finished_job(client, upload(client, login.csrf_token, "sau.geojson", content))
    assert "Không nhập được tệp" in page and "lồng nhau quá sâu" in page
    assert incident_count(db) == 0


def test_deeply_nested_key_area_shape(client, login, db):
    login("planner")
    before = snapshot(db)
    form = {"csrf_token": login.csrf_token, "name": "Chợ", "kind": "market", "year_selected": "2024",
            "complexity_types": "drugs", "decision_number": "1/QĐ", "district_code": "869"}
    uploaded = client.post("/key-areas/new", data={**form, "geometry_file": (io.BytesIO(DEEP_JSON.encode()), "vung.geojson")},
                           content_type="multipart/form-data")
    drawn = client.post("/key-areas/new", data={**form, "geometry": DEEP_JSON})
    for response in (uploaded, drawn):
        assert response.status_code == 400 and "lồng nhau quá sâu" in response.get_data(as_text=True)
    assert snapshot(db) == before
