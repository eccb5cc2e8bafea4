"""Classification metrics against scikit-learn (the oracle) on random, tied, weighted and edge inputs."""

from __future__ import annotations

import warnings

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

INT_UNIVERSES = ([0, 1, 2, 3], [-1, 1, 5, 9], [1, 2, 3, 4])
STR_UNIVERSE = ["ant", "bird", "cat", "dog"]


@st.composite
def label_problems(draw, max_classes: int = 4, max_n: int = 25):
    """(universe, y_true, y_pred, sample_weight): labels may be missing from y_true or y_pred."""
    kind = draw(st.sampled_from(["int", "str", "bool"]))
    if kind == "bool":
        universe = [False, True]
    else:
        k = draw(st.integers(1, max_classes))
        universe = (draw(st.sampled_from(INT_UNIVERSES)) if kind == "int" else STR_UNIVERSE)[:k]
    n = draw(st.integers(1, max_n))
    labels = st.sampled_from(universe)
    y_true = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    weights = draw(
        st.one_of(
            st.none(),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.floats(0.1, 5.0), min_size=n, max_size=n),
        )
    )
    return universe, y_true, y_pred, None if weights is None else np.array(weights)


def _labels_option(draw, universe):
    extra = "zzz" if isinstance(universe[0], str) else 99
    if isinstance(universe[0], bool | np.bool_):
        extra = None
    options = [None, list(universe), list(reversed(universe)), list(universe)[:1]]
    if extra is not None:
        options.append([*universe, extra])
    return draw(st.sampled_from(options))


@given(problem=label_problems(), data=st.data())
def test_confusion_matrix(oracle, problem, data):
    universe, y_true, y_pred, sw = problem
    labels = _labels_option(data.draw, universe)
    normalize = data.draw(st.sampled_from([None, "true", "pred", "all"]))
    cm = oracle(
        dm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, labels=labels, sample_weight=sw,
        normalize=normalize,
    )
    if cm is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = skm.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=sw, normalize=normalize)
        assert cm.dtype.kind == ref.dtype.kind


@given(problem=label_problems(), normalize=st.booleans())
def test_accuracy_score(oracle, problem, normalize):
    _, y_true, y_pred, sw = problem
    oracle(dm.accuracy_score, skm.accuracy_score, y_true, y_pred, normalize=normalize, sample_weight=sw)


@given(problem=label_problems(), adjusted=st.booleans())
def test_balanced_accuracy_score(oracle, problem, adjusted):
    _, y_true, y_pred, sw = problem
    oracle(
        dm.balanced_accuracy_score, skm.balanced_accuracy_score, y_true, y_pred, sample_weight=sw,
        adjusted=adjusted,
    )


@given(problem=label_problems())
def test_matthews_corrcoef(oracle, problem):
    _, y_true, y_pred, sw = problem
    oracle(dm.matthews_corrcoef, skm.matthews_corrcoef, y_true, y_pred, sample_weight=sw)


ZERO_DIVISION = ["warn", 0, 1, 0.0, 1.0, np.nan]


@given(problem=label_problems(), data=st.data())
def test_precision_recall_fscore_support(oracle, problem, data):
    universe, y_true, y_pred, sw = problem
    average = data.draw(st.sampled_from([None, "micro", "macro", "weighted", "binary"]))
    labels = _labels_option(data.draw, universe)
    pos_label = data.draw(st.sampled_from([1, *universe]))
    zero_division = data.draw(st.sampled_from(ZERO_DIVISION))
    beta = data.draw(st.sampled_from([1.0, 0.5, 2.0, 0.0, np.inf]))
    oracle(
        dm.precision_recall_fscore_support, skm.precision_recall_fscore_support, y_true, y_pred,
        beta=beta, labels=labels, pos_label=pos_label, average=average, sample_weight=sw,
        zero_division=zero_division,
    )


@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
@given(problem=label_problems(max_classes=3), data=st.data())
def test_precision_recall_f1(oracle, name, problem, data):
    universe, y_true, y_pred, sw = problem
    average = data.draw(st.sampled_from([None, "micro", "macro", "weighted", "binary"]))
    pos_label = data.draw(st.sampled_from([1, *universe]))
    zero_division = data.draw(st.sampled_from(ZERO_DIVISION))
    oracle(
        getattr(dm, name), getattr(skm, name), y_true, y_pred, average=average, pos_label=pos_label,
        sample_weight=sw, zero_division=zero_division, labels=_labels_option(data.draw, universe),
    )


@given(problem=label_problems(max_classes=3), beta=st.sampled_from([0.0, 0.5, 1.0, 3.0]))
def test_fbeta_score_macro(oracle, problem, beta):
    _, y_true, y_pred, sw = problem
    oracle(dm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=beta, average="macro", sample_weight=sw)


def test_prf_zero_division_warning_text_and_value():
    with pytest.warns(dm.UndefinedMetricWarning, match="Precision is ill-defined"):
        assert dm.precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    assert np.isnan(dm.precision_score([0, 1, 1], [0, 0, 0], zero_division=np.nan))
    assert dm.recall_score([0, 0], [0, 1], zero_division=1) == 1.0


# --------------------------------------------------------------------------- probabilistic losses


