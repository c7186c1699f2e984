"""hmin.theory: each statement's words, symbolic side (sympy) and numeric predictors (numpy).

Each module ``theory/<id>_<name>.py`` (``t04_pair_bound``, ``c3_beyond_ntk``, ...) defines one
`Statement` named ``STATEMENT``: its id, title, kind (EXACT / OURS / QUESTION), paper reference,
text, hypotheses, sympy form and symbolic checks, next to the predictors that ``sims`` compares with
measurements. The modules are *discovered*: adding a statement is adding its file, and
`STATEMENTS` (ordered T1..T10, then C1.., then any other id) is derived from what is found.
`theory` never imports ``sims`` or JAX.

    >>> from hmin.theory import STATEMENTS
    >>> list(STATEMENTS)[:3], STATEMENTS["T1"].kind
    (['T1', 'T2', 'T3'], 'EXACT')

`run_symbolic` runs the symbolic checks; each result is three-valued (`Status`): "unproven" is
never shown as "proved", and is always backed by a numeric counterexample search. Each result has a
typed `Role`: a claim, a negative control (must come out disproved) or a refuted draft.
"""

from __future__ import annotations

if __name__ in ("sims", "theory"):  # the pre-0.2 top-level name, from a checkout: one module, not two
    from hmin._compat import redirect as _redirect

    _redirect(__name__)


import importlib
import pkgutil
import re
from collections import OrderedDict
from collections.abc import Iterable

from hmin.theory._core import (KINDS, Role, SearchResult, Statement, Status, SymbolicResult, TheoryInputError, by_argument,
                          disproved, negative_control, proved, refuted_draft, search_min_margin, unproven)
from hmin.theory.common import unit_ball_volume, unit_ball_volume_sym
from hmin.theory.errors import HminError, InputError, PluginError

__all__ = [
    "STATEMENTS",
    "KINDS",
    "Role",
    "Statement",
    "Status",
    "SymbolicResult",
    "SearchResult",
    "HminError",
    "InputError",
    "PluginError",
    "TheoryInputError",
    "negative_control",
    "refuted_draft",
    "proved",
    "disproved",
    "by_argument",
    "unproven",
    "run_symbolic",
    "search_min_margin",
    "statement_sort_key",
    "unit_ball_volume",
    "unit_ball_volume_sym",
]

#: modules of the package that are not statements
_NOT_STATEMENTS = {"common", "errors"}


def statement_sort_key(sid: str) -> tuple:
    """The report order: T1..Tn by number, then C1..Cn, then every other id alphabetically.

    Example:
        >>> sorted(["C1", "T10", "RELU1", "T2"], key=statement_sort_key)
        ['T2', 'T10', 'C1', 'RELU1']
    """
    m = re.fullmatch(r"([TC])(\d+)", sid)
    if m:
        return (0 if m.group(1) == "T" else 1, int(m.group(2)), "")
    return (2, 0, sid)


def _discover() -> "OrderedDict[str, Statement]":
    found: dict[str, Statement] = {}
    where: dict[str, str] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_STATEMENTS:
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        st = getattr(mod, "STATEMENT", None)
        if st is None:
            continue
        if not isinstance(st, Statement):
            raise TypeError(f"theory.{info.name}.STATEMENT is a {type(st).__name__}, not a theory.Statement")
        if st.id in found:
            raise TypeError(f"statement id {st.id} is defined twice: theory.{where[st.id]} and theory.{info.name}")
        found[st.id], where[st.id] = st, info.name
    return OrderedDict(sorted(found.items(), key=lambda kv: statement_sort_key(kv[0])))


#: id -> Statement of every statement module in this package, in report order (T.., then C.., then others).
STATEMENTS: "OrderedDict[str, Statement]" = _discover()


def run_symbolic(ids: Iterable[str] | None = None) -> dict[str, list[SymbolicResult]]:
    """Run the symbolic checks of the given statements (all by default), in report order.

    Results are cached within the process, so a second call is free.

    Args:
        ids: statement ids such as ["T1", "T5"]; None for all.

    Returns:
        id -> list of `SymbolicResult`.

    Raises:
        InputError: an unknown id.
    """
    wanted = list(STATEMENTS) if ids is None else list(ids)
    unknown = [i for i in wanted if i not in STATEMENTS]
    if unknown:
        raise TheoryInputError(f"unknown statement id(s) {unknown}; known: {', '.join(STATEMENTS)}")
    return {i: STATEMENTS[i].symbolic_checks() for i in STATEMENTS if i in wanted}
