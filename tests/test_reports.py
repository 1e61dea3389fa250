"""Targets store and dashboard, reports (.docx/.xlsx reopened and checked), the report CLI."""
import io
import re
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook

from geo.periods import parse_period
from tests.report_data import seed_incidents


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def test_migration_seeds_the_2024_targets_and_admin_edits_are_audited(app):
    from sqlalchemy import select

    from store.models import AuditLog
    from store.targets import stored_target_set, targets_for_year, update_target

    db = app.extensions["db"]
    with db.transaction() as session:
        targets = stored_target_set(session, 2024)
        assert targets.spec("clearance").threshold == 0.75 and len(targets.specs) == 16
        update_target(session, "admin", 2024, "clearance", threshold=0.8, reason="điều chỉnh thử")
    with db.transaction() as session:
        assert stored_target_set(session, 2024).spec("clearance").threshold == 0.8
        row = session.scalars(select(AuditLog).where(AuditLog.action == "update_target")).one()
        assert row.entity_id == "2024:clearance" and '"threshold": 0.75' in row.before
        later = targets_for_year(session, 2026)
        assert later.borrowed and later.target_set.year == 2024


def test_measure_counts_the_hand_made_records(app, seeded):
    from store.targets import measure

    with app.extensions["db"].transaction() as session:
        q1 = measure(session, None, parse_period("2024-Q1"))
        clearance = q1.result("clearance")
        # Q1 2024 = 01/12/2023–29/02/2024: theft 869 (2 cleared + 1 prosecuted), 866 grave (2 cleared)
        assert (clearance.numerator, clearance.denominator) == (4, 5)
        assert (q1.result("grave_clearance").numerator, q1.result("grave_clearance").denominator) == (2, 2)
        district = measure(session, None, parse_period("2024-Q1"), district_code="869").result("clearance")
        assert (district.numerator, district.denominator) == (2, 3)
        assert q1.result("asset_recovery").status == "no_data"


def test_targets_page_tiles_chart_and_district_table(client, login, seeded):
    login("planner")
    page = client.get("/targets?period=2024-Q1").get_data(as_text=True)
    assert "tile-clearance" in page and "80,00%" in page and "trên 75%" in page
    assert "/vendor/chart.js/dist/chart.umd.js" in page and "cdn" not in page.lower()
    assert 'id="targets-chart-data"' in page and "district-targets" in page
    assert "từ 01/12/2023 đến 29/02/2024" in page  # the period's dates are printed
    assert "/?period=2024-Q1&amp;target=clearance" in page  # tile links to the same period and cases


def test_district_account_sees_only_its_district(client, login, seeded):
    login("district_869")
    page = client.get("/targets?period=2024-Q1").get_data(as_text=True)
    assert "2/3" in page and "district-targets" not in page
    assert client.get("/targets?period=2024-Q1&district=866").status_code == 400
    assert client.get("/reports/download?period=2024-Q1&district=866&format=docx").status_code == 400


def test_admin_changes_a_threshold_with_a_reason(client, login):
    login("admin")
    token = login.csrf_token
    no_reason = client.post("/targets/2024/edit", data={"csrf_token": token, "threshold_clearance": "80"})
    assert no_reason.status_code == 302
    saved = client.post("/targets/2024/edit", data={"csrf_token": token, "threshold_clearance": "80",
                                                    "reason": "Nghị quyết mới"})
    assert saved.status_code == 302
    assert "80%" in client.get("/targets?period=2024").get_data(as_text=True)
    login("planner")
    assert client.post("/targets/2024/edit", data={"csrf_token": login.csrf_token, "reason": "x"}).status_code == 403


