"""Key complex areas (địa bàn trọng điểm, phức tạp về TTATXH) and the rules of their conversion.

Rules kept here, in one place, for the pages, the API and the demo seeder alike:

* **Lifecycle** (Đề án under QĐ 1960/QĐ-BCA, DOMAIN.md §4): selected → converting → achieved (đạt) or
  not achieved (không đạt); an achieved area can relapse (tái phức tạp). Every transition carries a date,
  a reason and a document number, and writes a timeline event and an audit row in the same transaction.
* **Maker-checker**: a district committee proposes a status change for its own district's area; a province
  planner (or administrator) approves or rejects it, never their own proposal. Province roles may also
  record a transition directly (a province-level decision), which the timeline marks as such.
* **Optimistic concurrency**: each area and proposal carries a ``version`` (SQLAlchemy ``version_id_col``);
  a writer states the version it saw, and a stale one gets :class:`ConflictError` — no lost update.
* **Targets** (2024 plan, DOMAIN.md §1): at least 60 % of selected areas achieved, and 85 % of achieved
  areas not relapsed; :func:`conversion_shares` is pure so dashboards can call it on any records.

Errors are :class:`TrackerError` subclasses with a Vietnamese message a user can act on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping

import shapely
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from store import audit, scope
from store.meta import bump_data_version
from store.models import Base, utcnow
from translations import TranslatableError, message

# --- vocabulary ---------------------------------------------------------------------------------------------
SELECTED, CONVERTING, ACHIEVED, NOT_ACHIEVED, RELAPSED = "selected", "converting", "achieved", "not_achieved", "relapsed"
STATUSES = (SELECTED, CONVERTING, ACHIEVED, NOT_ACHIEVED, RELAPSED)
STATUS_LABELS = {
    SELECTED: ("Đã lựa chọn", "Selected"),
    CONVERTING: ("Đang chuyển hóa", "Converting"),
    ACHIEVED: ("Chuyển hóa đạt", "Achieved"),
    NOT_ACHIEVED: ("Không đạt", "Not achieved"),
    RELAPSED: ("Tái phức tạp", "Relapsed"),
}
TRANSITIONS = {
    SELECTED: (CONVERTING,),
    CONVERTING: (ACHIEVED, NOT_ACHIEVED),
    ACHIEVED: (RELAPSED,),
    NOT_ACHIEVED: (),
    RELAPSED: (),
}
KINDS = {
    "commune": ("Xã, phường, thị trấn", "Commune"),
    "hamlet": ("Ấp, khóm", "Hamlet"),
    "market": ("Chợ", "Market"),
    "wharf": ("Bến bãi, bến đò", "Wharf"),
    "route": ("Tuyến đường, tuyến sông", "Route"),
    "other": ("Khu vực khác", "Other place"),
}
COMPLEXITY_TYPES = {
    "drugs": ("Ma túy", "Drugs"),
    "gambling": ("Cờ bạc", "Gambling"),
    "theft": ("Trộm cắp", "Theft"),
    "gangs": ("Băng nhóm, hội nhóm", "Gangs"),
    "loan_sharking": ("Tín dụng đen", "Loan sharking"),
    "fraud": ("Lừa đảo", "Fraud"),
    "prostitution": ("Mại dâm", "Prostitution"),
    "smuggling": ("Buôn lậu", "Smuggling"),
    "public_disorder": ("Gây rối trật tự công cộng", "Public disorder"),
    "economic": ("Kinh tế, môi trường, an toàn thực phẩm", "Economic, environment, food safety"),
    "other": ("Khác", "Other"),
}
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
PROPOSAL_STATES = {PENDING: ("Chờ duyệt", "Pending"), APPROVED: ("Đã duyệt", "Approved"),
                   REJECTED: ("Từ chối", "Rejected")}
ACHIEVED_TARGET = 0.60
NOT_RELAPSED_TARGET = 0.85
PROVINCE_ROLES = ("admin", "planner")


# --- errors -------------------------------------------------------------------------------------------------
class TrackerError(TranslatableError):
    """A refused change; ``status`` is the HTTP status the web layer answers with.

    Raised with a :class:`translations.Message`, a page words it in its language; ``str()`` is Vietnamese.
    """

    status = 400
    plain_language = "vi"


class InvalidTransition(TrackerError):
    status = 422


class ConflictError(TrackerError):
    status = 409


class PermissionDenied(TrackerError):
    status = 403


class NotFound(TrackerError):
    status = 404


# --- models -------------------------------------------------------------------------------------------------
class KeyArea(Base):
    __tablename__ = "key_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    district_code: Mapped[str] = mapped_column(String(10), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    boundary_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # set of the codes
    year_selected: Mapped[int] = mapped_column(Integer, index=True)
    complexity_types: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of COMPLEXITY_TYPES codes
    decision_number: Mapped[str] = mapped_column(String(80))
    decision_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON, EPSG:4326
    geometry_source: Mapped[str] = mapped_column(String(20), default="commune")  # commune / drawn / upload
    status: Mapped[str] = mapped_column(String(20), default=SELECTED, index=True)
    status_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # An area selected again after a relapse is a new cycle (its own year, timeline and evaluation) linked
    # to the cycle that relapsed.
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("key_areas.id", ondelete="SET NULL"),
                                                          nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}

    @property
    def types(self) -> list[str]:
        return json.loads(self.complexity_types or "[]")


class KeyAreaEvent(Base):
    """One step of an area's timeline (selection, each transition)."""

    __tablename__ = "key_area_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_area_id: Mapped[int] = mapped_column(ForeignKey("key_areas.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    event_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    document_number: Mapped[str] = mapped_column(String(80), default="")
    username: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str] = mapped_column(String(80), default="")
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KeyAreaProposal(Base):
    """A district's proposed status change, waiting for a province planner (maker-checker)."""

    __tablename__ = "key_area_proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_area_id: Mapped[int] = mapped_column(ForeignKey("key_areas.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    event_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    document_number: Mapped[str] = mapped_column(String(80))
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


