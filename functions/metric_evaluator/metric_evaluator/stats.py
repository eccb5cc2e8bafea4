"""Uncertainty of the evaluator's numbers: confidence bounds of a window's metric, paired champion-vs-candidate
tests, Holm's correction. numpy only, vectorised, cheap at a million rows.

Which method for which metric (one table, used by both the breach check and the promotion tests):

========================  ==================================  ==========================================
metric                    bound of one window                 paired test (candidate vs champion)
========================  ==================================  ==========================================
accuracy                  Wilson (correct / rows)             McNemar on the discordant pairs (exact or
                                                              mid-p binomial), Wald interval of the delta
precision, recall         Wilson (binary: TP / predicted      multinomial bootstrap of the joint
(binary)                  positives, TP / actual positives)   (label, champion, candidate) table
f1, balanced_accuracy,    multinomial bootstrap of the        multinomial bootstrap of the joint table
mcc, macro precision /    confusion matrix (its cells are     (the table is a sufficient statistic: the
recall / f1               sufficient: cost independent of n)  cost does not depend on n)
roc_auc                   DeLong variance (multiclass OvR     paired DeLong (multiclass: per class,
                          macro: mean of the per-class SDs,   the macro SD bounded by the mean of the
                          an upper bound of the macro SD)     per-class SDs)
average_precision         logit interval (Boyd et al. 2013)   Poisson-weight bootstrap in batches
mse, rmse, mae, mape,     normal interval of the mean of the  Poisson-weight bootstrap in batches on the
log_loss, brier           per-row losses (rmse: its square    per-row sums (weights drawn from a 16-bit
                          root), r2: delta method             lookup table of the Poisson(1) law)
========================  ==================================  ==========================================

Bounds are one-sided: ``lower`` holds with probability ``confidence`` and so does ``upper``. A deterministic seed
keeps every bootstrap reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
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


# ---------------------------------------------------------------------------------------------- paired tests
def joint_table(y: np.ndarray, pred_champion: np.ndarray, pred_candidate: np.ndarray, k: int) -> np.ndarray:
    """The ``(k, k, k)`` count table ``[label, champion prediction, candidate prediction]`` of paired rows (class
    indices in ``[0, k)``): a sufficient statistic of every confusion-matrix metric's paired comparison."""
    y, a, b = (np.asarray(v, dtype=np.int64) for v in (y, pred_champion, pred_candidate))
    return np.bincount((y * k + a) * k + b, minlength=k**3).reshape(k, k, k)


def _mcnemar_from_joint(cube: np.ndarray) -> tuple[int, int, int, int]:
    """``(championOnly, candidateOnly, bothCorrect, bothWrong)`` of a :func:`joint_table`."""
    k = cube.shape[0]
    idx = np.arange(k)
    a_right = np.zeros((k, k, k), dtype=bool)
    b_right = np.zeros((k, k, k), dtype=bool)
    a_right[idx, idx, :] = True
    b_right[idx, :, idx] = True
    return (int(cube[a_right & ~b_right].sum()), int(cube[~a_right & b_right].sum()),
            int(cube[a_right & b_right].sum()), int(cube[~a_right & ~b_right].sum()))


def binom_sf_half(k: int, m: int, *, mid_p: bool) -> float:
    """P(X >= k) for X ~ Binomial(m, 1/2) (``mid_p``: P(X > k) + P(X = k) / 2): McNemar's one-sided p-value."""
    if m == 0:
        return 1.0 if not mid_p else 0.5
    if k > m:
        return 0.0
    # log C(m, i) for i = k..m, by the recurrence C(m, i + 1) = C(m, i) (m - i) / (i + 1)
    i = np.arange(k, m, dtype=np.float64)
    start = math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)
    logs = start + np.concatenate([[0.0], np.cumsum(np.log(m - i) - np.log(i + 1))])
    probs = np.exp(logs - m * math.log(2))
    p = float(probs.sum())
    if mid_p:
        p -= 0.5 * float(probs[0])
    return min(1.0, max(0.0, p))


