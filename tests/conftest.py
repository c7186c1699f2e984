"""Test configuration (after equinox): loud failures for silent numerical bugs.

- rank promotion raises: an accidental (N,) + (N,1) broadcast is an error, not an N x N matrix;
- warnings are errors (pyproject filterwarnings);
- progress output is silenced; matplotlib draws off-screen.
"""

import os

os.environ.setdefault("HMIN_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

import sims  # noqa: E402,F401  (turns on float64 support)

jax.config.update("jax_numpy_rank_promotion", "raise")
