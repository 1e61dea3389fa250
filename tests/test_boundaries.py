"""Boundary reading and validation on small polygons built here, plus the real 2024 Đồng Tháp file."""
import json
import os
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo.boundaries import (
    BoundarySet, dissolve_districts, province_outline, read_communes, read_population, simplify_for_display,
)
from geo.errors import GeoInputError

# A 2 × 2 block of 1 km squares near Cao Lãnh in UTM 48N; two districts of two communes each.
X0, Y0 = 560_000, 1_150_000
VN2000_TM3_DONG_THAP = (
    "+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    "+towgs84=-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278 "
    "+units=m +no_defs")


def find_data_dir() -> Path:
    for candidate in (os.environ.get("BANDO_DATA_DIR"), "/work/main/data", "/work/shared/data"):
        if candidate and (Path(candidate) / "boundaries" / "dong_thap_communes_2024.geojson").exists():
            return Path(candidate)
    pytest.skip("real boundary data not found (set BANDO_DATA_DIR)")


@pytest.fixture(scope="module")
def real_data_dir():
    return find_data_dir()


def block(crs="EPSG:32648", **overrides):
    rows = []
    for i, (dx, dy) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        rows.append({
            "commune_code": f"2990{i}", "commune_name": f"Xã Thử {i}", "commune_type": "xã",
            "district_code": "870" if i < 2 else "871", "district_name": "Huyện A" if i < 2 else "Huyện B",
            "province_code": "87", "province_name": "Tỉnh Đồng Tháp",
            "geometry": box(X0 + dx * 1000, Y0 + dy * 1000, X0 + dx * 1000 + 1000, Y0 + dy * 1000 + 1000),
        })
    frame = gpd.GeoDataFrame(rows, crs="EPSG:32648")
    for column, values in overrides.items():
        frame[column] = values
    return frame.to_crs(crs)


def write(frame, path, driver=None):
    """Write like GIS software does: Shapefile field names cut to 10 characters (commune_co, ...)."""
    if str(path).endswith(".shp"):
        frame = frame.rename(columns={c: c[:10] for c in frame.columns if c != "geometry"})
    frame.to_file(path, driver=driver)


def expected_wgs84():
    return block().to_crs("EPSG:4326")


