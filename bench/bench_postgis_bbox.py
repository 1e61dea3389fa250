"""Bounding-box reads of incidents on PostgreSQL: the PostGIS GiST index against a lon/lat range scan.

Fills a fresh database (migrated to head, so ``incidents.geom`` and its index exist) with ``--n`` synthetic
incidents over Đồng Tháp via COPY, then times ``--queries`` random commune-sized boxes both ways in one
process and checks they return the same ids.

    .venv/bin/python bench/bench_postgis_bbox.py [--n 1000000] [--queries 200]

Needs a PostgreSQL server with PostGIS: scripts/start-postgres.sh starts one and prints its URL.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)

    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from store.db import Database

    url = os.environ.get("BANDO_TEST_DATABASE_URL") or subprocess.run(
        [str(ROOT / "scripts" / "start-postgres.sh")], capture_output=True, text=True, check=True).stdout.strip()
    name = f"bando_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    bench_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        db = Database(bench_url)
        db.upgrade()
        db.dispose()
        libpq = make_url(bench_url).set(drivername="postgresql").render_as_string(hide_password=False)
        rng = random.Random(138)
        with psycopg.connect(libpq) as conn:
            conn.execute("INSERT INTO import_batches (id, filename, username, started_at, rows, written, refused, "
                         "is_demo) VALUES (1, 'bench', '', now(), 0, 0, 0, false)")
            start = time.perf_counter()
            with conn.cursor().copy("COPY incidents (id, occurred_at, category, severity, case_status, lon, lat, "
                                    "commune_code, district_code, sensitive, description, article, clause, "
                                    "is_demo, import_batch_id, updated_at) FROM STDIN") as copy:
                for i in range(args.n):
                    copy.write_row((f"B-{i:08d}", "2024-06-01", "theft", "less_serious", "received",
                                    rng.uniform(105.19, 105.94), rng.uniform(10.14, 10.97), "29863", "866",
                                    False, "", "", "", False, 1, "2024-06-01"))
            conn.commit()
            conn.execute("ANALYZE incidents")
            load = time.perf_counter() - start
            boxes = []
            for _ in range(args.queries):
                x, y = rng.uniform(105.2, 105.9), rng.uniform(10.15, 10.95)
                boxes.append((x, y, x + 0.03, y + 0.03))  # about 3 km, a commune
            indexed, scanned = [], []
            for box in boxes:
                t = time.perf_counter()
                a = conn.execute("SELECT id FROM incidents "
                                 "WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", box).fetchall()
                indexed.append(time.perf_counter() - t)
                t = time.perf_counter()
                b = conn.execute("SELECT id FROM incidents WHERE lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s",
                                 (box[0], box[2], box[1], box[3])).fetchall()
                scanned.append(time.perf_counter() - t)
                assert sorted(a) == sorted(b), "index and scan disagree"
            plan = "\n".join(r[0] for r in conn.execute(
                "EXPLAIN SELECT id FROM incidents "
                "WHERE ST_Intersects(geom, ST_MakeEnvelope(105.5, 10.5, 105.53, 10.53, 4326))"))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()
    print(f"{args.n:,} incidents loaded by COPY in {load:.1f} s (trigger fills geom); {args.queries} boxes of ~3 km")
    print(f"{'query':<42} {'median ms':>10} {'p95 ms':>8}")
    for label, values in (("PostGIS ST_Intersects(geom, box) (GiST)", indexed),
                          ("lon/lat BETWEEN (no spatial index)", scanned)):
        ordered = sorted(values)
        print(f"{label:<42} {statistics.median(values) * 1000:>10.2f} "
              f"{ordered[int(0.95 * (len(ordered) - 1))] * 1000:>8.2f}")
    print(f"ratio scan/index: {statistics.median(scanned) / statistics.median(indexed):.1f}x; same ids for every box")
    print("plan uses ix_incidents_geom:", "ix_incidents_geom" in plan)


if __name__ == "__main__":
    main()
