"""The plug-in kit end to end: the plug-in of docs/plugins.md passes `hmin check-plugin` and runs through
`hmin verify --plugin`; broken plug-ins get messages naming file and line or key path; the field's statements
(hmin.sims.zoo) are registered, speak for their own papers, and sit in the report card's field section."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from hmin.sims.cli import main
from hmin.sims.contract import check_plugin
from hmin.sims.errors import InputError, PluginError
from hmin.sims.registry import FIELD_SOURCE, builtin_registry, json_round_trip, non_json_path, registry
from hmin.sims.report import paper_of, write_reports

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "plugins.md").read_text()


def _doc_example() -> str:
    m = re.search(r"<!-- plugin-example:start -->\n```python\n(.*?)```\n<!-- plugin-example:end -->", DOC, re.S)
    assert m, "docs/plugins.md lost its example block"
    return m.group(1)


_TINY = '''
import dataclasses
from hmin.theory import Statement
from hmin.sims.registry import Check
from hmin.sims.verdict import Verdict

@dataclasses.dataclass(frozen=True)
class S:
    n: int = 2

STATEMENT = Statement(id="{sid}", title="t", kind="OURS", paper_ref="Someone 2024, Thm 1", text="x", hypotheses=())

def measure(ctx):
{measure}

def judge(measured, *, bad=False):
{judge}

CHECK = Check(id="{sid}", settings={{"quick": S(), "default": S(), "full": S()}}, measure=measure, judge=judge,
              false_variants={{"bad": {{"bad": True}}}})
'''
_OK_MEASURE = '    return {"rows": [{"x": 1.0}, {"x": 2.0}]}'
_OK_JUDGE = '    return Verdict("{sid}", "violated" if bad else "holds", "rule", {{"n": len(measured["rows"])}}, power="p")'


def _tiny(tmp_path, sid="TINY1", measure=_OK_MEASURE, judge=_OK_JUDGE, name=None) -> Path:
    p = tmp_path / f"{name or sid.lower()}.py"
    p.write_text(_TINY.format(sid=sid, measure=measure, judge=judge.format(sid=sid)))
    return p


def test_the_documented_plugin_passes_check_plugin_and_verify(tmp_path, capsys):
    """Done-when of issue 19: a plug-in using sims.kernels, written from the docs alone."""
    p = tmp_path / "ker1.py"
    p.write_text(_doc_example())
    assert main(["check-plugin", str(p)]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith(("ok", "FAIL"))]
    assert lines and all(ln.startswith("ok") for ln in lines) and "meets the contract" in out
    assert any("false variant" in ln for ln in lines) and any("JSON round trip" in ln for ln in lines)
    rc = main(["verify", "--quick", "--plugin", str(p), "--only", "KER1", "--out", str(tmp_path / "o")])
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert rc == 0 and res["KER1"]["verdict"] == "holds"
    assert "Jacot" in (tmp_path / "o" / "report.md").read_text()  # the row names its own paper


def test_check_plugin_fails_on_arrays_and_a_variant_that_holds(tmp_path, capsys):
    arr = _tiny(tmp_path, measure='    import numpy as np\n    return {"rows": [{"x": 1.0}, {"x": np.ones(2)}]}')
    items = {i.name: i for i in check_plugin(str(arr))}
    assert not items["JSON types"].ok and "rows[1].x" in items["JSON types"].message
    weak = _tiny(tmp_path, sid="TINY2", judge='    return Verdict("{sid}", "holds", "rule", {{}}, power="p")')
    assert main(["check-plugin", str(weak)]) == 1
    out = capsys.readouterr().out
    assert "FAIL false variant 'bad': holds (must be violated)" in out and "does NOT meet" in out


def test_load_error_names_file_and_line_and_reaches_only(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("import dataclasses\n\nx = 1 / 0\n")
    items = check_plugin(str(bad))
    assert not items[0].ok and "ZeroDivisionError" in items[0].message and "broken.py:3" in items[0].message
    with pytest.raises(InputError) as e:
        registry([str(bad)], entry_points=False).parse_only("MYID")
    assert "failed to load" in str(e.value) and "broken.py:3" in str(e.value)
    assert main(["verify", "--quick", "--plugin", str(bad), "--only", "MYID", "--out", str(tmp_path / "o")]) == 2
    assert "broken.py:3" in capsys.readouterr().err


def test_raising_judge_prints_its_last_frame_and_where_the_traceback_is(tmp_path, capsys):
    p = _tiny(tmp_path, sid="TINY3", judge='    raise RuntimeError("judge exploded")')
    out = tmp_path / "o"
    assert main(["verify", "--quick", "--plugin", str(p), "--only", "TINY3", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "judge exploded" in printed and "tiny3.py:17 in judge" in printed
    assert f"{out}/results.json" in printed and "traceback" in printed
    row = json.loads((out / "results.json").read_text())["TINY3"]
    assert "RuntimeError" in row["traceback"] and "tiny3.py" in row["traceback"]


def test_verify_judges_the_stored_measurement_and_names_a_non_json_key_path(tmp_path, capsys):
    # the judge sees lists (as after a JSON round trip), never the ndarray measure returned
    p = _tiny(tmp_path, sid="TINY4", measure='    import numpy as np\n    return {"rows": [{"x": np.arange(2.0)}]}',
              judge='    assert type(measured["rows"][0]["x"]) is list, type(measured["rows"][0]["x"])\n' + _OK_JUDGE)
    assert main(["verify", "--quick", "--plugin", str(p), "--only", "TINY4", "--out", str(tmp_path / "o")]) == 0
    q = _tiny(tmp_path, sid="TINY5", measure='    return {"rows": [{"x": 1.0}, {"f": print}]}')
    assert main(["verify", "--quick", "--plugin", str(q), "--only", "TINY5", "--out", str(tmp_path / "o")]) == 1
    row = json.loads((tmp_path / "o" / "results.json").read_text())["TINY5"]
    assert "rows[1].f" in row["error"] and "builtin_function_or_method" in row["error"]
    assert non_json_path({"a": {"b": (1, [2, {3: 4}])}}) == "a.b[1][1].3"
    assert json_round_trip({"a": np.float64(1.5), "b": float("nan")}) == {"a": 1.5, "b": None}
    with pytest.raises(PluginError, match="key path 'a'"):
        json_round_trip({"a": object()}, "X")


ZOO = [sid for sid, e in builtin_registry().items() if e.source.startswith(FIELD_SOURCE)]


def test_the_field_has_five_published_theorems_each_naming_its_paper():
    assert len(ZOO) == 5
    for sid in ZOO:
        e = builtin_registry()[sid]
        assert not e.error and e.statement.paper_ref and e.statement.kind == "OURS", sid
        assert e.check.false_variants and e.statement.checks is not None
        assert paper_of({"source": e.source, "paper_ref": e.statement.paper_ref}) == e.statement.paper_ref
    assert paper_of({"source": "built-in", "paper_ref": "Thm 1"}).startswith("Wang & Gu")


def test_report_card_has_a_field_section_after_the_built_ins(tmp_path):
    reg = builtin_registry()
    results = {"meta": {"preset": "quick"}}
    for sid in ["T1", *ZOO]:
        st = reg[sid].statement
        results[sid] = {"title": st.title, "kind": st.kind, "paper_ref": st.paper_ref, "source": reg[sid].source,
                        "verdict": "holds", "symbolic": {"status": "proved"}}
    write_reports(results, tmp_path)
    md = (tmp_path / "report.md").read_text()
    head = md.index("### The field")
    assert md.index("[T1]") < head < min(md.index(f"[{sid}]") for sid in ZOO)
    assert "Wang & Gu (arXiv 2506.24120)" in md[:head] and "Du, Zhai, Poczos & Singh" in md[head:]
    assert "id='field'" in (tmp_path / "report.html").read_text()


def test_hmin_statements_names_each_field_row_s_paper(capsys):
    assert main(["statements"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("OS20"))
    assert "[paper: Oymak & Soltanolkotabi" in line
    assert "[paper:" not in next(ln for ln in out.splitlines() if ln.startswith("T1 "))
