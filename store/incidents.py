"""Incidents in the database: atomic upsert by source id, filtered reads, redaction of sensitive cases."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Integer, bindparam, func, or_, select, text, true
from sqlalchemy.exc import OperationalError

from store.build_once import BuildOnceCache
from store.meta import UNCOMMITTED_VERSION, bump_data_version, data_version
from store.models import ImportBatch, Incident, utcnow

STORED_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "commune_code", "district_code", "boundary_set_id", "sensitive", "description", "article", "clause"]
COMPARED_COLUMNS = [c for c in STORED_COLUMNS if c != "id"] + ["is_demo"]
CHUNK_ROWS = 50_000
BULK_ROWS = 100_000


def upsert_incidents(session, valid: pd.DataFrame, *, filename: str, username: str = "", refused: int = 0,
                     is_demo: bool = False, progress=None) -> ImportBatch:
    """Insert or update incidents by id inside the caller's transaction.

    A row identical to the stored one is left untouched (its ``updated_at`` too), so importing the same file
    twice changes nothing. ``progress(n)`` is called after each chunk with the rows written so far.
    """
    writer = IncidentWriter(session, filename=filename, username=username, is_demo=is_demo,
                            expected_rows=len(valid))
    for start in range(0, len(valid), CHUNK_ROWS):
        writer.write(valid.iloc[start:start + CHUNK_ROWS])
        if progress is not None:
            progress(min(start + CHUNK_ROWS, len(valid)))
    return writer.finish(rows=len(valid) + refused, refused=refused)


class IncidentWriter:
    """Upserts validated incidents by id, chunk after chunk, into one import batch of the caller's transaction.

    Parameters
    ----------
    session : Session
        The import's transaction: nothing is committed here, so a failure (or the caller's rollback) leaves
        the table as it was.
    expected_rows : int
        Rows the whole import may write; from :data:`BULK_ROWS` on, SQLite's secondary indexes are dropped
        first and rebuilt by :meth:`finish` (one sort per index instead of a random B-tree insert per row).

    Notes
    -----
    ``INSERT … ON CONFLICT (id) DO UPDATE … WHERE`` some column differs, so a row identical to the stored
    one is left untouched (its ``updated_at`` too) and an identical re-import changes nothing. On SQLite the
    rows go through the DB-API cursor of the session's own connection (same transaction) as plain tuples
    (``executemany``), about ten times faster than SQLAlchemy's per-row dict binding.
    """

    def __init__(self, session, *, filename: str, username: str = "", is_demo: bool = False,
                 expected_rows: int = 0):
        self.session = session
        self.is_demo = is_demo
        self.batch = ImportBatch(filename=filename, username=username, rows=0, refused=0, is_demo=is_demo)
        session.add(self.batch)
        session.flush()
        self.dialect = session.get_bind().dialect.name
        self.columns = STORED_COLUMNS + ["is_demo", "import_batch_id", "updated_at"]
        differs = " OR ".join(
            f"incidents.{c} IS DISTINCT FROM excluded.{c}" if self.dialect == "postgresql"
            else f"incidents.{c} IS NOT excluded.{c}" for c in COMPARED_COLUMNS)
        self.statement = text(
            f"INSERT INTO incidents ({', '.join(self.columns)}) VALUES ({', '.join(':' + c for c in self.columns)}) "
            f"ON CONFLICT (id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in self.columns if c != "id")
            + f" WHERE {differs}"
        )
        self.written = 0
        self.rows_given = 0
        self._cursor = None
        self._rebuilt: list[tuple[str, str]] = []
        if self.dialect == "sqlite":
            self._cursor = session.connection().connection.driver_connection.cursor()
            sql = self.statement.text
            for column in self.columns:
                sql = sql.replace(f":{column})", "?)").replace(f":{column},", "?,")
            self._sql = sql
            # DDL is transactional in SQLite, so a failure or rollback restores the indexes unchanged.
            self._rebuilt = _secondary_indexes(self._cursor) if expected_rows >= BULK_ROWS else []
            self._execute(lambda: [self._cursor.execute(f'DROP INDEX "{name}"') for name, _ in self._rebuilt])

    def _execute(self, run):
        try:
            return run()
        except sqlite3.OperationalError as e:
            # Same exception type as every other database error, so callers handle one kind.
            raise OperationalError(self._sql[:200], None, e) from e

    def write(self, valid: pd.DataFrame) -> int:
        """Upsert one chunk of validated rows (columns as :attr:`geo.incidents.ValidationResult.valid` plus
        ``boundary_set_id``); returns the rows it inserted or changed."""
        self.rows_given += len(valid)
        if not len(valid):
            return 0
        # Inserting in key order appends to the primary-key B-tree instead of splitting pages at random.
        if "id" in valid.columns and len(valid) > 1:
            import pyarrow as pa
            import pyarrow.compute as pc

            order = pc.array_sort_indices(pa.array(valid["id"].astype(str).to_numpy(dtype=object)))
            valid = valid.iloc[order.to_numpy()]
        written = 0
        for start in range(0, len(valid), CHUNK_ROWS):
            # Python values and tuples are built per chunk: a million rows of 18 values at once would be a
            # gigabyte of objects (lists of every column, then the tuples).
            values = _column_values(valid.iloc[start:start + CHUNK_ROWS], is_demo=self.is_demo,
                                    batch_id=self.batch.id, as_text_dates=self.dialect == "sqlite")
            rows = list(zip(*(values[c] for c in self.columns)))
            del values
            if self._cursor is not None:
                self._execute(lambda: self._cursor.executemany(self._sql, rows))
                written += max(self._cursor.rowcount, 0)
            else:
                result = self.session.connection().execute(self.statement,
                                                            [dict(zip(self.columns, row)) for row in rows])
                written += max(result.rowcount, 0)
        self.written += written
        return written

    def finish(self, *, rows: int, refused: int) -> ImportBatch:
        """Rebuild what was dropped, record the batch's counts and the status changes; returns the batch."""
        if self._cursor is not None:
            try:
                self._execute(lambda: [self._cursor.execute(create) for _, create in self._rebuilt])
            finally:
                self._cursor.close()
                self._cursor = None
        self.batch.rows, self.batch.refused, self.batch.written = rows, refused, self.written
        if self.written:
            record_status_changes(self.session, self.batch.id)
            bump_data_version(self.session, "incidents")
        self.session.flush()
        return self.batch

    def close(self) -> None:
        """Release the cursor of an import that stops without :meth:`finish` (the caller rolls back)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


def record_status_changes(session, batch_id: int, *, at: datetime | None = None) -> int:
    """One ``incident_status_history`` row for every incident the batch wrote whose case status differs from
    the last one recorded (or that has none yet), dated ``at`` (default now, UTC), in the caller's
    transaction. Returns the number of rows written."""
    dialect = session.get_bind().dialect.name
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    statement = text(
        "INSERT INTO incident_status_history (incident_id, case_status, recorded_at, import_batch_id) "
        "SELECT i.id, i.case_status, :at, i.import_batch_id FROM incidents i WHERE i.import_batch_id = :batch "
        "AND (SELECT h.case_status FROM incident_status_history h WHERE h.incident_id = i.id "
        f"ORDER BY h.recorded_at DESC, h.id DESC LIMIT 1) {differs} i.case_status"
    ).bindparams(bindparam("at", type_=DateTime), bindparam("batch", type_=Integer))
    result = session.execute(statement, {"at": at or utcnow(), "batch": batch_id})
    return max(result.rowcount, 0)


def status_as_of_column(as_of: datetime):
    """The case status each incident held at ``as_of`` (naive UTC), as a column of an incidents query: the
    last status recorded before then; for a case first recorded later (history imported after the
    period), the first status recorded; else the stored one."""
    from store.models import IncidentStatusHistory as History

    then = (select(History.case_status).where(History.incident_id == Incident.id, History.recorded_at < as_of)
            .order_by(History.recorded_at.desc(), History.id.desc()).limit(1).correlate(Incident).scalar_subquery())
    first = (select(History.case_status).where(History.incident_id == Incident.id)
             .order_by(History.recorded_at, History.id).limit(1).correlate(Incident).scalar_subquery())
    return func.coalesce(then, first, Incident.case_status).label("case_status")


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' "
                   "AND sql IS NOT NULL ORDER BY name")
    return list(cursor.fetchall())


# SQLAlchemy's SQLite DATETIME storage format: dates written as text must match it exactly, or an identical
# re-import would look changed and reads would not parse.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def _column_values(valid: pd.DataFrame, *, is_demo: bool, batch_id: int, as_text_dates: bool) -> dict[str, list]:
    """The stored columns of ``valid`` as lists of plain Python values, one list per column.

    Column-wise conversions (Arrow casts, ``tolist``) rather than a Python call per value: a million rows are
    18 million values, so one ``pd.isna`` or ``strftime`` per value costs seconds.
    """
    n = len(valid)

    def column(name, default=None):
        return valid[name] if name in valid.columns else pd.Series([default] * n, index=valid.index, dtype=object)

    values: dict[str, list] = {}
    for name in ("id", "category", "severity", "case_status", "commune_code", "district_code"):
        values[name] = _text_list(column(name))
    for name in ("description", "article", "clause"):
        values[name] = _text_list(column(name).fillna(""))
    set_ids = column("boundary_set_id")
    values["boundary_set_id"] = (pd.to_numeric(set_ids).astype("Int64").astype(object)
                                 .where(set_ids.notna(), None).tolist())
    values["lon"] = pd.to_numeric(column("lon")).astype(float).tolist()
    values["lat"] = pd.to_numeric(column("lat")).astype(float).tolist()
    values["sensitive"] = column("sensitive", False).fillna(False).astype(bool).tolist()
    for name in ("occurred_at", "reported_at"):
        stamps = pd.to_datetime(column(name))
        if as_text_dates:
            values[name] = _sqlite_datetime_text(stamps)
        else:
            values[name] = [None if pd.isna(v) else v.to_pydatetime() for v in stamps]
    now = utcnow()
    values["updated_at"] = [now.strftime(_SQLITE_DATETIME) if as_text_dates else now] * n
    values["is_demo"] = [bool(is_demo)] * n
    values["import_batch_id"] = [batch_id] * n
    return values


def _text_list(series: pd.Series) -> list[str]:
    """``series`` as a list of ``str``; a column already of Python strings (validation's object columns) is
    listed as it is, without the round trip through pandas' Arrow-backed ``str`` dtype that ``astype(str)``
    makes."""
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        return series.tolist()
    return series.astype(str).tolist()


def _sqlite_datetime_text(stamps: pd.Series) -> list:
    """Naive timestamps as SQLAlchemy's SQLite DATETIME text (:data:`_SQLITE_DATETIME`), ``None`` for NaT.

    Arrow's cast of a microsecond timestamp to text writes exactly that form (``2024-03-05 21:30:00.000000``,
    six digits always) about ten times faster than ``strftime``; nanoseconds are cut to microseconds, as
    SQLAlchemy stores them. A zone-aware column (none comes from validation) takes ``strftime``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if getattr(stamps.dtype, "tz", None) is not None:
        text_values = stamps.dt.strftime(_SQLITE_DATETIME)
        return text_values.astype(object).where(stamps.notna(), None).tolist()
    microseconds = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[us]")
    return pc.cast(pa.array(microseconds, mask=np.isnat(microseconds)), pa.string()).to_pylist()


