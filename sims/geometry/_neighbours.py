"""Exact k nearest neighbours: the index behind k-NN distances, fill-distance probes and cluster terms."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.geometry._common import _U64
from hmin.sims.geometry._distances import _CODE_SHIFT, _MASK_NONE, _MASK_SELF, _augmented, _block_size, _kernels, _screen_constant, _sqdist_pairs, _use_kdtree
from hmin.sims.geometry._points import validate_points
from hmin.sims.precision import uses_float64


def _knn_blocked(Q: np.ndarray, X: np.ndarray, k: int, *, self_mode: bool, block: int = 1024):
    """Exact k-NN distances (sorted, float64) and indices of each row of Q among X.

    Screens with the lower bound of ``_screen_constant`` keeping the k + 8 smallest per row,
    recomputes those from differences, and certifies each row: the k-th exact value must not
    exceed the smallest screened value left out; rows that fail are recomputed against all of X.
    ``self_mode``: Q is X and j == i is excluded.
    """
    nq, d = Q.shape
    n = X.shape[0]
    m = min(k + 8, n - (1 if self_mode else 0))
    c = _screen_constant(d)
    mu = X.mean(axis=0)
    Qa, _ = _augmented(Q, mu, c, nq, "A")
    Xb, _ = _augmented(X, mu, c, n, "B")
    b = _block_size(max(nq, n), block)
    D_out = np.empty((nq, k))
    I_out = np.empty((nq, k), dtype=np.int64)
    for s in range(0, nq, b):
        qa = Qa[s : s + b]
        rows = np.arange(s, s + len(qa))
        bestL = np.full((len(qa), 0), np.inf)
        bestI = np.zeros((len(qa), 0), dtype=np.int64)
        for t in range(0, n, b):
            L = qa @ Xb[t : t + b].T
            cols = np.arange(t, t + L.shape[1])
            if self_mode and t < s + len(qa) and s < t + L.shape[1]:
                L[rows[:, None] == cols[None, :]] = np.inf
            allL = np.concatenate([bestL, L], axis=1)
            allI = np.concatenate([bestI, np.broadcast_to(cols, L.shape)], axis=1)
            if allL.shape[1] > m:
                p = np.argpartition(allL, m - 1, axis=1)[:, :m]
                bestL = np.take_along_axis(allL, p, axis=1)
                bestI = np.take_along_axis(allI, p, axis=1)
            else:
                bestL, bestI = allL, allI
        # exact values of the candidates
        R = np.repeat(rows, bestI.shape[1])
        Dc = _sqdist_pairs(Q, R, bestI.ravel(), X).reshape(bestI.shape)
        o = np.lexsort((bestI, Dc), axis=1)
        Dc = np.take_along_axis(Dc, o, axis=1)
        Ic = np.take_along_axis(bestI, o, axis=1)
        left_out = np.full(len(qa), np.inf)
        if n - (1 if self_mode else 0) > m:
            left_out = bestL.max(axis=1)  # every row not kept has a screened value >= this
        ok = Dc[:, k - 1] <= left_out
        for r in np.flatnonzero(~ok):  # ties or near-ties: brute force this row
            i = rows[r]
            J = np.arange(n)
            if self_mode:
                J = J[J != i]
            Dr = _sqdist_pairs(Q, np.full(len(J), i), J, X)
            oo = np.lexsort((J, Dr))[:k]
            Dc[r, :k] = Dr[oo]
            Ic[r, :k] = J[oo]
        D_out[s : s + b] = Dc[:, :k]
        I_out[s : s + b] = Ic[:, :k]
    return np.sqrt(D_out), I_out


class _NNIndex:
    """Exact nearest-neighbour queries against a fixed point set X (built once, queried often).

    Low d: ``cKDTree``.  Otherwise the fused screening: X's screening rows are built once (and
    aliased, not copied, into JAX); ``query`` then runs two fused passes per query block:

    1. each query's screened minimum m_i, a lower bound of its true NN squared distance; every
       screened value is within 2c(|q_i|^2 + |x_j|^2) of the truth, so the NN lies among the
       columns with screened value <= T_i = m_i + 2c(|q_i|^2 + max_j |x_j|^2);
    2. a count of those candidates; with one, it is recomputed from differences; with more (ties,
       lattices), all of them are, in NumPy, and the smallest (value, index) wins.
    """

    def __init__(self, X: np.ndarray, block: int = 1024, method: str = "auto"):
        self.X = X
        n, d = X.shape
        self.n, self.d, self.block = n, d, block
        self.tree = None
        if method == "auto" and _use_kdtree(n, d):
            # here: scipy loads only when this runs
            from scipy.spatial import cKDTree

            self.tree = cKDTree(X)
            return
        # here, not at import: JAX starts only when this runs
        import jax

        self.c = _screen_constant(d)
        self.mu = X.mean(axis=0)
        self.bx = _block_size(n, block)
        B, nX = _augmented(X, self.mu, self.c, -(-n // self.bx) * self.bx, "B")
        self.B, self.nXmax = B, float(nX.max())
        self.Bj = jax.device_put(B)

    def query(self, Q: np.ndarray, *, self_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices) of the nearest point of X to each row of Q (j != i if self_mode)."""
        if self.tree is not None:
            if not self_mode:
                dist, idx = self.tree.query(Q, k=1, workers=-1)
                return np.asarray(dist, dtype=np.float64), np.asarray(idx, dtype=np.int64)
            D, I = _knn(Q, self.X, 1, self_mode=True, tree=self.tree)
            return D[:, 0], I[:, 0]
        return self._query_fused(np.asarray(Q), self_mode)

    def _query_fused(self, Q, self_mode):
        # here, not at import: JAX starts only when this runs
        import jax

        nq, n, d, c = len(Q), self.n, self.d, self.c
        bq, bx = _block_size(nq, self.block), self.bx
        nbq, nbx = -(-nq // bq), len(self.B) // bx
        Qa, nQ = _augmented(Q, self.mu, c, nbq * bq, "A")
        Aj = jax.device_put(Qa)
        Bj = self.Bj
        mask = _MASK_SELF if self_mode else _MASK_NONE
        K = _kernels()
        m = np.empty(nbq * bq)
        for I in range(nbq):
            a = Aj[I * bq : (I + 1) * bq]
            parts = [K["rowmin"](a, Bj[J * bx : (J + 1) * bx], I * bq, J * bx, mask=mask) for J in range(nbx)]
            m[I * bq : (I + 1) * bq] = np.min(np.stack([np.asarray(p) for p in parts]), axis=0)
        T = np.zeros(nbq * bq)
        T[:nq] = (m[:nq] + 2.0 * c * (nQ + self.nXmax)) * (1.0 + 8.0 * _U64) + 1e-300
        code = np.zeros(nbq * bq, dtype=np.int64)
        for I in range(nbq):
            a = Aj[I * bq : (I + 1) * bq]
            t = jax.device_put(T[I * bq : (I + 1) * bq])
            parts = [K["codesum"](a, Bj[J * bx : (J + 1) * bx], t, I * bq, J * bx, mask=mask) for J in range(nbx)]
            code[I * bq : (I + 1) * bq] = np.sum(np.stack([np.asarray(p) for p in parts]), axis=0)
        del Aj
        code = code[:nq]
        count = code >> _CODE_SHIFT
        idx = code & ((1 << _CODE_SHIFT) - 1)
        one = count == 1
        D = np.empty(nq)
        rows = np.flatnonzero(one)
        D[rows] = _sqdist_pairs(Q, rows, idx[rows], self.X)
        tied = np.flatnonzero(~one)  # ties (lattices): exact over each row's candidates
        if len(tied):
            Xb = self.B[:n]
            bestD = np.full(len(tied), np.inf)
            bestJ = np.full(len(tied), n, dtype=np.int64)
            for s in range(0, len(tied), bx):
                R = tied[s : s + bx]
                for t in range(0, n, bx):
                    L = Qa[R] @ Xb[t : t + bx].T
                    cols = np.arange(t, t + L.shape[1])
                    if self_mode:
                        L[R[:, None] == cols[None, :]] = np.inf
                    ri, cj = np.nonzero(L <= T[R][:, None])
                    if len(ri) == 0:
                        continue
                    J = cols[cj]
                    Dc = _sqdist_pairs(Q, R[ri], J, self.X)
                    o = np.lexsort((J, Dc, ri))  # per row: smallest value, then smallest index
                    ri, J, Dc = ri[o], J[o], Dc[o]
                    first = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
                    ri, J, Dc = ri[first] + s, J[first], Dc[first]
                    better = (Dc < bestD[ri]) | ((Dc == bestD[ri]) & (J < bestJ[ri]))
                    bestD[ri[better]], bestJ[ri[better]] = Dc[better], J[better]
            D[tied], idx[tied] = bestD, bestJ
        return np.sqrt(D), idx


def _nn_fused(Q: np.ndarray, X: np.ndarray, *, self_mode: bool, block: int = 1024):
    """Exact nearest neighbour of each row of Q in X by the fused screening (see ``_NNIndex``)."""
    return _NNIndex(X, block=block, method="fused").query(Q, self_mode=self_mode)


def _knn(Q: np.ndarray, X: np.ndarray, k: int, *, self_mode: bool, tree=None):
    n, d = X.shape
    if _use_kdtree(n, d):
        if tree is None:
            # here: scipy loads only when this runs
            from scipy.spatial import cKDTree

            tree = cKDTree(X)
        kk = k + (1 if self_mode else 0)
        dist, idx = tree.query(Q, k=kk, workers=-1)
        dist = dist.reshape(len(Q), kk)
        idx = idx.reshape(len(Q), kk)
        if not self_mode:
            return dist, idx
        # drop the query point itself (with duplicates it need not come first)
        is_self = idx == np.arange(len(Q))[:, None]
        has_self = is_self.any(axis=1)
        drop = np.where(has_self, np.argmax(is_self, axis=1), kk - 1)
        keep = np.ones_like(is_self)
        keep[np.arange(len(Q)), drop] = False
        return dist[keep].reshape(len(Q), k), idx[keep].reshape(len(Q), k)
    if k == 1:
        Dq, Iq = _nn_fused(Q, X, self_mode=self_mode)
        return Dq[:, None], Iq[:, None]
    return _knn_blocked(Q, X, k, self_mode=self_mode)


@uses_float64
def knn_distances(X: Any, *, k: int = 1) -> np.ndarray:
    """Distance from each point to its k-th nearest other point (exact, float64)."""
    A = validate_points(X, min_n=k + 1, allow_duplicates=True, copy=False)
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}")
    D, _ = _knn(A, A, k, self_mode=True)
    return D[:, k - 1]


