"""Tests of the numeric checks T1, T2, T9, T10 and C1 (and their Monte Carlo helpers).

Each check is judged on its real "quick" measurement (or, where training makes that slow, on a small
measured dict) and must say "holds"; a deliberately false variant fed through ``judge(..., **variant)``
must say "violated".  The Monte Carlo pieces are compared with independent oracles: brute-force
pair distances, ``scipy.spatial.distance.pdist``, ``sims.geometry``, and the exact laws of h_min for
uniform points on [0, 1] (theory).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from sims.checks import _geometry_mc as mc
from sims.checks import c1_rate_vs_n as c1
from sims.checks import t01_hmin_lower as t1
from sims.checks import t02_hmin_upper as t2
from sims.checks import t09_approximation as t9
from sims.checks import t10_greedy as t10
from sims.errors import InputError
from sims.registry import builtin_registry
from sims.store import to_jsonable
from sims.verdict import clopper_pearson
from theory.t01_hmin_lower import prob_hmin_lt_uniform_interval, r_delta
from theory.t02_hmin_upper import prob_hmin_gt_uniform_interval
from theory.common import unit_ball_volume


def _ctx(sid: str, preset: str, outdir, seed: int = 0):
    """The registry's context of a statement (typed settings, the statement's random stream)."""
    return builtin_registry()[sid].context(preset, outdir, seed)


def _roundtrip(measured: dict) -> dict:
    """What a report stores and reads back (inf -> "inf", NaN -> None)."""
    return json.loads(json.dumps(to_jsonable(measured)))


# ------------------------------------------------------------------------------------------------
# Monte Carlo helpers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_hmin_batch_matches_oracles(d):
    rng = np.random.default_rng(d)
    X = rng.random((40, 17, d))
    h = mc.hmin_batch(X)
    assert np.array_equal(h, mc.hmin_batch_dense(X)) or np.allclose(h, mc.hmin_batch_dense(X), rtol=4e-16, atol=0)
    ref = np.array([pdist(x).min() for x in X])
    np.testing.assert_allclose(h, ref, rtol=1e-15, atol=0)


def test_hmin_batch_tiny_distances_and_duplicates():
    rng = np.random.default_rng(0)
    X = rng.random((3, 10, 3)) + 100.0  # far from 0: ||x||^2 - 2 x.y would lose everything below ~1e-6
    X[0, 4] = X[0, 2] + np.array([1e-11, 0.0, 0.0])
    X[1, 7] = X[1, 1]  # a duplicate
    h = mc.hmin_batch(X)
    assert h[0] == np.linalg.norm(X[0, 4] - X[0, 2])  # exactly the difference-based value
    assert 0.9e-11 < h[0] < 1.1e-11
    assert h[1] == 0.0
    assert h[2] == pytest.approx(pdist(X[2]).min(), rel=1e-15)


@pytest.mark.parametrize("bad, msg", [
    (np.full((2, 1, 2), 0.5), "N = 2"),
    (np.zeros((4, 2)), "shape"),
    (np.array([[[0.0, np.nan], [1.0, 1.0]]]), "NaN"),
])
def test_hmin_batch_bad_input(bad, msg):
    with pytest.raises(InputError, match=msg):
        mc.hmin_batch(bad)


def test_draw_points_laws_and_bounds():
    b, pm = mc.draw_points("cube", [5, 9], 3, 7, seed=1)
    assert b[5].shape == (7, 5, 3) and b[9].shape == (7, 9, 3) and pm == 1.0
    assert (b[9] >= 0).all() and (b[9] <= 1).all()
    b, pm = mc.draw_points("ball", [50], 4, 20, seed=2)
    assert np.linalg.norm(b[50], axis=-1).max() <= 1.0 and pm == pytest.approx(1 / unit_ball_volume(4))
    b, pm = mc.draw_points("mixture", [10], 2, 3, seed=3)
    assert pm == pytest.approx((2 * np.pi * mc.MIXTURE["sigma"] ** 2) ** -1.0)
    with pytest.raises(InputError, match="unknown density"):
        mc.draw_points("torus", [5], 2, 3, seed=0)
    with pytest.raises(InputError, match="N must be >= 2"):
        mc.draw_points("cube", [1], 2, 3, seed=0)


def test_density_bounds_agree_with_sims_data():
    """pi_max of the mixture is the same closed form as sims.data's (cube/ball: 1 and 1/V_d, checked above)."""
    import jax

    from sims import data

    ps = data.gaussian_mixture(4, 3, key=jax.random.PRNGKey(0), **mc.MIXTURE)
    assert mc.density_bound("mixture", 3) == pytest.approx(ps.pi_max, rel=1e-14)
    assert mc.density_bound("cube", 3) == 1.0
    assert mc.density_bound("ball", 3) == pytest.approx(1 / unit_ball_volume(3), rel=1e-14)


