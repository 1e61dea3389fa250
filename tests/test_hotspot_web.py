"""The hot spot page: roles, filters, parameters shown, stored runs (cache and invalidation), size, redaction."""
from __future__ import annotations

import html
import json
import re
import shutil
from datetime import date

import pandas as pd
import pytest

from tests.conftest import POSTGRES_URL, drop_app_database, make_app

MAX_PAGE_BYTES = 2 * 1024 * 1024


def _seed_demo(application, boundary_set, population):
    from geo.demo import generate_demo_incidents
    from store.importing import import_incidents

    frame = generate_demo_incidents(boundary_set, population, start=date(2023, 1, 1), end=date(2024, 12, 31))
    report = import_incidents(application.extensions["db"], None, frame=frame, filename="demo", username="test",
                              is_demo=True)
    assert report.committed


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory, template_db, data_dir, boundary_set, population):
    """The test template plus two years (2023–2024) of illustrative incidents, seeded once for this module."""
    if POSTGRES_URL:
        yield None
        return
    folder = tmp_path_factory.mktemp("hotspot_demo")
    application = make_app(folder, template_db, data_dir)
    _seed_demo(application, boundary_set, population)
    db = application.extensions["db"]
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    yield folder / "bando138.sqlite3"


@pytest.fixture
def app(tmp_path, template_db, data_dir, demo_template, boundary_set, population):
    if demo_template is None:
        application = make_app(tmp_path, template_db, data_dir)
        _seed_demo(application, boundary_set, population)
    else:
        copy = tmp_path / "seeded.sqlite3"
        shutil.copy(demo_template, copy)
        application = make_app(tmp_path, template_db, data_dir, DATABASE_URL=f"sqlite:///{copy}")
    yield application
    drop_app_database(application)


def get(client, url):
    response = client.get(url)
    body = response.get_data(as_text=True)
    response.close()
    return response, body


def script_url(body):
    match = re.search(r'<script src="(/hotspots/map\.js\?[^"]+)"', body)
    assert match, "page does not load its map script"
    return match.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("user", ["planner", "admin", "guard", "district_869"])
def test_page_per_role(login, user):
    client = login(user)
    response, body = get(client, "/hotspots?year=2024")
    assert response.status_code == 200
    assert "Phân tích điểm nóng" in body
    assert 'id="hotspot-parameters"' in body
    script, _ = get(client, script_url(body))
    assert script.status_code == 200 and script.mimetype == "text/javascript"


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/hotspots")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_district_starts_on_its_district_and_may_widen(login):
    client = login("district_869")
    _, body = get(client, "/hotspots?year=2024")
    assert re.search(r'<option value="869"\s+selected', body)
    assert "Tân Hồng" in body
    _, body = get(client, "/hotspots?year=2024&district=")
    assert re.search(r'<option value=""\s+selected', body)


def test_parameters_shown_and_stored(login, app):
    client = login("planner")
    _, body = get(client, "/hotspots?year=2024&stat=gistar&units=square&cell_size=1500&neighbours=rook&fdr=0")
    assert "Lưới ô vuông" in body and "rook" in body and "1.500" in body
    run_id = int(re.search(r'id="run-id">(\d+)', body).group(1))
    response, text = get(client, f"/hotspots/runs/{run_id}.geojson")
    assert response.status_code == 200
    document = json.loads(text)
    params = document["properties"]["params"]
    assert params["units"] == "square" and params["cell_size"] == 1500 and params["neighbours"] == "rook"
    assert params["fdr"] is False and params["period"] == "2024-CY" and params["start"].startswith("2024-01-01")
    assert document["properties"]["created_by"] == "planner"
    assert {"gi_z", "gi_p", "gi_bin", "value"} <= set(document["features"][0]["properties"])


