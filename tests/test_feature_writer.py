"""The one GeoJSON feature writer (geo.geojson.feature_collection) and the one value conversion (geo.export.plain_value)."""
import json
from datetime import date, datetime, time, timezone, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.export import incidents_to_geojson, plain_value
from geo.geojson import feature_collection
from geo.kml import kml_document


@pytest.mark.parametrize("value, expected", [
    (None, None), (float("nan"), None), (float("inf"), None), (np.float64(-np.inf), None), (pd.NaT, None),
    (pd.NA, None), (np.int64(7), 7), (np.float32(1.5), 1.5), (np.bool_(True), True), ("Xã Tân Hộ Cơ", "Xã Tân Hộ Cơ"),
    (pd.Timestamp("2022-12-01 15:49"), "2022-12-01T15:49:00"),
    (np.datetime64("2022-12-01T15:49:00"), "2022-12-01T15:49:00"),
    (datetime(2022, 12, 1, 15, 49, tzinfo=timezone(timedelta(hours=7))), "2022-12-01T15:49:00+07:00"),
    (date(2024, 2, 29), "2024-02-29"), (time(8, 30), "08:30:00"), (3, 3), (True, True),
])
def test_plain_value(value, expected):
    assert plain_value(value) == expected
    assert type(plain_value(value)) is type(expected)


def _frame(crs="EPSG:4326"):
    return gpd.GeoDataFrame({
        "id": np.array([10, 11, 12]),
        "occurred_at": pd.to_datetime(["2022-12-01 15:49", None, "2023-01-02 00:00"]),
        "rate": [1.25, np.nan, np.inf],
        "count": np.array([3, 0, 1], dtype=np.int64),
        "name": ["A <b>", None, "Ç"],
        "sensitive": [True, False, True],
    }, geometry=[shapely.Point(105.5, 10.5), None, shapely.Polygon()], crs=crs)


def test_features_are_json_ready_and_dates_are_iso():
    collection = feature_collection(_frame(), id_column="id")
    text = json.dumps(collection, allow_nan=False)  # no NaN/Infinity, no Timestamp left
    first, second, third = json.loads(text)["features"]
    assert first == {"type": "Feature", "id": 10, "geometry": {"type": "Point", "coordinates": [105.5, 10.5]},
                     "properties": {"occurred_at": "2022-12-01T15:49:00", "rate": 1.25, "count": 3,
                                    "name": "A <b>", "sensitive": True}}
    assert second["geometry"] is None and second["properties"]["occurred_at"] is None
    assert second["properties"]["rate"] is None and second["properties"]["name"] is None
    assert third["geometry"] is None  # an empty geometry is written as null
    assert third["properties"]["rate"] is None  # JSON has no infinity
    assert "crs" not in collection


def test_without_id_column_features_have_no_id_and_keep_every_column():
    features = feature_collection(_frame())["features"]
    assert "id" not in features[0] and features[0]["properties"]["id"] == 10


def test_a_projected_crs_is_named_as_to_json_names_it():
    frame = _frame().drop(columns="occurred_at")
    frame = frame.iloc[[0]].to_crs(32648)
    ours = feature_collection(frame)
    theirs = json.loads(frame.to_json(drop_id=True, na="null"))
    assert ours["crs"] == theirs["crs"] == {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}}
    assert json.loads(json.dumps(ours["features"])) == [
        {k: f[k] for k in ("type", "geometry", "properties")} for f in theirs["features"]]


