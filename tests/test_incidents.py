"""Incident reading, validation and commune assignment, on two 1 km communes built here."""
import json
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.crs import metric_to_lonlat
from geo.errors import GeoInputError
from tests.vn_files import encode_cp1258
from geo.incidents import (
    VALID_COLUMNS, CommuneLocator, RowError, parse_dates, read_incident_table, validate_incidents,
)

X0, Y0 = 560_000, 1_150_000
TODAY = date(2025, 6, 1)


def lonlat(x, y):
    lon, lat = metric_to_lonlat([x], [y])
    return float(lon[0]), float(lat[0])


@pytest.fixture(scope="module")
def locator():
    # West: Xã Tây (87002), east: Xã Đông (87001) sharing the edge x = X0 + 1000; a third commune north.
    frame = gpd.GeoDataFrame({
        "commune_code": ["29902", "29901", "29903"],
        "commune_name": ["Xã Tây", "Xã Đông", "Xã Bắc"],
        "district_code": ["870", "870", "871"],
    }, geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
                 box(X0, Y0 + 1000, X0 + 2000, Y0 + 2000)], crs=32648).to_crs(4326)
    return CommuneLocator(frame)


WEST = lonlat(X0 + 500, Y0 + 500)
EAST = lonlat(X0 + 1500, Y0 + 500)


def row(**overrides):
    base = {"id": "A-1", "occurred_at": "2024-03-05", "reported_at": "2024-03-06", "category": "theft",
            "severity": "less_serious", "case_status": "received", "lon": str(WEST[0]), "lat": str(WEST[1]),
            "description": "", "sensitive": ""}
    base.update(overrides)
    return base


def validate(rows, locator):
    return validate_incidents(pd.DataFrame(rows), locator, today=TODAY)


def only_error(result) -> RowError:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


def test_good_row_is_normalised(locator):
    result = validate([row(), row(id="A-2", lon=str(EAST[0]), lat=str(EAST[1]), category="Ma túy",
                              severity="Rất nghiêm trọng", case_status="khám phá", article="Điều 251",
                              clause="khoản 2", description="  vận chuyển  ")], locator)
    assert result.errors == []
    valid = result.valid
    assert list(valid.columns) == VALID_COLUMNS
    assert valid["row"].tolist() == [1, 2]
    assert valid["commune_code"].tolist() == ["29902", "29901"]
    assert valid["district_code"].tolist() == ["870", "870"]
    assert valid["category"].tolist() == ["theft", "drugs"]
    assert valid["severity"].tolist() == ["less_serious", "very_serious"]
    assert valid["case_status"].tolist() == ["received", "cleared"]
    assert valid["occurred_at"].iloc[0] == pd.Timestamp("2024-03-05")
    assert (valid["article"].tolist(), valid["clause"].tolist()) == (["", "251"], ["", "2"])
    assert valid["sensitive"].tolist() == [False, False]


@pytest.mark.parametrize("field", ["id", "occurred_at", "category", "severity", "case_status", "lon", "lat"])
def test_missing_required_value(locator, field):
    error = only_error(validate([row(**{field: ""})], locator))
    assert (error.row, error.field, error.value) == (1, field, "")
    assert error.reason.startswith("required value is empty")


def test_missing_required_column(locator):
    with pytest.raises(GeoInputError, match="required column\\(s\\) severity not found"):
        validate_incidents(pd.DataFrame([row()]).drop(columns="severity"), locator)


@pytest.mark.parametrize("value", ["2024-02-30", "31/13/2024", "hôm qua", "2024/03"])
def test_bad_date(locator, value):
    error = only_error(validate([row(occurred_at=value, reported_at="")], locator))
    assert (error.field, error.value) == ("occurred_at", value)
    assert error.reason.startswith("expected a date like 2024-03-05")


def test_future_and_ancient_dates(locator):
    result = validate([row(occurred_at="2025-06-02", reported_at=""), row(id="B", occurred_at="1985-01-01")], locator)
    assert [(e.row, e.reason) for e in result.errors] == [
        (1, "date is in the future (after 01/06/2025)"), (2, "date is before 01/01/1990")]
    # The same reasons keep their parameters, so the import page words them in Vietnamese too.
    assert [e.message.text("vi") for e in result.errors] == [
        "ngày ở tương lai (sau 01/06/2025)", "ngày trước 01/01/1990"]


