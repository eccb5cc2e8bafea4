"""The HTTP API under moto, one canonical API Gateway v2.0 event per route.

Step Functions calls (StartExecution, SendTaskSuccess) go through botocore's Stubber, which checks each
request against the service model; everything else is moto.
"""

from __future__ import annotations

import base64
import copy
import json
import math
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
    assert started["requestId"] == load_event("api_start_run.json")["requestContext"]["requestId"]
    assert started["trigger"]["id"] == started["runId"]
    assert approve_status == 200
    assert approved["approval"]["status"] == "APPROVED"
    assert approved["approval"]["by"] == "arn:aws:iam::123456789012:user/ml-engineer"
    # answered: a second approval is refused, and the token is gone
    status, body = call("api_approve_run.json")
    assert (status, body["error"]) == (409, "ApprovalNotPending")
    assert runs.get("example-classifier", RUN).get("approvalToken") is None


def test_run_requests_for_one_window_start_one_execution(api: dict[str, str]) -> None:
    """Retries and concurrent callers within one hour get the one run of that window, running or ended."""
    from datetime import datetime

    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    sm = sfn.create_state_machine(
        name="driftline-test-pipeline", roleArn="arn:aws:iam::123456789012:role/driftline-test",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    assert sm == SM_ARN
    first_status, first = call("api_start_run.json")
    again = load_event("api_start_run.json")
    again["requestContext"]["requestId"] = "another-request"
    second_status, second = call(again)
    assert (first_status, second_status) == (202, 202)
    assert second["runId"] == first["runId"]
    assert second["executionArn"] == first["executionArn"]
    assert second["requestId"] == "another-request"
    assert len(sfn.list_executions(stateMachineArn=SM_ARN)["executions"]) == 1
    sfn.stop_execution(executionArn=first["executionArn"])  # ended: a third request still gets that run
    assert call(again)[1]["executionArn"] == first["executionArn"]
    assert len(sfn.list_executions(stateMachineArn=SM_ARN)["executions"]) == 1
    hour = datetime.strptime(first["trigger"]["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert (hour.minute, hour.second) == (0, 0)
    assert first["runId"].endswith(hour.strftime("-api-%Y%m%dT%H%MZ"))


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


# ------------------------------------------------------------------ bad input: 4xx with valid JSON (issue 8.4, 8.5)
def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN/Infinity tokens, as every JSON parser but Python's does."""
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} token in a response body")
    return json.loads(text, parse_constant=refuse)


def raw_call(event: dict[str, Any]) -> tuple[int, Any]:
    resp = lambda_handler(event, CTX)
    return resp["statusCode"], strict_json(resp["body"])


def put_event(body: str, *, base64: bool = False) -> dict[str, Any]:
    event = load_event("api_put_model.json")
    event["body"], event["isBase64Encoded"] = body, base64
    return event


def test_non_finite_numbers_in_a_config_are_a_400_naming_the_field(api: dict[str, str]) -> None:
    body = load_event("api_put_model.json")["body"]
    for token, field in (("NaN", "drift.psi"), ("Infinity", "drift.psi"), ("-Infinity", "drift.psi"),
                         ("1e309", "drift.psi")):
        cfg = json.loads(body)
        cfg["drift"]["psi"] = "__X__"
        status, out = raw_call(put_event(json.dumps(cfg).replace('"__X__"', token)))
        assert status == 400, (token, out)
        assert field in json.dumps(out) or "not a JSON value" in out["message"], (token, out)
    # nothing was stored over the valid config
    status, out = raw_call(load_event("api_get_model.json"))
    assert (status, out["version"], out["config"]["drift"]["psi"]) == (200, 1, 0.2)


def test_a_bad_config_is_a_400_naming_every_wrong_field(api: dict[str, str]) -> None:
    cfg = json.loads(load_event("api_put_model.json")["body"])
    cfg["windowHours"] = True
    cfg["thresholds"] = [{"metric": "roc_auc", "min": -1}, {"metric": "accuracy", "min": 0.9, "max": 0.5}]
    cfg["training"]["hyperparameters"] = {f"h{i}": "1" for i in range(150)}
    cfg["baselineUri"] = "s3://someone-elses-bucket/baseline.json"
    cfg["training"]["roleArn"] = "arn:aws:iam::999999999999:role/elsewhere"
    status, out = raw_call(put_event(json.dumps(cfg)))
    assert (status, out["error"]) == (400, "InvalidModelConfig")
    fields = {p.split(":", 1)[0] for p in out["details"]["problems"]}
    assert {"windowHours", "thresholds.0", "thresholds.1", "training.hyperparameters", "baselineUri",
            "training.roleArn"} <= fields


def test_allowed_data_buckets_extend_the_stacks_bucket(api: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = json.loads(load_event("api_put_model.json")["body"])
    cfg["groundTruth"]["s3Uri"] = "s3://shared-labels/ground-truth/example-classifier"
    assert raw_call(put_event(json.dumps(cfg)))[0] == 400
    monkeypatch.setenv("ALLOWED_DATA_BUCKETS", "shared-labels,other")
    status, out = raw_call(put_event(json.dumps(cfg)))
    assert (status, out["config"]["groundTruth"]["s3Uri"]) == (200, cfg["groundTruth"]["s3Uri"])


def test_a_body_that_is_not_utf8_is_a_400(api: dict[str, str]) -> None:
    status, out = raw_call(put_event(base64.b64encode(b'{"modelId": "\xff\xfe"}').decode(), base64=True))
    assert (status, out["error"]) == (400, "InvalidRequest")
    status, out = raw_call(put_event("not base64 at all!", base64=True))
    assert (status, out["error"]) == (400, "InvalidRequest")
    status, out = raw_call(put_event('{"modelId": "\ud800"}'))  # a lone surrogate cannot be UTF-8
    assert (status, out["error"]) == (400, "InvalidRequest")


def test_deeply_nested_json_is_a_400(api: dict[str, str]) -> None:
    status, out = raw_call(put_event("[" * 100_000 + "]" * 100_000))
    assert (status, out["error"]) == (400, "InvalidRequest")
    assert "nested" in out["message"]


def test_a_config_over_dynamodbs_item_limit_is_a_413_and_nothing_is_stored(api: dict[str, str]) -> None:
    cfg = json.loads(load_event("api_put_model.json")["body"])
    # every part within its own limit (1,000 features of 128 characters, 98 hyperparameters of 256 + 2,498)
    cfg["features"] = [{"name": f"{i:04d}" + "f" * 124, "type": "numeric"} for i in range(1000)]
    cfg["training"]["hyperparameters"] = {f"{i:02d}" + "k" * 254: "v" * 2498 for i in range(98)}
    status, out = raw_call(put_event(json.dumps(cfg)))
    assert (status, out["error"]) == (413, "PayloadTooLarge")
    assert out["details"]["sizeBytes"] > out["details"]["maxBytes"] == 400 * 1024
    assert raw_call(load_event("api_get_model.json"))[1]["version"] == 1


def test_a_config_just_under_the_limit_is_stored(api: dict[str, str]) -> None:
    cfg = json.loads(load_event("api_put_model.json")["body"])
    cfg["training"]["hyperparameters"] = {f"h{i}": "v" * 2400 for i in range(98)}  # ~240 KB
    status, out = raw_call(put_event(json.dumps(cfg)))
    assert (status, out["version"]) == (200, 2)


def with_path(name: str, path: str, **params: str) -> dict[str, Any]:
    event = load_event(name)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = params
    return event


def test_a_path_the_router_does_not_match_is_a_404(api: dict[str, str]) -> None:
    for event in (with_path("api_get_model.json", "/models//example-classifier"),
                  with_path("api_get_model.json", "/nothing/here"),
                  with_path("api_get_run.json", "/models/example-classifier/runs/r1/extra")):
        status, out = raw_call(event)
        assert (status, out["error"]) == (404, "RouteNotFound"), event["rawPath"]


def test_ids_dynamodb_cannot_key_are_a_400(api: dict[str, str]) -> None:
    long_id = "m" * 3000
    status, out = raw_call(with_path("api_get_model.json", f"/models/{long_id}", modelId=long_id))
    assert (status, out["error"], out["details"]["field"]) == (400, "InvalidRequest", "modelId")
    long_run = "r" * 3000
    status, out = raw_call(with_path("api_get_run.json", f"/models/example-classifier/runs/{long_run}",
                                     modelId="example-classifier", runId=long_run))
    assert (status, out["details"]["field"]) == (400, "runId")


def test_query_and_approval_values_are_not_coerced(api: dict[str, str]) -> None:
    event = load_event("api_list_runs.json")
    event["queryStringParameters"] = {"limit": "\u00b2"}  # str.isdigit() is True, int() fails
    assert raw_call(event)[0] == 400
    RunStore(Settings.from_env()).start("example-classifier", RUN, approvalToken="secret",
                                        approval={"status": "PENDING"})
    for answer in (1, "true", "yes"):
        approve = load_event("api_approve_run.json")
        approve["body"] = json.dumps({"approved": answer})
        status, out = raw_call(approve)
        assert (status, out["error"]) == (400, "InvalidRequest"), answer


def test_responses_are_strict_json(api: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from api import logic

    monkeypatch.setattr(logic.Api, "list_models",
                        lambda self: {"models": [], "score": math.nan, "nested": [{"x": math.inf}]})
    status, out = raw_call(load_event("api_list_models.json"))
    # the number boundary writes null and says why under numberNotes (README "Numbers")
    assert (status, out) == (200, {"models": [], "score": None, "nested": [{"x": None}],
                                   "numberNotes": {"$.score": {"reason": "nan"}, "$.nested[0].x": {"reason": "+inf"}}})


def test_a_failed_run_shows_its_error_type_and_message_not_its_stack_trace(api: dict[str, str]) -> None:
    runs = RunStore(Settings.from_env())
    trace = ('Traceback (most recent call last):\n  File "/var/task/metric_evaluator/logic.py", line 42, in evaluate\n'
             "    raise KeyError(k)\nKeyError: 'score'")
    cause = json.dumps({"errorMessage": "'score'", "errorType": "KeyError",
                        "stackTrace": ['  File "/var/task/metric_evaluator/logic.py", line 42, in evaluate\n']})
    runs.start("example-classifier", RUN, startedAt="2024-05-02T00:05:00Z")
    runs.update("example-classifier", RUN, status="FAILED", reason=f"KeyError: {trace}",
                error={"Error": "KeyError", "Cause": cause})
    status, out = raw_call(load_event("api_get_run.json"))
    assert status == 200
    text = json.dumps(out)
    assert "Traceback" not in text
    assert "/var/task" not in text
    assert ".py" not in text
    assert "stackTrace" not in text
    assert out["error"]["type"] == "KeyError"
    assert out["reason"].startswith("KeyError")
    listed = raw_call(load_event("api_list_runs.json"))[1]["runs"][0]
    assert "/var/task" not in json.dumps(listed)
    # a domain error keeps its message (it was written for the caller)
    runs.update("example-classifier", RUN, reason="DataFormatError: capture object s3://b/k is not JSON Lines",
                error={"Error": "DataFormatError", "Cause": json.dumps({"errorMessage": "capture object s3://b/k is "
                       "not JSON Lines", "errorType": "DataFormatError", "stackTrace": ['File "/var/task/x.py"']})})
    out = raw_call(load_event("api_get_run.json"))[1]
    assert out["error"] == {"type": "DataFormatError", "message": "capture object s3://b/k is not JSON Lines"}
