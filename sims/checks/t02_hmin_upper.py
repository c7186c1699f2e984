"""T2 (OURS): P(h_min > r) <= 1 - p' + p' exp(-(N-1) pi_bar V_d r^d), and how loose it is.

Monte Carlo on uniform data where pi_bar and p' are known exactly for every r
(``_geometry_mc.omega_prime``): the cube [0, 1]^d with Omega' = [r, 1-r]^d (pi_bar = 1,
p' = (1-2r)^d), the unit ball with Omega' = B(0, 1-r) (pi_bar = 1/V_d, p' = (1-r)^d), and the flat
torus [0, 1)^d (no boundary: pi_bar = 1, p' = 1 for r <= 1/2: the paper's C = 1 form in its own
hypotheses; periodic h_min by ``_geometry_mc.hmin_batch_torus``).  d in {1, 2, 3, 5, 8}, N on a grid
(the torus also at N = 2, 3, 4, where the bound is nearly tight: at N = 2, P(h_min > r) = 1 - V_d r^d
against exp(-V_d r^d)), M independent draws; h_min (not q_X = h_min/2) exactly from differences.

Radii, fixed by the theory before any data: on T1's scale, N(N-1)/2 pi_bar V_d r^d = c for
c in {0.25, 1, 4} (where the true P(h_min > r) falls from ~0.8 to ~0.02), and on T2's own scale,
(N-1) pi_bar V_d r^d = c for c in {0.5, 2} (where the bound itself falls).  A radius whose bound is
>= 1 (p' = 0; on the torus r > 1/2) is vacuous and not tested.

Rule (pre-registered 2026-11-30, issue 9, before running it on data; changes from the earlier rule:
one-sided bound, informative tests counted apart, the torus at small N, the count guard):
  for every non-vacuous (domain, d, N, r), k = #{h_min > r (1 + 1e-12)} of M draws; violated iff the
  ONE-SIDED Clopper-Pearson lower bound of k/M (``sims.verdict.clopper_pearson_bound``) exceeds the
  bound for some test, the bounds at joint level 99% (Bonferroni over all tested radii).  A test is
  INFORMATIVE when its bound is < ``INFORMATIVE_BELOW`` = 0.9 (a bound of 0.95 can only be refuted by
  P(h_min > r) > 0.95; it is still tested, but not counted as support).  holds iff nothing is violated
  and at least ``MIN_INFORMATIVE`` = 10 tests are informative; otherwise inconclusive.
  Looseness (EXPLORATORY, reported, not judged): at delta = 0.05 the bound's radius
  r_upper = (log(1/delta) / (pi_bar (N-1) V_d))^(1/d) (the paper's C = 1, p' = 1 form) scales as
  N^(-1/d), the measured 95% quantile of h_min (the radius the truth needs) as N^(-2/d); both fitted
  slopes and their ratio at the largest N are reported.  This part can only describe; it cannot fail.

What could make the TRUE bound come out "violated", and the guard:
  * sampling (M draws): exact one-sided binomial bounds; multiple testing: Bonferroni, joint 99%;
  * round-off: h_min exact from differences (periodic ones by t - round(t), exact); k counts only
    h_min > r (1 + 1e-12), so a sample within round-off of r never counts towards a violation;
  * estimator bias: none (counts of exact values); pi_bar and p' exact for these laws;
  * finite N: the bound holds at every N (no asymptotics), nothing to allow for.

Power (``Verdict.power``, computed from the measured counts): the smallest factor a > 1 such that the
false bound 1 - p' + p' exp(-a (N-1) pi_bar V_d r^d) (an exponent a times too large) would be violated.
In bounded domains T2 is loose by a factor ~N/2 in its exponent (it uses the N-1 points around x_1,
not the N(N-1)/2 pairs) and p' < 1 dominates, so there a 4x exponent is itself a true bound for
N >= 9 and no rule could reject it; the torus at N = 2, 3, 4 (where the bound is nearly tight) is what
gives the rule its power.  The radius' N-exponent cannot catch it either (the variant has the same
-1/d slope): that part is exploratory.

Variant hooks: ``judge(measured, bound=f)`` with ``f(r, n, d, pi_bar, p_prime)`` replacing the bound
(e.g. exp(-N(N-1) pi_bar V_d r^d), a pair-count bound that is false, must be violated);
``exponent_factor=a`` (the realistic false variant a = 4 must be violated).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.optimize import brentq

from hmin.sims.checks._geometry_mc import cp_family_level, draw_points, hmin_batch, hmin_batch_torus, omega_prime
from hmin.sims.data import unit_ball_volume
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, clopper_pearson_bound, fit_loglog_slope
from hmin.theory.t02_hmin_upper import prob_upper, r_upper
from hmin.theory.t02_hmin_upper import scaling_exponent as t2_exponent
from hmin.theory.t01_hmin_lower import scaling_exponent as t1_exponent
from hmin.sims.plotting import plt, save, styled

ID = "T2"

FAMILY_LEVEL = 0.99
T1_SCALE = (0.25, 1.0, 4.0)  # N(N-1)/2 pi_bar V_d r^d = c
T2_SCALE = (0.5, 2.0)  # (N-1) pi_bar V_d r^d = c
LOOSE_DELTA = 0.05
QUANTILES = (0.5, 1.0 - LOOSE_DELTA)
INFORMATIVE_BELOW = 0.9  # a test counts as support only if its bound is below this
MIN_INFORMATIVE = 10  # holds needs at least this many informative tests
COUNT_RTOL = 1e-12  # k = #{h_min > r (1 + COUNT_RTOL)}: round-off never counts towards a violation
#: the power scan: exponent factors a = 2^(j/16), j = 1..64 (1.04 to 16)
POWER_FACTORS = tuple(2.0 ** (j / 16.0) for j in range(1, 65))


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T2 Monte Carlo (one instance per preset in `SETTINGS`)."""

    domains: tuple[str, ...] = ("cube", "ball", "torus")
    dims: tuple[int, ...] = (1, 2, 3, 5, 8)
    ns: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    torus_ns: tuple[int, ...] = (2, 3, 4, 8, 16, 32)  # the torus grid (small N: where the bound is tight)
    max_n_high_d: int = 128  # N cap for d >= 5
    draws: int = 500  # independent data sets per (domain, d, N)


