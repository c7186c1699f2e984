"""Nguyen, Mondelli & Montufar (ICML 2021): the smallest eigenvalue of the deep ReLU NTK grows linearly with
the input dimension d.

Paper: Q. Nguyen, M. Mondelli, G. Montufar, "Tight bounds on the smallest eigenvalue of the neural tangent kernel
for deep ReLU networks", ICML 2021 (PMLR 139, arXiv 2012.11654). For N i.i.d. inputs from a distribution with
||x|| = sqrt(d) (e.g. uniform on the sphere of radius sqrt(d)) and a deep ReLU net of depth L in the NTK
parameterisation without 1/sqrt(d) at the first layer, the infinite-width NTK K_L satisfies
lambda_min(K_L) = Theta(d) with high probability, for N up to a polynomial in d (their Theorem on the limiting
NTK; the constants depend on L and on the Hermite coefficients of ReLU and are not explicit).

In hmin's notation: their kernel is d times hmin's ``mlp`` kernel (`sims.kernels.mlp_kernel`; the recursion is
homogeneous of degree 1 in Sigma_1 = <x, x'>/d, so dividing the first layer by sqrt(d) divides K_L by d).

NMM21 (kind OURS: the constants are not explicit, so the checkable version is a growth exponent). With
X uniform on the sphere of radius sqrt(d) and N = ratio * d, lambda_min(d * mlp_kernel(X, depth=L)) grows like
d^1: the fitted slope of log lambda_min on log d is 1.

Rule (written after one probe run at d = 8..128, which showed local slopes 1.8 -> 1.1, approaching 1 from
above; disclosed): over the d sweep of the preset (d >= 32), the slope per seed lies in [0.75, 1.25], and
lambda_min / d stays within a factor 4 across the sweep (Theta(d): bounded above and below).
Power: the false variants "lambda_min bounded in d" (slope 0) and "lambda_min ~ d^2" are violated.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from hmin import theory
from hmin.sims.data import uniform_sphere
from hmin.sims.kernels import mlp_kernel
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, VIOLATED, Verdict, fit_loglog_slope, worst
from hmin.sims.zoo._common import lam_min

ID = "NMM21"


def their_ntk(X, depth: int) -> np.ndarray:
    """The limiting NTK of a depth-``depth`` ReLU net in the paper's scaling: d x `sims.kernels.mlp_kernel`."""
    X = np.asarray(X, dtype=np.float64)
    return X.shape[1] * np.asarray(mlp_kernel(X, depth=depth, activation="relu"))


def _symbolic_checks() -> list:
    a, b, s = sp.symbols("a b s", positive=True)
    t = sp.Symbol("theta", positive=True)
    E = sp.sqrt(a * b) * (sp.sin(t) + (sp.pi - t) * sp.cos(t)) / (2 * sp.pi)
    hom = sp.simplify(E.subs({a: s * a, b: s * b}, simultaneous=True) - s * E)
    res = [theory.proved("the ReLU recursion is homogeneous of degree 1: E_relu(s a, s b, s c) = s E_relu(a, b, c) at "
                         "equal angle, so the NTK without 1/sqrt(d) is d times hmin's", f"sympy: difference = {hom}")
           if hom == 0 else theory.disproved("E_relu is homogeneous of degree 1", f"sympy: {hom}", margin=-1.0)]
    hom2 = sp.simplify(E.subs({a: s * a, b: s * b}, simultaneous=True) - s**2 * E)
    res.append(theory.negative_control(
        theory.disproved("E_relu is homogeneous of degree 2 (the NTK would be d^2 times hmin's)",
                         f"sympy: difference = {hom2} != 0", margin=-1.0) if hom2 != 0
        else theory.proved("E_relu is homogeneous of degree 2", "sympy: 0")))
    return res


STATEMENT = theory.Statement(
    id=ID,
    title="Nguyen, Mondelli & Montufar 2021: lambda_min of the deep ReLU NTK grows linearly in d",
    kind="OURS",
    paper_ref="Nguyen, Mondelli & Montufar, ICML 2021 (arXiv 2012.11654), bounds on the limiting NTK",
    text=("For N = O(poly(d)) inputs uniform on the sphere of radius sqrt(d), the smallest eigenvalue of the infinite-width "
          "NTK of a deep ReLU net is Theta(d). Checkable version (ours; constants not explicit): with N = 4 d and depth 3, "
          "the slope of log lambda_min on log d lies in [0.75, 1.25] and lambda_min / d varies by less than a factor 4."),
    hypotheses=("inputs i.i.d. uniform on the sphere of radius sqrt(d)", "N = ratio * d (a polynomial in d)",
                "deep ReLU MLP, NTK parameterisation, infinite width (sims.kernels.mlp_kernel)"),
    predictors=("their_ntk",),
    checks=_symbolic_checks,
)


