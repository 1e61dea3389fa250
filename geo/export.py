"""Turn incident tables into exchange formats (CSV, GeoJSON) without losing the redaction of sensitive rows.

Every CSV and XLSX cell the application writes goes through :func:`spreadsheet_text` (via
:func:`spreadsheet_safe_frame` for tables): text a spreadsheet would run as a formula is neutralised.
"""
from __future__ import annotations

import io
import math
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from geo.geojson import feature_collection

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage return, lets
# a following character start one), so ``=HYPERLINK(…)`` or ``@SUM(…)`` in a name would run on opening.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """``value`` safe for a CSV or XLSX cell: text that starts like a formula gets a leading apostrophe.

    The OWASP "CSV Injection" recommendation: prefixing ``'`` makes Excel, LibreOffice and Google Sheets
    show the text as written instead of evaluating it. Numbers, booleans and missing values are returned
    as they are (a negative number is a number, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_csv(frame: pd.DataFrame, **options) -> str:
    """``frame`` as CSV text (no index) with every cell through :func:`spreadsheet_text`.

    Lines end in CRLF (RFC 4180): the csv module quotes a field holding any character of the line
    terminator, so a carriage return inside a text cannot start a new, unquoted line — and a formula there.
    """
    buffer = io.StringIO()
    spreadsheet_safe_frame(frame).to_csv(buffer, index=False, lineterminator="\r\n", **options)
    return buffer.getvalue()


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names have passed :func:`spreadsheet_text`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(spreadsheet_text)
    out.columns = [spreadsheet_text(str(c)) for c in out.columns]
    return out

EXPORT_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "commune_code", "district_code", "boundary_set", "sensitive", "description", "article", "clause"]


def incidents_to_csv(frame: pd.DataFrame) -> str:
    """CSV in the import schema (so an export can be re-imported); redacted rows have empty lon/lat.

    Redacted rows cannot be re-imported as they are, by design: their exact location is withheld.
    """
    columns = [c for c in EXPORT_COLUMNS if c in frame.columns]
    out = frame[columns].copy()
    for column in ("occurred_at", "reported_at"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
    return spreadsheet_csv(out)


def incidents_to_geojson(frame: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection in EPSG:4326; redacted rows keep their commune but have no geometry."""
    import geopandas as gpd
    import shapely

    columns = [c for c in EXPORT_COLUMNS if c in frame.columns and c not in ("lon", "lat")]
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float) if "lon" in frame else None
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float) if "lat" in frame else None
    if lon is None or lat is None:
        points = [None] * len(frame)
    else:
        located = np.isfinite(lon) & np.isfinite(lat)
        points = np.where(located, shapely.points(np.where(located, lon, 0.0), np.where(located, lat, 0.0)), None)
    located_frame = gpd.GeoDataFrame(frame[columns].reset_index(drop=True), geometry=list(points), crs="EPSG:4326")
    return {"type": "FeatureCollection", "features": feature_collection(located_frame)["features"]}


def plain_value(value):
    """One value as JSON (and any text format) can hold it; the one conversion every writer uses.

    Missing values (None, NaN, NaT, ``pd.NA``) and non-finite numbers become None, dates, times and
    timestamps their ISO 8601 text (``Timestamp.isoformat``: with its offset when it has one), numpy
    scalars the Python ones; anything else is returned as it is.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (datetime, date, time)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
