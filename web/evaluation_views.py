"""Page sections of the hot spot evaluations: "Quý trước đã đúng đến đâu?" and near repeats and next month's
forecast on the hot spot page, displacement on a key area's page, next month's patrol ranking on the corridor.

The numbers come from :mod:`store.evaluation` through the JSON API's cached functions (:mod:`web.api_evaluation`),
so a page and ``/api/...`` never disagree; this module only words and formats them. A section that cannot be
computed (too few incidents, no decision date) says why instead of failing the page.
"""
from __future__ import annotations

from flask_login import current_user

from geo.errors import GeoInputError
from store import evaluation as ev
from geo.corridor_geometry import segment_label
from web.i18n import current_language, error_text, pick, t


def _num(value, decimals=2):
    from layers.text import format_number

    return format_number(value, current_language(), decimals)


def _pct(value):
    return "–" if value is None else f"{_num(value * 100, 1)}%"


def _reason(error: GeoInputError) -> str:
    return t("eval.not_computed", reason=error_text(error))


def accuracy_section(category: str, district: str | None) -> dict:
    """The accuracy table of the four methods on the last two complete quarters (page filters' category/district)."""
    from web.api_evaluation import accuracy_result, default_quarters

    try:
        train, test = default_quarters()
    except GeoInputError:
        return {"available": False, "message": t("eval.no_quarters")}
    rows, withheld = [], 0
    for method in ev.ACCURACY_METHODS:
        label = pick(ev.METHOD_LABELS[method])
        try:
            r = accuracy_result(train, test, method, category, district, ev.DEFAULT_CELL_SIZE_M)
        except GeoInputError as e:
            rows.append({"method": method, "label": label, "error": _reason(e)})
            continue
        withheld = max(withheld, r["n_withheld"])
        rows.append({"method": method, "label": label, "hit_rate": _pct(r["hit_rate"]),
                     "area_share": _pct(r["area_share"]), "pai": _num(r["pai"]), "pei": _num(r["pei"]),
                     "rri": _num(r["rri"]), "caught": f"{r['n']} / {r['N']}"})
    return {"available": True, "rows": rows, "withheld": withheld,
            "note": t("eval.accuracy_note", train=_period_text(train), test=_period_text(test),
                      cell=_num(ev.DEFAULT_CELL_SIZE_M, 0)),
            "api": {"train": train.code, "test": test.code}}


def _period_text(period) -> str:
    if current_language() == "en":
        return f"{period.label_en} ({period.dates_en()})"
    return f"{period.label_vi} ({period.dates_vi()})"


def _near_selections(category: str) -> list[str]:
    if category and category not in ev.NEAR_REPEAT_SELECTIONS:
        return [category]
    return [category] if category else list(ev.NEAR_REPEAT_SELECTIONS)


def near_repeat_section(category: str, district: str | None) -> dict:
    """Knox tables (thefts, robberies, drug cases, or the page's category) of the latest year of data."""
    from geo.periods import range_period
    from web.api_evaluation import near_repeat_result

    through = ev.data_through(_session())
    if through is None:
        return {"available": False, "tables": []}
    from datetime import timedelta

    period = range_period(through - timedelta(days=364), through)
    tables = []
    for selection in _near_selections(category):
        result = near_repeat_result(period, selection, district, ev.DEFAULT_SPACE_BANDS, ev.DEFAULT_TIME_BANDS,
                                    ev.DEFAULT_PERMUTATIONS, ev.SEED)
        tables.append(_knox_table(selection, result))
    return {"available": True, "tables": tables,
            "note": t("eval.near_note", perm=_num(ev.DEFAULT_PERMUTATIONS, 0),
                      period=pick((period.label_vi, period.label_en)))}


def _knox_table(selection: str, result: dict) -> dict:
    from geo.taxonomy import selection_label

    title = selection_label(selection, current_language()) if selection else t("hotspots.all_categories")
    rows = result["rows"]
    if not rows:
        return {"title": title, "rows": [], "columns": [], "note": result.get("note", ""),
                "withheld": result["n_withheld"]}
    time_cols = []
    for r in rows:
        key = (r["time_from"], r["time_to"])
        if key not in time_cols:
            time_cols.append(key)
    columns = [t("eval.days", a=a, b=b) if b is not None else t("eval.days_open", a=a) for a, b in time_cols]
    grid = []
    for r in rows:
        if not grid or grid[-1]["key"] != (r["space_from"], r["space_to"]):
            a, b = r["space_from"], r["space_to"]
            grid.append({"key": (a, b), "label": f"{a}–{b}" if b is not None else t("eval.metres_open", a=a),
                         "cells": []})
        # The open "beyond" bands mirror the close cells (fixed margins): they are not near repeats.
        closed = r["space_to"] is not None and r["time_to"] is not None
        significant = closed and r["p_value"] <= 0.05 and (r["ratio"] or 0) > 1
        grid[-1]["cells"].append({"observed": r["observed"], "ratio": _num(r["ratio"]), "p": _num(r["p_value"], 3),
                                  "significant": significant})
    extent = result.get("extent")
    return {"title": title, "columns": columns, "rows": grid, "withheld": result["n_withheld"],
            "pairs": t("eval.pairs", n=_num(result["n_events"], 0), pairs=_num(result["n_pairs"], 0)),
            "extent": t("eval.extent", m=extent["metres"], d=extent["days"]) if extent else t("eval.no_extent")}


