"""Metrics of the live model on a labelled window, and the paired challenger-versus-champion comparison.

Pure computations on numpy arrays (no AWS here except through :mod:`driftline_common` data access in
:func:`run_evaluation` / :func:`run_comparison`), so the numbers are testable against scikit-learn.

Binary models: the score is the positive-class probability; a prediction is positive when
``score > decisionThreshold`` (the captured ``predicted_label`` is used only when no score was captured).
Multiclass: per-class scores in the order of the config's ``labels`` (prediction = arg max) or predicted
labels; ``precision``/``recall``/``f1`` are macro averages, ``*_weighted`` the support-weighted ones.
Regression: the score is the prediction.

Promotion (``compare``): both models are scored on the SAME labelled rows (the challenger's
``evaluation_predictions.csv`` aligned by ``inference_id`` with the champion's captured scores). The delta is
the improvement in the metric's direction (positive = challenger better); a paired bootstrap over rows with a
fixed seed gives its 95% interval. The challenger is promoted only if ``delta >= minImprovement``, the sample
holds at least ``promotion.minSamples`` rows and the interval's lower bound is above 0.
"""

from __future__ import annotations

import csv
import io
import math
import tarfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import driftline_metrics as dm
import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from driftline_common.config import HIGHER_IS_BETTER, ModelConfig
from driftline_common.datasets import (
    Dataset,
    LabelledWindow,
    cached_labelled_window,
    norm_label,
    parse_dataset_csv,
    read_labelled_window,
    write_dataset,
)
from driftline_common.errors import DataFormatError
from driftline_common.events import publish
from driftline_common.observability import metrics
from driftline_common.runs import RunRef
from driftline_common.s3io import S3Uri, get_bytes, put_json, sanitize
from driftline_common.settings import Settings
from driftline_common.store import iso

MAX_CURVE_POINTS = 200
BOOTSTRAP_RESAMPLES = 300
BOOTSTRAP_SEED = 20240601
CONFIDENCE = 0.95


# ---------------------------------------------------------------------------------------------------- helpers
@dataclass
class Problem:
    """Labels, scores and predictions prepared for one problem type."""

    kind: str
    y: np.ndarray  # binary: 0/1 int; multiclass: class index; regression: float
    scores: np.ndarray | None  # binary: (n,) positive proba; multiclass: (n, k); regression: (n,) prediction
    y_pred: np.ndarray  # same encoding as y
    labels: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    positive: int = 1  # binary: index of the positive label in ``labels``


def _safe(fn: Callable[[], Any], name: str, notes: dict[str, str]) -> float:
    """Run a metric; undefined (exception or UndefinedMetricWarning) -> NaN with a note, never a crash."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(fn())
        except (ValueError, ZeroDivisionError) as exc:
            notes[name] = str(exc)
            return math.nan
    for w in caught:
        if issubclass(w.category, dm.UndefinedMetricWarning | RuntimeWarning):
            notes.setdefault(name, str(w.message))
    return value


def downsample(*arrays: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """Evenly spaced points of curves (first and last kept), at most ``max_points``."""
    n = arrays[0].size
    idx = np.arange(n) if n <= max_points else np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return [[float(v) for v in a[idx]] for a in arrays]


def _class_index(values: np.ndarray, labels: list[str]) -> np.ndarray:
    pos = {norm_label(lab): i for i, lab in enumerate(labels)}
    out = np.full(values.size, -1, dtype=np.int64)
    for i, v in enumerate(values.tolist()):
        key = norm_label(v)
        if key in pos:
            out[i] = pos[key]
        else:  # a predicted class index (e.g. SageMaker linear-learner's predicted_label = 2.0)
            try:
                f = float(key)
            except ValueError:
                continue
            if f.is_integer() and 0 <= f < len(labels):
                out[i] = int(f)
    return out


def prepare(cfg: ModelConfig, y_true: np.ndarray, scores: np.ndarray, predicted: np.ndarray) -> Problem:
    """Encode a labelled window for the config's problem type."""
    notes: dict[str, str] = {}
    if cfg.problem_type == "regression":
        y = np.asarray(y_true, dtype=np.float64)
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim == 2:
            s = s[:, 0]
        return Problem("regression", y, s, s, notes=notes)
    labels = [norm_label(lab) for lab in cfg.labels or []]
    y_idx = _class_index(np.asarray(y_true), labels)
    if cfg.problem_type == "binary":
        pos = labels.index(norm_label(cfg.positive_label or labels[1]))
        y = (y_idx == pos).astype(np.int64)
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim == 2:  # per-class probabilities in the order of the labels
            s = s[:, pos] if s.shape[1] == len(labels) else s[:, -1]
        if s.size and np.all(np.isfinite(s)):
            y_pred = (s > cfg.decision_threshold).astype(np.int64)
            return Problem("binary", y, s, y_pred, labels, notes, pos)
        notes["scores"] = "no score captured for every row: ranking metrics undefined, predicted labels used"
        y_pred = (_class_index(np.asarray(predicted), labels) == pos).astype(np.int64)
        return Problem("binary", y, None, y_pred, labels, notes, pos)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == len(labels) and s.size and np.all(np.isfinite(s)):
        return Problem("multiclass", y_idx, s, np.argmax(s, axis=1), labels, notes)
    notes["scores"] = "no per-class scores captured: roc_auc and log_loss undefined, predicted labels used"
    return Problem("multiclass", y_idx, None, _class_index(np.asarray(predicted), labels), labels, notes)


