"""The retrain policy: a pure function of the config's policy, the model state, the run history and the
current window's assessment. No AWS, no clock: ``now`` is an argument, so every rule is unit-testable.

Retrain only when a breach is real:

* the current window shows a signal enabled by ``policy.triggers`` — a performance breach
  (``evaluation.breached``) and/or dataset drift (``drift.detected``);
* the signal is sustained: ``consecutiveBreaches`` windows in a row, the current one included, showed an
  enabled signal. Earlier windows come from the run history (each completed run records ``breached`` and
  ``driftDetected``); several runs over the same window count once (the newest), failed runs and runs
  without an assessment are not windows and are skipped. A performance breach is also sustained by *pooled*
  evidence (``pooledBreaches``, default off, see :func:`pooled_breaches`): the last ``consecutiveBreaches``
  windows are each below a threshold by their point estimate and their inverse-variance pooled estimate is
  below it at ``thresholdConfidence`` — two windows each moderately below are strong joint evidence even when
  neither window's own bound is — and by *sequential* evidence (``sequentialBreaches``, default on, see
  :mod:`retrain_launcher.policy_cusum`): a one-sided CUSUM of each metric's per-window deficit in standard
  errors over the windows the champion version scored; and by a *label shift* (``labelShift``, default on,
  classifiers, see :mod:`retrain_launcher.policy_labelshift`): the class counts changed since the champion
  version's earlier windows (chi-square at ``alpha``) and the metric is on the wrong side by point estimate in
  the current window and pooled since the change (``LABEL_SHIFT`` follows ``PERFORMANCE_BREACH``);
* the window has at least ``minSamples`` labelled rows;
* at least ``minNewLabels`` labelled rows arrived since the data of the last training (the sum of the
  sample sizes of the distinct windows that start at or after the model state's ``trainingDataEnd``,
  falling back to ``lastTrainedAt``; every known window when the model was never retrained);
* the last retrain started at least ``cooldownHours`` ago (a performance-triggered retrain looks only at the
  last performance-triggered one, so a drift-only retrain never delays it);
* fewer than ``maxRetrainsPerPeriod`` performance-triggered retrains (or, for a retrain triggered by drift
  alone, fewer than ``maxDriftRetrainsPerPeriod`` drift-only ones) started in the last ``periodDays`` days: the
  two budgets are separate, so drift that does not hurt can never block a retrain for a real breach.

Acknowledged drift: when a drift-only retrain's challenger was not better while performance was healthy, the
run records the drifted features and their effect sizes in the model state (``driftAcknowledged``, see
:func:`acknowledge`). Drift then signals only for a drifted feature that is not acknowledged or whose effect
size reached ``driftEffectFactor`` times the acknowledged one (``DRIFT_ACKNOWLEDGED`` otherwise), and windows
that ended before the acknowledgement no longer sustain a drift streak. A deployment (new champion, new
baseline) clears the acknowledgement.

The per-model lock is not a policy input: the caller takes it after a positive decision and, when another
run holds it, turns the decision into ``LOCK_HELD`` with :func:`with_lock_held`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

from driftline_common.config import RetrainPolicy
from driftline_common.store import iso, parse_iso

from retrain_launcher.policy_cusum import cusum_breaches
from retrain_launcher.policy_labelshift import label_shift_breaches

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
DRIFT_ACKNOWLEDGED = "DRIFT_ACKNOWLEDGED"
DRIFT_BUDGET_EXHAUSTED = "DRIFT_BUDGET_EXHAUSTED"
#: dataset drift that did not move the champion's scores (``retrainPolicy.scoreDriftPsi``): not a signal
SCORES_UNCHANGED = "SCORES_UNCHANGED"
#: qualifies ``PERFORMANCE_BREACH``: a label-shift breach contributed (``retrainPolicy.labelShift``)
LABEL_SHIFT = "LABEL_SHIFT"
#: outcome code of a run that acknowledges drift (recorded on the run, see :func:`acknowledge`)
ACKNOWLEDGED = "ACKNOWLEDGED"
#: the metrics a new decision threshold can change (what a recalibration can fix)
THRESHOLD_METRICS = frozenset({"accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc"})

SIGNAL_CODES = (PERFORMANCE_BREACH, DATASET_DRIFT)
BLOCKING_CODES = (
    HEALTHY, SIGNAL_NOT_ENABLED, BREACH_NOT_SUSTAINED, TOO_FEW_SAMPLES, TOO_FEW_NEW_LABELS, COOLDOWN,
    BUDGET_EXHAUSTED, LOCK_HELD, NO_TRAINING_DATA, DRIFT_ACKNOWLEDGED, DRIFT_BUDGET_EXHAUSTED, SCORES_UNCHANGED,
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


#: the rules that count a metric as breached beyond the window's own confidence bound: decision detail key -> name
EVIDENCE_RULES = (("pooledBreaches", "pooled"), ("sequentialBreaches", "cusum"), ("labelShiftBreaches", "label-shift"))


def breach_evidence(own: Sequence[str], details: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per metric the decision counts as breached, the rules that said so: ``window`` (``own``: the window's own
    bound), ``pooled``, ``cusum``, ``label-shift``. A window that breached nothing by its own bound can still decide
    ``PERFORMANCE_BREACH`` on the evidence of the windows before it; this names it (the run record keeps it).

    >>> breach_evidence(["accuracy"], {"sequentialBreaches": [{"metric": "f1"}, {"metric": "accuracy"}]})
    {'accuracy': ['window', 'cusum'], 'f1': ['cusum']}
    """
    out: dict[str, list[str]] = {str(m): ["window"] for m in own}
    for key, rule in EVIDENCE_RULES:
        for b in details.get(key) or []:
            if isinstance(b, Mapping) and isinstance(b.get("metric"), str):
                out.setdefault(b["metric"], []).append(rule)
    return out


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


