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

A change needs both periods covered by data. When the records end inside the period (a period in
progress), both the period and its comparison are cut at the last recorded day; when they start inside
the comparison period, both are cut to start as late. Like is compared with like, and ``note`` says so;
with no overlap at all the result is ``no_data``.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from scipy import stats

from geo.errors import GeoInputError
from geo.periods import Period
from geo.taxonomy import CLEARED_STATUSES, GRAVE_SEVERITIES, SOCIAL_ORDER_CATEGORIES

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
            raise GeoInputError(f"kind {self.kind!r} of target {self.code!r} is not one of: {', '.join(KINDS)}")
        if self.operator not in OPERATORS:
            raise GeoInputError(f"operator {self.operator!r} of target {self.code!r} is not one of: "
                                f"{', '.join(OPERATORS)}")
        if self.source not in SOURCES:
            raise GeoInputError(f"source {self.source!r} of target {self.code!r} is not one of: {', '.join(SOURCES)}")
        if self.source == "records" and self.code not in RECORD_METRICS:
            raise GeoInputError(f"target {self.code!r} has source 'records' but the records measure only: "
                                f"{', '.join(RECORD_METRICS)}")
        if not isinstance(self.threshold, (int, float)) or not math.isfinite(self.threshold):
            raise GeoInputError(f"threshold {self.threshold!r} of target {self.code!r} is not a finite number")
        if self.kind == "proportion" and not 0 <= self.threshold <= 1:
            raise GeoInputError(f"threshold {self.threshold!r} of proportion target {self.code!r} is not "
                                "between 0 and 1")

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
        raise GeoInputError(f"target {code!r} is not one of: {', '.join(s.code for s in self.specs)}")


def targets_from_dict(data: dict) -> TargetSet:
    """Build a :class:`TargetSet` from the JSON layout of ``data/targets/targets_YYYY.json``."""
    try:
        year = int(data["year"])
        metrics = data["metrics"]
    except (KeyError, TypeError, ValueError):
        raise GeoInputError("targets file needs 'year' (a number) and 'metrics' (a list)") from None
    fields = set(TargetSpec.__dataclass_fields__)
    specs = []
    for item in metrics:
        unknown = set(item) - fields
        if unknown:
            raise GeoInputError(f"target {item.get('code')!r} has unknown fields {sorted(unknown)}; allowed: "
                                f"{', '.join(sorted(fields))}")
        specs.append(TargetSpec(**item))
    codes = [s.code for s in specs]
    if len(set(codes)) != len(codes):
        raise GeoInputError(f"targets of {year} repeat a code: {codes}")
    return TargetSet(year, str(data.get("plan", "")), int(data.get("compared_with_year", year - 1)), tuple(specs))


