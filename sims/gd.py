"""The training engine: full-batch GD, momentum, Adam (any optax optimizer) and mini-batch SGD,
with the same trajectory diagnostics.

One jitted function runs a whole trajectory: an outer ``lax.scan`` over recording intervals and an
inner ``lax.scan`` over the GD steps of each interval.  Every ``record_every`` steps it records
(the notation of docs/statements.md): the loss L, ||grad L||^2, the PL ratio ||grad L||^2 / L, lambda_min and
lambda_max of the Gram matrix G = J J^T (float64) and mu = (2/N) lambda_min, the sharpness
(largest |eigenvalue| of Hess L, power iteration), ||theta_t - theta_0|| and
||G_t - G_0||_F / ||G_0||_F.  The loss itself is recorded at every step.

Optimizers (``GDConfig.optimizer``): ``"gd"`` (full-batch ``optax.sgd``: theta <- theta - eta grad L,
the setting of T3-T6), ``"sgd"`` (the same update with a mini-batch gradient), ``"momentum"``
(heavy ball, ``optax.sgd(eta, momentum)``), ``"adam"`` (``optax.adam(eta)``), or any callable
``learning_rate -> optax.GradientTransformation`` (e.g. ``optax.rmsprop``).  ``GDConfig.batch = B``
uses mini-batches of B points: each epoch draws a fresh permutation of the N points from the run's
key (``batch_indices``) and walks through it in ``N // B`` batches (the last ``N mod B`` points of a
permutation are dropped); the mini-batch loss is the mean over the batch, so its gradient is an
unbiased estimate of grad L.

What is recorded for every optimizer is what is well defined at the parameters theta_t themselves:
the loss L on the FULL training set at every step, and at the records the FULL-batch gradient
||grad L||^2, the Gram matrix G(theta_t) with mu = (2/N) lambda_min, the sharpness of the full loss,
and the weight and Gram movement.  The PL identity T3, ||grad L||^2 = r^T G r / N^2, is a
statement about the full-batch gradient at theta, so it holds at every recorded theta_t whatever the
optimizer; but only for ``"gd"`` is that gradient the step actually taken, so T5's descent bound
and T6's linearised curve are predictions for full-batch GD only (momentum, Adam and mini-batch SGD
are compared against them, not checked by them).  The GD stability edge "sharpness < 2/eta" is
likewise a full-batch-GD statement (heavy ball: 2(1 + beta)/eta; Adam: a preconditioned sharpness).

``train_batch`` vmaps the same function over a leading batch axis (seeds, sweep points), so a
sweep is one compiled program; compiled programs are cached by (model, config, shapes).

A run whose loss becomes NaN/inf or exceeds ``diverge_factor * L_0`` is marked diverged at that
step; its parameters are frozen there and the losses after it are NaN, so it is never plotted as a
curve.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from hmin.sims.diagnostics import gram, make_loss, relative_change, sharpness
from hmin.sims.errors import InputError
from hmin.sims.models import Model
from hmin.sims.sharding import batch_mesh, default_devices, fetch, pad_leading, place
from hmin.sims.precision import uses_float64

_LOG = logging.getLogger(__name__)

__all__ = ["GDConfig", "Trajectory", "train", "train_batch", "guarded_step", "init_params", "OPTIMIZERS", "make_optimizer",
           "batch_indices"]

# Gram matrices, their eigenvalues and the sharpness are traced at the highest matmul precision:
# on GPUs JAX's default float32 matmul may use TF32 (10-bit mantissa), which would decide a
# verdict on lambda_min with ~1e-3 relative error.  On CPU this changes nothing.  The GD steps
# themselves keep the default precision (speed).
_HIGHEST = jax.default_matmul_precision("highest")

#: name -> factory(learning_rate, momentum) of the optax optimizer; the dispatch and the list of legal names.
OPTIMIZERS = {
    "gd": lambda lr, momentum: optax.sgd(lr),
    "sgd": lambda lr, momentum: optax.sgd(lr),
    "momentum": lambda lr, momentum: optax.sgd(lr, momentum=momentum),
    "adam": lambda lr, momentum: optax.adam(lr),
}

#: the folding constant that derives the mini-batch key from a run's key (the sharpness probes use the key itself)
_BATCH_FOLD = 0x5EB

DIAG_KEYS = ("loss", "grad_sq", "pl_ratio", "lam_min", "lam_max", "mu", "sharpness", "param_dist", "gram_change")


@dataclasses.dataclass(frozen=True)
class GDConfig:
    """Configuration of one GD run (immutable, hashable: it keys the compile cache).

    Attributes:
        lr: learning rate eta (full-batch GD: theta <- theta - eta grad L).
        steps: number of GD steps (run exactly; the last interval may be shorter).
        record_every: diagnostics interval k (the loss is recorded at every step).  The default,
            1000, keeps the full diagnostics (a float64 Gram matrix, its eigenvalues and 20
            Hessian-vector products: about 130 GD steps of work per record on the benchmark's wide
            configuration, BENCHMARKS.md) near 10% of a run; record more often when the
            trajectory of mu or of the sharpness is what you study.
        loss: "mse" (the squared loss L of docs/statements.md) or "ce".
        gram: record Gram-matrix eigenvalues (costs N k backward passes per record).
        sharpness: record the sharpness by ``sharpness_iters`` Hessian-vector products.
        diverge_factor: a loss above diverge_factor * L_0 counts as diverged.
        optimizer: ``"gd"`` (full batch), ``"sgd"`` (needs ``batch``), ``"momentum"``, ``"adam"``
            (``OPTIMIZERS``), or a callable ``learning_rate -> optax.GradientTransformation``.
        batch: mini-batch size B (None: the full batch; ``"sgd"`` requires it, ``"gd"`` forbids it).
        momentum: the heavy-ball coefficient of ``"momentum"``.
        progress: print progress lines on stderr from inside the compiled run (single runs).
    """

    lr: float
    steps: int
    record_every: int = 1000
    loss: str = "mse"
    gram: bool = True
    sharpness: bool = True
    sharpness_iters: int = 20
    diverge_factor: float = 1e6
    optimizer: object = "gd"
    batch: int | None = None
    momentum: float = 0.9
    progress: bool = False

    def __post_init__(self):
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"learning rate must be a positive finite number, got {self.lr!r}")
        if int(self.steps) != self.steps or self.steps < 1:
            raise InputError(f"steps must be a positive integer, got {self.steps!r}")
        if int(self.record_every) != self.record_every or self.record_every < 1:
            raise InputError(f"record_every must be a positive integer, got {self.record_every!r}")
        if self.loss not in ("mse", "ce"):
            raise InputError(f"unknown loss {self.loss!r}; choose 'mse' or 'ce'")
        if isinstance(self.optimizer, str):
            if self.optimizer not in OPTIMIZERS:
                raise InputError(f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)} "
                                 "or pass a callable learning_rate -> optax.GradientTransformation")
        elif not callable(self.optimizer):
            raise InputError(f"optimizer must be a name or a callable, got {self.optimizer!r}")
        if self.batch is not None and (isinstance(self.batch, bool) or int(self.batch) != self.batch
                                       or self.batch < 1):
            raise InputError(f"batch must be a positive integer (or None for the full batch), got {self.batch!r}")
        if self.optimizer == "sgd" and self.batch is None:
            raise InputError("optimizer 'sgd' needs a mini-batch size (batch = B); full-batch GD is 'gd'")
        if self.optimizer == "gd" and self.batch is not None:
            raise InputError("optimizer 'gd' is full-batch GD; use optimizer 'sgd' with batch = B for mini-batches")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise InputError(f"momentum must be in [0, 1), got {self.momentum!r}")

    @property
    def full_batch_gd(self) -> bool:
        """True when the step taken is theta <- theta - eta grad L (the GD of T5 and T6: they apply)."""
        return self.optimizer == "gd"

    def make_optimizer(self, lr) -> optax.GradientTransformation:
        """The optax optimizer of this configuration at learning rate ``lr`` (a float or a traced scalar)."""
        return make_optimizer(self.optimizer, lr, momentum=self.momentum)

    @property
    def n_chunks(self) -> int:
        """Number of full recording intervals."""
        return int(self.steps) // int(self.record_every)

    @property
    def tail(self) -> int:
        """Steps after the last full interval (0 when record_every divides steps)."""
        return int(self.steps) % int(self.record_every)

    @property
    def total_steps(self) -> int:
        return int(self.steps)

    @property
    def record_steps(self) -> np.ndarray:
        """The steps at which diagnostics are recorded: 0, k, 2k, ..., and the last step."""
        full = np.arange(self.n_chunks + 1) * int(self.record_every)
        return np.append(full, int(self.steps)) if self.tail else full


@dataclasses.dataclass
class Trajectory:
    """A measured GD trajectory (NumPy arrays; a leading batch axis after ``train_batch``).

    Attributes:
        loss: (..., steps + 1) loss at theta_0 .. theta_steps (NaN after divergence).
        record_steps: (n_rec,) the steps at which diagnostics were recorded (0, k, 2k, ..., steps).
        diag: dict of (..., n_rec) arrays, keys ``DIAG_KEYS`` (absent keys were not recorded).
        diverged_step: (...) first step whose loss was non-finite or > diverge_factor L_0; -1 if none.
        lr: (...) the learning rate of each run.
        params: final parameters (pytree, batched like the rest).
        n: number of data points N.
    """

    loss: np.ndarray
    record_steps: np.ndarray
    diag: dict
    diverged_step: np.ndarray
    lr: np.ndarray
    params: object
    n: int

    @property
    def diverged(self) -> np.ndarray:
        return np.asarray(self.diverged_step) >= 0

    def __getitem__(self, idx) -> "Trajectory":
        """Select runs of a batched trajectory: ``traj[3]``, ``traj[mask]``."""
        return Trajectory(
            loss=self.loss[idx],
            record_steps=self.record_steps,
            diag={k: v[idx] for k, v in self.diag.items()},
            diverged_step=np.asarray(self.diverged_step)[idx],
            lr=np.asarray(self.lr)[idx],
            params=jax.tree_util.tree_map(lambda a: a[idx], self.params),
            n=self.n,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat dict of arrays for ``np.savez`` (parameters excluded)."""
        out = {"loss": self.loss, "record_steps": self.record_steps, "diverged_step": self.diverged_step,
               "lr": self.lr}
        out.update({f"diag_{k}": v for k, v in self.diag.items()})
        return out


