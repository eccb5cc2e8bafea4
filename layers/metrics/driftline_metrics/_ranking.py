"""Ranking metrics (ROC, precision-recall) with scikit-learn's names and semantics (numpy only).

Binary ROC AUC and average precision avoid ``argsort`` (see ``_rank_fast`` and ``_rank_kernels``): unweighted
non-negative scores sort one array of integer keys in place that carry the score's bits and the
class in the lowest bit (ties put negatives first, so pairs are counted exactly, ties as half),
then read few distinct values (at most 256: rounded, calibrated, tree leaves) per value off the
sorted keys, or everything else in one chunked pass that takes tied groups whole. Integer labels
are checked (0/1) while the keys are built. Scores of both signs with few distinct values, and
every weighted curve with few distinct values, are counted per value without a sort;
non-positive scores are negated, mixed signs are split at zero. Weighted inputs with many
distinct scores take the general (argsort) path.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from typing import Any

import numpy as np

from ._multilabel import average_binary_score, multilabel_ranking
from ._rank_fast import (
    _count_pos,
    _fast_binary_ap,
    _fast_binary_auc,
    _NotTaken,
    _unchecked_labels,
    memo_curve,
    remember_curve,
)
from ._rank_kernels import level_sums
from ._validation import (
    assert_finite,
    check_lengths,
    check_pos_label,
    check_sample_weight,
    check_scores,
    encode_labels,
    label_array,
    labels_01,
)
from .exceptions import UndefinedMetricWarning

__all__ = ["average_precision_score", "precision_recall_curve", "roc_auc_score", "roc_curve"]



# --------------------------------------------------------------------------- shared helpers


def _binary_target(
    y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a binary problem; return (y as bool, scores, weights)."""
    yt = label_array(y_true, "y_true")
    s = check_scores(y_score)
    n = check_lengths(y_true=yt, y_score=s)
    sw = check_sample_weight(sample_weight, n)
    if n == 0:
        raise ValueError("Found empty input array while a minimum of 1 sample is required.")
    classes, (idx,) = encode_labels(yt)
    if classes.shape[0] > 2 and pos_label is None:
        raise ValueError(
            f"multiclass format is not supported: y_true has {classes.shape[0]} classes; "
            "pass pos_label to score one class against the rest."
        )
    pos_label = check_pos_label(pos_label, classes)
    two = classes.shape[0] == 2 and classes[1] == pos_label
    y = idx.astype(bool) if two else yt == pos_label
    return np.asarray(y, dtype=bool), s, sw


