"""The incident import, export and demo-seed commands end to end on the real boundaries."""
from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import text

HEADER = "id,occurred_at,reported_at,category,severity,case_status,lon,lat,description\n"
# Points inside Phường 1 of TP Sa Đéc and Xã Tân Hộ Cơ (Tân Hồng) on the 2024 boundaries.
GOOD_ROWS = [
    "CA-001,2024-03-05 21:30,2024-03-06,trom_cap,it_nghiem_trong,khám phá,105.7630,10.2960,Trộm xe máy",
    "CA-002,05/04/2024,06/04/2024,Ma túy,nghiêm trọng,received,105.4300,10.9350,Tàng trữ trái phép",
    "CA-003,2024-07-01,2024-07-02,human_trafficking,very_serious,prosecuted,105.4300,10.9350,Nạn nhân Nguyễn Thị A",
]


def _count(db, where="1=1"):
    with db.transaction() as session:
        return session.execute(text(f"SELECT count(*) FROM incidents WHERE {where}")).scalar()


def _write(tmp_path, rows, name="vu_viec.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def good_file(tmp_path):
    rows = [r.replace("trom_cap", "theft").replace("it_nghiem_trong", "less_serious") for r in GOOD_ROWS]
    return _write(tmp_path, rows)


def test_import_writes_rows_assigned_to_communes(runner, db, good_file):
    result = runner.invoke(args=["import-incidents", str(good_file)])
    assert result.exit_code == 0, result.output
    assert "3 written" in result.output
    with db.transaction() as session:
        rows = dict(session.execute(text("SELECT id, commune_code FROM incidents")).all())
    assert set(rows) == {"CA-001", "CA-002", "CA-003"}
    assert all(code and len(code) == 5 for code in rows.values())
    assert _count(db, "id = 'CA-003' AND sensitive") == 1  # trafficking is confidential by default


def test_reimporting_the_same_file_changes_nothing(runner, db, good_file):
    runner.invoke(args=["import-incidents", str(good_file)])
    with db.transaction() as session:
        before = session.execute(text("SELECT id, updated_at FROM incidents ORDER BY id")).all()
        version = session.execute(text("SELECT value FROM meta WHERE key='data_version'")).scalar()
    again = runner.invoke(args=["import-incidents", str(good_file)])
    assert again.exit_code == 0
    assert "0 written, 3 unchanged" in again.output
    with db.transaction() as session:
        assert session.execute(text("SELECT id, updated_at FROM incidents ORDER BY id")).all() == before
        assert session.execute(text("SELECT value FROM meta WHERE key='data_version'")).scalar() == version


def test_changed_row_is_updated_in_place(runner, db, good_file, tmp_path):
    runner.invoke(args=["import-incidents", str(good_file)])
    changed = _write(tmp_path, [GOOD_ROWS[0].replace("khám phá", "truy tố").replace("trom_cap", "theft")
                                .replace("it_nghiem_trong", "less_serious")], "update.csv")
    result = runner.invoke(args=["import-incidents", str(changed)])
    assert result.exit_code == 0 and "1 written" in result.output
    with db.transaction() as session:
        assert session.execute(text("SELECT case_status FROM incidents WHERE id='CA-001'")).scalar() == "indicted"
    assert _count(db) == 3


@pytest.mark.parametrize("bad_row, field", [
    ("CA-9,2024-13-45,,theft,less_serious,received,105.76,10.296,", "occurred_at"),
    ("CA-9,2024-03-05,2024-03-01,theft,less_serious,received,105.76,10.296,", "reported_at"),
    ("CA-9,2024-03-05,,bói toán,less_serious,received,105.76,10.296,", "category"),
    ("CA-9,2024-03-05,,theft,cực kỳ,received,105.76,10.296,", "severity"),
    ("CA-9,2024-03-05,,theft,less_serious,đang xem,105.76,10.296,", "case_status"),
    ("CA-9,2024-03-05,,theft,less_serious,received,abc,10.296,", "lon"),
    ("CA-9,2024-03-05,,theft,less_serious,received,106.70,10.78,", "lon"),  # Hồ Chí Minh City
    (",2024-03-05,,theft,less_serious,received,105.76,10.296,", "id"),
    ("CA-001,2024-03-05,,theft,less_serious,received,105.76,10.296,", "id"),  # duplicate within the file
])
def test_one_bad_row_means_nothing_is_written(runner, db, tmp_path, bad_row, field):
    rows = [r.replace("trom_cap", "theft").replace("it_nghiem_trong", "less_serious") for r in GOOD_ROWS]
    path = _write(tmp_path, rows + [bad_row])
    result = runner.invoke(args=["import-incidents", str(path)])
    assert result.exit_code != 0
    assert "row 4" in result.output and field in result.output
    assert "nothing was written" in result.output
    assert _count(db) == 0


def test_out_of_province_error_names_the_distance(runner, tmp_path):
    path = _write(tmp_path, ["CA-X,2024-03-05,,theft,less_serious,received,106.70,10.78,"])
    result = runner.invoke(args=["import-incidents", str(path)])
    assert result.exit_code != 0
    assert "km" in result.output


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(runner, db, tmp_path):
    rows = [r.replace("trom_cap", "theft").replace("it_nghiem_trong", "less_serious") for r in GOOD_ROWS]
    path = _write(tmp_path, rows + ["CA-9,2024-03-05,,bói toán,less_serious,received,105.76,10.296,"])
    result = runner.invoke(args=["import-incidents", str(path), "--skip-invalid"])
    assert result.exit_code != 0  # a refused row still makes the status non-zero
    assert "row 4" in result.output
    assert _count(db) == 3


def test_vietnamese_labels_and_codes_both_accepted(runner, db, tmp_path):
    path = _write(tmp_path, GOOD_ROWS)
    result = runner.invoke(args=["import-incidents", str(path)])
    assert result.exit_code == 0, result.output
    with db.transaction() as session:
        assert session.execute(text("SELECT category FROM incidents WHERE id='CA-001'")).scalar() == "theft"
        assert session.execute(text("SELECT category FROM incidents WHERE id='CA-002'")).scalar() == "drugs"


def test_malformed_file_gives_a_clear_error(runner, db, tmp_path):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    result = runner.invoke(args=["import-incidents", str(path)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert _count(db) == 0


def test_export_csv_round_trips_and_leaves_out_sensitive(runner, good_file, tmp_path):
    runner.invoke(args=["import-incidents", str(good_file)])
    out = tmp_path / "xuat.csv"
    result = runner.invoke(args=["export-incidents", "--format", "csv", "--year", "2024", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"CA-001", "CA-002"}  # CA-003 is confidential: no row of its own
    assert "1 confidential cases left out" in result.stderr
    assert rows["CA-001"]["description"] == "Trộm xe máy"


def test_export_geojson_to_stdout(runner, good_file):
    runner.invoke(args=["import-incidents", str(good_file)])
    result = runner.invoke(args=["export-incidents", "--format", "geojson"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    by_id = {f["properties"]["id"]: f for f in data["features"]}
    assert "CA-003" not in by_id
    assert by_id["CA-001"]["geometry"]["type"] == "Point"


def test_export_year_filter(runner, good_file):
    runner.invoke(args=["import-incidents", str(good_file)])
    result = runner.invoke(args=["export-incidents", "--format", "geojson", "--year", "2023"])
    assert json.loads(result.stdout)["features"] == []


def test_seed_demo_is_deterministic_and_labelled(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    first = _count(db, "is_demo")
    assert first > 2000
    assert _count(db, "description LIKE '%minh họa%'") == first
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not added" in again.output
    assert _count(db) == first


def test_semicolon_windows_1258_file_is_imported_and_its_encoding_reported(runner, db, tmp_path):
    from tests.vn_files import encode_cp1258

    rows = [r.replace(",", ";").replace("105.7630", "105,7630").replace("10.2960", "10,2960")
            .replace("105.4300", "105,4300").replace("10.9350", "10,9350") for r in GOOD_ROWS]
    path = tmp_path / "excel_vn.csv"
    path.write_bytes(encode_cp1258(HEADER.replace(",", ";") + "\n".join(rows) + "\n"))
    result = runner.invoke(args=["import-incidents", str(path)])
    assert result.exit_code == 0, result.output
    assert "read as Windows-1258, fields separated by ';' (detected)" in result.output
    assert "3 written" in result.output
    with db.transaction() as session:
        assert session.execute(text("SELECT description FROM incidents WHERE id = 'CA-001'")).scalar() == "Trộm xe máy"
    wrong = runner.invoke(args=["import-incidents", str(path), "--encoding", "utf-8"])
    assert wrong.exit_code == 1 and "not UTF-8 text" in wrong.output and "--encoding" in wrong.output


def test_category_map_option_adds_the_office_names(runner, db, tmp_path):
    rows = [r.replace("trom_cap", "bài cào").replace("it_nghiem_trong", "less_serious") for r in GOOD_ROWS[:1]]
    path = _write(tmp_path, rows)
    refused = runner.invoke(args=["import-incidents", str(path)])
    assert refused.exit_code == 1 and "not a known offence name" in refused.output
    mapping = tmp_path / "ten_rieng.csv"
    mapping.write_text("ten,loai\nbài cào,Đánh bạc\n", encoding="utf-8")
    result = runner.invoke(args=["import-incidents", str(path), "--category-map", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "category map: 1 office names" in result.output
    assert _count(db, "id = 'CA-001' AND category = 'gambling'") == 1
    mapping.write_text("ten,loai\nTrộm cắp tài sản,drugs\n", encoding="utf-8")
    bad = runner.invoke(args=["import-incidents", str(path), "--category-map", str(mapping)])
    assert bad.exit_code == 2 and "--category-map" in bad.output and "already means theft" in bad.output


def test_refused_rows_are_grouped_by_reason_and_listed_in_the_error_report(runner, db, tmp_path):
    bad = [f"CA-{i:03d},2024-03-05,,bói toán,less_serious,received,105.7630,10.2960," for i in range(25)]
    bad += ["CA-900,2024-13-45,,theft,less_serious,received,105.7630,10.2960,",
            "CA-901,31/02/2024,,theft,less_serious,received,105.7630,10.2960,"]
    path = _write(tmp_path, bad)
    report = tmp_path / "loi.csv"
    result = runner.invoke(args=["import-incidents", str(path), "--error-report", str(report)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if " rows: " in line or " row: " in line]
    assert lines[0].startswith("25 rows: category 'bói toán': not a known offence name")
    assert lines[0].endswith("— rows " + ", ".join(str(r) for r in range(1, 21)) + ", … (first 20)")
    assert lines[1].startswith("2 rows: occurred_at: expected a date") and lines[1].endswith("— rows 26, 27")
    assert len(lines) == 2
    rows = report.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
    assert rows[0] == "row,field,value,reason" and len(rows) == 28
    assert _count(db) == 0


def test_the_commands_speak_vietnamese_by_default_and_english_when_set(app, runner, tmp_path):
    """CLI_LANGUAGE (BANDO_CLI_LANGUAGE) empty: DEFAULT_LANGUAGE, vi; numbers and the grouped report follow."""
    path = _write(tmp_path, ["CA-X,2024-03-05,,theft,less_serious,received,106.70,10.78,"])
    app.config["CLI_LANGUAGE"] = ""
    vi = runner.invoke(args=["import-incidents", str(path)])
    app.config["CLI_LANGUAGE"] = "en"
    en = runner.invoke(args=["import-incidents", str(path)])
    assert vi.exit_code != 0 and en.exit_code != 0
    assert "1 trong 1 dòng bị từ chối; không ghi gì" in vi.output and "1 dòng: lon/lat" in vi.output
    assert "1 of 1 rows refused; nothing was written" in en.output and "1 row: lon/lat" in en.output
    assert "rows refused" not in vi.output and "dòng" not in en.output  # (the log line is the operator's English)
    app.config["CLI_LANGUAGE"] = "fr"
    refused = runner.invoke(args=["import-incidents", str(path)])
    assert refused.exit_code != 0 and "CLI_LANGUAGE 'fr' is not one of: vi, en" in refused.output
