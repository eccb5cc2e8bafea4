"""The retrain launcher's ``fail`` action: record a failed run with its reason and release its lock."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from driftline_common.edge import failure_recordable
from driftline_common.errors import RunNotFound
from driftline_common.observability import logger
from driftline_common.store import iso, utcnow

from retrain_launcher.common import (
    DEPLOYED_BOOKKEEPING_FAILED,
    MAX_REASON_CHARS,
    Stores,
    lock_id,
)


def _model_id_of(state: Mapping[str, Any]) -> str | None:
    for candidate in (
        (state.get("run") or {}).get("modelId") if isinstance(state.get("run"), Mapping) else None,
        state.get("modelId"),
        (state.get("detail") or {}).get("modelId") if isinstance(state.get("detail"), Mapping) else None,
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def failure_reason(error: Mapping[str, Any]) -> str:
    """``"<Error>: <message>"`` from a Step Functions error; a Lambda error's JSON ``Cause`` is unwrapped."""
    name = str(error.get("Error") or "UnknownError")
    cause = error.get("Cause")
    message = cause if isinstance(cause, str) else ""
    if message.startswith("{"):
        try:
            parsed = json.loads(message)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, Mapping) and parsed.get("errorMessage"):
            message = str(parsed["errorMessage"])
        elif isinstance(parsed, Mapping) and parsed.get("FailureReason"):
            # a failed .sync service task (SageMaker training job): its Cause is the Describe* output
            job = parsed.get("TrainingJobName") or parsed.get("TransformJobName")
            message = (f"job {job}: " if job else "") + str(parsed["FailureReason"])
    return (f"{name}: {message}" if message else name)[:MAX_REASON_CHARS]


def fail(event: Mapping[str, Any], stores: Stores, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    raw_state = event.get("state")
    state: Mapping[str, Any] = raw_state if isinstance(raw_state, Mapping) else {}
    raw_run = state.get("run")
    run: Mapping[str, Any] = raw_run if isinstance(raw_run, Mapping) else {}
    run_id = event.get("runId") or run.get("runId")
    raw_error = event.get("error") if isinstance(event.get("error"), Mapping) else state.get("error")
    error: Mapping[str, Any] = raw_error if isinstance(raw_error, Mapping) else {}
    reason = failure_reason(error)
    model_id = _model_id_of(state)
    released = False
    # ReconcileDeployment (a step at or after the endpoint switch failed) says whether the endpoint serves this
    # run's model: then the run is recorded as deployed with its bookkeeping failed, not as a plain failure
    raw_reconciliation = state.get("reconciliation")
    reconciliation: Mapping[str, Any] = raw_reconciliation if isinstance(raw_reconciliation, Mapping) else {}
    deployed = reconciliation.get("deployed")
    if model_id and isinstance(run_id, str) and run_id and failure_recordable(model_id, error, stores.runs, run_id):
        try:
            stores.runs.get(model_id, run_id)
        except RunNotFound:
            stores.runs.start(model_id, run_id, startedAt=iso(now),
                              **({"window": run["window"]} if run.get("window") else {}))
        fields: dict[str, Any] = {"status": "FAILED"}
        if deployed is True:
            fields = {"status": DEPLOYED_BOOKKEEPING_FAILED, "outcome": "deployed",
                      "deployment": reconciliation.get("deployment")}
        elif deployed is None and reconciliation.get("status") == "Updating":
            fields["deployment"] = {**(state.get("deployment") or {}), "status": "Updating"}
        stores.runs.update(model_id, run_id, **fields, reason=reason, finishedAt=iso(now),
                           error={"Error": error.get("Error"), "Cause": str(error.get("Cause"))[:4000]})
        if not (deployed is None and reconciliation.get("status") == "Updating"):
            # an endpoint update still in progress keeps the lock (its TTL bounds it): no second deployment
            released = stores.locks.release(lock_id(model_id), run_id)
    logger.warning("run failed", extra={"modelId": model_id, "runId": run_id, "reason": reason,
                                        "deployed": deployed})
    return {"modelId": model_id, "runId": run_id, "reason": reason, "lockReleased": released,
            "errorName": terminal_error_name(error), "deployed": deployed is True}


def terminal_error_name(error: Mapping[str, Any]) -> str:
    """The error name the execution fails with: the domain error raised by a function as is; a reserved
    ``States.*`` error of a service task mapped to a domain name (the ASL spec reserves the ``States.`` prefix,
    so a Fail state may not re-raise it).
    """
    name = str(error.get("Error") or "RunFailed")
    if not name.startswith("States."):
        return name
    cause = error.get("Cause")
    if isinstance(cause, str) and '"TrainingJobName"' in cause:
        return "TrainingFailed"
    return {"States.Timeout": "RunTimedOut", "States.HeartbeatTimeout": "RunTimedOut"}.get(name, "RunFailed")
