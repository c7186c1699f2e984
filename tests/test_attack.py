"""hmin attack: the search finds the known counterexamples (refuted drafts of T7 and T8, the near-tight T10 pool),
a found candidate is confirmed by the judge's rule from its saved file, replays in a fresh process, and an
interrupted attack still saves its best candidate. Budgets are small; the "no counterexample against the
corrected claims" runs spend their whole budget and are marked slow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hmin.sims.attack import attack, load_candidate, replay, run_attacks, surface_of
from hmin.sims.errors import InputError, PluginError
from hmin.sims.registry import builtin_registry

REG = builtin_registry()


def _surface(sid):
    return surface_of(REG, sid)


def test_surfaces_registered():
    with_surface = [i for i in REG if REG[i].check is not None and REG[i].check.attack is not None]
    for sid in ("T3", "T4", "T5", "T7", "T8", "T10", "OS20"):
        assert sid in with_surface
    with pytest.raises(InputError, match="no attack surface"):
        surface_of(REG, "T1" if "T1" not in with_surface else "C1")
    with pytest.raises(InputError, match="unknown claim"):
        attack("T10", REG["T10"].check.attack, claim="nonsense", budget=1)


def test_check_refuses_a_non_surface():
    import dataclasses

    with pytest.raises(PluginError, match="AttackSurface"):
        dataclasses.replace(REG["T10"].check, attack=lambda z: 0.0)


def test_t10_ratio_near_two(tmp_path):
    """OPT_k / r_k > 1.9 on a pool of 6 points from random starts (the certificate's factor 2 is nearly tight)."""
    entry, surf = _surface("T10")
    res = attack(entry, surf, budget=6, restarts=4, seed=0, out=tmp_path, figure=False)
    assert not res.counterexample and res.judged_margin >= 0
    assert res.judged_margin < 0.1, res.line()  # margin = 2 (1 + 1e-12) - max_k OPT_k / r_k
    # an independent recomputation of the ratio from the saved pool: theory's oracles
    from hmin.theory.t10_greedy import farthest_first, opt_brute_force

    X = np.asarray(load_candidate(res.path)["candidate"]["points"])
    _, radii = farthest_first(X, len(X), start=0)
    best = max(opt_brute_force(X, k) / radii[k - 1] for k in range(2, len(X) + 1))
    assert 1.9 < best <= 2 * (1 + 1e-12)
    assert abs((2 * (1 + 1e-12) - best) - res.judged_margin) < 1e-12


def test_t10_false_variant_counterexample_replays_in_a_fresh_process(tmp_path):
    entry, surf = _surface("T10")
    res = attack(entry, surf, claim="greedy-optimal", budget=5, restarts=2, out=tmp_path, figure=False)
    assert res.counterexample and res.judged_margin < 0
    rec = json.loads(Path(res.path).read_text())
    assert rec["verdict"] == "counterexample" and rec["judged_margin"] == res.judged_margin
    env = {**os.environ, "HMIN_QUIET": "1"}
    out = subprocess.run([sys.executable, "-m", "hmin", "verify", "--replay", res.path], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "COUNTEREXAMPLE" in out.stdout and "the same verdict as saved" in out.stdout
    # the next run in the same directory tries the saved candidate first (Hypothesis's example database)
    again = attack(entry, surf, claim="greedy-optimal", budget=5, restarts=2, out=tmp_path, figure=False)
    assert again.counterexample and again.evaluations == 2
    # a planted change of the saved claim flips the verdict and the replay says so (exit 1)
    rec["verdict"] = "no counterexample"
    bad = tmp_path / "planted.json"
    bad.write_text(json.dumps(rec))
    r = replay(bad, REG)
    assert not r["agrees"] and r["verdict"] == "counterexample"


def test_t7_draft_rediscovered(tmp_path):
    """T7's first draft (p = 2 for every shallow net) falls to a ray found from random starts; the judge's rule
    (1r), recomputed from the saved file with numpy eigh, confirms it, and the shrunk ray has exact zeros."""
    entry, surf = _surface("T7")
    res = attack(entry, surf, claim="draft", budget=60, restarts=2, seed=0, out=tmp_path, figure=False)
    assert res.counterexample, res.line()
    c = load_candidate(res.path)["candidate"]
    r = replay(res.path, REG)
    assert r["verdict"] == "counterexample" and r["judged_margin"] == pytest.approx(res.judged_margin, abs=1e-9)
    # the slope exceeds 2 + 0.2 for an unbounded activation (the draft's error), never for tanh/sigmoid
    assert any(f"sigma = {a}:" in res.description for a in ("softplus", "gelu", "silu")), res.description
    assert any(v == 0 for v in c["u"])  # shrinking leaves exact zeros (a unit with w_j = 0: the two-unit ray)
    # the same ray judged against the revised claim (p = 3 for the unbounded activations) is no counterexample
    prob = surf.build("claim")
    c2 = {**c, "degrees": prob.decode(np.zeros(prob.dim))["degrees"]}
    assert prob.rejudge(c2) >= 0


def test_t8_draft_rediscovered(tmp_path):
    """T8's first draft (rank J = min(N k, P)) falls on a configuration with N k > P - m(m-1)/2, at the point and
    at every perturbation; the judge's _decide confirms it from the saved file."""
    entry, surf = _surface("T8")
    res = attack(entry, surf, claim="draft", budget=60, restarts=1, seed=0, out=tmp_path, figure=False)
    assert res.counterexample, res.line()
    c = load_candidate(res.path)["candidate"]
    assert c["config"] in ("res-tall", "res-between")
    assert surf.build("claim").rejudge(c) >= 0  # the revised claim holds on the same candidate


def test_rank_margin_agrees_with_the_judge():
    from hmin.sims.checks.t08_nondegeneracy import _decide, rank_margin

    rng = np.random.default_rng(0)
    for _ in range(400):
        n = int(rng.integers(1, 7))
        q = np.sort(10.0 ** rng.uniform(-17, 0, n))[::-1]
        q[0] = 1.0
        for e in range(0, n + 1):
            assert (rank_margin(q, e) < 0) == (_decide(q, e) == "miss"), (q, e)


def test_interrupted_attack_saves_the_best_candidate(tmp_path):
    entry, surf = _surface("T10")
    calls = []

    def stop(it, evals, best):
        calls.append(best)
        if len(calls) >= 3:
            raise KeyboardInterrupt

    res = attack(entry, surf, budget=60, restarts=2, out=tmp_path, callback=stop, figure=False)
    assert res.interrupted and res.elapsed_s < 60
    rec = load_candidate(res.path)
    assert rec["attack"]["interrupted"] and rec["margin"] == pytest.approx(min(calls[-1], res.margin))


def test_verify_attack_adds_the_closest_margin(tmp_path):
    results = {"T10": {"verdict": "holds", "title": "T10"}, "meta": {}}
    done = run_attacks(results, REG, ["T10", "T1"], 3, tmp_path, restarts=2)
    assert list(done) == ["T10"]
    s = results["T10"]["attack"]
    assert s["budget_s"] == 3 and s["restarts"] == 2 and s["smallest_margin"] >= 0
    assert (tmp_path / s["saved"]).is_file()
    from hmin.sims.report import summary_table

    assert "no counterexample in" in summary_table(results, ["T10"])
    assert "closest margin" in (tmp_path / "report.md").read_text()


def test_replay_bad_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(InputError, match="not a saved hmin attack candidate"):
        replay(p, REG)
    with pytest.raises(InputError, match="no such file"):
        replay(tmp_path / "missing.json", REG)


@pytest.mark.slow
@pytest.mark.parametrize("sid", ["T3", "T4", "T5", "T7", "T8", "T10", "OS20"])
def test_no_counterexample_against_the_revised_claims(tmp_path, sid):
    entry, surf = _surface(sid)
    res = attack(entry, surf, budget=30, restarts=4, seed=1, out=tmp_path)
    assert not res.counterexample and np.isfinite(res.judged_margin), res.line()
    assert "no counterexample" in res.line() and "smallest margin" in res.line()


@pytest.mark.slow
def test_cli_interrupt_writes_the_best_candidate(tmp_path):
    import signal
    import time

    env = {**os.environ, "HMIN_QUIET": "0"}
    p = subprocess.Popen([sys.executable, "-m", "hmin", "attack", "T10", "--budget", "300", "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr:  # wait for the first progress line: the search is running
        if "[attack T10" in line:
            break
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 130
    assert "interrupted" in out
    rec = load_candidate(tmp_path / "T10-claim-attack.json")
    assert rec["attack"]["interrupted"] and rec["verdict"] == "no counterexample"


@pytest.mark.slow
@pytest.mark.parametrize("sid,claim", [("T3", "pl-lambda-max"), ("T4", "pair-factor-0.01"), ("T5", "curvature-0.85")])
def test_false_variants_fall(tmp_path, sid, claim):
    """Planted wrong claims: each surface's false variant must be broken and confirmed from the saved file."""
    entry, surf = _surface(sid)
    res = attack(entry, surf, claim=claim, budget=60, restarts=2, out=tmp_path, figure=False)
    assert res.counterexample and replay(res.path, REG)["agrees"], res.line()


def test_published_theorem_os20_false_variant_falls_and_its_claim_stands(tmp_path):
    """A published theorem shipped as a plug-in (Oymak & Soltanolkotabi 2020, hmin.sims.zoo) has a surface: the
    false variant "lambda_min >= delta" (no 1/(100 N^2)) is broken and confirmed from the saved file; the paper's
    bound is not, and its closest margin is finite (the bound holds with room on the sets searched)."""
    entry, surf = _surface("OS20")
    res = attack(entry, surf, claim="no-N", budget=20, restarts=2, seed=0, out=tmp_path, figure=False)
    assert res.counterexample and replay(res.path, REG)["agrees"], res.line()
    cand = load_candidate(res.path)["candidate"]
    X = np.asarray(cand["points"])
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)  # inside the hypothesis: unit norm
    own = attack(entry, surf, budget=8, restarts=2, seed=0, out=tmp_path, figure=False)
    assert not own.counterexample and np.isfinite(own.judged_margin) and own.judged_margin > 0, own.line()
