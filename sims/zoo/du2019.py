"""Du, Zhai, Poczos & Singh (ICLR 2019): the Gram matrix H^infinity of a shallow ReLU net is positive definite
when no two inputs are parallel.

Paper: S. S. Du, X. Zhai, B. Poczos, A. Singh, "Gradient descent provably optimizes over-parameterized neural
networks", ICLR 2019 (arXiv 1810.02054), Assumption 3.1 / Theorem 3.1. Their net is
f(x) = (1/sqrt(m)) sum_r a_r relu(w_r^T x) with unit-norm inputs, w_r ~ N(0, I), a_r fixed; only W is trained.
Their Gram matrix is H^inf_ij = E_w[x_i^T x_j 1{w^T x_i >= 0, w^T x_j >= 0}] = x_i^T x_j (pi - theta_ij)/(2 pi)
(theta_ij the angle), and Theorem 3.1 says: if no two inputs are parallel, lambda_0 = lambda_min(H^inf) > 0.

In hmin's notation (docs/statements.md, `sims.kernels`): H^inf = d * shallow_kernel(X, activation="relu",
get="ntk_first_layer"), the infinite-width limit of `sims.diagnostics.gram(model, params, X, wrt="W")` times d
(hmin divides W x by sqrt(d)).

The checkable version (OURS: the theorem is qualitative, lambda_0 > 0, and gives no size of lambda_0):

  DU19. For unit-norm inputs with no two parallel, lambda_min(H^inf) is larger than the float64 round-off bound
  64 N eps ||H^inf|| (so it is certified positive), on random sets and on sets with a planted pair at angle down
  to 1e-6; and it goes to 0 linearly in the angle of the closest pair (H(0) - H(theta) = theta/(2 pi) + O(theta^2)).

Rule (written before any run):
  (a) every measured set with no two parallel inputs has lambda_min(H^inf) > its round-off bound (certain: a
      float64 eigenvalue below that bound cannot be told from 0);
  (b) the control: a set with a repeated input (parallel, the excluded case) has lambda_min below its round-off
      bound, so the measurement can see lambda_0 = 0 when it is 0;
  (c) the slope of log lambda_min on log theta over the planted-pair sweep lies in [0.9, 1.1] (predicted 1).
  holds iff (a), (b) and (c) hold; violated if any fails.
Power: the false variant "positive even with a parallel pair" is violated by (b); "lambda_0 >= 1e-3 whatever the
angle" (a uniform floor) by the planted sweep; "slope 2" by (c).
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
from hmin.sims.zoo._common import separated_base, lam_min, roundoff

ID = "DU19"

_t = sp.Symbol("theta", nonnegative=True)
#: H^inf of two unit inputs at angle theta (Du et al.'s Gram matrix entry)
H_ANGLE = sp.cos(_t) * (sp.pi - _t) / (2 * sp.pi)


def h_inf(X) -> np.ndarray:
    """Du et al.'s H^inf on the rows of X (unit-norm), from `hmin.sims.kernels` (d times hmin's first-layer NTK).

    Example:
        >>> np.round(h_inf(np.eye(2)), 6).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    X = np.asarray(X, dtype=np.float64)
    return X.shape[1] * np.asarray(shallow_kernel(X, activation="relu", get="ntk_first_layer"))


def _symbolic_checks() -> list:
    gap = sp.expand(sp.series(H_ANGLE.subs(_t, 0) - H_ANGLE, _t, 0, 2).removeO())
    ok = sp.simplify(gap - _t / (2 * sp.pi)) == 0
    res = [theory.proved("H(0) - H(theta) = theta/(2 pi) + O(theta^2): lambda_0 of two inputs at angle theta goes to 0 "
                         "linearly as they become parallel", f"sympy series: {gap}") if ok else
           theory.disproved("H(0) - H(theta) = theta/(2 pi) + O(theta^2)", f"sympy series: {gap}", margin=-1.0)]
    res.append(theory.by_argument(
        "two unit inputs at angle theta in (0, pi) have lambda_min(H^inf) = 1/2 - |cos theta| (pi - theta)/(2 pi) > 0",
        "the 2x2 matrix [[1/2, h], [h, 1/2]] has lambda_min = 1/2 - |h|, and |h| = |cos theta| (pi - theta)/(2 pi) < 1/2 "
        "because pi - theta < pi and |cos theta| <= 1"))
    at_pi = sp.Rational(1, 2) - sp.Abs(H_ANGLE.subs(_t, sp.pi))
    res.append(theory.negative_control(
        theory.disproved("two antiparallel inputs (theta = pi) have lambda_min(H^inf) = 0",
                         f"sympy: lambda_min = 1/2 - |H(pi)| = {at_pi} (antiparallel is excluded by the hypothesis, "
                         "but for two inputs it is not degenerate)", margin=-float(at_pi))
        if at_pi != 0 else theory.proved("two antiparallel inputs have lambda_min(H^inf) = 0", "sympy: 0")))
    return res


