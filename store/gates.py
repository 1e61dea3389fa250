"""Border gates and crossings on the Prey Veng border: stored points an administrator adds, moves and removes.

The shared data place four of the seven gates the province lists (DOMAIN.md §5), all approximately
(data/boundaries PROVENANCE.md §4). They are seeded once from ``border_gates.geojson``; the other three are
seeded without a position ("chưa có tọa độ") so an administrator can place them. After the seed the table is
the reference: deleting every gate does not bring the file back.

Every change is audited in the same transaction (:func:`store.audit.record`) and bumps the data version (the
maps change). ``version`` is SQLAlchemy's optimistic-concurrency column: an edit names the version it was
made on, and an edit made on an older version is refused (:class:`GateConflict`) instead of silently
overwriting a colleague's move.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from geo.corridor_geometry import GATE_CLASS_LABELS, GATE_CLASS_LABELS_VI, GATE_CLASSES, read_border_gates
from geo.crs import METRIC_CRS, lonlat_to_metric
from store.audit import record
from store.meta import bump_data_version
from store.models import Base, Meta, utcnow

GATES_FILE = "boundaries/border_gates.geojson"
SEEDED_KEY = "border_gates_seeded"
GATE_CLASS_LABELS_EN = {code: GATE_CLASS_LABELS[code][1] for code in GATE_CLASSES}

#: A gate may lie on the Cambodian side of the line by at most this much (digitising offsets between the
#: Vietnamese and Cambodian outlines reach 286 m, PROVENANCE.md §3; a gate area straddles the line).
BORDER_TOLERANCE_M = 500.0
#: ... and inside the province at most this far from the line (a gate sits on the border; the widest
#: gate economic zones of the province reach a few km inland).
MAX_INLAND_M = 10_000.0

#: Gates the province lists (baodongthap.vn 2025, DOMAIN.md §5) that have no position in the shared data.
UNPLACED_GATES = (
    {"name": "Cửa khẩu Mộc Rá", "gate_class": "secondary", "commune_name": "", "district_name": "Huyện Tân Hồng"},
    {"name": "Cửa khẩu Á Đôn", "gate_class": "secondary", "commune_name": "", "district_name": "Huyện Tân Hồng"},
    {"name": "Cửa khẩu Bình Phú", "gate_class": "secondary", "commune_name": "Xã Bình Phú",
     "district_name": "Huyện Tân Hồng"},
)
UNPLACED_SOURCE = "baodongthap.vn (2025), DOMAIN.md §5: bảy cửa khẩu; chưa có tọa độ trong dữ liệu dùng chung"

EDITABLE_FIELDS = ("name", "gate_class", "mode", "counterpart_kh", "commune_code", "commune_name", "lon", "lat",
                   "approximate", "uncertainty_m", "source", "note")


class BorderGate(Base):
    """One border gate or crossing; ``lon``/``lat`` are NULL until an administrator places it."""

    __tablename__ = "border_gates"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    gate_class: Mapped[str] = mapped_column(String(20))  # international / main / secondary
    mode: Mapped[str] = mapped_column(String(80), default="")
    counterpart_kh: Mapped[str] = mapped_column(String(160), default="")
    commune_code: Mapped[str] = mapped_column(String(10), default="")
    commune_name: Mapped[str] = mapped_column(String(120), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    approximate: Mapped[bool] = mapped_column(Boolean, default=True)
    uncertainty_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")

    __mapper_args__ = {"version_id_col": version}

    @property
    def placed(self) -> bool:
        return self.lon is not None and self.lat is not None

    def as_dict(self) -> dict:
        """The audited view of the row (everything an administrator can change, plus id and version)."""
        out = {field: getattr(self, field) for field in EDITABLE_FIELDS}
        out.update(id=self.id, version=self.version)
        return out


class GateValidationError(ValueError):
    """Refused input; ``errors`` maps a form field to a ``(Vietnamese, English)`` message."""

    def __init__(self, errors: dict[str, tuple[str, str]]):
        super().__init__("; ".join(f"{field}: {en}" for field, (_vi, en) in errors.items()))
        self.errors = errors


class GateConflict(RuntimeError):
    """The gate changed (or was deleted) since the form was opened."""


@dataclass(frozen=True)
class GateGeometry:
    """What a gate position is checked against, in EPSG:32648: the border line and the province."""

    border_line: object
    province: object
    tolerance_m: float = BORDER_TOLERANCE_M
    max_inland_m: float = MAX_INLAND_M


# ------------------------------------------------------------------------------------------ seeding


def is_seeded(session) -> bool:
    return session.get(Meta, SEEDED_KEY) is not None


def seed_gates(session, path, *, username: str = "system") -> int:
    """Insert the gates of ``border_gates.geojson`` plus the unplaced ones, once per database.

    Returns the number of gates added (0 when the table was seeded before). Runs in the caller's
    transaction; each insert is audited.
    """
    if is_seeded(session):
        return 0
    added = 0
    existing = set(session.scalars(select(BorderGate.name)))
    rows: list[dict] = []
    if path is not None and Path(path).is_file():
        frame = read_border_gates(path).to_crs("EPSG:4326")
        for rec, geom in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry):
            rows.append({
                "name": rec["name"], "gate_class": rec["gate_class"], "mode": _text(rec.get("mode")),
                "counterpart_kh": _text(rec.get("counterpart_kh")), "commune_code": _text(rec.get("commune_code")),
                "commune_name": _text(rec.get("commune_name")),
                "lon": round(float(geom.x), 6), "lat": round(float(geom.y), 6),
                "approximate": bool(rec.get("approximate", True)),
                "uncertainty_m": _number(rec.get("uncertainty_m")),
                "source": _text(rec.get("source")),
                "note": _text(rec.get("location_method")),
            })
    for gate in UNPLACED_GATES:
        rows.append({"name": gate["name"], "gate_class": gate["gate_class"], "commune_name": gate["commune_name"],
                     "lon": None, "lat": None, "approximate": True, "uncertainty_m": None,
                     "source": UNPLACED_SOURCE, "note": "Chưa có tọa độ: quản trị viên cần đặt vị trí."})
    for values in rows:
        if values["name"] in existing:
            continue
        gate = BorderGate(updated_by=username, **{k: ("" if v is None and k not in ("lon", "lat", "uncertainty_m")
                                                     else v) for k, v in values.items()})
        session.add(gate)
        session.flush()
        record(session, username=username, action="seed", entity="border_gate", entity_id=gate.id,
               after=gate.as_dict(), reason=f"seeded from {Path(path).name if path else 'DOMAIN.md §5'}")
        existing.add(gate.name)
        added += 1
    session.add(Meta(key=SEEDED_KEY, value=utcnow().isoformat(timespec="seconds")))
    if added:
        bump_data_version(session, "gates")
    return added


def ensure_seeded(db, data_dir) -> int:
    """Seed the gates in their own transaction if this database never had them (first use).

    Two first requests at once may both try; the loser's insert fails on the unique keys and is ignored.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        with db.transaction() as session:
            if is_seeded(session):
                return 0
            return seed_gates(session, Path(data_dir) / GATES_FILE)
    except IntegrityError:
        return 0


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ------------------------------------------------------------------------------------------ reading


