"""Trajectory diagnostics: losses, the Jacobian and Gram matrix (empirical NTK), sharpness.

- ``G = J J^T`` with ``J`` of shape (N k, P), rows grad_theta f(x_i; theta) (the notation of docs/statements.md);
  J is cast to float64 before the product and eigenvalues are computed in float64.
- Sharpness: the largest-magnitude eigenvalue of Hess L by Hessian-vector power iteration
  (``jax.jvp`` of ``jax.grad``): the Hessian is never formed.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hmin.sims.errors import InputError
from hmin.sims.models import Model
from hmin.sims.precision import uses_float64

__all__ = ["make_loss", "param_paths", "jacobian", "gram", "gram_eigh", "sharpness", "hessian_dense", "check_psd", "relative_change", "one_blas_thread"]


def make_loss(model: Model, loss: str = "mse") -> Callable:
    """The training loss as a pure function ``loss(params, X, Y) -> scalar``.

    - ``"mse"``: L = (1/(2N)) sum_i ||f(x_i) - y_i||^2 (docs/statements.md), Y of shape (N, k);
    - ``"ce"``: mean softmax cross-entropy, Y one-hot (or probabilities) of shape (N, k).
    """
    if loss == "mse":
        def mse(params, X, Y):
            r = model.apply(params, X) - Y
            return 0.5 * jnp.sum(r * r) / X.shape[0]
        return mse
    if loss == "ce":
        def ce(params, X, Y):
            logits = model.apply(params, X)
            return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(logits, axis=-1), axis=-1))
        return ce
    raise InputError(f"unknown loss {loss!r}; choose 'mse' or 'ce'")


def param_paths(params) -> list[str]:
    """The path of every leaf of a parameter pytree, as "key/key/..." strings (what ``wrt`` selects).

    Example:
        >>> from hmin.sims.models import mlp
        >>> import jax
        >>> param_paths(mlp(2, 4, 2).init(jax.random.PRNGKey(0)))
        ['Ws/0', 'Ws/1', 'w']
    """
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    return ["/".join(str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path)
            for path, _ in leaves]


def _split_params(params, wrt):
    """(selected leaves, a function that rebuilds params from them) for a ``wrt`` filter of path prefixes."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    paths = param_paths(params)
    if wrt is None:
        return leaves, lambda sel: jax.tree_util.tree_unflatten(treedef, sel)
    prefixes = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    chosen = [i for i, p in enumerate(paths) if any(p == q or p.startswith(q + "/") for q in prefixes)]
    unknown = [q for q in prefixes if not any(p == q or p.startswith(q + "/") for p in paths)]
    if unknown or not chosen:
        raise InputError(f"wrt {list(unknown or prefixes)} selects no parameter; the parameters are {paths}")

    def rebuild(sel):
        full = list(leaves)
        for i, leaf in zip(chosen, sel):
            full[i] = leaf
        return jax.tree_util.tree_unflatten(treedef, full)

    return [leaves[i] for i in chosen], rebuild