def forecast_result(category: str, district: str | None) -> dict | None:
    from web.api_evaluation import forecast_result as cached_forecast

    try:
        return cached_forecast(None, category, district, ev.FORECAST_CELL_SIZE_M, None, None, ev.TOP_SHARE)
    except GeoInputError:
        return None


def forecast_section(result: dict | None) -> dict:
    if result is None:
        return {"available": False}
    source = {"near_repeat": "eval.bandwidth_near_repeat", "chosen": "eval.bandwidth_chosen"}.get(
        result["bandwidth_source"], "eval.bandwidth_default")
    backtest = result["backtest"]
    measured = ""
    if backtest.get("pai") is not None or backtest.get("hit_rate") is not None:
        measured = t("eval.measured", as_of=_day(backtest["as_of"]), hit=_pct(backtest.get("hit_rate")),
                     share=_pct(backtest.get("area_share")), pai=_num(backtest.get("pai")))
    return {"available": True, "label": t("eval.forecast_label"),
            "note": t("eval.forecast_note", start=_day(result["horizon"]["start"]), end=_day(result["horizon"]["end"]),
                      days=_num(result["time_bandwidth_days"], 0), metres=_num(result["space_bandwidth_m"], 0),
                      share=_pct(result["share"]), cells=_num(result["n_flagged"], 0),
                      cell=_num(result["cell_size_m"], 0)),
            "source": t(source), "measured": measured, "withheld": result["n_withheld"]}


def _day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def displacement_section(area) -> dict:
    """The WDQ block of a key area's page (default buffer, control and spans)."""
    from web.api_evaluation import displacement_result

    try:
        r = displacement_result(area, 500.0, None, None, "")
    except GeoInputError as e:
        return {"available": False, "message": _reason(e)}
    control = t(f"eval.control_{r['control']['kind']}")
    reading = r["reading_en"] if current_language() == "en" else r["reading_vi"]
    return {"available": True, "wdq": _num(r["wdq"]) if r["wdq"] is not None else None, "reading": reading,
            "reading_code": r["reading"], "counts": r, "exceeds": r["displacement_exceeds_gain"],
            "decision_date": r["decision_date"], "withheld": r["n_withheld"],
            "note": t("eval.displacement_note", buffer=_num(r["buffer_m"], 0), control=control,
                      days=_num(r["span_days"], 0), date=_day(r["decision_date"]))}


def patrol_section(geometry) -> dict:
    """Next month's patrol ranking of the corridor segments (forecast of the border-corridor categories)."""
    from store.meta import data_version
    from web import db_session
    from web.view_cache import cached_view

    session = db_session()
    key = ("evaluation", "patrol", str(session.get_bind().url),
           data_version(session, "incidents", "boundaries"), geometry.key, bool(current_user.sensitive_clearance))
    try:
        result = cached_view(key, lambda: ev.corridor_patrol_ranking(session, current_user, geometry))
    except GeoInputError as e:
        return {"available": False, "message": _reason(e)}
    backtest = result["backtest"]
    rows = [{"rank": r["rank"], "label": segment_label(r["segment_id"], r["from_km"], r["to_km"], current_language()),
             "risk_per_km": _num(r["risk_per_km"])}
            for r in result["segments"]]
    return {"available": True, "rows": rows, "withheld": result["n_withheld"],
            "note": t("eval.patrol_note", start=_day(result["horizon"]["start"]), end=_day(result["horizon"]["end"]),
                      km=_num(geometry.segment_length_m / 1000.0, 1 if geometry.segment_length_m % 1000 else 0),
                      pai=_num(backtest.get("pai")))}


def _session():
    from web import db_session

    return db_session()


__all__ = ["accuracy_section", "displacement_section", "forecast_result", "forecast_section", "near_repeat_section",
           "patrol_section"]
