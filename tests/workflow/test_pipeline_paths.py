"""The pipeline's paths, end to end: the real ``template.yaml``, the unchanged ASL and the real handlers, offline.

Every test drives executions of the deployed state machine and asserts on what a user of AWS would look at:
the execution's status and its history (which states ran), the runs, locks and models tables, the objects in
S3, SageMaker (training jobs, the endpoint), the events published on the Driftline bus (received by an SQS
queue through a rule, as any consumer would) and the alerts topic.

Traffic: day 10 and day 11 of the ``drift`` scenario of ``driftline_examples.traffic`` (drift is complete by
then), scored by a champion trained on the undrifted population, breach the config's thresholds
(``roc_auc >= 0.8``, ``accuracy >= 0.75``); with ``consecutiveBreaches: 2`` the first window is not enough and
the second one retrains. The ``stable`` scenario is the same traffic without drift.
"""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest
from boto3.dynamodb.types import TypeSerializer
from driftline_common.datasets import read_dataset_text
from driftline_common.store import to_ddb
from driftline_examples import traffic
from driftline_examples.classifier import inference
from sklearn.metrics import accuracy_score, roc_auc_score

from tests.conftest import load_event

from .conftest import CHAMPION_MODEL, ENDPOINT, MODEL_ID, ROWS_PER_DAY, Workflow, day_files

LOCK = f"retrain#{MODEL_ID}"
#: the states of the main line (branch states of the Parallel ``Assess`` are listed apart)
BRANCH_STATES = {"Evaluate", "CheckDrift"}
#: the Choice each branch starts with (unsharded runs go on to Evaluate / CheckDrift)
BRANCH_CHOICES = {"EvaluateSharded", "CheckDriftSharded"}
RETRAIN_AND_DEPLOY = [
    "StartRun", "IsDuplicate", "Assess", "Monitor", "Decide", "ShouldRetrain", "Train", "ScoreChallenger",
    "RegisterVersion", "ShouldPromote", "ChooseRemedy", "Deploy", "WaitForDeployment", "CheckDeployment", "IsDeployed",
    "RefreshBaseline", "Complete", "Report", "Succeeded",
]
NO_RETRAIN = ["StartRun", "IsDuplicate", "Assess", "Monitor", "Decide", "ShouldRetrain", "Complete", "Report",
              "Succeeded"]
FAILURE_TAIL = ["RecordFailure", "NotifyFailure", "PublishRunFailed", "ReportFailure", "FailureRecorded",
                "RunFailed"]


def main_line(wf: Workflow, arn: str) -> list[str]:
    return [s for s in wf.states(arn) if s not in BRANCH_STATES | BRANCH_CHOICES]


def output(execution: dict) -> dict:
    return json.loads(execution.get("output") or "null")


def breach_first_window(wf: Workflow) -> dict:
    """Day 10 of drift: breached and drifted, but one window is not a sustained breach (no retrain)."""
    wf.write_day("drift", 10)
    wf.write_day("drift", 11)
    first = wf.run_window(10, name="day10")
    assert first["status"] == "SUCCEEDED", first
    decision = output(first)["decision"]
    assert decision["retrain"] is False
    assert decision["reasons"][-1] == "BREACH_NOT_SUSTAINED"
    assert "PERFORMANCE_BREACH" in decision["reasons"]
    assert wf.training_jobs() == []
    return first


def untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def s3_bytes(wf: Workflow, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return wf.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


# ---------------------------------------------------------------------------------------------------- 1
def test_sustained_breach_retrains_scores_the_challenger_and_deploys_it(workflow: Workflow) -> None:
    wf = workflow
    breach_first_window(wf)
    execution = wf.run_window(11, name="day11")

    assert execution["status"] == "SUCCEEDED", execution
    arn = execution["executionArn"]
    assert main_line(wf, arn) == RETRAIN_AND_DEPLOY
    assert set(wf.states(arn)) >= BRANCH_STATES
    result = output(execution)
    assert result["outcome"] == "deployed"
    # the new champion's training set became the drift baseline
    assert result["baselineRefresh"]["status"] == "REFRESHED"
    source = result["baselineRefresh"]["source"]
    assert "/train" in source
    baseline_uri = result["baselineRefresh"]["baselineUri"]
    bucket, key = baseline_uri[5:].split("/", 1)
    baseline = json.loads(wf.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert baseline["source"] == source
    assert result["decision"]["retrain"] is True
    assert result["decision"]["breachStreak"] == 2
    assert {"PERFORMANCE_BREACH", "DATASET_DRIFT"} <= set(result["decision"]["reasons"])

    # the champion's metrics on the window, against scikit-learn on the same rows
    _, _, y11, champion_scores = day_files("drift", 11)
    assert result["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y11, champion_scores), abs=1e-9)
    assert result["metrics"]["accuracy"] == pytest.approx(accuracy_score(y11, champion_scores > 0.5), abs=1e-9)

    # one real training job, on the previous window's rows, evaluated on this window's rows
    job_name = result["decision"]["trainingJobName"]
    assert wf.training_jobs() == [job_name]
    job = wf.client("sagemaker").describe_training_job(TrainingJobName=job_name)
    assert job["TrainingJobStatus"] == "Completed"
    run = wf.runs()["day11"]
    assert wf.events_of("Retrain Started", "day11")[0]["trainRows"] == ROWS_PER_DAY
    evaluation_channel = wf.get_text(f"training-data/{MODEL_ID}/day11/evaluation/evaluation.csv").splitlines()
    assert len(evaluation_channel) == ROWS_PER_DAY + 1  # header + the window's rows, labels withheld
    assert evaluation_channel[0] == "inference_id,f0,f1,f2,f3,f4,f5"
    model_json = json.loads(untar(s3_bytes(wf, job["ModelArtifacts"]["S3ModelArtifacts"]))["model.json"])

    # the comparison: both models on the same rows; the challenger wins
    comparison = run["comparison"]
    assert comparison["promote"] is True
    assert comparison["champion"] == pytest.approx(roc_auc_score(y11, champion_scores), abs=1e-9)
    X11 = traffic.day(11, ROWS_PER_DAY, traffic.DRIFT).X
    challenger_scores = inference.predict_fn(X11, model_json)
    assert comparison["challenger"] == pytest.approx(roc_auc_score(y11, challenger_scores), abs=1e-6)
    assert comparison["challenger"] > comparison["champion"]

    # the endpoint now serves the challenger
    deployment = result["deployment"]
    assert deployment["status"] == "InService"
    assert deployment["previousEndpointConfigName"] == CHAMPION_MODEL
    endpoint = wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == deployment["endpointConfigName"] != CHAMPION_MODEL
    served = wf.invoke_endpoint(X11[:5])
    np.testing.assert_allclose(served, challenger_scores[:5], rtol=1e-9)
    assert not np.allclose(served, champion_scores[:5])

    # champion and previous champion recorded; the run recorded; the lock released
    state = wf.model_state()
    assert state["champion"]["modelName"] == deployment["modelName"]
    assert state["champion"]["version"] == 2
    assert state["previousChampion"]["modelName"] == CHAMPION_MODEL
    assert state["lastTrainingJob"] == job_name
    assert run["status"] == "SUCCEEDED"
    assert run["outcome"] == "deployed"
    assert LOCK not in wf.locks()

    # the Model Registry: the initial champion (v1) and this run's challenger (v2), deployed from its package
    sm = wf.client("sagemaker")
    summaries = sm.list_model_packages(ModelPackageGroupName=f"driftline-{MODEL_ID}")["ModelPackageSummaryList"]
    packages = {p["ModelPackageVersion"]: p for p in (sm.describe_model_package(ModelPackageName=s["ModelPackageArn"])
                                                      for s in summaries)}
    assert sorted(packages) == [1, 2]
    assert packages[1]["ModelApprovalStatus"] == packages[2]["ModelApprovalStatus"] == "Approved"
    assert packages[1]["CustomerMetadataProperties"]["driftline:role"] == "champion"
    lineage = packages[2]["CustomerMetadataProperties"]
    assert (lineage["driftline:trainingJob"], lineage["driftline:deployedBy"]) == (job_name, "day11")
    assert lineage["driftline:comparisonUri"] == comparison["resultUri"]
    model = sm.describe_model(ModelName=deployment["modelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == packages[2]["ModelPackageArn"]
    assert state["champion"]["modelPackageArn"] == packages[2]["ModelPackageArn"]

    # S3: the run's results and the model artifacts
    prefix = f"runs/{MODEL_ID}/day11/"
    assert {f"{prefix}{n}" for n in ("evaluation.json", "drift.json", "dataset.csv", "comparison.json")} <= set(
        wf.keys(prefix))
    assert f"models/{MODEL_ID}/{job_name}/output/output.tar.gz" in wf.keys(f"models/{MODEL_ID}/{job_name}/")

    # the events of the run, in order
    published = [e["detail-type"] for e in wf.events() if e["detail"].get("runId") == "day11"]
    expected = ["Retrain Decision", "Retrain Started", "Challenger Evaluated", "Model Deployed", "Evaluation Completed"]
    assert [t for t in published if t in expected] == expected
    assert wf.events_of("Retrain Started", "day11")[0]["trainingJobName"] == job_name
    assert wf.events_of("Model Deployed", "day11")[0]["version"] == 2
    assert wf.events_of("Run Failed") == []
    assert wf.alerts() == []


# ---------------------------------------------------------------------------------------------------- 2
def test_healthy_window_succeeds_without_retraining(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("stable", 10)
    execution = wf.run_window(10, name="stable10")

    assert execution["status"] == "SUCCEEDED", execution
    assert main_line(wf, execution["executionArn"]) == NO_RETRAIN
    result = output(execution)
    _, _, y, scores = day_files("stable", 10)
    assert roc_auc_score(y, scores) >= 0.8  # the premise: the champion is healthy on undrifted traffic
    assert result["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-9)
    assert result["decision"] == {"retrain": False, "reasons": ["HEALTHY"], "breachStreak": 0, "evidence": {}}
    assert result["outcome"] == "healthy"
    assert result["drift"]["detected"] is False
    assert wf.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
    assert wf.keys(f"training-data/{MODEL_ID}/stable10") == []
    assert LOCK not in wf.locks()
    run = wf.runs()["stable10"]
    assert (run["status"], run["outcome"], run["breached"]) == ("SUCCEEDED", "healthy", False)
    assert wf.model_state()["champion"]["modelName"] == CHAMPION_MODEL
    decision_events = wf.events_of("Retrain Decision", "stable10")
    assert [(d["retrain"], d["reasons"]) for d in decision_events] == [(False, ["HEALTHY"])]
    assert wf.events_of("Retrain Started") == []
    assert len(wf.events_of("Evaluation Completed", "stable10")) == 1


# ---------------------------------------------------------------------------------------------------- 3
def _corrupt_previous_window(wf: Workflow) -> None:
    """A broken export: the previous window's labelled dataset (the next training set) gets a non-number."""
    key = f"runs/{MODEL_ID}/day10/dataset.csv"
    def get(uri: str) -> bytes:
        return bytes(wf.client("s3").get_object(Bucket=wf.bucket, Key=uri.partition(f"{wf.bucket}/")[2])["Body"].read())

    lines = read_dataset_text(f"s3://{wf.bucket}/{key}", get).splitlines()  # kept as columns until first read
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("f0")] = "n/a"
    lines[1] = ",".join(cells)
    wf.put(key, "\n".join(lines) + "\n")


def test_failed_training_job_fails_the_run_releases_the_lock_and_keeps_the_champion(workflow: Workflow) -> None:
    wf = workflow
    breach_first_window(wf)
    _corrupt_previous_window(wf)
    execution = wf.run_window(11, name="day11")

    assert execution["status"] == "FAILED"
    states = main_line(wf, execution["executionArn"])
    assert states[-7:] == ["Train", *FAILURE_TAIL]
    assert "ScoreChallenger" not in states
    assert "Deploy" not in states

    # the job ran the script, which failed with its reason
    jobs = wf.training_jobs()
    assert len(jobs) == 1
    job = wf.client("sagemaker").describe_training_job(TrainingJobName=jobs[0])
    assert job["TrainingJobStatus"] == "Failed"
    assert "non-numeric value 'n/a'" in job["FailureReason"]

    # recorded FAILED with the reason, lock released, champion untouched
    run = wf.runs()["day11"]
    assert run["status"] == "FAILED"
    assert run["reason"].startswith("States.TaskFailed")
    assert "non-numeric value 'n/a'" in run["reason"]
    assert LOCK not in wf.locks()
    state = wf.model_state()
    assert state["champion"]["modelName"] == CHAMPION_MODEL
    assert "previousChampion" not in state
    endpoint = wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == CHAMPION_MODEL

    # Run Failed on the bus, and the alerts topic notified
    failed = wf.events_of("Run Failed", "day11")
    assert len(failed) == 1
    assert failed[0]["modelId"] == MODEL_ID
    assert failed[0]["error"] == "States.TaskFailed"
    alerts = [json.loads(a["Message"]) if "Message" in a else a for a in wf.alerts()]
    assert [a["runId"] for a in alerts] == ["day11"]
    assert alerts[0]["error"]["Error"] == "States.TaskFailed"
    assert wf.events_of("Model Deployed") == []




def test_failed_execution_reports_the_step_error_and_cause(workflow: Workflow) -> None:
    wf = workflow
    breach_first_window(wf)
    _corrupt_previous_window(wf)
    execution = wf.run_window(11, name="day11")

    assert execution["status"] == "FAILED"
    # the reserved States.TaskFailed of the .sync task is re-raised as the domain error TrainingFailed,
    # with the job's own failure reason as the cause
    assert execution["error"] == "TrainingFailed"
    assert execution["cause"].startswith("States.TaskFailed: job ")
    assert "ClientError" in execution["cause"]


# ---------------------------------------------------------------------------------------------------- 4
def test_duplicate_trigger_is_handled_by_exactly_one_run(workflow: Workflow) -> None:
    wf = workflow
    breach_first_window(wf)
    end = traffic.day_start(12)
    wf.clock.set(end)
    # the canonical sample (events/trigger_run_requested.json) on the stack's bus, with the source tick's id
    sample = load_event("trigger_run_requested.json")
    assert sample["detail"]["modelId"] == MODEL_ID
    trigger = {"type": "schedule", "id": "tick-2026-01-17", "time": "2026-01-17T00:00:00Z"}
    entry = {
        "EventBusName": wf.stack.resource("EventBus"), "Source": sample["source"],
        "DetailType": sample["detail-type"], "Resources": sample["resources"],
        "Detail": {**sample["detail"], "trigger": trigger},
    }
    arns = []
    for _ in range(2):  # EventBridge delivers at least once: the same trigger arrives twice
        before = len(wf.stack.runtime.started_executions)
        assert wf.stack.put_events([entry])["FailedEntryCount"] == 0
        new = wf.stack.runtime.started_executions[before:]
        assert len(new) == 1
        arns.append(new[0])
        assert wf.stack.wait_execution(new[0], timeout=60)["status"] == "SUCCEEDED"

    first, second = (main_line(wf, a) for a in arns)
    assert first == RETRAIN_AND_DEPLOY
    assert second == ["StartRun", "IsDuplicate", "DuplicateTrigger"]
    duplicate_run = output(wf.stack.wait_execution(arns[1]))["run"]
    first_name = arns[0].rsplit(":", 1)[-1]
    assert duplicate_run["duplicate"] is True
    assert duplicate_run["duplicateOf"] == first_name
    assert len(wf.training_jobs()) == 1
    runs = wf.runs()
    assert first_name in runs
    assert arns[1].rsplit(":", 1)[-1] not in runs
    assert wf.locks()[f"trigger#{MODEL_ID}#tick-2026-01-17"]["owner"] == first_name
    assert LOCK not in wf.locks()
    assert len(wf.events_of("Retrain Started")) == 1


# ---------------------------------------------------------------------------------------------------- 5
def test_domain_error_in_a_handler_is_caught_and_the_run_recorded_failed(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("drift", 10)
    baseline_key = wf.config["baselineUri"].split("/", 3)[3]
    wf.client("s3").delete_object(Bucket=wf.bucket, Key=baseline_key)
    execution = wf.run_window(10, name="nobaseline")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "BaselineNotFound"
    assert wf.config["baselineUri"] in execution["cause"]
    states = main_line(wf, execution["executionArn"])
    assert states == ["StartRun", "IsDuplicate", "Assess", *FAILURE_TAIL]
    run = wf.runs()["nobaseline"]
    assert run["status"] == "FAILED"
    assert run["reason"].startswith(f"BaselineNotFound: no drift baseline for model '{MODEL_ID}'")
    assert run["error"]["Error"] == "BaselineNotFound"
    assert LOCK not in wf.locks()
    assert wf.training_jobs() == []
    assert wf.events_of("Retrain Decision") == []
    failed = wf.events_of("Run Failed", "nobaseline")
    assert [(f["modelId"], f["error"]) for f in failed] == [(MODEL_ID, "BaselineNotFound")]
    alerts = [json.loads(a["Message"]) if "Message" in a else a for a in wf.alerts()]
    assert [(a["runId"], a["error"]["Error"]) for a in alerts] == [("nobaseline", "BaselineNotFound")]


# ---------------------------------------------------------------------------------------------------- 6
def test_invalid_stored_config_fails_at_start_run_with_nothing_half_done(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("drift", 10)
    corrupted = {**wf.config, "windowHours": 0, "thresholds": [{"metric": "roc_auc"}]}
    ser = TypeSerializer()
    item = {"modelId": MODEL_ID, "kind": "CONFIG", "version": 2, "updatedAt": "2026-01-16T00:00:00Z",
            "config": to_ddb(corrupted)}
    wf.client("dynamodb").put_item(TableName=wf.table("ModelsTable"),
                                   Item={k: ser.serialize(v) for k, v in item.items()})
    execution = wf.run_window(10, name="badconfig")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "InvalidModelConfig"
    # the execution's cause is the recorded reason: "<Error>: <message>"
    message = execution["cause"]
    assert message.startswith("InvalidModelConfig: ")
    assert f"invalid config for model '{MODEL_ID}'" in message
    assert "windowHours" in message
    assert "roc_auc" in message
    assert main_line(wf, execution["executionArn"]) == ["StartRun", *FAILURE_TAIL]

    # nothing half-done: no assessment, no training data or job, no lock, no trigger claim, champion in place
    # only the failed run's report (it says why the run failed); no evaluation, drift or window artifacts
    assert sorted(wf.keys(f"runs/{MODEL_ID}/")) == [f"runs/{MODEL_ID}/badconfig/report.html",
                                                   f"runs/{MODEL_ID}/badconfig/report.json"]
    assert wf.keys(f"training-data/{MODEL_ID}/badconfig") == []
    assert wf.training_jobs() == []
    assert wf.locks() == {}
    assert wf.model_state()["champion"]["modelName"] == CHAMPION_MODEL
    run = wf.runs()["badconfig"]
    assert run["status"] == "FAILED"
    assert run["reason"].startswith("InvalidModelConfig: invalid config")
    assert [e["detail-type"] for e in wf.events()] == ["Run Failed"]
    assert wf.events_of("Run Failed")[0]["error"] == "InvalidModelConfig"