def read_targets(path) -> TargetSet:
    """Read a targets JSON file (see :func:`targets_from_dict`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise GeoInputError(f"targets file {str(path)!r} cannot be read: {e}") from None
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
    note: str = ""


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
    p_value: float | None = None
    confidence: float = 0.95
    note: str = ""
    extras: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("period_start", "period_end", "comparison_start", "comparison_end"):
            out[key] = out[key].isoformat() if out[key] else None
        out["interval"] = list(self.interval) if self.interval else None
        return out


# ---------------------------------------------------------------- intervals


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for a proportion (Clopper & Pearson 1934).

    Parameters
    ----------
    successes, trials : int
        ``0 <= successes <= trials``, ``trials >= 1``.
    confidence : float
        Two-sided level, e.g. 0.95.

    Returns
    -------
    (low, high) : tuple of float
        Same as ``statsmodels.stats.proportion.proportion_confint(method="beta")``.
    """
    _check_counts(successes, trials)
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927), narrower than Clopper–Pearson; offered for comparison."""
    _check_counts(successes, trials)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


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
        raise GeoInputError(f"counts must be ≥ 0, got current={current}, previous={previous}")
    total = current + previous
    if total == 0:
        return -1.0, math.inf, 1.0
    p_low, p_high = clopper_pearson(current, total, confidence)
    scale = previous_days / current_days

    def ratio(p):
        return math.inf if p >= 1 else p / (1 - p) * scale

    null_p = current_days / (current_days + previous_days)
    p_value = float(stats.binomtest(current, total, null_p).pvalue)
    return ratio(p_low) - 1, ratio(p_high) - 1, p_value


def _check_counts(successes, trials):
    if trials < 1 or successes < 0 or successes > trials:
        raise GeoInputError(f"counts must satisfy 0 <= successes <= trials and trials >= 1; got "
                            f"successes={successes}, trials={trials}")


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
        raise GeoInputError(f"records lack columns {missing}; needed: {', '.join(REQUIRED_COLUMNS)}")
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


def _in_period(records: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    occurred = records["occurred_at"]
    return records[(occurred >= pd.Timestamp(start)) & (occurred < pd.Timestamp(end + timedelta(days=1)))]


def _proportion_counts(code: str, rows: pd.DataFrame) -> tuple[int, int]:
    status = rows["case_status"].astype(str)
    cleared = status.isin(CLEARED_STATUSES)
    if code == "clearance":
        scope = rows["category"].isin(SOCIAL_ORDER_CATEGORIES)
        return int((scope & cleared).sum()), int(scope.sum())
    if code == "grave_clearance":
        scope = rows["severity"].isin(GRAVE_SEVERITIES)
        return int((scope & cleared).sum()), int(scope.sum())
    if code == "reports_resolved":
        return int((status != "received").sum()), len(rows)
    trafficking = rows["category"] == TRAFFICKING
    if code == "trafficking_cleared":
        scope = trafficking & (status != "received")
        return int((scope & cleared).sum()), int(scope.sum())
    if code == "trafficking_indicted":
        scope = trafficking & cleared
        return int((scope & status.isin(["indicted", "tried"])).sum()), int(scope.sum())
    if code == "trafficking_tried":
        scope = trafficking & status.isin(["indicted", "tried"])
        return int((scope & (status == "tried")).sum()), int(scope.sum())
    raise GeoInputError(f"metric {code!r} is not a records proportion; allowed: {', '.join(RECORD_METRICS[2:])}")


def _change_count(code: str, rows: pd.DataFrame) -> int:
    if code == "social_order_change":
        return int(rows["category"].isin(SOCIAL_ORDER_CATEGORIES).sum())
    if code == "suspended_change":
        return int((rows["case_status"].astype(str) == "suspended").sum())
    raise GeoInputError(f"metric {code!r} is not a records change; allowed: social_order_change, suspended_change")


def compute_metric(spec: TargetSpec, records: pd.DataFrame | None, period: Period, *,
                   district_code: str | None = None, external: ExternalCount | None = None,
                   coverage: tuple[date, date] | None = None, confidence: float = 0.95) -> MetricResult:
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
        The period measured; a change compares it with ``period.previous_year()``.
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
        raise GeoInputError(f"records are needed for target {spec.code!r} (source 'records'), got None")
    records = check_records(records)
    coverage_given = coverage is not None
    coverage = coverage or data_coverage(records)
    if coverage is None or coverage[1] < period.start or coverage[0] > period.end:
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", note="Không có số liệu vụ việc trong kỳ", **base)
    measured = period.truncated(coverage[1]) if coverage[1] < period.end else period
    note = (f"Số liệu đến {coverage[1]:%d/%m/%Y}; kỳ đang diễn ra" if measured is not period else "")
    base.update(period_end=measured.end)
    province_records = records
    if district_code is not None:
        records = records[records["district_code"].astype(str) == str(district_code)]
    rows = _in_period(records, measured.start, measured.end)
    if spec.kind == "proportion":
        numerator, denominator = _proportion_counts(spec.code, rows)
        if denominator == 0:
            return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                                status="no_data", note=_join(note, "Không có vụ nào thuộc phạm vi chỉ tiêu"), **base)
        value = numerator / denominator
        interval = clopper_pearson(numerator, denominator, confidence)
        return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                            meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                            note=note, **base)
    comparison = period.previous_year()
    comparison_start, comparison_end = _comparison_span(period, measured, comparison)
    current_start = measured.start
    if coverage[0] > comparison_start:
        # The records start inside the comparison period: compare the parts both periods have data for.
        offset = coverage[0] - comparison_start
        if comparison_start + offset > comparison_end:
            return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                                status="no_data", note=_join(note, f"Chưa có số liệu cùng kỳ ({comparison.label_vi}); "
                                                             f"số liệu bắt đầu từ {coverage[0]:%d/%m/%Y}"), **base)
        comparison_start, current_start = comparison_start + offset, current_start + offset
        rows = _in_period(records, current_start, measured.end)
        note = _join(note, f"Số liệu bắt đầu từ {coverage[0]:%d/%m/%Y}: chỉ so sánh {current_start:%d/%m/%Y}–"
                           f"{measured.end:%d/%m/%Y} với {comparison_start:%d/%m/%Y}–{comparison_end:%d/%m/%Y}")
        base.update(period_start=current_start)
    base.update(comparison_period_code=comparison.code, comparison_start=comparison_start,
                comparison_end=comparison_end)
    comparison_rows = _in_period(records, comparison_start, comparison_end)
    if not coverage_given and not len(_in_period(province_records, comparison_start, comparison_end)):
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", note=_join(note, f"Chưa có số liệu cùng kỳ ({comparison.label_vi})"),
                            **base)
    current = _change_count(spec.code, rows)
    previous = _change_count(spec.code, comparison_rows)
    current_days = (measured.end - current_start).days + 1
    previous_days = (comparison_end - comparison_start).days + 1
    low, high, p_value = rate_change_interval(current, previous, current_days=current_days,
                                              previous_days=previous_days, confidence=confidence)
    base.update(comparison_count=previous, p_value=p_value)
    if previous == 0:
        value = None if current == 0 else math.inf
        status = "no_data" if current == 0 else status_of(spec, math.inf, (low, high))
        return MetricResult(numerator=current, denominator=previous, value=value, interval=(low, high),
                            meets_target=None if current == 0 else False, status=status,
                            note=_join(note, "Cùng kỳ không có vụ nào: không tính được tỷ lệ thay đổi"), **base)
    value = (current / current_days) / (previous / previous_days) - 1
    return MetricResult(numerator=current, denominator=previous, value=value, interval=(low, high),
                        meets_target=spec.satisfied_by(value), status=status_of(spec, value, (low, high)),
                        note=note, **base)


def _comparison_span(period: Period, measured: Period, comparison: Period) -> tuple[date, date]:
    """The comparison period cut to the same elapsed span as ``measured`` (like with like)."""
    if measured.end >= period.end:
        return comparison.start, comparison.end
    elapsed = (measured.end - period.start).days
    return comparison.start, min(comparison.end, comparison.start + timedelta(days=elapsed))


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _external_result(spec: TargetSpec, external: ExternalCount | None, base: dict, confidence: float) -> MetricResult:
    if external is None:
        reason = ("Hệ thống chưa ghi nhận số liệu này; cần nhập từ báo cáo của đơn vị"
                  if spec.source == "manual" else "Chưa có số liệu từ phân hệ "
                  + ("địa bàn trọng điểm" if spec.source == "key_areas" else "ma túy xã, phường, thị trấn"))
        return MetricResult(numerator=None, denominator=None, value=None, interval=None, meets_target=None,
                            status="no_data", note=reason, **base)
    numerator, denominator = int(external.numerator), int(external.denominator)
    if spec.kind == "proportion":
        if denominator == 0:
            return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                                status="no_data", note=_join(external.note, "Mẫu số bằng 0"), **base)
        value = numerator / denominator
        interval = None if external.census else clopper_pearson(numerator, denominator, confidence)
        return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                            meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                            note=external.note, **base)
    if denominator == 0:
        value = None if numerator == 0 else math.inf
    else:
        value = numerator / denominator - 1
    if value is None:
        return MetricResult(numerator=numerator, denominator=0, value=None, interval=None, meets_target=None,
                            status="no_data", note=external.note, **base)
    interval = None
    if not external.census:
        low, high, _p = rate_change_interval(numerator, denominator, confidence=confidence)
        interval = (low, high)
    return MetricResult(numerator=numerator, denominator=denominator, value=value, interval=interval,
                        meets_target=spec.satisfied_by(value), status=status_of(spec, value, interval),
                        comparison_count=denominator, note=external.note, **base)


def compute_all(target_set: TargetSet, records: pd.DataFrame | None, period: Period, *,
                district_code: str | None = None, external: dict[str, ExternalCount] | None = None,
                coverage: tuple[date, date] | None = None, confidence: float = 0.95) -> list[MetricResult]:
    """:func:`compute_metric` for every target of ``target_set``, in the plan's order."""
    external = external or {}
    if records is not None:
        records = check_records(records)
    return [compute_metric(spec, records, period, district_code=district_code, external=external.get(spec.code),
                           coverage=coverage, confidence=confidence) for spec in target_set.specs]


