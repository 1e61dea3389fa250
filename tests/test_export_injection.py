"""Hostile text in names and descriptions: KML/GPX stay well-formed with typed fields, spreadsheets run no formula."""
from __future__ import annotations

import csv
import io
from datetime import datetime
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import update

from tests.report_data import seed_incidents
from tests.tracker_helpers import make_area

KML = {"k": "http://www.opengis.net/kml/2.2"}
FORGED_PLACEMARK = ("</value></Data></ExtendedData></Placemark><Placemark><name>Giả mạo</name>"
                    "<Point><coordinates>105.1,10.1</coordinates></Point></Placemark><Placemark><name>x")
MARKUP_NAME = 'Ấp <b>"Bình" & Tân</b> ]]> \x01'
FORMULAS = ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")", "@SUM(1+1)", "+1+1", "-2+3", "\t=1", "\r=1"]


@pytest.fixture
def hostile(app):
    seeded = seed_incidents(app)
    from store.incidents import upsert_incidents
    from store.models import Incident, User

    db = app.extensions["db"]
    lon, lat = seeded["points"]["869"][1:]
    code = seeded["communes"]["869"]
    rows = [{"id": f"X-{i}", "occurred_at": pd.Timestamp("2024-05-01"), "reported_at": None, "category": "theft",
             "severity": "serious", "case_status": "received", "lon": lon, "lat": lat, "commune_code": code,
             "district_code": "869", "sensitive": False, "description": text, "article": "173"}
            for i, text in enumerate([FORGED_PLACEMARK, *FORMULAS])]
    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame(rows), filename="hostile", username="tests")
        session.execute(update(User).where(User.username == "planner").values(sensitive_clearance=True))
        located = session.query(Incident).filter(Incident.occurred_at >= datetime(2024, 1, 1)).count()
    area_names = [MARKUP_NAME, "=HYPERLINK(\"http://x\",\"bấm\")"]
    for name in area_names:
        make_area(db, name=name)
    return {"located_2024": located, "areas": area_names}


def test_kml_escapes_every_text_and_types_its_fields(client, login, hostile):
    login("planner")
    response = client.get("/exports/incidents.kml?year=2024")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    placemarks = root.findall(".//k:Placemark", KML)
    assert len(placemarks) == hostile["located_2024"]  # no forged Placemark
    assert "Giả mạo" not in [p.findtext("k:name", namespaces=KML) for p in placemarks]
    descriptions = {e.text for e in root.iterfind(".//k:SimpleData[@name='description']", KML)}
    assert FORGED_PLACEMARK in descriptions  # the text itself survives, as text
    fields = {f.get("name"): f.get("type") for f in root.iterfind(".//k:Schema/k:SimpleField", KML)}
    assert fields["description"] == "string" and fields["is_demo"] == "bool"
    counts = ET.fromstring(client.get("/exports/communes.kml?year=2024").data)
    types = {f.get("name"): f.get("type") for f in counts.iterfind(".//k:Schema/k:SimpleField", KML)}
    assert types["incident_count"] == "int" and types["commune_name"] == "string"
    assert counts.find(".//k:Placemark/k:ExtendedData/k:SchemaData", KML).get("schemaUrl") == "#communes"


def test_key_area_name_with_markup_downloads_as_kml(client, login, hostile):
    login("guard")
    response = client.get("/exports/key_areas.kml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    names = [p.findtext("k:name", namespaces=KML) for p in root.iterfind(".//k:Placemark", KML)]
    assert MARKUP_NAME.replace("\x01", "") in names


def test_corridor_kml_and_gpx_escape_names():
    import gpxpy

    from web.corridor import to_gpx, to_kml

    frame = gpd.GeoDataFrame({"name": [MARKUP_NAME, FORGED_PLACEMARK], "count": [3, 4]},
                             geometry=[Point(105.3, 10.9), LineString([(105.3, 10.9), (105.4, 11.0)])],
                             crs="EPSG:4326")
    root = ET.fromstring(to_kml(frame, "gates", "Cửa khẩu <&>"))
    names = [p.findtext("k:name", namespaces=KML) for p in root.iterfind(".//k:Placemark", KML)]
    assert names == [MARKUP_NAME.replace("\x01", ""), FORGED_PLACEMARK]
    assert {f.get("name"): f.get("type") for f in root.iterfind(".//k:SimpleField", KML)}["count"] == "int"
    gpx = gpxpy.parse(to_gpx(frame, "gates", "Cửa khẩu <&> \x02"))
    assert gpx.waypoints[0].name == MARKUP_NAME.replace("\x01", "") and gpx.tracks[0].name == FORGED_PLACEMARK


def _csv_cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")) for cell in row]


def test_csv_exports_run_no_formula(client, login, hostile):
    login("planner")
    cells = _csv_cells(client.get("/exports/incidents.csv").data)
    cells += _csv_cells(client.get("/exports/key_areas.csv").data)
    for text in FORMULAS:
        assert "'" + text in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_command_line_export_runs_no_formula(app, hostile):
    result = app.test_cli_runner().invoke(args=["export-incidents", "--format", "csv", "--include-sensitive"])
    cells = _csv_cells(result.stdout.encode())
    assert "'=cmd|' /C calc'!A0" in cells and "=cmd|' /C calc'!A0" not in cells


def test_excel_report_stores_no_live_formula(client, login, hostile):
    import openpyxl

    login("planner")
    response = client.get("/reports/download?period=2024&format=xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    formulas, texts = [], []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{sheet.title}!{cell.coordinate}: {cell.value}")
                elif isinstance(cell.value, str):
                    texts.append(cell.value)
    assert formulas == []
    assert "'" + hostile["areas"][1] in texts
    assert client.get("/reports/download?period=2024&format=docx").status_code == 200


def test_one_shared_neutraliser():
    from geo.export import spreadsheet_text

    assert [spreadsheet_text(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert spreadsheet_text("Xã Tân Hộ Cơ") == "Xã Tân Hộ Cơ"
    assert spreadsheet_text(-5) == -5 and spreadsheet_text(None) is None
