"""Extreme eigenvalues of the Gram matrix G = J J^T and of the Hessian without forming either.

``hmin train`` records lambda_min(G_t), lambda_max(G_t) (and mu_t = (2/N) lambda_min) and the
sharpness along a run.  Forming J (N k x P) and G (N k x N k) costs N k backward passes, memory
(N k)^2 and a dense eigendecomposition O((N k)^3): at N = 1797 digits with k = 10 that is a
17,970 x 17,970 matrix.  Here G is only ever applied to vectors:

    G v = J (J^T v):  J^T v is one vector-Jacobian product of theta -> f(X; theta) (one backward
    pass through the whole batch), J u one Jacobian-vector product (one forward pass),

and its extreme eigenvalues come from Lanczos with full reorthogonalisation (:func:`lanczos`) in
float64.  Every eigenvalue is returned with its residual ||G y - theta y|| for the Ritz pair
(theta, y), computed by one more product with G: for a symmetric matrix some eigenvalue lies
within that residual of theta.  theta_max <= lambda_max and theta_min >= lambda_min always
(Cauchy interlacing), so the residual says how far the reported mu_t can be from the truth from
below only when the gap to the next eigenvalue is known; a reader sees the residual and judges.

Small problems keep the dense path (``gram`` and LAPACK's ``eigh`` through NumPy: measured faster
than XLA's CPU ``eigh`` on this machine, benchmarks/bench_train.py); :func:`gram_extremes` picks
it by size (``method="auto"``: dense while N k <= ``DENSE_MAX``) and says which it used.

References:
    C. Lanczos (1950); G. H. Golub and G. Meurant, *Matrices, Moments and Quadrature with
    Applications* (2010) for the Gauss quadrature r^T f(G) r ~ sum_i w_i f(theta_i) used by T6 at
    scale (``LanczosResult.quadrature``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hmin.sims.diagnostics import gram
from hmin.sims.models import Model
from hmin.sims.precision import uses_float64

__all__ = ["LanczosResult", "lanczos", "gram_matvec", "hessian_matvec", "Extremes", "gram_extremes",
           "dense_extremes", "DENSE_MAX", "METHODS"]

#: the largest N k for which ``method="auto"`` forms G and takes its dense eigenvalues.  Measured
#: (benchmarks/bench_train.py, 64 digits, 64-512-10 tanh, N k = 640): forming G costs N k single-point
#: backward passes and a (N k x P)(P x N k) product, and one dense record cost more than 120 Lanczos
#: steps there, so the dense path is kept for small N k only (where it is also exact).
DENSE_MAX = 256
#: the legal ``method`` names of :func:`gram_extremes`
METHODS = ("auto", "dense", "lanczos")


class LanczosResult(NamedTuple):
    """What :func:`lanczos` returns (float64 NumPy).

    Attributes:
        ritz_values: (m,) the Ritz values theta_1 <= ... <= theta_m.
        weights: (m,) ||v0||^2 s_1i^2, the Gauss-quadrature weights of the start vector v0
            (v0^T f(A) v0 ~ sum_i weights_i f(theta_i); they sum to ||v0||^2).
        vectors: (n, m) the Ritz vectors (orthonormal columns), or None when not kept.
        basis: (n, m) the Lanczos basis Q (columns orthonormal, Q[:, 0] = v0/||v0||), or None.
        residual_min, residual_max: ||A y - theta y|| of the smallest and largest Ritz pair,
            each measured by one more product with A.
        iterations: the Krylov dimension m reached.
        exact: True when the Krylov space became invariant (beta = 0): the Ritz values are
            eigenvalues of A restricted to it.
    """

    ritz_values: np.ndarray
    weights: np.ndarray
    vectors: np.ndarray | None
    basis: np.ndarray | None
    residual_min: float
    residual_max: float
    iterations: int
    exact: bool

    @property
    def lam_min(self) -> float:
        return float(self.ritz_values[0])

    @property
    def lam_max(self) -> float:
        return float(self.ritz_values[-1])

    def quadrature(self, f: Callable[[np.ndarray], np.ndarray]) -> float:
        """The Gauss-quadrature estimate of v0^T f(A) v0 = sum_i weights_i f(theta_i)."""
        return float(np.sum(self.weights * f(self.ritz_values)))


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], n: int, *, v0=None, max_iter: int = 120,
            rtol: float = 1e-6, check_every: int = 10, seed: int = 0, keep_vectors: bool = False) -> LanczosResult:
    """Extreme eigenvalues of a symmetric operator by Lanczos with full reorthogonalisation (float64).

    Stops when both extreme Ritz pairs have an estimated residual |beta_m s_mi| <= rtol x |theta_max|
    (checked every ``check_every`` steps), when the Krylov space is invariant, or at ``max_iter``
    (or n).  The reported residuals are then measured, not estimated: ||A y - theta y|| with one
    product each.

    Args:
        matvec: v -> A v on float64 vectors of length n (A symmetric).
        n: the dimension.
        v0: the start vector (default: a Gaussian vector from ``seed``).
        max_iter: the largest Krylov dimension.
        rtol: the stopping tolerance relative to |theta_max|.
        check_every: how often the small tridiagonal problem is solved to test convergence.
        keep_vectors: return the Ritz vectors and the basis (n x m each).

    Examples:
        >>> import numpy as np
        >>> A = np.diag(np.arange(1.0, 101.0))
        >>> r = lanczos(lambda v: A @ v, 100, max_iter=100, rtol=1e-12)
        >>> round(r.lam_min, 8), round(r.lam_max, 8), r.residual_max < 1e-8
        (1.0, 100.0, True)
    """
    m_max = int(min(max_iter, n))
    v = np.random.default_rng(seed).normal(size=n) if v0 is None else np.asarray(v0, np.float64).reshape(-1).copy()
    v0_norm = float(np.linalg.norm(v))
    if not v0_norm > 0:
        raise ValueError("lanczos: the start vector is zero")
    Q = np.zeros((m_max, n))  # rows are the Lanczos vectors (contiguous)
    alpha, beta = np.zeros(m_max), np.zeros(m_max)
    Q[0] = v / v0_norm
    exact = False
    m = 0
    for j in range(m_max):
        w = np.array(matvec(Q[j]), np.float64).reshape(-1)
        alpha[j] = Q[j] @ w
        w -= (Q[: j + 1] @ w) @ Q[: j + 1]  # full reorthogonalisation, twice ("twice is enough")
        w -= (Q[: j + 1] @ w) @ Q[: j + 1]
        beta[j] = np.linalg.norm(w)
        m = j + 1
        scale = max(abs(alpha[: j + 1]).max(), 1e-300)
        if beta[j] <= 1e-12 * scale:
            exact = True
            break
        if m == m_max:
            break
        if m % check_every == 0:
            th, S = _tridiag_eigh(alpha[:m], beta[: m - 1])
            est = np.abs(beta[j] * S[-1, [0, -1]])
            if np.all(est <= rtol * max(abs(th[-1]), 1e-300)):
                break
        Q[j + 1] = w / beta[j]
    th, S = _tridiag_eigh(alpha[:m], beta[: m - 1])
    Qm = Q[:m].T
    Y = Qm @ S[:, [0, -1]]
    res = [float(np.linalg.norm(np.asarray(matvec(Y[:, i]), np.float64) - th[c] * Y[:, i]))
           for i, c in ((0, 0), (1, -1))]
    vectors = Qm @ S if keep_vectors else None
    return LanczosResult(ritz_values=th, weights=v0_norm**2 * S[0, :] ** 2, vectors=vectors,
                         basis=Qm if keep_vectors else None, residual_min=res[0], residual_max=res[1],
                         iterations=m, exact=exact)


def _tridiag_eigh(alpha, beta):
    from scipy.linalg import eigh_tridiagonal

    if alpha.size == 1:
        return alpha.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alpha, beta)


def _f64(tree):
    return jax.tree_util.tree_map(lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.inexact) else a, tree)


@functools.lru_cache(maxsize=16)
def _gram_mv(model: Model):
    def mv(params, X, V):  # V: (N k,) -> G V, all in float64
        p, X = _f64(params), X.astype(jnp.float64)
        flat, unravel = ravel_pytree(p)
        f = lambda th: model.apply(unravel(th), X)  # noqa: E731
        out, vjp = jax.vjp(f, flat)
        (u,) = vjp(V.reshape(out.shape).astype(out.dtype))
        return jax.jvp(f, (flat,), (u,))[1].reshape(-1)

    return jax.jit(mv)


def gram_matvec(model: Model, params, X) -> Callable[[np.ndarray], np.ndarray]:
    """v -> G v = J (J^T v) at ``params`` in float64, without forming J or G (one VJP and one JVP).

    The compiled product is cached per model, so successive records of a run do not recompile.
    """
    mv = _gram_mv(model)
    Xj = jnp.asarray(X)
    with jax.default_matmul_precision("highest"):
        return lambda v: np.asarray(mv(params, Xj, jnp.asarray(v, jnp.float64)))


@functools.lru_cache(maxsize=16)
def _hess_mv(loss_fn: Callable):
    def mv(params, X, Y, scale, V):  # D H D V with D = diag(scale): the (preconditioned) Hessian
        p = _f64(params)
        flat, unravel = ravel_pytree(p)
        g = lambda th: ravel_pytree(jax.grad(loss_fn)(unravel(th), X.astype(jnp.float64),  # noqa: E731
                                                      Y.astype(jnp.float64)))[0]
        return scale * jax.jvp(g, (flat,), (scale * V,))[1]

    return jax.jit(mv)


def hessian_matvec(loss_fn: Callable, params, X, Y, scale=None) -> Callable[[np.ndarray], np.ndarray]:
    """v -> D H D v, H = Hess L(theta) by forward-over-reverse (float64), D = diag(scale) (default I).

    With ``scale = 1/sqrt(sqrt(nu_hat) + eps)`` (Adam's second-moment estimate) this is the
    symmetric form of Adam's preconditioned Hessian P^{-1} H (same eigenvalues), P = diag(sqrt(nu_hat) + eps):
    its top eigenvalue is the *preconditioned sharpness* of Cohen et al. (2022).
    """
    flat = ravel_pytree(_f64(params))[0]
    s = jnp.ones_like(flat) if scale is None else jnp.asarray(scale, jnp.float64)
    mv = _hess_mv(loss_fn)
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    with jax.default_matmul_precision("highest"):
        return lambda v: np.asarray(mv(params, Xj, Yj, s, jnp.asarray(v, jnp.float64)))


@dataclasses.dataclass(frozen=True)
class Extremes:
    """lambda_min and lambda_max of a Gram matrix with their residuals and how they were obtained.

    Attributes:
        lam_min, lam_max: the extreme eigenvalues (dense) or Ritz values (Lanczos).
        res_min, res_max: ||G y - lambda y|| of the returned pairs (measured).
        method: "dense" (G formed, LAPACK eigh) or "lanczos" (matrix-free).
        iterations: Lanczos steps (0 for dense).
        lanczos: the full :class:`LanczosResult` (Lanczos only).
    """

    lam_min: float
    lam_max: float
    res_min: float
    res_max: float
    method: str
    iterations: int = 0
    lanczos: LanczosResult | None = None


def dense_extremes(G) -> tuple[Extremes, np.ndarray, np.ndarray]:
    """Extremes of a formed Gram matrix by LAPACK eigh (float64); also returns all eigenvalues and vectors."""
    G = np.asarray(G, np.float64)
    G = 0.5 * (G + G.T)
    ev, U = np.linalg.eigh(G)
    r = [float(np.linalg.norm(G @ U[:, c] - ev[c] * U[:, c])) for c in (0, -1)]
    return Extremes(float(ev[0]), float(ev[-1]), r[0], r[1], "dense"), ev, U


@uses_float64
def gram_extremes(model: Model, params, X, *, method: str = "auto", dense_max: int = DENSE_MAX,
                  max_iter: int = 120, rtol: float = 1e-6, v0=None, seed: int = 0,
                  keep_vectors: bool = False) -> Extremes:
    """lambda_min and lambda_max of G = J J^T at ``params`` with residuals, dense or matrix-free.

    Args:
        method: "dense" (form G, eigh), "lanczos" (matrix-free) or "auto" (dense while N k <= dense_max).
        max_iter, rtol, v0, seed, keep_vectors: passed to :func:`lanczos`.

    Examples:
        >>> import jax, numpy as np
        >>> from hmin.sims.models import make_model
        >>> m = make_model("shallow", d=3, width=16)
        >>> X = np.random.default_rng(0).normal(size=(20, 3)); p = m.init(jax.random.PRNGKey(0))
        >>> a = gram_extremes(m, p, X, method="dense"); b = gram_extremes(m, p, X, method="lanczos")
        >>> bool(abs(a.lam_max - b.lam_max) <= b.res_max + 1e-9 * a.lam_max)
        True
    """
    if method not in METHODS:
        raise ValueError(f"unknown spectrum method {method!r}; choose from {', '.join(METHODS)}")
    n = int(np.shape(X)[0]) * int(model.k)
    if method == "dense" or (method == "auto" and n <= dense_max):
        with jax.default_matmul_precision("highest"):
            G = gram(model, params, jnp.asarray(X))
        return dense_extremes(G)[0]
    r = lanczos(gram_matvec(model, params, X), n, v0=v0, max_iter=max_iter, rtol=rtol, seed=seed,
                keep_vectors=keep_vectors)
    return Extremes(r.lam_min, r.lam_max, r.residual_min, r.residual_max, "lanczos", r.iterations, r)
