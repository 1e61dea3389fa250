"""Illustrative tracker records for ``flask seed-demo``: key areas and commune drug statuses.

Not real data: every record is flagged ``is_demo`` and named "(minh họa)". Each district gets one or two
areas selected in 2023 and in 2024, spread over every lifecycle stage (selected, converting, achieved,
not achieved, relapsed) plus a few pending district proposals; every commune gets a drug status for
2023–2025 (2025 classified under QĐ 28/2025/QĐ-TTg, earlier years under QĐ 3122/2010/QĐ-BCA).
All writes go through the same store functions as users' edits, so they are audited like any change.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import shapely
from sqlalchemy import select

from geo.crs import METRIC_CRS, WGS84
from store import drug_status as ds
from store import key_areas as ka

DEMO_SUFFIX = " (minh họa)"
SEED_USER = "seed-demo"
YEARS = (2023, 2024)
DRUG_YEARS = (2023, 2024, 2025)
# Stage cycle so that every district-year mix still covers all five stages across the province.
STAGES = (ka.ACHIEVED, ka.CONVERTING, ka.RELAPSED, ka.NOT_ACHIEVED, ka.SELECTED, ka.ACHIEVED, ka.ACHIEVED)
PATHS = {
    ka.SELECTED: (),
    ka.CONVERTING: (ka.CONVERTING,),
    ka.ACHIEVED: (ka.CONVERTING, ka.ACHIEVED),
    ka.NOT_ACHIEVED: (ka.CONVERTING, ka.NOT_ACHIEVED),
    ka.RELAPSED: (ka.CONVERTING, ka.ACHIEVED, ka.RELAPSED),
}
PLACES = (("hamlet", "Ấp {n}"), ("market", "Chợ {name}"), ("wharf", "Bến đò {name}"), ("route", "Tuyến đường {name}"))
TYPE_SETS = (["drugs", "theft"], ["gambling", "loan_sharking"], ["drugs"], ["theft", "gangs"],
             ["drugs", "gambling", "public_disorder"], ["loan_sharking"], ["smuggling", "drugs"])


def _part_of(commune_geometry, rng, radius_m: float):
    """A small polygon around a point inside the commune (a hamlet, market or wharf), clipped to it."""
    import geopandas as gpd

    metric = gpd.GeoSeries([commune_geometry], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    point = metric.representative_point()
    shape = point.buffer(radius_m * (0.7 + 0.6 * rng.random()), quad_segs=6).intersection(metric)
    if shape.geom_type == "GeometryCollection" or shape.is_empty:
        shape = point.buffer(radius_m / 2, quad_segs=6)
    return gpd.GeoSeries([shape], crs=METRIC_CRS).to_crs(WGS84).iloc[0]


def _units(communes, rng):
    """(unit code, communes of the unit, local actor) per local committee of the set: districts where the set
    has them, else one commune in three (the communes with a key area that year)."""
    if communes.attrs.get("has_districts", True):
        for district_code, part in communes.groupby("district_code", sort=True):
            yield district_code, part, SimpleNamespace(username=f"{SEED_USER}-{district_code}", role="district",
                                                       district_code=district_code, commune_code=None)
        return
    set_id = communes.attrs.get("set_id")
    for index in sorted(rng.choice(len(communes), size=max(1, len(communes) // 3), replace=False)):
        part = communes.iloc[[int(index)]]
        code = str(part["commune_code"].iloc[0])
        yield code, part, SimpleNamespace(username=f"{SEED_USER}-{code}", role="commune", district_code=None,
                                          commune_code=code, commune_set_id=set_id)


def seed_key_areas(session, communes, rng, years=YEARS, stage_index: int = 0) -> int:
    planner = SimpleNamespace(username=SEED_USER, role="planner", district_code=None)
    created = 0
    for year in years:
        decision = f"{100 + year % 100}/QĐ-BCĐ138 (minh họa)"
        decided = date(year, 3, 15)
        for unit_code, part, local_actor in _units(communes, rng):
            count = 1 + int(rng.random() < 0.5) if len(part) > 1 else 1
            picks = rng.choice(len(part), size=count, replace=False)
            for n, index in enumerate(picks):
                commune = part.iloc[int(index)]
                district_code = commune.district_code
                stage = STAGES[stage_index % len(STAGES)]
                stage_index += 1
                types = TYPE_SETS[(stage_index + n) % len(TYPE_SETS)]
                if n == 0 and stage_index % 3 == 0:
                    kind, name, geometry = "commune", f"{commune.commune_name}{DEMO_SUFFIX}", None
                else:
                    kind, pattern = PLACES[(stage_index + n) % len(PLACES)]
                    name = pattern.format(n=int(rng.integers(1, 9)), name=commune.commune_name) + DEMO_SUFFIX
                    geometry = _part_of(commune.geometry, rng, 450 if kind != "route" else 700)
                area = ka.create_key_area(
                    session, planner, name=name, kind=kind, district_code=district_code, year_selected=year,
                    complexity_types=types, decision_number=decision, decision_date=decided,
                    commune_code=commune.commune_code,
                    geometry=geometry, geometry_source="drawn" if geometry is not None else "commune",
                    notes="Địa bàn minh họa do seed-demo tạo.", is_demo=True, communes=communes)
                dates = (date(year, 4, 1), date(year, 12, 10), date(year + 1, 6, 20))
                for to_status, when in [(t, w) for t, w in zip(PATHS[stage], dates) if w <= date.today()]:
                    ka.transition_key_area(session, planner, area.id, expected_version=area.version,
                                           to_status=to_status, event_date=when,
                                           reason="Kết quả đánh giá (minh họa).",
                                           document_number=f"{int(rng.integers(10, 999))}/BC-BCĐ138 (minh họa)")
                # Some areas carry a district proposal still waiting for the province.
                if stage in (ka.CONVERTING, ka.SELECTED) and year == years[-1]:
                    to_status = ka.allowed_transitions(area.status)[0]
                    ka.propose_transition(session, local_actor, area.id, expected_version=area.version,
                                          to_status=to_status, event_date=min(date(year, 11, 30), date.today()),
                                          reason="Đề nghị tỉnh xem xét (minh họa).",
                                          document_number=f"{int(rng.integers(10, 999))}/TTr-BCĐ138 (minh họa)")
                created += 1
    return created


def _indicators(rng, residents: int, level: float) -> dict:
    """Indicators drawn around a commune's latent drug level (0 = none … 1 = severe)."""
    if level < 0.35:
        return {"residents": residents}
    scale = residents / 10_000
    return {
        "residents": residents,
        "addicts": int(rng.poisson(level * 25 * scale)),
        "users_with_records": int(rng.poisson(level * 15 * scale)),
        "drug_use_places": int(rng.poisson(level * 1.5)),
        "offenders_arrested": int(rng.poisson(level * 6 * scale)),
        "drug_plants": int(rng.poisson(5)) if rng.random() < 0.05 else 0,
        "drug_crop_m2": 0.0,
        "on_drug_route": bool(level > 0.8 and rng.random() < 0.5),
    }


