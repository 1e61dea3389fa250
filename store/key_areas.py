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

from store import audit
from store.meta import bump_data_version
from store.models import Base, utcnow

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
STATUS_COLORS = {SELECTED: "#6b7280", CONVERTING: "#2563eb", ACHIEVED: "#15803d", NOT_ACHIEVED: "#b45309",
                 RELAPSED: "#b91c1c"}
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
class TrackerError(ValueError):
    """A refused change; ``status`` is the HTTP status the web layer answers with."""

    status = 400


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
def label(pair_table: Mapping, code: str) -> str:
    return pair_table.get(code, (code, code))[0]


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def check_transition(from_status: str, to_status: str) -> None:
    """Refuse a transition the lifecycle does not allow, saying which ones it does."""
    if to_status not in STATUSES:
        raise InvalidTransition(f"Trạng thái “{to_status}” không tồn tại; các trạng thái: "
                                + ", ".join(label(STATUS_LABELS, s) for s in STATUSES) + ".")
    allowed = allowed_transitions(from_status)
    if to_status not in allowed:
        options = ", ".join(f"“{label(STATUS_LABELS, s)}”" for s in allowed) or "không có (trạng thái cuối)"
        raise InvalidTransition(
            f"Không thể chuyển từ “{label(STATUS_LABELS, from_status)}” sang “{label(STATUS_LABELS, to_status)}”. "
            f"Từ “{label(STATUS_LABELS, from_status)}” chỉ được chuyển sang: {options}. Không có thay đổi nào được lưu."
        )


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
            by_district.setdefault(str(rec["district_code"]), []).append(rec["status"])
    table = {code: conversion_shares(statuses, **targets) for code, statuses in sorted(by_district.items())}
    table["province"] = conversion_shares([s for ss in by_district.values() for s in ss], **targets)
    return table


# --- permissions --------------------------------------------------------------------------------------------
def may_edit(actor, district_code: str | None) -> bool:
    if actor.role in PROVINCE_ROLES:
        return True
    return actor.role == "district" and district_code is not None and actor.district_code == district_code


def may_view(actor, district_code: str | None) -> bool:
    """District committees read their own district; province roles and border guards read all."""
    if actor.role == "district":
        return actor.district_code == district_code
    return True


def _require_edit(actor, district_code):
    if not may_edit(actor, district_code):
        raise PermissionDenied("Bạn không có quyền sửa địa bàn của huyện/thành phố này.")


def _require_province(actor):
    if actor.role not in PROVINCE_ROLES:
        raise PermissionDenied("Chỉ cán bộ tham mưu cấp tỉnh được duyệt hoặc ghi nhận trực tiếp thay đổi trạng thái.")


