"""Verdicts: the numeric side of each theorem check ends in holds / violated / inconclusive.

A checker returns a :class:`Verdict` carrying the comparison rule in words and the numbers it
compared, so a report can always show *why*.  The small rule helpers below are shared by all
checkers so that "within a band" or "below a bound up to its confidence interval" means the same
thing everywhere.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
from scipy import stats

import re

#: the three numeric verdicts: the measurement agrees with the statement; contradicts it beyond the stated
#: tolerance (certain); neither (an estimate that can fall short, too few data, an unstable fit)
HOLDS, VIOLATED, INCONCLUSIVE = "holds", "violated", "inconclusive"
_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
VerdictName = Literal["holds", "violated", "inconclusive"]

__all__ = [
    "HOLDS",
    "VIOLATED",
    "INCONCLUSIVE",
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
        verdict: ``"holds"``, ``"violated"`` or ``"inconclusive"``.
        rule: the comparison rule, in words, exactly as the code applies it.
        numbers: the key numbers behind the verdict (JSON-able), under stable machine keys
            (lower_snake_case: ``slope_band``, ``max_ratio``); code and tests look values up by key.
        labels: key -> the label a reader sees in the report (units, convention, the bound it is
            compared with); a key without a label is shown as itself. Most telling numbers first.
        figures: paths of figures, relative to the report directory.
        notes: anything a reader must know to interpret the numbers.
        power: what the rule can detect: the smallest error in the prediction that it would catch
            (e.g. "a prediction 1.25x off"), and parts that can only hold (exploratory).

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

    def __post_init__(self):
        if self.verdict not in (HOLDS, VIOLATED, INCONCLUSIVE):
            raise ValueError(f"unknown verdict {self.verdict!r}")
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
        return d


def worst(verdicts: list[str]) -> VerdictName:
    """Combine sub-verdicts: any violated -> violated; else any inconclusive -> inconclusive."""
    if any(v == VIOLATED for v in verdicts):
        return VIOLATED
    if any(v == INCONCLUSIVE for v in verdicts) or not verdicts:
        return INCONCLUSIVE
    return HOLDS


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
