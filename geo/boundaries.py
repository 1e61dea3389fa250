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
from translations import message

#: Canonical commune fields -> default aliases tried (case-, diacritic- and punctuation-insensitively)
#: when the file has no column of the canonical name. Shapefile's 10-character truncation of the
#: canonical name (``commune_co``) is always tried too.
COMMUNE_FIELDS: dict[str, tuple[str, ...]] = {
    "commune_code": ("ma_xa", "maxa", "ma_dvhc_xa", "ma_phuong_xa", "ward_code", "commune_id_gso", "ma"),
    "commune_name": ("ten_xa", "tenxa", "ten_dvhc_xa", "ten_phuong_xa", "ward_name", "ten"),
    "commune_type": ("loai_xa", "loaixa", "cap_xa", "capxa", "loai", "cap", "ward_type", "type"),
    "district_code": ("ma_huyen", "mahuyen", "ma_dvhc_huyen", "ma_qh", "district_id_gso"),
    "district_name": ("ten_huyen", "tenhuyen", "ten_dvhc_huyen", "ten_qh"),
    "province_code": ("ma_tinh", "matinh", "ma_dvhc_tinh", "ma_tp"),
    "province_name": ("ten_tinh", "tentinh", "ten_dvhc_tinh", "ten_tp"),
}

