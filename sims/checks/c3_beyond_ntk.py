"""C3 (reviewers' question: "beyond NTK" is disputed): how far do the weights and the Gram matrix move
during GD, against width, and below which width does the NTK-at-initialisation prediction (T6)
stop matching?

Experiment: the planted-pair width sweep shared with T6 (``_trajectories.width_sweep``: N = 8 points
on S^15, one pair at h_min = eps over 2 decades, random / smooth / equal labels, shallow tanh nets of
widths 16 .. 1024 in NTK scaling, eta = N / lambda_max(G_0), R = 4000 steps).  Measured per run:
||theta_R - theta_0||, ||theta_R - theta_0|| / ||theta_0||, max_t ||G_t - G_0||_F / ||G_0||_F, and the
T6 prediction error |log(T_measured / T_predicted)| of the steps to L_t <= 1e-3 L_0 (runs where both
are finite and the run did not diverge; a diverged run counts as an infinite error).

Rule (round 3, issue 17; written and committed before it was run on data; the BAND was chosen after looking
at data and is called so: the fresh seeds 7306-7315 did not confirm it, see "History").
  Hypothesis, decided BEFORE each run: the NTK scaling is a statement about the lazy regime.  A run whose
      a-priori predicted Gram drift (``sims.regime``: ||G - G_0||_F / ||G_0||_F along the prediction's own
      linearised path, computed from the initialisation) is >= 0.5 is at a SATURATED width (pre-asymptotic: the
      relative change cannot keep shrinking as a power of the width there) and is outside the hypothesis.
      Diverged runs are excluded too and counted apart (their Gram change is that of a blow-up).
  (1) verdict, PER (label mode, h_min): for every sweep seed, the least-squares slope b of log(max_t
      ||G_t - G_0||_F / ||G_0||_F) on log(width) over the widths whose run is inside the hypothesis and did not
      diverge (at least 3 widths spanning >= 4x, else that seed is outside).  The cell's interval is
      [min b, max b] over its seeds; band [-1.2, -0.3] (NTK: O(width^-1/2) bound, O(width^-1) leading order,
      +-0.2).  A cell holds if its interval lies in the band, is violated if it misses the band, inconclusive
      if it straddles an end, outside if no seed has a slope.  (1) = the worst over cells (cells outside left
      out; all outside: outside hypothesis).
  (2) exploratory (NOT part of the verdict): the crossover W* per label mode, the smallest width from which
      on the median T6 prediction error |log(T_meas/T_pred)| is <= log(1.25).
  Power: a cell is caught (violated) when its slopes for every seed lie outside the band: the false "the Gram
      change does not shrink with width" (band [-0.2, 0.2]) is caught for every cell whose largest slope is
      below -0.2.  The report gives each cell's interval.
  What could make a true NTK scaling come out "violated", and the guard: saturated widths (dropped a priori);
      a diverged run (excluded, counted); noise of one seed (violated needs every seed outside).  NOT guarded:
      the widths are finite.
  History (disclosure): (1) one slope of the median over all modes with the band widened to [-1.2, -0.3] after
      a first run measured -0.97; (2) per mode, pooling every h_min and seed: random-label slopes are -0.7 to
      -0.8 at h = 0.003, -0.15 to -0.24 at h = 0.03-0.1, -0.4 to -0.6 at h = 0.32, and the pooled interval's
      lower end came from a diverged width-16 run (Gram change 2e4).  The band is the same interval, still
      "chosen after looking"; the per-cell judgement, the exclusions and the saturation threshold 0.5 are
      committed here before running.  On the fresh seeds 7306-7315 the band was NOT confirmed (combined
      inconclusive: 8 holds, 1 inconclusive, 1 violated, random labels at h_min = 0.01 below the band); it stays
      "chosen after looking", unchanged, and the seeds 7316-7325 measure it again (docs/preregistration.md).
Variants (test hooks): ``gram_slope_band=(lo, hi)`` replaces [-1.2, -0.3] (e.g. (-0.2, 0.2), the false
"the Gram matrix does not move less with width", must be violated); ``threshold`` replaces 1.25 in (2);
``saturation`` replaces 0.5.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hmin.sims.checks._trajectories import WIDTH_SWEEP, SWEEP_PRESETS, SweepConfig, as_float, shared_width_sweep
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, OUTSIDE, VIOLATED, Verdict, fit_loglog_slope, worst
from hmin.sims.plotting import MODE_COLORS, plt, save, styled

#: the shared measurement this check reads (`_trajectories.SharedMeasurement`)
MEASUREMENT = WIDTH_SWEEP

ID = "C3"

GRAM_SLOPE_BAND = (-1.2, -0.3)
THRESHOLD = 1.25
#: a run whose a-priori predicted Gram drift (sims.regime) is >= this is at a saturated width (pre-registered)
SATURATION = 0.5
#: widths needed for a slope, and their span (largest / smallest)
MIN_WIDTHS, MIN_SPAN = 3, 4.0
#: the hypotheses C3 decides before each run, and how (Check.hypotheses)
CHECK_HYPOTHESES = {"the width is in the lazy (unsaturated) regime": (
    f"predictor: the a-priori predicted Gram drift along the linearised path (sims.regime) < {SATURATION:g}; "
    "runs above it (saturated widths) are outside; diverged runs are excluded and counted apart")}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the C3 check: the planted-pair width sweep shared with T6 (one per preset in `SETTINGS`)."""

    sweep: SweepConfig = SWEEP_PRESETS["default"]


