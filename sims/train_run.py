"""The loop of ``hmin train``: optimizer steps in compiled segments, diagnostics at chosen records.

``sims.gd.train`` records diagnostics inside one compiled scan at a fixed interval (right for
sweeps of small problems).  ``hmin train`` runs on a user's data set, where one record of the full
diagnostics can cost hundreds of optimizer steps, so here:

- the optimizer steps run in compiled segments between records (one compiled ``fori_loop`` with
  dynamic bounds: one compilation for every segment length), the same steps as ``sims.gd`` (the
  same optax update, full-set loss at every step, the same mini-batches, the same divergence rule);
- the records are spaced where the dynamics change: log-spaced (dense early) merged with an even
  grid (:func:`record_schedule`);
- their number follows a budget: the cost of one optimizer step and of one record are measured
  before the run, and the default spends at most ``budget`` (one half) of the run's time on
  diagnostics (:func:`plan_records`); the estimate is printed before the run starts;
- each record measures on the full training set, in float64: loss, ||grad L||^2, lambda_min and
  lambda_max of G = J J^T with their residuals (dense or matrix-free, ``sims.spectra``), the
  sharpness (Lanczos on Hessian-vector products, with its residual) and, for Adam, the
  preconditioned sharpness (Cohen et al. 2022), ||theta_t - theta_0|| and the Gram change;
- progress shows the time spent in steps and in diagnostics separately.

The stability edge of each optimizer is :func:`stability_edge`.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from hmin.sims import gd
from hmin.sims.diagnostics import gram, make_loss
from hmin.sims.models import Model
from hmin.sims.progress import log
from hmin.sims.spectra import DENSE_MAX, dense_extremes, gram_matvec, hessian_matvec, lanczos

__all__ = ["record_schedule", "plan_records", "allowed_seconds", "stability_edge", "RunOutput", "run_with_records", "DEFAULT_BUDGET",
           "MIN_RECORDS", "MAX_RECORDS", "GRAM_PROBES"]

#: default share of a run's time the diagnostics may take
DEFAULT_BUDGET = 0.5
#: the fewest and most records a budgeted run takes
MIN_RECORDS, MAX_RECORDS = 6, 50
#: Rademacher probes of the Hutchinson estimate of ||G_t - G_0||_F (matrix-free path)
GRAM_PROBES = 4
#: seconds of diagnostics always allowed, whatever the share (a run of a few seconds still gets its records)
MIN_DIAG_SECONDS = 10.0
#: steps of the timing probe before the run (its steps are thrown away)
PROBE_STEPS = 20


def record_schedule(steps: int, n_records: int) -> np.ndarray:
    """``n_records`` record steps in [0, steps]: 0, steps, and between them half log-spaced, half even.

    Log spacing puts records where the loss and the Gram matrix change fastest (the first steps);
    the even half keeps the late phase sampled.  Duplicates after rounding are merged, so fewer
    steps may come back for short runs.

    Examples:
        >>> record_schedule(1000, 8).tolist()
        [0, 1, 10, 100, 250, 500, 750, 1000]
    """
    steps, n_records = int(steps), max(2, int(n_records))
    inner = n_records - 2
    n_log = (inner + 1) // 2
    log_part = np.geomspace(1, steps, n_log + 1)[:-1] if n_log else np.array([])
    even = np.linspace(0, steps, inner - n_log + 2)[1:-1]
    s = np.unique(np.round(np.concatenate([[0, steps], log_part, even])).astype(np.int64))
    return s[(s >= 0) & (s <= steps)]


def allowed_seconds(steps: int, step_s: float, budget: float = DEFAULT_BUDGET) -> float:
    """Seconds of diagnostics the budget allows: budget / (1 - budget) x the steps' time, at least MIN_DIAG_SECONDS.

    diagnostics / (diagnostics + steps) <= budget  <=>  diagnostics <= budget / (1 - budget) x steps.
    """
    return max(budget / (1.0 - budget) * steps * step_s, MIN_DIAG_SECONDS)


def plan_records(steps: int, step_s: float, record_s: float, budget: float = DEFAULT_BUDGET,
                 min_records: int = MIN_RECORDS, max_records: int = MAX_RECORDS) -> int:
    """How many records keep diagnostics within :func:`allowed_seconds` (clamped to [min, max]).

    Examples:
        >>> plan_records(2000, 0.01, 1.0)   # 20 s of steps, 1 s a record, half the time: 20 records
        20
        >>> plan_records(1000, 0.01, 100.0)  # never fewer than MIN_RECORDS (the plan line says so)
        6
        >>> plan_records(1000, 0.0001, 0.1)  # a 0.1 s run still gets MIN_DIAG_SECONDS of records
        50
    """
    n = int(allowed_seconds(steps, step_s, budget) / max(record_s, 1e-12))
    return int(min(max(n, min_records), max_records, steps + 1))


def stability_edge(optimizer, eta: float, momentum: float = 0.9) -> dict:
    """The stability threshold of an optimizer and the quantity it bounds.

    - "gd", "sgd": full-batch GD on a quadratic is stable iff sharpness < 2/eta (for mini-batch SGD the
      full-batch edge is a reference, not its threshold);
    - "momentum" (heavy ball, optax's ``sgd(eta, momentum=beta)``): sharpness < (2 + 2 beta)/eta;
    - "adam": the preconditioned sharpness lambda_max(P^{-1} H), P = diag(sqrt(nu_hat) + eps), against
      (2 + 2 beta_1) / ((1 - beta_1) eta) = 38/eta for beta_1 = 0.9 (Cohen et al. 2022, "Adaptive
      gradient methods at the edge of stability", arXiv:2207.14484, eq. for Adam with bias-corrected
      moments); never GD's 2/eta;
    - any other optimizer: no threshold (quantity "sharpness", threshold None, with a note).

    Examples:
        >>> round(stability_edge("momentum", 0.1, 0.9)["threshold"], 9)
        38.0
        >>> e = stability_edge("adam", 1e-3); e["quantity"], round(e["threshold"])
        ('preconditioned_sharpness', 38000)
    """
    if optimizer in ("gd", "sgd"):
        return {"quantity": "sharpness", "threshold": 2.0 / eta, "label": "2 / eta",
                "note": "full-batch GD's edge of stability" + (" (a reference for mini-batch SGD)"
                                                               if optimizer == "sgd" else "")}
    if optimizer == "momentum":
        return {"quantity": "sharpness", "threshold": (2.0 + 2.0 * momentum) / eta, "label": "(2 + 2 beta) / eta",
                "note": f"heavy-ball momentum beta = {momentum:g}: stable on a quadratic iff sharpness < (2 + 2 beta)/eta"}
    if optimizer == "adam":
        b1 = 0.9  # optax.adam's default, the one OPTIMIZERS["adam"] uses
        return {"quantity": "preconditioned_sharpness", "threshold": (2.0 + 2.0 * b1) / ((1.0 - b1) * eta),
                "label": "(2 + 2 beta_1) / ((1 - beta_1) eta)",
                "note": "Adam: the preconditioned sharpness lambda_max(P^-1 H), P = diag(sqrt(nu_hat) + eps), "
                        "against (2 + 2 beta_1)/((1 - beta_1) eta) (Cohen et al. 2022); the plain sharpness "
                        "has no 2/eta edge under Adam"}
    return {"quantity": "sharpness", "threshold": None, "label": None,
            "note": f"no stability threshold is known here for optimizer {optimizer!r}"}


# ------------------------------------------------------------------------------------------------
# the compiled segment of optimizer steps
# ------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _segment(model: Model, loss: str, optimizer, momentum: float, batch, diverge_factor: float):
    """advance(p, s, div, losses, L0, lr, bkey, t0, t1): steps t0..t1-1; losses[t] = L(theta_t), NaN once diverged."""
    loss_fn = make_loss(model, loss)
    vg = jax.value_and_grad(loss_fn)

    def advance(p, s, div, losses, L0, lr, bkey, X, Y, t0, t1):
        n = X.shape[0]
        opt = gd.make_optimizer(optimizer, lr, momentum=momentum)

        def body(t, carry):
            p, s, div, losses = carry
            if batch is None:
                L, g = vg(p, X, Y)
            else:
                idx = gd.batch_indices(bkey, t, n, int(batch))
                L, g = loss_fn(p, X, Y), jax.grad(loss_fn)(p, X[idx], Y[idx])
            p, s, div, recorded = gd.guarded_step(opt, p, s, g, L, t, div, diverge_factor * L0)
            return p, s, div, losses.at[t].set(recorded)

        return jax.lax.fori_loop(t0, t1, body, (p, s, div, losses))

    return jax.jit(advance, donate_argnums=(3,))


# ------------------------------------------------------------------------------------------------
# diagnostics at one record (host side, float64)
# ------------------------------------------------------------------------------------------------


def _adam_scale(opt_state):
    """1/sqrt(sqrt(nu_hat) + eps) flattened, from optax's Adam state (None before the first step)."""
    for st in jax.tree_util.tree_leaves(opt_state, is_leaf=lambda x: isinstance(x, optax.ScaleByAdamState)):
        if isinstance(st, optax.ScaleByAdamState):
            count = int(st.count)
            if count == 0:
                return None
            nu = ravel_pytree(jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), st.nu))[0]
            nu_hat = nu / (1.0 - 0.999**count)  # optax.adam's default b2, bias-corrected as in its update
            return 1.0 / jnp.sqrt(jnp.sqrt(nu_hat) + 1e-8)
    return None


