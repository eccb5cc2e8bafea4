"""ROC / precision-recall metrics against scikit-learn on random scores with ties and weights."""

from __future__ import annotations

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

SCORE_POOLS = {
    "ties": [0.0, 0.1, 0.1, 0.5, 0.9, 1.0],
    "signed": [-3.0, -1.5, -0.0, 0.0, 0.25, 2.0, 7.5],
    "nonpositive": [-2.0, -1.0, -0.5, -0.0, 0.0],
}


@st.composite
def binary_scores(draw, max_n: int = 30, weights: bool = True):
    kind = draw(st.sampled_from(["int01", "intpm", "str", "bool"]))
    universe = {"int01": [0, 1], "intpm": [-1, 1], "str": ["neg", "pos"], "bool": [False, True]}[kind]
    n = draw(st.integers(1, max_n))
    y = np.array(draw(st.lists(st.sampled_from(universe), min_size=n, max_size=n)))
    pool = draw(st.sampled_from([*SCORE_POOLS, "continuous"]))
    if pool == "continuous":
        s = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n))
    else:
        s = draw(st.lists(st.sampled_from(SCORE_POOLS[pool]), min_size=n, max_size=n))
    s = np.array(s, dtype=draw(st.sampled_from([np.float64, np.float32])))
    sw = None
    if weights:
        sw = draw(
            st.one_of(
                st.none(),
                st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array),
                st.lists(st.floats(0.1, 4.0), min_size=n, max_size=n).map(np.array),
            )
        )
    return universe, y, s, sw


@given(problem=binary_scores(), max_fpr=st.sampled_from([None, 1.0, 0.3, 0.75]))
def test_roc_auc_binary(oracle, problem, max_fpr):
    _, y, s, sw = problem
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s, sample_weight=sw, max_fpr=max_fpr)


@given(problem=binary_scores(max_n=200, weights=False))
def test_roc_auc_fast_path_larger(oracle, problem):
    _, y, s, _ = problem
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s)


@given(problem=binary_scores(), data=st.data())
def test_roc_curve(oracle, problem, data):
    universe, y, s, sw = problem
    pos_label = data.draw(st.sampled_from([None, *universe]))
    drop = data.draw(st.booleans())
    oracle(dm.roc_curve, skm.roc_curve, y, s, pos_label=pos_label, sample_weight=sw, drop_intermediate=drop)


@given(problem=binary_scores(), data=st.data())
def test_precision_recall_curve(oracle, problem, data):
    universe, y, s, sw = problem
    pos_label = data.draw(st.sampled_from([None, *universe]))
    drop = data.draw(st.booleans())
    oracle(
        dm.precision_recall_curve, skm.precision_recall_curve, y, s, pos_label=pos_label, sample_weight=sw,
        drop_intermediate=drop,
    )


@given(problem=binary_scores(), data=st.data())
def test_average_precision_binary(oracle, problem, data):
    universe, y, s, sw = problem
    pos_label = data.draw(st.sampled_from([1, *universe]))
    oracle(dm.average_precision_score, skm.average_precision_score, y, s, pos_label=pos_label, sample_weight=sw)


@st.composite
def multiclass_scores(draw):
    k = draw(st.integers(3, 4))
    universe = draw(st.sampled_from([[0, 1, 2, 3], ["a", "b", "c", "d"], [-1, 2, 5, 9]]))[:k]
    n = draw(st.integers(2, 30))
    y = np.array(draw(st.lists(st.sampled_from(universe), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.0]), min_size=n * k, max_size=n * k)))
    raw = raw.reshape(n, k)
    raw[raw.sum(axis=1) == 0, 0] = 1.0
    sw = draw(st.one_of(st.none(), st.lists(st.integers(1, 3), min_size=n, max_size=n).map(np.array)))
    return universe, y, raw / raw.sum(axis=1, keepdims=True), sw


@given(problem=multiclass_scores(), data=st.data())
def test_roc_auc_multiclass(oracle, problem, data):
    universe, y, S, sw = problem
    multi_class = data.draw(st.sampled_from(["ovr", "ovo", "raise"]))
    average = data.draw(st.sampled_from(["macro", "weighted", "micro", None]))
    labels = data.draw(st.sampled_from([None, universe]))
    if multi_class == "ovo" and data.draw(st.booleans()):
        sw = None
    oracle(
        dm.roc_auc_score, skm.roc_auc_score, y, S, multi_class=multi_class, average=average, labels=labels,
        sample_weight=sw,
    )


