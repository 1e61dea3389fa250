"""Near repeats: the Knox test for space-time clustering with Monte Carlo permutation of times.

Every pair of incidents is classified by how far apart they are (a distance band) and how many days apart (a
time band). If incidents close in space also tend to be close in time — a burglary or a drug sale followed by
another nearby within days — the close-close cells hold more pairs than they would if times were unrelated to
places. The expectation is found by shuffling the dates among the incidents (locations fixed) many times.

References
----------
Knox, E. G. (1964) The detection of space-time interactions. *Journal of the Royal Statistical Society, Series C*
13(1), 25–30.

Ratcliffe, J. H. (2009) Near Repeat Calculator (version 1.3). Temple University, Philadelphia, and the National
Institute of Justice. The table reported here is the calculator's: for each distance band × time band the
observed pairs, the expected pairs (mean over the permutations), the Knox ratio observed/expected and the
Monte Carlo p-value ``(1 + #{permuted ≥ observed}) / (P + 1)`` (Johnson et al. 2007, "Space–time patterns of
risk: a cross national assessment of residential burglary victimization", *J. Quant. Criminol.* 23, 201–219).

Bands
-----
As in the Near Repeat Calculator, bands are given by their upper limits, the first starts at 0 and both ends are
inclusive in whole units: ``space_bands=(100, 200, 400)`` gives 0–100 m, 101–200 m, 201–400 m and "more than
400 m"; ``time_bands=(7, 14, 28)`` gives 0–7, 8–14, 15–28 days and "more than 28". A distance is counted in
whole metres rounded up (so 100.4 m falls in 101–200 m) and a lag in whole calendar days.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo.errors import GeoInputError
from geo.permutation import check_permutations
from translations import message

_PERMUTATION_BATCH_ELEMENTS = 1 << 22


def parse_bands(text, what: str) -> tuple[int, ...]:
    """Band limits from ``"100,200,400"`` (or a sequence): strictly increasing positive whole numbers."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    try:
        limits = [int(p) for p in parts if str(p) != ""]
        exact = all(float(p) == int(p) for p in parts if str(p) != "")
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.near_repeat.whole_numbers_separated_commas", what=what, text=text)) from None
    if not limits or not exact:
        raise GeoInputError(message("geo.near_repeat.whole_numbers_separated_commas", what=what, text=text))
    if limits[0] < 1 or any(b <= a for a, b in zip(limits, limits[1:])):
        raise GeoInputError(message("geo.near_repeat.positive_strictly_increasing_got", what=what, text=text))
    return tuple(limits)


def band_ranges(limits) -> list[tuple[int, int | None]]:
    """(from, to) of each band, both inclusive, plus the open last band (to ``None``)."""
    out, start = [], 0
    for limit in limits:
        out.append((start, int(limit)))
        start = int(limit) + 1
    out.append((start, None))
    return out


@dataclass(frozen=True, eq=False)
class KnoxResult:
    """Knox table of observed and expected pairs by distance band (rows) × time band (columns).

    Attributes
    ----------
    space_bands, time_bands : list of (int, int or None)
        Band ranges (inclusive; ``None`` upper limit for the open last band).
    observed : ndarray of int, shape (S + 1, T + 1)
    expected : ndarray of float
        Mean pairs per cell over the permutations.
    ratio : ndarray of float
        Knox ratio observed/expected (NaN where expected is 0).
    p_value : ndarray of float
        Monte Carlo p-value of "more pairs than chance" (upper tail).
    permutations : int
    n_events, n_pairs : int
    params : dict
    """

    space_bands: list
    time_bands: list
    observed: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    p_value: np.ndarray
    permutations: int
    n_events: int
    n_pairs: int
    params: dict = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """One record per band pair, in the column names of the command line's CSV."""
        records = []
        for i, (s_from, s_to) in enumerate(self.space_bands):
            for j, (t_from, t_to) in enumerate(self.time_bands):
                ratio = self.ratio[i, j]
                records.append({"space_from": s_from, "space_to": s_to, "time_from": t_from, "time_to": t_to,
                                "observed": int(self.observed[i, j]), "expected": float(self.expected[i, j]),
                                "ratio": None if not np.isfinite(ratio) else float(ratio),
                                "p_value": float(self.p_value[i, j])})
        return records


def _band_of(values, limits):
    """Band index 0…len(limits) of whole-unit values (value ≤ limit_k → band k; beyond → the open band)."""
    return np.searchsorted(np.asarray(limits), values, side="left")


