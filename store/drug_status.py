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
from store import audit
from store.key_areas import (ConflictError, NotFound, PermissionDenied, TrackerError, _check_version, _flush,
                             may_edit, may_view, parse_date)
from store.meta import bump_data_version
from store.models import Base, utcnow

STATUS_COLORS = {
    drug_rules.DRUG_FREE: "#15803d",
    drug_rules.WITH_DRUGS: "#facc15",
    drug_rules.KEY_3: "#f97316",
    drug_rules.KEY_2: "#dc2626",
    drug_rules.KEY_1: "#7f1d1d",
}


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
    __table_args__ = (UniqueConstraint("commune_code", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(10), index=True)
    district_code: Mapped[str] = mapped_column(String(10), index=True)
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
        raise PermissionDenied("Chỉ cán bộ tham mưu cấp tỉnh được thêm phiên bản bộ tiêu chí.")
    try:
        rule_set = RuleSet.from_dict(definition)
    except GeoInputError as e:
        raise TrackerError(f"Bộ tiêu chí không hợp lệ: {e}") from None
    if session.scalar(select(DrugRuleSetVersion).where(DrugRuleSetVersion.code == rule_set.code,
                                                       DrugRuleSetVersion.effective_from == rule_set.effective_from)):
        raise ConflictError(f"Đã có phiên bản {rule_set.code} hiệu lực từ {rule_set.effective_from.isoformat()}.")
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
def record_drug_status(session, actor, *, commune_code, year, indicators, assessed_on=None, notes="",
                       expected_version=None, reason="", communes=None, is_demo=False) -> CommuneDrugStatus:
    """Create or update a commune's status for ``year``, classified by the rules in force on ``assessed_on``.

    ``assessed_on`` defaults to 31 December of ``year``. Updating an existing record requires the version
    the editor saw (``expected_version``); a stale one raises :class:`ConflictError`.
    """
    from store.boundaries import communes_frame

    communes = communes if communes is not None else communes_frame(session)
    match = communes[communes["commune_code"] == str(commune_code)]
    if match.empty:
        raise TrackerError(f"Mã xã “{commune_code}” không có trong ranh giới đang dùng.")
    district_code = str(match["district_code"].iloc[0])
    if not may_edit(actor, district_code):
        raise PermissionDenied("Bạn không có quyền ghi tình hình ma túy của xã thuộc huyện khác.")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise TrackerError(f"Năm “{year}” không hợp lệ.") from None
    if not 2010 <= year <= date.today().year:
        raise TrackerError(f"Năm {year} nằm ngoài 2010–{date.today().year}.")
    when = parse_date(assessed_on, "Ngày đánh giá") if assessed_on else date(year, 12, 31)
    if when.year != year:
        raise TrackerError(f"Ngày đánh giá {when.isoformat()} không thuộc năm {year}.")
    if not isinstance(indicators, DrugIndicators):
        try:
            indicators = DrugIndicators.from_mapping(indicators)
        except GeoInputError as e:
            raise TrackerError(f"Số liệu không hợp lệ: {e}") from None
    try:
        result = drug_rules.classify(indicators, when, rule_sets(session))
    except GeoInputError as e:
        raise TrackerError(str(e)) from None
    row = session.scalar(select(CommuneDrugStatus).where(CommuneDrugStatus.commune_code == str(commune_code),
                                                         CommuneDrugStatus.year == year))
    before = None
    if row is None:
        row = CommuneDrugStatus(commune_code=str(commune_code), district_code=district_code, year=year)
        session.add(row)
    else:
        _check_version(row, expected_version, f"tình hình ma túy của xã {commune_code} năm {year}")
        before = status_snapshot(row)
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
    _flush(session, f"tình hình ma túy của xã {commune_code} năm {year}")
    audit.record(session, username=actor.username, action="drug_status.update" if before else "drug_status.create",
                 entity="commune_drug_status", entity_id=row.id, before=before, after=status_snapshot(row),
                 reason=reason)
    bump_data_version(session, "drug_status")
    return row


def get_drug_status(session, viewer, status_id) -> CommuneDrugStatus:
    row = session.get(CommuneDrugStatus, int(status_id)) if str(status_id).isdigit() else None
    if row is None or not may_view(viewer, row.district_code):
        raise NotFound("Không tìm thấy bản ghi tình hình ma túy.")
    return row


def drug_status_rows(session, viewer, *, year=None, district_code=None) -> list[CommuneDrugStatus]:
    query = select(CommuneDrugStatus)
    if viewer is not None and viewer.role == "district":
        query = query.where(CommuneDrugStatus.district_code == viewer.district_code)
    if year:
        query = query.where(CommuneDrugStatus.year == int(year))
    if district_code:
        query = query.where(CommuneDrugStatus.district_code == district_code)
    return list(session.scalars(query.order_by(CommuneDrugStatus.year.desc(), CommuneDrugStatus.commune_code)))


def drug_years(session) -> list[int]:
    return sorted(set(session.scalars(select(CommuneDrugStatus.year))), reverse=True)


def year_comparison(session, viewer, year: int, *, district_code=None) -> drug_rules.YearComparison:
    """Drug-free communes kept and communes with drugs reduced, ``year`` against ``year - 1``."""
    current = {r.commune_code: r.status for r in drug_status_rows(session, viewer, year=year, district_code=district_code)}
    previous = {r.commune_code: r.status
                for r in drug_status_rows(session, viewer, year=int(year) - 1, district_code=district_code)}
    return drug_rules.compare_years(previous, current)


def comparison_by_district(session, viewer, year: int) -> dict[str, drug_rules.YearComparison]:
    current = drug_status_rows(session, viewer, year=year)
    previous = drug_status_rows(session, viewer, year=int(year) - 1)
    districts = sorted({r.district_code for r in current + previous})
    # Two queries for the province, grouped here (not two per district).
    return {d: drug_rules.compare_years({r.commune_code: r.status for r in previous if r.district_code == d},
                                        {r.commune_code: r.status for r in current if r.district_code == d})
            for d in districts}