@pytest.mark.parametrize("suffix,driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_reads_each_format(tmp_path, suffix, driver):
    path = tmp_path / f"communes{suffix}"
    write(block(), path, driver=driver)
    result = read_communes(path)
    assert isinstance(result, BoundarySet)
    assert result.communes.crs.to_epsg() == 4326
    assert result.communes["commune_code"].tolist() == ["29900", "29901", "29902", "29903"]
    assert list(result.communes.columns) == ["commune_code", "commune_name", "commune_type", "district_code",
                                             "district_name", "province_code", "province_name", "geometry"]
    assert result.version == "2024" and result.effective_date == date(2020, 1, 1) and result.repairs == []
    expected = expected_wgs84().geometry.values
    assert (shapely.hausdorff_distance(result.communes.geometry.values, expected) < 1e-7).all()


@pytest.mark.parametrize("crs", ["EPSG:9210", "EPSG:3405"])
def test_vn2000_files_land_where_the_wgs84_ones_do(tmp_path, crs):
    path = tmp_path / "vn2000.gpkg"
    block(crs=crs).to_file(path, driver="GPKG")
    result = read_communes(path)
    # VN-2000 ↔ WGS 84 goes through a 7-parameter Helmert both ways: round trip well under 1 m.
    got = gpd.GeoSeries(result.communes.geometry.values, crs=4326).to_crs(32648)
    assert shapely.hausdorff_distance(got.values, block().geometry.values).max() < 0.5


@pytest.mark.parametrize("crs", ["EPSG:9210", VN2000_TM3_DONG_THAP])
def test_missing_prj_needs_crs_and_crs_overrides(tmp_path, crs):
    # The usual case of a provincial VN-2000 TM-3 file: a Shapefile with no .prj, CRS given by the user.
    path = tmp_path / "noprj.shp"
    write(block(crs=crs), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(GeoInputError, match="has no CRS.*crs="):
        read_communes(path)
    result = read_communes(path, crs=crs)
    got = gpd.GeoSeries(result.communes.geometry.values, crs=4326).to_crs(32648)
    assert shapely.hausdorff_distance(got.values, block().geometry.values).max() < 0.5


def test_wrong_crs_lands_outside_vietnam(tmp_path):
    path = tmp_path / "wrong.geojson"
    frame = block()
    frame = frame.set_crs("EPSG:9210", allow_override=True)  # metres, but in TM-3 105°45′ instead of UTM
    frame.to_crs("EPSG:32648").to_file(path)
    read_communes(path)  # plausible: still in Viet Nam
    bad = tmp_path / "degrees_declared.gpkg"
    block().set_crs("EPSG:3857", allow_override=True).to_file(bad, driver="GPKG")
    with pytest.raises(GeoInputError, match="outside Viet Nam"):
        read_communes(bad)


def test_field_map_loads_official_column_names(tmp_path):
    frame = block().rename(columns={"commune_code": "MA_XA_GSO", "commune_name": "TEN", "district_code": "MAHUYEN",
                                    "district_name": "TENHUYEN", "province_code": "TINH"})
    frame = frame.drop(columns=["commune_type", "province_name"])
    path = tmp_path / "official.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(GeoInputError, match="required field.*commune_code.*province_code.*field_map"):
        read_communes(path)
    result = read_communes(path, field_map={"commune_code": "MA_XA_GSO", "province_code": "TINH"})
    assert result.communes["commune_name"].tolist()[0] == "Xã Thử 0"
    assert result.communes["commune_type"].eq("xã").all()  # derived from the name prefix
    assert result.communes["province_name"].eq("").all()
    with pytest.raises(GeoInputError, match=r"field_map\['commune_code'\] = 'NOPE' is not a column"):
        read_communes(path, field_map={"commune_code": "NOPE"})
    with pytest.raises(GeoInputError, match="field_map keys \\['colour'\\]"):
        read_communes(path, field_map={"colour": "TEN"})


def test_default_aliases_and_integer_codes_are_padded(tmp_path):
    frame = block().rename(columns={"commune_code": "ma_xa", "commune_name": "Tên xã", "district_code": "ma_huyen",
                                    "district_name": "ten_huyen", "province_code": "ma_tinh"})
    frame["ma_xa"] = [1, 2, 3, 4]
    path = tmp_path / "aliases.gpkg"
    frame.to_file(path, driver="GPKG")
    result = read_communes(path)
    assert result.communes["commune_code"].tolist() == ["00001", "00002", "00003", "00004"]


def test_duplicate_codes_refused(tmp_path):
    path = tmp_path / "dup.geojson"
    block(commune_code=["29900", "29900", "29902", "29902"]).to_file(path)
    with pytest.raises(GeoInputError, match="commune_code must be unique; repeated: 29900, 29902"):
        read_communes(path)


def test_malformed_code_refused(tmp_path):
    path = tmp_path / "code.geojson"
    block(commune_code=["29900", "2990X", "29902", "29903"]).to_file(path)
    with pytest.raises(GeoInputError, match="commune_code must be a 5-digit GSO code; got '2990X'"):
        read_communes(path)


def test_two_provinces_refused(tmp_path):
    path = tmp_path / "two.geojson"
    block(province_code=["87", "87", "82", "87"]).to_file(path)
    with pytest.raises(GeoInputError, match=r"2 provinces \(82 \(1 communes\), 87 \(3 communes\)\)"):
        read_communes(path)


def test_empty_geometry_refused(tmp_path):
    collection = json.loads(block().to_crs(4326).to_json())
    collection["features"][2]["geometry"] = None
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps(collection))
    with pytest.raises(GeoInputError, match="empty or missing for commune\\(s\\) 29902"):
        read_communes(path)


def test_points_refused(tmp_path):
    frame = block()
    frame.loc[1, "geometry"] = frame.geometry.iloc[1].centroid
    path = tmp_path / "point.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(GeoInputError, match="Polygon or MultiPolygon; got 29901 \\(Point\\)"):
        read_communes(path)


def test_invalid_geometry_is_repaired_and_reported(tmp_path):
    frame = block()
    x, y = X0 + 1000, Y0
    bowtie = Polygon([(x, y), (x + 1000, y + 1000), (x + 1000, y), (x, y + 1000), (x, y)])
    frame.loc[1, "geometry"] = bowtie
    path = tmp_path / "bowtie.gpkg"
    frame.to_file(path, driver="GPKG")
    result = read_communes(path)
    assert len(result.repairs) == 1
    assert result.repairs[0].startswith("commune 29901 (Xã Thử 1): Self-intersection")
    repaired = result.communes.geometry.iloc[1]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert shapely.is_valid(result.communes.geometry.values).all()


def test_unreadable_file(tmp_path):
    path = tmp_path / "not.geojson"
    path.write_text("hello")
    with pytest.raises(GeoInputError, match="could not be read"):
        read_communes(path)


def test_version_and_effective_date_are_kept(tmp_path):
    path = tmp_path / "c.geojson"
    block().to_file(path)
    result = read_communes(path, version="2025-01", effective_date=date(2025, 1, 1))
    assert (result.version, result.effective_date) == ("2025-01", date(2025, 1, 1))


def test_dissolve_districts_and_outline():
    communes = expected_wgs84()
    districts = dissolve_districts(communes)
    assert districts["district_code"].tolist() == ["870", "871"]
    assert districts["commune_count"].tolist() == [2, 2]
    assert districts.crs == communes.crs
    metric = districts.to_crs(32648)
    assert metric.area.round().tolist() == [2_000_000, 2_000_000]
    outline = province_outline(communes)
    assert outline.geom_type == "Polygon"
    assert gpd.GeoSeries([outline], crs=4326).to_crs(32648).area.iloc[0] == pytest.approx(4_000_000, rel=1e-6)


def test_simplify_for_display_keeps_a_coverage():
    # Two neighbours sharing a wiggly edge; the wiggles (±3 m) go, the shared edge stays shared.
    wiggle = [(X0 + 1000 + (3 if i % 2 else -3), Y0 + i * 50) for i in range(21)]
    left = Polygon([(X0, Y0)] + wiggle + [(X0, Y0 + 1000)])
    right = Polygon(wiggle + [(X0 + 2000, Y0 + 1000), (X0 + 2000, Y0)])
    frame = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[left, right], crs=32648).to_crs(4326)
    simplified = simplify_for_display(frame, 20)
    assert simplified.crs == frame.crs and simplified["name"].tolist() == ["a", "b"]
    before = shapely.get_num_coordinates(frame.geometry.values).sum()
    after = shapely.get_num_coordinates(simplified.geometry.values).sum()
    assert after <= before / 2
    assert shapely.coverage_is_valid(simplified.to_crs(32648).geometry.values)
    with pytest.raises(GeoInputError, match="tolerance_m must be a positive number"):
        simplify_for_display(frame, 0)