@functools.partial(jax.jit, static_argnames=("model", "chunk", "wrt"))
@uses_float64
def jacobian(model: Model, params, X: jax.Array, *, chunk: int | None = None,
             wrt: str | tuple[str, ...] | None = None) -> jax.Array:
    """J(theta) of shape (N k, P): row (i, c) is grad_theta f_c(x_i; theta) (flattened params).

    Per-example: ``vmap`` over points of the reverse-mode Jacobian of the single-point output, so
    each row costs one backward pass through one point (``jacrev`` of the whole batch output would
    push every row's cotangent through all N points: N times the work).  ``chunk`` computes the
    rows a chunk of points at a time (``lax.map``), bounding memory when N is large (the
    neural-tangents lesson).

    Args:
        model, params, X: the model, its parameters and the (N, d) points.
        chunk: rows computed this many points at a time (must divide N).
        wrt: a parameter filter: a path prefix or a tuple of them (`param_paths`: "W" is the first layer of
            ``shallow``, "Ws/0" of ``mlp``); only those parameters are differentiated (the others are held
            fixed), so P counts only them. None: every parameter.

    Returns:
        (N k, P) array in the parameters' dtype.
    """
    sel, rebuild = _split_params(params, wrt)
    flat, unravel = ravel_pytree(sel)

    def point_rows(x):  # (k, P)
        return jax.jacrev(lambda th: model.apply(rebuild(unravel(th)), x[None, :])[0])(flat)

    def rows(Xc):
        return jax.vmap(point_rows)(Xc).reshape(-1, flat.size)

    n = X.shape[0]
    if chunk is None or chunk >= n:
        return rows(X)
    if n % chunk:
        raise InputError(f"jacobian chunk {chunk} must divide N = {n}")
    Js = jax.lax.map(rows, X.reshape(n // chunk, chunk, X.shape[1]))
    return Js.reshape(n * model.k, flat.size)


@functools.partial(jax.jit, static_argnames=("model", "chunk", "wrt"))
@uses_float64
def gram(model: Model, params, X: jax.Array, *, chunk: int | None = None,
         wrt: str | tuple[str, ...] | None = None) -> jax.Array:
    """The empirical NTK Gram matrix G = J J^T, shape (N k, N k), in float64.

    Args:
        model, params, X: the model, its parameters and the (N, d) points.
        chunk: see `jacobian`.
        wrt: a parameter filter (see `jacobian`): ``wrt="W"`` is the Gram of the first layer of ``shallow``
            alone, whose infinite-width limit is ``sims.kernels.shallow_kernel(..., get="ntk_first_layer")``.

    Returns:
        (N k, N k) float64 array; at width m it is within O(1/sqrt(m)) of `sims.kernels.model_kernel`.

    Example:
        >>> import jax, numpy as np
        >>> from hmin.sims.models import shallow
        >>> m = shallow(2, 8, activation="relu"); p = m.init(jax.random.PRNGKey(0)); X = np.eye(2)
        >>> bool(np.allclose(gram(m, p, X), gram(m, p, X, wrt="W") + gram(m, p, X, wrt="a")))
        True
    """
    J = jacobian(model, params, X, chunk=chunk, wrt=wrt).astype(jnp.float64)
    return J @ J.T


def gram_eigh(G) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a Gram matrix in float64 NumPy (ascending eigenvalues)."""
    G = np.asarray(G, dtype=np.float64)
    G = 0.5 * (G + G.T)
    return np.linalg.eigh(G)


def one_blas_thread():
    """A context in which NumPy's BLAS/LAPACK use one thread.

    Checks call dense ``eigh``/``svd`` on many small matrices; multi-threaded OpenBLAS only adds
    contention there (measured on this 2-core machine under load: a 128 x 128 eigh took 7 ms with
    one thread, 0.23 s with two).  A no-op where threadpoolctl (a scikit-learn dependency) is absent.
    """
    try:
        # here: optional; used when installed
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover

        return contextlib.nullcontext()
    return threadpool_limits(1)


def check_psd(eigvals, *, rtol: float = 1e-8) -> str | None:
    """A message if a Gram matrix is not PSD beyond round-off (lambda_min < -rtol lambda_max), else None."""
    ev = np.asarray(eigvals, dtype=np.float64)
    if ev.size and ev[0] < -rtol * max(abs(ev[-1]), 1e-300):
        return f"Gram matrix is not positive semidefinite: lambda_min = {ev[0]:.3e}, lambda_max = {ev[-1]:.3e}"
    return None


@functools.partial(jax.jit, static_argnames=("loss_fn", "iters"))
@uses_float64
def sharpness(loss_fn: Callable, params, X, Y, *, key, iters: int = 20) -> jax.Array:
    """Largest-magnitude eigenvalue of Hess L(theta) by power iteration on Hessian-vector products.

    Returns the Rayleigh quotient v^T H v at the final iterate (signed; |.| = ||Hess L|| when the
    top eigenvalue dominates).  Jittable; ``iters`` is static.
    """
    flat, unravel = ravel_pytree(params)

    def g(th):
        return ravel_pytree(jax.grad(loss_fn)(unravel(th), X, Y))[0]

    def hvp(v):
        return jax.jvp(g, (flat,), (v,))[1]

    v0 = jax.random.normal(key, flat.shape, dtype=flat.dtype)
    v0 = v0 / jnp.linalg.norm(v0)

    def body(_, v):
        w = hvp(v)
        return w / (jnp.linalg.norm(w) + jnp.finfo(flat.dtype).tiny)

    v = jax.lax.fori_loop(0, iters, body, v0)
    return jnp.vdot(v, hvp(v))


@uses_float64
def hessian_dense(loss_fn: Callable, params, X, Y) -> np.ndarray:
    """The dense Hessian of the loss (small models only; an oracle for tests and T5/T7 checks)."""
    flat, unravel = ravel_pytree(params)
    P = flat.size
    if P > 20000:
        raise InputError(f"dense Hessian of {P} parameters is too large")
    H = jax.jit(jax.hessian(lambda th: loss_fn(unravel(th), X, Y)))(flat)
    return np.asarray(H, dtype=np.float64)


def _fro(a):
    return jnp.sqrt(jnp.sum(a * a))


def relative_change(G, G0):
    """||G - G0||_F / ||G0||_F."""
    return _fro(G - G0) / _fro(G0)
