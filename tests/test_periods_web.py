"""The one period model across pages: target cards open the map on their period with equal counts, the
hot spots and maps take the same period codes, and every page prints its data-through date."""
import html
import re
from urllib.parse import parse_qs, urlparse

import pytest

from geo.periods import parse_period
from tests.report_data import seed_incidents


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def _map_links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/\?[^"]*target=[^"]*)"', page)]


def _map_total(client, link: str) -> int:
    page = client.get(link).get_data(as_text=True)
    found = re.search(r'id="total-incidents">([\d.,]+)<', page)
    assert found, f"no total on {link}"
    return int(found.group(1).replace(".", "").replace(",", ""))


@pytest.mark.parametrize("username,query", [
    ("planner", "period=2024"), ("planner", "period=2024-Q1"), ("planner", "period=2024-H1&district=866"),
    ("district_869", "period=2024"), ("guard", "period=2024-CY"),
])
def test_every_target_card_opens_the_map_on_its_period_with_the_same_count(app, client, login, seeded,
                                                                          username, query):
    from sqlalchemy import select

    from store.models import User
    from store.targets import measure

    login(username)
    page = client.get(f"/targets?{query}").get_data(as_text=True)
    links = _map_links(page)
    args = parse_qs(query)
    period = parse_period(args["period"][0])
    with app.extensions["db"].transaction() as session:
        viewer = session.scalar(select(User).where(User.username == username))
        district = args.get("district", [None])[0] or viewer.district_code
        measurement = measure(session, viewer, period, district_code=district)
    records_targets = [r for r in measurement.results if r.code in {
        "social_order_change", "suspended_change", "clearance", "grave_clearance", "reports_resolved",
        "trafficking_cleared", "trafficking_indicted", "trafficking_tried"}]
    linked = {parse_qs(urlparse(link).query)["target"][0]: link for link in links}
    assert set(linked) == {r.code for r in records_targets}  # every records card has its map link
    for result in records_targets:
        link = linked[result.code]
        link_args = parse_qs(urlparse(link).query)
        # The period itself, or the card's own span when the data start inside the baseline (both cut).
        own_span = f"{result.period_start.isoformat()}..{result.period_end.isoformat()}"
        assert link_args["period"] == [period.code if result.period_start == period.start else own_span]
        if district:
            assert link_args["district"] == [district]
        expected = result.numerator if result.kind == "change" else result.denominator
        assert _map_total(client, link) == (expected or 0), (result.code, link)


def test_overview_and_hotspots_take_the_period_codes_and_name_the_dates(client, login, seeded):
    login("planner")
    page = client.get("/?period=2024-Q1").get_data(as_text=True)
    assert "từ 01/12/2023 đến 29/02/2024" in page
    assert 'value="2024-Q1" selected' in page and 'value="2024-CY"' in page and 'value="2024-03"' in page
    # An old bookmark's year= is the calendar year.
    assert 'value="2024-CY" selected' in client.get("/?year=2024").get_data(as_text=True)
    bad = client.get("/?period=2024-Q9")
    assert bad.status_code == 400 and "2024-Q9" in bad.get_data(as_text=True)


