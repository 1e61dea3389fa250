"""The incident import pipeline: read a file, validate and place every row, then write all or nothing.

Shared by the ``import-incidents`` command and the upload page so both refuse and report the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geo.incidents import CommuneLocator, RowError, read_incident_table, validate_incidents
from store.boundaries import communes_frame
from store.incidents import upsert_incidents

_LOCATORS: dict = {}


@dataclass
class ImportReport:
    filename: str
    rows: int
    written: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def refused(self) -> int:
        return len({e.row for e in self.errors})

    def error_lines(self) -> list[str]:
        return [f"row {e.row}: {e.field} = {e.value!r}: {e.reason}" for e in self.errors]

    def warning_lines(self) -> list[str]:
        return [f"row {e.row} (kept): {e.field} = {e.value!r}: {e.reason}" for e in self.warnings]


def locator_for(session) -> CommuneLocator:
    """One spatial index per boundary version (building it costs more than placing 100k points)."""
    communes = communes_frame(session)
    key = (str(session.get_bind().url), communes.attrs.get("version"), len(communes), id(communes))
    if key not in _LOCATORS:
        if communes.empty:
            raise ValueError("no commune boundaries are loaded: run `flask --app server load-boundaries` first")
        _LOCATORS.clear()
        _LOCATORS[key] = CommuneLocator(communes)
    return _LOCATORS[key]


def import_incidents(db, path, *, skip_invalid: bool = False, username: str = "", filename: str | None = None,
                     progress=None, frame=None, is_demo: bool = False) -> ImportReport:
    """Validate every row of ``path`` (or of ``frame``), then write in one transaction.

    Without ``skip_invalid`` a single bad row means nothing is written. ``progress(stage, done, total)``
    reports the stages ``read``, ``validate`` and ``write``.
    """
    name = filename or Path(str(path)).name
    raw = frame if frame is not None else read_incident_table(path)
    if progress:
        progress("read", len(raw), len(raw))
    with db.transaction() as session:
        result = validate_incidents(raw, locator_for(session))
        if progress:
            progress("validate", len(raw), len(raw))
        report = ImportReport(filename=name, rows=len(raw), errors=list(result.errors),
                              warnings=list(getattr(result, "warnings", [])))
        if report.errors and not skip_invalid:
            return report
        if progress:
            progress("write", 0, len(result.valid))
        batch = upsert_incidents(
            session, result.valid, filename=name, username=username, refused=report.refused, is_demo=is_demo,
            progress=(lambda done: progress("write", done, len(result.valid))) if progress else None,
        )
        report.written = batch.written
        report.unchanged = len(result.valid) - batch.written
    report.committed = True
    return report