SETTINGS = {p: Settings(sweep=SWEEP_PRESETS[p]) for p in ("quick", "default", "full")}


def measure(ctx) -> dict:
    """The planted-pair width sweep shared with T6 (one measurement, cached in-process; its random stream is
    that of (seed, "T6") for both statements: see ``_trajectories.SWEEP_STREAM_ID``)."""
    out = shared_width_sweep(ctx, ctx.settings.sweep)
    out["settings"] = dataclasses.asdict(ctx.settings)
    return out


def _pred_error(r: dict) -> float:
    if r["diverged"]:
        return float("inf")
    m, p = as_float(r["steps_to_eps_measured"]), as_float(r["steps_to_eps_predicted"])
    if not (np.isfinite(m) and np.isfinite(p)) or p <= 0:
        return float("nan")
    return float(abs(np.log(m / p)))


def per_width(runs: list[dict], modes=None) -> dict:
    """Per width: medians of the movement measures and of the T6 prediction error (optionally per mode)."""
    out = {}
    for w in sorted({r["width"] for r in runs}):
        rs = [r for r in runs if r["width"] == w and (modes is None or r["mode"] in modes)]
        errs = np.array([_pred_error(r) for r in rs])
        errs = errs[~np.isnan(errs)]
        out[w] = {
            "gram_change": float(np.median([r["gram_change_max"] for r in rs])),
            "gram_change_max": float(np.max([r["gram_change_max"] for r in rs])),
            "param_dist": float(np.median([r["param_dist_end"] for r in rs])),
            "param_dist_rel": float(np.median([r["param_dist_rel_end"] for r in rs])),
            "pred_error": float(np.median(errs)) if errs.size else float("nan"),
            "comparable_runs": int(errs.size),
            "diverged": int(sum(r["diverged"] for r in rs)),
        }
    return out


def unit_slopes(runs: list[dict], mode: str) -> np.ndarray:
    """Slopes of log(max_t ||G_t - G_0||_F/||G_0||_F) on log(width), one per (seed, h_min) of a label mode
    (every run given; `cell_slopes` applies the exclusions of the rule).

    Example:
        >>> runs = [{"mode": "smooth", "seed": 0, "h_min": 0.1, "width": w, "gram_change_max": 2.0 / w}
        ...         for w in (16, 64, 256)]
        >>> [round(float(x), 6) for x in unit_slopes(runs, "smooth")]
        [-1.0]
    """
    units = sorted({(r["seed"], r["h_min"]) for r in runs if r["mode"] == mode})
    out = []
    for (s, h) in units:
        rs = sorted([r for r in runs if r["mode"] == mode and r["seed"] == s and r["h_min"] == h],
                    key=lambda r: r["width"])
        out.append(fit_loglog_slope([r["width"] for r in rs], [r["gram_change_max"] for r in rs])["slope"])
    return np.asarray(out, dtype=np.float64)