def test_every_page_prints_the_data_through_date(client, login, seeded):
    login("planner")
    for path in ("/", "/targets", "/reports", "/key-areas", "/drug-status", "/exports"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Số liệu đến 15/06/2024" in response.get_data(as_text=True) or \
            "Số liệu đến 01/07/2024" in response.get_data(as_text=True), path


@pytest.mark.parametrize("baseline", ["2024", "2030"])
def test_hotspots_refuse_a_baseline_not_before_the_period_naming_both(client, login, seeded, baseline):
    login("planner")
    response = client.get(f"/hotspots?period=2024-CY&stat=gistar&units=communes&baseline={baseline}")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"kỳ gốc {baseline}" in body and "Năm dương lịch 2024" in body
    english = client.get(f"/hotspots?period=2024-CY&stat=gistar&units=communes&baseline={baseline}&lang=en")
    assert english.status_code == 400
    assert f"baseline {baseline}" in english.get_data(as_text=True)
    assert "Calendar year 2024" in english.get_data(as_text=True)


def test_hotspots_change_is_cut_at_the_data_through_date_with_the_previous_year_by_default(client, login, seeded):
    # The seeded data run from 10/01/2023 to 01/07/2024: the calendar year 2024 is compared over
    # 10/01–01/07 of each year.
    login("planner")
    body = client.get("/hotspots?period=2024-CY&stat=gistar&units=communes").get_data(as_text=True)
    assert "So sánh với năm gốc 2023" in body
    assert "10/01/2024–01/07/2024" in body and "10/01/2023–01/07/2023" in body
    assert 'id="change-cut"' in body and "Số liệu đến 01/07/2024" in body
    # Old bookmarks keep working: year + calendar quarter.
    old = client.get("/hotspots?year=2024&period=q1&stat=gistar&units=communes").get_data(as_text=True)
    assert "01/01/2024 – 31/03/2024" in old


@pytest.fixture
def tracked(app, seeded):
    """Key areas in two districts (one achieved, one still converting) and drug statuses of two communes in
    2023 and 2024 (one stays drug-free, one gets drugs)."""
    from store import drug_status as ds
    from tests.tracker_helpers import CAO_LANH_CITY, PHUONG_1, PLANNER, SA_RAI, make_area

    db = app.extensions["db"]
    make_area(db, status_path=("converting", "achieved"))
    make_area(db, district=CAO_LANH_CITY, commune=PHUONG_1, name="Phường 1", status_path=("converting",))
    with db.transaction() as session:
        for year in (2023, 2024):
            ds.record_drug_status(session, PLANNER, commune_code=SA_RAI, year=year, indicators={"residents": 5000})
            ds.record_drug_status(session, PLANNER, commune_code=PHUONG_1, year=year, confirm_warnings=True,
                                  indicators={"residents": 8000, "addicts": 0 if year == 2023 else 150})
    return seeded


def _tile_counts(page: str, code: str) -> tuple[int, int] | None:
    tile = page.split(f'id="tile-{code}"', 1)[1].split("</article>", 1)[0]
    found = re.search(r"<dd>(\d+) ?/ ?(\d+)</dd>", tile)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _tile_link(page: str, code: str) -> str | None:
    tile = page.split(f'id="tile-{code}"', 1)[1].split("</article>", 1)[0]
    found = re.search(r'<a href="([^"]+)">', tile)
    return html.unescape(found.group(1)) if found else None


def _tracker_counts(client, link: str, code: str, district: str | None) -> tuple[int, int]:
    """The counts the linked tracker page shows for the card's target, for the card's district or province."""
    response = client.get(link)
    assert response.status_code == 200, link
    page = response.get_data(as_text=True)

    def number(pattern):
        found = re.search(pattern, page, re.S)
        assert found, (link, pattern)
        return int(found.group(1))

    if code.startswith("key_areas"):
        row = page.split(f'id="ka-targets-{district or "province"}"', 1)[1].split("</tr>", 1)[0]
        found = re.search(rf'data-target="{code}">(\d+)/(\d+)<', row)
        assert found, (link, code)
        return int(found.group(1)), int(found.group(2))
    fields = {"drug_free_kept": ("kept_drug_free", "previous_drug_free"),
              "drug_communes_change": ("year_with_drugs", "previous_with_drugs")}[code]
    if district:
        row = page.split(f'id="ds-district-{district}"', 1)[1].split("</tr>", 1)[0]
        return tuple(int(re.search(rf'data-count="{f}">(\d+)<', row).group(1)) for f in fields)
    ids = {"kept_drug_free": "ds-kept", "previous_drug_free": "ds-previous-drug-free",
           "year_with_drugs": "ds-year-with-drugs", "previous_with_drugs": "ds-previous-with-drugs"}
    return tuple(number(rf'id="{ids[f]}">(\d+)<') for f in fields)


@pytest.mark.parametrize("username,query", [
    ("planner", "period=2024"), ("planner", "period=2024-H1&district=869"), ("planner", "period=2024&district=866"),
    ("district_869", "period=2024"),
])
def test_every_key_area_and_drug_status_card_opens_a_page_with_the_same_counts(client, login, tracked,
                                                                                username, query):
    login(username)
    page = client.get(f"/targets?{query}").get_data(as_text=True)
    args = parse_qs(query)
    district = args.get("district", [None])[0] or ("869" if username == "district_869" else None)
    checked = 0
    for code in ("key_areas_achieved", "key_areas_not_relapsed", "drug_free_kept", "drug_communes_change"):
        link = _tile_link(page, code)
        assert link, code  # every tracker card links to its page
        link_args = parse_qs(urlparse(link).query)
        assert link_args["year"] == ["2024"]
        if district:
            assert link_args["district"] == [district]
        counts = _tile_counts(page, code)
        assert counts is not None, (code, query)  # the fixture gives every card figures
        assert _tracker_counts(client, link, code, district) == counts, (code, link)
        checked += 1
    assert checked == 4
