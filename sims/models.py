"""The architectures of docs/statements.md ("Notation and conventions") as pure functions over parameter pytrees.

A :class:`Model` is a pair of pure functions, ``init(key) -> params`` and
``apply(params, X) -> (N, k)``, plus metadata.  Parameters are plain dicts of arrays, so
``jax.flatten_util.ravel_pytree`` gives the flat theta of the theory, and everything vmaps.

Scaling is the NTK/"1/sqrt(fan_in)" convention: weights are N(0, 1) and every matrix product is
divided by sqrt(fan_in), so widths can be compared at equal learning rates.

Activations: tanh, sigmoid, softplus, GELU (erf form), SiLU, erf are real-analytic; ReLU is not and is
flagged ``analytic=False``: it is the counterexample the analyticity hypotheses must reject.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import jax.scipy.special

from hmin.sims.errors import InputError

__all__ = [
    "ACTIVATIONS",
    "ANALYTIC",
    "Model",
    "tau_eps",
    "shallow",
    "mlp",
    "residual",
    "transformer",
    "make_model",
    "ARCHITECTURES",
    "num_params",
]

#: activation name -> the JAX function.
ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),
    "silu": jax.nn.silu,
    "relu": jax.nn.relu,
    "erf": jax.scipy.special.erf,
}
#: activation name -> whether it is real-analytic (ReLU is not: the counterexample of T7/T8).
ANALYTIC = {"tanh": True, "sigmoid": True, "softplus": True, "gelu": True, "silu": True, "relu": False, "erf": True}

Params = Any


@dataclasses.dataclass(frozen=True)
class Model:
    """A model: pure ``init`` and ``apply`` plus what the theory needs to know about it.

    Attributes:
        name: architecture name ("shallow", "mlp", "residual", "transformer").
        init: ``init(key) -> params`` (a dict pytree).
        apply: ``apply(params, X) -> (N, k)`` for X of shape (N, d).
        d: input dimension; k: output dimension.
        analytic: True iff every nonlinearity is real-analytic (ReLU -> False).
        config: the keyword arguments that built it (JSON-able).
    """

    name: str
    init: Callable[[jax.Array], Params]
    apply: Callable[[Params, jax.Array], jax.Array]
    d: int
    k: int
    analytic: bool
    config: dict

    def __hash__(self):  # usable as a static jit argument
        return hash((self.name, tuple(sorted((k, str(v)) for k, v in self.config.items()))))

    def __eq__(self, other):
        return isinstance(other, Model) and self.name == other.name and self.config == other.config

    def apply_one(self, params: Params, x: jax.Array) -> jax.Array:
        """f(x; theta) for a single point x of shape (d,), returning (k,)."""
        return self.apply(params, x[None, :])[0]


def _act(name: str) -> Callable:
    if name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def _positive(**kw) -> None:
    for k, v in kw.items():
        if int(v) != v or v < 1:
            raise InputError(f"{k} must be a positive integer, got {v}")


def tau_eps(z: jax.Array, eps: float) -> jax.Array:
    """tau_eps(z) = z / sqrt(||z||^2 + eps^2) over the last axis (a real-analytic RMSNorm).

    No square root at 0: eps > 0 keeps it smooth everywhere.
    """
    return z * jax.lax.rsqrt(jnp.sum(z * z, axis=-1, keepdims=True) + eps**2)


def _dense(key, fan_in: int, fan_out: int, dtype) -> jax.Array:
    return jax.random.normal(key, (fan_in, fan_out), dtype=dtype)


def shallow(d: int, width: int, *, k: int = 1, activation: str = "tanh", dtype=jnp.float64) -> Model:
    """f(x) = a^T sigma(W x / sqrt(d)) / sqrt(m), width m ("shallow")."""
    _positive(d=d, width=width, k=k)
    sigma = _act(activation)

    def init(key):
        k1, k2 = jax.random.split(key)
        return {"W": _dense(k1, d, width, dtype), "a": _dense(k2, width, k, dtype)}

    def apply(p, X):
        return sigma(X @ p["W"] / jnp.sqrt(d)) @ p["a"] / jnp.sqrt(width)

    return Model("shallow", init, apply, d, k, ANALYTIC[activation],
                 dict(d=d, width=width, k=k, activation=activation, dtype=jnp.dtype(dtype).name))


def mlp(d: int, width: int, depth: int, *, k: int = 1, activation: str = "tanh", dtype=jnp.float64) -> Model:
    """Deep MLP: z_l = sigma(W_l z_{l-1} / sqrt(fan_in)), l = 1..depth; f = w^T z_L / sqrt(width)."""
    _positive(d=d, width=width, depth=depth, k=k)
    sigma = _act(activation)
    dims = [d] + [width] * depth

    def init(key):
        keys = jax.random.split(key, depth + 1)
        Ws = [_dense(keys[l], dims[l], dims[l + 1], dtype) for l in range(depth)]
        return {"Ws": Ws, "w": _dense(keys[-1], width, k, dtype)}

    def apply(p, X):
        z = X
        for l, W in enumerate(p["Ws"]):
            z = sigma(z @ W / jnp.sqrt(dims[l]))
        return z @ p["w"] / jnp.sqrt(width)

    return Model("mlp", init, apply, d, k, ANALYTIC[activation],
                 dict(d=d, width=width, depth=depth, k=k, activation=activation, dtype=jnp.dtype(dtype).name))


def residual(d: int, width: int, depth: int, *, k: int = 1, hidden: int | None = None, activation: str = "tanh",
             eps: float = 1.0, dtype=jnp.float64) -> Model:
    """Residual net with the tau_eps normalisation ("residual").

    z_0 = W_in x / sqrt(d);  z_l = z_{l-1} + (1/L) V_l sigma(U_l tau_eps(z_{l-1})) / sqrt(hidden);
    f = w^T tau_eps(z_L).  (U_l needs no 1/sqrt(width): ||tau_eps(z)|| < 1 already makes
    U_l^T tau_eps(z) O(1).)
    """
    _positive(d=d, width=width, depth=depth, k=k)
    hidden = width if hidden is None else hidden
    _positive(hidden=hidden)
    if not eps > 0:
        raise InputError(f"tau_eps needs eps > 0, got {eps}")
    sigma = _act(activation)

    def init(key):
        keys = jax.random.split(key, 2 * depth + 2)
        return {
            "W_in": _dense(keys[0], d, width, dtype),
            "U": jnp.stack([_dense(keys[1 + 2 * l], width, hidden, dtype) for l in range(depth)]),
            "V": jnp.stack([_dense(keys[2 + 2 * l], hidden, width, dtype) for l in range(depth)]),
            "w": _dense(keys[-1], width, k, dtype),
        }

    def apply(p, X):
        z = X @ p["W_in"] / jnp.sqrt(d)

        def block(z, UV):
            U, V = UV
            h = sigma(tau_eps(z, eps) @ U)
            return z + (h @ V / jnp.sqrt(hidden)) / depth, None

        z, _ = jax.lax.scan(block, z, (p["U"], p["V"]))
        return tau_eps(z, eps) @ p["w"]

    return Model("residual", init, apply, d, k, ANALYTIC[activation],
                 dict(d=d, width=width, depth=depth, k=k, hidden=hidden, activation=activation, eps=eps,
                      dtype=jnp.dtype(dtype).name))


def transformer(d: int, *, tokens: int, d_model: int = 16, heads: int = 2, mlp_ratio: int = 2, k: int = 1,
                activation: str = "gelu", eps: float = 1.0, dtype=jnp.float64) -> Model:
    """One pre-norm transformer block on x split into ``tokens`` tokens of size d/tokens.

    e = x_tokens E / sqrt(d/T) + P;  h = e + Attn(tau_eps(e));  o = h + MLP(tau_eps(h));
    f = w^T mean_t tau_eps(o_t) (softmax attention with ``heads`` heads; tau_eps per token).
    """
    _positive(d=d, tokens=tokens, d_model=d_model, heads=heads, k=k)
    if d % tokens:
        raise InputError(f"the transformer splits x into tokens: d = {d} is not divisible by tokens = {tokens}")
    if d_model % heads:
        raise InputError(f"d_model = {d_model} is not divisible by heads = {heads}")
    sigma = _act(activation)
    t_dim = d // tokens
    dh = d_model // heads
    hid = mlp_ratio * d_model

    def init(key):
        ks = jax.random.split(key, 8)
        return {
            "E": _dense(ks[0], t_dim, d_model, dtype),
            "P": 0.1 * jax.random.normal(ks[1], (tokens, d_model), dtype=dtype),
            "Wq": _dense(ks[2], d_model, d_model, dtype),
            "Wk": _dense(ks[3], d_model, d_model, dtype),
            "Wv": _dense(ks[4], d_model, d_model, dtype),
            "Wo": _dense(ks[5], d_model, d_model, dtype),
            "W1": _dense(ks[6], d_model, hid, dtype),
            "W2": _dense(ks[7], hid, d_model, dtype),
            "w": jax.random.normal(jax.random.fold_in(key, 99), (d_model, k), dtype=dtype),
        }

    def apply(p, X):
        n = X.shape[0]
        xt = X.reshape(n, tokens, t_dim)
        e = xt @ p["E"] / jnp.sqrt(t_dim) + p["P"][None]
        s = d_model**0.5
        u = tau_eps(e, eps)
        q = (u @ p["Wq"] / s).reshape(n, tokens, heads, dh)
        kk = (u @ p["Wk"] / s).reshape(n, tokens, heads, dh)
        v = (u @ p["Wv"] / s).reshape(n, tokens, heads, dh)
        att = jax.nn.softmax(jnp.einsum("nthc,nshc->nhts", q, kk) / jnp.sqrt(dh), axis=-1)
        a = jnp.einsum("nhts,nshc->nthc", att, v).reshape(n, tokens, d_model)
        h = e + a @ p["Wo"] / s
        o = h + sigma(tau_eps(h, eps) @ p["W1"] / s) @ p["W2"] / jnp.sqrt(hid)
        return tau_eps(o, eps).mean(axis=1) @ p["w"]

    return Model("transformer", init, apply, d, k, ANALYTIC[activation],
                 dict(d=d, tokens=tokens, d_model=d_model, heads=heads, mlp_ratio=mlp_ratio, k=k,
                      activation=activation, eps=eps, dtype=jnp.dtype(dtype).name))


#: architecture name -> its constructor (what `make_model` dispatches on).
ARCHITECTURES = {"shallow": shallow, "mlp": mlp, "residual": residual, "transformer": transformer}


def make_model(arch: str, **kwargs) -> Model:
    """Build a model by name: ``make_model("residual", d=2, width=32, depth=3)``."""
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    try:
        return ARCHITECTURES[arch](**kwargs)
    except TypeError as e:
        raise InputError(f"bad options for architecture {arch!r}: {e}") from None


def num_params(params: Params) -> int:
    """The number P of scalar parameters in a parameter pytree."""
    return int(sum(x.size for x in jax.tree_util.tree_leaves(params)))
