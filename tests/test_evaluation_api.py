"""JSON API of the hot spot evaluations: accuracy, key-area displacement, near repeats, forecast; scope,
confidentiality and bad input."""
from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from tests.conftest import POSTGRES_URL, drop_app_database, make_app


def _seed(application, boundary_set, population):
    from geo.demo import generate_demo_incidents
    from store.importing import import_incidents

    frame = generate_demo_incidents(boundary_set, population, start=date(2023, 6, 1), end=date(2024, 11, 30))
    report = import_incidents(application.extensions["db"], None, frame=frame, filename="demo", username="test",
                              is_demo=True)
    assert report.committed


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory, template_db, data_dir, boundary_set, population):
    if POSTGRES_URL:
        yield None
        return
    folder = tmp_path_factory.mktemp("evaluation_api")
    application = make_app(folder, template_db, data_dir)
    _seed(application, boundary_set, population)
    application.extensions["db"].dispose()
    yield folder / "bando138.sqlite3"


@pytest.fixture
def app(tmp_path, template_db, data_dir, seeded_template, boundary_set, population):
    from web import view_cache

    view_cache.clear()
    if seeded_template is None:
        application = make_app(tmp_path, template_db, data_dir)
        _seed(application, boundary_set, population)
    else:
        copy = tmp_path / "seeded.sqlite3"
        shutil.copy(seeded_template, copy)
        application = make_app(tmp_path, template_db, data_dir, DATABASE_URL=f"sqlite:///{copy}")
    yield application
    drop_app_database(application)


def clear(app, username, cleared=True):
    from store.models import User

    with app.extensions["db"].transaction() as session:
        session.execute(update(User).where(User.username == username).values(sensitive_clearance=cleared))


def add_sensitive(app, days, commune_index=40):
    """Sensitive cases at one commune's representative point on ``days``; returns (lon, lat)."""
    from store.boundaries import communes_frame
    from store.incidents import upsert_incidents

    with app.extensions["db"].transaction() as session:
        commune = communes_frame(session).sort_values("commune_code").iloc[commune_index]
        point = commune.geometry.representative_point()
        lon, lat = round(point.x, 6), round(point.y, 6)
        upsert_incidents(session, pd.DataFrame([{
            "id": f"BM-{commune_index}-{n}", "occurred_at": pd.Timestamp(day), "reported_at": None,
            "category": "human_trafficking", "severity": "very_serious", "case_status": "received", "lon": lon,
            "lat": lat, "commune_code": commune["commune_code"], "district_code": commune["district_code"],
            "sensitive": True, "description": "", "article": ""} for n, day in enumerate(days)]),
            filename="t", username="t")
    return lon, lat


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()


# --- accuracy -----------------------------------------------------------------------------------------------
def test_accuracy_default_quarters_and_consistent_ratios(login):
    client = login("planner")
    body = get_json(client, "/api/hotspot-accuracy")
    # Demo data end on 30/11/2024: the last complete quarters are Q3 and Q4 of reporting year 2024.
    assert body["train"]["code"] == "2024-q3" and body["test"]["code"] == "2024-q4"
    for key in ("hit_rate", "area_share", "pai", "pei", "rri", "n", "N", "a_km2", "A_km2", "n_star", "n1", "N1"):
        assert key in body
    assert body["hit_rate"] == pytest.approx(body["n"] / body["N"])
    assert body["area_share"] == pytest.approx(body["a_km2"] / body["A_km2"])
    assert body["pai"] == pytest.approx(body["hit_rate"] / body["area_share"])
    assert body["pei"] == pytest.approx(body["n"] / body["n_star"]) and body["pei"] <= 1
    assert body["rri"] == pytest.approx((body["n"] / body["n1"]) / (body["N"] / body["N1"]))
    assert body["pai"] > 1  # the demo's planted clusters persist from one quarter to the next


def test_accuracy_counts_equal_the_stored_incidents(app, login):
    from geo.crs import lonlat_to_metric
    from store.incidents import incident_frame

    client = login("planner")
    body = get_json(client, "/api/hotspot-accuracy?train=2024-q2&test=2024-q3&method=kde&category=theft")
    assert body["method"] == "kde" and body["categories"] == ["theft"]
    with app.app_context():
        from web import db_session

        frame = incident_frame(db_session(), start=pd.Timestamp("2024-06-01"), end=pd.Timestamp("2024-09-01"),
                               categories=["theft"])
    located = frame["lon"].notna()
    assert body["N"] <= int(located.sum()) and body["N"] >= int(located.sum()) - 2  # border points outside cells
    x, _y = lonlat_to_metric(frame.loc[located, "lon"], frame.loc[located, "lat"])
    assert len(x) == int(located.sum())


