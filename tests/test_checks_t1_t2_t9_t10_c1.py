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

from hmin.sims.checks import _geometry_mc as mc
from hmin.sims.checks import c1_rate_vs_n as c1
from hmin.sims.checks import t01_hmin_lower as t1
from hmin.sims.checks import t02_hmin_upper as t2
from hmin.sims.checks import t09_approximation as t9
from hmin.sims.checks import t10_greedy as t10
from hmin.sims.errors import InputError
from hmin.sims.registry import builtin_registry
from hmin.sims.store import to_jsonable
from hmin.sims.verdict import clopper_pearson, clopper_pearson_bound
from hmin.theory.t01_hmin_lower import prob_hmin_lt_uniform_interval, r_delta
from hmin.theory.t02_hmin_upper import prob_hmin_gt_uniform_interval
from hmin.theory.common import unit_ball_volume


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

    from hmin.sims import data

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


@pytest.mark.parametrize("k, n", [(0, 50), (7, 50), (30, 100), (100, 100)])
def test_one_sided_clopper_pearson_against_the_binomial_tail(k, n):
    """The one-sided lower bound p_lo solves P_{p_lo}(K >= k) = 1 - level (scipy's binomial tail as oracle);
    it equals the lower end of the two-sided interval at twice the error."""
    from scipy.stats import binom

    lo = clopper_pearson_bound(k, n, 0.99, side="lower")
    hi = clopper_pearson_bound(k, n, 0.99, side="upper")
    if k > 0:
        assert binom.sf(k - 1, n, lo) == pytest.approx(0.01, rel=1e-6)
        assert lo == pytest.approx(clopper_pearson(k, n, 0.98)[0], rel=1e-12)
    else:
        assert lo == 0.0
    if k < n:
        assert binom.cdf(k, n, hi) == pytest.approx(0.01, rel=1e-6)
    assert lo <= k / n <= hi
    with pytest.raises(ValueError):
        clopper_pearson_bound(k, n, side="left")


@pytest.mark.parametrize("d", [1, 2, 3])
def test_hmin_batch_torus_matches_image_oracle(d):
    """Periodic h_min against the brute force over the 3^d periodic images."""
    rng = np.random.default_rng(10 + d)
    X = rng.random((30, 9, d))
    shifts = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=d)))
    ref = []
    for x in X:
        D = x[:, None, None, :] - x[None, :, None, :] + shifts[None, None]
        dist = np.sqrt((D**2).sum(-1)).min(-1)
        ref.append(dist[np.triu_indices(9, 1)].min())
    np.testing.assert_allclose(mc.hmin_batch_torus(X), ref, rtol=1e-14, atol=0)
    pb, pp = mc.omega_prime("torus", d, np.array([0.1, 0.5, 0.6]))
    assert pb.tolist() == [1.0, 1.0, 1.0] and pp.tolist() == [1.0, 1.0, 0.0]


def test_torus_law_at_two_points_is_one_minus_the_ball():
    """On the flat torus two uniform points have P(h > r) = 1 - V_d r^d exactly (r <= 1/2)."""
    b, _ = mc.draw_points("cube", [2], 2, 20000, seed=3)
    h = mc.hmin_batch_torus(b[2])
    r = 0.3
    k = int(np.sum(h > r))
    lo, hi = clopper_pearson(k, h.size, 0.999)
    assert lo <= 1 - np.pi * r**2 <= hi


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
def t1_quick(quick_measurement):
    return quick_measurement("T1")  # measured once per session (tests/conftest.py)


def test_t1_holds_on_quick(t1_quick):
    v = t1.judge(t1_quick)
    assert v.verdict == "holds", v.notes
    assert v.numbers["tests_violated"] == 0
    assert t1.judge(_roundtrip(t1_quick)).verdict == "holds"
    # the power is measured and stated: a bound some factor f < 1 too small is caught
    assert 0.5 < v.numbers["power_bound_factor"] < 1.0 and "f <=" in v.power


