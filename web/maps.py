"""Province overview map (filters in the query string, so a view can be bookmarked) and the commune API.

The page holds the filter form, the side panel and the map container; the map's JavaScript is served by
``/map/overview.js`` with the same query string, so the page has no inline script (it keeps working under
a Content-Security-Policy ``script-src 'self'``) and every asset comes from ``/vendor``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, make_response, render_template, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import Period
from geo.taxonomy import (CATEGORIES, CATEGORY_SETS, GROUPS, category_selections, selection_codes,
                          selection_label)
from layers.base import map_parts
from layers.incidents import DEFAULT_MAX_POINTS
from layers.overview import OVERVIEW_MAP_ELEMENT, OverviewFigures, overview_assets, overview_figures, overview_map
from layers.text import format_number
from store.boundaries import communes_frame, district_names, population_frame
from store.incidents import incident_frame, incident_years
from store.meta import data_version
from web.basemap import basemap_key, basemap_source
from web.communes import profile_url_template
from web import access, db_session
from web.access import allow
from web.api_input import with_query
from web.api_schemas import CommunesQuery
from translations import message
from web.i18n import current_language, date_span, error_text, pick, t
from web.boundary_view import district_choices, read_view_set
from web.periods import menu, read_period
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("maps", __name__)


MEASURES = ("count", "rate")
TOP_COMMUNES = 10
# Special category selections: code -> (Vietnamese, English), category codes


@dataclass(frozen=True)
class OverviewFilters:
    period: Period
    category: str  # "" (all), a category code, "group:<group>", or a key of CATEGORY_SETS
    district: str  # "" = whole province; in a set without districts, a former district
    measure: str
    boundary_set: str = ""
    target: str = ""  # a records target of geo.targets: the map shows exactly the incidents its card counts
    # With a change target: the year it is compared with; communes that year's records cannot reach (old Tiền
    # Giang before 01/07/2025) are left out, as the card leaves them out.
    baseline_year: int | None = None

    def query(self) -> dict:
        return {"period": self.period.code, "category": self.category, "district": self.district,
                "measure": self.measure, "set": self.boundary_set, "target": self.target or None,
                "baseline": self.baseline_year}

    @property
    def year(self) -> int:
        return self.period.reference_year

    def category_codes(self) -> list[str] | None:
        return selection_codes(self.category)

    def category_label(self) -> str:
        return selection_label(self.category, current_language()) or t("overview.all_categories")


def read_filters(years: list[int], view) -> OverviewFilters:
    """Filters from the query string; an unknown value is a 400 naming the parameter and what is allowed.

    ``period`` is a code of the one period model (:mod:`web.periods`; ``year=Y`` alone, from old bookmarks,
    is the calendar year). ``target`` narrows the incidents to those a target card counts, so the card's
    link shows the same number as the card."""
    from geo.targets import RECORD_METRICS

    args = request.args
    period = read_period()
    target = args.get("target", "")
    if target and target not in RECORD_METRICS:
        raise GeoInputError(message("errors.not_one_of", name="target", value=repr(target),
                                    allowed=", ".join(RECORD_METRICS)))
    districts = district_choices(view)
    category = args.get("category", "")
    if category and category not in category_selections():
        raise GeoInputError(message("errors.not_one_of", name="category", value=repr(category),
                                    allowed=", ".join(sorted(category_selections()))))
    if "district" in args:
        district = args.get("district", "")
    elif current_user.role == access.DISTRICT and current_user.district_code in districts:
        district = current_user.district_code  # a district committee starts on its own district
    else:
        district = ""
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(districts)))
    measure = args.get("measure", "count")
    if measure not in MEASURES:
        raise GeoInputError(message("errors.not_one_of", name="measure", value=repr(measure),
                                    allowed=", ".join(MEASURES)))
    baseline_year = None
    if target in ("social_order_change", "suspended_change") and args.get("baseline"):
        from web.periods import read_baseline

        baseline_year = read_baseline(period)
    return OverviewFilters(period=period, category=category, district=district, measure=measure,
                           boundary_set=view.key, target=target, baseline_year=baseline_year)


def _data_key(filters: OverviewFilters) -> tuple:
    """Everything besides the filters that changes what the overview shows: data versions, language, viewer."""
    session = db_session()
    return (str(session.get_bind().url), data_version(session, "incidents", "boundaries", "population"), filters,
            current_language(), viewer_scope(current_user))


def _build(filters: OverviewFilters, communes, districts: dict[str, str]):
    """The overview map for these filters, built once per data version, language and viewer scope."""
    key = ("overview", *_data_key(filters), basemap_key(),
           int(current_app.config.get("MAP_MAX_POINTS", DEFAULT_MAX_POINTS)))
    return cached_view(key, lambda: _render(filters, communes, districts))


class OverviewData(NamedTuple):
    """The incidents and population an overview of given filters shows, and the wording around them."""
    incidents: object
    population: object
    population_year: int | None
    demo: bool
    caption: str
    outside: int
    population_source: str


def _data(filters: OverviewFilters, communes, districts: dict[str, str]) -> OverviewData:
    """:func:`_select`, once per data version, filters, language and viewer scope (page and script share it)."""
    return cached_view(("overview-data", *_data_key(filters)), lambda: _select(filters, communes, districts))


def _select(filters: OverviewFilters, communes, districts: dict[str, str]) -> OverviewData:
    session = db_session()
    has_districts = communes.attrs.get("has_districts", True)
    incidents = incident_frame(session, start=filters.period.start_at, end=filters.period.end_before,
                               categories=filters.category_codes(),
                               district_code=(filters.district or None) if has_districts else None,
                               viewer=current_user._get_current_object(), boundary_set=filters.boundary_set)
    outside = incidents.attrs.get("outside_set", 0)
    if filters.district and not has_districts:
        members = communes.loc[communes["former_district_code"] == filters.district, "commune_code"]
        incidents = incidents[incidents["commune_code"].isin(set(members))].reset_index(drop=True)
    if filters.target:
        from geo.targets import counted_by

        incidents = incidents[counted_by(filters.target, incidents).to_numpy()].reset_index(drop=True)
    unreached = frozenset()
    if filters.baseline_year is not None and filters.boundary_set:
        from store.targets import communes_without_baseline, incident_coverage

        unreached = communes_without_baseline(session, filters.period, filters.baseline_year, filters.boundary_set,
                                              incident_coverage(session))
        incidents = incidents[~incidents["commune_code"].astype(str).isin(unreached)].reset_index(drop=True)
    population = population_frame(session, boundary_set=filters.boundary_set)
    population_year = int(population["year"].iloc[0]) if len(population) else None
    caption_parts = [f"{pick((filters.period.label_vi, filters.period.label_en))} "
                     f"({date_span(filters.period.start, filters.period.end)})", filters.category_label()]
    if filters.target:
        caption_parts.append(t("overview.target_scope", target=t(f"overview.target.{filters.target}")))
    if unreached:
        caption_parts.append(t("overview.without_baseline", n=len(unreached), year=filters.baseline_year))
    if filters.district:
        caption_parts.append(districts[filters.district])
    caption_parts.append(f"{t('boundary.label')} {communes.attrs.get('label', filters.boundary_set)}")
    demo = bool(incidents["is_demo"].astype(bool).any()) if len(incidents) else False
    return OverviewData(incidents, population, population_year, demo, " · ".join(caption_parts), outside,
                        population.attrs.get("source", ""))


def _max_points() -> int:
    return int(current_app.config.get("MAP_MAX_POINTS", DEFAULT_MAX_POINTS))


def _points_scope():
    return _own_cases if access.is_local(current_user) else None


def _render(filters: OverviewFilters, communes, districts: dict[str, str]):
    data = _data(filters, communes, districts)
    built = overview_map(
        communes, data.incidents, population=data.population, population_year=data.population_year,
        measure=filters.measure, lang=current_language(), district_code=filters.district or None, demo=data.demo,
        caption=data.caption, tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "", basemap=basemap_source(),
        vendor_url=url_for("vendor.asset", filename="").rstrip("/"), max_points=_max_points(),
        points_scope=_points_scope(),
        profile_url=profile_url_template(filters.boundary_set, period=filters.period.code),
        district_url=url_for("maps.overview") + "?" + urlencode(
            {k: v for k, v in {**filters.query(), "district": "DISTRICT"}.items() if v}).replace("DISTRICT", "{district}"),
    )
    script = map_parts(built.map).script
    return RenderedOverview(built, data.incidents, data.population_year, data.demo, script, data.outside,
                            data.population_source)


def _figures(filters: OverviewFilters, communes, districts: dict[str, str]) -> OverviewFigures:
    """The side panel's statistics and point summary (:func:`layers.overview.overview_figures`, the numbers of
    the map :func:`_build` makes), without building the map: the page's map script is another request."""
    data = _data(filters, communes, districts)
    return cached_view(("overview-figures", *_data_key(filters), _max_points()), lambda: overview_figures(
        communes, data.incidents, population=data.population, district_code=filters.district or None,
        max_points=_max_points(), points_scope=_points_scope()))


