"""Geometry of a point set: h_min, q_X = h_min/2, fill distance, mesh ratio, k-NN distances.

Conventions (docs/statements.md, "Notation and conventions"): ``h_min(X) = min_{i != j} ||x_i - x_j||_2`` is the minimum
pairwise distance; the RBF literature's *separation distance* is ``q_X = h_min / 2``.  The *fill
distance* (covering radius) on a domain Omega is ``h_fill = sup_{x in Omega} min_i ||x - x_i||``
and the *mesh ratio* is ``h_fill / q_X`` (1 is ideal, large is clumpy).  Every function here says
which of these it returns.

Exactness.  Small distances are what h_min is about, and the expansion
``||x||^2 + ||y||^2 - 2 x.y`` loses them to cancellation (a pair at 1e-7 among points of norm 1
has ``||x - y||^2 = 1e-14``, below the ~4e-16 round-off of that formula's terms).  So every
distance this module *returns* is computed from the difference ``x - y`` in float64.  The fast
matrix-product form is used only to *screen*: it yields, for each pair, a value that is provably
<= the true squared distance (the round-off bound is subtracted, see ``_screen_constant``), and
every pair whose screened value is within the running minimum is recomputed from differences.

Algorithms (chosen by measurement on this project's 2-core CPU machine; see ``_use_kdtree``):

* low d (d <= 5, or d <= 8 when N >= 1e5): ``scipy.spatial.cKDTree`` nearest-neighbour queries
  (exact, difference-based, O(N log N)).
* higher ``d``: blocked screening, O(N x block) memory.  A jitted JAX kernel computes, for each
  row block against each column block, the row minimum of the screened lower bound in one fused
  pass (the matrix product is fused with the reduction, so the block of squared distances is never
  written out); rows whose lower bound reaches the running exact minimum are then recomputed
  exactly.  On a lattice (many equal distances) more rows are recomputed, but the answer stays
  exact.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.precision import uses_float64

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = [
    "HminResult",
    "FillResult",
    "KD_MAX_DIM",
    "MAX_ABS_COORD",
    "validate_points",
    "duplicate_groups",
    "first_duplicate_pair",
    "min_pairwise_distance",
    "separation_distance",
    "fill_distance",
    "mesh_ratio",
    "knn_distances",
    "knn_distance_quantiles",
    "cluster_term",
    "pairwise_distances",
    "geometry_summary",
    "load_points",
    "CONVENTIONS",
]

#: |x| above this is refused: squared differences (2 |x|)^2 <= 4e200 leave float64 (max 1.8e308)
#: room for sums of up to 1e100 terms, so no distance, Gram entry or k-means++ weight can overflow.
MAX_ABS_COORD = 1e100
#: a float32 pool kept as float32 (dtype=None) only while |x| <= this: (2 |x|)^2 sums stay far below
#: float32's max 3.4e38; larger coordinates are converted to float64 instead of overflowing.
F32_MAX_ABS_COORD = 1e12

#: the largest dimension d in which h_min may use a k-d tree (exact either way).
KD_MAX_DIM = 8  # never use the tree above this d (see _use_kdtree for the rule below it)

_U64 = 2.0**-53  # unit round-off of float64

#: the conventions string stored with every geometry summary (h_min vs q_X, fill distance, mesh ratio).
CONVENTIONS = (
    "h_min = min_{i != j} ||x_i - x_j||_2 (minimum pairwise distance); "
    "q_X = h_min / 2 (separation distance, RBF convention); "
    "fill distance h_fill = sup_{x in domain} min_i ||x - x_i|| (covering radius); "
    "mesh ratio = h_fill / q_X. All distances Euclidean, computed from differences in float64."
)


class HminResult(NamedTuple):
    """The minimum pairwise distance and the pair (i < j) that attains it.

    Ties are broken by the lexicographically smallest pair (i, j).
    """

    h_min: float
    i: int
    j: int


class FillResult(NamedTuple):
    """A fill-distance estimate with an honest error bar.

    Attributes:
        estimate: a lower bound on h_fill: the largest nearest-point distance over the in-domain
            points that were evaluated (random probes, a local ascent from the best ones and, when
            ``rigorous``, the centres of a branch-and-bound grid).
        stderr_or_gap: if ``rigorous``, ``upper_bound - estimate`` (a guaranteed bracket, up to
            float64 rounding); otherwise a heuristic size of the remaining gap: the larger of the
            growth of the running maximum over the second half of the probes
            (``max(all) - max(first half)``) and the gain of the local ascent over the best probe.
        n_probe: number of random probes.
        argmax_probe: the in-domain point that attains ``estimate``.
        upper_bound: a guaranteed upper bound on h_fill (``rigorous``) or None.
        rigorous: whether [estimate, upper_bound] is a proven bracket.
        domain: a description of the domain.
    """

    estimate: float
    stderr_or_gap: float
    n_probe: int
    argmax_probe: np.ndarray
    upper_bound: float | None = None
    rigorous: bool = False
    domain: str = ""


# --------------------------------------------------------------------------------------------
# validation and loading
# --------------------------------------------------------------------------------------------


def _rows_str(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
    return shown + more


def validate_points(
    X: Any,
    *,
    name: str = "points",
    min_n: int = 2,
    allow_duplicates: bool = False,
    dtype: Any = np.float64,
    copy: bool = True,
) -> np.ndarray:
    """Check a point set and return it as a 2-D float array (a copy unless ``copy=False``).

    Args:
        X: array-like of shape (N, d).
        name: what to call the array in error messages.
        min_n: the smallest acceptable N.
        allow_duplicates: if False, two equal rows raise (they make h_min = 0).
        dtype: the output dtype (default float64).  ``None`` keeps float32/float64 input as it is
            (for large float32 pools; float32 with |x| > 1e12 becomes float64) and converts
            anything else to float64.
        copy: if False, return the input itself when it already has the right dtype and layout.

    Returns:
        A C-contiguous copy of shape (N, d).

    Raises:
        InputError: not 2-D or ragged, empty, N < min_n, non-numeric, NaN or inf (naming the
            first rows), a coordinate with ``|x| > MAX_ABS_COORD`` = 1e100 (squared distances
            would overflow float64; naming the rows), or duplicate rows (naming the first pair)
            when not allowed.

    Example:
        >>> validate_points([[0, 0], [1, 0]]).dtype
        dtype('float64')
    """
    try:
        A = np.asarray(X)
    except ValueError as e:  # numpy >= 1.24: inhomogeneous (ragged) nested sequences
        raise InputError(f"{name} are ragged (rows of different lengths): {e}") from None
    if A.dtype == object:
        raise InputError(f"{name} are ragged or non-numeric (object array of shape {A.shape})")
    if A.dtype.kind == "c":
        raise InputError(f"{name} are complex; expected real coordinates")
    if A.dtype.kind not in "biuf":
        raise InputError(f"{name} are not numeric (dtype {A.dtype})")
    if A.ndim != 2:
        hint = "; for N points in 1-D pass X.reshape(-1, 1)" if A.ndim == 1 else ""
        raise InputError(f"{name} must be a 2-D array (N, d); got shape {A.shape}{hint}")
    n, d = A.shape
    if n == 0 or d == 0:
        raise InputError(f"{name} are empty (shape {A.shape})")
    if n < min_n:
        raise InputError(f"{name}: need at least {min_n} points, got N = {n}")
    if dtype is None:
        out_dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.float64
    else:
        out_dtype = np.dtype(dtype)
    out = np.array(A, dtype=out_dtype, order="C", copy=True if copy else None)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        kinds = []
        if np.isnan(out[bad]).any():
            kinds.append("NaN")
        if np.isinf(out[bad]).any():
            kinds.append("inf")
        raise InputError(
            f"{name} contain {' and '.join(kinds)} in {len(bad)} row(s): {_rows_str(bad)}"
        )
    huge = None
    if out.dtype == np.float64:  # float32 cannot hold such values (nor compare with them)
        huge = (out.max(axis=1) > MAX_ABS_COORD) | (out.min(axis=1) < -MAX_ABS_COORD)
    if huge is not None and huge.any():
        bad = np.flatnonzero(huge)
        raise InputError(
            f"{name} have coordinates with |x| > {MAX_ABS_COORD:.0e} (squared distances would overflow "
            f"float64; rescale the data) in {len(bad)} row(s): {_rows_str(bad)}"
        )
    if out.dtype == np.float32 and dtype is None and (out.max() > F32_MAX_ABS_COORD or out.min() < -F32_MAX_ABS_COORD):
        out = out.astype(np.float64)
    if not allow_duplicates:
        pair = first_duplicate_pair(out)
        if pair is not None:
            i, j = pair
            raise InputError(f"duplicate points {i} and {j} (h_min = 0) in {name}")
    return out


def duplicate_groups(X: np.ndarray) -> list[np.ndarray]:
    """Groups of exactly equal rows (``-0.0 == 0.0``), each sorted, ordered by first index.

    O(N d) time: rows are hashed (a random linear hash of their bits mod 2^64), sorted by hash,
    and rows with equal hashes are compared exactly, so a hash collision cannot merge two
    different rows.

    Example:
        >>> [g.tolist() for g in duplicate_groups(np.array([[1., 2], [0, 0], [1, 2], [1, 2]]))]
        [[0, 2, 3]]
    """
    X = np.ascontiguousarray(X)
    n, d = X.shape
    if n < 2:
        return []
    Xn = X + X.dtype.type(0.0)  # maps -0.0 to +0.0 so that equal values have equal bits
    uint = {8: np.uint64, 4: np.uint32, 2: np.uint16}[Xn.dtype.itemsize]
    bits = Xn.view(uint)
    mult = np.random.default_rng(0x5EED).integers(1, 2**63, size=d, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    h = np.empty(n, dtype=np.uint64)
    step = max(1, (1 << 22) // max(d, 1))
    with np.errstate(over="ignore"):
        for s in range(0, n, step):
            b = bits[s : s + step].astype(np.uint64)
            b *= mult
            hb = b.sum(axis=1, dtype=np.uint64)
            hb ^= hb >> np.uint64(31)
            h[s : s + step] = hb
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = hs[1:] == hs[:-1]
    if not same.any():
        return []
    groups: list[np.ndarray] = []
    starts = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)) == -1)
    for a, b in zip(starts, ends):
        idx = np.sort(order[a : b + 1])
        _, inv = np.unique(Xn[idx], axis=0, return_inverse=True)
        inv = inv.ravel()
        for g in np.unique(inv):
            members = idx[inv == g]
            if len(members) >= 2:
                groups.append(members)
    groups.sort(key=lambda g: int(g[0]))
    return groups


def first_duplicate_pair(X: np.ndarray) -> tuple[int, int] | None:
    """The lexicographically smallest pair (i, j), i < j, of equal rows, or None."""
    groups = duplicate_groups(X)
    if not groups:
        return None
    g = groups[0]
    return int(g[0]), int(g[1])


def load_points(path: str | os.PathLike) -> np.ndarray:
    """Load an (N, d) point set from ``.npy`` or ``.csv``.

    CSV: comma-separated if the first data line holds a comma, else whitespace-separated; blank
    lines and lines starting with ``#`` are skipped; a first row with a non-numeric cell is taken
    as a header.  ``nan``/``inf`` cells parse (``validate_points`` then rejects them by row).

    Args:
        path: a ``.npy`` or ``.csv`` file.

    Returns:
        The array as stored (float32/float64 kept, other numeric types as they are); a 1-column
        CSV gives shape (N, 1).

    Raises:
        InputError: missing file, unknown extension, empty file, ragged rows (naming the line),
            a non-numeric cell (naming line and column), or a non-numeric ``.npy``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a directory, expected a .npy or .csv file")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        with open(p, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise InputError(f"{p}: not a valid .npy file (no NumPy header)")
        try:
            A = np.load(p, allow_pickle=False)
        except ValueError as e:
            raise InputError(f"{p}: cannot read as a numeric .npy array ({e})") from None
        except Exception as e:  # truncated or not an npy file at all
            raise InputError(f"{p}: not a valid .npy file ({type(e).__name__}: {e})") from None
        if A.dtype.kind not in "biuf":
            raise InputError(f"{p}: array is not numeric (dtype {A.dtype})")
        if A.size == 0:
            raise InputError(f"{p}: array is empty (shape {A.shape})")
        return A
    if suffix in (".csv", ".txt", ".tsv"):
        return _load_csv(p)
    raise InputError(f"{p}: unknown extension {suffix or '(none)'!r}; expected .npy or .csv")