def seed_drug_statuses(session, communes, population, rng, years=DRUG_YEARS) -> int:
    planner = SimpleNamespace(username=SEED_USER, role="planner", district_code=None)
    residents = dict(zip(population["commune_code"], population["population"])) if len(population) else {}
    written = 0
    for commune in communes.itertuples():
        level = float(rng.beta(1.2, 1.6))
        for year in years:
            level = float(np.clip(level + rng.normal(-0.04, 0.08), 0, 1))
            values = _indicators(rng, int(residents.get(commune.commune_code, 8000)), level)
            ds.record_drug_status(session, planner, commune_code=commune.commune_code, year=year, indicators=values,
                                  assessed_on=date(year, 12, 31), notes="Số liệu minh họa.", is_demo=True,
                                  communes=communes, reason="seed-demo")
            written += 1
    return written


def seed_demo_tracker(db, seed: int = 138) -> str:
    """Seed illustrative key areas and drug statuses unless demo tracker records already exist.

    Each year is recorded on the boundary set in force then: key areas of 2023–2024 (2024 set) and 2025
    (2025-01 set, selected in March) by district, of 2026 on the communes of the new province (2025-07);
    drug statuses of 2023–2024 on the 2024 communes and of 2025 (assessed 31/12/2025) on the 102 communes.
    """
    from store.boundaries import communes_frame, population_frame, set_rows

    rng = np.random.default_rng(seed)
    today = date.today()
    with db.transaction() as session:
        if session.scalar(select(ka.KeyArea.id).where(ka.KeyArea.is_demo.is_(True)).limit(1)) is not None:
            return "illustrative key areas already present; tracker demo not added"
        rows = {row.version: row for row in set_rows(session)}
        if not rows:
            return "no boundaries loaded: tracker demo not added"
        first = "2024" if "2024" in rows else next(iter(rows))
        plan = [(first, YEARS, DRUG_YEARS if len(rows) == 1 else tuple(y for y in DRUG_YEARS if y < 2025))]
        if "2025-01" in rows and today >= date(2025, 3, 15):
            plan.append(("2025-01", (2025,), ()))
        if "2025-07" in rows and today >= date(2026, 1, 1):
            plan.append(("2025-07", tuple(y for y in (2026,) if date(y, 3, 15) <= today), (2025,)))
        areas = statuses = 0
        for set_key, area_years, drug_years in plan:
            communes = communes_frame(session, set_key)
            if communes.empty:
                continue
            population = population_frame(session, boundary_set=set_key)
            areas += seed_key_areas(session, communes, rng, years=area_years, stage_index=areas)
            statuses += seed_drug_statuses(session, communes, population, rng, years=drug_years)
    return f"{areas} illustrative key areas and {statuses} commune drug statuses written (minh họa)"