@pytest.mark.parametrize("query, expected", [
    ("stat=lisa&units=hex&cell_size=2000", "LISA"),
    ("stat=kde&units=hex&cell_size=1000", "Mật độ"),
    ("stat=gistar&units=communes&measure=eb", "Bayes"),
    ("stat=lisa&units=communes&measure=rate&neighbours=knn:6", "knn:6"),
    ("stat=emerging&units=communes", "Xu hướng điểm nóng"),
    ("stat=gistar&period=q1&category=theft", "01/01/2024 – 31/03/2024"),
    ("stat=gistar&period=m02&category=group:property", "01/02/2024 – 29/02/2024"),
])
def test_filters(login, query, expected):
    client = login("planner")
    response, body = get(client, f"/hotspots?year=2024&{query}")
    assert response.status_code == 200
    assert expected in body
    assert 'id="analysis-error"' not in body, re.search(r'id="analysis-error">(.*?)</p>', body, re.S).group(1)
    script, js = get(client, script_url(body))
    assert script.status_code == 200 and "L.geoJson" in js
    statistic = re.search(r"stat=(\w+)", query).group(1)
    title = {"gistar": "Điểm nóng Getis-Ord Gi*", "lisa": "Cụm và ngoại lai", "kde": "Mật độ vụ việc",
             "emerging": "Xu hướng điểm nóng theo thời gian"}[statistic]
    assert title in js


@pytest.mark.parametrize("query, message", [
    # The Vietnamese page words the refusal in Vietnamese, naming the parameter and the value received.
    ("stat=moran", "tham số “stat” = 'moran' không thuộc: gistar"),
    ("units=triangle", "tham số “units” = 'triangle'"),
    ("cell_size=10", "m nằm ngoài khoảng cho phép 250–5000 m"),
    ("neighbours=knight", "neighbours phải là"),
    ("period=q9", "tham số “period” = 'q9'"),
    ("district=999", "tham số “district” = '999'"),
])
def test_bad_filters_are_400(login, query, message):
    client = login("planner")
    response, body = get(client, f"/hotspots?{query}")
    assert response.status_code == 400
    assert message in html.unescape(body)


def test_analysis_error_is_shown_not_raised(login):
    client = login("planner")
    # A single district has 12 communes: fewer than the 30 units Gi* needs.
    response, body = get(client, "/hotspots?year=2024&units=communes&district=869")
    assert response.status_code == 200
    assert 'id="analysis-error"' in body and "quá ít đơn vị" in html.unescape(body)
    response, body = get(client, "/hotspots?year=2024&units=communes&district=869&lang=en")
    assert 'id="analysis-error"' in body and "too few units" in html.unescape(body)
    assert "quá ít" not in html.unescape(body)


def test_cache_hit_and_invalidation_after_import(login, app, boundary_set, population):
    client = login("planner")
    url = "/hotspots?year=2024&stat=gistar&units=hex&cell_size=2000"
    _, first = get(client, url)
    run_id = re.search(r'id="run-id">(\d+) \(([^)]+)\)', first)
    assert run_id.group(2) == "Vừa tính"
    _, again = get(client, url)
    second = re.search(r'id="run-id">(\d+) \(([^)]+)\)', again)
    assert second.group(1) == run_id.group(1) and second.group(2) == "Kết quả lưu sẵn"
    version = int(re.search(r'id="data-version">(\d+)', again).group(1))

    from store.importing import import_incidents

    extra = pd.DataFrame({
        "id": ["NEW-1"], "occurred_at": [pd.Timestamp("2024-05-01 10:00")], "category": ["theft"],
        "severity": ["less_serious"], "case_status": ["received"], "lon": [105.63], "lat": [10.46],
    })
    report = import_incidents(app.extensions["db"], None, frame=extra, filename="extra.csv", username="test")
    assert report.committed and report.written == 1, report.error_lines()
    _, after = get(client, url)
    third = re.search(r'id="run-id">(\d+) \(([^)]+)\)', after)
    assert third.group(1) != run_id.group(1) and third.group(2) == "Vừa tính"
    assert int(re.search(r'id="data-version">(\d+)', after).group(1)) > version


def test_page_under_two_megabytes_with_a_year_of_data(login):
    client = login("planner")
    for query in ("stat=gistar&units=hex&cell_size=500&show=significant", "stat=kde&units=hex&cell_size=500",
                  "stat=lisa&units=hex&cell_size=1000"):
        response, body = get(client, f"/hotspots?year=2024&{query}")
        script, js = get(client, script_url(body))
        size = len(body.encode()) + len(js.encode())
        assert size < MAX_PAGE_BYTES, f"{query}: {size:,} bytes"


def test_change_against_baseline(login):
    client = login("planner")
    _, body = get(client, "/hotspots?year=2024&baseline=2023")
    assert "So sánh với năm gốc 2023" in body
    table = body[body.index('id="change-districts"'):body.index('id="change-communes"')]
    assert table.count("<tr") == 1 + 12 + 1  # header, 12 districts, province total
    assert "Toàn tỉnh" in table
    start = body.index('id="change-communes"')
    communes = body[start:body.index("</table>", start)]  # the evaluation tables follow it
    assert communes.count("<tr") == 1 + 143
    assert "KTC 95%" in body and "Bayes TN" in body


