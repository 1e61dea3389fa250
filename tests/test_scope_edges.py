"""Scopes at the edges: map scripts keep a district's cases to its committee; vendor files stay in their folders."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.test_maps_page import CAO_LANH, SA_RAI, few_incidents


def test_overview_script_gives_a_district_committee_no_case_of_another_district(login, client, db):
    few_incidents(db, [("OWN-869", "2024-03-01", "theft", *SA_RAI, {}),
                       ("OTHER-866", "2024-03-02", "theft", *CAO_LANH, {})])
    login("district_869")
    for query in ("year=2024&district=866", "year=2024&district=", "year=2024"):
        script = client.get(f"/map/overview.js?{query}").get_data(as_text=True)
        assert "OTHER-866" not in script, query
    assert "OWN-869" in client.get("/map/overview.js?year=2024").get_data(as_text=True)
    # the counts of the wider view still count it
    page = client.get("/?year=2024&district=").get_data(as_text=True)
    assert 'id="total-incidents">2<' in page
    login("planner")
    assert "OTHER-866" in client.get("/map/overview.js?year=2024&district=866").get_data(as_text=True)


@pytest.fixture
def corridor_cases(app, db):
    from store.boundaries import communes_frame
    from store.corridor import corridor_geometry
    from store.incidents import upsert_incidents

    with db.transaction() as session:
        geometry = corridor_geometry(session, app.config["DATA_DIR"])
        communes = communes_frame(session)
    border = communes[communes["commune_code"].isin(set(geometry.border_communes["commune_code"].astype(str)))]
    other = sorted(set(border["district_code"]) - {"869"})[0]
    rows = []
    for district in ("869", other):
        commune = border[border["district_code"] == district].sort_values("commune_code").iloc[0]
        point = commune.geometry.representative_point()
        rows.append({"id": f"HL-{district}", "occurred_at": pd.Timestamp("2024-04-01"), "reported_at": None,
                     "category": "smuggling", "severity": "serious", "case_status": "received", "lon": point.x,
                     "lat": point.y, "commune_code": commune["commune_code"], "district_code": district,
                     "sensitive": False, "description": "", "article": ""})
    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame(rows), filename="corridor", username="tests")
    return other


def test_corridor_exports_and_map_keep_a_district_committee_to_its_cases(login, client, corridor_cases):
    other = corridor_cases
    login("planner")
    everything = json.loads(client.get("/corridor/export/incidents.geojson?year=2024").data)
    assert {f["properties"]["id"] for f in everything["features"]} >= {"HL-869", f"HL-{other}"}
    login("district_869")
    mine = json.loads(client.get("/corridor/export/incidents.geojson?year=2024").data)
    assert {f["properties"]["id"] for f in mine["features"]} == {"HL-869"}
    script = client.get("/corridor/map.js?year=2024").get_data(as_text=True)
    assert f"HL-{other}" not in script


@pytest.mark.parametrize("path", ["leaflet/dist/../../.package-lock.json", "leaflet/dist/../package.json",
                                  "leaflet/dist/./leaflet.js", "leaflet/dist/%2e%2e/%2e%2e/.package-lock.json",
                                  "chart.js/dist/../../leaflet/package.json", ".package-lock.json"])
def test_vendor_serves_only_the_declared_folders(client, path):
    with client.get(f"/vendor/{path}") as response:
        assert response.status_code == 404


def test_vendor_still_serves_the_declared_files(client):
    with client.get("/vendor/leaflet/dist/leaflet.js") as response:
        assert response.status_code == 200
    with client.get("/vendor/@fortawesome/fontawesome-free/css/all.min.css") as response:
        assert response.status_code == 200


def _readme_menu_pages() -> dict[str, set[str]]:
    """The "pages in its menu" column of the README's role table, per role."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| role | sees | pages in its menu | changes |"):]
    pages = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        role = re.match(r"`(\w+)`", cells[0]).group(1)
        pages[role] = set(re.findall(r"`(/[^`]*)`", cells[2]))
    return pages


@pytest.mark.parametrize("username", ["admin", "planner", "guard", "district_869", "commune_29929"])
def test_readme_role_table_is_what_the_menu_offers(login, client, username):
    """One source of truth: the README's table lists exactly the pages each role's menu links to (and opens)."""
    import re

    from tests.conftest import USERS

    role = USERS[username][0]
    login(username)
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav"):page.index("</nav>")]
    offered = {href for href in re.findall(r'href="(/[^"?#]*)"', nav) if href != "/logout"}
    assert offered == _readme_menu_pages()[role]
    for href in offered:
        with client.get(href) as response:
            assert response.status_code == 200, href


def test_a_commune_committee_receives_only_the_cases_of_its_commune(login, client, db, app):
    from store.boundaries import communes_frame

    with db.transaction() as session:
        communes = communes_frame(session).set_index("commune_code")
    own = communes.loc["29929"].geometry.representative_point()      # Xã Tân Hộ Cơ, the account's commune
    other = communes.loc["29926"].geometry.representative_point()    # another commune of the same district
    few_incidents(db, [("OWN-29929", "2024-03-01", "theft", own.x, own.y, {}),
                       ("OTHER-29926", "2024-03-02", "theft", other.x, other.y, {})])
    login("commune_29929")
    script = client.get("/map/overview.js?year=2024").get_data(as_text=True)
    assert "OWN-29929" in script and "OTHER-29926" not in script
    exported = json.loads(client.get("/exports/incidents.geojson?year=2024").data)
    assert {f["id"] for f in exported["features"]} == {"OWN-29929"}
    page = client.get("/?year=2024").get_data(as_text=True)
    assert 'id="total-incidents">2<' in page  # both still counted
