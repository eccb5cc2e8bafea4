"""Metrics of the live model on a labelled window, and the paired challenger-versus-champion comparison.

Pure computations on numpy arrays (no AWS here except through :mod:`driftline_common` data access in
:func:`run_evaluation` / :func:`run_comparison`), so the numbers are testable against scikit-learn.

Binary models: the score is the positive-class probability; a prediction is positive when
``score > decisionThreshold`` (the captured ``predicted_label`` is used only when no score was captured).
Multiclass: per-class scores in the order of the config's ``labels`` (prediction = arg max) or predicted
labels; ``precision``/``recall``/``f1`` are macro averages, ``*_weighted`` the support-weighted ones.
Regression: the score is the prediction.

Promotion (``compare``): the champion, the retrained challenger and — for a binary classifier whose threshold
metrics breached while its ranking held — the champion with a recalibrated decision threshold are scored on the
SAME labelled rows (the challenger's ``evaluation_predictions.csv`` aligned by ``inference_id`` with the
champion's captured scores). The metrics that breached must improve (paired tests of :mod:`metric_evaluator.stats`,
Holm-corrected), every other thresholded metric must stay within its non-inferiority margin; see
docs/decisions.md.
"""


from __future__ import annotations

import math
from functools import partial
from typing import Any

import driftline_metrics as dm
import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from driftline_common.config import ModelConfig
from driftline_common.datasets import (
    LabelledWindow,
    read_labelled_window,
    write_dataset_columns,
)
from driftline_common.observability import add_metric, metrics
from driftline_common.runs import RunRef
from driftline_common.s3io import put_json, sanitize
from driftline_common.settings import Settings
from driftline_common.store import iso

from metric_evaluator import stats
from metric_evaluator.problem import (
    Problem,
    _is_proba,
    _safe,
    apply_class_offsets,
    downsample,
    prepare,
)


