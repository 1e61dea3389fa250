"""Time on the overview (issue #12 point 5): month and date-range filters through the period model, KPI tiles
(incidents, change against the baseline with its interval, clearance rate) and a monthly trend chart."""
from __future__ import annotations

import json
import re

import pandas as pd

from store.importing import import_incidents


def add(db, rows):
    frame = pd.DataFrame([{"severity": "serious", "category": "theft", "lon": 105.6330, "lat": 10.4560, **r}
                          for r in rows])
    report = import_incidents(db, None, frame=frame, filename="time.csv")
    assert report.committed, report.error_lines()


def trend(page: str) -> dict:
    return json.loads(re.search(r'id="overview-trend-data">(.*?)</script>', page, re.S).group(1))


def seed(db):
    add(db, [
        {"id": "B-1", "occurred_at": "2023-03-02", "case_status": "received"},
        {"id": "B-2", "occurred_at": "2023-03-20", "case_status": "received"},
        {"id": "B-3", "occurred_at": "2023-04-02", "case_status": "received"},
        {"id": "B-4", "occurred_at": "2023-04-03", "case_status": "received"},
        {"id": "C-1", "occurred_at": "2024-03-05", "case_status": "cleared"},
        {"id": "C-2", "occurred_at": "2024-04-10", "case_status": "received"},
        {"id": "C-3", "occurred_at": "2024-04-11", "case_status": "tried"},
        {"id": "C-4", "occurred_at": "2024-05-30", "case_status": "received"},
    ])


def test_month_filter_tiles_and_trend(client, login, db):
    seed(db)
    login("planner")
    page = client.get("/?period=2024-04&set=2024").get_data(as_text=True)
    assert 'id="kpi-incidents">2<' in page
    assert 'id="kpi-change">+0.0%' in page  # 2 against the 2 of April 2023
    assert 'id="kpi-cleared">50,0%<' in page  # C-3 tried counts as cleared
    assert "KTC 95%" in page and "cùng kỳ: 2 vụ (01/04/2023–30/04/2023)" in page
    chart = trend(page)
    assert chart["labels"] == ["04/2024"] and [d["data"] for d in chart["datasets"]] == [[2], [2]]
    assert "<script>" not in page


def test_date_range_filter_wins_over_the_menu(client, login, db):
    seed(db)
    login("planner")
    page = client.get("/?period=2024&from=2024-03-01&to=2024-04-30&set=2024").get_data(as_text=True)
    assert 'id="kpi-incidents">3<' in page and 'value="2024-03-01"' in page and 'value="2024-04-30"' in page
    chart = trend(page)
    assert chart["labels"] == ["03/2024", "04/2024"]
    assert chart["datasets"][0]["data"] == [1, 2] and chart["datasets"][1]["data"] == [2, 2]
    assert 'id="kpi-change">-25.0%' in page  # 3 against 4


def test_bad_ranges_are_refused(client, login, db):
    login("planner")
    assert client.get("/?from=2024-03-01").status_code == 400  # half a range
    assert client.get("/?from=2024-03-01&to=2024-02-01").status_code == 400
    assert client.get("/?from=2024-13-01&to=2024-14-01").status_code == 400


def test_no_baseline_case_says_so(client, login, db):
    add(db, [{"id": "N-1", "occurred_at": "2024-06-05", "case_status": "received"}])
    login("guard")
    page = client.get("/?period=2024-06&set=2024").get_data(as_text=True)
    assert "Cùng kỳ không có vụ nào" in page and 'id="kpi-incidents">1<' in page
