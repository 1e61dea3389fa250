"""Read, validate and derive the commune boundary set (xã / phường / thị trấn) of one province.

Commune polygons are read with fiona from GeoJSON, GeoPackage or Shapefile in any CRS (including the
VN-2000 variants used by Vietnamese official files, e.g. EPSG:3405, EPSG:9210 or a provincial TM-3
proj string), checked, repaired where GEOS can repair them, and returned in EPSG:4326. Field names are
matched through a small declared schema (:data:`COMMUNE_FIELDS`) so an official file whose columns are
called ``MA_XA``/``TEN_XA`` loads with a ``field_map`` instead of code changes.

Districts and the province outline are derived by dissolving communes, so the three levels always agree.
A boundary set carries a version label and an effective date: the province was reorganised on
01/01/2025 (NQ 1284/NQ-UBTVQH15) and again on 01/07/2025, and records keep the code valid when recorded.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import METRIC_CRS, WGS84
from geo.errors import GeoInputError

#: Canonical commune fields -> default aliases tried (case-, diacritic- and punctuation-insensitively)
#: when the file has no column of the canonical name. Shapefile's 10-character truncation of the
#: canonical name (``commune_co``) is always tried too.
COMMUNE_FIELDS: dict[str, tuple[str, ...]] = {
    "commune_code": ("ma_xa", "maxa", "ma_dvhc_xa", "ma_phuong_xa", "ward_code", "commune_id_gso", "ma"),
    "commune_name": ("ten_xa", "tenxa", "ten_dvhc_xa", "ten_phuong_xa", "ward_name", "ten"),
    "commune_type": ("loai_xa", "cap_xa", "loai", "cap", "ward_type", "type"),
    "district_code": ("ma_huyen", "mahuyen", "ma_dvhc_huyen", "ma_qh", "district_id_gso"),
    "district_name": ("ten_huyen", "tenhuyen", "ten_dvhc_huyen", "ten_qh"),
    "province_code": ("ma_tinh", "matinh", "ma_dvhc_tinh", "ma_tp"),
    "province_name": ("ten_tinh", "tentinh", "ten_dvhc_tinh", "ten_tp"),
}

#: Fields that must be present (after mapping); ``commune_type`` is derived from the name prefix when
#: absent, ``province_name`` is left empty when absent.
REQUIRED_COMMUNE_FIELDS = ("commune_code", "commune_name", "district_code", "district_name", "province_code")

#: Zero-padded widths of GSO codes.
CODE_WIDTHS = {"commune_code": 5, "district_code": 3, "province_code": 2}

COMMUNE_TYPES = ("xã", "phường", "thị trấn")

POPULATION_FIELDS: dict[str, tuple[str, ...]] = {
    "commune_code": COMMUNE_FIELDS["commune_code"],
    "population": ("population_2019", "dan_so", "danso", "so_dan", "tong_dan_so", "pop", "total"),
}

# Rough envelope of Viet Nam in degrees: a layer that lands outside it after reprojection almost
# certainly had a wrong or missing .prj.
_VIETNAM_BOUNDS = (101.0, 7.0, 118.0, 24.0)


@dataclass
class BoundarySet:
    """Communes of one province with the version they describe.

    Attributes
    ----------
    communes : GeoDataFrame
        EPSG:4326; columns commune_code (5-digit str), commune_name, commune_type, district_code
        (3-digit str), district_name, province_code, province_name, geometry; sorted by commune_code.
    version : str
        Label of the administrative state, e.g. "2024".
    effective_date : datetime.date
        First day the set is valid.
    source : str
        Path or description of the file read.
    repairs : list of str
        One line per geometry repaired on load (empty when none was needed).
    """

    communes: gpd.GeoDataFrame
    version: str
    effective_date: date
    source: str
    repairs: list[str] = field(default_factory=list)

    @property
    def commune_codes(self) -> list[str]:
        return self.communes["commune_code"].tolist()

    @property
    def province_code(self) -> str:
        return str(self.communes["province_code"].iloc[0])


def _fold(name: str) -> str:
    text = str(name).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def resolve_fields(columns, schema: dict[str, tuple[str, ...]], field_map: dict | None = None,
                   argument: str = "field_map") -> dict[str, str]:
    """Match canonical field names to the file's columns.

    Parameters
    ----------
    columns : iterable of str
        Columns present in the file.
    schema : dict
        Canonical name -> default aliases.
    field_map : dict, optional
        Canonical name -> column name in the file; overrides the aliases.

    Returns
    -------
    dict
        Canonical name -> column name, only for the fields found.
    """
    columns = list(columns)
    field_map = dict(field_map or {})
    unknown = sorted(set(field_map) - set(schema))
    if unknown:
        raise GeoInputError(f"{argument} keys {unknown} are not fields; allowed: {', '.join(schema)}")
    resolved: dict[str, str] = {}
    for canonical, column in field_map.items():
        if column not in columns:
            raise GeoInputError(f"{argument}[{canonical!r}] = {column!r} is not a column of the file; "
                                f"columns are: {', '.join(map(str, columns))}")
        resolved[canonical] = column
    by_fold: dict[str, str] = {}
    for column in columns:
        by_fold.setdefault(_fold(column), column)
    taken = set(resolved.values())
    for canonical, aliases in schema.items():
        if canonical in resolved:
            continue
        for candidate in (canonical, canonical[:10], *aliases):
            column = by_fold.get(_fold(candidate))
            if column is not None and column not in taken:
                resolved[canonical] = column
                taken.add(column)
                break
    return resolved


def _pad_codes(values: pd.Series, width: int, fieldname: str) -> pd.Series:
    def one(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text.zfill(width) if text.isdigit() else text

    padded = values.map(one)
    bad = padded[~padded.fillna("").str.fullmatch(rf"\d{{{width}}}")]
    if len(bad):
        shown = ", ".join(repr(v) for v in bad.head(5).tolist())
        raise GeoInputError(f"{fieldname} must be a {width}-digit GSO code; got {shown}"
                            f"{' …' if len(bad) > 5 else ''} ({len(bad)} value(s))")
    return padded


def _commune_type_from_name(name: str) -> str:
    folded = _fold(name)
    for commune_type in COMMUNE_TYPES:
        if folded.startswith(_fold(commune_type) + "_"):
            return commune_type
    return "xã"


def _normalise_commune_type(value, name) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return _commune_type_from_name(name)
    folded = _fold(value)
    for commune_type in COMMUNE_TYPES:
        if folded == _fold(commune_type):
            return commune_type
    mapping = {"commune": "xã", "ward": "phường", "township": "thị trấn", "town": "thị trấn"}
    if folded in mapping:
        return mapping[folded]
    raise GeoInputError(f"commune_type {value!r} (commune {name!r}) is not one of: {', '.join(COMMUNE_TYPES)}")


def _read_with_fiona(path: Path, layer, crs) -> gpd.GeoDataFrame:
    import fiona

    try:
        src = fiona.open(path, layer=layer) if layer is not None else fiona.open(path)
    except Exception as exc:  # fiona raises DriverError and friends; the user needs the file named
        raise GeoInputError(f"path {str(path)!r} could not be read as GeoJSON, GeoPackage or Shapefile: {exc}")
    with src:
        file_crs = src.crs_wkt or None
        records = [
            {**dict(feature.properties or {}),
             "geometry": shapely.geometry.shape(feature.geometry) if feature.geometry else None}
            for feature in src
        ]
    chosen = crs if crs is not None else file_crs
    if chosen is None:
        raise GeoInputError(f"path {str(path)!r} has no CRS (.prj missing?); pass crs=, for example "
                            "'EPSG:9210' (VN-2000 / TM-3 105°45') or 'EPSG:3405' (VN-2000 / UTM 48N)")
    if not records:
        raise GeoInputError(f"path {str(path)!r} holds no features; expected commune polygons")
    return gpd.GeoDataFrame(records, geometry="geometry", crs=chosen)


def _repair_geometries(frame: gpd.GeoDataFrame) -> list[str]:
    repairs: list[str] = []
    geoms = frame.geometry.values
    invalid = ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        if fixed.geom_type == "GeometryCollection":
            polygons = [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(polygons) if polygons else shapely.Polygon()
        row = frame.iloc[i]
        repairs.append(f"commune {row['commune_code']} ({row['commune_name']}): {reason}; "
                       f"repaired with make_valid")
        geoms[i] = fixed
    frame.geometry = geoms
    return repairs


def read_communes(path, *, field_map: dict | None = None, crs=None, layer=None, version: str = "2024",
                  effective_date: date = date(2024, 1, 1)) -> BoundarySet:
    """Read and validate a commune polygon file of one province.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage or Shapefile readable by fiona (GDAL/OGR).
    field_map : dict, optional
        Canonical field -> the file's column, e.g. ``{"commune_code": "MA_XA", "commune_name": "TEN_XA"}``.
        Unmapped fields are looked up by the aliases of :data:`COMMUNE_FIELDS`.
    crs : str or pyproj.CRS, optional
        CRS of the coordinates; overrides a missing or wrong .prj (e.g. ``"EPSG:9210"`` or a
        ``+proj=tmerc … +towgs84=…`` string for a provincial VN-2000 TM-3 zone).
    layer : str or int, optional
        Layer of a multi-layer source (GeoPackage).
    version, effective_date :
        Label and first valid day of the administrative state the file describes.

    Returns
    -------
    BoundarySet
        Communes in EPSG:4326, sorted by code, with the repairs made.

    Raises
    ------
    GeoInputError
        Missing required field, malformed or duplicate commune code, empty or non-polygonal geometry,
        communes of more than one province, no CRS, or coordinates outside Viet Nam after reprojection.

    Notes
    -----
    Invalid geometries are repaired with GEOS MakeValid (``shapely.make_valid``) and each repair is
    reported with the GEOS validity reason. The reprojection to EPSG:4326 uses PROJ through pyproj; for
    VN-2000 the EPSG datum transformation (7-parameter Helmert, decision 05/2007/QĐ-BTNMT) applies.
    """
    path = Path(path)
    raw = _read_with_fiona(path, layer, crs)
    columns = [c for c in raw.columns if c != "geometry"]
    fields = resolve_fields(columns, COMMUNE_FIELDS, field_map)
    missing = [f for f in REQUIRED_COMMUNE_FIELDS if f not in fields]
    if missing:
        raise GeoInputError(
            f"required field(s) {', '.join(missing)} not found in {path.name}; columns are: "
            f"{', '.join(map(str, columns))}. Map them with field_map, e.g. "
            f"field_map={{{missing[0]!r}: 'YOUR_COLUMN'}}")

    frame = gpd.GeoDataFrame(
        {canonical: raw[column].to_numpy() for canonical, column in fields.items()},
        geometry=raw.geometry.values, crs=raw.crs)
    for code_field, width in CODE_WIDTHS.items():
        frame[code_field] = _pad_codes(frame[code_field], width, code_field)
    frame["commune_name"] = frame["commune_name"].map(lambda s: " ".join(str(s).split()))
    frame["district_name"] = frame["district_name"].map(lambda s: " ".join(str(s).split()))
    if "province_name" not in frame:
        frame["province_name"] = ""
    frame["province_name"] = frame["province_name"].fillna("").map(lambda s: " ".join(str(s).split()))
    types = frame["commune_type"] if "commune_type" in frame else pd.Series([None] * len(frame))
    frame["commune_type"] = [_normalise_commune_type(t, n) for t, n in zip(types, frame["commune_name"])]

    duplicated = frame["commune_code"][frame["commune_code"].duplicated(keep=False)]
    if len(duplicated):
        raise GeoInputError(f"commune_code must be unique; repeated: {', '.join(sorted(set(duplicated)))}")
    provinces = sorted(frame["province_code"].unique())
    if len(provinces) > 1:
        counts = frame["province_code"].value_counts().sort_index()
        listed = ", ".join(f"{code} ({n} communes)" for code, n in counts.items())
        raise GeoInputError(f"province_code: the communes belong to {len(provinces)} provinces ({listed}); "
                            "a boundary set holds one province")

    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        codes = ", ".join(frame.loc[empty, "commune_code"])
        raise GeoInputError(f"geometry is empty or missing for commune(s) {codes}")
    kinds = frame.geometry.geom_type
    not_polygon = ~kinds.isin(["Polygon", "MultiPolygon"])
    if not_polygon.any():
        listed = ", ".join(f"{c} ({k})" for c, k in zip(frame.loc[not_polygon, "commune_code"],
                                                       kinds[not_polygon]))
        raise GeoInputError(f"geometry must be Polygon or MultiPolygon; got {listed}")

    repairs = _repair_geometries(frame)
    still_empty = frame.geometry.is_empty
    if still_empty.any():
        codes = ", ".join(frame.loc[still_empty, "commune_code"])
        raise GeoInputError(f"geometry of commune(s) {codes} has no area left after make_valid")

    frame = frame.to_crs(WGS84) if frame.crs.to_string() != WGS84 else frame
    minx, miny, maxx, maxy = frame.total_bounds
    vx0, vy0, vx1, vy1 = _VIETNAM_BOUNDS
    if not (vx0 <= minx and maxx <= vx1 and vy0 <= miny and maxy <= vy1):
        raise GeoInputError(
            f"crs: after reprojection to EPSG:4326 the communes lie at lon {minx:.3f}…{maxx:.3f}, "
            f"lat {miny:.3f}…{maxy:.3f}, outside Viet Nam; the file's CRS ({raw.crs.name if raw.crs else None}) "
            "is probably wrong — pass crs=, e.g. 'EPSG:9210' or 'EPSG:3405'")

    ordered = ["commune_code", "commune_name", "commune_type", "district_code", "district_name",
               "province_code", "province_name", "geometry"]
    communes = frame[ordered].sort_values("commune_code").reset_index(drop=True)
    return BoundarySet(communes=communes, version=str(version), effective_date=effective_date,
                       source=str(path), repairs=repairs)


def _communes_frame(communes) -> gpd.GeoDataFrame:
    return communes.communes if isinstance(communes, BoundarySet) else communes


def dissolve_districts(communes) -> gpd.GeoDataFrame:
    """Dissolve communes into districts (huyện / thành phố thuộc tỉnh).

    Parameters
    ----------
    communes : GeoDataFrame or BoundarySet
        Communes with district_code, district_name, province_code, province_name.

    Returns
    -------
    GeoDataFrame
        One row per district_code (sorted): district_code, district_name, province_code, province_name,
        commune_count, geometry (same CRS as the input).
    """
    frame = _communes_frame(communes)
    grouped = frame.groupby("district_code", sort=True)
    geometries = [shapely.union_all(group.geometry.values) for _, group in grouped]
    first = grouped[["district_name", "province_code", "province_name"]].first()
    return gpd.GeoDataFrame(
        {"district_code": first.index.to_numpy(), "district_name": first["district_name"].to_numpy(),
         "province_code": first["province_code"].to_numpy(), "province_name": first["province_name"].to_numpy(),
         "commune_count": grouped.size().to_numpy()},
        geometry=geometries, crs=frame.crs)


def province_outline(communes):
    """Return the province outline (union of the communes) as one shapely geometry, in the input's CRS."""
    frame = _communes_frame(communes)
    return shapely.union_all(frame.geometry.values)


