"""Small, bounded chart data of evaluated models for the run report (docs/reports.md).

- :func:`comparison_charts`: the ``charts`` sub-document of ``comparison.json`` — per model scored in the
  comparison (champion, retrained challenger, recalibrated champion) its confusion matrix and curves, computed on
  the same paired rows as the tests;
- :func:`shard_chart_pieces` / :func:`merge_chart_pieces`: the mergeable pieces a shard of a sharded evaluation
  stores (counts per score bin, histograms) and the ``details`` the merged evaluation gets from them (ROC and PR
  curves, reliability bins, residual histogram, predicted vs actual), so a sharded run's report has its charts.

Every array is bounded whatever the window size: curves at most :data:`MAX_CURVE_POINTS` points (one-vs-rest
curves share :data:`MULTICLASS_CURVE_BUDGET` points over the classes), histograms a fixed number of bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import driftline_metrics as dm
import numpy as np

from metric_evaluator.problem import MAX_CURVE_POINTS, Problem, _is_proba, downsample

#: points shared by the one-vs-rest curves of one multiclass model (at least 20 per class)
MULTICLASS_CURVE_BUDGET = 600
#: residual histogram / predicted-vs-actual grid (the same as the single-window evaluation's)
HIST_BINS = 30
#: reliability-curve bins (equal width over [0, 1])
CAL_BINS = 10
#: a shard's own fine histograms: FINE × the report's bins, re-binned onto the merged range
FINE = 8
FINE_2D = 3
#: names the report shows for the comparison's models
MODEL_NAMES = {"champion": "champion", "retrained": "challenger", "recalibrated": "recalibrated champion"}


def _f(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _points(*arrays: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """:func:`downsample`, each coordinate rounded to 6 decimals (a curve drawn on a page needs no more)."""
    return [[round(v, 6) for v in a] for a in downsample(*arrays, max_points=max_points)]


def binary_curves(y: np.ndarray, s: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> dict[str, Any]:
    """ROC and PR curves (downsampled) with AUC / AP; ``{}`` when only one class has rows."""
    y = np.asarray(y, dtype=np.int64)
    if np.unique(y).size != 2:
        return {}
    fpr, tpr, _ = dm.roc_curve(y, s)
    prec, rec, _ = dm.precision_recall_curve(y, s)
    roc = _points(fpr, tpr, max_points=max_points)
    pr = _points(prec, rec, max_points=max_points)
    return {"roc": {"fpr": roc[0], "tpr": roc[1], "auc": _f(dm.roc_auc_score(y, s))},
            "pr": {"precision": pr[0], "recall": pr[1], "ap": _f(dm.average_precision_score(y, s))}}


def _confusion(p: Problem) -> dict[str, Any]:
    if p.kind == "binary":
        names = [p.labels[1 - p.positive], p.labels[p.positive]] if len(p.labels) == 2 else ["0", "1"]
        return {"labels": [str(x) for x in names], "matrix": dm.confusion_matrix(p.y, p.y_pred, labels=[0, 1]).tolist()}
    labs = list(range(len(p.labels)))
    return {"labels": [str(x) for x in p.labels], "matrix": dm.confusion_matrix(p.y, p.y_pred, labels=labs).tolist()}


def _one_vs_rest(p: Problem) -> dict[str, Any]:
    s = p.scores
    if s is None or s.ndim != 2 or not _is_proba(s):
        return {}
    k = len(p.labels)
    per = max(20, MULTICLASS_CURVE_BUDGET // max(k, 1))
    out: dict[str, Any] = {}
    for j, label in enumerate(p.labels):
        yk = (p.y == j).astype(np.int64)
        if 0 < yk.sum() < yk.size:
            fpr, tpr, _ = dm.roc_curve(yk, s[:, j])
            pts = _points(fpr, tpr, max_points=per)
            out[str(label)] = {"fpr": pts[0], "tpr": pts[1], "auc": _f(dm.roc_auc_score(yk, s[:, j]))}
    return out


def _regression_charts(problems: Mapping[str, Problem]) -> dict[str, dict[str, Any]]:
    """Residual histograms and predicted-vs-actual grids of every model on SHARED edges (comparable side by side)."""
    y = np.asarray(next(iter(problems.values())).y, dtype=float)
    preds = {k: np.asarray(p.y_pred, dtype=float) for k, p in problems.items()}
    ok = np.isfinite(y)
    for v in preds.values():
        ok &= np.isfinite(v)
    if not ok.any():
        return {k: {} for k in problems}
    resid = {k: y[ok] - v[ok] for k, v in preds.items()}
    r_lo = min(float(r.min()) for r in resid.values())
    r_hi = max(float(r.max()) for r in resid.values())
    r_edges = np.linspace(r_lo, r_hi if r_hi > r_lo else r_lo + 1.0, HIST_BINS + 1)
    lo = min(float(y[ok].min()), *(float(v[ok].min()) for v in preds.values()))
    hi = max(float(y[ok].max()), *(float(v[ok].max()) for v in preds.values()))
    grid = np.linspace(lo, hi if hi > lo else lo + 1.0, HIST_BINS + 1)
    out: dict[str, dict[str, Any]] = {}
    for k, v in preds.items():
        counts, _ = np.histogram(resid[k], bins=r_edges)
        h, _, _ = np.histogram2d(y[ok], v[ok], bins=[grid, grid])
        out[k] = {"residualHistogram": {"edges": r_edges.tolist(), "counts": counts.tolist()},
                  "predictedVsActual": {"edges": grid.tolist(), "counts": h.astype(int).tolist()}}
    return out


def comparison_charts(problems: Mapping[str, Problem]) -> dict[str, Any]:
    """``{"models": {name: {...}}, "prevalence"?}`` of the prepared problems of one comparison (same rows).

    Per model: classification ``confusionMatrix``; binary ``roc`` / ``pr`` (with ``auc`` / ``ap``) and the
    ``operatingPoint`` at its decision threshold; multiclass one-vs-rest ``rocCurves``; regression
    ``residualHistogram`` and ``predictedVsActual`` on edges shared by all models.
    """
    first = next(iter(problems.values()))
    models: dict[str, dict[str, Any]] = {}
    if first.kind == "regression":
        for k, v in _regression_charts(problems).items():
            models[MODEL_NAMES.get(k, k)] = v
        return {"models": models}
    for k, p in problems.items():
        entry: dict[str, Any] = {"confusionMatrix": _confusion(p)}
        if p.kind == "binary" and p.scores is not None:
            entry.update(binary_curves(p.y, p.scores))
            (tn, fp), (fn, tp) = entry["confusionMatrix"]["matrix"]
            entry["operatingPoint"] = {"fpr": fp / (fp + tn) if fp + tn else None,
                                       "tpr": tp / (tp + fn) if tp + fn else None,
                                       "precision": tp / (tp + fp) if tp + fp else None,
                                       "recall": tp / (tp + fn) if tp + fn else None}
        elif p.kind == "multiclass":
            curves = _one_vs_rest(p)
            if curves:
                entry["rocCurves"] = curves
        models[MODEL_NAMES.get(k, k)] = entry
    out: dict[str, Any] = {"models": models}
    if first.kind == "binary" and first.y.size:
        out["prevalence"] = float(np.mean(first.y == 1))
    return out


# ------------------------------------------------------------------------------------------ sharded evaluations
def shard_chart_pieces(kind: str, y: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    """A shard's mergeable chart pieces. Binary (``y`` 0/1, ``s`` probabilities): sums per reliability bin
    (count, score, positives: exact when merged). Regression: each of its residual, actual and predicted ranges
    and fine histograms over them (``FINE`` × the report's bins; 2-D ``FINE_2D`` ×) to be re-binned on merge."""
    if kind == "binary":
        edges = np.linspace(0.0, 1.0, CAL_BINS + 1)
        idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, CAL_BINS - 1)
        return {"calibration": {
            "count": np.bincount(idx, minlength=CAL_BINS).tolist(),
            "sumPredicted": np.bincount(idx, weights=s, minlength=CAL_BINS).tolist(),
            "positives": np.bincount(idx, weights=(y == 1).astype(float), minlength=CAL_BINS).tolist()}}
    ok = np.isfinite(y) & np.isfinite(s)
    if not ok.any():
        return {}
    y, s = y[ok], s[ok]
    r = y - s
    r_edges = np.linspace(float(r.min()), float(r.max()) if r.max() > r.min() else float(r.min()) + 1.0,
                          HIST_BINS * FINE + 1)
    lo, hi = float(min(y.min(), s.min())), float(max(y.max(), s.max()))
    grid = np.linspace(lo, hi if hi > lo else lo + 1.0, HIST_BINS * FINE_2D + 1)
    h, _, _ = np.histogram2d(y, s, bins=[grid, grid])
    return {"residuals": {"lo": float(r_edges[0]), "hi": float(r_edges[-1]),
                          "counts": np.histogram(r, bins=r_edges)[0].tolist()},
            "predictedVsActual": {"lo": float(grid[0]), "hi": float(grid[-1]), "counts": h.astype(int).tolist()}}


