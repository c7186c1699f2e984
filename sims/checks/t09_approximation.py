"""T9 (OURS): at fixed N, the error of the fitted model falls with the fill distance (and so with h_min).

Experiment (fixed before any outcome was seen): d = 2, N fixed, the smooth target
``sims.data.smooth_function`` (``make_targets(..., "smooth")``).  Point sets of N points from five
families with controlled geometry:
  * "lattice": the regular sqrt(N) x sqrt(N) grid on [0, 1]^2 (``sims.data.lattice``; largest h_min);
  * "greedy": greedy max-min from a uniform pool (``sims.select``, method "maxmin", seeded first point);
  * "random": N pool points at random (``sims.select``, method "random");
  * "clustered-c": c pool points at random and the N/c pool points nearest to each (tiny h_min,
    large fill distance), for c in the preset's cluster counts.
Each family is drawn for several seeds (the lattice is fixed; its seeds vary the initialisation).
The same model (shallow tanh, input (2x - 1, 1): the constant gives the hidden units a bias) is
trained on each set by full-batch GD with the same steps and the same learning rate
eta = 1 / max over all sets of lambda_max(G_0) / N (half the linearised stability limit of the
stiffest set), initial parameters shared across families for a seed.  Measured: the RMS (L2) and
max (Linf) error against the target on a dense grid of [0, 1]^2, h_min (not q_X = h_min/2) and the
fill distance h_fill on [0, 1]^2 (``sims.geometry.fill_distance``, a proven bracket in d = 2).

Rule: the Spearman rank correlation rho between h_fill and the test error over all sets and seeds,
for both L2 and Linf, with a one-sided permutation p-value (``N_PERM`` permutations of the errors):
holds iff rho > 0 with p < ``ALPHA`` for both errors; violated iff either error correlates
significantly (p < ``ALPHA``) in the opposite direction; inconclusive otherwise.  Reported alongside:
rho(h_min, error) (predicted < 0 at fixed N) and rho(h_fill, L2 error) within the quasi-uniform
families only (lattice, greedy, random).

Variant hook: ``judge(measured, direction=-1)`` predicts the reversed direction (error grows as the
fill distance shrinks) and must be violated on the same data.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
from scipy import stats

from sims import data, gd
from sims.diagnostics import gram, gram_eigh, one_blas_thread
from sims.geometry import fill_distance, min_pairwise_distance
from sims.models import make_model
from sims.select import select
from sims.registry import Check
from sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict
from theory.t09_approximation import predicted_error_trend

ID = "T9"

D = 2
ALPHA = 0.01
N_PERM = 20000
QUASI_UNIFORM = ("lattice", "greedy", "random")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T9 experiment (one instance per preset in `SETTINGS`)."""

    n_axis: int = 8  # N = n_axis^2
    seeds: int = 5  # draws of each family (the lattice's vary only the initialisation)
    clusters: tuple[int, ...] = (4, 16)  # cluster counts c of the clustered families
    pool: int = 4096  # uniform pool the greedy/random/clustered sets are taken from
    width: int = 128
    steps: int = 2000
    grid: int = 64  # test grid grid x grid on [0, 1]^2
    d: int = D


SETTINGS = {
    "quick": Settings(n_axis=5, seeds=3, clusters=(5,), pool=1024, width=64, steps=600, grid=32),
    "default": Settings(),
    "full": Settings(n_axis=10, seeds=10, clusters=(4, 10, 25), pool=16384, width=256, steps=8000, grid=128),
}


def features(X: np.ndarray) -> np.ndarray:
    """The model's input (2x - 1, 1) for x in [0, 1]^d."""
    X = np.asarray(X, dtype=np.float64)
    return np.concatenate([2.0 * X - 1.0, np.ones((X.shape[0], 1))], axis=1)


