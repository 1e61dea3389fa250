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
    """One loaded version of the commune boundaries (e.g. the 2024 set, effective 2024-01-01)."""

    __tablename__ = "boundary_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    effective_date: Mapped[date] = mapped_column(Date)
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
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON geometry, EPSG:4326


class Population(Base):
    __tablename__ = "population"
    __table_args__ = (UniqueConstraint("commune_code", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
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
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    article: Mapped[str] = mapped_column(String(40), default="")
    clause: Mapped[str] = mapped_column(String(40), default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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
    display_name: Mapped[str] = mapped_column(String(120), default="")
    sensitive_clearance: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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
