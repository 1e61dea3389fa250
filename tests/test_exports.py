"""Layer downloads: every format reopens, filters shown are filters applied, roles and redaction respected."""
import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import geopandas as gpd
import pytest

from tests.report_data import seed_incidents
from web.exports import LAYERS


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def test_registry_has_the_map_layers():
    assert {"communes", "incidents", "hotspots"} <= set(LAYERS)


def test_communes_geojson_counts_match_the_filters(client, login, seeded):
    login("planner")
    response = client.get("/exports/communes.geojson?year=2024&category=theft")
    body = json.loads(response.data)
    assert body["filters"] == {"year": 2024, "category": "theft", "district": None, "set": "2024"}
    assert json.loads(response.headers["X-Filters-Applied"])["category"] == "theft"
    counts = {f["id"]: f["properties"]["incident_count"] for f in body["features"]}
    assert len(counts) == 143 and sum(counts.values()) == 6  # 2024 thefts: 3 in 869 + 3 in 866
    assert counts[seeded["communes"]["869"]] == 3
    assert 'filename="communes_2024_theft_province_set-2024.geojson"' in response.headers["Content-Disposition"]


def test_geopackage_reopens_with_the_same_rows(client, login, seeded, tmp_path):
    login("planner")
    response = client.get("/exports/incidents.gpkg?year=2024")
    path = tmp_path / "incidents.gpkg"
    path.write_bytes(response.data)
    frame = gpd.read_file(path, layer="incidents")
    assert len(frame) == 9 and frame.crs.to_epsg() == 4326  # 10 in 2024, the confidential one is no record
    assert seeded["confidential"] not in set(frame["id"])


def test_kml_states_its_filters(client, login, seeded):
    login("planner")
    response = client.get("/exports/incidents.kml?year=2024")
    root = ElementTree.fromstring(response.data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark", ns)) == 9
    description = root.find(".//k:Document/k:description", ns).text
    assert "năm=2024" in description
    polygons = ElementTree.fromstring(client.get("/exports/communes.kml?district=869").data)
    assert len(polygons.findall(".//k:Polygon", ns)) >= 1


def test_confidential_cases_are_no_rows_for_an_uncleared_account(app, client, login, seeded):
    from sqlalchemy import update

    from store.models import User

    login("planner")
    text = client.get("/exports/incidents.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == seeded["total"] - 1
    assert seeded["confidential"] not in {r["id"] for r in rows} and "human_trafficking" not in text
    body = json.loads(client.get("/exports/incidents.geojson").data)
    assert seeded["confidential"] not in {f["id"] for f in body["features"]}
    counts = json.loads(client.get("/exports/communes.geojson?year=2024&category=human_trafficking").data)
    assert sum(f["properties"]["incident_count"] for f in counts["features"]) == 1  # still counted
    with app.extensions["db"].transaction() as session:
        session.execute(update(User).where(User.username == "planner").values(sensitive_clearance=True))
    cleared = list(csv.DictReader(io.StringIO(client.get("/exports/incidents.csv").data.decode("utf-8-sig"))))
    secret = next(r for r in cleared if r["id"] == seeded["confidential"])
    assert secret["lon"] != "" and secret["redacted"] == "False"
    communes = list(csv.DictReader(io.StringIO(client.get("/exports/communes.csv").data.decode("utf-8-sig"))))
    assert communes[0]["wkt"].startswith(("POLYGON", "MULTIPOLYGON"))


def test_district_account_exports_only_its_district(client, login, seeded):
    login("district_869")
    body = json.loads(client.get("/exports/incidents.geojson").data)
    assert body["filters"]["district"] == "869"
    assert {f["properties"]["district_code"] for f in body["features"]} == {"869"}
    assert client.get("/exports/incidents.geojson?district=866").status_code == 400


def test_hotspot_layer_and_bad_requests(client, login, seeded):
    login("planner")
    body = json.loads(client.get("/exports/hotspots.geojson?year=2024").data)
    assert len(body["features"]) == 143
    assert {"gi_z", "gi_p", "gi_bin"} <= set(body["features"][0]["properties"])
    assert client.get("/exports/incidents.shp").status_code == 400
    assert client.get("/exports/nothing.csv").status_code == 400
    assert client.get("/exports/incidents.csv?category=xyz").status_code == 400
    page = client.get("/exports?year=2024").get_data(as_text=True)
    assert "/exports/communes.gpkg?year=2024" in page and "năm=2024" in page
