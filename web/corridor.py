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


import json
import math
from dataclasses import dataclass, replace
from typing import NamedTuple

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from geo import corridor_geometry as C
from geo.errors import GeoInputError
from geo.export import plain_value
from geo.geojson import feature_collection
from geo.periods import Period
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
from translations import message
from web.basemap import basemap_key, basemap_source
from web import access, db_session
from web.boundary_view import read_view_set
from web.access import allow
from web.periods import menu, read_period
from web.i18n import current_language, date_span, format_date, pick, t
from web.view_cache import cached_view, map_assets, viewer_scope

bp = Blueprint("corridor", __name__)

READERS = (access.ADMIN, access.PLANNER, access.BORDER_GUARD, access.DISTRICT, access.COMMUNE)
BAND_PRESETS = ("0,2,5,10", "0,1,2,5", "0,5,10,20", "0,2,5,10,15")
LAYERS = ("border", "bands", "segments", "gates", "incidents")
FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
           "gpx": "application/gpx+xml"}
STAT_SECTIONS = ("total", "category", "band", "segment", "gate", "month")


# ------------------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class CorridorFilters:
    period: Period
    category: str  # "" = every border-corridor category
    bands: str     # band edges in km, comma separated
    segment_km: float
    colour: str
    boundary_set: str = ""

    @property
    def edges_m(self) -> tuple[float, ...]:
        return tuple(float(v) * 1000.0 for v in self.bands.split(","))

    @property
    def categories(self) -> list[str]:
        return [self.category] if self.category else sorted(BORDER_CORRIDOR_CATEGORIES)

    @property
    def year(self) -> int:
        return self.period.reference_year

    def query(self) -> dict:
        return {"period": self.period.code, "category": self.category, "bands": self.bands,
                "segment_km": _km_param(self.segment_km), "colour": self.colour, "set": self.boundary_set}


def _km_param(value: float) -> str:
    return f"{value:g}"


def read_filters(years: list[int]) -> CorridorFilters:
    """Filters from the query string; a wrong value is a 400 naming the parameter and what is allowed."""
    args = request.args
    raw_year = args.get("year", "")
    if raw_year and not args.get("period"):
        try:
            year = int(raw_year)
        except ValueError:
            raise GeoInputError(message("corridor.error.year_not_year", received=repr(raw_year))) from None
        if not 1900 <= year <= 2100:
            raise GeoInputError(message("corridor.error.year_range", received=year))
    period = read_period()
    category = args.get("category", "")
    if category and category not in BORDER_CORRIDOR_CATEGORIES:
        raise GeoInputError(message("store.corridor.categories", received=repr(category),
                                    allowed=", ".join(sorted(BORDER_CORRIDOR_CATEGORIES))))
    bands_text = args.get("bands", BAND_PRESETS[0]).replace(" ", "")
    try:
        km = [float(v) for v in bands_text.split(",")]
        if not all(math.isfinite(v) for v in km):
            raise ValueError
    except ValueError:
        raise GeoInputError(message("corridor.error.bands", received=repr(bands_text),
                                    example=BAND_PRESETS[0])) from None
    bands = ",".join(_km_param(v) for v in km)
    raw_segment = args.get("segment_km", "5")
    try:
        segment_km = float(raw_segment)
    except ValueError:
        segment_km = float("nan")
    if segment_km not in SEGMENT_LENGTHS_KM:
        raise GeoInputError(message("corridor.error.segment_km", received=repr(raw_segment),
                                    allowed=", ".join(_km_param(v) for v in SEGMENT_LENGTHS_KM)))
    colour = args.get("colour", "per_km")
    if colour not in COLOUR_MODES:
        raise GeoInputError(message("corridor.error.colour", received=repr(colour), allowed=", ".join(COLOUR_MODES)))
    view = read_view_set(period.nominal_end or period.end)
    return CorridorFilters(period=period, category=category, bands=bands, segment_km=segment_km, colour=colour,
                           boundary_set=view.key)


# ------------------------------------------------------------------------------------------ building


def _viewer():
    return current_user._get_current_object()


def _geometry(filters: CorridorFilters):
    return corridor_geometry(db_session(), current_app.config["DATA_DIR"], boundary_set=filters.boundary_set or None,
                             edges_m=filters.edges_m,
                             segment_length_m=filters.segment_km * 1000.0)


