"""Mergeable partial states: any split, any merge order, JSON round-trips == one pass.

Oracles: scikit-learn and SciPy on the concatenated data (test-only dependencies).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.spatial.distance as ssd
import scipy.special
import scipy.stats
import sklearn.metrics as skm
from driftline_metrics.exceptions import UndefinedMetricWarning
from driftline_metrics.partial import (
    BinaryScoreState,
    CategoricalCountState,
    ConfusionMatrixState,
    HistogramState,
    RegressionState,
    merge_states,
    state_from_dict,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers


def roundtrip(state):
    """Through strict JSON text and back, dispatching on kind."""
    text = json.dumps(state.to_dict(), allow_nan=False)
    back = state_from_dict(json.loads(text))
    assert type(back) is type(state)
    assert back.to_dict() == state.to_dict()
    return back


def split_points(data, n: int) -> list[int]:
    k = data.draw(st.integers(1, 6), label="chunks")
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=k - 1, max_size=k - 1), label="cuts"))
    return [0, *cuts, n]


def chunked(data, n: int, make, feed) -> object:
    """Build one state per chunk, then merge them pairwise in a random order with round-trips."""
    bounds = split_points(data, n)
    states = []
    for lo, hi in itertools.pairwise(bounds):
        s = make()
        feed(s, slice(lo, hi))
        states.append(roundtrip(s))
    while len(states) > 1:
        i = data.draw(st.integers(0, len(states) - 1), label="left")
        a = states.pop(i)
        j = data.draw(st.integers(0, len(states) - 1), label="right")
        b = states.pop(j)
        before_a, before_b = a.to_dict(), b.to_dict()
        merged = a.merge(b)
        assert a.to_dict() == before_a, "merge mutated its left operand"
        assert b.to_dict() == before_b, "merge mutated its right operand"
        states.append(roundtrip(merged))
    return states[0]


def weights(rng: np.random.Generator, mode: str, n: int) -> np.ndarray | None:
    if mode == "none":
        return None
    if mode == "int":
        return rng.integers(0, 4, size=n).astype(float)
    return rng.uniform(0.0, 3.0, size=n)


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def assert_results_close(merged: dict, oneshot: dict, rel: float = 1e-12) -> None:
    assert merged.keys() == oneshot.keys()
    for key, value in oneshot.items():
        if isinstance(value, float):
            assert close(merged[key], value, rel), (key, merged[key], value)
        elif isinstance(value, list) and np.asarray(value).dtype.kind == "f":
            np.testing.assert_allclose(merged[key], value, rtol=rel, atol=1e-12, err_msg=key)
        else:
            assert merged[key] == value, key


# --------------------------------------------------------------------------- confusion matrix

LABEL_SETS = [[0, 1], [0, 1, 2], ["ant", "bee", "cat", "dog"], [2, 7, 5]]


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300),
       labels=st.sampled_from(LABEL_SETS), wmode=st.sampled_from(["none", "int", "float"]))
def test_confusion_state_any_split_equals_one_pass_and_sklearn(data, seed, n, labels, wmode):
    rng = np.random.default_rng(seed)
    lab = np.array(labels)
    # sometimes leave a class out entirely so that zero-division paths run
    used = lab[: data.draw(st.integers(1, len(lab)), label="used")]
    y_true = rng.choice(used, size=n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.choice(lab, size=n))
    w = weights(rng, wmode, n)

    def feed(s, sl):
        s.update(y_true[sl], y_pred[sl], sample_weight=None if w is None else w[sl])

    merged = chunked(data, n, lambda: ConfusionMatrixState(labels=labels), feed)
    oneshot = ConfusionMatrixState(labels=labels)
    feed(oneshot, slice(0, n))
    if wmode == "float":
        np.testing.assert_allclose(merged.matrix, oneshot.matrix, rtol=1e-12)
    else:
        assert merged.to_dict() == oneshot.to_dict()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = merged.result(zero_division=0.0)
        assert_results_close(res, oneshot.result(zero_division=0.0))
        if oneshot.matrix.sum() == 0:
            return
        cm = skm.confusion_matrix(y_true, y_pred, labels=lab, sample_weight=w)
        np.testing.assert_allclose(res["confusion_matrix"], cm, rtol=1e-12)
        assert close(res["accuracy"], skm.accuracy_score(y_true, y_pred, sample_weight=w))
        assert close(res["balanced_accuracy"], skm.balanced_accuracy_score(y_true, y_pred, sample_weight=w))
        assert close(res["matthews_corrcoef"], skm.matthews_corrcoef(y_true, y_pred, sample_weight=w), 1e-9)
        p, r, f, s = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=lab, average=None, sample_weight=w, zero_division=0.0)
        np.testing.assert_allclose(res["precision"], p, rtol=1e-12)
        np.testing.assert_allclose(res["recall"], r, rtol=1e-12)
        np.testing.assert_allclose(res["f1"], f, rtol=1e-12)
        np.testing.assert_allclose(res["support"], s, rtol=1e-12)
        for avg in ("macro", "weighted", "micro"):
            p, r, f, _ = skm.precision_recall_fscore_support(
                y_true, y_pred, labels=lab, average=avg, sample_weight=w, zero_division=0.0)
            assert close(res[f"precision_{avg}"], p), avg
            assert close(res[f"recall_{avg}"], r), avg
            assert close(res[f"f1_{avg}"], f), avg


@pytest.mark.parametrize("zero_division", [1.0, np.nan])
def test_confusion_zero_division_values_match_sklearn(zero_division):
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 0, 0]  # class 2 never occurs, class 1 never predicted
    res = ConfusionMatrixState(labels=[0, 1, 2]).update(y_true, y_pred).result(zero_division=zero_division)
    for avg in (None, "macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=[0, 1, 2], average=avg, zero_division=zero_division)
        suffix = "" if avg is None else f"_{avg}"
        np.testing.assert_allclose(res[f"precision{suffix}"], p, equal_nan=True)
        np.testing.assert_allclose(res[f"recall{suffix}"], r, equal_nan=True)
        np.testing.assert_allclose(res[f"f1{suffix}"], f, equal_nan=True)


def test_confusion_warns_like_sklearn_when_undefined():
    y_true, y_pred = [0, 0, 1], [0, 2, 0]
    state = ConfusionMatrixState(labels=[0, 1, 2]).update(y_true, y_pred)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        res = state.result()
    messages = [str(w.message) for w in ours if issubclass(w.category, UndefinedMetricWarning)]
    assert any(m.startswith("Precision is ill-defined") for m in messages)
    assert any(m.startswith("Recall is ill-defined") for m in messages)
    assert "y_pred contains classes not in y_true" in messages
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        assert res["balanced_accuracy"] == skm.balanced_accuracy_score(y_true, y_pred)
        assert res["precision_macro"] == skm.precision_score(y_true, y_pred, labels=[0, 1, 2], average="macro")
    assert theirs, "the reference warns too"
    with pytest.warns(UndefinedMetricWarning, match="No samples"):
        empty = ConfusionMatrixState(labels=[0, 1]).result()
    assert np.isnan(empty["accuracy"])
    assert np.isnan(empty["f1_macro"])


def test_confusion_rejects_bad_input_and_incompatible_merges():
    state = ConfusionMatrixState(labels=[0, 1])
    with pytest.raises(ValueError, match="not in labels"):
        state.update([0, 3], [0, 1])
    with pytest.raises(ValueError, match="different lengths"):
        state.update([0, 1], [0])
    with pytest.raises(ValueError, match="non-negative"):
        state.update([0, 1], [0, 1], sample_weight=[1, -1])
    with pytest.raises(ValueError, match="unique"):
        ConfusionMatrixState(labels=[0, 0])
    assert state.matrix.sum() == 0, "a rejected chunk must not be half-counted"
    with pytest.raises(ValueError, match="different labels"):
        state.merge(ConfusionMatrixState(labels=[1, 0]))
    with pytest.raises(ValueError, match="different labels"):
        state.merge(ConfusionMatrixState(labels=["0", "1"]))
    with pytest.raises(ValueError, match="Cannot merge ConfusionMatrixState with RegressionState"):
        state.merge(RegressionState())


def test_string_and_integer_labels_agree():
    rng = np.random.default_rng(3)
    y_t, y_p = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    names = np.array(["a", "b", "c"])
    a = ConfusionMatrixState(labels=[0, 1, 2]).update(y_t, y_p).result()
    b = ConfusionMatrixState(labels=["a", "b", "c"]).update(names[y_t], names[y_p]).result()
    a.pop("labels"), b.pop("labels")
    assert a == b


# --------------------------------------------------------------------------- regression


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300),
       scale=st.sampled_from([1e-3, 1.0, 1e4]), offset=st.sampled_from([0.0, 1.0, 1e5]),
       wmode=st.sampled_from(["none", "int", "float"]))
def test_regression_state_any_split_equals_one_pass_and_sklearn(data, seed, n, scale, offset, wmode):
    rng = np.random.default_rng(seed)
    y_true = offset + scale * rng.standard_normal(n)
    y_true[rng.random(n) < 0.05] = 0.0  # exact zeros exercise MAPE's epsilon
    y_pred = y_true + scale * rng.normal(0.0, 0.5, n)
    w = weights(rng, wmode, n)
    if w is not None:
        w[:2] = 1.0  # positive total weight and spread

    def feed(s, sl):
        s.update(y_true[sl], y_pred[sl], sample_weight=None if w is None else w[sl])

    merged = chunked(data, n, RegressionState, feed)
    oneshot = RegressionState()
    feed(oneshot, slice(0, n))
    assert merged.n == oneshot.n == n
    res = merged.result()
    assert_results_close(res, oneshot.result(), rel=1e-11)
    assert close(res["mse"], skm.mean_squared_error(y_true, y_pred, sample_weight=w), 1e-12)
    assert close(res["rmse"], skm.root_mean_squared_error(y_true, y_pred, sample_weight=w), 1e-12)
    assert close(res["mae"], skm.mean_absolute_error(y_true, y_pred, sample_weight=w), 1e-12)
    assert close(res["mape"], skm.mean_absolute_percentage_error(y_true, y_pred, sample_weight=w), 1e-11)
    # R2's denominator is a variance; its relative error grows with (offset / scale)^2
    assert close(res["r2"], skm.r2_score(y_true, y_pred, sample_weight=w), 1e-9, 1e-9)


def test_regression_r2_edge_cases_follow_sklearn():
    const = RegressionState().update([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
    assert const.result()["r2"] == skm.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    off = RegressionState().update([2.0, 2.0], [2.0, 3.0]).merge(RegressionState().update([2.0], [2.0]))
    assert off.result()["r2"] == skm.r2_score([2.0, 2.0, 2.0], [2.0, 3.0, 2.0]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(RegressionState().update([1.0], [2.0]).result()["r2"])
    with pytest.warns(UndefinedMetricWarning, match="No samples"):
        assert np.isnan(RegressionState().result()["mse"])
    with pytest.raises(ValueError, match="finite"):
        RegressionState().update([1.0, np.nan], [1.0, 2.0])


def test_regression_merge_is_numerically_careful():
    # a large offset with a small spread: naive Σy² − (Σy)²/n loses every digit here
    rng = np.random.default_rng(0)
    y = 1e9 + rng.standard_normal(10_000)
    yp = y + 0.1 * rng.standard_normal(10_000)
    merged = merge_states(RegressionState().update(y[i:i + 1000], yp[i:i + 1000]) for i in range(0, 10_000, 1000))
    assert close(merged.result()["r2"], skm.r2_score(y, yp), 1e-9)


# --------------------------------------------------------------------------- binary scores


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300),
       resolution=st.sampled_from([1, 3, 16, 100, 1024]), decimals=st.sampled_from([1, 2, 6]),
       wmode=st.sampled_from(["none", "int", "float"]), labels=st.sampled_from([(0, 1), ("no", "yes")]))
def test_binary_state_any_split_within_bound_of_sklearn(data, seed, n, resolution, decimals, wmode, labels):
    rng = np.random.default_rng(seed)
    y01 = rng.integers(0, 2, n)
    y01[:2] = [0, 1]
    y = np.array(labels)[y01]
    score = np.clip(np.round(rng.beta(2, 2, n) * 0.6 + 0.4 * y01 * rng.random(n), decimals), 0.0, 1.0)
    w = weights(rng, wmode, n)
    if w is not None:
        w[:2] = 1.0

    def feed(s, sl):
        s.update(y[sl], score[sl], sample_weight=None if w is None else w[sl])

    def make():
        return BinaryScoreState(resolution=resolution, pos_label=labels[1])

    merged = chunked(data, n, make, feed)
    oneshot = make()
    feed(oneshot, slice(0, n))
    if wmode == "float":
        np.testing.assert_allclose(merged.pos, oneshot.pos, rtol=1e-12)
        np.testing.assert_allclose(merged.neg, oneshot.neg, rtol=1e-12)
    else:
        one = oneshot.to_dict()
        got = merged.to_dict()
        for key in ("sum_brier", "sum_log_loss"):
            assert close(got.pop(key), one.pop(key)), key
        assert got == one
    res = merged.result()
    assert_results_close(res, oneshot.result(), rel=1e-11)

    auc = skm.roc_auc_score(y01, score, sample_weight=w)
    ap = skm.average_precision_score(y01, score, sample_weight=w)
    assert abs(res["roc_auc"] - auc) <= res["roc_auc_error_bound"] + 1e-12
    assert res["roc_auc_error_bound"] == pytest.approx(res["same_bin_pair_fraction"] / 2)
    assert abs(res["average_precision"] - ap) <= res["average_precision_error_bound"] + 1e-12
    assert close(res["brier_score"], skm.brier_score_loss(y01, score, sample_weight=w), 1e-11)
    assert close(res["log_loss"], skm.log_loss(y01, score, sample_weight=w), 1e-11)


def test_binary_histogram_is_exact_when_scores_sit_on_distinct_bins():
    # scores that are bin centres of distinct bins, ties included: the histogram loses nothing
    rng = np.random.default_rng(1)
    R = 64
    score = (rng.integers(0, R, 2000) + 0.5) / R
    y = rng.integers(0, 2, 2000)
    res = BinaryScoreState(resolution=R).update(y, score).result()
    assert res["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-14)
    assert res["average_precision"] == pytest.approx(skm.average_precision_score(y, score), abs=1e-14)


def test_binary_bound_is_small_at_resolution_2_14_on_100k_continuous_scores():
    rng = np.random.default_rng(7)
    n = 100_000
    y = rng.integers(0, 2, n)
    score = 1.0 / (1.0 + np.exp(-(rng.standard_normal(n) + 1.2 * y)))
    state = merge_states(
        BinaryScoreState(resolution=2**14).update(y[i:i + 25_000], score[i:i + 25_000])
        for i in range(0, n, 25_000))
    res = state.result()
    assert res["roc_auc_error_bound"] < 1e-3
    assert res["average_precision_error_bound"] < 1e-2
    assert abs(res["roc_auc"] - skm.roc_auc_score(y, score)) <= res["roc_auc_error_bound"]
    assert abs(res["average_precision"] - skm.average_precision_score(y, score)) <= res[
        "average_precision_error_bound"]
    # sparse JSON: a shard's state stays far below Step Functions' 256 KB
    assert len(json.dumps(BinaryScoreState(resolution=2**14).update(y[:1000], score[:1000]).to_dict())) < 64_000


def test_binary_rejects_bad_scores_and_incompatible_merges():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BinaryScoreState().update([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="finite"):
        BinaryScoreState().update([0, 1], [0.5, np.nan])
    with pytest.raises(ValueError, match="resolution"):
        BinaryScoreState(resolution=0)
    with pytest.raises(ValueError, match="different resolution"):
        BinaryScoreState(resolution=10).merge(BinaryScoreState(resolution=20))
    with pytest.raises(ValueError, match="different pos_label"):
        BinaryScoreState(pos_label=1).merge(BinaryScoreState(pos_label="yes"))
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        res = BinaryScoreState().update([1, 1], [0.2, 0.4]).result()
    assert np.isnan(res["roc_auc"])


# --------------------------------------------------------------------------- drift histograms


def bin_counts_oracle(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    lows = np.concatenate([[-np.inf], edges])
    highs = np.concatenate([edges, [np.inf]])
    v = values[~np.isnan(values)]
    return np.array([np.sum((v >= lo) & (v < hi)) for lo, hi in zip(lows, highs, strict=True)]) + np.concatenate(
        [np.zeros(len(edges), int), [np.sum(v == np.inf)]])


def check_distances(res: dict, ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = 1e-4) -> None:
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        # a distribution with no values: every distance is undefined (NaN, with an UndefinedMetricWarning)
        for key in ("psi", "jensen_shannon", "hellinger"):
            assert np.isnan(res[key]), key
        return
    p, q = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    ps, qs = np.maximum(p, eps), np.maximum(q, eps)
    psi = scipy.special.rel_entr(qs, ps).sum() + scipy.special.rel_entr(ps, qs).sum()
    assert res["psi"] == pytest.approx(psi, rel=1e-9, abs=1e-12)
    assert res["jensen_shannon"] == pytest.approx(ssd.jensenshannon(p, q, base=2), rel=1e-7, abs=1e-7)
    bc = np.sum(np.sqrt(p * q))
    assert res["hellinger"] == pytest.approx(np.sqrt(max(1.0 - bc, 0.0)), rel=1e-7, abs=1e-7)
    assert res["total_variation"] == pytest.approx(ssd.cityblock(p, q) / 2, rel=1e-12, abs=1e-15)
    assert res["linf"] == pytest.approx(ssd.chebyshev(p, q), rel=1e-12, abs=1e-15)
    if "ks_binned" not in res:
        pass
    else:
        ref_idx = np.repeat(np.arange(len(p)), ref_counts.astype(int))
        cur_idx = np.repeat(np.arange(len(q)), cur_counts.astype(int))
        assert res["ks_binned"] == pytest.approx(scipy.stats.ks_2samp(cur_idx, ref_idx).statistic, abs=1e-12)
    keep = (ref_counts + cur_counts) > 0
    table = np.vstack([ref_counts[keep], cur_counts[keep]])
    if keep.sum() >= 2:
        chi = scipy.stats.chi2_contingency(table, correction=False)
        assert res["chi2"] == pytest.approx(chi.statistic, rel=1e-9, abs=1e-9)
        assert res["chi2_dof"] == chi.dof
    else:
        assert res["chi2"] == 0.0
        assert res["chi2_dof"] == 0


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), bins=st.integers(2, 20),
       discrete=st.booleans(), shift=st.floats(-2.0, 2.0))
def test_histogram_state_any_split_equals_one_pass_and_scipy(data, seed, n, bins, discrete, shift):
    rng = np.random.default_rng(seed)
    ref_values = rng.standard_normal(500)
    if discrete:
        ref_values = np.round(ref_values * 2)
    reference = HistogramState.from_reference(ref_values, bins=bins)
    np.testing.assert_array_equal(reference.edges, np.unique(np.quantile(ref_values, np.arange(1, bins) / bins)))
    np.testing.assert_array_equal(reference.counts, bin_counts_oracle(ref_values, reference.edges))

    values = rng.standard_normal(n) + shift
    if discrete:
        values = np.round(values * 2)
    values[rng.random(n) < 0.05] = np.nan
    values[rng.random(n) < 0.01] = np.inf

    merged = chunked(data, n, lambda: HistogramState(edges=reference.edges),
                     lambda s, sl: s.update(values[sl]))
    oneshot = HistogramState(edges=reference.edges).update(values)
    assert merged.to_dict() == oneshot.to_dict()
    res = merged.result()
    expected = bin_counts_oracle(values, reference.edges)
    assert res["counts"] == expected.tolist()
    assert res["n_missing"] == int(np.isnan(values).sum())
    if expected.sum() == 0:
        return
    np.testing.assert_allclose(res["proportions"], expected / expected.sum(), rtol=1e-15)
    cmp = merged.compare(reference)
    check_distances(cmp, reference.counts.astype(float), expected.astype(float))
    assert cmp["missing_fraction_current"] == pytest.approx(np.isnan(values).mean())


def test_histogram_compare_identity_and_open_outer_bins():
    ref = HistogramState.from_reference(np.arange(100.0), bins=5)
    same = ref.compare(ref)
    for key in ("psi", "jensen_shannon", "hellinger", "total_variation", "linf", "ks_binned", "chi2"):
        assert same[key] == pytest.approx(0.0, abs=1e-12), key
    far = HistogramState(edges=ref.edges).update([-1e300, 1e300, -np.inf])
    assert far.result()["counts"] == [2, 0, 0, 0, 1]
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(HistogramState(edges=ref.edges).update([np.nan, None]).compare(ref)["psi"])


def test_histogram_rejects_incompatible_edges_and_bad_dicts():
    a = HistogramState(edges=[0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="different bin edges"):
        a.merge(HistogramState(edges=[0.0, 1.0, 2.5]))
    with pytest.raises(ValueError, match="different bin edges"):
        a.merge(HistogramState(edges=[0.0, 1.0]))
    with pytest.raises(ValueError, match="different bin edges"):
        a.compare(HistogramState(edges=[0.0, 1.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        HistogramState(edges=[0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="bins"):
        HistogramState.from_reference([1.0, 2.0], bins=1)
    d = a.to_dict()
    with pytest.raises(ValueError, match="version"):
        HistogramState.from_dict({**d, "version": 99})
    with pytest.raises(ValueError, match="kind"):
        HistogramState.from_dict({**d, "kind": "driftline.partial.regression"})
    with pytest.raises(ValueError, match="counts"):
        HistogramState.from_dict({**d, "counts": [1, 2]})
    with pytest.raises(ValueError, match="Unknown partial state kind"):
        state_from_dict({"kind": "nope", "version": 1})


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300),
       kind=st.sampled_from(["str", "int", "object"]))
def test_categorical_state_any_split_equals_one_pass_and_scipy(data, seed, n, kind):
    rng = np.random.default_rng(seed)
    cats = np.array(["red", "green", "blue", "cyan"])
    ref_raw = rng.choice(4, size=300, p=[0.4, 0.3, 0.2, 0.1])
    cur_raw = rng.choice(4, size=n, p=[0.1, 0.3, 0.3, 0.3])

    def encode(raw):
        if kind == "str":
            return cats[raw]
        if kind == "int":
            return raw
        out = np.array(cats[raw], dtype=object)
        out[rng.random(len(raw)) < 0.1] = None
        return out

    ref_values, cur_values = encode(ref_raw), encode(cur_raw)
    reference = CategoricalCountState().update(ref_values)
    merged = chunked(data, n, CategoricalCountState, lambda s, sl: s.update(cur_values[sl]))
    oneshot = CategoricalCountState().update(cur_values)
    assert merged.to_dict() == oneshot.to_dict()
    expected = Counter(v for v in cur_values.tolist() if v is not None)
    assert merged.result()["counts"] == dict(expected)
    assert merged.result()["n_missing"] == sum(v is None for v in cur_values.tolist())
    keys = sorted(set(expected) | set(reference.counts), key=str)
    cmp = merged.compare(reference)
    check_distances(cmp, np.array([reference.counts[k] for k in keys], float),
                    np.array([expected[k] for k in keys], float))


def test_categorical_missing_and_mixed_types():
    s = CategoricalCountState().update(np.array([1.0, np.nan, 2.0, 1.0]))
    assert s.result()["counts"] == {1.0: 2, 2.0: 1}
    assert s.result()["n_missing"] == 1
    mixed = CategoricalCountState().update(np.array(["a", 1, None, "a"], dtype=object))
    assert roundtrip(mixed).to_dict()["counts"] == [[1, 1], ["a", 2]]


# --------------------------------------------------------------------------- the layer stays light


def test_partial_imports_numpy_only():
    code = ("import sys, driftline_metrics.partial; "
            "bad = [m for m in ('scipy', 'sklearn', 'pandas', 'boto3', 'aws_lambda_powertools') if m in sys.modules]; "
            "print(','.join(bad))")
    import driftline_metrics
    root = str(next(iter(driftline_metrics.__path__)).rsplit("/", 1)[0])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": root})
    assert out.stdout.strip() == ""