def test_omega_prime_and_family_level():
    pb, pp = mc.omega_prime("cube", 2, np.array([0.1, 0.6]))
    np.testing.assert_allclose(pb, [1.0, 1.0])
    np.testing.assert_allclose(pp, [0.64, 0.0])
    pb, pp = mc.omega_prime("ball", 3, 0.5)
    assert pb == pytest.approx(1 / unit_ball_volume(3)) and pp == pytest.approx(0.125)
    assert mc.cp_family_level(10) == pytest.approx(0.999)


def test_bootstrap_slope_exact_power_law():
    ns = [8, 16, 32, 64]
    b = mc.bootstrap_slope(ns, [np.full(11, n**-0.75) for n in ns])
    assert b["slope"] == pytest.approx(-0.75, abs=1e-12) and b["se"] == pytest.approx(0.0, abs=1e-12)


def test_monte_carlo_matches_exact_law_on_the_interval():
    """Uniform [0, 1] (d = 1): the empirical P(h_min < r) and P(h_min > r) agree with the exact laws."""
    b, _ = mc.draw_points("cube", [12], 1, 4000, seed=7)
    h = mc.hmin_batch(b[12])
    for r in (0.002, 0.01, 0.03):
        for k, p in ((int(np.sum(h < r)), float(prob_hmin_lt_uniform_interval(r, 12))),
                     (int(np.sum(h > r)), float(prob_hmin_gt_uniform_interval(r, 12)))):
            lo, hi = clopper_pearson(k, h.size, 0.999)
            assert lo <= p <= hi


# ------------------------------------------------------------------------------------------------
# T1
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def t1_quick(tmp_path_factory):
    return t1.measure(_ctx("T1", "quick", tmp_path_factory.mktemp("t1")))


def test_t1_holds_on_quick(t1_quick):
    v = t1.judge(t1_quick)
    assert v.verdict == "holds", v.notes
    assert v.numbers["tests_violated"] == 0
    assert t1.judge(_roundtrip(t1_quick)).verdict == "holds"


def test_t1_false_radius_is_violated(t1_quick):
    v = t1.judge(t1_quick, radius=lambda n, d, pm, dl: 10 * r_delta(n, d, pm, dl))
    assert v.verdict == "violated"
    assert v.numbers["verdict_parts"]["probability_bound"] == "violated"
    # a smaller radius is a weaker (still true) statement
    assert t1.judge(t1_quick, radius=lambda n, d, pm, dl: 0.5 * r_delta(n, d, pm, dl)).verdict == "holds"


def test_t1_wrong_slope_is_violated(t1_quick):
    """Medians that scale as N^(-1/d) instead of N^(-2/d) must fail the scaling rule."""
    fake = {**t1_quick, "rows": []}
    for s in t1_quick["rows"]:
        h = np.asarray(s["h_sorted"]) * s["n"] ** (1.0 / s["d"])  # turns slope -2/d into -1/d
        fake["rows"].append({**s, "h_sorted": np.sort(h).tolist()})
    v = t1.judge(fake)
    assert v.numbers["verdict_parts"]["median_slope"] == "violated"


# ------------------------------------------------------------------------------------------------
# T2
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def t2_quick(tmp_path_factory):
    return t2.measure(_ctx("T2", "quick", tmp_path_factory.mktemp("t2")))


