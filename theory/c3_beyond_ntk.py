"""C3 (reviewers' question): is the training "beyond the NTK regime"?

A question, not a theorem: it has no symbolic side. The numeric check (``sims.checks.c3_beyond_ntk``)
measures how far the weights and the Gram matrix move during GD against width, and where the
NTK-at-initialisation prediction of T6 stops matching the measured time to eps.
"""

from __future__ import annotations

from hmin.theory._core import Statement

__all__ = ["STATEMENT"]

STATEMENT = Statement(
    id="C3",
    title="beyond NTK? weight and Gram movement vs width; where the NTK-at-init prediction stops matching",
    kind="QUESTION",
    paper_ref="a reviewers' question",
    text=("The paper's framework claims to work beyond the NTK (lazy) regime. How far do the weights and the Gram "
          "matrix G_t move during gradient descent as the width grows (NTK theory: ||G_t - G_0|| / ||G_0|| = "
          "O(width^(-1/2)) or smaller), and below which width does the linearised prediction of T6 with G at "
          "initialisation stop matching the measured time to eps?"),
    hypotheses=("shallow tanh networks in NTK scaling", "planted-pair data, three label modes",
                "full-batch GD with eta = N / lambda_max(G_0)"),
)
