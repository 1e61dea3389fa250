"""Bounded load test on loopback: readers open map pages while district committees write drug statuses.

Starts the production server (``flask serve``: gunicorn, or ``--server waitress``) on 127.0.0.1 with a fresh database holding the real
boundaries and the demo data, then runs ``--readers`` users who open map pages and ``--writers`` district users
who record commune drug statuses through the JSON API, for ``--seconds``. Every request loop is bounded by
the duration and stops by itself. Prints throughput, p50/p95/p99 latency per page and errors, and checks the
target: no errors and p95 of map pages under 1 s.

``--varied`` defeats the page caches: each reader request picks its own filters (period of any kind over
2023–2026, category, district, boundary set, measure; hot spot statistic, grid and cell size; corridor
category; target period), so most requests are a combination no earlier request computed, and results are
reported per page whatever the filters. The target is then also p99 under 2 s.

    .venv/bin/python bench/load_test.py [--seconds 60] [--readers 50] [--writers 10] [--think 1.0]
                                        [--server gunicorn|waitress] [--workers N] [--threads N] [--varied]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import flask, free_port  # noqa: E402
MAP_PAGES = ["/", "/map/overview.js?year=2024", "/?year=2023&measure=rate", "/key-areas", "/drug-status",
             "/hotspots", "/corridor", "/targets"]
API_READS = ["/api/communes", "/api/key-areas?year=2024"]
YEARS = (2023, 2024, 2025, 2026)
CATEGORIES = ("", "theft", "drugs", "fraud", "gambling", "assault", "smuggling", "social_order", "border_corridor")
CORRIDOR_CATEGORIES = ("", "smuggling", "drugs", "illegal_border_crossing", "human_trafficking")
VARIED_PAGES = ("/", "/map/overview.js", "/hotspots", "/corridor", "/targets", "/key-areas", "/drug-status")
BOUNDARY_SETS = ("", "2024", "2025-01", "2025-07")  # "": the set in force at the end of the period


def varied_period(rng: random.Random, year: int) -> str:
    """A period code of the one period model: reporting or calendar year, half, nine months, quarter, month."""
    return rng.choice((f"{year}", f"{year}-CY", f"{year}-H1", f"{year}-9M", f"{year}-Q{rng.randint(1, 4)}",
                       f"{year}-{rng.randint(1, 12):02d}"))


def varied_request(rng: random.Random, districts: list[str]) -> tuple[str, str]:
    """(label, path with a query) for one reader request with filters of its own (caches defeated): period,
    category, district (former districts in the 2025-07 set), boundary set, and each page's own options."""
    from urllib.parse import urlencode

    page = rng.choice(VARIED_PAGES)
    year = rng.choice(YEARS)
    district = rng.choice([""] + districts)
    boundary_set = rng.choice(BOUNDARY_SETS)
    if page in ("/", "/map/overview.js"):
        query = {"period": varied_period(rng, year), "category": rng.choice(CATEGORIES), "district": district,
                 "measure": rng.choice(("count", "rate")), "set": boundary_set}
    elif page == "/hotspots":
        query = {"period": varied_period(rng, year), "category": rng.choice(CATEGORIES), "district": district,
                 "stat": rng.choice(("gistar", "lisa", "kde")), "units": rng.choice(("hex", "square", "communes")),
                 "cell_size": rng.randrange(500, 3001, 250), "set": boundary_set}
    elif page == "/corridor":
        query = {"period": varied_period(rng, year), "category": rng.choice(CORRIDOR_CATEGORIES),
                 "set": boundary_set}
    elif page == "/targets":
        query = {"period": rng.choice((f"{year}", f"{year}-Q1", f"{year}-H1", f"{year}-9M")), "district": district}
    else:
        query = {"year": year, "district": district}
    return page, f"{page}?{urlencode({k: v for k, v in query.items() if v != ''})}"


# Runs CLI commands in one process (``flask`` per command would start the app some thirty times).
_BATCH = """
import json, sys
from server import create_app
runner = create_app().test_cli_runner()
out = []
for args, stdin in json.load(sys.stdin):
    result = runner.invoke(args=args, input=stdin)
    if result.exit_code != 0:
        sys.exit(f"flask {' '.join(args)} failed: {result.output}{result.exception!r}")
    out.append(result.stdout)
print(json.dumps(out))
"""


