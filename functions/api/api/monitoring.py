"""Per-model CloudWatch: the dashboard ``driftline-<stage>-<modelId>`` and one alarm per threshold
``driftline-<stage>-<modelId>-<metric>`` (``...-<metric>-max`` for the upper bound of a two-sided threshold).

Both are created or updated when a config is stored (``PUT /models/{id}``) and removed with the model
(``DELETE /models/{id}``); alarms of thresholds a new config no longer has are deleted. The metrics are the ones
the functions emit as EMF in the ``Driftline`` namespace with the dimensions ``modelId`` and ``service`` (the
emitting function's ``POWERTOOLS_SERVICE_NAME``). An alarm notifies the alerts topic, and its state change to
``ALARM`` is a run trigger (trigger_router matches the alarm's ``modelId`` dimension). See docs/reports.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.settings import Settings

NAMESPACE = "Driftline"
#: the service dimension of each metric (the emitting function's POWERTOOLS_SERVICE_NAME in template.yaml)
EVALUATOR, DRIFT, LAUNCHER, DEPLOYER = "metric-evaluator", "drift-checker", "retrain-launcher", "deployer"
#: an alarm name's suffix after ``driftline-<stage>-<modelId>-``: a metric name, optionally ``-max``
_SUFFIX = re.compile(r"^[a-z0-9_]+(-max)?$")
MAX_PERIOD = 86400  # CloudWatch: Period x EvaluationPeriods at most one day


def dashboard_name(settings: Settings, model_id: str) -> str:
    return f"driftline-{settings.stage}-{model_id}"


def alarm_names(settings: Settings, cfg: ModelConfig) -> dict[str, dict[str, Any]]:
    """``{alarm name: {"metric", "side", "threshold"}}`` of every threshold bound of ``cfg``."""
    out: dict[str, dict[str, Any]] = {}
    base = f"driftline-{settings.stage}-{cfg.model_id}-"
    for t in cfg.thresholds:
        if t.min is not None:
            out[base + t.metric] = {"metric": t.metric, "side": "min", "threshold": float(t.min)}
        if t.max is not None:
            name = base + t.metric + ("-max" if t.min is not None else "")
            out[name] = {"metric": t.metric, "side": "max", "threshold": float(t.max)}
    return out


def _metric(name: str, model_id: str, service: str, **opts: Any) -> list[Any]:
    row: list[Any] = [NAMESPACE, name, "modelId", model_id, "service", service]
    return [*row, opts] if opts else row


def dashboard_body(settings: Settings, cfg: ModelConfig, region: str) -> dict[str, Any]:
    """The dashboard: thresholded metric timelines with their threshold annotations, drift share, sample size and
    bad records, the endpoint's invocations / latency / errors, retrains, promotions and deployments."""
    mid = cfg.model_id
    period = min(cfg.window_hours * 3600, MAX_PERIOD)
    widgets: list[dict[str, Any]] = []

    def add(title: str, metrics: list[list[Any]], *, stat: str = "Average", annotations: Any = None,
            width: int = 8, p: int = period) -> None:
        props: dict[str, Any] = {"title": title, "region": region, "stat": stat, "period": p, "view": "timeSeries",
                                 "metrics": metrics}
        if annotations:
            props["annotations"] = {"horizontal": annotations}
        widgets.append({"type": "metric", "width": width, "height": 6, "properties": props})

    for name, spec in alarm_names(settings, cfg).items():
        del name
        t = spec["threshold"]
        fill = "below" if spec["side"] == "min" else "above"
        add(f"{spec['metric']} ({spec['side']} {t:g})", [_metric(spec["metric"], mid, EVALUATOR)],
            annotations=[{"label": f"{spec['side']} {t:g}", "value": t, "fill": fill, "color": "#d62728"}])
    add("Drift share (features drifted)", [_metric("DriftShare", mid, DRIFT)],
        annotations=[{"label": f"dataset drift at {float(cfg.drift.dataset_share):g}",
                      "value": float(cfg.drift.dataset_share), "fill": "above"}])
    add("Sample size and bad records", [_metric("SampleSize", mid, EVALUATOR), _metric("BadRecords", mid, EVALUATOR),
                                        _metric("DriftSampleSize", mid, DRIFT)], stat="Sum")
    endpoint = ["AWS/SageMaker", "Invocations", "EndpointName", cfg.endpoint_name, "VariantName",
                cfg.deployment.variant_name]
    add(f"Endpoint {cfg.endpoint_name}: invocations and errors",
        [endpoint, [*endpoint[:1], "Invocation4XXErrors", *endpoint[2:]],
         [*endpoint[:1], "Invocation5XXErrors", *endpoint[2:]]], stat="Sum", p=300)
    add(f"Endpoint {cfg.endpoint_name}: model latency (µs)",
        [[*endpoint[:1], "ModelLatency", *endpoint[2:], {"stat": "p90"}],
         [*endpoint[:1], "ModelLatency", *endpoint[2:], {"stat": "Average"}]], p=300)
    add("Retrains, promotions, deployments", [
        _metric("RetrainDecisions", mid, LAUNCHER), _metric("ChallengerPromoted", mid, EVALUATOR),
        _metric("Deployments", mid, DEPLOYER), _metric("DeploymentRollbacks", mid, DEPLOYER)], stat="Sum")
    for i, w in enumerate(widgets):
        w["x"], w["y"] = (i % 3) * 8, (i // 3) * 6
    return {"widgets": widgets}


def put_alarms(settings: Settings, cfg: ModelConfig) -> list[str]:
    cw = client("cloudwatch")
    period = min(cfg.window_hours * 3600, MAX_PERIOD)
    names = alarm_names(settings, cfg)
    for name, spec in names.items():
        side = spec["side"]
        cw.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=(f"Driftline: {spec['metric']} of model {cfg.model_id} "
                              f"{'below' if side == 'min' else 'above'} its threshold {spec['threshold']:g}. "
                              "Notifies the alerts topic; entering ALARM also requests a run of the model "
                              "(the retrain policy decides)."),
            Namespace=NAMESPACE, MetricName=spec["metric"],
            Dimensions=[{"Name": "modelId", "Value": cfg.model_id}, {"Name": "service", "Value": EVALUATOR}],
            Statistic="Minimum" if side == "min" else "Maximum", Period=period, EvaluationPeriods=1,
            Threshold=spec["threshold"],
            ComparisonOperator="LessThanThreshold" if side == "min" else "GreaterThanThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[settings.alerts_topic_arn] if settings.alerts_topic_arn else [],
            Tags=[{"Key": "driftline:modelId", "Value": cfg.model_id}],
        )
    return sorted(names)


