"""Dense linear algebra for jitted code that cannot deadlock XLA's CPU thread pool.

jaxlib's CPU LAPACK kernels (``eigh``, ``svd``, LU, ...) split a *batch* of matrices into chunks, hand the
chunks to XLA's intra-op thread pool and block the calling pool thread until they are done. When one program
holds two such batched calls that XLA runs at the same time, and the pool has no more threads than that (two on
a 2-core machine), every pool thread waits for chunks that no free thread is left to run, and the process hangs
forever inside ``np.asarray``. hmin's test suite hung this way in CI with jaxlib 0.10.2 (all pool threads in
``jax::ParallelBatchMap`` -> ``BlockingCounter::Wait`` under ``lapack_dsyevd_ffi``; the main thread in
``PyArray_bf_getbuffer``). A flag (``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``) avoids it too, but it is
process-wide and a library must not set it.

The functions here take what their ``jax.numpy.linalg`` namesakes take and return the same values and
derivatives, but give LAPACK one matrix per call: a batch (leading axes, or a ``vmap``, nested or not) runs as
``lax.map`` over its matrices, so no kernel ever waits on the pool. The price, measured on the 2-core machine
(benchmarks/bench_linalg.py): 1.0-1.4x the batched call's time on stacks of 8-64 matrices of size 32-200 (a
few milliseconds per stack; eigenvalues bitwise equal); on an accelerator the batch runs as a loop. hmin's programs call these instead of
``jnp.linalg``'s (``tests/test_linalg.py`` reads the sources to keep it so), with one reviewed exception marked
``# lapack-batch-ok``: the GD engine's record, the only LAPACK call of its program (so nothing can run beside
it), which must stay one batched call to partition along a sharded sweep (a loop over the batch would
all-gather it).

>>> import jax, jax.numpy as jnp
>>> from hmin.sims import linalg
>>> A = jnp.array([[[2.0, 1.0], [1.0, 2.0]], [[4.0, 0.0], [0.0, 1.0]]])
>>> [[float(x) for x in row] for row in linalg.eigvalsh(A)]
[[1.0, 3.0], [1.0, 4.0]]
>>> [float(x) for x in jax.vmap(linalg.eigvalsh)(A)[:, 0]]
[1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["eigh", "eigvalsh", "inv", "slogdet", "matrix_rank"]


def _one_matrix_at_a_time(fn: Callable, name: str) -> Callable:
    """``fn`` on a single matrix (last two axes), applied to a batch one matrix at a time, under ``vmap`` too."""

    @jax.custom_batching.custom_vmap
    def single(a):
        return fn(a)

    @single.def_vmap
    def _batched(axis_size, in_batched, a):
        (batched,) = in_batched
        out = lax.map(single, a) if batched else single(a)
        return out, jax.tree.map(lambda _: batched, out)

    def call(a):
        a = jnp.asarray(a)
        if a.ndim < 2:
            raise ValueError(f"{name}: expected a matrix or a stack of matrices, got shape {a.shape}")
        if a.ndim == 2:
            return single(a)
        lead = a.shape[:-2]
        out = lax.map(single, a.reshape((math.prod(lead),) + a.shape[-2:]))
        return jax.tree.map(lambda o: o.reshape(lead + o.shape[1:]), out)

    call.__name__ = name
    return call


_eigh_one_at_a_time = _one_matrix_at_a_time(lambda a: jnp.linalg.eigh(a, symmetrize_input=True), "eigh")


@jax.custom_jvp
def eigh(a):
    """Eigenvalues (ascending) and eigenvectors (columns) of the symmetric part of ``a`` (``..., n, n``), as
    ``jnp.linalg.eigh``.

    Differentiable to any order, forward and reverse, by the same rule as ``jnp.linalg``'s: with
    S = V^T sym(dA) V, d lambda_i = S_ii and dV = V (F * S), F_ij = 1 / (lambda_j - lambda_i) off the
    diagonal and 0 on it (so, as there, eigenvector derivatives are infinite at repeated eigenvalues).
    """
    return _eigh_one_at_a_time(a)


@eigh.defjvp
def _eigh_jvp(primals, tangents):
    # every derivative goes through this rule, so the one-matrix kernel only ever sees primal values (a
    # higher-order derivative differentiates this rule, whose eigh(a) comes back here one order up)
    (a,), (da,) = primals, tangents
    w, v = eigh(a)
    s = jnp.einsum("...ji,...jk,...kl->...il", v, 0.5 * (da + jnp.swapaxes(da, -1, -2)), v)
    eye = jnp.eye(w.shape[-1], dtype=w.dtype)
    f = 1.0 / (eye + w[..., None, :] - w[..., :, None]) - eye
    return (w, v), (jnp.diagonal(s, axis1=-2, axis2=-1), v @ (f * s))


def eigvalsh(a):
    """Eigenvalues (ascending) of the symmetric part of ``a`` (``..., n, n``), as ``jnp.linalg.eigvalsh``.

    Differentiable to any order (through `eigh`: d lambda_i = v_i^T sym(dA) v_i).
    """
    return eigh(a)[0]


_inv_one_at_a_time = _one_matrix_at_a_time(jnp.linalg.inv, "inv")
_slogdet_one_at_a_time = _one_matrix_at_a_time(jnp.linalg.slogdet, "slogdet")


@jax.custom_jvp
def inv(a):
    """Inverse of ``a`` (``..., n, n``), as ``jnp.linalg.inv``; differentiable to any order
    (d A^-1 = -A^-1 dA A^-1)."""
    return _inv_one_at_a_time(a)


@inv.defjvp
def _inv_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    ai = inv(a)
    return ai, -ai @ da @ ai


@jax.custom_jvp
def slogdet(a):
    """Sign and log |det| of ``a`` (``..., n, n``), as ``jnp.linalg.slogdet``; differentiable to any order
    in log |det| (d log |det A| = tr(A^-1 dA); the sign's derivative is zero)."""
    return _slogdet_one_at_a_time(a)


@slogdet.defjvp
def _slogdet_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    out = slogdet(a)
    dlog = jnp.einsum("...ij,...ji->...", inv(a), da)
    return out, type(out)(jnp.zeros_like(out[0]), dlog)


matrix_rank = _one_matrix_at_a_time(jnp.linalg.matrix_rank, "matrix_rank")
matrix_rank.__doc__ = """Numerical rank of ``a`` (``..., m, n``) with NumPy's default tolerance, as
``jnp.linalg.matrix_rank`` (an integer: nothing to differentiate)."""