def flask_batch(env, commands: list[tuple[list[str], str | None]]) -> list[str]:
    """Outputs of ``flask --app server`` commands run one after another in a single process."""
    result = subprocess.run([sys.executable, "-c", _BATCH], cwd=ROOT, env=env, input=json.dumps(commands),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"preparing the database failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(folder: Path) -> tuple[dict, str, list[tuple[str, list[str]]]]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{folder}/load.sqlite3", BANDO_SECRET_KEY="load-test")
    for key in ("BANDO_DATA_DIR",):
        if key in os.environ:
            env[key] = os.environ[key]
    flask(env, "init-db")
    flask(env, "load-boundaries")
    flask(env, "seed-demo")
    *_, reader_token, communes_text = flask_batch(env, [
        (["create-user", "doc", "--role", "planner"], "mat-khau-doc-ban-do\n"), (["create-token", "doc"], None),
        (["export-incidents", "--format", "geojson", "--year", "2024"], None)])
    reader_token = reader_token.strip().splitlines()[-1]
    communes = json.loads(communes_text)
    by_district: dict[str, set] = defaultdict(set)
    for feature in communes["features"]:
        by_district[feature["properties"]["district_code"]].add(feature["properties"]["commune_code"])
    districts = sorted(by_district)
    commands = []
    for district in districts:
        commands += [(["create-user", f"ghi_{district}", "--role", "district", "--district", district],
                      "mat-khau-ghi-du-lieu\n"), (["create-token", f"ghi_{district}"], None)]
    outputs = flask_batch(env, commands)
    writers = [(outputs[2 * i + 1].strip().splitlines()[-1], sorted(by_district[district]))
               for i, district in enumerate(districts)]
    return env, reader_token, writers


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, label, seconds, error=None):
        with self.lock:
            self.latency[label].append(seconds)
            if error:
                self.errors[label].append(error)


