"""Greedy max-min with triangle-inequality pruning against the machine's bandwidth, the unpruned greedy and fpsample.

    python -m benchmarks.bench_select_prune [--quick] [--sizes 100000,1000000] [--dims 3,64,256]
                                            [--pools gauss,clustered] [--target]

Pools (float32): ``gauss`` = N(0, I_d); ``clustered`` = 1,000 tight Gaussian clusters (centres
N(0, I_d), members = centre + 0.05 N(0, I_d), cluster sizes multinomial).  Arms, per (N, d, pool),
each case in its own subprocess (``benchmarks.run_all.run_case``):

- ``matvec``: one NumPy float32 matrix-vector product ``X @ v`` over the same pool (median of 5):
  the time of reading the pool once, i.e. this machine's bandwidth bound for one greedy step;
- ``hmin pruned``: ``sims.select.greedy_maxmin(X, k, prune="auto")`` (the default), k steps;
- ``hmin unpruned``: ``greedy_maxmin(..., prune=False)`` (the plain pass of every step, the
  greedy before pruning), run for ``k_plain`` <= k steps (``--plain-steps``); its per-step time is
  constant, so the time for k steps is extrapolated from it (said in the row);
- ``fpsample``: ``fpsample.fps_sampling`` (vanilla farthest point sampling, C++), run for
  ``k_fps`` steps and quoted per step the same way; at d = 3 also
  ``fpsample.bucket_fps_kdline_sampling`` (its KD-tree variant, h = 7; only d <= 3 works), for k.

Indices: the pruned run's first ``k_plain`` indices are compared with the unpruned run (they must
be identical; a mismatch is printed as such; ``--target --plain-steps 10000`` compares all of
them), and the first ``k_fps`` with fpsample's (which keeps float32 distances,
so a difference at a near-tie is possible; reported, not asserted).  ``--target`` runs the
issue's case only: N = 1e6, d = 256, clustered, k = 10,000, plus the N(0, I) step against the
matvec pass.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from benchmarks.run_all import available_bytes, run_case

N_CLUSTERS = 1000
CLUSTER_SIGMA = 0.05


def pool(kind: str, n: int, d: int, seed: int = 0) -> np.ndarray:
    """A float32 (n, d) pool: ``gauss`` (N(0, I)) or ``clustered`` (1,000 tight clusters)."""
    rng = np.random.default_rng(seed)
    if kind == "gauss":
        return rng.standard_normal((n, d), dtype=np.float32)
    if kind != "clustered":
        raise ValueError(kind)
    cent = rng.standard_normal((N_CLUSTERS, d), dtype=np.float32)
    X = rng.standard_normal((n, d), dtype=np.float32)
    X *= np.float32(CLUSTER_SIGMA)
    lab = rng.integers(N_CLUSTERS, size=n)
    for s in range(0, n, 1 << 16):  # in blocks: no second n x d temporary
        X[s : s + (1 << 16)] += cent[lab[s : s + (1 << 16)]]
    return X


def _case(kind: str, n: int, d: int, k: int, k_plain: int, k_fps: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 pools (hmin scopes its own calls)
    from hmin.sims.select import greedy_maxmin

    X = pool(kind, n, d)
    out: dict = {}
    v = np.random.default_rng(1).standard_normal(d, dtype=np.float32)
    X @ v
    ts, cs = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        X @ v
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    out["matvec_s"], out["matvec_cpu_s"] = statistics.median(ts), statistics.median(cs)
    jax.block_until_ready(jax.numpy.zeros(1) + 1)
    greedy_maxmin(X[:4096], 3, first=0, prune=False)  # compile-free runtime start
    work: dict = {}
    t0, c0 = time.perf_counter(), time.process_time()
    idx, _ = greedy_maxmin(X, k, first=0, stats=work)
    out["pruned_s"], out["pruned_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    out["pruned_work"] = work
    t0, c0 = time.perf_counter(), time.process_time()
    idx_p, _ = greedy_maxmin(X, k_plain, first=0, prune=False)
    out["plain_s"], out["plain_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    out["same_as_unpruned"] = bool(np.array_equal(idx[:k_plain], idx_p))
    try:
        import fpsample
    except ImportError:
        out["fpsample"] = None
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        f = fpsample.fps_sampling(X, k_fps, start_idx=0)
        out["fpsample_s"], out["fpsample_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        same = np.asarray(f) == idx[:k_fps]
        out["fpsample_same"] = int(np.argmin(same)) if not same.all() else -1
        if d <= 3:
            t0 = time.perf_counter()
            fpsample.bucket_fps_kdline_sampling(X, k, h=7, start_idx=0)
            out["kdline_s"] = time.perf_counter() - t0
    return out


COLUMNS = ["pool", "N", "d", "k", "matvec pass (ms)", "hmin pruned: s (ms/step)", "rows: exact; streamed",
           "hmin unpruned: ms/step", "fpsample fps: ms/step", "pruned / matvec per step",
           "CPU s: pruned; per step unpruned / fpsample / matvec (ms)", "notes"]


def rows(cases, log=print, max_seconds=3600.0) -> list[list]:
    out = []
    avail = available_bytes()
    for kind, n, d, k, kp, kf in cases:
        if 3.2 * 4.0 * n * d > 0.8 * avail:
            out.append([kind, n, d, k] + [None] * 7 + [f"skipped: needs ~{3.2 * 4 * n * d / 2**30:.1f} GiB"])
            continue
        log(f"  {kind} N = {n:,} d = {d} k = {k} (unpruned: {kp} steps, fpsample: {kf}) ...")
        r = run_case("benchmarks.bench_select_prune", [kind, n, d, k, kp, kf], max_seconds)
        if "skipped" in r:
            out.append([kind, n, d, k] + [None] * 7 + [r["skipped"]])
            log(f"    {r['skipped']}")
            continue
        w = r["pruned_work"]
        step_pruned = r["pruned_s"] / max(1, k - 1)
        step_plain = r["plain_s"] / max(1, kp - 1)
        notes = []
        notes.append("indices = unpruned" + (f" (first {kp})" if kp < k else "") if r["same_as_unpruned"]
                     else "INDICES DIFFER from the unpruned greedy")
        if w.get("plain_from_step") is not None:
            notes.append(f"auto: plain from step {w['plain_from_step']} (nothing to prune)")
        elif w.get("mode_at_end") == "plain":
            notes.append("auto: plain (too small to prune)")
        else:
            notes.append(f"steps: {w['steps_groups']} by groups, {w['steps_flat']} flat, {w['steps_plain']} plain")
        fp = None
        if r.get("fpsample_s") is not None:
            fp = r["fpsample_s"] / max(1, kf - 1) * 1e3
            notes.append("fpsample indices = hmin's" if r["fpsample_same"] < 0
                         else f"fpsample differs from step {r['fpsample_same'] + 1} (float32 distances)")
            winner = "fpsample faster per step" if fp < step_pruned * 1e3 else "hmin faster per step"
            notes.append(winner)
        if r.get("kdline_s") is not None:
            notes.append(f"fpsample kdline (KD-tree): {r['kdline_s']:.2f} s for k = {k}")
        if kp < k or kf < k:
            notes.append(f"unpruned run for {kp} steps, fpsample for {kf}"
                         + (f"; for k: ~{step_plain * (k - 1):.0f} s unpruned" if kp < k else ""))
        cpu = (f"{r['pruned_cpu_s']:.1f}; {r['plain_cpu_s'] / max(1, kp - 1) * 1e3:.1f} / "
               + (f"{r['fpsample_cpu_s'] / max(1, kf - 1) * 1e3:.1f}" if r.get("fpsample_cpu_s") is not None else "-")
               + f" / {r['matvec_cpu_s'] * 1e3:.1f}")
        out.append([kind, n, d, k, r["matvec_s"] * 1e3, f"{r['pruned_s']:.1f} ({step_pruned * 1e3:.2f})",
                    f"{w['rows_exact'] / max(1, w['rows_total']):.1%}; {w['rows_streamed'] / max(1, w['rows_total']):.1%}",
                    step_plain * 1e3, fp,
                    step_pruned / r["matvec_s"], cpu, "; ".join(notes)])
        log(f"    {out[-1]}")
    return out


def default_cases(quick: bool, sizes, dims, pools):
    cases = []
    for n in sizes:
        for d in dims:
            for kind in pools:
                if n >= 1_000_000:
                    k = 10_000 if (kind == "clustered" and d == 256) else 2000
                    kp = 100 if d >= 64 else 500
                else:
                    k, kp = 2000, 300 if d >= 64 else 2000
                if quick:
                    k, kp = min(k, 1500), min(kp, 100)
                cases.append((kind, n, d, k, kp, kp))
    return cases


def tables(quick: bool = False, sizes=None, dims=(3, 64, 256), pools=("gauss", "clustered"), cases=None,
           max_seconds: float = 3600.0):
    from benchmarks.run_all import Table

    sizes = sizes or ((100_000,) if quick else (100_000, 1_000_000))
    cases = cases or default_cases(quick, sizes, dims, pools)
    t = Table("Greedy max-min: pruned vs unpruned vs fpsample vs the matvec bandwidth pass (float32 pools)",
              COLUMNS, rows(cases, log=lambda m: print(m, file=sys.stderr), max_seconds=max_seconds))
    t.notes += [
        "Every number measured in this run, one subprocess per row.  'matvec pass' = median NumPy X @ v "
        "over the same pool (the time to read it once).  'hmin pruned' = greedy_maxmin with the default "
        "prune='auto', whole k (seconds, and per step); 'rows: exact; streamed' = rows whose float64 "
        "distance it computed, and rows its bound passes read (a matrix-vector product), each / (N (k - 1)).  The unpruned greedy and fpsample.fps_sampling run for fewer steps "
        "where said, and their per-step time is constant (every step reads the pool), so it is "
        "quoted per step.  'CPU s' = process CPU time (all threads; XLA and NumPy may use 2), "
        "less sensitive than wall time to other load on a shared machine.  fpsample's KD-tree variants fail for d > 3 (error code 1 in 1.0.2).",
        f"clustered = {N_CLUSTERS} clusters, centres N(0, I), spread {CLUSTER_SIGMA} per coordinate.",
    ]
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_select_prune", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 1e5 only, smaller k")
    ap.add_argument("--sizes", default=None, help="comma-separated N")
    ap.add_argument("--dims", default="3,64,256")
    ap.add_argument("--pools", default="gauss,clustered")
    ap.add_argument("--target", action="store_true", help="the issue's case: 1e6 x 256 clustered, k = 1e4; N(0, I) step")
    ap.add_argument("--plain-steps", type=int, default=None,
                    help="run the unpruned greedy for this many steps (at most k; e.g. 10000 with --target "
                         "compares every index of the pruned run; fpsample keeps its default steps)")
    ap.add_argument("--_case", nargs=6, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._case:
        kind, n, d, k, kp, kf = args._case
        print(json.dumps(_case(kind, int(n), int(d), int(k), int(kp), int(kf))))
        return 0
    if args.target:
        cases = [("clustered", 1_000_000, 256, 10_000, 100, 100), ("gauss", 1_000_000, 256, 200, 50, 50)]
        cases = [c for c in cases if c[0] in args.pools.split(",")]
    else:
        sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
        cases = default_cases(args.quick, sizes or ((100_000,) if args.quick else (100_000, 1_000_000)),
                              tuple(int(x) for x in args.dims.split(",")), tuple(args.pools.split(",")))
    if args.plain_steps is not None:
        if args.plain_steps < 2:
            ap.error(f"--plain-steps must be >= 2, got {args.plain_steps}")
        cases = [(kind, n, d, k, min(k, args.plain_steps), kf) for kind, n, d, k, kp, kf in cases]
    ts = tables(cases=cases, max_seconds=3600.0 if args.plain_steps is None else 4 * 3600.0)
    for t in ts:
        print(t.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
