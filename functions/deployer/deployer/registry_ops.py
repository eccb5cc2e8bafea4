"""What a deployment's outcome writes back to the Model Registry (docs/registry.md).

In service: the version is ``Approved`` (it may have been approved outside Driftline) and its metadata names the
run that deployed it and the endpoint config serving it. Rolled back (by the blue/green guardrails or by an
operational breach): the version is ``Rejected`` with the reason, so that "the last ``Approved`` version" stays
the last version that served well. No package (a deployment from before the registry): nothing to write.
"""

from __future__ import annotations

from typing import Any

from driftline_common import model_registry as mr
from driftline_common.aws import client
from driftline_common.store import iso, utcnow


def deployed(arn: str | None, *, run_id: str, endpoint_config_name: str | None) -> None:
    if not arn:
        return
    sm = client("sagemaker")
    described = sm.describe_model_package(ModelPackageName=arn)
    meta = mr.metadata(described.get("CustomerMetadataProperties"))
    approved = described.get("ModelApprovalStatus") == mr.APPROVED
    if meta.get("deployedBy") == run_id and approved:
        return  # a retried status check
    mr.update(sm, arn, status=None if approved else mr.APPROVED,
              meta={"deployedBy": run_id, "deployedAt": iso(utcnow()), "endpointConfigName": endpoint_config_name})


def rolled_back(arn: str | None, *, reason: str | None) -> None:
    if not arn:
        return
    sm = client("sagemaker")
    if sm.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus") == mr.REJECTED:
        return
    mr.set_status(sm, arn, mr.REJECTED, f"rolled back: {reason or 'unknown reason'}")


def rollback_target(model_id: str, current_arn: str | None) -> dict[str, Any] | None:
    """The last ``Approved`` version before ``current_arn`` that served (the registered initial champion, or a
    version a run deployed) and names its endpoint config, as a
    rollback target (``endpointConfigName``, ``modelName``, ``modelPackageArn``, ``version``); ``None`` if none."""
    packages = mr.list_packages(client("sagemaker"), model_id)
    current_version = next((int(p.get("ModelPackageVersion") or 0) for p in packages
                            if p.get("ModelPackageArn") == current_arn), None)
    for package in packages:
        if package.get("ModelApprovalStatus") != mr.APPROVED or package.get("ModelPackageArn") == current_arn:
            continue
        if current_version is not None and int(package.get("ModelPackageVersion") or 0) > current_version:
            continue
        meta = mr.metadata(package.get("CustomerMetadataProperties"))
        served = meta.get("role") == "champion" or meta.get("deployedBy")
        if served and meta.get("endpointConfigName"):
            return {"endpointConfigName": meta["endpointConfigName"],
                    "modelName": meta.get("modelName") or meta["endpointConfigName"],
                    "modelPackageArn": package["ModelPackageArn"], "version": package.get("ModelPackageVersion")}
    return None
