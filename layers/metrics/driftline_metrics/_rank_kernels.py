"""Exact kernels behind binary ROC AUC and average precision, whatever the score distribution.

All paths are exact (no binning). A sample of the scores (:func:`sample_levels`) tells whether they
may hold few distinct values (at most ``LEVELS_MAX``: rounded or calibrated scores, tree-model
leaves, a grid).

* **Sorted label keys** (:func:`label_keys`, :func:`checked_label_keys`), for unweighted
  non-negative scores whatever the number of distinct values: one in-place sort of integer keys
  that carry the score's bits and the class in the lowest bit (within a tie the negatives sort
  first), built chunk by chunk with the input checks riding on the same pass. With few distinct
  values, ``np.searchsorted`` of the sampled values' keys reads every value's positive and
  negative counts off the sorted keys (:func:`sorted_level_counts`; exact when the counts add up
  to ``n``). Otherwise :func:`scan_keys` makes one pass over chunks that never split a group of
  tied scores: a chunk without ties is read position by position, a chunk with ties (e.g. scores
  clipped at 0 or 1) group by group (``np.add.reduceat``), so heavy ties cost one pass, not a
  search per element.
* **Counting without a sort**, for scores of both signs with few distinct values: unweighted, a
  table indexed by the score's top bits and its label (:func:`table_level_counts`); weighted
  curves (:func:`level_sums`), a collision-free multiplicative hash of the score's bits. Either
  maps every score to its value's index, checked exactly against the value (a value the sample
  missed is added, up to ``LEVELS_MAX``), and ``np.bincount`` sums the positives' and negatives'
  weights per value, chunk by chunk.
"""

from __future__ import annotations

import sys
from typing import Literal, overload

import numpy as np

CHUNK = 1 << 14
# the sorted-key scan reads larger chunks (fewer calls; three chunk-sized buffers stay in L2)
SCAN_CHUNK = 1 << 16
# label keys are built, and their inputs checked, this many scores at a time
KEY_CHUNK = 1 << 16
# the level table counts this many scores at a time (fewer calls pay more than staying in L1)
TABLE_CHUNK = 1 << 16
LEVELS_MAX = 256
# from this many sampled values on (fewer: one equality comparison per value, EQ_MAX_LEVELS), counting
# per value (table lookup + bincount) beats sorting the label keys: about even with numpy's AVX-512 sort
# at 9-15 values (docs/metrics-speed.md), 4-5x cheaper where numpy sorts without it (AMD EPYC)
TABLE_MIN_LEVELS = 9
# below this many rows a sort is cheap enough that detecting levels does not pay
LEVELS_MIN_ROWS = 1 << 14
_SAMPLE = 4096
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_INT = {4: np.int32, 8: np.int64}
_UINT_ANY = {1: np.uint8, **_UINT}
INF_BITS = {4: int(np.float32(np.inf).view(np.uint32)), 8: int(np.float64(np.inf).view(np.uint64))}
# scores whose bits are below 1.5's give keys (bits << 1 | label) below infinity's bits: positive floats
FLOAT_KEY_BITS = {4: int(np.float32(1.5).view(np.uint32)), 8: int(np.float64(1.5).view(np.uint64))}
_FLOAT = {4: np.float32, 8: np.float64}
# odd 64-bit multipliers for the level hash (golden ratio first; the others are fixed random odd numbers)
_MULTIPLIERS = (
    0x9E3779B97F4A7C15,
    0xBF58476D1CE4E5B9,
    0x94D049BB133111EB,
    0xD6E8FEB86659FD93,
    0xA0761D6478BD642F,
    0xE7037ED1A0B428DB,
    0x8EBC6AF09C88C6E3,
    0x589965CC75374CC3,
)


# --------------------------------------------------------------------------- few distinct scores


class _NoHash(Exception):
    """No collision-free multiplier was found for the values: the caller takes another path."""


class LabelsNotBinary(Exception):
    """A label checked by a counting kernel is not 0 or 1: the caller validates the input itself."""


