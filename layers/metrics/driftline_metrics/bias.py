"""SageMaker Clarify bias metrics for one facet, numpy only.

Definitions follow the Amazon SageMaker Clarify documentation ("Pre-training bias metrics" and
"Post-training data and model bias metrics", https://docs.aws.amazon.com/sagemaker/latest/dg/
clarify-measure-data-bias.html and .../clarify-measure-post-training-bias.html) and its reference
implementation ``smclarify.bias.metrics`` (pretraining.py, posttraining.py, common.py).

Terminology (Clarify's): the *facet* selects the **disadvantaged** group ``d`` (Clarify's
"sensitive facet"); every other row is the **advantaged** group ``a``. ``n_a``, ``n_d`` are the
group sizes; ``q_a``, ``q_d`` the proportions of positive *observed* labels in each group and
``q'_a``, ``q'_d`` those of positive *predicted* labels.

Conventions, as Clarify:

* an empty group (no row in the facet, or every row in it) raises ``ValueError``;
* the label-distribution metrics (KL, JS, Lp, TVD, KS) compare ``P_a`` and ``P_d``, the
  distributions of the (possibly multi-class) labels in each group, restricted to the label values
  observed with non-zero frequency in *both* groups (``smclarify.util.pdfs_aligned_nonzero``; no
  renormalisation). No common label value raises ``ValueError``;
* a ratio ``x / 0`` inside DI, AD and RD follows Clarify's ``divide``: ``0 / 0 = 0`` and
  ``x / 0 = +inf`` for ``x > 0``; here an :class:`UndefinedMetricWarning` says so.

All functions take the facet either as a boolean mask (``True`` = disadvantaged) or as values
plus ``facet_value`` (a value or a list of values marking the disadvantaged group), and the
positive outcome as ``positive_label`` (a value or a list of values).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .exceptions import UndefinedMetricWarning

__all__ = [
    "accuracy_difference",
    "class_imbalance",
    "difference_in_positive_proportions_in_predicted_labels",
    "difference_in_proportions_of_labels",
    "disparate_impact",
    "jensen_shannon_divergence",
    "kl_divergence",
    "kolmogorov_smirnov",
    "lp_norm",
    "recall_difference",
    "report",
    "total_variation_distance",
]


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _values_1d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got shape {arr.shape}.")
    return arr


def _membership(values: np.ndarray, selector: Any) -> np.ndarray:
    sel = np.asarray(selector)
    sel = sel.ravel() if sel.ndim else sel.reshape(1)
    try:
        return np.isin(values, sel)
    except TypeError as exc:  # pragma: no cover - exotic mixed object arrays
        raise ValueError(f"cannot compare values of dtype {values.dtype} with {selector!r}.") from exc


def _facet_mask(facet: Any, facet_value: Any, n: int | None = None) -> np.ndarray:
    f = _values_1d(facet, "facet")
    if facet_value is None:
        if f.dtype != np.bool_:
            raise ValueError(
                "facet must be a boolean mask (True = disadvantaged group) when facet_value is None; "
                f"got dtype {f.dtype}. Pass facet_value= to select the disadvantaged group by value."
            )
        mask = f
    else:
        mask = _membership(f, facet_value)
    if n is not None and mask.size != n:
        raise ValueError(f"facet has {mask.size} rows but the labels have {n}.")
    n_d = int(mask.sum())
    if n_d == 0:
        raise ValueError("Facet set is empty: no row belongs to the disadvantaged group (check facet_value).")
    if n_d == mask.size:
        raise ValueError("Negated facet set is empty: every row belongs to the disadvantaged group.")
    return mask


def _positive(y: Any, positive_label: Any, name: str) -> np.ndarray:
    arr = _values_1d(y, name)
    if arr.dtype == np.bool_ and positive_label is None:
        return arr
    if positive_label is None:
        raise ValueError(f"positive_label is required unless {name} is boolean.")
    return _membership(arr, positive_label)


def _divide(a: float, b: float, what: str) -> float:
    """Clarify's ``divide``: ``0/0 = 0``, ``x/0 = +-inf``; warns when the denominator is 0."""
    if b == 0:
        warnings.warn(
            f"{what}: denominator is 0; following SageMaker Clarify the ratio is {'0' if a == 0 else 'inf'}.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        if a == 0:
            return 0.0
        return math.inf if a > 0 else -math.inf
    return a / b


def _aligned_nonzero(labels: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(P_a, P_d)`` over label values with non-zero frequency in both groups."""
    values, inv = np.unique(labels, return_inverse=True)
    k = values.size
    ca = np.bincount(inv[~mask], minlength=k).astype(np.float64)
    cd = np.bincount(inv[mask], minlength=k).astype(np.float64)
    pa = ca / ca.sum()
    pd = cd / cd.sum()
    keep = (pa > 0) & (pd > 0)
    if not keep.any():
        raise ValueError("No label value occurs in both groups; the label distributions cannot be compared.")
    return pa[keep], pd[keep]


def _label_dists(y_true: Any, facet: Any, facet_value: Any) -> tuple[np.ndarray, np.ndarray]:
    labels = _values_1d(y_true, "y_true")
    mask = _facet_mask(facet, facet_value, labels.size)
    return _aligned_nonzero(labels, mask)


# --------------------------------------------------------------------------------------------
# pre-training metrics
# --------------------------------------------------------------------------------------------
def class_imbalance(facet: Any, *, facet_value: Any = None) -> float:
    """Class imbalance ``CI = (n_a - n_d) / (n_a + n_d)``, in ``[-1, 1]`` (Clarify "CI").

    Positive when the disadvantaged group is under-represented.

    Examples
    --------
    >>> class_imbalance(["m", "m", "m", "f"], facet_value="f")
    0.5
    """
    mask = _facet_mask(facet, facet_value)
    n_d = int(mask.sum())
    n_a = mask.size - n_d
    return float((n_a - n_d) / (n_a + n_d))


def _dpl(pos: np.ndarray, mask: np.ndarray) -> float:
    n_d = int(mask.sum())
    n_a = mask.size - n_d
    q_a = int(np.count_nonzero(pos & ~mask)) / n_a
    q_d = int(np.count_nonzero(pos & mask)) / n_d
    return float(q_a - q_d)


def difference_in_proportions_of_labels(
    y_true: Any, facet: Any, *, facet_value: Any = None, positive_label: Any = 1
) -> float:
    """Difference in proportions of labels ``DPL = q_a - q_d`` (Clarify "DPL"), in ``[-1, 1]``.

    ``q_a = n_a^(1) / n_a`` and ``q_d = n_d^(1) / n_d``, the fractions of positive observed labels.

    Examples
    --------
    >>> difference_in_proportions_of_labels([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1)
    0.3333333333333333
    """
    pos = _positive(y_true, positive_label, "y_true")
    mask = _facet_mask(facet, facet_value, pos.size)
    return _dpl(pos, mask)


def kl_divergence(y_true: Any, facet: Any, *, facet_value: Any = None) -> float:
    """Kullback–Leibler divergence ``KL(P_a || P_d) = sum_y P_a(y) ln(P_a(y) / P_d(y))`` (Clarify "KL").

    Over the label values present in both groups (see the module notes).

    Examples
    --------
    >>> round(kl_divergence([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1), 6)
    0.231049
    """
    pa, pd = _label_dists(y_true, facet, facet_value)
    return float(np.sum(pa * np.log(pa / pd)))


def jensen_shannon_divergence(y_true: Any, facet: Any, *, facet_value: Any = None) -> float:
    """Jensen–Shannon divergence ``JS = 1/2 [KL(P_a || P) + KL(P_d || P)]``, ``P = (P_a + P_d) / 2``.

    Clarify "JS" (a divergence, natural log; not the square-rooted distance of
    :func:`driftline_metrics.drift.jensenshannon`).

    Examples
    --------
    >>> round(jensen_shannon_divergence([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1), 6)
    0.056633
    """
    pa, pd = _label_dists(y_true, facet, facet_value)
    m = 0.5 * (pa + pd)
    return float(0.5 * (np.sum(pa * np.log(pa / m)) + np.sum(pd * np.log(pd / m))))


def lp_norm(y_true: Any, facet: Any, *, facet_value: Any = None, p: float = 2) -> float:
    """Lp-norm ``Lp(P_a, P_d) = (sum_y |P_a(y) - P_d(y)|^p)^(1/p)`` (Clarify "LP", ``p = 2``).

    Examples
    --------
    >>> round(lp_norm([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1), 6)
    0.471405
    """
    if not (p >= 1):
        raise ValueError(f"p must be >= 1 (or inf), got {p!r}.")
    pa, pd = _label_dists(y_true, facet, facet_value)
    return float(np.linalg.norm(pa - pd, p))


def total_variation_distance(y_true: Any, facet: Any, *, facet_value: Any = None) -> float:
    """Total variation distance ``TVD = 1/2 sum_y |P_a(y) - P_d(y)|`` (Clarify "TVD").

    Examples
    --------
    >>> round(total_variation_distance([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1), 6)
    0.333333
    """
    pa, pd = _label_dists(y_true, facet, facet_value)
    return float(0.5 * np.sum(np.abs(pa - pd)))


def kolmogorov_smirnov(y_true: Any, facet: Any, *, facet_value: Any = None) -> float:
    """Kolmogorov–Smirnov distance ``KS = max_y |P_a(y) - P_d(y)|`` (Clarify "KS").

    Clarify's KS is the largest difference of the label *probabilities* (an L-infinity norm), not
    of their CDFs.

    Examples
    --------
    >>> round(kolmogorov_smirnov([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1), 6)
    0.333333
    """
    pa, pd = _label_dists(y_true, facet, facet_value)
    return float(np.max(np.abs(pa - pd)))


# --------------------------------------------------------------------------------------------
# post-training metrics
# --------------------------------------------------------------------------------------------
def difference_in_positive_proportions_in_predicted_labels(
    y_pred: Any, facet: Any, *, facet_value: Any = None, positive_label: Any = 1
) -> float:
    """DPPL ``= q'_a - q'_d``, the DPL of the *predicted* labels (Clarify "DPPL").

    Examples
    --------
    >>> difference_in_positive_proportions_in_predicted_labels([1, 1, 0, 0, 0, 1], [0, 0, 0, 1, 1, 1], facet_value=1)
    0.3333333333333333
    """
    pos = _positive(y_pred, positive_label, "y_pred")
    mask = _facet_mask(facet, facet_value, pos.size)
    return _dpl(pos, mask)


def disparate_impact(y_pred: Any, facet: Any, *, facet_value: Any = None, positive_label: Any = 1) -> float:
    """Disparate impact ``DI = q'_d / q'_a`` (Clarify "DI"); 1 is parity.

    ``q'_a = n'_a^(1) / n_a`` and ``q'_d = n'_d^(1) / n_d`` are the proportions of positive predicted
    labels. ``q'_a = 0`` follows Clarify: ``0`` if ``q'_d = 0`` too, else ``inf`` (with a warning).

    Examples
    --------
    >>> disparate_impact([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1)
    0.5
    """
    pos = _positive(y_pred, positive_label, "y_pred")
    mask = _facet_mask(facet, facet_value, pos.size)
    n_d = int(mask.sum())
    n_a = mask.size - n_d
    q_a = int(np.count_nonzero(pos & ~mask)) / n_a
    q_d = int(np.count_nonzero(pos & mask)) / n_d
    return float(_divide(q_d, q_a, "disparate_impact (no positive prediction in the advantaged group)"))


def accuracy_difference(
    y_true: Any, y_pred: Any, facet: Any, *, facet_value: Any = None, positive_label: Any = 1
) -> float:
    """Accuracy difference ``AD = ACC_a - ACC_d`` (Clarify "AD").

    ``ACC = (TP + TN) / (TP + TN + FP + FN)`` within each group, after binarising observed and
    predicted labels by ``positive_label``.

    Examples
    --------
    >>> accuracy_difference([1, 0, 1, 1, 0, 0], [1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1], facet_value=1)
    0.0
    """
    yt = _positive(y_true, positive_label, "y_true")
    yp = _positive(y_pred, positive_label, "y_pred")
    if yt.size != yp.size:
        raise ValueError(f"y_true and y_pred have different lengths: {yt.size} and {yp.size}.")
    mask = _facet_mask(facet, facet_value, yt.size)
    correct = yt == yp
    acc_a = int(np.count_nonzero(correct & ~mask)) / int(np.count_nonzero(~mask))
    acc_d = int(np.count_nonzero(correct & mask)) / int(np.count_nonzero(mask))
    return float(acc_a - acc_d)


def recall_difference(
    y_true: Any, y_pred: Any, facet: Any, *, facet_value: Any = None, positive_label: Any = 1
) -> float:
    """Recall difference ``RD = TP_a / (TP_a + FN_a) - TP_d / (TP_d + FN_d)`` (Clarify "RD").

    A group with no positive observed label has recall ``0 / 0 = 0`` (Clarify's convention; warned).

    Examples
    --------
    >>> recall_difference([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1)
    0.5
    """
    yt = _positive(y_true, positive_label, "y_true")
    yp = _positive(y_pred, positive_label, "y_pred")
    if yt.size != yp.size:
        raise ValueError(f"y_true and y_pred have different lengths: {yt.size} and {yp.size}.")
    mask = _facet_mask(facet, facet_value, yt.size)
    tp_a = int(np.count_nonzero(yt & yp & ~mask))
    fn_a = int(np.count_nonzero(yt & ~yp & ~mask))
    tp_d = int(np.count_nonzero(yt & yp & mask))
    fn_d = int(np.count_nonzero(yt & ~yp & mask))
    rec_a = _divide(tp_a, tp_a + fn_a, "recall_difference (no positive label in the advantaged group)")
    rec_d = _divide(tp_d, tp_d + fn_d, "recall_difference (no positive label in the disadvantaged group)")
    return float(rec_a - rec_d)


def report(
    y_true: Any,
    facet: Any,
    *,
    facet_value: Any = None,
    positive_label: Any = 1,
    y_pred: Any = None,
    p: float = 2,
) -> dict[str, float]:
    """All Clarify metrics of this module for one facet, keyed by Clarify's short names.

    Pre-training: ``CI``, ``DPL``, ``KL``, ``JS``, ``LP`` (order ``p``), ``TVD``, ``KS``; with
    ``y_pred`` also post-training ``DPPL``, ``DI``, ``AD``, ``RD``.

    Examples
    --------
    >>> r = report([1, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 1], facet_value=1, y_pred=[1, 1, 0, 1, 0, 0])
    >>> sorted(r)
    ['AD', 'CI', 'DI', 'DPL', 'DPPL', 'JS', 'KL', 'KS', 'LP', 'RD', 'TVD']
    """
    kw = {"facet_value": facet_value}
    out = {
        "CI": class_imbalance(facet, **kw),
        "DPL": difference_in_proportions_of_labels(y_true, facet, positive_label=positive_label, **kw),
        "KL": kl_divergence(y_true, facet, **kw),
        "JS": jensen_shannon_divergence(y_true, facet, **kw),
        "LP": lp_norm(y_true, facet, p=p, **kw),
        "TVD": total_variation_distance(y_true, facet, **kw),
        "KS": kolmogorov_smirnov(y_true, facet, **kw),
    }
    if y_pred is not None:
        out["DPPL"] = difference_in_positive_proportions_in_predicted_labels(
            y_pred, facet, positive_label=positive_label, **kw
        )
        out["DI"] = disparate_impact(y_pred, facet, positive_label=positive_label, **kw)
        out["AD"] = accuracy_difference(y_true, y_pred, facet, positive_label=positive_label, **kw)
        out["RD"] = recall_difference(y_true, y_pred, facet, positive_label=positive_label, **kw)
    return out
