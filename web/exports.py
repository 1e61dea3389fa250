"""Map layers as files — GeoJSON, GeoPackage, KML, CSV — for the user's role and the filters shown.

The layers form a registry (:data:`LAYERS`, :func:`register_layer`) shared with the OGC API (``web/ogc.py``):
a layer is a function ``(session, viewer, filters) -> GeoDataFrame`` in EPSG:4326 with a stable ``id``
column. Another module adds a layer with one :func:`register_layer` call.

Every file states the filters applied (GeoJSON member ``filters``, KML description, CSV/GPKG file name and
the ``X-Filters-Applied`` header). District committee accounts always get their own district. Sensitive
(trafficking) incidents are counted in their commune's figures, but reach an uncleared viewer as no
record of their own (no id, time or row) in any per-case layer; formats that need a geometry on every
feature (KML) leave unlocated rows out and say how many.
"""
from __future__ import annotations

import io
import json
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from geo import GEOPACKAGE_OPTIONS, VECTOR_ENGINE
from geo.crs import WGS84
from geo.errors import GeoInputError
from geo.export import spreadsheet_csv
from geo.geojson import feature_collection
from geo.periods import Period, parse_period
from geo.taxonomy import CATEGORIES, GROUPS, category_selections, selection_codes
from translations import message
from web import access, db_session
from web.access import allow
from web.i18n import current_language, format_date, pick, t

bp = Blueprint("exports", __name__)

FORMATS = {
    "geojson": ("application/geo+json", "GeoJSON"),
    "gpkg": ("application/geopackage+sqlite3", "GeoPackage"),
    "kml": ("application/vnd.google-earth.kml+xml", "KML"),
    "csv": ("text/csv; charset=utf-8", "CSV"),
}


@dataclass(frozen=True)
class ExportFilters:
    """Filters of the overview map (same query-string names): period (or calendar year), category, district.

    ``period`` is a code of the one period model (:mod:`geo.periods`); ``year`` alone is the calendar year.
    """

    year: int | None = None
    category: str = ""
    district: str | None = None  # in a set without districts: a former district
    bbox: tuple | None = None  # OGC API items: a pre-filter the caller refines exactly
    boundary_set: str | None = None  # the set communes are expressed in (default: in force at the period's end)
    period: Period | None = None

    def bounds(self):
        """(start, end exclusive) of the incidents exported, or (None, None) for every year."""
        if self.period is not None:
            return self.period.start_at, self.period.end_before
        if self.year is not None:
            return datetime(self.year, 1, 1), datetime(self.year + 1, 1, 1)
        return None, None

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def as_dict(self) -> dict:
        out = {"year": self.year, "category": self.category or None, "district": self.district,
               "set": self.boundary_set}
        if self.period is not None:
            out["period"] = self.period.code
        return out

    def text(self) -> str:
        """The filters in the page's language (also written into KML descriptions)."""
        if self.period:
            when = t("exports.filter_period", label=pick((self.period.label_vi, self.period.label_en)),
                     start=format_date(self.period.start), end=format_date(self.period.end))
        else:
            when = t("exports.filter_year", year=self.year if self.year else t("exports.filter_all"))
        parts = [when, t("exports.filter_category", category=self.category or t("exports.filter_all")),
                 t("exports.filter_district", district=self.district or t("exports.filter_province")),
                 t("exports.filter_set", set=self.boundary_set)]
        return "; ".join(parts)

    def slug(self) -> str:
        when = self.period.code.replace("..", "_") if self.period else self.year or "all"
        return "_".join(str(v) for v in (when, (self.category or "all").replace(":", "-"),
                                         self.district or "province", f"set-{self.boundary_set or 'none'}"))


