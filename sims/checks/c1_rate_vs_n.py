"""C1 (reviewers' question): h_min shrinks as N grows, so does the PL constant mu, and with it the rate?

Experiment (fixed before any outcome was seen): d = 2; for each N of a grid and each seed, two arms
of equal size N:
  * "iid": N i.i.d. uniform points in [0, 1]^2;
  * "greedy": greedy max-min (``sims.select``, first point seeded) from a pool of i.i.d. uniform points.
Model: the shallow tanh net of width ``WIDTH`` on the input (s (2x - 1), 1), s = ``INPUT_SCALE``
(the constant coordinate gives the hidden units a bias; the scale s = 10 makes the tanh features
rough enough that lambda_min(G) stays above float64 resolution up to N = 128: at s = 1 it is already
below 1e-16 lambda_max at N = 64 in d = 2, since a smooth kernel on low-dimensional data has
super-polynomially small eigenvalues).  At initialisation (same parameters for both arms of a seed)
mu_0 = (2/N) lambda_min(G_0) with G_0 in float64 (``sims.diagnostics.gram``, ``numpy.linalg.eigvalsh``).
Then full-batch GD with the eta rule eta = N / lambda_max(G_0) (eta lambda_max / N = 1, half the
linearised stability limit) for ``steps`` steps, for random labels (where a small eigenvalue costs
rate, T6) and for the smooth target; measured: L_T / L_0, steps to L <= 0.1 L_0 (censored at T) and
the late rate (``sims.rates``).

Rule (C1 is a question, so "holds" means "the reviewers' concern is confirmed by measurement"):
  Q1: the least-squares slope of log mu_0 vs log N over all i.i.d. runs has its 99% confidence
      interval (t-distribution) entirely below 0  (mu decays with N);
  Q2: the greedy slope minus the i.i.d. slope has its 99% interval entirely above 0 (mu decays
      faster for i.i.d. than for greedy subsets).
holds iff Q1 and Q2 are "yes"; violated iff either is a clear "no" (interval entirely on the other
side of 0); inconclusive otherwise.  Runs with lambda_min below 10 N u lambda_max (u = 2^-52, the
float64 resolution of eigvalsh) are unresolved and left out of the fits; more than a quarter of an
arm unresolved makes the verdict inconclusive.  Slopes of h_min and of the measured rates are
reported next to it.

Variant hook: ``judge(measured, direction=-1)`` asks the reversed question (mu grows with N, and
faster for greedy): on the same data it must be violated.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
from scipy import stats

from sims import data, gd
from sims.checks._trajectories import as_floats
from sims.diagnostics import gram, gram_eigh, one_blas_thread, relative_change
from sims.geometry import min_pairwise_distance
from sims.models import make_model
from sims.rates import late_rate, steps_to_eps
from sims.select import select
from sims.registry import Check
from sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict

ID = "C1"

D = 2
WIDTH = 256
INPUT_SCALE = 10.0
POOL = 4096
EPS = 0.1
CI_LEVEL = 0.99
UNRESOLVED_C = 10.0
LABELS = ("random", "smooth")
SATURATED = 1e-12  # L_T/L_0 below this: the run reached the float64 floor, its mean rate is censored


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the C1 experiment (one instance per preset in `SETTINGS`)."""

    ns: tuple[int, ...] = (8, 16, 32, 64, 128)
    seeds: int = 4  # (pool, initialisation) draws per N
    steps: int = 1000  # GD steps per run
    d: int = D
    width: int = WIDTH
    input_scale: float = INPUT_SCALE
    pool: int = POOL
    eps: float = EPS
    labels: tuple[str, ...] = LABELS


SETTINGS = {
    "quick": Settings(ns=(8, 16, 32), seeds=2, steps=300),
    "default": Settings(),
    "full": Settings(ns=(8, 16, 32, 64, 128, 256), seeds=8, steps=10000),
}


def features(X: np.ndarray) -> np.ndarray:
    """The model's input: (s (2x - 1), 1) for x in [0, 1]^d (s = INPUT_SCALE)."""
    X = np.asarray(X, dtype=np.float64)
    return np.concatenate([INPUT_SCALE * (2.0 * X - 1.0), np.ones((X.shape[0], 1))], axis=1)


