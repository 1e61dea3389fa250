"""A comparison shown in the 07/2025 set with a baseline before 01/07/2025: the records then covered old Đồng
Tháp only, so the communes of old Tiền Giang have no baseline. The page and the API name them, show them
uncompared and leave them out of the like-for-like totals."""
from __future__ import annotations

import pandas as pd
import pytest

from geo.boundary_sets import Crosswalk, units_without_records
from geo.change import NO_BASELINE, change_by_unit

TG_COMMUNE = "28249"  # Phường Đạo Thạnh, old Tiền Giang


def test_units_no_set_in_force_links_to_are_without_records():
    links = pd.DataFrame({"from_code": ["a", "b", "c"], "to_code": ["X", "X", "Y"], "weight": [1.0, 1.0, 1.0]})
    old = Crosswalk("old", "new", links)
    assert units_without_records(["X", "Y", "Z", "W"], [old]) == ["W", "Z"]
    assert units_without_records(["X", "Y", "Z"], [None]) == []  # the set itself reaches all its units
    # A span across the reform: a unit missed by any set in force then has no whole baseline.
    assert units_without_records(["X", "Y", "Z"], [old, None]) == ["Z"]


def test_change_leaves_units_without_baseline_out_of_the_groups_and_the_total():
    units = pd.DataFrame({"commune_code": ["d1", "d2", "t1"], "district_code": ["A", "A", "B"]})
    result = change_by_unit(units, ["d1", "d1", "t1", "t1", "t1"], ["d1", "d1", "d2", "d2"],
                            without_baseline=["t1"])
    by_unit = result["units"].set_index("unit")
    assert by_unit.loc["t1", "status"] == NO_BASELINE and pd.isna(by_unit.loc["t1", "change"])
    assert (by_unit.loc["t1", "count"], by_unit.loc["t1", "baseline_count"]) == (3, 0)
    assert list(result["groups"]["unit"]) == ["A"]
    assert (result["total"]["count"], result["total"]["baseline_count"]) == (2, 4)
    assert result["total"]["change"] == pytest.approx(-0.5)


@pytest.fixture
def across_the_merger(versioned_app):
    """Old Đồng Tháp: 3 cases in 08/2024 and 2 in 08/2025 in one commune; old Tiền Giang: 4 in 08/2025."""
    from store.boundaries import communes_frame
    from store.importing import import_incidents

    with versioned_app.extensions["db"].transaction() as session:
        new = communes_frame(session, "2025-07").set_index("commune_code")
    dong_thap = next(code for code, row in new.iterrows() if row["former_district_code"])
    rows = []

    def add(n, day, code):
        point = new.loc[code].geometry.representative_point()
        for _ in range(n):
            rows.append({"id": f"M-{len(rows) + 1}", "occurred_at": day, "category": "theft",
                         "severity": "less_serious", "case_status": "received", "lon": point.x, "lat": point.y})

    add(3, "2024-08-01", dong_thap)
    add(2, "2025-08-01", dong_thap)
    add(4, "2025-08-02", TG_COMMUNE)
    report = import_incidents(versioned_app.extensions["db"], None, frame=pd.DataFrame(rows), filename="m.csv",
                              username="test")
    assert report.committed and not report.errors
    return {"dong_thap": dong_thap, "names": new["commune_name"].to_dict(),
            "tien_giang": sorted(c for c, row in new.iterrows() if not row["former_district_code"])}


def test_api_change_names_the_communes_without_baseline_and_compares_the_others(vclient, vlogin, across_the_merger):
    vlogin("planner")
    body = vclient.get("/api/change?period=2025-CY&baseline=2024&set=2025-07").get_json()
    unreached = body["without_baseline"]
    codes = [c["code"] for c in unreached["communes"]]
    assert TG_COMMUNE in codes and across_the_merger["dong_thap"] not in codes
    assert set(codes) == set(across_the_merger["tien_giang"])  # every commune of old Tiền Giang, no other
    assert "không có số liệu kỳ gốc 01/08/2024–02/08/2024" in unreached["note_vi"]
    assert "left out of the like-for-like totals" in unreached["note_en"]
    assert {"code": TG_COMMUNE, "name": "Phường Đạo Thạnh"} in unreached["communes"]
    assert any("2024" in label for label in unreached["baseline_sets"])
    communes = {c["code"]: c for c in body["communes"]}
    assert communes[TG_COMMUNE]["status"] == "no_baseline" and communes[TG_COMMUNE]["change"] is None
    assert (communes[TG_COMMUNE]["count"], communes[TG_COMMUNE]["baseline_count"]) == (4, 0)
    province = body["province"]
    assert (province["count"], province["baseline_count"]) == (2, 3)  # old Đồng Tháp alone, like for like
    assert province["change"] == pytest.approx(2 / 3 - 1)
    # In the 2024 set the same comparison reaches every commune: nothing to warn about.
    same_set = vclient.get("/api/change?period=2024-CY&baseline=2023&set=2024").get_json()
    assert same_set["without_baseline"]["communes"] == []


