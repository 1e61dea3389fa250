"""Imports validated and written in chunks: all or nothing across chunks, ids compared across chunks, and the
same rows, errors and warnings as validating the whole file at once with the former pandas reader."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import text

from geo.incidents import INCIDENT_FIELDS, first_rows_of_ids, read_incident_file, validate_incidents
from geo.boundaries import resolve_fields
from store import incidents as store_incidents
from store.importing import import_incidents, locator_for

HEADER = "id,occurred_at,reported_at,category,severity,case_status,lon,lat,description,district_code\n"
# Points inside Phường 1 of TP Sa Đéc and Xã Tân Hộ Cơ (Tân Hồng) on the 2024 boundaries.
SA_DEC, TAN_HONG = "105.7630,10.2960", "105.4300,10.9350"


def _row(number: int, *, case_id: str | None = None, category: str = "theft", point: str = SA_DEC,
         occurred: str = "2024-03-05 21:30", status: str = "received", district: str = "") -> str:
    return (f"{case_id or f'CA-{number:03d}'},{occurred},2024-03-06,{category},less_serious,{status},{point},"
            f"Vụ {number},{district}")


def _write(tmp_path, rows, name="vu_viec.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _stored(db):
    with db.transaction() as session:
        return session.execute(text(
            "SELECT id, occurred_at, reported_at, category, severity, case_status, lon, lat, commune_code, "
            "district_code, sensitive, description FROM incidents ORDER BY id")).all()


def _indexes(db):
    with db.transaction() as session:
        if session.get_bind().dialect.name != "sqlite":
            return None
        return session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = 'incidents' ORDER BY name")).scalars().all()


def test_first_rows_of_ids_from_arrow_and_from_python_agree():
    ids = ["b", "a", "b", "", "c", "a", "", "b"]
    expected = [1, 2, 1, 4, 5, 2, 4, 1]
    assert first_rows_of_ids(ids).tolist() == expected
    assert first_rows_of_ids(pa.array(ids)).tolist() == expected
    chunked = pa.chunked_array([pa.array(ids[:3]), pa.array(ids[3:])])
    assert first_rows_of_ids(chunked).tolist() == expected
    assert first_rows_of_ids([]).tolist() == []


@pytest.mark.parametrize("bulk", [False, True], ids=["rows", "indexes dropped"])
def test_a_bad_row_in_the_second_chunk_refuses_the_whole_file(db, tmp_path, monkeypatch, bulk):
    first = _write(tmp_path, [_row(i) for i in range(1, 4)], "first.csv")
    assert import_incidents(db, first).committed
    before, indexes = _stored(db), _indexes(db)
    if bulk:  # the SQLite writer drops the secondary indexes of a large import: a refusal restores them
        monkeypatch.setattr(store_incidents, "BULK_ROWS", 1)
    # rows 1-3 (chunk 1) change statuses and add rows, row 5 (chunk 2) is in the future
    rows = [_row(i, status="prosecuted") for i in range(1, 5)] + [_row(5, occurred="2099-01-01")] + \
        [_row(i) for i in range(6, 9)]
    report = import_incidents(db, _write(tmp_path, rows, "second.csv"), chunk_rows=3, username="clerk")
    assert not report.committed and report.refused == 1 and report.errors[0].row == 5
    assert (report.written, report.unchanged) == (0, 0)
    assert _stored(db) == before
    assert _indexes(db) == indexes
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM incident_status_history")).scalar() == 3
        assert session.execute(text("SELECT count(*) FROM import_batches")).scalar() == 1
        actions = session.execute(text("SELECT action FROM audit_log WHERE username = 'clerk'")).scalars().all()
    assert actions == ["incidents.import_refused"]


def test_every_bad_row_of_every_chunk_is_reported(db, tmp_path):
    rows = [_row(1, category="xyz"), _row(2), _row(3), _row(4), _row(5, category="xyz"), _row(6),
            _row(7, point="106.9000,9.1000")]
    report = import_incidents(db, _write(tmp_path, rows), chunk_rows=2)
    assert not report.committed
    assert [(e.row, e.field) for e in report.errors] == [(1, "category"), (5, "category"), (7, "lon/lat")]
    assert _stored(db) == []


def test_an_id_repeated_in_a_later_chunk_is_refused(db, tmp_path):
    rows = [_row(1), _row(2), _row(3), _row(4), _row(5, case_id="CA-002"), _row(6), _row(7, case_id="CA-002")]
    path = _write(tmp_path, rows)
    atomic = import_incidents(db, path, chunk_rows=2)
    assert not atomic.committed
    assert [(e.row, e.field, e.value) for e in atomic.errors] == [(5, "id", "CA-002"), (7, "id", "CA-002")]
    assert all("row 2" in e.reason for e in atomic.errors)
    assert _stored(db) == []
    kept = import_incidents(db, path, chunk_rows=2, skip_invalid=True)
    assert kept.committed and kept.written == 5 and kept.refused == 2
    assert [r.id for r in _stored(db)] == ["CA-001", "CA-002", "CA-003", "CA-004", "CA-006"]
    assert [r.description for r in _stored(db) if r.id == "CA-002"] == ["Vụ 2"]  # the first row wins


def test_ids_repeated_in_a_given_frame_are_compared_across_chunks(db):
    frame = pd.DataFrame({"id": [7, 8, 7], "occurred_at": ["2024-03-05"] * 3, "category": ["theft"] * 3,
                          "severity": ["less_serious"] * 3, "case_status": ["received"] * 3,
                          "lon": [105.763] * 3, "lat": [10.296] * 3})
    report = import_incidents(db, None, frame=frame, filename="frame", chunk_rows=1, skip_invalid=True)
    assert [(e.row, e.field, e.value) for e in report.errors] == [(3, "id", "7")]
    assert report.written == 2


def _former_reader(path) -> pd.DataFrame:
    """The reader imports used before Arrow: pandas' C parser, text cells except coordinates that are all
    numbers, names resolved like the app's."""
    header = pd.read_csv(path, nrows=0).columns
    fields = resolve_fields(list(header), INCIDENT_FIELDS)
    numeric = {fields.get("lon"), fields.get("lat")}
    raw = pd.read_csv(path, dtype={c: object for c in header if c not in numeric}, keep_default_na=False,
                      skipinitialspace=True, encoding="utf-8")
    raw = raw.rename(columns={column: canonical for canonical, column in fields.items()})
    raw.insert(0, "row", np.arange(1, len(raw) + 1))
    return raw


