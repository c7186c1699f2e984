"""A statement of your own, checked by hmin without editing it: the ReLU contrast to T4.

    hmin verify --plugin examples/relu_ntk_slope.py --only RELU1

T4 says that for a real-analytic network a close pair caps lambda_min(G) like h_min^2: the mean-value
step ||grad f(x_i) - grad f(x_j)|| <= L_x h_ij needs x -> grad_theta f(x) to be Lipschitz. For ReLU
it is not (grad f jumps when x crosses a unit's hyperplane), and the exponent changes:

RELU1. Shallow ReLU net f(x) = a^T relu(W x / sqrt(d)) / sqrt(m) (hmin's ``shallow`` with
``activation="relu"``), W and a N(0, 1), points on the unit sphere. Its infinite-width NTK is, with
theta the angle between x and x' (arc-cosine kernels, Cho & Saul 2009),

    K(x, x') = (1/d) [ (sin theta + (pi - theta) cos theta) / (2 pi) + cos theta (pi - theta) / (2 pi) ],

and K(x, x) - K(x, x') = theta / (2 pi d) + O(theta^2): lambda_min of the NTK matrix of a set with a
close pair scales like h_min (slope 1 in log-log), not h_min^2. At finite width m the empirical Gram
follows slope 1 for h_min well above ~1/m (about m h / pi hyperplanes separate the pair) and slope 2
far below it (no hyperplane separates the pair: the net is linear on the segment, T4's argument
applies).

The file is the whole plug-in, written only against hmin's public API: ``STATEMENT`` (a
`theory.Statement`: words, kind, hypotheses, symbolic checks) and ``CHECK`` (a
`sims.registry.Check`: typed settings per preset, measure, judge with a variant hook, plot, and the
false variants that judge must turn into "violated"). Copied into ``sims/checks/`` it becomes a
built-in statement with no other edit. docs/plugins.md walks through it.

Rule (written before any run):
  (a) closed form: the least-squares slope of log lambda_min(K) on log h_min over the closed-form
      sweep lies in [s - 0.1, s + 0.1], s = 1 (the prediction; the ``slope`` variant replaces it);
  (b) wide net (width ``wide``, h_min in the "above 1/m" sweep): the slope of the empirical
      log lambda_min(G) per seed lies within 0.25 of the closed form's slope over the same h_min
      range (plus s - 1 under a variant), and lambda_min(G) / lambda_min(K) lies in [1/2, 2] at every
      point (finite-width fluctuation of a sum of m terms);
  (c) narrow net (width ``narrow``, h_min in the "far below 1/m" sweep): the slope per seed lies in
      [1.75, 2.25].
  holds iff (a), (b) and (c) hold; violated if any is outside its band.
  Revision, disclosed: the first run of this rule used width 8192 and h_min from 1e-2 and came out
  violated at seed 2 (slope 1.31, ratio 0.40). The cause is finite width, not the statement: the pair
  term of the wide net is a sum over the ~ m theta / pi units whose hyperplane separates the pair,
  with a_j^2 weights, so its relative spread is about sqrt(3 pi / (m h)) = 0.34 at m = 8192, h = 1e-2.
  The width is now chosen so that four spreads fit in the [1/2, 2] band at the smallest h
  (m >= 3 pi 64 / h, 65536 at h = 1e-2), and (b)'s slope is compared with the closed form's slope
  over the same h_min range (the theta^2 term steepens it above h = 1e-2; comparing with 1 there was a
  wrong prediction, not a tolerance). The bands are unchanged. The revised rule was then run on seeds 15-19,
  never looked at before. Power: (a) is a deterministic
  computation and catches any predicted slope off by more than 0.1; the false variant "slope 2
  everywhere" (T4's exponent) must come out violated.
What could make the true statement come out violated: a seed whose narrow-net pair happens to be
separated by a hyperplane (probability about m h / pi, below 1e-2 at the default sizes), and
float64 round-off at the smallest h (lambda_min ~ 1e-12 lambda_max, far above 1e-16).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from hmin import theory
from hmin.sims.data import planted_pair, uniform_sphere
from hmin.sims.diagnostics import gram
from hmin.sims.kernels import shallow_kernel
from hmin.sims.models import shallow
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, VIOLATED, Verdict, band_verdict, fit_loglog_slope, worst
from hmin.sims.plotting import styled

ID = "RELU1"

# ------------------------------------------------------------------------------------------------
# the theory side: the closed form and its symbolic check
# ------------------------------------------------------------------------------------------------

_t = sp.Symbol("theta", nonnegative=True)
#: the normalised infinite-width NTK on the unit sphere as a function of the angle (times d)
NTK_ANGLE = (sp.sin(_t) + (sp.pi - _t) * sp.cos(_t)) / (2 * sp.pi) + sp.cos(_t) * (sp.pi - _t) / (2 * sp.pi)


def ntk_matrix(X: np.ndarray) -> np.ndarray:
    """The infinite-width NTK matrix of hmin's shallow ReLU net on X (`hmin.sims.kernels`, float64).

    Example:
        >>> K = ntk_matrix(np.eye(2))      # orthogonal unit vectors, d = 2
        >>> round(float(K[0, 0]), 6), round(float(K[0, 1]), 6)
        (0.5, 0.079577)
    """
    return np.asarray(shallow_kernel(np.asarray(X, dtype=np.float64), activation="relu", get="ntk"))


def _symbolic_checks() -> list:
    gap = sp.series(NTK_ANGLE.subs(_t, 0) - NTK_ANGLE, _t, 0, 3).removeO()
    lead = sp.Poly(sp.expand(gap), _t).terms()[-1]          # lowest-order term
    order, coef = lead[0][0], sp.nsimplify(lead[1])
    claim = "K(x, x) - K(x, x') = theta / (2 pi d) + O(theta^2) as theta -> 0 (leading exponent 1)"
    ok = order == 1 and sp.simplify(coef - 1 / (2 * sp.pi)) == 0
    res = [theory.proved(claim, f"sympy series: {sp.expand(gap)}") if ok
           else theory.disproved(claim, f"sympy series: {sp.expand(gap)}", margin=-1.0)]
    wrong = "K(x, x) - K(x, x') = O(theta^2) as theta -> 0 (T4's exponent 2 for ReLU)"
    res.append(theory.negative_control(
        theory.disproved(wrong, f"sympy: the theta^1 coefficient is {coef} != 0", margin=-float(coef))
        if order == 1 else theory.proved(wrong, f"sympy series: {sp.expand(gap)}")))
    return res


STATEMENT = theory.Statement(
    id=ID,
    title="ReLU: lambda_min of the NTK scales like h_min, not h_min^2",
    kind="OURS",
    paper_ref="",
    text=("For the shallow ReLU net f(x) = a^T relu(W x / sqrt(d)) / sqrt(m) on the unit sphere, lambda_min of the "
          "infinite-width NTK matrix of a set with one close pair scales like h_min (K(x, x) - K(x, x') = theta/(2 pi d) "
          "+ O(theta^2), arc-cosine kernels), not like h_min^2 as T4 gives for analytic nets. At finite width m the "
          "empirical Gram follows slope 1 for h_min well above ~1/m and slope 2 far below it."),
    hypotheses=("ReLU activation (not analytic: x -> grad_theta f(x) has no Lipschitz constant L_x)",
                "weights N(0, 1), NTK scaling", "points on the unit sphere, one planted close pair"),
    exprs={"ntk_angle_times_d": NTK_ANGLE},
    predictors=("ntk_matrix",),
    checks=_symbolic_checks,
)

# ------------------------------------------------------------------------------------------------
# the numeric side
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    n: int = 8
    d: int = 8
    seeds: tuple[int, ...] = (0, 1, 2)
    wide: int = 65536
    narrow: int = 32
    h_closed: tuple[float, ...] = tuple(np.logspace(-5, -1, 9).tolist())
    h_above: tuple[float, ...] = tuple(np.logspace(-2, np.log10(0.2), 5).tolist())
    h_below: tuple[float, ...] = tuple(np.logspace(-6, -4, 5).tolist())


SETTINGS = {
    # the wide width is set by the rule's noise argument (module docstring), so quick keeps it
    "quick": Settings(seeds=(0,), h_above=tuple(np.logspace(-2, np.log10(0.2), 3).tolist()),
                      h_below=tuple(np.logspace(-6, -4, 3).tolist())),
    "default": Settings(),
    "full": Settings(seeds=tuple(range(8)), wide=32768),
}


def _lam_min(G) -> float:
    return float(np.linalg.eigvalsh(np.asarray(G, dtype=np.float64))[0])


def measure(ctx) -> dict:
    """lambda_min of the closed-form NTK and of hmin's empirical Gram on planted-pair sets."""
    st = ctx.settings
    rows = []
    for s in st.seeds:
        base = uniform_sphere(st.n, st.d, key=ctx.key(s, 0))
        sets = {h: planted_pair(base, h).X for h in sorted({*st.h_closed, *st.h_above, *st.h_below})}
        for h in st.h_closed:
            rows.append({"seed": s, "arm": "closed form", "h": h, "lam_min": _lam_min(ntk_matrix(sets[h]))})
        for arm, width, hs in (("wide", st.wide, st.h_above), ("narrow", st.narrow, st.h_below)):
            model = shallow(st.d, width, activation="relu")
            params = model.init(ctx.key(s, 1, width))
            for h in hs:
                rows.append({"seed": s, "arm": arm, "width": width, "h": h,
                             "lam_min": _lam_min(gram(model, params, sets[h])),
                             "lam_min_ntk": _lam_min(ntk_matrix(sets[h]))})
    return {"settings": dataclasses.asdict(st), "rows": rows}


