"""``sagemaker_tuning``: SageMaker automatic model tuning as clients and Step Functions see it (moto 5.2).

moto stores a ``CreateHyperParameterTuningJob`` and describes it with fixed placeholder values (a best training job
named ``FakeTrainingJobName``, counters of 1, status ``Completed`` at once) and has no
``ListTrainingJobsForHyperParameterTuningJob`` or ``StopHyperParameterTuningJob``. With an active runtime:

- ``CreateHyperParameterTuningJob`` runs the trials with the local tuner (:mod:`samlocal.sagemaker_tuner`), each
  a real training job of the offline runtime, before it returns (training runs synchronously offline);
- ``DescribeHyperParameterTuningJob`` answers what the trials did: ``HyperParameterTuningJobStatus``
  (``Completed``, or ``Failed`` with a ``FailureReason`` naming the objective metric when no trial reported it),
  ``TrainingJobStatusCounters``, ``ObjectiveStatusCounters``, ``BestTrainingJob`` (a
  ``HyperParameterTrainingJobSummary``: name, ARN, ``TunedHyperParameters``,
  ``FinalHyperParameterTuningJobObjectiveMetric``, ``ObjectiveStatus``), ``ConsumedResources``, times from the
  simulated clock; no ``OverallBestTrainingJob`` (no warm start) and no ``TuningJobCompletionDetails``;
- ``ListTrainingJobsForHyperParameterTuningJob`` lists the trials' summaries (``StatusEquals``, ``SortBy``
  ``Name | CreationTime | Status | FinalObjectiveMetricValue``, ``SortOrder``, ``MaxResults``/``NextToken``);
- ``StopHyperParameterTuningJob`` stops a job in progress (offline a job has always ended by the time the call
  returns: stopping an ended job is SageMaker's ``ValidationException``).

With no active runtime, ``CreateHyperParameterTuningJob``/``Describe…`` behave as moto ships them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sagemaker_tuner import Trial, TuningOutcome, run_tuning

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry

_SORT_KEYS = {"Name": lambda t: t.name, "CreationTime": lambda t: t.creation_time,
              "Status": lambda t: t.status,
              "FinalObjectiveMetricValue": lambda t: float("-inf") if t.objective is None else t.objective}


def _summary(job: Any, trial: Trial) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TrainingJobName": trial.name, "TrainingJobArn": trial.arn,
        "TuningJobName": job.hyper_parameter_tuning_job_name,
        "CreationTime": trial.creation_time, "TrainingStartTime": trial.start_time, "TrainingEndTime": trial.end_time,
        "TrainingJobStatus": trial.status, "TunedHyperParameters": dict(trial.tuned),
        "ObjectiveStatus": "Succeeded" if trial.objective is not None else "Failed",
    }
    if trial.failure_reason:
        out["FailureReason"] = trial.failure_reason
    if trial.objective is not None:
        objective = job.hyper_parameter_tuning_job_config.get("HyperParameterTuningJobObjective") or {}
        out["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": objective.get("Type"), "MetricName": objective.get("MetricName"), "Value": trial.objective}
    return {k: v for k, v in out.items() if v is not None}


def describe(job: Any) -> dict[str, Any]:
    """``DescribeHyperParameterTuningJob`` of a job the local tuner ran."""
    outcome: TuningOutcome = job.driftline_outcome
    trials = outcome.trials
    completed = sum(t.status == "Completed" for t in trials)
    stopped = sum(t.status == "Stopped" for t in trials)
    succeeded = sum(t.objective is not None for t in trials)
    out: dict[str, Any] = {
        "HyperParameterTuningJobName": job.hyper_parameter_tuning_job_name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobConfig": job.hyper_parameter_tuning_job_config,
        "TrainingJobDefinition": job.training_job_definition,
        "HyperParameterTuningJobStatus": job.hyper_parameter_tuning_job_status,
        "CreationTime": job.creation_time,
        "HyperParameterTuningEndTime": job.hyper_parameter_tuning_end_time,
        "LastModifiedTime": job.last_modified_time,
        "TrainingJobStatusCounters": {"Completed": completed, "InProgress": 0, "RetryableError": 0,
                                      "NonRetryableError": len(trials) - completed - stopped, "Stopped": stopped},
        "ObjectiveStatusCounters": {"Succeeded": succeeded, "Pending": 0, "Failed": len(trials) - succeeded},
        "ConsumedResources": {"RuntimeInSeconds": int(sum(
            (t.end_time - t.start_time).total_seconds() for t in trials if t.end_time and t.start_time))},
        "FailureReason": outcome.failure_reason,
    }
    if outcome.best is not None:
        out["BestTrainingJob"] = _summary(job, outcome.best)
    return {k: v for k, v in out.items() if v is not None}


def _install_sagemaker_tuning(registry: RuntimeRegistry) -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
    from moto.sagemaker.models import HyperParameterTuningJob, SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    active = registry.current
    original_create = SageMakerModelBackend.create_hyper_parameter_tuning_job
    original_describe = HyperParameterTuningJob.describe

    def create_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name, hyper_parameter_tuning_job_config,  # type: ignore[no-untyped-def]
                                          training_job_definition, *args, **kwargs):
        arn = original_create(self, hyper_parameter_tuning_job_name, hyper_parameter_tuning_job_config,
                              training_job_definition, *args, **kwargs)
        rt = active()
        if rt is None:
            return arn
        job = self.hyper_parameter_tuning_jobs[hyper_parameter_tuning_job_name]
        definition = dict(training_job_definition or {})
        job.creation_time = job.last_modified_time = rt.clock.now()
        job.hyper_parameter_tuning_job_status = "InProgress"

        def run_trial(name: str, hyperparameters: dict[str, str]) -> Any:
            return self.create_training_job(
                training_job_name=name, hyper_parameters=hyperparameters,
                algorithm_specification=dict(definition.get("AlgorithmSpecification") or {}),
                role_arn=definition.get("RoleArn"), input_data_config=definition.get("InputDataConfig"),
                output_data_config=definition.get("OutputDataConfig"),
                resource_config=definition.get("ResourceConfig"), vpc_config=definition.get("VpcConfig"),
                stopping_condition=definition.get("StoppingCondition"), tags=[],
                enable_network_isolation=bool(definition.get("EnableNetworkIsolation", False)),
                enable_inter_container_traffic_encryption=bool(
                    definition.get("EnableInterContainerTrafficEncryption", False)),
                enable_managed_spot_training=bool(definition.get("EnableManagedSpotTraining", False)),
                checkpoint_config=definition.get("CheckpointConfig"), debug_hook_config=None,
                debug_rule_configurations=None, tensor_board_output_config=None, experiment_config=None,
            )

        outcome = run_tuning(hyper_parameter_tuning_job_name, hyper_parameter_tuning_job_config, definition,
                             run_trial, rt.clock.now)
        job.driftline_outcome = outcome
        job.hyper_parameter_tuning_job_status = "Completed" if outcome.best is not None else "Failed"
        job.hyper_parameter_tuning_end_time = job.last_modified_time = rt.clock.now()
        return arn

    def describe_job(self):  # type: ignore[no-untyped-def]
        if getattr(self, "driftline_outcome", None) is None:
            return original_describe(self)
        return describe(self)

    def _job(backend: Any, name: str) -> Any:
        if name not in backend.hyper_parameter_tuning_jobs:
            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        return backend.hyper_parameter_tuning_jobs[name]

    def list_training_jobs_for_tuning_job(self):  # type: ignore[no-untyped-def]
        job = _job(self.sagemaker_backend, self._get_param("HyperParameterTuningJobName"))
        outcome: TuningOutcome | None = getattr(job, "driftline_outcome", None)
        trials = list(outcome.trials if outcome else [])
        status = self._get_param("StatusEquals")
        if status:
            trials = [t for t in trials if t.status == status]
        sort_by = self._get_param("SortBy") or "Name"
        if sort_by == "FinalObjectiveMetricValue":
            trials = [t for t in trials if t.objective is not None]
        trials.sort(key=_SORT_KEYS.get(sort_by, _SORT_KEYS["Name"]),
                    reverse=(self._get_param("SortOrder") or "Ascending") == "Descending")
        start = int(self._get_param("NextToken") or 0)
        size = int(self._get_param("MaxResults") or 10)
        page = trials[start:start + size]
        result: dict[str, Any] = {"TrainingJobSummaries": [_summary(job, t) for t in page]}
        if start + size < len(trials):
            result["NextToken"] = str(start + size)
        return ActionResult(result)

    def stop_tuning_job(self):  # type: ignore[no-untyped-def]
        job = _job(self.sagemaker_backend, self._get_param("HyperParameterTuningJobName"))
        if job.hyper_parameter_tuning_job_status not in ("InProgress", "Stopping"):
            raise ValidationError(message=f"The hyperparameter tuning job {job.hyper_parameter_tuning_job_name} "
                                          f"is {job.hyper_parameter_tuning_job_status}: it cannot be stopped.")
        job.hyper_parameter_tuning_job_status = "Stopped"
        return EmptyResult()

    SageMakerModelBackend.create_hyper_parameter_tuning_job = create_hyper_parameter_tuning_job  # type: ignore[method-assign]
    HyperParameterTuningJob.describe = describe_job  # type: ignore[method-assign]
    SageMakerResponse.list_training_jobs_for_hyper_parameter_tuning_job = list_training_jobs_for_tuning_job  # type: ignore[attr-defined]
    SageMakerResponse.stop_hyper_parameter_tuning_job = stop_tuning_job  # type: ignore[attr-defined]