def _retrain_times(state: Mapping[str, Any], kind: str | None = None) -> list[datetime]:
    """Start times of the recorded retrains (``state.retrains``), or ``lastTrainedAt`` when none are recorded.

    ``kind`` ``"performance"`` / ``"drift"`` keeps only the retrains of that trigger (an entry recorded before
    the trigger was recorded counts as a performance retrain).
    """
    entries = [r for r in state.get("retrains", []) if isinstance(r, Mapping) and r.get("startedAt")]
    times = [parse_iso(r["startedAt"]) for r in entries
             if kind is None or str(r.get("trigger") or "performance") == kind]
    if not entries and state.get("lastTrainedAt") and kind != "drift":
        times.append(parse_iso(state["lastTrainedAt"]))
    return sorted(times)


def unacknowledged_drift(drift: Mapping[str, Any], state: Mapping[str, Any], factor: float) -> list[str]:
    """The drifted features that are not covered by the model's acknowledged drift.

    A feature is covered when it was acknowledged and its effect size now is below ``factor`` times the
    acknowledged one (an effect size the drift summary does not report counts as not larger).
    """
    drifted = [str(f) for f in drift.get("driftedFeatures") or []]
    ack = state.get("driftAcknowledged")
    known = ack.get("features") if isinstance(ack, Mapping) else None
    if not isinstance(known, Mapping):
        return drifted
    raw = drift.get("effects")
    effects: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    out = []
    for f in drifted:
        if f not in known:
            out.append(f)
            continue
        now, then = effects.get(f), known.get(f)
        if isinstance(now, int | float) and isinstance(then, int | float) and now >= factor * then:
            out.append(f)
    return out


def acknowledge(state: Mapping[str, Any], *, drift: Mapping[str, Any], run_id: str, now: datetime
                ) -> dict[str, Any]:
    """The model state with the window's drifted features acknowledged (effect sizes kept at their maximum)."""
    raw_prev = state.get("driftAcknowledged")
    prev: Mapping[str, Any] = raw_prev if isinstance(raw_prev, Mapping) else {}
    features = dict(prev.get("features") or {})
    raw = drift.get("effects")
    effects: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    for f in drift.get("driftedFeatures") or []:
        e = effects.get(f)
        value = float(e) if isinstance(e, int | float) else 0.0
        features[str(f)] = max(value, float(features.get(str(f), 0.0)))
    return {**state, "driftAcknowledged": {"at": iso(now), "runId": run_id, "features": features}}


