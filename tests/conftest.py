"""Test configuration (after equinox): loud failures for silent numerical bugs.

- rank promotion raises: an accidental (N,) + (N,1) broadcast is an error, not an N x N matrix;
- warnings are errors (pyproject filterwarnings);
- progress output is silenced; matplotlib draws off-screen;
- the course notebooks start on their kernels in the background as soon as their tests are collected
  (tests/test_course.py), so they run while the other tests do.
"""

import os

os.environ.setdefault("HMIN_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

# float64 for the whole test process, as diffrax's tests do (the library itself only scopes it:
# hmin.sims.precision; tests/test_side_effects.py checks that in a fresh process)
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_measurement(tmp_path_factory):
    """``quick_measurement(sid)``: the quick-preset measurement of a registered statement at seed 0, measured
    once per test session and shared by every test that needs one (the registry contract test, the checks'
    own tests)."""
    from hmin.sims.registry import builtin_registry

    cache: dict[str, dict] = {}
    reg = builtin_registry()

    def get(sid: str) -> dict:
        if sid not in cache:
            ctx = reg[sid].context("quick", tmp_path_factory.mktemp(f"quick_{sid}"), 0)
            cache[sid] = reg[sid].check.measure(ctx)
        return cache[sid]

    return get


def _course_modules(session):
    return {item.module for item in session.items
            if "executed" in getattr(item, "fixturenames", ()) and hasattr(item.module, "start_executing")}


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    for mod in _course_modules(session):
        mod.start_executing()


def pytest_sessionfinish(session):
    for mod in _course_modules(session):
        mod.stop_executing()