class _Recorder:
    """Diagnostics at a record; keeps what successive records share (G_0 probes, warm starts)."""

    def __init__(self, model: Model, loss: str, X, Y, params0, *, method: str, optimizer, max_iter: int,
                 sharpness_iters: int, seed: int):
        self.model, self.X, self.Y = model, X, Y
        self.loss_fn = make_loss(model, loss)
        self.vg = jax.jit(jax.value_and_grad(self.loss_fn))
        self.n, self.k = int(X.shape[0]), int(model.k)
        self.nk = self.n * self.k
        self.method = ("dense" if self.nk <= DENSE_MAX else "lanczos") if method == "auto" else method
        self.optimizer, self.max_iter, self.sharp_iters = optimizer, int(max_iter), int(sharpness_iters)
        self.flat0 = np.asarray(ravel_pytree(params0)[0], np.float64)
        self.rng = np.random.default_rng(seed)
        self.G0 = self.G0_probes = self.Z = None
        self.warm = None  # the last smallest Ritz vector: the next record's Lanczos starts near it

    def _gram(self, params, first: bool) -> dict:
        if self.method == "dense":
            with jax.default_matmul_precision("highest"):
                G = np.asarray(gram(self.model, params, self.X), np.float64)
            ex, _, _ = dense_extremes(G)
            if first:
                self.G0 = G
            change = float(np.linalg.norm(G - self.G0) / np.linalg.norm(self.G0))
            return {"lam_min": ex.lam_min, "lam_max": ex.lam_max, "res_min": ex.res_min, "res_max": ex.res_max,
                    "gram_change": change, "lanczos_iters": 0.0}
        mv = gram_matvec(self.model, params, self.X)
        v0 = self.rng.normal(size=self.nk)
        if self.warm is not None:  # restart from the last record's smallest Ritz vector (G_t moves slowly)
            v0 = self.warm + 0.05 * v0 / np.linalg.norm(v0)
        r = lanczos(mv, self.nk, v0=v0, max_iter=self.max_iter, rtol=1e-6, keep_vectors=True)
        self.warm = r.vectors[:, 0]
        if first:
            self.Z = np.sign(self.rng.normal(size=(GRAM_PROBES, self.nk)))
            self.G0_probes = np.stack([mv(z) for z in self.Z])
        Gz = np.stack([mv(z) for z in self.Z])
        change = float(np.sqrt(np.sum((Gz - self.G0_probes) ** 2) / np.sum(self.G0_probes**2)))
        return {"lam_min": r.lam_min, "lam_max": r.lam_max, "res_min": r.residual_min, "res_max": r.residual_max,
                "gram_change": change, "lanczos_iters": float(r.iterations)}

    def warmup(self, params, opt_state) -> None:
        """Compile everything a record runs (one short record), so that the next record's timing is its cost."""
        keep = self.max_iter, self.sharp_iters
        self.max_iter, self.sharp_iters = 3, 3
        try:
            self(params, opt_state, first=True)
        finally:
            self.max_iter, self.sharp_iters = keep
            self.warm = None

    def __call__(self, params, opt_state, first: bool = False) -> dict:
        L, g = self.vg(params, self.X, self.Y)
        gsq = float(sum(jnp.sum(a.astype(jnp.float64) ** 2) for a in jax.tree_util.tree_leaves(g)))
        flat = np.asarray(ravel_pytree(params)[0], np.float64)
        out = {"loss": float(L), "grad_sq": gsq, "pl_ratio": gsq / float(L) if float(L) > 0 else float("nan"),
               "param_dist": float(np.linalg.norm(flat - self.flat0))}
        out.update(self._gram(params, first))
        out["mu"] = 2.0 * out["lam_min"] / self.n
        P = flat.size
        hv = hessian_matvec(self.loss_fn, params, self.X, self.Y)
        h = lanczos(hv, P, max_iter=self.sharp_iters, rtol=1e-4, seed=int(self.rng.integers(2**31)))
        out["sharpness"], out["sharpness_res"] = h.lam_max, h.residual_max
        if self.optimizer == "adam":
            scale = _adam_scale(opt_state)
            if scale is None:
                out["preconditioned_sharpness"] = out["preconditioned_sharpness_res"] = float("nan")
            else:
                hp = lanczos(hessian_matvec(self.loss_fn, params, self.X, self.Y, scale), P,
                             max_iter=self.sharp_iters, rtol=1e-4, seed=int(self.rng.integers(2**31)))
                out["preconditioned_sharpness"], out["preconditioned_sharpness_res"] = hp.lam_max, hp.residual_max
        return out


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RunOutput:
    """What :func:`run_with_records` returns: the arrays of a trajectory and where the time went."""

    arrays: dict
    params: object
    timing: dict
    method: str


