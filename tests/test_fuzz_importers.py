"""Property tests of the incident import (hypothesis): garbage files, odd structures and odd cells never crash
it, never leave part of a file written, and never refuse a valid row.

The pipeline under test is the real one: ``store.importing.import_incidents`` (``read_incident_table`` →
``validate_incidents`` → one transaction) and the ``import-incidents`` command on top of it. A refused file
must end in a :class:`geo.errors.GeoInputError` (a clear message) or an :class:`ImportReport` naming the
rows; the number of stored incidents changes only when the report says the import was committed.

Runs are deterministic (``derandomize=True``) and small, so the suite stays fast on CI.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, text

from geo import taxonomy
from geo.errors import GeoInputError
from store.importing import ImportReport, import_incidents
from tests.conftest import drop_app_database, make_app

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FIELDS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat", "sensitive",
          "description", "article", "clause", "district_code"]
HEADER = FIELDS[:9] + ["description"]
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, template_db, data_dir):
    app = make_app(tmp_path_factory.mktemp("fuzz-import"), template_db, data_dir)
    yield app
    drop_app_database(app)


@pytest.fixture(scope="module")
def inside_points(fuzz_app):
    """One point well inside each commune (representative point), for rows that must be accepted."""
    from store.boundaries import communes_frame

    with fuzz_app.extensions["db"].transaction() as session:
        communes = communes_frame(session)
    points = communes.geometry.representative_point()
    return [(round(p.x, 6), round(p.y, 6)) for p in points]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-files")


def count(app) -> int:
    with app.extensions["db"].transaction() as session:
        return session.execute(text("SELECT count(*) FROM incidents")).scalar()


def run_import(app, path: Path, **options):
    """The import's outcome: an ImportReport or the GeoInputError it raised (any other exception fails)."""
    before = count(app)
    try:
        outcome = import_incidents(app.extensions["db"], path, **options)
    except GeoInputError as error:
        outcome = error
    after = count(app)
    if isinstance(outcome, ImportReport) and outcome.committed:
        assert 0 <= after - before <= outcome.written
    else:
        assert after == before, f"nothing may be written when the import is refused ({outcome})"
    if isinstance(outcome, GeoInputError):
        assert str(outcome).strip(), "a refusal must say why"
    return outcome


def write(workdir: Path, suffix: str, content: bytes | str) -> Path:
    path = Path(tempfile.mkstemp(suffix=suffix, dir=workdir)[1])
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ strategies

cell = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "nan", "NaN", "None", "null", "-", "0", "1e309",
                                                        "inf", "-inf", "105,63", "10.5", "2024-02-30",
                                                        "ngày 31 tháng 2 năm 2024", "=1+1", "\ufeff", "\x00"]))
header_names = st.lists(st.one_of(st.sampled_from(FIELDS + ["row", "lon ", " LAT", "Mã vụ", "x", "y"]),
                                  st.text(min_size=1, max_size=12)), min_size=1, max_size=14)


def _labels(entries) -> list[str]:
    return [s for e in entries.values() for s in (e.code, e.label_vi, e.label_en)]


def date_text(day: date, form: int) -> str:
    return [day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d-%m-%Y"),
            f"ngày {day.day} tháng {day.month} năm {day.year}", f"{day.isoformat()} 08:30"][form]


