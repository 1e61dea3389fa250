"""Benchmark: quartic kernel density of synthetic incidents over Đồng Tháp on a 500 m grid, h = 1 km.

Ours:   geo.kde.kernel_density (lattice offsets + np.bincount, exact).
Peer 1: plain numpy brute-force sum Σ K(‖c − p‖) — the definition. Timed on a random sample of cells and
        extrapolated to the whole grid (labelled so); our densities must equal it on those cells.
Peer 2: scikit-learn KernelDensity (kd-tree, rtol=0) with the Epanechnikov kernel — scikit-learn has no
        quartic kernel, so this peer is for timing only (same compact support h), run on all cells.

    .venv/bin/python bench/bench_kde.py [--n 1000000] [--cell 500] [--bandwidth 1000] [--sample-cells 200]
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_gistar import province_outline, synthetic_incidents  # noqa: E402
from geo.grid import make_grid  # noqa: E402
from geo.kde import kernel_density, kernel_density_brute_force  # noqa: E402


def sklearn_density(grid, x, y, h):
    from sklearn.neighbors import KernelDensity

    model = KernelDensity(kernel="epanechnikov", bandwidth=h, algorithm="kd_tree", rtol=0.0)
    model.fit(np.column_stack([x, y]))
    return np.exp(model.score_samples(np.column_stack([grid.x, grid.y])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--cell", type=float, default=500.0)
    parser.add_argument("--bandwidth", type=float, default=1000.0)
    parser.add_argument("--grid", choices=("square", "hex"), default="square")
    parser.add_argument("--sample-cells", type=int, default=200, help="cells for the brute-force check")
    parser.add_argument("--skip-sklearn", action="store_true")
    args = parser.parse_args(argv)

    outline = province_outline()
    x, y = synthetic_incidents(outline, args.n)
    grid = make_grid(outline, args.cell, args.grid)
    print(f"{args.n:,} incidents, {grid.n_cells:,} {args.grid} cells of {args.cell:g} m, "
          f"bandwidth {args.bandwidth:g} m")

    kernel_density(grid, x[:1000], y[:1000], args.bandwidth)  # warm-up (imports, page faults)
    start = time.perf_counter()
    ours = kernel_density(grid, x, y, args.bandwidth).density
    t_ours = time.perf_counter() - start
    tracemalloc.start()
    kernel_density(grid, x, y, args.bandwidth)
    mem_ours = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    rng = np.random.default_rng(0)
    sample = rng.choice(grid.n_cells, min(args.sample_cells, grid.n_cells), replace=False)
    # Make sure the check includes the densest cells, not just empty ones.
    sample = np.unique(np.concatenate([sample, np.argsort(ours)[-20:]]))
    start = time.perf_counter()
    brute = kernel_density_brute_force(grid.x[sample], grid.y[sample], x, y, args.bandwidth)
    t_brute = (time.perf_counter() - start) * grid.n_cells / sample.size
    max_rel = float(np.max(np.abs(ours[sample] - brute)) / brute.max())
    assert max_rel < 1e-9, f"density differs from the brute-force sum by {max_rel:g} (relative to max)"

    t_sk = float("nan")
    if not args.skip_sklearn:
        start = time.perf_counter()
        sk = sklearn_density(grid, x, y, args.bandwidth)
        t_sk = time.perf_counter() - start
        assert sk.shape == ours.shape

    print()
    print(f"{'method':<62} {'time (s)':>9} {'ratio':>8}")
    print(f"{'ours: geo.kde.kernel_density (exact quartic)':<62} {t_ours:>9.3f} {1:>7.0f}×")
    print(f"{f'numpy brute-force sum (extrapolated from {sample.size} cells)':<62} {t_brute:>9.1f} "
          f"{t_brute / t_ours:>7.0f}×")
    if not args.skip_sklearn:
        print(f"{'scikit-learn KernelDensity kd-tree (Epanechnikov, timing only)':<62} {t_sk:>9.3f} "
              f"{t_sk / t_ours:>7.1f}×")
    print(f"peak memory (ours, tracemalloc): {mem_ours:.1f} MiB; inputs x, y {(x.nbytes + y.nbytes) / 2**20:.1f} MiB")
    print(f"max |ours − brute force| / max density on {sample.size} cells: {max_rel:.1e}")
    print(f"target < 1 s: {'met' if t_ours < 1 else 'NOT met'} ({t_ours:.3f} s)")


if __name__ == "__main__":
    main()
