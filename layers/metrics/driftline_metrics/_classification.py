"""Classification metrics with scikit-learn's names, signatures and semantics (numpy only)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._validation import (
    assert_finite,
    binary01_confusion,
    check_lengths,
    check_pos_label,
    check_sample_weight,
    check_targets,
    encode_labels,
    label_array,
    weighted_mean,
)
from .exceptions import UndefinedMetricWarning

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "matthews_corrcoef",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


def _bincount(idx: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.bincount(idx, minlength=n)
    if weights.dtype.kind in "iu":
        # integer weights keep an exact integer accumulator
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
    _, _, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    correct = ti == pi
    if not normalize:
        return float(correct.sum() if sw is None else np.dot(correct, sw))
    return float(weighted_mean(correct, sw))


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


# --------------------------------------------------------------------------- precision / recall / F


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
    msg = (
        f"{msg_start} ill-defined and being set to 0.0 {{0}} no {modifier} samples. "
        "Use `zero_division` parameter to control this behavior."
    )
    msg = msg.format("due to") if result_size == 1 else msg.format("in labels with")
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


def _set_wise_counts(
    y_true: Any, y_pred: Any, average: Any, labels: Any, pos_label: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp_sum, pred_sum, true_sum) per selected label, as scikit-learn's multilabel_confusion_matrix."""
    if average not in _AVERAGES:
        if average == "samples":
            raise ValueError("average='samples' applies to multilabel targets, which are not supported.")
        raise ValueError(f"average has to be one of {_AVERAGES}; got {average!r}.")
    fast = binary01_confusion(y_true, y_pred) if sample_weight is None else None
    if fast is not None:
        classes, C = fast
        y_type = "binary"
    else:
        y_type, classes, ti, pi, sw = check_targets(y_true, y_pred, sample_weight)
    if average == "binary":
        if y_type != "binary":
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another average setting, "
                "one of [None, 'micro', 'macro', 'weighted']."
            )
        if pos_label not in classes.tolist() and classes.shape[0] >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {classes}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=3,
        )
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
    return (
        _nanaverage(precision, weights),
        _nanaverage(recall, weights),
        _nanaverage(f_score, weights),
        None,
    )


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
    p, _, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("precision",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return p


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
    _, r, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("recall",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return r


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
    _, _, f, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("f-score",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return f


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


# --------------------------------------------------------------------------- probabilistic losses


def _check_proba(y_proba: Any) -> np.ndarray:
    p = np.asarray(y_proba)
    if p.dtype.kind not in "iufb":
        raise ValueError(f"y_proba must be numeric probabilities, got dtype {p.dtype}.")
    if p.dtype.kind != "f":
        p = p.astype(np.float64)
    if p.ndim not in (1, 2):
        raise ValueError(f"y_proba must be 1-D (n_samples,) or 2-D (n_samples, n_classes); got {p.shape}.")
    if p.size == 0:
        raise ValueError("Found empty y_proba while a minimum of 1 sample is required.")
    assert_finite(p, "y_proba")
    return p


def _check_proba_range(p: np.ndarray) -> None:
    hi, lo = p.max(), p.min()
    if hi > 1:
        raise ValueError(f"y_prob contains values greater than 1: {hi}")
    if lo < 0:
        raise ValueError(f"y_prob contains values lower than 0: {lo}")


def _multiclass_proba(
    y_true: Any, y_proba: np.ndarray, sample_weight: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(one-hot y_true, y_proba as (n, n_classes), weights), like scikit-learn's LabelBinarizer path."""
    _check_proba_range(y_proba)
    yt = label_array(y_true, "y_true")
    n = check_lengths(y_true=yt, y_proba=y_proba)
    sw = check_sample_weight(sample_weight, n)
    if labels is not None:
        labels_arr = np.asarray(labels)
        classes = np.unique(labels_arr)
        if classes.shape[0] != labels_arr.shape[0] or not np.array_equal(classes, labels_arr):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that the "
                "columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=3,
            )
        missing = np.setdiff1d(yt, classes)
        if missing.size:
            raise ValueError(
                f"y_true contains values {set(missing.tolist())} not belonging to the passed labels {labels}."
            )
        idx = np.searchsorted(classes, yt)
    else:
        classes, (idx,) = encode_labels(yt)
    k = classes.shape[0]
    if k == 1:
        if labels is None:
            raise ValueError(
                f"y_true contains only one label ({classes[0]}). Please provide the list of all "
                "expected class labels explicitly through the labels argument."
            )
        raise ValueError(f"The labels array needs to contain at least two labels, got {classes}.")
    if y_proba.ndim == 1:
        y_proba = y_proba[:, None]
    if y_proba.shape[1] == 1:
        y_proba = np.concatenate([1 - y_proba, y_proba], axis=1)
    sums = y_proba.sum(axis=1)
    if not np.all(np.isclose(sums, 1, rtol=np.sqrt(np.finfo(y_proba.dtype).eps))):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=3,
        )
    if k != y_proba.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {k} vs {y_proba.shape[1]}. "
                "Please provide the true labels explicitly through the labels argument. "
                f"Classes found in y_true: {classes}"
            )
        raise ValueError(
            "The number of classes in labels is different from that in y_prob. "
            f"Classes found in labels: {classes}"
        )
    onehot = np.zeros(y_proba.shape, dtype=y_proba.dtype)
    onehot[np.arange(n), idx] = 1
    return onehot, y_proba, sw


_LOG_GROUP = 16


def _sum_log(p: np.ndarray) -> float:
    """``np.sum(np.log(p))`` for float64 ``p`` in ``[eps, 1 - eps]``, one logarithm per 16 values.

    The product of 16 such values is at least ``eps**16`` (about 1e-250): no underflow, and each
    product is exact to 16 roundings (a relative error of 4e-15 at most, so ``log`` of it is off by
    less than 4e-15 in absolute terms) — far inside the float tolerance of summing a million logs.
    """
    n = p.shape[0]
    whole = n - n % _LOG_GROUP
    prod = np.multiply.reduce(p[:whole].reshape(_LOG_GROUP, -1), axis=0)
    total = float(np.sum(np.log(prod)))
    if whole < n:
        total += float(np.sum(np.log(p[whole:])))
    return total


def log_loss(
    y_true: Any,
    y_proba: Any,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Log loss (cross-entropy) of predicted probabilities.

    Probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the machine
    epsilon of their float dtype, as scikit-learn 1.9 does.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Columns follow the sorted labels; a 1-D array is the positive-class probability.
    normalize : bool, default=True
        Mean loss per sample if True, else the (weighted) sum.
    sample_weight : array-like of shape (n_samples,), default=None
    labels : array-like, default=None
        All class labels, when ``y_true`` does not contain all of them.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> round(log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 5)
    0.21616
    """
    p = _check_proba(y_proba)
    yt = np.asarray(y_true)
    if (
        labels is None
        and (p.ndim == 1 or p.shape[1] == 1)
        and yt.dtype.kind in "iub"
        and yt.ndim == 1
        and yt.shape[0] == p.shape[0]
    ):
        # fast binary path: y_true of two integer classes, positive = larger one
        p1 = p.ravel()
        _check_proba_range(p1)
        classes, (idx,) = encode_labels(yt)
        if classes.shape[0] == 2:
            sw = check_sample_weight(sample_weight, yt.shape[0])
            eps = np.finfo(p1.dtype).eps
            chosen = np.where(idx.view(bool) if idx.dtype == np.uint8 else idx != 0, p1, 1 - p1)
            np.clip(chosen, eps, 1 - eps, out=chosen)
            if sw is None and chosen.dtype == np.float64:
                total = -_sum_log(chosen)
                return total / chosen.shape[0] if normalize else total
            loss = np.log(chosen, out=chosen)
            np.negative(loss, out=loss)
            if not normalize:
                return float(loss.sum() if sw is None else np.dot(loss, sw))
            return float(weighted_mean(loss, sw))
    onehot, p2, sw = _multiclass_proba(y_true, p, sample_weight, labels)
    eps = np.finfo(p2.dtype).eps
    p2 = np.clip(p2, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = -np.sum(np.where(onehot > 0, onehot * np.log(p2), 0.0), axis=1)
    if not normalize:
        return float(loss.sum() if sw is None else np.dot(loss, sw))
    return float(weighted_mean(loss, sw))


def brier_score_loss(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
    scale_by_half: bool | str = "auto",
) -> float:
    """Brier score: mean squared difference between one-hot outcomes and probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Positive-class probability (binary) or per-class probabilities.
    sample_weight : array-like of shape (n_samples,), default=None
    pos_label : int, float, bool or str, default=None
        Positive class for 1-D ``y_proba``; inferred as 1 for {0, 1} / {-1, 1} labels,
        else the greater label (strings must pass it).
    labels : array-like, default=None
        Class labels for the multiclass case.
    scale_by_half : bool or 'auto', default='auto'
        Halve the score ('auto': when there are at most two columns).

    Returns
    -------
    score : float

    Examples
    --------
    >>> round(brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 4)
    0.0375
    """
    if not (isinstance(scale_by_half, bool) or scale_by_half == "auto"):
        raise ValueError(f"scale_by_half must be a bool or 'auto'; got {scale_by_half!r}.")
    p = _check_proba(y_proba)
    if p.ndim == 1 or p.shape[1] == 1:
        p1 = p.ravel()
        yt = label_array(y_true, "y_true")
        n = check_lengths(y_true=yt, y_proba=p1)
        sw = check_sample_weight(sample_weight, n)
        classes, (idx,) = encode_labels(yt)
        if classes.shape[0] > 2:
            raise ValueError(
                "The type of the target inferred from y_true is multiclass but should be binary "
                "according to the shape of y_prob."
            )
        _check_proba_range(p1)
        try:
            pos_label = check_pos_label(pos_label, classes)
        except ValueError:
            if classes.dtype.kind in "USO":
                raise
            pos_label = classes[-1]
        if classes.shape[0] == 2 and pos_label == classes[1]:
            y = idx.astype(p1.dtype)
        elif classes.shape[0] == 2 and pos_label == classes[0]:
            y = (1 - idx).astype(p1.dtype)
        else:
            y = (yt == pos_label).astype(p1.dtype)
        sq = np.subtract(y, p1, out=y)  # y is a fresh array: square in place
        np.multiply(sq, sq, out=sq)
        score = 2.0 * weighted_mean(sq, sw)
        scale = True if scale_by_half == "auto" else scale_by_half
    else:
        onehot, p2, sw = _multiclass_proba(y_true, p, sample_weight, labels)
        score = weighted_mean(np.sum((onehot - p2) ** 2, axis=1), sw)
        scale = p2.shape[1] < 3 if scale_by_half == "auto" else scale_by_half
    if scale:
        score = score * 0.5
    return float(score)

