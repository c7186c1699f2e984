"""C1 (reviewers' question): h_min shrinks as N grows, so does the PL constant mu, and with it the rate?

Experiment (fixed before any outcome was seen; redesigned for issue 17 and registered before it ran):
d = 2; per seed s one i.i.d. stream, one pool and one initialisation, and for each N of a grid three arms
of equal size N:
  * "iid": the first N points of one i.i.d. uniform stream in [0, 1]^2 (NESTED: the N-point set is a
    prefix of the larger one, so the N-dependence within a seed is not buried under fresh draws);
  * "greedy": greedy max-min (``sims.select``, seeded first point) from a pool of i.i.d. uniform points,
    also nested (the greedy order: the first N selected points);
  * "pair" (the CONTROL ARM, fill distance matched): the greedy set with its closest pair moved
    together to the i.i.d. arm's h_min (point j moved towards point i along the segment, as in
    ``sims.data.planted_pair``).  Its fill distance is the greedy arm's (one point moves by less than
    h_min(greedy); measured and reported) and its h_min is the i.i.d. arm's (measured and reported).
Model: the shallow tanh net of width ``WIDTH`` on the input (s (2x - 1), 1), s = ``INPUT_SCALE``
(the constant coordinate gives the hidden units a bias; the scale s = 10 makes the tanh features
rough enough that lambda_min(G) stays above float64 resolution up to N = 128: at s = 1 it is already
below 1e-16 lambda_max at N = 64 in d = 2, since a smooth kernel on low-dimensional data has
super-polynomially small eigenvalues).  At initialisation (same parameters for every arm of a seed)
mu_0 = (2/N) lambda_min(G_0) with G_0 in float64 (``sims.diagnostics.gram``, vmapped over the seeds;
``numpy.linalg.eigvalsh``), on ``mu_seeds`` (>= 32) seeds.  Exploratory, on the first ``seeds`` seeds:
full-batch GD with eta = N / lambda_max(G_0) for ``steps`` steps, random labels and the smooth target.

Rule (pre-registered for issue 17, 2026-12-07, committed before it ran on any data; it replaces the
issue-9 rule, which tested per-range local slopes on 8 non-nested seeds, was inconclusive on 8 of 10
seeds and did not reject "mu_iid ~ N^-2"):
  C1 is a question, so "holds" means "the reviewers' concern is confirmed by measurement": mu_0 decays
  with N AND it is h_min that sets the decay.  The independent units are the seeds.  Per seed s and
  arm a, the average exponent b_a(s) = least-squares slope of log mu_0 on log N over the whole grid
  (one nested sequence per seed); and e_H(s) = least-squares slope of 2 log(h_pair / h_greedy) on
  log N: the exponent shift that the law "mu_0 proportional to h_min^2" (T4's h_min^2, everything
  else held fixed) predicts between the pair arm and the greedy arm, whose fill distances match.
  All intervals are 99% t-intervals over the seeds (dof S - 1).
  Q1 (mu_0 decays with N, i.i.d. arm): "yes" iff the interval of b_iid is entirely below 0; "no" iff
  entirely above 0; else unclear.
  Q3 (does h_min set the rate?): Delta(s) = b_pair(s) - b_greedy(s), the exponent shift caused by
  moving h_min from the greedy arm's to the i.i.d. arm's at matched fill distance; equivalence margin
  delta = 0.25 |mean e_H| (a quarter of the shift the h_min law predicts).
    "h_min" iff the interval of Delta - e_H lies inside [-delta, delta] (the shift is the h_min law's,
      to within 25%);
    "not h_min" iff the interval of Delta lies inside [-delta, delta] (the shift is zero to within 25%
      of what the h_min law predicts: at matched fill, halving h_min does not change the decay);
    otherwise "cannot tell", with the reason (an interval wider than the margin, or a shift between 0
      and the h_min law's).
  holds iff Q1 = yes and Q3 = "h_min"; violated iff Q1 = no or Q3 = "not h_min"; else inconclusive.
  Runs with lambda_min <= 10 N u lambda_max (u = 2^-52) are unresolved; a seed with an unresolved run
  in an arm is left out of that arm's tests, and more than a quarter of the seeds left out makes the
  verdict inconclusive.
  Reported with the answer, not part of the verdict: Q2 (paired: the slope of log(mu_greedy / mu_iid)
  on log N, as in issue 9; greedy and i.i.d. differ in fill distance AND h_min, so Q2 cannot credit
  h_min), the fill effect b_iid - b_pair (matched h_min, different fill), the per-range local slopes,
  the slack of T4's ceiling lambda_min <= (K(x,x) + K(y,y) - 2 K(x,y)) / 2 at the closest pair, and
  the GD rates.

What could make a TRUE answer come out wrong, and the guard:
  * sampling: the seeds are the independent units; nested draws make each seed's exponent a smooth
    function of N; 32 seeds;
  * model misfit: the average exponent over the grid is a summary of each arm's curve, whatever its
    curvature; the arms are compared on the same grid and seed (paired);
  * an imperfect control: the pair arm's h_min and fill distance are measured and reported next to
    the answer (ratios to the arms they are matched to);
  * round-off: mu_0 from float64 eigvalsh; unresolved eigenvalues are excluded, not fitted.

Power (``Verdict.power``): the half-widths of the intervals of b_iid and of Delta, against the margin
delta; a prediction of the i.i.d. exponent 25% off the measured one (``iid_slope_factor`` 0.75 or
1.25) is rejected iff the half-width of b_iid is below a quarter of |mean b_iid| (reported).

Variant hooks: ``direction=-1`` asks the reversed question (mu grows with N): violated on the same
data.  ``iid_slope=s`` replaces Q1 by the prediction "mu_iid ~ N^s on average over the grid" ("no"
iff the 99% interval of b_iid excludes s); the false variants s = 0 ("mu_0 does not depend on N") and
s = -2 (mu ~ h_min^2 with h_min ~ N^(-2/d), d = 2: T4's slope times T1's, restored from issue 9) must be
violated; ``iid_slope_factor=f`` states s = f x the measured mean (the 25%-off power check).
``hmin_law=True`` states "mu_0 is proportional to h_min^2 at matched fill" (Q3 "no" iff the interval
of Delta - e_H excludes 0).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
from scipy import stats
from scipy.spatial import cKDTree

from hmin.sims import data, gd
from hmin.sims.checks._trajectories import as_floats
from hmin.sims.diagnostics import gram, one_blas_thread
from hmin.sims.geometry import min_pairwise_distance
from hmin.sims.models import make_model
from hmin.sims.rates import late_rate, steps_to_eps
from hmin.sims.select import select
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict
from hmin.sims.plotting import plt, save, styled

ID = "C1"

D = 2
WIDTH = 256
INPUT_SCALE = 10.0
POOL = 4096
EPS = 0.1
CI_LEVEL = 0.99
UNRESOLVED_C = 10.0
LABELS = ("random", "smooth")
ARMS = ("iid", "greedy", "pair")
EQUIV = 0.25  # equivalence margin of Q3, as a fraction of the shift the h_min law predicts (pre-registered)
FILL_GRID = 96  # the fill distance sup_x min_i |x - x_i| is measured on a FILL_GRID^2 grid of [0, 1]^2
SATURATED = 1e-12  # L_T/L_0 below this: the run reached the float64 floor, its mean rate is censored


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the C1 experiment (one instance per preset in `SETTINGS`)."""

    ns: tuple[int, ...] = (8, 16, 32, 64, 128)
    seeds: int = 4  # seeds with (exploratory) GD runs
    mu_seeds: int = 32  # seeds for mu_0 at initialisation (the judged quantity; cheap: no training)
    steps: int = 1000  # GD steps per run
    d: int = D
    width: int = WIDTH
    input_scale: float = INPUT_SCALE
    pool: int = POOL
    eps: float = EPS
    labels: tuple[str, ...] = LABELS