def test_incident_export_keeps_redacted_rows_without_geometry():
    frame = pd.DataFrame({"id": [1, 2], "occurred_at": pd.to_datetime(["2024-03-01 08:00", "2024-03-02 00:00"]),
                          "lon": [105.6, np.nan], "lat": [10.45, np.nan], "category": ["drugs", "theft"],
                          "sensitive": [False, True], "not_exported": ["x", "y"]})
    features = incidents_to_geojson(frame)["features"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": (105.6, 10.45)}
    assert features[1]["geometry"] is None
    assert features[1]["properties"] == {"id": 2, "occurred_at": "2024-03-02T00:00:00", "category": "theft",
                                         "sensitive": True}


def test_kml_writes_the_same_values():
    kml = kml_document(_frame(), title="t").decode()
    assert "<SimpleData name=\"occurred_at\">2022-12-01T15:49:00</SimpleData>" in kml
    assert "A &lt;b&gt;" in kml and "inf" not in kml.lower().replace("information", "")
    assert kml.count("<Placemark>") == 1  # no geometry, no Placemark


def _mixed_frame():
    frame = _frame()
    frame["flag"] = pd.Series([True, None, False], dtype=object)  # booleans with a gap
    frame["people"] = pd.Series([73370, None, 12], dtype=object)
    frame["share"] = pd.Series([0.5, None, 2], dtype=object)
    frame["nullable"] = pd.array([1, None, 3], dtype="Int64")
    frame["day"] = [date(2024, 2, 29), None, date(2025, 7, 1)]
    frame["quote"] = ['say "hi"\\', "tab\there", "Đồng Tháp — 138"]
    frame["empty"] = [None, None, None]
    return frame


def test_column_by_column_features_read_back_as_the_one_writer_writes_them():
    from geo.geojson import feature_texts

    frame = _mixed_frame()
    columns = {name: frame[name] for name in frame.columns if name not in ("id", "geometry")}
    texts = feature_texts(frame.geometry.to_numpy(), columns, ids=frame["id"].to_numpy())
    expected = json.loads(json.dumps(feature_collection(frame, id_column="id")["features"]))
    features = [json.loads(text) for text in texts.tolist()]
    assert features == expected
    assert features[0]["properties"]["nullable"] == 1 and type(features[0]["properties"]["nullable"]) is int


def test_column_by_column_features_carry_extra_members_and_refuse_a_short_column():
    from geo.errors import GeoInputError
    from geo.geojson import feature_texts

    points = np.array([shapely.Point(105.5, 10.5), shapely.Point(106, 11)], dtype=object)
    texts = feature_texts(points, {"n": [1, 2]}, ids=["a/1", "b"], members={"links": ['[{"rel":"self"}]', "[]"]})
    first = json.loads(texts[0])
    assert first["id"] == "a/1" and first["links"] == [{"rel": "self"}] and first["geometry"]["coordinates"] == [105.5, 10.5]
    assert json.loads(texts[1])["links"] == []
    with pytest.raises(GeoInputError, match="'n' has 1 values for 2 features"):
        feature_texts(points, {"n": [1]})
    assert feature_texts(np.array([], dtype=object), {"n": []}).size == 0


def test_collection_of_equals_geopandas_to_geo_dict_on_a_frame():
    """feature_collection goes through collection_of; its features are those of geopandas' own mapping."""
    from geo.export import plain_value as plain

    frame = _frame()
    ours = feature_collection(frame)["features"]
    theirs = frame.to_geo_dict(na="null", drop_id=True)["features"]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a["geometry"] is None) == (b["geometry"] is None)
        if a["geometry"] is not None:
            assert shapely.geometry.shape(a["geometry"]).equals_exact(shapely.geometry.shape(b["geometry"]), 0)
    assert [f["properties"] for f in ours] == [{k: plain(v) for k, v in f["properties"].items()} for f in theirs]


def test_collection_of_keeps_ready_mappings_and_leaves_out_omitted_properties():
    from geo.geojson import OMITTED, collection_of

    ready = {"type": "Point", "coordinates": [105.6, 10.4]}
    out = collection_of([ready, shapely.Point(105.7, 10.5), shapely.Polygon(), None],
                        {"tip": ["a", "b", "c", "d"], "h": ["x", OMITTED, OMITTED, "y"]}, ids=["1", "2", "3", "4"])
    features = out["features"]
    assert features[0]["geometry"] is ready
    assert features[1]["geometry"] == {"type": "Point", "coordinates": (105.7, 10.5)}
    assert features[2]["geometry"] is None and features[3]["geometry"] is None  # empty and missing: null
    assert [f["properties"] for f in features] == [{"tip": "a", "h": "x"}, {"tip": "b"}, {"tip": "c"},
                                                  {"tip": "d", "h": "y"}]
    assert [f["id"] for f in features] == ["1", "2", "3", "4"]
    json.dumps(out)


def test_collection_of_refuses_columns_of_another_length():
    from geo.errors import GeoInputError
    from geo.geojson import collection_of

    with pytest.raises(GeoInputError, match="tip"):
        collection_of([shapely.Point(0, 0), shapely.Point(1, 1)], {"tip": ["only one"]})


def test_no_map_layer_writes_features_by_hand():
    """Every layer builds its features through geo.geojson.collection_of (issue #14 point 6: one writer)."""
    import ast
    from pathlib import Path

    offenders = []
    for path in sorted((Path(__file__).resolve().parents[1] / "layers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "type" for k in node.keys) and any(
                    isinstance(v, ast.Constant) and v.value in ("Feature", "FeatureCollection") for v in node.values):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
