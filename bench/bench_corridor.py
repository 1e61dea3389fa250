"""Benchmark: border-corridor assignment + statistics vs a plain geopandas ``sjoin_nearest`` pipeline.

Synthetic incidents are scattered up to 12 km around the real Đồng Tháp – Prey Veng border line (both
sides, so part of them fall in Cambodia). Both pipelines start from the same metric x/y arrays and produce,
per incident, the distance to the border, the band (0–2/2–5/5–10 km, inside the province only), the nearest
5 km segment and the nearest gate, then the corridor statistics (category, band, segment, gate, month; this
year vs last). The results are compared in full: distances to 1e-6 m, bands, gates, and segments up to exact
ties; the statistics tables must be equal.

Usage: ``.venv/bin/python bench/bench_corridor.py [--n 1000000] [--no-memory]``
"""
from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from bench.measure import data_dir, peak_mib, timed  # noqa: E402
from geo import VECTOR_ENGINE  # noqa: E402
from geo import corridor_geometry as C  # noqa: E402
from geo import corridor_statistics as CS  # noqa: E402
from geo.crs import METRIC_CRS  # noqa: E402

CATEGORIES = ["smuggling", "drugs", "illegal_border_crossing", "human_trafficking"]
YEAR = 2024



def load():
    folder = data_dir("boundaries/cambodia_vietnam_border_dong_thap.geojson") / "boundaries"
    line = C.read_border_line(folder / "cambodia_vietnam_border_dong_thap.geojson")
    gates = C.read_border_gates(folder / "border_gates.geojson")
    province = gpd.read_file(folder / "dong_thap_communes_2024.geojson", engine=VECTOR_ENGINE).to_crs(METRIC_CRS).union_all()
    return line, C.border_segments(line), gates, province


def synthetic(line, n, seed):
    rng = np.random.default_rng(seed)
    geom = line.geometry.iloc[0]
    base = shapely.get_coordinates(shapely.line_interpolate_point(geom, rng.uniform(0, geom.length, n)))
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 12_000 * np.sqrt(rng.uniform(0, 1, n))
    x = base[:, 0] + radius * np.cos(angle)
    y = base[:, 1] + radius * np.sin(angle)
    category = pd.Categorical.from_codes(rng.integers(0, len(CATEGORIES), n), categories=CATEGORIES)
    day = np.datetime64("2023-01-01") + rng.integers(0, 731, n).astype("timedelta64[D]")
    return x, y, category, day


def ours(x, y, category, day, line, segments, gates, province):
    out = C.assign_corridor(x, y, line, segments, gates, province_polygon=province)
    out["category"] = category
    out["occurred_on"] = day
    stats = CS.corridor_statistics(out, year=YEAR, segments=segments, gates=gates)
    seg = stats[stats["dimension"] == "segment"]
    CS.linear_hotspot(seg["count"].to_numpy(), segments["length_km"].to_numpy(), segment_ids=segments["segment_id"])
    return out, stats


def peer(x, y, category, day, line, segments, gates, province):
    """What one would write with geopandas alone."""
    points = gpd.GeoDataFrame({"category": category, "occurred_on": day},
                              geometry=gpd.points_from_xy(x, y), crs=METRIC_CRS)
    near_seg = gpd.sjoin_nearest(points, segments[["segment_id", "geometry"]], distance_col="distance_m")
    near_seg = near_seg[~near_seg.index.duplicated()]  # sjoin_nearest returns every tie
    near_gate = gpd.sjoin_nearest(points, gates[["name", "geometry"]], distance_col="gate_distance_m")
    near_gate = near_gate[~near_gate.index.duplicated()]
    out = pd.DataFrame({"distance_m": near_seg["distance_m"], "segment_id": near_seg["segment_id"],
                        "gate": near_gate["name"], "gate_distance_m": near_gate["gate_distance_m"]})
    out["in_province"] = points.intersects(province)
    band = pd.cut(out["distance_m"], C.DEFAULT_EDGES_M, right=True, include_lowest=True, labels=False)
    out["band"] = np.where(out["in_province"] & band.notna(), band.fillna(-1), -1).astype(int)
    out["category"] = points["category"]
    out["occurred_on"] = points["occurred_on"]
    corridor = out[(out["band"] >= 0)].copy()
    corridor["year"] = corridor["occurred_on"].dt.year
    corridor = corridor[corridor["year"].isin([YEAR - 1, YEAR])]
    corridor["month"] = corridor["occurred_on"].dt.month
    tables = {}
    for dim, col in (("category", "category"), ("band", "band"), ("segment", "segment_id"), ("gate", "gate"),
                     ("month", "month")):
        counts = corridor.groupby([col, "year"], observed=True).size().unstack(fill_value=0)
        tables[dim] = counts.reindex(columns=[YEAR - 1, YEAR], fill_value=0)
    return out, tables