def compute_metrics(p: Problem) -> dict[str, Any]:
    """Metrics, confusion matrix and curves of a prepared problem (``{"metrics", "details", "undefined"}``)."""
    notes = dict(p.notes)
    m: dict[str, float] = {}
    details: dict[str, Any] = {}
    if p.kind == "regression":
        yr, pr = p.y, p.y_pred
        m["mse"] = _safe(lambda: dm.mean_squared_error(yr, pr), "mse", notes)
        m["rmse"] = _safe(lambda: dm.root_mean_squared_error(yr, pr), "rmse", notes)
        m["mae"] = _safe(lambda: dm.mean_absolute_error(yr, pr), "mae", notes)
        m["r2"] = _safe(lambda: dm.r2_score(yr, pr), "r2", notes)
        m["mape"] = _safe(lambda: dm.mean_absolute_percentage_error(yr, pr), "mape", notes)
        return {"metrics": m, "details": details, "undefined": notes}

    y, yp = p.y, p.y_pred
    if p.kind == "binary":
        m["accuracy"] = _safe(lambda: dm.accuracy_score(y, yp), "accuracy", notes)
        m["balanced_accuracy"] = _safe(lambda: dm.balanced_accuracy_score(y, yp), "balanced_accuracy", notes)
        m["precision"] = _safe(lambda: dm.precision_score(y, yp, zero_division=np.nan), "precision", notes)
        m["recall"] = _safe(lambda: dm.recall_score(y, yp, zero_division=np.nan), "recall", notes)
        m["f1"] = _safe(lambda: dm.f1_score(y, yp, zero_division=np.nan), "f1", notes)
        m["mcc"] = _safe(lambda: dm.matthews_corrcoef(y, yp), "mcc", notes)
        cm = dm.confusion_matrix(y, yp, labels=[0, 1])
        names = [p.labels[1 - p.positive], p.labels[p.positive]] if len(p.labels) == 2 else ["0", "1"]
        details["confusionMatrix"] = {"labels": names, "matrix": cm.tolist()}
        s = p.scores
        if s is not None:
            m["roc_auc"] = _safe(lambda: dm.roc_auc_score(y, s), "roc_auc", notes)
            m["average_precision"] = _safe(lambda: dm.average_precision_score(y, s), "average_precision", notes)
            if _is_proba(s):
                m["log_loss"] = _safe(lambda: dm.log_loss(y, s, labels=[0, 1]), "log_loss", notes)
                m["brier"] = _safe(lambda: dm.brier_score_loss(y, s, pos_label=1), "brier", notes)
            else:
                notes["log_loss"] = notes["brier"] = "scores are not probabilities in [0, 1]"
            if np.unique(y).size == 2:
                fpr, tpr, thr = dm.roc_curve(y, s)
                details["rocCurve"] = dict(zip(("fpr", "tpr", "thresholds"), downsample(fpr, tpr, thr), strict=True))
                prec, rec, thr2 = dm.precision_recall_curve(y, s)
                pts = downsample(prec[:-1], rec[:-1], thr2)
                details["prCurve"] = {"precision": pts[0], "recall": pts[1], "thresholds": pts[2]}
        return {"metrics": m, "details": details, "undefined": notes}

    k = len(p.labels)
    known = yp >= 0
    if not np.all(known):
        notes["predictions"] = f"{int((~known).sum())} predicted labels are not among the config's labels"
    m["accuracy"] = _safe(lambda: dm.accuracy_score(y, yp), "accuracy", notes)
    m["balanced_accuracy"] = _safe(lambda: dm.balanced_accuracy_score(y, yp), "balanced_accuracy", notes)
    m["mcc"] = _safe(lambda: dm.matthews_corrcoef(y, yp), "mcc", notes)
    labs = list(range(k))
    for name, fn in (("precision", dm.precision_score), ("recall", dm.recall_score), ("f1", dm.f1_score)):
        for avg, key in (("macro", name), ("weighted", f"{name}_weighted")):
            m[key] = _safe(partial(fn, y, yp, labels=labs, average=avg, zero_division=np.nan), key, notes)
    cm = dm.confusion_matrix(y, yp, labels=labs)
    details["confusionMatrix"] = {"labels": p.labels, "matrix": cm.tolist()}
    s = p.scores
    if s is not None:
        if _is_proba(s) and np.allclose(s.sum(axis=1), 1.0, atol=1e-6):
            m["roc_auc"] = _safe(lambda: dm.roc_auc_score(y, s, multi_class="ovr", labels=labs), "roc_auc", notes)
            m["log_loss"] = _safe(lambda: dm.log_loss(y, s, labels=labs), "log_loss", notes)
        else:
            notes["roc_auc"] = notes["log_loss"] = "per-class scores are not probabilities summing to 1"
    return {"metrics": m, "details": details, "undefined": notes}


REPORT_BINS = 10  # reliability-curve bins (equal width over [0, 1])
RESIDUAL_BINS = 30  # residual histogram and predicted-vs-actual grid


def report_details(p: Problem, decision_threshold: float | None) -> dict[str, Any]:
    """What the run report draws and a confusion matrix cannot give: small, fixed-size summaries of the window.

    - binary with probability scores: ``calibration`` (``REPORT_BINS`` equal-width bins of the score:
      ``edges``, ``count``, ``meanPredicted``, ``fractionPositive``) and ``decisionThreshold``;
    - multiclass with per-class probabilities: ``rocCurves`` one-vs-rest per class (``{label: {fpr, tpr, auc}}``);
    - regression: ``residualHistogram`` (``edges``, ``counts`` of ``y - prediction``) and ``predictedVsActual``
      (``edges`` shared by both axes, ``counts[i][j]`` rows of actual bin ``i`` and predicted bin ``j``).

    Every array is bounded (bins, ``MAX_CURVE_POINTS``) whatever the window size. See docs/reports.md.
    """
    out: dict[str, Any] = {}
    s = p.scores
    if p.kind == "regression":
        y, yp = np.asarray(p.y, dtype=float), np.asarray(p.y_pred, dtype=float)
        ok = np.isfinite(y) & np.isfinite(yp)
        if ok.any():
            resid = y[ok] - yp[ok]
            counts, edges = np.histogram(resid, bins=RESIDUAL_BINS)
            out["residualHistogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
            lo, hi = float(min(y[ok].min(), yp[ok].min())), float(max(y[ok].max(), yp[ok].max()))
            grid = np.linspace(lo, hi if hi > lo else lo + 1.0, RESIDUAL_BINS + 1)
            h, _, _ = np.histogram2d(y[ok], yp[ok], bins=[grid, grid])
            out["predictedVsActual"] = {"edges": grid.tolist(), "counts": h.astype(int).tolist()}
        return out
    if p.kind == "binary" and s is not None and _is_proba(s) and s.size:
        edges = np.linspace(0.0, 1.0, REPORT_BINS + 1)
        idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, REPORT_BINS - 1)
        count = np.bincount(idx, minlength=REPORT_BINS)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_pred = np.bincount(idx, weights=s, minlength=REPORT_BINS) / count
            frac_pos = np.bincount(idx, weights=(p.y == 1).astype(float), minlength=REPORT_BINS) / count
        out["calibration"] = {"edges": edges.tolist(), "count": count.tolist(),
                              "meanPredicted": mean_pred.tolist(), "fractionPositive": frac_pos.tolist()}
    if p.kind == "binary" and decision_threshold is not None:
        out["decisionThreshold"] = float(decision_threshold)
    if p.kind == "multiclass" and s is not None and s.ndim == 2 and _is_proba(s):
        curves: dict[str, Any] = {}
        for k, label in enumerate(p.labels):
            yk = (p.y == k).astype(np.int64)
            if 0 < yk.sum() < yk.size:
                fpr, tpr, _ = dm.roc_curve(yk, s[:, k])
                pts = downsample(fpr, tpr)
                curves[str(label)] = {"fpr": pts[0], "tpr": pts[1], "auc": float(dm.roc_auc_score(yk, s[:, k]))}
        out["rocCurves"] = curves
    return out


