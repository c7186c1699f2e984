"""Progress and log lines through the standard `logging` module; progress bars in notebooks.

Every module logs to its own logger, ``logging.getLogger(__name__)`` (``hmin.sims.verify``,
``hmin.sims.select``, ...), all under the ``hmin`` logger. The library installs no handler beyond a
`logging.NullHandler`, so a notebook or a program decides what it sees the usual way
(``logging.basicConfig(level="INFO")``, ``logging.getLogger("hmin").setLevel("WARNING")``,
pytest's ``caplog``). The command line installs one handler on stderr (`configure_cli`): progress at
INFO by default, ``-v`` adds DEBUG, ``-q`` (or ``HMIN_QUIET=1``, kept as an alias) leaves warnings and
errors only. stdout stays machine-readable.

`progress` wraps a loop: a ``tqdm.auto`` bar (a widget in Jupyter) when tqdm is installed and hmin is
used as a library, one log line per item otherwise (the command line, or no tqdm). tqdm is optional,
never a dependency.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

__all__ = ["LOGGER", "configure_cli", "quiet_env", "progress", "log"]

T = TypeVar("T")

#: the root of hmin's loggers
LOGGER = "hmin"
logging.getLogger(LOGGER).addHandler(logging.NullHandler())

_CLI_HANDLER: logging.Handler | None = None


def quiet_env() -> bool:
    """``HMIN_QUIET`` is set to something other than "" or "0" (the alias of ``-q``)."""
    return os.environ.get("HMIN_QUIET", "") not in ("", "0")


def configure_cli(verbosity: int = 0) -> None:
    """The command line's handler: hmin's log records as plain lines on stderr.

    Args:
        verbosity: -1 (``-q``, or ``HMIN_QUIET=1``): warnings and errors only; 0: progress (INFO);
            1 or more (``-v``): DEBUG too.
    """
    global _CLI_HANDLER
    if quiet_env():
        verbosity = min(verbosity, -1)
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    root = logging.getLogger(LOGGER)
    if _CLI_HANDLER is None:
        _CLI_HANDLER = _Stderr()
        _CLI_HANDLER.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(_CLI_HANDLER)
    root.setLevel(level)


class _Stderr(logging.StreamHandler):
    """A stream handler on whatever ``sys.stderr`` is when a record is written (like logging's own
    last-resort handler): ``cli.main`` called twice in one process, or under pytest's capture, writes
    to the current stderr, never to a closed one."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def _cli() -> bool:
    return _CLI_HANDLER is not None


def log(msg: str) -> None:
    """An INFO line on the ``hmin`` logger (for code without a module logger of its own, e.g. plug-ins)."""
    logging.getLogger(LOGGER).info(msg)


def _bar_wanted() -> bool:
    """A tqdm bar: library use (not the CLI), not silenced (HMIN_QUIET, or the hmin logger set above INFO)."""
    if _cli() or quiet_env():
        return False
    level = logging.getLogger(LOGGER).level
    return level == logging.NOTSET or level <= logging.INFO


def progress(items: Iterable[T], desc: str, total: int | None = None, *,
             logger: logging.Logger | None = None, lines: bool = True, enabled: bool = True) -> Iterator[T]:
    """Yield from ``items`` with progress: a ``tqdm.auto`` bar when available (library use), else
    ``[desc] i/total done (elapsed, ~left)`` lines at INFO on ``logger`` (default ``hmin``).

    ``lines=False``: no lines (the loop logs its own), only the bar; ``enabled=False``: neither
    (e.g. on every process but the one that writes)."""
    if not enabled:
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if _bar_wanted():
        try:
            from tqdm.auto import tqdm  # optional: only when installed
        except ImportError:
            pass
        else:
            yield from tqdm(items, desc=desc, total=total, leave=False)
            return
    if not lines:
        yield from items
        return
    out = logger or logging.getLogger(LOGGER)
    t0 = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        el = time.perf_counter() - t0
        tot = f"/{total}" if total else ""
        eta = f", ~{el / i * (total - i):.0f}s left" if total else ""
        out.info(f"[{desc}] {i}{tot} done ({el:.1f}s{eta})")