def test_t2_holds_on_quick(t2_quick):
    v = t2.judge(t2_quick)
    assert v.verdict == "holds", v.notes
    assert v.numbers["tests"] > 20
    assert t2.judge(_roundtrip(t2_quick)).verdict == "holds"
    # looseness: the bound's radius falls as N^(-1/d), the truth as N^(-2/d)
    sl = v.numbers["looseness_slopes"]
    s_bound, s_truth = sl["cube d=1"]
    assert s_bound == pytest.approx(-1.0, abs=0.1) and s_truth == pytest.approx(-2.0, abs=0.3)


def test_t2_false_bound_is_violated(t2_quick):
    def pair_count_bound(r, n, d, pi_bar, p_prime):  # false: N(N-1) pairs in the exponent, no p'
        return np.exp(-n * (n - 1.0) * pi_bar * unit_ball_volume(d) * r**d)

    assert t2.judge(t2_quick, bound=pair_count_bound).verdict == "violated"


# ------------------------------------------------------------------------------------------------
# T10
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def t10_quick(tmp_path_factory):
    return t10.measure(_ctx("T10", "quick", tmp_path_factory.mktemp("t10")))


def test_t10_opt_enumeration_matches_naive_and_theory():
    from theory.t10_greedy import opt_brute_force

    rng = np.random.default_rng(3)
    X = rng.random((8, 2))
    opt = t10._opt_all_k(np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1)))
    for k in range(2, 9):
        naive = max(pdist(X[list(c)]).min() for c in itertools.combinations(range(8), k))
        assert opt[k] == naive
        assert opt[k] == pytest.approx(opt_brute_force(X, k), rel=1e-15)


def test_t10_greedy_matches_theory_farthest_first():
    """sims.select's greedy (what the check measures) against theory's plain NumPy traversal."""
    from sims.select import select
    from theory.t10_greedy import farthest_first

    rng = np.random.default_rng(4)
    X = rng.random((60, 3))
    s = select(X, 20, method="maxmin", first=7)
    idx, radii = farthest_first(X, 20, start=7)
    assert s.indices.tolist() == idx.tolist()
    np.testing.assert_allclose(s.certificate["radii"], radii[1:], rtol=1e-14, atol=0)


def test_t10_holds_on_quick(t10_quick, tmp_path):
    v = t10.judge(t10_quick)
    assert v.verdict == "holds", v.notes
    assert v.numbers["max_rel_diff"] <= 1e-12
    assert 1.0 <= v.numbers["max_opt_over_r"] <= 2.0
    figs = t10.plot(t10_quick, v, _ctx("T10", "quick", tmp_path))
    assert (tmp_path / figs[0]).stat().st_size > 10_000


@pytest.mark.parametrize("factor", [0.5, 1.0])
def test_t10_false_factor_is_violated(t10_quick, factor):
    v = t10.judge(t10_quick, factor=factor)
    assert v.verdict == "violated"
    assert v.numbers["verdict_parts"]["b_brute_force"] == "violated"


# ------------------------------------------------------------------------------------------------
# T9
# ------------------------------------------------------------------------------------------------


def test_spearman_perm_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    x = rng.random(15)
    y = x + 0.3 * rng.random(15)
    r = t9.spearman_perm(x, y, n_perm=5000)
    assert r["rho"] == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert r["p_greater"] < 0.01 < r["p_less"]


def test_clustered_subset_distinct_and_clustered():
    rng = np.random.default_rng(1)
    pool = rng.random((500, 2))
    idx = t9.clustered_subset(pool, 24, 4, rng=np.random.default_rng(2))
    assert len(idx) == 24 and len(set(idx.tolist())) == 24
    assert pdist(pool[idx]).min() < pdist(pool[rng.choice(500, 24, replace=False)]).min() * 5


def _t9_fake(direction: int, noise: float = 0.0, n: int = 15) -> dict:
    rng = np.random.default_rng(5)
    hf = np.linspace(0.1, 0.8, n)
    err = (hf if direction > 0 else 1.0 / hf) * (1 + noise * rng.standard_normal(n) ** 2)
    if noise > 10:
        err = rng.random(n)
    sets = [{"family": "random", "seed": i, "h_min": 0.01, "h_fill": float(hf[i]), "l2": float(err[i]),
             "linf": float(2 * err[i]), "train_loss_T": 1e-3, "diverged": False} for i in range(n)]
    return {"sets": sets, "settings": {"grid": 8}, "n": 16, "lr": 1.0}


