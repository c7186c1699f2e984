"""T7: activations, growth exponents, Hessian degrees along rays, tau_eps bounds."""

import numpy as np
import pytest

from hmin.theory import Role, Status, TheoryInputError
from hmin.theory import t07_poly_smooth as t7


def test_relu_is_flagged_non_analytic_and_the_rest_analytic():
    assert set(t7.ACTIVATIONS) == {"tanh", "sigmoid", "softplus", "gelu", "silu", "relu"}
    assert not t7.is_analytic("relu")
    assert all(t7.is_analytic(a) for a in ("tanh", "sigmoid", "softplus", "gelu", "silu"))
    with pytest.raises(TheoryInputError, match="unknown activation"):
        t7.is_analytic("swish2")


def test_activation_expressions_match_numpy():
    import sympy as sp

    x = np.linspace(-4, 4, 9)
    from scipy.special import erf

    ref = {"tanh": np.tanh(x), "sigmoid": 1 / (1 + np.exp(-x)), "softplus": np.log1p(np.exp(x)),
           "gelu": x / 2 * (1 + erf(x / np.sqrt(2))), "silu": x / (1 + np.exp(-x)), "relu": np.maximum(0, x)}
    for name, expr in t7.ACTIVATIONS.items():
        f = sp.lambdify(t7.X, expr, modules=["numpy", {"erf": erf}])
        np.testing.assert_allclose(np.asarray(f(x), dtype=float), ref[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,n,q", [("tanh", 0, 0), ("tanh", 1, 0), ("softplus", 0, 1), ("softplus", 1, 0),
                                      ("gelu", 0, 1), ("silu", 2, 0)])
def test_growth_exponents(name, n, q):
    assert t7.derivative_growth_exponent(name, n) == q
    assert t7.check_growth_exponent(name, n, q).status is Status.PROVED


def test_wrong_growth_exponents_are_refuted():
    assert t7.check_growth_exponent("softplus", 0, 0).status is Status.DISPROVED  # too small: grows like x
    assert t7.check_growth_exponent("tanh", 1, 1).status is Status.DISPROVED  # not the smallest


def test_growth_exponent_numerically():
    # independent of sympy: sigma(x)/(1+|x|)^q stays O(1) and away from 0 as x grows exactly when q is the exponent
    x = np.array([1e2, 1e4, 1e6])
    for name, f in (("softplus", lambda v: np.logaddexp(0.0, v)), ("silu", lambda v: v / (1 + np.exp(-v)))):
        q = t7.derivative_growth_exponent(name, 0)
        ratio = f(x) / (1 + x) ** q
        assert np.all((ratio > 0.5) & (ratio < 2)), name
        assert np.all(np.diff(f(x) / (1 + x) ** (q - 1)) > 0)  # q - 1 is too small: unbounded


def test_predicted_hessian_degree_rule():
    assert t7.predicted_hessian_degree("shallow", 1) == 2
    assert t7.predicted_hessian_degree("shallow", 1, activation="gelu") == 2
    assert [t7.predicted_hessian_degree("mlp", D) for D in (1, 2, 3)] == [2, 4, 6]
    assert t7.predicted_hessian_degree("mlp", 3, activation="softplus") == 9
    assert [t7.predicted_hessian_degree("residual", D) for D in (1, 2)] == [6, 10]
    assert t7.predicted_hessian_degree("residual", 1, normalised=False) == 6
    for bad in (dict(arch="shallow", depth=2), dict(arch="cnn", depth=1),
                dict(arch="mlp", depth=1, activation="relu"), dict(arch="residual", depth=1, activation="gelu")):
        with pytest.raises(TheoryInputError):
            t7.predicted_hessian_degree(**bad)


def test_ray_exponents_equal_the_predicted_degree():
    for arch, D in (("shallow", 1), ("mlp", 2), ("residual", 1)):
        u = (0,) + (1,) * (len(t7.tiny_net_loss(arch, D)[1]) - 1)
        e, c = t7.hessian_ray_exponent(arch, D, u)
        assert e == t7.predicted_hessian_degree(arch, D) and c != 0


