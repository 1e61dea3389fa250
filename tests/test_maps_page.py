"""The overview page through the test client: filters in the query string, roles, redaction, page weight."""
from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from store.importing import import_incidents

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def demo_year(app, db):
    """A full year (2024) of illustrative incidents from the project's demo generator."""
    from geo.demo import generate_demo_incidents
    from store.boundaries import communes_frame, population_frame

    with db.transaction() as session:
        communes = communes_frame(session)
        population = population_frame(session)
    frame = generate_demo_incidents(communes, population, start=date(2024, 1, 1), end=date(2024, 12, 31))
    report = import_incidents(db, None, frame=frame, filename="demo-2024", username="test", is_demo=True)
    assert report.committed, report.error_lines()[:5]
    return frame


def few_incidents(db, rows):
    """Store hand-made incidents: rows of (id, date, category, lon, lat, extra dict)."""
    frame = pd.DataFrame([{
        "id": case_id, "occurred_at": when, "category": category, "severity": "serious",
        "case_status": "received", "lon": lon, "lat": lat, **extra,
    } for case_id, when, category, lon, lat, extra in rows])
    report = import_incidents(db, None, frame=frame, filename="test.csv", username="test")
    assert report.committed, report.error_lines()
    return report


# Points inside Phường 1 (TP Cao Lãnh, 866) and Thị trấn Sa Rài (Tân Hồng, 869).
CAO_LANH = (105.6330, 10.4560)
SA_RAI = (105.4640, 10.8720)


def script_url(page: str) -> str:
    match = re.search(r'<script src="(/map/overview\.js\?[^"]+)"', page)
    assert match, "page does not load the map script"
    return match.group(1).replace("&amp;", "&")


def test_overview_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/map/overview.js").status_code == 302


def test_overview_page_has_filters_map_and_only_local_assets(login, client, db):
    few_incidents(db, [("A-1", "2024-03-01", "theft", *CAO_LANH, {})])
    login("planner")
    page = client.get("/?year=2024").get_data(as_text=True)
    for name in ("period", "category", "district", "measure"):
        assert f'name="{name}"' in page
    assert 'id="map_overview"' in page
    assert "Tổng quan tình hình tội phạm" in page
    assert '<option value="2024-CY" selected>' in page
    sources = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', page)
    assert sources and all(src.startswith("/") for src in sources), sources
    assert "<script>" not in page  # no inline script: the map script has its own URL
    script = client.get(script_url(page))
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    body = script.get_data(as_text=True)
    assert "L.map(" in body and "commune-shape" in body
    assert "https://" not in body and "http://" not in body


def test_filters_change_the_counts_and_are_kept_in_the_script_url(login, client, db):
    few_incidents(db, [
        ("A-1", "2024-03-01", "theft", *CAO_LANH, {}),
        ("A-2", "2024-04-01", "drugs", *SA_RAI, {}),
        ("A-3", "2023-04-01", "drugs", *SA_RAI, {}),
    ])
    login("planner")
    page = client.get("/?year=2024&category=drugs&measure=rate").get_data(as_text=True)
    assert re.search(r'id="total-incidents">1<', page)
    url = script_url(page)
    assert "period=2024-CY" in url and "category=drugs" in url and "measure=rate" in url
    assert "Số vụ trên 10.000 dân" in client.get(url).get_data(as_text=True) or \
        "S\\u1ed1 v\\u1ee5" in client.get(url).get_data(as_text=True)
    group = client.get("/?year=2024&category=group:property").get_data(as_text=True)
    assert re.search(r'id="total-incidents">1<', group)
    border = client.get("/?year=2024&category=border_corridor&district=866").get_data(as_text=True)
    assert re.search(r'id="total-incidents">0<', border)
    previous = client.get("/?year=2023").get_data(as_text=True)
    assert re.search(r'id="total-incidents">1<', previous)


@pytest.mark.parametrize("query, name", [("year=abc", "year"), ("category=nope", "category"),
                                         ("district=999", "district"), ("measure=density", "measure")])
def test_bad_filter_values_are_refused_with_the_parameter_named(login, client, query, name):
    login("planner")
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert name in response.get_data(as_text=True)


def test_district_committee_starts_on_its_own_district_and_may_look_wider(login, client, db):
    few_incidents(db, [("A-1", "2024-03-01", "theft", *CAO_LANH, {}), ("A-2", "2024-03-02", "theft", *SA_RAI, {})])
    login("district_869")
    page = client.get("/?year=2024").get_data(as_text=True)
    assert '<option value="869" selected>' in page
    assert re.search(r'id="total-incidents">1<', page)
    assert "district=869" in script_url(page)
    whole = client.get("/?year=2024&district=").get_data(as_text=True)
    assert re.search(r'id="total-incidents">2<', whole)