def incident_frame(session, *, year: int | None = None, start: datetime | None = None, end: datetime | None = None,
                   categories=None, district_code: str | None = None, commune_code: str | None = None,
                   bbox: tuple[float, float, float, float] | None = None, viewer=None,
                   boundary_set: str | None = None, as_recorded: bool = False,
                   status_as_of: datetime | None = None) -> pd.DataFrame:
    """Incidents matching the filters as a DataFrame, in one boundary set, with sensitive cases redacted.

    ``start`` is inclusive and ``end`` exclusive; ``year`` is a shorthand for that calendar year.
    ``boundary_set`` (default: the set in force today) is the set the commune and district codes are
    expressed in: an incident recorded in another set is placed by its point in this one, and one whose point
    lies outside this set's province is left out and counted in ``attrs["outside_set"]``. ``district_code`` and
    ``commune_code`` are codes of that set. ``bbox`` (min lon, min lat, max lon, max lat) is a pre-filter for
    the caller's exact spatial filter: it keeps every sensitive case whatever its position, so the answer never
    depends on where a case the viewer may not locate lies. On PostGIS it uses the GiST index of
    ``incidents.geom``. ``as_recorded`` keeps each incident's codes in the set in force on its own date
    instead (exports); the ``boundary_set`` column always names the set the codes belong to.
    ``status_as_of`` (naive UTC) gives each case the status it held then (:func:`status_as_of_column`), so a
    report of a past period counts the cases cleared by its end, not those cleared since.

    While the table holds at most :data:`PLACED_CACHE_MAX_ROWS` incidents, the filters are applied to the
    set's placed table (:func:`placed_incidents`, built once per data version), so no request reads or places
    the table again; above that, and for ``status_as_of``, each call reads its rows from the database.
    """
    from store.boundaries import active_boundary_set, get_boundary_set

    target = active_boundary_set(session) if boundary_set is None else get_boundary_set(session, boundary_set)
    if as_recorded:
        target = None
    if year is not None:
        start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    filters = dict(start=start, end=end, categories=categories, district_code=district_code,
                   commune_code=commune_code, bbox=bbox)
    placed = placed_incidents(session, target) if status_as_of is None else None
    if placed is not None:
        frame, outside = _filter_placed(placed, **filters)
    else:
        frame, outside = _read_placed(session, target, status_as_of=status_as_of, **filters)
    frame = redact_sensitive(frame, viewer)
    frame.attrs.update(boundary_set=target.version if target is not None else None, outside_set=outside)
    return frame


