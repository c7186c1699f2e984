"""T3 (PL identity), T4 (pair bound), T5 (descent): predictors against dense float64 computations."""

import numpy as np
import pytest
import sympy as sp

from hmin.theory import Status, TheoryInputError
from hmin.theory import Role
from hmin.theory import t03_pl_identity as t3
from hmin.theory import t04_pair_bound as t4
from hmin.theory import t05_descent as t5


def _symbolic_ok(mod):
    res = mod.symbolic_checks()
    bad = [r.claim for r in res if r.status is not (Status.DISPROVED if r.role is Role.CONTROL else Status.PROVED)]
    assert not bad, bad
    assert any(r.role is Role.CONTROL for r in res)


# ---------------------------------------------------------------------------------------------- T3


def test_grad_norm_from_gram_matches_explicit_gradient_and_pl_bound():
    rng = np.random.default_rng(0)
    for n, P in ((3, 5), (6, 2), (4, 4)):
        J = rng.standard_normal((n, P))
        r = rng.standard_normal(n)
        grad = J.T @ r / n  # gradient of ||J theta + c - y||^2 / (2N)
        G = J @ J.T
        g2 = float(t3.grad_norm_sq_from_gram(G, r, n))
        assert g2 == pytest.approx(float(grad @ grad), rel=1e-12)
        lam = np.linalg.eigvalsh(G)[0]
        loss = float(t3.loss_from_residual(r, n))
        assert loss == pytest.approx(float(r @ r) / (2 * n))
        assert g2 >= float(t3.pl_lower_bound(lam, loss, n)) - 1e-12
        assert float(t3.pl_constant(lam, n)) * loss == pytest.approx(float(t3.pl_lower_bound(lam, loss, n)))


def test_grad_norm_matches_finite_differences_of_a_nonlinear_model():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(4)
    y = rng.standard_normal(4)
    th = rng.standard_normal(2)
    f = lambda t: t[0] * np.tanh(t[1] * x)  # noqa: E731
    loss = lambda t: float(np.sum((f(t) - y) ** 2) / 8)  # noqa: E731
    h = 1e-6
    grad_fd = np.array([(loss(th + h * e) - loss(th - h * e)) / (2 * h) for e in np.eye(2)])
    J = np.column_stack([np.tanh(th[1] * x), th[0] * (1 - np.tanh(th[1] * x) ** 2) * x])
    g2 = float(t3.grad_norm_sq_from_gram(J @ J.T, f(th) - y, 4))
    assert g2 == pytest.approx(float(grad_fd @ grad_fd), rel=1e-7)


def test_t3_shapes_and_pl_factor_checker():
    with pytest.raises(TheoryInputError, match="square"):
        t3.grad_norm_sq_from_gram(np.ones((2, 3)), np.ones(2), 2)
    with pytest.raises(TheoryInputError, match="incompatible"):
        t3.grad_norm_sq_from_gram(np.eye(3), np.ones(2), 2)
    assert t3.check_t3_pl_factor(2 * t3.LAM_MIN / sp.Symbol("N", positive=True, integer=True)).status is Status.PROVED
    wrong = t3.check_t3_pl_factor(2 * t3.LAM_MAX / sp.Symbol("N", positive=True, integer=True))
    assert wrong.status is Status.DISPROVED and wrong.margin < 0


def test_t3_symbolic_checks():
    _symbolic_ok(t3)


# ---------------------------------------------------------------------------------------------- T4


def _shallow_grads(x, a, w):
    """grad_theta f for f(x) = a^T tanh(w x)/sqrt(m), d = 1; rows = points, params (a, w)."""
    m = len(a)
    z = np.outer(x, w)
    return np.hstack([np.tanh(z), a * (1 - np.tanh(z) ** 2) * x[:, None]]) / np.sqrt(m)


def test_pair_bound_dominates_lambda_min_for_every_pair():
    rng = np.random.default_rng(2)
    g = rng.standard_normal((6, 4))
    lam = np.linalg.eigvalsh(g @ g.T)[0]
    for i in range(6):
        for j in range(i + 1, 6):
            assert lam <= float(t4.pair_bound(g[i], g[j])) + 1e-12
    # exact on two orthonormal gradients (G = I): the factor 1/2 is tight
    assert float(t4.pair_bound(np.array([1.0, 0.0]), np.array([0.0, 1.0]))) == 1.0


def test_lipschitz_bound_with_sampled_mixed_derivative():
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal(2), rng.standard_normal(2)
    mixed = sp.lambdify(sp.symbols("a1 a2 w1 w2 x"), list(t4.shallow_mixed_derivative(2, sp.tanh)), "numpy")
    for xi, xj in ((0.1, 0.4), (-1.0, 1.5), (0.3, 0.3001)):
        seg = np.linspace(xi, xj, 2001)
        L_x = np.max(np.linalg.norm(np.array(mixed(*a, *w, seg), dtype=np.float64).reshape(4, -1), axis=0))
        gi, gj = _shallow_grads(np.array([xi, xj]), a, w)
        assert float(t4.pair_bound(gi, gj)) <= float(t4.lipschitz_pair_bound(L_x, abs(xj - xi))) * (1 + 1e-6)


