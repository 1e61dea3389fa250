"""Grids and point binning (geo/grid.py)."""
import numpy as np
import pytest
import shapely

from geo.errors import GeoInputError
from geo.grid import (
    bin_points,
    default_cell_size,
    locational_outliers,
    make_grid,
)

# A small L-shaped "province" in UTM 48N metres near Cao Lãnh.
ORIGIN_X, ORIGIN_Y = 560_000.0, 1_150_000.0
PROVINCE = shapely.Polygon(
    [(ORIGIN_X, ORIGIN_Y), (ORIGIN_X + 6000, ORIGIN_Y), (ORIGIN_X + 6000, ORIGIN_Y + 3000),
     (ORIGIN_X + 3000, ORIGIN_Y + 3000), (ORIGIN_X + 3000, ORIGIN_Y + 6000), (ORIGIN_X, ORIGIN_Y + 6000)]
)


@pytest.mark.parametrize("kind", ["square", "hex"])
def test_grid_covers_boundary_exactly_when_clipped(kind):
    grid = make_grid(PROVINCE, 500, kind)
    assert grid.crs == "EPSG:32648"
    assert shapely.area(grid.geometry).sum() == pytest.approx(PROVINCE.area, rel=1e-9)
    assert shapely.union_all(grid.geometry).symmetric_difference(PROVINCE).area < 1e-3


def test_square_grid_cell_count_and_centres():
    grid = make_grid(PROVINCE, 500, "square")
    assert grid.n_cells == 27 * 4  # 27 km² in 0.25 km² cells
    assert np.allclose((grid.x - ORIGIN_X) % 500, 250)
    assert grid.cell_area == 250_000


def test_hex_cells_have_the_documented_size():
    grid = make_grid(PROVINCE, 500, "hex", clip=False)
    assert np.allclose(shapely.area(grid.geometry), np.sqrt(3) / 2 * 500**2)
    # Adjacent centres 500 m apart.
    d = np.hypot(grid.x[:, None] - grid.x[None, :], grid.y[:, None] - grid.y[None, :])
    assert np.isclose(np.min(d[d > 0]), 500)


@pytest.mark.parametrize("kind", ["square", "hex"])
def test_binning_matches_point_in_polygon(kind):
    grid = make_grid(PROVINCE, 400, kind, clip=False)
    rng = np.random.default_rng(3)
    x = rng.uniform(ORIGIN_X - 500, ORIGIN_X + 6500, 5000)
    y = rng.uniform(ORIGIN_Y - 500, ORIGIN_Y + 6500, 5000)
    binned = bin_points(grid, x, y)
    inside = binned.cell_index >= 0
    assert shapely.contains_xy(grid.geometry[binned.cell_index[inside]], x[inside], y[inside]).all()
    # Points found in no cell are really in none.
    outside_points = shapely.points(x[~inside], y[~inside])
    assert not shapely.STRtree(grid.geometry).query(outside_points, predicate="within").size
    assert binned.n_outside == (~inside).sum()
    assert binned.counts.sum() == inside.sum()
    assert np.array_equal(binned.counts, np.bincount(binned.cell_index[inside], minlength=grid.n_cells))


def test_binning_with_weights_sums_weights():
    grid = make_grid(PROVINCE, 1000, "square")
    x = np.array([ORIGIN_X + 100, ORIGIN_X + 200, ORIGIN_X + 1500])
    y = np.array([ORIGIN_Y + 100, ORIGIN_Y + 300, ORIGIN_Y + 100])
    binned = bin_points(grid, x, y, weights=[2.0, 3.0, 0.5])
    assert binned.counts[binned.cell_index[0]] == 5.0
    assert binned.counts[binned.cell_index[2]] == 0.5
    assert binned.cell_index[0] == binned.cell_index[1] != binned.cell_index[2]


def test_points_outside_the_grid():
    grid = make_grid(PROVINCE, 1000, "square")
    # Inside the bounding box but in the missing quarter of the L.
    x = np.array([ORIGIN_X + 500, ORIGIN_X + 5500])
    y = np.array([ORIGIN_Y + 500, ORIGIN_Y + 5500])
    binned = bin_points(grid, x, y)
    assert binned.cell_index[1] == -1 and binned.n_outside == 1
    with pytest.raises(GeoInputError, match="outside the grid"):
        bin_points(grid, x, y, outside="raise")
    with pytest.raises(GeoInputError, match="all 1 points fall outside"):
        bin_points(grid, x[1:], y[1:])


def test_bad_binning_inputs():
    grid = make_grid(PROVINCE, 1000, "square")
    with pytest.raises(GeoInputError, match="no points"):
        bin_points(grid, [], [])
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        bin_points(grid, [105.6], [10.45])
    with pytest.raises(GeoInputError, match="NaN"):
        bin_points(grid, [np.nan], [ORIGIN_Y])


