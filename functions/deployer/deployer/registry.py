"""The deployer's ``register`` action: the run's challenger (and, once, the initial champion) as model package
versions in the model's SageMaker Model Registry group, at comparison time (``docs/registry.md``).

The challenger's ``ModelApprovalStatus`` follows the comparison: ``PendingManualApproval`` when it wins and the
config requires an approval, ``Approved`` when it wins, ``Rejected`` when it loses (or a recalibration of the
champion won instead). ``ModelMetrics`` point at the run's comparison and drift documents and the drift baseline;
``CustomerMetadataProperties`` carry the lineage (run, training job, data window and channel, code and its
SHA-256, hyperparameters). Idempotent under retries: a package the run already registered is returned as is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from driftline_common import model_registry as mr
from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.contracts.deployer import Register
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore

from deployer import requests as req

JSON = "application/json"
CONTENT_TYPES = ["text/csv", "application/json"]
#: how the code tarball is read for its hash
CHUNK = 1 << 20


def challenger_status(comparison: Mapping[str, Any]) -> str:
    """The challenger's approval status from the comparison (see the module doc).

    Examples
    --------
    >>> challenger_status({"promote": True, "requireApproval": True, "remedy": "retrain"})
    'PendingManualApproval'
    >>> challenger_status({"promote": True, "remedy": "recalibration"})
    'Rejected'
    """
    if comparison.get("promote") is not True or comparison.get("remedy") == "recalibration":
        return mr.REJECTED
    return mr.PENDING if comparison.get("requireApproval") is True else mr.APPROVED


def _s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def code_sha256(uri: str) -> str:
    """SHA-256 of the code tarball (``sourcedir.tar.gz``) the model was trained and is served with.

    The deployer reads the stack's bucket only: a tarball elsewhere (``AllowedDataBuckets``, which only the data
    readers may read) is recorded as ``unavailable: <error code>``, never as a made-up hash.
    """
    bucket, key = _s3_parts(uri)
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "error"))
        logger.warning("the code tarball could not be read for its hash", extra={"uri": uri, "error": code})
        return f"unavailable: {code}"
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def inference_specification(cfg: ModelConfig, model_data_url: str) -> dict[str, Any]:
    return {
        "Containers": [{
            "Image": cfg.training.image_uri,
            "ModelDataUrl": model_data_url,
            "Environment": {"SAGEMAKER_PROGRAM": req.INFERENCE_PROGRAM,
                            "SAGEMAKER_SUBMIT_DIRECTORY": cfg.training.source_uri},
        }],
        "SupportedContentTypes": CONTENT_TYPES,
        "SupportedResponseMIMETypes": CONTENT_TYPES,
    }


def _source(uri: Any) -> dict[str, str] | None:
    return {"ContentType": JSON, "S3Uri": uri} if isinstance(uri, str) and uri.startswith("s3://") else None


def model_metrics(comparison: Mapping[str, Any], drift_uri: Any, baseline_uri: str | None) -> dict[str, Any]:
    """``ModelMetrics``: the comparison (challenger vs champion on the same rows) as the model quality statistics,
    the window's drift result as the data quality statistics and the drift baseline as its constraints."""
    out: dict[str, Any] = {}
    if statistics := _source(comparison.get("resultUri")):
        out["ModelQuality"] = {"Statistics": statistics}
    data_quality = {k: v for k, v in (("Statistics", _source(drift_uri)), ("Constraints", _source(baseline_uri)))
                    if v}
    if data_quality:
        out["ModelDataQuality"] = data_quality
    return out


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _channel(training_request: Mapping[str, Any], name: str) -> str | None:
    for channel in training_request.get("InputDataConfig") or []:
        if isinstance(channel, Mapping) and channel.get("ChannelName") == name:
            return ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
    return None


def _create(sm: Any, group: str, *, description: str, spec: dict[str, Any], status: str,
            metrics: dict[str, Any], meta: dict[str, str], token: str, model_id: str) -> str:
    request: dict[str, Any] = {
        "ModelPackageGroupName": group, "ModelPackageDescription": description[:1024],
        "InferenceSpecification": spec, "ModelApprovalStatus": status,
        "CustomerMetadataProperties": meta, "ClientToken": hashlib.sha256(token.encode()).hexdigest()[:36],
        "Tags": [{"Key": "driftline:modelId", "Value": model_id}],
    }
    if metrics:
        request["ModelMetrics"] = metrics
    return str(sm.create_model_package(**request)["ModelPackageArn"])