def _clf_curve(
    y: np.ndarray, s: np.ndarray, sw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fps, tps, thresholds) at each distinct score, decreasing, as scikit-learn computes them."""
    if sw is not None:
        keep = sw != 0
        y, s, sw = y[keep], s[keep], sw[keep]
    else:  # the last ranked input's summary, when this one equals it (shared with ROC AUC and AP)
        shared = memo_curve(y, s)
        if shared is not None:
            return shared
    fps, tps, thresholds = _counted_curve(y, s, sw)
    if sw is None:
        remember_curve(y, s, fps, tps, thresholds)
    return fps, tps, thresholds


def _counted_curve(
    y: np.ndarray, s: np.ndarray, sw: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    levels = level_sums(s, y, sw)
    if levels is not None:
        values, pos, neg = levels
        tps = np.cumsum(pos[::-1], dtype=np.float64)
        fps = np.cumsum(neg[::-1], dtype=np.float64)
        return fps, tps, values[::-1].astype(s.dtype, copy=False)
    # the counts are read at the end of each run of equal scores, where they do not depend on the order inside
    # the run: unweighted, any sort order gives the same integers (the unstable sort is ~25 % cheaper); weighted
    # sums keep scikit-learn's stable order, so that they add up in the same order to the last bit
    order = np.argsort(s, kind="stable" if sw is not None else None)[::-1]
    s = s[order]
    y = y[order]
    distinct = np.flatnonzero(np.diff(s))
    thr_idx = np.r_[distinct, y.shape[0] - 1]
    if sw is None:
        tps = np.cumsum(y, dtype=np.float64)[thr_idx]
        fps = 1 + thr_idx.astype(np.float64) - tps
    else:
        w = sw[order].astype(np.float64)
        tps = np.cumsum(y * w)[thr_idx]
        fps = np.cumsum(~y * w)[thr_idx]
    return fps, tps, s[thr_idx]


# --------------------------------------------------------------------------- curves


def roc_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic curve of a binary problem.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels; with other than {0, 1} / {-1, 1} labels pass ``pos_label``.
    y_score : array-like of shape (n_samples,)
        Scores, higher meaning more likely positive.
    pos_label : int, float, bool or str, default=None
    sample_weight : array-like of shape (n_samples,), default=None
    drop_intermediate : bool, default=True
        Drop thresholds that are collinear with their neighbours.

    Returns
    -------
    fpr, tpr : ndarray
        Increasing false and true positive rates (NaN with a warning when a class is absent).
    thresholds : ndarray
        Decreasing thresholds; ``thresholds[0]`` is ``inf``.

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2)
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    y, s, sw = _binary_target(y_true, y_score, pos_label, sample_weight)
    fps, tps, thresholds = _clf_curve(y, s, sw)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds.astype(np.float64)]
    if fps[-1] <= 0:
        warnings.warn(
            "No negative samples in y_true, false positive value should be meaningless",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn(
            "No positive samples in y_true, true positive value should be meaningless",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall pairs for each distinct score threshold of a binary problem.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_score : array-like of shape (n_samples,)
    pos_label : int, float, bool or str, default=None
    sample_weight : array-like of shape (n_samples,), default=None
    drop_intermediate : bool, default=False
        Drop thresholds where the true-positive count does not change.

    Returns
    -------
    precision : ndarray of shape (n_thresholds + 1,)
        Last element is 1.
    recall : ndarray of shape (n_thresholds + 1,)
        Decreasing; last element is 0.
    thresholds : ndarray of shape (n_thresholds,)
        Increasing.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p.round(3).tolist(), r.tolist()
    ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0])
    """
    y, s, sw = _binary_target(y_true, y_score, pos_label, sample_weight)
    fps, tps, thresholds = _clf_curve(y, s, sw)
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ps != 0, tps / np.where(ps != 0, ps, 1), 0.0)
    if tps[-1] == 0:
        warnings.warn(
            "No positive class found in y_true, recall is set to one for all thresholds.",
            UserWarning,
            stacklevel=2,
        )
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


# --------------------------------------------------------------------------- scores


def _auc(x: np.ndarray, y: np.ndarray) -> float:
    if x.shape[0] < 2:
        raise ValueError(
            f"At least 2 points are needed to compute area under curve, but x.shape = {x.shape[0]} "
            "(no positive-weight samples of one of the classes?)"
        )
    return float(np.trapezoid(y, x))


def _one_class_auc() -> float:
    warnings.warn(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        UndefinedMetricWarning,
        stacklevel=4,
    )
    return np.nan


def _binary_roc_auc(y: np.ndarray, s: np.ndarray, sw: np.ndarray | None, max_fpr: Any = None) -> float:
    """ROC AUC of 0/1 (or bool) labels ``y``; checks that ``s`` is finite."""
    fast = (max_fpr is None or max_fpr == 1) and sw is None
    if fast:
        # the fast path counts the positives itself (no pass for it) and checks finiteness
        auc = _fast_binary_auc(y, s)
        if isinstance(auc, float):
            return auc
    else:
        assert_finite(s, "y_score")
        n_pos = _count_pos(y)
    if fast or n_pos == 0 or n_pos == y.shape[0]:
        return _one_class_auc()
    fpr, tpr, _ = roc_curve(y.astype(bool, copy=False), s, sample_weight=sw)
    if max_fpr is None or max_fpr == 1:
        return _auc(fpr, tpr)
    stop = np.searchsorted(fpr, max_fpr, "right")
    x_interp = [fpr[stop - 1], fpr[stop]]
    y_interp = [tpr[stop - 1], tpr[stop]]
    tpr = np.append(tpr[:stop], np.interp(max_fpr, x_interp, y_interp))
    fpr = np.append(fpr[:stop], max_fpr)
    partial_auc = _auc(fpr, tpr)
    # McClish correction: 0.5 for a non-discriminant, 1 for a perfect classifier
    min_area = 0.5 * max_fpr**2
    max_area = max_fpr
    return float(0.5 * (1 + (partial_auc - min_area) / (max_area - min_area)))


