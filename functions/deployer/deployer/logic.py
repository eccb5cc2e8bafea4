"""The deployer's actions (see ``docs/contracts.md``): ``deploy`` starts a blue/green endpoint update,
``status`` follows it to ``InService`` / ``RolledBack`` / ``Failed``.

Every call is idempotent under the state machine's retries: existing models and endpoint configs of the
same (deterministic) name are reused, and an endpoint already on the new config is not updated again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from driftline_common.aws import client
from driftline_common.errors import DeploymentFailed, InvalidEvent
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, retrain_lock_id

from deployer import requests as req

IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"}


def _mapping(event: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = event.get(key)
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"'{key}' must be a JSON object, got {type(value).__name__}", field=key)
    return dict(value)


def _string(event: Mapping[str, Any], key: str, where: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{where}.{key}' must be a non-empty string, got {value!r}", field=f"{where}.{key}")
    return value


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def _describe_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(sm.describe_endpoint(EndpointName=name))
    except ClientError as exc:
        if _code(exc) == "ValidationException" and "Could not find" in _message(exc):
            return None
        raise


def _create_once(call: Any, request: dict[str, Any], what: str) -> None:
    try:
        call(**request)
    except ClientError as exc:
        if _code(exc) == "ValidationException" and "already exist" in _message(exc):
            logger.info(f"{what} already exists (retried deploy)", extra={"request": request})
            return
        raise DeploymentFailed(f"creating the {what} failed: {_code(exc)} {_message(exc)}") from exc


def deploy(event: Mapping[str, Any], settings: Settings, models: ModelStore) -> dict[str, Any]:
    run = _mapping(event, "run")
    training = _mapping(event, "training")
    model_id, run_id = _string(run, "modelId", "run"), _string(run, "runId", "run")
    artifacts = _string(training, "modelArtifacts", "training")
    cfg = models.get_config(model_id)
    role = cfg.deployment.execution_role_arn or cfg.training.role_arn or settings.sagemaker_role_arn
    if not role:
        raise InvalidEvent(f"no execution role for {model_id!r}: set deployment.executionRoleArn or SAGEMAKER_ROLE_ARN")
    sm = client("sagemaker")
    name = req.resource_name(model_id, run_id)
    version = int((models.get_state(model_id).get("champion") or {}).get("version") or 0) + 1

    _create_once(sm.create_model,
                 req.create_model_request(cfg, name=name, model_data_url=artifacts, role_arn=role, run_id=run_id),
                 "model")
    current = _describe_endpoint(sm, cfg.endpoint_name)
    previous = current.get("EndpointConfigName") if current else None
    capture = None
    if previous and previous != name:
        capture = sm.describe_endpoint_config(EndpointConfigName=previous).get("DataCaptureConfig")
    elif not previous:
        capture = req.default_capture_config(cfg)
    _create_once(sm.create_endpoint_config,
                 req.create_endpoint_config_request(cfg, name=name, model_name=name, data_capture=capture),
                 "endpoint config")
    try:
        if current is None:
            sm.create_endpoint(EndpointName=cfg.endpoint_name, EndpointConfigName=name,
                               Tags=[{"Key": "driftline:modelId", "Value": model_id}])
        elif previous != name:
            sm.update_endpoint(**req.update_endpoint_request(cfg, endpoint_config_name=name))
    except ClientError as exc:
        raise DeploymentFailed(
            f"updating endpoint {cfg.endpoint_name!r} failed: {_code(exc)} {_message(exc)}",
            endpointName=cfg.endpoint_name,
        ) from exc
    logger.info("deployment started", extra={"endpoint": cfg.endpoint_name, "config": name, "previous": previous})
    return {
        "status": "Updating", "endpointName": cfg.endpoint_name, "modelName": name, "endpointConfigName": name,
        "previousEndpointConfigName": previous if previous != name else None, "version": version,
        "strategy": cfg.deployment.strategy, "reason": None,
    }


def status(
    event: Mapping[str, Any], settings: Settings, models: ModelStore, runs: RunStore, locks: LockStore | None = None
) -> dict[str, Any]:
    """Where the blue/green update stands. Once it has ended (deployed or rolled back) the run's retrain lock is
    released here, as soon as the endpoint is settled; the pipeline's Complete step releases it again
    idempotently, and its failure path releases it when the deployment failed."""
    run = _mapping(event, "run")
    deployment = _mapping(event, "deployment")
    model_id, run_id = _string(run, "modelId", "run"), _string(run, "runId", "run")
    endpoint = _string(deployment, "endpointName", "deployment")
    new_config = _string(deployment, "endpointConfigName", "deployment")
    described = _describe_endpoint(client("sagemaker"), endpoint)
    if described is None:
        return {**deployment, "status": "Failed", "reason": f"endpoint {endpoint!r} no longer exists"}
    state = described.get("EndpointStatus", "")
    current_config = described.get("EndpointConfigName")
    failure = described.get("FailureReason")
    detail = {"modelId": model_id, "runId": run_id, "endpointName": endpoint, "modelName": deployment.get("modelName"),
              "endpointConfigName": new_config,
              "previousEndpointConfigName": deployment.get("previousEndpointConfigName"),
              "version": deployment.get("version")}
    if state in IN_PROGRESS:
        return {**deployment, "status": "Updating", "reason": None}
    if state == "InService" and current_config == new_config and not failure:
        models.record_champion(model_id, {
            "modelName": deployment.get("modelName"), "endpointConfigName": new_config,
            "version": deployment.get("version"), "runId": run_id,
        })
        runs.update(model_id, run_id, deployment={**deployment, "status": "InService"})
        publish(settings, "Model Deployed", detail)
        released = locks.release(retrain_lock_id(model_id), run_id) if locks else False
        return {**deployment, "status": "InService", "reason": None, "lockReleased": released}
    if state == "InService":
        reason = failure or f"the endpoint kept endpoint config {current_config!r} (automatic rollback)"
        publish(settings, "Deployment Rolled Back",
                {**detail, "reason": reason, "currentEndpointConfigName": current_config})
        released = locks.release(retrain_lock_id(model_id), run_id) if locks else False
        return {**deployment, "status": "RolledBack", "reason": reason, "lockReleased": released}
    return {**deployment, "status": "Failed", "reason": failure or f"endpoint status {state!r}"}
