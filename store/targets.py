"""The plan's targets in the database (one set per year, editable by an administrator) and the measured results.

The table is seeded from ``data/targets/targets_YYYY.json`` by migration 0003; an administrator changes a
threshold through :func:`update_target`, which writes an audit row in the same transaction. The figures
themselves are computed by :mod:`geo.targets` from the incidents, and from the key-area and drug-status
trackers for the targets the incidents cannot measure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from geo.errors import GeoInputError
from geo.periods import Period
from geo.targets import ExternalCount, describe_target, MetricResult, TargetSet, TargetSpec, compute_all, compute_by_district, \
    read_targets, targets_from_dict
from store import audit
from store.meta import bump_data_version
from store.models import Base, Incident, utcnow
from translations import message

TARGETS_DIR = Path(__file__).resolve().parent.parent / "data" / "targets"
SPEC_FIELDS = ("kind", "operator", "threshold", "stretch", "source", "label_vi", "label_en", "target_vi",
               "target_en", "plan_text")


class TargetPlan(Base):
    """The plan a year's targets come from (citation and the year they are compared with)."""

    __tablename__ = "target_plans"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plan: Mapped[str] = mapped_column(Text, default="")
    compared_with_year: Mapped[int] = mapped_column(Integer)


class PlanTarget(Base):
    """One target of a year's plan (see :class:`geo.targets.TargetSpec`)."""

    __tablename__ = "plan_targets"
    __table_args__ = (UniqueConstraint("year", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("target_plans.year", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    stretch: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    label_vi: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text, default="")
    target_vi: Mapped[str] = mapped_column(Text, default="")
    target_en: Mapped[str] = mapped_column(Text, default="")
    plan_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")


def target_rows(target_set: TargetSet) -> tuple[dict, list[dict]]:
    """Rows for ``target_plans`` and ``plan_targets`` (also used by the seeding migration)."""
    plan = {"year": target_set.year, "plan": target_set.plan, "compared_with_year": target_set.compared_with_year}
    rows = [{"year": target_set.year, "code": s.code, "position": i, "updated_by": "seed",
             **{f: getattr(s, f) for f in SPEC_FIELDS}} for i, s in enumerate(target_set.specs)]
    for row in rows:
        for f in ("label_en", "target_vi", "target_en", "plan_text"):
            row[f] = row[f] or ""
    return plan, rows


def bundled_target_sets() -> list[TargetSet]:
    """Every ``data/targets/targets_YYYY.json`` shipped with the app."""
    return [read_targets(p) for p in sorted(TARGETS_DIR.glob("targets_*.json"))]


def seed_targets(session, target_set: TargetSet, *, actor: str = "seed", replace: bool = False) -> bool:
    """Store a year's targets unless that year exists (``replace=True`` overwrites it). Returns True if written."""
    existing = session.get(TargetPlan, target_set.year)
    if existing is not None and not replace:
        return False
    if existing is not None:
        for row in session.scalars(select(PlanTarget).where(PlanTarget.year == target_set.year)):
            session.delete(row)
        session.delete(existing)
        session.flush()
    plan, rows = target_rows(target_set)
    session.add(TargetPlan(**plan))
    session.flush()
    session.add_all(PlanTarget(**{**row, "updated_by": actor}) for row in rows)
    audit.record(session, username=actor, action="seed_targets", entity="target_plan", entity_id=target_set.year,
                 after={"metrics": len(rows)})
    return True


def target_years(session) -> list[int]:
    return sorted(session.scalars(select(TargetPlan.year)))


def stored_target_set(session, year: int) -> TargetSet | None:
    plan = session.get(TargetPlan, int(year))
    if plan is None:
        return None
    rows = session.scalars(select(PlanTarget).where(PlanTarget.year == int(year)).order_by(PlanTarget.position))
    specs = tuple(TargetSpec(code=r.code, **{f: getattr(r, f) for f in SPEC_FIELDS}) for r in rows)
    return TargetSet(plan.year, plan.plan, plan.compared_with_year, specs)


@dataclass(frozen=True)
class TargetsInForce:
    """The targets used for a year, and whether they were borrowed from another year (said on the page)."""

    target_set: TargetSet
    requested_year: int

    @property
    def borrowed(self) -> bool:
        return self.target_set.year != self.requested_year


def targets_for_year(session, year: int, *, as_of: datetime | None = None) -> TargetsInForce | None:
    """The stored targets of ``year``; else those of the latest earlier year (flagged ``borrowed``); else the
    bundled JSON file. None when no targets exist at all.

    ``as_of`` (naive UTC): each threshold as it stood then, read back from the audit trail of
    :func:`update_target` (the ``before`` of the first change made later)."""
    stored = stored_target_set(session, year)
    if stored is not None:
        return TargetsInForce(thresholds_as_of(session, stored, as_of) if as_of else stored, year)
    earlier = session.scalar(select(func.max(TargetPlan.year)).where(TargetPlan.year < int(year)))
    if earlier is None:
        earlier = session.scalar(select(func.min(TargetPlan.year)))
    if earlier is not None:
        return TargetsInForce(stored_target_set(session, earlier), year)
    bundled = bundled_target_sets()
    if not bundled:
        return None
    exact = [s for s in bundled if s.year == year]
    return TargetsInForce(exact[0] if exact else bundled[-1], year)


def thresholds_as_of(session, target_set: TargetSet, as_of: datetime) -> TargetSet:
    """``target_set`` with every threshold changed after ``as_of`` put back to its value then (audit trail)."""
    from dataclasses import replace

    from store.models import AuditLog

    rows = session.execute(select(AuditLog.entity_id, AuditLog.before).where(
        AuditLog.entity == "plan_target", AuditLog.action == "update_target", AuditLog.at >= as_of,
        AuditLog.entity_id.like(f"{target_set.year}:%")).order_by(AuditLog.at, AuditLog.id)).all()
    then: dict[str, dict] = {}
    for entity_id, before in rows:
        code = entity_id.split(":", 1)[1]
        if code not in then and before:
            then[code] = json.loads(before)

    def restored(spec: TargetSpec) -> TargetSpec:
        old = replace(spec, threshold=float(then[spec.code]["threshold"]))
        return replace(old, target_vi=then[spec.code].get("target_vi") or describe_target(old, "vi"),
                       target_en=describe_target(old, "en"))

    if not then:
        return target_set
    return replace(target_set, specs=tuple(restored(s) if s.code in then else s for s in target_set.specs))


def update_target(session, actor: str, year: int, code: str, *, threshold: float, reason: str = "") -> PlanTarget:
    """Change one threshold (administrator), validated as a :class:`TargetSpec`, with an audit row."""
    row = session.scalar(select(PlanTarget).where(PlanTarget.year == int(year), PlanTarget.code == code))
    if row is None:
        raise GeoInputError(message("store.targets.unknown_target", code=repr(code), year=year))
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise GeoInputError(message("store.targets.threshold_not_number", threshold=repr(threshold))) from None
    TargetSpec(code=row.code, **{**{f: getattr(row, f) for f in SPEC_FIELDS}, "threshold": threshold})
    before = {"threshold": row.threshold, "target_vi": row.target_vi}
    if abs(row.threshold - threshold) < 1e-12:
        return row
    row.threshold = threshold
    # The plan's wording no longer matches: word the new target from the threshold.
    changed = TargetSpec(code=row.code, **{f: getattr(row, f) for f in SPEC_FIELDS})
    row.target_vi, row.target_en = describe_target(changed, "vi"), describe_target(changed, "en")
    row.updated_at = utcnow()
    row.updated_by = actor
    audit.record(session, username=actor, action="update_target", entity="plan_target", entity_id=f"{year}:{code}",
                 before=before, after={"threshold": threshold}, reason=reason)
    bump_data_version(session, "targets")
    return row


def copy_targets(session, actor: str, from_year: int, to_year: int) -> TargetSet:
    """Start a new year's targets from a previous year's (then edit the thresholds that changed)."""
    source = stored_target_set(session, from_year)
    if source is None:
        raise GeoInputError(message("store.targets.nothing_to_copy", year=from_year))
    if session.get(TargetPlan, int(to_year)) is not None:
        raise GeoInputError(message("store.targets.already_has_targets", year=to_year))
    copied = TargetSet(int(to_year), source.plan, int(to_year) - 1, source.specs)
    seed_targets(session, copied, actor=actor)
    return copied


# ---------------------------------------------------------------- measuring


def records_and_coverage(session, viewer=None, *, district_code: str | None = None, boundary_set: str | None = None,
                         status_as_of: datetime | None = None):
    """Incidents for the targets (province-wide unless ``district_code``; codes of ``boundary_set``, default
    the set in force today; case statuses as they stood at ``status_as_of`` when given) and the span they cover.

    The coverage runs from the first to the last incident recorded: an import's date says nothing about
    which days it covers (history is often imported years later).
    """
    from store.incidents import incident_frame

    records = incident_frame(session, district_code=district_code, viewer=viewer, boundary_set=boundary_set,
                             status_as_of=status_as_of)
    return records, incident_coverage(session)


def period_set(session, period: Period) -> str | None:
    """The boundary set a period's figures are expressed in: the one in force at its end (as the maps
    choose by default), so a target card and its map link count in the same units."""
    from store.boundaries import active_boundary_set

    row = active_boundary_set(session, on=min(period.nominal_end or period.end, date.today()))
    return row.version if row is not None else None


def incident_coverage(session) -> tuple[date, date] | None:
    """First and last day with an incident (one indexed query; no need to read the incidents)."""
    first, last = session.execute(select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))).one()
    if first is None:
        return None
    return first.date(), last.date()


