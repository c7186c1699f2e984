"""Train your model on your data and measure what the theory says about it: ``train_and_measure``.

One call trains a model (an hmin zoo model, a pair of pure functions ``init(key)`` /
``apply(params, X)``, or a flax/equinox module through ``sims.adapters``) with full-batch GD,
mini-batch SGD, momentum or Adam (``sims.gd``), and returns, next to the measured loss curve, the
theory's predictions for it and the geometry of the data:

- the loss on the full training set at every step; steps to ``loss_eps * L_0``; the late-phase rate;
- T6: the linearised curve L_t = (1/(2N)) sum_i (1 - eta lambda_i/N)^(2t) (u_i^T r_0)^2
  from the Gram matrix G_0 = J J^T at initialisation (squared loss; a prediction for full-batch GD,
  drawn for mini-batch SGD as the full-batch curve at the same eta, not drawn for momentum/Adam);
- T5: the product bound L_K <= prod_k (1 - eta (1 - eta beta_k/2) mu_k) L_0 while eta < 2/beta_k
  (full-batch GD, squared loss), with mu_k = (2/N) lambda_min(G_k) and beta_k = |sharpness| measured
  at the records and held between them (beta at theta_k, not T5's sup over the segment: a sampled
  estimate), and the one-step inequality L_(t+1) <= L_t - eta (1 - eta beta_t/2) ||grad L_t||^2
  counted at the recorded steps;
- mu_t = (2/N) lambda_min(G_t), lambda_max(G_t) (each with its residual; dense for small N k, matrix-free
  Lanczos otherwise: ``sims.spectra``), the sharpness against the optimizer's stability edge
  (``sims.train_run.stability_edge``: GD 2/eta, heavy ball (2 + 2 beta)/eta, Adam its preconditioned
  sharpness against (2 + 2 beta_1)/((1 - beta_1) eta)), ||theta_t - theta_0|| and ||G_t - G_0||_F / ||G_0||_F,
  at records spaced log + even and as many as the diagnostics budget allows (``sims.train_run``);
- the data geometry: h_min and its pair, q_X = h_min/2 (separation distance), nearest-neighbour
  distance quantiles;
- the pairs that slow GD (T6): among the closest pairs, those whose residuals differ (labels differ),
  with their distance, label gap, the Rayleigh quotient of G_0 along (e_i - e_j)/sqrt 2, and the
  predicted slowdown (``slow_pairs``): the time the pair's own direction holds the loss above eps L_0,
  over the T6 time with that pair's two residuals replaced by their mean (as if its labels agreed with
  the model), at least 1 and at most the T6 time of the data as they are over the latter; squared
  loss only.

With ``out``, the run is stored like ``hmin run`` (``out/runs/<hash>/``: config.json, arrays.npz,
metrics.json, written atomically; a finished run is not trained again), and ``out/summary.json``,
``out/arrays.npz`` and the figures ``out/figures/train_*.png`` are written (``sims.train_plot``; the
text report is ``sims.train_report``).  Progress goes to stderr: the plan with its time estimate
first, then steps and diagnostics timed apart.

The orchestration below is in steps a reader can follow (and hook into): inputs and geometry; the
learning rate; the run (``sims.train_run.run_with_records``) or the stored one; the summary
(``_summarise``); figures and files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hmin.sims import gd, regime
from hmin.sims.adapters import from_functions
from hmin.sims.diagnostics import gram, gram_eigh, jacobian, make_loss, sharpness
from hmin.sims.errors import DivergedError, InputError
from hmin.sims.geometry import knn_distance_quantiles, knn_distances, min_pairwise_distance, validate_points
from hmin.sims.models import Model
from hmin.sims.rates import late_rate, steps_to_eps
from hmin.sims.spectra import DENSE_MAX, METHODS, gram_extremes, gram_matvec, lanczos
from hmin.sims.store import RunStore, atomic_save_npz, atomic_write_json
from hmin.sims.train_plot import plot
from hmin.sims.train_report import report
from hmin.sims.train_run import DEFAULT_BUDGET, GRAM_PROBES, run_with_records, stability_edge
from hmin.theory.t05_descent import descent_bound, predicted_loss
from hmin.theory.t06_linearised import linearised_loss, steps_lower_bound_from_pair, steps_to_eps_linearised
from hmin.sims.precision import uses_float64

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = ["TrainConfig", "TrainResult", "train_and_measure", "as_model", "prepare_labels", "slow_pairs", "plot",
           "report"]

ADAM_DEFAULT_LR = 1e-3
DEFAULT_LR_SCALE = 0.5
_HORIZON = 10**12  # steps beyond which a linearised time counts as infinite


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What to train and how (immutable; every field is part of the stored run's hash).

    Attributes:
        loss: "mse" (the squared loss L = (1/(2N)) sum ||f(x_i) - y_i||^2) or "ce" (softmax cross-entropy).
        optimizer: "gd" (full batch), "sgd" (mini-batch, needs ``batch``), "momentum", "adam".
        batch: mini-batch size B (None = full batch).
        lr: the learning rate eta; None: ``lr_scale`` x the stable step (GD family) or 1e-3 (Adam).
        lr_scale: eta = lr_scale x eta_stable, eta_stable = 2N / lambda_max(G_0) (squared loss: the
            linearised GD is stable iff eta lambda_max/N < 2) or 2 / |sharpness(theta_0)| (cross-entropy).
            Default 0.5 when neither lr nor lr_scale is given.  Not defined for Adam (give ``lr``).
        steps: optimizer steps.
        seed: initialisation, sharpness probes and mini-batches derive from PRNGKey(seed).
        record_every: diagnostics at every ``record_every`` steps (an even grid); default: ``records``.
        records: the number of records, log-spaced (dense early) merged with an even grid; default: as many
            as the budget allows.
        diag_budget: the share of the run's time the diagnostics may take when neither ``record_every``
            nor ``records`` is given (default 0.5: diagnostics at most about half of the run), from the
            cost of one step and of one record measured before the run (``sims.train_run``).
        spectrum: how lambda_min/lambda_max of G = J J^T are computed: "dense" (G formed, LAPACK eigh),
            "lanczos" (matrix-free, ``sims.spectra``) or "auto" (dense while N k <= 256).
        lanczos_iters: the largest Krylov dimension of each matrix-free spectrum.
        loss_eps: "time to eps" = first t with L_t <= loss_eps L_0.
        momentum: heavy-ball coefficient of "momentum".
        n_pairs: how many slow pairs to report.
        sharpness_iters: Lanczos steps (Hessian-vector products) of each sharpness record.
        allow_duplicates: accept duplicate points (h_min = 0); default: refuse them.
    """

    loss: str = "mse"
    optimizer: str = "gd"
    batch: int | None = None
    lr: float | None = None
    lr_scale: float | None = None
    steps: int = 2000
    seed: int = 0
    record_every: int | None = None
    loss_eps: float = 1e-3
    momentum: float = 0.9
    n_pairs: int = 10
    sharpness_iters: int = 20
    allow_duplicates: bool = False
    records: int | None = None
    diag_budget: float = DEFAULT_BUDGET
    spectrum: str = "auto"
    lanczos_iters: int = 120

    def __post_init__(self):
        if self.loss not in ("mse", "ce"):
            raise InputError(f"unknown loss {self.loss!r}; choose 'mse' or 'ce'")
        if self.optimizer not in gd.OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; choose from {', '.join(gd.OPTIMIZERS)}")
        if self.lr is not None and self.lr_scale is not None:
            raise InputError("give either lr or lr_scale, not both")
        for name in ("lr", "lr_scale"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InputError(f"{name} must be a positive finite number, got {v!r}")
        if self.optimizer == "adam" and self.lr_scale is not None:
            raise InputError("lr_scale is a fraction of full-batch GD's stable step, which does not apply to Adam; "
                             "give Adam a learning rate (lr)")
        if isinstance(self.steps, bool) or int(self.steps) != self.steps or self.steps < 1:
            raise InputError(f"steps must be a positive integer, got {self.steps!r}")
        if self.record_every is not None and (int(self.record_every) != self.record_every or self.record_every < 1):
            raise InputError(f"record_every must be a positive integer, got {self.record_every!r}")
        if self.records is not None and (int(self.records) != self.records or self.records < 2):
            raise InputError(f"records must be an integer >= 2, got {self.records!r}")
        if not (isinstance(self.diag_budget, (int, float)) and 0 < self.diag_budget < 1):
            raise InputError(f"diag_budget must be in (0, 1), got {self.diag_budget!r}")
        if self.spectrum not in METHODS:
            raise InputError(f"unknown spectrum method {self.spectrum!r}; choose from {', '.join(METHODS)}")
        if int(self.lanczos_iters) != self.lanczos_iters or self.lanczos_iters < 2:
            raise InputError(f"lanczos_iters must be an integer >= 2, got {self.lanczos_iters!r}")
        if not 0 < self.loss_eps < 1:
            raise InputError(f"loss_eps must be in (0, 1), got {self.loss_eps}")
        if int(self.n_pairs) != self.n_pairs or self.n_pairs < 0:
            raise InputError(f"n_pairs must be a non-negative integer, got {self.n_pairs!r}")
        # the optimizer/batch rules live in GDConfig: build one to validate them here
        gd.GDConfig(lr=1.0, steps=int(self.steps), optimizer=self.optimizer, batch=self.batch, momentum=self.momentum)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_and_measure` returns.

    Attributes:
        summary: the JSON-able summary (also ``out/summary.json``).
        arrays: the curves as NumPy arrays (also ``out/arrays.npz``).
        figures: paths of the figures (empty without ``out``).
        params: the final parameters (None when a stored run was resumed).
    """

    summary: dict
    arrays: dict
    figures: list
    params: Any = None


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------


def as_model(model, d: int) -> Model:
    """An hmin ``Model`` from a ``Model`` or a pair ``(init, apply)`` of pure functions."""
    if isinstance(model, Model):
        return model
    if isinstance(model, (tuple, list)) and len(model) == 2:
        return from_functions(model[0], model[1], d=d)
    raise InputError("model must be an hmin Model (sims.models, sims.adapters) or a pair (init, apply) of functions")


def prepare_labels(Y, n: int, loss: str, k: int | None = None, name: str = "labels") -> np.ndarray:
    """Labels as an (N, k) float64 array: targets for "mse", one-hot rows for "ce".

    For "ce", integer class ids 0..C-1 (shape (N,) or (N, 1)) become one-hot rows with k = C (or the
    model's k); an (N, k) array with k > 1 is taken as one-hot/probabilities.  For "mse", (N,) becomes
    (N, 1).  NaN/inf, a wrong length, negative or non-integer class ids are refused (InputError).

    Examples:
        >>> prepare_labels([0, 2, 1], 3, "ce").tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
        >>> prepare_labels([0.5, 1.5], 2, "mse").shape
        (2, 1)
    """
    try:
        A = np.asarray(Y)
    except ValueError as e:
        raise InputError(f"{name} are ragged: {e}") from None
    if A.dtype.kind not in "biuf":
        raise InputError(f"{name} are not numeric (dtype {A.dtype})")
    A = A.astype(np.float64)
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise InputError(f"{name} must have shape (N,) or (N, k), got {A.shape}")
    if A.shape[0] != n:
        raise InputError(f"{name} have {A.shape[0]} rows but the data have N = {n} points")
    bad = ~np.isfinite(A).all(axis=1)
    if bad.any():
        rows = ", ".join(str(int(i)) for i in np.flatnonzero(bad)[:5])
        raise InputError(f"{name} contain NaN or inf in {int(bad.sum())} row(s): {rows}")
    if loss == "ce" and A.shape[1] == 1:
        c = A[:, 0]
        if np.any(c < 0) or np.any(c != np.round(c)):
            raise InputError(f"{name} for cross-entropy must be class ids 0, 1, 2, ... (or one-hot rows)")
        C = int(c.max()) + 1
        if k is not None:
            if C > k:
                raise InputError(f"{name} have class id {C - 1} but the model has only k = {k} outputs")
            C = k
        if C < 2:
            raise InputError(f"{name}: cross-entropy needs at least 2 classes")
        A = np.eye(C)[c.astype(np.int64)]
    if loss == "ce" and (np.any(A < 0) or not np.allclose(A.sum(axis=1), 1.0)):
        raise InputError(f"{name} for cross-entropy must be class ids or rows of probabilities summing to 1")
    return A


def _param_dtype(model: Model):
    p = jax.eval_shape(model.init, jax.random.PRNGKey(0))
    for leaf in jax.tree_util.tree_leaves(p):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            return np.dtype(leaf.dtype)
    return np.dtype(np.float64)


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str(a.shape).encode() + str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------------
# T6 pairs
# ------------------------------------------------------------------------------------------------


def _candidate_pairs(X: np.ndarray, n_cand: int) -> list[tuple[int, int, float]]:
    """The closest pairs (i < j, distance) among each point's 3 nearest neighbours, closest first."""
    # here: scipy loads only when this runs
    from scipy.spatial import cKDTree

    n = X.shape[0]
    kk = min(4, n)
    _, idx = cKDTree(X).query(X, k=kk)
    pairs = {(min(i, int(j)), max(i, int(j))) for i in range(n) for j in np.atleast_1d(idx[i])[1:] if int(j) != i}
    out = [(i, j, float(np.linalg.norm(X[i] - X[j]))) for i, j in pairs]
    out.sort(key=lambda r: (r[2], r[0], r[1]))
    return out[:n_cand]


def slow_pairs(X, Y, G0, r0, eta: float, loss_eps: float, *, n_pairs: int = 10, n_cand: int | None = None,
               loss: str = "mse", basis=None, pair_block=None, matvec=None) -> list[dict]:
    """The close pairs that T6 says slow full-batch GD down, most harmful first.

    For each candidate pair (i, j) (the closest pairs of the data): its distance h_ij, label gap
    ||y_i - y_j||, the Rayleigh quotient of G_0 along (e_i - e_j)/sqrt 2 (summed over outputs:
    (1/2)||g_i - g_j||^2, small when the pair is close, T4), the residual weight ((r_i - r_j)/sqrt 2)^2
    on it, t_pair = the steps its term alone keeps L_t above eps L_0 (``steps_lower_bound_from_pair``,
    the Rayleigh quotient taken as the direction's eigenvalue), and the predicted slowdown
    max(t_pair, t_eq) / t_eq (at most t_all / t_eq), where t_all is the T6 time to eps L_0 and t_eq the
    T6 time when r_i and r_j are both replaced by their mean (the pair's residuals agree).  Squared
    loss only (for "ce" the list holds the closest pairs with differing labels and no prediction).

    At scale (``G0=None``) nothing of size (N k)^2 is formed: ``basis`` is the Lanczos basis of G_0
    started at r_0 (so r_0 lies in its span), ``pair_block(i, j)`` returns the 2k x 2k block of G_0
    on the pair's rows (from the two points' Jacobian rows only) and ``matvec`` applies G_0.  The
    basis is enlarged by each candidate's change of residual delta (supported on the pair's rows)
    and G_0 delta, and the T6 times come from the Ritz pairs of G_0 on that subspace
    (Rayleigh-Ritz): r_0 and every equalised residual lie in it, and the pair's slow direction is
    resolved even when the Lanczos run alone did not reach the bottom of the spectrum.

    Returns:
        a list of dicts sorted by predicted slowdown (then distance), at most ``n_pairs`` long.
    """
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    n, k = Y.shape
    cands = _candidate_pairs(X, n_cand or max(3 * n_pairs, 20))
    rows = []
    if loss != "mse":
        for i, j, dist in cands:
            gap = float(np.linalg.norm(Y[i] - Y[j]))
            if gap > 0:
                rows.append({"i": i, "j": j, "distance": dist, "label_gap": gap, "predicted_slowdown": None,
                             "note": "cross-entropy: T6 is a squared-loss prediction"})
        return rows[:n_pairs]
    if G0 is not None:
        G0 = np.asarray(G0, np.float64)
        ev, U = gram_eigh(G0)

        def pair_block(i, j):
            ij = np.concatenate([i * k + np.arange(k), j * k + np.arange(k)])
            return G0[np.ix_(ij, ij)]
    else:
        ev, U = _pair_ritz(np.asarray(r0, np.float64).reshape(n, k), cands, basis, matvec)
    r = np.asarray(r0, np.float64).reshape(n, k)
    L0 = float(np.sum(r * r) / (2 * n))
    proj = U.T @ r.reshape(-1)
    t_all = steps_to_eps_linearised(ev, proj, eta, n, loss_eps, _HORIZON) if L0 > 0 else 0.0
    for i, j, dist in cands:
        B = np.asarray(pair_block(i, j), np.float64)
        lam_pair = float(np.sum(np.diag(B[:k, :k]) + np.diag(B[k:, k:]) - 2 * np.diag(B[:k, k:])) / 2)
        w = float(np.sum((r[i] - r[j]) ** 2) / 2)
        r2 = r.copy()
        r2[i] = r2[j] = 0.5 * (r[i] + r[j])
        L0b = float(np.sum(r2 * r2) / (2 * n))
        t_eq = (steps_to_eps_linearised(ev, U.T @ r2.reshape(-1), eta, n, min(loss_eps * L0 / L0b, 1.0), _HORIZON)
                if L0b > 0 else 0.0)
        t_pair = float(steps_lower_bound_from_pair(lam_pair / k, w, L0, eta, n, loss_eps))
        # the pair's own direction keeps L_t above eps L_0 for t_pair steps; the rest of the residual needs
        # t_eq; the pair costs max(t_pair, t_eq) / t_eq, at most t_all / t_eq (a pair that only shares a point
        # with a slow pair, but is not itself close, is not credited with that pair's slowdown)
        if math.isinf(t_eq) or (t_eq == 0 and t_all == 0):
            slow = float("nan") if math.isinf(t_eq) else 1.0
        elif t_eq == 0:
            slow = float("inf") if t_pair > 0 else 1.0
        else:
            slow = float(min(max(t_pair, t_eq), t_all) / t_eq) if t_all >= t_eq else 1.0
        rows.append({"i": i, "j": j, "distance": dist, "label_gap": float(np.linalg.norm(Y[i] - Y[j])),
                     "pair_eigenvalue": lam_pair, "residual_weight": w, "residual_weight_frac": w / (2 * n * L0),
                     "steps_forced_by_pair": t_pair, "t6_steps_to_eps": float(t_all),
                     "t6_steps_if_pair_agreed": float(t_eq), "predicted_slowdown": slow})
    rows.sort(key=lambda r: (-(r["predicted_slowdown"] if np.isfinite(r["predicted_slowdown"]) else 0.0),
                             r["distance"]))
    return rows[:n_pairs]


def _pair_ritz(r: np.ndarray, cands, basis: np.ndarray, matvec) -> tuple[np.ndarray, np.ndarray]:
    """Ritz pairs of G_0 on span(basis, delta_p, G_0 delta_p for each candidate pair p) (Rayleigh-Ritz).

    delta_p = the change of r when the pair's two residual rows are replaced by their mean: every
    equalised residual r + delta_p lies in the subspace, and so does r (the basis starts at r_0).
    """
    n, k = r.shape
    cols = [basis]
    for i, j, _ in cands:
        dlt = np.zeros((n, k))
        dlt[i], dlt[j] = 0.5 * (r[j] - r[i]), 0.5 * (r[i] - r[j])
        if np.any(dlt):
            dv = dlt.reshape(-1)
            cols += [dv[:, None], np.asarray(matvec(dv), np.float64)[:, None]]
    S, R = np.linalg.qr(np.hstack(cols))
    S = S[:, np.abs(np.diag(R)) > 1e-10 * np.abs(np.diag(R)).max()]  # drop dependent columns
    GS = np.stack([np.asarray(matvec(S[:, c]), np.float64) for c in range(S.shape[1])], axis=1)
    T = S.T @ GS
    ev, W = np.linalg.eigh(0.5 * (T + T.T))
    return ev, S @ W


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------


def _resolve_lr(cfg: TrainConfig, lam_max0: float | None, sharp0: float, n: int) -> tuple[float, dict]:
    if cfg.lr is not None:
        return float(cfg.lr), {"rule": "given (lr)"}
    if cfg.optimizer == "adam":
        return ADAM_DEFAULT_LR, {"rule": f"Adam without lr: optax's conventional default {ADAM_DEFAULT_LR:g} (untuned)"}
    scale = cfg.lr_scale if cfg.lr_scale is not None else DEFAULT_LR_SCALE
    if cfg.loss == "mse":
        stable = 2.0 * n / lam_max0
        how = f"eta_stable = 2N / lambda_max(G_0) = 2 x {n} / {lam_max0:.4g}"
    else:
        stable = 2.0 / abs(sharp0)
        how = f"eta_stable = 2 / |sharpness(theta_0)| = 2 / {abs(sharp0):.4g}"
    return float(scale * stable), {"rule": f"eta = lr_scale x eta_stable = {scale:g} x {stable:.4g}; {how}",
                                   "lr_scale": scale, "eta_stable": stable}


def _n_params(params) -> int:
    return int(sum(np.size(a) for a in jax.tree_util.tree_leaves(params)))


def _unit_config(cfg: TrainConfig, model: Model, X, Y, params0, f0) -> dict:
    return {"what": "train", "config": dataclasses.asdict(cfg), "model": model.name,
            "model_config": {k: str(v) for k, v in model.config.items() if k != "ref"},
            "data": _digest(X, Y), "init": _digest(*jax.tree_util.tree_leaves(params0), f0)}


@uses_float64
def train_and_measure(model, X, Y, config: TrainConfig | None = None, out: str | Path | None = None, *,
                      params0=None, figures: bool = True, fail_on_divergence: bool = False) -> TrainResult:
    """Train ``model`` on (X, Y) and measure the loss curve against the theory's predictions.

    Args:
        model: an hmin ``Model`` (``sims.models.make_model``, ``sims.adapters``) or a pair
            ``(init, apply)`` of pure functions ``init(key) -> params``, ``apply(params, X) -> (N, k)``.
        X: (N, d) inputs.
        Y: labels: (N,) or (N, k) targets for "mse"; class ids (N,) or one-hot (N, k) for "ce".
        config: a :class:`TrainConfig` (default ``TrainConfig()``: full-batch GD, squared loss,
            2000 steps at half the stable step).
        out: a directory for summary.json, arrays.npz, figures and the resumable run store.
        params0: initial parameters (default ``model.init`` of the seed's key).
        figures: draw the figures (with ``out``).
        fail_on_divergence: raise ``DivergedError`` (before writing any summary or figure) when the
            loss became NaN/inf or exceeded 1e6 L_0; default: report it in the summary.

    Returns:
        A :class:`TrainResult` (summary, arrays, figure paths, final parameters).

    Examples:
        >>> import numpy as np
        >>> from hmin.sims.models import make_model
        >>> X = np.random.default_rng(0).normal(size=(8, 3)); y = np.sin(X[:, 0])
        >>> r = train_and_measure(make_model("shallow", d=3, width=64), X, y, TrainConfig(steps=50))
        >>> r.summary["loss"]["final_over_initial"] < 1
        True
    """
    t_start = time.perf_counter()
    cfg = config or TrainConfig()
    X = validate_points(X, name="points", allow_duplicates=cfg.allow_duplicates)
    n, d = X.shape
    model = as_model(model, d)
    if model.d != d:
        raise InputError(f"the points have dimension d = {d} but the model expects d = {model.d}")
    Y = prepare_labels(Y, n, cfg.loss, k=model.k)
    if Y.shape[1] != model.k:
        raise InputError(f"labels have {Y.shape[1]} column(s) but the model has k = {model.k} outputs")
    if cfg.batch is not None and cfg.batch > n:
        raise InputError(f"mini-batch size {cfg.batch} is larger than the number of points N = {n}")
    dt = _param_dtype(model)
    Xj, Yj = jnp.asarray(X, dt), jnp.asarray(Y, dt)

    # geometry of the data (float64, exact)
    hm = min_pairwise_distance(X)
    geo = {"n": n, "d": d, "h_min": hm.h_min, "q_X": hm.h_min / 2.0, "argmin_pair": [hm.i, hm.j],
           "knn_quantiles": knn_distance_quantiles(X, k=1),
           "conventions": "h_min = min pairwise Euclidean distance; q_X = h_min/2 (separation distance); "
                          "knn_quantiles: quantiles of each point's distance to its nearest other point"}
    log(f"[train] N = {n}, d = {d}; h_min = {hm.h_min:.4g} (pair {hm.i}, {hm.j}), q_X = h_min/2 = {hm.h_min / 2:.4g}")

    key = jax.random.PRNGKey(int(cfg.seed))
    kinit, krun = jax.random.split(key)
    if params0 is None:
        params0 = jax.jit(model.init)(kinit)
    loss_fn = make_loss(model, cfg.loss)
    f0 = np.asarray(jax.jit(model.apply)(params0, Xj), np.float64)
    r0 = f0 - Y
    nk = n * model.k
    method = ("dense" if nk <= DENSE_MAX else "lanczos") if cfg.spectrum == "auto" else cfg.spectrum
    lam_max0 = sharp0 = None
    if cfg.lr is None and cfg.optimizer != "adam":  # the stable step needs lambda_max(G_0) or the sharpness
        if cfg.loss == "mse":
            lam_max0 = gram_extremes(model, params0, Xj, method=method, max_iter=cfg.lanczos_iters).lam_max
        else:
            sharp0 = float(sharpness(loss_fn, params0, Xj, Yj, key=jax.random.fold_in(krun, 1),
                                     iters=cfg.sharpness_iters))
    eta, eta_info = _resolve_lr(cfg, lam_max0, sharp0, n)
    log(f"[train] {model.name}, P = {_n_params(params0)} parameters, N k = {nk} (spectra: {method}); "
        f"eta = {eta:.4g} ({eta_info['rule']})")

    store = ucfg = ukey = None
    if out is not None:
        out = Path(out)
        store = RunStore(out / "runs")
        ucfg = _unit_config(cfg, model, X, Y, params0, f0)
        ukey = store.key(ucfg)
    regime_pre = regime.before_training(model, params0, X, Y, eta=eta, steps=int(cfg.steps), loss=cfg.loss,
                                        optimizer=cfg.optimizer, loss_eps=cfg.loss_eps)
    params = None
    if store is not None and store.is_done(ukey):
        log(f"[train] {out}/runs/{ukey}: already trained, reusing it")
        arr = store.load_arrays(ukey)
        meta = store.load_metrics(ukey)
    else:
        t0 = time.perf_counter()
        run = run_with_records(model, Xj, Yj, params0, key=krun, lr=eta, steps=int(cfg.steps), loss=cfg.loss,
                               optimizer=cfg.optimizer, momentum=cfg.momentum, batch=cfg.batch, records=cfg.records,
                               record_every=cfg.record_every, budget=cfg.diag_budget, method=method,
                               lanczos_iters=cfg.lanczos_iters, sharpness_iters=cfg.sharpness_iters, seed=int(cfg.seed))
        train_s = time.perf_counter() - t0
        tm = run.timing
        log(f"[train] {cfg.steps} {cfg.optimizer} steps in {tm['train_s']:.1f} s, diagnostics {tm['diagnostics_s']:.1f} s "
            f"({tm['records']} records, {tm['diagnostics_share']:.0%} of the loop), compile {tm['compile_s']:.1f} s")
        params = run.params
        arr = {**run.arrays, "r0": r0}
        if method == "dense":
            with jax.default_matmul_precision("highest"):
                arr["G0"] = np.asarray(gram(model, params0, Xj), np.float64)
        meta = {"train_seconds": train_s, "eta": eta, "sharpness0": float(run.arrays["diag_sharpness"][0]),
                "timing": tm, "spectrum": method}
        if store is not None:
            store.save(ukey, ucfg, arr, meta)

    t0 = time.perf_counter()
    spec0 = None
    if "G0" not in arr and cfg.loss == "mse" and cfg.optimizer in ("gd", "sgd"):
        # T6 and the slow pairs at scale: Lanczos on G_0 started at r_0 (Gauss quadrature of the T6 curve)
        spec0 = lanczos(gram_matvec(model, params0, Xj), nk, v0=np.asarray(arr["r0"]).reshape(-1),
                        max_iter=cfg.lanczos_iters, rtol=1e-10, keep_vectors=True)
    ctx = {"model": model, "params0": params0, "Xj": Xj, "spec0": spec0}
    summary, arrays = _summarise(cfg, model, arr, meta, eta, eta_info, geo, Y, X, ctx)
    summary_s = time.perf_counter() - t0
    summary["regime"] = regime.after_training(regime_pre, summary["loss"]["steps_to_eps"],
                                              summary["t6_linearised"].get("steps_to_eps", float("nan")))
    arrays["nn_distance"] = knn_distances(X, k=1)
    summary["timing"] = {**meta.get("timing", {}), "summary_s": summary_s}
    summary["wall_seconds"] = time.perf_counter() - t_start
    div = summary["loss"]["diverged_step"]
    if fail_on_divergence and div is not None:
        raise DivergedError(f"training diverged at step {div} (loss NaN/inf or > 1e6 L_0) with eta = {eta:.4g}; "
                            "use a smaller --lr or --lr-scale")
    figs = []
    if out is not None:
        if figures:
            t0 = time.perf_counter()
            figs = plot(summary, arrays, out / "figures")
            summary["figures"] = figs
            summary["timing"]["figures_s"] = time.perf_counter() - t0
        atomic_save_npz(out / "arrays.npz", **arrays)
        atomic_write_json(out / "summary.json", summary)
    return TrainResult(summary=summary, arrays=arrays, figures=figs, params=params)


def _summarise(cfg: TrainConfig, model: Model, arr: dict, meta: dict, eta: float, eta_info: dict, geo: dict,
               Y: np.ndarray, X: np.ndarray, ctx: dict) -> tuple[dict, dict]:
    n = geo["n"]
    loss = np.asarray(arr["loss"], np.float64)
    rec = np.asarray(arr["record_steps"])
    diag = {k[5:]: np.asarray(v, np.float64) for k, v in arr.items() if k.startswith("diag_")}
    G0 = np.asarray(arr["G0"], np.float64) if "G0" in arr else None
    r0 = np.asarray(arr["r0"])
    spec0 = ctx["spec0"]
    if G0 is not None:
        eig0 = gram_eigh(G0)
    elif spec0 is not None:  # Ritz pairs of G_0 from a Lanczos run started at r_0
        eig0 = (spec0.ritz_values, spec0.vectors)
    else:
        eig0 = None
    div = int(arr["diverged_step"])
    L0 = float(loss[0])
    t = np.arange(loss.size)
    arrays = {"loss": loss, "steps": t, "record_steps": rec, **{f"diag_{k}": v for k, v in diag.items()}}
    if eig0 is not None:
        arrays["G0_eigvals" if G0 is not None else "G0_ritz_values"] = np.asarray(eig0[0])
    sq, gd_full = cfg.loss == "mse", cfg.optimizer == "gd"

    # T6: the linearised curve from G_0 (squared loss; a full-batch GD prediction)
    t6 = {"applies": sq and cfg.optimizer in ("gd", "sgd")}
    if t6["applies"]:
        ev, U = eig0
        proj = U.T @ r0.reshape(-1)
        with np.errstate(over="ignore"):
            pred = linearised_loss(ev, proj, eta, n, t)
        arrays["t6_loss"] = pred
        t6.update(steps_to_eps=steps_to_eps_linearised(ev, proj, eta, n, cfg.loss_eps, _HORIZON),
                  stable=bool(eta * ev[-1] / n < 2), eta_lambda_max_over_n=float(eta * ev[-1] / n),
                  what="full-batch GD's linearised curve at this eta" + (
                      " (the run is mini-batch SGD: the full-batch curve is a reference, not a prediction of its noise)"
                      if cfg.optimizer == "sgd" else ""),
                  spectrum="dense eigh of G_0" if G0 is not None else
                  f"Gauss quadrature from {spec0.iterations} Lanczos steps on G_0 started at r_0 (matrix-free)")
        ok = np.isfinite(loss) & (loss > 0) & (pred > 0)
        t6["max_abs_log_ratio_measured_over_predicted"] = float(np.max(np.abs(np.log(loss[ok] / pred[ok])))) \
            if ok.any() else None
    else:
        t6["why_not"] = ("T6 is a squared-loss prediction" if not sq else
                         f"T6 predicts full-batch GD; {cfg.optimizer} takes other steps")

    # T5: product bound and one-step inequality (full-batch GD, squared loss)
    t5 = {"applies": sq and gd_full and "sharpness" in diag and "mu" in diag}
    if t5["applies"]:
        beta_rec = np.abs(diag["sharpness"])
        mu_rec = diag["mu"]
        seg = np.searchsorted(rec, np.arange(cfg.steps), side="right") - 1  # record in force at step k
        beta_k, mu_k = beta_rec[seg], mu_rec[seg]
        bound = predicted_loss(L0, eta, beta_k, mu_k)
        arrays["t5_bound"] = bound
        hyp = eta * beta_rec < 2
        one = []
        for m, s in enumerate(rec[:-1]):
            if s + 1 < loss.size and np.isfinite(loss[s + 1]):
                b = float(descent_bound(loss[s], diag["grad_sq"][m], eta, beta_rec[m]))
                one.append(bool(loss[s + 1] <= b + 1e-10 * loss[s]))
        first_bad = int(rec[np.argmin(hyp)]) if not hyp.all() else None
        t5.update(hypothesis_eta_lt_2_over_beta_at_records=f"{int(hyp.sum())}/{hyp.size}",
                  bound_valid_until_step=first_bad if first_bad is not None else int(cfg.steps),
                  final_bound_over_L0=float(bound[-1] / L0) if np.isfinite(bound[-1]) else None,
                  one_step_inequality_holds=f"{sum(one)}/{len(one)} recorded steps",
                  note="beta_k = |sharpness| at theta_k (power iteration), held between records: an estimate of "
                       "T5's sup over the segment; mu_k = (2/N) lambda_min(G_k)")
    else:
        t5["why_not"] = ("T5's mu = (2/N) lambda_min(G) is the squared loss's PL constant" if not sq else
                         f"T5 bounds full-batch GD; {cfg.optimizer} takes other steps")

    meas = steps_to_eps(loss, cfg.loss_eps) if div < 0 else float("nan")
    rate = late_rate(loss)
    d_last = {k: float(v[-1]) for k, v in diag.items()}
    sharp = diag.get("sharpness")
    pair_kw = {}
    if G0 is None and eig0 is not None:
        model_, p0, Xj = ctx["model"], ctx["params0"], ctx["Xj"]

        def pair_block(i, j):  # the 2k x 2k block of G_0 from the pair's own Jacobian rows
            with jax.default_matmul_precision("highest"):
                Jp = np.asarray(jacobian(model_, p0, Xj[np.array([i, j])]), np.float64)
            return Jp @ Jp.T

        pair_kw = {"basis": spec0.basis, "pair_block": pair_block, "matvec": gram_matvec(model_, p0, Xj)}
    pairs = slow_pairs(X, Y, G0, r0, eta, cfg.loss_eps, n_pairs=cfg.n_pairs, loss=cfg.loss, **pair_kw)
    edge = stability_edge(cfg.optimizer, eta, cfg.momentum)
    q = diag.get(edge["quantity"])
    first = lambda name: float(diag[name][0]) if name in diag else None  # noqa: E731
    last = lambda name: float(diag[name][-1]) if name in diag else None  # noqa: E731
    method = meta.get("spectrum", "dense")
    summary = {
        "what": "hmin train",
        "config": dataclasses.asdict(cfg),
        "model": {"name": model.name, **{k: v for k, v in model.config.items() if k != "ref"}},
        "eta": {"value": eta, **eta_info, "two_over_eta": 2.0 / eta},
        "geometry": geo,
        "loss": {"initial": L0, "final": float(loss[-1]), "final_over_initial": float(loss[-1] / L0),
                 "steps_to_eps": meas, "eps": cfg.loss_eps, "late_rate": rate["rate"],
                 "diverged_step": div if div >= 0 else None, "on": "the full training set, every step"},
        "t6_linearised": t6,
        "t5_descent": t5,
        "gram": {"lambda_min0": first("lam_min"), "lambda_max0": first("lam_max"), "mu0": first("mu"),
                 "residual_min0": first("res_min"), "residual_max0": first("res_max"),
                 "mu_end": d_last.get("mu"), "lambda_min_end": d_last.get("lam_min"),
                 "lambda_max_end": d_last.get("lam_max"), "residual_min_end": d_last.get("res_min"),
                 "residual_max_end": d_last.get("res_max"),
                 "mu_residual_end": 2.0 * d_last["res_min"] / n if "res_min" in d_last else None,
                 "gram_change_end": d_last.get("gram_change"),
                 "gram_change_max": float(np.nanmax(diag["gram_change"])) if "gram_change" in diag else None,
                 "method": method,
                 "note": ("dense: G = J J^T formed and LAPACK eigh (float64); residual ||G u - lambda u||"
                          if method == "dense" else
                          "matrix-free Lanczos on G v = J (J^T v) (float64, warm-started from the last record's "
                          "smallest Ritz vector): lambda_min is a Ritz value, an upper bound on the true "
                          "lambda_min, with some eigenvalue within its residual ||G y - theta y||; gram_change is a "
                          f"Hutchinson estimate from {GRAM_PROBES} Rademacher probes")},
        "weights": {"param_dist_end": d_last.get("param_dist"),
                    "param_dist_max": float(np.nanmax(diag["param_dist"])) if "param_dist" in diag else None},
        "sharpness": {"initial": first("sharpness"), "initial_residual": first("sharpness_res"),
                      "max": float(np.nanmax(sharp)) if sharp is not None else None,
                      "end": last("sharpness"), "end_residual": last("sharpness_res"),
                      "preconditioned_max": float(np.nanmax(diag["preconditioned_sharpness"]))
                      if "preconditioned_sharpness" in diag and np.isfinite(diag["preconditioned_sharpness"]).any() else None,
                      "edge": edge["label"], "edge_quantity": edge["quantity"], "threshold": edge["threshold"],
                      "records_above_threshold": int(np.sum(q > edge["threshold"])) if q is not None and
                      edge["threshold"] is not None else None,
                      "two_over_eta": 2.0 / eta, "note": edge["note"] +
                      "; sharpness = top eigenvalue of Hess L by Lanczos on Hessian-vector products, with its residual"},
        "slow_pairs": pairs,
        "train_seconds": meta.get("train_seconds"),
        "conventions": ("L = (1/(2N)) sum_i ||f(x_i) - y_i||^2 (mse) or mean softmax cross-entropy (ce), on the full "
                        "training set at every step whatever the optimizer; G = J J^T, mu = (2/N) lambda_min(G); "
                        "||grad L||^2 is the full-batch gradient (T3 is about it); steps_to_eps = first t with "
                        f"L_t <= {cfg.loss_eps:g} L_0 (inf: not reached); h_min convention (q_X = h_min/2 labelled)."),
    }
    return summary, arrays
