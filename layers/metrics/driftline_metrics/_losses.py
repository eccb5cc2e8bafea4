"""Probabilistic losses (log loss, Brier score) with scikit-learn's names and semantics (numpy only)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._multilabel import indicator_proba
from ._validation import (
    assert_finite,
    check_lengths,
    check_pos_label,
    check_sample_weight,
    encode_labels,
    label_array,
    total_or_mean,
    weighted_mean,
)

__all__ = [
    "brier_score_loss",
    "log_loss",
]


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
    indicator = indicator_proba(y_true, y_proba, sample_weight)
    if indicator is not None:  # a multilabel-indicator y_true is its own one-hot encoding
        return indicator
    yt = label_array(y_true, "y_true")
    n = check_lengths(y_proba=y_proba, y_true=yt)  # in scikit-learn's order (its message lists y_prob first)
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
# below this many rows the logarithms are summed one by one, bit for bit as scikit-learn (the grouped
# logarithm saves time only on large windows; it is within 4e-15 relatively, not bit-equal)
_SUM_LOG_MIN = 1 << 16


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


# chunk by chunk, the temporaries stay in the cache (a fresh array of n floats costs page faults)
_CHUNK = 1 << 16


def _picked(idx: np.ndarray, p: np.ndarray, *, positive_gets_p: bool) -> Iterator[np.ndarray]:
    """Chunks of ``q``: ``p`` on the rows whose 0/1 class index ``idx`` is 1 and ``1 - p`` on the
    others (``positive_gets_p``), or the other way round; float64 ``p``. Each chunk is a view of
    one reused buffer (the temporaries stay in the cache), valid until the next.

    ``q`` is picked by its bits (``c ^ ((c ^ p) & mask)`` with ``c = 1 - p`` and ``mask`` all ones
    on the rows that take ``p``): exact, and without the branch per value that makes ``np.where``
    slow on unpredictable labels."""
    n = p.shape[0]
    m = min(n, _CHUNK)
    q_buf, x_buf, mask = np.empty(m), np.empty(m, dtype=np.uint64), np.empty(m, dtype=np.uint64)
    wide = idx.dtype.itemsize == 8
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        k = b - a
        q = np.subtract(1.0, p[a:b], out=q_buf[:k])
        mk = mask[:k]
        if wide:
            np.negative(idx[a:b].view(np.uint64), out=mk)  # all ones where idx is 1
        else:
            np.copyto(mk, idx[a:b], casting="unsafe")
            np.negative(mk, out=mk)
        if not positive_gets_p:
            np.invert(mk, out=mk)
        qb = q.view(np.uint64)
        x = np.bitwise_xor(qb, p[a:b].view(np.uint64), out=x_buf[:k])
        np.bitwise_and(x, mk, out=x)
        np.bitwise_xor(qb, x, out=qb)
        yield q


def _sum_log_chosen(idx: np.ndarray, p: np.ndarray, eps: float) -> float:
    """``Σ log q`` of the probability ``q`` given to the true class (``p`` where the 0/1 class index
    ``idx`` is 1, else ``1 - p``) clipped to ``[eps, 1 - eps]``, as :func:`_sum_log` sums it."""
    total = 0.0
    for q in _picked(idx, p, positive_gets_p=True):
        np.clip(q, eps, 1 - eps, out=q)
        total += _sum_log(q)
    return total


def _sum_sq_diff(idx: np.ndarray, p: np.ndarray) -> float:
    """``Σ (y - p)²`` of the 0/1 outcomes ``idx`` and float64 ``p``: ``|y - p|`` is ``1 - p`` where
    ``y`` is 1, else ``p``."""
    total = 0.0
    for q in _picked(idx, p, positive_gets_p=False):
        total += float(np.multiply(q, q, out=q).sum())  # not np.dot: BLAS threads would spin
    return total


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
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
    y_pred : array-like
        scikit-learn 1.9's deprecated name of ``y_proba`` (a ``FutureWarning``, as scikit-learn).

    Returns
    -------
    loss : float

    Examples
    --------
    >>> round(log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 5)
    0.21616
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` instead.")
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. Use `y_proba` instead.",
            FutureWarning,
            stacklevel=2,
        )
        y_proba = y_pred
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
            if sw is None and p1.dtype == np.float64 and p1.shape[0] >= _SUM_LOG_MIN:
                total = -_sum_log_chosen(idx, p1, eps)
                return total / p1.shape[0] if normalize else total
            chosen = np.where(idx.view(bool) if idx.dtype == np.uint8 else idx != 0, p1, 1 - p1)
            np.clip(chosen, eps, 1 - eps, out=chosen)
            loss = np.log(chosen, out=chosen)
            np.negative(loss, out=loss)
            return total_or_mean(loss, sw, normalize)
    onehot, p2, sw = _multiclass_proba(y_true, p, sample_weight, labels)
    eps = np.finfo(p2.dtype).eps
    p2 = np.clip(p2, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = -np.sum(np.where(onehot > 0, onehot * np.log(p2), 0.0), axis=1)
    return total_or_mean(loss, sw, normalize)


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
        if classes.shape[0] == 2 and pos_label == classes[1] and sw is None and p1.dtype == np.float64:
            score = 2.0 * _sum_sq_diff(idx, p1) / n  # the 0/1 class indices are the outcomes
        else:
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
