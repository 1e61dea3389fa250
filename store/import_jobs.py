"""Upload import jobs in the database, so any server process can answer a job's progress and result.

The production server runs several worker processes (``flask serve``, gunicorn): the upload lands on one,
the browser's progress polls on any. The importing thread records its stage and row counts here in short
transactions of its own; the finished report (counts and every row error) is stored with the job.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, utcnow

STAGES = ("queued", "read", "validate", "write", "done", "failed")
FINISHED = ("done", "failed")
KEPT_FINISHED = 50


class ImportJobRecord(Base):
    """One uploaded file being (or having been) imported; ``report`` is JSON once the job is done."""

    __tablename__ = "import_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    skip_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stage: Mapped[str] = mapped_column(String(20), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    internal_error: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class StoredError:
    row: int
    field: str
    value: str
    reason: str


@dataclass(frozen=True)
class StoredReport:
    """What the result page shows of an :class:`store.importing.ImportReport`."""

    rows: int
    written: int
    unchanged: int
    refused: int
    committed: bool
    errors: list[StoredError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportJob:
    """A job as read from the database (a snapshot: read it again for fresh progress)."""

    id: str
    username: str
    filename: str
    skip_invalid: bool
    started: datetime
    updated: datetime
    stage: str
    done: int
    total: int
    error: str
    internal_error: bool
    report: StoredReport | None

    @property
    def finished(self) -> bool:
        return self.stage in FINISHED


def create_job(session, job_id: str, *, username: str, filename: str, skip_invalid: bool) -> ImportJob:
    record = ImportJobRecord(id=job_id, username=username, filename=filename, skip_invalid=skip_invalid,
                             stage="queued", done=0, total=0, error="", internal_error=False, report="")
    session.add(record)
    session.flush()
    return _job(record)


def update_progress(session, job_id: str, stage: str, done: int, total: int) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is not one of: {', '.join(STAGES)}")
    record = session.get(ImportJobRecord, job_id)
    if record is None:
        return
    record.stage, record.done, record.total, record.updated_at = stage, int(done), int(total), utcnow()


def finish_job(session, job_id: str, *, report=None, error: str = "", internal_error: bool = False) -> None:
    """Mark a job done (with its :class:`store.importing.ImportReport`) or failed (with a message)."""
    record = session.get(ImportJobRecord, job_id)
    if record is None:
        return
    record.updated_at = utcnow()
    if report is not None:
        record.stage = "done"
        record.report = json.dumps({
            "rows": report.rows, "written": report.written, "unchanged": report.unchanged,
            "refused": report.refused, "committed": report.committed,
            "errors": [[int(e.row), str(e.field), str(e.value), str(e.reason)] for e in report.errors],
        }, ensure_ascii=False)
    else:
        record.stage = "failed"
        record.error, record.internal_error = error, internal_error
    _prune(session)


def get_job(session, job_id: str) -> ImportJob | None:
    record = session.get(ImportJobRecord, job_id)
    return _job(record) if record is not None else None


def recent_jobs(session, username: str | None, limit: int = 10) -> list[ImportJob]:
    """The newest jobs of ``username`` (every user's when None), newest first."""
    query = select(ImportJobRecord).order_by(ImportJobRecord.started_at.desc()).limit(limit)
    if username is not None:
        query = query.where(ImportJobRecord.username == username)
    return [_job(r) for r in session.scalars(query)]


def _prune(session) -> None:
    """Keep the newest finished jobs only (the table is a progress board, not an archive: batches are)."""
    keep = select(ImportJobRecord.id).where(ImportJobRecord.stage.in_(FINISHED)) \
        .order_by(ImportJobRecord.started_at.desc()).limit(KEPT_FINISHED)
    session.execute(delete(ImportJobRecord).where(ImportJobRecord.stage.in_(FINISHED),
                                                  ImportJobRecord.id.not_in(keep.scalar_subquery())))


def _job(record: ImportJobRecord) -> ImportJob:
    report = None
    if record.report:
        data = json.loads(record.report)
        report = StoredReport(rows=data["rows"], written=data["written"], unchanged=data["unchanged"],
                              refused=data["refused"], committed=data["committed"],
                              errors=[StoredError(*e) for e in data["errors"]])
    return ImportJob(id=record.id, username=record.username, filename=record.filename,
                     skip_invalid=record.skip_invalid, started=record.started_at, updated=record.updated_at,
                     stage=record.stage, done=record.done, total=record.total, error=record.error,
                     internal_error=record.internal_error, report=report)


__all__ = ["ImportJobRecord", "ImportJob", "StoredReport", "StoredError", "create_job", "update_progress",
           "finish_job", "get_job", "recent_jobs", "STAGES"]
