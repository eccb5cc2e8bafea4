"""A one-entry, content-verified memo of the last binary ranking input and what was derived from it.

A user computes ROC AUC, average precision and perhaps a curve on the same ``(y_true, y_score)``
one call after another, and each sorts the scores: the one sort costs far more than the rest of
the call (about 55 ms of a 1e6-row call where numpy's sort is scalar). The ranking functions
therefore remember the last unweighted binary input they ranked -- a **private copy** of the
0/1 labels (one byte a row) and of the scores (their bits), never a reference the caller could
mutate -- together with its ranked summary (sorted label keys, or counts per distinct score) and
the scores already computed from it. The next ranking call reuses the summary only after checking
that its input equals the copy (same length and score dtype, every label equal as a value, every
score equal bit for bit: about 1 ms at 1e6 rows against a sort's 55 ms). Anything else -- a
mutated array, other labels, a pos_label that selects other positives, weights (never memoised),
NaN (never stored: such input raises) -- misses and is ranked afresh, so a hit returns what a
fresh computation returns.

Bounds: one entry (a new input replaces it); only inputs of ``MIN_ROWS`` (32,768) to ``MAX_ROWS``
(2,097,152) rows are remembered: below, a sort costs little more than the copies; above, the entry
would take too much of a Lambda's memory. An entry holds 9 bytes a row (labels and float64 scores)
and its summary: sorted label keys (8 bytes a row), counts per distinct score (24 bytes a distinct
score, when a curve ranked it first) or a few values -- at most 33 bytes a row, 69 MB at the cap,
36 MB after ROC AUC or AP on float64 scores. A lock guards the entry, so threads share it safely
(a thread that loses a race recomputes).
``DRIFTLINE_RANK_MEMO=0`` in the environment, or :func:`set_enabled`, switches it off;
:func:`clear` drops the entry.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

MIN_ROWS = 1 << 15
MAX_ROWS = 1 << 21

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


class _Entry:
    __slots__ = ("derived", "labels", "score_dtype", "scores")

    def __init__(self, lab: np.ndarray, s: np.ndarray) -> None:
        self.labels = lab.astype(np.bool_)  # a copy: 0/1 labels, one byte a row
        self.score_dtype = s.dtype
        self.scores = _bits(s).copy()
        self.derived: dict[str, Any] = {}

    def matches(self, lab: np.ndarray, s: np.ndarray) -> bool:
        return (
            s.dtype == self.score_dtype
            and s.shape == self.scores.shape
            and lab.shape == self.labels.shape
            and _equal(_bits(s), self.scores)
            # a value comparison: a label other than 0/1 equals neither True nor False
            and _equal(lab, self.labels)
        )


_CHUNK = 1 << 16


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.array_equal`` of two arrays of one length, a chunk at a time (no n-sized temporary;
    stops at the first chunk that differs)."""
    n = a.shape[0]
    buf = np.empty(min(n, _CHUNK), dtype=np.bool_)
    for i in range(0, n, _CHUNK):
        j = min(i + _CHUNK, n)
        if np.not_equal(a[i:j], b[i:j], out=buf[: j - i]).any():
            return False
    return True


def _bits(s: np.ndarray) -> np.ndarray:
    """The scores' bits (equal bits: the same scores, -0.0 and 0.0 apart)."""
    return s.view(_UINT[s.dtype.itemsize]) if s.dtype.kind == "f" and s.dtype.itemsize in _UINT else s


_lock = threading.Lock()
_entry: _Entry | None = None
_enabled = os.environ.get("DRIFTLINE_RANK_MEMO", "1").strip().lower() not in ("0", "false", "no", "off")


def set_enabled(enabled: bool) -> bool:
    """Switch the memo on or off (off also drops the entry); returns the previous setting."""
    global _enabled, _entry
    with _lock:
        previous, _enabled = _enabled, bool(enabled)
        if not _enabled:
            _entry = None
    return previous


def enabled() -> bool:
    return _enabled


def clear() -> None:
    """Drop the remembered entry (its memory is freed once no call uses it)."""
    global _entry
    with _lock:
        _entry = None


def eligible(lab: np.ndarray, s: np.ndarray) -> bool:
    return (
        _enabled
        and lab.ndim == 1
        and s.ndim == 1
        and MIN_ROWS <= s.shape[0] <= MAX_ROWS
        and s.dtype.kind == "f"
        and lab.dtype.kind in "biu"
    )


def find(lab: np.ndarray, s: np.ndarray) -> dict[str, Any] | None:
    """What was derived from an input equal to ``(lab, s)`` (0/1 labels, 1-D float scores), or None."""
    if not eligible(lab, s):
        return None
    with _lock:
        entry = _entry
        if entry is not None and entry.matches(lab, s):
            return entry.derived
    return None


def remember(lab: np.ndarray, s: np.ndarray, derived: dict[str, Any] | None, **values: Any) -> None:
    """Record ``values`` derived from ``(lab, s)`` (whose 0/1 labels were checked): into ``derived``
    when :func:`find` returned it for this input, else into a new entry that replaces the old one."""
    if derived is not None:
        derived.update(values)
        return
    if not eligible(lab, s):
        return
    entry = _Entry(lab, s)
    entry.derived.update(values)
    global _entry
    with _lock:
        if _enabled:
            _entry = entry