def inside_lazy(r: dict, saturation: float = SATURATION) -> bool:
    """C3's a-priori hypothesis for one run: predicted Gram drift (sims.regime) below ``saturation``.  A run
    measured before the regime index existed (no ``regime_gram_drift``) counts as inside."""
    g = as_float(r.get("regime_gram_drift", 0.0))
    return bool(np.isfinite(g) and g < saturation)


def cell_slopes(runs: list[dict], mode: str, h_min: float, saturation: float = SATURATION) -> dict:
    """Per seed of one (mode, h_min) cell: the Gram-change slope over the widths inside the hypothesis and not
    diverged (None where fewer than `MIN_WIDTHS` widths spanning `MIN_SPAN` remain).

    Example:
        >>> runs = [{"mode": "random", "seed": 0, "h_min": 0.1, "width": w, "gram_change_max": 2.0 / w,
        ...          "diverged": w == 16, "regime_gram_drift": 0.9 if w == 32 else 0.1} for w in (16, 32, 64, 128, 256)]
        >>> c = cell_slopes(runs, "random", 0.1); round(c["slopes"][0], 6), c["diverged"], c["saturated"]
        (-1.0, 1, 1)
    """
    rs = [r for r in runs if r["mode"] == mode and r["h_min"] == h_min]
    out = {"slopes": {}, "diverged": sum(bool(r["diverged"]) for r in rs),
           "saturated": sum((not r["diverged"]) and not inside_lazy(r, saturation) for r in rs)}
    for sd in sorted({r["seed"] for r in rs}):
        use = sorted([r for r in rs if r["seed"] == sd and not r["diverged"] and inside_lazy(r, saturation)],
                     key=lambda r: r["width"])
        ws = [r["width"] for r in use]
        if len(ws) >= MIN_WIDTHS and ws[-1] >= MIN_SPAN * ws[0]:
            out["slopes"][sd] = fit_loglog_slope(ws, [r["gram_change_max"] for r in use])["slope"]
        else:
            out["slopes"][sd] = None
    return out


def crossover(table: dict, threshold: float) -> dict:
    """W* = smallest width from which on the median error is <= log(threshold); located or not.

    Example:
        >>> tab = {16: {"pred_error": 0.9}, 64: {"pred_error": 0.3}, 256: {"pred_error": 0.1}}
        >>> crossover(tab, 1.25)["W_star"]
        256
    """
    ws = sorted(table)
    lim = np.log(threshold)
    errs = [table[w]["pred_error"] for w in ws]
    if any(not np.isfinite(e) and not np.isinf(e) for e in errs):
        return {"W_star": None, "located": False, "why": "a width without comparable runs"}
    ok = [e <= lim for e in errs]
    if not ok[-1]:
        return {"W_star": f"> {ws[-1]}", "located": False, "why": "error above threshold at the widest width"}
    k = len(ok) - 1
    while k > 0 and ok[k - 1]:
        k -= 1
    if k == 0:
        return {"W_star": f"<= {ws[0]}", "located": False, "why": "error below threshold at every width"}
    return {"W_star": int(ws[k]), "located": True, "why": f"error > threshold at width {ws[k - 1]}"}


