"""A commune's profile (``/communes/<code>?set=…``): what the maps show of one commune, in one place.

Codes are reused across the boundary sets (the 2025 reform gave old codes to new communes), so the page is
always of a commune *of a set*: ``?set=`` names it, by default the set in force at the end of the period.
It shows the monthly trend by offence group against the baseline's same months, the period against its
baseline (rate ratio with its exact interval, ``geo.change``), the commune's Gi* class among the province's
communes, the key areas on its ground with their timelines, its drug-status history and its incidents as the
viewer may see them: a local committee receives cases of its own unit only, and confidential cases are
counts for anyone not cleared (``store.incidents.redact_sensitive``, ``store.scope.own_cases``).
"""
from __future__ import annotations

import numpy as np
import shapely
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from geo import drug_rules
from geo.change import change_vs_baseline
from geo.periods import like_for_like
from geo.taxonomy import CASE_STATUSES, CATEGORIES, GROUPS, SEVERITIES
from geo.trends import monthly_counts, months_between, shift_months
from layers import palette
from layers.hotspots import gi_bin_label
from store import drug_status as ds
from store import key_areas as ka
from store.boundaries import set_rows
from store.incidents import incident_frame, incident_years
from web import access, db_session
from web.access import allow
from web.boundary_view import read_view_set
from web.i18n import current_language, pick, t
from web.periods import data_through, menu, read_baseline, read_period

bp = Blueprint("communes", __name__)

MAX_LISTED = 200  # incidents listed on the page, newest first (the count says how many there are)


def profile_url_template(set_key: str, **args) -> str:
    """``/communes/{code}?set=…`` with ``{code}`` left for the map's JavaScript to fill in."""
    from urllib.parse import urlencode

    query = urlencode({"set": set_key, **{k: v for k, v in args.items() if v}})
    return url_for("communes.profile", code="CODE").replace("CODE", "{code}") + "?" + query


def with_commune_search(m, communes, set_key: str | None = None):
    """Add the commune search (``layers.search``) to a page's map, its results linking to the profiles in
    ``set_key`` (default: the set ``communes`` is of, else the one in force today)."""
    from layers.search import add_commune_search
    from store.boundaries import communes_frame

    key = set_key or communes.attrs.get("version") or communes_frame(db_session()).attrs.get("version", "")
    add_commune_search(m, communes, profile_url=profile_url_template(key), lang=current_language())
    return m


def _province_gi_star(view, counts_by_code: dict, span) -> dict:
    """Gi* class of every commune of the view's set on the span's counts, once per data version, set, span and
    viewer scope (every commune profile of the same period reads the same analysis)."""
    from store.meta import data_version
    from web.view_cache import cached_view, viewer_scope

    session = db_session()
    key = ("commune-gi", str(session.get_bind().url), data_version(session, "incidents", "boundaries"), view.key,
           span.start, span.end, viewer_scope(current_user))
    return cached_view(key, lambda: _gi_star_by_commune(view, counts_by_code))


def _gi_star_by_commune(view, counts_by_code: dict) -> dict:
    """Each commune's Getis-Ord Gi* among the set's communes (queen contiguity) on the period's counts."""
    from geo.crs import to_metric
    from geo.errors import GeoInputError
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis

    communes = view.communes
    values = np.array([counts_by_code.get(c, 0) for c in communes["commune_code"]], dtype=float)
    try:
        result = run_hotspot_analysis(HotspotSpec(statistic="gistar", units="zones", neighbours="queen"),
                                      zones=to_metric(communes[["commune_code", "commune_name", "geometry"]]),
                                      zone_values=values)
    except GeoInputError:
        return {}
    return {str(row.commune_code): {"bin": int(row.gi_bin), "z": float(row.gi_z), "p": float(row.gi_p),
                                    "colour": palette.GI_STAR_BINS[int(row.gi_bin)]}
            for row in result.frame.itertuples()}


def _key_areas(session, outline, set_id):
    """Visible key areas whose ground overlaps the commune (any set: compared by geometry), with timelines."""
    from shapely.geometry import shape

    shapely.prepare(outline)
    out = []
    for feature in ka.area_features(session, current_user):
        geometry = shape(feature["geometry"])
        if geometry.is_empty or not outline.intersects(geometry):
            continue
        props = feature["properties"]
        out.append({**props, "events": ka.timeline(session, props["id"]),
                    "colour": palette.KEY_AREA_STATUS.get(props["status"], "#777")})
    return out


def _drug_history(session, code, set_id):
    rows = [r for r in ds.drug_status_rows(session, current_user)
            if r.commune_code == code and r.boundary_set_id == set_id]
    return sorted(rows, key=lambda r: (r.year, r.assessed_on), reverse=True)


