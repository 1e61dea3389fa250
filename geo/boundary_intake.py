"""Boundary files as GIS officers have them: legacy encodings, constant fields, and a check of the CRS.

A commune shapefile from a provincial office is typically in VN-2000, with Vietnamese field names, no
province field and no ``.cpg`` file. :func:`geo.boundaries.read_communes` uses the helpers here to

* find the encoding of a shapefile's attribute table when no ``.cpg`` says it
  (:func:`shapefile_encoding`, by :mod:`geo.textencoding`) and refuse names that still look garbled
  (:func:`check_names`);
* fill fields the file lacks with a constant (``--set province_code=87``; :func:`apply_constants`);
* and, when the same province was loaded before, measure how far the new outline lies from the
  previous one (:func:`outline_shift`): a wrong CRS that still lands in Viet Nam (EPSG:9210 on a file
  in the provincial TM-3 zone moves Đồng Tháp some 80 km) shows as a shift of every commune by the same
  vector, which real boundary changes never produce.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo.crs import METRIC_CRS
from geo.errors import GeoInputError
from geo.textencoding import detect_among, encoding_name, garbled_characters
from translations import Message, message

#: Default largest accepted shift (metres) of a province outline against the previous set of the province.
DEFAULT_SHIFT_TOLERANCE_M = 500.0

#: Python-argument name -> how the command line says it, for messages of ``load-boundaries``.
CLI_OPTIONS = {"field_map": "--field", "constants": "--set", "crs": "--crs", "encoding": "--encoding"}
PYTHON_OPTIONS = {name: f"{name}=" for name in CLI_OPTIONS}


def _has_cpg(path: Path) -> bool:
    return any(p.suffix.lower() == ".cpg" and p.stem == path.stem for p in path.parent.glob(path.stem + ".*"))


def shapefile_encoding(path: Path, encoding: str | None, options=PYTHON_OPTIONS) -> str | None:
    """The encoding to decode a shapefile's text with, or None to let GDAL follow the ``.cpg``.

    Parameters
    ----------
    path : Path
        The ``.shp`` (other formats give None: GeoJSON and GeoPackage are UTF-8 by specification).
    encoding : str, optional
        Given by the user: wins over a ``.cpg``.
    options : dict
        How messages name the arguments (:data:`CLI_OPTIONS` for the command line).

    Notes
    -----
    Without a ``.cpg`` GDAL reads a DBF as ISO-8859-1, which maps every byte to one character; the
    text is read that way and the original bytes are recovered exactly (``str.encode("latin-1")``),
    then decoded by the first of UTF-8 and Windows-1258 whose names read as Vietnamese
    (:func:`geo.textencoding.detect_among`).
    """
    if path.suffix.lower() not in (".shp", ".dbf"):
        return encoding
    if encoding is None and _has_cpg(path):
        return None
    import fiona

    try:
        with fiona.open(path, encoding="ISO-8859-1") as src:
            samples = [value.encode("latin-1") for feature in src
                       for value in (feature.properties or {}).values() if isinstance(value, str)]
    except Exception as exc:  # fiona raises DriverError and friends; the user needs the file named
        raise GeoInputError(message("geo.boundary_intake.path_could_read_shapefile", path=str(path), exc=exc)) from None
    return detect_among(samples, encoding, what=f"the attribute table of {path.name} (no .cpg file)",
                        argument=options["encoding"])


def decode_latin1_columns(frame, codec: str):
    """Re-decode every text cell of ``frame`` (read as ISO-8859-1) with ``codec``, composed to NFC."""
    import unicodedata

    for column in frame.columns:
        if column == frame.geometry.name or frame[column].dtype.kind in "biufcmM":
            continue
        frame[column] = [unicodedata.normalize("NFC", v.encode("latin-1").decode(codec)) if isinstance(v, str) else v
                         for v in frame[column]]
    return frame


def check_names(frame, fields=("commune_name", "district_name", "province_name"), *, source: str,
                encoding: str | None, options=PYTHON_OPTIONS) -> None:
    """Refuse names with characters no Vietnamese name has (mojibake of a wrong encoding).

    Raises
    ------
    GeoInputError
        Naming up to three garbled names, the encoding used and the argument to change it.
    """
    for field in fields:
        if field not in frame:
            continue
        garbled = [str(v) for v in frame[field] if isinstance(v, str) and garbled_characters(v)]
        if garbled:
            shown = ", ".join(repr(v) for v in garbled[:3])
            read_as = f"read as {encoding_name(encoding)}" if encoding else "read with the encoding its .cpg names"
            raise GeoInputError(
                message("geo.boundary_intake.name_s_look_garbled", field=field, n_garbled=len(garbled),
                        source=source, shown=shown, value4=' …' if len(garbled) > 3 else '', read_as=read_as,
                        options=options['encoding']))


def parse_constants(pairs, schema, option: str = "--set") -> dict[str, str]:
    """``["province_code=87"]`` -> ``{"province_code": "87"}``; fields must be of ``schema``."""
    constants: dict[str, str] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise GeoInputError(message("geo.boundary_intake.field_value_e_g", option=option, pair=pair))
        name, value = (part.strip() for part in pair.split("=", 1))
        if name not in schema:
            raise GeoInputError(message("geo.boundary_intake.field_fields", option=option, name=name,
                                        schema=', '.join(schema)))
        constants[name] = value
    return constants


def apply_constants(fields: dict, constants: dict, options=PYTHON_OPTIONS) -> dict:
    """Check that a constant does not also have a column; return the constants (field -> value)."""
    both = sorted(set(fields) & set(constants))
    if both:
        raise GeoInputError(message("geo.boundary_intake.field_also_comes_from", options=options['constants'],
                                    both=both[0], fields=fields[both[0]]))
    return dict(constants)


@dataclass(frozen=True)
class OutlineShift:
    """How far a new set lies from a previous one: the median displacement of communes (or outlines)."""

    dx_m: float
    dy_m: float
    basis: Message  # "N matching communes" or "province outlines", worded per reader

    @property
    def distance_m(self) -> float:
        return math.hypot(self.dx_m, self.dy_m)

    def describe(self) -> Message:
        """``27.3 km to the east (dx +27301 m, dy -12 m, from 4 matching communes)``, worded per reader.

        The direction is the nearest of the eight compass points to the bearing of (dx, dy).
        """
        bearing = (math.degrees(math.atan2(self.dx_m, self.dy_m)) + 360.0) % 360.0
        direction = _COMPASS_POINTS[int((bearing + 22.5) // 45) % 8]
        return message("geo.boundary_intake.shift", distance_km=self.distance_m / 1000,
                       direction=message(f"geo.boundary_intake.direction.{direction}"), dx_m=self.dx_m,
                       dy_m=self.dy_m, basis=self.basis)


_COMPASS_POINTS = ("north", "north_east", "east", "south_east", "south", "south_west", "west", "north_west")


def outline_shift(new, previous) -> OutlineShift | None:
    """The displacement of ``new`` communes against ``previous`` ones of the same province, in metres.

    Parameters
    ----------
    new, previous : GeoDataFrame
        Communes with ``commune_code`` and a CRS.

    Returns
    -------
    OutlineShift
        The component-wise median of the centroid displacements (EPSG:32648) of the communes whose code
        is in both sets, when at least three are; otherwise the displacement of the centroids of the two
        province outlines when their areas are within 20 % of each other; otherwise None (nothing to
        compare).

    Notes
    -----
    A median is robust to the communes a reorganisation really changed; a wrong CRS moves them all by
    the same vector.
    """
    new_m = new.to_crs(METRIC_CRS)
    previous_m = previous.to_crs(METRIC_CRS)
    common = sorted(set(new_m["commune_code"]) & set(previous_m["commune_code"]))
    if len(common) >= 3:
        a = new_m.set_index("commune_code").loc[common].geometry.centroid
        b = previous_m.set_index("commune_code").loc[common].geometry.centroid
        return OutlineShift(float(np.median(a.x.to_numpy() - b.x.to_numpy())),
                            float(np.median(a.y.to_numpy() - b.y.to_numpy())),
                            message("geo.boundary_intake.basis_communes", count=len(common)))
    outline_a = shapely.union_all(new_m.geometry.values)
    outline_b = shapely.union_all(previous_m.geometry.values)
    ratio = outline_a.area / outline_b.area if outline_b.area else 0.0
    if not 0.8 <= ratio <= 1.25:
        return None  # a part of the province, or another extent: the outlines say nothing about the CRS
    a, b = outline_a.centroid, outline_b.centroid
    return OutlineShift(a.x - b.x, a.y - b.y, message("geo.boundary_intake.basis_outlines"))


def check_shift(new, previous, *, previous_label: str, tolerance_m: float = DEFAULT_SHIFT_TOLERANCE_M,
                crs_given=None, options=PYTHON_OPTIONS, force_hint: str = "force=True") -> OutlineShift | None:
    """Refuse a new set shifted more than ``tolerance_m`` from the previous set of its province.

    Raises
    ------
    GeoInputError
        Naming the offset, the set compared with, and the CRS argument when one was given (the usual
        cause), or the file's own CRS.
    """
    shift = outline_shift(new, previous)
    if shift is not None and shift.distance_m > tolerance_m:
        blamed = (f"{options['crs']} {crs_given} is probably wrong for this file" if crs_given is not None
                  else f"the file's own CRS is probably wrong; give the right one with {options['crs']}")
        raise GeoInputError(
            message("geo.boundary_intake.communes_lie_from_boundary", options=options['crs'].strip('=-'),
                    shift=shift.describe(), previous_label=previous_label, tolerance_m=tolerance_m, blamed=blamed,
                    force_hint=force_hint))
    return shift
