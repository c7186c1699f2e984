"""Shared pieces of the T3 / T4 / T5 / T6 / C3 checks: small models, planted-pair data, per-point
diagnostics (r, G, ||grad L||^2), the mixed x-theta derivative, a GD scan with the segment
sharpness at every step, and the width sweep that T6 and C3 both read.

Everything here measures; nothing here judges.  Conventions (docs/statements.md): h_min is the minimum
pairwise Euclidean distance (never q_X = h_min / 2); L = ||f(X) - Y||^2 / (2N); G = J J^T in float64;
mu = (2/N) lambda_min(G).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hmin.sims import data, gd, linalg
from hmin.sims.diagnostics import gram, make_loss, one_blas_thread, sharpness
from hmin.sims.errors import InputError
from hmin.sims.models import Model, make_model
from hmin.sims.rates import linearise, steps_to_eps
from hmin.sims.registry import stream_seed
from hmin.sims.regime import regime_indices
from hmin.sims.store import as_float

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = [
    "UNIT_ROUNDOFF",
    "as_float",
    "small_models",
    "jitted_init",
    "planted_pair_family",
    "point_diagnostics",
    "mixed_opnorm",
    "segment_lipschitz",
    "descent_scan",
    "segment_hessian_bounds",
    "dense_hessians",
    "SweepConfig",
    "SWEEP_PRESETS",
    "width_sweep",
    "SWEEP_STREAM_ID",
    "SharedMeasurement",
    "WIDTH_SWEEP",
    "shared_width_sweep",
]

#: unit round-off of float64 (2^-52): the scale of every "to round-off" tolerance below.
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps)


def as_floats(xs) -> np.ndarray:
    """A float64 array from a (possibly JSON round-tripped) list."""
    return np.array([as_float(x) for x in np.ravel(np.asarray(xs, dtype=object))], dtype=np.float64).reshape(
        np.shape(xs))


# ----------------------------------------------------------------------------------------------
# models and data
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def jitted_init(model: Model):
    """``jax.jit(model.init)``, once per model (models compare by their configuration): every seed and
    every rebuilt model of the same configuration reuses the program instead of tracing it again."""
    return jax.jit(model.init)


def small_models(d: int, *, activation: str = "tanh") -> dict[str, Model]:
    """One small analytic model per architecture of docs/statements.md (input dimension d, one output).

    shallow (width 64), mlp (depth 2, width 32), residual (depth 2, width 16, tau_eps with eps = 1),
    transformer (d split into 2 tokens, d_model 8, 2 heads, GELU).  d must be even (the transformer
    splits x into 2 tokens).
    """
    if d % 2:
        raise InputError(f"small_models needs an even d (the transformer uses 2 tokens), got d = {d}")
    return {
        "shallow": make_model("shallow", d=d, width=64, activation=activation),
        "mlp": make_model("mlp", d=d, width=32, depth=2, activation=activation),
        "residual": make_model("residual", d=d, width=16, depth=2, activation=activation),
        "transformer": make_model("transformer", d=d, tokens=2, d_model=8, heads=2, activation="gelu"),
    }


class PairFamily(NamedTuple):
    X: np.ndarray
    pair: tuple
    h_base: float
    sets: list
    base: object


def planted_pair_family(n: int, d: int, eps_values, *, key, max_tries: int = 50):
    """Planted-pair sets sharing one base set: uniform on S^{d-1}, point 0 and its nearest neighbour
    moved to distance eps for each eps (so h_min = eps exactly).

    The base set is redrawn (keys ``fold_in(key, attempt)``) until h_min(base) > 2 max(eps), which
    ``data.planted_pair`` needs for the planted pair to be the unique closest pair.  The redraw
    depends only on the geometry, never on a training outcome.

    Returns:
        PairFamily(X of shape (len(eps), n, d), pair (i, j), h_base, the PointSets, the base PointSet).
    """
    eps_values = [float(e) for e in eps_values]
    for attempt in range(max_tries):
        base = data.uniform_sphere(n, d, key=jax.random.fold_in(key, attempt))
        try:
            sets = [data.planted_pair(base, e) for e in eps_values]
        except InputError:
            continue
        X = np.stack([s.X for s in sets])
        return PairFamily(X, tuple(sets[0].info["pair"]), float(sets[0].info["h_min_base"]), sets, base)
    raise InputError(f"no base set of N = {n} points on S^{d - 1} with h_min > 2 * {max(eps_values):g} "
                     f"in {max_tries} draws; use smaller eps")


# Host-side parameter glue: eager jnp calls and ``ravel_pytree`` outside jit each build an XLA program per
# shape (a reshape per leaf, a concatenate, a broadcast); these give the same numbers in NumPy, compiling nothing.


def batch_params(params, b: int):
    """The same parameters repeated along a new leading axis of size b (a read-only NumPy view per leaf)."""
    return jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (b,) + np.shape(a)), params)


def flat_params(params, dtype=None) -> np.ndarray:
    """theta as one NumPy vector, in the order of ``jax.flatten_util.ravel_pytree`` (cast to ``dtype`` if given)."""
    return np.concatenate([np.ravel(np.asarray(x, dtype=dtype)) for x in jax.tree_util.tree_leaves(params)])


def unflat_params(theta: np.ndarray, like):
    """The inverse of `flat_params` for parameters shaped like ``like``, as device arrays."""
    leaves, treedef = jax.tree_util.tree_flatten(like)
    out, start = [], 0
    for x in leaves:
        out.append(jax.device_put(np.asarray(theta[start:start + x.size]).reshape(x.shape)))
        start += x.size
    return jax.tree_util.tree_unflatten(treedef, out)


# ----------------------------------------------------------------------------------------------
# diagnostics at given parameters
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _point_fn(model: Model):
    loss_fn = make_loss(model, "mse")

    def one(params, X, Y):
        r = (model.apply(params, X) - Y).reshape(-1)
        G = gram(model, params, X)
        L, g = jax.value_and_grad(loss_fn)(params, X, Y)
        g2 = sum(jnp.sum(x * x) for x in jax.tree_util.tree_leaves(g))
        return r, G, g2, L

    return jax.jit(jax.vmap(one))


def point_diagnostics(model: Model, params_batched, X, Y) -> dict[str, np.ndarray]:
    """Residual r, Gram matrix G (float64), ||grad L||^2 (autodiff) and L at a batch of points.

    Eigenvalues of G are computed here in float64 NumPy (``numpy.linalg.eigvalsh``).
    """
    r, G, g2, L = _point_fn(model)(params_batched, jnp.asarray(X), jnp.asarray(Y))
    G = np.asarray(G, dtype=np.float64)
    ev = np.linalg.eigvalsh(0.5 * (G + np.swapaxes(G, -1, -2)))
    return {"r": np.asarray(r, np.float64), "G": G, "grad_sq": np.asarray(g2, np.float64),
            "loss": np.asarray(L, np.float64), "eigvals": ev}


# ----------------------------------------------------------------------------------------------
# the mixed derivative d/dx grad_theta f(x; theta)  (T4's L_x)
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _mixed_fn(model: Model):
    def grad_theta(flat, unravel, x):
        return jax.grad(lambda th: model.apply_one(unravel(th), x)[0])(flat)

    def mixed(params, xs):
        flat, unravel = ravel_pytree(params)
        D = jax.vmap(lambda x: jax.jacfwd(lambda z: grad_theta(flat, unravel, z))(x))(xs)  # (S, P, d)
        return D

    return jax.jit(mixed)


MIXED_BATCH = 8


def mixed_opnorm(model: Model, params, xs) -> np.ndarray:
    """||D_x grad_theta f(x; theta)||_op (largest singular value of the P x d matrix) at each x in xs.

    ``jax.jacfwd`` over x of the Jacobian row grad_theta f(x), singular values in float64 NumPy.
    The points are evaluated in batches of ``MIXED_BATCH`` (the last one padded with copies of its
    last point), so every call for a model reuses one compiled program.
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=np.float64))
    m = xs.shape[0]
    pad = (-m) % MIXED_BATCH
    xp = np.concatenate([xs, np.repeat(xs[-1:], pad, axis=0)]) if pad else xs
    fn = _mixed_fn(model)
    D = np.concatenate([np.asarray(fn(params, jnp.asarray(xp[k:k + MIXED_BATCH])), dtype=np.float64)
                        for k in range(0, xp.shape[0], MIXED_BATCH)])[:m]
    return np.linalg.svd(D, compute_uv=False)[:, 0]


