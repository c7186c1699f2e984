"""The errors hmin reports to a user; one hierarchy shared by `theory` and `sims`.

`theory` cannot import `sims`, so the base classes live here and `sims.errors` re-exports them: the
command line tells errors apart by class (``except HminError``), never by name.

    >>> from hmin.theory.errors import InputError, HminError
    >>> issubclass(InputError, HminError) and issubclass(InputError, ValueError)
    True
"""

from __future__ import annotations

__all__ = ["HminError", "InputError", "PluginError"]


class HminError(Exception):
    """Base class of every error hmin reports to a user (one line, exit status 2)."""


class InputError(HminError, ValueError):
    """Bad input: NaN/inf, duplicate points, N < 2, shape mismatch, unknown option, unknown statement id ..."""


class PluginError(InputError):
    """A statement plug-in that cannot be registered (an id that collides with a built-in one, ...)."""
