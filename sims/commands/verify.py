"""``hmin verify``: the report card of every statement of THEORY.md."""

from __future__ import annotations

import argparse

HELP = """\
Run every theorem check of THEORY.md (T1..T10) and the reviewers' questions C1, C3:
the symbolic side with sympy (proved / disproved / unproven) and the numeric side on measured GD
trajectories and Monte Carlo samples (holds / violated / inconclusive, with the numbers).

Writes OUT/report.md, OUT/report.html (the report card), OUT/results.json (per id: verdict,
numbers, symbolic results), OUT/figures/*.png and OUT/measured/*.json.

Exit status: 0 when every check ran (a violated theorem is a finding, not a crash); 1 when a check
could not run (its error is in the report); with --strict also 1 when a check says "violated" or a
symbolic check is disproved; 2 on bad options.
"""


def register(sub) -> None:
    p = sub.add_parser("verify", help="run every theorem check and write the report card",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="preset", action="store_const", const="quick",
                   help="smallest sizes (about a minute; a smoke test, not evidence)")
    g.add_argument("--full", dest="preset", action="store_const", const="full",
                   help="paper-grade sizes (tens of minutes)")
    p.add_argument("--only", default=None, metavar="IDS",
                   help="comma-separated ids, e.g. T4,T6 (merged into an existing results.json)")
    p.add_argument("--out", default="figures", help="report directory (default: figures/)")
    p.add_argument("--seed", type=int, default=0, help="base seed of every check (default 0)")
    p.add_argument("--strict", action="store_true", help="also exit 1 when a check says 'violated'")
    p.set_defaults(func=main, preset="default")


def main(args) -> int:
    from sims.report import summary_table
    from sims.verify import exit_status, parse_only, run_verify

    ids = parse_only(args.only)
    results = run_verify(args.preset, args.out, only=args.only, seed=args.seed)
    print(summary_table(results, ids))
    print(f"\nreport: {args.out}/report.html  ({args.out}/report.md, {args.out}/results.json)")
    return exit_status(results, ids, args.strict)
