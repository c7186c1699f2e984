"""T6 (OURS): the linearised (fixed-Gram) prediction of the GD loss curve, and which labels slow down.

    r_t = (I - (eta/N) G)^t r_0,   L_t = (1/(2N)) sum_i (1 - eta lambda_i/N)^{2t} (u_i^T r_0)^2,

with G = J J^T at initialisation (``sims.rates.linearise``).  A close pair creates a small
eigenvalue along (e_i - e_j)/sqrt 2 (T4); the slowdown is large only when the residual has weight
there, i.e. when the labels of the pair differ (random labels), and small for smooth or equal labels.

Experiment (``_trajectories.width_sweep``, shared with C3): N = 8 points on S^15, one pair planted
at h_min = eps for 5 values of eps over 2 decades (3.2e-3 .. 0.32), three label modes, shallow tanh
nets of widths 16 .. 1024 (NTK scaling), eta = N / lambda_max(G_0), R = 4000 GD steps; time to
eps = first t with L_t <= 1e-3 L_0 (inf = not reached within R: censored at R).  The design (eps
range, threshold, R) was fixed from the linearised prediction alone: it predicts, for random labels,
T(h_min = 0.32) of a few hundred steps and T(h_min = 3.2e-3) of ~1e6-1e7, i.e. far beyond R.

Rule, PRE-REGISTERED (written and committed before it was run on any data; it replaces a rule whose
run filter and band were chosen after looking, see "History" below).  Judged runs: ALL runs at the
widest width W of the sweep (fixed by the preset before any run: 256 quick, 1024 default, 2048 full;
width is known before the run, nothing is selected on an outcome).
  (Q) qualitative (unchanged): the slowdown ratio S = T(smallest h_min) / T(largest h_min) per (mode,
      seed), an interval when censored ([R / T(h_max), inf)); a mode "slows down" if the median lower end
      is >= 10, "does not" if the median upper end is <= 2, else undecided.  T6 predicts: random slows
      down, smooth and equal do not.  Holds if every mode is as predicted; violated if a mode is decided
      the other way; inconclusive if undecided.
  (A) quantitative: for EVERY run at width W, measured/predicted steps-to-eps must lie in the band
      [1/B, B], B = 1.15.  Both times are first crossings of an integer step grid, so the crossing lies in
      (T - 1, T]: the ratio is the interval [(T_meas - 1)/T_pred, T_meas/(T_pred - 1)]; a censored run
      gives [R / T_pred, inf); a diverged run gives [inf, inf).  A run is violated when its interval
      misses the band, holds when inside, inconclusive when it straddles.  (A) is violated if any run is
      violated, holds if >= 3 runs hold and none is violated, else inconclusive.
      Grounds for B (stated before running): at width m the training dynamics differ from the
      linearised ones by O(m^-1/2) relative (Lee et al. 2019), ~0.03 at m = 1024; B = 1.15 leaves a factor
      ~5 for the constant, and catches a prediction 1.25x off (below).
  Power: a prediction too slow by a factor f (predicted steps x f) is caught iff some judged run has
      rho_hi / f < 1/B, i.e. f > B min_i rho_hi,i; too fast by f iff f > B / max_i rho_lo,i.  Reported
      over the runs that hold (the error that would turn a holding run violated).  With the measured ratios near 1 (|rho - 1| < 0.087) a 1.25x-off prediction is caught
      in both directions; the report gives the smallest f caught each way from the measured intervals.
  What could make a true T6 come out "violated", and the guard: finite width (the band's tolerance,
      grounds above); the step grid (the ratio is an interval); censoring at R (an interval reaching inf:
      never violated for being slow beyond R); divergence (counted as violated: the linearised dynamics
      with eta lambda_max/N <= 2 never diverge, so a diverged run contradicts the prediction).  Many runs
      are judged, but each "violated" is certain up to the band (no statistics, no multiple-testing
      inflation).  NOT guarded: T6's hypothesis ("the Gram matrix stays near G") cannot be checked before
      a run; runs that leave it (random labels with a close pair: the Gram matrix moves) are judged like
      the others, as the pre-registered rule says (C3 reports how far G moves).
  History (disclosure): the previous rule judged only runs whose Gram matrix moved <= 10% in the same
      run (a filter on the outcome, added after a first look) with the band [1/2, 2] (a prediction 1.5x
      off passed).  It was replaced once by the rule above, before running it.
Variants (test hooks): ``slow_modes=("random", "smooth", "equal")`` (a false qualitative prediction),
``pred_scale=f`` (predicted steps x f; 1.25 must be caught on runs where the prediction holds).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hmin.sims.checks._trajectories import SWEEP_PRESETS, SweepConfig, as_float, shared_width_sweep
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, worst
from hmin.sims.plotting import MODE_COLORS, plt, save, styled

ID = "T6"

SLOW_MIN = 10.0
FLAT_MAX = 2.0
BAND_FACTOR = 1.15
BAND = (1.0 / BAND_FACTOR, BAND_FACTOR)
MIN_HOLD_RUNS = 3
EXPECTED_SLOW = ("random",)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T6 check: the planted-pair width sweep shared with C3 (one per preset in `SETTINGS`)."""

    sweep: SweepConfig = SWEEP_PRESETS["default"]


