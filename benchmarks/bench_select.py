"""Greedy max-min (farthest-first) selection: hmin against the two ways people usually write it.

    python -m benchmarks.bench_select [--quick] [--sizes 10000,100000,1000000] [--k 100] [--d 256]

Work: pick k points of an (N, d) float32 standard-normal pool by farthest-first traversal,
starting at point 0.  Arms:

- ``hmin``: ``sims.select.greedy_maxmin`` (a jitted float64 distance sweep per step + an O(N)
  running minimum in NumPy; never a k x N matrix);
- ``numpy loop``: the straightforward loop: running minimum, and per step the full distance
  vector ``np.linalg.norm(X - X[j], axis=1)`` in float32 (an N x d temporary per step);
- ``k x N matrix``: DeepCore's ``k_center_greedy`` transcribed to NumPy: a (k, N) float32 matrix
  of distances from every chosen centre, the distances of the not-yet-chosen points (a boolean-mask
  copy of the pool each step) by the matrix-product form sqrt(|x|^2 + |c|^2 - 2 x.c).

Each (arm, N) runs once, in its own subprocess, so that its peak memory is its own: "peak MiB" is
the growth of resident memory above the process after the pool was generated (kernel high-water
mark, ``benchmarks.run_all.PeakRSS``; for the NumPy arms also ``tracemalloc``'s peak).  An arm
whose estimated memory exceeds what the machine has available is not run ("skipped: needs X
GiB"), nor one whose time, extrapolated from its per-step time at a smaller N, exceeds
``--max-seconds``.  The indices are compared with hmin's (the k x N arm returns a set, as in
DeepCore, so sets are compared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from benchmarks.run_all import available_bytes, run_case

ARMS = ("hmin", "numpy loop", "k x N matrix")
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)


def _pool(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)


def numpy_loop(X: np.ndarray, k: int, first: int = 0) -> np.ndarray:
    mind = np.full(len(X), np.inf, dtype=np.float32)
    idx = [first]
    for _ in range(1, k):
        dist = np.linalg.norm(X - X[idx[-1]], axis=1)
        np.minimum(mind, dist, out=mind)
        mind[idx[-1]] = -1.0
        idx.append(int(np.argmax(mind)))
    return np.array(idx)


def kxn_matrix(X: np.ndarray, k: int, first: int = 0) -> np.ndarray:
    """DeepCore's k_center_greedy (methods_utils/... k_center_greedy) in NumPy, float32."""
    n = len(X)
    sq = np.einsum("ij,ij->i", X, X)

    def euclidean(c, mask):
        A = X[mask]  # DeepCore: matrix[~select_result], a copy
        d2 = sq[mask] + c @ c - 2.0 * (A @ c)
        return np.sqrt(np.clip(d2, 1e-12, None))

    selected = np.zeros(n, dtype=bool)
    selected[first] = True
    dis = -np.ones((k - 1, n), dtype=np.float32)  # the k x N matrix
    dis[0, ~selected] = euclidean(X[first], ~selected)
    mins = dis[0].copy()
    mins[first] = -1.0
    for i in range(k - 1):
        p = int(np.argmax(mins))
        selected[p] = True
        if i == k - 2:
            break
        mins[p] = -1.0
        dis[i + 1, ~selected] = euclidean(X[p], ~selected)
        mins = np.minimum(mins, dis[i + 1])
    return np.flatnonzero(selected)


def tie_gap(X: np.ndarray, prefix, a: int, b: int) -> float:
    """Relative difference of min_{s in prefix} ||x - x_s|| (float64, from differences) at a and b."""
    P = X[list(prefix)].astype(np.float64)
    ra = np.sqrt(((P - X[a].astype(np.float64)) ** 2).sum(axis=1)).min()
    rb = np.sqrt(((P - X[b].astype(np.float64)) ** 2).sum(axis=1)).min()
    return float(abs(ra - rb) / max(ra, rb))