def test_english(login):
    client = login("planner")
    _, body = get(client, "/hotspots?year=2024&lang=en")
    assert "Hot spot analysis" in body and "Parameters used" in body
    _, js = get(client, script_url(body))
    assert "Getis-Ord Gi* hot spots" in js


def test_confidential_cases_withheld_from_grid_but_counted_for_communes(login, app):
    from sqlalchemy import update

    from store.models import Incident, User

    db = app.extensions["db"]
    with db.transaction() as session:
        session.execute(update(Incident).where(Incident.category == "theft",
                                               Incident.occurred_at >= pd.Timestamp("2024-01-01").to_pydatetime())
                        .values(sensitive=True))
        session.execute(update(User).where(User.username == "admin").values(sensitive_clearance=True))
        from store.meta import bump_data_version

        bump_data_version(session, "incidents")
    client = login("planner")
    _, body = get(client, "/hotspots?year=2024&units=hex&cell_size=2000")
    withheld = int(re.search(r'id="withheld">([\d.]+)', body).group(1).replace(".", ""))
    assert withheld > 0
    total_planner = re.search(r"Số vụ trong kỳ</th><td class=\"num\">([\d.]+)", body).group(1)
    run_id = int(re.search(r'id="run-id">(\d+)', body).group(1))
    client.post("/logout", data={"csrf_token": login.csrf_token})
    client = login("admin")
    _, cleared = get(client, "/hotspots?year=2024&units=hex&cell_size=2000")
    assert 'id="withheld"' not in cleared
    assert re.search(r"Số vụ trong kỳ</th><td class=\"num\">([\d.]+)", cleared).group(1) == total_planner
    cleared_run = int(re.search(r'id="run-id">(\d+)', cleared).group(1))
    assert cleared_run != run_id  # different viewers' inputs are different runs
    client.post("/logout", data={"csrf_token": login.csrf_token})
    client = login("planner")
    response, _ = get(client, f"/hotspots/runs/{cleared_run}.geojson")
    assert response.status_code == 403


def test_cache_keys_follow_the_data_the_result_uses(app):
    import geopandas as gpd
    import shapely

    from store.hotspot_cache import get_or_run, run_frame
    from store.meta import bump_data_version

    db = app.extensions["db"]
    calls = []

    def compute():
        calls.append(1)
        frame = gpd.GeoDataFrame({"value": [1.5], "gi_bin": [3]}, geometry=[shapely.box(560_000, 1_150_000,
                                                                                       561_000, 1_151_000)], crs=32648)
        return frame, {"hot": 1}

    def run(params, topic=None):
        with db.transaction() as session:
            if topic:
                bump_data_version(session, topic)
            cached = get_or_run(session, params, compute, username="tester")
            return cached.hit, cached.run.id, cached.run

    params = {"statistic": "gistar", "cell_size": 1000}
    assert run(params)[0] is False
    hit, first_id, stored = run(params)
    assert hit and len(calls) == 1
    assert json.loads(stored.params) == params and stored.created_by == "tester" and stored.details == {"hot": 1}
    frame = run_frame(stored)
    assert frame.crs.to_epsg() == 4326 and frame["gi_bin"].tolist() == [3]
    assert run(params, "key_areas")[:2] == (True, first_id)  # unrelated edits keep the stored map
    assert run(params, "incidents")[0] is False  # an import invalidates it
    assert run({**params, "cell_size": 500})[0] is False
    assert len(calls) == 3


FINE_GRIDS = ("stat=lisa&units=hex&cell_size=250", "stat=kde&units=square&cell_size=250",
              "stat=gistar&units=square&cell_size=250")


