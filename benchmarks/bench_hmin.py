"""Exact minimum pairwise distance h_min: hmin against scipy's pdist and cKDTree.

    python -m benchmarks.bench_hmin [--quick] [--sizes 10000,100000,1000000] [--dims 3,32]

Work: h_min and its pair for N points uniform in [0, 1]^d, float64.  Arms:

- ``hmin``: ``sims.geometry.min_pairwise_distance`` (method ``auto``: cKDTree in low d, fused
  JAX screening + exact refinement in high d);
- ``hmin blocked``: the screening path forced, also in low d (for d = 3 only: the comparison);
- ``scipy pdist``: ``pdist(X).min()`` (the N(N-1)/2 condensed matrix, then its minimum);
- ``scipy cKDTree``: ``cKDTree(X).query(X, k=2)`` and the minimum over the second column.

Each (arm, d, N) runs once in its own subprocess; "peak MiB" is the growth of resident memory
above the process holding the points (kernel high-water mark; ``benchmarks.run_all.PeakRSS``).
An arm whose memory estimate exceeds what the machine has available is not run ("skipped: needs X
GiB"), nor one whose time, extrapolated as N^2 from the previous size, exceeds ``--max-seconds``.
Every arm's h_min is compared with hmin's (relative difference).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from benchmarks.run_all import available_bytes, run_case

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
DIMS = (3, 32)


def _points(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, d))


def arms_for(d: int) -> list[str]:
    arms = ["hmin"]
    if d <= 5:
        arms.append("hmin blocked")
    return arms + ["scipy pdist", "scipy cKDTree"]


def _case(arm: str, n: int, d: int) -> dict:
    from benchmarks.run_all import PeakRSS

    X = _points(n, d)
    if arm.startswith("hmin"):
        import jax
        import scipy.spatial  # noqa: F401  (imported outside the measurement, as for the scipy arms)

        jax.config.update("jax_enable_x64", True)  # the arms compare in float64 (hmin scopes its own)
        from hmin.sims.geometry import min_pairwise_distance

        jax.block_until_ready(jax.numpy.zeros(1) + 1)  # start the runtime outside the measurement
        method = "blocked" if arm == "hmin blocked" else "auto"
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            r = min_pairwise_distance(X, method=method)
            sec = time.perf_counter() - t0
        h, pair = r.h_min, [r.i, r.j]
    elif arm == "scipy pdist":
        from scipy.spatial.distance import pdist

        with PeakRSS() as mem:
            t0 = time.perf_counter()
            P = pdist(X)
            k = int(np.argmin(P))
            h = float(P[k])
            sec = time.perf_counter() - t0
        # condensed index -> (i, j)
        i = int(n - 2 - np.floor(np.sqrt(-8 * k + 4 * n * (n - 1) - 7) / 2.0 - 0.5))
        j = int(k + i + 1 - n * (n - 1) // 2 + (n - i) * ((n - i) - 1) // 2)
        pair = [i, j]
    else:
        from scipy.spatial import cKDTree

        with PeakRSS() as mem:
            t0 = time.perf_counter()
            dist, idx = cKDTree(X).query(X, k=2, workers=-1)
            i = int(np.argmin(dist[:, 1]))
            h = float(dist[i, 1])
            sec = time.perf_counter() - t0
        pair = sorted([i, int(idx[i, 1])])
    return {"seconds": sec, "peak_mib": mem.peak_mib, "h_min": h, "pair": pair}


def estimate_bytes(arm: str, n: int, d: int) -> float:
    if arm == "scipy pdist":
        return 8.0 * n * (n - 1) / 2
    if arm == "scipy cKDTree":
        return 8.0 * n * d + 40.0 * n
    return 8.0 * n * (3 * d + 8)  # hmin: centred copy, augmented rows, O(N) vectors


def _run_subprocess(arm, n, d, timeout):
    return run_case("benchmarks.bench_hmin", [arm, n, d], timeout)


def rows(sizes=FULL_SIZES, dims=DIMS, *, max_seconds: float = 300.0, log=print) -> list[list]:
    """Measure every (d, N, arm); rows [d, N, arm, seconds, peak MiB, h_min, note]."""
    avail = available_bytes()
    out = []
    for d in dims:
        last = {}  # arm -> (n, seconds)
        for n in sizes:
            ref = None
            for arm in arms_for(d):
                need = estimate_bytes(arm, n, d)
                if need > 0.8 * avail:
                    res = {"skipped": f"skipped: needs {need / 2**30:,.1f} GiB (available {avail / 2**30:.1f} GiB)"}
                elif arm in last and last[arm][1] == float("inf"):
                    res = {"skipped": f"skipped: already skipped at N = {last[arm][0]:,}"}
                elif arm in last and last[arm][1] * (n / last[arm][0]) ** 2 > max_seconds:
                    est = last[arm][1] * (n / last[arm][0]) ** 2
                    res = {"skipped": f"skipped: est. {est:,.0f} s (N^2 from N = {last[arm][0]:,}) > {max_seconds:.0f} s"}
                else:
                    log(f"  running {arm} at d = {d}, N = {n:,} ...")
                    res = _run_subprocess(arm, n, d, timeout=max_seconds * 2)
                if "skipped" in res:
                    out.append([d, n, arm, None, None, None, res["skipped"]])
                    log(f"    {res['skipped']}")
                    last[arm] = (n, float("inf"))
                    continue
                last[arm] = (n, res["seconds"])
                if arm == "hmin":
                    ref = res
                    note = f"reference; pair {tuple(res['pair'])}"
                elif ref is None:
                    note = "hmin not run: not compared"
                else:
                    rel = abs(res["h_min"] - ref["h_min"]) / ref["h_min"]
                    note = f"rel. diff {rel:.1e}; " + ("same pair" if res["pair"] == ref["pair"] else f"pair {tuple(res['pair'])}")
                out.append([d, n, arm, res["seconds"], res["peak_mib"], res["h_min"], note])
                log(f"    {res['seconds']:.2f} s, peak +{res['peak_mib']:.0f} MiB, h_min {res['h_min']:.6g}; {note}")
    return out


COLUMNS = ["d", "N", "implementation", "seconds", "peak MiB", "h_min", "notes"]


def tables(quick: bool = False, sizes=None, dims=DIMS, max_seconds: float = 300.0):
    from benchmarks.run_all import Table

    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    t = Table("Exact h_min of N uniform points in [0,1]^d (float64)", COLUMNS,
              rows(sizes, dims, max_seconds=max_seconds, log=lambda m: print(m, file=sys.stderr)))
    t.notes += [
        "Each (d, N, implementation) ran once in its own subprocess; 'peak MiB' = growth of resident "
        "memory above the process holding the points.  hmin 'auto' uses cKDTree in low d (d <= 5, "
        "or d <= 8 for N >= 1e5) and the blocked screening otherwise; the times include its exact "
        "refinement (and for the blocked path the jit compile).",
        "Skipped rows were not run: their memory (pdist: N(N-1)/2 float64) or their N^2-extrapolated "
        "time exceeds the limit.",
    ]
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_hmin", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}")
    ap.add_argument("--sizes", default=None, help="comma-separated N, e.g. 10000,100000")
    ap.add_argument("--dims", default=",".join(map(str, DIMS)), help="comma-separated d (default 3,32)")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="skip an arm estimated to take longer")
    ap.add_argument("--_case", nargs=3, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._case:
        arm, n, d = args._case
        print(json.dumps(_case(arm, int(n), int(d))))
        return 0
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    dims = tuple(int(s) for s in args.dims.split(","))
    for t in tables(args.quick, sizes=sizes, dims=dims, max_seconds=args.max_seconds):
        print(t.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
