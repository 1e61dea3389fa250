"""The illustrative incident generator: deterministic, inside the communes, plausible in space and time."""
import os
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo import taxonomy
from geo.boundaries import read_communes, read_population
from geo.demo import (
    BORDER_COMMUNES, DEMO_LABEL_EN, DEMO_LABEL_VI, OUTPUT_COLUMNS, demo_commune_trends, generate_demo_incidents,
)
from geo.incidents import CommuneLocator, validate_incidents


def find_data_dir() -> Path:
    for candidate in (os.environ.get("BANDO_DATA_DIR"), "/work/main/data", "/work/shared/data"):
        if candidate and (Path(candidate) / "boundaries" / "dong_thap_communes_2024.geojson").exists():
            return Path(candidate)
    pytest.skip("real boundary data not found (set BANDO_DATA_DIR)")


@pytest.fixture(scope="module")
def real():
    data = find_data_dir()
    communes = read_communes(data / "boundaries" / "dong_thap_communes_2024.geojson")
    population = read_population(data / "population" / "dong_thap_population_2019.csv")
    frame = generate_demo_incidents(communes, population)
    return data, communes, population, frame


def small_communes():
    return gpd.GeoDataFrame({
        "commune_code": ["29929", "30001", "30002"], "commune_name": ["Xã Biên", "Phường Một", "Xã Hai"],
        "commune_type": ["xã", "phường", "xã"],
    }, geometry=[box(105.40, 10.80, 105.45, 10.85), box(105.45, 10.80, 105.50, 10.85),
                 box(105.40, 10.75, 105.50, 10.80)], crs=4326)


def test_labels():
    assert DEMO_LABEL_VI == "Dữ liệu minh họa — không phải số liệu thật"
    assert DEMO_LABEL_EN == "Illustrative data — not real records"


def test_same_seed_same_frame_other_seed_other_frame():
    communes = small_communes()
    population = pd.DataFrame({"commune_code": ["29929", "30001", "30002"], "population": [8000, 20000, 9000]})
    first = generate_demo_incidents(communes, population, seed=7, end=date(2023, 12, 31))
    again = generate_demo_incidents(communes.iloc[::-1], population, seed=7, end=date(2023, 12, 31))
    pd.testing.assert_frame_equal(first, again)
    other = generate_demo_incidents(communes, population, seed=8, end=date(2023, 12, 31))
    assert not first[["lon", "lat"]].equals(other[["lon", "lat"]])


def test_schema_ids_and_label_small():
    frame = generate_demo_incidents(small_communes(), None, start=date(2024, 1, 1), end=date(2024, 6, 30))
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert frame["id"].is_unique
    assert frame["id"].str.fullmatch(r"DEMO-2024-\d{6}").all()
    assert frame["id"].iloc[0] == "DEMO-2024-000001"
    assert frame["description"].str.startswith("Dữ liệu minh họa").all()
    assert frame["occurred_at"].is_monotonic_increasing
    assert frame["occurred_at"].min() >= pd.Timestamp("2024-01-01")
    assert frame["occurred_at"].max() < pd.Timestamp("2024-07-01")
    assert (frame["reported_at"] > frame["occurred_at"]).all()
    assert frame.loc[frame["category"] == "human_trafficking", "sensitive"].all()
    assert not frame.loc[frame["category"] != "human_trafficking", "sensitive"].any()


def test_points_inside_their_commune_small():
    communes = small_communes()
    frame = generate_demo_incidents(communes, None, end=date(2023, 12, 31))
    polygons = dict(zip(communes["commune_code"], communes.geometry))
    for code, group in frame.groupby("commune_code"):
        assert shapely.contains_xy(polygons[code], group["lon"], group["lat"]).all()


def test_end_before_start_refused():
    from geo.errors import GeoInputError

    with pytest.raises(GeoInputError, match="end 01/01/2023 is before start 01/02/2023"):
        generate_demo_incidents(small_communes(), None, start=date(2023, 2, 1), end=date(2023, 1, 1))


def test_real_frame_validates_and_lands_in_its_commune(real):
    _, communes, _, frame = real
    result = validate_incidents(frame, CommuneLocator(communes))
    assert result.errors == []
    assert (result.valid["commune_code"].to_numpy() == frame["commune_code"].to_numpy()).all()
    polygons = communes.communes.set_index("commune_code").geometry
    inside = shapely.contains_xy(polygons.loc[frame["commune_code"]].values, frame["lon"], frame["lat"])
    assert inside.all()


def test_real_totals_per_year_and_clearance(real):
    *_, frame = real
    years = frame["occurred_at"].dt.year
    per_year = years.value_counts().to_dict()
    assert 1_400 <= per_year[2023] <= 2_000 and 1_400 <= per_year[2024] <= 2_000
    assert per_year[2024] < per_year[2023]
    assert 250 <= per_year[2025] <= 600  # first quarter only
    for year in (2023, 2024):
        cases = frame[years == year]
        cleared = cases["case_status"].isin(taxonomy.CLEARED_STATUSES)
        grave = cases["severity"].isin(taxonomy.GRAVE_SEVERITIES)
        assert 0.74 <= cleared.mean() <= 0.83
        assert cleared[grave].all()
        assert 0.03 <= grave.mean() <= 0.08


def test_real_towns_denser_per_resident(real):
    _, communes, population, frame = real
    counts = frame.groupby("commune_code").size()
    table = communes.communes[["commune_code", "commune_type"]].merge(population, on="commune_code")
    table["rate"] = table["commune_code"].map(counts).fillna(0) / table["population"]
    general = table[~table["commune_code"].isin(BORDER_COMMUNES)]
    by_type = general.groupby("commune_type")["rate"].mean()
    assert by_type["phường"] > 1.5 * by_type["xã"]


def test_real_border_categories_concentrated_near_the_border(real):
    data, communes, _, frame = real
    corridor = frame["category"].isin(taxonomy.BORDER_CORRIDOR_CATEGORIES)
    in_border_communes = frame["commune_code"].isin(BORDER_COMMUNES)
    assert corridor[in_border_communes].mean() > 0.5
    assert corridor[~in_border_communes].mean() < 0.2
    non_drug = frame["category"].isin({"smuggling", "illegal_border_crossing", "human_trafficking"})
    assert in_border_communes[non_drug].mean() > 0.8
    border = gpd.read_file(data / "boundaries" / "cambodia_vietnam_border_dong_thap.geojson").to_crs(32648)
    points = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326).to_crs(32648)
    distance = points.distance(border.geometry.iloc[0])
    assert distance[non_drug].median() < 4_000 < distance[~corridor].median()


def test_real_trends_and_tet_peak(real):
    _, communes, _, frame = real
    trends = demo_commune_trends(communes)
    assert set(trends["trend"]) == {"improving", "worsening", "steady"}
    pd.testing.assert_frame_equal(trends, demo_commune_trends(communes))
    years = frame["occurred_at"].dt.year
    counts = frame.assign(year=years).groupby(["commune_code", "year"]).size().unstack(fill_value=0)
    by_trend = counts.join(trends.set_index("commune_code")).groupby("trend")[[2023, 2024]].sum()
    assert by_trend.loc["improving", 2024] < 0.75 * by_trend.loc["improving", 2023]
    assert by_trend.loc["worsening", 2024] > 1.3 * by_trend.loc["worsening", 2023]
    # Tết 2024 was 10 February: the four weeks before it are busier than the year's average four weeks.
    before_tet = frame["occurred_at"].between("2024-01-13", "2024-02-10")
    assert before_tet.sum() > 1.2 * (years == 2024).sum() * 28 / 366