# --- pure rules ---------------------------------------------------------------------------------------------
def label(pair_table: Mapping, code: str, lang: str = "vi") -> str:
    return pair_table.get(code, (code, code))[1 if lang == "en" else 0]


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def check_transition(from_status: str, to_status: str) -> None:
    """Refuse a transition the lifecycle does not allow, saying which ones it does."""
    if to_status not in STATUSES:
        raise InvalidTransition(message("ka.err.unknown_status", status=to_status,
                                        statuses=_labels(STATUS_LABELS, STATUSES)))
    allowed = allowed_transitions(from_status)
    if to_status not in allowed:
        options = message("ka.err.final_status") if not allowed else _labels(STATUS_LABELS, allowed, quoted=True)
        raise InvalidTransition(message("ka.err.transition", before=STATUS_LABELS.get(from_status, (from_status,) * 2),
                                        after=STATUS_LABELS.get(to_status, (to_status,) * 2), options=options))


def _labels(pair_table: Mapping, codes, quoted: bool = False) -> tuple[str, str]:
    """The labels of ``codes`` joined, as a (vi, en) pair for a message parameter."""
    return tuple(", ".join((f"“{label(pair_table, c, lang)}”" if quoted else label(pair_table, c, lang))
                           for c in codes) for lang in ("vi", "en"))


@dataclass(frozen=True)
class ConversionShares:
    """Progress of one group of areas (a year, optionally one district) against the two targets."""

    selected: int
    ever_achieved: int  # achieved now or achieved and later relapsed
    relapsed: int
    not_achieved: int
    pending: int  # still selected or converting
    achieved_share: float | None  # ever_achieved / selected
    not_relapsed_share: float | None  # (ever_achieved - relapsed) / ever_achieved
    achieved_status: str  # on_track / at_risk / missed / no_data
    not_relapsed_status: str  # on_track / at_risk / no_data
    achieved_target: float
    not_relapsed_target: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def conversion_shares(statuses: Iterable[str], *, achieved_target: float = ACHIEVED_TARGET,
                      not_relapsed_target: float = NOT_RELAPSED_TARGET) -> ConversionShares:
    """Shares of one group of key areas against the conversion targets (pure).

    Parameters
    ----------
    statuses : iterable of str
        Current status of every area selected in the group (codes of :data:`STATUSES`).
    achieved_target, not_relapsed_target : float
        The plan's targets, 0.60 and 0.85 by default (Kế hoạch 138 Đồng Tháp 2024, I.2).

    Returns
    -------
    ConversionShares
        ``achieved_status`` is ``on_track`` when the share already meets the target, ``missed`` when it
        cannot any more (even if every pending area is achieved), ``at_risk`` otherwise; ``no_data`` for an
        empty group. ``not_relapsed_status`` is ``on_track`` or ``at_risk`` (relapse can still happen).
    """
    counts = {s: 0 for s in STATUSES}
    for status in statuses:
        if status not in counts:
            raise ValueError(f"status {status!r} is not one of: {', '.join(STATUSES)}")
        counts[status] += 1
    selected = sum(counts.values())
    ever = counts[ACHIEVED] + counts[RELAPSED]
    pending = counts[SELECTED] + counts[CONVERTING]
    achieved_share = ever / selected if selected else None
    not_relapsed_share = (ever - counts[RELAPSED]) / ever if ever else None
    if achieved_share is None:
        achieved_status = "no_data"
    elif achieved_share >= achieved_target:
        achieved_status = "on_track"
    elif (ever + pending) / selected < achieved_target:
        achieved_status = "missed"
    else:
        achieved_status = "at_risk"
    if not_relapsed_share is None:
        not_relapsed_status = "no_data"
    else:
        not_relapsed_status = "on_track" if not_relapsed_share >= not_relapsed_target else "at_risk"
    return ConversionShares(selected, ever, counts[RELAPSED], counts[NOT_ACHIEVED], pending, achieved_share,
                            not_relapsed_share, achieved_status, not_relapsed_status, achieved_target,
                            not_relapsed_target)


