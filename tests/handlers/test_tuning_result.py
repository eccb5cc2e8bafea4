"""The retrain launcher's ``tuning_result`` action (after ``Tune``): the best training job of a finished tuning job
becomes ``$.training`` with its lineage; a failed tuning job, or one without a best training job, is a typed
``TrainingFailed`` naming the objective metric (never a fallback to the fixed hyperparameters). SageMaker answers
go through botocore's Stubber (checked against the service model); the API refuses an impossible search."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from driftline_common.aws import client
from driftline_common.config import parse_config
from retrain_launcher.handler import lambda_handler
from retrain_launcher.training import build_training_request
from retrain_launcher.tuning import build_tuning_request

from tests.handlers._support import Context
from tests.handlers.test_api import put_event, raw_call
from tests.unit.test_tuning import config

CTX = Context()
T = datetime(2024, 5, 2, tzinfo=UTC)
RUN = {"modelId": "example-classifier", "runId": "run-7"}


def tuning_request() -> dict[str, Any]:
    cfg = parse_config(config(), scope=None)
    training = build_training_request(cfg, run_id="run-7", role_arn="arn:aws:iam::123456789012:role/sm",
                                      train_uri="s3://b/t/", evaluation_uri="s3://b/e/")
    return build_tuning_request(cfg, training, run_id="run-7")


def described(request: dict[str, Any], status: str, *, best: bool, failure: str | None = None) -> dict[str, Any]:
    name = request["HyperParameterTuningJobName"]
    out: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{name}",
        "HyperParameterTuningJobConfig": request["HyperParameterTuningJobConfig"],
        "HyperParameterTuningJobStatus": status, "CreationTime": T,
        "TrainingJobStatusCounters": {"Completed": 3, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0,
                                      "Stopped": 0},
        "ObjectiveStatusCounters": {"Succeeded": 3 if best else 0, "Pending": 0, "Failed": 0 if best else 3},
    }
    if failure:
        out["FailureReason"] = failure
    if best:
        out["BestTrainingJob"] = {
            "TrainingJobName": f"{name}-002-0a1b2c3d", "CreationTime": T, "TrainingJobStatus": "Completed",
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}-002-0a1b2c3d",
            "TunedHyperParameters": {"l2": "0.0316", "max_iter": "57", "solver": "gd"}, "ObjectiveStatus": "Succeeded",
            "FinalHyperParameterTuningJobObjectiveMetric": {"Type": "Minimize", "MetricName": "train:loss",
                                                            "Value": 0.4125}}
    return out


def training_job(name: str) -> dict[str, Any]:
    return {"TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
            "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed", "CreationTime": T,
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://b/models/{name}/output/model.tar.gz"},
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://b/models"},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 10, "InstanceType": "ml.m5.large"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}


def invoke(request: dict[str, Any], error: dict[str, Any] | None = None) -> dict[str, Any]:
    event = {"action": "tuning_result", "run": RUN, "decision": {"retrain": True, "tuning": request}}
    if error is not None:
        event["error"] = error
    return lambda_handler(event, CTX)


def test_the_best_training_job_becomes_the_challenger_with_its_lineage(stack_env: dict[str, str]) -> None:
    request = tuning_request()
    name = request["HyperParameterTuningJobName"]
    sm = client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response("describe_hyper_parameter_tuning_job", described(request, "Completed", best=True),
                          {"HyperParameterTuningJobName": name})
        best = f"{name}-002-0a1b2c3d"
        stub.add_response("describe_training_job", training_job(best), {"TrainingJobName": best})
        out = invoke(request)
        stub.assert_no_pending_responses()
    assert out == {
        "jobName": best, "status": "Completed", "modelArtifacts": f"s3://b/models/{best}/output/model.tar.gz",
        "outputUri": "s3://b/models", "tuningJobName": name,
        "hyperparameters": {"l2": "0.0316", "max_iter": "57", "solver": "gd"},
        "objective": {"metric": "train:loss", "type": "Minimize", "value": 0.4125},
        "trainingJobs": {"Completed": 3, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0},
    }


@pytest.mark.parametrize(("status", "error", "failure", "why"), [
    ("Failed", {"Error": "States.TaskFailed", "Cause": "{}"}, "No training job reported the objective", "failed"),
    ("Completed", None, None, "without a best training job"),
])
def test_a_tuning_job_without_a_best_trial_fails_the_run_naming_the_metric(
        stack_env: dict[str, str], status: str, error: dict | None, failure: str | None, why: str) -> None:
    request = tuning_request()
    name = request["HyperParameterTuningJobName"]
    with Stubber(client("sagemaker")) as stub:
        stub.add_response("describe_hyper_parameter_tuning_job",
                          described(request, status, best=False, failure=failure),
                          {"HyperParameterTuningJobName": name})
        with pytest.raises(Exception) as info:
            invoke(request, error)
    assert type(info.value).__name__ == "TrainingFailed"
    message = str(info.value)
    assert name in message
    assert why in message
    assert "'train:loss'" in message
    assert "train:loss=([0-9.]+);" in message
    assert "'Failed': 3" in message  # the objective counters say why
    if failure:
        assert failure in message


def test_an_impossible_search_is_a_400_at_registration(stack_env: dict[str, str]) -> None:
    cfg = copy.deepcopy(config(maxJobs=2, maxParallelJobs=5,
                               ranges={"continuous": [{"name": "l2", "min": 2.0, "max": 1.0}]}))
    status, out = raw_call(put_event(json.dumps(cfg)))
    assert (status, out["error"]) == (400, "InvalidModelConfig")
    fields = {p.split(":", 1)[0] for p in out["details"]["problems"]}
    assert {"training.tuning.maxParallelJobs", "training.tuning.ranges.continuous.0"} <= fields
    status, out = raw_call(put_event(json.dumps(config())))
    assert status == 200, out
    assert out["config"]["training"]["tuning"]["maxJobs"] == 3


def test_the_run_is_recorded_failed_with_the_tuning_reason(stack_env: dict[str, str]) -> None:
    """What RecordFailure gets after TuningFailed: the Lambda error of the raised TrainingFailed, as Step Functions
    hands it on; the run is recorded FAILED with the metric in its reason, its lock released."""
    from driftline_common.settings import Settings
    from driftline_common.store import LockStore, RunStore

    request = tuning_request()
    with Stubber(client("sagemaker")) as stub:
        stub.add_response("describe_hyper_parameter_tuning_job",
                          described(request, "Failed", best=False, failure="No training job reported it"),
                          {"HyperParameterTuningJobName": request["HyperParameterTuningJobName"]})
        with pytest.raises(Exception) as info:
            invoke(request, {"Error": "States.TaskFailed", "Cause": "{}"})
    settings = Settings.from_env()
    RunStore(settings).start(RUN["modelId"], RUN["runId"])
    LockStore(settings).acquire(f"retrain#{RUN['modelId']}", RUN["runId"], ttl_seconds=600)
    cause = json.dumps({"errorType": "TrainingFailed", "errorMessage": str(info.value)})
    out = lambda_handler({"action": "fail", "runId": RUN["runId"], "state": {
        "run": RUN, "error": {"Error": "TrainingFailed", "Cause": cause}}}, CTX)
    assert (out["errorName"], out["lockReleased"]) == ("TrainingFailed", True)
    run = RunStore(settings).get(RUN["modelId"], RUN["runId"])
    assert run["status"] == "FAILED"
    assert run["reason"].startswith("TrainingFailed: tuning job driftline-")
    assert "objective metric 'train:loss'" in run["reason"]
