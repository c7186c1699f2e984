"""Verdicts: the numeric side of each theorem check ends in holds / violated / inconclusive.

A checker returns a :class:`Verdict` carrying the comparison rule in words and the numbers it
compared, so a report can always show *why*.  The small rule helpers below are shared by all
checkers so that "within a band" or "below a bound up to its confidence interval" means the same
thing everywhere.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import numpy as np
from scipy import stats

import re



class VerdictName(enum.StrEnum):
    """The four numeric verdicts (a ``str`` enum: ``VerdictName.HOLDS == "holds"`` and it is written to JSON as
    ``"holds"``, so stored results and string comparisons keep working).

    * ``HOLDS``: the measurement agrees with the statement;
    * ``VIOLATED``: it contradicts it beyond the stated tolerance (certain);
    * ``INCONCLUSIVE``: neither (an estimate that can fall short, too few data, an unstable fit, too few
      runs inside the hypotheses);
    * ``OUTSIDE``: the run, row or seed lies outside the statement's hypotheses, as decided BEFORE the
      measurement by a rule fixed in advance (an a-priori certificate or a stated predictor; each check
      declares which in its ``hypotheses``).  Not evidence either way: the statement says nothing there.

    Examples:
        >>> VerdictName("outside hypothesis") is VerdictName.OUTSIDE, VerdictName.HOLDS == "holds"
        (True, True)
        >>> {"part": VerdictName.OUTSIDE}
        {'part': 'outside hypothesis'}
        >>> import json; json.dumps({"v": VerdictName.VIOLATED})
        '{"v": "violated"}'
    """

    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"
    OUTSIDE = "outside hypothesis"

    def __repr__(self) -> str:  # as the plain string: dicts of verdicts print as they are stored in JSON
        return repr(self.value)


#: the module-level names (kept: every check and plug-in compares with these)
HOLDS, VIOLATED, INCONCLUSIVE, OUTSIDE = (VerdictName.HOLDS, VerdictName.VIOLATED, VerdictName.INCONCLUSIVE,
                                          VerdictName.OUTSIDE)
#: every legal numeric verdict, in the order a report lists them
VERDICTS = tuple(VerdictName)
_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")

__all__ = [
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
    "OUTSIDE",
    "VERDICTS",
    "VerdictName",
    "too_few_inside",
    "Verdict",
    "clopper_pearson",
    "clopper_pearson_bound",
    "fit_loglog_slope",
    "band_verdict",
    "worst",
]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one numeric check.

    Attributes:
        id: statement id, e.g. ``"T4"`` or ``"C3"``.
        verdict: a :class:`VerdictName` (``"holds"``, ``"violated"``, ``"inconclusive"`` or
            ``"outside hypothesis"``); a plain string of one of these is accepted and converted.
        rule: the comparison rule, in words, exactly as the code applies it.
        numbers: the key numbers behind the verdict (JSON-able), under stable machine keys
            (lower_snake_case: ``slope_band``, ``max_ratio``); code and tests look values up by key.
        labels: key -> the label a reader sees in the report (units, convention, the bound it is
            compared with); a key without a label is shown as itself. Most telling numbers first.
        figures: paths of figures, relative to the report directory.
        notes: anything a reader must know to interpret the numbers.
        power: what the rule can detect: the smallest error in the prediction that it would catch
            (e.g. "a prediction 1.25x off"), and parts that can only hold (exploratory).
        hypothesis_counts: per hypothesis of the statement that the check decides BEFORE the measurement, how it
            decides it (``{"G stays near G_0": "a-priori regime index D <= log(1.15)/3 (sims.regime)"}``)
            and how many runs it admitted; empty when the check judges every run it measures.

    Example:
        >>> v = Verdict("T4", "holds", "slope in [1.7, 2.3]", {"slope": 2.0}, {"slope": "slope of log mu on log h_min"})
        >>> v.label("slope"), v.numbers["slope"]
        ('slope of log mu on log h_min', 2.0)
    """

    id: str
    verdict: VerdictName
    rule: str
    numbers: dict[str, Any] = dataclasses.field(default_factory=dict)
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    figures: tuple[str, ...] = ()
    notes: str = ""
    power: str = ""
    hypothesis_counts: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        try:
            object.__setattr__(self, "verdict", VerdictName(self.verdict))
        except ValueError:
            raise ValueError(f"unknown verdict {self.verdict!r}; choose from "
                             f"{', '.join(v.value for v in VERDICTS)}") from None
        bad = [k for k in self.numbers if not isinstance(k, str) or not _KEY_RE.fullmatch(k)]
        if bad:
            raise ValueError(f"verdict {self.id}: number keys must be lower_snake_case machine keys "
                             f"(put the prose in labels): {bad[:3]}")
        stray = [k for k in self.labels if k not in self.numbers]
        if stray:
            raise ValueError(f"verdict {self.id}: labels for keys that are not numbers: {stray[:3]}")

    def label(self, key: str) -> str:
        """The display label of a number (the key itself when none was given)."""
        return self.labels.get(key, key)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["figures"] = list(self.figures)
        d["verdict"] = self.verdict.value
        return d


