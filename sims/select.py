"""Uniform data selection: choose k of N points, with one interface for five selectors.

* ``maxmin``: greedy max-min (farthest-first traversal; the paper's Algorithm 1, T10).
  It starts at ``first`` and repeatedly adds the point farthest from the chosen set.  With r_t the
  distance at which the t-th point was added, h_min(S_k) = r_k and OPT_k <= 2 r_k, where OPT_k is
  the largest minimum pairwise distance any k points of the pool can have (EXACT: the k-1 balls of
  radius r_k around S_{k-1} cover the pool, so two of any k points share a ball).  Every greedy
  subset therefore carries a certificate h_min(S_k) >= OPT_k / 2, reported in
  ``Selection.certificate``.
* ``random``: k distinct points uniformly at random (seeded).
* ``grid``: stratified: the points are binned on a uniform grid in the first p = min(3, d)
  principal axes (m = ceil(k^(1/p)) bins per axis over the projected range); one point per
  occupied cell is taken round-robin (cells in seeded random order, points within a cell in
  seeded random order) until k are chosen.
* ``kmeans++``: k-means++ seeding (D^2 sampling, seeded).
* ``herding``: kernel herding (greedy MMD minimisation, Chen, Welling and Smola 2010) with the
  Gaussian kernel k(x, y) = exp(-||x - y||^2 / (2 sigma^2)), sigma = the median pairwise distance
  of a seeded subsample of at most 1000 pool points (the median heuristic); the pool mean
  embedding is estimated on a seeded subsample of at most 2000 pool points.

Metric: ``euclidean`` or ``cosine``.  For ``cosine`` the points are normalised to the unit sphere
and the *chordal* distance ||u/|u| - v/|v||| = sqrt(2 (1 - cos(u, v))) is used: a true metric,
so the T10 certificate holds (the cosine dissimilarity 1 - cos violates the triangle inequality
and would void it).  Zero vectors have no direction and are an InputError.

Implementation of the greedy (measured on 2 CPU cores, N = 1e5, d = 256 float32): the pool lives
in JAX once; each step one jitted kernel computes the float64 squared distances of all N points
to the new point from differences (the float32 -> float64 conversion, subtraction, square and
row sum are fused by XLA into one pass over the pool, with no N x d temporary), and NumPy keeps
the O(N) running-minimum vector and takes its argmax (ties: smallest index).  ~18 ms per step at
N = 1e5, ~95 ms at N = 1e6.  Fusing the running minimum and the argmax into the same jitted step,
or running all k steps in one ``lax.fori_loop``, was 5-10x slower (XLA:CPU then gives up the
fast row reduction).  Never a k x N matrix.

Pruning (:class:`MaxMinShard`, on by default where it can pay): a step touches only the points
that can change.  Points are grouped by their nearest chosen centre and a point within half the
distance between its centre and the new one cannot change (triangle inequality), so most steps on
clustered pools walk a few groups only; when most points can change, one matrix-vector pass
over them gives a rigorous lower bound of every distance, and only the points whose bound does
not exclude a change get the float64 distance.  Both tests carry margins above the rounding
error: indices and radii are bit-identical to the unpruned greedy
(``greedy_maxmin(..., prune=False)``).  Measured in BENCHMARKS.md (``bench_select_prune``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any, Callable, NamedTuple

import numpy as np

from hmin.sims import distributed
from hmin.sims.errors import InputError
from hmin.sims.geometry import min_pairwise_distance, validate_points
from hmin.sims.precision import uses_float64

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = [
    "METHODS",
    "SELECTORS",
    "Picked",
    "METRICS",
    "Selection",
    "select",
    "greedy_maxmin",
    "MaxMinShard",
    "maxmin_certificate",
    "greedy_maxmin_processes",
    "chordal_normalize",
]

#: the distances `select` can use.
METRICS = ("euclidean", "cosine")

# compute the exact h_min of a subset when k^2 d / 2 is below this (else maxmin uses r_k, T10)
_SUBSET_HMIN_WORK = 2e11


@dataclasses.dataclass(frozen=True)
class Selection:
    """A selected subset.

    Attributes:
        indices: (k,) int64, distinct, in selection order.
        method: the selector.
        metric: ``"euclidean"`` or ``"cosine"`` (chordal distance between normalised vectors).
        k: the budget (= len(indices)).
        h_min: the achieved minimum pairwise distance of the subset in that metric (None if it
            was too costly to compute and no certificate gives it).
        certificate: for ``maxmin``: ``r_k``, ``h_min_subset`` (= r_k), ``opt_upper`` (= 2 r_k),
            ``ratio_lower`` (= 0.5), ``radii`` (r_2 .. r_k) and the statement; else None.
        info: seed, first point, timings, pool size, ...
    """

    indices: np.ndarray
    method: str
    metric: str
    k: int
    h_min: float | None
    certificate: dict | None
    info: dict

    def to_dict(self) -> dict:
        """A JSON-able dict (indices as a list)."""
        d = dataclasses.asdict(self)
        d["indices"] = [int(i) for i in self.indices]
        return d


def chordal_normalize(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64 arithmetic, returned in X's dtype).

    Raises:
        InputError: if a row is the zero vector (no direction, cosine undefined).

    Example:
        >>> chordal_normalize(np.array([[3.0, 4.0]])).tolist()
        [[0.6, 0.8]]
    """
    X64 = np.asarray(X, dtype=np.float64)
    nrm = np.linalg.norm(X64, axis=1)
    zero = np.flatnonzero(nrm == 0)
    if len(zero):
        shown = ", ".join(str(int(i)) for i in zero[:5])
        more = f" (and {len(zero) - 5} more)" if len(zero) > 5 else ""
        raise InputError(
            f"cosine metric: {len(zero)} zero vector(s) have no direction: rows {shown}{more}"
        )
    return (X64 / nrm[:, None]).astype(X.dtype, copy=False)


