"""The statement reference: ``docs/statements.md`` and ``hmin statements``, generated from the registry.

Everything here is derived from `sims.registry` (each statement's `theory.Statement`, its symbolic
checks, and the docstring of its numeric check's module), so the reference cannot drift from the
code: ``tests/test_reference.py`` regenerates ``docs/statements.md`` and fails when the committed
file differs. The output is deterministic (no timestamps, no timings, no machine-dependent numbers
beyond the symbolic checks' own, which are seeded).

Regenerate the committed reference (and ``docs/api.md``, see `sims.apidoc`) with the developer tool
``python tools/reference.py`` (``make docs``): it writes into the repository, so it lives beside it,
not in the installed package.

Example:
    >>> from hmin.sims.reference import KIND_MEANING
    >>> sorted(KIND_MEANING)
    ['EXACT', 'OURS', 'QUESTION']
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

__all__ = [
    "CONVENTIONS",
    "KIND_MEANING",
    "ROLE_HEADINGS",
    "SYMBOLIC_NOT_RUN",
    "statement_line",
    "statement_text",
    "statements_markdown",
    "without_symbolic",
]

#: What each kind of statement is.
KIND_MEANING = {
    "EXACT": "the named paper's own formula, or an identity",
    "OURS": "a formalisation (by hmin, or by a plug-in's author) of the named paper's message, never its wording",
    "QUESTION": "a question answered by measurement (no symbolic side)",
}

#: Section heading of each symbolic role (`theory.Role` value), in the order they are printed.
ROLE_HEADINGS = {
    "claim": "Claims (the statement; their status makes it proved / unproven / disproved)",
    "control": "Negative controls (deliberately false variants; each must come out disproved)",
    "refuted draft": "Refuted drafts (earlier wordings, refuted with a counterexample; not counted against the claim)",
}

#: Notation and conventions, printed once at the top of the reference.
CONVENTIONS = """\
Source: Wang & Gu, *Data Uniformity Improves Training Efficiency and More, with a Convergence
Framework Beyond the NTK Regime* (arXiv 2506.24120; v1 June 2025, v2 September 2025). The paper's
authors published no code; the statements below are hmin's precise formalisation of its claims.

## Notation and conventions

- Data X = {x_1, ..., x_N} in R^d, targets y_i in R^k (k = 1 unless said otherwise).
- h_ij = ||x_i - x_j||_2 and **h_min(X) = min_{i != j} h_ij**, the minimum pairwise distance. The
  RBF literature uses the *separation distance* **q_X = h_min / 2**; every number hmin prints says
  which of the two it is.
- Fill distance (covering radius) on a domain Omega: h_fill = sup_{x in Omega} min_i ||x - x_i||;
  mesh ratio = h_fill / q_X (1 is ideal, large is clumpy). Cluster of radius H around x_i:
  D_{i,H} = {j != i : h_ij <= H}.
- Model f(x; theta) with P parameters. Squared loss **L(theta) = (1/(2N)) sum_i ||f(x_i; theta) - y_i||^2**,
  residual r = f(X) - Y.
- Jacobian **J(theta)**: rows grad_theta f(x_i; theta), shape (N k, P). Gram matrix (empirical NTK)
  **G = J J^T**; lambda_min, lambda_max its extreme eigenvalues. The path-dependent PL constant is
  **mu = (2/N) lambda_min(G)**, so that ||grad L||^2 >= mu L (T3).
- Normalisation **tau_eps(z) = z / sqrt(||z||^2 + eps^2)**, eps > 0 (a real-analytic RMSNorm).
- V_d = pi^(d/2) / Gamma(d/2 + 1), the volume of the unit ball in R^d.
- Architectures (weights N(0, 1), no biases, every product divided by sqrt(fan_in): the NTK
  parameterisation of `sims.models`, and of the closed forms in `sims.kernels`): shallow
  f(x) = a^T sigma(W x / sqrt(d)) / sqrt(m), W of shape (m, d); deep MLP
  z_l = sigma(W_l z_{l-1} / sqrt(fan_in)), f = w^T z_L / sqrt(m); residual
  z_l = z_{l-1} + (1/L) V_l sigma(U_l tau_eps(z_{l-1})), f = w^T tau_eps(z_L); a small pre-norm
  transformer block. Activations tanh, sigmoid, softplus, GELU, SiLU are analytic; ReLU is not.
- Eigenvalues that decide a verdict are computed in float64 (`import sims` enables it in JAX).

## Kinds, roles and verdicts

- Each statement speaks for the paper its *paper reference* names: T1..T10 and C1.. for Wang & Gu,
  a field statement (`hmin.zoo`, docs/field.md) or a plug-in for its own paper. **EXACT**: that
  paper's own formula, or an identity. **OURS**: a formalisation (by hmin, or by a plug-in's author)
  of that paper's message, never to be quoted as its wording. **QUESTION**: a question answered by
  measurement (no symbolic side).