def _is_proba(s: np.ndarray) -> bool:
    return bool(s.size) and bool(np.all((s >= 0) & (s <= 1)))


# ---------------------------------------------------------------------------------------------------- evaluate
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


def check_thresholds(cfg: ModelConfig, metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Breaches of the config's thresholds (a NaN metric breaches nothing: it is reported as undefined)."""
    out: list[dict[str, Any]] = []
    for t in cfg.thresholds:
        value = metrics.get(t.metric, math.nan)
        if not math.isfinite(value):
            continue
        if t.min is not None and value < t.min:
            out.append({"metric": t.metric, "value": value, "min": t.min})
        elif t.max is not None and value > t.max:
            out.append({"metric": t.metric, "value": value, "max": t.max})
    return out


def evaluate_window(cfg: ModelConfig, window: LabelledWindow) -> dict[str, Any]:
    """The full evaluation document of a joined window (JSON-safe apart from NaN)."""
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
    p = prepare(cfg, window.y_true, window.scores, window.predicted)
    res = compute_metrics(p)
    breaches = check_thresholds(cfg, res["metrics"])
    if p.kind != "regression":
        support = np.bincount(p.y[p.y >= 0], minlength=2 if p.kind == "binary" else len(p.labels))
        res["details"]["classCounts"] = support.tolist()
    return {**base, "status": "ok", **res, "breaches": breaches, "breached": bool(breaches)}


# ---------------------------------------------------------------------------------------------------- compare
def read_challenger_predictions(tar_bytes: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """``(ids, scores, bad)`` from a training job's ``output.tar.gz`` holding ``evaluation_predictions.csv``.

    Raises ValueError when the archive or the file is missing/unreadable (the caller maps it to a typed error).
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:*") as tar:
            member = next((m for m in tar.getmembers()
                           if m.isfile() and m.name.rsplit("/", 1)[-1] == "evaluation_predictions.csv"), None)
            if member is None:
                raise ValueError("output.tar.gz holds no evaluation_predictions.csv")
            fh = tar.extractfile(member)
            raw = fh.read() if fh else b""
    except tarfile.TarError as exc:
        raise ValueError(f"output.tar.gz is not a readable tar archive: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("evaluation_predictions.csv is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[0].strip() != "inference_id" or len(header) < 2:
        raise ValueError(f"evaluation_predictions.csv must start with a header 'inference_id,score...', got {header}")
    ids: list[str] = []
    scores: list[list[float]] = []
    bad = 0
    for row in reader:
        if not row:
            continue
        try:
            if len(row) != len(header) or not row[0].strip():
                raise ValueError
            vals = [float(v) for v in row[1:]]
            if not all(math.isfinite(v) for v in vals):
                raise ValueError
        except ValueError:
            bad += 1
            continue
        ids.append(row[0].strip())
        scores.append(vals)
    arr = np.asarray(scores, dtype=np.float64).reshape(len(ids), len(header) - 1)
    return np.asarray(ids, dtype=str), (arr[:, 0] if arr.shape[1] == 1 else arr), bad


def metric_value(cfg: ModelConfig, metric: str, y_true: np.ndarray, scores: np.ndarray) -> float:
    """One promotion metric of one model's scores on labelled rows (NaN when undefined)."""
    p = prepare(cfg, y_true, scores, np.full(len(y_true), "", dtype=str))
    return float(compute_metrics(p)["metrics"].get(metric, math.nan))


def _fast_metric(cfg: ModelConfig, metric: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """``f(y, s)`` on prepared encodings, for the bootstrap loop (same numbers as :func:`compute_metrics`)."""
    thr = cfg.decision_threshold

    def f(y: np.ndarray, s: np.ndarray) -> float:
        notes: dict[str, str] = {}
        if cfg.problem_type == "binary":
            table: dict[str, Callable[[], float]] = {
                "roc_auc": lambda: dm.roc_auc_score(y, s),
                "average_precision": lambda: dm.average_precision_score(y, s),
                "log_loss": lambda: dm.log_loss(y, s, labels=[0, 1]),
                "brier": lambda: dm.brier_score_loss(y, s, pos_label=1),
                "accuracy": lambda: dm.accuracy_score(y, s > thr),
                "balanced_accuracy": lambda: dm.balanced_accuracy_score(y, (s > thr).astype(int)),
                "precision": lambda: dm.precision_score(y, (s > thr).astype(int), zero_division=np.nan),
                "recall": lambda: dm.recall_score(y, (s > thr).astype(int), zero_division=np.nan),
                "f1": lambda: dm.f1_score(y, (s > thr).astype(int), zero_division=np.nan),
                "mcc": lambda: dm.matthews_corrcoef(y, (s > thr).astype(int)),
            }
            return _safe(table[metric], metric, notes)
        if cfg.problem_type == "regression":
            reg: dict[str, Callable[[], float]] = {
                "mse": lambda: dm.mean_squared_error(y, s),
                "rmse": lambda: dm.root_mean_squared_error(y, s),
                "mae": lambda: dm.mean_absolute_error(y, s),
                "r2": lambda: dm.r2_score(y, s),
                "mape": lambda: dm.mean_absolute_percentage_error(y, s),
            }
            return _safe(reg[metric], metric, notes)
        prob = Problem("multiclass", y, s, np.argmax(s, axis=1), [str(i) for i in range(s.shape[1])])
        return float(compute_metrics(prob)["metrics"].get(metric, math.nan))

    return f


def paired_bootstrap(
    y: np.ndarray, s_champion: np.ndarray, s_challenger: np.ndarray, f: Callable[[np.ndarray, np.ndarray], float],
    *, higher_is_better: bool, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Percentile interval of the improvement ``challenger - champion`` (sign flipped for lower-is-better).

    Both models are scored on the same resampled rows (paired), with a fixed seed so runs are reproducible.
    """
    rng = np.random.default_rng(seed)
    n = y.size
    sign = 1.0 if higher_is_better else -1.0
    deltas = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        d = sign * (f(y[idx], s_challenger[idx]) - f(y[idx], s_champion[idx]))
        if math.isfinite(d):
            deltas.append(d)
    alpha = (1 - CONFIDENCE) / 2
    if len(deltas) < resamples // 2:
        return {"method": "paired_bootstrap", "resamples": resamples, "valid": len(deltas), "seed": seed,
                "confidence": CONFIDENCE, "lower": math.nan, "upper": math.nan}
    arr = np.asarray(deltas)
    return {
        "method": "paired_bootstrap", "resamples": resamples, "valid": len(deltas), "seed": seed,
        "confidence": CONFIDENCE, "lower": float(np.quantile(arr, alpha)), "upper": float(np.quantile(arr, 1 - alpha)),
        "stdError": float(arr.std(ddof=1)),
    }


def mcnemar(y: np.ndarray, pred_champion: np.ndarray, pred_challenger: np.ndarray) -> dict[str, Any]:
    """McNemar's counts and exact two-sided p-value (binomial on the discordant pairs)."""
    a = pred_champion == y
    b = pred_challenger == y
    only_champion = int(np.sum(a & ~b))
    only_challenger = int(np.sum(~a & b))
    m = only_champion + only_challenger
    if m == 0:
        p = 1.0
    else:
        k = min(only_champion, only_challenger)
        logs = [math.lgamma(m + 1) - math.lgamma(i + 1) - math.lgamma(m - i + 1) - m * math.log(2)
                for i in range(k + 1)]
        p = min(1.0, 2 * float(np.sum(np.exp(logs))))
    return {"method": "mcnemar", "bothCorrect": int(np.sum(a & b)), "bothWrong": int(np.sum(~a & ~b)),
            "championOnly": only_champion, "challengerOnly": only_challenger, "pvalue": p}


def squared_error_differences(y: np.ndarray, s_champion: np.ndarray, s_challenger: np.ndarray) -> dict[str, Any]:
    """Paired differences ``(e_champion^2 - e_challenger^2)``: mean, std error, normal 95% interval."""
    d = (s_champion - y) ** 2 - (s_challenger - y) ** 2
    n = d.size
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return {"method": "paired_squared_error", "meanDifference": mean, "stdError": se,
            "lower": mean - 1.959964 * se, "upper": mean + 1.959964 * se}


def compare_models(
    cfg: ModelConfig, y_true: np.ndarray, champion_scores: np.ndarray, challenger_scores: np.ndarray,
    *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Score both models on the same rows and apply the promotion rule."""
    promo = cfg.promotion
    metric = promo.metric
    higher = metric in HIGHER_IS_BETTER
    n = len(y_true)
    result: dict[str, Any] = {"metric": metric, "higherIsBetter": higher, "minImprovement": promo.min_improvement,
                              "minSamples": promo.min_samples, "sampleSize": n}
    if n == 0:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["TOO_FEW_SAMPLES", "METRIC_UNDEFINED"]}
    pc = prepare(cfg, y_true, champion_scores, np.full(n, "", dtype=str))
    pn = prepare(cfg, y_true, challenger_scores, np.full(n, "", dtype=str))
    if pc.scores is None or pn.scores is None:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["METRIC_UNDEFINED"]}
    f = _fast_metric(cfg, metric)
    y = pc.y
    champ = f(y, pc.scores)
    chall = f(y, pn.scores)
    delta = (chall - champ) if higher else (champ - chall)
    paired: dict[str, Any] = paired_bootstrap(y, pc.scores, pn.scores, f, higher_is_better=higher,
                                              resamples=resamples, seed=seed)
    if cfg.problem_type == "regression":
        paired["squaredErrors"] = squared_error_differences(y, pc.scores, pn.scores)
    else:
        paired["mcnemar"] = mcnemar(y, pc.y_pred, pn.y_pred)
    reasons: list[str] = []
    if not (math.isfinite(champ) and math.isfinite(chall)):
        reasons.append("METRIC_UNDEFINED")
    if n < promo.min_samples:
        reasons.append("TOO_FEW_SAMPLES")
    if not (math.isfinite(delta) and delta >= promo.min_improvement):
        reasons.append("BELOW_MARGIN")
    lower = paired.get("lower", math.nan)
    if not (math.isfinite(lower) and lower > 0):
        reasons.append("NOT_SIGNIFICANT")
    promote = not reasons
    if promote:
        reasons.append("CHALLENGER_BETTER")
    return {**result, "promote": promote, "champion": champ, "challenger": chall, "delta": delta,
            "pairedTest": paired, "reasons": reasons}


# ---------------------------------------------------------------------------------------------------- orchestration
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
        "resultUri": result_uri,
        "datasetUri": dataset_uri,
    }
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
        if isinstance(value, float) and math.isfinite(value):
            metrics.add_metric(name=name, unit=MetricUnit.NoUnit, value=value)


def run_evaluation(settings: Settings, cfg: ModelConfig, run: RunRef) -> dict[str, Any]:
    """Read and join the window, evaluate, write the result and the dataset to S3; the compact summary."""
    prefix = run.prefix(settings.bucket)
    window = read_labelled_window(cfg, run.start, run.end, cache=prefix.child("window"))
    doc = evaluate_window(cfg, window)
    dataset_uri = write_dataset(str(prefix.child("dataset.csv")), cfg, window)
    doc.update(modelId=run.model_id, runId=run.run_id, problemType=cfg.problem_type,
               window={"start": iso(run.start), "end": iso(run.end)}, datasetUri=dataset_uri)
    summary = summarize(doc, put_json(prefix.child("evaluation.json"), doc), dataset_uri)
    emit_metrics(run.model_id, summary)
    return sanitize(summary)


def champion_rows(settings: Settings, cfg: ModelConfig, run: RunRef, dataset_uri: str) -> Dataset:
    """The evaluated rows: from the run's window artifacts when they still describe the window's objects (the
    same rows the evaluator wrote to ``dataset_uri``), else parsed from ``dataset_uri``."""
    window = cached_labelled_window(cfg, run.start, run.end, run.prefix(settings.bucket).child("window"))
    if window is not None:
        ids = np.asarray([v.decode("utf-8", "surrogatepass") if isinstance(v, bytes) else v
                          for v in window.ids.tolist()], dtype=str)
        return Dataset(ids=ids, y_true=window.y_true, scores=window.scores, predicted=window.predicted)
    try:
        return parse_dataset_csv(cfg, get_bytes(dataset_uri).decode("utf-8"))
    except FileNotFoundError:
        raise DataFormatError(f"the evaluated dataset {dataset_uri} does not exist", uri=dataset_uri) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"the evaluated dataset {dataset_uri} is not readable: {exc}", uri=dataset_uri) from None


def _challenger_uri(cfg: ModelConfig, training: dict[str, Any]) -> S3Uri:
    base = S3Uri.parse(str(training.get("outputUri") or cfg.training.output_uri))
    return base.child(str(training["jobName"]), "output", "output.tar.gz")


def run_comparison(
    settings: Settings, cfg: ModelConfig, run: RunRef, evaluation: dict[str, Any], training: dict[str, Any]
) -> dict[str, Any]:
    """Champion vs challenger on the same labelled rows; result to S3; ``Challenger Evaluated`` published."""
    dataset_uri = str(evaluation["datasetUri"])
    dataset = champion_rows(settings, cfg, run, dataset_uri)
    tar_uri = _challenger_uri(cfg, training)
    try:
        ids, chall_scores, bad = read_challenger_predictions(get_bytes(tar_uri))
    except FileNotFoundError:
        raise DataFormatError(f"the training job output {tar_uri} does not exist", uri=str(tar_uri)) from None
    except ValueError as exc:
        raise DataFormatError(f"{tar_uri}: {exc}", uri=str(tar_uri)) from None
    pos = {rid: i for i, rid in enumerate(ids.tolist())}
    rows = [(i, pos[rid]) for i, rid in enumerate(dataset.ids.tolist()) if rid in pos]
    di = np.asarray([r[0] for r in rows], dtype=np.intp)
    ci = np.asarray([r[1] for r in rows], dtype=np.intp)
    champion = dataset.scores[di]
    challenger = chall_scores[ci]
    if champion.ndim != challenger.ndim or (champion.ndim == 2 and champion.shape[1] != challenger.shape[1]):
        raise DataFormatError(
            f"the challenger has {1 if challenger.ndim == 1 else challenger.shape[1]} score column(s), the champion "
            f"{1 if champion.ndim == 1 else champion.shape[1]}: they cannot be compared", uri=str(tar_uri))
    keep = np.all(np.isfinite(champion.reshape(len(di), -1)), axis=1)
    doc = compare_models(cfg, dataset.y_true[di][keep], champion[keep], challenger[keep])
    doc.update(
        modelId=run.model_id, runId=run.run_id, requireApproval=bool(cfg.promotion.require_approval),
        alignment={"datasetRows": int(dataset.ids.size), "challengerRows": int(ids.size),
                   "challengerBadRows": bad, "aligned": int(keep.sum()),
                   "championMissingScore": int((~keep).sum()),
                   "challengerUnmatched": int(ids.size - len(rows))},
        datasetUri=dataset_uri, challengerPredictionsUri=str(tar_uri),
        jobName=training.get("jobName"), modelArtifacts=training.get("modelArtifacts"),
    )
    result_uri = put_json(run.prefix(settings.bucket).child("comparison.json"), doc)
    summary = {k: doc[k] for k in ("promote", "requireApproval", "metric", "champion", "challenger", "delta",
                                   "minImprovement", "sampleSize", "pairedTest", "reasons")}
    summary["resultUri"] = result_uri
    summary = sanitize(summary)
    publish(settings, "Challenger Evaluated", {"modelId": run.model_id, "runId": run.run_id, **summary,
                                               "jobName": training.get("jobName")})
    metrics.add_dimension(name="modelId", value=run.model_id)
    metrics.add_metric(name="ChallengerDelta", unit=MetricUnit.NoUnit,
                       value=doc["delta"] if math.isfinite(doc["delta"]) else 0.0)
    metrics.add_metric(name="ChallengerPromoted", unit=MetricUnit.Count, value=int(doc["promote"]))
    return summary
