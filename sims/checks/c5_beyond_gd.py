"""C5 (reviewers' question: "the theory is about full-batch GD; practitioners use SGD and Adam"): does a
close pair slow training under mini-batch SGD, momentum and Adam, and does T6's label dependence survive?

Experiment: ``hmin run beyond-gd`` (``sims.experiments.beyond_gd``) at this preset: planted-pair sets
(N = 8 points on S^15, one pair at h_min = eps over 2 decades), random / smooth / equal labels, 3
evaluation seeds, a shallow tanh net, and four optimizers (full-batch GD, mini-batch SGD with B = 2,
heavy-ball momentum 0.9, Adam), each at one step size tuned once on separate tuning seeds at the
largest eps (the tuning rule is in that module's docstring, written before the first run).

Rule (the experiment's, amended for issue 17 and committed before it ran on any data): per optimizer,
label mode and seed the slowdown S = T(smallest h_min) / T(largest h_min), T = steps to
L_t <= 1e-3 L_0, is an interval ([steps / T(largest), inf) when censored), and each seed has an
OUTCOME (``beyond_gd.seed_outcome``): "diverged" (either run diverged: counted, never a NaN median),
"reference censored", "cap < 50" (the censoring cap R / T(largest h_min) under 50), or "usable".
A mode "diverges" when more than a quarter of the seeds diverged; otherwise, on the usable seeds (at
least three quarters of the seeds, else undecided), it "slows down" when the median lower end is
>= 10, "does not" when the median upper end is <= 2, else undecided.  The default preset has 8
evaluation seeds and R = 30000 steps (so that R / T(h_max) >= 50 can hold for every optimizer).
T6 predicts, for full-batch GD: random labels slow down, smooth and equal labels do not.
holds = that pattern is decided as predicted under every optimizer (T6's label dependence survives);
violated = under some optimizer a mode is decided against it ("slows" where T6 predicts "no slowdown"
or the reverse); a mode that "diverges" is outside T6's hypothesis (a step beyond stability) and makes
that part inconclusive, with the count in the answer; inconclusive otherwise.
The step sizes are tuned once on the experiment's tuning seeds 100-103 (never evaluation seeds; seed 100 alone
until round 4 of issue 17, when momentum's step tuned on it diverged on every development seed; they are the one
place seeds >= 100 were looked at during development).
Variants (test hooks): ``slow_modes`` replaces the predicted set of slowed modes (``("random",
"smooth", "equal")``, the false "every close pair slows training", must be violated); ``slow_min`` and
``flat_max`` replace the thresholds 10 and 2.
Power: C5 predicts which modes slow down, not by how much; a wrong size of the slowdown is not a
false prediction of this rule (the measured log-log slope of T vs h_min is reported, not judged).
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np

from hmin.sims.experiments.beyond_gd import answer, FLAT_MAX, PRESETS, run, SLOW_MIN
from hmin.sims.registry import Check
from hmin.sims.store import as_float
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, worst

ID = "C5"

SLOW_MODES = ("random",)


def _config(ctx):
    """The preset's experiment config with its evaluation seeds taken from C5's own random stream
    (``ctx.stream``); the tuning seeds stay the experiment's (one step size per optimizer, tuned once)."""
    cfg = ctx.settings
    base = ctx.stream % (2**31 - 2**16)
    seeds = tuple(base + s for s in cfg.seeds)
    while set(cfg.tune_seeds) & set(seeds):  # never a tuning seed (probability ~ 1e-9)
        seeds = tuple(s + len(cfg.seeds) for s in seeds)
    return dataclasses.replace(cfg, seeds=seeds)


def measure(ctx) -> dict:
    """Run (or resume) the beyond-gd experiment of this preset; its summary is the measurement."""
    return run(_config(ctx), ctx.outdir / "measured" / "beyond_gd", plot_figures=False)


def _decide(d: dict, slow_min: float, flat_max: float) -> str:
    from hmin.sims.experiments.beyond_gd import decide_mode

    outcomes = d.get("outcomes") or ["usable" if np.isfinite(as_float(a)) else "reference censored"
                                     for a, _ in d["intervals"]]
    return decide_mode(d["intervals"], outcomes, slow_min=slow_min, flat_max=flat_max)


