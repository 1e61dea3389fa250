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
from translations import message

_CHUNK_ELEMENTS = 1 << 22


def check_permutations(permutations):
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise GeoInputError(message("geo.permutation.permutations_non_negative_integer", permutations=permutations))
    if 0 < permutations < 99:
        raise GeoInputError(
            message("geo.permutation.permutations_too_few_pseudo", permutations=permutations,
                    value1=1 / (permutations + 1))
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
        raise GeoInputError(message("geo.permutation.unit_neighbours_among_only", k_max=k_max, n=n))
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
        if (w_rows == w_rows[:, :1]).all():
            larger[rows] = _larger_equal_weights(values, idx, rows, w_rows[:, 0], observed, shift, scale)
        else:
            larger[rows] = _larger_any_weights(values, idx, rows, w_rows, observed, shift, scale)
        flip = permutations - larger[rows] < larger[rows]
        folded = np.where(flip, permutations - larger[rows], larger[rows])
        p_sim[rows] = (folded + 1.0) / (permutations + 1.0)
    return p_sim


def _larger_any_weights(values, idx, rows, w_rows, observed, shift, scale):
    """Simulations at least as large as observed, per row: the neighbours' values gathered for every draw."""
    permutations, k = idx.shape
    larger = np.zeros(rows.size)
    step = max(1, _CHUNK_ELEMENTS // (permutations * k))
    for start in range(0, rows.size, step):
        r = rows[start:start + step]
        j = idx[None, :, :] + (idx[None, :, :] >= r[:, None, None])
        lag = np.einsum("cpk,ck->cp", values[j], w_rows[start:start + step])
        sim = shift[r, None] + scale[r, None] * lag
        floor = observed[r] - _tie_tolerance(values, k, shift[r], scale[r] * np.abs(w_rows[start:start + step]).max(axis=1),
                                             observed[r])
        larger[start:start + step] = (sim >= floor[:, None]).sum(axis=1)
    return larger


def _tie_tolerance(values, k, shift, scale, observed):
    """How far below the observed statistic a simulation still counts as a tie (so as "at least as large").

    Counts make exact ties common: a draw whose neighbours' counts add up to the observed neighbours'
    sum gives the same statistic, except for rounding, which would otherwise decide at random whether it
    counts. A tolerance of 10⁻⁹ of the statistic's magnitude is far above the rounding of a sum of k
    values (k·2⁻⁵² relative) and far below any real difference.
    """
    magnitude = np.abs(shift) + np.abs(scale) * k * np.abs(values).max() + np.abs(observed)
    return 1e-9 * magnitude


def _larger_equal_weights(values, idx, rows, w_row, observed, shift, scale):
    """As :func:`_larger_any_weights` when each row weighs all its k neighbours alike (binary or row-standardised).

    Draw ``d`` (an index among the n − 1 other units) stands for unit ``d`` when ``d < i`` and ``d + 1``
    otherwise, so the sum of draw ``p`` for unit ``i`` is ``Σ_t v[d_t] + Σ_{d_t ≥ i} (v[d_t + 1] − v[d_t])``.
    With each draw's indices sorted, the second term is a suffix sum picked by the number of indices
    below ``i`` (a binary search among k sorted numbers): O(log k) work per row and draw instead of k
    gathers, and memory for one draw at a time.
    """
    permutations, k = idx.shape
    drawn = np.sort(idx, axis=1)
    base = values[drawn].sum(axis=1)
    step_up = values[drawn + 1] - values[drawn]
    suffix = np.zeros((permutations, k + 1))
    suffix[:, :k] = np.cumsum(step_up[:, ::-1], axis=1)[:, ::-1]
    factor = scale[rows] * w_row
    start_at = shift[rows]
    floor = observed[rows] - _tie_tolerance(values, k, start_at, factor, observed[rows])
    tests, group = _distinct_rows(start_at, factor, floor)
    if tests.shape[0] * (k + 1) < rows.size:
        return _larger_by_test(drawn, base, suffix, rows, tests, group)
    larger = np.zeros(rows.size)
    for p in range(permutations):
        lag = base[p] + suffix[p][np.searchsorted(drawn[p], rows)]
        larger += start_at + factor * lag >= floor
    return larger


def _distinct_rows(*columns):
    """Distinct rows of equal-length float columns and each row's index among them (``np.unique(axis=0)``
    through one ``np.lexsort``, which sorts floats instead of the byte strings unique's axis mode sorts)."""
    order = np.lexsort(columns[::-1])
    ordered = np.column_stack([c[order] for c in columns])
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return ordered[starts], group


def _larger_by_test(drawn, base, suffix, rows, tests, group):
    """:func:`_larger_equal_weights`'s counts when many rows share one test ``shift + factor · lag ≥ floor``.

    Counts on a fine grid make this the rule: most cells hold no incident among neighbours that hold none
    or few, so a hundred thousand rows share a few hundred distinct tests. For draw ``p`` the lag of row
    ``i`` is ``base[p] + suffix[p, j]`` with ``j`` the number of drawn indices below ``i``, a step function
    of ``i`` that steps at ``drawn[p, t] + 1``. Per test, the outcome of each of the ``k + 1`` steps of
    every draw is evaluated once, and a row's count is the outcome at step 0 summed over the draws plus
    the changes at the steps at or below the row (a cumulative sum over the steps of all draws, sorted
    once): work in ``tests × permutations × k`` instead of ``rows × permutations``, the same counts.
    """
    permutations, k = drawn.shape
    steps_at = (drawn + 1).ravel()
    order = np.argsort(steps_at, kind="stable")
    steps_below = np.searchsorted(steps_at[order], rows, side="right")
    larger = np.zeros(rows.size)
    chunk = max(1, _CHUNK_ELEMENTS // (permutations * (k + 1)))
    for first in range(0, tests.shape[0], chunk):
        start_at, factor, floor = (tests[first:first + chunk, c][:, None, None] for c in range(3))
        passed = (start_at + factor * (base[None, :, None] + suffix[None, :, :]) >= floor).astype(np.int64)
        change = np.diff(passed, axis=2).reshape(passed.shape[0], -1)[:, order]
        running = np.zeros((passed.shape[0], change.shape[1] + 1), dtype=np.int64)
        np.cumsum(change, axis=1, out=running[:, 1:])
        at_start = passed[:, :, 0].sum(axis=1)
        members = np.flatnonzero((group >= first) & (group < first + chunk))
        g = group[members] - first
        larger[members] = at_start[g] + running[g, steps_below[members]]
    return larger
