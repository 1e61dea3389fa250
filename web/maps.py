"""Province overview map (filters in the query string, so a view can be bookmarked) and the commune API.

The page holds the filter form, the side panel and the map container; the map's JavaScript is served by
``/map/overview.js`` with the same query string, so the page has no inline script (it keeps working under
a Content-Security-Policy ``script-src 'self'``) and every asset comes from ``/vendor``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from flask import Blueprint, abort, current_app, make_response, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from geo.taxonomy import (CATEGORIES, CATEGORY_SETS, GROUPS, category_selections, selection_codes,
                          selection_label)
from layers.base import asset_urls, map_parts
from layers.incidents import DEFAULT_MAX_POINTS
from layers.overview import overview_map
from layers.text import format_number
from store.boundaries import communes_frame, district_names, population_frame
from store.incidents import incident_frame, incident_years
from store.meta import data_version
from web import access, db_session
from web.access import allow
from web.i18n import add_messages, current_language, t
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("maps", __name__)

MEASURES = ("count", "rate")
TOP_COMMUNES = 10
# Special category selections: code -> (Vietnamese, English), category codes

add_messages({
    "overview.heading": ("Tổng quan tình hình tội phạm toàn tỉnh", "Province crime overview"),
    "overview.heading_district": ("Tổng quan tình hình tội phạm — {district}", "Crime overview — {district}"),
    "overview.year": ("Năm", "Year"),
    "overview.category": ("Loại vụ việc", "Category"),
    "overview.all_categories": ("Tất cả", "All"),
    "overview.category_sets": ("Nhóm chỉ tiêu", "Target groups"),
    "overview.category_groups": ("Nhóm tội phạm", "Crime groups"),
    "overview.categories": ("Loại", "Categories"),
    "overview.district": ("Huyện/thành phố", "District"),
    "overview.whole_province": ("Toàn tỉnh", "Whole province"),
    "overview.measure": ("Chỉ số", "Measure"),
    "overview.measure_count": ("Số vụ", "Incident count"),
    "overview.measure_rate": ("Tỷ lệ /10.000 dân", "Rate per 10,000 residents"),
    "overview.apply": ("Xem", "Show"),
    "overview.download": ("Tải dữ liệu lớp bản đồ này (GeoJSON, GeoPackage, KML, CSV)",
                          "Download this view's layers (GeoJSON, GeoPackage, KML, CSV)"),
    "overview.totals": ("Tổng hợp", "Totals"),
    "overview.total_incidents": ("Tổng số vụ", "Incidents"),
    "overview.communes_with": ("Số xã có vụ việc", "Communes with incidents"),
    "overview.redacted": ("Vụ bảo mật (không hiện vị trí)", "Confidential (location hidden)"),
    "overview.points_shown": ("Điểm trên bản đồ", "Points on the map"),
    "overview.points_capped": (
        "Quá nhiều vụ để vẽ từng điểm (giới hạn {cap}): bản đồ chỉ hiện tổng theo xã. Chọn huyện hoặc loại "
        "vụ việc để xem từng điểm.",
        "Too many incidents to draw one by one (limit {cap}): the map shows commune totals. Choose a "
        "district or category to see the points.",
    ),
    "overview.top": ("Xã có nhiều vụ nhất", "Communes with the most incidents"),
    "overview.top_rate": ("Xã có tỷ lệ cao nhất", "Communes with the highest rates"),
    "overview.commune": ("Xã/phường", "Commune"),
    "overview.count": ("Số vụ", "Count"),
    "overview.rate": ("/10.000 dân", "/10,000"),
    "overview.population_source": ("Dân số theo Tổng điều tra {year}.", "Population from the {year} census."),
    "overview.no_boundaries": (
        "Chưa nạp ranh giới xã. Chạy lệnh: flask --app server load-boundaries",
        "No commune boundaries loaded. Run: flask --app server load-boundaries",
    ),
    "overview.no_incidents": ("Không có vụ việc nào khớp bộ lọc.", "No incidents match the filters."),
    "overview.demo_note": ("Minh họa", "Illustrative"),
    "overview.map_label": ("Bản đồ xã/phường theo số vụ việc", "Map of communes by incident count"),
})


@dataclass(frozen=True)
class OverviewFilters:
    year: int
    category: str  # "" (all), a category code, "group:<group>", or a key of CATEGORY_SETS
    district: str  # "" = whole province
    measure: str

    def query(self) -> dict:
        return {"year": self.year, "category": self.category, "district": self.district, "measure": self.measure}

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def category_label(self) -> str:
        return selection_label(self.category, current_language()) or t("overview.all_categories")


def read_filters(years: list[int], districts: dict[str, str]) -> OverviewFilters:
    """Filters from the query string; an unknown value is a 400 naming the parameter and what is allowed."""
    args = request.args
    default_year = years[-1] if years else date.today().year
    raw_year = args.get("year", "")
    try:
        year = int(raw_year) if raw_year else default_year
    except ValueError:
        raise GeoInputError(f"year {raw_year!r} is not a year")
    if not 1900 <= year <= 2100:
        raise GeoInputError(f"year {year} is out of range")
    category = args.get("category", "")
    if category and category not in category_selections():
        raise GeoInputError(f"category {category!r} is not one of: {', '.join(sorted(category_selections()))}")
    if "district" in args:
        district = args.get("district", "")
    elif current_user.role == access.DISTRICT and current_user.district_code in districts:
        district = current_user.district_code  # a district committee starts on its own district
    else:
        district = ""
    if district and district not in districts:
        raise GeoInputError(f"district {district!r} is not one of: {', '.join(districts)}")
    measure = args.get("measure", "count")
    if measure not in MEASURES:
        raise GeoInputError(f"measure {measure!r} is not one of: {', '.join(MEASURES)}")
    return OverviewFilters(year=year, category=category, district=district, measure=measure)


def _build(filters: OverviewFilters, communes, districts: dict[str, str]):
    """The overview for these filters, rendered once per data version, language and viewer scope."""
    session = db_session()
    key = ("overview", str(session.get_bind().url), data_version(session, "incidents", "boundaries", "population"), filters, current_language(),
           viewer_scope(current_user), current_app.config.get("TILE_URL") or "",
           int(current_app.config.get("MAP_MAX_POINTS", DEFAULT_MAX_POINTS)))
    return cached_view(key, lambda: _render(filters, communes, districts))


def _render(filters: OverviewFilters, communes, districts: dict[str, str]):
    session = db_session()
    incidents = incident_frame(session, year=filters.year, categories=filters.category_codes(),
                               district_code=filters.district or None, viewer=current_user._get_current_object())
    population = population_frame(session)
    population_year = int(population["year"].iloc[0]) if len(population) else None
    caption_parts = [f"{t('overview.year')} {filters.year}", filters.category_label()]
    if filters.district:
        caption_parts.append(districts[filters.district])
    demo = bool(incidents["is_demo"].astype(bool).any()) if len(incidents) else False
    built = overview_map(
        communes, incidents, population=population, population_year=population_year, measure=filters.measure,
        lang=current_language(), district_code=filters.district or None, demo=demo,
        caption=" · ".join(caption_parts), tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
        vendor_url=url_for("vendor.asset", filename="").rstrip("/"),
        max_points=int(current_app.config.get("MAP_MAX_POINTS", DEFAULT_MAX_POINTS)),
    )
    css, js = asset_urls(built.map)
    script = map_parts(built.map).script
    return RenderedOverview(built, incidents, population_year, demo, css, js, script)


class RenderedOverview(NamedTuple):
    built: object
    incidents: object
    population_year: int | None
    demo: bool
    css: list
    js: list
    script: str


def _context():
    session = db_session()
    communes = communes_frame(session)
    years = incident_years(session)
    districts = district_names(communes)
    return communes, years, districts


@bp.route("/")
@allow(*access.EVERYONE)
def overview():
    communes, years, districts = _context()
    if communes.empty:
        return render_template("overview.html", no_boundaries=True, filters=None)
    filters = read_filters(years, districts)
    built, incidents, population_year, demo, css, js, _ = _build(filters, communes, districts)
    stats = built.statistics
    ranking = "rate" if filters.measure == "rate" else "count"
    top = stats[stats["count"] > 0].sort_values([ranking, "count", "commune_code"],
                                               ascending=[False, False, True]).head(TOP_COMMUNES)
    year_options = sorted(set(years) | {filters.year})
    script_url = url_for("maps.overview_script", lang=current_language(), **filters.query())
    return render_template(
        "overview.html", no_boundaries=False, filters=filters, years=year_options, districts=districts,
        categories=CATEGORIES, groups=GROUPS, category_sets=CATEGORY_SETS, css_urls=css, js_urls=js,
        map_id=built.map.get_name(),
        script_url=script_url, total=len(incidents), communes_with=int((stats["count"] > 0).sum()),
        points=built.points, top=top.to_dict("records"), population_year=population_year, demo=demo,
        fmt=lambda value, decimals=0: format_number(value, current_language(), decimals),
    )


@bp.route("/map/overview.js")
@allow(*access.EVERYONE)
def overview_script():
    """The overview map's JavaScript for the filters in the query string (same rules as the page)."""
    communes, years, districts = _context()
    if communes.empty:
        abort(404)
    filters = read_filters(years, districts)
    response = make_response(_build(filters, communes, districts).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/api/communes")
@allow(*access.EVERYONE)
def api_communes():
    """Communes of the active boundary set as GeoJSON (EPSG:4326), serialised once per boundary version."""
    session = db_session()
    columns = ["commune_code", "commune_name", "district_code", "district_name", "commune_type", "geometry"]
    key = ("api_communes", str(session.get_bind().url), data_version(session, "boundaries"))
    body = cached_view(key, lambda: json.dumps(json.loads(communes_frame(session)[columns].to_json(drop_id=True)),
                                               ensure_ascii=False, separators=(",", ":")).encode())
    return current_app.response_class(body, mimetype="application/json")
