"""Where ``hmin verify``'s time goes, per check and seed: compile, trace, run, symbolic, plot, programs.

    python -m benchmarks.bench_verify [--preset default] [--seeds 0-4] [--only T1,T7] [--arms before,cold,warm]

Runs the real command in fresh processes, one per arm, each into its own report directory:

- ``before``: ``--no-cache --all-figures`` and ``HMIN_SYMBOLIC_PROCESS=0``: no persistent compilation
  cache, sympy every run and inline, every seed's figures (what ``hmin verify`` did before);
- ``cold``: the default with an empty cache directory (``HMIN_CACHE_DIR`` a fresh temporary one);
- ``warm``: the default again with the cache the cold arm filled;
- not run unless named: ``cold-inline`` (``--no-cache`` with the symbolic sides inline, first seed's
  figures: against ``cold``, what the symbolic worker process on the second core buys) and ``warm2``
  (``--processes 2`` on the warm cache: whether a second process helps once compiling is cached).

Per check and seed it prints the seconds that ``results.json`` records (``phases``: JAX's own
compile / trace+lower events, the rest of measure -> judge as run; plot; the statement's symbolic side
once per statement) and the programs built (compiled / loaded from the cache), then a summary per arm
with the command's wall time and the load average before and after (a number measured under load says
so). Verdicts of the arms are compared (they must agree).
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

ROOT = Path(__file__).resolve().parent.parent

#: arm -> (hmin verify flags, environment); "cold" runs on an empty cache directory, the others on the
#: cache the arms before them filled (run "cold" first)
ARMS = {
    "before": (["--no-cache", "--all-figures"], {"HMIN_SYMBOLIC_PROCESS": "0"}),
    "cold": ([], {}),
    "cold-inline": (["--no-cache"], {"HMIN_SYMBOLIC_PROCESS": "0"}),
    "warm": ([], {}),
    "warm2": (["--processes", "2"], {}),
}


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_arm(arm: str, preset: str, seeds: str, only: str | None, tmp: Path, log=print) -> dict:
    """Run ``hmin verify`` for one arm in a fresh process; its results.json, wall time and load."""
    out = tmp / f"out_{arm}"
    env = dict(os.environ, HMIN_QUIET="1", HMIN_CACHE_DIR=str(tmp / "cache"), PYTHONPATH=str(ROOT))
    env.pop("HMIN_CACHE", None)
    env.pop("HMIN_SYMBOLIC_PROCESS", None)
    flags, extra_env = ARMS[arm]
    env.update(extra_env)
    for k in ("HMIN_NUM_PROCESSES", "HMIN_PROCESS_ID", "HMIN_COORDINATOR"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "hmin", "verify", "--out", str(out), "--seeds", seeds, *flags]
    if preset != "default":
        cmd.append(f"--{preset}")
    if only:
        cmd += ["--only", only]
    log(f"  {arm}: {' '.join(cmd[2:])} (load {_load()}) ...")
    load0 = _load()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip().splitlines()[-3:]}")
    res = json.loads((out / "results.json").read_text())
    return {"arm": arm, "wall_s": wall, "load": f"{load0} -> {_load()}", "results": res}


def _rows(res: dict):
    for sid, row in res.items():
        if sid == "meta":
            continue
        sym = row.get("symbolic", {})
        for k, (s, part) in enumerate(row.get("seeds", {}).items()):
            ph = part.get("phases", {})
            yield sid, s, ph, (float(sym.get("wall_s") or 0) if k == 0 else 0.0), bool(sym.get("cached")), part


def detail_table(arm: dict):
    from benchmarks.run_all import Table

    t = Table(f"hmin verify per check and seed, arm '{arm['arm']}' (load {arm['load']})",
              ["check", "seed", "verdict", "compile (s)", "trace (s)", "run (s)", "symbolic (s)", "plot (s)",
               "programs (compiled / cache hits)"])
    for sid, s, ph, sym, cached, part in _rows(arm["results"]):
        t.add(sid, s, part.get("verdict"), ph.get("compile_s"), ph.get("trace_s"), ph.get("run_s"),
              f"{sym:.2f}{' (cached)' if cached else ''}" if sym or cached else "", ph.get("plot_s"),
              f"{ph.get('compiled', '?')} / {ph.get('cache_hits', '?')}")
    return t


def figure_table(arm: dict):
    """Seconds of each figure (savefig and write; the drawing before it is in the check's plot seconds)."""
    from benchmarks.run_all import Table

    t = Table(f"figures, arm '{arm['arm']}' (load {arm['load']})", ["check", "seed", "figure", "savefig (s)"])
    for sid, s, ph, _, _, _ in _rows(arm["results"]):
        for name, sec in sorted((ph.get("figures") or {}).items(), key=lambda kv: -kv[1]):
            t.add(sid, s, name, sec)
    return t


def summary(arm: dict) -> list:
    tot = {k: 0.0 for k in ("compile_s", "trace_s", "run_s", "plot_s", "sym", "compiled", "hits")}
    for _, _, ph, sym, _, _ in _rows(arm["results"]):
        for k in ("compile_s", "trace_s", "run_s", "plot_s"):
            tot[k] += float(ph.get(k) or 0)
        tot["sym"] += sym
        tot["compiled"] += int(ph.get("compiled") or 0)
        tot["hits"] += int(ph.get("cache_hits") or 0)
    inside = sum(tot[k] for k in ("compile_s", "trace_s", "run_s", "plot_s", "sym"))
    return [arm["arm"], arm["wall_s"], tot["compile_s"], tot["trace_s"], tot["run_s"], tot["sym"], tot["plot_s"],
            max(arm["wall_s"] - inside, 0.0), f"{int(tot['compiled'])} / {int(tot['hits'])}", arm["load"]]


def _verdicts(res: dict) -> dict:
    return {sid: {s: p.get("verdict") for s, p in row.get("seeds", {}).items()}
            for sid, row in res.items() if sid != "meta"}


def tables(quick: bool = False, preset: str | None = None, seeds: str = "0-4", only: str | None = None,
           arms=("before", "cold", "warm"), details: bool = True):
    from benchmarks.run_all import Table, n_cores

    preset = preset or ("quick" if quick else "default")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="hmin_bench_verify_") as tmp:
        done = [run_arm(a, preset, seeds, only, Path(tmp), log) for a in arms]
    t = Table(f"hmin verify --seeds {seeds}{' --' + preset if preset != 'default' else ''}"
              f"{' --only ' + only if only else ''}: where the time goes ({n_cores()} cores)",
              ["arm", "wall (s)", "compile (s)", "trace+lower (s)", "run (s)", "symbolic (s)", "plot (s)",
               "start-up, reports, other (s)", "programs (compiled / cache hits)", "load avg (1, 5, 15 min) before -> after"],
              [summary(a) for a in done])
    ref = _verdicts(done[0]["results"])
    same = all(_verdicts(a["results"]) == ref for a in done)
    t.notes += [f"Arms: {'; '.join(f'{a}: ' + (' '.join(ARMS[a][0] + [f'{k}={v}' for k, v in ARMS[a][1].items()]) or 'default') for a in arms)} (cold: empty "
                "cache directory; warm: the same again). compile = JAX backend-compile events (a cache hit is a "
                "load); trace+lower = jaxpr tracing and MLIR lowering events; run = the rest of measure -> judge "
                "(execution and Python); symbolic = sympy once per statement; plot = figures and measured/*.json.",
                f"Verdicts of every arm, every check and seed: {'identical' if same else 'DIFFERENT'}."]
    return [t] + ([detail_table(a) for a in done] + [figure_table(done[-1])] if details else [])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_verify", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the --quick preset (a smoke run)")
    ap.add_argument("--preset", default=None, choices=("quick", "default", "full"))
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--only", default=None)
    ap.add_argument("--arms", default="before,cold,warm", help=f"comma-separated, of {', '.join(ARMS)}")
    ap.add_argument("--no-details", action="store_true", help="the summary table only")
    args = ap.parse_args(argv)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    bad = [a for a in arms if a not in ARMS]
    if bad:
        ap.error(f"unknown arm(s) {bad}; choose from {', '.join(ARMS)}")
    for t in tables(args.quick, args.preset, args.seeds, args.only, arms, not args.no_details):
        print(t.text(), "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
