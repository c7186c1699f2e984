"""T10 (EXACT; the paper's Algorithm 1): the greedy max-min (farthest-first) certificate.

Statement: farthest-first traversal picks s_1, then repeatedly the pool point farthest from the
chosen set; r_k is the distance at which the k-th point was added. Then h_min(S_k) = r_k and
OPT_k <= 2 r_k, where OPT_k is the best possible minimum pairwise distance of k pool points
(pigeonhole on the k-1 balls of radius r_k around S_{k-1}). So every greedy subset carries the
certificate h_min(S_k) >= OPT_k / 2. Greedy subsets have h_min ~ k^{-1/d}; random ones ~ k^{-2/d}.

Predictors: `certificate`, `greedy_scaling_exponent`, `random_scaling_exponent`, and two small
oracles for tests: `farthest_first` (numpy, distances from differences) and `opt_brute_force`.
Proofs here are short arguments (not sympy), each cross-checked by brute force on random pools;
`check_t10_factor` refutes any constant c < 2 in OPT_k <= c r_k with an exact tight example.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import sympy as sp

from hmin.theory._core import (
    negative_control,
    Statement,
    SymbolicResult,
    TheoryInputError,
    as_float_array,
    as_int,
    by_argument,
    disproved,
    proved,
    search_min_margin,
    sympy_fallback,
)

__all__ = [
    "STATEMENT",
    "certificate",
    "greedy_scaling_exponent",
    "random_scaling_exponent",
    "farthest_first",
    "opt_brute_force",
    "check_t10_factor",
    "symbolic_checks",
]


def certificate(r_k):
    """The certificate of a greedy subset from its last insertion radius r_k.

    Args:
        r_k: distance(s) at which the k-th point was added (an h_min, not q_X), >= 0.

    Returns:
        dict(h_min_subset = r_k, opt_upper = 2 r_k, ratio_lower = 0.5): h_min(S_k) = r_k,
        OPT_k <= 2 r_k, h_min(S_k) / OPT_k >= 1/2 (float64 arrays of r_k's shape).

    Example:
        >>> {k: float(v) for k, v in certificate(0.3).items()}
        {'h_min_subset': 0.3, 'opt_upper': 0.6, 'ratio_lower': 0.5}
    """
    r = as_float_array("r_k", r_k, nonneg=True)
    return {"h_min_subset": r.copy(), "opt_upper": 2.0 * r, "ratio_lower": np.full_like(r, 0.5)}


def greedy_scaling_exponent(d):
    """k-exponent of h_min of greedy max-min subsets of a d-dimensional pool: -1/d."""
    return -1.0 / as_int("d", d, minimum=1)


def random_scaling_exponent(d):
    """k-exponent of the median h_min of random subsets (T1): -2/d."""
    return -2.0 / as_int("d", d, minimum=1)


def farthest_first(points, k: int, *, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Farthest-first traversal (the paper's Algorithm 1), O(k n d) numpy.

    Args:
        points: pool, shape (n, d).
        k: subset size, 1 <= k <= n.
        start: index of s_1.

    Returns:
        (indices, radii): the chosen indices in order, and radii[j] = distance from the (j+1)-th chosen
        point to the previously chosen ones (radii[0] = inf). r_k = radii[k-1].

    Example:
        >>> farthest_first(np.array([[0.0], [1.0], [2.0]]), 2, start=1)[1].tolist()
        [inf, 1.0]
    """
    X = as_float_array("points", points)
    if X.ndim != 2 or X.shape[0] < 1:
        raise TheoryInputError(f"points must have shape (n, d), got {X.shape}")
    n = X.shape[0]
    k = as_int("k", k, minimum=1)
    if k > n:
        raise TheoryInputError(f"k = {k} exceeds the pool size {n}")
    start = as_int("start", start, minimum=0)
    if start >= n:
        raise TheoryInputError(f"start = {start} is not an index of the pool (n = {n})")
    idx = [start]
    radii = [math.inf]
    dist = np.linalg.norm(X - X[start], axis=1)  # from differences
    for _ in range(1, k):
        j = int(np.argmax(dist))
        idx.append(j)
        radii.append(float(dist[j]))
        dist = np.minimum(dist, np.linalg.norm(X - X[j], axis=1))
    return np.array(idx), np.array(radii)


def _hmin(X: np.ndarray) -> float:
    diff = X[:, None, :] - X[None, :, :]
    D = np.sqrt(np.sum(diff * diff, axis=-1))
    D[np.diag_indices(len(X))] = np.inf
    return float(D.min())


def opt_brute_force(points, k: int) -> float:
    """OPT_k = max over k-subsets of the pool of their h_min, by enumeration (small pools only).

    Raises:
        TheoryInputError: k < 2, or more than 200000 subsets.
    """
    X = as_float_array("points", points)
    if X.ndim != 2:
        raise TheoryInputError(f"points must have shape (n, d), got {X.shape}")
    k = as_int("k", k, minimum=2)
    n = X.shape[0]
    if k > n:
        raise TheoryInputError(f"k = {k} exceeds the pool size {n}")
    if math.comb(n, k) > 200_000:
        raise TheoryInputError(f"C({n}, {k}) subsets is too many for brute force")
    diff = X[:, None, :] - X[None, :, :]
    D = np.sqrt(np.sum(diff * diff, axis=-1))
    best = -math.inf
    for sub in itertools.combinations(range(n), k):
        s = np.array(sub)
        sub_d = D[np.ix_(s, s)][np.triu_indices(k, 1)]
        best = max(best, float(sub_d.min()))
    return best


# ----------------------------------------------------------------------------------------------
# Symbolic side (arguments, cross-checked by brute force)
# ----------------------------------------------------------------------------------------------

_POOL, _DIM, _K = 7, 2, 3


def _pool(v: np.ndarray) -> np.ndarray:
    return v.reshape(_POOL, _DIM)


def _hmin_equals_rk() -> SymbolicResult:
    def margin(v: np.ndarray) -> float:
        X = _pool(v)
        idx, radii = farthest_first(X, _K)
        return 0.0 - abs(_hmin(X[idx]) - radii[-1])

    search = search_min_margin(margin, {f"p{i}": (0.0, 1.0) for i in range(_POOL * _DIM)}, seed=31, n_random=300,
                               n_local=2, tol=1e-12, method="Powell")
    return by_argument(
        "h_min(S_k) = r_k for the greedy max-min subset S_k",
        "r_(j+1) = max_x d(x, S_j) <= max_x d(x, S_(j-1)) = r_j since S_(j-1) is a subset of S_j, so the radii are "
        "non-increasing; the j-th point is at distance r_j >= r_k from every earlier point, and s_k is at distance "
        "exactly r_k from its nearest earlier point. Cross-check: random pools of 7 points in [0,1]^2, k = 3, "
        "margin = -|h_min(S_k) - r_k|.",
        search=search,
    )


def _opt_le_2rk() -> SymbolicResult:
    def margin(v: np.ndarray) -> float:
        X = _pool(v)
        _, radii = farthest_first(X, _K)
        return 2.0 * radii[-1] - opt_brute_force(X, _K)

    search = search_min_margin(margin, {f"p{i}": (0.0, 1.0) for i in range(_POOL * _DIM)}, seed=37, n_random=300,
                               n_local=2, tol=1e-12, method="Powell")
    return by_argument(
        "OPT_k <= 2 r_k: no k pool points are pairwise farther apart than 2 r_k",
        "every pool point lies within r_k = max_x d(x, S_(k-1)) of one of the k-1 points of S_(k-1); among any k pool "
        "points two share that nearest centre (pigeonhole), so their distance is <= 2 r_k (triangle inequality). "
        "Cross-check: brute-force OPT_3 over random pools of 7 points in [0,1]^2, margin = 2 r_k - OPT_k.",
        search=search,
    )


def _ratio() -> SymbolicResult:
    r = sp.Symbol("r_k", positive=True)
    opt = sp.Symbol("OPT_k", positive=True)
    lower = sp.simplify(r / (2 * r))
    claim = "certificate: h_min(S_k) / OPT_k >= r_k / (2 r_k) = 1/2"
    return proved(claim, f"sympy: r_k/(2 r_k) = {lower}; h_min(S_k)/OPT_k = r_k/OPT_k is decreasing in OPT_k "
                         f"(d/dOPT = {sp.diff(r / opt, opt)})") if lower == sp.Rational(1, 2) \
        else sympy_fallback(claim, f"r_k/(2 r_k) = {lower}", lower - sp.Rational(1, 2), kind="zero")


def check_t10_factor(c) -> SymbolicResult:
    """Check "OPT_k <= c r_k for every pool and k": true iff c >= 2.

    c >= 2 follows from the pigeonhole argument (PROVED, method "argument"); any c < 2 is refuted by the
    exact pool {0, 1, 2} on a line, k = 2, s_1 = 1: r_2 = 1 and OPT_2 = 2 (so 2 is also the best constant).

    Example:
        >>> check_t10_factor(1.5).status.value
        'disproved'
    """
    c = sp.nsimplify(c)
    if not c.is_number or not c.is_real:
        raise TheoryInputError(f"c must be a real number, got {c}")
    claim = f"OPT_k <= {c} r_k for every pool and k"
    X = np.array([[0.0], [1.0], [2.0]])
    _, radii = farthest_first(X, 2, start=1)
    opt = opt_brute_force(X, 2)
    r2, opt_ = sp.nsimplify(radii[-1]), sp.nsimplify(opt)
    if (c - 2).is_nonnegative:
        return by_argument(claim, f"c = {c} >= 2 and OPT_k <= 2 r_k (pigeonhole); tight on the pool {{0, 1, 2}}, "
                                  f"start 1: r_2 = {r2}, OPT_2 = {opt_}.")
    m = c * r2 - opt_
    if m < 0:
        return disproved(claim, f"exact: pool {{0, 1, 2}} on a line, k = 2, s_1 = 1: r_2 = {r2}, OPT_2 = {opt_}, "
                                f"c r_2 - OPT_2 = {m} < 0", margin=float(m), witness={"r_2": float(r2), "OPT_2": float(opt_)})
    raise AssertionError("unreachable: c < 2 is refuted by the tight pool")  # pragma: no cover


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    wrong = check_t10_factor(sp.Rational(3, 2))
    wrong = negative_control(wrong)
    return (_hmin_equals_rk(), _opt_le_2rk(), _ratio(), check_t10_factor(2), wrong)


def symbolic_checks() -> list[SymbolicResult]:
    """All results of T10 (cached within the process)."""
    return list(_symbolic_checks())


_r = sp.Symbol("r_k", positive=True)
STATEMENT = Statement(
    id="T10",
    title="greedy max-min selection certificate",
    kind="EXACT",
    paper_ref="the paper's Algorithm 1",
    text=("Farthest-first traversal picks s_1, then repeatedly the point farthest from the chosen set; let r_k be the "
          "distance at which the k-th point was added. Then h_min(S_k) = r_k and OPT_k <= 2 r_k, where OPT_k is the best "
          "possible minimum pairwise distance of k points from the pool (pigeonhole on the k-1 balls of radius r_k). "
          "So every greedy subset carries a certificate: h_min(S_k) >= OPT_k / 2. Greedy subsets have h_min ~ k^(-1/d); "
          "random subsets ~ k^(-2/d)."),
    hypotheses=("a finite pool in a metric space (here R^d, Euclidean)", "1 <= k <= pool size"),
    exprs={"h_min_subset": _r, "opt_upper": 2 * _r, "ratio_lower": sp.Rational(1, 2),
           "greedy_exponent": -1 / sp.Symbol("d", positive=True), "random_exponent": -2 / sp.Symbol("d", positive=True)},
    predictors=("certificate", "greedy_scaling_exponent", "random_scaling_exponent", "farthest_first", "opt_brute_force"),
    checks=symbolic_checks,
)
