"""Automatic model tuning on retrain (``training.tuning``, docs/tuning.md).

:func:`build_tuning_request` turns the run's ``CreateTrainingJob`` request (:mod:`retrain_launcher.training`) into
SageMaker's ``CreateHyperParameterTuningJob`` request: the same image, role, channels, output, instances and
stopping condition as the ``TrainingJobDefinition``; the config's fixed hyperparameters (minus the ranged ones)
as ``StaticHyperParameters`` (JSON-encoded, ``sagemaker_program``/``sagemaker_submit_directory`` included, as the
SageMaker Python SDK's tuner sends them for a framework estimator); the objective's regex and any other
``metricDefinitions`` as the algorithm's ``MetricDefinitions``.

:func:`tuning_result` (the ``tuning_result`` action, after ``Tune``) reads the finished tuning job: its
``BestTrainingJob`` becomes ``$.training`` exactly as a plain training job's result (job name, model artifacts,
output path) plus the lineage (tuning job, best hyperparameters, objective value). A tuning job that failed, or
that has no best training job (no trial reported the objective metric), raises :class:`TrainingFailed` naming
the metric: there is no fallback to the fixed hyperparameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.contracts.retrain_launcher import TuningResult
from driftline_common.errors import TrainingFailed
from driftline_common.observability import logger
from driftline_common.tuning_config import TuningConfig

from retrain_launcher.training import _slug

#: ``HyperParameterTuningJobName``: ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}`` (at most 32 characters)
MAX_TUNING_JOB_NAME = 32
#: SageMaker names a tuning job's training jobs ``<tuning job>-<3 digits>-<8 hex>``: under ``driftline-*`` too


def tuning_job_name(model_id: str, run_id: str) -> str:
    """A tuning job name unique to ``(model_id, run_id)``, deterministic, ``<= 32`` chars of ``[A-Za-z0-9-]``.

    ``driftline-`` (the prefix the state machine's IAM policy allows: ``hyper-parameter-tuning-job/driftline-*``),
    up to 9 characters of the model id, then 12 hex digits of SHA-256 of both ids.

    Examples
    --------
    >>> name = tuning_job_name("example-classifier", "run_2024-01-01")
    >>> name.startswith("driftline-example-c-"), len(name) <= 32
    (True, True)
    """
    digest = hashlib.sha256(f"{model_id}\x00{run_id}".encode()).hexdigest()[:12]
    head = "-".join(p for p in ("driftline", _slug(model_id, 9)) if p)
    return f"{head}-{digest}"[:MAX_TUNING_JOB_NAME]


def _number(value: float) -> str:
    return repr(float(value))


def parameter_ranges(t: TuningConfig) -> dict[str, Any]:
    """``ParameterRanges``: bounds and values as strings, as the API takes them."""
    r = t.ranges
    out: dict[str, Any] = {}
    if r.continuous:
        out["ContinuousParameterRanges"] = [
            {"Name": x.name, "MinValue": _number(x.min), "MaxValue": _number(x.max), "ScalingType": x.scaling}
            for x in r.continuous]
    if r.integer:
        out["IntegerParameterRanges"] = [
            {"Name": x.name, "MinValue": str(x.min), "MaxValue": str(x.max), "ScalingType": x.scaling}
            for x in r.integer]
    if r.categorical:
        out["CategoricalParameterRanges"] = [{"Name": x.name, "Values": list(x.values)} for x in r.categorical]
    return out


def build_tuning_request(cfg: ModelConfig, training: Mapping[str, Any], *, run_id: str) -> dict[str, Any]:
    """The ``CreateHyperParameterTuningJob`` request of run ``run_id``, from its ``CreateTrainingJob`` request."""
    t = cfg.training.tuning
    if t is None:
        raise ValueError(f"model {cfg.model_id!r} has no training.tuning")
    ranged = set(t.ranged_names())
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": t.max_parallel_jobs}
    if t.max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = t.max_jobs
    if t.max_runtime_seconds is not None:
        limits["MaxRuntimeInSeconds"] = t.max_runtime_seconds
    config: dict[str, Any] = {
        "Strategy": t.strategy,
        "HyperParameterTuningJobObjective": {"Type": t.objective.type, "MetricName": t.objective.metric},
        "ResourceLimits": limits,
        "ParameterRanges": parameter_ranges(t),
        "TrainingJobEarlyStoppingType": t.early_stopping,
    }
    if t.hyperband is not None:
        config["StrategyConfig"] = {"HyperbandStrategyConfig": {
            "MinResource": t.hyperband.min_resource, "MaxResource": t.hyperband.max_resource}}
    if t.random_seed is not None:
        config["RandomSeed"] = t.random_seed
    algorithm = {**training["AlgorithmSpecification"],
                 "MetricDefinitions": [{"Name": d.name, "Regex": d.regex} for d in t.metrics()]}
    definition = {
        "StaticHyperParameters": {k: v for k, v in training["HyperParameters"].items() if k not in ranged},
        "AlgorithmSpecification": algorithm,
        **{k: training[k] for k in ("RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                                    "StoppingCondition")},
    }
    return {
        "HyperParameterTuningJobName": tuning_job_name(cfg.model_id, run_id),
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
        "Tags": list(training.get("Tags") or []),
    }


def _objective_of(request: Mapping[str, Any]) -> tuple[str, str, str | None]:
    config = request.get("HyperParameterTuningJobConfig") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric = str(objective.get("MetricName") or "")
    definitions = ((request.get("TrainingJobDefinition") or {}).get("AlgorithmSpecification") or {}).get(
        "MetricDefinitions") or []
    regex = next((d.get("Regex") for d in definitions if d.get("Name") == metric), None)
    return metric, str(objective.get("Type") or ""), regex


def _failure(name: str, described: Mapping[str, Any] | None, metric: str, regex: str | None, why: str
             ) -> TrainingFailed:
    counters = dict((described or {}).get("TrainingJobStatusCounters") or {})
    objectives = dict((described or {}).get("ObjectiveStatusCounters") or {})
    reason = (described or {}).get("FailureReason") or ""
    message = (f"tuning job {name} {why}: objective metric {metric!r} (regex {regex!r}); training jobs "
               f"{counters or 'unknown'}, objective reported {objectives or 'unknown'}"
               + (f"; FailureReason: {reason}" if reason else ""))
    return TrainingFailed(message, tuningJobName=name, metric=metric, regex=regex,
                          status=(described or {}).get("HyperParameterTuningJobStatus"))


def tuning_result(event: TuningResult) -> dict[str, Any]:
    """``$.training`` from the finished tuning job of ``event.decision.tuning``; :class:`TrainingFailed` if none."""
    request = event.decision.tuning
    name = str(request["HyperParameterTuningJobName"])
    metric, kind, regex = _objective_of(request)
    sm = client("sagemaker")
    try:
        described: dict[str, Any] | None = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except ClientError as exc:
        if event.error is None:
            raise
        logger.warning("tuning job not described", extra={"tuningJobName": name, "error": str(exc)})
        described = None
    if event.error is not None:
        cause = str(event.error.get("Cause") or "")
        why = f"failed ({event.error.get('Error') or 'error'}"
        if described is None and cause:  # never created (an API error): its message says why
            why += f": {cause[:300]}"
        raise _failure(name, described, metric, regex, why + ")")
    described = described or {}
    status = described.get("HyperParameterTuningJobStatus")
    best = described.get("BestTrainingJob") or {}
    if status != "Completed" or not best.get("TrainingJobName") or best.get("ObjectiveStatus") not in (
            None, "Succeeded"):
        raise _failure(name, described, metric, regex,
                       f"ended {status} without a best training job (no trial reported the objective)")
    job = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    final = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    result = {
        "jobName": job["TrainingJobName"],
        "status": job["TrainingJobStatus"],
        "modelArtifacts": job["ModelArtifacts"]["S3ModelArtifacts"],
        "outputUri": job["OutputDataConfig"]["S3OutputPath"],
        "tuningJobName": name,
        "hyperparameters": {k: str(v) for k, v in (best.get("TunedHyperParameters") or {}).items()},
        "objective": {"metric": final.get("MetricName") or metric, "type": final.get("Type") or kind,
                      "value": final.get("Value")},
        "trainingJobs": {k: int(v) for k, v in (described.get("TrainingJobStatusCounters") or {}).items()},
    }
    logger.info("tuning finished", extra={"tuningJobName": name, "best": result["jobName"],
                                          "objective": result["objective"]})
    return result