def judge(measured: dict, *, gram_slope_band=GRAM_SLOPE_BAND, threshold: float = THRESHOLD,
          saturation: float = SATURATION) -> Verdict:
    """Apply the C3 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        gram_slope_band: the band for the slope of the relative Gram change vs width.
        threshold: the factor on the time to eps beyond which the T6 prediction "stops matching".
        saturation: the a-priori predicted Gram drift from which a run is at a saturated width (outside).
    """
    runs = measured["runs"]
    table = per_width(runs)
    ws = np.array(sorted(table), dtype=float)
    if ws.size < 2:
        return Verdict(ID, INCONCLUSIVE, "needs at least two widths", {"widths": ws.tolist()})
    gfit = fit_loglog_slope(ws, [table[w]["gram_change"] for w in sorted(table)])
    pfit = fit_loglog_slope(ws, [table[w]["param_dist_rel"] for w in sorted(table)])
    afit = fit_loglog_slope(ws, [table[w]["param_dist"] for w in sorted(table)])
    lo, hi = gram_slope_band
    modes = sorted({r["mode"] for r in runs}, key=["random", "smooth", "equal"].index)
    hs = sorted({r["h_min"] for r in runs})
    intervals, mode_parts, cells, n_div, n_sat = {}, {}, {}, 0, 0
    for m in modes:
        for h in hs:
            c = cell_slopes(runs, m, h, saturation)
            n_div += c["diverged"]
            n_sat += c["saturated"]
            sl = np.array([v for v in c["slopes"].values() if v is not None and np.isfinite(v)])
            key = f"{m}/h={h:.2g}"
            if not sl.size:
                cells[key] = {"interval": None, "verdict": OUTSIDE}
                continue
            iv = [float(np.min(sl)), float(np.max(sl))]
            if iv[0] >= lo and iv[1] <= hi:
                v = HOLDS
            elif iv[1] < lo or iv[0] > hi:
                v = VIOLATED
            else:
                v = INCONCLUSIVE
            cells[key] = {"interval": [round(iv[0], 3), round(iv[1], 3)], "verdict": v, "seeds": int(sl.size)}
        mode_cells = [c for k, c in cells.items() if k.startswith(m + "/")]
        mode_parts[m] = worst([c["verdict"] for c in mode_cells])
        ivs = [c["interval"] for c in mode_cells if c["interval"] is not None]
        intervals[m] = [min(i[0] for i in ivs), max(i[1] for i in ivs)] if ivs else [float("nan")] * 2
    p1 = worst([c["verdict"] for c in cells.values()])
    cross = {m: crossover(per_width(runs, (m,)), threshold) for m in modes}
    sub = {"gram_scaling": p1}
    verdict = p1
    per_mode_gram = {}
    for m in modes:
        t = per_width(runs, (m,))
        f = fit_loglog_slope(ws, [t[w]["gram_change"] for w in sorted(t)])
        per_mode_gram[m] = round(f["slope"], 3)
    wmin, wmax = int(ws[0]), int(ws[-1])
    rule = (f"Hypothesis decided before each run: a-priori predicted Gram drift (sims.regime) < {saturation:g} "
            "(else a saturated width: outside); diverged runs excluded and counted apart.  (1) per (label mode, "
            f"h_min) cell, for every seed the slope of log(max_t ||G_t - G_0||_F/||G_0||_F) on log(width) (widths "
            f"{wmin}..{wmax} inside the hypothesis, >= {MIN_WIDTHS} spanning >= {MIN_SPAN:g}x); the cell's interval "
            f"[min, max] over seeds must lie in [{lo:g}, {hi:g}] (band chosen after looking, to be confirmed on fresh "
            "seeds; NTK: O(width^-1/2) bound, O(width^-1) leading order, +-0.2): holds if inside, violated if the "
            "whole interval misses the band, inconclusive if it straddles; the verdict is the worst over cells.  (2) "
            f"exploratory, not in the verdict: W* per mode, the smallest width from which on the median T6 error "
            f"|log(T_meas/T_pred)| <= log({threshold:g}).  Module docstring")
    numbers = {
        "verdict_parts": sub,
        "cell_verdicts": {k: c["verdict"] for k, c in cells.items()},
        "cell_intervals": {k: c["interval"] for k, c in cells.items()},
        "excluded_runs": {"diverged": n_div, "saturated": n_sat, "saturation": saturation},
        "gram_slope_intervals": {m: [round(v, 3) for v in iv] for m, iv in intervals.items()},
        "mode_verdicts": mode_parts,
        "gram_slope_band": [lo, hi],
        "gram_slope": {"all": round(gfit["slope"], 3), **per_mode_gram},
        "gram_change_per_width": {str(int(w)): round(table[w]["gram_change"], 4) for w in ws},
        "widths": [int(w) for w in ws],
        "param_rel_slope": round(pfit["slope"], 3),
        "param_abs_slope": round(afit["slope"], 3),
        "param_dist_smallest_widest": [round(table[wmin]["param_dist"], 3), round(table[wmax]["param_dist"], 3)],
        "pred_error_per_width": {str(int(w)): round(table[w]["pred_error"], 4) for w in ws},
        "w_star": {m: c["W_star"] for m, c in cross.items()},
        "w_star_threshold": threshold,
        "gram_change_max_widest": round(table[wmax]["gram_change_max"], 4),
        "diverged_runs": int(sum(t["diverged"] for t in table.values())),
    }
    numbers["answer"] = _answer(gfit, intervals, mode_parts, (lo, hi), cross, table, wmin, wmax, threshold)
    labels = {
        "verdict_parts": "verdict of each part ((2), the crossover, is exploratory: not in the verdict)",
        "cell_verdicts": "per (label mode, h_min): the cell's verdict (outside: no seed with a slope inside the hypothesis)",
        "cell_intervals": "per (label mode, h_min): [min, max] over seeds of the slope of the Gram change vs width",
        "excluded_runs": "runs excluded: diverged (counted apart), saturated (a-priori predicted Gram drift >= threshold)",
        "gram_slope_intervals": "per mode: hull of its cells' intervals (descriptive)",
        "mode_verdicts": "per mode: the worst over its cells",
        "gram_slope_band": "band for the slope (chosen after looking, to be confirmed on fresh seeds; NTK's [-1, -1/2] +- 0.2)",
        "gram_slope": "slope of the median relative Gram change vs width (all runs pooled; per mode) - descriptive",
        "gram_change_per_width": "relative Gram change max_t ||G_t-G_0||_F/||G_0||_F (median) per width",
        "widths": "widths",
        "param_rel_slope": "slope of ||theta-theta0||/||theta0|| vs width (NTK: -1/2)",
        "param_abs_slope": "slope of ||theta-theta0|| vs width (NTK: 0)",
        "param_dist_smallest_widest": "||theta_R - theta_0|| (median) at the smallest / widest width",
        "pred_error_per_width": "T6 prediction error median |log(T_meas/T_pred)| per width",
        "w_star": "exploratory: W* per label mode (T6 time-to-eps within the threshold factor from W* on)",
        "w_star_threshold": "W* threshold (factor on time to eps)",
        "gram_change_max_widest": "max Gram change at the widest width (over runs)",
        "diverged_runs": "diverged runs",
        "answer": "answer, read from the numbers",
    }
    notes = ("Answer, read from the numbers: per (label mode, h_min), the range over seeds of the slope of the relative "
             "Gram change against width (saturated widths and diverged runs left out), judged against NTK's [-1, -1/2] "
             "+- 0.2, a band chosen after looking until the fresh seeds confirm it; W* (exploratory) is the width "
             "below which the NTK-at-initialisation prediction of the time to eps is off by more than the threshold.  "
             "Random labels on a close pair push the weights far (the pair's labels must be separated through a "
             "direction with eigenvalue ~ h_min^2), so for them the Gram matrix may not freeze within the sweep: "
             "'beyond NTK' then describes that training.  Rule and its false-alarm guards: module "
             "docstring.  History: earlier rules pooled the modes, then the h_min values (hiding that the slope depends "
             "on h_min) and counted a diverged run; the band was widened after a first look.")
    c_txt = ", ".join(f"{k}: [{c['interval'][0]:.2f}, {c['interval'][1]:.2f}]" for k, c in cells.items()
                      if c["interval"] is not None)
    power = (f"a cell is caught when every seed's slope lies outside the band; measured intervals {c_txt}: "
             "a false band is caught for a cell whose interval misses it (e.g. 'no freezing' [-0.2, 0.2] for cells "
             "with max slope < -0.2).  Part (2) is exploratory (no power claimed)")
    n_in = sum(c["interval"] is not None for c in cells.values())
    hyp = {"the width is in the lazy (unsaturated) regime": {"decided_by": CHECK_HYPOTHESES[
        "the width is in the lazy (unsaturated) regime"], "cells_inside": n_in, "cells": len(cells),
        "saturated_runs": n_sat, "diverged_runs": n_div}}
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power, hypothesis_counts=hyp)