def list_gates(session) -> list[BorderGate]:
    """Every gate, placed ones first, west to east; unplaced ones by name."""
    gates = list(session.scalars(select(BorderGate)))
    return sorted(gates, key=lambda g: (not g.placed, g.lon if g.placed else 0.0, g.name))


def gates_frame(session) -> gpd.GeoDataFrame:
    """Placed gates as points in EPSG:32648 for :func:`geo.corridor_geometry.assign_corridor` and the maps.

    Columns: ``id``, ``name``, ``gate_class``, ``gate_class_label`` (Vietnamese), ``mode``, ``commune_name``,
    ``approximate``, ``uncertainty_m``, ``lon``, ``lat``, ``version``.
    """
    placed = [g for g in list_gates(session) if g.placed]
    frame = pd.DataFrame({
        "id": [g.id for g in placed], "name": [g.name for g in placed],
        "gate_class": [g.gate_class for g in placed],
        "gate_class_label": [GATE_CLASS_LABELS_VI.get(g.gate_class, g.gate_class) for g in placed],
        "mode": [g.mode for g in placed], "commune_name": [g.commune_name for g in placed],
        "approximate": [bool(g.approximate) for g in placed],
        "uncertainty_m": np.array([np.nan if g.uncertainty_m is None else g.uncertainty_m for g in placed], float),
        "lon": np.array([g.lon for g in placed], float), "lat": np.array([g.lat for g in placed], float),
        "version": [g.version for g in placed],
    })
    x, y = lonlat_to_metric(frame["lon"].to_numpy(), frame["lat"].to_numpy()) if len(frame) else ([], [])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=METRIC_CRS)


