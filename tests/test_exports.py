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
    assert body["filters"] == {"year": 2024, "category": "theft", "district": None}
    assert json.loads(response.headers["X-Filters-Applied"])["category"] == "theft"
    counts = {f["id"]: f["properties"]["incident_count"] for f in body["features"]}
    assert len(counts) == 143 and sum(counts.values()) == 6  # 2024 thefts: 3 in 869 + 3 in 866
    assert counts[seeded["communes"]["869"]] == 3
    assert 'filename="communes_2024_theft_province.geojson"' in response.headers["Content-Disposition"]


def test_geopackage_reopens_with_the_same_rows(client, login, seeded, tmp_path):
    login("planner")
    response = client.get("/exports/incidents.gpkg?year=2024")
    path = tmp_path / "incidents.gpkg"
    path.write_bytes(response.data)
    frame = gpd.read_file(path, layer="incidents")
    assert len(frame) == 10 and frame.crs.to_epsg() == 4326
    confidential = frame[frame["id"] == seeded["confidential"]]
    assert confidential.geometry.iloc[0] is None and confidential["description"].iloc[0] in ("", None)


def test_kml_leaves_out_unlocated_cases_and_says_so(client, login, seeded):
    login("planner")
    response = client.get("/exports/incidents.kml?year=2024")
    root = ElementTree.fromstring(response.data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark", ns)) == 9
    description = root.find(".//k:Document/k:description", ns).text
    assert "năm=2024" in description and "1 đối tượng không có vị trí" in description
    polygons = ElementTree.fromstring(client.get("/exports/communes.kml?district=869").data)
    assert len(polygons.findall(".//k:Polygon", ns)) >= 1


def test_csv_has_empty_coordinates_for_redacted_rows(client, login, seeded):
    login("planner")
    text = client.get("/exports/incidents.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == seeded["total"]
    secret = next(r for r in rows if r["id"] == seeded["confidential"])
    assert secret["lon"] == "" and secret["lat"] == "" and secret["redacted"] == "True"
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