@pytest.mark.parametrize("value,expected", [
    ("2024-03-05", "2024-03-05 00:00"), ("2024-03-05 14:30", "2024-03-05 14:30"),
    ("2024-03-05T14:30:00+07:00", "2024-03-05 14:30"), ("2024-03-05T07:30:00Z", "2024-03-05 14:30"),
    ("05/03/2024", "2024-03-05 00:00"), ("5-3-2024", "2024-03-05 00:00"), ("05.03.2024 14h30", "2024-03-05 14:30"),
    ("ngày 5 tháng 3 năm 2024", "2024-03-05 00:00"), ("Ngày 05 Tháng 03 Năm 2024", "2024-03-05 00:00"),
    ("ngay 5 thang 3 nam 2024 luc 14 gio 30", "2024-03-05 14:30"), (" 2024-03-05 ", "2024-03-05 00:00"),
])
def test_date_forms(value, expected):
    stamps, blank = parse_dates(pd.Series([value, "2024-01-01"]))
    assert stamps.iloc[0].strftime("%Y-%m-%d %H:%M") == expected
    assert not blank.any()


def test_reported_before_occurred(locator):
    result = validate([
        row(occurred_at="2024-03-05", reported_at="2024-03-04"),
        row(id="B", occurred_at="05/03/2024 14:30", reported_at="05/03/2024 10:00"),
        row(id="C", occurred_at="05/03/2024 14:30", reported_at="05/03/2024"),  # same day, no time: accepted
    ], locator)
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (1, "reported_at", "reported before it occurred (occurred_at 2024-03-05)"),
        (2, "reported_at", "reported before it occurred (occurred_at 05/03/2024 14:30)")]
    assert result.valid["id"].tolist() == ["C"]


def test_unknown_category_severity_status(locator):
    result = validate([row(category="xyz"), row(id="B", severity="nhẹ"), row(id="C", case_status="closed")], locator)
    assert [(e.row, e.field, e.value) for e in result.errors] == [
        (1, "category", "xyz"), (2, "severity", "nhẹ"), (3, "case_status", "closed")]
    assert result.errors[0].reason.startswith("not a known offence name (codes: homicide, assault")
    assert result.errors[1].reason.startswith("not one of: less_serious, serious")
    assert result.valid.empty


@pytest.mark.parametrize("lon,lat,field,reason", [
    ("abc", "10.4", "lon", "not a number (decimal degrees, e.g. 105.6321)"),
    ("105.6", "x", "lat", "not a number (decimal degrees, e.g. 10.4567)"),
    ("205.6", "10.4", "lon", "out of range −180…180"),
    ("105.6", "-95", "lat", "out of range −90…90"),
    ("10.4", "105.6", "lat", "out of range −90…90; lon and lat look swapped"),
])
def test_bad_lon_lat(locator, lon, lat, field, reason):
    error = only_error(validate([row(lon=lon, lat=lat)], locator))
    assert (error.field, error.reason) == (field, reason)


def test_decimal_comma_accepted(locator):
    result = validate([row(lon=str(WEST[0]).replace(".", ","), lat=str(WEST[1]).replace(".", ","))], locator)
    assert result.errors == [] and result.valid["commune_code"].tolist() == ["29902"]


def test_outside_province_with_distance_to_nearest(locator):
    lon, lat = lonlat(X0 + 2000 + 3200, Y0 + 500)  # 3.2 km east of Xã Đông
    error = only_error(validate([row(lon=str(lon), lat=str(lat))], locator))
    assert error.field == "lon/lat"
    assert error.value == f"{lon}, {lat}"
    assert error.reason == "outside the province: 3.2 km from Xã Đông"
    near = lonlat(X0 - 250, Y0 + 500)
    assert only_error(validate([row(lon=str(near[0]), lat=str(near[1]))], locator)).reason == \
        "outside the province: 250 m from Xã Tây"