SETTINGS = {
    "quick": Settings(dims=(1, 2, 8), ns=(8, 32, 128), torus_ns=(2, 3, 16), draws=200),
    "default": Settings(),
    "full": Settings(ns=(8, 16, 32, 64, 128, 256, 512, 1024), max_n_high_d=512, draws=4000),
}


def _radii(n: int, d: int, pi_bar: float) -> list[tuple[str, float]]:
    V = unit_ball_volume(d)
    out = [(f"T1 scale c={c:g}", (2.0 * c / (n * (n - 1.0) * pi_bar * V)) ** (1.0 / d)) for c in T1_SCALE]
    out += [(f"T2 scale c={c:g}", (c / ((n - 1.0) * pi_bar * V)) ** (1.0 / d)) for c in T2_SCALE]
    return out


def measure(ctx) -> dict:
    """Draw the data sets; count #{h_min > r} at the fixed radii; keep quantiles of h_min."""
    t0 = time.perf_counter()
    st = ctx.settings
    rows = []
    for di, dom in enumerate(st.domains):
        for d in st.dims:
            grid = st.torus_ns if dom == "torus" else st.ns
            ns = [n for n in grid if d < 5 or n <= st.max_n_high_d]
            # the torus's uniform law is the cube's; its h_min is periodic
            batches, _ = draw_points("cube" if dom == "torus" else dom, ns, d, st.draws,
                                     seed=[ctx.stream, di, d])  # = ctx.rng(di, d)
            pi_bar = float(omega_prime(dom, d, 0.0)[0])
            for n in ns:
                h = hmin_batch_torus(batches[n]) if dom == "torus" else hmin_batch(batches[n])
                tests = []
                for label, r in _radii(n, d, pi_bar):
                    pb, pp = omega_prime(dom, d, r)
                    tests.append({"label": label, "r": float(r), "pi_bar": float(pb), "p_prime": float(pp),
                                  "k_gt": int(np.sum(h > r * (1.0 + COUNT_RTOL)))})
                r_up = float(r_upper(n, d, pi_bar, LOOSE_DELTA))
                rows.append({
                    "domain": dom, "d": d, "n": n, "m": int(h.size), "pi_bar": pi_bar, "tests": tests,
                    "quantiles": {f"{q:g}": float(np.quantile(h, q)) for q in QUANTILES},
                    "r_upper_p1": r_up, "k_gt_r_upper_p1": int(np.sum(h > r_up)),
                })
    return {"settings": dataclasses.asdict(st), "rows": rows, "loose_delta": LOOSE_DELTA,
            "h_convention": "h_min (not q_X)", "wall_s": time.perf_counter() - t0}