def read_population(path, *, field_map: dict | None = None, year: int = 2019,
                    boundaries: BoundarySet | gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Read residents per commune (CSV or XLSX) for rates per 10,000 residents.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, with or without BOM) or XLSX with a commune code and a population column.
    field_map : dict, optional
        ``{"commune_code": ..., "population": ...}`` column names; otherwise :data:`POPULATION_FIELDS`.
    year : int
        Reference year of the figures (2019 census by default); shown wherever a rate is shown.
    boundaries : BoundarySet or GeoDataFrame, optional
        When given, codes not in the boundary set are refused (they cannot be joined); communes of the
        set without a figure are listed in ``result.attrs["communes_without_population"]``.

    Returns
    -------
    DataFrame
        commune_code (5-digit str), population (int64), year (int), sorted by commune_code.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, dtype=str)
        else:
            raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise GeoInputError(f"path {str(path)!r} could not be read as CSV or XLSX: {exc}")
    fields = resolve_fields(raw.columns, POPULATION_FIELDS, field_map)
    missing = [f for f in POPULATION_FIELDS if f not in fields]
    if missing:
        raise GeoInputError(f"required field(s) {', '.join(missing)} not found in {path.name}; columns are: "
                            f"{', '.join(map(str, raw.columns))}. Map them with field_map")
    codes = _pad_codes(raw[fields["commune_code"]].str.strip(), 5, "commune_code")
    text = raw[fields["population"]].fillna("").str.strip().str.replace(r"[\s.,](?=\d{3}\b)", "", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        shown = ", ".join(f"{c}: {v!r}" for c, v in zip(codes[bad].head(5), raw[fields["population"]][bad].head(5)))
        raise GeoInputError(f"population must be a whole number ≥ 0; got {shown}"
                            f"{' …' if bad.sum() > 5 else ''} ({int(bad.sum())} row(s))")
    duplicated = codes[codes.duplicated(keep=False)]
    if len(duplicated):
        raise GeoInputError(f"commune_code must be unique in the population file; repeated: "
                            f"{', '.join(sorted(set(duplicated)))}")
    result = pd.DataFrame({"commune_code": codes.to_numpy(), "population": numbers.astype("int64").to_numpy(),
                           "year": int(year)}).sort_values("commune_code").reset_index(drop=True)
    if boundaries is not None:
        known = set(_communes_frame(boundaries)["commune_code"])
        unknown = sorted(set(result["commune_code"]) - known)
        if unknown:
            raise GeoInputError(f"commune_code: {len(unknown)} code(s) of the population file are not in the "
                                f"boundary set: {', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''}")
        result.attrs["communes_without_population"] = sorted(known - set(result["commune_code"]))
    return result


def simplify_for_display(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify polygons for web maps without opening gaps or overlaps between neighbours.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons with a CRS (any); returned in the same CRS.
    tolerance_m : float
        Simplification tolerance in metres (applied in EPSG:32648), > 0.

    Returns
    -------
    GeoDataFrame
        A copy with simplified geometries; other columns unchanged.

    Notes
    -----
    Uses GEOS CoverageSimplifier (``shapely.coverage_simplify``, a topology-preserving
    Visvalingam–Whyatt simplification of a polygonal coverage: shared edges are simplified once) when the
    polygons form a valid coverage; otherwise each polygon is simplified alone with Douglas–Peucker and
    ``preserve_topology=True`` (shared edges may then part slightly).
    """
    if not isinstance(tolerance_m, (int, float)) or not np.isfinite(tolerance_m) or tolerance_m <= 0:
        raise GeoInputError(f"tolerance_m must be a positive number of metres; got {tolerance_m!r}")
    if gdf.crs is None:
        raise GeoInputError("gdf has no CRS; cannot simplify in metres")
    metric = gdf.to_crs(METRIC_CRS)
    geoms = metric.geometry.values
    simplified = None
    if hasattr(shapely, "coverage_simplify") and bool(shapely.coverage_is_valid(geoms)):
        simplified = shapely.coverage_simplify(geoms, tolerance_m)
        if not shapely.is_valid(simplified).all() or shapely.is_empty(simplified).any():
            simplified = None
    if simplified is None:
        simplified = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    out = metric.copy()
    out.geometry = gpd.GeoSeries(simplified, index=metric.index, crs=METRIC_CRS)
    return out.to_crs(gdf.crs)