def test_duplicate_ids(locator):
    result = validate([row(), row(), row(id="B"), row()], locator)
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (2, "id", "id already used on row 1"), (4, "id", "id already used on row 1")]
    assert result.valid["row"].tolist() == [1, 3]


def test_sensitive_default_and_explicit(locator):
    result = validate([row(category="Mua bán người"), row(id="B", category="mua ban nguoi", sensitive="không"),
                       row(id="C", sensitive="có"), row(id="D", sensitive="maybe")], locator)
    assert only_error(result).field == "sensitive"
    assert result.valid["sensitive"].tolist() == [True, False, True]


def test_several_errors_of_one_row_all_reported(locator):
    result = validate([row(occurred_at="bad", category="xyz", lon="abc")], locator)
    assert [e.field for e in result.errors] == ["occurred_at", "category", "lon"]
    assert result.refused_rows == [1]


def test_district_hint_mismatch_is_a_warning(locator):
    result = validate([row(district_code="871"), row(id="B", district_code="870")], locator)
    assert result.errors == [] and len(result.valid) == 2
    assert [(w.row, w.field) for w in result.warnings] == [(1, "district_code")]


def test_points_on_shared_edges_go_to_the_lowest_code():
    # Squares in degrees so the shared edge lon = 105.5 and the corner are exactly representable.
    frame = gpd.GeoDataFrame({
        "commune_code": ["29905", "29904", "29906"], "commune_name": ["Tây", "Đông", "Bắc"],
    }, geometry=[box(105.4, 10.4, 105.5, 10.5), box(105.5, 10.4, 105.6, 10.5), box(105.4, 10.5, 105.6, 10.6)],
        crs=4326)
    points = [(105.5, 10.45), (105.5, 10.5), (105.45, 10.5), (105.5, 10.4)]
    expected = ["29904", "29904", "29905", "29904"]
    for communes in (frame, frame.iloc[::-1].reset_index(drop=True), frame.iloc[[1, 2, 0]]):
        locator = CommuneLocator(communes)
        for order in (slice(None), slice(None, None, -1)):
            got = locator.assign([p[0] for p in points][order], [p[1] for p in points][order]).commune_code
            assert list(got) == expected[order]


def test_assign_handles_nan_and_outside(locator):
    result = locator.assign([np.nan, WEST[0], 100.0], [10.0, WEST[1], 10.0])
    assert list(result.commune_code) == [None, "29902", None]
    assert np.isnan(result.distance_m[0]) and result.distance_m[1] == 0 and result.distance_m[2] > 500_000
    assert list(result.nearest_name) == [None, "Xã Tây", "Xã Tây"]
    assert list(result.commune_index) == [-1, 1, -1]


# ------------------------------------------------------------------------------------------- readers

def sample_rows():
    return [row(), row(id="007", category="Trộm cắp tài sản", occurred_at="05/03/2024", reported_at="")]


