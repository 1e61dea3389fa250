"""No configuration name (``BANDO_…``) reaches a reader: not on any page, not in a Word or Excel report, not in
an error a page shows. Configuration belongs in the README."""
import io
import re

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.report_data import seed_incidents

CONFIG_NAME = re.compile(r"BANDO_[A-Z_]+")


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def _pages_without_arguments(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if rule.rule.startswith(("/vendor", "/api", "/ogc", "/logout", "/auth/logout")):
            continue
        paths.append(rule.rule)
    return sorted(paths)


@pytest.mark.parametrize("username", ["admin", "planner", "district_869"])
def test_no_page_names_a_configuration_variable(app, client, login, seeded, username):
    login(username)
    paths = _pages_without_arguments(app)
    assert "/" in paths and "/targets" in paths and "/reports" in paths and "/import" in paths
    for path in paths:
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        found = CONFIG_NAME.findall(response.get_data(as_text=True))
        assert not found, (path, found)


def test_a_broken_office_setting_is_reported_without_its_variable_name(app, client, login, tmp_path):
    mapping = tmp_path / "ten_rieng.csv"
    mapping.write_text("ten,loai\nbài cào,không có\n", encoding="utf-8")
    app.config["CATEGORY_MAP_PATH"] = str(mapping)
    try:
        login("planner")
        page = client.get("/import").get_data(as_text=True)
        assert 'id="import-map-error"' in page
        assert not CONFIG_NAME.search(page)
    finally:
        app.config.pop("CATEGORY_MAP_PATH")


@pytest.mark.parametrize("query", ["period=2024&format=docx", "period=2024-Q1&district=869&format=docx",
                                   "period=2024&format=xlsx", "period=2024-H1&district=866&format=xlsx"])
def test_no_report_names_a_configuration_variable(client, login, seeded, query):
    login("planner")
    response = client.get(f"/reports/download?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if query.endswith("docx"):
        document = Document(io.BytesIO(response.data))
        parts = [p.text for p in document.paragraphs]
        parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
        for section in document.sections:
            parts += [p.text for p in section.footer.paragraphs] + [p.text for p in section.header.paragraphs]
    else:
        workbook = load_workbook(io.BytesIO(response.data))
        parts = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value is not None]
        parts += workbook.sheetnames
    assert parts and "Kỳ báo cáo" in "\n".join(parts)
    assert not CONFIG_NAME.findall("\n".join(parts))
    response.close()
