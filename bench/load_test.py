"""Bounded load test on loopback: readers open map pages while district committees write drug statuses.

Starts the production server (``flask serve``: gunicorn, or ``--server waitress``) on 127.0.0.1 with a fresh database holding the real
boundaries and the demo data, then runs ``--readers`` users who open map pages and ``--writers`` district users
who record commune drug statuses through the JSON API, for ``--seconds``. Every request loop is bounded by
the duration and stops by itself. Prints throughput, p50/p95/p99 latency per page and errors, and checks the
target: no errors and p95 of map pages under 1 s.

    .venv/bin/python bench/load_test.py [--seconds 60] [--readers 50] [--writers 10] [--think 1.0]
                                        [--server gunicorn|waitress] [--workers N] [--threads N]
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
MAP_PAGES = ["/", "/map/overview.js?year=2024", "/?year=2023&measure=rate", "/key-areas", "/drug-status",
             "/hotspots", "/corridor", "/targets"]
API_READS = ["/api/communes", "/api/key-areas?year=2024"]


def flask(env, *args, stdin=None):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "server", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path) -> tuple[dict, str, list[tuple[str, list[str]]]]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{folder}/load.sqlite3", BANDO_SECRET_KEY="load-test")
    for key in ("BANDO_DATA_DIR",):
        if key in os.environ:
            env[key] = os.environ[key]
    flask(env, "init-db")
    flask(env, "load-boundaries")
    flask(env, "seed-demo")
    flask(env, "create-user", "doc", "--role", "planner", stdin="mat-khau-doc-ban-do\n")
    reader_token = flask(env, "create-token", "doc").strip().splitlines()[-1]
    communes = json.loads(flask(env, "export-incidents", "--format", "geojson", "--year", "2024"))
    by_district: dict[str, set] = defaultdict(set)
    for feature in communes["features"]:
        by_district[feature["properties"]["district_code"]].add(feature["properties"]["commune_code"])
    writers = []
    for district, codes in sorted(by_district.items()):
        name = f"ghi_{district}"
        flask(env, "create-user", name, "--role", "district", "--district", district, stdin="mat-khau-ghi-du-lieu\n")
        writers.append((flask(env, "create-token", name).strip().splitlines()[-1], sorted(codes)))
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


def reader(base, token, deadline, think, recorder, seed):
    rng = random.Random(seed)
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    while time.monotonic() < deadline:
        path = rng.choice(MAP_PAGES + API_READS)
        try:
            seconds, status, _ = request(connection, "GET", path, token)
            recorder.add(path, seconds, None if status == 200 else f"HTTP {status}")
        except (OSError, http.client.HTTPException) as e:
            recorder.add(path, 0.0, repr(e))
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
        try:
            seconds, status, payload = request(connection, "POST", "/api/drug-status", token, body)
            if status == 409:  # someone else's version: read it and retry next round (not a server error)
                versions.pop(code, None)
                _, _, listing = request(connection, "GET", "/api/drug-status?year=2025", token)
                for record in json.loads(listing).get("records", []):
                    versions[record["commune_code"]] = record["version"]
                recorder.add(label, seconds)
            else:
                if status in (200, 201):
                    record = json.loads(payload)
                    record = record.get("record", record)
                    versions[code] = record.get("version", versions.get(code))
                recorder.add(label, seconds, None if status in (200, 201) else f"HTTP {status}: {payload[:200]!r}")
        except (OSError, http.client.HTTPException, ValueError) as e:
            recorder.add(label, 0.0, repr(e))
            connection.close()
            connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        time.sleep(rng.uniform(0, 2 * think))
    connection.close()


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
    args = parser.parse_args(argv)

    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        env, reader_token, writer_accounts = prepare(Path(folder))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--server", args.server, "--workers", str(args.workers),
                                   "--threads", str(args.threads)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            recorder = Recorder()
            # Warm-up: one request per page so first-render costs are not counted as load latency.
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for path in MAP_PAGES + API_READS:
                request(warm, "GET", path, reader_token)
            warm.close()
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=reader, args=(base, reader_token, deadline, args.think, recorder, i))
                       for i in range(args.readers)]
            threads += [threading.Thread(target=writer, args=(base, token, communes, deadline, args.think, recorder,
                                                              1000 + i))
                        for i, (token, communes) in enumerate(writer_accounts[:args.writers])]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + 120)
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)

    server_text = (f"gunicorn {args.workers} workers × {args.threads} threads" if args.server == "gunicorn"
                   else f"waitress {args.threads} threads")
    total = sum(len(v) for v in recorder.latency.values())
    errors = sum(len(v) for v in recorder.errors.values())
    print(f"{args.readers} readers + {min(args.writers, len(writer_accounts))} writers for {args.seconds:.0f} s "
          f"(think {args.think} s), {server_text}, {os.cpu_count()}-core machine, "
          f"load average before {load_before}")
    print(f"{'request':<32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label in sorted(recorder.latency):
        values = recorder.latency[label]
        print(f"{label:<32} {len(values):>6} {percentile(values, 50) * 1000:>8.0f} "
              f"{percentile(values, 95) * 1000:>8.0f} {percentile(values, 99) * 1000:>8.0f} "
              f"{len(recorder.errors[label]):>7}")
    map_values = [v for label in MAP_PAGES for v in recorder.latency.get(label, [])]
    p95_maps = percentile(map_values, 95)
    print(f"throughput {total / elapsed:.1f} requests/s, {total} requests, {errors} errors")
    print(f"map pages p95 {p95_maps * 1000:.0f} ms (target < 1000 ms), errors {errors} (target 0)")
    for label, messages in recorder.errors.items():
        for message in messages[:3]:
            print(f"  error {label}: {message}")
    print(f"load average after {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    ok = errors == 0 and p95_maps < 1.0
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
