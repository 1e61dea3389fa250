"""Sign-in in a real browser, offline."""
import pytest

pytestmark = pytest.mark.browser


def test_login_in_real_browser_reaches_overview(browser_page):
    page = browser_page.login("planner")
    assert page.url.rstrip("/") == browser_page.base_url
    assert "planner" in page.inner_text("header")
    assert browser_page.console_errors == []
    assert browser_page.external_requests == []
