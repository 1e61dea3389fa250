"""The plan's targets measured from the records: numerator, denominator, value, interval and status.

Each metric is computed from an incidents DataFrame (columns ``occurred_at``, ``category``, ``severity``,
``case_status``, ``district_code``) for any :class:`geo.periods.Period`, province-wide or for one district.
Metrics the records cannot measure (key areas, drug status of communes) take their counts from the
caller (:class:`ExternalCount`); metrics nobody records yet report ``no_data`` instead of a number.

Notes
-----
**What each records metric counts** (codes as in ``data/targets/targets_YYYY.json``; categories, severities
and statuses from :mod:`geo.taxonomy`):

* ``social_order_change`` — incidents of :data:`~geo.taxonomy.SOCIAL_ORDER_CATEGORIES` that occurred in
  the period, against the same period one year earlier;
* ``suspended_change`` — incidents with status ``suspended``, same comparison (dated by occurrence: the
  records carry no suspension date);
* ``clearance`` — of social-order incidents, the share whose status implies the case was solved
  (:data:`~geo.taxonomy.CLEARED_STATUSES`: cleared, indicted, tried); incidents still ``received`` count
  as occurred and not cleared, as in the police's "vụ xảy ra / vụ khám phá";
* ``grave_clearance`` — the same for very and especially serious incidents (all categories);
* ``reports_resolved`` — of all incidents received, the share past the ``received`` stage (a decision
  was taken on the report). "100% received" cannot be measured from records that were all received;
* ``trafficking_cleared`` / ``_indicted`` / ``_tried`` — human-trafficking cases: cleared among those
  prosecuted (any status but ``received``), indicted or tried among those cleared, tried among those
  indicted or tried.

**Intervals.** Proportions get the Clopper–Pearson exact 95% interval (Clopper & Pearson 1934), which keeps
its coverage for small counts where the Wald interval fails (Brown, Cai & DasGupta 2001). A change
against last year treats both counts as Poisson and conditions on their sum: x₁ | x₁+x₀ ~ Binomial(x₁+x₀,
p), p = λ₁t₁/(λ₁t₁+λ₀t₀); the Clopper–Pearson interval for p maps to the rate ratio R = p/(1−p)·t₀/t₁
and the change is R−1 (the exact conditional method of Przyborowski & Wileński 1940, as in R's
``poisson.test`` for two samples). A commune going from 4 cases to 3 has change −25% with interval
−84%…+290%: not a success.

**Status** (confidence level 95% by default):

* ``on_track`` — the whole interval lies on the target's side: the target is met beyond chance variation;
* ``missed`` — the whole interval lies on the wrong side;
* ``at_risk`` — the interval contains the target: the counts cannot tell (every small count, and every
  result close to the target);
* ``no_data`` — nothing to measure (no records of the comparison period, an empty denominator, or a
  metric the tracker does not record).

Targets of 100% and census counts (key areas, communes) have no sampling interval: their status follows
the figure itself — met is ``on_track``, short is ``missed``. ``meets_target`` always reports the plain
comparison of the figure with the target, which is what the committee's report states ("đạt / không đạt").

**Like for like.** A change compares the period with the *same calendar span* of the baseline year
(:func:`geo.periods.like_for_like`; by default the year before, 2023 for 2024 as the plan says). When the
records end inside the period (a period in progress), both are cut at the last recorded day, the baseline
at the same calendar date; when they start inside the baseline span, both start as late. Like is compared
with like, and ``note`` says so; with no overlap at all the result is ``no_data``. The two spans hold the
same calendar days, so the *counts* are compared, as the plan words it ("kéo giảm ít nhất 5% số vụ"): the
first quarter of 2024 has a 29 February, and 100 → 96 cases is −4 % (target of −5 % not met), not the
−5.1 % a per-day rate would report. The interval is the exact conditional one with equal exposures.
"""
from __future__ import annotations

import json
import math
import weakref
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from geo.errors import GeoInputError
from geo.exact_tests import clopper_pearson, rate_ratio_test
from geo.periods import Period, PeriodNotCovered, like_for_like
from geo.taxonomy import CLEARED_STATUSES, GRAVE_SEVERITIES, SOCIAL_ORDER_CATEGORIES
from translations import Message, join_messages, message

