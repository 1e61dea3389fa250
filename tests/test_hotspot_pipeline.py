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


def _cluster_in_a_large_empty_area():
    # Incidents over the western half of the area only: the empty eastern half is, to LISA, a cold cluster.
    rng = np.random.default_rng(7)
    x, y = rng.uniform(600_000, 608_000, 600), rng.uniform(1_200_000, 1_216_000, 600)
    from shapely.geometry import box

    return x, y, box(600_000, 1_200_000, 616_000, 1_216_000)


def test_lisa_on_a_grid_does_not_paint_empty_cells_low_low_by_default():
    x, y, area = _cluster_in_a_large_empty_area()
    spec = HotspotSpec(statistic="lisa", units="square", cell_size=1000, seed=1)
    result = run_hotspot_analysis(spec, x=x, y=y, boundary=area)
    frame = result.frame
    raw_empty_ll = (frame["lisa_cluster_raw"] == "LL") & (frame["count"] == 0)
    assert raw_empty_ll.sum() > 0  # the statistic does call empty cells Low–Low …
    assert not ((frame["lisa_cluster"] == "LL") & (frame["count"] == 0)).any()  # … the map does not
    assert result.params["n_empty_low_low"] == int(raw_empty_ll.sum())
    assert (frame["lisa_cluster"] == "HH").any()
    shown = run_hotspot_analysis(HotspotSpec(statistic="lisa", units="square", cell_size=1000, seed=1,
                                             show_empty_low_low=True), x=x, y=y, boundary=area).frame
    assert list(shown["lisa_cluster"]) == list(frame["lisa_cluster_raw"])
    assert np.allclose(shown["lisa_p"], frame["lisa_p"])  # the choice changes labels, not the statistic


def test_lisa_on_zones_keeps_low_low_of_empty_zones():
    import geopandas as gpd
    from shapely.geometry import box

    cells = [box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000) for i in range(8) for j in range(8)]
    zones = gpd.GeoDataFrame({"zone": range(64)}, geometry=cells, crs="EPSG:32648")
    values = np.zeros(64)
    values[:10] = 20
    result = run_hotspot_analysis(HotspotSpec(statistic="lisa", units="zones", seed=1), zones=zones,
                                  zone_values=values)
    assert "n_empty_low_low" not in result.params
    assert list(result.frame["lisa_cluster"]) == list(result.frame["lisa_cluster_raw"])


def test_convex_hull_of_many_points_is_the_exact_hull():
    from geo.hotspot_pipeline import convex_hull_of_points

    rng = np.random.default_rng(5)
    for x, y in ((rng.normal(0, 1e4, 60_000), rng.normal(0, 1e4, 60_000)),
                 (rng.integers(0, 40, 60_000).astype(float), np.round(rng.normal(0, 15, 60_000)))):
        expected = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
        assert shapely.normalize(convex_hull_of_points(x, y)) == shapely.normalize(expected)


def test_lattice_gi_star_equals_the_weights_matrix_route(points):
    from geo.gistar import gi_star, gi_star_on_grid
    from geo.grid import bin_points, make_grid
    from geo.weights import grid_contiguity, grid_distance_band

    x, y = points
    for kind, neighbours, build in (("hex", "queen", lambda g: grid_contiguity(g, "queen")),
                                    ("square", 1500.0, lambda g: grid_distance_band(g, 1500.0))):
        grid = make_grid((559_000, 1_149_000, 571_000, 1_161_000), 500, kind)
        values = bin_points(grid, x, y).counts.astype(float)
        lattice = gi_star_on_grid(grid, neighbours, values, fdr=True)
        matrix = gi_star(values, build(grid), fdr=True)
        assert np.array_equal(lattice.z, matrix.z) and np.array_equal(lattice.bin, matrix.bin)
        assert np.allclose(lattice.p, matrix.p, rtol=0, atol=1e-15)
        assert np.array_equal(lattice.n_neighbours, matrix.n_neighbours)


def test_a_grid_built_once_gives_the_result_of_building_it_in_the_run(points):
    from geo.grid import make_grid

    x, y = points
    area = shapely.box(559_000, 1_149_000, 571_000, 1_161_000)
    spec = HotspotSpec(statistic="lisa", units="hex", cell_size=800, seed=4)
    grid = make_grid(area, 800, "hex")
    given = run_hotspot_analysis(spec, x=x, y=y, boundary=area, grid=grid).frame
    built = run_hotspot_analysis(spec, x=x, y=y, boundary=area).frame
    assert len(given) == grid.n_cells
    np.testing.assert_array_equal(given["lisa_p"], built["lisa_p"])
    assert list(given["lisa_cluster"]) == list(built["lisa_cluster"])
    with pytest.raises(GeoInputError, match="grid is hex 800 m but the analysis asks for square 800 m"):
        run_hotspot_analysis(HotspotSpec(units="square", cell_size=800), x=x, y=y, boundary=area, grid=grid)
    with pytest.raises(GeoInputError, match="grid is hex 800 m but the analysis asks for hex 500 m"):
        run_hotspot_analysis(HotspotSpec(units="hex", cell_size=500), x=x, y=y, boundary=area, grid=grid)
