"""CPU cost of each map page under varied filters, in-process: what one request costs the server.

Builds the demo app in this process (a fresh SQLite database with the real boundaries and the demo data, as
``bench/load_test.py`` prepares it), draws ``--requests`` varied reader requests with
``bench.load_test.varied_request`` (fixed ``--seed``, so before/after runs see the same requests), runs them
through the Flask test client signed in as a province planner (a bearer token, as the load test's readers)
and prints per page: requests, CPU ms per request (median, p95, mean; ``time.process_time`` of this process)
and response size. Wall time on a shared machine is noise; CPU time is what saturates the cores under load.

    .venv/bin/python bench/page_cpu.py [--requests 300] [--seed 138] [--page /targets] [--profile OUT.prof]

``--page`` keeps only requests of that page (repeatable); ``--profile`` writes a cProfile of the timed
requests (read it with ``python -m pstats``).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.load_test import percentile, varied_request  # noqa: E402
from bench.measure import data_dir  # noqa: E402


def demo_app(folder: Path):
    """The app on a fresh SQLite database holding the real boundaries and the demo data; (app, planner token)."""
    os.environ.setdefault("BANDO_CLI_LANGUAGE", "en")
    from server import create_app

    app = create_app({"SECRET_KEY": "page-cpu", "DATABASE_URL": f"sqlite:///{folder}/page_cpu.sqlite3",
                      "DATA_DIR": str(data_dir()), "BASEMAP_PMTILES": "", "LOG_LEVEL": "WARNING"})
    runner = app.test_cli_runner()
    for args, stdin in ((["init-db"], None), (["load-boundaries"], None), (["seed-demo"], None),
                        (["create-user", "doc", "--role", "planner"], "mat-khau-doc-ban-do\n"),
                        (["create-token", "doc"], None)):
        result = runner.invoke(args=args, input=stdin)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(args)} failed: {result.output}{result.exception!r}")
    return app, result.stdout.strip().splitlines()[-1]


def districts_of(client, headers) -> list[str]:
    features = client.get("/api/communes", headers=headers).get_json()["features"]
    return sorted({f["properties"]["district_code"] for f in features if f["properties"].get("district_code")})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="varied requests drawn (over all pages)")
    parser.add_argument("--seed", type=int, default=138)
    parser.add_argument("--page", action="append", help="only this page (e.g. /targets); repeatable")
    parser.add_argument("--profile", help="write a cProfile of the timed requests to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        app, token = demo_app(Path(folder))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        rng = random.Random(args.seed)
        districts = districts_of(client, headers)
        requests = [varied_request(rng, districts) for _ in range(args.requests)]
        if args.page:
            requests = [(label, path) for label, path in requests if label in args.page]
        # Warm-up as the load test does: one plain request per page, so first-render costs are not counted.
        for label in sorted({label for label, _ in requests}):
            client.get(label, headers=headers)
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        cpu_ms: dict[str, list[float]] = defaultdict(list)
        sizes: dict[str, list[int]] = defaultdict(list)
        failures = []
        for label, path in requests:
            if profiler:
                profiler.enable()
            start = time.process_time()
            response = client.get(path, headers=headers)
            body = response.get_data()
            spent = time.process_time() - start
            if profiler:
                profiler.disable()
            cpu_ms[label].append(spent * 1000)
            sizes[label].append(len(body))
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code} {path}")
        if profiler:
            profiler.dump_stats(args.profile)
        app.extensions["db"].dispose()

    print(f"{len(requests)} varied requests (seed {args.seed}), in-process test client, CPU of this process")
    print(f"{'page':<20} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'mean ms':>8} {'median KiB':>11} {'max KiB':>8}")
    everything = []
    for label in sorted(cpu_ms):
        values = cpu_ms[label]
        everything += values
        print(f"{label:<20} {len(values):>5} {statistics.median(values):>10.1f} {percentile(values, 95):>8.1f} "
              f"{statistics.fmean(values):>8.1f} {statistics.median(sizes[label]) / 1024:>11.1f} "
              f"{max(sizes[label]) / 1024:>8.1f}")
    if everything:
        print(f"{'all':<20} {len(everything):>5} {statistics.median(everything):>10.1f} "
              f"{percentile(everything, 95):>8.1f} {statistics.fmean(everything):>8.1f}")
    for failure in failures[:10]:
        print("  failed:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
