"""Work that waits: proposals a province planner must decide, and decisions a committee should read.

Maker-checker (see ``store.key_areas``): district and commune committees propose key-area transitions and
drug-status figures; a province planner approves or rejects them. The menu shows planners how many wait;
a committee's pages list the decisions taken on its own unit's proposals.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from store import scope
from store.drug_status import DrugStatusProposal
from store.key_areas import APPROVED, PENDING, PROVINCE_ROLES, REJECTED, STATUS_LABELS, KeyArea, KeyAreaProposal


@dataclass(frozen=True)
class PendingCounts:
    key_areas: int
    drug_status: int

    @property
    def total(self) -> int:
        return self.key_areas + self.drug_status


def pending_counts(session, viewer) -> PendingCounts | None:
    """Proposals waiting for ``viewer``'s decision; None for roles that do not decide (committees, guards).

    A planner never decides their own proposal, so those are not counted as waiting for them.
    """
    if getattr(viewer, "role", None) not in PROVINCE_ROLES:
        return None
    key_areas = session.scalar(select(func.count()).select_from(KeyAreaProposal).where(
        KeyAreaProposal.state == PENDING, KeyAreaProposal.proposed_by != viewer.username))
    drug = session.scalar(select(func.count()).select_from(DrugStatusProposal).where(
        DrugStatusProposal.state == PENDING, DrugStatusProposal.proposed_by != viewer.username))
    return PendingCounts(int(key_areas or 0), int(drug or 0))


@dataclass(frozen=True)
class Decision:
    kind: str  # "key_area" or "drug_status"
    proposal_id: int
    subject: str  # what was proposed, in words (Vietnamese and English)
    subject_en: str
    record_id: int | None  # the key area's id (drug status: None)
    commune_code: str | None
    year: int | None
    proposed_by: str
    proposed_at: datetime
    state: str
    decided_by: str
    decided_at: datetime | None
    note: str


def decisions_for_unit(session, viewer, *, since: date | None = None, limit: int = 20) -> list[Decision]:
    """Decided proposals (approved or rejected) on records of ``viewer``'s own unit, newest first.

    For district and commune committees, who made the proposals; province roles get an empty list (they
    took the decisions). ``since`` keeps decisions taken on or after that day.
    """
    if not scope.is_local(viewer):
        return []
    decided = (APPROVED, REJECTED)
    ka_query = (select(KeyAreaProposal, KeyArea).join(KeyArea, KeyArea.id == KeyAreaProposal.key_area_id)
                .where(scope.scope_clause(viewer, KeyArea), KeyAreaProposal.state.in_(decided)))
    ds_query = select(DrugStatusProposal).where(scope.scope_clause(viewer, DrugStatusProposal),
                                                DrugStatusProposal.state.in_(decided))
    if since is not None:
        start = datetime(since.year, since.month, since.day)
        ka_query = ka_query.where(KeyAreaProposal.decided_at >= start)
        ds_query = ds_query.where(DrugStatusProposal.decided_at >= start)
    ka_query = ka_query.order_by(KeyAreaProposal.decided_at.desc(), KeyAreaProposal.id.desc()).limit(limit)
    ds_query = ds_query.order_by(DrugStatusProposal.decided_at.desc(), DrugStatusProposal.id.desc()).limit(limit)
    out = []
    for proposal, area in session.execute(ka_query).all():
        to_vi, to_en = STATUS_LABELS.get(proposal.to_status, (proposal.to_status, proposal.to_status))
        out.append(Decision("key_area", proposal.id, f"{area.name}: → {to_vi}", f"{area.name}: → {to_en}", area.id,
                            area.commune_code, area.year_selected, proposal.proposed_by, proposal.proposed_at,
                            proposal.state, proposal.decided_by, proposal.decided_at, proposal.decision_note or ""))
    for proposal in session.scalars(ds_query):
        figures = json.loads(proposal.indicators or "{}")
        shown = ", ".join(f"{k}={v}" for k, v in figures.items() if v)
        out.append(Decision("drug_status", proposal.id, f"Số liệu ma túy xã {proposal.commune_code} năm {proposal.year}"
                            + (f" ({shown})" if shown else ""),
                            f"Drug figures of commune {proposal.commune_code}, {proposal.year}"
                            + (f" ({shown})" if shown else ""), None, proposal.commune_code, proposal.year,
                            proposal.proposed_by, proposal.proposed_at, proposal.state, proposal.decided_by,
                            proposal.decided_at, proposal.decision_note or ""))
    out.sort(key=lambda d: (d.decided_at or datetime.min, d.proposal_id), reverse=True)
    return out[:limit]
