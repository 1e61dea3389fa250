"""Benchmark: the ``hotspot`` command end to end against a plain peer pipeline, both as whole processes.

Ours:  ``python -m cli.hotspot --stat S --points FILE.csv --grid square --cell-size 500 …
       --out OUT.geojson`` (reading, projection, grid, neighbours, statistic, GeoJSON in lon/lat), and the
       same command through ``flask --app server hotspot`` (which imports the web application first).
Peer:  pandas ``read_csv`` of lon/lat → pyproj to EPSG:32648 → ``np.bincount`` on a square grid over the
       points' extent → the named library → z-scores (or I, or densities) saved with ``numpy.save``:
         gistar  libpysal ``DistanceBand(binary=True)`` + esda ``G_Local(transform="B", star=True)``
         lisa    libpysal ``DistanceBand(binary=True)`` + esda ``Moran_Local(transformation="r", 999 permutations)``
         kde     scikit-learn ``KernelDensity`` (kd-tree, Epanechnikov: it has no quartic kernel; timing only)

Each pipeline runs ``--runs`` times as its own process under ``/usr/bin/time -v`` (ours and the peer's runs
interleaved, so both see the same machine load); the table shows median wall time and median peak
resident memory, and the ratio. The synthetic CSV (``--n`` points over Đồng Tháp, 70 % uniform, 30 % in 25
clusters, with id, date, category and description text columns) is written once, not timed.

Correctness, checked after the timing on the cells our command wrote: Gi* z equal to esda ``G_Local`` and
Local Moran's I equal to esda ``Moran_Local`` on those cells' values and centres (libpysal ``DistanceBand``),
densities equal to the brute-force quartic sum on a sample of cells.

    .venv/bin/python bench/bench_hotspot_cli.py [--n 1000000] [--runs 3] [--stat gistar,lisa,kde] [--no-flask]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CELL, BAND, BANDWIDTH, PERMUTATIONS = 500.0, 1200.0, 1000.0, 999


def peer(stat: str, csv_path: str, out_path: str) -> None:
    """The plain peer pipeline (run in its own process by ``--peer``)."""
    import warnings

    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    table = pd.read_csv(csv_path, usecols=["lon", "lat"])
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(
        table["lon"].to_numpy(), table["lat"].to_numpy())
    x0, y0 = np.floor(x.min() / CELL) * CELL, np.floor(y.min() / CELL) * CELL
    n_cols = int((x.max() - x0) // CELL) + 1
    n_rows = int((y.max() - y0) // CELL) + 1
    cell = ((y - y0) // CELL).astype(np.int64) * n_cols + ((x - x0) // CELL).astype(np.int64)
    counts = np.bincount(cell, minlength=n_rows * n_cols).astype(float)
    cols, rows = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    centres = np.column_stack([x0 + (cols.ravel() + 0.5) * CELL, y0 + (rows.ravel() + 0.5) * CELL])
    if stat == "kde":
        from sklearn.neighbors import KernelDensity

        model = KernelDensity(kernel="epanechnikov", bandwidth=BANDWIDTH, algorithm="kd_tree", rtol=0.0)
        model.fit(np.column_stack([x, y]))
        np.save(out_path, np.exp(model.score_samples(centres)) * x.size)
        return
    import esda
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(centres, BAND, binary=True, silence_warnings=True)
        if stat == "gistar":
            np.save(out_path, esda.G_Local(counts, w, transform="B", star=True, permutations=0).Zs)
        else:
            np.save(out_path, esda.Moran_Local(counts, w, transformation="r", permutations=PERMUTATIONS, seed=1).Is)


def ours_command(stat: str, csv_path: Path, out_path: Path, entry: str) -> list[str]:
    options = ["--stat", stat, "--points", str(csv_path), "--grid", "square", "--cell-size", f"{CELL:g}",
               "--out", str(out_path)]
    options += ["--bandwidth", f"{BANDWIDTH:g}"] if stat == "kde" else ["--neighbours", f"distance:{BAND:g}"]
    if stat == "lisa":
        options += ["--permutations", str(PERMUTATIONS), "--seed", "1"]
    if entry == "flask":
        return [str(Path(PYTHON).with_name("flask")), "--app", "server", "hotspot", *options]
    return [PYTHON, "-m", "cli.hotspot", *options]


def timed_process(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident MiB of one process, from ``/usr/bin/time -v``.

    On a machine shared with other work the wall time grows with the load while the CPU time barely does,
    so the ratio of CPU seconds is the figure that can be compared between runs.
    """
    done = subprocess.run(["/usr/bin/time", "-v", *command], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", done.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", done.stderr).group(1))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return hours * 3600 + minutes * 60 + seconds, user + system, int(rss.group(1)) / 1024