KINDS = ("proportion", "change")
OPERATORS = (">", ">=", "<", "<=")
SOURCES = ("records", "key_areas", "drug_status", "manual")
STATUSES = ("on_track", "at_risk", "missed", "no_data")
STATUS_LABELS = {
    "on_track": ("Đạt, vững chắc", "On track"),
    "at_risk": ("Chưa chắc chắn", "At risk"),
    "missed": ("Không đạt", "Missed"),
    "no_data": ("Chưa có số liệu", "No data"),
}
RECORD_METRICS = ("social_order_change", "suspended_change", "clearance", "grave_clearance", "reports_resolved",
                  "trafficking_cleared", "trafficking_indicted", "trafficking_tried")
REQUIRED_COLUMNS = ("occurred_at", "category", "severity", "case_status", "district_code")
TRAFFICKING = "human_trafficking"


@dataclass(frozen=True)
class TargetSpec:
    """One target of a year's plan, as stored in ``data/targets/targets_YYYY.json`` or the targets table."""

    code: str
    kind: str
    operator: str
    threshold: float
    source: str
    label_vi: str
    label_en: str
    target_vi: str = ""
    target_en: str = ""
    plan_text: str = ""
    stretch: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise GeoInputError(message("geo.targets.kind_target_one", self_kind=self.kind, self_code=self.code,
                                        kinds=', '.join(KINDS)))
        if self.operator not in OPERATORS:
            raise GeoInputError(message("geo.targets.operator_target_one", self_operator=self.operator,
                                        self_code=self.code, operators=', '.join(OPERATORS)))
        if self.source not in SOURCES:
            raise GeoInputError(message("geo.targets.source_target_one", self_source=self.source,
                                        self_code=self.code, sources=', '.join(SOURCES)))
        if self.source == "records" and self.code not in RECORD_METRICS:
            raise GeoInputError(message("geo.targets.target_source_records_but", self_code=self.code,
                                        record_metrics=', '.join(RECORD_METRICS)))
        if not isinstance(self.threshold, (int, float)) or not math.isfinite(self.threshold):
            raise GeoInputError(message("geo.targets.threshold_target_finite_number",
                                        self_threshold=self.threshold, self_code=self.code))
        if self.kind == "proportion" and not 0 <= self.threshold <= 1:
            raise GeoInputError(message("geo.targets.threshold_proportion_target_between",
                                        self_threshold=self.threshold, self_code=self.code))

    def satisfied_by(self, value: float) -> bool:
        """Whether a figure meets the target (``value`` a share, or a relative change −0.05 = 5% fewer)."""
        return {">": value > self.threshold, ">=": value >= self.threshold - 1e-12,
                "<": value < self.threshold, "<=": value <= self.threshold + 1e-12}[self.operator]

    @property
    def is_all_or_nothing(self) -> bool:
        return self.kind == "proportion" and self.threshold >= 1.0


@dataclass(frozen=True)
class TargetSet:
    """A year's targets: plan citation, comparison year and the ordered specs."""

    year: int
    plan: str
    compared_with_year: int
    specs: tuple[TargetSpec, ...]

    def spec(self, code: str) -> TargetSpec:
        for spec in self.specs:
            if spec.code == code:
                return spec
        raise GeoInputError(message("geo.targets.target_one", code=code,
                                    self_specs=', '.join((s.code for s in self.specs))))


def targets_from_dict(data: dict) -> TargetSet:
    """Build a :class:`TargetSet` from the JSON layout of ``data/targets/targets_YYYY.json``."""
    try:
        year = int(data["year"])
        metrics = data["metrics"]
    except (KeyError, TypeError, ValueError):
        raise GeoInputError(message("geo.targets.targets_file_needs_year")) from None
    fields = set(TargetSpec.__dataclass_fields__)
    specs = []
    for item in metrics:
        unknown = set(item) - fields
        if unknown:
            raise GeoInputError(message("geo.targets.target_unknown_fields_allowed", item=item.get('code'),
                                        unknown=sorted(unknown), fields=', '.join(sorted(fields))))
        specs.append(TargetSpec(**item))
    codes = [s.code for s in specs]
    if len(set(codes)) != len(codes):
        raise GeoInputError(message("geo.targets.targets_repeat_code", year=year, codes=codes))
    return TargetSet(year, str(data.get("plan", "")), int(data.get("compared_with_year", year - 1)), tuple(specs))


