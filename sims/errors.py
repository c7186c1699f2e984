"""Errors that the command line turns into a one-line message and a non-zero exit."""


class HminError(Exception):
    """Base class of every error hmin reports to a user (exit status 2)."""


class InputError(HminError, ValueError):
    """Bad input: NaN/inf, duplicate points, N < 2, shape mismatch, unknown option ..."""


class DivergedError(HminError, FloatingPointError):
    """Gradient descent diverged where a finite trajectory was required."""
