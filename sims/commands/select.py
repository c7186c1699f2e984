"""``hmin select POINTS --k K``: choose a uniform subset (greedy max-min by default) and certify it.

Writes ``DIR/indices.npy`` (row indices into POINTS, in selection order), ``DIR/selection.json``
(method, metric, k, the achieved h_min, the T10 certificate for max-min, the uniformity report of
the pool and of the subset) and ``DIR/selection.png`` (a 2-D PCA picture).  Everything is
computed before anything is written, and each file is written atomically (temporary file +
rename), ``selection.json`` last: bad input leaves DIR untouched.

Duplicate rows: an error by default (naming the first pair), because exact duplicates make
h_min = 0 and usually mean a mistake; ``--dedupe`` keeps the first row of each group of equal
rows, says how many were dropped, and still reports indices of the ORIGINAL rows.  (With
``--metric cosine`` only equal rows count as duplicates; parallel rows have chordal distance 0
but are kept.)
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from hmin.sims.commands._args import LazyChoices, add_out, add_points, add_processes
from hmin.sims.errors import InputError

# pool reports above this many pair-coordinate operations (N^2 d / 2) skip the exact h_min
POOL_PAIR_WORK = 2e11
# fill-distance probes cost N d each (x ~4: two passes, plus the local ascent): budget of N d n_probe
POOL_FILL_WORK = 5e10
PLOT_MAX_POOL = 20000


def register(sub) -> None:
    p = sub.add_parser(
        "select",
        help="choose k uniform points (greedy max-min with its T10 certificate, or another selector)",
        description="Select k of the N points of POINTS and write DIR/indices.npy, DIR/selection.json and "
        "DIR/selection.png.  Greedy max-min (the paper's Algorithm 1) comes with the certificate "
        "h_min(S_k) = r_k >= OPT_k / 2 (T10; hmin statements T10).",
    )
    add_points(p)
    p.add_argument("--k", type=int, required=True, help="number of points to select (2 <= k <= N)")
    p.add_argument("--method", choices=LazyChoices("hmin.sims.select", "SELECTORS"), default="maxmin",
                   help="selector (default maxmin)")
    p.add_argument("--metric", choices=LazyChoices("hmin.sims.select", "METRICS"), default="euclidean",
                   help="euclidean, or cosine = chordal distance ||u/|u| - v/|v||| (a true metric)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--first", type=int, default=None,
                   help="index of the first point (default: seeded random choice for maxmin/kmeans++)")
    add_out(p, "select_out", "output directory (default select_out)")
    p.add_argument("--dedupe", action="store_true",
                   help="drop exact duplicate rows (keep the first of each group) instead of failing")
    p.add_argument("--labels", default=None,
                   help="optional .npy/.csv with one label per row: per-label coverage in the report")
    add_processes(p, "maxmin only: split the pool's rows (the same indices as one process)")
    p.set_defaults(func=main)


def _load_labels(path: str, n: int):
    import numpy as np

    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.geometry import load_points

    p = Path(path)
    if p.suffix.lower() == ".npy":
        if not p.exists():
            raise InputError(f"no such file: {p}")
        lab = np.load(p, allow_pickle=False)
    else:
        lab = load_points(p)
        if lab.ndim == 2 and lab.shape[1] == 1:
            lab = lab[:, 0]
    lab = np.asarray(lab)
    if lab.ndim != 1 or len(lab) != n:
        raise InputError(f"--labels: expected {n} labels (one per row of POINTS), got shape {lab.shape}")
    return lab


def plot_selection(X, idx, *, title: str, subset_pair=None, seed: int = 0) -> bytes:
    """A PNG (bytes) of the pool (light grey) and the subset (highlighted) in 2-D PCA coordinates."""
    import numpy as np
    from matplotlib.figure import Figure  # the object API: no backend chosen, no global pyplot state

    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.select import _pca_axes, _project

    n, d = X.shape
    if d >= 2:
        Y = _project(X, _pca_axes(X, 2))
        xl, yl = "PC 1 (principal axis of the pool)", "PC 2"
    else:
        Y = np.column_stack([X[:, 0].astype(float), np.zeros(n)])
        xl, yl = "x (1-D data)", ""
    rng = np.random.default_rng(seed)
    show = np.arange(n) if n <= PLOT_MAX_POOL else np.sort(rng.choice(n, PLOT_MAX_POOL, replace=False))
    fig = Figure(figsize=(7.5, 6.2))
    ax = fig.subplots()
    pool_lbl = f"pool (N = {n})" if n <= PLOT_MAX_POOL else f"pool (random {PLOT_MAX_POOL:,} of N = {n:,} shown)"
    ax.scatter(Y[show, 0], Y[show, 1], s=4, c="0.8", label=pool_lbl, rasterized=True)
    ax.scatter(Y[idx, 0], Y[idx, 1], s=18, c="tab:red", edgecolors="k", linewidths=0.3,
               label=f"selected (k = {len(idx)})", zorder=3)
    ax.scatter(Y[idx[0], 0], Y[idx[0], 1], s=90, marker="*", c="gold", edgecolors="k", zorder=4,
               label="first selected point")
    if subset_pair is not None:
        a, b = subset_pair
        ax.plot(Y[[a, b], 0], Y[[a, b], 1], "-", c="tab:blue", lw=1.5, zorder=4,
                label="closest selected pair (h_min)")
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    note = "2-D PCA projection: projected distances are <= true distances" if d > 2 else "coordinates up to a rotation"
    ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=7, color="0.35")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


def run(X, k: int, *, method="maxmin", metric="euclidean", seed=0, first=None, dedupe=False,
        labels=None) -> dict:
    """Select and report, without writing anything.  Returns a dict with ``indices`` (original rows),
    ``report`` (the JSON-able selection.json content) and ``png`` (bytes)."""
    import numpy as np

    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.geometry import duplicate_groups, validate_points
    from hmin.sims.select import chordal_normalize, select
    from hmin.sims.uniformity import coverage, uniformity_report

    X = validate_points(X, allow_duplicates=True, dtype=None, copy=False)
    n0 = len(X)
    groups = duplicate_groups(X)
    orig = np.arange(n0)
    dropped = 0
    if groups:
        if not dedupe:
            i, j = int(groups[0][0]), int(groups[0][1])
            extra = sum(len(g) - 1 for g in groups)
            raise InputError(
                f"duplicate rows {i} and {j} (h_min = 0); {extra} duplicate row(s) in {len(groups)} group(s); "
                "pass --dedupe to keep the first row of each group"
            )
        keep = np.ones(n0, dtype=bool)
        for g in groups:
            keep[g[1:]] = False
        dropped = int((~keep).sum())
        orig = np.flatnonzero(keep)
        X = X[keep]
        if labels is not None:
            labels = np.asarray(labels)[keep]
    if first is not None:
        if not 0 <= first < n0:
            raise InputError(f"--first must be a row index in [0, {n0}), got {first}")
        if len(orig) != n0:
            pos = np.searchsorted(orig, first)
            if pos >= len(orig) or orig[pos] != first:
                raise InputError(f"--first {first} is a dropped duplicate row; use the first row of its group")
            first = int(pos)
    sel = select(X, k, method=method, metric=metric, seed=seed, first=first)
    idx = sel.indices
    from hmin.sims.distributed import initialize

    if not initialize().is_writer:  # another process of a multi-process run: process 0 reports
        return {"indices": orig[idx].astype(np.int64), "report": None, "png": None, "selection": sel}
    Z = chordal_normalize(X) if metric == "cosine" else X
    dom, bounds = ("sphere", (np.zeros(X.shape[1]), 1.0)) if metric == "cosine" else ("cube", (Z.min(0), Z.max(0)))
    # fill-distance probes: 4000, fewer for a huge high-d pool (each probe costs N d); reported
    n_probe = int(min(4000, max(200, POOL_FILL_WORK / (X.shape[0] * X.shape[1]))))
    pool_rep = uniformity_report(Z, labels=labels, domain=dom, bounds=bounds, seed=seed, n_probe=n_probe,
                                 max_pair_work=POOL_PAIR_WORK)
    sub_rep = uniformity_report(Z[idx], labels=None if labels is None else labels[idx], domain=dom,
                                bounds=bounds, seed=seed, n_probe=n_probe, pool=Z)
    report = {
        "method": method,
        "metric": metric,
        "distance": ("chordal ||u/|u| - v/|v||| = sqrt(2 (1 - cos))" if metric == "cosine" else "Euclidean"),
        "k": int(k),
        "n_pool": int(len(X)),
        "n_rows": int(n0),
        "duplicates_dropped": dropped,
        "h_min": sel.h_min,
        "q_X": None if sel.h_min is None else sel.h_min / 2,
        "conventions": "h_min = min pairwise distance of the subset; q_X = h_min / 2",
        "indices_file": "indices.npy (row indices into POINTS, in selection order)",
        "certificate": sel.certificate,
        "info": sel.info,
        "pool": pool_rep,
        "subset": sub_rep,
    }
    if dropped:
        report["index_mapping"] = "indices refer to the original rows of POINTS (duplicates dropped before selection)"
    if labels is not None:
        report["coverage"] = coverage(labels, idx)
    pair = sel.info.get("subset_argmin_pair")  # rows of the (deduplicated) pool
    if pair is not None:
        report["info"] = dict(sel.info, subset_argmin_pair=[int(orig[pair[0]]), int(orig[pair[1]])])
    h = "?" if sel.h_min is None else f"{sel.h_min:.4g}"
    title = f"{method} selection ({metric}): k = {k} of N = {len(X):,}; measured h_min(S_k) = {h}"
    if sel.certificate is not None:
        c = sel.certificate
        title += f"\nT10 certificate (proven): r_k = {c['r_k']:.4g} = h_min(S_k), best possible OPT_k <= 2 r_k = {c['opt_upper']:.4g}"
    else:
        title += f"\npool covering radius (max distance of a pool point to the subset) = {sub_rep['pool_covering_radius']['value']:.4g}"
    png = plot_selection(Z, idx, title=title, subset_pair=pair, seed=seed)
    return {"indices": orig[idx].astype(np.int64), "report": report, "png": png, "selection": sel}


def main(args) -> int:
    import numpy as np

    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims import distributed
    from hmin.sims.geometry import load_points
    from hmin.sims.store import atomic_write_bytes, atomic_write_json, ensure_writable_dir

    if args.processes < 1:
        raise InputError(f"--processes must be >= 1, got {args.processes}")
    if args.processes > 1 and args.method != "maxmin":
        raise InputError(f"--processes: only --method maxmin is split across processes, not {args.method}")
    out = ensure_writable_dir(args.out, "--out")
    if distributed.wants_launcher(args.processes):
        return distributed.launch_cli(args._argv, args.processes, label="hmin select")
    distributed.initialize()
    X = load_points(args.points)
    labels = _load_labels(args.labels, len(X)) if args.labels else None
    res = run(X, args.k, method=args.method, metric=args.metric, seed=args.seed, first=args.first,
              dedupe=args.dedupe, labels=labels)
    rep = res["report"]
    if rep is None:  # not process 0: nothing to write
        return 0
    rep["points_file"] = str(args.points)
    buf = io.BytesIO()
    np.save(buf, res["indices"])
    (out / "selection.json").unlink(missing_ok=True)  # a stale marker must not vouch for new files
    atomic_write_bytes(out / "indices.npy", buf.getvalue())
    atomic_write_bytes(out / "selection.png", res["png"])
    atomic_write_json(out / "selection.json", rep)  # last: its presence marks a complete output
    h = rep["h_min"]
    lines = [f"selected k = {rep['k']} of N = {rep['n_pool']} points ({rep['method']}, {rep['metric']})"]
    if rep["duplicates_dropped"]:
        lines.append(f"  dropped {rep['duplicates_dropped']} duplicate row(s) (--dedupe); indices refer to the original rows")
    lines.append(f"  h_min of the subset = {'-' if h is None else f'{h:.6g}'}  (q_X = h_min/2 = "
                 f"{'-' if h is None else f'{h / 2:.6g}'})")
    if rep["certificate"]:
        c = rep["certificate"]
        lines.append(f"  T10 certificate: r_k = {c['r_k']:.6g} = h_min(S_k); OPT_k <= 2 r_k = {c['opt_upper']:.6g}, "
                     "so h_min(S_k) >= OPT_k / 2")
    ph = rep["pool"].get("h_min")
    lines.append(f"  pool h_min = {'-' if ph is None else f'{ph:.6g}'}; pool covering radius of the subset = "
                 f"{rep['subset']['pool_covering_radius']['value']:.6g}")
    if "coverage" in rep:
        cv = rep["coverage"]
        lines.append(f"  labels hit: {cv['labels_hit']}/{cv['n_labels']} (rarest label {cv['rarest_label']} "
                     f"{'hit' if cv['rarest_label_hit'] else 'MISSED'})")
    lines.append(f"  wrote {out / 'indices.npy'}, {out / 'selection.json'}, {out / 'selection.png'}")
    print("\n".join(lines))
    return 0