def test_read_csv_utf8_and_bom(tmp_path, locator):
    for encoding in ("utf-8", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        pd.DataFrame(sample_rows()).to_csv(path, index=False, encoding=encoding)
        raw = read_incident_table(path)
        assert raw["row"].tolist() == [1, 2]
        assert raw["id"].tolist() == ["A-1", "007"]  # zeros kept
        assert raw["category"].tolist()[1] == "Trộm cắp tài sản"
        result = validate_incidents(raw, locator, today=TODAY)
        assert result.errors == [] and result.valid["commune_code"].tolist() == ["29902", "29902"]


def test_read_csv_aliases_and_field_map(tmp_path, locator):
    frame = pd.DataFrame(sample_rows()).rename(columns={
        "id": "Mã vụ", "occurred_at": "Ngày xảy ra", "category": "Loại tội phạm", "severity": "Mức độ",
        "case_status": "Tình trạng", "lon": "Kinh độ", "lat": "Vĩ độ", "reported_at": "SO_NGAY"})
    path = tmp_path / "vn.csv"
    frame.to_csv(path, index=False)
    raw = read_incident_table(path, field_map={"reported_at": "SO_NGAY"})
    assert {"id", "occurred_at", "category", "severity", "case_status", "lon", "lat", "reported_at"} <= set(raw.columns)
    assert validate_incidents(raw, locator, today=TODAY).errors == []


def test_read_csv_with_a_bad_coordinate_keeps_text(tmp_path, locator):
    path = tmp_path / "bad.csv"
    pd.DataFrame([row(), row(id="B", lon="abc")]).to_csv(path, index=False)
    result = validate_incidents(read_incident_table(path), locator, today=TODAY)
    assert [(e.row, e.field, e.value) for e in result.errors] == [(2, "lon", "abc")]


def test_read_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,category\n1,Trộm\n".encode("utf-16"))
    with pytest.raises(GeoInputError, match="neither UTF-8 nor Windows-1258"):
        read_incident_table(path)


def _semicolon_csv(rows) -> str:
    """A CSV as a Vietnamese-locale Excel saves it: ';' between fields, decimal commas."""
    frame = pd.DataFrame(rows)
    for column in ("lon", "lat"):
        frame[column] = frame[column].str.replace(".", ",", regex=False)
    return frame.to_csv(index=False, sep=";")


def test_read_semicolon_csv_in_windows_1258(tmp_path, locator):
    rows = [row(description="Trộm xe máy ở Phường 11"), row(id="007", category="Trộm cắp tài sản")]
    path = tmp_path / "cp1258.csv"
    text = _semicolon_csv(rows)
    path.write_bytes(encode_cp1258(text))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    raw = read_incident_table(path)
    assert raw.attrs["encoding"] == "cp1258" and raw.attrs["delimiter"] == ";"
    assert raw["description"].tolist()[0] == "Trộm xe máy ở Phường 11"  # composed again (NFC)
    result = validate_incidents(raw, locator, today=TODAY)
    assert result.errors == []
    assert result.valid["category"].tolist() == ["theft", "theft"]
    assert result.valid["lon"].tolist() == pytest.approx([WEST[0]] * 2)


def test_read_utf8_semicolon_and_tab_csv(tmp_path, locator):
    for name, delimiter in (("semi.csv", ";"), ("tab.csv", "\t")):
        path = tmp_path / name
        pd.DataFrame(sample_rows()).to_csv(path, index=False, sep=delimiter, encoding="utf-8")
        raw = read_incident_table(path)
        assert raw.attrs == {"encoding": "utf-8", "delimiter": delimiter}
        assert validate_incidents(raw, locator, today=TODAY).errors == []


def test_read_csv_that_is_neither_utf8_nor_1258_is_refused(tmp_path):
    # Not UTF-8, and as Windows-1258 a run of symbols no Vietnamese text holds.
    path = tmp_path / "symbols.csv"
    path.write_bytes(b"id,category\n1," + bytes([0x83, 0x84, 0x86, 0x87, 0x89, 0x8b, 0x99, 0xa9, 0xae]) + b"\n")
    with pytest.raises(GeoInputError, match="neither UTF-8 nor Windows-1258.*ƒ"):
        read_incident_table(path)


def test_garbled_names_in_utf8_are_caught_by_the_strict_check():
    from geo.textencoding import decode_vietnamese, garbled_characters

    # UTF-8 saved twice over (UTF-8 read as ISO-8859-1, saved as UTF-8): valid UTF-8, garbled text.
    double = "Phường 11".encode("utf-8").decode("latin-1")
    assert garbled_characters(double) and not garbled_characters("Phường 11, Thị trấn Mỹ Thọ")
    assert decode_vietnamese(double.encode("utf-8"))[1] == "utf-8"  # free text: any character may occur
    with pytest.raises(GeoInputError, match="neither UTF-8 nor Windows-1258"):
        decode_vietnamese(double.encode("utf-8"), strict_text=True)


def test_read_csv_with_a_given_encoding(tmp_path, locator):
    path = tmp_path / "given.csv"
    path.write_bytes(encode_cp1258(pd.DataFrame(sample_rows()).to_csv(index=False)))
    assert read_incident_table(path, encoding="cp1258").attrs["encoding"] == "cp1258"
    with pytest.raises(GeoInputError, match="not UTF-8 text.*--encoding"):
        read_incident_table(path, encoding="utf-8")
    with pytest.raises(GeoInputError, match="'klingon' is not an encoding"):
        read_incident_table(path, encoding="klingon")


def test_excel_serial_dates_in_csv_and_xlsx(tmp_path, locator):
    from openpyxl import Workbook

    path = tmp_path / "serial.csv"
    pd.DataFrame([row(occurred_at="45356", reported_at="45357.75")]).to_csv(path, index=False)
    result = validate_incidents(read_incident_table(path), locator, today=TODAY)
    assert result.errors == []
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp("2024-03-05")
    assert result.valid["reported_at"].iloc[0] == pd.Timestamp("2024-03-06 18:00")

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "occurred_at", "category", "severity", "case_status", "lon", "lat"])
    sheet.append(["X-1", 45356.5, "theft", "serious", "received", WEST[0], WEST[1]])  # a date cell in General format
    sheet.append(["X-2", 2024, "theft", "serious", "received", WEST[0], WEST[1]])     # a year is not a date
    workbook.save(tmp_path / "serial.xlsx")
    result = validate_incidents(read_incident_table(tmp_path / "serial.xlsx"), locator, today=TODAY)
    assert result.valid["occurred_at"].tolist() == [pd.Timestamp("2024-03-05 12:00")]
    assert [(e.row, e.field, e.value) for e in result.errors] == [(2, "occurred_at", "2024")]
    assert "Excel date number" in result.errors[0].reason