def judge(measured: dict, *, slope: float = 1.0) -> Verdict:
    """Apply the rule of the module docstring; ``slope`` replaces the predicted exponent 1."""
    rows = measured["rows"]

    def fits(arm):
        out = {}
        for s in sorted({r["seed"] for r in rows if r["arm"] == arm}):
            rr = [r for r in rows if r["arm"] == arm and r["seed"] == s]
            out[s] = fit_loglog_slope([r["h"] for r in rr], [r["lam_min"] for r in rr])["slope"]
        return out

    closed, wide, narrow = fits("closed form"), fits("wide"), fits("narrow")
    # the closed form's own slope over the wide sweep's h range (the theta^2 term steepens it above 1e-2)
    wide_rows = [r for r in rows if r["arm"] == "wide"]
    local = fit_loglog_slope([r["h"] for r in wide_rows], [r["lam_min_ntk"] for r in wide_rows])["slope"]
    local += slope - 1.0  # a variant's exponent shifts the prediction everywhere
    ratios = [r["lam_min"] / r["lam_min_ntk"] for r in rows if r["arm"] == "wide"]
    parts = {
        "a_closed_form": worst([band_verdict(v, slope - 0.1, slope + 0.1) for v in closed.values()]),
        "b_wide_slope": worst([band_verdict(v, local - 0.25, local + 0.25) for v in wide.values()]),
        "b_wide_vs_ntk": HOLDS if ratios and all(0.5 <= q <= 2.0 for q in ratios) else VIOLATED,
        "c_narrow_slope": worst([band_verdict(v, 1.75, 2.25) for v in narrow.values()]),
    }
    st = measured["settings"]
    numbers = {
        "slope_closed_form": float(np.median(list(closed.values()))),
        "slopes_wide": {str(k): round(v, 3) for k, v in wide.items()},
        "slope_closed_form_wide_range": float(local),
        "slopes_narrow": {str(k): round(v, 3) for k, v in narrow.items()},
        "wide_over_ntk": [float(min(ratios)), float(max(ratios))] if ratios else [],
        "parts": parts,
    }
    labels = {
        "slope_closed_form": "slope of log lambda_min(K) on log h_min, infinite width (closed form)",
        "slopes_wide": f"slopes per seed, width {st['wide']}, h_min in [{min(st['h_above']):.0e}, {max(st['h_above']):.2g}]",
        "slopes_narrow": f"slopes per seed, width {st['narrow']}, h_min in [{min(st['h_below']):.0e}, {max(st['h_below']):.0e}]",
        "slope_closed_form_wide_range": "closed-form slope over the wide sweep's h_min range (the prediction for (b))",
        "wide_over_ntk": "range of lambda_min(G) / lambda_min(K) at the wide width (in [1/2, 2])",
        "parts": "verdict of each part",
    }
    rule = (f"(a) closed-form slope in [{slope - 0.1:g}, {slope + 0.1:g}]; (b) wide-net slope per seed within 0.25 of "
            f"the closed form's slope over the same h_min range ({local:.3f}) and lambda_min(G)/lambda_min(K) in [1/2, 2]; "
            "(c) narrow-net slope per seed in [1.75, 2.25]")
    return Verdict(ID, worst(list(parts.values())), rule, numbers, labels,
                   notes="h_min is the minimum pairwise distance (not q_X). An example plug-in (examples/relu_ntk_slope.py).",
                   power="(a) is exact arithmetic: a predicted slope off by more than 0.1 is caught (the false variant "
                         "'slope 2', T4's exponent, is violated).")


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from hmin.sims.plotting import plt, save

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.5, 4.5))
    rows = measured["rows"]
    for arm, style, color in (("closed form", "-", "k"), ("wide", "o", "C0"), ("narrow", "s", "C3")):
        for s in sorted({r["seed"] for r in rows if r["arm"] == arm}):
            rr = sorted((r for r in rows if r["arm"] == arm and r["seed"] == s), key=lambda r: r["h"])
            lab = None if s != min(r["seed"] for r in rows) else (
                "infinite-width NTK (closed form)" if arm == "closed form"
                else f"empirical G, width {rr[0]['width']}")
            ax.loglog([r["h"] for r in rr], [r["lam_min"] for r in rr], style, color=color, ms=4, lw=1, alpha=0.8,
                      label=lab)
    ax.set_xlabel("h_min (planted pair distance; not q_X)")
    ax.set_ylabel("lambda_min of the Gram / NTK matrix")
    ax.set_title(f"RELU1: {verdict.verdict}: slope {verdict.numbers['slope_closed_form']:.3f} (closed form), "
                 "2 far below 1/m", fontsize=9)
    ax.legend(fontsize=8)
    return [ctx.rel(save(fig, ctx.fig("relu1_lambda_min_vs_hmin.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"slope 2 (T4's exponent)": {"slope": 2.0}})
