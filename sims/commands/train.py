"""``hmin train POINTS --labels Y``: train a network on your data; the loss curve against the theory.

A thin shell over :func:`sims.train.train_and_measure`: the points load and fail like
``hmin geometry`` (``.npy`` or ``.csv``; NaN, duplicates, N < 2 refused with one line); the labels load
the same way.  Every bad input is one line on stderr and exit status 2 (the parser's own errors included); a
diverged run is a runtime failure, exit status 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hmin.sims.commands._args import LazyChoices, add_allow_duplicates, add_json, add_out, add_points
from hmin.sims.errors import InputError

#: the losses `sims.train.prepare_labels` and `sims.diagnostics.make_loss` know
LOSSES = ("mse", "ce")


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on your points and labels; loss curve against the theory (T5, T6), h_min, slow pairs",
        description="Train a network (hmin's zoo: shallow, mlp, residual, transformer) on POINTS with LABELS by "
                    "full-batch GD, mini-batch SGD, momentum or Adam, and write to --out: the loss curve with T6's "
                    "linearised prediction from the Gram matrix at init and T5's descent bound, mu_t = (2/N) "
                    "lambda_min(G_t), lambda_max, the sharpness against 2/eta, weight and Gram movement, the data's "
                    "geometry (h_min and its pair, q_X = h_min/2, nearest-neighbour distance quantiles) and the close "
                    "pairs whose differing labels slow GD down (T6). Figures in OUT/figures/, OUT/summary.json, "
                    "OUT/arrays.npz; resumable (a finished run is not trained again); progress on stderr.",
    )
    add_points(p)
    p.add_argument("--labels", required=True, metavar="Y",
                   help="labels (.npy or .csv), N rows: targets for --loss mse; class ids 0..C-1 or one-hot for ce")
    p.add_argument("--arch", default="shallow", choices=LazyChoices("hmin.sims.models", "ARCHITECTURES"),
                   help="the model (default shallow)")
    p.add_argument("--width", type=int, default=512, help="hidden width (transformer: d_model); default 512")
    p.add_argument("--depth", type=int, default=2, help="layers of mlp / blocks of residual (default 2)")
    p.add_argument("--tokens", type=int, default=1, help="transformer only: split x into this many tokens")
    p.add_argument("--activation", default="tanh", choices=LazyChoices("hmin.sims.models", "ACTIVATIONS"),
                   help="the nonlinearity (default tanh)")
    p.add_argument("--loss", default="mse", choices=LOSSES,
                   help="mse (default; the squared loss L of docs/statements.md) or ce (cross-entropy)")
    p.add_argument("--optimizer", default="gd", choices=LazyChoices("hmin.sims.gd", "OPTIMIZERS"),
                   help="gd (full batch, default), sgd (mini-batch, needs --batch), momentum or adam")
    p.add_argument("--batch", type=int, default=None, help="mini-batch size B <= N (sgd; also momentum/adam)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lr", type=float, default=None, help="learning rate eta")
    g.add_argument("--lr-scale", type=float, default=None,
                   help="eta as a fraction of the stable step at init: 2N/lambda_max(G_0) (mse) or 2/sharpness "
                        "(ce); default 0.5 (Adam: give --lr; default 1e-3)")
    p.add_argument("--momentum", type=float, default=0.9, help="heavy-ball coefficient for --optimizer momentum")
    p.add_argument("--steps", type=int, default=2000, help="optimizer steps (default 2000)")
    rg = p.add_mutually_exclusive_group()
    rg.add_argument("--record-every", type=int, default=None,
                    help="diagnostics every this many steps (default: as many records as --diag-budget allows, "
                         "log-spaced and even)")
    rg.add_argument("--records", type=int, default=None,
                    help="this many diagnostics records, log-spaced (dense early) and even (default: by --diag-budget)")
    p.add_argument("--diag-budget", type=float, default=0.5,
                   help="share of the run's time the diagnostics may take (default 0.5: at most about half, and "
                        "always 10 s); the step and record costs are measured first and the estimate printed "
                        "before the run")
    p.add_argument("--spectrum", choices=("auto", "dense", "lanczos"), default="auto",
                   help="lambda_min/lambda_max of G = J J^T: dense (form G), lanczos (matrix-free, with residuals) "
                        "or auto (default: dense while N k <= 256)")
    p.add_argument("--eps", type=float, default=1e-3, help="time to eps = first t with L_t <= eps L_0 (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and mini-batches (default 0)")
    add_out(p, "runs/train", "output directory (default runs/train)")
    add_allow_duplicates(p, "accept duplicate points (h_min = 0)")
    add_json(p)
    p.set_defaults(func=main)


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".hmin-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise InputError(f"cannot write to --out {out}: {e.strerror or e}") from None
    return path


def build_model(args, d: int, k: int):
    """The zoo model named by --arch with the command's options."""
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.models import ACTIVATIONS, ARCHITECTURES, make_model

    if args.arch not in ARCHITECTURES:  # the parser's choices; this guards callers that build args by hand
        raise InputError(f"unknown architecture {args.arch!r}; choose from {', '.join(ARCHITECTURES)}")
    if args.activation not in ACTIVATIONS:
        raise InputError(f"unknown activation {args.activation!r}; choose from {', '.join(ACTIVATIONS)}")
    kw = dict(d=d, k=k, activation=args.activation)
    if args.arch == "transformer":
        kw.update(tokens=args.tokens, d_model=args.width)
    else:
        kw["width"] = args.width
    if args.arch in ("mlp", "residual"):
        kw["depth"] = args.depth
    return make_model(args.arch, **kw)


def main(args) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.geometry import load_points, validate_points
    from hmin.sims.store import to_jsonable
    from hmin.sims.train import TrainConfig, prepare_labels, report, train_and_measure

    cfg = TrainConfig(loss=args.loss, optimizer=args.optimizer, batch=args.batch, lr=args.lr, lr_scale=args.lr_scale,
                      steps=args.steps, seed=args.seed, record_every=args.record_every, loss_eps=args.eps,
                      momentum=args.momentum, allow_duplicates=args.allow_duplicates, records=args.records,
                      diag_budget=args.diag_budget, spectrum=args.spectrum)
    X = validate_points(load_points(args.points), name=args.points, allow_duplicates=args.allow_duplicates)
    n = X.shape[0]
    if args.batch is not None and args.batch > n:
        raise InputError(f"--batch {args.batch} is larger than the number of points N = {n}")
    Y = prepare_labels(load_points(args.labels), n, args.loss, name=args.labels)
    model = build_model(args, X.shape[1], Y.shape[1])
    out = _check_out(args.out)
    res = train_and_measure(model, X, Y, cfg, out, fail_on_divergence=True)
    if args.json:
        json.dump(to_jsonable(res.summary), sys.stdout, indent=2)
        print()
    else:
        print(report(res.summary))
    print(f"wrote {out}/summary.json, {out}/arrays.npz and figures in {out}/figures/", file=sys.stderr)
    return 0