def _parse_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _load_csv(p: Path) -> np.ndarray:
    text = p.read_text(encoding="utf-8", errors="replace")
    lines = [(k + 1, ln.strip()) for k, ln in enumerate(text.splitlines())]
    lines = [(k, ln) for k, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise InputError(f"{p}: empty file (no data rows)")
    comma = "," in lines[0][1]

    def split(ln: str) -> list[str]:
        return [c.strip() for c in ln.split(",")] if comma else ln.split()

    first = split(lines[0][1])
    if any(_parse_float(c) is None for c in first):
        lines = lines[1:]  # header row
        if not lines:
            raise InputError(f"{p}: only a header row, no data rows")
    rows: list[list[float]] = []
    width = None
    for lineno, ln in lines:
        cells = split(ln)
        if width is None:
            width = len(cells)
        if len(cells) != width:
            raise InputError(f"{p}: ragged rows: line {lineno} has {len(cells)} values, expected {width}")
        vals = []
        for col, c in enumerate(cells, 1):
            v = _parse_float(c)
            if v is None:
                raise InputError(f"{p}: line {lineno}, column {col}: {c!r} is not a number")
            vals.append(v)
        rows.append(vals)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), width)


# --------------------------------------------------------------------------------------------
# exact distances from differences
# --------------------------------------------------------------------------------------------


