"""The docstring examples run as pytest's own doctest items (``pytest`` or ``pytest sims theory hmin``;
collected by the repository's conftest.py under their import names, flags ``doctest_optionflags``).

This file only guards the collection: every module with a ``>>>`` example is found (about 30), and
each has examples the doctest finder sees, so a broken collector cannot pass silently.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collector(config):
    """The repository's conftest.py as pytest loaded it (the plug-in that collects the doctests)."""
    plugin = config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    assert plugin is not None, "the repository's conftest.py is not loaded: no doctest would be collected"
    return plugin


def test_every_module_with_examples_is_collected(pytestconfig):
    files = _collector(pytestconfig).doctest_files()
    assert len(files) >= 25, files
    assert {"hmin", "hmin.sims.precision", "hmin.theory.errors", "hmin.sims.geometry._points"} <= set(files.values())
    for modname in files.values():
        module = importlib.import_module(modname)
        assert [t for t in doctest.DocTestFinder().find(module, modname) if t.examples], modname
