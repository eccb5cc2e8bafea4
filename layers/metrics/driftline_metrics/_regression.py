"""Regression metrics with scikit-learn's names, signatures and semantics (numpy only)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._validation import assert_finite, check_lengths, check_sample_weight, weighted_mean
from .exceptions import UndefinedMetricWarning

__all__ = [
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "r2_score",
    "root_mean_squared_error",
]

_MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")


def _as_2d(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); got {arr.shape}.")
    assert_finite(arr, name)
    return arr


def _check_reg_targets(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    multioutput: Any,
    *,
    allow_variance_weighted: bool = False,
    check_custom_weights: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Any]:
    yt = _as_2d(y_true, "y_true")
    yp = _as_2d(y_pred, "y_pred")
    n = check_lengths(y_true=yt, y_pred=yp)
    if n == 0:
        raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
    if yt.shape[1] != yp.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output ({yt.shape[1]}!={yp.shape[1]})")
    sw = check_sample_weight(sample_weight, n)
    if isinstance(multioutput, str):
        allowed = _MULTIOUTPUT if allow_variance_weighted else _MULTIOUTPUT[:2]
        if multioutput not in allowed:
            raise ValueError(
                f"Allowed 'multioutput' string values are {allowed}. You provided multioutput={multioutput!r}"
            )
    elif multioutput is not None:
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if multioutput.ndim != 1:
            raise ValueError(f"multioutput weights must be 1-D, got shape {multioutput.shape}.")
        if yt.shape[1] == 1 and check_custom_weights:
            raise ValueError("Custom weights are useful only in multi-output cases.")
        if yt.shape[1] != multioutput.shape[0] and (check_custom_weights or yt.shape[1] > 1):
            raise ValueError(
                f"There must be equally many custom weights ({multioutput.shape[0]}) as outputs "
                f"({yt.shape[1]})."
            )
    return yt, yp, sw, multioutput


def _combine(errors: np.ndarray, multioutput: Any) -> Any:
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors
        return float(np.mean(errors))
    if np.sum(multioutput) == 0:
        raise ValueError("multioutput weights sum to zero; the weighted average is undefined.")
    return float(np.average(errors, weights=multioutput))


def mean_absolute_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average"
) -> Any:
    """Mean absolute error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {'raw_values', 'uniform_average'} or array-like of shape (n_outputs,)
        How to combine outputs ('raw_values' returns one error per output).

    Returns
    -------
    loss : float or ndarray of floats

    Examples
    --------
    >>> mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(weighted_mean(np.abs(yp - yt), sw, axis=0), mo)


def mean_squared_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average"
) -> Any:
    """Mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {'raw_values', 'uniform_average'} or array-like of shape (n_outputs,)

    Returns
    -------
    loss : float or ndarray of floats

    Examples
    --------
    >>> mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.375
    """
    yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(weighted_mean((yt - yp) ** 2, sw, axis=0), mo)


def root_mean_squared_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average"
) -> Any:
    """Root mean squared error (per output, then combined).

    Examples
    --------
    >>> round(root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 3)
    0.612
    """
    # like scikit-learn, custom weights are not rejected for a single output here
    yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, check_custom_weights=False)
    return _combine(np.sqrt(weighted_mean((yt - yp) ** 2, sw, axis=0)), mo)


def mean_absolute_percentage_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average"
) -> Any:
    """Mean absolute percentage error as a fraction (|y - ŷ| / max(|y|, eps)).

    Examples
    --------
    >>> round(mean_absolute_percentage_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 4)
    0.3274
    """
    yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput)
    eps = np.finfo(np.float64).eps
    mape = np.abs(yp - yt) / np.maximum(np.abs(yt), eps)
    return _combine(weighted_mean(mape, sw, axis=0), mo)


def r2_score(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
    force_finite: bool = True,
) -> Any:
    """Coefficient of determination :math:`R^2`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {'raw_values', 'uniform_average', 'variance_weighted'} or array-like
    force_finite : bool, default=True
        Constant ``y_true``: 1.0 for a perfect prediction, else 0.0 (instead of NaN / -inf).

    Returns
    -------
    z : float or ndarray of floats
        NaN with :class:`UndefinedMetricWarning` for fewer than two samples.

    Examples
    --------
    >>> round(r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 4)
    0.9486
    """
    yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allow_variance_weighted=True)
    if yt.shape[0] < 2:
        warnings.warn(
            "R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning, stacklevel=2
        )
        return float("nan")
    w = 1.0 if sw is None else sw[:, None]
    numerator = np.sum(w * (yt - yp) ** 2, axis=0)
    denominator = np.sum(w * (yt - weighted_mean(yt, sw, axis=0)) ** 2, axis=0)
    nonzero_den = denominator != 0
    if not force_finite:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    else:
        nonzero_num = numerator != 0
        scores = np.ones(yt.shape[1])
        valid = nonzero_den & nonzero_num
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[nonzero_num & ~nonzero_den] = 0.0
    if isinstance(mo, str):
        if mo == "raw_values":
            return scores
        if mo == "uniform_average":
            return float(np.mean(scores))
        weights = denominator if nonzero_den.any() else None
        return float(np.average(scores, weights=weights))
    return _combine(scores, mo)
