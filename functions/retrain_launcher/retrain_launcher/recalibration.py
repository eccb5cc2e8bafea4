"""The recalibration remedy: a new decision threshold for the same binary model, fitted on earlier labelled windows.

When a binary classifier's ranking held (ROC AUC within its threshold) but a metric that depends on the decision
threshold breached — a label-prior shift, a moved operating point — the cheapest remedy is the same model with a
new threshold. It is fitted here, at the decision, on the labelled windows the retrain uses for its training set
(the previous ``trainingWindowDays``, scored by the current champion), never on the current window, which is the
one both remedies are then judged on (the paired comparison of the metric evaluator). Pure: numpy only.

The fitted threshold maximises, over every cut between two distinct scores, first the number of the config's
thresholds on threshold-dependent metrics that the cut satisfies, then the mean of the breached metrics. For a
calibrated binary model a prior correction of its probabilities (odds times the ratio of the new to the old prior
odds) is a monotone map of the score, so it changes the threshold metrics exactly as a threshold change does: the
threshold subsumes it. After a detected label shift (``decision.labelShift``) the threshold is instead the
prior-corrected one (:func:`fit_prior_threshold`: one intercept fitted by likelihood on the windows since the
shift), which is far less noisy than the error-counting cut on a few hundred rows (docs/decisions.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from driftline_common.config import ModelConfig
from driftline_common.datasets import norm_label, parse_dataset_csv

from retrain_launcher.policy import THRESHOLD_METRICS

#: fewer labelled rows (or fewer than this many of either class) than this: no threshold is fitted
MIN_ROWS = 100
MIN_PER_CLASS = 10


def _rates(tp: np.ndarray, fp: np.ndarray, pos: float, neg: float) -> dict[str, np.ndarray]:
    fn, tn = pos - tp, neg - fp
    n = pos + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), np.nan)
        recall = tp / pos
        den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        return {
            "accuracy": (tp + tn) / n,
            "precision": precision,
            "recall": recall,
            "f1": 2 * tp / (2 * tp + fp + fn),
            "balanced_accuracy": 0.5 * (recall + tn / neg),
            "mcc": np.where(den > 0, (tp * tn - fp * fn) / np.where(den > 0, den, 1), 0.0),
        }


def fit_threshold(
    cfg: ModelConfig, y: np.ndarray, scores: np.ndarray, breached: Sequence[str]
) -> dict[str, Any] | None:
    """The decision threshold (prediction positive when ``score > threshold``) that best satisfies the config's
    thresholds on ``y`` (0/1) and ``scores``; ``None`` when the data cannot support a fit."""
    y = np.asarray(y, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    pos, neg = float(y.sum()), float(y.size - y.sum())
    if y.size < MIN_ROWS or pos < MIN_PER_CLASS or neg < MIN_PER_CLASS:
        return None
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    last = np.flatnonzero(np.r_[ss[1:] != ss[:-1], False])  # end of each tied group but the lowest one
    if last.size == 0:
        return None
    tp = np.cumsum(yy)[last].astype(np.float64)
    fp = (last + 1 - tp).astype(np.float64)
    cuts = (ss[last] + ss[last + 1]) / 2.0  # positives: the scores above the cut
    rates = _rates(tp, fp, pos, neg)
    wanted = [t for t in cfg.thresholds if t.metric in THRESHOLD_METRICS]
    satisfied = np.zeros(cuts.size)
    for t in wanted:
        v = np.nan_to_num(rates[t.metric], nan=-np.inf)
        satisfied += ((t.min is None) | (v >= (t.min if t.min is not None else -np.inf))) & (
            (t.max is None) | (v <= (t.max if t.max is not None else np.inf)))
    targets = [m for m in breached if m in THRESHOLD_METRICS] or [t.metric for t in wanted] or ["accuracy"]
    objective = np.mean([np.nan_to_num(rates[m], nan=-1.0) for m in targets], axis=0)
    best = int(np.lexsort((objective, satisfied))[-1])
    threshold = float(cuts[best])
    if not math.isfinite(threshold):
        return None
    return {
        "threshold": threshold,
        "rows": int(y.size),
        "positives": int(pos),
        "thresholdsSatisfied": int(satisfied[best]),
        "thresholdsConsidered": len(wanted),
        "fitted": {m: float(rates[m][best]) for m in sorted(set(targets) | {t.metric for t in wanted})},
    }


def fit_prior_threshold(cfg: ModelConfig, y: np.ndarray, scores: np.ndarray, breached: Sequence[str],
                        current: float, *, max_iter: int = 200) -> dict[str, Any] | None:
    """The decision threshold of a *prior correction*: the maximum-likelihood intercept ``b`` of
    ``logit p'(1|x) = logit p(1|x) + b`` on the labelled rows (the score equation ``sum(y - sigmoid(logit + b))``
    decreases in ``b``: solved by bisection, which cannot diverge where Newton's curvature underflows on very
    confident scores), applied to ``current`` — the threshold the uncorrected scores were served with (the
    configured one: the caller passes it) —: ``threshold' = sigmoid(logit(current) - b)`` (the same trade-off between
    the classes on the corrected probabilities). Under a label-prior shift ``b`` estimates the log ratio of the
    new to the old prior odds (Saerens et al. 2002; the model's own calibration bias absorbed, Alexandari et al.
    2020) — the binary case of :func:`fit_class_offsets`. One parameter fitted by likelihood on every row is far
    less noisy on a few hundred rows than the cut :func:`fit_threshold` picks by counting errors. ``None`` when the
    rows cannot support a fit or the scores are not probabilities in [0, 1]."""
    y = np.asarray(y, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    pos = float(y.sum())
    if (y.size < MIN_ROWS or pos < MIN_PER_CLASS or y.size - pos < MIN_PER_CLASS or np.any(s < 0) or np.any(s > 1)
            or not 0 < current < 1):
        return None
    logit = np.log(np.clip(s, 1e-12, 1 - 1e-12)) - np.log1p(-np.clip(s, 1e-12, 1 - 1e-12))
    # with both classes present the root lies within the logits' span widened by the classes' log-odds
    span = float(np.max(np.abs(logit))) + math.log(y.size) + 1.0
    lo, hi = -span, span
    for _ in range(max_iter):
        b = 0.5 * (lo + hi)
        if float(np.sum(y - 1.0 / (1.0 + np.exp(-(logit + b))))) > 0:
            lo = b
        else:
            hi = b
        if hi - lo < 1e-10:
            break
    b = 0.5 * (lo + hi)
    threshold = 1.0 / (1.0 + math.exp(-(math.log(current) - math.log1p(-current) - b)))
    if not (math.isfinite(b) and 0 < threshold < 1):
        return None
    pred = s > threshold
    tp, fp = float(np.sum(pred & (y == 1))), float(np.sum(pred & (y == 0)))
    rates = _rates(np.asarray([tp]), np.asarray([fp]), pos, float(y.size) - pos)
    wanted = [t.metric for t in cfg.thresholds if t.metric in THRESHOLD_METRICS]
    targets = [m for m in breached if m in THRESHOLD_METRICS] or wanted or ["accuracy"]
    return {"threshold": threshold, "rows": int(y.size), "positives": int(pos), "method": "prior",
            "intercept": b, "fitted": {m: float(rates[m][0]) for m in sorted(set(targets) | set(wanted))}}


def binary_rows(cfg: ModelConfig, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(y, positive-class score)`` of the labelled dataset CSVs (the evaluator's ``dataset.csv``)."""
    labels = [norm_label(lab) for lab in cfg.labels or []]
    positive = norm_label(cfg.positive_label or labels[-1])
    ys, ss = [], []
    for text in texts:
        ds = parse_dataset_csv(cfg, text)
        sc = np.asarray(ds.scores, dtype=np.float64)
        if sc.ndim == 2:
            sc = sc[:, labels.index(positive)] if sc.shape[1] == len(labels) else sc[:, -1]
        ys.append(np.asarray([norm_label(v) == positive for v in ds.y_true.tolist()], dtype=np.int64))
        ss.append(sc)
    if not ys:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ys), np.concatenate(ss)


