"""Precision, recall, F-beta and their support with scikit-learn's names and semantics (numpy only)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._confusion import _bincount
from ._multilabel import check_multilabel_pair, multilabel_counts
from ._validation import (
    binary01_confusion,
    check_targets,
)
from .exceptions import UndefinedMetricWarning

__all__ = [
    "f1_score",
    "fbeta_score",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


def _check_zero_division(zero_division: Any) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, int | float) and not isinstance(zero_division, bool):
        if np.isnan(zero_division):
            return np.nan
        if zero_division in (0, 1):
            return float(zero_division)
    raise ValueError(f"zero_division must be one of 'warn', 0, 1 or np.nan; got {zero_division!r}.")


def _warn_prf(average: Any, modifier: str, msg_start: str, result_size: int) -> None:
    axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
    msg = (
        f"{msg_start} ill-defined and being set to 0.0 {{0}} no {modifier} {axis0}s. "
        "Use `zero_division` parameter to control this behavior."
    )
    msg = msg.format("due to") if result_size == 1 else msg.format(f"in {axis1}s with")
    warnings.warn(msg, UndefinedMetricWarning, stacklevel=4)


def _prf_divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    metric: str,
    modifier: str,
    average: Any,
    warn_for: Any,
    zero_division: Any,
) -> np.ndarray:
    mask = denominator == 0
    denom = np.where(mask, 1, denominator).astype(np.float64)
    result = np.asarray(numerator, dtype=np.float64) / denom
    if not mask.any():
        return result
    result[mask] = _check_zero_division(zero_division)
    if isinstance(zero_division, str) and metric in warn_for:
        _warn_prf(average, modifier, f"{metric.capitalize()} is", result.shape[0])
    return result


def _nanaverage(a: np.ndarray, weights: np.ndarray | None) -> float:
    if a.shape[0] == 0:
        return np.nan
    mask = np.isnan(a)
    if mask.all():
        return np.nan
    if weights is None:
        return float(np.mean(a[~mask]))
    a, w = a[~mask], np.asarray(weights, dtype=np.float64)[~mask]
    if w.sum() == 0:
        return float(np.mean(a))
    return float(np.dot(a, w) / w.sum())


def _warn_pos_label_ignored(pos_label: Any, average: Any, *, stacklevel: int) -> None:
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=stacklevel,
        )


def _binary_average_error(kind: str, choices: str) -> ValueError:
    return ValueError(
        f"Target is {kind} but average='binary'. Please choose another average setting, one of {choices}."
    )


def _set_wise_counts(
    y_true: Any, y_pred: Any, average: Any, labels: Any, pos_label: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp_sum, pred_sum, true_sum) per selected label, as scikit-learn's multilabel_confusion_matrix."""
    if average not in _AVERAGES and average != "samples":
        raise ValueError("average has to be one of (None, 'micro', 'macro', 'weighted', 'samples')")
    fast = binary01_confusion(y_true, y_pred) if sample_weight is None else None
    ml = None if fast is not None else check_multilabel_pair(y_true, y_pred, sample_weight)
    if ml is not None:  # multilabel-indicator targets (never the 1-D fast path)
        return _multilabel_set_counts(ml, average, labels, pos_label)
    if average == "samples":
        check_targets(y_true, y_pred, sample_weight)
        raise ValueError("Samplewise metrics are not available outside of multilabel classification.")
    if fast is not None:
        classes, C = fast
        y_type = "binary"
    else:
        y_type, classes, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    if average == "binary":
        if y_type != "binary":
            raise _binary_average_error("multiclass", "[None, 'micro', 'macro', 'weighted']")
        if pos_label not in classes.tolist() and classes.shape[0] >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {classes}")
        labels = [pos_label]
    else:
        _warn_pos_label_ignored(pos_label, average, stacklevel=4)
    k = classes.shape[0]
    if fast is not None:
        # unweighted counts are exact integers, whatever order they are summed in
        tp_sum, pred_sum, true_sum = np.diag(C).copy(), C.sum(axis=0), C.sum(axis=1)
    else:
        tp_bins = ti[ti == pi]
        tp_w = None if sw is None else sw[ti == pi]
        tp_sum = _bincount(tp_bins, tp_w, k)
        pred_sum = _bincount(pi, sw, k)
        true_sum = _bincount(ti, sw, k)
        if sw is not None and sw.dtype.kind in "iu":  # scikit-learn's weighted bincount is float
            tp_sum, pred_sum, true_sum = (x.astype(np.float64) for x in (tp_sum, pred_sum, true_sum))
    if labels is None:
        return tp_sum, pred_sum, true_sum
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}.")
    # labels absent from the data get zero counts
    if labels.size and classes.size:
        pos = np.minimum(np.searchsorted(classes, labels), k - 1)
        found = classes[pos] == labels
    else:
        pos = np.zeros(labels.size, dtype=np.intp)
        found = np.zeros(labels.size, dtype=bool)
    zero = np.zeros(1, dtype=tp_sum.dtype)

    def pick(x: np.ndarray) -> np.ndarray:
        return np.where(found, np.concatenate([x, zero])[np.where(found, pos, k)], 0).astype(x.dtype)

    return pick(tp_sum), pick(pred_sum), pick(true_sum)


def _multilabel_set_counts(
    ml: tuple[np.ndarray, np.ndarray, np.ndarray | None], average: Any, labels: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if average == "binary":
        raise _binary_average_error("multilabel-indicator", "[None, 'micro', 'macro', 'weighted', 'samples']")
    _warn_pos_label_ignored(pos_label, average, stacklevel=5)
    return multilabel_counts(*ml, labels, average == "samples")


def precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = None,
    warn_for: Any = ("precision", "recall", "f-score"),
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F-beta and support per class, or averaged.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    beta : float, default=1.0
        Weight of recall in the F-score (``beta >= 0``; ``inf`` gives recall).
    labels : array-like, default=None
        Labels to include (labels absent from the data score per ``zero_division``).
    pos_label : int, float, bool or str, default=1
        The positive class when ``average='binary'``.
    average : {'binary', 'micro', 'macro', 'weighted'} or None, default=None
    warn_for : tuple of str
        Which metrics warn when ill-defined.
    sample_weight : array-like of shape (n_samples,), default=None
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value for 0/0 ratios ('warn' gives 0.0 and an :class:`UndefinedMetricWarning`).

    Returns
    -------
    precision, recall, fbeta_score : float or ndarray
    support : ndarray of int or None (None when averaged)

    Examples
    --------
    >>> p, r, f, s = precision_recall_fscore_support([0, 1, 1, 0], [0, 1, 0, 0], average="binary")
    >>> p, r
    (1.0, 0.5)
    """
    _check_zero_division(zero_division)
    if not (isinstance(beta, int | float) and beta >= 0):
        raise ValueError(f"beta must be a number >= 0; got {beta!r}.")
    tp_sum, pred_sum, true_sum = _set_wise_counts(y_true, y_pred, average, labels, pos_label, sample_weight)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([x.sum()]) for x in (tp_sum, pred_sum, true_sum))
    precision = _prf_divide(tp_sum, pred_sum, "precision", "predicted", average, warn_for, zero_division)
    recall = _prf_divide(tp_sum, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = beta**2
        denom = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _prf_divide(
            (1 + beta2) * tp_sum.astype(np.float64),
            denom,
            "f-score",
            "true nor predicted",
            average,
            warn_for,
            zero_division,
        )
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    if average == "samples" and sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)
    p_avg, r_avg, f_avg = (_nanaverage(x, weights) for x in (precision, recall, f_score))
    return p_avg, r_avg, f_avg, None


_WARN_FOR = (("precision",), ("recall",), ("f-score",))


def _one_score(
    which: int,
    y_true: Any,
    y_pred: Any,
    beta: float,
    labels: Any,
    pos_label: Any,
    average: Any,
    sample_weight: Any,
    zero_division: Any,
) -> Any:
    """Precision (``which`` 0), recall (1) or F-beta (2) of :func:`precision_recall_fscore_support`,
    warning only about that one when it is ill-defined."""
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=_WARN_FOR[which],
        sample_weight=sample_weight,
        zero_division=zero_division,
    )[which]


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Precision ``tp / (tp + fp)``; see :func:`precision_recall_fscore_support`.

    Examples
    --------
    >>> precision_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro")
    0.2222222222222222
    """
    return _one_score(0, y_true, y_pred, 1.0, labels, pos_label, average, sample_weight, zero_division)


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Recall ``tp / (tp + fn)``; see :func:`precision_recall_fscore_support`.

    Examples
    --------
    >>> recall_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro")
    0.3333333333333333
    """
    return _one_score(1, y_true, y_pred, 1.0, labels, pos_label, average, sample_weight, zero_division)


def fbeta_score(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F-beta score; see :func:`precision_recall_fscore_support`.

    Examples
    --------
    >>> round(fbeta_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro", beta=0.5), 4)
    0.2381
    """
    return _one_score(2, y_true, y_pred, beta, labels, pos_label, average, sample_weight, zero_division)


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F1 score, the harmonic mean of precision and recall.

    Examples
    --------
    >>> round(f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro"), 4)
    0.2667
    """
    return fbeta_score(
        y_true,
        y_pred,
        beta=1,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
