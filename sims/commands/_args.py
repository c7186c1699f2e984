"""Argument builders shared by the verbs: one definition of each option that several verbs take.

An option that two verbs share is built here once (its flag, type, metavar, help), so that
``hmin verify --processes`` and ``hmin select --processes`` cannot drift apart. Options whose legal
values are a known set take them from the dict that dispatches on them (`LazyChoices`), so
``--help`` lists them and a typo is refused by the parser with its usual one-line error (exit 2).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator

from hmin.sims.distributed import ENV_HELP

#: the exit statuses of every verb, printed at the end of ``hmin --help`` and of each verb's help
EXIT_HELP = ("exit status: 0 success; 1 a runtime failure (a diverged run, a lost process, a check that could not "
             "run); 2 a usage or input error (a bad option, an unreadable file, NaN or duplicate points, an "
             "unknown id); 130 interrupted")


class LazyChoices:
    """The keys of ``module.NAME`` (a dict or tuple), imported on first use.

    argparse only needs ``in`` and iteration from ``choices``; importing the module (JAX, for the
    model zoo) waits until a verb that uses the option is parsed or its help is shown, so ``hmin
    --version`` and the other verbs start without it.
    """

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def _names(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __contains__(self, item) -> bool:
        return item in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def add_verbosity(p: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` (repeatable) and ``-q/--quiet``; accepted before or after the verb."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="more log lines on stderr (-v: debug)")
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="warnings and errors only on stderr (same as HMIN_QUIET=1)")


def verbosity(args: argparse.Namespace) -> int:
    """-1 quiet, 0 normal, >= 1 verbose."""
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def add_points(p: argparse.ArgumentParser) -> None:
    p.add_argument("points", metavar="POINTS",
                   help="an (N, d) array: .npy, or .csv (comma or whitespace, optional header)")


def add_preset(p: argparse.ArgumentParser, *, quick: str, full: str) -> None:
    """``--quick`` / ``--full`` (default: the "default" preset) into ``args.preset``."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="preset", action="store_const", const="quick", help=quick)
    g.add_argument("--full", dest="preset", action="store_const", const="full", help=full)
    p.set_defaults(preset="default")


def add_out(p: argparse.ArgumentParser, default: str | None, help: str) -> None:
    p.add_argument("--out", default=default, help=help)


def add_json(p: argparse.ArgumentParser, help: str = "print the summary as JSON on stdout") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_plugins(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", action="append", default=[], metavar="FILE_OR_MODULE",
                   help="add a statement from a .py file or an importable module (repeatable)")


def add_processes(p: argparse.ArgumentParser, what: str) -> None:
    """``--processes N``: the local launcher (one machine); ``what`` says what is split."""
    p.add_argument("--processes", type=int, default=1, metavar="N",
                   help=f"{what} across N local processes (jax.distributed over 127.0.0.1, gloo); process 0 "
                        f"writes.  {ENV_HELP}")


def add_allow_duplicates(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--allow-duplicates", action="store_true", help=help)