def segment_lipschitz(model: Model, params, xi, xj, *, n_points: int) -> float:
    """Sampled L_x on [x_i, x_j]: the max of ``mixed_opnorm`` at n_points evenly spaced points
    (endpoints included).  A lower estimate of the supremum that T4's L_x is."""
    s = np.linspace(0.0, 1.0, n_points)[:, None]
    xs = np.asarray(xi)[None, :] + s * (np.asarray(xj) - np.asarray(xi))[None, :]
    return float(np.max(mixed_opnorm(model, params, xs)))


# ----------------------------------------------------------------------------------------------
# T5: every GD step with the loss on both ends, the gradient and the segment sharpness
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _descent_fn(model: Model, steps: int, n_seg: int, iters: int, diverge_factor: float):
    loss_fn = make_loss(model, "mse")
    grad = jax.grad(loss_fn)
    s_grid = jnp.linspace(0.0, 1.0, n_seg)

    def run(params0, X, Y, lr, key):
        flat0, unravel = ravel_pytree(params0)
        n = X.shape[0]
        L0 = loss_fn(params0, X, Y)

        def lossf(th):
            return loss_fn(unravel(th), X, Y)

        def step(carry, t):
            flat, stop = carry
            L = lossf(flat)
            g = ravel_pytree(grad(unravel(flat), X, Y))[0]
            new = flat - lr * g
            Lnew = lossf(new)
            keys = jax.random.split(jax.random.fold_in(key, t), n_seg)

            def sharp_at(s, k):
                th = flat + s * (new - flat)
                return jnp.abs(sharpness(loss_fn, unravel(th), X, Y, key=k, iters=iters))

            sharp = jax.vmap(sharp_at)(s_grid, keys)
            beta = jnp.max(sharp)
            ev = linalg.eigvalsh(gram(model, unravel(flat), X))
            bad = ~jnp.isfinite(Lnew) | (Lnew > diverge_factor * L0)
            stop_next = stop | bad
            out = {"loss": L, "loss_next": Lnew, "grad_sq": jnp.sum(g * g), "beta": beta,
                   "mu": 2.0 * ev[0] / n, "lam_max": ev[-1], "stopped": stop,
                   "beta_argmax": jnp.argmax(sharp), "theta": flat, "theta_next": new}
            flat = jnp.where(stop_next, flat, new)
            return (flat, stop_next), out

        (_, _), out = jax.lax.scan(step, (flat0, jnp.asarray(False)), jnp.arange(steps))
        return out

    return jax.jit(jax.vmap(run))


