"""The a-priori regime certificate: will the fixed-Gram (NTK-at-initialisation) prediction hold for this
run?  Decided from the initialisation alone, without running gradient descent.

The fixed-Gram prediction (T6, `sims.rates.linearise`) assumes G(theta_t) = G_0 along the whole run.
Whether that is self-consistent can be checked before the run by following the prediction's OWN path in
parameter space.  Under the linearised dynamics (L = ||r||^2 / (2N), r_{t+1} = (I - eta G_0 / N) r_t,
theta_{t+1} = theta_t - (eta / N) J_0^T r_t) the parameters move by

    dtheta(t) = -J_0^T G_0^{-1} (I - (I - eta G_0 / N)^t) r_0
              = -J_0^T U diag((1 - (1 - eta lambda_i / N)^t) / lambda_i) U^T r_0,      G_0 = U diag(lambda) U^T

(the limit eta t / N where lambda_i = 0).  Follow it up to t* = min(T_pred, R) (T_pred: the predicted steps
to L_t <= eps L_0; R: the steps the run will take), evaluate the Gram matrix at theta_0 + dtheta(t*)/2 and
at theta_0 + dtheta(t*), and re-predict the steps to eps with each of them held fixed (same r_0, eta).
The index is

    D = max_{s in {1/2, 1}} |log(T_s / T_pred)|.

D small: the Gram matrix the prediction itself walks into predicts the same run, so the fixed-Gram picture
is self-consistent (a predictor, not a proof: the real path can leave the linearised one).  D large: the
prediction undermines itself; GD on this run is expected to leave the NTK regime by about a factor e^D in
its time scale.  For a model linear in its parameters G is constant and D = 0 exactly.

Everything that decides (G, its eigen-decomposition, the coefficients, the steps) is float64 NumPy; the
Jacobians and Gram matrices are one jitted, vmapped JAX program per model over a batch of runs.

Example:
    >>> import jax, numpy as np
    >>> from hmin.sims.models import make_model
    >>> m = make_model("shallow", d=4, width=64, activation="tanh")
    >>> X = np.array(jax.random.normal(jax.random.PRNGKey(0), (6, 4))); X /= np.linalg.norm(X, axis=1, keepdims=True)
    >>> Y = np.sin(X[:, :1])
    >>> ri = regime_index(m, m.init(jax.random.PRNGKey(1)), X, Y, eta=1.0, steps=2000)
    >>> bool(ri.index >= 0), bool(np.isfinite(ri.t_pred))
    (True, True)
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from hmin.sims.precision import uses_float64
from hmin.sims.diagnostics import gram_eigh, jacobian
from hmin.sims.errors import InputError
from hmin.sims.models import Model
from hmin.sims.rates import linearise

__all__ = ["RegimeIndex", "regime_index", "regime_indices", "linearised_path_coefficients", "linearised_displacement",
           "expectation",
           "REGIME_THRESHOLD", "DEFAULT_LOSS_EPS"]

#: the threshold on D inside which T6 judges a run, fixed BEFORE any run of the rule (docs/preregistration.md):
#: one third of T6's band, log(1.15) / 3 = log(1.0477): the Gram drift the prediction walks into may move its
#: time scale by at most a third of the tolerance the band allows.
REGIME_THRESHOLD = float(np.log(1.15) / 3.0)
#: the loss level of "steps to eps" (L_t <= eps L_0) when none is given (T6's)
DEFAULT_LOSS_EPS = 1e-3


class RegimeIndex(NamedTuple):
    """The a-priori regime index of one run (all float64; see the module docstring).

    Attributes:
        index: D = max_s |log(T_s / T_pred)| (inf when a re-prediction diverges or is not reached,
            NaN when T_pred itself is not reached within ``max_steps`` or the fixed-Gram dynamics diverge,
            eta lambda_max(G_0) / N > 2: no prediction to test).
        t_pred: T_pred, steps to eps predicted with G_0 (continuous: the integer crossing refined between steps).
        t_half, t_end: the steps predicted with G fixed at theta_0 + dtheta(t*)/2 and theta_0 + dtheta(t*).
        horizon: t* = min(ceil(T_pred), steps) (whole steps).
        movement: ||dtheta(t*)|| (predicted movement of the parameters).
        movement_rel: ||dtheta(t*)|| / ||theta_0||.
        gram_drift: max_s ||G_s - G_0||_F / ||G_0||_F (predicted Gram drift).
        eigvals: eigenvalues of G_0 (ascending).
        proj: U^T r_0 (the residual in G_0's eigenbasis).
        r0: the initial residual f(X; theta_0) - Y, flattened.
    """

    index: float
    t_pred: float
    t_half: float
    t_end: float
    horizon: float
    movement: float
    movement_rel: float
    gram_drift: float
    eigvals: np.ndarray
    proj: np.ndarray
    r0: np.ndarray

    def to_dict(self) -> dict:
        """JSON-able (arrays as lists)."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in self._asdict().items()}


def linearised_path_coefficients(eigvals, eta: float, n: int, t: float) -> np.ndarray:
    """c_i = (1 - (1 - eta lambda_i / N)^t) / lambda_i, so that dtheta(t) = -J_0^T U diag(c) U^T r_0.

    Stable for small lambda_i (``expm1``/``log1p``; the limit eta t / N at lambda_i = 0).

    Examples:
        >>> c = linearised_path_coefficients(np.array([0.0, 1e-12, 2.0]), eta=1.0, n=4, t=10)
        >>> [round(float(x), 6) for x in c]  # eta t / N = 2.5 at lambda -> 0; (1 - 0.5**10) / 2 at lambda = 2
        [2.5, 2.5, 0.499512]
    """
    lam = np.asarray(eigvals, dtype=np.float64)
    x = eta * lam / n
    t = float(t)
    safe = np.where(lam > 0, lam, 1.0)
    small = np.abs(x) < 0.5
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c_small = -np.expm1(t * np.log1p(-np.where(small, x, 0.0))) / safe
        c_big = (1.0 - np.power(1.0 - x, t)) / safe
    c = np.where(small, c_small, c_big)
    return np.where(lam > 0, c, eta * t / n)


def linearised_displacement(J0, r0, eta: float, n: int, t: float) -> np.ndarray:
    """dtheta(t) = -J_0^T G_0^{-1} (I - (I - eta G_0 / N)^t) r_0, float64 (the parameters' path under the
    fixed-Gram dynamics after t steps; G_0 = J_0 J_0^T, eigenvalues clipped at 0).

    Example:
        >>> J0 = np.array([[1.0, 0.0], [0.0, 2.0]]); r0 = np.array([1.0, 1.0])
        >>> d = linearised_displacement(J0, r0, eta=0.5, n=2, t=3)
        >>> th, r = np.zeros(2), r0.copy()
        >>> for _ in range(3):  # the recursion it sums: theta -= (eta/N) J^T r; r = (I - eta G/N) r
        ...     th, r = th - 0.25 * J0.T @ r, r - 0.25 * (J0 @ J0.T) @ r
        >>> bool(np.allclose(d, th))
        True
    """
    J0 = np.asarray(J0, dtype=np.float64)
    r0 = np.asarray(r0, dtype=np.float64).reshape(-1)
    ev, U = gram_eigh(J0 @ J0.T)
    c = linearised_path_coefficients(np.maximum(ev, 0.0), eta, n, t)
    return -J0.T @ (U @ (c * (U.T @ r0)))


@functools.lru_cache(maxsize=32)
def _jac_fn(model: Model):
    """Jitted, vmapped (J(theta; X), f(X; theta), ||theta||) over a batch of (params, X)."""
    def one(params, X):
        J = jacobian(model, params, X)
        return J, model.apply(params, X), jnp.linalg.norm(ravel_pytree(params)[0])

    return jax.jit(jax.vmap(one))


@functools.lru_cache(maxsize=32)
def _gram_at_fn(model: Model, template_struct):
    """Jitted, vmapped G(theta_0 + s dtheta; X) for s in a fixed list, over a batch of runs."""
    def one(params, X, dflat, scales):
        flat0, unravel = ravel_pytree(params)

        def at(s):
            J = jacobian(model, unravel(flat0 + s * dflat), X)
            return J @ J.T

        return jax.vmap(at)(scales)

    return jax.jit(jax.vmap(one, in_axes=(0, 0, 0, None)))


def _steps(G, r0, eta, n, eps, max_steps) -> float:
    """The continuous time at which the fixed-Gram loss sum_i |1 - eta lambda_i / N|^(2t) (u_i^T r_0)^2 / (2N)
    (equal to the predicted loss at integer t) reaches eps L_0: the integer first crossing, refined by bisection
    on [T - 1, T], so that D is not quantised to whole steps when the run is short."""
    if not np.all(np.isfinite(G)):
        return float("inf")
    try:
        lin = linearise(G, r0, eta, n)
    except np.linalg.LinAlgError:
        return float("inf")
    if eta * float(lin.eigvals[-1]) / n > 2.0:  # the fixed-Gram dynamics diverge along the top direction
        return float("inf")
    T = lin.steps_to_eps(eps, max_steps)
    if not np.isfinite(T) or T <= 0:
        return float(T)
    base = np.abs(1.0 - eta * lin.eigvals / n)
    w = lin.proj**2
    target = eps * float(np.sum(w))

    def loss(t):
        with np.errstate(divide="ignore"):
            return float(np.sum(w * np.exp(2.0 * t * np.log(base))))

    lo, hi = float(T) - 1.0, float(T)
    for _ in range(48):
        mid = 0.5 * (lo + hi)
        if loss(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


@uses_float64
def regime_indices(model: Model, params0, X, Y, etas, steps: int, *, loss_eps: float = DEFAULT_LOSS_EPS,
                   max_steps: int = 10**12) -> list[RegimeIndex]:
    """The regime index of a batch of B runs, without running GD.

    Args:
        model: the model (one architecture for the batch).
        params0: batched initial parameters (leading axis B).
        X: (B, N, d) inputs; Y: (B, N, k) targets.
        etas: (B,) step sizes (or one float for all).
        steps: R, the number of GD steps each run will take (the horizon is min(T_pred, R)).
        loss_eps: the loss level of "steps to eps" (L_t <= loss_eps L_0).
        max_steps: predictions beyond this are "not reached" (inf).

    Returns:
        One `RegimeIndex` per run.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 3 or Y.ndim != 3 or X.shape[:2] != Y.shape[:2]:
        raise InputError(f"regime_indices needs X of shape (B, N, d) and Y of shape (B, N, k) with the same B and N; "
                         f"got {X.shape} and {Y.shape}")
    B, n = X.shape[0], X.shape[1]
    etas = np.broadcast_to(np.asarray(etas, dtype=np.float64), (B,))
    if not np.all(np.isfinite(etas)) or np.any(etas <= 0):
        raise InputError(f"regime_indices: step sizes must be positive and finite, got {etas[:4]}")
    if int(steps) < 1:
        raise InputError(f"regime_indices: steps must be >= 1, got {steps}")
    J, f0, norm0 = _jac_fn(model)(params0, X)  # NumPy in: jnp.asarray would build a program per shape
    J = np.asarray(J, dtype=np.float64)
    r0s = (np.asarray(f0, dtype=np.float64) - Y).reshape(B, -1)
    norm0 = np.asarray(norm0, dtype=np.float64)
    dflat = np.zeros((B, J.shape[-1]))
    pre = []
    for b in range(B):
        G0 = J[b] @ J[b].T
        ev, U = gram_eigh(G0)
        proj = U.T @ r0s[b]
        t_pred = _steps(G0, r0s[b], etas[b], n, loss_eps, max_steps)
        horizon = float(min(np.ceil(t_pred), int(steps)))  # a whole number of steps: (1 - x)^t for x > 1
        if etas[b] * float(ev[-1]) / n <= 2.0:  # else the fixed-Gram dynamics diverge: no path to follow
            dflat[b] = linearised_displacement(J[b], r0s[b], etas[b], n, horizon)
        pre.append((G0, ev, proj, t_pred, horizon))
    scales = np.array([0.5, 1.0])
    struct = jax.tree_util.tree_structure(params0)
    Gs = np.asarray(_gram_at_fn(model, struct)(params0, X, dflat, scales), dtype=np.float64)
    out = []
    for b in range(B):
        G0, ev, proj, t_pred, horizon = pre[b]
        ts = [_steps(Gs[b, k], r0s[b], etas[b], n, loss_eps, max_steps) for k in range(2)]
        if not np.isfinite(t_pred):
            D = float("nan")
        elif not all(np.isfinite(ts)):
            D = float("inf")
        else:
            D = float(max(abs(np.log(t / t_pred)) for t in ts))
        nG0 = float(np.linalg.norm(G0))
        drift = max(float(np.linalg.norm(Gs[b, k] - G0)) for k in range(2)) / nG0 if nG0 > 0 else float("inf")
        mv = float(np.linalg.norm(dflat[b]))
        out.append(RegimeIndex(index=D, t_pred=t_pred, t_half=ts[0], t_end=ts[1], horizon=horizon, movement=mv,
                               movement_rel=mv / float(norm0[b]) if norm0[b] > 0 else float("inf"),
                               gram_drift=drift, eigvals=ev, proj=proj, r0=r0s[b]))
    return out


@uses_float64
def regime_index(model: Model, params0, X, Y, *, eta: float, steps: int, loss_eps: float = DEFAULT_LOSS_EPS,
                 max_steps: int = 10**12) -> RegimeIndex:
    """The regime index of one run (`regime_indices` with a batch of one): X (N, d), Y (N, k) or (N,)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2:
        raise InputError(f"regime_index needs X of shape (N, d), got {X.shape}")
    p = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], params0)
    return regime_indices(model, p, X[None], Y[None], np.array([eta]), steps, loss_eps=loss_eps,
                          max_steps=max_steps)[0]