def test_hotspots_page_warns_and_keeps_the_totals_like_for_like(vclient, vlogin, across_the_merger):
    vlogin("planner")
    page = vclient.get("/hotspots?period=2025-CY&baseline=2024&stat=gistar&units=communes&set=2025-07")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    warning = body.split('id="change-without-baseline"', 1)[1].split("</div>", 1)[0]
    assert "Đạo Thạnh" in warning and "không có số liệu kỳ gốc" in warning
    districts = body.split('id="change-districts"', 1)[1].split("</table>", 1)[0]
    total = districts.split('class="total"', 1)[1].split("</tr>", 1)[0]
    cells = [c.strip() for c in pd.Series(total.split('class="num">')[1:]).str.split("<").str[0]]
    assert cells[:2] == ["3", "2"]  # baseline and current of old Đồng Tháp only
    assert "Tiền Giang (cũ)" not in districts  # no group of communes with nothing to compare
    communes = body.split('id="change-communes"', 1)[1].split("</table>", 1)[0]
    assert "Không so sánh: không có số liệu kỳ gốc" in communes


def test_targets_compare_changes_without_the_communes_that_have_no_baseline(versioned_app, across_the_merger):
    """The social-order change of 2025 against 2024 in the 07/2025 set counts old Đồng Tháp alone (2 against
    3), not the 6 cases of 2025 (4 of them in old Tiền Giang) against the 3 of 2024; the note says so."""
    from geo.periods import parse_period
    from store.targets import measure

    with versioned_app.extensions["db"].transaction() as session:
        result = measure(session, None, parse_period("2025-CY")).result("social_order_change")
    assert (result.numerator, result.denominator) == (2, 3)
    assert result.value == pytest.approx(2 / 3 - 1)
    assert f"Không tính {len(across_the_merger['tien_giang'])} xã/phường không có số liệu kỳ gốc (4 vụ" in result.note


def test_report_says_which_communes_have_no_baseline_and_gives_the_like_for_like_change(versioned_app,
                                                                                      across_the_merger):
    from geo.periods import parse_period
    from reports.content import build_report
    from tests.tracker_helpers import PLANNER

    with versioned_app.extensions["db"].transaction() as session:
        report = build_report(session, PLANNER, parse_period("2025-CY"))
    crime = next(s for s in report.sections if s.heading == "Tình hình tội phạm trong kỳ")
    warning = next(p for p in crime.paragraphs if "không có số liệu kỳ gốc" in p)
    assert warning.startswith(f"{len(across_the_merger['tien_giang'])} xã/phường")
    assert "4 vụ kỳ này" in warning and "là 2 vụ so với 3 vụ (−33,3%)" in warning


def test_the_social_order_card_links_to_a_map_with_its_count_across_the_merger(vclient, vlogin, across_the_merger):
    import html
    import re

    vlogin("planner")
    page = vclient.get("/targets?period=2025-CY").get_data(as_text=True)
    tile = page.split('id="tile-social_order_change"', 1)[1].split("</article>", 1)[0]
    assert "2 vụ / 3 vụ" in tile
    link = html.unescape(re.search(r'<a href="([^"]+)">', tile).group(1))
    assert "baseline=2024" in link and "set=2025-07" in link
    body = vclient.get(link).get_data(as_text=True)
    total = re.search(r'id="total-incidents">([\d.,]+)<', body).group(1)
    assert total == "2"  # the card's count: old Tiền Giang's four cases left out, as on the card
    scripts = [html.unescape(src) for src in re.findall(r'<script src="(/[^"]+)"', body)
               if not src.startswith(("/static", "/vendor"))]  # the map's own script, not the app's files
    drawn = ""
    for src in scripts:
        response = vclient.get(src)
        drawn += response.get_data(as_text=True)
        response.close()
    assert "không có số liệu năm gốc 2024" in drawn  # the map's caption says what it leaves out
    plain = vclient.get(link.replace("&baseline=2024", "")).get_data(as_text=True)
    assert re.search(r'id="total-incidents">([\d.,]+)<', plain).group(1) == "6"  # the map alone shows them all
