"""Mann-Kendall trend test with tie correction, for one series or many at once.

References
----------
Mann, H. B. (1945) Nonparametric tests against trend. Econometrica 13. Kendall, M. G. (1975) Rank
Correlation Methods. Gilbert, R. O. (1987) Statistical Methods for Environmental Pollution Monitoring,
§16.4. Matches ``pymannkendall.original_test`` (S, var S with tie correction, continuity-corrected z,
two-sided p).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from geo.errors import GeoInputError
from translations import message

TRENDS = {1: "increasing", -1: "decreasing", 0: "no trend"}


@dataclass(frozen=True)
class MannKendallResult:
    """Mann-Kendall test of one series.

    Attributes
    ----------
    trend : {"increasing", "decreasing", "no trend"}
    s : float
        Kendall's S = Σ_{i<j} sign(x_j − x_i).
    var_s : float
        Variance of S corrected for ties.
    z : float
        (S − sign(S)) / √var S, 0 when S = 0.
    p : float
        Two-sided p-value.
    tau : float
        S / (n(n − 1)/2).
    """

    trend: str
    s: float
    var_s: float
    z: float
    p: float
    tau: float


def mann_kendall_many(series, alpha=0.05):
    """Vectorised Mann-Kendall over the rows of a 2-D array (one series per row, no missing values).

    Parameters
    ----------
    series : array_like, shape (m, n)
    alpha : float, default 0.05

    Returns
    -------
    s, var_s, z, p : ndarray, shape (m,)
    trend : ndarray of int8, shape (m,)
        +1 significant increase, −1 significant decrease, 0 otherwise.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 2:
        raise GeoInputError(message("geo.mannkendall.series_d_array_one", x_ndim=x.ndim))
    m, n = x.shape
    if n < 3:
        raise GeoInputError(message("geo.mannkendall.too_few_time_steps", n=n))
    if not np.isfinite(x).all():
        raise GeoInputError(message("geo.mannkendall.series_contain_nan_infinite"))
    if not 0 < alpha < 1:
        raise GeoInputError(message("geo.mannkendall.alpha_lie_between_got", alpha=alpha))
    s = np.zeros(m)
    ties = np.zeros(m)
    for k in range(n - 1):
        diff = x[:, k + 1:] - x[:, k:k + 1]
        s += np.sign(diff).sum(axis=1)
    # Σ_groups t(t−1)(2t+5) = Σ_elements (c−1)(2c+5), c = size of the element's tie group.
    for k in range(n):
        c = (x == x[:, k:k + 1]).sum(axis=1)
        ties += (c - 1) * (2 * c + 5)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var_s), np.where(s < 0, (s + 1) / np.sqrt(var_s), 0.0))
    z = np.where(var_s > 0, z, 0.0)
    p = 2.0 * (1.0 - stats.norm.cdf(np.abs(z)))
    significant = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
    trend = (np.sign(z) * significant).astype(np.int8)
    return s, var_s, z, p, trend


def mann_kendall(values, alpha=0.05) -> MannKendallResult:
    """Mann-Kendall trend test of one series (NaN values are skipped, as pymannkendall does).

    Parameters
    ----------
    values : array_like, shape (n,)
    alpha : float, default 0.05

    Returns
    -------
    MannKendallResult
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    s, var_s, z, p, trend = mann_kendall_many(x[None, :], alpha=alpha)
    n = x.size
    return MannKendallResult(
        trend=TRENDS[int(trend[0])],
        s=float(s[0]),
        var_s=float(var_s[0]),
        z=float(z[0]),
        p=float(p[0]),
        tau=float(s[0] / (0.5 * n * (n - 1))),
    )
