"""The Prey Veng border corridor page, its exports for field devices, and the administration of border gates.

Audience: border guards, province planners and administrators read the whole corridor. District committees
read it only for the districts on the border (Tân Hồng, Hồng Ngự, TP Hồng Ngự — the districts of the
communes touching the line, derived from the data, not a fixed list): the corridor concerns them directly;
other district committees get 403. Only administrators add, move or remove gates.

Filters live in the query string (a view can be bookmarked): ``year``, ``category`` (one border-corridor
category or all), ``bands`` (band edges in km, e.g. ``0,2,5,10``), ``segment_km`` and ``colour``
(``per_km`` or ``gi_bin``). The map's JavaScript is served by ``/corridor/map.js`` with the same query string,
so the page has no inline script. Exports (``/corridor/export/<layer>.<fmt>``) follow the same filters and
the same visibility rules as the page: sensitive cases appear as points only for users cleared for them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from geo import corridor as C
from geo.errors import GeoInputError
from geo.taxonomy import BORDER_CORRIDOR_CATEGORIES, CATEGORIES
from layers.base import asset_urls, map_parts
from layers.corridor import COLOUR_MODES, corridor_map
from layers.text import format_number
from store.corridor import SEGMENT_LENGTHS_KM, CorridorResult, corridor_analysis, corridor_features, \
    corridor_geometry
from store.gates import (BORDER_TOLERANCE_M, GATE_CLASS_LABELS_EN, MAX_INLAND_M, BorderGate, GateConflict,
                         GateValidationError, clean_gate_input, create_gate, delete_gate, ensure_seeded, list_gates,
                         update_gate)
from store.incidents import incident_years
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, pick, t
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("corridor", __name__)

READERS = (access.ADMIN, access.PLANNER, access.BORDER_GUARD, access.DISTRICT)
BAND_PRESETS = ("0,2,5,10", "0,1,2,5", "0,5,10,20", "0,2,5,10,15")
LAYERS = ("border", "bands", "segments", "gates", "incidents")
FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
           "gpx": "application/gpx+xml"}
STAT_SECTIONS = ("total", "category", "band", "segment", "gate", "month")

add_messages({
    "corridor.heading": ("Tuyến biên giới Prey Veng (Campuchia)", "Prey Veng (Cambodia) border corridor"),
    "corridor.year": ("Năm", "Year"),
    "corridor.category": ("Loại vụ việc", "Category"),
    "corridor.all_border": ("Tất cả loại tuyến biên giới", "All border-corridor categories"),
    "corridor.bands": ("Vành đai (km)", "Bands (km)"),
    "corridor.segment_km": ("Độ dài đoạn", "Segment length"),
    "corridor.colour": ("Tô màu đoạn theo", "Colour segments by"),
    "corridor.colour_per_km": ("Số vụ/km", "Incidents per km"),
    "corridor.colour_gi_bin": ("Điểm nóng Gi*", "Gi* hot spots"),
    "corridor.apply": ("Xem", "Show"),
    "corridor.map_label": ("Bản đồ hành lang biên giới Prey Veng", "Map of the Prey Veng border corridor"),
    "corridor.border_length": ("Chiều dài biên giới: {km} km", "Border length: {km} km"),
    "corridor.statistics": ("Thống kê hành lang", "Corridor statistics"),
    "corridor.section.total": ("Tổng", "Total"),
    "corridor.section.category": ("Theo loại vụ việc", "By category"),
    "corridor.section.band": ("Theo vành đai", "By band"),
    "corridor.section.segment": ("Theo đoạn biên giới", "By border segment"),
    "corridor.section.gate": ("Theo cửa khẩu gần nhất", "By nearest gate"),
    "corridor.section.month": ("Theo tháng", "By month"),
    "corridor.col.item": ("Mục", "Item"),
    "corridor.col.change": ("Thay đổi", "Change"),
    "corridor.col.per_km": ("Vụ/km", "Per km"),
    "corridor.col.gi": ("Gi*", "Gi*"),
    "corridor.col.p": ("p", "p"),
    "corridor.change_note": (
        "Thay đổi so với năm trước; p: kiểm định Poisson chính xác (p ≥ 0,05: chưa đủ để kết luận tăng/giảm).",
        "Change against the previous year; p: exact Poisson test (p ≥ 0.05: not enough to call it a rise or fall).",
    ),
    "corridor.same_span": (
        "Dữ liệu năm {year} đến ngày {day}: so sánh với cùng kỳ năm {previous} (01/01–{short}).",
        "Data for {year} run to {day}: compared with the same span of {previous} (1 Jan–{short}).",
    ),
    "corridor.gi_note": (
        "Gi* theo đoạn liền kề; với khoảng 10 đoạn chỉ nên đọc như xếp hạng các đoạn.",
        "Gi* over adjacent segments; with about 10 segments read it as a ranking of stretches.",
    ),
    "corridor.withheld": (
        "{n} vụ bảo mật không hiển thị vị trí: chỉ được tính theo xã và loại vụ việc, không tính theo vành đai, "
        "đoạn hay cửa khẩu.",
        "{n} cases withheld (confidential): counted by commune and category only, not by band, segment or gate.",
    ),
    "corridor.withheld_short": ("{n} vụ bảo mật không hiện vị trí", "{n} confidential cases not drawn"),
    "corridor.withheld_category": ("Vụ bảo mật theo loại", "Withheld cases by category"),
    "corridor.withheld_commune": ("Vụ bảo mật theo xã", "Withheld cases by commune"),
    "corridor.unplaced": ("Cửa khẩu chưa có tọa độ: {names}", "Gates without a position yet: {names}"),
    "corridor.approximate_gates": (
        "Vị trí các cửa khẩu là gần đúng; khoảng cách đến cửa khẩu có sai số tương ứng.",
        "Gate positions are approximate; distances to gates carry the same uncertainty.",
    ),
    "corridor.exports": ("Tải lớp bản đồ cho thiết bị thực địa", "Download layers for field devices"),
    "corridor.layer.border": ("Đường biên giới", "Border line"),
    "corridor.layer.bands": ("Vành đai", "Bands"),
    "corridor.layer.segments": ("Đoạn biên giới", "Segments"),
    "corridor.layer.gates": ("Cửa khẩu", "Gates"),
    "corridor.layer.incidents": ("Vụ việc trong hành lang", "Incidents in the corridor"),
    "corridor.border_communes": ("Xã biên giới", "Border communes"),
    "corridor.manage_gates": ("Quản lý cửa khẩu", "Manage border gates"),
    "corridor.district_denied": (
        "Trang tuyến biên giới chỉ dành cho BCĐ 138 các huyện/thành phố có biên giới.",
        "The border corridor page is for the district committees of border districts only.",
    ),
    "corridor.no_boundaries": (
        "Chưa nạp ranh giới xã. Chạy lệnh: flask --app server load-boundaries",
        "No commune boundaries loaded. Run: flask --app server load-boundaries",
    ),
    "gates.heading": ("Cửa khẩu tuyến biên giới Prey Veng", "Border gates on the Prey Veng border"),
    "gates.name": ("Tên", "Name"),
    "gates.class": ("Loại", "Class"),
    "gates.mode": ("Hình thức", "Mode"),
    "gates.counterpart": ("Cửa khẩu đối diện (Campuchia)", "Cambodian counterpart"),
    "gates.commune_code": ("Mã xã", "Commune code"),
    "gates.commune_name": ("Xã", "Commune"),
    "gates.lon": ("Kinh độ", "Longitude"),
    "gates.lat": ("Vĩ độ", "Latitude"),
    "gates.approximate": ("Vị trí gần đúng", "Approximate position"),
    "gates.uncertainty": ("Sai số (m)", "Uncertainty (m)"),
    "gates.source": ("Nguồn", "Source"),
    "gates.note": ("Ghi chú", "Note"),
    "gates.reason": ("Lý do thay đổi", "Reason for the change"),
    "gates.save": ("Lưu", "Save"),
    "gates.delete": ("Xóa", "Delete"),
    "gates.add": ("Thêm cửa khẩu", "Add a gate"),
    "gates.not_placed": ("chưa có tọa độ", "no position yet"),
    "gates.version": ("Phiên bản", "Version"),
    "gates.rule": (
        "Vị trí phải nằm trong tỉnh, cách đường biên giới không quá {inland} km, hoặc cách đường biên giới không "
        "quá {tol} m (kể cả phía bên kia). Để trống kinh độ và vĩ độ nếu chưa biết vị trí.",
        "A position must lie in the province within {inland} km of the border line, or within {tol} m of the "
        "line on either side. Leave longitude and latitude empty while the position is unknown.",
    ),
    "gates.created": ("Đã thêm cửa khẩu.", "Gate added."),
    "gates.updated": ("Đã lưu thay đổi.", "Changes saved."),
    "gates.deleted": ("Đã xóa cửa khẩu.", "Gate deleted."),
    "gates.unchanged": ("Không có gì thay đổi.", "Nothing changed."),
    "gates.conflict": (
        "Cửa khẩu đã được người khác sửa hoặc xóa sau khi bạn mở trang; tải lại trang và sửa lại.",
        "Someone else changed or deleted this gate after you opened the page; reload and edit again.",
    ),
    "gates.invalid": ("Không lưu được: {errors}", "Not saved: {errors}"),
})


# ------------------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class CorridorFilters:
    year: int
    category: str  # "" = every border-corridor category
    bands: str     # band edges in km, comma separated
    segment_km: float
    colour: str

    @property
    def edges_m(self) -> tuple[float, ...]:
        return tuple(float(v) * 1000.0 for v in self.bands.split(","))

    @property
    def categories(self) -> list[str]:
        return [self.category] if self.category else sorted(BORDER_CORRIDOR_CATEGORIES)

    def query(self) -> dict:
        return {"year": self.year, "category": self.category, "bands": self.bands,
                "segment_km": _km_param(self.segment_km), "colour": self.colour}


def _km_param(value: float) -> str:
    return f"{value:g}"


def read_filters(years: list[int]) -> CorridorFilters:
    """Filters from the query string; a wrong value is a 400 naming the parameter and what is allowed."""
    args = request.args
    raw_year = args.get("year", "")
    try:
        year = int(raw_year) if raw_year else (years[-1] if years else date.today().year)
    except ValueError:
        raise GeoInputError(f"year: received {raw_year!r}; allowed: a calendar year such as 2024") from None
    if not 1900 <= year <= 2100:
        raise GeoInputError(f"year: received {year}; allowed: 1900–2100")
    category = args.get("category", "")
    if category and category not in BORDER_CORRIDOR_CATEGORIES:
        raise GeoInputError(f"category: received {category!r}; allowed: {', '.join(sorted(BORDER_CORRIDOR_CATEGORIES))}")
    bands_text = args.get("bands", BAND_PRESETS[0]).replace(" ", "")
    try:
        km = [float(v) for v in bands_text.split(",")]
        if not all(math.isfinite(v) for v in km):
            raise ValueError
    except ValueError:
        raise GeoInputError(f"bands: received {bands_text!r}; allowed: band edges in km separated by commas, "
                            f"e.g. {BAND_PRESETS[0]}") from None
    bands = ",".join(_km_param(v) for v in km)
    raw_segment = args.get("segment_km", "5")
    try:
        segment_km = float(raw_segment)
    except ValueError:
        segment_km = float("nan")
    if segment_km not in SEGMENT_LENGTHS_KM:
        raise GeoInputError(f"segment_km: received {raw_segment!r}; allowed: "
                            f"{', '.join(_km_param(v) for v in SEGMENT_LENGTHS_KM)}")
    colour = args.get("colour", "per_km")
    if colour not in COLOUR_MODES:
        raise GeoInputError(f"colour: received {colour!r}; allowed: {', '.join(COLOUR_MODES)}")
    return CorridorFilters(year=year, category=category, bands=bands, segment_km=segment_km, colour=colour)


# ------------------------------------------------------------------------------------------ building


def _viewer():
    return current_user._get_current_object()


def _geometry(filters: CorridorFilters):
    return corridor_geometry(db_session(), current_app.config["DATA_DIR"], edges_m=filters.edges_m,
                             segment_length_m=filters.segment_km * 1000.0)


def _check_district(geometry) -> None:
    """District committees read the corridor only for a district on the border."""
    if current_user.role == access.DISTRICT and current_user.district_code not in geometry.border_district_codes:
        abort(403)


def _analysis(filters: CorridorFilters) -> CorridorResult:
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = _geometry(filters)
    _check_district(geometry)
    return corridor_analysis(db_session(), geometry, year=filters.year, categories=filters.categories,
                             viewer=_viewer())


class RenderedCorridor(NamedTuple):
    result: CorridorResult
    sections: list
    css: list
    js: list
    map_id: str
    points: object
    script: str


def _rendered(filters: CorridorFilters) -> RenderedCorridor:
    """Analysis, statistics table and rendered map, built once per data version (incidents, boundaries,
    gates), filters, language and viewer scope. Access is checked on every request."""
    from store.meta import data_version

    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = _geometry(filters)
    _check_district(geometry)
    session = db_session()
    key = ("corridor", str(session.get_bind().url), data_version(session, "incidents", "boundaries", "gates"),
           filters, current_language(), viewer_scope(current_user), current_app.config["DATA_DIR"],
           current_app.config.get("TILE_URL") or "", current_app.config.get("TILE_ATTRIBUTION") or "")

    def build():
        result = corridor_analysis(session, geometry, year=filters.year, categories=filters.categories,
                                   viewer=_viewer())
        built = _map(result, filters)
        css, js = asset_urls(built.map)
        return RenderedCorridor(result, _sections(result), css, js, built.map.get_name(), built.points,
                                map_parts(built.map).script)

    return cached_view(key, build)


def _caption(filters: CorridorFilters) -> str:
    if filters.category:
        entry = CATEGORIES[filters.category]
        what = pick((entry.label_vi, entry.label_en))
    else:
        what = t("corridor.all_border")
    return f"{t('corridor.year')} {filters.year} · {what}"


def _map(result: CorridorResult, filters: CorridorFilters):
    g = result.geometry
    segments = g.segments.merge(result.hotspot[["segment_id", "count", "per_km", "gi_z", "gi_bin"]],
                                on="segment_id", how="left") if len(result.hotspot) else g.segments
    names = dict(zip(g.communes_in_bands["commune_code"].astype(str), g.communes_in_bands["commune_name"]))
    notes = [t("corridor.withheld_short", n=result.withheld_count)] if result.withheld_count else []
    return corridor_map(
        border_line=g.border_line, bands=g.bands, segments=segments, gates=result.gates,
        incidents=result.points.assign(redacted=False), prey_veng=g.prey_veng, border_communes=g.border_communes,
        colour_by=filters.colour, lang=current_language(), caption=_caption(filters), notes=notes,
        commune_names=names, tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
        vendor_url=url_for("vendor.asset", filename="").rstrip("/"), map_id="corridor")


def _sections(result: CorridorResult) -> list[dict]:
    """The statistics table grouped by dimension, with numbers formatted for the page's language."""
    lang = current_language()
    stats = result.statistics
    sections = []
    for dimension in STAT_SECTIONS + ("withheld_category", "withheld_commune"):
        rows = stats[stats["dimension"] == dimension]
        if dimension == "month":
            rows = rows[(rows["count"] > 0) | (rows["previous_count"] > 0)]
        if rows.empty:
            continue
        title = t(f"corridor.section.{dimension}") if dimension in STAT_SECTIONS else t(f"corridor.{dimension}")
        sections.append({"dimension": dimension, "title": title, "rows": [{
            "key": r["key"], "label": _row_label(dimension, r["key"], r["label"], lang), "count": int(r["count"]),
            "previous": int(r["previous_count"]),
            "change": _signed(int(r["change"])),
            "change_pct": "" if not math.isfinite(r["change_pct"]) else f"{_signed_float(r['change_pct'], lang)} %",
            "p": "–" if not math.isfinite(r["p_value"]) else format_number(r["p_value"], lang, 2),
            "per_km": "" if not math.isfinite(r["per_km"]) else format_number(r["per_km"], lang, 2),
            "gi_bin": "" if not math.isfinite(r["gi_bin"]) else int(r["gi_bin"]),
        } for _, r in rows.iterrows()]})
    return sections