@st.composite
def valid_rows(draw, points, n_max=6):
    """Rows every rule accepts: known terms in any spelling, dates in any accepted form, points inside."""
    rows = []
    for _ in range(draw(st.integers(1, n_max))):
        # From the first day of the loaded boundary set (an earlier date is refused: no set covers it).
        occurred = draw(st.dates(date(2020, 1, 1), date(2024, 12, 31)))
        reported = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda d, o=occurred: o + timedelta(days=d))))
        lon, lat = draw(st.sampled_from(points))
        rows.append([
            f"FZ-{next(_ids):06d}-{draw(st.text('abcXYZ09_-', max_size=6))}",
            date_text(occurred, draw(st.integers(0, 4))),
            "" if reported is None else date_text(min(reported, date(2024, 12, 31)), 0),
            draw(st.sampled_from(_labels(taxonomy.CATEGORIES))),
            draw(st.sampled_from(_labels(taxonomy.SEVERITIES))),
            draw(st.sampled_from(_labels(taxonomy.CASE_STATUSES))),
            draw(st.sampled_from([repr(lon), f"{lon:.5f}", f"{lon:.4f}".replace(".", ",")])),
            draw(st.sampled_from([repr(lat), f"{lat:.5f}"])),
            draw(st.sampled_from(["", "có", "không", "1", "0", "true", "false", "x"])),
            draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), max_size=40)),
        ])
    return rows


# ------------------------------------------------------------------------------------------ garbage files


@FUZZ
@given(content=st.binary(max_size=600))
@example(content=b"")
@example(content=b"\xff\xfe\x00\x00")
@example(content=b"id,occurred_at\n\"unterminated")
@example(content=b"\x00\x00,\n")
def test_garbage_csv_bytes_are_refused_cleanly(fuzz_app, workdir, content):
    run_import(fuzz_app, write(workdir, ".csv", content))


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b)))
@example(content=b"")  # found: zipfile.BadZipFile escaped read_incident_table (a traceback in the command)
@example(content=b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
def test_garbage_xlsx_bytes_are_refused_cleanly(fuzz_app, workdir, content):
    run_import(fuzz_app, write(workdir, ".xlsx", content))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
geometries = st.one_of(json_values, st.fixed_dictionaries({
    "type": st.sampled_from(["Point", "LineString", "Polygon", "", "point"]),
    "coordinates": st.one_of(json_values, st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=4)),
                                                   max_size=3))}))
features = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": geometries},
                                 optional={"properties": st.one_of(json_values, st.dictionaries(
                                     st.sampled_from(FIELDS), json_values, max_size=8)), "id": json_values})


@FUZZ
@given(document=st.one_of(json_values, st.fixed_dictionaries(
    {"type": st.just("FeatureCollection"), "features": st.one_of(json_values, st.lists(features, max_size=4))})))
# found: features that are not objects, a 'features' object, a scalar 'coordinates' and a top-level array
# raised AttributeError/TypeError instead of a message
@example(document={"type": "FeatureCollection", "features": [None]})
@example(document={"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": []}]})
@example(document={"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": 5}}]})
@example(document={"type": "FeatureCollection", "features": {"a": 1}})
@example(document=[1, 2])
def test_random_geojson_structures_are_refused_cleanly(fuzz_app, workdir, document):
    run_import(fuzz_app, write(workdir, ".geojson", json.dumps(document)))


@FUZZ
@given(header=header_names, rows=st.lists(st.lists(cell, max_size=15), max_size=5))
def test_random_csv_tables_are_refused_or_reported(fuzz_app, workdir, header, rows):
    outcome = run_import(fuzz_app, write(workdir, ".csv", csv_text(header, rows)))
    if isinstance(outcome, ImportReport) and not outcome.committed:
        assert outcome.errors and all(e.field and e.reason for e in outcome.errors)


@FUZZ
@given(header=header_names, rows=st.lists(st.lists(st.one_of(cell, st.integers(), st.floats(allow_nan=True),
                                                             st.datetimes(), st.booleans(), st.none()),
                                                   max_size=15), max_size=4))
def test_random_xlsx_workbooks_are_refused_or_reported(fuzz_app, workdir, header, rows):
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook()
    sheet = workbook.active
    try:
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    except (IllegalCharacterError, ValueError):
        return  # a workbook Excel itself could not hold
    buffer = io.BytesIO()
    workbook.save(buffer)
    run_import(fuzz_app, write(workdir, ".xlsx", buffer.getvalue()))