@st.composite
def proba_problems(draw, max_classes: int = 4):
    kind = draw(st.sampled_from(["int", "str"]))
    k = draw(st.integers(2, max_classes))
    universe = (draw(st.sampled_from(INT_UNIVERSES)) if kind == "int" else STR_UNIVERSE)[:k]
    n = draw(st.integers(1, 20))
    y_true = np.array(draw(st.lists(st.sampled_from(universe), min_size=n, max_size=n)))
    raw = np.array(
        draw(st.lists(st.sampled_from([0.0, 1e-17, 0.1, 0.25, 0.5, 0.7, 1.0, 3.0]), min_size=n * k, max_size=n * k))
    ).reshape(n, k)
    raw[raw.sum(axis=1) == 0, 0] = 1.0
    proba = raw / raw.sum(axis=1, keepdims=True)
    sw = draw(st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array)))
    return universe, y_true, proba, sw


@given(problem=proba_problems(), data=st.data())
def test_log_loss(oracle, problem, data):
    universe, y_true, proba, sw = problem
    normalize = data.draw(st.booleans())
    labels = data.draw(st.sampled_from([None, universe]))
    if proba.shape[1] == 2 and data.draw(st.booleans()):
        proba = proba[:, 1]  # 1-D positive-class probabilities
    oracle(dm.log_loss, skm.log_loss, y_true, proba, normalize=normalize, sample_weight=sw, labels=labels)


@given(
    y=st.lists(st.integers(0, 1), min_size=1, max_size=30).map(np.array),
    data=st.data(),
)
def test_log_loss_binary_fast_path_and_clipping(oracle, y, data):
    p = np.array(data.draw(st.lists(st.sampled_from([0.0, 1e-20, 0.3, 0.5, 1.0 - 1e-17, 1.0]), min_size=len(y),
                                    max_size=len(y))))
    oracle(dm.log_loss, skm.log_loss, y, p)
    oracle(dm.log_loss, skm.log_loss, y, p.astype(np.float32))


@pytest.mark.parametrize("n", [15, 16, 17, 100_003])
def test_log_loss_and_brier_long_inputs_with_extremes(oracle, n):
    """The unweighted binary log loss takes one logarithm per 16 probabilities (any remainder on its
    own); probabilities at 0 and 1 are clipped first, so no group product underflows."""
    rng = np.random.default_rng(n)
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    p[rng.random(n) < 0.2] = 0.0
    p[rng.random(n) < 0.2] = 1.0
    p[: min(n, 16)] = np.where(y[: min(n, 16)] == 1, 0.0, 1.0)  # a whole group at the clip floor
    oracle(dm.log_loss, skm.log_loss, y, p)
    oracle(dm.log_loss, skm.log_loss, y, p, normalize=False)
    oracle(dm.brier_score_loss, skm.brier_score_loss, y, p)
    oracle(dm.brier_score_loss, skm.brier_score_loss, y, p, sample_weight=rng.random(n))


@given(problem=proba_problems(max_classes=2), data=st.data())
def test_brier_score_loss_binary(oracle, problem, data):
    universe, y_true, proba, sw = problem
    pos_label = data.draw(st.sampled_from([None, *universe]))
    scale = data.draw(st.sampled_from(["auto", True, False]))
    oracle(
        dm.brier_score_loss, skm.brier_score_loss, y_true, proba[:, 1], sample_weight=sw, pos_label=pos_label,
        scale_by_half=scale,
    )


@given(problem=proba_problems(), data=st.data())
def test_brier_score_loss_multiclass(oracle, problem, data):
    universe, y_true, proba, sw = problem
    labels = data.draw(st.sampled_from([None, universe]))
    oracle(dm.brier_score_loss, skm.brier_score_loss, y_true, proba, sample_weight=sw, labels=labels)


# --------------------------------------------------------------------------- validation errors

BAD_PAIRS = [
    pytest.param([0, 1, 1], [0, 1], id="length-mismatch"),
    pytest.param([0.5, 1.0], [0, 1], id="continuous"),
    pytest.param(["a", "b"], [0, 1], id="string-vs-number"),
    pytest.param([], [], id="empty"),
    pytest.param([0.0, np.nan], [0, 1], id="nan-label"),
]


@pytest.mark.parametrize(("y_true", "y_pred"), BAD_PAIRS)
@pytest.mark.parametrize(
    "name", ["accuracy_score", "confusion_matrix", "f1_score", "matthews_corrcoef", "balanced_accuracy_score"]
)
def test_invalid_label_inputs_raise_like_reference(oracle, name, y_true, y_pred):
    oracle(getattr(dm, name), getattr(skm, name), y_true, y_pred)


@pytest.mark.parametrize(
    ("y_true", "proba"),
    [
        pytest.param([0, 1], [0.2, 1.2], id="above-one"),
        pytest.param([0, 1], [-0.1, 0.5], id="below-zero"),
        pytest.param([0, 1], [np.nan, 0.5], id="nan"),
        pytest.param([0, 0], [0.2, 0.5], id="single-class"),
        pytest.param([0, 1, 2], [0.2, 0.5, 0.1], id="three-classes-1d"),
        pytest.param([0, 1], [0.2, 0.5, 0.3], id="length"),
    ],
)
def test_log_loss_invalid(oracle, y_true, proba):
    oracle(dm.log_loss, skm.log_loss, y_true, proba)


# multilabel-indicator targets: tests/metrics/test_multilabel.py


def test_sample_weight_validation():
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[2, 2, 1\]"):  # as scikit-learn
        dm.accuracy_score([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(ValueError, match="sample_weight"):
        dm.accuracy_score([0, 1], [0, 1], sample_weight=[1.0, np.nan])
    with pytest.raises(ValueError, match="average"):
        dm.f1_score([0, 1], [0, 1], average="bogus")
    with pytest.raises(ValueError, match="zero_division"):
        dm.f1_score([0, 1], [0, 1], zero_division=2)
