"""The import page's templates (issue #12 point 9): a CSV header and a workbook with accepted values, both of
which import once a clerk fills them in."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from geo.import_template import ACCEPTED_VALUES, DATA_SHEET, GUIDE_SHEET, VALUES_SHEET, template_columns
from geo.taxonomy import CASE_STATUSES, CATEGORIES, SEVERITIES
from tests.test_imports_web import finished_job, incident_count, upload

FILLED = {  # one filled-in row per template column name
    "id": "T-1", "occurred_at": "05/03/2024 21:30", "category": "theft", "severity": "serious",
    "case_status": "received", "lon": "105.6330", "lat": "10.4560", "description": "xe máy",
}


def test_page_links_both_templates(login, client):
    login("planner")
    page = client.get("/import").get_data(as_text=True)
    assert 'href="/import/template.xlsx"' in page and 'href="/import/template.csv"' in page


def test_csv_template_is_the_header_and_imports_when_filled(login, client, db):
    login("planner")
    response = client.get("/import/template.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    [header] = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:7] == ["id", "occurred_at", "category", "severity", "case_status", "lon", "lat"]
    filled = body.decode("utf-8-sig") + ",".join(FILLED.get(name, "") for name in header) + "\r\n"
    result, _ = finished_job(client, upload(client, login.csrf_token, "mau.csv", filled.encode("utf-8")))
    assert 'id="import-written">1<' in result
    assert incident_count(db) == 1


def test_xlsx_template_has_accepted_values_validations_and_imports_when_filled(login, client, db):
    login("planner")
    response = client.get("/import/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == [DATA_SHEET, VALUES_SHEET, GUIDE_SHEET]
    data, values = book[DATA_SHEET], book[VALUES_SHEET]
    header = [c.value for c in data[1]]
    assert header == [c.name for c in template_columns()]
    listed = {}
    for column, code, vi, en in values.iter_rows(min_row=2, values_only=True):
        listed.setdefault(column, {})[code] = (vi, en)
    assert set(listed["severity"]) == set(SEVERITIES) and set(listed["case_status"]) == set(CASE_STATUSES)
    assert set(listed["category"]) == set(CATEGORIES) and listed["severity"]["serious"][0] == "Nghiêm trọng"
    validated = {str(rule.sqref).split(":")[0][0]: rule.formula1 for rule in data.data_validations.dataValidation}
    severity_letter = chr(ord("A") + header.index("severity"))
    assert VALUES_SHEET in validated[severity_letter]
    guide = {row[0]: row for row in book[GUIDE_SHEET].iter_rows(min_row=2, values_only=True)}
    assert guide["lon"][1].startswith("có") and guide["description"][1].startswith("không")
    for index, name in enumerate(header, start=1):
        data.cell(row=2, column=index, value=FILLED.get(name))
    buffer = io.BytesIO()
    book.save(buffer)
    result, _ = finished_job(client, upload(client, login.csrf_token, "mau.xlsx", buffer.getvalue()))
    assert 'id="import-written">1<' in result
    assert incident_count(db) == 1


def test_accepted_values_cover_every_coded_column():
    assert set(ACCEPTED_VALUES) == {"category", "severity", "case_status"}
    assert all(len(pair) == 2 and all(pair) for table in ACCEPTED_VALUES.values() for pair in table.values())


def test_templates_are_for_importers_only(login, client):
    login("guard")
    assert client.get("/import/template.csv").status_code == 403
    login("planner")
    assert client.get("/import/template.pdf").status_code == 404  # no such template (nor import job)
