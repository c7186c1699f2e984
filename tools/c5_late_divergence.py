"""How often a C5 run reaches its threshold and diverges later (issue 18: may a run stop at its crossing?).

    python tools/c5_late_divergence.py [ROOT ...]    (default: figures/ and /tmp)

Reads every stored beyond-gd run under the given folders (``**/beyond_gd/runs/*``: config.json and the loss
curves in arrays.npz), once per distinct configuration, and counts per optimizer and run length: runs that
reached L_t <= loss_eps L_0, runs that diverged (a non-finite loss or one above 1e6 L_0, the engine's test),
and runs that did both, the crossing first. C5's rule counts the last kind as diverged, so stopping a run at its
crossing would change what C5 measures; this is the evidence for keeping the full-length runs.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import numpy as np


def scan(roots) -> tuple[collections.Counter, list, int]:
    seen, stats, late = set(), collections.Counter(), []
    for root in roots:
        for d in sorted(Path(root).glob("**/beyond_gd/runs/*")):
            try:
                cfg = json.loads((d / "config.json").read_text())
                curves = np.load(d / "arrays.npz")["loss_curves"]
            except (OSError, ValueError, KeyError):
                continue
            blob = json.dumps(cfg, sort_keys=True)
            if blob in seen:
                continue
            seen.add(blob)
            eps = cfg.get("loss_eps", 1e-3)
            for b, c in enumerate(curves):
                hit = np.nonzero(c <= eps * c[0])[0]
                bad = ~np.isfinite(c) | (c > 1e6 * c[0])
                stats[(cfg["optimizer"], cfg["steps"], "reached" if hit.size else "not reached",
                       "diverged" if bad.any() else "finite")] += 1
                if hit.size and bad.any():
                    late.append((str(d), b, int(hit[0]), int(np.argmax(bad))))
    return stats, late, len(seen)


def main(argv=None) -> int:
    roots = (argv if argv is not None else sys.argv[1:]) or ["figures", "/tmp"]
    stats, late, n = scan(roots)
    for k, v in sorted(stats.items()):
        print(*k, v, sep="\t")
    print(f"{n} configurations, {sum(stats.values())} runs; reached the threshold, then diverged: {len(late)}")
    for d, b, t_hit, t_div in late:
        print(f"  {d} run {b}: crossing at step {t_hit}, diverged at step {t_div}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
