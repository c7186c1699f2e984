"""The verify framework: verdict plumbing, crash isolation, merging, seeds, resume, exit status, reports."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import hmin.sims.verify as verify
from hmin import theory
from hmin.sims.cli import main
from hmin.sims.registry import Check, Entry, Registry
from hmin.sims.verdict import HOLDS, VIOLATED, Verdict


@dataclasses.dataclass(frozen=True)
class _S:
    n: int = 2


def _entry(sid, verdict=HOLDS, crash=False, by_seed=None):
    def measure(ctx):
        if crash:
            raise RuntimeError("boom")
        return {"x": [1.0, 2.0], "preset": ctx.preset, "seed": ctx.seed}

    def judge(measured, **variant):
        v = variant.get("force", (by_seed or {}).get(measured["seed"], verdict))
        return Verdict(sid, v, "x is what it is", {"x_max": max(measured["x"])}, {"x_max": "largest x"})

    def plot(measured, v, ctx):
        p = ctx.fig(f"{sid}.png")
        p.write_bytes(b"png")
        return [ctx.rel(p)]

    st = theory.Statement(id=sid, title=f"title {sid}", kind="EXACT", paper_ref="", text=f"{sid} text", hypotheses=(),
                          checks=lambda: [theory.proved(f"{sid} claim", "0")])
    chk = Check(id=sid, settings={p: _S() for p in ("quick", "default", "full")}, measure=measure, judge=judge,
                plot=plot, false_variants={"forced": {"force": VIOLATED}})
    return Entry(sid, st, chk)


@pytest.fixture
def fake_reg(monkeypatch):
    reg = Registry([_entry("T1"), _entry("T2", VIOLATED), _entry("T3", crash=True),
                    _entry("T5", by_seed={0: HOLDS, 1: VIOLATED, 2: HOLDS})])
    monkeypatch.setattr("hmin.sims.registry.registry", lambda plugins=(), **kw: reg)
    return reg


def test_run_verify_records_every_outcome(fake_reg, tmp_path):
    res = verify.run_verify("quick", tmp_path, reg=fake_reg, only="T1,T2,T3")
    assert res["T1"]["verdict"] == "holds" and res["T1"]["numbers"] == {"x_max": 2.0}
    assert res["T1"]["labels"] == {"x_max": "largest x"}
    assert res["T2"]["verdict"] == "violated"
    assert res["T3"]["status"] == "error" and "boom" in res["T3"]["error"]
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert set(on_disk) >= {"T1", "T2", "T3", "meta"} and on_disk["meta"]["state"] == "complete"
    assert (tmp_path / "figures" / "T1.png").exists()
    assert json.loads((tmp_path / "measured" / "T1.json").read_text())["preset"] == "quick"
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    for text in ("holds", "violated", "error", "figures/T1.png", "x is what it is", "largest x"):
        assert text in md and text in html
    assert verify.exit_status(res, ["T1", "T2"], strict=False) == 0
    assert verify.exit_status(res, ["T1", "T2"], strict=True) == 1
    assert verify.exit_status(res, ["T1", "T3"], strict=False) == 1


def test_an_entry_without_a_check_is_an_error_row(fake_reg, tmp_path):
    reg = Registry([*fake_reg.values(), Entry("T4", None, None, "built-in", (), "hmin.sims.checks.t04 failed to import")])
    res = verify.run_verify("quick", tmp_path, only="T1,T4", reg=reg)
    assert res["T1"]["verdict"] == "holds"
    assert res["T4"]["status"] == "error" and "failed to import" in res["T4"]["error"]


def test_only_merges_and_keeps_other_rows(fake_reg, tmp_path):
    verify.run_verify("quick", tmp_path, only="T1,T2", reg=fake_reg)
    res = verify.run_verify("quick", tmp_path, only="t2", reg=fake_reg)
    assert "T1" in res and res["meta"]["ids_last_run"] == ["T2"]


def test_seeds_give_per_seed_verdicts_and_a_combined_one(fake_reg, tmp_path):
    res = verify.run_verify("quick", tmp_path, only="T1,T2,T5", seeds="0-2", reg=fake_reg)
    assert res["T1"]["combined"]["verdict"] == "holds"
    assert res["T2"]["combined"]["verdict"] == "violated"
    t5 = res["T5"]
    assert t5["verdict"] == "holds"  # seed 0's
    assert t5["combined"]["per_seed"] == {"0": "holds", "1": "violated", "2": "holds"}
    assert t5["combined"]["verdict"] == "inconclusive" and "2/3" in t5["combined"]["stability"]
    md = (tmp_path / "report.md").read_text()
    assert "seeds" in md and "2 holds, 1 violated -> inconclusive" in md
    # the report card shows the first seed's figures: the other seeds draw none unless asked
    assert (tmp_path / "figures" / "T5.png").exists()
    assert not (tmp_path / "seeds" / "seed1" / "figures" / "T5.png").exists() and res["T5"]["seeds"]["1"]["figures"] == []
    res = verify.run_verify("quick", tmp_path / "all", only="T5", seeds="0-1", reg=fake_reg, all_figures=True)
    assert (tmp_path / "all" / "seeds" / "seed1" / "figures" / "T5.png").exists()
    assert res["T5"]["seeds"]["1"]["figures"] == ["seeds/seed1/figures/T5.png"]


@pytest.mark.parametrize("text,expect", [("0-4", [0, 1, 2, 3, 4]), ("3", [3]), ("1-2,7,2", [1, 2, 7])])
def test_parse_seeds(text, expect):
    assert verify.parse_seeds(text) == expect


@pytest.mark.parametrize("text", ["-1", "a-b", "4-2", "", "1,,x"])
def test_parse_seeds_refuses(text):
    with pytest.raises(verify.InputError):
        verify.parse_seeds(text)


def test_combine_rule():
    assert verify.combine_verdicts(["holds", "holds"]) == "holds"
    assert verify.combine_verdicts(["violated", "holds", "violated", "holds"]) == "violated"
    assert verify.combine_verdicts(["violated", "holds", "holds"]) == "inconclusive"
    assert verify.combine_verdicts(["inconclusive", "holds"]) == "inconclusive"


def test_cli_exit_codes(fake_reg, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("hmin.sims.registry.registry", lambda plugins=(), **kw: fake_reg)
    assert main(["verify", "--quick", "--only", "T1,T2", "--out", str(tmp_path)]) == 0
    assert "T2" in capsys.readouterr().out
    assert main(["verify", "--quick", "--only", "T1,T2", "--strict", "--out", str(tmp_path)]) == 1
    assert main(["verify", "--quick", "--only", "T3", "--out", str(tmp_path)]) == 1
    assert main(["verify", "--only", "T99", "--out", str(tmp_path)]) == 2
    assert "unknown statement id" in capsys.readouterr().err
    assert main(["verify", "--seeds", "3-1", "--out", str(tmp_path)]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_cli_unknown_option_exits_nonzero():
    with pytest.raises(SystemExit) as e:
        main(["verify", "--bogus"])
    assert e.value.code == 2


@pytest.mark.parametrize("results,status", [
    ([("claim", "proved"), ("control", "disproved")], "proved"),
    ([("claim", "proved"), ("control", "proved")], "error"),
    ([("claim", "disproved"), ("control", "disproved")], "disproved"),
    ([("claim", "unproven")], "unproven"),
    ([("claim", "proved"), ("refuted draft", "disproved")], "proved"),
    ([("claim", "proved"), ("refuted draft", "unproven")], "error"),
    ([], "none"),
])
def test_symbolic_roles_decide_the_status(results, status):
    out = verify.summarise_symbolic([{"role": r, "status": s} for r, s in results])
    assert out["status"] == status
    assert out["counts"]["controls"] == sum(r == "control" for r, _ in results)
    assert out["counts"]["drafts"] == sum(r == "refuted draft" for r, _ in results)


_SLOW_PLUGIN = '''
import dataclasses, os, time
from hmin.theory import Statement, proved
from hmin.sims.registry import Check
from hmin.sims.verdict import Verdict

@dataclasses.dataclass(frozen=True)
class S:
    n: int = 1

def _make(sid, delay):
    def measure(ctx):
        with open(os.environ["HMIN_TEST_LOG"], "a") as f:
            f.write(sid + "\\n")
        time.sleep(delay)
        return {{"ok": 1}}
    def judge(m, *, force=None):
        return Verdict(sid, force or "holds", "always", {{"ok": m["ok"]}})
    return Check(id=sid, settings={{p: S() for p in ("quick", "default", "full")}}, measure=measure, judge=judge,
                 false_variants={{"f": {{"force": "violated"}}}})

STATEMENT = Statement(id="{sid}", title="t", kind="EXACT", paper_ref="", text="x", hypotheses=(),
                      checks=lambda: [proved("x", "0")])
CHECK = _make("{sid}", {delay})
'''


def test_interrupted_verify_resumes_what_it_finished(tmp_path, monkeypatch):
    """Kill a run mid-way (SIGKILL, no clean-up); the same command again reuses the finished check."""
    plugs = []
    for sid, delay in (("FAST1", 0.0), ("SLOW1", 60.0)):
        p = tmp_path / f"{sid.lower()}.py"
        p.write_text(_SLOW_PLUGIN.format(sid=sid, delay=delay))
        plugs += ["--plugin", str(p)]
    log = tmp_path / "log.txt"
    out = tmp_path / "out"
    env = {**os.environ, "HMIN_TEST_LOG": str(log), "HMIN_QUIET": "1"}
    cmd = [sys.executable, "-m", "hmin", "verify", "--quick", "--only", "FAST1,SLOW1", "--out", str(out), *plugs]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and "SLOW1" in log.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert "SLOW1" in log.read_text(), "the run never reached the slow check"
    partial = json.loads((out / "results.json").read_text())
    assert partial["meta"]["state"] == "running" and partial["FAST1"]["verdict"] == "holds"
    # again, with the slow check made fast: FAST1 is reused (not measured again), SLOW1 runs
    (tmp_path / "slow1.py").write_text(_SLOW_PLUGIN.format(sid="SLOW1", delay=0.0))
    log.write_text("")
    monkeypatch.setenv("HMIN_TEST_LOG", str(log))
    assert main(cmd[3:]) == 0  # the same arguments, in this process
    assert log.read_text().split() == ["SLOW1"]
    res = json.loads((out / "results.json").read_text())
    assert res["meta"]["state"] == "complete" and res["meta"]["reused_checks"] == 1
    assert res["SLOW1"]["verdict"] == "holds"
    # a complete run is measured afresh next time
    log.write_text("")
    assert main(cmd[3:]) == 0
    assert sorted(log.read_text().split()) == ["FAST1", "SLOW1"]


def test_atomic_writes_are_readable_by_others(tmp_path):
    import stat

    from hmin.sims.store import atomic_write_text

    p = atomic_write_text(tmp_path / "a.txt", "x")
    mode = stat.S_IMODE(os.stat(p).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask and mode & stat.S_IRGRP


def test_confirmation_table_on_fresh_seeds(fake_reg, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(verify, "FRESH_SEEDS", "7-8")
    monkeypatch.setattr("hmin.sims.registry.registry", lambda plugins=(), **kw: fake_reg)
    assert main(["verify", "--quick", "--only", "T1,T2", "--seeds", "0-1", "--confirm", "--out", str(tmp_path)]) == 0
    conf = json.loads((tmp_path / "confirmation" / "results.json").read_text())
    assert conf["meta"]["seeds"] == [7, 8] and conf["T1"]["combined"]["verdict"] == "holds"
    md = (tmp_path / "report.md").read_text()
    assert "Fresh-seed confirmation" in md and "| T2 | 7: violated, 8: violated | violated | violated | yes |" in md
    assert "Fresh-seed confirmation" in (tmp_path / "report.html").read_text()


def test_outside_hypothesis_verdict_is_carried_through(tmp_path):
    """The fourth verdict: worst / combine leave it out, exit status ignores it, the report shows the combined
    verdict as the headline (never seed 0's) and the fresh seeds beside it."""
    from hmin.sims import report
    from hmin.sims.verdict import HOLDS, OUTSIDE, VIOLATED, Verdict, VerdictName, worst

    assert OUTSIDE == "outside hypothesis" and isinstance(HOLDS, str) and HOLDS == "holds"
    assert Verdict("X", "outside hypothesis", "r").verdict is VerdictName.OUTSIDE
    assert json.loads(json.dumps(Verdict("X", OUTSIDE, "r").to_dict()))["verdict"] == "outside hypothesis"
    with pytest.raises(ValueError, match="outside hypothesis"):
        Verdict("X", "outside", "r")
    assert worst([HOLDS, OUTSIDE]) == HOLDS and worst([OUTSIDE, VIOLATED]) == VIOLATED
    assert verify.combine_verdicts(["outside hypothesis", "violated", "holds", "holds"]) == "inconclusive"
    assert verify.combine_verdicts(["outside hypothesis", "violated"]) == "violated"
    row = {"id": "T6", "title": "t", "verdict": "holds", "seed": 0,
           "combined": {"verdict": "outside hypothesis", "per_seed": {"0": "holds", "1": "outside hypothesis"}}}
    res = {"T6": row, "meta": {"preset": "quick", "seeds": [0, 1], "combined_rule": verify.COMBINED_RULE}}
    assert verify.exit_status(res, ["T6"], strict=True) == 0
    (tmp_path / "confirmation").mkdir()
    (tmp_path / "confirmation" / "results.json").write_text(json.dumps(
        {"T6": {"verdict": "holds", "combined": {"verdict": "holds", "per_seed": {"9": "holds"}}}, "meta": {}}))
    report.write_reports(res, tmp_path)
    md = (tmp_path / "report.md").read_text()
    line = next(x for x in md.splitlines() if x.startswith("| [T6]"))
    assert "**outside hypothesis**" in line and line.rstrip("| ").count("holds") >= 1  # headline, then fresh
    assert "seed 0's: holds" in md
    assert "outside hypothesis" in (tmp_path / "report.html").read_text()
