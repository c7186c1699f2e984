"""Run every benchmark in ``benchmarks/`` and write BENCHMARKS.md (``make bench``).

    python -m benchmarks.run_all [--quick] [--out BENCHMARKS.md] [--only sweep,diagnostics]

Each ``benchmarks/bench_*.py`` module is run in this process, in a fixed order (sweep,
diagnostics, select, hmin, then any other ``bench_*`` alphabetically).  A module takes part by
exposing either

- ``tables(quick: bool) -> list``: each item a :class:`Table`, an object with a ``markdown()``
  method, a dict ``{"title", "columns", "rows", "notes"}`` or a preformatted markdown string; or
- ``main(argv) -> int``: it is called with ``["--quick"]`` or ``[]`` and what it prints becomes
  its section (verbatim, in a code block).

A module that is absent or fails to import is listed with the reason, and so is one that raises:
one broken benchmark never hides the others.  BENCHMARKS.md is written atomically
(``sims.store.atomic_write_text``) with the machine, the library versions and the date.

This module also holds the measurement harness the benchmarks share: :class:`Table`,
:func:`time_arms` (warm-up/compile timed separately, then interleaved repeats, median),
:class:`PeakRSS` (peak resident memory of one call) and :func:`matmul_throughput`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import datetime
import gc
import importlib
import io
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["bench_sweep", "bench_diagnostics", "bench_select", "bench_select_prune", "bench_hmin"]

__all__ = ["Table", "Timing", "time_arms", "PeakRSS", "matmul_throughput", "machine_info", "torch_or_none",
           "fmt", "main"]


# --------------------------------------------------------------------------------------------
# Tables


def available_bytes() -> float:
    """MemAvailable from /proc/meminfo (8 GiB if unreadable): what a benchmark case may use."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024.0
    except OSError:
        pass
    return 8 * 2.0**30


