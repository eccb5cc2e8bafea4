"""The model packages of moto's SageMaker as local endpoints read them."""

from __future__ import annotations

from typing import Any

__all__ = ["package_container"]


def package_container(arn: str) -> dict[str, Any]:
    """The first inference container of model package ``arn`` (``{}`` when there is no such package)."""
    from moto.sagemaker.models import sagemaker_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return {}
    region, account = parts[3], parts[4]
    try:
        package = sagemaker_backends[account][region].describe_model_package(arn)
    except Exception:  # noqa: BLE001 - moto's ValidationError: no such package
        return {}
    containers = (package.inference_specification or {}).get("Containers") or [{}]
    return dict(containers[0])
