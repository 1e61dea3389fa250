"""What every benchmark needs: wall time, traced peak memory, and where the boundary files are."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, *args):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def peak_mib(fn, *args) -> float:
    """Peak of numpy/Python allocations during one call, in MiB (tracemalloc; GEOS/GDAL memory not traced)."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def data_dir(required: str = "boundaries/dong_thap_communes_2024.geojson") -> Path:
    """$BANDO_DATA_DIR, ./data (after ``make data``) or ../shared/data — the first holding ``required``."""
    for candidate in (os.environ.get("BANDO_DATA_DIR"), ROOT / "data", ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / required).exists():
            return Path(candidate)
    sys.exit("boundary files not found: run `make data` or set BANDO_DATA_DIR")


def flask(env, *args, stdin=None) -> str:
    """Run ``flask --app server ARGS`` in a separate process (a whole command, as a user runs it); its stdout."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "server", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    """A TCP port free on this host now, for a server the benchmark starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