def run_case(module: str, args: list, timeout: float) -> dict:
    """Run ``python -m module --_case *args`` in a fresh process; its last stdout line is a JSON dict.

    A case that times out or fails returns ``{"skipped": reason}`` instead of raising, so one
    case out of memory or time does not lose the table.
    """
    import json
    import subprocess

    cmd = [sys.executable, "-m", module, "--_case", *map(str, args)]
    env = dict(os.environ, HMIN_QUIET="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=root, env=env)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {timeout:.0f} s"}
    if r.returncode != 0:
        return {"skipped": f"failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


@dataclasses.dataclass
class Table:
    """A result table: printed aligned on the terminal, written as markdown to BENCHMARKS.md."""

    title: str
    columns: list[str]
    rows: list[list[Any]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def add(self, *row) -> None:
        self.rows.append(list(row))

    def markdown(self) -> str:
        out = [f"### {self.title}", ""]
        if self.rows:
            out.append("| " + " | ".join(self.columns) + " |")
            out.append("|" + "|".join("---" for _ in self.columns) + "|")
            out += ["| " + " | ".join(fmt(v).replace("|", "\\|") for v in r) + " |" for r in self.rows]
            out.append("")
        for n in self.notes:
            out += [n, ""]
        return "\n".join(out)

    def text(self) -> str:
        cells = [self.columns] + [[fmt(v) for v in r] for r in self.rows]
        w = [max(len(str(r[i])) for r in cells) for i in range(len(self.columns))]
        line = lambda r: "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r))  # noqa: E731
        out = [self.title, "-" * len(self.title)]
        if self.rows:
            out += [line(self.columns), line(["-" * x for x in w])] + [line(r) for r in cells[1:]]
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)


def fmt(v) -> str:
    """Numbers to 3-4 significant figures; strings unchanged; None -> an en dash."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 0.01:
            return f"{v:.3g}"
        return f"{v:.2e}"
    return str(v)


def _table_markdown(t) -> str:
    if isinstance(t, str):
        return t
    if hasattr(t, "markdown"):
        return t.markdown()
    if isinstance(t, dict):
        return Table(t.get("title", ""), list(t.get("columns", [])), [list(r) for r in t.get("rows", [])],
                     list(t.get("notes", []))).markdown()
    return f"```\n{t}\n```"


def _table_text(t) -> str:
    if isinstance(t, Table):
        return t.text()
    return _table_markdown(t)


# --------------------------------------------------------------------------------------------
# Timing


@dataclasses.dataclass
class Timing:
    """Wall-clock seconds of one arm: the first call (trace + compile + run) and the warm repeats."""

    first_s: float | None
    times_s: list[float]
    peak_mib: float | None
    result: Any = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def min_s(self) -> float:
        return min(self.times_s)


def block(x):
    """Wait for asynchronous JAX results (no-op for NumPy / torch CPU tensors)."""
    try:
        import jax

        return jax.block_until_ready(x)
    except Exception:  # noqa: BLE001  (not a JAX pytree: nothing to wait for)
        return x


def time_arms(arms: dict[str, Callable[[], Any]], *, repeats: int = 3, warmups: dict | None = None,
              log=print) -> dict[str, Timing]:
    """Time several arms doing the same work, fairly.

    Each arm is called once to warm up (its trace/compile/first-run time is reported apart),
    then ``repeats`` rounds call every arm once, the order rotated each round so that a
    background load spike does not fall on one arm only; every call is followed by
    ``block_until_ready``.  The peak resident memory of each arm is measured on its first warm
    call.  Returns the median and the minimum over the repeats.  ``warmups`` may give an arm a
    cheaper warm-up (an eager loop has nothing to compile); its ``first_s`` is then None.
    """
    warmups = warmups or {}
    names = list(arms)
    first, times, peaks, results = {}, {n: [] for n in names}, {}, {}
    for n in names:
        gc.collect()
        t0 = time.perf_counter()
        results[n] = block(warmups.get(n, arms[n])())
        first[n] = time.perf_counter() - t0
        log(f"  warm-up {n}: {first[n]:.2f} s")
        if n in warmups:
            first[n] = None
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            gc.collect()
            if r == 0:
                with PeakRSS() as mem:
                    t0 = time.perf_counter()
                    results[n] = block(arms[n]())
                    dt = time.perf_counter() - t0
                peaks[n] = mem.peak_mib
            else:
                t0 = time.perf_counter()
                results[n] = block(arms[n]())
                dt = time.perf_counter() - t0
            times[n].append(dt)
        log(f"  round {r + 1}/{repeats}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names))
    return {n: Timing(first[n], times[n], peaks.get(n), results[n]) for n in names}


# --------------------------------------------------------------------------------------------
# Memory


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRSS:
    """Peak resident memory of a block above the resident memory at its start, in MiB.

    Linux: freed heap pages are returned (``malloc_trim``), the kernel's high-water mark is reset
    (``/proc/self/clear_refs`` = 5) and read back (``VmHWM``) after the block.  Where the reset is
    not allowed, a thread samples ``VmRSS`` every millisecond instead.  ``peak_mib`` is None where
    neither works (non-Linux).
    """

    def __enter__(self):
        gc.collect()
        _malloc_trim()
        self.base = _status_kib("VmRSS")
        self.peak_mib = None
        self._sampler = None
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self._mode = "hwm"
        except OSError:
            self._mode = "poll" if self.base is not None else None
            if self._mode:
                self._stop = threading.Event()
                self._max = self.base

                def poll():
                    while not self._stop.wait(0.001):
                        self._max = max(self._max, _status_kib("VmRSS") or 0)

                self._sampler = threading.Thread(target=poll, daemon=True)
                self._sampler.start()
        return self

    def __exit__(self, *exc):
        if self._mode == "hwm":
            hwm = _status_kib("VmHWM")
            if hwm is not None and self.base is not None:
                self.peak_mib = max(hwm - self.base, 0) / 1024
        elif self._mode == "poll":
            self._stop.set()
            self._sampler.join()
            self.peak_mib = max(self._max - self.base, 0) / 1024
        return False


# --------------------------------------------------------------------------------------------
# Machine and libraries


def torch_or_none():
    """The torch module, or None when it is not installed (it is an optional ``bench`` extra).

    Unless the environment says otherwise, torch's OpenMP threads are told to sleep rather than
    spin while waiting (``OMP_WAIT_POLICY=PASSIVE``, read when torch loads): on a machine whose
    cores are shared with other processes, spinning threads made each eager step ~20x slower
    here, which would flatter the comparison.  This favours torch, never the engine.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        return None
    return torch


def n_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _isa() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split()
        have = [x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if x in flags]
        return " ".join(have)
    except (OSError, StopIteration):
        return ""


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:  # noqa: BLE001
        return "not installed"


def machine_info() -> dict[str, str]:
    import jax

    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit = commit + (" (+ uncommitted changes)" if dirty else "")
    except Exception:  # noqa: BLE001
        commit = "unknown"
    torch = torch_or_none()
    return {
        "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "commit": commit,
        "CPU": f"{_cpu_model()} ({_isa()})",
        "cores available": str(n_cores()),
        "memory": mem,
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "jax / jaxlib": f"{jax.__version__} / {_version('jaxlib')}",
        "JAX devices": ", ".join(sorted({str(d.platform) for d in jax.devices()})) + f" x {jax.device_count()}",
        "numpy / scipy / optax": f"{_version('numpy')} / {_version('scipy')} / {_version('optax')}",
        "torch": (f"{torch.__version__} ({torch.get_num_threads()} threads, OMP_WAIT_POLICY="
                  f"{os.environ.get('OMP_WAIT_POLICY', 'default')})" if torch else "not installed"),
    }


# --------------------------------------------------------------------------------------------
# Matrix-multiply throughput


def matmul_throughput(n: int = 2048, repeats: int = 5, *, log=print) -> dict[str, float]:
    """float32 GFLOP/s of an n x n by n x n matrix product (2 n^3 flops): jnp.dot, NumPy, torch.

    Measured in the calling process, median of ``repeats`` after a warm-up.  Keys: "jax",
    "numpy", "torch" (absent without torch).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    out = {}
    ja, jb = jnp.asarray(a), jnp.asarray(b)
    dot = jax.jit(jnp.dot)
    fns = {"jax": lambda: dot(ja, jb).block_until_ready(), "numpy": lambda: a @ b}
    torch = torch_or_none()
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        fns["torch"] = lambda: torch.mm(ta, tb)
    for name, f in fns.items():
        f()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        out[name] = flops / statistics.median(ts) / 1e9
    log("  matmul GFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in out.items()))
    return out


# --------------------------------------------------------------------------------------------
# Driver


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    found = sorted(p.stem for p in here.glob("bench_*.py"))
    return [m for m in ORDER] + [m for m in found if m not in ORDER]


def run_module(name: str, quick: bool) -> tuple[str, list, str | None, float]:
    """Run one benchmark module. Returns (status, tables, captured_stdout, seconds)."""
    t0 = time.perf_counter()
    path = Path(__file__).resolve().parent / f"{name}.py"
    if not path.exists():
        return "absent (no benchmarks/%s.py yet): skipped" % name, [], None, 0.0
    try:
        mod = importlib.import_module(f"benchmarks.{name}")
    except Exception as e:  # noqa: BLE001
        return f"failed to import: {type(e).__name__}: {e}", [], None, time.perf_counter() - t0
    try:
        if hasattr(mod, "tables"):
            tabs = list(mod.tables(quick=quick))
            return "ok", tabs, None, time.perf_counter() - t0
        if hasattr(mod, "main"):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = mod.main(["--quick"] if quick else [])
            status = "ok" if not rc else f"exited with status {rc}"
            return status, [], buf.getvalue(), time.perf_counter() - t0
        return "has neither tables() nor main(): skipped", [], None, 0.0
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exc(limit=4)
        return f"raised {type(e).__name__}: {e}\n\n```\n{tb}```", [], None, time.perf_counter() - t0


PREAMBLE = """# Benchmarks

Written by `make bench` (`python -m benchmarks.run_all{flag}`); every number below was measured
by that run, on the machine described here, in one process per benchmark module.  Re-run it to
refresh this file.

Protocol: every arm does the same work in float32 (the same data, the same initial parameters,
the loss (1/(2N)) sum r^2 and plain full-batch gradient descent); the first call of each arm
(tracing, compilation, first run) is timed separately; then every arm is called `repeats` times
in rotating order (so that a load spike from another process does not fall on one arm only),
each call followed by `block_until_ready`; tables give the median and the minimum.  PyTorch uses
as many threads as there are cores, and so does XLA.  "Peak RSS" is the growth of the
process's resident memory during one warm call (kernel high-water mark reset before the call).

Scale: `train_batch` (sweeps over seeds and sweep points) and `sims.sharding.sharded_maxmin`
(greedy max-min selection) split their work across a `jax.sharding.Mesh` of every device JAX
sees, with no change to user code; multi-host use goes through `jax.distributed.initialize()`
(see the `sims.sharding` docstring).  Agreement with one device is tested on 4 simulated CPU
devices (`tests/test_sharding.py`).  No multi-device timings are given here: simulated CPU
devices share the same cores, so timing them would measure nothing about real devices.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="where to write the report")
    ap.add_argument("--only", default="", help="comma-separated subset, e.g. sweep,diagnostics")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from hmin.sims.store import atomic_write_text

    torch = torch_or_none()
    if torch is not None:
        torch.set_num_threads(n_cores())
    info = machine_info()
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    if torch is None:
        print("torch not installed: PyTorch arms are reported as 'torch not installed' rows", flush=True)

    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    modules = [m for m in discover() if not wanted or any(m == f"bench_{w}" or m == w for w in wanted)]
    sections, summary, targets = [], [], []
    t_all = time.perf_counter()
    for name in modules:
        print(f"\n=== {name} ===", flush=True)
        status, tabs, captured, secs = run_module(name, args.quick)
        summary.append((name, status.split("\n")[0], secs))
        print(f"[{name}] {status.splitlines()[0]} ({secs:.0f} s)", flush=True)
        body = [f"## {name}", ""]
        if status != "ok":
            body += [f"Status: {status}", ""]
        for t in tabs:
            print("\n" + _table_text(t), flush=True)
            body.append(_table_markdown(t))
            if getattr(t, "title", "").startswith("Target"):
                targets.append(f"From {name}:\n\n" + _table_markdown(t).split("\n", 2)[2])
        if captured:
            print(captured, flush=True)
            body += ["```", captured.rstrip(), "```", ""]
        sections.append("\n".join(body))

    info["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    info["total benchmark time"] = f"{time.perf_counter() - t_all:.0f} s"
    md = [PREAMBLE.format(flag=" --quick" if args.quick else ""), "## Machine and libraries", "",
          "| | |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in info.items()]
    md += ["", "## Modules", "", "| module | status | seconds |", "|---|---|---|"]
    md += [f"| {n} | {s} | {t:.0f} |" for n, s, t in summary]
    if targets:
        md += ["", "## Targets at a glance", "", "Copied from the sections below (same run).", ""] + targets
    md += [""] + sections
    atomic_write_text(args.out, "\n".join(md).rstrip() + "\n")
    print(f"\nwrote {args.out} ({info['total benchmark time']})", flush=True)
    return 0


if __name__ == "__main__":
    # Run the copy imported as benchmarks.run_all, so that the benchmark modules (which import the
    # harness from there) and this driver share one Table class.
    from benchmarks.run_all import main as _main

    raise SystemExit(_main())
