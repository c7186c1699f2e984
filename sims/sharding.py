"""Run sweeps and greedy selection on every device there is, with no change to user code.

Two kinds of work split across a 1-D :class:`jax.sharding.Mesh` whose one axis is named
``"batch"``:

- **Sweeps** (``sims.gd.train_batch``): the leading batch axis (seeds, sweep points) is split
  across the devices.  The runs are independent, so the partitioned program has no collectives:
  each device runs its share of the vmapped trajectories.  The batch is *padded* to a multiple of
  the device count with copies of its last run (a real, valid run: it cannot diverge or produce
  NaN where the others do not), and the padding is stripped from the results.  Padding rather
  than "shard only when divisible" keeps every sweep on every device; it costs at most
  ``n_devices - 1`` extra runs.
- **Greedy max-min (farthest-first) selection** (:func:`sharded_maxmin`): the O(N) running-minimum
  vector and the rows of X are split across the devices; each step takes a local argmax, an
  all-gather of one (value, index) pair per device and a global argmax (ties go to the smallest
  index, as in a plain NumPy loop), then a ``psum`` broadcasts the chosen point (d numbers).
  Communication per step is O(n_devices + d), independent of N.

On one device both paths run the same code on a one-device mesh (no padding, no collectives).

Multi-host (several processes, e.g. one per GPU node): call ``jax.distributed.initialize()``
(with ``coordinator_address``, ``num_processes``, ``process_id``, or from the cluster's
environment: SLURM / Open MPI / Kubernetes are auto-detected) at the start of *every* process,
before any other JAX call.  ``jax.devices()`` then lists the devices of all processes and
:func:`batch_mesh` spans them.  Every process must call ``train_batch`` / ``sharded_maxmin`` with
the *same* arguments (they are deterministic functions of explicit seeds, so building the inputs
from the same seed on every process is enough); :func:`place` puts on each process only the shards
its devices own, and :func:`fetch` gathers the results with
``jax.experimental.multihost_utils.process_allgather`` so that every process returns the full
result.  This global-mesh path is tested on 4 simulated CPU devices in one process.  The
multi-process commands (``hmin select/run ... --processes N`` and the ``HMIN_*`` environment for
several hosts) use :mod:`sims.distributed` instead, which splits the work per process and is
tested with real processes over 127.0.0.1 (``tests/test_distributed.py``).

Simulating devices on a CPU (tests, laptops): set ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
or call ``jax.config.update("jax_num_cpu_devices", 4)`` before the first JAX computation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from hmin.sims.errors import InputError
from hmin.sims.precision import uses_float64

__all__ = ["AXIS", "batch_mesh", "default_devices", "process_local", "place", "fetch", "pad_leading",
           "sharded_maxmin", "describe"]

#: the name of the mesh axis over which runs are sharded.
AXIS = "batch"


_PROCESS_LOCAL = contextvars.ContextVar("hmin_process_local", default=False)


@contextlib.contextmanager
def process_local():
    """Inside this block the default devices are this process's own (``jax.local_devices()``).

    For work split *per process* (:mod:`sims.distributed`: ``hmin verify --processes N`` runs
    different checks on different processes): a ``train_batch`` without a ``mesh`` then splits its
    runs across this process's devices only, instead of a global mesh that every process would have
    to enter together.  Outside any multi-process run it changes nothing.

    Example:
        >>> with process_local():
        ...     default_devices() == jax.local_devices()
        True
    """
    token = _PROCESS_LOCAL.set(True)
    try:
        yield
    finally:
        _PROCESS_LOCAL.reset(token)


def default_devices() -> list:
    """The devices a mesh spans by default: ``jax.devices()`` (every process's), or this process's
    own inside :func:`process_local`."""
    return list(jax.local_devices() if _PROCESS_LOCAL.get() else jax.devices())


def batch_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (default: every device of every process).

    Args:
        devices: a sequence of devices; default :func:`default_devices` (``jax.devices()``, or
            this process's devices inside :func:`process_local`).

    Returns:
        A :class:`jax.sharding.Mesh` with one axis, ``AXIS``.

    Example:
        >>> batch_mesh(jax.devices()[:1]).shape["batch"]
        1
    """
    devs = default_devices() if devices is None else list(devices)
    if not devs:
        raise InputError("batch_mesh needs at least one device")
    return Mesh(np.asarray(devs, dtype=object), (AXIS,))


def pad_leading(tree, multiple: int):
    """Pad every leaf's leading axis to a multiple of ``multiple`` by repeating its last entry.

    Works on NumPy and JAX arrays, typed PRNG-key arrays included.

    Args:
        tree: a pytree of arrays sharing the leading axis length B.
        multiple: the target multiple (the device count).

    Returns:
        ``(padded_tree, B)``.
    """
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise InputError("pad_leading needs at least one array")
    B = leaves[0].shape[0]
    if any(a.shape[0] != B for a in leaves):
        raise InputError(f"leading axes disagree: {[a.shape[0] for a in leaves]}")
    pad = -B % multiple
    if pad == 0:
        return tree, B

    def edge(a):
        a = jnp.asarray(a)
        return jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)], axis=0)

    return jax.tree_util.tree_map(edge, tree), B


def place(tree, mesh: Mesh):
    """Put a pytree on ``mesh``, its leading axis split across the ``"batch"`` axis.

    The leading axis must already be a multiple of the mesh size (see :func:`pad_leading`).
    """
    sharding = NamedSharding(mesh, P(AXIS))
    return jax.device_put(tree, sharding)


