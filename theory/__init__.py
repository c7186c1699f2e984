"""hmin.theory: the statements T1..T10 of THEORY.md, one module each, symbolic (sympy) and numeric (numpy).

Each module ``theory.tNN_*`` holds a statement's words (`Statement`), its sympy form, its symbolic
checks and the numeric predictors that ``sims`` compares with measurements. `theory` never imports
``sims`` or JAX.

    >>> from theory import STATEMENTS
    >>> list(STATEMENTS)[:3], STATEMENTS["T1"].kind
    (['T1', 'T2', 'T3'], 'EXACT')

`run_symbolic` runs the symbolic checks; each result is three-valued (`Status`): "unproven" is
never shown as "proved", and is always backed by a numeric counterexample search.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from theory._core import SearchResult, Statement, Status, SymbolicResult, TheoryInputError, search_min_margin
from theory.common import unit_ball_volume, unit_ball_volume_sym
from theory import (
    t01_hmin_lower,
    t02_hmin_upper,
    t03_pl_identity,
    t04_pair_bound,
    t05_descent,
    t06_linearised,
    t07_poly_smooth,
    t08_nondegeneracy,
    t09_approximation,
    t10_greedy,
)

__all__ = [
    "STATEMENTS",
    "Statement",
    "Status",
    "SymbolicResult",
    "SearchResult",
    "TheoryInputError",
    "run_symbolic",
    "search_min_margin",
    "unit_ball_volume",
    "unit_ball_volume_sym",
]

#: id -> Statement, in the order of THEORY.md.
STATEMENTS: "OrderedDict[str, Statement]" = OrderedDict(
    (m.STATEMENT.id, m.STATEMENT)
    for m in (t01_hmin_lower, t02_hmin_upper, t03_pl_identity, t04_pair_bound, t05_descent, t06_linearised,
              t07_poly_smooth, t08_nondegeneracy, t09_approximation, t10_greedy)
)


def run_symbolic(ids: Iterable[str] | None = None) -> dict[str, list[SymbolicResult]]:
    """Run the symbolic checks of the given statements (all by default), in THEORY.md order.

    Results are cached within the process, so a second call is free.

    Args:
        ids: statement ids such as ["T1", "T5"]; None for all.

    Returns:
        id -> list of `SymbolicResult`.

    Raises:
        TheoryInputError: an unknown id.
    """
    wanted = list(STATEMENTS) if ids is None else list(ids)
    unknown = [i for i in wanted if i not in STATEMENTS]
    if unknown:
        raise TheoryInputError(f"unknown statement id(s) {unknown}; known: {', '.join(STATEMENTS)}")
    return {i: STATEMENTS[i].symbolic_checks() for i in STATEMENTS if i in wanted}
