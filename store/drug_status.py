"""Drug status of communes per period, classified by the rule set in force (see :mod:`geo.drug_rules`).

Each record keeps the indicators it was classified from and the rule set's code and document number, so a
2024 classification under QĐ 3122/2010/QĐ-BCA stays what it was after QĐ 28/2025/QĐ-TTg took effect.
Rule sets are versioned by effective date: the built-in ones come from :data:`geo.drug_rules.DEFAULT_RULE_SETS`;
a province planner may add a version (e.g. confirmed loại II/III thresholds) that applies from its date.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from geo import drug_rules
from geo.drug_rules import DrugIndicators, RuleSet
from geo.errors import GeoInputError
from store import audit, scope
from store.key_areas import (APPROVED, PENDING, PROVINCE_ROLES, REJECTED, ConflictError, NotFound, PermissionDenied,
                             TrackerError, _check_version, _flush, may_edit, may_view, parse_date)
from store.meta import bump_data_version
from store.models import Base, utcnow
from translations import Message, join_messages, message


class DrugRuleSetVersion(Base):
    """A stored version of a classification rule set (its definition as JSON, see ``RuleSet.to_dict``)."""

    __tablename__ = "drug_rule_sets"
    __table_args__ = (UniqueConstraint("code", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    document_number: Mapped[str] = mapped_column(String(80))
    effective_from: Mapped[date] = mapped_column(Date)
    definition: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CommuneDrugStatus(Base):
    __tablename__ = "commune_drug_status"
    __table_args__ = (UniqueConstraint("boundary_set_id", "commune_code", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(10), index=True)
    district_code: Mapped[str] = mapped_column(String(10), index=True)
    boundary_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # set of the codes
    year: Mapped[int] = mapped_column(Integer, index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    addicts: Mapped[int] = mapped_column(Integer, default=0)
    users_with_records: Mapped[int] = mapped_column(Integer, default=0)
    drug_use_places: Mapped[int] = mapped_column(Integer, default=0)
    offenders_arrested: Mapped[int] = mapped_column(Integer, default=0)
    drug_plants: Mapped[int] = mapped_column(Integer, default=0)
    drug_crop_m2: Mapped[float] = mapped_column(Float, default=0.0)
    on_drug_route: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    rule_set_code: Mapped[str] = mapped_column(String(40))
    rule_document_number: Mapped[str] = mapped_column(String(80))
    criteria_met: Mapped[str] = mapped_column(Text, default="[]")
    notes: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}

    def indicators(self) -> DrugIndicators:
        return DrugIndicators(**{name: getattr(self, name) for name in drug_rules.INDICATOR_NAMES})


def status_snapshot(row: CommuneDrugStatus) -> dict:
    data = {name: getattr(row, name) for name in drug_rules.INDICATOR_NAMES}
    data.update(id=row.id, commune_code=row.commune_code, district_code=row.district_code, year=row.year,
                assessed_on=row.assessed_on.isoformat(), status=row.status, rule_set_code=row.rule_set_code,
                rule_document_number=row.rule_document_number, criteria_met=json.loads(row.criteria_met or "[]"),
                notes=row.notes, is_demo=bool(row.is_demo), version=row.version, updated_by=row.updated_by,
                updated_at=row.updated_at.isoformat(timespec="seconds") if row.updated_at else None)
    return data


# --- rule sets ----------------------------------------------------------------------------------------------
def rule_sets(session) -> tuple[RuleSet, ...]:
    """Built-in rule sets plus stored versions (a stored one with the same code and date replaces the built-in)."""
    stored = [RuleSet.from_dict(json.loads(r.definition)) for r in session.scalars(select(DrugRuleSetVersion))]
    keys = {(r.code, r.effective_from) for r in stored}
    builtin = [r for r in drug_rules.DEFAULT_RULE_SETS if (r.code, r.effective_from) not in keys]
    return tuple(sorted(builtin + stored, key=lambda r: r.effective_from))


def add_rule_set_version(session, actor, definition: dict, *, reason="") -> DrugRuleSetVersion:
    """Store a new version of a rule set (province roles). It applies to classifications from its date on."""
    if actor.role not in ("admin", "planner"):
        raise PermissionDenied(message("ds.err.rule_set_province_only"))
    try:
        rule_set = RuleSet.from_dict(definition)
    except GeoInputError as e:
        raise TrackerError(message("ds.err.bad_rule_set", reason=e)) from None
    if session.scalar(select(DrugRuleSetVersion).where(DrugRuleSetVersion.code == rule_set.code,
                                                       DrugRuleSetVersion.effective_from == rule_set.effective_from)):
        raise ConflictError(message("ds.err.rule_set_exists", code=rule_set.code, effective_from=rule_set.effective_from))
    row = DrugRuleSetVersion(code=rule_set.code, document_number=rule_set.document_number,
                             effective_from=rule_set.effective_from, definition=json.dumps(rule_set.to_dict(),
                                                                                           ensure_ascii=False),
                             created_by=actor.username)
    session.add(row)
    session.flush()
    audit.record(session, username=actor.username, action="drug_rule_set.add", entity="drug_rule_set",
                 entity_id=row.id, after=rule_set.to_dict(), reason=reason)
    return row


# --- statuses -----------------------------------------------------------------------------------------------
class PlausibilityWarning(TrackerError):
    """Figures that look wrong (:func:`geo.drug_rules.plausibility_warnings`): saved only once confirmed.

    ``warnings`` are the catalog messages, worded by :meth:`text` in the reader's language."""

    status = 422

    def __init__(self, warnings: list[Message]):
        self.warnings = list(warnings)
        super().__init__(message("ds.err.check_figures",
                                 details=tuple(join_messages(self.warnings, lang) for lang in ("vi", "en"))))


