"""Benchmark: fine grids on the /hotspots page — server time of the page and its map script, and the script's size.

A fresh SQLite database gets the real boundaries and the demo data (``seed-demo``); a planner opens
``/hotspots`` for the demo's busiest year with, in turn, LISA on 250 m hexagons, kernel density on 250 m
squares and Gi* on a 250 m square grid (the analysis runs on the first request, as it does for a planner
choosing those filters), then fetches the map script. Each case runs on a new database version (the run
and page caches are emptied between cases), ``--runs`` times; medians are reported with the targets:
under 2 s on the server, map script under 2 MB, and the page saying when it draws a subset.

Server time is given twice: wall time, and the CPU time of the process while it answers the two requests
(``time.process_time`` around the test client's calls: the handler runs in this process, so on a machine
shared with other work the CPU seconds are what the request costs, where wall time also counts the
waiting). The first run of each case is also shown alone: it clips the case's grid (kept per boundary
version afterwards) and, for the first case, warms the process.

    .venv/bin/python bench/bench_hotspot_page.py [--runs 3]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "LISA 250 m hexagons": {"stat": "lisa", "units": "hex", "cell_size": "250"},
    "KDE 250 m": {"stat": "kde", "units": "square", "cell_size": "250"},
    "Gi* 250 m squares": {"stat": "gistar", "units": "square", "cell_size": "250"},
}
PASSWORD = "mat-khau-ban-do-138"


def prepare(folder: Path):
    from server import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/page.sqlite3", "SECRET_KEY": "bench"})
    runner = app.test_cli_runner()
    for args in (["init-db"], ["load-boundaries"], ["seed-demo"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            sys.exit(f"{' '.join(args)} failed:\n{result.output}")
    result = runner.invoke(args=["create-user", "doc", "--role", "planner"], input=PASSWORD + "\n")
    if result.exit_code != 0:
        sys.exit(f"create-user failed:\n{result.output}")
    return app


def busiest_year(app) -> int:
    from sqlalchemy import text

    with app.extensions["db"].transaction() as session:
        rows = session.execute(text("SELECT substr(occurred_at, 1, 4) AS y, count(*) FROM incidents GROUP BY y "
                                    "ORDER BY count(*) DESC LIMIT 1")).all()
    return int(rows[0][0])


def forget_results(app) -> None:
    """A new data version: the stored runs and the rendered pages are computed again, as after an import."""
    from store.meta import bump_data_version

    with app.extensions["db"].transaction() as session:
        bump_data_version(session, "incidents")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        app = prepare(Path(folder))
        year = busiest_year(app)
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": "doc", "password": PASSWORD,
                                               "csrf_token": token.group(1) if token else ""})
        if response.status_code != 302:
            sys.exit(f"sign-in failed: {response.status_code}")
        print(f"demo data, busiest year {year}; medians of {args.runs} runs, each on a new data version; "
              f"s = seconds, page + script\n")
        print(f"{'case':<22} {'wall s':>7} {'CPU s':>6} {'1st CPU':>8} {'script MiB':>11} {'units':>8} {'drawn':>6}"
              f"  note beside the map")
        for label, query in CASES.items():
            query = {**query, "year": str(year)}
            walls, cpus, sizes = [], [], []
            note, units, drawn = "", "", ""
            for _ in range(args.runs):
                forget_results(app)
                start, cpu_start = time.perf_counter(), time.process_time()
                page = client.get("/hotspots", query_string=query)
                if page.status_code != 200:
                    sys.exit(f"{label}: /hotspots answered {page.status_code}")
                script = client.get("/hotspots/map.js", query_string={**query, "lang": "vi"})
                cpus.append(time.process_time() - cpu_start)
                walls.append(time.perf_counter() - start)
                sizes.append(len(script.get_data()) / 2**20)
                html = page.get_data(as_text=True)
                if 'id="analysis-error"' in html:
                    sys.exit(f"{label}: the analysis failed: {re.search(r'analysis-error[^>]*>(.*?)</p>', html, re.S)[1]}")
                found = re.search(r'id="drawn-subset"><small>([^<]+)<', html)
                note = found.group(1) if found else "(none)"
                match = re.search(r"Số đơn vị phân tích</t[hd]>\s*<td[^>]*>([^<]+)<", html)
                units = match.group(1).strip() if match else "?"
                match = re.search(r"Đơn vị vẽ trên bản đồ</t[hd]>\s*<td[^>]*>([^<]+)<", html)
                drawn = match.group(1).strip() if match else "?"
            wall, cpu, size = (statistics.median(v) for v in (walls, cpus, sizes))
            verdict = "met" if cpu < 2 and size < 2 else "NOT met"
            print(f"{label:<22} {wall:>7.2f} {cpu:>6.2f} {cpus[0]:>8.2f} {size:>11.2f} {units:>8} {drawn:>6}  {note[:80]}")
            print(f"{'':<22} target < 2 s of server CPU and < 2 MB of script: {verdict} "
                  f"(wall {'met' if wall < 2 else 'NOT met'} at this load)")


if __name__ == "__main__":
    main()
