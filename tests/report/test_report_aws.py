"""The ReportFunction, the report routes, and the per-model dashboard and alarms, under moto."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from api.handler import lambda_handler as api_handler
from driftline_common.errors import InvalidEvent
from driftline_common.s3io import put_json
from driftline_common.settings import Settings
from driftline_common.store import RunStore
from report.handler import lambda_handler as report_handler
from trigger_router.handler import lambda_handler as trigger_handler

from tests.conftest import REGION, load_event
from tests.handlers._support import Context
from tests.report import _docs as d

CTX = Context()
MODEL = "example-classifier"


def api(name: str, *, headers: dict[str, str] | None = None, path: dict[str, str] | None = None,
        body: Any = None) -> dict[str, Any]:
    event = load_event(name)
    event["headers"].update(headers or {})
    if path:
        event["pathParameters"].update(path)
        raw = "/models/" + event["pathParameters"]["modelId"]
        if "runId" in event["pathParameters"]:
            raw += "/runs/" + event["pathParameters"]["runId"]
        raw += "/report" if event["routeKey"].endswith("/report") else ""
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw
    if body is not None:
        event["body"] = json.dumps(body)
    return api_handler(event, CTX)


def put_model(body: dict[str, Any] | None = None, model_id: str = MODEL) -> dict[str, Any]:
    event = load_event("api_put_model.json")
    if body is not None:
        event["body"] = json.dumps(body)
    event["pathParameters"] = {"modelId": model_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/models/{model_id}"
    resp = api_handler(event, CTX)
    assert resp["statusCode"] == 200, resp["body"]
    return json.loads(resp["body"])


def seed_runs(settings: Settings, n: int = 4) -> list[str]:
    """``n`` recorded runs of MODEL with their evaluation and drift documents in S3."""
    runs = RunStore(settings)
    ids = []
    for i in range(n):
        rec = d.run_record("binary", i)
        ev = rec.pop("evaluation")
        run_id = f"run-2024-05-0{i + 1}-0001"
        runs.start(MODEL, run_id, startedAt=f"2024-05-0{i + 1}T00:00:00Z", window=ev["window"])
        runs.update(MODEL, run_id, status="SUCCEEDED", outcome="no_retrain", metrics=ev["metrics"],
                    sampleSize=ev["sampleSize"])
        put_json(f"s3://{settings.bucket}/runs/{MODEL}/{run_id}/evaluation.json", ev)
        put_json(f"s3://{settings.bucket}/runs/{MODEL}/{run_id}/drift.json", d.drift("binary", i))
        ids.append(run_id)
    return ids


def report_event(run_id: str, outcome: str = "succeeded", **state: Any) -> dict[str, Any]:
    event = load_event("report_write.json")
    event.update(runId=run_id, outcome=outcome)
    event["state"] = state or {"run": {"modelId": MODEL, "runId": run_id}}
    return event


@pytest.fixture
def stack(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:p")
    put_model()
    return Settings.from_env()


def s3_object(settings: Settings, key: str) -> dict[str, Any]:
    return boto3.client("s3", region_name=REGION).get_object(Bucket=settings.bucket, Key=key)


def test_the_function_writes_html_and_json_for_a_run(stack: Settings) -> None:
    ids = seed_runs(stack)
    out = report_handler(report_event(ids[-1]), CTX)
    prefix = f"runs/{MODEL}/{ids[-1]}/"
    html = s3_object(stack, prefix + "report.html")
    assert html["ContentType"].startswith("text/html")
    page = html["Body"].read().decode()
    assert "<svg" in page
    assert "<script" not in page
    doc = json.loads(s3_object(stack, prefix + "report.json")["Body"].read())
    assert doc["runId"] == ids[-1]
    assert doc["config"]["version"] == 1
    assert [r["runId"] for r in doc["history"]["runs"]] == ids  # oldest first, this run last
    assert doc["drift"]["runs"] == ids
    assert out["reportUri"] == f"s3://{stack.bucket}/{prefix}report.html"


def test_a_failed_run_that_was_never_recorded_still_gets_a_report(stack: Settings) -> None:
    event = report_event("run-never-started", "failed", failure={"modelId": MODEL},
                         error={"Error": "InvalidEvent", "Cause": "bad"})
    report_handler(event, CTX)
    doc = json.loads(s3_object(stack, f"runs/{MODEL}/run-never-started/report.json")["Body"].read())
    assert doc["status"] == "FAILED"
    assert any("stored no evaluation" in m for m in doc["missing"])


def test_a_report_event_without_a_model_is_a_typed_error(stack: Settings) -> None:
    with pytest.raises(InvalidEvent, match="names no model"):
        report_handler({"runId": "r", "outcome": "succeeded", "state": {}}, CTX)
    with pytest.raises(InvalidEvent, match="outcome"):
        report_handler({"runId": "r", "outcome": "maybe", "state": {"modelId": MODEL}}, CTX)


def test_routes_serve_html_or_json_and_the_latest_report(stack: Settings) -> None:
    ids = seed_runs(stack)
    for run_id in ids[:2]:
        report_handler(report_event(run_id), CTX)
    resp = api("api_get_run_report.json", path={"runId": ids[0]})
    assert resp["statusCode"] == 200
    assert resp["headers"]["Content-Type"].startswith("text/html")
    assert ids[0] in resp["body"]
    assert resp["body"].startswith("<!DOCTYPE html>")
    resp = api("api_get_run_report.json", path={"runId": ids[0]}, headers={"accept": "application/json"})
    assert resp["headers"]["Content-Type"] == "application/json"
    assert json.loads(resp["body"])["runId"] == ids[0]
    # latest: the newest run WITH a report (runs 3 and 4 have none yet)
    resp = api("api_get_report.json")
    assert resp["statusCode"] == 200
    assert resp["headers"]["X-Driftline-Run-Id"] == ids[1]
    resp = api("api_get_run_report.json", path={"runId": ids[3]})
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["error"] == "ReportNotFound"
    resp = api("api_get_run_report.json", path={"runId": "no-such-run"})
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["error"] == "RunNotFound"
    resp = api("api_get_report.json", path={"modelId": "unknown-model"})
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["error"] == "ModelNotFound"


def test_put_creates_the_dashboard_and_one_alarm_per_threshold(stack: Settings) -> None:
    cw = boto3.client("cloudwatch", region_name=REGION)
    body = json.loads(cw.get_dashboard(DashboardName=f"driftline-dev-{MODEL}")["DashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert "roc_auc (min 0.8)" in titles
    assert "accuracy (min 0.75)" in titles
    roc = next(w for w in body["widgets"] if w["properties"]["title"] == "roc_auc (min 0.8)")
    assert roc["properties"]["annotations"]["horizontal"][0]["value"] == 0.8
    assert roc["properties"]["metrics"][0] == ["Driftline", "roc_auc", "modelId", MODEL, "service", "metric-evaluator"]
    text = json.dumps(body)
    for metric in ("DriftShare", "SampleSize", "BadRecords", "Invocations", "ModelLatency", "Invocation5XXErrors",
                   "RetrainDecisions", "ChallengerPromoted", "Deployments"):
        assert metric in text, metric
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix="driftline-dev-")["MetricAlarms"]}
    assert set(alarms) == {f"driftline-dev-{MODEL}-roc_auc", f"driftline-dev-{MODEL}-accuracy"}
    a = alarms[f"driftline-dev-{MODEL}-roc_auc"]
    assert (a["Threshold"], a["ComparisonOperator"], a["MetricName"]) == (0.8, "LessThanThreshold", "roc_auc")
    assert a["AlarmActions"] == [stack.alerts_topic_arn]
    assert {x["Name"]: x["Value"] for x in a["Dimensions"]} == {"modelId": MODEL, "service": "metric-evaluator"}


def test_changed_thresholds_and_deleted_models_leave_no_stale_alarms(stack: Settings) -> None:
    cw = boto3.client("cloudwatch", region_name=REGION)
    body = json.loads(load_event("api_put_model.json")["body"])
    other = copy.deepcopy(body)
    other["modelId"] = f"{MODEL}-b"  # its alarm names extend this model's prefix: they must survive
    put_model(other, f"{MODEL}-b")
    body["thresholds"] = [{"metric": "f1", "min": 0.5, "max": 0.99}]
    out = put_model(body)
    assert out["monitoring"]["removedAlarms"] == [f"driftline-dev-{MODEL}-accuracy", f"driftline-dev-{MODEL}-roc_auc"]
    names = sorted(a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="driftline-dev-")["MetricAlarms"])
    assert names == [f"driftline-dev-{MODEL}-b-accuracy", f"driftline-dev-{MODEL}-b-roc_auc",
                     f"driftline-dev-{MODEL}-f1", f"driftline-dev-{MODEL}-f1-max"]
    resp = api("api_delete_model.json")
    assert resp["statusCode"] == 200, resp["body"]
    names = sorted(a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="driftline-dev-")["MetricAlarms"])
    assert names == [f"driftline-dev-{MODEL}-b-accuracy", f"driftline-dev-{MODEL}-b-roc_auc"]
    dashboards = [e["DashboardName"] for e in cw.list_dashboards()["DashboardEntries"]]
    assert dashboards == [f"driftline-dev-{MODEL}-b"]
    assert api("api_delete_model.json")["statusCode"] == 404  # already gone
    assert json.loads(api_handler(load_event("api_list_models.json"), CTX)["body"])["models"] == [f"{MODEL}-b"]


def test_a_threshold_alarm_entering_alarm_requests_a_run_of_its_model(stack: Settings) -> None:
    event = load_event("trigger_alarm.json")
    event["detail"]["alarmName"] = f"driftline-dev-{MODEL}-roc_auc"
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"].update(
        namespace="Driftline", name="roc_auc", dimensions={"modelId": MODEL, "service": "metric-evaluator"})
    assert trigger_handler(event, CTX)["models"] == [MODEL]


def _report_json(settings: Settings, run_id: str) -> dict[str, Any]:
    doc = json.loads(s3_object(settings, f"runs/{MODEL}/{run_id}/report.json")["Body"].read())
    doc.pop("generatedAt")
    return doc


def test_a_report_reuses_what_the_previous_report_read(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The earlier runs' drift (and, when their records lack them, metrics and intervals) come from the previous
    run's report.json: one read instead of two per run, and the same report as reading every document."""
    from report import logic

    ids = seed_runs(stack, n=5)
    reads: list[str] = []
    read = logic._doc
    monkeypatch.setattr(logic, "_doc", lambda uri: reads.append(str(uri).rsplit("/", 2)[-2] + "/" + str(uri)
                                                                .rsplit("/", 1)[-1]) or read(uri))
    report_handler(report_event(ids[-2]), CTX)  # the previous run's last step
    reads.clear()
    report_handler(report_event(ids[-1]), CTX)
    assert sorted(reads) == sorted([f"{ids[-2]}/report.json", f"{ids[-1]}/evaluation.json",
                                    f"{ids[-1]}/drift.json", f"{ids[-1]}/comparison.json"])
    reused = _report_json(stack, ids[-1])
    boto3.client("s3", region_name=REGION).delete_object(Bucket=stack.bucket, Key=f"runs/{MODEL}/{ids[-2]}/report.json")
    reads.clear()
    report_handler(report_event(ids[-1]), CTX)
    assert len(reads) == 1 + 2 * 4 + 3  # no previous report: every earlier run's evaluation and drift documents
    assert _report_json(stack, ids[-1]) == reused
    assert set(reused["driftInputs"]) == set(ids)
    assert all(r["intervals"] for r in reused["history"]["runs"])


def test_history_intervals_come_from_the_run_records(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from report import logic

    ids = seed_runs(stack, n=3)
    runs = RunStore(stack)
    for i, run_id in enumerate(ids):  # what the decide step stores on every run
        runs.update(MODEL, run_id, intervals={"roc_auc": {"lower": 0.5 + i / 100, "upper": 0.9}})
    reads: list[str] = []
    read = logic._doc
    monkeypatch.setattr(logic, "_doc", lambda uri: reads.append(str(uri)) or read(uri))
    report_handler(report_event(ids[-1]), CTX)
    assert not any(r.endswith("evaluation.json") and ids[-1] not in r for r in reads)
    doc = _report_json(stack, ids[-1])
    assert [r["intervals"]["roc_auc"]["lower"] for r in doc["history"]["runs"][:-1]] == [0.5, 0.51]


def test_a_history_of_one_run_shows_only_this_run(stack: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = seed_runs(stack, n=3)
    monkeypatch.setenv("REPORT_HISTORY_RUNS", "1")
    report_handler(report_event(ids[0]), CTX)  # an older run's report: the newest run is not its history
    assert [r["runId"] for r in _report_json(stack, ids[0])["history"]["runs"]] == [ids[0]]