def test_parse_dates_reads_numeric_columns_as_excel_serials():
    stamps, blank = parse_dates(pd.Series([45356.0, 45292.25, np.nan, 12.0]))
    assert stamps.tolist()[:2] == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-01-01 06:00")]
    assert stamps.isna().tolist() == [False, False, True, True]
    assert blank.tolist() == [False, False, True, False]


def test_read_xlsx_with_native_cells(tmp_path, locator):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat"])
    sheet.append([1001, datetime(2024, 3, 5, 14, 30), "06/03/2024", "Trộm cắp", "ít nghiêm trọng", "Tiếp nhận",
                  WEST[0], WEST[1]])
    sheet.append([None] * 8)  # a formatted empty row at the end is skipped
    path = tmp_path / "x.xlsx"
    workbook.save(path)
    raw = read_incident_table(path)
    assert raw["row"].tolist() == [1]
    assert raw["id"].tolist() == ["1001"]
    result = validate_incidents(raw, locator, today=TODAY)
    assert result.errors == []
    assert result.valid["occurred_at"].iloc[0] == pd.Timestamp("2024-03-05 14:30")


def test_read_geojson_points(tmp_path, locator):
    features = [
        {"type": "Feature", "id": "G-1", "geometry": {"type": "Point", "coordinates": list(WEST)},
         "properties": {k: v for k, v in row().items() if k not in ("id", "lon", "lat")}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [list(WEST), list(EAST)]},
         "properties": {**{k: v for k, v in row().items() if k not in ("lon", "lat")}, "id": "G-2"}},
    ]
    path = tmp_path / "x.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    raw = read_incident_table(path)
    result = validate_incidents(raw, locator, today=TODAY)
    assert result.valid["id"].tolist() == ["G-1"]
    assert [(e.row, e.field, e.value) for e in result.errors] == [
        (2, "lon", "<LineString geometry>"), (2, "lat", "<LineString geometry>")]


def test_read_unknown_extension(tmp_path):
    path = tmp_path / "x.pdf"
    path.write_text("x")
    with pytest.raises(GeoInputError, match="'.pdf' is not one of: .csv, .xlsx, .geojson"):
        read_incident_table(path)


def test_native_frame_from_a_generator(locator):
    frame = pd.DataFrame([row()])
    frame["lon"], frame["lat"] = WEST
    frame["occurred_at"] = pd.Timestamp("2024-03-05 08:00")
    frame["reported_at"] = pd.Timestamp("2024-03-05 09:00")
    frame["sensitive"] = False
    result = validate_incidents(frame, locator, today=TODAY)
    assert result.errors == [] and result.valid["row"].tolist() == [1]


