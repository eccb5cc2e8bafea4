"""``sagemaker_model_registry``: the SageMaker Model Registry as clients and rules see it on AWS (moto 5.2).

- ``UpdateModelPackage`` *merges* ``CustomerMetadataProperties`` (moto replaced them, dropping every entry not
  given), and keeps the ``ModelApprovalStatus`` / ``ApprovalDescription`` a request does not name (moto reset them
  to nothing).
- ``CreateModelPackage`` and ``UpdateModelPackage`` of a versioned package send SageMaker's
  ``SageMaker Model Package State Change`` event (source ``aws.sagemaker``) to the default event bus, with the
  package's description as the ``detail`` (times in epoch milliseconds) and its ARN as the resource, as SageMaker
  does; the event is sent after the call's change is made.
- a model created from a package (``ModelPackageName``) is served with the package's inference container
  (:func:`samlocal.sagemaker_packages.package_container`).

With no active runtime, moto behaves as shipped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry

DETAIL_TYPE = "SageMaker Model Package State Change"
SOURCE = "aws.sagemaker"


def _millis(value: Any) -> Any:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


def state_change_detail(package: Any) -> dict[str, Any]:
    """The event's ``detail``: ``DescribeModelPackage``'s answer, times as epoch milliseconds."""
    described = package.gen_response_object()
    return {k: _millis(v) for k, v in described.items()}


def _install_sagemaker_model_registry(registry: RuntimeRegistry) -> None:
    from moto.events.models import events_backends
    from moto.sagemaker.models import SageMakerModelBackend

    active = registry.current
    original_create = SageMakerModelBackend.create_model_package
    original_update = SageMakerModelBackend.update_model_package

    def emit(backend: Any, arn: str) -> None:
        package = backend.describe_model_package(arn)
        if not package.model_package_group_name:
            return  # an unversioned package is not in the registry
        events_backends[backend.account_id][backend.region_name].put_events([{
            "Source": SOURCE, "DetailType": DETAIL_TYPE, "Resources": [package.arn],
            "Detail": json.dumps(state_change_detail(package), default=str), "EventBusName": "default",
        }])

    def create_model_package(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        arn = original_create(self, *args, **kwargs)
        if active() is not None:
            emit(self, arn)
        return arn

    def update_model_package(self, model_package_arn, model_approval_status, approval_description,  # type: ignore[no-untyped-def]
                             customer_metadata_properties, customer_metadata_properties_to_remove,
                             additional_inference_specifications_to_add):
        if active() is None:
            return original_update(self, model_package_arn, model_approval_status, approval_description,
                                   customer_metadata_properties, customer_metadata_properties_to_remove,
                                   additional_inference_specifications_to_add)
        package = self.describe_model_package(model_package_arn)
        merged = {**(package.customer_metadata_properties or {}), **(customer_metadata_properties or {})}
        arn = original_update(self, model_package_arn, model_approval_status or package.model_approval_status,
                              approval_description if approval_description is not None
                              else package.approval_description,
                              merged or None, customer_metadata_properties_to_remove,
                              additional_inference_specifications_to_add)
        emit(self, arn)
        return arn

    SageMakerModelBackend.create_model_package = create_model_package  # type: ignore[method-assign]
    SageMakerModelBackend.update_model_package = update_model_package  # type: ignore[method-assign]
