"""The regression and multiclass parts of ``make demo``'s details: checked against scikit-learn / numpy."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_examples.demo_models import MODELS, per_class, residual_views, split_matrices
from driftline_examples.scenarios import base
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def test_the_demo_models_are_a_regression_and_a_multiclass_scenario() -> None:
    kinds = {base.get(name).problem_type for name in MODELS}
    assert kinds == {"regression", "multiclass"}


def test_per_class_metrics_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 500)
    p = np.where(rng.random(500) < 0.6, y, rng.integers(0, 4, 500))
    p[p == 3] = 2  # class 3 is never predicted: its precision is undefined
    got = per_class(["a", "b", "c", "d"], confusion_matrix(y, p, labels=[0, 1, 2, 3]).tolist())
    precision, recall, f1, support = precision_recall_fscore_support(y, p, labels=[0, 1, 2, 3], zero_division=0)
    for k, label in enumerate("abc"):
        assert got[label]["precision"] == pytest.approx(precision[k])
        assert got[label]["recall"] == pytest.approx(recall[k])
        assert got[label]["f1"] == pytest.approx(f1[k])
        assert got[label]["support"] == support[k]
    assert got["d"]["precision"] is None
    assert got["d"]["recall"] == 0.0


def test_residual_histogram_and_binned_predicted_vs_actual() -> None:
    rng = np.random.default_rng(5)
    y_pred = rng.normal(10, 3, 10_000)
    y_true = y_pred + rng.normal(0.5, 1.0, 10_000)
    hist, pva = residual_views(y_true, y_pred)
    counts, edges = np.histogram(y_true - y_pred, bins=len(hist["counts"]))
    assert hist["counts"] == counts.tolist()
    assert hist["edges"] == pytest.approx(edges.tolist(), abs=1e-6)
    assert hist["mean"] == pytest.approx(np.mean(y_true - y_pred))
    assert sum(pva["count"]) == 10_000
    assert len(pva["predicted"]) == 20
    assert pva["predicted"] == sorted(pva["predicted"])  # bins follow the prediction
    assert np.allclose(np.asarray(pva["actual"]) - np.asarray(pva["predicted"]), 0.5, atol=0.2)


def test_split_matrices_keeps_binary_ones_where_the_report_draws_them() -> None:
    details = {"labels": ["x", "y", "z"], "confusion_matrices": {
        "binary": [[5, 1], [2, 7]], "multi": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}
    split_matrices(details)
    assert details["confusion_matrices"] == {"binary": [[5, 1], [2, 7]]}
    assert details["class_confusion_matrices"] == {"multi": {"labels": ["x", "y", "z"],
                                                             "matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}
