"""Copy every layer of the OGC API with GDAL: ``ogr2ogr -f GPKG out.gpkg OAPIF:http://…/ogc`` (target < 5 s).

A fresh database with the real boundaries and the demo data (``seed-demo``) is served by ``flask serve``
(waitress) on loopback; a planner's API token authenticates GDAL (``GDAL_HTTP_HEADERS``). Each run is a
whole ``ogr2ogr`` process, as a user runs it:

* ours: ``OAPIF:`` with ``-oo PAGE_SIZE=10000`` (the maximum ``limit`` the API declares; GDAL ≥ 3.8 takes it from
  ``/ogc/api`` by itself (OSGeo/gdal#8522), Debian's GDAL 3.6 never reads the document and asks 10 per page
  unless told);
* GDAL's default page of 10 (how the issue measured it, 18.5 s in 399 requests), once, for the record;
* the peer: the same four layers through the app's own GeoPackage downloads — ``curl`` of
  ``/exports/<layer>.gpkg`` then ``ogr2ogr`` of the file into one GeoPackage, a process each, summed.

The first ours-run after start fills the server's per-data-version caches and is reported apart; the others
are repeated ``--runs`` times and their medians printed with the ratio. Besides wall time, each copy's CPU
seconds are printed, the server process's (``/proc/PID/stat``, user + system) and the client's (``ogr2ogr``,
``curl``: ``getrusage(RUSAGE_CHILDREN)``): on a machine shared with other jobs wall time grows with the load,
CPU time hardly does, and on an idle machine the copy (one request at a time) takes about their sum. Feature counts of every copy
are checked against each other. The server's log goes to ``bench/out/bench_ogc_copy_server.log``.

    .venv/bin/python bench/bench_ogc_copy.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import flask, free_port  # noqa: E402
LAYERS = ("communes", "incidents", "hotspots", "key_areas")


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def timed(args, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr}")
    return seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc/PID/stat``, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_since(log: Path, mark: int) -> int:
    return sum(1 for line in log.read_text().splitlines()[mark:] if "GET /" in line)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-default-page", action="store_true", help="leave out the 10-per-page run")
    args = parser.parse_args(argv)
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3", BANDO_SECRET_KEY="bench-ogc")
        for command in (["init-db"], ["load-boundaries"], ["seed-demo"]):
            flask(env, *command)
        flask(env, "create-user", "gis", "--role", "planner", stdin="mat-khau-gis-ban-do\n")
        token = flask(env, "create-token", "gis").strip().splitlines()[-1]
        port = free_port()
        log_path = ROOT / "bench" / "out" / "bench_ogc_copy_server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "server", "serve", "--host",
                                       "127.0.0.1", "--port", str(port), "--server", "waitress", "--threads", "4"],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        gdal_env = dict(os.environ, GDAL_HTTP_HEADERS=f"Authorization: Bearer {token}")
        try:
            for _ in range(1200):  # the app's start (imports, caches) takes seconds on a loaded machine
                if server.poll() is not None:
                    raise SystemExit(f"the server stopped; see {log_path}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)

            def ours(out: Path, page_size: int | None = 10_000) -> float:
                out.unlink(missing_ok=True)
                options = ["-oo", f"PAGE_SIZE={page_size}"] if page_size else []
                return timed(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", *options], gdal_env)

            def peer(out: Path) -> float:
                out.unlink(missing_ok=True)
                total = 0.0
                for layer in LAYERS:
                    download = folder / f"{layer}.gpkg"
                    total += timed(["curl", "-sf", "-H", f"Authorization: Bearer {token}", "-o", str(download),
                                    f"{base}/exports/{layer}.gpkg"], gdal_env)
                    total += timed(["ogr2ogr", "-f", "GPKG", *(["-update"] if out.exists() else []), str(out),
                                    str(download)], gdal_env)
                return total

            def with_server_cpu(run, *run_args):
                before, clients = cpu_seconds(server.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
                seconds = run(*run_args)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                client_cpus.append(after.ru_utime + after.ru_stime - clients.ru_utime - clients.ru_stime)
                return seconds, cpu_seconds(server.pid) - before

            client_cpus: list[float] = []

            mark = len(log_path.read_text().splitlines())
            cold, cold_cpu = with_server_cpu(ours, folder / "cold.gpkg")
            cold_requests = requests_since(log_path, mark)
            reference = counts(folder / "cold.gpkg")
            ours_times, peer_times, ours_requests, ours_cpu, peer_cpu = [], [], [], [], []
            ours_client_cpu, peer_client_cpu = [], []
            for _ in range(args.runs):
                mark = len(log_path.read_text().splitlines())
                seconds, cpu = with_server_cpu(ours, folder / "ours.gpkg")
                ours_times.append(seconds)
                ours_cpu.append(cpu)
                ours_client_cpu.append(client_cpus[-1])
                ours_requests.append(requests_since(log_path, mark))
                assert counts(folder / "ours.gpkg") == reference, "the OAPIF copies differ"
                seconds, cpu = with_server_cpu(peer, folder / "peer.gpkg")
                peer_times.append(seconds)
                peer_cpu.append(cpu)
                peer_client_cpu.append(client_cpus[-1])
                peer_counts = counts(folder / "peer.gpkg")
                assert {k: v for k, v in reference.items() if v} == {k: v for k, v in peer_counts.items() if v}, \
                    (reference, peer_counts)
            default_page = None
            if not args.skip_default_page:
                mark = len(log_path.read_text().splitlines())
                seconds, cpu = with_server_cpu(lambda: ours(folder / "default.gpkg", page_size=None))
                default_page = (seconds, requests_since(log_path, mark), cpu, client_cpus[-1])
                assert counts(folder / "default.gpkg") == reference
        finally:
            server.terminate()
            server.wait(timeout=30)
    ours_median, peer_median = statistics.median(ours_times), statistics.median(peer_times)
    print(f"load average before: {load_before}; after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"features copied: {reference}")
    print(f"first copy after start (fills the caches): {cold:.2f} s in {cold_requests} requests, "
          f"server CPU {cold_cpu:.2f} s")
    print(f"ours  ogr2ogr OAPIF, PAGE_SIZE=10000: median {ours_median:.2f} s of {args.runs} "
          f"({', '.join(f'{t:.2f}' for t in ours_times)}), {statistics.median(ours_requests):.0f} requests, "
          f"server CPU median {statistics.median(ours_cpu):.2f} s ({', '.join(f'{c:.2f}' for c in ours_cpu)}), "
          f"ogr2ogr CPU median {statistics.median(ours_client_cpu):.2f} s")
    print(f"peer  ogr2ogr of the 4 GeoPackage downloads: median {peer_median:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in peer_times)}), server CPU median {statistics.median(peer_cpu):.2f} s, "
          f"curl + ogr2ogr CPU median {statistics.median(peer_client_cpu):.2f} s")
    print(f"ratio peer/ours: {peer_median / ours_median:.2f}x (wall), "
          f"{statistics.median(peer_cpu) / max(statistics.median(ours_cpu), 1e-9):.2f}x (server CPU); "
          f"target < 5 s: {'met' if ours_median < 5 else 'NOT met'}")
    if default_page:
        print(f"GDAL's default 10 per page (no PAGE_SIZE): {default_page[0]:.2f} s in {default_page[1]} requests, "
              f"server CPU {default_page[2]:.2f} s, ogr2ogr CPU {default_page[3]:.2f} s")


if __name__ == "__main__":
    main()