def test_t1_realistic_false_variants_are_violated(t1_quick):
    # a pair count off by a factor 2 (the bound N(N-1)/4 pi_max V_d r^d: radius 2^(1/d) r_delta)
    v = t1.judge(t1_quick, pair_factor=0.5)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["probability_bound"] == "violated"
    # the -1/d exponent (the "N points fill the space" scaling) for the median
    v = t1.judge(t1_quick, exponent_factor=0.5)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["median_slope"] == "violated"
    for kw in t1.CHECK.false_variants.values():
        assert t1.judge(t1_quick, **kw).verdict == "violated", kw


def test_t1_false_radius_is_violated(t1_quick):
    v = t1.judge(t1_quick, radius=lambda n, d, pm, dl: 10 * r_delta(n, d, pm, dl))
    assert v.verdict == "violated"
    assert v.numbers["verdict_parts"]["probability_bound"] == "violated"
    # a smaller radius is a weaker (still true) statement
    assert t1.judge(t1_quick, radius=lambda n, d, pm, dl: 0.5 * r_delta(n, d, pm, dl)).verdict == "holds"


def test_t1_one_sided_and_round_off_guard(t1_quick):
    """The count uses r (1 - 1e-9): samples stored within storage rounding of r never count, and the
    one-sided bound is closer to k/M than the two-sided interval's lower end."""
    rows = t1._prob_tests(t1_quick, r_delta)
    level = t1.cp_family_level(len(rows), 0.99)
    for row in rows:
        assert row["lo"] >= clopper_pearson(row["k"], row["m"], level)[0]
    s0 = t1_quick["rows"][0]
    r0 = float(r_delta(s0["n"], s0["d"], s0["pi_max"], t1_quick["settings"]["deltas"][0]))
    fake = {**t1_quick, "rows": [{**s0, "h_sorted": sorted([r0 * (1 - 2e-10)] * len(s0["h_sorted"]))}]}
    assert t1._prob_tests(fake, r_delta)[0]["k"] == 0


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
def t2_quick(quick_measurement):
    return quick_measurement("T2")


def test_t2_holds_on_quick(t2_quick):
    v = t2.judge(t2_quick)
    assert v.verdict == "holds", v.notes
    assert v.numbers["informative_tests"] >= t2.MIN_INFORMATIVE
    assert v.numbers["informative_tests"] < v.numbers["tests"]  # bounds >= 0.9 are tested but not counted
    assert t2.judge(_roundtrip(t2_quick)).verdict == "holds"
    # looseness (exploratory): the bound's radius falls as N^(-1/d), the truth as N^(-2/d)
    sl = v.numbers["looseness_slopes"]
    s_bound, s_truth = sl["cube d=1"]
    assert s_bound == pytest.approx(-1.0, abs=0.1) and s_truth == pytest.approx(-2.0, abs=0.3)
    # power: an exponent a few times too large is caught (through the small-N torus tests)
    assert 1.0 < v.numbers["power_exponent_factor"] < 4.0


def test_t2_exponent_four_times_too_large_is_violated(t2_quick):
    v = t2.judge(t2_quick, exponent_factor=4.0)
    assert v.verdict == "violated"
    # where it is caught: the small-N torus, where T2 is nearly tight
    rows = [r for r in t2._tests(t2_quick, t2._exponent_bound(4.0)) if not r["ok"]]
    assert rows and all(r["domain"] == "torus" and r["n"] <= 4 for r in rows)
    for kw in t2.CHECK.false_variants.values():
        assert t2.judge(t2_quick, **kw).verdict == "violated", kw


def test_t2_too_few_informative_tests_is_inconclusive(t2_quick):
    only_vacuous = {**t2_quick, "rows": [s for s in t2_quick["rows"] if s["domain"] == "cube" and s["d"] == 8]}
    v = t2.judge(only_vacuous)
    assert v.numbers["informative_tests"] < t2.MIN_INFORMATIVE and v.verdict == "inconclusive"