# Above this many incidents the placed tables are not kept in memory (one copy per boundary set and process).
PLACED_CACHE_MAX_ROWS = 300_000
_PLACED = BuildOnceCache()


def placed_incidents(session, target) -> pd.DataFrame | None:
    """Every incident with its codes in the boundary set ``target`` (``None``: as recorded), unredacted,
    ordered by time and id; ``outside`` marks those whose point lies outside the set's province.

    Built once per process and data version (incidents, boundaries) and shared by every filter, so a page
    pays for its own filtering only. ``None`` when the table is larger than :data:`PLACED_CACHE_MAX_ROWS`,
    or while this session has changed the data without committing (its rows may still be rolled back).
    Callers must not modify the frame.
    """
    if session.info.get(UNCOMMITTED_VERSION):
        return None
    key = (str(session.get_bind().url), data_version(session, "incidents", "boundaries"),
           target.id if target is not None else None)

    def build():
        if incident_count(session) > PLACED_CACHE_MAX_ROWS:
            return None
        return _read_placed(session, target, keep_outside=True)[0]

    # An older data version of the same database is never asked for again.
    return _PLACED.get(key, build, evict=lambda old: old[0] == key[0] and old[1] != key[1])


def clear_placed_cache() -> None:
    _PLACED.clear()