def read_filters(args, viewer, known_districts) -> ExportFilters:
    """Filters from query arguments; unknown values are refused naming the parameter and what is allowed."""
    raw_year = (args.get("year") or "").strip()
    year, period = None, None
    raw_period = (args.get("period") or "").strip()
    if raw_period:
        from flask import current_app

        from geo.periods import scheme_from_config

        period = parse_period(raw_period, scheme=scheme_from_config(current_app.config))
        year = period.reference_year
    elif raw_year:
        # isascii: "²".isdigit() is true, but int("²") fails
        if not (raw_year.isascii() and raw_year.isdigit()) or not 1900 <= int(raw_year) <= 2100:
            raise GeoInputError(message("exports.error.year", value=repr(raw_year[:20])))
        year = int(raw_year)
    category = (args.get("category") or "").strip()
    if category and category not in category_selections():
        raise GeoInputError(message("errors.not_one_of", name="category", value=repr(category),
                                    allowed=", ".join(sorted(category_selections()))))
    district = (args.get("district") or "").strip() or None
    if getattr(viewer, "role", None) == access.DISTRICT:
        if district and district != viewer.district_code:
            raise GeoInputError(message("exports.error.own_district_only", district=repr(district),
                                    own=viewer.district_code))
        district = viewer.district_code
    if district and district not in known_districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(sorted(known_districts))))
    return ExportFilters(year, category, district, boundary_set=export_set(args.get("set"), year, period),
                         period=period)


def export_set(asked, year, period: Period | None = None) -> str | None:
    """The set named by ``set=`` (an unknown one is a 400), else the one in force at the end of the period
    (of ``year``, or today); None when no set is loaded."""
    from datetime import date

    from store.boundaries import active_boundary_set, get_boundary_set

    session = db_session()
    if asked:
        return get_boundary_set(session, str(asked).strip()).version
    if period is not None:
        day = min(period.nominal_end or period.end, date.today())
    else:
        day = min(date(year, 12, 31), date.today()) if year else None
    row = active_boundary_set(session, on=day)
    return row.version if row is not None else None


def _district_column(communes) -> str:
    return "district_code" if communes.attrs.get("has_districts", True) else "former_district_code"


@dataclass(frozen=True)
class Layer:
    """A downloadable layer; ``build(session, viewer, filters)`` returns a GeoDataFrame (EPSG:4326, ``id``)."""

    id: str
    title: tuple[str, str]
    description: tuple[str, str]
    build: Callable
    geometry_type: str
    temporal: str | None = None  # column holding the date a feature is filtered on (OGC ``datetime``)
    queryables: tuple[str, ...] = field(default=("year", "category", "district"))
    # (session, viewer, filters, interval, limit, offset) -> (page GeoDataFrame, number matched), reading only
    # the page; without it a page is cut from the whole built layer.
    page: Callable | None = None


LAYERS: dict[str, Layer] = {}


def register_layer(layer: Layer) -> Layer:
    if layer.id in LAYERS and LAYERS[layer.id] != layer:
        raise ValueError(f"layer {layer.id!r} is registered twice")
    LAYERS[layer.id] = layer
    return layer


def get_layer(layer_id: str) -> Layer:
    if layer_id not in LAYERS:
        raise GeoInputError(message("errors.not_one_of", name="layer", value=repr(layer_id), allowed=", ".join(LAYERS)))
    return LAYERS[layer_id]


# ------------------------------------------------------------------ layers


def _incidents(session, viewer, filters: ExportFilters) -> pd.DataFrame:
    from store.incidents import incident_frame

    communes = _communes(session, filters)
    has_districts = communes.attrs.get("has_districts", True)
    start, end = filters.bounds()
    frame = incident_frame(session, start=start, end=end, categories=filters.category_codes(),
                           district_code=filters.district if has_districts else None, bbox=filters.bbox,
                           viewer=viewer, boundary_set=filters.boundary_set)
    if filters.district and not has_districts:
        frame = frame[frame["commune_code"].isin(set(communes["commune_code"]))].reset_index(drop=True)
    return frame


