"""T2 (OURS): P(h_min > r) <= 1 - p' + p' exp(-(N-1) pi_bar V_d r^d), and how loose it is.

Monte Carlo on uniform data where pi_bar and p' are known exactly for every r
(``_geometry_mc.omega_prime``): the cube [0, 1]^d with Omega' = [r, 1-r]^d (pi_bar = 1,
p' = (1-2r)^d) and the unit ball with Omega' = B(0, 1-r) (pi_bar = 1/V_d, p' = (1-r)^d); the
r-ball around every point of Omega' lies in the domain.  d in {1, 2, 3, 5, 8}, N on a grid, M
independent draws; h_min (not q_X = h_min/2) exactly from differences.

Radii, fixed by the theory before any data: on T1's scale, N(N-1)/2 pi_bar V_d r^d = c for
c in {0.25, 1, 4} (where the true P(h_min > r) falls from ~0.8 to ~0.02), and on T2's own scale,
(N-1) pi_bar V_d r^d = c for c in {0.5, 2} (where the bound itself falls).  A radius whose bound is
>= 1 (p' = 0) is vacuous and not counted.

Rule: for every non-vacuous (domain, d, N, r), k = #{h_min > r} of M draws, the lower end of the
two-sided Clopper-Pearson interval of k/M is <= the bound; the intervals have joint level 99%
(Bonferroni over the tests).  Looseness (reported, not judged): at delta = 0.05 the bound's radius
r_upper = (log(1/delta) / (pi_bar (N-1) V_d))^(1/d) (the paper's C = 1, p' = 1 form) scales as
N^(-1/d), the measured 95% quantile of h_min (the radius the truth needs) as N^(-2/d); both fitted
slopes and their ratio at the largest N are reported.

Variant hook: ``judge(measured, bound=f)`` with ``f(r, n, d, pi_bar, p_prime)`` replacing the
bound (e.g. exp(-N(N-1) pi_bar V_d r^d), a pair-count bound that is false, must be violated).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.optimize import brentq

from sims.checks._geometry_mc import cp_family_level, draw_points, hmin_batch, omega_prime
from sims.data import unit_ball_volume
from sims.registry import Check
from sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, clopper_pearson, fit_loglog_slope
from theory.t02_hmin_upper import prob_upper, r_upper
from theory.t02_hmin_upper import scaling_exponent as t2_exponent
from theory.t01_hmin_lower import scaling_exponent as t1_exponent

ID = "T2"

FAMILY_LEVEL = 0.99
T1_SCALE = (0.25, 1.0, 4.0)  # N(N-1)/2 pi_bar V_d r^d = c
T2_SCALE = (0.5, 2.0)  # (N-1) pi_bar V_d r^d = c
LOOSE_DELTA = 0.05
QUANTILES = (0.5, 1.0 - LOOSE_DELTA)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T2 Monte Carlo (one instance per preset in `SETTINGS`)."""

    domains: tuple[str, ...] = ("cube", "ball")
    dims: tuple[int, ...] = (1, 2, 3, 5, 8)
    ns: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    max_n_high_d: int = 128  # N cap for d >= 5
    draws: int = 500  # independent data sets per (domain, d, N)


