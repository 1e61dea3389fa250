"""JSON API of the hot spot evaluations: accuracy of past hot spots, displacement around key areas, near repeats
and the prospective forecast (documented in docs/API.md and the OpenAPI description).

Every answer comes from :mod:`store.evaluation` with the signed-in viewer, so scope and confidentiality are the
pages' own: a district committee reads its own key areas only (others are 404), statistics of other districts
are open to it as on the hot spot page, and a sensitive case a viewer may not locate is left out of these
location-based statistics and counted in ``n_withheld``. Results are computed once per data version, parameters
and clearance (:func:`web.view_cache.cached_view`).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import parse_period, scheme_from_config
from geo.taxonomy import selection_codes
from store import evaluation as ev
from store import key_areas as ka
from translations import message
from web import access, db_session
from web.access import allow
from web.api_input import refusal, with_query
from web.api_schemas import DisplacementQuery, ForecastQuery, HotspotAccuracyQuery, NearRepeatsQuery
from web.view_cache import cached_view

bp = Blueprint("api_evaluation", __name__)
ROLES = (access.PLANNER, access.ADMIN, access.BORDER_GUARD, access.DISTRICT)


def scheme():
    return scheme_from_config(current_app.config)


def period_arg(query: dict, name: str, default=None):
    raw = (query.get(name) or "").strip()
    if not raw:
        if default is None:
            raise GeoInputError(message("api.evaluation.period_required", name=name))
        return default
    return parse_period(raw[:40], scheme=scheme())


def district_arg(query: dict):
    """A district of the set in force (its former district in a set without districts), or None."""
    raw = query.get("district")
    if raw and ev.district_communes(db_session(), raw).empty:
        raise GeoInputError(message("api.evaluation.unknown_district", district=repr(raw[:20])))
    return raw or None


def cache_key(kind: str, *parts):
    from store.meta import data_version

    session = db_session()
    return ("evaluation", kind, str(session.get_bind().url),
            data_version(session, "incidents", "boundaries", "key_areas"), bool(current_user.sensitive_clearance),
            *parts)


def accuracy_result(train, test, method, category, district, cell_size):
    key = cache_key("accuracy", train.code, test.code, method, category, district, cell_size, scheme())
    return cached_view(key, lambda: ev.hotspot_accuracy(db_session(), current_user, train, test, method=method,
                                                        categories=selection_codes(category),
                                                        district_code=district, cell_size=cell_size))


def default_quarters():
    pair = ev.last_complete_quarters(db_session(), scheme())
    if pair is None:
        raise GeoInputError(message("api.evaluation.two_quarters_needed"))
    return pair


@bp.route("/api/hotspot-accuracy")
@allow(*ROLES)
@with_query(HotspotAccuracyQuery)
def hotspot_accuracy(query):
    """How well the hot spots of ``train`` caught the incidents of ``test``: hit rate, PAI, PEI, RRI."""
    method = query.get("method", "gistar")
    if "train" in query or "test" in query:
        train, test = period_arg(query, "train"), period_arg(query, "test")
    else:
        train, test = default_quarters()
    category = query.get("category", "")
    district = district_arg(query)
    cell_size = query.get("cell_size", ev.DEFAULT_CELL_SIZE_M)
    return jsonify(accuracy_result(train, test, method, category, district, cell_size))


def displacement_result(area, buffer_m, control, span_days, category):
    key = cache_key("displacement", area.id, area.version, buffer_m, control, span_days, category)
    return cached_view(key, lambda: ev.key_area_displacement(
        db_session(), current_user, area, buffer_m=buffer_m, control_communes=list(control) if control else None,
        span_days=span_days, categories=selection_codes(category)))


@bp.route("/api/key-areas/<int:area_id>/displacement")
@allow(*ROLES)
@with_query(DisplacementQuery)
def key_area_displacement(area_id: int, query):
    """Weighted Displacement Quotient of a key area with the six counts behind it."""
    try:
        area = ka.get_key_area(db_session(), current_user, area_id)
    except ka.NotFound as e:
        return refusal(e)
    buffer_m = query.get("buffer", 500.0)
    span_days = query.get("span_days")
    control = tuple(sorted(set(query["control"].split(",")))) if query.get("control") else None
    category = query.get("category", "")
    return jsonify(displacement_result(area, buffer_m, control, span_days, category))


def near_repeat_result(period, category, district, space_bands, time_bands, permutations, seed):
    key = cache_key("near_repeats", period.code, category, district, space_bands, time_bands, permutations, seed)
    return cached_view(key, lambda: ev.near_repeats(
        db_session(), current_user, period, categories=selection_codes(category), district_code=district,
        space_bands=space_bands, time_bands=time_bands, permutations=permutations, seed=seed))


@bp.route("/api/near-repeats")
@allow(*ROLES)
@with_query(NearRepeatsQuery)
def near_repeats(query):
    """Knox table (observed, expected, ratio, p-value per distance band × time band) of a period's incidents."""
    from geo.near_repeat import parse_bands

    through = ev.data_through(db_session())
    default = parse_period(str(through.year), scheme=scheme()) if through else None
    period = period_arg(query, "period", default)
    category = query.get("category", "")
    district = district_arg(query)
    space = parse_bands(query.get("space_bands", "100,200,400")[:80], "space_bands")
    time_limits = parse_bands(query.get("time_bands", "7,14,28")[:80], "time_bands")
    if len(space) > 10 or len(time_limits) > 10 or space[-1] > 10_000 or time_limits[-1] > 730:
        raise GeoInputError(message("api.evaluation.knox_bands", bands=10, distance_m=10_000, lag_days=730))
    permutations = query.get("permutations", ev.DEFAULT_PERMUTATIONS)
    seed = query.get("seed", ev.SEED)
    return jsonify(near_repeat_result(period, category, district, space, time_limits, permutations, seed))


def forecast_result(as_of, category, district, cell_size, space_bandwidth, time_bandwidth, share):
    key = cache_key("forecast", as_of, category, district, cell_size, space_bandwidth, time_bandwidth, share)
    return cached_view(key, lambda: ev.forecast(
        db_session(), current_user, as_of=as_of, categories=selection_codes(category), district_code=district,
        cell_size=cell_size, space_bandwidth_m=space_bandwidth, time_bandwidth_days=time_bandwidth, share=share))


@bp.route("/api/forecast")
@allow(*ROLES)
@with_query(ForecastQuery)
def forecast(query):
    """Prospective hot spots for the month after ``as_of``: GeoJSON of the flagged cells, with measured accuracy."""
    as_of = query.get("as_of")
    category = query.get("category", "")
    district = district_arg(query)
    cell_size = query.get("cell_size", ev.FORECAST_CELL_SIZE_M)
    space_bandwidth = query.get("space_bandwidth")
    time_bandwidth = query.get("time_bandwidth")
    share = query.get("share", ev.TOP_SHARE)
    result = forecast_result(as_of, category, district, cell_size, space_bandwidth, time_bandwidth, share)
    response = jsonify(ev.forecast_features(result))
    response.mimetype = "application/geo+json"
    return response