def clustered_subset(pool: np.ndarray, n: int, c: int, *, rng: np.random.Generator) -> np.ndarray:
    """Indices of n pool points in c clusters: c random centres and the n/c pool points nearest each.

    Clusters that overlap share points; the shortfall is made up by the next-nearest points of the
    centres in turn, so exactly n distinct indices are returned.
    """
    centres = rng.choice(len(pool), c, replace=False)
    orders = [np.argsort(np.linalg.norm(pool - pool[j], axis=1), kind="stable") for j in centres]
    chosen: list[int] = []
    seen: set[int] = set()
    pos = [0] * c
    quota = [n // c + (1 if i < n % c else 0) for i in range(c)]
    for rnd in range(2):  # first the quotas, then round-robin to fill the overlap shortfall
        i = 0
        while len(chosen) < n and (rnd == 1 or i < c):
            ci = i % c
            want = quota[ci] if rnd == 0 else 1
            got = 0
            while got < want and pos[ci] < len(pool):
                j = int(orders[ci][pos[ci]])
                pos[ci] += 1
                if j not in seen:
                    seen.add(j)
                    chosen.append(j)
                    got += 1
            i += 1
    return np.asarray(chosen[:n], dtype=np.int64)


def _point_sets(st: Settings, ctx) -> list[dict]:
    n = st.n_axis**2
    rng = ctx.rng(0)
    pool = rng.random((st.pool, D))
    grid = data.lattice(st.n_axis, D).X
    sets = []
    for s in range(st.seeds):
        sel_seed = int(ctx.rng(1, s).integers(2**31))  # the selectors' integer seeds, from this statement's stream
        sets.append({"family": "lattice", "seed": s, "X": grid})
        sets.append({"family": "greedy", "seed": s, "X": pool[select(pool, n, method="maxmin", seed=sel_seed).indices]})
        sets.append({"family": "random", "seed": s, "X": pool[select(pool, n, method="random", seed=sel_seed).indices]})
        for c in st.clusters:
            sets.append({"family": f"clustered-{c}", "seed": s, "X": pool[clustered_subset(pool, n, c, rng=rng)]})
    return sets


def measure(ctx) -> dict:
    """Build the point sets, train the same model on each, measure geometry and test errors."""
    t0 = time.perf_counter()
    st = ctx.settings
    n = st.n_axis**2
    sets = _point_sets(st, ctx)
    model = make_model("shallow", d=D + 1, width=st.width, activation="tanh")
    base = ctx.key()
    init_b = gd.init_params(model, key=base, batch=st.seeds)  # one compiled call for all seeds
    init = [jax.tree_util.tree_map(lambda a, s=s: a[s], init_b) for s in range(st.seeds)]
    F = np.stack([features(s["X"]) for s in sets])
    Y = np.stack([data.make_targets(s["X"], "smooth", key=base) for s in sets])
    p0 = [init[s["seed"]] for s in sets]
    with one_blas_thread():
        lam_max = np.array([gram_eigh(gram(model, p, f))[0][-1] for p, f in zip(p0, F)])
    lr = float(1.0 / np.max(lam_max / n))
    pb = jax.tree_util.tree_map(lambda *a: np.stack(a), *p0)
    cfg = gd.GDConfig(lr=lr, steps=st.steps, record_every=st.steps, gram=False, sharpness=False)
    traj = gd.train_batch(model, F, Y, cfg, key=base, params0=pb)
    g = np.linspace(0.0, 1.0, st.grid)
    T = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, D)
    yT = data.smooth_function(T)
    pred = np.asarray(jax.vmap(lambda p: model.apply(p, features(T)))(traj.params))[..., 0]
    err = pred - yT[None, :]
    cube = (np.zeros(D), np.ones(D))
    rows = []
    for b, s in enumerate(sets):
        fd = fill_distance(s["X"], domain="cube", bounds=cube, seed=b)
        rows.append({"family": s["family"], "seed": s["seed"], "h_min": min_pairwise_distance(s["X"]).h_min,
                     "h_fill": fd.estimate, "h_fill_upper": fd.upper_bound,
                     "l2": float(np.sqrt(np.mean(err[b] ** 2))), "linf": float(np.max(np.abs(err[b]))),
                     "train_loss_T": float(traj.loss[b, -1]), "train_loss_0": float(traj.loss[b, 0]),
                     "diverged": bool(traj.diverged[b])})
    return {"sets": rows, "settings": dataclasses.asdict(st), "n": n, "lr": lr, "test_points": int(T.shape[0]),
            "h_convention": "h_min (not q_X); h_fill on [0,1]^2", "wall_s": time.perf_counter() - t0}