def descent_scan(model: Model, X, Y, lrs, *, steps: int, params0, key, n_seg: int = 9, iters: int = 40,
                 diverge_factor: float = 1e6) -> dict[str, np.ndarray]:
    """K GD steps per run (batched over lrs); at each step k: L(theta_k), L(theta_{k+1}),
    ||grad L(theta_k)||^2, beta_k, mu_k = (2/N) lambda_min(G(theta_k)), lambda_max(G(theta_k)).

    beta_k = max over ``n_seg`` evenly spaced points of [theta_k, theta_{k+1}] of |sharpness| (power
    iteration with ``iters`` Hessian-vector products, ``sims.diagnostics.sharpness``): a sampled
    estimate of sup ||Hess L|| on the segment, from below (a Rayleigh quotient is <= the norm, and a
    sample is <= the sup); ``beta_argmax`` is the grid index where it was attained, and ``theta`` /
    ``theta_next`` are the flat parameters at both ends of the step (for a dense refinement).  A run that diverges (loss non-finite or above
    diverge_factor L_0) is frozen there; its later steps are flagged ``stopped``.

    Args:
        X: (B, N, d); Y: (B, N, k); lrs: (B,); params0: batched parameters; key: PRNG key.
    """
    B = X.shape[0]
    fn = _descent_fn(model, int(steps), int(n_seg), int(iters), float(diverge_factor))
    out = fn(params0, jnp.asarray(X), jnp.asarray(Y), jnp.asarray(lrs, jnp.float64), jax.random.split(key, B))
    return {k: np.asarray(v) for k, v in out.items()}


_HESS_FNS: dict = {}


