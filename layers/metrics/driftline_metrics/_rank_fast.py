"""Unweighted binary ROC AUC and average precision without ``argsort`` (the fast paths of
``_ranking``; kernels in ``_rank_kernels``).

Scores for which a sample finds at least ``TABLE_MIN_LEVELS`` and at most ``LEVELS_MAX``
distinct values (rounded, calibrated, tree leaves) are counted per value without a sort: a table
lookup, an exact check and one ``bincount`` per chunk, integer labels checked (0/1) on the way.
Other non-negative scores sort one array of label keys in place (labels checked while the keys
are built); fewer values are then read per value off the sorted keys, everything else in one
chunked pass. Scores of both signs with few distinct values are counted per value; other signed
scores are negated or split at zero and sorted as keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _rank_kernels, _rank_memo
from ._rank_kernels import (
    INF_BITS,
    LEVELS_MIN_ROWS,
    TABLE_MIN_LEVELS,
    LabelsNotBinary,
    checked_label_keys,
    equal_level_counts,
    label_keys,
    level_sums,
    lowbit_label_keys,
    sample_has_no_ties,
    sample_levels,
    scan_keys,
    sorted_level_counts,
    table_level_counts,
)
from ._validation import assert_finite


def _sorted_keys(s: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Sorted label keys of scores >= 0, raising on +inf (it sorts last)."""
    key = label_keys(s, lab)
    _check_largest_key(key, s)
    return key


def _check_largest_key(key: np.ndarray, s: np.ndarray) -> None:
    """Raise on +inf, which sorts last (NaN and negative scores never reach the keys)."""
    if key[-1] >> 1 >= INF_BITS[key.dtype.itemsize]:
        assert_finite(s, "y_score")


class _NotTaken:
    """Returned by a fast path given unchecked labels that are not 0/1 (or scores it does not take):
    the caller validates the input and takes the general route."""


_NOT_TAKEN = _NotTaken()


def _unchecked_labels(yt: np.ndarray) -> np.ndarray | None:
    """An unsigned view of non-empty 1-D integer / bool labels (0/1 still to be checked), else None."""
    if yt.ndim != 1 or yt.size == 0 or yt.dtype.kind not in "iub":
        return None
    return yt.view(np.uint8) if yt.dtype.kind == "b" else yt.view(f"u{yt.dtype.itemsize}")


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC from positive / negative counts per distinct score (ascending), ties as half."""
    neg_below = np.cumsum(neg) - neg
    u2 = int(np.dot(pos, 2 * neg_below + neg))
    return u2 / (2.0 * int(pos.sum()) * int(neg.sum()))


def _ap_from_counts(pos: np.ndarray, neg: np.ndarray) -> float:
    """Average precision from positive / negative counts per distinct score (ascending)."""
    pos_d = pos[::-1]
    tps = np.cumsum(pos_d)
    precision = tps / (tps + np.cumsum(neg[::-1])).astype(np.float64)
    return max(0.0, float(np.dot(pos_d, precision) / tps[-1]))


def _u2_nonneg(s: np.ndarray, lab: np.ndarray) -> int:
    """2·U (pairs pos > neg count 2, ties 1) for scores >= 0, by one sort of labelled keys."""
    return scan_keys(_sorted_keys(s, lab), 0, want_ap=False)[0]


def _finite_max(s: np.ndarray) -> Any:
    hi = s.max()
    if not np.isfinite(hi):
        assert_finite(s, "y_score")
    return hi


def _level_counts(
    s: np.ndarray, lab: np.ndarray, levels: np.ndarray | None, labels_checked: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | _NotTaken | None:
    """Positives, negatives and values per distinct score counted without a sort when a sample found few
    values (either sign); :data:`_NOT_TAKEN` for unchecked labels that are not 0/1; else None."""
    eq_max = _rank_kernels.EQ_MAX_LEVELS
    if levels is None or eq_max < levels.shape[0] < TABLE_MIN_LEVELS:
        return None
    count = equal_level_counts if levels.shape[0] <= eq_max else table_level_counts
    try:
        table = count(s, lab, levels, check_labels=not labels_checked)
    except LabelsNotBinary:
        return _NOT_TAKEN
    return None if table is None else (table[1], table[2], table[0])


def _signed_level_counts(
    s: np.ndarray, lab: np.ndarray, levels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Positives, negatives and values per distinct value of finite scores of both signs (checked 0/1
    labels) when a sample found few values: the level table (unless :func:`_level_counts` tried
    it already), else the level hash; else None."""
    if levels is None:
        return None
    table = table_level_counts(s, lab, levels) if levels.shape[0] < TABLE_MIN_LEVELS else None
    if table is None:
        table = level_sums(s, lab, None)
    return None if table is None else (table[1], table[2], table[0])