def multiclass_rows(cfg: ModelConfig, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(class index, (n, k) per-class scores)`` of the labelled dataset CSVs; rows whose label is not one of the
    config's labels or whose scores are not finite are left out."""
    labels = [norm_label(lab) for lab in cfg.labels or []]
    index = {lab: i for i, lab in enumerate(labels)}
    ys, ss = [], []
    for text in texts:
        ds = parse_dataset_csv(cfg, text)
        sc = np.asarray(ds.scores, dtype=np.float64)
        if sc.ndim != 2 or sc.shape[1] != len(labels):
            continue
        y = np.asarray([index.get(norm_label(v), -1) for v in ds.y_true.tolist()], dtype=np.int64)
        ok = (y >= 0) & np.all(np.isfinite(sc), axis=1)
        ys.append(y[ok])
        ss.append(sc[ok])
    if not ys:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(labels)))
    return np.concatenate(ys), np.concatenate(ss)


def fit_class_offsets(y: np.ndarray, scores: np.ndarray, *, max_iter: int = 50) -> dict[str, Any] | None:
    """Per-class score offsets ``b`` (``b_0 = 0``) of a multiclass model: the maximum-likelihood fit of
    ``p'(k|x) = softmax(log p(k|x) + b_k)`` on labelled rows (Newton on the ``k - 1`` free offsets; the
    log-likelihood is concave in ``b``). Under a label-prior shift (``P(x|y)`` unchanged) the true correction is
    ``b_k = log(pi'_k / pi_k) - log(pi'_0 / pi_0)`` (Saerens et al. 2002): this fit estimates it from the new
    windows' labels, with the model's own calibration errors absorbed into the intercepts ("bias-corrected
    calibration", Alexandari et al. 2020). ``None`` when the rows cannot support a fit (too few rows, a class
    without ``MIN_PER_CLASS`` labelled rows, or scores that are not probabilities)."""
    y = np.asarray(y, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or y.size < MIN_ROWS or s.shape[0] != y.size:
        return None
    k = s.shape[1]
    counts = np.bincount(y, minlength=k)
    if k < 2 or counts.size != k or counts.min() < MIN_PER_CLASS or np.any(s < 0) or np.any(s > 1):
        return None
    lp = np.log(np.clip(s, 1e-300, 1.0))
    onehot = np.eye(k)[y]
    b = np.zeros(k)
    for _ in range(max_iter):
        z = lp + b
        z -= z.max(axis=1, keepdims=True)
        q = np.exp(z)
        q /= q.sum(axis=1, keepdims=True)
        grad = (onehot - q).sum(axis=0)[1:]
        hess = (np.diag(q.sum(axis=0)) - q.T @ q)[1:, 1:]  # minus the Hessian: positive definite
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
        b[1:] += step
        if np.max(np.abs(step)) < 1e-10:
            break
    if not np.all(np.isfinite(b)):
        return None
    before = float(np.mean(np.argmax(s, axis=1) == y))
    after = float(np.mean(np.argmax(lp + b, axis=1) == y))
    return {"classOffsets": [float(v) for v in b], "rows": int(y.size), "classCounts": counts.tolist(),
            "fitted": {"accuracy": after}, "previous": {"accuracy": before}}


def _cells(y: np.ndarray, a: np.ndarray, b: np.ndarray, k: int) -> list[list[int]]:
    """The non-zero cells ``[index, count]`` of the ``(k, k, k)`` table ``[label, champion, candidate]`` (index
    ``(label * k + champion) * k + candidate``): what the comparison pools with the window's own table."""
    counts = np.bincount((y * k + a) * k + b, minlength=k**3)
    return [[int(i), int(counts[i])] for i in np.flatnonzero(counts)]


def crossfit_threshold(cfg: ModelConfig, earlier: tuple[np.ndarray, np.ndarray], window: tuple[np.ndarray, np.ndarray],
                       breached: Sequence[str], champion_threshold: float, *, prior: bool = False,
                       base: float | None = None) -> dict[str, Any] | None:
    """The second fold of a cross-fitted recalibration test. The candidate threshold is fitted on the earlier
    windows and judged on the current one (by the comparison); here the mirror image: a threshold fitted on the
    current window, applied to the earlier windows' rows, gives a second set of paired predictions (champion's
    threshold vs the refitted one) on rows that fit never saw. The comparison pools its table with the window's,
    so the recalibration is judged on both windows' rows instead of one. ``deploy``: the threshold fitted on
    both (what a winning recalibration deploys). ``prior``: fit by :func:`fit_prior_threshold` (``base``, default
    the champion's threshold, prior-corrected) instead of :func:`fit_threshold`. ``None`` when the current window
    cannot support a fit."""
    y_a, s_a = (np.asarray(v) for v in earlier)
    y_b, s_b = (np.asarray(v) for v in window)
    def fit(y: np.ndarray, s: np.ndarray) -> dict[str, Any] | None:
        if prior:
            return fit_prior_threshold(cfg, y, s, breached, champion_threshold if base is None else base)
        return fit_threshold(cfg, y, s, breached)

    fit_b = fit(y_b, s_b)
    if fit_b is None:
        return None
    ok = np.isfinite(s_a)
    y_a, s_a = y_a[ok].astype(np.int64), s_a[ok]
    both = fit(np.concatenate([y_a, y_b]), np.concatenate([s_a, s_b]))
    champion = (s_a > champion_threshold).astype(np.int64)
    candidate = (s_a > fit_b["threshold"]).astype(np.int64)
    return {"threshold": fit_b["threshold"], "rows": int(y_a.size), "windowRows": fit_b["rows"],
            "cells": _cells(y_a, champion, candidate, 2),
            "deploy": {"threshold": (both or fit_b)["threshold"], "rows": int(y_a.size) + fit_b["rows"]}}


def crossfit_class_offsets(earlier: tuple[np.ndarray, np.ndarray], window: tuple[np.ndarray, np.ndarray],
                           champion_offsets: Sequence[float] | None) -> dict[str, Any] | None:
    """:func:`crossfit_threshold` for a multiclass model: offsets fitted on the current window, applied to the
    earlier windows' rows (champion: its current offsets), and the offsets fitted on both to deploy."""
    y_a, s_a = (np.asarray(v) for v in earlier)
    y_b, s_b = (np.asarray(v) for v in window)
    fit_b = fit_class_offsets(y_b, s_b)
    if fit_b is None or s_a.ndim != 2 or s_a.shape[1] != s_b.shape[1] or not s_a.shape[0]:
        return None
    k = s_a.shape[1]
    lp = np.log(np.clip(s_a, 1e-300, 1.0))
    base = np.zeros(k) if not champion_offsets or len(champion_offsets) != k else np.asarray(champion_offsets)
    champion = np.argmax(lp + base, axis=1)
    candidate = np.argmax(lp + np.asarray(fit_b["classOffsets"]), axis=1)
    both = fit_class_offsets(np.concatenate([y_a, y_b]), np.concatenate([s_a, s_b]))
    return {"classOffsets": fit_b["classOffsets"], "rows": int(y_a.size), "windowRows": fit_b["rows"],
            "cells": _cells(y_a.astype(np.int64), champion, candidate, k),
            "deploy": {"classOffsets": (both or fit_b)["classOffsets"], "rows": int(y_a.size) + fit_b["rows"]}}
