"""trigger_router under moto: which models each trigger concerns, and one Run Requested per model."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from driftline_common.config import parse_config
from driftline_common.errors import InvalidEvent
from driftline_common.settings import Settings
from driftline_common.store import ModelStore
from trigger_router.handler import lambda_handler

from tests.conftest import load_event
from tests.handlers._support import Context, bus_recorder, drain

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
CTX = Context()


def test_routing_rules(stack_env: dict[str, str]) -> None:
    models = ModelStore(Settings.from_env())
    models.put_config(parse_config(CONFIG))
    other = copy.deepcopy(CONFIG)
    other.update(modelId="other", endpointName="driftline-other",
                 groundTruth={"s3Uri": "s3://driftline-test-data/ground-truth/other", "format": "sagemaker"})
    other["deployment"]["rollbackAlarms"] = ["driftline-other-latency"]
    models.put_config(parse_config(other))
    url = bus_recorder(stack_env["EVENT_BUS_NAME"])

    schedule = load_event("trigger_schedule.json")
    out = lambda_handler(schedule, CTX)
    assert out["models"] == ["example-classifier", "other"]
    sent = drain(url)
    assert sorted(e["detail"]["modelId"] for e in sent) == ["example-classifier", "other"]
    assert {e["detail-type"] for e in sent} == {"Run Requested"}
    assert all(e["detail"]["trigger"] == {"type": "schedule", "id": schedule["id"], "time": schedule["time"]}
               for e in sent)

    # ground truth: the prefix decides ("ground-truth/other" must not match "ground-truth/other-x/...")
    s3 = load_event("trigger_s3_ground_truth.json")
    assert lambda_handler(s3, CTX)["models"] == ["example-classifier"]
    s3["detail"]["object"]["key"] = "ground-truth/other-x/2024/05/01/labels.jsonl"
    assert lambda_handler(s3, CTX)["models"] == []

    alarm = load_event("trigger_alarm.json")
    assert lambda_handler(alarm, CTX)["models"] == ["example-classifier"]
    by_dimension = copy.deepcopy(alarm)
    by_dimension["detail"]["alarmName"] = "driftline-some-other-alarm"
    by_dimension["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["EndpointName"] = \
        "driftline-other"
    assert lambda_handler(by_dimension, CTX)["models"] == ["other"]
    ok = copy.deepcopy(alarm)
    ok["detail"]["state"]["value"] = "OK"
    assert lambda_handler(ok, CTX)["models"] == []
    assert [e["detail"]["trigger"]["type"] for e in drain(url)] == ["ground_truth", "alarm", "alarm"]


def test_bad_events(stack_env: dict[str, str]) -> None:
    with pytest.raises(InvalidEvent, match="unsupported event detail-type"):
        lambda_handler(load_event("trigger_run_requested.json"), CTX)
    event = load_event("trigger_s3_ground_truth.json")
    del event["detail"]["object"]
    with pytest.raises(InvalidEvent, match=r"detail\.object\.key"):
        lambda_handler(event, CTX)
    with pytest.raises(InvalidEvent, match="'id' is missing"):
        lambda_handler({"detail-type": "Scheduled Event"}, CTX)


def test_ground_truth_files_of_one_hour_start_one_run_per_model(stack_env: dict[str, str]) -> None:
    """Label files landing within the same hour share a trigger id (the pipeline claims it once); the next
    hour's files get a new one. Schedules keep the source event id."""
    ModelStore(Settings.from_env()).put_config(parse_config(CONFIG))
    first = load_event("trigger_s3_ground_truth.json")
    second = copy.deepcopy(first)
    second["id"] = "another-event-id"
    second["detail"]["object"]["key"] = first["detail"]["object"]["key"].replace(".jsonl", "-part2.jsonl")
    second["time"] = first["time"][:14] + "59:59Z"
    later = copy.deepcopy(second)
    later["time"] = first["time"][:11] + f"{(int(first['time'][11:13]) + 1) % 24:02d}" + first["time"][13:]
    ids = [lambda_handler(e, CTX)["trigger"]["id"] for e in (first, second, later)]
    assert ids[0] == ids[1] == f"ground-truth:{first['time'][:13]}"
    assert ids[2] != ids[0]
    schedule = load_event("trigger_schedule.json")
    assert lambda_handler(schedule, CTX)["trigger"]["id"] == schedule["id"]
    bad = copy.deepcopy(first)
    bad["time"] = "yesterday"
    with pytest.raises(InvalidEvent, match=r"ISO.8601"):
        lambda_handler(bad, CTX)