def compute_by_district(spec: TargetSpec, records: pd.DataFrame | None, period: Period, district_codes, *,
                        external: dict[str, ExternalCount] | None = None, coverage=None,
                        confidence: float = 0.95) -> list[MetricResult]:
    """One result per district (``external`` maps district code → counts for non-records targets)."""
    external = external or {}
    if records is not None:
        records = check_records(records)
    return [compute_metric(spec, records, period, district_code=code, external=external.get(code),
                           coverage=coverage, confidence=confidence) for code in district_codes]


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
    """Word a target from its operator and threshold: ``trên 75%``, ``giảm ít nhất 5%``."""
    def pct(v):
        text = f"{abs(v) * 100:.4g}%"
        return text.replace(".", ",") if lang == "vi" else text

    if spec.kind == "proportion":
        if lang == "en":
            return f"above {pct(spec.threshold)}" if spec.operator == ">" else f"{pct(spec.threshold)} or more"
        return f"trên {pct(spec.threshold)}" if spec.operator == ">" else f"từ {pct(spec.threshold)} trở lên"
    if spec.threshold < 0 or (spec.threshold == 0 and spec.operator == "<"):
        if spec.threshold == 0:
            return "fewer" if lang == "en" else "giảm"
        strict = spec.operator == "<"
        if lang == "en":
            return f"{'more than' if strict else 'at least'} {pct(spec.threshold)} fewer"
        return f"giảm {'hơn' if strict else 'ít nhất'} {pct(spec.threshold)}"
    if lang == "en":
        return f"change {spec.operator} {'+' if spec.threshold > 0 else ''}{pct(spec.threshold)}"
    return f"tăng không quá {pct(spec.threshold)}" if spec.operator in ("<", "<=") else f"tăng {pct(spec.threshold)}"


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
           "targets_to_dict", "clopper_pearson", "wilson", "rate_change_interval", "status_of", "compute_metric",
           "compute_all", "compute_by_district", "trend", "format_value", "format_interval", "format_target",
           "describe_target", "data_coverage", "STATUS_LABELS", "STATUSES", "RECORD_METRICS"]