def external_counts(session, viewer, year: int, *, as_of: Period | None = None
                    ) -> tuple[dict[str, ExternalCount], dict[str, dict[str, ExternalCount]]]:
    """Counts from the key-area and drug-status trackers: (province, {code: {district: counts}}).

    Absent trackers (or years with nothing recorded) give no entry, so those targets report ``no_data``.
    ``as_of`` (a period): key-area statuses in force on its last day (timelines) and drug statuses as
    recorded at its end (audit trail), so a report regenerated later gives the same figures.
    """
    from geo.periods import end_instant_utc

    as_of_day = (as_of.nominal_end or as_of.end) if as_of is not None else None
    as_of_instant = end_instant_utc(as_of) if as_of is not None else None
    province: dict[str, ExternalCount] = {}
    by_district: dict[str, dict[str, ExternalCount]] = {}
    try:
        from store.key_areas import conversion_table, key_area_records
    except ImportError:
        conversion_table = None
    if conversion_table is not None:
        table = conversion_table(key_area_records(session, viewer, year=year, as_of=as_of_day), year)
        for key, shares in table.items():
            if not shares.selected:
                continue
            achieved = ExternalCount(shares.ever_achieved, shares.selected,
                                     note=message("targets.note.pending_areas", n=shares.pending)
                                     if shares.pending else None)
            kept = ExternalCount(shares.ever_achieved - shares.relapsed, shares.ever_achieved)
            if key == "province":
                province["key_areas_achieved"], province["key_areas_not_relapsed"] = achieved, kept
            else:
                by_district.setdefault("key_areas_achieved", {})[key] = achieved
                by_district.setdefault("key_areas_not_relapsed", {})[key] = kept
    try:
        from store.drug_status import comparison_by_district, year_comparison
    except ImportError:
        year_comparison = None
    if year_comparison is not None:
        def drug_counts(comparison):
            if not comparison.compared:
                return {}
            return {"drug_free_kept": ExternalCount(comparison.kept_drug_free, comparison.previous_drug_free),
                    "drug_communes_change": ExternalCount(comparison.year_with_drugs, comparison.previous_with_drugs,
                                                          note=message("targets.note.drug_communes",
                                                                       before=comparison.previous_with_drugs,
                                                                       after=comparison.year_with_drugs))}
        province.update(drug_counts(year_comparison(session, viewer, year, as_of=as_of_instant)))
        for district, comparison in comparison_by_district(session, viewer, year, as_of=as_of_instant).items():
            for code, counts in drug_counts(comparison).items():
                by_district.setdefault(code, {})[district] = counts
    return province, by_district