def holm(pvalues: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``."""
    order = sorted(range(len(pvalues)), key=lambda i: (not math.isfinite(pvalues[i]), pvalues[i]))
    m = len(pvalues)
    rejected = [False] * m
    for rank, i in enumerate(order):
        p = pvalues[i]
        if not (math.isfinite(p) and p <= alpha / (m - rank)):
            break
        rejected[i] = True
    return rejected


def _poisson_table() -> np.ndarray:
    """Poisson(1) inverse CDF on a 16-bit grid: ``table[u]`` for uniform 16-bit ``u`` is a Poisson(1) weight."""
    cdf = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])
    return np.searchsorted(cdf, (np.arange(65536) + 0.5) / 65536).astype(np.float32)


_POISSON = _poisson_table()


def poisson_weight_batches(n: int, resamples: int, seed: int, *, batch_elements: int = BATCH_ELEMENTS
                           ) -> Iterator[np.ndarray]:
    """Batches of Poisson(1) bootstrap weights ``(batch, n)`` (float32), ``resamples`` rows in all."""
    rng = np.random.default_rng(seed)
    per = max(1, min(resamples, batch_elements // max(n, 1)))
    done = 0
    while done < resamples:
        b = min(per, resamples - done)
        yield _POISSON[rng.integers(0, 65536, size=(b, n), dtype=np.uint16)]
        done += b


def bootstrap_sums(columns: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Weighted column sums ``(resamples, p)`` of ``columns`` (n, p) under Poisson bootstrap weights."""
    cols = np.asarray(columns, dtype=np.float64)
    # center the columns so float32 weights lose no precision on large sums; add the means back
    means = cols.mean(axis=0)
    centred = (cols - means).astype(np.float32)
    out = []
    for w in poisson_weight_batches(cols.shape[0], resamples, seed):
        tot = w.sum(axis=1, dtype=np.float64)
        out.append((w @ centred).astype(np.float64) + tot[:, None] * means[None, :])
        out[-1] = np.column_stack([out[-1], tot])
    return np.vstack(out)


def _subsample(n: int, seed: int, max_rows: int) -> tuple[np.ndarray | None, float]:
    """Rows of the m-out-of-n bootstrap (``None``: all rows) and the factor sqrt(m / n) of its deviations."""
    if n <= max_rows:
        return None, 1.0
    rows = np.sort(np.random.default_rng(seed + 1).choice(n, max_rows, replace=False))
    return rows, math.sqrt(max_rows / n)


def _rescale(deltas: np.ndarray, centre: float, factor: float) -> np.ndarray:
    """Bootstrap replicates of a subsample recentred on the full-sample delta, deviations scaled by ``factor``."""
    if factor == 1.0:
        return deltas
    finite = deltas[np.isfinite(deltas)]
    mid = float(np.mean(finite)) if finite.size else 0.0
    return np.asarray(centre + (deltas - mid) * factor)


def _loss_columns(metric: str, *, kind: str, y: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    if kind == "regression":
        e = np.asarray(scores, dtype=np.float64) - np.asarray(y, dtype=np.float64)
        if metric in ("mse", "rmse", "r2"):
            return e * e
        if metric == "mae":
            return np.abs(e)
        if metric == "mape":
            return np.abs(e) / np.maximum(np.abs(np.asarray(y, dtype=np.float64)), _EPS)
        return None
    return per_row_loss(metric, kind=kind, y=y, scores=scores)


def _from_sums(metric: str, loss_sum: np.ndarray, total: np.ndarray, sst: np.ndarray | None) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = loss_sum / total
        if metric == "rmse":
            return np.asarray(np.sqrt(np.maximum(mean, 0.0)))
        if metric == "r2" and sst is not None:
            return np.asarray(1.0 - loss_sum / sst)
        return np.asarray(mean)


def _result(metric: str, champion: float, candidate: float, deltas: np.ndarray | None, *, method: str,
            confidence: float, higher: bool, extra: dict[str, Any] | None = None,
            normal: tuple[float, float] | None = None) -> dict[str, Any]:
    """The common shape of a paired test: delta in the improvement direction, its one-sided bounds, p-value."""
    sign = 1.0 if higher else -1.0
    delta = sign * (candidate - champion)
    if normal is not None:
        se = normal[1]
        z = z_of(confidence)
        lo, hi = delta - z * se, delta + z * se
        p = (norm_sf(delta / se) if se > 0 else (0.0 if delta > 0 else 1.0)) if math.isfinite(se) else math.nan
        res = {"stdError": se}
    elif deltas is not None:
        d = sign * deltas[np.isfinite(deltas)]
        if d.size < 10:
            lo = hi = p = math.nan
        else:
            lo, hi = float(np.quantile(d, 1 - confidence)), float(np.quantile(d, confidence))
            p = float((np.sum(d <= 0) + 1) / (d.size + 1)) if delta > 0 else 1.0
        res = {"resamples": int(deltas.size), "valid": int(d.size)}
    else:
        lo = hi = p = math.nan
        res = {}
    return {"metric": metric, "method": method, "champion": champion, "candidate": candidate, "delta": delta,
            "lower": lo, "upper": hi, "confidence": confidence, "pvalue": p, **res, **(extra or {})}


def paired_test(metric: str, *, kind: str, y: np.ndarray, champion: tuple[np.ndarray, np.ndarray | None],
                candidate: tuple[np.ndarray, np.ndarray | None], confidence: float, mid_p: bool = True,
                resamples: int = 400, seed: int = SEED, max_rows: int = BOOTSTRAP_MAX_ROWS,
                extra_joint: np.ndarray | None = None) -> dict[str, Any]:
    """Champion vs candidate on the same rows for one metric; ``champion``/``candidate`` = ``(y_pred, scores)``.

    ``extra_joint``: for the confusion-matrix metrics only, a ``(k, k, k)`` count table ``[label, champion
    prediction, candidate prediction]`` of further paired rows, independent of the candidate's fit (a cross-fitted
    fold, :func:`joint_table`); it is added to these rows' table, so the test (McNemar's counts included) is on
    the pooled rows. Ignored by every other metric.

    Returns ``{"metric", "method", "champion", "candidate", "delta", "lower", "upper", "confidence", "pvalue", ...}``
    where ``delta`` is the improvement in the metric's direction (positive = candidate better), ``lower``/``upper``
    its one-sided bounds at ``confidence`` (each), ``pvalue`` the one-sided p-value of "candidate better".
    """
    higher = metric not in LOWER_IS_BETTER
    (pc, sc), (pn, sn) = champion, candidate
    y = np.asarray(y)
    n = y.size
    if kind != "regression" and metric in CONFUSION_METRICS:
        k = 2 if kind == "binary" else int(max(np.max(y, initial=0), np.max(pc, initial=0),
                                               np.max(pn, initial=0))) + 1
        if sc is not None and np.ndim(sc) == 2:
            k = max(k, sc.shape[1])
        binary = kind == "binary"
        pooled: dict[str, Any] = {}
        if extra_joint is not None:
            extra_joint = np.asarray(extra_joint, dtype=np.int64)
            k = max(k, extra_joint.shape[0])
        ok = (y >= 0) & (pc >= 0) & (pn >= 0)
        joint = joint_table(y[ok], pc[ok], pn[ok], k).reshape(-1)
        if extra_joint is not None:
            e = extra_joint.shape[0]
            pooled_table = joint.reshape(k, k, k)
            pooled_table[:e, :e, :e] += extra_joint
            joint = pooled_table.reshape(-1)
            pooled = {"pooledRows": int(extra_joint.sum()), "windowRows": int(ok.sum())}
        cm_c = joint.reshape(k, k, k).sum(axis=2)
        cm_n = joint.reshape(k, k, k).sum(axis=1)
        v_c = float(confusion_metric(metric, cm_c, binary=binary))
        v_n = float(confusion_metric(metric, cm_n, binary=binary))
        if metric == "accuracy":
            c_only, n_only, both_right, both_wrong = _mcnemar_from_joint(joint.reshape(k, k, k))
            m = c_only + n_only + both_right + both_wrong
            disc = c_only + n_only
            se = math.sqrt(max(disc - (n_only - c_only) ** 2 / m, 0.0)) / m if m else math.nan
            res = _result(metric, v_c, v_n, None, method="mcnemar_mid_p" if mid_p else "mcnemar_exact",
                          confidence=confidence, higher=True, normal=(v_n - v_c, se),
                          extra={"championOnly": c_only, "challengerOnly": n_only,
                                 "bothCorrect": both_right, "bothWrong": both_wrong, **pooled})
            res["pvalue"] = binom_sf_half(n_only, disc, mid_p=mid_p)
            return res
        rng = np.random.default_rng(seed)
        nz = np.flatnonzero(joint)
        total = int(joint.sum())
        deltas = np.empty(0)
        if total:
            draws = rng.multinomial(total, joint[nz] / total, size=resamples)
            full = np.zeros((resamples, k**3), dtype=np.int64)
            full[:, nz] = draws
            cube = full.reshape(resamples, k, k, k)
            # cube[b, label, champion, candidate]: candidate's matrix sums out the champion's axis
            deltas = (confusion_metric(metric, cube.sum(axis=2), binary=binary)
                      - confusion_metric(metric, cube.sum(axis=3), binary=binary))
        return _result(metric, v_c, v_n, deltas, method="joint_multinomial_bootstrap", confidence=confidence,
                       higher=higher, extra={"seed": seed, **pooled})
    if metric == "roc_auc" and sc is not None and sn is not None:
        if kind == "binary":
            aucs, cov = delong(y, [sc, sn])
            var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
            return _result(metric, float(aucs[0]), float(aucs[1]), None, method="delong", confidence=confidence,
                           higher=True, normal=(float(aucs[1] - aucs[0]), math.sqrt(max(var, 0.0))))
        vals_c, vals_n, sds = [], [], []
        for c, yc in enumerate(_ovr(y, sc.shape[1])):
            aucs, cov = delong(yc, [sc[:, c], sn[:, c]])
            if np.all(np.isfinite(aucs)):
                vals_c.append(float(aucs[0]))
                vals_n.append(float(aucs[1]))
                sds.append(math.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0)))
        if not vals_c:
            return _result(metric, math.nan, math.nan, None, method="delong_ovr", confidence=confidence, higher=True)
        return _result(metric, float(np.mean(vals_c)), float(np.mean(vals_n)), None, method="delong_ovr",
                       confidence=confidence, higher=True, normal=(0.0, float(np.mean(sds))))
    if metric == "average_precision" and kind == "binary" and sc is not None and sn is not None:
        from driftline_metrics import average_precision_score

        v_c, v_n = float(average_precision_score(y, sc)), float(average_precision_score(y, sn))
        rows, factor = _subsample(n, seed, max_rows)
        if rows is None:
            deltas = _ap_bootstrap_deltas(y, sc, sn, resamples, seed)
        else:
            deltas = _rescale(_ap_bootstrap_deltas(y[rows], sc[rows], sn[rows], resamples, seed), v_n - v_c, factor)
        return _result(metric, v_c, v_n, deltas, method="poisson_bootstrap", confidence=confidence, higher=True,
                       extra={"seed": seed, "bootstrapRows": int(n if rows is None else rows.size)})
    if metric in MEAN_LOSS_METRICS:
        src_c = pc if kind == "regression" else sc
        src_n = pn if kind == "regression" else sn
        if src_c is None or src_n is None:
            return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)
        lc = _loss_columns(metric, kind=kind, y=y, scores=src_c)
        ln = _loss_columns(metric, kind=kind, y=y, scores=src_n)
        if lc is None or ln is None or n < 2:
            return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)
        cols = [lc, ln]
        if metric == "r2":
            yv = np.asarray(y, dtype=np.float64)
            cols += [yv, yv * yv]
        table = np.column_stack(cols)
        rows, factor = _subsample(n, seed, max_rows)
        sums = bootstrap_sums(table if rows is None else table[rows], resamples, seed)
        tot = sums[:, -1]
        sst = None
        if metric == "r2":
            sst = sums[:, 3] - sums[:, 2] ** 2 / tot
        deltas = _from_sums(metric, sums[:, 1], tot, sst) - _from_sums(metric, sums[:, 0], tot, sst)
        sst0 = float(np.sum((np.asarray(y, dtype=np.float64) - np.mean(y)) ** 2)) if metric == "r2" else None
        v_c = float(_from_sums(metric, np.asarray(lc.sum()), np.asarray(float(n)),
                               None if sst0 is None else np.asarray(sst0)))
        v_n = float(_from_sums(metric, np.asarray(ln.sum()), np.asarray(float(n)),
                               None if sst0 is None else np.asarray(sst0)))
        deltas = _rescale(deltas, v_n - v_c, factor)
        return _result(metric, v_c, v_n, deltas, method="poisson_bootstrap", confidence=confidence, higher=higher,
                       extra={"seed": seed, "bootstrapRows": int(n if rows is None else rows.size)})
    return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)


