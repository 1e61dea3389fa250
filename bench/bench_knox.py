"""Benchmark: the Knox near-repeat test, 999 Monte Carlo permutations on 20,000 incidents (target < 5 s).

Ours:  geo.near_repeat.knox_test — a KD-tree enumerates only the pairs within the largest distance band; the
       open band follows from the lag distribution of all pairs (invariant under permutation of the dates).
Peer:  geo.near_repeat.knox_brute_force — every one of the n(n−1)/2 pairs in every permutation, as the Near
       Repeat Calculator computes it. At 20,000 incidents (2·10⁸ pairs) it is timed on the observed table and
       two permutations and extrapolated to 999 (labelled so); both are run in full on a 1,000-incident sample,
       where the tables must be identical (same seed, same permutations).

    .venv/bin/python bench/bench_knox.py [--n 20000] [--permutations 999] [--peer-permutations 2]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_gistar import province_outline, synthetic_incidents  # noqa: E402
from bench.measure import peak_mib, timed  # noqa: E402
from geo.near_repeat import knox_brute_force, knox_test  # noqa: E402

SPACE, TIME = (100, 200, 400), (7, 14, 28)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--peer-permutations", type=int, default=2, help="permutations the full peer is timed on")
    parser.add_argument("--check-n", type=int, default=1_000, help="incidents of the exact-equality check")
    args = parser.parse_args(argv)

    outline = province_outline()
    x, y = synthetic_incidents(outline, args.n)
    days = np.random.default_rng(16).integers(0, 365, args.n)
    knox_test(x[:500], y[:500], days[:500], SPACE, TIME, permutations=99, seed=1)  # warm-up
    t_ours, ours = timed(lambda: knox_test(x, y, days, SPACE, TIME, permutations=args.permutations, seed=138))
    mem = peak_mib(lambda: knox_test(x, y, days, SPACE, TIME, permutations=args.permutations, seed=138))
    close_pairs = int(ours.observed[:-1].sum())
    print(f"{args.n:,} incidents over 365 days, {ours.n_pairs:,} pairs ({close_pairs:,} within {SPACE[-1]} m), "
          f"{args.permutations} permutations")

    t_peer_few, _ = timed(lambda: knox_brute_force(x, y, days, SPACE, TIME, permutations=args.peer_permutations,
                                                   seed=138))
    t_peer = t_peer_few / (args.peer_permutations + 1) * (args.permutations + 1)

    m = args.check_n
    t_small_ours, small_ours = timed(lambda: knox_test(x[:m], y[:m], days[:m], SPACE, TIME,
                                                       permutations=args.permutations, seed=7))
    t_small_peer, small_peer = timed(lambda: knox_brute_force(x[:m], y[:m], days[:m], SPACE, TIME,
                                                              permutations=args.permutations, seed=7))
    assert np.array_equal(small_ours.observed, small_peer.observed), "observed pairs differ from the brute force"
    assert np.array_equal(small_ours.p_value, small_peer.p_value), "p-values differ from the brute force"
    assert np.allclose(small_ours.expected, small_peer.expected, rtol=0, atol=1e-9), "expected pairs differ"

    print()
    print(f"{'method':<70} {'time (s)':>9} {'ratio':>8}")
    print(f"{f'ours: geo.near_repeat.knox_test, n = {args.n:,}':<70} {t_ours:>9.2f} {1:>7.0f}×")
    label = f"brute force over every pair, n = {args.n:,} (extrapolated from {args.peer_permutations} permutations)"
    print(f"{label:<70} {t_peer:>9.0f} {t_peer / t_ours:>7.0f}×")
    print(f"{f'ours, n = {m:,}':<70} {t_small_ours:>9.2f} {1:>7.0f}×")
    print(f"{f'brute force over every pair, n = {m:,} (all permutations)':<70} {t_small_peer:>9.2f} "
          f"{t_small_peer / t_small_ours:>7.0f}×")
    print(f"peak memory (ours, tracemalloc): {mem:.0f} MiB")
    print(f"n = {m:,}: observed, expected and p-values identical to the brute force (same seed)")
    print(f"target < 5 s: {'met' if t_ours < 5 else 'NOT met'} ({t_ours:.2f} s)")


if __name__ == "__main__":
    main()
