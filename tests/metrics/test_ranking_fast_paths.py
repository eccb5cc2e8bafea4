"""Every fast path of binary ROC AUC / average precision (``_rank_kernels``) against scikit-learn.

The paths only engage on long inputs (``LEVELS_MIN_ROWS`` rows for the level paths, chunks of
``CHUNK`` keys for the scan), so the inputs here are tens of thousands of rows: few distinct values
read off the sorted keys, few distinct values counted by hash (both signs, sample weights, the
curves), values the sample misses, ties of both classes spanning chunk boundaries, neighbouring
scores one ulp apart, scores >= 2 (the signed sort's rotation), -0.0 next to 0.0, float32 and one
class. Each kernel is also called directly, so a test fails if a path silently stops being taken.
"""

from __future__ import annotations

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm
from driftline_metrics import _rank_kernels as kernels
from numpy.testing import assert_allclose

N = 3 * kernels.LEVELS_MIN_ROWS + 17  # several chunks, long enough for the level paths


@pytest.fixture(autouse=True)
def _memo_off():
    """Every call here takes its path afresh (the memo of the last ranked input, tested in
    test_rank_memo.py, would answer a repeated input and skip a path a test forces)."""
    previous = dm.set_rank_memo(False)
    yield
    dm.set_rank_memo(previous)


def _labels(n: int, seed: int, p: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < p).astype(np.int64)


def _agree(oracle, y, s, **kwargs):
    auc = oracle(dm.roc_auc_score, skm.roc_auc_score, y, s, **kwargs)
    ap = oracle(dm.average_precision_score, skm.average_precision_score, y, s, **kwargs)
    return auc, ap


def _grid(n: int, seed: int, levels: int) -> np.ndarray:
    return np.round(np.random.default_rng(seed).random(n) * (levels - 1)) / (levels - 1)


@pytest.mark.parametrize("levels", [2, 10, 101, kernels.LEVELS_MAX])
def test_few_levels_read_off_sorted_keys(oracle, levels):
    y = _labels(N, levels)
    s = _grid(N, levels + 1, levels)
    key = kernels.label_keys(s, y)
    sampled = kernels.sample_levels(s)
    assert sampled is not None
    counts = kernels.sorted_level_counts(key, sampled)
    assert counts is not None
    pos, neg = counts
    assert int(pos.sum()) == int(y.sum())
    assert int(neg.sum()) == N - int(y.sum())
    _agree(oracle, y, s)


