"""Benchmark: the prospective hot spot surface over Đồng Tháp at 250 m (target < 1 s).

Ours:  geo.prospective.prospective_surface — a KD-tree pairs each recent incident with the cells within the
       space bandwidth (scipy ``sparse_distance_matrix``), then one ``np.add.at``.
Peer:  geo.prospective.prospective_brute_force — the definition: for every recent incident, the distance to every
       cell centre. Both run on all cells; the surfaces must agree to 1e-12.

Incidents are a year of synthetic events (70 % uniform, 30 % in clusters) with uniform dates; the forecast uses
those of the last ``--days`` days within ``--radius`` m (Bowers, Johnson & Pease 2004: 400 m, two months).

    .venv/bin/python bench/bench_prospective.py [--n 20000] [--cell 250] [--radius 400] [--days 60]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_gistar import province_outline, synthetic_incidents  # noqa: E402
from bench.measure import peak_mib, timed  # noqa: E402
from geo.grid import make_grid  # noqa: E402
from geo.prospective import prospective_brute_force, prospective_surface  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="incidents over one year")
    parser.add_argument("--cell", type=float, default=250.0)
    parser.add_argument("--radius", type=float, default=400.0)
    parser.add_argument("--days", type=float, default=60.0)
    args = parser.parse_args(argv)

    outline = province_outline()
    x, y = synthetic_incidents(outline, args.n)
    age = np.random.default_rng(4).integers(0, 365, args.n)
    t_grid, grid = timed(make_grid, outline, args.cell, "hex")
    recent = int((age <= args.days).sum())
    print(f"{grid.n_cells:,} hexagons of {args.cell:g} m (grid built and clipped in {t_grid:.2f} s, cached by the "
          f"app), {args.n:,} incidents of which {recent:,} in the last {args.days:g} days, radius {args.radius:g} m")
    kwargs = {"space_bandwidth_m": args.radius, "time_bandwidth_days": args.days, "distance_unit_m": args.cell}
    prospective_surface(grid.x[:100], grid.y[:100], x, y, age, **kwargs)  # warm-up
    t_ours, ours = timed(lambda: prospective_surface(grid.x, grid.y, x, y, age, **kwargs))
    mem = peak_mib(lambda: prospective_surface(grid.x, grid.y, x, y, age, **kwargs))
    t_peer, peer = timed(lambda: prospective_brute_force(grid.x, grid.y, x, y, age, **kwargs))
    difference = float(np.max(np.abs(ours.risk - peer)) / max(peer.max(), 1e-300))
    assert difference < 1e-12, f"surface differs from the brute-force sum by {difference:g} (relative to max)"

    print()
    print(f"{'method':<58} {'time (s)':>9} {'ratio':>8}")
    print(f"{'ours: geo.prospective.prospective_surface':<58} {t_ours:>9.3f} {1:>7.0f}×")
    print(f"{'brute force: every recent incident × every cell':<58} {t_peer:>9.3f} {t_peer / t_ours:>7.0f}×")
    print(f"peak memory (ours, tracemalloc): {mem:.1f} MiB")
    print(f"max |ours − brute force| / max risk: {difference:.1e}")
    print(f"target < 1 s: {'met' if t_ours < 1 else 'NOT met'} ({t_ours:.3f} s)")


if __name__ == "__main__":
    main()
