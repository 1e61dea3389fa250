"""Incident files: read CSV / XLSX / GeoJSON, validate every row, assign each point to its commune.

The pipeline is column-wise (pandas vectorised parsing, one point-in-polygon pass per commune), so a
million rows validate in seconds; a :class:`RowError` is built only for a bad row. Validation never
stops at the first problem: every bad value of every row is reported with its row number, field,
value and reason, so the importer can refuse a file atomically and tell the user everything at once.

Row numbers (:data:`ROW_NUMBERING`) count data rows from 1; the header line is not counted. In a
spreadsheet the row shown as ``row 1`` is therefore on sheet line 2. GeoJSON rows are feature numbers.
"""
from __future__ import annotations

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
import shapely

from geo import taxonomy
from geo.boundaries import BoundarySet, resolve_fields
from geo.crs import METRIC_CRS, lonlat_to_metric
from geo.errors import GeoInputError

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

#: Columns of :attr:`ValidationResult.valid`, in order.
VALID_COLUMNS = ["row", "id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                 "commune_code", "district_code", "sensitive", "description", "article", "clause"]

EARLIEST_DATE = pd.Timestamp("1990-01-01")
LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class RowError:
    """One refused value: ``row`` as in :data:`ROW_NUMBERING`, the canonical ``field``, the raw ``value``."""

    row: int
    field: str
    value: str
    reason: str


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
            raise GeoInputError(f"communes must be in EPSG:4326; got {frame.crs}")
        for column in ("commune_code", "commune_name"):
            if column not in frame.columns:
                raise GeoInputError(f"communes lack the column {column!r}; columns are: {', '.join(frame.columns)}")
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


# --------------------------------------------------------------------------------------------- reading

def read_incident_table(path, *, field_map: dict | None = None, sheet=0) -> pd.DataFrame:
    """Read an incident file into a raw frame of strings, one row per record.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8 with or without BOM), ``.xlsx`` (first sheet unless ``sheet``) or
        ``.geojson``/``.json`` (Point features; coordinates become ``lon``/``lat``).
    field_map : dict, optional
        Canonical field -> the file's column, for columns the aliases of :data:`INCIDENT_FIELDS` miss.

    Returns
    -------
    DataFrame
        Column ``row`` (int, :data:`ROW_NUMBERING`) and one string column per field found, renamed to
        the canonical names; empty cells are ``""``. Unknown columns are kept as they are.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            raw = _read_csv(path, field_map)
        elif suffix in (".xlsx", ".xlsm"):
            raw = _read_xlsx(path, sheet)
        elif suffix in (".geojson", ".json"):
            raw = _read_geojson(path)
        else:
            raise GeoInputError(f"path {path.name!r}: the extension {suffix or '(none)'!r} is not one of: "
                                ".csv, .xlsx, .geojson")
    except GeoInputError:
        raise
    except UnicodeDecodeError as exc:
        raise GeoInputError(f"path {path.name!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                            "save the CSV as UTF-8")
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        # BadZipFile: an .xlsx that is not a zip archive (openpyxl lets it through unconverted)
        raise GeoInputError(f"path {path.name!r} could not be read as {suffix.lstrip('.').upper()}: {exc}")
    return _canonical_columns(raw, field_map)


def _read_csv(path: Path, field_map) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    fields = resolve_fields([str(c).strip() for c in header], INCIDENT_FIELDS, field_map)
    numeric = {fields.get("lon"), fields.get("lat")} - {None}
    # Text everywhere (ids like "007" keep their zeros) except the coordinates, which the C parser reads
    # as floats when the whole column is numeric; a column with a bad value stays text and is checked.
    dtypes = {column: str for column in header if str(column).strip() not in numeric}
    return pd.read_csv(path, dtype=dtypes, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)


def _canonical_columns(raw: pd.DataFrame, field_map) -> pd.DataFrame:
    raw.columns = [str(c).strip() for c in raw.columns]
    if "row" in raw.columns:
        raw = raw.rename(columns={"row": "source_row"})
    fields = resolve_fields([c for c in raw.columns if c != "row"], INCIDENT_FIELDS, field_map)
    renamed = raw.rename(columns={column: canonical for canonical, column in fields.items()})
    renamed.insert(0, "row", np.arange(1, len(renamed) + 1))
    return renamed


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


def _read_xlsx(path: Path, sheet) -> pd.DataFrame:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook.worksheets[sheet] if isinstance(sheet, int) else workbook[sheet]
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise GeoInputError(f"path {path.name!r}: the sheet is empty; expected a header row")
        width = len(header)
        names = [_cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)]
        records = []
        for values in rows:
            cells = [_cell_text(v) for v in values[:width]]
            if not any(cells):
                continue  # trailing formatted-but-empty rows that Excel likes to keep
            records.append(cells + [""] * (width - len(cells)))
    finally:
        workbook.close()
    return pd.DataFrame(records, columns=names, dtype=object).astype(str)


def _read_geojson(path: Path) -> pd.DataFrame:
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    kind = document.get("type") if isinstance(document, dict) else type(document).__name__
    if kind != "FeatureCollection":
        raise GeoInputError(f"path {path.name!r}: type {kind!r} is not 'FeatureCollection'")
    features = document.get("features", [])
    if not isinstance(features, list):
        raise GeoInputError(f"path {path.name!r}: 'features' is a {type(features).__name__}, not a list")
    records = []
    for number, feature in enumerate(features, start=1):
        # Structure errors name the feature (numbered like the rows of the report) and what was expected.
        properties = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or not isinstance(properties or {}, dict) \
                or not isinstance(geometry or {}, dict):
            raise GeoInputError(f"path {path.name!r}: feature {number} is not a GeoJSON Feature object with "
                                "'properties' and 'geometry' objects")
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
    return pd.DataFrame.from_records(records).fillna("").astype(str) if records else pd.DataFrame()


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


def _parse_one_date(text: str):
    """Slow path for one value: ISO with spaces or offset, day-first numeric, Vietnamese words."""
    text = text.strip()
    if not text:
        return None
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

    Returns
    -------
    (timestamps, blank) : Series of datetime64[ns] (naive, Vietnam time; NaT where unparsable or blank)
        and a bool array marking blank input.
    """
    series = pd.Series(values)
    if series.dtype.kind == "M":
        stamps = series.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None) if series.dt.tz else series
        return stamps.astype("datetime64[ns]").reset_index(drop=True), series.isna().to_numpy()
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
    numbers = pd.to_numeric(pd.Series(array), errors="coerce").to_numpy(dtype=float, copy=True)
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

