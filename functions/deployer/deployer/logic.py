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
from driftline_common.contracts.deployer import Deploy, Reconcile, Status
from driftline_common.errors import DeploymentFailed, InvalidEvent
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, retrain_lock_id

from deployer import registry_ops
from deployer import requests as req

IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"}


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


#: the keys of the comparison recorded on the run before the endpoint is switched
DECISION_KEYS = ("promote", "metric", "champion", "challenger", "delta", "minImprovement", "sampleSize",
                 "pairedTest", "reasons", "resultUri")


def record_before_switch(models: ModelStore, runs: RunStore | None, event: Deploy,
                         deployment: dict[str, Any], *, model_id: str, run_id: str) -> None:
    """Deploy last, record first: the decision (the comparison) and the champion-to-be are written before the
    endpoint is switched, so a run that fails later still says what it was deploying. A value the stores cannot
    hold fails here, with the endpoint untouched."""
    comparison = event.comparison
    if runs is not None:
        fields: dict[str, Any] = {"deployment": {**deployment, "status": "Switching"}}
        if isinstance(comparison, Mapping):
            fields["comparison"] = {k: comparison[k] for k in DECISION_KEYS if k in comparison}
        runs.update(model_id, run_id, **fields)
    models.record_pending_champion(model_id, {
        "modelName": deployment["modelName"], "endpointConfigName": deployment["endpointConfigName"],
        "version": deployment["version"], "runId": run_id,
        **({"modelPackageArn": deployment["modelPackageArn"]} if deployment.get("modelPackageArn") else {}),
    })


def deploy(event: Deploy, settings: Settings, models: ModelStore, runs: RunStore | None = None) -> dict[str, Any]:
    model_id, run_id = event.run.model_id, event.run.run_id
    artifacts = event.training.model_artifacts
    cfg = models.get_config(model_id)
    role = cfg.deployment.execution_role_arn or cfg.training.role_arn or settings.sagemaker_role_arn
    if not role:
        raise InvalidEvent(f"no execution role for {model_id!r}: set deployment.executionRoleArn or SAGEMAKER_ROLE_ARN")
    sm = client("sagemaker")
    name = req.resource_name(model_id, run_id)
    version = int((models.get_state(model_id).get("champion") or {}).get("version") or 0) + 1

    package_arn = event.registration.model_package_arn if event.registration else None
    model_request = (
        req.create_model_from_package_request(cfg, name=name, model_package_arn=package_arn, role_arn=role,
                                              run_id=run_id) if package_arn
        else req.create_model_request(cfg, name=name, model_data_url=artifacts, role_arn=role, run_id=run_id))
    _create_once(sm.create_model, model_request, "model")
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
    result = {
        "status": "Updating", "endpointName": cfg.endpoint_name, "modelName": name, "endpointConfigName": name,
        "previousEndpointConfigName": previous if previous != name else None, "version": version,
        "strategy": cfg.deployment.strategy, "reason": None,
        **({"modelPackageArn": package_arn} if package_arn else {}),
    }
    record_before_switch(models, runs, event, result, model_id=model_id, run_id=run_id)
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
    return result


def status(
    event: Status, settings: Settings, models: ModelStore, runs: RunStore, locks: LockStore | None = None
) -> dict[str, Any]:
    """Where the blue/green update stands. Once it has ended (deployed or rolled back) the run's retrain lock is
    released here, as soon as the endpoint is settled; the pipeline's Complete step releases it again
    idempotently, and its failure path releases it when the deployment failed."""
    model_id, run_id = event.run.model_id, event.run.run_id
    deployment = event.deployment.model_dump(by_alias=True)  # with the keys deploy returned beyond the contract's
    endpoint, new_config = event.deployment.endpoint_name, event.deployment.endpoint_config_name
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
            **({"modelPackageArn": deployment["modelPackageArn"]} if deployment.get("modelPackageArn") else {}),
        })
        registry_ops.deployed(deployment.get("modelPackageArn"), run_id=run_id, endpoint_config_name=new_config)
        runs.update(model_id, run_id, deployment={**deployment, "status": "InService"})
        publish(settings, "Model Deployed", detail)
        released = locks.release(retrain_lock_id(model_id), run_id) if locks else False
        return {**deployment, "status": "InService", "reason": None, "lockReleased": released}
    if state == "InService":
        reason = failure or f"the endpoint kept endpoint config {current_config!r} (automatic rollback)"
        publish(settings, "Deployment Rolled Back",
                {**detail, "reason": reason, "currentEndpointConfigName": current_config})
        models.clear_pending_champion(model_id, run_id)
        registry_ops.rolled_back(deployment.get("modelPackageArn"), reason=reason)
        released = locks.release(retrain_lock_id(model_id), run_id) if locks else False
        return {**deployment, "status": "RolledBack", "reason": reason, "lockReleased": released}
    return {**deployment, "status": "Failed", "reason": failure or f"endpoint status {state!r}"}


def reconcile(event: Reconcile, settings: Settings, models: ModelStore, runs: RunStore, locks: LockStore
              ) -> dict[str, Any]:
    """The failure path of a promoting run: what is the endpoint serving, and make the records say so.

    Called with the whole pipeline state when a step at or after the switch failed (Deploy, CheckDeployment,
    Complete). When the endpoint is in service on this run's endpoint config the deployment happened: the champion
    record, the run's ``deployment`` and the retrain lock are brought in line with it (each idempotent), and
    ``{"deployed": true}`` tells the failure record to say "deployed, bookkeeping failed" rather than roll back a
    model that won its comparison and passed the deployment guardrails. An update still in progress keeps the lock
    (its TTL bounds it); anything else is ``{"deployed": false}``.
    """
    state = event.state
    model_id, run_id = state.run.model_id, state.run.run_id
    comparison = state.comparison
    if not (isinstance(comparison, Mapping) and comparison.get("promote") is True):
        return {"deployed": False, "status": "NotDeploying"}
    cfg = models.get_config(model_id)
    name = req.resource_name(model_id, run_id)
    described = _describe_endpoint(client("sagemaker"), cfg.endpoint_name) or {}
    serving = described.get("EndpointConfigName")
    endpoint_status = described.get("EndpointStatus")
    if endpoint_status in IN_PROGRESS:
        return {"deployed": None, "status": "Updating", "endpointName": cfg.endpoint_name,
                "servingEndpointConfigName": serving}
    if serving != name or endpoint_status != "InService":
        models.clear_pending_champion(model_id, run_id)
        return {"deployed": False, "status": "NotServing", "endpointName": cfg.endpoint_name,
                "servingEndpointConfigName": serving}
    raw_known = state.deployment
    known: Mapping[str, Any] = raw_known if isinstance(raw_known, Mapping) else {}
    pending = models.get_state(model_id).get("pendingChampion") or {}
    version = known.get("version") or (pending.get("version") if pending.get("runId") == run_id else None)
    deployment = {**known, "endpointName": cfg.endpoint_name, "modelName": name, "endpointConfigName": name,
                  "version": version, "status": "InService", "reason": None}
    models.record_champion(model_id, {"modelName": name, "endpointConfigName": name, "version": version,
                                      "runId": run_id})
    runs.update(model_id, run_id, deployment=deployment)
    released = locks.release(retrain_lock_id(model_id), run_id)
    logger.warning("the endpoint serves this run's model: records reconciled",
                   extra={"endpoint": cfg.endpoint_name, "config": name})
    return {"deployed": True, "status": "InService", "deployment": deployment, "lockReleased": released}
