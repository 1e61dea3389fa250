"""``flask hotspot`` on small built files and on libpysal's Columbus crime polygons."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

COLUMBUS = Path(__import__("libpysal").examples.get_path("columbus.shp"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Points in Đồng Tháp (lon/lat CSV, a UTM GeoPackage) with one dense cluster, and Columbus."""
    folder = tmp_path_factory.mktemp("hotspot_cli")
    rng = np.random.default_rng(7)
    lon = np.r_[rng.uniform(105.55, 105.70, 300), rng.normal(105.60, 0.003, 150)]
    lat = np.r_[rng.uniform(10.40, 10.55, 300), rng.normal(10.45, 0.003, 150)]
    table = pd.DataFrame({"kinh_do": lon, "vi_do": lat, "so_nguoi": rng.integers(1, 4, lon.size)})
    table.to_csv(folder / "points.csv", index=False)
    table.rename(columns={"kinh_do": "lon", "vi_do": "lat"}).to_csv(folder / "lonlat.csv", index=False)
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(32648)
    points.to_file(folder / "points.gpkg", engine="fiona")
    for part in COLUMBUS.parent.glob("columbus.*"):
        shutil.copy(part, folder / part.name)
    return folder


def run(runner, *args):
    return runner.invoke(args=["hotspot", *map(str, args)])


def read(path):
    return gpd.read_file(path, engine="fiona")


