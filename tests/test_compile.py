"""Compile once, run many: sweeps and deep networks must not recompile per sweep point.

Compilations are counted with ``jax.monitoring`` (the backend-compile event XLA fires once per
executable built), so a recompile anywhere in a call shows up, whatever cache it bypassed.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hmin.sims.diagnostics import make_loss
from hmin.sims.gd import GDConfig, _compiled, train, train_batch
from hmin.sims.models import make_model

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def count_compiles():
    """Yields a list whose length is the number of XLA compilations inside the block."""
    seen: list[str] = []

    def listener(event, duration, **kw):
        if event == COMPILE_EVENT:
            seen.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def _data(seed, n=10, d=3, dtype=np.float64, batch=None):
    rng = np.random.default_rng(seed)
    shape = (n, d) if batch is None else (batch, n, d)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape[:-1] + (1,)).astype(dtype)


def test_counter_sees_a_compile():
    """The counter itself must work: a fresh function compiles exactly once."""
    f = jax.jit(lambda x: jnp.sin(x) * 3.0 + 0.123)
    a, b, c8 = np.ones(7), np.zeros(7), np.ones(8)
    with count_compiles() as c:
        f(a).block_until_ready()
        f(b).block_until_ready()
    assert len(c) == 1
    with count_compiles() as c:
        f(c8).block_until_ready()  # new shape: must recompile, and the counter must see it
    assert len(c) == 1


def test_jitted_step_does_not_recompile_on_new_data():
    """optax's pattern: a jitted GD step, second call with new data of the same shape -> no compile."""
    model = make_model("mlp", d=3, width=16, depth=3)
    loss = make_loss(model)
    opt = optax.sgd(0.1)

    @jax.jit
    def step(p, s, X, Y):
        L, g = jax.value_and_grad(loss)(p, X, Y)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, L

    p = model.init(jax.random.key(0))
    s = opt.init(p)
    X, Y = _data(0)
    p, s, _ = step(p, s, X, Y)
    X2, Y2 = _data(1)
    with count_compiles() as c:
        p, s, L = step(p, s, X2, Y2)
        L.block_until_ready()
    assert len(c) == 0
    assert step._cache_size() == 1


@pytest.mark.parametrize("arch,kw", [("shallow", dict(width=16)), ("residual", dict(width=8, depth=6))])
def test_train_sweep_compiles_once(arch, kw):
    """A sweep over data sets, seeds and learning rates through ``train`` compiles one program."""
    model = make_model(arch, d=3, **kw)
    cfg = GDConfig(lr=0.05, steps=20, record_every=10, sharpness=False)
    X, Y = _data(0)
    train(model, X, Y, cfg, key=jax.random.key(0))
    with count_compiles() as c:
        for i, lr in enumerate((0.01, 0.02, 0.2)):
            X, Y = _data(10 + i)
            t = train(model, X, Y, GDConfig(lr=lr, steps=20, record_every=10, sharpness=False),
                      key=jax.random.key(i + 1))
            assert np.isfinite(t.loss[-1])
    assert len(c) == 0, f"{len(c)} recompiles in a sweep of 3 points"
    assert _compiled(model, cfg, False)._cache_size() == 1


def test_train_batch_sweep_compiles_once():
    model = make_model("shallow", d=3, width=16)
    cfg = GDConfig(lr=0.05, steps=20, record_every=10, sharpness=False)
    X, Y = _data(0, batch=4)
    train_batch(model, X, Y, cfg, key=jax.random.key(0))
    with count_compiles() as c:
        for i in range(3):
            X, Y = _data(i + 1, batch=4)
            train_batch(model, X, Y, GDConfig(lr=0.1 * (i + 1), steps=20, record_every=10, sharpness=False),
                        key=jax.random.key(i), lrs=np.linspace(0.01, 0.1, 4) * (i + 1))
    assert len(c) == 0


def test_new_shape_does_recompile():
    """The counter is not vacuous for the engine: a new N is a new program."""
    model = make_model("shallow", d=3, width=16)
    cfg = GDConfig(lr=0.05, steps=20, record_every=10, gram=False, sharpness=False)
    train(model, *_data(0, n=10), cfg, key=jax.random.key(0))
    with count_compiles() as c:
        train(model, *_data(0, n=11), cfg, key=jax.random.key(0))
    assert len(c) >= 1


def test_deep_residual_program_size_does_not_grow_with_depth():
    """The residual net scans over its layers: depth 4 and depth 64 trace to the same program size,
    so compile time does not grow with depth (an unrolled Python loop would grow ~16x)."""
    cfg = GDConfig(lr=0.05, steps=20, record_every=10, sharpness=False)
    X, Y = _data(0, d=4)

    def n_eqns(depth):
        model = make_model("residual", d=4, width=8, depth=depth)
        p = model.init(jax.random.key(0))
        jaxpr = jax.make_jaxpr(_compiled(model, cfg, False))(p, X, Y, jax.random.key(1), jnp.asarray(0.1))
        return len(str(jaxpr))

    small, deep = n_eqns(4), n_eqns(64)
    assert deep <= 1.05 * small, (small, deep)
    unrolled = [len(str(jax.make_jaxpr(make_model("mlp", d=4, width=8, depth=L).apply)(
        make_model("mlp", d=4, width=8, depth=L).init(jax.random.key(0)), X))) for L in (4, 64)]
    assert unrolled[1] > 5 * unrolled[0]  # the size check can fail: an unrolled net does grow
