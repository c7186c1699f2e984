"""Checks T3, T4, T5, T6 and C3: each judge gives the expected verdict on measured data (preset
"quick") and "violated" on a deliberately false variant; small hand-made inputs pin the rules."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from hmin.sims.checks import _trajectories as tr
from hmin.sims.checks import c3_beyond_ntk as c3
from hmin.sims.checks import t03_pl_identity as t3
from hmin.sims.checks import t04_pair_bound as t4
from hmin.sims.checks import t05_descent as t5
from hmin.sims.checks import t06_linearised as t6
from hmin.sims.errors import InputError
from hmin.sims.models import make_model
from hmin.sims.registry import builtin_registry
from hmin.sims.store import to_jsonable


def _roundtrip(measured: dict) -> dict:
    """What `hmin verify` writes to measured/<id>.json and a reader loads back (inf -> "inf")."""
    return json.loads(json.dumps(to_jsonable(measured)))


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("checks_t3_t6_c3")


def _ctx(sid, outdir, seed=0):
    return builtin_registry()[sid].context("quick", outdir, seed)


@pytest.fixture(scope="module")
def ctx(outdir):
    return _ctx("T3", outdir)


@pytest.fixture(scope="module")
def m3(quick_measurement):
    return quick_measurement("T3")  # measured once per session (tests/conftest.py)


@pytest.fixture(scope="module")
def m4(quick_measurement):
    return quick_measurement("T4")


@pytest.fixture(scope="module")
def m5(quick_measurement):
    return quick_measurement("T5")


@pytest.fixture(scope="module")
def m6(quick_measurement):
    return quick_measurement("T6")  # the shared width sweep; C3 reads the same (cached) measurement


def test_registry_joins_these_modules():
    reg = builtin_registry()
    for cid, mod in (("T3", t3), ("T4", t4), ("T5", t5), ("T6", t6), ("C3", c3)):
        e = reg[cid]
        assert not e.error and e.check is mod.CHECK and mod.ID == cid
        assert set(e.check.settings) == {"quick", "default", "full"}


def test_t6_and_c3_share_one_sweep_on_one_stream(outdir, m6):
    """One measurement read by two statements: C3's measure returns T6's runs (same stream, cache hit)."""
    m = c3.measure(_ctx("C3", outdir))
    assert m["runs"] is m6["runs"]
    assert tr.WIDTH_SWEEP.readers() == ["T6", "C3"] and m["shared_measurement"]["name"] == tr.WIDTH_SWEEP.name
    assert tr.WIDTH_SWEEP.stream(0) == _ctx("T6", outdir).stream != _ctx("C3", outdir).stream


# ------------------------------------------------------------------------------------------ T3


def test_t3_holds_on_measured_trajectories(m3):
    v = t3.judge(m3)
    assert v.verdict == "holds", v.numbers
    assert v.numbers["identity_max_rel_error"] < 1e-11
    assert v.numbers["pl_ratio_min"] >= 1.0
    assert t3.judge(_roundtrip(m3)).verdict == "holds"


def test_t3_false_identity_and_pl_factor_are_violated(m3):
    assert t3.judge(m3, identity_factor=lambda n: 1.0 / n).verdict == "violated"
    assert t3.judge(m3, pl_factor=lambda lmin, lmax, n: 2.0 * lmax / n).verdict == "violated"


def _t3_run_by_hand(seed: int, corrupt: float = 0.0) -> dict:
    """A T3 'run' from a random linear model: J, r known, ||grad L||^2 = ||J^T r||^2 / N^2 exactly."""
    rng = np.random.default_rng(seed)
    n, P = 5, 7
    J = rng.normal(size=(n, P))
    r = rng.normal(size=n)
    G = J @ J.T
    ev = np.linalg.eigvalsh(G)
    g2 = float(np.sum((J.T @ r / n) ** 2)) * (1 + corrupt)
    L = float(r @ r / (2 * n))
    one = lambda x: [float(x)]  # noqa: E731
    return {"arch": "linear", "eps": 0.1, "h_min": 0.1, "lr": 0.1, "n": n, "steps": 0, "record_steps": [0],
            "diverged": False, "grad_sq": one(g2), "rGr": one(r @ G @ r), "grad_sq_from_gram": one(r @ G @ r / n**2),
            "r_sq": one(r @ r), "loss": one(L), "lam_min": one(ev[0]), "lam_max": one(ev[-1]),
            "engine_grad_sq": one(g2), "engine_loss": one(L), "engine_mu": one(2 * ev[0] / n), "loss_ratio_end": 1.0}


def test_t3_rule_on_a_linear_model_by_hand():
    ok = {"runs": [_t3_run_by_hand(s) for s in range(4)]}
    assert t3.judge(ok).verdict == "holds"
    bad = {"runs": [_t3_run_by_hand(0), _t3_run_by_hand(1, corrupt=1e-6)]}  # a 1e-6 error is caught
    v = t3.judge(bad)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["identity"] == "violated"


# ------------------------------------------------------------------------------------------ T4


def test_t4_holds_with_slope_two(m4):
    v = t4.judge(m4)
    assert v.verdict == "holds", v.numbers
    for s in v.numbers["slopes"].values():
        assert 1.7 <= s <= 2.3
    assert t4.judge(_roundtrip(m4)).verdict == "holds"


def test_t4_false_variants_are_violated(m4):
    v = t4.judge(m4, slope=3.0)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["c_slope"] == "violated"
    v = t4.judge(m4, cluster_extra=1)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["d_cluster"] == "violated"
    # the middle term can catch any factor below the measured max lambda_min / (pair term) (ratio reported
    # by judge relative to the factor 1/2): a factor 0.8x that is violated (c = 1/2 is sharp only over all
    # gradients, so how far below 1/2 a false factor must be depends on the sets drawn)
    ratio = t4.judge(m4).numbers["max_ratio_middle"]
    assert 0 < ratio <= 1
    v = t4.judge(m4, pair_factor=0.8 * 0.5 * ratio)
    assert v.numbers["verdict_parts"]["a_middle_term"] == "violated"


def test_mixed_derivative_matches_finite_differences():
    """The sampled L_x uses jacfwd over x of grad_theta f: compare with central differences."""
    model = make_model("shallow", d=3, width=5)
    p = model.init(jax.random.PRNGKey(0))
    x = np.array([0.3, -0.2, 0.5])
    D = np.asarray(tr._mixed_fn(model)(p, x[None]))[0]  # (P, d)
    flat, unravel = jax.flatten_util.ravel_pytree(p)

    def g(z):
        return np.asarray(jax.grad(lambda th: model.apply_one(unravel(th), z)[0])(flat))

    h = 1e-6
    fd = np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(D, fd, rtol=1e-6, atol=1e-8)
    assert tr.mixed_opnorm(model, p, x[None])[0] == pytest.approx(np.linalg.svd(fd, compute_uv=False)[0], rel=1e-6)


# ------------------------------------------------------------------------------------------ T5


def test_t5_holds_and_covers_a_large_step(m5):
    """T5 is a mathematical fact: never violated; a step is violated only if it fails with the UPPER estimate."""
    v = t5.judge(m5)
    assert v.verdict == "holds", v.numbers
    assert v.numbers["violations"] == 0 and v.numbers["inconclusive_steps"] == 0
    assert v.numbers["min_beta_over_needed"] >= 1.0
    assert v.numbers["refined_steps"] >= 1 and 0 < v.numbers["c_detectable"] < 1
    assert v.power and "c beta_k" in v.power
    large = [r for r in m5["runs"] if r["lr_scale"] > 2]
    assert large, "a run with eta beta > 2 must be included"
    assert t5.judge(_roundtrip(m5)).verdict == "holds"
    # the product bound is exploratory: never a verdict part
    assert set(v.numbers["verdict_parts"]) == {"per_step"}


def test_t5_without_curvature_term_is_violated(m5):
    v = t5.judge(m5, curvature_term=False)
    assert v.verdict == "violated" and v.numbers["violations"] > 0


def test_t5_dense_upper_estimate_brackets_the_power_iteration(m5):
    for r in m5["runs"]:
        lo, hi, beta = (np.asarray(tr.as_floats(r[k])) for k in ("beta_dense_lower", "beta_dense_upper", "beta"))
        ok = np.isfinite(hi)
        # the dense max at the same points is >= the power iteration's Rayleigh quotients (up to round-off)
        assert np.all(lo[ok] >= beta[ok] * (1 - 1e-9)) and np.all(hi[ok] >= lo[ok])


def test_segment_hessian_bounds_on_a_quadratic_loss_are_exact():
    """A linear model has a constant Hessian J^T J / N: lower = upper (no variation) = lambda_max(J^T J)/N."""
    model = make_model("shallow", d=2, width=3)
    p0 = model.init(jax.random.PRNGKey(0))
    X = np.array([[0.3, -0.1], [0.5, 0.2], [-0.4, 0.9]])
    Y = np.zeros((3, 1))
    th = np.asarray(jax.flatten_util.ravel_pytree(p0)[0])
    res = tr.segment_hessian_bounds(model, p0, X, Y, th, th, n_points=3)  # a zero-length segment
    H = tr.dense_hessians(model, p0, X, Y, th[None, :])[0]
    ev = np.linalg.eigvalsh(H)
    assert res["variation"] == 0.0
    assert res["lower"] == pytest.approx(max(abs(ev[0]), abs(ev[-1])), rel=1e-12)
    assert res["upper"] == pytest.approx(res["lower"], rel=1e-11)


def test_t5_rule_on_a_quadratic_by_hand():
    """L = h theta^2 / 2: GD is exact, beta = h; the descent bound is an equality (T5 is tight)."""
    h, eta, th = 2.0, 0.3, 1.5
    Ls, Lns, g2s = [], [], []
    for _ in range(20):
        g = h * th
        Ls.append(h * th**2 / 2)
        g2s.append(g * g)
        th = th - eta * g
        Lns.append(h * th**2 / 2)
    nan = [float("nan")] * 20
    run = {"model": "quadratic", "lr": eta, "lr_scale": eta * h, "n": 1, "h_min": 1.0, "loss": Ls,
           "loss_next": Lns, "grad_sq": g2s, "beta": [h] * 20, "mu": [2 * h] * 20, "lam_max": [h] * 20,
           "beta_dense_lower": nan, "beta_dense_upper": nan,
           "steps_checked": 20, "steps": 20, "diverged": False, "sharpness_dense_theta0": h, "beta0_over_dense": 1.0}
    m = {"settings": {"seg_points": 1}, "runs": [run]}
    assert t5.judge(m).verdict == "holds"
    assert t5.judge(m).numbers["min_beta_over_needed"] == pytest.approx(1.0, rel=1e-9)
    # an under-estimated beta without an upper estimate: not certain -> inconclusive, never violated
    under = dict(run, beta=[0.9 * h] * 20)
    assert t5.judge({"settings": {"seg_points": 1}, "runs": [under]}).verdict == "inconclusive"
    # ... a dense lower estimate that reaches h settles it
    fixed = dict(under, beta_dense_lower=[h] * 20, beta_dense_upper=[h * 1.01] * 20)
    assert t5.judge({"settings": {"seg_points": 1}, "runs": [fixed]}).verdict == "holds"
    # ... and an UPPER estimate below the needed beta is a certain violation
    wrong = dict(under, beta_dense_lower=[0.9 * h] * 20, beta_dense_upper=[0.95 * h] * 20)
    assert t5.judge({"settings": {"seg_points": 1}, "runs": [wrong]}).verdict == "violated"
    # the false variant with 0.85 beta on the exact beta: violated (power: any c < 1 on a tight step)
    exact = dict(run, beta_dense_lower=[h] * 20, beta_dense_upper=[h] * 20)
    v = t5.judge({"settings": {"seg_points": 1}, "runs": [exact]}, curvature_scale=0.85)
    assert v.verdict == "violated"


# ------------------------------------------------------------------------------------------ T6 / C3


def test_t6_judges_only_runs_inside_the_a_priori_certificate(m6):
    v = t6.judge(m6)
    wmax = max(r["width"] for r in m6["runs"])
    wide = [r for r in m6["runs"] if r["width"] == wmax]
    inside = [r for r in wide if np.isfinite(tr.as_float(r["regime_index"]))
              and tr.as_float(r["regime_index"]) <= t6.REGIME_THRESHOLD]
    n_in, n_all, needed = v.numbers["runs_inside_hypothesis"]
    assert (n_in, n_all, needed) == (len(inside), len(wide), 3)  # quick preset: a smoke run needs 3
    counts = v.numbers["quantitative_counts"]
    assert counts[0] == n_in and counts[1] + counts[2] + counts[3] == n_in
    assert v.numbers["regime_threshold"] == pytest.approx(np.log(1.15) / 3)
    assert v.hypothesis_counts["G stays near G_0 along the run"]["inside"] == n_in
    # the measurement carries what decided the hypothesis and what the prediction used
    r = wide[0]
    assert len(r["r0"]) == len(r["eigvals0"]) == len(r["proj0"]) == m6["config"]["n"]
    assert np.allclose(np.sum(np.square(r["proj0"])), np.sum(np.square(r["r0"])))  # U orthogonal
    assert v.numbers["verdict_parts"]["quantitative"] == "holds"
    assert t6.judge(_roundtrip(m6)).verdict == v.verdict
    # with the threshold at 0 (nothing inside) the row is outside its hypothesis, with too few it says so
    assert t6.judge(m6, threshold=-1.0).numbers["verdict_parts"]["quantitative"] == "outside hypothesis"
    few = t6.judge(m6, min_judged=n_in + 1)
    assert few.numbers["verdict_parts"]["quantitative"] == "inconclusive"
    assert few.numbers["too_few_inside"] == f"inconclusive: {n_in} of {n_all} runs inside the hypothesis, {n_in + 1} needed"


def test_t6_a_prediction_10_percent_off_is_caught_on_the_judged_runs(m6):
    v = t6.judge(m6)
    assert v.numbers["verdict_parts"]["time_scale"] == "holds"
    for f in (1.1, 1 / 1.1):
        parts = t6.judge(m6, pred_scale=f).numbers["verdict_parts"]
        assert parts["time_scale"] == "violated", f
    assert v.numbers["power_factor_slow"] < 1.1 and v.numbers["power_factor_fast"] < 1.1
    assert t6.judge(m6, slow_modes=("random", "smooth", "equal")).verdict == "violated"


def test_t6_curve_rule_by_hand():
    """judge_run on hand-made crossings: the whole curve, censoring, divergence; planted errors."""
    run = {"steps_run": 1000, "diverged": False, "crossings_measured": [5.1, 51.0, 510.0, float("inf")],
           "crossings_predicted": [5.0, 50.0, 500.0, 5000.0]}
    assert t6.judge_run(run)["verdict"] == "holds"  # the censored last level is consistent and skipped
    assert t6.judge_run(run)["curve_error"] == pytest.approx(np.log(1.02))
    bent = {**run, "crossings_measured": [5.1, 51.0, 700.0, float("inf")]}  # right at the start, wrong later
    assert t6.judge_run(bent)["verdict"] == "violated"
    early = {**run, "crossings_predicted": [5.0, 50.0, 500.0, 1100.0], "crossings_measured": [5.1, 51.0, 510.0,
                                                                                         float("inf")]}
    assert t6.judge_run(early)["verdict"] == "holds"  # [1000/1100, inf) straddles: skipped
    late = {**early, "crossings_predicted": [5.0, 50.0, 500.0, 600.0]}
    assert t6.judge_run(late)["verdict"] == "violated"  # predicted at 600, not reached by 1000
    assert t6.judge_run({**run, "diverged": True})["verdict"] == "violated"
    assert t6.level_interval(float("inf"), 100.0, 1000, False) == (10.0, float("inf"))
    assert t6._in_band((0.2, float("inf")), t6.BAND) == "inconclusive"
    assert t6._in_band((float("inf"), float("inf")), t6.BAND) == "violated"
    runs = [{"mode": "random", "seed": 0, "h_min": h, "steps_run": 1000, "steps_to_eps_measured": t}
            for h, t in ((1e-3, float("inf")), (0.3, 50.0))]
    assert t6.slowdown(runs, "random", 0) == (20.0, float("inf"))


def test_t6_error_vs_index_detects_a_planted_anticorrelation():
    def run(d, err):
        return {"regime_index": d, "diverged": False, "steps_run": 10**6, "crossings_measured": [100 * np.exp(err)],
                "crossings_predicted": [100.0]}

    ds = np.linspace(0.01, 1.0, 20)
    assert t6.error_vs_index([run(d, d) for d in ds])["p_greater"] < t6.ALPHA_B
    planted = t6.error_vs_index([run(d, 1.0 - d) for d in ds])
    assert planted["p_less"] < t6.ALPHA_B and planted["spearman_rho"] < 0


def test_t6_regime_map_grid(m6):
    g = t6.regime_grid(m6["runs"])
    assert len(g) == len({(r["mode"], r["width"], r["h_min"]) for r in m6["runs"]})
    wmax = max(r["width"] for r in m6["runs"])
    smooth = [v[0] for k, v in g.items() if k[0] == "smooth" and k[1] == wmax]
    assert all(np.isfinite(d) and d >= 0 for d in smooth)


def test_c3_judges_each_label_mode_and_h_min_cell(m6):
    v = c3.judge(m6)
    assert set(v.numbers["verdict_parts"]) == {"gram_scaling"}  # the crossover is exploratory
    hs = sorted({r["h_min"] for r in m6["runs"]})
    assert len(v.numbers["cell_verdicts"]) == 3 * len(hs)
    for k, iv in v.numbers["cell_intervals"].items():
        want = ("outside hypothesis" if iv is None else
                "holds" if -1.2 <= iv[0] and iv[1] <= -0.3 else
                "violated" if iv[1] < -1.2 or iv[0] > -0.3 else "inconclusive")
        assert v.numbers["cell_verdicts"][k] == want, k
    ex = v.numbers["excluded_runs"]
    assert ex["saturated"] == sum((not r["diverged"]) and tr.as_float(r["regime_gram_drift"]) >= 0.5
                                  for r in m6["runs"])
    assert "chosen after looking" in v.labels["gram_slope_band"]
    assert v.power
    assert c3.judge(_roundtrip(m6)).verdict == v.verdict


def test_c3_cell_rule_by_hand():
    def runs(slope, *, diverge=(), saturate=()):
        return [{"mode": "random", "seed": s, "h_min": 0.1, "width": w, "gram_change_max": 0.3 * (w / 16) ** slope,
                 "diverged": w in diverge, "regime_gram_drift": 0.9 if w in saturate else 0.1}
                for s in (0, 1) for w in (16, 64, 256, 1024)]

    r = runs(-0.7)
    assert c3.cell_slopes(r, "random", 0.1)["slopes"][0] == pytest.approx(-0.7)
    # a diverged width-16 run with a huge Gram change is excluded, not fitted
    bad = runs(-0.7, diverge=(16,))
    for x in bad:
        if x["width"] == 16:
            x["gram_change_max"] = 2e4
    c = c3.cell_slopes(bad, "random", 0.1)
    assert c["diverged"] == 2 and c["slopes"][0] == pytest.approx(-0.7)
    # saturated widths leave too few: the cell is outside its hypothesis
    c = c3.cell_slopes(runs(-0.7, saturate=(16, 64)), "random", 0.1)
    assert c["saturated"] == 4 and c["slopes"][0] is None


def test_c3_false_slope_band_is_violated(m6):
    v = c3.judge(m6, gram_slope_band=(-0.2, 0.2))
    assert v.verdict == "violated"


def test_c3_crossover_rule():
    lim = np.log(1.25)
    tab = {16: {"pred_error": 1.0}, 64: {"pred_error": 0.5}, 256: {"pred_error": 0.1}, 1024: {"pred_error": 0.05}}
    assert c3.crossover(tab, 1.25) == {"W_star": 256, "located": True, "why": "error > threshold at width 64"}
    tab[1024]["pred_error"] = 2 * lim
    assert c3.crossover(tab, 1.25)["located"] is False
    tab = {16: {"pred_error": 0.0}, 64: {"pred_error": 0.0}}
    assert c3.crossover(tab, 1.25)["W_star"] == "<= 16"


# ------------------------------------------------------------------------------------------ helpers


def test_planted_pair_family_redraws_until_the_pair_is_unique():
    fam = tr.planted_pair_family(8, 16, [1e-3, 0.3], key=jax.random.PRNGKey(1))
    assert fam.h_base > 0.6
    i, j = fam.pair
    for X, e in zip(fam.X, (1e-3, 0.3)):
        assert np.linalg.norm(X[i] - X[j]) == pytest.approx(e, rel=1e-12)
    with pytest.raises(InputError, match="h_min"):
        tr.planted_pair_family(8, 2, [0.9], key=jax.random.PRNGKey(0), max_tries=3)


def test_figures_are_written(ctx, m3, m6):
    v = t3.judge(m3)
    paths = t3.plot(m3, v, ctx)
    assert paths and all((ctx.outdir / p).exists() for p in paths)
    v6 = c3.judge(m6)
    assert all((ctx.outdir / p).exists() for p in c3.plot(m6, v6, ctx))
    paths = t6.plot(m6, t6.judge(m6), ctx)
    assert any(p.endswith("t06_regime_map.png") for p in paths) and all((ctx.outdir / p).exists() for p in paths)


def test_every_false_variant_is_violated_on_a_real_measurement(m3, m5, m6):
    # T4's own variants are checked by its owner's contract test (its "pair factor 0.05" depends on the sets drawn)
    for mod, m in ((t3, m3), (t5, m5), (t6, m6), (c3, m6)):
        assert mod.CHECK.false_variants, mod.ID
        for name, kw in mod.CHECK.false_variants.items():
            assert mod.judge(m, **kw).verdict == "violated", (mod.ID, name)


def _q_measured(cases):
    """A hand-made width sweep for T6's part (Q): per (mode, seed) two runs inside the certificate at h_min 0.01
    and 0.1, with the given (predicted, measured) steps to eps at h_min 0.01 (both 100 at 0.1)."""
    runs = []
    for (mode, seed), (t_pred, t_meas) in cases.items():
        for h, tp, tm in ((0.01, t_pred, t_meas), (0.1, 100.0, 100.0)):
            runs.append({"width": 64, "mode": mode, "seed": seed, "h_min": h, "regime_index": 0.0, "steps_run": 10**6,
                         "diverged": False, "steps_to_eps_predicted": tp, "steps_to_eps_measured": tm,
                         "crossings_predicted": [tp], "crossings_measured": [tm], "gram_change_max": 0.0,
                         "curve_error": abs(np.log(tm / tp))})
    return {"runs": runs, "config": {"loss_eps": 1e-3, "crossing_levels": [1e-3]}, "settings": {"min_judged": 1}}


def test_t6_qualitative_part_expects_what_the_prediction_says_of_each_draw():
    """Round 4 of (Q): a random-label draw whose prediction is flat (pair labels nearly agree) is expected flat."""
    q = lambda m, **kw: t6.judge(m, **kw).numbers["verdict_parts"]["qualitative"]  # noqa: E731
    flat_random = _q_measured({("random", s): (100.0, 100.0) for s in range(3)}
                              | {("smooth", s): (100.0, 100.0) for s in range(3)})
    assert q(flat_random) == "holds"
    assert q(flat_random, slow_modes=("random",)) == "violated"  # round 3's label-mode expectation
    slow = _q_measured({("random", s): (5000.0, 5100.0) for s in range(3)})
    assert q(slow) == "holds"
    assert t6.judge(slow).numbers["slowdown_per_mode"]["random"]["predicted_slows"]["decided"] == "slows"
    # planted: measured slows where the prediction is flat, and measured flat where it slows
    assert q(_q_measured({("random", s): (100.0, 5000.0) for s in range(3)})) == "violated"
    assert q(_q_measured({("random", s): (5000.0, 100.0) for s in range(3)})) == "violated"
    # a prediction between the thresholds is not judged by (Q); if no draw is judged, (Q) is outside
    mid = _q_measured({("random", s): (500.0, 500.0) for s in range(3)})
    assert q(mid) == "outside hypothesis"
    assert t6.judge(mid).numbers["slowdown_per_mode"]["random"]["seeds_prediction_undecided"] == 3
    assert q(mid, slow_modes=("random", "smooth", "equal")) == "inconclusive"  # 5x: undecided either way
