"""The numeric side of each statement, one module per statement (``sims/checks/<id>_<name>.py``).

Each module defines ``CHECK``, a `sims.registry.Check` (typed per-preset settings, ``measure``,
``judge`` with its variant hooks, ``plot``, ``false_variants``), joined by id with the statement of
``theory/`` of the same id. Modules are discovered by `sims.registry.builtin_registry`: there is no
list to edit. Modules whose name starts with ``_`` are shared helpers.

`CheckContext` and `run_check` live in `sims.registry` and are re-exported here.
"""

from __future__ import annotations

from hmin.sims.registry import PRESETS, Check, CheckContext, run_check

__all__ = ["PRESETS", "Check", "CheckContext", "run_check"]