_KERN: dict = {}


def _sqdist_kernel():
    """jit(X, c) -> float64 squared distances ||x_i - c||^2 for all rows i, from differences."""
    if "sqdist" not in _KERN:
        # here, not at import: JAX starts only when this runs
        import jax
        import jax.numpy as jnp

        def sqdist(X, c):
            c = c.astype(jnp.float64)
            return jnp.sum(jnp.square(X.astype(jnp.float64) - c[None, :]), axis=1)

        _KERN["sqdist"] = jax.jit(sqdist)
    return _KERN["sqdist"]


def _gather_kernel():
    """jit(X, ids, c) -> float64 ||x_ids - c||^2 (the same arithmetic per row as the full kernel)."""
    if "gather" not in _KERN:
        # here, not at import: JAX starts only when this runs
        import jax
        import jax.numpy as jnp

        def gsq(X, ids, c):
            c = c.astype(jnp.float64)
            return jnp.sum(jnp.square(X[ids].astype(jnp.float64) - c[None, :]), axis=1)

        def prefix(C, c, nb):  # distances of the first nb rows of the centre buffer
            c = c.astype(jnp.float64)
            return jnp.sum(jnp.square(C[:nb].astype(jnp.float64) - c[None, :]), axis=1)

        def put(C, s, row):
            return C.at[s].set(row)

        _KERN["gather"] = jax.jit(gsq)
        _KERN["prefix"] = jax.jit(prefix, static_argnums=2)
        _KERN["put"] = jax.jit(put, donate_argnums=0)
    return _KERN["gather"]


def _bound_kernel():
    """jit(X, c, xxE, nxK, m, ccE, nc) -> bool: the rows whose lower bound of ||x - c||^2 (one
    matrix-vector product in the pool's precision, ``precision=HIGHEST`` so that no accelerator
    rounds it lower) is below their running minimum m (see the comment above `MaxMinShard`)."""
    if "bound" not in _KERN:
        # here, not at import: JAX starts only when this runs
        import jax
        import jax.numpy as jnp
        from jax import lax

        def below(X, c, xxE, nxK, m, ccE, nc):
            dot = jnp.dot(X, c, precision=lax.Precision.HIGHEST).astype(jnp.float64)
            return xxE + ccE - 2.0 * dot - nxK * nc < m

        _KERN["bound"] = jax.jit(below)
    return _KERN["bound"]


def _bucket(m: int, lo: int = 1024) -> int:
    """The padded size of an m-row batch: a power of two >= max(m, lo) (few shapes, few compiles)."""
    return max(lo, 1 << max(0, int(m - 1).bit_length()))


def _to_device(Z: np.ndarray):
    # here, not at import: JAX starts only when this runs
    import jax

    return jax.device_put(Z)


class _Ticker:
    def __init__(self, desc: str, total: int):
        self.desc, self.total = desc, total
        self.t0 = self.last = time.perf_counter()

    def __call__(self, t: int, extra: str = "") -> None:
        now = time.perf_counter()
        if now - self.last >= 5.0:
            self.last = now
            el = now - self.t0
            eta = el / max(t, 1) * (self.total - t)
            log(f"[{self.desc}] {t}/{self.total} points ({el:.0f}s, ~{eta:.0f}s left){extra}")


# --------------------------------------------------------------------------------------------
# Greedy max-min that touches only what can change (exact).
#
# Two exact tests decide which points need the float64 distance to a new centre c'; every other
# point provably keeps its running minimum m(x), so the running minima, and hence the indices and
# radii, are bit-identical to the unpruned greedy (which computes every distance every step).
#
# 1. Triangle inequality.  Points are grouped by their nearest chosen centre (ties: the earlier
#    centre).  For a point x of the group of centre c, m(x) = d(x, c)^2, and d(x, c') >=
#    d(c, c') - d(x, c) >= d(x, c) whenever m(x) <= d(c, c')^2 / 4: such a point cannot change.
#    A whole group is skipped when an upper bound of its largest m is <= d(c, c')^2 / 4.  The test
#    carries a relative margin (_prune_margin) above the float64 rounding of every distance
#    involved.
# 2. A rigorous lower bound from one matrix-vector pass.  When the groups that can change hold most of the
#    rows (the first steps, or a pool that cannot be pruned), the rows are streamed once through a
#    matrix-vector product in the pool's own precision: ||x - c'||^2 >= ||x||^2 + ||c'||^2 - 2 p
#    - err, where p is the computed x . c' and err bounds its rounding, |p - x . c'| <= gamma_d
#    ||x|| ||c'|| (gamma_d = d u / (1 - d u), u the unit roundoff; any summation order, FMA or not)
#    plus the float64 rounding of the other terms and of the reference distance itself
#    (_bound_constants; both doubled for safety).  A point whose lower bound is >= m(x) cannot
#    change; only the others get the exact float64 distance (by a gather), so a step costs one
#    bandwidth pass instead of the reference kernel's float64 pass.


def _prune_margin(d: int) -> float:
    """Relative margin of the skip test: >= 3x the float64 rounding bound (~2.3e-16 (d + 3)) of a
    squared distance accumulated over d coordinates (see the comment above)."""
    return max(1e-9, 1e-13 * (d + 3))


