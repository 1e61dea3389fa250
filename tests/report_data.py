"""A small hand-made set of incidents for the targets, reports, exports and OGC tests (not a test module)."""
from __future__ import annotations

import pandas as pd


def seed_incidents(app) -> dict:
    """Write 14 incidents in two districts (869 Tân Hồng, 866 TP Cao Lãnh), 2023 and 2024, one confidential.

    Returns the commune codes used and the id of the confidential case.
    """
    from store.boundaries import communes_frame
    from store.incidents import upsert_incidents

    db = app.extensions["db"]
    with db.transaction() as session:
        communes = communes_frame(session)
        picked = {}
        for district in ("869", "866"):
            row = communes[communes["district_code"] == district].iloc[0]
            point = row.geometry.representative_point()
            picked[district] = (row.commune_code, point.x, point.y)
        rows = []

        def add(n, day, district, category="theft", severity="less_serious", status="cleared", sensitive=False):
            code, lon, lat = picked[district]
            for _ in range(n):
                rows.append({"id": f"T-{len(rows) + 1:03d}", "occurred_at": pd.Timestamp(day), "reported_at": None,
                             "category": category, "severity": severity, "case_status": status, "lon": lon,
                             "lat": lat, "commune_code": code, "district_code": district, "sensitive": sensitive,
                             "description": "mô tả", "article": "173"})

        add(3, "2023-01-10", "869")
        add(1, "2023-01-12", "866", status="prosecuted")
        add(2, "2024-01-10", "869")                       # 2024-Q1: 869 cleared 2 of 3
        add(1, "2024-01-11", "869", status="prosecuted")
        add(2, "2024-02-05", "866", severity="very_serious")  # grave, cleared
        add(1, "2024-06-15", "866", status="received")
        add(1, "2024-03-20", "869", category="human_trafficking", status="indicted", sensitive=True)
        add(3, "2024-07-01", "866", category="drugs", status="tried")
        frame = pd.DataFrame(rows)
        upsert_incidents(session, frame, filename="hand-made", username="tests")
    confidential = next(r["id"] for r in rows if r["sensitive"])
    return {"communes": {d: v[0] for d, v in picked.items()}, "points": picked, "confidential": confidential,
            "total": len(rows)}