def _ap_bootstrap_deltas(y: np.ndarray, sc: np.ndarray, sn: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Poisson-bootstrap replicates of AP(candidate) - AP(champion), the same weights for both (paired).

    Per model, every row's tie group (distinct score, highest first) is computed once; a replicate's weighted
    positives and totals per group come from one ``bincount`` over the batch, then AP = sum over groups of the
    recall step times the precision at that group (sklearn's definition).
    """
    yv = (np.asarray(y) == 1).astype(np.float64)
    groups = []
    for s in (sc, sn):
        uniq, inverse = np.unique(-np.asarray(s, dtype=np.float64), return_inverse=True)
        groups.append((inverse.astype(np.int64), uniq.size))
    out = []
    for w in poisson_weight_batches(yv.size, resamples, seed, batch_elements=BATCH_ELEMENTS // 8):
        b = w.shape[0]
        vals = []
        for g, size in groups:
            idx = (g[None, :] + size * np.arange(b)[:, None]).ravel()
            wf = w.astype(np.float64).ravel()
            tp = np.cumsum(np.bincount(idx, weights=wf * np.tile(yv, b), minlength=b * size).reshape(b, size),
                           axis=1)
            pp = np.cumsum(np.bincount(idx, weights=wf, minlength=b * size).reshape(b, size), axis=1)
            tot = tp[:, -1:]
            with np.errstate(divide="ignore", invalid="ignore"):
                prec = np.where(pp > 0, tp / np.where(pp > 0, pp, 1), 0.0)
                rec = tp / tot
            d_rec = np.diff(rec, axis=1, prepend=0.0)
            vals.append(np.sum(d_rec * prec, axis=1))
        out.append(vals[1] - vals[0])
    return np.concatenate(out)
