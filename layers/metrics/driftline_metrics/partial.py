"""Mergeable partial states: metrics over data that arrives in chunks or shards.

Each state holds sufficient statistics (counts, sums, fixed-edge histograms) of
the data it has seen. A Lambda computes a state per shard, ships it as JSON
(``to_dict``), and a reducer rebuilds (``from_dict``) and merges the states:

>>> import numpy as np
>>> a = ConfusionMatrixState(labels=[0, 1]).update([0, 1, 1], [0, 1, 0])
>>> b = ConfusionMatrixState.from_dict(
...     ConfusionMatrixState(labels=[0, 1]).update([1, 0], [1, 1]).to_dict())
>>> a.merge(b).result()["accuracy"]
0.6

Guarantees
----------
* **Counts and sums merge exactly.** Merging any split of the data, in any
  order, gives the same counts as one pass over the concatenated data
  (bit-for-bit when weights are integers; float sums agree up to rounding,
  ~1e-15 relative).
* **Same numbers as the reference.** ``result()`` of a
  :class:`ConfusionMatrixState` equals ``sklearn.metrics`` called with
  ``labels=labels`` on the concatenated data; :class:`RegressionState` equals
  ``sklearn.metrics``' MSE/RMSE/MAE/R2/MAPE. :class:`BinaryScoreState` gives
  ROC AUC and average precision of a fixed-resolution histogram, within an
  error bound it returns (``roc_auc_error_bound``, ``average_precision_error_bound``).
* **JSON-safe.** ``to_dict()`` holds only dicts, lists, str, int and finite
  float; ``from_dict(json.loads(json.dumps(state.to_dict())))`` round-trips
  exactly. Every dict carries ``kind`` and ``version``, checked on load;
  :func:`state_from_dict` rebuilds any state from its ``kind``.
* ``merge`` never mutates its operands and raises ``ValueError`` when the two
  states are incompatible (other labels, other bin edges or resolution).

Undefined metrics (0/0) are ``nan`` with an :class:`UndefinedMetricWarning`,
except where scikit-learn documents another value (precision/recall/F1 follow
``zero_division``; MCC is 0.0).

This module depends on numpy alone and computes everything from its own
counts; it does not call the other metric modules.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from driftline_metrics.exceptions import UndefinedMetricWarning

__all__ = [
    "BinaryScoreState",
    "CategoricalCountState",
    "ConfusionMatrixState",
    "HistogramState",
    "RegressionState",
    "merge_states",
    "state_from_dict",
]

_VERSION = 1
_EPS64 = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------- helpers


def _warn(msg: str) -> None:
    warnings.warn(msg, UndefinedMetricWarning, stacklevel=3)


def _json_scalar(value: Any, what: str) -> Any:
    """A label/category as a plain JSON scalar (str, int, bool or finite float)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be finite, got {value!r}.")
        return value
    raise ValueError(f"{what} must be a str, int, bool or float (JSON-safe), got {type(value).__name__} {value!r}.")


def _sort_key(value: Any) -> tuple[int, Any]:
    """Total order over mixed JSON scalars: numbers first, then strings."""
    return (1, value) if isinstance(value, str) else (0, value)


def _as_1d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array-like, got shape {arr.shape}.")
    return arr


def _as_float_1d(x: Any, name: str, *, allow_nan: bool = False) -> np.ndarray:
    arr = _as_1d(x, name)
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.") from exc
    arr = arr.astype(np.float64, copy=False)
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains {'infinity' if allow_nan else 'NaN or infinity'}; "
                         "values must be finite.")
    return arr


def _check_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = _as_float_1d(sample_weight, "sample_weight")
    if len(w) != n:
        raise ValueError(f"sample_weight has {len(w)} elements, expected {n} (one per sample).")
    if (w < 0).any():
        raise ValueError("sample_weight must be non-negative.")
    return w


def _check_header(data: Mapping[str, Any], kind: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"from_dict expects a mapping, got {type(data).__name__}.")
    if data.get("kind") != kind:
        raise ValueError(f"Expected a state of kind {kind!r}, got kind {data.get('kind')!r}.")
    if data.get("version") != _VERSION:
        raise ValueError(f"Unsupported {kind} version {data.get('version')!r}; this layer reads version "
                         f"{_VERSION}.")


def _floats(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values]


def _sparse(counts: np.ndarray) -> dict[str, list[Any]]:
    idx = np.flatnonzero(counts)
    return {"index": idx.tolist(), "count": _floats(counts[idx])}


def _dense(data: Mapping[str, Any], size: int, name: str) -> np.ndarray:
    idx = np.asarray(data["index"], dtype=np.int64)
    cnt = np.asarray(data["count"], dtype=np.float64)
    if idx.shape != cnt.shape or idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= size)):
        raise ValueError(f"Malformed sparse histogram {name!r}.")
    out = np.zeros(size, dtype=np.float64)
    out[idx] = cnt
    return out


class _State:
    """Base class: JSON header handling and merging of many states."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def merge(self, other: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_other(self, other: Any) -> None:
        if type(other) is not type(self):
            raise ValueError(f"Cannot merge {type(self).__name__} with {type(other).__name__}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()})"

    def _describe(self) -> str:
        return ""


# --------------------------------------------------------------------------- classification


def _prf_divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> tuple[np.ndarray, bool]:
    mask = den == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mask, zero_division, num / np.where(mask, 1.0, den))
    return out, bool(mask.any())


def _nanaverage(a: np.ndarray, weights: np.ndarray | None = None) -> float:
    """scikit-learn's ``_nanaverage``: NaNs ignored; all-zero weights fall back to a plain mean."""
    keep = ~np.isnan(a)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(np.mean(a[keep]))
    return float(np.average(a[keep], weights=weights[keep]))


