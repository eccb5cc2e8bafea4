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
from driftline_common.config import HIGHER_IS_BETTER, UNBOUNDED_METRICS, ModelConfig
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
from driftline_common.observability import add_metric, metrics
from driftline_common.runs import RunRef
from driftline_common.s3io import S3Uri, get_bytes, put_json, sanitize
from driftline_common.settings import Settings
from driftline_common.store import iso

from metric_evaluator import stats

MAX_CURVE_POINTS = 200
BOOTSTRAP_SEED = 20240601


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
    """Class index of every value (-1: not a class); each distinct value is normalised once."""
    pos = {norm_label(lab): i for i, lab in enumerate(labels)}
    values = np.asarray(values)
    if values.size == 0:
        return np.full(0, -1, dtype=np.int64)
    uniq, inverse = np.unique(values, return_inverse=True)
    codes = np.full(uniq.size, -1, dtype=np.int64)
    for j, v in enumerate(uniq.tolist()):
        key = norm_label(v)
        if key in pos:
            codes[j] = pos[key]
        else:  # a predicted class index (e.g. SageMaker linear-learner's predicted_label = 2.0)
            try:
                f = float(key)
            except ValueError:
                continue
            if f.is_integer() and 0 <= f < len(labels):
                codes[j] = int(f)
    return codes[inverse.reshape(-1)]


def prepare(cfg: ModelConfig, y_true: np.ndarray, scores: np.ndarray, predicted: np.ndarray,
            *, y_index: np.ndarray | None = None) -> Problem:
    """Encode a labelled window for the config's problem type (``y_index``: the labels' class indices when the
    caller already encoded them, e.g. to score several models on the same rows)."""
    notes: dict[str, str] = {}
    if cfg.problem_type == "regression":
        y = np.asarray(y_true, dtype=np.float64)
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim == 2:
            s = s[:, 0]
        return Problem("regression", y, s, s, notes=notes)
    labels = [norm_label(lab) for lab in cfg.labels or []]
    y_idx = y_index if y_index is not None else _class_index(np.asarray(y_true), labels)
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
    bounds = metric_bounds(cfg, p, res["metrics"])
    breaches = check_thresholds(cfg, res["metrics"], bounds)
    res["intervals"] = bounds
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


def mcnemar(y: np.ndarray, pred_champion: np.ndarray, pred_challenger: np.ndarray, *, mid_p: bool = True
            ) -> dict[str, Any]:
    """McNemar's counts, exact two-sided p-value and the one-sided p-value of "challenger more accurate"
    (exact or mid-p binomial on the discordant pairs) — the accuracy verdict of the promotion rule."""
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
            "championOnly": only_champion, "challengerOnly": only_challenger, "pvalue": p,
            "pvalueOneSided": stats.binom_sf_half(only_challenger, m, mid_p=mid_p),
            "oneSided": "mid-p" if mid_p else "exact"}


def squared_error_differences(y: np.ndarray, s_champion: np.ndarray, s_challenger: np.ndarray) -> dict[str, Any]:
    """Paired differences ``(e_champion^2 - e_challenger^2)``: mean, std error, normal 95% interval."""
    d = (s_champion - y) ** 2 - (s_challenger - y) ** 2
    n = d.size
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return {"method": "paired_squared_error", "meanDifference": mean, "stdError": se,
            "lower": mean - 1.959964 * se, "upper": mean + 1.959964 * se}


#: verdicts of one metric in a comparison (reason codes are ``VERDICT:metric``)
IMPROVED, NOT_SIGNIFICANT, BELOW_MARGIN = "IMPROVED", "NOT_SIGNIFICANT", "BELOW_MARGIN"
NON_INFERIOR, REGRESSED, UNDEFINED = "NON_INFERIOR", "REGRESSED", "UNDEFINED"
CHALLENGER_BETTER, RECALIBRATED = "CHALLENGER_BETTER", "RECALIBRATED"


def promotion_metrics(cfg: ModelConfig, breached: list[str] | None) -> tuple[list[str], list[str]]:
    """``(must_improve, must_not_regress)``: the breached thresholded metrics (the primary ``promotion.metric``
    when none breached), and every other thresholded metric."""
    thresholded = list(dict.fromkeys(t.metric for t in cfg.thresholds))
    must = [m for m in thresholded if m in set(breached or [])]
    if not must:
        must = [cfg.promotion.metric]
    return must, [m for m in thresholded if m not in must]


def _threshold_ok(cfg: ModelConfig, metric: str, value: float) -> bool:
    """The point estimate meets every threshold on ``metric``."""
    if not math.isfinite(value):
        return False
    return all((t.min is None or value >= t.min) and (t.max is None or value <= t.max)
               for t in cfg.thresholds if t.metric == metric)


