"""The monitor step's signals in the retrain decision: ``DATA_QUALITY``, ``OPERATIONAL_BREACH`` and ``BIAS``.

None of them retrains by default (docs/model-monitor.md):

- ``DATA_QUALITY`` alerts: bad data is not fixed by retraining on it;
- ``OPERATIONAL_BREACH`` alerts and, when the current champion was deployed less than
  ``deployment.rollbackWindowHours`` ago and a previous champion is recorded, asks for a rollback to it
  (``rollback`` in the decision) — never a retrain;
- ``BIAS`` alerts; with ``bias.retrain`` it counts as a performance breach for the retrain policy (sustained
  windows, sample size, cooldown and budget still apply).

:func:`with_bias_breach` adjusts the evaluation the policy sees; :func:`annotate` adds the signals (and the
rollback) to the policy's decision. Both are pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from driftline_common.config import ModelConfig
from driftline_common.store import parse_iso

from retrain_launcher.policy import PolicyDecision

DATA_QUALITY = "DATA_QUALITY"
OPERATIONAL_BREACH = "OPERATIONAL_BREACH"
BIAS = "BIAS"
MONITOR_SIGNALS = (DATA_QUALITY, OPERATIONAL_BREACH, BIAS)


def monitor_signals(assessment: Mapping[str, Any]) -> list[str]:
    """The signals the ``monitor`` step raised for this window (none when it did not run)."""
    monitor = assessment.get("monitor")
    raw = monitor.get("signals") if isinstance(monitor, Mapping) else None
    return [s for s in MONITOR_SIGNALS if isinstance(raw, list) and s in raw]


def with_bias_breach(cfg: ModelConfig, evaluation: Mapping[str, Any], assessment: Mapping[str, Any]
                     ) -> Mapping[str, Any]:
    """``evaluation`` marked ``breached`` when a ``BIAS`` signal may trigger a retrain (``bias.retrain``)."""
    if cfg.bias is not None and cfg.bias.retrain and BIAS in monitor_signals(assessment):
        return {**evaluation, "breached": True, "biasBreach": True}
    return evaluation


def rollback_target(cfg: ModelConfig, state: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The previous champion to roll back to, when the champion was deployed within the rollback window."""
    champion, previous = state.get("champion"), state.get("previousChampion")
    if not isinstance(champion, Mapping) or not isinstance(previous, Mapping):
        return None
    since, config_name = champion.get("since"), previous.get("endpointConfigName")
    if not since or not config_name or config_name == champion.get("endpointConfigName"):
        return None
    if now - parse_iso(str(since)) > timedelta(hours=cfg.deployment.rollback_window_hours):
        return None
    return {"endpointConfigName": config_name, "modelName": previous.get("modelName"),
            "version": previous.get("version"), "from": champion.get("endpointConfigName"),
            "reason": OPERATIONAL_BREACH}


def annotate(decision: PolicyDecision, cfg: ModelConfig, assessment: Mapping[str, Any],
             state: Mapping[str, Any], now: datetime) -> PolicyDecision:
    """The decision with the monitor's signals in its details (``monitorSignals``; the policy's ``reasons`` stay
    the retrain reasons) and, for an operational breach within the rollback window, ``rollback`` — the decision
    then does not retrain and ``OPERATIONAL_BREACH`` closes its ``reasons``."""
    found = monitor_signals(assessment)
    if not found:
        return decision
    details: dict[str, Any] = {**decision.details, "monitorSignals": found}
    if OPERATIONAL_BREACH in found:
        target = rollback_target(cfg, state, now)
        if target is not None:  # roll back first: a retrain waits for a healthy champion
            details["rollback"] = target
            return replace(decision, retrain=False, reasons=[*decision.reasons, OPERATIONAL_BREACH], details=details)
    return replace(decision, details=details)


def run_record(assessment: Mapping[str, Any], decision: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the run record and the ``Evaluation Completed`` event carry of the monitor step (``None`` when it
    did not run): the signals, each part's status and result file, the rollback asked for."""
    monitor = assessment.get("monitor")
    if not isinstance(monitor, Mapping):
        return None
    out: dict[str, Any] = {"signals": monitor_signals(assessment)}
    keep = {"dataQuality": ("status", "configured", "violations", "checks", "violationsUri", "error"),
            "operational": ("status", "breached", "error"),
            "bias": ("status", "breachCount", "breaches", "analysisUri", "error")}
    for part, keys in keep.items():
        value = monitor.get(part)
        if isinstance(value, Mapping):
            out[part] = {k: value[k] for k in keys if k in value}
    if decision.get("rollback"):
        out["rollback"] = decision["rollback"]
    return out


def alert_message(model_id: str, run_id: str, record: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The alerts-topic message of a window with monitor signals (subject, body), or ``None``.

    ``DATA_QUALITY`` notifies the topic only for a model with a ``dataQuality`` section (``configured``): the
    checks against the files ``build_baseline`` writes for every model are recorded, published as metrics and in
    ``Evaluation Completed``, without paging anyone who did not ask for them."""
    dq = record.get("dataQuality") or {}
    found = [s for s in record.get("signals") or [] if s != DATA_QUALITY or dq.get("configured")]
    if not found:
        return None
    return (f"Driftline: {', '.join(found)} on {model_id}"[:100],
            {"modelId": model_id, "runId": run_id, **record})
