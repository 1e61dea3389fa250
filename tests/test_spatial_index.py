"""Bounding-box queries: the PostGIS index where it exists, and never a leak of where a sensitive case lies."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from store.incidents import has_point_index, incident_frame, upsert_incidents
from tests.conftest import POSTGRES_URL

SA_DEC = (105.7630, 10.2960)      # Phường 1, TP Sa Đéc
TAN_HO_CO = (105.4300, 10.9350)   # Xã Tân Hộ Cơ, on the border


def _incident(identifier, point, *, sensitive=False):
    return {"id": identifier, "occurred_at": pd.Timestamp("2024-05-01"), "reported_at": pd.NaT,
            "category": "human_trafficking" if sensitive else "theft", "severity": "serious",
            "case_status": "received", "lon": point[0], "lat": point[1],
            "commune_code": "29863", "district_code": "866", "sensitive": sensitive, "description": "",
            "article": "", "clause": ""}


@pytest.fixture
def stored(db):
    rows = [_incident("IN-BOX", SA_DEC), _incident("OUT-BOX", TAN_HO_CO),
            _incident("SECRET-OUT", TAN_HO_CO, sensitive=True)]
    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame(rows), filename="bbox.csv")


SA_DEC_BOX = (105.70, 10.25, 105.80, 10.35)


def test_bbox_prefilter_keeps_points_inside_and_every_sensitive_case(db, stored):
    with db.transaction() as session:
        ids = set(incident_frame(session, bbox=SA_DEC_BOX)["id"])
    assert ids == {"IN-BOX", "SECRET-OUT"}  # the sensitive case stays whatever its position


def test_ogc_bbox_answer_does_not_depend_on_where_a_hidden_case_lies(client, login, stored):
    login("planner")  # not cleared
    url = "/ogc/collections/incidents/items?bbox=105.40,10.90,105.46,10.96&year=2024"
    ids = {f["properties"].get("id", f.get("id")) for f in client.get(url).get_json()["features"]}
    assert "OUT-BOX" in ids
    assert "SECRET-OUT" not in ids


@pytest.mark.skipif(not POSTGRES_URL, reason="PostGIS runs only in the PostgreSQL test run")
def test_postgis_index_is_kept_by_trigger_and_used(db, stored):
    with db.transaction() as session:
        assert has_point_index(session)
        missing = session.execute(text("SELECT count(*) FROM incidents WHERE geom IS NULL")).scalar()
        assert missing == 0
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in session.execute(text(
            "EXPLAIN SELECT id FROM incidents "
            "WHERE ST_Intersects(geom, ST_MakeEnvelope(105.7, 10.25, 105.8, 10.35, 4326))")))
    assert "ix_incidents_geom" in plan