def _bound_constants(d: int, dtype) -> tuple[float, float]:
    """``(K, E)`` of the lower bound ``||x - c||^2 >= (||x||^2 + ||c||^2)(1 - E) - 2 p - K ||x|| ||c||``
    with ``p`` the dot product computed in ``dtype`` (see the comment above): K = 2 x 2 gamma_d in the
    pool's precision, E = 2 x (2 d + 16) float64 unit roundoffs."""
    u = 2.0 ** -24 if np.dtype(dtype) == np.float32 else 2.0 ** -53
    gamma = d * u / (1.0 - d * u)
    return 4.0 * gamma, (4 * d + 32) * 2.0 ** -53


# exact distances by one contiguous pass rather than a gather when more than this fraction of the
# rows need them (a gathered row costs ~5x a streamed one)
_GATHER_FRACTION = 0.15
# stream the bound pass over every row when the groups that can change hold more than this fraction
# of the rows; else walk those groups' member lists
_FLAT_FRACTION = 0.2
# after a bound pass that left more than _GATHER_FRACTION of the rows, do this many plain steps
_BOUND_REST = 8
# "auto" turns to plain passes for good at step _GIVE_UP_AT if nothing could be pruned so far nor is
# likely to be, and the block has fewer than _SMALL_BLOCK numbers (where the bound pass is used only at d <= 8)
_GIVE_UP_AT, _SMALL_BLOCK = 64, 1 << 24
# prune only when the work is large enough for the bookkeeping to matter
_PRUNE_MIN_N, _PRUNE_MIN_K = 4096, 64


