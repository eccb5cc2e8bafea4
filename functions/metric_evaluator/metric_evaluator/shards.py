"""Sharded evaluation: one partial state per shard of capture objects, merged by a reduce step.

A sharded run (``run.sharded``, set by retrain_launcher ``start_run`` when the window's capture is larger than
the config's ``sharding.thresholdBytes``) fans out over the window's capture objects with a Step Functions
Distributed Map. Every child workflow runs ``evaluate_shard`` on a batch of objects: it reads them, joins them
with the window's ground truth (every shard reads all the window's labels: they are small next to the
capture), and writes the shard's mergeable states (:mod:`driftline_metrics.partial`) and its rows of the
labelled dataset to ``runs/<modelId>/<runId>/shards/evaluate/<shardId>.{json,csv}``. ``reduce`` merges the
states and returns the summary of ``evaluate`` (same keys, plus ``sharding``).

Exactness (binary and regression; multiclass models are never sharded):

- accuracy, balanced accuracy, precision, recall, F1 and MCC come from the merged confusion matrix: equal to
  the one-shot evaluation; Brier score and log loss are merged sums (equal up to float rounding); MSE, RMSE,
  MAE, R2 and MAPE from the merged :class:`~driftline_metrics.partial.RegressionState` (likewise);
- ROC AUC and average precision come from a score histogram of :data:`SCORE_RESOLUTION` bins and differ from
  the exact values by at most ``sharding.rocAucErrorBound`` / ``sharding.averagePrecisionErrorBound``, both
  returned (see :class:`~driftline_metrics.partial.BinaryScoreState`);
- window bounds (``intervals``): confusion-matrix metrics and ROC AUC from the merged counts; average precision,
  log loss, Brier and the regression metrics from each shard's mergeable ``moments``
  (:mod:`metric_evaluator.shard_bounds`), equal to the one-shot bounds up to float rounding;
- counts: ``unlabelled`` and bad capture records add up; ``unmatched`` is the window's labels minus the
  labels the shards matched. A duplicate inference id in two different shards is not detected (within a shard
  it is, as in the one-shot path);
- the run report's chart data (:mod:`metric_evaluator.chart_data`): binary ROC / PR curves from the merged score
  histogram, reliability bins from per-shard sums (exact); regression residual histogram and predicted vs actual
  from each shard's fine histograms over its own range, re-binned onto the merged range (``approximate``).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.datasets import (
    LabelledWindow,
    capture_keys_in_window,
    dataset_csv,
    ground_truth_end,
    join,
    norm_label,
    read_capture_keys,
    read_ground_truth,
)
from driftline_common.errors import DataFormatError, InvalidEvent
from driftline_common.runs import RunRef
from driftline_common.s3io import S3Uri, get_bytes, put_json, sanitize
from driftline_common.settings import Settings
from driftline_common.shards import item_keys, load_shards, shard_id
from driftline_common.store import iso
from driftline_metrics.exceptions import UndefinedMetricWarning
from driftline_metrics.partial import BinaryScoreState, ConfusionMatrixState, RegressionState, merge_states

from metric_evaluator.chart_data import merge_chart_pieces, shard_chart_pieces
from metric_evaluator.evaluate import check_thresholds, emit_metrics, merged_bounds, summarize
from metric_evaluator.problem import _class_index
from metric_evaluator.shard_bounds import bounds_from_moments, shard_moments

SHARD_SCHEMA = "driftline.evaluate-shard/v1"
#: bins of the score histogram (ROC AUC / average precision error shrinks like 1 / resolution)
SCORE_RESOLUTION = 1 << 14
NO_SCORE_NOTE = "no score captured for every row: ranking metrics undefined, predicted labels used"


# ---------------------------------------------------------------------------------------------------- shard
def _binary_scores(cfg: ModelConfig, window: LabelledWindow, pos: int) -> np.ndarray:
    s = np.asarray(window.scores, dtype=np.float64)
    if s.ndim == 2:
        s = s[:, pos] if s.shape[1] == len(cfg.labels or []) else s[:, -1]
    return s


def shard_states(cfg: ModelConfig, window: LabelledWindow, *, labels_in_window: int) -> dict[str, Any]:
    """The mergeable document of one shard's labelled rows (JSON-safe).

    ``labels_in_window`` is the number of ground-truth labels of the whole window (each shard reads them all).
    """
    doc: dict[str, Any] = {
        "schema": SHARD_SCHEMA, "problemType": cfg.problem_type, "sampleSize": window.size,
        "unlabelled": int(window.unlabelled), "matchedLabels": int(labels_in_window - window.unmatched),
        "labels": int(labels_in_window), "badCapture": dict(sorted(window.bad_capture.items())),
        "badGroundTruth": dict(sorted(window.bad_ground_truth.items())),
    }
    if cfg.problem_type == "regression":
        y = np.asarray(window.y_true, dtype=np.float64)
        s = np.asarray(window.scores, dtype=np.float64)
        if s.ndim == 2:
            s = s[:, 0]
        finite = bool(np.all(np.isfinite(y)) and np.all(np.isfinite(s)))
        doc["finite"] = finite
        doc["regression"] = RegressionState().update(y, s).to_dict() if finite else None
        doc["moments"] = shard_moments("regression", y, s)  # the merged window bounds (shard_bounds)
        doc["charts"] = shard_chart_pieces("regression", y, s)  # the report's histograms (chart_data)
        return doc
    if cfg.problem_type != "binary":
        raise InvalidEvent("sharded evaluation supports binary and regression models only", field="run")
    labels = [norm_label(lab) for lab in cfg.labels or []]
    pos = labels.index(norm_label(cfg.positive_label or labels[1]))
    y = (_class_index(np.asarray(window.y_true), labels) == pos).astype(np.int64)
    by_prediction = (_class_index(np.asarray(window.predicted), labels) == pos).astype(np.int64)
    s = _binary_scores(cfg, window, pos)
    all_scores = bool(np.all(np.isfinite(s)))
    proba = bool(all_scores and np.all((s >= 0) & (s <= 1)))
    doc.update(allScores=all_scores, proba=proba,
               byPrediction=ConfusionMatrixState(labels=[0, 1]).update(y, by_prediction).to_dict())
    if all_scores:
        y_pred = (s > cfg.decision_threshold).astype(np.int64)
        doc["byScore"] = ConfusionMatrixState(labels=[0, 1]).update(y, y_pred).to_dict()
    if proba:
        doc["scores"] = BinaryScoreState(resolution=SCORE_RESOLUTION).update(y, s).to_dict()
        doc["moments"] = shard_moments("binary", y, s)
        doc["charts"] = shard_chart_pieces("binary", y, s)  # the report's reliability bins (chart_data)
    return doc


def evaluate_shard(cfg: ModelConfig, prefix: S3Uri, keys: Sequence[str], start: datetime, end: datetime
                   ) -> dict[str, Any]:
    """Read and join one shard, write its states and dataset rows; the small result the Map collects."""
    mine = capture_keys_in_window(cfg, keys, start, end)
    sid = shard_id(keys)
    # every shard joins with all of the window's labels: the first to read them stores their columns
    labels = read_ground_truth(cfg, start, ground_truth_end(cfg, end), cache=prefix.child("window"))
    window = join(read_capture_keys(cfg, mine, start, end), labels)
    doc = shard_states(cfg, window, labels_in_window=len(labels))
    doc.update(shardId=sid, files=len(mine), skippedFiles=len(keys) - len(mine))
    base = prefix.child("shards", "evaluate")
    part = base.child(f"{sid}.csv")
    client("s3").put_object(Bucket=part.bucket, Key=part.key, Body=dataset_csv(cfg, window).encode(),
                            ContentType="text/csv")
    doc["datasetPartUri"] = str(part)
    state_uri = put_json(base.child(f"{sid}.json"), doc)
    return {"shardId": sid, "stateUri": state_uri, "datasetPartUri": str(part), "sampleSize": window.size,
            "files": len(mine)}


# ---------------------------------------------------------------------------------------------------- reduce
def _quiet(fn: Any, notes: dict[str, str], *names: str) -> dict[str, Any]:
    """``fn()``; an UndefinedMetricWarning becomes the note of every named metric that came out NaN."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = dict(fn())
    messages = [str(w.message) for w in caught if issubclass(w.category, UndefinedMetricWarning | RuntimeWarning)]
    for name in names:
        value = out.get(name)
        if messages and isinstance(value, float) and not math.isfinite(value):
            notes.setdefault(name, messages[0])
    return out


