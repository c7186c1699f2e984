"""Oymak & Soltanolkotabi (2020): lambda_min of the shallow ReLU NTK is at least c delta / N^2 for
delta-separated unit-norm inputs.

Paper: S. Oymak, M. Soltanolkotabi, "Toward moderate overparameterization: global convergence guarantees for
training shallow neural networks", IEEE Journal on Selected Areas in Information Theory 1(1), 2020
(arXiv 1902.04674). Inputs have unit norm and are delta-separated:
delta = min_{i != j} min(||x_i - x_j||, ||x_i + x_j||). For ReLU, their lambda(X) = lambda_min(Sigma(X)) with
Sigma(X) = E_w[(phi'(X w) phi'(X w)^T) o (X X^T)], w ~ N(0, I_d), is bounded below by delta / (100 N^2).

The constant: we read it as c = 1/100 (their ReLU corollary); the theorem is stated with that constant, so the
rule uses it, and the measured slack (the largest c for which the bound holds on every measured set) is reported.
Sigma(X) equals Du et al.'s H^inf: d x `sims.kernels.shallow_kernel(X, activation="relu", get="ntk_first_layer")`.

OS20 (kind OURS: the bound is the paper's; the tightness part (b) and the test sets are ours).

Rule (written before any run):
  (a) lambda_min(Sigma(X)) >= delta / (100 N^2) - (round-off bound) on every measured set: random unit vectors of
      several (N, d), planted close pairs and planted near-antipodal pairs (a violation is certain);
  (b) the exponent of delta is attained: the slope of log lambda_min on log delta over the planted close-pair
      sweep lies within 0.1 of the bound's exponent 1.
  holds iff (a) and (b) hold; violated otherwise.
Power: a bound c delta^p / N^q is violated by (a) whenever c exceeds the measured slack; the false variant
"lambda_min >= delta" (c = 1, no N) is violated by the close pairs (lambda_min ~ delta/(2 pi)); "exponent 2 in
delta" by (b).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from hmin import theory
from hmin.sims.data import planted_pair, uniform_sphere
from hmin.sims.kernels import shallow_kernel
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, VIOLATED, Verdict, fit_loglog_slope, worst
from hmin.sims.zoo._common import separated_base, lam_min, roundoff, separation

ID = "OS20"
#: the paper's constant as we read it (module docstring)
C_PAPER = 0.01

_t = sp.Symbol("theta", positive=True)
_H = sp.cos(_t) * (sp.pi - _t) / (2 * sp.pi)


def sigma_matrix(X) -> np.ndarray:
    """Sigma(X) of Oymak & Soltanolkotabi on unit-norm rows X (= Du et al.'s H^inf; `hmin.sims.kernels`)."""
    X = np.asarray(X, dtype=np.float64)
    return X.shape[1] * np.asarray(shallow_kernel(X, activation="relu", get="ntk_first_layer"))


def bound(delta: float, n: int, *, c: float = C_PAPER, delta_exponent: float = 1.0, n_power: float = 2.0) -> float:
    """c delta^p / N^q (the paper: c = 1/100, p = 1, q = 2)."""
    return c * delta**delta_exponent / n**n_power


def _symbolic_checks() -> list:
    delta = 2 * sp.sin(_t / 2)
    lim = sp.limit((_H.subs(_t, 0) - _H) / delta, _t, 0, "+")
    ok = sp.simplify(lim - 1 / (2 * sp.pi)) == 0
    claim = ("two unit inputs at angle theta -> 0: lambda_min(Sigma) / delta -> 1/(2 pi) >= 1/(100 * 2^2) "
             "(the bound holds for N = 2 near delta = 0, and its exponent 1 in delta is attained)")
    res = [theory.proved(claim, f"sympy: limit = {lim}") if ok else theory.disproved(claim, f"sympy: {lim}", margin=-1.0)]
    res.append(theory.negative_control(
        theory.disproved("lambda_min(Sigma) >= delta for every pair of unit inputs (c = 1, no N)",
                         f"sympy: lambda_min / delta -> {lim} < 1 as theta -> 0", margin=float(lim) - 1.0)
        if float(lim) < 1 else theory.proved("lambda_min(Sigma) >= delta", f"sympy: {lim}")))
    return res


STATEMENT = theory.Statement(
    id=ID,
    title="Oymak & Soltanolkotabi 2020: lambda_min of the ReLU NTK >= delta / (100 N^2) for delta-separated data",
    kind="OURS",
    paper_ref="Oymak & Soltanolkotabi, IEEE JSAIT 2020 (arXiv 1902.04674), ReLU corollary of the NTK lower bound",
    text=("For unit-norm inputs x_1..x_N with delta = min_{i != j} min(||x_i - x_j||, ||x_i + x_j||) > 0, "
          "lambda_min(Sigma(X)) >= delta / (100 N^2), Sigma(X) = E_w[(relu'(Xw) relu'(Xw)^T) o X X^T], w ~ N(0, I). "
          "Checkable version (ours): the bound on random, close-pair and near-antipodal sets, and the exponent 1 in "
          "delta attained by a planted close pair."),
    hypotheses=("inputs of unit norm", "delta-separated (neither parallel nor antiparallel pairs)", "ReLU activation",
                "infinite width: Sigma(X) in closed form (sims.kernels)", "the constant c = 1/100 as we read the paper"),
    exprs={"h_angle": _H},
    predictors=("sigma_matrix", "bound"),
    checks=_symbolic_checks,
)


@dataclasses.dataclass(frozen=True)
class Settings:
    seeds: tuple[int, ...] = (0, 1, 2)
    sizes: tuple[tuple[int, int], ...] = ((8, 3), (16, 4), (32, 8), (64, 8), (128, 16))
    pair_n: int = 16
    pair_d: int = 4
    deltas: tuple[float, ...] = tuple(np.logspace(-6, -1, 6).tolist())


SETTINGS = {
    "quick": Settings(seeds=(0,), sizes=((8, 3), (16, 4)), deltas=tuple(np.logspace(-6, -2, 3).tolist())),
    "default": Settings(),
    "full": Settings(seeds=tuple(range(8)), sizes=((8, 3), (16, 4), (32, 8), (64, 8), (128, 16), (256, 16))),
}


def measure(ctx) -> dict:
    """lambda_min(Sigma(X)), delta and the round-off bound on random, close-pair and near-antipodal sets."""
    st = ctx.settings
    rows = []

    def row(arm, X, **kw):
        S = sigma_matrix(X)
        rows.append({"arm": arm, "n": int(X.shape[0]), "d": int(X.shape[1]), "delta": separation(X),
                     "lam_min": lam_min(S), "roundoff": roundoff(S), **kw})

    for s in st.seeds:
        for k, (n, d) in enumerate(st.sizes):
            row("random", uniform_sphere(n, d, key=ctx.key(s, 0, k)).X, seed=s)
        # a base set in which every planted distance is the unique closest pair (planted_pair's condition)
        base = separated_base(st.pair_n, st.pair_d, 2 * max(st.deltas),
                              lambda t: ctx.key(s, 1) if t == 0 else ctx.key(s, 1, t))
        for dl in st.deltas:
            X = planted_pair(base, dl).X
            row("close pair", X, seed=s, planted=dl)
            Xa = X.copy()
            i, j = 0, int(np.argmin(np.linalg.norm(X[1:] - X[0], axis=1))) + 1
            Xa[j] = -X[j]  # near-antipodal: ||x_i + x_j|| = delta
            row("antipodal pair", Xa, seed=s, planted=dl)
    return {"settings": dataclasses.asdict(st), "rows": rows}


def judge(measured: dict, *, c: float = C_PAPER, delta_exponent: float = 1.0, n_power: float = 2.0) -> Verdict:
    """The rule of the module docstring; the keywords replace the bound c delta^p / N^q (the variant hooks)."""
    rows = measured["rows"]
    under = [r for r in rows if r["lam_min"] < bound(r["delta"], r["n"], c=c, delta_exponent=delta_exponent,
                                                     n_power=n_power) - r["roundoff"]]
    slopes = {}
    for s in sorted({r["seed"] for r in rows}):
        rr = [r for r in rows if r["arm"] == "close pair" and r["seed"] == s]
        slopes[s] = fit_loglog_slope([r["delta"] for r in rr], [r["lam_min"] for r in rr])["slope"]
    b = worst([HOLDS if delta_exponent - 0.1 <= v <= delta_exponent + 0.1 else VIOLATED for v in slopes.values()])
    parts = {"a_bound": VIOLATED if under else HOLDS, "b_exponent": b}
    slack = min(r["lam_min"] * r["n"] ** 2 / r["delta"] for r in rows)
    by_arm = {arm: float(min(r["lam_min"] * r["n"] ** 2 / r["delta"] for r in rows if r["arm"] == arm))
              for arm in dict.fromkeys(r["arm"] for r in rows)}
    numbers = {
        "largest_c": float(slack),
        "largest_c_over_paper": float(slack / C_PAPER),
        "largest_c_by_arm": {k.replace(" ", "_"): v for k, v in by_arm.items()},
        "n_sets": len(rows),
        "n_below_bound": len(under),
        "slopes_in_delta": {str(k): round(v, 4) for k, v in slopes.items()},
        "parts": parts,
    }
    labels = {
        "largest_c": "largest c with lambda_min >= c delta / N^2 on every measured set (the measured constant)",
        "largest_c_over_paper": "that constant over the paper's 1/100 (the slack of the bound)",
        "largest_c_by_arm": "the measured constant per kind of set",
        "n_sets": "sets measured",
        "n_below_bound": "sets below the bound (minus round-off)",
        "slopes_in_delta": "slope of log lambda_min on log delta over the planted close pairs, per seed (predicted 1)",
        "parts": "verdict of each part",
    }
    rule = (f"(a) lambda_min(Sigma) >= {c:g} delta^{delta_exponent:g} / N^{n_power:g} - round-off on every set; "
            f"(b) slope in delta over the close pairs in [{delta_exponent - 0.1:g}, {delta_exponent + 0.1:g}]")
    return Verdict(ID, worst(list(parts.values())), rule, numbers, labels,
                   notes="delta counts antiparallel pairs (min(||x_i - x_j||, ||x_i + x_j||)); Sigma in closed form "
                         "(sims.kernels), float64.",
                   power="(a) is certain: any c above the measured constant (largest_c) would be violated; the false "
                         "variant 'lambda_min >= delta' (c = 1, no N) is violated by the close pairs, 'exponent 2 in "
                         "delta' by (b).")


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from hmin.sims.plotting import plt, save

    fig, ax = plt().subplots(figsize=(6, 4))
    rows = measured["rows"]
    for arm, mk in (("random", "o"), ("close pair", "s"), ("antipodal pair", "^")):
        rr = [r for r in rows if r["arm"] == arm]
        ax.loglog([r["delta"] / r["n"] ** 2 for r in rr], [r["lam_min"] for r in rr], mk, ms=4, label=arm)
    x = np.array([min(r["delta"] / r["n"] ** 2 for r in rows), max(r["delta"] / r["n"] ** 2 for r in rows)])
    ax.loglog(x, C_PAPER * x, "k--", lw=1, label="bound delta / (100 N^2)")
    ax.set_xlabel("delta / N^2")
    ax.set_ylabel("lambda_min(Sigma(X))")
    ax.set_title(f"OS20: {verdict.verdict}; measured constant {verdict.numbers['largest_c']:.3g} (paper 0.01)", fontsize=9)
    ax.legend(fontsize=8)
    return [ctx.rel(save(fig, ctx.fig("os20_lambda_min_vs_bound.png")))]


# ------------------------------------------------------------------------------------------------
# attack surface (hmin attack OS20): search the unit sphere for a set the bound misses
# ------------------------------------------------------------------------------------------------

#: sets searched: N unit vectors in R^d (every z in R^(N (d-1)) is a candidate, by inverse stereographic projection)
ATTACK_N, ATTACK_D = 6, 3
_ATTACK_CLAIMS = {"claim": {"c": C_PAPER, "n_power": 2.0},
                  "no-N": {"c": 1.0, "n_power": 0.0}}


def _attack_margin(X: np.ndarray, c: float, n_power: float) -> tuple[float, float, float]:
    """(margin, lambda_min, delta): margin = log((lambda_min + round-off) / (c delta / N^q)), the judge's part (a)
    with its round-off allowance; < 0 exactly where (a) calls the set violated."""
    S = sigma_matrix(X)
    lam, delta = lam_min(S), separation(X)
    b = bound(delta, X.shape[0], c=c, n_power=n_power)
    if not b > 0:  # delta = 0 (a repeated input) leaves the hypothesis; the decoder cannot reach it exactly
        return float("inf"), lam, delta
    return float(np.log(max(lam + roundoff(S), 1e-300) / b)), lam, delta


def _attack_problem(claim: str):
    from hmin.sims.surface import Problem

    kw = _ATTACK_CLAIMS[claim]
    n, d = ATTACK_N, ATTACK_D

    def decode(z):
        # inverse stereographic projection of each row: every z in R^(N (d-1)) gives N unit vectors (inside the
        # hypothesis by construction; z = 0 rows give the south pole, so shrinking can only repeat a point)
        Z = np.asarray(z, dtype=np.float64).reshape(n, d - 1)
        q = np.sum(Z * Z, axis=1, keepdims=True)
        X = np.concatenate([2 * Z, q - 1], axis=1) / (q + 1)
        return {"points": X.tolist(), "c": kw["c"], "n_power": kw["n_power"]}

    def margin(z):
        return _attack_margin(np.asarray(decode(z)["points"]), kw["c"], kw["n_power"])[0]

    def rejudge(cand):  # the judge's own inequality on the saved points, float64
        X = np.asarray(cand["points"], dtype=np.float64)
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
        S = sigma_matrix(X)
        b = bound(separation(X), X.shape[0], c=float(cand["c"]), n_power=float(cand["n_power"]))
        return float(np.log(max(lam_min(S) + roundoff(S), 1e-300) / b)) if b > 0 else float("inf")

    def describe(cand):
        m, lam, delta = _attack_margin(np.asarray(cand["points"], dtype=np.float64), float(cand["c"]),
                                       float(cand["n_power"]))
        return (f"at delta = {delta:.3g}: lambda_min(Sigma) = {lam:.3g} against {cand['c']:g} delta / N^"
                f"{cand['n_power']:g} (N = {n} unit vectors in R^{d})")

    return Problem(dim=n * (d - 1), margin=margin, decode=decode, rejudge=rejudge, describe=describe,
                   differentiable=False, init_scale=1.0)


def _attack_surface():
    from hmin.sims.surface import AttackSurface

    return AttackSurface(
        space=f"N = {ATTACK_N} unit vectors in R^{ATTACK_D} (inverse stereographic projection of z), delta > 0",
        claims={"claim": "lambda_min(Sigma(X)) >= delta / (100 N^2) (the paper's bound)",
                "no-N": "false variant: lambda_min(Sigma(X)) >= delta (c = 1, no N)"},
        build=_attack_problem,
        tolerance="the judge's round-off allowance 64 N eps ||Sigma||_2; margin = log((lambda_min + round-off) / bound)")


ATTACK = _attack_surface()


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"lambda_min >= delta (c = 1, no N)": {"c": 1.0, "n_power": 0.0},
                              "exponent 2 in delta": {"delta_exponent": 2.0}},
              attack=ATTACK)
