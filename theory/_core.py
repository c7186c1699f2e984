"""Shared machinery of `theory`: three-valued results, statements, counterexample search.

Every symbolic check returns a `SymbolicResult` whose `status` is one of

* ``PROVED``: sympy established the claim (an identity that simplifies to zero, an exact limit,
  an algebraic certificate such as "difference = sum of squares"), or the claim follows from a
  short argument written out in `detail` (then `method == "argument"`, never hidden);
* ``DISPROVED``: an explicit counterexample was found (`witness`) and `margin` is its (negative)
  margin;
* ``UNPROVEN``: sympy could not close it.  An unproven result is never shown as proved: it is
  always backed by a numeric counterexample search (random sampling, then gradient-based local
  minimisation of the margin from the best random points, `search_min_margin`), and `margin` is the
  smallest margin that search found.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp
from scipy import optimize

from hmin.theory.errors import InputError

__all__ = [
    "Role",
    "KINDS",
    "negative_control",
    "refuted_draft",
    "Status",
    "SymbolicResult",
    "Statement",
    "TheoryInputError",
    "SearchResult",
    "search_min_margin",
    "proved",
    "by_argument",
    "disproved",
    "numeric_verdict",
    "check_identity",
    "sympy_fallback",
    "as_float_array",
    "as_int",
]


#: Bad input to a `theory` predictor (NaN/inf, non-positive where positivity is required...). The same
#: class as ``sims.errors.InputError`` (both are `theory.errors.InputError`), so the command line
#: catches every bad input by class.
TheoryInputError = InputError


class Status(str, enum.Enum):
    """Outcome of one symbolic check (three-valued: "unproven" is not "proved")."""

    PROVED = "proved"
    DISPROVED = "disproved"
    UNPROVEN = "unproven"

    def __str__(self) -> str:  # "proved", not "Status.PROVED", in reports
        return self.value


class Role(str, enum.Enum):
    """What a symbolic result is *for* (typed, never a prefix of its claim).

    * ``CLAIM``: part of the statement; its status makes the statement proved / unproven / disproved.
    * ``CONTROL``: a negative control, a deliberately false variant of the statement that the checker
      must refute. A control that comes out anything but DISPROVED means the checker cannot tell true
      from false (the report shows an error).
    * ``REFUTED_DRAFT``: an earlier wording of the statement (e.g. the first draft of T7) that the
      toolkit refutes; shown with its counterexample, never counted against the corrected claim. A
      refuted draft that is not DISPROVED is reported as an error too.
    """

    CLAIM = "claim"
    CONTROL = "control"
    REFUTED_DRAFT = "refuted draft"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True)
class SymbolicResult:
    """One claim and what was established about it.

    Attributes:
        claim: the claim in words (and formulas), precise enough to be checked by a reader.
        status: `Status.PROVED`, `Status.DISPROVED` or `Status.UNPROVEN`.
        detail: what sympy established (the expression that simplified to zero, the limit value,
            the certificate), or the written argument.
        margin: for UNPROVEN, the smallest margin (>= 0 means the claim held at that point) found by
            the numeric counterexample search; for DISPROVED, the (negative) margin at the
            counterexample; None when no search was needed.
        method: "sympy", "argument" (a proof written out in `detail`) or "numeric-search".
        witness: for DISPROVED, the counterexample (name -> value); for UNPROVEN, the point of
            smallest margin.
        role: `Role.CLAIM` (default), `Role.CONTROL` or `Role.REFUTED_DRAFT`; set it with
            `negative_control` / `refuted_draft`, never by editing the claim's words.
    """

    claim: str
    status: Status
    detail: str
    margin: float | None = None
    method: str = "sympy"
    witness: Mapping[str, float] | None = None
    role: Role = Role.CLAIM

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (plain str/float/None values).

        Example:
            >>> SymbolicResult("1 + 1 = 2", Status.PROVED, "sympy: 0").to_dict()["status"]
            'proved'
        """
        return {
            "claim": self.claim,
            "status": self.status.value,
            "detail": self.detail,
            "margin": None if self.margin is None else float(self.margin),
            "method": self.method,
            "witness": None if self.witness is None else {str(k): float(v) for k, v in self.witness.items()},
            "role": Role(self.role).value,
        }


