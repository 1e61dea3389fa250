"""Kernel density of incidents on a grid, with the quartic kernel used by ArcGIS *Kernel Density*.

References
----------
Silverman, B. W. (1986) Density Estimation for Statistics and Data Analysis, eq. 4.5 (quartic / biweight
kernel). Esri, "How Kernel Density works": K(d) = (3/π)(1 − (d/h)²)² / h² for d < h, else 0, so each
incident spreads a total mass of one (or its weight) over a disc of radius h.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo.crs import require_metres
from geo.errors import GeoInputError
from geo.grid import SQRT3, Grid
from translations import message

BANDWIDTH_RULES = ("arcgis", "sfhotspot")


@dataclass(frozen=True, eq=False)
class KernelDensityResult:
    """Density per km² at each grid cell centre, with the parameters used.

    Attributes
    ----------
    density : ndarray
        Expected incidents (or summed weights) per km² at each cell centre.
    bandwidth : float
        Kernel radius in metres.
    params : dict
    """

    density: np.ndarray
    bandwidth: float
    params: dict = field(default_factory=dict)


def quartic_kernel(d, bandwidth):
    """Quartic kernel value per m²: (3/π)(1 − (d/h)²)²/h² for d < h, 0 beyond (Silverman 1986, eq. 4.5)."""
    d = np.asarray(d, dtype=float)
    h = float(bandwidth)
    t = np.clip(1.0 - (d / h) ** 2, 0.0, None)
    return 3.0 / np.pi * t * t / (h * h)


def weighted_median(values, weights) -> float:
    """The median of ``values`` each counted ``weights`` times (the middle of the cumulative weight; two
    middle values are averaged, so unit weights give ``numpy.median``)."""
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cumulative = np.cumsum(w)
    half = cumulative[-1] / 2.0
    i = int(np.searchsorted(cumulative, half, side="left"))
    if np.isclose(cumulative[i], half) and i + 1 < v.size:
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def bandwidth_rule(x, y, method="arcgis", weights=None):
    """Data-driven kernel radius in metres.

    Parameters
    ----------
    x, y : array_like
        Incident coordinates in metres.
    method : {"arcgis", "sfhotspot"}
        ``"arcgis"`` — ArcGIS *Kernel Density* default search radius (spatial Silverman rule):
        0.9 · min(SD, √(1/ln 2) · D_m) · n^−0.2, SD the standard distance and D_m the median distance
        to the mean centre. ``"sfhotspot"`` — the mean of the x and y bandwidths of
        ``MASS::bandwidth.nrd``: 4 · 1.06 · min(σ, IQR/1.34) · n^−1/5 (arithmetic mean of both axes).
    weights : array_like, optional
        Weight of each incident (a population field, ``--weight-field``). With ``"arcgis"`` the rule is
        computed as ArcGIS does with a population field: the weighted mean centre, the weighted standard
        distance, the weighted median distance to that centre, and n = the sum of the weights — the same
        radius as repeating each incident ``weight`` times. ``"sfhotspot"`` has no weights (as the R
        package): they are refused.

    Returns
    -------
    float
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size < 2:
        raise GeoInputError(message("geo.kde.least_incidents_needed_choose", x_size=x.size))
    require_metres(x, y, what="point coordinates")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != x.size:
            raise GeoInputError(message("geo.kde.weights_one_value_per", x_size=x.size, w_size=w.size))
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise GeoInputError(message("geo.kde.weights_finite_non_negative"))
    n = float(w.sum())
    if method == "arcgis":
        mx, my = np.average(x, weights=w), np.average(y, weights=w)
        sd = np.sqrt(np.average((x - mx) ** 2 + (y - my) ** 2, weights=w))
        dm = weighted_median(np.hypot(x - mx, y - my), w)
        h = 0.9 * min(sd, np.sqrt(1.0 / np.log(2.0)) * dm) * n ** -0.2
    elif method == "sfhotspot":
        if weights is not None:
            raise GeoInputError(message("geo.kde.sfhotspot_bandwidth_rule_takes"))

        def nrd(v):
            q75, q25 = np.percentile(v, [75, 25])
            return 4 * 1.06 * min(np.std(v, ddof=1), (q75 - q25) / 1.34) * n ** -0.2

        h = (nrd(x) + nrd(y)) / 2.0
    else:
        raise GeoInputError(message("geo.kde.method_one_got", bandwidth_rules=BANDWIDTH_RULES, method=method))
    if not h > 0:
        raise GeoInputError(message("geo.kde.incidents_nearly_all_one"))
    return float(h)