def _assets(points_drawn: bool):
    """(css, js) of the overview map (:func:`layers.overview.overview_assets`), once per configuration."""
    tile_url = current_app.config.get("TILE_URL") or ""
    vendor_url = url_for("vendor.asset", filename="").rstrip("/")
    key = ("overview-assets", points_drawn, basemap_key(), vendor_url, current_language())
    return cached_view(key, lambda: overview_assets(
        points_drawn=points_drawn, tile_url=tile_url, tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
        basemap=basemap_source(), vendor_url=vendor_url, lang=current_language()))


def overview_time(filters: OverviewFilters, incidents, communes) -> dict:
    """KPI tiles and the monthly trend of the overview: the period (cut at the data-through date) against the
    same calendar span of the baseline year (:func:`geo.periods.like_for_like`), with the rate ratio's exact
    interval (:func:`geo.change.change_vs_baseline`) and the clearance rate (cases cleared, indicted or tried)."""
    from geo.change import change_vs_baseline
    from geo.periods import like_for_like
    from geo.taxonomy import CLEARED_STATUSES
    from geo.trends import monthly_counts, months_between, shift_months
    from layers import palette
    from web.periods import data_through, read_baseline

    from web.boundary_view import without_baseline

    comparison = like_for_like(filters.period, read_baseline(filters.period), data_through=data_through())
    span, base_span = comparison.span, comparison.baseline
    current = incidents
    if len(current):
        stamps = current["occurred_at"]
        current = current[(stamps >= span.start_at) & (stamps < span.end_before)]
    baseline = _filtered_incidents(filters, communes, base_span.start_at, base_span.end_before)
    # Communes no record of the baseline span can reach (old Tiền Giang before 01/07/2025) are not compared.
    unreached = without_baseline(db_session(), filters.boundary_set, base_span, communes)
    left_out = {c["code"] for c in unreached["communes"]}
    if left_out:
        current = current[~current["commune_code"].astype(str).isin(left_out)] if len(current) else current
        baseline = baseline[~baseline["commune_code"].astype(str).isin(left_out)] if len(baseline) else baseline
    change = change_vs_baseline([len(baseline)], [len(current)])
    months = months_between(span.start, span.end)
    offset = comparison.baseline_year - filters.period.reference_year
    now = monthly_counts(current["occurred_at"], ["n"] * len(current), months).get("n", [0] * len(months))
    before = monthly_counts(baseline["occurred_at"], ["n"] * len(baseline), shift_months(months, offset)) \
        .get("n", [0] * len(months))
    cleared = int(current["case_status"].isin(CLEARED_STATUSES).sum()) if len(current) else 0
    trend = {"labels": [f"{m:02d}/{y}" for y, m in months], "stacked": False, "y_label": t("overview.kpi_incidents"),
             "datasets": [
                 {"label": t("overview.trend_current", period=pick((filters.period.label_vi, filters.period.label_en))),
                  "data": now, "type": "line", "borderColor": palette.TREND_CURRENT,
                  "backgroundColor": palette.TREND_CURRENT, "pointRadius": 3},
                 {"label": t("overview.trend_baseline", year=comparison.baseline_year), "data": before,
                  "type": "line", "borderColor": palette.TREND_BASELINE, "backgroundColor": palette.TREND_BASELINE,
                  "borderDash": [5, 4], "pointRadius": 3}]}
    return {"comparison": comparison, "current": len(current), "baseline": len(baseline), "cleared": cleared,
            "left_out_note": pick((unreached["note_vi"], unreached["note_en"])) if left_out else "",
            "pct_change": float(change.pct_change[0]), "ci_low": float(change.ci_low[0]),
            "ci_high": float(change.ci_high[0]), "p_value": float(change.p_value[0]), "trend": trend}


