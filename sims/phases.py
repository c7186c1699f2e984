"""Where a run's time goes: JAX's own duration events, counted around a block of code.

`jax_phases` listens to the events JAX records for every program it builds (``jax.monitoring``):
tracing to a jaxpr, lowering to MLIR, the backend compile (fired once per executable, also when the
executable comes from the persistent compilation cache), and the persistent cache's hits. What is not
tracing, lowering or compiling inside the block is execution and Python (``run_s``).

``hmin verify`` records these per check and seed in ``results.json`` (``phases``), and
``benchmarks/bench_verify.py`` prints them as a table.

Example:
    >>> import jax, jax.numpy as jnp, numpy as np
    >>> with jax_phases() as ph:
    ...     _ = jax.jit(lambda x: jnp.cos(x) * 2.5 - 0.25)(np.ones(3)).block_until_ready()
    >>> ph.programs, ph.cache_hits
    (1, 0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter

__all__ = ["Phases", "jax_phases", "COMPILE_EVENT", "TRACE_EVENT", "LOWER_EVENT", "CACHE_HIT_EVENT"]

#: one per executable built or loaded from the persistent cache (wraps compile_or_get_cached)
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
#: Python function -> jaxpr
TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
#: jaxpr -> MLIR module
LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
#: an executable read from the persistent compilation cache instead of compiled
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


@dataclasses.dataclass
class Phases:
    """Seconds by phase and programs built inside a `jax_phases` block.

    Attributes:
        wall_s: the block's wall-clock seconds.
        compile_s: backend compiles (XLA), including loads from the persistent cache.
        trace_s: tracing to jaxprs plus lowering to MLIR.
        programs: executables built or loaded (one backend-compile event each).
        cache_hits: of those, loaded from the persistent compilation cache.
        by_function: programs per traced function name (what compiles most).
    """

    wall_s: float = 0.0
    compile_s: float = 0.0
    trace_s: float = 0.0
    programs: int = 0
    cache_hits: int = 0
    by_function: Counter = dataclasses.field(default_factory=Counter)

    @property
    def compiled(self) -> int:
        """Programs compiled by XLA (not read from the persistent cache)."""
        return self.programs - self.cache_hits

    @property
    def run_s(self) -> float:
        """Wall seconds that were neither tracing, lowering nor compiling: execution and Python."""
        return max(self.wall_s - self.compile_s - self.trace_s, 0.0)

    def to_dict(self) -> dict:
        """The JSON form stored in ``results.json`` (seconds rounded to milliseconds)."""
        return {"wall_s": round(self.wall_s, 3), "compile_s": round(self.compile_s, 3),
                "trace_s": round(self.trace_s, 3), "run_s": round(self.run_s, 3), "programs": self.programs,
                "compiled": self.compiled, "cache_hits": self.cache_hits,
                "most_built": dict(self.by_function.most_common(8))}


@contextlib.contextmanager
def jax_phases():
    """Count JAX's tracing, lowering and compile events inside the block; yields a `Phases` filled as
    they arrive (``wall_s`` at the end). Nested blocks each see every event of their span."""
    from jax import monitoring

    ph = Phases()

    def on_duration(event, duration, **kw):
        if event == COMPILE_EVENT:
            ph.compile_s += duration
            ph.programs += 1
            ph.by_function[str(kw.get("fun_name", "?"))] += 1
        elif event in (TRACE_EVENT, LOWER_EVENT):
            ph.trace_s += duration

    def on_event(event, **kw):
        if event == CACHE_HIT_EVENT:
            ph.cache_hits += 1

    monitoring.register_event_duration_secs_listener(on_duration)
    monitoring.register_event_listener(on_event)
    t0 = time.perf_counter()
    try:
        yield ph
    finally:
        ph.wall_s = time.perf_counter() - t0
        monitoring.unregister_event_duration_listener(on_duration)
        monitoring.unregister_event_listener(on_event)