def _ranks(a: np.ndarray) -> np.ndarray:
    return stats.rankdata(a)


def spearman_perm(x, y, *, n_perm: int = N_PERM, seed: int = 0) -> dict:
    """Spearman rho and one-sided permutation p-values (both tails) for H0: no association.

    Returns:
        dict(rho, p_greater, p_less) with p = (1 + #{permuted rho at least as extreme}) / (1 + n_perm).

    Example:
        >>> r = spearman_perm([1, 2, 3, 4, 5, 6], [2, 4, 6, 8, 10, 12], n_perm=2000)
        >>> r["rho"], r["p_greater"] < 0.01, r["p_less"] > 0.9
        (1.0, True, True)
    """
    rx, ry = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    rx = rx - rx.mean()
    ry = ry - ry.mean()
    den = np.sqrt((rx**2).sum() * (ry**2).sum())
    rho = float(rx @ ry / den) if den > 0 else float("nan")
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.broadcast_to(ry, (n_perm, ry.size)), axis=1)
    rp = perm @ rx / den if den > 0 else np.full(n_perm, np.nan)
    tol = 1e-12
    return {"rho": rho, "p_greater": float((1 + np.sum(rp >= rho - tol)) / (1 + n_perm)),
            "p_less": float((1 + np.sum(rp <= rho + tol)) / (1 + n_perm))}


def judge(measured: dict, *, direction: int | None = None) -> Verdict:
    """Apply the T9 rule (module docstring).

    Args:
        measured: the output of :func:`measure`.
        direction: the predicted sign of d(error)/d(h_fill); default theory's +1
            (``theory.t09_approximation.predicted_error_trend``); -1 is the reversed claim (test hook).
    """
    direction = predicted_error_trend() if direction is None else int(direction)
    rows = [r for r in measured["sets"] if not r["diverged"]]
    hf = [r["h_fill"] for r in rows]
    res = {e: spearman_perm(hf, [r[e] for r in rows]) for e in ("l2", "linf")}
    p_pred = {e: (v["p_greater"] if direction > 0 else v["p_less"]) for e, v in res.items()}
    p_opp = {e: (v["p_less"] if direction > 0 else v["p_greater"]) for e, v in res.items()}
    if any(p < ALPHA for p in p_opp.values()):
        verdict = VIOLATED
    elif rows and all(p < ALPHA for p in p_pred.values()):
        verdict = HOLDS
    else:
        verdict = INCONCLUSIVE
    hm = spearman_perm([r["h_min"] for r in rows], [r["l2"] for r in rows])
    qu = [r for r in rows if r["family"] in QUASI_UNIFORM]
    hq = spearman_perm([r["h_fill"] for r in qu], [r["l2"] for r in qu]) if len(qu) >= 3 else None
    fams = sorted({r["family"] for r in rows}, key=lambda f: (f not in QUASI_UNIFORM, f))
    by_fam = {f: {k: float(np.median([r[k] for r in rows if r["family"] == f])) for k in ("h_min", "h_fill", "l2", "linf")}
              for f in fams}
    p = {"grid": measured["settings"]["grid"], "n": measured["n"]}
    claim = "increases" if direction > 0 else "VARIANT: decreases"
    rule = (f"Spearman rho between h_fill and the test error (L2 = RMS on a {p['grid']}x{p['grid']} grid, and Linf) over "
            f"{len(rows)} point sets (N = {p['n']}, d = {D}; families {', '.join(fams)}), one-sided permutation p-value "
            f"({N_PERM} permutations). Prediction: error {claim} with h_fill. holds iff both errors agree with the "
            f"prediction at p < {ALPHA:g}; violated iff either goes the other way at p < {ALPHA:g}; else inconclusive.")
    numbers = {
        "rho_fill_l2": [res["l2"]["rho"], p_pred["l2"]],
        "rho_fill_linf": [res["linf"]["rho"], p_pred["linf"]],
        "rho_hmin_l2": [hm["rho"], hm["p_less"]],
        "rho_fill_l2_quasi_uniform": None if hq is None else [hq["rho"], hq["p_greater"]],
        "median_per_family": by_fam,
        "point_sets": len(rows),
        "n": p["n"],
        "lr": measured["lr"],
        "max_train_loss": max((r["train_loss_T"] for r in rows), default=float("nan")),
        "diverged": len(measured["sets"]) - len(rows),
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "rho_fill_l2": "rho(h_fill, L2 error) [rho, p in predicted direction]",
        "rho_fill_linf": "rho(h_fill, Linf error) [rho, p in predicted direction]",
        "rho_hmin_l2": "rho(h_min, L2 error) [rho, p(rho < 0)] (fixed N: predicted < 0)",
        "rho_fill_l2_quasi_uniform": "rho(h_fill, L2) within lattice/greedy/random [rho, p(rho > 0)]",
        "median_per_family": "median per family {h_min, h_fill, l2, linf}",
        "point_sets": "point sets",
        "n": "N",
        "lr": "learning rate (same for all)",
        "max_train_loss": "max final train loss",
        "diverged": "diverged (excluded)",
        "wall_s": "wall time (s)",
    }
    notes = ("OURS. Fixed N, so a larger fill distance means some region of [0,1]^2 is far from every training point. "
             "h_min is the minimum pairwise distance (not q_X = h_min/2); h_fill is the fill distance on [0,1]^2 "
             "(lower end of a proven bracket). The same GD budget and learning rate for every set: the error is that "
             "of the trained model, which mixes approximation and optimisation. The clustered families make h_min "
             "tiny and h_fill large together; the within-quasi-uniform correlation is reported separately.")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes)


