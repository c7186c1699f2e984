"""The GD engine: determinism, divergence, bad input, agreement with a plain Python loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hmin.sims import data, gd
from hmin.sims.diagnostics import make_loss
from hmin.sims.errors import InputError
from hmin.sims.models import make_model


@pytest.fixture(scope="module")
def problem():
    key = jax.random.PRNGKey(0)
    ps = data.uniform_sphere(8, 4, key=key)
    Y = data.make_targets(ps.X, "random", key=key)
    return make_model("shallow", d=4, width=32), ps.X, Y


def test_same_seed_same_numbers(problem):
    m, X, Y = problem
    cfg = gd.GDConfig(lr=0.5, steps=60, record_every=20)
    a = gd.train(m, X, Y, cfg, key=jax.random.PRNGKey(3))
    b = gd.train(m, X, Y, cfg, key=jax.random.PRNGKey(3))
    c = gd.train(m, X, Y, cfg, key=jax.random.PRNGKey(4))
    np.testing.assert_array_equal(a.loss, b.loss)
    for k in a.diag:
        np.testing.assert_array_equal(a.diag[k], b.diag[k])
    assert not np.array_equal(a.loss, c.loss)


def test_matches_plain_python_gd_loop(problem):
    m, X, Y = problem
    cfg = gd.GDConfig(lr=0.3, steps=25, record_every=5, gram=False, sharpness=False)
    key = jax.random.PRNGKey(7)
    tr = gd.train(m, X, Y, cfg, key=key)
    p = m.init(jax.random.split(key)[0])
    loss = make_loss(m)
    ref = []
    for _ in range(25):
        L, g = jax.value_and_grad(loss)(p, X, Y)
        ref.append(float(L))
        p = jax.tree_util.tree_map(lambda a, b: a - 0.3 * b, p, g)
    ref.append(float(loss(p, X, Y)))
    np.testing.assert_allclose(tr.loss, ref, rtol=1e-12)


def test_recorded_diagnostics_are_consistent(problem):
    m, X, Y = problem
    tr = gd.train(m, X, Y, gd.GDConfig(lr=0.5, steps=40, record_every=10), key=jax.random.PRNGKey(1))
    assert tr.record_steps.tolist() == [0, 10, 20, 30, 40]
    np.testing.assert_allclose(tr.diag["loss"], tr.loss[tr.record_steps], rtol=1e-12)
    np.testing.assert_allclose(tr.diag["mu"], 2 * tr.diag["lam_min"] / 8, rtol=1e-12)
    assert tr.diag["param_dist"][0] == 0 and tr.diag["gram_change"][0] == 0
    # T3: the PL inequality ||grad L||^2 >= mu L along the trajectory
    assert np.all(tr.diag["grad_sq"] >= tr.diag["mu"] * tr.diag["loss"] * (1 - 1e-9))


def test_diverging_learning_rate_is_reported(problem):
    m, X, Y = problem
    tr = gd.train(m, X, Y, gd.GDConfig(lr=1e4, steps=50, record_every=10), key=jax.random.PRNGKey(0))
    assert tr.diverged and 0 < tr.diverged_step < 50
    assert np.all(np.isnan(tr.loss[tr.diverged_step:]))
    assert np.all(np.isfinite(tr.loss[: tr.diverged_step]))


def test_batch_equals_single_runs(problem):
    m, X, Y = problem
    cfg = gd.GDConfig(lr=0.5, steps=30, record_every=10)
    keys = jax.random.split(jax.random.PRNGKey(9), 3)
    params = gd.init_params(m, key=jax.random.PRNGKey(2), batch=3)
    Xb, Yb = np.stack([X] * 3), np.stack([Y] * 3)
    tb = gd.train_batch(m, Xb, Yb, cfg, key=keys[0], params0=params, lrs=[0.1, 0.5, 1.0])
    for b, lr in enumerate([0.1, 0.5, 1.0]):
        p0 = jax.tree_util.tree_map(lambda a: a[b], params)
        ts = gd.train(m, X, Y, gd.GDConfig(lr=lr, steps=30, record_every=10, gram=False, sharpness=False),
                      key=keys[1], params0=p0)
        np.testing.assert_allclose(tb.loss[b], ts.loss, rtol=1e-10)


@pytest.mark.parametrize("kw,msg", [
    (dict(lr=float("nan"), steps=10), "learning rate"),
    (dict(lr=-1.0, steps=10), "learning rate"),
    (dict(lr=0.1, steps=0), "steps"),
    (dict(lr=0.1, steps=10, loss="hinge"), "unknown loss"),
])
def test_bad_config(kw, msg):
    with pytest.raises(InputError, match=msg):
        gd.GDConfig(**kw)


def test_bad_data(problem):
    m, X, Y = problem
    cfg = gd.GDConfig(lr=0.1, steps=5, record_every=5)
    Xn = np.array(X)
    Xn[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        gd.train(m, Xn, Y, cfg, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="number of points"):
        gd.train(m, X, Y[:5], cfg, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="dimension"):
        gd.train(m, X[:, :3], Y, cfg, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="N = 2"):
        gd.train(m, X[:1], Y[:1], cfg, key=jax.random.PRNGKey(0))


@pytest.mark.parametrize("steps,every,expected", [(25, 10, [0, 10, 20, 25]), (30, 10, [0, 10, 20, 30]),
                                                  (7, 1000, [0, 7])])
def test_steps_are_run_exactly(problem, steps, every, expected):
    m, X, Y = problem
    tr = gd.train(m, X, Y, gd.GDConfig(lr=0.5, steps=steps, record_every=every, sharpness=False),
                  key=jax.random.PRNGKey(0))
    assert tr.loss.shape == (steps + 1,) and tr.record_steps.tolist() == expected
    np.testing.assert_allclose(tr.diag["loss"], tr.loss[tr.record_steps], rtol=1e-12)