def test_t2_false_bound_is_violated(t2_quick):
    def pair_count_bound(r, n, d, pi_bar, p_prime):  # false: N(N-1) pairs in the exponent, no p'
        return np.exp(-n * (n - 1.0) * pi_bar * unit_ball_volume(d) * r**d)

    assert t2.judge(t2_quick, bound=pair_count_bound).verdict == "violated"


# ------------------------------------------------------------------------------------------------
# T10
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def t10_quick(quick_measurement):
    return quick_measurement("T10")


def test_t10_opt_enumeration_matches_naive_and_theory():
    from hmin.theory.t10_greedy import opt_brute_force

    rng = np.random.default_rng(3)
    X = rng.random((8, 2))
    opt = t10._opt_all_k(np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1)))
    for k in range(2, 9):
        naive = max(pdist(X[list(c)]).min() for c in itertools.combinations(range(8), k))
        assert opt[k] == naive
        assert opt[k] == pytest.approx(opt_brute_force(X, k), rel=1e-15)


def test_t10_greedy_matches_theory_farthest_first():
    """hmin.sims.select's greedy (what the check measures) against theory's plain NumPy traversal."""
    from hmin.sims.select import select
    from hmin.theory.t10_greedy import farthest_first

    rng = np.random.default_rng(4)
    X = rng.random((60, 3))
    s = select(X, 20, method="maxmin", first=7)
    idx, radii = farthest_first(X, 20, start=7)
    assert s.indices.tolist() == idx.tolist()
    np.testing.assert_allclose(s.certificate["radii"], radii[1:], rtol=1e-14, atol=0)


def test_t10_quick_exact_parts_hold_and_it_is_never_violated(t10_quick, tmp_path):
    v = t10.judge(t10_quick)
    parts = v.numbers["verdict_parts"]
    assert parts["a_exact"] == parts["b_brute_force"] == parts["c_found_subsets"] == "holds", v.notes
    # at the quick preset (k <= 64, 40 random subsets) the slope comparison may be unresolved, never violated
    assert v.verdict != "violated" and parts["d_scaling"] != "violated", v.numbers
    assert v.numbers["max_rel_diff"] <= 1e-12
    assert 1.0 <= v.numbers["max_opt_over_r"] <= 2.0
    assert v.numbers["power_factor"] == v.numbers["max_opt_over_r"]
    figs = t10.plot(t10_quick, v, _ctx("T10", "quick", tmp_path))
    assert (tmp_path / figs[0]).stat().st_size > 10_000


@pytest.mark.parametrize("factor", [0.5, 1.0])
def test_t10_false_factor_is_violated(t10_quick, factor):
    v = t10.judge(t10_quick, factor=factor)
    assert v.verdict == "violated"
    assert v.numbers["verdict_parts"]["b_brute_force"] == "violated"


def test_t10_greedy_slope_is_judged_by_the_random_rule(t10_quick):
    """'greedy ~ k^(-2/d)' (no better than random) must be violated by the greedy slope's own band."""
    v = t10.judge(t10_quick, greedy_exponent_factor=2.0)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["d_scaling"] == "violated"
    for sl in v.numbers["slopes"].values():
        g, pred, hw = sl["greedy"]
        assert abs(g - pred) > hw
    for kw in t10.CHECK.false_variants.values():
        assert t10.judge(t10_quick, **kw).verdict == "violated", kw


def test_t10_greedy_below_random_is_violated_and_unresolved_is_not(t10_quick):
    import copy

    fake = copy.deepcopy(t10_quick)
    for pool in fake["large"]:  # greedy radii that fall like k^(-6/d): far steeper than random subsets
        kg = np.asarray(pool["k_grid"], float)
        for run in pool["runs"]:
            run["r_grid"] = (0.9 * (kg / kg[0]) ** (-6.0 / pool["d"])).tolist()
    sc = t10._scaling(fake)
    assert all(s["greedy_vs_random"] == "below" for s in sc)
    assert t10.judge(fake).numbers["verdict_parts"]["d_scaling"] == "violated"


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


