"""Collect a run's stored documents and write ``runs/<modelId>/<runId>/report.html`` and ``report.json``.

Reads only what the run and the last runs already stored (run records, ``evaluation.json``, ``drift.json``,
``comparison.json``): a document that is missing leaves its charts out and the page says why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from driftline_common.aws import client
from driftline_common.edge import check_model_id, check_run_id
from driftline_common.errors import DataFormatError, InvalidEvent, ModelNotFound, RunNotFound
from driftline_common.numbers import dumps
from driftline_common.observability import logger
from driftline_common.s3io import S3Uri, get_json, sanitize
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore, iso, utcnow
from driftline_report import SCHEMA, build_report, render_html
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from report.lineage import collect_lineage

#: how many runs the history charts show (``REPORT_HISTORY_RUNS`` overrides)
HISTORY_RUNS = 20
#: run-record fields a monitor step may add (data quality, bias, operational health): shown when present
EXTRA_FIELDS = ("dataQuality", "bias", "operational")
#: what the drift heat maps read of each feature of a ``drift.json`` (``driftInputs`` in ``report.json``)
DRIFT_INPUT_KEYS = ("status", "effect", "effectThreshold", "effectSize", "pvalue", "pvalueAdjusted", "drifted",
                    "test")


class ReportEvent(BaseModel):
    """What the state machine passes: the execution's state (``$``), the run id and which path it came from."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    run_id: str = Field(alias="runId", min_length=1, max_length=80)
    outcome: Literal["succeeded", "failed"]
    state: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class ReportRequest:
    model_id: str
    run_id: str
    outcome: str


def _model_id_of(state: Mapping[str, Any]) -> Any:
    for path in (("run", "modelId"), ("failure", "modelId"), ("modelId",), ("request", "modelId")):
        obj: Any = state
        for key in path:
            obj = obj.get(key) if isinstance(obj, Mapping) else None
        if obj:
            return obj
    return None


def parse_event(event: Any) -> ReportRequest:
    """The report request, or :class:`InvalidEvent` saying what is wrong."""
    try:
        ev = ReportEvent.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors())
        raise InvalidEvent(f"invalid report event: {problems}") from None
    model_id = _model_id_of(ev.state)
    if model_id is None:
        raise InvalidEvent("the report event's state names no model (state.run.modelId, state.failure.modelId "
                           "or state.modelId)", field="state")
    return ReportRequest(check_model_id(model_id), check_run_id(ev.run_id), ev.outcome)


def _doc(uri: S3Uri) -> dict[str, Any] | None:
    try:
        doc = get_json(uri)
    except (FileNotFoundError, DataFormatError) as exc:
        if isinstance(exc, DataFormatError):
            logger.warning("unreadable run document", extra={"uri": str(uri)})
        return None
    return doc if isinstance(doc, dict) else None


def history_limit() -> int:
    raw = os.environ.get("REPORT_HISTORY_RUNS", "")
    return max(1, min(int(raw), 100)) if raw.isdigit() else HISTORY_RUNS