def _row_label(dimension: str, key: str, label: str, lang: str) -> str:
    """Statistics labels come in Vietnamese from geo.corridor; give the English ones on the English page."""
    if lang != "en":
        return label
    if dimension in ("category", "withheld_category") and key in CATEGORIES:
        return CATEGORIES[key].label_en
    if dimension == "total":
        return "Total"
    if dimension == "segment":
        return label.replace("Đoạn", "Segment").replace(",", ".")
    if dimension == "band":
        return label.replace(",", ".")
    if dimension == "month":
        year, month = key.split("-")
        return f"{month}/{year}"
    return label


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value).replace("-", "−")


def _signed_float(value: float, lang: str) -> str:
    text = format_number(abs(value), lang, 0)
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def _same_span_note(result: CorridorResult) -> str:
    until = result.compared_until
    if until is None:
        return ""
    return t("corridor.same_span", year=result.year, previous=result.year - 1, day=until.strftime("%d/%m/%Y"),
             short=until.strftime("%d/%m"))


def _reads_corridor(user) -> bool:
    """The menu offers the corridor to a district committee only when its district touches the border."""
    if user.role != access.DISTRICT:
        return True
    geometry = corridor_geometry(db_session(), current_app.config["DATA_DIR"])
    return user.district_code in geometry.border_district_codes


