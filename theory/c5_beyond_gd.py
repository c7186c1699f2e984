"""C5 (a reviewers'-style question): does a close pair slow training beyond full-batch GD?

The paper's own practice trains with cross-entropy and Adam; its theory, and everything T3-T6 measure,
is full-batch gradient descent. A question, not a theorem: it has no symbolic side. The numeric check
(``sims.checks.c5_beyond_gd``) trains the planted-pair sets of T6 with GD, mini-batch SGD, momentum
and Adam.
"""

from __future__ import annotations

from hmin.theory._core import Statement

__all__ = ["STATEMENT"]

STATEMENT = Statement(
    id="C5",
    title="beyond full-batch GD: does a close pair slow SGD, momentum and Adam, and do labels still decide?",
    kind="QUESTION",
    paper_ref="a reviewers'-style question (the paper's practice: cross-entropy with Adam)",
    text=("Under full-batch GD a close pair slows training only when its labels differ (T6). Does the same hold for "
          "mini-batch SGD, heavy-ball momentum and Adam, each at a step size tuned once and then fixed: is the time to "
          "eps longer for a smaller h_min with random labels, and unaffected with smooth or equal labels? A run that "
          "diverges is its own outcome (outside T6's hypothesis of a stable step), counted, not averaged."),
    hypotheses=("planted-pair sets of T6 (one pair at h_min = eps, nothing else changes)", "three label modes",
                "each optimizer's step tuned on a separate tuning seed, then fixed"),
)