@pytest.mark.parametrize("method", ["gistar", "kde", "emerging", "prospective"])
def test_accuracy_every_method(login, method):
    body = get_json(login("guard"), f"/api/hotspot-accuracy?train=2024-q3&test=2024-q4&method={method}")
    assert body["n_flagged"] > 0 and 0 < body["area_share"] < 0.2


@pytest.mark.parametrize("query, message", [
    ("method=magic", "method 'magic'"),
    ("train=2024-q4&test=2024-q3", "must start after"),
    ("train=2024-q3", "test is required"),
    ("train=2024-q9&test=2024-q4", "is not one of"),
    ("category=nope", "category 'nope'"),
    ("district=999", "district '999'"),
    ("cell_size=10", "outside the allowed"),
])
def test_accuracy_bad_input(login, query, message):
    body = get_json(login("planner"), f"/api/hotspot-accuracy?{query}&lang=en", status=400)
    assert message in body["error"] and body["status"] == 400


def test_confidential_cases_are_left_out_for_uncleared_viewers(app, login):
    add_sensitive(app, ["2024-07-03", "2024-08-09", "2024-10-10"])
    client = login("planner")
    url = "/api/hotspot-accuracy?train=2024-q3&test=2024-q4"
    uncleared = get_json(client, url)
    clear(app, "planner")
    cleared = get_json(client, url)  # a separate cache entry: clearance is part of the key
    assert uncleared["n_withheld"] >= 3 and cleared["n_withheld"] == 0
    gained = (cleared["N"] + cleared["N1"]) - (uncleared["N"] + uncleared["N1"])
    assert gained == uncleared["n_withheld"]


# --- displacement -------------------------------------------------------------------------------------------
def _area(app, district="869", decision=date(2024, 3, 1)):
    from tests.tracker_helpers import make_area

    area_id = make_area(app.extensions["db"], district=district, commune="29926" if district == "869" else "29866")
    if decision is None:
        from store import key_areas as ka

        with app.extensions["db"].transaction() as session:
            session.execute(update(ka.KeyArea).where(ka.KeyArea.id == area_id).values(decision_date=None))
    return area_id


def test_displacement_six_counts_and_wdq(app, login):
    from geo.displacement import weighted_displacement_quotient

    area_id = _area(app)
    body = get_json(login("planner"), f"/api/key-areas/{area_id}/displacement")
    counts = {k: body[k] for k in ("R0", "R1", "B0", "B1", "C0", "C1")}
    expected = weighted_displacement_quotient(**counts)
    assert body["reading"] == expected.reading and body["wdq"] == expected.wdq
    assert body["decision_date"] == "2024-03-01" and body["buffer_m"] == 500
    assert body["span_days"] == (date(2024, 11, 30) - date(2024, 3, 1)).days + 1
    assert body["control"]["kind"] == "district" and "29926" in body["control"]["communes"]
    assert sum(counts.values()) > 0
    narrow = get_json(login("planner"), f"/api/key-areas/{area_id}/displacement?span_days=90")
    wider = get_json(login("planner"), f"/api/key-areas/{area_id}/displacement?buffer=2000&span_days=90")
    assert wider["span_days"] == narrow["span_days"] == 90
    # The 500 m ring lies inside the 2 km one, which takes its incidents from the control; the area is unchanged.
    assert wider["B0"] + wider["B1"] >= narrow["B0"] + narrow["B1"]
    assert wider["C0"] + wider["C1"] <= narrow["C0"] + narrow["C1"]
    assert (wider["R0"], wider["R1"]) == (narrow["R0"], narrow["R1"])
    chosen = get_json(login("planner"), f"/api/key-areas/{area_id}/displacement?control=29929,29932")
    assert chosen["control"] == {"kind": "communes", "communes": ["29929", "29932"], "boundary_set": "2024"}