def test_bad_grid_inputs():
    with pytest.raises(GeoInputError, match="cell_size"):
        make_grid(PROVINCE, 0)
    with pytest.raises(GeoInputError, match="kind"):
        make_grid(PROVINCE, 500, "triangle")
    with pytest.raises(GeoInputError, match="max_cells"):
        make_grid(PROVINCE, 5, "square")
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        make_grid(shapely.box(105.5, 10.2, 105.9, 10.6), 0.01)


def test_geodataframe_boundary_is_projected():
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=[PROVINCE], crs="EPSG:32648").to_crs("EPSG:4326")
    grid = make_grid(frame, 1000, "square")
    assert grid.n_cells == 27
    assert grid.to_geodataframe(value=np.arange(27)).crs == "EPSG:32648"


def test_locational_outliers_are_ignored_by_default_cell_size():
    rng = np.random.default_rng(1)
    x = rng.normal(ORIGIN_X, 800, 300)
    y = rng.normal(ORIGIN_Y, 800, 300)
    base = default_cell_size(x, y)
    stray_x = np.append(x, ORIGIN_X + 500_000)
    stray_y = np.append(y, ORIGIN_Y)
    assert locational_outliers(stray_x, stray_y)[-1]
    assert not locational_outliers(x, y)[:10].any()
    assert default_cell_size(stray_x, stray_y) == pytest.approx(base)
    assert 0 < base < 800


def test_default_cell_size_follows_arcgis_rule():
    # A perfect 10×10 lattice 100 m apart: mean = median NN distance = 100, ratio 1 → 2 × 100.
    gx, gy = np.meshgrid(np.arange(10) * 100.0, np.arange(10) * 100.0)
    x, y = gx.ravel() + ORIGIN_X, gy.ravel() + ORIGIN_Y
    assert default_cell_size(x, y) == pytest.approx(200.0)
    assert default_cell_size(x, y, method="sfhotspot") == pytest.approx(900.0 / 50)


def test_default_cell_size_needs_enough_points():
    with pytest.raises(GeoInputError, match="too few incidents"):
        default_cell_size([ORIGIN_X] * 10, [ORIGIN_Y] * 10)
    with pytest.raises(GeoInputError, match="no points"):
        default_cell_size([], [])


@pytest.mark.parametrize("kind", ["hex", "square"])
@pytest.mark.parametrize("cell_size", [170.0, 600.0])
def test_kept_cells_and_clipped_polygons_equal_the_exact_predicates_on_every_cell(kind, cell_size):
    """Cells far from the boundary's rings are decided by their centre: the kept set and the clipped polygons
    must be what the exact predicates give on every candidate cell (a ragged boundary with a hole and an
    island, whose edges wander through cells)."""
    from geo.grid import _cell_polygons, _lattice_centre

    rng = np.random.default_rng(7)
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    radius = 9000 + 1500 * np.sin(7 * angles) + rng.uniform(-300, 300, angles.size)
    outer = shapely.Polygon(np.column_stack([600_000 + radius * np.cos(angles), 1_150_000 + radius * np.sin(angles)]))
    boundary = shapely.union(outer.difference(shapely.Point(600_500, 1_150_300).buffer(2500)),
                             shapely.Point(600_400, 1_150_200).buffer(700))
    grid = make_grid(boundary, cell_size, kind)
    xmin, ymin, xmax, ymax = boundary.bounds
    n_cols, n_rows = int((xmax - xmin) / cell_size) + 5, int((ymax - ymin) / (0.8 * cell_size)) + 5
    # Lattice addresses from the grid's origin; hexagon columns (axial q) shift by half a row per row.
    cols, rows = np.meshgrid(np.arange(-n_rows - 5, n_cols + 5), np.arange(-5, n_rows + 5))
    cx, cy = _lattice_centre(kind, cell_size, grid.origin, cols.ravel(), rows.ravel())
    cells = _cell_polygons(kind, cell_size, cx, cy)
    overlaps = shapely.area(shapely.intersection(cells, boundary)) > 1e-9 * cell_size ** 2
    expected = set(zip(cols.ravel()[overlaps].tolist(), rows.ravel()[overlaps].tolist()))
    assert set(zip(grid.col.tolist(), grid.row.tolist())) == expected
    exact = shapely.intersection(_cell_polygons(kind, cell_size, grid.x, grid.y), boundary)
    assert np.allclose(shapely.area(grid.geometry), shapely.area(exact), rtol=0, atol=1e-6)
    # Clipped against the boundary's local piece, a cell's new vertices may differ from the whole boundary's
    # intersection in the last bits: the same polygon to well under a millimetre.
    assert shapely.area(shapely.symmetric_difference(grid.geometry, exact)).max() < 1e-6