def _local_on_border(user) -> bool:
    """Whether a local committee's own unit touches the border, on the set its unit belongs to: a district
    (2024 structure) on the latest set with districts, a commune on its account's set."""
    from store.boundaries import set_rows, version_of

    rows = set_rows(db_session())
    if user.role == access.DISTRICT:
        with_districts = [r for r in rows if version_of(r).has_districts]
        if not with_districts:
            return False
        geometry = corridor_geometry(db_session(), current_app.config["DATA_DIR"], boundary_set=with_districts[-1].version)
        return user.district_code in geometry.border_district_codes
    if user.role == access.COMMUNE:
        own = next((r for r in rows if r.id == user.commune_set_id), None)
        if own is None:
            return False
        geometry = corridor_geometry(db_session(), current_app.config["DATA_DIR"], boundary_set=own.version)
        return user.commune_code in geometry.border_commune_codes
    return True


def _check_district(geometry) -> None:
    """District and commune committees read the corridor only when their own unit is on the border."""
    if access.is_local(current_user) and not _local_on_border(current_user):
        abort(403)


def _analysis(filters: CorridorFilters) -> CorridorResult:
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = _geometry(filters)
    _check_district(geometry)
    return _scoped(corridor_analysis(db_session(), geometry, period=filters.period, categories=filters.categories,
                                     viewer=_viewer()))


def _scoped(result: CorridorResult) -> CorridorResult:
    """The statistics stay corridor-wide; the cases drawn or exported are those the viewer may receive."""
    if not access.is_local(current_user):
        return result
    from store.scope import own_cases

    return replace(result, points=own_cases(db_session(), current_user, result.points))


class CorridorPage(NamedTuple):
    """What the page shows beside its map: the analysis, its statistics table and what the map draws."""
    result: CorridorResult
    sections: list
    points: object  # layers.incidents.PointSummary (no layer)


class CorridorMapScript(NamedTuple):
    """The rendered map: the assets its script needs, the container id and the script."""
    css: tuple
    js: tuple
    map_id: str
    script: str


def _view_key(kind: str, filters: CorridorFilters) -> tuple:
    """Everything a view depends on: data versions (incidents, boundaries, gates), filters, language, viewer
    scope, data files and the basemap configuration."""
    from store.meta import data_version

    session = db_session()
    return (kind, str(session.get_bind().url), data_version(session, "incidents", "boundaries", "gates"),
            filters, current_language(), viewer_scope(current_user), current_app.config["DATA_DIR"], basemap_key())


def _checked_geometry(filters: CorridorFilters):
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = _geometry(filters)
    _check_district(geometry)
    return geometry


def _corridor_analysis(filters: CorridorFilters, geometry) -> CorridorResult:
    """The scoped analysis of ``filters``, once per view key (shared by the page and its map script)."""
    def build():
        return _scoped(corridor_analysis(db_session(), geometry, period=filters.period,
                                         categories=filters.categories, viewer=_viewer()))

    return cached_view(_view_key("corridor-analysis", filters), build)


def _page_part(filters: CorridorFilters) -> CorridorPage:
    """Analysis, statistics table and what the map draws, built once per view key; no map is built: its
    script is a request of its own (:func:`_map_part`). Access is checked on every request."""
    geometry = _checked_geometry(filters)

    def build():
        from layers.incidents import point_summary

        result = _corridor_analysis(filters, geometry)
        return CorridorPage(result, _sections(result), point_summary(result.points.assign(redacted=False)))

    return cached_view(_view_key("corridor-page", filters), build)


def _map_part(filters: CorridorFilters) -> CorridorMapScript:
    """The rendered corridor map of ``filters``, once per view key."""
    geometry = _checked_geometry(filters)

    def build():
        from store.boundaries import communes_frame
        from web.communes import with_commune_search

        built = _map(_corridor_analysis(filters, geometry), filters)
        with_commune_search(built.map, communes_frame(db_session()))
        css, js = asset_urls(built.map)
        return CorridorMapScript(css, js, built.map.get_name(), map_parts(built.map).script)

    return cached_view(_view_key("corridor-map", filters), build)


def _map_assets(filters: CorridorFilters, page: CorridorPage) -> tuple:
    """(css, js, map id) of the map the page's script draws. They follow from the kinds of layers on the map
    (points drawn or not, gates, Prey Veng), not from the figures: they are taken from the first map rendered
    with the same configuration and kinds of layers (rendering it on a miss, its script kept for the map)."""
    result = page.result
    key = ("corridor-assets", page.points.shown > 0, len(result.gates) > 0, result.geometry.prey_veng is not None,
           current_language(), basemap_key(), url_for("vendor.asset", filename=""))

    def build():
        rendered = _map_part(filters)
        return rendered.css, rendered.js, rendered.map_id

    return map_assets(key, build)


def _caption(filters: CorridorFilters) -> str:
    if filters.category:
        entry = CATEGORIES[filters.category]
        what = pick((entry.label_vi, entry.label_en))
    else:
        what = t("corridor.all_border")
    p = filters.period
    return f"{pick((p.label_vi, p.label_en))} ({date_span(p.start, p.end)}) · {what}"