# ------------------------------------------------------------------------------------------ cell values


@pytest.mark.parametrize("field_name", FIELDS)
def test_any_value_in_one_field_gives_a_report_naming_it(fuzz_app, workdir, inside_points, field_name):
    """A valid row with one field replaced by anything: accepted, or refused naming that field."""

    @FUZZ
    @given(rows=valid_rows(inside_points, n_max=1), value=cell)
    def check(rows, value):
        header = HEADER + [f for f in ("article", "clause", "district_code") if f not in HEADER]
        row = rows[0] + ["", "", ""]
        row[header.index(field_name)] = value
        outcome = run_import(fuzz_app, write(workdir, ".csv", csv_text(header, [row])))
        assert isinstance(outcome, ImportReport), f"{field_name}={value!r} raised {outcome}"
        fields = {e.field for e in outcome.errors}
        assert fields <= {field_name, "lon/lat", "reported_at"}, f"{field_name}={value!r}: {outcome.error_lines()}"
        assert outcome.committed == (not outcome.errors)

    check()


# ------------------------------------------------------------------------------------------ valid rows


@FUZZ
@given(data=st.data())
def test_valid_rows_are_never_refused(fuzz_app, workdir, inside_points, data):
    rows = data.draw(valid_rows(inside_points))
    suffix = data.draw(st.sampled_from([".csv", ".xlsx", ".geojson"]))
    if suffix == ".csv":
        content = csv_text(HEADER, rows)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.active.append(HEADER)
        for row in rows:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    else:
        content = json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": row[0], "geometry": {"type": "Point", "coordinates": [
                float(row[6].replace(",", ".")), float(row[7])]},
             "properties": dict(zip(HEADER[1:6] + HEADER[8:], row[1:6] + row[8:]))} for row in rows]})
    before = count(fuzz_app)
    outcome = run_import(fuzz_app, write(workdir, suffix, content))
    assert isinstance(outcome, ImportReport) and outcome.committed, outcome
    assert outcome.errors == [], outcome.error_lines()
    assert count(fuzz_app) == before + len(rows)
    query = text("SELECT id, description FROM incidents WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    with fuzz_app.extensions["db"].transaction() as session:
        stored = dict(session.execute(query, {"ids": [r[0] for r in rows]}).all())
    assert set(stored) == {r[0] for r in rows}
    # spaces around a cell are not kept (CSV skipinitialspace, spreadsheet cells stripped)
    assert {k: v.strip() for k, v in stored.items()} == {r[0]: r[9].strip() for r in rows}


@FUZZ
@given(data=st.data())
def test_a_bad_row_among_valid_ones_writes_nothing_unless_skipping(fuzz_app, workdir, inside_points, data):
    rows = data.draw(valid_rows(inside_points, n_max=4))
    bad = list(rows[0])
    bad[0] = f"FZ-BAD-{next(_ids)}"
    bad[data.draw(st.sampled_from([1, 3, 4, 5, 6, 7]))] = data.draw(st.sampled_from(["", "không rõ", "9999", "abc"]))
    position = data.draw(st.integers(0, len(rows)))
    table = rows[:position] + [bad] + rows[position:]
    path = write(workdir, ".csv", csv_text(HEADER, table))
    before = count(fuzz_app)
    refused = run_import(fuzz_app, path)
    assert isinstance(refused, ImportReport) and not refused.committed
    assert {e.row for e in refused.errors} == {position + 1}, refused.error_lines()
    assert count(fuzz_app) == before
    skipped = run_import(fuzz_app, path, skip_invalid=True)
    assert skipped.committed and skipped.written == len(rows)
    assert count(fuzz_app) == before + len(rows)


# ------------------------------------------------------------------------------------------ the command


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(suffix=st.sampled_from([".csv", ".xlsx", ".geojson", ".json", ".txt"]),
       content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
@example(suffix=".csv", content=b"id,occurred_at,category,severity,case_status,lon,lat\n1,x,y,z,w,v,u\n")
def test_the_command_never_shows_a_traceback(fuzz_app, workdir, suffix, content):
    path = write(workdir, suffix, content)
    before = count(fuzz_app)
    result = fuzz_app.test_cli_runner().invoke(args=["import-incidents", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert count(fuzz_app) == before


# ------------------------------------------------------------------------------------------ regressions


def test_regression_xlsx_that_is_not_a_zip_is_a_clear_command_error(fuzz_app, workdir):
    path = write(workdir, ".xlsx", b"id,occurred_at\n1,2024-01-01\n")
    result = fuzz_app.test_cli_runner().invoke(args=["import-incidents", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "could not be read as XLSX" in result.output


@pytest.mark.parametrize("document, words", [
    ({"type": "FeatureCollection", "features": [None]}, "feature 1 is not a GeoJSON Feature"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.6, 10.4]}},
                                                {"type": "Feature", "properties": [1]}]}, "feature 2 is not"),
    ({"type": "FeatureCollection", "features": {"a": 1}}, "'features' is a dict, not a list"),
    ([1, 2], "type 'list' is not 'FeatureCollection'"),
])
def test_regression_malformed_geojson_names_the_problem(workdir, document, words):
    from geo.incidents import read_incident_table

    with pytest.raises(GeoInputError, match=words):
        read_incident_table(write(workdir, ".geojson", json.dumps(document)))


def test_regression_scalar_point_coordinates_are_a_row_error(fuzz_app, workdir):
    document = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "G-1", "geometry": {
        "type": "Point", "coordinates": 5}, "properties": {"occurred_at": "2024-01-01", "category": "theft",
                                                           "severity": "less_serious", "case_status": "received"}}]}
    outcome = run_import(fuzz_app, write(workdir, ".geojson", json.dumps(document)))
    assert isinstance(outcome, ImportReport) and not outcome.committed
    assert {e.field for e in outcome.errors} == {"lon", "lat"}


