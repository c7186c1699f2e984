"""Regenerate docs/statements.md and docs/api.md from the code: ``python tools/reference.py`` (``make docs``).

A developer tool, not part of the installed package: it documents the repository (the built-in
statements plus the example plug-ins of ``examples/``) and writes into it. The rendering itself is
the library's (`hmin.sims.reference.statements_markdown`, which ``hmin statements`` prints, and
`hmin.sims.apidoc.api_markdown`); tests/test_reference.py fails when a committed file is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from hmin.sims.apidoc import api_markdown
from hmin.sims.reference import statements_markdown
from hmin.sims.registry import builtin_registry
from hmin.sims.store import atomic_write_text

#: the repository this file belongs to
ROOT = Path(__file__).resolve().parents[1]


def docs_registry(root: str | Path | None = None):
    """The registry the committed reference documents: the built-in statements plus every shipped
    example plug-in (``examples/*.py`` of the repository that defines ``STATEMENT``), no entry points.

    Installed entry points are left out so that the committed file does not depend on what else is
    installed on the machine that generated it.

    Args:
        root: the repository root (default: the one this tool lies in).

    Returns:
        A `sims.registry.Registry`.
    """
    root = Path(root) if root is not None else ROOT
    specs = sorted(str(p) for p in (root / "examples").glob("*.py")
                   if not p.name.startswith("_") and "STATEMENT" in p.read_text(encoding="utf-8"))
    return builtin_registry().with_plugins(specs, entry_points=False)


def write_reference(root: str | Path | None = None, *, api: bool = True) -> list[Path]:
    """Regenerate ``docs/statements.md`` (and ``docs/api.md`` with ``api``) under the repository root.

    Args:
        root: the repository root (default: the one this tool lies in).
        api: also regenerate the API reference (`sims.apidoc.api_markdown`).

    Returns:
        The paths written (atomically).
    """
    root = Path(root) if root is not None else ROOT
    written = [root / "docs" / "statements.md"]
    atomic_write_text(written[0], statements_markdown(docs_registry(root)))
    if api:
        written.append(root / "docs" / "api.md")
        atomic_write_text(written[1], api_markdown())
    return written


def main(argv: Iterable[str] | None = None) -> int:  # pragma: no cover - thin wrapper
    p = argparse.ArgumentParser(prog="python tools/reference.py",
                                description="Regenerate docs/statements.md and docs/api.md from the code.")
    p.add_argument("--root", default=None, help="repository root (default: where this tool lies)")
    args = p.parse_args(list(argv) if argv is not None else None)
    for path in write_reference(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