# --- snapshots ----------------------------------------------------------------------------------------------
def area_snapshot(area: KeyArea) -> dict:
    return {
        "id": area.id, "name": area.name, "kind": area.kind, "district_code": area.district_code,
        "commune_code": area.commune_code, "year_selected": area.year_selected, "complexity_types": area.types,
        "decision_number": area.decision_number,
        "decision_date": area.decision_date.isoformat() if area.decision_date else None,
        "geometry_source": area.geometry_source, "status": area.status,
        "status_date": area.status_date.isoformat() if area.status_date else None, "notes": area.notes,
        "is_demo": bool(area.is_demo), "version": area.version, "updated_by": area.updated_by,
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
        raise TrackerError(f"{field_label} “{value}” không phải ngày hợp lệ (dạng YYYY-MM-DD).") from None


def _text(value, field_label: str, *, required: bool = True, max_len: int = 200) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise TrackerError(f"Thiếu {field_label}.")
    if len(text) > max_len:
        raise TrackerError(f"{field_label} dài quá {max_len} ký tự.")
    return text


def _check_version(row, expected_version, what: str) -> None:
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ConflictError(f"Thiếu phiên bản của {what}; tải lại trang rồi thao tác lại.") from None
    if row.version != expected:
        raise ConflictError(
            f"Xung đột: {what} vừa được {getattr(row, 'updated_by', '') or getattr(row, 'decided_by', '') or 'người khác'} "
            f"cập nhật (phiên bản {row.version}, bạn đang sửa phiên bản {expected}). "
            "Thay đổi của bạn chưa được lưu; hãy tải lại trang để xem bản mới rồi thao tác lại."
        )


def _flush(session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"Xung đột: {what} vừa được người khác cập nhật; thay đổi của bạn chưa được lưu. "
                            "Hãy tải lại trang rồi thao tác lại.") from None


def _event_date(value, area: KeyArea) -> date:
    when = parse_date(value, "Ngày")
    if when > date.today():
        raise TrackerError(f"Ngày {when.isoformat()} ở tương lai; chỉ ghi nhận việc đã xảy ra.")
    if area.decision_date and when < area.decision_date:
        raise TrackerError(f"Ngày {when.isoformat()} trước ngày quyết định lựa chọn ({area.decision_date.isoformat()}).")
    return when


def district_geometry(communes, district_code: str):
    part = communes[communes["district_code"] == district_code]
    if part.empty:
        raise TrackerError(f"Mã huyện “{district_code}” không có trong ranh giới đang dùng.")
    return shapely.union_all(part.geometry.values), str(part["district_name"].iloc[0])


def _resolve_geometry(communes, district_code, commune_code, geometry):
    """The area's shape: the commune's own when none is given, else the given one checked against the district."""
    from geo.errors import GeoInputError
    from geo.key_area_geometry import check_area_geometry

    if commune_code:
        row = communes[communes["commune_code"] == commune_code]
        if row.empty:
            raise TrackerError(f"Mã xã “{commune_code}” không có trong ranh giới đang dùng.")
        if row["district_code"].iloc[0] != district_code:
            raise TrackerError(f"Xã “{row['commune_name'].iloc[0]}” không thuộc huyện {district_code}.")
    district_geom, district_name = district_geometry(communes, district_code)
    if geometry is None:
        if not commune_code:
            raise TrackerError("Cần chọn một xã hoặc vẽ/tải lên hình của địa bàn.")
        return row.geometry.iloc[0], "commune"
    try:
        return check_area_geometry(geometry, district_geom, district_label=district_name), None
    except GeoInputError as e:
        raise TrackerError(str(e)) from None


# --- writes -------------------------------------------------------------------------------------------------
def create_key_area(session, actor, *, name, kind, district_code, year_selected, complexity_types, decision_number,
                    decision_date=None, commune_code=None, geometry=None, geometry_source="drawn", notes="",
                    is_demo=False, communes=None, status=SELECTED) -> KeyArea:
    """Create an area (status *selected*) with its first timeline event and an audit row.

    ``geometry`` (shapely, EPSG:4326) defaults to the commune's shape; ``communes`` defaults to the active
    boundary set (:func:`store.boundaries.communes_frame`).
    """
    from store.boundaries import communes_frame

    _require_edit(actor, district_code)
    name = _text(name, "tên địa bàn")
    if kind not in KINDS:
        raise TrackerError(f"Loại địa bàn “{kind}” không hợp lệ; chọn: {', '.join(label(KINDS, k) for k in KINDS)}.")
    types = list(dict.fromkeys(complexity_types or []))
    if not types:
        raise TrackerError("Cần chọn ít nhất một loại phức tạp (ma túy, cờ bạc, trộm cắp, …).")
    unknown = [t for t in types if t not in COMPLEXITY_TYPES]
    if unknown:
        raise TrackerError(f"Loại phức tạp không hợp lệ: {', '.join(unknown)}.")
    try:
        year = int(year_selected)
    except (TypeError, ValueError):
        raise TrackerError(f"Năm lựa chọn “{year_selected}” không hợp lệ.") from None
    if not 2010 <= year <= date.today().year + 1:
        raise TrackerError(f"Năm lựa chọn {year} nằm ngoài 2010–{date.today().year + 1}.")
    decision_number = _text(decision_number, "số quyết định lựa chọn", max_len=80)
    decision_day = parse_date(decision_date, "Ngày quyết định") if decision_date else None
    commune_code = (commune_code or None) and str(commune_code)
    communes = communes if communes is not None else communes_frame(session)
    shape, source = _resolve_geometry(communes, district_code, commune_code, geometry)
    area = KeyArea(name=name, kind=kind, district_code=district_code, commune_code=commune_code, year_selected=year,
                   complexity_types=json.dumps(types), decision_number=decision_number, decision_date=decision_day,
                   geometry=shapely.to_geojson(shape), geometry_source=source or geometry_source, status=status,
                   status_date=decision_day, notes=_text(notes, "ghi chú", required=False, max_len=4000),
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


EDITABLE_FIELDS = ("name", "kind", "complexity_types", "decision_number", "decision_date", "notes")


def update_key_area(session, actor, area_id, *, expected_version, changes: Mapping, reason="",
                    geometry=None, communes=None) -> KeyArea:
    """Edit descriptive fields (and optionally the shape) of an area the actor may edit."""
    from store.boundaries import communes_frame

    area = get_key_area(session, actor, area_id)
    _require_edit(actor, area.district_code)
    _check_version(area, expected_version, f"địa bàn “{area.name}”")
    before = area_snapshot(area)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TrackerError(f"Không sửa được trường: {', '.join(unknown)}.")
    if "name" in changes:
        area.name = _text(changes["name"], "tên địa bàn")
    if "kind" in changes:
        if changes["kind"] not in KINDS:
            raise TrackerError(f"Loại địa bàn “{changes['kind']}” không hợp lệ.")
        area.kind = changes["kind"]
    if "complexity_types" in changes:
        types = list(dict.fromkeys(changes["complexity_types"] or []))
        if not types or any(t not in COMPLEXITY_TYPES for t in types):
            raise TrackerError("Cần chọn ít nhất một loại phức tạp hợp lệ.")
        area.complexity_types = json.dumps(types)
    if "decision_number" in changes:
        area.decision_number = _text(changes["decision_number"], "số quyết định lựa chọn", max_len=80)
    if "decision_date" in changes:
        area.decision_date = parse_date(changes["decision_date"], "Ngày quyết định") if changes["decision_date"] else None
    if "notes" in changes:
        area.notes = _text(changes["notes"], "ghi chú", required=False, max_len=4000)
    if geometry is not None:
        communes = communes if communes is not None else communes_frame(session)
        shape, _ = _resolve_geometry(communes, area.district_code, None, geometry)
        area.geometry = shapely.to_geojson(shape)
        area.geometry_source = "drawn"
    after = area_snapshot(area)
    if {k: v for k, v in after.items() if k not in ("version",)} == {k: v for k, v in before.items() if k != "version"} \
            and geometry is None:
        return area
    area.updated_by = actor.username
    area.updated_at = utcnow()
    _flush(session, f"địa bàn “{area.name}”")
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
    _flush(session, f"địa bàn “{area.name}”")
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
    _check_version(area, expected_version, f"địa bàn “{area.name}”")
    check_transition(area.status, to_status)
    when = _event_date(event_date, area)
    reason = _text(reason, "lý do", max_len=4000)
    document_number = _text(document_number, "số văn bản", max_len=80)
    if pending_proposal(session, area.id) is not None:
        raise TrackerError("Địa bàn đang có đề xuất chờ duyệt; hãy duyệt hoặc từ chối đề xuất đó trước.")
    return _apply_transition(session, actor, area, to_status, when, reason, document_number)


def propose_transition(session, actor, area_id, *, expected_version, to_status, event_date, reason,
                       document_number) -> KeyAreaProposal:
    """A district committee (or province role) proposes a status change; nothing changes until approved."""
    area = get_key_area(session, actor, area_id)
    _require_edit(actor, area.district_code)
    _check_version(area, expected_version, f"địa bàn “{area.name}”")
    check_transition(area.status, to_status)
    when = _event_date(event_date, area)
    reason = _text(reason, "lý do", max_len=4000)
    document_number = _text(document_number, "số văn bản", max_len=80)
    if pending_proposal(session, area.id) is not None:
        raise ConflictError("Địa bàn đã có một đề xuất đang chờ duyệt; chờ tỉnh duyệt hoặc từ chối trước khi đề xuất tiếp.")
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
        raise NotFound("Không tìm thấy đề xuất.")
    _check_version(proposal, expected_version, "đề xuất")
    if proposal.state != PENDING:
        raise ConflictError(f"Đề xuất đã được xử lý ({label(PROPOSAL_STATES, proposal.state)} bởi "
                            f"{proposal.decided_by}); không thể xử lý lại.")
    if proposal.proposed_by == actor.username:
        raise PermissionDenied("Người đề xuất không được tự duyệt đề xuất của mình (nguyên tắc hai người).")
    note = _text(note, "ý kiến", required=not approve, max_len=4000)
    before = proposal_snapshot(proposal)
    area = session.get(KeyArea, proposal.key_area_id)
    if approve:
        if area.status != proposal.from_status:
            raise ConflictError(f"Trạng thái địa bàn đã đổi thành “{label(STATUS_LABELS, area.status)}” sau khi đề xuất; "
                                "hãy từ chối đề xuất này.")
        check_transition(area.status, proposal.to_status)
    proposal.state = APPROVED if approve else REJECTED
    proposal.decided_by = actor.username
    proposal.decided_at = utcnow()
    proposal.decision_note = note
    _flush(session, "đề xuất")
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
    if area is None or not may_view(viewer, area.district_code):
        raise NotFound("Không tìm thấy địa bàn (hoặc địa bàn không thuộc huyện của bạn).")
    return area


def list_key_areas(session, viewer, *, year=None, district_code=None, status=None) -> list[KeyArea]:
    query = select(KeyArea)
    if viewer is not None and viewer.role == "district":
        query = query.where(KeyArea.district_code == viewer.district_code)
    if year:
        query = query.where(KeyArea.year_selected == int(year))
    if district_code:
        query = query.where(KeyArea.district_code == district_code)
    if status:
        query = query.where(KeyArea.status == status)
    return list(session.scalars(query.order_by(KeyArea.year_selected.desc(), KeyArea.district_code, KeyArea.name)))


def key_area_records(session, viewer=None, *, year=None, district_code=None) -> list[dict]:
    """Plain records (``id``, ``year_selected``, ``district_code``, ``status``, …) for :func:`conversion_table`."""
    return [area_snapshot(a) for a in list_key_areas(session, viewer, year=year, district_code=district_code)]


def pending_proposal(session, area_id) -> KeyAreaProposal | None:
    return session.scalar(select(KeyAreaProposal).where(KeyAreaProposal.key_area_id == area_id,
                                                        KeyAreaProposal.state == PENDING))


def proposals(session, viewer, *, state=None, area_id=None) -> list[KeyAreaProposal]:
    query = select(KeyAreaProposal).join(KeyArea, KeyArea.id == KeyAreaProposal.key_area_id)
    if viewer is not None and viewer.role == "district":
        query = query.where(KeyArea.district_code == viewer.district_code)
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


def area_features(session, viewer, *, year=None, district_code=None, status=None, communes=None) -> list[dict]:
    """GeoJSON features of visible areas with status, pending proposal and names (raw, unescaped text)."""
    from store.boundaries import communes_frame

    communes = communes if communes is not None else communes_frame(session)
    names = dict(zip(communes["district_code"], communes["district_name"])) if len(communes) else {}
    commune_names = dict(zip(communes["commune_code"], communes["commune_name"])) if len(communes) else {}
    areas = list_key_areas(session, viewer, year=year, district_code=district_code, status=status)
    pending = {p.key_area_id: p for p in proposals(session, viewer, state=PENDING)}
    features = []
    for area in areas:
        props = area_snapshot(area)
        props["status_label"] = label(STATUS_LABELS, area.status)
        props["kind_label"] = label(KINDS, area.kind)
        props["types_label"] = ", ".join(label(COMPLEXITY_TYPES, t) for t in area.types)
        props["district_name"] = names.get(area.district_code, area.district_code)
        props["commune_name"] = commune_names.get(area.commune_code, "") if area.commune_code else ""
        p = pending.get(area.id)
        props["pending_to"] = p.to_status if p else None
        props["pending_label"] = label(STATUS_LABELS, p.to_status) if p else ""
        props["pending_by"] = p.proposed_by if p else ""
        features.append({"type": "Feature", "id": area.id, "geometry": json.loads(area.geometry), "properties": props})
    return features
