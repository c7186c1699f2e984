"""The registry of statements: one contract test swept over every registered statement (in the style of
optax's alias tests and diffrax's solver sweep), and the plug-in path end to end.

Expected values come from the object under test (its settings, its false variants, its symbolic
results' roles), never from a list typed into the test: a statement added to hmin is tested here
with no edit.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hmin import theory
from hmin.sims.cli import main
from hmin.sims.errors import InputError, PluginError
from hmin.sims.registry import PRESETS, Check, builtin_registry, registry, stream_seed
from hmin.sims.store import to_jsonable
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "relu_ntk_slope.py"
REG = builtin_registry()
IDS = list(REG)


# ------------------------------------------------------------------------------------------------
# the registry as a whole
# ------------------------------------------------------------------------------------------------


def test_every_statement_has_a_check_and_every_check_a_statement():
    errors = {sid: e.error for sid, e in REG.items() if e.error}
    assert not errors
    assert set(theory.STATEMENTS) <= set(REG)
    assert all(REG[sid].statement.id == sid == REG[sid].check.id for sid in REG)


def test_report_order_is_derived_from_ids():
    assert IDS == sorted(IDS, key=theory.statement_sort_key)
    assert IDS[:10] == [f"T{i}" for i in range(1, 11)]


def test_random_streams_are_distinct_per_statement_and_seed():
    seeds = {(sid, s): stream_seed(s, sid) for sid in IDS for s in range(5)}
    assert len(set(seeds.values())) == len(seeds)


def test_no_hand_kept_list_of_statement_ids_in_the_code():
    """No list, tuple, set or dict in sims/ or theory/ holds two or more statement ids (report order, CLI
    choices, check tables are derived from the registry). Docstrings and messages are text, not lists."""
    import ast
    import re

    is_id = re.compile(r"[TC]\d+")
    offenders = []
    for path in list((REPO / "sims").rglob("*.py")) + list((REPO / "theory").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            elts = (node.keys if isinstance(node, ast.Dict) else node.elts
                    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [])
            ids = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                   and is_id.fullmatch(e.value)]
            if len(ids) >= 2:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {ids}")
    assert not offenders


def test_parse_only_is_case_insensitive_and_refuses_unknown_ids():
    assert REG.parse_only("t4, T2") == ["T2", "T4"]
    with pytest.raises(InputError, match="unknown statement id"):
        REG.parse_only("T4,T99")


# ------------------------------------------------------------------------------------------------
# the contract, swept over every registered statement
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sid", IDS)
def test_settings_are_one_frozen_dataclass_for_every_preset(sid):
    chk = REG[sid].check
    assert set(chk.settings) == set(PRESETS)
    (cls,) = {type(s) for s in chk.settings.values()}
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    for preset, s in chk.settings.items():
        json.dumps(to_jsonable(dataclasses.asdict(s)))  # JSON-able, so results can record them
        ctx = REG[sid].context(preset, "unused", 3)
        assert ctx.settings is s and ctx.stream == stream_seed(3, sid)


@pytest.mark.parametrize("sid", IDS)
def test_symbolic_roles(sid):
    results = REG[sid].symbolic_checks()
    for r in results:
        assert isinstance(r.role, theory.Role)
        if r.role is not theory.Role.CLAIM:  # negative controls and refuted drafts must be refuted
            assert r.status is theory.Status.DISPROVED, r.claim
    if REG[sid].statement.kind == "QUESTION":
        assert not results


@pytest.mark.parametrize("sid", IDS)
def test_judge_round_trip_and_false_variants(sid, quick_measurement):
    """judge gives a verdict; a JSON round trip of the measurement does not change it; every false
    variant turns it into "violated"."""
    entry = REG[sid]
    measured = quick_measurement(sid)
    v = entry.check.judge(measured)
    assert isinstance(v, Verdict) and v.id == sid and v.verdict in (HOLDS, VIOLATED, INCONCLUSIVE)
    back = json.loads(json.dumps(to_jsonable(measured)))
    v2 = entry.check.judge(back)
    assert v2.verdict == v.verdict
    assert json.dumps(to_jsonable(v2.numbers), sort_keys=True) == json.dumps(to_jsonable(v.numbers), sort_keys=True)
    assert entry.check.false_variants, f"{sid} declares no false variant"
    for name, kwargs in entry.check.false_variants.items():
        assert entry.check.judge(measured, **kwargs).verdict == VIOLATED, name


# ------------------------------------------------------------------------------------------------
# plug-ins
# ------------------------------------------------------------------------------------------------

_MINIMAL = '''
import dataclasses
from hmin.theory import Statement, proved, negative_control, disproved
from hmin.sims.registry import Check
from hmin.sims.verdict import Verdict

@dataclasses.dataclass(frozen=True)
class S:
    n: int = 3

STATEMENT = Statement(id="{sid}", title="one plus one", kind="EXACT", paper_ref="", text="1 + 1 = 2",
                      hypotheses=(), checks=lambda: [proved("1 + 1 = 2", "sympy: 0"),
                                                     negative_control(disproved("1 + 1 = 3", "sympy: -1", margin=-1.0))])

def measure(ctx):
    return {{"sums": [1 + 1 for _ in range(ctx.settings.n)], "stream": ctx.stream}}

def judge(measured, *, target=2):
    {judge_body}

CHECK = Check(id="{sid}", settings={{"quick": S(2), "default": S(), "full": S(10)}}, measure=measure, judge=judge,
              false_variants={{"one plus one is three": {{"target": 3}}}})
'''
_GOOD_JUDGE = ('ok = all(s == target for s in measured["sums"]); '
               'return Verdict("{sid}", "holds" if ok else "violated", "every sum equals the target", '
               '{{"n_sums": len(measured["sums"])}}, {{"n_sums": "sums computed"}})')


def _plugin(tmp_path, name="plug", sid="PLUS1", judge_body=_GOOD_JUDGE, text=None):
    p = tmp_path / f"{name}.py"
    p.write_text(text if text is not None else _MINIMAL.format(sid=sid, judge_body=judge_body.format(sid=sid)))
    return p


def test_plugin_file_gets_a_row_everywhere(tmp_path, capsys):
    p = _plugin(tmp_path)
    out = tmp_path / "out"
    assert main(["verify", "--quick", "--plugin", str(p), "--only", "PLUS1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "PLUS1" in printed and "holds" in printed
    res = json.loads((out / "results.json").read_text())
    row = res["PLUS1"]
    assert row["verdict"] == "holds" and row["symbolic"]["status"] == "proved"
    assert row["symbolic"]["counts"]["controls_refuted"] == 1
    assert row["numbers"] == {"n_sums": 2} and row["labels"] == {"n_sums": "sums computed"}
    assert row["source"].startswith("plugin ")
    for f in ("report.md", "report.html"):
        assert "PLUS1" in (out / f).read_text() and "sums computed" in (out / f).read_text()


def test_plugin_module_name_and_entry_point(tmp_path, monkeypatch):
    pkg = tmp_path / "site"
    pkg.mkdir()
    _plugin(pkg, name="hmin_test_plugin_mod", sid="PLUS2")
    dist = pkg / "hmin_test_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hmin-test-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[hmin.statements]\nplus2 = hmin_test_plugin_mod\n")
    monkeypatch.syspath_prepend(str(pkg))
    reg = registry()
    assert "PLUS2" in reg and reg["PLUS2"].source.startswith("entry point plus2")
    reg2 = registry(["hmin_test_plugin_mod"], entry_points=False)
    assert reg2["PLUS2"].source == "plugin hmin_test_plugin_mod"
    assert list(reg2)[-1] == "PLUS2"  # after the built-ins


@pytest.mark.parametrize("case,body,expect", [
    ("import error", "import no_such_package_for_hmin\n", "ModuleNotFoundError"),
    ("missing CHECK", "from hmin.theory import Statement\nSTATEMENT = Statement(id='X9', title='t', kind='OURS', "
                      "paper_ref='', text='x', hypotheses=())\n", "defines no CHECK"),
    ("bad settings", "import dataclasses\nfrom hmin.theory import Statement\nfrom hmin.sims.registry import Check\n"
                     "STATEMENT = Statement(id='X9', title='t', kind='OURS', paper_ref='', text='x', hypotheses=())\n"
                     "CHECK = Check(id='X9', settings={'quick': 1}, measure=print, judge=print)\n", "settings must give"),
])
@pytest.mark.filterwarnings("ignore:`import (sims|theory)` is deprecated:DeprecationWarning")  # a 0.1 plug-in (test_packaging)
def test_broken_plugin_is_an_error_row_not_a_crash(tmp_path, capsys, case, body, expect):
    p = _plugin(tmp_path, name="broken", text=body)
    good = _plugin(tmp_path, name="good")
    out = tmp_path / "out"
    rc = main(["verify", "--quick", "--plugin", str(p), "--plugin", str(good), "--only", "PLUS1", "--out", str(out)])
    assert rc == 1
    res = json.loads((out / "results.json").read_text())
    assert res["PLUS1"]["verdict"] == "holds"
    row = res["plugin:broken"]
    assert row["status"] == "error" and expect in row["error"] and "broken" in row["source"]
    assert "plugin:broken" in capsys.readouterr().out


def test_judge_that_raises_is_an_error_row(tmp_path):
    p = _plugin(tmp_path, judge_body='raise RuntimeError("judge exploded")')
    res = json.loads(json.dumps(__import__("hmin.sims.verify", fromlist=["x"]).run_verify(
        "quick", tmp_path / "out", only="PLUS1", plugins=[str(p)])))
    assert res["PLUS1"]["status"] == "error" and "judge exploded" in res["PLUS1"]["error"]


def test_plugin_id_colliding_with_a_builtin_is_refused(tmp_path, capsys):
    p = _plugin(tmp_path, sid="T4")
    assert main(["verify", "--quick", "--plugin", str(p), "--only", "T4", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "T4" in err and "already registered" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    with pytest.raises(PluginError):
        registry([str(p)], entry_points=False)


def test_missing_plugin_file_is_one_line(tmp_path, capsys):
    assert main(["verify", "--plugin", str(tmp_path / "nope.py"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_contract_is_enforced_at_construction():
    @dataclasses.dataclass
    class Mutable:
        n: int = 1

    with pytest.raises(PluginError, match="frozen"):
        Check(id="X", settings={p: Mutable() for p in PRESETS}, measure=print, judge=print)
    with pytest.raises(InputError, match="kind must be one of"):
        theory.Statement(id="X", title="t", kind="MAYBE", paper_ref="", text="x", hypotheses=())

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        n: int = 1

    settings = {p: Frozen() for p in PRESETS}
    with pytest.raises(PluginError, match="shares must be a tuple"):
        Check(id="X", settings=settings, measure=print, judge=print, shares="the sweep")  # a string, not a tuple
    assert Check(id="X", settings=settings, measure=print, judge=print, shares=["sweep"]).shares == ("sweep",)


# ------------------------------------------------------------------------------------------------
# the worked example: through the CLI, and copied into hmin itself
# ------------------------------------------------------------------------------------------------


def test_worked_example_through_the_cli(tmp_path, capsys):
    """``hmin verify --plugin examples/relu_ntk_slope.py --only RELU1``: a row with a verdict in every output;
    its false variant (slope 2, T4's exponent) is violated on the same measurement."""
    out = tmp_path / "out"
    assert main(["verify", "--quick", "--plugin", str(EXAMPLE), "--only", "RELU1", "--out", str(out)]) == 0
    assert "RELU1" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    row = res["RELU1"]
    assert row["verdict"] == "holds", row["numbers"]
    assert row["symbolic"]["status"] == "proved" and row["symbolic"]["counts"]["controls_refuted"] == 1
    assert abs(row["numbers"]["slope_closed_form"] - 1.0) < 0.1
    assert (out / row["figures"][0]).exists()
    for f in ("report.md", "report.html"):
        assert "RELU1" in (out / f).read_text()
    entry = registry([str(EXAMPLE)], entry_points=False)["RELU1"]
    measured = json.loads((out / "measured" / "RELU1.json").read_text())
    assert entry.check.judge(measured).verdict == HOLDS
    assert entry.check.judge(measured, slope=2.0).verdict == VIOLATED


def test_copying_the_example_into_hmin_adds_it_with_no_other_edit(tmp_path):
    """A copy of the repository's packages with the example copied into sims/checks/: `hmin verify` lists it."""
    # the installed layout: hmin/, with the folders sims/ and theory/ as hmin/sims and hmin/theory
    shutil.copytree(REPO / "hmin", tmp_path / "hmin", ignore=shutil.ignore_patterns("__pycache__"))
    for pkg in ("sims", "theory"):
        shutil.copytree(REPO / pkg, tmp_path / "hmin" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(EXAMPLE, tmp_path / "hmin" / "sims" / "checks" / "relu_ntk_slope.py")
    code = textwrap.dedent("""
        from hmin.sims.registry import builtin_registry
        reg = builtin_registry()
        assert not [e.error for e in reg.values() if e.error], [e.error for e in reg.values() if e.error]
        print(",".join(reg))
    """)
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().split(",")[-1] == "RELU1"