def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    from sims.plotting import plt, save

    pyplot = plt()
    rows = [r for r in measured["sets"] if not r["diverged"]]
    fams = sorted({r["family"] for r in rows}, key=lambda f: (f not in QUASI_UNIFORM, f))
    marks = {"lattice": "s", "greedy": "o", "random": "^"}
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(11, 4.3))
    for i, f in enumerate(fams):
        rs = [r for r in rows if r["family"] == f]
        mk = marks.get(f, "D")
        for ax, key in ((ax1, "h_fill"), (ax2, "h_min")):
            ax.loglog([r[key] for r in rs], [r["l2"] for r in rs], mk, color=f"C{i}", ms=5, label=f"{f}: L2 (RMS)")
            ax.loglog([r[key] for r in rs], [r["linf"] for r in rs], mk, color=f"C{i}", ms=5, mfc="none", alpha=0.6,
                      label=f"{f}: Linf")
    n = verdict.numbers
    r2 = n["rho_fill_l2"]
    rinf = n["rho_fill_linf"]
    ax1.set_xlabel("fill distance h_fill on [0,1]^2")
    ax1.set_ylabel("test error of the trained model on a dense grid")
    ax1.set_title(f"predicted: error increases with h_fill\nmeasured Spearman rho: L2 {r2[0]:.2f}, Linf {rinf[0]:.2f}")
    import matplotlib.ticker as mticker

    ax1.xaxis.set_minor_formatter(mticker.NullFormatter())
    ax1.xaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
    ax1.set_xticks([0.1, 0.2, 0.5, 1.0])
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(fams), fontsize=7, bbox_to_anchor=(0.5, -0.12))
    hm = n["rho_hmin_l2"]
    ax2.set_xlabel("h_min (minimum pairwise distance, not q_X = h_min/2)")
    ax2.set_ylabel("test error")
    ax2.set_title(f"at fixed N = {measured['n']}: error vs h_min (predicted: falls)\n"
                  f"measured Spearman rho(h_min, L2) = {hm[0]:.2f}")
    fig.suptitle(f"T9: {verdict.verdict} (rho(h_fill, L2) = {r2[0]:.2f}, p = {r2[1]:.1e}; "
                 f"rho(h_fill, Linf) = {rinf[0]:.2f}, p = {rinf[1]:.1e})", y=1.02)
    return [ctx.rel(save(fig, ctx.fig("t09_approximation.png")))]


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"error falls with the fill distance": {"direction": -1}})
