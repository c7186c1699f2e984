"""float64 where a verdict depends on it, and nowhere else: `uses_float64`.

hmin never changes JAX's global configuration. The computations whose result decides a verdict
(eigenvalues of Gram matrices, h_min, fill distances, the report card) run inside JAX's own scoped
switch ``jax.enable_x64(True)``, entered by the public entry points marked with `uses_float64`
(`hmin.run_verify`, `hmin.train_and_measure`, the geometry and selection functions, ...). Outside
them ``jax.config.jax_enable_x64`` is whatever the caller set: a flax or equinox model in the same
notebook keeps its float32 arrays.

Arrays keep the dtype they are given inside a scoped call, so a float32 run stays float32 (the
switch only makes float64 *available*). Arrays created inside and returned as JAX arrays are float64
arrays; hmin's entry points return NumPy arrays or Python numbers.

The command line (``hmin ...``) and the test suite (tests/conftest.py) turn float64 on for their own
process, as diffrax's tests do.

    >>> import jax, jax.numpy as jnp
    >>> @uses_float64
    ... def f():
    ...     return str(jnp.zeros(1, dtype=jnp.float64).dtype)
    >>> f()
    'float64'
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

__all__ = ["uses_float64", "float64_scope"]

F = TypeVar("F", bound=Callable)


def float64_scope():
    """A context manager: JAX's float64 support on inside it, the caller's setting restored after.

    ``jax.enable_x64(True)`` (a thread-local config context in JAX >= 0.4.3x).
    """
    import jax  # here, not at module level: `import hmin` stays free of JAX until a computation runs

    return jax.enable_x64(True)


def uses_float64(fn: F) -> F:
    """Decorate a public entry point whose results depend on float64: it runs inside `float64_scope`.

    Nesting is free (an inner scoped call inside an outer one changes nothing); the caller's
    ``jax_enable_x64`` is restored when the call returns or raises.
    """

    @functools.wraps(fn)
    def scoped(*args, **kwargs):
        with float64_scope():
            return fn(*args, **kwargs)

    scoped.__uses_float64__ = True  # type: ignore[attr-defined]
    return scoped  # type: ignore[return-value]
