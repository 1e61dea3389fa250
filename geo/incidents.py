"""Incident files: read CSV / XLSX / GeoJSON, validate every row, assign each point to its commune.

The pipeline is column-wise (pandas vectorised parsing, one point-in-polygon pass per commune), so a
million rows validate in seconds; a :class:`RowError` is built only for a bad row. Validation never
stops at the first problem: every bad value of every row is reported with its row number, field,
value and reason, so the importer can refuse a file atomically and tell the user everything at once.

Row numbers (:data:`ROW_NUMBERING`) count data rows from 1; the header line is not counted. In a
spreadsheet the row shown as ``row 1`` is therefore on sheet line 2. GeoJSON rows are feature numbers.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely


from geo import offences, taxonomy
from geo.boundaries import BoundarySet, resolve_fields
from geo.crs import METRIC_CRS, lonlat_to_metric
from geo.errors import GeoInputError
from geo.textencoding import CSV_DELIMITERS, csv_delimiter  # noqa: F401  (re-exported)
from translations import Message, message

ROW_NUMBERING = "data rows counted from 1; the header line is not counted (GeoJSON: feature number)"
ROW_NUMBERING_VI = "số dòng tính từ dòng dữ liệu đầu tiên, không tính dòng tiêu đề (GeoJSON: số thứ tự đối tượng)"

#: Canonical incident fields -> aliases tried (case-, diacritic- and punctuation-insensitive).
INCIDENT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("incident_id", "ma_vu", "ma_vu_viec", "so_vu", "ma_ho_so", "case_id"),
    "occurred_at": ("occurred", "date", "ngay_xay_ra", "thoi_gian_xay_ra", "ngay_xr", "thoi_gian"),
    "reported_at": ("reported", "ngay_tiep_nhan", "ngay_bao", "thoi_gian_tiep_nhan", "ngay_tn"),
    "category": ("loai", "loai_toi_pham", "loai_vu_viec", "toi_danh", "nhom_toi_pham"),
    "severity": ("muc_do", "phan_loai_toi_pham", "tinh_chat"),
    "case_status": ("status", "trang_thai", "tinh_trang", "ket_qua"),
    "lon": ("longitude", "lng", "long", "kinh_do", "x"),
    "lat": ("latitude", "vi_do", "y"),
    "sensitive": ("nhay_cam", "bao_mat", "mat"),
    "description": ("mo_ta", "noi_dung", "tom_tat", "ghi_chu"),
    "article": ("dieu", "dieu_luat", "dieu_blhs"),
    "clause": ("khoan",),
    "district_code": ("ma_huyen", "district"),
}

REQUIRED_INCIDENT_FIELDS = ("id", "occurred_at", "category", "severity", "case_status", "lon", "lat")
#: Fields whose values repeat a few names or codes over the rows (read once per distinct value).
FEW_DISTINCT_FIELDS = ("category", "severity", "case_status", "sensitive", "article", "clause", "district_code")

#: Columns of :attr:`ValidationResult.valid`, in order.
VALID_COLUMNS = ["row", "id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                 "commune_code", "district_code", "sensitive", "description", "article", "clause", "boundary_set"]

EARLIEST_DATE = pd.Timestamp("1990-01-01")
LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class RowError:
    """One refused value: ``row`` as in :data:`ROW_NUMBERING`, the canonical ``field``, the raw ``value``."""

    row: int
    field: str
    value: str
    reason: str
    #: The reason as a message id with its parameters, worded in the reader's language where shown
    #: (``reason`` is its English wording, for the command line, the CSV report and grouping).
    message: Message | None = field(default=None, compare=False)


@dataclass
class ValidationResult:
    """Normalised valid rows (columns :data:`VALID_COLUMNS`) and the errors of the refused rows.

    ``warnings`` are kept rows with something worth checking (e.g. a district hint that disagrees with
    the commune the point falls in, which the coarse 1:250k boundaries can cause near an edge).
    """

    valid: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def refused_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


class Assignment(NamedTuple):
    """Result of :meth:`CommuneLocator.assign` (unpacks as a tuple)."""

    commune_code: np.ndarray       # object array: code, or None outside the province / for NaN input
    distance_m: np.ndarray         # 0 inside; metres to the nearest commune outside; NaN for NaN input
    nearest_name: np.ndarray       # object array: name of the containing or nearest commune; None for NaN
    commune_index: np.ndarray      # int array: row in ``locator.communes`` or -1 outside / NaN input


class CommuneLocator:
    """Assign lon/lat points to communes; built once per boundary set, then reused.

    Parameters
    ----------
    communes : GeoDataFrame or BoundarySet
        EPSG:4326 polygons with ``commune_code`` and ``commune_name`` (``district_code`` optional).

    Notes
    -----
    Containment is tested per commune on the points inside its bounding box with GEOS
    ``intersects`` on raw coordinates (``shapely.intersects_xy``; no Point objects are created), the
    communes taken in ascending code order. A point counts as in a commune when it lies inside it *or on
    its boundary*; a point on an edge or vertex shared by several communes goes to the **lowest commune
    code** among them, so the result never depends on file order. The test runs in degrees on the stored
    EPSG:4326 polygons, exactly as ``geopandas.sjoin(predicate="intersects")`` would. Distances of
    points outside are measured in EPSG:32648 metres to the nearest commune (``STRtree.query_nearest``).
    """

    def __init__(self, communes):
        frame = communes.communes if isinstance(communes, BoundarySet) else communes
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            raise GeoInputError(message("geo.incidents.communes_epsg_got", frame_crs=frame.crs))
        for column in ("commune_code", "commune_name"):
            if column not in frame.columns:
                raise GeoInputError(message("geo.incidents.communes_lack_column_columns", column=column,
                                            frame_columns=', '.join(frame.columns)))
        self.communes = frame.sort_values("commune_code").reset_index(drop=True)
        self.codes = self.communes["commune_code"].astype(str).to_numpy(dtype=object)
        self.names = self.communes["commune_name"].astype(str).to_numpy(dtype=object)
        self.district_codes = (self.communes["district_code"].astype(str).to_numpy(dtype=object)
                               if "district_code" in self.communes else np.full(len(self.codes), None))
        self._polygons = self.communes.geometry.values
        shapely.prepare(self._polygons)
        self._bounds = shapely.bounds(self._polygons)
        self._metric = self.communes.geometry.to_crs(METRIC_CRS).values
        self._metric_tree = shapely.STRtree(self._metric)
        minx, miny = self._bounds[:, 0].min(), self._bounds[:, 1].min()
        maxx, maxy = self._bounds[:, 2].max(), self._bounds[:, 3].max()
        self.total_bounds = (minx, miny, maxx, maxy)

    def assign(self, lon, lat) -> Assignment:
        """Return the commune of each point (see the class Notes for points on shared edges).

        Parameters
        ----------
        lon, lat : array-like of float
            WGS 84 degrees; NaN gives no commune and NaN distance.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        n = lon.size
        index = np.full(n, -1, dtype=np.int64)
        finite = np.isfinite(lon) & np.isfinite(lat)
        minx, miny, maxx, maxy = self.total_bounds
        candidate = np.flatnonzero(finite & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
        # Sorting candidates by longitude turns each commune's bounding-box filter into a slice.
        order = candidate[np.argsort(lon[candidate], kind="stable")]
        sorted_lon = lon[order]
        for i, polygon in enumerate(self._polygons):
            x0, y0, x1, y1 = self._bounds[i]
            start = np.searchsorted(sorted_lon, x0, side="left")
            stop = np.searchsorted(sorted_lon, x1, side="right")
            if start >= stop:
                continue
            rows = order[start:stop]
            rows = rows[(lat[rows] >= y0) & (lat[rows] <= y1) & (index[rows] < 0)]
            if rows.size:
                hit = shapely.intersects_xy(polygon, lon[rows], lat[rows])
                index[rows[hit]] = i  # communes run in code order, so the lowest code keeps a shared edge

        codes = np.full(n, None, dtype=object)
        names = np.full(n, None, dtype=object)
        distance = np.full(n, np.nan)
        inside = index >= 0
        codes[inside] = self.codes[index[inside]]
        names[inside] = self.names[index[inside]]
        distance[inside] = 0.0
        outside = np.flatnonzero(finite & ~inside)
        if outside.size:
            x, y = lonlat_to_metric(lon[outside], lat[outside])
            nearest, dist = self._metric_tree.query_nearest(shapely.points(x, y), return_distance=True,
                                                           all_matches=False)
            distance[outside[nearest[0]]] = dist
            names[outside[nearest[0]]] = self.names[nearest[1]]
        return Assignment(codes, distance, names, index)


class DatedLocator:
    """Communes of several boundary sets, each deciding for the points dated within its validity.

    The province outline follows the date: a point in old Tiền Giang dated before 01/07/2025 lies outside the
    province of the set then in force, the same point dated after lies in a commune of the 2025 set.

    Parameters
    ----------
    entries : list of (geo.boundary_sets.SetVersion, CommuneLocator)
        One locator per set; the sets must not overlap.
    """

    def __init__(self, entries):
        self.entries = sorted(entries, key=lambda e: e[0].effective_from)
        if not self.entries:
            raise GeoInputError(message("geo.incidents.boundary_set_loaded_run"))

    @property
    def first(self):
        return self.entries[0][0]

    def set_index(self, days) -> np.ndarray:
        """Index into :attr:`entries` of the set in force on each day (NaT or uncovered: -1)."""
        days = pd.to_datetime(pd.Series(days)).dt.normalize().to_numpy(dtype="datetime64[D]")
        index = np.full(len(days), -1, dtype=np.int64)
        for i, (version, _) in enumerate(self.entries):
            start = np.datetime64(version.effective_from, "D")
            inside = days >= start
            if version.effective_to is not None:
                inside &= days < np.datetime64(version.effective_to, "D")
            index[inside & ~np.isnat(days)] = i
        return index


# --------------------------------------------------------------------------------------------- reading

#: Bounds of an incident file, checked before or while it is parsed, so that a crafted file (millions of
#: rows, thousands of columns, a 50 MB cell, an XLSX whose XML inflates a thousandfold) is refused early
#: instead of filling memory. A real file of the province is far inside them.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 100
MAX_CELL_CHARS = 10_000
#: Inflated size of an XLSX's parts: the whole archive, and the shared-strings table openpyxl keeps in memory.
MAX_XLSX_UNCOMPRESSED_BYTES = 2_000_000_000
MAX_XLSX_SHARED_STRINGS_BYTES = 200_000_000


def check_xlsx_archive(path: Path) -> None:
    """Refuse an XLSX whose parts would inflate beyond the bounds (a zip bomb), before parsing any of it."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise GeoInputError(message("geo.incidents.path_workbook_inflates_bytes", path_name=path.name, total=total,
                                    max_xlsx_uncompressed_bytes=MAX_XLSX_UNCOMPRESSED_BYTES))
    shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if shared > MAX_XLSX_SHARED_STRINGS_BYTES:
        raise GeoInputError(message("geo.incidents.path_workbook_s_shared", path_name=path.name, shared=shared,
                                    max_xlsx_shared_strings_bytes=MAX_XLSX_SHARED_STRINGS_BYTES))


def check_table_bounds(table, name: str, *, first_row: int = 1) -> None:
    """Refuse a table (Arrow, or a frame of text) beyond :data:`MAX_ROWS`, :data:`MAX_COLUMNS` or
    :data:`MAX_CELL_CHARS`; ``first_row`` numbers the table's first row (a batch of a longer file).

    Notes
    -----
    The longest cell of each text column is found with Arrow's vectorised ``utf8_length`` kernel
    (``pyarrow.compute``), so the check costs no Python object per cell.
    """
    if isinstance(table, pd.DataFrame):
        table = pa.table({str(column): pa.array(table.iloc[:, position].astype(str).tolist(), pa.string())
                          for position, column in enumerate(table.columns)})
    if table.num_rows > MAX_ROWS:
        raise GeoInputError(message("geo.incidents.path_more_than_rows", name=name, max_rows=MAX_ROWS))
    if table.num_columns > MAX_COLUMNS:
        raise GeoInputError(message("geo.incidents.path_columns_more_than", name=name, table_shape=table.num_columns,
                                    max_columns=MAX_COLUMNS))
    for column, values in zip(table.column_names, table.columns):
        if not table.num_rows or not pa.types.is_string(values.type):
            continue
        lengths = pc.utf8_length(values)
        longest = pc.max(lengths).as_py() or 0
        if longest > MAX_CELL_CHARS:
            row = pc.index(lengths, longest).as_py() + first_row
            raise GeoInputError(message("geo.incidents.path_row_holds_cell", name=name, row=row, lengths=longest,
                                        max_cell_chars=MAX_CELL_CHARS, column=str(column)[:40]))


class IncidentFile:
    """The cells of an incident file as an Arrow table, read once and handed out in chunks of rows.

    Every cell is text (``""`` when empty) except ``lon``/``lat`` of a CSV whose column is wholly numeric
    (float). Columns carry the canonical names of :data:`INCIDENT_FIELDS` where one was recognised; other
    columns keep their names. Arrow holds a million rows of text in about the file's size, where one Python
    string per cell would take several times that: the importer converts one chunk at a time
    (:meth:`chunks`) to validate and write it, so the import's memory is the table plus one chunk.

    Attributes
    ----------
    encoding, delimiter : str
        How a CSV was read (codec name, separator); ``""`` for XLSX and GeoJSON.
    """

    def __init__(self, table: pa.Table, *, encoding: str = "", delimiter: str = ""):
        self._table = table
        self.encoding = encoding
        self.delimiter = delimiter

    @property
    def table(self) -> pa.Table:
        return self._table

    def __len__(self) -> int:
        return self._table.num_rows

    def frame(self, start: int = 0, stop: int | None = None, *, fields_only: bool = False) -> pd.DataFrame:
        """Rows ``start``..``stop`` as :func:`read_incident_table` returns them (``row`` numbered in the file).

        ``fields_only`` leaves out the columns that are no incident field (validation never reads them).
        """
        stop = len(self) if stop is None else min(stop, len(self))
        return _frame_of(self.table.slice(start, max(stop - start, 0)), start, fields_only=fields_only,
                         encoding=self.encoding, delimiter=self.delimiter)

    def chunks(self, rows: int):
        """Frames of ``rows`` rows each (the last one shorter), in file order, with only the incident fields."""
        for start in range(0, len(self), rows):
            yield self.frame(start, start + rows, fields_only=True)

    def first_rows_of_ids(self) -> np.ndarray | None:
        """For each row, the row number of the first row holding its id (:func:`first_rows_of_ids`)."""
        if "id" not in self.table.column_names:
            return None
        ids = self.table.column("id")
        if not pa.types.is_string(ids.type):
            return None
        return first_rows_of_ids(ids)


class StreamedCsvFile(IncidentFile):
    """A UTF-8 CSV read from disk twice instead of held: once to check it and to keep its ids, once in chunks.

    The first pass (on construction) applies every bound of :func:`check_table_bounds`, learns whether each
    coordinate column is wholly numeric and keeps only the ``id`` column; the second (:meth:`chunks`) parses
    the file again block by block. Arrow's parser reads a hundred megabytes a second, so the second parse
    costs less than holding a million rows of text in memory during the whole import.
    """

    def __init__(self, path: Path, names: list[str], canonical: list[str], delimiter: str):
        self.path, self.names, self.canonical = path, names, canonical
        self.encoding, self.delimiter = "utf-8", delimiter
        self._rows = 0
        self._numeric = {name for name in ("lon", "lat") if name in canonical}
        ids = []
        for batch in self._batches():
            check_table_bounds(batch, path.name, first_row=self._rows + 1)
            self._rows += batch.num_rows
            if self._rows > MAX_ROWS:
                raise GeoInputError(message("geo.incidents.path_more_than_rows", name=path.name, max_rows=MAX_ROWS))
            for name in list(self._numeric):
                if not _castable_to_float(batch.column(name)):
                    self._numeric.discard(name)
            if "id" in canonical:
                ids.append(batch.column("id"))
        self._ids = pa.chunked_array(ids, pa.string()) if "id" in canonical else None

    def _batches(self):
        import pyarrow.csv as pacsv

        reader = pacsv.open_csv(str(self.path), **_csv_options(self.names, self.delimiter))
        for batch in reader:
            yield _strip_initial_spaces(pa.Table.from_batches([batch]).rename_columns(self.canonical))

    @property
    def table(self) -> pa.Table:
        """The whole file as one table (for :func:`read_incident_table`; an import streams it instead)."""
        parts = [_numeric_coordinates(batch, self._numeric) for batch in self._batches()]
        schema = parts[0].schema if parts else pa.schema([(name, pa.string()) for name in self.canonical])
        return pa.concat_tables(parts) if parts else schema.empty_table()

    def __len__(self) -> int:
        return self._rows

    def frame(self, start: int = 0, stop: int | None = None, *, fields_only: bool = False) -> pd.DataFrame:
        stop = len(self) if stop is None else min(stop, len(self))
        return _frame_of(self.table.slice(start, max(stop - start, 0)), start, fields_only=fields_only,
                         encoding=self.encoding, delimiter=self.delimiter)

    def chunks(self, rows: int):
        pending: list[pa.Table] = []
        held = start = 0
        keep = [name for name in self.canonical if name in INCIDENT_FIELDS]
        for batch in self._batches():
            pending.append(_numeric_coordinates(batch.select(keep), self._numeric))
            held += batch.num_rows
            while held >= rows:
                buffer = pa.concat_tables(pending)
                yield _frame_of(buffer.slice(0, rows), start, fields_only=True, encoding=self.encoding,
                                delimiter=self.delimiter)
                start, held = start + rows, held - rows
                pending = [buffer.slice(rows)] if held else []
        if held:
            yield _frame_of(pa.concat_tables(pending), start, fields_only=True, encoding=self.encoding,
                            delimiter=self.delimiter)

    def first_rows_of_ids(self) -> np.ndarray | None:
        return None if self._ids is None else first_rows_of_ids(self._ids)


def _frame_of(part: pa.Table, start: int, *, fields_only: bool, encoding: str, delimiter: str) -> pd.DataFrame:
    data: dict = {"row": np.arange(start + 1, start + part.num_rows + 1, dtype=np.int64)}
    for name, column in zip(part.column_names, part.columns):
        if fields_only and name not in INCIDENT_FIELDS:
            continue
        # Object arrays of str, as validation reads them (no Arrow-backed str dtype: pandas would turn
        # every cell back into a Python string at each access).
        values = column.to_numpy()
        data[name] = pd.Series(values, dtype=object if values.dtype == object else values.dtype, copy=False)
    frame = pd.DataFrame(data)
    frame.attrs.update(encoding=encoding, delimiter=delimiter)
    return frame


def first_rows_of_ids(ids) -> np.ndarray:
    """The row number (from 1) of the first occurrence of each row's id, in file order.

    Parameters
    ----------
    ids : pyarrow string array or array-like of str
        One id per row, as validation reads them.

    Returns
    -------
    ndarray of int64
        ``first[i] == i + 1`` for the first row of an id; a later row with the same id holds that first row.

    Notes
    -----
    The ids are dictionary-encoded (Arrow's ``dictionary_encode``, or ``pandas.factorize``), which numbers
    distinct values in order of first appearance; a row is then an id's first exactly where its code exceeds
    every earlier code, so the first rows come from one running maximum, without a Python object per row.
    This lets an import validate a file in chunks and still find an id repeated across chunks.
    """
    if isinstance(ids, (pa.Array, pa.ChunkedArray)):
        # One array, one hash table (encoding chunk by chunk, then unifying the dictionaries, is far slower).
        whole = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        codes = pc.dictionary_encode(whole).indices.to_numpy(zero_copy_only=False).astype(np.int64)
        del whole
    else:
        codes, _ = pd.factorize(np.asarray(ids, dtype=object))
    if not codes.size:
        return np.zeros(0, dtype=np.int64)
    new = codes > np.concatenate(([-1], np.maximum.accumulate(codes)[:-1]))
    first_position = np.flatnonzero(new)  # first_position[c]: where code c first appears
    return first_position[codes] + 1


def read_incident_file(path, *, field_map: dict | None = None, sheet=0,
                       encoding: str | None = None) -> IncidentFile:
    """Read an incident file into an :class:`IncidentFile` (its cells as Arrow text columns).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (comma, semicolon, tab or ``|`` separated, detected from the header line; UTF-8 with or
        without BOM, or Windows-1258, detected by :func:`geo.textencoding.decode_vietnamese`), ``.xlsx``
        (first sheet unless ``sheet``) or ``.geojson``/``.json`` (Point features; coordinates become
        ``lon``/``lat``).
    field_map : dict, optional
        Canonical field -> the file's column, for columns the aliases of :data:`INCIDENT_FIELDS` miss.
    encoding : str, optional
        Encoding of a CSV file, instead of detecting it.

    Raises
    ------
    GeoInputError
        The file cannot be read, or is beyond :data:`MAX_ROWS`, :data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS`
        (XLSX: the archive bounds of :func:`check_xlsx_archive` too).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    read_as: dict = {}
    try:
        if suffix in (".csv", ".txt"):
            table = _read_csv(path, encoding, read_as, field_map)
            if isinstance(table, StreamedCsvFile):
                return table
        elif suffix in (".xlsx", ".xlsm"):
            table = _read_xlsx(path, sheet)
        elif suffix in (".geojson", ".json"):
            table = _read_geojson(path)
        else:
            raise GeoInputError(message("geo.incidents.path_extension_one_csv", path_name=path.name,
                                        suffix=suffix or '(none)'))
    except GeoInputError:
        raise
    except UnicodeDecodeError as exc:
        raise GeoInputError(message("geo.incidents.path_utf_text_byte", path_name=path.name, exc_reason=exc.reason,
                                    exc_start=exc.start))
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        # BadZipFile: an .xlsx that is not a zip archive (openpyxl lets it through unconverted);
        # pyarrow's ArrowInvalid (a CSV line with too many fields) is a ValueError
        raise GeoInputError(message("geo.incidents.path_could_read", path_name=path.name,
                                    suffix=suffix.lstrip('.').upper(), exc=exc))
    check_table_bounds(table, path.name)
    table = _canonical_columns(table, field_map)
    if suffix in (".csv", ".txt"):
        table = _numeric_coordinates(table, {"lon", "lat"})
    # Arrow's allocator keeps the blocks freed while parsing for reuse; the import has no further use for them.
    pa.default_memory_pool().release_unused()
    return IncidentFile(table, **read_as)


def read_incident_table(path, *, field_map: dict | None = None, sheet=0, encoding: str | None = None) -> pd.DataFrame:
    """Read an incident file into a raw frame of strings, one row per record.

    The whole file as one frame (:func:`read_incident_file` reads it as Arrow columns, which the importer
    converts chunk by chunk instead); parameters as there.

    Returns
    -------
    DataFrame
        Column ``row`` (int, :data:`ROW_NUMBERING`) and one string column per field found, renamed to
        the canonical names; empty cells are ``""``. Unknown columns are kept as they are. For a CSV,
        ``attrs["encoding"]`` (codec name, e.g. ``"cp1258"``) and ``attrs["delimiter"]`` say how it was read.
    """
    return read_incident_file(path, field_map=field_map, sheet=sheet, encoding=encoding).frame()


#: Bytes of a CSV decoded at a time while checking that it is UTF-8 in Unicode normal form C.
_SCAN_BYTES = 4 * 2**20


def _utf8_nfc_on_disk(path: Path) -> bool:
    """Whether the file's bytes are UTF-8 text already in NFC, checked piece by piece (never whole in memory).

    Pieces end at a newline byte, which is never inside a UTF-8 sequence nor inside a combining sequence,
    so each piece decodes and normalises on its own exactly as the whole text would.
    """
    with open(path, "rb") as handle:
        carry = b""
        while True:
            block = handle.read(_SCAN_BYTES)
            data = carry + block
            if not block:
                piece, carry = data, b""
            else:
                cut = data.rfind(b"\n") + 1
                piece, carry = (data[:cut], data[cut:]) if cut else (b"", data)
            if piece:
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError:
                    return False
                if not unicodedata.is_normalized("NFC", text):
                    return False
            if not block:
                return True


def _header_names(header_line: str, delimiter: str) -> list[str]:
    """Column names as pandas' ``read_csv`` gives them: stripped by the caller later, ``Unnamed: i`` for an
    empty one, a repeated name suffixed ``.1``, ``.2`` …"""
    import csv

    cells = next(csv.reader([header_line], delimiter=delimiter, skipinitialspace=True), [])
    return _unique_names([cell if cell != "" else f"Unnamed: {position}" for position, cell in enumerate(cells)])


def _csv_options(names: list[str], delimiter: str) -> dict:
    import pyarrow.csv as pacsv

    return dict(
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=2**20, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        # Text everywhere: ids like "007" keep their zeros; empty cells are "" (never null).
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))


def _strip_initial_spaces(table: pa.Table) -> pa.Table:
    """As pandas' ``skipinitialspace``: spaces after a separator are not part of the value (a column is copied
    only when one of its cells starts with a space)."""
    for position, column in enumerate(table.columns):
        if table.num_rows and pc.any(pc.starts_with(column, " ")).as_py():
            table = table.set_column(position, table.column_names[position], pc.utf8_ltrim(column, characters=" "))
    return table


def _castable_to_float(column) -> bool:
    try:
        pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _read_csv(path: Path, encoding, read_as: dict, field_map=None):
    import pyarrow.csv as pacsv

    from geo.textencoding import decode_vietnamese

    with open(path, "rb") as handle:
        head = handle.read(4)
    if encoding is None and not head.startswith(b"\xef\xbb\xbf") and _utf8_nfc_on_disk(path):
        # The common case: Arrow's reader parses the file from disk, twice, with no copy of it in memory.
        with open(path, "rb") as handle:
            header_line = handle.readline().decode("utf-8").rstrip("\r\n")
        delimiter = csv_delimiter(header_line)
        names = _header_names(header_line, delimiter)
        if not names:
            raise GeoInputError(message("geo.incidents.path_csv_empty", path_name=path.name))
        if len(names) > MAX_COLUMNS:
            raise GeoInputError(message("geo.incidents.path_columns_more_than", name=path.name,
                                        table_shape=len(names), max_columns=MAX_COLUMNS))
        canonical = _canonical_names(names, field_map)
        return StreamedCsvFile(path, names, canonical, delimiter)
    text, codec = decode_vietnamese(path.read_bytes(), encoding, what=f"path {path.name!r}",
                                    argument="--encoding")
    header_line = text.split("\n", 1)[0]
    source = io.BytesIO(text.encode("utf-8"))
    del text
    header_line = header_line.lstrip("\ufeff").rstrip("\r\n")
    delimiter = csv_delimiter(header_line)
    read_as.update(encoding=codec, delimiter=delimiter)
    names = _header_names(header_line, delimiter)
    if not names:
        raise GeoInputError(message("geo.incidents.path_csv_empty", path_name=path.name))
    reader = pacsv.open_csv(source, **_csv_options(names, delimiter))
    batches, rows = [], 0
    for batch in reader:  # streamed, so a file beyond the row bound stops being read at the bound
        rows += batch.num_rows
        if rows > MAX_ROWS:
            raise GeoInputError(message("geo.incidents.path_more_than_rows", name=path.name, max_rows=MAX_ROWS))
        batches.append(batch)
    table = pa.Table.from_batches(batches, schema=reader.schema)
    del batches, reader
    return _strip_initial_spaces(table)


def _numeric_coordinates(table: pa.Table, numeric) -> pa.Table:
    """The columns of ``numeric`` (``lon``/``lat``) as floats when every cell is a number (else left as text,
    checked cell by cell by validation): the float cast is Arrow's, vectorised and correctly rounded."""
    for name in ("lon", "lat"):
        if name not in table.column_names or name not in numeric:
            continue
        try:
            numbers = pc.cast(table.column(name), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        table = table.set_column(table.column_names.index(name), name, numbers)
    return table


def _canonical_columns(table: pa.Table, field_map) -> pa.Table:
    return table.rename_columns(_canonical_names(table.column_names, field_map))


def _canonical_names(names, field_map) -> list[str]:
    """The file's column names stripped, each recognised field renamed to its canonical name."""
    names = [str(c).strip() for c in names]
    names = ["source_row" if name == "row" else name for name in names]
    fields = resolve_fields(names, INCIDENT_FIELDS, field_map)
    canonical = {column: name for name, column in fields.items()}
    return [canonical.get(name, name) for name in names]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


#: Rows of an XLSX sheet gathered as Python strings before they become Arrow columns.
_XLSX_BATCH_ROWS = 50_000


def _read_xlsx(path: Path, sheet) -> pa.Table:
    from openpyxl import load_workbook

    check_xlsx_archive(path)
    # read_only: rows are streamed from the sheet's XML, never the whole sheet in memory
    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = None
    try:
        worksheet = workbook.worksheets[sheet] if isinstance(sheet, int) else workbook[sheet]
        declared = worksheet.max_row  # from the sheet's <dimension>: refuses a huge sheet before reading it
        if declared is not None and declared > MAX_ROWS + 1:
            raise GeoInputError(message("geo.incidents.path_more_than_rows_2", path_name=path.name,
                                        max_rows=MAX_ROWS))
        # The declaration may understate the sheet, and read-only openpyxl would stop reading at it: read
        # every row instead (bounded below).
        worksheet.reset_dimensions()
        rows = worksheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        header = next(rows, None)
        if header is None:
            raise GeoInputError(message("geo.incidents.path_sheet_empty_expected", path_name=path.name))
        header = list(header)
        while header and header[-1] in (None, ""):  # read-only rows are padded to max_col
            header.pop()
        if len(header) > MAX_COLUMNS:
            raise GeoInputError(message("geo.incidents.path_more_than_columns", path_name=path.name,
                                        max_columns=MAX_COLUMNS))
        width = len(header)
        names = _unique_names([_cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)])
        # A batch of rows is kept column by column as Python strings, then becomes Arrow text columns, so the
        # sheet is held as Arrow text (about its size) plus one batch.
        batches: list[pa.RecordBatch] = []
        columns: list[list] = [[] for _ in range(width)]
        n_records = 0
        for values in rows:
            cells = [_cell_text(v) for v in values[:width]]
            if not any(cells):
                continue  # trailing formatted-but-empty rows that Excel likes to keep
            if n_records >= MAX_ROWS:  # a sheet whose <dimension> understates it
                raise GeoInputError(message("geo.incidents.path_more_than_rows_3", path_name=path.name,
                                            max_rows=MAX_ROWS))
            longest = max(len(c) for c in cells)
            if longest > MAX_CELL_CHARS:
                raise GeoInputError(message("geo.incidents.path_row_holds_cell_2", path_name=path.name,
                                            n_records=n_records + 1, longest=longest,
                                            max_cell_chars=MAX_CELL_CHARS))
            cells += [""] * (width - len(cells))
            for column, cell in zip(columns, cells):
                column.append(cell)
            n_records += 1
            if len(columns[0]) >= _XLSX_BATCH_ROWS:
                batches.append(pa.record_batch([pa.array(c, pa.string()) for c in columns], names=names))
                columns = [[] for _ in range(width)]
        if columns and columns[0]:
            batches.append(pa.record_batch([pa.array(c, pa.string()) for c in columns], names=names))
    finally:
        if rows is not None:
            rows.close()  # the sheet's XML stream, before the archive under it
        workbook.close()
    schema = pa.schema([(name, pa.string()) for name in names])
    return pa.Table.from_batches(batches, schema=schema)


def _unique_names(names: list[str]) -> list[str]:
    """Repeated column names suffixed ``.1``, ``.2`` … (Arrow keeps duplicates; a frame could not)."""
    out, seen = [], set()
    for name in names:
        base, count = name, 0
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen.add(name)
        out.append(name)
    return out


def _read_geojson(path: Path) -> pa.Table:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except RecursionError:  # the json module recurses once per nesting level
        raise GeoInputError(message("geo.incidents.path_json_nested_too", path_name=path.name)) from None
    kind = document.get("type") if isinstance(document, dict) else type(document).__name__
    if kind != "FeatureCollection":
        raise GeoInputError(message("geo.incidents.path_type_featurecollection", path_name=path.name, kind=kind))
    features = document.get("features", [])
    if not isinstance(features, list):
        raise GeoInputError(message("geo.incidents.path_features_list", path_name=path.name,
                                    type_name=type(features).__name__))
    records = []
    for number, feature in enumerate(features, start=1):
        # Structure errors name the feature (numbered like the rows of the report) and what was expected.
        properties = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or not isinstance(properties or {}, dict) \
                or not isinstance(geometry or {}, dict):
            raise GeoInputError(message("geo.incidents.path_feature_geojson_feature", path_name=path.name,
                                        number=number))
        properties = {k: _cell_text(v) for k, v in (properties or {}).items()}
        if geometry:
            coordinates = geometry.get("coordinates")
            if geometry.get("type") == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
                properties["lon"] = _cell_text(coordinates[0])
                properties["lat"] = _cell_text(coordinates[1])
            else:
                properties["lon"] = properties["lat"] = f"<{geometry.get('type')} geometry>"
        if feature.get("id") is not None and "id" not in properties:
            properties["id"] = _cell_text(feature["id"])
        records.append(properties)
    del document, features
    names = list(dict.fromkeys(key for record in records for key in record))
    return pa.table({name: pa.array([record.get(name, "") for record in records], pa.string()) for name in names})



# ---------------------------------------------------------------------------------------------- parsing
# Column-wise parsing: fast C paths (pandas to_datetime/to_numeric, factorize) on the whole column, the
# slower Python fallbacks only on the few values the fast path could not read.

_TZ = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_DMY = re.compile(r"^(?:(?P<H1>\d{1,2})[:hg](?P<M1>\d{2})?\s*,?\s*)?"
                  r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
                  r"(?:[ T,]+(?P<H>\d{1,2})[:hg](?P<M>\d{2})?(?::(?P<S>\d{2}))?)?$")
_VI_WORDS = re.compile(
    r"^(?:(?P<H1>\d{1,2})\s*(?:gio|h|:)\s*(?:(?P<M1>\d{1,2})\s*(?:phut)?)?\s*,?\s*)?"
    r"(?:ngay\s*)?(?P<d>\d{1,2})\s*thang\s*(?P<m>\d{1,2})\s*nam\s*(?P<y>\d{4})"
    r"(?:\s*,?\s*(?:luc\s*)?(?P<H>\d{1,2})\s*(?:gio|h|:)\s*(?:(?P<M>\d{1,2})\s*(?:phut)?)?)?$")


def _fold_text(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).lower().split())


#: Day 0 of Excel's 1900 date system as it counts in practice (serial 1 = 1900-01-01, with the phantom
#: 29/02/1900 Lotus kept for compatibility, so from serial 61 on day n is 1899-12-30 + n days).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Five-digit serials are 1927-05-18 … 2173-10-14: every date a case file can hold, and no year ("2024") or
# short code is read as a date by mistake.
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def excel_serial_to_timestamp(serial: float) -> pd.Timestamp:
    """The date and time of an Excel serial number (1900 date system; the fraction is the time of day).

    Notes
    -----
    ECMA-376 Part 1, §18.17.4.1 (date representation, 1900 date base). Excel writes these when a date
    column is formatted as General or Number, or when a sheet is saved as CSV from such a column.
    The time is rounded to the second, as Excel displays it.
    """
    return (EXCEL_EPOCH + pd.to_timedelta(float(serial), unit="D")).round("s")


def _parse_one_date(text: str):
    """Slow path for one value: ISO with spaces or offset, day-first numeric, Vietnamese words, Excel serial."""
    text = text.strip()
    if not text:
        return None
    if _EXCEL_SERIAL.match(text):
        return excel_serial_to_timestamp(float(text))
    try:
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)", text):
            stamp = pd.Timestamp(text)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert(LOCAL_TIMEZONE).tz_localize(None)
            return stamp
    except ValueError:
        return None
    match = _DMY.match(text) or _VI_WORDS.match(_fold_text(text))
    if not match:
        return None
    parts = match.groupdict()
    hour, minute = parts["H"] or parts["H1"], parts["M"] or parts["M1"]
    try:
        return pd.Timestamp(int(parts["y"]), int(parts["m"]), int(parts["d"]), int(hour or 0), int(minute or 0),
                            int(parts.get("S") or 0))
    except ValueError:
        return None


def parse_dates(values) -> tuple[pd.Series, np.ndarray]:
    """Parse dates/times written in ISO or Vietnamese forms, column-wise.

    Accepted: ``2024-03-05``, ``2024-03-05 14:30[:00]``, ``2024-03-05T14:30+07:00`` (converted to
    Vietnam time), ``05/03/2024``, ``5-3-2024``, ``05.03.2024`` with an optional ``14:30``/``14h30``,
    and ``ngày 5 tháng 3 năm 2024`` (with or without diacritics, optionally ``lúc 14 giờ 30``).
    Day-first everywhere except ISO, as Vietnamese documents write dates. Native datetimes pass through.
    A five-digit number (``45356``, ``45356.75``; numeric columns likewise) is an Excel serial date
    (:func:`excel_serial_to_timestamp`).

    Returns
    -------
    (timestamps, blank) : Series of datetime64[ns] (naive, Vietnam time; NaT where unparsable or blank)
        and a bool array marking blank input.
    """
    series = pd.Series(values)
    if series.dtype.kind == "M":
        stamps = series.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None) if series.dt.tz else series
        return stamps.astype("datetime64[ns]").reset_index(drop=True), series.isna().to_numpy()
    if series.dtype.kind in "fi":  # numbers are Excel serials (see excel_serial_to_timestamp)
        numbers = series.to_numpy(dtype=float)
        serial = (numbers >= 10_000) & (numbers < 100_000)
        stamps = pd.Series(pd.NaT, index=range(len(numbers)), dtype="datetime64[ns]")
        if serial.any():
            stamps[serial] = (EXCEL_EPOCH + pd.to_timedelta(numbers[serial], unit="D")).round("s").to_numpy()
        return stamps, np.isnan(numbers)
    array = series.to_numpy(dtype=object)
    blank = pd.isna(array) | (array == "")
    try:
        stamps = pd.to_datetime(array, format="ISO8601", errors="coerce")
        if getattr(stamps, "tz", None) is not None:
            stamps = stamps.tz_convert(LOCAL_TIMEZONE).tz_localize(None)
        stamps = pd.Series(stamps.astype("datetime64[ns]"))
    except (ValueError, TypeError):  # mixed offsets and naive values: leave them all to the slow path
        stamps = pd.Series(pd.NaT, index=range(len(array)), dtype="datetime64[ns]")
    # pandas' ISO 8601 parser also takes partial dates ("2024-03", "2024"): a full date has ≥ 10 characters,
    # anything shorter is re-checked by the strict slow path.
    short = np.fromiter(map(len, map(str, array)), dtype=np.int64, count=len(array)) < 10
    retry = np.flatnonzero((stamps.isna().to_numpy() | short) & ~blank)
    if retry.size:
        texts = [str(v) for v in array[retry]]
        parsed = [_parse_one_date(t) for t in texts]
        stamps.iloc[retry] = pd.to_datetime(pd.Series(parsed, dtype=object), errors="coerce").to_numpy(
            dtype="datetime64[ns]")
        blank[retry] = [t.strip() == "" for t in texts]
    return stamps, blank


def _parse_terms(kind: str, array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (object array, None where unknown) and a blank mask, parsing each distinct value once."""
    table = taxonomy.lookup_table(kind)
    positions, uniques = pd.factorize(array, use_na_sentinel=True)
    folded = [taxonomy.normalise_term(u) for u in uniques]
    codes = np.array([table.get(f) for f in folded] + [None], dtype=object)
    blank = np.array([f == "" for f in folded] + [True])
    return codes[positions], blank[positions]


_TRUE = {"1", "true", "t", "yes", "y", "co", "x", "sensitive", "nhay cam", "bao mat", "mat"}
_FALSE = {"0", "false", "f", "no", "n", "khong"}


def _parse_sensitive(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, state) with state 0 = unset, 1 = given, 2 = not a yes/no value."""
    positions, uniques = pd.factorize(array, use_na_sentinel=True)
    folded = [taxonomy.normalise_term(u) for u in uniques]
    value = np.array([f in _TRUE for f in folded] + [False])
    state = np.array([0 if f == "" else (1 if (f in _TRUE or f in _FALSE) else 2) for f in folded] + [0])
    return value[positions], state[positions]


def _parse_floats(values) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN where unreadable) and a blank mask; a decimal comma (``105,63``) is accepted."""
    series = pd.Series(values)
    if series.dtype.kind in "fi":
        numbers = series.to_numpy(dtype=float)
        return numbers, np.isnan(numbers)
    array = series.to_numpy(dtype=object)
    blank = pd.isna(array) | (array == "")
    numbers = pd.to_numeric(pd.Series(array, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
    retry = np.flatnonzero(np.isnan(numbers) & ~blank)
    for i in retry:
        text = str(array[i]).strip()
        blank[i] = text == ""
        if re.fullmatch(r"[+-]?\d+,\d+", text):
            numbers[i] = float(text.replace(",", "."))
    return numbers, blank


def _text_array(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    array = frame[column].to_numpy(dtype=object)
    missing = pd.isna(array)
    if missing.any():
        array = array.copy()
        array[missing] = ""
    return array


def _shown(values) -> np.ndarray:
    series = pd.Series(values)
    if series.dtype.kind == "M":
        return series.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").to_numpy(dtype=object)
    return series.to_numpy(dtype=object)


# ------------------------------------------------------------------------------------------- validation

def _parse_categories(frame: pd.DataFrame, article: np.ndarray, out, category_map, warnings) -> np.ndarray:
    """Category codes (None where refused): the name in the cell, else the category of the article charged.

    A cell holding only an article ("Điều 321", "Đ.249") counts as that article. An unknown name is refused
    naming the closest known names (:func:`geo.offences.closest_names`); an empty category with an article
    outside :data:`geo.offences.ARTICLE_CATEGORIES` (and the office's map) is refused asking for the
    category. A category that disagrees with the article's is kept, with a warning.
    """
    values = _text_array(frame, "category")
    table = offences.category_table(category_map)
    positions, uniques = pd.factorize(values, use_na_sentinel=True)
    blank_u = [taxonomy.normalise_term(u) == "" for u in uniques]
    codes_u = [offences.category_of_name(u, table)
               or offences.category_of_article(offences.article_reference(u), category_map) for u in uniques]
    codes = np.array(codes_u + [None], dtype=object)[positions]
    blank = np.array(blank_u + [True])[positions]

    article_codes = np.array([offences.category_of_article(a, category_map) for a in article], dtype=object) \
        if (article != "").any() else np.full(len(article), None, dtype=object)
    from_article = blank & (article_codes != None)  # noqa: E711 (element-wise on an object array)
    codes = np.where(from_article, article_codes, codes)
    out.add(blank & (article == ""), "category", values, message("rows.category_empty"))
    out.add(blank & (article != "") & ~from_article, "category", values, lambda where: [
        message("rows.category_article_unknown", article=str(article[i])) for i in where])
    unknown = ~blank & pd.isna(codes)
    if unknown.any():
        suggestions: dict = {}

        def reasons(where):
            shown = []
            for i in where:
                value = values[i]
                if value not in suggestions:
                    close = offences.closest_names(value, category_map=category_map)
                    suggestions[value] = message("rows.unknown_offence_close", names="; ".join(close)) if close \
                        else message("rows.unknown_offence", codes=", ".join(taxonomy.CATEGORIES))
                shown.append(suggestions[value])
            return shown

        out.add(unknown, "category", values, reasons)
    disagree = ~blank & ~pd.isna(codes) & (article_codes != None) & (article_codes != codes)  # noqa: E711
    rows = out.rows
    for i in np.flatnonzero(disagree):
        warnings.append(_row_error(int(rows[i]), "category", values[i], message(
            "rows.article_disagrees", article=str(article[i]), article_category=str(article_codes[i]),
            category=str(codes[i]))))
    return codes


def _row_error(row: int, field_name: str, value, why) -> RowError:
    if isinstance(why, Message):
        return RowError(row, field_name, "" if value is None else str(value), why.text("en"), why)
    return RowError(row, field_name, "" if value is None else str(value), str(why))


class _Collector:
    def __init__(self, rows: np.ndarray):
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.errors: list[RowError] = []

    def add(self, mask, field_name: str, values, reason):
        """Record an error for each True of ``mask``; ``reason`` is a :class:`Message` (or string), or
        ``f(positions) -> list`` of them."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        self.bad[positions] = True
        shown = np.asarray(values, dtype=object)[positions]
        reasons = reason(positions) if callable(reason) else [reason] * len(positions)
        self.errors.extend(_row_error(int(r), field_name, v, why)
                           for r, v, why in zip(self.rows[positions], shown, reasons))


def validate_incidents(raw: pd.DataFrame, locator: CommuneLocator, *, today: date | None = None,
                       category_map: offences.CategoryMap | None = None,
                       first_rows: np.ndarray | None = None) -> ValidationResult:
    """Validate and normalise incident rows and assign each point to its commune.

    Parameters
    ----------
    raw : DataFrame
        As returned by :func:`read_incident_table` (string cells, canonical column names, ``row``);
        a frame without ``row`` is numbered 1..n. Native values (float lon/lat, datetime64) are accepted.
    locator : CommuneLocator
        Communes of the province (its boundary set decides "outside the province").
    today : date, optional
        Incidents after this day are refused as "in the future" (default: the current date).
    category_map : geo.offences.CategoryMap, optional
        An office's own offence names and articles (:func:`geo.offences.read_category_map`).
    first_rows : ndarray of int, optional
        When ``raw`` is one chunk of a larger file: for each of its rows, the row number of the first row of
        the whole file holding the same id (:func:`first_rows_of_ids`), so an id repeated in an earlier chunk
        is refused as well. Default: ids are compared within ``raw``.

    Returns
    -------
    ValidationResult
        ``valid``: rows with no error, columns :data:`VALID_COLUMNS` (occurred_at/reported_at
        datetime64, naive Vietnam local time; lon/lat float; sensitive bool; article/clause strings).
        ``errors``: one :class:`RowError` per refused value, sorted by row. ``warnings``: kept rows.

    Notes
    -----
    Rules: required fields present and non-empty; dates parse (:func:`parse_dates`), are not before
    1990 or in the future; ``reported_at`` ≥ ``occurred_at``, compared by day when either has no time of
    day (a time of exactly 00:00 counts as none); severity and case status via the :mod:`geo.taxonomy`
    parsers (code, Vietnamese or English label); the category by :func:`_parse_categories` (any offence
    name of :mod:`geo.offences` or of the office's map, else from the article charged; an unknown name is
    refused with the closest known names); lon/lat numeric and within
    ±180/±90 (a likely lon/lat swap is named); the point inside the province, else refused with the
    distance in metres to the nearest commune; ids unique in the file; ``sensitive`` a yes/no value,
    defaulting to True for human trafficking. A ``district_code`` hint that disagrees with the commune the
    point falls in gives a warning, not an error (boundaries are generalised to ~160 m).
    """
    frame = raw.reset_index(drop=True)
    fields = resolve_fields([c for c in frame.columns if c != "row"], INCIDENT_FIELDS)
    frame = frame.rename(columns={column: canonical for canonical, column in fields.items()})
    missing = [f for f in REQUIRED_INCIDENT_FIELDS if f not in frame.columns]
    if missing:
        raise GeoInputError(
            message("geo.incidents.required_column_s_found", missing=', '.join(missing),
                    frame_columns=', '.join((str(c) for c in frame.columns if c != 'row')),
                    required_incident_fields=', '.join(REQUIRED_INCIDENT_FIELDS)))
    n = len(frame)
    rows = frame["row"].to_numpy(dtype=np.int64) if "row" in frame.columns else np.arange(1, n + 1)
    out = _Collector(rows)
    warnings: list[RowError] = []
    empty = message("rows.empty")

    ids = _text_array(frame, "id")
    if frame["id"].dtype.kind in "fi":
        ids = np.array([_cell_text(v) for v in ids], dtype=object)
    out.add(ids == "", "id", ids, empty)
    if first_rows is None:
        first_rows = rows[first_rows_of_ids(ids) - 1]
    elif len(first_rows) != n:
        raise ValueError(f"first_rows has {len(first_rows)} values for {n} rows")
    duplicated = (first_rows != rows) & (ids != "")
    out.add(duplicated, "id", ids, lambda where: [message("rows.id_used", row=int(first_rows[i])) for i in where])

    occurred, occurred_blank = parse_dates(frame["occurred_at"])
    reported, reported_blank = parse_dates(frame["reported_at"] if "reported_at" in frame else [""] * n)
    occurred_shown = _shown(frame["occurred_at"])
    reported_shown = _shown(frame["reported_at"]) if "reported_at" in frame else np.full(n, "", dtype=object)
    date_forms = message("rows.date_forms")
    occurred_missing = occurred.isna().to_numpy()
    reported_missing = reported.isna().to_numpy()
    out.add(occurred_blank, "occurred_at", occurred_shown, empty)
    out.add(occurred_missing & ~occurred_blank, "occurred_at", occurred_shown, date_forms)
    out.add(reported_missing & ~reported_blank, "reported_at", reported_shown, date_forms)
    latest = pd.Timestamp(today or date.today()) + pd.Timedelta(days=1)
    out.add((occurred >= latest).to_numpy(), "occurred_at", occurred_shown,
            message("rows.future", date=(latest - pd.Timedelta(days=1)).date()))
    out.add((occurred < EARLIEST_DATE).to_numpy(), "occurred_at", occurred_shown,
            message("rows.before_earliest", date=EARLIEST_DATE.date()))
    occurred_day, reported_day = occurred.dt.normalize(), reported.dt.normalize()
    both_timed = ((occurred != occurred_day) & (reported != reported_day)).to_numpy()
    before = np.where(both_timed, (reported < occurred).to_numpy(), (reported_day < occurred_day).to_numpy())
    out.add(before, "reported_at", reported_shown,
            lambda where: [message("rows.reported_before", occurred=str(occurred_shown[i])) for i in where])

    article, clause = [np.full(n, "", dtype=object) for _ in range(2)]
    for column, target, example in (("article", article, "173"), ("clause", clause, "2")):
        values = _text_array(frame, column)
        positions, uniques = pd.factorize(values)
        if len(uniques) == 0:
            continue
        # The article is the number after "Điều"/"Đ." when there is one ("khoản 2 Điều 249" is article 249).
        found = [offences.article_number(_cell_text(u)) if column == "article"
                 else (m.group(0) if (m := re.search(r"\d{1,3}[a-z]?", _cell_text(u))) else "") for u in uniques]
        numbers = np.array(found + [""], dtype=object)
        target[:] = numbers[positions]
        bad_text = np.array([(f == "" and _cell_text(u) != "") for f, u in zip(found, uniques)] + [False])
        out.add(bad_text[positions], column, values, message("rows.expected_number", example=example))

    parsed = {"category": _parse_categories(frame, article, out, category_map, warnings)}
    for column in ("severity", "case_status"):
        values = _text_array(frame, column)
        codes, blank = _parse_terms(column, values)
        allowed = ", ".join(taxonomy._KINDS[column])
        out.add(blank, column, values, empty)
        out.add(pd.isna(codes) & ~blank, column, values, message("rows.not_one_of", allowed=allowed))
        parsed[column] = codes

    lon_shown, lat_shown = _shown(frame["lon"]), _shown(frame["lat"])
    lon, lon_blank = _parse_floats(frame["lon"])
    lat, lat_blank = _parse_floats(frame["lat"])
    out.add(lon_blank, "lon", lon_shown, empty)
    out.add(lat_blank, "lat", lat_shown, empty)
    out.add(np.isnan(lon) & ~lon_blank, "lon", lon_shown, message("rows.not_degrees", example="105.6321"))
    out.add(np.isnan(lat) & ~lat_blank, "lat", lat_shown, message("rows.not_degrees", example="10.4567"))
    with np.errstate(invalid="ignore"):
        swapped = (np.abs(lon) <= 90) & (np.abs(lat) > 90) & (np.abs(lat) <= 180)
        out.add(swapped, "lat", lat_shown, message("rows.lat_swapped"))
        out.add(np.abs(lon) > 180, "lon", lon_shown, message("rows.out_of_range", low="−180", high="180"))
        out.add((np.abs(lat) > 90) & ~swapped, "lat", lat_shown, message("rows.out_of_range", low="−90", high="90"))
        usable = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    lon = np.where(usable, lon, np.nan)
    lat = np.where(usable, lat, np.nan)
    set_keys = np.full(n, None, dtype=object)
    if isinstance(locator, DatedLocator):
        set_of_row = locator.set_index(occurred)
        first = locator.first
        out.add((set_of_row < 0) & ~occurred_missing, "occurred_at", occurred_shown,
                message("rows.before_first_set", set=first.key, date=first.effective_from))
        placed = Assignment(np.full(n, None, dtype=object), np.full(n, np.nan), np.full(n, None, dtype=object),
                            np.full(n, -1, dtype=np.int64))
        district_table = np.full(n, None, dtype=object)
        for i, (version, one) in enumerate(locator.entries):
            rows_of_set = np.flatnonzero(set_of_row == i)
            if not rows_of_set.size:
                continue
            part = one.assign(lon[rows_of_set], lat[rows_of_set])
            for target, values in zip(placed, part):
                target[rows_of_set] = values
            hit = part.commune_index >= 0
            district_table[rows_of_set[hit]] = one.district_codes[part.commune_index[hit]]
            set_keys[rows_of_set] = version.key
        in_set = set_of_row >= 0
    else:
        placed = locator.assign(lon, lat)
        district_table = np.full(n, None, dtype=object)
        hit = placed.commune_index >= 0
        district_table[hit] = locator.district_codes[placed.commune_index[hit]]
        in_set = np.ones(n, dtype=bool)
    inside = placed.commune_index >= 0
    outside = usable & ~inside & in_set
    if outside.any():
        shown = np.empty(n, dtype=object)
        where = np.flatnonzero(outside)
        shown[where] = [f"{lon_shown[i]}, {lat_shown[i]}" for i in where]
        if isinstance(locator, DatedLocator):
            def reason(w):
                return [message("rows.outside_on", date=occurred.iloc[i].date(), set=str(set_keys[i]),
                                distance=_distance(placed.distance_m[i]), name=str(placed.nearest_name[i])) for i in w]
        else:
            def reason(w):
                return [message("rows.outside", distance=_distance(placed.distance_m[i]),
                                name=str(placed.nearest_name[i])) for i in w]
        out.add(outside, "lon/lat", shown, reason)

    sensitive_text = _text_array(frame, "sensitive")
    if "sensitive" in frame and frame["sensitive"].dtype == bool:
        sensitive_given, sensitive_state = frame["sensitive"].to_numpy(), np.ones(n, dtype=np.int8)
    else:
        sensitive_given, sensitive_state = _parse_sensitive(sensitive_text)
    out.add(sensitive_state == 2, "sensitive", sensitive_text, message("rows.not_yes_no"))
    default_sensitive = np.isin(parsed["category"], list(taxonomy.SENSITIVE_BY_DEFAULT))
    sensitive = np.where(sensitive_state == 1, sensitive_given, default_sensitive).astype(bool)

    district_of_point = district_table
    hint = _text_array(frame, "district_code")
    hinted = np.flatnonzero((hint != "") & inside & (district_of_point != ""))
    for i in hinted:
        given = _cell_text(hint[i]).zfill(3)
        if given != district_of_point[i]:
            warnings.append(_row_error(int(rows[i]), "district_code", hint[i], message(
                "rows.district_hint", commune=str(placed.commune_code[i]), district=str(district_of_point[i]))))

    keep = ~out.bad
    description = _text_array(frame, "description")
    kept = {
        "row": rows[keep],
        "id": ids[keep],
        "occurred_at": occurred.to_numpy()[keep],
        "reported_at": reported.to_numpy()[keep],
        "category": parsed["category"][keep],
        "severity": parsed["severity"][keep],
        "case_status": parsed["case_status"][keep],
        "lon": lon[keep],
        "lat": lat[keep],
        "commune_code": placed.commune_code[keep],
        "district_code": district_of_point[keep],
        "sensitive": sensitive[keep],
        "description": description[keep],
        "article": article[keep],
        "clause": clause[keep],
        "boundary_set": set_keys[keep],
    }
    # Text columns stay object arrays of str: pandas' default Arrow-backed ``str`` dtype would convert every
    # value to Arrow here and back to a Python string when the rows are written.
    valid = pd.DataFrame({name: pd.Series(values, dtype=object, copy=False) if values.dtype == object else values
                          for name, values in kept.items()}, columns=VALID_COLUMNS)
    errors = sorted(out.errors, key=lambda e: e.row)
    return ValidationResult(valid=valid, errors=errors, warnings=warnings)


def _distance(metres: float) -> Message:
    """``250 m`` under a kilometre, else ``3.2 km`` (one decimal, in the reader's number format)."""
    if metres < 1000:
        return message("units.m", value=int(round(metres)))
    return message("units.km", value=float(metres) / 1000.0)


def incidents_to_points(valid: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return validated incidents as an EPSG:4326 point GeoDataFrame (for layers and statistics)."""
    return gpd.GeoDataFrame(valid.copy(), geometry=gpd.points_from_xy(valid["lon"], valid["lat"]), crs="EPSG:4326")
