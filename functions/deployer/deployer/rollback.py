"""The deployer's ``rollback`` action: an operational breach shortly after a deployment puts the previous champion
back (docs/model-monitor.md).

``{run, decision: {rollback: {endpointConfigName, modelName, version, from, reason}}}`` → ``UpdateEndpoint`` to
the previous champion's endpoint config (with the config's deployment guardrails; with the Model Registry, the
last ``Approved`` version that served, and the rolled-back version becomes ``Rejected``), the previous champion recorded
as the champion, ``rollback`` on the run, and a ``Deployment Rolled Back`` event. Idempotent: an endpoint already
on (or switching to) that config is not updated again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline_common.aws import client
from driftline_common.errors import InvalidEvent
from driftline_common.events import publish
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore

from deployer import registry_ops
from deployer import requests as req


def rollback(event: Mapping[str, Any], settings: Settings, models: ModelStore, runs: RunStore) -> dict[str, Any]:
    run = event.get("run")
    decision = event.get("decision")
    target = decision.get("rollback") if isinstance(decision, Mapping) else None
    if not isinstance(run, Mapping) or not isinstance(run.get("modelId"), str) or not isinstance(run.get("runId"), str):
        raise InvalidEvent("'run' must be an object with 'modelId' and 'runId'", field="run")
    if not isinstance(target, Mapping) or not isinstance(target.get("endpointConfigName"), str):
        raise InvalidEvent("'decision.rollback.endpointConfigName' is required", field="decision.rollback")
    model_id, run_id = run["modelId"], run["runId"]
    cfg = models.get_config(model_id)
    champion = models.get_state(model_id).get("champion") or {}
    current_arn = champion.get("modelPackageArn")
    if champion.get("runId") == run_id and champion.get("endpointConfigName"):  # a retry: this run's target stands
        target = {**target, **{k: champion[k] for k in ("endpointConfigName", "modelName", "version",
                                                        "modelPackageArn") if champion.get(k) is not None}}
        current_arn = None
    elif current_arn:  # the registry knows the versions: the last Approved one that served goes back
        target = {**target, **(registry_ops.rollback_target(model_id, current_arn) or {})}
    config_name = target["endpointConfigName"]
    sm = client("sagemaker")
    current = sm.describe_endpoint(EndpointName=cfg.endpoint_name)
    updated = current.get("EndpointConfigName") != config_name
    if updated:
        sm.update_endpoint(**req.update_endpoint_request(cfg, endpoint_config_name=config_name))
    models.record_champion(model_id, {"modelName": target.get("modelName"), "endpointConfigName": config_name,
                                      "version": target.get("version"), "runId": run_id,
                                      **({"modelPackageArn": target["modelPackageArn"]}
                                         if target.get("modelPackageArn") else {})})
    registry_ops.rolled_back(current_arn, reason=target.get("reason"))
    result = {"status": "RollingBack" if updated else "RolledBack", "endpointName": cfg.endpoint_name,
              "endpointConfigName": config_name, "from": target.get("from"), "reason": target.get("reason"),
              "modelName": target.get("modelName"), "version": target.get("version")}
    runs.update(model_id, run_id, rollback=result)
    publish(settings, "Deployment Rolled Back", {
        "modelId": model_id, "runId": run_id, "endpointName": cfg.endpoint_name, "endpointConfigName": config_name,
        "previousEndpointConfigName": target.get("from"), "reason": target.get("reason"),
        "currentEndpointConfigName": config_name})
    return result
