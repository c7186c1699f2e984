"""T9 (OURS): approximation error vs h_min at fixed N.

Statement: for quasi-uniform point sets the error of the fitted model on Omega falls with the fill
distance h_fill = sup_{x in Omega} min_i ||x - x_i||, which for fixed N shrinks as h_min grows.
The prediction `sims` checks is monotone: error non-decreasing in h_fill (so non-increasing in h_min
at fixed N for quasi-uniform sets). `monotone_violations` measures how often measured errors break it.

Symbolic side (the mechanism in the simplest exact setting, 1-d piecewise-linear interpolation on
[0, 1] with both endpoints among the N nodes):
* |f - I f| <= (M/2) h_fill^2 with M = sup |f''| (max of (x-a)(b-x) on [a, b] is (b-a)^2/4, and the
  interpolation error formula, exact for quadratics);
* fixed N ties h_fill to h_min: h_fill <= (1 - (N-2) h_min)/2 (the other N-2 gaps are >= h_min), so
  the error bound (M/8)(1 - (N-2) h_min)^2 falls as h_min grows, down to M/(8 (N-1)^2) on the lattice.
These are not the paper's statements about networks; they are the exact analogue that shows the
direction of the effect.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from hmin.theory._core import (
    Statement,
    SymbolicResult,
    TheoryInputError,
    as_float_array,
    as_int,
    by_argument,
    check_identity,
    proved,
    search_min_margin,
    sympy_fallback,
)

__all__ = [
    "STATEMENT",
    "predicted_error_trend",
    "monotone_violations",
    "mesh_ratio",
    "linear_interp_error_bound",
    "error_bound_from_hmin_1d",
    "symbolic_checks",
]


def predicted_error_trend() -> int:
    """+1: the predicted sign of d(error)/d(h_fill) (error non-decreasing in the fill distance)."""
    return 1


def monotone_violations(fill, errors, *, rtol: float = 0.0) -> dict[str, float]:
    """Count pairs that break "error non-decreasing in fill distance".

    A pair (a, b) with fill_a < fill_b is a violation when err_a > err_b (1 + rtol).

    Args:
        fill: fill distances h_fill of the point sets, shape (S,).
        errors: measured test errors of the models fitted on them, shape (S,).
        rtol: relative slack on the error comparison (measurement noise).

    Returns:
        dict(n_pairs, n_violations, fraction) (fraction = 0 when there is no comparable pair).

    Example:
        >>> monotone_violations([0.1, 0.2, 0.3], [1.0, 2.0, 1.5])["n_violations"]
        1.0
    """
    f = as_float_array("fill", fill, nonneg=True)
    e = as_float_array("errors", errors, nonneg=True)
    if f.ndim != 1 or f.shape != e.shape:
        raise TheoryInputError(f"fill {f.shape} and errors {e.shape} must be 1-d of the same length")
    rt = float(as_float_array("rtol", rtol, nonneg=True))
    less = f[:, None] < f[None, :]
    worse = e[:, None] > e[None, :] * (1.0 + rt)
    n_pairs = float(less.sum())
    n_viol = float((less & worse).sum())
    return {"n_pairs": n_pairs, "n_violations": n_viol, "fraction": n_viol / n_pairs if n_pairs else 0.0}


def mesh_ratio(h_fill, h_min):
    """h_fill / q_X with q_X = h_min / 2 (1 is ideal, large is clumpy)."""
    hf = as_float_array("h_fill", h_fill, nonneg=True)
    hm = as_float_array("h_min", h_min, positive=True)
    return 2.0 * hf / hm


def linear_interp_error_bound(h_fill, f2_max):
    """(M/2) h_fill^2: sup-error bound of 1-d piecewise-linear interpolation (endpoints among the nodes).

    Example:
        >>> float(linear_interp_error_bound(0.1, 2.0))
        0.010000000000000002
    """
    hf = as_float_array("h_fill", h_fill, nonneg=True)
    m = as_float_array("f2_max", f2_max, nonneg=True)
    return 0.5 * m * hf**2


def error_bound_from_hmin_1d(h_min, n, f2_max):
    """(M/8) (1 - (N-2) h_min)^2: the same bound through h_fill <= (1 - (N-2) h_min)/2 on [0, 1].

    Args:
        h_min: minimum pairwise distance (not q_X) of N nodes in [0, 1] including 0 and 1,
            0 < h_min <= 1/(N-1).
        n: number of nodes N >= 2.
        f2_max: sup |f''|.
    """
    hm = as_float_array("h_min", h_min, positive=True)
    n = as_int("n", n, minimum=2)
    if (hm > 1.0 / (n - 1) * (1 + 1e-12)).any():
        raise TheoryInputError(f"h_min must be <= 1/(N-1) = {1.0 / (n - 1):.6g} for N nodes in [0, 1]")
    m = as_float_array("f2_max", f2_max, nonneg=True)
    return m / 8.0 * (1.0 - (n - 2) * hm) ** 2


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------


def _check_nodal_max() -> SymbolicResult:
    x, a = sp.symbols("x a", real=True)
    g = sp.Symbol("g", positive=True)  # gap b - a
    q = (x - a) * (a + g - x)
    crit = sp.solve(sp.diff(q, x), x)
    val = sp.simplify(q.subs(x, crit[0])) if len(crit) == 1 else None
    claim = "max over [a, b] of (x - a)(b - x) is (b - a)^2/4, at the midpoint (a concave quadratic)"
    ok = len(crit) == 1 and sp.simplify(val - g**2 / 4) == 0 and sp.diff(q, x, 2).is_negative
    return proved(claim, f"sympy: critical point {crit}, value {val}, second derivative {sp.diff(q, x, 2)}") if ok \
        else sympy_fallback(claim, f"{crit}, {val}", g**2 / 4 - q.subs(x, a + sp.Symbol("s") * g), kind="nonneg",
                            bounds={sp.Symbol("s"): (0.0, 1.0)})


def _check_quadratic_error() -> SymbolicResult:
    x, a, b, c0, c1, c2 = sp.symbols("x a b c0 c1 c2", real=True)
    f = c2 * x**2 + c1 * x + c0
    interp = f.subs(x, a) + (f.subs(x, b) - f.subs(x, a)) * (x - a) / (b - a)
    return check_identity("interpolation error formula f - I f = f''/2 (x - a)(x - b), exact for quadratics",
                          sp.cancel(f - interp), sp.diff(f, x, 2) / 2 * (x - a) * (x - b))


def _interp_argument(seed: int = 23) -> SymbolicResult:
    grid = np.linspace(0.0, 1.0, 2001)

    def margin(v: np.ndarray) -> float:
        interior = np.sort(v[:-1])
        phase = float(v[-1])
        nodes = np.concatenate([[0.0], interior, [1.0]])
        f = lambda t: np.sin(3.0 * t + phase)  # noqa: E731  M = 9
        err = float(np.max(np.abs(f(grid) - np.interp(grid, nodes, f(nodes)))))
        h_fill = float(np.max(np.diff(nodes))) / 2.0
        return (float(linear_interp_error_bound(h_fill, 9.0)) - err) / max(float(linear_interp_error_bound(h_fill, 9.0)), 1e-12)

    search = search_min_margin(margin, {**{f"x{i}": (0.0, 1.0) for i in range(5)}, "phase": (0.0, 2 * math.pi)},
                               seed=seed, n_random=400, n_local=3, tol=1e-6)
    return by_argument(
        "1-d piecewise-linear interpolation on [0, 1] (endpoints among the nodes): sup |f - I f| <= (M/2) h_fill^2, "
        "M = sup |f''|, h_fill = (largest gap)/2",
        "on each cell [a, b], f - I f = f''(xi)/2 (x - a)(x - b) (Rolle, twice), and (x - a)(b - x) <= (b - a)^2/4 "
        "<= h_fill^2. Cross-check: f = sin(3x + phase) (M = 9), 7 nodes, error on a 2001-point grid, margin = "
        "(bound - error)/bound.",
        search=search,
    )


def _fill_vs_hmin() -> list[SymbolicResult]:
    n = sp.Symbol("N", integer=True, positive=True)
    hm = sp.Symbol("h_min", positive=True)
    M = sp.Symbol("M", positive=True)
    lattice = check_identity("at the largest possible h_min = 1/(N-1) (the lattice) the bound (1 - (N-2) h_min)/2 "
                             "on h_fill equals 1/(2(N-1)) = q_X (mesh ratio 1)",
                             (1 - (n - 2) / (n - 1)) / 2, 1 / (2 * (n - 1)))
    bound = M / 8 * (1 - (n - 2) * hm) ** 2
    deriv = sp.factor(sp.diff(bound, hm))
    cert = sp.simplify(deriv - (-(M / 4) * (n - 2) * (1 - (n - 2) * hm)))
    claim = ("the error bound (M/8)(1 - (N-2) h_min)^2 is non-increasing in h_min for N >= 2 and h_min <= 1/(N-1): "
             "d/dh_min = -(M/4)(N-2)(1 - (N-2) h_min) <= 0 (1 - (N-2) h_min >= 1/(N-1) > 0 there)")
    s_ = sp.Symbol("s", positive=True)  # h_min = s/(N-1), s in (0, 1]
    trend = proved(claim, f"sympy: derivative = {deriv}; each factor has the stated sign") if cert == 0 else \
        sympy_fallback(claim, f"derivative {deriv}", -deriv.subs(hm, s_ / (n - 1)), kind="nonneg",
                       bounds={s_: (1e-6, 1.0), n: (2.0, 30.0)})

    def margin(v: np.ndarray) -> float:
        nodes = np.concatenate([[0.0], np.sort(v), [1.0]])
        gaps = np.diff(nodes)
        N = len(nodes)
        return ((1.0 - (N - 2) * float(gaps.min())) / 2.0 - float(gaps.max()) / 2.0)

    search = search_min_margin(margin, {f"x{i}": (0.0, 1.0) for i in range(6)}, seed=29, n_random=500, n_local=3,
                               tol=1e-12)
    arg = by_argument(
        "N nodes in [0, 1] including 0 and 1: h_fill <= (1 - (N-2) h_min)/2, so at fixed N a larger h_min forces a "
        "smaller fill distance",
        "the N-1 gaps sum to 1 and N-2 of them are >= h_min, so the largest gap is <= 1 - (N-2) h_min; h_fill is half "
        "the largest gap. Cross-check on random node sets (N = 8), margin = bound - h_fill.",
        search=search,
    )
    return [arg, lattice, trend]


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    return (_check_nodal_max(), _check_quadratic_error(), _interp_argument(), *_fill_vs_hmin())


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T9 (cached within the process)."""
    return list(_symbolic_checks())


_hf, _M, _hm, _N = sp.symbols("h_fill M h_min N", positive=True)
STATEMENT = Statement(
    id="T9",
    title="approximation error falls with the fill distance (and with h_min at fixed N)",
    kind="OURS",
    paper_ref="",
    text=("For quasi-uniform point sets the error of the fitted model on Omega falls with the fill distance (which for "
          "fixed N shrinks as h_min grows). Predicted rule: error non-decreasing in h_fill; exact 1-d analogue: "
          "piecewise-linear interpolation error <= (M/2) h_fill^2 <= (M/8)(1 - (N-2) h_min)^2."),
    hypotheses=("quasi-uniform point sets (bounded mesh ratio h_fill / q_X)", "a smooth target", "fixed N"),
    exprs={"interp_bound": _M / 2 * _hf**2, "bound_from_hmin_1d": _M / 8 * (1 - (_N - 2) * _hm) ** 2,
           "mesh_ratio": 2 * _hf / _hm},
    predictors=("predicted_error_trend", "monotone_violations", "mesh_ratio", "linear_interp_error_bound",
                "error_bound_from_hmin_1d"),
    checks=symbolic_checks,
)