def check_thresholds(cfg: ModelConfig, metrics: dict[str, float],
                     bounds: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Breaches of the config's thresholds (a NaN metric breaches nothing: it is reported as undefined).

    With ``bounds`` (``{metric: {"lower", "upper", "confidence", "method"}}``, one-sided bounds of the window's
    metric) a metric breaches a ``min`` only when its upper bound is below it and a ``max`` only when its lower
    bound is above it: the window is below the threshold with that confidence, not merely by its point estimate.
    A metric without a bound is judged on its point estimate. Each breach reports the bound it was judged on.
    """
    out: list[dict[str, Any]] = []
    for t in cfg.thresholds:
        value = metrics.get(t.metric, math.nan)
        if not math.isfinite(value):
            continue
        b = (bounds or {}).get(t.metric)
        upper = b["upper"] if b and math.isfinite(b.get("upper", math.nan)) else value
        lower = b["lower"] if b and math.isfinite(b.get("lower", math.nan)) else value
        extra = {"interval": b} if b else {}
        if t.min is not None and upper < t.min:
            out.append({"metric": t.metric, "value": value, "min": t.min, **extra})
        elif t.max is not None and lower > t.max:
            out.append({"metric": t.metric, "value": value, "max": t.max, **extra})
    return out


def metric_bounds(cfg: ModelConfig, p: Problem, metrics: dict[str, float]) -> dict[str, dict[str, Any]]:
    """One-sided bounds at ``retrainPolicy.thresholdConfidence`` of every thresholded metric of the window."""
    confidence = cfg.retrain_policy.threshold_confidence
    out: dict[str, dict[str, Any]] = {}
    for t in cfg.thresholds:
        if t.metric in out or not math.isfinite(metrics.get(t.metric, math.nan)):
            continue
        b = stats.window_bounds(t.metric, kind=p.kind, y=p.y, y_pred=p.y_pred, scores=p.scores,
                                confidence=confidence)
        if b is not None and math.isfinite(b["lower"]) and math.isfinite(b["upper"]):
            out[t.metric] = b
    return out


def merged_bounds(cfg: ModelConfig, metrics: dict[str, float], details: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bounds of a sharded (merged) evaluation from its confusion matrix (regression: none, point estimates)."""
    matrix = (details.get("confusionMatrix") or {}).get("matrix")
    if cfg.problem_type == "regression" or not matrix:
        return {}
    return stats.bounds_from_counts([t.metric for t in cfg.thresholds], metrics, np.asarray(matrix),
                                    cfg.retrain_policy.threshold_confidence, binary=cfg.problem_type == "binary")


def evaluate_window(cfg: ModelConfig, window: LabelledWindow, *, class_offsets: list[float] | None = None
                    ) -> dict[str, Any]:
    """The full evaluation document of a joined window (JSON-safe apart from NaN); ``class_offsets``: a multiclass
    champion's recalibration, applied to its scores (:func:`~metric_evaluator.problem.apply_class_offsets`)."""
    thresholds = [t.model_dump(mode="json", exclude_none=True) for t in cfg.thresholds]
    base: dict[str, Any] = {
        "sampleSize": window.size,
        "badRecords": window.bad_records(),
        "badRecordReasons": window.bad_reasons(),
        "unlabelled": window.unlabelled,
        "thresholds": thresholds,
    }
    if window.size == 0:
        return {**base, "status": "insufficient_data", "metrics": {}, "details": {}, "undefined": {},
                "breaches": [], "breached": False}
    scores = apply_class_offsets(window.scores, class_offsets) if cfg.problem_type == "multiclass" else window.scores
    p = prepare(cfg, window.y_true, scores, window.predicted)
    res = compute_metrics(p)
    bounds = metric_bounds(cfg, p, res["metrics"])
    breaches = check_thresholds(cfg, res["metrics"], bounds)
    res["intervals"] = bounds
    if p.kind != "regression":
        support = np.bincount(p.y[p.y >= 0], minlength=2 if p.kind == "binary" else len(p.labels))
        res["details"]["classCounts"] = support.tolist()
    res["details"].update(report_details(p, cfg.decision_threshold))
    return {**base, "status": "ok", **res, "breaches": breaches, "breached": bool(breaches)}




def summarize(doc: dict[str, Any], result_uri: str, dataset_uri: str) -> dict[str, Any]:
    """The compact ``evaluate`` summary of a full evaluation document (the state carries this, S3 the rest)."""
    summary = {
        "status": doc["status"],
        "sampleSize": doc["sampleSize"],
        "badRecords": doc["badRecords"],
        "unlabelled": doc["unlabelled"],
        "metrics": {k: float(v) for k, v in doc["metrics"].items()},
        "thresholds": doc["thresholds"],
        "breaches": doc["breaches"],
        "breached": doc["breached"],
        "intervals": doc.get("intervals") or {},
        "resultUri": result_uri,
        "datasetUri": dataset_uri,
    }
    counts = (doc.get("details") or {}).get("classCounts")
    if counts is not None:  # classification: the label-shift rule of the decision reads them (policy_labelshift)
        summary["classCounts"] = [int(v) for v in counts]
    if "sharding" in doc:
        summary["sharding"] = doc["sharding"]
    return summary


def emit_metrics(model_id: str, summary: dict[str, Any]) -> None:
    """CloudWatch metrics (EMF through Powertools), dimension ``modelId``."""
    metrics.add_dimension(name="modelId", value=model_id)
    metrics.add_metric(name="SampleSize", unit=MetricUnit.Count, value=summary["sampleSize"])
    metrics.add_metric(name="BadRecords", unit=MetricUnit.Count, value=sum(summary["badRecords"].values()))
    metrics.add_metric(name="ThresholdBreaches", unit=MetricUnit.Count, value=len(summary["breaches"]))
    for name, value in summary["metrics"].items():
        add_metric(name, value)  # through the CloudWatch number boundary: NaN/inf/out-of-range not emitted


def run_evaluation(settings: Settings, cfg: ModelConfig, run: RunRef, *, class_offsets: list[float] | None = None
                   ) -> dict[str, Any]:
    """Read and join the window, evaluate, write the result and the dataset's columns to S3; the compact summary."""
    prefix = run.prefix(settings.bucket)
    window = read_labelled_window(cfg, run.start, run.end, cache=prefix.child("window"))
    doc = evaluate_window(cfg, window, class_offsets=class_offsets)
    # the dataset CSV is written when first read (a retrain, the comparison): only its columns now
    dataset_uri = write_dataset_columns(str(prefix.child("dataset.csv")), cfg, window)
    doc.update(modelId=run.model_id, runId=run.run_id, problemType=cfg.problem_type,
               window={"start": iso(run.start), "end": iso(run.end)}, datasetUri=dataset_uri)
    summary = summarize(doc, put_json(prefix.child("evaluation.json"), doc), dataset_uri)
    emit_metrics(run.model_id, summary)
    return sanitize(summary)