def expectation(ri: RegimeIndex, threshold: float = REGIME_THRESHOLD) -> str:
    """The index in words, as ``hmin train`` prints it before training.

    Examples:
        >>> z = np.zeros(1)
        >>> expectation(RegimeIndex(0.01, 100.0, 101.0, 99.0, 100.0, 1.0, 0.1, 0.01, z, z, z))[:46]
        'the fixed-Gram prediction is expected to hold '
        >>> expectation(RegimeIndex(0.7, 100.0, 60.0, 50.0, 100.0, 1.0, 0.1, 0.5, z, z, z))[:60]
        'the fixed-Gram prediction is expected to fail by about x2.01'
    """
    D = ri.index
    if np.isnan(D):
        return ("no fixed-Gram prediction to test: at this step size the fixed-Gram dynamics diverge "
                "(eta lambda_max(G_0) / N > 2) or never reach the target loss")
    if not np.isfinite(D):
        return ("the fixed-Gram prediction is expected to fail: the Gram matrix it walks into does not reach the "
                "target (or diverges) at this step size")
    if D <= threshold:
        return (f"the fixed-Gram prediction is expected to hold (regime index D = {D:.3g} <= {threshold:.3g}: "
                f"time scale within x{np.exp(D):.3g}; predicted Gram drift {ri.gram_drift:.2g})")
    return (f"the fixed-Gram prediction is expected to fail by about x{np.exp(D):.3g} in its time scale "
            f"(regime index D = {D:.3g} > {threshold:.3g}; predicted Gram drift {ri.gram_drift:.2g})")