def read_targets(path) -> TargetSet:
    """Read a targets JSON file (see :func:`targets_from_dict`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise GeoInputError(message("geo.targets.targets_file_cannot_read", path=str(path), e=e)) from None
    return targets_from_dict(data)


def targets_to_dict(target_set: TargetSet) -> dict:
    return {"year": target_set.year, "plan": target_set.plan, "compared_with_year": target_set.compared_with_year,
            "metrics": [{k: v for k, v in asdict(s).items() if v is not None} for s in target_set.specs]}


@dataclass(frozen=True)
class ExternalCount:
    """Counts supplied by another part of the tracker (key areas, drug status of communes).

    For a proportion, ``numerator`` of ``denominator``; for a change, ``numerator`` now against
    ``denominator`` then (``previous``). ``census=True`` (default) means the counts are the whole population
    (every selected area, every commune), so no sampling interval applies.
    """

    numerator: int
    denominator: int
    census: bool = True
    note: Message | None = None


@dataclass(frozen=True)
class MetricResult:
    """A target measured over one period for the province (``district_code=None``) or one district."""

    code: str
    kind: str
    period_code: str
    district_code: str | None
    numerator: int | None
    denominator: int | None
    value: float | None
    interval: tuple[float, float] | None
    target: float
    operator: str
    meets_target: bool | None
    status: str
    comparison_period_code: str | None = None
    comparison_count: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    comparison_start: date | None = None
    comparison_end: date | None = None
    baseline_year: int | None = None
    p_value: float | None = None
    confidence: float = 0.95
    #: Why a figure is missing or partial, as :class:`translations.Message` s (worded when shown).
    notes: tuple = ()
    extras: dict = field(default_factory=dict)

    @property
    def note(self) -> str:
        """The notes in Vietnamese (reports); :meth:`note_in` for another language."""
        return self.note_in("vi")

    def note_in(self, lang: str) -> str:
        return join_messages(self.notes, lang)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["note"] = self.note
        out.pop("notes")
        for key in ("period_start", "period_end", "comparison_start", "comparison_end"):
            out[key] = out[key].isoformat() if out[key] else None
        out["interval"] = list(self.interval) if self.interval else None
        return out


# ---------------------------------------------------------------- intervals


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927), narrower than Clopper–Pearson; offered for comparison."""
    _check_counts(successes, trials)
    interval = stats.binomtest(successes, trials).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def rate_change_interval(current: int, previous: int, *, current_days: float = 1.0, previous_days: float = 1.0,
                         confidence: float = 0.95) -> tuple[float, float, float]:
    """Relative change of a Poisson rate with its exact conditional interval and two-sided p-value.

    Parameters
    ----------
    current, previous : int
        Counts of the period and of the comparison period.
    current_days, previous_days : float
        Lengths (exposures) of the two periods; equal lengths give the plain count ratio.
    confidence : float
        Two-sided level.

    Returns
    -------
    (low, high, p_value) : tuple of float
        Interval for R−1 (R the rate ratio; ``high`` may be ``inf``) and the exact conditional binomial
        p-value of "no change" (``scipy.stats.binomtest``). With both counts zero nothing is known:
        ``(-1, inf, 1.0)``.

    Notes
    -----
    Conditional on N = current + previous, current ~ Binomial(N, p) with p = R·t₁/(R·t₁ + t₀); the
    Clopper–Pearson bounds of p give R = p/(1−p)·t₀/t₁ (Przyborowski & Wileński 1940).
    """
    if current < 0 or previous < 0:
        raise GeoInputError(message("geo.targets.counts_got_current_previous", current=current, previous=previous))
    if current + previous == 0:
        return -1.0, math.inf, 1.0
    test = rate_ratio_test(current, previous, current_exposure=current_days, baseline_exposure=previous_days,
                           confidence=confidence)
    return float(test.low) - 1, float(test.high) - 1, float(test.p_value)


def _check_counts(successes, trials):
    if trials < 1 or successes < 0 or successes > trials:
        raise GeoInputError(message("geo.targets.counts_satisfy_successes_trials", successes=successes,
                                    trials=trials))


def status_of(spec: TargetSpec, value: float | None, interval: tuple[float, float] | None) -> str:
    """The documented status rule (module Notes): interval wholly met / wholly missed / straddling."""
    if value is None:
        return "no_data"
    if interval is None or spec.is_all_or_nothing:
        return "on_track" if spec.satisfied_by(value) else "missed"
    low, high = interval
    if spec.operator in (">", ">="):
        if spec.satisfied_by(low):
            return "on_track"
        return "missed" if not spec.satisfied_by(high) else "at_risk"
    if spec.satisfied_by(high):
        return "on_track"
    return "missed" if not spec.satisfied_by(low) else "at_risk"


