"""How well the hot spots of one period predicted the incidents of the next: hit rate, PAI, PEI and RRI.

A hot spot map flags some cells (grid cells or communes) from a *training* period; the incidents of the
following *test* period are then counted in them. Every measure here takes the cells as arrays (one value per
cell) so the same code scores Gi* bins, the top share of a kernel density surface, emerging hot spot classes
and prospective (forecast) surfaces.

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008) The utility of hotspot mapping for predicting spatial patterns of
crime. *Security Journal* 21, 4–28. Predictive Accuracy Index PAI = (n/N)/(a/A).

Hunt, J. M. (2016) Do crime hot spots move? Exploring the effects of the modifiable areal unit problem and
modifiable temporal unit problem on crime hot spot stability. PhD thesis, American University; Predictive
Efficiency Index PEI = n/n*, n* the most incidents any set of cells of the same area could have caught (see
also Drawve, G. (2016) Hot spot mapping and risk terrain modeling as predictive tools, *Journal of Crime and
Justice* 39(3)).

Levine, N. (2008) The "hottest" part of a hotspot: comments on "The utility of hotspot mapping for predicting
spatial patterns of crime". *Security Journal* 21, 295–302. Recapture Rate Index RRI = (n₂/n₁)/(N₂/N₁).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from geo.errors import GeoInputError
from translations import message

#: Relative tolerance under which cell areas count as equal (a regular grid not clipped by the boundary).
EQUAL_AREA_RTOL = 1e-9


@dataclass(frozen=True)
class AccuracyScore:
    """Accuracy of one set of flagged cells on the test period; undefined ratios are ``None``, never a number.

    Attributes
    ----------
    n_cells, n_flagged : int
        Cells analysed and cells flagged as hot spots.
    n : int
        Test incidents in the flagged cells.
    N : int
        Test incidents in all cells.
    a, A : float
        Flagged area and total area (m²).
    hit_rate : float or None
        n/N (None when the test period has no incidents).
    area_share : float or None
        a/A (None when no area was analysed).
    pai : float or None
        Predictive Accuracy Index (n/N)/(a/A); None when N = 0 or nothing was flagged.
    n_star : float
        The most test incidents any set of cells of area a could have caught (see :func:`max_catch`).
    n_star_exact : bool
        Whether ``n_star`` is exact (equal cell areas) or the fractional upper bound (unequal areas).
    pei : float or None
        Predictive Efficiency Index n/n*; None when n* = 0.
    n1, N1 : int or None
        Training incidents in the flagged cells and in all cells (for the RRI).
    rri : float or None
        Recapture Rate Index (n₂/n₁)/(N₂/N₁) with n₂ = n, N₂ = N; None without training counts or when
        n₁, N₁ or N₂ is 0.
    """

    n_cells: int
    n_flagged: int
    n: int
    N: int
    a: float
    A: float
    hit_rate: float | None
    area_share: float | None
    pai: float | None
    n_star: float
    n_star_exact: bool
    pei: float | None
    n1: int | None
    N1: int | None
    rri: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _cells(counts, name):
    values = np.asarray(counts, dtype=float).ravel()
    if not np.isfinite(values).all() or (values < 0).any():
        raise GeoInputError(message("geo.accuracy.finite_non_negative_counts", name=name))
    return values


def max_catch(counts, areas, area_budget: float) -> tuple[float, bool]:
    """The most incidents a set of cells of total area ``area_budget`` could contain (the n* of PEI).

    Parameters
    ----------
    counts : array_like
        Test incidents per cell.
    areas : array_like
        Area of each cell (m²), positive.
    area_budget : float
        Area flagged by the hot spot method (a).

    Returns
    -------
    (float, bool)
        ``n*`` and whether it is exact. With equal cell areas (a regular grid, Hunt 2016's setting) n* is the
        sum of the ``k`` largest counts, ``k`` the number of cells fitting in the budget: exact. With unequal
        areas (clipped border cells, communes) the exact optimum is a 0/1 knapsack; the fractional bound
        (Dantzig 1957: cells by decreasing density, the last one taken in part) is returned instead. It is never
        below the exact optimum, so n ≤ n* always holds and the PEI is never above 1.
    """
    counts = _cells(counts, "counts")
    areas = np.asarray(areas, dtype=float).ravel()
    if areas.shape != counts.shape:
        raise GeoInputError(message("geo.accuracy.areas_one_value_per", counts_size=counts.size,
                                    areas_size=areas.size))
    if counts.size == 0 or area_budget <= 0:
        return 0.0, True
    if not (np.isfinite(areas).all() and (areas > 0).all()):
        raise GeoInputError(message("geo.accuracy.cell_areas_finite_positive"))
    if np.allclose(areas, areas[0], rtol=EQUAL_AREA_RTOL, atol=0):
        k = min(counts.size, int(np.floor(area_budget / areas[0] * (1 + EQUAL_AREA_RTOL))))
        return float(np.sort(counts)[::-1][:k].sum()), True
    order = np.argsort(-(counts / areas), kind="stable")
    cumulative = np.cumsum(areas[order])
    whole = int(np.searchsorted(cumulative, area_budget, side="right"))
    caught = counts[order[:whole]].sum()
    if whole < counts.size:
        left = area_budget - (cumulative[whole - 1] if whole else 0.0)
        caught += counts[order[whole]] * left / areas[order[whole]]
    return float(caught), False


def score_hotspots(flagged, test_counts, areas, train_counts=None) -> AccuracyScore:
    """Score flagged cells on the test period's incidents.

    Parameters
    ----------
    flagged : array_like of bool
        Cells the hot spot method of the training period flagged.
    test_counts : array_like
        Incidents per cell in the test period.
    areas : array_like
        Area of each cell in m² (the study area A is their sum).
    train_counts : array_like, optional
        Incidents per cell in the training period, for the Recapture Rate Index.

    Returns
    -------
    AccuracyScore

    Notes
    -----
    PAI = (n/N)/(a/A) (Chainey et al. 2008): above 1 the flagged cells catch more than their share of area.
    PEI = n/n* (Hunt 2016): 1 when no set of cells of the same area could have done better.
    RRI = (n₂/n₁)/(N₂/N₁) (Levine 2008): above 1 the flagged cells kept more than their share of incidents from
    one period to the next. A ratio whose denominator is 0 is ``None``.
    """
    flagged = np.asarray(flagged).ravel()
    if flagged.dtype != bool:
        raise GeoInputError(message("geo.accuracy.flagged_boolean_mask_one"))
    test = _cells(test_counts, "test_counts")
    areas = np.asarray(areas, dtype=float).ravel()
    if not (test.shape == flagged.shape == areas.shape):
        raise GeoInputError(message("geo.accuracy.flagged_test_counts_areas", flagged_size=flagged.size,
                                    test_size=test.size, areas_size=areas.size))
    if not (np.isfinite(areas).all() and (areas > 0).all()):
        raise GeoInputError(message("geo.accuracy.cell_areas_finite_positive"))
    n, N = test[flagged].sum(), test.sum()
    a, A = float(areas[flagged].sum()), float(areas.sum())
    hit_rate = float(n / N) if N > 0 else None
    area_share = a / A if A > 0 else None
    pai = hit_rate / area_share if hit_rate is not None and area_share else None
    n_star, exact = max_catch(test, areas, a)
    pei = float(n / n_star) if n_star > 0 else None
    n1 = N1 = rri = None
    if train_counts is not None:
        train = _cells(train_counts, "train_counts")
        if train.shape != flagged.shape:
            raise GeoInputError(message("geo.accuracy.train_counts_one_value", flagged_size=flagged.size,
                                        train_size=train.size))
        n1, N1 = int(round(train[flagged].sum())), int(round(train.sum()))
        if n1 > 0 and N1 > 0 and N > 0:
            rri = float((n / n1) / (N / N1))
    return AccuracyScore(n_cells=int(flagged.size), n_flagged=int(flagged.sum()), n=int(round(n)), N=int(round(N)),
                         a=a, A=A, hit_rate=hit_rate, area_share=area_share, pai=pai, n_star=n_star,
                         n_star_exact=exact, pei=pei, n1=n1, N1=N1, rri=rri)


def top_share(values, areas, share: float):
    """Cells with the highest ``values`` covering ``share`` of the total area (the "top k %" of a surface).

    Parameters
    ----------
    values : array_like
        Score of each cell (e.g. kernel density or prospective risk); NaN counts as lowest.
    areas : array_like
        Area of each cell (m²).
    share : float
        Share of the study area to flag, 0 < share ≤ 1 (0.05 for the top 5 %).

    Returns
    -------
    ndarray of bool
        Cells are taken by decreasing value while their cumulative area stays within ``share`` of the total;
        ties are broken by cell order, and cells with a value of zero are never flagged (no incident nearby).
    """
    if not 0 < float(share) <= 1:
        raise GeoInputError(message("geo.accuracy.share_lie_got", share=share))
    values = np.nan_to_num(np.asarray(values, dtype=float).ravel(), nan=-np.inf)
    areas = np.asarray(areas, dtype=float).ravel()
    if values.shape != areas.shape:
        raise GeoInputError(message("geo.accuracy.values_areas_one_value", size=values.size, areas_size=areas.size))
    order = np.argsort(-values, kind="stable")
    within = np.cumsum(areas[order]) <= float(share) * areas.sum() * (1 + EQUAL_AREA_RTOL)
    mask = np.zeros(values.size, dtype=bool)
    mask[order[within]] = True
    return mask & (values > 0)


def gi_bin_flags(gi_bin, min_confidence: int = 2):
    """Hot spot cells of a Gi* run: bin ≥ ``min_confidence`` (1 = 90 %, 2 = 95 %, 3 = 99 % confidence)."""
    if min_confidence not in (1, 2, 3):
        raise GeoInputError(message("geo.accuracy.min_confidence_got", min_confidence=min_confidence))
    return np.asarray(gi_bin, dtype=float).ravel() >= min_confidence


def emerging_flags(categories):
    """Hot spot cells of an emerging hot spot run: any ``*_hot`` class (new, consecutive, intensifying, …)."""
    return np.char.endswith(np.asarray(categories, dtype=str).ravel(), "_hot")


__all__ = ["AccuracyScore", "emerging_flags", "gi_bin_flags", "max_catch", "score_hotspots", "top_share"]