class _Collector:
    def __init__(self, rows: np.ndarray):
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.errors: list[RowError] = []

    def add(self, mask, field_name: str, values, reason):
        """Record an error for each True of ``mask``; ``reason`` is a string or ``f(positions) -> list``."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        self.bad[positions] = True
        shown = np.asarray(values, dtype=object)[positions]
        reasons = reason(positions) if callable(reason) else [reason] * len(positions)
        self.errors.extend(RowError(int(r), field_name, "" if v is None else str(v), str(why))
                           for r, v, why in zip(self.rows[positions], shown, reasons))


def validate_incidents(raw: pd.DataFrame, locator: CommuneLocator, *, today: date | None = None) -> ValidationResult:
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
    day (a time of exactly 00:00 counts as none); category, severity and case status via the
    :mod:`geo.taxonomy` parsers (code, Vietnamese or English label); lon/lat numeric and within
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
            f"required column(s) {', '.join(missing)} not found; columns are: "
            f"{', '.join(str(c) for c in frame.columns if c != 'row')}. Required: "
            f"{', '.join(REQUIRED_INCIDENT_FIELDS)}; optional: reported_at, sensitive, description, article, "
            "clause, district_code")
    n = len(frame)
    rows = frame["row"].to_numpy(dtype=np.int64) if "row" in frame.columns else np.arange(1, n + 1)
    out = _Collector(rows)
    empty = "required value is empty"

    ids = _text_array(frame, "id")
    if frame["id"].dtype.kind in "fi":
        ids = np.array([_cell_text(v) for v in ids], dtype=object)
    out.add(ids == "", "id", ids, empty)
    duplicated = pd.Series(ids).duplicated(keep="first").to_numpy() & (ids != "")
    if duplicated.any():
        first_row = dict(zip(ids[::-1], rows[::-1]))  # reversed, so the first occurrence wins
        out.add(duplicated, "id", ids, lambda where: [f"id already used on row {first_row[ids[i]]}" for i in where])

    occurred, occurred_blank = parse_dates(frame["occurred_at"])
    reported, reported_blank = parse_dates(frame["reported_at"] if "reported_at" in frame else [""] * n)
    occurred_shown = _shown(frame["occurred_at"])
    reported_shown = _shown(frame["reported_at"]) if "reported_at" in frame else np.full(n, "", dtype=object)
    date_forms = "expected a date like 2024-03-05, 05/03/2024, 05-03-2024 or 'ngày 5 tháng 3 năm 2024'"
    occurred_missing = occurred.isna().to_numpy()
    reported_missing = reported.isna().to_numpy()
    out.add(occurred_blank, "occurred_at", occurred_shown, empty)
    out.add(occurred_missing & ~occurred_blank, "occurred_at", occurred_shown, date_forms)
    out.add(reported_missing & ~reported_blank, "reported_at", reported_shown, date_forms)
    latest = pd.Timestamp(today or date.today()) + pd.Timedelta(days=1)
    out.add((occurred >= latest).to_numpy(), "occurred_at", occurred_shown,
            f"date is in the future (after {(latest - pd.Timedelta(days=1)).date()})")
    out.add((occurred < EARLIEST_DATE).to_numpy(), "occurred_at", occurred_shown,
            f"date is before {EARLIEST_DATE.date()}")
    occurred_day, reported_day = occurred.dt.normalize(), reported.dt.normalize()
    both_timed = ((occurred != occurred_day) & (reported != reported_day)).to_numpy()
    before = np.where(both_timed, (reported < occurred).to_numpy(), (reported_day < occurred_day).to_numpy())
    out.add(before, "reported_at", reported_shown,
            lambda where: [f"reported before it occurred (occurred_at {occurred_shown[i]})" for i in where])

    parsed = {}
    for column in ("category", "severity", "case_status"):
        values = _text_array(frame, column)
        codes, blank = _parse_terms(column, values)
        allowed = ", ".join(taxonomy._KINDS[column])
        out.add(blank, column, values, empty)
        out.add(pd.isna(codes) & ~blank, column, values, f"not one of: {allowed} (or their Vietnamese names)")
        parsed[column] = codes

    lon_shown, lat_shown = _shown(frame["lon"]), _shown(frame["lat"])
    lon, lon_blank = _parse_floats(frame["lon"])
    lat, lat_blank = _parse_floats(frame["lat"])
    out.add(lon_blank, "lon", lon_shown, empty)
    out.add(lat_blank, "lat", lat_shown, empty)
    out.add(np.isnan(lon) & ~lon_blank, "lon", lon_shown, "not a number (decimal degrees, e.g. 105.6321)")
    out.add(np.isnan(lat) & ~lat_blank, "lat", lat_shown, "not a number (decimal degrees, e.g. 10.4567)")
    with np.errstate(invalid="ignore"):
        swapped = (np.abs(lon) <= 90) & (np.abs(lat) > 90) & (np.abs(lat) <= 180)
        out.add(swapped, "lat", lat_shown, "out of range −90…90; lon and lat look swapped")
        out.add(np.abs(lon) > 180, "lon", lon_shown, "out of range −180…180")
        out.add((np.abs(lat) > 90) & ~swapped, "lat", lat_shown, "out of range −90…90")
        usable = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    lon = np.where(usable, lon, np.nan)
    lat = np.where(usable, lat, np.nan)
    placed = locator.assign(lon, lat)
    inside = placed.commune_index >= 0
    outside = usable & ~inside
    if outside.any():
        shown = np.empty(n, dtype=object)
        where = np.flatnonzero(outside)
        shown[where] = [f"{lon_shown[i]}, {lat_shown[i]}" for i in where]
        out.add(outside, "lon/lat", shown, lambda w: [
            f"outside the province: {_distance_text(placed.distance_m[i])} from {placed.nearest_name[i]}" for i in w])

    sensitive_text = _text_array(frame, "sensitive")
    if "sensitive" in frame and frame["sensitive"].dtype == bool:
        sensitive_given, sensitive_state = frame["sensitive"].to_numpy(), np.ones(n, dtype=np.int8)
    else:
        sensitive_given, sensitive_state = _parse_sensitive(sensitive_text)
    out.add(sensitive_state == 2, "sensitive", sensitive_text, "not a yes/no value (1/0, true/false, có/không)")
    default_sensitive = np.isin(parsed["category"], list(taxonomy.SENSITIVE_BY_DEFAULT))
    sensitive = np.where(sensitive_state == 1, sensitive_given, default_sensitive).astype(bool)

    article, clause = [np.full(n, "", dtype=object) for _ in range(2)]
    for column, target, example in (("article", article, "173"), ("clause", clause, "2")):
        values = _text_array(frame, column)
        positions, uniques = pd.factorize(values)
        if len(uniques) == 0:
            continue
        found = [re.search(r"\d{1,3}[a-z]?", _cell_text(u)) for u in uniques]
        numbers = np.array([m.group(0) if m else "" for m in found] + [""], dtype=object)
        target[:] = numbers[positions]
        bad_text = np.array([(m is None and _cell_text(u) != "") for m, u in zip(found, uniques)] + [False])
        out.add(bad_text[positions], column, values, f"expected a number, e.g. {example}")

    district_of_point = np.full(n, None, dtype=object)
    district_of_point[inside] = locator.district_codes[placed.commune_index[inside]]
    warnings: list[RowError] = []
    hint = _text_array(frame, "district_code")
    hinted = np.flatnonzero((hint != "") & inside)
    for i in hinted:
        given = _cell_text(hint[i]).zfill(3)
        if given != district_of_point[i]:
            warnings.append(RowError(int(rows[i]), "district_code", str(hint[i]),
                                     f"the point lies in commune {placed.commune_code[i]} of district "
                                     f"{district_of_point[i]}; the commune found from the point is kept"))

    keep = ~out.bad
    description = _text_array(frame, "description")
    valid = pd.DataFrame({
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
    }, columns=VALID_COLUMNS)
    errors = sorted(out.errors, key=lambda e: e.row)
    return ValidationResult(valid=valid, errors=errors, warnings=warnings)


def _distance_text(metres: float) -> str:
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km"


def incidents_to_points(valid: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return validated incidents as an EPSG:4326 point GeoDataFrame (for layers and statistics)."""
    return gpd.GeoDataFrame(valid.copy(), geometry=gpd.points_from_xy(valid["lon"], valid["lat"]), crs="EPSG:4326")