# ---------------------------------------------------------------- records


def check_records(records: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise GeoInputError(message("geo.targets.records_lack_columns_needed", missing=missing,
                                    required_columns=', '.join(REQUIRED_COLUMNS)))
    out = records
    if len(out) and not pd.api.types.is_datetime64_any_dtype(out["occurred_at"]):
        out = out.assign(occurred_at=pd.to_datetime(out["occurred_at"]))
    return out


def data_coverage(records: pd.DataFrame) -> tuple[date, date] | None:
    """First and last day with a record (the span the data covers), or None for no records."""
    if not len(records):
        return None
    occurred = pd.to_datetime(records["occurred_at"])
    return occurred.min().date(), occurred.max().date()


def _masks(code: str, category, severity, status) -> tuple[np.ndarray, np.ndarray | None]:
    """(counted, success) of a records metric over arrays of the three columns; success is None for a change."""
    trafficking = category == TRAFFICKING
    cleared = np.isin(status, list(CLEARED_STATUSES))
    indicted_or_tried = np.isin(status, ["indicted", "tried"])
    social_order = np.isin(category, list(SOCIAL_ORDER_CATEGORIES))
    table = {
        "social_order_change": (social_order, None),
        "suspended_change": (status == "suspended", None),
        "clearance": (social_order, cleared),
        "grave_clearance": (np.isin(severity, list(GRAVE_SEVERITIES)), cleared),
        "reports_resolved": (np.ones(len(status), dtype=bool), status != "received"),
        "trafficking_cleared": (trafficking & (status != "received"), cleared),
        "trafficking_indicted": (trafficking & cleared, indicted_or_tried),
        "trafficking_tried": (trafficking & indicted_or_tried, status == "tried"),
    }
    if code not in table:
        raise GeoInputError(message("geo.targets.metric_records_target_allowed", code=code,
                                    record_metrics=', '.join(RECORD_METRICS)))
    return table[code]


def counted_by(code: str, rows: pd.DataFrame) -> pd.Series:
    """Which incidents a records target counts: the denominator of a proportion, the counted cases of a
    change (module Notes). A map filtered by this mask shows exactly the number on the target's card.

    Parameters
    ----------
    code : str
        One of :data:`RECORD_METRICS`.
    rows : DataFrame
        Incidents with ``category``, ``severity`` and ``case_status``.

    Returns
    -------
    Series of bool, aligned with ``rows``.
    """
    counted, _success = _masks(code, *(rows[c].astype(str).to_numpy(dtype=object)
                                       for c in ("category", "severity", "case_status")))
    return pd.Series(counted, index=rows.index)


class _RecordArrays:
    """The columns of a records frame as numpy arrays with every metric's masks, computed once per frame:
    a dashboard measures some 250 (target, district, period) cells of the same frame, and selecting rows of
    a DataFrame for each cost far more than counting booleans."""

    def __init__(self, records: pd.DataFrame):
        self.occurred = pd.to_datetime(records["occurred_at"]).to_numpy(dtype="datetime64[ns]")
        self.district = records["district_code"].astype(str).to_numpy(dtype=object)
        self.commune = (records["commune_code"].astype(str).to_numpy(dtype=object)
                        if "commune_code" in records.columns else None)
        columns = [records[c].astype(str).to_numpy(dtype=object) for c in ("category", "severity", "case_status")]
        self.masks = {code: _masks(code, *columns) for code in RECORD_METRICS}
        self._districts: dict[str, np.ndarray] = {}

    def in_district(self, district_code: str | None) -> np.ndarray | None:
        if district_code is None:
            return None
        key = str(district_code)
        if key not in self._districts:
            self._districts[key] = self.district == key
        return self._districts[key]

    def in_period(self, start: date, end: date, within: np.ndarray | None) -> np.ndarray:
        """Rows that occurred from ``start`` to ``end`` (both days included), among ``within`` if given."""
        mask = (self.occurred >= np.datetime64(start, "ns")) & (
            self.occurred < np.datetime64(end + timedelta(days=1), "ns"))
        return mask if within is None else mask & within


_ARRAYS: dict[int, _RecordArrays] = {}


def _record_arrays(records: pd.DataFrame) -> _RecordArrays:
    """The arrays of ``records``, kept while the frame lives (keyed by identity; dropped when it is freed)."""
    key = id(records)
    arrays = _ARRAYS.get(key)
    if arrays is None:
        arrays = _ARRAYS[key] = _RecordArrays(records)
        weakref.finalize(records, _ARRAYS.pop, key, None)
    return arrays


def compute_metric(spec: TargetSpec, records: pd.DataFrame | None, period: Period, *,
                   district_code: str | None = None, external: ExternalCount | None = None,
                   coverage: tuple[date, date] | None = None, confidence: float = 0.95,
                   baseline_year: int | None = None, without_baseline=frozenset()) -> MetricResult:
    """Measure one target over ``period``.

    Parameters
    ----------
    spec : TargetSpec
        The target (what to count, threshold, operator).
    records : DataFrame or None
        Incidents of the whole province (every district, every year available): columns
        ``occurred_at``, ``category``, ``severity``, ``case_status``, ``district_code``. Not needed for
        external or manual targets.
    period : Period
        The period measured; a change compares it with the same calendar span of ``baseline_year``.
    district_code : str, optional
        Restrict to one district (``None``: the province).
    external : ExternalCount, optional
        Counts for targets whose ``source`` is not ``"records"``.
    coverage : (date, date), optional
        First and last day the records cover. Periods are cut to it (module Notes); a comparison period
        wholly before it gives ``no_data``. Default: the span of ``records``, and
        then a comparison period is ``no_data`` only when no record at all falls in it.
    confidence : float
        Level of the intervals (default 0.95).
    baseline_year : int, optional
        The year a change is compared with (default the year before the period's,
        :func:`geo.periods.default_baseline_year`); the same calendar span of it is counted
        (:func:`geo.periods.like_for_like`).
    without_baseline : set of str, optional
        Commune codes (column ``commune_code`` of ``records``) the baseline's records cannot reach (old Tiền
        Giang for a baseline before 01/07/2025, :func:`geo.boundary_sets.units_without_records`): a change
        leaves them out of both periods, so like is compared with like, and its note says how many.

    Returns
    -------
    MetricResult
    """
    base = dict(code=spec.code, kind=spec.kind, period_code=period.code, district_code=district_code,
                target=spec.threshold, operator=spec.operator, confidence=confidence,
                period_start=period.start, period_end=period.end)
    if spec.source != "records":
        return _external_result(spec, external, base, confidence)
    if records is None:
        raise GeoInputError(message("geo.targets.records_needed_target_source", spec_code=spec.code))
    records = check_records(records)
    coverage_given = coverage is not None
    coverage = coverage or data_coverage(records)
    if coverage is None or coverage[1] < period.start or coverage[0] > period.end:
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", notes=_join(message("targets.note.no_records")), **base)
    measured = period.truncated(coverage[1]) if coverage[1] < period.end else period
    note = _join(message("targets.note.ongoing", date=coverage[1]) if measured is not period else None)
    base.update(period_end=measured.end)
    proportions, changes = RECORD_METRICS[2:], RECORD_METRICS[:2]
    if spec.code not in (proportions if spec.kind == "proportion" else changes):
        raise GeoInputError(message("geo.targets.metric_records_allowed", spec_code=spec.code, spec_kind=spec.kind,
                                    proportions=', '.join(proportions if spec.kind == 'proportion' else changes)))
    arrays = _record_arrays(records)
    counted, success = arrays.masks[spec.code]
    in_district = arrays.in_district(district_code)
    rows = arrays.in_period(measured.start, measured.end, in_district)
    if spec.kind == "proportion":
        scope = rows & counted
        numerator, denominator = int((scope & success).sum()), int(scope.sum())
        if denominator == 0:
            return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                                status="no_data", notes=_join(note, message("targets.note.no_cases")), **base)
        value = numerator / denominator
        interval = clopper_pearson(numerator, denominator, confidence)
        return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                            meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                            notes=note, **base)
    try:
        pair = like_for_like(period, baseline_year, data_through=coverage[1], data_from=coverage[0])
    except PeriodNotCovered:
        comparison = _baseline_label(period, baseline_year)
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", notes=_join(note, message("targets.note.no_baseline_from",
                                                                        comparison=comparison, date=coverage[0])),
                            **base)
    current_start, comparison_start, comparison_end = pair.span.start, pair.baseline.start, pair.baseline.end
    if current_start != measured.start:
        rows = arrays.in_period(current_start, measured.end, in_district)
        note = _join(note, message("targets.note.partial_span", date=coverage[0], start=current_start,
                                   end=measured.end, baseline_start=comparison_start, baseline_end=comparison_end))
        base.update(period_start=current_start)
    comparison_code = _baseline_code(period, pair.baseline_year)
    base.update(comparison_period_code=comparison_code, comparison_start=comparison_start,
                comparison_end=comparison_end, baseline_year=pair.baseline_year)
    comparison_rows = arrays.in_period(comparison_start, comparison_end, in_district)
    if without_baseline and arrays.commune is not None:
        codes = {str(c) for c in without_baseline}
        unreached = np.isin(arrays.commune, list(codes))
        left_out = int((rows & unreached & counted).sum())
        rows = rows & ~unreached
        comparison_rows = comparison_rows & ~unreached
        note = _join(note, message("targets.note.without_baseline", n=len(codes), left_out=int(left_out)))
    if not coverage_given and not arrays.in_period(comparison_start, comparison_end, None).any():
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", notes=_join(note, message(
                                "targets.note.no_baseline", comparison=_baseline_label(period, pair.baseline_year))),
                            **base)
    current = int((rows & counted).sum())
    previous = int((comparison_rows & counted).sum())
    # Counts over the same calendar span, compared as counts (module Notes): no division by days.
    low, high, p_value = rate_change_interval(current, previous, confidence=confidence)
    base.update(comparison_count=previous, p_value=p_value)
    if previous == 0:
        value = None if current == 0 else math.inf
        status = "no_data" if current == 0 else status_of(spec, math.inf, (low, high))
        return MetricResult(numerator=current, denominator=previous, value=value, interval=(low, high),
                            meets_target=None if current == 0 else False, status=status,
                            notes=_join(note, message("targets.note.baseline_zero")), **base)
    value = current / previous - 1
    return MetricResult(numerator=current, denominator=previous, value=value, interval=(low, high),
                        meets_target=spec.satisfied_by(value), status=status_of(spec, value, (low, high)),
                        notes=note, **base)