def _existing_alarms(settings: Settings, model_id: str) -> list[str]:
    """Alarm names of ``model_id`` found by prefix (another model's id may extend this one's: filtered out)."""
    prefix = f"driftline-{settings.stage}-{model_id}-"
    out: list[str] = []
    for page in client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix,
                                                                              AlarmTypes=["MetricAlarm"]):
        out.extend(a["AlarmName"] for a in page.get("MetricAlarms", []) if _SUFFIX.match(a["AlarmName"][len(prefix):]))
    return out


def _delete_alarms(names: Iterable[str]) -> None:
    names = sorted(set(names))
    for i in range(0, len(names), 100):  # DeleteAlarms takes at most 100 names
        client("cloudwatch").delete_alarms(AlarmNames=names[i:i + 100])


def sync_model(settings: Settings, cfg: ModelConfig, region: str) -> dict[str, Any]:
    """Create or update the model's dashboard and alarms; delete alarms of thresholds it no longer has."""
    cw = client("cloudwatch")
    name = dashboard_name(settings, cfg.model_id)
    body = json.dumps(dashboard_body(settings, cfg, region), allow_nan=False)
    cw.put_dashboard(DashboardName=name, DashboardBody=body)
    alarms = put_alarms(settings, cfg)
    stale = [a for a in _existing_alarms(settings, cfg.model_id) if a not in alarms]
    _delete_alarms(stale)
    return {"dashboard": name, "alarms": alarms, "removedAlarms": sorted(stale)}


def remove_model(settings: Settings, model_id: str) -> dict[str, Any]:
    """Delete the model's dashboard and every alarm of it (nothing else: runs and results stay)."""
    name = dashboard_name(settings, model_id)
    try:
        client("cloudwatch").delete_dashboards(DashboardNames=[name])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("ResourceNotFound", "DashboardNotFoundError"):
            raise
    stale = _existing_alarms(settings, model_id)
    _delete_alarms(stale)
    return {"dashboard": name, "removedAlarms": sorted(stale)}
