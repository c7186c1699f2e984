"""Fixtures shared by the tests (the process-wide configuration, float64 and rank promotion included, is in
the repository's conftest.py, so that the doctests of the package folders run under it too).

- the course notebooks start on their kernels in the background as soon as their tests are collected
  (tests/test_course.py), so they run while the other tests do; under pytest-xdist (``make test`` runs two
  workers) every worker collects every test, so there they start when the first course test needs them, on
  the one worker that runs them all (``--dist loadfile``: a test file runs on one worker);
- under ``--dist loadfile`` the files that share the session's quick measurements (`QUICK_FILES`) run on one
  worker too (`pytest_xdist_make_scheduler`), so each statement is measured once, not once per worker.
"""

import os

import pytest

#: the test files that use the ``quick_measurement`` fixture (tests/test_verify_speed.py checks the list):
#: one unit of work for pytest-xdist, so the measurements are made once
QUICK_FILES = frozenset({
    "tests/test_beyond_gd.py", "tests/test_checks_t1_t2_t9_t10_c1.py", "tests/test_checks_t3_t6_c3.py",
    "tests/test_checks_t4.py", "tests/test_checks_t7_t8.py", "tests/test_power_slack.py", "tests/test_registry.py",
    "tests/test_verify_speed.py",
})

try:
    from xdist.scheduler import LoadFileScheduling
except ImportError:  # pytest-xdist is in the test extra; without it the suite runs in one process
    LoadFileScheduling = None

if LoadFileScheduling is not None:
    class _FilesAndQuickGroup(LoadFileScheduling):
        """``--dist loadfile``, with the `QUICK_FILES` as one unit."""

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "quick measurements" if path in QUICK_FILES else path

    def pytest_xdist_make_scheduler(config, log):
        if config.getoption("dist") == "loadfile":
            return _FilesAndQuickGroup(config, log)
        return None


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