@bp.route("/corridor")
@access.in_menu_when(_reads_corridor)
@allow(*READERS)
def page():
    session = db_session()
    years = incident_years(session)
    filters = read_filters(years)
    try:
        rendered = _rendered(filters)
    except GeoInputError as error:
        if "no boundary set" in str(error):
            return render_template("corridor/page.html", no_boundaries=True, filters=filters)
        raise
    result, css, js = rendered.result, rendered.css, rendered.js
    g = result.geometry
    return render_template(
        "corridor/page.html", no_boundaries=False, filters=filters, result=result, sections=rendered.sections,
        years=sorted(set(years) | {filters.year}), categories=[(c, CATEGORIES[c]) for c in sorted(BORDER_CORRIDOR_CATEGORIES)],
        band_presets=sorted(set(BAND_PRESETS) | {filters.bands}), segment_lengths=[_km_param(v) for v in SEGMENT_LENGTHS_KM],
        colour_modes=COLOUR_MODES, css_urls=css, js_urls=js, map_id=rendered.map_id,
        script_url=url_for("corridor.map_script", lang=current_language(), **filters.query()),
        border_km=format_number(g.border_line["length_m"].iloc[0] / 1000.0, current_language(), 1),
        border_communes=list(zip(g.border_communes["commune_name"], g.border_communes["border_length_km"])),
        same_span=_same_span_note(result), points=rendered.points, layers=LAYERS, formats=tuple(FORMATS), export_query=filters.query(),
        num=lambda v, d=0: format_number(v, current_language(), d),
    )


