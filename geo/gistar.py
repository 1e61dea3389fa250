"""Getis-Ord Gi* hot spot statistic as ArcGIS *Hot Spot Analysis (Getis-Ord Gi\\*)* defines it.

References
----------
Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance statistics.
Geographical Analysis 24(3). Ord, J. K. & Getis, A. (1995) Local spatial autocorrelation statistics:
distributional issues and an application. Geographical Analysis 27(4). Esri, "How Hot Spot Analysis
(Getis-Ord Gi*) works". Benjamini, Y. & Hochberg, Y. (1995) Controlling the false discovery rate.
JRSS B 57(1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import math

import numpy as np

from geo.errors import GeoInputError
from geo.permutation import check_permutations, conditional_permutation_p
from translations import message

MIN_UNITS = 30
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))


@dataclass(frozen=True, eq=False)
class GiStarResult:
    """Gi* per unit.

    Attributes
    ----------
    z : ndarray
        Gi* z-score (the Gi* statistic itself, as ArcGIS reports it).
    p : ndarray
        Two-sided p-value from the standard normal.
    bin : ndarray of int8
        Confidence bin −3…+3: ±3 at 99 %, ±2 at 95 %, ±1 at 90 %, 0 not significant (FDR-adjusted when
        ``params["fdr"]``).
    n_neighbours : ndarray of int
        Units in each neighbourhood, the unit itself included (ArcGIS ``NNeighbors``).
    p_sim : ndarray or None
        Folded conditional-permutation pseudo p-value when permutations were requested.
    params : dict
        Everything needed to reproduce the result.
    """

    z: np.ndarray
    p: np.ndarray
    bin: np.ndarray
    n_neighbours: np.ndarray
    p_sim: np.ndarray | None = None
    params: dict = field(default_factory=dict)


def check_values(values, name="values", min_units=MIN_UNITS):
    """Return ``values`` as a finite float array with at least ``min_units`` entries and non-zero variance."""
    y = np.asarray(values, dtype=float).ravel()
    if y.size == 0:
        raise GeoInputError(message("geo.gistar.empty_units_analyse", name=name))
    if y.size < min_units:
        raise GeoInputError(
            message("geo.gistar.too_few_units_values", name=name, y_size=y.size, min_units=min_units)
        )
    if not np.isfinite(y).all():
        raise GeoInputError(message("geo.gistar.contains_nan_infinite_values", name=name,
                                    value1=int((~np.isfinite(y)).sum())))
    if np.ptp(y) == 0:
        raise GeoInputError(
            message("geo.gistar.zero_variance_every_unit", name=name, y=y[0])
        )
    return y


def confidence_bins(z, p, *, fdr=False):
    """ArcGIS ``Gi_Bin``: ±3/±2/±1 for 99/95/90 % confidence, signed by z; optionally FDR-corrected.

    Parameters
    ----------
    z, p : ndarray
    fdr : bool, default False
        Benjamini–Hochberg at each confidence level: a unit is significant at level α when its p-value is
        no larger than the largest sorted p-value ``p_(k) <= α·k/m``. Only the bins change, never z or p.

    Returns
    -------
    ndarray of int8
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.zeros(z.shape, dtype=np.int8)
    valid = np.isfinite(p) & np.isfinite(z)
    p_sorted = np.sort(p[valid])
    m = p_sorted.size
    for level, alpha in reversed(CONFIDENCE_LEVELS):
        if fdr:
            ok = p_sorted <= alpha * np.arange(1, m + 1) / m
            cutoff = p_sorted[np.flatnonzero(ok)[-1]] if ok.any() else -1.0
            significant = valid & (p <= cutoff)
        else:
            significant = valid & (p < alpha)
        bins[significant] = level
    return (bins * np.sign(np.where(valid, z, 0.0))).astype(np.int8)


def two_sided_p(z):
    """Two-sided p-value of standard normal scores: 2·Φ(−|z|) = erfc(|z| / √2) (Abramowitz & Stegun 7.1.2).

    The C library's ``erfc`` (Python's :func:`math.erfc`), applied element-wise; NaN stays NaN. It is what
    ``scipy.stats.norm.sf`` computes, to the last bits, without the second of start-up that importing
    scipy's statistics costs a command-line run.
    """
    z = np.asarray(z, dtype=float)
    return _ERFC(np.abs(z) / math.sqrt(2.0)).astype(float) if z.size else z.copy()


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def gi_star_z(y, wy, w_sum, w_sq):
    """Gi* z-scores from the values and each unit's neighbourhood sums (the unit itself included).

    Parameters
    ----------
    y : ndarray, shape (n,)
        Values.
    wy, w_sum, w_sq : ndarray, shape (n,)
        ``Σ_j w_ij y_j``, ``Σ_j w_ij`` and ``Σ_j w_ij²`` per unit.

    Returns
    -------
    ndarray
        z-scores (NaN where the neighbourhood has no variance); see :func:`gi_star`.
    """
    n = y.size
    mean = y.mean()
    s = y.std()
    radicand = (n * w_sq - w_sum * w_sum) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (wy - mean * w_sum) / (s * np.sqrt(np.where(radicand > 0, radicand, np.nan)))


