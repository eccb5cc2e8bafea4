"""The memo of the last ranked binary input (``_rank_memo``): ROC AUC, average precision and the two
curves share one sort of an equal input, and nothing else -- a mutated array, other labels, other
weights, another pos_label, NaN -- is ever answered from it. scikit-learn is the oracle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm
from driftline_metrics import _rank_fast, _rank_memo
from numpy.testing import assert_allclose

N = _rank_memo.MIN_ROWS + 1001


@pytest.fixture(autouse=True)
def _fresh_memo():
    previous = _rank_memo.set_enabled(True)
    _rank_memo.clear()
    yield
    _rank_memo.set_enabled(previous)
    _rank_memo.clear()


def _data(kind: str, n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    z = rng.standard_normal(n) + 1.2 * y
    if kind == "distinct":  # sorted label keys
        return y, 1.0 / (1.0 + np.exp(-z))
    if kind == "clipped":  # ties at 0 and 1
        return y, np.clip(0.25 + 0.3 * z, 0.0, 1.0)
    if kind == "levels":  # counted per value
        return y, np.round(1.0 / (1.0 + np.exp(-z)) * 20) / 20
    if kind == "logit":  # both signs, lowest-bit keys
        return y, z
    if kind == "signed-ties":  # both signs with ties: the fallback paths
        return y, np.round(z, 3)
    raise ValueError(kind)


KINDS = ("distinct", "clipped", "levels", "logit", "signed-ties")


def _all(y, s, **kw):
    return (
        dm.roc_auc_score(y, s, **kw),
        dm.average_precision_score(y, s, **kw),
        dm.roc_curve(y, s, **kw),
        dm.precision_recall_curve(y, s, **kw),
    )


def _reference(y, s, **kw):
    return (
        skm.roc_auc_score(y, s, **kw),
        skm.average_precision_score(y, s, **kw),
        skm.roc_curve(y, s, **kw),
        skm.precision_recall_curve(y, s, **kw),
    )


def _assert_same(got, want, rtol=1e-12):
    auc, ap, roc, pr = got
    assert_allclose(auc, want[0], rtol=rtol)
    assert_allclose(ap, want[1], rtol=rtol)
    for a, b in zip((*roc, *pr), (*want[2], *want[3]), strict=True):
        assert a.shape == b.shape
        assert_allclose(a, b, rtol=rtol)


@pytest.mark.parametrize("kind", KINDS)
def test_scores_then_curves_share_the_summary_and_agree(kind):
    y, s = _data(kind)
    auc = dm.roc_auc_score(y, s)
    derived = _rank_memo.find(y.view(np.uint64), s)
    assert derived is not None
    assert derived["auc"] == auc
    got = (auc, dm.average_precision_score(y, s), dm.roc_curve(y, s), dm.precision_recall_curve(y, s))
    _assert_same(got, _reference(y, s))
    if kind in ("distinct", "clipped", "levels"):  # the AP and the curves came off the one summary
        assert isinstance(derived["summary"], _rank_fast._Counts | _rank_fast._Keys)


@pytest.mark.parametrize("kind", KINDS)
def test_curves_then_scores_agree(kind):
    y, s = _data(kind, seed=1)
    roc = dm.roc_curve(y, s)
    pr = dm.precision_recall_curve(y, s)
    got = (dm.roc_auc_score(y, s), dm.average_precision_score(y, s), roc, pr)
    _assert_same(got, _reference(y, s))


@pytest.mark.parametrize("kind", KINDS)
def test_the_memo_changes_no_result(kind):
    y, s = _data(kind, seed=2)
    _rank_memo.set_enabled(False)
    off = _all(y, s)
    _rank_memo.set_enabled(True)
    on = _all(y, s)  # ROC AUC ranks, the rest reuse
    again = _all(y, s)  # every call answered from the memo
    assert on[0] == off[0] == again[0]  # ROC AUC: exact integer counts whatever the path
    assert on[1] == off[1] == again[1]  # AP off the same summary as a fresh computation
    for a, b, c in zip((*on[2], *on[3]), (*off[2], *off[3]), (*again[2], *again[3]), strict=True):
        assert_allclose(a, b, rtol=1e-13)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("kind", ["distinct", "clipped", "levels", "logit"])
def test_mutated_input_after_a_call_is_ranked_afresh(kind):
    y, s = _data(kind, seed=3)
    dm.roc_auc_score(y, s)
    dm.average_precision_score(y, s)
    s[::7] = s[::-7][: s[::7].shape[0]]  # the caller's arrays change in place
    y[::5] = 1 - y[::5]
    _assert_same(_all(y, s), _reference(y, s))
    # one flipped bit of one score: a different input
    s2 = s.copy()
    s2.view(np.uint64)[N // 2] ^= np.uint64(1)
    assert _rank_memo.find(y.view(np.uint64), s2) is None
    assert dm.roc_auc_score(y, s2) == pytest.approx(skm.roc_auc_score(y, s2), rel=1e-12)


def test_the_memo_holds_a_private_copy():
    y, s = _data("distinct", seed=4)
    dm.roc_auc_score(y, s)
    entry = _rank_memo._entry
    assert entry is not None
    assert not np.shares_memory(entry.scores, s)
    assert not np.shares_memory(entry.labels, y)


@pytest.mark.parametrize("kind", ["distinct", "levels", "logit"])
def test_changing_a_returned_curve_does_not_change_the_next_answer(kind):
    y, s = _data(kind, seed=12)
    for first in (dm.precision_recall_curve, dm.roc_curve):
        _rank_memo.clear()
        for arr in first(y, s):
            arr[:] = -1.0  # the caller writes over what it got
        _assert_same(_all(y, s), _reference(y, s))


def test_weights_are_never_confused_with_the_unweighted_input():
    y, s = _data("clipped", seed=5)
    w = np.random.default_rng(5).random(N) + 0.5
    dm.roc_auc_score(y, s)
    dm.roc_curve(y, s)
    for fn in ("roc_auc_score", "average_precision_score"):
        assert_allclose(getattr(dm, fn)(y, s, sample_weight=w), getattr(skm, fn)(y, s, sample_weight=w), rtol=1e-12)
    for fn in ("roc_curve", "precision_recall_curve"):
        for a, b in zip(getattr(dm, fn)(y, s, sample_weight=w), getattr(skm, fn)(y, s, sample_weight=w), strict=True):
            assert_allclose(a, b, rtol=1e-12)
    # and the unweighted answer is still right afterwards
    _assert_same(_all(y, s), _reference(y, s))


def test_pos_label_selects_other_positives():
    y, s = _data("distinct", seed=6)
    labels = np.where(y == 1, 7, 3)
    dm.roc_auc_score(labels, s)  # positives: 7
    for pos in (3, 7):
        assert_allclose(
            dm.average_precision_score(labels, s, pos_label=pos),
            skm.average_precision_score(labels, s, pos_label=pos),
            rtol=1e-12,
        )
        for a, b in zip(dm.roc_curve(labels, s, pos_label=pos), skm.roc_curve(labels, s, pos_label=pos), strict=True):
            assert_allclose(a, b, rtol=1e-12)
        for a, b in zip(
            dm.precision_recall_curve(labels, s, pos_label=pos),
            skm.precision_recall_curve(labels, s, pos_label=pos),
            strict=True,
        ):
            assert_allclose(a, b, rtol=1e-12)


def test_other_labels_with_the_same_scores_miss():
    y, s = _data("distinct", seed=7)
    dm.roc_auc_score(y, s)
    y2 = y.copy()
    y2[0] = 2  # not 0/1: equal to no remembered label, validated as on a fresh call
    with pytest.raises(ValueError):
        dm.roc_auc_score(y2, s)
    flipped = 1 - y
    assert_allclose(dm.roc_auc_score(flipped, s), skm.roc_auc_score(flipped, s), rtol=1e-12)
    assert_allclose(dm.average_precision_score(flipped, s), skm.average_precision_score(flipped, s), rtol=1e-12)


def test_nan_is_never_answered_from_the_memo():
    y, s = _data("distinct", seed=8)
    dm.roc_auc_score(y, s)
    bad = s.copy()
    bad[10] = np.nan
    for _ in range(2):
        with pytest.raises(ValueError):
            dm.roc_auc_score(y, bad)
        with pytest.raises(ValueError):
            dm.average_precision_score(y, bad)


def test_one_class_still_warns_on_a_hit():
    y, s = _data("distinct", seed=9)
    y[:] = 0
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert np.isnan(dm.roc_auc_score(y, s))
        assert any(w.category.__name__ == "UndefinedMetricWarning" for w in caught)


def test_bounds_and_switch(monkeypatch):
    small_y, small_s = _data("distinct", n=_rank_memo.MIN_ROWS - 1, seed=10)
    dm.roc_auc_score(small_y, small_s)
    assert _rank_memo._entry is None  # below MIN_ROWS: not worth the copy
    monkeypatch.setattr(_rank_memo, "MAX_ROWS", N - 1)
    y, s = _data("distinct", seed=11)
    dm.roc_auc_score(y, s)
    assert _rank_memo._entry is None  # above MAX_ROWS: too much memory
    monkeypatch.undo()
    dm.roc_auc_score(y, s)
    assert _rank_memo._entry is not None
    assert dm.set_rank_memo(False) is True
    assert _rank_memo._entry is None  # switching off drops the entry
    dm.roc_auc_score(y, s)
    assert _rank_memo._entry is None
    dm.set_rank_memo(True)
    dm.roc_auc_score(y, s)
    dm.clear_rank_memo()
    assert _rank_memo._entry is None


def test_environment_switch():
    code = "from driftline_metrics import _rank_memo; print(_rank_memo.enabled())"
    env = {**os.environ, "DRIFTLINE_RANK_MEMO": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_threads_ranking_different_inputs_get_their_own_answers():
    inputs = [_data(kind, seed=20 + i) for i, kind in enumerate(("distinct", "clipped", "levels", "logit"))]
    want = [(skm.roc_auc_score(y, s), skm.average_precision_score(y, s)) for y, s in inputs]
    got: dict[tuple[int, int], tuple[float, float]] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for r in range(3):
                i = (t + r) % len(inputs)
                y, s = inputs[i]
                got[(t, r)] = (dm.roc_auc_score(y, s), dm.average_precision_score(y, s))
                assert_allclose(got[(t, r)], want[i], rtol=1e-12)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(got) == 12
