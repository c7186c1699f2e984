"""Seeds as a batch axis (issue 18, item 1): is one vmapped program over k base seeds' runs cheaper than
k programs of one seed's runs each?

    python -m benchmarks.bench_seed_batch [--quick] [--seeds 5]

The two most expensive checks of ``hmin verify`` at their default shapes, through the engine they use
(``sims.gd.train_batch``, float64, shallow tanh net on N = 8 points in d = 16):

- C5's evaluation: 96 runs per base seed (8 evaluation seeds x 3 label modes x 4 h_min), width 64, under
  gd, sgd (B = 2) and adam, loss recorded at every step;
- T6's width sweep: 30 runs per base seed and width (3 label modes x 5 h_min x 2 seeds), widths 16, 64 and
  256, the Gram diagnostics every 200 steps.

For each shape: k calls with B = (one seed's runs) against one call with B = k x (one seed's runs), both
after their compilation (timed apart: the compile is shared by every base seed either way, since the
shapes do not depend on the seed). Wall and process CPU seconds (every thread of this process: the
number to read on a loaded machine, where wall seconds measure the other jobs too). Fewer steps than the
checks run: the cost per step is what is compared. The load average is printed with every row.

Measured 2026-12-07 on the 2-core machine under load 9-10 (CPU seconds, k = 5): one program costs as
much as five or more (C5 gd 2.42 vs 2.40, adam 4.20 vs 3.57; T6 width 256 7.31 vs 4.96): at these batch
sizes a step is compute-bound, not dispatch-bound, so ``hmin verify --seeds`` keeps one program call per
seed on this CPU. A GPU, where these tiny nets are launch-bound, may answer differently: rerun there.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks.run_all import Table

#: (name, width, runs per base seed, optimizer, record_every: None = every step)
SHAPES = (
    ("C5 gd", 64, 96, "gd", None),
    ("C5 sgd", 64, 96, "sgd", None),
    ("C5 adam", 64, 96, "adam", None),
    ("T6 width 16", 16, 30, "gd", 200),
    ("T6 width 64", 64, 30, "gd", 200),
    ("T6 width 256", 256, 30, "gd", 200),
)


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _timed(f) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - t0, time.process_time() - c0


def measure(name: str, width: int, per_seed: int, opt: str, record_every, *, steps: int, k: int) -> dict:
    """Wall and CPU seconds of k programs of ``per_seed`` runs against one of ``k * per_seed`` runs."""
    import jax

    from hmin.sims import gd
    from hmin.sims.models import make_model

    jax.config.update("jax_enable_x64", True)
    model = make_model("shallow", d=16, width=width, activation="tanh")
    cfg = gd.GDConfig(lr=1.0, steps=steps, record_every=record_every or steps, optimizer=opt,
                      batch=2 if opt == "sgd" else None, gram=record_every is not None, sharpness=False)
    rng = np.random.default_rng(0)
    B = k * per_seed
    X = rng.standard_normal((B, 8, 16))
    X /= np.linalg.norm(X, axis=-1, keepdims=True)
    Y = rng.standard_normal((B, 8, 1))
    p0 = jax.tree_util.tree_map(np.asarray, jax.vmap(model.init)(jax.random.split(jax.random.PRNGKey(0), B)))
    lrs = np.full(B, 0.05 if opt != "adam" else 1e-2)
    key = jax.random.PRNGKey(1)

    def call(lo, hi):
        return gd.train_batch(model, X[lo:hi], Y[lo:hi], cfg, key=key,
                              params0=jax.tree_util.tree_map(lambda a: a[lo:hi], p0), lrs=lrs[lo:hi])

    first_k, _ = _timed(lambda: call(0, per_seed))  # compile both shapes first
    first_1, _ = _timed(lambda: call(0, B))
    sep = _timed(lambda: [call(s * per_seed, (s + 1) * per_seed) for s in range(k)])
    one = _timed(lambda: call(0, B))
    return {"name": name, "runs": per_seed, "sep": sep, "one": one, "compile": (first_k, first_1)}


def tables(quick: bool = False, k: int = 5) -> list:
    steps_c5, steps_t6 = (300, 400) if quick else (3000, 2000)
    t = Table(f"seeds as a batch axis: {k} base seeds in one vmapped program vs {k} programs (after compiling)",
              ["shape", "runs/seed", "steps", f"{k} programs wall (s)", "one program wall (s)",
               f"{k} programs CPU (s)", "one program CPU (s)", "one / separate (CPU)", "load"])
    for name, width, per_seed, opt, rec in SHAPES:
        steps = steps_c5 if name.startswith("C5") else steps_t6
        r = measure(name, width, per_seed, opt, rec, steps=steps, k=k)
        t.add(name, per_seed, steps, f"{r['sep'][0]:.2f}", f"{r['one'][0]:.2f}", f"{r['sep'][1]:.2f}",
              f"{r['one'][1]:.2f}", f"{r['one'][1] / max(r['sep'][1], 1e-9):.2f}", _load())
    t.notes.append("CPU seconds count every thread of this process; under load they are the comparable number. "
                   "A ratio near or above 1 means the seeds gain nothing from sharing a program on this machine.")
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    ap.add_argument("--seeds", type=int, default=5, help="how many base seeds share one program (k)")
    a = ap.parse_args(argv)
    for tab in tables(a.quick, a.seeds):
        print(tab.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