def _hessian_fn(model: Model, template):
    """Jitted dense float64 Hessians of the squared loss at a batch of flat parameter vectors (one per model)."""
    leaves, treedef = jax.tree_util.tree_flatten(template)
    key = (model, treedef, tuple(np.shape(x) for x in leaves))
    if key not in _HESS_FNS:
        loss_fn = make_loss(model, "mse")
        _, unravel = ravel_pytree(template)
        _HESS_FNS[key] = jax.jit(jax.vmap(jax.hessian(lambda th, X, Y: loss_fn(unravel(th), X, Y)),
                                          in_axes=(0, None, None)))
    return _HESS_FNS[key]


def dense_hessians(model: Model, params_template, X, Y, thetas) -> np.ndarray:
    """Dense float64 Hessians of the squared loss at flat parameter vectors ``thetas`` (S, P), symmetrised."""
    H = np.asarray(_hessian_fn(model, params_template)(jnp.asarray(thetas), jnp.asarray(X), jnp.asarray(Y)),
                   dtype=np.float64)
    return 0.5 * (H + np.swapaxes(H, -1, -2))


def segment_hessian_bounds(model: Model, params_template, X, Y, theta, theta_next, *,
                           n_points: int) -> dict[str, float]:
    """A lower and an upper estimate of sup ||Hess L|| on the segment [theta, theta_next], dense float64.

    The dense Hessian H_i is formed at ``n_points`` evenly spaced points s_i of the segment (endpoints
    included) and every ||H_i|| and ||H_(i+1) - H_i|| is computed exactly (``numpy.linalg.eigvalsh``,
    float64, one BLAS thread).  Then

    * lower = max_i ||H_i|| (values of the function whose sup is sought: a lower estimate);
    * upper = (max_i ||H_i|| + max_i ||H_(i+1) - H_i|| / 2) (1 + 1e-12): by Weyl,
      ||H(s)|| <= ||H_i|| + ||H(s) - H_i|| for the nearest grid point (|s - s_i| <= half a grid step), and
      the guard assumes H changes over half a grid step by at most half its largest change over one grid
      step (smoothness at the grid scale; exact if H is linear in s between grid points).

    Returns:
        {"lower", "upper", "variation"}: variation = the guard max_i ||H_(i+1) - H_i|| / 2.
    """
    s = np.linspace(0.0, 1.0, int(n_points))
    t0 = np.asarray(theta, np.float64)
    th = t0[None, :] + s[:, None] * (np.asarray(theta_next, np.float64) - t0)[None, :]
    H = dense_hessians(model, params_template, X, Y, th)
    with one_blas_thread():
        ev = np.linalg.eigvalsh(H)
        dev = np.linalg.eigvalsh(np.diff(H, axis=0)) if len(s) > 1 else np.zeros((1, 1))
    norms = np.maximum(np.abs(ev[:, 0]), np.abs(ev[:, -1]))
    dnorms = np.maximum(np.abs(dev[:, 0]), np.abs(dev[:, -1]))
    variation = float(np.max(dnorms)) / 2
    top = float(np.max(norms))
    return {"lower": top, "upper": (top + variation) * (1 + 1e-12), "variation": variation}


# ----------------------------------------------------------------------------------------------
# the width sweep (T6 and C3)
# ----------------------------------------------------------------------------------------------

LABEL_MODES = ("random", "smooth", "equal")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """The planted-pair width sweep that T6 and C3 both read (immutable; it keys an in-process cache).

    Attributes:
        n, d: points and dimension (base set uniform on S^{d-1}).
        widths: widths m of the shallow tanh net (NTK scaling, so eta is comparable across widths).
        eps_values: planted distances h_min (must be < h_min(base) / 2).
        seeds: one base set, one initialisation, one label draw per seed.
        label_modes: T6's three modes (docs/statements.md).
        steps, record_every: GD steps (the censoring time R) and the Gram/param recording interval.
        loss_eps: steps-to-eps threshold L_t <= loss_eps L_0.
        lr_scale: eta = lr_scale N / lambda_max(G_0) (max over the eps sets of one seed); the
            linearised dynamics are stable for lr_scale < 2.
        curve_points: how many points of each loss curve (measured and predicted) are kept.
        crossing_levels: the loss levels l (L_t <= l L_0) at which the first crossing is recorded, measured and
            predicted (`crossing_time`, interpolated between steps; the whole predicted curve is judged through
            them; the last is ``loss_eps``).
    """

    n: int = 8
    d: int = 16
    widths: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
    eps_values: tuple[float, ...] = tuple(float(x) for x in np.logspace(-2.5, -0.5, 5))
    seeds: tuple[int, ...] = (0, 1)
    label_modes: tuple[str, ...] = LABEL_MODES
    steps: int = 4000
    record_every: int = 200
    loss_eps: float = 1e-3
    lr_scale: float = 1.0
    curve_points: int = 200
    crossing_levels: tuple[float, ...] = tuple(float(10.0 ** (-k / 2)) for k in range(1, 7))


