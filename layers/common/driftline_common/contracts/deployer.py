"""The deployer's actions (``functions/deployer``): one model per action, ``EVENTS`` by name."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from driftline_common.contracts._base import Contract, FiniteNumber, NonEmptyStr, Obj, RunIds


class TrainedModel(Contract):
    """The finished training job whose model is deployed."""

    model_artifacts: NonEmptyStr = Field(alias="modelArtifacts", description="s3:// URI of model.tar.gz")


class RegistrationRef(Contract):
    """``register``'s result: the model package the run deploys."""

    model_package_arn: NonEmptyStr = Field(alias="modelPackageArn")


class Deploy(Contract):
    """Start the blue/green endpoint update to the run's retrained model (records first, deploys last)."""

    action: Literal["deploy"]
    run: RunIds
    training: TrainedModel
    comparison: Obj | None = Field(None, description="the comparison recorded on the run before the switch")
    registration: RegistrationRef | None = Field(None, description="``register``'s result: the endpoint's model is "
                                                                  "created from its model package (docs/registry.md)")


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
    """The comparison's winning remedy: the champion with a new decision threshold (binary) or per-class score
    offsets (multiclass); one of the two is required."""

    decision_threshold: FiniteNumber | None = Field(None, alias="decisionThreshold")
    class_offsets: list[FiniteNumber] | None = Field(
        None, alias="classOffsets", min_length=2, max_length=1000,
        description="a multiclass recalibration: per-class offsets added to the log scores")


class Recalibrate(Contract):
    """Record the champion as a new version with a new decision threshold (no SageMaker call)."""

    action: Literal["recalibrate"]
    run: RunIds
    comparison: Recalibration


class RollbackTarget(Contract):
    """The previous champion an operational breach puts back (``decision.rollback``, from the policy)."""

    endpoint_config_name: NonEmptyStr = Field(alias="endpointConfigName",
                                              description="the previous champion's endpoint config")
    model_name: str | None = Field(None, alias="modelName")
    version: Any = Field(None, description="the previous champion's version")
    from_: str | None = Field(None, alias="from", description="the endpoint config being rolled back")
    reason: str | None = Field(None, description="why: the operational breach")


class RollbackDecision(Contract):
    """The retrain decision carrying the rollback target."""

    rollback: RollbackTarget


class Rollback(Contract):
    """An operational breach within ``deployment.rollbackWindowHours`` of a deployment: put the previous champion
    back (docs/model-monitor.md)."""

    action: Literal["rollback"]
    run: RunIds
    decision: RollbackDecision


class RegisteredTraining(TrainedModel):
    """The finished training job (or the best training job of a tuning job) registered as the challenger."""

    job_name: NonEmptyStr = Field(alias="jobName", description="the training job whose model is registered")
    tuning_job_name: str | None = Field(None, alias="tuningJobName",
                                        description="the hyperparameter tuning job that chose it, if any")
    hyperparameters: dict[str, str] | None = Field(
        None, description="the best training job's ``TunedHyperParameters`` (a tuning job's choice)")
    objective: Obj | None = Field(None, description="the tuning objective it won on: ``{metric, type, value}``")


class Register(Contract):
    """Register the run's challenger (and once, the initial champion) as model package versions in the model's
    Model Registry group, with the status the comparison implies (docs/registry.md)."""

    action: Literal["register"]
    run: RunIds
    training: RegisteredTraining
    comparison: Obj = Field(description="the comparison: ``promote``, ``requireApproval``, ``remedy``, "
                                        "``resultUri``, the scores")
    decision: Obj | None = Field(None, description="the retrain decision: its ``training`` request (channels, "
                                                   "hyperparameters) becomes lineage")
    assessment: Obj | None = Field(None, description="the window's evaluation and drift (their ``resultUri``)")


class ApprovedRun(RunIds):
    """``$.run`` of a run with trigger ``approval``: the Model Registry version it deploys."""

    model_package_arn: NonEmptyStr = Field(alias="modelPackageArn", description="the approved version")


class PrepareApproved(Contract):
    """A version approved in the Model Registry with no run waiting: the state that deploys it (docs/registry.md)."""

    action: Literal["prepare_approved"]
    run: ApprovedRun


EVENTS: dict[str, type[Contract]] = {"deploy": Deploy, "status": Status, "reconcile": Reconcile,
                                     "recalibrate": Recalibrate, "rollback": Rollback, "register": Register,
                                     "prepare_approved": PrepareApproved}