def _time_view(filters: OverviewFilters, incidents, communes) -> dict:
    """:func:`overview_time`, once per data version, filters, baseline, language and viewer scope (the page
    and every reload of it share it); a baseline or period the data cannot serve is said on the page."""
    session = db_session()
    key = ("overview-time", str(session.get_bind().url), data_version(session, "incidents", "boundaries"), filters,
           request.args.get("baseline", ""), current_language(), viewer_scope(current_user))

    def compute():
        try:
            return overview_time(filters, incidents, communes)
        except GeoInputError as exc:  # a baseline before the data, a period the data do not reach
            return {"error": error_text(exc)}

    return cached_view(key, compute)


def _filtered_incidents(filters: OverviewFilters, communes, start, end):
    """The incidents of the overview's filters (category, district, target) between ``start`` and ``end``."""
    session = db_session()
    has_districts = communes.attrs.get("has_districts", True)
    incidents = incident_frame(session, start=start, end=end, categories=filters.category_codes(),
                               district_code=(filters.district or None) if has_districts else None,
                               viewer=current_user._get_current_object(), boundary_set=filters.boundary_set)
    if filters.district and not has_districts:
        members = communes.loc[communes["former_district_code"] == filters.district, "commune_code"]
        incidents = incidents[incidents["commune_code"].isin(set(members))].reset_index(drop=True)
    if filters.target:
        from geo.targets import counted_by

        incidents = incidents[counted_by(filters.target, incidents).to_numpy()].reset_index(drop=True)
    return incidents