def _t9_fake(direction: int, noise: float = 0.0, seeds: int = 5, seed_effect: float = 0.0) -> dict:
    """A measured dict of 4 families x ``seeds`` strata; error = trend(h_fill) x noise x seed effect."""
    rng = np.random.default_rng(5)
    sets = []
    for s in range(seeds):
        hf = np.array([0.1, 0.2, 0.4, 0.8]) * (1 + 0.05 * rng.random(4))
        err = (hf if direction > 0 else 1.0 / hf) * np.exp(noise * rng.standard_normal(4)) * np.exp(seed_effect * s)
        if noise > 10:
            err = rng.random(4)
        for i, fam in enumerate(("lattice", "greedy", "random", "clustered-4")):
            sets.append({"family": fam, "seed": s, "h_min": 0.01, "h_fill": float(hf[i]), "l2": float(err[i]),
                         "linf": float(2 * err[i]), "train_loss_T": 1e-3, "diverged": False})
    return {"sets": sets, "settings": {"grid": 8}, "n": 16, "lr": 1.0}


def test_t9_judge_on_small_measured_dicts():
    v = t9.judge(_t9_fake(+1))
    assert v.verdict == "holds"
    # 5 strata of 4: every permutation below the observed value -> p is reported as the floor bound
    assert v.numbers["p_at_floor"] == {"l2": True, "linf": True}
    assert v.numbers["rho_fill_l2"][1] == pytest.approx(1 / (t9.N_PERM + 1))
    assert v.numbers["exact_floor"] == pytest.approx(1 / 24**5)
    assert "p <=" in t9._p_text(v.numbers["rho_fill_l2"][1], True)
    assert t9.judge(_t9_fake(-1)).verdict == "violated"
    assert t9.judge(_t9_fake(+1), direction=-1).verdict == "violated"
    assert t9.judge(_t9_fake(+1, noise=100.0)).verdict == "inconclusive"


def test_t9_stratified_test_is_not_fooled_by_a_seed_effect():
    """Errors and h_fill that differ between seeds but are unrelated within a seed: the pooled rho looks
    significant, the within-seed test (the rule) does not."""
    rng = np.random.default_rng(0)
    x, y, g = [], [], []
    for s in range(6):
        for _ in range(5):
            x.append(s + 0.1 * rng.random())
            y.append(s + 0.1 * rng.random())
            g.append(s)
    pooled = t9.spearman_perm(x, y, n_perm=4000)
    strat = t9.stratified_spearman_perm(x, y, g, n_perm=4000)
    assert pooled["p_greater"] < 0.01
    assert strat["p_greater"] > 0.01 and strat["p_less"] > 0.01


@pytest.fixture(scope="module")
def t9_quick(quick_measurement):
    return quick_measurement("T9")


def test_t9_holds_on_quick_and_false_variants_are_violated(t9_quick):
    m = t9_quick
    v = t9.judge(m)
    assert v.verdict == "holds", v.numbers
    assert v.numbers["strata"] == t9.SETTINGS["quick"].seeds
    assert 0 < v.numbers["power_rho_crit"] < 1
    assert t9.judge(m, direction=-1).verdict == "violated"
    # the realistic misreading: error grows with h_min at fixed N (separation hurts)
    assert t9.judge(m, covariate="h_min", direction=1).verdict == "violated"
    for kw in t9.CHECK.false_variants.values():
        assert t9.judge(m, **kw).verdict == "violated", kw
    assert len({r["family"] for r in m["sets"]}) == 4


# ------------------------------------------------------------------------------------------------
# C1
# ------------------------------------------------------------------------------------------------