def should_acknowledge(decision: Mapping[str, Any], evaluation: Mapping[str, Any], outcome: str) -> bool:
    """A drift-only retrain whose challenger was not deployed while the window's performance was healthy."""
    return (bool(decision.get("retrain")) and decision.get("trigger") == "drift"
            and outcome in ("champion_kept", "rejected") and not evaluation.get("breached"))


def breached_metrics(evaluation: Mapping[str, Any]) -> list[str]:
    """The metrics of the window's threshold breaches, in the config's order, once each."""
    out: list[str] = []
    for b in evaluation.get("breaches") or []:
        if isinstance(b, Mapping) and isinstance(b.get("metric"), str) and b["metric"] not in out:
            out.append(b["metric"])
    return out


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(confidence)


def window_evidence(metrics: Mapping[str, Any] | None, intervals: Mapping[str, Any] | None,
                    breaches: Sequence[Any] | None = None) -> dict[str, dict[str, float]]:
    """``{metric: {"value", "lower", "upper", "confidence"}}`` of a window: its metric values with the one-sided
    bounds the evaluator reported (``intervals``; for a run recorded without them, the bounds its breaches
    carry). Metrics without a finite value and bound are left out (they cannot be pooled)."""
    raw: dict[str, Any] = dict(intervals or {})
    for b in breaches or []:
        if isinstance(b, Mapping) and isinstance(b.get("interval"), Mapping):
            raw.setdefault(str(b.get("metric")), b["interval"])
    out: dict[str, dict[str, float]] = {}
    for metric, iv in raw.items():
        value = (metrics or {}).get(metric)
        if not isinstance(iv, Mapping) or not isinstance(value, int | float):
            continue
        try:
            row = {"value": float(value), "lower": float(iv["lower"]), "upper": float(iv["upper"]),
                   "confidence": float(iv["confidence"])}
        except (KeyError, TypeError, ValueError):
            continue
        if all(math.isfinite(v) for v in row.values()) and 0.5 < row["confidence"] < 1:
            out[metric] = row
    return out


def pooled_breaches(thresholds: Sequence[Mapping[str, Any]], windows: Sequence[Mapping[str, Mapping[str, float]]],
                    confidence: float) -> list[dict[str, Any]]:
    """The thresholds breached by the pooled evidence of ``windows`` (each a :func:`window_evidence`).

    For a ``min`` threshold every window's point estimate must be below it, and the inverse-variance weighted
    mean of the windows' values, with standard errors ``se_i = (upper_i - value_i) / z(confidence_i)`` read
    off each window's own one-sided bound, must have its one-sided upper bound at ``confidence`` below it
    (``max``: mirrored with the lower bounds). For a fixed set of windows this is a one-sided test at level
    ``1 - confidence`` that the metric over those windows is on the wrong side of the threshold; requiring each
    window's point estimate on the wrong side keeps one very bad window from carrying a healthy one.

    Examples
    --------
    >>> w = {"accuracy": {"value": 0.81, "lower": 0.797, "upper": 0.823, "confidence": 0.9}}
    >>> [b["metric"] for b in pooled_breaches([{"metric": "accuracy", "min": 0.825}], [w, w], 0.9)]
    ['accuracy']
    >>> pooled_breaches([{"metric": "accuracy", "min": 0.825}], [w], 0.9)  # one window: its own bound
    []
    """
    if len(windows) < 2:
        return []
    z = _z(confidence)
    out: list[dict[str, Any]] = []
    for t in thresholds:
        metric = t.get("metric")
        lo, hi = t.get("min"), t.get("max")
        if not isinstance(metric, str) or any(metric == b["metric"] for b in out):
            continue
        rows = [w[metric] for w in windows if metric in w]
        if len(rows) < len(windows):
            continue
        for limit, side in ((lo, "min"), (hi, "max")):
            if not isinstance(limit, int | float):
                continue
            values, weights = [], []
            for r in rows:
                bound = r["upper"] if side == "min" else r["lower"]
                se = abs(bound - r["value"]) / _z(r["confidence"])
                wrong = r["value"] < limit if side == "min" else r["value"] > limit
                if not wrong or not se > 0:
                    break
                values.append(r["value"])
                weights.append(1.0 / (se * se))
            else:
                total = sum(weights)
                mean = sum(v * w for v, w in zip(values, weights, strict=True)) / total
                se_pooled = math.sqrt(1.0 / total)
                lower, upper = mean - z * se_pooled, mean + z * se_pooled
                if (side == "min" and upper < limit) or (side == "max" and lower > limit):
                    out.append({"metric": metric, side: float(limit), "value": mean, "windows": len(rows),
                                "interval": {"method": "pooled", "confidence": confidence,
                                             "lower": lower, "upper": upper}})
                    break
    return out


