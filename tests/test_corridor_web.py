"""The /corridor page, its exports and the corridor-stats command, on incidents placed by hand near the real
Đồng Tháp – Prey Veng border."""
from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from datetime import datetime

import gpxpy
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import corridor_geometry as C
from geo.crs import metric_to_lonlat, to_metric

BORDER = "boundaries/cambodia_vietnam_border_dong_thap.geojson"
KML_NS = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def border(data_dir):
    return C.read_border_line(data_dir / BORDER).geometry.iloc[0]


@pytest.fixture(scope="module")
def province(boundary_set):
    return to_metric(boundary_set.communes).union_all()


@pytest.fixture(scope="module")
def metric_communes(boundary_set):
    return to_metric(boundary_set.communes)


def inland(border, province, chainage_m: float, distance_m: float) -> Point:
    """A point at ``distance_m`` from the line (walking along the normal at ``chainage_m``), on the province
    side (negative: the Cambodian side)."""
    a, b = border.interpolate(chainage_m - 50), border.interpolate(chainage_m + 50)
    base = border.interpolate(chainage_m)
    tx, ty = b.x - a.x, b.y - a.y
    nx, ny = -ty / np.hypot(tx, ty), tx / np.hypot(tx, ty)
    if not province.contains(Point(base.x + nx * 200, base.y + ny * 200)):
        nx, ny = -nx, -ny
    if distance_m < 0:
        nx, ny, distance_m = -nx, -ny, -distance_m
    step = 0.0
    while True:
        step += 25.0
        p = Point(base.x + nx * step, base.y + ny * step)
        if border.distance(p) >= distance_m:
            return p


def incident_row(case_id, point, when, category, metric_communes, sensitive=False):
    lon, lat = metric_to_lonlat(np.array([point.x]), np.array([point.y]))
    hit = metric_communes[metric_communes.contains(point)]
    commune = hit.iloc[0] if len(hit) else metric_communes.iloc[0]
    return {"id": case_id, "occurred_at": datetime.fromisoformat(when), "reported_at": None, "category": category,
            "severity": "serious", "case_status": "received", "lon": float(lon[0]), "lat": float(lat[0]),
            "commune_code": commune["commune_code"], "district_code": commune["district_code"],
            "sensitive": sensitive, "description": "<b>mô tả</b>", "article": ""}