class MaxMinShard:
    """The greedy max-min state of one block of rows of the pool (the whole pool in one process).

    The driver (:func:`greedy_maxmin`, or :func:`greedy_maxmin_processes` across
    processes) calls :meth:`add` once per chosen centre, in order, with the centre's row; each call
    returns this block's best candidate (the largest running minimum squared distance, ties to the
    smallest index).  The driver takes the global best over blocks (ties to the smallest global
    index) as the next centre.

    Modes: ``"plain"`` (every step the reference float64 pass over the block) and ``"prune"`` (the
    two exact tests of the comment above).  A pruned step is one of

    - *groups*: the groups the new centre can affect hold at most 20% of the rows: walk their
      member lists, apply the triangle test per point, compute the survivors by a gather;
    - *flat*: otherwise: one bound pass (a matrix-vector product over the rows that can change) and the exact
      distance of the rows whose bound does not exclude a change; when more than 15% remain, the
      reference pass instead (and plain passes for the next 8 steps: the bound does not pay there,
      e.g. the first steps, when every point still changes often).

    On blocks of fewer than 2^24 numbers the flat steps use the bound pass only at d <= 8 (else its
    fixed cost outweighs the saving).  ``prune="auto"`` prunes when the block has >= 4096 rows and
    k >= 64, and on such small blocks turns to plain passes for good at step 64 when nothing could
    be pruned so far nor is likely to be (``stats["plain_from_step"]``, see `_unprunable`); True
    always prunes; False never.
    Counters in ``stats``: ``rows_exact`` (rows whose float64 distance was computed),
    ``rows_streamed`` (rows read by bound passes), ``steps_groups``, ``steps_flat``, ``steps_plain``.

    Args:
        Z: (n, d) block of rows (NumPy, float32 or float64).
        k: the total number of centres that will be added.
        offset: the global index of the block's first row.
        prune: ``"auto"``, True (always prune) or False (never).
    """

    def __init__(self, Z: np.ndarray, k: int, *, offset: int = 0, prune: Any = "auto"):
        # here, not at import: JAX starts only when this runs
        import jax

        self.Z = Z
        self.n, self.d = Z.shape
        self.k, self.offset = int(k), int(offset)
        self.kern = _sqdist_kernel()
        self.Zj = jax.device_put(Z)
        self.mind = np.full(self.n, np.inf)
        if prune not in ("auto", True, False):
            raise InputError(f"prune must be 'auto', True or False, got {prune!r}")
        self.auto = prune == "auto"
        if self.auto:
            prune = self.n >= _PRUNE_MIN_N and self.k >= _PRUNE_MIN_K
        self.mode = "prune" if prune else "plain"
        self.stats = {"rows_exact": 0, "rows_streamed": 0, "steps_groups": 0, "steps_flat": 0, "steps_plain": 0,
                      "rows_copied": 0}
        if self.mode == "prune":
            self.gk = _gather_kernel()
            self.mu = _prune_margin(self.d)
            self.a = np.zeros(self.n, np.int32)  # group (centre ordinal) of each row
            self.members: list = []  # row lists, one per centre (may hold rows that left: a[row] != g)
            self.cnt = np.zeros(self.k, np.int64)  # rows in each group, chosen rows excluded
            self.R2 = np.full(self.k, -np.inf)  # an upper bound of the largest running minimum per group
            self.C = jax.device_put(np.zeros((self.k, self.d), Z.dtype))  # the centres' rows
            # the bound pass pays on large blocks, and at small d (where the float64 pass is slow per row)
            self.bound = Z.dtype in (np.float32, np.float64) and (self.n * self.d >= _SMALL_BLOCK or self.d <= 8)
            self._rest = 0
            self._hot = None
            if self.bound:  # row norms for the lower bound (the reference kernel's float64 arithmetic)
                K, E = _bound_constants(self.d, Z.dtype)
                xx = np.asarray(self.kern(self.Zj, np.zeros(self.d, Z.dtype)))
                self._E = E
                self.bk = _bound_kernel()
                self.xxE = jax.device_put(xx * (1.0 - E))
                self.nxK = jax.device_put(np.sqrt(xx) * K)

    # -- helpers ------------------------------------------------------------------------------
    def _local(self, gidx: int) -> int:
        j = gidx - self.offset
        return j if 0 <= j < self.n else -1

    def _full(self, c) -> np.ndarray:
        self.stats["rows_exact"] += self.n
        return np.asarray(self.kern(self.Zj, c))

    def _rows(self, ids: np.ndarray, c) -> np.ndarray:
        """The exact float64 squared distances of rows ``ids`` to ``c``: a gather, or one pass over
        the block when they are more than ``_GATHER_FRACTION`` of it."""
        m = len(ids)
        if m == 0:
            return np.empty(0)
        if m > _GATHER_FRACTION * self.n:
            return self._full(c)[ids]
        self.stats["rows_exact"] += m
        nb = _bucket(m)
        pad = np.zeros(nb, np.int32)
        pad[:m] = ids
        return np.asarray(self.gk(self.Zj, pad, c))[:m]

    def _best(self):
        j = int(np.argmax(self.mind))
        v = float(self.mind[j])
        return (v, self.offset + j) if v >= 0 else (-np.inf, -1)

    def _hot_rows(self, tmin: float) -> dict:
        """The rows that a flat step computes: a superset of those with m > ``tmin`` (the smallest
        triangle threshold of this step; a row with m <= tmin cannot change).  Kept as a compact
        copy (``rows`` None: the whole block) built at tau = tmin / 2 and rebuilt when tmin falls
        below tau, or when fewer than 75% of its rows are still above tmin (checked every 4 steps)."""
        h = self._hot
        if h is not None and h["tau"] <= tmin:
            h["age"] += 1
            if h["age"] % 4:
                return h
            m = self.mind if h["rows"] is None else self.mind[h["rows"]]
            if np.count_nonzero(m > tmin) >= 0.75 * len(m):
                return h
        tau = 0.5 * tmin
        rows = np.flatnonzero(self.mind > tau)
        if len(rows) > 0.9 * self.n:
            h = {"rows": None, "Zj": self.Zj, "xxE": self.xxE, "nxK": self.nxK}
        else:
            h = {"rows": rows}
            if len(rows):
                # here, not at import: JAX starts only when this runs
                import jax

                # padded to a quarter-octave size (few shapes, few compiles); padding rows never pass
                e = max(0, len(rows).bit_length() - 3)
                nb = max(1024, -(-len(rows) >> e) << e)
                rp = np.concatenate([rows, np.full(nb - len(rows), rows[0], rows.dtype)]) if nb > len(rows) else rows
                h.update(Zj=jax.device_put(self.Z[rp]), xxE=jax.device_put(np.asarray(self.xxE)[rp]),
                         nxK=jax.device_put(np.asarray(self.nxK)[rp]), pad=nb - len(rows))
                self.stats["rows_copied"] += len(rows)
        h.update(tau=tau, age=0)
        self._hot = h
        return h

    def _flat_survivors(self, c, tmin: float) -> tuple[np.ndarray, np.ndarray]:
        """The rows whose running minimum ``c`` lowers, and their new minima: over the hot rows
        (:meth:`_hot_rows`), by the lower bound (one matrix-vector pass) then the exact distance of
        the rows it does not exclude; or, when the bound is off or resting, by the exact kernel over
        the whole block (as a plain step: a gather costs more than a pass, and the same kernel over a
        compact copy rounds differently in XLA)."""
        if not self.bound or self._rest > 0:
            self._rest = max(0, self._rest - 1)
            d2 = self._full(c)
            moved = np.flatnonzero(d2 < self.mind)
            return moved, d2[moved]
        h = self._hot_rows(tmin)
        rows = h["rows"]
        mh = self.mind if rows is None else self.mind[rows]
        if len(mh) == 0:
            return np.empty(0, np.int64), np.empty(0)
        pad = h.get("pad", 0)
        if pad:
            mh = np.concatenate([mh, np.full(pad, -np.inf)])
        self.stats["rows_streamed"] += len(mh)
        c64 = c.astype(np.float64)
        cc = float(c64 @ c64)
        lo_below = np.asarray(self.bk(h["Zj"], c, h["xxE"], h["nxK"], mh, cc * (1.0 - self._E), math.sqrt(cc)))
        if pad:
            lo_below = lo_below[:-pad]
        ids = np.flatnonzero(lo_below)
        if rows is not None:
            ids = rows[ids]
        if len(ids) > _GATHER_FRACTION * self.n:
            self._rest = _BOUND_REST
        d2 = self._rows(ids, c)
        upd = d2 < self.mind[ids]
        return ids[upd], d2[upd]

    # -- one step --------------------------------------------------------------------------------
    def add(self, s: int, row: np.ndarray, gidx: int) -> tuple[float, int]:
        """Add centre number ``s`` (0-based; its row and global index); return this block's best
        candidate ``(squared distance, global index)`` for centre s + 1, or ``(-inf, -1)`` if the
        block has no unchosen row left."""
        c = np.asarray(row, dtype=self.Z.dtype)
        jl = self._local(gidx)
        if self.mode == "plain":
            np.minimum(self.mind, self._full(c), out=self.mind)
            if jl >= 0:
                self.mind[jl] = -1.0  # chosen: never again
            self.stats["steps_plain"] += 1
            return self._best()
        if s == 0:
            self.mind = np.array(self._full(c))  # writable
            self.members.append(np.arange(self.n, dtype=np.int32))
            self.cnt[0] = self.n
            self.stats["steps_plain"] += 1
            self._chosen(jl)
            self.R2[0] = self.mind.max()
            self.C = _KERN["put"](self.C, 0, c)
            return self._best()
        if self.auto and s == _GIVE_UP_AT and self._unprunable():
            self.mode = "plain"  # exact either way: the running minima are the same
            self.stats["plain_from_step"] = s
            del self.a, self.members, self.cnt, self.R2, self.C, self._hot
            return self.add(s, row, gidx)
        nb = min(self.k, _bucket(s, 256))
        dcc2 = np.asarray(_KERN["prefix"](self.C, c, nb))[:s]
        self.C = _KERN["put"](self.C, s, c)
        thr = dcc2 * (0.25 * (1.0 - self.mu))
        cand = np.flatnonzero(self.R2[:s] > thr)
        if jl >= 0 and self.mind[jl] >= 0 and not np.any(cand == self.a[jl]):
            cand = np.sort(np.append(cand, self.a[jl]))  # the chosen row leaves its group (safety)
        self._tmin = float(thr.min())
        if self.cnt[cand].sum() > _FLAT_FRACTION * self.n:
            self._flat_step(s, c, jl, self._tmin)
        else:
            self._group_step(s, c, jl, cand, thr)
        return self._best()

    def _unprunable(self) -> bool:
        """Nothing was pruned so far (no group walk), nor will be: the fraction of rows that cannot
        change any more (m <= the last step's smallest triangle threshold), extrapolated linearly
        to step k, stays below one half; and the block is small enough (< 2^24 numbers) for the
        bookkeeping to cost what a pass costs (measured in BENCHMARKS.md: N(0, I), N = 1e5, d = 64)."""
        if self.stats["steps_groups"] or self.n * self.d >= _SMALL_BLOCK:
            return False
        settled = np.count_nonzero((self.mind >= 0) & (self.mind <= self._tmin)) / self.n
        return settled * self.k / _GIVE_UP_AT < 0.5

    def _chosen(self, jl: int) -> None:
        if jl >= 0 and self.mind[jl] >= 0:
            self.cnt[self.a[jl]] -= 1
            self.mind[jl] = -1.0

    def _move(self, s: int, moved: np.ndarray, d2: np.ndarray, jl: int) -> None:
        """Rows ``moved`` (sorted or not) get the new minima ``d2`` and join group ``s``."""
        self.mind[moved] = d2
        if len(moved):
            self.cnt[:s] -= np.bincount(self.a[moved], minlength=s)[:s]
        self.a[moved] = s
        self.cnt[s] = len(moved)
        self.members.append(moved.astype(np.int32))
        self._chosen(jl)
        self.R2[s] = self.mind[moved].max() if len(moved) else -np.inf

    def _flat_step(self, s: int, c, jl: int, tmin: float) -> None:
        self.stats["steps_flat"] += 1
        moved, d2 = self._flat_survivors(c, tmin)
        self._move(s, moved, d2, jl)
        if self.stats["steps_flat"] % 4 == 0:  # tighten the groups' bounds (a flat step leaves them stale)
            R2 = np.full(s + 1, -np.inf)
            np.maximum.at(R2, self.a, self.mind)
            self.R2[: s + 1] = R2

    def _group_step(self, s: int, c, jl: int, cand: np.ndarray, thr: np.ndarray) -> None:
        self.stats["steps_groups"] += 1
        lists = [self.members[g] for g in cand]
        M = np.concatenate(lists) if len(lists) > 1 else (lists[0] if lists else np.empty(0, np.int32))
        G = np.repeat(cand, [len(x) for x in lists])
        live = self.a[M] == G  # drop the rows that have left these groups
        M, G = M[live], G[live]
        ids = M[self.mind[M] > thr[G]]
        d2 = self._rows(ids, c)
        upd = d2 < self.mind[ids]
        self._move(s, ids[upd], d2[upd], jl)
        stay = self.a[M] == G
        M, G = M[stay], G[stay]
        counts = np.bincount(np.searchsorted(cand, G), minlength=len(cand))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.R2[cand] = -np.inf
        ne = counts > 0
        if len(M):
            self.R2[cand[ne]] = np.maximum.reduceat(self.mind[M], starts[ne])
        for g, lo, m in zip(cand.tolist(), starts.tolist(), counts.tolist()):
            self.members[g] = M[lo : lo + m].copy()


