"""The HTTP API under moto, one canonical API Gateway v2.0 event per route.

Step Functions calls (StartExecution, SendTaskSuccess) go through botocore's Stubber, which checks each
request against the service model; everything else is moto.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from api.handler import lambda_handler
from botocore.stub import ANY, Stubber
from driftline_common.aws import client
from driftline_common.settings import Settings
from driftline_common.store import RunStore

from tests.conftest import load_event
from tests.handlers._support import Context

CTX = Context()
SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:driftline-test-pipeline"
RUN = "run-2024-05-02-0001"


def call(name: str, **changes: Any) -> tuple[int, dict[str, Any]]:
    event = load_event(name) if isinstance(name, str) else name
    event.update(changes)
    resp = lambda_handler(event, CTX)
    return resp["statusCode"], json.loads(resp["body"])


@pytest.fixture
def api(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("STATE_MACHINE_ARN", SM_ARN)
    status, body = call("api_put_model.json")
    assert status == 200, body
    return stack_env


def test_models_routes(api: dict[str, str]) -> None:
    status, body = call("api_put_model.json")
    assert (status, body["version"]) == (200, 2)
    status, body = call("api_get_model.json")
    assert status == 200
    assert body["config"]["modelId"] == "example-classifier"
    assert body["version"] == 2
    assert call("api_list_models.json") == (200, {"models": ["example-classifier"]})
    missing = load_event("api_get_model.json")
    missing["pathParameters"] = {"modelId": "nope"}
    missing["rawPath"] = missing["requestContext"]["http"]["path"] = "/models/nope"
    status, body = call(missing)
    assert (status, body["error"]) == (404, "ModelNotFound")


def test_invalid_config_lists_every_problem(api: dict[str, str]) -> None:
    event = load_event("api_put_model.json")
    cfg = json.loads(event["body"])
    cfg["windowHours"] = 0
    cfg["features"] = []
    event["body"] = json.dumps(cfg)
    status, body = call(event)
    assert (status, body["error"]) == (400, "InvalidModelConfig")
    assert any(p.startswith("windowHours") for p in body["details"]["problems"])
    assert any(p.startswith("features") for p in body["details"]["problems"])
    event["body"] = "{not json"
    status, body = call(event)
    assert (status, body["error"]) == (400, "InvalidRequest")


def test_runs_routes(api: dict[str, str]) -> None:
    runs = RunStore(Settings.from_env())
    runs.start("example-classifier", "older", startedAt="2024-05-01T00:05:00Z",
               window={"start": "2024-04-30T00:00:00Z", "end": "2024-05-01T00:00:00Z"})
    runs.update("example-classifier", "older", status="SUCCEEDED", metrics={"roc_auc": 0.9}, sampleSize=700)
    runs.start("example-classifier", RUN, startedAt="2024-05-02T00:05:00Z",
               window={"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"})
    runs.update("example-classifier", RUN, metrics={"roc_auc": 0.7}, sampleSize=800, approvalToken="secret",
                approval={"status": "PENDING"}, evaluationUri="s3://driftline-test-data/runs/x/evaluation.json")
    status, body = call("api_list_runs.json")
    assert status == 200
    assert [(r["runId"], r["status"]) for r in body["runs"]] == [(RUN, "RUNNING"), ("older", "SUCCEEDED")]
    status, body = call("api_get_run.json")
    assert status == 200
    assert body["evaluationUri"].startswith("s3://")
    assert "approvalToken" not in body
    status, body = call("api_get_metrics.json")
    assert [(p["runId"], p["metrics"]["roc_auc"]) for p in body["history"]] == [("older", 0.9), (RUN, 0.7)]
    bad = load_event("api_list_runs.json")
    bad["queryStringParameters"] = {"limit": "0"}
    assert call(bad)[0] == 400

    with Stubber(client("stepfunctions")) as stub:
        stub.add_response("start_execution", {"executionArn": f"{SM_ARN}:x", "startDate": "2024-05-02T01:00:00Z"},
                          {"stateMachineArn": SM_ARN, "name": ANY, "input": ANY})
        stub.add_response("send_task_success", {}, {"taskToken": "secret", "output": ANY})
        status, started = call("api_start_run.json")
        approve_status, approved = call("api_approve_run.json")
        stub.assert_no_pending_responses()
    assert status == 202
    assert started["trigger"]["type"] == "api"
    assert started["trigger"]["id"] == load_event("api_start_run.json")["requestContext"]["requestId"]
    assert approve_status == 200
    assert approved["approval"]["status"] == "APPROVED"
    assert approved["approval"]["by"] == "arn:aws:iam::123456789012:user/ml-engineer"
    # answered: a second approval is refused, and the token is gone
    status, body = call("api_approve_run.json")
    assert (status, body["error"]) == (409, "ApprovalNotPending")
    assert runs.get("example-classifier", RUN).get("approvalToken") is None


def test_approval_body_is_validated(api: dict[str, str]) -> None:
    event = load_event("api_approve_run.json")
    event["body"] = json.dumps({"approved": "maybe"})
    status, body = call(event)
    assert (status, body["error"]) == (400, "InvalidRequest")
    assert "approved" in body["message"]


def test_unexpected_errors_do_not_leak(api: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from api import logic

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("table arn:aws:dynamodb:secret exploded")

    monkeypatch.setattr(logic.Api, "list_models", boom)
    status, body = call(copy.deepcopy(load_event("api_list_models.json")))
    assert status == 500
    assert "secret" not in json.dumps(body)
