"""Run requests are validated at the edge (issue 8.6): typed errors naming the field, nothing written for them.

``start_run`` (the pipeline's first step, reached by the API, the trigger router and any ``Run Requested`` put on
the bus), ``fail`` (its failure path) and the trigger router, under moto.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from driftline_common.config import parse_config
from driftline_common.edge import UNKNOWN_MODEL_METRIC, check_run_request, item_size, parse_time
from driftline_common.errors import InvalidEvent, ModelNotFound
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore
from retrain_launcher.handler import lambda_handler as launcher
from trigger_router.handler import lambda_handler as router

from tests.conftest import REGION, load_event
from tests.handlers._support import Context
from tests.unit.test_training_request import CONFIG

CTX = Context()


@pytest.fixture
def stack(stack_env: dict[str, str]) -> dict[str, str]:
    ModelStore(Settings.from_env()).put_config(parse_config(CONFIG))
    return stack_env


def table_items(name: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=name)["Items"]


def start_event(**detail: Any) -> dict[str, Any]:
    event = load_event("retrain_launcher_start_run.json")
    event["request"]["detail"].update(detail)
    return event


def emitted_metrics(out: str) -> list[str]:
    names = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            for d in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.extend(m["Name"] for m in d["Metrics"])
    return names


@pytest.mark.parametrize("window_end", ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+05:00", "2024-13-01",
                                        "1969-12-31T23:59:59Z", 20240501, ""])
def test_window_end_outside_a_sane_range_is_invalid_event(stack: dict[str, str], window_end: Any) -> None:
    with pytest.raises(InvalidEvent) as err:
        launcher(start_event(windowEnd=window_end), CTX)
    assert err.value.details["field"] == "detail.windowEnd"
    assert table_items(stack["RUNS_TABLE"]) == []
    assert table_items(stack["LOCKS_TABLE"]) == []


def test_a_sane_window_end_still_starts_the_run(stack: dict[str, str]) -> None:
    run = launcher(start_event(windowEnd="2024-05-01T00:00:00Z"), CTX)
    assert run["window"] == {"start": "2024-04-30T00:00:00Z", "end": "2024-05-01T00:00:00Z"}


@pytest.mark.parametrize("time_field", ["time", "trigger"])
def test_trigger_times_outside_the_range_are_invalid_event(stack: dict[str, str], time_field: str) -> None:
    event = load_event("retrain_launcher_start_run.json")
    if time_field == "time":
        event["request"]["time"] = "9999-12-31T23:00:00Z"
        del event["request"]["detail"]["trigger"]["time"]
        field = "time"
    else:
        event["request"]["detail"]["trigger"]["time"] = "0001-01-01T00:00:00Z"
        field = "detail.trigger.time"
    with pytest.raises(InvalidEvent) as err:
        launcher(event, CTX)
    assert err.value.details["field"] == field


def test_a_model_id_dynamodb_cannot_key_is_rejected_before_anything_is_written(stack: dict[str, str]) -> None:
    long_id = "m" * 3000
    with pytest.raises(InvalidEvent) as err:
        launcher(start_event(modelId=long_id), CTX)
    assert err.value.details["field"] == "detail.modelId"
    assert len(str(err.value)) < 500
    # the failure path of the same execution records nothing and raises nothing
    fail = load_event("retrain_launcher_fail.json")
    fail["state"] = start_event(modelId=long_id)["request"]
    fail["error"] = {"Error": "InvalidEvent", "Cause": json.dumps({"errorMessage": str(err.value)})}
    out = launcher(fail, CTX)
    assert out["lockReleased"] is False
    assert table_items(stack["RUNS_TABLE"]) == []
    assert table_items(stack["LOCKS_TABLE"]) == []


def test_requests_for_unknown_models_are_counted_and_do_not_grow_the_runs_table(
    stack: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(5):
        event = start_event(modelId="not-registered")
        event["runId"] = f"run-unknown-{i}"
        with pytest.raises(ModelNotFound):
            launcher(event, CTX)
        fail = load_event("retrain_launcher_fail.json")
        fail["state"], fail["runId"] = event["request"], event["runId"]
        fail["error"] = {"Error": "ModelNotFound", "Cause": json.dumps({"errorMessage": "no model"})}
        launcher(fail, CTX)
    assert emitted_metrics(capsys.readouterr().out).count(UNKNOWN_MODEL_METRIC) == 5
    assert table_items(stack["RUNS_TABLE"]) == []


def test_a_registered_models_failure_is_still_recorded(stack: dict[str, str]) -> None:
    fail = load_event("retrain_launcher_fail.json")
    launcher(fail, CTX)
    run = RunStore(Settings.from_env()).get("example-classifier", fail["runId"])
    assert run["status"] == "FAILED"


def test_check_run_request_names_the_field() -> None:
    direct = {"modelId": "example-classifier", "windowEnd": "9999-12-31T00:00:00Z"}
    with pytest.raises(InvalidEvent) as err:
        check_run_request(direct)
    assert err.value.details["field"] == "windowEnd"
    with pytest.raises(InvalidEvent) as err:
        check_run_request({"modelId": "example-classifier", "trigger": {"id": "x" * 600}})
    assert err.value.details["field"] == "trigger.id"
    check_run_request({"modelId": "example-classifier", "windowEnd": "2024-05-01T00:00:00+02:00"})
    assert parse_time("2024-05-01T00:00:00+02:00", "t").isoformat() == "2024-04-30T22:00:00+00:00"
    assert parse_time("2024-05-01", "t").isoformat() == "2024-05-01T00:00:00+00:00"


def test_item_size_follows_dynamodbs_rules() -> None:
    assert item_size("abc") == 3
    assert item_size("é") == 2
    assert item_size(True) == item_size(None) == 1
    assert item_size({"ab": "cd"}) == 3 + 1 + 2 + 2
    assert item_size(["a", "b"]) == 3 + 2 * (1 + 1)
    assert item_size(12345) == 4  # 5 significant digits: (5 + 1) // 2 + 1
    assert item_size(1.5) == item_size(15) == 2
    assert item_size({"k": "v" * 400_000}) > 400_000


# ------------------------------------------------------------------------------------------ trigger router
@pytest.mark.parametrize("when", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "yesterday"])
def test_the_router_refuses_times_no_window_can_end_at(stack: dict[str, str], when: str) -> None:
    event = load_event("trigger_schedule.json")
    event["time"] = when
    with pytest.raises(InvalidEvent) as err:
        router(event, CTX)
    assert err.value.details["field"] == "time"


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("trigger_s3_ground_truth.json", {"bucket": "driftline-test-data", "object": {"key": "k"}}),
        ("trigger_s3_ground_truth.json", {"bucket": {"name": ["x"]}, "object": "k"}),
        ("trigger_s3_ground_truth.json", "not an object"),
        ("trigger_alarm.json", {"alarmName": 42, "state": {"value": "ALARM"}}),
    ],
)
def test_the_router_answers_misshapen_details_with_invalid_event(stack: dict[str, str], name: str,
                                                                 detail: Any) -> None:
    event = copy.deepcopy(load_event(name))
    event["detail"] = detail
    with pytest.raises(InvalidEvent):
        router(event, CTX)


@pytest.mark.parametrize("detail", [{"alarmName": "a", "state": "ALARM"},
                                    {"alarmName": "a", "state": {"value": "ALARM"}, "configuration": ["x"]},
                                    {"alarmName": "a", "state": {"value": "ALARM"},
                                     "configuration": {"metrics": [{"metricStat": "x"}, None, 3]}}])
def test_the_router_tolerates_odd_alarm_shapes(stack: dict[str, str], detail: Any) -> None:
    event = load_event("trigger_alarm.json")
    event["detail"] = detail
    assert router(event, CTX)["models"] == []
