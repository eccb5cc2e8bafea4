"""A tuned retrain end to end (docs/tuning.md): with ``training.tuning`` set, the sustained breach of the
``drift`` scenario retrains through ``createHyperParameterTuningJob.sync``; the local tuner runs three trials of the
real example ``train.py`` in script mode, reads the objective from each script's log with the configured regex,
and the best trial (lowest ``train:loss``) becomes the challenger exactly as a plain training job does: scored,
registered with its tuning lineage, deployed."""

from __future__ import annotations

import json

import pytest

from .conftest import MODEL_ID, Workflow, model_config
from .test_pipeline_paths import LOCK, breach_first_window, main_line, output, s3_bytes, untar

TUNING = {
    "strategy": "Random",
    "objective": {"metric": "train:loss", "type": "Minimize", "regex": r"train:loss=([0-9.]+);"},
    "ranges": {"continuous": [{"name": "l2", "min": 0.01, "max": 30.0, "scaling": "Logarithmic"}]},
    "maxJobs": 3,
    "maxParallelJobs": 1,
    "randomSeed": 11,
}


def test_a_tuned_retrain_makes_the_best_trial_the_challenger(workflow: Workflow) -> None:
    wf = workflow
    cfg = model_config(wf.bucket)
    cfg["training"]["tuning"] = TUNING
    wf.register(cfg)
    breach_first_window(wf)
    execution = wf.run_window(11, name="day11")

    assert execution["status"] == "SUCCEEDED", execution
    states = main_line(wf, execution["executionArn"])
    assert states[states.index("ShouldRetrain"):states.index("RegisterVersion")] == [
        "ShouldRetrain", "Tune", "TuningResult", "ScoreChallenger"]
    assert "Train" not in states
    result = output(execution)
    tuning_job = result["decision"]["tuningJobName"]
    assert tuning_job.startswith("driftline-")
    assert len(tuning_job) <= 32

    # three real trials of the example script, each with its own l2 passed as SageMaker passes it
    sm = wf.client("sagemaker")
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job)["TrainingJobSummaries"]
    losses = {}
    for trial in trials:
        job = sm.describe_training_job(TrainingJobName=trial["TrainingJobName"])
        assert job["HyperParameters"]["l2"] == trial["TunedHyperParameters"]["l2"]
        assert job["HyperParameters"]["categorical"] == '"5"'  # the fixed hyperparameters stay
        reported = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        model = json.loads(untar(s3_bytes(wf, job["ModelArtifacts"]["S3ModelArtifacts"]))["model.json"])
        assert model["hyperparameters"]["l2"] == pytest.approx(float(trial["TunedHyperParameters"]["l2"]))
        losses[trial["TrainingJobName"]] = reported["train:loss"]
    assert len({round(v, 6) for v in losses.values()}) == 3  # different l2, different fits
    best_name = min(losses, key=losses.__getitem__)  # Minimize
    best = described["BestTrainingJob"]
    assert best["TrainingJobName"] == best_name
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(losses[best_name])

    # the best trial is the challenger: scored, deployed, the champion record and the run name it
    run = wf.runs()["day11"]
    assert run["training"]["jobName"] == best_name == result["decision"]["trainingJobName"]
    assert run["training"]["tuningJobName"] == tuning_job
    assert run["training"]["hyperparameters"] == best["TunedHyperParameters"]
    assert run["training"]["objective"] == {"metric": "train:loss", "type": "Minimize",
                                            "value": pytest.approx(losses[best_name])}
    assert run["comparison"]["challenger"] > run["comparison"]["champion"]
    assert result["outcome"] == "deployed"
    state = wf.model_state()
    assert state["champion"]["trainingJobName"] == state["lastTrainingJob"] == best_name
    assert state["retrains"][-1]["tuningJobName"] == tuning_job
    assert LOCK not in wf.locks()
    started = wf.events_of("Retrain Started", "day11")[0]
    assert (started["tuningJobName"], started["trainingJobName"]) == (tuning_job, None)
    assert (run["trainingJobName"], run["tuningJobName"]) == (best_name, tuning_job)

    # the registry version carries the tuning lineage: the tuning job, the best hyperparameters, the objective value
    summaries = sm.list_model_packages(ModelPackageGroupName=f"driftline-{MODEL_ID}")["ModelPackageSummaryList"]
    [challenger] = [p for p in (sm.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries)
                    if p["CustomerMetadataProperties"]["driftline:role"] == "challenger"]
    meta = challenger["CustomerMetadataProperties"]
    assert meta["driftline:trainingJob"] == best_name
    assert meta["driftline:tuningJob"] == tuning_job
    assert json.loads(meta["driftline:hyperparameters"])["l2"] == json.dumps(best["TunedHyperParameters"]["l2"])
    assert json.loads(meta["driftline:tuningObjective"])["value"] == pytest.approx(losses[best_name])
    assert challenger["InferenceSpecification"]["Containers"][0]["ModelDataUrl"].endswith(
        f"/{best_name}/output/model.tar.gz")