def plan_baseline(targets: TargetsInForce, period: Period) -> int:
    """The year a period's changes are compared with: the plan's comparison year (2023 for the 2024 plan)
    when the targets are the period's own, else the year before (:func:`geo.periods.default_baseline_year`)."""
    from geo.periods import default_baseline_year

    plan = None if targets.borrowed else targets.target_set.compared_with_year
    return default_baseline_year(period, plan)


@dataclass(frozen=True)
class Measurement:
    """Everything a dashboard or report shows for one period and scope."""

    period: Period
    district_code: str | None
    targets: TargetsInForce
    results: list[MetricResult]
    coverage: tuple[date, date] | None
    data_version: int

    def result(self, code: str) -> MetricResult:
        return next(r for r in self.results if r.code == code)


def measure(session, viewer, period: Period, *, district_code: str | None = None,
            as_of_period_end: bool = False, records_coverage=None, external=None) -> Measurement | None:
    """All targets of the period's year measured province-wide or for ``district_code``.

    ``as_of_period_end`` (reports): thresholds, case statuses (the incidents' status history), key-area and
    drug statuses as they stood at the period's end (:func:`targets_for_year`, :func:`records_and_coverage`
    and :func:`external_counts` with ``as_of``), so a regenerated report gives the same figures.
    ``records_coverage`` and ``external``: what :func:`records_and_coverage` (of the viewer, in
    :func:`period_set`) and :func:`external_counts` give, when the caller already has them (a page measuring
    the province and every district reads the incidents once)."""
    from geo.periods import end_instant_utc
    from store.meta import data_version

    year = period.year or period.end.year
    period_end = end_instant_utc(period) if as_of_period_end else None
    if as_of_period_end and (records_coverage is not None or external is not None):
        raise ValueError("as_of_period_end reads the records and counts as they stood: do not pass them")
    targets = targets_for_year(session, year, as_of=period_end)
    if targets is None:
        return None
    records, coverage = records_coverage if records_coverage is not None else records_and_coverage(
        session, viewer, boundary_set=period_set(session, period), status_as_of=period_end)
    province, by_district = external if external is not None else external_counts(
        session, viewer, year, as_of=period if as_of_period_end else None)
    external = province if district_code is None else {c: d[district_code] for c, d in by_district.items()
                                                       if district_code in d}
    boundary_set = period_set(session, period)
    results = compute_all(targets.target_set, records, period, district_code=district_code, external=external,
                          coverage=coverage, baseline_year=plan_baseline(targets, period),
                          without_baseline=communes_without_baseline(session, period, plan_baseline(targets, period),
                                                                     boundary_set, coverage))
    return Measurement(period, district_code, targets, results, coverage, data_version(session))