def request(connection, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    return time.perf_counter() - start, response.status, payload


def reader(base, token, deadline, think, recorder, seed, districts=None):
    """One reader; with ``districts`` (the varied mode) every request chooses its own filters."""
    rng = random.Random(seed)
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    while time.monotonic() < deadline:
        if districts is None:
            label = path = rng.choice(MAP_PAGES + API_READS)
        else:
            label, path = varied_request(rng, districts)
        asked = time.perf_counter()
        try:
            seconds, status, _ = request(connection, "GET", path, token)
            recorder.add(label, seconds, None if status == 200 else f"HTTP {status} {path}")
        except (OSError, http.client.HTTPException) as e:  # a timeout counts as the time it made the user wait
            recorder.add(label, time.perf_counter() - asked, f"{e!r} {path}")
            connection.close()
            connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        time.sleep(rng.uniform(0, 2 * think))
    connection.close()


def writer(base, token, communes, deadline, think, recorder, seed):
    rng = random.Random(seed)
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    versions: dict[str, int] = {}
    label = "POST /api/drug-status"
    while time.monotonic() < deadline:
        code = rng.choice(communes)
        body = {"commune_code": code, "year": 2025, "assessed_on": "2025-03-31", "reason": "kiểm thử tải",
                "indicators": {"residents": rng.randint(3000, 20000), "addicts": rng.randint(0, 30),
                               "users_with_records": rng.randint(0, 10), "drug_use_places": rng.randint(0, 2),
                               "offenders_arrested": rng.randint(0, 5), "drug_plants": 0, "drug_crop_m2": 0,
                               "on_drug_route": False}}
        if code in versions:
            body["version"] = versions[code]
        asked = time.perf_counter()
        try:
            seconds, status, payload = request(connection, "POST", "/api/drug-status", token, body)
            if status == 409:  # someone else's version: read it and retry next round (not a server error)
                versions.pop(code, None)
                _, _, listing = request(connection, "GET", "/api/drug-status?year=2025", token)
                for record in json.loads(listing).get("records", []):
                    versions[record["commune_code"]] = record["version"]
                recorder.add(label, seconds)
            else:
                if status in (200, 201, 202):  # 202: a district's figures are a proposal a planner approves
                    record = json.loads(payload)
                    record = record.get("record", record)
                    versions[code] = record.get("version", versions.get(code))
                recorder.add(label, seconds, None if status in (200, 201, 202) else f"HTTP {status}: {payload[:200]!r}")
        except (OSError, http.client.HTTPException, ValueError) as e:
            recorder.add(label, time.perf_counter() - asked, repr(e))
            connection.close()
            connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        time.sleep(rng.uniform(0, 2 * think))
    connection.close()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and all its descendants (the gunicorn workers), from /proc:
    what the server spent, whatever else the machine was running."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent and child not in family]
        family.update(children)
        frontier.extend(children)
    return sum(times.get(member, 0.0) for member in family)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests (s)")
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gunicorn) or of waitress")
    parser.add_argument("--varied", action="store_true",
                        help="caches defeated: every reader request chooses its own filters")
    args = parser.parse_args(argv)

    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        env, reader_token, writer_accounts = prepare(Path(folder))
        port = free_port()
        # The server's log (an access line per request) goes to a file: an unread pipe would fill and stall it.
        server_log_path = ROOT / "bench" / "out" / f"load_test_{args.server}.log"
        server_log_path.parent.mkdir(parents=True, exist_ok=True)
        server_log = server_log_path.open("w")
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--server", args.server, "--workers", str(args.workers),
                                   "--threads", str(args.threads)], cwd=ROOT, env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            ready_by = time.monotonic() + 180  # a loaded machine may take a minute to import the app
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > ready_by:
                        raise SystemExit(f"the server did not start; see {server_log_path}") from None
                    time.sleep(0.2)
            recorder = Recorder()
            # Warm-up: one request per page so first-render costs are not counted as load latency.
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for path in MAP_PAGES + API_READS:
                request(warm, "GET", path, reader_token)
            _, _, body = request(warm, "GET", "/api/communes", reader_token)
            warm.close()
            districts = sorted({f["properties"]["district_code"] for f in json.loads(body)["features"]
                                if f["properties"].get("district_code")}) if args.varied else None
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=reader, args=(base, reader_token, deadline, args.think, recorder, i,
                                                             districts))
                       for i in range(args.readers)]
            threads += [threading.Thread(target=writer, args=(base, token, communes, deadline, args.think, recorder,
                                                              1000 + i))
                        for i, (token, communes) in enumerate(writer_accounts[:args.writers])]
            started = time.perf_counter()
            cpu_before = server_cpu_seconds(server.pid)
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + 120)
            elapsed = time.perf_counter() - started
            cpu_used = server_cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # requests still running past gunicorn's graceful timeout
                server.kill()
                server.wait(timeout=30)
            server_log.close()

    server_text = (f"gunicorn {args.workers} workers × {args.threads} threads" if args.server == "gunicorn"
                   else f"waitress {args.threads} threads")
    total = sum(len(v) for v in recorder.latency.values())
    errors = sum(len(v) for v in recorder.errors.values())
    print(f"{args.readers} readers{' (varied filters: caches defeated)' if args.varied else ''} + "
          f"{min(args.writers, len(writer_accounts))} writers for {args.seconds:.0f} s "
          f"(think {args.think} s), {server_text}, {os.cpu_count()}-core machine, "
          f"load average before {load_before}")
    print(f"{'request':<32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label in sorted(recorder.latency):
        values = recorder.latency[label]
        print(f"{label:<32} {len(values):>6} {percentile(values, 50) * 1000:>8.0f} "
              f"{percentile(values, 95) * 1000:>8.0f} {percentile(values, 99) * 1000:>8.0f} "
              f"{len(recorder.errors[label]):>7}")
    map_labels = VARIED_PAGES if args.varied else MAP_PAGES
    map_values = [v for label in map_labels for v in recorder.latency.get(label, [])]
    p95_maps = percentile(map_values, 95)
    p99_maps = percentile(map_values, 99)
    print(f"throughput {total / elapsed:.1f} requests/s, {total} requests, {errors} errors")
    print(f"server CPU {cpu_used:.1f} s over {elapsed:.0f} s ({cpu_used / elapsed:.2f} cores), "
          f"{cpu_used / max(total, 1) * 1000:.0f} ms per request")
    print(f"map pages p95 {p95_maps * 1000:.0f} ms (target < 1000 ms), p99 {p99_maps * 1000:.0f} ms"
          f"{' (target < 2000 ms)' if args.varied else ''}, errors {errors} (target 0)")
    for label, messages in recorder.errors.items():
        for message in messages[:3]:
            print(f"  error {label}: {message}")
    print(f"load average after {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    ok = errors == 0 and p95_maps < 1.0 and (p99_maps < 2.0 or not args.varied)
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
