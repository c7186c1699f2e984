"""T2 (OURS; the paper's upper bound on h_min, whose constant C the paper leaves open).

Statement: if Omega' is a region with pi >= pi_bar on the r-ball around every point of Omega', and
p' = P(x_1 in Omega'), then

    P(h_min > r) <= 1 - p' + p' exp(-(N-1) pi_bar V_d r^d).

With p' = 1 this is the paper's bound with C = 1: h_min <= r_upper = (log(1/delta) / (pi_bar (N-1) V_d))^{1/d}
with probability >= 1 - delta. It scales as N^{-1/d}, the truth (T1) as N^{-2/d}: the ratio
r_upper / r_delta grows like N^{1/d} (`looseness_exponent`).

Note on p' = 1: no density on R^d is bounded below on every ball, so p' = 1 needs a domain without
boundary (the flat circle / torus). The exact oracle `prob_hmin_gt_uniform_circle` is that case
for d = 1 (geodesic distance on a circle of circumference 1).
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
    as_int_array,
    by_argument,
    disproved,
    numeric_verdict,
    proved,
    search_min_margin,
    sympy_fallback,
)
from hmin.theory.common import SYM, unit_ball_volume, unit_ball_volume_sym
from hmin.theory.t01_hmin_lower import radius_expr as t1_radius_expr

__all__ = [
    "STATEMENT",
    "prob_upper",
    "r_upper",
    "scaling_exponent",
    "looseness_exponent",
    "prob_hmin_gt_uniform_circle",
    "prob_hmin_gt_uniform_interval",
    "bound_expr",
    "radius_expr",
    "check_t2_radius",
    "symbolic_checks",
]

r, N, d, pi_bar, p_prime, delta = SYM.r, SYM.N, SYM.d, SYM.pi_bar, SYM.p_prime, SYM.delta

#: P(h_min > r) <= this.
bound_expr: sp.Expr = 1 - p_prime + p_prime * sp.exp(-(N - 1) * pi_bar * unit_ball_volume_sym(d) * r**d)
#: the radius at which the p' = 1 bound equals delta.
radius_expr: sp.Expr = (sp.log(1 / delta) / (pi_bar * (N - 1) * unit_ball_volume_sym(d))) ** (1 / d)


# ----------------------------------------------------------------------------------------------
# Numeric predictors
# ----------------------------------------------------------------------------------------------


def prob_upper(r, n, d, pi_bar, p_prime=1.0):
    """Upper bound 1 - p' + p' exp(-(N-1) pi_bar V_d r^d) on P(h_min > r).

    Args:
        r: distance(s) r >= 0 (an h_min, not q_X = h_min / 2).
        n: number of points N >= 2.
        d: dimension d >= 1.
        pi_bar: lower bound of the density on the r-balls around Omega', > 0.
        p_prime: P(x_1 in Omega'), in (0, 1].

    Returns:
        float64 array of the broadcast shape.

    Example:
        >>> float(prob_upper(0.0, 10, 2, 1.0))
        1.0
    """
    r = as_float_array("r", r, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    d = as_int_array("d", d, minimum=1)
    pb = as_float_array("pi_bar", pi_bar, positive=True)
    pp = as_float_array("p_prime", p_prime, nonneg=True)
    if (pp > 1).any():
        raise TheoryInputError(f"p_prime must be in [0, 1], got max {pp.max()}")
    return 1.0 - pp + pp * np.exp(-(n - 1.0) * pb * unit_ball_volume(d) * r**d)


def r_upper(n, d, pi_bar, delta):
    """h_min <= (log(1/delta) / (pi_bar (N-1) V_d))^{1/d} with probability >= 1 - delta (p' = 1).

    Example:
        >>> round(float(r_upper(2, 1, 1.0, np.exp(-2.0))), 12)  # (2 / (1 * 1 * 2))^1
        1.0
    """
    n = as_int_array("n", n, minimum=2)
    d = as_int_array("d", d, minimum=1)
    pb = as_float_array("pi_bar", pi_bar, positive=True)
    dl = as_float_array("delta", delta, positive=True)
    if (dl >= 1).any():
        raise TheoryInputError(f"delta must be in (0, 1), got max {dl.max()}")
    return (np.log(1.0 / dl) / (pb * (n - 1.0) * unit_ball_volume(d))) ** (1.0 / d)


def scaling_exponent(d):
    """The N-exponent of r_upper: -1/d (T1's r_delta has -2/d)."""
    d = as_int_array("d", d, minimum=1)
    return -1.0 / d


def looseness_exponent(d):
    """r_upper / r_delta ~ N^{1/d}: how fast the gap between T2 and T1 grows with N."""
    d = as_int_array("d", d, minimum=1)
    return 1.0 / d


def prob_hmin_gt_uniform_circle(r, n):
    """Exact P(h_min > r) for N i.i.d. uniform points on a circle of circumference 1 (geodesic).

    The N circular spacings are uniform on the simplex, so P(all >= r) = (1 - N r)_+^{N-1}. Here
    pi = 1 on every ball, V_1 = 2, p' = 1: the case where T2's p' = 1 hypotheses hold exactly.

    Example:
        >>> float(prob_hmin_gt_uniform_circle(0.1, 2))
        0.8
    """
    r = as_float_array("r", r, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    return np.clip(1.0 - n * r, 0.0, 1.0) ** (n - 1.0)


def prob_hmin_gt_uniform_interval(r, n):
    """Exact P(h_min > r) = (1 - (N-1) r)_+^N for N i.i.d. uniform points on [0, 1]."""
    r = as_float_array("r", r, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    return np.clip(1.0 - (n - 1.0) * r, 0.0, 1.0) ** n


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------


def check_t2_radius(radius: sp.Expr, *, seed: int = 0) -> SymbolicResult:
    """Check a candidate radius for "w.p. >= 1 - delta, h_min <= radius" under T2's p' = 1 hypotheses.

    PROVED when the bound implies it (exp(-(N-1) pi_bar V_d radius^d) <= delta); DISPROVED on an
    exact counterexample (uniform points on the circle of circumference 1, d = 1, pi_bar = 1, where
    P(h_min > radius) is known exactly and exceeds delta); UNPROVEN otherwise.
    """
    claim = f"w.p. >= 1 - delta, h_min <= {radius}"
    b1 = bound_expr.subs(p_prime, 1)
    ratio = sp.simplify(sp.powsimp(sp.expand_log(sp.log(b1.subs(r, radius)), force=True) / sp.log(delta), force=True))
    if ratio == 1:
        return proved(claim, "sympy: log bound(radius) / log delta simplifies to 1: bound(radius) = delta")
    if sp.simplify(ratio - 1).is_nonnegative:  # log bound <= log delta (log delta < 0)
        return proved(claim, f"sympy: log bound(radius)/log delta = {ratio} >= 1, so bound(radius) <= delta")
    f = sp.lambdify((N, delta), radius.subs({d: 1, pi_bar: 1}), "numpy")

    def margin(v: np.ndarray) -> float:
        n_, dl = int(round(v[0])), float(v[1])
        return float(dl - prob_hmin_gt_uniform_circle(max(float(f(n_, dl)), 0.0), n_)) / dl

    search = search_min_margin(margin, {"N": (2.0, 40.0), "delta": (1e-3, 0.5)}, seed=seed,
                               n_random=400, n_local=4, method="Powell")
    search = dataclasses.replace(search, witness={**search.witness, "N": float(round(search.witness["N"]))})
    detail = (f"log bound(radius)/log delta = {ratio}; exact check on uniform points on the circle "
              "(d=1, pi_bar=1, p'=1), margin = (delta - P(h_min > radius)) / delta.")
    return numeric_verdict(claim, detail, search)


def _check_exp_inequality() -> SymbolicResult:
    s = sp.Symbol("s", nonnegative=True)
    u = s / (1 + s)  # u in [0, 1)
    phi = -u - sp.log(1 - u)  # >= 0  <=>  log(1-u) <= -u  <=>  (1-u)^n <= exp(-n u)
    phi0 = sp.simplify(phi.subs(s, 0))
    dphi = sp.simplify(sp.diff(phi, s))
    claim = "(1 - u)^n <= exp(-n u) for 0 <= u <= 1, n >= 0 (the step from the ball mass to the exponential)"
    if phi0 == 0 and sp.simplify(dphi - s / (1 + s) ** 2) == 0:
        return proved(claim, "sympy: with u = s/(1+s), phi(s) = -u - log(1-u) has phi(0) = 0 and "
                             "phi'(s) = s/(1+s)^2 >= 0, so log(1-u) <= -u on [0,1); u = 1 is trivial")
    return sympy_fallback(claim, f"phi(0) = {phi0}, phi' = {dphi}", phi, kind="nonneg", bounds={s: (0.0, 50.0)})


def _argument(seed: int = 1) -> SymbolicResult:
    # exact instance: uniform on [0,1], Omega' = [r, 1-r] (r-balls inside [0,1], pi = 1), p' = 1 - 2r
    def margin(v: np.ndarray) -> float:
        n_, rr = int(round(v[0])), float(v[1])
        exact = float(prob_hmin_gt_uniform_interval(rr, n_))
        bnd = float(prob_upper(rr, n_, 1, 1.0, p_prime=max(0.0, 1.0 - 2.0 * rr)))
        return bnd - exact

    search = search_min_margin(margin, {"N": (2.0, 60.0), "r": (0.0, 0.5)}, seed=seed, n_random=600,
                               n_local=4, method="Powell")
    search = dataclasses.replace(search, witness={**search.witness, "N": float(round(search.witness["N"]))})
    return by_argument(
        "P(h_min > r) <= 1 - p' + p' exp(-(N-1) pi_bar V_d r^d) when pi >= pi_bar on the r-ball around every "
        "point of Omega' and p' = P(x_1 in Omega')",
        "{h_min > r} is contained in {min_(j>=2) |x_1 - x_j| > r}; conditionally on x_1 its probability is "
        "(1 - P(B(x_1, r)))^(N-1); on {x_1 in Omega'} the ball mass is >= pi_bar V_d r^d, elsewhere bound by 1; "
        "then (1-u)^(N-1) <= exp(-(N-1)u) (proved below).",
        search=search,
    )


def _check_radius_solve() -> SymbolicResult:
    sols = sp.solve(sp.Eq(bound_expr.subs(p_prime, 1), delta), r)
    claim = "solving exp(-(N-1) pi_bar V_d r^d) = delta for r > 0 gives (log(1/delta)/(pi_bar (N-1) V_d))^(1/d)"
    ok = [s for s in sols if sp.simplify(sp.expand_log(sp.log(s) - sp.log(radius_expr), force=True)) == 0]
    if len(sols) >= 1 and len(ok) == len(sols):
        return proved(claim, f"sympy.solve -> {sols}; log-difference to the formula simplifies to 0")
    return sympy_fallback(claim, f"sympy.solve -> {sols}", bound_expr.subs({p_prime: 1, r: radius_expr}) / delta - 1,
                          bounds={N: (2.0, 50.0), d: (1.0, 8.0), delta: (1e-3, 0.99)})


def _check_scaling() -> list[SymbolicResult]:
    logr = sp.expand_log(sp.log(radius_expr), force=True)
    lim = sp.limit(logr / sp.log(N), N, sp.oo)
    out = []
    claim = "r_upper ~ N^(-1/d): lim_(N->oo) log r_upper / log N = -1/d"
    out.append(proved(claim, f"sympy: limit = {lim}") if sp.simplify(lim + 1 / d) == 0
               else disproved(claim, f"sympy: limit = {lim}"))
    ratio = sp.expand_log(sp.log(radius_expr) - sp.log(t1_radius_expr), force=True)
    lim2 = sp.limit(ratio / sp.log(N), N, sp.oo)
    claim = "looseness: r_upper / r_delta (T2 over T1) ~ N^(1/d): lim log(ratio)/log N = 1/d"
    out.append(proved(claim, f"sympy: limit = {lim2}") if sp.simplify(lim2 - 1 / d) == 0
               else disproved(claim, f"sympy: limit = {lim2}"))
    return out


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    wrong = check_t2_radius(radius_expr / 10)
    wrong = negative_control(wrong)
    return (
        _argument(),
        _check_exp_inequality(),
        _check_radius_solve(),
        *_check_scaling(),
        check_t2_radius(radius_expr),
        wrong,
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T2 (cached within the process)."""
    return list(_symbolic_checks())


STATEMENT = Statement(
    id="T2",
    title="h_min upper bound (the paper's bound with C = 1)",
    kind="OURS",
    paper_ref="the paper's upper bound (constant C left open)",
    text=("If Omega' is a region with pi >= pi_bar on the r-ball around every point of Omega', and "
          "p' = P(x_1 in Omega'), then P(h_min > r) <= 1 - p' + p' exp(-(N-1) pi_bar V_d r^d). With p' = 1: "
          "h_min <= (log(1/delta) / (pi_bar (N-1) V_d))^(1/d) w.p. >= 1 - delta, i.e. C = 1. It scales as "
          "N^(-1/d), the truth as N^(-2/d)."),
    hypotheses=("x_1..x_N i.i.d. with density pi", "pi >= pi_bar on the r-ball around every point of Omega'",
                "p' = P(x_1 in Omega')", "0 < delta < 1"),
    exprs={"bound": bound_expr, "r_upper": radius_expr, "N_exponent": -1 / d, "looseness_exponent": 1 / d},
    predictors=("prob_upper", "r_upper", "scaling_exponent", "looseness_exponent",
                "prob_hmin_gt_uniform_circle", "prob_hmin_gt_uniform_interval"),
    checks=symbolic_checks,
)