def test_gistar_on_columbus_equals_esda(runner, files):
    import libpysal
    from esda import G_Local

    out = files / "col_gi.geojson"
    result = run(runner, "--zones", files / "columbus.shp", "--value-field", "CRIME", "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    zones = gpd.read_file(COLUMBUS)
    w = libpysal.weights.Queen.from_dataframe(zones, use_index=False)
    expected = G_Local(zones["CRIME"].to_numpy(), w, transform="B", star=True)
    np.testing.assert_allclose(frame["gi_z"], expected.Zs, atol=1e-9)
    assert set(frame["gi_bin"]) <= {-3, -2, -1, 0, 1, 2, 3}
    np.testing.assert_allclose(frame["value"], zones["CRIME"])
    # Columbus has no .prj: coordinates are written unchanged (GeoJSON readers then assume EPSG:4326).
    np.testing.assert_allclose(frame.total_bounds, zones.total_bounds, rtol=1e-7)


def test_zones_to_stdout_are_the_features_of_the_file(runner, files):
    out = files / "col_gi_file.geojson"
    assert run(runner, "--zones", files / "columbus.shp", "--value-field", "CRIME", "--out", out).exit_code == 0
    result = run(runner, "--zones", files / "columbus.shp", "--value-field", "CRIME")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # the summary goes to stderr
    assert printed["type"] == "FeatureCollection" and "id" not in printed["features"][0]
    from_stdout = gpd.GeoDataFrame.from_features(printed["features"], crs=4326)  # RFC 7946: no crs member
    from_file = read(out)
    assert list(from_stdout.columns.drop("geometry")) == list(from_file.columns.drop("geometry"))
    np.testing.assert_allclose(from_stdout["gi_z"], from_file["gi_z"], atol=1e-12)
    assert from_stdout.geometry.geom_equals_exact(from_file.geometry, 1e-9).all()


def test_lisa_on_columbus_equals_esda(runner, files):
    import libpysal
    from esda import Moran_Local

    out = files / "col_lisa.geojson"
    result = run(runner, "--stat", "lisa", "--zones", files / "columbus.shp", "--value-field", "CRIME",
                 "--permutations", 199, "--seed", 3, "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    zones = gpd.read_file(COLUMBUS)
    w = libpysal.weights.Queen.from_dataframe(zones, use_index=False)
    expected = Moran_Local(zones["CRIME"].to_numpy(), w, transformation="r", permutations=0)
    np.testing.assert_allclose(frame["lisa_i"], expected.Is, atol=1e-9)
    assert set(frame["lisa_q"]) <= {"HH", "LH", "LL", "HL"}
    assert ((frame["lisa_p"] > 0) & (frame["lisa_p"] <= 1)).all()
    significant = frame["lisa_cluster"] != "not significant"
    assert significant.any()
    assert (frame.loc[significant, "lisa_cluster"] == frame.loc[significant, "lisa_q"]).all()
    assert (frame.loc[significant, "lisa_p"] <= 0.05).all()
    again = files / "col_lisa2.geojson"
    run(runner, "--stat", "lisa", "--zones", files / "columbus.shp", "--value-field", "CRIME",
        "--permutations", 199, "--seed", 3, "--out", again)
    np.testing.assert_array_equal(read(again)["lisa_p"], frame["lisa_p"])  # the seed reproduces p


def test_kde_on_columbus_values_is_a_usage_error(runner, files):
    result = run(runner, "--stat", "kde", "--zones", files / "columbus.shp", "--value-field", "CRIME")
    assert result.exit_code == 2
    assert "--stat kde needs --points" in result.output


def test_csv_points_with_fields_keep_lonlat_crs(runner, files):
    out = files / "csv_gi.geojson"
    result = run(runner, "--points", files / "points.csv", "--x-field", "kinh_do", "--y-field", "vi_do",
                 "--grid", "hex", "--cell-size", 1000, "--fdr", "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    assert frame.crs.to_epsg() == 4326
    assert {"value", "count", "gi_z", "gi_p", "gi_bin"} <= set(frame.columns)
    assert frame["count"].sum() == 450
    # The dense cluster around (105.60, 10.45) is a 99 % hot spot.
    hot = frame[frame["gi_bin"] == 3]
    assert len(hot) and hot.geometry.union_all().buffer(0.01).contains(gpd.points_from_xy([105.60], [10.45])[0])
    assert 105.5 < frame.total_bounds[0] < 105.7


def test_default_lon_lat_fields_and_explicit_crs(runner, files, tmp_path):
    out = tmp_path / "a.geojson"
    assert run(runner, "--points", files / "lonlat.csv", "--cell-size", 1500, "--out", out).exit_code == 0
    assert read(out).crs.to_epsg() == 4326
    # The same numbers declared as metres are refused with a message, not a traceback.
    result = run(runner, "--points", files / "lonlat.csv", "--crs", "EPSG:32648", "--cell-size", 1500)
    assert result.exit_code == 1
    assert "longitude/latitude" in result.output and "Traceback" not in result.output


def test_vector_points_output_in_input_crs(runner, files):
    out = files / "gpkg_lisa.geojson"
    result = run(runner, "--stat", "lisa", "--points", files / "points.gpkg", "--grid", "square", "--cell-size",
                 1000, "--neighbours", "rook", "--permutations", 99, "--seed", 1, "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    assert frame.crs.to_epsg() == 32648
    assert {"value", "lisa_i", "lisa_p", "lisa_q"} <= set(frame.columns)
    cell = frame.geometry.iloc[len(frame) // 2]
    assert cell.area == pytest.approx(1000 * 1000, rel=1e-6) or cell.area < 1000 * 1000  # clipped at the edge


def test_kde_with_weights_and_bandwidth(runner, files):
    out = files / "kde.geojson"
    result = run(runner, "--stat", "kde", "--points", files / "points.gpkg", "--grid", "square", "--cell-size",
                 500, "--bandwidth", 1500, "--weight-field", "so_nguoi", "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    assert "density" in frame and frame["density"].max() > 0
    points = gpd.read_file(files / "points.gpkg", engine="fiona")
    assert frame["value"].sum() == pytest.approx(points["so_nguoi"].sum())
    # Quartic mass is conserved: density × cell area sums to the total weight (all mass inside the grid).
    assert (frame["density"] * 0.25).sum() == pytest.approx(points["so_nguoi"].sum(), rel=0.05)


def test_points_counted_in_zones(runner, files, tmp_path):
    points = gpd.read_file(files / "points.gpkg", engine="fiona")
    west, south, east, north = points.total_bounds
    xs = np.linspace(west - 1, east + 1, 7)
    ys = np.linspace(south - 1, north + 1, 7)
    import shapely

    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(6) for j in range(6)]
    zones = gpd.GeoDataFrame({"name": [f"o{i}" for i in range(36)]}, geometry=boxes, crs=32648)
    zones.to_file(tmp_path / "zones.gpkg", engine="fiona")
    out = tmp_path / "z.geojson"
    result = run(runner, "--points", files / "points.gpkg", "--zones", tmp_path / "zones.gpkg", "--neighbours",
                 "knn:4", "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    assert frame["count"].sum() == len(points)
    assert list(frame["name"]) == list(zones["name"])
    assert (frame["n_neighbours"] == 4).all()


def test_distance_band_neighbours(runner, files, tmp_path):
    out = tmp_path / "d.geojson"
    result = run(runner, "--points", files / "points.gpkg", "--cell-size", 1000, "--neighbours", "distance:2000",
                 "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    # Hexagon centres 1000 m apart: 6 at 1000 m, 6 at 1732 m, 6 at 2000 m inside the band.
    assert frame["n_neighbours"].max() == 18


def test_stdout_when_no_out(runner, files):
    result = runner.invoke(args=["hotspot", "--zones", str(files / "columbus.shp"), "--value-field", "CRIME"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert len(document["features"]) == 49 and "gi_z" in document["features"][0]["properties"]


@pytest.mark.parametrize("args, message", [
    ([], "give --points FILE"),
    (["--stat", "moran"], "Invalid value for '--stat'"),
    (["--zones", "{col}"], "needs --value-field"),
    (["--zones", "{col}", "--value-field", "CRIME", "--grid", "hex"], "not both"),
    (["--zones", "{col}", "--value-field", "CRIME", "--cell-size", "500"], "--cell-size applies to --grid"),
    (["--zones", "{col}", "--value-field", "CRIME", "--neighbours", "knight"], "Invalid value for '--neighbours'"),
    (["--zones", "{col}", "--value-field", "CRIME", "--neighbours", "distance:-5"], "Invalid value for '--neighbours'"),
    (["--zones", "{col}", "--value-field", "CRIME", "--permutations", "10"], "at least 99"),
    (["--zones", "{col}", "--value-field", "CRIME", "--bandwidth", "900"], "--bandwidth applies to --stat kde"),
    (["--zones", "{col}", "--value-field", "NOPE"], "'NOPE' is not a field"),
    (["--zones", "{col}", "--value-field", "CRIME", "--stat", "lisa", "--fdr"], "--fdr corrects Gi*"),
    (["--points", "{pts}", "--value-field", "CRIME"], "cannot be combined with --points"),
    (["--points", "{pts}", "--cell-size", "-1"], "Invalid value for '--cell-size'"),
    (["--points", "{pts}", "--crs", "EPSG:nonsense"], "Invalid value for '--crs'"),
    (["--points", "{pts}", "--x-field", "x"], "'x' is not a column"),
    (["--points", "{ll}", "--weight-field", "nope"], "'nope' is not a column"),
    (["--points", "/does/not/exist.csv"], "does not exist"),
])
def test_invalid_options_are_usage_errors(runner, files, args, message):
    args = [a.format(col=files / "columbus.shp", pts=files / "points.csv",
                     ll=files / "lonlat.csv") for a in args]
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_inputs_give_clear_errors(runner, files, tmp_path):
    result = run(runner, "--stat", "kde", "--points", files / "points.gpkg", "--cell-size", 1000,
                 "--bandwidth", 400)
    assert result.exit_code == 1 and "smaller than the cell size" in result.output
    flat = tmp_path / "flat.geojson"
    zones = gpd.read_file(COLUMBUS).assign(FLAT=1.0)
    zones.to_file(flat, driver="GeoJSON", engine="fiona")
    result = run(runner, "--zones", flat, "--value-field", "FLAT")
    assert result.exit_code == 1 and "zero variance" in result.output
    few = tmp_path / "few.geojson"
    zones.head(10).to_file(few, driver="GeoJSON", engine="fiona")
    result = run(runner, "--zones", few, "--value-field", "CRIME")
    assert result.exit_code == 1 and "too few units" in result.output
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    result = run(runner, "--zones", broken, "--value-field", "CRIME")
    assert result.exit_code == 1 and "could not be read" in result.output
    for text in (result.output,):
        assert "Traceback" not in text


def _lattice_zones(x0, y0, step, n=7):
    import shapely

    boxes = [shapely.box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
             for i in range(n) for j in range(n)]
    values = [float((i * 7 + j * 3) % 11) for i in range(n) for j in range(n)]
    return gpd.GeoDataFrame({"value_x": values}, geometry=boxes)


def _without_prj(frame, path):
    frame.to_file(path, engine="fiona")
    path.with_suffix(".prj").unlink(missing_ok=True)
    return path


def test_crs_applies_to_zones_without_prj(runner, tmp_path):
    # Boxes in UTM 48N metres saved without .prj: --crs declares them, as it does for points.
    zones = _without_prj(_lattice_zones(560_000, 1_150_000, 1000), tmp_path / "utm.shp")
    out = tmp_path / "utm.geojson"
    result = run(runner, "--zones", zones, "--value-field", "value_x", "--neighbours", "knn:4", "--crs",
                 "EPSG:32648", "--out", out)
    assert result.exit_code == 0, result.output
    assert read(out).crs.to_epsg() == 32648
    # A --crs that contradicts the file's own .prj wins too (the point of the flag is a wrong .prj).
    wrong = tmp_path / "wrong.gpkg"
    _lattice_zones(560_000, 1_150_000, 1000).set_crs(4326).to_file(wrong, engine="fiona")
    out = tmp_path / "wrong.geojson"
    result = run(runner, "--zones", wrong, "--value-field", "value_x", "--neighbours", "distance:1500", "--crs",
                 "EPSG:32648", "--out", out)
    assert result.exit_code == 0, result.output
    assert read(out).crs.to_epsg() == 32648


def test_crs_applies_to_points_and_zones_together(runner, tmp_path):
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"x": rng.uniform(560_000, 567_000, 400), "y": rng.uniform(1_150_000, 1_157_000, 400)})
    table.to_csv(tmp_path / "pts.csv", index=False)
    zones = _without_prj(_lattice_zones(560_000, 1_150_000, 1000), tmp_path / "z.shp")
    out = tmp_path / "pz.geojson"
    result = run(runner, "--points", tmp_path / "pts.csv", "--x-field", "x", "--y-field", "y", "--crs",
                 "EPSG:32648", "--zones", zones, "--neighbours", "knn:3", "--out", out)
    assert result.exit_code == 0, result.output
    frame = read(out)
    assert frame.crs.to_epsg() == 32648 and frame["count"].sum() == 400


def test_degrees_without_crs_suggest_the_utm_zone_of_the_data(runner, tmp_path):
    # Boxes in lon/lat degrees around Prague (UTM 33N) without .prj.
    zones = _without_prj(_lattice_zones(14.3, 50.0, 0.02), tmp_path / "prague.shp")
    result = run(runner, "--zones", zones, "--value-field", "value_x", "--neighbours", "knn:4")
    assert result.exit_code == 1
    assert "EPSG:32633" in result.output and "--crs EPSG:4326" in result.output
    assert "32648" not in result.output and "Traceback" not in result.output
    # Southern hemisphere: Buenos Aires is UTM 21S.
    south = _without_prj(_lattice_zones(-58.5, -34.7, 0.02), tmp_path / "ba.shp")
    result = run(runner, "--zones", south, "--value-field", "value_x", "--neighbours", "distance:3000")
    assert result.exit_code == 1 and "EPSG:32721" in result.output
    out = tmp_path / "prague.geojson"
    result = run(runner, "--zones", zones, "--value-field", "value_x", "--neighbours", "knn:4", "--crs", "EPSG:4326",
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert read(out).crs.to_epsg() == 4326


def test_lonlat_grid_is_the_analysis_grid_projected_back(runner, files):
    """The command's GeoJSON equals the earlier way of writing it: the pipeline's grid taken back to
    longitude/latitude by a Transformer of its own, then :func:`geo.geojson.feature_collection_text`."""
    from pyproj import Transformer

    from geo.geojson import feature_collection_text
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis

    out = files / "kde_lonlat.geojson"
    result = run(runner, "--stat", "kde", "--points", files / "lonlat.csv", "--grid", "square", "--cell-size", 500,
                 "--bandwidth", 1500, "--out", out)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))["features"]

    table = pd.read_csv(files / "lonlat.csv")
    x, y = Transformer.from_crs(4326, 32648, always_xy=True).transform(table["lon"].to_numpy(),
                                                                       table["lat"].to_numpy())
    spec = HotspotSpec(statistic="kde", units="square", cell_size=500.0, bandwidth=1500.0)
    expected = run_hotspot_analysis(spec, x=x, y=y, crs="EPSG:32648")
    back = Transformer.from_crs(32648, 4326, always_xy=True)
    import shapely

    geometry = shapely.transform(expected.geometry, lambda a, b: back.transform(a, b), interleaved=False)
    reference = json.loads(feature_collection_text(geometry, expected.columns, crs="EPSG:4326"))["features"]

    assert len(written) == len(reference) == expected.n_units > 50
    for name in ("cell_id", "value", "count"):
        assert [f["properties"][name] for f in written] == [f["properties"][name] for f in reference]
    density = np.array([f["properties"]["density"] for f in written])
    np.testing.assert_allclose(density, [f["properties"]["density"] for f in reference], rtol=1e-12, atol=0)
    assert density.max() > 0
    for mine, theirs in zip(written, reference):
        assert mine["geometry"]["type"] == theirs["geometry"]["type"]
        np.testing.assert_allclose(np.concatenate([np.asarray(r) for r in mine["geometry"]["coordinates"]]),
                                   np.concatenate([np.asarray(r) for r in theirs["geometry"]["coordinates"]]),
                                   rtol=0, atol=1e-9)  # 1e-9 degree ≈ 0.1 mm


def test_projection_in_place_only_over_writable_arrays():
    from pyproj import Transformer

    from cli.hotspot import _project

    transformer = Transformer.from_crs(4326, 32648, always_xy=True)
    lon, lat = np.array([105.6, 105.7, 105.8]), np.array([10.4, 10.5, 10.6])
    expected = transformer.transform(lon, lat)
    frozen_lon, frozen_lat = lon.copy(), lat.copy()
    frozen_lon.flags.writeable = frozen_lat.flags.writeable = False
    x, y = _project(transformer, frozen_lon, frozen_lat)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(frozen_lon, lon)  # a read-only input is left as it was
    writable_lon, writable_lat = lon.copy(), lat.copy()
    x, y = _project(transformer, writable_lon, writable_lat)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(y, expected[1])


@pytest.mark.parametrize("statistic", ["gistar", "lisa", "kde"])
def test_python_m_entry_point_writes_what_the_flask_command_writes(runner, files, tmp_path, statistic):
    """``python -m cli.hotspot`` (its own process, without the web application) and ``flask hotspot``."""
    import subprocess
    import sys

    args = ["--stat", statistic, "--points", str(files / "lonlat.csv"), "--grid", "square", "--cell-size", "500"]
    args += (["--bandwidth", "1500"] if statistic == "kde" else ["--neighbours", "distance:1200"])
    args += (["--permutations", "99", "--seed", "3"] if statistic == "lisa" else [])
    through_flask = tmp_path / "flask.geojson"
    assert run(runner, *args, "--out", through_flask).exit_code == 0
    alone = tmp_path / "alone.geojson"
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli.hotspot", *args, "--out", str(alone)],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"units; statistic {statistic}" in done.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "numpy" in imported
    assert not {name for name in imported if name.split(".")[0] in ("flask", "web", "store", "layers", "folium",
                                                                     "sqlalchemy", "pandas", "geopandas")}
    assert alone.read_text(encoding="utf-8") == through_flask.read_text(encoding="utf-8")