STATEMENT = theory.Statement(
    id=ID,
    title="Du et al. 2019: lambda_0 = lambda_min(H^inf) > 0 when no two inputs are parallel (shallow ReLU)",
    kind="OURS",
    paper_ref="Du, Zhai, Poczos & Singh, ICLR 2019 (arXiv 1810.02054), Theorem 3.1",
    text=("For unit-norm inputs x_1..x_N with no two parallel, the Gram matrix H^inf_ij = x_i^T x_j (pi - theta_ij)/(2 pi) "
          "of the shallow ReLU net f(x) = a^T relu(W x)/sqrt(m) (first layer trained) is positive definite. Checkable "
          "version (ours; the paper gives no size of lambda_0): lambda_min(H^inf) exceeds the float64 round-off bound "
          "on random sets and on planted pairs down to angle 1e-6, reaches 0 for a repeated input, and goes to 0 "
          "linearly in the angle of the closest pair."),
    hypotheses=("inputs of unit norm", "no two inputs parallel (x_i != c x_j)", "ReLU activation, w_r ~ N(0, I)",
                "infinite width (H^inf); hmin's kernel is d times sims.kernels' first-layer NTK block"),
    exprs={"h_angle": H_ANGLE},
    predictors=("h_inf",),
    checks=_symbolic_checks,
)


@dataclasses.dataclass(frozen=True)
class Settings:
    seeds: tuple[int, ...] = (0, 1, 2)
    sizes: tuple[tuple[int, int], ...] = ((8, 3), (16, 4), (32, 8), (64, 8))
    pair_n: int = 16
    pair_d: int = 4
    angles: tuple[float, ...] = tuple(np.logspace(-6, -1, 6).tolist())


SETTINGS = {
    "quick": Settings(seeds=(0,), sizes=((8, 3), (16, 4)), angles=tuple(np.logspace(-6, -2, 3).tolist())),
    "default": Settings(),
    "full": Settings(seeds=tuple(range(8)), sizes=((8, 3), (16, 4), (32, 8), (64, 8), (128, 16))),
}


def measure(ctx) -> dict:
    """lambda_min(H^inf) and its round-off bound on random, planted-pair and repeated-input sets."""
    st = ctx.settings
    rows = []
    for s in st.seeds:
        for k, (n, d) in enumerate(st.sizes):
            H = h_inf(uniform_sphere(n, d, key=ctx.key(s, 0, k)).X)
            rows.append({"seed": s, "arm": "random", "n": n, "d": d, "lam_min": lam_min(H), "roundoff": roundoff(H)})
        # a base set in which every planted chord is the unique closest pair (planted_pair's condition)
        base = separated_base(st.pair_n, st.pair_d, 2 * 2 * np.sin(max(st.angles) / 2),
                              lambda t: ctx.key(s, 1) if t == 0 else ctx.key(s, 1, t))
        for th in st.angles:
            X = planted_pair(base, 2 * np.sin(th / 2)).X  # chord of the angle: the pair is at angle th
            H = h_inf(X)
            rows.append({"seed": s, "arm": "pair", "n": st.pair_n, "d": st.pair_d, "angle": th,
                         "lam_min": lam_min(H), "roundoff": roundoff(H)})
        X = base.X.copy()
        X[1] = X[0]  # a repeated input: parallel, outside the hypothesis
        H = h_inf(X)
        rows.append({"seed": s, "arm": "parallel", "n": st.pair_n, "d": st.pair_d, "lam_min": lam_min(H),
                     "roundoff": roundoff(H)})
    return {"settings": dataclasses.asdict(st), "rows": rows}


