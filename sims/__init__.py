"""hmin.sims: measure on real gradient-descent trajectories what `theory` predicts.

Importing it changes nothing in the process: JAX's ``jax_enable_x64`` stays as the caller set it.
The entry points whose results decide a verdict (eigenvalues, h_min, the report card) run with float64
support switched on for their own duration only (`hmin.sims.precision.uses_float64`;
docs/statements.md, "Notation and conventions").  Arrays keep the dtype they are given, so float32
runs stay float32.
"""

if __name__ in ("sims", "theory"):  # the pre-0.2 top-level name, from a checkout: one module, not two
    from hmin._compat import redirect as _redirect

    _redirect(__name__)

import importlib  # noqa: E402

from hmin.sims.errors import HminError, InputError, DivergedError  # noqa: E402

__all__ = ["HminError", "InputError", "DivergedError", "train_and_measure", "TrainConfig"]

_LAZY = {"train_and_measure": "hmin.sims.train", "TrainConfig": "hmin.sims.train"}


def __getattr__(name):
    """``sims.train_and_measure`` and ``sims.TrainConfig``, imported on first use (``import sims`` stays cheap)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sims' has no attribute {name!r}")