def test_lambda_min_scales_as_h_squared_for_a_planted_pair():
    # diffrax-style: the fitted log-log slope of lambda_min(G) against h is T4's 2
    rng = np.random.default_rng(4)
    m = 8
    a, w = rng.standard_normal(m), rng.standard_normal(m)
    base = np.array([0.2, 0.5, 0.9, 1.4, 2.0])  # x > 0: f is odd, so x and -x would give collinear gradients
    hs = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3])
    lams = []
    for h in hs:
        x = np.append(base, base[2] + h)
        g = _shallow_grads(x, a, w)
        lams.append(np.linalg.eigvalsh(g @ g.T)[0])
        assert lams[-1] <= float(t4.pair_bound(g[2], g[-1])) + 1e-15
    slope = np.polyfit(np.log(hs), np.log(lams), 1)[0]
    assert slope == pytest.approx(t4.pl_slope_in_hmin(), abs=0.1)


def test_cluster_bound_counts_small_eigenvalues():
    rng = np.random.default_rng(5)
    g0 = rng.standard_normal(6)
    cluster = g0 + 1e-2 * rng.standard_normal((3, 6))
    far = rng.standard_normal((3, 6))
    g = np.vstack([g0, cluster, far])
    lam = np.linalg.eigvalsh(g @ g.T)
    diffs = np.linalg.norm(cluster - g0, axis=1)  # gradient distances play the role of L_x h_ij
    bound = float(t4.cluster_bound(1.0, diffs))
    assert np.sum(lam <= bound) >= 3
    assert float(t4.mu_upper(2.0, 0.1, 4)) == pytest.approx(2.0 / 4 * float(t4.lipschitz_pair_bound(2.0, 0.1)))
    with pytest.raises(TheoryInputError):
        t4.cluster_bound(1.0, 0.5)
    with pytest.raises(TheoryInputError, match="shape"):
        t4.pair_bound(np.ones(3), np.ones(4))


def test_t4_factor_checker_and_symbolic_checks():
    assert t4.check_t4_pair_factor(sp.Rational(1, 2)).status is Status.PROVED
    assert t4.check_t4_pair_factor(1).status is Status.PROVED  # weaker, still true
    assert t4.check_t4_pair_factor(sp.Rational(1, 4)).status is Status.DISPROVED
    _symbolic_ok(t4)


# ---------------------------------------------------------------------------------------------- T5


def test_step_factor_range_on_its_domain():
    beta = 2.0
    eta = np.linspace(0.01, 0.99, 50)[:, None] * 2 / beta
    mu = np.linspace(0.01, 1.0, 40)[None, :] * 2 * beta
    f = t5.step_factor(eta, beta, mu)
    assert np.all(f >= -1e-15) and np.all(f < 1)
    assert float(t5.max_stable_lr(beta)) == 1.0 and float(t5.optimal_lr(beta)) == 0.5
    assert float(t5.step_factor(0.5, beta, 1.0)) == pytest.approx(1 - 1.0 / (2 * beta))


def test_bound_holds_on_a_gd_trajectory_of_a_quadratic_and_is_tight_in_1d():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((5, 5))
    H = A @ A.T + 0.1 * np.eye(5)
    beta = np.linalg.eigvalsh(H)[-1]
    eta = 1.5 / beta
    th = rng.standard_normal(5)
    losses, mus, g2s = [], [], []
    for _ in range(30):
        g = H @ th
        L = 0.5 * th @ H @ th
        losses.append(L)
        g2s.append(g @ g)
        mus.append(g @ g / L)  # the tightest PL constant at theta_k
        th = th - eta * g
    losses.append(0.5 * th @ H @ th)
    pred = t5.predicted_loss(losses[0], eta, np.full(30, beta), np.array(mus))
    assert np.all(np.array(losses) <= pred * (1 + 1e-12))
    nxt = t5.descent_bound(np.array(losses[:-1]), np.array(g2s), eta, beta)
    assert np.all(np.array(losses[1:]) <= nxt + 1e-12)
    h, e = 0.7, 0.3  # 1-d: the bound is exact
    assert float(t5.step_factor(e, h, 2 * h)) == pytest.approx((1 - e * h) ** 2)


def test_predicted_loss_cumprod_and_instability():
    out = t5.predicted_loss(2.0, [0.1, 0.2, 0.1], [1.0, 2.0, 1.0], [0.5, 0.5, 0.5])
    f = [1 - e * (1 - e * b / 2) * m for e, b, m in ((0.1, 1.0, 0.5), (0.2, 2.0, 0.5), (0.1, 1.0, 0.5))]
    np.testing.assert_allclose(out, 2.0 * np.concatenate([[1.0], np.cumprod(f)]), rtol=1e-14)
    unstable = t5.predicted_loss(1.0, 1.0, [1.0, 2.5, 1.0], 0.5)
    assert np.isfinite(unstable[1]) and np.all(np.isinf(unstable[2:]))
    with pytest.raises(TheoryInputError):
        t5.predicted_loss(1.0, 0.1, 1.0, 0.5)  # no step axis
    with pytest.raises(TheoryInputError):
        t5.predicted_loss(1.0, [0.1, 0.1], [1.0, 1.0, 1.0], 0.5)


def test_t5_factor_checker_and_symbolic_checks():
    assert t5.check_t5_factor(t5.factor_expr).status is Status.PROVED
    wrong = t5.check_t5_factor(1 - t5.eta * t5.mu)
    assert wrong.status is Status.DISPROVED and wrong.margin < 0
    _symbolic_ok(t5)
