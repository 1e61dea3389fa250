"""Cached page computations: a write shows on the next response; a write of another topic keeps them cached.

The load test's district writers record drug statuses all the time: the pages that do not show drug status
must not recompute, and those that do must show the new record at once.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.tracker_helpers import CAO_LANH_CITY, PHUONG_1, PLANNER, SA_RAI
from web import view_cache

SA_RAI_POINT = (105.4640, 10.8720)  # Thị trấn Sa Rài, Tân Hồng, near the border


def add_incident(db, incident_id: str, *, occurred: str = "2024-06-01", commune: str = SA_RAI,
                 district: str = "869", point=SA_RAI_POINT, category: str = "smuggling", status: str = "received"):
    from store.incidents import upsert_incidents

    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame({
            "id": [incident_id], "occurred_at": [pd.Timestamp(occurred)], "reported_at": [pd.NaT],
            "category": [category], "severity": ["serious"], "case_status": [status], "lon": [point[0]],
            "lat": [point[1]], "commune_code": [commune], "district_code": [district], "sensitive": [False],
            "description": [""], "article": [""], "clause": [""]}), filename="cache-test.csv")


def record_drug_free(db, commune: str, year: int):
    from store import drug_status as ds

    with db.transaction() as session:
        ds.record_drug_status(session, PLANNER, commune_code=commune, year=year, indicators={"residents": 9000})


@pytest.fixture
def counted(monkeypatch):
    """``counted("web.targets", "measure")`` counts the calls of that function (the expensive build)."""
    view_cache.clear()
    calls: dict[str, int] = {}

    def count(module, name):
        import importlib

        target = importlib.import_module(module)
        original = getattr(target, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, wrapper)
        return calls

    return count


def body(client, url: str) -> str:
    """The response text without its CSRF tokens (signed with the second they were made, so two renderings of
    the same cached view differ when a slow machine crosses a second between them)."""
    response = client.get(url)
    assert response.status_code == 200, url
    text = response.get_data(as_text=True)
    response.close()
    return re.sub(r'(csrf[^>]*?(?:value|content)=")[^"]*"', r'\1"', text)


def tile(page: str, code: str) -> str:
    """The text of one target tile (its figures), without markup."""
    match = re.search(rf'id="tile-{code}".*?</article>', page, re.S)
    assert match, f"tile {code} not found"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(0))


def test_targets_drug_figures_are_live_and_incident_figures_stay_cached(app, client, login, db, counted):
    add_incident(db, "T-1", occurred="2023-05-01")
    add_incident(db, "T-2", occurred="2024-05-01", status="indicted")
    record_drug_free(db, SA_RAI, 2023)
    record_drug_free(db, SA_RAI, 2024)
    calls = counted("web.targets", "measure")
    login("planner")
    first = body(client, "/targets?period=2024")
    assert calls == {"measure": 1}
    record_drug_free(db, PHUONG_1, 2023)
    record_drug_free(db, PHUONG_1, 2024)
    second = body(client, "/targets?period=2024")
    assert calls == {"measure": 1}, "a drug-status write must not recompute the incident figures"
    assert tile(first, "drug_free_kept") != tile(second, "drug_free_kept")
    assert "2/2" in tile(second, "drug_free_kept") and "1/1" in tile(first, "drug_free_kept")
    add_incident(db, "T-3", occurred="2024-07-01", status="indicted")
    third = body(client, "/targets?period=2024")
    assert calls == {"measure": 2}, "an incident write recomputes the incident figures"
    assert tile(third, "reports_resolved") != tile(second, "reports_resolved")


def test_hotspots_change_with_incidents_not_with_drug_statuses(app, client, login, db, counted):
    add_incident(db, "H-1", occurred="2024-03-01", category="theft", commune=PHUONG_1, district=CAO_LANH_CITY,
                 point=(105.633, 10.456))
    calls = counted("web.hotspots", "change_tables")
    login("planner")
    query = "?year=2024&statistic=gistar&units=communes"
    body(client, "/hotspots" + query)
    first = body(client, "/hotspots/map.js" + query)
    record_drug_free(db, SA_RAI, 2024)
    body(client, "/hotspots" + query)
    assert body(client, "/hotspots/map.js" + query) == first
    assert calls == {"change_tables": 1}
    add_incident(db, "H-2", occurred="2024-04-01", category="theft", commune=PHUONG_1, district=CAO_LANH_CITY,
                 point=(105.634, 10.457))
    page = body(client, "/hotspots" + query)
    assert calls == {"change_tables": 2}
    assert body(client, "/hotspots/map.js" + query) != first
    assert "(Vừa tính)" in page  # a new run on the new incident version


def test_corridor_changes_with_incidents_and_gates_not_with_drug_statuses(app, client, login, db, counted):
    from store.gates import BorderGate
    from store.meta import bump_data_version

    add_incident(db, "C-1", occurred="2024-03-01")
    calls = counted("web.corridor", "corridor_analysis")
    login("planner")
    first = body(client, "/corridor?year=2024")
    script = body(client, "/corridor/map.js?year=2024")
    record_drug_free(db, SA_RAI, 2024)
    assert body(client, "/corridor?year=2024") == first
    assert body(client, "/corridor/map.js?year=2024") == script
    assert calls == {"corridor_analysis": 1}
    add_incident(db, "C-2", occurred="2024-04-01", point=(105.4650, 10.8725))
    assert body(client, "/corridor?year=2024") != first
    assert calls == {"corridor_analysis": 2}
    with db.transaction() as session:
        gate = session.query(BorderGate).first()
        gate.name = "Cửa khẩu đổi tên"
        bump_data_version(session, "gates")
    assert "Cửa khẩu đổi tên" in body(client, "/corridor/map.js?year=2024")


def test_drug_status_map_shows_a_new_record_at_once(app, client, login, db):
    view_cache.clear()
    record_drug_free(db, SA_RAI, 2024)
    login("planner")

    def script():
        page = body(client, "/drug-status?year=2024")
        return body(client, re.search(r'src="(/tracker-maps/[^"]+)"', page).group(1))

    before = script()
    assert script() == before  # unchanged data: the same map
    record_drug_free(db, PHUONG_1, 2024)
    assert script() != before


def test_cached_views_are_bounded(monkeypatch):
    view_cache.clear()
    monkeypatch.setattr(view_cache, "MAX_VIEWS", 3)
    for n in range(10):
        view_cache.cached_view(("bounded", n), lambda n=n: n)
    assert len(view_cache._views) == 3
    built = []
    view_cache.cached_view(("bounded", 0), lambda: built.append(1) or 0)
    assert built == [1]  # the oldest entries went first


def test_commune_geojson_is_served_from_the_cache_with_the_boundaries(client, login):
    login("planner")
    first = client.get("/api/communes")
    second = client.get("/api/communes")
    assert first.mimetype == "application/json"
    data = first.get_json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 143
    assert second.get_data() == first.get_data()


def test_stashed_map_scripts_are_per_user_unguessable_and_bounded(app, tmp_path, monkeypatch):
    from web import script_stash

    app.config["MAP_SCRIPT_DIR"] = str(tmp_path / "scripts")
    monkeypatch.setattr(script_stash, "KEPT_SCRIPTS", 3)
    with app.app_context():
        token = script_stash.stash("7", "var map = 1;")
        assert script_stash.stash("7", "var map = 1;") == token  # the same map reuses its file
        assert script_stash.fetch(token, "7") == "var map = 1;"
        assert script_stash.fetch(token, "8") is None
        assert script_stash.fetch("../../secret_key", "7") is None
        tokens = [script_stash.stash("7", f"var map = {n};") for n in range(2, 7)]
        assert len(list((tmp_path / "scripts").glob("*.js"))) == 3
        assert script_stash.fetch(token, "7") is None  # the least recently stashed went first
        assert script_stash.fetch(tokens[-1], "7") == "var map = 6;"



def page_assets(page: str) -> tuple[list[str], list[str]]:
    """(css, js) of the map assets a page links (vendor files), in order."""
    return (re.findall(r'<link[^>]*href="(/vendor/[^"]+)"', page),
            re.findall(r'<script[^>]*src="(/vendor/[^"]+)"', page))


def map_script_url(page: str, path: str) -> str:
    return re.search(rf'src="({re.escape(path)}[^"]*)"', page).group(1).replace("&amp;", "&")


@pytest.mark.parametrize("page_path, script_path, module, builder, first, second", [
    ("/hotspots", "/hotspots/map.js", "web.hotspots", "build_map", "?year=2024&stat=gistar&units=communes",
     "?year=2023&stat=gistar&units=communes"),
    ("/corridor", "/corridor/map.js", "web.corridor", "_map", "?year=2024", "?year=2024&category=smuggling"),
])
def test_map_pages_build_no_map_and_link_the_assets_their_script_needs(app, client, login, db, counted, page_path,
                                                                       script_path, module, builder, first,
                                                                       second):
    """The page shows its figures and links the map's assets; only its map script builds the map. The asset
    lists come from a map of the same kind rendered before: they are those a map of the page's own filters
    needs (the same page rendered with nothing cached)."""
    add_incident(db, "S-1", occurred="2023-03-01")
    add_incident(db, "S-2", occurred="2024-03-01", point=(105.4650, 10.8725))
    login("planner")
    calls = counted(module, builder)
    body(client, page_path + first)  # the first page of its kind renders a map for its asset lists
    assert calls == {builder: 1}
    warm = body(client, page_path + second)
    assert calls == {builder: 1}, "a page of a kind already seen builds no map"
    script = body(client, map_script_url(warm, script_path))
    assert calls == {builder: 2}, "the map script builds the map"
    view_cache.clear()
    cold = body(client, page_path + second)
    assert page_assets(warm) == page_assets(cold) and page_assets(warm)[1]
    assert calls == {builder: 3}
    assert body(client, map_script_url(cold, script_path)).count("L.map(") == script.count("L.map(") == 1
    assert calls == {builder: 3}, "the map the page rendered for its assets is the script's"
