"""Emerging hot spot analysis: Gi* in a space-time cube, Mann-Kendall trends and the ArcGIS pattern classes.

References
----------
Esri, "How Emerging Hot Spot Analysis works" (Space Time Pattern Mining toolbox): each space-time bin gets a
Gi* z-score against all bins of the cube, its neighbourhood being the spatial neighbours (itself included)
in the same time step and the ``time_window`` previous steps; each location's z-score series is tested for
trend with Mann-Kendall; the location is then put in one of seventeen classes. Getis & Ord (1992), Mann
(1945), Kendall (1975).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from geo.errors import GeoInputError
from geo.gistar import gi_star
from geo.mannkendall import mann_kendall_many
from geo.weights import check_weights, with_self
from translations import CatalogTable, message

PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
            "historical")
CLASSES = tuple(f"{p}_hot" for p in PATTERNS) + tuple(f"{p}_cold" for p in PATTERNS) + ("no_pattern",)
#: Class labels, (vi, en) from the catalogs (``geo.emerging.class.*``).
CLASS_LABELS = CatalogTable("geo.emerging.class")
CLASS_LABELS_VI = {code: CLASS_LABELS[code][0] for code in CLASSES}
FREQUENCIES = ("month", "quarter")
MIN_STEPS = 10


@dataclass(frozen=True, eq=False)
class EmergingResult:
    """Emerging hot spot analysis of ``n_locations`` over ``n_steps``.

    Attributes
    ----------
    z, p : ndarray, shape (n_locations, n_steps)
        Gi* z-score and p-value of every space-time bin.
    bin : ndarray of int8, shape (n_locations, n_steps)
        Confidence bin −3…+3 of every space-time bin.
    trend_z, trend_p : ndarray, shape (n_locations,)
        Mann-Kendall z and p of each location's Gi* z-score series.
    trend : ndarray of int8
        +1 significant rising, −1 significant falling, 0 none.
    category : ndarray of str
        One of :data:`CLASSES`.
    params : dict
    """

    z: np.ndarray
    p: np.ndarray
    bin: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    trend: np.ndarray
    category: np.ndarray
    params: dict = field(default_factory=dict)


def time_step_index(dates, freq="month", start=None, end=None):
    """Index of the month or quarter each date falls in, counted from ``start``.

    Parameters
    ----------
    dates : array_like of dates
    freq : {"month", "quarter"}
    start, end : date-like, optional
        First and last period of the cube; default the earliest and latest date.

    Returns
    -------
    index : ndarray of int64
        Step of each date; −1 for dates outside ``start``…``end``.
    labels : list of str
        ``"2024-01"`` or ``"2024-Q1"`` for each step.
    """
    import pandas as pd

    if freq not in FREQUENCIES:
        raise GeoInputError(message("geo.emerging.freq_one_got", frequencies=FREQUENCIES, freq=freq))
    stamps = pd.to_datetime(pd.Series(dates), errors="coerce")
    if stamps.size == 0:
        raise GeoInputError(message("geo.emerging.dates_given_cannot_build"))
    if stamps.isna().any():
        raise GeoInputError(message("geo.emerging.dates_missing_unreadable", stamps=int(stamps.isna().sum())))
    per_year = 12 if freq == "month" else 4

    def ordinal(t):
        t = pd.Timestamp(t)
        return t.year * per_year + ((t.month - 1) if freq == "month" else (t.month - 1) // 3)

    years = stamps.dt.year.to_numpy().astype(np.int64)
    months = stamps.dt.month.to_numpy().astype(np.int64) - 1
    ordinals = years * per_year + (months if freq == "month" else months // 3)
    first = ordinal(start) if start is not None else int(ordinals.min())
    last = ordinal(end) if end is not None else int(ordinals.max())
    if last < first:
        raise GeoInputError(message("geo.emerging.end_before_start", end=end, start=start))
    index = ordinals - first
    index[(ordinals < first) | (ordinals > last)] = -1
    labels = []
    for o in range(first, last + 1):
        year, part = divmod(o, per_year)
        labels.append(f"{year}-{part + 1:02d}" if freq == "month" else f"{year}-Q{part + 1}")
    return index, labels


def space_time_cube(cell_index, step_index, n_cells, n_steps, weights=None):
    """Counts (or summed weights) per location and time step; entries with index −1 are dropped.

    Returns
    -------
    ndarray, shape (n_cells, n_steps)
    """
    cell_index = np.asarray(cell_index, dtype=np.int64).ravel()
    step_index = np.asarray(step_index, dtype=np.int64).ravel()
    if cell_index.shape != step_index.shape:
        raise GeoInputError(message("geo.emerging.cell_index_step_index", cell_index_size=cell_index.size,
                                    step_index_size=step_index.size))
    if (cell_index >= n_cells).any() or (step_index >= n_steps).any():
        raise GeoInputError(message("geo.emerging.cell_index_step_index_2"))
    ok = (cell_index >= 0) & (step_index >= 0)
    if not ok.any():
        raise GeoInputError(message("geo.emerging.incident_falls_inside_both"))
    flat = cell_index[ok] * n_steps + step_index[ok]
    w = None if weights is None else np.asarray(weights, dtype=float).ravel()[ok]
    return np.bincount(flat, weights=w, minlength=n_cells * n_steps).reshape(n_cells, n_steps)


def space_time_weights(spatial_weights, n_steps, time_window=1):
    """Binary space-time neighbourhood: spatial neighbours and self, in the same and ``time_window`` previous steps.

    Rows and columns are ordered time-major: bin ``(location i, step t)`` is row ``t · n + i``.
    """
    if isinstance(time_window, bool) or not isinstance(time_window, (int, np.integer)) or time_window < 0:
        raise GeoInputError(message("geo.emerging.time_window_non_negative", time_window=time_window))
    w = sp.csr_matrix(spatial_weights, dtype=float)
    w = with_self((w > 0).astype(float))
    lag = sp.diags([np.ones(n_steps - d) for d in range(min(time_window, n_steps - 1) + 1)],
                   offsets=[-d for d in range(min(time_window, n_steps - 1) + 1)], shape=(n_steps, n_steps))
    return sp.kron(lag, w, format="csr")


def classify_many(bins, trend, *, share=0.9):
    """ArcGIS Emerging Hot Spot classes for many locations at once.

    Parameters
    ----------
    bins : array_like of int, shape (m, T)
        Gi* confidence bins per step; > 0 is a significant hot spot, < 0 a cold spot.
    trend : array_like of int, shape (m,)
        Sign of a significant Mann-Kendall trend of the z-scores (+1 rising, −1 falling, 0 none).
    share : float, default 0.9
        The "ninety percent of the time steps" of the definitions.

    Returns
    -------
    ndarray of str, shape (m,)

    Notes
    -----
    Hot rules (cold mirrored with hot↔cold and the trend's sign reversed), checked in this order:

    * final step hot and hot in ≥ 90 % of steps: *intensifying* with a rising trend, *diminishing* with a
      falling one, else *persistent*;
    * final step hot, < 90 %: *oscillating* if cold in some earlier step; else *new* if never hot before;
      else *consecutive* if the hot steps are one uninterrupted run of ≥ 2 ending in the final step; else
      *sporadic*;
    * final step not hot but hot in ≥ 90 % of steps: *historical*;
    * otherwise *no pattern*.

    ArcGIS and sfdep differ where these overlap (for example a location cold long ago and hot only in the
    final step is *oscillating* here, *new* in a reading that ignores cold history).
    """
    bins = np.asarray(bins)
    if bins.ndim != 2:
        raise GeoInputError(message("geo.emerging.bins_d_array_locations", bins_ndim=bins.ndim))
    trend = np.sign(np.asarray(trend, dtype=float)).astype(int).ravel()
    if trend.size != bins.shape[0]:
        raise GeoInputError(message("geo.emerging.trend_one_value_per", bins_shape=bins.shape[0],
                                    trend_size=trend.size))
    out = np.full(bins.shape[0], "no_pattern", dtype=object)
    for suffix, hot, cold, rising in (("cold", bins < 0, bins > 0, -trend), ("hot", bins > 0, bins < 0, trend)):
        _classify_side(out, suffix, hot, cold, rising, share)
    return out


def _classify_side(out, suffix, hot, cold, rising, share):
    steps = hot.shape[1]
    n_hot = hot.sum(axis=1)
    mostly = n_hot >= share * steps - 1e-9
    final = hot[:, -1]
    run = np.cumprod(hot[:, ::-1], axis=1).sum(axis=1)
    cold_before = cold[:, :-1].any(axis=1)
    rules = [
        (final & mostly & (rising > 0), "intensifying"),
        (final & mostly & (rising < 0), "diminishing"),
        (final & mostly, "persistent"),
        (final & cold_before, "oscillating"),
        (final & (n_hot == 1), "new"),
        (final & (run >= 2) & (n_hot == run), "consecutive"),
        (final, "sporadic"),
        (~final & mostly, "historical"),
    ]
    assigned = np.zeros(hot.shape[0], dtype=bool)
    for mask, name in rules:
        take = mask & ~assigned
        out[take] = f"{name}_{suffix}"
        assigned |= take


def classify_series(bins, trend, *, share=0.9):
    """Class of one location from its bin series and trend sign; see :func:`classify_many`."""
    return str(classify_many(np.asarray(bins)[None, :], [trend], share=share)[0])


def emerging_hotspots(cube, spatial_weights, *, time_window=1, fdr=True, alpha=0.05, min_steps=MIN_STEPS,
                      min_units=30) -> EmergingResult:
    """Emerging hot spot analysis of a space-time cube of counts.

    Parameters
    ----------
    cube : array_like, shape (n_locations, n_steps)
        Counts per location and time step (see :func:`space_time_cube`).
    spatial_weights : scipy.sparse matrix, shape (n_locations, n_locations)
        Spatial neighbours (binary; the location itself is added).
    time_window : int, default 1
        Number of previous time steps in each bin's neighbourhood.
    fdr : bool, default True
        False Discovery Rate correction of the Gi* bins (over all bins of the cube).
    alpha : float, default 0.05
        Significance of the Mann-Kendall trend.
    min_steps : int, default 10
        ArcGIS requires at least ten time steps.
    min_units : int, default 30

    Returns
    -------
    EmergingResult
    """
    cube = np.asarray(cube, dtype=float)
    if cube.ndim != 2:
        raise GeoInputError(message("geo.emerging.cube_locations_time_steps", cube_ndim=cube.ndim))
    n, steps = cube.shape
    if steps < min_steps:
        raise GeoInputError(message("geo.emerging.too_few_time_steps", steps=steps, min_steps=min_steps))
    check_weights(spatial_weights, n)
    w = space_time_weights(spatial_weights, steps, time_window)
    gi = gi_star(cube.T.ravel(), w, fdr=fdr, min_units=min_units)
    z = gi.z.reshape(steps, n).T
    p = gi.p.reshape(steps, n).T
    bins = gi.bin.reshape(steps, n).T
    _, _, trend_z, trend_p, trend = mann_kendall_many(np.nan_to_num(z, nan=0.0), alpha=alpha)
    return EmergingResult(
        z=z,
        p=p,
        bin=bins,
        trend_z=trend_z,
        trend_p=trend_p,
        trend=trend,
        category=classify_many(bins, trend),
        params={
            "statistic": "emerging_hotspots",
            "n_locations": int(n),
            "n_steps": int(steps),
            "time_window": int(time_window),
            "fdr": bool(fdr),
            "trend_alpha": alpha,
            "method": "ArcGIS Emerging Hot Spot Analysis: space-time Gi*, Mann-Kendall",
        },
    )
