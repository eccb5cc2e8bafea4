"""The retrain policy: a pure function of the config's policy, the model state, the run history and the
current window's assessment. No AWS, no clock: ``now`` is an argument, so every rule is unit-testable.

Retrain only when a breach is real:

* the current window shows a signal enabled by ``policy.triggers`` — a performance breach
  (``evaluation.breached``) and/or dataset drift (``drift.detected``);
* the signal is sustained: ``consecutiveBreaches`` windows in a row, the current one included, showed an
  enabled signal. Earlier windows come from the run history (each completed run records ``breached`` and
  ``driftDetected``); several runs over the same window count once (the newest), failed runs and runs
  without an assessment are not windows and are skipped;
* the window has at least ``minSamples`` labelled rows;
* at least ``minNewLabels`` labelled rows arrived since the data of the last training (the sum of the
  sample sizes of the distinct windows that start at or after the model state's ``trainingDataEnd``,
  falling back to ``lastTrainedAt``; every known window when the model was never retrained);
* the last retrain started at least ``cooldownHours`` ago;
* fewer than ``maxRetrainsPerPeriod`` retrains started in the last ``periodDays`` days.

The per-model lock is not a policy input: the caller takes it after a positive decision and, when another
run holds it, turns the decision into ``LOCK_HELD`` with :func:`with_lock_held`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from driftline_common.config import RetrainPolicy
from driftline_common.store import iso, parse_iso

# signal codes: why a retrain is wanted
PERFORMANCE_BREACH = "PERFORMANCE_BREACH"
DATASET_DRIFT = "DATASET_DRIFT"
# outcome / blocking codes: why it is not (yet) done
HEALTHY = "HEALTHY"
SIGNAL_NOT_ENABLED = "SIGNAL_NOT_ENABLED"
BREACH_NOT_SUSTAINED = "BREACH_NOT_SUSTAINED"
TOO_FEW_SAMPLES = "TOO_FEW_SAMPLES"
TOO_FEW_NEW_LABELS = "TOO_FEW_NEW_LABELS"
COOLDOWN = "COOLDOWN"
BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
LOCK_HELD = "LOCK_HELD"
NO_TRAINING_DATA = "NO_TRAINING_DATA"

SIGNAL_CODES = (PERFORMANCE_BREACH, DATASET_DRIFT)
BLOCKING_CODES = (
    HEALTHY, SIGNAL_NOT_ENABLED, BREACH_NOT_SUSTAINED, TOO_FEW_SAMPLES, TOO_FEW_NEW_LABELS, COOLDOWN,
    BUDGET_EXHAUSTED, LOCK_HELD, NO_TRAINING_DATA,
)


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy concluded; ``reasons`` lists the signal codes first, then every blocking code."""

    retrain: bool
    reasons: list[str]
    breach_streak: int
    sample_size: int
    new_labels: int
    retrains_in_period: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "reasons": list(self.reasons),
            "breachStreak": self.breach_streak,
            "sampleSize": self.sample_size,
            "newLabels": self.new_labels,
            "retrainsInPeriod": self.retrains_in_period,
            **self.details,
        }


def with_lock_held(decision: PolicyDecision, holder: str | None = None) -> PolicyDecision:
    """The same decision, turned into "no retrain" because another run holds the model's lock."""
    details = {**decision.details, "lockHolder": holder} if holder else decision.details
    return replace(decision, retrain=False, reasons=[*decision.reasons, LOCK_HELD], details=details)


def with_no_training_data(decision: PolicyDecision) -> PolicyDecision:
    """The same decision, turned into "no retrain" because no labelled rows precede the window."""
    return replace(decision, retrain=False, reasons=[*decision.reasons, NO_TRAINING_DATA])


def _signals(policy: RetrainPolicy, breached: bool, drift_detected: bool) -> list[str]:
    out = []
    if breached and "performance" in policy.triggers:
        out.append(PERFORMANCE_BREACH)
    if drift_detected and "drift" in policy.triggers:
        out.append(DATASET_DRIFT)
    return out


def _window_key(run: Mapping[str, Any]) -> str | None:
    window = run.get("window") or {}
    return window.get("end") if isinstance(window, Mapping) else None


def _assessed_windows(history: Sequence[Mapping[str, Any]], *, current_run_id: str | None,
                      current_end: datetime) -> list[Mapping[str, Any]]:
    """Completed, assessed runs strictly before the current window, one per window, newest window first."""
    by_window: dict[str, Mapping[str, Any]] = {}
    for run in history:
        if run.get("runId") == current_run_id or run.get("status") != "SUCCEEDED" or "breached" not in run:
            continue
        key = _window_key(run)
        if key is None or parse_iso(key) >= current_end:
            continue
        kept = by_window.get(key)
        if kept is None or str(run.get("startedAt", "")) > str(kept.get("startedAt", "")):
            by_window[key] = run
    return [by_window[k] for k in sorted(by_window, key=parse_iso, reverse=True)]