def _fixture_rows() -> list[str]:
    rows = []
    categories = ["theft", "Ma túy", "xyz", "human_trafficking", "", "Trộm cắp tài sản"]
    points = [SA_DEC, TAN_HONG, "106.9000,9.1000", "abc,10.3", "10.3,105.7", " 105.7630, 10.2960"]
    dates = ["2024-03-05 21:30", "05/04/2024", "2099-01-01", "ngày 5 tháng 3 năm 2024", "1980-01-01", "45356"]
    for i in range(1, 61):
        rows.append(_row(i, case_id=f"CA-{(i * 7) % 50:03d}", category=categories[i % 6], point=points[(i // 6) % 6],
                         occurred=dates[(i // 2) % 6], status=["received", "khởi tố", "bogus"][i % 3],
                         district=["", "870", "999"][i % 3]))
    return rows


@pytest.mark.parametrize("chunk_rows", [1, 7, 60])
def test_chunked_import_equals_validating_the_whole_file_at_once(db, tmp_path, chunk_rows):
    path = _write(tmp_path, _fixture_rows())
    with db.transaction() as session:
        locator = locator_for(session)
    whole = validate_incidents(_former_reader(path), locator)
    assert whole.errors and whole.warnings and len(whole.valid) > 5  # the fixture exercises every path

    report = import_incidents(db, path, chunk_rows=chunk_rows, skip_invalid=True)
    assert [(e.row, e.field, e.value, e.reason) for e in report.errors] == \
        [(e.row, e.field, e.value, e.reason) for e in whole.errors]
    assert sorted((e.row, e.field, e.value, e.reason) for e in report.warnings) == \
        sorted((e.row, e.field, e.value, e.reason) for e in whole.warnings)
    expected = whole.valid.sort_values("id")
    stored = _stored(db)
    assert [r.id for r in stored] == expected["id"].tolist()
    assert [r.category for r in stored] == expected["category"].tolist()
    assert [r.case_status for r in stored] == expected["case_status"].tolist()
    assert [r.commune_code for r in stored] == expected["commune_code"].tolist()
    assert [bool(r.sensitive) for r in stored] == expected["sensitive"].tolist()
    assert [r.description for r in stored] == expected["description"].tolist()
    assert [pd.Timestamp(r.occurred_at) for r in stored] == list(expected["occurred_at"])
    np.testing.assert_array_equal([r.lon for r in stored], expected["lon"].to_numpy())
    np.testing.assert_array_equal([r.lat for r in stored], expected["lat"].to_numpy())


def test_arrow_reader_gives_the_former_frame(tmp_path):
    path = _write(tmp_path, _fixture_rows())
    frame = read_incident_file(path).frame()
    former = _former_reader(path)
    assert list(frame.columns) == list(former.columns)
    for column in former.columns:
        if column in ("lon", "lat"):  # numeric when every cell is a number (here lat), else text
            assert frame[column].dtype.kind == former[column].dtype.kind == ("f" if column == "lat" else "O")
            assert frame[column].tolist() == former[column].tolist()
        elif column != "row":
            assert frame[column].dtype == object
            assert frame[column].tolist() == former[column].tolist(), column
