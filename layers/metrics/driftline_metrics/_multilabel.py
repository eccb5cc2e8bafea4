"""Target types and multilabel-indicator support, as scikit-learn (numpy only).

The metrics' fast paths take 1-D label vectors without calling anything here; this module is reached
only when an input is not a plain 1-D label vector (a 2-D indicator matrix, a multioutput target, a
continuous target, an unknown object array): it names the target type as scikit-learn's
``type_of_target`` does, raises scikit-learn's messages for unsupported mixes, and computes the
multilabel-indicator variants (subset accuracy, per-label and per-sample counts, per-label ranking
scores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "average_binary_score",
    "check_multilabel_pair",
    "indicator_proba",
    "is_multilabel",
    "multilabel_counts",
    "multilabel_ranking",
    "pair_type",
    "raise_for_pair",
    "target_type",
]

_LEGACY = (
    "You appear to be using a legacy multi-label data representation. Sequence of sequences are no "
    "longer supported; use a binary array or sparse matrix instead - the MultiLabelBinarizer "
    "transformer can convert to this format."
)
_BYTES = "Support for labels represented as bytes is not supported. Convert the labels to a string or integer format."


def _as_array(y: Any) -> np.ndarray:
    if isinstance(y, np.ndarray):
        return y
    if hasattr(y, "toarray") and hasattr(y, "nnz"):
        # a sparse indicator matrix (scikit-learn's own helpers such as classification_report pass
        # CSR matrices): densified, the layer itself never imports scipy.sparse
        return np.asarray(y.toarray())
    try:
        return np.asarray(y)
    except ValueError:  # ragged nested sequences
        return np.asarray(y, dtype=object)


def finite_message(arr: np.ndarray, input_name: str = "") -> str:
    """scikit-learn's message for a non-finite float input."""
    what = "NaN" if np.isnan(arr).any() else f"infinity or a value too large for {arr.dtype!r}"
    return f"Input {input_name} contains {what}." if input_name else f"Input contains {what}."


def is_multilabel(y: Any) -> bool:
    """True for a 2-D array with more than one column holding at most two values (one of them 0)."""
    arr = _as_array(y)
    if arr.ndim != 2 or arr.shape[1] <= 1:
        return False
    if arr.dtype.kind in "fiub":
        vals = np.unique(arr)
        return len(vals) < 3 and (arr.dtype.kind in "biu" or bool(np.all(vals == vals.astype(int))))
    return False


def target_type(y: Any, input_name: str = "") -> str:
    """scikit-learn's ``type_of_target`` for numpy inputs: 'binary', 'multiclass', 'continuous',
    'multilabel-indicator', the '-multioutput' variants or 'unknown'."""
    if isinstance(y, str) or not (isinstance(y, Sequence) or hasattr(y, "__array__")):
        raise ValueError(f"Expected array-like (array or non-string sequence), got {y!r}")
    if is_multilabel(y):
        return "multilabel-indicator"
    arr = _as_array(y)
    if arr.ndim > 0 and arr.shape[0] > 0:
        first = arr[0]
        if isinstance(first, bytes):
            raise TypeError(_BYTES)
        if not hasattr(first, "__array__") and isinstance(first, Sequence) and not isinstance(first, str):
            raise ValueError(_LEGACY)
    if arr.ndim not in (1, 2):
        return "unknown"
    if not min(arr.shape):
        return "binary" if arr.ndim == 1 else "unknown"
    if arr.dtype == object and not isinstance(arr.flat[0], str):
        return "unknown"
    suffix = "-multioutput" if arr.ndim == 2 and arr.shape[1] > 1 else ""
    if arr.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            integral = arr.astype(np.int64).astype(arr.dtype)
        if np.any(arr != integral):
            if not np.isfinite(arr).all():
                raise ValueError(finite_message(arr, input_name))
            return "continuous" + suffix
    first_row = arr[0]
    if len(np.unique(arr)) > 2 or (arr.ndim == 2 and len(first_row) > 1):
        return "multiclass" + suffix
    return "binary"