@bp.route("/corridor/map.js")
@allow(*READERS)
def map_script():
    """The corridor map's JavaScript for the filters in the query string (same rules as the page)."""
    filters = read_filters(incident_years(db_session()))
    response = make_response(_rendered(filters).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# ------------------------------------------------------------------------------------------ exports


@bp.route("/corridor/export/<layer>.<fmt>")
@allow(*READERS)
def export(layer: str, fmt: str):
    """One corridor layer as GeoJSON, KML or GPX (EPSG:4326), with the page's filters and visibility."""
    if layer not in LAYERS or fmt not in FORMATS:
        abort(404)
    filters = read_filters(incident_years(db_session()))
    result = _analysis(filters)
    frame = corridor_features(result)[layer]
    title = f"{t('corridor.layer.' + layer)} — {_caption(filters)}"
    if fmt == "geojson":
        body = frame.to_json(drop_id=True, ensure_ascii=False, na="null")
    elif fmt == "kml":
        body = to_kml(frame, layer, title)
    else:
        body = to_gpx(frame, layer, title)
    response = make_response(body)
    response.mimetype = FORMATS[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="corridor_{layer}_{filters.year}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _feature_name(layer: str, record: dict) -> str:
    for column in ("label", "name", "id"):
        if column in record and record[column] not in (None, ""):
            return str(record[column])
    return layer


def _plain(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if hasattr(value, "item"):
        value = value.item()
    return str(value)


def to_kml(frame, layer: str, title: str) -> str:
    """KML 2.2 (simplekml): points, lines and polygons with the attributes as ExtendedData."""
    import simplekml
    from shapely.geometry import LineString, Point, Polygon

    kml = simplekml.Kml(name=title)
    colours = _kml_colours(frame, layer)
    for i, (record, geometry) in enumerate(zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry)):
        if geometry is None or geometry.is_empty:
            continue
        name = _feature_name(layer, record)
        parts = list(geometry.geoms) if hasattr(geometry, "geoms") else [geometry]
        container = kml.newmultigeometry(name=name) if len(parts) > 1 else kml
        made = []
        for part in parts:
            kwargs = {} if container is not kml else {"name": name}
            if isinstance(part, Point):
                made.append(container.newpoint(coords=[(part.x, part.y)], **kwargs))
            elif isinstance(part, LineString):
                made.append(container.newlinestring(coords=list(part.coords), **kwargs))
            elif isinstance(part, Polygon):
                made.append(container.newpolygon(outerboundaryis=list(part.exterior.coords),
                                                 innerboundaryis=[list(r.coords) for r in part.interiors], **kwargs))
        target = container if container is not kml else (made[0] if made else None)
        if target is None:
            continue
        for key, value in record.items():
            target.extendeddata.newdata(name=str(key), value=_plain(value))
        if colours is not None:
            target.style.linestyle.color = colours[i]
            target.style.linestyle.width = 4
            target.style.polystyle.color = simplekml.Color.changealphaint(80, colours[i])
    return kml.kml()


def _kml_colours(frame, layer: str):
    """KML colours (aabbggrr) for segments (by incidents per km) and bands; None for other layers."""
    from layers.corridor import BAND_COLOURS, segment_colours

    if layer == "segments":
        hex_colours, _ = segment_colours(frame, "per_km")
    elif layer == "bands":
        hex_colours = [BAND_COLOURS[min(int(b), len(BAND_COLOURS) - 1)] for b in frame["band"]]
    else:
        return None
    return [f"ff{h[5:7]}{h[3:5]}{h[1:3]}".lower() for h in hex_colours]


def to_gpx(frame, layer: str, title: str) -> str:
    """GPX 1.1 (gpxpy): points as waypoints, lines as tracks (one segment per part), polygons as their rings."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    gpx.name = title
    gpx.creator = "Bản đồ 138"
    for record, geometry in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry):
        if geometry is None or geometry.is_empty:
            continue
        name = _feature_name(layer, record)
        description = "; ".join(f"{k}={_plain(v)}" for k, v in record.items() if _plain(v) != "")
        if geometry.geom_type == "Point":
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(latitude=round(geometry.y, 6), longitude=round(geometry.x, 6),
                                                       name=name, description=description))
            continue
        track = gpxpy.gpx.GPXTrack(name=name, description=description)
        parts = list(geometry.geoms) if hasattr(geometry, "geoms") else [geometry]
        for part in parts:
            rings = [part] if part.geom_type == "LineString" else [part.exterior, *part.interiors]
            for ring in rings:
                segment = gpxpy.gpx.GPXTrackSegment()
                segment.points.extend(gpxpy.gpx.GPXTrackPoint(latitude=round(y, 6), longitude=round(x, 6))
                                      for x, y in ring.coords)
                track.segments.append(segment)
        gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")


# ------------------------------------------------------------------------------------------ gate administration


def _gate_geometry():
    geometry = corridor_geometry(db_session(), current_app.config["DATA_DIR"])
    return geometry.gate_geometry()


@bp.route("/corridor/gates")
@allow(access.ADMIN)
def gates():
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    class_labels = {c: pick((C.GATE_CLASS_LABELS_VI[c], GATE_CLASS_LABELS_EN[c])) for c in C.GATE_CLASSES}
    return render_template("corridor/gates.html", gates=list_gates(db_session()), class_labels=class_labels,
                           rule=t("gates.rule", inland=f"{MAX_INLAND_M / 1000:g}", tol=f"{BORDER_TOLERANCE_M:g}"))


def _flash_invalid(error: GateValidationError) -> None:
    flash(t("gates.invalid", errors=" ".join(pick(message) for message in error.errors.values())), "error")


@bp.route("/corridor/gates", methods=["POST"])
@allow(access.ADMIN)
def gate_create():
    db = current_app.extensions["db"]
    try:
        values = clean_gate_input(request.form, _gate_geometry())
        with db.transaction() as session:
            create_gate(session, values, username=current_user.username, reason=request.form.get("reason", ""))
    except GateValidationError as error:
        _flash_invalid(error)
        return redirect(url_for("corridor.gates")), 303
    flash(t("gates.created"), "success")
    return redirect(url_for("corridor.gates")), 303


def _expected_version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        abort(400)


@bp.route("/corridor/gates/<int:gate_id>", methods=["POST"])
@allow(access.ADMIN)
def gate_update(gate_id: int):
    db = current_app.extensions["db"]
    expected = _expected_version()
    try:
        values = clean_gate_input(request.form, _gate_geometry())
        with db.transaction() as session:
            before = session.get(BorderGate, gate_id)
            old_version = before.version if before is not None else None
            gate = update_gate(session, gate_id, values, expected_version=expected, username=current_user.username,
                               reason=request.form.get("reason", ""))
            changed = gate.version != old_version
    except GateValidationError as error:
        _flash_invalid(error)
        return redirect(url_for("corridor.gates")), 303
    except (GateConflict, StaleDataError):
        flash(t("gates.conflict"), "error")
        return redirect(url_for("corridor.gates")), 303
    flash(t("gates.updated") if changed else t("gates.unchanged"), "success")
    return redirect(url_for("corridor.gates")), 303


@bp.route("/corridor/gates/<int:gate_id>/delete", methods=["POST"])
@allow(access.ADMIN)
def gate_delete(gate_id: int):
    db = current_app.extensions["db"]
    expected = _expected_version()
    try:
        with db.transaction() as session:
            delete_gate(session, gate_id, expected_version=expected, username=current_user.username,
                        reason=request.form.get("reason", ""))
    except (GateConflict, StaleDataError):
        flash(t("gates.conflict"), "error")
        return redirect(url_for("corridor.gates")), 303
    flash(t("gates.deleted"), "success")
    return redirect(url_for("corridor.gates")), 303


