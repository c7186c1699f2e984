"""T1 (EXACT; v1 Thm 4 / v2 Thm 1): the union-bound lower bound on h_min of i.i.d. data.

Statement: x_1..x_N i.i.d. in R^d with density pi <= pi_max. For r > 0

    P(h_min < r) <= N(N-1)/2 * pi_max * V_d * r^d,

equivalently, with probability >= 1 - delta, h_min >= r_delta = (2 delta / (pi_max N(N-1) V_d))^{1/d}.
Consequence: r_delta ~ N^{-2/d} (and so does the median h_min of i.i.d. data).

Predictors (numpy, vectorised, float64): `prob_bound`, `prob_bound_clipped`, `r_delta`,
`scaling_exponent`, and the exact oracle `prob_hmin_lt_uniform_interval` (uniform data on [0, 1],
d = 1, where the law of h_min is known in closed form).

Symbolic side (`symbolic_checks`): the pair count, V_d by slicing, the radius solved from
bound = delta, the N-exponent -2/d as a limit, the bound against the exact law on [0, 1], and
`check_t1_radius`, a checker that refutes a wrong radius (e.g. 10 r_delta).
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
    as_float_array,
    as_int_array,
    by_argument,
    disproved,
    numeric_verdict,
    proved,
    search_min_margin,
    sympy_fallback,
    TheoryInputError,
)
from hmin.theory.common import SYM, unit_ball_volume, unit_ball_volume_sym

__all__ = [
    "STATEMENT",
    "prob_bound",
    "prob_bound_clipped",
    "r_delta",
    "scaling_exponent",
    "prob_hmin_lt_uniform_interval",
    "bound_expr",
    "radius_expr",
    "check_t1_radius",
    "symbolic_checks",
]

r, N, d, pi_max, delta = SYM.r, SYM.N, SYM.d, SYM.pi_max, SYM.delta

#: P(h_min < r) <= this (the union bound over the N(N-1)/2 pairs).
bound_expr: sp.Expr = N * (N - 1) / 2 * pi_max * unit_ball_volume_sym(d) * r**d
#: the radius r_delta at which the bound equals delta.
radius_expr: sp.Expr = (2 * delta / (pi_max * N * (N - 1) * unit_ball_volume_sym(d))) ** (1 / d)


# ----------------------------------------------------------------------------------------------
# Numeric predictors
# ----------------------------------------------------------------------------------------------


def _check_delta(delta_):
    dl = as_float_array("delta", delta_, positive=True)
    if (dl > 1).any():
        raise TheoryInputError(f"delta must be in (0, 1], got max {dl.max()}")
    return dl


def prob_bound(r, n, d, pi_max):
    """Union bound N(N-1)/2 * pi_max * V_d * r^d on P(h_min < r) (not clipped to 1).

    Args:
        r: distance(s) r >= 0 (a bound on h_min, not on q_X = h_min / 2).
        n: number of points N >= 2.
        d: dimension d >= 1.
        pi_max: an upper bound of the density, > 0.

    Returns:
        float64 array of the broadcast shape of the arguments.

    Example:
        >>> float(prob_bound(0.01, 10, 2, 1.0))  # 45 * pi * 1e-4
        0.01413716694115407
    """
    r = as_float_array("r", r, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    d = as_int_array("d", d, minimum=1)
    pm = as_float_array("pi_max", pi_max, positive=True)
    return 0.5 * n * (n - 1.0) * pm * unit_ball_volume(d) * r**d


def prob_bound_clipped(r, n, d, pi_max):
    """min(1, `prob_bound`): the bound as a probability."""
    return np.minimum(1.0, prob_bound(r, n, d, pi_max))


def r_delta(n, d, pi_max, delta):
    """h_min >= r_delta = (2 delta / (pi_max N (N-1) V_d))^{1/d} with probability >= 1 - delta.

    Args:
        n: number of points N >= 2.
        d: dimension d >= 1.
        pi_max: an upper bound of the density, > 0.
        delta: failure probability in (0, 1].

    Returns:
        float64 array (an h_min, not a q_X = h_min / 2).

    Example:
        >>> float(r_delta(2, 1, 1.0, 0.1))  # (2 * 0.1 / (1 * 2 * 1 * 2))^1
        0.05
    """
    n = as_int_array("n", n, minimum=2)
    d = as_int_array("d", d, minimum=1)
    pm = as_float_array("pi_max", pi_max, positive=True)
    dl = _check_delta(delta)
    return (2.0 * dl / (pm * n * (n - 1.0) * unit_ball_volume(d))) ** (1.0 / d)


def scaling_exponent(d):
    """The N-exponent of r_delta (and of the median h_min of i.i.d. data): -2/d."""
    d = as_int_array("d", d, minimum=1)
    return -2.0 / d


def prob_hmin_lt_uniform_interval(r, n):
    """Exact P(h_min < r) for N i.i.d. uniform points on [0, 1] (d = 1, pi_max = 1).

    The spacings of N uniform points satisfy P(all gaps >= r) = (1 - (N-1) r)_+^N, so
    P(h_min < r) = 1 - (1 - (N-1) r)_+^N: an independent oracle for `prob_bound`.

    Example:
        >>> float(prob_hmin_lt_uniform_interval(0.1, 2))  # 1 - 0.9^2
        0.18999999999999995
    """
    r = as_float_array("r", r, nonneg=True)
    n = as_int_array("n", n, minimum=2)
    return 1.0 - np.clip(1.0 - (n - 1.0) * r, 0.0, 1.0) ** n


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------


def check_t1_radius(radius: sp.Expr, *, seed: int = 0) -> SymbolicResult:
    """Check a candidate radius for "w.p. >= 1 - delta, h_min >= radius" (symbols of `SYM`).

    PROVED when the union bound gives it: bound(radius) <= delta (equal for the true r_delta);
    DISPROVED when an exact counterexample exists (uniform data on [0, 1], d = 1, pi_max = 1, where
    P(h_min < radius) is known exactly and exceeds delta); UNPROVEN otherwise (the union bound
    does not imply it and no counterexample was found).

    Args:
        radius: sympy expression in N, d, pi_max, delta (see `theory.common.SYM`).
        seed: seed of the counterexample search.

    Returns:
        A `SymbolicResult`.
    """
    claim = f"w.p. >= 1 - delta, h_min >= {radius}"
    ratio = sp.simplify(sp.powsimp(bound_expr.subs(r, radius) / delta, force=True))
    if ratio == 1:
        return proved(claim, "sympy: bound(radius)/delta simplifies to 1, so P(h_min < radius) <= delta")
    log_ratio = sp.simplify(sp.expand_log(sp.log(ratio), force=True))
    if log_ratio.is_nonpositive:
        return proved(claim, f"sympy: log(bound(radius)/delta) = {log_ratio} <= 0 (weaker than r_delta, still implied)")
    # look for a genuine counterexample with the exact law on [0, 1]
    f = sp.lambdify((N, delta), radius.subs({d: 1, pi_max: 1}), "numpy")

    def margin(v: np.ndarray) -> float:
        n_, dl = int(round(v[0])), float(v[1])
        rad = float(f(n_, dl))
        return float(dl - prob_hmin_lt_uniform_interval(max(rad, 0.0), n_)) / dl

    search = search_min_margin(margin, {"N": (2.0, 40.0), "delta": (1e-3, 0.5)}, seed=seed,
                               n_random=400, n_local=4, method="Powell")
    search = dataclasses.replace(search, witness={**search.witness, "N": float(round(search.witness["N"]))})
    detail = (f"bound(radius)/delta = {ratio}; exact check on uniform [0,1] data (d=1, pi_max=1), "
              "margin = (delta - P(h_min < radius)) / delta.")
    return numeric_verdict(claim, detail, search)


def _check_pairs() -> SymbolicResult:
    lhs = sp.expand_func(sp.binomial(N, 2))
    res = sp.simplify(lhs - N * (N - 1) / 2)
    claim = "the number of pairs i < j is binomial(N, 2) = N(N-1)/2"
    return proved(claim, f"sympy: expand_func(binomial(N,2)) - N(N-1)/2 = {res}") if res == 0 else \
        disproved(claim, f"sympy: difference {res}")


def _check_ball_volume(max_d: int = 5) -> SymbolicResult:
    t = sp.Symbol("t", real=True)
    v = sp.Integer(1)
    bad = []
    for k in range(1, max_d + 1):
        v = sp.simplify(v * sp.integrate((1 - t**2) ** sp.Rational(k - 1, 2), (t, -1, 1)))
        if sp.simplify(v - unit_ball_volume_sym(k)) != 0:
            bad.append(k)
    # general d: V_d / V_{d-1} = B(1/2, (d+1)/2), the slice integral
    ratio = sp.gammasimp(unit_ball_volume_sym(d) / unit_ball_volume_sym(d - 1)
                         - sp.gamma(sp.Rational(1, 2)) * sp.gamma((d + 1) / 2) / sp.gamma(d / 2 + 1))
    claim = (f"V_d = pi^(d/2)/Gamma(d/2+1) equals the volume of the unit ball by slicing, "
             f"V_d = V_(d-1) * int_-1^1 (1-t^2)^((d-1)/2) dt, for d = 1..{max_d}; and the slice ratio "
             "V_d/V_(d-1) = B(1/2, (d+1)/2) for all d")
    if bad or ratio != 0:
        return disproved(claim, f"sympy: mismatch at d in {bad}, ratio difference {ratio}")
    return proved(claim, f"sympy: integrals for d = 1..{max_d} match; gammasimp(ratio - Beta) = 0")


def _check_radius_solve() -> SymbolicResult:
    sols = sp.solve(sp.Eq(bound_expr, delta), r)
    claim = "solving N(N-1)/2 pi_max V_d r^d = delta for r > 0 gives r_delta = (2 delta/(pi_max N(N-1) V_d))^(1/d)"
    ok = [s for s in sols if sp.simplify(sp.powsimp(s / radius_expr, force=True)) == 1]
    if len(sols) == 1 and ok:
        return proved(claim, f"sympy.solve -> {sols[0]}; ratio to formula simplifies to 1")
    return sympy_fallback(claim, f"sympy.solve -> {sols}", bound_expr.subs(r, radius_expr) / delta - 1,
                          bounds={N: (2.0, 50.0), d: (1.0, 8.0)})


def _check_monotone() -> SymbolicResult:
    k = sp.Symbol("k", positive=True, integer=True)  # N = k + 1 >= 2
    db = sp.diff(bound_expr, r).subs(N, k + 1)
    claim = "the bound is increasing in r (N >= 2), so P(h_min < r_delta) <= bound(r_delta) = delta"
    if db.is_positive:
        return proved(claim, f"sympy: d bound/dr = {sp.simplify(db)} with N = k+1, k >= 1, is positive")
    return sympy_fallback(claim, f"could not sign {db}", db, kind="nonneg", bounds={d: (1.0, 8.0)})


def _check_scaling() -> SymbolicResult:
    logr = sp.expand_log(sp.log(radius_expr), force=True)
    lim = sp.limit(logr / sp.log(N), N, sp.oo)
    claim = "r_delta ~ N^(-2/d): lim_(N->oo) log r_delta / log N = -2/d"
    if sp.simplify(lim + 2 / d) == 0:
        return proved(claim, f"sympy: limit = {lim}")
    return disproved(claim, f"sympy: limit = {lim}")


def _check_exact_interval() -> SymbolicResult:
    """Bound vs the exact law of h_min for uniform data on [0, 1]: g(r) = bound - P >= 0."""
    u = sp.Symbol("u", positive=True)  # u = 1 - (n-1) r in (0, 1]
    n = sp.Symbol("n", integer=True, positive=True)
    bound = bound_expr.subs({N: n, d: 1, pi_max: 1})
    g_r = bound - (1 - (1 - (n - 1) * r) ** n)
    g_u = g_r.subs(r, (1 - u) / (n - 1))
    dg_dr = sp.diff(g_u, u) * (-(n - 1))  # chain rule, du/dr = -(n-1)
    cert = sp.simplify(dg_dr - n * (n - 1) * (1 - u ** (n - 1)))
    g0 = sp.simplify(g_r.subs(r, 0))
    claim = ("uniform data on [0,1] (pi_max = 1, d = 1): the exact P(h_min < r) = 1 - (1-(N-1)r)^N is <= the "
             "bound N(N-1) r for 0 <= r <= 1/(N-1)")
    if g0 == 0 and cert == 0:
        return proved(claim, "sympy: g = bound - P has g(0) = 0 and g'(r) = N(N-1)(1 - u^(N-1)) with "
                             "u = 1-(N-1)r in [0,1], so g' >= 0 and g >= 0 (Bernoulli's inequality)")
    s_ = sp.Symbol("s", nonnegative=True)  # r = s/(n-1), s in [0, 1]
    return sympy_fallback(claim, f"g(0) = {g0}, certificate residue {cert}", g_r.subs(r, s_ / (n - 1)), kind="nonneg",
                          bounds={s_: (0.0, 1.0), n: (2.0, 30.0)})


def _union_bound_argument() -> SymbolicResult:
    return by_argument(
        "P(h_min < r) <= N(N-1)/2 pi_max V_d r^d for i.i.d. points with density <= pi_max",
        "Union bound: {h_min < r} is the union over pairs i<j of {|x_i - x_j| < r}; each has probability "
        "E[ P(x_j in B(x_i, r) | x_i) ] <= pi_max * vol B(x_i, r) = pi_max V_d r^d (independence, density bound).",
    )


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    true_radius = check_t1_radius(radius_expr)
    wrong = check_t1_radius(10 * radius_expr)
    wrong = negative_control(wrong)
    return (
        _union_bound_argument(),
        _check_pairs(),
        _check_ball_volume(),
        _check_radius_solve(),
        _check_monotone(),
        _check_scaling(),
        _check_exact_interval(),
        true_radius,
        wrong,
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T1 (cached within the process)."""
    return list(_symbolic_checks())


STATEMENT = Statement(
    id="T1",
    title="h_min lower bound for i.i.d. data (union bound)",
    kind="EXACT",
    paper_ref="v1 Thm 4 / v2 Thm 1",
    text=("x_i i.i.d. with density pi <= pi_max. For r > 0, P(h_min < r) <= N(N-1)/2 * pi_max * V_d * r^d. "
          "Equivalently, with probability >= 1 - delta, h_min >= (2 delta / (pi_max N (N-1) V_d))^(1/d). "
          "Hence r_delta ~ N^(-2/d)."),
    hypotheses=("x_1..x_N i.i.d. in R^d", "the law has a density pi <= pi_max", "r > 0, 0 < delta <= 1"),
    exprs={"bound": bound_expr, "r_delta": radius_expr, "V_d": unit_ball_volume_sym(d),
           "N_exponent": -2 / d},
    predictors=("prob_bound", "prob_bound_clipped", "r_delta", "scaling_exponent", "prob_hmin_lt_uniform_interval"),
    checks=symbolic_checks,
)
