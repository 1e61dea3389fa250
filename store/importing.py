"""The incident import pipeline: read a file, validate and place every row, then write all or nothing.

Shared by the ``import-incidents`` command and the upload page so both refuse and report the same way.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select

from geo.incidents import (CommuneLocator, DatedLocator, RowError, _cell_text, first_rows_of_ids,
                           read_incident_file, validate_incidents)
from store.boundaries import communes_frame, set_rows, version_of
from store.meta import data_version
from store import audit
from store.incidents import IncidentWriter
from store.models import Incident

_LOCATORS: dict = {}
log = logging.getLogger("bando138.imports")


@dataclass
class ImportReport:
    filename: str
    rows: int
    written: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    committed: bool = False
    encoding: str = ""     # codec a CSV was read with (detected unless given), "" for XLSX/GeoJSON
    delimiter: str = ""    # field separator of a CSV

    def read_as_line(self, lang: str = "en") -> str:
        """How a CSV was read, e.g. ``read as Windows-1258, fields separated by ';'``, worded in ``lang``."""
        if not self.encoding:
            return ""
        from geo.textencoding import encoding_name
        from translations import translate

        shown = translate("store.importing.tab", lang) if self.delimiter == "\t" else repr(self.delimiter)
        return translate("store.importing.read_as", lang, encoding=encoding_name(self.encoding), delimiter=shown)

    @property
    def refused(self) -> int:
        return len({e.row for e in self.errors})

    def error_lines(self) -> list[str]:
        return [f"row {e.row}: {e.field} = {e.value!r}: {e.reason}" for e in self.errors]

    def error_groups(self):
        """The errors grouped by field and reason, largest first (:func:`geo.row_errors.group_row_errors`)."""
        from geo.row_errors import group_row_errors

        return group_row_errors(self.errors)

    def error_group_lines(self, lang: str = "en") -> list[str]:
        return [group.line(lang) for group in self.error_groups()]

    def warning_lines(self) -> list[str]:
        return [f"row {e.row} (kept): {e.field} = {e.value!r}: {e.reason}" for e in self.warnings]


def error_report_csv(errors) -> str:
    """Every refused value, one line each (row, field, value, reason), as a CSV a spreadsheet opens (BOM)."""
    import io

    buffer = io.StringIO()
    _write_error_rows(errors, buffer)
    return buffer.getvalue()


def write_error_report(errors, path) -> None:
    """:func:`error_report_csv` written to ``path`` gzip-compressed, row by row (never whole in memory);
    replaced atomically, so a reader never sees half a report."""
    import gzip
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with gzip.open(partial, "wt", encoding="utf-8", newline="") as handle:
        _write_error_rows(errors, handle)
    os.replace(partial, path)


def _write_error_rows(errors, handle) -> None:
    import csv

    from geo.export import spreadsheet_text

    handle.write("\ufeff")
    writer = csv.writer(handle)
    writer.writerow(["row", "field", "value", "reason"])
    for error in errors:
        # Text that starts like a formula would run when the report is opened in a spreadsheet.
        writer.writerow([error.row, spreadsheet_text(str(error.field)), spreadsheet_text(str(error.value)),
                         spreadsheet_text(str(error.reason))])


def locator_for(session) -> DatedLocator:
    """One spatial index per boundary set, each for the dates it is in force (building one costs more than
    placing 100k points, so they are kept per boundaries data version)."""
    rows = set_rows(session)
    key = (str(session.get_bind().url), data_version(session, "boundaries"), tuple(r.id for r in rows))
    if key not in _LOCATORS:
        if not rows:
            raise ValueError("no commune boundaries are loaded: run `flask --app server load-boundaries` first")
        entries = []
        for row in rows:
            communes = communes_frame(session, row.version)
            if communes.empty:
                continue
            entries.append((version_of(row), CommuneLocator(communes)))
        _LOCATORS.clear()
        _LOCATORS[key] = DatedLocator(entries)
    return _LOCATORS[key]


def import_incidents(db, path, *, skip_invalid: bool = False, username: str = "", filename: str | None = None,
                     progress=None, frame=None, is_demo: bool = False, encoding: str | None = None,
                     category_map=None, chunk_rows: int | None = None) -> ImportReport:
    """Validate every row of ``path`` (or of ``frame``), then write in one transaction.

    Without ``skip_invalid`` a single bad row means nothing is written. ``progress(stage, done, total)``
    reports the stages ``read``, ``validate`` and ``write``. ``encoding`` overrides the detection of a
    CSV's encoding; the one used is in the report. ``category_map`` (:class:`geo.offences.CategoryMap`)
    adds an office's own offence names.
    """
    name = filename or Path(str(path)).name
    # The log names the account, the kind of file and the counts: never the file name (it often names a case
    # or a person) nor a row's values.
    who, kind = username or "-", "table" if frame is not None else (Path(name).suffix.lower().lstrip(".") or "file")
    try:
        report = _import(db, path, name, skip_invalid=skip_invalid, username=username, progress=progress,
                         frame=frame, is_demo=is_demo, encoding=encoding, category_map=category_map,
                         chunk_rows=chunk_rows)
    except Exception as exc:
        log.warning("import by %s of a %s file refused (%s); nothing written", who, kind, type(exc).__name__)
        raise
    if report.committed:
        log.info("import by %s of a %s file: %d rows, %d written, %d unchanged, %d refused, %d warnings",
                 who, kind, report.rows, report.written, report.unchanged, report.refused, len(report.warnings))
    else:
        log.warning("import by %s of a %s file refused: %d of %d rows invalid; nothing written", who, kind,
                    report.refused, report.rows)
    return report


#: Rows validated and written at a time: the import holds one chunk of Python values (and, for a CSV on disk,
#: only the file's ids besides), never a frame of the whole file. 50,000 rows cost ~60 MB; twice that saves
#: no measurable time.
CHUNK_ROWS = 50_000


def _chunks(path, frame, encoding, chunk_rows):
    """``(rows, first_rows, encoding, delimiter, iterator of frames)`` of the file or of the given frame."""
    if frame is None:
        source = read_incident_file(path, encoding=encoding)
        n, first = len(source), source.first_rows_of_ids()
        pa.default_memory_pool().release_unused()  # the hash table of the ids, kept by Arrow's allocator
        frames = source.chunks(chunk_rows)
        return n, first, source.encoding, source.delimiter, frames
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if "row" not in frame.columns:
        frame.insert(0, "row", np.arange(1, n + 1))
    first = None
    if "id" in frame.columns:
        ids = frame["id"].to_numpy(dtype=object)
        if frame["id"].dtype.kind in "fi":
            ids = np.array([_cell_text(v) for v in ids], dtype=object)
        first = frame["row"].to_numpy(dtype=np.int64)[first_rows_of_ids(ids) - 1]
    frames = (frame.iloc[start:start + chunk_rows] for start in range(0, n, chunk_rows))
    return n, first, frame.attrs.get("encoding", ""), frame.attrs.get("delimiter", ""), frames


def _import(db, path, name, *, skip_invalid, username, progress, frame, is_demo, encoding,
            category_map, chunk_rows=None) -> ImportReport:
    chunk_rows = chunk_rows or CHUNK_ROWS
    digest = _sha256(path) if frame is None else ""
    n, first_rows, codec, delimiter, frames = _chunks(path, frame, encoding, chunk_rows)
    del frame
    if progress:
        progress("read", n, n)
        progress("validate", 0, n)
    report = ImportReport(filename=name, rows=n, encoding=codec, delimiter=delimiter)
    with db.transaction() as session:
        locator = locator_for(session)
        set_ids = {r.version: r.id for r in set_rows(session)}
        before = session.scalar(select(func.count()).select_from(Incident))
        writer = None
        done = 0
        try:
            # Each chunk is validated, then written at once: one transaction for the whole file, so a refusal
            # or a failure in a later chunk rolls back the chunks written before it.
            for chunk in frames:
                start = done
                done += len(chunk)
                result = validate_incidents(chunk, locator, category_map=category_map,
                                            first_rows=None if first_rows is None else first_rows[start:done])
                report.errors.extend(result.errors)
                report.warnings.extend(result.warnings)
                del chunk
                if report.errors and not skip_invalid:
                    # Nothing will be written: the rest of the file is only validated, to report every row.
                    # (Once rows are written the stage stays "write": on SQLite this transaction then holds
                    # the write lock a progress record would wait for.)
                    if progress:
                        progress("validate" if writer is None else "write", done, n)
                    continue
                valid = result.valid
                valid["boundary_set_id"] = valid["boundary_set"].map(set_ids)
                if writer is None:
                    if progress:
                        progress("write", start, n)  # before this transaction takes the write lock
                    writer = IncidentWriter(session, filename=name, username=username, is_demo=is_demo,
                                            expected_rows=n)
                writer.write(valid)
                del result, valid
                if progress:
                    progress("write", done, n)
        except BaseException:
            if writer is not None:
                writer.close()
            raise
        if report.errors and not skip_invalid:
            if writer is not None:
                writer.close()
                session.rollback()  # the chunks written before the first refused row
            _audit(session, report, username=username, sha256=digest, batch_id="", created=0)
            return report
        if writer is None:  # an empty file still records its (empty) batch
            writer = IncidentWriter(session, filename=name, username=username, is_demo=is_demo)
        batch = writer.finish(rows=n, refused=report.refused)
        report.written = batch.written
        report.unchanged = writer.rows_given - batch.written
        created = session.scalar(select(func.count()).select_from(Incident)) - before
        _audit(session, report, username=username, sha256=digest, batch_id=batch.id, created=created, committed=True)
    report.committed = True
    return report


def _sha256(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _audit(session, report: ImportReport, *, username: str, sha256: str, batch_id, created: int,
           committed: bool = False) -> None:
    """The import's audit row, in the import's own transaction: who, the file and its hash, what it did."""
    audit.record(session, username=username or "system", action="incidents.import" if committed
                 else "incidents.import_refused", entity="import_batch", entity_id=batch_id,
                 after={"file": report.filename, "sha256": sha256, "rows": report.rows,
                        "created": created, "updated": report.written - created if committed else 0,
                        "unchanged": report.unchanged, "refused": report.refused})
