"""The suite's measures of decision quality, computed on a scenario's day-by-day timeline (pure functions).

A timeline is one :class:`Day` per simulated day: the model that served the day's traffic scored on the
*oracle* (a large fresh sample of that day's true population), what the pipeline saw on the window and
decided, and — on a retrain day — the challenger and the champion both scored on that day's oracle.

Measures (see ``docs/scenarios.md``):

- **episodes**: maximal runs of consecutive days on which the serving model breaches a threshold on the oracle;
- **detection delay** of an episode: days from its first day to the first retrain decision (or other remedy
  tried: a challenger compared) within it (``None`` when the episode ends without one);
- **retrains**: days whose decision was to retrain;
- **false retrains**: retrain days outside the scenario's correct retrain windows, or days whose challenger (a
  retrained model or another remedy) was promoted although it is not better than the champion on the oracle
  (each day counted once);
- **real promotions**: promoted challengers better than the champion on the oracle on every *judged* metric —
  the metrics that breached on the window, or the promotion metric when none did;
- **rejected fixes**: challengers not promoted although, on the oracle, they are better than the champion on
  every judged metric that breached and meet those thresholds;
- **days below**: days on which the serving model breaches a threshold on the oracle.

Example
-------
>>> t = [{"metric": "accuracy", "min": 0.7}]
>>> days = [Day(0, "v1", {"accuracy": 0.8}), Day(1, "v1", {"accuracy": 0.6}),
...         Day(2, "v1", {"accuracy": 0.6}, retrain=True, window_breaches=["accuracy"],
...             challenger=Challenger("job", True, ["accuracy"], {"accuracy": 0.6}, {"accuracy": 0.8})),
...         Day(3, "v2", {"accuracy": 0.8})]
>>> s = score(days, t, retrain_windows=((1, 3),))
>>> s.delays, s.retrains, s.false_retrains, s.real_promotions, s.days_below
([1], 1, 0, 1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Challenger:
    """A retrain's challenger: the promotion decision and both models on the day's oracle."""

    job: str
    promoted: bool
    judged: list[str]
    champion_oracle: dict[str, float]
    challenger_oracle: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    deployed: bool = False
    #: every candidate's verdicts from the comparison document (``retrained``, ``recalibrated``)
    candidates: dict[str, list[str]] = field(default_factory=dict)
    #: the metrics the decision found breached (the window's breaches and pooled ones: ``breachedMetrics``)
    breached: list[str] = field(default_factory=list)


@dataclass
class Day:
    """One simulated day of a scenario."""

    day: int
    serving: str
    oracle: dict[str, float]
    oracle_breaches: list[str] | None = None
    window: dict[str, float] = field(default_factory=dict)
    window_breaches: list[str] = field(default_factory=list)
    drift: bool = False
    retrain: bool = False
    reasons: list[str] = field(default_factory=list)
    status: str = "SUCCEEDED"
    outcome: str | None = None
    challenger: Challenger | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Score:
    """The measures of one scenario."""

    episodes: list[tuple[int, int]]
    delays: list[int | None]
    retrains: int
    retrain_days: list[int]
    false_retrains: int
    false_retrain_days: dict[int, list[str]]
    promotions: int
    real_promotions: int
    rejected_fixes: int
    days_below: int
    failed_runs: int

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["episodes"] = [list(e) for e in self.episodes]
        out["false_retrain_days"] = {str(k): v for k, v in self.false_retrain_days.items()}
        return out


def higher_is_better(metric: str) -> bool:
    """The metric's direction, as the model config defines it."""
    from driftline_common.config import HIGHER_IS_BETTER, LOWER_IS_BETTER

    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    raise ValueError(f"unknown metric {metric!r}")


def breaches(values: Mapping[str, float], thresholds: Sequence[Mapping[str, Any]]) -> list[str]:
    """The thresholded metrics ``values`` is on the wrong side of (an undefined value breaches)."""
    out = []
    for t in thresholds:
        v = values.get(t["metric"], math.nan)
        v = math.nan if v is None else float(v)
        low, high = t.get("min"), t.get("max")
        if not math.isfinite(v) or (low is not None and v < low) or (high is not None and v > high):
            out.append(t["metric"])
    return out


def better(metric: str, challenger: float, champion: float) -> bool:
    """Strictly better in the metric's direction (undefined values are never better)."""
    if not (math.isfinite(challenger) and math.isfinite(champion)):
        return False
    return challenger > champion if higher_is_better(metric) else challenger < champion


def is_real_improvement(c: Challenger) -> bool:
    return bool(c.judged) and all(
        better(m, c.challenger_oracle.get(m, math.nan), c.champion_oracle.get(m, math.nan)) for m in c.judged)