def _own_cases(frame):
    from store.scope import own_cases

    return own_cases(db_session(), current_user, frame)


class RenderedOverview(NamedTuple):
    built: object
    incidents: object
    population_year: int | None
    demo: bool
    script: str
    outside: int = 0
    population_source: str = ""


def _context():
    """Communes of the set shown (by default the one in force at the end of the period shown), years, view."""
    session = db_session()
    years = incident_years(session)
    period = read_period()
    view = read_view_set(period.nominal_end or period.end)
    return view.communes, years, view


@bp.route("/")
@allow(*access.EVERYONE)
def overview():
    from store.boundaries import set_rows

    if not set_rows(db_session()):
        return render_template("overview.html", no_boundaries=True, filters=None)
    communes, years, view = _context()
    filters = read_filters(years, view)
    districts = district_choices(view)
    data = _data(filters, communes, districts)
    incidents, population_year, demo = data.incidents, data.population_year, data.demo
    figures = _figures(filters, communes, districts)
    stats = figures.statistics
    css_urls, js_urls = _assets(figures.points.shown > 0)
    ranking = "rate" if filters.measure == "rate" else "count"
    top = stats[stats["count"] > 0].sort_values([ranking, "count", "commune_code"],
                                               ascending=[False, False, True]).head(TOP_COMMUNES)
    script_url = url_for("maps.overview_script", lang=current_language(), **filters.query())
    time_view = _time_view(filters, incidents, communes)
    return render_template(
        "overview.html", no_boundaries=False, filters=filters, period=filters.period,
        period_menu=menu(years, filters.period), districts=districts,
        categories=CATEGORIES, groups=GROUPS, category_sets=CATEGORY_SETS, css_urls=css_urls,
        js_urls=js_urls, map_id=OVERVIEW_MAP_ELEMENT, view_set=view, outside=data.outside,
        population_source=data.population_source,
        script_url=script_url, total=len(incidents), communes_with=int((stats["count"] > 0).sum()),
        points=figures.points, top=top.to_dict("records"), population_year=population_year, demo=demo,
        fmt=lambda value, decimals=0: format_number(value, current_language(), decimals), time_view=time_view,
        range_from=filters.period.start.isoformat() if filters.period.kind == "range" else "",
        range_to=(filters.period.nominal_end or filters.period.end).isoformat() if filters.period.kind == "range" else "",
    )