class ConfusionMatrixState(_State):
    """Mergeable (weighted) confusion matrix for single-label classification.

    Parameters
    ----------
    labels : sequence of str, int or float
        The classes, in the order of the matrix rows (true) and columns
        (predicted). Fixed up front so that shards agree; a sample whose label
        is not listed raises ``ValueError`` (it is not silently dropped).

    Notes
    -----
    ``result()`` equals ``sklearn.metrics`` called on the concatenated data with
    ``labels=labels`` (so a listed class that never occurs counts in macro
    averages, as in scikit-learn). Counts are float64 weights; with integer
    (or no) weights they are exact integers and merge bit-for-bit.

    Examples
    --------
    >>> s = ConfusionMatrixState(labels=["cat", "dog"])
    >>> s.update(["cat", "dog", "dog"], ["cat", "cat", "dog"]).result()["confusion_matrix"]
    [[1.0, 0.0], [1.0, 1.0]]
    """

    KIND = "driftline.partial.confusion_matrix"

    def __init__(self, labels: Iterable[Any]) -> None:
        if isinstance(labels, str | bytes):
            raise ValueError("labels must be a sequence of labels, not a single string.")
        labs = [_json_scalar(v, "Each label") for v in np.asarray(list(labels), dtype=object)]
        if not labs:
            raise ValueError("labels must contain at least one label.")
        self._index = {lab: i for i, lab in enumerate(labs)}
        if len(self._index) != len(labs):
            raise ValueError(f"labels must be unique, got {labs!r}.")
        self.labels: list[Any] = labs
        k = len(labs)
        self.matrix: np.ndarray = np.zeros((k, k), dtype=np.float64)

    def _describe(self) -> str:
        return f"labels={self.labels!r}, n={self.matrix.sum():g}"

    def _encode(self, y: np.ndarray, name: str) -> np.ndarray:
        if y.size == 0:
            return np.zeros(0, dtype=np.intp)
        try:
            uniq, inv = np.unique(y, return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"{name} mixes label types that cannot be compared.") from exc
        codes = np.empty(len(uniq), dtype=np.intp)
        unknown = []
        for j, u in enumerate(uniq.tolist()):
            i = self._index.get(u) if not (isinstance(u, float) and math.isnan(u)) else None
            if i is None:
                unknown.append(u)
            else:
                codes[j] = i
        if unknown:
            raise ValueError(f"{name} contains labels not in labels={self.labels!r}: {unknown[:10]!r}.")
        return codes[inv.ravel()]

    def update(self, y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> ConfusionMatrixState:
        """Add a chunk of (true, predicted) labels; returns ``self``."""
        yt = _as_1d(y_true, "y_true")
        yp = _as_1d(y_pred, "y_pred")
        if len(yt) != len(yp):
            raise ValueError(f"y_true and y_pred have different lengths: {len(yt)} != {len(yp)}.")
        w = _check_weight(sample_weight, len(yt))
        k = len(self.labels)
        flat = self._encode(yt, "y_true") * k + self._encode(yp, "y_pred")
        self.matrix += np.bincount(flat, weights=w, minlength=k * k).reshape(k, k)
        return self

    def merge(self, other: ConfusionMatrixState) -> ConfusionMatrixState:
        """A new state holding the data of both; labels (and their order) must match."""
        self._check_other(other)
        if self.labels != other.labels or [type(v) for v in self.labels] != [type(v) for v in other.labels]:
            raise ValueError(f"Cannot merge confusion matrices with different labels: {self.labels!r} "
                             f"vs {other.labels!r}.")
        out = ConfusionMatrixState(self.labels)
        out.matrix = self.matrix + other.matrix
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation (see :meth:`from_dict`)."""
        return {"kind": self.KIND, "version": _VERSION, "labels": list(self.labels),
                "matrix": [_floats(row) for row in self.matrix]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfusionMatrixState:
        """Rebuild a state from :meth:`to_dict` output; validates kind, version and shape."""
        _check_header(data, cls.KIND)
        out = cls(data["labels"])
        m = np.asarray(data["matrix"], dtype=np.float64)
        if m.shape != out.matrix.shape or not np.isfinite(m).all() or (m < 0).any():
            raise ValueError(f"matrix must be a {out.matrix.shape} array of finite non-negative counts.")
        out.matrix = m
        return out

    def result(self, *, zero_division: str | float = "warn") -> dict[str, Any]:
        """Metrics of all the data seen.

        Parameters
        ----------
        zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
            Value of precision/recall/F1 when their denominator is 0, as in
            scikit-learn; "warn" means 0.0 plus an ``UndefinedMetricWarning``.

        Returns
        -------
        dict
            ``labels``, ``confusion_matrix`` (rows true, columns predicted),
            ``n_samples`` (total weight), ``support`` / ``precision`` /
            ``recall`` / ``f1`` per class (lists in label order),
            ``{precision,recall,f1}_{macro,weighted,micro}``, ``accuracy``,
            ``balanced_accuracy`` and ``matthews_corrcoef``.
        """
        if zero_division == "warn":
            zd, warn = 0.0, True
        elif isinstance(zero_division, int | float) and (zero_division in (0, 1) or math.isnan(zero_division)):
            zd, warn = float(zero_division), False
        else:
            raise ValueError(f'zero_division must be "warn", 0.0, 1.0 or nan, got {zero_division!r}.')
        C = self.matrix
        k = len(self.labels)
        total = float(C.sum())
        out: dict[str, Any] = {"labels": list(self.labels), "confusion_matrix": [_floats(r) for r in C],
                               "n_samples": total}
        true_sum = C.sum(axis=1)
        pred_sum = C.sum(axis=0)
        tp = np.diag(C).copy()
        out["support"] = _floats(true_sum)
        if total == 0:
            _warn("No samples in this state: every metric is undefined (nan).")
            nan = float("nan")
            for name in ("precision", "recall", "f1"):
                out[name] = [nan] * k
                for avg in ("macro", "weighted", "micro"):
                    out[f"{name}_{avg}"] = nan
            out.update(accuracy=nan, balanced_accuracy=nan, matthews_corrcoef=nan)
            return out

        def prf(tp_: np.ndarray, t_: np.ndarray, p_: np.ndarray, avg: str) -> tuple[np.ndarray, ...]:
            precision, p_bad = _prf_divide(tp_, p_, zd)
            recall, r_bad = _prf_divide(tp_, t_, zd)
            f1, f_bad = _prf_divide(2.0 * tp_, t_ + p_, zd)
            if warn:
                for bad, what, why in ((p_bad, "Precision", "predicted"), (r_bad, "Recall", "true"),
                                       (f_bad, "F-score", "true nor predicted")):
                    if bad:
                        _warn(f"{what} is ill-defined and being set to 0.0 ({avg}) in labels with no "
                              f"{why} samples. Use `zero_division` to control this behavior.")
            return precision, recall, f1

        p, r, f = prf(tp, true_sum, pred_sum, "per class")
        out["precision"], out["recall"], out["f1"] = _floats(p), _floats(r), _floats(f)
        for name, arr in (("precision", p), ("recall", r), ("f1", f)):
            out[f"{name}_macro"] = _nanaverage(arr)
            out[f"{name}_weighted"] = _nanaverage(arr, true_sum)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)  # micro sums are > 0 when total > 0
            mp, mr, mf = prf(tp.sum(keepdims=True), true_sum.sum(keepdims=True),
                             pred_sum.sum(keepdims=True), "micro")
        out["precision_micro"], out["recall_micro"], out["f1_micro"] = float(mp[0]), float(mr[0]), float(mf[0])
        out["accuracy"] = float(tp.sum() / total)

        present = true_sum > 0
        if (~present & (pred_sum > 0)).any():
            _warn("y_pred contains classes not in y_true")
        out["balanced_accuracy"] = float(np.mean(tp[present] / true_sum[present]))

        n_correct = float(tp.sum())
        cov_ytyp = n_correct * total - float(np.dot(true_sum, pred_sum))
        cov_ypyp = total**2 - float(np.dot(pred_sum, pred_sum))
        cov_ytyt = total**2 - float(np.dot(true_sum, true_sum))
        denom = cov_ypyp * cov_ytyt
        out["matthews_corrcoef"] = 0.0 if denom == 0 else float(cov_ytyp / np.sqrt(denom))
        return out


# --------------------------------------------------------------------------- regression


class RegressionState(_State):
    """Mergeable sums for MSE, RMSE, MAE, R2 and MAPE of a single target.

    Holds the number of samples, the total weight, the weighted mean of
    ``y_true`` and its weighted sum of squared deviations ``M2`` (not raw
    ``Σy`` and ``Σy²``, whose difference cancels catastrophically), and the
    weighted sums of ``err²``, ``|err|`` and ``|err| / max(|y|, eps)``
    (``eps`` = float64 machine epsilon, as scikit-learn's MAPE).

    Merging combines mean and ``M2`` with Chan et al.'s parallel update,
    ``M2 = M2_a + M2_b + δ² W_a W_b / W`` with ``δ = mean_b − mean_a``; R2 is
    ``1 − SSE / M2``, and 1.0 / 0.0 when ``M2 == 0`` exactly as
    scikit-learn's ``force_finite=True``.

    Examples
    --------
    >>> s = RegressionState().update([3.0, -0.5], [2.5, 0.0]).merge(
    ...     RegressionState().update([2.0, 7.0], [2.0, 8.0]))
    >>> round(s.result()["r2"], 6)
    0.948608
    """

    KIND = "driftline.partial.regression"
    _FIELDS = ("n", "weight", "mean", "m2", "sse", "sae", "sape")

    def __init__(self) -> None:
        self.n = 0
        self.weight = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.sse = 0.0
        self.sae = 0.0
        self.sape = 0.0

    def _describe(self) -> str:
        return f"n={self.n}"

    def update(self, y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> RegressionState:
        """Add a chunk of targets and predictions; returns ``self``."""
        yt = _as_float_1d(y_true, "y_true")
        yp = _as_float_1d(y_pred, "y_pred")
        if len(yt) != len(yp):
            raise ValueError(f"y_true and y_pred have different lengths: {len(yt)} != {len(yp)}.")
        w = _check_weight(sample_weight, len(yt))
        if len(yt) == 0:
            return self
        if w is None:
            w = np.ones_like(yt)
        chunk = RegressionState()
        chunk.n = len(yt)
        chunk.weight = float(w.sum())
        if chunk.weight > 0:
            chunk.mean = float(np.dot(w, yt) / chunk.weight)
            chunk.m2 = float(np.dot(w, (yt - chunk.mean) ** 2))
        err = yt - yp
        abs_err = np.abs(err)
        chunk.sse = float(np.dot(w, err * err))
        chunk.sae = float(np.dot(w, abs_err))
        chunk.sape = float(np.dot(w, abs_err / np.maximum(np.abs(yt), _EPS64)))
        self._absorb(chunk)
        return self

    def _absorb(self, b: RegressionState) -> None:
        wa, wb = self.weight, b.weight
        w = wa + wb
        if wb > 0:
            if wa == 0:
                self.mean, self.m2 = b.mean, b.m2
            else:
                delta = b.mean - self.mean
                self.mean = self.mean + delta * (wb / w)
                self.m2 = self.m2 + b.m2 + delta * delta * (wa * wb / w)
        self.n += b.n
        self.weight = w
        self.sse += b.sse
        self.sae += b.sae
        self.sape += b.sape

    def merge(self, other: RegressionState) -> RegressionState:
        """A new state holding the data of both."""
        self._check_other(other)
        out = RegressionState.from_dict(self.to_dict())
        out._absorb(other)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation (see :meth:`from_dict`)."""
        d: dict[str, Any] = {"kind": self.KIND, "version": _VERSION, "n": int(self.n)}
        d.update({f: float(getattr(self, f)) for f in self._FIELDS[1:]})
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegressionState:
        """Rebuild a state from :meth:`to_dict` output; validates kind and version."""
        _check_header(data, cls.KIND)
        out = cls()
        out.n = int(data["n"])
        for f in cls._FIELDS[1:]:
            v = float(data[f])
            if not math.isfinite(v):
                raise ValueError(f"Field {f!r} must be finite, got {v!r}.")
            setattr(out, f, v)
        if out.n < 0 or out.weight < 0 or out.m2 < 0:
            raise ValueError("n, weight and m2 must be non-negative.")
        return out

    def result(self) -> dict[str, Any]:
        """``n_samples``, ``weight``, ``mse``, ``rmse``, ``mae``, ``r2``, ``mape`` (floats).

        Equal to ``sklearn.metrics`` on the concatenated data. With no data
        (or zero total weight) every metric is nan with an
        ``UndefinedMetricWarning``; R2 is nan with a warning for fewer than
        two samples, as in scikit-learn.
        """
        out: dict[str, Any] = {"n_samples": int(self.n), "weight": float(self.weight)}
        nan = float("nan")
        if self.weight == 0:
            _warn("No samples (or zero total weight) in this state: metrics are undefined (nan).")
            out.update(mse=nan, rmse=nan, mae=nan, r2=nan, mape=nan)
            return out
        mse = self.sse / self.weight
        out.update(mse=mse, rmse=math.sqrt(mse), mae=self.sae / self.weight, mape=self.sape / self.weight)
        if self.n < 2:
            _warn("R^2 score is not well-defined with less than two samples.")
            out["r2"] = nan
        elif self.m2 == 0:
            out["r2"] = 1.0 if self.sse == 0 else 0.0
        else:
            out["r2"] = 1.0 - self.sse / self.m2
        return out


# --------------------------------------------------------------------------- binary scores


class BinaryScoreState(_State):
    """Mergeable per-class histograms of binary scores in [0, 1] for ROC AUC and AP.

    A score ``s`` falls in bin ``min(floor(s * resolution), resolution - 1)``;
    every bin is width ``h = 1 / resolution``. Also keeps exact sums for the
    Brier score and the log loss.

    Parameters
    ----------
    resolution : int, default=2**14
        Number of bins (1 .. 2**24).
    pos_label : str, int or float, default=1
        Samples with ``y_true == pos_label`` are positive, all others negative.

    Notes
    -----
    **Error bound for ROC AUC.** The histogram AUC counts a positive–negative
    pair as 1 if the positive is in a higher bin, 0 if lower, and 1/2 if both
    fall in the same bin. Because the bin index is monotone in the score, pairs
    in different bins are ordered exactly as by the scores; only same-bin
    pairs can differ from the exact AUC (where they count 1, 0 or 1/2), by at
    most 1/2 each. Hence

        |AUC_hist − AUC_exact| ≤ ½ · Σ_b P_b N_b / (P · N) = roc_auc_error_bound

    with ``P_b``, ``N_b`` the positive / negative weight in bin ``b``. The
    looser "fraction of same-bin pairs" ``Σ_b P_b N_b / (P N)`` is returned
    as ``same_bin_pair_fraction``. For continuous scores it shrinks like ``h``.

    **Error bound for average precision.** AP is a positive-weighted mean of
    the precision at each positive's threshold. For a positive in bin ``b``,
    with ``T``, ``F`` the positive / negative weight in higher bins, both the
    exact and the histogram precision lie in ``[T/(T+F+N_b), (T+P_b)/(T+F+P_b)]``,
    so ``|AP_hist − AP_exact| ≤ Σ_b (P_b/P)·(upper_b − lower_b)``
    (``average_precision_error_bound``).

    Examples
    --------
    >>> s = BinaryScoreState(resolution=100).update([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> s.result()["roc_auc"]
    0.75
    """

    KIND = "driftline.partial.binary_score"
    _MAX_RESOLUTION = 1 << 24

    def __init__(self, *, resolution: int = 1 << 14, pos_label: Any = 1) -> None:
        if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
            raise ValueError(f"resolution must be an int, got {resolution!r}.")
        if not 1 <= int(resolution) <= self._MAX_RESOLUTION:
            raise ValueError(f"resolution must be in [1, {self._MAX_RESOLUTION}], got {resolution}.")
        self.resolution = int(resolution)
        self.pos_label = _json_scalar(pos_label, "pos_label")
        self.pos: np.ndarray = np.zeros(self.resolution, dtype=np.float64)
        self.neg: np.ndarray = np.zeros(self.resolution, dtype=np.float64)
        self.n = 0
        self.sum_brier = 0.0
        self.sum_log_loss = 0.0

    def _describe(self) -> str:
        return f"resolution={self.resolution}, pos_label={self.pos_label!r}, n={self.n}"

    def update(self, y_true: Any, y_score: Any, *, sample_weight: Any = None) -> BinaryScoreState:
        """Add a chunk of labels and scores (probabilities of the positive class); returns ``self``."""
        yt = _as_1d(y_true, "y_true")
        s = _as_float_1d(y_score, "y_score")
        if len(yt) != len(s):
            raise ValueError(f"y_true and y_score have different lengths: {len(yt)} != {len(s)}.")
        if s.size and (s.min() < 0.0 or s.max() > 1.0):
            raise ValueError(f"y_score must lie in [0, 1]; got values in [{s.min()!r}, {s.max()!r}].")
        w = _check_weight(sample_weight, len(yt))
        if yt.dtype.kind == "f" and np.isnan(yt).any():
            raise ValueError("y_true contains NaN.")
        is_pos = yt == self.pos_label
        if not isinstance(is_pos, np.ndarray):  # comparison of incompatible types
            raise ValueError(f"y_true cannot be compared with pos_label={self.pos_label!r}.")
        idx = np.minimum((s * self.resolution).astype(np.int64), self.resolution - 1)
        R = self.resolution
        self.pos += np.bincount(idx[is_pos], weights=None if w is None else w[is_pos], minlength=R)
        self.neg += np.bincount(idx[~is_pos], weights=None if w is None else w[~is_pos], minlength=R)
        y01 = is_pos.astype(np.float64)
        ww = np.ones_like(s) if w is None else w
        self.sum_brier += float(np.dot(ww, (y01 - s) ** 2))
        # scikit-learn's log_loss: columns [1 - p, p], each clipped to [eps, 1 - eps]
        p_true = np.where(is_pos, s, 1.0 - s)
        self.sum_log_loss += float(np.dot(ww, -np.log(np.clip(p_true, _EPS64, 1.0 - _EPS64))))
        self.n += len(yt)
        return self

    def merge(self, other: BinaryScoreState) -> BinaryScoreState:
        """A new state holding the data of both; resolution and pos_label must match."""
        self._check_other(other)
        if self.resolution != other.resolution:
            raise ValueError(f"Cannot merge score histograms of different resolution: {self.resolution} "
                             f"vs {other.resolution}.")
        if self.pos_label != other.pos_label or type(self.pos_label) is not type(other.pos_label):
            raise ValueError(f"Cannot merge score states with different pos_label: {self.pos_label!r} vs "
                             f"{other.pos_label!r}.")
        out = BinaryScoreState(resolution=self.resolution, pos_label=self.pos_label)
        out.pos = self.pos + other.pos
        out.neg = self.neg + other.neg
        out.n = self.n + other.n
        out.sum_brier = self.sum_brier + other.sum_brier
        out.sum_log_loss = self.sum_log_loss + other.sum_log_loss
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation; histograms are stored sparsely (non-empty bins only)."""
        return {"kind": self.KIND, "version": _VERSION, "resolution": self.resolution,
                "pos_label": self.pos_label, "n": int(self.n), "sum_brier": float(self.sum_brier),
                "sum_log_loss": float(self.sum_log_loss), "pos": _sparse(self.pos), "neg": _sparse(self.neg)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinaryScoreState:
        """Rebuild a state from :meth:`to_dict` output; validates kind, version and bins."""
        _check_header(data, cls.KIND)
        out = cls(resolution=data["resolution"], pos_label=data["pos_label"])
        out.pos = _dense(data["pos"], out.resolution, "pos")
        out.neg = _dense(data["neg"], out.resolution, "neg")
        out.n = int(data["n"])
        out.sum_brier = float(data["sum_brier"])
        out.sum_log_loss = float(data["sum_log_loss"])
        return out

    def result(self) -> dict[str, Any]:
        """ROC AUC, average precision (with error bounds), Brier score, log loss and class weights.

        Returns
        -------
        dict
            ``n_samples``, ``n_positive`` / ``n_negative`` (weights),
            ``roc_auc``, ``roc_auc_error_bound``, ``same_bin_pair_fraction``,
            ``average_precision``, ``average_precision_error_bound``,
            ``brier_score`` and ``log_loss`` (exact, as scikit-learn's). AUC is
            nan with an ``UndefinedMetricWarning`` when a class is absent
            (scikit-learn raises); AP likewise without positives.
        """
        P, N = float(self.pos.sum()), float(self.neg.sum())
        W = P + N
        nan = float("nan")
        out: dict[str, Any] = {"resolution": self.resolution, "n_samples": int(self.n),
                               "n_positive": P, "n_negative": N}
        out["brier_score"] = self.sum_brier / W if W > 0 else nan
        out["log_loss"] = self.sum_log_loss / W if W > 0 else nan
        if P == 0 or N == 0:
            _warn("Only one class present in the scores state: ROC AUC is undefined (nan).")
            out.update(roc_auc=nan, roc_auc_error_bound=nan, same_bin_pair_fraction=nan)
        else:
            neg_below = np.cumsum(self.neg) - self.neg
            same = float(np.dot(self.pos, self.neg)) / (P * N)
            out["roc_auc"] = float((np.dot(self.pos, neg_below) + 0.5 * np.dot(self.pos, self.neg)) / (P * N))
            out["same_bin_pair_fraction"] = same
            out["roc_auc_error_bound"] = 0.5 * same
        if P == 0:
            if N > 0:
                _warn("No positive samples: average precision is undefined (nan).")
            out.update(average_precision=nan, average_precision_error_bound=nan)
            return out
        pos_d, neg_d = self.pos[::-1], self.neg[::-1]
        tp, fp = np.cumsum(pos_d), np.cumsum(neg_d)
        T, F = tp - pos_d, fp - neg_d  # weight in strictly higher bins
        has = pos_d > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = tp[has] / (tp[has] + fp[has])
            upper = tp[has] / (tp[has] + F[has])
            low_den = T[has] + F[has] + neg_d[has]
            lower = np.where(low_den > 0, T[has] / np.where(low_den > 0, low_den, 1.0), 1.0)
        weight = pos_d[has] / P
        out["average_precision"] = float(np.dot(weight, precision))
        out["average_precision_error_bound"] = float(np.dot(weight, upper - lower))
        return out


# --------------------------------------------------------------------------- drift histograms


def _distances(ref: np.ndarray, cur: np.ndarray, psi_epsilon: float) -> dict[str, Any]:
    """Distances between two count vectors over the same bins (see :meth:`HistogramState.compare`)."""
    nan = float("nan")
    n_ref, n_cur = float(ref.sum()), float(cur.sum())
    out: dict[str, Any] = {"n_reference": n_ref, "n_current": n_cur}
    if n_ref == 0 or n_cur == 0:
        _warn("A distribution with no (non-missing) values: drift distances are undefined (nan).")
        out.update(psi=nan, jensen_shannon=nan, hellinger=nan, total_variation=nan, linf=nan,
                   ks_binned=nan, chi2=nan, chi2_dof=0)
        return out
    p, q = ref / n_ref, cur / n_cur
    ps, qs = np.maximum(p, psi_epsilon), np.maximum(q, psi_epsilon)
    out["psi"] = float(np.sum((qs - ps) * np.log(qs / ps)))
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_qm = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    js = max(0.5 * (kl_pm + kl_qm) / math.log(2.0), 0.0)
    out["jensen_shannon"] = math.sqrt(js)
    out["hellinger"] = float(math.sqrt(max(0.5 * float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)), 0.0)))
    diff = p - q
    out["total_variation"] = float(0.5 * np.abs(diff).sum())
    out["linf"] = float(np.abs(diff).max())
    out["ks_binned"] = float(np.abs(np.cumsum(diff)).max())
    keep = (ref + cur) > 0
    obs = np.vstack([ref[keep], cur[keep]])
    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    out["chi2"] = float(np.sum((obs - expected) ** 2 / expected))
    out["chi2_dof"] = int(max(int(keep.sum()) - 1, 0))
    return out


_COMPARE_DOC = """
        Returns
        -------
        dict
            With ``p`` the reference's and ``q`` this state's bin proportions
            (missing values excluded; their fractions are reported apart):

            - ``psi`` = Σ (q̃ − p̃) ln(q̃ / p̃) with ``p̃ = max(p, psi_epsilon)``,
              ``q̃ = max(q, psi_epsilon)``: empty bins are floored at
              ``psi_epsilon`` (default 1e-4), not renormalised;
            - ``jensen_shannon``: Jensen–Shannon *distance*, base 2 (in [0, 1]),
              as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``;
            - ``hellinger`` = sqrt(½ Σ (√p − √q)²) (in [0, 1]);
            - ``total_variation`` = ½ Σ |p − q|; ``linf`` = max |p − q|;
              ``ks_binned`` = max |CDF_p − CDF_q| over the bin boundaries
              (numeric histograms only);
            - ``chi2``: Pearson chi-square statistic of homogeneity of the 2×k
              table of counts (bins empty in both dropped), as
              ``scipy.stats.chi2_contingency(..., correction=False)``, and its
              degrees of freedom ``chi2_dof``;
            - ``n_reference`` / ``n_current`` and ``missing_fraction_reference``
              / ``missing_fraction_current``.
"""


class HistogramState(_State):
    """Mergeable fixed-edge histogram of one numeric feature, for drift.

    Parameters
    ----------
    edges : array-like of float
        Strictly increasing finite edges ``e_0 < … < e_{m-1}`` (usually from
        the baseline, see :meth:`from_reference`). They define ``m + 1`` bins:
        ``(-inf, e_0)``, ``[e_{i-1}, e_i)`` and ``[e_{m-1}, +inf)`` — the outer
        bins are open-ended, so no value is ever out of range. NaN (and
        ``None``) values are counted apart as missing.

    Examples
    --------
    >>> ref = HistogramState.from_reference(np.arange(1000.0), bins=4)
    >>> ref.edges.tolist()
    [249.75, 499.5, 749.25]
    >>> cur = HistogramState(edges=ref.edges).update(np.arange(500.0, 1500.0))
    >>> round(cur.compare(ref)["total_variation"], 3)
    0.5
    """

    KIND = "driftline.partial.histogram"

    def __init__(self, edges: Any) -> None:
        e = _as_float_1d(edges, "edges")
        if e.size == 0:
            raise ValueError("edges must hold at least one edge.")
        if e.size > 1 and not (np.diff(e) > 0).all():
            raise ValueError("edges must be strictly increasing.")
        self.edges = e.copy()
        self.counts: np.ndarray = np.zeros(e.size + 1, dtype=np.int64)
        self.missing = 0

    def _describe(self) -> str:
        return f"{self.edges.size + 1} bins, n={int(self.counts.sum())}, missing={self.missing}"

    @classmethod
    def from_reference(cls, values: Any, *, bins: int = 10) -> HistogramState:
        """A state whose edges are the reference's interior quantiles, holding the reference's counts.

        Edges are ``np.quantile(values, [1/bins, …, (bins-1)/bins])`` (linear
        interpolation), duplicates removed (ties in discrete data can give
        fewer bins); with the open outer bins this gives up to ``bins``
        equal-mass bins. NaN values are ignored for the edges and counted as
        missing.
        """
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
            raise ValueError(f"bins must be an int >= 2, got {bins!r}.")
        v = _as_float_1d(values, "values", allow_nan=True)
        finite = v[~np.isnan(v)]
        if finite.size == 0:
            raise ValueError("values has no non-missing value to take quantiles of.")
        edges = np.unique(np.quantile(finite, np.arange(1, bins) / bins))
        return cls(edges).update(v)

    def update(self, values: Any) -> HistogramState:
        """Add a chunk of values (NaN / None count as missing; ±inf fall in the outer bins)."""
        v = _as_1d(values, "values")
        if v.dtype == object:
            v = np.array([np.nan if x is None else x for x in v.tolist()], dtype=np.float64)
        v = _as_float_1d(v, "values", allow_nan=True) if v.dtype.kind != "f" else v.astype(np.float64)
        nan = np.isnan(v)
        self.missing += int(nan.sum())
        idx = np.searchsorted(self.edges, v[~nan], side="right")
        self.counts += np.bincount(idx, minlength=self.counts.size)
        return self

    def merge(self, other: HistogramState) -> HistogramState:
        """A new state holding the data of both; the edges must be identical."""
        self._check_other(other)
        if self.edges.shape != other.edges.shape or not np.array_equal(self.edges, other.edges):
            raise ValueError("Cannot merge histograms with different bin edges "
                             f"({self.edges.size} vs {other.edges.size} edges).")
        out = HistogramState(self.edges)
        out.counts = self.counts + other.counts
        out.missing = self.missing + other.missing
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation (see :meth:`from_dict`)."""
        return {"kind": self.KIND, "version": _VERSION, "edges": _floats(self.edges),
                "counts": [int(c) for c in self.counts], "missing": int(self.missing)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistogramState:
        """Rebuild a state from :meth:`to_dict` output; validates kind, version and shape."""
        _check_header(data, cls.KIND)
        out = cls(data["edges"])
        counts = np.asarray(data["counts"], dtype=np.int64)
        if counts.shape != out.counts.shape or (counts < 0).any() or int(data["missing"]) < 0:
            raise ValueError(f"counts must hold {out.counts.size} non-negative integers.")
        out.counts = counts
        out.missing = int(data["missing"])
        return out

    def result(self) -> dict[str, Any]:
        """``edges``, ``counts``, ``proportions`` (of non-missing values), ``n``, ``n_missing``,
        ``missing_fraction``."""
        n = int(self.counts.sum())
        total = n + self.missing
        nan = float("nan")
        return {"edges": _floats(self.edges), "counts": [int(c) for c in self.counts],
                "proportions": _floats(self.counts / n) if n else [nan] * self.counts.size,
                "n": n, "n_missing": int(self.missing),
                "missing_fraction": self.missing / total if total else nan}

    def compare(self, reference: HistogramState, *, psi_epsilon: float = 1e-4) -> dict[str, Any]:
        """Drift of this state (current data) against ``reference`` (baseline), same edges required.
        """
        if not isinstance(reference, HistogramState):
            raise ValueError(f"reference must be a HistogramState, got {type(reference).__name__}.")
        if not np.array_equal(self.edges, reference.edges):
            raise ValueError("Cannot compare histograms with different bin edges.")
        if not psi_epsilon > 0:
            raise ValueError(f"psi_epsilon must be > 0, got {psi_epsilon!r}.")
        out = _distances(reference.counts.astype(np.float64), self.counts.astype(np.float64), psi_epsilon)
        out["missing_fraction_reference"] = reference.result()["missing_fraction"]
        out["missing_fraction_current"] = self.result()["missing_fraction"]
        return out


HistogramState.compare.__doc__ = (HistogramState.compare.__doc__ or "") + _COMPARE_DOC


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


class CategoricalCountState(_State):
    """Mergeable category counts of one categorical feature, for drift.

    Categories are JSON scalars (str, int, bool, float); the set is open:
    merging takes the union. ``None`` and NaN are counted apart as missing.

    Examples
    --------
    >>> ref = CategoricalCountState().update(["a", "a", "b", None])
    >>> cur = CategoricalCountState().update(["a", "b", "b", "c"])
    >>> ref.result()["counts"]
    {'a': 2, 'b': 1}
    >>> round(cur.compare(ref)["linf"], 4)
    0.4167
    """

    KIND = "driftline.partial.categorical"

    def __init__(self) -> None:
        self.counts: Counter[Any] = Counter()
        self.missing = 0

    def _describe(self) -> str:
        return f"{len(self.counts)} categories, missing={self.missing}"

    def update(self, values: Any) -> CategoricalCountState:
        """Add a chunk of category values; returns ``self``."""
        v = _as_1d(values, "values")
        if v.dtype.kind in "USbiu":
            uniq, cnt = np.unique(v, return_counts=True)
            items: Iterable[tuple[Any, int]] = zip(uniq.tolist(), cnt.tolist(), strict=True)
        elif v.dtype.kind == "f":
            nan = np.isnan(v)
            self.missing += int(nan.sum())
            uniq, cnt = np.unique(v[~nan], return_counts=True)
            items = zip(uniq.tolist(), cnt.tolist(), strict=True)
        else:
            vals = v.tolist()
            present = [x for x in vals if not _is_missing(x)]
            self.missing += len(vals) - len(present)
            items = Counter(present).items()
        for key, c in items:
            self.counts[_json_scalar(key, "Each category")] += int(c)
        return self

    def merge(self, other: CategoricalCountState) -> CategoricalCountState:
        """A new state holding the data of both (union of categories)."""
        self._check_other(other)
        out = CategoricalCountState()
        out.counts = self.counts + other.counts
        out.missing = self.missing + other.missing
        return out

    def _sorted(self) -> list[Any]:
        return sorted(self.counts, key=_sort_key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation: ``[category, count]`` pairs in a canonical order."""
        return {"kind": self.KIND, "version": _VERSION,
                "counts": [[k, int(self.counts[k])] for k in self._sorted()], "missing": int(self.missing)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalCountState:
        """Rebuild a state from :meth:`to_dict` output; validates kind and version."""
        _check_header(data, cls.KIND)
        out = cls()
        for key, c in data["counts"]:
            if int(c) < 0:
                raise ValueError("category counts must be non-negative.")
            out.counts[_json_scalar(key, "Each category")] += int(c)
        out.missing = int(data["missing"])
        return out

    def result(self) -> dict[str, Any]:
        """``counts`` and ``proportions`` (dicts keyed by category), ``n``, ``n_missing``, ``missing_fraction``.

        JSON object keys are strings: use :meth:`to_dict` to keep non-string
        categories' types.
        """
        n = sum(self.counts.values())
        total = n + self.missing
        keys = self._sorted()
        return {"counts": {k: int(self.counts[k]) for k in keys},
                "proportions": {k: self.counts[k] / n for k in keys} if n else {},
                "n": int(n), "n_missing": int(self.missing),
                "missing_fraction": self.missing / total if total else float("nan")}

    def compare(self, reference: CategoricalCountState, *, psi_epsilon: float = 1e-4) -> dict[str, Any]:
        """Drift of this state (current) against ``reference`` over the union of categories.
        """
        if not isinstance(reference, CategoricalCountState):
            raise ValueError(f"reference must be a CategoricalCountState, got {type(reference).__name__}.")
        if not psi_epsilon > 0:
            raise ValueError(f"psi_epsilon must be > 0, got {psi_epsilon!r}.")
        keys = sorted(set(self.counts) | set(reference.counts), key=_sort_key)
        ref = np.array([reference.counts[k] for k in keys], dtype=np.float64)
        cur = np.array([self.counts[k] for k in keys], dtype=np.float64)
        out = _distances(ref, cur, psi_epsilon)
        del out["ks_binned"]  # categories have no order: a CDF distance would be arbitrary
        out["missing_fraction_reference"] = reference.result()["missing_fraction"]
        out["missing_fraction_current"] = self.result()["missing_fraction"]
        return out


CategoricalCountState.compare.__doc__ = (CategoricalCountState.compare.__doc__ or "") + _COMPARE_DOC


# --------------------------------------------------------------------------- dispatch

_KINDS: dict[str, type[_State]] = {
    c.KIND: c
    for c in (ConfusionMatrixState, RegressionState, BinaryScoreState, HistogramState, CategoricalCountState)
}


def state_from_dict(data: Mapping[str, Any]) -> Any:
    """Rebuild any partial state from its ``to_dict()`` output, dispatching on ``kind``.

    >>> s = state_from_dict(RegressionState().update([1.0, 2.0], [1.0, 3.0]).to_dict())
    >>> s.result()["mae"]
    0.5
    """
    if not isinstance(data, Mapping) or data.get("kind") not in _KINDS:
        got = data.get("kind") if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(f"Unknown partial state kind {got!r}; expected one of {sorted(_KINDS)}.")
    return _KINDS[data["kind"]].from_dict(data)  # type: ignore[attr-defined]


def merge_states(states: Iterable[Any]) -> Any:
    """Merge many states (or their dicts) of one kind into one.

    >>> parts = [ConfusionMatrixState(labels=[0, 1]).update([0, 1], [0, i % 2]) for i in range(3)]
    >>> merge_states(p.to_dict() for p in parts).result()["accuracy"]
    0.6666666666666666
    """
    it = iter(states)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("merge_states needs at least one state.") from None
    acc = state_from_dict(first) if isinstance(first, Mapping) else first
    for s in it:
        acc = acc.merge(state_from_dict(s) if isinstance(s, Mapping) else s)
    return acc
