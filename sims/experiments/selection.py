"""The reviewers' questions C2 and C4 as an experiment: five selectors on a clustered 2-D pool.

The reviewers' question C2: greedy max-min may oscillate between distant dense clusters and miss other regions.
C4: the effect of h_min is confounded with which points are dropped (rare examples).

The pool (2-D, one per seed, so that seeds vary the pool as well as the selectors' randomness):

- dense Gaussian clusters of different sizes and widths, centres in [0.15, 0.85]^2 at least
  ``min_center_sep`` apart;
- a sparse uniform background on the unit square [0, 1]^2;
- rare modes: tiny Gaussian clusters of ``rare_size`` points, ``rare_offset`` beyond the unit square
  (in the sup norm, on evenly spaced directions with a seeded jitter): far from everything else.

Each point carries a label: ``cluster<i>``, ``background`` or ``rare<j>``.

For each selector (``sims.select``: maxmin, random, grid, kmeans++, herding) and budget k, per seed:

- geometry: h_min of the subset (h_min convention, not q_X), the fill distance on the unit square
  (``sims.geometry.fill_distance``, a rigorous bracket in 2-D) and the pool covering radius
  max_{x in pool} min_{s in subset} ||x - s|| (``sims.uniformity``);
- coverage (C4): the fraction of rare modes hit, the fraction of the subset in each label group
  divided by that group's share of the pool ("representation": 1 = proportional, as random is in
  expectation; < 1 under-represented);
- training: a shallow tanh network (with a bias through a constant input coordinate, inputs
  rescaled, see ``SelectionConfig.input_scale``) fitted by full-batch GD (squared loss) to a smooth
  target of the inputs (``sims.data.smooth_function`` of the 2-D point) on the chosen points; the same initialisation for
  every selector; one eta per (seed, k) for all selectors: eta = lr_scale k / max_selector
  lambda_max(G_0) (G_0 the Gram matrix at the shared initialisation; eta lambda_max / k < 2 keeps the
  linearised dynamics stable for every selector).  Measured: steps to L_t <= loss_eps L_0,
  mu_0 = (2/k) lambda_min(G_0), and the RMS error of the trained network on the whole pool.

The C2 trace: the labels of each selector's first ``trace_picks`` picks in its order of visits
(seeded; maxmin starts at a seeded uniform point), and

- ``switches``: consecutive picks with different labels;
- ``ping_pong``: picks t with label(t) = label(t-2) != label(t-1), both dense clusters (an A-B-A
  alternation between two dense clusters: the oscillation C2 asks about);
- ``first_visit``: the pick index at which each label group is first visited;
- the share of the first picks that fall in dense clusters, against their share of the pool.

Statistics over seeds: means with 95% Student-t intervals (``real_data.t_interval``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hmin.sims import gd
from hmin.sims.data import smooth_function
from hmin.sims.diagnostics import gram
from hmin.sims.errors import InputError
from hmin.sims.experiments.real_data import paired_ratio, t_interval
from hmin.sims.geometry import fill_distance
from hmin.sims.models import shallow
from hmin.sims.rates import steps_to_eps
from hmin.sims.select import METHODS, select
from hmin.sims.store import RunStore, as_float, atomic_write_json
from hmin.sims.uniformity import coverage, pool_covering_radius
from hmin.sims.precision import uses_float64
from hmin.sims.plotting import plt, save, styled

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = ["SelectionConfig", "PRESETS", "make_pool", "trace_measures", "run", "report"]

_BASE_KEY = 20250631


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    """Configuration of the selector comparison (immutable; every field is part of the run hash).

    Attributes:
        cluster_sizes, cluster_sigmas: points and standard deviation of each dense cluster.
        min_center_sep: the least distance between two dense-cluster centres.
        n_background: points of the uniform background on [0, 1]^2.
        n_rare, rare_size, rare_sigma, rare_offset: number of rare modes, points in each, their
            spread, and their distance beyond the unit square (sup norm).
        budgets: subset sizes k.
        methods: selectors (``sims.select.METHODS``).
        seeds: one pool, one initialisation and one set of selector seeds per seed.
        trace_picks: how many first picks the C2 trace follows.
        width: width of the shallow tanh network.
        input_scale: the network sees z = (input_scale (x - 0.5), 1): the unit square mapped to
            [-1, 1]^2 for input_scale = 2, and a constant coordinate that acts as a bias (the shallow
            model has none).  Distances between inputs are scaled by input_scale, nothing else.
        steps, record_every: GD steps and the scan chunk length.
        loss_eps: the threshold L_t <= loss_eps L_0.
        lr_scale: eta = lr_scale k / max_selector lambda_max(G_0), in (0, 2).
        n_probe: fill-distance probes.
    """

    cluster_sizes: tuple[int, ...] = (400, 200, 100)
    cluster_sigmas: tuple[float, ...] = (0.04, 0.03, 0.02)
    min_center_sep: float = 0.4
    n_background: int = 150
    n_rare: int = 4
    rare_size: int = 5
    rare_sigma: float = 0.01
    rare_offset: float = 0.3
    budgets: tuple[int, ...] = (20, 50, 100)
    methods: tuple[str, ...] = METHODS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    trace_picks: int = 40
    width: int = 256
    input_scale: float = 2.0
    steps: int = 2000
    record_every: int = 100
    loss_eps: float = 1e-2
    lr_scale: float = 1.0
    n_probe: int = 4000

    def __post_init__(self):
        if not self.cluster_sizes or len(self.cluster_sizes) != len(self.cluster_sigmas):
            raise InputError("cluster_sizes and cluster_sigmas must be non-empty and of equal length")
        if any(n < 2 for n in self.cluster_sizes) or any(not s > 0 for s in self.cluster_sigmas):
            raise InputError("each dense cluster needs >= 2 points and a positive sigma")
        if self.n_background < 0 or self.n_rare < 0 or self.rare_size < 1:
            raise InputError("n_background and n_rare must be >= 0 and rare_size >= 1")
        if not self.rare_sigma > 0 or not self.rare_offset > 0:
            raise InputError("rare_sigma and rare_offset must be positive")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise InputError(f"unknown selector(s) {bad}; choose from {list(METHODS)}")
        if "maxmin" not in self.methods or "random" not in self.methods:
            raise InputError("methods must include 'maxmin' and 'random' (the comparisons need both)")
        if not self.budgets or any(k < 2 for k in self.budgets):
            raise InputError(f"budgets must be >= 2, got {self.budgets}")
        if max(self.budgets) > self.n_pool or self.trace_picks > self.n_pool or self.trace_picks < 3:
            raise InputError(f"budgets and trace_picks must be in [3, N_pool = {self.n_pool}]")
        if len(self.seeds) < 2 or len(set(self.seeds)) != len(self.seeds):
            raise InputError("need at least 2 distinct seeds for confidence intervals")
        if min(self.seeds) < 0:
            raise InputError(f"seeds must be non-negative, got {self.seeds}")
        if not 0 < self.loss_eps < 1:
            raise InputError(f"loss_eps must be in (0, 1), got {self.loss_eps}")
        if not 0 < self.lr_scale < 2:
            raise InputError(f"lr_scale must be in (0, 2) (eta lambda_max / k < 2), got {self.lr_scale}")
        if self.steps < 1 or self.record_every < 1 or self.width < 1 or self.n_probe < 2:
            raise InputError("steps, record_every, width must be positive and n_probe >= 2")
        if not self.input_scale > 0:
            raise InputError(f"input_scale must be positive, got {self.input_scale}")

    @property
    def n_pool(self) -> int:
        return sum(self.cluster_sizes) + self.n_background + self.n_rare * self.rare_size


#: preset name ("quick", "default", "full") -> the `SelectionConfig` it runs.
PRESETS = {
    "quick": SelectionConfig(budgets=(20, 60), seeds=(0, 1, 2), steps=1500, width=128, n_probe=2000),
    "default": SelectionConfig(),
    "full": SelectionConfig(budgets=(10, 20, 50, 100, 200), seeds=tuple(range(10)), steps=10000, record_every=200,
                            trace_picks=80, n_probe=20000),
}


# ------------------------------------------------------------------------------------------
# the pool
# ------------------------------------------------------------------------------------------


def make_pool(cfg: SelectionConfig, seed: int) -> dict:
    """The labelled 2-D pool of one seed.

    Returns:
        dict: X (N, 2) float64, labels (N,) str, group (N,) str in {"dense", "background", "rare"},
        centers (C, 2), rare_centers (R, 2).

    Example:
        >>> p = make_pool(SelectionConfig(), 0)
        >>> p["X"].shape, sorted(set(p["group"].tolist()))
        ((870, 2), ['background', 'dense', 'rare'])
    """
    rng = np.random.default_rng([_BASE_KEY, seed])
    centers = []
    for _ in range(10000):
        c = rng.uniform(0.15, 0.85, size=2)
        if all(np.linalg.norm(c - o) >= cfg.min_center_sep for o in centers):
            centers.append(c)
            if len(centers) == len(cfg.cluster_sizes):
                break
    if len(centers) < len(cfg.cluster_sizes):
        raise InputError(f"cannot place {len(cfg.cluster_sizes)} cluster centres in [0.15, 0.85]^2 at least "
                         f"min_center_sep = {cfg.min_center_sep} apart")
    centers = np.array(centers)
    X, lab, grp = [], [], []
    for i, (n, s) in enumerate(zip(cfg.cluster_sizes, cfg.cluster_sigmas)):
        X.append(centers[i] + s * rng.standard_normal((n, 2)))
        lab += [f"cluster{i}"] * n
        grp += ["dense"] * n
    X.append(rng.uniform(0.0, 1.0, size=(cfg.n_background, 2)))
    lab += ["background"] * cfg.n_background
    grp += ["background"] * cfg.n_background
    rare_centers = []
    for j in range(cfg.n_rare):
        ang = 2 * np.pi * (j + 0.5 + 0.3 * rng.uniform(-1, 1)) / max(cfg.n_rare, 1)
        u = np.array([np.cos(ang), np.sin(ang)])
        c = 0.5 + (0.5 + cfg.rare_offset) * u / np.max(np.abs(u))  # rare_offset beyond the square (sup norm)
        rare_centers.append(c)
        X.append(c + cfg.rare_sigma * rng.standard_normal((cfg.rare_size, 2)))
        lab += [f"rare{j}"] * cfg.rare_size
        grp += ["rare"] * cfg.rare_size
    return {"X": np.concatenate(X), "labels": np.array(lab), "group": np.array(grp), "centers": centers,
            "rare_centers": np.array(rare_centers).reshape(-1, 2)}


# ------------------------------------------------------------------------------------------
# the C2 trace
# ------------------------------------------------------------------------------------------


def trace_measures(labels, groups) -> dict:
    """Measures of an order of visits given the labels (and groups) of the first picks.

    Args:
        labels: label of each pick, in order.
        groups: "dense" / "background" / "rare" of each pick.

    Returns:
        dict with ``switches``, ``ping_pong``, ``first_visit`` (label -> pick index, 0-based),
        ``group_first_visit``, ``group_share`` (group -> fraction of the picks).

    Example:
        >>> t = trace_measures(["cluster0", "cluster1", "cluster0", "background"],
        ...                    ["dense", "dense", "dense", "background"])
        >>> t["switches"], t["ping_pong"], t["first_visit"]["background"]
        (3, 1, 3)
    """
    lab = [str(x) for x in labels]
    grp = [str(x) for x in groups]
    if len(lab) != len(grp):
        raise InputError("labels and groups must have the same length")
    switches = sum(1 for t in range(1, len(lab)) if lab[t] != lab[t - 1])
    ping = sum(1 for t in range(2, len(lab))
               if lab[t] == lab[t - 2] != lab[t - 1] and grp[t] == "dense" and grp[t - 1] == "dense")
    first: dict = {}
    gfirst: dict = {}
    for t, (a, g) in enumerate(zip(lab, grp)):
        first.setdefault(a, t)
        gfirst.setdefault(g, t)
    share = {g: sum(1 for x in grp if x == g) / max(len(grp), 1) for g in ("dense", "background", "rare")}
    return {"switches": switches, "ping_pong": ping, "first_visit": first, "group_first_visit": gfirst,
            "group_share": share}


# ------------------------------------------------------------------------------------------
# one unit: one seed (one pool), every selector and budget
# ------------------------------------------------------------------------------------------


def _unit(cfg: SelectionConfig, seed: int) -> dict:
    d = dataclasses.asdict(cfg)
    d.pop("seeds")
    return {"experiment": "selection", "seed": seed, **d}


def _model(cfg: SelectionConfig):
    return shallow(3, cfg.width, activation="tanh", dtype=jnp.float64)


def _inputs(cfg: SelectionConfig, X: np.ndarray) -> np.ndarray:
    """What the network sees: (input_scale (x - 0.5), 1) (see ``SelectionConfig.input_scale``)."""
    X = np.asarray(X, dtype=np.float64)
    return np.concatenate([cfg.input_scale * (X - 0.5), np.ones(X.shape[:-1] + (1,))], axis=-1)


def _selection_rows(cfg, pool, sel, k) -> dict:
    X, lab, grp = pool["X"], pool["labels"], pool["group"]
    idx = sel.indices
    n = len(X)
    cov = coverage(lab, idx)
    rare_labels = [f"rare{j}" for j in range(cfg.n_rare)]
    rare_hit = sum(cov["per_label"][r]["selected"] > 0 for r in rare_labels)
    rep = {}
    for g in ("dense", "background", "rare"):
        share_pool = float(np.mean(grp == g))
        share_sub = float(np.mean(grp[idx] == g))
        rep[g] = share_sub / share_pool if share_pool > 0 else float("nan")
    per_cluster = {}
    for i in range(len(cfg.cluster_sizes)):
        c = cov["per_label"][f"cluster{i}"]
        per_cluster[f"cluster{i}"] = (c["selected"] / k) / (c["pool"] / n)
    fd = fill_distance(X[idx], domain="cube", bounds=(np.zeros(2), np.ones(2)), n_probe=cfg.n_probe, seed=0)
    return {
        "k": int(k),
        "h_min": float(sel.h_min),
        "fill_unit_square": fd.estimate,
        "fill_unit_square_upper": fd.upper_bound,
        "pool_covering_radius": pool_covering_radius(X, X[idx])["value"],
        "rare_modes_hit_fraction": rare_hit / cfg.n_rare if cfg.n_rare else float("nan"),
        "labels_hit_fraction": cov["fraction_labels_hit"],
        "representation": rep,
        "representation_per_cluster": per_cluster,
        "counts": {g: int(np.sum(grp[idx] == g)) for g in ("dense", "background", "rare")},
    }


def _run_unit(cfg: SelectionConfig, seed: int):
    pool = make_pool(cfg, seed)
    X, lab, grp = pool["X"], pool["labels"], pool["group"]
    model = _model(cfg)
    params0 = model.init(jax.random.fold_in(jax.random.PRNGKey(_BASE_KEY), seed))
    rows: dict = {m: {} for m in cfg.methods}
    arrays: dict = {"X": X, "labels": lab.astype("U16"), "group": grp.astype("U16")}
    training: dict = {}
    for k in cfg.budgets:
        sels = {m: select(X, k, method=m, seed=seed) for m in cfg.methods}
        for m, s in sels.items():
            rows[m][str(k)] = _selection_rows(cfg, pool, s, k)
            arrays[f"idx_{m}_{k}"] = s.indices
        Xraw = np.stack([X[sels[m].indices] for m in cfg.methods])
        Yb = smooth_function(Xraw.reshape(-1, 2)).reshape(len(cfg.methods), k, 1)
        Xb = _inputs(cfg, Xraw)
        eig = [np.linalg.eigvalsh(np.asarray(gram(model, params0, jnp.asarray(x)), dtype=np.float64)) for x in Xb]
        lam_max = max(float(e[-1]) for e in eig)
        eta = cfg.lr_scale * k / lam_max
        gcfg = gd.GDConfig(lr=eta, steps=cfg.steps, record_every=cfg.record_every, gram=False, sharpness=False)
        p0 = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (len(cfg.methods),) + a.shape), params0)
        traj = gd.train_batch(model, Xb, Yb, gcfg, key=jax.random.PRNGKey(seed), params0=p0)
        y_pool = smooth_function(X)
        for b, m in enumerate(cfg.methods):
            p = jax.tree_util.tree_map(lambda a: a[b], traj.params)
            pred = np.asarray(model.apply(p, jnp.asarray(_inputs(cfg, X))))[:, 0]
            loss = traj.loss[b]
            rows[m][str(k)].update({
                "eta": eta,
                "steps_to_threshold": steps_to_eps(loss, cfg.loss_eps),
                "final_loss_ratio": float(loss[-1] / loss[0]),
                "lam_min0": float(eig[b][0]),
                "lam_max0": float(eig[b][-1]),
                "mu0": float(2 * eig[b][0] / k),
                "pool_rmse": float(np.sqrt(np.mean((pred - y_pool) ** 2))),
                "diverged_step": int(traj.diverged_step[b]),
            })
        arrays[f"loss_{k}"] = traj.loss
        training[str(k)] = {"eta": eta, "lam_max0_max": lam_max, "censor_at": gcfg.total_steps}
    trace = {}
    for m in cfg.methods:
        s = select(X, cfg.trace_picks, method=m, seed=seed)
        arrays[f"trace_{m}"] = s.indices
        trace[m] = {"labels": lab[s.indices].tolist(), **trace_measures(lab[s.indices], grp[s.indices])}
    pool_share = {g: float(np.mean(grp == g)) for g in ("dense", "background", "rare")}
    metrics = {"seed": seed, "n_pool": int(len(X)), "pool_share": pool_share, "rows": rows, "training": training,
               "trace": trace}
    return arrays, metrics


# ------------------------------------------------------------------------------------------
# run, summarise, plot, report
# ------------------------------------------------------------------------------------------


@uses_float64
def run(cfg: SelectionConfig, outdir: str | Path, *, plot_figures: bool = True) -> dict:
    """Run one unit per seed (resuming finished ones), write figures and summary.json."""
    t_start = time.perf_counter()
    outdir = Path(outdir)
    store = RunStore(outdir / "runs")
    results = {}
    for u, seed in enumerate(cfg.seeds, 1):
        ucfg = _unit(cfg, seed)
        key = store.key(ucfg)
        if store.is_done(key):
            log(f"[selection] {u}/{len(cfg.seeds)} seed={seed}: already done, skipped")
        else:
            t0 = time.perf_counter()
            arrays, metrics = _run_unit(cfg, seed)
            store.save(key, ucfg, arrays, metrics)
            log(f"[selection] {u}/{len(cfg.seeds)} seed={seed}: {len(cfg.methods)} selectors x "
                f"{len(cfg.budgets)} budgets in {time.perf_counter() - t0:.1f}s")
        results[seed] = {"metrics": store.load_metrics(key), "key": key}
    summary = summarise(cfg, results)
    if plot_figures:
        summary["figures"] = plot(cfg, results, store, outdir / "figures", summary)
    summary["wall_time_s"] = time.perf_counter() - t_start
    atomic_write_json(outdir / "summary.json", summary)
    return summary


_SCALARS = ("h_min", "fill_unit_square", "pool_covering_radius", "rare_modes_hit_fraction", "labels_hit_fraction",
            "steps_to_threshold", "final_loss_ratio", "mu0", "pool_rmse")


def summarise(cfg: SelectionConfig, results: dict) -> dict:
    per_method = {}
    for m in cfg.methods:
        per_k = {}
        for k in cfg.budgets:
            rows = [results[s]["metrics"]["rows"][m][str(k)] for s in cfg.seeds]
            out = {}
            for name in _SCALARS:
                vals = [as_float(r[name]) for r in rows]
                out[name] = {**t_interval(vals), "per_seed": vals}
            for g in ("dense", "background", "rare"):
                vals = [as_float(r["representation"][g]) for r in rows]
                out[f"representation_{g}"] = {**t_interval(vals), "per_seed": vals}
            for c in rows[0]["representation_per_cluster"]:
                vals = [as_float(r["representation_per_cluster"][c]) for r in rows]
                out[f"representation_{c}"] = {**t_interval(vals), "per_seed": vals}
            out["censored"] = int(sum(not np.isfinite(as_float(r["steps_to_threshold"])) for r in rows))
            out["diverged"] = int(sum(r["diverged_step"] >= 0 for r in rows))
            per_k[str(k)] = out
        tr = [results[s]["metrics"]["trace"][m] for s in cfg.seeds]
        trace = {
            "ping_pong": {**t_interval([t["ping_pong"] for t in tr]), "per_seed": [t["ping_pong"] for t in tr]},
            "switches": {**t_interval([t["switches"] for t in tr]), "per_seed": [t["switches"] for t in tr]},
            "dense_share": {**t_interval([t["group_share"]["dense"] for t in tr]),
                            "per_seed": [t["group_share"]["dense"] for t in tr]},
            "background_first_visit": [t["group_first_visit"].get("background") for t in tr],
            "rare_first_visit": [t["group_first_visit"].get("rare") for t in tr],
            "labels_seed0": tr[0]["labels"],
        }
        per_method[m] = {"budgets": per_k, "trace": trace}

    pool_share = results[cfg.seeds[0]]["metrics"]["pool_share"]
    # the comparisons the reviewers asked about, per budget
    findings = {}
    for k in cfg.budgets:
        g = per_method["maxmin"]["budgets"][str(k)]
        r = per_method["random"]["budgets"][str(k)]
        hmin_ok = all(a >= b for a, b in zip(g["h_min"]["per_seed"], r["h_min"]["per_seed"]))
        findings[str(k)] = {
            "maxmin_hmin_ge_random_every_seed": hmin_ok,
            "hmin_ratio_maxmin_over_random": g["h_min"]["mean"] / r["h_min"]["mean"],
            "rare_modes_hit": {m: per_method[m]["budgets"][str(k)]["rare_modes_hit_fraction"]["mean"]
                               for m in cfg.methods},
            "dense_representation": {m: per_method[m]["budgets"][str(k)]["representation_dense"]["mean"]
                                     for m in cfg.methods},
            "steps_to_threshold": {m: per_method[m]["budgets"][str(k)]["steps_to_threshold"]["mean"]
                                   for m in cfg.methods},
            "speedup_vs_random": {m: paired_ratio(r["steps_to_threshold"]["per_seed"],
                                                  per_method[m]["budgets"][str(k)]["steps_to_threshold"]["per_seed"])
                                  for m in cfg.methods if m != "random"},
            "fill_unit_square": {m: per_method[m]["budgets"][str(k)]["fill_unit_square"]["mean"]
                                 for m in cfg.methods},
        }
    mm = per_method["maxmin"]["trace"]
    rnd = per_method["random"]["trace"]
    c2 = (f"C2 trace over the first {cfg.trace_picks} picks ({len(cfg.seeds)} seeds): greedy max-min made "
          f"{mm['ping_pong']['mean']:.2f} A-B-A alternations between dense clusters on average "
          f"(random order: {rnd['ping_pong']['mean']:.2f}); {100 * mm['dense_share']['mean']:.0f}% of its first picks "
          f"were in dense clusters vs {100 * pool_share['dense']:.0f}% of the pool; first background pick at "
          f"index {mm['background_first_visit']}, first rare-mode pick at {mm['rare_first_visit']} (0-based).")
    kmax = str(max(cfg.budgets))
    c4 = ("C4 coverage at k = " + kmax + ": fraction of rare modes hit: "
          + ", ".join(f"{m} {findings[kmax]['rare_modes_hit'][m]:.2f}" for m in cfg.methods)
          + "; representation of dense clusters (subset share / pool share): "
          + ", ".join(f"{m} {findings[kmax]['dense_representation'][m]:.2f}" for m in cfg.methods) + ".")
    return {
        "experiment": "selection",
        "config": dataclasses.asdict(cfg),
        "pool": {"n": results[cfg.seeds[0]]["metrics"]["n_pool"], "share": pool_share},
        "conventions": (
            "h_min = minimum pairwise Euclidean distance of the subset (h_min convention, not q_X); fill distance "
            "on the unit square [0,1]^2 (rigorous bracket, lower end reported); pool covering radius = max over "
            "pool points of the distance to the nearest selected point; representation = (subset share of a "
            "group) / (pool share); steps to threshold = first t with L_t <= "
            f"{cfg.loss_eps:g} L_0 (inf: not reached in the {-(-cfg.steps // cfg.record_every) * cfg.record_every} "
            f"steps run), shallow tanh width {cfg.width}, "
            "smooth target, eta = lr_scale k / max_selector lambda_max(G_0) (one eta per seed and k); mu0 = "
            "(2/k) lambda_min(G_0) in float64 (|values| below ~1e-16 lambda_max / k are round-off); pool_rmse = RMS error of the trained net on the whole pool; CIs: 95% "
            f"Student-t over {len(cfg.seeds)} seeds (pools differ per seed); speed-up vs random = geometric mean "
            "over seeds of steps(random)/steps(selector) (same pool, init and eta), t-interval on the log ratio."),
        "methods": per_method,
        "findings": findings,
        "c2": c2,
        "c4": c4,
    }


_METHOD_COLORS = {"maxmin": "#1f77b4", "random": "#d62728", "grid": "#ff7f0e", "kmeans++": "#9467bd",
                  "herding": "#2ca02c"}


def _group_colors(group):
    return np.where(group == "dense", "#9ecae1", np.where(group == "rare", "#fdae6b", "#bdbdbd"))


@styled
def plot(cfg: SelectionConfig, results: dict, store: RunStore, figdir: Path, summary: dict) -> list[str]:
    pyplot = plt()
    figdir.mkdir(parents=True, exist_ok=True)
    seed = cfg.seeds[0]
    arr = store.load_arrays(results[seed]["key"])
    X, group = arr["X"], arr["group"]
    paths = []

    # 1. the selected points of every selector at the middle budget (seed 0)
    k = sorted(cfg.budgets)[len(cfg.budgets) // 2]
    nm = len(cfg.methods)
    fig, axes = pyplot.subplots(1, nm, figsize=(3.6 * nm, 3.9), squeeze=False)
    rows = results[seed]["metrics"]["rows"]
    for ax, m in zip(axes[0], cfg.methods):
        idx = arr[f"idx_{m}_{k}"]
        ax.scatter(X[:, 0], X[:, 1], s=4, c=_group_colors(group), lw=0)
        ax.scatter(X[idx, 0], X[idx, 1], s=18, facecolors=_METHOD_COLORS[m], edgecolors="k", lw=0.5)
        r = rows[m][str(k)]
        ax.set_title(f"{m}: h_min = {r['h_min']:.3f}\nrare modes hit {r['rare_modes_hit_fraction']:.2f}, "
                     f"dense repr. {r['representation']['dense']:.2f}", fontsize=8)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
    axes[0][0].set_ylabel("x2")
    fig.suptitle(f"k = {k} points chosen by each selector (seed {seed}); pool: dense clusters (blue), "
                 "background (grey), rare modes (orange). Measured.", fontsize=9)
    paths.append(save(fig, figdir / "selection_subsets.png"))

    # 2. C2: greedy max-min's order of visits vs random's, and every selector's label sequence
    from matplotlib.colors import ListedColormap

    fig = pyplot.figure(figsize=(14, 8.2))
    gs = fig.add_gridspec(2, 2, height_ratios=[1.5, 1])
    lab = arr["labels"]
    for col, m in enumerate(("maxmin", "random")):
        ax = fig.add_subplot(gs[0, col])
        idx = arr[f"trace_{m}"]
        ax.scatter(X[:, 0], X[:, 1], s=4, c=_group_colors(group), lw=0)
        sc = ax.scatter(X[idx, 0], X[idx, 1], s=30, c=np.arange(len(idx)), cmap="viridis", edgecolors="k", lw=0.4)
        for t, i in enumerate(idx[:25]):
            ax.annotate(str(t), X[i], fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(f"{m}: first {len(idx)} picks coloured by order, first 25 numbered (seed {seed})", fontsize=9)
        fig.colorbar(sc, ax=ax, label="pick index (0 = first)", shrink=0.8)
    ax = fig.add_subplot(gs[1, :])
    labels_all = sorted(set(lab.tolist()), key=lambda s: (s[0] != "c", s[0] != "b", s))
    code = {name: i for i, name in enumerate(labels_all)}
    n_cl = sum(1 for x in labels_all if x.startswith("cluster"))
    n_ra = sum(1 for x in labels_all if x.startswith("rare"))
    blues = pyplot.get_cmap("Blues")(np.linspace(0.45, 0.95, max(n_cl, 1)))[:n_cl]
    oranges = pyplot.get_cmap("Oranges")(np.linspace(0.4, 0.9, max(n_ra, 1)))[:n_ra]
    colors = list(blues) + [(0.75, 0.75, 0.75, 1.0)] * ("background" in code) + list(oranges)
    M = np.array([[code[lab[i]] for i in arr[f"trace_{m}"]] for m in cfg.methods])
    ax.imshow(M, aspect="auto", cmap=ListedColormap(colors), vmin=-0.5, vmax=len(labels_all) - 0.5,
              interpolation="nearest")
    ax.set_yticks(range(nm))
    ax.set_yticklabels([f"{m} (A-B-A: {summary['methods'][m]['trace']['ping_pong']['per_seed'][0]})"
                        for m in cfg.methods], fontsize=8)
    ax.set_xlabel("pick index (order of visits)")
    ax.set_title("label of each pick in order (seed 0); blue shades: dense clusters, grey: background, orange: "
                 "rare modes. A-B-A = alternations between two dense clusters (C2)", fontsize=9)
    handles = [pyplot.Rectangle((0, 0), 1, 1, color=c) for c in colors]
    ax.legend(handles, labels_all, fontsize=6, ncol=len(labels_all), loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.grid(False)
    fig.tight_layout()
    paths.append(save(fig, figdir / "selection_maxmin_order.png"))

    # 3. metrics vs budget k per selector (mean, 95% t-CI over seeds)
    panels = [("h_min", "subset h_min (not q_X)", True), ("fill_unit_square", "fill distance on [0,1]^2", True),
              ("rare_modes_hit_fraction", "fraction of rare modes hit (C4)", False),
              ("representation_dense", "dense-cluster share / pool share", False),
              ("steps_to_threshold", f"GD steps to L_t <= {cfg.loss_eps:g} L_0", False),
              ("pool_rmse", "RMS error of trained net on the pool", True)]
    fig, axes = pyplot.subplots(2, 3, figsize=(14, 7.5))
    ks = np.array(sorted(cfg.budgets))
    for ax, (name, label, logy) in zip(axes.ravel(), panels):
        for j, m in enumerate(cfg.methods):
            st = [summary["methods"][m]["budgets"][str(k)][name] for k in ks]
            mean = np.array([s["mean"] for s in st])
            lo = np.array([s["lo"] for s in st])
            hi = np.array([s["hi"] for s in st])
            x = ks + 0.012 * (ks.max() - ks.min() + 1) * (j - (nm - 1) / 2)
            ok = np.isfinite(mean)
            yerr = np.vstack([mean - lo, hi - mean])
            yerr = np.where(np.isfinite(yerr), yerr, 0.0)
            ax.errorbar(x[ok], mean[ok], yerr=yerr[:, ok], fmt="-o", ms=4, capsize=3, color=_METHOD_COLORS[m],
                        label=m)
        ax.set_xticks(ks)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("budget k")
        ax.set_ylabel(label)
        ax.set_title(label, fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Selectors on a clustered pool with background and rare modes (C2/C4): mean and 95% t-CI over "
                 f"{len(cfg.seeds)} seeds; steps not reached are left out (see summary)", fontsize=9)
    fig.tight_layout()
    paths.append(save(fig, figdir / "selection_metrics.png"))
    return [str(p.relative_to(figdir.parent)) for p in paths]


def report(summary: dict) -> str:
    """The terminal table: per budget, each selector's geometry, coverage and GD speed; then C2 / C4."""
    cfg = summary["config"]
    lines = [f"selection: pool N = {summary['pool']['n']} (dense {summary['pool']['share']['dense']:.2f}, background "
             f"{summary['pool']['share']['background']:.2f}, rare {summary['pool']['share']['rare']:.2f}), "
             f"{len(cfg['seeds'])} seeds ({summary.get('wall_time_s', float('nan')):.1f}s)",
             summary["conventions"], ""]

    def ci(st, fmt):
        if not np.isfinite(st["mean"]):
            return "n/a"
        lo = format(st["lo"], fmt) if np.isfinite(st["lo"]) else "?"
        hi = format(st["hi"], fmt) if np.isfinite(st["hi"]) else "?"
        return f"{format(st['mean'], fmt)} [{lo}, {hi}]"

    for k in cfg["budgets"]:
        lines.append(f"k = {k}")
        lines.append(f"  {'selector':9s} {'h_min':>22} {'fill [0,1]^2':>22} {'rare hit':>8} {'dense repr':>10} "
                     f"{'bg repr':>8} {'steps to thr':>22} {'pool rmse':>10} {'mu0 (median)':>12}")
        for m, pm in summary["methods"].items():
            b = pm["budgets"][str(k)]
            cen = f" ({b['censored']} censored)" if b["censored"] else ""
            lines.append(f"  {m:9s} {ci(b['h_min'], '.4f'):>22} {ci(b['fill_unit_square'], '.4f'):>22} "
                         f"{b['rare_modes_hit_fraction']['mean']:8.2f} {b['representation_dense']['mean']:10.2f} "
                         f"{b['representation_background']['mean']:8.2f} {ci(b['steps_to_threshold'], '.0f'):>22} "
                         f"{b['pool_rmse']['mean']:10.4f} {np.median(b['mu0']['per_seed']):12.1e}{cen}")
        f = summary["findings"][str(k)]
        lines.append(f"  greedy h_min >= random h_min on every seed: {f['maxmin_hmin_ge_random_every_seed']} "
                     f"(ratio of means {f['hmin_ratio_maxmin_over_random']:.2f})")
        lines.append("  GD speed-up vs random, steps(random)/steps(selector), geometric mean [95% CI]: "
                     + ", ".join(f"{m} {v['ratio']:.2f} [{v['lo']:.2f}, {v['hi']:.2f}]" if np.isfinite(v["ratio"])
                                 else f"{m} n/a (censored)" for m, v in f["speedup_vs_random"].items()))
        lines.append("")
    lines.append("trace of the first picks (mean over seeds): "
                 + "; ".join(f"{m}: A-B-A {pm['trace']['ping_pong']['mean']:.2f}, switches "
                             f"{pm['trace']['switches']['mean']:.1f}, dense share {pm['trace']['dense_share']['mean']:.2f}"
                             for m, pm in summary["methods"].items()))
    lines.append("greedy max-min, first picks' labels (seed 0): " + " ".join(summary["methods"]["maxmin"]["trace"]["labels_seed0"]))
    lines.append(summary["c2"])
    lines.append(summary["c4"])
    return "\n".join(lines)
