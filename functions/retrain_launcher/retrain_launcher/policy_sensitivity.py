"""Drift weighted by the model's sensitivity: does the feature drift move the champion's own scores?

Dataset drift in features the model ignores (or barely uses) cannot change its predictions. Before drift alone may
trigger a retrain, the ``decide`` step measures the population stability index (PSI) of the champion's scores on
the current window against its scores on its first labelled window (the earliest window it scored since it became
champion). Drift signals only when that PSI reaches ``retrainPolicy.scoreDriftPsi``; below it the decision says
``SCORES_UNCHANGED``. A performance breach is never gated: whether drift the model cannot see hurts it is a
question the labels answer. Multiclass: the largest PSI over the per-class score columns; regression: the PSI of
the prediction. Pure numpy; cost linear in rows (quantile bins of the reference, one ``searchsorted`` per column).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: quantile bins of the reference scores; a bin's share is floored at this value before the log ratio
BINS = 10
FLOOR = 1e-4
#: fewer rows than this on either side: no measurement (drift signals as without the gate)
MIN_ROWS = 100


def psi(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> float:
    """PSI of ``current`` against ``reference`` over the reference's quantile bins (ties merged), NaN when either
    side has fewer than ``MIN_ROWS`` finite values."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size < MIN_ROWS or cur.size < MIN_ROWS:
        return math.nan
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1])
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1) / ref.size
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1) / cur.size
    p, q = np.maximum(p, FLOOR), np.maximum(q, FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def score_psi(reference: np.ndarray, current: np.ndarray) -> dict[str, Any] | None:
    """``{"psi", "column"?, "referenceRows", "rows"}`` of 1-d scores or the worst column of ``(n, k)`` per-class
    scores; ``None`` when it cannot be measured (too few rows, different shapes)."""
    ref, cur = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if ref.ndim != cur.ndim or ref.ndim not in (1, 2) or (ref.ndim == 2 and ref.shape[1] != cur.shape[1]):
        return None
    if ref.ndim == 1:
        value, column = psi(ref, cur), None
    else:
        values = [psi(ref[:, j], cur[:, j]) for j in range(ref.shape[1])]
        finite = [(v, j) for j, v in enumerate(values) if math.isfinite(v)]
        value, column = max(finite) if finite else (math.nan, None)
    if not math.isfinite(value):
        return None
    out: dict[str, Any] = {"psi": value, "referenceRows": int(ref.shape[0]), "rows": int(cur.shape[0])}
    if column is not None:
        out["column"] = column
    return out