def test_english_switch(login, client):
    login("planner")
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Province crime overview" in page and "Whole province" in page
    assert "lang=en" in script_url(page)
    assert "Incidents per commune" in client.get(script_url(page)).get_data(as_text=True)


def test_sensitive_case_counts_but_is_not_drawn_for_an_uncleared_viewer(login, client, db):
    few_incidents(db, [("MBN-1", "2024-05-05", "human_trafficking", *CAO_LANH, {"description": "nạn nhân X"}),
                       ("A-2", "2024-05-06", "theft", *CAO_LANH, {})])
    login("planner")
    page = client.get("/?year=2024").get_data(as_text=True)
    assert re.search(r'id="total-incidents">2<', page)
    script = client.get(script_url(page)).get_data(as_text=True)
    assert "MBN-1" not in script and "nạn nhân" not in script
    assert "A-2" in script
    assert "1 vụ bảo mật" in script or "1 v\\u1ee5 b\\u1ea3o m\\u1eadt" in script


def test_malicious_text_in_data_is_escaped(login, client, db):
    few_incidents(db, [(EVIL, "2024-05-05", "theft", *CAO_LANH, {"description": EVIL})])
    login("planner")
    page = client.get("/?year=2024").get_data(as_text=True)
    script = client.get(script_url(page)).get_data(as_text=True)
    assert EVIL not in page and EVIL not in script
    # escaped once as HTML text, then JSON-encoded (folium writes & as \u0026)
    assert "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;" in script


def test_demo_data_is_labelled_on_the_page_and_in_the_legend(login, client, demo_year):
    login("planner")
    page = client.get("/?year=2024").get_data(as_text=True)
    assert "Dữ liệu minh họa" in page
    assert 'class="badge demo-badge"' in page
    script = client.get(script_url(page)).get_data(as_text=True)
    assert "minh họa" in script or "minh h\\u1ecda" in script


def test_page_weight_with_a_full_year_of_demo_data(login, client, demo_year):
    login("planner")
    page = client.get("/?year=2024")
    html = page.get_data()
    script = client.get(script_url(html.decode())).get_data()
    total = len(html) + len(script)
    assert len(demo_year) > 1000
    assert total < 2_000_000, f"overview weighs {total} bytes"
    assert b"L.markerClusterGroup" in script  # a year fits under the point cap: points are drawn


def test_above_the_point_cap_the_page_shows_commune_totals_and_says_so(app, login, client, db):
    few_incidents(db, [(f"C-{i}", "2024-03-01", "theft", CAO_LANH[0] + i * 1e-4, CAO_LANH[1], {}) for i in range(4)])
    app.config["MAP_MAX_POINTS"] = 3
    login("planner")
    page = client.get("/?year=2024").get_data(as_text=True)
    assert "Quá nhiều vụ để vẽ từng điểm (giới hạn 3)" in page
    script = client.get(script_url(page)).get_data(as_text=True)
    assert "markerClusterGroup" not in script and "C-1" not in script
    assert re.search(r'id="total-incidents">4<', page)


def test_communes_api_shape_is_kept(login, client):
    login("guard")
    data = client.get("/api/communes").get_json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 143
    assert {"commune_code", "commune_name", "district_code", "district_name"} <= set(data["features"][0]["properties"])


@pytest.mark.parametrize("username", ["admin", "planner", "guard", "district_866"])
def test_every_signed_in_role_sees_the_overview(login, client, username):
    login(username)
    assert client.get("/").status_code == 200


def test_overview_offers_a_commune_gi_star_overlay_for_the_province(client, login, db):
    import pandas as pd

    from geo.demo import generate_demo_incidents
    from store.boundaries import communes_frame
    from store.importing import import_incidents

    with db.transaction() as session:
        communes = communes_frame(session)
    frame = generate_demo_incidents(communes, None, seed=7)
    frame = frame[pd.to_datetime(frame["occurred_at"]).dt.year == 2024]
    assert import_incidents(db, None, frame=frame, filename="demo.csv").committed
    login("planner")
    script = client.get("/map/overview.js?year=2024").get_data(as_text=True)
    assert "Gi*" in script
    district_script = client.get("/map/overview.js?year=2024&district=866").get_data(as_text=True)
    assert "Gi*" not in district_script


def test_overview_links_to_the_downloads_with_the_same_filters(client, login):
    login("planner")
    page = client.get("/?year=2024&category=theft&district=866").get_data(as_text=True)
    assert 'href="/exports?period=2024-CY&amp;category=theft&amp;district=866&amp;set=2024"' in page
    assert 'href="/exports"' in page  # and in the menu


def test_heading_names_the_district_shown(client, login):
    login("district_869")
    page = client.get("/").get_data(as_text=True)
    assert "Tổng quan tình hình tội phạm — Huyện Tân Hồng" in page
    assert "toàn tỉnh</h1>" not in page
