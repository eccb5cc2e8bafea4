"""Registry-driven invariance tests (after scikit-learn's metrics/tests/test_common.py).

ONE table of metrics; every metric must be invariant to sample order, integer sample weights must
equal repeating samples, and string labels must give the same result as the integer labels they
stand for (order-preserving renaming).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import driftline_metrics as dm
import numpy as np
import pytest


@dataclass(frozen=True)
class Entry:
    fn: Any
    kind: str  # "labels" (y_pred labels), "binary" (scores), "multiclass" (probas), "regression"
    kwargs: dict = field(default_factory=dict)
    weights: bool = True


REGISTRY: dict[str, Entry] = {
    "confusion_matrix": Entry(dm.confusion_matrix, "labels"),
    "confusion_matrix_norm_true": Entry(dm.confusion_matrix, "labels", {"normalize": "true"}),
    "accuracy_score": Entry(dm.accuracy_score, "labels"),
    "accuracy_score_count": Entry(dm.accuracy_score, "labels", {"normalize": False}),
    "balanced_accuracy_score": Entry(dm.balanced_accuracy_score, "labels"),
    "balanced_accuracy_adjusted": Entry(dm.balanced_accuracy_score, "labels", {"adjusted": True}),
    "matthews_corrcoef": Entry(dm.matthews_corrcoef, "labels"),
    "precision_binary": Entry(dm.precision_score, "binary_labels", {"pos_label": 1}),
    "recall_binary": Entry(dm.recall_score, "binary_labels", {"pos_label": 1}),
    "f1_binary": Entry(dm.f1_score, "binary_labels", {"pos_label": 1}),
    "f1_macro": Entry(dm.f1_score, "labels", {"average": "macro"}),
    "f1_micro": Entry(dm.f1_score, "labels", {"average": "micro"}),
    "f1_weighted": Entry(dm.f1_score, "labels", {"average": "weighted"}),
    "fbeta_none": Entry(dm.fbeta_score, "labels", {"average": None, "beta": 2.0}),
    "prfs_none": Entry(dm.precision_recall_fscore_support, "labels", {"average": None}),
    "roc_auc_binary": Entry(dm.roc_auc_score, "binary"),
    "roc_auc_max_fpr": Entry(dm.roc_auc_score, "binary", {"max_fpr": 0.4}),
    "roc_auc_ovr_macro": Entry(dm.roc_auc_score, "multiclass", {"multi_class": "ovr"}),
    "roc_auc_ovr_weighted": Entry(dm.roc_auc_score, "multiclass", {"multi_class": "ovr", "average": "weighted"}),
    "roc_auc_ovr_micro": Entry(dm.roc_auc_score, "multiclass", {"multi_class": "ovr", "average": "micro"}),
    "roc_auc_ovo_macro": Entry(dm.roc_auc_score, "multiclass", {"multi_class": "ovo"}, weights=False),
    "roc_auc_ovo_weighted": Entry(
        dm.roc_auc_score, "multiclass", {"multi_class": "ovo", "average": "weighted"}, weights=False
    ),
    "average_precision_binary": Entry(dm.average_precision_score, "binary", {"pos_label": 1}),
    "average_precision_multiclass": Entry(dm.average_precision_score, "multiclass"),
    "roc_curve": Entry(dm.roc_curve, "binary", {"pos_label": 1}),
    "precision_recall_curve": Entry(dm.precision_recall_curve, "binary", {"pos_label": 1}),
    "log_loss_binary": Entry(dm.log_loss, "binary"),
    "log_loss_multiclass": Entry(dm.log_loss, "multiclass"),
    "brier_binary": Entry(dm.brier_score_loss, "binary", {"pos_label": 1}),
    "brier_multiclass": Entry(dm.brier_score_loss, "multiclass"),
    "mean_squared_error": Entry(dm.mean_squared_error, "regression"),
    "root_mean_squared_error": Entry(dm.root_mean_squared_error, "regression"),
    "mean_absolute_error": Entry(dm.mean_absolute_error, "regression"),
    "mean_absolute_percentage_error": Entry(dm.mean_absolute_percentage_error, "regression"),
    "r2_score": Entry(dm.r2_score, "regression"),
    "r2_variance_weighted": Entry(dm.r2_score, "regression", {"multioutput": "variance_weighted"}),
}

NAMES = sorted(REGISTRY)
SEEDS = [0, 1, 2]


def _data(kind: str, seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "labels":
        return rng.integers(0, 3, n), rng.integers(0, 3, n)
    if kind == "binary_labels":
        return rng.integers(0, 2, n), rng.integers(0, 2, n)
    if kind == "binary":
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        return y, np.round(rng.random(n), 1)  # ties
    if kind == "multiclass":
        y = rng.integers(0, 3, n)
        y[:3] = [0, 1, 2]
        p = np.round(rng.random((n, 3)), 1) + 0.05
        return y, p / p.sum(axis=1, keepdims=True)
    return rng.normal(size=(n, 2)), rng.normal(size=(n, 2))


def _call(entry: Entry, y: np.ndarray, second: np.ndarray, **extra: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return entry.fn(y, second, **{**entry.kwargs, **extra})


def _assert_same(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif a is None:
        assert b is None
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_sample_order_invariance(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    perm = np.random.default_rng(seed + 100).permutation(len(y))
    _assert_same(_call(entry, y, second), _call(entry, y[perm], second[perm]))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].weights])
def test_integer_weights_equal_repetition(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    w = np.random.default_rng(seed + 200).integers(1, 4, len(y))
    weighted = _call(entry, y, second, sample_weight=w)
    repeated = _call(entry, np.repeat(y, w, axis=0), np.repeat(second, w, axis=0))
    _assert_same(weighted, repeated)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].kind != "regression"])
def test_string_labels_equal_integer_labels(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    names = np.array(["c_ant", "c_bee", "c_cat"])  # sorts like 0 < 1 < 2
    extra = {"pos_label": names[entry.kwargs["pos_label"]]} if "pos_label" in entry.kwargs else {}
    as_int = _call(entry, y, second)
    y_str = names[y]
    second_str = names[second] if entry.kind in ("labels", "binary_labels") else second
    _assert_same(as_int, _call(entry, y_str, second_str, **extra))
