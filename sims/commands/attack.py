"""``hmin attack ID``: search a statement's attack surface for a counterexample (the work is `sims.attack`)."""

from __future__ import annotations

import argparse

HELP = """\
Search for a counterexample to statement ID instead of waiting for one: random restarts of a gradient
method (Adam, vmapped) on the statement's margin (>= 0 where its claim holds; float64, with the judge's
tolerances), or an evolution strategy where the margin is not differentiable (ranks, greedy choices).
Every candidate lies inside the statement's hypotheses (its attack surface's parameterisation).

On stop (budget spent, a counterexample found, or Ctrl-C) the worst candidate is saved to
OUT/ID-CLAIM-attack.json (atomic write), re-judged from that file by the statement's rule in float64,
and the margin of every restart against iterations is drawn in OUT/ID-CLAIM-attack.png. A counterexample
is shrunk first (search coordinates set to 0 while it stays one). `hmin verify --replay FILE` re-judges a
saved file. Statements with an attack surface: `hmin attack --list`.

Exit status: 0 no counterexample; 1 a counterexample (re-judged from the saved file); 2 bad options;
130 interrupted (the best candidate so far is still saved).
"""


def register(sub) -> None:
    p = sub.add_parser("attack", help="search a statement's hypotheses for a counterexample",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id", nargs="?", default=None, help="statement id (e.g. T7)")
    p.add_argument("--claim", default=None,
                   help="which claim to attack (default: the statement's own; e.g. a refuted draft, see --list)")
    p.add_argument("--budget", type=float, default=60.0, metavar="SECONDS",
                   help="wall-clock seconds of search, compilation included (default 60)")
    p.add_argument("--restarts", type=int, default=8, metavar="K", help="restarts run side by side (default 8)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random starts (default 0)")
    p.add_argument("--out", default="attack", help="directory of the saved candidate and figure (default attack/)")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE_OR_MODULE",
                   help="add a statement from a .py file or an importable module (repeatable)")
    p.add_argument("--list", action="store_true", help="list the statements with an attack surface and their claims")
    p.set_defaults(func=main)


def main(args) -> int:
    import sys

    from hmin.sims.attack import attack, surface_of
    from hmin.sims.errors import InputError
    from hmin.sims.registry import registry
    from hmin.sims.store import ensure_writable_dir

    reg = registry(args.plugin)
    if args.list:
        for sid in reg:
            surf = getattr(reg[sid].check, "attack", None) if reg[sid].check is not None else None
            if surf is not None:
                print(f"{sid}: {surf.space}")
                for name, words in surf.claims.items():
                    print(f"    --claim {name!r}: {words}")
        return 0
    if args.id is None:
        raise InputError("name a statement id (hmin attack T7), or --list")
    entry, surf = surface_of(reg, args.id)
    if args.claim is not None and args.claim not in surf.claims:
        raise InputError(f"unknown claim {args.claim!r}; {entry.id}'s surface attacks: {', '.join(surf.claims)}")
    if not args.budget > 0:
        raise InputError(f"--budget must be > 0 seconds, got {args.budget}")
    if args.restarts < 1:
        raise InputError(f"--restarts must be a positive integer, got {args.restarts}")
    ensure_writable_dir(args.out, "--out")
    try:
        res = attack(entry, surf, claim=args.claim, budget=args.budget, restarts=args.restarts, seed=args.seed or 0,
                     out=args.out)
    except KeyboardInterrupt:
        print("hmin attack: interrupted before the first candidate was evaluated; nothing saved", file=sys.stderr)
        return 130
    print(res.line())
    if res.figure:
        print(f"figure: {res.figure}")
    sys.stdout.flush()
    if res.interrupted:
        return 130
    return 1 if res.counterexample else 0