def stored_warnings(stored: str | None) -> list[dict | str]:
    """The warnings a proposal keeps (JSON): catalog messages as :meth:`Message.as_json` dicts; a row written
    before they were messages holds its Vietnamese sentences, kept as they are."""
    try:
        kept = json.loads(stored or "[]")
    except ValueError:
        return []
    return [w for w in kept if isinstance(w, (dict, str))] if isinstance(kept, list) else []


def worded_proposal(snapshot: dict, lang: str) -> dict:
    """A proposal's :func:`proposal_snapshot` with the warnings its proposer confirmed worded in ``lang``."""
    return {**snapshot, "warnings": [warning_text(w, lang) for w in snapshot["warnings"]]}


def warning_text(warning: dict | str | Message, lang: str = "vi") -> str:
    """One stored or raised warning worded in ``lang`` (an old Vietnamese sentence stays as it is)."""
    if isinstance(warning, Message):
        return warning.text(lang)
    worded = Message.from_json(warning) if isinstance(warning, dict) else None
    return worded.text(lang) if worded is not None else str(warning)


class DrugStatusProposal(Base):
    """Figures entered by a district or commune committee, waiting for a province planner (maker-checker)."""

    __tablename__ = "drug_status_proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(10))
    district_code: Mapped[str] = mapped_column(String(10), index=True)
    boundary_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the set commune_code is of
    year: Mapped[int] = mapped_column(Integer)
    assessed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    indicators: Mapped[str] = mapped_column(Text)  # JSON of DrugIndicators
    notes: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[str] = mapped_column(Text, default="[]")  # JSON list confirmed by the proposer
    record_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


def proposal_snapshot(p: DrugStatusProposal) -> dict:
    return {"id": p.id, "commune_code": p.commune_code, "district_code": p.district_code,
            "boundary_set_id": p.boundary_set_id, "year": p.year,
            "assessed_on": p.assessed_on.isoformat() if p.assessed_on else None,
            "indicators": json.loads(p.indicators), "notes": p.notes, "reason": p.reason,
            "warnings": stored_warnings(p.warnings), "record_version": p.record_version,
            "proposed_by": p.proposed_by, "proposed_at": p.proposed_at.isoformat(timespec="seconds"),
            "state": p.state, "decided_by": p.decided_by,
            "decided_at": p.decided_at.isoformat(timespec="seconds") if p.decided_at else None,
            "decision_note": p.decision_note, "version": p.version}


