"""The Prey Veng border corridor's statistics: counts by category, band, segment, gate and month with the
change against the baseline, and the linear hotspot of the border segments.

The inputs are the assignments of :func:`geo.corridor_geometry.assign_corridor` (band, segment, gate of each
incident) and the tables of :mod:`geo.corridor_geometry` (bands, segments, gates) that label them.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.errors import GeoInputError
from geo.exact_tests import rate_ratio_test
from translations import message


# --------------------------------------------------------------------------------------------- statistics


def yearly_change(count, previous, confidence: float = 0.95) -> pd.DataFrame:
    """Change against the previous year with an exact Poisson test on the rate ratio.

    Parameters
    ----------
    count, previous : array_like of int
        Counts this year and the year before (equal exposure: one year each).

    Returns
    -------
    DataFrame
        ``change`` (count − previous), ``change_pct`` (NaN when previous is 0), ``ratio_low``/``ratio_high``
        (confidence interval of the rate ratio this/previous) and ``p_value`` (two-sided, H0: equal rates).

    Notes
    -----
    :func:`geo.exact_tests.rate_ratio_test` with equal exposures: conditional on the total N, the count of
    this year is Binomial(N, ½) under equal rates (Przyborowski & Wileński 1940). A commune going from 4 to 3 cases
    gives p = 1 and an interval spanning 1 – not a 25 % success.
    """
    k = np.asarray(count, dtype=float)
    m = np.asarray(previous, dtype=float)
    test = rate_ratio_test(k, m, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        change_pct = np.where(m > 0, 100.0 * (k - m) / m, np.nan)
    return pd.DataFrame({"change": (k - m).astype(np.int64), "change_pct": change_pct,
                         "ratio_low": test.low, "ratio_high": test.high, "p_value": test.p_value})


def corridor_statistics(assignments: pd.DataFrame, *, year: int, category_col: str = "category",
                        date_col: str = "occurred_on", categories: Sequence[str] | None = None,
                        bands: pd.DataFrame | None = None, segments: pd.DataFrame | None = None,
                        gates: pd.DataFrame | None = None, span=None, baseline_span=None) -> pd.DataFrame:
    """Tidy corridor statistics for ``year`` with the change against ``year - 1``, or for any period
    against its baseline (``span`` and ``baseline_span``).

    Parameters
    ----------
    assignments : DataFrame
        The columns of :func:`geo.corridor_geometry.assign_corridor` plus ``category_col`` and ``date_col`` (datetime-like), one row
        per incident. Only incidents in the corridor (``band >= 0``) are counted.
    year : int
    categories : sequence of str, optional
        Keep only these categories (e.g. the border-corridor codes of :mod:`geo.taxonomy`); they are listed even
        with zero counts.
    bands, segments, gates : DataFrame, optional
        Results of :func:`~geo.corridor_geometry.corridor_bands`,
        :func:`~geo.corridor_geometry.border_segments`, :func:`~geo.corridor_geometry.read_border_gates`; when given,
        every band/segment/gate is listed (with zeros) and labelled.
    span, baseline_span : (date, date), optional
        Inclusive first and last days of the period and of its baseline (the same calendar span of an
        earlier year, :func:`geo.periods.like_for_like`). Default: the calendar years ``year`` and
        ``year - 1``. Months are then the months of ``span``, each compared with the month as far from the
        baseline's start.

    Returns
    -------
    DataFrame
        Long format: ``dimension`` (``total``, ``category``, ``band``, ``segment``, ``gate``, ``month``),
        ``key``, ``label``, ``year``, ``count``, ``previous_count`` and the columns of :func:`yearly_change`.
        Months compare with the same month of the previous year.
    """
    for col in ("band", "segment_id", "gate", category_col, date_col):
        if col not in assignments.columns:
            raise GeoInputError(message("geo.corridor_statistics.assignments_column_missing_columns", col=col,
                                        assignments_columns=list(assignments.columns)))
    if not isinstance(year, (int, np.integer)) or isinstance(year, bool):
        raise GeoInputError(message("geo.corridor_statistics.year_received_allowed_calendar", year=year))
    dates = pd.to_datetime(assignments[date_col]).to_numpy()
    if (span is None) != (baseline_span is None):
        raise GeoInputError(message("geo.corridor_statistics.span_baseline_span_give"))
    if span is None:
        span = (np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31"))
        baseline_span = (np.datetime64(f"{year - 1}-01-01"), np.datetime64(f"{year - 1}-12-31"))
    day = dates.astype("datetime64[D]")
    (s0, s1), (b0, b1) = ([np.datetime64(d, "D") for d in pair] for pair in (span, baseline_span))
    in_span, in_base = (day >= s0) & (day <= s1), (day >= b0) & (day <= b1)
    band = assignments["band"].to_numpy()
    keep = (band >= 0) & (in_span | in_base)
    cat = assignments[category_col]
    if categories is not None:
        keep &= cat.isin(list(categories)).to_numpy()
    current = in_span[keep]
    sub = assignments.loc[keep]
    month_index = day[keep].astype("datetime64[M]").astype(np.int64)
    first_month = np.where(current, s0.astype("datetime64[M]").astype(np.int64),
                           b0.astype("datetime64[M]").astype(np.int64))
    months = month_index - first_month + 1  # 1 = the span's first month

    tables = []

    def add(dimension, codes, keys, labels):
        n = len(keys)
        cur = np.bincount(codes[current], minlength=n)[:n] if n else np.zeros(0, np.int64)
        prev = np.bincount(codes[~current], minlength=n)[:n] if n else np.zeros(0, np.int64)
        frame = pd.DataFrame({"dimension": dimension, "key": [str(k) for k in keys], "label": list(labels),
                              "year": int(year), "count": cur.astype(np.int64), "previous_count": prev.astype(np.int64)})
        tables.append(pd.concat([frame, yearly_change(cur, prev)], axis=1))

    add("total", np.zeros(len(sub), dtype=np.int64), ["all"], ["Tổng"])

    observed = pd.unique(sub[category_col].astype(str))
    if isinstance(categories, (set, frozenset)):
        categories = sorted(categories)
    cat_keys = list(categories) if categories is not None else sorted(observed)
    cat_keys += [c for c in sorted(observed) if c not in cat_keys]
    add("category", pd.Index(cat_keys).get_indexer(sub[category_col].astype(str)), cat_keys, _category_labels(cat_keys))

    def keyed(dimension, values, table, key_col, label_col):
        if table is not None:
            keys = list(table[key_col])
            labels = list(table[label_col]) if label_col in table.columns else [str(k) for k in keys]
        else:
            keys = sorted(pd.unique(values[pd.notna(values)]))
            labels = [str(k) for k in keys]
        codes = pd.Index(keys).get_indexer(values)
        ok = codes >= 0
        add_codes = np.where(ok, codes, len(keys))  # unknown keys fall into an overflow bin that is dropped
        add(dimension, add_codes, keys, labels)

    keyed("band", sub["band"].to_numpy(), bands, "band", "label")
    keyed("segment", sub["segment_id"].to_numpy(), segments, "segment_id", "label")
    keyed("gate", sub["gate"].astype(object).to_numpy(), gates, "name", "name")
    span_months = pd.period_range(pd.Timestamp(s0), pd.Timestamp(s1), freq="M")
    month_keys = [f"{m.year}-{m.month:02d}" for m in span_months]
    add("month", months - 1, month_keys, [f"Tháng {m.month}/{m.year}" for m in span_months])
    return pd.concat(tables, ignore_index=True)


def _category_labels(codes):
    """Vietnamese labels of the glossary (:mod:`geo.taxonomy`); unknown codes are shown as they are."""
    from geo.taxonomy import CATEGORIES

    return [CATEGORIES[c].label_vi if c in CATEGORIES else c for c in codes]


# --------------------------------------------------------------------------------------------- linear hotspot


def line_neighbour_weights(n: int, k: int = 1):
    """Binary weights linking each segment to those within ``k`` positions along the line, itself included.

    Returns a ``scipy.sparse.csr_matrix`` (n × n), the contiguity of a 1-D lattice of order ``k``.
    """
    from scipy import sparse

    if not isinstance(k, (int, np.integer)) or k < 1:
        raise GeoInputError(message("geo.corridor_statistics.k_received_allowed_positive", k=k))
    offsets = range(-k, k + 1)
    diagonals = [np.ones(n - abs(o)) for o in offsets]
    return sparse.diags(diagonals, list(offsets), shape=(n, n), format="csr")


def linear_hotspot(segment_counts, segment_lengths, *, k: int = 1, segment_ids=None, fdr: bool = False) -> pd.DataFrame:
    """Incidents per km of each border segment and Getis-Ord Gi* along the line.

    Parameters
    ----------
    segment_counts : array_like of int
        Incidents per segment, in line order (west to east).
    segment_lengths : array_like of float
        Segment lengths in km (the last segment is usually shorter, hence the density).
    k : int
        Neighbours: segments within ``k`` positions along the line (binary weights, self included).
    segment_ids : array_like, optional
        Identifiers to report (default 1…n).
    fdr : bool
        False Discovery Rate correction of the bins (:func:`geo.gistar.confidence_bins`).

    Returns
    -------
    DataFrame
        ``segment_id``, ``count``, ``length_km``, ``per_km``, ``gi_z``, ``gi_p`` and ``gi_bin`` (±3/±2/±1 =
        99/95/90 % confidence, ArcGIS Hot Spot Analysis bins), computed on ``per_km``. When every segment
        has the same density there is no pattern: z and p are NaN and every bin 0.

    Notes
    -----
    Gi* of :func:`geo.gistar.gi_star` (ArcGIS; Getis & Ord 1992; Ord & Getis 1995) on a 1-D lattice of
    order ``k`` (:func:`line_neighbour_weights`). ArcGIS asks for 30 units; a border cut into 5 km pieces has
    about 10, so the minimum is lowered to 3. With the ~10 segments of a
    48 km border the normal approximation is rough: read the bins as a ranking of stretches, not as a test.
    """
    counts = np.asarray(segment_counts, dtype=float).ravel()
    lengths = np.asarray(segment_lengths, dtype=float).ravel()
    if counts.shape != lengths.shape:
        raise GeoInputError(message("geo.corridor_statistics.segment_lengths_received_lengths",
                                    lengths_size=lengths.size, counts_size=counts.size))
    if counts.size < 3:
        raise GeoInputError(message("geo.corridor_statistics.segment_counts_received_segments",
                                    counts_size=counts.size))
    if np.any(lengths <= 0) or not np.all(np.isfinite(lengths)):
        raise GeoInputError(message("geo.corridor_statistics.segment_lengths_received_allowed",
                                    lengths=lengths.tolist()))
    if np.any(counts < 0):
        raise GeoInputError(message("geo.corridor_statistics.segment_counts_received_allowed",
                                    counts=counts.tolist()))
    per_km = counts / lengths
    if np.ptp(per_km) == 0:
        z = np.full(counts.size, np.nan)
        p = np.full(counts.size, np.nan)
        bins = np.zeros(counts.size, dtype=np.int8)
    else:
        from geo.gistar import gi_star

        result = gi_star(per_km, line_neighbour_weights(counts.size, k), fdr=fdr, min_units=3)
        z, p, bins = result.z, result.p, result.bin
    ids = np.arange(1, counts.size + 1) if segment_ids is None else np.asarray(segment_ids)
    if ids.size != counts.size:
        raise GeoInputError(message("geo.corridor_statistics.segment_ids_received_ids", ids_size=ids.size,
                                    counts_size=counts.size))
    return pd.DataFrame({"segment_id": ids, "count": counts.astype(np.int64), "length_km": lengths, "per_km": per_km,
                         "gi_z": z, "gi_p": p, "gi_bin": bins})
