"""What it costs to give LAPACK one matrix per call (``hmin.sims.linalg``) instead of the whole batch.

    python -m benchmarks.bench_linalg [--quick]

jaxlib's batched CPU LAPACK calls can deadlock XLA's intra-op pool when two run at once (sims/linalg.py);
hmin's programs therefore hand LAPACK one matrix per call (``lax.map`` over the batch). This measures the
price on the shapes hmin's checks use: ``jax.jit(jax.vmap(eigvalsh))`` of a stack of symmetric float64
matrices, sims.linalg against ``jnp.linalg``'s one batched call (the alternative: fine alone, but it can hang
when a second batched call runs beside it, so a program with two is not timed). Compilation is timed apart;
the warm repeats are interleaved (``run_all.time_arms``), median shown, with the load average.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks.run_all import Table, time_arms

#: (batch, n): the engine's Gram stacks (16 x 64), T7's attack Hessians (8 x 41 per activation), T5's
#: segment Hessians, and a larger matrix
SHAPES = ((16, 64), (64, 32), (30, 41), (8, 200))


def tables(quick: bool = False) -> list:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    from hmin.sims import linalg

    t = Table("one matrix per LAPACK call (sims.linalg.eigvalsh) vs the batched jnp.linalg.eigvalsh, float64",
              ["batch x n x n", "one per call, ms", "batched, ms", "ratio", "compile one / batched, s"])
    rng = np.random.default_rng(0)
    for B, n in SHAPES:
        A = rng.standard_normal((B, n, n))
        A = jax.device_put(A + np.swapaxes(A, 1, 2))
        serial, batched = jax.jit(jax.vmap(linalg.eigvalsh)), jax.jit(jax.vmap(jnp.linalg.eigvalsh))
        res = time_arms({"serial": lambda: serial(A), "batched": lambda: batched(A)}, repeats=5 if quick else 15,
                        log=lambda *_: None)
        np.testing.assert_array_equal(np.asarray(res["serial"].result), np.asarray(res["batched"].result))
        s, b = res["serial"].median_s, res["batched"].median_s
        compile_s = f"{res['serial'].first_s:.2f} / {res['batched'].first_s:.2f}"
        t.add(f"{B} x {n} x {n}", s * 1e3, b * 1e3, s / b, compile_s)
    t.notes.append(f"Eigenvalues are bitwise equal in every row (asserted). Load average "
                   f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} after the run.")
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_linalg", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    args = ap.parse_args(argv)
    for tab in tables(quick=args.quick):
        print(tab.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
