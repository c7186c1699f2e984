"""The pre-0.2 import paths ``sims`` and ``theory`` as deprecation shims, for one release.

hmin's packages install as ``hmin.sims`` and ``hmin.theory``; nothing but ``hmin`` is installed at
top level. Two places still meet the old names:

- a plug-in written against 0.1 (``from sims.registry import Check``), loaded by ``hmin verify --plugin``
  or ``hmin check-plugin``: the plug-in loader calls `install` before it runs the file;
- code run from a repository checkout whose working directory puts the folders ``sims/`` and
  ``theory/`` on ``sys.path``: their ``__init__`` calls `redirect` when imported under the old name.

Either way ``sims.X`` *is* ``hmin.sims.X`` (the same module object, so registries and classes are not
duplicated), and the first old-style import warns with a `DeprecationWarning`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old top-level name -> its place in the hmin namespace
OLD = {"sims": "hmin.sims", "theory": "hmin.theory"}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):  # the target module is already executed
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``sims[.X]`` / ``theory[.X]`` with the module ``hmin.sims[.X]`` / ``hmin.theory[.X]``."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head not in OLD:
            return None
        new = OLD[head] + ("." + rest if rest else "")
        if importlib.util.find_spec(new) is None:
            return None
        _warn(head)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


_FINDER = _AliasFinder()
_warned: set[str] = set()


def _warn(head: str) -> None:
    if head not in _warned:
        _warned.add(head)
        warnings.warn(f"`import {head}` is deprecated: hmin's packages are `{OLD[head]}` since 0.2 "
                      f"(the old name will be removed in 0.3)", DeprecationWarning, stacklevel=4)


def install() -> None:
    """Make ``import sims`` / ``import theory`` resolve to ``hmin.sims`` / ``hmin.theory`` in this process.

    Called only by the plug-in loader (a plug-in asked for the old names) and by `redirect`; importing
    ``hmin`` does not call it, so another package's top-level ``sims`` is never shadowed.
    """
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def redirect(name: str) -> None:
    """Replace the module being imported as ``name`` (a folder found on ``sys.path``) by its hmin module."""
    install()
    _warn(name)
    sys.modules[name] = importlib.import_module(OLD[name])