def _checked_entry(session, actor, commune_code, year, indicators, assessed_on, communes):
    """Validate an entry (commune of the set in force on its date and of the actor's unit, year, date,
    indicators, a rule set in force); returns (set row, district, year, date, indicators, classification)."""
    from store.key_areas import _set_for

    try:
        year = int(year)
    except (TypeError, ValueError):
        raise TrackerError(message("ds.err.bad_year", year=year)) from None
    if not 2010 <= year <= date.today().year:
        raise TrackerError(message("ds.err.year_range", year=year, last=date.today().year))
    when = parse_date(assessed_on, message("ka.field.assessed_on")) if assessed_on else date(year, 12, 31)
    set_row, communes = _set_for(session, min(when, date.today()), communes)
    match = communes[communes["commune_code"] == str(commune_code)]
    if match.empty:
        raise TrackerError(message("ds.err.commune_not_in_set", commune=commune_code, boundary_set=set_row.version,
                                   day=when))
    district_code = str(match["district_code"].iloc[0])
    if not may_edit(actor, district_code, str(commune_code), set_row.id):
        raise PermissionDenied(message("ds.err.outside_own_unit"))
    if when.year != year:
        raise TrackerError(message("ds.err.day_outside_year", day=when, year=year))
    if not isinstance(indicators, DrugIndicators):
        try:
            indicators = DrugIndicators.from_mapping(indicators)
        except GeoInputError as e:
            raise TrackerError(message("ds.err.bad_indicators", reason=e.message or str(e))) from None
    try:
        result = drug_rules.classify(indicators, when, rule_sets(session))
    except GeoInputError as e:
        raise TrackerError(message("ds.err.refused", reason=e)) from None
    return set_row, district_code, year, when, indicators, result


def entry_warnings(session, commune_code, year: int, indicators: DrugIndicators, boundary_set_id=None
                   ) -> list[Message]:
    """Plausibility warnings of an entry, against the commune's record of the year before in the same
    boundary set (a code of another set may be another commune)."""
    previous = session.scalar(select(CommuneDrugStatus).where(CommuneDrugStatus.commune_code == str(commune_code),
                                                              CommuneDrugStatus.year == int(year) - 1,
                                                              CommuneDrugStatus.boundary_set_id == boundary_set_id))
    return drug_rules.plausibility_warnings(indicators, previous.indicators() if previous is not None else None)


def record_drug_status(session, actor, *, commune_code, year, indicators, assessed_on=None, notes="",
                       expected_version=None, reason="", communes=None, is_demo=False,
                       confirm_warnings: bool = False, proposal: "DrugStatusProposal | None" = None
                       ) -> CommuneDrugStatus:
    """Create or update a commune's status for ``year``, classified by the rules in force on ``assessed_on``.

    Province planners and administrators write directly; district and commune committees propose
    (:func:`propose_drug_status`) and this runs when a planner approves (``proposal``). ``assessed_on``
    defaults to 31 December of ``year``. Updating an existing record requires the version the editor saw
    (``expected_version``); a stale one raises :class:`ConflictError`. Implausible figures
    (:func:`entry_warnings`) raise :class:`PlausibilityWarning` unless ``confirm_warnings``.
    """
    if actor.role not in PROVINCE_ROLES:
        raise PermissionDenied(message("ds.err.propose_instead"))
    set_row, district_code, year, when, indicators, result = _checked_entry(session, actor, commune_code, year,
                                                                            indicators, assessed_on, communes)
    row = session.scalar(select(CommuneDrugStatus).where(CommuneDrugStatus.commune_code == str(commune_code),
                                                         CommuneDrugStatus.year == year,
                                                         CommuneDrugStatus.boundary_set_id == set_row.id))
    before = None
    if row is None:
        row = CommuneDrugStatus(commune_code=str(commune_code), district_code=district_code, year=year,
                                boundary_set_id=set_row.id)
    else:
        _check_version(row, expected_version, message("ds.what.status", commune=commune_code, year=str(year)))
        before = status_snapshot(row)
    warnings = entry_warnings(session, commune_code, year, indicators, set_row.id)
    if warnings and not confirm_warnings:
        raise PlausibilityWarning(warnings)
    if before is None:
        session.add(row)
    row.assessed_on = when
    for name, value in indicators.as_dict().items():
        setattr(row, name, value)
    row.status = result.status
    row.rule_set_code = result.rule_set_code
    row.rule_document_number = result.document_number
    row.criteria_met = json.dumps(list(result.criteria_met))
    row.notes = (notes or "").strip()[:4000]
    row.is_demo = is_demo
    row.updated_by = actor.username
    row.updated_at = utcnow()
    _flush(session, message("ds.what.status", commune=commune_code, year=str(year)))
    # What was approved and confirmed is kept as data beside the figures, so the log reads in either language.
    after = status_snapshot(row)
    if proposal is not None:
        after.update(approved_proposal=proposal.id, proposed_by=proposal.proposed_by)
    if warnings:
        after["confirmed_warnings"] = [w.as_json() for w in warnings]
    audit.record(session, username=actor.username, action="drug_status.update" if before else "drug_status.create",
                 entity="commune_drug_status", entity_id=row.id, before=before, after=after, reason=reason)
    bump_data_version(session, "drug_status")
    return row


