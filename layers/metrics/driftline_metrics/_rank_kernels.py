"""Exact kernels behind binary ROC AUC and average precision, whatever the score distribution.

All paths are exact (no binning). A sample of the scores (:func:`sample_levels`) tells whether they
may hold few distinct values (at most ``LEVELS_MAX``: rounded or calibrated scores, tree-model
leaves, a grid).

* **Sorted label keys** (:func:`label_keys`), for unweighted non-negative scores: one sort of
  integer keys that carry the score's bits and the class in the lowest bit (within a tie the
  negatives sort first). With few distinct values, ``np.searchsorted`` of the sampled values' keys
  reads every value's positive and negative counts off the sorted keys (:func:`sorted_level_counts`;
  exact when the counts add up to ``n``). Otherwise :func:`scan_keys` makes one pass over chunks
  that never split a group of tied scores: a chunk without ties is read position by position, a
  chunk with ties (e.g. scores clipped at 0 or 1) group by group (``np.add.reduceat``), so heavy
  ties cost one pass, not a search per element.
* **Counting without a sort** (:func:`level_sums`), for weighted curves and scores of both signs
  with few distinct values: every score is mapped to its value's index through a collision-free
  multiplicative hash of its bits, checked exactly against the value (a value the sample missed is
  added, up to ``LEVELS_MAX``), and ``np.bincount`` sums the positives' and negatives' weights per
  value, chunk by chunk.
"""

from __future__ import annotations

import sys

import numpy as np

CHUNK = 1 << 14
LEVELS_MAX = 256
# below this many rows a sort is cheap enough that detecting levels does not pay
LEVELS_MIN_ROWS = 1 << 14
_SAMPLE = 4096
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_INT = {4: np.int32, 8: np.int64}
_UINT_ANY = {1: np.uint8, **_UINT}
INF_BITS = {4: int(np.float32(np.inf).view(np.uint32)), 8: int(np.float64(np.inf).view(np.uint64))}
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
    # ascending values; equal values under different bits (0.0 and -0.0) merge into one level
    uniq, inv = np.unique(values, return_inverse=True)
    if uniq.shape[0] < m:
        pos = np.bincount(inv, weights=pos, minlength=uniq.shape[0]).astype(pos.dtype)
        neg = np.bincount(inv, weights=neg, minlength=uniq.shape[0]).astype(neg.dtype)
    else:
        order = np.argsort(values)
        pos, neg = pos[order], neg[order]
    return uniq, pos, neg


# --------------------------------------------------------------------------- many distinct scores


def label_keys(s: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Sorted keys of non-negative scores: the score's order-preserving unsigned bits shifted
    left by one, the class (0/1) in the freed lowest bit.

    Dropping the sign bit is lossless for scores >= 0 (and maps -0.0 onto 0.0); within a
    tie the negatives (bit 0) sort before the positives.
    """
    if s.dtype.itemsize not in (4, 8):
        s = s.astype(np.float64)
    key = np.left_shift(s.view(_UINT[s.dtype.itemsize]), 1)
    lab_u = lab.view(np.uint8) if lab.dtype.kind == "b" else lab.view(_UINT_ANY[lab.dtype.itemsize])
    np.bitwise_or(key, lab_u, out=key, casting="unsafe")
    # numpy sorts signed integers faster than unsigned ones: sort as signed, then move the keys
    # with the top bit set (scores >= 2), which sort first as negative numbers, to the end
    signed = key.view(_INT[key.dtype.itemsize])
    signed.sort()
    if signed[0] < 0:
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


def _low_bits(key: np.ndarray) -> np.ndarray:
    """Strided uint8 view of the lowest byte of each key (no copy)."""
    size = key.dtype.itemsize
    return key.view(np.uint8)[(0 if sys.byteorder == "little" else size - 1) :: size]


def scan_keys(key: np.ndarray, n_pos: int, *, want_ap: bool) -> tuple[int, float, int]:
    """One pass over sorted label keys: ``(2 U, Σ over positives of the precision at their score,
    number of positives)``.

    ``2 U`` counts the (positive, negative) pairs with the positive scored higher twice and the tied
    pairs once (so ROC AUC is ``2 U / (2 P N)``), computed only when ``want_ap`` is false; the
    precision sum (``AP = sum / P``) only when it is true, which needs the number of positives
    ``n_pos`` (ignored otherwise).

    A positive at sorted position ``i`` with ``r`` positives before it has ``i - r`` negatives below
    it when no score ties with its own; otherwise its tie group (start ``g``, ``P_g`` positives and
    ``N_g`` negatives, ``p_g`` positives and ``g - p_g`` negatives before) adds ``2 (g - p_g) + N_g``
    to ``2 U`` per positive and has precision ``(n_pos - p_g) / (n - g)``. Chunks are cut at group
    ends, so a group is read whole.
    """
    n = key.shape[0]
    low = _low_bits(key)
    ramp = np.arange(CHUNK, dtype=key.dtype)
    lab = np.empty(CHUNK, dtype=key.dtype)
    diff = np.empty(CHUNK, dtype=key.dtype)
    u2 = 0
    ap = 0.0
    r = 0  # positives before the chunk
    a = 0
    while a < n:
        b = min(a + CHUNK, n)
        if b < n and key[b] <= (key[b - 1] | 1):  # the tie group of key[b - 1] goes on: read it whole
            b = int(np.searchsorted(key, key[b - 1] | 1, side="right"))
        m = b - a
        k = key[a:b]
        big = m > CHUNK
        # same score <=> the keys differ at most in the label bit (a difference of 1 can also be
        # two neighbouring scores, positive below negative: the xor tells them apart)
        d = np.bitwise_xor(k[1:], k[:-1], out=None if big else diff[: m - 1])
        tied = m > 1 and bool(d.min() < 2)
        if not tied:
            if want_ap:
                where = np.flatnonzero(np.bitwise_and(low[a:b], 1).view(bool))
                c = where.shape[0]
                # precision at the positive's own score: (n_pos - r - j) / (n - a - where_j)
                num = np.arange(n_pos - r, n_pos - r - c, -1, dtype=np.float64)
                den = (n - a) - where
                ap += float(np.sum(num / den))
            else:
                lb = np.bitwise_and(k, 1, out=lab[:m])
                c = int(lb.sum())
                # Σ (i - r_i) over the chunk's positives, i their absolute positions; the integer dot
                # of offsets cannot overflow (at most CHUNK**2 / 2 < 2**31)
                u2 += 2 * (a * c + int(np.dot(lb, ramp[:m])) - (r * c + c * (c - 1) // 2))
        else:
            starts = np.flatnonzero(d >= 2)
            starts += 1
            starts = np.concatenate(([0], starts))
            lb = np.bitwise_and(k, 1)
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
