"""The hot spot page in a real browser: the map draws its cells and legend, offline, without script errors."""
from __future__ import annotations

import os
from datetime import date

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(live_app, boundary_set, population):
    from geo.demo import generate_demo_incidents
    from store.importing import import_incidents

    frame = generate_demo_incidents(boundary_set, population, start=date(2023, 1, 1), end=date(2024, 12, 31))
    assert import_incidents(live_app.extensions["db"], None, frame=frame, filename="demo", is_demo=True).committed
    return live_app


@pytest.mark.parametrize("query, title", [
    ("stat=gistar&units=hex&cell_size=1000", "Điểm nóng Getis-Ord Gi*"),
    ("stat=lisa&units=communes&measure=eb", "Cụm và ngoại lai"),
    ("stat=lisa&units=hex&cell_size=250", "Cụm và ngoại lai"),
    ("stat=kde&units=square&cell_size=250", "Mật độ"),
    ("stat=gistar&units=square&cell_size=250", "Điểm nóng Getis-Ord Gi*"),
])
def test_hotspot_map_draws(seeded, browser_page, query, title):
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/hotspots?year=2024&{query}")
    page.wait_for_selector(".map-legend")
    assert title in page.inner_text(".map-legend")
    assert page.locator("path.hotspot-cell").count() > 0
    shots = os.environ.get("BANDO_SCREENSHOT_DIR")
    if shots:
        page.screenshot(path=os.path.join(shots, f"hotspots-{query.replace('&', '-').replace('=', '_')}.png"))
    page.locator('path.hotspot-cell:not([d="M0 0"])').first.click(force=True)  # a drawn cell
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "Số vụ" in popup.inner_text()
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []
