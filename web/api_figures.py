"""Every figure as JSON, for dashboards and checks: the targets, the change against a baseline year and the
border-corridor statistics, each over a period of the one period model (:mod:`geo.periods`).

Documented in docs/API.md and in the OpenAPI description (``/api/openapi.json``). Each answer honours the
viewer like the page it mirrors: a district committee gets its own district's targets (and the corridor only
when its district is on the border); confidential cases are counted in their commune and category, never
located. ``set=ID`` names the boundary set the units are expressed in (default the set in force today);
incidents recorded in another set are placed in it by their point (:func:`store.incidents.incident_frame`).
"""
from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from geo.errors import GeoInputError
from geo.periods import Period
from translations import message
from web import access, db_session
from web.access import allow
from web.api_input import with_query
from web.api_schemas import ChangeQuery, CorridorStatsQuery, TargetsQuery
from web.i18n import current_language
from web.periods import coverage, read_baseline, read_period

bp = Blueprint("api_figures", __name__)

TARGET_STATUS = {"on_track": "met", "missed": "not_met", "at_risk": "uncertain", "no_data": "no_data"}
CHANGE_ROLES = (access.PLANNER, access.ADMIN, access.BORDER_GUARD, access.DISTRICT)


def _number(value):
    """JSON has no infinity or NaN: an unbounded or undefined figure is null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def units_frame(session, set_id: str | None):
    """The communes (with their districts) of boundary set ``set_id`` (default the set in force today); an
    unknown id is a 400 naming the loaded sets."""
    from store.boundaries import communes_frame

    communes = communes_frame(session, set_id)
    if communes.empty:
        raise GeoInputError(message("store.no_boundary_set_loaded"))
    return communes


def _scope(communes, query: dict) -> tuple[str | None, str | None]:
    """``district`` or ``commune`` of the query (not both), held to the viewer's district."""
    district, commune = query.get("district"), query.get("commune")
    if district and commune:
        raise GeoInputError(message("api.figures.district_or_commune"))
    known = dict(zip(communes["commune_code"].astype(str), communes["district_code"].astype(str)))
    if commune and commune not in known:
        raise GeoInputError(message("api.figures.unknown_commune", commune=repr(commune)))
    districts = set(known.values())
    if district and district not in districts:
        raise GeoInputError(message("errors.not_one_of", name="district", value=repr(district),
                                    allowed=", ".join(sorted(districts))))
    if current_user.role == access.DISTRICT:
        own = current_user.district_code
        if (district and district != own) or (commune and known[commune] != own):
            raise GeoInputError(message("api.figures.own_district_only", district=own))
        if not district and not commune:
            district = own
    return district, commune


def _metric(result, spec) -> dict:
    interval = [_number(result.interval[0]), _number(result.interval[1])] if result.interval else None
    out = {"id": result.code, "label_vi": spec.label_vi, "label_en": spec.label_en, "kind": result.kind,
           "target": {"operator": spec.operator, "threshold": spec.threshold},
           "value": _number(result.value), "numerator": result.numerator, "denominator": result.denominator,
           "interval": interval, "status": TARGET_STATUS[result.status], "meets_target": result.meets_target,
           "note": result.note_in(current_language())}
    if result.kind == "change":
        out["baseline"] = {"year": result.baseline_year,
                           "start": result.comparison_start.isoformat() if result.comparison_start else None,
                           "end": result.comparison_end.isoformat() if result.comparison_end else None,
                           "count": result.comparison_count}
        out["span"] = {"start": result.period_start.isoformat() if result.period_start else None,
                       "end": result.period_end.isoformat() if result.period_end else None}
    return out


def _period_json(period: Period) -> dict:
    span = coverage()
    return period.cut_at(span[1] if span else None).as_dict()


@bp.route("/api/targets")
@allow(*access.EVERYONE)
@with_query(TargetsQuery)
def targets(query):
    """The plan's targets over ``period`` for the province, a district or a commune (``GET /api/targets``)."""
    from dataclasses import replace

    from geo.targets import compute_all
    from store.meta import data_version
    from store.targets import external_counts, plan_baseline, records_and_coverage, targets_for_year

    session = db_session()
    period = read_period(legacy_year=False)
    set_id = query.get("set")
    communes = units_frame(session, set_id)
    district, commune = _scope(communes, query)
    in_force = targets_for_year(session, period.reference_year)
    if in_force is None:
        raise GeoInputError(message("api.figures.no_targets", year=period.reference_year))
    viewer = current_user._get_current_object()
    records, span = records_and_coverage(session, viewer, boundary_set=set_id)
    external = {}
    if commune is None:
        province, by_district = external_counts(session, viewer, period.reference_year)
        external = province if district is None else {c: d[district] for c, d in by_district.items()
                                                      if district in d}
    else:
        records = records[records["commune_code"].astype(str) == commune]
    results = compute_all(in_force.target_set, records, period, district_code=district, external=external,
                          coverage=span, baseline_year=plan_baseline(in_force, period))
    if commune is not None:
        results = [r if in_force.target_set.spec(r.code).source == "records" else
                   replace(r, notes=(message("targets.note.not_by_commune"),)) for r in results]
    specs = {s.code: s for s in in_force.target_set.specs}
    return jsonify({
        "period": _period_json(period), "scope": {"district": district, "commune": commune,
                                                  "set": str(communes.attrs.get("version", ""))},
        "targets_year": in_force.target_set.year, "borrowed": in_force.borrowed,
        "baseline_year": plan_baseline(in_force, period), "data_version": data_version(session),
        "metrics": [_metric(r, specs[r.code]) for r in results],
    })


