"""The deployer's actions (``functions/deployer``): one model per action, ``EVENTS`` by name."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from driftline_common.contracts._base import Contract, FiniteNumber, NonEmptyStr, Obj, RunIds


class TrainedModel(Contract):
    """The finished training job whose model is deployed."""

    model_artifacts: NonEmptyStr = Field(alias="modelArtifacts", description="s3:// URI of model.tar.gz")


class Deploy(Contract):
    """Start the blue/green endpoint update to the run's retrained model (records first, deploys last)."""

    action: Literal["deploy"]
    run: RunIds
    training: TrainedModel
    comparison: Obj | None = Field(None, description="the comparison recorded on the run before the switch")


class DeploymentRef(Contract):
    """``deploy``'s result, followed by ``status``."""

    endpoint_name: NonEmptyStr = Field(alias="endpointName")
    endpoint_config_name: NonEmptyStr = Field(alias="endpointConfigName",
                                              description="the endpoint config the update switches to")


class Status(Contract):
    """Where the endpoint update stands (``Updating``, ``InService``, ``RolledBack``, ``Failed``)."""

    action: Literal["status"]
    run: RunIds
    deployment: DeploymentRef


class ReconcileState(Contract):
    """The pipeline's state when a step at or after the endpoint switch failed."""

    run: RunIds
    comparison: Any = Field(None, description="promoting when an object with ``promote: true``")
    deployment: Any = Field(None, description="what ``deploy`` returned, if it returned")


class Reconcile(Contract):
    """What the endpoint serves after a failure at or after the switch; the records brought in line with it."""

    action: Literal["reconcile"]
    state: ReconcileState


class Recalibration(Contract):
    """The comparison's winning remedy: the champion with a new decision threshold."""

    decision_threshold: FiniteNumber = Field(alias="decisionThreshold")


class Recalibrate(Contract):
    """Record the champion as a new version with a new decision threshold (no SageMaker call)."""

    action: Literal["recalibrate"]
    run: RunIds
    comparison: Recalibration


EVENTS: dict[str, type[Contract]] = {"deploy": Deploy, "status": Status, "reconcile": Reconcile,
                                     "recalibrate": Recalibrate}