def _day_numbers(times):
    days = np.asarray(times)
    if days.dtype.kind == "M":
        return days.astype("datetime64[D]").astype(np.int64)
    if days.dtype.kind in "iu":
        return days.astype(np.int64)
    if days.dtype.kind == "f":
        if not np.isfinite(days).all():
            raise GeoInputError(message("geo.near_repeat.times_contain_missing_values"))
        return np.floor(days).astype(np.int64)
    try:
        return np.array([np.datetime64(getattr(v, "date", lambda: v)(), "D") for v in days.ravel()],
                        dtype="datetime64[D]").astype(np.int64)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.near_repeat.times_dates_datetimes_day")) from None


def close_pairs(x, y, max_distance: int):
    """Pairs (i < j) within ``max_distance`` metres (whole metres rounded up) and their rounded-up distances."""
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([x, y]))
    # A little beyond the limit, then the whole-metre rule decides, exactly as the brute force does.
    pairs = tree.query_pairs(r=float(max_distance) + 1e-6, output_type="ndarray")
    if pairs.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    metres = whole_metres(x[i] - x[j], y[i] - y[j])
    keep = metres <= max_distance
    return i[keep], j[keep], metres[keep]


def whole_metres(dx, dy):
    """Euclidean distance in whole metres rounded up (the tolerance absorbs rounding of exact integers)."""
    return np.ceil(np.hypot(dx, dy) - 1e-9).astype(np.int64)


def _lag_pair_counts(days):
    """Pairs at each lag 0, 1, …, span days among all events (independent of which event has which date)."""
    offset = days - days.min()
    histogram = np.bincount(offset).astype(np.int64)
    auto = np.correlate(histogram, histogram, mode="full")
    centre = histogram.size - 1
    lags = auto[centre:].copy()
    lags[0] = (lags[0] - days.size) // 2  # pairs of distinct events on the same day
    return lags