SETTINGS = {
    "quick": Settings(ns=(8, 16, 32, 64), seeds=2, mu_seeds=32, steps=300),
    "default": Settings(),
    "full": Settings(ns=(8, 16, 32, 64, 128, 256), seeds=8, mu_seeds=64, steps=10000),
}


def features(X: np.ndarray) -> np.ndarray:
    """The model's input: (s (2x - 1), 1) for x in [0, 1]^d (s = INPUT_SCALE)."""
    X = np.asarray(X, dtype=np.float64)
    return np.concatenate([INPUT_SCALE * (2.0 * X - 1.0), np.ones((X.shape[-2], 1))], axis=-1) if X.ndim == 2 else \
        np.concatenate([INPUT_SCALE * (2.0 * X - 1.0), np.ones(X.shape[:-1] + (1,))], axis=-1)


def fill_distance(X: np.ndarray, grid: int = FILL_GRID) -> float:
    """sup over a grid of [0, 1]^2 of the distance to the nearest point of X (the fill distance h_fill)."""
    g = (np.arange(grid) + 0.5) / grid
    G = np.stack(np.meshgrid(*([g] * X.shape[1]), indexing="ij"), axis=-1).reshape(-1, X.shape[1])
    return float(cKDTree(X).query(G)[0].max())


