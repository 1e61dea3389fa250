"""Benchmark: incident import (read + validate + assign communes) vs a plain geopandas read + sjoin pipeline.

Ours:  geo.incidents.read_incident_table + validate_incidents (CommuneLocator built inside the timing), then an
       optional store step (``--store``) — the database write is plugged in through ``STORE_STEPS``.
Peer:  pandas.read_csv → GeoDataFrame(points_from_xy) → geopandas.sjoin(predicate="intersects") with the
       communes, keeping the lowest commune code where a point touches several. The peer checks nothing else
       (no dates, categories, ranges, duplicates), so it is the floor for "just place the points".

The synthetic file has ``--n`` rows, written once to a temporary CSV (not timed): points inside the real
Đồng Tháp communes, ISO and Vietnamese dates and labels mixed, and 0.1% bad rows (outside the province, bad
dates, unknown categories). The commune of every row both pipelines accept must be the same.

    .venv/bin/python bench/bench_import.py [--n 1000000] [--no-memory] [--store NAME] [--keep FILE]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from bench.measure import data_dir, peak_mib, timed  # noqa: E402
from geo.boundaries import read_communes  # noqa: E402
from geo.incidents import CommuneLocator, read_incident_table, validate_incidents  # noqa: E402
from geo.taxonomy import CATEGORIES, SEVERITIES  # noqa: E402

#: Store steps the ``--store`` option can run after validation: name -> callable(valid DataFrame) -> None.
def write_to_fresh_sqlite(valid: pd.DataFrame) -> None:
    """The app's own write path (store.incidents.upsert_incidents) into a new, migrated SQLite database."""
    from store.db import Database
    from store.incidents import upsert_incidents

    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.sqlite3")
        db.upgrade()
        with db.transaction() as session:
            upsert_incidents(session, valid, filename="bench.csv", username="bench")
        db.dispose()


#: Database writers that can follow validation (``--store NAME``); ``none`` measures validation alone.
STORE_STEPS: dict = {"sqlite": write_to_fresh_sqlite}