def gi_star(values, weights, *, fdr=False, permutations=0, seed=None, min_units=MIN_UNITS) -> GiStarResult:
    """Getis-Ord Gi* z-scores, p-values and confidence bins.

    Parameters
    ----------
    values : array_like, shape (n,)
        Value per unit (incident count, rate or smoothed rate).
    weights : scipy.sparse matrix, shape (n, n)
        Spatial weights, normally binary (ArcGIS fixed distance band or contiguity). The unit itself is
        always included: a zero diagonal entry is set to 1.
    fdr : bool, default False
        Apply the False Discovery Rate correction to the bins (as ArcGIS does); z and p are unchanged.
    permutations : int, default 0
        When ≥ 99, also compute conditional-permutation pseudo p-values (``p_sim``); 0 skips them.
    seed : int, optional
        Seed of the permutations.
    min_units : int, default 30

    Returns
    -------
    GiStarResult

    Notes
    -----
    With x̄ and S the mean and population standard deviation of all n values,

        z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

    (Esri, "How Hot Spot Analysis works"). For binary weights this equals PySAL esda
    ``G_Local(y, w, transform="B", star=True).Zs``. A unit whose neighbourhood is every unit has no
    variance: its z is NaN and its bin 0.
    """
    from geo.weights import check_weights, with_self

    y = check_values(values, min_units=min_units)
    n = y.size
    w = check_weights(weights, n)
    diagonal = w.diagonal()
    if (diagonal == 0).any():
        w = with_self(w, np.where(diagonal == 0, 1.0, diagonal))
    permutations = check_permutations(permutations)
    wy = w @ y
    w_sum = np.asarray(w.sum(axis=1)).ravel()
    w_sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    z = gi_star_z(y, wy, w_sum, w_sq)
    p = two_sided_p(z)
    bins = confidence_bins(z, p, fdr=fdr)
    p_sim = None
    if permutations:
        diag = w.diagonal()
        offdiag = (w - _diag(diag)).tocsr()
        offdiag.eliminate_zeros()
        offdiag.sort_indices()
        p_sim = conditional_permutation_p(
            y, offdiag, observed=wy, shift=diag * y, scale=np.ones(n), permutations=permutations, seed=seed
        )
    return GiStarResult(
        z=z,
        p=p,
        bin=bins,
        n_neighbours=np.diff(w.indptr),
        p_sim=p_sim,
        params={
            "statistic": "gi_star",
            "n": int(n),
            "fdr": bool(fdr),
            "permutations": permutations,
            "seed": seed,
            "self_included": True,
            "method": "Getis & Ord 1992; Ord & Getis 1995; ArcGIS Hot Spot Analysis",
        },
    )


def gi_star_on_grid(grid, neighbours, values, *, fdr=False, min_units=MIN_UNITS) -> GiStarResult:
    """Analytical Gi* on a grid with binary lattice neighbours, without a weights matrix.

    Parameters
    ----------
    grid : geo.grid.Grid
    neighbours : {"queen", "rook"} or float
        Contiguity or a distance band in metres between cell centres.
    values : array_like, shape (grid.n_cells,)
    fdr : bool, default False
    min_units : int, default 30

    Returns
    -------
    GiStarResult
        The same z, p and bins as :func:`gi_star` with the weights of :func:`geo.weights.grid_contiguity`
        or :func:`geo.weights.grid_distance_band` (no permutations).

    Notes
    -----
    With binary weights Σ_j w_ij² = Σ_j w_ij, and both and the lag Σ_j w_ij x_j come from
    :func:`geo.weights.grid_neighbour_sums` (shifted copies of the lattice). The formula is the one of
    :func:`gi_star`.
    """
    from geo.weights import grid_neighbour_sums

    y = check_values(values, min_units=min_units)
    if y.size != grid.n_cells:
        raise GeoInputError(message("geo.gistar.values_one_value_per", grid_n_cells=grid.n_cells, y_size=y.size))
    wy, cardinality = grid_neighbour_sums(grid, neighbours, y, include_self=True)
    w_sum = cardinality.astype(float)
    z = gi_star_z(y, wy, w_sum, w_sum)
    p = two_sided_p(z)
    return GiStarResult(
        z=z,
        p=p,
        bin=confidence_bins(z, p, fdr=fdr),
        n_neighbours=cardinality,
        p_sim=None,
        params={
            "statistic": "gi_star",
            "n": int(y.size),
            "fdr": bool(fdr),
            "permutations": 0,
            "seed": None,
            "self_included": True,
            "method": "Getis & Ord 1992; Ord & Getis 1995; ArcGIS Hot Spot Analysis",
        },
    )


def _diag(values):
    import scipy.sparse as sp

    return sp.diags(values, format="csr")
