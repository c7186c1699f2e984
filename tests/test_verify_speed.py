"""What keeps ``hmin verify`` fast: compile budgets per check, the persistent compilation cache, the symbolic
cache, and the phase counters that measure them (timings themselves live in benchmarks/bench_verify.py)."""

import os
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import hmin.sims.caches as caches
import hmin.sims.verify as verify
from hmin import theory
from hmin.sims.phases import jax_phases

#: programs built (XLA executables) by each check's quick-preset measurement at seed 0, at most: the count in a
#: fresh process (sims.phases.jax_phases; measured 2026-12-07, JAX 0.10.2) plus a margin of one, so the budget
#: holds whatever ran before in the session (sharing with an earlier check can only lower a count: the PRNG key
#: and random-draw programs are shared by almost every check) and also when one check is tested alone. Counts
#: before -> after issue 18's "fewer programs" (fresh process): T3 28 -> 15, T4 16 -> 16, T5 28 -> 19, T7 63 -> 30,
#: T8 35 -> 22, T9 33 -> 11, T10 8 -> 8, C1 66 -> 27, ARORA19 51 -> 9, DU19 60 -> 8, LEE19 35 -> 9, NMM21 103 -> 10,
#: OS20 60 -> 8 (jitted kernels, jitted inits and runs, host-side glue instead of eager jnp calls). A change
#: that adds programs fails here: make it compile less, or raise the budget in the same commit and say why.
#: T6 52 -> 32, C3 32 (0 when T6 measured the same width sweep first), C5 36 -> 25 (host-side glue in NumPy; C5's quick
#: evaluation shares the tuning's program).
COMPILE_BUDGET = {
    "T1": 0, "T2": 0, "T3": 16, "T4": 17, "T5": 20, "T7": 31, "T8": 23, "T9": 12, "T10": 9, "C1": 28,
    "ARORA19": 10, "DU19": 9, "LEE19": 10, "NMM21": 11, "OS20": 9,
    "T6": 33, "C3": 33, "C5": 26,
}


@pytest.mark.parametrize("sid", sorted(COMPILE_BUDGET, key=theory.statement_sort_key))
def test_compile_budget_of_each_check(sid, quick_measurement):
    quick_measurement(sid)
    ph = quick_measurement.phases.get(sid)
    if ph is None:
        pytest.skip(f"{sid} was measured before the counters were attached")
    worst = ", ".join(f"{k} x{v}" for k, v in ph.by_function.most_common(5))
    assert ph.programs <= COMPILE_BUDGET[sid], (
        f"{sid}'s quick measurement built {ph.programs} programs, budget {COMPILE_BUDGET[sid]} (most: {worst})")


