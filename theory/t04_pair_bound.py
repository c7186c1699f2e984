"""T4 (OURS; the mechanism of the paper's v2 Corollary 3): a close pair caps the PL constant.

Statement: for every pair i, j

    lambda_min(G) <= (1/2) ||grad_theta f(x_i) - grad_theta f(x_j)||^2 <= (1/2) L_x^2 h_ij^2,

where L_x bounds the x-Lipschitz constant of x -> grad_theta f(x; theta) on the segment [x_i, x_j].
Hence mu = (2/N) lambda_min <= (1/N) L_x^2 h_min^2 (slope 2 in log-log against h_min).
Cluster form (Courant-Fischer on the |D|-dimensional space of v supported on {i} u D_{i,H} with
sum v = 0): at least |D_{i,H}| eigenvalues of G are <= L_x^2 sum_{j in D_{i,H}} h_ij^2.

Predictors: `pair_bound` (the tight middle term, from gradient differences, never from Gram
entries G_ii + G_jj - 2 G_ij, which cancel exactly for close pairs), `lipschitz_pair_bound`,
`mu_upper`, `cluster_bound`, `pl_slope_in_hmin`.
Symbolic side: the mixed derivative d/dx grad_theta f of the shallow net (m = 1, 2; d = 1), the
Rayleigh step with v = (e_i - e_j)/sqrt 2, the Lagrange / Cauchy-Schwarz identity of the cluster
form, and `check_t4_pair_factor`, which refutes a factor below 1/2.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import sympy as sp
from scipy import optimize

from hmin.theory._core import (
    negative_control,
    Statement,
    Status,
    SymbolicResult,
    TheoryInputError,
    as_float_array,
    as_int_array,
    by_argument,
    check_identity,
    disproved,
    proved,
    search_min_margin,
    sympy_fallback,
)
from hmin.theory.common import SYM

__all__ = [
    "STATEMENT",
    "pair_bound",
    "lipschitz_pair_bound",
    "mu_upper",
    "cluster_bound",
    "pl_slope_in_hmin",
    "shallow_mixed_derivative",
    "check_t4_pair_factor",
    "symbolic_checks",
]

L_x, h, N = SYM.L_x, SYM.h, SYM.N


# ----------------------------------------------------------------------------------------------
# Numeric predictors
# ----------------------------------------------------------------------------------------------


def pair_bound(grad_i, grad_j):
    """(1/2) ||g_i - g_j||^2 over the last axis: T4's tight middle term (>= lambda_min(G)).

    Args:
        grad_i: grad_theta f(x_i), shape (..., P) (for k outputs, stack the rows of each point and
            use the bound per output row).
        grad_j: grad_theta f(x_j), same shape.

    Returns:
        float64 array of shape (...).

    Example:
        >>> float(pair_bound(np.array([1.0, 0.0]), np.array([0.0, 1.0])))
        1.0
    """
    gi = as_float_array("grad_i", grad_i)
    gj = as_float_array("grad_j", grad_j)
    if gi.shape != gj.shape:
        raise TheoryInputError(f"grad_i {gi.shape} and grad_j {gj.shape} must have the same shape")
    diff = gi - gj  # from differences: no cancellation for close pairs
    return 0.5 * np.sum(diff * diff, axis=-1)


def lipschitz_pair_bound(L_x, h):
    """(1/2) L_x^2 h^2, the outer bound of T4 for a pair at distance h (an h_ij, not q_X)."""
    lx = as_float_array("L_x", L_x, nonneg=True)
    hh = as_float_array("h", h, nonneg=True)
    return 0.5 * lx**2 * hh**2


def mu_upper(L_x, h_min, n):
    """mu = (2/N) lambda_min(G) <= (1/N) L_x^2 h_min^2.

    Example:
        >>> float(mu_upper(2.0, 0.1, 4))
        0.010000000000000002
    """
    lx = as_float_array("L_x", L_x, nonneg=True)
    hm = as_float_array("h_min", h_min, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    return lx**2 * hm**2 / n


def cluster_bound(L_x, h_ij):
    """L_x^2 sum_j h_ij^2 over the last axis: at least |D| eigenvalues of G are below it.

    Args:
        L_x: the x-Lipschitz constant of grad_theta f on the segments [x_i, x_j], j in D.
        h_ij: distances from x_i to the members of its cluster D_{i,H}, shape (..., |D|).

    Returns:
        float64 array of shape (...); the number of eigenvalues it bounds is h_ij.shape[-1].
    """
    lx = as_float_array("L_x", L_x, nonneg=True)
    hh = as_float_array("h_ij", h_ij, nonneg=True)
    if hh.ndim == 0:
        raise TheoryInputError("h_ij must have at least one axis (the cluster members)")
    return lx**2 * np.sum(hh * hh, axis=-1)


def pl_slope_in_hmin() -> float:
    """The predicted log-log slope of mu (and of lambda_min) against h_min for a planted pair: 2."""
    return 2.0


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------


def _shallow(m: int, sigma=None):
    x = sp.Symbol("x", real=True)
    a = sp.symbols(f"a1:{m + 1}", real=True)
    w = sp.symbols(f"w1:{m + 1}", real=True)
    sig = sigma if sigma is not None else sp.Function("sigma")
    f = sum(a[k] * sig(w[k] * x) for k in range(m)) / sp.sqrt(m)
    return x, a, w, sig, f


def shallow_mixed_derivative(m: int = 1, sigma=None) -> sp.Matrix:
    """d/dx grad_theta f for f(x) = a^T sigma(w x)/sqrt(m), d = 1 (parameters ordered a, w).

    L_x on a segment is the sup of the norm of this vector there.

    Example:
        >>> shallow_mixed_derivative(1, sp.tanh).shape
        (2, 1)
    """
    x, a, w, _, f = _shallow(m, sigma)
    grad = sp.Matrix([sp.diff(f, p) for p in (*a, *w)])
    return sp.simplify(sp.diff(grad, x))


def _check_mixed(m: int) -> SymbolicResult:
    x, a, w, sig, f = _shallow(m)
    grad = sp.Matrix([sp.diff(f, p) for p in (*a, *w)])
    mixed = sp.diff(grad, x)
    z = [w[k] * x for k in range(m)]
    s1 = [sp.Subs(sp.Derivative(sig(sp.Symbol("u")), sp.Symbol("u")), sp.Symbol("u"), z[k]).doit()
          for k in range(m)]
    s2 = [sp.Subs(sp.Derivative(sig(sp.Symbol("u")), sp.Symbol("u"), 2), sp.Symbol("u"), z[k]).doit()
          for k in range(m)]
    expected = sp.Matrix([w[k] * s1[k] for k in range(m)]
                         + [a[k] * (s1[k] + w[k] * x * s2[k]) for k in range(m)]) / sp.sqrt(m)
    return check_identity(
        f"shallow net m={m}, d=1: d/dx grad_theta f = [w_k s'(w_k x); a_k (s'(w_k x) + w_k x s''(w_k x))]/sqrt(m) "
        "(the vector whose sup-norm on [x_i, x_j] is L_x)",
        mixed, expected)


def _check_pair_rayleigh(n_pts: int, n_par: int) -> SymbolicResult:
    g = sp.Matrix(n_pts, n_par, lambda i, k: sp.Symbol(f"g{i + 1}{k + 1}", real=True))
    G = g * g.T
    v = sp.zeros(n_pts, 1)
    v[0], v[1] = 1 / sp.sqrt(2), -1 / sp.sqrt(2)
    diff = (g[0, :] - g[1, :])
    res = check_identity(
        f"v^T G v = (1/2)||g_1 - g_2||^2 for v = (e_1 - e_2)/sqrt(2), ||v|| = 1, G = g g^T ({n_pts} points, P={n_par}); "
        "with the Rayleigh bound (T3) this gives lambda_min(G) <= (1/2)||g_1 - g_2||^2",
        (v.T * G * v)[0, 0], (diff * diff.T)[0, 0] / 2)
    if res.status is Status.PROVED and sp.simplify((v.T * v)[0, 0] - 1) != 0:
        return disproved(res.claim, "||v|| != 1")
    return res


def _check_mu_algebra() -> SymbolicResult:
    return check_identity("mu = (2/N) lambda_min <= (2/N) (1/2) L_x^2 h_min^2 = (1/N) L_x^2 h_min^2",
                          2 / N * (L_x**2 * h**2 / 2), L_x**2 * h**2 / N)


def _check_cluster_identities() -> list[SymbolicResult]:
    P, D = 2, 2
    gi = sp.Matrix(1, P, sp.symbols(f"gi1:{P + 1}", real=True))
    gs = [sp.Matrix(1, P, sp.symbols(f"g{j + 1}_1:{P + 1}", real=True)) for j in range(D)]
    v = sp.symbols(f"v1:{D + 1}", real=True)
    vi = -sum(v)  # sum of v over {i} u D is zero
    lhs = vi * gi + sum((v[j] * gs[j] for j in range(D)), sp.zeros(1, P))
    rhs = sum((v[j] * (gs[j] - gi) for j in range(D)), sp.zeros(1, P))
    out = [check_identity("cluster form: for v on {i} u D with sum v = 0, sum_j v_j g_j = sum_(j in D) v_j (g_j - g_i) "
                          "(|D| = 2, P = 2)", lhs, rhs)]
    # vector Cauchy-Schwarz via Lagrange's identity: (sum v^2)(sum ||w_j||^2) - ||sum v_j w_j||^2 = sum of squares
    w = [gs[j] - gi for j in range(D)]
    s = sum((v[j] * w[j] for j in range(D)), sp.zeros(1, P))
    lhs2 = sum(vj**2 for vj in v) * sum((w[j] * w[j].T)[0, 0] for j in range(D)) - (s * s.T)[0, 0]
    sos = sum((v[j] * w[l][0, p] - v[l] * w[j][0, p]) ** 2 for p in range(P) for j in range(D) for l in range(j + 1, D))
    out.append(check_identity(
        "Cauchy-Schwarz certificate: (sum v_j^2)(sum ||g_j - g_i||^2) - ||sum v_j (g_j - g_i)||^2 = "
        "sum_p sum_(j<l) (v_j w_lp - v_l w_jp)^2 >= 0 (Lagrange's identity; |D| = 2, P = 2); so "
        "v^T G v <= ||v||^2 sum_(j in D) ||g_j - g_i||^2 <= ||v||^2 L_x^2 sum h_ij^2", lhs2, sos))
    return out


def _cluster_argument(seed: int = 5) -> SymbolicResult:
    n_pts, P, D = 5, 4, 2

    def margin(vec: np.ndarray) -> float:
        g = vec.reshape(n_pts, P)
        G = g @ g.T
        dg = g[1: D + 1] - g[0]
        bound = float(np.sum(dg * dg))
        lam = np.linalg.eigvalsh(G)
        return (bound - lam[D - 1]) / (1.0 + float(np.trace(G)))

    bounds = {f"g{i}{k}": (-1.5, 1.5) for i in range(n_pts) for k in range(P)}
    search = search_min_margin(margin, bounds, seed=seed, n_random=500, n_local=3, tol=1e-10)
    return by_argument(
        "cluster form: at least |D| eigenvalues of G are <= sum_(j in D) ||g_j - g_i||^2 <= L_x^2 sum_(j in D) h_ij^2",
        "Courant-Fischer: the |D|-th smallest eigenvalue is <= max of the Rayleigh quotient over the |D|-dimensional "
        "space S = {v supported on {i} u D, sum v = 0}; on S, v^T G v = ||sum_(j in D) v_j (g_j - g_i)||^2 <= "
        "(sum_(j in D) v_j^2) sum ||g_j - g_i||^2 <= ||v||^2 sum ||g_j - g_i||^2 (identities above).",
        search=search,
    )


def _lipschitz_argument(seed: int = 7) -> SymbolicResult:
    m = 2
    x, a, w, _, _ = _shallow(m, sp.tanh)
    mixed = shallow_mixed_derivative(m, sp.tanh)
    _, _, _, _, f = _shallow(m, sp.tanh)
    grad = sp.Matrix([sp.diff(f, p) for p in (*a, *w)])
    args = (*a, *w, x)
    g_fn = sp.lambdify(args, list(grad), "numpy")
    m_fn = sp.lambdify(args, list(mixed), "numpy")

    def margin(v: np.ndarray) -> float:
        params, xi, xj = v[: 2 * m], v[2 * m], v[2 * m + 1]
        hh = abs(xj - xi)
        seg = np.linspace(xi, xj, 201)
        norms = np.linalg.norm(np.array(m_fn(*params, seg), dtype=np.float64).reshape(2 * m, -1), axis=0)
        k = int(np.argmax(norms))
        lo, hi = seg[max(k - 1, 0)], seg[min(k + 1, len(seg) - 1)]
        lo, hi = min(lo, hi), max(lo, hi)
        if hi > lo:
            res = optimize.minimize_scalar(lambda s: -float(np.linalg.norm(m_fn(*params, s))), bounds=(lo, hi),
                                           method="bounded")
            lx = max(float(norms.max()), -float(res.fun))
        else:
            lx = float(norms.max())
        dg = np.array(g_fn(*params, xj), dtype=np.float64) - np.array(g_fn(*params, xi), dtype=np.float64)
        return (lx * hh - float(np.linalg.norm(dg))) / (lx * hh + 1e-12)

    bounds = {**{f"a{k + 1}": (-2.0, 2.0) for k in range(m)}, **{f"w{k + 1}": (-3.0, 3.0) for k in range(m)},
              "x_i": (-2.0, 2.0), "x_j": (-2.0, 2.0)}
    search = search_min_margin(margin, bounds, seed=seed, n_random=150, n_local=2, tol=1e-6)
    return by_argument(
        "||g(x_i) - g(x_j)|| <= L_x h_ij with L_x = sup_[x_i,x_j] ||d/dx grad_theta f|| (mean-value inequality)",
        "g(x_j) - g(x_i) = int_0^1 D_x g(x_i + s(x_j - x_i)) (x_j - x_i) ds, so its norm is <= sup ||D_x g|| h_ij. "
        "Cross-check on the shallow tanh net m=2, d=1, margin = (L_x h - ||dg||)/(L_x h).",
        search=search,
    )


def check_t4_pair_factor(c: sp.Expr) -> SymbolicResult:
    """Check "lambda_min(G) <= c ||g_i - g_j||^2 for all gradients": true iff c >= 1/2.

    PROVED for c >= 1/2 (c = 1/2 is the Rayleigh step, larger c is weaker); DISPROVED for c < 1/2
    by the exact counterexample of two orthonormal gradients (G = I, lambda_min = 1,
    ||g_i - g_j||^2 = 2), which also shows 1/2 cannot be improved.
    """
    c = sp.nsimplify(c)
    claim = f"lambda_min(G) <= {c} * ||g_i - g_j||^2"
    gap = sp.simplify(c - sp.Rational(1, 2))
    if gap == 0 or gap.is_nonnegative:
        return proved(claim, f"sympy: c - 1/2 = {gap} >= 0 and lambda_min <= (1/2)||g_i - g_j||^2 (Rayleigh, v = (e_i - e_j)/sqrt 2)")
    if gap.is_negative:
        g = sp.Matrix([[1, 0], [0, 1]])
        lam = min(sp.Matrix(g * g.T).eigenvals())
        mg = sp.simplify(2 * c - lam)
        return disproved(claim, f"sympy: orthonormal g_i = e_1, g_j = e_2: G = I, lambda_min = {lam}, "
                                f"c ||g_i - g_j||^2 - lambda_min = {mg} < 0", margin=float(mg),
                         witness={"g_i1": 1, "g_i2": 0, "g_j1": 0, "g_j2": 1})
    return sympy_fallback(claim, f"cannot sign c - 1/2 = {gap}", gap, kind="nonneg")


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    wrong = check_t4_pair_factor(sp.Rational(1, 4))
    wrong = negative_control(wrong)
    return (
        _check_mixed(1),
        _check_mixed(2),
        _check_pair_rayleigh(2, 3),
        _check_pair_rayleigh(3, 2),
        check_t4_pair_factor(sp.Rational(1, 2)),
        _lipschitz_argument(),
        _check_mu_algebra(),
        *_check_cluster_identities(),
        _cluster_argument(),
        wrong,
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T4 (cached within the process)."""
    return list(_symbolic_checks())