def knox_test(x, y, times, space_bands, time_bands, *, permutations: int = 999, seed=None) -> KnoxResult:
    """Knox test with Monte Carlo permutation of times, as the Near Repeat Calculator reports it.

    Parameters
    ----------
    x, y : array_like
        Incident coordinates in metres.
    times : array_like
        Dates (``datetime64``, ``date``, ``datetime``) or whole day numbers.
    space_bands, time_bands : sequence of int or str
        Upper limits of the distance bands (metres) and time bands (days); see the module *Bands*.
    permutations : int
        Monte Carlo permutations of the times (at least 99; 999 as the calculator's default).
    seed : int, optional

    Returns
    -------
    KnoxResult

    Notes
    -----
    Only pairs closer than the largest distance band are enumerated (a KD-tree); the cells of the open
    distance band follow from the lag distribution of all pairs, which a permutation of times leaves unchanged,
    so each permutation costs one pass over the close pairs instead of all n(n−1)/2. Given the same
    ``seed``, the result equals the brute-force count over every pair (tests/test_near_repeat.py).
    """
    space = parse_bands(space_bands, "space_bands")
    timeb = parse_bands(time_bands, "time_bands")
    permutations = check_permutations(permutations)
    if permutations == 0:
        raise GeoInputError(message("geo.near_repeat.knox_test_needs_permutations"))
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    days = _day_numbers(times).ravel()
    if not (x.size == y.size == days.size):
        raise GeoInputError(message("geo.near_repeat.x_y_times_same", x_size=x.size, y_size=y.size,
                                    days_size=days.size))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise GeoInputError(message("geo.near_repeat.coordinates_contain_missing_infinite"))
    if x.size < 3:
        raise GeoInputError(message("geo.near_repeat.knox_test_needs_least", x_size=x.size))
    n_space, n_time = len(space) + 1, len(timeb) + 1
    i, j, metres = close_pairs(x, y, space[-1])
    space_of_pair = _band_of(metres, space)
    max_lag = int(days.max() - days.min())
    lag_band = _band_of(np.arange(max_lag + 1), timeb)
    lags = _lag_pair_counts(days)
    time_totals = np.bincount(lag_band, weights=lags, minlength=n_time).astype(np.int64)
    n_pairs = x.size * (x.size - 1) // 2

    def table(day_of):
        cells = space_of_pair * n_time + lag_band[np.abs(day_of[i] - day_of[j])]
        return np.bincount(cells, minlength=(n_space - 1) * n_time).reshape(n_space - 1, n_time)

    def complete(close):
        full = np.empty((n_space, n_time), dtype=np.int64)
        full[:-1] = close
        full[-1] = time_totals - close.sum(axis=0)
        return full

    observed = complete(table(days))
    # Pairs sorted by distance band make each band a contiguous slice; the lags of a batch of permutations are
    # then counted against the time-band limits (cumulative counts, differenced), cheaper than a bincount.
    # Narrow integer types halve the memory traffic of the per-permutation gathers (the cost of the test).
    order = np.argsort(space_of_pair, kind="stable")
    pair_i, pair_j = i[order].astype(np.int32), j[order].astype(np.int32)
    bounds = np.searchsorted(space_of_pair[order], np.arange(n_space))
    day_type = np.int16 if max_lag < np.iinfo(np.int16).max else np.int32
    offset_days = (days - days.min()).astype(day_type)
    limits = np.asarray(timeb, dtype=day_type)
    rng = np.random.default_rng(seed)
    larger = np.zeros((n_space, n_time), dtype=np.int64)
    total = np.zeros((n_space, n_time), dtype=np.float64)
    batch = max(1, _PERMUTATION_BATCH_ELEMENTS // max(1, i.size))
    done = 0
    while done < permutations:
        size = min(batch, permutations - done)
        shuffled = np.stack([offset_days[rng.permutation(days.size)] for _ in range(size)])
        lag = np.abs(shuffled[:, pair_i] - shuffled[:, pair_j])
        sims = np.empty((size, n_space, n_time), dtype=np.int64)
        for band in range(n_space - 1):
            part = lag[:, bounds[band]:bounds[band + 1]]
            within = np.stack([np.count_nonzero(part <= limit, axis=1) for limit in limits], axis=1)
            sims[:, band, 0] = within[:, 0]
            sims[:, band, 1:-1] = np.diff(within, axis=1)
            sims[:, band, -1] = part.shape[1] - within[:, -1]
        sims[:, -1] = time_totals[None, :] - sims[:, :-1].sum(axis=1)
        larger += (sims >= observed[None]).sum(axis=0)
        total += sims.sum(axis=0)
        done += size
    expected = total / permutations
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
    p_value = (larger + 1.0) / (permutations + 1.0)
    return KnoxResult(space_bands=band_ranges(space), time_bands=band_ranges(timeb), observed=observed,
                      expected=expected, ratio=ratio, p_value=p_value, permutations=permutations,
                      n_events=int(x.size), n_pairs=int(n_pairs),
                      params={"space_bands": list(space), "time_bands": list(timeb), "seed": seed,
                              "distance": "Euclidean, whole metres rounded up", "lag": "whole days",
                              "method": "Knox (1964); Monte Carlo permutation of times as Ratcliffe's Near Repeat "
                                        "Calculator (2009)"})


def knox_brute_force(x, y, times, space_bands, time_bands, *, permutations: int = 999, seed=None) -> KnoxResult:
    """Reference Knox test over every pair of incidents, with the same permutations as :func:`knox_test`.

    O(n² · P): for checking :func:`knox_test` on small data and as the benchmark's peer, not for use.
    """
    space = parse_bands(space_bands, "space_bands")
    timeb = parse_bands(time_bands, "time_bands")
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    days = _day_numbers(times).ravel()
    n = x.size
    i, j = np.triu_indices(n, k=1)
    metres = whole_metres(x[i] - x[j], y[i] - y[j])
    s_band = _band_of(metres, space)
    n_space, n_time = len(space) + 1, len(timeb) + 1

    def table(day_of):
        t_band = _band_of(np.abs(day_of[i] - day_of[j]), timeb)
        return np.bincount(s_band * n_time + t_band, minlength=n_space * n_time).reshape(n_space, n_time)

    observed = table(days)
    rng = np.random.default_rng(seed)
    # Same stream as knox_test: one permutation per draw, in order.
    sims = np.stack([table(days[rng.permutation(n)]) for _ in range(permutations)])
    expected = sims.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
    p_value = ((sims >= observed[None]).sum(axis=0) + 1.0) / (permutations + 1.0)
    return KnoxResult(space_bands=band_ranges(space), time_bands=band_ranges(timeb), observed=observed,
                      expected=expected, ratio=ratio, p_value=p_value, permutations=permutations, n_events=n,
                      n_pairs=int(i.size))


def near_repeat_extent(result: KnoxResult, alpha: float = 0.05, min_ratio: float = 1.0):
    """The largest distance and lag of the contiguous significant near-repeat cells starting at (0, 0).

    Used as default bandwidths of the prospective surface (Bowers, Johnson & Pease 2004 chose theirs from the
    same kind of table). Returns ``(metres, days)``, or ``None`` when the first cell is not significant.
    """
    significant = (result.p_value[:-1, :-1] <= alpha) & (np.nan_to_num(result.ratio[:-1, :-1]) > min_ratio)
    if not significant.size or not significant[0, 0]:
        return None
    rows = int(np.argmin(np.append(significant[:, 0], False)))
    cols = int(np.argmin(np.append(significant[0, :], False)))
    return result.space_bands[rows - 1][1], result.time_bands[cols - 1][1]


__all__ = ["KnoxResult", "band_ranges", "close_pairs", "knox_brute_force", "knox_test", "near_repeat_extent",
           "parse_bands"]