def hotspot_features(js: str) -> list[dict]:
    """The features of the map script's hot spot layer (the GeoJSON whose features carry a class ``k``)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"geo_json_\w+_add\(", js):
        document, _end = decoder.raw_decode(js, match.end())
        features = document.get("features", [])
        if features and "k" in features[0]["properties"]:
            return features
    return []


def _integer(text: str) -> int:
    return int(text.replace(".", ""))  # Vietnamese grouping


@pytest.mark.parametrize("query", FINE_GRIDS)
def test_fine_grid_script_is_small_and_the_page_says_what_it_leaves_out(login, query):
    client = login("planner")
    response, body = get(client, f"/hotspots?year=2024&{query}")
    assert response.status_code == 200 and 'id="analysis-error"' not in body
    _script, js = get(client, script_url(body))
    assert len(js.encode()) < MAX_PAGE_BYTES, f"{query}: {len(js.encode()):,} bytes of map script"
    units = _integer(re.search(r"Số đơn vị phân tích</th><td[^>]*>([^<]+)<", body).group(1))
    drawn_row = _integer(re.search(r"Đơn vị vẽ trên bản đồ</th><td[^>]*>([^<]+)<", body).group(1))
    features = hotspot_features(js)
    assert 0 < len(features) == drawn_row < units
    note = re.search(r'id="drawn-subset"><small>([^<]+)</small>', body)
    assert note, f"{query}: the page does not say that it draws {drawn_row:,} of {units:,} cells"
    words = html.unescape(note.group(1))
    drawn = _integer(re.search(r"([\d.]+)(?:/| trong )[\d.]+", words).group(1))
    assert drawn == len(features)
    assert all(part in js for part in words.split("; "))  # the legend says it too


def _grid_run(client, query):
    _response, body = get(client, f"/hotspots?year=2024&{query}")
    run_id = re.search(r'id="run-id">(\d+)', body).group(1)
    _script, js = get(client, script_url(body))
    _download, text = get(client, f"/hotspots/runs/{run_id}.geojson")
    import geopandas as gpd

    return hotspot_features(js), gpd.GeoDataFrame.from_features(json.loads(text)["features"], crs=4326)


@pytest.mark.parametrize("query, z_column, p_column", [
    ("stat=gistar&units=square&cell_size=250", "gi_z", "gi_p"),
    ("stat=lisa&units=hex&cell_size=250", "lisa_i", "lisa_p"),
])
def test_fine_grid_popup_of_a_known_cell_shows_its_stored_values(login, query, z_column, p_column):
    """The most significant cell of the stored run, found on the map by where its drawn polygon lies:
    its count, z (or I), p and class in the popup are the run's, in Vietnamese number format."""
    import shapely

    from layers.text import format_number

    features, cells = _grid_run(login("planner"), query)
    cell = cells.loc[cells[z_column].abs().idxmax()]
    inside = [f for f in features
              if cell.geometry.contains(shapely.geometry.shape(f["geometry"]).representative_point())]
    assert len(inside) == 1, f"{len(inside)} drawn polygons in the most significant cell"
    shown = inside[0]["properties"]
    assert shown["n"] == format_number(int(cell["count"]), "vi")
    assert shown["z"] == format_number(float(cell[z_column]), "vi", 2)
    p = float(cell[p_column])
    assert shown["p"] == (html.escape("< 0,001") if p < 0.001 else format_number(p, "vi", 3))
    if z_column == "gi_z":
        assert shown["k"] == [3, 2, 1, 0, -1, -2, -3].index(int(cell["gi_bin"]))
    else:
        assert shown["k"] == ["HH", "LL", "HL", "LH"].index(cell["lisa_cluster"])


def test_clipped_grids_are_kept_per_area_kind_and_size_within_a_cell_budget(monkeypatch):
    import geopandas as gpd
    import shapely

    from web import hotspots

    communes = gpd.GeoDataFrame({"commune_code": ["1", "2"], "district_code": ["9", "8"]},
                                geometry=[shapely.box(105.60, 10.40, 105.64, 10.44),
                                          shapely.box(105.64, 10.40, 105.68, 10.44)], crs=4326)
    monkeypatch.setattr(hotspots, "_GRIDS", {})
    first = hotspots._study_grid(communes, "", "hex", 500)
    assert hotspots._study_grid(communes, "", "hex", 500) is first
    district = hotspots._study_grid(communes, "9", "hex", 500)
    assert district is not first and district.n_cells < first.n_cells
    assert hotspots._study_grid(communes, "", "square", 500).kind == "square"
    monkeypatch.setattr(hotspots, "_GRID_CACHE_CELLS", first.n_cells + district.n_cells)
    hotspots._study_grid(communes, "", "hex", 400)  # over the budget: the least recently used go first
    kept = [key[1:] for key in hotspots._GRIDS]
    assert kept[-1] == ("", "hex", 400) and ("", "hex", 500) not in kept