def is_rejected_fix(c: Challenger, window_breaches: Sequence[str], thresholds: Sequence[Mapping[str, Any]]) -> bool:
    """Rejected, yet on the oracle better than the champion on every breached metric and within its threshold."""
    fixed = [m for m in c.judged if m in window_breaches]
    if c.promoted or not fixed:
        return False
    relevant = [t for t in thresholds if t["metric"] in fixed]
    return (all(better(m, c.challenger_oracle.get(m, math.nan), c.champion_oracle.get(m, math.nan)) for m in fixed)
            and not breaches(c.challenger_oracle, relevant))


def oracle_breaches(day: Day, thresholds: Sequence[Mapping[str, Any]]) -> list[str]:
    return day.oracle_breaches if day.oracle_breaches is not None else breaches(day.oracle, thresholds)


def episodes(days: Sequence[Day], thresholds: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive days on which the serving model breaches on the oracle."""
    out: list[tuple[int, int]] = []
    for d in sorted(days, key=lambda x: x.day):
        if not oracle_breaches(d, thresholds):
            continue
        if out and out[-1][1] == d.day - 1:
            out[-1] = (out[-1][0], d.day)
        else:
            out.append((d.day, d.day))
    return out


def acted(day: Day) -> bool:
    """The run decided to retrain, or tried another remedy (a challenger was compared)."""
    return day.retrain or day.challenger is not None


def detection_delays(days: Sequence[Day], spans: Sequence[tuple[int, int]]) -> list[int | None]:
    """Per episode: days from its start to the first retrain decision (or remedy tried) within it, else ``None``."""
    retrain_days = sorted(d.day for d in days if acted(d))
    out: list[int | None] = []
    for first, last in spans:
        hit = next((r for r in retrain_days if first <= r <= last), None)
        out.append(None if hit is None else hit - first)
    return out


def score(days: Sequence[Day], thresholds: Sequence[Mapping[str, Any]], *,
          retrain_windows: Sequence[tuple[int, int]] = ()) -> Score:
    """Every measure of one scenario's timeline."""
    spans = episodes(days, thresholds)
    false: dict[int, list[str]] = {}
    for d in days:
        if not acted(d):
            continue
        why = []
        if d.retrain and not any(a <= d.day <= b for a, b in retrain_windows):
            why.append("outside the correct retrain windows")
        if d.challenger is not None and d.challenger.promoted and not is_real_improvement(d.challenger):
            why.append("promoted a challenger that is not better on the oracle")
        if why:
            false[d.day] = why
    challengers = [(d, d.challenger) for d in days if d.challenger is not None]
    return Score(
        episodes=spans,
        delays=detection_delays(days, spans),
        retrains=sum(1 for d in days if d.retrain),
        retrain_days=[d.day for d in days if d.retrain],
        false_retrains=len(false),
        false_retrain_days=false,
        promotions=sum(1 for _, c in challengers if c.promoted),
        real_promotions=sum(1 for _, c in challengers if c.promoted and is_real_improvement(c)),
        rejected_fixes=sum(1 for d, c in challengers
                           if is_rejected_fix(c, [*d.window_breaches, *c.breached], thresholds)),
        days_below=sum(1 for d in days if oracle_breaches(d, thresholds)),
        failed_runs=sum(1 for d in days if d.status != "SUCCEEDED"),
    )


def verdict(s: Score, *, retrain_expected: bool, retrain_windows: Sequence[tuple[int, int]],
            tolerated_retrains: int, max_delay: int | None, max_days_below: int | None,
            last_day: int) -> list[str]:
    """What the scenario's correct decision says went wrong (empty: the decisions were correct)."""
    problems = []
    if s.failed_runs:
        problems.append(f"{s.failed_runs} failed run(s)")
    if s.false_retrains > tolerated_retrains:
        problems.append(f"{s.false_retrains} false retrain(s) (tolerated {tolerated_retrains})")
    relevant = [(e, delay) for e, delay in zip(s.episodes, s.delays, strict=True)
                if any(a <= e[0] <= b for a, b in retrain_windows)]
    # an episode starting within max_delay of the last day without a retrain is censored, not missed
    slack = max_delay or 0
    judged = [(e, delay) for e, delay in relevant if delay is not None or e[0] + slack <= last_day]
    if retrain_expected and max_delay is not None:
        for (first, _), delay in judged:
            if delay is None:
                problems.append(f"breach from day {first} never retrained")
            elif delay > max_delay:
                problems.append(f"breach from day {first} retrained after {delay} windows (max {max_delay})")
    if retrain_expected and judged and not s.real_promotions:
        problems.append("no promotion that was a real improvement")
    if s.rejected_fixes:
        problems.append(f"{s.rejected_fixes} rejected challenger(s) that fix the breached metric")
    if max_days_below is not None and s.days_below > max_days_below:
        problems.append(f"{s.days_below} days below threshold (max {max_days_below})")
    return problems
