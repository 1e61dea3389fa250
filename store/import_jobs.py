"""Upload import jobs in the database, so any server process can answer a job's progress and result.

The production server runs several worker processes (``flask serve``, gunicorn): the upload lands on one,
the browser's progress polls on any. The importing thread records its stage and row counts here in short
transactions of its own; the finished report (counts and every row error) is stored with the job.
A job whose process died (``kill -9``, a restart) is closed as failed when any process starts or reads it,
and its upload is deleted.
"""
from __future__ import annotations

import json
import os
from collections import Counter
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Boolean, DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, utcnow
from translations import Message, message

STAGES = ("queued", "read", "validate", "write", "done", "failed")
FINISHED = ("done", "failed")
KEPT_FINISHED = 50
#: Row errors kept with a job (the first ones, in row order); beyond them only their number by field, so a
#: file of a million bad rows leaves a report of kilobytes, not hundreds of megabytes.
KEPT_ERRORS = 1000
#: Groups of errors (by field and reason, :mod:`geo.row_errors`) kept with a job, each with its row count.
KEPT_GROUPS = 500


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
    worker: Mapped[str] = mapped_column(String(200), default="", server_default="")  # "host:pid" running it
    upload_path: Mapped[str] = mapped_column(Text, default="", server_default="")  # removed when it ends


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
    errors: list[StoredError] = field(default_factory=list)  # the first KEPT_ERRORS
    encoding: str = ""    # codec of a CSV (see store.importing.ImportReport), "" for other formats
    delimiter: str = ""
    error_total: int = 0  # every row error found, kept or not
    errors_by_field: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)  # [field, value, reason, same_reason, n_rows, first rows, message]

    @property
    def encoding_name(self) -> str:
        from geo.textencoding import encoding_name

        return encoding_name(self.encoding) if self.encoding else ""

    def error_groups(self):
        """The errors grouped by field and reason, largest first (:func:`geo.row_errors.group_row_errors`),
        counted over every error of the file (a report stored before groups were kept: its kept errors)."""
        from geo.row_errors import ErrorGroup, group_row_errors

        if not self.groups:
            return group_row_errors(self.errors)
        # A group stored before messages were kept has six items (its English reason only).
        return [ErrorGroup(field=f, value=v, reason=r, same_reason=bool(same), rows=tuple(rows), count=int(n),
                           message=Message.from_json(kept[0]) if kept else None)
                for f, v, r, same, n, rows, *kept in self.groups]


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

    def error_in(self, lang: str) -> str:
        """Why the file was refused, worded in ``lang`` (kept as a message; a job stored before: its text)."""
        if self.error.startswith("{"):
            try:
                kept = Message.from_json(json.loads(self.error))
            except ValueError:
                kept = None
            if kept is not None:
                return kept.text(lang)
        return self.error