def negative_control(result: SymbolicResult) -> SymbolicResult:
    """Mark `result` as a negative control: a deliberately false variant that must come out DISPROVED.

    Example:
        >>> r = negative_control(SymbolicResult("1 + 1 = 3", Status.DISPROVED, "sympy: 1 != 0"))
        >>> r.role.value, r.claim
        ('control', '1 + 1 = 3')
    """
    return dataclasses.replace(result, role=Role.CONTROL)


def refuted_draft(result: SymbolicResult) -> SymbolicResult:
    """Mark `result` as a refuted draft: an earlier wording of the statement, shown with its counterexample.

    Example:
        >>> refuted_draft(SymbolicResult("p = 2", Status.DISPROVED, "ray: t^3")).role.value
        'refuted draft'
    """
    return dataclasses.replace(result, role=Role.REFUTED_DRAFT)


#: The kinds of statement: the paper's own formula or an identity; this project's formalisation of the
#: paper's message; a reviewers' question answered by measurement (no symbolic side).
KINDS = ("EXACT", "OURS", "QUESTION")
_ID_RE = __import__("re").compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement (T1..T10, C1.., or a plug-in's; docs/statements.md): its words, its hypotheses, its sympy form, its checks.

    Attributes:
        id: "T1" .. "T10", "C1", ... or a plug-in's own id (letters, digits, '_', '-').
        title: a short title.
        kind: "EXACT" (the paper's own formula, or an identity), "OURS" (this project's
            formalisation carrying the paper's message; never to be quoted as the paper's wording) or
            "QUESTION" (a reviewers' question answered by measurement).
        paper_ref: the paper's numbering (v1 / v2) where known, "" otherwise.
        text: the precise statement in words.
        hypotheses: the hypotheses, one per entry.
        exprs: the statement as sympy expressions (name -> expression).
        predictors: names of the numeric predictors of the module (what ``sims`` calls).
        checks: the function computing the symbolic checks (see `symbolic_checks`).
    """

    id: str
    title: str
    kind: str
    paper_ref: str
    text: str
    hypotheses: tuple[str, ...]
    exprs: Mapping[str, sp.Basic] = dataclasses.field(default_factory=dict, compare=False, hash=False)
    predictors: tuple[str, ...] = ()
    checks: Callable[[], list[SymbolicResult]] | None = dataclasses.field(
        default=None, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.fullmatch(self.id):
            raise TheoryInputError(f"Statement id {self.id!r}: use letters, digits, '_' or '-', starting with a letter "
                                   "(e.g. 'T4', 'C3', 'RELU1')")
        if self.kind not in KINDS:
            raise TheoryInputError(f"Statement {self.id}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("title", "text"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise TheoryInputError(f"Statement {self.id}: {name} must be a non-empty string")
        object.__setattr__(self, "hypotheses", tuple(self.hypotheses))

    def symbolic_checks(self) -> list[SymbolicResult]:
        """Run (or fetch the cached) symbolic checks of this statement."""
        if self.checks is None:
            return []
        return list(self.checks())

    def to_dict(self) -> dict[str, Any]:
        """The statement as a JSON-ready dict (expressions as strings), without running checks."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "paper_ref": self.paper_ref,
            "text": self.text,
            "hypotheses": list(self.hypotheses),
            "exprs": {k: str(v) for k, v in self.exprs.items()},
            "predictors": list(self.predictors),
        }


# ----------------------------------------------------------------------------------------------
# Result constructors
# ----------------------------------------------------------------------------------------------


def proved(claim: str, detail: str) -> SymbolicResult:
    """A claim sympy established."""
    return SymbolicResult(claim, Status.PROVED, detail, None, "sympy")


def by_argument(claim: str, argument: str, *, search: SearchResult | None = None) -> SymbolicResult:
    """A claim proved by the short argument `argument` (not by sympy); optional numeric cross-check.

    If the cross-check finds a counterexample the result is DISPROVED: an argument never
    overrides a counterexample.
    """
    if search is not None and search.min_margin < -search.tol:
        return disproved(claim, f"argument contradicted by numeric search: {search.describe()}", search)
    detail = argument if search is None else f"{argument} Numeric cross-check: {search.describe()}"
    return SymbolicResult(
        claim,
        Status.PROVED,
        detail,
        None if search is None else search.min_margin,
        "argument",
        None if search is None else search.witness,
    )


def unproven(claim: str, detail: str, search: SearchResult | None = None) -> SymbolicResult:
    """A claim sympy could not close: shown as unproven, never as proved.

    Back it with a numeric counterexample search (`search_min_margin`) where one is possible; a search
    that finds a counterexample makes the result DISPROVED instead (a counterexample always wins).

    Args:
        claim: the claim, in words.
        detail: what was tried and why it did not close.
        search: an optional `SearchResult` of the numeric cross-check.

    Returns:
        A `SymbolicResult` with status UNPROVEN (or DISPROVED, see above).

    Example:
        >>> unproven("the bound holds for every N", "sympy cannot sum the series").status.value
        'unproven'
    """
    if search is not None and search.min_margin < -search.tol:
        return disproved(claim, f"{detail}; numeric search found a counterexample: {search.describe()}", search)
    if search is not None:
        detail = f"{detail} Numeric search found no counterexample: {search.describe()}"
    return SymbolicResult(claim, Status.UNPROVEN, detail, None if search is None else search.min_margin,
                          "sympy" if search is None else "numeric-search", None if search is None else search.witness)


def disproved(claim: str, detail: str, search: SearchResult | None = None, *, margin: float | None = None,
              witness: Mapping[str, float] | None = None) -> SymbolicResult:
    """A claim refuted by an explicit counterexample."""
    if search is not None:
        margin, witness = search.min_margin, search.witness
    return SymbolicResult(claim, Status.DISPROVED, detail, margin, "numeric-search" if search else "sympy", witness)


# ----------------------------------------------------------------------------------------------
# Numeric counterexample search
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """Outcome of `search_min_margin`.

    Attributes:
        min_margin: the smallest margin found (the claim says margin >= 0 everywhere).
        witness: the point (name -> value) where it was found.
        n_evals: number of margin evaluations.
        tol: the tolerance below -tol of which a margin counts as a counterexample.
    """

    min_margin: float
    witness: dict[str, float]
    n_evals: int
    tol: float

    def describe(self) -> str:
        pt = ", ".join(f"{k}={v:.6g}" for k, v in self.witness.items())
        return (f"smallest margin {self.min_margin:.3e} over {self.n_evals} evaluations (a margin below "
                f"-{self.tol:g} would be a counterexample), at ({pt})")


def search_min_margin(
    margin: Callable[[np.ndarray], float],
    bounds: Mapping[str, tuple[float, float]],
    *,
    seed: int,
    n_random: int = 2000,
    n_local: int = 6,
    tol: float = 1e-9,
    method: str = "L-BFGS-B",
    sampler: Callable[[np.random.Generator, int], np.ndarray] | None = None,
) -> SearchResult:
    """Search for a point where ``margin`` is negative: random sampling, then local minimisation.

    Args:
        margin: function of a float64 vector (ordered as `bounds`) returning the margin of the
            claim at that point (>= 0 where the claim holds). Non-finite values are ignored.
        bounds: name -> (low, high) box of the search, in the order of the vector.
        seed: seed of the random sampler (keyword-only, explicit).
        n_random: number of uniform random points in the box.
        n_local: number of local minimisations (scipy.optimize.minimize, bounded) started from the
            best random points.
        tol: a margin below ``-tol`` counts as a counterexample.
        method: the scipy local method ("L-BFGS-B": finite-difference gradients; "Powell" or
            "Nelder-Mead" for non-smooth margins).
        sampler: optional ``(rng, n) -> (n, dim)`` array of start points replacing uniform sampling.

    Returns:
        A `SearchResult` with the smallest margin found and where.

    Example:
        >>> r = search_min_margin(lambda v: v[0] ** 2 - 1.0, {"x": (-2.0, 2.0)}, seed=0, n_random=50)
        >>> round(r.min_margin, 6)
        -1.0
    """
    names = list(bounds)
    lo = np.array([bounds[k][0] for k in names], dtype=np.float64)
    hi = np.array([bounds[k][1] for k in names], dtype=np.float64)
    rng = np.random.default_rng(seed)
    pts = sampler(rng, n_random) if sampler is not None else lo + (hi - lo) * rng.random((n_random, len(names)))

    def safe(v: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            try:
                m = float(margin(np.asarray(v, dtype=np.float64)))
            except (ArithmeticError, ValueError):
                return math.inf
        return m if math.isfinite(m) else math.inf

    vals = np.array([safe(p) for p in pts])
    n_evals = len(pts)
    order = np.argsort(vals)
    best_x, best_m = pts[order[0]].copy(), float(vals[order[0]])
    for idx in order[: max(0, n_local)]:
        counter = [0]

        def f(v: np.ndarray) -> float:
            counter[0] += 1
            m = safe(v)
            return m if math.isfinite(m) else 1e300

        res = optimize.minimize(f, pts[idx], method=method, bounds=list(zip(lo, hi)), options={"maxiter": 200})
        n_evals += counter[0]
        x = np.clip(res.x, lo, hi)
        m = safe(x)
        if m < best_m:
            best_x, best_m = x, m
    return SearchResult(best_m, {k: float(v) for k, v in zip(names, best_x)}, n_evals, tol)


def numeric_verdict(claim: str, detail: str, search: SearchResult) -> SymbolicResult:
    """UNPROVEN with the search's smallest margin, or DISPROVED if it found a counterexample."""
    if search.min_margin < -search.tol:
        return disproved(claim, f"{detail} Counterexample: {search.describe()}", search)
    return SymbolicResult(claim, Status.UNPROVEN, f"{detail} Numeric search: {search.describe()}",
                          search.min_margin, "numeric-search", search.witness)


def check_identity(claim: str, lhs: Any, rhs: Any, *, seed: int = 0, n_trials: int = 8) -> SymbolicResult:
    """PROVED if ``lhs - rhs`` simplifies to 0; DISPROVED if it is non-zero at an exact rational point.

    `lhs` and `rhs` may be expressions or matrices (compared entrywise). The disproof evaluates the
    difference exactly at random small rationals (so a false identity is refuted with exact
    arithmetic); if neither happens the result is UNPROVEN with the smallest |difference| seen.
    """
    lhs_m, rhs_m = sp.Matrix([lhs]) if not isinstance(lhs, sp.MatrixBase) else lhs, \
        sp.Matrix([rhs]) if not isinstance(rhs, sp.MatrixBase) else rhs
    if lhs_m.shape != rhs_m.shape:
        return disproved(claim, f"shapes differ: {lhs_m.shape} vs {rhs_m.shape}")
    diffs = [sp.simplify(sp.expand(a - b)) for a, b in zip(lhs_m, rhs_m)]
    if all(e == 0 for e in diffs):
        return proved(claim, f"sympy: simplify(lhs - rhs) = 0 entrywise, lhs = {_short(lhs)}")
    bad = [e for e in diffs if e != 0]
    syms = sorted(set().union(*(e.free_symbols for e in bad)), key=lambda s: s.name)
    rng = np.random.default_rng(seed)
    smallest = math.inf
    for _ in range(n_trials):
        pt = {s: sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5))) for s in syms}
        for e in bad:
            val = sp.simplify(e.subs(pt).doit())
            if val.is_number and val.is_finite and val != 0:
                return disproved(claim, f"sympy: lhs - rhs = {_short(e)} = {val} != 0 at {pt}",
                                 margin=-abs(float(val)), witness={s.name: float(v) for s, v in pt.items()})
            if val.is_number and val.is_finite:
                smallest = min(smallest, abs(float(val)))
    return sympy_fallback(claim, f"lhs - rhs = {_short(bad[0])} not simplified to 0; exact rational points gave "
                                 f"smallest |difference| {smallest:.3g}", sp.Matrix(bad), kind="zero", seed=seed)


