"""Check T4 (pair bound) under the registry contract and the issue-9 rule: (a) exact middle term,
(b) sampled L_x can only hold or be inconclusive, (c) one-sided slope with tightness reported apart,
(d) cluster count on the exact Courant-Fischer middle term; every registered false variant violated.
(Moved here from tests/test_checks_t3_t6_c3.py, whose T4 tests read the old prose keys.)"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from hmin.sims.checks import t04_pair_bound as t4
from hmin.sims.registry import builtin_registry
from hmin.sims.store import to_jsonable


def _roundtrip(measured: dict) -> dict:
    return json.loads(json.dumps(to_jsonable(measured)))


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return builtin_registry()["T4"].context("quick", tmp_path_factory.mktemp("checks_t4"), 0)


@pytest.fixture(scope="module")
def m4(quick_measurement):
    return _roundtrip(quick_measurement("T4"))  # measured once per session (tests/conftest.py)


def test_t4_holds_with_slope_two_and_reports_tightness(m4, ctx):
    v = t4.judge(m4)
    assert v.verdict == "holds", v.numbers
    assert all(p == "holds" for p in v.numbers["verdict_parts"].values())
    assert all(1.9 < s < 2.1 for s in v.numbers["slopes"].values())
    assert v.numbers["slope_floor"][0] == pytest.approx(1.7)
    lo, hi, r_lo, r_hi = v.numbers["tightness"]
    assert -0.1 < lo <= hi < 0.1 and 0 < r_lo <= r_hi <= 1.0  # mu below its bound, within a factor
    assert v.numbers["slope_floor"][1] == 0  # no row left out of the slope fits
    assert v.numbers["min_next_eig_over_middle"] > 1.0  # exactly |D| small eigenvalues
    assert v.power and set(v.labels) == set(v.numbers)
    paths = t4.plot(m4, v, ctx)
    assert len(paths) == 1 and (ctx.outdir / paths[0]).stat().st_size > 10_000


def test_t4_slope_rule_is_one_sided(m4):
    # a weaker bound (mu <= C h^1) is true: not a violation; a stronger one (h^2.5) is
    assert t4.judge(m4, slope=1.0).numbers["verdict_parts"]["c_slope"] == "holds"
    assert t4.judge(m4, slope=2.5).numbers["verdict_parts"]["c_slope"] == "violated"
    # a measured decay slower than h^2 breaks the bound: violated
    m = copy.deepcopy(m4)
    for r in m["pairs"]:
        r["mu"] = r["mu"] * (1e-2 / r["h_min"])  # slope 2 -> 1
        r["lam_min"] = r["mu"] * r["n"] / 2
    assert t4.judge(m).numbers["verdict_parts"]["c_slope"] == "violated"


def test_t4_slope_rows_guarded(m4):
    """Rows whose lambda_min is not the planted pair's (lambda_2 < 10 lambda_min) or at the round-off floor are
    left out of the fit; with fewer than 3 rows left the slope part is inconclusive, not violated."""
    m = copy.deepcopy(m4)
    m["pairs"][-1]["lam_2"] = 2.0 * m["pairs"][-1]["lam_min"]
    v = t4.judge(m)
    assert v.numbers["slope_floor"][1] == 1 and v.numbers["verdict_parts"]["c_slope"] == "inconclusive"
    m = copy.deepcopy(m4)
    for r in m["pairs"]:
        r["lam_min"] = 1e-20 * r["lam_max"]  # below 1e4 x 64 u lambda_max
    assert t4.judge(m).numbers["verdict_parts"]["c_slope"] == "inconclusive"


def test_t4_sampled_lipschitz_shortfall_is_inconclusive(m4):
    """L_x is a sampled (lower) estimate of the sup: (b) failing is inconclusive, never violated; and (b) is
    exploratory (it can only hold or be inconclusive), shown apart and not part of the verdict (issue 17)."""
    m = copy.deepcopy(m4)
    for r in m["lipschitz"]:
        r["lipschitz_term"] = 0.1 * r["lipschitz_term"]
    v = t4.judge(m)
    assert v.numbers["b_exploratory"] == "inconclusive" and "b_lipschitz_term" not in v.numbers["verdict_parts"]
    assert v.verdict == t4.judge(m4).verdict


def test_t4_slack_is_reported_and_a_bound_just_past_it_is_violated(m4):
    """(a)'s slack t: the constant 1/2 tightened by t (1 - 1e-3) still holds; by t (1 + 1e-3) it is violated."""
    v = t4.judge(m4)
    t = v.numbers["slack_a_middle_term"]
    assert 1.0 <= t < np.inf and v.numbers["slack_d_cluster"] >= 1.0
    assert t4.judge(m4, pair_factor=0.5 / (t * (1 - 1e-3))).numbers["verdict_parts"]["a_middle_term"] == "holds"
    assert t4.judge(m4, past_slack=True).numbers["verdict_parts"]["a_middle_term"] == "violated"
    assert f"{t:.3g}x" in v.power


def test_t4_cluster_middle_term_oracle_and_old_measurements():
    """Courant-Fischer: at least |D| eigenvalues of J J^T are <= sum_(j in D) ||g_j - g_0||^2 (random oracle)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        J = rng.standard_normal((8, 30))
        D = [1, 2, 3]
        J[D] = J[0] + 1e-3 * rng.standard_normal((3, 30)) * rng.random((3, 1))
        ev = np.linalg.eigvalsh(J @ J.T)
        mid = sum(np.sum((J[j] - J[0]) ** 2) for j in D)
        assert np.sum(ev <= mid * (1 + 1e-12)) >= len(D)


def test_t4_measurement_without_middle_term_is_inconclusive(m4):
    m = copy.deepcopy(m4)
    for r in m["clusters"]:
        r.pop("middle_term")
    assert t4.judge(m).numbers["verdict_parts"]["d_cluster"] == "inconclusive"
