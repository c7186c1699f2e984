"""The a-priori regime certificate (sims.regime) against independent oracles, with planted wrong answers.

Oracles: a model linear in its parameters (G constant, so D = 0 exactly); the linearised recursion iterated
step by step (the closed form of the path must match it); real GD at a small step size (the linearised path
must track it where the Gram matrix barely moves); a brute-force D from a whole-output ``jax.jacrev`` and
step counting by iteration, independent of sims.diagnostics and sims.rates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from hmin.sims.errors import InputError
from hmin.sims.models import Model, make_model
from hmin.sims.regime import (REGIME_THRESHOLD, expectation, linearised_displacement, linearised_path_coefficients,
                              regime_index, regime_indices)


def _sphere(n, d, seed):
    X = np.array(jax.random.normal(jax.random.PRNGKey(seed), (n, d)), dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _linear_model(d: int, features: int) -> Model:
    """f(x) = phi(x) . w with fixed random features phi: linear in w, so G = Phi Phi^T never moves."""
    A = np.array(jax.random.normal(jax.random.PRNGKey(99), (d, features)))

    def init(key):
        return {"w": jax.random.normal(key, (features, 1)) / np.sqrt(features)}

    def apply(params, X):
        return jnp.tanh(X @ A) @ params["w"]

    return Model("linear_rf", init, apply, d, 1, True, {"features": features, "d": d})


def _brute_D(model, params, X, Y, eta, steps, eps):
    """D from first principles: J by jacrev of the whole output, dtheta by iterating the linear recursion,
    steps to eps by iterating r <- (I - eta G / N) r and counting."""
    n = X.shape[0]
    flat0, unravel = ravel_pytree(params)
    f = lambda th: model.apply(unravel(th), X).reshape(-1)  # noqa: E731
    J0 = np.asarray(jax.jacrev(f)(flat0), np.float64)
    r0 = np.asarray(f(flat0), np.float64) - Y.reshape(-1)
    G0 = J0 @ J0.T

    def count(G, cap):
        r, L0 = r0.copy(), r0 @ r0
        for t in range(1, cap + 1):
            r = r - (eta / n) * G @ r
            if r @ r <= eps * L0:
                return t
            if r @ r > 1e6 * L0:
                return np.inf
        return np.inf

    cap = 20 * steps
    T = count(G0, cap)
    tstar = int(min(T, steps))
    th, r = np.zeros_like(r0 @ J0), r0.copy()
    for _ in range(tstar):
        th, r = th - (eta / n) * J0.T @ r, r - (eta / n) * G0 @ r
    Ts = []
    for s in (0.5, 1.0):
        Js = np.asarray(jax.jacrev(f)(flat0 + s * jnp.asarray(th)), np.float64)
        Ts.append(count(Js @ Js.T, cap))
    return max(abs(np.log(t / T)) for t in Ts), T, Ts


def test_linear_model_has_zero_index():
    m = _linear_model(4, 40)
    X = _sphere(6, 4, 0)
    Y = np.sin(3 * X[:, :1])
    p0 = m.init(jax.random.PRNGKey(1))
    J = np.asarray(jax.jacrev(lambda w: m.apply({"w": w}, X).reshape(-1))(p0["w"])).reshape(6, -1)
    eta = 6 / np.linalg.eigvalsh(J @ J.T)[-1]
    ri = regime_index(m, p0, X, Y, eta=eta, steps=500)
    assert np.isfinite(ri.t_pred) and ri.movement > 0
    assert ri.index == 0.0 and ri.t_half == ri.t_pred == ri.t_end
    assert ri.gram_drift < 1e-12


def test_displacement_matches_the_recursion_and_a_planted_error_fails():
    rng = np.random.default_rng(0)
    J0 = rng.normal(size=(5, 12))
    J0[4] = J0[3] + 1e-4 * rng.normal(size=12)  # a near-null direction (a close pair)
    r0 = rng.normal(size=5)
    eta, n, t = 0.7 * 5 / np.linalg.eigvalsh(J0 @ J0.T)[-1], 5, 57
    th, r = np.zeros(12), r0.copy()
    for _ in range(t):
        th, r = th - (eta / n) * J0.T @ r, r - (eta / n) * (J0 @ J0.T) @ r
    d = linearised_displacement(J0, r0, eta, n, t)
    assert np.allclose(d, th, rtol=1e-9, atol=1e-12)
    # planted: a coefficient off by 10% (or the sum one step short) is caught by the same comparison
    ev = np.linalg.eigvalsh(J0 @ J0.T)
    c = linearised_path_coefficients(ev, eta, n, t)
    for wrong in (1.1 * c, linearised_path_coefficients(ev, eta, n, t - 1)):
        lam, U = np.linalg.eigh(J0 @ J0.T)
        assert not np.allclose(-J0.T @ (U @ (wrong * (U.T @ r0))), th, rtol=1e-3)


def test_linearised_path_tracks_real_gd_at_a_small_step():
    m = make_model("shallow", d=6, width=512, activation="tanh")
    X = _sphere(6, 6, 3)
    Y = np.cos(2 * X[:, :1])
    p0 = m.init(jax.random.PRNGKey(4))
    flat0, unravel = ravel_pytree(p0)
    eta, t = 0.05, 200
    loss = lambda th: 0.5 * jnp.sum((m.apply(unravel(th), X) - Y) ** 2) / 6  # noqa: E731
    g = jax.jit(jax.grad(loss))
    th = jax.lax.fori_loop(0, t, lambda _, q: q - eta * g(q), flat0)
    real = np.asarray(th - flat0, np.float64)
    J0 = np.asarray(jax.jacrev(lambda q: m.apply(unravel(q), X).reshape(-1))(flat0), np.float64)
    r0 = np.asarray(m.apply(p0, X) - Y, np.float64).reshape(-1)
    pred = linearised_displacement(J0, r0, eta, 6, t)
    rel = np.linalg.norm(pred - real) / np.linalg.norm(real)
    assert rel < 0.05, rel
    # planted: the path of a step size 25% off does not track it
    wrong = linearised_displacement(J0, r0, 1.25 * eta, 6, t)
    assert np.linalg.norm(wrong - real) / np.linalg.norm(real) > 2 * rel


def test_index_matches_a_brute_force_oracle():
    m = make_model("shallow", d=4, width=48, activation="tanh")
    X = _sphere(5, 4, 7)
    X[4] = X[3] + 0.05 * (X[2] - X[3])
    X[4] /= np.linalg.norm(X[4])
    Y = np.array(jax.random.choice(jax.random.PRNGKey(8), jnp.array([-1.0, 1.0]), (5, 1)))
    p0 = m.init(jax.random.PRNGKey(9))
    J0 = np.asarray(jax.jacrev(lambda q: m.apply(ravel_pytree(p0)[1](q), X).reshape(-1))(ravel_pytree(p0)[0]))
    eta = 2.5 / np.linalg.eigvalsh(J0 @ J0.T)[-1]
    steps, eps = 1500, 1e-3
    D, T, Ts = _brute_D(m, p0, X, Y, eta, steps, eps)
    ri = regime_index(m, p0, X, Y, eta=eta, steps=steps, loss_eps=eps)
    assert T - 1 < ri.t_pred <= T  # the continuous crossing lies between the integer steps around it
    assert np.isfinite(Ts).all(), Ts
    assert Ts[0] - 1 < ri.t_half <= Ts[0] and Ts[1] - 1 < ri.t_end <= Ts[1]
    assert ri.index == pytest.approx(D, abs=2 / min(T, *Ts))  # integer vs continuous crossings
    assert D > REGIME_THRESHOLD  # a narrow net with random labels on a close pair: the picture fails
    # planted: the index with the Gram matrix taken at the start again (no drift) is 0, not D
    assert abs(D - 0.0) > 10 * 2 / T


@pytest.mark.slow
def test_batch_equals_single_runs_and_index_shrinks_with_width():
    X = _sphere(6, 8, 11)
    X[5] = X[4] + 0.02 * (X[0] - X[4])
    X[5] /= np.linalg.norm(X[5])
    Y = np.array([[1.0], [-1.0], [1.0], [1.0], [1.0], [-1.0]])
    out = {}
    for w in (16, 2048):
        m = make_model("shallow", d=8, width=w, activation="tanh")
        keys = jax.random.split(jax.random.PRNGKey(w), 3)
        P = jax.vmap(m.init)(keys)
        batch = regime_indices(m, P, np.stack([X] * 3), np.stack([Y] * 3), np.full(3, 1.0), 4000)
        one = regime_index(m, jax.tree_util.tree_map(lambda a: a[1], P), X, Y, eta=1.0, steps=4000)
        assert batch[1].index == pytest.approx(one.index, rel=1e-9, abs=1e-12)
        out[w] = np.median([b.index for b in batch])
    assert out[2048] < out[16] / 4


def test_expectation_words_and_bad_input():
    z = np.zeros(1)
    from hmin.sims.regime import RegimeIndex

    ok = RegimeIndex(0.01, 100.0, 101.0, 99.0, 100.0, 1.0, 0.1, 0.01, z, z, z)
    bad = ok._replace(index=0.4)
    assert "expected to hold" in expectation(ok) and "fail by about x1.49" in expectation(bad)
    m = make_model("shallow", d=4, width=8, activation="tanh")
    with pytest.raises(InputError, match="step sizes"):
        regime_indices(m, jax.tree_util.tree_map(lambda a: a[None], m.init(jax.random.PRNGKey(0))), np.zeros((1, 3, 4)),
                       np.zeros((1, 3, 1)), [-1.0], 10)