def _communes(session, filters: ExportFilters) -> gpd.GeoDataFrame:
    from store.boundaries import communes_frame

    communes = communes_frame(session, filters.boundary_set)
    if filters.district:
        column = _district_column(communes)
        attrs = dict(communes.attrs)
        communes = communes[communes[column] == filters.district]
        communes.attrs.update(attrs)
    return communes


def communes_with_counts(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    """Communes with the filtered incident count and rate per 10,000 residents (confidential cases counted)."""
    from store.boundaries import population_frame

    communes = _communes(session, filters)
    incidents = _incidents(session, viewer, filters)
    counts = incidents.groupby("commune_code").size()
    population = population_frame(session, boundary_set=filters.boundary_set)
    people = dict(zip(population["commune_code"], population["population"]))
    out = communes[["commune_code", "commune_name", "commune_type", "district_code", "district_name",
                    "geometry"]].copy()
    out["boundary_set"] = communes.attrs.get("version")
    out["population_year"] = population.attrs.get("year")
    out.insert(0, "id", out["commune_code"])
    out["incident_count"] = [int(counts.get(c, 0)) for c in out["commune_code"]]
    out["population"] = [people.get(c) for c in out["commune_code"]]
    out["rate_per_10000"] = [round(n / p * 10_000, 3) if p else None
                             for n, p in zip(out["incident_count"], out["population"])]
    out["year"] = filters.year
    out["category"] = filters.category or None
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).reset_index(drop=True)


def incident_points(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    """Incident points, one record per case; cases confidential for the viewer are not among them, and a local
    committee receives only the cases in its own unit (its counts layers stay as filtered)."""
    from store.incidents import case_records
    from store.scope import own_cases

    frame = own_cases(session, viewer, case_records(_incidents(session, viewer, filters))).reset_index(drop=True)
    return _point_layer(frame)


def incident_page(session, viewer, filters: ExportFilters, interval=None, limit: int = 100, offset: int = 0):
    """One page of :func:`incident_points` (same rows, order and columns) and the number matched, read with the
    filters, ``bbox``, ``interval`` (inclusive local start and end, either None) and paging in the database
    (:func:`store.incidents.case_page`)."""
    from datetime import timedelta

    from store.incidents import case_page
    from store.scope import own_cases

    start, end = filters.bounds()
    if interval is not None:
        first, last = interval
        if first is not None:
            start = first if start is None else max(start, first)
        if last is not None:
            last = last + timedelta(microseconds=1)  # inclusive end → exclusive bound
            end = last if end is None else min(end, last)
    communes = _communes(session, filters)
    has_districts = communes.attrs.get("has_districts", True)
    units = set(communes["commune_code"]) if filters.district and not has_districts else None

    def whole_unit(frame):
        if units is not None:
            frame = frame[frame["commune_code"].isin(units)]
        return own_cases(session, viewer, frame) if access.is_local(viewer) else frame

    needs_cut = units is not None or access.is_local(viewer)
    frame, matched = case_page(session, start=start, end=end, categories=filters.category_codes(),
                               district_code=filters.district if has_districts else None, bbox=filters.bbox,
                               viewer=viewer, boundary_set=filters.boundary_set, limit=limit, offset=offset,
                               whole_unit=whole_unit if needs_cut else None)
    return _point_layer(frame), matched


def _point_layer(frame) -> gpd.GeoDataFrame:
    columns = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "commune_code",
               "district_code", "boundary_set", "article", "description", "redacted", "is_demo"]
    out = frame[[c for c in columns if c in frame.columns]].copy()
    has_point = frame["lon"].notna() & frame["lat"].notna() if len(frame) else pd.Series([], dtype=bool)
    geometry = shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)) if len(frame) else []
    geometry = np.where(has_point.to_numpy(), geometry, None) if len(frame) else []
    out["lon"], out["lat"] = frame["lon"], frame["lat"]
    for column in ("occurred_at", "reported_at"):
        out[column] = pd.to_datetime(out[column])
    return gpd.GeoDataFrame(out, geometry=list(geometry), crs=WGS84).reset_index(drop=True)