def fetch(tree, n: int | None = None):
    """Bring a (possibly sharded, possibly multi-host) pytree to host NumPy; keep the first ``n``.

    Arrays that this process cannot address in full (multi-host) are all-gathered first.
    """
    leaves = jax.tree_util.tree_leaves(tree)
    if any(isinstance(a, jax.Array) and not a.is_fully_addressable for a in leaves):
        # here, not at import: JAX starts only when this runs
        from jax.experimental import multihost_utils

        tree = multihost_utils.process_allgather(tree, tiled=True)
    tree = jax.device_get(tree)
    if n is None:
        return tree
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[:n], tree)


# --------------------------------------------------------------------------------------------
# Greedy max-min (farthest-first) selection, sharded over the rows of X.


@functools.lru_cache(maxsize=32)
def _maxmin_program(mesh: Mesh, k: int, per: int):
    """The compiled farthest-first program for a mesh, k picks and ``per`` rows per device."""

    def body(Xl, vl, x0, first):
        me = jax.lax.axis_index(AXIS)
        offset = (me * per).astype(jnp.int64)

        def sqdist(x):
            diff = Xl - x[None, :]  # differences, never ||x||^2 + ||y||^2 - 2 x.y
            return jnp.sum(diff * diff, axis=1)

        mind = jnp.where(vl, sqdist(x0), -jnp.inf)
        idx = jnp.zeros((k,), jnp.int64).at[0].set(first)
        r2 = jnp.full((k,), jnp.inf, Xl.dtype)

        def step(j, carry):
            mind, idx, r2 = carry
            li = jnp.argmax(mind)  # first occurrence: the smallest local index among ties
            vals = jax.lax.all_gather(mind[li], AXIS)  # (n_devices,) in device order
            locs = jax.lax.all_gather(li.astype(jnp.int64) + offset, AXIS)
            w = jnp.argmax(vals)  # ties -> smallest device -> smallest global index (contiguous blocks)
            x = jax.lax.psum(jnp.where(me == w, Xl[li], jnp.zeros_like(Xl[li])), AXIS)  # exact: one term is nonzero
            mind = jnp.minimum(mind, sqdist(x))
            return mind, idx.at[j].set(locs[w]), r2.at[j].set(vals[w])

        _, idx, r2 = jax.lax.fori_loop(1, k, step, (mind, idx, r2))
        return idx, r2

    smap = jax.shard_map(body, mesh=mesh, in_specs=(P(AXIS), P(AXIS), P(), P()), out_specs=(P(), P()),
                         check_vma=False)
    return jax.jit(smap)


def _check_points(X, k, first) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise InputError(f"X must have shape (N, d), got {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise InputError(f"X must have at least one point and one coordinate, got {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise InputError("X contains NaN or inf")
    if int(k) != k or not 1 <= k <= X.shape[0]:
        raise InputError(f"k must be an integer in [1, N = {X.shape[0]}], got {k!r}")
    if int(first) != first or not 0 <= first < X.shape[0]:
        raise InputError(f"first must be an index in [0, N = {X.shape[0]}), got {first!r}")
    return X


@uses_float64
def sharded_maxmin(X, k: int, *, first: int = 0, mesh: Mesh | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy max-min (farthest-first) selection with the points split across devices.

    Picks ``i_0 = first`` and then, for j = 1..k-1, the point farthest (Euclidean) from the points
    already picked: ``i_j = argmax_i min_{l<j} ||x_i - x_{i_l}||``, ties broken by the smallest
    index.  The running minimum is O(N) memory, split across the devices of ``mesh``.

    Args:
        X: (N, d) points (float32 or float64; integers become float64).
        k: number of points to pick, 1 <= k <= N.
        first: the index of the first pick.
        mesh: a 1-D mesh with axis ``"batch"`` (default: :func:`batch_mesh` over all devices).

    Returns:
        ``(indices, radii)``: (k,) int64 picks in order, and (k,) radii with ``radii[0] = inf`` and
        ``radii[j]`` = the distance from ``x_{i_j}`` to the earlier picks when it was picked
        (non-increasing; ``radii[j]`` is the covering radius of the first j picks).

    Example:
        >>> idx, r = sharded_maxmin([[0.0], [1.0], [3.0], [10.0]], 3)
        >>> idx.tolist(), r.tolist()
        ([0, 3, 2], [inf, 10.0, 3.0])
    """
    X = _check_points(X, k, first)
    k, first = int(k), int(first)
    mesh = batch_mesh() if mesh is None else mesh
    if mesh.axis_names != (AXIS,):
        raise InputError(f"sharded_maxmin needs a 1-D mesh with axis {AXIS!r}, got axes {mesh.axis_names}")
    D = mesh.size
    n, d = X.shape
    per = -(-n // D)
    Xp = np.zeros((per * D, d), X.dtype)
    Xp[:n] = X
    valid = np.zeros(per * D, bool)
    valid[:n] = True
    sh = NamedSharding(mesh, P(AXIS))
    rep = NamedSharding(mesh, P())
    args = (jax.device_put(Xp, sh), jax.device_put(valid, sh), jax.device_put(X[first], rep),
            jax.device_put(np.int64(first), rep))
    idx, r2 = _maxmin_program(mesh, k, per)(*args)
    idx, r2 = fetch((idx, r2))
    return np.asarray(idx, np.int64), np.sqrt(np.asarray(r2, np.float64))


def describe(mesh: Mesh | None = None) -> str:
    """One line naming the mesh: device count, platform, process count."""
    mesh = batch_mesh() if mesh is None else mesh
    plat = {d.platform for d in mesh.devices.flat}
    return f"{mesh.size} device(s) ({', '.join(sorted(plat))}) on {jax.process_count()} process(es)"

