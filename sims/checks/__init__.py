"""The numeric side of each statement, one module per statement (``sims/checks/<id>_<name>.py``).

Each module defines ``CHECK``, a `sims.registry.Check` (typed per-preset settings, ``measure``,
``judge`` with its variant hooks, ``plot``, ``false_variants``), joined by id with the statement of
``theory/`` of the same id. Modules are discovered by `sims.registry.builtin_registry`: there is no
list to edit. Modules whose name starts with ``_`` are shared helpers.

`Check`, `CheckContext` and `run_check` live in `hmin.sims.registry` (import them from there): this
package re-exports nothing, so that the registry, which discovers the modules here by name, and the
checks, which import the registry, form no circle.
"""

from __future__ import annotations

__all__: list[str] = []
