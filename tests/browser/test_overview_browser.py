"""The overview map in a real browser: communes drawn, points clustered, tooltips, offline, no errors."""
from __future__ import annotations

import pandas as pd
import pytest

from store.importing import import_incidents
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def some_incidents(live_app):
    frame = pd.DataFrame([
        {"id": f"B-{i}", "occurred_at": f"2024-0{1 + i % 9}-1{i % 9}", "category": category,
         "severity": "serious", "case_status": "received", "lon": lon, "lat": lat}
        for i, (category, lon, lat) in enumerate([
            ("theft", 105.6330, 10.4560), ("theft", 105.6335, 10.4565), ("drugs", 105.4640, 10.8720),
            ("smuggling", 105.4650, 10.8730), ("gambling", 105.7600, 10.2950),
            ("human_trafficking", 105.6340, 10.4570),
        ])
    ])
    report = import_incidents(live_app.extensions["db"], None, frame=frame, filename="browser.csv")
    assert report.committed, report.error_lines()
    return frame


def open_overview(browser_page, query: str = "?year=2024"):
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/{query}")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("path.commune-shape")
    return page


def test_overview_draws_all_communes_offline_without_errors(browser_page, some_incidents):
    page = open_overview(browser_page)
    assert page.locator("path.commune-shape").count() == 143
    assert page.locator(".leaflet-interactive").count() >= 143
    assert page.locator("path.district-outline").count() == 12
    legend = page.inner_text(".map-legend")
    assert "Số vụ việc theo xã" in legend and "Năm dương lịch 2024" in legend
    assert "1 vụ bảo mật" in legend  # the trafficking case is counted, not drawn
    assert page.locator(".leaflet-control-layers").count() == 1
    # clusters or single points of the five drawable incidents
    assert page.locator(".marker-cluster, path.incident-point").count() >= 1
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []


def test_commune_tooltip_and_point_popup(browser_page, some_incidents):
    page = open_overview(browser_page, "?year=2024&district=866")
    shape = page.locator("path.commune-shape").first
    shape.hover(force=True)
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert "Thành phố Cao Lãnh" in tooltip.inner_text()
    # Close to the ground, clusters split into single points; no animation, so nothing moves under the click.
    page.evaluate("map_overview.setView([10.4562, 105.6332], 17, {animate: false})")
    # A point outside the drawn area keeps an empty path ("M0 0") and cannot be clicked: take a drawn one.
    drawn = 'path.incident-point:not([d="M0 0"])'
    page.wait_for_selector(drawn)
    page.wait_for_timeout(300)  # marker clusters finish their own uncluster pass
    page.locator(drawn).first.click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=15000)
    text = popup.inner_text()
    assert "Mã vụ" in text and "Trộm cắp tài sản" in text
    assert "B-5" not in page.content()  # the sensitive case's id never reaches the page
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []


def test_filter_form_keeps_the_view_in_the_address(browser_page, some_incidents):
    page = open_overview(browser_page)
    page.select_option("select[name=measure]", "rate")
    page.select_option("select[name=district]", "869")
    page.click(".filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("path.commune-shape")
    assert "measure=rate" in page.url and "district=869" in page.url
    assert "10.000 dân" in page.inner_text(".map-legend")
    assert page.locator("path.commune-shape").count() < 143
    assert browser_page.console_errors == []


def test_import_page_shows_progress_then_the_report(browser_page, tmp_path):
    csv_file = tmp_path / "vu_viec.csv"
    csv_file.write_text("id,occurred_at,category,severity,case_status,lon,lat\n"
                        "U-1,2024-03-01,theft,serious,received,105.6330,10.4560\n"
                        "U-2,2024-03-02,xyz,serious,received,105.6330,10.4560\n", encoding="utf-8")
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/import")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click(".import-form button[type=submit]")
    page.wait_for_selector("#import-result", timeout=20_000)  # the poller reloads the page when done
    text = page.inner_text("#import-result")
    assert "Không ghi dòng nào" in text and "xyz" in text
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []


def test_legend_shows_the_symbols_drawn_and_the_gi_overlay_only_while_on(browser_page, some_incidents):
    """Issue #12 point 6: incident dots by severity and the grey cluster bubbles are in the legend; the Gi*
    classes appear when the overlay is ticked and go when it is unticked; no bubble is green."""
    page = open_overview(browser_page)
    legend = page.locator(".map-legend")
    assert "Nghiêm trọng" in legend.inner_text() and "Cụm nhiều vụ gần nhau" in legend.inner_text()
    assert "Điểm nóng — độ tin cậy" not in legend.inner_text()  # the overlay starts off
    colours = page.eval_on_selector_all(".incident-cluster div", "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert colours, "no cluster bubble drawn"
    for colour in colours:
        red, green, blue = (int(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
        assert max(red, green, blue) - min(red, green, blue) < 10, colour  # grey, not green
    page.hover(".leaflet-control-layers")
    overlay = page.locator(".leaflet-control-layers-overlays label", has_text="Gi*").locator("input")
    overlay.check()
    wait_until(page, "() => document.querySelector('.map-legend').innerText.includes('Điểm nóng Gi* theo xã')")
    page.hover(".leaflet-control-layers")  # the control folds again once the pointer leaves it
    overlay.uncheck()
    wait_until(page, "() => !document.querySelector('.map-legend').innerText.includes('Điểm nóng Gi* theo xã')")
    assert browser_page.console_errors == []
