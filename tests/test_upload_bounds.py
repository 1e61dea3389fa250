"""Upload bombs: rows, columns, cell length and inflated size are bounded before or while a file is parsed."""
from __future__ import annotations

import io
import zipfile

import pytest

from geo.errors import GeoInputError
from tests.test_imports_web import HEADER, finished_job, incident_count, upload

ROW = "B-{n},2024-03-05,theft,serious,received,105.6330,10.4560,{text}\n"


def _xlsx(path, rows, *, width=8):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(",") + [f"extra_{i}" for i in range(width - 8)])
    for n, text in enumerate(rows):
        sheet.append([f"B-{n}", "2024-03-05", "theft", "serious", "received", 105.633, 10.456, text]
                     + [""] * (width - 8))
    workbook.save(path)
    return path


def _rewrite(path, member, change):
    """The same archive with one member's XML changed (what a crafted file does)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[member] = change(parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_sheet_declaring_millions_of_rows_is_refused_before_reading(tmp_path, monkeypatch):
    import geo.incidents
    from geo.incidents import read_incident_table

    path = _xlsx(tmp_path / "bom.xlsx", ["a"] * 3)
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'<dimension ref="A1:H4"/>',
                                                                       b'<dimension ref="A1:H5000000"/>'))
    rows_read = []
    monkeypatch.setattr(geo.incidents, "_cell_text", lambda v: rows_read.append(v) or str(v))
    with pytest.raises(GeoInputError, match="more than 1,000,000 rows"):
        read_incident_table(path)
    assert rows_read == []  # refused on the declaration, no cell parsed


def test_more_rows_than_the_bound_is_refused_while_streaming(tmp_path, monkeypatch):
    import geo.incidents
    from geo.incidents import read_incident_table

    monkeypatch.setattr(geo.incidents, "MAX_ROWS", 50)
    path = _xlsx(tmp_path / "nhieu.xlsx", ["a"] * 60)
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'<dimension ref="A1:H61"/>',
                                                                       b'<dimension ref="A1:H2"/>'))
    with pytest.raises(GeoInputError, match="more than 50 rows"):
        read_incident_table(path)
    csv_path = tmp_path / "nhieu.csv"
    csv_path.write_text(HEADER + "".join(ROW.format(n=n, text="") for n in range(60)), encoding="utf-8")
    with pytest.raises(GeoInputError, match="more than 50 rows"):
        read_incident_table(csv_path)


def test_shared_strings_bomb_is_refused_before_parsing(tmp_path, monkeypatch):
    import geo.incidents
    from geo.incidents import read_incident_table

    monkeypatch.setattr(geo.incidents, "MAX_XLSX_SHARED_STRINGS_BYTES", 5_000)
    path = _xlsx(tmp_path / "chuoi.xlsx", ["a"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:  # 6 kB of text packed into a few bytes
        archive.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 400 + "</sst>")
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("parsed a bomb"))
    with pytest.raises(GeoInputError, match="shared text table inflates"):
        read_incident_table(path)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_huge_cell_is_refused_naming_its_row(tmp_path, kind):
    from geo.incidents import MAX_CELL_CHARS, read_incident_table

    texts = ["ngắn", "x" * (MAX_CELL_CHARS + 1)]
    if kind == "csv":
        path = tmp_path / "o.csv"
        path.write_text(HEADER + "".join(ROW.format(n=n, text=t) for n, t in enumerate(texts)), encoding="utf-8")
    else:
        path = _xlsx(tmp_path / "o.xlsx", texts)
    with pytest.raises(GeoInputError, match=r"row 2 holds a cell of 10,001 characters, more than 10,000"):
        read_incident_table(path)


def test_too_many_columns_are_refused(tmp_path):
    from geo.incidents import read_incident_table

    with pytest.raises(GeoInputError, match="more than 100 columns"):
        read_incident_table(_xlsx(tmp_path / "rong.xlsx", ["a"], width=150))
    path = tmp_path / "rong.csv"
    path.write_text(HEADER.strip() + "," + ",".join(f"c{i}" for i in range(150)) + "\n", encoding="utf-8")
    with pytest.raises(GeoInputError, match="158 columns, more than 100"):
        read_incident_table(path)


def test_the_stored_error_report_is_capped_with_counts_by_field(login, client, db):
    from store import import_jobs

    bad = "".join(f"E-{n},2024-03-05,xyz,serious,received,105.6330,10.4560,\n" for n in range(1500))
    login("planner")
    page, job_url = finished_job(client, upload(client, login.csrf_token, "loi.csv", (HEADER + bad).encode()),
                                 timeout=60)
    job_id = job_url.rsplit("/", 1)[1]
    with db.transaction() as session:
        report = import_jobs.get_job(session, job_id).report
        stored = len(session.get(import_jobs.ImportJobRecord, job_id).report)
    assert report.error_total == 1500 and len(report.errors) == import_jobs.KEPT_ERRORS
    assert report.errors_by_field == {"category": 1500}
    assert stored < 400_000  # the first 1000 errors and the counts, whatever the file's size
    assert "Có 1500 lỗi; trang này giữ 1000 lỗi đầu, báo cáo tải về có đủ mọi lỗi" in page
    assert "category: 1500" in page
    assert incident_count(db) == 0
    # The per-row file holds every refused row (issue #15 point 3), kept compressed beside the uploads.
    errors_csv = client.get(job_url + "/errors.csv").get_data(as_text=True)
    assert errors_csv.count("\n") == 1500 + 1
    assert [line.split(",")[0] for line in errors_csv.splitlines()[1:]] == [str(n) for n in range(1, 1501)]
    # The groups by reason count every error of the file, not only the kept ones.
    (group,) = report.error_groups()
    assert (group.field, group.value, group.n_rows) == ("category", "xyz", 1500) and len(group.shown_rows) == 20
    assert "<td class=\"num\">1.500</td><td>category</td><td><code>xyz</code></td>" in page
