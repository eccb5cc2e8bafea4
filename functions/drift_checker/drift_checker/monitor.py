"""The drift checker's ``monitor`` action: data quality, operational health and bias of a run's window.

It runs after the assessment (``Monitor`` state, between ``Assess`` and ``Decide``) and reads the window from the
columnar artifacts the evaluator and the drift check wrote (:mod:`driftline_common.artifacts`): the capture and
ground truth are parsed once per run. Each part is independent: one that cannot run (a constraints file that does
not parse, CloudWatch refusing the read...) is recorded as ``failed`` with its typed error, and the others — and
the run's model-quality part — go on. Results:

- ``runs/<modelId>/<runId>/data-quality/{statistics,constraint_violations}.json`` (Model Monitor's formats) and
  Model Monitor's CloudWatch metrics; signal ``DATA_QUALITY`` when a constraint is violated;
- the endpoint's ``AWS/SageMaker`` metrics against ``operational`` thresholds; signal ``OPERATIONAL_BREACH``;
- ``runs/<modelId>/<runId>/bias/analysis.json`` (Clarify's layout); signal ``BIAS`` on a threshold breach.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from driftline_common import bias_report, dq_summary, dq_window, operational
from driftline_common import data_quality as dq
from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.datasets import cached_labelled_window, read_capture, read_labelled_window
from driftline_common.dq_summary import Summary
from driftline_common.errors import DataFormatError, DriftlineError, InvalidConstraints
from driftline_common.observability import logger
from driftline_common.runs import RunRef
from driftline_common.s3io import S3Uri, get_json, put_json, sanitize
from driftline_common.settings import Settings

DATA_QUALITY = "DATA_QUALITY"
OPERATIONAL_BREACH = "OPERATIONAL_BREACH"
BIAS = "BIAS"
#: violations / breaches the compact summary lists (the files hold all)
MAX_LISTED = 20
#: PutMetricData takes at most 1,000 metrics per request
PUT_BATCH = 1000
#: a merge with the rows rejected for their values keeps every value of the sketch (the one-shot result)
EXACT_SKETCH = 1 << 62


def default_uris(cfg: ModelConfig) -> tuple[str, str]:
    """``statistics.json`` and ``constraints.json`` next to the config's ``baselineUri``."""
    base = cfg.baseline_uri.rsplit("/", 1)[0]
    return f"{base}/statistics.json", f"{base}/constraints.json"


def _read_doc(uri: str) -> Any:
    try:
        return get_json(uri)
    except FileNotFoundError:
        raise InvalidConstraints(f"{uri}: <root>: the file does not exist", uri=uri, entry="<root>") from None
    except DriftlineError as exc:
        raise InvalidConstraints(f"{uri}: <root>: {exc.message}", uri=uri, entry="<root>") from None


def _exists(uri: str) -> bool:
    loc = S3Uri.parse(uri)
    listed = client("s3").list_objects_v2(Bucket=loc.bucket, Prefix=loc.key, MaxKeys=1)
    return any(o.get("Key") == loc.key for o in listed.get("Contents", []))


def _put_metrics(namespace: str, dims: list[dict[str, str]] | None, data: list[dict[str, Any]], when: datetime
                 ) -> int:
    """Publish ``data`` (entries with their own ``Dimensions`` when ``dims`` is ``None``) in batches."""
    cw = client("cloudwatch")
    entries = [{**d, **({"Dimensions": dims} if dims is not None else {}), "Timestamp": when} for d in data]
    for i in range(0, len(entries), PUT_BATCH):
        cw.put_metric_data(Namespace=namespace, MetricData=entries[i:i + PUT_BATCH])
    return len(entries)


def window_summaries(settings: Settings, cfg: ModelConfig, run: RunRef) -> tuple[dict[str, Summary], str]:
    """Per feature, the summary of the window's values and where it came from: the shards' summaries merged
    (``shards``, a sharded run: each ``check_shard`` wrote its own) or the window read here (``window``); the rows
    the window reader rejects for a missing or non-numeric value are read again per feature
    (:mod:`driftline_common.dq_window`), so completeness is per feature."""
    kinds = [(f.name, f.type) for f in cfg.features]
    shard_docs = shard_summaries(settings, run)
    if shard_docs:
        if any(name not in d for d in shard_docs for name, _kind in kinds):
            raise DataFormatError("a shard's data-quality summaries do not cover every feature of the config")
        merged = {name: dq_summary.merge([d[name] for d in shard_docs]) for name, _kind in kinds}
        return merged, "shards"
    captured = read_capture(cfg, run.start, run.end, cache=run.prefix(settings.bucket).child("window"))
    columns = dq.summaries(kinds, captured.features)
    if any(captured.bad.get(r, 0) for r in dq_window.VALUE_REASONS):
        found, partial = dq_window.rejected_rows(cfg, run.start, run.end)
        if found:
            columns = {name: dq_summary.merge([columns[name], partial[name]], sketch=EXACT_SKETCH)
                       for name, _kind in kinds}
    return columns, "window"


def shard_summaries(settings: Settings, run: RunRef) -> list[dict[str, Summary]]:
    """The data-quality summaries the shards of a sharded run wrote (none for an unsharded run)."""
    prefix = run.prefix(settings.bucket).child("shards", "drift")
    s3 = client("s3")
    out: list[dict[str, Summary]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=prefix.bucket, Prefix=prefix.key + "/"):
        for obj in page.get("Contents", []):
            doc = get_json(str(S3Uri(prefix.bucket, obj["Key"])))
            pieces = doc.get("dataQuality") if isinstance(doc, dict) else None
            if not isinstance(pieces, dict):
                raise DataFormatError(f"the shard document s3://{prefix.bucket}/{obj['Key']} holds no data-quality "
                                      "summaries", uri=f"s3://{prefix.bucket}/{obj['Key']}")
            out.append({name: dq_summary.from_json(p) for name, p in pieces.items()})
    return out