def make_optimizer(optimizer, lr, *, momentum: float = 0.9) -> optax.GradientTransformation:
    """The optax optimizer named ``optimizer`` (``OPTIMIZERS``) or built by a callable, at learning rate lr.

    Examples:
        >>> import optax
        >>> isinstance(make_optimizer("adam", 1e-3), optax.GradientTransformation)
        True
    """
    if callable(optimizer):
        return optimizer(lr)
    if optimizer not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer](lr, momentum)


def batch_indices(key, t, n: int, batch: int) -> jax.Array:
    """The B indices of the mini-batch of step t: epoch e = t // (N // B) permutes the N points with
    ``fold_in(key, e)`` and step t takes the slice ``(t mod (N // B)) * B`` .. ``+ B`` of it.

    Jittable (t may be traced); the same key gives the same batches.

    Examples:
        >>> import jax, numpy as np
        >>> key = jax.random.PRNGKey(0)
        >>> epoch = np.concatenate([np.asarray(batch_indices(key, t, 6, 2)) for t in range(3)])
        >>> sorted(epoch.tolist())  # one epoch visits every point once
        [0, 1, 2, 3, 4, 5]
    """
    per_epoch = n // batch
    t = jnp.asarray(t)
    perm = jax.random.permutation(jax.random.fold_in(key, t // per_epoch), n)
    return jax.lax.dynamic_slice(perm, ((t % per_epoch) * batch,), (batch,))


@uses_float64
def init_params(model: Model, *, key, batch: int | None = None):
    """Initial parameters; with ``batch`` a batch of independent inits from split keys."""
    if batch is None:
        return model.init(key)
    return _batched_init(model)(jax.random.split(key, batch))


@functools.lru_cache(maxsize=64)
def _batched_init(model: Model):
    # one program per model and batch size (the eager vmap built one per random draw and slice)
    return jax.jit(jax.vmap(model.init))


def _sq_norm(tree) -> jax.Array:
    return sum(jnp.sum(x * x) for x in jax.tree_util.tree_leaves(tree))


def _build_run(model: Model, cfg: GDConfig):
    loss_fn = make_loss(model, cfg.loss)
    value_and_grad = jax.value_and_grad(loss_fn)
    k = int(cfg.record_every)

    def run(params0, X, Y, key, lr):
        n = X.shape[0]
        opt = cfg.make_optimizer(lr)
        bkey = jax.random.fold_in(key, _BATCH_FOLD)
        opt_state = opt.init(params0)
        flat0, _ = ravel_pytree(params0)
        L0 = loss_fn(params0, X, Y)
        with _HIGHEST:
            G0 = gram(model, params0, X) if cfg.gram else None

        def diag(p, dkey):
            L, g = value_and_grad(p, X, Y)
            gsq = _sq_norm(g)
            out = {"loss": L, "grad_sq": gsq, "pl_ratio": gsq / L,
                   "param_dist": jnp.linalg.norm(ravel_pytree(p)[0] - flat0)}
            with _HIGHEST:  # verdict-deciding eigenvalues: no TF32/bf16 passes on accelerators
                if cfg.gram:
                    G = gram(model, p, X)
                    # one batched call, the program's only LAPACK call (the records run one after another),
                    # so it cannot deadlock (sims/linalg.py), and it partitions along the sweep's batch
                    # where sims.linalg's one-matrix loop would all-gather (tests/test_sharding.py)
                    ev = jnp.linalg.eigvalsh(G)  # lapack-batch-ok
                    out.update(lam_min=ev[0], lam_max=ev[-1], mu=2.0 * ev[0] / n, gram_change=relative_change(G, G0))
                if cfg.sharpness:
                    out["sharpness"] = sharpness(loss_fn, p, X, Y, key=dkey, iters=cfg.sharpness_iters)
            return out

        def loss_and_step_grad(p, t):
            """The full-set loss (recorded, divergence test) and the gradient the optimizer steps with."""
            if cfg.batch is None:
                return value_and_grad(p, X, Y)
            idx = batch_indices(bkey, t, n, int(cfg.batch))
            return loss_fn(p, X, Y), jax.grad(loss_fn)(p, X[idx], Y[idx])

        def gd_step(carry, t):
            p, s, div = carry
            L, g = loss_and_step_grad(p, t)
            p, s, div, recorded = guarded_step(opt, p, s, g, L, t, div, cfg.diverge_factor * L0)
            return (p, s, div), recorded

        def chunk(carry, t0):
            p, s, div, ck = carry
            ck, dkey = jax.random.split(ck)
            d = diag(p, dkey)
            if cfg.progress:
                jax.debug.callback(_progress_line, t0, d["loss"], cfg.steps, cfg.record_every)
            (p, s, div), losses = jax.lax.scan(gd_step, (p, s, div), t0 + jnp.arange(k, dtype=jnp.int32))
            return (p, s, div, ck), (d, losses)

        div0 = jnp.asarray(-1, dtype=jnp.int32)
        t0s = (jnp.arange(cfg.n_chunks) * k).astype(jnp.int32)
        (p, s, div, ck), (diags, losses) = jax.lax.scan(chunk, (params0, opt_state, div0, key), t0s)
        losses = losses.reshape(-1)
        extra = []
        if cfg.tail:  # the last, shorter interval: steps are run exactly, never rounded up
            extra.append(diag(p, jax.random.fold_in(ck, 2)))
            t_tail = cfg.n_chunks * k + jnp.arange(cfg.tail, dtype=jnp.int32)
            (p, s, div), tail_losses = jax.lax.scan(gd_step, (p, s, div), t_tail)
            losses = jnp.concatenate([losses, tail_losses])
        extra.append(diag(p, jax.random.fold_in(ck, 1)))
        d_last = extra[-1]
        diags = {name: jnp.concatenate([v] + [e[name][None] for e in extra]) for name, v in diags.items()}
        last = jnp.where(div >= 0, jnp.nan, d_last["loss"])
        losses = jnp.concatenate([losses, last[None]])
        return {"loss": losses, "diag": diags, "diverged_step": div, "params": p}

    return run


def _progress_line(t0, loss, steps: int, every: int) -> None:
    """Progress from inside the compiled run: about ten INFO lines per run (the CLI shows them on stderr)."""
    t0 = int(t0)
    n_chunks = max(1, steps // every)
    if (t0 // every) % max(1, n_chunks // 10) == 0:
        _LOG.info(f"[train] step {t0}/{steps}: loss {float(loss):.4e}")


def _compiled(model: Model, cfg: GDConfig, batched: bool):
    """The jitted run for (model, cfg), shared by every learning rate (eta is a traced argument)."""
    return _compiled_cached(model, dataclasses.replace(cfg, lr=1.0), batched)


@functools.lru_cache(maxsize=64)
def _compiled_cached(model: Model, cfg: GDConfig, batched: bool):
    run = _build_run(model, cfg)
    if batched:
        run = jax.vmap(run)
    return jax.jit(run)


def _as_array(a, name: str) -> jax.Array:
    # checked on the host and placed with device_put: jnp.asarray of a NumPy array and an eager jnp.isfinite
    # would each build a program per shape (three per array and N)
    host = np.asarray(a)
    if not np.all(np.isfinite(host)):
        raise InputError(f"{name} contains NaN or inf")
    return a if isinstance(a, jax.Array) else jax.device_put(host)


def _to_traj(out, cfg: GDConfig, lr, n: int) -> Trajectory:
    out = jax.device_get(out)
    return Trajectory(
        loss=np.asarray(out["loss"]),
        record_steps=cfg.record_steps,
        diag={k: np.asarray(v) for k, v in out["diag"].items()},
        diverged_step=np.asarray(out["diverged_step"]),
        lr=np.asarray(lr),
        params=out["params"],
        n=n,
    )


@uses_float64

def guarded_step(opt, p, s, g, L, t, div, limit):
    """One optimizer step that freezes once the run diverges (traceable; the step of every GD loop in hmin).

    ``div`` is the step at which the loss first became non-finite or exceeded ``limit`` (-1 while it has
    not); from then on parameters and optimizer state stay as they were.

    Returns:
        (params, state, div, recorded loss): the loss ``L`` of this step, or NaN once diverged.
    """
    bad = ~jnp.isfinite(L) | (L > limit)
    div = jnp.where((div < 0) & bad, t, div)
    stop = div >= 0
    updates, s_new = opt.update(g, s, p)
    p_new = optax.apply_updates(p, updates)
    keep = lambda old, new: jnp.where(stop, old, new)  # noqa: E731
    return (jax.tree_util.tree_map(keep, p, p_new), jax.tree_util.tree_map(keep, s, s_new), div,
            jnp.where(stop, jnp.nan, L))

def train(model: Model, X, Y, cfg: GDConfig, *, key, params0=None) -> Trajectory:
    """One run of ``cfg.optimizer`` (full-batch GD by default).

    Args:
        model: the model.
        X: (N, d) inputs; Y: (N, k) targets.
        cfg: the configuration (optimizer, mini-batch size, steps, diagnostics).
        key: PRNG key: split into the initialisation key (used when ``params0`` is None) and the run
            key (sharpness probes; the mini-batch key is ``fold_in(run key, 0x5EB)``).
        params0: initial parameters (default ``model.init(key)``).

    Returns:
        A :class:`Trajectory`.
    """
    X = _as_array(X, "X")
    Y = _as_array(Y, "Y")
    _check_shapes(model, X, Y, batched=False)
    _check_batch(cfg, X.shape[0])
    kinit, krun = jax.random.split(key)
    if params0 is None:
        params0 = model.init(kinit)
    out = _compiled(model, cfg, False)(params0, X, Y, krun, jnp.asarray(cfg.lr, X.dtype))
    return _to_traj(out, cfg, cfg.lr, X.shape[0])


@uses_float64
def train_batch(model: Model, X, Y, cfg: GDConfig, *, key, params0=None, lrs=None, mesh=None) -> Trajectory:
    """B independent GD runs in one compiled, vmapped program, split across all devices.

    With more than one device (GPUs, or simulated CPU devices) the B runs are split across a
    1-D mesh (``sims.sharding``): the batch is padded to a multiple of the device count with
    copies of its last run, each device runs its share (no communication: the runs are
    independent), and the padding is stripped from the result.  User code does not change.

    Args:
        X: (B, N, d) inputs (one data set per run); Y: (B, N, k).
        params0: batched initial parameters (leading axis B); default: B independent inits.
        lrs: optional (B,) learning rates (default ``cfg.lr`` for all).
        mesh: the ``sims.sharding.batch_mesh`` to split the runs across; default: every device
            (``sims.sharding.default_devices``: this process's only inside ``process_local``)
            when there is more than one, else none.
    """
    X = _as_array(X, "X")
    Y = _as_array(Y, "Y")
    _check_shapes(model, X, Y, batched=True)
    _check_batch(cfg, X.shape[1])
    B = X.shape[0]
    kinit, krun = jax.random.split(key)
    if params0 is None:
        params0 = init_params(model, key=kinit, batch=B)
    lr = jax.device_put(np.full((B,), cfg.lr, X.dtype)) if lrs is None else jnp.asarray(lrs, X.dtype)
    if lr.shape != (B,):
        raise InputError(f"lrs must have shape ({B},), got {lr.shape}")
    args = (params0, X, Y, jax.random.split(krun, B), lr)
    if mesh is None and len(default_devices()) > 1:
        mesh = batch_mesh()
    if mesh is not None:
        args, _ = pad_leading(args, mesh.size)
        args = place(args, mesh)
    out = fetch(_compiled(model, cfg, True)(*args), B)  # host NumPy, padding stripped
    return _to_traj(out, cfg, np.asarray(lr), X.shape[1])


def _check_batch(cfg: GDConfig, n: int) -> None:
    if cfg.batch is not None and cfg.batch > n:
        raise InputError(f"mini-batch size {cfg.batch} is larger than the number of points N = {n}")


def _check_shapes(model: Model, X, Y, *, batched: bool) -> None:
    nd = 3 if batched else 2
    what = "(B, N, d)" if batched else "(N, d)"
    if X.ndim != nd:
        raise InputError(f"X must have shape {what}, got {X.shape}")
    if Y.ndim != nd:
        raise InputError(f"Y must have shape {what[:-2]}k), got {Y.shape}")
    if X.shape[-1] != model.d:
        raise InputError(f"X has dimension d = {X.shape[-1]} but the model expects d = {model.d}")
    if Y.shape[-1] != model.k:
        raise InputError(f"Y has {Y.shape[-1]} outputs but the model has k = {model.k}")
    if X.shape[:-1] != Y.shape[:-1]:
        raise InputError(f"X and Y disagree on the number of points: X {X.shape}, Y {Y.shape}")
    if X.shape[-2] < 2:
        raise InputError(f"need at least N = 2 points, got N = {X.shape[-2]}")