def propose_drug_status(session, actor, *, commune_code, year, indicators, assessed_on=None, notes="",
                        expected_version=None, reason="", communes=None, confirm_warnings: bool = False
                        ) -> DrugStatusProposal:
    """A district or commune committee's entry, kept as a proposal until a province planner decides.

    The entry is validated as if it were saved (commune in the proposer's district, date, indicators,
    rule set), implausible figures must be confirmed, and one commune-year has at most one pending proposal.
    """
    set_row, district_code, year, when, indicators, _result = _checked_entry(session, actor, commune_code, year,
                                                                             indicators, assessed_on, communes)
    pending = session.scalar(select(DrugStatusProposal).where(DrugStatusProposal.commune_code == str(commune_code),
                                                              DrugStatusProposal.year == year,
                                                              DrugStatusProposal.boundary_set_id == set_row.id,
                                                              DrugStatusProposal.state == PENDING))
    if pending is not None:
        raise ConflictError(message("ds.err.proposal_pending", commune=commune_code, year=year, proposal=pending.id))
    existing = session.scalar(select(CommuneDrugStatus).where(CommuneDrugStatus.commune_code == str(commune_code),
                                                              CommuneDrugStatus.year == year,
                                                              CommuneDrugStatus.boundary_set_id == set_row.id))
    if existing is not None:
        _check_version(existing, expected_version, message("ds.what.status", commune=commune_code, year=str(year)))
    warnings = entry_warnings(session, commune_code, year, indicators, set_row.id)
    if warnings and not confirm_warnings:
        raise PlausibilityWarning(warnings)
    proposal = DrugStatusProposal(commune_code=str(commune_code), district_code=district_code,
                                  boundary_set_id=set_row.id, year=year,
                                  assessed_on=parse_date(assessed_on, message("ka.field.assessed_on")) if assessed_on else None,
                                  indicators=json.dumps(indicators.as_dict()), notes=(notes or "").strip()[:4000],
                                  reason=(reason or "").strip(), warnings=json.dumps([w.as_json() for w in warnings], ensure_ascii=False),
                                  record_version=existing.version if existing is not None else None,
                                  proposed_by=actor.username, state=PENDING)
    session.add(proposal)
    _flush(session, message("ds.what.proposal_for", commune=commune_code, year=str(year)))
    audit.record(session, username=actor.username, action="drug_status.propose", entity="drug_status_proposal",
                 entity_id=proposal.id, after=proposal_snapshot(proposal), reason=reason)
    bump_data_version(session, "drug_status")
    return proposal


def decide_drug_status_proposal(session, actor, proposal_id, *, expected_version, approve: bool,
                                note: str = "") -> DrugStatusProposal:
    """Approve (the record is written, classified as of its date) or reject a proposal (province, not the
    proposer). The warnings the proposer confirmed are the checker's to weigh: approving confirms them."""
    if actor.role not in PROVINCE_ROLES:
        raise PermissionDenied(message("ds.err.approve_province_only"))
    proposal = session.get(DrugStatusProposal, int(proposal_id)) if str(proposal_id).isdigit() else None
    if proposal is None:
        raise NotFound(message("ds.err.no_proposal"))
    _check_version(proposal, expected_version, message("ds.what.proposal_number", id=str(proposal.id)))
    if proposal.state != PENDING:
        raise ConflictError(message("ds.err.already_decided", proposal=proposal.id, state=proposal.state,
                                     decided_by=proposal.decided_by))
    if proposal.proposed_by == actor.username:
        raise PermissionDenied(message("ds.err.own_proposal"))
    if not approve and not (note or "").strip():
        raise TrackerError(message("ds.err.rejection_reason"))
    before = proposal_snapshot(proposal)
    if approve:
        record_drug_status(session, actor, commune_code=proposal.commune_code, year=proposal.year,
                           indicators=json.loads(proposal.indicators),
                           assessed_on=proposal.assessed_on.isoformat() if proposal.assessed_on else None,
                           notes=proposal.notes, expected_version=proposal.record_version,
                           reason=proposal.reason, confirm_warnings=True, proposal=proposal)
    proposal.state = APPROVED if approve else REJECTED
    proposal.decided_by = actor.username
    proposal.decided_at = utcnow()
    proposal.decision_note = (note or "").strip()
    _flush(session, message("ds.what.proposal_number", id=str(proposal.id)))
    audit.record(session, username=actor.username, action="drug_status.approve" if approve else "drug_status.reject",
                 entity="drug_status_proposal", entity_id=proposal.id, before=before,
                 after=proposal_snapshot(proposal), reason=note)
    bump_data_version(session, "drug_status")
    return proposal


