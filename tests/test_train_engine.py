"""The engine beyond full-batch GD: momentum, Adam and mini-batch SGD against plain optax loops."""

import jax
import numpy as np
import optax
import pytest

from hmin.sims import data, gd
from hmin.sims.diagnostics import make_loss
from hmin.sims.errors import InputError
from hmin.sims.models import make_model

N = 8


@pytest.fixture(scope="module")
def problem():
    key = jax.random.PRNGKey(0)
    ps = data.uniform_sphere(N, 4, key=key)
    Y = data.make_targets(ps.X, "random", key=key)
    return make_model("shallow", d=4, width=32), ps.X, Y


# the optimizers under test, built here independently of sims.gd.OPTIMIZERS: (name, batch, lr, optax factory)
# (full-batch "gd" against a plain loop: tests/test_core_gd.py)
CASES = [
    ("momentum", None, 0.1, lambda lr: optax.sgd(lr, momentum=0.9)),
    ("adam", None, 0.01, lambda lr: optax.adam(lr)),
    ("sgd", 3, 0.3, lambda lr: optax.sgd(lr)),
    ("adam", 4, 0.01, lambda lr: optax.adam(lr)),
]


def _reference_batches(run_key, t: int, batch: int | None):
    """The documented schedule, written out: epoch e permutes the N points with fold_in(key, e)."""
    if batch is None:
        return np.arange(N)
    bkey = jax.random.fold_in(run_key, 0x5EB)
    per_epoch = N // batch
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(bkey, t // per_epoch), N))
    s = (t % per_epoch) * batch
    return perm[s:s + batch]


@pytest.mark.parametrize("name,batch,lr,factory", CASES, ids=[f"{c[0]}-B{c[1]}" for c in CASES])
def test_optimizer_matches_plain_optax_loop(problem, name, batch, lr, factory):
    m, X, Y = problem
    steps = 20
    cfg = gd.GDConfig(lr=lr, steps=steps, record_every=5, optimizer=name, batch=batch, gram=False, sharpness=False)
    key = jax.random.PRNGKey(7)
    tr = gd.train(m, X, Y, cfg, key=key)
    kinit, krun = jax.random.split(key)
    p = m.init(kinit)
    tx = factory(lr)
    state = tx.init(p)
    loss = jax.jit(make_loss(m))  # compiled once per problem shape: the loop below stays plain Python
    grad = jax.jit(jax.grad(make_loss(m)))
    ref = []
    for t in range(steps):
        ref.append(float(loss(p, X, Y)))  # the recorded loss is on the full set
        idx = _reference_batches(krun, t, batch)
        g = grad(p, X[idx], Y[idx])
        upd, state = tx.update(g, state, p)
        p = optax.apply_updates(p, upd)
    ref.append(float(loss(p, X, Y)))
    np.testing.assert_allclose(tr.loss, ref, rtol=1e-12)
    assert ref[-1] < ref[0]


def test_callable_optimizer_and_full_size_batch(problem):
    m, X, Y = problem
    key = jax.random.PRNGKey(3)
    base = gd.train(m, X, Y, gd.GDConfig(lr=0.3, steps=15, record_every=5, gram=False, sharpness=False), key=key)
    # a mini-batch of all N points is a permuted full batch: the same gradient up to summation order
    full = gd.train(m, X, Y, gd.GDConfig(lr=0.3, steps=15, record_every=5, gram=False, sharpness=False,
                                         optimizer="sgd", batch=N), key=key)
    np.testing.assert_allclose(full.loss, base.loss, rtol=1e-10)
    # any optax optimizer as a callable: optax.sgd through the callable path equals "gd"
    call = gd.train(m, X, Y, gd.GDConfig(lr=0.3, steps=15, record_every=5, gram=False, sharpness=False,
                                         optimizer=lambda lr: optax.sgd(lr)), key=key)
    np.testing.assert_array_equal(call.loss, base.loss)


def test_batch_schedule_is_seeded_and_covers_each_epoch():
    key = jax.random.PRNGKey(11)
    ep = [np.concatenate([np.asarray(gd.batch_indices(key, t, 10, 3)) for t in range(e * 3, e * 3 + 3)])
          for e in range(2)]
    for e in ep:  # 3 batches of 3 per epoch: 9 distinct points, the 10th dropped
        assert len(set(e.tolist())) == 9
    assert not np.array_equal(ep[0], ep[1])  # a fresh permutation each epoch
    again = np.asarray(gd.batch_indices(key, 4, 10, 3))
    np.testing.assert_array_equal(again, ep[1][3:6])
    other = np.concatenate([np.asarray(gd.batch_indices(jax.random.PRNGKey(12), t, 10, 3)) for t in range(3)])
    assert not np.array_equal(other, ep[0])


def test_diagnostics_of_adam_and_sgd_are_full_batch(problem):
    """mu, G and ||grad L||^2 are of the full loss at theta_t: the PL inequality (T3) holds along any optimizer."""
    m, X, Y = problem
    for name, batch, lr in (("adam", None, 0.01), ("sgd", 2, 0.3)):
        tr = gd.train(m, X, Y, gd.GDConfig(lr=lr, steps=30, record_every=10, optimizer=name, batch=batch),
                      key=jax.random.PRNGKey(1))
        np.testing.assert_allclose(tr.diag["loss"], tr.loss[tr.record_steps], rtol=1e-12)
        assert np.all(tr.diag["grad_sq"] >= tr.diag["mu"] * tr.diag["loss"] * (1 - 1e-9))
        assert np.all(np.isfinite(tr.diag["sharpness"])) and tr.diag["param_dist"][-1] > 0


@pytest.mark.parametrize("kw,msg", [
    (dict(optimizer="rmsprop"), "unknown optimizer"),
    (dict(optimizer="sgd"), "needs a mini-batch"),
    (dict(optimizer="gd", batch=4), "full-batch"),
    (dict(optimizer="adam", batch=0), "batch must be a positive integer"),
    (dict(optimizer="momentum", momentum=1.0), "momentum"),
])
def test_bad_optimizer_config(kw, msg):
    with pytest.raises(InputError, match=msg):
        gd.GDConfig(lr=0.1, steps=5, **kw)


def test_batch_larger_than_n_is_refused(problem):
    m, X, Y = problem
    with pytest.raises(InputError, match="larger than the number of points"):
        gd.train(m, X, Y, gd.GDConfig(lr=0.1, steps=5, optimizer="sgd", batch=N + 1), key=jax.random.PRNGKey(0))