def judge_candidate(cfg: ModelConfig, champion: Problem, candidate: Problem, *, must: list[str], others: list[str],
                    resamples: int, seed: int) -> dict[str, Any]:
    """Every metric's paired test and verdict for one candidate; ``passes`` when every must-improve metric
    improved (Holm-corrected one-sided tests at ``promotion.alpha``, delta >= ``minImprovement``) and no other
    thresholded metric regressed beyond its non-inferiority margin (one-sided bound at ``1 - alpha``)."""
    promo = cfg.promotion
    confidence = 1 - promo.alpha
    y = champion.y
    tests: dict[str, dict[str, Any]] = {}
    for m in [*must, *others]:
        if m in tests:
            continue
        tests[m] = stats.paired_test(
            m, kind=champion.kind, y=y, champion=(champion.y_pred, champion.scores),
            candidate=(candidate.y_pred, candidate.scores), confidence=confidence,
            mid_p=promo.mcnemar == "mid-p", resamples=resamples, seed=seed)
    rejected = stats.holm([tests[m]["pvalue"] for m in must], promo.alpha)
    for m, rej in zip(must, rejected, strict=True):
        t = tests[m]
        t["role"] = "must_improve"
        t["holmRejected"] = rej
        if not (math.isfinite(t["champion"]) and math.isfinite(t["candidate"])):
            t["verdict"] = UNDEFINED
        elif t["delta"] < promo.min_improvement:
            t["verdict"] = BELOW_MARGIN
        elif not rej:
            t["verdict"] = NOT_SIGNIFICANT
        else:
            t["verdict"] = IMPROVED
    for m in others:
        t = tests[m]
        margin = promo.margin(m)
        if m in UNBOUNDED_METRICS and math.isfinite(t["champion"]):
            margin *= abs(t["champion"])
        t["role"] = "non_inferior"
        t["margin"] = margin
        if not math.isfinite(t["lower"]):
            t["verdict"] = UNDEFINED
        else:
            t["verdict"] = REGRESSED if t["lower"] < -margin else NON_INFERIOR
    passes = all(tests[m]["verdict"] == IMPROVED for m in must) and not any(
        tests[m]["verdict"] == REGRESSED for m in others)
    fixes = all(_threshold_ok(cfg, m, tests[m]["candidate"]) for m in must if any(
        t.metric == m for t in cfg.thresholds))
    return {"passes": passes, "fixes": fixes, "tests": tests,
            "verdicts": [f"{tests[m]['verdict']}:{m}" for m in [*must, *others]]}


def _choose(candidates: dict[str, dict[str, Any]], must: list[str]) -> str | None:
    """The remedy to deploy: among the candidates that pass, those that bring every breached metric back within
    its threshold first, the cheapest of them (a recalibration before a retrained model); else the larger
    improvement of the first must-improve metric."""
    passing = [k for k in ("recalibrated", "retrained") if candidates.get(k, {}).get("passes")]
    if not passing:
        return None
    fixing = [k for k in passing if candidates[k]["fixes"]]
    if fixing:
        return fixing[0]
    return max(passing, key=lambda k: candidates[k]["tests"][must[0]]["delta"])