def _retrain_times(state: Mapping[str, Any]) -> list[datetime]:
    """Start times of the recorded retrains (``state.retrains``), or ``lastTrainedAt`` when none are recorded."""
    times = [parse_iso(r["startedAt"]) for r in state.get("retrains", [])
             if isinstance(r, Mapping) and r.get("startedAt")]
    if not times and state.get("lastTrainedAt"):
        times.append(parse_iso(state["lastTrainedAt"]))
    return sorted(times)


def decide(
    policy: RetrainPolicy,
    *,
    evaluation: Mapping[str, Any],
    drift: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    state: Mapping[str, Any],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    run_id: str | None = None,
) -> PolicyDecision:
    """Apply the retrain policy to the current window.

    Parameters
    ----------
    policy : RetrainPolicy
        The model config's ``retrainPolicy``.
    evaluation, drift : mapping
        The current window's ``metric_evaluator`` and ``drift_checker`` summaries (``breached``,
        ``sampleSize`` / ``detected``).
    history : sequence of mapping
        The model's earlier run records (any order).
    state : mapping
        The model state (``lastTrainedAt``, ``trainingDataEnd``, ``retrains``).
    window_start, window_end : datetime
        The current window.
    now : datetime
        The decision time (cooldown and budget are measured from it).
    run_id : str, optional
        The current run, ignored if it appears in ``history``.

    Returns
    -------
    PolicyDecision

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> p = RetrainPolicy(consecutiveBreaches=1, minSamples=10, minNewLabels=0)
    >>> t = datetime(2024, 1, 2, tzinfo=UTC)
    >>> d = decide(p, evaluation={"breached": True, "sampleSize": 50}, drift={"detected": False},
    ...            history=[], state={}, window_start=t, window_end=t, now=t)
    >>> d.retrain, d.reasons
    (True, ['PERFORMANCE_BREACH'])
    """
    breached = bool(evaluation.get("breached"))
    drift_detected = bool(drift.get("detected"))
    signals = _signals(policy, breached, drift_detected)
    sample_size = int(evaluation.get("sampleSize") or 0)

    # the streak: the current window plus the consecutive earlier windows that showed an enabled signal
    earlier = _assessed_windows(history, current_run_id=run_id, current_end=window_end)
    streak = 0
    if signals:
        streak = 1
        for run in earlier:
            if not _signals(policy, bool(run.get("breached")), bool(run.get("driftDetected"))):
                break
            streak += 1

    # labels since the data of the last training: distinct windows starting at/after the cut-off
    cutoff_raw = state.get("trainingDataEnd") or state.get("lastTrainedAt")
    cutoff = parse_iso(cutoff_raw) if cutoff_raw else None
    new_labels = sample_size if cutoff is None or window_start >= cutoff else 0
    for run in earlier:
        start = (run.get("window") or {}).get("start")
        if cutoff is None or (start and parse_iso(start) >= cutoff):
            new_labels += int(run.get("sampleSize") or 0)

    retrains = _retrain_times(state)
    in_period = sum(1 for t in retrains if t > now - timedelta(days=policy.period_days))
    details: dict[str, Any] = {}

    blocking: list[str] = []
    if not signals:
        blocking.append(SIGNAL_NOT_ENABLED if (breached or drift_detected) else HEALTHY)
    else:
        if streak < policy.consecutive_breaches:
            blocking.append(BREACH_NOT_SUSTAINED)
        if sample_size < policy.min_samples:
            blocking.append(TOO_FEW_SAMPLES)
        if new_labels < policy.min_new_labels:
            blocking.append(TOO_FEW_NEW_LABELS)
        if retrains and now - retrains[-1] < timedelta(hours=policy.cooldown_hours):
            blocking.append(COOLDOWN)
            details["cooldownUntil"] = iso(retrains[-1] + timedelta(hours=policy.cooldown_hours))
        if in_period >= policy.max_retrains_per_period:
            blocking.append(BUDGET_EXHAUSTED)

    return PolicyDecision(
        retrain=bool(signals) and not blocking,
        reasons=[*signals, *blocking],
        breach_streak=streak,
        sample_size=sample_size,
        new_labels=new_labels,
        retrains_in_period=in_period,
        details=details,
    )
