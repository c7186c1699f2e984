"""The selector comparison (C2 / C4) end to end on a tiny pool, and its pieces against oracles."""

import dataclasses
import json

import numpy as np
import pytest

from hmin.sims.commands.run import apply_overrides
from hmin.sims.errors import InputError
from hmin.sims.experiments import selection as se
from hmin.sims.geometry import min_pairwise_distance
from hmin.sims.select import METHODS
from hmin.sims.store import RunStore

TINY = se.SelectionConfig(cluster_sizes=(60, 30), cluster_sigmas=(0.04, 0.03), n_background=30, n_rare=2,
                          rare_size=3, budgets=(8, 16), seeds=(0, 1), trace_picks=12, width=32, steps=200,
                          record_every=50, loss_eps=0.2, n_probe=400)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("selection")
    return out, se.run(TINY, out)


def _strip_time(s):
    s = json.loads(json.dumps(s))
    s.pop("wall_time_s", None)
    s.pop("figures", None)
    return s


def test_summary_keys_finite_and_figures(tiny_run):
    out, s = tiny_run
    assert json.loads((out / "summary.json").read_text())["experiment"] == "selection"
    assert set(s["methods"]) == set(METHODS)
    for m, pm in s["methods"].items():
        for k in TINY.budgets:
            b = pm["budgets"][str(k)]
            for key in ("h_min", "fill_unit_square", "pool_covering_radius", "rare_modes_hit_fraction",
                        "representation_dense", "final_loss_ratio", "mu0", "pool_rmse"):
                assert np.isfinite(b[key]["mean"]), (m, k, key)
            assert b["diverged"] == 0
            assert b["h_min"]["mean"] > 0 and 0 <= b["rare_modes_hit_fraction"]["mean"] <= 1
        assert len(pm["trace"]["labels_seed0"]) == TINY.trace_picks
    assert s["c2"].startswith("C2") and s["c4"].startswith("C4")
    for f in s["figures"]:
        assert (out / f).stat().st_size > 10_000
    text = se.report(s)
    assert "greedy h_min >= random h_min" in text and "C4 coverage" in text


def test_subsets_have_the_budget_size_and_measured_hmin(tiny_run):
    """Every selector returns exactly k distinct pool points; the reported h_min is the subset's (oracle)."""
    out, s = tiny_run
    store = RunStore(out / "runs")
    for seed in TINY.seeds:
        key = store.key(se._unit(TINY, seed))
        arr = store.load_arrays(key)
        rows = store.load_metrics(key)["rows"]
        for m in METHODS:
            for k in TINY.budgets:
                idx = arr[f"idx_{m}_{k}"]
                assert len(idx) == k == len(np.unique(idx))
                h = min_pairwise_distance(arr["X"][idx], method="dense").h_min
                assert rows[m][str(k)]["h_min"] == pytest.approx(h, rel=1e-12)
                # rare-mode coverage recomputed from the indices and labels (independent of sims.uniformity)
                hit = {lab for lab in arr["labels"][idx] if lab.startswith("rare")}
                assert rows[m][str(k)]["rare_modes_hit_fraction"] == len(hit) / TINY.n_rare


def test_greedy_hmin_at_least_random_on_the_same_pool(tiny_run):
    _, s = tiny_run
    for k in TINY.budgets:
        g = s["methods"]["maxmin"]["budgets"][str(k)]["h_min"]["per_seed"]
        r = s["methods"]["random"]["budgets"][str(k)]["h_min"]["per_seed"]
        assert all(a >= b for a, b in zip(g, r)), (k, g, r)
        assert s["findings"][str(k)]["maxmin_hmin_ge_random_every_seed"]


def test_resume_skips_finished_units(tiny_run, monkeypatch):
    out, s = tiny_run

    def boom(*a, **k):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(se, "_run_unit", boom)
    s2 = se.run(TINY, out, plot_figures=False)
    assert _strip_time(s2) == _strip_time(s)


def test_deterministic_for_a_fixed_seed(tiny_run, tmp_path):
    _, s = tiny_run
    s2 = se.run(dataclasses.replace(TINY, seeds=(0, 1)), tmp_path, plot_figures=False)
    assert _strip_time(s2)["methods"] == _strip_time(s)["methods"]


