"""``flask hotspot --stat knox``: the Near Repeat Calculator table of a point file as CSV."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.near_repeat import knox_test


@pytest.fixture(scope="module")
def incidents_csv(tmp_path_factory):
    """Random thefts in Đồng Tháp plus planted repeats 120–180 m and 9–13 days after; random drug cases."""
    folder = tmp_path_factory.mktemp("knox_cli")
    rng = np.random.default_rng(3)
    n = 300
    lon, lat = rng.uniform(105.55, 105.75, n), rng.uniform(10.40, 10.60, n)
    day = rng.integers(0, 300, n)
    origin = rng.integers(0, n, 50)
    shift = rng.uniform(120, 180, 50) / 111_000.0
    lon = np.r_[lon, lon[origin] + shift]
    lat = np.r_[lat, lat[origin]]
    day = np.r_[day, day[origin] + rng.integers(9, 14, 50)]
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D")
    thefts = pd.DataFrame({"id": np.arange(lon.size), "lon": lon, "lat": lat,
                           "occurred_at": when.strftime("%Y-%m-%d %H:%M"), "category": "theft"})
    drugs = pd.DataFrame({"id": 10_000 + np.arange(200), "lon": rng.uniform(105.55, 105.75, 200),
                          "lat": rng.uniform(10.40, 10.60, 200),
                          "occurred_at": (pd.Timestamp("2024-01-01")
                                          + pd.to_timedelta(rng.integers(0, 300, 200), unit="D")).strftime("%Y-%m-%d"),
                          "category": "drugs"})
    path = folder / "incidents.csv"
    pd.concat([thefts, drugs]).to_csv(path, index=False)
    return path


def knox(runner, *args):
    return runner.invoke(args=["hotspot", "--stat", "knox", *map(str, args)])


def test_knox_csv_as_in_the_issue(runner, incidents_csv, tmp_path):
    out = tmp_path / "knox.csv"
    result = knox(runner, "--points", incidents_csv, "--time-field", "occurred_at", "--space-bands", "100,200,400",
                  "--time-bands", "7,14,28", "--permutations", 999, "--seed", 5, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["space_from", "space_to", "time_from", "time_to", "observed", "expected",
                                   "ratio", "p_value"]
    assert len(table) == 16
    assert table[["space_from", "space_to"]].iloc[::4].fillna(-1).values.tolist() == [
        [0, 100], [101, 200], [201, 400], [401, -1]]
    assert table["time_from"].iloc[:4].tolist() == [0, 8, 15, 29] and pd.isna(table["time_to"].iloc[3])
    # The same numbers as the library on the same metric coordinates and seed.
    frame = pd.read_csv(incidents_csv)
    import geopandas as gpd

    utm = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)
    projected = utm.to_crs(utm.estimate_utm_crs())
    expected = knox_test(projected.x.to_numpy(), projected.y.to_numpy(),
                         pd.to_datetime(frame["occurred_at"], format="mixed").to_numpy(dtype="datetime64[D]"),
                         (100, 200, 400), (7, 14, 28), permutations=999, seed=5)
    assert table["observed"].tolist() == expected.observed.ravel().tolist()
    np.testing.assert_allclose(table["p_value"], expected.p_value.ravel(), rtol=1e-5)


def test_knox_per_category_finds_the_planted_thefts_only(runner, incidents_csv, tmp_path):
    out = tmp_path / "by_category.csv"
    result = knox(runner, "--points", incidents_csv, "--time-field", "occurred_at", "--space-bands", "100,200,400",
                  "--time-bands", "7,14,28", "--permutations", 199, "--seed", 1, "--category-field", "category",
                  "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns)[0] == "category" and set(table["category"]) == {"theft", "drugs"}
    cell = (table["space_from"] == 101) & (table["time_from"] == 8)
    assert table.loc[cell & (table["category"] == "theft"), "p_value"].item() <= 0.01
    assert table.loc[cell & (table["category"] == "drugs"), "p_value"].item() > 0.05


def test_knox_writes_to_stdout(runner, incidents_csv):
    result = knox(runner, "--points", incidents_csv, "--time-field", "occurred_at", "--space-bands", "200",
                  "--time-bands", "14", "--permutations", 99, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert "space_from,space_to,time_from,time_to,observed,expected,ratio,p_value" in result.output


@pytest.mark.parametrize("args, message", [
    ([], "needs --time-field, --space-bands, --time-bands"),
    (["--time-field", "occurred_at", "--space-bands", "200,100", "--time-bands", "7"], "strictly increasing"),
    (["--time-field", "occurred_at", "--space-bands", "100", "--time-bands", "a"], "'--time-bands'"),
    (["--time-field", "when", "--space-bands", "100", "--time-bands", "7"], "'when' is not a field"),
    (["--time-field", "id", "--space-bands", "100", "--time-bands", "7", "--category-field", "nope"],
     "'nope' is not a field"),
    (["--time-field", "occurred_at", "--space-bands", "100", "--time-bands", "7", "--grid", "hex"],
     "does not apply to --stat knox"),
    (["--time-field", "occurred_at", "--space-bands", "100", "--time-bands", "7", "--permutations", "0"],
     "needs permutations"),
])
def test_knox_usage_errors(runner, incidents_csv, args, message):
    result = knox(runner, "--points", incidents_csv, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_knox_options_refused_for_other_statistics(runner, incidents_csv):
    result = runner.invoke(args=["hotspot", "--points", str(incidents_csv), "--time-bands", "7"])
    assert result.exit_code == 2 and "apply to --stat knox only" in result.output


def test_knox_bad_dates_are_named(runner, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"lon": [105.6, 105.61, 105.62], "lat": [10.5, 10.5, 10.5],
                  "occurred_at": ["2024-01-01", "hôm qua", "2024-01-03"]}).to_csv(path, index=False)
    result = knox(runner, "--points", path, "--time-field", "occurred_at", "--space-bands", "100",
                  "--time-bands", "7", "--permutations", 99)
    assert result.exit_code == 2 and "'hôm qua'" in result.output