def synthetic_csv(communes: gpd.GeoDataFrame, n: int, path: Path, seed: int = 138) -> None:
    """Write ``n`` incident rows; 0.1% of them are bad in one way or another."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = communes.total_bounds
    outline = shapely.union_all(communes.geometry.values)
    shapely.prepare(outline)
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(outline, x, y)
        lon, lat = np.r_[lon, x[inside]], np.r_[lat, y[inside]]
    lon, lat = np.round(lon[:n], 6), np.round(lat[:n], 6)
    occurred = (pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 820, n), unit="D")
                + pd.to_timedelta(rng.integers(0, 1440, n) * 60, unit="s"))
    reported = occurred + pd.to_timedelta(rng.integers(10, 4000, n) * 60, unit="s")
    occurred_text = occurred.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object, copy=True)
    vietnamese = rng.random(n) < 0.05
    occurred_text[vietnamese] = occurred[vietnamese].strftime("%d/%m/%Y %H:%M")
    codes = list(CATEGORIES)
    category = np.array(codes, dtype=object)[rng.integers(0, len(codes), n)]
    labelled = rng.random(n) < 0.3
    category[labelled] = [CATEGORIES[c].label_vi for c in category[labelled]]
    severity = np.array([s.label_vi for s in SEVERITIES.values()], dtype=object)[rng.integers(0, 4, n)]
    status = np.array(["received", "prosecuted", "cleared", "Khám phá", "indicted", "tried"],
                      dtype=object)[rng.integers(0, 6, n)]
    lon_text, lat_text = lon.astype(str).astype(object), lat.astype(str).astype(object)  # writable copies
    bad = rng.choice(n, size=max(n // 1000, 4), replace=False)
    kinds = np.arange(bad.size) % 4
    lon_text[bad[kinds == 0]] = "104.90"          # in Cambodia / An Giang: outside the province
    occurred_text[bad[kinds == 1]] = "31/02/2024"  # no such day
    category[bad[kinds == 2]] = "trộm chó"         # not in the taxonomy
    lat_text[bad[kinds == 3]] = "10,4a"            # not a number
    pd.DataFrame({
        "id": [f"BENCH-{i:08d}" for i in range(n)], "occurred_at": occurred_text,
        "reported_at": reported.strftime("%Y-%m-%d %H:%M"), "category": category, "severity": severity,
        "case_status": status, "lon": lon_text, "lat": lat_text, "description": "",
    }).to_csv(path, index=False)


def ours(path: Path, communes: gpd.GeoDataFrame, store: str | None = None):
    locator = CommuneLocator(communes)
    raw = read_incident_table(path)
    result = validate_incidents(raw, locator)
    if store:
        STORE_STEPS[store](result.valid)
    return result


def peer(path: Path, communes: gpd.GeoDataFrame):
    frame = pd.read_csv(path, dtype={"id": str})
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    joined = gpd.sjoin(points, communes[["commune_code", "geometry"]], predicate="intersects", how="left")
    joined = joined.sort_values("commune_code").loc[lambda f: ~f.index.duplicated(keep="first")].sort_index()
    return joined




def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="number of rows (default 1,000,000)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc passes")
    parser.add_argument("--store", choices=sorted(STORE_STEPS) + ["none"], default="sqlite",
                        help="store step to run after validation (registered in STORE_STEPS)")
    parser.add_argument("--keep", type=Path, help="write the synthetic CSV here and keep it")
    args = parser.parse_args(argv)
    if args.store == "none":
        args.store = None
    if args.store and args.store not in STORE_STEPS:
        parser.error(f"--store {args.store!r} is not one of: {', '.join(STORE_STEPS) or '(none registered)'}")

    communes = read_communes(data_dir() / "boundaries" / "dong_thap_communes_2024.geojson").communes
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "incidents.csv"
        t_write, _ = timed(synthetic_csv, communes, args.n, path)
        size_mib = path.stat().st_size / 2**20
        print(f"{args.n:,} rows, {size_mib:.0f} MiB CSV (written in {t_write:.1f} s, not timed), "
              f"143 communes")

        t_ours, result = timed(ours, path, communes, args.store)
        t_validate, _ = timed(ours, path, communes, None)
        t_peer, joined = timed(peer, path, communes)

        # Same commune for every row both accept (the peer accepts any row with numbers for lon/lat).
        ours_codes = pd.Series(result.valid["commune_code"].to_numpy(), index=result.valid["row"].to_numpy() - 1)
        peer_codes = joined["commune_code"].loc[ours_codes.index]
        mismatches = int((ours_codes != peer_codes.to_numpy()).sum())
        assert mismatches == 0, f"{mismatches} rows placed in different communes"
        outside_ours = sum(1 for e in result.errors if e.field == "lon/lat")
        outside_peer = int((joined["commune_code"].isna() & joined["lon"].notna() & joined["lat"].notna()).sum())
        assert outside_ours == outside_peer, (outside_ours, outside_peer)

        mem_ours = mem_peer = float("nan")
        if not args.no_memory:
            mem_ours = peak_mib(ours, path, communes, args.store)
            mem_peer = peak_mib(peer, path, communes)

    store_label = f" + store[{args.store}]" if args.store else ""
    print()
    print(f"{'pipeline':<60} {'time (s)':>9} {'peak MiB':>9}")
    print(f"{'ours: read_incident_table + validate_incidents' + store_label:<60} {t_ours:>9.2f} {mem_ours:>9.1f}")
    print(f"{'peer: pandas.read_csv + points_from_xy + sjoin (no checks)':<60} {t_peer:>9.2f} {mem_peer:>9.1f}")
    if args.store:
        print(f"{'ours without the store step (same work as the peer, plus checks)':<60} {t_validate:>9.2f}")
        print(f"ratio peer/ours on the same work: {t_peer / t_validate:.2f}×;   "
              f"whole import incl. store: {t_ours:.2f} s (target < 15 s: {'met' if t_ours < 15 else 'NOT met'})")
    print(f"ratio peer/ours: {t_peer / t_ours:.2f}×   rows valid {len(result.valid):,}, refused "
          f"{len(result.refused_rows):,} ({len(result.errors):,} errors, {outside_ours:,} outside the province)")
    print(f"communes identical for all {len(ours_codes):,} rows accepted by both; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