def test_pool_structure():
    p = se.make_pool(TINY, 3)
    X, lab, grp = p["X"], p["labels"], p["group"]
    assert X.shape == (TINY.n_pool, 2)
    assert (lab == "cluster0").sum() == 60 and (lab == "background").sum() == 30 and (lab == "rare1").sum() == 3
    # rare modes sit rare_offset beyond the unit square (sup norm), far from every other point
    for c in p["rare_centers"]:
        assert np.max(np.abs(c - 0.5)) == pytest.approx(0.5 + TINY.rare_offset)
    other = X[grp != "rare"]
    for j in range(TINY.n_rare):
        R = X[lab == f"rare{j}"]
        gap = min(np.linalg.norm(other - r, axis=1).min() for r in R)
        assert gap > TINY.rare_offset / 2
    assert np.array_equal(se.make_pool(TINY, 3)["X"], X)  # seeded
    assert not np.array_equal(se.make_pool(TINY, 4)["X"], X)


def test_trace_measures_counts_only_dense_alternations():
    t = se.trace_measures(["cluster0", "cluster1", "cluster0", "cluster1", "background", "cluster1"],
                          ["dense", "dense", "dense", "dense", "background", "dense"])
    assert t["ping_pong"] == 2 and t["switches"] == 5
    assert t["first_visit"] == {"cluster0": 0, "cluster1": 1, "background": 4}
    assert t["group_share"]["dense"] == pytest.approx(5 / 6)
    # A-B-A through the background (not two dense clusters) is not an oscillation between clusters
    t2 = se.trace_measures(["cluster0", "background", "cluster0"], ["dense", "background", "dense"])
    assert t2["ping_pong"] == 0
    with pytest.raises(InputError, match="same length"):
        se.trace_measures(["a"], [])


@pytest.mark.parametrize("kw,msg", [
    (dict(methods=("maxmin", "kcenter")), "unknown selector"),
    (dict(methods=("maxmin", "grid")), "must include 'maxmin' and 'random'"),
    (dict(budgets=(1000,)), "budgets"),
    (dict(cluster_sizes=(10,), cluster_sigmas=(0.1, 0.2)), "equal length"),
    (dict(lr_scale=3.0), "lr_scale"),
    (dict(seeds=(1,)), "at least 2"),
])
def test_bad_config(kw, msg):
    with pytest.raises(InputError, match=msg):
        se.SelectionConfig(**kw)


def test_overrides_and_unknown_option():
    cfg = apply_overrides(se.PRESETS["quick"], ["budgets=(10, 30)", "n_rare=3", "rare_offset=0.5"])
    assert cfg.budgets == (10, 30) and cfg.n_rare == 3 and cfg.rare_offset == 0.5
    with pytest.raises(InputError, match="unknown config field"):
        apply_overrides(se.PRESETS["default"], ["selectors=('maxmin',)"])
    with pytest.raises(InputError, match="unknown selector"):
        apply_overrides(se.PRESETS["default"], ["methods=('maxmin', 'random', 'bogus')"])
    assert set(se.PRESETS) == {"quick", "default", "full"}


def test_unplaceable_clusters_are_an_input_error():
    cfg = dataclasses.replace(TINY, cluster_sizes=(5, 5, 5), cluster_sigmas=(0.01,) * 3, min_center_sep=0.9)
    with pytest.raises(InputError, match="cannot place"):
        se.make_pool(cfg, 0)


def test_pool_without_background_runs_and_reports_missing_groups_as_nan(tmp_path):
    """No background points: background representation is undefined (NaN, stored as null), not a crash."""
    cfg = dataclasses.replace(TINY, n_background=0, cluster_sigmas=(0.08, 0.06))
    s = se.run(cfg, tmp_path)
    b = s["methods"]["maxmin"]["budgets"]["8"]
    assert np.isnan(b["representation_background"]["mean"])
    assert np.isfinite(b["representation_dense"]["mean"])
    assert all(v is None for v in s["methods"]["maxmin"]["trace"]["background_first_visit"])
    assert len(s["figures"]) == 3