def _default_box(sym: sp.Symbol) -> tuple[float, float]:
    if sym.is_positive:
        return (1.0, 6.0) if sym.is_integer else (0.05, 3.0)
    if sym.is_nonnegative:
        return (0.0, 6.0) if sym.is_integer else (0.0, 3.0)
    return (-3.0, 3.0)


def sympy_fallback(claim: str, detail: str, expr: Any, *, kind: str = "zero",
                   bounds: Mapping[sp.Symbol, tuple[float, float]] | None = None, seed: int = 0) -> SymbolicResult:
    """The result when sympy could not close a claim: a numeric counterexample search on `expr`.

    Args:
        claim: the claim.
        detail: what sympy got (appended to the search report).
        expr: a sympy expression (or matrix, reduced to its sum of squares) whose free symbols are the
            claim's variables: identically 0 for kind "zero", >= 0 for kind "nonneg".
        kind: "zero" (margin -|expr|) or "nonneg" (margin expr).
        bounds: symbol -> (low, high) box; default from the symbols' assumptions (positive: (0.05, 3),
            real: (-3, 3), positive integer: (1, 6)). Give it whenever the claim holds on a smaller domain.
        seed: seed of the search.

    Returns:
        UNPROVEN with the smallest margin found, or DISPROVED with the counterexample.
    """
    if isinstance(expr, sp.MatrixBase):
        expr = sum(e**2 for e in expr)
    expr = sp.sympify(expr)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    if not syms:
        val = complex(sp.N(expr))
        m = -abs(val) if kind == "zero" else val.real
        res = SearchResult(float(m), {}, 1, 1e-9)
        return numeric_verdict(claim, f"sympy could not close it ({detail}); exact value {expr}.", res)
    box = {s: (bounds or {}).get(s, _default_box(s)) for s in syms}
    f = sp.lambdify(syms, expr, modules=["numpy", "scipy"])

    def margin(v: np.ndarray) -> float:
        val = complex(f(*v))
        if abs(val.imag) > 1e-9 * (1 + abs(val.real)):
            return math.inf
        return -abs(val.real) if kind == "zero" else val.real

    search = search_min_margin(margin, {s.name: box[s] for s in syms}, seed=seed, n_random=400, n_local=3, tol=1e-8)
    return numeric_verdict(claim, f"sympy could not close it ({detail}).", search)


