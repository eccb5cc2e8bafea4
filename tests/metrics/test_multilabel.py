"""Multilabel-indicator targets and scikit-learn's target-type errors (``_multilabel``), against
scikit-learn as the oracle: same values, same warnings, same error messages."""

from __future__ import annotations

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm

RNG = np.random.default_rng(16)
Y_TRUE = RNG.integers(0, 2, (40, 4))
Y_PRED = RNG.integers(0, 2, (40, 4))
Y_SCORE = RNG.random((40, 4))
WEIGHTS = RNG.random(40)
AVERAGES = [None, "micro", "macro", "weighted", "samples"]


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_set_wise_scores_on_indicator_matrices(oracle, name, average, weights):
    oracle(getattr(dm, name), getattr(skm, name), Y_TRUE, Y_PRED, average=average, sample_weight=weights)


@pytest.mark.parametrize("average", AVERAGES)
def test_prfs_with_labels_subset_and_zero_division(oracle, average):
    yp = Y_PRED.copy()
    yp[:5] = 0  # samples with no predicted label: the 'samples' average warns per sample
    oracle(dm.precision_recall_fscore_support, skm.precision_recall_fscore_support, Y_TRUE, yp,
           average=average, labels=[3, 1])


@pytest.mark.parametrize("labels", [[4], [-1]])
def test_labels_outside_the_indicator_columns_raise_scikit_learns_message(labels):
    with pytest.raises(ValueError) as ref:
        skm.f1_score(Y_TRUE, Y_PRED, average="macro", labels=labels)
    with pytest.raises(ValueError, match=f"^{ref.value.args[0]}$".replace("[", r"\[").replace(")", r"\)")):
        dm.f1_score(Y_TRUE, Y_PRED, average="macro", labels=labels)


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("normalize", [True, False])
def test_subset_accuracy(oracle, normalize, weights):
    yp = Y_TRUE.copy()
    yp[::3, 0] ^= 1
    oracle(dm.accuracy_score, skm.accuracy_score, Y_TRUE, yp, normalize=normalize, sample_weight=weights)


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", ["roc_auc_score", "average_precision_score"])
def test_ranking_scores_per_label(oracle, name, average, weights):
    yt = Y_TRUE.copy()
    yt[:, 0] = 1 - np.eye(40, dtype=int)[0]  # at least one positive and one negative per row and column
    yt[0, 0], yt[0, 1] = 0, 1
    oracle(getattr(dm, name), getattr(skm, name), yt, Y_SCORE, average=average, sample_weight=weights)


def _same_error(fn_ours, fn_ref, *args, **kwargs):
    with pytest.raises(Exception) as ref:
        fn_ref(*args, **kwargs)
    with pytest.raises(type(ref.value)) as ours:
        fn_ours(*args, **kwargs)
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        pytest.param(Y_TRUE, Y_PRED, id="multilabel"),
        pytest.param([0, 1, 2], [0.5, 1.0, 2.0], id="multiclass-continuous"),
        pytest.param([0, 1], [[0, 1], [1, 1]], id="binary-multilabel"),
        pytest.param([[0, 2], [1, 1]], [[0, 2], [1, 1]], id="multiclass-multioutput"),
    ],
)
@pytest.mark.parametrize("name", ["confusion_matrix", "matthews_corrcoef", "balanced_accuracy_score"])
def test_unsupported_targets_raise_scikit_learns_message(name, y_true, y_pred):
    _same_error(getattr(dm, name), getattr(skm, name), y_true, y_pred)


@pytest.mark.parametrize("name", ["matthews_corrcoef", "f1_score", "accuracy_score"])
def test_inconsistent_lengths_raise_scikit_learns_message(name):
    _same_error(getattr(dm, name), getattr(skm, name), [0, 1, 1], [0, 1])


def test_samples_average_outside_multilabel_raises_scikit_learns_message():
    _same_error(dm.f1_score, skm.f1_score, [0, 1, 1], [0, 1, 0], average="samples")


def test_binary_average_on_multilabel_raises_scikit_learns_message():
    _same_error(dm.f1_score, skm.f1_score, Y_TRUE, Y_PRED)


def test_average_precision_pos_label_on_multilabel():
    _same_error(dm.average_precision_score, skm.average_precision_score, Y_TRUE, Y_SCORE, pos_label=0)


def test_multioutput_target_in_ranking_raises_scikit_learns_message():
    _same_error(dm.roc_auc_score, skm.roc_auc_score, [[0, 2], [1, 1], [2, 0]], np.ones((3, 2)))


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_average_precision_samples_average_on_multiclass(oracle, weights):
    y = RNG.integers(0, 3, 40)
    s = RNG.random((40, 3))
    s /= s.sum(axis=1, keepdims=True)
    oracle(dm.average_precision_score, skm.average_precision_score, y, s, average="samples", sample_weight=weights)


def test_object_and_complex_sample_weights_as_scikit_learn(oracle):
    oracle(dm.accuracy_score, skm.accuracy_score, [0, 1, 1], [0, 1, 0], sample_weight=np.array([1, 2, 3], dtype=object))
    _same_error(dm.accuracy_score, skm.accuracy_score, [0, 1], [0, 1], sample_weight=np.array([1j, 2]))


def test_confusion_matrix_integer_weights_accumulate_in_int64_as_scikit_learn():
    y = [0, 1, 1]
    for w in (np.full(3, 2**63 - 1, dtype=np.int64), np.full(3, 2**32 - 1, dtype=np.uint32)):
        ours, ref = dm.confusion_matrix(y, y, sample_weight=w), skm.confusion_matrix(y, y, sample_weight=w)
        assert ours.dtype == ref.dtype == np.int64
        assert ours.tolist() == ref.tolist()


def test_two_dimensional_sample_weight_message_as_scikit_learn():
    with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
        skm.accuracy_score([0, 1], [0, 1], sample_weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
        dm.accuracy_score([0, 1], [0, 1], sample_weight=np.ones((2, 2)))
