"""The retrain launcher's ``package_state_change`` action: a ``SageMaker Model Package State Change`` event of one
of Driftline's Model Registry groups (docs/registry.md), delivered by the ``ModelPackageStateChanged`` rule.

- The version's run waits for an approval (``WaitForApproval``): the version's status answers it, exactly as
  ``POST /models/{id}/runs/{runId}/approval`` does (:func:`driftline_common.approvals.answer`, task token).
- ``Approved`` with no run waiting, never deployed, its own run over and not the champion: a ``Run Requested``
  event with trigger ``approval`` (id ``approval:<package ARN>:<event id>``: a redelivered event claims the same
  trigger and starts no second run; a second, concurrent approval of the same version finds the model's lock held
  by the first run, and once that run has deployed it, finds the version deployed) starts the run that deploys it.
- Anything else (pending, rejected with nothing waiting, a version already deployed or being deployed, a package
  of no Driftline model) is acknowledged and ignored, with the reason.

The package is described again rather than trusted from the event: events may arrive late or out of order, and
the version's current status and metadata decide.
"""

from __future__ import annotations

from typing import Any

from driftline_common import approvals
from driftline_common import model_registry as mr
from driftline_common.aws import client
from driftline_common.contracts.retrain_launcher import PackageStateChange
from driftline_common.errors import ModelNotFound, RunNotFound
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import iso, utcnow

from retrain_launcher.common import Stores


def _ignored(arn: str, reason: str, **extra: Any) -> dict[str, Any]:
    logger.info("model package state change ignored", extra={"modelPackageArn": arn, "reason": reason, **extra})
    return {"modelPackageArn": arn, "outcome": "ignored", "reason": reason, **extra}


def _approver(described: dict[str, Any]) -> str:
    by = described.get("LastModifiedBy") or {}
    return str(by.get("UserProfileName") or by.get("IamIdentity", {}).get("Arn") or "SageMaker Model Registry")


def package_state_change(event: PackageStateChange, stores: Stores, settings: Settings) -> dict[str, Any]:
    arn = event.event.detail.model_package_arn
    described = dict(client("sagemaker").describe_model_package(ModelPackageName=arn))
    meta = mr.metadata(described.get("CustomerMetadataProperties"))
    status = described.get("ModelApprovalStatus")
    model_id, run_id = meta.get("modelId"), meta.get("runId")
    if not model_id:
        return _ignored(arn, "not a Driftline version")
    if status not in (mr.APPROVED, mr.REJECTED):
        return _ignored(arn, f"status {status}", modelId=model_id)
    run: dict[str, Any] | None = None
    if run_id:
        try:
            run = stores.runs.get(model_id, run_id)
        except RunNotFound:
            run = None
    waiting = run is not None and (run.get("approval") or {}).get("status") == "PENDING" and (
        (run.get("approval") or {}).get("modelPackageArn") == arn)
    if waiting:
        try:
            answered = approvals.answer(stores.runs, model_id, str(run_id), approved=status == mr.APPROVED,
                                        by=_approver(described), comment=described.get("ApprovalDescription"),
                                        source="registry")
        except approvals.ApprovalNotPending as exc:
            return _ignored(arn, exc.message, modelId=model_id, runId=run_id)
        logger.info("approval answered from the registry", extra={"modelId": model_id, "runId": run_id,
                                                                   "status": answered["status"]})
        return {"modelPackageArn": arn, "outcome": "answered", "modelId": model_id, "runId": run_id,
                "approval": answered["status"]}
    if status != mr.APPROVED:
        return _ignored(arn, "rejected with no run waiting", modelId=model_id)
    if meta.get("deployedBy"):
        return _ignored(arn, f"already deployed by run {meta['deployedBy']}", modelId=model_id)
    if run is not None and run.get("status") == "RUNNING":
        return _ignored(arn, f"run {run_id} that registered it is still running", modelId=model_id)
    champion = stores.models.get_state(model_id).get("champion") or {}
    if champion.get("modelPackageArn") == arn or (
            meta.get("role") == "champion" and meta.get("modelName") == champion.get("modelName")):
        return _ignored(arn, "already the champion", modelId=model_id)  # also: the champion being registered
    try:
        stores.models.get_config_item(model_id)
    except ModelNotFound:
        return _ignored(arn, "the model is no longer registered", modelId=model_id)
    trigger = {"type": "approval", "id": f"approval:{arn}:{event.event.id}", "time": iso(utcnow())}
    event_id = publish(settings, "Run Requested", {"modelId": model_id, "trigger": trigger, "modelPackageArn": arn})
    logger.info("approved version: run requested", extra={"modelId": model_id, "modelPackageArn": arn})
    return {"modelPackageArn": arn, "outcome": "run_requested", "modelId": model_id, "trigger": trigger,
            "eventId": event_id}