# ----------------------------------------------------------------------------------------------
# `hmin train`: the index of the user's run, before training, and what happened after
# ----------------------------------------------------------------------------------------------

#: the largest N k for which `hmin train` computes the index (a dense N k x N k Gram matrix, four Jacobians)
TRAIN_MAX_ROWS = 4096


@uses_float64
def before_training(model: Model, params0, X, Y, *, eta: float, steps: int, loss: str, optimizer: str,
                    loss_eps: float = DEFAULT_LOSS_EPS) -> dict:
    """The regime index of a `hmin train` run, computed before it trains (JSON-able).

    Returns ``{"applies": False, "why_not": ...}`` where the fixed-Gram prediction is not a prediction of the
    run (not the squared loss, not full-batch GD, too large for a dense Gram matrix); else the index's fields
    and ``"expectation"`` (`expectation`), also logged.
    """
    from hmin.sims.progress import log

    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
    if loss != "mse":
        out = {"applies": False, "why_not": "the regime index is about the fixed-Gram prediction of the squared loss"}
    elif optimizer != "gd":
        out = {"applies": False, "why_not": f"the fixed-Gram prediction is full-batch GD's ({optimizer} trains here)"}
    elif Y.size > TRAIN_MAX_ROWS:
        out = {"applies": False, "why_not": f"N k = {Y.size} > {TRAIN_MAX_ROWS}: too large for the dense Gram "
                                            "matrices the index needs"}
    else:
        ri = regime_index(model, params0, X, Y, eta=eta, steps=steps, loss_eps=loss_eps)
        out = {"applies": True, **{k: v for k, v in ri.to_dict().items() if k not in ("eigvals", "proj", "r0")},
               "threshold": REGIME_THRESHOLD, "inside": bool(np.isfinite(ri.index) and ri.index <= REGIME_THRESHOLD),
               "expectation": expectation(ri), "loss_eps": loss_eps}
    log("[train] before training: " + (out["expectation"] if out["applies"] else
                                       f"regime index not computed ({out['why_not']})"))
    return out