def hotspot_communes(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* on commune rates per 10,000 residents (queen contiguity, FDR bins), province-wide.

    Computed on every commune of the province (a district alone is too few units), then cut to the
    district filter; fewer than 30 communes or no incident gives no result rows.
    """
    from geo.gistar import gi_star
    from geo.weights import contiguity

    province = communes_with_counts(session, viewer, ExportFilters(filters.year, filters.category, None, period=filters.period,
                                                                   boundary_set=filters.boundary_set))
    rates = province["rate_per_10000"].fillna(0).to_numpy(float)
    if len(province) < 30 or province["incident_count"].sum() == 0:
        return province.iloc[0:0].assign(gi_z=[], gi_p=[], gi_bin=[])
    result = gi_star(rates, contiguity(province.geometry, "queen"), fdr=True)
    province["gi_z"], province["gi_p"], province["gi_bin"] = np.round(result.z, 4), np.round(result.p, 6), result.bin
    province["method"] = "Getis-Ord Gi*, queen contiguity, FDR"
    if filters.district:
        province = province[province["district_code"] == filters.district]
    return province.reset_index(drop=True)


def key_area_layer(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    from store.key_areas import area_features

    features = area_features(session, viewer, year=filters.year, district_code=filters.district,
                             lang=current_language())
    if not features:
        return gpd.GeoDataFrame({"id": [], "name": [], "status": []}, geometry=[], crs=WGS84)
    rows = []
    for feature in features:
        props = {k: v for k, v in feature["properties"].items() if not isinstance(v, (list, dict))}
        props["complexity_types"] = ", ".join(feature["properties"].get("complexity_types") or [])
        rows.append({**props, "id": str(feature["id"]), "geometry": shapely.geometry.shape(feature["geometry"])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


register_layer(Layer("communes", ("Xã/phường/thị trấn và số vụ", "Communes with incident counts"),
                     ("Ranh giới xã 2024 với số vụ theo bộ lọc và tỷ lệ trên 10.000 dân.",
                      "2024 commune boundaries with the filtered incident count and rate per 10,000 residents."),
                     communes_with_counts, "MultiPolygon"))
register_layer(Layer("incidents", ("Vụ việc", "Incidents"),
                     ("Vị trí vụ việc; vụ bảo mật chỉ có cho tài khoản được phép (các tài khoản khác thấy chúng "
                      "trong số vụ theo xã).",
                      "Incident locations; confidential cases only for cleared accounts (others find them in "
                      "the commune counts)."),
                     incident_points, "Point", temporal="occurred_at", page=incident_page))
register_layer(Layer("hotspots", ("Điểm nóng theo xã (Gi*)", "Commune hotspots (Gi*)"),
                     ("Kết quả Getis-Ord Gi* trên tỷ lệ vụ/10.000 dân theo xã, lân cận queen, điều chỉnh FDR.",
                      "Getis-Ord Gi* on commune rates per 10,000 residents, queen contiguity, FDR-adjusted bins."),
                     hotspot_communes, "MultiPolygon"))


def _key_areas_available() -> bool:
    try:
        import store.key_areas  # noqa: F401
    except ImportError:
        return False
    return True


if _key_areas_available():
    register_layer(Layer("key_areas", ("Địa bàn trọng điểm", "Key complex areas"),
                         ("Địa bàn trọng điểm, phức tạp về TTATXH và trạng thái chuyển hóa (lọc theo năm lựa chọn).",
                          "Key complex areas and their conversion status (year = year selected)."),
                         key_area_layer, "MultiPolygon", queryables=("year", "district")))


# ------------------------------------------------------------------ writers


def feature_dicts(frame: gpd.GeoDataFrame) -> list[dict]:
    """GeoJSON features (``id`` from the ``id`` column; a missing geometry stays ``null``)."""
    return feature_collection(frame, id_column="id")["features"]


def to_geojson(frame, layer: Layer, filters: ExportFilters) -> bytes:
    body = {"type": "FeatureCollection", "name": layer.id, "filters": filters.as_dict(),
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": feature_dicts(frame)}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def to_csv(frame, layer: Layer, filters: ExportFilters) -> bytes:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    if layer.geometry_type != "Point":
        table["wkt"] = [None if g is None else g.wkt for g in frame.geometry]
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%dT%H:%M:%S")
    # BOM so Excel opens the Vietnamese text as UTF-8
    return ("\ufeff" + spreadsheet_csv(table)).encode("utf-8")


def to_gpkg(frame, layer: Layer, filters: ExportFilters) -> bytes:
    out = frame.copy()
    for column in out.columns:
        if column != "geometry" and out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{layer.id}.gpkg"
        with warnings.catch_warnings():
            if not len(out):
                out = gpd.GeoDataFrame({"id": pd.Series([], dtype=str)}, geometry=[], crs=WGS84)
                # geopandas warns that "some drivers" fail on an empty frame; GPKG writes an empty layer.
                warnings.filterwarnings("ignore", "You are attempting to write an empty DataFrame", UserWarning)
            out.to_file(path, layer=layer.id, driver="GPKG", engine=VECTOR_ENGINE, **GEOPACKAGE_OPTIONS)
        return path.read_bytes()


ORANGE_KML = "ff00a5ff"  # aabbggrr


def to_kml(frame, layer: Layer, filters: ExportFilters) -> bytes:
    from geo.kml import kml_document

    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty] if len(frame) else frame
    left_out = len(frame) - len(located)
    description = f"{t('exports.filters')}: {filters.text()}" + (
        f". {left_out} đối tượng không có vị trí không đưa vào KML." if left_out else "")
    names = [str(r.get("name") or r.get("commune_name") or r.get("id"))
             for r in located.drop(columns="geometry").to_dict("records")]
    colours = None if layer.geometry_type == "Point" else [ORANGE_KML] * len(located)
    return kml_document(located, title=f"{pick(layer.title)} ({filters.text()})", description=description,
                        names=names, colours=colours, schema_id=layer.id)


WRITERS = {"geojson": to_geojson, "gpkg": to_gpkg, "kml": to_kml, "csv": to_csv}


def known_districts(session) -> set[str]:
    from store.boundaries import known_district_codes

    return known_district_codes(session)


@bp.route("/exports")
@allow(*access.EVERYONE)
def page():
    session = db_session()
    viewer = current_user._get_current_object()
    filters = read_filters(request.args, viewer, known_districts(session))
    from datetime import date

    from web.boundary_view import district_choices, read_view_set

    from store.incidents import incident_years
    from web.periods import default_period, menu

    shown = filters.period or (parse_period(f"{filters.year}-CY") if filters.year else None)
    view = read_view_set((shown.nominal_end or shown.end) if shown else None)
    period_menu = menu(incident_years(session), shown or default_period())
    return render_template("exports/page.html", layers=LAYERS, formats=FORMATS, filters=filters,
                           period_menu=period_menu, period=shown,
                           districts=district_choices(view), categories=CATEGORIES, groups=GROUPS, view_set=view)


@bp.route("/exports/<layer_id>.<fmt>")
@allow(*access.EVERYONE)
def download(layer_id: str, fmt: str):
    """``/exports/communes.gpkg?year=2024&category=social_order&district=869``"""
    if fmt not in FORMATS:
        raise GeoInputError(message("errors.not_one_of", name="format", value=repr(fmt), allowed=", ".join(FORMATS)))
    layer = get_layer(layer_id)
    session = db_session()
    viewer = current_user._get_current_object()
    filters = read_filters(request.args, viewer, known_districts(session))
    frame = layer.build(session, viewer, filters)
    body = WRITERS[fmt](frame, layer, filters)
    name = f"{layer.id}_{filters.slug()}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt][0].split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Filters-Applied": json.dumps(filters.as_dict()),
        "Cache-Control": "private, no-store"})