# ------------------------------------------------------------------------------------------ validation


def clean_gate_input(form, geometry: GateGeometry | None) -> dict:
    """Check a submitted gate (strings from a form) and return typed values.

    Rules: a name (1–120 characters); a class among international/main/secondary; longitude and latitude both
    given or both empty (empty = not placed yet); a given position must lie in the province within
    ``max_inland_m`` of the border line, or within ``tolerance_m`` of the line on either side; uncertainty a
    non-negative number of metres or empty.

    Raises
    ------
    GateValidationError
        With a message per refused field.
    """
    errors: dict[str, tuple[str, str]] = {}
    get = (lambda key: (form.get(key) or "").strip())
    name = get("name")
    if not name or len(name) > 120:
        errors["name"] = ("Tên cửa khẩu bắt buộc, tối đa 120 ký tự.", "A name of 1 to 120 characters is required.")
    gate_class = get("gate_class")
    if gate_class not in GATE_CLASSES:
        errors["gate_class"] = (f"Loại cửa khẩu phải là một trong: {', '.join(GATE_CLASSES)}.",
                                f"The class must be one of: {', '.join(GATE_CLASSES)}.")
    lon_text, lat_text = get("lon").replace(",", "."), get("lat").replace(",", ".")
    lon = lat = None
    if lon_text or lat_text:
        try:
            lon, lat = float(lon_text), float(lat_text)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise ValueError
        except ValueError:
            errors["position"] = ("Kinh độ và vĩ độ phải là số thập phân (độ, WGS84), nhập cả hai hoặc để trống cả hai.",
                                  "Longitude and latitude must both be decimal degrees (WGS84), or both empty.")
            lon = lat = None
    if lon is not None:
        problem = position_problem(lon, lat, geometry)
        if problem:
            errors["position"] = problem
    uncertainty_text = get("uncertainty_m").replace(",", ".")
    uncertainty = None
    if uncertainty_text:
        try:
            uncertainty = float(uncertainty_text)
            if not (math.isfinite(uncertainty) and 0 <= uncertainty <= 100_000):
                raise ValueError
        except ValueError:
            errors["uncertainty_m"] = ("Sai số vị trí là số mét từ 0 đến 100.000.",
                                       "The position uncertainty is a number of metres from 0 to 100,000.")
    lengths = {"mode": 80, "counterpart_kh": 160, "commune_code": 10, "commune_name": 120}
    for field, limit in lengths.items():
        if len(get(field)) > limit:
            errors[field] = (f"Tối đa {limit} ký tự.", f"At most {limit} characters.")
    if errors:
        raise GateValidationError(errors)
    return {"name": name, "gate_class": gate_class, "mode": get("mode"), "counterpart_kh": get("counterpart_kh"),
            "commune_code": get("commune_code"), "commune_name": get("commune_name"),
            "lon": None if lon is None else round(lon, 6), "lat": None if lat is None else round(lat, 6),
            "approximate": form.get("approximate") in ("1", "on", "true", True),
            "uncertainty_m": uncertainty, "source": get("source"), "note": get("note")}


