"""The deployer's ``prepare_approved`` action: a Model Registry version approved with no run waiting for it
(SageMaker Studio, ``aws sagemaker update-model-package``) becomes a run with trigger ``approval`` that deploys it
(docs/registry.md).

It checks that the version is a Driftline version of this model and still ``Approved``, takes the model's retrain
lock (one deployment in flight per model: ``RetrainInProgress`` otherwise) and returns the pipeline state the
``Deploy`` step and the steps after it read: the version as ``registration``, its model artifacts as ``training``,
a promoting ``comparison`` (the version's own comparison document, if it has one) and a ``decision`` whose
``training`` names the version's training data (the baseline is refreshed from it after the deployment).
"""

from __future__ import annotations

from typing import Any

from driftline_common import model_registry as mr
from driftline_common.aws import client
from driftline_common.contracts.deployer import PrepareApproved
from driftline_common.errors import DeploymentFailed
from driftline_common.store import LockStore, ModelStore, retrain_lock_id

REASON = "APPROVED_IN_REGISTRY"


def prepare_approved(event: PrepareApproved, models: ModelStore, locks: LockStore) -> dict[str, Any]:
    run = event.run
    model_id, run_id, arn = run.model_id, run.run_id, run.model_package_arn
    described = client("sagemaker").describe_model_package(ModelPackageName=arn)
    meta = mr.metadata(described.get("CustomerMetadataProperties"))
    if meta.get("modelId") != model_id:
        raise DeploymentFailed(f"model package {arn!r} is not a version of Driftline model {model_id!r}",
                               modelId=model_id, modelPackageArn=arn)
    if described.get("ModelApprovalStatus") != mr.APPROVED:
        raise DeploymentFailed(f"model package {arn!r} is {described.get('ModelApprovalStatus')}, no longer "
                               "Approved: nothing deployed", modelId=model_id, modelPackageArn=arn)
    container = ((described.get("InferenceSpecification") or {}).get("Containers") or [{}])[0]
    artifacts = container.get("ModelDataUrl")
    if not artifacts:
        raise DeploymentFailed(f"model package {arn!r} names no ModelDataUrl", modelId=model_id, modelPackageArn=arn)
    cfg = models.get_config(model_id)
    locks.acquire(retrain_lock_id(model_id), run_id, ttl_seconds=cfg.retrain_policy.lock_ttl_minutes * 60)
    version = described.get("ModelPackageVersion")
    decision: dict[str, Any] = {"retrain": True, "reasons": [REASON]}
    if meta.get("trainDataUri"):
        decision["training"] = {"InputDataConfig": [{"ChannelName": "train", "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": meta["trainDataUri"]}}}]}
    return {
        "run": run.model_dump(by_alias=True),
        "assessment": {"evaluation": {}, "drift": {}},
        "decision": decision,
        "training": {"jobName": meta.get("trainingJob") or f"model-package-{version}", "status": "Completed",
                     "modelArtifacts": artifacts},
        "comparison": {"promote": True, "requireApproval": False, "remedy": "retrain", "reasons": [REASON],
                       "metric": meta.get("metric"), "resultUri": meta.get("comparisonUri"),
                       "approvedBy": described.get("ApprovalDescription")},
        "registration": {"modelPackageGroupName": described.get("ModelPackageGroupName"), "modelPackageArn": arn,
                         "version": version, "status": mr.APPROVED},
    }
