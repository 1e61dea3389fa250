"""geo.point_table (coordinate columns of a CSV through Arrow) and geo.geojson (column-wise GeoJSON)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geo.errors import GeoInputError
from geo.geojson import feature_collection_text
from geo.point_table import ColumnError, read_point_columns


def test_only_the_coordinates_are_read_and_bad_rows_are_counted(tmp_path):
    path = tmp_path / "vu_viec.csv"
    path.write_text("\ufeffma_vu,lon,lat,mo_ta\nA,105.61,10.45,\"có, dấu phẩy\"\nB,,10.4,x\nC,105.7,abc,y\n"
                    "D,105.8,10.5,z\n", encoding="utf-8")
    table = read_point_columns(path, "lon", "lat")
    assert table.x.tolist() == [105.61, 105.8] and table.y.tolist() == [10.45, 10.5]
    assert table.n_dropped == 2 and table.delimiter == "," and table.weight is None


def test_semicolons_with_decimal_commas_and_a_weight(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("x;y;so_nguoi\n105,61;10,45;2\n105,7;10,5;3\n", encoding="utf-8")
    table = read_point_columns(path, "x", "y", "so_nguoi")
    assert table.x.tolist() == [105.61, 105.7] and table.weight.tolist() == [2.0, 3.0]


def test_missing_columns_and_weights_name_the_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("lon,lat,w\n105.1,10.2,1\n105.2,10.3,\n", encoding="utf-8")
    with pytest.raises(ColumnError, match="'kinh_do' is not a column of p.csv; columns are: lon, lat, w") as e:
        read_point_columns(path, "kinh_do", "lat")
    assert e.value.column == "kinh_do"
    with pytest.raises(ColumnError, match="'w' has 1 missing or non-numeric values"):
        read_point_columns(path, "lon", "lat", "w")
    path.write_text("lon,lat\nx,y\n", encoding="utf-8")
    with pytest.raises(GeoInputError, match="no row of p.csv has numeric lon/lat"):
        read_point_columns(path, "lon", "lat")


def test_geojson_columns_round_trip_with_nulls_and_the_crs_named():
    cells = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object)
    text = feature_collection_text(cells, {"cell_id": np.arange(2), "gi_z": np.array([1.5, np.nan]),
                                           "lisa_q": np.array(["HH", None], dtype=object),
                                           "hot": np.array([True, False])}, crs="EPSG:32648")
    document = json.loads(text)
    assert document["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32648"
    assert [f["properties"] for f in document["features"]] == [
        {"cell_id": 0, "gi_z": 1.5, "lisa_q": "HH", "hot": True},
        {"cell_id": 1, "gi_z": None, "lisa_q": None, "hot": False}]
    assert shapely.from_geojson(json.dumps(document["features"][1]["geometry"])).equals(cells[1])
    assert "crs" not in json.loads(feature_collection_text(cells, {}, crs="EPSG:4326"))
    with pytest.raises(GeoInputError, match="has 1 values for 2 features"):
        feature_collection_text(cells, {"a": np.arange(1)})