def test_level_missed_by_the_sample_falls_back_exactly(oracle):
    y = _labels(N, 1)
    s = _grid(N, 2, 10)
    step = max(1, N // 4096)
    s[1::step] = 0.123456789  # never sampled (the sample takes every step-th score from 0)
    assert 0.123456789 not in kernels.sample_levels(s)
    assert kernels.sorted_level_counts(kernels.label_keys(s, y), kernels.sample_levels(s)) is None
    _agree(oracle, y, s)


def test_more_levels_than_the_limit_take_the_scan(oracle):
    y = _labels(N, 3)
    s = _grid(N, 4, 4 * kernels.LEVELS_MAX)
    assert kernels.sample_levels(s) is None
    _agree(oracle, y, s)


@pytest.mark.parametrize("weighted", [False, True])
def test_level_hash_both_signs_weights_and_growth(oracle, weighted):
    rng = np.random.default_rng(5)
    y = _labels(N, 6)
    s = np.round(rng.normal(size=N), 1)  # about 60 values, both signs
    step = max(1, N // 4096)
    s[1::step] = np.where(rng.random(s[1::step].size) < 0.5, -7.25, 9.5)  # two values the sample misses
    s[2::97] = -0.0  # equal to 0.0 with other bits
    sw = rng.integers(0, 4, N).astype(np.float64) if weighted else None
    sums = kernels.level_sums(s, y, sw)
    assert sums is not None
    values, pos, neg = sums
    assert -7.25 in values
    assert 9.5 in values
    assert np.all(np.diff(values) > 0)
    w = np.ones(N) if sw is None else sw
    assert_allclose(pos.sum(), w[y == 1].sum())
    assert_allclose(neg.sum(), w[y == 0].sum())
    kwargs = {"sample_weight": sw} if weighted else {}
    _agree(oracle, y, s, **kwargs)
    for curve in ("roc_curve", "precision_recall_curve"):
        oracle(getattr(dm, curve), getattr(skm, curve), y, s, **kwargs)


def test_level_hash_gives_up_beyond_the_limit():
    y = _labels(N, 7)
    s = np.round(np.random.default_rng(8).normal(size=N), 1)
    step = max(1, N // 4096)
    s[1::step] = np.linspace(-50, 50, s[1::step].size)  # hundreds of values the sample misses
    assert kernels.level_sums(s, y, None) is None


def test_level_hash_without_a_collision_free_multiplier_counts_otherwise(oracle, monkeypatch):
    monkeypatch.setattr(kernels, "_MULTIPLIERS", (0,))  # every value lands in slot 0
    y = _labels(N, 22)
    s = np.round(np.random.default_rng(23).normal(size=N), 1)
    assert kernels.level_sums(s, y, None) is None
    _agree(oracle, y, s)
    _agree(oracle, y, s, sample_weight=np.random.default_rng(24).random(N))


def test_weighted_levels_drop_zero_weight_thresholds_like_sklearn(oracle):
    rng = np.random.default_rng(9)
    y = _labels(N, 10)
    s = _grid(N, 11, 21)
    sw = rng.random(N)
    sw[s == 0.5] = 0.0  # a score that only zero weights hold is no threshold
    _agree(oracle, y, s, sample_weight=sw)
    for curve in ("roc_curve", "precision_recall_curve"):
        oracle(getattr(dm, curve), getattr(skm, curve), y, s, sample_weight=sw)
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s, max_fpr=0.3)


@pytest.mark.parametrize("n", [kernels.CHUNK - 1, kernels.CHUNK + 1, 5 * kernels.CHUNK + 3])
@pytest.mark.parametrize("scan_chunk", [1 << 10, kernels.SCAN_CHUNK])
def test_clipped_scores_tie_groups_span_chunks(oracle, monkeypatch, n, scan_chunk):
    """Small scan chunks: the tie groups at 0 and 1 fill whole chunks (counted from their bounds)
    and others cross chunk ends (the chunk ends before them)."""
    monkeypatch.setattr(kernels, "SCAN_CHUNK", scan_chunk)
    rng = np.random.default_rng(n)
    y = _labels(n, n + 1)
    z = rng.normal(size=n) + 1.2 * y
    s = np.clip(0.25 + 0.3 * z, 0.0, 1.0)  # both classes tied at 0 and at 1, continuous between
    assert kernels.sample_levels(s) is None or n < kernels.LEVELS_MIN_ROWS
    key = kernels.label_keys(s, y)
    u2, ap_sum, n_pos = kernels.scan_keys(key, int(y.sum()), want_ap=True)
    assert n_pos == int(y.sum())
    assert_allclose(ap_sum / n_pos, skm.average_precision_score(y, s), rtol=1e-12)
    u2, _, _ = kernels.scan_keys(key, 0, want_ap=False)
    assert_allclose(u2 / (2.0 * n_pos * (n - n_pos)), skm.roc_auc_score(y, s), rtol=1e-12)
    _agree(oracle, y, s)


def test_neighbouring_scores_one_ulp_apart(oracle):
    """A positive one ulp below a negative: the keys differ by 1 without being tied."""
    rng = np.random.default_rng(11)
    base = rng.random(N // 2)
    s = np.empty(N // 2 * 2)
    s[0::2] = base
    s[1::2] = np.nextafter(base, 2.0)
    y = np.zeros(s.size, dtype=np.int64)
    y[0::2] = 1  # the lower of each pair is the positive
    _agree(oracle, y, s)
    _agree(oracle, y, s.astype(np.float32))


@pytest.mark.parametrize("kind", ["continuous", "levels"])
def test_scores_of_two_and_more_sort_after_the_rest(oracle, kind):
    rng = np.random.default_rng(12)
    y = _labels(N, 13)
    s = rng.random(N) * 5 if kind == "continuous" else _grid(N, 14, 9) * 5
    key = kernels.label_keys(s, y)
    assert np.all(key[1:] >= key[:-1])  # unsigned order despite the signed sort
    _agree(oracle, y, s)


def test_negative_zero_and_float32_levels(oracle):
    y = _labels(N, 15)
    s = _grid(N, 16, 5)
    s[s == 0.0] = -0.0
    s[::3] = np.abs(s[::3])
    _agree(oracle, y, s)
    _agree(oracle, y, s.astype(np.float32))


@pytest.mark.parametrize("kind", ["continuous", "levels", "signed levels", "clipped"])
@pytest.mark.parametrize("cls", [0, 1])
def test_one_class_on_every_path(oracle, kind, cls):
    rng = np.random.default_rng(17)
    s = {
        "continuous": rng.random(N),
        "levels": _grid(N, 18, 10),
        "signed levels": np.round(rng.normal(size=N), 1),
        "clipped": np.clip(rng.normal(0.4, 0.5, N), 0, 1),
    }[kind]
    y = np.full(N, cls, dtype=np.int64)
    _agree(oracle, y, s)
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s, sample_weight=rng.random(N))


def test_non_finite_scores_still_raise_on_the_fast_paths():
    y = _labels(N, 19)
    for bad in (np.inf, -np.inf, np.nan):
        for s in (_grid(N, 20, 10), np.random.default_rng(21).random(N)):
            s = s.copy()
            s[N // 2] = bad
            with pytest.raises(ValueError, match="y_score"):
                dm.roc_auc_score(y, s)
            with pytest.raises(ValueError, match="y_score"):
                dm.average_precision_score(y, s)


def _class_counts(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=values.size).astype(np.int64)
    return values, pos, np.bincount(inv, minlength=values.size) - pos


# (a 256-value grid k / 255 has neighbours closer than the table's 6 mantissa bits: sorted keys count it)
@pytest.mark.parametrize("levels", [2, 10, 101])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_level_table_counts_per_value_without_a_sort(oracle, levels, dtype):
    y = _labels(N, 30 + levels)
    s = _grid(N, 31 + levels, levels).astype(dtype)
    sampled = kernels.sample_levels(s)
    got = kernels.table_level_counts(s, y, sampled)
    assert got is not None
    for g, e in zip(got, _class_counts(s.astype(np.float64), y), strict=True):
        np.testing.assert_array_equal(g, e)
    assert kernels.table_level_counts(s, y.astype(bool), sampled)[1].sum() == y.sum()
    _agree(oracle, y, s)


def test_level_table_grows_with_values_the_sample_missed_both_signs_and_negative_zero(oracle):
    rng = np.random.default_rng(32)
    y = _labels(N, 33)
    s = np.round(rng.normal(size=N), 1)
    step = max(1, N // 4096)
    s[1::step] = np.where(rng.random(s[1::step].size) < 0.5, -7.25, 9.5)  # never sampled
    s[2::97] = -0.0  # equal to 0.0 with other bits: one level
    got = kernels.table_level_counts(s, y, kernels.sample_levels(s))
    assert got is not None
    assert -7.25 in got[0]
    assert 9.5 in got[0]
    for g, e in zip(got, _class_counts(s, y), strict=True):
        np.testing.assert_array_equal(g, e)
    _agree(oracle, y, s)


def test_level_table_gives_up_on_values_its_bit_window_cannot_tell_apart(oracle):
    y = _labels(N, 34)
    s = _grid(N, 35, 10)
    s[::7] = 0.5
    s[1::7] = np.nextafter(0.5, 1.0)  # 0.5 and the float after it share every bit of the window
    assert kernels.table_level_counts(s, y, kernels.sample_levels(s)) is None
    _agree(oracle, y, s)


def test_level_table_gives_up_beyond_the_limit_and_on_nan():
    y = _labels(N, 36)
    s = _grid(N, 37, 10)
    step = max(1, N // 4096)
    many = s.copy()
    many[1::step] = np.linspace(2, 3, many[1::step].size)  # hundreds of values the sample misses
    assert kernels.table_level_counts(many, y, kernels.sample_levels(many)) is None
    s[N // 2 + 1] = np.nan
    assert kernels.table_level_counts(s, y, kernels.sample_levels(s)) is None


# --------------------------------------------------------------------------- labels checked while keys are built


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, bool])
@pytest.mark.parametrize("kind", ["continuous", "levels", "clipped"])
def test_integer_and_bool_labels_checked_inside_the_key_pass(oracle, monkeypatch, dtype, kind):
    monkeypatch.setattr(kernels, "KEY_CHUNK", 1 << 12)  # keys built over many chunks
    rng = np.random.default_rng(40)
    y = _labels(N, 41).astype(dtype)
    s = {
        "continuous": rng.random(N),
        "levels": _grid(N, 42, 10),
        "clipped": np.clip(rng.normal(0.4, 0.5, N), 0, 1),
    }[kind]
    _agree(oracle, y, s)
    _agree(oracle, y, s.astype(np.float32))
    _agree(oracle, y, (s * 100).astype(np.int64))  # integer scores


@pytest.mark.parametrize("key_chunk", [1 << 10, kernels.KEY_CHUNK])
def test_checked_label_keys_refuse_what_keys_cannot_hold(monkeypatch, key_chunk):
    monkeypatch.setattr(kernels, "KEY_CHUNK", key_chunk)  # checks in the last of many chunks, or in one
    y = _labels(N, 43)
    s = np.random.default_rng(44).random(N)
    key = kernels.checked_label_keys(s, y.view(np.uint64), check_labels=True)
    np.testing.assert_array_equal(key, kernels.label_keys(s, y))
    for bad in (-1e-300, -np.inf, np.nan):  # negative, -inf, NaN scores: no keys
        t = s.copy()
        t[N - 5] = bad
        assert kernels.checked_label_keys(t, y) is None
    t = s.copy()
    t[3] = -0.0  # equal to 0.0: kept
    assert kernels.checked_label_keys(t, y) is not None
    for lab in (2, 3, 255):  # labels other than 0/1: no keys, the caller validates
        z = y.astype(np.uint8)
        z[N - 1] = lab
        assert kernels.checked_label_keys(s, z, check_labels=True) is None
    z = y.astype(np.int64)
    z[7] = -1  # seen as a huge unsigned label
    assert kernels.checked_label_keys(s, z.view(np.uint64), check_labels=True) is None


@pytest.mark.parametrize("kind", ["continuous", "levels"])
def test_labels_other_than_0_1_fall_back_to_the_general_path(oracle, kind):
    rng = np.random.default_rng(45)
    s = rng.random(N) if kind == "continuous" else _grid(N, 46, 10)
    # a label 2 on a score whose key's lowest bit it would overwrite (bit 0 of a level's bits)
    three = _labels(N, 47)
    three[::5] = 2
    with pytest.raises(ValueError, match=r"multiclass|multi_class"):
        dm.roc_auc_score(three, s)
    with pytest.raises(ValueError):
        skm.roc_auc_score(three, s)
    oracle(dm.average_precision_score, skm.average_precision_score, three, s, pos_label=2)
    # {-1, 1} and {1, 2} labels: two classes, positive the greater, as scikit-learn
    for lo, hi in ((-1, 1), (1, 2)):
        y = np.where(_labels(N, 48) == 1, hi, lo)
        oracle(dm.roc_auc_score, skm.roc_auc_score, y, s)
        oracle(dm.average_precision_score, skm.average_precision_score, y, s, pos_label=hi)


@pytest.mark.parametrize("kind", ["continuous", "levels"])
def test_negative_scores_with_integer_labels_take_the_signed_paths(oracle, monkeypatch, kind):
    monkeypatch.setattr(kernels, "KEY_CHUNK", 1 << 12)  # the first negative score is met chunks in
    rng = np.random.default_rng(49)
    y = _labels(N, 50)
    s = rng.normal(size=N) if kind == "continuous" else np.round(rng.normal(size=N), 1)
    s[: N // 2] = np.abs(s[: N // 2])  # the first half is non-negative: the keys stop late
    _agree(oracle, y, s)
    _agree(oracle, y, -np.abs(s))


# --------------------------------------------------------------------------- which path a few-valued input takes


def _refuse(*_args, **_kwargs):
    raise AssertionError("this path must not be taken")


@pytest.mark.parametrize("dtype", [np.int64, np.int8, bool])
@pytest.mark.parametrize("levels", [kernels.TABLE_MIN_LEVELS, 15, 101])
def test_many_few_values_are_counted_without_sorting_keys(oracle, monkeypatch, levels, dtype):
    from driftline_metrics import _rank_fast

    monkeypatch.setattr(kernels, "TABLE_CHUNK", 1 << 12)  # many chunks
    monkeypatch.setattr(_rank_fast, "checked_label_keys", _refuse)
    y = _labels(N, 60 + levels).astype(dtype)
    s = _grid(N, 61 + levels, levels)
    _agree(oracle, y, s)
    _agree(oracle, y, s.astype(np.float32))


def test_few_values_the_counts_decline_sort_the_label_keys(oracle, monkeypatch):
    """Every number of sampled values is counted without a sort (equality up to ``EQ_MAX_LEVELS``, the table
    from ``TABLE_MIN_LEVELS``); when the counting declines (a value the sample missed past the limit, a NaN),
    the sorted label keys are read per sampled value."""
    from driftline_metrics import _rank_fast

    assert kernels.TABLE_MIN_LEVELS == kernels.EQ_MAX_LEVELS + 1
    monkeypatch.setattr(_rank_fast, "table_level_counts", lambda *a, **k: None)
    monkeypatch.setattr(_rank_fast, "equal_level_counts", lambda *a, **k: None)
    y = _labels(N, 62)
    for levels in (3, kernels.EQ_MAX_LEVELS + 1, 15, 40):
        _agree(oracle, y, _grid(N, 63 + levels, levels))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, bool, np.float64])
@pytest.mark.parametrize("levels", [2, 3, kernels.EQ_MAX_LEVELS])
def test_very_few_values_are_counted_by_equality(oracle, monkeypatch, levels, dtype):
    from driftline_metrics import _rank_fast

    monkeypatch.setattr(kernels, "EQ_CHUNK", 1 << 12)  # many chunks
    monkeypatch.setattr(_rank_fast, "checked_label_keys", _refuse)
    monkeypatch.setattr(_rank_fast, "table_level_counts", _refuse)
    y = _labels(N, 160 + levels).astype(dtype)
    s = _grid(N, 161 + levels, levels)
    _agree(oracle, y, s)
    _agree(oracle, y, s.astype(np.float32))
    _agree(oracle, y, s - 0.5)  # both signs
    _agree(oracle, y, -s)  # 0.0 becomes -0.0
    _agree(oracle, y, np.ones(N))  # one value: AUC one half, AP the positives' share


def test_equality_counts_directly(monkeypatch):
    monkeypatch.setattr(kernels, "EQ_CHUNK", 1 << 12)
    y = _labels(N, 170)
    s = _grid(N, 171, 3)
    s[7::13] = -0.0  # equal to 0.0 under other bits
    got = kernels.equal_level_counts(s, y.view(np.uint64), kernels.sample_levels(s), check_labels=True)
    assert got is not None
    values, pos, neg = got
    want_values, want_pos, want_neg = _class_counts(s, y)
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(pos, want_pos)
    np.testing.assert_array_equal(neg, want_neg)
    for bad in (2, -1):  # -1 is a huge unsigned label
        z = y.copy()
        z[N - 3] = bad  # in the last chunk
        with pytest.raises(kernels.LabelsNotBinary):
            kernels.equal_level_counts(s, z.view(np.uint64), kernels.sample_levels(s), check_labels=True)
    # big-endian labels: the low-order byte is the last one
    be = y.astype(">i8")
    got_be = kernels.equal_level_counts(s, be, kernels.sample_levels(s))
    assert got_be is not None
    np.testing.assert_array_equal(got_be[1], want_pos)


def test_equality_counts_add_values_the_sample_missed_and_give_up_past_the_limit(oracle, monkeypatch):
    monkeypatch.setattr(kernels, "EQ_CHUNK", 1 << 12)
    y = _labels(N, 172)
    s = _grid(N, 173, 2)
    step = max(1, N // 4096)
    s[1::step] = 0.25  # never sampled
    sampled = kernels.sample_levels(s)
    assert 0.25 not in sampled
    got = kernels.equal_level_counts(s, y, sampled)
    assert got is not None
    np.testing.assert_array_equal(got[0], [0.0, 0.25, 1.0])
    _agree(oracle, y, s)
    many = s.copy()
    many[1 : kernels.EQ_MAX_LEVELS * step : step] = np.arange(kernels.EQ_MAX_LEVELS) + 2.0
    assert kernels.equal_level_counts(many, y, sampled) is None  # too many values: the caller sorts
    _agree(oracle, y, many)
    for bad in (np.nan, np.inf):
        t = s.copy()
        t[N - 5] = bad
        assert kernels.equal_level_counts(t, y, sampled) is None
        _agree(oracle, y, t)  # both raise


def test_level_table_checks_unchecked_labels(monkeypatch):
    monkeypatch.setattr(kernels, "TABLE_CHUNK", 1 << 12)
    s = _grid(N, 64, 101)
    sampled = kernels.sample_levels(s)
    y = _labels(N, 65)
    got = kernels.table_level_counts(s, y.view(np.uint64), sampled, check_labels=True)
    assert got is not None
    np.testing.assert_array_equal(got[1], _class_counts(s, y)[1])
    for bad in (2, 3, -1):  # -1 is a huge unsigned label
        z = y.copy()
        z[N - 3] = bad  # in the last chunk
        with pytest.raises(kernels.LabelsNotBinary):
            kernels.table_level_counts(s, z.view(np.uint64), sampled, check_labels=True)
    z = y.astype(np.uint8)
    z[5] = 2
    with pytest.raises(kernels.LabelsNotBinary):
        kernels.table_level_counts(s, z, sampled, check_labels=True)


@pytest.mark.parametrize("bad", [2, -1])
def test_labels_other_than_0_1_with_many_few_values_take_the_general_path(oracle, bad):
    s = _grid(N, 66, 101)
    y = _labels(N, 67)
    y[N - 2] = bad  # met by the table's last chunk: the fast path gives up, the input is validated
    oracle(dm.roc_auc_score, skm.roc_auc_score, y, s)
    oracle(dm.average_precision_score, skm.average_precision_score, y, s)
    oracle(dm.average_precision_score, skm.average_precision_score, y, s, pos_label=bad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_keys_of_scores_below_one_and_a_half_sort_as_floats(oracle, monkeypatch, dtype):
    monkeypatch.setattr(kernels, "KEY_CHUNK", 1 << 12)
    y = _labels(N, 70)
    s = np.random.default_rng(71).random(N).astype(dtype)
    s[:50] = 0.0
    s[50:60] = np.finfo(dtype).smallest_subnormal  # keys that are subnormal floats
    s[60:70] = np.nextafter(dtype(1.5), dtype(0))  # the largest score whose key is a finite float
    y[:70:2] = 1
    ints = kernels.checked_label_keys(s, y.view(np.uint64))  # sorted as integers
    floats = kernels.checked_label_keys(s, y.view(np.uint64), float_sort=True)
    np.testing.assert_array_equal(floats, ints)
    _agree(oracle, y, s)
    # a score >= 1.5, -0.0 or NaN met late: the remaining chunks take the integer sort and its checks
    for late in (1.5, 7.0, -0.0):
        t = s.copy()
        t[N - 3] = late
        keys = kernels.checked_label_keys(t, y.view(np.uint64), float_sort=True)
        np.testing.assert_array_equal(keys, kernels.label_keys(t, y))
        _agree(oracle, y, t)
    t = s.copy()
    t[N - 3] = np.nan
    assert kernels.checked_label_keys(t, y.view(np.uint64), float_sort=True) is None


# --------------------------------------------------------------------------- scores of both signs (logits, margins)


def test_scores_of_both_signs_sort_one_array_of_keys(oracle, monkeypatch):
    from driftline_metrics import _rank_fast

    monkeypatch.setattr(kernels, "KEY_CHUNK", 1 << 12)
    calls = []
    real = kernels.lowbit_label_keys

    def spy(s, lab, **kwargs):
        got = real(s, lab, **kwargs)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(_rank_fast, "lowbit_label_keys", spy)
    rng = np.random.default_rng(80)
    y = _labels(N, 81)
    logit = rng.normal(size=N) * 3 + y
    logit[:4] = [-0.0, 1e-310, -1e-310, -3e38]  # a signed zero, subnormals, a large one
    for s in (logit, logit - 10, logit + 10, np.exp(logit)):
        calls.clear()
        _agree(oracle, y, s)
        assert calls  # the one-sort path was taken
        assert all(calls)
    _agree(oracle, y, logit.astype(np.float32))  # float32 logits tie: the keys give up, exactly
    keyed = kernels.lowbit_label_keys(logit, y)
    assert keyed is not None
    key, n_pos = keyed
    assert n_pos == int(y.sum())
    kf = key.view(np.float64)
    assert np.all(kf[1:] >= kf[:-1])
    np.testing.assert_array_equal(key & 1, y[np.argsort(logit, kind="stable")])


def test_lowest_bit_keys_refuse_two_zero_keys_and_unchecked_labels():
    y = _labels(N, 90)
    s = np.random.default_rng(91).normal(size=N)
    s[10], s[20] = -0.0, -5e-324  # both negatives: keys -0.0 / +0.0 sort in either order
    y[10] = y[20] = 0
    assert kernels.lowbit_label_keys(s, y) is None
    y[20] = 1  # -5e-324 with label 1 keeps a key of its own below zero
    assert kernels.lowbit_label_keys(s, y) is not None
    y[N - 1] = 3
    with pytest.raises(kernels.LabelsNotBinary):
        kernels.lowbit_label_keys(s, y.view(np.uint64), check_labels=True)


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_lowest_bit_keys_near_zero_agree(oracle, zero):
    rng = np.random.default_rng(92)
    y = _labels(N, 93)
    s = rng.normal(size=N) * 3
    s[5:9] = [zero, -5e-324, 5e-324, -1e-323]
    y[5:9] = [0, 0, 1, 1]
    _agree(oracle, y, s)
    y[5:9] = [1, 0, 0, 1]
    _agree(oracle, y, s)


def test_scores_of_both_signs_with_ties_or_one_bit_apart_fall_back_exactly(oracle, monkeypatch):
    from driftline_metrics import _rank_fast

    monkeypatch.setattr(kernels, "KEY_CHUNK", 1 << 12)
    monkeypatch.setattr(kernels, "SCAN_CHUNK", 1 << 10)
    rng = np.random.default_rng(82)
    y = _labels(N, 83)
    logit = rng.normal(size=N) * 3
    one_bit = logit.copy()
    one_bit[N - 10] = -0.75
    one_bit[N - 11] = np.nextafter(-0.75, -1.0)  # shares every bit but the lowest with -0.75
    y[N - 11], y[N - 10] = 1, 0
    tied = np.round(logit, 3)  # thousands of values, ties of both labels
    for s in (one_bit, tied):
        assert _rank_fast._signed_scan(s, y, want_ap=False, check_labels=False) is None
        _agree(oracle, y, s)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_scores_of_both_signs_not_finite_raise_from_the_sorted_keys(bad):
    from driftline_metrics import _rank_fast

    y = _labels(N, 84)
    s = np.random.default_rng(85).normal(size=N)
    s[N // 3] = bad
    with pytest.raises(ValueError, match=r"infinity|NaN"):
        _rank_fast._signed_scan(s, y.view(np.uint64), want_ap=False, check_labels=True)
    for fn in (dm.roc_auc_score, dm.average_precision_score):
        with pytest.raises(ValueError, match=r"infinity|NaN"):
            fn(y, s)


def test_scores_of_both_signs_check_unchecked_labels():
    from driftline_metrics import _rank_fast

    y = _labels(N, 86)
    s = np.random.default_rng(87).normal(size=N)
    y[N - 1] = 2
    got = _rank_fast._signed_scan(s, y.view(np.uint64), want_ap=True, check_labels=True)
    assert isinstance(got, _rank_fast._NotTaken)