def test_phases_count_programs_and_time():
    f = jax.jit(lambda x: jnp.tanh(x) * 1.75 + 0.0625)
    with jax_phases() as ph:
        f(np.ones(5)).block_until_ready()
        f(np.zeros(5)).block_until_ready()  # same shape: no new program
        f(np.ones(6)).block_until_ready()  # new shape: one more
    assert ph.programs == 2 and ph.cache_hits == 0 and ph.compiled == 2
    assert ph.compile_s > 0 and ph.trace_s > 0 and ph.wall_s >= ph.compile_s + ph.trace_s - 1e-6
    assert set(ph.to_dict()) >= {"compile_s", "trace_s", "run_s", "programs", "cache_hits"}
    with jax_phases() as ph2:
        f(np.ones(6)).block_until_ready()
    assert ph2.programs == 0  # and the first block's listener is gone
    assert ph.programs == 2


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(caches.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert caches.cache_dir() == tmp_path / "xdg" / "hmin"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert caches.cache_dir() == tmp_path / "home" / ".cache" / "hmin"
    monkeypatch.setenv(caches.ENV_CACHE_DIR, str(tmp_path / "mine"))
    assert caches.cache_dir() == tmp_path / "mine"
    for off in ("0", "off", "No", "false"):
        monkeypatch.setenv(caches.ENV_CACHE, off)
        assert not caches.caches_enabled() and caches.enable_caches() is None
    monkeypatch.setenv(caches.ENV_CACHE, "1")
    assert caches.caches_enabled()


_PROGRAM = """
import sys
from hmin.sims.caches import enable_caches
from hmin.sims.phases import jax_phases
import jax, jax.numpy as jnp, numpy as np
d = enable_caches()
with jax_phases() as ph:
    jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T + 0.3)(np.ones((7, 3))).block_until_ready()
print(d, ph.programs, ph.cache_hits)
"""


def test_compile_cache_serves_a_second_process(tmp_path):
    """Two fresh processes: the first compiles and writes the cache, the second loads the program from it;
    with HMIN_CACHE=0 nothing is read or written."""
    env = {k: v for k, v in os.environ.items()  # without the test session's own cache (conftest.py)
           if k != "JAX_COMPILATION_CACHE_DIR" and not k.startswith("JAX_PERSISTENT_CACHE")}
    env.update(HMIN_CACHE="1", HMIN_CACHE_DIR=str(tmp_path / "c"), HMIN_QUIET="1")
    run = lambda e: subprocess.run([sys.executable, "-c", _PROGRAM], env=e, capture_output=True, text=True,  # noqa: E731
                                   timeout=300, check=True).stdout.split()
    d, programs, hits = run(env)
    assert d == str(tmp_path / "c" / "jax") and int(programs) >= 1 and hits == "0"
    assert any((tmp_path / "c" / "jax").iterdir())
    assert run(env)[1:] == [programs, programs]  # the same programs, every one loaded instead of compiled
    assert run(dict(env, HMIN_CACHE="0")) == ["None", programs, "0"]


def test_symbolic_side_is_computed_once_per_code_version(monkeypatch, tmp_path):
    monkeypatch.setenv(caches.ENV_CACHE, "1")
    monkeypatch.setenv(caches.ENV_CACHE_DIR, str(tmp_path))
    calls = []

    def checks():
        calls.append(1)
        return [theory.proved("1 + 1 = 2", "sympy: 2")]

    src = tmp_path / "stmt.py"
    src.write_text("v1")
    entry = types.SimpleNamespace(id="X9", source="test", files=(str(src),), symbolic_checks=checks)
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", False)
    verify._symbolic_row(entry)
    verify._symbolic_row(entry)
    assert len(calls) == 2  # off unless the command line turned it on
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", True)
    first = verify._symbolic_row(entry)
    again = verify._symbolic_row(entry)
    assert len(calls) == 3 and again["cached"] and not first.get("cached")
    assert again["status"] == first["status"] == "proved" and again["results"] == first["results"]
    src.write_text("v2")  # the statement's code changed: computed again
    assert not verify._symbolic_row(entry).get("cached") and len(calls) == 4
    monkeypatch.setenv(caches.ENV_CACHE, "0")
    verify._symbolic_row(entry)
    assert len(calls) == 5


def test_symbolic_sides_in_a_second_process_equal_inline():
    """verify computes the built-in symbolic sides in a worker process while it measures: same results."""
    from hmin.sims.registry import builtin_registry

    reg = builtin_registry()
    ahead = verify._SymbolicAhead(reg, ["T3", "T5"])
    try:
        assert (ahead.proc is not None) == (verify._cores() > 1)
        for sid in ("T3", "T5"):
            got, want = ahead.result(reg[sid]), verify._symbolic_row(reg[sid])
            assert got["status"] == want["status"] and got["counts"] == want["counts"]
            assert [(r["claim"], r["status"]) for r in got["results"]] == [(r["claim"], r["status"]) for r in want["results"]]
    finally:
        ahead.close()
    assert ahead.proc is None


def test_t7_hessians_share_one_program_across_seeds():
    """T7's Hessian tools take the data as arguments: a second seed's data builds no new program (data baked
    into a closure would build one per seed, and never hit the persistent cache)."""
    from hmin.sims.checks.t07_poly_smooth import _HessTools
    from hmin.sims.models import make_model

    model = make_model("shallow", d=2, width=3, activation="tanh")
    rng = np.random.default_rng(0)
    p0 = model.init(jax.random.PRNGKey(0))
    thetas = np.asarray(ravel_pytree(p0)[0])[None].repeat(2, axis=0)
    counts = []
    for seed in range(2):
        X, Y = rng.uniform(size=(4, 2)), rng.standard_normal((4, 1))
        with jax_phases() as ph:
            tools = _HessTools(make_model("shallow", d=2, width=3, activation="tanh"), jnp.asarray(X), jnp.asarray(Y), p0)
            lam = tools.norms(thetas)[0]
            tools.rq_grad(thetas, np.ones_like(thetas) / np.sqrt(thetas.shape[1]))
        counts.append(ph.programs)
        H = jax.hessian(lambda th: 0.5 * jnp.sum((model.apply(tools.unravel(th), jnp.asarray(X)) - Y) ** 2) / 4)(thetas[0])
        assert np.allclose(lam[0], np.max(np.abs(np.linalg.eigvalsh(np.asarray(H)))), rtol=1e-8)
    assert counts[0] >= 1 and counts[1] == 0, counts


def test_the_files_that_share_quick_measurements_are_scheduled_together():
    """tests/conftest.py's QUICK_FILES must name every test file that uses the quick_measurement fixture (a file
    left out would measure the statements again on a second pytest-xdist worker)."""
    import re
    from pathlib import Path

    from tests.conftest import QUICK_FILES

    root = Path(__file__).resolve().parent
    users = {f"tests/{f.name}" for f in root.glob("test_*.py")
             if re.search(r"\bquick_measurement\b", f.read_text(encoding="utf-8"))}
    assert users == set(QUICK_FILES), sorted(users ^ set(QUICK_FILES))
