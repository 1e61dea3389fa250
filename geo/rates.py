"""Incident rates per resident and their Empirical Bayes smoothing, as GeoDa computes them.

A commune of 2,000 people with 2 cases shows a crude rate ten times that of a city ward with the same risk
and 20,000 people; Empirical Bayes shrinks each crude rate toward a reference rate in proportion to how
unreliable it is (its population), so small communes do not dominate a map or a hot spot analysis.

References
----------
Marshall, R. J. (1991) Mapping disease and mortality rates using empirical Bayes estimators. Applied
Statistics 40(2), 283–294 (method-of-moments estimator). Anselin, L., Lozano, N. & Koschinsky, J. (2006)
Rate transformations and smoothing, GeoDa Center. Implemented as GeoDa's "Empirical Bayes" and "Spatial
Empirical Bayes" rate maps (negative prior variances set to zero).
"""
from __future__ import annotations

import numpy as np

from geo.errors import GeoInputError
from geo.weights import check_weights, with_self
from translations import message

PER_RESIDENTS = 10_000


def _check(counts, population):
    e = np.asarray(counts, dtype=float).ravel()
    b = np.asarray(population, dtype=float).ravel()
    if e.size == 0:
        raise GeoInputError(message("geo.rates.counts_empty_units_compute"))
    if e.shape != b.shape:
        raise GeoInputError(message("geo.rates.counts_population_one_value", e_size=e.size, b_size=b.size))
    if not (np.isfinite(e).all() and np.isfinite(b).all()):
        raise GeoInputError(message("geo.rates.counts_population_contain_nan"))
    if (e < 0).any():
        raise GeoInputError(message("geo.rates.counts_non_negative_got", e=e.min()))
    if (b <= 0).any():
        bad = int(np.flatnonzero(b <= 0)[0])
        raise GeoInputError(message("geo.rates.population_positive_every_unit", bad=bad, b=b[bad]))
    return e, b


def crude_rate(counts, population, per=PER_RESIDENTS):
    """Incidents per ``per`` residents (default 10,000) for each unit."""
    e, b = _check(counts, population)
    return e / b * per


def empirical_bayes(counts, population, per=PER_RESIDENTS):
    """Global Empirical Bayes smoothed rates per ``per`` residents.

    Parameters
    ----------
    counts : array_like
        Incidents per unit.
    population : array_like
        Residents per unit (all positive).
    per : float, default 10,000

    Returns
    -------
    ndarray

    Notes
    -----
    With crude rates r_i = e_i/b_i, the province rate m = Σe/Σb, s² = Σ b_i (r_i − m)² / Σb and the
    mean population b̄: prior variance a = max(0, s² − m/b̄); shrinkage w_i = a / (a + m/b_i); smoothed
    rate w_i r_i + (1 − w_i) m (Marshall 1991). Equals PySAL esda ``Empirical_Bayes`` whenever a > 0.
    """
    e, b = _check(counts, population)
    if e.size < 2:
        raise GeoInputError(message("geo.rates.too_few_units_empirical"))
    r = e / b
    m = e.sum() / b.sum()
    s2 = (b * (r - m) ** 2).sum() / b.sum()
    a = max(0.0, s2 - m / b.mean())
    if m == 0:
        return np.zeros_like(r)
    weight = a / (a + m / b)
    return (weight * r + (1.0 - weight) * m) * per


def spatial_empirical_bayes(counts, population, weights, per=PER_RESIDENTS):
    """Spatial Empirical Bayes: each rate shrunk toward the rate of its own neighbourhood.

    Parameters
    ----------
    counts, population : array_like
    weights : scipy.sparse matrix
        Neighbours of each unit (for example commune queen contiguity); the unit itself is added and the
        weights are used as binary.
    per : float, default 10,000

    Returns
    -------
    ndarray

    Notes
    -----
    As the global estimator, with the reference rate m_i = Σ_{j∈N_i} e_j / Σ_{j∈N_i} b_j, the variance
    s_i² = Σ_{j∈N_i} b_j (r_j − m_i)² / Σ_{j∈N_i} b_j and the mean population of the neighbourhood
    N_i = neighbours of i plus i (GeoDa; PySAL esda ``Spatial_Empirical_Bayes``).
    """
    e, b = _check(counts, population)
    n = e.size
    if n < 2:
        raise GeoInputError(message("geo.rates.too_few_units_spatial"))
    w = check_weights(weights, n)
    w = with_self((w > 0).astype(float))
    r = e / b
    b_sum = w @ b
    m = (w @ e) / b_sum
    n_neigh = np.diff(w.indptr)
    # Σ_j b_j (r_j − m_i)² = Σ b_j r_j² − 2 m_i Σ b_j r_j + m_i² Σ b_j
    spread = w @ (b * r * r) - 2.0 * m * (w @ (b * r)) + m * m * b_sum
    s2 = spread / b_sum
    a = np.maximum(0.0, s2 - m / (b_sum / n_neigh))
    denom = a + m / b
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(denom > 0, a / denom, 0.0)
    return (m + (r - m) * weight) * per
