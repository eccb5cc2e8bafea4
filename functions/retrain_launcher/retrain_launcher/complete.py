"""The retrain launcher's ``complete`` action: the run's outcome, champion bookkeeping and drift acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from driftline_common.aws import client
from driftline_common.contracts.retrain_launcher import Complete
from driftline_common.events import publish
from driftline_common.numbers import dumps
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import iso, utcnow

from retrain_launcher import policy as retrain_policy
from retrain_launcher import signals
from retrain_launcher.common import (
    EMPTY_STREAK_LIMIT,
    NO_DATA,
    Stores,
    lock_id,
)
from retrain_launcher.fail import failure_reason


def _count(value: Any) -> int | None:
    """A record count from a summary: an int, or the sum of a ``{reason: count}`` map; ``None`` if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, Mapping) and all(isinstance(v, int | float) for v in value.values()):
        return int(sum(value.values()))
    return None


def window_is_empty(evaluation: Mapping[str, Any], drift: Mapping[str, Any]) -> bool:
    """No row at all in the window: nothing captured (good or bad) by the drift checker, nothing joined, unlabelled
    or bad in the evaluation. A window with captured rows but no labels yet is not empty (its labels are late)."""
    counts = [_count(drift.get("sampleSize")), _count(drift.get("badRecords")),
              _count(evaluation.get("sampleSize")), _count(evaluation.get("unlabelled")),
              _count(evaluation.get("badRecords"))]
    return bool(evaluation) and bool(drift) and all(c == 0 for c in counts)


def empty_window_streak(history: list[dict[str, Any]], run_id: str) -> int:
    """How many windows in a row, this one included, held no data (runs newest first; failed runs are skipped)."""
    streak = 1
    for run in history:
        if run.get("runId") == run_id or run.get("status") != "SUCCEEDED":
            continue
        if run.get("outcome") != NO_DATA:
            break
        streak += 1
    return streak


def outcome_of(decision: Mapping[str, Any], state: Mapping[str, Any], *, empty: bool = False) -> str:
    """``no_data | healthy | retrain_skipped | champion_kept | deployed | rolled_back | rejected``.

    ``empty``: the window held no row at all (:func:`window_is_empty`): ``no_data`` unless it retrained.
    """
    if not decision.get("retrain") and empty:
        return NO_DATA
    if not decision.get("retrain"):
        return "healthy" if retrain_policy.HEALTHY in decision.get("reasons", []) else "retrain_skipped"
    approval = state.get("approval")
    if isinstance(approval, Mapping) and approval.get("approved") is False:
        return "rejected"
    status = (state.get("deployment") or {}).get("status")
    if status == "InService":
        return "deployed"
    if status == "RolledBack":
        return "rolled_back"
    return "champion_kept"