@uses_float64
def greedy_maxmin(Z: Any, k: int, *, first: int = 0, progress_desc: str = "select maxmin",
                  prune: Any = "auto", stats: dict | None = None):
    """Farthest-first traversal: k indices and the radii r_2..r_k at which they were added.

    Args:
        Z: (N, d) float32/float64 array (or a JAX array): the points in the metric space.
        k: the number of points, 1 <= k <= N.
        first: the first point.
        progress_desc: label of the progress lines (every ~5 s on stderr).
        prune: ``"auto"`` (default), True or False: skip, by the triangle inequality, the points
            whose running minimum cannot change (:class:`MaxMinShard`).  The result is identical
            either way; only the time differs.
        stats: if a dict is given, it receives the work counters of :class:`MaxMinShard` (rows
            whose float64 distance was computed, rows read by bound passes, steps of each kind)
            and ``rows_total`` = N (k - 1), what the unpruned greedy computes.

    Returns:
        (indices (k,) int64, radii (k-1,) float64): radii[t-2] = r_t = min_{s < t} ||z_{i_t} - z_{i_s}||,
        nonincreasing; ties in the argmax go to the smallest index.

    Example:
        >>> idx, r = greedy_maxmin(np.array([[0.], [1.], [3.], [10.]]), 3, first=0)
        >>> idx.tolist(), r.tolist()
        ([0, 3, 2], [10.0, 3.0])
    """
    Z = np.asarray(Z)
    shard = MaxMinShard(Z, k, prune=prune)
    idx = np.empty(k, dtype=np.int64)
    r2 = np.empty(max(k - 1, 0))
    idx[0] = first
    tick = _Ticker(progress_desc, k)
    for t in range(1, k):
        v, j = shard.add(t - 1, Z[idx[t - 1]], int(idx[t - 1]))
        idx[t] = j
        r2[t - 1] = v
        tick(t + 1, f", r = {math.sqrt(max(v, 0.0)):.4g}")
    if stats is not None:
        stats.update(shard.stats, mode_at_end=shard.mode, rows_total=int(shard.n) * max(k - 1, 0))
    return idx, np.sqrt(np.maximum(r2, 0.0))