def run_with_records(model: Model, X, Y, params0, *, key, lr: float, steps: int, loss: str, optimizer,
                     momentum: float, batch, records: int | None, record_every: int | None,
                     budget: float = DEFAULT_BUDGET, method: str = "auto", lanczos_iters: int = 120,
                     sharpness_iters: int = 20, diverge_factor: float = 1e6, seed: int = 0) -> RunOutput:
    """Train with records chosen by ``record_every`` (even grid), ``records`` (that many, log + even) or the budget.

    ``key`` is the run key of ``sims.gd.train`` (mini-batches from ``fold_in(key, 0x5EB)``), so the
    steps and losses are those of ``gd.train`` with the same key and initial parameters.
    """
    t_all = time.perf_counter()
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    opt = gd.make_optimizer(optimizer, lr, momentum=momentum)
    seg = _segment(model, loss, optimizer, float(momentum), batch, float(diverge_factor))
    bkey = jax.random.fold_in(key, gd._BATCH_FOLD)
    dtype = Xj.dtype
    lr_a = jnp.asarray(lr, dtype)
    L0 = jnp.asarray(make_loss(model, loss)(params0, Xj, Yj))

    def fresh():
        return params0, opt.init(params0), jnp.asarray(-1, jnp.int32), jnp.full((steps + 1,), jnp.nan, L0.dtype)

    # compile (timed apart), then a probe of the step cost whose steps are thrown away
    t0 = time.perf_counter()
    probe_n = min(PROBE_STEPS, steps)
    p, s, div, buf = fresh()
    out = seg(p, s, div, buf, L0, lr_a, bkey, Xj, Yj, 0, 1)
    jax.block_until_ready(out)
    compile_s = time.perf_counter() - t0
    p, s, div, buf = fresh()
    t0 = time.perf_counter()
    jax.block_until_ready(seg(p, s, div, buf, L0, lr_a, bkey, Xj, Yj, 0, probe_n))
    step_s = (time.perf_counter() - t0) / probe_n

    rec = _Recorder(model, loss, Xj, Yj, params0, method=method, optimizer=optimizer, max_iter=lanczos_iters,
                    sharpness_iters=sharpness_iters, seed=seed)
    p, s, div, buf = fresh()
    t0 = time.perf_counter()
    rec.warmup(p, s)
    compile_s += time.perf_counter() - t0
    # the first record measures a record's cost
    t0 = time.perf_counter()
    d0 = rec(p, s, first=True)
    record0_s = time.perf_counter() - t0

    record_s = record0_s
    if record_every:
        sched = np.unique(np.append(np.arange(0, steps + 1, int(record_every)), steps))
        rule = f"every {int(record_every)} steps (given)"
    elif records:
        sched = record_schedule(steps, int(records))
        rule = f"{int(records)} records, log-spaced and even (given)"
    else:
        allowed = allowed_seconds(steps, step_s, budget)
        n_rec = plan_records(steps, step_s, record0_s, budget)
        rule = (f"budget: diagnostics <= {budget:.0%} of the run or {MIN_DIAG_SECONDS:.0f} s (default), {n_rec} "
                "records, log-spaced and even")
        if n_rec * record0_s > allowed and rec.method == "lanczos":
            # even MIN_RECORDS full records exceed it: later records take fewer Lanczos steps (record 0 keeps all)
            shrink = max(allowed / (n_rec * record0_s), 0.25)
            rec.max_iter = max(30, int(rec.max_iter * shrink))
            rec.sharp_iters = max(8, int(rec.sharp_iters * shrink))
            record_s = record0_s * max(shrink, 30 / max(lanczos_iters, 30))
            rule += (f"; at least {MIN_RECORDS} records, so records after the first take at most {rec.max_iter} "
                     f"Lanczos steps on G and {rec.sharp_iters} on the Hessian")
        if n_rec * record_s > allowed:
            rule += f"; the budget is exceeded (at least {MIN_RECORDS} records)"
        sched = record_schedule(steps, n_rec)
    est_train, est_diag = steps * step_s, record0_s + (len(sched) - 1) * record_s
    log(f"[train] plan: {steps} steps x {1e3 * step_s:.3g} ms = {est_train:.0f} s of optimizer steps; "
        f"{len(sched)} records x {record0_s:.2g} s = {est_diag:.0f} s of diagnostics ({rec.method} spectra, "
        f"N k = {rec.nk}); records: {rule}; estimated {est_train + est_diag + compile_s:.0f} s in all "
        f"(compile {compile_s:.1f} s included; then slow pairs and figures)")

    diags = [d0]
    train_s, diag_s = 0.0, record0_s
    n_lines = max(1, (len(sched) - 1) // 10)
    for m, (a, b) in enumerate(zip(sched[:-1], sched[1:]), 1):
        t0 = time.perf_counter()
        p, s, div, buf = seg(p, s, div, buf, L0, lr_a, bkey, Xj, Yj, int(a), int(b))
        jax.block_until_ready(buf)
        train_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        diags.append(rec(p, s))
        diag_s += time.perf_counter() - t0
        if m % n_lines == 0 or m == len(sched) - 1:
            log(f"[train] step {int(b)}/{steps}: loss {diags[-1]['loss']:.4e}; steps {train_s:.1f} s, "
                f"diagnostics {diag_s:.1f} s ({m + 1}/{len(sched)} records)")
    buf = np.array(buf, np.float64)
    div = int(div)
    buf[steps] = np.nan if div >= 0 else diags[-1]["loss"]
    arrays = {"loss": buf, "record_steps": sched, "diverged_step": np.asarray(div), "lr": np.asarray(lr)}
    for name in diags[0]:
        arrays[f"diag_{name}"] = np.array([d.get(name, np.nan) for d in diags], np.float64)
    timing = {"compile_s": compile_s, "step_s": step_s, "record0_s": record0_s, "train_s": train_s,
              "diagnostics_s": diag_s, "records": int(len(sched)), "record_rule": rule,
              "estimate_s": est_train + est_diag + compile_s, "loop_s": time.perf_counter() - t_all,
              "diagnostics_share": diag_s / max(train_s + diag_s, 1e-12), "budget": budget}
    return RunOutput(arrays=arrays, params=p, timing=timing, method=rec.method)
