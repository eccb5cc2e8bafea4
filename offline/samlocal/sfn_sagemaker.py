"""Step Functions' optimised SageMaker integration for moto's interpreter.

``arn:aws:states:::sagemaker:<action>`` calls the SageMaker API (moto, extended by
:mod:`samlocal.sagemaker_local`) with the state's parameters. With ``.sync`` on
``createTrainingJob`` (``createHyperParameterTuningJob``) the task returns ``DescribeTrainingJob``'s
(``DescribeHyperParameterTuningJob``'s) output once the job is ``Completed``;
a ``Failed`` or ``Stopped`` job fails the task with ``States.TaskFailed`` and the describe output as the
cause (what Step Functions does for a ``.sync`` job that does not succeed). A SageMaker API error
(``ClientError``) fails the task with ``SageMaker.AmazonSageMakerException``.
Timestamps in the output are epoch milliseconds, as Step Functions renders them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

__all__ = ["SAGEMAKER_SERVICE_ERROR", "StateTaskServiceSageMaker"]

SAGEMAKER_SERVICE_ERROR: Final[str] = "SageMaker.AmazonSageMakerException"
_SUPPORTED_INTEGRATION_PATTERNS: Final[set[ResourceCondition]] = {
    ResourceCondition.Sync,
    ResourceCondition.WaitForTaskToken,
}
_SYNC_ACTIONS: Final[dict[str, tuple[str, str, str]]] = {
    # action -> (describe call, name parameter, status field)
    "create_training_job": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "create_transform_job": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
    "create_processing_job": ("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus"),
    "create_hyper_parameter_tuning_job": (
        "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName", "HyperParameterTuningJobStatus"),
}
_ACTIONS: Final[set[str]] = {
    "createtrainingjob",
    "createtransformjob",
    "createprocessingjob",
    "createhyperparametertuningjob",
    "createmodel",
    "createendpointconfig",
    "createendpoint",
    "updateendpoint",
    "describetrainingjob",
    "describeendpoint",
}
_TERMINAL_OK: Final[set[str]] = {"Completed"}
_TERMINAL_BAD: Final[set[str]] = {"Failed", "Stopped"}


def _to_sfn(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_sfn(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_to_sfn(v) for v in value]
    if isinstance(value, _dt.datetime):
        return int(value.timestamp() * 1000)
    return value


class StateTaskServiceSageMaker(StateTaskServiceCallback):
    """``arn:aws:states:::sagemaker:*`` with ``.sync`` for training / transform / processing jobs."""

    def __init__(self) -> None:
        super().__init__(supported_integration_patterns=_SUPPORTED_INTEGRATION_PATTERNS)

    def _get_supported_parameters(self) -> set[str] | None:
        # An empty set: the action is known and every parameter is passed through to the API call.
        if self.resource.api_action.lower() in _ACTIONS:
            return set()
        return None

    def _client(self, resource_runtime_part, state_credentials):  # type: ignore[no-untyped-def]
        return boto_client_for(
            service="sagemaker", region=resource_runtime_part.region, state_credentials=state_credentials
        )

    def _from_error(self, env, ex):  # type: ignore[no-untyped-def]
        if isinstance(ex, ClientError):
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(SAGEMAKER_SERVICE_ERROR),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=SAGEMAKER_SERVICE_ERROR,
                        cause=ex.response["Error"].get("Message", str(ex)),
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
        client = self._client(resource_runtime_part, state_credentials)
        action = self._get_boto_service_action()
        response = getattr(client, action)(**normalised_parameters)
        env.stack.append(_to_sfn(response))

    def _build_sync_resolver(  # type: ignore[override]
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ) -> Callable[[], Any] | None:
        action = self._get_boto_service_action()
        if action not in _SYNC_ACTIONS:
            raise RuntimeError(f"Unsupported .sync callback procedure in resource {self.resource.resource_arn}")
        describe, name_param, status_field = _SYNC_ACTIONS[action]
        env.stack.pop()  # the create call's output
        client = self._client(resource_runtime_part, state_credentials)
        name = normalised_parameters[name_param]

        def _resolve() -> Any:
            out = _to_sfn(getattr(client, describe)(**{name_param: name}))
            status = out.get(status_field)
            if status in _TERMINAL_OK:
                return out
            if status in _TERMINAL_BAD:
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(
                            taskFailedEventDetails=TaskFailedEventDetails(
                                resource=self._get_sfn_resource(),
                                resourceType=self._get_sfn_resource_type(),
                                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                cause=to_json_str(out),
                            )
                        ),
                    )
                )
            return None

        return _resolve