def _c1_fake(iid_slope: float, greedy_slope: float, noise: float = 0.05, seeds: int = 32, seed_effect: float = 0.0,
             pair_law: str = "hmin", ns=(8, 16, 32, 64)) -> dict:
    """mu_0 = 0.5 N^slope x noise x a seed effect shared by the arms (the initialisation).  h_min: i.i.d. N^-1,
    greedy N^-1/2; the control arm ("pair") has the i.i.d. h_min and the greedy fill distance, and its mu_0
    follows ``pair_law``: "hmin" (mu_0 ~ h_min^2 x the greedy arm's h_min-free part: the i.i.d. exponent when
    the arms differ only through h_min) or "fill" (the greedy arm's mu_0: h_min plays no role)."""
    rng = np.random.default_rng(0)
    mu, runs = [], []
    for n in ns:
        for s in range(seeds):
            shared = np.exp(seed_effect * rng.standard_normal())
            h = {"iid": n**-1.0, "greedy": n**-0.5, "pair": n**-1.0}
            fill = {"iid": 2 * n**-0.5, "greedy": n**-0.5, "pair": n**-0.5}
            base = {"iid": iid_slope, "greedy": greedy_slope}
            for arm in c1.ARMS:
                if arm == "pair":
                    sl = greedy_slope + (2 * (-1.0 + 0.5) if pair_law == "hmin" else 0.0)
                else:
                    sl = base[arm]
                m0 = 0.5 * n**sl * shared * np.exp(noise * rng.standard_normal())
                rec = {"n": n, "seed": s, "arm": arm, "h_min": h[arm], "h_fill": fill[arm],
                       "lam_min": m0 * n / 2, "lam_max": float(n), "mu0": m0, "pair_ceiling": 3.0 * m0 * n / 2}
                mu.append(rec)
                if s < 2 and arm != "pair":
                    for lab in c1.LABELS:
                        runs.append({**rec, "labels": lab, "LT_over_L0": 0.1, "steps_to_eps": float("inf"),
                                     "diverged": False})
    return {"mu": mu, "runs": runs, "settings": {"steps": 100}}


def test_c1_judge_on_small_measured_dicts():
    v = c1.judge(_c1_fake(-3.0, -2.0, pair_law="hmin"))
    assert v.verdict == "holds", v.numbers["answer"]
    assert v.numbers["answers"]["q3_hmin_sets_rate"] == "h_min"
    assert v.numbers["q3_hmin_law_e_h"][0] == pytest.approx(-1.0)
    v = c1.judge(_c1_fake(-3.0, -3.0, pair_law="fill"))  # smoothness sets the decay: moving h_min changes nothing
    assert v.verdict == "violated" and v.numbers["answers"]["q3_hmin_sets_rate"] == "not h_min"
    assert "does not set" in v.numbers["answer"]
    assert c1.judge(_c1_fake(-3.0, -2.0), direction=-1).verdict == "violated"
    assert c1.judge(_c1_fake(+1.0, +1.0, pair_law="fill")).verdict == "violated"  # mu does not decay
    v = c1.judge(_c1_fake(-2.0, -2.0, noise=2.0, seeds=6))
    assert v.verdict == "inconclusive" and "cannot tell, because" in v.numbers["answer"]
    assert c1.judge(_roundtrip(_c1_fake(-3.0, -2.0))).verdict == "holds"
    # the slack of the closest pair's Rayleigh ceiling is reported per arm and N (planted: 3)
    assert v.numbers["slack_pair_ceiling"]["iid"][0][1] == pytest.approx(3.0)


def test_c1_half_way_shift_cannot_tell():
    """A control arm whose exponent moves half of what the h_min law predicts: neither answer, and the reason says so."""
    m = _c1_fake(-3.0, -2.0, pair_law="fill", noise=0.01)
    for r in m["mu"]:
        if r["arm"] == "pair":
            r["mu0"] *= r["n"] ** -0.5
            r["lam_min"] = r["mu0"] * r["n"] / 2
    v = c1.judge(m)
    assert v.verdict == "inconclusive" and "between 0 and the h_min law" in v.numbers["answer"]