def _map(result: CorridorResult, filters: CorridorFilters):
    g = result.geometry
    figures = result.hotspot[["segment_id", "count", "per_km", "gi_z", "gi_bin"]] if len(result.hotspot) else None
    names = dict(zip(g.communes_in_bands["commune_code"].astype(str), g.communes_in_bands["commune_name"]))
    notes = [t("corridor.withheld_short", n=result.withheld_count)] if result.withheld_count else []
    return corridor_map(
        border_line=g.border_line, bands=g.bands, segments=g.segments, segment_figures=figures, gates=result.gates,
        incidents=result.points.assign(redacted=False), prey_veng=g.prey_veng, border_communes=g.border_communes,
        colour_by=filters.colour, lang=current_language(), caption=_caption(filters), notes=notes,
        commune_names=names, tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "", basemap=basemap_source(),
        vendor_url=url_for("vendor.asset", filename="").rstrip("/"), map_id="corridor")


def _sections(result: CorridorResult) -> list[dict]:
    """The statistics table grouped by dimension, with numbers formatted for the page's language."""
    lang = current_language()
    stats = result.statistics
    spans = {int(r.segment_id): (float(r.from_km), float(r.to_km)) for r in result.geometry.segments.itertuples()}
    sections = []
    for dimension in STAT_SECTIONS + ("withheld_category", "withheld_commune"):
        rows = stats[stats["dimension"] == dimension]
        if dimension == "month":
            rows = rows[(rows["count"] > 0) | (rows["previous_count"] > 0)]
        if rows.empty:
            continue
        title = t(f"corridor.section.{dimension}") if dimension in STAT_SECTIONS else t(f"corridor.{dimension}")
        sections.append({"dimension": dimension, "title": title, "rows": [{
            "key": r["key"], "label": _row_label(dimension, r["key"], r["label"], lang, spans),
            "count": int(r["count"]),
            "previous": int(r["previous_count"]),
            "change": _signed(int(r["change"])),
            "change_pct": "" if not math.isfinite(r["change_pct"]) else f"{_signed_float(r['change_pct'], lang)} %",
            "p": "–" if not math.isfinite(r["p_value"]) else format_number(r["p_value"], lang, 2),
            "per_km": "" if not math.isfinite(r["per_km"]) else format_number(r["per_km"], lang, 2),
            "gi_bin": "" if not math.isfinite(r["gi_bin"]) else int(r["gi_bin"]),
        } for r in rows.to_dict("records")]})
    return sections


def _row_label(dimension: str, key, label: str, lang: str, spans: dict | None = None) -> str:
    """Statistics labels come in Vietnamese from geo.corridor_statistics; give the English ones on the English page."""
    if lang != "en":
        return label
    if dimension in ("category", "withheld_category") and key in CATEGORIES:
        return CATEGORIES[key].label_en
    if dimension == "total":
        return "Total"
    if dimension == "segment" and spans and int(key) in spans:
        return C.segment_label(int(key), *spans[int(key)], lang)
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
    return t("corridor.same_span", day=format_date(until),
             span=date_span(result.span.start, result.span.end),
             base=date_span(result.baseline.start, result.baseline.end))


def _reads_corridor(user) -> bool:
    """The menu offers the corridor to a local committee only when its unit touches the border."""
    return _local_on_border(user)


@bp.route("/corridor")
@access.in_menu_when(_reads_corridor)
@allow(*READERS)
def page():
    session = db_session()
    years = incident_years(session)
    filters = read_filters(years)
    try:
        rendered = _page_part(filters)
    except GeoInputError as error:
        if "no boundary set" in str(error):
            return render_template("corridor/page.html", no_boundaries=True, filters=filters)
        raise
    result = rendered.result
    css, js, map_id = _map_assets(filters, rendered)
    g = result.geometry
    return render_template(
        "corridor/page.html", no_boundaries=False, filters=filters, result=result, sections=rendered.sections,
        period=filters.period, period_menu=menu(years, filters.period), categories=[(c, CATEGORIES[c]) for c in sorted(BORDER_CORRIDOR_CATEGORIES)],
        band_presets=sorted(set(BAND_PRESETS) | {filters.bands}), segment_lengths=[_km_param(v) for v in SEGMENT_LENGTHS_KM],
        colour_modes=COLOUR_MODES, css_urls=css, js_urls=js, map_id=map_id,
        script_url=url_for("corridor.map_script", lang=current_language(), **filters.query()),
        border_km=format_number(g.border_line["length_m"].iloc[0] / 1000.0, current_language(), 1),
        border_communes=list(zip(g.border_communes["commune_name"], g.border_communes["border_length_km"])),
        same_span=_same_span_note(result), points=rendered.points, layers=LAYERS, formats=tuple(FORMATS), export_query=filters.query(),
        view_set=read_view_set(filters.period.nominal_end or filters.period.end),
        num=lambda v, d=0: format_number(v, current_language(), d),
        patrol_url=url_for("corridor.patrol", lang=current_language(), **filters.query()),
    )