def test_displacement_scope_and_errors(app, login):
    area_id = _area(app)
    assert get_json(login("district_869"), f"/api/key-areas/{area_id}/displacement")["key_area_id"] == area_id
    body = get_json(login("district_866"), f"/api/key-areas/{area_id}/displacement", status=404)
    assert "Không tìm thấy" in body["error"]
    client = login("planner")
    assert "buffer" in get_json(client, f"/api/key-areas/{area_id}/displacement?buffer=-5", status=400)["error"]
    assert "control" in get_json(client, f"/api/key-areas/{area_id}/displacement?control=a;b", status=400)["error"]
    assert "99999" in get_json(client, f"/api/key-areas/{area_id}/displacement?control=99999", status=400)["error"]
    assert "longer" in get_json(client, f"/api/key-areas/{area_id}/displacement?span_days=3000&lang=en",
                                status=400)["error"]
    get_json(client, "/api/key-areas/999999/displacement", status=404)
    undated = _area(app, decision=None)
    assert "no conversion decision" in get_json(client, f"/api/key-areas/{undated}/displacement",
                                                status=400)["error"]


# --- near repeats -------------------------------------------------------------------------------------------
def test_near_repeats_table(login):
    body = get_json(login("planner"), "/api/near-repeats?period=2024&category=theft&permutations=199&seed=3")
    assert len(body["rows"]) == 16 and body["permutations"] == 199
    first = body["rows"][0]
    assert (first["space_from"], first["space_to"], first["time_from"], first["time_to"]) == (0, 100, 0, 7)
    assert sum(r["observed"] for r in body["rows"]) == body["n_pairs"] == body["n_events"] * (body["n_events"] - 1) // 2
    assert all(0 < r["p_value"] <= 1 for r in body["rows"])
    again = get_json(login("planner"), "/api/near-repeats?period=2024&category=theft&permutations=199&seed=3")
    assert again["rows"] == body["rows"]


@pytest.mark.parametrize("query, message", [
    ("space_bands=200,100", "strictly increasing"),
    ("time_bands=x", "time_bands"),
    ("permutations=5", "outside the allowed"),
    ("space_bands=1,2,3,4,5,6,7,8,9,10,11", "at most 10 bands"),
    ("period=nonsense", "is not one of"),
])
def test_near_repeats_bad_input(login, query, message):
    assert message in get_json(login("planner"), f"/api/near-repeats?{query}&lang=en", status=400)["error"]


# --- forecast -----------------------------------------------------------------------------------------------
def test_forecast_geojson_with_measured_accuracy(login):
    body = get_json(login("planner"), "/api/forecast?as_of=2024-10-31&cell_size=500")
    props = body["properties"]
    assert body["type"] == "FeatureCollection" and len(body["features"]) == props["n_flagged"] > 0
    assert props["horizon"] == {"start": "2024-11-01", "end": "2024-11-30"}
    assert props["score"]["complete"] and props["score"]["pai"] is not None
    assert props["backtest"]["as_of"] == "2024-09-30" and props["backtest"]["test"]["end"] == "2024-10-31"
    ranks = [f["properties"]["rank"] for f in body["features"]]
    risks = [f["properties"]["risk"] for f in body["features"]]
    assert ranks == list(range(1, len(ranks) + 1)) and risks == sorted(risks, reverse=True)
    lon, lat = np.array(body["features"][0]["geometry"]["coordinates"][0]).mean(axis=0)
    assert 105 < lon < 106.5 and 10 < lat < 11.2
    latest = get_json(login("planner"), "/api/forecast?cell_size=500&space_bandwidth=400&time_bandwidth=30")
    assert latest["properties"]["as_of"] == "2024-11-30" and latest["properties"]["score"] is None
    assert latest["properties"]["bandwidth_source"] == "chosen"


def test_forecast_never_uses_a_location_the_viewer_may_not_see(app, login):
    """A lone sensitive case far from everything: its cell is forecast for a cleared viewer only."""
    lon, lat = add_sensitive(app, ["2024-11-29"])
    url = "/api/forecast?category=human_trafficking&cell_size=500&space_bandwidth=400&time_bandwidth=30&share=0.5"
    client = login("planner")
    uncleared = get_json(client, url)
    clear(app, "planner")
    cleared = get_json(client, url)
    assert cleared["properties"]["n_events"] > uncleared["properties"]["n_events"]
    assert cleared["properties"]["n_withheld"] == 0

    def covers(collection):
        from shapely.geometry import Point, shape

        return any(shape(f["geometry"]).covers(Point(lon, lat)) for f in collection["features"])

    assert covers(cleared) and not covers(uncleared)
    assert uncleared["properties"]["n_withheld"] >= 1


@pytest.mark.parametrize("query, message", [
    ("as_of=2024-13-01", "not a date"),
    ("share=0.9", "outside the allowed"),
    ("space_bandwidth=0", "outside the allowed"),
])
def test_forecast_bad_input(login, query, message):
    assert message in get_json(login("planner"), f"/api/forecast?lang=en&{query}", status=400)["error"]