def compare_models(
    cfg: ModelConfig, y_true: np.ndarray, champion_scores: np.ndarray, challenger_scores: np.ndarray,
    *, breached: list[str] | None = None, champion_threshold: float | None = None,
    recalibration_threshold: float | None = None, resamples: int | None = None, seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Score the champion, the retrained challenger and (binary, when given) the champion with a recalibrated
    decision threshold on the same rows; apply the promotion rule to each; choose the remedy.

    ``breached``: the metrics that breached (from the decision); ``champion_threshold``: the champion's current
    decision threshold (its recalibrated one, else the config's); ``recalibration_threshold``: the candidate
    threshold fitted on earlier labelled windows (never on these rows).
    """
    promo = cfg.promotion
    must, others = promotion_metrics(cfg, breached)
    metric = must[0]
    higher = metric in HIGHER_IS_BETTER
    n = len(y_true)
    resamples = resamples or promo.bootstrap_resamples
    result: dict[str, Any] = {"metric": metric, "higherIsBetter": higher, "minImprovement": promo.min_improvement,
                              "minSamples": promo.min_samples, "sampleSize": n, "breachedMetrics": list(breached or []),
                              "mustImprove": must, "mustNotRegress": others, "alpha": promo.alpha,
                              "nonInferiorityMargin": promo.non_inferiority_margin, "remedy": None,
                              "candidates": {}, "metrics": {}}
    if n == 0:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["TOO_FEW_SAMPLES", "METRIC_UNDEFINED"]}
    blank = np.full(n, "", dtype=str)
    champ_cfg = cfg if champion_threshold is None else cfg.model_copy(
        update={"decision_threshold": champion_threshold})
    y_index = None if cfg.problem_type == "regression" else _class_index(
        np.asarray(y_true), [norm_label(lab) for lab in cfg.labels or []])
    pc = prepare(champ_cfg, y_true, champion_scores, blank, y_index=y_index)
    pn = prepare(cfg, y_true, challenger_scores, blank, y_index=y_index)
    if pc.scores is None or pn.scores is None:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["METRIC_UNDEFINED"]}
    candidates = {"retrained": judge_candidate(cfg, pc, pn, must=must, others=others, resamples=resamples,
                                               seed=seed)}
    problems = {"retrained": pn}
    if recalibration_threshold is not None and pc.kind == "binary":
        pr = prepare(cfg.model_copy(update={"decision_threshold": recalibration_threshold}), y_true,
                     champion_scores, blank, y_index=y_index)
        problems["recalibrated"] = pr
        candidates["recalibrated"] = {
            **judge_candidate(cfg, pc, pr, must=must, others=others, resamples=resamples, seed=seed),
            "decisionThreshold": recalibration_threshold,
            "championThreshold": champ_cfg.decision_threshold,
        }
    too_few = n < promo.min_samples
    winner = None if too_few else _choose(candidates, must)
    shown = candidates[winner or "retrained"]
    test = shown["tests"][metric]
    paired: dict[str, Any] = {k: test[k] for k in ("method", "lower", "upper", "confidence", "pvalue") if k in test}
    if pc.kind == "regression":
        paired["squaredErrors"] = squared_error_differences(pc.y, pc.scores, pn.scores)
    else:
        paired["mcnemar"] = mcnemar(pc.y, pc.y_pred, problems[winner or "retrained"].y_pred,
                                    mid_p=promo.mcnemar == "mid-p")
    reasons = list(shown["verdicts"])
    if too_few:
        reasons.append("TOO_FEW_SAMPLES")
    if winner == "retrained":
        reasons.append(CHALLENGER_BETTER)
    elif winner == "recalibrated":
        reasons.append(RECALIBRATED)
    out = {**result, "promote": winner is not None, "remedy": {"retrained": "retrain",
                                                              "recalibrated": "recalibration"}.get(winner or ""),
           "champion": test["champion"], "challenger": test["candidate"], "delta": test["delta"],
           "pairedTest": paired, "reasons": reasons, "candidates": candidates, "metrics": shown["tests"]}
    if winner == "recalibrated":
        out["decisionThreshold"] = recalibration_threshold
    return out


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
        "intervals": doc.get("intervals") or {},
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
        add_metric(name, value)  # through the CloudWatch number boundary: NaN/inf/out-of-range not emitted


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


def champion_decision_threshold(state: dict[str, Any]) -> float | None:
    """The decision threshold recorded with the champion (set by a recalibration), ``None`` when it has none."""
    value = (state.get("champion") or {}).get("decisionThreshold")
    if isinstance(value, int | float) and math.isfinite(float(value)):
        return float(value)
    return None


def _decision_inputs(decision: Any) -> tuple[list[str] | None, float | None]:
    """``(breached metrics, recalibration threshold)`` from the decision the state machine passes (absent in a
    comparison requested without one: the primary metric only, no recalibration)."""
    if not isinstance(decision, dict):
        return None, None
    breached = decision.get("breachedMetrics")
    breached = [str(m) for m in breached] if isinstance(breached, list) else None
    recal = decision.get("recalibration")
    threshold = None
    if isinstance(recal, dict) and recal.get("status") == "FITTED" and isinstance(recal.get("threshold"), int | float):
        threshold = float(recal["threshold"])
    return breached, threshold


def run_comparison(
    settings: Settings, cfg: ModelConfig, run: RunRef, evaluation: dict[str, Any], training: dict[str, Any],
    *, decision: Any = None, champion_threshold: float | None = None,
) -> dict[str, Any]:
    """Champion vs challenger (and the recalibrated champion) on the same labelled rows; result to S3;
    ``Challenger Evaluated`` published."""
    breached, recalibration_threshold = _decision_inputs(decision)
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
    doc = compare_models(cfg, dataset.y_true[di][keep], champion[keep], challenger[keep], breached=breached,
                         champion_threshold=champion_threshold, recalibration_threshold=recalibration_threshold)
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
                                   "minImprovement", "sampleSize", "pairedTest", "reasons", "remedy",
                                   "breachedMetrics", "mustImprove", "mustNotRegress")}
    summary["verdicts"] = {m: t["verdict"] for m, t in doc["metrics"].items()}
    if doc.get("decisionThreshold") is not None:
        summary["decisionThreshold"] = doc["decisionThreshold"]
    summary["resultUri"] = result_uri
    summary = sanitize(summary)
    publish(settings, "Challenger Evaluated", {"modelId": run.model_id, "runId": run.run_id, **summary,
                                               "jobName": training.get("jobName")})
    metrics.add_dimension(name="modelId", value=run.model_id)
    metrics.add_metric(name="ChallengerDelta", unit=MetricUnit.NoUnit,
                       value=doc["delta"] if math.isfinite(doc["delta"]) else 0.0)
    metrics.add_metric(name="ChallengerPromoted", unit=MetricUnit.Count, value=int(doc["promote"]))
    return summary