def measure_by_district(session, viewer, period: Period, district_codes, *, records_coverage=None,
                        external=None) -> dict[str, list[MetricResult]]:
    """Every target for every district: {target code: [result per district, in ``district_codes`` order]}.
    ``records_coverage`` and ``external`` as for :func:`measure`."""
    year = period.year or period.end.year
    targets = targets_for_year(session, year)
    if targets is None:
        return {}
    records, coverage = records_coverage if records_coverage is not None else records_and_coverage(
        session, viewer, boundary_set=period_set(session, period))
    _province, by_district = external if external is not None else external_counts(session, viewer, year)
    unreached = communes_without_baseline(session, period, plan_baseline(targets, period),
                                          period_set(session, period), coverage)
    return {spec.code: compute_by_district(spec, records if spec.source == "records" else None, period,
                                           list(district_codes), external=by_district.get(spec.code, {}),
                                           coverage=coverage, baseline_year=plan_baseline(targets, period),
                                           without_baseline=unreached)
            for spec in targets.target_set.specs}


def communes_without_baseline(session, period: Period, baseline_year: int, boundary_set: str | None,
                              coverage) -> frozenset[str]:
    """Communes of ``boundary_set`` that no record of the period's baseline span can reach (old Tiền Giang
    in the 07/2025 set for a baseline before 01/07/2025): the changes leave them out
    (:func:`geo.targets.compute_metric`)."""
    from geo.periods import PeriodNotCovered, like_for_like
    from store.boundaries import units_without_records

    if boundary_set is None:
        return frozenset()
    try:
        pair = like_for_like(period, baseline_year, data_through=coverage[1] if coverage else None,
                             data_from=coverage[0] if coverage else None)
    except (PeriodNotCovered, GeoInputError):
        return frozenset()
    codes, _sets = units_without_records(session, boundary_set, pair.baseline.start, pair.baseline.end)
    return frozenset(codes)


def targets_json(target_set: TargetSet) -> str:
    from geo.targets import targets_to_dict

    return json.dumps(targets_to_dict(target_set), ensure_ascii=False, indent=2)


__all__ = ["TargetPlan", "PlanTarget", "seed_targets", "target_rows", "bundled_target_sets", "stored_target_set",
           "targets_for_year", "update_target", "copy_targets", "measure", "measure_by_district", "external_counts",
           "records_and_coverage", "incident_coverage", "Measurement", "TargetsInForce", "target_years", "targets_from_dict"]