def kernel_density(grid: Grid, x, y, bandwidth, weights=None) -> KernelDensityResult:
    """Quartic kernel density (per km²) at every grid cell centre — exact, in time linear in the points.

    Parameters
    ----------
    grid : Grid
        Square or hexagonal grid (geo.grid.make_grid); density is evaluated at cell centres.
    x, y : array_like
        Incident coordinates in metres (EPSG:32648). Points outside the grid still contribute to cells
        within ``bandwidth`` of them.
    bandwidth : float or {"arcgis", "sfhotspot"}
        Kernel radius in metres, or the name of a rule (see :func:`bandwidth_rule`). Must not be smaller
        than the cell size, otherwise the surface would miss incidents between cell centres.
    weights : array_like, optional
        Weight of each incident (population field); 1 when omitted.

    Returns
    -------
    KernelDensityResult

    Notes
    -----
    Each point is located in its home lattice cell. Only the few lattice offsets whose centres can lie
    within ``bandwidth`` of some point of the home cell are visited; for each, the exact kernel value of
    every point is accumulated with ``np.bincount`` into the target cell. The result equals the brute-force
    sum Σ_i w_i K(‖c − p_i‖) up to floating-point rounding, at a cost of about (2h/s + 2)² passes over the
    points instead of one pass per cell.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise GeoInputError(message("geo.kde.x_y_same_length", x_size=x.size, y_size=y.size))
    if x.size == 0:
        raise GeoInputError(message("geo.kde.points_kernel_density_needs"))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise GeoInputError(message("geo.kde.x_y_contain_nan"))
    require_metres(x, y, what="point coordinates")
    rule = None
    if isinstance(bandwidth, str):
        rule = bandwidth
        bandwidth = bandwidth_rule(x, y, rule)
    try:
        h = float(bandwidth)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.kde.bandwidth_metres_one_got", bandwidth_rules=BANDWIDTH_RULES,
                                    bandwidth=bandwidth)) from None
    if not np.isfinite(h) or h <= 0:
        raise GeoInputError(message("geo.kde.bandwidth_positive_distance_metres", bandwidth=bandwidth))
    if h < grid.cell_size:
        raise GeoInputError(
            message("geo.kde.bandwidth_m_smaller_than", h=h, grid_cell_size=grid.cell_size)
        )
    if weights is None:
        w = None
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != x.shape:
            raise GeoInputError(message("geo.kde.weights_one_value_per", x_size=x.size, w_size=w.size))
        if not np.isfinite(w).all():
            raise GeoInputError(message("geo.kde.weights_contain_nan_infinite"))

    reach = h + grid.max_centre_offset
    step = grid.cell_size * (SQRT3 / 2.0 if grid.kind == "hex" else 1.0)
    pad = int(np.ceil(reach / step)) + 1
    n_rows, n_cols = grid.lookup.shape
    width = n_cols + 4 * pad
    height = n_rows + 4 * pad

    dc, dr = np.meshgrid(np.arange(-pad, pad + 1), np.arange(-pad, pad + 1))
    dc, dr = dc.ravel(), dr.ravel()
    x0, y0 = grid.lattice_centre(0, 0)
    ox, oy = grid.lattice_centre(dc, dr)
    ox, oy = ox - x0, oy - y0
    reachable = np.hypot(ox, oy) < reach
    inv_h2 = 1.0 / (h * h)
    acc = np.zeros(width * height)
    offsets = list(zip(dc[reachable], dr[reachable], ox[reachable], oy[reachable]))
    # Points in blocks: what is computed per point (lattice address, offset from the cell centre, squared
    # distances to the reachable centres) stays a few MiB whatever the number of points.
    for start in range(0, x.size, _POINT_BLOCK):
        bx, by = x[start:start + _POINT_BLOCK], y[start:start + _POINT_BLOCK]
        bw = None if w is None else w[start:start + _POINT_BLOCK]
        col, row = grid.lattice_address(bx, by)
        lc = col - grid.col_min + 2 * pad
        lr = row - grid.row_min + 2 * pad
        near = (lc >= pad) & (lc < n_cols + 3 * pad) & (lr >= pad) & (lr < n_rows + 3 * pad)
        if not near.all():
            bx, by, col, row, lc, lr = bx[near], by[near], col[near], row[near], lc[near], lr[near]
            bw = None if bw is None else bw[near]
        cx, cy = grid.lattice_centre(col, row)
        _accumulate(acc, lr * width + lc, bx - cx, by - cy, bw, offsets, width, inv_h2)
    target = (grid.row - grid.row_min + 2 * pad) * width + (grid.col - grid.col_min + 2 * pad)
    density = acc[target] * (3.0 / np.pi) * inv_h2 * 1e6
    return KernelDensityResult(
        density=density,
        bandwidth=h,
        params={
            "statistic": "kde",
            "kernel": "quartic",
            "bandwidth_m": h,
            "bandwidth_rule": rule,
            "cell_size_m": grid.cell_size,
            "grid": grid.kind,
            "weighted": weights is not None,
            "unit": "per km²",
            "method": "Silverman 1986 eq. 4.5; ArcGIS Kernel Density",
        },
    )


_POINT_BLOCK = 1 << 17
#: (offset, point) pairs per bincount in :func:`_accumulate` (8 MiB per array of them).
_PAIR_BLOCK = 1 << 20


def _accumulate(acc, home, ux, uy, w, offsets, width, inv_h2):
    """Add each point's quartic kernel (without its constant) to the lattice cells at ``offsets``.

    Two orders of the same sum, chosen by which is larger, the block of points or the lattice:

    * more points than lattice cells (a million incidents on a province grid): offset by offset, the
      kernel values summed by home cell with one ``np.bincount`` and added one slice along the flat
      lattice, the squared x and y distances shared between offsets with the same x (y) shift;
    * fewer (a year of a province is a few thousand points, while a 250 m grid under a 5 km radius has
      over a thousand offsets): offsets in batches of about :data:`_PAIR_BLOCK` (offset, point) pairs, one
      ``np.bincount`` over the lattice per batch, not a thousand passes over it for a few thousand
      additions each.
    """
    if ux.size >= acc.size:
        _accumulate_by_offset(acc, home, ux, uy, w, offsets, width, inv_h2)
        return
    dc, dr, ox, oy = (np.asarray(column) for column in zip(*offsets))
    shift = dr * width + dc
    batch = max(1, _PAIR_BLOCK // max(1, ux.size))
    for start in range(0, shift.size, batch):
        part = slice(start, start + batch)
        t = np.square(ox[part, None] - ux[None, :])
        t += np.square(oy[part, None] - uy[None, :])
        t *= inv_h2
        np.subtract(1.0, t, out=t)
        np.maximum(t, 0.0, out=t)
        np.multiply(t, t, out=t)
        if w is not None:
            t *= w[None, :]
        acc += np.bincount((home[None, :] + shift[part, None]).ravel(), weights=t.ravel(), minlength=acc.size)


def _accumulate_by_offset(acc, home, ux, uy, w, offsets, width, inv_h2):
    """:func:`_accumulate` one offset at a time, for blocks with more points than the lattice has cells."""
    # 1 − ((ox − ux)² + (oy − uy)²)/h² = [1 − (ox − ux)²/h²] − (oy − uy)²/h²: the first part depends on the
    # offset's x only, the second on its y, so each is computed once and shared between offsets.
    one_minus_x, sq_y = {}, {}
    t = np.empty_like(ux)
    for dci, dri, oxi, oyi in offsets:
        kx, ky = round(oxi, 6), round(oyi, 6)
        if kx not in one_minus_x:
            one_minus_x[kx] = 1.0 - ((oxi - ux) ** 2) * inv_h2
        if ky not in sq_y:
            sq_y[ky] = ((oyi - uy) ** 2) * inv_h2
        np.subtract(one_minus_x[kx], sq_y[ky], out=t)
        np.maximum(t, 0.0, out=t)
        np.multiply(t, t, out=t)
        if w is not None:
            np.multiply(t, w, out=t)
        # Summed by home cell, then added one offset further along the flat lattice (every home + shift is
        # inside it, see the padding): a slice addition instead of shifting a million indices.
        per_home = np.bincount(home, weights=t, minlength=acc.size)
        shift = int(dri * width + dci)
        if shift >= 0:
            acc[shift:] += per_home[:acc.size - shift]
        else:
            acc[:shift] += per_home[-shift:]


def kernel_density_brute_force(cx, cy, x, y, bandwidth, weights=None):
    """Reference implementation: Σ_i w_i K(‖c − p_i‖) per km² for every centre (O(cells × points))."""
    cx = np.asarray(cx, dtype=float)
    cy = np.asarray(cy, dtype=float)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    out = np.empty(cx.size)
    for start in range(0, cx.size, 256):
        d = np.hypot(cx[start:start + 256, None] - x[None, :], cy[start:start + 256, None] - y[None, :])
        out[start:start + 256] = quartic_kernel(d, bandwidth) @ w
    return out * 1e6


__all__ = [
    "BANDWIDTH_RULES",
    "KernelDensityResult",
    "bandwidth_rule",
    "kernel_density",
    "kernel_density_brute_force",
    "quartic_kernel",
]
