"""Fixtures shared by the tests (the process-wide configuration, float64 and rank promotion included, is in
the repository's conftest.py, so that the doctests of the package folders run under it too).

- the course notebooks start on their kernels in the background as soon as their tests are collected
  (tests/test_course.py), so they run while the other tests do; under pytest-xdist (``make test`` runs two
  workers) every worker collects every test, so there they start when the first course test needs them, on
  the one worker that runs them all (``--dist loadfile``: a test file runs on one worker).
"""

import os

import pytest


@pytest.fixture(scope="session")
def quick_measurement(tmp_path_factory):
    """``quick_measurement(sid)``: the quick-preset measurement of a registered statement at seed 0, measured
    once per test session and shared by every test that needs one (the registry contract test, the checks'
    own tests); ``quick_measurement.phases[sid]``: the programs it built and the seconds by phase."""
    from hmin.sims.phases import jax_phases
    from hmin.sims.registry import builtin_registry

    cache: dict[str, dict] = {}
    reg = builtin_registry()

    def get(sid: str) -> dict:
        if sid not in cache:
            ctx = reg[sid].context("quick", tmp_path_factory.mktemp(f"quick_{sid}"), 0)
            with jax_phases() as ph:
                cache[sid] = reg[sid].check.measure(ctx)
            get.phases[sid] = ph
        return cache[sid]

    get.phases = {}  # sid -> sims.phases.Phases of its measurement (tests/test_verify_speed.py: compile budgets)
    return get


def _course_modules(session):
    return {item.module for item in session.items
            if "executed" in getattr(item, "fixturenames", ()) and hasattr(item.module, "start_executing")}


def pytest_collection_finish(session):
    if session.config.option.collectonly or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for mod in _course_modules(session):
        mod.start_executing()


def pytest_sessionfinish(session):
    for mod in _course_modules(session):
        mod.stop_executing()
