"""Lambda entry point of the deployer: parse the event, dispatch on ``action``, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.contracts import parse_event
from driftline_common.contracts.deployer import EVENTS
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.runs import parse_action
from driftline_common.settings import get_settings
from driftline_common.store import LockStore, ModelStore, RunStore

from deployer import approved, logic, recalibration, registry, rollback

ACTIONS = ("deploy", "status", "reconcile", "recalibrate", "rollback", "register", "prepare_approved")
#: the metric counting each terminal deployment status (``Updating`` is still polling: no metric)
STATUS_METRICS = {"InService": "Deployments", "RolledBack": "DeploymentRollbacks", "Failed": "DeploymentFailures"}


def record_metrics(event: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    """``status``: count the deployment's terminal outcome per model."""
    name = STATUS_METRICS.get(str(result.get("status")))
    if name is None:
        return
    metrics.add_dimension(name="modelId", value=str(event["run"]["modelId"]))  # validated by logic.status
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_action(event, ACTIONS)
    ev: Any = parse_event(event, EVENTS[action])  # the action's contract: InvalidEvent naming the field
    settings = get_settings()
    run = event.get("run") if "run" in event else (event.get("state") or {}).get("run")
    if isinstance(run, Mapping):
        logger.append_keys(modelId=run.get("modelId"), runId=run.get("runId"))
    logger.append_keys(action=action)
    if action == "deploy":
        return logic.deploy(ev, settings, ModelStore(settings), RunStore(settings))
    if action == "register":  # the challenger (and once the champion) in the Model Registry (docs/registry.md)
        return registry.register(ev, settings, ModelStore(settings), RunStore(settings))
    if action == "prepare_approved":  # a version approved in the registry with no run waiting: deploy it
        return approved.prepare_approved(ev, ModelStore(settings), LockStore(settings))
    if action == "reconcile":
        return logic.reconcile(ev, settings, ModelStore(settings), RunStore(settings), LockStore(settings))
    if action == "rollback":  # an operational breach right after a deployment (docs/model-monitor.md)
        return rollback.rollback(event, settings, ModelStore(settings), RunStore(settings))
    if action == "recalibrate":
        return recalibration.recalibrate(ev, settings, ModelStore(settings), RunStore(settings), LockStore(settings))
    result = logic.status(ev, settings, ModelStore(settings), RunStore(settings), LockStore(settings))
    record_metrics(event, result)
    return result