def _sqdist_pairs(X: np.ndarray, I: np.ndarray, J: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
    """Squared distances ||X[I] - Y[J]||^2 from differences, in float64 (Y defaults to X)."""
    Y = X if Y is None else Y
    out = np.empty(len(I), dtype=np.float64)
    step = max(1, (1 << 21) // max(X.shape[1], 1))
    for s in range(0, len(I), step):
        D = X[I[s : s + step]].astype(np.float64) - Y[J[s : s + step]].astype(np.float64)
        out[s : s + step] = np.einsum("ij,ij->i", D, D)
    return out


def pairwise_distances(X: Any) -> np.ndarray:
    """Dense (N, N) Euclidean distance matrix from differences, float64 (small sets, tests).

    Example:
        >>> pairwise_distances([[0, 0], [3, 4]]).tolist()
        [[0.0, 5.0], [5.0, 0.0]]
    """
    A = validate_points(X, min_n=1, allow_duplicates=True, copy=False)
    n = A.shape[0]
    out = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        D = A - A[i]
        out[i] = np.sqrt(np.einsum("ij,ij->i", D, D))
    return out


def _screen_constant(d: int) -> float:
    """c such that the screened value (1-c)(|a|^2+|b|^2) - 2 a.b is <= ||a - b||^2.

    Round-off of the augmented product [a, (1-c)|a|^2, 1] . [-2b, 1, (1-c)|b|^2] is at most
    2 gamma_{d+2} (|a|^2 + |b|^2) (Cauchy-Schwarz; any summation order, FMA or not); the norms
    carry gamma_d relative error, and centring the data moves squared distances by at most
    ~4.3 u (|a|^2 + |b|^2).  In all about (3d + 11) u (|a|^2 + |b|^2); we subtract twice that.
    """
    return (6.0 * d + 32.0) * _U64


def _aligned_empty(shape: tuple[int, ...], align: int = 64) -> np.ndarray:
    """An uninitialised float64 array whose data is 64-byte aligned: ``jax.device_put`` then
    aliases it on the CPU instead of copying (measured: unaligned NumPy buffers are copied)."""
    nbytes = int(np.prod(shape)) * 8
    buf = np.empty(nbytes + align, dtype=np.uint8)
    off = (-buf.ctypes.data) % align
    return buf[off : off + nbytes].view(np.float64).reshape(shape)


def _augmented(X: np.ndarray, mu: np.ndarray, c: float, rows: int, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Screening rows, padded to ``rows``, without an N x d temporary.

    side "A": a_i = [x_i - mu, (1-c)|x_i - mu|^2, 1]; side "B": b_j = [-2(x_j - mu), 1,
    (1-c)|x_j - mu|^2], so that a_i . b_j is the screened lower bound of ||x_i - x_j||^2.  Padded
    A rows are zero (their results are dropped); padded B rows are [0, 1, 1e300] (never a minimum).
    Returns the array and the centred squared norms |x_i - mu|^2.
    """
    n, d = X.shape
    out = _aligned_empty((rows, d + 2))
    body = out[:n, :d]
    np.subtract(X, mu, out=body)
    nrm = np.einsum("ij,ij->i", body, body)
    out[n:] = 0.0
    if side == "A":
        out[:n, d] = (1.0 - c) * nrm
        out[:n, d + 1] = 1.0
    else:
        body *= -2.0
        out[:n, d] = 1.0
        out[:n, d + 1] = (1.0 - c) * nrm
        out[n:, d] = 1.0
        out[n:, d + 1] = 1e300
    return out, nrm


_KERNELS: dict = {}

# masks of the screening kernels (static arguments): none, j == i (self k-NN), j <= i (pairs i < j)
_MASK_NONE, _MASK_SELF, _MASK_UPPER = 0, 1, 2
_CODE_SHIFT = 40  # pass-2 code: sum over candidates of (1 << 40) + j  (j < 2^40)


def _kernels():
    """Jitted screening kernels over one (row block, column block) pair.

    ``rowmin(A, B, row0, col0, mask)``: row minima of A @ B.T (the screened lower bounds).
    ``codesum(A, B, T, row0, col0, mask)``: per row, sum over columns j with A_i.B_j <= T_i of
    ``2^40 + j``: the count of candidates (code >> 40) and, when it is 1, the candidate (code mod
    2^40).  Each is a single fused reduction (measured: XLA:CPU fuses the product into one
    reduction; a second reduction in the same kernel, or an argmin, makes it 4-5x slower).
    """
    if not _KERNELS:
        # here, not at import: JAX starts only when this runs
        import jax
        import jax.numpy as jnp

        def masked(A, B, row0, col0, mask):
            L = A @ B.T
            if mask == _MASK_NONE:
                return L, None
            r = row0 + jnp.arange(A.shape[0])[:, None]
            c = col0 + jnp.arange(B.shape[0])[None, :]
            drop = (c == r) if mask == _MASK_SELF else (c <= r)
            return jnp.where(drop, jnp.inf, L), c

        @functools.partial(jax.jit, static_argnames="mask")
        def rowmin(A, B, row0, col0, mask):
            L, _ = masked(A, B, row0, col0, mask)
            return jnp.min(L, axis=1)

        @functools.partial(jax.jit, static_argnames="mask")
        def codesum(A, B, T, row0, col0, mask):
            L, c = masked(A, B, row0, col0, mask)
            if c is None:
                c = col0 + jnp.arange(B.shape[0])[None, :]
            code = jnp.left_shift(jnp.int64(1), _CODE_SHIFT) + c.astype(jnp.int64)
            return jnp.sum(jnp.where(L <= T[:, None], code, jnp.int64(0)), axis=1)

        _KERNELS["rowmin"] = rowmin
        _KERNELS["codesum"] = codesum
    return _KERNELS


def _use_kdtree(n: int, d: int) -> bool:
    """cKDTree or blocked screening? Measured on 2 CPU cores (uniform data): at N = 2e4 the tree
    wins for d <= 5 and loses from d ~ 6 (d = 8: 0.62 s vs 0.33 s; d = 16: 11.6 s vs 0.5 s); at
    N = 1e5 it still wins at d = 6-8 (1.4 s vs 4.0 s at d = 6; 4.4 s vs 5.0 s at d = 8)."""
    return d <= 5 or (d <= KD_MAX_DIM and n >= 100_000)


def _block_size(n: int, block: int) -> int:
    b = 16
    while b < n and b < block:
        b *= 2
    return min(b, max(block, 1))


def _hmin_blocked(X: np.ndarray, block: int) -> HminResult:
    """Exact h_min by fused JAX screening (upper triangle) + exact refinement of candidate rows."""
    # here, not at import: JAX starts only when this runs
    import jax

    n, d = X.shape
    c = _screen_constant(d)
    b = _block_size(n, block)
    nb = -(-n // b)
    mu = X.mean(axis=0)
    A, _ = _augmented(X, mu, c, nb * b, "A")
    B, _ = _augmented(X, mu, c, nb * b, "B")
    kern = _kernels()["rowmin"]
    Aj = jax.device_put(A)
    Bj = jax.device_put(B)
    lower = np.full(nb * b, np.inf)
    t0 = time.perf_counter()
    last = t0
    for I in range(nb):
        a = Aj[I * b : (I + 1) * b]
        parts = [kern(a, Bj[J * b : (J + 1) * b], I * b, J * b, mask=_MASK_UPPER) for J in range(I, nb)]
        lower[I * b : (I + 1) * b] = np.min(np.stack([np.asarray(p) for p in parts]), axis=0)
        now = time.perf_counter()
        if now - last > 5.0:
            last = now
            done = 1 - ((nb - I - 1) * (nb - I) / 2) / (nb * (nb + 1) / 2)
            log(f"[h_min] screened {done:.0%} of the pairs ({now - t0:.0f}s)")
    del Aj, Bj
    lower = lower[:n]
    A = A[:n]
    B = B[:n]
    # refine rows in increasing order of their screened lower bound until it exceeds the best
    order = np.argsort(lower, kind="stable")
    slack = 1.0 + 4.0 * (d + 2) * _U64  # the exact value itself carries ~d u relative round-off
    best = (math.inf, n, n)  # (squared distance, i, j)
    pos = 0
    chunk = 1
    while pos < n and lower[order[pos]] <= best[0] * slack:
        stop = pos
        while stop < n and stop - pos < chunk and lower[order[stop]] <= best[0] * slack:
            stop += 1
        rows = np.sort(order[pos:stop])
        best = _refine_rows(X, A, B, rows, best, slack, b)
        pos = stop
        chunk = min(2 * chunk, b)
    D, i, j = best
    return HminResult(float(math.sqrt(D)), int(i), int(j))


def _refine_rows(X, A, B, rows, best, slack, b):
    """Exact minimum over pairs (i, j > i), i in ``rows``, whose screened value <= best."""
    n = X.shape[0]
    Ar = A[rows]
    j0 = int(rows.min()) + 1
    for s in range(j0, n, b):
        L = Ar @ B[s : s + b].T
        cols = np.arange(s, min(s + b, n))
        L[cols[None, :] <= rows[:, None]] = np.inf
        ri, cj = np.nonzero(L <= best[0] * slack)
        if len(ri) == 0:
            continue
        I = rows[ri]
        J = cols[cj]
        D = _sqdist_pairs(X, I, J)
        k = np.lexsort((J, I, D))[0]
        cand = (float(D[k]), int(I[k]), int(J[k]))
        if cand < best:
            best = cand
    return best


def _hmin_kdtree(X: np.ndarray) -> HminResult:
    """Exact h_min with cKDTree: nearest neighbours, then all pairs within the minimum."""
    # here: scipy loads only when this runs
    from scipy.spatial import cKDTree

    n = X.shape[0]
    tree = cKDTree(X)
    dist, idx = tree.query(X, k=2, workers=-1)
    self_first = idx[:, 0] == np.arange(n)
    nd = np.where(self_first, dist[:, 1], dist[:, 0])
    dmin = float(nd.min())
    r = dmin * (1.0 + 1e-9)
    pairs = tree.query_pairs(r, output_type="ndarray")
    if len(pairs) == 0:  # cannot happen (the minimum pair is within r); stay safe
        i = int(np.argmin(nd))
        j = int(idx[i, 1] if self_first[i] else idx[i, 0])
        pairs = np.array([[min(i, j), max(i, j)]])
    I = pairs[:, 0].astype(np.int64)
    J = pairs[:, 1].astype(np.int64)
    D = _sqdist_pairs(X, I, J)
    k = np.lexsort((J, I, D))[0]
    return HminResult(float(math.sqrt(D[k])), int(I[k]), int(J[k]))


@uses_float64
def min_pairwise_distance(X: Any, *, block: int = 1024, method: str = "auto") -> HminResult:
    """Exact minimum pairwise distance h_min and its pair (i < j).

    Memory O(N x block) (blocked) or O(N d) (tree); never the N x N matrix.  Duplicates give
    h_min = 0 (use ``validate_points`` to reject them).

    Args:
        X: (N, d) points, N >= 2, finite.
        block: the block edge of the screening pass.
        method: ``"auto"`` (tree in low d, see ``_use_kdtree``; else blocked), ``"kdtree"``, ``"blocked"``
            or ``"dense"`` (difference-based full matrix, small N only; a test oracle).

    Returns:
        HminResult(h_min, i, j), ties broken by the smallest (i, j).

    Example:
        >>> min_pairwise_distance([[0., 0], [3, 4], [0, 1]])
        HminResult(h_min=1.0, i=0, j=2)
    """
    A = validate_points(X, allow_duplicates=True, copy=False)
    n, d = A.shape
    if method == "auto":
        method = "kdtree" if _use_kdtree(n, d) else "blocked"
    if method == "kdtree":
        return _hmin_kdtree(A)
    if method == "blocked":
        return _hmin_blocked(A, block)
    if method == "dense":
        P = pairwise_distances(A)
        P[np.tril_indices(n)] = np.inf
        i, j = np.unravel_index(np.argmin(P), P.shape)
        return HminResult(float(P[i, j]), int(i), int(j))
    raise InputError(f"unknown method {method!r}; expected auto, kdtree, blocked or dense")


@uses_float64
def separation_distance(X: Any, **kwargs) -> float:
    """q_X = h_min / 2 (the RBF separation distance; NOT h_min)."""
    return min_pairwise_distance(X, **kwargs).h_min / 2.0


# --------------------------------------------------------------------------------------------
# k nearest neighbours (exact values)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# fill distance
# --------------------------------------------------------------------------------------------


class _Domain:
    """A sampling domain: cube [lo, hi], ball (center, R) or sphere (center, R), or a sampler."""

    def __init__(self, kind, X, bounds, sampler=None):
        self.kind = kind
        self.sampler = sampler
        d = X.shape[1]
        if kind == "cube":
            if bounds is None:
                lo, hi = X.min(axis=0), X.max(axis=0)
            else:
                lo = np.broadcast_to(np.asarray(bounds[0], dtype=float), (d,)).copy()
                hi = np.broadcast_to(np.asarray(bounds[1], dtype=float), (d,)).copy()
            if np.any(hi < lo):
                raise InputError("cube bounds must satisfy lo <= hi")
            self.lo, self.hi = lo, hi
            self.desc = (
                "cube = bounding box of the points" if bounds is None else "cube [lo, hi] as given"
            )
        elif kind in ("ball", "sphere"):
            if bounds is None:
                center = np.zeros(d)
                norms = np.linalg.norm(X - center, axis=1)
                R = float(norms.max() if kind == "ball" else np.median(norms))
                self.desc = (
                    f"{kind} centred at the origin, radius {R:.6g} = "
                    + ("max ||x_i||" if kind == "ball" else "median ||x_i||")
                )
            else:
                center = np.broadcast_to(np.asarray(bounds[0], dtype=float), (d,)).copy()
                R = float(bounds[1])
                self.desc = f"{kind} with the given centre and radius {R:.6g}"
            if not R > 0:
                raise InputError(f"{kind} radius must be > 0, got {R}")
            self.center, self.R = center, R
            self.lo, self.hi = center - R, center + R
        elif kind == "callable":
            self.desc = "a user-supplied sampler"
            self.lo = self.hi = None
        else:
            raise InputError(f"unknown domain {kind!r}; expected cube, ball, sphere or a sampler")
        self.d = d

    def sample(self, n, rng):
        d = self.d
        if self.kind == "cube":
            return self.lo + (self.hi - self.lo) * rng.random((n, d))
        if self.kind in ("ball", "sphere"):
            g = rng.standard_normal((n, d))
            g /= np.linalg.norm(g, axis=1, keepdims=True)
            if self.kind == "ball":
                g *= rng.random((n, 1)) ** (1.0 / d)
            return self.center + self.R * g
        P = np.asarray(self.sampler(n, rng), dtype=np.float64)
        if P.shape != (n, d):
            raise InputError(f"sampler returned shape {P.shape}, expected {(n, d)}")
        return P

    @property
    def can_project(self):
        return self.kind != "callable"

    def project(self, P):
        if self.kind == "cube":
            return np.clip(P, self.lo, self.hi)
        v = P - self.center
        r = np.linalg.norm(v, axis=1, keepdims=True)
        r = np.where(r == 0, 1.0, r)
        if self.kind == "sphere":
            return self.center + self.R * v / r
        return self.center + v * np.minimum(1.0, self.R / r)

    def cell_may_meet(self, C, half_diag):
        """Whether cells with centres C and half-diagonal ``half_diag`` may meet the domain."""
        if self.kind == "cube":
            return np.ones(len(C), dtype=bool)
        r = np.linalg.norm(C - self.center, axis=1)
        if self.kind == "ball":
            return r <= self.R + half_diag
        return np.abs(r - self.R) <= half_diag


def _branch_and_bound(dom: _Domain, nn: _NNIndex, lb: float, lb_point, *, budget: int, rtol: float):
    """Guaranteed bracket of h_fill in low d: cells of half-diagonal r with centre value g give
    sup over the cell <= dist(g, X) + r; cells that cannot beat the lower bound are dropped, the
    rest are split in 2^d.  Lower bound: the value at each centre projected into the domain."""
    d = dom.d
    width = dom.hi - dom.lo
    width = np.maximum(width, 0.0)  # a flat axis (points on a hyperplane) has zero width
    m0 = max(2, int(round((min(budget, 20000)) ** (1.0 / d) / 2)))
    grids = [dom.lo[k] + (np.arange(m0 if width[k] > 0 else 1) + 0.5) * width[k] / m0 for k in range(d)]
    C = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, d)
    w = width / m0
    used = 0
    ub = math.inf
    for _ in range(60):
        half = 0.5 * float(np.sqrt(np.sum(w**2)))
        C = C[dom.cell_may_meet(C, half)]
        if len(C) == 0:
            ub = lb
            break
        g = nn.query(C)[0]
        Pin = dom.project(C)
        gin = nn.query(Pin)[0] if dom.kind != "cube" else g
        used += len(C) * (2 if dom.kind != "cube" else 1)
        k = int(np.argmax(gin))
        if gin[k] > lb:
            lb, lb_point = float(gin[k]), Pin[k].copy()
        cell_ub = g + half
        ub = max(lb, float(cell_ub.max()))
        if ub - lb <= rtol * max(lb, 1e-300) or half == 0.0:
            break
        keep = cell_ub > lb
        C = C[keep]
        if used + len(C) * 2 ** int(np.sum(w > 0)) > budget:
            break
        # split along the axes of positive width only (a flat axis stays one cell thick)
        offs = np.stack(
            np.meshgrid(*[[-0.25, 0.25] if wk > 0 else [0.0] for wk in w], indexing="ij"), axis=-1
        ).reshape(-1, d)
        C = (C[:, None, :] + offs[None, :, :] * w[None, None, :]).reshape(-1, d)
        w = w / 2
    return lb, lb_point, ub


@uses_float64
def fill_distance(
    X: Any,
    *,
    domain: str | Callable = "cube",
    n_probe: int = 10000,
    seed: int = 0,
    bounds=None,
    ascent_steps: int = 60,
    bnb_max_dim: int = 3,
    bnb_budget: int = 400_000,
    rtol: float = 1e-3,
) -> FillResult:
    """Fill distance h_fill = sup_{x in domain} min_i ||x - x_i|| (a lower estimate + error bar).

    Random probes give a lower bound (the largest nearest-point distance seen); a short local
    ascent (a (1+1) evolution strategy projected into the domain) from the 16 best probes
    improves it.  For d <= ``bnb_max_dim`` and cube/ball/sphere domains a branch-and-bound over
    grid cells also gives a guaranteed upper bound, so ``[estimate, upper_bound]`` brackets the
    truth (``rigorous = True``, ``stderr_or_gap = upper_bound - estimate``).  Otherwise the error
    bar is heuristic (see ``FillResult.stderr_or_gap``); in high d, random probes see little of the
    domain and the estimate can be far below the truth.

    Args:
        X: (N, d) points.
        domain: ``"cube"`` (default: the bounding box of X, or ``bounds=(lo, hi)``), ``"ball"``
            or ``"sphere"`` (``bounds=(center, radius)``; default centre 0 and radius max ||x_i||
            for the ball, median ||x_i|| for the sphere), or a callable ``sampler(n, rng)``
            returning (n, d) points of the domain.
        n_probe: number of random probes.
        seed: seed of the probes.
        bounds: see ``domain``.
        ascent_steps: iterations of the local ascent (0 turns it off).
        bnb_max_dim: the largest d for which the branch-and-bound bracket is computed.
        bnb_budget: the most nearest-neighbour queries the bracket may use.
        rtol: the bracket stops when (upper - lower) <= rtol * lower.

    Returns:
        FillResult.

    Example:
        >>> r = fill_distance([[0., 0], [1, 0], [0, 1], [1, 1]])
        >>> round(r.estimate, 6), r.rigorous, r.upper_bound - r.estimate <= 1e-3 * r.estimate
        (0.707107, True, True)
    """
    A = validate_points(X, min_n=1, allow_duplicates=True, copy=False)
    n, d = A.shape
    if n_probe < 2:
        raise InputError(f"n_probe must be >= 2, got {n_probe}")
    dom = _Domain("callable", A, bounds, domain) if callable(domain) else _Domain(domain, A, bounds)
    rng = np.random.default_rng(seed)
    P = dom.sample(int(n_probe), rng)
    nn = _NNIndex(A)
    g = nn.query(P)[0]
    half = len(g) // 2
    f_all = float(g.max())
    f_half = float(g[:half].max())
    k = int(np.argmax(g))
    est, arg = f_all, P[k].copy()
    # local ascent from the best probes
    # at most ~n_probe extra queries (16 per step), so a huge high-d set is not queried 10x over
    ascent_steps = min(int(ascent_steps), max(1, int(n_probe) // 16))
    if ascent_steps > 0 and dom.can_project:
        top = np.argsort(g)[::-1][:16]
        Y, gy = P[top].copy(), g[top].copy()
        sigma = np.full(len(Y), max(f_all, 1e-12) * 0.3)
        for _ in range(int(ascent_steps)):
            Z = dom.project(Y + sigma[:, None] * rng.standard_normal(Y.shape))
            gz = nn.query(Z)[0]
            up = gz > gy
            Y[up], gy[up] = Z[up], gz[up]
            sigma = np.where(up, sigma * 1.5, sigma * 0.8)
        kk = int(np.argmax(gy))
        if gy[kk] > est:
            est, arg = float(gy[kk]), Y[kk].copy()
    if d <= bnb_max_dim and dom.can_project:
        est, arg, ub = _branch_and_bound(dom, nn, est, arg, budget=bnb_budget, rtol=rtol)
        return FillResult(est, max(ub - est, 0.0), int(n_probe), arg, ub, True, dom.desc)
    # heuristic gap: how much the running maximum still grew over the second half of the probes,
    # or what the local ascent gained over the best probe, whichever is larger
    gap = max(f_all - f_half, est - f_all, 0.0)
    return FillResult(est, gap, int(n_probe), arg, None, False, dom.desc)


@uses_float64
def mesh_ratio(X: Any, **fill_kwargs) -> float:
    """Mesh ratio h_fill / q_X with q_X = h_min / 2 (inf when h_min = 0).

    Uses ``fill_distance(...).estimate``, a lower bound on h_fill, so this is a lower estimate.
    """
    q = separation_distance(X)
    f = fill_distance(X, **fill_kwargs).estimate
    return math.inf if q == 0 else f / q


# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------


@uses_float64
def geometry_summary(
    X: Any,
    *,
    domain: str | Callable | None = None,
    seed: int = 0,
    n_probe: int = 10000,
    bounds=None,
    max_pair_work: float | None = None,
) -> dict:
    """Everything this module measures about a point set, as a JSON-able dict.

    Keys: ``n, d, h_min, q_X, argmin_pair, hmin_method, fill_distance, fill_distance_err,
    fill_distance_upper, fill_rigorous, fill_domain, fill_n_probe, mesh_ratio, knn_quantiles,
    conventions, seconds`` (and ``skipped`` with reasons, if any).

    Args:
        X: (N, d) points (duplicates allowed: h_min = 0, mesh ratio inf).
        domain: fill-distance domain (default ``"cube"``, the bounding box).
        seed: seed of the fill-distance probes.
        n_probe: fill-distance probes.
        bounds: fill-distance domain bounds (see ``fill_distance``).
        max_pair_work: if given and the blocked (O(N^2 d)) path would be used, skip the O(N^2 d) parts (h_min, k-NN) when
            N^2 d / 2 exceeds it, saying so in ``skipped``.
    """
    t0 = time.perf_counter()
    A = validate_points(X, allow_duplicates=True, copy=False)
    n, d = A.shape
    out: dict[str, Any] = {"n": int(n), "d": int(d), "conventions": CONVENTIONS}
    skipped: dict[str, str] = {}
    work = n * n * d / 2.0
    heavy = not _use_kdtree(n, d) and max_pair_work is not None and work > max_pair_work
    if heavy:
        reason = (
            f"skipped: exact h_min needs ~{work:.2g} pair-coordinate operations (N^2 d / 2) > "
            f"budget {max_pair_work:.2g}; run `hmin geometry` on the file for the exact value"
        )
        out.update(h_min=None, q_X=None, argmin_pair=None, hmin_method=None, knn_quantiles=None)
        skipped["h_min"] = reason
        skipped["knn_quantiles"] = reason
    else:
        r = min_pairwise_distance(A)
        out.update(
            h_min=r.h_min,
            q_X=r.h_min / 2.0,
            argmin_pair=[r.i, r.j],
            hmin_method="kdtree" if _use_kdtree(n, d) else "blocked",
        )
        out["knn_quantiles"] = knn_distance_quantiles(A, k=1)
    fr = fill_distance(A, domain=domain or "cube", seed=seed, n_probe=n_probe, bounds=bounds)
    out.update(
        fill_distance=fr.estimate,
        fill_distance_err=fr.stderr_or_gap,
        fill_distance_upper=fr.upper_bound,
        fill_rigorous=fr.rigorous,
        fill_domain=fr.domain,
        fill_n_probe=fr.n_probe,
    )
    if out["h_min"] is None:
        out["mesh_ratio"] = None
    else:
        out["mesh_ratio"] = math.inf if out["q_X"] == 0 else fr.estimate / out["q_X"]
    if skipped:
        out["skipped"] = skipped
    out["seconds"] = time.perf_counter() - t0
    return out
