"""``hmin geometry POINTS``: h_min, q_X = h_min/2, fill distance, mesh ratio of a point set.

Duplicate points make h_min = 0; by default that is an error naming the pair (exit 2), because a
data set with exact duplicates is usually a mistake; ``--allow-duplicates`` reports the geometry
anyway (h_min = 0, mesh ratio inf).
"""

from __future__ import annotations

import json
import math

from hmin.sims.commands._args import add_allow_duplicates, add_json, add_points
from hmin.sims.errors import InputError

DOMAINS = ("cube", "ball", "sphere")


def register(sub) -> None:
    p = sub.add_parser(
        "geometry",
        help="h_min, q_X = h_min/2, fill distance and mesh ratio of a point set (.npy or .csv)",
        description="Measure the geometry of a point set: the exact minimum pairwise distance h_min "
        "and its pair, the separation distance q_X = h_min/2, a fill-distance estimate with its "
        "error bar, the mesh ratio h_fill/q_X and nearest-neighbour distance quantiles.",
    )
    add_points(p)
    add_json(p, "print one JSON object instead of a table")
    p.add_argument("--domain", choices=DOMAINS, default="cube",
                   help="fill-distance domain: cube = bounding box of the points (default); ball/sphere "
                        "centred at the origin (radius max resp. median ||x_i||)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fill-distance probes (default 0)")
    p.add_argument("--n-probe", type=int, default=10000, help="fill-distance random probes (default 10000)")
    add_allow_duplicates(p, "report duplicate points as h_min = 0 instead of failing")
    p.set_defaults(func=main)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:.6g}"
    return str(v)


def format_table(path: str, s: dict) -> str:
    """The human-readable report of ``geometry_summary``."""
    lines = [f"{path}: N = {s['n']} points in d = {s['d']}"]
    pair = s.get("argmin_pair")
    rows = [
        ("h_min (min pairwise distance)", _fmt(s["h_min"]) + (f"   pair ({pair[0]}, {pair[1]})" if pair else "")),
        ("q_X = h_min / 2 (separation)", _fmt(s["q_X"])),
    ]
    if s["fill_rigorous"]:
        fill = (f"{_fmt(s['fill_distance'])}   guaranteed in [{_fmt(s['fill_distance'])}, "
                f"{_fmt(s['fill_distance_upper'])}]")
    else:
        fill = (f">= {_fmt(s['fill_distance'])}   (Monte Carlo lower bound; heuristic gap "
                f"{_fmt(s['fill_distance_err'])})")
    rows.append((f"fill distance h_fill ({s['fill_domain']})", fill))
    rows.append(("mesh ratio h_fill / q_X", _fmt(s["mesh_ratio"])))
    w = max(len(r[0]) for r in rows)
    lines += [f"  {a.ljust(w)}  {b}" for a, b in rows]
    kq = s.get("knn_quantiles")
    if kq:
        qs = "  ".join(f"{float(q):.0%}: {_fmt(v)}" for q, v in kq["quantiles"].items())
        lines.append(f"  nearest-neighbour distance quantiles  {qs}")
    lines.append(f"  ({s['conventions']})")
    return "\n".join(lines)


def main(args) -> int:
    # here: the parser (hmin --help, the other verbs) does not load this verb's library
    from hmin.sims.geometry import duplicate_groups, geometry_summary, load_points, validate_points
    from hmin.sims.store import to_jsonable

    if args.n_probe < 2:
        raise InputError(f"--n-probe must be >= 2, got {args.n_probe}")
    X = load_points(args.points)
    X = validate_points(X, name=args.points, allow_duplicates=True, copy=False)
    groups = duplicate_groups(X)
    if groups and not args.allow_duplicates:
        i, j = int(groups[0][0]), int(groups[0][1])
        extra = sum(len(g) for g in groups) - len(groups)
        more = f"; {extra} duplicate row(s) in {len(groups)} group(s) in all" if extra > 1 else ""
        raise InputError(
            f"duplicate points {i} and {j} (h_min = 0){more}; pass --allow-duplicates to report the geometry anyway"
        )
    s = geometry_summary(X, domain=args.domain, seed=args.seed, n_probe=args.n_probe)
    if groups:
        s["duplicate_groups"] = [[int(v) for v in g] for g in groups[:20]]
    if args.json:
        print(json.dumps(to_jsonable(s), sort_keys=True))
    else:
        print(format_table(args.points, s))
        if groups:
            print(f"  duplicates: {len(groups)} group(s), first {groups[0].tolist()} (h_min = 0)")
    return 0
