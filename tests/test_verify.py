"""The verify framework: verdict plumbing, crash isolation, merging, exit status, reports."""

import json
import sys
import types

import pytest

import sims.checks as checks
import sims.verify as verify
from sims.cli import main
from sims.verdict import HOLDS, VIOLATED, Verdict


def _fake(name, verdict=HOLDS, crash=False):
    mod = types.ModuleType(name)
    mod.ID, mod.TITLE = name, f"fake {name}"

    def measure(ctx):
        if crash:
            raise RuntimeError("boom")
        return {"x": [1.0, 2.0], "preset": ctx.preset}

    def judge(measured, **variant):
        return Verdict(name, variant.get("force", verdict), "x is what it is", {"x_max": max(measured["x"])})

    def plot(measured, v, ctx):
        p = ctx.fig(f"{name}.png")
        p.write_bytes(b"png")
        return [ctx.rel(p)]

    mod.measure, mod.judge, mod.plot = measure, judge, plot
    return mod


@pytest.fixture
def fake_checks(monkeypatch):
    mods = {"T1": _fake("fake_t1"), "T2": _fake("fake_t2", VIOLATED), "T3": _fake("fake_t3", crash=True)}
    for sid, m in mods.items():
        monkeypatch.setitem(sys.modules, m.__name__, m)
    monkeypatch.setattr(checks, "CHECKS", {sid: m.__name__ for sid, m in mods.items()})
    monkeypatch.setattr(verify, "CHECKS", checks.CHECKS)
    monkeypatch.setattr(verify, "_symbolic", lambda sid: {"status": "proved", "results": [
        {"claim": f"{sid} claim", "status": "proved", "detail": "0", "margin": None, "method": "sympy"}]})
    monkeypatch.setattr(verify, "_statement_info", lambda sid: {"kind": "EXACT", "title": f"title {sid}"})
    return mods


def test_run_verify_records_every_outcome(fake_checks, tmp_path):
    res = verify.run_verify("quick", tmp_path)
    assert res["T1"]["verdict"] == "holds" and res["T1"]["numbers"] == {"x_max": 2.0}
    assert res["T2"]["verdict"] == "violated"
    assert res["T3"]["status"] == "error" and "boom" in res["T3"]["error"]
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert set(on_disk) >= {"T1", "T2", "T3", "meta"}
    assert (tmp_path / "figures" / "fake_t1.png").exists()
    assert json.loads((tmp_path / "measured" / "T1.json").read_text())["preset"] == "quick"
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    for text in ("holds", "violated", "error", "figures/fake_t1.png", "x is what it is"):
        assert text in md and text in html
    assert verify.exit_status(res, ["T1", "T2"], strict=False) == 0
    assert verify.exit_status(res, ["T1", "T2"], strict=True) == 1
    assert verify.exit_status(res, ["T1", "T3"], strict=False) == 1


def test_a_check_that_cannot_be_imported_is_an_error_row(fake_checks, monkeypatch, tmp_path):
    monkeypatch.setitem(checks.CHECKS, "T4", "sims.checks.no_such_module")
    res = verify.run_verify("quick", tmp_path, only="T1,T4")
    assert res["T1"]["verdict"] == "holds"
    assert res["T4"]["status"] == "error" and "no_such_module" in res["T4"]["error"]


def test_only_merges_and_keeps_other_rows(fake_checks, tmp_path):
    verify.run_verify("quick", tmp_path, only="T1,T2")
    res = verify.run_verify("quick", tmp_path, only="t2")
    assert "T1" in res and res["meta"]["ids_last_run"] == ["T2"]


def test_cli_exit_codes(fake_checks, tmp_path, capsys):
    assert main(["verify", "--quick", "--only", "T1,T2", "--out", str(tmp_path)]) == 0
    assert "T2" in capsys.readouterr().out
    assert main(["verify", "--quick", "--only", "T1,T2", "--strict", "--out", str(tmp_path)]) == 1
    assert main(["verify", "--quick", "--only", "T3", "--out", str(tmp_path)]) == 1
    assert main(["verify", "--only", "T99", "--out", str(tmp_path)]) == 2
    assert "unknown statement id" in capsys.readouterr().err


def test_cli_unknown_option_exits_nonzero(capsys):
    with pytest.raises(SystemExit) as e:
        main(["verify", "--bogus"])
    assert e.value.code == 2


class _R:
    def __init__(self, claim, status):
        self.claim, self.status = claim, status

    def to_dict(self):
        return {"claim": self.claim, "status": self.status, "detail": "", "margin": None, "method": "sympy"}


class _St:
    def __init__(self, results):
        self.results = results

    def symbolic_checks(self):
        return self.results


@pytest.mark.parametrize("results,status", [
    ([_R("true claim", "proved"), _R("[false variant, must be refuted] x", "disproved")], "proved"),
    ([_R("true claim", "proved"), _R("[false variant, must be refuted] x", "proved")], "error"),
    ([_R("true claim", "disproved"), _R("[false variant, must be refuted] x", "disproved")], "disproved"),
    ([_R("true claim", "unproven")], "unproven"),
])
def test_symbolic_controls_do_not_count_as_disproof(monkeypatch, results, status):
    import theory

    monkeypatch.setitem(theory.STATEMENTS, "T99", _St(results))
    out = verify._symbolic("T99")
    assert out["status"] == status
    assert out["counts"]["controls"] == sum(r.claim.startswith("[false") for r in results)


def test_atomic_writes_are_readable_by_others(tmp_path):
    import os
    import stat

    from sims.store import atomic_write_text

    p = atomic_write_text(tmp_path / "a.txt", "x")
    mode = stat.S_IMODE(os.stat(p).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask and mode & stat.S_IRGRP