def _overlap(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``W[i, j]``: the share of source bin ``j`` inside destination bin ``i`` (uniform within a source bin)."""
    a, b = src[:-1], src[1:]
    lo = np.maximum(dst[:-1, None], a[None, :])
    hi = np.minimum(dst[1:, None], b[None, :])
    return np.clip(hi - lo, 0.0, None) / (b - a)[None, :]


def _round_keep_total(x: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers close to ``x`` summing to ``total`` (largest remainders)."""
    flat = x.ravel()
    base = np.floor(flat).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        base[np.argsort(-(flat - base), kind="stable")[:short]] += 1
    return base.reshape(x.shape)


def _rebin(pieces: Sequence[Mapping[str, Any]], edges: np.ndarray, two_d: bool) -> np.ndarray:
    out = np.zeros((HIST_BINS, HIST_BINS) if two_d else HIST_BINS)
    total = 0
    for piece in pieces:
        counts = np.asarray(piece["counts"], dtype=float)
        src = np.linspace(piece["lo"], piece["hi"], counts.shape[0] + 1)
        w = _overlap(src, edges)
        out += w @ counts @ w.T if two_d else w @ counts
        total += int(counts.sum())
    return _round_keep_total(out, total)


def binned_curves(pos: np.ndarray, neg: np.ndarray) -> dict[str, Any]:
    """ROC and PR curves from positive / negative counts per score bin (ascending scores), one point per bin
    edge with rows above it (downsampled to ``MAX_CURVE_POINTS``)."""
    tp = np.concatenate([[0.0], np.cumsum(pos[::-1])])
    fp = np.concatenate([[0.0], np.cumsum(neg[::-1])])
    keep = np.concatenate([[True], (pos[::-1] + neg[::-1]) > 0])
    tp, fp = tp[keep], fp[keep]
    if tp[-1] == 0 or fp[-1] == 0:
        return {}
    tpr, fpr = tp / tp[-1], fp / fp[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
    roc = _points(fpr, tpr)
    pr = _points(precision[::-1], tpr[::-1])
    return {"rocCurve": {"fpr": roc[0], "tpr": roc[1]}, "prCurve": {"precision": pr[0], "recall": pr[1]}}


def merge_chart_pieces(kind: str, shards: Sequence[Mapping[str, Any]], score_hist: Any = None,
                       decision_threshold: float | None = None) -> dict[str, Any]:
    """The evaluation ``details`` a sharded run's report draws, from the shards' pieces (and, binary, the merged
    score histogram ``score_hist``, a :class:`~driftline_metrics.partial.BinaryScoreState`)."""
    pieces = [d.get("charts") or {} for d in shards]
    out: dict[str, Any] = {}
    if kind == "binary":
        if decision_threshold is not None:
            out["decisionThreshold"] = float(decision_threshold)
        if score_hist is not None:
            out.update(binned_curves(np.asarray(score_hist.pos), np.asarray(score_hist.neg)))
        cals = [p["calibration"] for p in pieces if p.get("calibration")]
        if cals and len(cals) == len(pieces):
            count = np.sum([c["count"] for c in cals], axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.sum([c["sumPredicted"] for c in cals], axis=0) / count
                frac = np.sum([c["positives"] for c in cals], axis=0) / count
            out["calibration"] = {"edges": np.linspace(0.0, 1.0, CAL_BINS + 1).tolist(), "count": count.tolist(),
                                  "meanPredicted": mean.tolist(), "fractionPositive": frac.tolist()}
        return out
    res = [p["residuals"] for p in pieces if p.get("residuals")]
    pva = [p["predictedVsActual"] for p in pieces if p.get("predictedVsActual")]
    if res:
        r_edges = np.linspace(min(r["lo"] for r in res), max(r["hi"] for r in res), HIST_BINS + 1)
        out["residualHistogram"] = {"edges": r_edges.tolist(), "counts": _rebin(res, r_edges, False).tolist(),
                                    "approximate": True}
    if pva:
        grid = np.linspace(min(p["lo"] for p in pva), max(p["hi"] for p in pva), HIST_BINS + 1)
        out["predictedVsActual"] = {"edges": grid.tolist(), "counts": _rebin(pva, grid, True).tolist(),
                                    "approximate": True}
    return out
