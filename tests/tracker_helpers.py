"""Helpers shared by the tracker tests: actors, a key area in Tân Hồng (869), table snapshots."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sqlalchemy import text

TAN_HONG = "869"
SA_RAI = "29926"  # Thị trấn Sa Rài, Tân Hồng
CAO_LANH_CITY = "866"
PHUONG_1 = "29866"  # Phường 1, TP Cao Lãnh
TRACKER_TABLES = ("key_areas", "key_area_events", "key_area_proposals", "commune_drug_status", "drug_rule_sets",
                  "users", "api_tokens", "audit_log")

PLANNER = SimpleNamespace(username="planner", role="planner", district_code=None)
ADMIN = SimpleNamespace(username="admin", role="admin", district_code=None)
GUARD = SimpleNamespace(username="guard", role="border_guard", district_code=None)
DISTRICT_869 = SimpleNamespace(username="district_869", role="district", district_code=TAN_HONG)
DISTRICT_866 = SimpleNamespace(username="district_866", role="district", district_code=CAO_LANH_CITY)


def make_area(db, *, district=TAN_HONG, commune=SA_RAI, name="Thị trấn Sa Rài", status_path=(), actor=PLANNER,
              year=2024):
    """Create an area (commune geometry) and walk it through ``status_path``; returns its id."""
    from store import key_areas as ka

    with db.transaction() as session:
        area = ka.create_key_area(session, actor, name=name, kind="commune", district_code=district,
                                  year_selected=year, complexity_types=["drugs"], decision_number="12/QĐ-BCĐ138",
                                  decision_date=date(year, 3, 1), commune_code=commune)
        for step, status in enumerate(status_path):
            ka.transition_key_area(session, actor, area.id, expected_version=area.version, to_status=status,
                                   event_date=date(year, 4 + step, 1), reason="Đánh giá", document_number=f"{step}/BC")
        return area.id


def snapshot(db) -> dict:
    """Every row of the tracker and account tables, to prove that a refused request changed nothing."""
    out = {}
    with db.engine.connect() as conn:
        for table in TRACKER_TABLES:
            out[table] = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
    return out