def compare(a, b, segments, x, y, stats, tables):
    assert np.allclose(a["distance_m"].to_numpy(), b["distance_m"].to_numpy(), rtol=0, atol=1e-6), "distance"
    assert (a["in_province"].to_numpy() == b["in_province"].to_numpy()).all(), "in_province"
    assert (a["band"].to_numpy() == b["band"].to_numpy()).all(), "band"
    assert (a["gate"].astype(str).to_numpy() == b["gate"].astype(str).to_numpy()).all(), "gate"
    assert np.allclose(a["gate_distance_m"].to_numpy(), b["gate_distance_m"].to_numpy(), atol=1e-6), "gate distance"
    differ = np.flatnonzero(a["segment_id"].to_numpy() != b["segment_id"].to_numpy())
    if differ.size:  # only exact ties may differ: both segments at the same distance
        geoms = segments.set_index("segment_id").geometry
        pts = shapely.points(x[differ], y[differ])
        da = shapely.distance(geoms.loc[a["segment_id"].to_numpy()[differ]].values, pts)
        db = shapely.distance(geoms.loc[b["segment_id"].to_numpy()[differ]].values, pts)
        assert np.allclose(da, db, atol=1e-6), f"{differ.size} segments differ beyond ties"
    for dim, table in tables.items():
        ours_dim = stats[stats["dimension"] == dim].set_index("key")
        for key, row in table.iterrows():
            k = f"{YEAR}-{key:02d}" if dim == "month" else str(key)
            assert ours_dim.loc[k, "count"] == row[YEAR] and ours_dim.loc[k, "previous_count"] == row[YEAR - 1], (dim, k)
    return differ.size




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of synthetic incidents")
    parser.add_argument("--seed", type=int, default=138)
    parser.add_argument("--no-memory", action="store_true", help="skip the (slower) traced-memory pass")
    args = parser.parse_args()

    line, segments, gates, province = load()
    x, y, category, day = synthetic(line, args.n, args.seed)
    inputs = (x, y, category, day, line, segments, gates, province)
    ours(*[a[:1000] for a in inputs[:4]], *inputs[4:])  # warm imports and caches

    t_ours, (a, stats) = timed(ours, *inputs)
    t_peer, (b, tables) = timed(peer, *inputs)
    ties = compare(a, b, segments, x, y, stats, tables)

    rows = [("ours: assign_corridor + corridor_statistics + linear_hotspot", t_ours),
            ("peer: geopandas sjoin_nearest (segments, gates) + groupby", t_peer)]
    mem = {}
    if not args.no_memory:
        mem["ours"] = peak_mib(ours, *inputs)
        mem["peer"] = peak_mib(peer, *inputs)
    print(f"n = {args.n:,} incidents, border {line['length_m'].iloc[0] / 1000:.2f} km, {len(segments)} segments, "
          f"{len(gates)} gates; in corridor: {(a['band'] >= 0).sum():,}")
    print(f"{'pipeline':<64} {'time s':>8} {'peak MiB':>9}")
    for (name, t), key in zip(rows, ("ours", "peer")):
        peak = f"{mem[key]:9.0f}" if key in mem else f"{'-':>9}"
        print(f"{name:<64} {t:8.3f} {peak}")
    print(f"ratio peer/ours: {t_peer / t_ours:.1f}x   (goal: ours < 2 s for 1,000,000)")
    print(f"results equal: distances (1e-6 m), bands, gates, statistics; segments equal except {ties} exact ties")
    print("peak MiB = tracemalloc peak of numpy/Python allocations (GEOS memory is not traced); "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
