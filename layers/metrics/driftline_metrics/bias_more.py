"""The SageMaker Clarify bias metrics :mod:`driftline_metrics.bias` does not define, numpy only.

Pre-training: conditional demographic disparity in labels (CDDL). Post-training: difference in conditional
acceptance (DCAcc) and rejection (DCR), difference in acceptance (DAR) and rejection rates (DRR), and treatment
equality (TE). Definitions as the Clarify documentation gives them ("Pre-training bias metrics", "Post-training
data and model bias metrics") and its reference implementation (``smclarify.bias.metrics.common``: ``DCO``,
``DLR``, ``CDD``; ``posttraining.TE``):

* ``DCAcc = c_a - c_d`` with ``c = n^(1) / n'^(1)`` (observed over predicted positives);
* ``DCR = r_d - r_a`` with ``r = n^(0) / n'^(0)`` (observed over predicted negatives);
* ``DAR = TP_a / n'_a^(1) - TP_d / n'_d^(1)`` (precision difference);
* ``DRR = TN_d / n'_d^(0) - TN_a / n'_a^(0)``;
* ``TE = FN_d / FP_d - FN_a / FP_a``;
* ``CDDL = (1/n) sum_i n_i DD_i`` with ``DD_i = n_d^(0)_i / n^(0)_i - n_d^(1)_i / n^(1)_i`` per group ``i``
  (a group without rejected or accepted rows contributes 0 for that share, as Clarify).

Ratios with a zero denominator follow Clarify's ``divide``: ``0/0 = 0``, ``x/0 = +inf``; two infinite terms
give a difference of 0. Inputs are boolean arrays: ``sensitive`` (the facet's group ``d``), ``label`` (positive
observed outcome), ``predicted`` (positive predicted outcome).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["conditional_demographic_disparity", "post_training_counts", "post_training_extra"]


def _divide(a: float, b: float) -> float:
    if b == 0:
        return 0.0 if a == 0 else (math.inf if a > 0 else -math.inf)
    return a / b


def _diff(x: float, y: float) -> float:
    return 0.0 if x == y and math.isinf(x) else x - y


def _bools(x: Any, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != np.bool_ or arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D boolean array, got dtype {arr.dtype} and shape {arr.shape}.")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} rows, expected {n}.")
    return arr


def post_training_counts(sensitive: Any, label: Any, predicted: Any) -> dict[str, dict[str, int]]:
    """Per group (``a``: advantaged, ``d``: sensitive) the confusion counts ``TP, FP, FN, TN``."""
    s = _bools(sensitive, "sensitive")
    y = _bools(label, "label", s.size)
    p = _bools(predicted, "predicted", s.size)
    if not s.any():
        raise ValueError("Facet set is empty: no row belongs to the sensitive group.")
    if s.all():
        raise ValueError("Negated facet set is empty: every row belongs to the sensitive group.")
    out = {}
    for g, m in (("a", ~s), ("d", s)):
        out[g] = {"TP": int(np.count_nonzero(y & p & m)), "FP": int(np.count_nonzero(~y & p & m)),
                  "FN": int(np.count_nonzero(y & ~p & m)), "TN": int(np.count_nonzero(~y & ~p & m))}
    return out


def post_training_extra(sensitive: Any, label: Any, predicted: Any) -> dict[str, float]:
    """``DCAcc``, ``DCR``, ``DAR``, ``DRR``, ``TE`` of one facet.

    Examples
    --------
    >>> r = post_training_extra(np.array([0, 0, 0, 1, 1, 1], bool), np.array([1, 1, 0, 1, 0, 0], bool),
    ...                         np.array([1, 0, 0, 1, 1, 0], bool))
    >>> r["DCAcc"], r["DAR"]
    (1.5, 0.5)
    """
    c = post_training_counts(sensitive, label, predicted)
    a, d = c["a"], c["d"]
    n1 = {g: x["TP"] + x["FN"] for g, x in c.items()}
    n0 = {g: x["TN"] + x["FP"] for g, x in c.items()}
    p1 = {g: x["TP"] + x["FP"] for g, x in c.items()}
    p0 = {g: x["TN"] + x["FN"] for g, x in c.items()}
    ca, cd = _divide(n1["a"], p1["a"]), _divide(n1["d"], p1["d"])
    ra, rd = _divide(n0["a"], p0["a"]), _divide(n0["d"], p0["d"])
    ara, ard = _divide(a["TP"], p1["a"]), _divide(d["TP"], p1["d"])
    rra, rrd = _divide(a["TN"], p0["a"]), _divide(d["TN"], p0["d"])
    ta, td = _divide(a["FN"], a["FP"]), _divide(d["FN"], d["FP"])
    return {"DCAcc": _diff(ca, cd), "DCR": _diff(rd, ra), "DAR": _diff(ara, ard), "DRR": _diff(rrd, rra),
            "TE": _diff(td, ta)}


def conditional_demographic_disparity(sensitive: Any, outcome: Any, groups: Any) -> float:
    """CDD of ``outcome`` (observed labels: CDDL; predicted: CDDPL) over the ``groups`` strata.

    Raises ``ValueError`` when no row has a positive or no row a negative outcome (Clarify's convention).

    Examples
    --------
    >>> s = np.array([1, 1, 0, 0, 1, 0], bool); y = np.array([0, 1, 1, 1, 0, 0], bool)
    >>> round(conditional_demographic_disparity(s, y, np.array(["x", "x", "x", "y", "y", "y"])), 6)
    0.5
    """
    s = _bools(sensitive, "sensitive")
    y = _bools(outcome, "outcome", s.size)
    g = np.asarray(groups)
    if g.ndim != 1 or g.size != s.size:
        raise ValueError(f"groups must be 1-D with {s.size} rows, got shape {g.shape}.")
    if not y.any():
        raise ValueError("No positive labels in set.")
    if y.all():
        raise ValueError("No negative labels in set.")
    values, inv = np.unique(g, return_inverse=True)
    k = values.size
    n_i = np.bincount(inv, minlength=k).astype(np.float64)
    acc = np.bincount(inv[y], minlength=k).astype(np.float64)
    acc_d = np.bincount(inv[y & s], minlength=k).astype(np.float64)
    rej = np.bincount(inv[~y], minlength=k).astype(np.float64)
    rej_d = np.bincount(inv[~y & s], minlength=k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_a = np.where(acc > 0, acc_d / np.where(acc > 0, acc, 1.0), 0.0)
        share_r = np.where(rej > 0, rej_d / np.where(rej > 0, rej, 1.0), 0.0)
    return float(np.sum(n_i * (share_r - share_a)) / np.sum(n_i))
