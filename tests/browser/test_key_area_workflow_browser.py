"""A district committee proposes a status change in a real browser; a province planner approves it."""
import pytest

from tests.tracker_helpers import make_area

pytestmark = pytest.mark.browser


def test_district_proposes_and_planner_approves(browser_page, live_app):
    db = live_app.extensions["db"]
    area_id = make_area(db, name="Chợ Sa Rài <b>thử</b>")
    base = browser_page.base_url

    page = browser_page.login("district_869")
    page.goto(f"{base}/key-areas/{area_id}")
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-container").count() == 1  # the map drew from local assets
    form = page.locator("#propose-form")
    form.locator("select[name=to_status]").select_option("converting")
    form.locator("input[name=event_date]").fill("2024-06-01")
    form.locator("input[name=document_number]").fill("45/TTr-BCĐ138")
    form.locator("textarea[name=reason]").fill("Đã triển khai mô hình tự quản")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "Đã gửi đề xuất" in page.inner_text("body")
    assert "Đang có đề xuất chờ duyệt" in page.inner_text("body")
    assert "Đã lựa chọn" in page.inner_text("h1")  # nothing changes before approval
    assert page.locator("#transition-form").count() == 0 and page.locator("#decide-form").count() == 0
    page.click("header button.linklike")  # sign out
    page.wait_for_load_state("networkidle")

    page = browser_page.login("planner")
    page.goto(f"{base}/key-areas")
    page.wait_for_load_state("networkidle")
    item = page.locator(".pending-item", has_text="45/TTr-BCĐ138")
    assert item.count() == 1
    item.locator("button[value=approve]").click()
    page.wait_for_load_state("networkidle")
    assert "Đã duyệt đề xuất" in page.inner_text("body")
    assert "Đang chuyển hóa" in page.inner_text("h1")
    timeline = page.inner_text(".ka-timeline")
    assert "45/TTr-BCĐ138" in timeline and "district_869" in timeline and "planner" in timeline
    assert "<b>thử</b>" in page.inner_text("h1")  # shown as text, not markup
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []
