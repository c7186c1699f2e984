"""The generated reference: docs/statements.md and docs/api.md are current, `hmin statements` prints
the same text, and entries without a check (or plug-ins that fail to load) are printed, not crashed on.

Regenerating docs/statements.md runs every statement's symbolic checks; they are cached within the
process and the theory tests run the same checks, so in the full suite this costs little extra.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from hmin.sims.apidoc import api_markdown, public_names
from hmin.sims.cli import main
from hmin.sims.reference import SYMBOLIC_NOT_RUN, statement_line, statement_text, statements_markdown, without_symbolic
from hmin.sims.registry import Entry, builtin_registry

ROOT = Path(__file__).resolve().parent.parent
STALE = "is stale: regenerate it with `python tools/reference.py` (make docs) and commit it"


def _tool():
    """tools/reference.py, the developer tool that writes the committed reference (not in the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hmin_tools_reference", ROOT / "tools" / "reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


docs_registry = _tool().docs_registry


def _section(text: str, heading: str) -> str:
    """The text of the Markdown section ``## heading`` up to the next ``## ``."""
    start = text.index(f"## {heading}")
    nxt = text.find("\n## ", start + 3)
    return text[start: nxt + 1 if nxt >= 0 else len(text)]


def test_statements_md_is_current_apart_from_symbolic_results():
    """Fast (default suite): everything but the symbolic results (statements, hypotheses, kinds, paper
    references, numeric checks' docstrings and false variants, the list, the conventions)."""
    committed = (ROOT / "docs" / "statements.md").read_text(encoding="utf-8")
    fresh = statements_markdown(docs_registry(ROOT), symbolic=False)
    assert fresh.count(SYMBOLIC_NOT_RUN) == sum(e.statement is not None for e in docs_registry(ROOT).values())
    assert without_symbolic(committed) == fresh, f"docs/statements.md {STALE}"


@pytest.mark.slow
def test_statements_md_is_current():
    """Complete: regenerates with every symbolic check run (all of T1..T10; about a minute on 2 cores)."""
    committed = (ROOT / "docs" / "statements.md").read_text(encoding="utf-8")
    assert statements_markdown(docs_registry(ROOT)) == committed, f"docs/statements.md {STALE}"


def test_without_symbolic_matches_symbolic_false():
    entry = builtin_registry()["T3"]  # cheap symbolic checks (under a second)
    assert without_symbolic(statement_text(entry)) == statement_text(entry, symbolic=False)
    assert "*Negative controls" in statement_text(entry)


def test_statements_md_has_every_statement_of_the_registry():
    text = (ROOT / "docs" / "statements.md").read_text(encoding="utf-8")
    for sid, entry in docs_registry(ROOT).items():
        assert f"\n## {sid}: " in text, sid
        if entry.statement is not None:
            sec = _section(text, f"{sid}: ")
            assert entry.statement.kind in sec and "**Statement.**" in sec and "Numeric check" in sec
    for word in ("q_X = h_min / 2", "L(theta) = (1/(2N))", "G = J J^T", "mu = (2/N) lambda_min(G)", "tau_eps"):
        assert word in text.split("## The statements")[0], word


def test_api_md_is_current_and_lists_every_public_name():
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = []
    for mod, names in public_names().items():
        sec = _section(committed, mod + "\n") if f"## {mod}\n" in committed else ""
        missing += [f"{mod}.{n}" for n in names if not re.search(rf"\*\*`?{re.escape(n)}[(`]", sec)]
    assert not missing, f"docs/api.md misses public names {missing}; it {STALE}"
    assert api_markdown() == committed, f"docs/api.md {STALE}"


def test_entry_without_check_and_broken_plugin_are_printed():
    st = builtin_registry()["T3"].statement
    text = statement_text(Entry("T3", st, None, error="no check here"), symbolic=False)
    assert text.startswith("## T3: ") and "**Numeric check:** not registered (no check here)." in text
    assert "**Statement.** " + " ".join(st.text.split()) in text
    assert "not registered" in statement_line(Entry("T3", st, None))
    broken = Entry("plugin:bad", error="SyntaxError: invalid syntax")
    assert "could not be loaded" in statement_text(broken) and "ERROR" in statement_line(broken)


def test_cli_list_and_one_statement(capsys):
    assert main(["statements"]) == 0
    out = capsys.readouterr().out
    for sid in builtin_registry():
        assert re.search(rf"^{sid}\s", out, re.M), sid
    assert main(["statements", "t6"]) == 0  # case-insensitive
    out = capsys.readouterr().out
    committed = (ROOT / "docs" / "statements.md").read_text(encoding="utf-8")
    assert out.startswith("## T6: ") and out == _section(committed, "T6: ").rstrip("\n") + "\n"


def test_cli_unknown_id_is_a_one_line_error(capsys):
    assert main(["statements", "T99"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown statement id 'T99'" in err and "T6" in err


PLUGIN = textwrap.dedent('''
    import dataclasses
    from hmin.theory import Statement
    from hmin.sims.registry import Check
    from hmin.sims.verdict import Verdict

    @dataclasses.dataclass(frozen=True)
    class S:
        n: int = 1

    STATEMENT = Statement(id="ZZ1", title="a test plug-in", kind="OURS", paper_ref="", text="one equals one.",
                          hypotheses=("none",))
    CHECK = Check(id="ZZ1", settings={"quick": S(1), "default": S(2), "full": S(3)},
                  measure=lambda ctx: {"n": ctx.settings.n}, judge=lambda m: None)
    ''')


def test_cli_plugin_is_listed_and_printed(tmp_path, capsys):
    f = tmp_path / "zz_plugin.py"
    f.write_text('"""ZZ1: measures nothing; the rule: always holds."""\n' + PLUGIN, encoding="utf-8")
    assert main(["statements", "--plugin", str(f)]) == 0
    # a plug-in's line names the paper it speaks for (here none: the author's own statement)
    assert re.search(r"^ZZ1\s+OURS\s+a test plug-in  \[paper: none \(the author's own statement\)\]$",
                     capsys.readouterr().out, re.M)
    assert main(["statements", "ZZ1", "--plugin", str(f)]) == 0
    out = capsys.readouterr().out
    assert "## ZZ1: a test plug-in" in out and "the rule: always holds" in out and "**Symbolic side:** none" in out
