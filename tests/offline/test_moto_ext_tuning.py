"""The ``sagemaker_tuning`` moto extension (samlocal.moto_ext.sagemaker_tuning) and the local tuner it runs: a
tuning job's trials are real training jobs of the fixture script; the best is picked by the objective the script
printed; no objective anywhere fails the job naming the metric."""

import boto3
import pytest
from botocore.exceptions import ClientError
from samlocal import moto_ext

from .test_moto_ext import _job, _upload_source_and_data

REGION = "us-east-1"


def _tuning(name, strategy, ranges, *, regex="train_mean_norm=([0-9.]+)", max_jobs=None, objective="Maximize"):
    job = _job("unused")
    limits = {"MaxParallelTrainingJobs": 1, **({"MaxNumberOfTrainingJobs": max_jobs} if max_jobs else {})}
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy, "ResourceLimits": limits, "ParameterRanges": ranges,
            "HyperParameterTuningJobObjective": {"Type": objective, "MetricName": "norm"},
            "TrainingJobEarlyStoppingType": "Off"},
        "TrainingJobDefinition": {
            "StaticHyperParameters": job["HyperParameters"],
            "AlgorithmSpecification": {**job["AlgorithmSpecification"],
                                       "MetricDefinitions": [{"Name": "norm", "Regex": regex}]},
            **{k: job[k] for k in ("RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                                   "StoppingCondition")}},
    }


def test_a_grid_tuning_job_runs_every_trial_and_reports_the_best(stack):
    assert "sagemaker_tuning" in moto_ext.installed()
    X = _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_hyper_parameter_tuning_job(**_tuning("driftline-grid", "Grid", {"CategoricalParameterRanges": [
        {"Name": "scale", "Values": ["1.0", "3.0"]}, {"Name": "fail", "Values": ["no", "yes"]}]}))
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-grid")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"] == {"Completed": 2, "InProgress": 0, "RetryableError": 0,
                                                      "NonRetryableError": 2, "Stopped": 0}
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 2, "Pending": 0, "Failed": 2}
    best = described["BestTrainingJob"]
    assert best["TunedHyperParameters"] == {"scale": "3.0", "fail": "no"}
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
        float(abs(X.mean(axis=0) * 3.0).sum()), abs=1e-5)
    assert best["TrainingJobName"].startswith("driftline-grid-")
    # the best trial is a real training job: its model, its hyperparameters (static + tuned)
    trained = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trained["ModelArtifacts"]["S3ModelArtifacts"].endswith(f"/{best['TrainingJobName']}/output/model.tar.gz")
    assert trained["HyperParameters"]["scale"] == "3.0"
    assert trained["HyperParameters"]["sagemaker_program"] == '"train.py"'

    listed = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="driftline-grid", SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    assert [s["TunedHyperParameters"]["scale"] for s in listed["TrainingJobSummaries"]] == ["3.0", "1.0"]
    failed = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="driftline-grid", StatusEquals="Failed")["TrainingJobSummaries"]
    assert {s["TunedHyperParameters"]["fail"] for s in failed} == {"yes"}
    assert all("asked to fail" in s["FailureReason"] for s in failed)
    page = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-grid",
                                                                MaxResults=3)
    rest = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-grid",
                                                                NextToken=page["NextToken"])
    assert len(page["TrainingJobSummaries"]) + len(rest["TrainingJobSummaries"]) == 4

    with pytest.raises(ClientError, match="cannot be stopped"):  # it ended before the create call returned
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-grid")
    with pytest.raises(ClientError, match="Could not find"):
        sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-nope")


def test_a_tuning_job_whose_objective_is_never_printed_fails_naming_the_metric(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_hyper_parameter_tuning_job(**_tuning(
        "driftline-nometric", "Random", {"ContinuousParameterRanges": [
            {"Name": "scale", "MinValue": "0.5", "MaxValue": "2.0", "ScalingType": "Linear"}]},
        regex="validation_auc=([0-9.]+)", max_jobs=2))
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="driftline-nometric")
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert "'norm'" in described["FailureReason"]
    assert "BestTrainingJob" not in described
    assert described["TrainingJobStatusCounters"]["Completed"] == 2  # the trials trained; none reported 'norm'
    assert described["ObjectiveStatusCounters"]["Failed"] == 2