def data_quality_part(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """Check the window against the constraints; write the statistics and the violations; emit the metrics."""
    section = cfg.data_quality
    stats_default, cons_default = default_uris(cfg)
    stats_uri = (section.statistics_uri if section else None) or stats_default
    cons_uri = (section.constraints_uri if section else None) or cons_default
    if section is None and not _exists(cons_uri):
        return {"status": "not_configured"}
    names = [f.name for f in cfg.features]
    constraints = dq.parse_constraints(_read_doc(cons_uri), cons_uri, names)
    baseline = None
    if (section and section.statistics_uri) or _exists(stats_uri):
        baseline = dq.parse_statistics(_read_doc(stats_uri), stats_uri)
    kinds = [(f.name, f.type) for f in cfg.features]
    columns, source = window_summaries(settings, cfg, run)
    stats = dq.statistics_of(kinds, columns)
    violations, measures = dq.check(constraints, baseline, kinds, columns)
    out_dir = run.prefix(settings.bucket).child("data-quality")
    put_json(out_dir.child("statistics.json"), stats)
    violations_uri = put_json(out_dir.child("constraint_violations.json"), {"violations": violations})
    emitted = 0
    if (section is None or section.emit_metrics) and constraints.monitoring_config.get("emit_metrics") != "Disabled":
        namespace = section.namespace if section else dq.NAMESPACE
        schedule = (section.schedule_name if section else None) or cfg.model_id
        dims = [{"Name": "Endpoint", "Value": cfg.endpoint_name}, {"Name": "MonitoringSchedule", "Value": schedule}]
        emitted = _put_metrics(namespace, dims, dq.cloudwatch_metrics(measures, stats), run.end)
    checks = Counter(v["constraint_check_type"] for v in violations)
    return {"status": "ok", "configured": section is not None, "violations": len(violations),
            "checks": dict(sorted(checks.items())),
            "listed": violations[:MAX_LISTED], "violationsUri": violations_uri,
            "statisticsUri": str(out_dir.child("statistics.json")), "constraintsUri": cons_uri,
            "baselineStatisticsUri": stats_uri if baseline is not None else None,
            "itemCount": stats["dataset"]["item_count"], "metricsEmitted": emitted, "source": source}


def operational_part(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """The endpoint's metrics of the window against the ``operational`` thresholds."""
    if not cfg.operational:
        return {"status": "not_configured"}
    values = operational.read_metrics(client("cloudwatch"), cfg.endpoint_name, cfg.deployment.variant_name,
                                      cfg.operational, run.start, run.end)
    checks = operational.evaluate(cfg.operational, values)
    return {"status": "ok", "checks": checks, "metrics": values,
            "breached": [c for c in checks if c["status"] == "breached"]}


def bias_part(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """Clarify's analysis of the labelled window; breaches of the ``bias`` thresholds."""
    if cfg.bias is None:
        return {"status": "not_configured"}
    cache = run.prefix(settings.bucket).child("window")
    window = cached_labelled_window(cfg, run.start, run.end, cache) or read_labelled_window(
        cfg, run.start, run.end, cache=cache)
    if window.size == 0:
        return {"status": "insufficient_data", "sampleSize": 0}
    doc = bias_report.analysis(cfg, cfg.bias, window)
    uri = put_json(run.prefix(settings.bucket).child("bias", "analysis.json"), doc)
    found = bias_report.breaches(cfg.bias, doc)
    emitted = 0
    if cfg.bias.emit_metrics:
        metrics = bias_report.cloudwatch_metrics(doc, cfg.endpoint_name, cfg.bias.schedule_name or cfg.model_id)
        emitted = _put_metrics(cfg.bias.namespace, None, metrics, run.end)
    return {"status": "ok", "sampleSize": window.size, "analysisUri": uri, "breaches": found[:MAX_LISTED],
            "breachCount": len(found), "retrain": cfg.bias.retrain, "metricsEmitted": emitted}


def _guard(name: str, part: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return part()
    except DriftlineError as exc:
        logger.warning("monitor part failed", extra={"part": name, "error": type(exc).__name__})
        return {"status": "failed", "error": exc.to_dict()}
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
        logger.warning("monitor part failed", extra={"part": name, "error": code})
        return {"status": "failed",
                "error": {"error": "AwsError", "message": str(exc)[:500], "details": {"code": code}}}


def run_monitor(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """Every part of the monitor step; the signals they raise; the compact summary (full files on S3)."""
    dq_result = _guard("dataQuality", lambda: data_quality_part(settings, cfg, run))
    op_result = _guard("operational", lambda: operational_part(settings, cfg, run))
    bias_result = _guard("bias", lambda: bias_part(settings, cfg, run))
    signals = []
    if dq_result.get("violations"):
        signals.append(DATA_QUALITY)
    if op_result.get("breached"):
        signals.append(OPERATIONAL_BREACH)
    if bias_result.get("breachCount"):
        signals.append(BIAS)
    summary = sanitize({"signals": signals, "dataQuality": dq_result, "operational": op_result,
                        "bias": bias_result})
    put_json(run.prefix(settings.bucket).child("monitor.json"), summary)
    return summary
