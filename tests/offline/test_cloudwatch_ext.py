"""``cloudwatch_percentiles`` (samlocal.moto_ext.cloudwatch): percentile statistics from moto's GetMetricData."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import pytest
from moto import mock_aws
from samlocal.moto_ext.cloudwatch import percentile

from tests.unit._moto_percentiles import patch_percentiles


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, "p50") == 50
    assert percentile(values, "p99") == 99
    assert percentile(values, "p99.5") == 100
    assert percentile(values, "p100") == 100
    assert percentile([], "p90") is None
    # nearest rank agrees with numpy's "inverted_cdf" percentile
    rng = np.random.default_rng(0)
    sample = rng.exponential(size=999).tolist()
    for q in (50, 90, 99):
        assert percentile(sample, f"p{q}") == pytest.approx(float(np.percentile(sample, q, method="inverted_cdf")))
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, "Average")


def test_get_metric_data_answers_percentiles(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_percentiles(monkeypatch)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
            {"MetricName": "ModelLatency", "Timestamp": start + timedelta(minutes=i), "Value": float(i)}
            for i in range(1, 101)])
        out = cw.get_metric_data(StartTime=start, EndTime=start + timedelta(hours=3), MetricDataQueries=[
            {"Id": f"p{q}", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency"},
                                           "Period": 3 * 3600, "Stat": f"p{q}"}} for q in (50, 99)])
    got = {r["Id"]: r["Values"] for r in out["MetricDataResults"]}
    assert got == {"p50": [50.0], "p99": [99.0]}
