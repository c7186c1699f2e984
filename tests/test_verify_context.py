"""run_verify builds a check's context once per check and seed and hands the same object to
measure, judge's caller and plot (it was built twice: once for measure, once for plot)."""

from __future__ import annotations

import dataclasses

from hmin.sims.registry import Check, Entry, Registry
from hmin.sims.verdict import Verdict
from hmin.sims.verify import run_verify
from hmin.theory import Statement


@dataclasses.dataclass(frozen=True)
class _S:
    n: int = 1


def test_one_context_per_check_and_seed(tmp_path, monkeypatch):
    seen = {"measure": [], "plot": []}

    def measure(ctx):
        seen["measure"].append(ctx)
        return {"n": ctx.settings.n}

    def judge(m, *, force=None):
        return Verdict("CTX1", force or "holds", "always", {"n": m["n"]})

    def plot(measured, verdict, ctx):
        seen["plot"].append(ctx)
        return []

    check = Check(id="CTX1", settings={p: _S() for p in ("quick", "default", "full")}, measure=measure,
                  judge=judge, plot=plot, false_variants={"f": {"force": "violated"}})
    stmt = Statement(id="CTX1", title="t", kind="QUESTION", paper_ref="", text="x", hypotheses=())
    built = []
    real = Entry.context

    def counting(self, *a, **kw):
        ctx = real(self, *a, **kw)
        built.append(ctx)
        return ctx

    monkeypatch.setattr(Entry, "context", counting)
    reg = Registry([Entry(id="CTX1", statement=stmt, check=check, source="test")])
    run_verify("quick", tmp_path, seeds=[0, 1], reg=reg)
    assert len(built) == 2, built  # one per seed
    assert [c.seed for c in seen["measure"]] == [0, 1]
    assert all(m is p for m, p in zip(seen["measure"], seen["plot"]))
