"""Change against a baseline year per unit (commune, district), with an exact Poisson interval.

The 2024 plan asks for at least a 5 % reduction against 2023. With small counts the point estimate alone
misleads — a commune going from 4 cases to 3 is not a proven 25 % success — so each unit also gets an exact
confidence interval for the rate ratio and a verdict that says whether the interval settles the question.

References
----------
Conditional test for two Poisson counts: given n = c₀ + c₁, c₁ ~ Binomial(n, π) with
π = RR·E₁ / (RR·E₁ + E₀) (Przyborowski & Wileński 1940; Breslow & Day 1987, §2.9). The interval for π is
Clopper–Pearson (1934) and is mapped to the rate ratio RR = π/(1 − π) · E₀/E₁
(:func:`geo.exact_tests.rate_ratio_test`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo.errors import GeoInputError
from geo.exact_tests import positive_exposures, rate_ratio_test, whole_counts
from translations import CatalogTable, message

VERDICTS = ("clearly_met", "uncertain", "clearly_not_met", "no_data")
#: Verdict labels, (vi, en) from the catalogs (``geo.change.verdict.*``).
VERDICT_LABELS = CatalogTable("geo.change.verdict")
VERDICT_LABELS_VI = {code: VERDICT_LABELS[code][0] for code in VERDICTS}


@dataclass(frozen=True, eq=False)
class ChangeResult:
    """Change per unit.

    Attributes
    ----------
    baseline, current : ndarray
        Counts in the baseline and current period.
    difference : ndarray
        current − baseline.
    pct_change : ndarray
        Percentage change of the rate (of the count when exposures are equal); NaN when the baseline is 0.
    rate_ratio, ci_low, ci_high : ndarray
        Rate ratio current/baseline and its exact confidence interval (``ci_high`` is inf when the
        baseline is 0).
    p_value : ndarray
        Two-sided exact conditional test of "no change" (RR = 1).
    target_met : ndarray of bool
        Point estimate shows at least the target reduction (RR ≤ 1 − target).
    verdict : ndarray of str
        ``clearly_met`` when the whole interval is at or below 1 − target, ``clearly_not_met`` when it is
        entirely above, ``uncertain`` otherwise, ``no_data`` when both counts are 0.
    params : dict
    """

    baseline: np.ndarray
    current: np.ndarray
    difference: np.ndarray
    pct_change: np.ndarray
    rate_ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    target_met: np.ndarray
    verdict: np.ndarray
    params: dict = field(default_factory=dict)


def _counts(values, name):
    v = whole_counts(values, name).ravel()
    if v.size == 0:
        raise GeoInputError(message("geo.change.empty_units_compare", name=name))
    return v


def _exposure(values, n, name):
    if values is None:
        return np.ones(n)
    if np.size(values) not in (1, n):
        raise GeoInputError(message("geo.change.one_number_one_per", name=name, n=n, np=np.size(values)))
    return np.broadcast_to(positive_exposures(values, name).ravel(), (n,)).astype(float)


def change_vs_baseline(baseline, current, *, baseline_exposure=None, current_exposure=None,
                       target_reduction=0.05, confidence=0.95) -> ChangeResult:
    """Compare current counts with a baseline per unit.

    Parameters
    ----------
    baseline, current : array_like of int
        Counts per unit (same order) in the baseline year (the plan uses 2023) and the current period.
    baseline_exposure, current_exposure : float or array_like, optional
        Population or period length of each period (for example 12 and 6 months for a half-year against a
        full year); equal when omitted.
    target_reduction : float, default 0.05
        Required reduction (5 % in the 2024 plan).
    confidence : float, default 0.95

    Returns
    -------
    ChangeResult
    """
    c0 = _counts(baseline, "baseline")
    c1 = _counts(current, "current")
    if c0.shape != c1.shape:
        raise GeoInputError(message("geo.change.baseline_current_one_count", c0_size=c0.size, c1_size=c1.size))
    if not 0 <= target_reduction < 1:
        raise GeoInputError(message("geo.change.target_reduction_fraction_got", target_reduction=target_reduction))
    if not 0 < confidence < 1:
        raise GeoInputError(message("geo.change.confidence_lie_between_got", confidence=confidence))
    e0 = _exposure(baseline_exposure, c0.size, "baseline_exposure")
    e1 = _exposure(current_exposure, c0.size, "current_exposure")
    n = c0 + c1
    test = rate_ratio_test(c1, c0, current_exposure=e1, baseline_exposure=e0, confidence=confidence)
    rr, ci_low, ci_high, p_value = test.ratio, test.low, test.high, test.p_value
    with np.errstate(invalid="ignore"):
        pct = np.where(c0 > 0, (rr - 1.0) * 100.0, np.nan)
    bound = 1.0 - target_reduction
    verdict = np.where(n == 0, "no_data",
                       np.where(ci_high <= bound, "clearly_met",
                                np.where(ci_low > bound, "clearly_not_met", "uncertain"))).astype(object)
    return ChangeResult(
        baseline=c0,
        current=c1,
        difference=c1 - c0,
        pct_change=pct,
        rate_ratio=rr,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        target_met=(n > 0) & (c0 > 0) & (rr <= bound),
        verdict=verdict,
        params={
            "target_reduction": target_reduction,
            "confidence": confidence,
            "method": "exact conditional binomial test, Clopper–Pearson interval for the rate ratio",
        },
    )


def change_table(units, baseline, current, **options):
    """Sum counts by unit key (for example district code) and compare them; returns a pandas DataFrame.

    ``options`` are passed to :func:`change_vs_baseline` (exposures, when given, must be per key in the
    sorted order of the keys).
    """
    import pandas as pd

    frame = pd.DataFrame({"unit": np.asarray(units), "baseline": baseline, "current": current})
    if frame.empty:
        raise GeoInputError(message("geo.change.units_given"))
    grouped = frame.groupby("unit", sort=True)[["baseline", "current"]].sum()
    result = change_vs_baseline(grouped["baseline"].to_numpy(), grouped["current"].to_numpy(), **options)
    return pd.DataFrame({
        "unit": grouped.index,
        "baseline": result.baseline.astype(int),
        "current": result.current.astype(int),
        "difference": result.difference.astype(int),
        "pct_change": result.pct_change,
        "rate_ratio": result.rate_ratio,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "target_met": result.target_met,
        "verdict": result.verdict,
    })


STATUS_OF_VERDICT = {"clearly_met": "met", "clearly_not_met": "not_met", "uncertain": "uncertain",
                     "no_data": "no_data"}
NO_BASELINE = "no_baseline"  # status of a unit the baseline's records cannot reach (not compared)


def change_by_unit(units, current_units, baseline_units, *, unit_col: str = "commune_code",
                   group_col: str = "district_code", target_reduction: float = 0.05,
                   confidence: float = 0.95, without_baseline=()) -> dict:
    """Counts of two periods per unit, per group of units and in total, each with its change.

    Parameters
    ----------
    units : DataFrame
        One row per unit of the boundary set in view, with ``unit_col`` and ``group_col`` (communes and their
        districts; the caller chooses the boundary set and its grouping).
    current_units, baseline_units : array_like of str
        The unit code of each incident of the period and of its baseline (the same calendar span of the
        baseline year, :func:`geo.periods.like_for_like`). Codes outside ``units`` are not counted.
    target_reduction, confidence : float
        As :func:`change_vs_baseline`.
    without_baseline : iterable of str
        Units the baseline's records cannot reach (e.g. communes of old Tiền Giang for a baseline before
        01/07/2025, :func:`geo.boundary_sets.units_without_records`): their row keeps both counts with status
        ``no_baseline`` and no change, and they are left out of the groups and the total, so those compare
        like with like.

    Returns
    -------
    dict
        ``units``, ``groups`` (DataFrames with ``unit``, ``count``, ``baseline_count``, ``change`` (a
        fraction, NaN when the baseline is 0), ``low``, ``high`` (interval of the change; ``high`` inf when
        the baseline is 0), ``status`` (``met``, ``not_met``, ``uncertain``, ``no_data``)) and ``total`` (one
        row as a dict).

    Notes
    -----
    Counts are compared as counts (equal exposures): the two spans hold the same calendar days.
    """
    import pandas as pd

    for column in (unit_col, group_col):
        if column not in units.columns:
            raise GeoInputError(message("geo.change.units_lack_column_columns", column=column,
                                        units_columns=list(units.columns)))
    codes = units[unit_col].astype(str).to_numpy()
    c1 = pd.Series(np.asarray(current_units, dtype=str)).value_counts().reindex(codes).fillna(0).to_numpy()
    c0 = pd.Series(np.asarray(baseline_units, dtype=str)).value_counts().reindex(codes).fillna(0).to_numpy()

    def frame(keys, baseline, current):
        result = change_vs_baseline(baseline, current, target_reduction=target_reduction, confidence=confidence)
        return pd.DataFrame({"unit": keys, "count": result.current.astype(int),
                             "baseline_count": result.baseline.astype(int),
                             "change": result.pct_change / 100.0, "low": result.ci_low - 1.0,
                             "high": result.ci_high - 1.0,
                             "status": [STATUS_OF_VERDICT[v] for v in result.verdict]})

    per_unit = frame(codes, c0, c1)
    unreached = np.isin(codes, np.asarray(sorted({str(c) for c in without_baseline}), dtype=str))
    if unreached.any():
        per_unit.loc[unreached, ["change", "low", "high"]] = np.nan
        per_unit.loc[unreached, "status"] = NO_BASELINE
        c0, c1 = np.where(unreached, 0, c0), np.where(unreached, 0, c1)
    grouped = pd.DataFrame({"group": units[group_col].astype(str).to_numpy(), "c0": c0, "c1": c1})[~unreached]
    grouped = grouped.groupby("group", sort=True)[["c0", "c1"]].sum()
    per_group = frame(grouped.index.to_numpy(), grouped["c0"].to_numpy(), grouped["c1"].to_numpy())
    total = frame(np.array(["total"]), np.array([c0.sum()]), np.array([c1.sum()])).iloc[0].to_dict()
    return {"units": per_unit, "groups": per_group, "total": total}