SWEEP_PRESETS = {
    "quick": SweepConfig(widths=(16, 64, 256), eps_values=tuple(float(x) for x in np.logspace(-2.5, -0.5, 3)),
                         seeds=(0,), steps=3000, record_every=300),
    "default": SweepConfig(),
    "full": SweepConfig(widths=(16, 32, 64, 128, 256, 512, 1024, 2048),
                        eps_values=tuple(float(x) for x in np.logspace(-3, -0.5, 6)), seeds=tuple(range(4)),
                        steps=10000, record_every=500),
}


def crossing_time(loss, level: float) -> float:
    """The first crossing of L_t <= level L_0, log-linearly interpolated between the two steps around it (the
    same function of any sequence, measured or predicted, so an exact prediction gives the same number and a
    ratio of two crossings is not limited by the integer step grid); ``inf`` if never crossed.

    Examples:
        >>> crossing_time(np.exp(-0.5 * np.arange(10)), np.exp(-1.25))  # a pure exponential: exact
        2.5
        >>> crossing_time([1.0, 0.5], 0.1)
        inf
    """
    loss = np.asarray(loss, dtype=np.float64)
    target = level * loss[0]
    hit = np.nonzero(loss <= target)[0]
    if not hit.size:
        return float("inf")
    t = int(hit[0])
    if t == 0:
        return 0.0
    a, b = np.log(loss[t - 1]), np.log(max(loss[t], 1e-300))
    return float(t - 1 + (a - np.log(target)) / (a - b)) if a > b else float(t)


def _curve_error(meas: np.ndarray, pred: np.ndarray) -> float:
    """max_t |L_t - L_t^lin| / L_0 over the run (NaN measured losses after a divergence -> inf)."""
    if not np.all(np.isfinite(meas)):
        return float("inf")
    return float(np.max(np.abs(meas - pred)) / meas[0])


def _pred_crossing(pred_curve: np.ndarray, lin, level: float) -> float:
    """The predicted crossing: `crossing_time` of the predicted curve on the run's steps, or (beyond them) the
    first integer step of the fixed-Gram prediction."""
    t = crossing_time(pred_curve, level)
    return t if np.isfinite(t) else float(lin.steps_to_eps(level))


# 64, not 4: `verify --seeds 0-4` runs T6 on every seed before C3, and C3 must find each seed's sweep (~1 MB each)
@functools.lru_cache(maxsize=64)
def _width_sweep_cached(cfg: SweepConfig, stream: int) -> dict:
    return _width_sweep(cfg, stream)


def width_sweep(cfg: SweepConfig, *, stream: int) -> dict:
    """Run (or fetch from the in-process cache) the planted-pair width sweep.

    ``stream`` is the integer seed of the random stream (a ``CheckContext.stream``); every key of the
    sweep is derived from it by ``fold_in`` (data, labels, initialisation per (seed, width), GD run),
    so two calls with the same (cfg, stream) return the same measurement, served from the cache.

    For every width, seed, label mode and eps: GD on the shallow tanh net from one initialisation
    per (width, seed) shared by all modes and eps; measured: the loss curve, steps to
    ``loss_eps * L_0`` (inf = not reached within ``steps``: censored), max_t ||G_t - G_0||_F/||G_0||_F,
    ||theta_T - theta_0|| and ||theta_0||, divergence; predicted (T6, ``sims.rates.linearise``
    with G at initialisation): the loss curve, the steps to eps and the first crossing of each of
    ``crossing_levels`` (measured and predicted); decided BEFORE GD runs (``sims.regime.regime_indices``): the
    regime index D of every run with its predicted movement and Gram drift, r_0, eig(G_0) and U^T r_0.

    Returns:
        dict with "config", "runs" (one dict per run), "wall_s".
    """
    return _width_sweep_cached(cfg, int(stream))


