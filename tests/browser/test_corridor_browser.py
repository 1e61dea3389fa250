"""The border corridor page in a real browser: layers drawn offline, statistics beside the map, no errors."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from store.boundaries import communes_frame, population_frame
from store.importing import import_incidents

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_incidents(live_app):
    """The illustrative generator's incidents (it places border-category cases near the border)."""
    from geo.demo import generate_demo_incidents

    db = live_app.extensions["db"]
    with db.transaction() as session:
        communes, population = communes_frame(session), population_frame(session)
    frame = generate_demo_incidents(communes, population, seed=7)
    frame = frame[pd.to_datetime(frame["occurred_at"]).dt.year >= 2024]
    report = import_incidents(db, None, frame=frame, filename="demo.csv", is_demo=True)
    assert report.committed, report.error_lines()[:5]
    return frame


def test_corridor_page_draws_its_layers_offline(browser_page, demo_incidents, tmp_path):
    page = browser_page.login("guard")
    page.goto(f"{browser_page.base_url}/corridor?year=2025")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("path.corridor-segment")
    assert page.locator("path.corridor-segment").count() == 10
    assert page.locator("path.corridor-band").count() >= 3
    assert page.locator("path.corridor-border").count() == 1
    assert page.locator("path.corridor-gate").count() == 4
    assert page.locator("path.corridor-border-commune").count() == 8
    legend = page.inner_text(".map-legend")
    assert "Hành lang biên giới Prey Veng" in legend and "Năm dương lịch 2025" in legend
    assert page.locator("table.corridor-stats tbody.stats-segment tr[data-dimension]").count() == 10
    page.locator("path.corridor-segment").first.hover(force=True)
    assert "Đoạn 1" in page.wait_for_selector(".leaflet-tooltip").inner_text()
    shot = os.environ.get("BANDO_SCREENSHOT_DIR")
    page.screenshot(path=str((Path(shot) if shot else tmp_path) / "corridor.png"),
                    full_page=True)
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []


def test_gi_colouring_and_filters_in_the_browser(browser_page, demo_incidents):
    page = browser_page.login("guard")
    page.goto(f"{browser_page.base_url}/corridor?year=2025&colour=gi_bin&segment_km=2.5&bands=0,1,2,5")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("path.corridor-segment")
    assert page.locator("path.corridor-segment").count() == 20
    assert page.locator("table.corridor-stats tbody.stats-band tr[data-dimension]").count() == 3
    assert "Điểm nóng 99%" in page.inner_text(".map-legend")
    assert browser_page.console_errors == []


def test_admin_moves_a_gate_through_the_form(browser_page, tmp_path):
    page = browser_page.login("admin")
    page.goto(f"{browser_page.base_url}/corridor/gates")
    card = page.locator("section.gate-card", has_text="Cửa khẩu Bình Phú").first
    assert "chưa có tọa độ" in card.inner_text()
    card.locator("input[name=lon]").fill("105.4229")
    card.locator("input[name=lat]").fill("10.9500")
    card.locator("input[name=reason]").first.fill("đặt vị trí theo khảo sát")
    card.locator(".gate-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "Đã lưu thay đổi." in page.inner_text(".flash-success")
    card = page.locator("section.gate-card", has_text="Cửa khẩu Bình Phú").first
    assert "chưa có tọa độ" not in card.inner_text() and "Phiên bản 2" in card.inner_text()
    shot = os.environ.get("BANDO_SCREENSHOT_DIR")
    page.screenshot(path=str((Path(shot) if shot else tmp_path) / "gates.png"),
                    full_page=False)
    assert browser_page.console_errors == []


def test_admin_places_a_gate_by_clicking_the_map(browser_page):
    """Issue #12 point 7: "Place on the map", a click on the map fills the form's coordinates and shows the
    gate with its uncertainty circle; saved, the server accepts the point (near the border)."""
    page = browser_page.login("admin")
    page.goto(f"{browser_page.base_url}/corridor/gates")
    page.wait_for_selector("#gate-map svg path")
    card = page.locator("section.gate-card", has_text="Cửa khẩu Bình Phú").first
    card.locator("input[name=uncertainty_m]").fill("800")
    card.locator("button.place-on-map").click()
    assert "Cửa khẩu Bình Phú" in page.inner_text("#gate-placement-status")
    # Click the map where the gate stands (near the border, as the form test above places it by hand).
    point = page.evaluate("(() => { const p = gateMap.latLngToContainerPoint([10.95, 105.4229]);"
                          " return [p.x, p.y]; })()")
    box = page.locator("#gate-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    lon = float(card.locator("input[name=lon]").input_value())
    lat = float(card.locator("input[name=lat]").input_value())
    assert abs(lon - 105.4229) < 0.01 and abs(lat - 10.95) < 0.01
    assert page.locator("path.gate-uncertainty").count() == 1 and page.locator("path.gate-marker").count() == 1
    radius_before = page.locator("path.gate-uncertainty").bounding_box()["width"]
    card.locator("input[name=uncertainty_m]").fill("1600")
    assert page.locator("path.gate-uncertainty").bounding_box()["width"] > radius_before * 1.5
    card.locator("input[name=reason]").first.fill("đặt trên bản đồ")
    card.locator(".gate-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "Đã lưu thay đổi." in page.inner_text(".flash-success")
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []
