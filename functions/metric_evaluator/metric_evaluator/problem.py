"""The evaluator's view of a labelled window: a :class:`Problem` (labels, scores, predictions) per problem type.

See :mod:`metric_evaluator.evaluate` for the metrics of one model and :mod:`metric_evaluator.compare` for the
paired challenger-versus-champion comparison.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import driftline_metrics as dm
import numpy as np
from driftline_common.config import ModelConfig
from driftline_common.datasets import (
    norm_label,
)

MAX_CURVE_POINTS = 200
BOOTSTRAP_SEED = 20240601



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