#: Fields that must be present (after mapping); ``commune_type`` is derived from the name prefix when
#: absent, ``province_name`` is left empty when absent. The district fields come as a pair: a set without
#: them has no district level (the structure from 01/07/2025), and its district columns stay empty.
REQUIRED_COMMUNE_FIELDS = ("commune_code", "commune_name", "province_code")
DISTRICT_FIELDS = ("district_code", "district_name")

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
    levels : tuple of str
        ``("province", "district", "commune")``, or ``("province", "commune")`` for a set without districts.
    effective_to : datetime.date or None
        First day the set is no longer valid (exclusive); None while it is current.
    """

    communes: gpd.GeoDataFrame
    version: str
    effective_date: date
    source: str
    repairs: list[str] = field(default_factory=list)
    levels: tuple[str, ...] = ("province", "district", "commune")
    effective_to: date | None = None

    @property
    def has_districts(self) -> bool:
        return "district" in self.levels

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
        raise GeoInputError(message("geo.boundaries.keys_fields_allowed", argument=argument, unknown=unknown,
                                    schema=', '.join(schema)))
    resolved: dict[str, str] = {}
    for canonical, column in field_map.items():
        if column not in columns:
            raise GeoInputError(message("geo.boundaries.column_file_columns", argument=argument,
                                        canonical=canonical, column=column, columns=', '.join(map(str, columns))))
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
        raise GeoInputError(message("geo.boundaries.digit_gso_code_got", fieldname=fieldname, width=width,
                                    shown=shown, value3=' …' if len(bad) > 5 else '', n_bad=len(bad)))
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
    mapping = {"commune": "xã", "ward": "phường", "township": "thị trấn", "town": "thị trấn",
               "x": "xã", "p": "phường", "tt": "thị trấn"}  # abbreviations of the LoaiXa column of office files
    if folded in mapping:
        return mapping[folded]
    raise GeoInputError(message("geo.boundaries.commune_type_commune_one", value=value, name=name,
                                commune_types=', '.join(COMMUNE_TYPES)))


def _read_with_fiona(path: Path, layer, crs, encoding: str | None = None, crs_option: str = "crs=") -> gpd.GeoDataFrame:
    import fiona

    options = {"encoding": encoding} if encoding else {}
    try:
        src = fiona.open(path, layer=layer, **options) if layer is not None else fiona.open(path, **options)
    except Exception as exc:  # fiona raises DriverError and friends; the user needs the file named
        raise GeoInputError(message("geo.boundaries.path_could_read_geojson", path=str(path), exc=exc))
    with src:
        file_crs = src.crs_wkt or None
        records = [
            {**dict(feature.properties or {}),
             "geometry": shapely.geometry.shape(feature.geometry) if feature.geometry else None}
            for feature in src
        ]
    chosen = crs if crs is not None else file_crs
    if chosen is None:
        raise GeoInputError(message("geo.boundaries.path_crs_prj_missing", path=str(path), crs_option=crs_option))
    if not records:
        raise GeoInputError(message("geo.boundaries.path_holds_features_expected", path=str(path)))
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
                  effective_date: date = date(2020, 1, 1), constants: dict | None = None,
                  encoding: str | None = None, options: dict | None = None) -> BoundarySet:
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
    constants : dict, optional
        Fields the file has no column for, with one value for every commune, e.g.
        ``{"province_code": "87"}``.
    encoding : str, optional
        Encoding of a shapefile's attribute table; without it and without a ``.cpg`` it is detected
        (:func:`geo.boundary_intake.shapefile_encoding`). Names that look garbled are refused.
    options : dict, optional
        How messages name the arguments (:data:`geo.boundary_intake.CLI_OPTIONS` from the command line).

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
    from geo import boundary_intake

    path = Path(path)
    options = options or boundary_intake.PYTHON_OPTIONS
    text_encoding = boundary_intake.shapefile_encoding(path, encoding, options)
    raw = _read_with_fiona(path, layer, crs, encoding="ISO-8859-1" if text_encoding else None,
                           crs_option=options["crs"])
    if text_encoding:
        raw = boundary_intake.decode_latin1_columns(raw, text_encoding)
    columns = [c for c in raw.columns if c != "geometry"]
    fields = resolve_fields(columns, COMMUNE_FIELDS, field_map, argument=options["field_map"].rstrip("="))
    constant_values = boundary_intake.apply_constants(fields, constants or {}, options)
    present = set(fields) | set(constant_values)
    missing = [f for f in REQUIRED_COMMUNE_FIELDS if f not in present]
    district_given = [f for f in DISTRICT_FIELDS if f in present]
    if len(district_given) == 1:
        missing.append(next(f for f in DISTRICT_FIELDS if f not in present))
    if missing:
        if options is boundary_intake.PYTHON_OPTIONS:
            how = f"Map them with field_map, e.g. field_map={{{missing[0]!r}: 'YOUR_COLUMN'}}"
        else:
            how = (f"Map a column with {options['field_map']} {missing[0]}=YOUR_COLUMN, or give one value for every "
                   f"commune with {options['constants']} {missing[0]}=VALUE"
                   + (" (e.g. --set province_code=87 for Đồng Tháp)" if missing[0] == "province_code" else ""))
        raise GeoInputError(
            message("geo.boundaries.required_field_s_found", missing=', '.join(missing), path_name=path.name,
                    columns=', '.join(map(str, columns)), how=how))

    frame = gpd.GeoDataFrame(
        {**{canonical: raw[column].to_numpy() for canonical, column in fields.items()},
         **{canonical: [value] * len(raw) for canonical, value in constant_values.items()}},
        geometry=raw.geometry.values, crs=raw.crs)
    has_districts = bool(district_given)
    if not has_districts:
        frame["district_code"] = ""
        frame["district_name"] = ""
    for code_field, width in CODE_WIDTHS.items():
        if code_field == "district_code" and not has_districts:
            continue
        frame[code_field] = _pad_codes(frame[code_field], width, code_field)
    frame["commune_name"] = frame["commune_name"].map(lambda s: " ".join(str(s).split()))
    frame["district_name"] = frame["district_name"].map(lambda s: " ".join(str(s).split()))
    if "province_name" not in frame:
        frame["province_name"] = ""
    frame["province_name"] = frame["province_name"].fillna("").map(lambda s: " ".join(str(s).split()))
    boundary_intake.check_names(frame, source=path.name, encoding=text_encoding, options=options)
    types = frame["commune_type"] if "commune_type" in frame else pd.Series([None] * len(frame))
    frame["commune_type"] = [_normalise_commune_type(t, n) for t, n in zip(types, frame["commune_name"])]

    duplicated = frame["commune_code"][frame["commune_code"].duplicated(keep=False)]
    if len(duplicated):
        raise GeoInputError(message("geo.boundaries.commune_code_unique_repeated",
                                    duplicated=', '.join(sorted(set(duplicated)))))
    provinces = sorted(frame["province_code"].unique())
    if len(provinces) > 1:
        counts = frame["province_code"].value_counts().sort_index()
        listed = ", ".join(f"{code} ({n} communes)" for code, n in counts.items())
        raise GeoInputError(message("geo.boundaries.province_code_communes_belong", n_provinces=len(provinces),
                                    listed=listed))

    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        codes = ", ".join(frame.loc[empty, "commune_code"])
        raise GeoInputError(message("geo.boundaries.geometry_empty_missing_commune", codes=codes))
    kinds = frame.geometry.geom_type
    not_polygon = ~kinds.isin(["Polygon", "MultiPolygon"])
    if not_polygon.any():
        listed = ", ".join(f"{c} ({k})" for c, k in zip(frame.loc[not_polygon, "commune_code"],
                                                       kinds[not_polygon]))
        raise GeoInputError(message("geo.boundaries.geometry_polygon_multipolygon_got", listed=listed))

    repairs = _repair_geometries(frame)
    still_empty = frame.geometry.is_empty
    if still_empty.any():
        codes = ", ".join(frame.loc[still_empty, "commune_code"])
        raise GeoInputError(message("geo.boundaries.geometry_commune_s_area", codes=codes))

    frame = frame.to_crs(WGS84) if frame.crs.to_string() != WGS84 else frame
    minx, miny, maxx, maxy = frame.total_bounds
    vx0, vy0, vx1, vy1 = _VIETNAM_BOUNDS
    if not (vx0 <= minx and maxx <= vx1 and vy0 <= miny and maxy <= vy1):
        bounds = message("geo.boundaries.lon_lat_range", minx=minx, maxx=maxx, miny=miny, maxy=maxy)
        if crs is not None:
            raise GeoInputError(message("geo.boundaries.outside_vietnam_given_crs", bounds=bounds,
                                        option=options["crs"], crs_name=raw.crs.name if raw.crs else str(crs)))
        raise GeoInputError(message("geo.boundaries.outside_vietnam_file_crs", bounds=bounds, option=options["crs"],
                                    crs_name=raw.crs.name if raw.crs else "None"))

    ordered = ["commune_code", "commune_name", "commune_type", "district_code", "district_name",
               "province_code", "province_name", "geometry"]
    communes = frame[ordered].sort_values("commune_code").reset_index(drop=True)
    levels = ("province", "district", "commune") if has_districts else ("province", "commune")
    return BoundarySet(communes=communes, version=str(version), effective_date=effective_date,
                       source=str(path), repairs=repairs, levels=levels)


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
        raise GeoInputError(message("geo.boundaries.path_could_read_csv", path=str(path), exc=exc))
    fields = resolve_fields(raw.columns, POPULATION_FIELDS, field_map)
    missing = [f for f in POPULATION_FIELDS if f not in fields]
    if missing:
        raise GeoInputError(message("geo.boundaries.required_field_s_found_2", missing=', '.join(missing),
                                    path_name=path.name, raw_columns=', '.join(map(str, raw.columns))))
    codes = _pad_codes(raw[fields["commune_code"]].str.strip(), 5, "commune_code")
    text = raw[fields["population"]].fillna("").str.strip().str.replace(r"[\s.,](?=\d{3}\b)", "", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        shown = ", ".join(f"{c}: {v!r}" for c, v in zip(codes[bad].head(5), raw[fields["population"]][bad].head(5)))
        raise GeoInputError(message("geo.boundaries.population_whole_number_got", shown=shown,
                                    value1=' …' if bad.sum() > 5 else '', bad=int(bad.sum())))
    duplicated = codes[codes.duplicated(keep=False)]
    if len(duplicated):
        raise GeoInputError(message("geo.boundaries.commune_code_unique_population",
                                    duplicated=', '.join(sorted(set(duplicated)))))
    result = pd.DataFrame({"commune_code": codes.to_numpy(), "population": numbers.astype("int64").to_numpy(),
                           "year": int(year)}).sort_values("commune_code").reset_index(drop=True)
    if boundaries is not None:
        known = set(_communes_frame(boundaries)["commune_code"])
        unknown = sorted(set(result["commune_code"]) - known)
        if unknown:
            raise GeoInputError(message("geo.boundaries.commune_code_code_s", n_unknown=len(unknown),
                                        unknown=', '.join(unknown[:10]), value2=' …' if len(unknown) > 10 else ''))
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
        raise GeoInputError(message("geo.boundaries.tolerance_m_positive_number", tolerance_m=tolerance_m))
    if gdf.crs is None:
        raise GeoInputError(message("geo.boundaries.gdf_crs_cannot_simplify"))
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
