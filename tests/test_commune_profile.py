"""The commune profile (issue #12 point 4): a commune of a boundary set, its figures against the baseline,
its key areas and drug status, and its incidents as the viewer may see them."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from sqlalchemy import update

from geo.trends import monthly_counts, months_between, shift_months
from layers.search import fold, search_entries
from store.importing import import_incidents
from store.models import User
from tests.tracker_helpers import SA_RAI, make_area



def add_incidents(db, rows):
    frame = pd.DataFrame([{"case_status": "received", "severity": "serious", **row} for row in rows])
    report = import_incidents(db, None, frame=frame, filename="profile.csv")
    assert report.committed, report.error_lines()


def trend_of(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="commune-trend-data">(.*?)</script>',
                                page, re.S).group(1))


def test_fold_and_search_entries(boundary_set):
    assert fold("Phường Đạo Thạnh") == "phuong dao thanh" and fold("  Tân   Hộ Cơ ") == "tan ho co"
    assert fold("Xã Tân Hộ Cơ") == fold("xa tan ho co")
    entries = search_entries(boundary_set.communes)
    assert len(entries) == len(boundary_set.communes)
    name, folded, code, bounds, _district = next(e for e in entries if e[2] == SA_RAI)
    south, west, north, east = bounds
    assert folded == fold(name) and south < north and west < east


def test_monthly_counts_and_months():
    months = months_between(pd.Timestamp("2023-12-15").date(), pd.Timestamp("2024-02-01").date())
    assert months == [(2023, 12), (2024, 1), (2024, 2)]
    counts = monthly_counts(["2023-12-20", "2024-01-03", "2024-01-30", "2025-01-01"], ["a", "a", "b", "a"], months)
    assert counts == {"a": [1, 1, 0], "b": [0, 1, 0]}
    assert shift_months(months, -1)[0] == (2022, 12)
    with pytest.raises(ValueError, match="before start"):
        months_between(pd.Timestamp("2024-02-01").date(), pd.Timestamp("2024-01-01").date())
    with pytest.raises(ValueError, match="rows"):
        monthly_counts(["2024-01-01"], [], months)


def test_profile_has_trend_baseline_key_areas_and_incidents(client, login, db):
    add_incidents(db, [
        {"id": "P-1", "occurred_at": "2024-03-05", "category": "theft", "lon": 105.4640, "lat": 10.8720},
        {"id": "P-2", "occurred_at": "2024-04-07", "category": "drugs", "lon": 105.4645, "lat": 10.8725,
         "case_status": "cleared"},
        {"id": "P-0", "occurred_at": "2023-03-09", "category": "theft", "lon": 105.4641, "lat": 10.8721},
    ])
    make_area(db)  # a key area of Sa Rài
    login("planner")
    frame_code = _code_at(client, 105.4640, 10.8720)
    page = client.get(f"/communes/{frame_code}?period=2024-CY&set=2024").get_data(as_text=True)
    assert 'id="kpi-incidents">2<' in page and "Cùng kỳ năm 2023: 1" in page
    assert 'id="kpi-change">+100%' in page and "50%" in page  # one of two cleared
    trend = trend_of(page)
    assert trend["labels"][:4] == ["01/2024", "02/2024", "03/2024", "04/2024"]  # cut at the data-through date
    bars = {d["label"]: d["data"] for d in trend["datasets"] if d["type"] == "bar"}
    assert bars["Xâm phạm sở hữu"][2] == 1 and bars["Ma túy"][3] == 1
    [baseline] = [d for d in trend["datasets"] if d["type"] == "line"]
    assert baseline["data"][2] == 1 and sum(baseline["data"]) == 1
    assert page.count('class="incident-row"') == 2 and "P-2" in page
    assert "<script>" not in page  # CSP: data in a JSON block only
    sa_rai = client.get(f"/communes/{SA_RAI}?period=2024-CY&set=2024").get_data(as_text=True)
    assert "Thị trấn Sa Rài" in sa_rai and 'id="commune-key-areas"' in sa_rai
    assert re.search(r"Địa bàn trọng điểm trên địa bàn xã \(1\)", sa_rai)


def _code_at(client, lon, lat) -> str:
    """The 2024 commune holding the point."""
    import shapely

    from store.boundaries import communes_frame

    with client.application.extensions["db"].transaction() as session:
        communes = communes_frame(session)
    return str(communes[communes.contains(shapely.Point(lon, lat))]["commune_code"].iloc[0])


def test_confidential_cases_are_counts_for_uncleared_viewers(client, login, db):
    add_incidents(db, [
        {"id": "SECRET-9", "occurred_at": "2024-05-05", "category": "human_trafficking", "lon": 105.4640,
         "lat": 10.8720},
        {"id": "OPEN-1", "occurred_at": "2024-05-06", "category": "theft", "lon": 105.4641, "lat": 10.8721},
    ])
    code = _code_at(client, 105.4640, 10.8720)
    url = f"/communes/{code}?period=2024-CY&set=2024"
    login("planner")
    page = client.get(url).get_data(as_text=True)
    assert "SECRET-9" not in page and "OPEN-1" in page and 'id="commune-redacted"' in page
    assert 'id="kpi-incidents">2<' in page  # still counted
    with db.transaction() as session:
        session.execute(update(User).where(User.username == "planner").values(sensitive_clearance=True))
    assert "SECRET-9" in client.get(url).get_data(as_text=True)


def test_local_committee_gets_cases_of_its_own_unit_only(client, login, db):
    add_incidents(db, [{"id": "FAR-1", "occurred_at": "2024-05-06", "category": "theft", "lon": 105.6330,
                        "lat": 10.4560}])  # TP Cao Lãnh (866)
    code = _code_at(client, 105.6330, 10.4560)
    login("district_869")
    page = client.get(f"/communes/{code}?period=2024-CY&set=2024").get_data(as_text=True)
    assert "FAR-1" not in page and 'id="commune-withheld"' in page and 'id="kpi-incidents">1<' in page
    login("district_866")
    assert "FAR-1" in client.get(f"/communes/{code}?period=2024-CY&set=2024").get_data(as_text=True)


def test_unknown_commune_or_set_is_refused(client, login):
    login("guard")
    assert client.get("/communes/99999?set=2024").status_code == 404
    assert client.get(f"/communes/{SA_RAI}?set=1999").status_code == 400
    assert client.get(f"/communes/{SA_RAI}?period=2024-13").status_code == 400


def test_same_code_is_another_commune_in_another_set(vclient, vlogin):
    vlogin("planner")
    old = vclient.get("/communes/29869?set=2024&period=2024-CY").get_data(as_text=True)
    new = vclient.get("/communes/29869?set=2025-07&period=2025-CY").get_data(as_text=True)
    old_name = re.search(r'<h1 id="commune-name">([^<]+)</h1>', old).group(1)
    new_name = re.search(r'<h1 id="commune-name">([^<]+)</h1>', new).group(1)
    assert old_name != new_name and "Phường Cao Lãnh" in new_name


def test_top_communes_table_links_to_the_profiles(client, login, db):
    add_incidents(db, [{"id": "T-1", "occurred_at": "2024-05-06", "category": "theft", "lon": 105.6330,
                        "lat": 10.4560}])
    login("guard")
    page = client.get("/?period=2024-CY&set=2024").get_data(as_text=True)
    link = re.search(r'<a class="commune-link" href="(/communes/\d+\?[^"]+)"', page)
    assert link and "set=2024" in link.group(1) and "period=2024-CY" in link.group(1)
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200


def test_commune_no_baseline_record_can_reach_is_not_compared(vclient, vlogin, versioned_app):
    """Old Tiền Giang joined the province on 01/07/2025: in the 07/2025 set, a 2025-H1 baseline holds no record
    of its communes, so their profile does not compare and the overview leaves them out of its change."""
    from geo.periods import parse_period
    from store.boundaries import communes_frame, units_without_records

    with versioned_app.extensions["db"].transaction() as session:
        base = parse_period("2025-01-01..2025-03-31")
        codes, _sets = units_without_records(session, "2025-07", base.start, base.end)
        names = dict(zip(communes_frame(session, "2025-07")["commune_code"], communes_frame(session, "2025-07")["commune_name"]))
    assert codes, "the 07/2025 set should have communes without 2025 Q1 records"
    code = sorted(codes)[0]
    vlogin("planner")
    page = vclient.get(f"/communes/{code}?set=2025-07&from=2026-01-01&to=2026-03-31&baseline=2025").get_data(as_text=True)
    assert names[code] in page and 'id="kpi-no-baseline"' in page and "không được so sánh" in page
    assert 'id="kpi-change"' not in page
    assert all(d["type"] == "bar" for d in trend_of(page)["datasets"])
    overview = vclient.get("/?set=2025-07&from=2026-01-01&to=2026-03-31&baseline=2025").get_data(as_text=True)
    assert 'id="kpi-left-out"' in overview