class _LevelHash:
    """A collision-free hash of a few float64 values' bits to their level index."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        m = values.shape[0]
        bits = values.view(np.uint64)
        b = max(12, int(2 * m * m).bit_length())  # table >= 2 m^2 slots: a random multiplier rarely collides
        self.shift = np.uint64(64 - b)
        for a in _MULTIPLIERS:
            self.mult = np.uint64(a)
            slots = self._slots(bits)
            if np.unique(slots).shape[0] == m:
                break
        else:  # eight multipliers all colliding (about 1e-5 for random values): count otherwise
            raise _NoHash
        # table: slot -> 2 * level (level m is "unknown"); check: 2 * level -> value (NaN for unknown)
        self.table = np.full(1 << b, 2 * m, dtype=np.int32)
        self.table[slots] = 2 * np.arange(m, dtype=np.int32)
        self.check = np.repeat(np.append(values, np.nan), 2)

    def _slots(self, bits: np.ndarray) -> np.ndarray:
        h = bits * self.mult  # wraps modulo 2**64
        h >>= self.shift
        return h.view(np.int64)

    def codes2(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        """``2 * level`` of each value of ``x`` and whether every value was found."""
        c2 = np.take(self.table, self._slots(x.view(np.uint64)), mode="clip")
        found = bool(np.equal(np.take(self.check, c2, mode="clip"), x).all())
        return c2, found


def sample_levels(s: np.ndarray) -> np.ndarray | None:
    """The distinct values of a strided sample of ``s`` (ascending) when there are at most
    ``LEVELS_MAX`` of them, all finite, and ``s`` is long enough for counting to pay; else None."""
    n = s.shape[0]
    if n < LEVELS_MIN_ROWS or s.dtype.kind != "f":
        return None
    values = np.unique(s[:: max(1, n // _SAMPLE)])
    if values.shape[0] > LEVELS_MAX or not np.isfinite(values).all():
        return None
    return values


def level_sums(s: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(values ascending, positive weight, negative weight)`` per distinct score, or None.

    None when ``s`` has more than ``LEVELS_MAX`` distinct values (found out from a sample, or while
    counting), when it holds NaN or infinity, or when it is too short for counting to pay.
    ``y`` holds 0/1 (bool or integer); weights are counts when ``sw`` is None.
    """
    sampled = sample_levels(s)
    if sampled is None:
        return None
    s = s.astype(np.float64, copy=False)  # float32 / float16 values are exact in float64
    values = sampled.astype(np.float64)
    try:
        return _level_sums(s, values, y, sw)
    except _NoHash:
        return None


