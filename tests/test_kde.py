"""Quartic kernel density (geo/kde.py) against a brute-force sum."""
import numpy as np
import pytest
import shapely
from scipy import integrate

from geo.errors import GeoInputError
from geo.grid import make_grid
from geo.kde import bandwidth_rule, kernel_density, kernel_density_brute_force, quartic_kernel

X0, Y0 = 560_000.0, 1_150_000.0
AREA = shapely.Polygon([(X0, Y0), (X0 + 8000, Y0), (X0 + 8000, Y0 + 5000), (X0 + 2000, Y0 + 7000)])


def test_quartic_kernel_integrates_to_one_and_vanishes_at_h():
    mass, _ = integrate.quad(lambda r: quartic_kernel(r, 700.0) * 2 * np.pi * r, 0, 700)
    assert mass == pytest.approx(1.0, rel=1e-10)
    assert quartic_kernel(700.0, 700.0) == 0 and quartic_kernel(900.0, 700.0) == 0
    assert quartic_kernel(0.0, 700.0) == pytest.approx(3 / np.pi / 700**2)


@pytest.mark.parametrize("kind", ["square", "hex"])
@pytest.mark.parametrize("bandwidth", [250.0, 600.0, 1337.0])
@pytest.mark.parametrize("scale", [1, 20])
def test_grid_density_equals_brute_force(kind, bandwidth, scale):
    """1,200 points are fewer than the padded lattice's cells (offsets in batches), 24,000 more (offset by
    offset, sums by home cell): both orders of the sum equal the brute force."""
    grid = make_grid(AREA, 250, kind)
    rng = np.random.default_rng(11)
    # Clustered points, some beyond the area (they still reach nearby cells), some duplicated.
    x = np.concatenate([rng.normal(X0 + 3000, 700, 800 * scale), rng.uniform(X0 - 2000, X0 + 10000, 400 * scale)])
    y = np.concatenate([rng.normal(Y0 + 3000, 700, 800 * scale), rng.uniform(Y0 - 2000, Y0 + 9000, 400 * scale)])
    x[:50], y[:50] = x[50], y[50]
    weights = rng.integers(1, 4, x.size).astype(float)
    ours = kernel_density(grid, x, y, bandwidth, weights=weights)
    expected = kernel_density_brute_force(grid.x, grid.y, x, y, bandwidth, weights)
    np.testing.assert_allclose(ours.density, expected, rtol=1e-9, atol=1e-9 * expected.max())
    assert ours.params["unit"] == "per km²" and ours.bandwidth == bandwidth


def test_point_on_cell_centre_and_at_the_bandwidth_edge():
    grid = make_grid(shapely.box(X0, Y0, X0 + 3000, Y0 + 3000), 500, "square")
    centre = np.argmin(np.hypot(grid.x - (X0 + 1250), grid.y - (Y0 + 1250)))
    result = kernel_density(grid, [grid.x[centre]], [grid.y[centre]], 1000)
    assert result.density[centre] == pytest.approx(3 / np.pi / 1000**2 * 1e6)
    d = np.hypot(grid.x - grid.x[centre], grid.y - grid.y[centre])
    assert (result.density[d >= 1000] == 0).all() and (result.density[d < 1000] > 0).all()


def test_total_mass_is_conserved_far_from_the_edges():
    grid = make_grid(shapely.box(X0, Y0, X0 + 10000, Y0 + 10000), 100, "square")
    rng = np.random.default_rng(2)
    x, y = rng.uniform(X0 + 3000, X0 + 7000, 500), rng.uniform(Y0 + 3000, Y0 + 7000, 500)
    density = kernel_density(grid, x, y, 800).density
    assert density.sum() * grid.cell_area / 1e6 == pytest.approx(500, rel=2e-3)