def register_champion(sm: Any, cfg: ModelConfig, models: ModelStore, group: str,
                      packages: list[dict[str, Any]]) -> str | None:
    """Register the current champion once (the model's first version, ``Approved``) when its record names no
    package yet; its record gets the package's ARN. ``None`` when there is no champion to register."""
    model_id = cfg.model_id
    champion = models.get_state(model_id).get("champion") or {}
    if not champion.get("modelName") or champion.get("modelPackageArn"):
        return champion.get("modelPackageArn")
    for package in packages:  # a retried step registered it already
        meta = mr.metadata(package.get("CustomerMetadataProperties"))
        if meta.get("role") == "champion" and meta.get("modelName") == champion["modelName"]:
            arn = str(package["ModelPackageArn"])
            models.record_champion(model_id, {**champion, "modelPackageArn": arn})
            return arn
    artifacts = champion.get("modelArtifacts")
    if not artifacts:
        container = sm.describe_model(ModelName=champion["modelName"]).get("PrimaryContainer") or {}
        artifacts = container.get("ModelDataUrl")
    if not artifacts:
        logger.warning("the champion has no model artifacts: not registered", extra={"champion": champion})
        return None
    meta = mr.meta_properties({
        "role": "champion", "modelId": model_id, "modelName": champion["modelName"], "runId": champion.get("runId"),
        "trainingJob": champion.get("trainingJobName"), "endpointConfigName": champion.get("endpointConfigName"),
        "codeUri": cfg.training.source_uri, "championVersion": champion.get("version"),
    })
    arn = _create(sm, group, description=f"{model_id}: the champion in service when the registry was first used",
                  spec=inference_specification(cfg, artifacts), status=mr.APPROVED, metrics={}, meta=meta,
                  token=f"{model_id}\x00champion\x00{champion['modelName']}", model_id=model_id)
    models.record_champion(model_id, {**champion, "modelPackageArn": arn})
    return arn


def register(event: Register, settings: Settings, models: ModelStore, runs: RunStore | None = None
             ) -> dict[str, Any]:
    model_id, run_id = event.run.model_id, event.run.run_id
    cfg = models.get_config(model_id)
    sm = client("sagemaker")
    group = mr.ensure_group(sm, model_id)
    packages = mr.list_packages(sm, model_id)
    champion_arn = register_champion(sm, cfg, models, group, packages)
    comparison = dict(event.comparison or {})
    status = challenger_status(comparison)
    existing = mr.find_run_package(packages, run_id, "challenger")
    if existing is not None:
        arn, version = str(existing["ModelPackageArn"]), existing.get("ModelPackageVersion")
        status = str(existing.get("ModelApprovalStatus") or status)
    else:
        training_request = _obj((event.decision or {}).get("training"))
        assessment = event.assessment or {}
        evaluation, drift = _obj(assessment.get("evaluation")), _obj(assessment.get("drift"))
        window = (event.run.model_extra or {}).get("window") or {}
        hyper = {k: v for k, v in (training_request.get("HyperParameters") or {}).items()
                 if not str(k).startswith("sagemaker_")}
        tuned = event.training.hyperparameters or {}  # a tuning job's best trial: its values replace the fixed ones
        hyper.update({k: json.dumps(v, allow_nan=False) for k, v in tuned.items()})
        meta = mr.meta_properties({
            "role": "challenger", "modelId": model_id, "runId": run_id, "trainingJob": event.training.job_name,
            "trainDataUri": _channel(training_request, "train"),
            "evaluationDataUri": _channel(training_request, "evaluation"),
            "windowStart": window.get("start"), "windowEnd": window.get("end"),
            "codeUri": cfg.training.source_uri, "codeSha256": code_sha256(cfg.training.source_uri),
            "hyperparameters": (json.dumps(hyper, sort_keys=True, separators=(",", ":"), allow_nan=False)
                                if hyper else None),
            "tuningJob": event.training.tuning_job_name,
            "tuningObjective": (json.dumps(event.training.objective, sort_keys=True, separators=(",", ":"),
                                           allow_nan=False) if event.training.objective else None),
            "evaluationUri": evaluation.get("resultUri"), "comparisonUri": comparison.get("resultUri"),
            "driftUri": drift.get("resultUri"), "metric": comparison.get("metric"),
            "championScore": comparison.get("champion"), "challengerScore": comparison.get("challenger"),
            "promote": comparison.get("promote"), "remedy": comparison.get("remedy"),
            "endpointConfigName": req.resource_name(model_id, run_id),
            "championModelPackageArn": champion_arn,
        })
        description = (f"{model_id} run {run_id}: challenger from training job {event.training.job_name} "
                       f"({comparison.get('metric')}: {comparison.get('challenger')} vs champion "
                       f"{comparison.get('champion')})")
        arn = _create(sm, group, description=description,
                      spec=inference_specification(cfg, event.training.model_artifacts), status=status,
                      metrics=model_metrics(comparison, drift.get("resultUri"), cfg.baseline_uri), meta=meta,
                      token=f"{model_id}\x00challenger\x00{run_id}", model_id=model_id)
        version = sm.describe_model_package(ModelPackageName=arn).get("ModelPackageVersion")
    result = {"modelPackageGroupName": group, "modelPackageArn": arn, "version": version, "status": status,
              "championModelPackageArn": champion_arn}
    if runs is not None:
        runs.update(model_id, run_id, registration=result)
    logger.info("challenger registered", extra=result)
    return result
