"""``hmin check-plugin FILE|MODULE``: the contract sweep of the built-in statements, run on a plug-in."""

from __future__ import annotations

import argparse

HELP = """\
Load a plug-in statement (a .py file or an importable module defining STATEMENT and CHECK; see
docs/plugins.md) and run on it the contract every built-in statement passes in hmin's own tests:
it loads; settings for every preset (one frozen dataclass, JSON-able); the symbolic side runs and
every negative control is disproved; a quick measurement (seed 0) returns JSON types only (else the
key path of the first value that is not); judge returns a valid Verdict with a power statement; a
JSON round trip of the measurement leaves the verdict unchanged; every false variant is "violated";
plot writes the figures it returns. One line per item.

Exit status: 0 when every item passes, 1 when one fails, 2 on bad options.
"""


def register(sub) -> None:
    p = sub.add_parser("check-plugin", help="run the statement contract on a plug-in (one line per item)",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("plugin", metavar="FILE_OR_MODULE", help="a .py file or an importable module name")
    p.add_argument("--preset", default="quick", choices=("quick", "default", "full"),
                   help="the preset of the measurement (default quick: seconds)")
    p.add_argument("--out", default=None, help="keep the measurement's figures here (default: a temporary folder)")
    p.set_defaults(func=main)


def main(args) -> int:
    from hmin.sims.contract import iter_check_plugin

    ok = True
    items = []
    for item in iter_check_plugin(args.plugin, args.out, preset=args.preset):
        print(item.line(), flush=True)
        items.append(item)
        ok = ok and item.ok
    print(f"{args.plugin}: {'meets the contract' if ok else 'does NOT meet the contract'} "
          f"({sum(i.ok for i in items)}/{len(items)} items pass)")
    return 0 if ok else 1
