"""What a cold ``hmin verify`` pays to write its programs into a filling compilation cache: hmin's bound
(``sims.caches.prune_compile_cache``: JAX unbounded, hmin deletes the least recently written entries once when
the cache is turned on) against JAX's own bound (``jax_compilation_cache_max_size``: its LRU mode rescans the
whole directory under a file lock on every write), as hmin configured it up to issue 18's third round.

    python -m benchmarks.bench_cache [--quick]

Each arm runs in a fresh process: a temporary cache directory is filled with N placeholder entries (20 KB each,
with the access-time files JAX's LRU mode reads), the cache is turned on as ``hmin verify`` does
(``enable_compile_cache``), and 30 new programs are compiled and written; the seconds for those 30 are printed
with the load average. The two arms alternate, sizes in increasing order.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from benchmarks.run_all import Table

_CHILD = r"""
import os, sys, tempfile, time
n, arm = int(sys.argv[1]), sys.argv[2]
d = tempfile.mkdtemp(prefix="hmin-bench-cache-")
for i in range(n):
    with open(os.path.join(d, f"k{i}-cache"), "wb") as f:
        f.write(b"x" * 20000)
    with open(os.path.join(d, f"k{i}-atime"), "wb") as f:
        f.write(i.to_bytes(8, "little"))
os.environ["HMIN_CACHE"] = "1"
import jax, jax.numpy as jnp, numpy as np
from hmin.sims.caches import COMPILE_CACHE_MAX_BYTES, enable_compile_cache
enable_compile_cache(d)
if arm == "jax":
    jax.config.update("jax_compilation_cache_max_size", COMPILE_CACHE_MAX_BYTES)
t = time.perf_counter()
for i in range(30):
    c = float(np.random.default_rng().uniform())  # a program no run has cached
    jax.jit(lambda x: jnp.sin(x) * (1.0 + i * 1e-3) + c)(np.ones(4)).block_until_ready()
print(time.perf_counter() - t)
"""


def tables(quick: bool = False) -> list:
    sizes = (300, 3000) if quick else (300, 3000, 20000)
    t = Table("writing 30 new programs into a compilation cache of N entries (seconds, fresh process per arm)",
              ["entries N", "hmin's bound (prune once)", "JAX's bound (LRU rescan per write)", "load"])
    env = dict(os.environ, HMIN_QUIET="1")
    for n in sizes:
        secs = {}
        for arm in ("hmin", "jax"):
            out = subprocess.run([sys.executable, "-c", _CHILD, str(n), arm], env=env, capture_output=True,
                                 text=True, check=True, timeout=1800)
            secs[arm] = float(out.stdout.split()[-1])
        t.add(n, f"{secs['hmin']:.2f}", f"{secs['jax']:.2f}", "/".join(f"{x:.1f}" for x in os.getloadavg()))
    return [t]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 and 3000 entries only")
    a = ap.parse_args(argv)
    for tab in tables(a.quick):
        print(tab.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
