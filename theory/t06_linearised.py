"""T6 (OURS): linearised prediction of the GD loss curve from a fixed Gram matrix, and when h_min matters.

Statement: near a fixed Gram matrix G = U diag(lambda) U^T, GD on the squared loss follows
r_t = (I - (eta/N) G)^t r_0 and

    L_t = (1/(2N)) sum_i (1 - eta lambda_i / N)^{2t} (u_i^T r_0)^2.

The slow directions are those with small lambda_i; by T4 a close pair creates one along
(e_i - e_j)/sqrt(2). So the slowdown is large only when the residual has weight there,
((r_i - r_j)/sqrt 2)^2, i.e. when the labels of the close pair differ (random labels); with labels
from a smooth target (or equal labels) a small h_min costs little. This refines the paper's
"can slow down".

Predictors: `linearised_loss` (used by sims; signature fixed), `eig_projections`,
`linearised_residual`, `steps_to_eps_linearised`, `pair_direction_weight`,
`steps_lower_bound_from_pair`.
Symbolic side: the linearised GD recursion (linear model, symbolic J), the spectral formula of L_t
for t = 1, 2, 3 with a symbolic rotation, the pair eigenvector (e_i - e_j)/sqrt 2 with eigenvalue
(1/2)||g_i - g_j||^2, and the time lower bound from a slow direction.
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
    "linearised_loss",
    "eig_projections",
    "linearised_residual",
    "steps_to_eps_linearised",
    "pair_direction_weight",
    "steps_lower_bound_from_pair",
    "symbolic_checks",
]


def linearised_loss(eigvals, proj, eta: float, n: int, t):
    """L_t = (1/(2N)) sum_i (1 - eta lambda_i / N)^{2t} (u_i^T r_0)^2.

    Args:
        eigvals: eigenvalues lambda_i of the Gram matrix G = J J^T, shape (M,).
        proj: projections u_i^T r_0 of the initial residual on the eigenvectors, shape (M,).
        eta: learning rate.
        n: number of data points N (the loss is (1/(2N)) ||r||^2).
        t: step or array of steps.

    Returns:
        The predicted loss at each t (float64 array of t's shape).
    """
    lam = np.asarray(eigvals, dtype=np.float64)
    p2 = np.asarray(proj, dtype=np.float64) ** 2
    t = np.asarray(t, dtype=np.float64)
    factor = np.abs(1.0 - eta * lam / n)  # |.|: the sign cancels in the even power 2t
    # a direction with |1 - eta lambda/N| > 1 grows without bound: its term is +inf, not a warning
    with np.errstate(divide="ignore", under="ignore", over="ignore", invalid="ignore"):
        logf = np.log(np.maximum(factor, 1e-300))
        terms = np.where(p2[None, :] == 0.0, 0.0, p2[None, :] * np.exp(2.0 * t.reshape(-1, 1) * logf[None, :]))
    return (terms.sum(axis=1) / (2.0 * n)).reshape(t.shape)


def eig_projections(G, r0):
    """Eigenvalues of G (float64, ascending) and the projections u_i^T r_0 of the residual.

    Args:
        G: symmetric Gram matrix J J^T, shape (M, M).
        r0: initial residual f(X) - Y, shape (M,).

    Returns:
        (eigvals, proj), both float64 of shape (M,): the inputs of `linearised_loss`.
    """
    G = as_float_array("G", G)
    r0 = as_float_array("r0", r0)
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise TheoryInputError(f"G must be a square matrix, got shape {G.shape}")
    if r0.shape != (G.shape[0],):
        raise TheoryInputError(f"r0 must have shape ({G.shape[0]},), got {r0.shape}")
    lam, U = np.linalg.eigh(0.5 * (G + G.T))
    return lam, U.T @ r0


def linearised_residual(G, r0, eta: float, n: int, t: int):
    """r_t = (I - (eta/N) G)^t r_0, through the eigendecomposition of G (float64).

    Example:
        >>> linearised_residual(np.eye(2), np.array([1.0, 2.0]), 1.0, 2, 1).tolist()
        [0.5, 1.0]
    """
    lam, proj = eig_projections(G, r0)
    t = as_int("t", t, minimum=0)
    e = float(as_float_array("eta", eta, positive=True))
    n = as_int("n", n, minimum=1)
    _, U = np.linalg.eigh(0.5 * (np.asarray(G, np.float64) + np.asarray(G, np.float64).T))
    return U @ ((1.0 - e * lam / n) ** t * proj)


def steps_to_eps_linearised(eigvals, proj, eta: float, n: int, eps: float, max_steps: int) -> float:
    """First integer t with linearised_loss(t) <= eps * linearised_loss(0); inf if none in [0, max_steps].

    L_t = sum_i p_i^2 c_i^{2t} / (2N) with c_i = |1 - eta lambda_i / N| is a sum of exponentials in t,
    hence convex in t. If every c_i <= 1 (eta lambda_i / N <= 2) it is non-increasing and the first
    crossing is found by bisection. Otherwise (some direction diverges) the curve first falls, then
    rises: the integer minimiser t* is found by bisection on the sign of L_{t+1} - L_t (non-decreasing
    by convexity), and the crossing, if L_{t*} <= eps L_0, by bisection on [0, t*].

    Args:
        eigvals: eigenvalues lambda_i of G, shape (M,).
        proj: u_i^T r_0, shape (M,).
        eta: learning rate > 0.
        n: number of data points N.
        eps: target fraction of the initial loss, > 0 (eps >= 1 gives 0).
        max_steps: the horizon (integer >= 0).

    Returns:
        The step count as a float (an integer value), or math.inf.

    Example:
        >>> steps_to_eps_linearised([1.0], [1.0], 1.0, 2, 0.25, 100)  # L_t = 0.25^t L_0
        1.0
    """
    lam = as_float_array("eigvals", eigvals)
    p = as_float_array("proj", proj)
    if lam.ndim != 1 or lam.shape != p.shape:
        raise TheoryInputError(f"eigvals {lam.shape} and proj {p.shape} must be 1-d of the same length")
    e = float(as_float_array("eta", eta, positive=True))
    n = as_int("n", n, minimum=1)
    eps = float(as_float_array("eps", eps, positive=True))
    max_steps = as_int("max_steps", max_steps, minimum=0)

    def L(t: int) -> float:
        with np.errstate(over="ignore"):  # a divergent direction overflows to inf, which is the right value
            return float(linearised_loss(lam, p, e, n, t))

    L0 = L(0)
    if L0 == 0.0 or eps >= 1.0:
        return 0.0
    target = eps * L0
    hi = max_steps
    if np.any(np.abs(1.0 - e * lam / n)[p != 0] > 1.0):
        lo_, hi_ = 0, max_steps  # first t in [0, max_steps] with L(t+1) - L(t) >= 0
        if L(min(1, max_steps)) >= L0:
            hi_ = 0
        else:
            while lo_ < hi_:
                mid = (lo_ + hi_) // 2
                if not L(mid + 1) < L(mid):  # (inf, inf) past the minimum counts as rising
                    hi_ = mid
                else:
                    lo_ = mid + 1
        hi = hi_
    if L(hi) > target:
        return math.inf
    lo = 0  # L(lo) > target >= L(hi), L non-increasing on [0, hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if L(mid) <= target:
            hi = mid
        else:
            lo = mid
    return float(hi)


def pair_direction_weight(r0, i: int, j: int):
    """((r_i - r_j)/sqrt 2)^2: the weight of the residual on the close-pair direction (e_i - e_j)/sqrt 2.

    Args:
        r0: residual(s), shape (..., M).
        i, j: the indices of the pair.

    Returns:
        float64 array of shape (...).

    Example:
        >>> float(pair_direction_weight(np.array([1.0, -1.0, 0.0]), 0, 1))
        2.0
    """
    r = as_float_array("r0", r0)
    if r.ndim == 0:
        raise TheoryInputError("r0 must have at least one axis")
    m = r.shape[-1]
    i = as_int("i", i, minimum=0)
    j = as_int("j", j, minimum=0)
    if i >= m or j >= m or i == j:
        raise TheoryInputError(f"need distinct pair indices below {m}, got i={i}, j={j}")
    return 0.5 * (r[..., i] - r[..., j]) ** 2


def steps_lower_bound_from_pair(lam_slow, weight, loss0, eta, n, eps):
    """A lower bound on the linearised time to eps * L_0 from one slow eigen-direction.

    L_t >= (1/(2N)) c^{2t} w with c = |1 - eta lambda/N| and w the residual weight on that direction,
    so L_t <= eps L_0 needs t >= log(2 N eps L_0 / w) / (2 log c) (0 if w <= 2 N eps L_0; inf if c >= 1).

    Returns:
        float64 array (real-valued; round up for a step count).
    """
    lam = as_float_array("lam_slow", lam_slow, nonneg=True)
    w = as_float_array("weight", weight, nonneg=True)
    l0 = as_float_array("loss0", loss0, positive=True)
    e = as_float_array("eta", eta, positive=True)
    n = float(as_int("n", n, minimum=1))
    eps_ = as_float_array("eps", eps, positive=True)
    c = np.abs(1.0 - e * lam / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(2.0 * n * eps_ * l0 / w) / (2.0 * np.log(c))
    t = np.where(w <= 2.0 * n * eps_ * l0, 0.0, t)
    return np.where((c >= 1.0) & (w > 2.0 * n * eps_ * l0), np.inf, np.where(c == 0.0, np.minimum(t, 1.0), t))


# ----------------------------------------------------------------------------------------------
# Symbolic side
# ----------------------------------------------------------------------------------------------

_eta, _N = sp.Symbol("eta", positive=True), sp.Symbol("N", positive=True, integer=True)


def _check_recursion() -> SymbolicResult:
    n_pts, P = 2, 3
    J = sp.Matrix(n_pts, P, lambda i, k: sp.Symbol(f"J{i + 1}{k + 1}", real=True))
    th = sp.Matrix(sp.symbols(f"theta1:{P + 1}", real=True))
    f0 = sp.Matrix(sp.symbols(f"f1:{n_pts + 1}", real=True))
    y = sp.Matrix(sp.symbols(f"y1:{n_pts + 1}", real=True))
    r = f0 + J * th - y  # linear model f(theta) = f0 + J theta
    grad = J.T * r / n_pts  # T3
    r_next = f0 + J * (th - _eta * grad) - y
    return check_identity(
        "linearised GD: for f(theta) = f0 + J theta one GD step gives r_(t+1) = (I - (eta/N) J J^T) r_t (N=2, P=3)",
        r_next, (sp.eye(n_pts) - _eta / n_pts * J * J.T) * r)


def _check_spectral(ts=(1, 2)) -> list[SymbolicResult]:
    q = sp.Symbol("q", real=True)
    l1, l2 = sp.symbols("lambda1 lambda2", nonnegative=True)
    r1, r2 = sp.symbols("r1 r2", real=True)
    c, s = (1 - q**2) / (1 + q**2), 2 * q / (1 + q**2)  # exact rational rotation
    U = sp.Matrix([[c, -s], [s, c]])
    G = U * sp.diag(l1, l2) * U.T
    r0 = sp.Matrix([r1, r2])
    proj = U.T * r0
    out = [check_identity("the rational rotation U is orthogonal (U^T U = I), so (I - eta G/N)^t = U diag((1 - eta "
                          "lambda_i/N)^t) U^T for every t by induction, and L_t = (1/(2N)) ||diag(.)^t U^T r_0||^2",
                          sp.simplify(U.T * U), sp.eye(2))]
    A = sp.eye(2) - _eta / _N * G
    for t in ts:
        rt = A**t * r0
        lhs = (rt.T * rt)[0, 0] / (2 * _N)
        rhs = sum((1 - _eta * lk / _N) ** (2 * t) * proj[k] ** 2 for k, lk in enumerate((l1, l2))) / (2 * _N)
        diff = sp.cancel(sp.together(lhs - rhs))
        claim = (f"L_t = (1/(2N)) sum_i (1 - eta lambda_i/N)^(2t) (u_i^T r_0)^2 equals ||(I - eta G/N)^t r_0||^2/(2N) "
                 f"for t = {t}, G = U diag(lambda) U^T with a symbolic 2x2 rotation U")
        out.append(proved(claim, "sympy: cancel(lhs - rhs) = 0 (rational rotation c = (1-q^2)/(1+q^2), s = 2q/(1+q^2))")
                   if diff == 0 else sympy_fallback(claim, f"residue {diff}", diff, kind="zero"))
    return out


def _check_pair_eigvec() -> list[SymbolicResult]:
    a, b = sp.symbols("a b", real=True)
    G = sp.Matrix([[a, b], [b, a]])
    u = sp.Matrix([1, -1]) / sp.sqrt(2)
    res1 = check_identity(
        "for a pair with equal gradient norms, G = [[a, b], [b, a]] has the eigenvector (e_i - e_j)/sqrt 2 with "
        "eigenvalue a - b", G * u, (a - b) * u)
    g = sp.Matrix(2, 2, lambda i, k: sp.Symbol(f"g{i + 1}{k + 1}", real=True))
    Gg = g * g.T
    lam_slow = (u.T * Gg * u)[0, 0]
    dg = g[0, :] - g[1, :]
    res2 = check_identity("its eigenvalue (Rayleigh quotient) is (1/2)||g_i - g_j||^2 -> 0 as h_ij -> 0 (T4)",
                          lam_slow, (dg * dg.T)[0, 0] / 2)
    r = sp.Matrix(sp.symbols("r1 r2", real=True))
    res3 = check_identity("the residual weight on it is (u^T r)^2 = (r_i - r_j)^2 / 2 = pair_direction_weight",
                          (u.T * r)[0, 0] ** 2, (r[0] - r[1]) ** 2 / 2)
    return [res1, res2, res3]


def _check_lower_bound_time() -> SymbolicResult:
    t = sp.Symbol("t", positive=True)
    c, w, L0, eps = sp.symbols("c w L0 epsilon", positive=True)
    sol = [x for x in sp.solve(sp.Eq(c ** (2 * t) * w / (2 * _N), eps * L0), t) if not x.has(sp.I)]
    target = sp.log(2 * _N * eps * L0 / w) / (2 * sp.log(c))
    claim = ("one slow direction forces t >= log(2 N eps L_0 / w) / (2 log c): the time at which its own term "
             "c^(2t) w / (2N) of L_t reaches eps L_0")
    ok = len(sol) == 1 and sp.simplify(sp.expand_log(sol[0] - target, force=True)) == 0
    return proved(claim, f"sympy.solve -> {sol}") if ok else \
        sympy_fallback(claim, f"sympy.solve -> {sol}", c ** (2 * target) * w / (2 * _N) / (eps * L0) - 1,
                       bounds={c: (0.05, 0.95)})


def _steps_argument(seed: int = 13) -> SymbolicResult:
    # steps_to_eps_linearised against a brute-force scan on random spectra (including divergent eta)
    def margin(v: np.ndarray) -> float:
        lam = np.abs(v[:3]) * 4.0
        p = v[3:6]
        e, eps = float(v[6]), float(v[7])
        t = steps_to_eps_linearised(lam, p, e, 3, eps, 300)
        with np.errstate(over="ignore"):
            Ls = linearised_loss(lam, p, e, 3, np.arange(301))
        hit = np.nonzero(Ls <= eps * Ls[0])[0]
        brute = float(hit[0]) if hit.size else math.inf
        return 0.0 if t == brute else -1.0

    bounds = {**{f"lam{i}": (0.0, 1.0) for i in range(3)}, **{f"p{i}": (-1.0, 1.0) for i in range(3)},
              "eta": (0.05, 2.5), "eps": (1e-4, 0.9)}
    search = search_min_margin(margin, bounds, seed=seed, n_random=300, n_local=0)
    return by_argument(
        "steps_to_eps_linearised returns the first t with L_t <= eps L_0 (also when some eta lambda_i/N > 2)",
        "L_t is a sum of exponentials in t, hence convex; bisection on the sign of L_(t+1) - L_t finds the minimiser, "
        "then bisection on the non-increasing part finds the crossing. Cross-check: equality with a brute-force scan "
        "of t = 0..300 on random spectra (margin 0 = equal, -1 = different).",
        search=search,
    )


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    return (
        _check_recursion(),
        *_check_spectral(),
        *_check_pair_eigvec(),
        _check_lower_bound_time(),
        _steps_argument(),
    )


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T6 (cached within the process)."""
    return list(_symbolic_checks())


_lam_i, _p_i, _t = sp.Symbol("lambda_i", nonnegative=True), sp.Symbol("p_i", real=True), sp.Symbol("t", nonnegative=True)
STATEMENT = Statement(
    id="T6",
    title="linearised loss curve; a close pair matters when its labels differ",
    kind="OURS",
    paper_ref="",
    text=("Near a fixed Gram matrix G = U diag(lambda) U^T, r_t = (I - (eta/N) G)^t r_0 and L_t = (1/(2N)) sum_i "
          "(1 - eta lambda_i/N)^(2t) (u_i^T r_0)^2. The slow directions have small lambda_i; a close pair creates one "
          "along (e_i - e_j)/sqrt(2) (T4), so the slowdown is large only when the residual has weight "
          "((r_i - r_j)/sqrt 2)^2 there, i.e. when the labels of the close pair differ (random labels). With labels "
          "from a smooth target (or equal labels) a small h_min costs little."),
    hypotheses=("the Gram matrix stays near G along the trajectory (linearised / NTK regime)", "squared loss"),
    exprs={"term": (1 - _eta * _lam_i / _N) ** (2 * _t) * _p_i**2 / (2 * _N),
           "pair_weight": (sp.Symbol("r_i") - sp.Symbol("r_j")) ** 2 / 2},
    predictors=("linearised_loss", "eig_projections", "linearised_residual", "steps_to_eps_linearised",
                "pair_direction_weight", "steps_lower_bound_from_pair"),
    checks=symbolic_checks,
)