SETTINGS = {
    "quick": Settings(dims=(1, 2, 8), ns=(8, 32, 128), draws=200),
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
            ns = [n for n in st.ns if d < 5 or n <= st.max_n_high_d]
            batches, _ = draw_points(dom, ns, d, st.draws, seed=[ctx.stream, di, d])  # = ctx.rng(di, d)
            pi_bar = float(omega_prime(dom, d, 0.0)[0])
            for n in ns:
                h = hmin_batch(batches[n])
                tests = []
                for label, r in _radii(n, d, pi_bar):
                    pb, pp = omega_prime(dom, d, r)
                    tests.append({"label": label, "r": float(r), "pi_bar": float(pb), "p_prime": float(pp),
                                  "k_gt": int(np.sum(h > r))})
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
        r["lo"], r["hi"] = clopper_pearson(r["k"], r["m"], level)
        r["ok"] = r["lo"] <= r["bound"]
    return rows


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


def judge(measured: dict, *, bound=None) -> Verdict:
    """Apply the T2 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        bound: a variant ``bound(r, n, d, pi_bar, p_prime)`` replacing theory's prob_upper (test hook).
    """
    bnd = prob_upper if bound is None else bound
    rows = _tests(measured, bnd)
    bad = [r for r in rows if not r["ok"]]
    verdict = VIOLATED if bad else (HOLDS if rows else INCONCLUSIVE)
    loose = _looseness(measured)
    n_vac = sum(len(s["tests"]) for s in measured["rows"]) - len(rows)
    M = measured["rows"][0]["m"] if measured["rows"] else 0
    closest = min(rows, key=lambda r: r["bound"] - r["lo"]) if rows else None
    bname = "1 - p' + p' exp(-(N-1) pi_bar V_d r^d)" if bound is None else "VARIANT bound(r, N, d, pi_bar, p')"
    rule = (f"for every non-vacuous (domain in cube/ball, d, N, r) [{len(rows)} tests, M = {M} draws each; radii "
            f"N(N-1)/2 pi_bar V_d r^d in {list(T1_SCALE)} and (N-1) pi_bar V_d r^d in {list(T2_SCALE)}; Omega' = the "
            f"domain shrunk by r]: the lower end of the two-sided Clopper-Pearson interval of k/M, k = #{{h_min > r}}, "
            f"is <= {bname}; intervals at joint level {FAMILY_LEVEL:.0%} (Bonferroni). Looseness reported, not judged.")
    cube2 = next((x for x in loose if x["domain"] == "cube" and x["d"] == 2), loose[0] if loose else None)
    numbers = {
        "tests_violated": len(bad),
        "tests": len(rows),
        "vacuous_skipped": n_vac,
        "max_p_over_bound": max((r["k"] / r["m"] / r["bound"] for r in rows), default=float("nan")),
        "closest_test": None if closest is None else {
            k: closest[k] for k in ("domain", "d", "n", "label", "bound", "k", "m", "lo")},
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
        "tests_violated": "tests violated (joint 99% Clopper-Pearson)",
        "tests": "tests (domain, d, N, r) with a non-vacuous bound",
        "vacuous_skipped": "vacuous radii skipped (bound >= 1)",
        "max_p_over_bound": "max measured P(h_min > r) / bound",
        "closest_test": "closest test (bound - CP lower end)",
        "looseness_slopes": (f"slopes vs N at delta={LOOSE_DELTA}: [r_upper (pred -1/d), measured "
                             f"{1 - LOOSE_DELTA:g}-quantile of h_min (pred -2/d)]"),
        "radius_ratio_at_max_n": "r_upper / measured quantile at the largest N",
        "example": ("example (cube d=2 or first): r_upper (p' = 1), measured quantile, T2 radius with p' "
                    "(nan = none: 1 - p' > delta wherever the exp term is small)"),
        "draws_per_setting": "draws per setting",
        "wall_s": "wall time (s)",
    }
    notes = ("OURS (the paper's upper bound with its open constant C made explicit; C = 1 when p' = 1). h_min, not "
             "q_X = h_min/2. In bounded domains p' < 1, and 1 - p' ~ 2 d r (cube) stays above delta unless r is tiny, "
             "so for d >= 2 the bound rarely reaches small delta at these N; the p' = 1 radius r_upper is reported for "
             "the looseness comparison (its hypotheses hold only on a domain without boundary). The bound is loose by "
             "a factor ~N^(1/d) in radius: it only uses the N-1 points around x_1, not the N(N-1)/2 pairs.")
    if bad:
        b = bad[0]
        notes += (f" First failing test: {b['domain']} d={b['d']} N={b['n']} {b['label']}: k={b['k']}/{b['m']}, "
                  f"CP lower {b['lo']:.4g} > bound {b['bound']:.4g}.")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes)


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from sims.plotting import plt, save

    pyplot = plt()
    rows = _tests(measured, prob_upper)
    loose = _looseness(measured)
    dims = sorted({s["d"] for s in measured["rows"]})
    cols = {d: f"C{i}" for i, d in enumerate(dims)}
    marks = {"cube": "o", "ball": "s"}
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
    ax1.set_title("every tested (domain, d, N, r); bar: down to the joint-99%\nCP lower end, which the rule needs <= bound")
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
              false_variants={"pair-count exponent, no p'": {"bound": _pair_count_bound}})