def wants_recalibration(problem_type: str, enabled: bool, breached: Sequence[str]) -> bool:
    """A recalibration is worth trying: a classifier whose ranking held (ROC AUC did not breach) while a metric
    that depends on the decision rule did — a binary model gets a new decision threshold, a multiclass one
    per-class score offsets (a prior correction)."""
    return (problem_type in ("binary", "multiclass") and enabled and "roc_auc" not in breached
            and any(m in THRESHOLD_METRICS for m in breached))


def _in_config_order(evaluation: Mapping[str, Any], metrics: Sequence[str]) -> list[str]:
    order = [t.get("metric") for t in evaluation.get("thresholds") or [] if isinstance(t, Mapping)]
    unique = list(dict.fromkeys(metrics))
    return sorted(unique, key=lambda m: order.index(m) if m in order else len(order))


def _pooled(policy: RetrainPolicy, evaluation: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]]
            ) -> list[dict[str, Any]]:
    """Pooled breaches of the current window and the ``consecutiveBreaches - 1`` assessed windows before it."""
    k = policy.consecutive_breaches
    if not policy.pooled_breaches or k < 2 or len(earlier) < k - 1:
        return []
    current = window_evidence(evaluation.get("metrics"), evaluation.get("intervals"), evaluation.get("breaches"))
    windows = [current, *(window_evidence(r.get("metrics"), r.get("intervals"), r.get("breaches"))
                          for r in earlier[:k - 1])]
    return pooled_breaches(_threshold_entries(evaluation), windows, policy.threshold_confidence)


