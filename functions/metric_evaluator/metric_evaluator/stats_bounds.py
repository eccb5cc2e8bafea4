"""Uncertainty of one window's metric: confidence bounds (Wilson, DeLong, multinomial bootstrap of the
confusion matrix, normal interval of per-row losses) and the constants the paired tests share. The method per
metric is tabled in :mod:`metric_evaluator.stats`, which re-exports this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

CONFUSION_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc")
RANKING_METRICS = ("roc_auc", "average_precision")
MEAN_LOSS_METRICS = ("log_loss", "brier", "mse", "rmse", "mae", "mape", "r2")
#: metrics that depend on the decision threshold (what a recalibrated threshold can change)
THRESHOLD_METRICS = frozenset(CONFUSION_METRICS)
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mse", "rmse", "mae", "mape"})
SEED = 20240601
#: elements of one batch of bootstrap weights (rows x replicates): bounds the memory of a batch to ~80 MB
BATCH_ELEMENTS = 20_000_000
#: a row bootstrap of more rows than this resamples a fixed-seed subsample of this many rows and rescales its
#: deviations by sqrt(m / n) (the m-out-of-n bootstrap of Bickel & Sakov, valid for the root-n metrics used
#: here): the cost stops growing with n while the interval keeps the width of the full-sample one
BOOTSTRAP_MAX_ROWS = 200_000
_EPS = float(np.finfo(np.float64).eps)

__all__ = [
    "BATCH_ELEMENTS",
    "BOOTSTRAP_MAX_ROWS",
    "CONFUSION_METRICS",
    "LOWER_IS_BETTER",
    "MEAN_LOSS_METRICS",
    "RANKING_METRICS",
    "SEED",
    "THRESHOLD_METRICS",
    "auc_bounds",
    "bounds_from_counts",
    "confusion_bounds",
    "confusion_metric",
    "delong",
    "hanley_mcneil_bounds",
    "norm_sf",
    "per_row_loss",
    "wilson_bounds",
    "window_bounds",
    "z_of",
]



def z_of(confidence: float) -> float:
    """The standard normal quantile of a one-sided ``confidence``."""
    return NormalDist().inv_cdf(confidence)


def norm_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


# ---------------------------------------------------------------------------------------------- one window
def wilson_bounds(k: float, n: float, confidence: float) -> tuple[float, float]:
    """One-sided Wilson score bounds of a proportion ``k / n`` (each holds with probability ``confidence``).

    >>> lo, hi = wilson_bounds(80, 100, 0.9)
    >>> round(lo, 3), round(hi, 3)
    (0.745, 0.845)
    """
    if n <= 0:
        return math.nan, math.nan
    z = z_of(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def confusion_metric(metric: str, cm: np.ndarray, *, binary: bool) -> np.ndarray:
    """A confusion-matrix metric of a stack of matrices ``cm[..., true, pred]`` (sklearn's definitions).

    Binary: ``precision``/``recall``/``f1`` of class 1. Multiclass: their macro averages over the classes whose
    denominator is not zero (sklearn's ``zero_division=np.nan`` drops the others). NaN where undefined.
    """
    cm = np.asarray(cm, dtype=np.float64)
    diag = np.diagonal(cm, axis1=-2, axis2=-1)
    rows = cm.sum(axis=-1)  # actual
    cols = cm.sum(axis=-2)  # predicted
    total = rows.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "accuracy":
            return np.asarray(diag.sum(axis=-1) / total)
        if metric == "balanced_accuracy":
            rec = np.where(rows > 0, diag / np.where(rows > 0, rows, 1), np.nan)
            return np.asarray(np.nanmean(rec, axis=-1))
        if metric == "mcc":
            c = diag.sum(axis=-1)
            num = c * total - (cols * rows).sum(axis=-1)
            den = np.sqrt((total**2 - (cols**2).sum(axis=-1)) * (total**2 - (rows**2).sum(axis=-1)))
            return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0))
        if metric == "precision":
            per = np.where(cols > 0, diag / np.where(cols > 0, cols, 1), np.nan)
        elif metric == "recall":
            per = np.where(rows > 0, diag / np.where(rows > 0, rows, 1), np.nan)
        elif metric == "f1":
            d = rows + cols
            per = np.where(d > 0, 2 * diag / np.where(d > 0, d, 1), np.nan)
        else:
            raise ValueError(f"{metric!r} is not a confusion-matrix metric")
        if binary:
            return np.asarray(per[..., 1])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slice -> NaN
            return np.asarray(np.nanmean(per, axis=-1))


def _midrank(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x`` with ties given their average rank."""
    order = np.argsort(x)
    xs = x[order]
    n = xs.size
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], n]
    out = np.empty(n, dtype=np.float64)
    out[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return out


def delong(y: np.ndarray, scores: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUCs of several score vectors on the same rows and their DeLong covariance matrix.

    The fast algorithm of Sun & Xu (2014): midranks, O(m n log n). ``y`` is 0/1.
    """
    y = np.asarray(y)
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    m = len(scores)
    if n1 < 2 or n0 < 2:
        return np.full(m, np.nan), np.full((m, m), np.nan)
    v01 = np.empty((m, n1))
    v10 = np.empty((m, n0))
    aucs = np.empty(m)
    for r, s in enumerate(scores):
        s = np.asarray(s, dtype=np.float64)
        x, z = s[pos], s[~pos]
        tx, tz, tall = _midrank(x), _midrank(z), _midrank(np.concatenate([x, z]))
        aucs[r] = (tall[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        v01[r] = (tall[:n1] - tx) / n0
        v10[r] = 1.0 - (tall[n1:] - tz) / n1
    cov = np.atleast_2d(np.cov(v01)) / n1 + np.atleast_2d(np.cov(v10)) / n0
    return aucs, cov


def _ovr(y: np.ndarray, k: int) -> list[np.ndarray]:
    return [(y == c).astype(np.int64) for c in range(k)]


def auc_bounds(y: np.ndarray, s: np.ndarray, confidence: float, *, multiclass: bool) -> dict[str, Any]:
    """Normal bounds of the ROC AUC with the DeLong standard error (multiclass OvR macro: mean of class SDs)."""
    if not multiclass:
        aucs, cov = delong(y, [s])
        value, sd = float(aucs[0]), float(math.sqrt(max(cov[0, 0], 0.0)))
    else:
        vals, sds = [], []
        for c, yc in enumerate(_ovr(y, s.shape[1])):
            a, cv = delong(yc, [s[:, c]])
            if math.isfinite(a[0]):
                vals.append(float(a[0]))
                sds.append(math.sqrt(max(cv[0, 0], 0.0)))
        value = float(np.mean(vals)) if vals else math.nan
        sd = float(np.mean(sds)) if sds else math.nan
    z = z_of(confidence)
    return {"method": "delong", "stdError": sd, "lower": max(0.0, value - z * sd), "upper": min(1.0, value + z * sd)}


def hanley_mcneil_bounds(auc: float, n_pos: int, n_neg: int, confidence: float) -> dict[str, Any]:
    """Normal bounds of a ROC AUC from the Hanley & McNeil (1982) variance (needs only the AUC and class sizes:
    what a sharded run has after merging its score histograms)."""
    if not (math.isfinite(auc) and n_pos > 0 and n_neg > 0):
        return {"method": "hanley_mcneil", "lower": math.nan, "upper": math.nan}
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    sd, z = math.sqrt(max(var, 0.0)), z_of(confidence)
    return {"method": "hanley_mcneil", "stdError": sd, "lower": max(0.0, auc - z * sd), "upper": min(1.0, auc + z * sd)}


def bounds_from_counts(metrics: Sequence[str], values: dict[str, float], cm: np.ndarray, confidence: float,
                       *, binary: bool) -> dict[str, dict[str, Any]]:
    """Bounds of a merged (sharded) evaluation: confusion-matrix metrics from the merged matrix (Wilson /
    multinomial bootstrap), ROC AUC by Hanley & McNeil. Metrics needing per-row values are left out (judged on
    their point estimate)."""
    cm = np.asarray(cm, dtype=np.int64)
    k = cm.shape[0]
    y = np.repeat(np.arange(k), cm.sum(axis=1))
    pred = np.concatenate([np.repeat(np.arange(k), cm[i]) for i in range(k)]) if cm.sum() else np.zeros(0, int)
    out: dict[str, dict[str, Any]] = {}
    for m in metrics:
        if m in out or not math.isfinite(values.get(m, math.nan)):
            continue
        b: dict[str, Any] | None = None
        if m in CONFUSION_METRICS and cm.sum():
            b = window_bounds(m, kind="binary" if binary else "multiclass", y=y, y_pred=pred, scores=None,
                              confidence=confidence)
        elif m == "roc_auc" and binary:
            b = {**hanley_mcneil_bounds(values[m], int(cm[1].sum()), int(cm[0].sum()), confidence),
                 "confidence": confidence}
        if b is not None and math.isfinite(b["lower"]) and math.isfinite(b["upper"]):
            out[m] = b
    return out


def _mean_bounds(x: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    n = x.size
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = z_of(confidence)
    return mean, se, mean - z * se, mean + z * se


def _bootstrap_quantiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if v.size < 10:
        return math.nan, math.nan
    return float(np.quantile(v, 1 - confidence)), float(np.quantile(v, confidence))


def confusion_bounds(metric: str, cm: np.ndarray, confidence: float, *, binary: bool, resamples: int = 2000,
                     seed: int = SEED) -> dict[str, Any]:
    """Percentile bounds of a confusion-matrix metric from a multinomial bootstrap of the matrix's cells."""
    cm = np.asarray(cm, dtype=np.int64)
    n = int(cm.sum())
    if n == 0:
        return {"method": "multinomial_bootstrap", "lower": math.nan, "upper": math.nan}
    rng = np.random.default_rng(seed)
    flat = cm.ravel()
    nz = np.flatnonzero(flat)
    draws = rng.multinomial(n, flat[nz] / n, size=resamples)
    full = np.zeros((resamples, flat.size), dtype=np.int64)
    full[:, nz] = draws
    vals = confusion_metric(metric, full.reshape(resamples, *cm.shape), binary=binary)
    lo, hi = _bootstrap_quantiles(vals, confidence)
    return {"method": "multinomial_bootstrap", "resamples": resamples, "seed": seed, "lower": lo, "upper": hi}


def window_bounds(metric: str, *, kind: str, y: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
                  confidence: float, seed: int = SEED) -> dict[str, Any] | None:
    """One-sided ``confidence`` bounds of ``metric`` on one window (``None`` when no method applies).

    ``kind`` is ``binary`` (``y``/``y_pred`` 0/1, ``scores`` the positive-class score), ``multiclass``
    (class indices, ``scores`` (n, k) or None) or ``regression`` (``y_pred`` the prediction).
    """
    out: dict[str, Any] | None = None
    if kind == "regression":
        e = np.asarray(y_pred, dtype=np.float64) - np.asarray(y, dtype=np.float64)
        if e.size < 2:
            return None
        if metric in ("mse", "rmse"):
            _, se, lo, hi = _mean_bounds(e * e, confidence)
            if metric == "rmse":
                lo, hi = math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))
            out = {"method": "normal" if metric == "mse" else "normal_sqrt", "lower": max(lo, 0.0), "upper": hi}
        elif metric == "mae":
            _, _, lo, hi = _mean_bounds(np.abs(e), confidence)
            out = {"method": "normal", "lower": max(lo, 0.0), "upper": hi}
        elif metric == "mape":
            ape = np.abs(e) / np.maximum(np.abs(np.asarray(y, dtype=np.float64)), _EPS)
            _, _, lo, hi = _mean_bounds(ape, confidence)
            out = {"method": "normal", "lower": max(lo, 0.0), "upper": hi}
        elif metric == "r2":
            yv = np.asarray(y, dtype=np.float64)
            a, b = e * e, (yv - yv.mean()) ** 2
            ma, mb = float(a.mean()), float(b.mean())
            if mb <= 0:
                return None
            va, vb, cab = float(a.var(ddof=1)), float(b.var(ddof=1)), float(np.cov(a, b)[0, 1])
            var = (va / mb**2 - 2 * ma * cab / mb**3 + ma**2 * vb / mb**4) / a.size
            value, z = 1 - ma / mb, z_of(confidence)
            sd = math.sqrt(max(var, 0.0))
            out = {"method": "delta", "lower": value - z * sd, "upper": min(1.0, value + z * sd)}
        return out if out is None else {**out, "confidence": confidence}

    k = 2 if kind == "binary" else (scores.shape[1] if scores is not None and scores.ndim == 2
                                    else int(max(np.max(y, initial=0), np.max(y_pred, initial=0))) + 1)
    binary = kind == "binary"
    if metric in CONFUSION_METRICS:
        ok = (y >= 0) & (y_pred >= 0)
        yy, pp = np.asarray(y)[ok], np.asarray(y_pred)[ok]
        if yy.size == 0:
            return None
        cm = np.bincount(yy * k + pp, minlength=k * k).reshape(k, k)
        if metric == "accuracy" or (binary and metric in ("precision", "recall")):
            if metric == "accuracy":
                num, den = np.trace(cm), cm.sum()
            elif metric == "precision":
                num, den = cm[1, 1], cm[:, 1].sum()
            else:
                num, den = cm[1, 1], cm[1, :].sum()
            lo, hi = wilson_bounds(float(num), float(den), confidence)
            out = {"method": "wilson", "lower": lo, "upper": hi}
        else:
            out = confusion_bounds(metric, cm, confidence, binary=binary, seed=seed)
    elif scores is None:
        return None
    elif metric == "roc_auc":
        out = auc_bounds(y, scores, confidence, multiclass=not binary)
    elif metric == "average_precision" and binary:
        s = np.asarray(scores, dtype=np.float64)
        from driftline_metrics import average_precision_score

        ap, n_pos = float(average_precision_score(y, s)), int(np.sum(y == 1))
        if not (0 < ap < 1) or n_pos == 0:
            return None
        logit, se = math.log(ap / (1 - ap)), 1 / math.sqrt(n_pos * ap * (1 - ap))
        z = z_of(confidence)
        out = {"method": "logit", "lower": 1 / (1 + math.exp(-(logit - z * se))),
               "upper": 1 / (1 + math.exp(-(logit + z * se)))}
    elif metric in ("log_loss", "brier"):
        losses = per_row_loss(metric, kind=kind, y=y, scores=scores)
        if losses is None or losses.size < 2:
            return None
        _, _, lo, hi = _mean_bounds(losses, confidence)
        out = {"method": "normal", "lower": max(lo, 0.0), "upper": hi}
    return None if out is None else {**out, "confidence": confidence}


def per_row_loss(metric: str, *, kind: str, y: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    """Per-row log loss or Brier score (their mean is the metric; probabilities clipped as sklearn does)."""
    s = np.asarray(scores, dtype=np.float64)
    eps = _EPS
    if kind == "binary":
        yv = np.asarray(y, dtype=np.float64)
        if metric == "brier":
            return np.asarray((s - yv) ** 2)
        p = np.clip(s, eps, 1 - eps)
        return np.asarray(-(yv * np.log(p) + (1 - yv) * np.log(1 - p)))
    if metric == "log_loss" and s.ndim == 2:
        yi = np.asarray(y, dtype=np.int64)
        ok = (yi >= 0) & (yi < s.shape[1])
        p = np.clip(s[np.arange(s.shape[0]), np.where(ok, yi, 0)], eps, 1)
        return np.asarray(-np.log(p)[ok])
    return None