def _level_sums(
    s: np.ndarray, values: np.ndarray, y: np.ndarray, sw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    n = s.shape[0]
    lh = _LevelHash(values)
    # 0/1 labels as a signed (or bool-as-uint8) view: adding them to int32 codes stays integer
    y = y.view(np.uint8) if y.dtype == np.bool_ else y.view(f"i{y.dtype.itemsize}")
    total: np.ndarray = np.zeros(2 * LEVELS_MAX + 2, dtype=np.float64 if sw is not None else np.int64)
    for a in range(0, n, CHUNK):
        x = s[a : a + CHUNK]
        c2, found = lh.codes2(x)
        if not found:
            new = np.unique(x[np.take(lh.check, c2) != x])
            if values.shape[0] + new.shape[0] > LEVELS_MAX or not np.isfinite(new).all():
                return None
            values = np.concatenate([values, new])  # levels keep their index: the counts stay valid
            lh = _LevelHash(values)
            c2, found = lh.codes2(x)
        c2 += y[a : a + CHUNK]
        w = None if sw is None else sw[a : a + CHUNK]
        total[: 2 * values.shape[0]] += np.bincount(c2, weights=w, minlength=2 * values.shape[0])
    m = values.shape[0]
    neg, pos = total[: 2 * m : 2], total[1 : 2 * m : 2]
    return _merge_levels(values, pos, neg)


# --------------------------------------------------------------------------- few distinct scores, unweighted

# the bit window of the level table: bits >> shift with shift from 52 (sign and exponent) down to 45
# (a table of at most 2**19 slots)
_LUT_SHIFTS = range(52, 44, -1)


class _LevelTable:
    """Direct table from a score's top bits, xor-ed with its 0/1 label, to ``2 * level + label``.

    ``t = (bits >> shift) ^ label``: the levels differ in ``bits >> (shift + 1)`` (their slot),
    and the slot's two entries tell the label apart from the window's lowest bit, which is the
    level's own. A score that is no level lands on a slot of another value or on the sentinel
    ``2 * LEVELS_MAX`` (whose check value is NaN): the exact check against the level catches it.
    """

    def __init__(self, values: np.ndarray) -> None:
        bits = values.view(np.uint64)
        m = values.shape[0]
        for shift in _LUT_SHIFTS:
            top = bits >> np.uint64(shift + 1)
            if np.unique(top).shape[0] == m:
                break
        else:
            raise _NoHash
        self.shift = np.uint64(shift)
        low = ((bits >> self.shift) & np.uint64(1)).astype(np.intp)
        slot = top.astype(np.intp) << 1
        self.table = np.full(1 << (64 - shift), 2 * LEVELS_MAX, dtype=np.intp)
        level2 = 2 * np.arange(m, dtype=np.intp)
        self.table[slot | low] = level2  # label 0 keeps the level's own bit
        self.table[slot | (1 - low)] = level2 + 1
        self.check = np.full(2 * LEVELS_MAX + 2, np.nan)
        self.check[: 2 * m] = np.repeat(values, 2)


def table_level_counts(
    s: np.ndarray, lab: np.ndarray, sampled: np.ndarray, *, check_labels: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(values ascending, positives, negatives)`` per distinct score of unweighted 0/1 labels
    ``lab`` without a sort, or None (more than ``LEVELS_MAX`` values, a value that is not finite,
    or values the table's bit window cannot tell apart).

    ``sampled`` holds the values a sample found (:func:`sample_levels`); values it missed are added
    as they are met. Per chunk: a shift, a xor with the labels, a table lookup, the exact check
    against the level's value and one ``np.bincount``. With ``check_labels`` (``lab`` any unsigned
    view of integer labels) a label other than 0/1 raises :class:`LabelsNotBinary`.
    """
    n = s.shape[0]
    s = s.astype(np.float64, copy=False)  # float32 / float16 values are exact in float64
    values = sampled.astype(np.float64)
    check_labels = check_labels and lab.dtype != np.bool_
    if lab.dtype.kind != "u":
        lab = lab.view(np.uint8) if lab.dtype == np.bool_ else lab.view(_UINT_ANY[lab.dtype.itemsize])
    try:
        lt = _LevelTable(values)
    except _NoHash:
        return None
    total = np.zeros(2 * LEVELS_MAX + 2, dtype=np.int64)
    bits = s.view(np.uint64)
    chunk = TABLE_CHUNK
    t_buf = np.empty(chunk, dtype=np.uint64)
    c2_buf = np.empty(chunk, dtype=np.intp)
    check_buf = np.empty(chunk, dtype=np.float64)
    ok_buf = np.empty(chunk, dtype=bool)
    a = 0
    while a < n:
        b = min(a + chunk, n)
        m = b - a
        x = s[a:b]
        lb = lab[a:b]
        # a label >= 2 would move the score to another level's slot (or to 0.0's twin -0.0): checked first
        if check_labels and lb.max() > 1:
            raise LabelsNotBinary
        t = np.right_shift(bits[a:b], lt.shift, out=t_buf[:m])
        np.bitwise_xor(t, lb, out=t, casting="unsafe")
        # every index is in range (the table covers every t): "clip" only skips the bounds check
        c2 = np.take(lt.table, t.view(np.intp), out=c2_buf[:m], mode="clip")
        ok = np.equal(np.take(lt.check, c2, out=check_buf[:m], mode="clip"), x, out=ok_buf[:m])
        if not ok.all():
            new = np.unique(x[~ok])
            # a value already listed under other bits (-0.0 next to 0.0) has bits of its own: keep it
            if values.shape[0] + new.shape[0] > LEVELS_MAX or not np.isfinite(new).all():
                return None
            values = np.concatenate([values, new])  # levels keep their index: the counts stay valid
            try:
                lt = _LevelTable(values)
            except _NoHash:
                return None
            continue  # count the chunk again with the new table
        total += np.bincount(c2, minlength=total.shape[0])
        a = b
    return _merge_levels(values, total[1 : 2 * values.shape[0] : 2], total[: 2 * values.shape[0] : 2])


def _merge_levels(values: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort levels by value; equal values under different bits (0.0 and -0.0) become one level."""
    uniq, inv = np.unique(values, return_inverse=True)
    if uniq.shape[0] < values.shape[0]:
        pos = np.bincount(inv, weights=pos, minlength=uniq.shape[0]).astype(pos.dtype)
        neg = np.bincount(inv, weights=neg, minlength=uniq.shape[0]).astype(neg.dtype)
    else:
        order = np.argsort(values)
        pos, neg = pos[order], neg[order]
    return uniq, pos, neg


# --------------------------------------------------------------------------- very few distinct scores

# up to this many sampled values, one equality comparison per value and chunk counts them (no
# sort, no table, no bincount): 2 to 3 values (hard 0/1 predictions) then cost about a sort
EQ_MAX_LEVELS = 8
# scores compared per chunk (the chunk's scores and labels stay in L2 across the comparisons)
EQ_CHUNK = 1 << 16
_LITTLE = sys.byteorder == "little"


def label_bytes(lab: np.ndarray) -> np.ndarray:
    """The 0/1 labels ``lab`` (bool or any integer view, values checked to be 0/1) as a bool view
    of one byte each: the low-order byte of each label (a strided view, no copy)."""
    if lab.dtype.itemsize == 1:
        return lab.view(np.bool_)
    low = 0 if (lab.dtype.byteorder == "<" or (lab.dtype.byteorder in "=|" and _LITTLE)) else lab.dtype.itemsize - 1
    return lab.view(np.uint8)[low :: lab.dtype.itemsize].view(np.bool_)


def equal_level_counts(
    s: np.ndarray, lab: np.ndarray, sampled: np.ndarray, *, check_labels: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(values ascending, positives, negatives)`` per distinct score of unweighted 0/1 labels
    ``lab`` by one equality comparison per value and chunk, or None (a score that is none of at
    most ``EQ_MAX_LEVELS`` values, NaN included).

    ``sampled``: the values a sample found (:func:`sample_levels`); values it missed are added as
    they are met (up to ``EQ_MAX_LEVELS``). Per chunk and value: ``x == v``, its count, and the
    count of its positives (an ``and`` with the labels' low bytes); the counts of a chunk must add
    up to its length, so every score is checked to be one of the values exactly. The values are
    compared most frequent first, and a chunk stops once its counts add up. With ``check_labels``
    (``lab`` an unsigned view of integer labels) a label other than 0/1 raises
    :class:`LabelsNotBinary`.
    """
    n = s.shape[0]
    s = s.astype(np.float64, copy=False)  # float32 / float16 values are exact in float64
    check_labels = check_labels and lab.dtype != np.bool_
    lbool = label_bytes(lab)
    values, freq = np.unique(s[:: max(1, n // _SAMPLE)], return_counts=True)
    if values.shape[0] != sampled.shape[0] or values.shape[0] > EQ_MAX_LEVELS:
        values, freq = sampled.astype(np.float64), np.ones(sampled.shape[0], dtype=np.intp)
    order = np.argsort(-freq, kind="stable")
    vals = [float(v) for v in values[order]]
    cnt = [0] * len(vals)
    pos = [0] * len(vals)
    chunk = EQ_CHUNK
    eq = np.empty(min(n, chunk), dtype=np.bool_)
    both = np.empty(min(n, chunk), dtype=np.bool_)
    lbuf = np.empty(min(n, chunk), dtype=np.bool_)
    a = 0
    while a < n:
        b = min(a + chunk, n)
        m = b - a
        x = s[a:b]
        if check_labels and lab[a:b].max() > 1:
            raise LabelsNotBinary
        lb = lbool[a:b]
        if len(vals) > 1 and lb.strides[0] != 1:  # the labels' low bytes, contiguous for the comparisons
            np.copyto(lbuf[:m], lb)
            lb = lbuf[:m]
        e, t = eq[:m], both[:m]
        c_chunk = [0] * len(vals)
        p_chunk = [0] * len(vals)
        total = 0
        for j, v in enumerate(vals):
            np.equal(x, v, out=e)
            c = int(np.count_nonzero(e))
            if c:
                c_chunk[j] = c
                p_chunk[j] = int(np.count_nonzero(np.logical_and(e, lb, out=t)))
                total += c
                if total == m:
                    break
        if total != m:  # a value the sample missed (or NaN): add it and count the chunk again
            new = np.unique(x[~np.isin(x, np.asarray(vals))])
            if len(vals) + new.shape[0] > EQ_MAX_LEVELS or not np.isfinite(new).all():
                return None
            vals += [float(v) for v in new]
            cnt += [0] * new.shape[0]
            pos += [0] * new.shape[0]
            continue
        for j in range(len(vals)):
            cnt[j] += c_chunk[j]
            pos[j] += p_chunk[j]
        a = b
    count = np.asarray(cnt, dtype=np.int64)
    positives = np.asarray(pos, dtype=np.int64)
    return _merge_levels(np.asarray(vals), positives, count - positives)


# --------------------------------------------------------------------------- many distinct scores


def label_keys(s: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Sorted keys of non-negative scores: the score's order-preserving unsigned bits shifted
    left by one, the class (0/1) in the freed lowest bit.

    Dropping the sign bit is lossless for scores >= 0 (and maps -0.0 onto 0.0); within a
    tie the negatives (bit 0) sort before the positives.
    """
    keyed = checked_label_keys(s, lab, check_scores=False)
    if keyed is None:  # pragma: no cover - nothing is checked, so the keys are always built
        raise RuntimeError("unchecked label keys were not built")
    return keyed


def checked_label_keys(
    s: np.ndarray,
    lab: np.ndarray,
    *,
    check_scores: bool = True,
    check_labels: bool = False,
    float_sort: bool = False,
) -> np.ndarray | None:
    """Sorted label keys as :func:`label_keys`, or None when a check fails: with ``check_scores``
    a score is negative or NaN (keys need scores >= 0; ``-0.0`` is fine), with ``check_labels``
    a label is not 0 or 1 (``lab`` is then any unsigned view of integer labels).

    ``float_sort``: when every score is in ``[+0, 1.5)`` the keys are valid positive floats in the
    same order, and numpy sorts many distinct floats faster than integers (few distinct values
    sort faster as integers). One unsigned maximum of the scores' bits per chunk tells both that and
    that they are non-negative and not NaN, in place of the minimum it replaces."""
    if s.dtype.itemsize not in (4, 8):
        s = s.astype(np.float64)
    bits = s.view(_UINT[s.dtype.itemsize])
    lab_u = lab.view(np.uint8) if lab.dtype.kind == "b" else lab.view(_UINT_ANY[lab.dtype.itemsize])
    check_labels = check_labels and lab.dtype.kind != "b"
    n = bits.shape[0]
    key = np.empty(n, dtype=bits.dtype)
    one = bits.dtype.type(1)
    below = FLOAT_KEY_BITS[s.dtype.itemsize]
    as_float = float_sort
    # chunk by chunk: the checks read each chunk from memory, the key's two passes from the cache
    for a in range(0, n, KEY_CHUNK):
        b = a + KEY_CHUNK
        xb = bits[a:b]
        if as_float and xb.max() < below:
            pass  # scores in [+0, 1.5): non-negative, not NaN, and keys that sort as floats
        else:
            as_float = False
            if check_scores and not s[a:b].min() >= 0:  # NaN fails the comparison too
                return None
        lb = lab_u[a:b]
        if check_labels and lb.max() > 1:
            return None
        k = np.left_shift(xb, one, out=key[a:b])
        np.bitwise_or(k, lb, out=k, casting="unsafe")
    if as_float:
        key.view(_FLOAT[key.dtype.itemsize]).sort()
        return key
    # numpy sorts signed integers faster than unsigned ones: sort as signed, then move the keys
    # with the top bit set (scores >= 2), which sort first as negative numbers, to the end
    signed = key.view(_INT[key.dtype.itemsize])
    signed.sort()
    if signed.shape[0] and signed[0] < 0:
        split = int(np.searchsorted(signed, 0))
        key = np.concatenate((key[split:], key[:split]))
    return key


def sorted_level_counts(key: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Positives and negatives per value of ``levels`` (ascending, >= 0) read off sorted label keys,
    or None when some key holds another value (the counts then do not add up to ``key.size``)."""
    bits = levels.astype(key.dtype.str.replace("u", "f"), copy=False).view(key.dtype)
    neg_keys = np.unique(np.left_shift(bits, 1))  # -0.0 and 0.0 share one key
    cand = np.empty(2 * neg_keys.shape[0], dtype=key.dtype)
    cand[0::2] = neg_keys
    cand[1::2] = neg_keys + 1
    counts = np.searchsorted(key, cand, side="right") - np.searchsorted(key, cand, side="left")
    if int(counts.sum()) != key.shape[0]:
        return None
    return counts[1::2], counts[0::2]


def sample_has_no_ties(s: np.ndarray) -> bool:
    """Whether a strided sample of float scores holds no two equal values: ties are then rare enough
    that the lowest-bit keys (:func:`lowbit_label_keys`), which give up on any tie, pay."""
    if s.dtype.kind != "f" or s.shape[0] < 2:
        return False
    sample = np.sort(s[:: max(1, s.shape[0] // _SAMPLE)])
    return bool((sample[1:] != sample[:-1]).all())


def lowbit_label_keys(s: np.ndarray, lab: np.ndarray, *, check_labels: bool = False) -> tuple[np.ndarray, int] | None:
    """Sorted keys of scores of any sign, and the number of positives; None when the keys cannot be
    exact. With ``check_labels`` (``lab`` any unsigned view of integer labels) a label other than 0/1
    raises :class:`LabelsNotBinary`.

    A key is the score itself (``-0.0`` read as ``0.0``) with the lowest bit of its float64 bits
    given to the 0/1 label, sorted as a float: three cheap operations per score and numpy's float
    sort, whatever the sign and the range. Two scores that differ only in their lowest bit share a
    key there, so the keys are exact only when no two tie in all bits but the label's:
    :func:`scan_keys` with ``ties=False`` tells. A key of ``±0.0`` can only be a negative's (score
    ``0.0`` or ``±5e-324``), and two of them may sort in either order: then None too. A score that
    is not finite gives a key that is not finite (a NaN key sorts last).
    """
    s = s.astype(np.float64, copy=False)
    n = s.shape[0]
    lab_u = lab.view(np.uint8) if lab.dtype.kind == "b" else lab.view(_UINT_ANY[lab.dtype.itemsize])
    check_labels = check_labels and lab.dtype.kind != "b"
    key = np.empty(n, dtype=np.uint64)
    kf = key.view(np.float64)
    not_one = np.uint64(~1 & 0xFFFFFFFFFFFFFFFF)
    n_pos = 0
    for a in range(0, n, KEY_CHUNK):
        b = min(a + KEY_CHUNK, n)
        lb = lab_u[a:b]
        if check_labels and lb.max() > 1:
            raise LabelsNotBinary
        n_pos += int(np.count_nonzero(lb)) if lb.dtype.itemsize == 1 else int(lb.sum())
        k = key[a:b]
        np.add(s[a:b], 0.0, out=kf[a:b])  # -0.0 + 0.0 is 0.0
        np.bitwise_and(k, not_one, out=k)
        np.bitwise_or(k, lb, out=k, casting="unsafe")
    kf.sort()
    if np.searchsorted(kf, 0.0, side="right") - np.searchsorted(kf, 0.0, side="left") > 1:
        return None
    return key, n_pos


@overload
def scan_keys(key: np.ndarray, n_pos: int, *, want_ap: bool, ties: Literal[True] = True) -> tuple[int, float, int]: ...


@overload
def scan_keys(key: np.ndarray, n_pos: int, *, want_ap: bool, ties: bool) -> tuple[int, float, int] | None: ...


def scan_keys(key: np.ndarray, n_pos: int, *, want_ap: bool, ties: bool = True) -> tuple[int, float, int] | None:
    """One pass over sorted label keys: ``(2 U, Σ over positives of the precision at their score,
    number of positives)``, or None with ``ties=False`` when two keys tie in all bits but the label's.

    ``2 U`` counts the (positive, negative) pairs with the positive scored higher twice and the tied
    pairs once (so ROC AUC is ``2 U / (2 P N)``), computed only when ``want_ap`` is false; the
    precision sum (``AP = sum / P``) only when it is true, which needs the number of positives
    ``n_pos`` (ignored otherwise).

    A positive at sorted position ``i`` with ``r`` positives before it has ``i - r`` negatives below
    it when no score ties with its own; otherwise its tie group (start ``g``, ``P_g`` positives and
    ``N_g`` negatives, ``p_g`` positives and ``g - p_g`` negatives before) adds ``2 (g - p_g) + N_g``
    to ``2 U`` per positive and has precision ``(n_pos - p_g) / (n - g)``. Chunks end at group
    ends, never inside a group; a group that fills a whole chunk (scores clipped at 0 or 1) is
    counted from its bounds alone (two ``searchsorted``), not read.
    """
    n = key.shape[0]
    one = key.dtype.type(1)
    ramp = np.arange(SCAN_CHUNK, dtype=key.dtype)
    # Σ i·lab_i and Σ lab_i of a chunk in one integer dot: i·2**32 + 1 per position (no overflow:
    # Σ i < SCAN_CHUNK**2 / 2 < 2**31, so the position sum keeps the high half)
    packed = (ramp << key.dtype.type(32)) | one if key.dtype.itemsize == 8 else None
    lab = np.empty(SCAN_CHUNK, dtype=key.dtype)
    lab8 = np.empty(SCAN_CHUNK, dtype=np.uint8)
    diff = np.empty(SCAN_CHUNK, dtype=key.dtype)
    u2 = 0
    ap = 0.0
    r = 0  # positives before the chunk
    a = 0
    while a < n:
        b = min(a + SCAN_CHUNK, n)
        first = key[a]
        if not ties and b - a > 1 and (key[b - 1] ^ first) < 2:
            return None
        if (key[b - 1] ^ first) < 2 and b - a > 1:  # one tie group fills the chunk: count it from its bounds
            b = int(np.searchsorted(key, first | one, side="right"))
            neg_g = int(np.searchsorted(key, first | one, side="left")) - a if not first & one else 0
            c = b - a - neg_g
            if want_ap:
                ap += c * ((n_pos - r) / (n - a))
            else:
                u2 += c * (2 * (a - r) + neg_g)
            r += c
            a = b
            continue
        if b < n and (key[b] ^ key[b - 1]) < 2:  # end the chunk before the group that crosses its end
            if not ties:
                return None
            b = int(np.searchsorted(key, key[b - 1] & ~one, side="left"))
        m = b - a
        k = key[a:b]
        d = np.bitwise_xor(k[1:], k[:-1], out=diff[: m - 1])
        if m == 1 or d.min() >= 2:  # no ties in the chunk: read it position by position
            if want_ap:
                where = np.flatnonzero(np.bitwise_and(k, one, out=lab8[:m], casting="unsafe").view(bool))
                c = where.shape[0]
                # precision at the positive's own score: (n_pos - r - j) / (n - a - where_j)
                num = np.arange(n_pos - r, n_pos - r - c, -1, dtype=np.float64)
                np.divide(num, np.subtract(n - a, where, dtype=np.float64), out=num)
                ap += float(num.sum())
            else:
                lb = np.bitwise_and(k, one, out=lab[:m])
                if packed is not None:
                    v = int(np.dot(lb, packed[:m]))
                    c, at = v & 0xFFFFFFFF, v >> 32
                else:
                    c, at = int(lb.sum()), int(np.dot(lb.astype(np.int64), ramp[:m].astype(np.int64)))
                # Σ (i - r_i) over the chunk's positives, i their absolute positions
                u2 += 2 * (a * c + at - (r * c + c * (c - 1) // 2))
        elif not ties:
            return None
        else:
            starts = np.flatnonzero(d >= 2)
            starts += 1
            starts = np.concatenate(([0], starts))
            lb = np.bitwise_and(k, one)
            pos_g = np.add.reduceat(lb, starts).astype(np.int64)
            size_g = np.diff(np.append(starts, m))
            pos_before = np.cumsum(pos_g) - pos_g + r
            g = starts + a
            c = int(pos_g.sum())
            if want_ap:
                ap += float(np.sum(pos_g * ((n_pos - pos_before) / (n - g))))
            else:
                neg_before = g - pos_before
                u2 += int(np.sum(pos_g * (2 * neg_before + (size_g - pos_g))))
        r += c
        a = b
    return u2, ap, r