def complete(event: Complete, stores: Stores, settings: Settings, *, now: datetime | None = None
             ) -> dict[str, Any]:
    now = now or utcnow()
    model_id, run_id = event.run.model_id, event.run.run_id
    window = event.run.window or {}
    evaluation = (event.assessment.evaluation if event.assessment else None) or {}
    drift = (event.assessment.drift if event.assessment else None) or {}
    assessment = {"evaluation": evaluation, "drift": drift,
                  "monitor": event.assessment.monitor if event.assessment else None}
    decision = event.decision or {}
    pipeline = event.state or {}
    training = pipeline.get("training") or None
    comparison = pipeline.get("comparison") or None
    deployment = pipeline.get("deployment") or None
    outcome = outcome_of(decision, pipeline, empty=window_is_empty(evaluation, drift))

    if outcome == "deployed" and deployment:
        stores.models.record_champion(model_id, {
            "modelName": deployment.get("modelName"), "endpointConfigName": deployment.get("endpointConfigName"),
            "version": deployment.get("version"), "runId": run_id,
            "trainingJobName": (training or {}).get("jobName"),
            "modelArtifacts": (training or {}).get("modelArtifacts"),
        }, now=now)
    if training:
        state = stores.models.get_state(model_id)
        state.update({"lastTrainedAt": iso(now), "lastTrainingJob": training.get("jobName"),
                      "trainingDataEnd": window.get("start") or iso(now)})
        stores.models.put_state(model_id, state)

    settle_drift_acknowledgement(stores, model_id, run_id, decision=decision, evaluation=evaluation, drift=drift,
                                 outcome=outcome, deployment=deployment, now=now)
    drift_summary = {k: drift.get(k) for k in ("detected", "driftedFeatures", "share", "sampleSize", "resultUri")
                     if k in drift}
    decision_summary: dict[str, Any] = {
        k: decision.get(k) for k in ("retrain", "reasons", "breachStreak", "evidence") if k in decision
    }
    if decision.get("training"):
        decision_summary["trainingJobName"] = decision["training"].get("TrainingJobName")
    if decision.get("tuning"):  # the tuning job's best training job is the one that was trained (docs/tuning.md)
        decision_summary["tuningJobName"] = decision["tuning"].get("HyperParameterTuningJobName")
        decision_summary["trainingJobName"] = (training or {}).get("jobName")
    baseline = baseline_refresh(pipeline)
    monitor = signals.run_record(assessment, decision)  # DATA_QUALITY / OPERATIONAL_BREACH / BIAS (monitor step)
    stores.runs.update(
        model_id, run_id,
        status="SUCCEEDED", outcome=outcome, finishedAt=iso(now),
        breached=bool(evaluation.get("breached")), driftDetected=bool(drift.get("detected")),
        sampleSize=int(evaluation.get("sampleSize") or 0), metrics=evaluation.get("metrics") or {},
        breaches=evaluation.get("breaches") or [], evaluationStatus=evaluation.get("status"),
        evaluationUri=evaluation.get("resultUri"), datasetUri=evaluation.get("datasetUri"),
        drift=drift_summary, decision=decision_summary, training=training, comparison=comparison,
        deployment=deployment, **({"baselineRefresh": baseline} if baseline else {}),
        **({"monitor": monitor} if monitor else {}),
        **({"trainingJobName": training.get("jobName")} if decision.get("tuning") and training else {}),
    )
    if decision.get("retrain"):
        stores.locks.release(lock_id(model_id), run_id)
    result = {
        "runId": run_id, "modelId": model_id, "status": "SUCCEEDED", "outcome": outcome,
        "metrics": evaluation.get("metrics") or {}, "drift": drift_summary, "decision": decision_summary,
        "deployment": deployment, **({"baselineRefresh": baseline} if baseline else {}),
        **({"monitor": monitor} if monitor else {}),
    }
    if outcome == NO_DATA:
        result["emptyWindowStreak"] = empty_window_streak(
            stores.runs.list(model_id, limit=EMPTY_STREAK_LIMIT), run_id)
    publish(settings, "Evaluation Completed", {
        **result, "sampleSize": int(evaluation.get("sampleSize") or 0), "breached": bool(evaluation.get("breached")),
        "breaches": evaluation.get("breaches") or [], "thresholds": evaluation.get("thresholds") or [],
        "intervals": evaluation.get("intervals") or {},
    })
    if outcome == NO_DATA:
        alert_no_data(settings, result, window)
    alert = signals.alert_message(model_id, run_id, monitor or {})
    if alert and settings.alerts_topic_arn:
        client("sns").publish(TopicArn=settings.alerts_topic_arn, Subject=alert[0], Message=dumps(alert[1]))
    return result


def alert_no_data(settings: Settings, result: Mapping[str, Any], window: Mapping[str, Any]) -> None:
    """An empty window alerts like a failure does (the alerts topic): a broken Data Capture feed must surface."""
    if not settings.alerts_topic_arn:
        return
    model_id = result["modelId"]
    client("sns").publish(
        TopicArn=settings.alerts_topic_arn, Subject=f"Driftline: no data in the window of {model_id}"[:100],
        Message=dumps({"modelId": model_id, "runId": result["runId"], "outcome": NO_DATA, "window": window,
                       "emptyWindowStreak": result.get("emptyWindowStreak")}),
    )


def settle_drift_acknowledgement(stores: Stores, model_id: str, run_id: str, *, decision: Mapping[str, Any],
                                 evaluation: Mapping[str, Any], drift: Mapping[str, Any], outcome: str,
                                 deployment: Mapping[str, Any] | None, now: datetime) -> bool:
    """Acknowledge the window's drift when a drift-only retrain did not deploy while performance was healthy
    (the model state remembers the features and effect sizes, the run records ``driftAcknowledged``); clear it
    when a retrained model was deployed (its baseline is refreshed). Returns whether drift was acknowledged."""
    if retrain_policy.should_acknowledge(decision, evaluation, outcome):
        state = retrain_policy.acknowledge(stores.models.get_state(model_id), drift=drift, run_id=run_id, now=now)
        stores.models.put_state(model_id, state)
        stores.runs.update(model_id, run_id, driftAcknowledged=state["driftAcknowledged"])
        logger.info("drift acknowledged", extra={"modelId": model_id, "features": state["driftAcknowledged"]})
        return True
    if outcome == "deployed" and (deployment or {}).get("kind") != "recalibration":
        state = stores.models.get_state(model_id)
        if state.pop("driftAcknowledged", None) is not None:
            stores.models.put_state(model_id, state)
    return False


def baseline_refresh(pipeline: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the RefreshBaseline state did after a deployment: the new baseline, or why it was not rebuilt."""
    if isinstance(pipeline.get("baseline"), Mapping):
        done = pipeline["baseline"]
        return {"status": "REFRESHED", **{k: done[k] for k in ("baselineUri", "sampleSize", "source") if k in done}}
    if isinstance(pipeline.get("baselineError"), Mapping):
        return {"status": "FAILED", "reason": failure_reason(pipeline["baselineError"])}
    return None
