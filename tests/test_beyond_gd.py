"""``hmin run beyond-gd`` (quick preset) and the C5 check's rule, including a false variant."""

import json

import numpy as np
import pytest

from hmin.sims.registry import builtin_registry
from hmin.sims.checks import c5_beyond_gd as c5
from hmin.sims.errors import InputError
from hmin.sims.experiments import beyond_gd as bg
from hmin.sims.store import to_jsonable


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("beyond_gd")
    return out, bg.run(bg.PRESETS["quick"], out)


def test_quick_run_summary_figure_and_resume(quick):
    out, s = quick
    cfg = bg.PRESETS["quick"]
    assert json.loads((out / "summary.json").read_text())["experiment"] == "beyond-gd"
    assert set(s["decisions"]) == set(bg.OPTIMIZERS)
    for opt, t in s["tuning"].items():
        assert t["grid_value"] in cfg.grid(opt) and not [r for r in t["table"] if r["grid_value"] == t["grid_value"]][0]["diverged"]
        assert len(s["steps_to_eps"][opt]) == len(bg.LABEL_MODES) * len(cfg.eps_values)
    assert (out / "figures" / "beyond_gd_time_to_eps.png").stat().st_size > 10000
    again = bg.run(cfg, out, plot_figures=False)  # resumed from the store: same numbers
    same = lambda a, b: json.dumps(to_jsonable(a), sort_keys=True) == json.dumps(to_jsonable(b), sort_keys=True)  # noqa: E731
    assert same(again["decisions"], s["decisions"]) and same(again["tuning"], s["tuning"])
    assert c5.judge(s).verdict in ("holds", "violated", "inconclusive")


def _measured(intervals_by_mode):
    dec = {m: {"intervals": iv, "decision": "?"} for m, iv in intervals_by_mode.items()}
    return {"config": {"eps_values": [0.01, 0.3], "loss_eps": 1e-3}, "decisions": {"gd": dec, "adam": dec},
            "tuning": {"gd": {"eta": 1.0, "grid_value": 1.0}, "adam": {"eta": 0.01, "grid_value": 0.01}},
            "steps_to_eps": {"gd": [], "adam": []}}


def test_rule_holds_violated_inconclusive():
    t6_like = _measured({"random": [[40.0, float("inf")], [25.0, float("inf")], [12.0, 12.0]],
                         "smooth": [[0.5, 0.5], [1.1, 1.1], [0.9, 0.9]], "equal": [[0.3, 0.3], [0.4, 0.4], [1.0, 1.0]]})
    assert c5.judge(t6_like).verdict == "holds"
    # the false variant "every close pair slows training, whatever its labels" must be violated
    assert c5.judge(t6_like, slow_modes=("random", "smooth", "equal")).verdict == "violated"
    # thresholds beyond the measured slowdown: random becomes undecided
    assert c5.judge(t6_like, slow_min=100.0).verdict == "inconclusive"
    no_slow = _measured({"random": [[1.2, 1.2]] * 3, "smooth": [[1.0, 1.0]] * 3, "equal": [[1.0, 1.0]] * 3})
    v = c5.judge(no_slow)
    assert v.verdict == "violated" and "does NOT slow" in v.numbers["answer"]


def test_decide_and_bad_config():
    rows = [{"mode": "smooth", "seed": s, "eps": e, "steps_to_eps": t} for s in (0, 1)
            for e, t in ((0.01, 30), (0.3, 20))]
    assert bg.decide(rows, 0.01, 0.3, 1000)["smooth"]["decision"] == "no slowdown"
    with pytest.raises(InputError, match="tuning seeds"):
        bg.BeyondGDConfig(seeds=(0, 101), tune_seeds=(100, 101))
    with pytest.raises(InputError, match="unknown optimizer"):
        bg.BeyondGDConfig(optimizers=("lbfgs",))
    with pytest.raises(InputError, match="batch"):
        bg.BeyondGDConfig(batch=99)


def test_check_registered_and_runs(tmp_path, quick_measurement):
    entry = builtin_registry()["C5"]
    assert entry.check is c5.CHECK and entry.statement.kind == "QUESTION"
    ctx = entry.context("quick", tmp_path, 0)
    measured = quick_measurement("C5")
    v = c5.judge(measured)
    figs = c5.plot(measured, v, ctx)
    assert v.id == "C5" and figs and (tmp_path / figs[0]).exists()
    assert np.isfinite(v.numbers["wall_s"])


