"""Adapters: your own model as an hmin :class:`~sims.models.Model`, in one call.

- :func:`from_functions`: any pair of pure functions ``init(key) -> params`` and
  ``apply(params, X) -> (N, k)`` (params any pytree of arrays);
- :func:`from_flax_linen`: a ``flax.linen.Module`` (its ``params`` collection is trained; other
  collections, e.g. ``batch_stats``, are held fixed at their initial values);
- :func:`from_flax_nnx`: a ``flax.nnx.Module`` instance, or a factory ``rngs -> Module`` so that
  every seed gets its own initialisation;
- :func:`from_equinox`: an ``equinox.Module`` instance, or a factory ``key -> Module`` (equinox
  modules act on one point; the adapter vmaps them over the N points unless ``batched=True``).

flax and equinox are optional (``pip install 'hmin[adapters]'``): this module never imports them at
import time, only inside the adapter that needs them.  The resulting ``Model`` works everywhere an
hmin model does (``sims.gd.train``, ``sims.diagnostics.gram``, ``sims.train_and_measure``).

The Gram matrix G = J J^T does not depend on how the parameters are laid out, so an adapted flax or
equinox net with the same weights as an hmin net has the same G (tests check it to round-off).

Identity.  hmin caches compiled programs by model; an adapted model is identified by its name and
the identity of the functions/modules it wraps (``config["ref"]``), so two adapters of the same
object share compiled code and two different objects never do.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from hmin.sims.errors import InputError
from hmin.sims.models import Model

__all__ = ["from_functions", "from_flax_linen", "from_flax_nnx", "from_equinox"]

_COUNTER = itertools.count()
_REFS: dict[int, tuple[int, Any]] = {}  # id(obj) -> (serial, obj): keeps obj alive, so ids are never reused


def _ref(*objs) -> str:
    """A process-unique tag for the wrapped objects (kept alive, so the tag cannot be reused)."""
    tags = []
    for o in objs:
        hit = _REFS.get(id(o))
        if hit is None or hit[1] is not o:
            hit = (next(_COUNTER), o)
            _REFS[id(o)] = hit
        tags.append(f"{type(o).__name__}#{hit[0]}")
    return "+".join(tags)


def _infer_k(init: Callable, apply: Callable, d: int) -> int:
    p = jax.eval_shape(init, jax.random.PRNGKey(0))
    dtype = next((leaf.dtype for leaf in jax.tree_util.tree_leaves(p) if jnp.issubdtype(leaf.dtype, jnp.inexact)),
                 jnp.float64)
    out = jax.eval_shape(apply, p, jax.ShapeDtypeStruct((2, d), dtype))
    if len(out.shape) != 2 or out.shape[0] != 2:
        raise InputError(f"apply(params, X) must return an (N, k) array for X of shape (N, d); for N = 2 it "
                         f"returned shape {out.shape}")
    return int(out.shape[1])


def from_functions(init: Callable, apply: Callable, *, d: int, k: int | None = None, name: str = "user",
                   analytic: bool = False, description: str = "") -> Model:
    """An hmin ``Model`` from two pure functions.

    Args:
        init: ``init(key) -> params`` (any pytree of float arrays).
        apply: ``apply(params, X) -> (N, k)`` for X of shape (N, d).
        d: input dimension.
        k: output dimension (default: inferred by ``jax.eval_shape``).
        name: the model's name in reports.
        analytic: whether every nonlinearity is real-analytic (unknown for a user model: False).
        description: free text stored in ``config`` (e.g. the architecture).

    Returns:
        A :class:`sims.models.Model`.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> m = from_functions(lambda key: {"w": jax.random.normal(key, (3, 1))}, lambda p, X: jnp.tanh(X @ p["w"]), d=3)
        >>> m.k, m.apply(m.init(jax.random.PRNGKey(0)), jnp.ones((5, 3))).shape
        (1, (5, 1))
    """
    if not (callable(init) and callable(apply)):
        raise InputError("a user model is a pair of functions init(key) -> params, apply(params, X) -> (N, k)")
    if int(d) != d or d < 1:
        raise InputError(f"d must be a positive integer, got {d!r}")
    k = _infer_k(init, apply, int(d)) if k is None else int(k)
    cfg = {"d": int(d), "k": k, "ref": _ref(init, apply), "description": description}
    return Model(name, init, apply, int(d), k, bool(analytic), cfg)


def _cast(tree, dtype):
    if dtype is None:
        return tree
    return jax.tree_util.tree_map(lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.inexact) else a, tree)


def from_flax_linen(module, *, d: int, k: int | None = None, dtype=None, name: str = "flax-linen") -> Model:
    """An hmin ``Model`` from a ``flax.linen.Module`` acting on a batch (N, d) -> (N, k).

    Args:
        module: the linen module (unbound).
        d: input dimension (``init`` calls ``module.init(key, zeros((1, d)))``).
        k: output dimension (default: inferred).
        dtype: cast the parameters to this dtype (e.g. ``jnp.float64``; default: as flax makes them).
        name: the model's name in reports.

    Examples:
        >>> import flax.linen as nn, jax, jax.numpy as jnp
        >>> m = from_flax_linen(nn.Dense(2), d=3)
        >>> m.apply(m.init(jax.random.PRNGKey(0)), jnp.ones((4, 3))).shape
        (4, 2)
    """
    x0 = jnp.zeros((1, int(d)), dtype or jnp.float32)

    def variables(key):
        return module.init(key, x0)

    v_shape = jax.eval_shape(variables, jax.random.PRNGKey(0))
    if "params" not in v_shape:
        raise InputError("the flax module has no 'params' collection to train")
    fixed_names = [c for c in v_shape if c != "params"]
    fixed = {c: _cast(variables(jax.random.PRNGKey(0))[c], dtype) for c in fixed_names}

    def init(key):
        return _cast(variables(key)["params"], dtype)

    def apply(params, X):
        return module.apply({"params": params, **fixed}, X)

    return from_functions(init, apply, d=d, k=k, name=name, description=type(module).__name__)


def from_flax_nnx(module_or_factory, *, d: int, k: int | None = None, dtype=None, name: str = "flax-nnx") -> Model:
    """An hmin ``Model`` from a ``flax.nnx.Module`` acting on a batch (N, d) -> (N, k).

    Args:
        module_or_factory: a module instance (``init`` then returns its parameters whatever the key:
            nnx modules are initialised when built), or a factory ``rngs -> Module`` (``init(key)``
            builds it with ``nnx.Rngs(key)``: a fresh initialisation per key).
        d, k, dtype, name: as in :func:`from_flax_linen`.
    """
    # here: an optional dependency (the adapters extra)
    from flax import nnx

    if isinstance(module_or_factory, nnx.Module):
        graphdef, params, rest = nnx.split(module_or_factory, nnx.Param, ...)

        def init(key):
            del key  # the instance carries its own initialisation
            return _cast(params, dtype)
    else:
        factory = module_or_factory
        if not callable(factory):
            raise InputError("from_flax_nnx needs an nnx.Module or a factory rngs -> nnx.Module")
        graphdef, _, rest = nnx.split(factory(nnx.Rngs(0)), nnx.Param, ...)

        def init(key):
            return _cast(nnx.split(factory(nnx.Rngs(key)), nnx.Param, ...)[1], dtype)

    def apply(params, X):
        return nnx.merge(graphdef, params, rest)(X)

    return from_functions(init, apply, d=d, k=k, name=name, description=type(module_or_factory).__name__)


def from_equinox(module_or_factory, *, d: int, k: int | None = None, batched: bool = False, dtype=None,
                 name: str = "equinox") -> Model:
    """An hmin ``Model`` from an ``equinox.Module``.

    Args:
        module_or_factory: a module instance (``init`` returns its arrays whatever the key), or a
            factory ``key -> Module`` (a fresh initialisation per key).
        d: input dimension.
        k: output dimension (default: inferred).  A module returning a scalar per point gives k = 1.
        batched: the module maps (N, d) -> (N, k) itself; default False: it maps one point (d,) -> (k,)
            (equinox's convention) and the adapter vmaps it.
        dtype: cast the trained arrays to this dtype.
        name: the model's name in reports.
    """
    # here: an optional dependency (the adapters extra)
    import equinox as eqx

    if isinstance(module_or_factory, eqx.Module):
        params, static = eqx.partition(module_or_factory, eqx.is_inexact_array)

        def init(key):
            del key
            return _cast(params, dtype)
    else:
        factory = module_or_factory
        if not callable(factory):
            raise InputError("from_equinox needs an equinox.Module or a factory key -> Module")
        _, static = eqx.partition(factory(jax.random.PRNGKey(0)), eqx.is_inexact_array)

        def init(key):
            return _cast(eqx.partition(factory(key), eqx.is_inexact_array)[0], dtype)

    def one(params, x):
        y = eqx.combine(params, static)(x)
        return jnp.reshape(y, (-1,))

    def apply(params, X):
        if batched:
            out = eqx.combine(params, static)(X)
            return out.reshape(X.shape[0], -1)
        return jax.vmap(lambda x: one(params, x))(X)

    return from_functions(init, apply, d=d, k=k, name=name, description=type(module_or_factory).__name__)
