"""Map layers as files — GeoJSON, GeoPackage, KML, CSV — for the user's role and the filters shown.

The layers form a registry (:data:`LAYERS`, :func:`register_layer`) shared with the OGC API (``web/ogc.py``):
a layer is a function ``(session, viewer, filters) -> GeoDataFrame`` in EPSG:4326 with a stable ``id``
column. Another module adds a layer with one :func:`register_layer` call.

Every file states the filters applied (GeoJSON member ``filters``, KML description, CSV/GPKG file name and
the ``X-Filters-Applied`` header). District committee accounts always get their own district. Sensitive
(trafficking) incidents keep their commune but have no geometry unless the viewer is cleared; formats that
need a geometry on every feature (KML) leave such rows out and say how many.
"""
from __future__ import annotations

import io
import json
import tempfile
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

from geo.crs import WGS84
from geo.errors import GeoInputError
from geo.taxonomy import CATEGORIES, GROUPS, category_selections, selection_codes
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, pick, t

bp = Blueprint("exports", __name__)

FORMATS = {
    "geojson": ("application/geo+json", "GeoJSON"),
    "gpkg": ("application/geopackage+sqlite3", "GeoPackage"),
    "kml": ("application/vnd.google-earth.kml+xml", "KML"),
    "csv": ("text/csv; charset=utf-8", "CSV"),
}

add_messages({
    "exports.heading": ("Tải lớp bản đồ", "Download map layers"),
    "exports.intro": ("Mỗi lớp tải được dưới dạng GeoJSON, GeoPackage, KML và CSV theo đúng bộ lọc đang chọn và quyền "
                      "của tài khoản. QGIS/ArcGIS có thể thêm trực tiếp qua OGC API – Features tại {url}.",
                      "Each layer downloads as GeoJSON, GeoPackage, KML and CSV with the filters chosen and your "
                      "account's rights. QGIS/ArcGIS can add them directly via OGC API – Features at {url}."),
    "exports.filters": ("Bộ lọc áp dụng", "Filters applied"),
    "exports.layer": ("Lớp", "Layer"),
    "exports.download": ("Tải về", "Download"),
    "exports.apply": ("Áp dụng bộ lọc", "Apply filters"),
})


@dataclass(frozen=True)
class ExportFilters:
    """Filters of the overview map (same query-string names): calendar year, category selection, district."""

    year: int | None = None
    category: str = ""
    district: str | None = None
    bbox: tuple | None = None  # OGC API items: a pre-filter the caller refines exactly

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def as_dict(self) -> dict:
        return {"year": self.year, "category": self.category or None, "district": self.district}

    def text(self) -> str:
        parts = [f"năm={self.year}" if self.year else "năm=tất cả", f"loại={self.category or 'tất cả'}",
                 f"huyện={self.district or 'toàn tỉnh'}"]
        return "; ".join(parts)

    def slug(self) -> str:
        return "_".join(str(v) for v in (self.year or "all", (self.category or "all").replace(":", "-"),
                                         self.district or "province"))


def read_filters(args, viewer, known_districts) -> ExportFilters:
    """Filters from query arguments; unknown values are refused naming the parameter and what is allowed."""
    raw_year = (args.get("year") or "").strip()
    year = None
    if raw_year:
        if not raw_year.isdigit() or not 1900 <= int(raw_year) <= 2100:
            raise GeoInputError(f"year {raw_year!r} is not a year between 1900 and 2100")
        year = int(raw_year)
    category = (args.get("category") or "").strip()
    if category and category not in category_selections():
        raise GeoInputError(f"category {category!r} is not one of: {', '.join(sorted(category_selections()))}")
    district = (args.get("district") or "").strip() or None
    if getattr(viewer, "role", None) == access.DISTRICT:
        if district and district != viewer.district_code:
            raise GeoInputError(f"district {district!r}: a district account sees only district {viewer.district_code}")
        district = viewer.district_code
    if district and district not in known_districts:
        raise GeoInputError(f"district {district!r} is not one of: {', '.join(sorted(known_districts))}")
    return ExportFilters(year, category, district)


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


LAYERS: dict[str, Layer] = {}


def register_layer(layer: Layer) -> Layer:
    if layer.id in LAYERS and LAYERS[layer.id] != layer:
        raise ValueError(f"layer {layer.id!r} is registered twice")
    LAYERS[layer.id] = layer
    return layer


def get_layer(layer_id: str) -> Layer:
    if layer_id not in LAYERS:
        raise GeoInputError(f"layer {layer_id!r} is not one of: {', '.join(LAYERS)}")
    return LAYERS[layer_id]


# ------------------------------------------------------------------ layers


def _incidents(session, viewer, filters: ExportFilters) -> pd.DataFrame:
    from store.incidents import incident_frame

    return incident_frame(session, year=filters.year, categories=filters.category_codes(),
                          district_code=filters.district, bbox=filters.bbox, viewer=viewer)


