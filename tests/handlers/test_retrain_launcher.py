"""retrain_launcher under moto, driven by the canonical events/ files."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from driftline_common.config import parse_config
from driftline_common.errors import InvalidEvent, InvalidModelConfig, ModelNotFound
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, iso
from retrain_launcher.handler import lambda_handler

from tests.conftest import REGION, load_event
from tests.handlers._support import Context, bus_recorder, drain
from tests.unit.test_training_request import CONFIG

CTX = Context()
MODEL = "example-classifier"
FEATURES = [f["name"] for f in CONFIG["features"]]


@pytest.fixture
def stores(stack_env: dict[str, str]) -> dict[str, Any]:
    settings = Settings.from_env()
    models = ModelStore(settings)
    models.put_config(parse_config(CONFIG))
    return {"models": models, "runs": RunStore(settings), "locks": LockStore(settings), "settings": settings}


@pytest.fixture
def bus_log(stack_env: dict[str, str]) -> str:
    return bus_recorder(stack_env["EVENT_BUS_NAME"])


def published(url: str) -> list[dict[str, Any]]:
    return drain(url)


def dataset_csv(ids: list[str], *, label_offset: int = 0) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["inference_id", "label", "score", *FEATURES])
    for i, rid in enumerate(ids):
        w.writerow([rid, (i + label_offset) % 2, 0.5, *[f"{rid}-{f}" for f in FEATURES]])
    return out.getvalue()


def put(uri: str, text: str) -> None:
    bucket, _, key = uri[5:].partition("/")
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=text.encode())


def get(uri: str) -> str:
    bucket, _, key = uri[5:].partition("/")
    return boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def record_past_window(runs: RunStore, days_ago: int, *, breached: bool, n_rows: int = 3) -> str:
    end = datetime(2024, 5, 1, tzinfo=UTC) - timedelta(days=days_ago - 1)
    run_id = f"past-{days_ago}"
    uri = f"s3://driftline-test-data/runs/{MODEL}/{run_id}/dataset.csv"
    put(uri, dataset_csv([f"{run_id}-{i}" for i in range(n_rows)]))
    runs.start(MODEL, run_id, startedAt=iso(end + timedelta(minutes=5)),
               window={"start": iso(end - timedelta(days=1)), "end": iso(end)})
    runs.update(MODEL, run_id, status="SUCCEEDED", breached=breached, driftDetected=False, sampleSize=1000,
                datasetUri=uri)
    return run_id


# ------------------------------------------------------------------------------------------------ start_run
def test_start_run_from_envelope_records_the_run(stores: dict[str, Any]) -> None:
    event = load_event("retrain_launcher_start_run.json")
    run = lambda_handler(event, CTX)
    assert run["duplicate"] is False
    assert run["runId"] == event["runId"]
    assert run["trigger"]["id"] == event["request"]["detail"]["trigger"]["id"]
    # the trigger time 00:05 floored to the hour, windowHours 24 before
    assert run["window"] == {"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}
    stored = stores["runs"].get(MODEL, event["runId"])
    assert stored["status"] == "RUNNING"
    assert stored["executionArn"] == event["executionArn"]
    assert stored["startedAt"] == "2024-05-02T00:05:01Z"


def test_redelivered_trigger_is_a_duplicate_with_one_run_record(stores: dict[str, Any]) -> None:
    first = load_event("retrain_launcher_start_run.json")
    second = copy.deepcopy(first)
    second["runId"] = "another-execution"
    second["request"]["id"] = "a-new-envelope-id"  # the router re-published the same source event
    assert lambda_handler(first, CTX)["duplicate"] is False
    again = lambda_handler(second, CTX)
    assert again["duplicate"] is True
    assert again["duplicateOf"] == first["runId"]
    assert [r["runId"] for r in stores["runs"].list(MODEL)] == [first["runId"]]
    # a retried start of the same execution is not a duplicate of itself
    assert lambda_handler(first, CTX)["duplicate"] is False


def test_direct_request_with_window_end(stores: dict[str, Any]) -> None:
    event = load_event("retrain_launcher_start_run.json")
    event["request"] = {"modelId": MODEL, "windowEnd": "2024-04-01T12:00:00Z",
                        "trigger": {"type": "manual", "id": "t-1", "time": "2024-04-02T00:00:00Z"}}
    run = lambda_handler(event, CTX)
    assert run["window"] == {"start": "2024-03-31T12:00:00Z", "end": "2024-04-01T12:00:00Z"}
    assert run["configVersion"] == 1


BAD_REQUESTS = [
    ({"modelId": "nope", "trigger": {"type": "manual", "id": "x", "time": "2024-01-01T00:00:00Z"}}, ModelNotFound),
    ({"trigger": {"type": "manual", "id": "x"}}, InvalidEvent),
    ({"modelId": MODEL, "trigger": {"type": "carrier-pigeon", "id": "x"}}, InvalidEvent),
    ({"modelId": MODEL, "windowEnd": "yesterday"}, InvalidEvent),
]


def test_start_run_bad_input(stores: dict[str, Any]) -> None:
    for request_, error in BAD_REQUESTS:
        event = {**load_event("retrain_launcher_start_run.json"), "request": request_}
        with pytest.raises(error):
            lambda_handler(event, CTX)
    assert stores["runs"].list(MODEL) == []


def test_start_run_invalid_stored_config(stores: dict[str, Any]) -> None:
    table = boto3.resource("dynamodb", region_name=REGION).Table(stores["settings"].models_table)
    table.update_item(Key={"modelId": MODEL, "kind": "CONFIG"}, UpdateExpression="SET config.windowHours = :v",
                      ExpressionAttributeValues={":v": 0})
    with pytest.raises(InvalidModelConfig, match="windowHours"):
        lambda_handler(load_event("retrain_launcher_start_run.json"), CTX)


def test_unknown_action() -> None:
    with pytest.raises(InvalidEvent, match="unknown action"):
        lambda_handler({"action": "dance"}, CTX)


# ------------------------------------------------------------------------------------------------ decide
def _decide_setup(stores: dict[str, Any]) -> dict[str, Any]:
    event = load_event("retrain_launcher_decide.json")
    put(event["assessment"]["evaluation"]["datasetUri"], dataset_csv(["cur-0", "cur-1"]))
    return event


def test_decide_retrains_on_a_sustained_breach(stores: dict[str, Any], bus_log: str) -> None:
    event = _decide_setup(stores)
    past = [record_past_window(stores["runs"], d, breached=(d == 1)) for d in (1, 2, 3, 4)]  # 4 is out of range
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is True
    assert decision["reasons"] == ["PERFORMANCE_BREACH", "DATASET_DRIFT"]
    assert decision["breachStreak"] == 2
    request = decision["training"]
    run_id = event["run"]["runId"]
    assert request["RoleArn"] == stores["settings"].sagemaker_role_arn
    base = f"{CONFIG['training']['trainingDataUri']}/{run_id}"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}
    assert channels == {"train": f"{base}/train/", "evaluation": f"{base}/evaluation/"}
    # train: the 3 previous windows (trainingWindowDays=3), label first, no header, config order
    rows = list(csv.reader(io.StringIO(get(f"{base}/train/train.csv"))))
    assert len(rows) == 9
    assert {r[1].split("-f0")[0].rsplit("-", 1)[0] for r in rows} == set(past[:3])
    assert all(r[1:] == [f"{r[1].rsplit('-', 1)[0]}-{f}" for f in FEATURES] for r in rows)
    ev_rows = list(csv.reader(io.StringIO(get(f"{base}/evaluation/evaluation.csv"))))
    assert ev_rows[0] == ["inference_id", *FEATURES]
    assert [r[0] for r in ev_rows[1:]] == ["cur-0", "cur-1"]
    # the lock, the retrain record, the events
    assert stores["locks"].holder(f"retrain#{MODEL}") == run_id
    assert [r["runId"] for r in stores["models"].get_state(MODEL)["retrains"]] == [run_id]
    kinds = [e["detail-type"] for e in published(bus_log)]
    assert kinds == ["Retrain Decision", "Retrain Started"]
    # a retried decide neither locks itself out nor records the retrain twice nor cools itself down
    assert lambda_handler(event, CTX)["retrain"] is True
    assert len(stores["models"].get_state(MODEL)["retrains"]) == 1


def test_decide_noise_does_not_retrain(stores: dict[str, Any], bus_log: str) -> None:
    event = _decide_setup(stores)
    record_past_window(stores["runs"], 1, breached=False)
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is False
    assert decision["training"] is None
    assert "BREACH_NOT_SUSTAINED" in decision["reasons"]
    assert stores["locks"].holder(f"retrain#{MODEL}") is None
    [ev] = published(bus_log)
    assert ev["detail-type"] == "Retrain Decision"
    assert ev["detail"]["reasons"] == decision["reasons"]


def test_decide_lock_held_by_another_run(stores: dict[str, Any]) -> None:
    event = _decide_setup(stores)
    record_past_window(stores["runs"], 1, breached=True)
    stores["locks"].acquire(f"retrain#{MODEL}", "other-run", ttl_seconds=3600)
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is False
    assert decision["reasons"][-1] == "LOCK_HELD"
    assert decision["lockHolder"] == "other-run"
    assert stores["locks"].holder(f"retrain#{MODEL}") == "other-run"


def test_decide_without_training_data_releases_the_lock(stores: dict[str, Any]) -> None:
    event = _decide_setup(stores)
    end = datetime(2024, 5, 1, tzinfo=UTC)  # a breached earlier window whose dataset is gone
    stores["runs"].start(MODEL, "gone", startedAt=iso(end), window={"start": iso(end - timedelta(days=1)),
                                                                     "end": iso(end)})
    stores["runs"].update(MODEL, "gone", status="SUCCEEDED", breached=True, sampleSize=1000,
                          datasetUri="s3://driftline-test-data/runs/gone.csv")
    decision = lambda_handler(event, CTX)
    assert decision["reasons"][-1] == "NO_TRAINING_DATA"
    assert decision["retrain"] is False
    assert stores["locks"].holder(f"retrain#{MODEL}") is None


def test_decide_bad_input(stores: dict[str, Any]) -> None:
    event = load_event("retrain_launcher_decide.json")
    del event["run"]["window"]
    with pytest.raises(InvalidEvent, match="window"):
        lambda_handler(event, CTX)


# ---------------------------------------------------------------------------------- approval, complete, fail
def test_request_approval_stores_the_token_and_notifies(stores: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=stores_topic(), Protocol="sqs", Endpoint=arn)
    event = load_event("retrain_launcher_request_approval.json")
    stores["runs"].start(MODEL, event["run"]["runId"])
    out = lambda_handler(event, CTX)
    assert out["notified"] is True
    run = stores["runs"].get(MODEL, event["run"]["runId"])
    assert run["approvalToken"] == event["taskToken"]
    assert run["approval"]["status"] == "PENDING"
    [msg] = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert json.loads(json.loads(msg["Body"])["Message"])["runId"] == event["run"]["runId"]


def stores_topic() -> str:
    import os

    return os.environ["ALERTS_TOPIC_ARN"]


def test_complete_deployed_records_champion_and_releases_lock(stores: dict[str, Any], bus_log: str) -> None:
    event = load_event("retrain_launcher_complete.json")
    run_id = event["run"]["runId"]
    stores["runs"].start(MODEL, run_id)
    stores["locks"].acquire(f"retrain#{MODEL}", run_id, ttl_seconds=3600)
    stores["models"].put_state(MODEL, {"champion": {"modelName": "initial-model"}})
    result = lambda_handler(event, CTX)
    assert result["outcome"] == "deployed"
    assert result["status"] == "SUCCEEDED"
    state = stores["models"].get_state(MODEL)
    assert state["champion"]["modelName"] == event["state"]["deployment"]["modelName"]
    assert state["previousChampion"]["modelName"] == "initial-model"
    assert state["trainingDataEnd"] == event["run"]["window"]["start"]
    assert state["lastTrainingJob"] == event["state"]["training"]["jobName"]
    run = stores["runs"].get(MODEL, run_id)
    assert (run["status"], run["breached"], run["driftDetected"], run["sampleSize"]) == ("SUCCEEDED", True, True, 800)
    assert run["metrics"] == event["assessment"]["evaluation"]["metrics"]
    assert run["datasetUri"] == event["assessment"]["evaluation"]["datasetUri"]
    assert stores["locks"].holder(f"retrain#{MODEL}") is None
    [ev] = published(bus_log)
    assert ev["detail-type"] == "Evaluation Completed"
    assert ev["detail"]["outcome"] == "deployed"


OUTCOMES = [
    (lambda e: e["state"]["deployment"].update(status="RolledBack"), "rolled_back"),
    (lambda e: e["state"].update(approval={"approved": False}), "rejected"),
    (lambda e: e["state"].pop("deployment"), "champion_kept"),
    (lambda e: e.update(decision={"retrain": False, "reasons": ["HEALTHY"]}), "healthy"),
    (lambda e: e.update(decision={"retrain": False, "reasons": ["PERFORMANCE_BREACH", "COOLDOWN"]}), "retrain_skipped"),
]


def test_complete_outcomes(stores: dict[str, Any]) -> None:
    for mutate, outcome in OUTCOMES:
        event = load_event("retrain_launcher_complete.json")
        mutate(event)
        event["run"]["runId"] = f"run-{outcome}"
        stores["runs"].start(MODEL, event["run"]["runId"])
        assert lambda_handler(event, CTX)["outcome"] == outcome
        assert stores["runs"].get(MODEL, event["run"]["runId"])["outcome"] == outcome
    assert "champion" not in stores["models"].get_state(MODEL)


def test_fail_records_reason_and_releases_own_lock(stores: dict[str, Any]) -> None:
    event = load_event("retrain_launcher_fail.json")
    run_id = event["runId"]
    stores["runs"].start(MODEL, run_id)
    stores["locks"].acquire(f"retrain#{MODEL}", run_id, ttl_seconds=3600)
    out = lambda_handler(event, CTX)
    assert out == {"modelId": MODEL, "runId": run_id, "lockReleased": True, "errorName": "TrainingFailed",
                   "reason": "TrainingFailed: training job example failed: AlgorithmError", "deployed": False}
    run = stores["runs"].get(MODEL, run_id)
    assert (run["status"], run["reason"]) == ("FAILED", out["reason"])
    assert stores["locks"].holder(f"retrain#{MODEL}") is None


def test_fail_keeps_another_runs_lock_and_tolerates_partial_state(stores: dict[str, Any]) -> None:
    stores["locks"].acquire(f"retrain#{MODEL}", "other-run", ttl_seconds=3600)
    # StartRun itself failed: the state is the raw pipeline input, no run record exists yet
    event = {"action": "fail", "runId": "exec-9", "state": {"modelId": MODEL, "error": {"Error": "States.Timeout"}},
             "error": {"Error": "States.Timeout"}}
    out = lambda_handler(event, CTX)
    assert out["reason"] == "States.Timeout"
    assert out["errorName"] == "RunTimedOut"  # a Fail state may not re-raise the reserved States.* names
    assert stores["runs"].get(MODEL, "exec-9")["status"] == "FAILED"
    assert stores["locks"].holder(f"retrain#{MODEL}") == "other-run"
    # nothing known at all: no record, no error
    assert lambda_handler({"action": "fail", "state": {}}, CTX)["modelId"] is None