def worst(verdicts: list[str]) -> VerdictName:
    """Combine sub-verdicts: any violated -> violated; else any inconclusive -> inconclusive; parts outside the
    hypotheses are left out (they say nothing), and all parts outside -> outside hypothesis.

    Examples:
        >>> worst(["holds", "outside hypothesis"]).value, worst(["outside hypothesis"] * 2).value
        ('holds', 'outside hypothesis')
        >>> worst(["holds", "inconclusive", "violated"]).value, worst([]).value
        ('violated', 'inconclusive')
    """
    if verdicts and all(v == OUTSIDE for v in verdicts):
        return OUTSIDE
    if any(v == VIOLATED for v in verdicts):
        return VIOLATED
    if any(v == INCONCLUSIVE for v in verdicts) or not verdicts:
        return INCONCLUSIVE
    return HOLDS


def too_few_inside(n_inside: int, n_total: int, needed: int) -> str:
    """The words of a row judged on too few runs inside its hypotheses.

    Example:
        >>> too_few_inside(4, 30, 10)
        'inconclusive: 4 of 30 runs inside the hypothesis, 10 needed'
    """
    return f"inconclusive: {n_inside} of {n_total} runs inside the hypothesis, {needed} needed"


def clopper_pearson(k: int, n: int, level: float = 0.99) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval for a binomial proportion k/n.

    Examples:
        >>> lo, hi = clopper_pearson(0, 100, 0.95)
        >>> round(lo, 3), round(hi, 4)
        (0.0, 0.0362)
    """
    if n <= 0:
        raise ValueError("n must be positive")
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def clopper_pearson_bound(k: int, n: int, level: float = 0.99, *, side: str = "lower") -> float:
    """One-sided Clopper-Pearson bound for a binomial proportion k/n.

    ``side="lower"``: the largest p_lo with P_p(K >= k) <= 1 - level at p = p_lo, so P(p >= p_lo) >= level
    (the bound a one-sided test "p <= p0" rejects on: p_lo > p0); ``side="upper"``: the matching upper bound.
    At the same level it is closer to k/n than the lower end of the two-sided interval (which spends
    (1 - level)/2 on each side).

    Examples:
        >>> round(clopper_pearson_bound(0, 100, 0.95, side="upper"), 4)  # 1 - 0.05**(1/100)
        0.0295
        >>> lo1 = clopper_pearson_bound(30, 100, 0.99)
        >>> lo2 = clopper_pearson(30, 100, 0.99)[0]
        >>> lo2 < lo1 < 0.30, round(lo1, 4) == round(clopper_pearson(30, 100, 0.98)[0], 4)
        (True, True)
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    a = 1.0 - level
    if side == "lower":
        return 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    if side == "upper":
        return 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")


def fit_loglog_slope(x, y) -> dict[str, float]:
    """Least-squares slope of log(y) on log(x), with its standard error and r^2.

    Only finite, positive pairs are used.

    Examples:
        >>> x = np.array([1e-3, 1e-2, 1e-1, 1.0])
        >>> round(fit_loglog_slope(x, 5 * x**2)["slope"], 6)
        2.0
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    n = int(ok.sum())
    if n < 2 or np.ptp(lx) == 0:
        return {"slope": float("nan"), "intercept": float("nan"), "stderr": float("nan"), "r2": float("nan"), "n": n}
    res = stats.linregress(lx, ly)
    stderr = float(res.stderr) if n > 2 else float("nan")
    return {"slope": float(res.slope), "intercept": float(res.intercept), "stderr": stderr, "r2": float(res.rvalue**2), "n": n}


def band_verdict(value: float, lo: float, hi: float, *, inconclusive_if_nan: bool = True) -> VerdictName:
    """holds if lo <= value <= hi, violated if outside, inconclusive if value is not finite."""
    if not np.isfinite(value):
        return INCONCLUSIVE if inconclusive_if_nan else VIOLATED
    return HOLDS if lo <= value <= hi else VIOLATED
