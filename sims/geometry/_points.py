"""Points in: validation (NaN/inf, huge coordinates, duplicates naming their rows) and loading (.npy, .csv)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.geometry._common import F32_MAX_ABS_COORD, MAX_ABS_COORD


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