def test_bandwidth_rules():
    rng = np.random.default_rng(5)
    x, y = rng.normal(X0, 1000, 2000), rng.normal(Y0, 1000, 2000)
    n = 2000
    sd = np.sqrt(x.var() + y.var())
    dm = np.median(np.hypot(x - x.mean(), y - y.mean()))
    assert bandwidth_rule(x, y, "arcgis") == pytest.approx(0.9 * min(sd, np.sqrt(1 / np.log(2)) * dm) * n**-0.2)

    def nrd(v):
        q = np.subtract(*np.percentile(v, [75, 25]))
        return 4 * 1.06 * min(v.std(ddof=1), q / 1.34) * n**-0.2

    assert bandwidth_rule(x, y, "sfhotspot") == pytest.approx((nrd(x) + nrd(y)) / 2)
    grid = make_grid(shapely.box(X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000), 100, "square")
    assert kernel_density(grid, x, y, "sfhotspot").params["bandwidth_rule"] == "sfhotspot"


def test_bad_inputs_are_named():
    grid = make_grid(AREA, 500, "square")
    with pytest.raises(GeoInputError, match="smaller than the cell size"):
        kernel_density(grid, [X0 + 100], [Y0 + 100], 300)
    with pytest.raises(GeoInputError, match="no points"):
        kernel_density(grid, [], [], 1000)
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        kernel_density(grid, [105.6], [10.4], 1000)
    with pytest.raises(GeoInputError, match="positive"):
        kernel_density(grid, [X0 + 100], [Y0 + 100], -1)
    with pytest.raises(GeoInputError, match="method must be one of"):
        kernel_density(grid, [X0 + 100, X0 + 200], [Y0 + 100, Y0 + 300], "silverman")
    with pytest.raises(GeoInputError, match="bandwidth must be metres"):
        kernel_density(grid, [X0 + 100], [Y0 + 100], None)
    with pytest.raises(GeoInputError, match="weights"):
        kernel_density(grid, [X0 + 100], [Y0 + 100], 1000, weights=[1, 2])


def test_default_radius_honours_weights_as_repeated_incidents():
    """ArcGIS with a population field: weighted mean centre, weighted standard and median distance,
    n = the sum of the weights — the radius of each incident repeated ``weight`` times."""
    from geo.kde import bandwidth_rule, weighted_median

    rng = np.random.default_rng(3)
    x, y = rng.normal(600_000, 2_000, 40), rng.normal(1_200_000, 3_000, 40)
    w = rng.integers(1, 6, 40)
    repeated = bandwidth_rule(np.repeat(x, w), np.repeat(y, w))
    assert bandwidth_rule(x, y, weights=w) == pytest.approx(repeated)
    assert bandwidth_rule(x, y, weights=np.ones(40)) == pytest.approx(bandwidth_rule(x, y))
    assert bandwidth_rule(x, y, weights=w) != pytest.approx(bandwidth_rule(x, y))
    assert weighted_median([1, 2, 3, 4], [1, 1, 1, 1]) == np.median([1, 2, 3, 4])
    assert weighted_median([1, 2, 3], [1, 1, 5]) == 3
    with pytest.raises(GeoInputError, match="weights"):
        bandwidth_rule(x, y, weights=np.zeros(40))
    with pytest.raises(GeoInputError, match="no weights"):
        bandwidth_rule(x, y, "sfhotspot", weights=w)


def test_pipeline_kde_default_radius_uses_the_weight_field():
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis

    rng = np.random.default_rng(4)
    x, y = rng.normal(600_000, 2_000, 60), rng.normal(1_200_000, 2_000, 60)
    w = np.where(np.arange(60) < 10, 20.0, 1.0)
    weighted = run_hotspot_analysis(HotspotSpec(statistic="kde", cell_size=200), x=x, y=y, point_weights=w)
    plain = run_hotspot_analysis(HotspotSpec(statistic="kde", cell_size=200), x=x, y=y)
    assert weighted.params["bandwidth"] != pytest.approx(plain.params["bandwidth"])
    assert "weighted" in weighted.params["bandwidth_rule"]
