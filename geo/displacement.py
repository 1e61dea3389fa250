"""Did converting a key area push crime next door? The Weighted Displacement Quotient around an area.

Incidents are counted in three places — the response area R (the key area), a buffer ring B around it and a
control area C (the rest of its district, or communes chosen by the planner) — over equal spans before (0) and
after (1) the conversion decision, and compared by the Weighted Displacement Quotient.

References
----------
Bowers, K. J. & Johnson, S. D. (2003) Measuring the geographical displacement and diffusion of benefit effects
of crime prevention activity. *Journal of Quantitative Criminology* 19(3), 275–301.

* success measure SM = R₁/C₁ − R₀/C₀ (negative when the area improved relative to the control);
* buffer displacement measure BDM = B₁/C₁ − B₀/C₀;
* WDQ = BDM / SM: positive — diffusion of benefits (the buffer improved too); negative — displacement (the
  buffer got worse while the area improved); 0 — no effect on the buffer. Below −1 the displacement outweighs
  the gain in the area; above 1 the buffer gained more than the area itself;
* total net effect TNE = [R₀·C₁/C₀ − R₁] + [B₀·C₁/C₀ − B₁], the incidents saved in R and B together,
  scaled by the control's trend (Bowers & Johnson 2003, section "Total net effect").

The WDQ is only read when the area improved (SM < 0); with no change (SM = 0), crime rising in the area
(SM > 0), or a control without incidents in either span, there is nothing to weigh and no number is given.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import numpy as np

from geo.errors import GeoInputError
from translations import message

DEFAULT_BUFFER_M = 500.0
DEFAULT_SPAN_DAYS = 365

#: Readings of a WDQ; the first three are numbers, the rest say why there is no number.
READINGS = ("displacement", "diffusion_of_benefits", "no_effect", "no_change_in_area", "no_reduction_in_area",
            "zero_control")
READING_LABELS = {
    "displacement": ("Dịch chuyển tội phạm sang vùng đệm", "Displacement into the buffer"),
    "diffusion_of_benefits": ("Lan tỏa hiệu quả sang vùng đệm", "Diffusion of benefits to the buffer"),
    "no_effect": ("Không ảnh hưởng đến vùng đệm", "No effect on the buffer"),
    "no_change_in_area": ("Không xác định: số vụ trong địa bàn không đổi so với vùng đối chứng",
                          "Undefined: no change in the area relative to the control"),
    "no_reduction_in_area": ("Không xác định: địa bàn không giảm so với vùng đối chứng",
                             "Undefined: the area did not improve relative to the control"),
    "zero_control": ("Không xác định: vùng đối chứng không có vụ việc trong một kỳ",
                     "Undefined: the control area has no incidents in one span"),
}


@dataclass(frozen=True)
class DisplacementResult:
    """The WDQ, its reading and everything behind it (the six counts as Bowers & Johnson name them).

    Attributes
    ----------
    R0, R1, B0, B1, C0, C1 : int
        Incidents in the area, the buffer and the control, before (0) and after (1).
    success_measure, buffer_measure : float or None
        SM = R₁/C₁ − R₀/C₀ and BDM = B₁/C₁ − B₀/C₀ (None when a control count is 0).
    wdq : float or None
        BDM/SM when SM < 0, else None.
    reading : str
        One of :data:`READINGS`.
    displacement_exceeds_gain : bool
        WDQ < −1: the buffer lost more than the area gained.
    total_net_effect : float or None
        Incidents saved in R and B together, scaled by the control trend (None when C₀ = 0).
    """

    R0: int
    R1: int
    B0: int
    B1: int
    C0: int
    C1: int
    success_measure: float | None
    buffer_measure: float | None
    wdq: float | None
    reading: str
    displacement_exceeds_gain: bool
    total_net_effect: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise GeoInputError(message("geo.displacement.non_negative_whole_number", name=name, value=value))
    return int(value)


def weighted_displacement_quotient(R0, R1, B0, B1, C0, C1) -> DisplacementResult:
    """Weighted Displacement Quotient of Bowers & Johnson (2003) from the six counts.

    Parameters
    ----------
    R0, R1 : int
        Incidents in the response area before and after.
    B0, B1 : int
        Incidents in the buffer ring before and after.
    C0, C1 : int
        Incidents in the control area before and after.

    Returns
    -------
    DisplacementResult

    Examples
    --------
    The area falls from 40 to 20 while the control holds at 200; the buffer rises from 30 to 36:
    SM = 20/200 − 40/200 = −0.1, BDM = 36/200 − 30/200 = 0.03, WDQ = 0.03/−0.1 = −0.3 (displacement smaller
    than the gain).

    >>> weighted_displacement_quotient(40, 20, 30, 36, 200, 200).wdq
    -0.3
    """
    R0, R1, B0, B1, C0, C1 = (_count(v, n) for v, n in ((R0, "R0"), (R1, "R1"), (B0, "B0"), (B1, "B1"),
                                                       (C0, "C0"), (C1, "C1")))
    total_net = None if C0 == 0 else (R0 * C1 / C0 - R1) + (B0 * C1 / C0 - B1)
    if C0 == 0 or C1 == 0:
        return DisplacementResult(R0, R1, B0, B1, C0, C1, None, None, None, "zero_control", False, total_net)
    # Fractions with the common denominator C0·C1 keep SM = 0 and BDM = 0 exact.
    sm_num = R1 * C0 - R0 * C1
    bdm_num = B1 * C0 - B0 * C1
    sm, bdm = sm_num / (C0 * C1), bdm_num / (C0 * C1)
    if sm_num == 0:
        reading, wdq = "no_change_in_area", None
    elif sm_num > 0:
        reading, wdq = "no_reduction_in_area", None
    else:
        wdq = bdm_num / sm_num
        reading = "no_effect" if bdm_num == 0 else ("diffusion_of_benefits" if wdq > 0 else "displacement")
    round_wdq = None if wdq is None else float(round(wdq, 12))
    return DisplacementResult(R0, R1, B0, B1, C0, C1, float(sm), float(bdm), round_wdq, reading,
                              bool(wdq is not None and wdq < -1), None if total_net is None else float(total_net))


@dataclass(frozen=True)
class Spans:
    """Equal spans before and after an intervention date: [start0, date) and [date, end1)."""

    before_start: date
    intervention: date
    after_end: date

    @property
    def days(self) -> int:
        return (self.intervention - self.before_start).days


def equal_spans(intervention: date, data_through: date, span_days: int | None = None) -> Spans:
    """Before/after spans of equal length around ``intervention``.

    Parameters
    ----------
    intervention : date
        The conversion decision; its day belongs to the "after" span.
    data_through : date
        Last day with data; the after span never runs past it.
    span_days : int, optional
        Length of each span; default the shorter of 365 days and the days of data since the decision.

    Raises
    ------
    GeoInputError
        When there is no day of data after the decision, or ``span_days`` is longer than the data allow.
    """
    available = (data_through - intervention).days + 1
    if available < 1:
        raise GeoInputError(message("geo.displacement.data_after_decision_data", intervention=intervention,
                                    data_through=data_through))
    if span_days is None:
        span_days = min(DEFAULT_SPAN_DAYS, available)
    if isinstance(span_days, bool) or not isinstance(span_days, (int, np.integer)) or span_days < 1:
        raise GeoInputError(message("geo.displacement.span_days_positive_whole", span_days=span_days))
    if span_days > available:
        raise GeoInputError(message("geo.displacement.span_days_longer_than", span_days=span_days,
                                    available=available, intervention=intervention))
    return Spans(intervention - timedelta(days=int(span_days)), intervention,
                 intervention + timedelta(days=int(span_days)))


def displacement_zones(area, buffer_m: float = DEFAULT_BUFFER_M, control=None):
    """The response area, its buffer ring and the control area (metric geometries, disjoint).

    Parameters
    ----------
    area : shapely geometry
        The key area, in metres.
    buffer_m : float
        Width of the ring around the area (default 500 m).
    control : shapely geometry
        The control region (e.g. the area's district, or chosen communes), in metres; the area and its ring are
        removed from it so no incident is counted twice.

    Returns
    -------
    (area, ring, control) : tuple of shapely geometries
    """
    import shapely

    try:
        width = float(buffer_m)
    except (TypeError, ValueError):
        raise GeoInputError(message("geo.displacement.buffer_m_distance_metres", buffer_m=buffer_m)) from None
    if not np.isfinite(width) or width <= 0:
        raise GeoInputError(message("geo.displacement.buffer_m_positive_distance", buffer_m=buffer_m))
    if area is None or area.is_empty:
        raise GeoInputError(message("geo.displacement.key_area_geometry"))
    grown = area.buffer(width)
    ring = shapely.difference(grown, area)
    if control is None or control.is_empty:
        raise GeoInputError(message("geo.displacement.control_area_give_district"))
    rest = shapely.difference(control, grown)
    if rest.is_empty or rest.area <= 0:
        raise GeoInputError(message("geo.displacement.control_area_lies_entirely", width=width))
    return area, ring, rest


def count_displacement(x, y, occurred_at, zones, spans: Spans) -> dict:
    """The six counts R0, R1, B0, B1, C0, C1 of incidents at (x, y) in metres on dates ``occurred_at``.

    A point on the edge of two zones is counted in the first of area, ring, control that covers it.
    """
    import shapely

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    days = np.array([_as_date(v) for v in np.asarray(occurred_at, dtype=object).ravel()], dtype="datetime64[D]")
    if not (x.size == y.size == days.size):
        raise GeoInputError(message("geo.displacement.x_y_occurred_same", x_size=x.size, y_size=y.size,
                                    days_size=days.size))
    before = (days >= np.datetime64(spans.before_start)) & (days < np.datetime64(spans.intervention))
    after = (days >= np.datetime64(spans.intervention)) & (days < np.datetime64(spans.after_end))
    points = shapely.points(x, y)
    taken = np.zeros(x.size, dtype=bool)
    counts = {}
    for name, zone in zip("RBC", zones):
        inside = shapely.covers(zone, points) & ~taken
        taken |= inside
        counts[f"{name}0"] = int((inside & before).sum())
        counts[f"{name}1"] = int((inside & after).sum())
    return counts


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").astype(date)
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    raise GeoInputError(message("geo.displacement.occurred_hold_dates_got", value=value))


__all__ = ["DEFAULT_BUFFER_M", "DEFAULT_SPAN_DAYS", "DisplacementResult", "READINGS", "READING_LABELS", "Spans",
           "count_displacement", "displacement_zones", "equal_spans", "weighted_displacement_quotient"]