# --------------------------------------------------------------------------------------- offence names

def test_category_from_the_article_when_empty(locator):
    rows = [row(id="A", category="", article="Điều 321"), row(id="B", category="", article="Đ.249"),
            row(id="C", category="", article="173"), row(id="D", category="Điều 174"),
            row(id="E", category="", article="khoản 2 Điều 150")]
    result = validate(rows, locator)
    assert result.errors == []
    assert result.valid["category"].tolist() == ["gambling", "drugs", "theft", "fraud", "human_trafficking"]
    assert result.valid["article"].tolist() == ["321", "249", "173", "", "150"]
    assert result.valid["sensitive"].tolist() == [False, False, False, False, True]  # trafficking by default


def test_empty_category_with_an_article_outside_the_table_is_refused(locator):
    result = validate([row(category="", article="Điều 128"), row(id="B", category="", article="")], locator)
    assert [(e.row, e.field) for e in result.errors] == [(1, "category"), (2, "category")]
    assert "article 128 is not in the table of articles" in result.errors[0].reason
    assert result.errors[1].reason.startswith("required value is empty")


def test_unknown_offence_name_names_the_closest_known_ones(locator):
    result = validate([row(category="Trộm cắp tài sả"), row(id="B", category="đánh bạc bóng đá")], locator)
    assert [e.row for e in result.errors] == [1, 2]
    assert "closest known: Trộm cắp tài sản (theft)" in result.errors[0].reason
    assert "(gambling)" in result.errors[1].reason


def test_category_that_disagrees_with_the_article_is_kept_with_a_warning(locator):
    result = validate([row(category="Ma túy", article="Điều 173")], locator)
    assert result.errors == [] and result.valid["category"].tolist() == ["drugs"]
    assert [(w.field, w.value) for w in result.warnings] == [("category", "Ma túy")]
    assert "article 173 is theft" in result.warnings[0].reason


def _category_map(tmp_path, text, name="ten_rieng.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_office_category_map_adds_names_and_articles(tmp_path, locator):
    from geo.offences import read_category_map

    path = _category_map(tmp_path, "ten;loai\nChích điện cá;Môi trường\nkhai thác cát trái phép;environment\n"
                                   "Điều 227;environment\nbài cào;Đánh bạc\n")
    category_map = read_category_map(path)
    assert category_map.entries() == [("Chích điện cá", "environment"), ("khai thác cát trái phép", "environment"),
                                      ("bài cào", "gambling"), ("Điều 227", "environment")]
    rows = [row(id="A", category="chich dien ca"), row(id="B", category="BÀI CÀO"),
            row(id="C", category="", article="Điều 227"), row(id="D", category="khai thac cat")]
    without = validate(rows, locator)
    assert [e.row for e in without.errors] == [1, 2, 4]
    assert without.valid["category"].tolist() == ["corruption_economic"]  # Art. 227 is in chapter XVIII
    result = validate_incidents(pd.DataFrame(rows), locator, today=TODAY, category_map=category_map)
    assert [e.row for e in result.errors] == [4]
    assert "khai thác cát trái phép (environment)" in result.errors[0].reason  # office names are suggested too
    assert result.valid["category"].tolist() == ["environment", "gambling", "environment"]  # the office's choice


@pytest.mark.parametrize("text, message", [
    ("ten,loai\nTrộm cắp tài sản,drugs\n", "already means theft"),
    ("ten,loai\nbài cào,đồ chơi\n", "category 'đồ chơi' is not one of the categories"),
    ("ten,loai\nbài cào,\n", "both the name and the category are needed"),
    ("tên tội,nhóm x\nbài cào,gambling\n", "must have a 'name' and a 'category' column"),
])
def test_bad_category_maps_are_refused_with_the_line(tmp_path, text, message):
    from geo.offences import read_category_map

    with pytest.raises(GeoInputError, match=message):
        read_category_map(_category_map(tmp_path, text))
