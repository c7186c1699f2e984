"""``hmin run EXPERIMENT``: run a named experiment with a preset, write figures and a summary."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import json
import sys

from hmin.sims.commands._args import add_json, add_out, add_preset, add_processes
from hmin.sims.errors import InputError
from hmin.sims.store import ensure_writable_dir, to_jsonable

# name -> (module, one-line help).  Each module defines PRESETS (dict of configs, incl. "default"),
# run(cfg, outdir) -> summary dict, and optionally report(summary) -> str for the terminal.
EXPERIMENTS = {
    "planted-pair": ("hmin.sims.experiments.planted_pair",
                     "GD slowdown vs h_min with one planted close pair, three label modes (T3, T4, T6)"),
    "real-data": ("hmin.sims.experiments.real_data",
                  "the paper's experiment in miniature: greedy max-min vs random subsets vs full set (digits)"),
    "selection": ("hmin.sims.experiments.selection",
                  "C2/C4: selectors on clustered data with a sparse background and rare modes"),
    "beyond-gd": ("hmin.sims.experiments.beyond_gd",
                  "C5: does a close pair slow mini-batch SGD, momentum and Adam? does T6's label dependence survive?"),
}


def register(sub) -> None:
    lines = "\n".join(f"  {k:14s} {v[1]}" for k, v in EXPERIMENTS.items())
    p = sub.add_parser(
        "run", help="run a named experiment (planted-pair, real-data, selection, beyond-gd)",
        description=f"Run an experiment; results go to --out (resumable: finished runs are skipped).\n\n"
                    f"experiments:\n{lines}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", choices=sorted(EXPERIMENTS), metavar="EXPERIMENT",
                   help="one of: " + ", ".join(sorted(EXPERIMENTS)))
    add_preset(p, quick="smallest preset (seconds; for smoke tests and teaching)",
               full="paper-grade preset (more seeds, longer runs)")
    add_out(p, None, "output directory (default: runs/EXPERIMENT)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override one config field, e.g. --set width=64 --set 'seeds=(0,1)'; repeatable")
    add_json(p)
    add_processes(p, "planted-pair only: split the runs (process 0 gathers)")
    p.set_defaults(func=main)


def apply_overrides(cfg, overrides: list[str]):
    """Return ``cfg`` with FIELD=VALUE overrides applied (values parsed as Python literals)."""
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes = {}
    for item in overrides:
        if "=" not in item:
            raise InputError(f"--set expects FIELD=VALUE, got {item!r}")
        name, raw = item.split("=", 1)
        name = name.strip()
        if name not in fields:
            raise InputError(f"unknown config field {name!r}; fields are: {', '.join(fields)}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        current = getattr(cfg, name)
        if isinstance(current, tuple) and not isinstance(value, tuple):
            value = tuple(value) if isinstance(value, list) else (value,)
        if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if current is not None and (not isinstance(value, type(current))
                                    or isinstance(value, bool) and not isinstance(current, bool)):
            raise InputError(f"--set {name}: expected {type(current).__name__}, got {value!r}")
        if isinstance(current, tuple) and current:  # the elements too: seeds=(0.5,) is not a seed
            want = type(current[0])
            if want is float:
                value = tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value)
            if any(not isinstance(v, want) or isinstance(v, bool) and want is not bool for v in value):
                raise InputError(f"--set {name}: expected a tuple of {want.__name__}, got {value!r}")
        changes[name] = value
    return dataclasses.replace(cfg, **changes)


def main(args) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims import distributed

    modname, _ = EXPERIMENTS[args.experiment]
    if args.processes < 1:
        raise InputError(f"--processes must be >= 1, got {args.processes}")
    if args.processes > 1 and args.experiment != "planted-pair":
        raise InputError(f"--processes: experiment {args.experiment!r} runs in one process only (planted-pair splits)")
    if distributed.wants_launcher(args.processes):
        return distributed.launch_cli(args._argv, args.processes, label="hmin run")
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name == modname:
            raise InputError(f"experiment {args.experiment!r} is not available in this version") from None
        raise
    cfg = apply_overrides(mod.PRESETS[args.preset], args.overrides)
    out = args.out or f"runs/{args.experiment}"
    ensure_writable_dir(out, "--out")
    ctx = distributed.initialize()
    if ctx.distributed:
        if args.experiment != "planted-pair":
            raise InputError(f"experiment {args.experiment!r} runs in one process only (planted-pair splits)")
        summary = mod.run(cfg, out, ctx=ctx)
        if not ctx.is_writer:
            return 0
    else:
        summary = mod.run(cfg, out)
    if args.json:
        json.dump(to_jsonable(summary), sys.stdout, indent=2)
        print()
    elif hasattr(mod, "report"):
        print(mod.report(summary))
    print(f"wrote {out}/summary.json and figures in {out}/figures/", file=sys.stderr)
    return 0