def _signed_scan(
    s: np.ndarray, lab: np.ndarray, *, want_ap: bool, check_labels: bool
) -> tuple[int, float, int] | _NotTaken | None:
    """:func:`scan_keys` over the lowest-bit label keys of scores of any sign (raising on scores
    that are not finite), :data:`_NOT_TAKEN` for unchecked labels that are not 0/1, or None when two
    keys tie (the keys then cannot tell ties from scores one bit apart)."""
    keyed = _lowbit_keys(s, lab, check_labels)
    if keyed is None or isinstance(keyed, _NotTaken):
        return keyed
    return scan_keys(keyed.key, keyed.n_pos or 0, want_ap=want_ap, ties=False)


def _lowbit_first(s: np.ndarray, levels: np.ndarray | None) -> bool:
    """Scores with many distinct values, no tie in a sample and not all in ``[0, 1.5)`` (logits,
    margins, unbounded scores): the lowest-bit keys sort as floats with three operations a score,
    where the exact keys of such scores sort as integers."""
    if levels is not None or s.dtype.kind != "f" or s.shape[0] < LEVELS_MIN_ROWS:
        return False
    if not sample_has_no_ties(s):
        return False
    sample = s[:: max(1, s.shape[0] // 4096)]
    return not (sample.min() >= 0 and sample.max() < 1.5)


class _Counts:
    """Positives and negatives per distinct score (ascending; ``values`` the scores when known)."""

    __slots__ = ("neg", "pos", "values")

    def __init__(self, pos: np.ndarray, neg: np.ndarray, values: np.ndarray | None = None) -> None:
        self.pos, self.neg, self.values = pos, neg, values

    def score(self, lab: np.ndarray, want_ap: bool) -> float | None:
        if want_ap:
            return _ap_from_counts(self.pos, self.neg) if self.pos.any() else None
        return _auc_from_counts(self.pos, self.neg) if self.pos.any() and self.neg.any() else None


class _Keys:
    """Sorted label keys of scores >= 0 (:func:`checked_label_keys`), ties allowed; ``lowbit``: the
    lowest-bit keys of scores of any sign (:func:`lowbit_label_keys`), exact only without ties."""

    __slots__ = ("key", "lowbit", "n_pos")

    def __init__(self, key: np.ndarray, n_pos: int | None, lowbit: bool = False) -> None:
        self.key, self.n_pos, self.lowbit = key, n_pos, lowbit

    def score(self, lab: np.ndarray, want_ap: bool) -> float | _NotTaken | None:
        """The score, None for a missing class, :data:`_NOT_TAKEN` when lowest-bit keys tie."""
        n = self.key.shape[0]
        if want_ap and self.n_pos is None:
            self.n_pos = _count_pos(lab)
        scanned = scan_keys(self.key, self.n_pos or 0, want_ap=want_ap, ties=not self.lowbit)
        if scanned is None:
            return _NOT_TAKEN
        u2, ap, n_pos = scanned
        self.n_pos = n_pos
        if want_ap:
            return max(0.0, ap / n_pos) if n_pos else None
        return u2 / (2.0 * n_pos * (n - n_pos)) if 0 < n_pos < n else None


_Summary = _Counts | _Keys


def _lowbit_keys(s: np.ndarray, lab: np.ndarray, check_labels: bool) -> _Keys | _NotTaken | None:
    """The lowest-bit keys of ``s`` (raising on scores that are not finite), :data:`_NOT_TAKEN` for
    unchecked labels that are not 0/1, or None when they cannot be exact (see :func:`_signed_scan`)."""
    if s.shape[0] < 2 or s.dtype.kind != "f":
        return None
    try:
        keyed = lowbit_label_keys(s, lab, check_labels=check_labels)
    except LabelsNotBinary:
        return _NOT_TAKEN
    if keyed is None:
        return None
    key, n_pos = keyed
    kf = key.view(np.float64)
    if not (np.isfinite(kf[0]) and np.isfinite(kf[-1])):
        assert_finite(s, "y_score")
    return _Keys(key, n_pos, lowbit=True)


def _lowbit_scored(
    s: np.ndarray, lab: np.ndarray, labels_checked: bool, want_ap: bool
) -> tuple[_Keys | None, float | _NotTaken | None] | None:
    """``(lowest-bit keys, score)``, ``(None, _NOT_TAKEN)`` for unchecked labels that are not 0/1,
    or None when the keys cannot be exact (two scores tie)."""
    keyed = _lowbit_keys(s, lab, not labels_checked)
    if isinstance(keyed, _NotTaken):
        return None, keyed
    if keyed is None:
        return None
    value = keyed.score(lab, want_ap)
    return None if isinstance(value, _NotTaken) else (keyed, value)


def _summarize(
    lab: np.ndarray, s: np.ndarray, labels_checked: bool, want_ap: bool
) -> tuple[_Summary | None, float | _NotTaken | None]:
    """``(summary, score)``: the ranked summary of ``(lab, s)`` that the score was computed from
    (None on the fallback paths, which share nothing) and ROC AUC or average precision."""
    levels = sample_levels(s)
    # few distinct values: counted per value (a table lookup, an exact check and a bincount per
    # score), cheaper than any sort
    counts = _level_counts(s, lab, levels, labels_checked)
    if isinstance(counts, _NotTaken):
        return None, counts
    if counts is not None:
        summary: _Summary = _Counts(*counts)
        return summary, summary.score(lab, want_ap)
    lowbit = _lowbit_first(s, levels)
    if lowbit:  # logits, margins, unbounded scores without ties: one float sort of lowest-bit keys
        scored = _lowbit_scored(s, lab, labels_checked, want_ap)
        if scored is not None:
            return scored
    # scores >= 0: one in-place sort of label keys costs about numpy's sort of the scores (which
    # copies), whatever the number of distinct values
    key = checked_label_keys(s, lab, check_labels=not labels_checked, float_sort=levels is None)
    if key is not None:
        _check_largest_key(key, s)
        sorted_counts = None if levels is None else sorted_level_counts(key, levels)
        summary = _Keys(key, None) if sorted_counts is None else _Counts(*sorted_counts, levels)
        return summary, summary.score(lab, want_ap)
    if levels is None and not lowbit:  # scores of both signs without ties (logits, margins): one sort of keys
        scored = _lowbit_scored(s, lab, labels_checked, want_ap)
        if scored is not None:
            return scored
    if not labels_checked:
        return None, _NOT_TAKEN
    assert_finite(s, "y_score")  # NaN or -inf stopped the keys; otherwise a score is negative
    sums = _signed_level_counts(s, lab, levels)
    if sums is not None:  # few distinct values of both signs: counted per value, no sort
        summary = _Counts(*sums)
        return summary, summary.score(lab, want_ap)
    return None, _signed_ap(lab, s) if want_ap else _signed_auc(lab, s)


def _memo_score(lab: np.ndarray, s: np.ndarray, labels_checked: bool, want_ap: bool) -> float | _NotTaken | None:
    """ROC AUC or average precision of ``(lab, s)``, through the memo of the last ranked input."""
    name = "ap" if want_ap else "auc"
    derived = _rank_memo.find(lab, s)
    if derived is not None:  # the same input as the last ranked one: the same labels (checked 0/1) and scores
        if name in derived:
            return derived[name]
        summary = derived.get("summary")
        if summary is not None:
            value = summary.score(lab, want_ap)
            if not isinstance(value, _NotTaken):
                derived[name] = value
                return value
    summary, value = _summarize(lab, s, labels_checked, want_ap)
    if not isinstance(value, _NotTaken):
        found = {name: value} if summary is None else {name: value, "summary": summary}
        _rank_memo.remember(lab, s, derived, **found)
    return value


def memo_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(fps, tps, thresholds)`` of an unweighted binary curve (bool ``y``, finite ``s``) read off
    the memo's summary of an equal input, or None (then :func:`remember_curve` once computed)."""
    derived = _rank_memo.find(y, s)
    summary = None if derived is None else derived.get("summary")
    if isinstance(summary, _Keys) and not summary.lowbit:
        key = summary.key
        score_bits = key >> key.dtype.type(1)  # the score's bits (sign dropped: scores >= 0)
        ends = np.flatnonzero(score_bits[1:] != score_bits[:-1])
        ends = np.append(ends, key.shape[0] - 1)
        pos_upto = np.cumsum(key & key.dtype.type(1), dtype=np.int64)[ends]
        pos = np.diff(pos_upto, prepend=0)
        summary = _Counts(pos, np.diff(ends, prepend=-1) - pos, score_bits[ends].view(f"f{key.dtype.itemsize}"))
    if not isinstance(summary, _Counts) or summary.values is None:
        return None
    seen = (summary.pos + summary.neg) > 0  # boolean indexing copies: nothing returned is the memo's
    pos, neg, values = summary.pos[seen], summary.neg[seen], summary.values[seen]
    tps = np.cumsum(pos[::-1], dtype=np.float64)
    fps = np.cumsum(neg[::-1], dtype=np.float64)
    return fps, tps, values[::-1].astype(s.dtype, copy=False)


def remember_curve(y: np.ndarray, s: np.ndarray, fps: np.ndarray, tps: np.ndarray, thresholds: np.ndarray) -> None:
    """Remember an unweighted curve's counts per distinct score (``fps``, ``tps`` cumulative at the
    decreasing ``thresholds``) for the next ranking call on an equal input."""
    if not _rank_memo.eligible(y, s):
        return
    derived = _rank_memo.find(y, s)
    if derived is not None and derived.get("summary") is not None:
        return
    pos = np.diff(tps, prepend=0.0)[::-1].astype(np.int64)
    neg = np.diff(fps, prepend=0.0)[::-1].astype(np.int64)
    # a copy: the caller returns views of the thresholds, which its own caller may change
    _rank_memo.remember(y, s, derived, summary=_Counts(pos, neg, thresholds[::-1].copy()))


def _fast_binary_auc(lab: np.ndarray, s: np.ndarray, *, labels_checked: bool = True) -> float | _NotTaken | None:
    """Exact unweighted binary ROC AUC of 0/1 labels without argsort; None when ``lab`` holds one
    class. Raises on scores that are not finite.

    With ``labels_checked=False`` the labels are checked (0/1) while they are counted or the keys
    are built, and :data:`_NOT_TAKEN` is returned when they are not 0/1 or a score is negative.
    The ranked summary is shared, through :mod:`._rank_memo`, with the next ranking call on equal input.
    """
    return _memo_score(lab, s, labels_checked, want_ap=False)


def _signed_auc(lab: np.ndarray, s: np.ndarray) -> float | None:
    """ROC AUC of finite scores with a negative among them, ties and many distinct values."""
    n = lab.shape[0]
    n_pos = _count_pos(lab)
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    if _finite_max(s) <= 0:
        u2 = 2 * n_pos * n_neg - _u2_nonneg(-s, lab)
    else:
        # negative and non-negative scores: each part on its own plus the cross pairs
        nonneg = s >= 0
        ln, lp = lab[~nonneg], lab[nonneg]
        u2 = 0
        if lp.size:
            u2 += _u2_nonneg(s[nonneg], lp)
        if ln.size:
            pn = int(np.count_nonzero(ln))
            u2 += 2 * pn * (ln.size - pn) - _u2_nonneg(-s[~nonneg], ln)
        u2 += 2 * int(np.count_nonzero(lp)) * (ln.size - int(np.count_nonzero(ln)))
    return u2 / (2.0 * n_pos * n_neg)


def _count_pos(y: np.ndarray) -> int:
    """Number of ones in 0/1 labels (an integer sum is faster than ``count_nonzero``)."""
    return int(y.sum()) if y.dtype.kind in "iu" else int(np.count_nonzero(y))


def _fast_binary_ap(lab: np.ndarray, s: np.ndarray, *, labels_checked: bool = True) -> float | _NotTaken | None:
    """Unweighted binary average precision of 0/1 labels without argsort; None without positives.
    Raises on scores that are not finite.

    Non-negative scores share ROC AUC's sorted label keys (the positives of a tie group at start
    ``g``, with ``p`` positives before it, add precision ``(n_pos - p) / (n - g)`` each), few
    distinct values are read off them per value; other scores with few distinct values are counted
    per value, the rest sort each class and count with ``searchsorted``. ``labels_checked=False``:
    as :func:`_fast_binary_auc`, the
    ranked summary shared likewise.
    """
    return _memo_score(lab, s, labels_checked, want_ap=True)


def _signed_ap(lab: np.ndarray, s: np.ndarray) -> float | None:
    """Average precision of finite scores with a negative among them, ties and many distinct values."""
    n_pos = _count_pos(lab)
    if not n_pos:
        return None
    y = lab.astype(bool, copy=False)
    pos = np.sort(s[y])
    neg = np.sort(s[~y])
    n_neg = neg.shape[0]
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    counts_ = np.diff(np.r_[starts, n_pos])
    tps = (n_pos - starts).astype(np.float64)
    fps = n_neg - np.searchsorted(neg, pos[starts], side="left")
    # summed as scan_keys sums a chunk (np.sum, ascending scores): shifting the scores below 0 gives
    # the same bits as the non-negative path
    return max(0.0, float(np.sum(counts_ * (tps / (tps + fps)))) / n_pos)
