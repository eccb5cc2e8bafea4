"""Confusion-matrix metrics (accuracy, confusion matrix, balanced accuracy, MCC) with scikit-learn's
names and semantics (numpy only)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._multilabel import check_multilabel_pair, subset_accuracy
from ._validation import (
    binary01_confusion,
    check_targets,
    total_or_mean,
)

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "confusion_matrix",
    "matthews_corrcoef",
]


_EXACT_FLOAT_INT = 1 << 53


def _bincount(idx: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.bincount(idx, minlength=n)
    if weights.dtype.kind in "iu":
        # integer weights keep an exact integer accumulator
        if weights.size and int(np.max(np.abs(weights.astype(np.int64)))) > _EXACT_FLOAT_INT // weights.size:
            # sums past 2**53 are not exact in float64: accumulate in int64 (wrapping as scikit-learn)
            out = np.zeros(n, dtype=np.int64)
            np.add.at(out, idx, weights.astype(np.int64))
            return out
        return np.bincount(idx, weights=weights, minlength=n).round().astype(np.int64)
    return np.bincount(idx, weights=weights, minlength=n).astype(np.float64, copy=False)


def _targets_cm(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, C)``: validated labels and their confusion matrix (fast path for unweighted 0/1)."""
    fast = binary01_confusion(y_true, y_pred) if sample_weight is None else None
    if fast is not None:
        return fast
    _, classes, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    return classes, _cm_from_idx(ti, pi, sw, classes.shape[0])


def _cm_from_idx(ti: np.ndarray, pi: np.ndarray, sw: np.ndarray | None, k: int) -> np.ndarray:
    flat = ti * k + pi if k > 1 else ti
    return _bincount(flat, sw, k * k).reshape(k, k)


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None) -> float:
    """Accuracy classification score.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Ground truth and predicted labels (ints, strings or bools).
    normalize : bool, default=True
        Return the fraction of correct predictions; if False, their (weighted) count.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    score : float

    Examples
    --------
    >>> accuracy_score([0, 1, 2, 3], [0, 2, 1, 3])
    0.5
    """
    fast = binary01_confusion(y_true, y_pred) if sample_weight is None else None
    if fast is not None:
        C = fast[1]
        n_correct = int(np.trace(C))
        return float(n_correct) if not normalize else n_correct / float(C.sum())
    ml = check_multilabel_pair(y_true, y_pred, sample_weight)
    if ml is not None:  # multilabel-indicator targets: subset accuracy, as scikit-learn
        return subset_accuracy(*ml, normalize)
    _, _, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    return total_or_mean(ti == pi, sw, normalize)


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    normalize: str | None = None,
) -> np.ndarray:
    """Confusion matrix ``C`` with ``C[i, j]`` = (weighted) count of true ``i`` predicted ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), default=None
        Labels indexing the matrix (in this order); samples whose true or predicted
        label is not listed are ignored. Defaults to the sorted union of labels.
    sample_weight : array-like of shape (n_samples,), default=None
    normalize : {'true', 'pred', 'all'}, default=None
        Normalise over rows, columns or the whole matrix (0/0 gives 0).

    Returns
    -------
    C : ndarray of shape (n_classes, n_classes)
        int64 unless weights are float or ``normalize`` is set.

    Examples
    --------
    >>> confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    array([[2, 0, 0],
           [0, 0, 1],
           [1, 0, 2]])
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of None, 'true', 'pred', 'all'; got {normalize!r}.")
    fast = binary01_confusion(y_true, y_pred) if labels is None and sample_weight is None else None
    cm = fast[1] if fast is not None else _confusion_general(y_true, y_pred, labels, sample_weight)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        _warn_single_label()
    return cm


def _confusion_general(y_true: Any, y_pred: Any, labels: Any, sample_weight: Any) -> np.ndarray:
    _, classes, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    if labels is None:
        k = classes.shape[0]
    else:
        labels = np.asarray(labels)
        k = labels.size
        if k == 0:
            raise ValueError("'labels' should contain at least one label.")
        # position of each present class in `labels` (k if absent → dropped)
        order = np.argsort(labels, kind="stable")
        sorted_labels = labels[order]
        pos = np.searchsorted(sorted_labels, classes)
        pos_c = np.minimum(pos, k - 1)
        found = sorted_labels[pos_c] == classes
        if not np.any(found[np.unique(ti)]):
            raise ValueError(
                f"At least one label specified must be in y_true; labels={labels.tolist()}, "
                f"y_true has {classes[np.unique(ti)].tolist()}."
            )
        remap = np.where(found, order[pos_c], k)
        ti, pi = remap[ti], remap[pi]
        keep = (ti < k) & (pi < k)
        if not keep.all():
            ti, pi = ti[keep], pi[keep]
            sw = None if sw is None else sw[keep]
    return _cm_from_idx(ti, pi, sw, k)


def _warn_single_label() -> None:
    warnings.warn(
        "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have "
        "the correct shape, use the 'labels' parameter to pass all known labels.",
        UserWarning,
        stacklevel=3,
    )


def balanced_accuracy_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, adjusted: bool = False
) -> float:
    """Balanced accuracy: the mean of per-class recall over classes present in ``y_true``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    adjusted : bool, default=False
        Rescale so that chance scores 0 and perfect scores 1.

    Returns
    -------
    balanced_accuracy : float

    Examples
    --------
    >>> balanced_accuracy_score([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1])
    0.625
    """
    _, C = _targets_cm(y_true, y_pred, sample_weight)
    if C.shape == (1, 1):
        _warn_single_label()
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diag(C) / C.sum(axis=1)
    if np.any(np.isnan(per_class)):
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = np.mean(per_class)
    if adjusted:
        chance = 1 / per_class.shape[0]
        score = (score - chance) / (1 - chance)
    return float(score)


def matthews_corrcoef(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Matthews correlation coefficient (multiclass R_K statistic); 0.0 when undefined.

    Examples
    --------
    >>> round(matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]), 2)
    -0.33
    """
    _, C = _targets_cm(y_true, y_pred, sample_weight)
    if C.shape == (1, 1):
        _warn_single_label()
    t_sum = C.sum(axis=1, dtype=np.float64)
    p_sum = C.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(C, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    denom = cov_ypyp * cov_ytyt
    if denom == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(denom))
