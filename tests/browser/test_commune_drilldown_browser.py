"""Drill-down in a real browser (issue #12 point 4): every map has a commune search that finds a name typed
with or without diacritics and offers the profile; a click on a commune zooms to it and links to it."""
from __future__ import annotations

import pytest

from tests.browser.test_overview_browser import some_incidents  # noqa: F401  (fixture)
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser
MAP_PAGES = ["/?year=2024", "/hotspots?year=2024", "/corridor?year=2024", "/key-areas", "/drug-status?year=2024"]


def _search(page, typed: str):
    box = page.locator(".commune-search-input").first
    box.fill("")
    box.type(typed)
    return page.locator(".commune-search-result")


@pytest.mark.parametrize("path", MAP_PAGES)
def test_every_map_finds_a_commune_without_diacritics(browser_page, path):
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}{path}")
    page.wait_for_selector(".commune-search-input")
    results = _search(page, "tan ho co")
    assert results.count() >= 1 and "Tân Hộ Cơ" in results.first.inner_text()
    assert _search(page, "Tân Hộ Cơ").count() == results.count()  # with diacritics: the same communes
    assert "Không tìm thấy" in page.locator(".commune-search-results").first.inner_text() \
        if _search(page, "zzzz").count() == 0 else True
    _search(page, "tan ho co").first.click()
    link = page.wait_for_selector(".leaflet-popup .commune-profile-link")
    assert "/communes/" in link.get_attribute("href") and "set=" in link.get_attribute("href")
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []


def test_search_zooms_and_the_profile_opens(browser_page, some_incidents):  # noqa: F811
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/?year=2024")
    page.wait_for_selector("path.commune-shape")
    before = page.evaluate("map_overview.getZoom()")
    _search(page, "phuong 1").first.click()
    page.wait_for_selector(".leaflet-popup .commune-profile-link")
    assert page.evaluate("map_overview.getZoom()") > before
    page.click(".leaflet-popup .commune-profile-link")
    page.wait_for_selector("#commune-name")
    assert page.url.split("?")[0].split("/communes/")[1].isdigit()
    page.wait_for_selector("#commune-trend-chart")
    assert page.evaluate("Chart.getChart(document.getElementById('commune-trend-chart')) !== undefined")
    assert browser_page.console_errors == []


def test_click_on_a_commune_zooms_to_it_and_offers_the_profile(browser_page, some_incidents):  # noqa: F811
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/?year=2024&district=866")
    page.wait_for_selector("path.commune-shape")
    # An absolute zoom: the district view's own zoom depends on the window, and a relative step from it
    # can already be as close as a commune's fit.
    page.evaluate("map_overview.setZoom(9, {animate: false})")
    page.locator("path.commune-shape").first.click(force=True)
    link = page.wait_for_selector(".leaflet-popup .commune-profile-link")
    # Leaflet's private flag: a zoom set while the fit still animates would be undone when it ends.
    wait_until(page, "() => map_overview.getZoom() > 9 && !map_overview._animatingZoom")
    href = link.get_attribute("href")
    page.keyboard.press("Escape")
    page.evaluate("map_overview.closePopup()")
    # Leaflet drops a setZoom asked for while any zoom animation runs, and a closed popup stays in the page
    # (fading) for 200 ms where it can catch the next click: settle both before clicking close in.
    wait_until(page, "() => { var m = map_overview; if (m._animatingZoom) { return false; }"
                     " if (m.getZoom() !== 17) { m.setZoom(17, {animate: false}); } return m.getZoom() === 17; }")
    page.wait_for_selector(".leaflet-popup", state="detached")
    box = page.locator("#map_overview, .folium-map").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # on the commune just fitted
    page.wait_for_selector(".leaflet-popup .commune-profile-link")
    page.wait_for_timeout(400)  # longer than a zoom animation, so a fit the click started would have ended
    assert page.evaluate("[map_overview.getZoom(), map_overview._animatingZoom]") == [17, False]  # never out
    assert href.startswith("/communes/") and "set=2024" in href
    page.goto(browser_page.base_url + href)
    assert page.locator("#commune-name").count() == 1


def test_commune_popup_zooms_to_its_district(browser_page, some_incidents):  # noqa: F811
    """A district is reached from any of its communes: the popup's district link shows the district zoomed."""
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/?year=2024&set=2024")
    page.wait_for_selector("path.commune-shape")
    whole = page.evaluate("map_overview.getZoom()")
    page.locator("path.commune-shape").nth(40).click(force=True)
    link = page.wait_for_selector(".leaflet-popup .district-view-link")
    assert "district=" in link.get_attribute("href")
    link.click()
    page.wait_for_selector("path.commune-shape")
    assert "district=" in page.url and page.evaluate("map_overview.getZoom()") > whole
    assert page.locator("path.commune-shape").count() < 143