def after_training(pre: dict, measured_steps: float, predicted_steps: float) -> dict:
    """``pre`` with what happened: the measured and predicted steps to eps and whether the expectation held.

    Examples:
        >>> pre = {"applies": True, "index": 0.01, "inside": True}
        >>> after_training(pre, 104.0, 100.0)["outcome"][:43]
        'as expected: the fixed-Gram prediction held'
        >>> after_training({**pre, "index": 0.5, "inside": False}, 300.0, 100.0)["outcome"][:45]
        'as expected: the fixed-Gram prediction failed'
    """
    out = dict(pre)
    if not pre.get("applies"):
        return out
    m, p = float(measured_steps), float(predicted_steps)
    if np.isfinite(m) and np.isfinite(p) and m > 0 and p > 0:
        err = float(abs(np.log(m / p)))
    elif np.isfinite(p) and not np.isfinite(m):
        err = float("inf")
    else:
        err = float("nan")
    band = float(np.log(1.15))
    out["measured_error"] = err
    out["measured_steps_to_eps"], out["predicted_steps_to_eps"] = m, p
    if np.isnan(err):
        out["outcome"] = "cannot compare: the prediction or the run did not reach the target loss"
    else:
        held = err <= band
        expected = bool(pre["inside"])
        word = "as expected" if held == expected else "NOT as expected"
        out["outcome"] = (f"{word}: the fixed-Gram prediction {'held' if held else 'failed'} "
                          f"(|log(T_measured / T_predicted)| = {err:.3g}, factor x{np.exp(err):.3g}; "
                          f"expected about x{np.exp(pre['index']) if np.isfinite(pre['index']) else float('inf'):.3g})")
    return out


def mark_loss_axes(ax, regime: dict | None) -> None:
    """Mark the index on `hmin train`'s loss figure (a text box; nothing when it was not computed)."""
    if not regime or not regime.get("applies"):
        return
    txt = (f"before training: regime index D = {regime['index']:.3g} "
           f"({'inside' if regime['inside'] else 'outside'} D <= {regime['threshold']:.3g})")
    if "outcome" in regime:
        txt += "\nafter: " + regime["outcome"].split(" (")[0]
    ax.text(0.02, 0.02, txt, transform=ax.transAxes, fontsize=7, va="bottom",
            bbox={"boxstyle": "round", "fc": "w", "ec": "0.6", "alpha": 0.85})


def report_lines(regime: dict | None) -> list[str]:
    """The summary's lines about the index (`hmin train`'s text report)."""
    if not regime:
        return []
    if not regime.get("applies"):
        return [f"  regime index: not computed ({regime['why_not']})"]
    lines = [f"  regime index (before training): D = {regime['index']:.3g}: {regime['expectation']}"]
    if "outcome" in regime:
        lines.append(f"  regime index (after training): {regime['outcome']}")
    return lines
