"""In / Xuất bản đồ in a real browser: the menu opens and hands out the PDF and PNG sheets of the page's view."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_print_menu_downloads_the_sheets_of_the_view(browser_page):
    page = browser_page.login("planner")
    page.goto(f"{browser_page.base_url}/drug-status?year=2024")
    page.wait_for_load_state("networkidle")
    page.click("#print-map summary")
    pdf_link = page.get_by_role("link", name="PDF (A4 ngang)")
    assert pdf_link.is_visible()
    assert pdf_link.get_attribute("href").endswith("/drug-status/print.pdf?year=2024")
    with page.expect_download() as pdf:
        pdf_link.click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    with open(pdf.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    with page.expect_download() as png:
        page.get_by_role("link", name="Ảnh PNG (A4 ngang)").click()
    with open(png.value.path(), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert browser_page.external_requests == [] and browser_page.console_errors == []
