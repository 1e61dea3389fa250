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


def test_export_csv_round_trips_and_redacts_sensitive(runner, good_file, tmp_path):
    runner.invoke(args=["import-incidents", str(good_file)])
    out = tmp_path / "xuat.csv"
    result = runner.invoke(args=["export-incidents", "--format", "csv", "--year", "2024", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"CA-001", "CA-002", "CA-003"}
    assert rows["CA-003"]["lon"] == "" and rows["CA-003"]["description"] == ""
    assert rows["CA-001"]["description"] == "Trộm xe máy"


def test_export_geojson_to_stdout(runner, good_file):
    runner.invoke(args=["import-incidents", str(good_file)])
    result = runner.invoke(args=["export-incidents", "--format", "geojson"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    by_id = {f["properties"]["id"]: f for f in data["features"]}
    assert by_id["CA-003"]["geometry"] is None
    assert by_id["CA-001"]["geometry"]["type"] == "Point"


def test_export_year_filter(runner, good_file):
    runner.invoke(args=["import-incidents", str(good_file)])
    result = runner.invoke(args=["export-incidents", "--format", "geojson", "--year", "2023"])
    assert json.loads(result.output)["features"] == []


def test_seed_demo_is_deterministic_and_labelled(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    first = _count(db, "is_demo")
    assert first > 2000
    assert _count(db, "description LIKE '%minh họa%'") == first
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not added" in again.output
    assert _count(db) == first