def _baseline_code(period: Period, baseline_year: int) -> str:
    """The code of the period's counterpart in ``baseline_year`` (``2023-Q1`` for ``2024-Q1``)."""
    if period.kind == "range":
        return like_for_like(period, baseline_year).baseline.code
    years = baseline_year - period.reference_year
    code = period.code
    return str(int(code[:4]) + years) + code[4:]


def _baseline_label(period: Period, baseline_year: int | None) -> str:
    year = baseline_year if baseline_year is not None else period.reference_year - 1
    return f"{_baseline_code(period, year)}"


def _join(*notes) -> tuple:
    """The notes that are present, in order (each a :class:`translations.Message`)."""
    out = []
    for note in notes:
        out.extend(note if isinstance(note, tuple) else [note] if note else [])
    return tuple(out)


def _external_result(spec: TargetSpec, external: ExternalCount | None, base: dict, confidence: float) -> MetricResult:
    if external is None:
        reason = message("targets.note.manual" if spec.source == "manual" else
                         "targets.note.no_key_area_data" if spec.source == "key_areas" else "targets.note.no_drug_data")
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", notes=_join(reason), **base)
    numerator, denominator = int(external.numerator), int(external.denominator)
    if spec.kind == "proportion":
        if denominator == 0:
            return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                                status="no_data", notes=_join(external.note, message("targets.note.zero_denominator")),
                                **base)
        value = numerator / denominator
        interval = None if external.census else clopper_pearson(numerator, denominator, confidence)
        return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                            meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                            notes=_join(external.note), **base)
    if denominator == 0:
        value = None if numerator == 0 else math.inf
    else:
        value = numerator / denominator - 1
    if value is None:
        return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                            status="no_data", notes=_join(external.note), **base)
    interval = None
    if not external.census:
        low, high, _p = rate_change_interval(numerator, denominator, confidence=confidence)
        interval = (low, high)
    return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                        meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                        comparison_count=denominator, notes=_join(external.note), **base)