def test_divergence_is_its_own_outcome_and_low_caps_do_not_count():
    """A diverged run is counted, not a NaN in a median; more than a quarter of the seeds diverged: "diverges"
    (outside T6's hypothesis: inconclusive, never violated); a seed whose censoring cap R / T(h_max) is below
    50 does not count."""
    R = 30000
    def rows(t_small, t_large, div=()):
        out = []
        for s, (a, b) in enumerate(zip(t_small, t_large)):
            out += [{"mode": "random", "seed": s, "eps": 0.01, "steps_to_eps": float("nan") if s in div else a,
                     "diverged": s in div},
                    {"mode": "random", "seed": s, "eps": 0.3, "steps_to_eps": b, "diverged": False}]
        return out
    slow = rows([float("inf")] * 8, [100] * 8, div=(3,))
    d = bg.decide(slow, 0.01, 0.3, R)["random"]
    assert d["decision"] == "slows" and d["counts"] == {"diverged": 1, "usable": 7}
    assert np.isfinite(d["median_lower"])  # the diverged seed is left out, not a NaN
    d = bg.decide(rows([float("inf")] * 8, [100] * 8, div=(0, 1, 2)), 0.01, 0.3, R)["random"]
    assert d["decision"] == "diverges"
    d = bg.decide(rows([float("inf")] * 8, [1000] * 8), 0.01, 0.3, R)["random"]  # cap 30 < 50
    assert d["decision"] == "undecided" and d["counts"] == {"cap < 50": 8}
    m = _measured({"random": [[300.0, float("inf")]] * 8, "smooth": [[1.0, 1.0]] * 8, "equal": [[1.0, 1.0]] * 8})
    for opt in m["decisions"]:
        m["decisions"][opt] = {k: dict(v) for k, v in m["decisions"][opt].items()}
        m["decisions"][opt]["smooth"]["outcomes"] = ["diverged"] * 3 + ["usable"] * 5
    v = c5.judge(m)
    assert v.verdict == "inconclusive" and v.numbers["verdict_parts"]["gd/smooth"] == "inconclusive"
    assert v.numbers["diverged_seeds"][0] == 6
    # every seed diverged: no median to report, and the decision says so instead of printing "nanx"
    m["decisions"]["gd"]["random"]["outcomes"] = ["diverged"] * 8
    text = c5.judge(m).numbers["decisions"]["gd/random"]
    assert "no usable seed" in text and "nan" not in text, text


def test_tuning_runs_once_per_configuration_not_per_evaluation_seed(monkeypatch):
    """hmin verify --seeds 0-4 gives C5 five sets of evaluation seeds; the tuning (seeds 100-103) is the same."""
    calls = []
    monkeypatch.setattr(bg, "_TUNED", {})
    monkeypatch.setattr(bg, "_tune", lambda cfg, opt, sds, chunk: calls.append((cfg.steps, opt)) or {"eta": 1.0})
    seed_data = lambda s: {"seed": s}  # noqa: E731
    a = bg.BeyondGDConfig(seeds=(0, 1))
    assert bg._tune_once(a, "gd", seed_data, 9) is bg._tune_once(bg.BeyondGDConfig(seeds=(5, 6, 7)), "gd", seed_data, 9)
    assert calls == [(a.steps, "gd")]
    bg._tune_once(a, "adam", seed_data, 9)
    bg._tune_once(bg.BeyondGDConfig(seeds=(0, 1), steps=77), "gd", seed_data, 9)
    assert calls == [(a.steps, "gd"), (a.steps, "adam"), (77, "gd")]
    assert bg.BeyondGDConfig().tune_seeds == (100, 101, 102, 103)


def test_tuning_is_cached_across_runs_by_code_and_configuration(monkeypatch, tmp_path):
    """With the caches on (the command line), a second run, or another process of --processes, loads the tuning
    instead of recomputing it; another configuration or another code version computes it again; caches off
    (library calls, tests): always computed."""
    from hmin.sims import caches, verify

    calls = []
    tuned = {"eta": 0.123456789012345, "grid_value": 0.5, "table": [{"geo_mean_steps": float("inf")}]}
    monkeypatch.setattr(bg, "_tune", lambda cfg, opt, sds, chunk: calls.append((cfg.steps, opt)) or dict(tuned))
    monkeypatch.setenv(caches.ENV_CACHE, "1")
    monkeypatch.setenv(caches.ENV_CACHE_DIR, str(tmp_path))
    seed_data = lambda s: {"seed": s}  # noqa: E731
    a = bg.BeyondGDConfig(seeds=(0, 1))
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", False)
    for _ in range(2):
        monkeypatch.setattr(bg, "_TUNED", {})
        bg._tune_once(a, "gd", seed_data, 9)
    assert len(calls) == 2 and not (tmp_path / "results").exists()  # off unless the command line turned it on
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", True)
    got = []
    for _ in range(2):  # two runs (a fresh process each: an empty in-process table)
        monkeypatch.setattr(bg, "_TUNED", {})
        got.append(bg._tune_once(bg.BeyondGDConfig(seeds=(7,)), "gd", seed_data, 9))
    assert len(calls) == 3 and got[1]["eta"] == got[0]["eta"] == tuned["eta"]
    assert got[1]["grid_value"] == 0.5 and len(list((tmp_path / "results").glob("*.json"))) == 1
    monkeypatch.setattr(bg, "_TUNED", {})
    bg._tune_once(bg.BeyondGDConfig(seeds=(7,), steps=77), "gd", seed_data, 9)  # another configuration
    assert calls[-1] == (77, "gd") and len(calls) == 4
    monkeypatch.setattr(bg, "_TUNED", {})
    monkeypatch.setattr(verify, "_CODE_VERSION", "another code")  # the code changed: computed again
    bg._tune_once(a, "gd", seed_data, 9)
    assert len(calls) == 5
