"""C1 (reviewers' question): h_min shrinks as N grows, so does the PL constant mu, and with it the rate?

A question, not a theorem: it has no symbolic side. The numeric check (``sims.checks.c1_rate_vs_n``)
measures mu_0 = (2/N) lambda_min(G_0) and the GD rate against N for i.i.d. data and for greedy
max-min subsets of the same size.
"""

from __future__ import annotations

from hmin.theory._core import Statement

__all__ = ["STATEMENT"]

STATEMENT = Statement(
    id="C1",
    title="mu and the GD rate vs N: i.i.d. data vs greedy max-min subsets",
    kind="QUESTION",
    paper_ref="a reviewers' question",
    text=("h_min shrinks as N grows for a fixed distribution (T1: like N^(-2/d) for i.i.d. data), so the bound "
          "mu <= (1/N) L_x^2 h_min^2 of T4 goes to 0 as N -> infinity. Does the measured PL constant mu_0 and the "
          "measured GD rate decay with N, and more slowly for greedy max-min subsets (h_min ~ N^(-1/d), T10) than "
          "for i.i.d. data of the same size?"),
    hypotheses=("a fixed data distribution on [0, 1]^d", "the same network and initialisation for both arms",
                "full-batch GD on the squared loss"),
)