STATEMENT = Statement(
    id="T4",
    title="a close pair caps lambda_min(G) and the PL constant",
    kind="OURS",
    paper_ref="mechanism of v2 Corollary 3",
    text=("For every pair i, j: lambda_min(G) <= (1/2) ||grad_theta f(x_i) - grad_theta f(x_j)||^2 <= (1/2) L_x^2 h_ij^2, "
          "where L_x bounds the x-Lipschitz constant of x -> grad_theta f(x; theta) on the segment [x_i, x_j]. Hence "
          "mu <= (1/N) L_x^2 h_min^2 (slope 2 in log-log). Cluster form: at least |D_{i,H}| eigenvalues of G are "
          "<= L_x^2 sum_{j in D_{i,H}} h_ij^2."),
    hypotheses=("G = J J^T with rows grad_theta f(x_i)", "x -> grad_theta f(x; theta) differentiable on [x_i, x_j]",
                "L_x >= sup over [x_i, x_j] of ||D_x grad_theta f||"),
    exprs={"pair_bound": L_x**2 * h**2 / 2, "mu_upper": L_x**2 * h**2 / N,
           "mixed_derivative_shallow_m1": shallow_mixed_derivative(1)},
    predictors=("pair_bound", "lipschitz_pair_bound", "mu_upper", "cluster_bound", "pl_slope_in_hmin"),
    checks=symbolic_checks,
)
