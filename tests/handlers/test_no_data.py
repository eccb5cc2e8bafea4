"""An empty window is not "healthy": ``complete`` on a window without any row ends ``no_data``, publishes its
``Evaluation Completed`` with that outcome, alerts the alerts topic, and emits ``EmptyWindows`` (per model) and
``ConsecutiveEmptyWindows`` (the streak the template's alarm watches)."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from driftline_common.config import parse_config
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore
from retrain_launcher.complete import window_is_empty
from retrain_launcher.handler import lambda_handler

from tests.conftest import REGION, load_event
from tests.handlers._support import Context, bus_recorder, drain
from tests.unit.test_training_request import CONFIG

CTX = Context()
MODEL = "example-classifier"
EMPTY_EVALUATION = {"status": "insufficient_data", "sampleSize": 0, "badRecords": {"capture": 0, "groundTruth": 0},
                    "unlabelled": 0, "metrics": {}, "thresholds": [], "breaches": [], "breached": False}
EMPTY_DRIFT = {"status": "insufficient_data", "detected": False, "driftedFeatures": [], "share": 0.0,
               "sampleSize": 0, "badRecords": 0}
NO_RETRAIN = {"retrain": False, "reasons": ["TOO_FEW_SAMPLES"], "breachStreak": 0}


@pytest.fixture
def env(stack_env: dict[str, str]) -> dict[str, Any]:
    settings = Settings.from_env()
    ModelStore(settings).put_config(parse_config(CONFIG))
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=settings.alerts_topic_arn, Protocol="sqs",
                                                      Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return {"runs": RunStore(settings), "alerts": url, "bus": bus_recorder(stack_env["EVENT_BUS_NAME"])}


def complete_event(run_id: str, evaluation: dict[str, Any], drift: dict[str, Any]) -> dict[str, Any]:
    event = load_event("retrain_launcher_complete.json")
    event["run"]["runId"] = run_id
    event["assessment"] = {"evaluation": copy.deepcopy(evaluation), "drift": copy.deepcopy(drift)}
    event["decision"] = dict(NO_RETRAIN)
    event["state"] = {"run": event["run"], "assessment": event["assessment"], "decision": event["decision"]}
    return event


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF blobs Powertools printed, single-valued metrics unwrapped (``[1.0]`` → ``1.0``)."""
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [{k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in b.items()} for b in blobs]


def alerts(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


def test_window_is_empty_only_without_any_row() -> None:
    assert window_is_empty(EMPTY_EVALUATION, EMPTY_DRIFT)
    # captured rows whose labels are late: not empty
    assert not window_is_empty({**EMPTY_EVALUATION, "unlabelled": 40}, {**EMPTY_DRIFT, "sampleSize": 40})
    # only bad records: the feed delivers something (counted as bad), not empty
    assert not window_is_empty({**EMPTY_EVALUATION, "badRecords": {"capture": 3}}, {**EMPTY_DRIFT, "badRecords": 3})
    assert not window_is_empty({**EMPTY_EVALUATION, "sampleSize": 1}, EMPTY_DRIFT)
    # nothing known: not claimed empty
    assert not window_is_empty({}, {})


def test_empty_windows_end_no_data_alert_and_count_the_streak(
    env: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    streaks = []
    for i in range(3):
        run_id = f"run-empty-{i}"
        env["runs"].start(MODEL, run_id, startedAt=f"2024-05-0{i + 1}T01:00:00Z")
        capsys.readouterr()
        out = lambda_handler(complete_event(run_id, EMPTY_EVALUATION, EMPTY_DRIFT), CTX)
        assert out["outcome"] == "no_data"
        assert out["status"] == "SUCCEEDED"
        assert env["runs"].get(MODEL, run_id)["outcome"] == "no_data"
        streaks.append(out["emptyWindowStreak"])
        blobs = emf(capsys.readouterr().out)
        per_model = [b for b in blobs if "EmptyWindows" in b]
        assert [(b["EmptyWindows"], b["modelId"]) for b in per_model] == [(1, MODEL)]
        assert [b["ConsecutiveEmptyWindows"] for b in blobs if "ConsecutiveEmptyWindows" in b] == [i + 1]
    assert streaks == [1, 2, 3]

    completed = [e["detail"] for e in drain(env["bus"]) if e["detail-type"] == "Evaluation Completed"]
    assert [(d["runId"], d["outcome"]) for d in completed] == [(f"run-empty-{i}", "no_data") for i in range(3)]
    sent = alerts(env["alerts"])
    assert [(a["runId"], a["outcome"], a["emptyWindowStreak"]) for a in sent] == [
        (f"run-empty-{i}", "no_data", i + 1) for i in range(3)]


def test_a_window_with_data_ends_the_streak_and_is_not_no_data(
    env: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    env["runs"].start(MODEL, "run-a", startedAt="2024-05-01T01:00:00Z")
    lambda_handler(complete_event("run-a", EMPTY_EVALUATION, EMPTY_DRIFT), CTX)
    with_data = load_event("retrain_launcher_complete.json")
    with_data["run"]["runId"] = "run-b"
    with_data["decision"] = dict(NO_RETRAIN)
    env["runs"].start(MODEL, "run-b", startedAt="2024-05-02T01:00:00Z")
    capsys.readouterr()
    out = lambda_handler(with_data, CTX)
    assert out["outcome"] != "no_data"
    assert "emptyWindowStreak" not in out
    blobs = emf(capsys.readouterr().out)
    assert [b["EmptyWindows"] for b in blobs if "EmptyWindows" in b] == [0]
    assert [b["ConsecutiveEmptyWindows"] for b in blobs if "ConsecutiveEmptyWindows" in b] == [0]
    env["runs"].start(MODEL, "run-c", startedAt="2024-05-03T01:00:00Z")
    assert lambda_handler(complete_event("run-c", EMPTY_EVALUATION, EMPTY_DRIFT), CTX)["emptyWindowStreak"] == 1
    assert [a["runId"] for a in alerts(env["alerts"])] == ["run-a", "run-c"]
