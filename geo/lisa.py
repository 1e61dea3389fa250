"""Local Moran's I (LISA) with conditional permutation inference.

References
----------
Anselin, L. (1995) Local indicators of spatial association — LISA. Geographical Analysis 27(2), 93–115.
Computed as PySAL esda ``Moran_Local``: ``I_i = (n − 1) z_i Σ_j w_ij z_j / Σ_k z_k²`` with ``z`` the
values standardised by their population standard deviation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from geo.errors import GeoInputError
from geo.gistar import MIN_UNITS, check_values
from geo.permutation import check_permutations, conditional_permutation_p
from geo.weights import check_weights
from translations import CatalogTable, message

# PySAL numbering of the Moran scatterplot quadrants.
QUADRANT_CODES = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
NOT_SIGNIFICANT = "not significant"
#: Quadrant labels, (vi, en) from the catalogs (``geo.lisa.quadrant.*``).
QUADRANT_LABELS = CatalogTable("geo.lisa.quadrant")
QUADRANT_LABELS_VI = {code: QUADRANT_LABELS[code][0] for code in (*QUADRANT_CODES.values(), NOT_SIGNIFICANT)}


@dataclass(frozen=True, eq=False)
class LocalMoranResult:
    """Local Moran's I per unit.

    Attributes
    ----------
    I : ndarray
        Local Moran's I.
    p_sim : ndarray or None
        Folded pseudo p-value from conditional permutations (None when ``permutations=0``).
    quadrant : ndarray of int8
        1 HH, 2 LH, 3 LL, 4 HL (PySAL numbering), whatever the significance.
    label : ndarray of str
        "HH", "LL", "HL", "LH" where ``p_sim <= alpha``, else "not significant".
    z, lag : ndarray
        Standardised values and their spatial lag.
    params : dict
    """

    I: np.ndarray  # noqa: E741 -- the statistic's own name
    p_sim: np.ndarray | None
    quadrant: np.ndarray
    label: np.ndarray
    z: np.ndarray
    lag: np.ndarray
    params: dict = field(default_factory=dict)


def _transform(w, transform):
    if transform == "b":
        return w
    if transform == "r":
        row_sum = np.asarray(w.sum(axis=1)).ravel()
        scale = np.divide(1.0, row_sum, out=np.zeros_like(row_sum), where=row_sum > 0)
        return sp.diags(scale) @ w
    raise GeoInputError(message("geo.lisa.transform_r_row_standardised", transform=transform))


def local_moran(values, weights, *, transform="r", permutations=999, seed=None, alpha=0.05,
                min_units=MIN_UNITS) -> LocalMoranResult:
    """Local Moran's I with conditional permutation pseudo p-values and cluster labels.

    Parameters
    ----------
    values : array_like, shape (n,)
    weights : scipy.sparse matrix, shape (n, n)
        Spatial weights without the diagonal (a non-zero diagonal is refused).
    transform : {"r", "b"}, default "r"
        Row-standardise (GeoDa and esda default) or keep binary weights.
    permutations : int, default 999
        0 skips inference (every label is then "not significant").
    seed : int, optional
    alpha : float, default 0.05
        Significance level for the labels.
    min_units : int, default 30

    Returns
    -------
    LocalMoranResult

    Notes
    -----
    ``I`` equals esda ``Moran_Local(y, w, transformation=transform).Is``. The pseudo p-values follow the
    same conditional randomisation as esda (own value fixed, neighbours drawn from the other n − 1 units)
    with numpy's generator, so they agree with esda in distribution, not draw for draw.
    """
    y = check_values(values, min_units=min_units)
    n = y.size
    w = check_weights(weights, n)
    if (w.diagonal() != 0).any():
        raise GeoInputError(message("geo.lisa.weights_local_moran_s"))
    if not 0 < alpha < 1:
        raise GeoInputError(message("geo.lisa.alpha_lie_between_got", alpha=alpha))
    permutations = check_permutations(permutations)
    w = _transform(sp.csr_matrix(w), transform).tocsr()
    w.sort_indices()
    z = (y - y.mean()) / y.std()
    lag = w @ z
    factor = (n - 1) / (z * z).sum()
    local_i = factor * z * lag
    quadrant = np.select(
        [(z > 0) & (lag > 0), (z <= 0) & (lag > 0), (z <= 0) & (lag <= 0)], [1, 2, 3], default=4
    ).astype(np.int8)
    p_sim = None
    label = np.full(n, NOT_SIGNIFICANT, dtype=object)
    if permutations:
        p_sim = conditional_permutation_p(
            z, w, observed=local_i, shift=np.zeros(n), scale=factor * z, permutations=permutations, seed=seed
        )
        significant = p_sim <= alpha
        label[significant] = [QUADRANT_CODES[int(q)] for q in quadrant[significant]]
    return LocalMoranResult(
        I=local_i,
        p_sim=p_sim,
        quadrant=quadrant,
        label=label,
        z=z,
        lag=lag,
        params={
            "statistic": "local_moran",
            "n": int(n),
            "transform": transform,
            "permutations": permutations,
            "seed": seed,
            "alpha": alpha,
            "method": "Anselin 1995, conditional permutation",
        },
    )