def _tests(measured: dict, bound) -> list[dict]:
    rows = []
    for s in measured["rows"]:
        for t in s["tests"]:
            b = float(bound(t["r"], s["n"], s["d"], t["pi_bar"], t["p_prime"]))
            if b >= 1.0:
                continue  # vacuous
            rows.append({"domain": s["domain"], "d": s["d"], "n": s["n"], "label": t["label"], "r": t["r"],
                         "bound": b, "k": t["k_gt"], "m": s["m"]})
    level = cp_family_level(len(rows), FAMILY_LEVEL)
    for r in rows:
        r["lo"] = clopper_pearson_bound(r["k"], r["m"], level, side="lower")
        r["ok"] = r["lo"] <= r["bound"]
        r["informative"] = r["bound"] < INFORMATIVE_BELOW
    return rows


def _exponent_bound(a: float):
    """The bound with its exponent multiplied by a (a = 1: theory's ``prob_upper``)."""
    def bound(r, n, d, pi_bar, p_prime):
        return 1.0 - p_prime + p_prime * np.exp(-a * (n - 1.0) * pi_bar * unit_ball_volume(d) * r**d)
    return bound


def _power_factor(measured: dict) -> float:
    """The smallest a in POWER_FACTORS whose false bound (exponent x a) the rule would reject; nan if none <= 16."""
    for a in POWER_FACTORS:
        if any(not r["ok"] for r in _tests(measured, _exponent_bound(a))):
            return float(a)
    return float("nan")


def _t2_radius_with_p(domain: str, n: int, d: int, delta: float) -> float:
    """Smallest r with 1 - p'(r) + p'(r) exp(-(N-1) pi_bar V_d r^d) <= delta (nan if none)."""
    def f(r):
        pb, pp = omega_prime(domain, d, r)
        return float(prob_upper(r, n, d, float(pb), float(pp))) - delta

    grid = np.linspace(0.0, 0.5 if domain == "cube" else 1.0, 2001)[1:-1]
    pb, pp = omega_prime(domain, d, grid)
    vals = prob_upper(grid, n, d, pb, pp) - delta  # vectorised over the grid
    below = np.nonzero(vals <= 0)[0]
    if below.size == 0:
        return float("nan")
    i = below[0]
    return float(grid[0]) if i == 0 else float(brentq(f, grid[i - 1], grid[i], xtol=1e-14))


