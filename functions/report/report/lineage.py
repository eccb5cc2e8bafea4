"""Lineage in the run report: where the model version in service (and the version this run registered) came from.

Read, never written here: the model's state names the serving version's model package (``champion.modelPackageArn``,
recorded by the deployer); ``DescribeModelPackage`` returns the lineage the deployer's ``register`` action wrote
into its ``CustomerMetadataProperties`` and ``ModelMetrics``, shaped by :func:`driftline_common.model_registry.
version_of` exactly as ``GET /models/{id}/versions`` shows it: training job, training data (S3 URI) and data
window, code tarball and its SHA-256, image URI, artifacts, the run that promoted it and the comparison that
justified it. Whatever cannot be read is named in the report's "Not shown, and why", never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from driftline_common import model_registry
from driftline_common.aws import client
from driftline_common.observability import logger
from driftline_common.store import ModelStore


def _describe(arn: str, what: str, missing: list[str]) -> dict[str, Any] | None:
    try:
        described = client("sagemaker").describe_model_package(ModelPackageName=arn)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code", "error") if isinstance(exc, ClientError) else type(
            exc).__name__
        logger.warning("model package not readable for the report", extra={"arn": arn, "error": str(code)})
        missing.append(f"lineage of the {what}: its Model Registry version {arn} could not be read ({code})")
        return None
    return model_registry.version_of(described)


def collect_lineage(models: ModelStore, model_id: str, run: Mapping[str, Any],
                    missing: list[str]) -> dict[str, Any] | None:
    """``{"deployed": version, "registered": version?}`` (each as ``version_of`` shapes it, ``deployed`` with
    ``serving: true``); a champion without a registry version gets what its record holds (``source:
    "champion record"``). ``None`` when no model was ever deployed. Gaps are appended to ``missing``."""
    champion = models.get_state(model_id).get("champion") or {}
    serving = champion.get("modelPackageArn")
    out: dict[str, Any] = {}
    if isinstance(serving, str) and serving:
        version = _describe(serving, "deployed version", missing)
        if version is not None:
            out["deployed"] = {**version, "serving": True, "source": "model registry"}
    elif champion:
        out["deployed"] = {
            "source": "champion record", "serving": True, "version": champion.get("version"),
            "lineage": {"runId": champion.get("runId"), "trainingJobName": champion.get("trainingJobName"),
                        "modelArtifacts": champion.get("modelArtifacts"),
                        "endpointConfigName": champion.get("endpointConfigName"), "deployedAt": champion.get("since")},
        }
        missing.append("lineage of the deployed version: it has no Model Registry version (deployed before the "
                       "registry was used); only its champion record is shown")
    else:
        missing.append("lineage: no version of this model has been deployed yet")
    registered = (run.get("registration") or {}).get("modelPackageArn") if isinstance(
        run.get("registration"), Mapping) else None
    if isinstance(registered, str) and registered and registered != serving:
        version = _describe(registered, "version this run registered", missing)
        if version is not None:
            out["registered"] = {**version, "serving": False, "source": "model registry"}
    return out or None