@functools.lru_cache(maxsize=32)
def _gram_and_output(model: Model):
    """Jitted (G(theta; X_b), f(X_b; theta)) for a stack of data sets X_b (one compile per model)."""
    return jax.jit(jax.vmap(lambda p, X: (gram(model, p, X), model.apply(p, X)), in_axes=(None, 0)))


#: sub-stream indices of the width sweep (fold_in of the stream's key): data, initialisation, GD run
_K_DATA, _K_INIT, _K_RUN = 0, 1, 2


def _width_sweep(cfg: SweepConfig, stream: int) -> dict:
    t_start = time.perf_counter()
    n, d = cfg.n, cfg.d
    root = jax.random.PRNGKey(stream)
    sets = {}
    for s in cfg.seeds:
        key = jax.random.fold_in(jax.random.fold_in(root, _K_DATA), s)
        k_base, k_lab = jax.random.split(key)
        X, pair, h_base, psets, _ = planted_pair_family(n, d, cfg.eps_values, key=k_base)
        Ys = {m: np.stack([data.make_targets(p.X, m, key=k_lab, pair=pair) for p in psets]) for m in cfg.label_modes}
        sets[s] = (X, pair, h_base, Ys)
    t_idx = np.unique(np.linspace(0, cfg.steps, cfg.curve_points).astype(int))
    runs = []
    gcfg0 = gd.GDConfig(lr=1.0, steps=cfg.steps, record_every=cfg.record_every, sharpness=False)
    for width in cfg.widths:
        t0 = time.perf_counter()
        model = make_model("shallow", d=d, width=width, activation="tanh")
        Xb, Yb, P0, lrs, meta, lins = [], [], [], [], [], []
        for s in cfg.seeds:
            X, pair, h_base, Ys = sets[s]
            kinit = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(root, _K_INIT), s), width)
            p0 = jitted_init(model)(kinit)
            G0s, f0 = _gram_and_output(model)(p0, X)  # NumPy in: jnp.asarray would build a program per shape
            G0 = [np.asarray(g, np.float64) for g in G0s]
            lam_max0 = max(float(np.linalg.eigvalsh(g)[-1]) for g in G0)
            lr = cfg.lr_scale * n / lam_max0
            f0 = np.asarray(f0)
            norm0 = float(np.linalg.norm(flat_params(p0)))
            for mode in cfg.label_modes:
                for b, e in enumerate(cfg.eps_values):
                    Xb.append(X[b])
                    Yb.append(Ys[mode][b])
                    P0.append(p0)
                    lrs.append(lr)
                    lin = linearise(G0[b], f0[b] - Ys[mode][b], lr, n)
                    lins.append(lin)
                    ev = lin.eigvals
                    i, j = pair
                    r0 = (f0[b] - Ys[mode][b]).ravel()
                    meta.append({"width": int(width), "seed": int(s), "mode": mode, "eps": float(e),
                                 "h_min": float(e), "h_base": h_base, "lr": lr, "lam_min0": float(ev[0]),
                                 "lam_max0": float(ev[-1]), "theta0_norm": norm0,
                                 "pair_weight": float(0.5 * (r0[i] - r0[j]) ** 2 / np.sum(r0**2))})
        params0 = jax.tree_util.tree_map(lambda *a: np.stack(a), *P0)  # host-side glue in NumPy: no program
        R = gcfg0.total_steps
        # the a-priori regime index of every run, from the initialisation alone (before GD runs)
        regimes = regime_indices(model, params0, np.stack(Xb), np.stack(Yb), np.asarray(lrs), R,
                                 loss_eps=cfg.loss_eps)
        traj = gd.train_batch(model, np.stack(Xb), np.stack(Yb), gcfg0, key=jax.random.fold_in(jax.random.fold_in(root, _K_RUN), width),
                              params0=params0, lrs=np.asarray(lrs))
        for b, m in enumerate(meta):
            loss = traj.loss[b]
            div = bool(traj.diverged[b])
            lin = lins[b]
            pred_curve = lin.loss(np.arange(R + 1))
            meas_steps = float("inf") if div else float(steps_to_eps(loss, cfg.loss_eps))
            ri = regimes[b]
            runs.append({
                **m,
                "regime_index": ri.index,
                "regime_t_half": ri.t_half,
                "regime_t_end": ri.t_end,
                "regime_movement": ri.movement,
                "regime_movement_rel": ri.movement_rel,
                "regime_gram_drift": ri.gram_drift,
                "r0": ri.r0.tolist(),
                "eigvals0": ri.eigvals.tolist(),
                "proj0": ri.proj.tolist(),
                "crossing_levels": list(cfg.crossing_levels),
                "crossings_measured": [float("inf") if div else crossing_time(loss, lv) for lv in cfg.crossing_levels],
                "crossings_predicted": [_pred_crossing(pred_curve, lin, lv) for lv in cfg.crossing_levels],
                "steps_run": int(R),
                "diverged": div,
                "steps_to_eps_measured": meas_steps,
                "steps_to_eps_predicted": float(lin.steps_to_eps(cfg.loss_eps)),
                "final_loss_ratio": float(loss[-1] / loss[0]) if not div else float("inf"),
                "curve_error": _curve_error(loss, pred_curve),
                "gram_change_max": float(np.nanmax(traj.diag["gram_change"][b])),
                "gram_change_end": float(traj.diag["gram_change"][b][-1]),
                "param_dist_end": float(traj.diag["param_dist"][b][-1]),
                "param_dist_rel_end": float(traj.diag["param_dist"][b][-1] / m["theta0_norm"]),
                "lam_min_end": float(traj.diag["lam_min"][b][-1]),
                "curve_t": t_idx.tolist(),
                "curve_measured": (loss[t_idx] / loss[0]).tolist(),
                "curve_predicted": (pred_curve[t_idx] / pred_curve[0]).tolist(),
            })
        log(f"[width-sweep] width {width}: {len(meta)} runs x {R} steps in {time.perf_counter() - t0:.1f}s")
    return {"config": dataclasses.asdict(cfg), "runs": runs, "wall_s": time.perf_counter() - t_start}