- The **symbolic side** (sympy, `theory/`) is three-valued: *proved* (sympy, or a short argument
  written out in the result), *disproved* (an explicit counterexample), *unproven* (sympy could not
  close it; always backed by a numeric counterexample search, never shown as proved). Each result
  has a role: a *claim* (part of the statement), a *negative control* (a deliberately false variant
  the checker must refute), or a *refuted draft* (an earlier wording, shown with its counterexample).
- The **numeric check** (`sims/checks/`) measures on real GD trajectories or Monte Carlo samples and
  ends in **holds / violated / inconclusive / outside hypothesis** by the rule quoted below (*outside
  hypothesis*: the runs lie outside the statement's hypotheses, as decided before measuring by the rule
  listed under "Hypotheses decided before the measurement"); its *false variants* are false predictions
  that the same rule must turn into "violated" on a real measurement.
- `hmin verify` runs every check and writes the report card; `hmin statements ID` prints one entry
  of this reference.
"""

#: what `statement_text` prints instead of the symbolic results when asked not to run them
SYMBOLIC_NOT_RUN = "**Symbolic side:** not run here (`hmin statements ID` runs and lists it)."

_SYMBOLIC_BLOCK = re.compile(r"^\*\*Symbolic side.*?(?=^\*\*Numeric check)", re.S | re.M)


def without_symbolic(text: str) -> str:
    r"""``text`` (the reference, or one entry) with every symbolic-results block replaced by `SYMBOLIC_NOT_RUN`.

    ``without_symbolic(statements_markdown(reg))`` equals ``statements_markdown(reg, symbolic=False)``:
    the fast staleness test compares everything but the symbolic results this way.

    Example:
        >>> without_symbolic("a\n\n**Symbolic side** (sympy): 2 claims\n\n- x\n\n**Numeric check:** y\n")
        'a\n\n**Symbolic side:** not run here (`hmin statements ID` runs and lists it).\n\n**Numeric check:** y\n'
    """
    return _SYMBOLIC_BLOCK.sub(SYMBOLIC_NOT_RUN + "\n\n", text)


_HEADER = """\
# The statements hmin checks

This file is generated from the registry of statements (`sims.registry`) by `python tools/reference.py`
(`make docs`); do not edit it by hand. `hmin statements` prints the list, `hmin statements ID` one
entry. A test fails when this file is stale.
"""


def statement_line(entry) -> str:
    """One line for the list: id, kind, title (or the error of a plug-in that could not be loaded).

    Example:
        >>> from hmin.sims.registry import Entry
        >>> statement_line(Entry("plugin:x", error="SyntaxError: bad"))
        'plugin:x  ERROR     could not be loaded: SyntaxError: bad'
    """
    if entry.statement is None:
        return f"{entry.id:<9} ERROR     could not be loaded: {entry.error}"
    st = entry.statement
    tail = "" if entry.check is not None else "  [numeric check: not registered]"
    if entry.source != "built-in":  # a row speaks for its own paper
        from hmin.sims.report import paper_of

        tail += f"  [paper: {paper_of({'source': entry.source, 'paper_ref': st.paper_ref})}]"
    return f"{entry.id:<9} {st.kind:<9} {st.title}{tail}"


def _fmt_num(v) -> str:
    try:
        return f"{float(v):.6g}"
    except (TypeError, ValueError):
        return str(v)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _one_line(s: str) -> str:
    return " ".join(str(s).split())


def _repo_path(path: str | None) -> str | None:
    """``path`` relative to the repository root when it lies inside it, else its file name."""
    if not path:
        return None
    p = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.name


def _source(source: str) -> str:
    """``entry.source`` with a plug-in file's path made relative to the repository (no machine paths)."""
    kind, _, rest = source.partition(" ")
    if kind == "plugin" and rest.endswith(".py"):
        return f"plugin {_repo_path(rest)}"
    return source


def _module_of(obj):
    mod = inspect.getmodule(obj)
    if mod is None:
        mod = sys.modules.get(getattr(obj, "__module__", "") or "")
    return mod


def _symbolic_section(results: list) -> list[str]:
    # here: the statements (sympy) load only when needed
    from hmin.theory import Role, Status

    out: list[str] = []
    if not results:
        return ["**Symbolic side:** none; the numeric check alone decides."]
    counts = {r: sum(1 for x in results if Role(x.role) is r) for r in Role}
    status_counts = {s: sum(1 for x in results if Role(x.role) is Role.CLAIM and x.status is s) for s in Status}
    by_status = ", ".join(f"{n} {s.value}" for s, n in status_counts.items() if n)
    out.append(f"**Symbolic side** (sympy): {_plural(counts[Role.CLAIM], 'claim')}"
               + (f" ({by_status})" if by_status else "")
               + f", {_plural(counts[Role.CONTROL], 'negative control')}, "
               + f"{_plural(counts[Role.REFUTED_DRAFT], 'refuted draft')}.")
    for role in Role:
        rows = [x for x in results if Role(x.role) is role]
        if not rows:
            continue
        out.append("")
        out.append(f"*{ROLE_HEADINGS[role.value]}:*")
        out.append("")
        for x in rows:
            line = f"- [{x.status.value}, {x.method}] {_one_line(x.claim)}"
            if role is Role.REFUTED_DRAFT:
                line += f"\n  - counterexample: {_one_line(x.detail)}"
                if x.witness:
                    line += "\n  - witness: " + ", ".join(f"{k} = {_fmt_num(v)}" for k, v in x.witness.items())
            out.append(line)
    return out