def drift_inputs(doc: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The part of a run's ``drift.json`` the heat maps read (tested features only), kept in ``report.json`` as
    ``driftInputs`` so that the next run's report need not read that document again."""
    return {str(name): {k: f.get(k) for k in DRIFT_INPUT_KEYS}
            for name, f in ((doc or {}).get("features") or {}).items()
            if isinstance(f, Mapping) and f.get("status") == "tested" and f.get("effect")}


def _previous(base: S3Uri, listed: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the newest earlier run's ``report.json`` already read from the documents of the runs before it:
    ``{runId: history entry}`` of the runs whose evaluation it had (intervals) and ``{runId: drift inputs}``.
    Evaluation and drift documents are written once per run, so these stay true; a run it saw without them (still
    running then) is read again."""
    if not listed:
        return {}, {}
    prev = _doc(base.child(str(listed[-1].get("runId")), "report.json"))
    if not prev or prev.get("schema") != SCHEMA:
        return {}, {}
    runs = (prev.get("history") or {}).get("runs") or []
    history = {str(r.get("runId")): r for r in runs if isinstance(r, Mapping) and r.get("evaluated")}
    drift = {str(k): v for k, v in (prev.get("driftInputs") or {}).items() if isinstance(v, Mapping) and v}
    return history, drift


def collect(settings: Settings, model_id: str, run_id: str, *, outcome: str = "succeeded",
            now: datetime | None = None) -> dict[str, Any]:
    """The run's ``report.json`` from what is stored.

    The earlier runs' metrics and intervals come from their records (the decide step stores the intervals), else
    from the previous run's ``report.json``; their drift from that report's ``driftInputs``: one read instead of
    two per run of history. Whatever neither holds is read from the run's documents."""
    runs, models = RunStore(settings), ModelStore(settings)
    try:
        run = runs.get(model_id, run_id)
    except RunNotFound:
        run = {"modelId": model_id, "runId": run_id, "status": "FAILED" if outcome == "failed" else "UNKNOWN",
               "reason": "the run was not recorded (it failed before it started)"}
    try:
        config: dict[str, Any] | None = models.get_config_item(model_id)
    except ModelNotFound:
        config = None
    base = S3Uri(settings.bucket, f"runs/{model_id}")
    evaluation = _doc(base.child(run_id, "evaluation.json"))
    drift = _doc(base.child(run_id, "drift.json"))
    comparison = _doc(base.child(run_id, "comparison.json"))
    listed = [r for r in runs.list(model_id, limit=history_limit()) if r.get("runId") != run_id][::-1]
    keep = history_limit() - 1  # this run is the last point
    listed = listed[-keep:] if keep else []
    seen_history, seen_drift = _previous(base, listed)
    history: list[dict[str, Any]] = []
    drift_history: list[tuple[str, dict[str, Any] | None]] = []
    for r in [*listed, run]:
        rid = str(r.get("runId"))
        if rid == run_id:
            ev, dr = evaluation, drift
        else:
            seen = seen_history.get(rid)
            if "intervals" in r and r.get("metrics"):  # the record has what the history charts need
                ev = {"intervals": r["intervals"], "metrics": r["metrics"]}
            elif seen:
                ev = {"intervals": seen.get("intervals") or {}, "metrics": seen.get("metrics") or {}}
            else:
                ev = _doc(base.child(rid, "evaluation.json"))
            dr = {"features": seen_drift[rid]} if rid in seen_drift else _doc(base.child(rid, "drift.json"))
        history.append({**r, "evaluation": ev})
        if dr is not None:
            drift_history.append((rid, dr))
    extras = {k: run[k] for k in EXTRA_FIELDS if run.get(k)}
    gaps: list[str] = []
    lineage = collect_lineage(models, model_id, run, gaps) if config is not None else None
    report = build_report(run=run, config=config, evaluation=evaluation, drift=drift, comparison=comparison,
                          history=history, drift_history=drift_history, generated_at=iso(now or utcnow()),
                          extras=extras, lineage=lineage, lineage_gaps=gaps)
    report["driftInputs"] = {rid: drift_inputs(doc) for rid, doc in drift_history}
    return sanitize(report)


def write_report(settings: Settings, request: ReportRequest, *, now: datetime | None = None) -> dict[str, Any]:
    """Write ``report.json`` and ``report.html`` under the run's prefix; their URIs and what is missing."""
    report = collect(settings, request.model_id, request.run_id, outcome=request.outcome, now=now)
    html = render_html(report)
    prefix = S3Uri(settings.bucket, f"runs/{request.model_id}/{request.run_id}")
    s3 = client("s3")
    json_uri, html_uri = prefix.child("report.json"), prefix.child("report.html")
    s3.put_object(Bucket=json_uri.bucket, Key=json_uri.key, ContentType="application/json",
                  Body=dumps(report, separators=(",", ":")).encode())
    s3.put_object(Bucket=html_uri.bucket, Key=html_uri.key, ContentType="text/html; charset=utf-8",
                  Body=html.encode("utf-8"))
    logger.info("report written", extra={"uri": str(html_uri), "missing": len(report["missing"])})
    return {"reportUri": str(html_uri), "reportJsonUri": str(json_uri), "missing": len(report["missing"]),
            "bytes": len(html)}
