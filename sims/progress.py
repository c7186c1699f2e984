"""Progress for long runs, on stderr, so that stdout stays machine-readable.

Silent when ``HMIN_QUIET=1`` is set (tests set it)."""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def _quiet() -> bool:
    return os.environ.get("HMIN_QUIET", "") not in ("", "0")


def log(msg: str) -> None:
    if not _quiet():
        print(msg, file=sys.stderr, flush=True)


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Yield from ``items`` while printing ``desc i/total  elapsed`` lines to stderr."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    t0 = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        el = time.perf_counter() - t0
        tot = f"/{total}" if total else ""
        eta = ""
        if total:
            eta = f", ~{el / i * (total - i):.0f}s left"
        log(f"[{desc}] {i}{tot} done ({el:.1f}s{eta})")