def plant_pair(X: np.ndarray, h: float) -> np.ndarray:
    """The control arm: ``X`` with its closest pair (i, j) moved together to distance ``h`` (j moves towards i
    along the segment); unchanged when ``h`` is not smaller than the pair's distance."""
    res = min_pairwise_distance(X)
    i, j = int(res.i), int(res.j)
    u = X[j] - X[i]
    dist = float(np.linalg.norm(u))
    Y = X.copy()
    if h < dist:
        Y[j] = X[i] + h * u / dist
    return Y


def measure(ctx) -> dict:
    """For every (N, seed, arm): h_min, fill distance, mu_0, lambda's of G_0 and the closest pair's Rayleigh
    ceiling (``mu_seeds`` seeds, vmapped); GD curves for both label modes on the first ``seeds`` seeds."""
    t0 = time.perf_counter()
    st = ctx.settings
    n_mu = max(st.mu_seeds, st.seeds)
    nmax = max(st.ns)
    model = make_model("shallow", d=D + 1, width=WIDTH, activation="tanh")
    base = ctx.key()
    pools = [ctx.rng(4, s).random((POOL, D)) for s in range(n_mu)]
    iid = [ctx.rng(3, s).random((nmax, D)) for s in range(n_mu)]  # nested: the N-point set is a prefix
    greedy = [pools[s][select(pools[s], nmax, method="maxmin", seed=int(ctx.rng(2, s).integers(2**31))).indices]
              for s in range(n_mu)]  # the greedy order is nested too
    init_b = gd.init_params(model, key=base, batch=n_mu)  # one compiled call for all seeds
    host_b = jax.device_get(init_b)  # indexed on the host: a device array builds a program per leaf shape
    params0 = [jax.tree_util.tree_map(lambda a, s=s: a[s], host_b) for s in range(n_mu)]
    gram_b = jax.jit(jax.vmap(lambda p, F: gram(model, p, F)))
    runs, mu = [], []
    with one_blas_thread():
        for n in st.ns:
            sets = {"iid": [x[:n] for x in iid], "greedy": [x[:n] for x in greedy]}
            h_iid = [min_pairwise_distance(x).h_min for x in sets["iid"]]
            sets["pair"] = [plant_pair(x, h) for x, h in zip(sets["greedy"], h_iid)]
            for arm in ARMS:
                Xs = np.stack(sets[arm])
                G = np.asarray(gram_b(init_b, features(Xs)), dtype=np.float64)
                G = 0.5 * (G + np.swapaxes(G, 1, 2))
                ev = np.linalg.eigvalsh(G)  # float64, ascending, one batched call
                for s in range(n_mu):
                    res = min_pairwise_distance(Xs[s])
                    i, j = int(res.i), int(res.j)
                    ceil = 0.5 * (G[s, i, i] + G[s, j, j] - 2.0 * G[s, i, j])  # Rayleigh quotient at (e_i - e_j)/sqrt 2
                    mu.append({"n": n, "seed": s, "arm": arm, "h_min": float(res.h_min), "h_fill": fill_distance(Xs[s]),
                               "lam_min": float(ev[s, 0]), "lam_max": float(ev[s, -1]), "mu0": float(2.0 * ev[s, 0] / n),
                               "pair_ceiling": float(ceil)})
            _gd_runs(st, model, base, sets, params0, runs, mu, n, ctx)
    return {"mu": mu, "runs": runs, "settings": dataclasses.asdict(st), "wall_s": time.perf_counter() - t0}


