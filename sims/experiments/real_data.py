"""The paper's real-data experiment in miniature: greedy max-min vs random subsets vs the full set.

The paper's own empirical claim: LLaMA-1 fine-tuned on instruction data, subsets chosen
by greedy max-min cosine distance on Word2Vec embeddings; the training loss reached a threshold
about 1.9x sooner than with random subsets of the same size and 3.8x sooner than with the full set,
with similar downstream accuracy.  This module runs the same three arms on data that ships inside
scikit-learn (``sklearn.datasets.load_digits``: 1797 8x8 images, d = 64, 10 classes; no download).

Protocol (every choice is one rule for all arms):

- Split: a stratified, seeded train / held-out split; features standardised with the training
  mean and standard deviation only (zero-variance pixels are centred and left unscaled).
- Arms: ``full`` (the whole training set), ``maxmin`` (greedy max-min, Euclidean distance on the
  standardised features, ``sims.select``), ``random`` (uniform subset of the same size k) and
  ``maxmin-cosine`` (greedy max-min with the chordal distance of the normalised feature vectors,
  the metric the paper used on its embeddings).  k = round(fraction x N_train).
- Seeds: seed s fixes the network initialisation (the same for every arm: arms are paired), the
  random subset's draw and the greedy subsets' first point (``select(..., seed=s)``).
- Model and training: a tanh network (``sims.models``), full-batch GD on the squared loss with
  one-hot targets (the squared loss L of docs/statements.md) and, separately, on the softmax cross-entropy; and a third setting,
  ``ce-adam``, the paper's practical one: the softmax cross-entropy trained by full-batch Adam
  (``optax.adam``) at one learning rate ``adam_lr`` for every arm (default 1e-3, optax's and
  PyTorch's conventional default, not tuned here).
- Learning rate: ONE eta per loss, shared by every arm and fraction, so that steps are comparable:
  eta = lr_scale / max_arm |lambda_max(Hess L(theta_0))|, the sharpness at initialisation (seed
  ``seeds[0]``, power iteration) maximised over the arms.  GD on a quadratic is stable for
  eta < 2 / sharpness, so lr_scale = 1 leaves a factor 2 of room for the sharpness to grow.
  A per-arm eta would make "steps" mix the data's geometry with the step-size normalisation.
- Threshold: "steps to threshold" = the first step t with L_t <= loss_eps x L_0 (the same fraction
  of each run's own initial loss for every arm; ``sims.rates.steps_to_eps``).
- Wall time to threshold = steps x (median seconds of one jitted full-batch GD step on that arm's
  training set, single run, after warm-up): full-batch GD costs O(N) per step, so the full arm
  pays more per step even at equal step counts.  The machine is shared, so timings are noisy.
- Statistics over seeds: 95% Student-t intervals for means.  Ratios (speed-ups) are geometric
  means of the per-seed paired ratios steps(other arm) / steps(greedy arm), with the t-interval
  computed on the log ratios and exponentiated.  Accuracy differences are paired t-intervals.
- Geometry of each arm's training set (standardised features): h_min (Euclidean and chordal), the
  pool covering radius max_{x in train pool} min_{s in arm} ||x - s|| (the fill distance relative to
  the training pool; 0 for the full arm) and the held-out covering radius
  max_{x in held-out} min_{s in arm} ||x - s||.  All distances are h_min convention, not q_X.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hmin.sims import gd
from hmin.sims.diagnostics import make_loss, sharpness
from hmin.sims.errors import InputError
from hmin.sims.geometry import min_pairwise_distance
from hmin.sims.models import make_model
from hmin.sims.rates import steps_to_eps
from hmin.sims.select import chordal_normalize, select
from hmin.sims.store import RunStore, as_float, atomic_write_json
from hmin.sims.uniformity import pool_covering_radius
from hmin.sims.precision import uses_float64
from hmin.sims.plotting import plt, save, styled

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = ["RealDataConfig", "PRESETS", "ARMS", "run", "report", "load_digits_split", "t_interval",
           "paired_ratio", "calibrate_eta"]

#: the training sets compared: the full set, greedy max-min (Euclidean, cosine) and random subsets.
ARMS = ("full", "maxmin", "random", "maxmin-cosine")
GREEDY_ARMS = ("maxmin", "maxmin-cosine")
#: setting name -> (loss, optimizer); the "losses" of the config are these names.
SETTINGS = {"mse": ("mse", "gd"), "ce": ("ce", "gd"), "ce-adam": ("ce", "adam")}
LOSSES = tuple(SETTINGS)
_BASE_KEY = 20250630


@dataclasses.dataclass(frozen=True)
class RealDataConfig:
    """Configuration of the digits experiment (immutable; every field is part of the run hash).

    Attributes:
        test_fraction: held-out fraction of the 1797 digits (stratified split).
        split_seed: seed of the split.
        n_train_max: keep only the first n_train_max training points after the (shuffled) split;
            0 keeps all (for fast tests).
        fractions: subset sizes k = round(fraction x N_train).
        arms: subset of ("full", "maxmin", "random", "maxmin-cosine").
        losses: subset of ("mse", "ce", "ce-adam") (``SETTINGS``: loss and optimizer of each).
        seeds: one initialisation / random draw / greedy first point per seed.
        arch, width, depth, activation: the network ("shallow" or "mlp"; depth for "mlp").
        dtype: float32 (fast) or float64.
        steps, record_every: GD steps (one budget for all arms) and the scan chunk length.
        loss_eps: the threshold L_t <= loss_eps x L_0 (the verdicts use this one).
        threshold_sweep: further thresholds at which the speed-ups are also reported (robustness).
        lr_scale: eta = lr_scale / max_arm sharpness(theta_0) (one eta per loss for all arms; GD settings).
        adam_lr: the learning rate of the ``ce-adam`` setting (one for all arms).
        sharpness_iters: power-iteration steps for the sharpness at initialisation.
        timing_reps: timed GD steps per arm for the seconds-per-step measurement.
        acc_margin: accuracies count as "similar" when the 95% CI of the paired difference lies
            inside [-acc_margin, +acc_margin].
    """

    test_fraction: float = 0.33
    split_seed: int = 0
    n_train_max: int = 0
    fractions: tuple[float, ...] = (0.15,)
    arms: tuple[str, ...] = ARMS
    losses: tuple[str, ...] = LOSSES
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    arch: str = "shallow"
    width: int = 128
    depth: int = 1
    activation: str = "tanh"
    dtype: str = "float32"
    steps: int = 1500
    record_every: int = 100
    loss_eps: float = 0.05
    threshold_sweep: tuple[float, ...] = (0.2, 0.1, 0.05, 0.02, 0.01)
    lr_scale: float = 1.0
    adam_lr: float = 1e-3
    sharpness_iters: int = 40
    timing_reps: int = 15
    acc_margin: float = 0.02

    def __post_init__(self):
        if not 0 < self.test_fraction < 1:
            raise InputError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.n_train_max < 0:
            raise InputError(f"n_train_max must be >= 0 (0 = all), got {self.n_train_max}")
        if not self.fractions or any(not 0 < f < 1 for f in self.fractions):
            raise InputError(f"fractions must be in (0, 1), got {self.fractions}")
        bad = [a for a in self.arms if a not in ARMS]
        if bad:
            raise InputError(f"unknown arm(s) {bad}; choose from {list(ARMS)}")
        if "maxmin" not in self.arms:
            raise InputError("the arms must include 'maxmin' (every comparison is against it)")
        bad = [x for x in self.losses if x not in LOSSES]
        if bad or not self.losses:
            raise InputError(f"unknown loss(es) {bad}; choose from {list(LOSSES)}")
        if len(self.seeds) < 2:
            raise InputError("need at least 2 seeds for confidence intervals")
        if len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise InputError(f"seeds must be distinct and non-negative, got {self.seeds}")
        if self.split_seed < 0:
            raise InputError(f"split_seed must be >= 0, got {self.split_seed}")
        if self.arch not in ("shallow", "mlp"):
            raise InputError(f"arch must be 'shallow' or 'mlp', got {self.arch!r}")
        if self.dtype not in ("float32", "float64"):
            raise InputError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if not 0 < self.loss_eps < 1 or any(not 0 < e < 1 for e in self.threshold_sweep):
            raise InputError(f"loss_eps and threshold_sweep must be in (0, 1), got {self.loss_eps}, "
                             f"{self.threshold_sweep}")
        if not (isinstance(self.adam_lr, (int, float)) and 0 < self.adam_lr < 1):
            raise InputError(f"adam_lr must be in (0, 1), got {self.adam_lr}")
        if not 0 < self.lr_scale < 2:
            raise InputError(f"lr_scale must be in (0, 2) (eta < 2 / sharpness at init), got {self.lr_scale}")
        if self.steps < 1 or self.record_every < 1 or self.timing_reps < 1 or self.sharpness_iters < 1:
            raise InputError("steps, record_every, timing_reps and sharpness_iters must be positive")
        if not self.acc_margin > 0:
            raise InputError(f"acc_margin must be positive, got {self.acc_margin}")

    def model(self):
        kw = dict(d=64, width=self.width, k=10, activation=self.activation, dtype=jnp.dtype(self.dtype))
        if self.arch == "mlp":
            kw["depth"] = self.depth
        return make_model(self.arch, **kw)


#: preset name ("quick", "default", "full") -> the `RealDataConfig` it runs.
PRESETS = {
    "quick": RealDataConfig(arms=("full", "maxmin", "random"), width=64, steps=1000, record_every=100,
                            seeds=(0, 1, 2, 3, 4), timing_reps=5, sharpness_iters=25),
    "default": RealDataConfig(),
    "full": RealDataConfig(fractions=(0.1, 0.2), seeds=tuple(range(10)), width=256, steps=3000,
                           timing_reps=30),
}


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------


def load_digits_split(cfg: RealDataConfig) -> dict:
    """The standardised, stratified train / held-out split of scikit-learn's digits.

    Returns:
        dict with Xtr (N, 64) float64, ytr (N,), Xte, yte, mean, scale (fitted on train only).
    """
    # here: scikit-learn loads only for this experiment
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    try:
        Xtr, Xte, ytr, yte = train_test_split(X.astype(np.float64), y, test_size=cfg.test_fraction,
                                              random_state=cfg.split_seed, stratify=y)
    except ValueError as e:  # e.g. test_fraction leaves fewer training points than classes
        raise InputError(f"test_fraction = {cfg.test_fraction}: no stratified split of the {len(y)} digits ({e})") from None
    if cfg.n_train_max:
        Xtr, ytr = Xtr[:cfg.n_train_max], ytr[:cfg.n_train_max]
    mean = Xtr.mean(axis=0)
    scale = Xtr.std(axis=0)
    scale[scale == 0] = 1.0  # constant pixels: centred, not scaled
    return {"Xtr": (Xtr - mean) / scale, "ytr": ytr.astype(np.int64), "Xte": (Xte - mean) / scale,
            "yte": yte.astype(np.int64), "mean": mean, "scale": scale}


def _k(cfg: RealDataConfig, frac: float, n: int) -> int:
    k = int(round(frac * n))
    if k < 10 or k >= n:
        raise InputError(f"fraction {frac} of N_train = {n} gives k = {k}; need 10 <= k < N_train")
    return k


def _subset(data: dict, arm: str, k: int, seed: int) -> np.ndarray:
    """Indices into the training pool of one arm (``full``: all of them), cached in ``data``."""
    cache = data.setdefault("_subsets", {})
    key = (arm, k, seed)
    if key not in cache:
        X = data["Xtr"]
        if arm == "full":
            idx = np.arange(X.shape[0])
        elif arm == "maxmin":
            idx = select(X, k, method="maxmin", metric="euclidean", seed=seed).indices
        elif arm == "maxmin-cosine":
            idx = select(X, k, method="maxmin", metric="cosine", seed=seed).indices
        else:
            idx = select(X, k, method="random", seed=seed).indices
        cache[key] = idx
    return cache[key]


@functools.lru_cache(maxsize=16)
def _loss_fn(model, loss: str):
    """One loss function object per (model, loss), so jitted users hit their compile caches."""
    return make_loss(model, SETTINGS[loss][0])


@functools.lru_cache(maxsize=16)
def _gd_step(model, loss: str):
    """A jitted step of the setting's optimizer (params, state, X, Y, eta) -> (params, state), compiled once
    per (model, setting, shape); for the GD settings it is the plain step theta - eta grad L."""
    loss_fn = _loss_fn(model, loss)
    opt = SETTINGS[loss][1]

    @jax.jit
    def step(p, state, X, Y, eta):
        g = jax.grad(loss_fn)(p, X, Y)
        upd, state = gd.make_optimizer(opt, eta).update(g, state, p)
        return optax.apply_updates(p, upd), state

    return step, (lambda p, eta: gd.make_optimizer(opt, eta).init(p))


@functools.lru_cache(maxsize=16)
def _jit_init(model):
    return jax.jit(model.init)


def _init(model, seed: int):
    """The initial parameters of seed ``seed`` (the same for every arm: arms are paired by seed)."""
    return _jit_init(model)(jax.random.fold_in(jax.random.PRNGKey(_BASE_KEY), seed))


def _arm_units(cfg: RealDataConfig) -> list[tuple[str, float | None]]:
    """(arm, fraction) pairs; the full arm does not depend on the fraction (fraction None)."""
    out = [("full", None)] if "full" in cfg.arms else []
    return out + [(a, f) for f in cfg.fractions for a in cfg.arms if a != "full"]


# ------------------------------------------------------------------------------------------
# learning rate: one per loss, shared by every arm
# ------------------------------------------------------------------------------------------


def calibrate_eta(cfg: RealDataConfig, data: dict) -> dict:
    """eta per loss = lr_scale / max over arms of |sharpness| at the seeds[0] initialisation."""
    model = cfg.model()
    dt = np.dtype(cfg.dtype)
    params0 = _init(model, cfg.seeds[0])
    out = {}
    for loss in cfg.losses:
        if SETTINGS[loss][1] == "adam":
            out[loss] = {"eta": cfg.adam_lr, "sharpness0": {}, "sharpness0_max": float("nan"),
                         "rule": f"Adam: eta = adam_lr = {cfg.adam_lr:g} for every arm (untuned)"}
            continue
        loss_fn = _loss_fn(model, loss)
        sharp = {}
        for arm, frac in _arm_units(cfg):
            k = data["Xtr"].shape[0] if frac is None else _k(cfg, frac, data["Xtr"].shape[0])
            idx = _subset(data, arm, k, cfg.seeds[0])
            X = jnp.asarray(data["Xtr"][idx], dt)
            Y = jnp.asarray(np.eye(10)[data["ytr"][idx]], dt)
            s = sharpness(loss_fn, params0, X, Y, key=jax.random.PRNGKey(7), iters=cfg.sharpness_iters)
            sharp[_arm_name(arm, frac)] = abs(float(s))
        smax = max(sharp.values())
        out[loss] = {"eta": cfg.lr_scale / smax, "sharpness0": sharp, "sharpness0_max": smax}
    return out


def _total_steps(cfg: RealDataConfig) -> int:
    """The steps actually run (sims.gd runs exactly ``steps``)."""
    return cfg.steps


def _arm_name(arm: str, frac: float | None) -> str:
    return arm if frac is None else f"{arm}@{frac:g}"


# ------------------------------------------------------------------------------------------
# one unit: one arm (and fraction) x one loss, all seeds in one vmapped program
# ------------------------------------------------------------------------------------------


def _eta_unit(cfg: RealDataConfig) -> dict:
    """What determines the learning rates (every arm, fraction and loss enters the max)."""
    d = dataclasses.asdict(cfg)
    for f in ("acc_margin", "loss_eps", "threshold_sweep", "steps", "record_every", "timing_reps"):
        d.pop(f)
    return {"experiment": "real-data", "what": "eta calibration", **d}


def _unit(cfg: RealDataConfig, loss: str, arm: str, frac: float | None, eta: float) -> dict:
    """Everything that determines one stored unit (thresholds and margins act on stored curves only)."""
    d = dataclasses.asdict(cfg)
    for f in ("arms", "losses", "fractions", "acc_margin", "loss_eps", "threshold_sweep"):
        d.pop(f)
    return {"experiment": "real-data", "loss": loss, "arm": arm, "fraction": frac, "eta": eta, **d}


def _step_times(model, loss: str, X, Y, eta: float, reps: int) -> list[float]:
    """Wall seconds of ``reps`` jitted full-batch GD steps (single run, after 3 warm-up steps)."""
    step, init_state = _gd_step(model, loss)
    eta = jnp.asarray(eta, X.dtype)
    p = _init(model, 0)
    st = init_state(p, eta)
    for _ in range(3):
        p, st = jax.block_until_ready(step(p, st, X, Y, eta))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        p, st = jax.block_until_ready(step(p, st, X, Y, eta))
        times.append(time.perf_counter() - t0)
    return times


def _run_unit(cfg: RealDataConfig, data: dict, loss: str, arm: str, frac: float | None, eta: float):
    model = cfg.model()
    dt = np.dtype(cfg.dtype)
    n = data["Xtr"].shape[0]
    k = n if frac is None else _k(cfg, frac, n)
    idx = np.stack([_subset(data, arm, k, s) for s in cfg.seeds])
    X = data["Xtr"][idx].astype(dt)
    Y = np.eye(10, dtype=dt)[data["ytr"][idx]]
    params0 = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[_init(model, s) for s in cfg.seeds])
    gcfg = gd.GDConfig(lr=eta, steps=cfg.steps, record_every=cfg.record_every, loss=SETTINGS[loss][0],
                       optimizer=SETTINGS[loss][1], gram=False, sharpness=False)
    t0 = time.perf_counter()
    traj = gd.train_batch(model, X, Y, gcfg, key=jax.random.PRNGKey(1), params0=params0)
    batch_wall = time.perf_counter() - t0
    step_times = _step_times(model, loss, jnp.asarray(X[0]), jnp.asarray(Y[0]), eta, cfg.timing_reps)

    Xte = jnp.asarray(data["Xte"], dt)
    rows = []
    for b, s in enumerate(cfg.seeds):
        p = jax.tree_util.tree_map(lambda a: a[b], traj.params)
        acc_te = float(np.mean(np.argmax(np.asarray(model.apply(p, Xte)), axis=1) == data["yte"]))
        acc_tr = float(np.mean(np.argmax(np.asarray(model.apply(p, jnp.asarray(X[b]))), axis=1)
                               == data["ytr"][idx[b]]))
        lc = traj.loss[b]
        Xa = data["Xtr"][idx[b]]
        rows.append({
            "seed": int(s),
            "k": int(k),
            "L0": float(lc[0]),
            "final_loss": float(lc[-1]),
            "final_loss_ratio": float(lc[-1] / lc[0]),
            "heldout_acc": acc_te,
            "train_acc": acc_tr,
            "diverged_step": int(traj.diverged_step[b]),
            "h_min_euclid": min_pairwise_distance(Xa).h_min,
            "h_min_chordal": min_pairwise_distance(chordal_normalize(Xa)).h_min,
            "pool_covering_radius": 0.0 if arm == "full" else pool_covering_radius(data["Xtr"], Xa)["value"],
            "heldout_covering_radius": pool_covering_radius(data["Xte"], Xa)["value"],
            "min_class_count": int(np.bincount(data["ytr"][idx[b]], minlength=10).min()),
            "first_index": int(idx[b][0]),
            "median_norm": float(np.median(np.linalg.norm(Xa, axis=1))),
        })
    metrics = {"loss": loss, "arm": arm, "fraction": frac, "k": int(k), "eta": eta,
               "step_times_s": step_times, "batch_wall_s": batch_wall, "censor_at": gcfg.total_steps, "rows": rows}
    arrays = {"loss_curves": traj.loss, "indices": idx}
    return arrays, metrics


# ------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------


def t_interval(values, level: float = 0.95) -> dict:
    """Mean and Student-t confidence interval over seeds (inf/NaN values make the mean NaN).

    Example:
        >>> r = t_interval([1.0, 2.0, 3.0])
        >>> r["mean"], round(r["lo"], 3), round(r["hi"], 3)
        (2.0, -0.484, 4.484)
    """
    # here: scipy loads only when this runs
    from scipy import stats

    v = np.array([as_float(x) for x in values], dtype=np.float64)
    n = v.size
    if n == 0 or not np.all(np.isfinite(v)):
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": int(n),
                "n_finite": int(np.isfinite(v).sum())}
    m = float(v.mean())
    if n < 2:
        return {"mean": m, "lo": float("nan"), "hi": float("nan"), "n": 1, "n_finite": 1}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return {"mean": m, "lo": m - half, "hi": m + half, "n": int(n), "n_finite": int(n)}


def paired_ratio(num, den, level: float = 0.95) -> dict:
    """Geometric-mean ratio num/den over paired seeds, t-interval on the log ratios.

    Example:
        >>> r = paired_ratio([200, 400, 300], [100, 200, 150])
        >>> round(r["ratio"], 6), round(r["lo"], 6), round(r["hi"], 6)
        (2.0, 2.0, 2.0)
    """
    a = np.array([as_float(x) for x in num], dtype=np.float64)
    b = np.array([as_float(x) for x in den], dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if not ok.all():
        return {"ratio": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": int(a.size),
                "note": f"{int((~ok).sum())} seed(s) did not reach the threshold (censored): no ratio"}
    t = t_interval(np.log(a / b), level)
    return {"ratio": math.exp(t["mean"]), "lo": math.exp(t["lo"]) if np.isfinite(t["lo"]) else float("nan"),
            "hi": math.exp(t["hi"]) if np.isfinite(t["hi"]) else float("nan"), "n": int(a.size)}


def _speed_verdict(r: dict, what: str) -> str:
    if not np.isfinite(r["lo"]):
        return f"undecided ({r.get('note', 'too few seeds')})"
    if r["lo"] > 1:
        return f"greedy reached the threshold faster than {what} (95% CI of the speed-up above 1)"
    if r["hi"] < 1:
        return f"greedy reached the threshold slower than {what} (95% CI of the speed-up below 1)"
    return f"no significant difference from {what} (95% CI of the speed-up contains 1)"


def _acc_verdict(d: dict, margin: float, what: str) -> str:
    if not np.isfinite(d["lo"]):
        return "undecided"
    if -margin <= d["lo"] and d["hi"] <= margin:
        return f"similar to {what} (95% CI of the difference inside +-{margin:g})"
    if d["hi"] < 0:
        return f"lower than {what} (95% CI of the difference below 0)"
    if d["lo"] > 0:
        return f"higher than {what} (95% CI of the difference above 0)"
    return f"not shown similar to {what} (95% CI of the difference exceeds +-{margin:g} but contains 0)"


# ------------------------------------------------------------------------------------------
# run, summarise, plot, report
# ------------------------------------------------------------------------------------------


@uses_float64
def run(cfg: RealDataConfig, outdir: str | Path, *, plot_figures: bool = True) -> dict:
    """Run every (loss, arm, fraction) unit (resuming finished ones), write figures and summary.json."""
    t_start = time.perf_counter()
    outdir = Path(outdir)
    store = RunStore(outdir / "runs")
    data = load_digits_split(cfg)
    n = data["Xtr"].shape[0]
    for f in cfg.fractions:
        _k(cfg, f, n)
    ecfg = _eta_unit(cfg)
    ekey = store.key(ecfg)
    if not store.is_done(ekey):  # the learning rates are stored like a unit: a resumed run reuses them
        store.save(ekey, ecfg, {}, calibrate_eta(cfg, data))
    etas = store.load_metrics(ekey)
    log(f"[real-data] N_train = {n}, N_heldout = {data['Xte'].shape[0]}; eta: "
        + ", ".join(f"{l}: {e['eta']:.4g}" for l, e in etas.items()))
    units = [(loss, arm, frac) for loss in cfg.losses for arm, frac in _arm_units(cfg)]
    results = {}
    for u, (loss, arm, frac) in enumerate(units, 1):
        eta = etas[loss]["eta"]
        ucfg = _unit(cfg, loss, arm, frac, eta)
        key = store.key(ucfg)
        name = f"loss={loss} arm={_arm_name(arm, frac)}"
        if store.is_done(key):
            log(f"[real-data] {u}/{len(units)} {name}: already done, skipped")
        else:
            t0 = time.perf_counter()
            arrays, metrics = _run_unit(cfg, data, loss, arm, frac, eta)
            store.save(key, ucfg, arrays, metrics)
            log(f"[real-data] {u}/{len(units)} {name}: {len(cfg.seeds)} seeds x {cfg.steps} steps "
                f"in {time.perf_counter() - t0:.1f}s")
        results[(loss, arm, frac)] = {"metrics": store.load_metrics(key), "key": key,
                                      "curves": store.load_arrays(key)["loss_curves"]}
    summary = summarise(cfg, results, etas, data)
    if plot_figures:
        summary["figures"] = plot(cfg, results, outdir / "figures", summary)
    summary["wall_time_s"] = time.perf_counter() - t_start
    atomic_write_json(outdir / "summary.json", summary)
    return summary


_STATS = ("steps_to_threshold", "wall_to_threshold_s", "final_loss", "final_loss_ratio", "heldout_acc",
          "train_acc", "h_min_euclid", "h_min_chordal", "pool_covering_radius", "heldout_covering_radius",
          "min_class_count", "median_norm")


def _sec_per_step(cfg: RealDataConfig, results: dict) -> dict:
    """Median seconds per GD step for each (loss, N), pooling the timings of every unit of that size.

    The step is the same compiled program for every arm of a given size, so arms of equal size share
    one number: their wall-time ratio is then their step ratio, not timing noise.
    """
    pooled: dict = {}
    for (loss, _arm, _frac), r in results.items():
        pooled.setdefault((loss, r["metrics"]["k"]), []).extend(r["metrics"]["step_times_s"])
    return {key: float(np.median(v)) for key, v in pooled.items()}


def _rows(cfg: RealDataConfig, r: dict, sec_step: float, eps: float) -> list[dict]:
    """Per-seed rows of a unit with steps / wall time to the threshold eps x L_0 added."""
    out = []
    for row, curve in zip(r["metrics"]["rows"], r["curves"]):
        st = steps_to_eps(curve, eps)
        out.append({**row, "steps_to_threshold": st, "wall_to_threshold_s": st * sec_step})
    return out


def _arm_stats(rows: list[dict], m: dict, sec_step: float) -> dict:
    out = {"k": m["k"], "sec_per_step": sec_step, "batch_wall_s": m["batch_wall_s"],
           "censored": int(sum(not np.isfinite(as_float(r["steps_to_threshold"])) for r in rows)),
           "diverged": int(sum(r["diverged_step"] >= 0 for r in rows))}
    for s in _STATS:
        vals = [as_float(r[s]) for r in rows]
        out[s] = {**t_interval(vals), "per_seed": vals}
    return out


def summarise(cfg: RealDataConfig, results: dict, etas: dict, data: dict) -> dict:
    sps = _sec_per_step(cfg, results)

    def unit(loss, arm, frac):
        r = results[(loss, arm, None if arm == "full" else frac)]
        return r, sps[(loss, r["metrics"]["k"])]

    per_loss = {}
    for loss in cfg.losses:
        per_frac = {}
        for frac in cfg.fractions:
            arms = {}
            for arm in cfg.arms:
                r, sec = unit(loss, arm, frac)
                arms[arm] = _arm_stats(_rows(cfg, r, sec, cfg.loss_eps), r["metrics"], sec)
            cmp = {}
            for greedy in [a for a in GREEDY_ARMS if a in cfg.arms]:
                for other in [a for a in ("random", "full") if a in cfg.arms]:
                    (rg, sg), (ro, so) = unit(loss, greedy, frac), unit(loss, other, frac)
                    g_rows, o_rows = _rows(cfg, rg, sg, cfg.loss_eps), _rows(cfg, ro, so, cfg.loss_eps)
                    assert [r["seed"] for r in o_rows] == [r["seed"] for r in g_rows]  # paired by seed
                    sp = paired_ratio([r["steps_to_threshold"] for r in o_rows],
                                      [r["steps_to_threshold"] for r in g_rows])
                    wt = paired_ratio([r["wall_to_threshold_s"] for r in o_rows],
                                      [r["wall_to_threshold_s"] for r in g_rows])
                    dacc = t_interval([g["heldout_acc"] - o["heldout_acc"] for g, o in zip(g_rows, o_rows)])
                    sweep = {}
                    for eps in cfg.threshold_sweep:
                        gs = [r["steps_to_threshold"] for r in _rows(cfg, rg, sg, eps)]
                        os_ = [r["steps_to_threshold"] for r in _rows(cfg, ro, so, eps)]
                        sweep[f"{eps:g}"] = paired_ratio(os_, gs)
                    cmp[f"{greedy}_vs_{other}"] = {
                        "speedup_steps": sp, "speedup_wall": wt, "heldout_acc_diff": dacc,
                        "speedup_steps_by_threshold": sweep,
                        "speed_verdict": _speed_verdict(sp, other),
                        "wall_verdict": _speed_verdict(wt, other).replace("the threshold", "the threshold (wall time)"),
                        "acc_verdict": "greedy's held-out accuracy is " + _acc_verdict(dacc, cfg.acc_margin, other),
                    }
            per_frac[f"{frac:g}"] = {"k": arms["maxmin"]["k"], "arms": arms, "comparisons": cmp}
        per_loss[loss] = per_frac
    return {
        "experiment": "real-data",
        "config": dataclasses.asdict(cfg),
        "data": {"dataset": "sklearn.datasets.load_digits (bundled, no download)",
                 "n_train": int(data["Xtr"].shape[0]), "n_heldout": int(data["Xte"].shape[0]), "d": 64,
                 "classes": 10, "standardisation": "per-feature mean/std of the training split only",
                 "pool_median_norm": float(np.median(np.linalg.norm(data["Xtr"], axis=1))),
                 "pool_max_norm": float(np.max(np.linalg.norm(data["Xtr"], axis=1))),
                 "h_min_pool": min_pairwise_distance(data["Xtr"]).h_min},
        "eta": {loss: {**e, "rule": e.get("rule") or (f"eta = lr_scale / max_arm |sharpness(theta_0)| = "
                                                       f"{cfg.lr_scale:g} / {e['sharpness0_max']:.4g}; one eta per "
                                                       "loss for every arm")}
                for loss, e in etas.items()},
        "conventions": (
            f"threshold: first step t with L_t <= {cfg.loss_eps:g} L_0 (each run's own L_0; inf = not reached "
            f"within the {_total_steps(cfg)} steps run); wall time to threshold = steps x median seconds per jitted "
            "full-batch step of the setting's optimizer (single run, after warm-up), pooled over the arms of the same size N and loss (same "
            "compiled program); the machine is shared, so absolute times are noisy; final loss and "
            f"accuracies after {_total_steps(cfg)} steps; CIs: 95% Student-t over {len(cfg.seeds)} seeds; speed-up = "
            "geometric mean over seeds of steps(other)/steps(greedy), t-interval on the log ratio (>1: greedy "
            "faster); accuracy difference = greedy - other, paired t-interval. h_min: minimum pairwise "
            "Euclidean distance of the standardised training inputs (h_min convention, not q_X); h_min_chordal: "
            "same for the normalised vectors; pool covering radius = max over training-pool points of the "
            "distance to the nearest arm point (fill distance relative to the pool); held-out covering radius "
            "likewise over held-out points; median_norm = median ||x|| of the arm's standardised inputs (greedy "
            "max-min visits far-out points first)."),
        "paper_claim_reference": ("Wang & Gu (arXiv 2506.24120): LLaMA-1 7B/13B fine-tuning, greedy max-min (cosine, "
                                  "Word2Vec) reached a loss threshold ~1.9x sooner than random subsets and ~3.8x "
                                  "sooner than the full set, with similar accuracy. Quoted for comparison only; "
                                  "nothing here is tuned toward it."),
        "results": per_loss,
    }


_ARM_COLORS = {"full": "#7f7f7f", "maxmin": "#1f77b4", "random": "#d62728", "maxmin-cosine": "#2ca02c"}


@styled
def plot(cfg: RealDataConfig, results: dict, figdir: Path, summary: dict) -> list[str]:
    """One figure: per loss, the loss curves per arm, steps to threshold and held-out accuracy."""
    pyplot = plt()
    figdir.mkdir(parents=True, exist_ok=True)
    frac0 = cfg.fractions[0]
    nl = len(cfg.losses)
    fig, axes = pyplot.subplots(nl, 3, figsize=(14, 3.9 * nl), squeeze=False)
    for row, loss in enumerate(cfg.losses):
        ax = axes[row][0]
        for arm in cfg.arms:
            r = results[(loss, arm, None if arm == "full" else frac0)]
            L = r["curves"]
            rel = L / L[:, :1]
            t = np.arange(rel.shape[1])
            k = r["metrics"]["k"]
            c = _ARM_COLORS[arm]
            ax.semilogy(t, np.exp(np.nanmean(np.log(rel), axis=0)), color=c, lw=1.5, label=f"{arm} (N = {k})")
            ax.fill_between(t, np.nanmin(rel, axis=0), np.nanmax(rel, axis=0), color=c, alpha=0.2, lw=0)
        ax.axhline(cfg.loss_eps, color="k", ls=":", lw=0.9, label=f"threshold {cfg.loss_eps:g} L_0")
        eta = summary["eta"][loss]["eta"]
        ax.set_xlabel(f"full-batch {SETTINGS[loss][1].upper()} step t")
        ax.set_ylabel("training loss L_t / L_0")
        ax.set_title(f"{loss.upper()} loss, eta = {eta:.3g} (all arms); line: geometric mean, band: min-max "
                     f"over {len(cfg.seeds)} seeds", fontsize=8)
        ax.legend(fontsize=7)

        for col, (stat, label) in enumerate([("steps_to_threshold", f"steps to L_t <= {cfg.loss_eps:g} L_0"),
                                             ("heldout_acc", f"held-out accuracy after {_total_steps(cfg)} steps")], 1):
            ax = axes[row][col]
            nf = len(cfg.fractions)
            for j, frac in enumerate(cfg.fractions):
                arms = summary["results"][loss][f"{frac:g}"]["arms"]
                for i, arm in enumerate(cfg.arms):
                    if arm == "full" and j > 0:
                        continue
                    st = arms[arm][stat]
                    x = i + (0 if arm == "full" else (j - (nf - 1) / 2) * 0.25)
                    v = np.asarray(st["per_seed"], dtype=np.float64)
                    ok = np.isfinite(v)
                    ax.scatter(np.full(int(ok.sum()), x), v[ok], color=_ARM_COLORS[arm], s=10, alpha=0.5)
                    if (~ok).any():  # censored: not reached within the run, drawn at the run length
                        first = "not reached" not in ax.get_legend_handles_labels()[1]
                        ax.scatter(np.full(int((~ok).sum()), x), np.full(int((~ok).sum()), _total_steps(cfg)),
                                   marker="^", facecolors="none", edgecolors=_ARM_COLORS[arm], s=40,
                                   label="not reached" if first else None)
                    if np.isfinite(st["mean"]):
                        err = [[st["mean"] - st["lo"]], [st["hi"] - st["mean"]]] if np.isfinite(st["lo"]) else None
                        ax.errorbar([x + 0.08], [st["mean"]], yerr=err, fmt="o" if j == 0 else "s",
                                    color=_ARM_COLORS[arm], capsize=4, ms=6,
                                    label=f"k = {arms[arm]['k']}" if (i == 1 and nf > 1) else None)
            ax.set_xticks(range(len(cfg.arms)))
            ax.set_xticklabels([a if a == "full" else f"{a}" for a in cfg.arms], fontsize=8)
            ax.set_ylabel(label)
            ax.set_title(f"{loss.upper()}: {label}; dots: seeds, bar: mean with 95% t-CI", fontsize=8)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, title="subset size (circle / square)" if nf > 1 else None)
    fig.suptitle("Digits, the paper's three arms in miniature: full set vs greedy max-min vs random subset "
                 "(measured; paper claims greedy 1.9x faster than random, 3.8x than full)", fontsize=10)
    fig.tight_layout()
    paths = [save(fig, figdir / "real_data_arms.png")]
    return [str(p.relative_to(figdir.parent)) for p in paths]


def _fmt_ci(st: dict, fmt: str) -> str:
    if not np.isfinite(st["mean"]):
        return "n/a (censored)" if st.get("n_finite", 0) < st.get("n", 0) else "n/a"
    return f"{format(st['mean'], fmt)} [{format(st['lo'], fmt)}, {format(st['hi'], fmt)}]"


def report(summary: dict) -> str:
    """The terminal table: per loss and subset size, each arm with 95% CIs, then the verdicts."""
    cfg = summary["config"]
    lines = [f"real-data: digits, N_train = {summary['data']['n_train']}, held-out = {summary['data']['n_heldout']}, "
             f"{len(cfg['seeds'])} seeds, {cfg['steps']} steps (GD; Adam for ce-adam) ({summary.get('wall_time_s', float('nan')):.1f}s)",
             summary["conventions"], ""]
    for loss, per_frac in summary["results"].items():
        e = summary["eta"][loss]
        for frac, r in per_frac.items():
            lines.append(f"loss = {loss}, subset fraction = {frac} (k = {r['k']}), eta = {e['eta']:.4g}")
            lines.append(f"  {'arm':14s} {'N':>5} {'steps to threshold':>24} {'wall to threshold (ms)':>26} "
                         f"{'final loss':>26} {'held-out acc':>24} {'h_min':>7} {'pool cov':>8} {'med |x|':>7}")
            for arm, a in r["arms"].items():
                wt = dict(a["wall_to_threshold_s"])
                for kk in ("mean", "lo", "hi"):
                    wt[kk] = wt[kk] * 1e3
                lines.append(f"  {arm:14s} {a['k']:5d} {_fmt_ci(a['steps_to_threshold'], '.0f'):>24} "
                             f"{_fmt_ci(wt, '.1f'):>26} {_fmt_ci(a['final_loss'], '.4f'):>26} "
                             f"{_fmt_ci(a['heldout_acc'], '.3f'):>24} {a['h_min_euclid']['mean']:7.3f} "
                             f"{a['pool_covering_radius']['mean']:8.3f} {a['median_norm']['mean']:7.2f}"
                             + (f"  ({a['censored']} censored, {a['diverged']} diverged)"
                                if a["censored"] or a["diverged"] else ""))
            for name, c in r["comparisons"].items():
                sp, wt, da = c["speedup_steps"], c["speedup_wall"], c["heldout_acc_diff"]
                lines.append(f"  {name}: speed-up (steps) {sp['ratio']:.2f}x [{sp['lo']:.2f}, {sp['hi']:.2f}]; "
                             f"wall {wt['ratio']:.2f}x [{wt['lo']:.2f}, {wt['hi']:.2f}]; held-out acc diff "
                             f"{da['mean']:+.3f} [{da['lo']:+.3f}, {da['hi']:+.3f}]")
                lines.append(f"    -> {c['speed_verdict']}; {c['acc_verdict']}")
                sw = ", ".join(f"{e}: {v['ratio']:.2f} [{v['lo']:.2f}, {v['hi']:.2f}]" if np.isfinite(v["ratio"])
                               else f"{e}: n/a (censored)" for e, v in c["speedup_steps_by_threshold"].items())
                lines.append(f"    speed-up (steps) by threshold eps (L_t <= eps L_0): {sw}")
            lines.append("")
    lines.append("paper (for reference, not a target): " + summary["paper_claim_reference"])
    return "\n".join(lines)
