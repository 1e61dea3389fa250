"""Where next: a prospective hot spot surface, each recent incident raising the risk nearby for a while.

A near repeat (:mod:`geo.near_repeat`) means risk is communicable: after an incident, places close by are at
raised risk for some days. The prospective surface adds up that raised risk at every grid cell from the
incidents of the recent past, and flags the riskiest cells as the forecast for the coming period.

References
----------
Bowers, K. J., Johnson, S. D. & Pease, K. (2004) Prospective hot-spotting: the future of crime mapping?
*British Journal of Criminology* 44(5), 641–658. Each burglary within the bandwidths (400 m and two months in the
paper) adds to a cell ``1/(1 + d) · 1/(1 + t)``, ``d`` the distance in cell widths and ``t`` the age in weeks;
the surface is scored on the following period's incidents (hit rate, here PAI: :mod:`geo.accuracy`).

Johnson, S. D., Bowers, K. J., Birks, D. J. & Pease, K. (2009) Predictive mapping of crime by ProMap: accuracy,
units of analysis and the environmental backcloth. In Weisburd et al. (eds), *Putting Crime in its Place*,
Springer, 171–198.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo.errors import GeoInputError
from translations import message

DEFAULT_SPACE_BANDWIDTH_M = 400.0
DEFAULT_TIME_BANDWIDTH_DAYS = 60
WEEK_DAYS = 7.0


@dataclass(frozen=True, eq=False)
class ProspectiveSurface:
    """Risk at each cell centre and the parameters behind it.

    Attributes
    ----------
    risk : ndarray
        Σ over recent incidents within the bandwidths of 1/(1 + d/unit) · 1/(1 + age/7 days).
    n_events : int
        Incidents that contributed (within the time bandwidth before the forecast origin).
    params : dict
    """

    risk: np.ndarray
    n_events: int
    params: dict = field(default_factory=dict)


def _positive(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.prospective.positive_number_got", name=name, value=value)) from None
    if not np.isfinite(number) or number <= 0:
        raise GeoInputError(message("geo.prospective.positive_number_got", name=name, value=value))
    return number


def event_weight(distance_m, age_days, distance_unit_m):
    """Bowers, Johnson & Pease (2004) weight of one incident at one cell: 1/(1 + d/unit) · 1/(1 + age/7)."""
    return 1.0 / (1.0 + np.asarray(distance_m, float) / distance_unit_m) / (1.0 + np.asarray(age_days, float)
                                                                            / WEEK_DAYS)


def prospective_surface(cell_x, cell_y, x, y, age_days, *, space_bandwidth_m=DEFAULT_SPACE_BANDWIDTH_M,
                        time_bandwidth_days=DEFAULT_TIME_BANDWIDTH_DAYS, distance_unit_m=None) -> ProspectiveSurface:
    """Prospective risk at cell centres from incidents of known age (Bowers, Johnson & Pease 2004).

    Parameters
    ----------
    cell_x, cell_y : array_like
        Cell centres in metres.
    x, y : array_like
        Incident coordinates in metres.
    age_days : array_like
        Age of each incident at the forecast origin in days (0 = the last day of data); incidents older than
        ``time_bandwidth_days`` or in the future (negative age) do not contribute.
    space_bandwidth_m : float
        Radius of influence (400 m in the paper; default from the near-repeat extent when the caller has one).
    time_bandwidth_days : float
        How long an incident raises the risk (two months in the paper).
    distance_unit_m : float, optional
        The distance unit of the weight (the cell width in the paper); default the space bandwidth / 8, i.e.
        the paper's 50 m cells within 400 m.

    Returns
    -------
    ProspectiveSurface

    Notes
    -----
    A KD-tree finds the (cell, incident) pairs within the radius; the cost grows with those pairs, not with
    cells × incidents, so a province-wide 250 m surface takes a fraction of a second (bench/bench_prospective.py).
    """
    from scipy.spatial import cKDTree

    h = _positive(space_bandwidth_m, "space_bandwidth_m")
    tau = _positive(time_bandwidth_days, "time_bandwidth_days")
    unit = h / 8.0 if distance_unit_m is None else _positive(distance_unit_m, "distance_unit_m")
    cell_x = np.asarray(cell_x, dtype=float).ravel()
    cell_y = np.asarray(cell_y, dtype=float).ravel()
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    age = np.asarray(age_days, dtype=float).ravel()
    if cell_x.shape != cell_y.shape:
        raise GeoInputError(message("geo.prospective.cell_x_cell_y", cell_x_size=cell_x.size,
                                    cell_y_size=cell_y.size))
    if not (x.size == y.size == age.size):
        raise GeoInputError(message("geo.prospective.x_y_age_days", x_size=x.size, y_size=y.size,
                                    age_size=age.size))
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(age).all()):
        raise GeoInputError(message("geo.prospective.incident_coordinates_ages_contain"))
    recent = (age >= 0) & (age <= tau)
    risk = np.zeros(cell_x.size)
    params = {"space_bandwidth_m": h, "time_bandwidth_days": tau, "distance_unit_m": unit,
              "time_unit_days": WEEK_DAYS, "weight": "1/(1 + d/unit) · 1/(1 + age/7)",
              "method": "Bowers, Johnson & Pease (2004) prospective hot-spotting"}
    if not recent.any() or cell_x.size == 0:
        return ProspectiveSurface(risk, int(recent.sum()), params)
    ex, ey, ea = x[recent], y[recent], age[recent]
    near = cKDTree(np.column_stack([ex, ey])).sparse_distance_matrix(
        cKDTree(np.column_stack([cell_x, cell_y])), h, output_type="ndarray")
    np.add.at(risk, near["j"], event_weight(near["v"], ea[near["i"]], unit))
    return ProspectiveSurface(risk, int(recent.sum()), params)


def prospective_brute_force(cell_x, cell_y, x, y, age_days, *, space_bandwidth_m, time_bandwidth_days,
                            distance_unit_m):
    """Reference: the same sum over every (cell, incident) pair (for tests only)."""
    cell_x, cell_y = np.asarray(cell_x, float), np.asarray(cell_y, float)
    risk = np.zeros(cell_x.size)
    for xi, yi, ai in zip(np.asarray(x, float), np.asarray(y, float), np.asarray(age_days, float)):
        if not 0 <= ai <= time_bandwidth_days:
            continue
        d = np.hypot(cell_x - xi, cell_y - yi)
        inside = d <= space_bandwidth_m
        risk[inside] += event_weight(d[inside], ai, distance_unit_m)
    return risk


def rank_segments(cell_risk, cell_segment, segment_ids, segment_lengths_km):
    """Border-corridor segments ranked by forecast risk per km, for next period's patrols.

    Parameters
    ----------
    cell_risk : array_like
        Prospective risk of each corridor cell.
    cell_segment : array_like
        Segment id of each cell (the segment nearest to its centre); cells outside the corridor are left out
        by the caller.
    segment_ids : array_like
        Every segment, so segments without risk are ranked too (last).
    segment_lengths_km : array_like
        Length of each segment (the last one of a line is shorter).

    Returns
    -------
    list of dict
        ``segment_id``, ``risk`` (summed), ``risk_per_km``, ``rank`` (1 = highest; ties share the smaller rank),
        ordered by rank, then segment id.
    """
    risk = np.asarray(cell_risk, dtype=float).ravel()
    cells = np.asarray(cell_segment).ravel()
    ids = np.asarray(segment_ids).ravel()
    lengths = np.asarray(segment_lengths_km, dtype=float).ravel()
    if risk.shape != cells.shape:
        raise GeoInputError(message("geo.prospective.cell_risk_cell_segment", risk_size=risk.size,
                                    cells_size=cells.size))
    if ids.shape != lengths.shape or not (lengths > 0).all():
        raise GeoInputError(message("geo.prospective.segment_lengths_km_give"))
    position = {value: k for k, value in enumerate(ids.tolist())}
    unknown = set(cells.tolist()) - set(position)
    if unknown:
        raise GeoInputError(message("geo.prospective.cell_segment_names_segments", unknown=sorted(unknown)[:5]))
    totals = np.zeros(ids.size)
    np.add.at(totals, np.array([position[c] for c in cells.tolist()], dtype=np.int64), risk)
    per_km = totals / lengths
    order = sorted(range(ids.size), key=lambda k: (-per_km[k], k))
    out, previous, rank = [], None, 0
    for place, k in enumerate(order, start=1):
        if previous is None or not np.isclose(per_km[k], previous):
            rank = place
        previous = per_km[k]
        out.append({"segment_id": ids[k].item() if hasattr(ids[k], "item") else ids[k], "risk": float(totals[k]),
                    "risk_per_km": float(per_km[k]), "rank": rank})
    return out


__all__ = ["DEFAULT_SPACE_BANDWIDTH_M", "DEFAULT_TIME_BANDWIDTH_DAYS", "ProspectiveSurface", "event_weight",
           "prospective_brute_force", "prospective_surface", "rank_segments"]