@uses_float64
def greedy_maxmin_processes(Z_block: np.ndarray, k: int, *, n_total: int, offset: int, first: int,
                            first_row: np.ndarray, ctx: distributed.Context | None = None, prune: Any = "auto",
                            progress_desc: str = "select maxmin") -> tuple[np.ndarray, np.ndarray]:
    """Greedy max-min across processes, each holding one contiguous block of the pool's rows.

    Identical (indices and radii, bit for bit) to :func:`greedy_maxmin` on the whole
    pool: each block keeps the running minima of its rows (the same float64 arithmetic per row),
    and each step every process contributes its best candidate ``(r^2, index, row)``; the largest
    r^2 wins, ties to the smallest index (what ``np.argmax`` does in one process).

    Args:
        Z_block: this process's rows (:func:`sims.distributed.row_block` of the pool), float32 or float64.
        k: the number of points, 1 <= k <= n_total.
        n_total: the number of rows of the whole pool.
        offset: the global index of ``Z_block``'s first row.
        first: the global index of the first point, and ``first_row`` its row.
        ctx: the :class:`sims.distributed.Context` (default: :func:`sims.distributed.initialize`).
        prune: as in :func:`greedy_maxmin`.
        progress_desc: label of the progress lines (process 0).

    Returns:
        ``(indices (k,) int64, radii (k-1,) float64)`` on every process.
    """
    ctx = distributed.initialize() if ctx is None else ctx
    d = Z_block.shape[1]
    shard = MaxMinShard(np.ascontiguousarray(Z_block), k, offset=offset, prune=prune) if len(Z_block) else None
    idx = np.empty(k, np.int64)
    r2 = np.empty(max(k - 1, 0))
    idx[0] = first
    row = np.asarray(first_row, dtype=Z_block.dtype)
    t0 = last = time.perf_counter()
    for t in range(1, k):
        lv, lj = shard.add(t - 1, row, int(idx[t - 1])) if shard is not None else (-np.inf, -1)
        payload = np.empty(d + 2)
        payload[0], payload[1] = lv, lj
        payload[2:] = Z_block[lj - offset] if lj >= 0 else 0.0
        allp = distributed.allgather_array(payload) if ctx.distributed else payload[None]
        vals, js = allp[:, 0], allp[:, 1]
        best = vals.max()
        w = int(np.flatnonzero(vals == best)[np.argmin(js[vals == best])])
        v, idx[t] = float(best), int(js[w])
        r2[t - 1] = v
        row = allp[w, 2:].astype(Z_block.dtype)  # exact: the row was float32/float64 to begin with
        now = time.perf_counter()
        if ctx.is_writer and now - last >= 5.0:
            last = now
            log(f"[{progress_desc}] {t + 1}/{k} points ({now - t0:.0f}s, {ctx.num_processes} processes)")
    return idx, np.sqrt(np.maximum(r2, 0.0))


@uses_float64
def maxmin_certificate(radii: np.ndarray, metric: str = "euclidean") -> dict:
    """The T10 certificate of a greedy max-min subset from its radii r_2..r_k."""
    radii = np.asarray(radii, dtype=np.float64)
    r_k = float(radii[-1]) if len(radii) else math.inf
    unit = "chordal distance ||u/|u| - v/|v|||" if metric == "cosine" else "Euclidean distance"
    return {
        "r_k": r_k,
        "h_min_subset": r_k,
        "opt_upper": 2.0 * r_k,
        "ratio_lower": 0.5,
        "radii": [float(r) for r in radii],
        "statement": (
            "T10 (EXACT; paper's Algorithm 1): h_min(S_k) = r_k and OPT_k <= 2 r_k, "
            "so h_min(S_k) >= OPT_k / 2; r_k is the distance at which the k-th point was added; "
            f"distances are h_min-convention ({unit}), not q_X"
        ),
    }


def _random(n, k, rng, first):
    if first is None:
        return rng.choice(n, size=k, replace=False).astype(np.int64)
    rest = np.delete(np.arange(n), first)
    return np.concatenate([[first], rng.choice(rest, size=k - 1, replace=False)]).astype(np.int64)


def _pca_axes(Z: np.ndarray, p: int) -> np.ndarray:
    """(d, p) top principal directions of Z (covariance accumulated in float64 blocks)."""
    n, d = Z.shape
    mu = Z.mean(axis=0, dtype=np.float64)
    C = np.zeros((d, d))
    step = max(1, (1 << 22) // max(d, 1))
    for s in range(0, n, step):
        B = Z[s : s + step].astype(np.float64) - mu
        C += B.T @ B
    w, V = np.linalg.eigh(C)
    V = V[:, np.argsort(w)[::-1][:p]]
    # fix signs so the result does not depend on the eigensolver
    V *= np.where(V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])] < 0, -1.0, 1.0)
    return V