def _trend(current, baseline, months, offset, *, with_baseline=True):
    """Chart.js data: stacked bars per offence group this period, a line of the baseline's same months."""
    lang = current_language()
    groups_of = [CATEGORIES[c].group if c in CATEGORIES else "other" for c in current["category"]]
    by_group = monthly_counts(current["occurred_at"], groups_of, months) if len(current) else {}
    base = monthly_counts(baseline["occurred_at"], ["all"] * len(baseline), shift_months(months, offset)) \
        if len(baseline) else {}
    datasets = [{"label": pick(GROUPS[g]) if g in GROUPS else g, "data": by_group[g], "type": "bar",
                 "backgroundColor": palette.CATEGORY_GROUPS.get(g, "#777777"), "stack": "period"}
                for g in GROUPS if g in by_group]
    if with_baseline:
        datasets.append({"label": t("commune.baseline_line"), "data": base.get("all", [0] * len(months)),
                         "type": "line", "borderColor": palette.TREND_BASELINE, "backgroundColor": palette.TREND_BASELINE,
                         "borderDash": [5, 4], "pointRadius": 3, "stack": "baseline"})
    labels = [f"{m:02d}/{y}" for y, m in months]
    return {"labels": labels, "datasets": datasets, "lang": lang, "y_label": t("commune.count")}


@bp.route("/communes/<code>")
@allow(*access.EVERYONE)
def profile(code):
    session = db_session()
    if not set_rows(session):
        abort(404)
    period = read_period()
    view = read_view_set(period.nominal_end or period.end)
    communes = view.communes
    match = communes[communes["commune_code"] == code]
    if not len(match):
        abort(404)
    commune = match.iloc[0]
    set_id = next(r.id for r in set_rows(session) if r.version == view.key)
    comparison = like_for_like(period, read_baseline(period), data_through=data_through())
    span, base_span = comparison.span, comparison.baseline
    viewer = current_user._get_current_object()
    province = incident_frame(session, start=span.start_at, end=span.end_before, viewer=viewer,
                              boundary_set=view.key)
    counts = province["commune_code"].value_counts().to_dict() if len(province) else {}
    current = province[province["commune_code"] == code].reset_index(drop=True) if len(province) else province
    baseline = incident_frame(session, start=base_span.start_at, end=base_span.end_before, commune_code=code,
                              viewer=viewer, boundary_set=view.key)
    from web.boundary_view import without_baseline

    # A commune no record of the baseline span can reach (old Tiền Giang before 01/07/2025) is not compared.
    unreached = without_baseline(session, view.key, base_span, communes)
    no_baseline_data = code in {c["code"] for c in unreached["communes"]}
    change = change_vs_baseline([len(baseline)], [len(current)])
    months = months_between(span.start, span.end)
    offset = comparison.baseline_year - period.reference_year
    redacted = int(current["redacted"].astype(bool).sum()) if len(current) else 0
    listed = current[~current["redacted"].astype(bool)] if len(current) else current
    own_only = access.is_local(current_user)
    if own_only and len(listed):
        from store.scope import own_cases

        listed = own_cases(session, current_user, listed)
    withheld = len(current) - redacted - len(listed)
    listed = listed.sort_values("occurred_at", ascending=False)
    cleared = int(current["case_status"].isin([c for c, s in CASE_STATUSES.items() if s.cleared]).sum()) \
        if len(current) else 0
    lang = current_language()
    return render_template(
        "communes/profile.html", commune=commune, code=code, view_set=view, period=period,
        period_menu=menu(incident_years(session), period),
        comparison=comparison, n_current=len(current), n_baseline=None if no_baseline_data else len(baseline),
        baseline_note=pick((unreached["note_vi"], unreached["note_en"])) if no_baseline_data else "",
        change={k: float(getattr(change, k)[0]) for k in ("pct_change", "rate_ratio", "ci_low", "ci_high",
                                                           "p_value")},
        cleared=cleared, gi=_province_gi_star(view, counts, span).get(code),
        trend=_trend(current, baseline, months, offset, with_baseline=not no_baseline_data),
        key_areas=_key_areas(session, commune.geometry, set_id), drug_history=_drug_history(session, code, set_id),
        incidents=listed.head(MAX_LISTED).to_dict("records"), n_listed=len(listed), redacted=redacted,
        withheld=withheld, max_listed=MAX_LISTED,
        CATEGORIES=CATEGORIES, SEVERITIES=SEVERITIES, CASE_STATUSES=CASE_STATUSES,
        STATUS_LABELS=ka.STATUS_LABELS, DRUG_LABELS=drug_rules.STATUS_LABELS, STATUS_COLORS=palette.KEY_AREA_STATUS,
        DRUG_COLOURS=palette.DRUG_STATUS, SEVERITY_COLOURS=palette.INCIDENT_SEVERITY,
        label=lambda table, c: (getattr(table[c], "label_en" if lang == "en" else "label_vi") if c in table else c),
        gi_label=lambda level: gi_bin_label(level, lang),
    )
