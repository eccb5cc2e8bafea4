"""A run's report rendered on this machine from the run's stored documents (when the API serves no report).

The run records come from the API (``GET /models/{id}/runs`` and ``GET .../runs/{runId}``), the evaluation's
details (confusion matrix, ROC and precision-recall curves) and per-feature drift from the run's documents in
S3; the page is drawn by the one report renderer (:func:`driftline_examples.report.render_report`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .aws import Target

#: runs of the model's recent history shown in the timelines
HISTORY = 30


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def day_of(index: int, run: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    """One run as a day of the renderer's summary (the same shape as ``make demo``'s ``summary.json``)."""
    drift = run.get("drift") or {}
    decision = run.get("decision") or {}
    deployment = run.get("deployment") or {}
    return {
        "day": index,
        "run_id": run.get("runId"),
        "window_end": (run.get("window") or {}).get("end"),
        "model_version": version or "-",
        "metrics": {k: f for k, v in (run.get("metrics") or {}).items() if (f := _finite(v)) is not None},
        "drift": {"detected": bool(drift.get("detected")),
                  "drifted_features": list(drift.get("driftedFeatures") or [])},
        "decision": {"retrain": bool(decision.get("retrain")), "reasons": list(decision.get("reasons") or [])},
        "deployed_version": (f"v{deployment.get('version')}" if deployment.get("status") == "InService" else None),
        "execution_status": run.get("status"),
    }


def _s3_json(target: Target, uri: str | None) -> dict[str, Any]:
    if not uri or not str(uri).startswith("s3://"):
        return {}
    bucket, _, key = str(uri).removeprefix("s3://").partition("/")
    try:
        return dict(json.loads(target.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))
    except Exception:  # noqa: BLE001 - a missing document only leaves its chart out
        return {}


def build(target: Target, model_id: str, run_id: str | None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(summary, details, focus_run)`` for the renderer: the model's last runs and the chosen run's details."""
    model = target.call("GET", f"/models/{model_id}")
    listed = target.call("GET", f"/models/{model_id}/runs", query={"limit": str(HISTORY)})["runs"]
    runs = [target.call("GET", f"/models/{model_id}/runs/{r['runId']}") for r in listed]
    runs.sort(key=lambda r: ((r.get("window") or {}).get("end") or "", r.get("startedAt") or ""))
    if run_id and all(r.get("runId") != run_id for r in runs):
        runs.append(target.call("GET", f"/models/{model_id}/runs/{run_id}"))
    focus = next((r for r in runs if r.get("runId") == run_id), runs[-1] if runs else {})
    days = [day_of(i, r) for i, r in enumerate(runs)]
    config = model.get("config") or {}
    thresholds = {t["metric"]: t.get("min", t.get("max")) for t in config.get("thresholds") or []}
    evaluation = _s3_json(target, focus.get("evaluationUri"))
    drift_doc = _s3_json(target, (focus.get("drift") or {}).get("resultUri"))
    ev = evaluation.get("details") or {}
    details: dict[str, Any] = {"thresholds": thresholds, "confusion_matrices": {}, "curves": {},
                               "days": [d["day"] for d in days]}
    if (ev.get("confusionMatrix") or {}).get("matrix"):
        details["confusion_matrices"][f"run {focus.get('runId')}"] = ev["confusionMatrix"]["matrix"]
    if ev.get("rocCurve") and ev.get("prCurve"):
        details["curves"][f"run {focus.get('runId')}"] = {
            "roc": {"fpr": ev["rocCurve"].get("fpr", []), "tpr": ev["rocCurve"].get("tpr", [])},
            "pr": {"precision": ev["prCurve"].get("precision", []), "recall": ev["prCurve"].get("recall", [])}}
    if config.get("problemType") == "regression":
        details["regression"] = {k: [d["metrics"].get(k) for d in days] for k in ("mse", "rmse")}
    feature_drift: dict[str, list[float | None]] = {}
    for i, r in enumerate(runs):
        per = (drift_doc if r is focus else _s3_json(target, (r.get("drift") or {}).get("resultUri"))).get("features")
        for name, value in (per or {}).items():
            feature_drift.setdefault(name, [None] * len(runs))[i] = _finite((value or {}).get("effectSize"))
    if feature_drift:
        details["feature_drift"] = feature_drift
    summary = {"days": days, "retrains": sum(d["decision"]["retrain"] for d in days),
               "deployments": sum(1 for d in days if d["deployed_version"]),
               "executions": dict(Counter(str(d["execution_status"]) for d in days))}
    return {"scenarios": {model_id: summary}}, {model_id: details}, focus


def render_local(target: Target, model_id: str, run_id: str | None, *, as_json: bool = False) -> str:
    """The report page (HTML) or, with ``as_json``, the data behind it."""
    from driftline_examples.report import render_report

    summary, details, focus = build(target, model_id, run_id)
    if as_json:
        return json.dumps({"modelId": model_id, "runId": focus.get("runId"), "summary": summary,
                           "details": details}, indent=1, default=str)
    return render_report(summary, details, title=f"Driftline report: {model_id}, run {focus.get('runId')}")