def conversion_table(records: Iterable[Mapping], year: int, **targets) -> dict[str, ConversionShares]:
    """:func:`conversion_shares` per district for areas selected in ``year``, plus the province (key ``"province"``).

    ``records`` are mappings with ``year_selected``, ``district_code`` and ``status`` (e.g. from
    :func:`key_area_records`). Districts with no area that year are absent.
    """
    by_district: dict[str, list[str]] = {}
    for rec in records:
        if int(rec["year_selected"]) == int(year):
            # Areas of a set without districts (from 01/07/2025) are grouped by their commune.
            unit = str(rec["district_code"] or rec.get("commune_code") or "")
            by_district.setdefault(unit, []).append(rec["status"])
    table = {code: conversion_shares(statuses, **targets) for code, statuses in sorted(by_district.items())}
    table["province"] = conversion_shares([s for ss in by_district.values() for s in ss], **targets)
    return table


# --- permissions --------------------------------------------------------------------------------------------
def _unit(area_or_district, commune_code=None, boundary_set_id=None) -> dict:
    if isinstance(area_or_district, KeyArea):
        area = area_or_district
        return {"district_code": area.district_code, "commune_code": area.commune_code,
                "boundary_set_id": area.boundary_set_id}
    return {"district_code": area_or_district, "commune_code": commune_code, "boundary_set_id": boundary_set_id}


def may_edit(actor, district_code, commune_code=None, boundary_set_id=None) -> bool:
    """Province roles edit everywhere; a district or commune committee only its own unit (:mod:`store.scope`).

    ``district_code`` may be a :class:`KeyArea`, whose unit is then used."""
    return scope.may_edit_unit(actor, **_unit(district_code, commune_code, boundary_set_id))


def may_view(actor, district_code, commune_code=None, boundary_set_id=None) -> bool:
    """Local committees read their own unit; province roles and border guards read all."""
    return scope.may_view_unit(actor, **_unit(district_code, commune_code, boundary_set_id))


def _require_edit(actor, district_code, commune_code=None, boundary_set_id=None):
    if not may_edit(actor, district_code, commune_code, boundary_set_id):
        raise PermissionDenied(message("ka.err.outside_unit", unit=scope.unit_label(actor)))


def _require_province(actor):
    if actor.role not in PROVINCE_ROLES:
        raise PermissionDenied(message("ka.err.province_only"))


# --- snapshots ----------------------------------------------------------------------------------------------
def area_snapshot(area: KeyArea) -> dict:
    return {
        "id": area.id, "name": area.name, "kind": area.kind, "district_code": area.district_code,
        "commune_code": area.commune_code, "year_selected": area.year_selected, "complexity_types": area.types,
        "decision_number": area.decision_number,
        "decision_date": area.decision_date.isoformat() if area.decision_date else None,
        "geometry_source": area.geometry_source, "status": area.status,
        "status_date": area.status_date.isoformat() if area.status_date else None, "notes": area.notes,
        "is_demo": bool(area.is_demo), "previous_cycle_id": area.previous_cycle_id,
        "version": area.version, "updated_by": area.updated_by,
        "updated_at": area.updated_at.isoformat(timespec="seconds") if area.updated_at else None,
    }


def proposal_snapshot(p: KeyAreaProposal) -> dict:
    return {
        "id": p.id, "key_area_id": p.key_area_id, "from_status": p.from_status, "to_status": p.to_status,
        "event_date": p.event_date.isoformat(), "reason": p.reason, "document_number": p.document_number,
        "proposed_by": p.proposed_by, "proposed_at": p.proposed_at.isoformat(timespec="seconds"),
        "state": p.state, "decided_by": p.decided_by,
        "decided_at": p.decided_at.isoformat(timespec="seconds") if p.decided_at else None,
        "decision_note": p.decision_note, "version": p.version,
    }


def event_snapshot(e: KeyAreaEvent) -> dict:
    return {
        "id": e.id, "from_status": e.from_status, "to_status": e.to_status, "event_date": e.event_date.isoformat(),
        "reason": e.reason, "document_number": e.document_number, "username": e.username,
        "approved_by": e.approved_by, "proposal_id": e.proposal_id,
        "recorded_at": e.recorded_at.isoformat(timespec="seconds"),
    }


