"""moto's SageMaker as clients see it offline: the patches that route training, ``UpdateEndpoint`` and
``InvokeEndpoint`` to :class:`~samlocal.sagemaker_local.LocalSageMaker`, and the descriptions completed with what
botocore's service model requires (installed by :mod:`samlocal.moto_ext`)."""

from __future__ import annotations

from typing import Any

__all__ = ["capture_summary", "endpoint_description", "install_sagemaker_patches", "model_description"]


def capture_summary(config: dict[str, Any]) -> dict[str, Any]:
    """``DescribeEndpoint``'s ``DataCaptureConfigSummary`` of an endpoint config's ``DataCaptureConfig``.

    Every member botocore's model requires: ``EnableCapture``, ``CaptureStatus`` (``Started`` while capture is
    enabled, else ``Stopped``), ``CurrentSamplingPercentage`` (the config's ``InitialSamplingPercentage``),
    ``DestinationS3Uri`` and ``KmsKeyId`` (empty when the config names no key).
    """
    enabled = bool(config.get("EnableCapture", True))
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(config.get("InitialSamplingPercentage", 100)),
        "DestinationS3Uri": str(config.get("DestinationS3Uri", "")),
        "KmsKeyId": str(config.get("KmsKeyId") or ""),
    }


def endpoint_description(response: dict[str, Any]) -> dict[str, Any]:
    """moto's ``DescribeEndpoint`` answer with the ``DataCaptureConfig`` summary SageMaker gives (none without)."""
    out = dict(response)
    dcc = out.pop("DataCaptureConfig", None)
    if dcc:
        out["DataCaptureConfig"] = capture_summary(dcc)
    return out


def model_description(response: dict[str, Any]) -> dict[str, Any]:
    """moto's ``DescribeModel`` answer without the empty ``VpcConfig`` it adds to a model created without one."""
    out = dict(response)
    vpc = out.get("VpcConfig")
    if not vpc or not (vpc.get("SecurityGroupIds") and vpc.get("Subnets")):
        out.pop("VpcConfig", None)
    return out


# ---------------------------------------------------------------------------------------------------
# moto patches (installed by moto_ext)
# ---------------------------------------------------------------------------------------------------
def install_sagemaker_patches(registry: Any) -> None:
    """Patch moto's SageMaker; the patches serve through ``registry.current().sagemaker`` (moto's own without one)."""
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    active = registry.current

    original_create = SageMakerModelBackend.create_training_job

    def create_training_job(self, training_job_name, hyper_parameters, algorithm_specification, *args, **kwargs):  # type: ignore[no-untyped-def]
        metric_definitions = list((algorithm_specification or {}).get("MetricDefinitions") or [])
        job = original_create(self, training_job_name, hyper_parameters, algorithm_specification, *args, **kwargs)
        rt = active()
        if rt is not None:
            job.algorithm_specification["MetricDefinitions"] = metric_definitions
            rt.sagemaker.run_training(job)
        return job

    def update_endpoint(self, endpoint_name, endpoint_config_name, deployment_config=None):  # type: ignore[no-untyped-def]
        from moto.sagemaker.exceptions import ValidationError

        if endpoint_name not in self.endpoints:
            raise ValidationError(message=f"Could not find endpoint '{endpoint_name}'.")
        endpoint = self.endpoints[endpoint_name]
        rt = active()
        if rt is None:
            endpoint.endpoint_config_name = endpoint_config_name
            return endpoint
        rt.sagemaker.update_endpoint(self, endpoint, endpoint_config_name, deployment_config)
        return endpoint

    def update_endpoint_response(self):  # type: ignore[no-untyped-def]
        endpoint = self.sagemaker_backend.update_endpoint(
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
            deployment_config=self._get_param("DeploymentConfig"),
        )
        return ActionResult({"EndpointArn": endpoint.arn})

    original_invoke = SageMakerRuntimeResponse.invoke_endpoint

    def invoke_endpoint(self):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is None:
            return original_invoke(self)
        endpoint_name = self.path.split("/")[2]
        body = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
        try:
            out, out_type, variant = rt.sagemaker.invoke_endpoint(
                endpoint_name,
                body,
                content_type=self.headers.get("Content-Type"),
                accept=self.headers.get("Accept"),
                inference_id=self.headers.get("X-Amzn-SageMaker-Inference-Id"),
                target_variant=self.headers.get("X-Amzn-SageMaker-Target-Variant"),
            )
        except LookupError as exc:
            raise JsonRESTError("ValidationError", str(exc)) from exc
        except Exception as exc:
            err = JsonRESTError("ModelError", f"Received client error (400) from primary with message \"{exc}\"")
            err.code = 424
            raise err from exc
        return 200, {"Content-Type": out_type, "x-Amzn-Invoked-Production-Variant": variant}, out

    original_describe_endpoint = SageMakerModelBackend.describe_endpoint

    def describe_endpoint(self, endpoint_name):  # type: ignore[no-untyped-def]
        return endpoint_description(original_describe_endpoint(self, endpoint_name))

    def describe_model_response(self):  # type: ignore[no-untyped-def]
        model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
        return ActionResult(model_description(model.response_object))

    SageMakerModelBackend.describe_endpoint = describe_endpoint  # type: ignore[method-assign]
    SageMakerResponse.describe_model = describe_model_response  # type: ignore[method-assign]
    SageMakerModelBackend.create_training_job = create_training_job  # type: ignore[method-assign]
    SageMakerModelBackend.update_endpoint = update_endpoint  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = update_endpoint_response  # type: ignore[attr-defined]
    SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint  # type: ignore[method-assign]
