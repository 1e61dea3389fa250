"""Conditional permutation inference shared by Gi* and Local Moran's I.

For unit ``i`` the own value stays in place and the values at its neighbours are replaced by values drawn
without replacement from the other ``n - 1`` units (Anselin 1995, "Local indicators of spatial
association — LISA", Geographical Analysis 27(2), section on conditional randomisation). As in PySAL esda
(``crand``), one set of ``permutations`` draws of ``k_max`` indices is shared by all units and shifted past
``i``; the pseudo p-value is folded to the tail the observed value lies in:
``(min(#{sim >= obs}, P - #{sim >= obs}) + 1) / (P + 1)``.
"""
from __future__ import annotations

import numpy as np

from geo.errors import GeoInputError

_CHUNK_ELEMENTS = 1 << 22


def check_permutations(permutations):
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise GeoInputError(f"permutations must be a non-negative integer, got {permutations!r}")
    if 0 < permutations < 99:
        raise GeoInputError(
            f"permutations={permutations} is too few for a pseudo p-value (smallest attainable p would be "
            f"{1 / (permutations + 1):.3f}); use 0 or at least 99 (999 is usual)"
        )
    return int(permutations)


def conditional_permutation_p(values, offdiag, observed, shift, scale, permutations, seed):
    """Folded pseudo p-values of ``shift_i + scale_i · Σ_j w_ij v_j`` under conditional permutation.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Values permuted among the other units.
    offdiag : scipy.sparse.csr_matrix
        Weights without the diagonal (sorted indices).
    observed : ndarray, shape (n,)
        Observed statistic of each unit.
    shift, scale : ndarray, shape (n,)
        Affine map from the simulated spatial lag to the statistic (for example the self term of Gi*).
    permutations : int
    seed : int or None

    Returns
    -------
    ndarray
        Pseudo p-values; units without neighbours get NaN.
    """
    n = values.size
    rng = np.random.default_rng(seed)
    card = np.diff(offdiag.indptr)
    k_max = int(card.max()) if n else 0
    if k_max >= n:
        raise GeoInputError(f"a unit has {k_max} neighbours among only {n} units; nothing left to permute")
    draws = np.empty((permutations, k_max), dtype=np.int64)
    for p in range(permutations):
        draws[p] = rng.choice(n - 1, size=k_max, replace=False)
    larger = np.zeros(n)
    p_sim = np.full(n, np.nan)
    for k in np.unique(card):
        if k == 0:
            continue
        rows = np.flatnonzero(card == k)
        w_rows = offdiag.data[offdiag.indptr[rows][:, None] + np.arange(k)[None, :]]
        idx = draws[:, :k]
        step = max(1, _CHUNK_ELEMENTS // (permutations * k))
        for start in range(0, rows.size, step):
            r = rows[start:start + step]
            j = idx[None, :, :] + (idx[None, :, :] >= r[:, None, None])
            lag = np.einsum("cpk,ck->cp", values[j], w_rows[start:start + step])
            sim = shift[r, None] + scale[r, None] * lag
            larger[r] = (sim >= observed[r, None]).sum(axis=1)
        flip = permutations - larger[rows] < larger[rows]
        folded = np.where(flip, permutations - larger[rows], larger[rows])
        p_sim[rows] = (folded + 1.0) / (permutations + 1.0)
    return p_sim
