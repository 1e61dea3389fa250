"""Incidents in the database: atomic upsert by source id, filtered reads, redaction of sensitive cases."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text

from store.meta import bump_data_version
from store.models import ImportBatch, Incident, utcnow

STORED_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "commune_code", "district_code", "sensitive", "description", "article", "clause"]
COMPARED_COLUMNS = [c for c in STORED_COLUMNS if c != "id"] + ["is_demo"]
CHUNK_ROWS = 50_000


def upsert_incidents(session, valid: pd.DataFrame, *, filename: str, username: str = "", refused: int = 0,
                     is_demo: bool = False, progress=None) -> ImportBatch:
    """Insert or update incidents by id inside the caller's transaction.

    A row identical to the stored one is left untouched (its ``updated_at`` too), so importing the same file
    twice changes nothing. ``progress(n)`` is called after each chunk with the rows written so far.
    """
    batch = ImportBatch(filename=filename, username=username, rows=len(valid) + refused, refused=refused,
                        is_demo=is_demo)
    session.add(batch)
    session.flush()
    dialect = session.get_bind().dialect.name
    columns = STORED_COLUMNS + ["is_demo", "import_batch_id", "updated_at"]
    differs = " OR ".join(
        f"incidents.{c} IS DISTINCT FROM excluded.{c}" if dialect == "postgresql" else f"incidents.{c} IS NOT excluded.{c}"
        for c in COMPARED_COLUMNS
    )
    statement = text(
        f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
        + f" WHERE {differs}"
    )
    records = _records(valid, is_demo=is_demo, batch_id=batch.id)
    written = 0
    connection = session.connection()
    for start in range(0, len(records), CHUNK_ROWS):
        chunk = records[start:start + CHUNK_ROWS]
        result = connection.execute(statement, chunk)
        written += max(result.rowcount, 0)
        if progress is not None:
            progress(min(start + CHUNK_ROWS, len(records)))
    batch.written = written
    if written:
        bump_data_version(session)
    return batch


def _records(valid: pd.DataFrame, *, is_demo: bool, batch_id: int) -> list[dict]:
    frame = pd.DataFrame({c: valid[c] if c in valid.columns else None for c in STORED_COLUMNS})
    frame["description"] = frame["description"].fillna("").astype(str)
    frame["article"] = frame["article"].fillna("").astype(str)
    frame["clause"] = frame["clause"].fillna("").astype(str)
    frame["sensitive"] = frame["sensitive"].fillna(False).astype(bool)
    for column in ("occurred_at", "reported_at"):
        values = pd.to_datetime(frame[column])
        frame[column] = np.where(values.isna(), None, values.dt.to_pydatetime()) if len(frame) else values
    frame["is_demo"] = is_demo
    frame["import_batch_id"] = batch_id
    frame["updated_at"] = utcnow()
    frame = frame.astype(object).where(frame.notna(), None)
    records = frame.to_dict("records")
    # pandas 3 keeps datetime columns as Timestamp objects, which sqlite3 cannot bind: plain datetimes.
    for record in records:
        for column in ("occurred_at", "reported_at", "updated_at"):
            value = record[column]
            if isinstance(value, pd.Timestamp):
                record[column] = value.to_pydatetime()
    return records


def incident_frame(session, *, year: int | None = None, start: datetime | None = None, end: datetime | None = None,
                   categories=None, district_code: str | None = None, commune_code: str | None = None,
                   viewer=None) -> pd.DataFrame:
    """Incidents matching the filters as a DataFrame, with sensitive cases redacted for ``viewer``.

    ``start`` is inclusive and ``end`` exclusive; ``year`` is a shorthand for that calendar year.
    """
    query = select(*(getattr(Incident, c) for c in STORED_COLUMNS + ["is_demo"]))
    if year is not None:
        start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    if start is not None:
        query = query.where(Incident.occurred_at >= start)
    if end is not None:
        query = query.where(Incident.occurred_at < end)
    if categories:
        query = query.where(Incident.category.in_(list(categories)))
    if district_code:
        query = query.where(Incident.district_code == district_code)
    if commune_code:
        query = query.where(Incident.commune_code == commune_code)
    rows = session.execute(query.order_by(Incident.occurred_at, Incident.id)).all()
    frame = pd.DataFrame(rows, columns=STORED_COLUMNS + ["is_demo"])
    return redact_sensitive(frame, viewer)


def redact_sensitive(frame: pd.DataFrame, viewer) -> pd.DataFrame:
    """Hide exact location and details of sensitive (trafficking-victim) cases from uncleared viewers.

    The row stays, so commune counts remain right, but ``lon``/``lat`` become NaN and the description is
    removed; ``redacted`` marks such rows. ``viewer=None`` (system use, e.g. statistics) sees no exact points.
    """
    frame = frame.copy()
    cleared = bool(getattr(viewer, "sensitive_clearance", False))
    hide = frame["sensitive"].astype(bool) if len(frame) else pd.Series([], dtype=bool)
    if cleared:
        hide = pd.Series(False, index=frame.index)
    frame["redacted"] = hide
    if hide.any():
        frame.loc[hide, ["lon", "lat"]] = np.nan
        frame.loc[hide, "description"] = ""
        frame.loc[hide, ["article", "clause"]] = ""
    return frame


def incident_years(session) -> list[int]:
    first, last = session.execute(select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))).one()
    if first is None:
        return []
    return list(range(first.year, last.year + 1))


def has_demo_data(session) -> bool:
    return session.scalar(select(Incident.id).where(Incident.is_demo.is_(True)).limit(1)) is not None


def incident_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Incident)) or 0