@uses_float64
def knn_distance_quantiles(X: Any, *, k: int = 1, qs=(0, 0.05, 0.25, 0.5, 0.75, 0.95, 1)) -> dict:
    """Quantiles of the k-th nearest-neighbour distances (q = 0 with k = 1 is h_min).

    Returns:
        ``{"k": k, "quantiles": {"0": ..., "0.05": ...}, "mean": ...}``.
    """
    dk = knn_distances(X, k=k)
    return {
        "k": int(k),
        "quantiles": {f"{q:g}": float(np.quantile(dk, q)) for q in qs},
        "mean": float(dk.mean()),
    }


@uses_float64
def cluster_term(X: Any, i: int, H: float) -> tuple[np.ndarray, float]:
    """The cluster D_{i,H} = {j != i : h_ij <= H} and sum_{j in D} h_ij^2 (T4, docs/statements.md).

    Example:
        >>> idx, s = cluster_term([[0., 0], [1, 0], [0, 2]], 0, 1.5)
        >>> idx.tolist(), s
        ([1], 1.0)
    """
    A = validate_points(X, min_n=1, allow_duplicates=True, copy=False)
    n = A.shape[0]
    if not 0 <= int(i) < n:
        raise InputError(f"index i = {i} out of range for N = {n}")
    if not (H >= 0 and math.isfinite(H)):
        raise InputError(f"H must be a finite number >= 0, got {H}")
    J = np.arange(n)
    J = J[J != i]
    D2 = _sqdist_pairs(A, np.full(len(J), int(i)), J)
    inside = D2 <= H * H
    return J[inside], float(D2[inside].sum())
