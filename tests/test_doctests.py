"""Every ``>>>`` example in the docstrings of ``sims`` and ``theory`` runs and is true.

One test per module that has examples (found by walking both packages, private modules included), so
an example in the API reference (docs/api.md) or in a module cannot lie. Flags: ELLIPSIS and
NORMALIZE_WHITESPACE, as pytest's ``--doctest-modules`` would be configured.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

from hmin import sims
from hmin import theory

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = []
    for pkg in (sims, theory):
        names.append(pkg.__name__)
        names += [info.name for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return sorted(names)


def _has_examples(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    try:
        with open(spec.origin, encoding="utf-8") as f:
            return ">>>" in f.read()
    except (OSError, TypeError):
        return False


MODULES = [m for m in _modules() if _has_examples(m)]


def test_examples_are_found():
    """The walk sees the modules with examples (about 30), so a broken walk cannot pass silently."""
    assert len(MODULES) >= 25, MODULES


@pytest.mark.parametrize("modname", MODULES)
def test_docstring_examples(modname):
    module = importlib.import_module(modname)
    tests = [t for t in doctest.DocTestFinder().find(module, modname) if t.examples]
    assert tests, f"{modname} has '>>>' in its source but no docstring example was found"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for t in tests:
        runner.run(t, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
