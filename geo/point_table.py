"""Point coordinates (and an optional weight) from a delimited text file, reading only those columns.

An incident extract has a dozen text columns around its two coordinates; a hot spot analysis needs the
coordinates alone. Apache Arrow's multithreaded CSV reader (:func:`pyarrow.csv.read_csv` with
``include_columns``) tokenises the other columns without converting them, so a million-row file is read
in a fraction of a second and in a few arrays of floats, where a data frame of every column would hold
millions of Python strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import GeoInputError
from geo.textencoding import csv_delimiter
from translations import message


class ColumnError(GeoInputError):
    """A named column is missing or unusable; ``column`` says which one."""

    def __init__(self, column: str, text):
        super().__init__(text)
        self.column = column


@dataclass(frozen=True, eq=False)
class PointColumns:
    """Result of :func:`read_point_columns`.

    Attributes
    ----------
    x, y : ndarray of float
        Coordinates of the rows kept, in the file's own units.
    weight : ndarray of float or None
        The weight column of those rows, when one was asked for.
    n_dropped : int
        Rows left out because a coordinate was empty or not a number.
    delimiter : str
        The field separator found in the header line.
    """

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None
    n_dropped: int
    delimiter: str


def _header(path: Path) -> tuple[list[str], str]:
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20)
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as e:
        raise GeoInputError(message("geo.point_table.points_file_readable_csv_2", path=str(path),
                                    e_reason=e.reason, e_start=e.start)) from None
    if not line.strip():
        raise GeoInputError(message("geo.point_table.points_file_readable_csv", path=str(path)))
    delimiter = csv_delimiter(line)
    import csv

    names = next(csv.reader([line], delimiter=delimiter))
    return [name.strip() for name in names], delimiter


def _floats(column) -> np.ndarray:
    """A float64 column as one numpy array, nulls as NaN.

    Read straight from the Arrow buffers (a values buffer and an LSB-first validity bitmap, Arrow columnar
    format §"Validity bitmaps"): Arrow's own ``to_numpy`` asks its pandas shim first, and importing
    pandas costs a second of the command's start-up.
    """
    parts = []
    for chunk in column.chunks:
        validity, data = chunk.buffers()[:2]
        n, offset = len(chunk), chunk.offset
        values = np.frombuffer(data, dtype=np.float64, count=n, offset=offset * 8) if n else np.empty(0)
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[offset:offset + n]
            values = np.where(bits.astype(bool), values, np.nan)
        parts.append(values)
    return np.concatenate(parts) if parts else np.empty(0)


def _to_float(column, decimal_comma: bool) -> np.ndarray:
    """Numbers of a text column; empty or non-numeric cells become NaN (reported by the caller)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(column)
    if decimal_comma:
        text = pc.replace_substring(text, ",", ".")
    numeric = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    cleaned = pc.if_else(numeric, text, pa.scalar(None, pa.string()))
    return _floats(pc.cast(cleaned, "float64"))


def read_point_columns(path, x_field: str, y_field: str, weight_field: str | None = None) -> PointColumns:
    """Read the coordinate (and weight) columns of a CSV, comma, semicolon, tab or ``|`` separated.

    Parameters
    ----------
    path : str or Path
        UTF-8 text (with or without BOM); the separator is taken from the header line
        (:func:`geo.textencoding.csv_delimiter`). With ``;`` separators a decimal comma (``105,63``) is
        read as a decimal point, as a Vietnamese-locale Excel writes it.
    x_field, y_field : str
        Columns of the coordinates.
    weight_field : str, optional
        Column of a numeric weight per row; every kept row must have one.

    Returns
    -------
    PointColumns

    Raises
    ------
    ColumnError
        A named column is missing (the message lists the file's columns), or a kept row has no weight.
    GeoInputError
        Unreadable file, or no row with numeric coordinates.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    names, delimiter = _header(path)
    for name in (x_field, y_field) + ((weight_field,) if weight_field else ()):
        if name not in names:
            raise ColumnError(name, message("geo.point_table.not_a_column", name=name, path_name=path.name,
                                                 names=", ".join(names)))
    wanted = list(dict.fromkeys([x_field, y_field] + ([weight_field] if weight_field else [])))
    parse = pacsv.ParseOptions(delimiter=delimiter)
    # One thread: on a machine whose cores are shared, the parallel reader's extra blocks in flight cost
    # more memory (a third more at the peak) than they save time.
    read = pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False)

    def table(types):
        convert = pacsv.ConvertOptions(include_columns=wanted, column_types={c: types for c in wanted},
                                       strings_can_be_null=True)
        return pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)

    try:
        try:
            columns = table(pa.float64())
            arrays = {c: _floats(columns.column(c)) for c in wanted}
        except pa.ArrowInvalid as e:
            if "conversion error" not in str(e):
                raise
            # Some cell is not a plain number: read the columns as text and let bad cells become NaN.
            columns = table(pa.string())
            arrays = {c: _to_float(columns.column(c), delimiter == ";") for c in wanted}
    except pa.ArrowInvalid as e:
        raise GeoInputError(message("geo.point_table.points_file_readable_csv_3", path=str(path), e=e)) from None
    x, y = np.asarray(arrays[x_field], dtype=float), np.asarray(arrays[y_field], dtype=float)
    bad = np.isnan(x) | np.isnan(y)
    if bad.all():
        raise GeoInputError(message("geo.point_table.row_numeric_coordinates", path_name=path.name,
                                    x_field=x_field, y_field=y_field))
    weight = None
    if weight_field:
        weight = np.asarray(arrays[weight_field], dtype=float)
        missing = np.isnan(weight) & ~bad
        if missing.any():
            raise ColumnError(weight_field, message("geo.point_table.weight_missing", weight_field=weight_field,
                                                   n_missing=int(missing.sum())))
    if bad.any():
        keep = ~bad
        x, y = x[keep], y[keep]
        weight = weight[keep] if weight is not None else None
    return PointColumns(x=x, y=y, weight=weight, n_dropped=int(bad.sum()), delimiter=delimiter)


__all__ = ["ColumnError", "PointColumns", "read_point_columns"]