SETTINGS = {p: Settings(sweep=SWEEP_PRESETS[p]) for p in ("quick", "default", "full")}


def measure(ctx) -> dict:
    """The planted-pair width sweep shared with C3 (one measurement, cached in-process; its random stream is
    that of (seed, "T6") for both statements: see ``_trajectories.SWEEP_STREAM_ID``)."""
    out = shared_width_sweep(ctx, ctx.settings.sweep)
    out["settings"] = dataclasses.asdict(ctx.settings)
    return out


def _ratio_interval(meas: float, pred: float, R: int, diverged: bool) -> tuple[float, float]:
    """measured/predicted steps-to-eps as an interval: both are first crossings on the integer step grid,
    so each crossing lies in (T - 1, T]; censored (meas = inf) -> [R/pred, inf); diverged -> [inf, inf).

    Examples:
        >>> _ratio_interval(100.0, 50.0, 1000, False)
        (1.98, 2.0408163265306123)
        >>> _ratio_interval(float("inf"), 100.0, 1000, False)
        (10.0, inf)
    """
    if diverged:
        return (float("inf"), float("inf"))
    if not np.isfinite(pred) or pred <= 0:
        return (float("nan"), float("nan"))
    if np.isfinite(meas):
        lo = max(meas - 1.0, 0.0) / pred
        hi = meas / (pred - 1.0) if pred > 1 else float("inf")
        return (lo, hi)
    return (R / pred, float("inf"))


def _in_band(iv: tuple[float, float], band) -> str:
    lo, hi = iv
    if not np.isfinite(lo) and not np.isinf(lo):
        return INCONCLUSIVE
    if lo > band[1] or hi < band[0]:
        return VIOLATED
    if lo >= band[0] and hi <= band[1]:
        return HOLDS
    return INCONCLUSIVE


def slowdown(runs: list[dict], mode: str, seed: int, key: str = "steps_to_eps_measured") -> tuple[float, float]:
    """[lower, upper] of T(smallest h_min) / T(largest h_min) for one (mode, seed); censoring-aware.

    A censored T(smallest h_min) (inf: not reached in R steps) gives [R / T(largest), inf); a censored
    T(largest h_min) says nothing: [0, inf).

    Example:
        >>> runs = [{"mode": "random", "seed": 0, "h_min": h, "steps_run": 1000, "steps_to_eps_measured": t}
        ...         for h, t in ((1e-3, float("inf")), (0.3, 50))]
        >>> slowdown(runs, "random", 0)
        (20.0, inf)
    """
    rs = sorted([r for r in runs if r["mode"] == mode and r["seed"] == seed], key=lambda r: r["h_min"])
    lo_r, hi_r = rs[0], rs[-1]
    R = lo_r["steps_run"]
    t_small = as_float(lo_r[key])
    t_large = as_float(hi_r[key])
    if key == "steps_to_eps_predicted":
        return (t_small / t_large, t_small / t_large)
    if not np.isfinite(t_large):
        # the largest h_min is censored too: nothing can be said about the ratio
        return (0.0, float("inf"))
    if np.isfinite(t_small):
        return (t_small / t_large, t_small / t_large)
    return (R / t_large, float("inf"))