def compute_all(target_set: TargetSet, records: pd.DataFrame | None, period: Period, *,
                district_code: str | None = None, external: dict[str, ExternalCount] | None = None,
                coverage: tuple[date, date] | None = None, confidence: float = 0.95,
                baseline_year: int | None = None, without_baseline=frozenset()) -> list[MetricResult]:
    """:func:`compute_metric` for every target of ``target_set``, in the plan's order."""
    external = external or {}
    if records is not None:
        records = check_records(records)
    return [compute_metric(spec, records, period, district_code=district_code, external=external.get(spec.code),
                           coverage=coverage, confidence=confidence, baseline_year=baseline_year,
                           without_baseline=without_baseline)
            for spec in target_set.specs]


def compute_by_district(spec: TargetSpec, records: pd.DataFrame | None, period: Period, district_codes, *,
                        external: dict[str, ExternalCount] | None = None, coverage=None,
                        confidence: float = 0.95, baseline_year: int | None = None,
                        without_baseline=frozenset()) -> list[MetricResult]:
    """One result per district (``external`` maps district code → counts for non-records targets)."""
    external = external or {}
    if records is not None:
        records = check_records(records)
    return [compute_metric(spec, records, period, district_code=code, external=external.get(code),
                           coverage=coverage, confidence=confidence, baseline_year=baseline_year,
                           without_baseline=without_baseline)
            for code in district_codes]