@bp.route("/corridor/patrol")
@allow(*READERS)
def patrol():
    """Next month's patrol ranking of the segments as an HTML fragment, loaded by the page once it has shown
    (``static/js/lazy_sections.js``): the forecast behind it takes seconds on new data, the page does not."""
    from web.evaluation_views import patrol_section

    filters = read_filters(incident_years(db_session()))
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = _geometry(filters)
    _check_district(geometry)
    return render_template("evaluation/_patrol.html", patrol=patrol_section(geometry))


@bp.route("/corridor/map.js")
@allow(*READERS)
def map_script():
    """The corridor map's JavaScript for the filters in the query string (same rules as the page)."""
    filters = read_filters(incident_years(db_session()))
    response = make_response(_map_part(filters).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/corridor/print.<fmt>")
@allow(*READERS)
def print_map(fmt: str):
    """The corridor map of the filters in the query string on an A4 landscape sheet (PDF or PNG)."""
    from store.incidents import has_demo_data
    from web.printing import check_format, print_response, sheet

    check_format(fmt)
    filters = read_filters(incident_years(db_session()))
    result = _analysis(filters)
    built = _map(result, filters)
    view = read_view_set(filters.period.nominal_end or filters.period.end)
    lines = [_caption(filters), f"{t('boundary.label')} {view.communes.attrs.get('label', view.key)}"]
    return print_response(built.map, sheet(t("corridor.heading"), lines, demo=has_demo_data(db_session()),
                                           sources=[t("print.source_incidents"), t("print.source_border")]),
                          fmt, "tuyen-bien-gioi")


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
        body = json.dumps(feature_collection(frame), ensure_ascii=False)
    elif fmt == "kml":
        body = to_kml(frame, layer, title)
    else:
        body = to_gpx(frame, layer, title)
    response = make_response(body)
    response.mimetype = FORMATS[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="corridor_{layer}_{filters.period.code.replace("..", "_")}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _feature_name(layer: str, record: dict) -> str:
    for column in ("label", "name", "id"):
        if column in record and record[column] not in (None, ""):
            return str(record[column])
    return layer


def to_kml(frame, layer: str, title: str) -> bytes:
    """KML 2.2 (:func:`geo.kml.kml_document`): points, lines and polygons with typed attributes."""
    from geo.kml import kml_document

    names = [_feature_name(layer, record) for record in frame.drop(columns="geometry").to_dict("records")]
    return kml_document(frame, title=title, names=names, colours=_kml_colours(frame, layer), schema_id=layer)


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

    from geo.kml import xml_safe_text

    gpx = gpxpy.gpx.GPX()
    gpx.name = xml_safe_text(title)
    gpx.creator = "Bản đồ 138"
    for record, geometry in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry):
        if geometry is None or geometry.is_empty:
            continue
        # gpxpy escapes markup; characters XML cannot hold at all are dropped first
        name = xml_safe_text(_feature_name(layer, record))
        values = {k: plain_value(v) for k, v in record.items()}
        description = xml_safe_text("; ".join(f"{k}={v}" for k, v in values.items() if v not in (None, "")))
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
    class_labels = {c: pick(C.GATE_CLASS_LABELS[c]) for c in C.GATE_CLASSES}
    return render_template("corridor/gates.html", gates=list_gates(db_session()), class_labels=class_labels,
                           rule=t("gates.rule", inland=f"{MAX_INLAND_M / 1000:g}", tol=f"{BORDER_TOLERANCE_M:g}"),
                           placement=_placement_data())


def _placement_data() -> dict:
    """What the placement map draws: the border line (simplified to 20 m for the page) and the province
    outline (100 m), turned from the checking geometry's EPSG:32648 into EPSG:4326, plus the gate colours."""
    import geopandas as gpd
    from shapely.geometry import mapping

    from geo.crs import METRIC_CRS
    from layers.corridor import GATE_COLOURS

    geometry = _gate_geometry()

    def lonlat(shape, tolerance_m):
        return gpd.GeoSeries([shape.simplify(tolerance_m)], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]

    border = lonlat(geometry.border_line, 20)
    province = lonlat(geometry.province, 100) if geometry.province is not None else None
    west, south, east, north = border.bounds
    return {"border": mapping(border), "province": mapping(province) if province is not None else None,
            "bounds": [[south - 0.05, west - 0.05], [north + 0.05, east + 0.05]], "colours": GATE_COLOURS,
            "words": {"place": t("gates.place_on_map"), "placing": t("gates.placing"),
                      "circle": t("gates.circle_note")}}


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