def _counts(shards: list[dict[str, Any]], key: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for d in shards:
        total.update({k: int(v) for k, v in (d.get(key) or {}).items()})
    return dict(sorted(total.items()))


def merge_shards(cfg: ModelConfig, shards: list[dict[str, Any]]) -> dict[str, Any]:
    """The evaluation document (as :func:`~metric_evaluator.evaluate.evaluate_window`) of merged shard documents."""
    for d in shards:
        if not isinstance(d, dict) or d.get("schema") != SHARD_SCHEMA:
            raise DataFormatError(f"not an evaluation shard ({SHARD_SCHEMA})")
        if d.get("problemType") != cfg.problem_type:
            raise DataFormatError(f"a shard of a {d.get('problemType')} model, the config is {cfg.problem_type}")
    n = sum(int(d["sampleSize"]) for d in shards)
    labels = max((int(d["labels"]) for d in shards), default=0)
    matched = sum(int(d["matchedLabels"]) for d in shards)
    bad_capture = _counts(shards, "badCapture")
    bad_gt = dict(shards[0].get("badGroundTruth") or {}) if shards else {}
    thresholds = [t.model_dump(mode="json", exclude_none=True) for t in cfg.thresholds]
    sharding: dict[str, Any] = {"shards": len(shards), "files": sum(int(d.get("files", 0)) for d in shards),
                                "method": "merged partial states (driftline_metrics.partial)"}
    base: dict[str, Any] = {
        "sampleSize": n,
        "badRecords": {"capture": int(sum(bad_capture.values())), "groundTruth": int(sum(bad_gt.values())),
                       "unmatched": max(labels - matched, 0)},
        "badRecordReasons": {"capture": bad_capture, "groundTruth": bad_gt},
        "unlabelled": sum(int(d["unlabelled"]) for d in shards),
        "thresholds": thresholds,
        "sharding": sharding,
    }
    if n == 0:
        return {**base, "status": "insufficient_data", "metrics": {}, "details": {}, "undefined": {},
                "breaches": [], "breached": False}
    notes: dict[str, str] = {}
    m: dict[str, float] = {}
    details: dict[str, Any] = {}
    if cfg.problem_type == "regression":
        if all(d.get("finite") for d in shards):
            r = _quiet(merge_states(d["regression"] for d in shards).result, notes, "mse", "rmse", "mae", "r2",
                       "mape")
            m.update({k: float(r[k]) for k in ("mse", "rmse", "mae", "r2", "mape")})
        else:
            for k in ("mse", "rmse", "mae", "r2", "mape"):
                m[k] = math.nan
                notes[k] = "non-finite labels or predictions in the window"
        details.update(merge_chart_pieces("regression", shards))
    else:
        all_scores = all(d.get("allScores") for d in shards)
        proba = all(d.get("proba") for d in shards)
        if not all_scores:
            notes["scores"] = NO_SCORE_NOTE
        cm_state = merge_states(d["byScore" if all_scores else "byPrediction"] for d in shards)
        cm = _quiet(lambda: cm_state.result(zero_division=math.nan), notes, "accuracy")
        m["accuracy"] = float(cm["accuracy"])
        m["balanced_accuracy"] = float(cm["balanced_accuracy"])
        m["precision"] = float(cm["precision"][1])
        m["recall"] = float(cm["recall"][1])
        m["f1"] = float(cm["f1"][1])
        m["mcc"] = float(cm["matthews_corrcoef"])
        for name in ("precision", "recall", "f1"):
            if not math.isfinite(m[name]):
                notes.setdefault(name, f"{name} is ill-defined (0/0) in this window")
        matrix = [[int(v) for v in row] for row in cm["confusion_matrix"]]
        labels_ = [norm_label(lab) for lab in cfg.labels or []]
        pos = labels_.index(norm_label(cfg.positive_label or labels_[1]))
        details["confusionMatrix"] = {"labels": [labels_[1 - pos], labels_[pos]], "matrix": matrix}
        details["classCounts"] = [int(sum(row)) for row in matrix]
        score_state = merge_states(d["scores"] for d in shards) if all_scores and proba else None
        details.update(merge_chart_pieces("binary", shards, score_state, cfg.decision_threshold))
        if score_state is not None:
            r = _quiet(score_state.result, notes, "roc_auc", "average_precision")
            m["roc_auc"] = float(r["roc_auc"])
            m["average_precision"] = float(r["average_precision"])
            m["log_loss"] = float(r["log_loss"])
            m["brier"] = float(r["brier_score"])
            sharding.update(scoreResolution=SCORE_RESOLUTION, rocAucErrorBound=float(r["roc_auc_error_bound"]),
                            averagePrecisionErrorBound=float(r["average_precision_error_bound"]))
        elif all_scores:
            m["roc_auc"] = m["average_precision"] = math.nan
            notes["roc_auc"] = notes["average_precision"] = (
                "sharded evaluation ranks scores on a [0, 1] histogram: scores outside [0, 1] are not ranked")
            notes["log_loss"] = notes["brier"] = "scores are not probabilities in [0, 1]"
    bounds = merged_bounds(cfg, m, details)
    n_pos = details["classCounts"][1] if cfg.problem_type == "binary" else None
    for name, b in bounds_from_moments([t.metric for t in cfg.thresholds], m, shards,
                                       cfg.retrain_policy.threshold_confidence, n_pos=n_pos).items():
        bounds.setdefault(name, b)
    breaches = check_thresholds(cfg, m, bounds)
    return {**base, "status": "ok", "metrics": m, "details": details, "undefined": notes, "breaches": breaches,
            "breached": bool(breaches), "intervals": bounds}


def concat_dataset_parts(parts: Sequence[str]) -> bytes:
    """The shards' dataset CSV parts as one CSV (one header); parts must share the header."""
    header: str | None = None
    chunks: list[str] = []
    for uri in parts:
        try:
            text = get_bytes(uri).decode("utf-8")
        except FileNotFoundError:
            raise DataFormatError(f"the shard dataset part {uri} does not exist", uri=uri) from None
        first, _, rest = text.partition("\n")
        if header is None:
            header = first
            chunks.append(first + "\n")
        elif first != header:
            if not rest.strip():
                continue  # an empty part (its header may name other score columns)
            raise DataFormatError(f"the shard dataset part {uri} has header {first!r}, not {header!r}", uri=uri)
        chunks.append(rest)
    return "".join(chunks).encode()


# ---------------------------------------------------------------------------------------------------- orchestration
def run_evaluate_shard(settings: Settings, cfg: ModelConfig, run: RunRef, items: Any) -> dict[str, Any]:
    """``evaluate_shard``: one child workflow of the Distributed Map."""
    return evaluate_shard(cfg, run.prefix(settings.bucket), item_keys(items), run.start, run.end)


def run_reduce(settings: Settings, cfg: ModelConfig, run: RunRef, results: Any) -> dict[str, Any]:
    """``reduce``: merge the shards; write ``evaluation.json`` and ``dataset.csv``; the ``evaluate`` summary."""
    shards = load_shards(results)
    doc = merge_shards(cfg, shards)
    prefix = run.prefix(settings.bucket)
    dataset = prefix.child("dataset.csv")
    parts = [str(d["datasetPartUri"]) for d in shards]
    client("s3").put_object(Bucket=dataset.bucket, Key=dataset.key, Body=concat_dataset_parts(parts),
                            ContentType="text/csv")
    doc.update(modelId=run.model_id, runId=run.run_id, problemType=cfg.problem_type,
               window={"start": iso(run.start), "end": iso(run.end)}, datasetUri=str(dataset))
    summary = summarize(doc, put_json(prefix.child("evaluation.json"), doc), str(dataset))
    emit_metrics(run.model_id, summary)
    return sanitize(summary)