def _average_binary_score(
    metric: Any, Y: np.ndarray, S: np.ndarray, average: Any, sw: np.ndarray | None
) -> Any:
    """Apply a binary metric per column of an indicator matrix and average (scikit-learn rules)."""
    if average == "micro":
        sw_r = None if sw is None else np.repeat(sw, Y.shape[1])
        return metric(Y.ravel(), S.ravel(), sw_r)
    avg_w = None
    if average == "weighted":
        avg_w = (Y * sw[:, None]).sum(axis=0) if sw is not None else Y.sum(axis=0).astype(np.float64)
        if np.isclose(avg_w.sum(), 0):
            return 0.0
    scores = np.array([metric(Y[:, c], S[:, c], sw) for c in range(Y.shape[1])], dtype=np.float64)
    if average is None:
        return scores
    if avg_w is not None:
        scores[avg_w == 0] = 0
        return float(np.average(scores, weights=avg_w))
    return float(np.mean(scores))


def _multiclass_roc_auc(
    yt: np.ndarray, S: np.ndarray, labels: Any, multi_class: str, average: Any, sw: np.ndarray | None
) -> Any:
    if S.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={S.shape}`."
        )
    if not np.allclose(1, S.sum(axis=1)):
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum "
            "up to 1.0 over classes"
        )
    options: tuple[str | None, ...] = ("macro", "weighted", None)
    if multi_class == "ovr":
        options = ("micro", *options)
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems; got {average!r}.")
    if multi_class not in ("ovo", "ovr"):
        raise ValueError(
            f"multi_class='{multi_class}' is not supported for multiclass ROC AUC, multi_class must "
            "be in ('ovo', 'ovr')"
        )
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is not None:
        labels = np.asarray(labels).ravel()
        classes = np.unique(labels)
        if len(classes) != len(labels):
            raise ValueError("Parameter 'labels' must be unique")
        if not np.array_equal(classes, labels):
            raise ValueError("Parameter 'labels' must be ordered")
        if len(classes) != S.shape[1]:
            raise ValueError(
                f"Number of given labels, {len(classes)}, not equal to the number of columns in "
                f"'y_score', {S.shape[1]}"
            )
        if len(np.setdiff1d(yt, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'")
        idx = np.searchsorted(classes, yt)
    else:
        classes, (idx,) = encode_labels(yt)
        if len(classes) != S.shape[1]:
            raise ValueError(
                "Number of classes in y_true not equal to the number of columns in 'y_score' "
                f"({len(classes)} classes, {S.shape[1]} columns)"
            )
    if multi_class == "ovo":
        if sw is not None:
            raise ValueError(
                "sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' "
                "must be None in this case."
            )
        present = np.unique(idx)
        pair_scores, prevalence = [], []
        for a, b in combinations(present.tolist(), 2):
            a_mask, b_mask = idx == a, idx == b
            ab = a_mask | b_mask
            prevalence.append(np.mean(ab))
            a_score = _binary_roc_auc(a_mask[ab], S[ab, a], None)
            b_score = _binary_roc_auc(b_mask[ab], S[ab, b], None)
            pair_scores.append((a_score + b_score) / 2)
        if not pair_scores:
            if average == "weighted":
                raise ValueError(
                    "y_true holds a single class: one-vs-one ROC AUC needs at least two classes present."
                )
            return np.nan
        weights = prevalence if average == "weighted" else None
        return float(np.average(pair_scores, weights=weights))
    Y = np.zeros(S.shape, dtype=np.int64)
    Y[np.arange(idx.shape[0]), idx] = 1

    def metric(y: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> float:
        return _binary_roc_auc(y.astype(bool), s, w)

    return _average_binary_score(metric, Y, S, average, sw)


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
) -> Any:
    """Area under the ROC curve, for binary or (one-vs-rest / one-vs-one) multiclass problems.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels; with two classes the greater one is positive.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Positive-class scores (binary) or class probabilities (multiclass, rows sum to 1).
    average : {'macro', 'weighted', 'micro'} or None, default='macro'
        Multiclass averaging ('micro' only for 'ovr'; None returns per-class scores for 'ovr').
    sample_weight : array-like of shape (n_samples,), default=None
        Not supported for 'ovo'.
    max_fpr : float in (0, 1], default=None
        Standardised (McClish) partial AUC up to this false positive rate; binary only.
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
    labels : array-like of shape (n_classes,), default=None
        Ordered class labels indexing the columns of ``y_score`` (multiclass).

    Returns
    -------
    auc : float (or ndarray for ``average=None``); NaN with
        :class:`UndefinedMetricWarning` when ``y_true`` holds one class.

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    if max_fpr is not None and not (isinstance(max_fpr, int | float) and 0 < max_fpr <= 1):
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"multi_class must be one of 'raise', 'ovr', 'ovo'; got {multi_class!r}.")
    if average not in (None, "micro", "macro", "weighted", "samples"):
        raise ValueError(f"average has to be one of (None, 'micro', 'macro', 'weighted'); got {average!r}.")
    def per_label(y: np.ndarray, s: np.ndarray, sample_weight: np.ndarray | None) -> float:
        return _binary_roc_auc(y != 0, s, sample_weight, max_fpr)

    yt, multilabel = multilabel_ranking(per_label, y_true, y_score, average, sample_weight)
    if yt is None:
        return multilabel
    # finiteness: checked below (the binary path folds it into passes it makes anyway)
    S = check_scores(y_score, allow_2d=True, finite=False)
    n = check_lengths(y_true=yt, y_score=S)
    if n == 0:
        raise ValueError("Found empty input array while a minimum of 1 sample is required.")
    if S.ndim != 1:
        assert_finite(S, "y_score")
    # all-zero weights are rejected later, by the curve (after the one-class check, as scikit-learn)
    try:
        sw = check_sample_weight(sample_weight, n, allow_all_zero=True)
    except ValueError:
        # one-vs-one multiclass refuses any weights, after its other checks and before looking at them
        if not (multi_class == "ovo" and S.ndim == 2 and S.shape[1] > 2):
            raise
        sw = np.asarray(sample_weight)
    lab = _unchecked_labels(yt) if S.ndim == 1 and sw is None and (max_fpr is None or max_fpr == 1) else None
    if lab is not None:  # integer labels: checked (0/1) while the sorted keys are built, no pass of their own
        auc = _fast_binary_auc(lab, S, labels_checked=False)
        if not isinstance(auc, _NotTaken):
            return _one_class_auc() if auc is None else auc
    y01 = labels_01(yt) if S.ndim == 1 else None
    if y01 is not None:  # labels within {0, 1}: one max pass instead of the encoding's min and max
        return _binary_roc_auc(y01, S, sw, max_fpr)
    classes, (idx,) = encode_labels(yt)
    if classes.shape[0] > 2 or (S.ndim == 2 and S.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1.0:
            raise ValueError(
                "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set "
                f"to `None`, received `max_fpr={max_fpr}` instead"
            )
        if multi_class == "raise":
            raise ValueError("multi_class must be in ('ovo', 'ovr') for a multiclass y_true.")
        assert_finite(S, "y_score")
        return _multiclass_roc_auc(yt, S, labels, multi_class, average, sw)
    if S.ndim != 1:
        raise ValueError(f"y_score must be 1-D (n_samples,) for binary y_true; got shape {S.shape}.")
    # the 0/1 class indices serve as labels as they are (no copy)
    y = idx if classes.shape[0] == 2 else np.zeros(n, dtype=bool)
    return _binary_roc_auc(y, S, sw, max_fpr)


def _binary_ap(y: np.ndarray, s: np.ndarray, sw: np.ndarray | None) -> float:
    if sw is None:
        ap = _fast_binary_ap(y, s)
        if isinstance(ap, float):
            return ap
    return _curve_ap(y, s, sw)


def _per_label_ap(y: np.ndarray, s: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """Average precision of one label column of an indicator matrix (non-zero is positive)."""
    return _binary_ap(y != 0, s, sample_weight)


def _curve_ap(y: np.ndarray, s: np.ndarray, sw: np.ndarray | None) -> float:
    y = y.astype(bool, copy=False)
    # the curve validates the scores (finite) and warns when there is no positive
    precision, recall, _ = precision_recall_curve(y, s, pos_label=True, sample_weight=sw)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> Any:
    """Average precision: ``Σ (R_n - R_{n-1}) P_n`` over thresholds (no interpolation).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Positive-class scores, or per-class scores when ``y_true`` is multiclass.
    average : {'micro', 'macro', 'weighted'} or None, default='macro'
        Averaging over classes (multiclass only).
    pos_label : int, float, bool or str, default=1
        The positive class (binary only).
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    average_precision : float

    Examples
    --------
    >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    if average not in (None, "micro", "macro", "weighted", "samples"):
        raise ValueError(f"average has to be one of (None, 'micro', 'macro', 'weighted'); got {average!r}.")
    yt, multilabel = multilabel_ranking(
        _per_label_ap, y_true, y_score, average, sample_weight, pos_label, "average_precision"
    )
    if yt is None:
        return multilabel
    # finiteness: the binary paths check it in passes they make anyway (or the curve does)
    S = check_scores(y_score, allow_2d=True, finite=False)
    n = check_lengths(y_true=yt, y_score=S)
    if n == 0:
        raise ValueError("Found empty input array while a minimum of 1 sample is required.")
    sw = check_sample_weight(sample_weight, n)
    lab = _unchecked_labels(yt) if S.ndim == 1 and pos_label == 1 and sw is None else None
    if lab is not None:  # integer labels: checked (0/1) while the sorted keys are built, no pass of their own
        ap = _fast_binary_ap(lab, S, labels_checked=False)
        if isinstance(ap, float):
            return ap
        if ap is None:  # no positive: the curve warns as scikit-learn
            return _curve_ap(lab, S, sw)
    y01 = labels_01(yt) if S.ndim == 1 and pos_label == 1 else None
    if y01 is not None:  # labels within {0, 1}, positive 1: one max pass instead of the encoding
        return _binary_ap(y01, S, sw)
    classes, (idx,) = encode_labels(yt)
    if classes.shape[0] <= 2:
        if classes.shape[0] == 2 and pos_label not in classes.tolist():
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {classes}")
        if S.ndim != 1:
            raise ValueError(f"y_score must be 1-D (n_samples,) for binary y_true; got shape {S.shape}.")
        two = classes.shape[0] == 2 and pos_label == classes[1]
        # with two classes the 0/1 class indices are the labels, used as they are (no copy)
        y = idx if two else np.asarray(yt == pos_label, dtype=bool)
        return _binary_ap(y, S, sw)
    if pos_label != 1:
        raise ValueError(
            "Parameter pos_label is fixed to 1 for multiclass y_true. Do not set pos_label or set "
            "pos_label to 1."
        )
    if S.ndim != 2 or S.shape[1] != classes.shape[0]:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={S.shape}`."
        )
    assert_finite(S, "y_score")
    Y = np.zeros(S.shape, dtype=np.int64)
    Y[np.arange(n), idx] = 1
    if average == "samples":  # per sample over the binarized classes, as scikit-learn
        return average_binary_score(_per_label_ap, Y, S, average, sw)

    def metric(y: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> float:
        return _binary_ap(y.astype(bool), s, w)

    return _average_binary_score(metric, Y, S, average, sw)
