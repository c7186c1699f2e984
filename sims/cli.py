"""The ``hmin`` command line: a thin shell over library functions.

Each sub-command lives in ``sims/commands/<name>.py`` and exposes ``register(subparsers)``; the
work itself is a library function that a notebook or a test can call directly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hmin.sims.errors import HminError, InputError

# name -> module; each module defines register(subparsers) and sets func=handler(args) -> int.
COMMANDS = {
    "geometry": "hmin.sims.commands.geometry",
    "select": "hmin.sims.commands.select",
    "run": "hmin.sims.commands.run",
    "verify": "hmin.sims.commands.verify",
    "statements": "hmin.sims.commands.statements",
    "check-plugin": "hmin.sims.commands.check_plugin",
    "train": "hmin.sims.commands.train",
}

DESCRIPTION = """\
hmin: does the minimum pairwise distance h_min of the training data control how fast gradient
descent trains a neural network?  Checks the statements T1..T10 of Wang & Gu (arXiv 2506.24120)
as formalised by hmin (`hmin statements`, docs/statements.md), symbolically (sympy) and on
measured GD trajectories (JAX).

  hmin verify                 every theorem check; writes report.md/html, results.json, figures
  hmin statements [ID]        the statements checked: the list, or one in full
  hmin check-plugin FILE      run the statement contract on a plug-in of your own (docs/plugins.md)
  hmin run planted-pair       GD slowdown vs h_min on a planted close pair (T3, T4, T6)
  hmin geometry POINTS.npy    h_min, q_X = h_min/2, fill distance, mesh ratio of a point set
  hmin select POINTS.npy --k  a uniform subset (greedy max-min) with its T10 certificate
  hmin train POINTS --labels Y  train a network on your data; loss curve vs T5/T6, h_min, slow pairs
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``hmin select: error: ... (see hmin select --help)``, exit 2)
    instead of the usage block; sub-commands inherit it (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from hmin import version

    return version()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hmin", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"hmin {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in COMMANDS.values():
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)  # for the --processes launcher
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:  # one rule for every verb's --seed
            raise InputError(f"--seed must be >= 0, got {args.seed}")
        return int(args.func(args) or 0)
    except HminError as e:  # theory's and sims' bad-input errors are one class (theory.errors)
        from hmin.sims import distributed

        if isinstance(e, distributed.LostProcess) and os.environ.get(distributed.ENV_LAUNCHED):
            return distributed.EXIT_LOST  # the launcher names the process that failed
        print(f"hmin {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hmin {args.command}: interrupted; finished runs are kept and will be skipped on restart", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