def _project(Z: np.ndarray, V: np.ndarray) -> np.ndarray:
    mu = Z.mean(axis=0, dtype=np.float64)
    out = np.empty((Z.shape[0], V.shape[1]))
    step = max(1, (1 << 22) // max(Z.shape[1], 1))
    for s in range(0, Z.shape[0], step):
        out[s : s + step] = (Z[s : s + step].astype(np.float64) - mu) @ V
    return out


def _grid(Z, k, rng, first):
    n, d = Z.shape
    p = min(3, d)
    Y = _project(Z, _pca_axes(Z, p)) if d > p else Z.astype(np.float64)
    m = max(1, math.ceil(k ** (1.0 / p) - 1e-9))
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    width = np.where(hi > lo, hi - lo, 1.0)
    b = np.clip(np.floor((Y - lo) / width * m).astype(np.int64), 0, m - 1)
    cell = np.zeros(n, dtype=np.int64)
    for a in range(p):
        cell = cell * m + b[:, a]
    # rank of each point within its cell (cells' members in seeded random order)
    tiebreak = rng.permutation(n)
    order = np.lexsort((tiebreak, cell))
    cs = cell[order]
    start = np.r_[0, np.flatnonzero(cs[1:] != cs[:-1]) + 1]
    size = np.diff(np.r_[start, n])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(start, size)
    cells = cs[start]
    cell_rank = np.empty(len(cells), dtype=np.int64)
    cell_rank[rng.permutation(len(cells))] = np.arange(len(cells))
    cr = cell_rank[np.searchsorted(cells, cell)]
    if first is not None:
        rank[first] = -1  # first point first
    pick = np.lexsort((cr, rank))[:k]  # round r: one point from each cell, cells in random order
    return pick.astype(np.int64), {"grid_axes": p, "bins_per_axis": m, "occupied_cells": int(len(cells)),
                                   "grid_space": "principal axes" if d > p else "coordinates"}


def _kmeanspp(Z, k, rng, first):
    n = Z.shape[0]
    kern = _sqdist_kernel()
    Zj = _to_device(Z)
    idx = np.empty(k, dtype=np.int64)
    idx[0] = int(rng.integers(n)) if first is None else first
    mind = np.full(n, np.inf)
    chosen = np.zeros(n, dtype=bool)
    tick = _Ticker("select kmeans++", k)
    for t in range(1, k):
        chosen[idx[t - 1]] = True
        np.minimum(mind, np.asarray(kern(Zj, Z[idx[t - 1]])), out=mind)
        w = np.where(chosen, 0.0, mind)
        cw = np.cumsum(w)
        total = cw[-1]
        if total > 0:
            j = int(np.searchsorted(cw, rng.random() * total, side="right"))
            j = min(j, n - 1)
            while w[j] == 0:  # never a zero-weight point (only possible through rounding)
                j = (j + 1) % n
        else:  # every remaining point duplicates a chosen one: uniform among the rest
            j = int(rng.choice(np.flatnonzero(~chosen)))
        idx[t] = j
        tick(t + 1)
    return idx


def _median_bandwidth(Z, rng) -> float:
    # here: scipy loads only when this runs
    from scipy.spatial.distance import pdist

    n = Z.shape[0]
    sub = Z[np.sort(rng.choice(n, size=min(n, 1000), replace=False))].astype(np.float64)
    dist = pdist(sub)  # scipy's Euclidean pdist is difference-based
    med = float(np.median(dist[dist > 0])) if np.any(dist > 0) else 1.0
    return med


def _herding(Z, k, rng, first):
    n, d = Z.shape
    sigma = _median_bandwidth(Z, rng)
    ref = Z[np.sort(rng.choice(n, size=min(n, 2000), replace=False))].astype(np.float64)
    # mean embedding mu(x) = mean_j k(x, ref_j).  The product form of ||x - y||^2 is fine HERE:
    # its absolute error ~1e-16 |x|^2 changes exp(-D / 2 sigma^2) by ~1e-16 |x|^2 / sigma^2, and
    # no distance is reported from it.  Centred first to keep |x| small.
    mu0 = ref.mean(axis=0)
    R = ref - mu0
    nR = np.einsum("ij,ij->i", R, R)
    mu = np.empty(n)
    step = max(1, (1 << 21) // max(len(R), 1))
    for s in range(0, n, step):
        B = Z[s : s + step].astype(np.float64) - mu0
        D = np.einsum("ij,ij->i", B, B)[:, None] + nR[None, :] - 2.0 * (B @ R.T)
        mu[s : s + step] = np.exp(-np.maximum(D, 0.0) / (2 * sigma**2)).mean(axis=1)
    kern = _sqdist_kernel()
    Zj = _to_device(Z)
    S = np.zeros(n)  # running sum_s k(x, x_s)
    chosen = np.zeros(n, dtype=bool)
    idx = np.empty(k, dtype=np.int64)
    idx[0] = int(np.argmax(mu)) if first is None else first
    tick = _Ticker("select herding", k)
    for t in range(1, k):
        chosen[idx[t - 1]] = True
        S += np.exp(-np.asarray(kern(Zj, Z[idx[t - 1]])) / (2 * sigma**2))
        score = (t + 1) * mu - S
        score[chosen] = -np.inf
        idx[t] = int(np.argmax(score))
        tick(t + 1)
    return idx, {"bandwidth_sigma": sigma, "bandwidth_rule": "median pairwise distance of <= 1000 pool points",
                 "mean_embedding_points": int(len(R))}


class Picked(NamedTuple):
    """What a selector returns: the indices (k,) in selection order, extra ``info`` for the
    `Selection`, and for greedy max-min the radii r_2..r_k its T10 certificate is built from."""

    indices: np.ndarray
    info: dict
    radii: np.ndarray | None = None


def _select_maxmin(Z, k, *, rng, first) -> Picked:
    n = len(Z)
    f = int(rng.integers(n)) if first is None else first
    info: dict[str, Any] = {"first": f, "first_rule": "given" if first is not None else "seeded: default_rng(seed).integers(N)"}
    ctx = distributed.initialize()
    if ctx.distributed:  # each process holds a block of rows; the same indices as one process
        lo, hi = distributed.row_block(n, ctx)
        idx, radii = greedy_maxmin_processes(Z[lo:hi], k, n_total=n, offset=lo, first=f, first_row=Z[f], ctx=ctx)
        info["processes"] = ctx.num_processes
    else:
        work: dict = {}
        idx, radii = greedy_maxmin(Z, k, first=f, stats=work)
        info["maxmin_work"] = work
    return Picked(idx, info, radii)


def _select_random(Z, k, *, rng, first) -> Picked:
    return Picked(_random(len(Z), k, rng, first), {})


def _select_grid(Z, k, *, rng, first) -> Picked:
    idx, extra = _grid(Z, k, rng, first)
    return Picked(idx, extra)


def _select_kmeanspp(Z, k, *, rng, first) -> Picked:
    idx = _kmeanspp(Z, k, rng, first)
    return Picked(idx, {"first": int(idx[0])})


def _select_herding(Z, k, *, rng, first) -> Picked:
    idx, extra = _herding(Z, k, rng, first)
    return Picked(idx, {**extra, "first": int(idx[0])})


#: the selectors of `select` (``hmin select --method``): name -> ``fn(Z, k, *, rng, first) -> Picked``.
#: Both the dispatch and the list of legal names (scipy.stats.qmc style); a new selector is one entry.
SELECTORS: dict[str, Callable[..., Picked]] = {
    "maxmin": _select_maxmin,
    "random": _select_random,
    "grid": _select_grid,
    "kmeans++": _select_kmeanspp,
    "herding": _select_herding,
}
#: the selection methods of `select`, in order (the keys of `SELECTORS`).
METHODS = tuple(SELECTORS)


@uses_float64
def select(
    X: Any,
    k: int,
    *,
    method: str = "maxmin",
    metric: str = "euclidean",
    seed: int = 0,
    first: int | None = None,
    allow_duplicates: bool = True,
) -> Selection:
    """Choose exactly k distinct points of X.

    Args:
        X: (N, d) pool (float32 pools stay float32; distances are accumulated in float64).
        k: the budget, 2 <= k <= N.
        method: ``"maxmin"``, ``"random"``, ``"grid"``, ``"kmeans++"`` or ``"herding"``.
        metric: ``"euclidean"`` or ``"cosine"`` (chordal distance of normalised vectors).
        seed: the seed of every random choice.
        first: the first point.  Default for ``maxmin`` and ``kmeans++``: a seeded uniform choice
            (``np.random.default_rng(seed).integers(N)``); ``herding`` starts at the mode of the
            estimated density; ``random``/``grid`` put ``first`` (if given) first.
        allow_duplicates: if False, equal rows raise InputError.  With duplicates allowed a
            subset may have h_min = 0 once k exceeds the number of distinct points.

    Returns:
        Selection.

    Raises:
        InputError: bad points (NaN/inf, N < 2, ...), k < 2 or k > N, bad ``first``, an unknown
            method or metric, or (cosine) a zero vector.

    Example:
        >>> s = select(np.array([[0., 0], [1, 0], [0, 1], [5, 5], [5, 4.9]]), 3, first=0)
        >>> s.indices.tolist(), round(s.certificate["r_k"], 4), round(s.h_min, 4)
        ([0, 3, 1], 1.0, 1.0)
    """
    if method not in SELECTORS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(SELECTORS)}")
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    Z = validate_points(X, allow_duplicates=allow_duplicates, dtype=None, copy=False)
    n, d = Z.shape
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InputError(f"k must be an integer, got {k!r}")
    k = int(k)
    if k < 2:
        raise InputError(f"k must be >= 2 (h_min needs a pair), got k = {k}")
    if k > n:
        raise InputError(f"k = {k} exceeds the number of points N = {n}")
    if first is not None:
        if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or not 0 <= first < n:
            raise InputError(f"first must be an index in [0, {n}), got {first!r}")
        first = int(first)
    if metric == "cosine":
        Z = chordal_normalize(Z)
    rng = np.random.default_rng(seed)
    info: dict[str, Any] = {"seed": int(seed), "n_pool": int(n), "d": int(d), "dtype": str(Z.dtype)}
    t0 = time.perf_counter()
    certificate = None
    picked = SELECTORS[method](Z, k, rng=rng, first=first)
    idx = picked.indices
    info.update(picked.info)
    if picked.radii is not None:
        certificate = maxmin_certificate(picked.radii, metric)
    info["select_seconds"] = time.perf_counter() - t0
    idx = np.asarray(idx, dtype=np.int64)
    assert len(idx) == k and len(np.unique(idx)) == k, "selector returned repeated indices"
    # the achieved h_min, exact, in the metric used
    h = None
    if k * k * d / 2.0 <= _SUBSET_HMIN_WORK:
        t1 = time.perf_counter()
        r = min_pairwise_distance(Z[idx])
        h = r.h_min
        info["subset_argmin_pair"] = [int(idx[r.i]), int(idx[r.j])]
        info["hmin_seconds"] = time.perf_counter() - t1
        if certificate is not None:
            info["hmin_minus_r_k"] = h - certificate["r_k"]
    elif certificate is not None:
        h = certificate["r_k"]
        info["h_min_source"] = "r_k (T10: h_min(S_k) = r_k); the exact recomputation was skipped as too costly"
    return Selection(idx, method, metric, k, h, certificate, info)
