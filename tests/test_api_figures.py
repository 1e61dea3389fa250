"""GET /api/targets, /api/change and /api/corridor-stats: the figures of the pages as JSON, with the
viewer's scope and confidentiality."""
import pytest

from tests.report_data import seed_incidents


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def test_api_targets_gives_period_and_metrics_with_the_documented_fields(client, login, seeded):
    login("planner")
    body = client.get("/api/targets?period=2024-Q1").get_json()
    assert body["period"]["kind"] == "quarter"
    assert (body["period"]["start"], body["period"]["end"]) == ("2023-12-01", "2024-02-29")
    assert body["period"]["data_through"] == "2024-07-01"
    metrics = {m["id"]: m for m in body["metrics"]}
    assert {"social_order_change", "clearance", "key_areas_achieved"} <= set(metrics)
    clearance = metrics["clearance"]
    assert (clearance["numerator"], clearance["denominator"]) == (4, 5)
    assert clearance["value"] == pytest.approx(0.8) and len(clearance["interval"]) == 2
    assert {m["status"] for m in body["metrics"]} <= {"met", "not_met", "uncertain", "no_data"}
    for metric in body["metrics"]:
        assert set(metric) >= {"id", "value", "numerator", "denominator", "interval", "status"}
    # the same figures as the page's tile
    page = client.get("/targets?period=2024-Q1").get_data(as_text=True)
    assert "80,00%" in page and "4/5" in page


def test_api_targets_scope_district_commune_and_refusals(client, login, seeded):
    login("planner")
    district = client.get("/api/targets?period=2024&district=869").get_json()
    assert district["scope"]["district"] == "869"
    commune = seeded["communes"]["866"]
    by_commune = client.get(f"/api/targets?period=2024&commune={commune}").get_json()
    assert by_commune["scope"]["commune"] == commune
    grave = next(m for m in by_commune["metrics"] if m["id"] == "grave_clearance")
    assert (grave["numerator"], grave["denominator"]) == (2, 2)
    assert client.get("/api/targets?period=2024&district=869&commune=" + commune).status_code == 400
    assert client.get("/api/targets?period=2024-Q9").status_code == 400
    assert client.get("/api/targets?period=2024&set=no-such-set").status_code == 400
    loaded = district["scope"]["set"]
    in_set = client.get(f"/api/targets?period=2024&district=869&set={loaded}").get_json()
    assert in_set["metrics"] == district["metrics"] and in_set["scope"]["set"] == loaded
    refused = client.get("/api/change?period=2024-CY&set=no-such-set")
    assert refused.status_code == 400 and "no-such-set" in refused.get_json()["error"]
    login("district_869")
    own = client.get("/api/targets?period=2024").get_json()
    assert own["scope"]["district"] == "869"
    assert client.get("/api/targets?period=2024&district=866").status_code == 400
    assert client.get(f"/api/targets?period=2024&commune={commune}").status_code == 400


def test_api_change_is_like_for_like_and_counts_confidential_cases(client, login, seeded):
    login("guard")  # no clearance: the trafficking case has no location but is counted in its commune
    body = client.get("/api/change?period=2024-CY&baseline=2023").get_json()
    assert (body["span"]["start"], body["span"]["end"]) == ("2024-01-10", "2024-07-01")
    assert (body["baseline_span"]["start"], body["baseline_span"]["end"]) == ("2023-01-10", "2023-07-01")
    province = body["province"]
    assert (province["count"], province["baseline_count"]) == (seeded["total"] - 4, 4)
    assert province["change"] == pytest.approx((seeded["total"] - 4) / 4 - 1)
    assert province["status"] in {"met", "not_met", "uncertain", "no_data"}
    districts = {d["code"]: d for d in body["districts"]}
    assert (districts["869"]["count"], districts["869"]["baseline_count"]) == (4, 3)
    assert sum(c["count"] for c in body["communes"]) == province["count"]
    refused = client.get("/api/change?period=2024-CY&baseline=2024")
    assert refused.status_code == 400 and "kỳ gốc 2024" in refused.get_json()["error"]
    assert "Năm dương lịch 2024" in refused.get_json()["error"]  # the period named in the request's language
    english = client.get("/api/change?period=2024-CY&baseline=2024&lang=en").get_json()["error"]
    assert "baseline 2024" in english and "Calendar year 2024" in english and "Năm" not in english


def test_api_change_leap_day_quarter_counts_not_rates(app, client, login):
    import pandas as pd

    from store.boundaries import communes_frame
    from store.incidents import upsert_incidents

    with app.extensions["db"].transaction() as session:
        row = communes_frame(session).iloc[0]
        point = row.geometry.representative_point()
        rows = [{"id": f"L-{i}", "occurred_at": pd.Timestamp(day), "reported_at": None, "category": "theft",
                 "severity": "less_serious", "case_status": "cleared", "lon": point.x, "lat": point.y,
                 "commune_code": row.commune_code, "district_code": row.district_code, "sensitive": False,
                 "description": "", "article": ""}
                for i, day in enumerate(["2023-01-15"] * 100 + ["2024-01-15"] * 95 + ["2024-02-29"])]
        upsert_incidents(session, pd.DataFrame(rows), filename="leap", username="tests")
    login("planner")
    body = client.get("/api/change?period=2024-Q1").get_json()
    assert body["baseline_year"] == 2023
    assert body["baseline_span"]["end"] == "2023-02-28" and body["span"]["end"] == "2024-02-29"
    assert (body["province"]["count"], body["province"]["baseline_count"]) == (96, 100)
    assert body["province"]["change"] == pytest.approx(-0.04)
    assert body["province"]["status"] != "met"
    social = next(m for m in client.get("/api/targets?period=2024-Q1").get_json()["metrics"]
                  if m["id"] == "social_order_change")
    assert social["value"] == pytest.approx(-0.04) and social["status"] != "met"


def test_api_corridor_stats_mirrors_the_page_and_its_access(client, login, seeded):
    login("guard")
    body = client.get("/api/corridor-stats?period=2024-CY").get_json()
    assert body["period"]["kind"] == "calendar_year"
    total = next(r for r in body["rows"] if r["dimension"] == "total")
    assert set(total) >= {"count", "previous_count", "change", "label", "key"}
    assert body["baseline_span"]["start"].startswith("2023-01-01")
    assert client.get("/api/corridor-stats?period=2024-CY&baseline=2025").status_code == 400
    login("district_866")  # TP Cao Lãnh is not on the border
    assert client.get("/api/corridor-stats?period=2024-CY").status_code == 403
