"""The attack surface of a statement: where a counterexample is searched for, and how far a candidate is from one.

A `sims.registry.Check` may carry ``attack=AttackSurface(...)`` beside ``measure`` and ``judge``
(``hmin attack ID`` searches it, ``hmin verify --attack SECONDS`` adds the closest margin to the report
card). The contract, per claim (the statement's own claim first; a refuted first draft or a false
variant may be attacked by name with ``hmin attack ID --claim NAME``):

* ``space`` (words): the search space the claim is made for, with the hypotheses every candidate
  satisfies (e.g. "N = 2 points in [0, 1]^2, labels in [-1, 1], rays theta(t) = b + t u");
* ``build(claim) -> Problem``: the search problem of one claim:

  - ``dim``: the length of the unconstrained search vector z (every z in R^dim is a candidate);
  - ``decode(z) -> dict``: the candidate z stands for, JSON-able (data, parameters, configuration).
    The parameterisation keeps EVERY candidate inside the hypotheses (sigmoids into a cube,
    normalisation onto a sphere, a discrete choice by index), so a candidate outside them can never
    be reported;
  - ``margin(z) -> scalar``: >= 0 when the claim holds on the candidate, < 0 when the judge's rule
    (with the judge's tolerances) calls it violated there; float64. With ``differentiable=True`` it
    must be a JAX-traceable function (it is vmapped over restarts and differentiated); otherwise
    any Python function of one NumPy vector;
  - ``rejudge(candidate) -> float``: the same margin computed from the decoded candidate alone (what a
    saved file holds), in float64, by the judge's rule: a candidate is called a counterexample only
    when this is < 0;
  - ``describe(candidate) -> str``: a short "at ..." for the one-line result.

The attack (`sims.attack`) minimises the margin; nothing in this module imports JAX.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Problem", "AttackSurface"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One claim's search problem (see the module docstring).

    Attributes:
        dim: length of the unconstrained search vector z.
        margin: ``margin(z) -> scalar`` (JAX-traceable when ``differentiable``), float64, >= 0 where the claim holds.
        decode: ``decode(z) -> dict``, the candidate (JSON-able), inside the hypotheses for every z.
        rejudge: ``rejudge(candidate) -> float``, the judge's margin from the candidate alone (float64).
        describe: ``describe(candidate) -> str``, a short "at ..." text.
        differentiable: whether ``margin`` can be differentiated (gradient restarts) or not (random search).
        batched: a non-differentiable margin that is still JAX-traceable: evaluated jitted and vmapped in batches
            (as a differentiable one always is) instead of one NumPy vector at a time.
        init_scale: standard deviation of the random starts z ~ N(0, init_scale^2 I).
        learning_rate: the gradient method's step (Adam).
    """

    dim: int
    margin: Callable[[Any], Any]
    decode: Callable[[Any], dict]
    rejudge: Callable[[dict], float]
    describe: Callable[[dict], str] = lambda c: ""
    differentiable: bool = True
    init_scale: float = 1.0
    learning_rate: float = 0.05
    batched: bool = False

    def __post_init__(self):
        if int(self.dim) != self.dim or self.dim < 1:
            raise ValueError(f"Problem.dim must be a positive integer, got {self.dim!r}")
        for name in ("margin", "decode", "rejudge", "describe"):
            if not callable(getattr(self, name)):
                raise ValueError(f"Problem.{name} must be callable")


@dataclasses.dataclass(frozen=True)
class AttackSurface:
    """What ``hmin attack`` searches for one statement.

    Attributes:
        space: the search space in words, with the hypotheses every candidate satisfies.
        claims: claim name -> words; the first is the statement's own claim (the default target), others
            are refuted drafts or false variants that the attack should break.
        build: ``build(claim_name) -> Problem``.
        tolerance: the judge's tolerance built into the margin, in words.
    """

    space: str
    claims: Mapping[str, str]
    build: Callable[[str], Problem]
    tolerance: str = ""

    def __post_init__(self):
        if not self.claims:
            raise ValueError("AttackSurface.claims must name at least the statement's own claim")
        if not callable(self.build):
            raise ValueError("AttackSurface.build must be callable")

    @property
    def default_claim(self) -> str:
        """The statement's own claim (the first of ``claims``)."""
        return next(iter(self.claims))
