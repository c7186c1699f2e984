"""The ``hmin`` command line: a thin shell over library functions.

Each sub-command lives in ``sims/commands/<name>.py`` and exposes ``register(subparsers)``; the
work itself is a library function that a notebook or a test can call directly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hmin.sims.commands._args import EXIT_HELP, add_verbosity, verbosity
from hmin.sims.errors import HminError, InputError
from hmin.sims.precision import float64_scope
from hmin.sims.progress import configure_cli

#: exit statuses (documented in ``hmin --help``)
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# name -> module; each module defines register(subparsers) and sets func=handler(args) -> int.
COMMANDS = {
    "geometry": "hmin.sims.commands.geometry",
    "select": "hmin.sims.commands.select",
    "run": "hmin.sims.commands.run",
    "verify": "hmin.sims.commands.verify",
    "statements": "hmin.sims.commands.statements",
    "check-plugin": "hmin.sims.commands.check_plugin",
    "train": "hmin.sims.commands.train",
    "attack": "hmin.sims.commands.attack",
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
  hmin attack ID              search a statement's hypotheses for a counterexample (saved, replayable)

Progress goes to stderr through Python's logging (-v more, -q or HMIN_QUIET=1 less); results go to
stdout and files.
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``hmin select: error: ... (see hmin select --help)``, exit 2)
    instead of the usage block; sub-commands inherit it (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin import version

    return version()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hmin", description=DESCRIPTION, epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"hmin {_version()}")
    add_verbosity(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in COMMANDS.values():
        importlib.import_module(modname).register(sub)
    for p in sub.choices.values():  # every verb: -v/-q after the verb too, and the exit statuses in its --help
        add_verbosity(p)
        p.epilog = EXIT_HELP if p.epilog is None else f"{p.epilog}\n\n{EXIT_HELP}"
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (`EXIT_HELP`): 0 ok, 1 runtime failure, 2 usage or
    input error, 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)  # for the --processes launcher
    configure_cli(verbosity(args))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:  # one rule for every verb's --seed
            raise InputError(f"--seed must be >= 0, got {args.seed}")
        with float64_scope():  # the verbs compute in float64 where verdicts need it; the caller's setting after
            return int(args.func(args) or 0)
    except HminError as e:  # theory's and sims' errors are one hierarchy (theory.errors)
        # here: the parser (hmin --help, the other verbs) does not load this verb's library
        from hmin.sims import distributed

        if isinstance(e, distributed.LostProcess) and os.environ.get(distributed.ENV_LAUNCHED):
            return distributed.EXIT_LOST  # the launcher names the process that failed
        print(f"hmin {args.command}: error: {e}", file=sys.stderr)
        # bad input is the user's to fix (2); anything else (divergence, a lost process) is a failure (1)
        return EXIT_USAGE if isinstance(e, InputError) else EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"hmin {args.command}: interrupted; finished runs are kept and will be skipped on restart", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