def drug_status_proposals(session, viewer, *, state=None) -> list[DrugStatusProposal]:
    query = select(DrugStatusProposal)
    if viewer is not None:
        query = query.where(scope.scope_clause(viewer, DrugStatusProposal))
    if state:
        query = query.where(DrugStatusProposal.state == state)
    return list(session.scalars(query.order_by(DrugStatusProposal.proposed_at.desc(), DrugStatusProposal.id.desc())))


def get_drug_status(session, viewer, status_id) -> CommuneDrugStatus:
    row = session.get(CommuneDrugStatus, int(status_id)) if str(status_id).isdigit() else None
    if row is None or not may_view(viewer, row.district_code, row.commune_code, row.boundary_set_id):
        raise NotFound(message("ds.err.no_record"))
    return row


def drug_status_rows(session, viewer, *, year=None, district_code=None) -> list[CommuneDrugStatus]:
    query = select(CommuneDrugStatus)
    if viewer is not None:
        query = query.where(scope.scope_clause(viewer, CommuneDrugStatus))
    if year:
        query = query.where(CommuneDrugStatus.year == int(year))
    if district_code:
        query = query.where(CommuneDrugStatus.district_code == district_code)
    return list(session.scalars(query.order_by(CommuneDrugStatus.year.desc(), CommuneDrugStatus.commune_code)))


def drug_years(session) -> list[int]:
    return sorted(set(session.scalars(select(CommuneDrugStatus.year))), reverse=True)


def _statuses_in(session, rows, set_key: str) -> dict:
    """Statuses of ``rows`` keyed by commune code of ``set_key``: rows of another set through the crosswalk."""
    from geo.boundary_sets import carry_statuses
    from store.boundaries import crosswalk_between, set_rows

    keys = {r.id: r.version for r in set_rows(session)}
    by_set: dict = {}
    for row in rows:
        by_set.setdefault(keys.get(row.boundary_set_id, set_key), {})[row.commune_code] = row.status
    result: dict = {}
    for source, statuses in by_set.items():
        if source == set_key:
            carried = statuses
        else:
            try:
                carried, _ = carry_statuses(statuses, crosswalk_between(session, source, set_key),
                                            drug_rules.STATUSES)
            except GeoInputError:
                continue  # no crosswalk: the two years cannot be compared on one set
        for code, status in carried.items():
            if code not in result or drug_rules.STATUSES.index(status) > drug_rules.STATUSES.index(result[code]):
                result[code] = status
    return result


def snapshots_in(session, rows, set_key: str) -> dict:
    """Commune code of ``set_key`` -> record for the map: rows of that set as they are; rows of another set
    carried through the crosswalk (the worst status of the communes a new one was made of), marked so."""
    from store.boundaries import set_rows

    keys = {r.id: r.version for r in set_rows(session)}
    own = {r.commune_code: status_snapshot(r) for r in rows if keys.get(r.boundary_set_id, set_key) == set_key}
    others = [r for r in rows if keys.get(r.boundary_set_id, set_key) != set_key]
    if not others:
        return own
    carried = _statuses_in(session, others, set_key)
    for code, status in carried.items():
        own.setdefault(code, {"status": status, "year": others[0].year, "rule_document_number": "",
                              "notes": f"Từ bộ ranh giới {keys.get(others[0].boundary_set_id)} qua bảng chuyển đổi",
                              "is_demo": any(r.is_demo for r in others)})
    return own


