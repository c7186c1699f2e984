"""``hmin statements``: the statement reference on the terminal (the text of docs/statements.md)."""

from __future__ import annotations

import argparse

from hmin.sims.commands._args import add_plugins

HELP = """\
Print the statements hmin checks, from the registry of statements: without ID the list (id, kind,
title; one line each), with ID one statement in full: kind (EXACT / OURS / QUESTION), paper
reference, the statement and its hypotheses, its symbolic checks by role (claims, negative
controls, refuted drafts with their counterexamples; running them takes a few seconds, T7 about
20 s), and what its numeric check measures with the rule of its verdict. The same text as
docs/statements.md, which also explains the notation (h_min vs q_X = h_min/2, L, J, G, mu, tau_eps).

Plug-ins (--plugin FILE_OR_MODULE, and installed entry points of the group "hmin.statements") are
listed with the built-in statements.
"""


def register(sub) -> None:
    p = sub.add_parser("statements", help="list the statements, or print one in full",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", nargs="?", default=None, metavar="ID",
                   help="a statement id such as T6 (case-insensitive); omit for the list")
    add_plugins(p)
    p.set_defaults(func=main)


def main(args) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.errors import InputError
    from hmin.sims.reference import statement_line, statement_text
    from hmin.sims.registry import registry

    reg = registry(args.plugin)
    if args.id is None:
        for entry in reg.values():
            print(statement_line(entry))
        print("\n`hmin statements ID` prints one in full; docs/statements.md has them all.")
        return 0
    by_upper = {sid.upper(): sid for sid in reg}
    sid = by_upper.get(args.id.strip().upper())
    if sid is None:
        raise InputError(f"unknown statement id {args.id!r}; choose from {', '.join(reg)}")
    print(statement_text(reg[sid]), end="")
    return 0
