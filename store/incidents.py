"""Incidents in the database: atomic upsert by source id, filtered reads, redaction of sensitive cases."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from store.meta import bump_data_version
from store.models import ImportBatch, Incident, utcnow

STORED_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "commune_code", "district_code", "sensitive", "description", "article", "clause"]
COMPARED_COLUMNS = [c for c in STORED_COLUMNS if c != "id"] + ["is_demo"]
CHUNK_ROWS = 50_000
BULK_ROWS = 100_000


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
    # Inserting in key order appends to the primary-key B-tree instead of splitting pages at random.
    if "id" in valid.columns and len(valid) > 1:
        valid = valid.iloc[np.argsort(valid["id"].to_numpy(dtype=str), kind="stable")]
    values = _column_values(valid, is_demo=is_demo, batch_id=batch.id, as_text_dates=dialect == "sqlite")
    rows = list(zip(*(values[c] for c in columns)))
    written = 0
    if dialect == "sqlite":
        # The DB-API cursor on the session's own connection (same transaction) binds plain tuples: about ten
        # times faster than SQLAlchemy's per-row dict binding, which matters for million-row imports.
        cursor = session.connection().connection.driver_connection.cursor()
        sql = statement.text
        for column in columns:
            sql = sql.replace(f":{column})", "?)").replace(f":{column},", "?,")
        # A large batch drops the secondary indexes and rebuilds them after: one sort per index instead of a
        # random B-tree insert per row. DDL is transactional in SQLite, so a failure restores them unchanged.
        rebuilt = _secondary_indexes(cursor) if len(rows) >= BULK_ROWS else []
        for name, _ in rebuilt:
            cursor.execute(f'DROP INDEX "{name}"')
        try:
            for start in range(0, len(rows), CHUNK_ROWS):
                cursor.executemany(sql, rows[start:start + CHUNK_ROWS])
                written += max(cursor.rowcount, 0)
                if progress is not None:
                    progress(min(start + CHUNK_ROWS, len(rows)))
            for _, create in rebuilt:
                cursor.execute(create)
        except sqlite3.OperationalError as e:
            # Same exception type as every other database error, so callers handle one kind.
            raise OperationalError(sql[:200], None, e) from e
        finally:
            cursor.close()
    else:
        connection = session.connection()
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = [dict(zip(columns, row)) for row in rows[start:start + CHUNK_ROWS]]
            result = connection.execute(statement, chunk)
            written += max(result.rowcount, 0)
            if progress is not None:
                progress(min(start + CHUNK_ROWS, len(rows)))
    batch.written = written
    if written:
        bump_data_version(session, "incidents")
    return batch


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' "
                   "AND sql IS NOT NULL ORDER BY name")
    return list(cursor.fetchall())


# SQLAlchemy's SQLite DATETIME storage format: dates written as text must match it exactly, or an identical
# re-import would look changed and reads would not parse.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def _column_values(valid: pd.DataFrame, *, is_demo: bool, batch_id: int, as_text_dates: bool) -> dict[str, list]:
    n = len(valid)

    def column(name, default=None):
        return valid[name] if name in valid.columns else pd.Series([default] * n, index=valid.index, dtype=object)

    values: dict[str, list] = {}
    for name in ("id", "category", "severity", "case_status", "commune_code", "district_code"):
        values[name] = column(name).astype(str).tolist()
    for name in ("description", "article", "clause"):
        values[name] = column(name).fillna("").astype(str).tolist()
    values["lon"] = pd.to_numeric(column("lon")).astype(float).tolist()
    values["lat"] = pd.to_numeric(column("lat")).astype(float).tolist()
    values["sensitive"] = column("sensitive", False).fillna(False).astype(bool).tolist()
    for name in ("occurred_at", "reported_at"):
        stamps = pd.to_datetime(column(name))
        if as_text_dates:
            text_values = stamps.dt.strftime(_SQLITE_DATETIME)
            values[name] = text_values.astype(object).where(stamps.notna(), None).tolist()
        else:
            values[name] = [None if pd.isna(v) else v.to_pydatetime() for v in stamps]
    now = utcnow()
    values["updated_at"] = [now.strftime(_SQLITE_DATETIME) if as_text_dates else now] * n
    values["is_demo"] = [bool(is_demo)] * n
    values["import_batch_id"] = [batch_id] * n
    return values


def incident_frame(session, *, year: int | None = None, start: datetime | None = None, end: datetime | None = None,
                   categories=None, district_code: str | None = None, commune_code: str | None = None,
                   bbox: tuple[float, float, float, float] | None = None, viewer=None) -> pd.DataFrame:
    """Incidents matching the filters as a DataFrame, with sensitive cases redacted for ``viewer``.

    ``start`` is inclusive and ``end`` exclusive; ``year`` is a shorthand for that calendar year.
    ``bbox`` (min lon, min lat, max lon, max lat) is a pre-filter for the caller's exact spatial filter: it
    keeps every sensitive case whatever its position, so the answer never depends on where a case the viewer
    may not locate lies. On PostGIS it uses the GiST index of ``incidents.geom``.
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
    if bbox is not None and bbox[0] <= bbox[2]:
        query = query.where(Incident.sensitive.is_(True) | _in_box(session, bbox))
    rows = session.execute(query.order_by(Incident.occurred_at, Incident.id)).all()
    frame = pd.DataFrame(rows, columns=STORED_COLUMNS + ["is_demo"])
    return redact_sensitive(frame, viewer)


_POSTGIS: dict[str, bool] = {}


def has_point_index(session) -> bool:
    """Whether ``incidents.geom`` (PostGIS, migration 0007) exists on this database."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    url = str(bind.url)
    if url not in _POSTGIS:
        _POSTGIS[url] = session.execute(text(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'incidents' AND column_name = 'geom'"
        )).first() is not None
    return _POSTGIS[url]


def _in_box(session, bbox):
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if has_point_index(session):
        envelope = "ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326)"
        return text(f"ST_Intersects(incidents.geom, {envelope})").bindparams(
            bbox_minx=minx, bbox_miny=miny, bbox_maxx=maxx, bbox_maxy=maxy)
    return Incident.lon.between(minx, maxx) & Incident.lat.between(miny, maxy)


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
