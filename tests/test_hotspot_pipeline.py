"""geo.hotspot_pipeline: parameter checks and the orchestration of grids, zones and statistics."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import GeoInputError
from geo.hotspot_pipeline import HotspotSpec, measure_values, parse_neighbours, run_hotspot_analysis


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(11)
    x = np.r_[rng.uniform(560_000, 570_000, 300), rng.normal(563_000, 250, 150)]
    y = np.r_[rng.uniform(1_150_000, 1_160_000, 300), rng.normal(1_152_000, 250, 150)]
    return x, y


@pytest.mark.parametrize("text, expected", [("queen", "queen"), ("ROOK", "rook"), ("distance:1500", "distance:1500"),
                                            ("distance:750.5", "distance:750.5"), ("knn:8", "knn:8")])
def test_parse_neighbours(text, expected):
    assert str(parse_neighbours(text)) == expected


@pytest.mark.parametrize("text", ["bishop", "distance:", "distance:-3", "knn:0", "knn:2.5", "", None])
def test_parse_neighbours_refuses(text):
    with pytest.raises(GeoInputError, match="neighbours must be|at least 1|positive"):
        parse_neighbours(text)


@pytest.mark.parametrize("options, message", [
    ({"statistic": "moran"}, "statistic must be one of"),
    ({"units": "triangles"}, "units must be one of"),
    ({"cell_size": -5}, "cell_size must be a positive"),
    ({"bandwidth": "wide"}, "bandwidth must be metres"),
    ({"permutations": 10}, "at least 99"),
    ({"alpha": 1.5}, "alpha must lie between"),
])
def test_spec_refuses_bad_parameters(options, message):
    with pytest.raises(GeoInputError, match=message):
        HotspotSpec(**options)


def test_spec_defaults_per_statistic():
    assert HotspotSpec(statistic="lisa").permutations == 999
    assert HotspotSpec(statistic="gistar").permutations == 0
    assert HotspotSpec(bandwidth="1200").bandwidth == 1200.0


def test_grid_gistar_finds_the_cluster_and_keeps_zero_cells(points):
    x, y = points
    result = run_hotspot_analysis(HotspotSpec(cell_size=1000), x=x, y=y)
    frame = result.frame
    assert frame["count"].sum() == x.size and (frame["count"] == 0).any()
    hottest = frame.loc[frame["gi_z"].idxmax()]
    assert hottest.geometry.distance(shapely.Point(563_000, 1_152_000)) < 1000 and hottest["gi_bin"] == 3
    assert result.params["n_units"] == len(frame) and result.params["n_points"] == x.size


def test_default_cell_size_and_bandwidth(points):
    x, y = points
    result = run_hotspot_analysis(HotspotSpec(statistic="kde", cell_size=None), x=x, y=y)
    assert result.params["cell_size_rule"] == "arcgis" and result.params["cell_size"] > 0
    assert result.params["bandwidth"] >= result.params["cell_size"]
    narrow = run_hotspot_analysis(HotspotSpec(statistic="kde", cell_size=3000), x=x, y=y)
    assert narrow.params["bandwidth"] == 3000 and "raised" in narrow.params["bandwidth_rule"]


def test_zone_kde_matches_brute_force(points):
    from geo.kde import kernel_density_brute_force

    x, y = points
    boxes = [shapely.box(560_000 + 2000 * i, 1_150_000 + 2000 * j, 562_000 + 2000 * i, 1_152_000 + 2000 * j)
             for i in range(5) for j in range(5)]
    zones = gpd.GeoDataFrame({"name": range(25)}, geometry=boxes, crs=32648)
    frame = run_hotspot_analysis(HotspotSpec(statistic="kde", units="zones", bandwidth=1500), x=x, y=y,
                                 zones=zones).frame
    centres = zones.geometry.centroid
    expected = kernel_density_brute_force(centres.x, centres.y, x, y, 1500)
    np.testing.assert_allclose(frame["density"], expected, rtol=1e-9)
    assert frame["count"].sum() == np.count_nonzero((x < 570_000) & (y < 1_160_000))


@pytest.mark.parametrize("units, kwargs, message", [
    ("hex", {}, "no input"),
    ("hex", {"zone_values": np.arange(3.0)}, r"a grid\) needs incident points"),
    ("zones", {"zone_values": np.arange(3.0)}, "needs the zone polygons"),
])
def test_missing_inputs(units, kwargs, message):
    with pytest.raises(GeoInputError, match=message):
        run_hotspot_analysis(HotspotSpec(units=units), **kwargs)


def test_kde_needs_points_and_points_must_fall_in_zones():
    zones = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)] * 3, crs=32648)
    with pytest.raises(GeoInputError, match="needs incident points"):
        run_hotspot_analysis(HotspotSpec(statistic="kde", units="zones"), zones=zones, zone_values=[1, 2, 3])
    with pytest.raises(GeoInputError, match="outside the zones"):
        run_hotspot_analysis(HotspotSpec(units="zones"), zones=zones, x=[600_000.0], y=[1_200_000.0])
    with pytest.raises(GeoInputError, match="no points"):
        run_hotspot_analysis(HotspotSpec(), x=[], y=[])


def test_measure_values_match_rates_module():
    from geo.rates import empirical_bayes

    counts = np.array([1, 5, 0, 12, 3.0])
    population = np.array([2000, 15000, 800, 30000, 5000.0])
    np.testing.assert_allclose(measure_values(counts, population, "rate"), counts / population * 10_000)
    np.testing.assert_allclose(measure_values(counts, population, "eb"), empirical_bayes(counts, population))
    with pytest.raises(GeoInputError, match="needs the population"):
        measure_values(counts, None, "rate")
    with pytest.raises(GeoInputError, match="needs neighbour weights"):
        measure_values(counts, population, "seb")
