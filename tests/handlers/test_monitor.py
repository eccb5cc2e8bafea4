"""drift_checker ``monitor`` action under moto: data quality (Model Monitor's files and metrics), operational
health (AWS/SageMaker metrics), bias (Clarify's analysis.json); one part failing never stops the others."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from drift_checker.handler import lambda_handler
from driftline_common.config import parse_config
from driftline_common.settings import Settings
from driftline_common.store import ModelStore

from tests.conftest import REGION, ROOT, load_event
from tests.handlers.test_drift_checker import BUCKET, CAPTURE, CONFIG, CTX, _rows
from tests.unit._moto_percentiles import patch_percentiles
from tests.unit.test_datasets import capture_line, gt_line

GT = "ground-truth/example-classifier/2025/01/01"
MM = ROOT / "tests/fixtures/model_monitor"
WINDOW_START = datetime(2025, 1, 1, tzinfo=UTC)


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _get_json(uri: str) -> Any:
    bucket, _, key = uri[5:].partition("/")
    return json.loads(_s3().get_object(Bucket=bucket, Key=key)["Body"].read())


def _setup(config: dict[str, Any], rows: list[list[Any]], *, train: bool = True, scores: Any = None,
           labels: Any = None) -> None:
    ModelStore(Settings.from_env()).put_config(parse_config(config))
    if train:
        rng = np.random.default_rng(0)
        text = "\n".join(",".join(["1", *map(str, r)]) for r in _rows(5000, rng))
        _s3().put_object(Bucket=BUCKET, Key="training-data/example-classifier/train.csv", Body=text.encode())
        lambda_handler(load_event("drift_checker_build_baseline.json"), CTX)
    n = len(rows)
    scores = scores if scores is not None else ["0.5"] * n
    cap = [capture_line(f"ev-{i}", r, str(scores[i]), encoding="CSV") for i, r in enumerate(rows)]
    _s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/03/c.jsonl", Body="\n".join(cap).encode())
    if labels is not None:
        gts = [gt_line(f"ev-{i}", labels[i]) for i in range(n)]
        _s3().put_object(Bucket=BUCKET, Key=f"{GT}/04/g.jsonl", Body="\n".join(gts).encode())


def _metric_names(namespace: str) -> set[str]:
    cw = boto3.client("cloudwatch", region_name=REGION)
    return {m["MetricName"] for m in cw.list_metrics(Namespace=namespace)["Metrics"]}


def test_build_baseline_writes_model_monitor_files_and_monitor_checks_them(stack_env: dict[str, str]) -> None:
    rng = np.random.default_rng(1)
    _setup(CONFIG, _rows(2000, rng))
    base = CONFIG["baselineUri"].rsplit("/", 1)[0]
    stats = _get_json(f"{base}/statistics.json")
    cons = _get_json(f"{base}/constraints.json")
    assert stats["dataset"]["item_count"] == 5000
    assert [f["inferred_type"] for f in stats["features"]] == ["Fractional"] * 5 + ["String"]
    assert cons["features"][5]["string_constraints"]["domains"] == ["a", "b", "c"]
    assert cons["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1

    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["signals"] == []
    assert out["dataQuality"]["status"] == "ok"
    assert out["dataQuality"]["violations"] == 0
    assert out["operational"] == {"status": "not_configured"}
    assert out["bias"] == {"status": "not_configured"}
    assert _get_json(out["dataQuality"]["violationsUri"]) == {"violations": []}
    names = _metric_names("aws/sagemaker/Endpoints/data-metrics")
    assert {"feature_non_null_f0", "feature_baseline_drift_f0", "feature_data_f0", "feature_baseline_drift_f5"} <= names

    _setup(CONFIG, _rows(2000, rng, shift=1.0, cat_p=(0.1, 0.3, 0.6)), train=False)
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["signals"] == ["DATA_QUALITY"]
    violations = _get_json(out["dataQuality"]["violationsUri"])["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {
        ("f0", "baseline_drift_check"), ("f1", "baseline_drift_check"), ("f5", "baseline_drift_check")}


def test_model_monitor_files_are_used_as_they_are(stack_env: dict[str, str]) -> None:
    for name in ("statistics.json", "constraints.json"):
        _s3().put_object(Bucket=BUCKET, Key=f"model-monitor/{name}", Body=(MM / name).read_bytes())
    config = {**CONFIG, "dataQuality": {"statisticsUri": f"s3://{BUCKET}/model-monitor/statistics.json",
                                        "constraintsUri": f"s3://{BUCKET}/model-monitor/constraints.json",
                                        "scheduleName": "my-schedule"}}
    rows = _rows(1000, np.random.default_rng(2), cat_p=(0.3, 0.3, 0.4))
    rows[0][5] = "zz"
    _setup(config, rows, train=False)
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["dataQuality"]["constraintsUri"].endswith("model-monitor/constraints.json")
    assert out["dataQuality"]["checks"] == {"baseline_drift_check": 1}
    assert out["dataQuality"]["listed"][0]["feature_name"] == "f5"
    cw = boto3.client("cloudwatch", region_name=REGION)
    dims = {d["Name"]: d["Value"] for m in cw.list_metrics(Namespace="aws/sagemaker/Endpoints/data-metrics")["Metrics"]
            for d in m["Dimensions"]}
    assert dims == {"Endpoint": CONFIG["endpointName"], "MonitoringSchedule": "my-schedule"}


@pytest.mark.parametrize(("body", "entry"), [
    (b"{not json", "<root>"),
    (json.dumps({"features": [{"name": "unknown_feature"}]}).encode(), "features[0] ('unknown_feature')"),
    (json.dumps({"features": [], "monitoring_config": {"my_check_threshold": 1}}).encode(),
     "monitoring_config.my_check_threshold"),
])
def test_bad_constraints_fail_the_data_quality_part_only(stack_env: dict[str, str], body: bytes,
                                                          entry: str) -> None:
    _s3().put_object(Bucket=BUCKET, Key="model-monitor/constraints.json", Body=body)
    uri = f"s3://{BUCKET}/model-monitor/constraints.json"
    config = {**CONFIG, "dataQuality": {"constraintsUri": uri},
              "bias": {"facets": [{"name": "f5", "values": ["a"]}], "labelValuesOrThreshold": ["1"]}}
    rng = np.random.default_rng(3)
    rows = _rows(400, rng)
    _setup(config, rows, train=False, scores=rng.uniform(size=400), labels=rng.integers(0, 2, 400))
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["dataQuality"]["status"] == "failed"
    assert out["dataQuality"]["error"]["error"] == "InvalidConstraints"
    assert out["dataQuality"]["error"]["details"] == {"uri": uri, "entry": entry}
    assert out["bias"]["status"] == "ok"  # the other parts still ran
    assert "DATA_QUALITY" not in out["signals"]


def test_operational_breach(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    patch_percentiles(monkeypatch)
    config = {**CONFIG, "operational": [{"metric": "ModelLatency", "stat": "p99", "max": 250000},
                                        {"metric": "ErrorRate", "max": 0.01}]}
    _setup(config, _rows(50, np.random.default_rng(4)), train=False)
    cw = boto3.client("cloudwatch", region_name=REGION)
    dims = [{"Name": "EndpointName", "Value": CONFIG["endpointName"]}, {"Name": "VariantName", "Value": "AllTraffic"}]
    for i in range(100):
        when = WINDOW_START + timedelta(minutes=10 * i)
        cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
            {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": when, "Value": 1.0},
            {"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Timestamp": when, "Value": 0.0},
            {"MetricName": "ModelLatency", "Dimensions": dims, "Timestamp": when,
             "Value": 400_000.0 if i >= 98 else 20_000.0}])
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["signals"] == ["OPERATIONAL_BREACH"]
    by = {c["metric"]: c for c in out["operational"]["checks"]}
    assert by["ModelLatency"]["status"] == "breached"
    assert by["ModelLatency"]["value"] == 400_000
    assert by["ErrorRate"]["status"] == "ok"
    assert by["ErrorRate"]["value"] == 0


@pytest.mark.parametrize("problem", ["binary", "multiclass", "regression"])
def test_bias_section_writes_clarify_analysis(stack_env: dict[str, str], problem: str) -> None:
    rng = np.random.default_rng(5)
    n = 600
    rows = _rows(n, rng)
    group_a = np.array([r[5] == "a" for r in rows])
    if problem == "binary":
        config = {**CONFIG, "bias": {"facets": [{"name": "f5", "values": ["a"]}], "labelValuesOrThreshold": ["1"],
                                     "thresholds": [{"metric": "DPPL", "min": -0.1, "max": 0.1}]}}
        labels = (rng.uniform(size=n) < np.where(group_a, 0.2, 0.6)).astype(int)
        scores = [f"{s:.3f}" for s in np.where(group_a, 0.3, 0.7) + rng.normal(0, 0.1, n)]
    elif problem == "multiclass":
        config = {**CONFIG, "problemType": "multiclass", "labels": ["x", "y", "z"], "positiveLabel": None,
                  "thresholds": [{"metric": "accuracy", "min": 0.5}], "promotion": {"metric": "accuracy"},
                  "bias": {"facets": [{"name": "f5", "values": ["a"]}], "labelValuesOrThreshold": ["z"],
                           "thresholds": [{"metric": "DPPL", "min": -0.1, "max": 0.1}]}}
        labels = np.where(group_a, "x", "z")
        probs = np.where(group_a[:, None], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8])
        scores = [",".join(f"{p:.2f}" for p in row) for row in probs]
    else:
        config = {**CONFIG, "problemType": "regression", "labels": None, "positiveLabel": None,
                  "thresholds": [{"metric": "rmse", "max": 1.0}], "promotion": {"metric": "rmse"},
                  "bias": {"facets": [{"name": "f0", "threshold": 0.0}], "labelValuesOrThreshold": 1.0,
                           "thresholds": [{"metric": "DPPL", "min": -0.1, "max": 0.1}]}}
        f0 = np.array([r[0] for r in rows])
        labels = np.round(np.where(f0 > 0, 0.0, 2.0) + rng.normal(0, 0.2, n), 4)
        scores = [f"{v:.4f}" for v in labels + rng.normal(0, 0.1, n)]
    _setup(config, rows, train=False, scores=scores, labels=list(labels))
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    assert out["bias"]["status"] == "ok"
    assert out["bias"]["sampleSize"] == n
    assert out["signals"] == ["BIAS"]
    doc = _get_json(out["bias"]["analysisUri"])
    facet = next(iter(doc["post_training_bias_metrics"]["facets"]))
    names = [m["name"] for m in doc["pre_training_bias_metrics"]["facets"][facet][0]["metrics"]]
    assert names == ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS"]
    assert out["bias"]["breaches"][0]["metric_name"] == "DPPL"
    # Clarify's bias drift metrics: bias_metric_<NAME> in aws/sagemaker/Endpoints/bias-metrics with its 7 dimensions
    post = {m["name"]: m for m in doc["post_training_bias_metrics"]["facets"][facet][0]["metrics"]}
    published = [m for group in ("pre_training_bias_metrics", "post_training_bias_metrics")
                 for m in doc[group]["facets"][facet][0]["metrics"] if "value" in m]
    assert out["bias"]["metricsEmitted"] == len(published)
    cw = boto3.client("cloudwatch", region_name=REGION)
    listed = cw.list_metrics(Namespace="aws/sagemaker/Endpoints/bias-metrics", MetricName="bias_metric_DPPL")
    dims = {d["Name"]: d["Value"] for d in listed["Metrics"][0]["Dimensions"]}
    assert dims == {"Endpoint": config["endpointName"], "MonitoringSchedule": config["modelId"],
                    "BiasStage": "Post-Training", "Label": "label",
                    "LabelValue": doc["post_training_bias_metrics"]["label_value_or_threshold"], "Facet": facet,
                    "FacetValue": doc["post_training_bias_metrics"]["facets"][facet][0]["value_or_threshold"]}
    stats = cw.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/bias-metrics", MetricName="bias_metric_DPPL",
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], StartTime=WINDOW_START - timedelta(days=1),
        EndTime=WINDOW_START + timedelta(days=2), Period=86400 * 3, Statistics=["Maximum"])
    assert stats["Datapoints"][0]["Maximum"] == pytest.approx(post["DPPL"]["value"])


def test_put_with_invalid_monitor_sections_is_400_naming_the_field(stack_env: dict[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from api.handler import lambda_handler as api_handler

    from tests.handlers._support import Context

    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:driftline-test")
    event = load_event("api_put_model.json")
    cfg = json.loads(event["body"])
    for section, field in [
        ({"bias": {"facets": [{"name": "nope", "values": ["x"]}], "labelValuesOrThreshold": ["1"]}},
         "bias.facets.0.name"),
        ({"operational": [{"metric": "Latency", "max": 1}]}, "operational.0.metric"),
        ({"dataQuality": {"namespace": "Custom/NS"}}, "dataQuality.namespace"),
    ]:
        event["body"] = json.dumps({**cfg, **section})
        resp = api_handler(event, Context())
        body = json.loads(resp["body"])
        assert resp["statusCode"] == 400
        assert body["error"] == "InvalidModelConfig"
        assert field in body["message"]
    event["body"] = json.dumps({**cfg, "operational": [{"metric": "ErrorRate", "max": 0.01}],
                                "dataQuality": {"scheduleName": "old-schedule"}})
    resp = api_handler(event, Context())
    assert resp["statusCode"] == 200, resp["body"]
