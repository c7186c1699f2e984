"""Matrix-free spectra (sims.spectra) against dense float64 oracles, with planted wrong answers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from hmin.sims.diagnostics import gram, hessian_dense, make_loss
from hmin.sims.models import make_model
from hmin.sims.spectra import gram_extremes, gram_matvec, hessian_matvec, lanczos
from hmin.sims.train_run import _adam_scale, plan_records, record_schedule, stability_edge

N, D, K = 24, 5, 2


@pytest.fixture(scope="module")
def problem():
    m = make_model("shallow", d=D, width=16, k=K)
    X = np.random.default_rng(0).normal(size=(N, D))
    Y = np.random.default_rng(1).normal(size=(N, K))
    p = m.init(jax.random.PRNGKey(0))
    G = np.asarray(gram(m, p, jnp.asarray(X)), np.float64)
    return m, X, Y, p, G


def _within(value, residual, eigvals):
    """Some eigenvalue lies within the residual of the value (the guarantee for a symmetric matrix)."""
    return np.min(np.abs(eigvals - value)) <= residual * (1 + 1e-8) + 1e-12 * np.abs(eigvals).max()


def test_gram_matvec_is_G_times_v(problem):
    m, X, _, p, G = problem
    v = np.random.default_rng(2).normal(size=N * K)
    np.testing.assert_allclose(gram_matvec(m, p, X)(v), G @ v, rtol=1e-10, atol=1e-12 * np.abs(G).max())


def test_full_lanczos_equals_dense_eigh(problem):
    m, X, _, p, G = problem
    ev = np.linalg.eigvalsh(G)
    r = gram_extremes(m, p, X, method="lanczos", max_iter=N * K, rtol=1e-12)
    d = gram_extremes(m, p, X, method="dense")
    assert (r.method, d.method) == ("lanczos", "dense")
    for lam, res, ref in ((r.lam_min, r.res_min, ev[0]), (r.lam_max, r.res_max, ev[-1])):
        assert abs(lam - ref) <= res + 1e-10 * ev[-1]
    assert abs(d.lam_min - ev[0]) <= 1e-10 * ev[-1] and d.res_min < 1e-10 * ev[-1]
    # planted wrong answer: the same check on a wrong value (the dense lambda_min doubled) fails
    assert not abs(2 * ev[0] + 1e-3 * ev[-1] - ev[0]) <= r.res_min + 1e-10 * ev[-1]


def test_truncated_lanczos_bounds_and_residuals():
    """A few Lanczos steps on a spectrum with a clustered bottom: Ritz values inside [lambda_min, lambda_max],
    some eigenvalue within each reported residual, and the residual is the measured ||A y - theta y||."""
    rng = np.random.default_rng(3)
    ev = np.concatenate([np.geomspace(1e-4, 1e-2, 150), np.linspace(1, 50, 50)])
    Q, _ = np.linalg.qr(rng.normal(size=(200, 200)))
    A = (Q * ev) @ Q.T
    r = lanczos(lambda v: A @ v, 200, max_iter=30, keep_vectors=True)
    assert r.iterations == 30 and not r.exact
    assert ev[0] - 1e-12 <= r.lam_min and r.lam_max <= ev[-1] + 1e-12
    assert abs(r.lam_max - ev[-1]) <= r.residual_max + 1e-10
    assert _within(r.lam_min, r.residual_min, ev)
    y = r.vectors[:, 0]
    assert np.isclose(np.linalg.norm(A @ y - r.lam_min * y), r.residual_min, rtol=1e-6)
    assert r.residual_min > 1e-6  # not converged, and it says so
    # quadrature: the weights sum to ||v0||^2 and integrate A exactly (degree 1 <= 2m - 1)
    v0 = np.random.default_rng(0).normal(size=200)
    r2 = lanczos(lambda v: A @ v, 200, v0=v0, max_iter=10)
    assert np.isclose(r2.weights.sum(), v0 @ v0) and np.isclose(r2.quadrature(lambda t: t), v0 @ A @ v0)
    # planted wrong operator: a Lanczos run on A + 0.5 I does not pass the check for A's spectrum
    bad = lanczos(lambda v: A @ v + 0.5 * v, 200, max_iter=200, rtol=1e-12)
    assert not _within(bad.lam_min, bad.residual_min, ev)


def test_hessian_and_adam_preconditioned_sharpness(problem):
    m, X, Y, p, _ = problem
    loss = make_loss(m, "mse")
    H = hessian_dense(loss, p, jnp.asarray(X), jnp.asarray(Y))
    v = np.random.default_rng(4).normal(size=H.shape[0])
    np.testing.assert_allclose(hessian_matvec(loss, p, X, Y)(v), H @ v, rtol=1e-8, atol=1e-10 * np.abs(H).max())
    # Adam's state after a few steps; its preconditioned sharpness is lambda_max(P^-1 H) = lambda_max(D H D)
    opt = optax.adam(1e-2)
    s = opt.init(p)
    for _ in range(3):
        g = jax.grad(loss)(p, X, Y)
        u, s = opt.update(g, s, p)
        p = optax.apply_updates(p, u)
    H = hessian_dense(loss, p, jnp.asarray(X), jnp.asarray(Y))
    nu = np.asarray(ravel_pytree(s[0].nu)[0]) / (1 - 0.999**3)
    Pinv = 1.0 / (np.sqrt(nu) + 1e-8)
    ref = np.max(np.linalg.eigvals(Pinv[:, None] * H).real)
    scale = _adam_scale(s)
    r = lanczos(hessian_matvec(loss, p, X, Y, scale), H.shape[0], max_iter=H.shape[0], rtol=1e-12)
    assert abs(r.lam_max - ref) <= r.residual_max + 1e-8 * abs(ref)
    plain = np.linalg.eigvalsh(0.5 * (H + H.T))[-1]
    assert abs(r.lam_max - plain) > 10 * r.residual_max  # planted: the plain sharpness is another number
    assert _adam_scale(opt.init(p)) is None  # before the first step there is no preconditioner


def test_stability_edges():
    eta = 0.01
    assert stability_edge("gd", eta)["threshold"] == pytest.approx(200.0)
    assert stability_edge("momentum", eta, 0.5)["threshold"] == pytest.approx(300.0)
    adam = stability_edge("adam", eta)
    assert adam["quantity"] == "preconditioned_sharpness" and adam["threshold"] == pytest.approx(3800.0)
    assert adam["threshold"] != pytest.approx(2 / eta)
    assert stability_edge(optax.rmsprop, eta)["threshold"] is None


def test_record_schedule_and_budget():
    s = record_schedule(1500, 20)
    assert s[0] == 0 and s[-1] == 1500 and np.all(np.diff(s) > 0) and len(s) <= 20
    gaps = np.diff(s)
    assert gaps[0] < gaps[len(gaps) // 2]  # denser early
    assert len(record_schedule(3, 50)) == 4  # never more records than steps + 1
    # the budget: n records of cost r next to T steps of cost c keep n r <= b/(1-b) T c (at least MIN_RECORDS)
    for step_s, rec_s, b in ((0.05, 2.0, 0.5), (0.01, 0.3, 0.25), (0.001, 0.5, 0.5)):
        n = plan_records(1500, step_s, rec_s, b)
        allowed = max(b / (1 - b) * 1500 * step_s, 10.0)
        assert n * rec_s <= allowed + 1e-12 or n == 6
        assert (n + 1) * rec_s > allowed or n == 50