def test_docx_report_reopens_with_header_sections_tables_and_maps(client, login, seeded):
    login("planner")
    response = client.get("/reports/download?period=2024-Q1&format=docx")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(response.data))
    header = " ".join(c.text for c in document.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header and "Độc lập - Tự do - Hạnh phúc" in header
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and any(t.startswith("I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU") for t in texts)
    assert any(t.startswith("III. BẢN ĐỒ ĐIỂM NÓNG") for t in texts)
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[1].rows}
    assert facts["Kỳ báo cáo"] == "Quý I năm 2024: từ 01/12/2023 đến 29/02/2024"
    assert facts["Phiên bản dữ liệu"].isdigit() and "mặc định" in facts["Mốc kỳ báo cáo"]
    targets = next(t for t in document.tables if t.rows[0].cells[1].text == "Chỉ tiêu")
    clearance = next(r for r in targets.rows if r.cells[1].text.startswith("Tỷ lệ điều tra khám phá án"))
    assert [clearance.cells[i].text for i in (2, 3, 4, 5)] == ["trên 75%", "80,00%", "4", "5"]
    # Tables fit their content: every column at least as wide as its longest word, figures never wrapped.
    from reports.docx_report import CELL_PAD_CM, CHAR_CM

    for table in document.tables[2:]:
        for row in table.rows[1:]:
            for cell in row.cells:
                longest = max([len(w) for w in cell.text.split()] or [0])
                if cell.width is not None and longest:
                    assert cell.width.cm >= longest * CHAR_CM + CELL_PAD_CM - 0.01, (cell.text, cell.width.cm)
    assert "noWrap" in targets.rows[2].cells[3]._tc.xml
    body = "\n".join(p.text for p in document.paragraphs) + " ".join(
        c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "BANDO_" not in body
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", body)  # dates are dd/mm/yyyy
    assert len(document.inline_shapes) >= 1  # hotspot map (and key-area map when that tracker is installed)
    response.close()


def test_xlsx_holds_the_figures_of_every_table(client, login, seeded):
    login("planner")
    response = client.get("/reports/download?period=2024-H1&district=869&format=xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    info = workbook["Thong tin"]
    facts = {row[0].value: row[1] for row in info.iter_rows(min_row=2, max_row=13)}
    assert facts["Phạm vi"].value == "Huyện Tân Hồng" and facts["Kỳ báo cáo"].value == "6 tháng đầu năm 2024"
    start, end = facts["Kỳ báo cáo từ ngày"], facts["Kỳ báo cáo đến ngày"]
    assert start.is_date and start.value.date() == date(2023, 12, 1) and start.number_format == "dd/mm/yyyy"
    assert end.is_date and end.value.date() == date(2024, 5, 31)
    assert facts["Phiên bản dữ liệu"].data_type == "n" and facts["Thời điểm lập"].is_date
    sheet = workbook["Chi tieu"]
    header = [c.value for c in sheet[3]]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    clearance = rows["Tỷ lệ điều tra khám phá án (TTXH)"]
    # the indicted trafficking case counts as cleared
    assert (clearance[header.index("Tử số")], clearance[header.index("Mẫu số (cùng kỳ)")]) == (3, 4)
    value_cell = next(c for c in sheet.iter_rows(min_row=4) if c[1].value == "Tỷ lệ điều tra khám phá án (TTXH)")[3]
    assert value_cell.value == pytest.approx(0.75) and value_cell.number_format == "0.00%"
    crime = workbook["Theo loai"]
    change_cells = [r[5] for r in crime.iter_rows(min_row=4) if isinstance(r[5].value, float)]
    assert change_cells and all(c.number_format.startswith("+0.0%") for c in change_cells)
    assert all(isinstance(r[3].value, int) for r in crime.iter_rows(min_row=4))  # counts are numbers
    by_commune = workbook["Theo xa"]
    counts = [r for r in by_commune.iter_rows(min_row=4, values_only=True) if r[2]]
    assert sum(r[2] for r in counts) == 4  # 3 theft + 1 confidential trafficking case in H1 2024, 869
    assert sum(r[8] for r in counts) == 1  # the confidential case is counted, not located
    response.close()


def test_report_cli_writes_docx_and_xlsx(runner, seeded, tmp_path):
    out = tmp_path / "bc.docx"
    result = runner.invoke(args=["report", "--period", "2024-Q3", "--district", "866", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Nine months of 2024 (01/12/2023 to 31/08/2024)" in result.output  # the tests' CLI_LANGUAGE, en
    runner.app.config["CLI_LANGUAGE"] = "vi"
    result = runner.invoke(args=["report", "--period", "2024-Q3", "--district", "866", "--out", str(out)])
    assert "Quý III và 9 tháng năm 2024 (từ 01/12/2023 đến 31/08/2024)" in result.output
    assert "phiên bản số liệu" in result.output and "data version" not in result.output.splitlines()[-1]
    runner.app.config["CLI_LANGUAGE"] = "en"
    assert "BÁO CÁO" in [p.text for p in Document(str(out)).paragraphs]  # the file in the commands' language
    xlsx = tmp_path / "bc.xlsx"
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(xlsx)]).exit_code == 0
    assert "Targets" in load_workbook(xlsx).sheetnames and "Chi tieu" not in load_workbook(xlsx).sheetnames
    bad = runner.invoke(args=["report", "--period", "2024-Q7", "--out", str(out)])
    assert bad.exit_code == 2 and "2024-Q7" in bad.output
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(tmp_path / "x.pdf")]).exit_code == 2