def _looseness(measured: dict) -> list[dict]:
    by = {}
    for s in measured["rows"]:
        by.setdefault((s["domain"], s["d"]), []).append(s)
    q = f"{1.0 - LOOSE_DELTA:g}"
    out = []
    for (dom, d), ss in by.items():
        ss = sorted(ss, key=lambda s: s["n"])
        ns = [s["n"] for s in ss]
        ru = [s["r_upper_p1"] for s in ss]
        qt = [s["quantiles"][q] for s in ss]
        last = ss[-1]
        out.append({
            "domain": dom, "d": d, "ns": ns, "r_upper": ru, "q_truth": qt,
            "slope_r_upper": fit_loglog_slope(ns, ru)["slope"], "pred_r_upper": float(t2_exponent(d)),
            "slope_truth": fit_loglog_slope(ns, qt)["slope"], "pred_truth": float(t1_exponent(d)),
            "ratio_at_max_n": ru[-1] / qt[-1], "max_n": last["n"],
            "t2_radius_with_p_at_max_n": _t2_radius_with_p(dom, last["n"], d, LOOSE_DELTA),
            "emp_P(h_min > r_upper_p1)": [s["k_gt_r_upper_p1"] / s["m"] for s in ss],
        })
    return out


def judge(measured: dict, *, bound=None, exponent_factor: float = 1.0, past_slack: bool = False) -> Verdict:
    """Apply the T2 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        bound: a variant ``bound(r, n, d, pi_bar, p_prime)`` replacing theory's prob_upper (test hook).
        exponent_factor: a: the bound's exponent multiplied by a (theory: 1; a = 4 is a realistic false variant).
        past_slack: if True, the bound tightened just past its measured slack (exponent x the power factor: the
            smallest a = 2^(j/16) that the rule rejects on this measurement).
    """
    if past_slack:
        exponent_factor = _power_factor(measured)
    if bound is not None:
        bnd = bound
    else:
        bnd = prob_upper if exponent_factor == 1.0 else _exponent_bound(float(exponent_factor))
    rows = _tests(measured, bnd)
    bad = [r for r in rows if not r["ok"]]
    informative = [r for r in rows if r["informative"]]
    if bad:
        verdict = VIOLATED
    elif len(informative) >= MIN_INFORMATIVE:
        verdict = HOLDS
    else:
        verdict = INCONCLUSIVE
    loose = _looseness(measured)
    n_vac = sum(len(s["tests"]) for s in measured["rows"]) - len(rows)
    M = measured["rows"][0]["m"] if measured["rows"] else 0
    closest = min(rows, key=lambda r: r["bound"] - r["lo"]) if rows else None
    closest_inf = min(informative, key=lambda r: r["bound"] - r["lo"]) if informative else None
    bname = "1 - p' + p' exp(-(N-1) pi_bar V_d r^d)" if bound is None else "VARIANT bound(r, N, d, pi_bar, p')"
    if bound is None and exponent_factor != 1.0:
        bname = f"VARIANT 1 - p' + p' exp(-{exponent_factor:g} (N-1) pi_bar V_d r^d)"
    level = cp_family_level(len(rows), FAMILY_LEVEL)
    domains = sorted({s["domain"] for s in measured["rows"]})
    rule = (f"for every non-vacuous (domain in {'/'.join(domains)}, d, N, r) [{len(rows)} tests, M = {M} draws each; "
            f"radii N(N-1)/2 pi_bar V_d r^d in {list(T1_SCALE)} and (N-1) pi_bar V_d r^d in {list(T2_SCALE)}; Omega' = "
            f"the domain shrunk by r (torus: p' = 1 for r <= 1/2)]: violated iff the one-sided Clopper-Pearson lower "
            f"bound of k/M, k = #{{h_min > r (1 + 1e-12)}}, exceeds {bname}; bounds at joint level {FAMILY_LEVEL:.0%} "
            f"(Bonferroni, each at {level:.6f}). holds iff none is violated and >= {MIN_INFORMATIVE} tests are "
            f"informative (bound < {INFORMATIVE_BELOW:g}); else inconclusive. Looseness: exploratory, not judged.")
    cube2 = next((x for x in loose if x["domain"] == "cube" and x["d"] == 2), loose[0] if loose else None)
    pf = _power_factor(measured) if bound is None and exponent_factor == 1.0 else float("nan")
    numbers = {
        "tests_violated": len(bad),
        "informative_tests": len(informative),
        "tests": len(rows),
        "power_exponent_factor": pf,
        "slack_bound_exponent": pf,
        "max_p_over_bound": max((r["k"] / r["m"] / r["bound"] for r in rows), default=float("nan")),
        "closest_informative_test": None if closest_inf is None else {
            k: closest_inf[k] for k in ("domain", "d", "n", "label", "bound", "k", "m", "lo")},
        "closest_test": None if closest is None else {
            k: closest[k] for k in ("domain", "d", "n", "label", "bound", "k", "m", "lo")},
        "vacuous_skipped": n_vac,
        "looseness_slopes": {
            f"{x['domain']} d={x['d']}": [round(x["slope_r_upper"], 4), round(x["slope_truth"], 4)] for x in loose},
        "radius_ratio_at_max_n": {
            f"{x['domain']} d={x['d']} N={x['max_n']}": round(x["ratio_at_max_n"], 3) for x in loose},
        "example": None if cube2 is None else {
            "N": cube2["max_n"], "r_upper_p1": cube2["r_upper"][-1], "measured_quantile": cube2["q_truth"][-1],
            "t2_radius_with_p_prime": cube2["t2_radius_with_p_at_max_n"]},
        "draws_per_setting": M,
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "tests_violated": "tests violated (one-sided Clopper-Pearson, joint 99%)",
        "informative_tests": f"informative tests (bound < {INFORMATIVE_BELOW:g}; only these count as support)",
        "tests": "tests (domain, d, N, r) with a non-vacuous bound (bound < 1)",
        "slack_bound_exponent": ("slack: the bound's exponent could be multiplied by up to about this factor (to "
                                 "2^(-1/16)) before these counts refute it"),
        "power_exponent_factor": ("power: the smallest a whose false bound 1 - p' + p' exp(-a (N-1) pi_bar V_d r^d) "
                                  "would be violated on these counts (scan a = 2^(j/16))"),
        "closest_informative_test": "closest informative test (bound vs one-sided CP lower bound)",
        "vacuous_skipped": "vacuous radii skipped (bound >= 1)",
        "max_p_over_bound": "max measured P(h_min > r) / bound",
        "closest_test": "closest test (bound vs one-sided CP lower bound)",
        "looseness_slopes": (f"EXPLORATORY slopes vs N at delta={LOOSE_DELTA}: [r_upper (pred -1/d), measured "
                             f"{1 - LOOSE_DELTA:g}-quantile of h_min (pred -2/d)]"),
        "radius_ratio_at_max_n": "r_upper / measured quantile at the largest N",
        "example": ("example (cube d=2 or first): r_upper (p' = 1), measured quantile, T2 radius with p' "
                    "(nan = none: 1 - p' > delta wherever the exp term is small)"),
        "draws_per_setting": "draws per setting",
        "wall_s": "wall time (s)",
    }
    notes = ("OURS (the paper's upper bound with its open constant C made explicit; C = 1 when p' = 1). h_min, not "
             "q_X = h_min/2. In bounded domains p' < 1, and 1 - p' ~ 2 d r (cube) stays above delta unless r is tiny, "
             "so for d >= 2 the bound rarely reaches small delta at these N; the flat torus has p' = 1 (its hypotheses "
             "hold with C = 1) and at N = 2, 3, 4 the bound is nearly tight there. The bound is loose by a factor "
             "~N^(1/d) in radius: it only uses the N-1 points around x_1, not the N(N-1)/2 pairs. "
             "False-alarm guards: exact one-sided binomial bounds, Bonferroni (joint 99%) over all tested radii, "
             "h_min exact and counted only above r (1 + 1e-12); no asymptotics. Tests with a bound >= "
             f"{INFORMATIVE_BELOW:g} are tested but not counted as support. The looseness slopes are exploratory.")
    if bad:
        b = bad[0]
        notes += (f" First failing test: {b['domain']} d={b['d']} N={b['n']} {b['label']}: k={b['k']}/{b['m']}, "
                  f"one-sided CP lower {b['lo']:.4g} > bound {b['bound']:.4g}.")
    power = (f"catches a bound whose exponent is a >= {pf:.3g} times too large (1 - p' + p' exp(-a (N-1) pi_bar V_d r^d)), "
             "through the small-N torus tests where T2 is nearly tight; in bounded domains at N >= 9 a 4x exponent is "
             "itself a true bound (T2 is loose by ~N/2 in its exponent), so no rule could reject it there. The "
             "looseness slopes (radius exponent -1/d vs truth -2/d) are exploratory: they cannot fail. T2 is a bound, "
             f"not a rate: its slack is the exponent factor {pf:.3g}.")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power)


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    rows = _tests(measured, prob_upper)
    loose = _looseness(measured)
    dims = sorted({s["d"] for s in measured["rows"]})
    cols = {d: f"C{i}" for i, d in enumerate(dims)}
    marks = {"cube": "o", "ball": "s", "torus": "^"}
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(11, 4.3))
    groups = {}
    for r in rows:
        groups.setdefault((r["d"], r["domain"]), []).append(r)
    for (d, dom), rs in groups.items():
        x = np.array([r["bound"] for r in rs])
        y = np.array([r["k"] / r["m"] for r in rs])
        lo = np.array([r["lo"] for r in rs])
        ax1.errorbar(x, y, yerr=[y - lo, np.zeros_like(y)], fmt=marks[dom], ls="none", color=cols[d], ms=3.5,
                     lw=0.7, alpha=0.8)
    ax1.plot([0, 1], [0, 1], "k--", lw=1, label="T2 bound (measured must be <= it)")
    for d in dims:
        ax1.plot([], [], "o", color=cols[d], label=f"d = {d}")
    for dom, mk in marks.items():
        ax1.plot([], [], mk, color="gray", label=dom)
    ax1.set_xlabel("T2 bound 1 - p' + p' exp(-(N-1) pi_bar V_d r^d)")
    ax1.set_ylabel("measured P(h_min > r)")
    ax1.set_title("every tested (domain, d, N, r); bar: down to the one-sided joint-99%\nCP lower bound, which the rule needs <= bound")
    ax1.legend(fontsize=6, ncol=2)
    for x in loose:
        if x["domain"] != "cube":
            continue
        c = cols[x["d"]]
        ax2.loglog(x["ns"], x["r_upper"], "--", color=c, lw=1.2)
        ax2.loglog(x["ns"], x["q_truth"], "o-", color=c, ms=3.5, lw=1,
                   label=f"d={x['d']}: slopes {x['slope_r_upper']:.2f} (bound) vs {x['slope_truth']:.2f} (measured); "
                         f"ratio {x['ratio_at_max_n']:.1f} at N={x['max_n']}")
    ax2.plot([], [], "k--", label=f"r_upper at delta={LOOSE_DELTA} (C=1, p'=1), predicted slope -1/d")
    ax2.plot([], [], "ko-", label=f"measured {1 - LOOSE_DELTA:g}-quantile of h_min (truth, ~ -2/d)")
    ax2.set_xlabel("N")
    ax2.set_ylabel("radius (h_min, not q_X = h_min/2)")
    ax2.set_title("looseness on the cube: the bound's radius vs the truth's")
    ax2.legend(fontsize=6)
    n = verdict.numbers
    fig.suptitle(f"T2: {verdict.verdict} ({n['tests_violated']} of {n['tests']} tests violated; "
                 f"max measured P/bound = {n['max_p_over_bound']:.2f})", y=1.02)
    return [ctx.rel(save(fig, ctx.fig("t02_hmin_upper.png")))]


def _pair_count_bound(r, n, d, pi_bar, p_prime):
    """A false bound (test hook): N(N-1) pairs in the exponent and no p'."""
    return np.exp(-n * (n - 1.0) * pi_bar * unit_ball_volume(d) * np.asarray(r, dtype=np.float64) ** d)


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"exponent 4x too large": {"exponent_factor": 4.0},
                              "pair-count exponent, no p'": {"bound": _pair_count_bound},
                              "bound tightened just past its slack": {"past_slack": True}})