def test_read_population(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"commune_code": ["29900", "29901", "29902"], "population_2019": ["1200", "3.400", "0"]}).to_csv(
        path, index=False, encoding="utf-8-sig")
    result = read_population(path, boundaries=expected_wgs84(), year=2019)
    assert result["population"].tolist() == [1200, 3400, 0]
    assert result["year"].eq(2019).all()
    assert result.attrs["communes_without_population"] == ["29903"]


@pytest.mark.parametrize("value", ["-5", "many", "", "12.5"])
def test_read_population_refuses_bad_numbers(tmp_path, value):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"commune_code": ["29900", "29901"], "population": ["10", value]}).to_csv(path, index=False)
    with pytest.raises(GeoInputError, match="population must be a whole number ≥ 0; got 29901"):
        read_population(path)


def test_read_population_reports_unknown_codes(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"ma_xa": ["29900", "11111"], "dan_so": ["10", "20"]}).to_csv(path, index=False)
    with pytest.raises(GeoInputError, match="1 code\\(s\\) of the population file are not in the boundary set: 11111"):
        read_population(path, boundaries=expected_wgs84())


def test_real_2024_boundaries(real_data_dir):
    result = read_communes(real_data_dir / "boundaries" / "dong_thap_communes_2024.geojson")
    communes = result.communes
    assert len(communes) == 143 and communes["commune_code"].is_unique
    assert communes["province_code"].eq("87").all()
    assert communes["commune_type"].value_counts().to_dict() == {"xã": 115, "phường": 19, "thị trấn": 9}
    districts = dissolve_districts(result)
    assert len(districts) == 12
    assert dict(zip(districts["district_code"], districts["commune_count"]))["873"] == 18
    area_km2 = gpd.GeoSeries([province_outline(result)], crs=4326).to_crs(32648).area.iloc[0] / 1e6
    assert area_km2 == pytest.approx(3380.8, abs=1.0)
    population = read_population(real_data_dir / "population" / "dong_thap_population_2019.csv", boundaries=result)
    assert population["population"].sum() == 1_599_504
    assert population.attrs["communes_without_population"] == []