def judge(measured: dict, *, parallel_ok: bool = False, floor: float = 0.0, slope: float = 1.0) -> Verdict:
    """The rule of the module docstring. Variant hooks: ``parallel_ok`` (claim positivity for a parallel pair too),
    ``floor`` (claim lambda_0 >= floor for every non-parallel set), ``slope`` (the predicted exponent in the angle)."""
    rows = measured["rows"]
    fine = [r for r in rows if r["arm"] in ("random", "pair")]
    par = [r for r in rows if r["arm"] == "parallel"]
    a_ok = all(r["lam_min"] > max(r["roundoff"], floor) for r in fine)
    b_ok = all((r["lam_min"] > r["roundoff"]) == parallel_ok for r in par)
    slopes = {}
    for s in sorted({r["seed"] for r in rows}):
        rr = [r for r in rows if r["arm"] == "pair" and r["seed"] == s]
        slopes[s] = fit_loglog_slope([r["angle"] for r in rr], [r["lam_min"] for r in rr])["slope"]
    c = worst([HOLDS if slope - 0.1 <= v <= slope + 0.1 else VIOLATED for v in slopes.values()])
    parts = {"a_positive": HOLDS if a_ok else VIOLATED, "b_parallel_control": HOLDS if b_ok else VIOLATED,
             "c_linear_in_angle": c}
    margin = min(r["lam_min"] / r["roundoff"] for r in fine)
    numbers = {
        "min_lam_over_roundoff": float(margin),
        "min_lam_random": float(min(r["lam_min"] for r in rows if r["arm"] == "random")),
        "lam_parallel": [float(r["lam_min"]) for r in par],
        "slopes_in_angle": {str(k): round(v, 4) for k, v in slopes.items()},
        "parts": parts,
    }
    labels = {
        "min_lam_over_roundoff": "smallest lambda_min(H^inf) / round-off bound over the non-parallel sets (> 1: certified)",
        "min_lam_random": "smallest lambda_0 over the random sets",
        "lam_parallel": "lambda_min with a repeated input (the excluded case; must be ~0)",
        "slopes_in_angle": "slope of log lambda_0 on log(angle of the planted pair), per seed (predicted 1)",
        "parts": "verdict of each part",
    }
    rule = ("(a) lambda_min(H^inf) > 64 N eps ||H^inf|| on every set with no two parallel inputs"
            + (f" and >= {floor:g}" if floor else "") + "; (b) with a repeated input it is "
            + ("above" if parallel_ok else "below") + f" that bound; (c) slope in the angle in [{slope - 0.1:g}, {slope + 0.1:g}]")
    return Verdict(ID, worst(list(parts.values())), rule, numbers, labels,
                   notes="H^inf = d x sims.kernels.shallow_kernel(get='ntk_first_layer') (closed form, float64).",
                   power="(a) is certain (round-off bound); (b) shows the measurement sees lambda_0 = 0 when it is 0 "
                         "(the false variant 'positive even with a parallel pair' is violated); a uniform floor 1e-3 "
                         "and exponent 2 in the angle are violated by the planted sweep.")


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from hmin.sims.plotting import plt, save

    fig, ax = plt().subplots(figsize=(6, 4))
    rows = measured["rows"]
    for s in sorted({r["seed"] for r in rows}):
        rr = sorted((r for r in rows if r["arm"] == "pair" and r["seed"] == s), key=lambda r: r["angle"])
        ax.loglog([r["angle"] for r in rr], [r["lam_min"] for r in rr], "o-", ms=4, label=f"seed {s}")
    th = np.array(sorted({r["angle"] for r in rows if r["arm"] == "pair"}))
    ax.loglog(th, th / (2 * np.pi), "k--", lw=1, label="theta / (2 pi)")
    ax.set_xlabel("angle of the planted pair (radians)")
    ax.set_ylabel("lambda_0 = lambda_min(H^inf)")
    ax.set_title(f"DU19: {verdict.verdict}", fontsize=9)
    ax.legend(fontsize=8)
    return [ctx.rel(save(fig, ctx.fig("du19_lambda0_vs_angle.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"positive even with a parallel pair": {"parallel_ok": True},
                              "uniform floor lambda_0 >= 1e-3": {"floor": 1e-3},
                              "exponent 2 in the angle": {"slope": 2.0}})
