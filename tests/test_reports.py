"""Targets store and dashboard, reports (.docx/.xlsx reopened and checked), the report CLI."""
import io
import re

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
    assert "/?year=2024&amp;category=social_order" in page  # tile links to the filtered map


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
    assert [clearance.cells[i].text for i in (2, 3, 4)] == ["trên 75%", "80,00%", "4/5"]
    assert len(document.inline_shapes) >= 1  # hotspot map (and key-area map when that tracker is installed)
    response.close()


def test_xlsx_holds_the_figures_of_every_table(client, login, seeded):
    login("planner")
    response = client.get("/reports/download?period=2024-H1&district=869&format=xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    info = workbook["Thong tin"]
    facts = {row[0].value: row[1].value for row in info.iter_rows(min_row=2, max_row=9)}
    assert facts["Phạm vi"] == "Huyện Tân Hồng" and facts["Kỳ báo cáo"].startswith("6 tháng đầu năm 2024: từ 01/12/2023")
    sheet = workbook["Chi tieu"]
    header = [c.value for c in sheet[3]]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    clearance = rows["Tỷ lệ điều tra khám phá án (TTXH)"]
    assert clearance[header.index("Tử số/mẫu số")] == "3/4"  # the indicted trafficking case counts as cleared
    by_commune = workbook["Theo xa"]
    counts = [r for r in by_commune.iter_rows(min_row=4, values_only=True) if r[2]]
    assert sum(r[2] for r in counts) == 4  # 3 theft + 1 confidential trafficking case in H1 2024, 869
    assert sum(r[8] for r in counts) == 1  # the confidential case is counted, not located
    response.close()


def test_report_cli_writes_docx_and_xlsx(runner, seeded, tmp_path):
    out = tmp_path / "bc.docx"
    result = runner.invoke(args=["report", "--period", "2024-Q3", "--district", "866", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Quý III và 9 tháng năm 2024 (từ 01/12/2023 đến 31/08/2024)" in result.output
    assert Document(str(out)).paragraphs
    xlsx = tmp_path / "bc.xlsx"
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(xlsx)]).exit_code == 0
    assert "Chi tieu" in load_workbook(xlsx).sheetnames
    bad = runner.invoke(args=["report", "--period", "2024-Q7", "--out", str(out)])
    assert bad.exit_code == 2 and "2024-Q7" in bad.output
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(tmp_path / "x.pdf")]).exit_code == 2


def test_reports_page_lists_the_periods_with_dates(client, login):
    login("planner")
    page = client.get("/reports").get_data(as_text=True)
    assert re.search(r'value="\d{4}-Q3"', page) and re.search(r'value="\d{4}-H1"', page)
    assert "Mốc kỳ báo cáo mặc định" in page