def test_wrong_degree_is_refuted_by_the_ray():
    r = t7.check_hessian_degree("residual", 1, 4)
    assert r.status is Status.DISPROVED and r.margin == -2.0
    assert t7.check_hessian_degree("mlp", 2, 3).status is Status.DISPROVED


def test_shallow_hessian_growth_by_finite_differences():
    # numpy only: ||Hess L|| along theta = t (w=0, a=1) grows like t^2 (log-log slope 2)
    xs, ys = np.array([1.0, 2.0]), np.array([0.5, -1 / 3])

    def loss(th):
        w, a = th
        return np.mean((a * np.tanh(w * xs) - ys) ** 2) / 2

    def hess(th, h=1e-4):
        H = np.zeros((2, 2))
        for i in range(2):
            for j in range(2):
                ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
                H[i, j] = (loss(th + ei + ej) - loss(th + ei - ej) - loss(th - ei + ej) + loss(th - ei - ej)) / (4 * h * h)
        return H

    ts = np.array([10.0, 30.0, 100.0])
    norms = [np.linalg.norm(hess(np.array([0.0, t])), 2) for t in ts]
    assert np.polyfit(np.log(ts), np.log(norms), 1)[0] == pytest.approx(t7.predicted_hessian_degree("shallow", 1), abs=0.05)


def test_tau_eps_bounds_in_high_dimension():
    rng = np.random.default_rng(0)
    eps = 0.3
    for scale in (1e-3, 0.3, 10.0):
        z = scale * rng.standard_normal((200, 16))
        assert np.all(np.linalg.norm(t7.tau_eps(z, eps), axis=1) < 1)
    for z in (np.zeros(16), 0.1 * rng.standard_normal(16), rng.standard_normal(16)):
        h = 1e-6
        J = np.column_stack([(t7.tau_eps(z + h * e, eps) - t7.tau_eps(z - h * e, eps)) / (2 * h) for e in np.eye(16)])
        assert np.linalg.norm(J, 2) <= 1 / eps * (1 + 1e-6)
    J0 = np.column_stack([(t7.tau_eps(h * e, eps) - t7.tau_eps(-h * e, eps)) / (2 * h) for e in np.eye(16)])
    assert np.linalg.norm(J0, 2) == pytest.approx(1 / eps, rel=1e-6)  # attained at z = 0
    assert t7.TAU_EPS_BOUNDS["jacobian_norm"] == 1 / t7.eps


@pytest.mark.slow
def test_t7_symbolic_checks():
    res = t7.symbolic_checks()
    for r in res:
        if r.role in (Role.CONTROL, Role.REFUTED_DRAFT):
            assert r.status is Status.DISPROVED, r.claim
        elif r.method == "numeric-search":
            assert r.status is Status.UNPROVEN and r.margin >= 0, r.claim
        else:
            assert r.status is Status.PROVED, r.claim


# ---------------------------------------------------------------------------------------------- two-unit ray


def test_corrected_hessian_degree():
    for a in ("softplus", "gelu", "silu"):
        assert t7.corrected_hessian_degree("shallow", 1, activation=a) == 3
        assert t7.corrected_hessian_degree("mlp", 1, activation=a) == 3  # one hidden layer: the same model
        assert t7.predicted_hessian_degree("shallow", 1, activation=a) == 2  # the refuted first draft, unchanged
    for a in ("tanh", "sigmoid"):
        assert t7.corrected_hessian_degree("shallow", 1, activation=a) == 2
    # everything else is delegated
    for arch, D, a in (("mlp", 2, "tanh"), ("mlp", 3, "softplus"), ("residual", 2, "tanh")):
        assert t7.corrected_hessian_degree(arch, D, activation=a) == t7.predicted_hessian_degree(arch, D, activation=a)
    for bad in (dict(arch="shallow", depth=2), dict(arch="cnn", depth=1), dict(arch="shallow", depth=1, activation="relu"),
                dict(arch="residual", depth=1, activation="gelu")):
        with pytest.raises(TheoryInputError):
            t7.corrected_hessian_degree(**bad)


