"""Operational health of the endpoint over a run's window: SageMaker's ``AWS/SageMaker`` invocation metrics read
with one ``GetMetricData`` call, compared with the config's ``operational`` thresholds.

Read per window (one period spanning the window, dimensions ``EndpointName`` and ``VariantName``):
``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors`` (Sum), ``ModelLatency`` (p50, p90, p99,
Average) and ``OverheadLatency`` (Average) — plus any other statistic a threshold names. ``ErrorRate`` is
derived: (4XX + 5XX) / Invocations. Latencies are in microseconds, as SageMaker publishes them.

A threshold whose value is missing (no invocation in the window, or a statistic the service returned nothing
for) is reported as ``no_data``, never as a breach.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from driftline_common.config import OperationalThreshold

NAMESPACE = "AWS/SageMaker"
BASE_QUERIES: tuple[tuple[str, str], ...] = (
    ("Invocations", "Sum"), ("Invocation4XXErrors", "Sum"), ("Invocation5XXErrors", "Sum"),
    ("ModelLatency", "p50"), ("ModelLatency", "p90"), ("ModelLatency", "p99"), ("ModelLatency", "Average"),
    ("OverheadLatency", "Average"),
)


def _qid(metric: str, stat: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"m_{metric}_{stat}".lower())


def queries(endpoint: str, variant: str, thresholds: Sequence[OperationalThreshold], period: int
            ) -> list[dict[str, Any]]:
    """The ``MetricDataQueries`` of a window (one per metric and statistic, deduplicated)."""
    wanted = list(BASE_QUERIES)
    for t in thresholds:
        if t.metric != "ErrorRate" and (t.metric, t.statistic) not in wanted:
            wanted.append((t.metric, t.statistic))
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    return [{"Id": _qid(m, s), "ReturnData": True,
             "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": m, "Dimensions": dims},
                            "Period": period, "Stat": s}} for m, s in wanted]


def window_period(start: datetime, end: datetime) -> int:
    """One period covering the window: its length in seconds rounded up to a multiple of 60."""
    seconds = max(60, int((end - start).total_seconds()))
    return -(-seconds // 60) * 60


def read_metrics(cw: Any, endpoint: str, variant: str, thresholds: Sequence[OperationalThreshold],
                 start: datetime, end: datetime) -> dict[str, dict[str, float | None]]:
    """``{metric: {stat: value}}`` of the window (``None`` where CloudWatch has no datapoint)."""
    qs = queries(endpoint, variant, thresholds, window_period(start, end))
    values: dict[str, list[float]] = {}
    token = None
    while True:
        kwargs: dict[str, Any] = {"MetricDataQueries": qs, "StartTime": start, "EndTime": end}
        if token:
            kwargs["NextToken"] = token
        resp = cw.get_metric_data(**kwargs)
        for r in resp.get("MetricDataResults", []):
            values.setdefault(r["Id"], []).extend(float(v) for v in r.get("Values", []) if v is not None)
        token = resp.get("NextToken")
        if not token:
            break
    out: dict[str, dict[str, float | None]] = {}
    for q in qs:
        m, s = q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]
        vals = values.get(q["Id"], [])
        if not vals:
            v: float | None = None
        elif s in ("Sum", "SampleCount"):
            v = float(sum(vals))
        elif s == "Maximum" or s.startswith("p"):
            v = float(max(vals))  # one period per window: a single value; the worst if CloudWatch split it
        elif s == "Minimum":
            v = float(min(vals))
        else:
            v = float(sum(vals) / len(vals))
        out.setdefault(m, {})[s] = v
    inv = out.get("Invocations", {}).get("Sum")
    errors = [out.get(k, {}).get("Sum") for k in ("Invocation4XXErrors", "Invocation5XXErrors")]
    out["ErrorRate"] = {"Ratio": (sum(e or 0.0 for e in errors) / inv) if inv else None}
    return out


def evaluate(thresholds: Sequence[OperationalThreshold], values: dict[str, dict[str, float | None]]
             ) -> list[dict[str, Any]]:
    """Each threshold's check: ``{metric, stat, value, min, max, status}`` (``breached``/``ok``/``no_data``)."""
    out = []
    for t in thresholds:
        stat = "Ratio" if t.metric == "ErrorRate" else t.statistic
        v = values.get(t.metric, {}).get(stat)
        if v is None:
            status = "no_data"
        elif (t.min is not None and v < t.min) or (t.max is not None and v > t.max):
            status = "breached"
        else:
            status = "ok"
        out.append({"metric": t.metric, "stat": stat, "value": v, "min": t.min, "max": t.max, "status": status})
    return out