@bp.route("/map/overview.js")
@allow(*access.EVERYONE)
def overview_script():
    """The overview map's JavaScript for the filters in the query string (same rules as the page)."""
    from store.boundaries import set_rows

    if not set_rows(db_session()):
        abort(404)
    communes, years, view = _context()
    filters = read_filters(years, view)
    response = make_response(_build(filters, communes, district_choices(view)).script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/print/overview.<fmt>")
@allow(*access.EVERYONE)
def overview_print(fmt: str):
    """The overview map of the filters in the query string on an A4 landscape sheet (PDF or PNG)."""
    from store.boundaries import set_rows
    from web.printing import check_format, print_response, sheet

    check_format(fmt)
    if not set_rows(db_session()):
        abort(404)
    communes, years, view = _context()
    filters = read_filters(years, view)
    districts = district_choices(view)
    rendered = _build(filters, communes, districts)
    period = filters.period
    title = (t("overview.heading_district", district=districts[filters.district]) if filters.district
             else t("overview.heading"))
    lines = [f"{pick((period.label_vi, period.label_en))} ({date_span(period.start, period.end)})",
             f"{t('boundary.label')} {communes.attrs.get('label', filters.boundary_set)}",
             f"{t('overview.category')}: {filters.category_label()}",
             f"{t('overview.measure')}: {t('overview.measure_' + filters.measure)}"]
    sources = [t("print.source_incidents")]
    if filters.measure == "rate" and rendered.population_source:
        sources.append(rendered.population_source)
    return print_response(rendered.built.map, sheet(title, lines, demo=rendered.demo, sources=sources), fmt,
                          "tong-quan")


@bp.route("/api/communes")
@allow(*access.EVERYONE)
@with_query(CommunesQuery)
def api_communes(query):
    """Communes of one boundary set as GeoJSON (EPSG:4326): ``?set=ID`` or ``?on=YYYY-MM-DD`` (default: today).

    Properties: commune_code, commune_name, commune_type, boundary_set and, where the set has districts,
    district_code and district_name (else former_district_code / former_district_name).
    """
    from store.boundaries import communes_geojson, get_boundary_set

    session = db_session()
    if query.get("on"):
        key = get_boundary_set(session, on=query["on"]).version
    else:
        key = get_boundary_set(session, query.get("set")).version
    cache_key = ("api_communes", str(session.get_bind().url), data_version(session, "boundaries"), key)

    def build():
        collection = communes_geojson(session, key)
        for feature in collection["features"]:
            for column in ("province_code", "province_name"):
                feature["properties"].pop(column, None)
        return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()

    body = cached_view(cache_key, build)
    return current_app.response_class(body, mimetype="application/json")


@bp.route("/api/boundary-sets")
@allow(*access.EVERYONE)
def api_boundary_sets():
    """Every loaded boundary set: id, effective_from, effective_to, province, levels, commune count."""
    from sqlalchemy import func, select

    from store.boundaries import set_rows, version_of
    from store.models import Commune

    session = db_session()
    counts = dict(session.execute(select(Commune.boundary_set_id, func.count()).group_by(Commune.boundary_set_id)).all())
    sets = []
    for row in set_rows(session):
        version = version_of(row)
        sets.append({"id": row.version, "label": version.label(), "effective_from": row.effective_date.isoformat(),
                     "effective_to": row.effective_to.isoformat() if row.effective_to else None,
                     "province_code": row.province_code, "province_name": row.province_name,
                     "levels": list(version.levels), "communes": int(counts.get(row.id, 0))})
    return {"boundary_sets": sets}
