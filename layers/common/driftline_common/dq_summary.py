"""Mergeable per-feature summaries of a window, the input of the data-quality statistics and checks.

A :class:`Summary` holds what ``statistics.json`` and every check of :mod:`driftline_common.data_quality` need of
one feature, as counts, sums, extremes and a weighted quantile sketch — so a window read in shards (a Distributed
Map run) is summarised per shard and the summaries are merged (:func:`merge`) instead of the values.

- counts (present, missing, non-numeric, fractional, negative), the sum, the extremes and the category counts merge
  exactly: the merged summary equals the one-shot one;
- mean and variance merge by Chan's pairwise update of ``(n, mean, M2)`` (equal to the one-shot values up to
  floating-point rounding);
- the quantile sketch: a one-shot summary keeps every present value (weight 1), so the drift distance and the
  KLL buckets computed from it are the exact ones; a shard keeps at most :data:`SHARD_SKETCH` values (every k-th of
  its sorted values, weight k) and merged sketches are thinned back to that size the same way. Each thinning moves
  the CDF by at most ``1/SHARD_SKETCH`` of the shard's rows, so the merged drift distance and bucket shares are
  within ``2/SHARD_SKETCH`` of the one-shot ones (tested).

Missing values (Model Monitor's completeness): a value that is absent or empty is *missing* for that feature only;
a numeric feature's value that is present but not a finite number is counted as a *string* (present, wrong type).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: values a shard's sketch keeps (the merged sketch too)
SHARD_SKETCH = 8192


@dataclass
class Summary:
    """One feature of a window (or of one shard of it)."""

    kind: str  # "numeric" | "categorical"
    present: int = 0  # non-missing values (numeric: finite numbers; see ``strings``)
    missing: int = 0  # absent or empty values
    strings: int = 0  # numeric feature: present values that are not finite numbers
    total_sum: float = 0.0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    minimum: float = math.inf
    maximum: float = -math.inf
    fractional: int = 0  # values with a fractional part
    negative: int = 0
    sketch_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sketch_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    counts: Counter[str] = field(default_factory=Counter)  # categorical values (and a numeric feature's strings)

    @property
    def rows(self) -> int:
        return self.present + self.missing + self.strings

    @property
    def non_null(self) -> int:
        return self.present + self.strings

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.present) if self.present else 0.0

    def cdf_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The sketch's sorted values and cumulative weight shares (the window's empirical CDF at each value)."""
        w = self.sketch_weights
        return self.sketch_values, (np.cumsum(w) / w.sum()) if w.size else w


def _thin(values: np.ndarray, weights: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``size`` items of a sorted weighted sample: the values at evenly spaced cumulative weights, each
    carrying the weight between it and the previous kept item."""
    if values.size <= size:
        return values, weights
    cum = np.cumsum(weights)
    targets = cum[-1] * (np.arange(1, size + 1) / size)
    idx = np.minimum(np.searchsorted(cum, targets - 1e-9 * cum[-1], side="left"), values.size - 1)
    idx = np.unique(idx)
    kept = cum[idx]
    return values[idx], np.diff(np.concatenate([[0.0], kept]))


def of_values(kind: str, values: Any, *, missing: int = 0, strings: Sequence[str] = (), sketch: int | None = None
              ) -> Summary:
    """The summary of one feature's present ``values``; ``missing`` absent values; ``strings`` the present values
    of a numeric feature that are not numbers. ``sketch``: keep at most that many sketch items (``None``: all)."""
    if kind != "numeric":
        vals = np.asarray(values).astype(str)
        cats, cnt = np.unique(vals, return_counts=True)
        return Summary(kind, present=int(vals.size), missing=int(missing),
                       counts=Counter(dict(zip(cats.tolist(), cnt.tolist(), strict=True))))
    x = np.sort(np.asarray(values, dtype=np.float64))
    s = Summary(kind, present=int(x.size), missing=int(missing), strings=len(strings),
                counts=Counter(str(v) for v in strings))
    if x.size:
        s.total_sum = float(x.sum())
        s.mean = float(x.mean())
        s.m2 = float(np.sum((x - s.mean) ** 2))
        s.minimum, s.maximum = float(x[0]), float(x[-1])
        s.fractional = int(np.count_nonzero(x != np.round(x)))
        s.negative = int(np.searchsorted(x, 0.0, side="left"))
        v, w = x, np.ones(x.size)
        s.sketch_values, s.sketch_weights = _thin(v, w, sketch) if sketch else (v, w)
    return s


def merge(parts: Sequence[Summary], *, sketch: int = SHARD_SKETCH) -> Summary:
    """One summary of several shards' summaries of the same feature."""
    if not parts:
        raise ValueError("nothing to merge")
    kind = parts[0].kind
    out = Summary(kind)
    for p in parts:
        if p.kind != kind:
            raise ValueError(f"cannot merge a {p.kind} summary into a {kind} one")
        out.missing += p.missing
        out.strings += p.strings
        out.counts.update(p.counts)
        if kind != "numeric" or not p.present:
            out.present += p.present
            continue
        n_a, n_b = out.present, p.present
        delta = p.mean - out.mean
        n = n_a + n_b
        out.mean = out.mean + delta * n_b / n
        out.m2 = out.m2 + p.m2 + delta * delta * n_a * n_b / n
        out.present = n
        out.total_sum += p.total_sum
        out.minimum, out.maximum = min(out.minimum, p.minimum), max(out.maximum, p.maximum)
        out.fractional += p.fractional
        out.negative += p.negative
    if kind == "numeric":
        v = np.concatenate([p.sketch_values for p in parts])
        w = np.concatenate([p.sketch_weights for p in parts])
        order = np.argsort(v, kind="stable")
        out.sketch_values, out.sketch_weights = _thin(v[order], w[order], sketch)
    return out


def to_json(s: Summary) -> dict[str, Any]:
    """A JSON-safe form (a shard document's ``dataQuality`` entry)."""
    doc: dict[str, Any] = {"kind": s.kind, "present": s.present, "missing": s.missing, "strings": s.strings,
                           "counts": dict(s.counts)}
    if s.kind == "numeric" and s.present:
        doc.update(sum=s.total_sum, mean=s.mean, m2=s.m2, min=s.minimum, max=s.maximum, fractional=s.fractional,
                   negative=s.negative, sketch=[s.sketch_values.tolist(), s.sketch_weights.tolist()])
    return doc


def from_json(doc: Mapping[str, Any]) -> Summary:
    s = Summary(str(doc["kind"]), present=int(doc["present"]), missing=int(doc["missing"]),
                strings=int(doc.get("strings", 0)), counts=Counter({str(k): int(v) for k, v in doc["counts"].items()}))
    if s.kind == "numeric" and s.present:
        s.total_sum, s.mean, s.m2 = float(doc["sum"]), float(doc["mean"]), float(doc["m2"])
        s.minimum, s.maximum = float(doc["min"]), float(doc["max"])
        s.fractional, s.negative = int(doc["fractional"]), int(doc["negative"])
        s.sketch_values = np.asarray(doc["sketch"][0], dtype=np.float64)
        s.sketch_weights = np.asarray(doc["sketch"][1], dtype=np.float64)
    return s
