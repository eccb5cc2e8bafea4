"""Multiple-testing corrections, numpy only: :func:`bonferroni`, :func:`benjamini_hochberg`,
:func:`multipletests_reject` (as ``statsmodels.stats.multitest``)."""

from __future__ import annotations

from typing import Any

import numpy as np


# ============================================================================================
# Multiple testing
# ============================================================================================
def _check_pvalues(pvalues: Any) -> np.ndarray:
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"pvalues must be 1-D, got shape {p.shape}.")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("pvalues must all be in [0, 1] (no NaN).")
    return p


def bonferroni(pvalues: Any) -> np.ndarray:
    """Bonferroni-adjusted p-values ``min(m * p_i, 1)`` for ``m`` tests.

    Same as ``statsmodels.stats.multitest.multipletests(p, method='bonferroni')[1]``.

    Examples
    --------
    >>> bonferroni([0.01, 0.04, 0.5]).tolist()
    [0.03, 0.12, 1.0]
    """
    p = _check_pvalues(pvalues)
    return np.minimum(p * p.size, 1.0)


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Benjamini–Hochberg (false discovery rate) adjusted p-values.

    With ``p_(1) <= ... <= p_(m)`` the sorted p-values, ``adj_(i) = min_{j >= i} m p_(j) / j``
    clipped to 1, returned in the input order; monotone in ``p``. Same as statsmodels'
    ``multipletests(p, method='fdr_bh')[1]``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(12).tolist()
    [0.03, 0.04, 0.04]
    """
    p = _check_pvalues(pvalues)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] / (np.arange(1, m + 1) / m)  # statsmodels' pvals_sorted / ecdffactor
    adj_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(adj_sorted, 1.0)
    return adj


def multipletests_reject(pvalues: Any, *, alpha: float = 0.05, method: str = "fdr_bh") -> np.ndarray:
    """Boolean mask of hypotheses rejected at family level ``alpha``.

    ``method='bonferroni'`` rejects ``p_i <= alpha / m``; ``method='fdr_bh'`` rejects the ``k``
    smallest p-values where ``k`` is the largest ``i`` with ``p_(i) <= i alpha / m`` (the
    step-up rule, equivalent to ``benjamini_hochberg(p) <= alpha``). As statsmodels'
    ``multipletests(p, alpha, method)[0]``.

    Examples
    --------
    >>> multipletests_reject([0.01, 0.04, 0.03], alpha=0.05).tolist()
    [True, True, True]
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    p = _check_pvalues(pvalues)
    m = p.size
    if method == "bonferroni":
        return p <= alpha / m
    if method != "fdr_bh":
        raise ValueError(f"method must be 'bonferroni' or 'fdr_bh', got {method!r}.")
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p, kind="mergesort")
    below = p[order] <= np.arange(1, m + 1) / m * alpha
    reject = np.zeros(m, dtype=bool)
    if below.any():
        k = int(np.nonzero(below)[0].max())
        reject[order[: k + 1]] = True
    return reject