def test_t9_judge_on_small_measured_dicts():
    assert t9.judge(_t9_fake(+1)).verdict == "holds"
    assert t9.judge(_t9_fake(-1)).verdict == "violated"
    assert t9.judge(_t9_fake(+1), direction=-1).verdict == "violated"
    assert t9.judge(_t9_fake(+1, noise=100.0)).verdict == "inconclusive"


def test_t9_holds_on_quick_and_reversed_is_violated(tmp_path):
    m = t9.measure(_ctx("T9", "quick", tmp_path))
    v = t9.judge(m)
    assert v.verdict == "holds", v.numbers
    assert t9.judge(m, direction=-1).verdict == "violated"
    assert len({r["family"] for r in m["sets"]}) == 4


# ------------------------------------------------------------------------------------------------
# C1
# ------------------------------------------------------------------------------------------------


def _c1_fake(iid_slope: float, greedy_slope: float, noise: float = 0.05) -> dict:
    rng = np.random.default_rng(0)
    runs = []
    for n in (8, 16, 32, 64):
        for s in range(3):
            for arm, sl in (("iid", iid_slope), ("greedy", greedy_slope)):
                mu = 0.5 * n**sl * np.exp(noise * rng.standard_normal())
                for lab in c1.LABELS:
                    runs.append({"n": n, "seed": s, "arm": arm, "labels": lab, "h_min": n ** (-1.0 if arm == "iid" else -0.5),
                                 "lam_min": mu * n / 2, "lam_max": float(n), "mu0": mu, "LT_over_L0": 0.1,
                                 "steps_to_eps": float("inf"), "diverged": False})
    return {"runs": runs, "settings": {"steps": 100}}


def test_c1_judge_on_small_measured_dicts():
    assert c1.judge(_c1_fake(-3.0, -1.0)).verdict == "holds"
    assert c1.judge(_c1_fake(-3.0, -1.0), direction=-1).verdict == "violated"
    assert c1.judge(_c1_fake(+1.0, +1.0)).verdict == "violated"  # mu does not decay: concern refuted
    assert c1.judge(_c1_fake(-1.0, -3.0)).verdict == "violated"  # greedy decays faster
    assert c1.judge(_c1_fake(-2.0, -2.0, noise=0.5)).verdict == "inconclusive"
    assert c1.judge(_roundtrip(_c1_fake(-3.0, -1.0))).verdict == "holds"


def test_c1_unresolved_eigenvalues_make_it_inconclusive():
    m = _c1_fake(-3.0, -1.0)
    for r in m["runs"]:
        if r["arm"] == "iid" and r["n"] >= 32:
            r["lam_min"] = 1e-17 * r["lam_max"]  # below float64 resolution
    v = c1.judge(m)
    assert v.verdict == "inconclusive" and v.numbers["unresolved"]["iid"] > 0


@pytest.mark.slow
def test_c1_quick_measure_end_to_end(tmp_path):
    ctx = _ctx("C1", "quick", tmp_path)
    m = c1.measure(ctx)
    v = c1.judge(m)
    assert v.numbers["answers"]["q1_mu_decays"] == "yes"
    assert v.verdict != "violated"
    assert c1.judge(m, direction=-1).verdict == "violated"
    assert c1.judge(_roundtrip(m)).verdict == v.verdict
    figs = c1.plot(m, v, ctx)
    assert (tmp_path / figs[0]).exists()


@pytest.mark.slow
@pytest.mark.parametrize("mod", [t1, t2, t9])
def test_plots_on_quick(mod, tmp_path):
    ctx = _ctx(mod.ID, "quick", tmp_path)
    m = mod.measure(ctx)
    figs = mod.plot(m, mod.judge(m), ctx)
    assert figs and all((tmp_path / f).stat().st_size > 10_000 for f in figs)
