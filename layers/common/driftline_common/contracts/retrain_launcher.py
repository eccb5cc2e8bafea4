"""The retrain launcher's actions (``functions/retrain_launcher``): one model per action, ``EVENTS`` by name.

``start_run``'s ``request`` is parsed on its own (:func:`run_request`), so its errors name the field as the caller
wrote it (``detail.windowEnd``), whether the pipeline was started directly or by a ``Run Requested`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from driftline_common.contracts._base import (
    Contract,
    FieldError,
    ModelId,
    NonEmptyStr,
    Obj,
    Run,
    RunIds,
    Time,
    TriggerId,
    _blank_is_none,
    parse_event,
)

TRIGGER_TYPES = ("manual", "schedule", "ground_truth", "alarm", "api", "approval")
TriggerType = Literal["manual", "schedule", "ground_truth", "alarm", "api", "approval"]


def _object_or_none(value: Any) -> Any:
    return value if isinstance(value, Mapping) else None


#: an object where one is expected, anything else read as absent (the failure path must record any state)
Lenient = Annotated[Obj | None, BeforeValidator(_object_or_none)]


class Trigger(Contract):
    """What started the run; its ``id`` is the idempotency key (``trigger#<modelId>#<id>``)."""

    type: TriggerType | None = Field(None, description="``manual`` when absent")
    id: TriggerId | None = Field(None, description="at most 512 characters; a direct request without a trigger "
                                                   "is a manual run identified by its run id")
    time: Time | None = Field(None, description="the window ends at this time floored to the hour")


class RunRequest(Contract):
    """A direct pipeline input: ``{modelId, trigger?, windowEnd?}``."""

    model_id: ModelId = Field(alias="modelId", description="a registered model's id, ``[A-Za-z0-9-]{1,63}``")
    window_end: Time | None = Field(None, alias="windowEnd", description="the window's end (default: the trigger "
                                                                         "time floored to the hour)")
    trigger: Trigger | None = None
    model_package_arn: NonEmptyStr | None = Field(None, alias="modelPackageArn",
                                                  description="trigger ``approval``: the approved Model Registry "
                                                              "version the run deploys")


class RunRequested(Contract):
    """The EventBridge envelope of a ``Run Requested`` event (from the trigger router or the API)."""

    id: NonEmptyStr | None = Field(None, description="the trigger id when ``detail.trigger.id`` is absent")
    time: Time | None = Field(None, description="the trigger time when ``detail.trigger.time`` is absent")
    detail_type: Literal["Run Requested"] = Field(alias="detail-type")
    detail: RunRequest

    @model_validator(mode="after")
    def _trigger_id(self) -> RunRequested:
        if not (self.detail.trigger and self.detail.trigger.id) and not self.id:
            raise FieldError("'{field}' must be a non-empty string, got None", suffix="id")
        return self


def run_request(request: Mapping[str, Any]) -> RunRequest | RunRequested:
    """``start_run``'s ``request``: a ``Run Requested`` envelope when it has a ``detail-type``, else direct."""
    if "detail-type" in request:
        return parse_event(request, RunRequested)
    return parse_event(request, RunRequest)


class StartRun(Contract):
    """Claim the trigger once, record the run RUNNING, size its window (``$.run``)."""

    action: Literal["start_run"]
    run_id: NonEmptyStr = Field(alias="runId", description="the execution name")
    started_at: Annotated[Time | None, BeforeValidator(_blank_is_none)] = Field(
        None, alias="startedAt", description="the execution's start (default: now)")
    execution_arn: Any = Field(None, alias="executionArn", description="recorded on the run")
    request: Obj = Field(description="the pipeline input: a RunRequest or a RunRequested envelope (below)")


class Assessment(Contract):
    """The ``Assess`` branches' results."""

    evaluation: Obj | None = Field(None, description="the metric evaluator's ``evaluate`` (or ``reduce``) result")
    drift: Obj | None = Field(None, description="the drift checker's ``check`` (or ``reduce``) result")
    monitor: Obj | None = Field(None, description="the drift checker's ``monitor`` result (data quality, "
                                                  "operational health, bias: docs/model-monitor.md)")


class Decide(Contract):
    """Apply the retrain policy to the assessment; take the model's lock and build the training job when retraining."""

    action: Literal["decide"]
    run: Run
    assessment: Assessment


class RequestApproval(Contract):
    """Store the task token on the run and notify (the task completes on ``SendTaskSuccess``)."""

    action: Literal["request_approval"]
    run: RunIds
    task_token: NonEmptyStr = Field(alias="taskToken")
    comparison: Obj | None = Field(None, description="the comparison the approver judges")
    registration: Obj | None = Field(None, description="the challenger's Model Registry version "
                                                       "(``modelPackageArn``): approving it there answers too")


class RunRecord(RunIds):
    """``$.run`` as far as the bookkeeping reads it."""

    window: Obj | None = Field(None, description="``{start, end}``")


class Complete(Contract):
    """Record the run's outcome, the champion, the drift acknowledgement; release the lock; publish."""

    action: Literal["complete"]
    run: RunRecord
    assessment: Assessment | None = None
    decision: Obj | None = Field(None, description="``decide``'s result")
    state: Obj | None = Field(None, description="the pipeline state: training, comparison, deployment, baseline")


class Fail(Contract):
    """Record the failed run with its reason; never fails for a missing or mistyped part of the state."""

    action: Literal["fail"]
    run_id: Any = Field(None, alias="runId", description="the execution name (else ``state.run.runId``)")
    state: Lenient = Field(None, description="the pipeline state at the failure (anything: read leniently)")
    error: Lenient = Field(None, description="``{Error, Cause}`` (else ``state.error``)")


class PackageStateDetail(Contract):
    """The ``detail`` of SageMaker's ``SageMaker Model Package State Change`` event (the fields read)."""

    model_package_arn: NonEmptyStr = Field(alias="ModelPackageArn")
    model_approval_status: str | None = Field(None, alias="ModelApprovalStatus")


class PackageStateEvent(Contract):
    """The EventBridge event as the ``ModelPackageStateChanged`` rule delivers it (``<aws.events.event.json>``)."""

    id: NonEmptyStr = Field(description="the event's id: a redelivery has the same one")
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: PackageStateDetail


class PackageStateChange(Contract):
    """A Model Registry version changed status: answer the run waiting for it, or deploy an approved version
    nothing waits for (docs/registry.md)."""

    action: Literal["package_state_change"]
    event: PackageStateEvent


class TuningDecision(Contract):
    """``decide``'s result as far as the tuning result reads it."""

    tuning: Obj = Field(description="the ``CreateHyperParameterTuningJob`` request (docs/tuning.md)")


class TuningResult(Contract):
    """The finished (or failed) tuning job of the run: its best training job becomes ``$.training``; a failure,
    or no best training job, is a ``TrainingFailed`` naming the objective metric (docs/tuning.md)."""

    action: Literal["tuning_result"]
    run: RunIds
    decision: TuningDecision
    error: Obj | None = Field(None, description="``{Error, Cause}`` of the failed ``Tune`` task, if it failed")


EVENTS: dict[str, type[Contract]] = {"start_run": StartRun, "decide": Decide, "request_approval": RequestApproval,
                                     "complete": Complete, "fail": Fail, "package_state_change": PackageStateChange,
                                     "tuning_result": TuningResult}
