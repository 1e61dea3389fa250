"""SQLAlchemy 2 models of the foundation: boundaries, population, incidents, users, tokens, audit.

Geometries are stored as GeoJSON text in EPSG:4326 so the same schema runs on SQLite and PostgreSQL;
the spatial work itself happens in ``geo/`` on GeoDataFrames built from these rows.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class BoundarySet(Base):
    """One version of the administrative units (e.g. ``2024``, ``2025-01``, ``2025-07``).

    ``version`` is the set's id as users name it; ``effective_date`` its first valid day and ``effective_to``
    the first day it is no longer valid (None while current). ``levels`` is a comma-separated list
    (``province,district,commune`` or ``province,commune``).
    """

    __tablename__ = "boundary_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    effective_date: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    province_code: Mapped[str] = mapped_column(String(10), default="")
    province_name: Mapped[str] = mapped_column(String(120), default="")
    levels: Mapped[str] = mapped_column(String(60), default="province,district,commune")
    source: Mapped[str] = mapped_column(Text, default="")
    repairs: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Commune(Base):
    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("boundary_set_id", "commune_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[str] = mapped_column(String(10), index=True)
    commune_name: Mapped[str] = mapped_column(String(120))
    commune_type: Mapped[str] = mapped_column(String(20), default="")
    district_code: Mapped[str] = mapped_column(String(10), index=True)
    district_name: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str] = mapped_column(String(10), default="")
    province_name: Mapped[str] = mapped_column(String(120), default="")
    # For a set without districts: the 2024 district the commune mostly came from (through the crosswalk).
    former_district_code: Mapped[str] = mapped_column(String(10), default="")
    former_district_name: Mapped[str] = mapped_column(String(120), default="")
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON geometry, EPSG:4326


class CrosswalkLink(Base):
    """One allocation link of a commune of one set to a commune of another (weights of a source sum to 1)."""

    __tablename__ = "crosswalk_links"
    __table_args__ = (UniqueConstraint("from_set_id", "to_set_id", "from_code", "to_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    from_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), index=True)
    to_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), index=True)
    from_code: Mapped[str] = mapped_column(String(10))
    to_code: Mapped[str] = mapped_column(String(10))
    weight: Mapped[float] = mapped_column(Float)
    relation: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Population(Base):
    """Residents per commune of one boundary set (codes are reused across sets, so the set is part of the key)."""

    __tablename__ = "population"
    __table_args__ = (UniqueConstraint("boundary_set_id", "commune_code", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    boundary_set_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"),
                                                        nullable=True, index=True)
    commune_code: Mapped[str] = mapped_column(String(10), index=True)
    year: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, default="")


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(80), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Incident(Base):
    """One incident (vụ việc) as recorded by the source system; ``id`` is that system's id."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_occurred_category", "occurred_at", "category"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(30))
    case_status: Mapped[str] = mapped_column(String(20))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    commune_code: Mapped[str] = mapped_column(String(10))
    district_code: Mapped[str] = mapped_column(String(10))
    # The boundary set in force on occurred_at: commune_code/district_code are codes of that set.
    boundary_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    article: Mapped[str] = mapped_column(String(40), default="")
    clause: Mapped[str] = mapped_column(String(40), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IncidentStatusHistory(Base):
    """A case status an incident held from ``recorded_at`` (UTC), written by each import that changed it
    (:func:`store.incidents.upsert_incidents`), so a report reads the status in force at its period's end."""

    __tablename__ = "incident_status_history"
    __table_args__ = (Index("ix_incident_status_history_incident", "incident_id", "recorded_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), ForeignKey("incidents.id", ondelete="CASCADE"))
    case_status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)


class Meta(Base):
    """Key/value facts about the data, e.g. ``data_version`` bumped by every import (cache key)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    district_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # Role "commune": the commune's code and the boundary set it is a code of (codes are reused across sets).
    commune_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    commune_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    sensitive_clearance: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SignInFailure(Base):
    """Failed sign-in attempts per username typed, whether or not such an account exists (revision 0009).

    Counting unknown names the same way makes them lock and answer exactly like real accounts, so the
    answers do not tell which usernames exist. Times are Unix seconds (one representation on every
    database, compared inside single atomic statements).
    """

    __tablename__ = "sign_in_failures"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[float] = mapped_column(Float)
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class UserSession(Base):
    """A signed-in browser session; the cookie holds its random key, the table only the key's hash.

    Signing out deletes the row; a password reset, role change or deactivation deletes every row of the
    user, so a copied cookie stops working at once (revision 0009).
    """

    __tablename__ = "user_sessions"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class RateLimitCounter(Base):
    """Fixed-window counters of Flask-Limiter (per client address), shared by every server process."""

    __tablename__ = "rate_limit_counters"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Append-only record of every change: who, when, what, before → after, why."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 chain (revision 0011): each row hashes its content with the previous row's hash.
    prev_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    row_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AuditChainHead(Base):
    """The last link of the audit chain (one row): locked by every audit write, so links never fork."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