def position_problem(lon: float, lat: float, geometry: GateGeometry | None) -> tuple[str, str] | None:
    """Why a gate cannot stand at (lon, lat), as a ``(vi, en)`` message, or None when it can."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return ("Tọa độ ngoài phạm vi độ (kinh độ −180…180, vĩ độ −90…90).",
                "Coordinates out of range (longitude −180…180, latitude −90…90).")
    if geometry is None:
        return None
    x, y = lonlat_to_metric(np.array([lon]), np.array([lat]))
    point = Point(float(x[0]), float(y[0]))
    distance = float(shapely.distance(geometry.border_line, point))
    inside = bool(shapely.intersects(geometry.province, point))
    if distance <= geometry.tolerance_m or (inside and distance <= geometry.max_inland_m):
        return None
    km = f"{distance / 1000:.1f}"
    if inside:
        return (f"Vị trí cách đường biên giới {km.replace('.', ',')} km, xa hơn {geometry.max_inland_m / 1000:.0f} km "
                "cho phép.", f"The point is {km} km from the border line, more than the "
                f"{geometry.max_inland_m / 1000:.0f} km allowed.")
    return (f"Vị trí nằm ngoài tỉnh và cách đường biên giới {km.replace('.', ',')} km (cho phép tối đa "
            f"{geometry.tolerance_m:.0f} m bên kia biên giới).", f"The point lies outside the province, {km} km "
            f"from the border line (at most {geometry.tolerance_m:.0f} m beyond the line is allowed).")


# ------------------------------------------------------------------------------------------ changes


def _check_unique_name(session, name: str, gate_id: int | None) -> None:
    other = session.scalar(select(BorderGate).where(BorderGate.name == name))
    if other is not None and other.id != gate_id:
        raise GateValidationError({"name": ("Đã có cửa khẩu cùng tên.", "A gate with this name already exists.")})


def create_gate(session, values: dict, *, username: str, reason: str = "") -> BorderGate:
    """Add a gate from :func:`clean_gate_input` values (audited, bumps the data version)."""
    _check_unique_name(session, values["name"], None)
    gate = BorderGate(updated_by=username, updated_at=utcnow(), **values)
    session.add(gate)
    session.flush()
    record(session, username=username, action="create", entity="border_gate", entity_id=gate.id,
           after=gate.as_dict(), reason=reason)
    bump_data_version(session, "gates")
    return gate


def _locked(session, gate_id: int, expected_version: int) -> BorderGate:
    gate = session.get(BorderGate, gate_id)
    if gate is None:
        raise GateConflict(f"gate {gate_id} no longer exists")
    if int(expected_version) != gate.version:
        raise GateConflict(f"gate {gate_id} is at version {gate.version}, the edit was made on {expected_version}")
    return gate


def update_gate(session, gate_id: int, values: dict, *, expected_version: int, username: str,
                reason: str = "") -> BorderGate:
    """Change a gate made on ``expected_version``; refused with :class:`GateConflict` if it moved on since."""
    gate = _locked(session, gate_id, expected_version)
    _check_unique_name(session, values["name"], gate.id)
    before = gate.as_dict()
    for field in EDITABLE_FIELDS:
        setattr(gate, field, values[field])
    if gate.as_dict() == {**before}:
        return gate  # nothing changed: no new version, no audit row
    gate.updated_by = username
    gate.updated_at = utcnow()
    session.flush()  # the version_id_col check runs here, against a concurrent transaction too
    record(session, username=username, action="update", entity="border_gate", entity_id=gate.id,
           before=before, after=gate.as_dict(), reason=reason)
    bump_data_version(session, "gates")
    return gate


def delete_gate(session, gate_id: int, *, expected_version: int, username: str, reason: str = "") -> None:
    gate = _locked(session, gate_id, expected_version)
    before = gate.as_dict()
    session.delete(gate)
    session.flush()
    record(session, username=username, action="delete", entity="border_gate", entity_id=gate_id,
           before=before, reason=reason)
    bump_data_version(session, "gates")
