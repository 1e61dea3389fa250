"""The 2025 view in a real browser: the 102 communes of the new province, the set selector and its statement,
switching sets, offline and without errors."""
from __future__ import annotations

import pandas as pd
import pytest

from store.importing import import_incidents
from tests.browser.conftest import BrowserPage, served
from tests.conftest import make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def versioned_server(tmp_path, versioned_template_db, data_dir):
    app = make_app(tmp_path, versioned_template_db, data_dir)
    from store.boundaries import communes_frame

    with app.extensions["db"].transaction() as session:
        new = communes_frame(session, "2025-07")
    points = [geometry.representative_point() for geometry in new.geometry.iloc[::10]]
    frame = pd.DataFrame([{"id": f"V-{i}", "occurred_at": "2026-03-0{}".format(1 + i % 9), "category": "theft",
                           "severity": "less_serious", "case_status": "received", "lon": p.x, "lat": p.y}
                          for i, p in enumerate(points)])
    report = import_incidents(app.extensions["db"], None, frame=frame, filename="browser.csv")
    assert report.committed, report.error_lines()
    with served(app) as url:
        yield url


def test_the_2025_view_draws_the_new_province_and_switches_sets(chromium, versioned_server):
    browser_page = BrowserPage(chromium, versioned_server)
    try:
        page = browser_page.login("planner")
        page.goto(f"{versioned_server}/?year=2026")
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("path.commune-shape")
        assert page.locator("path.commune-shape").count() == 102
        assert page.locator("select[name=set]").input_value() == "2025-07"
        statement = page.locator(".boundary-statement").inner_text()
        assert "07/2025" in statement and "102 xã/phường" in statement and "mã tỉnh 82" in statement
        assert page.locator("#total-incidents").inner_text() == "11"
        # Former districts of old Đồng Tháp are outlined for continuity (none for old Tiền Giang).
        assert page.locator("path.district-outline").count() == 12
        page.select_option("select[name=set]", "2024")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("path.commune-shape")
        assert page.locator("path.commune-shape").count() == 143
        assert "set=2024" in page.url
        # The 2026 points of old Tiền Giang lie outside the 2024 province: not counted, and the page says so.
        outside = page.locator(".boundary-statement").inner_text()
        assert "ngoài phạm vi tỉnh" in outside
        assert browser_page.console_errors == [] and browser_page.external_requests == []
    finally:
        browser_page.close()