def test_c1_exponent_variants_and_power():
    """Nested draws, 32 seeds: 'mu ~ N^-2', 'mu independent of N' and an exponent 25% off are rejected."""
    m = _c1_fake(-4.0, -3.0, noise=0.3, seed_effect=1.0)
    assert c1.judge(m).verdict == "holds"
    for kw in ({"iid_slope": -2.0}, {"iid_slope": 0.0}, {"iid_slope_factor": 0.75}, {"iid_slope_factor": 1.25}):
        assert c1.judge(m, **kw).verdict == "violated", kw
    assert c1.judge(m, iid_slope=-4.0).verdict == "holds"
    assert c1.judge(m).numbers["power_q1_relative"] < 0.25
    # with a noise that leaves the exponent uncertain by more than 25%, the power number says so
    wide = c1.judge(_c1_fake(-4.0, -3.0, noise=6.0, seeds=4))
    assert wide.numbers["power_q1_relative"] > 0.25 and "25%" in wide.power


def test_c1_unresolved_eigenvalues_make_it_inconclusive():
    m = _c1_fake(-3.0, -2.0)
    for r in m["mu"]:
        if r["arm"] == "iid" and r["n"] >= 32:
            r["lam_min"] = 1e-17 * r["lam_max"]  # below float64 resolution
    v = c1.judge(m)
    assert v.verdict == "inconclusive" and v.numbers["unresolved"]["iid"] > 0


def test_c1_control_arm_and_nesting():
    """plant_pair moves exactly one point to the requested distance; the fill distance on a grid matches a brute
    force; the quick measurement is nested (i.i.d. h_min never grows with N) and the control arm is matched."""
    X = np.random.default_rng(1).random((20, 2))
    Y = c1.plant_pair(X, 1e-3)
    assert (np.abs(Y - X).sum(axis=1) > 0).sum() == 1
    assert pdist(Y).min() == pytest.approx(1e-3)
    g = (np.arange(c1.FILL_GRID) + 0.5) / c1.FILL_GRID
    G = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    brute = np.sqrt(((G[:, None, :] - X[None]) ** 2).sum(-1)).min(1).max()
    assert c1.fill_distance(X) == pytest.approx(brute)


def test_c1_quick_measure_end_to_end(tmp_path, quick_measurement):
    ctx = _ctx("C1", "quick", tmp_path)
    m = quick_measurement("C1")  # measured once per session (the registry contract test uses it too)
    tab = {(r["arm"], r["n"], r["seed"]): r for r in m["mu"]}
    ns = sorted({r["n"] for r in m["mu"]})
    seeds = sorted({r["seed"] for r in m["mu"]})
    assert len(seeds) >= 32
    for s in seeds:  # nested draws: a prefix's h_min is never smaller than the whole set's
        h = [tab[("iid", n, s)]["h_min"] for n in ns]
        assert all(a >= b for a, b in zip(h, h[1:]))
    v = c1.judge(m)
    assert v.numbers["control_match"]["h_pair_over_h_iid"] == pytest.approx(1.0, rel=0.05)
    assert 0.8 < v.numbers["control_match"]["h_fill_over_greedy"]["pair"] < 1.25
    assert v.numbers["answers"]["q1_mu_decays"] == "yes"
    for kw in c1.CHECK.false_variants.values():
        assert c1.judge(m, **kw).verdict == "violated", kw
    assert c1.judge(_roundtrip(m)).verdict == v.verdict
    figs = c1.plot(m, v, ctx)
    assert (tmp_path / figs[0]).exists()


@pytest.mark.slow
@pytest.mark.parametrize("mod", [t1, t2, t9])
def test_plots_on_quick(mod, tmp_path):
    ctx = _ctx(mod.ID, "quick", tmp_path)
    m = mod.measure(ctx)
    assert mod.CHECK.false_variants
    figs = mod.plot(m, mod.judge(m), ctx)
    assert figs and all((tmp_path / f).stat().st_size > 10_000 for f in figs)