def test_reports_page_lists_the_periods_with_dates(client, login):
    login("planner")
    page = client.get("/reports").get_data(as_text=True)
    assert re.search(r'value="\d{4}-Q3"', page) and re.search(r'value="\d{4}-H1"', page)
    assert "Mốc kỳ báo cáo mặc định" in page


# A cell that is only a date or a span of dates (prose that mentions a date, such as a note, is text).
DATE_TEXT = re.compile(r"^\s*(từ\s*)?\d{1,2}/\d{1,2}/\d{4}(\s*(–|-|đến)\s*\d{1,2}/\d{1,2}/\d{4})?\s*$")
NUMBER_TEXT = re.compile(r"^\s*[−+-]?\d[\d.,]*\s*%?\s*$")


@pytest.mark.parametrize("query", ["period=2024&format=xlsx", "period=2024-Q1&district=869&format=xlsx"])
def test_xlsx_stores_figures_as_numbers_and_dates_as_dates_text_only_for_text(client, login, seeded, query):
    """Every cell below a table's header: a count, share, rate or z-score is a number with a number format, a
    date a real date formatted dd/mm/yyyy (a span is two cells, start and end); no text cell holds a date or a
    figure."""
    login("planner")
    response = client.get(f"/reports/download?{query}")
    workbook = load_workbook(io.BytesIO(response.data))
    dates = numbers = 0
    for sheet in workbook.worksheets:
        first_row = 2 if sheet.title == "Thong tin" else 4
        header = [c.value for c in sheet[3]]
        for row in sheet.iter_rows(min_row=first_row):
            for cell in row:
                if sheet.title == "Chi tieu" and header[cell.column - 1] == "Kế hoạch":
                    continue  # the plan's own wording ("trên 75%", "100%"), quoted as text
                if cell.value is None:
                    continue
                if cell.is_date:
                    dates += 1
                    assert cell.number_format.startswith("dd/mm/yyyy"), (sheet.title, cell.coordinate)
                elif cell.data_type == "n":
                    numbers += 1
                    assert isinstance(cell.value, (int, float))
                    if isinstance(cell.value, float):
                        assert cell.number_format != "General", (sheet.title, cell.coordinate, cell.value)
                else:
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    text = str(cell.value)
                    assert not NUMBER_TEXT.match(text), (sheet.title, cell.coordinate, text)
                    assert not DATE_TEXT.match(text), (sheet.title, cell.coordinate, text)
    assert dates >= 4 and numbers >= 20
    targets = workbook["Chi tieu"]
    header = [c.value for c in targets[3]]
    social = next(r for r in targets.iter_rows(min_row=4) if r[1].value.startswith("Số vụ phạm tội về trật tự xã hội"))
    start, end = social[header.index("Cùng kỳ từ ngày")], social[header.index("đến ngày")]
    assert start.is_date and end.is_date and start.value < end.value
    response.close()