def judge(measured: dict, *, slow_modes=EXPECTED_SLOW, pred_scale: float = 1.0, band=BAND) -> Verdict:
    """Apply the T6 rule (module docstring) at the widest width of the sweep.

    Args:
        measured: the output of :func:`measure`.
        slow_modes: the label modes predicted to slow down (T6: random only).
        pred_scale: multiplies the predicted steps (a false variant: 10).
        band: the agreement band of measured/predicted steps.
    """
    runs_all = measured["runs"]
    wmax = max(r["width"] for r in runs_all)
    runs = [r for r in runs_all if r["width"] == wmax]
    modes = sorted({r["mode"] for r in runs}, key=["random", "smooth", "equal"].index)
    seeds = sorted({r["seed"] for r in runs})
    # (Q) qualitative
    q_parts, q_numbers = [], {}
    for mode in modes:
        ivs = [slowdown(runs, mode, s) for s in seeds]
        lo = float(np.median([iv[0] for iv in ivs]))
        hi = float(np.median([iv[1] for iv in ivs]))
        pred = float(np.median([slowdown(runs, mode, s, "steps_to_eps_predicted")[0] for s in seeds]))
        if lo >= SLOW_MIN:
            decided = "slows"
        elif hi <= FLAT_MAX:
            decided = "flat"
        else:
            decided = "undecided"
        expect = "slows" if mode in slow_modes else "flat"
        part = INCONCLUSIVE if decided == "undecided" else (HOLDS if decided == expect else VIOLATED)
        q_parts.append(part)
        q_numbers[mode] = {"S_measured": [lo, hi], "S_predicted_linearised": pred, "decided": decided,
                           "T6_expects": expect}
    # (A) quantitative: every run at the widest width (selected by width, known before the run)
    a_parts, judged = [], []
    for r in runs:
        pred = as_float(r["steps_to_eps_predicted"]) * pred_scale
        iv = _ratio_interval(as_float(r["steps_to_eps_measured"]), pred, r["steps_run"], r["diverged"])
        rec = {"mode": r["mode"], "seed": r["seed"], "h_min": r["h_min"], "ratio": iv,
               "gram_change": r["gram_change_max"], "verdict": _in_band(iv, band)}
        a_parts.append(rec["verdict"])
        judged.append(rec)
    n_hold = sum(p == HOLDS for p in a_parts)
    if any(p == VIOLATED for p in a_parts):
        a_verdict = VIOLATED
    elif n_hold >= MIN_HOLD_RUNS:
        a_verdict = HOLDS
    else:
        a_verdict = INCONCLUSIVE
    q_verdict = worst(q_parts)
    sub = {"qualitative": q_verdict, "quantitative": a_verdict}
    verdict = worst(list(sub.values()))
    fin = [x for x in judged if np.isfinite(x["ratio"][1]) and np.isfinite(x["ratio"][0])]
    bad = [x for x in judged if x["verdict"] == VIOLATED]
    R = runs[0]["steps_run"]
    # power: the smallest factor f caught each way (pred x f: caught iff rho_hi/f < 1/B; pred / f: iff f rho_lo > B)
    # computed on the runs that hold: the smallest error of the prediction that would turn one of them violated
    held = [x for x in judged if x["verdict"] == HOLDS]
    f_slow = min(x["ratio"][1] for x in held) / band[0] if held else float("nan")
    f_fast = band[1] / max(x["ratio"][0] for x in held) if held else float("nan")
    rule = (f"at the widest width ({wmax}; selected by width, known before the run): (Q) slowdown S = "
            f"T(h_min smallest)/T(h_min largest) (censoring-aware interval, T = steps to L_t <= "
            f"{measured['config']['loss_eps']:g} L_0 within R = {R}); a mode slows if median lower end >= "
            f"{SLOW_MIN:g}, is flat if median upper end <= {FLAT_MAX:g}; T6 expects {'/'.join(slow_modes)} to slow "
            f"and the others flat.  (A) EVERY run: measured/predicted steps (predicted x {pred_scale:g}) as an "
            f"interval [(T_m - 1)/T_p, T_m/(T_p - 1)] (censored: [R/T_p, inf)) in the band [{band[0]:.4g}, "
            f"{band[1]:.4g}]; violated if any run's interval misses the band, holds if >= {MIN_HOLD_RUNS} runs "
            "inside and none outside, else inconclusive.  Pre-registered (module docstring)")
    worst_bad = sorted(bad, key=lambda x: -abs(np.log(max(min(x["ratio"][1], 1e300), 1e-300))))[:6]
    numbers = {
        "verdict_parts": sub,
        "quantitative_counts": [len(judged), n_hold, len(bad), sum(p == INCONCLUSIVE for p in a_parts)],
        "ratio_range": [min((x["ratio"][0] for x in fin), default=float("nan")),
                        max((x["ratio"][1] for x in fin), default=float("nan"))],
        "band": [band[0], band[1]],
        "violated_runs": [f"{x['mode']}/s{x['seed']}/h={x['h_min']:.2g}: [{x['ratio'][0]:.3g}, {x['ratio'][1]:.3g}] "
                          f"(Gram change {x['gram_change']:.2g})" for x in worst_bad],
        "slowdown_per_mode": q_numbers,
        "power_factor_slow": f_slow,
        "power_factor_fast": f_fast,
        "width": wmax,
        "gram_change_max_widest": float(max(r["gram_change_max"] for r in runs)),
        "gap_by_width": _gap_by_width(runs_all),
    }
    labels = {
        "verdict_parts": "verdict of each part",
        "quantitative_counts": "(A) runs judged / held / violated / inconclusive (all runs at the widest width)",
        "ratio_range": "measured/predicted steps to eps, range over judged runs with finite intervals",
        "band": "band for measured/predicted (pre-registered)",
        "violated_runs": "violated runs (mode/seed/h_min: ratio interval; max Gram change), worst first",
        "slowdown_per_mode": "slowdown S = T(smallest h_min)/T(largest h_min) per label mode",
        "power_factor_slow": "power: on the runs that hold, a prediction too slow by a factor above this is caught",
        "power_factor_fast": "power: on the runs that hold, a prediction too fast by a factor above this is caught",
        "width": "width judged (the widest of the sweep)",
        "gram_change_max_widest": "max Gram change max_t ||G_t-G_0||_F/||G_0||_F at the widest width",
        "gap_by_width": "per width: [median |log(T_meas/T_pred)| (comparable runs), median max_t |L_t - L_t^lin|/L_0, "
                        "median max_t ||G_t-G_0||_F/||G_0||_F]",
    }
    notes = ("OURS.  h_min = planted-pair distance (not q_X).  The prediction uses G at initialisation only.  "
             "Pre-registered rule (module docstring): every run at the widest width is judged (selected by width, "
             "known before the run), band [1/1.15, 1.15] on measured/predicted steps as an interval (step grid, "
             "censoring).  False alarms and guards: finite width (the band), the step grid and censoring (intervals), "
             "divergence (counted); T6's hypothesis 'G stays near G_0' cannot be checked before a run, so runs that "
             "leave it (random labels with a close pair: see the Gram change) are judged too, and a 'violated' then "
             "says that the fixed-Gram prediction fails for them at this width.  History: the earlier rule judged "
             "only runs whose Gram matrix moved <= 10% in the same run (chosen after looking) with the band [1/2, 2].")
    power = (f"(A) on the runs where the prediction holds, a prediction too slow by a factor above {f_slow:.3g} or "
             f"too fast by a factor above {f_fast:.3g} is caught (from their ratio intervals and the band [1/1.15, "
             "1.15]); a 1.25x-off prediction is caught when these are below 1.25.  (Q) catches a mode predicted to slow down that does not "
             "(median slowdown upper end <= 2) or vice versa (lower end >= 10)")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power)