# ------------------------------------------------------------------------------------------ key-area shapes

kml_texts = st.builds(
    lambda ring, extra: ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
                         f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing>"
                         f"</outerBoundaryIs>{extra}</Polygon></Placemark></kml>"),
    st.lists(st.one_of(st.tuples(st.floats(), st.floats()).map(lambda p: f"{p[0]},{p[1]}"), st.text(max_size=8)),
             max_size=8).map(" ".join),
    st.sampled_from(["", "<innerBoundaryIs></innerBoundaryIs>", "<outerBoundaryIs/>", "<Polygon/>"]))


@FUZZ
@given(name=st.sampled_from(["a.geojson", "a.json", "a.kml", "a.KML", "a.shp", ""]),
       content=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                         st.fixed_dictionaries({"type": st.sampled_from(["FeatureCollection", "Feature", "Polygon",
                                                                          "MultiPolygon", "Point"]),
                                                "features": json_values, "geometry": json_values,
                                                "coordinates": json_values}).map(lambda v: json.dumps(v).encode()),
                         kml_texts.map(str.encode)))
@example(name="a.geojson", content=b'{"type": "FeatureCollection", "features": {"a": 1}}')
@example(name="a.geojson", content=b'{"type": "FeatureCollection", "features": [[1, 2]]}')
@example(name="a.geojson", content=b'{"type": "Feature", "geometry": [1, 2]}')
def test_key_area_files_are_read_or_refused_cleanly(name, content):
    """An uploaded key-area shape (GeoJSON/KML) gives a polygon or a GeoInputError, nothing else."""
    from shapely.geometry import box

    from geo.key_area_geometry import check_area_geometry, read_area_file

    try:
        geometry = read_area_file(name, content)
        check_area_geometry(geometry, box(105.0, 10.0, 106.0, 11.0))
    except GeoInputError as error:
        assert str(error).strip()
