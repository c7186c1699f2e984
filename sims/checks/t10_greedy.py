"""T10 (EXACT; the paper's Algorithm 1): greedy max-min selection, h_min(S_k) = r_k and OPT_k <= 2 r_k.

Greedy farthest-first traversal (``sims.select.select(..., method="maxmin", first=...)``; S_k is the
first k points of one run, r_k the distance at which the k-th point was added, h_min not
q_X = h_min/2).

(a) exactness: h_min(S_k), recomputed independently (a difference-based distance matrix on small
    pools, ``sims.geometry.min_pairwise_distance`` on large ones), equals r_k to 1e-12 relative, for
    every prefix k of every run.
(b) brute force: on small pools (N <= 14 uniform points in [0, 1]^d, d in {1, 2, 3}) OPT_k, the best
    minimum pairwise distance over ALL k-subsets, satisfies OPT_k <= 2 r_k (relative slack 1e-12),
    for every k = 2..N-1 and every first point.
(c) large pools (uniform, N_pool in the thousands, d in {2, 3}): OPT_k cannot be enumerated, but
    every k-subset we can find bounds it from below, so every found subset must satisfy
    h_min <= 2 r_k: greedy runs from other first points (cross-certificates) and random subsets.
(d) scaling.  Greedy: r_k is sandwiched by two theorems at every k of the grid: the k-1 balls of
    radius r_k around S_{k-1} cover the pool, hence the cube once widened by the pool's fill distance
    h_P (proven upper bound, ``sims.geometry.fill_distance``): (k-1) V_d (r_k + h_P)^d >= 1; and the
    k disjoint balls of radius r_k/2 fit in the cube widened by r_k/2: k V_d (r_k/2)^d <= (1 + r_k)^d.
    Both scale as k^(-1/d), so this is a finite-k, rigorous form of "greedy h_min ~ k^(-1/d)".
    Slopes (pre-registered 2026-11-30, issue 9, before running it on data; the earlier rule judged
    the random slope only and fitted all k): the greedy slope and the random-subset slope are judged
    by the SAME rule: the least-squares slope of log rho vs log k over k >= ``K_MIN`` = 32, where
    rho = h/(1 + h) is the boundary-normalised radius (h = r_k for greedy, the median h_min of the
    random subsets), lies within pred +- (0.1 |pred_theory| + z se), pred = -1/d (greedy) and -2/d (random),
    z = Phi^-1(1 - 0.005/K) over the K = 2 x (dims) slopes (joint 99%) [issue 17, registered before it
    ran on data: the allowance is 0.1 |pred| of THEORY's pred (was 0.2 |pred| of the claimed pred, under
    which a greedy exponent 1.3x too large passed)]; se: greedy, the standard
    error of the mean over the greedy runs (first points); random, the bootstrap over the subsets.
    Grounds of the normalisation: the packing bound above reads k V_d (rho_k / 2)^d <= 1 with
    rho_k = r_k / (1 + r_k): the cube seen by k points widened by r/2 on each side; its first-order
    boundary effect on the slope (-1/d/(1 - a) for a ~ r_k/(1 + r_k), i.e. -0.45 rather than -1/3
    at k = 32 in d = 3) is removed by fitting rho instead of r.  And the greedy slope exceeds the
    random one by more than z sqrt(se_g^2 + se_r^2) (holds); below it by that much is violated;
    in between is inconclusive.  (Amended after the quick-preset smoke run, before any
    default-preset run: the earlier rule called "greedy not shown above random" violated, i.e. it
    turned a lack of evidence into a violation; the three-valued form is the logic of every other
    part.  No threshold changed.)
Verdict: worst of (a)-(d).

What could make the TRUE statement come out "violated", and the guard:
  * round-off: (a)-(c) compare distances computed from differences, with a relative slack 1e-12
    (about 4500 ulps); the sandwich the same;
  * sampling (large pools: OPT_k unknown): only found subsets are compared with 2 r_k, and a found
    subset's h_min <= OPT_k <= 2 r_k is a consequence of the theorem, so sampling cannot create a
    violation, it can only miss one;
  * finite k: the exponents are k -> oo statements; guarded by the boundary normalisation, the fit
    over k >= 32 and the 20% allowance (the tolerance of (d)); multiple testing: Bonferroni z.

Power (``Verdict.power``): (b) rejects any claimed factor c below the largest measured OPT_k / r_k
(e.g. "greedy is optimal", c = 1); (d) rejects an exponent off by more than the narrowest band's
relative half-width, e.g. "greedy subsets ~ k^(-2/d), no better than random".

Variant hooks: ``judge(measured, factor=c)`` checks OPT_k <= c r_k in (b) and (c) (c = 2 is T10's);
the false c = 1 ("greedy is optimal") and c = 1/2 must be violated (OPT_k >= h_min(S_k) = r_k > r_k/2);
``greedy_exponent_factor=f`` predicts the greedy slope f (-1/d) (f = 2: no better than random).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np

from hmin.sims.checks._geometry_mc import bonferroni_z, bootstrap_slope, hmin_batch
from hmin.sims.data import unit_ball_volume
from hmin.sims.geometry import fill_distance, min_pairwise_distance, pairwise_distances
from hmin.sims.select import select
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, fit_loglog_slope, worst
from hmin.theory.t10_greedy import certificate, greedy_scaling_exponent, random_scaling_exponent
from hmin.sims.plotting import plt, save, styled

ID = "T10"

EXACT_RTOL = 1e-12
#: the allowance of the slopes in (d), relative to THEORY's exponent (-1/d greedy, -2/d random), also for a variant's
#: prediction (a band that grew with the claimed exponent let a greedy exponent 1.3x too large pass); 0.1 so that an
#: exponent 25% off is caught whenever z se < 0.15 |pred| (issue 17, registered before it ran on data; issue 9: 0.2
#: relative to the claim)
SLOPE_REL_TOL = 0.1
FAMILY_LEVEL = 0.99
K_MIN = 32  # slopes are fitted over k >= K_MIN


def _cert_factor() -> float:
    """OPT_k / r_k <= this: theory.t10_greedy.certificate's opt_upper at r_k = 1 (i.e. 2)."""
    return float(certificate(1.0)["opt_upper"])


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T10 check (one instance per preset in `SETTINGS`)."""

    small_dims: tuple[int, ...] = (1, 2, 3)
    small_sizes: tuple[int, ...] = (10, 12, 14)  # brute-force pool sizes
    small_pools: int = 4  # pools per (d, size)
    large_dims: tuple[int, ...] = (2, 3)
    large_pool: int = 4000
    large_k: int = 256  # greedy prefix length on the large pools
    large_starts: int = 4  # greedy runs (first points) per large pool
    random_subsets: int = 100  # random subsets per k


SETTINGS = {
    "quick": Settings(small_sizes=(10, 12), small_pools=2, large_pool=1000, large_k=64, large_starts=2,
                      random_subsets=40),
    "default": Settings(),
    "full": Settings(small_pools=10, large_pool=20000, large_k=1024, large_starts=8, random_subsets=400),
}


def _opt_all_k(D: np.ndarray) -> np.ndarray:
    """OPT_k for k = 2..N by enumerating every k-subset (D: exact distance matrix)."""
    n = D.shape[0]
    opt = np.full(n + 1, np.nan)
    for k in range(2, n + 1):
        C = np.array(list(itertools.combinations(range(n), k)))
        I, J = np.triu_indices(k, 1)
        opt[k] = D[C[:, I], C[:, J]].min(axis=1).max()
    return opt


def _k_grid(kmax: int) -> list[int]:
    return sorted({int(k) for k in np.round(np.geomspace(8, kmax, 9))})


def measure(ctx) -> dict:
    """Run greedy on small pools (with brute-force OPT_k) and large pools (certificates, scaling)."""
    t0 = time.perf_counter()
    st = ctx.settings
    rng = ctx.rng()
    small = []
    for d in st.small_dims:
        for n in st.small_sizes:
            for p in range(st.small_pools):
                X = rng.random((n, d))
                D = pairwise_distances(X)  # from differences
                opt = _opt_all_k(D)
                runs = []
                for f in range(n):
                    s = select(X, n, method="maxmin", first=f)
                    r = np.asarray(s.certificate["radii"])  # r_2..r_n
                    idx = s.indices
                    h = [float(D[np.ix_(idx[:k], idx[:k])][np.triu_indices(k, 1)].min()) for k in range(2, n + 1)]
                    runs.append({"first": f, "r": r.tolist(), "h_prefix": h})
                small.append({"d": d, "n": n, "pool": p, "opt": opt[2:].tolist(), "runs": runs})
    large = []
    for d in st.large_dims:
        P = rng.random((st.large_pool, d))
        fill = fill_distance(P, domain="cube", bounds=(np.zeros(d), np.ones(d)), seed=d)
        kg = _k_grid(st.large_k)
        starts = rng.choice(len(P), st.large_starts, replace=False)
        runs = []
        for f in starts:
            s = select(P, st.large_k, method="maxmin", first=int(f))
            r = np.asarray(s.certificate["radii"])
            h = [min_pairwise_distance(P[s.indices[:k]]).h_min for k in kg]
            runs.append({"first": int(f), "r_grid": r[np.asarray(kg) - 2].tolist(), "h_grid": h})
        rand = []
        for k in kg:
            idx = np.stack([rng.choice(len(P), k, replace=False) for _ in range(st.random_subsets)])
            rand.append(hmin_batch(P[idx]).tolist())
        large.append({"d": d, "n_pool": len(P), "k_grid": kg, "runs": runs, "random_hmin": rand,
                      "fill_upper": float(fill.upper_bound if fill.upper_bound is not None else np.inf),
                      "fill_estimate": float(fill.estimate), "fill_rigorous": bool(fill.rigorous)})
    return {"small": small, "large": large, "settings": dataclasses.asdict(st), "h_convention": "h_min (not q_X)",
            "wall_s": time.perf_counter() - t0}


def _exactness(measured: dict) -> dict:
    worst_rel, count = 0.0, 0
    for pool in measured["small"]:
        for run in pool["runs"]:
            r, h = np.asarray(run["r"]), np.asarray(run["h_prefix"])
            worst_rel = max(worst_rel, float(np.max(np.abs(h - r) / r)))
            count += r.size
    for pool in measured["large"]:
        for run in pool["runs"]:
            r, h = np.asarray(run["r_grid"]), np.asarray(run["h_grid"])
            worst_rel = max(worst_rel, float(np.max(np.abs(h - r) / r)))
            count += r.size
    return {"max_rel_diff": worst_rel, "prefixes": count, "ok": worst_rel <= EXACT_RTOL}


def _brute(measured: dict, factor: float) -> dict:
    max_ratio, cnt, fails, lower_fail = 0.0, 0, [], 0
    for pool in measured["small"]:
        opt = np.asarray(pool["opt"])  # k = 2..n
        for run in pool["runs"]:
            r = np.asarray(run["r"])
            ks = np.arange(2, pool["n"])  # k = 2..n-1 (k = n is the whole pool)
            o, rk = opt[ks - 2], r[ks - 2]
            max_ratio = max(max_ratio, float(np.max(o / rk)))
            cnt += ks.size
            bad = o > factor * rk * (1 + EXACT_RTOL)
            lower_fail += int(np.sum(o < rk * (1 - EXACT_RTOL)))  # OPT_k >= h_min(S_k) = r_k always
            if bad.any():
                k = int(ks[np.argmax(bad)])
                fails.append({"d": pool["d"], "n": pool["n"], "pool": pool["pool"], "first": run["first"], "k": k,
                              "opt": float(opt[k - 2]), "r_k": float(r[k - 2])})
    return {"max_opt_over_r": max_ratio, "checked": cnt, "fails": fails, "lower_fail": lower_fail,
            "ok": not fails and cnt > 0}


def _cross(measured: dict, factor: float) -> dict:
    max_ratio, cnt, fails = 0.0, 0, 0
    for pool in measured["large"]:
        rk = np.array([run["r_grid"] for run in pool["runs"]])  # (starts, |k|)
        found = np.array([run["h_grid"] for run in pool["runs"]] + [np.max(pool["random_hmin"], axis=1)])
        best = found.max(axis=0)  # the best k-subset found, per k
        ratio = best[None, :] / rk
        max_ratio = max(max_ratio, float(ratio.max()))
        cnt += ratio.size
        fails += int(np.sum(best[None, :] > factor * rk * (1 + EXACT_RTOL)))
    return {"max_found_over_r": max_ratio, "checked": cnt, "fails": fails, "ok": fails == 0 and cnt > 0}


def _normalised(h):
    """rho = h / (1 + h): the radius the packing bound k V_d (rho/2)^d <= 1 scales (boundary-normalised)."""
    h = np.asarray(h, dtype=np.float64)
    return h / (1.0 + h)


def _scaling(measured: dict, greedy_factor: float = 1.0) -> list[dict]:
    out = []
    z = bonferroni_z(2 * len(measured["large"]), FAMILY_LEVEL)
    for pool in measured["large"]:
        d, kg = pool["d"], np.asarray(pool["k_grid"], dtype=float)
        V = unit_ball_volume(d)
        hP = float(pool["fill_upper"])  # "inf" after a JSON round trip if not rigorous
        rk = np.array([run["r_grid"] for run in pool["runs"]])
        lower = np.maximum(((kg - 1) * V) ** (-1.0 / d) - hP, 0.0)
        a = (kg * V) ** (-1.0 / d)
        upper = np.where(2 * a < 1, 2 * a / np.maximum(1 - 2 * a, 1e-300), np.inf)
        sandwich_ok = bool(np.all(rk >= lower * (1 - EXACT_RTOL)) and np.all(rk <= upper * (1 + EXACT_RTOL)))
        use = kg >= K_MIN
        # greedy: one slope per run (first point); the mean and its standard error
        g = np.array([fit_loglog_slope(kg[use], _normalised(r[use]))["slope"] for r in rk])
        g_slope = float(np.mean(g))
        g_se = float(np.std(g, ddof=1) / np.sqrt(g.size)) if g.size > 1 else float("nan")
        g_raw = float(np.mean([fit_loglog_slope(kg, r)["slope"] for r in rk]))
        pred_g = greedy_factor * greedy_scaling_exponent(d)
        g_hw = SLOPE_REL_TOL * abs(greedy_scaling_exponent(d)) + z * (g_se if np.isfinite(g_se) else 0.0)
        # random subsets: the median over the subsets, bootstrap se
        rand = [_normalised(h) for h, u in zip(pool["random_hmin"], use) if u]
        rb = bootstrap_slope(kg[use], rand, seed=d)
        pred_r = random_scaling_exponent(d)
        hw = SLOPE_REL_TOL * abs(pred_r) + z * rb["se"]
        medians = [float(np.median(h)) for h in pool["random_hmin"]]
        gap_se = float(np.hypot(g_se if np.isfinite(g_se) else 0.0, rb["se"]))
        out.append({
            "d": d, "k_grid": kg.tolist(), "r_k_mean": rk.mean(axis=0).tolist(), "lower": lower.tolist(),
            "upper": upper.tolist(), "lower_nonvacuous": int(np.sum(lower > 0)), "sandwich_ok": sandwich_ok,
            "k_fit": kg[use].tolist(), "z": z,
            "greedy_slope": g_slope, "greedy_se": g_se, "greedy_pred": pred_g, "greedy_half_width": g_hw,
            "greedy_ok": bool(np.isfinite(g_slope) and abs(g_slope - pred_g) <= g_hw), "greedy_slope_raw": g_raw,
            "random_slope": rb["slope"], "random_se": rb["se"], "random_pred": pred_r, "random_half_width": hw,
            "random_ok": bool(abs(rb["slope"] - pred_r) <= hw), "random_slope_raw": fit_loglog_slope(kg, medians)["slope"],
            "random_median": medians,
            # three-valued: "above" is shown, "below" is certain, otherwise not resolved (inconclusive, never violated)
            "greedy_vs_random": ("above" if g_slope - rb["slope"] > z * gap_se else
                                 "below" if rb["slope"] - g_slope > z * gap_se else "unresolved"),
        })
    return out


def _largest_ratio(measured: dict) -> float:
    """The largest measured OPT_k / r_k (brute force, (b)) or best-found h_min / r_k (large pools, (c))."""
    c = _cert_factor()
    vals = [_brute(measured, c)["max_opt_over_r"], _cross(measured, c)["max_found_over_r"]]
    vals = [float(v) for v in vals if v is not None and np.isfinite(float(v))]
    return max(vals) if vals else float("nan")


def judge(measured: dict, *, factor: float | None = None, greedy_exponent_factor: float = 1.0,
          past_slack: bool = False) -> Verdict:
    """Apply the T10 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        factor: a variant constant c in OPT_k <= c r_k (default: theory's 2).
        greedy_exponent_factor: f: the predicted greedy slope is f (-1/d) (theory: 1; f = 2 is the false
            "greedy is no better than random").
        past_slack: if True, the constant 2 tightened just past its measured slack: c = (the largest measured
            OPT_k / r_k or best-found h_min / r_k) / (1 + 1e-6).
    """
    c = _cert_factor() if factor is None else float(factor)
    if past_slack:
        c = _largest_ratio(measured) / (1.0 + 1e-6)
    ex = _exactness(measured)
    br = _brute(measured, c)
    cr = _cross(measured, c)
    sc = _scaling(measured, float(greedy_exponent_factor))
    parts = {
        "a_exact": HOLDS if ex["ok"] else VIOLATED,
        "b_brute_force": HOLDS if br["ok"] and br["lower_fail"] == 0 else
        (INCONCLUSIVE if br["checked"] == 0 else VIOLATED),
        "c_found_subsets": HOLDS if cr["ok"] else (INCONCLUSIVE if cr["checked"] == 0 else VIOLATED),
        "d_scaling": (INCONCLUSIVE if not sc else
                      VIOLATED if any(not (s["sandwich_ok"] and s["greedy_ok"] and s["random_ok"])
                                      or s["greedy_vs_random"] == "below" for s in sc) else
                      HOLDS if all(s["greedy_vs_random"] == "above" for s in sc) else INCONCLUSIVE),
    }
    verdict = worst(list(parts.values()))
    p = measured["settings"]
    rule = (f"(a) |h_min(S_k) - r_k| <= {EXACT_RTOL:g} r_k for every greedy prefix; (b) on {len(measured['small'])} small "
            f"pools (N in {p['small_sizes']}, d in {p['small_dims']}, every first point, k = 2..N-1): OPT_k (all k-subsets) "
            f"<= {c:g} r_k (and >= r_k); (c) on large pools (N_pool = {p['large_pool']}, d in {p['large_dims']}): the best "
            f"k-subset found (greedy from {p['large_starts']} first points, {p['random_subsets']} random subsets) has h_min "
            f"<= {c:g} r_k for every run; (d) r_k within [((k-1) V_d)^(-1/d) - h_P, 2a/(1-2a)], a = (k V_d)^(-1/d) (covering "
            f"and packing) at every k in the grid; slopes of log rho vs log k over k >= {K_MIN}, rho = h/(1+h), by one rule: "
            f"greedy r_k within {'-1/d' if greedy_exponent_factor == 1 else f'VARIANT {greedy_exponent_factor:g} x (-1/d)'} "
            f"+- ({SLOPE_REL_TOL:g} |pred| + z se) and the random-subset median within -2/d +- ({SLOPE_REL_TOL:g} 2/d + z se), "
            f"z = {sc[0]['z'] if sc else float('nan'):.3f} (Bonferroni, joint {FAMILY_LEVEL:.0%}); greedy slope vs random "
            f"slope: above by > z sqrt(se_g^2 + se_r^2) holds, below by that much violated, else inconclusive. "
            f"Verdict = worst.")
    rel_hw = min((min(s["greedy_half_width"] / abs(s["greedy_pred"]), s["random_half_width"] / abs(s["random_pred"]))
                  for s in sc), default=float("nan"))
    # the greedy exponents (d) would NOT reject, as factors of theory's -1/d: a claim outside is caught
    accept = {f"d={s['d']}": [(s["greedy_slope"] + s["greedy_half_width"]) / greedy_scaling_exponent(s["d"]),
                              (s["greedy_slope"] - s["greedy_half_width"]) / greedy_scaling_exponent(s["d"])] for s in sc}
    caught_25 = bool(accept) and all(lo > 0.75 and hi < 1.25 for lo, hi in accept.values())
    top = _largest_ratio(measured)
    slack = _cert_factor() / top if top > 0 else float("nan")
    numbers = {
        "verdict_parts": parts,
        "max_opt_over_r": br["max_opt_over_r"],
        "max_rel_diff": ex["max_rel_diff"],
        "slopes": {f"d={s['d']}": {"greedy": [round(s["greedy_slope"], 4), round(s["greedy_pred"], 4),
                                              round(s["greedy_half_width"], 4)],
                                   "random": [round(s["random_slope"], 4), round(s["random_pred"], 4),
                                              round(s["random_half_width"], 4)]} for s in sc},
        "slopes_raw": {f"d={s['d']}": [round(s["greedy_slope_raw"], 4), round(s["random_slope_raw"], 4)] for s in sc},
        "power_factor": br["max_opt_over_r"],
        "slack_opt_bound": slack,
        "greedy_exponent_not_rejected": accept,
        "power_exponent_25": caught_25,
        "power_slope_rel": rel_hw,
        "greedy_vs_random": {f"d={s['d']}": s["greedy_vs_random"] for s in sc},
        "sandwich": {f"d={s['d']}": [s["sandwich_ok"], s["lower_nonvacuous"], len(s["k_grid"])] for s in sc},
        "prefixes_checked": ex["prefixes"],
        "brute_force_checks": br["checked"],
        "brute_force_failures": len(br["fails"]),
        "max_found_over_r": cr["max_found_over_r"],
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "verdict_parts": "verdict of each part: (a) h_min(S_k) == r_k, (b) OPT_k <= c r_k by brute force, "
                         "(c) found subsets <= c r_k on large pools, (d) scaling",
        "max_opt_over_r": "max OPT_k / r_k (brute force; T10: <= 2)",
        "max_rel_diff": "max |h_min(S_k) - r_k| / r_k",
        "prefixes_checked": "prefixes checked",
        "brute_force_checks": "(pool, first, k) brute-force checks",
        "brute_force_failures": "brute-force failures",
        "max_found_over_r": "max best-found h_min / r_k (large pools)",
        "slopes": (f"slopes of log rho vs log k, rho = h/(1+h), k >= {K_MIN}: greedy r_k and random median h_min, "
                   "each [measured, predicted, band half-width]"),
        "slopes_raw": "EXPLORATORY slopes of log h vs log k over all k, unnormalised [greedy, random]",
        "power_factor": "power of (b)/(c): any claimed factor c below this (max OPT_k / r_k) is violated",
        "power_slope_rel": "power of (d): narrowest band half-width / |predicted slope|",
        "slack_opt_bound": ("slack of OPT_k <= 2 r_k: 2 / the largest measured OPT_k / r_k (brute force) or best-found "
                            "h_min / r_k (large pools): the factor the constant 2 could be tightened by"),
        "greedy_exponent_not_rejected": "(d): greedy exponents not rejected, as factors of -1/d [low, high] per d",
        "power_exponent_25": "(d) rejects a greedy exponent 25% off (x0.75 and x1.25) at every d",
        "greedy_vs_random": "greedy slope vs random slope (above: shown; below: violated; unresolved: inconclusive)",
        "sandwich": "sandwich holds / covering bound non-vacuous at k's / k's",
        "wall_s": "wall time (s)",
    }
    notes = ("EXACT. Distances are h_min (not q_X = h_min/2). Brute force enumerates every k-subset of pools of <= 14 "
             "points. On large pools OPT_k is unknown; the best subset found is a lower bound of OPT_k, so "
             "h_min(found) <= 2 r_k is a consequence that can fail, and sampling can only miss a violation. The covering "
             "lower bound on r_k needs the pool's fill distance h_P (a proven upper bound, d <= 3) and is vacuous once "
             "r_k < h_P. The exponents are k -> oo statements: at these k the first greedy points go to the corners and "
             "faces, which steepens the raw slope; the slopes are judged on the boundary-normalised rho = h/(1+h) (the "
             "packing bound's own radius) over k >= 32 with an allowance of 10% of theory's exponent and Bonferroni z; the raw slopes are reported "
             "(exploratory). Round-off: relative slack 1e-12 on distances computed from differences.")
    if br["fails"]:
        f = br["fails"][0]
        notes += (f" First brute-force failure: d={f['d']} N={f['n']} first={f['first']} k={f['k']}: "
                  f"OPT={f['opt']:.4g}, r_k={f['r_k']:.4g}.")
    power = (f"(b) rejects any claimed approximation factor c < {br['max_opt_over_r']:.3f} (the largest OPT_k / r_k "
             f"measured; e.g. 'greedy is optimal', c = 1); (d) rejects a slope off by more than {rel_hw:.0%} of the "
             f"predicted one at the tightest band (e.g. greedy ~ k^(-2/d), no better than random); a greedy exponent 25% off "
             f"(x0.75, x1.25) is {'caught at every d' if caught_25 else 'NOT caught at every d (the band is wider than 25% somewhere)'}; "
             f"the bound OPT_k <= 2 r_k has slack {slack:.3g}x on these pools.")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power)


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    c = _cert_factor()
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(11, 4.3))
    cols = {1: "C0", 2: "C1", 3: "C2"}
    for d in sorted({p["d"] for p in measured["small"]}):
        xs, ys = [], []
        for pool in measured["small"]:
            if pool["d"] != d:
                continue
            opt = np.asarray(pool["opt"])
            for run in pool["runs"]:
                r = np.asarray(run["r"])
                ks = np.arange(2, pool["n"])
                xs.append(ks + 0.15 * (d - 2))
                ys.append(opt[ks - 2] / r[ks - 2])
        ax1.plot(np.concatenate(xs), np.concatenate(ys), ".", color=cols[d], ms=3, alpha=0.5, label=f"d = {d}")
    ax1.axhline(c, color="k", ls="--", lw=1, label=f"T10: OPT_k / r_k <= {c:g}")
    ax1.axhline(1.0, color="gray", ls=":", lw=1, label="OPT_k >= h_min(S_k) = r_k")
    ax1.set_xlabel("k (subset size; small pools, every first point)")
    ax1.set_ylabel("OPT_k / r_k  (OPT_k by brute force over all k-subsets)")
    ax1.set_title("predicted: between 1 and 2")
    ax1.legend(fontsize=7)
    sc = _scaling(measured)
    floor = min(min(s["random_median"]) for s in sc) / 3 if sc else 1e-4
    for s in sc:
        col = cols[s["d"]]
        kg = np.asarray(s["k_grid"])
        ax2.loglog(kg, s["r_k_mean"], "o-", color=col, ms=3.5,
                   label=f"greedy r_k = h_min(S_k), d={s['d']}: slope of rho {s['greedy_slope']:.2f} (pred -1/d = {-1 / s['d']:.2f})")
        ax2.loglog(kg, s["random_median"], "s--", color=col, ms=3.5,
                   label=f"random median h_min, d={s['d']}: slope of rho {s['random_slope']:.2f} (pred -2/d = {-2 / s['d']:.2f})")
        ax2.fill_between(kg, np.maximum(s["lower"], floor), s["upper"], color=col, alpha=0.12)
    ax2.plot([], [], "s", color="gray", alpha=0.3, label="covering/packing sandwich for r_k (must contain greedy)")
    ax2.set_ylim(bottom=floor)
    if sc:
        ax2.set_xticks(sc[0]["k_grid"], [str(int(k)) for k in sc[0]["k_grid"]], minor=False)
        ax2.xaxis.set_minor_formatter(matplotlib_ticker().NullFormatter())
    ax2.set_xlabel("k")
    ax2.set_ylabel("h_min of the k-subset (h_min, not q_X = h_min/2)")
    ax2.set_title("greedy vs random subsets of a uniform pool")
    ax2.legend(fontsize=6)
    n = verdict.numbers
    fig.suptitle(f"T10: {verdict.verdict} (max OPT_k/r_k = {n['max_opt_over_r']:.3f}; "
                 f"max |h_min(S_k) - r_k|/r_k = {n['max_rel_diff']:.1e})", y=1.02)
    return [ctx.rel(save(fig, ctx.fig("t10_greedy.png")))]


def matplotlib_ticker():
    # here: matplotlib loads only when a figure is drawn
    import matplotlib.ticker

    return matplotlib.ticker


# ----------------------------------------------------------------------------------------------
# Attack surface (hmin attack T10): maximise OPT_k / r_k over small pools
# ----------------------------------------------------------------------------------------------

ATTACK_POOL, ATTACK_DIM = 6, 2  # pool size and dimension searched (brute-force OPT_k over every k-subset)
_ATTACK_FACTORS = {"claim": None, "greedy-optimal": 1.0}


def _attack_margin_np(X: np.ndarray, factor: float) -> tuple[float, int, float]:
    """(margin, k, OPT_k / r_k) of the worst k: margin = factor (1 + EXACT_RTOL) - OPT_k / r_k, min over k = 2..N.

    Greedy from the first point (difference-based distances) and OPT_k by enumerating the k-subsets.
    """
    D = pairwise_distances(X)
    n = len(X)
    opt = _opt_all_k(D)
    dist, r = D[0].copy(), []
    for _ in range(1, n):
        j = int(np.argmax(dist))
        r.append(dist[j])
        dist = np.minimum(dist, D[j])
    worst = (math.inf, 0, 0.0)
    for k in range(2, n + 1):
        if not r[k - 2] > 0:
            continue  # fewer than k distinct points: OPT_k = r_k = 0
        ratio = float(opt[k] / r[k - 2])
        m = factor * (1 + EXACT_RTOL) - ratio
        if m < worst[0]:
            worst = (m, k, ratio)
    return worst


def _attack_problem(claim: str):
    from hmin.sims.surface import Problem
    from hmin.theory.t10_greedy import farthest_first, opt_brute_force

    factor = _ATTACK_FACTORS[claim]
    factor = _cert_factor() if factor is None else factor
    n, d = ATTACK_POOL, ATTACK_DIM

    def decode(z):
        X = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64).reshape(n, d)))  # inside [0, 1]^d
        return {"points": X.tolist(), "first": 0, "factor": factor}

    def margin(z):
        return _attack_margin_np(np.asarray(decode(z)["points"]), factor)[0]

    def rejudge(c):
        X = np.asarray(c["points"], dtype=np.float64)
        _, radii = farthest_first(X, len(X), start=int(c["first"]))  # theory's oracle, not the search's greedy
        ms = [float(c["factor"]) * (1 + EXACT_RTOL) - opt_brute_force(X, k) / radii[k - 1]
              for k in range(2, len(X) + 1) if radii[k - 1] > 0]
        return min(ms) if ms else math.inf

    def describe(c):
        m, k, ratio = _attack_margin_np(np.asarray(c["points"], dtype=np.float64), float(c["factor"]))
        return f"at k = {k}: OPT_k / r_k = {ratio:.4f} (claimed <= {c['factor']:g}; N = {n} points in [0, 1]^{d})"

    return Problem(dim=n * d, margin=margin, decode=decode, rejudge=rejudge, describe=describe,
                   differentiable=False, init_scale=1.5)


def _attack_surface():
    from hmin.sims.surface import AttackSurface

    return AttackSurface(
        space=(f"pools of N = {ATTACK_POOL} points in [0, 1]^{ATTACK_DIM} (sigmoid of z: every candidate is a pool), "
               "greedy farthest-first from the first point, every k = 2..N"),
        claims={"claim": "OPT_k <= 2 r_k for every k (T10's certificate)",
                "greedy-optimal": "false variant: OPT_k <= r_k (greedy is optimal)"},
        build=_attack_problem,
        tolerance=f"relative slack {EXACT_RTOL:g} (the judge's EXACT_RTOL); margin = c (1 + slack) - max_k OPT_k / r_k")


ATTACK = _attack_surface()


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"greedy is optimal (OPT_k <= r_k)": {"factor": 1.0}, "OPT_k <= r_k / 2": {"factor": 0.5},
                              "greedy ~ k^(-2/d), no better than random": {"greedy_exponent_factor": 2.0},
                              "constant 2 tightened just past its slack": {"past_slack": True},
                              "greedy exponent 25% too small": {"greedy_exponent_factor": 0.75},
                              "greedy exponent 25% too large": {"greedy_exponent_factor": 1.25}},
              attack=ATTACK)