def _gap_by_width(runs: list[dict]) -> dict:
    out = {}
    for w in sorted({r["width"] for r in runs}):
        rs = [r for r in runs if r["width"] == w]
        errs = [abs(np.log(as_float(r["steps_to_eps_measured"]) / as_float(r["steps_to_eps_predicted"])))
                for r in rs if np.isfinite(as_float(r["steps_to_eps_measured"]))
                and np.isfinite(as_float(r["steps_to_eps_predicted"])) and not r["diverged"]]
        curve = [as_float(r["curve_error"]) for r in rs]
        out[str(w)] = [round(float(np.median(errs)), 4) if errs else float("nan"),
                       round(float(np.median(curve)), 4), round(float(np.median([r["gram_change_max"] for r in rs])), 4)]
    return out


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    runs_all = measured["runs"]
    wmax = max(r["width"] for r in runs_all)
    runs = [r for r in runs_all if r["width"] == wmax]
    R = runs[0]["steps_run"]
    paths = []
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(11.5, 4.3))
    jit = {"random": 0.96, "smooth": 1.0, "equal": 1.04}
    for mode in ["random", "smooth", "equal"]:
        rs = [r for r in runs if r["mode"] == mode]
        if not rs:
            continue
        c = MODE_COLORS[mode]
        h = np.array([r["h_min"] for r in rs]) * jit[mode]
        meas = np.array([as_float(r["steps_to_eps_measured"]) for r in rs])
        pred = np.array([as_float(r["steps_to_eps_predicted"]) for r in rs])
        ok = np.isfinite(meas)
        ax1.loglog(h[ok], meas[ok], "o", color=c, ms=5, label=f"{mode}: measured")
        if (~ok).any():
            ax1.loglog(h[~ok], np.full((~ok).sum(), R), "^", mfc="none", color=c, ms=7,
                       label=f"{mode}: not reached in R = {R} (censored)")
        ax1.loglog(h, pred, "x", color=c, ms=6, label=f"{mode}: T6 predicted (G at init)")
    ax1.axhline(R, color="k", ls=":", lw=0.8)
    ax1.set_xlabel("h_min (planted pair distance; not q_X)")
    ax1.set_ylabel(f"steps to L_t <= {measured['config']['loss_eps']:g} L_0")
    ax1.set_title(f"width {wmax}: measured (o) vs linearised prediction (x)")
    ax1.legend(fontsize=6)
    # loss curves, seed 0, smallest and largest h_min, each mode
    s0 = min(r["seed"] for r in runs)
    for mode in ["random", "smooth", "equal"]:
        rs = sorted([r for r in runs if r["mode"] == mode and r["seed"] == s0], key=lambda r: r["h_min"])
        for r, ls in ((rs[0], "-"), (rs[-1], "-.")) if rs else ():
            t = np.asarray(r["curve_t"])
            ax2.semilogy(t, np.asarray(r["curve_measured"], dtype=float), ls, color=MODE_COLORS[mode], lw=1.3,
                         label=f"{mode}, h_min={r['h_min']:.1e}: measured")
            ax2.semilogy(t, np.asarray(r["curve_predicted"], dtype=float), ls, color=MODE_COLORS[mode], lw=0.7,
                         alpha=0.6, label=f"{mode}, h_min={r['h_min']:.1e}: predicted")
    ax2.axhline(measured["config"]["loss_eps"], color="k", ls=":", lw=0.8)
    ax2.set_ylim(1e-12, 10.0)
    ax2.set_xlabel("GD step t")
    ax2.set_ylabel("L_t / L_0 (thick: measured, thin: T6 linearised)")
    ax2.set_title(f"loss curves (width {wmax}, seed {s0})")
    ax2.legend(fontsize=5, ncol=2)
    parts = verdict.numbers["verdict_parts"]
    fig.suptitle(f"T6: {verdict.verdict} (qualitative {parts['qualitative']}, quantitative {parts['quantitative']})")
    paths.append(ctx.rel(save(fig, ctx.fig("t06_time_to_eps.png"))))
    return paths


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"all modes slow down": {"slow_modes": ("random", "smooth", "equal")},
                              "predicted steps x 1.25": {"pred_scale": 1.25}})