def judge(measured: dict, *, slow_modes=SLOW_MODES, slow_min: float | None = None,
          flat_max: float | None = None) -> Verdict:
    """Apply the C5 rule (module docstring) to the beyond-gd summary.

    Args:
        measured: the summary of ``sims.experiments.beyond_gd.run``.
        slow_modes: the label modes predicted to slow down (T6: random only).
        slow_min, flat_max: the decision thresholds (default: the experiment's 10 and 2).
    """
    slow_min = SLOW_MIN if slow_min is None else slow_min
    flat_max = FLAT_MAX if flat_max is None else flat_max
    parts, table, decisions, cap_min = {}, {}, {}, {}
    n_div = n_seeds = 0
    for opt, per_mode in measured["decisions"].items():
        decisions[opt] = {}
        for mode, d in per_mode.items():
            dec = _decide(d, slow_min, flat_max)
            want = "slows" if mode in slow_modes else "no slowdown"
            v = HOLDS if dec == want else (INCONCLUSIVE if dec in ("undecided", "diverges") else VIOLATED)
            parts[f"{opt}/{mode}"] = v
            outs = d.get("outcomes") or []
            use = [as_float(a) for (a, _), o in zip(d["intervals"], outs or ["usable"] * len(d["intervals"]))
                   if o == "usable"]
            med = float(np.median(use)) if use else float("nan")
            decisions[opt][mode] = {**d, "decision": dec, "median_lower": med}
            counts = ", ".join(f"{k} {outs.count(k)}" for k in sorted(set(outs))) if outs else "-"
            median = (f"median slowdown >= {med:.3g}x over usable seeds" if use
                      else "no usable seed, so no slowdown measured")
            table[f"{opt}/{mode}"] = f"{dec} ({median}; seeds: {counts}; predicted: {want})"
            caps = [c for c in (d.get("caps") or []) if c is not None and np.isfinite(as_float(c))]
            cap_min[f"{opt}/{mode}"] = float(np.min(caps)) if caps else float("nan")
            n_div += outs.count("diverged")
            n_seeds += len(outs)
    verdict = worst(list(parts.values())) if parts else INCONCLUSIVE
    cfg = measured["config"]
    rule = (f"per optimizer, label mode and seed: S = T(h_min = {min(cfg['eps_values']):.3g}) / T(h_min = "
            f"{max(cfg['eps_values']):.3g}), T = steps to L_t <= {cfg['loss_eps']:g} L_0 (censored: [steps/T, inf)); "
            f"seed outcomes: diverged / reference censored / cap R/T(h_max) < {cfg.get('min_cap', 10):g} / usable; a mode "
            "diverges if > 1/4 of its seeds diverged, else on >= 3/4 usable seeds: "
            f"slows if the median lower end >= {slow_min:g}, no slowdown if the median upper end <= {flat_max:g}; "
            f"holds = under every optimizer exactly the modes {list(slow_modes)} slow down (T6's label dependence "
            "survives); violated = some mode decided against that; else inconclusive")
    numbers = {
        "answer": answer(decisions),
        "verdict_parts": parts,
        "decisions": table,
        "tuned_steps": {o: (f"eta = {t['eta']:.3g}" if o == "adam" else
                                         f"s = {t['grid_value']:g} (eta = s N / lambda_max(G_0))")
                                     for o, t in measured["tuning"].items()},
        "median_steps_random": {
            o: {f"{r['eps']:.3g}": r["median"] for r in tab if r["mode"] == "random"}
            for o, tab in measured["steps_to_eps"].items()},
        "diverged_seeds": [n_div, n_seeds],
        "diverged_runs_random": {
            o: {f"{r['eps']:.3g}": f"{r.get('diverged', 0)}/{r.get('runs', 0)}" for r in tab if r["mode"] == "random"}
            for o, tab in measured["steps_to_eps"].items()},
        "censoring_cap_min": cap_min,
        "seeds": len(cfg.get("seeds", ())),
        "steps": cfg.get("steps"),
        "slope_random": {
            o: round(as_float(v["slope"]), 2) if np.isfinite(as_float(v["slope"])) else None
            for o, v in measured.get("random_label_slope", {}).items()},
        "wall_s": measured.get("wall_time_s"),
    }
    labels = {
        "answer": "answer in words",
        "verdict_parts": "verdict per optimizer/label mode",
        "decisions": "decision per optimizer/mode",
        "tuned_steps": "tuned step per optimizer",
        "median_steps_random": "median steps to eps, random labels, per h_min",
        "diverged_runs_random": "diverged runs / runs, random labels, per optimizer and h_min",
        "diverged_seeds": "diverged (optimizer, mode, seed) outcomes [diverged, all] (counted, not a NaN median)",
        "censoring_cap_min": "smallest censoring cap R / T(largest h_min) over seeds per optimizer/mode (>= 50 needed)",
        "seeds": "evaluation seeds",
        "steps": "steps per run R",
        "slope_random": "log-log slope of median T vs h_min, random labels (uncensored points)",
        "wall_s": "wall time (s)",
    }
    notes = ("OURS (a reviewers' question).  T6 is proved for full-batch GD only; this measures whether its "
             "qualitative prediction carries over.  Each optimizer runs at one step size tuned once on separate "
             "tuning seeds at the largest h_min (no close pair) and then fixed; a different tuning rule could change the "
             "numbers.  Mini-batch SGD and Adam runs are measured on the full-set loss.  The design (N = 8, "
             "threshold 1e-3, s <= 1) was revised once for GD/T6 reasons before any verdict; see the docstring "
             "of sims/experiments/beyond_gd.py.")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes,
                   power=(f"a mode is decided only beyond the thresholds (slowdown >= {slow_min:g}x or <= {flat_max:g}x), so "
                          "the rule catches a wrong prediction of which label modes slow down (the false variant 'every "
                          "close pair slows training' is violated), not a wrong size of the slowdown: C5 predicts no "
                          "rate, exponent or number of steps (the random-label slope is reported, not judged)"))


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from hmin.sims.experiments.beyond_gd import plot as plot_exp

    tmp = ctx.outdir / "measured" / "beyond_gd" / "figures"
    paths = plot_exp(measured, tmp)
    src = tmp.parent / paths[0]
    dst = ctx.fig("c5_beyond_gd.png")
    shutil.copyfile(src, dst)
    return [ctx.rel(dst)]


def _settings():
    return dict(PRESETS)


CHECK = Check(id=ID, settings=_settings(), measure=measure, judge=judge, plot=plot,
              false_variants={"every close pair slows training": {"slow_modes": ("random", "smooth", "equal")}})
