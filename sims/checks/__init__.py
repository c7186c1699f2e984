"""The numeric side of each statement of THEORY.md, one module per statement.

Contract of a check module ``sims/checks/<id>_<name>.py``:

- ``ID`` (e.g. ``"T4"``) and ``TITLE`` (a short human title);
- ``measure(ctx: CheckContext) -> dict``: runs the experiment for ``ctx.preset`` (``"quick"``,
  ``"default"``, ``"full"``) with ``ctx.seed``; returns JSON-able measured numbers (arrays as lists);
- ``judge(measured: dict, **variant) -> Verdict``: applies the comparison rule written down in the
  code to the measured numbers.  Keyword ``variant`` arguments replace the theoretical prediction
  (e.g. ``radius=lambda ...: 10 * r_delta(...)``) so a test can feed a deliberately false variant
  and see the verdict become "violated";
- ``plot(measured: dict, verdict: Verdict, ctx: CheckContext) -> list[str]``: figures written under
  ``ctx.figdir``, returned as paths relative to ``ctx.outdir``;
- ``check(ctx) -> Verdict``: measure + judge + plot (use :func:`run_check`).
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from sims.verdict import Verdict

# statement id -> module (the order of the report card)
CHECKS = {
    "T1": "sims.checks.t01_hmin_lower",
    "T2": "sims.checks.t02_hmin_upper",
    "T3": "sims.checks.t03_pl_identity",
    "T4": "sims.checks.t04_pair_bound",
    "T5": "sims.checks.t05_descent",
    "T6": "sims.checks.t06_linearised",
    "T7": "sims.checks.t07_poly_smooth",
    "T8": "sims.checks.t08_nondegeneracy",
    "T9": "sims.checks.t09_approximation",
    "T10": "sims.checks.t10_greedy",
    "C1": "sims.checks.c1_rate_vs_n",
    "C3": "sims.checks.c3_beyond_ntk",
}

PRESETS = ("quick", "default", "full")


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """Where and how big a check runs.

    Attributes:
        preset: "quick" (seconds; smoke tests), "default" (the report card, minutes in all) or
            "full" (paper-grade).
        outdir: the report directory; figures go to ``outdir / "figures"``.
        seed: the base seed; every random draw of the check derives from it.
    """

    preset: str = "default"
    outdir: Path = Path("figures")
    seed: int = 0

    def __post_init__(self):
        if self.preset not in PRESETS:
            from sims.errors import InputError

            raise InputError(f"unknown preset {self.preset!r}; choose from {PRESETS}")
        object.__setattr__(self, "outdir", Path(self.outdir))

    @property
    def figdir(self) -> Path:
        d = self.outdir / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def fig(self, name: str) -> Path:
        """Path of a figure file ``figures/<name>`` under the report directory."""
        return self.figdir / name

    def rel(self, path: Path) -> str:
        return str(Path(path).relative_to(self.outdir))

    def pick(self, quick, default, full):
        """The value for this preset."""
        return {"quick": quick, "default": default, "full": full}[self.preset]


def load(check_id: str):
    """The check module of a statement id."""
    return importlib.import_module(CHECKS[check_id])


def run_check(mod, ctx: CheckContext) -> tuple[Verdict, dict]:
    """measure -> judge -> plot; returns the verdict (with its figures) and the measured numbers."""
    measured = mod.measure(ctx)
    verdict = mod.judge(measured)
    figures = tuple(mod.plot(measured, verdict, ctx))
    return dataclasses.replace(verdict, figures=figures), measured