def _short(e: Any, n: int = 160) -> str:
    s = str(e)
    return s if len(s) <= n else s[: n - 3] + "..."


# ----------------------------------------------------------------------------------------------
# Input validation shared by the predictors
# ----------------------------------------------------------------------------------------------


def as_float_array(name: str, value: Any, *, positive: bool = False, nonneg: bool = False,
                   allow_inf: bool = False) -> np.ndarray:
    """`value` as a float64 array, raising `TheoryInputError` naming `name` if it is invalid."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TheoryInputError(f"{name} must be numeric, got {value!r}") from e
    if np.isnan(arr).any():
        raise TheoryInputError(f"{name} contains NaN")
    if not allow_inf and np.isinf(arr).any():
        raise TheoryInputError(f"{name} contains inf")
    if positive and (arr <= 0).any():
        raise TheoryInputError(f"{name} must be > 0, got min {arr.min()}")
    if nonneg and (arr < 0).any():
        raise TheoryInputError(f"{name} must be >= 0, got min {arr.min()}")
    return arr


def as_int(name: str, value: Any, *, minimum: int) -> int:
    """`value` as an int >= `minimum` (no silent rounding of 2.5)."""
    if isinstance(value, (bool, np.bool_)):
        raise TheoryInputError(f"{name} must be an integer, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError) as e:
        raise TheoryInputError(f"{name} must be an integer, got {value!r}") from e
    if not math.isfinite(f) or f != int(f):
        raise TheoryInputError(f"{name} must be an integer, got {value!r}")
    if int(f) < minimum:
        raise TheoryInputError(f"{name} must be >= {minimum}, got {int(f)}")
    return int(f)


def as_int_array(name: str, value: Any, *, minimum: int) -> np.ndarray:
    """Vectorised `as_int`: an integer-valued float64 array, every entry >= `minimum`."""
    arr = as_float_array(name, value)
    if (arr != np.round(arr)).any():
        raise TheoryInputError(f"{name} must be integer-valued")
    if (arr < minimum).any():
        raise TheoryInputError(f"{name} must be >= {minimum}, got min {arr.min():g}")
    return arr


def rationals(values: Sequence[float]) -> list[sp.Rational]:
    """Exact rationals for numeric values (for exact evaluation of counterexamples)."""
    return [sp.nsimplify(v, rational=True) for v in values]