def this_worker() -> str:
    """``host:pid`` of this process, as recorded on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_job(session, job_id: str, *, username: str, filename: str, skip_invalid: bool,
               upload_path: str = "") -> ImportJob:
    record = ImportJobRecord(id=job_id, username=username, filename=filename, skip_invalid=skip_invalid,
                             stage="queued", done=0, total=0, error="", internal_error=False, report="",
                             worker=this_worker(), upload_path=upload_path)
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


def refusal_to_keep(error: Exception, renames: dict[str, str]) -> str:
    """What a failed job keeps of ``error``: its message as JSON (worded in the reader's language when shown),
    or its text; ``renames`` swaps the upload's temporary file name for the name the user gave."""
    def renamed(value):
        if isinstance(value, str):
            for old, new in renames.items():
                value = value.replace(old, new)
        return value

    kept = getattr(error, "message", None)
    if kept is None:
        return renamed(str(error))
    return json.dumps(Message(kept.key, {k: renamed(v) for k, v in kept.params.items()}).as_json(),
                      ensure_ascii=False)


def error_report_path(folder, job_id: str) -> Path:
    """Where the full per-row error report of a job is kept (gzip-compressed CSV) under ``folder``."""
    if not job_id.isalnum():
        raise ValueError(f"job id {job_id!r} is not alphanumeric")
    return Path(folder) / "import-reports" / f"{job_id}.csv.gz"


def finish_job(session, job_id: str, *, report=None, error: str = "", internal_error: bool = False,
               report_folder=None) -> None:
    """Mark a job done (with its :class:`store.importing.ImportReport`) or failed (with a message).

    With ``report_folder``, every row error of the report is also written there (:func:`error_report_path`),
    so the whole per-row file stays downloadable while the job's row keeps only the first
    :data:`KEPT_ERRORS` and the counts (pages read the row; only a download reads the file).
    """
    record = session.get(ImportJobRecord, job_id)
    if record is None:
        return
    if report is not None and report.errors and report_folder is not None:
        from store.importing import write_error_report

        write_error_report(report.errors, error_report_path(report_folder, job_id))
    record.updated_at = utcnow()
    if report is not None:
        record.stage = "done"
        record.report = json.dumps({
            "rows": report.rows, "written": report.written, "unchanged": report.unchanged,
            "refused": report.refused, "committed": report.committed,
            "encoding": getattr(report, "encoding", ""), "delimiter": getattr(report, "delimiter", ""),
            "errors": [[int(e.row), str(e.field), str(e.value)[:200], str(e.reason)[:500]]
                       for e in report.errors[:KEPT_ERRORS]],
            "error_total": len(report.errors),
            "errors_by_field": dict(Counter(str(e.field) for e in report.errors).most_common()),
            # Grouped from every error, not only the kept ones, so each group's count is the file's.
            "error_groups": [[g.field, None if g.value is None else str(g.value)[:200], g.reason[:500],
                              g.same_reason, g.n_rows, list(g.shown_rows),
                              g.message.as_json() if g.message is not None else None]
                             for g in report.error_groups()[:KEPT_GROUPS]],
        }, ensure_ascii=False)
    else:
        record.stage = "failed"
        record.error, record.internal_error = error, internal_error
    _prune(session, report_folder)


ABANDONED = message("store.import_jobs.abandoned")  # kept as JSON, worded by ImportJob.error_in


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def abandoned(record: ImportJobRecord, *, now=None, stale_after: timedelta = timedelta(hours=2)) -> bool:
    """Whether an unfinished job can no longer finish: its process on this host is gone, or it went silent.

    An import runs in one transaction, so a killed one wrote nothing. A job of another host is judged by its
    silence alone (no progress for ``stale_after``).
    """
    if record.stage in FINISHED:
        return False
    host, _, pid = (record.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
        return True
    return (now or utcnow()) - record.updated_at > stale_after


def close_abandoned_jobs(session, *, stale_after: timedelta = timedelta(hours=2)) -> int:
    """Mark every abandoned job failed with the reason and delete its upload; returns how many."""
    closed = 0
    for record in session.scalars(select(ImportJobRecord).where(ImportJobRecord.stage.not_in(FINISHED))):
        if abandoned(record, stale_after=stale_after):
            record.stage, record.error, record.internal_error = "failed", json.dumps(ABANDONED.as_json()), False
            record.updated_at = utcnow()
            if record.upload_path:
                Path(record.upload_path).unlink(missing_ok=True)
            closed += 1
    return closed


def get_job(session, job_id: str) -> ImportJob | None:
    """The job, closed first if it was abandoned (so its page never waits for ever)."""
    record = session.get(ImportJobRecord, job_id)
    if record is not None and abandoned(record):
        close_abandoned_jobs(session)
        session.commit()
    return _job(record) if record is not None else None


def recent_jobs(session, username: str | None, limit: int = 10) -> list[ImportJob]:
    """The newest jobs of ``username`` (every user's when None), newest first."""
    query = select(ImportJobRecord).order_by(ImportJobRecord.started_at.desc()).limit(limit)
    if username is not None:
        query = query.where(ImportJobRecord.username == username)
    return [_job(r) for r in session.scalars(query)]


def _prune(session, report_folder=None) -> None:
    """Keep the newest finished jobs only (the table is a progress board, not an archive: batches are), and
    the error reports of those kept."""
    keep = select(ImportJobRecord.id).where(ImportJobRecord.stage.in_(FINISHED)) \
        .order_by(ImportJobRecord.started_at.desc()).limit(KEPT_FINISHED)
    pruned = select(ImportJobRecord.id).where(ImportJobRecord.stage.in_(FINISHED),
                                              ImportJobRecord.id.not_in(keep.scalar_subquery()))
    if report_folder is not None:
        for job_id in session.scalars(pruned).all():
            error_report_path(report_folder, job_id).unlink(missing_ok=True)
    session.execute(delete(ImportJobRecord).where(ImportJobRecord.id.in_(pruned.scalar_subquery())))


def _job(record: ImportJobRecord) -> ImportJob:
    report = None
    if record.report:
        data = json.loads(record.report)
        report = StoredReport(rows=data["rows"], written=data["written"], unchanged=data["unchanged"],
                              refused=data["refused"], committed=data["committed"],
                              errors=[StoredError(*e) for e in data["errors"]],
                              encoding=data.get("encoding", ""), delimiter=data.get("delimiter", ""),
                              error_total=data.get("error_total", len(data["errors"])),
                              errors_by_field=data.get("errors_by_field", {}),
                              groups=data.get("error_groups", []))
    return ImportJob(id=record.id, username=record.username, filename=record.filename,
                     skip_invalid=record.skip_invalid, started=record.started_at, updated=record.updated_at,
                     stage=record.stage, done=record.done, total=record.total, error=record.error,
                     internal_error=record.internal_error, report=report)


__all__ = ["ImportJobRecord", "ImportJob", "StoredReport", "StoredError", "create_job", "update_progress",
           "finish_job", "refusal_to_keep", "get_job", "recent_jobs", "jobs_between", "STAGES"]


def jobs_between(session, *, start=None, end=None, username: str = "", text: str = "",
                 limit: int = 50) -> list[ImportJob]:
    """Kept import jobs started in ``[start, end)`` (UTC datetimes), of ``username``, whose file name or
    error contains ``text`` (case-insensitive), newest first; for the audit page."""
    query = select(ImportJobRecord)
    if start is not None:
        query = query.where(ImportJobRecord.started_at >= start)
    if end is not None:
        query = query.where(ImportJobRecord.started_at < end)
    if username:
        query = query.where(ImportJobRecord.username == username)
    if text:
        query = query.where(ImportJobRecord.filename.icontains(text, autoescape=True)
                            | ImportJobRecord.error.icontains(text, autoescape=True)
                            | ImportJobRecord.username.icontains(text, autoescape=True))
    query = query.order_by(ImportJobRecord.started_at.desc()).limit(limit)
    return [_job(r) for r in session.scalars(query)]
