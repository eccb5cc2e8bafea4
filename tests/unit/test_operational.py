"""The endpoint's AWS/SageMaker metrics of a window against the operational thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from driftline_common import operational
from driftline_common.config import OperationalThreshold
from moto import mock_aws

from tests.conftest import REGION
from tests.unit._moto_percentiles import patch_percentiles

START = datetime(2025, 1, 1, tzinfo=UTC)
END = START + timedelta(hours=24)
DIMS = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def _t(**kw: Any) -> OperationalThreshold:
    return OperationalThreshold.model_validate(kw)


def test_sums_averages_and_error_rate_from_cloudwatch(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_percentiles(monkeypatch)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name=REGION)
        for h in range(3):
            when = START + timedelta(hours=h)
            cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
                {"MetricName": "Invocations", "Dimensions": DIMS, "Timestamp": when, "Value": 100.0},
                {"MetricName": "Invocation5XXErrors", "Dimensions": DIMS, "Timestamp": when, "Value": 2.0},
                {"MetricName": "Invocation4XXErrors", "Dimensions": DIMS, "Timestamp": when, "Value": 1.0},
                {"MetricName": "ModelLatency", "Dimensions": DIMS, "Timestamp": when, "Value": 1000.0 * (h + 1)},
            ])
        thresholds = [_t(metric="ErrorRate", max=0.01), _t(metric="ModelLatency", stat="Average", max=5000),
                      _t(metric="Invocations", min=10), _t(metric="ModelLatency", stat="p99", max=2500)]
        values = operational.read_metrics(cw, "ep", "AllTraffic", thresholds, START, END)
    assert values["Invocations"]["Sum"] == 300
    assert values["ModelLatency"]["p50"] == 2000
    assert values["ModelLatency"]["p99"] == 3000
    assert values["ErrorRate"]["Ratio"] == pytest.approx(9 / 300)
    assert values["ModelLatency"]["Average"] == pytest.approx(2000)
    checks = operational.evaluate(thresholds, values)
    assert [c["status"] for c in checks] == ["breached", "ok", "ok", "breached"]


def test_no_invocation_is_no_data_not_a_breach(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_percentiles(monkeypatch)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name=REGION)
        thresholds = [_t(metric="ErrorRate", max=0.01), _t(metric="Invocations", min=10)]
        values = operational.read_metrics(cw, "ep", "AllTraffic", thresholds, START, END)
    assert [c["status"] for c in operational.evaluate(thresholds, values)] == ["no_data", "no_data"]


def test_percentiles_are_requested_and_read() -> None:
    cw = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    thresholds = [_t(metric="ModelLatency", stat="p99", max=250_000), _t(metric="OverheadLatency", stat="p90", max=1)]
    qs = operational.queries("ep", "AllTraffic", thresholds, operational.window_period(START, END))
    ids = [q["Id"] for q in qs]
    assert len(ids) == len(set(ids)) == len(operational.BASE_QUERIES) + 1
    assert {q["MetricStat"]["Period"] for q in qs} == {86400}
    results = [{"Id": q["Id"], "Label": q["Id"], "Timestamps": [START], "StatusCode": "Complete",
                "Values": [300_000.0 if q["Id"] == "m_modellatency_p99" else 10.0]} for q in qs]
    with Stubber(cw) as stub:
        stub.add_response("get_metric_data", {"MetricDataResults": results},
                          {"MetricDataQueries": ANY, "StartTime": START, "EndTime": END})
        values = operational.read_metrics(cw, "ep", "AllTraffic", thresholds, START, END)
    assert values["ModelLatency"]["p99"] == 300_000
    assert [c["status"] for c in operational.evaluate(thresholds, values)] == ["breached", "breached"]


def test_threshold_validation() -> None:
    assert _t(metric="ModelLatency", max=1).statistic == "Average"
    assert _t(metric="Invocation5XXErrors", max=1).statistic == "Sum"
    with pytest.raises(ValueError, match="'min' or 'max'"):
        _t(metric="ModelLatency", stat="p99")
    with pytest.raises(ValueError, match="no 'stat'"):
        _t(metric="ErrorRate", stat="p99", max=0.1)
