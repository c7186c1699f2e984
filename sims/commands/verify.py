"""``hmin verify``: the report card of every registered statement."""

from __future__ import annotations

import argparse
import os
import sys

from hmin.sims.distributed import ENV_HELP as _ENV_HELP

HELP = """\
Run every registered statement's checks: the built-in T1..T10 (the paper's claims as formalised by
hmin) and the reviewers' questions (C1, C3, ...), plus any plug-in statements. For each: the
symbolic side with sympy (proved / disproved / unproven) and the numeric side on measured GD
trajectories and Monte Carlo samples (holds / violated / inconclusive, with the numbers). The
statements themselves: `hmin statements` or docs/statements.md.

Writes OUT/report.md, OUT/report.html (the report card), OUT/results.json (per id: verdict,
numbers, symbolic results), OUT/figures/*.png and OUT/measured/*.json. Interrupted? Run the same
command again: the checks it finished are reused (keyed by statement, preset, seed and code version).

Several seeds (--seeds 0-4): every check runs on each seed; the report shows each seed's verdict, a
stability column and a combined verdict (holds on every seed -> holds; violated on at least half ->
violated; otherwise inconclusive).

Several processes (--processes N, or the HMIN_* environment on several hosts): the checks not done
yet (statement x seed, and each statement's symbolic side) are split across the processes
(jax.distributed); process 0 plots and writes everything, once; the verdicts and numbers are those
of one process. results.json is rewritten after each statement.

Plug-ins: --plugin my_statement.py (or a module name) adds a statement written against the public
API (see docs/plugins.md and examples/relu_ntk_slope.py); installed packages can register statements
through the entry-point group "hmin.statements".

Exit status: 0 when every check ran (a violated theorem is a finding, not a crash); 1 when a check
or a plug-in could not run (its error is in the report); with --strict also 1 when a check says
"violated" or a symbolic check is disproved; 2 on bad options.
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
    s = p.add_mutually_exclusive_group()
    s.add_argument("--seed", type=int, default=None, help="base seed of every check (default 0)")
    s.add_argument("--seeds", default=None, metavar="LIST",
                   help="several base seeds, e.g. 0-4 or 0,3,7: per-seed verdicts, stability, combined verdict")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE_OR_MODULE",
                   help="add a statement from a .py file or an importable module (repeatable)")
    p.add_argument("--confirm", action="store_true",
                   help="afterwards, run the pre-registered fresh seeds (docs/preregistration.md) into OUT/confirmation "
                        "and add the confirmation table to the report card")
    p.add_argument("--strict", action="store_true", help="also exit 1 when a check says 'violated'")
    p.add_argument("--processes", type=int, default=1, metavar="N",
                   help="split the checks (statement x seed) across N local processes (jax.distributed over "
                        "127.0.0.1, gloo); process 0 plots and writes.  " + _ENV_HELP)
    p.set_defaults(func=main, preset="default")


def main(args) -> int:
    from hmin.sims import distributed
    from hmin.sims.errors import HminError, InputError
    from hmin.sims.registry import registry
    from hmin.sims.store import ensure_writable_dir
    from hmin.sims.verify import parse_seeds

    if args.processes < 1:
        raise InputError(f"--processes must be >= 1, got {args.processes}")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed or 0]
    reg = registry(args.plugin)
    ids = reg.parse_only(args.only)
    several = os.environ.get(distributed.ENV_NUM_PROCESSES, "") not in ("", "1")
    if not several or os.environ.get(distributed.ENV_PROCESS_ID) == "0":  # process 0 alone writes
        ensure_writable_dir(args.out, "--out")
    if args.processes > 1 and not several:
        return distributed.launch_cli(args._argv, args.processes, label="hmin verify", results=(1,))
    ctx = distributed.initialize()
    if not ctx.distributed:
        return _verify(args, reg, ids, seeds, None)
    try:
        status = _verify(args, reg, ids, seeds, ctx)
    except distributed.LostProcess as e:  # another process died: the launcher (if any) names it
        if not os.environ.get(distributed.ENV_LAUNCHED):
            print(f"hmin verify: error: {e}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(distributed.EXIT_LOST)  # without JAX's exit barrier, where the dead process would never arrive
    except distributed.DistributedError:
        raise  # raised on every process at once (sims.distributed.run_items): a normal exit
    except KeyboardInterrupt:
        if ctx.is_writer:
            print("hmin verify: interrupted; finished statements are kept and will be skipped on restart",
                  file=sys.stderr, flush=True)
        os._exit(130)  # without JAX's exit barrier
    except Exception as e:  # one process alone: the others would wait for it forever
        if not isinstance(e, HminError):
            import traceback

            traceback.print_exc()
        print(f"hmin verify: error: process {ctx.process_id} of {ctx.num_processes}: {str(e) or type(e).__name__}",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(2)  # without JAX's exit barrier, where the others would never arrive
    return status if ctx.is_writer else 0


def _verify(args, reg, ids, seeds, ctx) -> int:
    from hmin.sims.report import summary_table
    from hmin.sims.verify import exit_status, run_confirmation, run_verify

    status = 0
    results = run_verify(args.preset, args.out, only=args.only, seeds=seeds, reg=reg, ctx=ctx)
    if results is not None:  # None: another process of a multi-process run (process 0 reports)
        shown = [i for i in results if i in ids or (i in reg and reg[i].error)]
        print(summary_table(results, [i for i in reg if i in shown]))
        tb = [i for i in shown if results.get(i, {}).get("traceback")]
        if tb:  # where the full story is: the terminal shows the last frame only
            print(f"full traceback of {', '.join(tb)}: {args.out}/results.json, key \"traceback\" of the row "
                  "(per seed under \"seeds\")")
        status = exit_status(results, shown, args.strict)
    if args.confirm:
        conf = run_confirmation(args.preset, args.out, only=args.only, reg=reg, ctx=ctx)
        if conf is not None:
            print("\nfresh-seed confirmation (docs/preregistration.md):")
            print(summary_table(conf, [i for i in reg if i in conf]))
            status = max(status, exit_status(conf, [i for i in conf if i != "meta"], args.strict))
    if results is not None:
        print(f"\nreport: {args.out}/report.html  ({args.out}/report.md, {args.out}/results.json)")
    return status
