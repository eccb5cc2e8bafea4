"""Resampling p-values of ``chi2_contingency(..., method=...)``, as SciPy (numpy only).

SciPy accepts ``method=scipy.stats.PermutationMethod(...)`` or ``MonteCarloMethod(...)``; the layer
reads the same attributes (``n_resamples``, ``batch``, ``rng``, ``rvs``) from any object whose class
has one of those names, so SciPy's own method objects work without the layer importing SciPy.

Under independence both methods draw tables with the observed margins: the permutation method
re-pairs the row labels of the observations with their column labels (exactly, over every
permutation, when there are no more than ``n_resamples`` of them), the Monte Carlo method draws
random tables with the same margins (the same null distribution, drawn the same way here).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

__all__ = ["chi2_resampling_pvalue"]

_BATCH = 1024


def _name(method: Any) -> str:
    names = ("PermutationMethod", "MonteCarloMethod")
    return next((c.__name__ for c in type(method).__mro__ if c.__name__ in names), "")


def check_method(method: Any, ndim: int, correction: bool, lambda_: Any) -> str:
    """Validate ``method`` as SciPy does; return 'permutation' or 'monte_carlo'."""
    if ndim != 2:
        raise ValueError("Use of `method` is only compatible with two-way tables.")
    if correction:
        raise ValueError(f"`correction={correction!r}` is not compatible with `method={method!r}.`")
    if lambda_ is not None:
        raise ValueError(f"`lambda_={lambda_!r}` is not compatible with `method={method!r}.`")
    kind = _name(method)
    if kind == "PermutationMethod":
        return "permutation"
    if kind == "MonteCarloMethod":
        if getattr(method, "rvs", None) is not None:
            raise ValueError(
                "If the `method` argument of `chi2_contingency` is an instance of `MonteCarloMethod`, its "
                "`rvs` attribute must be unspecified. Use the `MonteCarloMethod` `rng` argument to control "
                "the random state."
            )
        return "monte_carlo"
    raise ValueError(
        f"`method={method!r}` not recognized; if provided, `method` must be an instance of "
        "`PermutationMethod` or `MonteCarloMethod`."
    )


def _stats(tables: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.sum((tables - expected) ** 2 / expected, axis=-1)


def chi2_resampling_pvalue(observed: np.ndarray, expected: np.ndarray, statistic: float, method: Any) -> float:
    """The p-value of Pearson's statistic under resampled tables with the observed margins
    (``alternative='greater'``, SciPy's tolerance ``100 eps`` on ties)."""
    counts = np.asarray(observed).astype(np.int64)
    r, c = counts.shape
    flat = counts.ravel()
    cells = np.repeat(np.arange(r * c), flat)
    rows, cols = cells // c, cells % c
    n = rows.size
    exp = expected.ravel()
    n_resamples = int(getattr(method, "n_resamples", 9999))
    batch = getattr(method, "batch", None) or _BATCH
    gamma = abs(np.finfo(np.float64).eps * 100 * statistic)
    exact = _name(method) == "PermutationMethod" and math.factorial(n) <= n_resamples
    hits = 0
    if exact:
        # every ordering of the row labels (SciPy's exact 'pairings' test counts each ordering)
        perms = itertools.permutations(rows.tolist())
        total = math.factorial(n)
        while True:
            chunk = np.array(list(itertools.islice(perms, batch)), dtype=np.int64)
            if chunk.size == 0:
                break
            hits += int(np.sum(_stats(_tabulate(chunk, cols, r, c), exp) >= statistic - gamma))
        return hits / total
    rng = np.random.default_rng(getattr(method, "rng", None))
    done = 0
    while done < n_resamples:
        b = min(batch, n_resamples - done)
        perm = rng.permuted(np.broadcast_to(rows, (b, n)), axis=1)
        hits += int(np.sum(_stats(_tabulate(perm, cols, r, c), exp) >= statistic - gamma))
        done += b
    return (hits + 1) / (n_resamples + 1)


def _tabulate(row_labels: np.ndarray, cols: np.ndarray, r: int, c: int) -> np.ndarray:
    """Tables (one per row of ``row_labels``) of the pairs (row label, ``cols``), as float rows."""
    b = row_labels.shape[0]
    keys = row_labels * c + cols + (np.arange(b) * (r * c))[:, None]
    return np.bincount(keys.ravel(), minlength=b * r * c).reshape(b, r * c).astype(np.float64)