def _change_rows(frame, names: dict) -> list[dict]:
    return [{"code": str(r.unit), "name": names.get(str(r.unit), str(r.unit)), "count": int(r.count),
             "baseline_count": int(r.baseline_count), "change": _number(r.change),
             "interval": [_number(r.low), _number(r.high)] if r.count + r.baseline_count else None,
             "status": r.status} for r in frame.itertuples()]


@bp.route("/api/change")
@allow(*CHANGE_ROLES)
@with_query(ChangeQuery)
def change(query):
    """Counts of a period against the same calendar span of a baseline year, per commune, per district and
    for the province or district in view (``GET /api/change``), as the change tables of ``/hotspots``."""
    from geo.change import change_by_unit
    from geo.periods import PeriodNotCovered, like_for_like
    from geo.taxonomy import selection_codes
    from store.incidents import incident_frame
    from store.meta import data_version

    session = db_session()
    period = read_period(legacy_year=False)
    baseline_year = read_baseline(period)
    category = query.get("category", "")
    set_id = query.get("set")
    communes = units_frame(session, set_id)
    district = query.get("district")
    if district and district not in set(communes["district_code"].astype(str)):
        raise GeoInputError(message("api.figures.unknown_district", district=repr(district)))
    span = coverage()
    try:
        pair = like_for_like(period, baseline_year, data_through=span[1] if span else None,
                             data_from=span[0] if span else None)
    except PeriodNotCovered:
        pair = like_for_like(period, baseline_year)
    viewer = current_user._get_current_object()
    codes = selection_codes(category) if category else None

    def units_of(p: Period):
        frame = incident_frame(session, start=p.start_at, end=p.end_before, categories=codes,
                               district_code=district, viewer=viewer, boundary_set=set_id)
        return frame["commune_code"].astype(str).to_numpy()

    view = communes[communes["district_code"].astype(str) == district] if district else communes
    from web.boundary_view import without_baseline

    unreached = without_baseline(session, str(communes.attrs.get("version", "")), pair.baseline, view)
    result = change_by_unit(view, units_of(pair.span), units_of(pair.baseline),
                            without_baseline=[c["code"] for c in unreached["communes"]])
    commune_names = dict(zip(view["commune_code"].astype(str), view["commune_name"]))
    district_names = dict(zip(view["district_code"].astype(str), view["district_name"]))
    total = result["total"]
    return jsonify({
        "period": _period_json(period), "span": pair.span.as_dict(), "baseline_span": pair.baseline.as_dict(),
        "baseline_year": pair.baseline_year, "category": category or None, "district": district,
        "set": str(communes.attrs.get("version", "")), "note": pair.note_en, "data_version": data_version(session),
        "target_reduction": 0.05,
        "province" if not district else "total": {
            "count": int(total["count"]), "baseline_count": int(total["baseline_count"]),
            "change": _number(total["change"]),
            "interval": [_number(total["low"]), _number(total["high"])] if total["count"] + total["baseline_count"]
            else None, "status": total["status"]},
        "districts": _change_rows(result["groups"], district_names),
        "communes": _change_rows(result["units"], commune_names),
        "without_baseline": unreached,
    })


@bp.route("/api/corridor-stats")
@allow(*CHANGE_ROLES)
@with_query(CorridorStatsQuery, pass_to_view=False)
def corridor_stats():
    """The statistics table of ``/corridor`` (``GET /api/corridor-stats``), same parameters and visibility."""
    from flask import abort

    from store.corridor import corridor_analysis, corridor_geometry
    from store.gates import ensure_seeded
    from store.meta import data_version
    from web.corridor import read_filters

    session = db_session()
    filters = read_filters([])
    ensure_seeded(current_app.extensions["db"], current_app.config["DATA_DIR"])
    geometry = corridor_geometry(session, current_app.config["DATA_DIR"], edges_m=filters.edges_m,
                                 segment_length_m=filters.segment_km * 1000.0)
    if current_user.role == access.DISTRICT and current_user.district_code not in geometry.border_district_codes:
        abort(403)
    baseline_year = read_baseline(filters.period)
    result = corridor_analysis(session, geometry, period=filters.period, categories=filters.categories,
                               viewer=current_user._get_current_object(), baseline_year=baseline_year)
    rows = []
    for record in result.statistics.to_dict("records"):
        rows.append({key: (_number(value) if isinstance(value, float) else
                           int(value) if hasattr(value, "item") and not isinstance(value, str) else value)
                     for key, value in record.items() if key not in ("period", "previous_period", "year")})
    return jsonify({
        "period": _period_json(filters.period), "span": result.span.as_dict(), "baseline_span": result.baseline.as_dict(),
        "baseline_year": baseline_year, "categories": result.categories, "bands_km": filters.bands,
        "segment_km": filters.segment_km, "withheld": result.withheld_count,
        "withheld_note": "Confidential cases are counted in the total, category and month rows and in the "
                         "withheld_* rows; bands, segments and gates count located cases only.",
        "data_version": data_version(session), "rows": rows,
    })