def _value(v) -> str:
    """A variant's value as text that does not depend on the process (functions by name, not address)."""
    if callable(v):
        return getattr(v, "__qualname__", getattr(v, "__name__", type(v).__name__))
    return repr(v)


def _numeric_section(entry) -> list[str]:
    chk = entry.check
    if chk is None:
        why = f" ({_one_line(entry.error)})" if entry.error else ""
        return [f"**Numeric check:** not registered{why}."]
    mod = _module_of(chk.measure)
    doc = inspect.cleandoc(mod.__doc__) if mod is not None and mod.__doc__ else ""
    where = _repo_path(getattr(mod, "__file__", None)) if mod is not None else None
    out = [f"**Numeric check** (`{where}`): what it measures and the rule of its verdict, from its docstring:"
           if where else "**Numeric check:** what it measures and the rule of its verdict, from its docstring:"]
    out += ["", "```text", doc or "(the check module has no docstring)", "```"]
    if getattr(chk, "hypotheses", None):
        out += ["", "Hypotheses decided before the measurement (runs that fail them are 'outside hypothesis'): "
                + "; ".join(f"*{h}*: {how}" for h, how in chk.hypotheses.items()) + "."]
    if chk.false_variants:
        out += ["", "False variants (each must make the verdict \"violated\" on a real measurement): "
                + "; ".join(f"{name} (`{', '.join(f'{k}={_value(v)}' for k, v in kw.items())}`)"
                            for name, kw in chk.false_variants.items()) + "."]
    return out


def statement_text(entry, *, symbolic: bool = True) -> str:
    """The full reference entry of one statement, as Markdown (what ``hmin statements ID`` prints).

    Args:
        entry: a `sims.registry.Entry`.
        symbolic: run the statement's symbolic checks (cached within the process; seconds each, T7 about
            20 s) and list them by role; False prints `SYMBOLIC_NOT_RUN` instead (the fast staleness test).

    Returns:
        The text, ending in a newline.
    """
    if entry.statement is None:
        return (f"## {entry.id}: could not be loaded\n\n- **source:** {entry.source}\n"
                f"- **error:** {_one_line(entry.error)}\n")
    st = entry.statement
    out = [f"## {st.id}: {st.title}", ""]
    out.append(f"- **kind:** {st.kind}: {KIND_MEANING.get(st.kind, '')}")
    from hmin.sims.report import paper_of

    out.append(f"- **paper:** {paper_of({'source': entry.source, 'paper_ref': st.paper_ref})}")
    theory_mod = _module_of(st.checks) if st.checks is not None else None
    where = _repo_path(getattr(theory_mod, "__file__", None)) if theory_mod is not None else None
    if entry.source != "built-in":
        out.append(f"- **source:** {_source(entry.source)}")
    if where:
        out.append(f"- **defined in:** `{where}`")
    if st.predictors and theory_mod is not None:
        out.append("- **predictors** (what the numeric check compares with): "
                   + ", ".join(f"`{theory_mod.__name__}.{p}`" for p in st.predictors))
    out += ["", f"**Statement.** {_one_line(st.text)}", ""]
    if st.hypotheses:
        out.append("**Hypotheses.**")
        out.append("")
        out += [f"{i}. {_one_line(h)}" for i, h in enumerate(st.hypotheses, 1)]
    else:
        out.append("**Hypotheses.** none stated.")
    out.append("")
    if symbolic:
        out += _symbolic_section(entry.symbolic_checks())
    else:
        out.append(SYMBOLIC_NOT_RUN)
    out.append("")
    out += _numeric_section(entry)
    return "\n".join(out).rstrip() + "\n"


def statements_markdown(registry, *, symbolic: bool = True) -> str:
    """The whole reference (``docs/statements.md``): header, conventions, the list, every statement.

    Args:
        registry: a `sims.registry.Registry` (e.g. ``registry(["my_plugin.py"])``; tools/reference.py documents
            the built-in statements and the shipped example plug-ins).
        symbolic: passed to `statement_text`.

    Returns:
        Markdown text, deterministic for a given registry and code.
    """
    parts = [_HEADER, CONVENTIONS, "## The statements", "", "```text"]
    parts += [statement_line(e) for e in registry.values()]
    parts += ["```", ""]
    for e in registry.values():
        parts.append(statement_text(e, symbolic=symbolic))
    return "\n".join(parts).rstrip() + "\n"