def measure(ctx) -> dict:
    """For every (N, seed, arm): h_min, mu_0 and lambda's of G_0, and GD curves for both label modes."""
    t0 = time.perf_counter()
    st = ctx.settings
    model = make_model("shallow", d=D + 1, width=WIDTH, activation="tanh")
    base = ctx.key()
    rng = ctx.rng()
    pools = [rng.random((POOL, D)) for _ in range(st.seeds)]
    init_b = gd.init_params(model, key=base, batch=st.seeds)  # one compiled call for all seeds
    params0 = [jax.tree_util.tree_map(lambda a, s=s: a[s], init_b) for s in range(st.seeds)]
    runs = []
    with one_blas_thread():
        _measure_runs(st, model, base, rng, pools, params0, runs, ctx)
    return {"runs": runs, "settings": dataclasses.asdict(st), "wall_s": time.perf_counter() - t0}


def _measure_runs(st, model, base, rng, pools, params0, runs, ctx) -> None:
    """Fill ``runs`` with one record per (N, seed, arm, labels): geometry, G_0 spectrum, GD outcome."""
    for n in st.ns:
        Xs, meta, p0s, lrs = [], [], [], []
        for s in range(st.seeds):
            X_iid = rng.random((n, D))
            sel = select(pools[s], n, method="maxmin", seed=int(ctx.rng(2, s).integers(2**31)))
            for arm, X in (("iid", X_iid), ("greedy", pools[s][sel.indices])):
                F = features(X)
                ev = gram_eigh(gram(model, params0[s], F))[0]  # float64, ascending
                for lab in LABELS:
                    # random labels: i.i.d. N(0, 1), the law of sims.data.make_targets(..., "random"), drawn with
                    # NumPy (one JAX compile per N saved); the same labels for both arms of a seed
                    Y = (ctx.rng(1, n, s).standard_normal((n, 1)) if lab == "random"
                         else data.make_targets(X, "smooth", key=base))
                    Xs.append((F, Y))
                    p0s.append(params0[s])
                    lrs.append(n / ev[-1])
                    meta.append({"n": n, "seed": s, "arm": arm, "labels": lab, "h_min": min_pairwise_distance(X).h_min,
                                 "lam_min": float(ev[0]), "lam_max": float(ev[-1]), "mu0": float(2.0 * ev[0] / n),
                                 "eta": float(n / ev[-1])})
        F = np.stack([x[0] for x in Xs])
        Y = np.stack([x[1] for x in Xs])
        pb = jax.tree_util.tree_map(lambda *a: np.stack(a), *p0s)
        cfg = gd.GDConfig(lr=1.0, steps=st.steps, record_every=st.steps, gram=False, sharpness=False)
        traj = gd.train_batch(model, F, Y, cfg, key=jax.random.fold_in(base, n), params0=pb, lrs=np.asarray(lrs))
        for b, m in enumerate(meta):
            loss = traj.loss[b]
            pT = jax.tree_util.tree_map(lambda a: a[b], traj.params)
            G0, GT = (np.asarray(gram(model, p, F[b]), dtype=np.float64) for p in (p0s[b], pT))
            evT = gram_eigh(GT)[0]
            runs.append({**m, "L0": float(loss[0]), "LT_over_L0": float(loss[-1] / loss[0]),
                         "steps_to_eps": steps_to_eps(loss, EPS), "late_rate": late_rate(loss)["rate"],
                         "mu_T": float(2.0 * evT[0] / n), "gram_change_T": float(relative_change(GT, G0)),
                         "diverged": bool(traj.diverged[b])})


def _fit(ns, ys) -> dict:
    """Slope of log y on log N with its CI_LEVEL t-interval (all runs pooled)."""
    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(ys, float))
    if x.size < 3 or np.ptp(x) == 0:
        return {"slope": float("nan"), "se": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": int(x.size)}
    r = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + CI_LEVEL / 2, x.size - 2)
    return {"slope": float(r.slope), "se": float(r.stderr), "lo": float(r.slope - t * r.stderr),
            "hi": float(r.slope + t * r.stderr), "n": int(x.size)}


def _resolved(r: dict) -> bool:
    return r["lam_min"] > UNRESOLVED_C * r["n"] * np.finfo(np.float64).eps * r["lam_max"]


def _arm_runs(measured: dict, arm: str) -> list[dict]:
    # mu_0 and h_min do not depend on the labels: one entry per (N, seed, arm)
    return [r for r in measured["runs"] if r["arm"] == arm and r["labels"] == LABELS[0]]


def _answer(lo: float, hi: float, direction: int) -> str:
    lo, hi = (lo, hi) if direction > 0 else (-hi, -lo)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "unclear"
    return "yes" if hi < 0 else ("no" if lo > 0 else "unclear")


