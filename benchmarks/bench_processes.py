"""How a selection and a sweep scale with the number of processes (``--processes N``) on this machine.

    python -m benchmarks.bench_processes [--quick] [--processes 1,2]

Runs the real commands, each in fresh processes through the ``--processes`` launcher
(``sims.distributed``: jax.distributed over 127.0.0.1, gloo collectives):

- ``hmin select POOL --k K`` (greedy max-min, N(0, I) float32 pool): the time the greedy took
  inside process 0 (``info.select_seconds`` of selection.json: every step includes one
  cross-process all-gather) and the wall time of the whole command (start-up, connection,
  reports);
- ``hmin run planted-pair`` with a small fixed configuration (units split across processes):
  the experiment's own ``wall_time_s`` and the wall time of the command;
- ``hmin verify --quick --only T1,T2,T4,T10 --seeds 0-1`` (the (statement, seed) work split across
  processes): ``wall_s_last_run`` of results.json and the wall time of the command.

Indices, summaries, verdicts and numbers are compared with the one-process run (they must be identical).  On a
machine with fewer cores than processes the processes share the cores, so the honest figure is
the overhead, not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["--set", "n=16", "--set", "d=16", "--set", "width=128", "--set", "steps=3000", "--set", "record_every=500",
         "--set", "eps_values=(0.001, 0.01, 0.1)", "--set", "seeds=(0, 1)"]


def _cli(args, n, cwd, ok=(0,)):
    env = dict(os.environ, HMIN_QUIET="1", PYTHONPATH=str(ROOT))
    for k in ("HMIN_NUM_PROCESSES", "HMIN_PROCESS_ID", "HMIN_COORDINATOR"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "hmin", *args] + (["--processes", str(n)] if n > 1 else [])
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    if r.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - t0


def rows(procs=(1, 2), n=200_000, d=64, k=300, log=print) -> list[list]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "pool.npy", np.random.default_rng(0).standard_normal((n, d), dtype=np.float32))
        ref_idx = ref_sum = None
        for p in procs:
            log(f"  select, {p} process(es) ...")
            wall = _cli(["select", "pool.npy", "--k", str(k), "--first", "0", "--out", f"sel{p}"], p, tmp)
            rep = json.loads((Path(tmp) / f"sel{p}" / "selection.json").read_text())
            idx = np.load(Path(tmp) / f"sel{p}" / "indices.npy")
            ref_idx = idx if ref_idx is None else ref_idx
            same = bool(np.array_equal(idx, ref_idx))
            g = rep["info"]["select_seconds"]
            out.append([f"select maxmin, N = {n:,}, d = {d}, k = {k}", p, g, g / (k - 1) * 1e3, wall,
                        "reference" if p == procs[0] else ("same indices" if same else "INDICES DIFFER")])
            log(f"    {out[-1]}")
            log(f"  planted-pair sweep, {p} process(es) ...")
            wall = _cli(["run", "planted-pair", "--out", f"pp{p}", *SWEEP], p, tmp)
            s = json.loads((Path(tmp) / f"pp{p}" / "summary.json").read_text())
            ref_sum = s["modes"] if ref_sum is None else ref_sum
            out.append(["planted-pair: 3 label modes x 2 seeds (6 units of 3 runs x 3000 steps)", p,
                        s["wall_time_s"], None, wall,
                        "reference" if p == procs[0] else ("same numbers" if s["modes"] == ref_sum else "NUMBERS DIFFER")])
            log(f"    {out[-1]}")
        ref_v = None
        for p in procs:
            log(f"  verify (quick preset, {VERIFY_IDS}, seeds 0-1), {p} process(es) ...")
            wall = _cli(["verify", "--quick", "--only", VERIFY_IDS, "--seeds", "0-1", "--out", f"ver{p}"], p, tmp,
                        ok=(0, 1))
            res = json.loads((Path(tmp) / f"ver{p}" / "results.json").read_text())
            v = _verdicts(res)
            ref_v = v if ref_v is None else ref_v
            out.append([f"verify --quick --only {VERIFY_IDS} --seeds 0-1", p, res["meta"]["wall_s_last_run"], None, wall,
                        "reference" if p == procs[0] else ("same verdicts and numbers" if v == ref_v
                                                           else "VERDICTS OR NUMBERS DIFFER")])
            log(f"    {out[-1]}")
    return out


VERIFY_IDS = "T1,T2,T4,T10"


def _verdicts(res: dict) -> dict:
    """Every row's verdicts and numbers, per seed, without the timings (wall_s, *_seconds)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if not (k.startswith("wall") or k.endswith("seconds"))}
        return x

    return {sid: strip({s: {"verdict": r.get("verdict"), "numbers": r.get("numbers")} for s, r in row.get("seeds", {}).items()})
            for sid, row in res.items() if sid != "meta"}


COLUMNS = ["work", "processes", "inside (s)", "ms per greedy step", "command wall (s)", "vs 1 process"]


def tables(quick: bool = False, procs=(1, 2)):
    from benchmarks.run_all import Table, n_cores

    t = Table(f"Scaling with processes (--processes N, jax.distributed over 127.0.0.1, {n_cores()} cores)", COLUMNS,
              rows(procs, n=50_000 if quick else 200_000, k=100 if quick else 300,
                   log=lambda m: print(m, file=sys.stderr)))
    t.notes += ["'inside' = the greedy's own time in process 0 (select_seconds; each step includes one "
                "cross-process all-gather) or the experiment's wall_time_s; 'command wall' includes "
                "interpreter and JAX start-up, connecting, compiling and writing reports; for verify, "
                "'inside' = results.json's wall_s_last_run, and 'same' compares every seed's verdict and "
                "numbers (timings left out)."]
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_processes", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--processes", default="1,2")
    args = ap.parse_args(argv)
    for t in tables(args.quick, tuple(int(x) for x in args.processes.split(","))):
        print(t.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
