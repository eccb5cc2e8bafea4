"""The SageMaker Model Registry of a Driftline model: its model package group, its versions and their status.

One model package group per Driftline model (:func:`group_name`: ``driftline-<modelId>``); every champion and
challenger is a versioned model package in it whose ``CustomerMetadataProperties`` carry Driftline's lineage
(``driftline:*`` keys, see ``docs/registry.md``). The functions here are the reads and status changes the
deployer, the API and the retrain launcher share; the package request itself is built by the deployer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from driftline_common.errors import DeploymentFailed

#: SageMaker's bound on a model package group name (``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``)
MAX_GROUP_NAME = 63
#: the prefix of every key Driftline writes into ``CustomerMetadataProperties``
META = "driftline:"
#: SageMaker's bound on a ``CustomerMetadataProperties`` value
MAX_META_VALUE = 256
APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"
STATUSES = (APPROVED, REJECTED, PENDING)


def group_name(model_id: str) -> str:
    """``driftline-<modelId>``; a model id too long for the 63-character bound keeps 44 characters and a hash.

    Examples
    --------
    >>> group_name("example-classifier")
    'driftline-example-classifier'
    >>> len(group_name("m" * 63)) <= 63
    True
    """
    slug = re.sub(r"-{2,}", "-", model_id).strip("-") or "model"
    name = f"driftline-{slug}"
    if len(name) <= MAX_GROUP_NAME:
        return name
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:8]
    return f"driftline-{slug[:44].rstrip('-')}-{digest}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def _missing(exc: ClientError) -> bool:
    text = _message(exc).lower()
    return _code(exc) in ("ValidationException", "ResourceNotFound") and (
        "does not exist" in text or "not found" in text)


def ensure_group(sm: Any, model_id: str) -> str:
    """The model's package group, created on first use (a concurrent creation is fine); returns its name."""
    name = group_name(model_id)
    try:
        sm.describe_model_package_group(ModelPackageGroupName=name)
        return name
    except ClientError as exc:
        if not _missing(exc):
            raise
    try:
        sm.create_model_package_group(
            ModelPackageGroupName=name,
            ModelPackageGroupDescription=f"Driftline model {model_id}: every champion and challenger"[:1024],
            Tags=[{"Key": "driftline:modelId", "Value": model_id}])
    except ClientError as exc:
        if "already exist" not in _message(exc):
            raise DeploymentFailed(f"creating model package group {name!r} failed: {_code(exc)} {_message(exc)}",
                                   modelId=model_id) from exc
    return name


