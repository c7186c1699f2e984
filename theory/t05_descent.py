"""T5 (OURS): GD descent with a path-dependent PL constant and trajectory-local smoothness.

Statement: let beta_k bound ||Hess L|| on the segment [theta_k, theta_{k+1}]. Then

    L(theta_{k+1}) <= L(theta_k) - eta (1 - eta beta_k / 2) ||grad L(theta_k)||^2
                   <= (1 - eta (1 - eta beta_k / 2) mu_k) L(theta_k),

the second step needing ||grad L(theta_k)||^2 >= mu_k L(theta_k) (T3) and eta <= 2 / beta_k. So
L_K <= prod_k (1 - eta (1 - eta beta_k / 2) mu_k) L_0 whenever eta < 2 / beta_k.
The factor lies in [0, 1) exactly when 0 < eta < 2/beta and 0 < mu <= 2 beta (proved below; mu <= 2 beta
holds automatically when beta also bounds the Hessian on [theta, theta - grad/beta] and L >= 0).

Predictors: `step_factor`, `descent_bound`, `max_stable_lr`, `predicted_loss`, `optimal_lr`.
Symbolic side: the descent-lemma algebra, the factor form, the range of the factor, its tightness
on a 1-d quadratic, and `check_t5_factor`, which refutes the wrong factor 1 - eta mu.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import sympy as sp

from hmin.theory._core import (
    negative_control,
    Statement,
    SymbolicResult,
    TheoryInputError,
    as_float_array,
    by_argument,
    check_identity,
    numeric_verdict,
    proved,
    search_min_margin,
    sympy_fallback,
)
from hmin.theory.common import SYM

__all__ = [
    "STATEMENT",
    "step_factor",
    "descent_bound",
    "max_stable_lr",
    "optimal_lr",
    "predicted_loss",
    "factor_expr",
    "check_t5_factor",
    "symbolic_checks",
]

eta, beta, mu = SYM.eta, SYM.beta, SYM.mu
#: the per-step contraction factor of T5.
factor_expr: sp.Expr = 1 - eta * (1 - eta * beta / 2) * mu


# ----------------------------------------------------------------------------------------------
# Numeric predictors
# ----------------------------------------------------------------------------------------------


def step_factor(eta, beta, mu):
    """1 - eta (1 - eta beta / 2) mu: the bound's per-step loss factor (vectorised).

    Valid as a bound only for eta <= 2 / beta (see `predicted_loss`); in [0, 1) when moreover
    0 < mu <= 2 beta.

    Example:
        >>> float(step_factor(1.0, 1.0, 1.0))  # at eta = 1/beta: 1 - mu/(2 beta)
        0.5
    """
    e = as_float_array("eta", eta, positive=True)
    b = as_float_array("beta", beta, nonneg=True)
    m = as_float_array("mu", mu)
    return 1.0 - e * (1.0 - e * b / 2.0) * m


def descent_bound(loss_k, grad_sq_k, eta, beta):
    """L_k - eta (1 - eta beta / 2) ||grad L_k||^2: the descent-lemma bound on L_{k+1}.

    Args:
        loss_k: L(theta_k) >= 0.
        grad_sq_k: ||grad L(theta_k)||^2 >= 0.
        eta: learning rate > 0.
        beta: a bound of ||Hess L|| on the segment [theta_k, theta_k - eta grad L(theta_k)].

    Returns:
        float64 array: an upper bound of L(theta_{k+1}) (valid for any eta given such a beta).
    """
    lk = as_float_array("loss_k", loss_k, nonneg=True)
    g2 = as_float_array("grad_sq_k", grad_sq_k, nonneg=True)
    e = as_float_array("eta", eta, positive=True)
    b = as_float_array("beta", beta, nonneg=True)
    return lk - e * (1.0 - e * b / 2.0) * g2


def max_stable_lr(beta):
    """2 / beta: above it the descent lemma no longer guarantees a decrease."""
    b = as_float_array("beta", beta, positive=True)
    return 2.0 / b


def optimal_lr(beta):
    """1 / beta: the eta minimising the factor (factor = 1 - mu / (2 beta) there)."""
    b = as_float_array("beta", beta, positive=True)
    return 1.0 / b


def predicted_loss(loss0, etas, betas, mus):
    """The cumulative bound L_K <= prod_{k<K} (1 - eta_k (1 - eta_k beta_k/2) mu_k) L_0.

    Args:
        loss0: L(theta_0) >= 0.
        etas: learning rate per step (scalar or shape (K,)).
        betas: local smoothness beta_k per step, shape (K,) (or scalar).
        mus: PL constant mu_k per step, shape (K,) (or scalar).

    Returns:
        float64 array of shape (K + 1,): [L_0, bound on L_1, ..., bound on L_K]. From the first step
        with eta_k >= 2 / beta_k on, the bound is +inf (no guarantee).

    Example:
        >>> predicted_loss(1.0, 1.0, [1.0, 1.0], [1.0, 1.0]).tolist()
        [1.0, 0.5, 0.25]
    """
    l0 = as_float_array("loss0", loss0, nonneg=True)
    if l0.ndim != 0:
        raise TheoryInputError(f"loss0 must be a scalar, got shape {l0.shape}")
    e = as_float_array("etas", etas, positive=True)
    b = as_float_array("betas", betas, nonneg=True)
    m = as_float_array("mus", mus)
    try:
        e, b, m = np.broadcast_arrays(e, b, m)
    except ValueError as err:
        raise TheoryInputError(f"etas, betas, mus have incompatible shapes {e.shape}, {b.shape}, {m.shape}") from err
    if e.ndim != 1:
        raise TheoryInputError("at least one of etas, betas, mus must be a 1-d array over the steps")
    f = 1.0 - e * (1.0 - e * b / 2.0) * m
    f = np.where(e * b < 2.0, f, np.inf)
    with np.errstate(invalid="ignore"):
        out = float(l0) * np.concatenate([[1.0], np.cumprod(f)])
    return np.where(np.isnan(out), np.inf, out)


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------

_L, _g2 = sp.Symbol("L", nonnegative=True), sp.Symbol("g2", nonnegative=True)


def _check_descent_algebra() -> SymbolicResult:
    return check_identity(
        "descent lemma algebra: L - eta ||g||^2 + (beta/2) eta^2 ||g||^2 = L - eta (1 - eta beta/2) ||g||^2 "
        "(the Taylor bound L(theta - eta g) <= L - eta||g||^2 + (beta/2) eta^2 ||g||^2 holds when beta >= "
        "||Hess L|| on the segment: integral form of the remainder)",
        _L - eta * _g2 + beta / 2 * eta**2 * _g2, _L - eta * (1 - eta * beta / 2) * _g2)


def _check_quadratic_taylor() -> SymbolicResult:
    h1, h2, t1, t2 = sp.symbols("h1 h2 theta1 theta2", real=True)
    H = sp.diag(h1, h2)
    th = sp.Matrix([t1, t2])
    Lq = lambda v: (v.T * H * v)[0, 0] / 2  # noqa: E731
    g = H * th
    return check_identity(
        "on a quadratic L = theta^T H theta / 2 the Taylor expansion is exact: "
        "L(theta - eta g) = L - eta ||g||^2 + (eta^2/2) g^T H g (so beta = ||H|| gives the lemma)",
        Lq(th - eta * g), Lq(th) - eta * (g.T * g)[0, 0] + eta**2 / 2 * (g.T * H * g)[0, 0])


def _check_factor_form() -> SymbolicResult:
    res = check_identity(
        "factor form: (1 - eta(1 - eta beta/2) mu) L - (L - eta(1 - eta beta/2)||g||^2) = "
        "eta (1 - eta beta/2)(||g||^2 - mu L), >= 0 when eta <= 2/beta and ||g||^2 >= mu L (T3)",
        factor_expr * _L - (_L - eta * (1 - eta * beta / 2) * _g2), eta * (1 - eta * beta / 2) * (_g2 - mu * _L))
    return res


def _check_factor_range() -> list[SymbolicResult]:
    s, m = sp.symbols("s m", positive=True)  # eta = (2/beta) s with 0 < s < 1; mu = 2 beta m with 0 < m <= 1
    fac = factor_expr.subs({eta: 2 * s / beta, mu: 2 * beta * m})
    lower = check_identity(
        "factor >= 0 for 0 < eta < 2/beta, 0 < mu <= 2 beta: with eta = 2s/beta, mu = 2 beta m, "
        "factor = (1 - m) + m (1 - 2s)^2, a sum of non-negative terms for 0 < m <= 1",
        fac, (1 - m) + m * (1 - 2 * s) ** 2)
    upper = check_identity(
        "factor < 1 for 0 < eta < 2/beta, mu > 0: 1 - factor = 4 s (1 - s) m, a product of positive terms for 0 < s < 1",
        1 - fac, 4 * s * (1 - s) * m)
    crit = sp.solve(sp.diff(factor_expr, eta), eta)
    best = sp.simplify(factor_expr.subs(eta, crit[0])) if len(crit) == 1 else None
    claim = "the factor is smallest at eta = 1/beta, where it equals 1 - mu/(2 beta)"
    if len(crit) == 1 and sp.simplify(crit[0] - 1 / beta) == 0 and sp.simplify(best - (1 - mu / (2 * beta))) == 0 \
            and sp.diff(factor_expr, eta, 2).is_positive:
        opt = proved(claim, f"sympy: d factor/d eta = 0 at eta = {crit[0]}, second derivative beta mu > 0, value {best}")
    else:
        s_ = sp.Symbol("s", positive=True)  # eta = 2 s / beta, s in (0, 1); mu <= 2 beta
        opt = sympy_fallback(claim, f"critical points {crit}", (factor_expr - (1 - mu / (2 * beta))).subs(eta, 2 * s_ / beta),
                             kind="nonneg", bounds={s_: (0.0, 1.0)})
    return [lower, upper, opt]


def _check_tight() -> SymbolicResult:
    hh = sp.Symbol("h", positive=True)
    return check_identity(
        "tightness: on L = h theta^2/2 (beta = h, mu = ||g||^2/L = 2h) the bound equals the true factor "
        "L(theta - eta g)/L = (1 - eta h)^2, so the factor cannot be improved",
        factor_expr.subs({beta: hh, mu: 2 * hh}), (1 - eta * hh) ** 2)


def _quadratic_margin_fn(fac_fn):
    """margin(v) of "L_next <= factor(eta, beta, mu) L" on a random 2-d quadratic (v = h1, h2, theta, s)."""

    def margin(v: np.ndarray) -> float:
        h1, h2, t1, t2, s = v
        hmax = max(h1, h2)
        e = 2.0 * s / hmax  # 0 < eta < 2/beta
        g = np.array([h1 * t1, h2 * t2])
        L0 = 0.5 * (h1 * t1**2 + h2 * t2**2)
        th = np.array([t1, t2]) - e * g
        L1 = 0.5 * (h1 * th[0] ** 2 + h2 * th[1] ** 2)
        m = float(g @ g) / L0  # the tightest PL constant at this point
        return (float(fac_fn(e, hmax, m)) * L0 - L1) / L0

    bounds = {"h1": (0.05, 4.0), "h2": (0.05, 4.0), "theta1": (-2.0, 2.0), "theta2": (-2.0, 2.0), "s": (0.01, 0.99)}
    return margin, bounds


def check_t5_factor(factor: sp.Expr, *, seed: int = 0) -> SymbolicResult:
    """Check a candidate factor c(eta, beta, mu) for "L_{k+1} <= c L_k" under T5's hypotheses.

    PROVED if it simplifies to the derived factor 1 - eta (1 - eta beta/2) mu; otherwise a numeric
    search over 2-d quadratics (beta = the largest curvature, mu = ||g||^2/L the tightest PL constant,
    0 < eta < 2/beta) looks for L_next > c L: DISPROVED with the counterexample, else UNPROVEN.

    Example:
        >>> check_t5_factor(1 - eta * mu).status.value
        'disproved'
    """
    claim = f"L(theta_(k+1)) <= ({factor}) L(theta_k) for 0 < eta < 2/beta"
    if sp.simplify(factor - factor_expr) == 0:
        return proved(claim, "sympy: equals the derived factor 1 - eta(1 - eta beta/2) mu (descent lemma + PL)")
    fac_fn = sp.lambdify((eta, beta, mu), factor, "numpy")
    margin, bounds = _quadratic_margin_fn(fac_fn)
    search = search_min_margin(margin, bounds, seed=seed, n_random=400, n_local=3)
    return numeric_verdict(claim, "Search over 2-d quadratics L = (h1 t1^2 + h2 t2^2)/2, margin = (c L - L_next)/L.",
                           search)


def _nonquadratic_argument(seed: int = 11) -> SymbolicResult:
    # L(theta) = (a tanh(theta) - y)^2 / 2 in 1-d: beta = max |L''| on the step segment (dense grid)
    th, a, y = sp.symbols("theta a y", real=True)
    Lexpr = (a * sp.tanh(th) - y) ** 2 / 2
    L_fn = sp.lambdify((th, a, y), Lexpr, "numpy")
    g_fn = sp.lambdify((th, a, y), sp.diff(Lexpr, th), "numpy")
    H_fn = sp.lambdify((th, a, y), sp.diff(Lexpr, th, 2), "numpy")

    def margin(v: np.ndarray) -> float:
        t0, aa, yy, e = v
        g = float(g_fn(t0, aa, yy))
        t1 = t0 - e * g
        seg = np.linspace(t0, t1, 401)
        b = float(np.max(np.abs(H_fn(seg, aa, yy)))) * (1 + 1e-6) + 1e-12
        L0, L1 = float(L_fn(t0, aa, yy)), float(L_fn(t1, aa, yy))
        if L0 <= 1e-12:
            return np.inf
        return (L0 - e * (1 - e * b / 2) * g * g - L1) / L0

    search = search_min_margin(margin, {"theta": (-3.0, 3.0), "a": (-3.0, 3.0), "y": (-2.0, 2.0), "eta": (0.01, 3.0)},
                               seed=seed, n_random=600, n_local=3, tol=1e-7)
    return by_argument(
        "per step: L(theta_(k+1)) <= L(theta_k) - eta (1 - eta beta_k/2) ||grad L(theta_k)||^2 with beta_k = "
        "sup ||Hess L|| on [theta_k, theta_(k+1)], for any eta",
        "Taylor with integral remainder along the segment: L(theta - eta g) = L - eta ||g||^2 + "
        "eta^2 int_0^1 (1-s) g^T Hess L(theta - s eta g) g ds <= L - eta||g||^2 + (beta_k/2) eta^2 ||g||^2. "
        "Cross-check on L = (a tanh(theta) - y)^2/2, beta_k from a 401-point grid of |L''| on the segment.",
        search=search,
    )


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    wrong = check_t5_factor(1 - eta * mu)
    wrong = negative_control(wrong)
    return (
        _check_descent_algebra(),
        _check_quadratic_taylor(),
        _nonquadratic_argument(),
        _check_factor_form(),
        *_check_factor_range(),
        _check_tight(),
        check_t5_factor(factor_expr),
        wrong,
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T5 (cached within the process)."""
    return list(_symbolic_checks())