@given(problem=multiclass_scores(), average=st.sampled_from(["macro", "weighted", "micro", None]))
def test_average_precision_multiclass(oracle, problem, average):
    _, y, S, sw = problem
    oracle(dm.average_precision_score, skm.average_precision_score, y, S, average=average, sample_weight=sw)


@pytest.mark.parametrize(
    ("y", "s", "kwargs"),
    [
        pytest.param([0, 1, 1], [0.1, 0.2], {}, id="length"),
        pytest.param([0, 1], [0.1, np.nan], {}, id="nan-score"),
        pytest.param([0, 1], [0.1, np.inf], {}, id="inf-score"),
        pytest.param([0, 1], [0.1, 0.2], {"max_fpr": 0.0}, id="max-fpr-0"),
        pytest.param([0, 1], [0.1, 0.2], {"max_fpr": 1.5}, id="max-fpr-big"),
        pytest.param([0, 1, 2], [0.1, 0.2, 0.3], {}, id="multiclass-1d"),
        pytest.param([0, 1, 2], [[0.2, 0.3, 0.5]] * 3, {}, id="multiclass-raise"),
        pytest.param([0, 1, 2], [[0.2, 0.3, 0.6]] * 3, {"multi_class": "ovr"}, id="not-probabilities"),
        pytest.param([0, 1], [[0.2, 0.8], [0.5, 0.5]], {}, id="binary-2d"),
        pytest.param([0.5, 1.0], [0.1, 0.2], {}, id="continuous-y"),
    ],
)
def test_roc_auc_invalid(oracle, y, s, kwargs):
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s, **kwargs)


@pytest.mark.parametrize(
    "y", [pytest.param(["a", "b"], id="strings-without-pos-label"), pytest.param([0, 2], id="0-2")]
)
def test_curve_pos_label_required(oracle, y):
    oracle(dm.roc_curve, skm.roc_curve, y, [0.1, 0.2])
    oracle(dm.precision_recall_curve, skm.precision_recall_curve, y, [0.1, 0.2])


def test_single_class_auc_is_nan_with_warning():
    with pytest.warns(dm.UndefinedMetricWarning):
        assert np.isnan(dm.roc_auc_score([1, 1, 1], [0.1, 0.5, 0.3]))


def test_fast_auc_large_random_matches_reference():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 20_000)
    s = np.round(rng.normal(size=20_000), 2)  # many ties, both signs
    np.testing.assert_allclose(dm.roc_auc_score(y, s), skm.roc_auc_score(y, s), rtol=1e-12)
    np.testing.assert_allclose(
        dm.average_precision_score(y, s), skm.average_precision_score(y, s), rtol=1e-12
    )


@pytest.mark.parametrize("n", [32_767, 32_768, 32_769, 100_003])
@pytest.mark.parametrize("kind", ["ties", "continuous", "mixed_sign", "float32"])
def test_binary_fast_path_across_chunk_boundaries(n: int, kind: str) -> None:
    """The unweighted binary path scans its sorted keys in chunks of 32,768: ties and positives that straddle
    a chunk boundary must count exactly as scikit-learn counts them."""
    rng = np.random.default_rng(n)
    y = rng.integers(0, 2, n)
    if kind == "ties":
        s = rng.integers(0, 50, n) / 50.0
    elif kind == "continuous":
        s = rng.random(n)
    elif kind == "mixed_sign":
        s = rng.normal(size=n).round(2)
    else:
        s = rng.random(n).astype(np.float32)
    assert dm.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12, abs=1e-12)
    assert dm.average_precision_score(y, s) == pytest.approx(
        skm.average_precision_score(y, s), rel=1e-12, abs=1e-12
    )


def test_one_vs_one_refuses_weights_before_checking_their_length():
    rng = np.random.default_rng(404)
    e = np.exp(rng.random((20, 3)))
    prob = e / e.sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 20)
    msg = "sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' must be None"
    for fn in (dm.roc_auc_score, skm.roc_auc_score):
        with pytest.raises(ValueError, match=msg):
            fn(y, prob, multi_class="ovo", sample_weight=[])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        dm.roc_auc_score(y, prob, multi_class="ovr", sample_weight=[])