@pytest.fixture
def placed(app, db, border, province, metric_communes):
    """Incidents at known places; returns the expected facts computed with shapely, independently."""
    pts = {
        "A": inland(border, province, 2_500, 1_000),     # segment 1, band 0–2 km
        "B": inland(border, province, 15_000, 3_500),    # band 2–5 km
        "C": inland(border, province, 37_500, 7_500),    # band 5–10 km
        "S": inland(border, province, 2_700, 800),       # sensitive trafficking case, segment 1, band 0
        "P": inland(border, province, 2_400, 900),       # previous year, segment 1
        "X": inland(border, province, 12_500, 20_000),   # inland, outside the corridor
        "K": inland(border, province, 12_500, -1_000),   # Cambodian side
        "T": inland(border, province, 12_500, 500),      # theft: not a border category
    }
    rows = [
        incident_row("A", pts["A"], "2024-03-10", "smuggling", metric_communes),
        incident_row("B", pts["B"], "2024-05-01", "drugs", metric_communes),
        incident_row("C", pts["C"], "2024-05-20", "illegal_border_crossing", metric_communes),
        incident_row("S", pts["S"], "2024-07-04", "human_trafficking", metric_communes, sensitive=True),
        incident_row("P", pts["P"], "2023-03-02", "smuggling", metric_communes),
        incident_row("Q", pts["P"], "2023-10-01", "smuggling", metric_communes),  # after the 2024 data end
        incident_row("X", pts["X"], "2024-02-02", "smuggling", metric_communes),
        incident_row("K", pts["K"], "2024-02-03", "smuggling", metric_communes),
        incident_row("T", pts["T"], "2024-02-04", "theft", metric_communes),
    ]
    from store.incidents import upsert_incidents

    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame(rows), filename="test")
    edges = np.array(C.DEFAULT_EDGES_M)
    facts = {}
    for name, p in pts.items():
        d = border.distance(p)
        band = int(np.searchsorted(edges, d, side="left") - 1) if province.covers(p) and d <= edges[-1] else -1
        lon, lat = metric_to_lonlat(np.array([p.x]), np.array([p.y]))
        facts[name] = {"band": band, "distance": d, "segment": int(border.project(p) // 5000) + 1,
                       "segment_10km": int(border.project(p) // 10000) + 1,
                       "lon": float(lon[0]), "lat": float(lat[0])}
    return facts


def test_hand_placed_points_are_where_the_test_means(placed):
    assert [placed[k]["band"] for k in "ABCSPXK"] == [0, 1, 2, 0, 0, -1, -1]
    assert [placed[k]["segment"] for k in "ASP"] == [1, 1, 1]
    assert len({placed[k]["segment"] for k in "ABC"}) == 3  # three different segments


# ------------------------------------------------------------------------------------------ access


@pytest.mark.parametrize("username, status", [("guard", 200), ("planner", 200), ("admin", 200),
                                              ("district_869", 200), ("district_866", 403)])
def test_page_access_per_role(client, login, username, status):
    login(username)
    response = client.get("/corridor?year=2024")
    assert response.status_code == status
    script = client.get("/corridor/map.js?year=2024")
    assert script.status_code == status
    export = client.get("/corridor/export/border.geojson?year=2024")
    assert export.status_code == status


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/corridor")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/corridor/export/gates.gpx").status_code == 302


@pytest.mark.parametrize("query, word", [("year=abc", "year"), ("category=theft", "category"),
                                         ("bands=0,5,2", "edges_m"), ("segment_km=3", "segment_km"),
                                         ("colour=red", "colour"), ("bands=0,2,50", "edges_m")])
def test_bad_filters_are_400_naming_the_parameter(client, login, query, word):
    login("guard")
    response = client.get(f"/corridor?{query}")
    assert response.status_code == 400
    assert word in response.get_data(as_text=True)


def test_unknown_export_layer_or_format_is_404(client, login):
    login("guard")
    assert client.get("/corridor/export/communes.geojson").status_code == 404
    assert client.get("/corridor/export/border.shp").status_code == 404


# ------------------------------------------------------------------------------------------ statistics


def stat_cells(html: str, dimension: str, key: str) -> tuple[int, int]:
    import re

    match = re.search(rf'data-dimension="{dimension}" data-key="{re.escape(key)}">.*?class="num count">(\d+)<'
                      rf'.*?class="num previous">(\d+)<', html, re.S)
    assert match, f"no row {dimension}/{key}"
    return int(match.group(1)), int(match.group(2))


def test_statistics_table_matches_a_hand_count(client, login, placed):
    login("guard")
    html = client.get("/corridor?year=2024").get_data(as_text=True)
    # A, B, C located in the corridor; S withheld (no clearance) but counted in its category; P in 2023;
    # X, K outside; T not a border category
    assert stat_cells(html, "total", "all") == (4, 1)
    assert stat_cells(html, "category", "smuggling") == (1, 1)
    assert stat_cells(html, "category", "drugs") == (1, 0)
    assert stat_cells(html, "category", "human_trafficking") == (1, 0)  # confidential cases keep counts whole
    assert stat_cells(html, "band", "0") == (1, 1)
    assert stat_cells(html, "band", "1") == (1, 0)
    assert stat_cells(html, "band", "2") == (1, 0)
    assert stat_cells(html, "segment", "1") == (1, 1)
    assert stat_cells(html, "segment", str(placed["B"]["segment"])) == (1, 0)
    assert stat_cells(html, "segment", str(placed["C"]["segment"])) == (1, 0)
    assert stat_cells(html, "month", "2024-03") == (1, 1)
    assert stat_cells(html, "withheld_category", "human_trafficking") == (1, 0)
    assert "1 vụ bảo mật" in html
    # Q (Oct 2023) is after the 2024 data end: not compared
    assert "so sánh 01/01/2024–04/07/2024 với cùng kỳ 01/01/2023–04/07/2023" in html
    assert "Cửa khẩu Mộc Rá" in html  # unplaced gates are listed


def test_english_page_labels(client, login, placed):
    login("guard")
    html = client.get("/corridor?year=2024&lang=en").get_data(as_text=True)
    assert "Corridor statistics" in html and "Smuggling" in html and "Segment 1 (0–5 km)" in html
    assert "1 cases withheld" in html
    script = client.get("/corridor/map.js?year=2024&lang=en").get_data(as_text=True)
    assert "Prey Veng border corridor" in script


def test_corridor_geometry_is_built_once_per_configuration(app, client, login):
    from store import corridor as SC

    login("guard")
    SC.clear_cache()
    calls = []
    original = SC._build

    def counting(*args, **kwargs):
        calls.append(args[3:])
        return original(*args, **kwargs)

    SC._build = counting
    try:
        for query in ("", "?colour=gi_bin", "?year=2023", "?segment_km=2.5", "?segment_km=2.5&category=drugs"):
            assert client.get(f"/corridor{query}").status_code == 200
            client.get(f"/corridor/map.js{query}").close()
    finally:
        SC._build = original
    assert len(calls) == 2  # default configuration, then 2.5 km segments


def test_category_and_band_filters(client, login, placed):
    login("guard")
    html = client.get("/corridor?year=2024&category=drugs").get_data(as_text=True)
    assert stat_cells(html, "total", "all") == (1, 0)
    html = client.get("/corridor?year=2024&bands=0,2").get_data(as_text=True)
    # A (2024) and P (2023) lie within 2 km; S (confidential, no point) is counted by its corridor commune
    assert stat_cells(html, "total", "all") == (2, 1)
    assert 'data-dimension="band" data-key="1"' not in html
    html = client.get("/corridor?year=2024&segment_km=10").get_data(as_text=True)
    assert stat_cells(html, "segment", "1") == (1, 1)
    assert placed["B"]["segment_10km"] != placed["C"]["segment_10km"]
    assert stat_cells(html, "segment", str(placed["B"]["segment_10km"])) == (1, 0)
    assert stat_cells(html, "segment", str(placed["C"]["segment_10km"])) == (1, 0)


def test_cleared_user_sees_the_sensitive_case_located(app, client, login, placed, db):
    from sqlalchemy import update

    from store.models import User

    with db.transaction() as session:
        session.execute(update(User).where(User.username == "guard").values(sensitive_clearance=True))
    login("guard")
    html = client.get("/corridor?year=2024").get_data(as_text=True)
    assert stat_cells(html, "total", "all") == (4, 1)
    assert stat_cells(html, "category", "human_trafficking") == (1, 0)
    assert "vụ bảo mật" not in html
    features = client.get("/corridor/export/incidents.geojson?year=2024").get_json(force=True)["features"]
    assert sorted(f["properties"]["id"] for f in features) == ["A", "B", "C", "S"]


def test_redacted_case_never_leaves_as_a_point(client, login, placed):
    login("guard")
    script = client.get("/corridor/map.js?year=2024").get_data(as_text=True)
    for name in ("A", "S"):
        assert (str(round(placed[name]['lat'], 5)) in script) == (name == "A")
    for fmt in ("geojson", "kml", "gpx"):
        body = client.get(f"/corridor/export/incidents.{fmt}?year=2024").get_data(as_text=True)
        assert str(round(placed['S']['lat'], 5)) not in body
    features = client.get("/corridor/export/incidents.geojson?year=2024").get_json(force=True)["features"]
    assert sorted(f["properties"]["id"] for f in features) == ["A", "B", "C"]


# ------------------------------------------------------------------------------------------ exports


def test_geojson_exports_parse_and_hold_the_layers(client, login, placed):
    login("guard")
    border = json.loads(client.get("/corridor/export/border.geojson").get_data(as_text=True))
    assert border["features"][0]["geometry"]["type"] == "LineString"
    assert border["features"][0]["properties"]["length_m"] == pytest.approx(47_963, abs=50)
    bands = client.get("/corridor/export/bands.geojson?bands=0,1,2,5").get_json(force=True)
    assert [f["properties"]["label"] for f in bands["features"]] == ["0–1 km", "1–2 km", "2–5 km"]
    segments = client.get("/corridor/export/segments.geojson?year=2024").get_json(force=True)
    assert len(segments["features"]) == 10
    first = segments["features"][0]["properties"]
    assert first["segment_id"] == 1 and first["count"] == 1 and first["per_km"] == pytest.approx(0.2)
    gates = client.get("/corridor/export/gates.geojson").get_json(force=True)
    assert len(gates["features"]) == 4 and all(f["properties"]["approximate"] for f in gates["features"])
    response = client.get("/corridor/export/gates.geojson")
    assert response.mimetype == "application/geo+json"
    assert "attachment" in response.headers["Content-Disposition"]


def test_kml_export_parses_with_names_and_geometry(client, login, placed):
    login("guard")
    body = client.get("/corridor/export/gates.kml").get_data()
    root = ET.fromstring(body)
    names = [e.text for e in root.iterfind(".//k:Placemark/k:name", KML_NS)]
    assert "Cửa khẩu quốc tế Dinh Bà" in names and len(names) == 4
    coords = root.find(".//k:Placemark/k:Point/k:coordinates", KML_NS).text.strip().split(",")
    assert 105 < float(coords[0]) < 106 and 10 < float(coords[1]) < 11
    segments = ET.fromstring(client.get("/corridor/export/segments.kml?year=2024").get_data())
    assert len(segments.findall(".//k:Placemark/k:LineString", KML_NS)) == 10
    bands = ET.fromstring(client.get("/corridor/export/bands.kml").get_data())
    assert bands.findall(".//k:Polygon", KML_NS)


def test_gpx_export_parses_back(client, login, placed):
    login("guard")
    gates = gpxpy.parse(client.get("/corridor/export/gates.gpx").get_data(as_text=True))
    assert len(gates.waypoints) == 4
    assert all(10 < w.latitude < 11 and 105 < w.longitude < 106 for w in gates.waypoints)
    border = gpxpy.parse(client.get("/corridor/export/border.gpx").get_data(as_text=True))
    track = border.tracks[0].segments[0].points
    assert len(border.tracks) == 1 and len(track) > 10
    assert track[0].longitude < track[-1].longitude  # west to east, as the line
    incidents = gpxpy.parse(client.get("/corridor/export/incidents.gpx?year=2024").get_data(as_text=True))
    assert sorted(w.name for w in incidents.waypoints) == ["A", "B", "C"]


def test_page_text_is_escaped_and_has_no_cdn(client, login, placed, db):
    from store.gates import BorderGate
    from store.meta import bump_data_version

    login("admin")
    client.get("/corridor")  # seeds the gates
    with db.transaction() as session:
        gate = session.query(BorderGate).filter(BorderGate.name == "Cửa khẩu Sở Thượng").one()
        gate.name = "<script>alert(1)</script>"
        bump_data_version(session, "gates")  # as every write through the app does (cached maps key on it)
    html = client.get("/corridor?year=2024").get_data(as_text=True)
    script = client.get("/corridor/map.js?year=2024").get_data(as_text=True)
    assert "<script>alert(1)" not in script and "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in script
    for text in (html, script):
        assert "cdn." not in text and "unpkg" not in text and "https://" not in text


# ------------------------------------------------------------------------------------------ CLI


def test_corridor_stats_command_writes_the_table(runner, placed, tmp_path):
    out = tmp_path / "corridor.csv"
    result = runner.invoke(args=["corridor-stats", "--year", "2024", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by = {(r["dimension"], r["key"]): r for r in rows}
    assert by[("total", "all")]["count"] == "4"  # the batch job counts the sensitive case too
    assert by[("total", "all")]["previous_count"] == "1"
    assert by[("category", "human_trafficking")]["count"] == "1"
    assert by[("segment", "1")]["count"] == "2"
    assert float(by[("segment", "1")]["per_km"]) == pytest.approx(0.4)
    assert by[("total", "all")]["period"] == "2024-01-01/2024-07-04"
    assert by[("total", "all")]["previous_period"] == "2023-01-01/2023-07-04"
    text = out.read_text(encoding="utf-8")
    assert "lon" not in rows[0] and "lat" not in rows[0]
    assert "105." not in text and "10.9" not in text  # no coordinates at all


def test_corridor_stats_whole_years_compares_with_all_of_the_previous_year(runner, placed, tmp_path):
    out = tmp_path / "corridor.csv"
    result = runner.invoke(args=["corridor-stats", "--year", "2024", "--out", str(out), "--whole-years"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        total = next(r for r in csv.DictReader(handle) if r["dimension"] == "total")
    assert (total["count"], total["previous_count"]) == ("4", "2")  # P and Q


def test_corridor_stats_without_incidents_needs_a_year(runner, tmp_path):
    result = runner.invoke(args=["corridor-stats", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "--year" in result.output