def judge(measured: dict, *, direction: int = 1) -> Verdict:
    """Apply the C1 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        direction: +1 asks "does mu decay with N, faster for i.i.d."; -1 the reversed question (test hook).
    """
    arms = {a: _arm_runs(measured, a) for a in ("iid", "greedy")}
    res = {a: [r for r in rs if _resolved(r)] for a, rs in arms.items()}
    unresolved = {a: len(arms[a]) - len(res[a]) for a in arms}
    fits = {a: _fit([r["n"] for r in res[a]], [r["mu0"] for r in res[a]]) for a in arms}
    hfits = {a: _fit([r["n"] for r in arms[a]], [r["h_min"] for r in arms[a]]) for a in arms}
    diff = fits["greedy"]["slope"] - fits["iid"]["slope"]
    dse = float(np.hypot(fits["greedy"]["se"], fits["iid"]["se"]))
    dof = max(min(fits["greedy"]["n"], fits["iid"]["n"]) - 2, 1)
    tq = stats.t.ppf(0.5 + CI_LEVEL / 2, dof)
    dlo, dhi = diff - tq * dse, diff + tq * dse
    q1 = _answer(fits["iid"]["lo"], fits["iid"]["hi"], direction)
    q2 = _answer(-dhi, -dlo, direction)  # "yes" when greedy - iid > 0 (direction +1)
    too_many = any(unresolved[a] > 0.25 * max(len(arms[a]), 1) for a in arms)
    if too_many:
        verdict = INCONCLUSIVE
    elif q1 == "yes" and q2 == "yes":
        verdict = HOLDS
    elif q1 == "no" or q2 == "no":
        verdict = VIOLATED
    else:
        verdict = INCONCLUSIVE
    rate = {}
    T = measured["settings"]["steps"]
    for lab in LABELS:
        for a in ("iid", "greedy"):
            rs = [r for r in measured["runs"] if r["arm"] == a and r["labels"] == lab and not r["diverged"]]
            ns = sorted({r["n"] for r in rs})
            lt = [float(np.median([r["LT_over_L0"] for r in rs if r["n"] == n])) for n in ns]
            ste = [float(np.median(as_floats([r["steps_to_eps"] for r in rs if r["n"] == n]))) for n in ns]
            # mean rate -ln(L_T/L_0)/T, over runs that did not reach the float64 floor (saturated runs hide their rate)
            ok = [r for r in rs if r["LT_over_L0"] > SATURATED]
            fit = _fit([r["n"] for r in ok], [-np.log(r["LT_over_L0"]) / T for r in ok])
            rate[f"{lab}/{a}"] = {"n": ns, "median_lt_over_l0": [float(f"{v:.3g}") for v in lt],
                                  "median_steps_to_eps": ste,
                                  "rate_slope": [fit["slope"], fit["lo"], fit["hi"], fit["n"]]}
    sign = "" if direction > 0 else "REVERSED QUESTION: "
    rule = (f"{sign}Q1: slope of log mu_0 vs log N over i.i.d. runs has its {CI_LEVEL:.0%} t-interval entirely "
            f"{'below' if direction > 0 else 'above'} 0; Q2: (greedy slope - i.i.d. slope) has its {CI_LEVEL:.0%} interval "
            f"entirely {'above' if direction > 0 else 'below'} 0. holds (= the reviewers' concern confirmed) iff Q1 and Q2 "
            f"are yes; violated iff either is a clear no; else inconclusive. mu_0 = (2/N) lambda_min(G_0), float64; runs "
            f"with lambda_min <= {UNRESOLVED_C:g} N u lambda_max are unresolved and dropped (> 25% of an arm -> inconclusive).")
    numbers = {
        "answers": {"q1_mu_decays": q1, "q2_iid_faster": q2},
        "mu_slope_iid": [fits["iid"]["slope"], fits["iid"]["lo"], fits["iid"]["hi"]],
        "mu_slope_greedy": [fits["greedy"]["slope"], fits["greedy"]["lo"], fits["greedy"]["hi"]],
        "slope_diff": [diff, dlo, dhi],
        "hmin_slopes": [hfits["iid"]["slope"], hfits["greedy"]["slope"]],
        "median_mu0": {
            a: [[n, float(np.median([r["mu0"] for r in arms[a] if r["n"] == n]))] for n in sorted({r["n"] for r in arms[a]})]
            for a in arms},
        "rates": rate,
        "unresolved": unresolved,
        "diverged": sum(r["diverged"] for r in measured["runs"]),
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "answers": "answers: Q1 mu decays with N (i.i.d.); Q2 decays faster for i.i.d. than greedy",
        "mu_slope_iid": "mu_0 slope vs N, i.i.d. [slope, 99% lo, hi]",
        "mu_slope_greedy": "mu_0 slope vs N, greedy [slope, 99% lo, hi]",
        "slope_diff": "greedy - i.i.d. slope [diff, 99% lo, hi]",
        "hmin_slopes": "h_min slope vs N [i.i.d. (T1: -2/d = -1), greedy (T10: -1/d = -0.5)]",
        "median_mu0": "median mu_0 at each N {arm: [N, mu_0]}",
        "rates": (f"measured rate per labels/arm (median over seeds): N, median L_T/L_0, median steps to {EPS:g} L_0, "
                  "slope of the mean rate -ln(L_T/L_0)/T vs N [slope, 99% lo, hi, runs]"),
        "unresolved": "unresolved runs (lambda_min at the float64 floor)",
        "diverged": "diverged runs",
        "wall_s": "wall time (s)",
    }
    notes = (f"Reviewers' question, not a theorem. d = {D}, shallow tanh width {WIDTH}, input (s(2x-1), 1) with s = "
             f"{INPUT_SCALE:g}; same initial parameters for both arms of a seed; eta = N / lambda_max(G_0) per run. "
             "mu_0 is a property of (data, init) and does not depend on the labels; the measured GD rate does (random "
             "labels put residual weight on the slow directions, the smooth target does not, T6). mu_0 depends on the "
             "data through the whole kernel matrix, not only through h_min: a smooth (tanh) kernel on low-dimensional "
             "data has small eigenvalues even for well-separated points, so compare the two arms' slopes, not only "
             "their signs. h_min is the minimum pairwise distance (not q_X = h_min/2).")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes)


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from sims.plotting import plt, save

    pyplot = plt()
    fig, axes = pyplot.subplots(1, 3, figsize=(15, 4.3))
    fig.subplots_adjust(wspace=0.32)
    cols = {"iid": "C3", "greedy": "C0"}
    arms = {a: _arm_runs(measured, a) for a in ("iid", "greedy")}
    ax = axes[0]
    for a, rs in arms.items():
        f = _fit([r["n"] for r in rs], [r["h_min"] for r in rs])
        ax.loglog([r["n"] for r in rs], [r["h_min"] for r in rs], "o", color=cols[a], ms=3, alpha=0.6,
                  label=f"{a}: slope {f['slope']:.2f} (pred {-2 / D if a == 'iid' else -1 / D:.2f})")
    ax.set_xlabel("N")
    ax.set_ylabel("h_min (not q_X = h_min/2)")
    ax.set_title("measured h_min vs N")
    ax.legend(fontsize=7)
    ax = axes[1]
    for a, rs in arms.items():
        ok = [r for r in rs if _resolved(r)]
        f = _fit([r["n"] for r in ok], [r["mu0"] for r in ok])
        ax.loglog([r["n"] for r in ok], [r["mu0"] for r in ok], "o", color=cols[a], ms=3, alpha=0.6,
                  label=f"{a}: slope {f['slope']:.2f} [{f['lo']:.2f}, {f['hi']:.2f}]")
        ns = np.array(sorted({r["n"] for r in ok}), float)
        if np.isfinite(f["slope"]):
            c = np.exp(np.mean(np.log([r["mu0"] for r in ok])) - f["slope"] * np.mean(np.log([r["n"] for r in ok])))
            ax.loglog(ns, c * ns ** f["slope"], "-", color=cols[a], lw=1)
    ax.set_xlabel("N")
    ax.set_ylabel("mu_0 = (2/N) lambda_min(G_0)  (float64)")
    ax.set_title("measured PL constant at init (fit, 99% CI)")
    ax.legend(fontsize=7)
    ax = axes[2]
    for lab, ls in zip(LABELS, ("-", "--")):
        for a in ("iid", "greedy"):
            rs = [r for r in measured["runs"] if r["arm"] == a and r["labels"] == lab and not r["diverged"]]
            ns = sorted({r["n"] for r in rs})
            lt = [np.median([r["LT_over_L0"] for r in rs if r["n"] == n]) for n in ns]
            ax.loglog(ns, lt, "o" + ls, color=cols[a], ms=3.5, label=f"{a}, {lab} labels")
    T = measured["settings"]["steps"]
    ax.set_xlabel("N")
    ax.set_ylabel(f"L_T / L_0 after T = {T} GD steps (median over seeds)")
    ax.set_title("measured GD progress, eta = N / lambda_max(G_0)")
    ax.legend(fontsize=7, handlelength=3.5)
    a = verdict.numbers["answers"]
    fig.suptitle(f"C1: {verdict.verdict} (mu decays with N for i.i.d.: {a['q1_mu_decays']}; "
                 f"faster than for greedy: {a['q2_iid_faster']})", y=1.02)
    return [ctx.rel(save(fig, ctx.fig("c1_rate_vs_n.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"mu grows with N, faster for greedy": {"direction": -1}})