def _gd_runs(st, model, base, sets, params0, runs, mu, n, ctx) -> None:
    """EXPLORATORY GD runs at this N: i.i.d. and greedy arms, both label modes, the first ``st.seeds`` seeds."""
    Xs, meta, p0s, lrs = [], [], [], []
    recs = {(r["arm"], r["seed"]): r for r in mu if r["n"] == n}
    for s in range(st.seeds):
        for arm in ("iid", "greedy"):
            F = features(sets[arm][s])
            rec = recs[(arm, s)]
            for lab in LABELS:
                # random labels: i.i.d. N(0, 1), the law of sims.data.make_targets(..., "random"), drawn with
                # NumPy; the same labels for both arms of a seed
                Y = (ctx.rng(1, n, s).standard_normal((n, 1)) if lab == "random"
                     else data.make_targets(sets[arm][s], "smooth", key=base))
                Xs.append((F, Y))
                p0s.append(params0[s])
                lrs.append(n / rec["lam_max"])
                meta.append({"n": n, "seed": s, "arm": arm, "labels": lab, "eta": float(n / rec["lam_max"])})
    if not meta:
        return
    F = np.stack([x[0] for x in Xs])
    Y = np.stack([x[1] for x in Xs])
    pb = jax.tree_util.tree_map(lambda *a: np.stack(a), *p0s)
    cfg = gd.GDConfig(lr=1.0, steps=st.steps, record_every=st.steps, gram=False, sharpness=False)
    traj = gd.train_batch(model, F, Y, cfg, key=jax.random.fold_in(base, n), params0=pb, lrs=np.asarray(lrs))
    for b, m in enumerate(meta):
        loss = traj.loss[b]
        pT = jax.tree_util.tree_map(lambda a: a[b], traj.params)
        G0, GT = (np.asarray(gram(model, p, F[b]), dtype=np.float64) for p in (p0s[b], pT))
        evT = np.linalg.eigvalsh(0.5 * (GT + GT.T))
        runs.append({**m, "L0": float(loss[0]), "LT_over_L0": float(loss[-1] / loss[0]),
                     "steps_to_eps": steps_to_eps(loss, EPS), "late_rate": late_rate(loss)["rate"],
                     "mu_T": float(2.0 * evT[0] / n), "gram_change_T": float(np.linalg.norm(GT - G0) / np.linalg.norm(G0)),
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
    """One record per (N, seed) of an arm: mu_0 and h_min (they do not depend on the labels)."""
    return [r for r in measured["mu"] if r["arm"] == arm]


def _t_interval(vals, level: float = CI_LEVEL) -> dict:
    """Mean of ``vals`` with its two-sided t-interval at ``level`` (dof n - 1)."""
    v = np.asarray(vals, dtype=np.float64)
    n = v.size
    if n < 2:
        return {"mean": float(v.mean()) if n else float("nan"), "lo": float("nan"), "hi": float("nan"),
                "half_width": float("nan"), "n": n}
    hw = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    m = float(v.mean())
    return {"mean": m, "lo": m - hw, "hi": m + hw, "half_width": hw, "n": n}


def _table(measured: dict) -> tuple[list[int], list[int], dict]:
    """The grid of N, the seeds, and {(arm, N, seed): record}."""
    tab = {(r["arm"], r["n"], r["seed"]): r for r in measured["mu"]}
    ns = sorted({r["n"] for r in measured["mu"]})
    seeds = sorted({r["seed"] for r in measured["mu"]})
    return ns, seeds, tab


def _slope(ns, ys) -> float:
    return float(np.polyfit(np.log(np.asarray(ns, dtype=np.float64)), np.asarray(ys, dtype=np.float64), 1)[0])


def _exponents(measured: dict, seeds_ok: list[int]) -> dict:
    """Per seed: the average exponent b_a of every arm, e_H (the h_min law's shift pair vs greedy), and the
    per-range local slopes of the i.i.d. arm."""
    ns, _, tab = _table(measured)
    out = {"b": {a: [] for a in ARMS if any(k[0] == a for k in tab)}, "e_H": [], "local": {}}
    for s in seeds_ok:
        for a in out["b"]:
            out["b"][a].append(_slope(ns, [np.log(tab[(a, n, s)]["mu0"]) for n in ns]))
        if "pair" in out["b"]:
            out["e_H"].append(_slope(ns, [2.0 * np.log(tab[("pair", n, s)]["h_min"] / tab[("greedy", n, s)]["h_min"])
                                          for n in ns]))
    for a, b in zip(ns[:-1], ns[1:]):
        ls = [(np.log(tab[("iid", b, s)]["mu0"]) - np.log(tab[("iid", a, s)]["mu0"])) / np.log(b / a) for s in seeds_ok]
        out["local"][f"{a}-{b}"] = _t_interval(ls)
    return out


def _q2_paired(measured: dict, seeds_ok: list[int]) -> dict:
    ns, _, tab = _table(measured)
    slopes = [_slope(ns, [np.log(tab[("greedy", n, s)]["mu0"] / tab[("iid", n, s)]["mu0"]) for n in ns])
              for s in seeds_ok]
    return _t_interval(slopes)


def _within(ci: dict, lo: float, hi: float) -> bool:
    return bool(np.isfinite(ci["lo"]) and np.isfinite(ci["hi"]) and lo <= ci["lo"] and ci["hi"] <= hi)


def judge(measured: dict, *, direction: int = 1, iid_slope: float | None = None, iid_slope_factor: float | None = None,
          hmin_law: bool = False) -> Verdict:
    """Apply the C1 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        direction: +1 asks "does mu decay with N"; -1 the reversed question (test hook).
        iid_slope: if given, Q1 becomes the prediction "mu_iid ~ N^iid_slope on average over the grid".
        iid_slope_factor: if given, Q1 becomes that prediction with iid_slope = factor x the measured mean exponent
            (the power check: 0.75 and 1.25 are a prediction 25% off).
        hmin_law: if True, Q3 becomes the prediction "mu_0 proportional to h_min^2 at matched fill distance".
    """
    ns, seeds, tab = _table(measured)
    arms = [a for a in ARMS if any(r["arm"] == a for r in measured["mu"])]
    unresolved = {a: sum(not _resolved(r) for r in _arm_runs(measured, a)) for a in arms}
    ok_seed = {a: [s for s in seeds if all(_resolved(tab[(a, n, s)]) for n in ns)] for a in arms}
    both = [s for s in seeds if all(s in ok_seed[a] for a in arms)]
    ex = _exponents(measured, both)
    b_iid = _t_interval(ex["b"]["iid"])
    q2 = _q2_paired(measured, both)
    has_pair = "pair" in arms
    sgn = 1 if direction > 0 else -1
    # Q1
    if iid_slope is None and iid_slope_factor is None:
        if not (np.isfinite(b_iid["lo"]) and np.isfinite(b_iid["hi"])):
            a1 = "unclear"
        elif (b_iid["hi"] < 0) if sgn > 0 else (b_iid["lo"] > 0):
            a1 = "yes"
        elif (b_iid["lo"] > 0) if sgn > 0 else (b_iid["hi"] < 0):
            a1 = "no"
        else:
            a1 = "unclear"
        s0 = None
    else:
        s0 = float(iid_slope) if iid_slope is not None else float(iid_slope_factor) * b_iid["mean"]
        if not (np.isfinite(b_iid["lo"]) and np.isfinite(b_iid["hi"])):
            a1 = "unclear"
        else:
            a1 = "no" if (b_iid["lo"] > s0 or b_iid["hi"] < s0) else "yes"
    # Q3: at matched fill distance, does moving h_min shift the exponent as the h_min law says?
    if has_pair:
        delta_f = _t_interval(np.subtract(ex["b"]["pair"], ex["b"]["greedy"]))
        e_h = _t_interval(ex["e_H"])
        dev = _t_interval(np.subtract(np.subtract(ex["b"]["pair"], ex["b"]["greedy"]), ex["e_H"]))
        fill_eff = _t_interval(np.subtract(ex["b"]["iid"], ex["b"]["pair"]))
        margin = EQUIV * abs(e_h["mean"])
        if hmin_law:
            a3 = ("not h_min" if np.isfinite(dev["lo"]) and (dev["lo"] > 0 or dev["hi"] < 0) else "h_min")
            reason = "variant: mu_0 proportional to h_min^2 at matched fill (no iff the interval of Delta - e_H excludes 0)"
        elif _within(dev, -margin, margin):
            a3, reason = "h_min", (f"at matched fill distance the exponent shift Delta = {delta_f['mean']:.2f} "
                                   f"[{delta_f['lo']:.2f}, {delta_f['hi']:.2f}] is the h_min law's e_H = {e_h['mean']:.2f} "
                                   f"to within {EQUIV:.0%}")
        elif _within(delta_f, -margin, margin):
            a3, reason = "not h_min", (f"at matched fill distance, moving h_min to the i.i.d. arm's (the h_min law "
                                       f"predicts an exponent shift e_H = {e_h['mean']:.2f}) shifts the exponent by "
                                       f"{delta_f['mean']:.2f} [{delta_f['lo']:.2f}, {delta_f['hi']:.2f}], zero to within "
                                       f"+-{margin:.2f}: h_min does not set the decay here")
        elif not (np.isfinite(delta_f["lo"]) and np.isfinite(delta_f["hi"])):
            a3, reason = "cannot tell", "cannot tell, because fewer than 2 seeds are resolved in every arm"
        elif delta_f["half_width"] > margin:
            a3, reason = "cannot tell", (f"cannot tell, because the interval of the shift Delta [{delta_f['lo']:.2f}, "
                                         f"{delta_f['hi']:.2f}] is wider than the margin +-{margin:.2f}")
        else:
            a3, reason = "cannot tell", (f"cannot tell, because the shift Delta = {delta_f['mean']:.2f} "
                                         f"[{delta_f['lo']:.2f}, {delta_f['hi']:.2f}] lies between 0 and the h_min law's "
                                         f"e_H = {e_h['mean']:.2f} (h_min sets part of the decay)")
    else:
        delta_f = e_h = dev = fill_eff = _t_interval([])
        margin = float("nan")
        a3, reason = "cannot tell", "cannot tell, because the measurement has no control arm (fill distance matched)"
    dropped = {a: len(seeds) - len(v) for a, v in ok_seed.items()}
    too_many = any(dropped[a] > 0.25 * max(len(seeds), 1) for a in arms)
    if too_many:
        verdict = INCONCLUSIVE
    elif a1 == "no" or (a3 == "not h_min" and sgn > 0):
        verdict = VIOLATED
    elif a1 == "yes" and a3 == "h_min":
        verdict = HOLDS
    else:
        verdict = INCONCLUSIVE
    hfits = {a: _fit([r["n"] for r in _arm_runs(measured, a)], [r["h_min"] for r in _arm_runs(measured, a)]) for a in arms}
    fill_ratio = {a: float(np.median([tab[(a, n, s)]["h_fill"] / tab[("greedy", n, s)]["h_fill"] for n in ns for s in seeds]))
                  for a in arms if all("h_fill" in tab[(a, n, s)] for n in ns for s in seeds)}
    hmatch = (float(np.median([tab[("pair", n, s)]["h_min"] / tab[("iid", n, s)]["h_min"] for n in ns for s in seeds]))
              if has_pair else float("nan"))
    # slack of the Rayleigh ceiling lambda_min <= (K_ii + K_jj - 2 K_ij)/2 at the closest pair (T4's bound, exact here)
    slack = {a: [[n, float(np.min([tab[(a, n, s)]["pair_ceiling"] / tab[(a, n, s)]["lam_min"] for s in ok_seed[a]]))]
                 for n in ns] for a in arms
             if ok_seed[a] and all("pair_ceiling" in tab[(a, n, s)] for n in ns for s in ok_seed[a])}
    rate = {}
    T = measured["settings"]["steps"]
    for lab in LABELS:
        for a in ("iid", "greedy"):
            rs = [r for r in measured["runs"] if r["arm"] == a and r["labels"] == lab and not r["diverged"]]
            rns = sorted({r["n"] for r in rs})
            lt = [float(np.median([r["LT_over_L0"] for r in rs if r["n"] == n])) for n in rns]
            ste = [float(np.median(as_floats([r["steps_to_eps"] for r in rs if r["n"] == n]))) for n in rns]
            ok = [r for r in rs if r["LT_over_L0"] > SATURATED]
            fit = _fit([r["n"] for r in ok], [-np.log(r["LT_over_L0"]) / T for r in ok])
            rate[f"{lab}/{a}"] = {"n": rns, "median_lt_over_l0": [float(f"{v:.3g}") for v in lt],
                                  "median_steps_to_eps": ste,
                                  "rate_slope": [fit["slope"], fit["lo"], fit["hi"], fit["n"]]}
    sign = "" if direction > 0 else "REVERSED QUESTION: "
    q1_text = (f"Q1: the {CI_LEVEL:.0%} t-interval over seeds of the average exponent b_iid (per-seed least-squares slope of "
               f"log mu_0 on log N, nested i.i.d. draws) entirely {'below' if direction > 0 else 'above'} 0 (yes) or "
               "entirely on the other side (no)" if s0 is None else
               f"VARIANT Q1: mu_iid ~ N^{s0:.3g} on average over the grid: 'no' iff the {CI_LEVEL:.0%} interval of b_iid "
               f"excludes {s0:.3g}")
    rule = (f"{sign}{q1_text}; Q3 (control arm 'pair': the greedy set with its closest pair moved to the i.i.d. arm's h_min, "
            f"fill distance matched to greedy): Delta = b_pair - b_greedy per seed, e_H = slope of 2 log(h_pair/h_greedy) on "
            f"log N; 'h_min' iff the {CI_LEVEL:.0%} interval of Delta - e_H lies in +-{EQUIV:g}|e_H|, 'not h_min' iff the "
            f"interval of Delta lies in +-{EQUIV:g}|e_H|, else cannot tell. holds (= the reviewers' concern confirmed) iff Q1 "
            "yes and Q3 'h_min'; violated iff Q1 no or Q3 'not h_min'; else inconclusive. mu_0 = (2/N) lambda_min(G_0), "
            f"float64; a seed with lambda_min <= {UNRESOLVED_C:g} N u lambda_max is left out (> 25% -> inconclusive).")
    q1_hw = max((v["half_width"] for v in ex["local"].values()), default=float("nan"))
    answer = (f"mu_0 {'decays' if a1 == 'yes' else 'does not decay' if a1 == 'no' else 'is not shown to decay'} with N "
              f"(i.i.d., average exponent {b_iid['mean']:.2f} [{b_iid['lo']:.2f}, {b_iid['hi']:.2f}]); h_min sets the "
              f"decay: {a3} ({reason})")
    if has_pair and a3 == "cannot tell" and np.isfinite(dev["lo"]):  # reported beside the answer, not part of the rule
        answer += ("; the whole shift the law mu_0 ~ h_min^2 predicts is "
                   + ("EXCLUDED" if (dev["lo"] > 0 or dev["hi"] < 0) else "not excluded")
                   + f" (Delta - e_H = {dev['mean']:.2f} [{dev['lo']:.2f}, {dev['hi']:.2f}])")
    numbers = {
        "answer": answer,
        "answers": {"q1_mu_decays": a1, "q3_hmin_sets_rate": a3, "q2_iid_faster": (
            "unclear" if not np.isfinite(q2["lo"]) else "yes" if q2["lo"] > 0 else "no" if q2["hi"] < 0 else "unclear")},
        "average_exponent": {a: [v["mean"], v["lo"], v["hi"]] for a, v in
                             ((a, _t_interval(ex["b"][a])) for a in ex["b"])},
        "q3_shift_delta": [delta_f["mean"], delta_f["lo"], delta_f["hi"]],
        "q3_hmin_law_e_h": [e_h["mean"], e_h["lo"], e_h["hi"]],
        "q3_delta_minus_e_h": [dev["mean"], dev["lo"], dev["hi"]],
        "q3_margin": margin,
        "fill_effect": [fill_eff["mean"], fill_eff["lo"], fill_eff["hi"]],
        "control_match": {"h_pair_over_h_iid": hmatch, "h_fill_over_greedy": fill_ratio},
        "q2_gap_slope": [q2["mean"], q2["lo"], q2["hi"]],
        "q1_local_slopes": {k: [v["mean"], v["lo"], v["hi"]] for k, v in ex["local"].items()},
        "power_q1_half_width": b_iid["half_width"],
        "power_q1_relative": (b_iid["half_width"] / abs(b_iid["mean"]) if b_iid["mean"] else float("nan")),
        "power_q3_half_width": delta_f["half_width"],
        "slack_pair_ceiling": slack,
        "seeds": {"used": len(both), "measured": len(seeds)},
        "hmin_slopes": {a: hfits[a]["slope"] for a in arms},
        "median_mu0": {a: [[n, float(np.median([tab[(a, n, s)]["mu0"] for s in seeds]))] for n in ns] for a in arms},
        "rates": rate,
        "unresolved": unresolved,
        "diverged": sum(r["diverged"] for r in measured["runs"]),
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "answer": "the answer in words",
        "answers": "answers: Q1 mu_0 decays with N (i.i.d.); Q3 h_min sets the decay (control arm); Q2 (reported) "
                   "i.i.d. decays faster than greedy",
        "average_exponent": "average exponent b of mu_0 in N per arm [mean over seeds, 99% lo, hi] (nested draws)",
        "q3_shift_delta": "Q3: Delta = b_pair - b_greedy, exponent shift from moving h_min at matched fill [mean, 99% lo, hi]",
        "q3_hmin_law_e_h": "Q3: e_H = slope of 2 log(h_pair/h_greedy): the shift the law mu ~ h_min^2 predicts [mean, 99% lo, hi]",
        "q3_delta_minus_e_h": "Q3: Delta - e_H [mean, 99% lo, hi]",
        "q3_margin": f"Q3 equivalence margin: {EQUIV:g} |mean e_H| (exponent units)",
        "fill_effect": "reported: b_iid - b_pair, exponent shift from the arrangement at matched h_min [mean, 99% lo, hi]",
        "control_match": "control arm: median h_min(pair)/h_min(iid) and fill distance / greedy's per arm (1 = matched)",
        "q2_gap_slope": "reported (Q2, issue 9): slope of log(mu_greedy / mu_iid) vs log N, paired [mean, 99% lo, hi]",
        "q1_local_slopes": "reported: local slope of log mu_0 (i.i.d.) per N range [mean, 99% lo, hi]",
        "power_q1_half_width": "power of Q1: 99% half-width of b_iid",
        "power_q1_relative": "power of Q1: half-width / |mean b_iid| (< 0.25: an exponent 25% off is rejected)",
        "power_q3_half_width": "power of Q3: 99% half-width of Delta (against the margin)",
        "slack_pair_ceiling": ("slack of lambda_min <= (K_ii + K_jj - 2 K_ij)/2 at the closest pair: min over seeds of "
                               "ceiling / lambda_min {arm: [N, slack]} (the factor the bound could be tightened by)"),
        "seeds": "seeds used (every arm resolved at every N), measured",
        "hmin_slopes": "h_min slope vs N per arm (T1: -2/d = -1 for i.i.d.; T10: -1/d = -0.5 for greedy)",
        "median_mu0": "median mu_0 at each N {arm: [N, mu_0]}",
        "rates": (f"EXPLORATORY GD per labels/arm: N, median L_T/L_0, median steps to {EPS:g} L_0, slope of the mean rate "
                  "-ln(L_T/L_0)/T vs N [slope, 99% lo, hi, runs]"),
        "unresolved": "unresolved runs (lambda_min at the float64 floor)",
        "diverged": "diverged GD runs",
        "wall_s": "wall time (s)",
    }
    notes = (f"Reviewers' question, not a theorem. d = {D}, shallow tanh width {WIDTH}, input (s(2x-1), 1) with s = "
             f"{INPUT_SCALE:g}; same initial parameters for every arm of a seed; nested draws across N. mu_0 depends on "
             "the data through the whole kernel matrix, not only through h_min: a smooth (tanh) kernel on "
             "low-dimensional data has small eigenvalues even for well-separated points, which is why the control arm "
             "holds the fill distance fixed and moves only h_min. h_min is the minimum pairwise distance (not q_X = "
             "h_min/2); the fill distance is measured on a grid of [0, 1]^2. The seeds are the independent units.")
    power = (f"Q1 rejects an average exponent further than {b_iid['half_width']:.2f} from the measured "
             f"{b_iid['mean']:.2f} ({(b_iid['half_width'] / abs(b_iid['mean']) if b_iid['mean'] else float('nan')):.0%} of it; "
             "a prediction 25% off is rejected iff this is below 25%, false variants 'x0.75' and 'x1.25'); Q3 resolves "
             f"an exponent shift to +-{delta_f['half_width']:.2f} against the margin +-{margin:.2f} "
             f"({EQUIV:.0%} of the h_min law's shift)")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power)


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 3, figsize=(15, 4.3))
    fig.subplots_adjust(wspace=0.32)
    cols = {"iid": "C3", "greedy": "C0", "pair": "C2"}
    arms = {a: _arm_runs(measured, a) for a in ARMS if _arm_runs(measured, a)}
    ax = axes[0]
    for a, rs in arms.items():
        f = _fit([r["n"] for r in rs], [r["h_min"] for r in rs])
        ax.loglog([r["n"] for r in rs], [r["h_min"] for r in rs], "o", color=cols[a], ms=2, alpha=0.4,
                  label=f"{a}: h_min slope {f['slope']:.2f}")
        if "h_fill" in rs[0]:
            ns = sorted({r["n"] for r in rs})
            ax.loglog(ns, [np.median([r["h_fill"] for r in rs if r["n"] == n]) for n in ns], "--", color=cols[a],
                      label=f"{a}: fill distance (median)")
    ax.set_xlabel("N")
    ax.set_ylabel("h_min (not q_X = h_min/2), fill distance")
    ax.set_title("measured h_min and fill distance vs N")
    ax.legend(fontsize=6)
    ax = axes[1]
    ex = verdict.numbers.get("average_exponent", {})
    for a, rs in arms.items():
        ok = [r for r in rs if _resolved(r)]
        ns = sorted({r["n"] for r in ok})
        med = [float(np.median([r["mu0"] for r in ok if r["n"] == n])) for n in ns]
        lab = a + (f": exponent {ex[a][0]:.2f} [{ex[a][1]:.2f}, {ex[a][2]:.2f}]" if a in ex else "")
        ax.loglog([r["n"] for r in ok], [r["mu0"] for r in ok], "o", color=cols[a], ms=2, alpha=0.3)
        ax.loglog(ns, med, "-", color=cols[a], lw=1.2, label=lab + " (line: median)")
    d3 = verdict.numbers.get("q3_shift_delta", [np.nan] * 3)
    eh = verdict.numbers.get("q3_hmin_law_e_h", [np.nan] * 3)
    ax.set_xlabel("N")
    ax.set_ylabel("mu_0 = (2/N) lambda_min(G_0)  (float64)")
    ax.set_title(f"measured PL constant at init (99% intervals over seeds)\nshift pair - greedy {d3[0]:.2f} "
                 f"[{d3[1]:.2f}, {d3[2]:.2f}]; h_min law predicts {eh[0]:.2f}", fontsize=9)
    ax.legend(fontsize=6)
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
    ax.set_title("EXPLORATORY: measured GD progress, eta = N / lambda_max(G_0)")
    ax.legend(fontsize=7, handlelength=3.5)
    a = verdict.numbers["answers"]
    fig.suptitle(f"C1: {verdict.verdict} (mu decays with N: {a['q1_mu_decays']}; h_min sets the decay: "
                 f"{a['q3_hmin_sets_rate']})", y=1.02)
    return [ctx.rel(save(fig, ctx.fig("c1_rate_vs_n.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"mu grows with N": {"direction": -1},
                              "mu_0 does not depend on N": {"iid_slope": 0.0},
                              "mu_iid ~ N^-2 (T4's h_min^2 times T1's h_min ~ N^-1)": {"iid_slope": -2.0},
                              "i.i.d. exponent 25% too small": {"iid_slope_factor": 0.75},
                              "i.i.d. exponent 25% too large": {"iid_slope_factor": 1.25}})
