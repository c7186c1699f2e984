"""Errors that the command line turns into a one-line message and a non-zero exit.

`HminError` and `InputError` are defined in `theory.errors` (``theory`` cannot import ``sims``) and
re-exported here, so a bad input found by a `theory` predictor and one found by `sims` are the same
class.
"""

from hmin.theory.errors import HminError, InputError, PluginError

__all__ = ["HminError", "InputError", "PluginError", "DivergedError"]


class DivergedError(HminError, FloatingPointError):
    """Gradient descent diverged where a finite trajectory was required."""