def metadata(properties: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``driftline:`` entries of ``CustomerMetadataProperties`` without their prefix."""
    return {k[len(META):]: str(v) for k, v in (properties or {}).items() if k.startswith(META)}


def meta_properties(values: Mapping[str, Any]) -> dict[str, str]:
    """``CustomerMetadataProperties`` from ``values`` (``None`` dropped, each value at most 256 characters: a
    longer one keeps its head and ``…#<sha256 prefix>`` so that it stays recognisable and distinct)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        text = str(value)
        if len(text) > MAX_META_VALUE:
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            text = f"{text[:MAX_META_VALUE - 14]}…#{digest}"
        out[f"{META}{key}"] = text
    return out


def version_of(described: Mapping[str, Any]) -> dict[str, Any]:
    """What Driftline shows of one package (``DescribeModelPackage``): version, status, lineage, metric documents."""
    meta = metadata(described.get("CustomerMetadataProperties"))
    containers = (described.get("InferenceSpecification") or {}).get("Containers") or [{}]
    metrics = described.get("ModelMetrics") or {}
    documents = {
        "comparison": ((metrics.get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri"),
        "drift": ((metrics.get("ModelDataQuality") or {}).get("Statistics") or {}).get("S3Uri"),
        "dataQualityBaseline": ((metrics.get("ModelDataQuality") or {}).get("Constraints") or {}).get("S3Uri"),
    }
    created = described.get("CreationTime")
    return {
        "version": described.get("ModelPackageVersion"),
        "modelPackageArn": described.get("ModelPackageArn"),
        "status": described.get("ModelApprovalStatus"),
        "approvalDescription": described.get("ApprovalDescription"),
        "createdAt": created.isoformat() if isinstance(created, datetime) else created,
        "role": meta.get("role"),
        "lineage": {
            "runId": meta.get("runId"), "trainingJobName": meta.get("trainingJob"),
            "trainDataUri": meta.get("trainDataUri"), "window": {"start": meta.get("windowStart"),
                                                                  "end": meta.get("windowEnd")},
            "codeUri": meta.get("codeUri"), "codeSha256": meta.get("codeSha256"),
            "imageUri": containers[0].get("Image"), "modelArtifacts": containers[0].get("ModelDataUrl"),
            "evaluationUri": meta.get("evaluationUri"), "comparisonUri": meta.get("comparisonUri"),
            "hyperparameters": meta.get("hyperparameters"), "tuningJobName": meta.get("tuningJob"),
            "tuningObjective": meta.get("tuningObjective"),
            # the run whose comparison promoted it (its registering run when the policy promoted it; else the run
            # that deployed it after an approval in the registry)
            "promotedBy": meta.get("runId") if meta.get("promote") == "True" else meta.get("deployedBy"),
            "deployedBy": meta.get("deployedBy"), "deployedAt": meta.get("deployedAt"),
            "endpointConfigName": meta.get("endpointConfigName"),
        },
        "documents": {k: v for k, v in documents.items() if v},
    }


def list_packages(sm: Any, model_id: str) -> list[dict[str, Any]]:
    """Every version of the model's group, newest first, described (``[]`` when the group does not exist)."""
    name = group_name(model_id)
    arns: list[str] = []
    kwargs: dict[str, Any] = {"ModelPackageGroupName": name, "SortBy": "CreationTime", "SortOrder": "Descending"}
    try:
        while True:
            page = sm.list_model_packages(**kwargs)
            arns.extend(p["ModelPackageArn"] for p in page.get("ModelPackageSummaryList", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except ClientError as exc:
        if _missing(exc):
            return []
        raise
    described = [dict(sm.describe_model_package(ModelPackageName=arn)) for arn in arns]
    described.sort(key=lambda d: int(d.get("ModelPackageVersion") or 0), reverse=True)
    return described


def find_run_package(packages: list[dict[str, Any]], run_id: str, role: str) -> dict[str, Any] | None:
    """The package a run already registered in ``role`` (``challenger`` / ``champion``): a retried step's."""
    for package in packages:
        meta = metadata(package.get("CustomerMetadataProperties"))
        if meta.get("runId") == run_id and meta.get("role") == role:
            return package
    return None


def last_approved(packages: list[dict[str, Any]], *, excluding: str | None = None) -> dict[str, Any] | None:
    """The newest ``Approved`` version other than ``excluding`` (an ARN), or ``None``."""
    for package in packages:
        if package.get("ModelApprovalStatus") == APPROVED and package.get("ModelPackageArn") != excluding:
            return package
    return None


def update(sm: Any, arn: str, *, status: str | None = None, description: str | None = None,
           meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``UpdateModelPackage``: the approval status (and why) and ``driftline:`` metadata entries; returns the
    package as described before the update.

    The request carries every metadata entry the package has (merged with ``meta``): SageMaker merges the entries
    it is given, so this is exactly its merge, and a store that replaces them (moto) keeps them too.
    """
    described = dict(sm.describe_model_package(ModelPackageName=arn))
    request: dict[str, Any] = {"ModelPackageArn": arn}
    if status or described.get("ModelApprovalStatus"):  # restated: a store that resets it (moto) keeps it too
        request["ModelApprovalStatus"] = status or described["ModelApprovalStatus"]
    if description:
        request["ApprovalDescription"] = description[:1024]
    properties = dict(described.get("CustomerMetadataProperties") or {})
    if meta:
        properties.update(meta_properties(meta))
    if properties:
        request["CustomerMetadataProperties"] = properties
    sm.update_model_package(**request)
    return described


def set_status(sm: Any, arn: str, status: str, description: str | None = None) -> None:
    """``UpdateModelPackage``: the approval status (and why); the metadata kept."""
    update(sm, arn, status=status, description=description)