def _sequential(policy: RetrainPolicy, evaluation: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]],
                state: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sequential (CUSUM) breaches over the assessed windows the champion version scored (those ending after its
    ``since``) and the current window (:mod:`retrain_launcher.policy_cusum`)."""
    seq = policy.sequential_breaches
    if seq is None:
        return [], []
    since = _champion_since(state)
    chain: list[Mapping[str, Mapping[str, float]] | None] = []
    for run in reversed(earlier):  # oldest first
        end = _window_key(run)
        if since is not None and (end is None or parse_iso(end) <= since):
            continue
        chain.append(window_evidence(run.get("metrics"), run.get("intervals"), run.get("breaches")) or None)
    chain.append(window_evidence(evaluation.get("metrics"), evaluation.get("intervals"), evaluation.get("breaches")))
    return cusum_breaches(_threshold_entries(evaluation), chain, reference=float(seq.reference),
                          limit=float(seq.limit), min_windows=policy.consecutive_breaches)


def _champion_since(state: Mapping[str, Any]) -> datetime | None:
    champion = state.get("champion")
    since_raw = champion.get("since") if isinstance(champion, Mapping) else None
    return parse_iso(since_raw) if isinstance(since_raw, str) else None


def _label_shift(policy: RetrainPolicy, evaluation: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]],
                 state: Mapping[str, Any], already: Sequence[str], window_start: datetime
                 ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Label-shift breaches over the windows the champion version scored and the current window
    (:mod:`retrain_launcher.policy_labelshift`); the test carries ``since``, the start of the first window after
    the estimated shift."""
    if policy.label_shift is None or evaluation.get("classCounts") is None:
        return [], None
    since = _champion_since(state)
    runs = [r for r in reversed(earlier)  # oldest first
            if since is None or ((end := _window_key(r)) is not None and parse_iso(end) > since)]
    windows = [(r.get("classCounts"), window_evidence(r.get("metrics"), r.get("intervals"), r.get("breaches")))
               for r in runs]
    windows.append((evaluation.get("classCounts"), window_evidence(
        evaluation.get("metrics"), evaluation.get("intervals"), evaluation.get("breaches"))))
    breaches, test = label_shift_breaches(_threshold_entries(evaluation), windows,
                                          alpha=float(policy.label_shift.alpha),
                                          min_windows=policy.consecutive_breaches, already=already,
                                          dispersion=policy.label_shift.dispersion)
    if test is not None and test["windows"] > 1:
        first = runs[len(runs) - test["windows"] + 1]
        test["since"] = (first.get("window") or {}).get("start")
    elif test is not None:  # the shift is in the current window alone: no earlier row is of the new population
        test["since"] = iso(window_start)
    return breaches, test


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
    score_drift: Mapping[str, Any] | None = None,
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
    score_drift : mapping, optional
        ``{"psi", ...}`` of the champion's scores (:mod:`retrain_launcher.policy_sensitivity`); with
        ``policy.scoreDriftPsi`` set, dataset drift signals only when ``psi`` reaches it.

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
    drift_detected = bool(drift.get("detected"))
    details: dict[str, Any] = {"breachedMetrics": breached_metrics(evaluation)}
    earlier = _assessed_windows(history, current_run_id=run_id, current_end=window_end)
    pooled = _pooled(policy, evaluation, earlier)
    if pooled:
        details["pooledBreaches"] = pooled
        details["breachedMetrics"] = _in_config_order(
            evaluation, [*details["breachedMetrics"], *(b["metric"] for b in pooled)])
    sequential, cusum = _sequential(policy, evaluation, earlier, state)
    if cusum:
        details["cusum"] = cusum
    if sequential:
        details["sequentialBreaches"] = sequential
        details["breachedMetrics"] = _in_config_order(
            evaluation, [*details["breachedMetrics"], *(b["metric"] for b in sequential)])
    # a window's own breach still needs its streak: only the metrics another rule already sustained are skipped
    labelled, label_test = _label_shift(policy, evaluation, earlier, state,
                                        [b["metric"] for b in (*pooled, *sequential)], window_start)
    if label_test is not None and label_test["shift"]:
        details["labelShift"] = label_test
    if labelled:
        details["labelShiftBreaches"] = labelled
        details["breachedMetrics"] = _in_config_order(
            evaluation, [*details["breachedMetrics"], *(b["metric"] for b in labelled)])
    breached = bool(evaluation.get("breached")) or bool(pooled) or bool(sequential) or bool(labelled)
    details["evidence"] = breach_evidence(breached_metrics(evaluation), details)
    acknowledged = False
    ack = state.get("driftAcknowledged") if isinstance(state.get("driftAcknowledged"), Mapping) else None
    if drift_detected and "drift" in policy.triggers and ack:
        fresh = unacknowledged_drift(drift, state, policy.drift_effect_factor)
        details["unacknowledgedDrift"] = fresh
        acknowledged = not fresh
    insensitive = False
    if drift_detected and not acknowledged and score_drift is not None and policy.score_drift_psi is not None:
        details["scoreDrift"] = dict(score_drift)
        insensitive = float(score_drift.get("psi", math.inf)) < policy.score_drift_psi
    signals = _signals(policy, breached, drift_detected and not acknowledged and not insensitive)
    sample_size = int(evaluation.get("sampleSize") or 0)
    ack_time = parse_iso(ack["at"]) if ack and isinstance(ack.get("at"), str) else None

    # the streak: the current window plus the consecutive earlier windows that showed an enabled signal
    # (drift in a window that ended before the drift was acknowledged sustains nothing)
    streak = 0
    label_needed = False
    if signals:
        streak = 1
        for run in earlier:
            end = _window_key(run)
            old_drift = bool(run.get("driftDetected")) and not (
                ack_time is not None and end is not None and parse_iso(end) <= ack_time)
            if not _signals(policy, bool(run.get("breached")), old_drift):
                break
            streak += 1
        # LABEL_SHIFT names the label evidence only where it sustained the breach
        # (the streak counts the current window whatever its own bound said: a window that breached only by the
        # label-shift rule is sustained by it too)
        label_needed = bool(labelled) and not (pooled or sequential) and (
            not evaluation.get("breached") or streak < policy.consecutive_breaches)
        if (pooled or sequential or labelled) and PERFORMANCE_BREACH in signals:
            streak = max(streak, policy.consecutive_breaches)

    # labels since the data of the last training: distinct windows starting at/after the cut-off
    cutoff_raw = state.get("trainingDataEnd") or state.get("lastTrainedAt")
    cutoff = parse_iso(cutoff_raw) if cutoff_raw else None
    new_labels = sample_size if cutoff is None or window_start >= cutoff else 0
    for run in earlier:
        start = (run.get("window") or {}).get("start")
        if cutoff is None or (start and parse_iso(start) >= cutoff):
            new_labels += int(run.get("sampleSize") or 0)

    # a performance retrain is limited by performance retrains only; a drift-only one by every retrain's
    # cooldown and by its own budget
    kind = "performance" if PERFORMANCE_BREACH in signals else "drift"
    retrains = _retrain_times(state, "performance" if kind == "performance" else None)
    counted = retrains if kind == "performance" else _retrain_times(state, "drift")
    in_period = sum(1 for t in counted if t > now - timedelta(days=policy.period_days))
    budget = policy.max_retrains_per_period if kind == "performance" else policy.max_drift_retrains_per_period
    if signals:
        details["trigger"] = kind

    blocking: list[str] = []
    if not signals:
        if acknowledged and not breached:
            blocking.extend([DRIFT_ACKNOWLEDGED, HEALTHY])  # the run's outcome is "healthy"
        elif insensitive and not breached:
            blocking.extend([SCORES_UNCHANGED, HEALTHY])
        else:
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
        if in_period >= budget:
            blocking.append(BUDGET_EXHAUSTED if kind == "performance" else DRIFT_BUDGET_EXHAUSTED)

    if label_needed and PERFORMANCE_BREACH in signals:
        signals.insert(signals.index(PERFORMANCE_BREACH) + 1, LABEL_SHIFT)
    return PolicyDecision(
        retrain=bool(signals) and not blocking,
        reasons=[*signals, *blocking],
        breach_streak=streak,
        sample_size=sample_size,
        new_labels=new_labels,
        retrains_in_period=in_period,
        details=details,
    )