def _case(arm: str, n: int, d: int, k: int) -> dict:
    """Run one arm in this process; returns seconds, peak memory and the indices."""
    import tracemalloc

    from benchmarks.run_all import PeakRSS

    X = _pool(n, d)
    out: dict = {}
    if arm == "hmin":
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 pools (hmin scopes its own calls)
        from hmin.sims.select import greedy_maxmin

        jax.block_until_ready(jax.numpy.zeros(1) + 1)  # start the runtime outside the measurement

        with PeakRSS() as mem:
            t0 = time.perf_counter()
            idx, _ = greedy_maxmin(X, k, first=0)
            out["seconds"] = time.perf_counter() - t0
    else:
        f = numpy_loop if arm == "numpy loop" else kxn_matrix
        tracemalloc.start()
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            idx = f(X, k, 0)
            out["seconds"] = time.perf_counter() - t0
        out["tracemalloc_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["peak_mib"] = mem.peak_mib
    out["indices"] = [int(i) for i in idx]
    return out


def estimate_bytes(arm: str, n: int, d: int, k: int) -> float:
    """Extra memory beyond the pool (n x d float32)."""
    pool = 4.0 * n * d
    if arm == "hmin":
        return pool + 4 * 8.0 * n  # JAX's copy of the pool, O(N) float64 vectors
    if arm == "numpy loop":
        return 2 * pool + 4 * 4.0 * n  # X - c and its square
    return 4.0 * k * n + 2 * pool + 4 * 4.0 * n  # the k x N matrix, the masked copy, A @ c


def _size(b: float) -> str:
    return f"{b / 2**30:.1f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def _run_subprocess(arm, n, d, k, timeout):
    return run_case("benchmarks.bench_select", [arm, n, d, k], timeout)


def rows(sizes=FULL_SIZES, *, d: int = 256, k: int = 100, max_seconds: float = 600.0, log=print,
         extra_k: int | None = 10_000) -> list[list]:
    """Measure every (N, arm); returns table rows [N, d, k, arm, seconds, peak MiB, note]."""
    avail = available_bytes()
    out = []
    per_step = {}  # arm -> (n, seconds per step) at the largest N measured so far
    for n in sizes:
        ref = None
        for arm in ARMS:
            need = estimate_bytes(arm, n, d, k)
            note = ""
            if need > 0.8 * avail:
                res = {"skipped": f"skipped: needs {need / 2**30:.1f} GiB (available {avail / 2**30:.1f} GiB)"}
            elif arm in per_step and per_step[arm][1] * (n / per_step[arm][0]) * (k - 1) > max_seconds:
                est = per_step[arm][1] * (n / per_step[arm][0]) * (k - 1)
                res = {"skipped": f"skipped: est. {est:.0f} s > {max_seconds:.0f} s"}
            else:
                log(f"  running {arm} at N = {n:,} (d = {d}, k = {k}) ...")
                res = _run_subprocess(arm, n, d, k, timeout=max_seconds * 2)
            if "skipped" in res:
                out.append([n, d, k, arm, None, None, res["skipped"]])
                log(f"    {res['skipped']}")
                continue
            per_step[arm] = (n, res["seconds"] / max(k - 1, 1))
            idx = res["indices"]
            if arm == "hmin":
                ref = idx
                note = "reference"
            elif ref is None:
                note = "hmin not run: not compared"
            elif arm == "k x N matrix":
                note = "same set as hmin" if sorted(idx) == sorted(ref) else (
                    f"sets differ in {len(set(idx) ^ set(ref)) // 2} of {k}")
            else:
                if idx == ref:
                    note = "same indices as hmin"
                else:
                    t = next(i for i, (a, b) in enumerate(zip(idx, ref)) if a != b)
                    gap = tie_gap(_pool(n, d), ref[:t], ref[t], idx[t])
                    note = (f"differs from step {t + 1}: the two choices' float64 distances to the chosen set "
                            f"differ by rel. {gap:.1e} " + ("(a tie at float32 precision)" if gap < 1e-5
                                                             else "(NOT a float32 tie)"))
            peak = res.get("peak_mib")
            if res.get("tracemalloc_mib") is not None:
                note += f"; tracemalloc peak {res['tracemalloc_mib']:.0f} MiB"
            out.append([n, d, k, arm, res["seconds"], peak, note])
            log(f"    {res['seconds']:.2f} s, peak +{peak if peak is not None else float('nan'):.0f} MiB; {note}")
    if extra_k:  # what a larger budget would need, from the estimates and measured per-step times
        n = max(sizes)
        for arm in ARMS:
            need = estimate_bytes(arm, n, d, extra_k)
            if need > 0.8 * avail:
                msg = f"skipped: needs {need / 2**30:.1f} GiB (available {avail / 2**30:.1f} GiB)"
            elif arm in per_step:
                est = per_step[arm][1] * (n / per_step[arm][0]) * (extra_k - 1)
                msg = f"not run: est. {est:,.0f} s from the measured per-step time, memory ~{_size(need)}"
            else:
                msg = "not run"
            out.append([n, d, extra_k, arm, None, None, msg])
    return out


COLUMNS = ["N", "d", "k", "implementation", "seconds", "peak MiB", "notes"]


def tables(quick: bool = False, sizes=None, d: int = 256, k: int = 100, max_seconds: float = 600.0):
    from benchmarks.run_all import Table

    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    t = Table(f"Greedy max-min selection, float32 N(0, I) pool, d = {d}, k = {k}", COLUMNS,
              rows(sizes, d=d, k=k, max_seconds=max_seconds, log=lambda m: print(m, file=sys.stderr),
                   extra_k=None if quick else 10_000))
    t.notes += [
        "Each (N, implementation) ran once in its own subprocess; seconds include everything the "
        "call does (for hmin: the copy into JAX and the jit compile; the JAX runtime is started "
        "before).  'peak MiB' = growth of "
        "resident memory above the process holding the pool (kernel high-water mark).",
        "hmin computes distances in float64 from differences; the NumPy loop in float32; the k x N "
        "arm (DeepCore's k_center_greedy) by the float32 matrix-product form.",
        "Rows with k = 10,000 are not run: estimated from the measured per-step times and memory.",
    ]
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_select", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}")
    ap.add_argument("--sizes", default=None, help="comma-separated pool sizes N, e.g. 10000,100000")
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="skip an arm estimated to take longer")
    ap.add_argument("--_case", nargs=4, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._case:
        arm, n, d, k = args._case
        print(json.dumps(_case(arm, int(n), int(d), int(k))))
        return 0
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    for t in tables(args.quick, sizes=sizes, d=args.d, k=args.k, max_seconds=args.max_seconds):
        print(t.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