# --- validation helpers -------------------------------------------------------------------------------------
def parse_date(value, field_label: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise TrackerError(message("ka.err.bad_date", field=field_label, value=value)) from None


def _complexity_types(value) -> list[str]:
    """The complexity type codes given, once each in the order given; anything but a list of texts is refused."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise TrackerError(message("ka.err.types_not_list"))
    return list(dict.fromkeys(value))


def _text(value, field_label: str, *, required: bool = True, max_len: int = 200) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise TrackerError(message("ka.err.missing_field", field=field_label))
    if len(text) > max_len:
        raise TrackerError(message("ka.err.too_long", field=field_label, max_len=max_len))
    return text


def _check_version(row, expected_version, what: str) -> None:
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ConflictError(message("ka.err.no_version", what=what)) from None
    if row.version != expected:
        who = getattr(row, "updated_by", "") or getattr(row, "decided_by", "") or message("ka.err.someone_else")
        raise ConflictError(message("ka.err.version_conflict", what=what, who=who, version=row.version,
                                    expected=expected))


def _flush(session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(message("ka.err.stale", what=what)) from None


def _event_date(value, area: KeyArea) -> date:
    when = parse_date(value, message("ka.field.date"))
    if when > date.today():
        raise TrackerError(message("ka.err.future_date", date=when))
    if area.decision_date and when < area.decision_date:
        raise TrackerError(message("ka.err.before_decision", date=when, decision=area.decision_date))
    return when


def district_geometry(communes, district_code: str):
    part = communes[communes["district_code"] == district_code]
    if part.empty:
        raise TrackerError(message("ka.err.unknown_district", code=district_code))
    return shapely.union_all(part.geometry.values), str(part["district_name"].iloc[0])


def _resolve_geometry(communes, district_code, commune_code, geometry):
    """The area's shape: the commune's own when none is given, else the given one checked against its unit
    (the district where the set has districts, else the commune)."""
    from geo.errors import GeoInputError
    from geo.key_area_geometry import check_area_geometry

    has_districts = communes.attrs.get("has_districts", True)
    if commune_code:
        row = communes[communes["commune_code"] == commune_code]
        if row.empty:
            raise TrackerError(message("ka.err.unknown_commune", code=commune_code))
        if has_districts and row["district_code"].iloc[0] != district_code:
            raise TrackerError(message("ka.err.commune_outside_district", commune=str(row["commune_name"].iloc[0]),
                                           district=district_code))
    elif not has_districts:
        raise TrackerError(message("ka.err.commune_needed"))
    if has_districts:
        unit_geom, unit_name = district_geometry(communes, district_code)
    else:
        unit_geom, unit_name = row.geometry.iloc[0], str(row["commune_name"].iloc[0])
    if geometry is None:
        if not commune_code:
            raise TrackerError(message("ka.err.shape_needed"))
        return row.geometry.iloc[0], "commune"
    try:
        return check_area_geometry(geometry, unit_geom, district_label=unit_name), None
    except GeoInputError as e:
        raise TrackerError(message("ka.err.refused", reason=e)) from None


def _set_for(session, day: date, communes=None):
    """The boundary set in force on ``day`` and its communes (a given frame of that set is reused)."""
    from store.boundaries import UnknownBoundarySet, communes_frame, get_boundary_set

    try:
        row = get_boundary_set(session, on=day)
    except UnknownBoundarySet as e:
        raise TrackerError(message("ka.err.refused", reason=e)) from None
    if communes is None or communes.attrs.get("version", row.version) != row.version:
        communes = communes_frame(session, row.version)
    return row, communes


# --- writes -------------------------------------------------------------------------------------------------
def create_key_area(session, actor, *, name, kind, district_code, year_selected, complexity_types, decision_number,
                    decision_date=None, commune_code=None, geometry=None, geometry_source="drawn", notes="",
                    is_demo=False, communes=None, status=SELECTED, expected_set: str | None = None) -> KeyArea:
    """Create an area (status *selected*) with its first timeline event and an audit row.

    The area is recorded on the boundary set in force on its decision date (or 1 January of the year
    selected); ``expected_set`` (the set a form showed its communes from) must be that set, because a
    commune code of one set may name another commune in the other.

    ``geometry`` (shapely, EPSG:4326) defaults to the commune's shape; ``communes`` defaults to the active
    boundary set (:func:`store.boundaries.communes_frame`).
    """
    from store.boundaries import communes_frame

    name = _text(name, message("ka.field.area_name"))
    if not isinstance(kind, str) or kind not in KINDS:
        raise TrackerError(message("ka.err.bad_kind_choose", kind=kind,
                                   choices=(", ".join(label(KINDS, k) for k in KINDS),
                                            ", ".join(label(KINDS, k, "en") for k in KINDS))))
    types = _complexity_types(complexity_types)
    if not types:
        raise TrackerError(message("ka.err.types_needed"))
    unknown = [t for t in types if t not in COMPLEXITY_TYPES]
    if unknown:
        raise TrackerError(message("ka.err.unknown_types", types=", ".join(unknown)))
    try:
        year = int(year_selected)
    except (TypeError, ValueError):
        raise TrackerError(message("ka.err.bad_year", year=str(year_selected))) from None
    if not 2010 <= year <= date.today().year + 1:
        raise TrackerError(message("ka.err.year_range", year=str(year), last=str(date.today().year + 1)))
    decision_number = _text(decision_number, message("ka.field.decision_number"), max_len=80)
    decision_day = parse_date(decision_date, message("ka.field.decision_date")) if decision_date else None
    commune_code = (commune_code or None) and str(commune_code)
    set_row, communes = _set_for(session, decision_day or date(year, 1, 1), communes)
    if expected_set and expected_set != set_row.version:
        raise TrackerError(message("ka.err.set_mismatch", day=decision_day or date(year, 1, 1), version=set_row.version,
                                   expected=expected_set))
    if not communes.attrs.get("has_districts", True):
        district_code = ""
    _require_edit(actor, district_code, commune_code, set_row.id)
    shape, source = _resolve_geometry(communes, district_code, commune_code, geometry)
    area = KeyArea(name=name, kind=kind, district_code=district_code or "", commune_code=commune_code,
                   boundary_set_id=set_row.id, year_selected=year,
                   complexity_types=json.dumps(types), decision_number=decision_number, decision_date=decision_day,
                   geometry=shapely.to_geojson(shape), geometry_source=source or geometry_source, status=status,
                   status_date=decision_day, notes=_text(notes, message("ka.field.notes"), required=False, max_len=4000),
                   is_demo=is_demo, created_by=actor.username, updated_by=actor.username)
    session.add(area)
    session.flush()
    session.add(KeyAreaEvent(key_area_id=area.id, from_status=None, to_status=status,
                             event_date=decision_day or date(year, 1, 1), reason="Lựa chọn địa bàn",
                             document_number=decision_number, username=actor.username))
    audit.record(session, username=actor.username, action="key_area.create", entity="key_area", entity_id=area.id,
                 after=area_snapshot(area))
    bump_data_version(session, "key_areas")
    return area


def reselect_key_area(session, actor, area_id, *, year_selected, decision_number, decision_date=None,
                      reason="", communes=None) -> KeyArea:
    """Select a relapsed area again in a later year: a new cycle (status *selected*, its own timeline and
    evaluation in that year's targets) linked to the cycle that relapsed, whose record stays as it was.

    The earlier cycle must be *relapsed*, the new year later than its year, and the area not selected again
    already (one new cycle per relapse).
    """
    area = get_key_area(session, actor, area_id)
    _require_edit(actor, area.district_code)
    if area.status != RELAPSED:
        raise InvalidTransition(message("ka.err.reselect_relapsed_only", name=area.name,
                                        status=STATUS_LABELS.get(area.status, (area.status, area.status))))
    try:
        year = int(year_selected)
    except (TypeError, ValueError):
        raise TrackerError(message("ka.err.bad_year", year=str(year_selected))) from None
    if year <= area.year_selected:
        raise TrackerError(message("ka.err.reselect_year", previous=str(area.year_selected), year=str(year)))
    later = session.scalar(select(KeyArea).where(KeyArea.previous_cycle_id == area.id))
    if later is not None:
        raise ConflictError(message("ka.err.already_reselected", year=str(later.year_selected), id=str(later.id)))
    shape = shapely.from_geojson(area.geometry)
    cycle = create_key_area(session, actor, name=area.name, kind=area.kind, district_code=area.district_code,
                            year_selected=year, complexity_types=area.types, decision_number=decision_number,
                            decision_date=decision_date, commune_code=area.commune_code, geometry=shape,
                            geometry_source=area.geometry_source, notes=area.notes, is_demo=area.is_demo,
                            communes=communes)
    cycle.previous_cycle_id = area.id
    cycle.geometry_source = area.geometry_source
    session.flush()
    audit.record(session, username=actor.username, action="key_area.reselect", entity="key_area",
                 entity_id=cycle.id, after=area_snapshot(cycle),
                 reason=reason or f"Lựa chọn lại sau tái phức tạp (chu kỳ trước: số {area.id}, năm {area.year_selected})")
    bump_data_version(session, "key_areas")
    return cycle


def cycles(session, area: KeyArea) -> list[KeyArea]:
    """Every cycle of an area, earliest first (itself included): the chain of re-selections after relapses."""
    chain = [area]
    seen = {area.id}
    current = area
    while current.previous_cycle_id and current.previous_cycle_id not in seen:
        current = session.get(KeyArea, current.previous_cycle_id)
        if current is None:
            break
        chain.insert(0, current)
        seen.add(current.id)
    current = area
    while True:
        following = session.scalar(select(KeyArea).where(KeyArea.previous_cycle_id == current.id))
        if following is None or following.id in seen:
            break
        chain.append(following)
        seen.add(following.id)
        current = following
    return chain


EDITABLE_FIELDS = ("name", "kind", "complexity_types", "decision_number", "decision_date", "notes")


def update_key_area(session, actor, area_id, *, expected_version, changes: Mapping, reason="",
                    geometry=None, communes=None) -> KeyArea:
    """Edit descriptive fields (and optionally the shape) of an area the actor may edit."""
    from store.boundaries import communes_frame

    area = get_key_area(session, actor, area_id)
    _require_edit(actor, area)
    _check_version(area, expected_version, message("ka.what.area", name=area.name))
    before = area_snapshot(area)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TrackerError(message("ka.err.not_editable", fields=", ".join(unknown)))
    if "name" in changes:
        area.name = _text(changes["name"], message("ka.field.area_name"))
    if "kind" in changes:
        if not isinstance(changes["kind"], str) or changes["kind"] not in KINDS:
            raise TrackerError(message("ka.err.bad_kind", kind=str(changes["kind"])))
        area.kind = changes["kind"]
    if "complexity_types" in changes:
        types = _complexity_types(changes["complexity_types"])
        if not types or any(t not in COMPLEXITY_TYPES for t in types):
            raise TrackerError(message("ka.err.one_valid_type"))
        area.complexity_types = json.dumps(types)
    if "decision_number" in changes:
        area.decision_number = _text(changes["decision_number"], message("ka.field.decision_number"), max_len=80)
    if "decision_date" in changes:
        area.decision_date = parse_date(changes["decision_date"], message("ka.field.decision_date")) if changes["decision_date"] else None
    if "notes" in changes:
        area.notes = _text(changes["notes"], message("ka.field.notes"), required=False, max_len=4000)
    if geometry is not None:
        from store.boundaries import communes_of_record

        own = communes_of_record(session, area.boundary_set_id)
        communes = communes if communes is not None and communes.attrs.get("version") == own.attrs.get("version") else own
        commune = area.commune_code if not communes.attrs.get("has_districts", True) else None
        shape, _ = _resolve_geometry(communes, area.district_code, commune, geometry)
        area.geometry = shapely.to_geojson(shape)
        area.geometry_source = "drawn"
    after = area_snapshot(area)
    if {k: v for k, v in after.items() if k not in ("version",)} == {k: v for k, v in before.items() if k != "version"} \
            and geometry is None:
        return area
    area.updated_by = actor.username
    area.updated_at = utcnow()
    _flush(session, message("ka.what.area", name=area.name))
    audit.record(session, username=actor.username, action="key_area.update", entity="key_area", entity_id=area.id,
                 before=before, after=area_snapshot(area), reason=reason)
    bump_data_version(session, "key_areas")
    return area


def _apply_transition(session, actor, area, to_status, when, reason, document_number, *, proposal=None,
                      approved_by=""):
    before = area_snapshot(area)
    event = KeyAreaEvent(key_area_id=area.id, from_status=area.status, to_status=to_status, event_date=when,
                         reason=reason, document_number=document_number,
                         username=proposal.proposed_by if proposal else actor.username, approved_by=approved_by,
                         proposal_id=proposal.id if proposal else None)
    area.status = to_status
    area.status_date = when
    area.updated_by = actor.username
    area.updated_at = utcnow()
    _flush(session, message("ka.what.area", name=area.name))
    session.add(event)
    audit.record(session, username=actor.username, action="key_area.transition", entity="key_area",
                 entity_id=area.id, before=before, after=area_snapshot(area), reason=reason)
    bump_data_version(session, "key_areas")
    return event


def transition_key_area(session, actor, area_id, *, expected_version, to_status, event_date, reason,
                        document_number) -> KeyAreaEvent:
    """Record a status change directly (province roles only: a province-level decision)."""
    area = get_key_area(session, actor, area_id)
    _require_province(actor)
    _check_version(area, expected_version, message("ka.what.area", name=area.name))
    check_transition(area.status, to_status)
    when = _event_date(event_date, area)
    reason = _text(reason, message("ka.field.reason"), max_len=4000)
    document_number = _text(document_number, message("ka.field.document_number"), max_len=80)
    if pending_proposal(session, area.id) is not None:
        raise TrackerError(message("ka.err.pending_first"))
    return _apply_transition(session, actor, area, to_status, when, reason, document_number)


def propose_transition(session, actor, area_id, *, expected_version, to_status, event_date, reason,
                       document_number) -> KeyAreaProposal:
    """A district committee (or province role) proposes a status change; nothing changes until approved."""
    area = get_key_area(session, actor, area_id)
    _require_edit(actor, area)
    _check_version(area, expected_version, message("ka.what.area", name=area.name))
    check_transition(area.status, to_status)
    when = _event_date(event_date, area)
    reason = _text(reason, message("ka.field.reason"), max_len=4000)
    document_number = _text(document_number, message("ka.field.document_number"), max_len=80)
    if pending_proposal(session, area.id) is not None:
        raise ConflictError(message("ka.err.pending_exists"))
    proposal = KeyAreaProposal(key_area_id=area.id, from_status=area.status, to_status=to_status, event_date=when,
                               reason=reason, document_number=document_number, proposed_by=actor.username)
    session.add(proposal)
    session.flush()
    audit.record(session, username=actor.username, action="key_area.propose", entity="key_area_proposal",
                 entity_id=proposal.id, after=proposal_snapshot(proposal), reason=reason)
    bump_data_version(session, "key_areas")  # pending proposals are drawn on the map
    return proposal


def decide_proposal(session, actor, proposal_id, *, expected_version, approve: bool, note="") -> KeyAreaProposal:
    """Approve (apply the transition) or reject a pending proposal; the maker may not check their own."""
    _require_province(actor)
    proposal = session.get(KeyAreaProposal, int(proposal_id)) if str(proposal_id).isdigit() else None
    if proposal is None:
        raise NotFound(message("ka.err.proposal_not_found"))
    _check_version(proposal, expected_version, message("ka.what.proposal"))
    if proposal.state != PENDING:
        raise ConflictError(message("ka.err.proposal_decided",
                                    state=PROPOSAL_STATES.get(proposal.state, (proposal.state, proposal.state)),
                                    by=proposal.decided_by or ""))
    if proposal.proposed_by == actor.username:
        raise PermissionDenied(message("ka.err.four_eyes"))
    note = _text(note, message("ka.field.opinion"), required=not approve, max_len=4000)
    before = proposal_snapshot(proposal)
    area = session.get(KeyArea, proposal.key_area_id)
    if approve:
        if area.status != proposal.from_status:
            raise ConflictError(message("ka.err.status_changed",
                                        status=STATUS_LABELS.get(area.status, (area.status, area.status))))
        check_transition(area.status, proposal.to_status)
    proposal.state = APPROVED if approve else REJECTED
    proposal.decided_by = actor.username
    proposal.decided_at = utcnow()
    proposal.decision_note = note
    _flush(session, message("ka.what.proposal"))
    audit.record(session, username=actor.username, action="key_area.approve" if approve else "key_area.reject",
                 entity="key_area_proposal", entity_id=proposal.id, before=before, after=proposal_snapshot(proposal),
                 reason=note)
    if approve:
        _apply_transition(session, actor, area, proposal.to_status, proposal.event_date, proposal.reason,
                          proposal.document_number, proposal=proposal, approved_by=actor.username)
    else:
        bump_data_version(session, "key_areas")
    return proposal


# --- reads --------------------------------------------------------------------------------------------------
def get_key_area(session, viewer, area_id) -> KeyArea:
    area = session.get(KeyArea, int(area_id)) if str(area_id).isdigit() else None
    if area is None or not may_view(viewer, area):
        raise NotFound(message("ka.err.area_not_found"))
    return area


def list_key_areas(session, viewer, *, year=None, district_code=None, status=None) -> list[KeyArea]:
    query = select(KeyArea)
    if viewer is not None:
        query = query.where(scope.scope_clause(viewer, KeyArea))
    if year:
        query = query.where(KeyArea.year_selected == int(year))
    if district_code:
        query = query.where(KeyArea.district_code == district_code)
    if status:
        query = query.where(KeyArea.status == status)
    return list(session.scalars(query.order_by(KeyArea.year_selected.desc(), KeyArea.district_code, KeyArea.name)))


def key_area_records(session, viewer=None, *, year=None, district_code=None, as_of: date | None = None) -> list[dict]:
    """Plain records (``id``, ``year_selected``, ``district_code``, ``status``, …) for :func:`conversion_table`.

    ``as_of`` gives each area the status in force on that day, read from its timeline
    (:func:`geo.periods.status_on`); areas not yet selected then are left out. A report of a period reads
    its period's end, so regenerating it after a later change gives the same figures.
    """
    areas = list_key_areas(session, viewer, year=year, district_code=district_code)
    if as_of is None:
        return [area_snapshot(a) for a in areas]
    in_force = statuses_as_of(session, [a.id for a in areas], as_of)
    out = []
    for area in areas:
        if area.id in in_force:
            record = area_snapshot(area)
            record["status"], record["status_date"] = in_force[area.id]
            out.append(record)
    return out


def statuses_as_of(session, area_ids, day: date) -> dict[int, tuple[str, str]]:
    """``{area id: (status, date of that status)}`` in force on ``day``, from the timelines."""
    from geo.periods import status_on

    if not area_ids:
        return {}
    rows = session.execute(select(KeyAreaEvent.key_area_id, KeyAreaEvent.event_date, KeyAreaEvent.id,
                                  KeyAreaEvent.to_status).where(KeyAreaEvent.key_area_id.in_(list(area_ids)))).all()
    statuses = status_on([(r[0], r[1], r[2], r[3]) for r in rows], day)
    dates = status_on([(r[0], r[1], r[2], r[1].isoformat()) for r in rows], day)
    return {area: (statuses[area], dates[area]) for area in statuses}


def pending_proposal(session, area_id) -> KeyAreaProposal | None:
    return session.scalar(select(KeyAreaProposal).where(KeyAreaProposal.key_area_id == area_id,
                                                        KeyAreaProposal.state == PENDING))


def proposals(session, viewer, *, state=None, area_id=None) -> list[KeyAreaProposal]:
    query = select(KeyAreaProposal).join(KeyArea, KeyArea.id == KeyAreaProposal.key_area_id)
    if viewer is not None:
        query = query.where(scope.scope_clause(viewer, KeyArea))
    if state:
        query = query.where(KeyAreaProposal.state == state)
    if area_id is not None:
        query = query.where(KeyAreaProposal.key_area_id == area_id)
    return list(session.scalars(query.order_by(KeyAreaProposal.proposed_at.desc(), KeyAreaProposal.id.desc())))


def timeline(session, area_id) -> list[KeyAreaEvent]:
    return list(session.scalars(select(KeyAreaEvent).where(KeyAreaEvent.key_area_id == area_id)
                                .order_by(KeyAreaEvent.event_date, KeyAreaEvent.id)))


def area_years(session) -> list[int]:
    return sorted(set(session.scalars(select(KeyArea.year_selected))), reverse=True)


def area_features(session, viewer, *, year=None, district_code=None, status=None, communes=None,
                  as_of: date | None = None, lang: str = "vi") -> list[dict]:
    """GeoJSON features of visible areas with status, pending proposal and names (raw, unescaped text).

    Names come from the boundary set each area was recorded in (codes are reused across the reform, so the
    current set's name of the same code may be another commune's); ``boundary_set`` names that set.
    ``as_of``: the status in force on that day (timelines), without pending proposals, for reports.
    ``lang``: the language of the ``*_label`` properties.
    """
    from store.boundaries import communes_of_record

    areas = list_key_areas(session, viewer, year=year, district_code=district_code, status=status)
    pending = {p.key_area_id: p for p in proposals(session, viewer, state=PENDING)} if as_of is None else {}
    in_force = statuses_as_of(session, [a.id for a in areas], as_of) if as_of is not None else None
    names_by_set: dict = {}
    features = []
    for area in areas:
        if area.boundary_set_id not in names_by_set:
            own = communes_of_record(session, area.boundary_set_id)
            names_by_set[area.boundary_set_id] = (
                own.attrs.get("version"), dict(zip(own["district_code"], own["district_name"])),
                dict(zip(own["commune_code"], own["commune_name"])))
        set_key, names, commune_names = names_by_set[area.boundary_set_id]
        props = area_snapshot(area)
        if in_force is not None:
            if area.id not in in_force:
                continue  # not yet selected on that day
            props["status"], props["status_date"] = in_force[area.id]
        props["status_label"] = label(STATUS_LABELS, props["status"], lang)
        props["kind_label"] = label(KINDS, area.kind, lang)
        props["types_label"] = ", ".join(label(COMPLEXITY_TYPES, t, lang) for t in area.types)
        props["district_name"] = names.get(area.district_code, area.district_code) if area.district_code else ""
        props["commune_name"] = commune_names.get(area.commune_code, "") if area.commune_code else ""
        props["boundary_set"] = set_key
        p = pending.get(area.id)
        props["pending_to"] = p.to_status if p else None
        props["pending_label"] = label(STATUS_LABELS, p.to_status, lang) if p else ""
        props["pending_by"] = p.proposed_by if p else ""
        features.append({"type": "Feature", "id": area.id, "geometry": json.loads(area.geometry), "properties": props})
    return features
