"""Configuration for every test and doctest of the repository (tests/ and the package folders).

- float64 for the whole test process, as diffrax's tests do (the library itself only scopes it:
  hmin.sims.precision; tests/test_side_effects.py checks that in a fresh process);
- rank promotion raises: an accidental (N,) + (N,1) broadcast is an error, not an N x N matrix;
- progress output is silenced; matplotlib draws off-screen; hmin's on-disk caches are off
  (HMIN_CACHE=0); warnings are errors (pyproject);
- each test process keeps its own JAX compilation cache for the session (`pytest_configure`): a fresh
  temporary directory, removed at the end, so a program that two tests build (the same computation from two
  jitted functions) is compiled once and loaded the second time. Each pytest-xdist worker of ``make test``
  has its own, and the processes the tests start use none: no two processes ever write one entry (JAX
  writes its entries in place), and no session sees another's (every run is a cold run); the user's cache,
  ``~/.cache/hmin``, is never read or written;
- the docstring examples of ``hmin``, ``hmin.sims`` and ``hmin.theory`` are collected by pytest's own
  doctest items (``doctest_optionflags`` in pyproject), imported under their package names: the
  folders ``sims/`` and ``theory/`` install as ``hmin.sims`` and ``hmin.theory`` (package-dir), so
  ``--doctest-modules``, which names a module after its folder, would import ``sims.X`` through the
  deprecation shim; `pytest_collect_file` hands pytest the right module instead, and
  `pytest_collect_directory` keeps pytest from importing the folders' ``__init__`` by folder name.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("HMIN_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HMIN_CACHE", "0")  # hermetic: no compilation or symbolic cache shared with the user's runs

import jax  # noqa: E402
import pytest  # noqa: E402
from _pytest.doctest import DoctestModule  # noqa: E402  (pytest's doctest collector; only its import is changed)

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

ROOT = Path(__file__).resolve().parent
#: folder -> the package it installs as (pyproject's package-dir)
DOCTEST_FOLDERS = {ROOT / "hmin": "hmin", ROOT / "sims": "hmin.sims", ROOT / "theory": "hmin.theory"}


def pytest_configure(config):
    """This process's compilation cache for the session (module docstring): every program is kept (hmin's are many
    and small); set in this process's jax.config only, not in the environment that the tests' subprocesses inherit."""
    path = tempfile.mkdtemp(prefix="hmin-test-xla-")
    config._hmin_session_cache = path
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_unconfigure(config):
    path = getattr(config, "_hmin_session_cache", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)


def module_name(path: Path) -> str | None:
    """The import name of a source file of hmin's packages (None outside them)."""
    for folder, pkg in DOCTEST_FOLDERS.items():
        if folder in path.parents:
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            return ".".join([pkg, *parts])
    return None


def doctest_files() -> dict[Path, str]:
    """Every source file of hmin's packages with a ``>>>`` example, and its module name."""
    out = {}
    for folder in DOCTEST_FOLDERS:
        for f in sorted(folder.rglob("*.py")):
            if "__pycache__" not in f.parts and f.name != "__main__.py" and ">>>" in f.read_text(encoding="utf-8"):
                out[f] = module_name(f)
    return out


class HminDoctestModule(DoctestModule):
    """pytest's doctest collector for one module, imported as ``hmin.sims.X`` rather than ``sims.X``."""

    def _getobj(self):
        return importlib.import_module(module_name(self.path))


class HminModule(pytest.Module):
    """A source file of hmin's packages named on the command line (``pytest sims/select.py``), imported
    under its package name."""

    def _getobj(self):
        return importlib.import_module(module_name(self.path))


def pytest_pycollect_makemodule(module_path: Path, parent):
    if module_name(module_path):
        return HminModule.from_parent(parent, path=module_path)
    return None


def pytest_collect_directory(path: Path, parent):
    """A folder of hmin's packages is a plain directory to pytest (no `Package` node, which would import
    its ``__init__`` by the folder's name, ``sims``, through the deprecation shim)."""
    if (path / "__init__.py").is_file() and module_name(path / "__init__.py"):
        return pytest.Dir.from_parent(parent, path=path)
    return None


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".py" and module_name(file_path) and file_path in doctest_files():
        return HminDoctestModule.from_parent(parent, path=file_path)
    return None
