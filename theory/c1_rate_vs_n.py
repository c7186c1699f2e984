"""C1 (reviewers' question): h_min shrinks as N grows, so does the PL constant mu, and with it the rate?

A question, not a theorem: it has no symbolic side. The numeric check (``sims.checks.c1_rate_vs_n``)
measures mu_0 = (2/N) lambda_min(G_0) and the GD rate against N for nested i.i.d. data, nested greedy
max-min subsets of the same size, and a control arm with the greedy fill distance and the i.i.d. h_min.
"""

from __future__ import annotations

from hmin.theory._core import Statement

__all__ = ["STATEMENT"]

STATEMENT = Statement(
    id="C1",
    title="mu and the GD rate vs N: does h_min (not the kernel's smoothness) set the decay?",
    kind="QUESTION",
    paper_ref="a reviewers' question",
    text=("h_min shrinks as N grows for a fixed distribution (T1: like N^(-2/d) for i.i.d. data), so the bound "
          "mu <= (1/N) L_x^2 h_min^2 of T4 goes to 0 as N -> infinity. Does the measured PL constant mu_0 and the "
          "measured GD rate decay with N, and is it h_min that sets the decay: at a matched fill distance (a greedy "
          "max-min set with its closest pair moved to the i.i.d. set's h_min), does mu_0's exponent in N shift as "
          "mu_0 ~ h_min^2 predicts, or not at all (the kernel's smoothness setting lambda_min)?"),
    hypotheses=("a fixed data distribution on [0, 1]^d", "the same network and initialisation for every arm",
                "full-batch GD on the squared loss"),
)