def comparison_set(session, year: int) -> str | None:
    """The set a year's comparison is made on: the one in force at the end of that year."""
    from store.boundaries import active_boundary_set

    row = active_boundary_set(session, on=min(date(int(year), 12, 31), date.today()))
    return row.version if row is not None else None


def rows_as_recorded(session, viewer, *, year: int, as_of: datetime | None = None, district_code=None) -> list:
    """The ``year`` records as they stood at the instant ``as_of`` (naive UTC): a record changed later is read
    back from the audit trail (its last snapshot before ``as_of``); a record created later is absent.
    ``None``: the records as they are now."""
    from types import SimpleNamespace

    from store.models import AuditLog

    rows = drug_status_rows(session, viewer, year=year, district_code=district_code)
    if as_of is None:
        return rows
    later = {r.id for r in rows if r.updated_at is None or r.updated_at >= as_of}
    snapshots: dict[str, dict] = {}
    if later:
        audit_rows = session.execute(
            select(AuditLog.entity_id, AuditLog.after).where(
                AuditLog.entity == "commune_drug_status", AuditLog.entity_id.in_([str(i) for i in later]),
                AuditLog.at < as_of).order_by(AuditLog.at, AuditLog.id)).all()
        for entity_id, after in audit_rows:
            if after:
                snapshots[entity_id] = json.loads(after)
    out = []
    for r in rows:
        if r.id not in later:
            out.append(r)
        elif str(r.id) in snapshots:
            out.append(SimpleNamespace(id=r.id, commune_code=r.commune_code, district_code=r.district_code,
                                       boundary_set_id=r.boundary_set_id, status=snapshots[str(r.id)]["status"]))
    return out


def year_comparison(session, viewer, year: int, *, district_code=None, set_key: str | None = None,
                    as_of: datetime | None = None) -> drug_rules.YearComparison:
    """Drug-free communes kept and communes with drugs reduced, ``year`` against ``year - 1``, on one set.

    Both years are expressed in the set in force at the end of ``year`` (the previous year's statuses through
    the crosswalk when the reform lies between them), never joined by a reused code; ``set_key`` chooses
    another set. ``as_of``: the records as they stood then (:func:`rows_as_recorded`), for reports of a
    past period.
    """
    set_key = set_key or comparison_set(session, year)
    current_rows = rows_as_recorded(session, viewer, year=int(year), as_of=as_of, district_code=district_code)
    previous_rows = rows_as_recorded(session, viewer, year=int(year) - 1, as_of=as_of, district_code=district_code)
    if set_key is None:
        return drug_rules.compare_years({}, {})
    return drug_rules.compare_years(_statuses_in(session, previous_rows, set_key),
                                    _statuses_in(session, current_rows, set_key))


def comparison_by_district(session, viewer, year: int, set_key: str | None = None, *,
                           as_of: datetime | None = None
                           ) -> dict[str, drug_rules.YearComparison]:
    """Per district of the comparison set (empty for a set without districts: compare the province)."""
    set_key = set_key or comparison_set(session, year)
    if set_key is None:
        return {}
    from store.boundaries import communes_frame

    communes = communes_frame(session, set_key)
    if not communes.attrs.get("has_districts", True):
        return {}
    district_of = dict(zip(communes["commune_code"], communes["district_code"]))
    current = _statuses_in(session, rows_as_recorded(session, viewer, year=int(year), as_of=as_of), set_key)
    previous = _statuses_in(session, rows_as_recorded(session, viewer, year=int(year) - 1, as_of=as_of), set_key)
    districts = sorted({district_of[c] for c in list(current) + list(previous) if c in district_of})
    return {d: drug_rules.compare_years({c: s for c, s in previous.items() if district_of.get(c) == d},
                                        {c: s for c, s in current.items() if district_of.get(c) == d})
            for d in districts}


def commune_names_of(session, rows) -> dict:
    """(set id, commune code) -> name, each from the set the record was made in (codes are reused)."""
    from store.boundaries import communes_of_record

    names = {}
    for set_id in {r.boundary_set_id for r in rows}:
        frame = communes_of_record(session, set_id)
        names.update({(set_id, c): n for c, n in zip(frame["commune_code"], frame["commune_name"])})
    return names
