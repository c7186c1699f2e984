"""``hmin verify``: the report card of every registered statement."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from hmin.sims.commands._args import add_out, add_plugins, add_preset, add_processes

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

Caches: compiled XLA programs (JAX's persistent compilation cache), each statement's symbolic
results and C5's step tuning are kept in $HMIN_CACHE_DIR, else $XDG_CACHE_HOME/hmin, else
~/.cache/hmin, so a second run compiles, runs sympy and tunes far less; all are keyed by the code, so a
stale entry is never used.
--no-cache (or HMIN_CACHE=0) turns them off; deleting the directory is always safe.

Figures are drawn for the first seed only (the report card shows those); --all-figures draws every
seed's under OUT/seeds/seedN/figures.

Exit status: 0 when every check ran (a violated theorem is a finding, not a crash); 1 when a check
or a plug-in could not run (its error is in the report); with --strict also 1 when a check says
"violated" or a symbolic check is disproved; 2 on bad options.
"""


def register(sub) -> None:
    p = sub.add_parser("verify", help="run every theorem check and write the report card",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_preset(p, quick="smallest sizes (about a minute; a smoke test, not evidence)",
               full="paper-grade sizes (tens of minutes)")
    p.add_argument("--only", default=None, metavar="IDS",
                   help="comma-separated ids, e.g. T4,T6 (merged into an existing results.json)")
    add_out(p, "figures", "report directory (default: figures/)")
    s = p.add_mutually_exclusive_group()
    s.add_argument("--seed", type=int, default=None, help="base seed of every check (default 0)")
    s.add_argument("--seeds", default=None, metavar="LIST",
                   help="several base seeds, e.g. 0-4 or 0,3,7: per-seed verdicts, stability, combined verdict")
    add_plugins(p)
    p.add_argument("--confirm", action="store_true",
                   help="afterwards, run the pre-registered fresh seeds (docs/preregistration.md) into OUT/confirmation "
                        "and add the confirmation table to the report card")
    p.add_argument("--strict", action="store_true", help="also exit 1 when a check says 'violated'")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the compilation and symbolic caches (also: HMIN_CACHE=0)")
    p.add_argument("--all-figures", action="store_true",
                   help="draw every seed's figures, not only the first seed's")
    p.add_argument("--attack", type=float, default=None, metavar="SECONDS",
                   help="afterwards, search each statement with an attack surface for a counterexample for SECONDS "
                        "(hmin attack); the report card gives the closest margin found and the search's strength")
    p.add_argument("--replay", default=None, metavar="FILE",
                   help="only re-judge a candidate saved by hmin attack (float64); exit 1 when the verdict differs "
                        "from the saved one")
    add_processes(p, "split the checks (statement x seed); process 0 plots and writes")
    p.set_defaults(func=main)


def main(args) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims import distributed
    from hmin.sims.errors import HminError, InputError
    from hmin.sims.registry import registry
    from hmin.sims.store import ensure_writable_dir
    from hmin.sims.verify import parse_seeds

    if args.processes < 1:
        raise InputError(f"--processes must be >= 1, got {args.processes}")
    if not args.no_cache:
        from hmin.sims.caches import enable_caches

        enable_caches()
    if args.replay is not None:
        return _replay(args)
    if args.attack is not None and not args.attack > 0:
        raise InputError(f"--attack must be > 0 seconds, got {args.attack}")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed or 0]
    reg = registry(args.plugin)
    ids = reg.parse_only(args.only)
    if distributed.planned_writer():  # process 0 alone writes (hmin's variables, or a Slurm/Open MPI job)
        ensure_writable_dir(args.out, "--out")
    if distributed.wants_launcher(args.processes):
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
            traceback.print_exc()
        print(f"hmin verify: error: process {ctx.process_id} of {ctx.num_processes}: {str(e) or type(e).__name__}",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(2)  # without JAX's exit barrier, where the others would never arrive
    return status if ctx.is_writer else 0


def _verify(args, reg, ids, seeds, ctx) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.report import summary_table
    from hmin.sims.verify import exit_status, run_confirmation, run_verify

    status = 0
    results = run_verify(args.preset, args.out, only=args.only, seeds=seeds, reg=reg, ctx=ctx,
                         all_figures=args.all_figures)
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
    if results is not None and args.attack:
        from hmin.sims.attack import attack_line, run_attacks

        done = run_attacks(results, reg, [i for i in ids if i in results], args.attack, args.out, seed=seeds[0])
        print(f"\nattack ({args.attack:g} s per statement with an attack surface; hmin attack):")
        for sid, summ in done.items():
            print(f"{sid:6s} {attack_line(summ, results[sid].get('verdict'))}")
    if results is not None:
        print(f"\nreport: {args.out}/report.html  ({args.out}/report.md, {args.out}/results.json)")
    return status


def _replay(args) -> int:
    from hmin.sims.attack import replay
    from hmin.sims.registry import registry

    r = replay(args.replay, registry(args.plugin))
    word = "COUNTEREXAMPLE" if r["verdict"] == "counterexample" else "no counterexample"
    same = ("the same verdict as saved" if r["agrees"] else f"DIFFERS from the saved verdict {r['saved_verdict']!r} "
            f"(saved margin {r['saved_margin']})")
    print(f"{r['statement']} ({r['claim']}): {word}, margin {r['judged_margin']:.6g} re-judged in float64 "
          f"{r['description']}; {same}")
    return 0 if r["agrees"] else 1