def pair_type(y_true: Any, y_pred: Any) -> str:
    """The target type of a pair as scikit-learn's ``_check_targets``: 'binary', 'multiclass' or
    'multilabel-indicator'; scikit-learn's ``ValueError`` for a mix or an unsupported type."""
    type_true = target_type(y_true, "y_true")
    type_pred = target_type(y_pred, "y_pred")
    types = {type_true, type_pred}
    if types == {"binary", "multiclass"}:
        types = {"multiclass"}
    if len(types) > 1:
        raise ValueError(f"Classification metrics can't handle a mix of {type_true} and {type_pred} targets")
    kind = types.pop()
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(f"{kind} is not supported")
    if kind == "multilabel-indicator" and _as_array(y_true).shape[1] != _as_array(y_pred).shape[1]:
        raise ValueError("Multi-label binary indicator input with different numbers of labels")
    return kind


def _check_lengths(*arrays: Any) -> None:
    lengths = [len(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")


def raise_for_pair(y_true: Any, y_pred: Any, sample_weight: Any = None, supported: str = "") -> None:
    """Raise scikit-learn's error for a pair the 1-D label path rejected (a continuous or unknown
    target, a mix of types, a multioutput target; a multilabel pair when ``supported`` does not
    name it). Returns when scikit-learn would accept the pair (the caller then raises its own)."""
    _check_lengths(_as_array(y_true), _as_array(y_pred), sample_weight)
    kind = pair_type(y_true, y_pred)
    if kind == "multilabel-indicator" and kind not in supported:
        raise ValueError(f"{kind} is not supported")


def check_multilabel_pair(
    y_true: Any, y_pred: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """``(y_true, y_pred, sample_weight)`` as indicator matrices when either input is 2-D with more
    than one column, validated as scikit-learn; None for every other input (left to the 1-D path)."""
    yt, yp = _as_array(y_true), _as_array(y_pred)
    if not ((yt.ndim == 2 and yt.shape[1] > 1) or (yp.ndim == 2 and yp.shape[1] > 1)):
        return None
    from ._validation import check_sample_weight

    _check_lengths(yt, yp, sample_weight)
    kind = pair_type(yt, yp)
    if kind != "multilabel-indicator":  # pragma: no cover - a 2-D pair is multilabel or raised above
        return None
    if yt.shape[0] == 0:
        raise ValueError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample is required."
        )
    sw = check_sample_weight(sample_weight, yt.shape[0], allow_all_zero=True)
    return yt != 0, yp != 0, sw


def subset_accuracy(yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None, normalize: bool) -> float:
    """scikit-learn's multilabel accuracy: the (weighted) share of rows predicted exactly."""
    correct = ~np.any(yt != yp, axis=1)
    if not normalize:
        return float(correct.sum() if sw is None else np.dot(correct, sw))
    if sw is None:
        return float(np.mean(correct))
    return float(np.average(correct, weights=sw))


def multilabel_counts(
    yt: np.ndarray, yp: np.ndarray, sw: np.ndarray | None, labels: Any, samplewise: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp_sum, pred_sum, true_sum) per label (or per sample with ``samplewise``), as scikit-learn's
    ``multilabel_confusion_matrix`` for indicator matrices."""
    n_labels = yt.shape[1]
    if labels is not None:
        lab = np.asarray(labels)
        if lab.size:
            if np.max(lab) > n_labels - 1:
                raise ValueError(
                    f"All labels must be in [0, n labels) for multilabel targets. Got {np.max(lab)} > {n_labels - 1}"
                )
            if np.min(lab) < 0:
                raise ValueError(
                    f"All labels must be in [0, n labels) for multilabel targets. Got {np.min(lab)} < 0"
                )
        yt, yp = yt[:, lab], yp[:, lab]
    axis = 1 if samplewise else 0
    both = yt & yp
    if sw is None:
        return both.sum(axis=axis), yp.sum(axis=axis), yt.sum(axis=axis)
    if samplewise:
        return both.sum(axis=1) * sw, yp.sum(axis=1) * sw, yt.sum(axis=1) * sw
    w = sw.astype(np.float64)
    return w @ both, w @ yp, w @ yt


def average_binary_score(
    binary_metric: Callable[..., float],
    y_true: np.ndarray,
    y_score: np.ndarray,
    average: Any,
    sample_weight: np.ndarray | None,
) -> Any:
    """scikit-learn's ``_average_binary_score`` for a multilabel indicator ``y_true``: the binary
    metric per label (or per sample for 'samples', on the raveled matrices for 'micro'), averaged."""
    if average not in (None, "micro", "macro", "weighted", "samples"):
        raise ValueError("average has to be one of (None, 'micro', 'macro', 'weighted', 'samples')")
    _check_lengths(y_true, y_score, sample_weight)
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true and y_score have different shapes: {y_true.shape} != {y_score.shape}")
    axis = 1
    score_weight = sample_weight
    average_weight = None
    if average == "micro":
        if score_weight is not None:
            score_weight = np.repeat(score_weight, y_true.shape[1])
        y_true, y_score = y_true.ravel()[:, None], y_score.ravel()[:, None]
    elif average == "weighted":
        if score_weight is not None:
            average_weight = np.sum(y_true * np.reshape(score_weight, (-1, 1)), axis=0)
        else:
            average_weight = np.sum(y_true, axis=0)
        if np.isclose(np.sum(average_weight), 0):
            return 0
    elif average == "samples":
        average_weight, score_weight, axis = score_weight, None, 0
    n = y_score.shape[axis]
    score = np.zeros(n)
    for c in range(n):
        yc = np.take(y_true, c, axis=axis)
        sc = np.take(y_score, c, axis=axis)
        score[c] = binary_metric(yc, sc, sample_weight=score_weight)
    if average is None:
        return score
    if average_weight is not None:
        score[average_weight == 0] = 0
    return float(np.average(score, weights=average_weight))


def multilabel_ranking(
    binary_metric: Callable[..., float],
    y_true: Any,
    y_score: Any,
    average: Any,
    sample_weight: Any,
    pos_label: Any = 1,
    what: str = "",
) -> tuple[np.ndarray | None, Any]:
    """``(labels, None)`` for a 1-D ``y_true`` (its label array); ``(None, score)`` for a 2-D one: the
    ranking metric ``binary_metric(y, s, sample_weight=...)`` per label for multilabel-indicator
    targets, averaged as scikit-learn; scikit-learn's error for any other 2-D target (``what`` names
    the metric)."""
    from ._validation import assert_finite, check_sample_weight, label_array

    try:
        return label_array(y_true, "y_true"), None
    except ValueError:
        if np.ndim(y_true) != 2:
            raise
    kind = target_type(y_true, "y_true")
    if kind != "multilabel-indicator":
        raise ValueError(f"{kind} format is not supported")
    if what == "average_precision" and pos_label != 1:
        raise ValueError(
            "Parameter pos_label is fixed to 1 for multilabel-indicator y_true. Do not set pos_label or "
            "set pos_label to 1."
        )
    yt = _as_array(y_true)
    ys = _as_array(y_score)
    if ys.dtype.kind not in "iufb":
        raise ValueError(f"y_score must be numeric, got dtype {ys.dtype}.")
    ys = ys.astype(np.float64, copy=False)
    assert_finite(ys, "y_score")
    _check_lengths(yt, ys, sample_weight)
    sw = check_sample_weight(sample_weight, yt.shape[0], allow_all_zero=True)
    return None, average_binary_score(binary_metric, yt, ys, average, sw)


def indicator_proba(
    y_true: Any, y_proba: np.ndarray, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """``(y_true, y_proba, sample_weight)`` when ``y_true`` is a multilabel indicator matrix (taken as
    the one-hot encoding, as scikit-learn's ``LabelBinarizer`` does), else None."""
    import warnings

    from ._validation import check_sample_weight

    yt = _as_array(y_true)
    if not is_multilabel(yt):
        return None
    _check_lengths(y_proba, yt, sample_weight)
    sw = check_sample_weight(sample_weight, yt.shape[0])
    p = y_proba[:, None] if y_proba.ndim == 1 else y_proba
    if p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    if not np.all(np.isclose(p.sum(axis=1), 1, rtol=np.sqrt(np.finfo(p.dtype).eps))):
        msg = "The y_prob values do not sum to one. Make sure to pass probabilities."
        warnings.warn(msg, UserWarning, stacklevel=4)
    if p.shape[1] != yt.shape[1]:
        raise ValueError(
            f"y_true and y_prob contain different number of classes: {yt.shape[1]} vs {p.shape[1]}. Please "
            "provide the true labels explicitly through the labels argument. Classes found in y_true: "
            f"{np.arange(yt.shape[1])}"
        )
    return yt.astype(p.dtype), p, sw
