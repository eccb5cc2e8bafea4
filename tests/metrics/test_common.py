"""Registry-driven invariance tests (after scikit-learn's metrics/tests/test_common.py).

ONE table of metrics; every metric must be invariant to sample order, integer sample weights must
equal repeating samples, and string labels must give the same result as the integer labels they
stand for (order-preserving renaming).

The table also holds the drift functions (``driftline_metrics.drift``) and the bias report
(``driftline_metrics.bias.report``). Two-sample statistics take a reference and a current sample
of different sizes, each permuted on its own (``paired=False``); histogram distances take two
count vectors over the same bins, permuted jointly (the bins' order carries no meaning);
``wasserstein_distance``'s integer ``u_weights``/``v_weights`` must equal repeating each sample.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import driftline_metrics as dm
import numpy as np
import pytest
from driftline_metrics import bias, drift


@dataclass(frozen=True)
class Entry:
    fn: Any
    kind: str  # "labels" (y_pred labels), "binary" (scores), "multiclass" (probas), "regression",
    #            "two_sample", "two_sample_weighted" (columns: value, weight), "histogram", "bias"
    kwargs: dict = field(default_factory=dict)
    #: how integer weights are passed: one ``sample_weight`` for paired rows, ``u_weights``/``v_weights``
    #: (one per sample) for two-sample distances, or None when the function takes no weights
    weights: str | None = "sample_weight"
    #: rows of the two arguments belong together (one permutation) or are independent samples
    paired: bool = True


CLASSIFICATION_KINDS = ("labels", "binary_labels", "binary", "multiclass")


def _ks(data1: Any, data2: Any, **kwargs: Any) -> tuple[float, float]:
    res = drift.ks_2samp(data1, data2, **kwargs)
    return res.statistic, res.pvalue


def _wasserstein_weighted(u: np.ndarray, v: np.ndarray) -> float:
    return drift.wasserstein_distance(u[:, 0], v[:, 0], u_weights=u[:, 1], v_weights=v[:, 1])


def _bias_report(y_true: np.ndarray, facet_pred: np.ndarray, **kwargs: Any) -> dict[str, float]:
    return bias.report(y_true, facet_pred[:, 0], y_pred=facet_pred[:, 1], **kwargs)


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
    "roc_auc_ovo_macro": Entry(dm.roc_auc_score, "multiclass", {"multi_class": "ovo"}, weights=None),
    "roc_auc_ovo_weighted": Entry(
        dm.roc_auc_score, "multiclass", {"multi_class": "ovo", "average": "weighted"}, weights=None
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
    # drift: two independent samples (statistic and p-value of the KS test, ties included)
    "ks_2samp": Entry(_ks, "two_sample", weights=None, paired=False),
    "ks_2samp_exact": Entry(_ks, "two_sample", {"method": "exact"}, weights=None, paired=False),
    "ks_2samp_asymp_less": Entry(_ks, "two_sample", {"method": "asymp", "alternative": "less"},
                                 weights=None, paired=False),
    "wasserstein_distance": Entry(drift.wasserstein_distance, "two_sample", weights="u_weights/v_weights",
                                  paired=False),
    "wasserstein_distance_weighted": Entry(_wasserstein_weighted, "two_sample_weighted", weights=None,
                                           paired=False),
    "normalized_wasserstein": Entry(drift.normalized_wasserstein, "two_sample", weights=None, paired=False),
    "psi": Entry(drift.psi, "two_sample", {"bins": 5}, weights=None, paired=False),
    "hellinger_distance_samples": Entry(drift.hellinger_distance_samples, "two_sample", {"bins": 6},
                                        weights=None, paired=False),
    # drift: two count vectors over the same bins
    "jensenshannon": Entry(drift.jensenshannon, "histogram", weights=None),
    "jensenshannon_base2": Entry(drift.jensenshannon, "histogram", {"base": 2.0}, weights=None),
    "hellinger_distance": Entry(drift.hellinger_distance, "histogram", weights=None),
    "total_variation_distance": Entry(drift.total_variation_distance, "histogram", weights=None),
    "psi_from_counts": Entry(drift.psi_from_counts, "histogram", weights=None),
    # bias: labels, facet and predictions of the same rows
    "bias_report": Entry(_bias_report, "bias", {"facet_value": 1}, weights=None),
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
    if kind == "two_sample":  # different sizes, rounded: ties within and across the samples
        return np.round(rng.normal(size=n), 1), np.round(rng.normal(0.3, 1.2, size=n - 13), 1)
    if kind == "two_sample_weighted":
        u = np.column_stack([np.round(rng.normal(size=n), 1), rng.random(n) + 0.1])
        v = np.column_stack([np.round(rng.normal(0.3, 1.2, size=n - 13), 1), rng.random(n - 13) + 0.1])
        return u, v
    if kind == "histogram":  # counts over 8 bins, some empty
        p, q = rng.integers(0, 20, 8), rng.integers(0, 20, 8)
        p[0], q[1], p[2:4] = 0, 0, [5, 7]
        return p, q
    if kind == "bias":  # y_true; columns facet (0..2, facet_value=1) and y_pred
        y = rng.integers(0, 2, n)
        facet_pred = np.column_stack([rng.integers(0, 3, n), rng.integers(0, 2, n)])
        facet_pred[:2, 0] = [0, 1]
        return y, facet_pred
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
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif a is None:
        assert b is None
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_sample_order_invariance(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    rng = np.random.default_rng(seed + 100)
    perm = rng.permutation(len(y))
    perm2 = perm if entry.paired else rng.permutation(len(second))
    assert entry.paired or len(perm2) != len(perm)  # independent samples are tested with different sizes
    _assert_same(_call(entry, y, second), _call(entry, y[perm], second[perm2]))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].weights])
def test_integer_weights_equal_repetition(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    rng = np.random.default_rng(seed + 200)
    if entry.weights == "sample_weight":
        w = rng.integers(1, 4, len(y))
        weighted = _call(entry, y, second, sample_weight=w)
        repeated = _call(entry, np.repeat(y, w, axis=0), np.repeat(second, w, axis=0))
    else:
        assert entry.weights == "u_weights/v_weights"
        wu, wv = rng.integers(1, 4, len(y)), rng.integers(1, 4, len(second))
        weighted = _call(entry, y, second, u_weights=wu, v_weights=wv)
        repeated = _call(entry, np.repeat(y, wu, axis=0), np.repeat(second, wv, axis=0))
    _assert_same(weighted, repeated)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].kind in CLASSIFICATION_KINDS])
def test_string_labels_equal_integer_labels(name, seed):
    entry = REGISTRY[name]
    y, second = _data(entry.kind, seed)
    names = np.array(["c_ant", "c_bee", "c_cat"])  # sorts like 0 < 1 < 2
    extra = {"pos_label": names[entry.kwargs["pos_label"]]} if "pos_label" in entry.kwargs else {}
    as_int = _call(entry, y, second)
    y_str = names[y]
    second_str = names[second] if entry.kind in ("labels", "binary_labels") else second
    _assert_same(as_int, _call(entry, y_str, second_str, **extra))
