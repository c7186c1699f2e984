"""T3 (EXACT identity): the PL-type inequality of the squared loss.

Statement: with L = (1/(2N)) ||r||^2, r = f(X) - Y, J the Jacobian (rows grad_theta f(x_i)) and
G = J J^T,

    ||grad L||^2 = (1/N^2) r^T G r  >=  (2/N) lambda_min(G) L,

so mu(theta) := (2/N) lambda_min(G(theta)) is the path-dependent PL constant (the paper's
mu_{low,s,X}).

Predictors: `pl_constant`, `grad_norm_sq_from_gram`, `pl_lower_bound`, `loss_from_residual`.
Symbolic side: the gradient by the chain rule (symbolic f_i), the identity for symbolic J of
shapes 2x3 and 3x2, the Rayleigh bound r^T G r >= lambda_min ||r||^2 for a general symbolic 2x2
symmetric G, and `check_t3_pl_factor`, which refutes a wrong PL factor (e.g. lambda_max).
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
    check_identity,
    disproved,
    proved,
    search_min_margin,
    sympy_fallback,
)

__all__ = [
    "STATEMENT",
    "pl_constant",
    "grad_norm_sq_from_gram",
    "pl_lower_bound",
    "loss_from_residual",
    "check_t3_pl_factor",
    "symbolic_checks",
    "LAM_MIN",
    "LAM_MAX",
]

N = sp.Symbol("N", positive=True, integer=True)
#: the smallest eigenvalue of G as a sympy symbol.
LAM_MIN = sp.Symbol("lambda_min", nonnegative=True)
#: the largest eigenvalue of G as a sympy symbol.
LAM_MAX = sp.Symbol("lambda_max", nonnegative=True)


# ----------------------------------------------------------------------------------------------
# Numeric predictors
# ----------------------------------------------------------------------------------------------


def pl_constant(lam_min, n):
    """mu = (2/N) lambda_min(G), the PL constant of the squared loss (vectorised).

    Example:
        >>> float(pl_constant(0.5, 4))
        0.25
    """
    lam = as_float_array("lam_min", lam_min)
    n = as_int_array("n", n, minimum=1)
    return 2.0 * lam / n


def loss_from_residual(r, n):
    """L = ||r||^2 / (2N) over the last axis of r (residual f(X) - Y flattened per point/output)."""
    r = as_float_array("r", r)
    n = as_int_array("n", n, minimum=1)
    return np.sum(r * r, axis=-1) / (2.0 * n)


def grad_norm_sq_from_gram(G, r, n):
    """||grad L||^2 = r^T G r / N^2 from the Gram matrix G = J J^T and the residual r.

    Args:
        G: Gram matrix, shape (..., M, M) (M = N k).
        r: residual, shape (..., M).
        n: number of data points N (the loss is ||r||^2 / (2N)).

    Returns:
        float64 array of shape (...).

    Example:
        >>> float(grad_norm_sq_from_gram(np.eye(2), np.array([1.0, 1.0]), 2))
        0.5
    """
    G = as_float_array("G", G)
    r = as_float_array("r", r)
    n = as_int_array("n", n, minimum=1)
    if G.ndim < 2 or G.shape[-1] != G.shape[-2]:
        raise TheoryInputError(f"G must be square in its last two axes, got shape {G.shape}")
    if r.shape[-1:] != G.shape[-1:]:
        raise TheoryInputError(f"r has shape {r.shape}, incompatible with G of shape {G.shape}")
    return np.einsum("...i,...ij,...j->...", r, G, r) / n**2


def pl_lower_bound(lam_min, loss, n):
    """(2/N) lambda_min L: the lower bound T3 puts on ||grad L||^2."""
    lam = as_float_array("lam_min", lam_min)
    loss = as_float_array("loss", loss, nonneg=True)
    n = as_int_array("n", n, minimum=1)
    return 2.0 * lam * loss / n


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------


def _check_chain_rule(n_pts: int, n_par: int) -> SymbolicResult:
    th = sp.symbols(f"theta1:{n_par + 1}", real=True)
    y = sp.symbols(f"y1:{n_pts + 1}", real=True)
    f = [sp.Function(f"f{i + 1}")(*th) for i in range(n_pts)]
    L = sum((f[i] - y[i]) ** 2 for i in range(n_pts)) / (2 * n_pts)
    grad = sp.Matrix([sp.diff(L, t) for t in th])
    J = sp.Matrix(n_pts, n_par, lambda i, k: sp.diff(f[i], th[k]))
    r = sp.Matrix([f[i] - y[i] for i in range(n_pts)])
    res = check_identity(
        f"grad L = (1/N) J^T r for L = ||f - y||^2/(2N), symbolic f_i(theta) (N={n_pts}, P={n_par})",
        grad, J.T * r / n_pts)
    return res


def _check_identity(n_pts: int, n_par: int) -> SymbolicResult:
    J = sp.Matrix(n_pts, n_par, lambda i, k: sp.Symbol(f"J{i + 1}{k + 1}", real=True))
    r = sp.Matrix(sp.symbols(f"r1:{n_pts + 1}", real=True))
    g = J.T * r / n_pts
    return check_identity(
        f"||grad L||^2 = (1/N^2) r^T J J^T r for symbolic J ({n_pts}x{n_par}) and r",
        (g.T * g)[0, 0], (r.T * J * J.T * r)[0, 0] / n_pts**2)


def _check_rayleigh_2x2() -> SymbolicResult:
    a, c, b = sp.symbols("a c b", real=True)
    r1, r2 = sp.symbols("r1 r2", real=True)
    disc = sp.sqrt(((a - c) / 2) ** 2 + b**2)
    lam = (a + c) / 2 - disc
    G = sp.Matrix([[a, b], [b, c]])
    eig = sorted(G.eigenvals(), key=sp.default_sort_key)
    eig_ok = any(sp.simplify(e - lam) == 0 for e in eig)
    M = G - lam * sp.eye(2)
    det = sp.simplify(M.det())
    q = (sp.Matrix([r1, r2]).T * M * sp.Matrix([r1, r2]))[0, 0]
    cert = sp.simplify(sp.expand(M[0, 0] * q - (M[0, 0] * r1 + b * r2) ** 2 - M.det() * r2**2))
    trace = sp.simplify(M.trace() - 2 * disc)
    claim = ("Rayleigh: r^T G r >= lambda_min(G) ||r||^2 for every symmetric 2x2 G = [[a,b],[b,c]] and r, "
             "lambda_min = (a+c)/2 - sqrt(((a-c)/2)^2 + b^2)")
    if eig_ok and det == 0 and cert == 0 and trace == 0:
        return proved(claim, "sympy: lambda_min is an eigenvalue of G; M = G - lambda_min I has det M = 0, "
                             "trace M = 2 sqrt(((a-c)/2)^2 + b^2) >= 0 (so M11, M22 >= 0 since M11 M22 = b^2), and "
                             "M11 * r^T M r = (M11 r1 + b r2)^2 + det(M) r2^2 identically; hence r^T M r >= 0 "
                             "(if M11 = 0 then b = 0 and r^T M r = M22 r2^2)")
    return sympy_fallback(claim, f"eig {eig}, det {det}, certificate residue {cert}", q, kind="nonneg")


def _check_pl_from_rayleigh() -> SymbolicResult:
    rr, lam = sp.Symbol("rnorm2", nonnegative=True), LAM_MIN
    L = rr / (2 * N)
    res = check_identity("lambda_min ||r||^2 / N^2 = (2/N) lambda_min L (so ||grad L||^2 >= (2/N) lambda_min L)",
                         lam * rr / N**2, 2 * lam * L / N)
    return res


def _general_argument(seed: int = 3) -> SymbolicResult:
    n_pts, n_par = 3, 4

    def margin(v: np.ndarray) -> float:
        J = v[: n_pts * n_par].reshape(n_pts, n_par)
        r = v[n_pts * n_par:]
        G = J @ J.T
        g2 = float(np.sum((J.T @ r / n_pts) ** 2))
        lb = 2.0 / n_pts * np.linalg.eigvalsh(G)[0] * float(r @ r) / (2 * n_pts)
        return (g2 - lb) / (1.0 + float(np.trace(G)) * float(r @ r))

    bounds = {**{f"J{i}{k}": (-2.0, 2.0) for i in range(n_pts) for k in range(n_par)},
              **{f"r{i}": (-2.0, 2.0) for i in range(n_pts)}}
    search = search_min_margin(margin, bounds, seed=seed, n_random=500, n_local=3, tol=1e-10)
    return by_argument(
        "||grad L||^2 >= (2/N) lambda_min(G) L for every N, P, J, r",
        "||grad L||^2 = r^T G r / N^2 (identity above, any shape) and r^T G r >= lambda_min ||r||^2 by the "
        "spectral theorem (Rayleigh quotient); ||r||^2 = 2 N L.",
        search=search,
    )


def check_t3_pl_factor(factor: sp.Expr) -> SymbolicResult:
    """Check a candidate PL factor c(N, lambda_min, lambda_max) for ||grad L||^2 >= c L.

    In the eigenbasis of G (eigenvalues lambda_min <= lambda_max, two points suffice),
    ||grad L||^2 / L = 2 (lambda_min w1^2 + lambda_max w2^2) / (N (w1^2 + w2^2)), whose minimum over w
    is (2/N) lambda_min (w = e_1). So the claim holds iff c <= (2/N) lambda_min.
    PROVED if (2/N) lambda_min - c simplifies to 0 or is provably >= 0; DISPROVED with an exact
    counterexample (w = e_1) otherwise.
    """
    w1, w2 = sp.symbols("w1 w2", real=True)
    g2 = (LAM_MIN * w1**2 + LAM_MAX * w2**2) / N**2
    L = (w1**2 + w2**2) / (2 * N)
    claim = f"||grad L||^2 >= ({factor}) * L"
    gap = sp.simplify(2 * LAM_MIN / N - factor)
    if gap == 0:
        return proved(claim, "sympy: factor = (2/N) lambda_min = min_w ||grad L||^2 / L (tight at w = e_1)")
    if gap.is_nonnegative:
        return proved(claim, f"sympy: (2/N) lambda_min - factor = {gap} >= 0")
    for lmin, lmax, n in ((1, 2, 2), (0, 1, 2), (1, 3, 3), (2, 5, 4)):
        sub = {LAM_MIN: lmin, LAM_MAX: lmax, N: n, w1: 1, w2: 0}
        m = sp.simplify((g2 - factor * L).subs(sub))
        if m.is_number and m < 0:
            return disproved(claim, f"sympy: at lambda_min={lmin}, lambda_max={lmax}, N={n}, w = e_1: "
                                    f"||grad L||^2 - factor L = {m} < 0",
                             margin=float(m), witness={"lambda_min": lmin, "lambda_max": lmax, "N": n, "w1": 1, "w2": 0})
    s_ = sp.Symbol("s", nonnegative=True)  # lambda_max = lambda_min + s
    return sympy_fallback(claim, f"gap {gap} not signed, no counterexample on the grid",
                          (g2 - factor * L).subs(LAM_MAX, LAM_MIN + s_) / (1 + w1**2 + w2**2), kind="nonneg")


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    wrong = check_t3_pl_factor(2 * LAM_MAX / N)
    wrong = negative_control(wrong)
    return (
        _check_chain_rule(2, 3),
        _check_chain_rule(3, 2),
        _check_identity(2, 3),
        _check_identity(3, 2),
        _check_rayleigh_2x2(),
        _check_pl_from_rayleigh(),
        _general_argument(),
        check_t3_pl_factor(2 * LAM_MIN / N),
        wrong,
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T3 (cached within the process)."""
    return list(_symbolic_checks())


_r = sp.Symbol("rnorm2", nonnegative=True)
STATEMENT = Statement(
    id="T3",
    title="PL identity of the squared loss",
    kind="EXACT",
    paper_ref="",
    text=("||grad L||^2 = (1/N^2) r^T G r, hence ||grad L(theta)||^2 >= (2/N) lambda_min(G(theta)) L(theta). "
          "mu(theta) := (2/N) lambda_min(G(theta)) is the path-dependent PL constant (the paper's mu_{low,s,X})."),
    hypotheses=("squared loss L = ||f(X) - Y||^2 / (2N)", "f differentiable in theta", "G = J J^T"),
    exprs={"mu": 2 * LAM_MIN / N, "pl_lower_bound": 2 * LAM_MIN / N * _r / (2 * N),
           "loss": _r / (2 * N)},
    predictors=("pl_constant", "grad_norm_sq_from_gram", "pl_lower_bound", "loss_from_residual"),
    checks=symbolic_checks,
)