def write_csv(n: int, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import pandas as pd

    from bench.bench_gistar import province_outline, synthetic_incidents
    from geo.crs import metric_to_lonlat

    x, y = synthetic_incidents(province_outline(), n)
    lon, lat = metric_to_lonlat(x, y)
    rng = np.random.default_rng(15)
    categories = np.array(["theft", "drugs", "assault", "fraud", "gambling", "Trộm cắp tài sản"], dtype=object)
    pd.DataFrame({
        "id": [f"DT-{i:07d}" for i in range(n)],
        "occurred_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
        "category": categories[rng.integers(0, categories.size, n)],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "description": "vụ việc tại ấp " + pd.Series(rng.integers(1, 12, n)).astype(str),
    }).to_csv(path, index=False)


def check(stat: str, csv_path: Path, out_path: Path) -> str:
    """Compare what our command wrote with the named library on the same cells."""
    import warnings

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis
    from geo.point_table import read_point_columns

    features = json.loads(out_path.read_text(encoding="utf-8"))["features"]
    written = {key: np.array([f["properties"][key] for f in features], dtype=float)
               for key in ("value", "gi_z", "lisa_i", "density") if key in features[0]["properties"]}
    # The same cells, in process: their centres and values from the pipeline the command runs.
    points = read_point_columns(csv_path, "lon", "lat")
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(points.x, points.y)
    spec = HotspotSpec(statistic=stat, units="square", cell_size=CELL, neighbours=f"distance:{BAND:g}",
                       bandwidth=BANDWIDTH if stat == "kde" else None, permutations=0 if stat != "kde" else None)
    result = run_hotspot_analysis(spec, x=x, y=y)
    values = result.columns["value"]
    assert np.array_equal(values, written["value"]), "the command wrote other cell values"
    lattice = np.column_stack([result.centre_x, result.centre_y])  # the centres the neighbours use
    if stat == "kde":
        from geo.kde import kernel_density_brute_force

        sample = np.random.default_rng(0).choice(values.size, 200, replace=False)
        brute = kernel_density_brute_force(lattice[sample, 0], lattice[sample, 1], x, y, BANDWIDTH)
        error = np.max(np.abs(written["density"][sample] - brute)) / written["density"].max()
        return f"density equals the brute-force quartic sum on 200 cells to {error:.1e} (relative)"
    import esda
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(lattice, BAND, binary=True, silence_warnings=True)
        if stat == "gistar":
            theirs = esda.G_Local(values, w, transform="B", star=True, permutations=0).Zs
            return f"gi_z equals esda G_Local on all {values.size:,} cells to {np.nanmax(np.abs(theirs - written['gi_z'])):.1e}"
        theirs = esda.Moran_Local(values, w, transformation="r", permutations=0).Is
        return (f"lisa_i equals esda Moran_Local on all {values.size:,} cells to "
                f"{np.max(np.abs(theirs - written['lisa_i'])):.1e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="points in the synthetic CSV (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="processes per pipeline (median reported)")
    parser.add_argument("--stat", default="gistar,lisa,kde", help="comma-separated statistics to run")
    parser.add_argument("--no-flask", action="store_true", help="skip the `flask --app server hotspot` runs")
    parser.add_argument("--csv", type=Path, help="use (or write and keep) this CSV")
    parser.add_argument("--peer", nargs=3, metavar=("STAT", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        return peer(*args.peer)
    stats = [s.strip() for s in args.stat.split(",") if s.strip()]
    unknown = set(stats) - {"gistar", "lisa", "kde"}
    if unknown:
        parser.error(f"--stat: {', '.join(sorted(unknown))} is not one of gistar, lisa, kde")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        csv_path = args.csv or folder / "points.csv"
        if not csv_path.exists():
            write_csv(args.n, csv_path)
        size = csv_path.stat().st_size / 2**20
        with open(csv_path, "rb") as handle:
            n_rows = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
        print(f"{n_rows:,} points, {size:.0f} MiB CSV (id, date, category, lon, lat, description); "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before")
        rows = []
        for stat in stats:
            out = folder / f"ours-{stat}.geojson"
            pipelines = {
                "peer": [PYTHON, str(Path(__file__).resolve()), "--peer", stat, str(csv_path), str(folder / "peer.npy")],
                "ours": ours_command(stat, csv_path, out, "module"),
            }
            if not args.no_flask:
                pipelines["flask"] = ours_command(stat, csv_path, folder / f"flask-{stat}.geojson", "flask")
            measured = {name: [] for name in pipelines}
            for _ in range(args.runs):
                for name, command in pipelines.items():
                    measured[name].append(timed_process(command))
            medians = {name: tuple(statistics.median(run[i] for run in runs) for i in range(3))
                       for name, runs in measured.items()}
            rows.append((stat, medians, check(stat, csv_path, out)))
        print(f"load average {os.getloadavg()[0]:.1f} after\n")
        print(f"{'statistic':<9} {'pipeline':<58} {'wall s':>7} {'CPU s':>6} {'peak MiB':>9} "
              f"{'peer/ours wall':>14} {'CPU':>6}")
        labels = {"peer": "peer: pandas + pyproj + bincount + {lib}",
                  "ours": "ours: python -m cli.hotspot",
                  "flask": "ours: flask --app server hotspot"}
        library = {"gistar": "libpysal + esda G_Local", "lisa": "libpysal + esda Moran_Local",
                   "kde": "scikit-learn KernelDensity"}
        for stat, medians, verdict in rows:
            peer_time, peer_cpu, peer_mem = medians["peer"]
            for name, (wall, cpu, mem) in medians.items():
                ratios = ("", "") if name == "peer" else (f"{peer_time / wall:.1f}×", f"{peer_cpu / cpu:.1f}×")
                print(f"{stat:<9} {labels[name].format(lib=library[stat]):<58} {wall:>7.2f} {cpu:>6.2f} {mem:>9.0f} "
                      f"{ratios[0]:>14} {ratios[1]:>6}")
            ours_time, ours_cpu, ours_mem = medians["ours"]
            faster = {"wall": peer_time / ours_time >= 5, "CPU": peer_cpu / ours_cpu >= 5}
            goal = (f"met ({' and '.join(k for k, v in faster.items() if v)})"
                    if any(faster.values()) and ours_mem <= peer_mem else "NOT met")
            print(f"{'':<9} goal ≥ 5× faster, peak memory ≤ peer's: {goal}; {verdict}")
        print(f"\nmedians of {args.runs} runs per pipeline, whole processes under /usr/bin/time -v "
              f"(CPU = user + system seconds)")


if __name__ == "__main__":
    main()