def _communes(session, filters: ExportFilters) -> gpd.GeoDataFrame:
    from store.boundaries import communes_frame

    communes = communes_frame(session)
    if filters.district:
        communes = communes[communes["district_code"] == filters.district]
    return communes


def communes_with_counts(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    """Communes with the filtered incident count and rate per 10,000 residents (confidential cases counted)."""
    from store.boundaries import population_frame

    communes = _communes(session, filters)
    incidents = _incidents(session, viewer, filters)
    counts = incidents.groupby("commune_code").size()
    population = population_frame(session)
    people = dict(zip(population["commune_code"], population["population"]))
    out = communes[["commune_code", "commune_name", "commune_type", "district_code", "district_name",
                    "geometry"]].copy()
    out.insert(0, "id", out["commune_code"])
    out["incident_count"] = [int(counts.get(c, 0)) for c in out["commune_code"]]
    out["population"] = [people.get(c) for c in out["commune_code"]]
    out["rate_per_10000"] = [round(n / p * 10_000, 3) if p else None
                             for n, p in zip(out["incident_count"], out["population"])]
    out["year"] = filters.year
    out["category"] = filters.category or None
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).reset_index(drop=True)


def incident_points(session, viewer, filters: ExportFilters) -> gpd.GeoDataFrame:
    """Incident points; redacted (confidential) rows have no geometry and no description."""
    frame = _incidents(session, viewer, filters)
    columns = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "commune_code",
               "district_code", "article", "description", "redacted", "is_demo"]
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

    province = communes_with_counts(session, viewer, ExportFilters(filters.year, filters.category, None))
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

    features = area_features(session, viewer, year=filters.year, district_code=filters.district)
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
                     ("Vị trí vụ việc; vụ bảo mật không có vị trí trừ khi tài khoản được phép.",
                      "Incident locations; confidential cases have no location unless the account is cleared."),
                     incident_points, "Point", temporal="occurred_at"))
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


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def feature_dicts(frame: gpd.GeoDataFrame) -> list[dict]:
    """GeoJSON features (``id`` from the ``id`` column; a missing geometry stays ``null``)."""
    columns = [c for c in frame.columns if c not in ("geometry", "id")]
    ids = frame["id"].tolist() if "id" in frame else [None] * len(frame)
    return [{"type": "Feature", "id": _plain(fid),
             "geometry": None if geom is None or geom.is_empty else shapely.geometry.mapping(geom),
             "properties": {k: _plain(v) for k, v in record.items()}}
            for fid, record, geom in zip(ids, frame[columns].to_dict("records"), frame.geometry)]


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
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    # BOM so Excel opens the Vietnamese text as UTF-8
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_gpkg(frame, layer: Layer, filters: ExportFilters) -> bytes:
    out = frame.copy()
    for column in out.columns:
        if column != "geometry" and out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{layer.id}.gpkg"
        if len(out):
            out.to_file(path, layer=layer.id, driver="GPKG", engine="pyogrio")
        else:
            gpd.GeoDataFrame({"id": pd.Series([], dtype=str)}, geometry=[], crs=WGS84).to_file(
                path, layer=layer.id, driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def to_kml(frame, layer: Layer, filters: ExportFilters) -> bytes:
    import simplekml

    kml = simplekml.Kml(name=f"{pick(layer.title)} ({filters.text()})")
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty] if len(frame) else frame
    left_out = len(frame) - len(located)
    kml.document.description = f"{t('exports.filters')}: {filters.text()}" + (
        f". {left_out} đối tượng không có vị trí (bảo mật) không đưa vào KML." if left_out else "")
    columns = [c for c in frame.columns if c != "geometry"]
    for record, geom in zip(located[columns].to_dict("records"), located.geometry):
        name = str(record.get("commune_name") or record.get("name") or record.get("id"))
        data = simplekml.ExtendedData()
        for key, value in record.items():
            data.newdata(name=key, value="" if _plain(value) is None else str(_plain(value)))
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Point":
                placemark = kml.newpoint(name=name, coords=[(part.x, part.y)])
            else:
                placemark = kml.newpolygon(name=name, outerboundaryis=list(part.exterior.coords),
                                           innerboundaryis=[list(r.coords) for r in part.interiors])
                placemark.style.polystyle.color = simplekml.Color.changealphaint(80, simplekml.Color.orange)
            placemark.extendeddata = data
    return kml.kml().encode("utf-8")


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
    from store.boundaries import communes_frame, district_names

    communes = communes_frame(session)
    districts = district_names(communes)
    return render_template("exports/page.html", layers=LAYERS, formats=FORMATS, filters=filters,
                           districts=districts, categories=CATEGORIES, groups=GROUPS)


@bp.route("/exports/<layer_id>.<fmt>")
@allow(*access.EVERYONE)
def download(layer_id: str, fmt: str):
    """``/exports/communes.gpkg?year=2024&category=social_order&district=869``"""
    if fmt not in FORMATS:
        raise GeoInputError(f"format {fmt!r} is not one of: {', '.join(FORMATS)}")
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