def _answer(gfit, intervals, mode_parts, band, cross, table, wmin, wmax, threshold) -> str:
    """The answer to C3 in words, built from the measured numbers."""
    lo, hi = band
    parts = [f"relative Gram change {table[wmin]['gram_change']:.3g} at width {wmin} -> "
             f"{table[wmax]['gram_change']:.3g} at width {wmax} (median over all runs; pooled slope {gfit['slope']:.2f})"]
    words = {HOLDS: "freezes at an NTK rate (every slope in the band)",
             VIOLATED: "does NOT scale as NTK says (every slope outside the band)",
             INCONCLUSIVE: "straddles the band in some (h_min, seed) cell",
             OUTSIDE: "outside the hypothesis (every width saturated or diverged)"}
    for m, iv in intervals.items():
        parts.append(f"{m} labels: slopes [{iv[0]:.2f}, {iv[1]:.2f}] vs band [{lo:g}, {hi:g}] (chosen after looking): "
                     "Gram matrix " + words[mode_parts[m]])
    parts.append("exploratory: T6 time-to-eps within x" + f"{threshold:g} from width W* on: "
                 + ", ".join(f"{m}: {c['W_star']}" for m, c in cross.items()))
    return "; ".join(parts)


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    runs = measured["runs"]
    modes = sorted({r["mode"] for r in runs}, key=["random", "smooth", "equal"].index)
    fig, axes = pyplot.subplots(1, 3, figsize=(15, 4.2))
    for m in modes:
        t = per_width(runs, (m,))
        ws = np.array(sorted(t))
        c = MODE_COLORS[m]
        axes[0].loglog(ws, [t[w]["gram_change"] for w in ws], "o-", color=c, label=f"{m}: ||G_t-G_0||/||G_0|| (max over t)")
        axes[1].loglog(ws, [t[w]["param_dist_rel"] for w in ws], "o-", color=c, label=f"{m}: ||theta-theta0||/||theta0||")
        axes[1].loglog(ws, [t[w]["param_dist"] for w in ws], "s--", color=c, ms=4, lw=0.8,
                       label=f"{m}: ||theta-theta0||")
        e = np.array([t[w]["pred_error"] for w in ws])
        axes[2].semilogx(ws, np.where(np.isfinite(e), e, np.nan), "o-", color=c, label=m)
    all_t = per_width(runs)
    ws = np.array(sorted(all_t))
    g = np.array([all_t[w]["gram_change"] for w in ws])
    axes[0].loglog(ws, g[0] * (ws / ws[0]) ** -0.5, "k:", lw=1, label="reference width^-1/2 (NTK bound)")
    axes[0].loglog(ws, g[0] * (ws / ws[0]) ** -1.0, "k--", lw=0.8, label="reference width^-1")
    axes[0].set_xlabel("width m")
    axes[0].set_ylabel("relative Gram change (median over runs)")
    axes[0].set_title("Gram matrix movement (measured) vs NTK scaling (reference)")
    axes[0].legend(fontsize=6)
    axes[1].set_xlabel("width m")
    axes[1].set_ylabel("weight movement at the end of GD (median)")
    axes[1].set_title("weights: relative (o) and absolute (s)")
    axes[1].legend(fontsize=6)
    axes[2].axhline(np.log(THRESHOLD), color="k", ls=":", lw=1, label=f"threshold log({THRESHOLD:g})")
    axes[2].set_xlabel("width m")
    axes[2].set_ylabel("|log(T_measured / T_predicted)| (median; T = steps to eps)")
    axes[2].set_title("T6 (NTK at init) prediction error vs width")
    axes[2].legend(fontsize=6)
    ns = verdict.numbers
    fig.suptitle(f"C3: {verdict.verdict} (Gram slope {ns['gram_slope']['all']}; W* per mode {ns['w_star']})", fontsize=9)
    return [ctx.rel(save(fig, ctx.fig("c3_beyond_ntk.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"Gram change does not shrink with width": {"gram_slope_band": (-0.2, 0.2)},
                              "Gram change only at the bound's rate width^-1/2": {"gram_slope_band": (-0.7, -0.3)}},
              hypotheses=CHECK_HYPOTHESES, shares=(WIDTH_SWEEP.name,))