def history_since(policy: RetrainPolicy, state: Mapping[str, Any], window_start: datetime) -> datetime | None:
    """The time after which every window ends that a decision on the window starting at ``window_start`` reads by
    time, or ``None`` when some rule reads every earlier window.

    Read by time: the sequential (CUSUM) and label-shift statistics (windows ending after the champion's
    ``since``), the new-label count (windows starting at/after ``trainingDataEnd``, else ``lastTrainedAt``), the
    training sources (windows starting at/after ``window_start - trainingWindowDays``) and, in the decide step,
    the score-drift reference and the recalibration's windows (starting at/after the champion's ``modelSince``
    or ``since``). Without a champion ``since`` or a training cut-off there is no such time. The breach streak and
    the pooled windows are read by count, not by time: :func:`history_suffices` says whether a history read
    from this time holds them."""
    raw = state.get("champion")
    champion: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    times = [champion.get("since"), champion.get("modelSince"),
             state.get("trainingDataEnd") or state.get("lastTrainedAt")]
    if not isinstance(times[0], str) or not isinstance(times[2], str):
        return None
    bounds = [parse_iso(t) for t in times if isinstance(t, str)]
    return min([*bounds, window_start - timedelta(days=policy.training_window_days)])


def history_suffices(policy: RetrainPolicy, history: Sequence[Mapping[str, Any]], *, run_id: str | None,
                     window_end: datetime) -> bool:
    """Whether ``history``, the runs whose window ended after :func:`history_since` (the newest windows, with
    every run over them), decides as the whole history would: it must hold the ``consecutiveBreaches - 1``
    newest windows the pooled rule reads, and an earlier window that ends the breach streak (one that showed no
    enabled signal — acknowledged drift only ends a streak sooner)."""
    earlier = _assessed_windows(history, current_run_id=run_id, current_end=window_end)
    k = policy.consecutive_breaches
    if policy.pooled_breaches and k >= 2 and len(earlier) < k - 1:
        return False
    return any(not _signals(policy, bool(r.get("breached")), bool(r.get("driftDetected"))) for r in earlier)


def _threshold_entries(evaluation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The evaluation's threshold entries that are objects (the evaluator writes only those; anything else in a
    hand-made event is skipped, as the breach order above skips it, rather than failing the decision)."""
    return [t for t in evaluation.get("thresholds") or [] if isinstance(t, Mapping)]