def trend(spec: TargetSpec, records: pd.DataFrame, periods, *, district_code: str | None = None,
          coverage=None, confidence: float = 0.95) -> list[MetricResult]:
    """The metric over consecutive periods (e.g. :func:`geo.periods.quarters`), for trend charts."""
    records = check_records(records)
    return [compute_metric(spec, records, p, district_code=district_code, coverage=coverage, confidence=confidence)
            for p in periods]


def format_value(result: MetricResult, lang: str = "vi") -> str:
    """The figure as a reader sees it: ``77,89%`` or ``−5,0%`` (Vietnamese decimal comma), ``—`` if none."""
    if result.value is None:
        return "—"
    if math.isinf(result.value):
        return "+∞" if result.value > 0 else "−∞"
    percent = result.value * 100
    text = f"{percent:+.1f}%" if result.kind == "change" else f"{percent:.2f}%"
    text = text.replace("-", "−")
    return text.replace(".", ",") if lang == "vi" else text


def format_interval(result: MetricResult, lang: str = "vi") -> str:
    if result.interval is None:
        return ""
    low, high = result.interval

    def one(v):
        if math.isinf(v):
            return "+∞"
        s = f"{v * 100:.1f}%"
        s = s.replace("-", "−")
        return s.replace(".", ",") if lang == "vi" else s

    return f"{one(low)} – {one(high)}"


def format_target(spec: TargetSpec, lang: str = "vi") -> str:
    """The target as worded in the plan (``target_vi``/``target_en``), else worded from operator and threshold."""
    if lang == "en" and spec.target_en:
        return spec.target_en
    if lang == "vi" and spec.target_vi:
        return spec.target_vi
    return describe_target(spec, lang)


def describe_target(spec: TargetSpec, lang: str = "vi") -> str:
    """Word a target from its operator and threshold: ``trên 75%``, ``giảm ít nhất 5%`` (``geo.targets.wording.*``)."""
    pct = abs(spec.threshold) * 100
    if spec.kind == "proportion":
        key = "above" if spec.operator == ">" else "at_least"
    elif spec.threshold < 0 or (spec.threshold == 0 and spec.operator == "<"):
        key = "fewer" if spec.threshold == 0 else ("more_than_fewer" if spec.operator == "<" else "at_least_fewer")
    else:
        key = "rise_at_most" if spec.operator in ("<", "<=") else "rise"
    return message(f"geo.targets.wording.{key}", pct=pct).text(lang)


def with_threshold(spec: TargetSpec, threshold: float) -> TargetSpec:
    """A copy of ``spec`` with another threshold (validated)."""
    return replace(spec, threshold=float(threshold))


def summary_counts(results) -> dict[str, int]:
    """How many results have each status (for a dashboard headline)."""
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r.status] += 1
    return counts


__all__ = ["TargetSpec", "TargetSet", "ExternalCount", "MetricResult", "read_targets", "targets_from_dict",
           "targets_to_dict", "wilson", "rate_change_interval", "status_of", "compute_metric",
           "compute_all", "compute_by_district", "trend", "format_value", "format_interval", "format_target",
           "describe_target", "data_coverage", "counted_by", "STATUS_LABELS", "STATUSES", "RECORD_METRICS"]