@dataclasses.dataclass(frozen=True)
class SharedMeasurement:
    """One measurement read by several statements, named explicitly (not by borrowing one reader's id).

    A check module that reads it says so with ``MEASUREMENT = <this object>``; `readers` derives the list from
    the registry (no hand-kept list of ids).

    Attributes:
        name: the measurement's name.
        stream_key: the key of its random stream, ``stream_seed(seed, stream_key)``.  The width sweep keeps
            "T6", the key it always had, so the runs of the committed seeds stay reproducible.
    """

    name: str
    stream_key: str

    def stream(self, seed: int) -> int:
        from hmin.sims.registry import stream_seed

        return stream_seed(seed, self.stream_key)

    def readers(self, reg=None) -> list[str]:
        """The ids of the registered statements whose check module declares ``MEASUREMENT = self``."""
        import sys

        from hmin.sims.registry import builtin_registry

        reg = reg if reg is not None else builtin_registry()
        out = []
        for sid in reg:
            chk = reg[sid].check
            mod = sys.modules.get(getattr(getattr(chk, "measure", None), "__module__", ""), None)
            if mod is not None and getattr(mod, "MEASUREMENT", None) is self:
                out.append(sid)
        return out


#: The width sweep is ONE measurement read by two statements (T6 judges the linearised prediction on it,
#: C3 the movement of the weights and of the Gram matrix against width); both read the same runs
#: (served from the in-process cache), not a second, accidentally identical stream.
WIDTH_SWEEP = SharedMeasurement(name="planted-pair width sweep", stream_key="T6")
#: kept for readers of the old name (the key of the sweep's stream)
SWEEP_STREAM_ID = WIDTH_SWEEP.stream_key


def shared_width_sweep(ctx, cfg: SweepConfig) -> dict:
    """The width sweep of ``cfg`` on the stream of `WIDTH_SWEEP` at ctx.seed, shared by T6 and C3.

    Returns the sweep's dict (see `width_sweep`) as a new top-level dict (the cached one is not mutated),
    with ``"shared_measurement"``: the measurement's name and the key of its stream.
    """
    out = dict(width_sweep(cfg, stream=WIDTH_SWEEP.stream(ctx.seed)))
    out["shared_measurement"] = {"name": WIDTH_SWEEP.name, "stream_key": WIDTH_SWEEP.stream_key}
    return out