@pytest.mark.parametrize("activation,p", [("softplus", 3), ("tanh", 2)])
def test_two_unit_ray_degree_and_false_variants(activation, p):
    r = t7.check_two_unit_ray_degree(activation, p)
    assert r.status is Status.PROVED and r.method == "sympy", r.detail
    assert t7.two_unit_ray_exponent(activation)[:3] == (p, p, ("w1", "w1"))
    # the false variants: degree 2 for softplus (the first draft's shallow claim), degree 3 for tanh
    wrong = t7.check_two_unit_ray_degree(activation, 5 - p)
    assert wrong.status is Status.DISPROVED and wrong.margin == -1.0
    assert wrong.witness["ray_exponent"] == p and wrong.witness["w1"] == 1.0


def test_two_unit_ray_below_the_count():
    # gelu''(sqrt 2) = 0: on that ray the cross-unit term vanishes and the exact exponent (2) is found
    # below the degree count (3) by limits of every entry
    import sympy as sp

    e, e_count, entry, c, _ = t7.two_unit_ray_exponent("gelu", w1=sp.sqrt(2))
    assert (e, e_count) == (2, 3) and c != 0
    assert t7.check_two_unit_ray_degree("gelu", 2, w1=sp.sqrt(2)).status is Status.PROVED


def test_two_unit_ray_numeric_fallback():
    # the numeric backing (local log-log slope of ||Hess L||_F) agrees with the exact exponents
    ok = t7._ray_slope_fallback("claim", "tanh", 2)
    assert ok.status is Status.UNPROVEN and ok.margin >= 0
    assert t7._ray_slope_fallback("claim", "softplus", 2).status is Status.DISPROVED


def test_two_unit_ray_growth_by_finite_differences():
    # numpy only, independent of sympy: log-log slope of ||Hess L||_2 along theta(t) = (1, t, t, t)
    acts = {"softplus": lambda z: np.logaddexp(0.0, z), "tanh": np.tanh, "silu": lambda z: z / (1 + np.exp(-z))}
    x0, y0 = 1.0, 0.3

    for name, sig in acts.items():
        def loss(th):
            w1, a1, w2, a2 = th
            return ((a1 * sig(w1 * x0) + a2 * sig(w2 * x0)) / np.sqrt(2) - y0) ** 2 / 2

        def hess(th, h=1e-3):
            E = np.eye(4) * h
            return np.array([[(loss(th + E[i] + E[j]) - loss(th + E[i] - E[j]) - loss(th - E[i] + E[j])
                               + loss(th - E[i] - E[j])) / (4 * h * h) for j in range(4)] for i in range(4)])

        ts = np.array([30.0, 100.0, 300.0])
        norms = [np.linalg.norm(hess(np.array([1.0, t, t, t])), 2) for t in ts]
        slope = np.polyfit(np.log(ts), np.log(norms), 1)[0]
        assert slope == pytest.approx(t7.corrected_hessian_degree("shallow", 1, activation=name), abs=0.1), name


@pytest.mark.slow
def test_two_unit_ray_symbolic_results():
    res = t7._check_two_unit_ray()
    theory_md = [r for r in res if r.role is Role.REFUTED_DRAFT]
    assert len(theory_md) == 3 and all(r.status is Status.DISPROVED and r.claim.startswith(t7.DRAFT_T7)
                                       and r.witness["ray_exponent"] == 3.0 and "two-unit ray" in r.detail
                                       for r in theory_md)
    assert {a for a in ("softplus", "gelu", "silu") if any(f"sigma = {a}" in r.claim for r in theory_md)} == \
        {"softplus", "gelu", "silu"}
    rest = [r for r in res if r not in theory_md]
    assert len(rest) == 4 and all(r.status is Status.PROVED and r.role is Role.CLAIM for r in rest)
    # the statement states the corrected claim and names the refuted draft
    text = t7.STATEMENT.text
    assert "p = 3" in text and "sigma itself bounded" in text and "Refuted draft" in text