STATEMENT = Statement(
    id="T5",
    title="GD descent with path-dependent PL constant and local smoothness",
    kind="OURS",
    paper_ref="",
    text=("Let beta_k bound ||Hess L|| on the segment [theta_k, theta_{k+1}]. Then L(theta_{k+1}) <= L(theta_k) - "
          "eta (1 - eta beta_k/2) ||grad L(theta_k)||^2 <= (1 - eta (1 - eta beta_k/2) mu_k) L(theta_k), so "
          "L_K <= prod_k (1 - eta (1 - eta beta_k/2) mu_k) L_0 whenever eta < 2/beta_k. The factor is in [0, 1) "
          "for 0 < eta < 2/beta_k and 0 < mu_k <= 2 beta_k. Numerically, hmin checks the per-step lemma only (the "
          "first inequality, step by step along GD): beta_k is estimated from the dense float64 ||Hess L|| at 9 "
          "points of the segment, a lower estimate that is certain and an upper estimate (plus half the Hessian's "
          "largest change between adjacent points) that is a smoothness estimate, not a proven supremum; the "
          "product (rate) bound is reported, not judged."),
    hypotheses=("beta_k >= sup ||Hess L|| on [theta_k, theta_{k+1}]", "||grad L(theta_k)||^2 >= mu_k L(theta_k) (T3)",
                "0 < eta < 2/beta_k"),
    exprs={"factor": factor_expr, "descent_bound": _L - eta * (1 - eta * beta / 2) * _g2,
           "max_stable_lr": 2 / beta, "optimal_lr": 1 / beta},
    predictors=("step_factor", "descent_bound", "max_stable_lr", "optimal_lr", "predicted_loss"),
    checks=symbolic_checks,
)