def _filter_placed(placed: pd.DataFrame, *, start, end, categories, district_code, commune_code, bbox):
    keep, outside = _placed_mask(placed, start=start, end=end, categories=categories, district_code=district_code,
                                 commune_code=commune_code, bbox=bbox)
    return placed.loc[keep].drop(columns="outside").reset_index(drop=True), outside


def _placed_mask(placed: pd.DataFrame, *, start, end, categories, district_code, commune_code, bbox):
    """Which rows of the placed table the filters keep (boolean array), and how many of them lie outside."""
    keep = np.ones(len(placed), dtype=bool)
    if len(placed):
        occurred = placed["occurred_at"].to_numpy()
        if start is not None:
            keep &= occurred >= np.datetime64(pd.Timestamp(start))
        if end is not None:
            keep &= occurred < np.datetime64(pd.Timestamp(end))
        if categories:
            keep &= placed["category"].isin(list(categories)).to_numpy()
        if bbox is not None and bbox[0] <= bbox[2]:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            lon, lat = placed["lon"].to_numpy(dtype=float), placed["lat"].to_numpy(dtype=float)
            keep &= placed["sensitive"].astype(bool).to_numpy() | (
                (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
    outside_rows = placed["outside"].to_numpy(dtype=bool) if len(placed) else keep
    outside = int((keep & outside_rows).sum())
    keep &= ~outside_rows
    if district_code:
        keep &= (placed["district_code"] == district_code).to_numpy()
    if commune_code:
        keep &= (placed["commune_code"] == commune_code).to_numpy()
    return keep, outside


def _read_placed(session, target, *, start=None, end=None, categories=None, district_code=None,
                 commune_code=None, bbox=None, status_as_of=None, keep_outside: bool = False):
    """The filtered incidents read from the database and placed in ``target``; (frame, number outside).
    ``keep_outside`` keeps the rows outside ``target``'s province, marked in an ``outside`` column."""
    from store.boundaries import set_rows

    query = select(*(status_as_of_column(status_as_of) if c == "case_status" and status_as_of is not None
                     else getattr(Incident, c) for c in STORED_COLUMNS + ["is_demo"]))
    query = _filtered(query, session, target, start=start, end=end, categories=categories,
                      district_code=district_code, commune_code=commune_code)
    if bbox is not None and bbox[0] <= bbox[2]:
        query = query.where(Incident.sensitive.is_(True) | _in_box(session, bbox))
    rows = session.execute(query.order_by(Incident.occurred_at, Incident.id)).all()
    columns = STORED_COLUMNS + ["is_demo"]
    # Columns from plain tuples: pandas inspects every SQLAlchemy Row object otherwise (most of the read's time).
    frame = (pd.DataFrame(dict(zip(columns, (list(c) for c in zip(*rows))))) if rows
             else pd.DataFrame(rows, columns=columns))
    frame, outside = _express_in_set(session, frame, target, district_code, commune_code,
                                     keep_outside=keep_outside)
    if target is not None:
        frame["boundary_set"] = target.version
    else:
        keys = {r.id: r.version for r in set_rows(session)}
        frame["boundary_set"] = frame["boundary_set_id"].map(keys)
    return frame, outside


def _own_set(target):
    """Rows whose codes are already codes of ``target`` (recorded in it, or before sets were versioned)."""
    return (Incident.boundary_set_id.is_(None) | (Incident.boundary_set_id == target.id)
            if target is not None else true())


def _filtered(query, session, target, *, start=None, end=None, categories=None, district_code=None,
              commune_code=None):
    """``query`` cut by time (start inclusive, end exclusive), categories and the codes of ``target``; rows of
    other sets pass the code filters here and are placed by their point afterwards (:func:`_express_in_set`)."""
    if start is not None:
        query = query.where(Incident.occurred_at >= start)
    if end is not None:
        query = query.where(Incident.occurred_at < end)
    if categories:
        query = query.where(Incident.category.in_(list(categories)))
    own_set = _own_set(target)
    if district_code:
        query = query.where(~own_set | (Incident.district_code == district_code))
    if commune_code:
        query = query.where(~own_set | (Incident.commune_code == commune_code))
    return query


def _express_in_set(session, frame: pd.DataFrame, target, district_code=None, commune_code=None, *,
                    keep_outside: bool = False):
    """Codes of rows recorded in another set replaced by the commune of ``target`` their point lies in; rows
    outside ``target``'s province are dropped (their number is returned) and the code filters applied to the
    placed rows. Returns ``(frame, outside)``. ``keep_outside`` (the placed table of :func:`placed_incidents`)
    keeps every row instead, those outside marked in an ``outside`` column, and applies no code filter."""
    from store.boundaries import commune_locator

    outside = 0
    if keep_outside:
        frame = frame.assign(outside=False)
    if target is not None and len(frame):
        other = frame["boundary_set_id"].notna() & (frame["boundary_set_id"] != target.id)
        if other.any():
            locator = commune_locator(session, target.version)
            placed = locator.assign(frame.loc[other, "lon"], frame.loc[other, "lat"])
            hit = placed.commune_index >= 0
            codes = np.where(hit, placed.commune_code, None)
            districts = np.where(hit, locator.district_codes[np.maximum(placed.commune_index, 0)], None)
            frame.loc[other, "commune_code"] = codes
            frame.loc[other, "district_code"] = districts
            outside = int((~hit).sum())
            if keep_outside:
                frame.loc[other, "outside"] = ~hit
                return frame, outside
            frame = frame[frame["commune_code"].notna()]
            if district_code:
                frame = frame[frame["district_code"] == district_code]
            if commune_code:
                frame = frame[frame["commune_code"] == commune_code]
            frame = frame.reset_index(drop=True)
    return frame, outside


def _box_condition(session, bbox):
    """Points inside (min lon, min lat, max lon, max lat), also a box across the antimeridian (min lon > max lon)."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if minx <= maxx:
        return _in_box(session, bbox)
    # or_(): PostGIS boxes are text clauses, which have no | operator
    return or_(_in_box(session, (minx, miny, 180.0, maxy)),
               _in_box(session, (-180.0, miny, maxx, maxy), name="bbox_west"))


def case_page(session, *, start=None, end=None, categories=None, district_code=None, bbox=None, viewer=None,
              boundary_set=None, limit: int = 100, offset: int = 0, whole_unit=None):
    """One page of the per-case records a viewer may receive, and how many match: ``(frame, number_matched)``.

    The same rows, in the same order (occurred_at, id), as :func:`case_records` of :func:`incident_frame`
    sliced ``[offset:offset + limit]``, cut by ``whole_unit`` (a function keeping the rows a local committee may
    receive, :func:`store.scope.own_cases`), but without reading the whole table: time, category, codes,
    ``bbox`` (exact: a point inside the box) and the confidentiality of cases (an uncleared viewer receives no
    sensitive case) are SQL conditions, and when they decide the matches alone (no row recorded in another set
    among them, no unit to cut to) ``LIMIT``/``OFFSET`` and ``COUNT`` run in the database too. Otherwise the
    matching ids and points are read (a few columns), placed in the set, and only the page's rows read whole.
    """
    from store.boundaries import active_boundary_set, get_boundary_set

    target = active_boundary_set(session) if boundary_set is None else get_boundary_set(session, boundary_set)
    placed = placed_incidents(session, target)
    if placed is not None:
        return _placed_page(placed, viewer, start=start, end=end, categories=categories, district_code=district_code,
                            bbox=bbox, limit=limit, offset=offset, whole_unit=whole_unit)
    where = _filtered(select(Incident.id), session, target, start=start, end=end, categories=categories,
                      district_code=district_code)
    if not getattr(viewer, "sensitive_clearance", False):
        where = where.where(Incident.sensitive.is_(False))
    if bbox is not None:
        where = where.where(_box_condition(session, bbox))
    ordered = where.order_by(Incident.occurred_at, Incident.id)
    whole_columns = STORED_COLUMNS + ["is_demo"]
    foreign = session.scalar(select(where.where(~_own_set(target)).exists())) if target is not None else False
    if not foreign and whole_unit is None:
        matched = session.scalar(select(func.count()).select_from(where.subquery()))
        rows = session.execute(ordered.with_only_columns(*(getattr(Incident, c) for c in whole_columns))
                               .limit(limit).offset(offset)).all()
    else:
        light = ["id", "occurred_at", "lon", "lat", "boundary_set_id", "commune_code", "district_code"]
        rows = session.connection().execute(ordered.with_only_columns(*(getattr(Incident, c) for c in light))).all()
        frame, _ = _express_in_set(session, _columns_frame(rows, light), target, district_code)
        if whole_unit is not None:
            frame = whole_unit(frame)
        matched = len(frame)
        chosen = frame.iloc[offset:offset + limit]
        rows = []
        if len(chosen):
            # The page's rows lie between its first and last time: a range (not thousands of ids bound one
            # by one); rows in that range but not on the page (placed outside, cut) are dropped after reading.
            between = ordered.with_only_columns(*(getattr(Incident, c) for c in whole_columns)).where(
                Incident.occurred_at >= chosen["occurred_at"].iloc[0].to_pydatetime(),
                Incident.occurred_at <= chosen["occurred_at"].iloc[-1].to_pydatetime())
            keep = set(chosen["id"].tolist())
            rows = [row for row in session.connection().execute(between).all() if row[0] in keep]
    page, _ = _express_in_set(session, _columns_frame(rows, whole_columns), target)
    page["boundary_set"] = target.version if target is not None else None
    return redact_sensitive(page, viewer).reset_index(drop=True), int(matched)


def _columns_frame(rows, columns) -> pd.DataFrame:
    """A frame of result rows, built from plain column lists: pandas inspects every SQLAlchemy Row otherwise."""
    if not rows:
        return pd.DataFrame(rows, columns=columns)
    return pd.DataFrame(dict(zip(columns, (list(c) for c in zip(*rows)))))


def _placed_page(placed, viewer, *, start, end, categories, district_code, bbox, limit, offset, whole_unit):
    """:func:`case_page` cut from the placed table kept per data version (:func:`placed_incidents`): the
    same conditions as its SQL, evaluated on columns in memory, so a page costs its own rows only."""
    keep, _ = _placed_mask(placed, start=start, end=end, categories=categories, district_code=district_code,
                           commune_code=None, bbox=None)
    if len(placed) and not getattr(viewer, "sensitive_clearance", False):
        keep &= ~placed["sensitive"].astype(bool).to_numpy()
    if len(placed) and bbox is not None:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
        lon, lat = placed["lon"].to_numpy(dtype=float), placed["lat"].to_numpy(dtype=float)
        # as _box_condition: bounds inclusive; a box with min lon > max lon crosses the antimeridian
        in_lon = (lon >= minx) & (lon <= maxx) if minx <= maxx else (lon >= minx) | (lon <= maxx)
        keep &= in_lon & (lat >= miny) & (lat <= maxy)
    if whole_unit is None:
        # only the page's rows are copied out of the table (it may hold 300,000)
        chosen = np.flatnonzero(keep)
        page, matched = placed.iloc[chosen[offset:offset + limit]], len(chosen)
    else:
        frame = whole_unit(placed.loc[keep])
        page, matched = frame.iloc[offset:offset + limit], len(frame)
    page = page.drop(columns="outside")
    return redact_sensitive(page, viewer).reset_index(drop=True), matched


def temporal_extent(session, viewer=None):
    """(first, last) occurred_at of the cases a viewer may receive, or (None, None); one aggregate query."""
    query = select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))
    if not getattr(viewer, "sensitive_clearance", False):
        query = query.where(Incident.sensitive.is_(False))
    return tuple(session.execute(query).one())


def spatial_extent(session, viewer=None):
    """(min lon, min lat, max lon, max lat) of the located cases a viewer may receive, or None."""
    query = select(func.min(Incident.lon), func.min(Incident.lat), func.max(Incident.lon), func.max(Incident.lat))
    query = query.where(Incident.lon.is_not(None), Incident.lat.is_not(None))
    if not getattr(viewer, "sensitive_clearance", False):
        query = query.where(Incident.sensitive.is_(False))
    bounds = session.execute(query).one()
    return None if bounds[0] is None else tuple(float(v) for v in bounds)


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


def _in_box(session, bbox, name: str = "bbox"):
    """Points inside the box; ``name`` keeps the PostGIS parameters of two boxes in one query apart."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if has_point_index(session):
        envelope = f"ST_MakeEnvelope(:{name}_minx, :{name}_miny, :{name}_maxx, :{name}_maxy, 4326)"
        return text(f"ST_Intersects(incidents.geom, {envelope})").bindparams(
            **{f"{name}_minx": minx, f"{name}_miny": miny, f"{name}_maxx": maxx, f"{name}_maxy": maxy})
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


def case_records(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a redacted frame that may leave as per-case records (exports, OGC items, CLI export).

    A redacted case keeps counting in its commune, but a row of its own — source id, time, category,
    severity, status and commune — identifies it as surely as a point would, so it is dropped here.
    """
    if "redacted" not in frame.columns or not len(frame):
        return frame
    return frame[~frame["redacted"].astype(bool)].reset_index(drop=True)


def incident_years(session) -> list[int]:
    first, last = session.execute(select(func.min(Incident.occurred_at), func.max(Incident.occurred_at))).one()
    if first is None:
        return []
    return list(range(first.year, last.year + 1))


def has_demo_data(session) -> bool:
    return session.scalar(select(Incident.id).where(Incident.is_demo.is_(True)).limit(1)) is not None


def incident_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Incident)) or 0
