"""The SageMaker requests of a deployment, built from the model config. Pure: no AWS calls."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from driftline_common.config import ModelConfig

MAX_NAME = 63
#: SageMaker's bounds for MaximumExecutionTimeoutInSeconds of a blue/green update
MIN_EXECUTION_TIMEOUT, MAX_EXECUTION_TIMEOUT = 600, 14400
INFERENCE_PROGRAM = "inference.py"


def resource_name(model_id: str, run_id: str) -> str:
    """``driftline-<modelId>-<short run>``: deterministic, unique per (model, run), ``<= 63`` chars.

    Examples
    --------
    >>> resource_name("example-classifier", "run-2024-05-02-0001")
    'driftline-example-classifier-run-2024-05-02-0001'
    """
    run = re.sub(r"[^A-Za-z0-9]+", "-", run_id).strip("-")
    name = f"driftline-{model_id}-{run}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{model_id}\x00{run_id}".encode()).hexdigest()[:8]
    parts = [f"driftline-{model_id[:30]}".rstrip("-"), run[:12].strip("-"), digest]
    return re.sub(r"-{2,}", "-", "-".join(p for p in parts if p))


def create_model_request(cfg: ModelConfig, *, name: str, model_data_url: str, role_arn: str, run_id: str
                         ) -> dict[str, Any]:
    return {
        "ModelName": name,
        "PrimaryContainer": {
            "Image": cfg.training.image_uri,
            "ModelDataUrl": model_data_url,
            "Environment": {
                "SAGEMAKER_PROGRAM": INFERENCE_PROGRAM,
                "SAGEMAKER_SUBMIT_DIRECTORY": cfg.training.source_uri,
            },
        },
        "ExecutionRoleArn": role_arn,
        "Tags": [{"Key": "driftline:modelId", "Value": cfg.model_id}, {"Key": "driftline:runId", "Value": run_id}],
    }


def create_model_from_package_request(cfg: ModelConfig, *, name: str, model_package_arn: str, role_arn: str,
                                     run_id: str) -> dict[str, Any]:
    """``CreateModel`` from a registered model package version: SageMaker takes the image, the model artifacts and
    the environment from the package's inference specification (docs/registry.md)."""
    return {
        "ModelName": name,
        "PrimaryContainer": {"ModelPackageName": model_package_arn},
        "ExecutionRoleArn": role_arn,
        "Tags": [{"Key": "driftline:modelId", "Value": cfg.model_id}, {"Key": "driftline:runId", "Value": run_id}],
    }


def default_capture_config(cfg: ModelConfig) -> dict[str, Any] | None:
    """Data capture for a brand-new endpoint: SageMaker writes ``<destination>/<endpoint>/<variant>/yyyy/...``,
    so the destination is the config's capture URI without its trailing ``/<endpointName>``."""
    if cfg.data_capture.format != "sagemaker":
        return None
    uri = cfg.data_capture.s3_uri.rstrip("/")
    suffix = "/" + cfg.endpoint_name
    destination = uri[: -len(suffix)] if uri.endswith(suffix) else uri
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


def create_endpoint_config_request(cfg: ModelConfig, *, name: str, model_name: str,
                                   data_capture: dict[str, Any] | None) -> dict[str, Any]:
    d = cfg.deployment
    request: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [{
            "VariantName": d.variant_name,
            "ModelName": model_name,
            "InitialInstanceCount": d.initial_instance_count,
            "InstanceType": d.instance_type,
            "InitialVariantWeight": 1.0,
        }],
        "Tags": [{"Key": "driftline:modelId", "Value": cfg.model_id}],
    }
    if data_capture:
        request["DataCaptureConfig"] = data_capture
    return request


def deployment_config(cfg: ModelConfig) -> dict[str, Any]:
    """``UpdateEndpoint``'s ``DeploymentConfig``: blue/green traffic shifting and auto-rollback alarms."""
    d = cfg.deployment
    wait = d.wait_minutes * 60
    routing: dict[str, Any] = {"WaitIntervalInSeconds": wait}
    if d.strategy == "canary":
        routing.update(Type="CANARY", CanarySize={"Type": "CAPACITY_PERCENT", "Value": d.canary_percent})
        steps = 2
    elif d.strategy == "linear":
        routing.update(Type="LINEAR", LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": d.linear_step_percent})
        steps = math.ceil(100 / d.linear_step_percent)
    else:
        routing.update(Type="ALL_AT_ONCE")
        steps = 1
    termination = d.termination_wait_minutes * 60
    # room for every bake step, the termination wait and provisioning the green fleet (30 min)
    timeout = min(max(steps * wait + termination + 1800, MIN_EXECUTION_TIMEOUT), MAX_EXECUTION_TIMEOUT)
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": timeout,
        }
    }
    if d.rollback_alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in d.rollback_alarms]}
    return config


def update_endpoint_request(cfg: ModelConfig, *, endpoint_config_name: str) -> dict[str, Any]:
    return {
        "EndpointName": cfg.endpoint_name,
        "EndpointConfigName": endpoint_config_name,
        "DeploymentConfig": deployment_config(cfg),
    }