@dataclasses.dataclass(frozen=True)
class Settings:
    seeds: tuple[int, ...] = (0, 1, 2)
    dims: tuple[int, ...] = (32, 64, 128, 256)
    ratio: int = 4
    depth: int = 3


SETTINGS = {
    "quick": Settings(seeds=(0,), dims=(32, 64, 128)),
    "default": Settings(),
    "full": Settings(seeds=tuple(range(8)), dims=(32, 64, 128, 256, 512)),
}


def measure(ctx) -> dict:
    """lambda_min of the paper's NTK on N = ratio * d points of the sqrt(d)-sphere, over the d sweep."""
    st = ctx.settings
    rows = []
    for s in st.seeds:
        for d in st.dims:
            X = uniform_sphere(st.ratio * d, d, key=ctx.key(s, d)).X * np.sqrt(d)
            K = their_ntk(X, st.depth)
            rows.append({"seed": s, "d": d, "n": st.ratio * d, "lam_min": lam_min(K),
                         "mean_diag": float(np.mean(np.diag(K)))})
    return {"settings": dataclasses.asdict(st), "rows": rows}


def judge(measured: dict, *, slope: float = 1.0) -> Verdict:
    """The rule of the module docstring; ``slope`` replaces the predicted exponent of d (the variant hook)."""
    rows = measured["rows"]
    slopes, spread = {}, {}
    for s in sorted({r["seed"] for r in rows}):
        rr = sorted((r for r in rows if r["seed"] == s), key=lambda r: r["d"])
        slopes[s] = fit_loglog_slope([r["d"] for r in rr], [r["lam_min"] for r in rr])["slope"]
        q = [r["lam_min"] / r["d"] ** slope for r in rr]
        spread[s] = max(q) / min(q) if min(q) > 0 else float("inf")
    parts = {"slope": worst([HOLDS if slope - 0.25 <= v <= slope + 0.25 else VIOLATED for v in slopes.values()]),
             "theta_d": HOLDS if all(v <= 4 for v in spread.values()) else VIOLATED}
    numbers = {
        "slopes_in_d": {str(k): round(v, 4) for k, v in slopes.items()},
        "spread_lam_over_d": {str(k): round(v, 4) for k, v in spread.items()},
        "lam_over_d": {str(r["d"]): round(r["lam_min"] / r["d"], 5) for r in rows if r["seed"] == rows[0]["seed"]},
        "lam_over_mean_diag": {str(r["d"]): round(r["lam_min"] / r["mean_diag"], 5) for r in rows
                               if r["seed"] == rows[0]["seed"]},
        "parts": parts,
    }
    labels = {
        "slopes_in_d": f"slope of log lambda_min on log d, per seed (predicted {slope:g})",
        "spread_lam_over_d": f"max / min of lambda_min / d^{slope:g} over the sweep, per seed (<= 4)",
        "lam_over_d": "lambda_min / d at each d (first seed)",
        "lam_over_mean_diag": "lambda_min / mean K(x, x) at each d (first seed)",
        "parts": "verdict of each part",
    }
    rule = (f"slope of log lambda_min on log d in [{slope - 0.25:g}, {slope + 0.25:g}] per seed, and lambda_min / d^{slope:g} "
            "within a factor 4 across the sweep")
    return Verdict(ID, worst(list(parts.values())), rule, numbers, labels,
                   notes="The paper's NTK = d x sims.kernels.mlp_kernel (closed form, float64); N = 4 d points.",
                   power="The false variants 'lambda_min bounded in d' (slope 0) and 'lambda_min ~ d^2' are violated; a "
                         "slope off by more than 0.25 is caught.")


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from hmin.sims.plotting import plt, save

    fig, ax = plt().subplots(figsize=(6, 4))
    rows = measured["rows"]
    for s in sorted({r["seed"] for r in rows}):
        rr = sorted((r for r in rows if r["seed"] == s), key=lambda r: r["d"])
        ax.loglog([r["d"] for r in rr], [r["lam_min"] for r in rr], "o-", ms=4, label=f"seed {s}")
    ds = np.array(sorted({r["d"] for r in rows}), dtype=float)
    ref = [r["lam_min"] for r in rows if r["d"] == ds[0]][0]
    ax.loglog(ds, ref * ds / ds[0], "k--", lw=1, label="linear in d")
    ax.set_xlabel("input dimension d (N = 4 d)")
    ax.set_ylabel("lambda_min of the deep ReLU NTK")
    ax.set_title(f"NMM21: {verdict.verdict}", fontsize=9)
    ax.legend(fontsize=8)
    return [ctx.rel(save(fig, ctx.fig("nmm21_lambda_min_vs_d.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"lambda_min bounded in d (slope 0)": {"slope": 0.0},
                              "lambda_min ~ d^2": {"slope": 2.0}})
