"""Drift statistics, numpy only: SciPy-compatible tests and distances plus the measures SciPy lacks.

SciPy-compatible (same names, signatures and semantics as ``scipy.stats`` /
``scipy.spatial.distance``): :func:`ks_2samp`, :func:`wasserstein_distance`, :func:`jensenshannon`,
:func:`entropy`, :func:`chisquare`, :func:`chi2_contingency`.

Drift measures SciPy lacks: :func:`psi` / :func:`psi_from_counts`, :func:`hellinger_distance` /
:func:`hellinger_distance_samples`, :func:`total_variation_distance`, :func:`linf_distance`
(SageMaker Model Monitor's categorical check), :func:`normalized_wasserstein`, the multiple-testing
corrections :func:`bonferroni` / :func:`benjamini_hochberg` / :func:`multipletests_reject`, and
:func:`feature_drift`, which computes KS, Wasserstein, PSI and Jensen–Shannon for many features
sharing one sort per sample.

The Kolmogorov–Smirnov distributions are ports of the algorithms SciPy uses, so p-values agree with
``scipy.stats.ks_2samp`` to rounding:

* the exact two-sample null distribution (Hodges 1958; Viehmann 2021 for the stable ``1 - p``
  recursion);
* the finite-``n`` two-sided one-sample distribution ``kstwo`` (Simard & L'Ecuyer 2011: Durbin
  matrix, Pomeranz recursion, Pelz–Good expansion, ``2 * smirnov``) that ``method='asymp'``
  evaluates at ``n = round(n1 n2 / (n1 + n2))``;
* the one-sided Smirnov ``D_n^+`` survival function (Birnbaum–Tingey sum) evaluated in log space;
* the Kolmogorov limit ``P(K > z)`` (:func:`kolmogorov_sf`).

Layout, by concept as in SciPy: the distributions and special functions live in
``_distributions``, the hypothesis tests in ``_tests``, the distances in ``_distances``, the
multiple-testing corrections in ``_multitest``; this module re-exports them all (import from here)
and holds :func:`feature_drift`, which combines them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._distances import (
    _check_bins,
    _counts_sorted,
    _quantiles_of_sorted,
    category_proportions,
    entropy,
    hellinger_distance,
    hellinger_distance_samples,
    jensenshannon,
    linf_distance,
    normalized_wasserstein,
    psi,
    psi_from_counts,
    quantile_edges,
    total_variation_distance,
    wasserstein_distance,
)
from ._distributions import chi2_sf, exact_two_sample_sf, gammaincc, kolmogorov_sf, kstwo_sf, smirnov_sf
from ._multitest import benjamini_hochberg, bonferroni, multipletests_reject
from ._tests import (
    Chi2ContingencyResult,
    KstestResult,
    Power_divergenceResult,
    _check_ks_options,
    _ks_pvalue,
    chi2_contingency,
    chisquare,
    ks_2samp,
)

__all__ = [
    "Chi2ContingencyResult",
    "KstestResult",
    "Power_divergenceResult",
    "benjamini_hochberg",
    "bonferroni",
    "category_proportions",
    "chi2_contingency",
    "chi2_sf",
    "chisquare",
    "entropy",
    "exact_two_sample_sf",
    "feature_drift",
    "gammaincc",
    "hellinger_distance",
    "hellinger_distance_samples",
    "jensenshannon",
    "kolmogorov_sf",
    "ks_2samp",
    "kstwo_sf",
    "linf_distance",
    "multipletests_reject",
    "normalized_wasserstein",
    "psi",
    "psi_from_counts",
    "quantile_edges",
    "smirnov_sf",
    "total_variation_distance",
    "wasserstein_distance",
]


# ============================================================================================
# Many features at once, sharing the sorts
# ============================================================================================
def _as_2d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D (one feature) or 2-D (n_samples, n_features); got {arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row.")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; drop or impute missing values first.")
    return arr


def feature_drift(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    eps: float = 1e-4,
    ks_method: str = "auto",
    js_base: float | None = None,
) -> dict[str, np.ndarray]:
    """KS, Wasserstein, PSI and Jensen–Shannon for every feature, sorting each sample once.

    Per feature ``j`` (column), with ``r = reference[:, j]`` and ``c = current[:, j]``:

    * ``ks_statistic``, ``ks_pvalue``: ``ks_2samp(r, c, method=ks_method)`` (two-sided);
    * ``wasserstein``: ``wasserstein_distance(r, c)``;
    * ``psi``: ``psi(r, c, bins=bins, eps=eps)``;
    * ``jensenshannon``: ``jensenshannon(hist_r, hist_c, base=js_base)`` on the same reference
      quantile bins PSI uses (raw proportions, no smoothing).

    The four share one sort of each column: one stable merge of the two sorted columns gives the
    ECDF gap on the pooled values (counts by cumulative sums, read at the end of each run of ties),
    hence both the KS statistic and the Wasserstein integral; the quantile edges and bin counts are
    read off the sorted reference and current columns with ``searchsorted``.

    Returns
    -------
    dict of str to ndarray
        Keys ``ks_statistic``, ``ks_pvalue``, ``wasserstein``, ``psi``, ``jensenshannon``, each of
        shape ``(n_features,)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out = feature_drift(rng.normal(size=(500, 2)), rng.normal(0.5, 1, size=(400, 2)))
    >>> sorted(out)
    ['jensenshannon', 'ks_pvalue', 'ks_statistic', 'psi', 'wasserstein']
    """
    ks_method = ks_method if ks_method in ("auto", "exact", "asymp") else _check_ks_options("two-sided", ks_method)
    bins = _check_bins(bins)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}.")
    ref = _as_2d(reference, "reference")
    cur = _as_2d(current, "current")
    if ref.shape[1] != cur.shape[1]:
        raise ValueError(
            f"reference and current must have the same number of features, got {ref.shape[1]} and {cur.shape[1]}."
        )
    n1, n2 = ref.shape[0], cur.shape[0]
    k = ref.shape[1]
    ref_sorted = np.sort(ref.T, axis=1)  # (n_features, n): each feature contiguous
    cur_sorted = np.sort(cur.T, axis=1)
    out = {name: np.empty(k) for name in ("ks_statistic", "ks_pvalue", "wasserstein", "psi", "jensenshannon")}
    qs = np.linspace(0.0, 1.0, bins + 1)
    # work buffers reused across features (fresh large allocations cost page faults every time)
    n = n1 + n2
    pooled = np.empty(n)
    all_values = np.empty(n)
    is_a = np.empty(n, dtype=bool)
    g = np.empty(n, dtype=np.int64)
    gap = np.empty(n)
    delta = np.empty(n - 1)
    last = np.empty(n, dtype=bool)
    last[-1] = True
    n1_ramp = n1 * np.arange(1, n + 1, dtype=np.int64)
    for j in range(k):
        a = ref_sorted[j]
        b = cur_sorted[j]
        # merge the two sorted runs once; a stable argsort keeps a's before b's on ties
        pooled[:n1] = a
        pooled[n1:] = b
        order = np.argsort(pooled, kind="stable")
        np.take(pooled, order, out=all_values)
        # g = n1 * n2 * (ECDF_a - ECDF_b) on the pooled values, exactly, in integers:
        # with c_a a's and c_b = i + 1 - c_a b's among the first i + 1, g = c_a (n1 + n2) - n1 (i + 1)
        np.less(order, n1, out=is_a)
        np.cumsum(is_a, out=g)
        g *= n
        g -= n1_ramp
        np.abs(g, out=gap)
        # right-continuous ECDFs are exact at the last position of each run of tied values
        np.not_equal(all_values[1:], all_values[:-1], out=last[:-1])
        d = float(np.max(gap, where=last, initial=0.0)) / (n1 * n2)
        d, p = _ks_pvalue(d, n1, n2, "two-sided", ks_method)
        out["ks_statistic"][j] = d
        out["ks_pvalue"][j] = p
        # inside a run of ties the gap to the next value is 0, so partial counts there do not matter
        np.subtract(all_values[1:], all_values[:-1], out=delta)
        np.multiply(delta, gap[:-1], out=delta)  # no BLAS call: no thread start-up per feature
        out["wasserstein"][j] = float(delta.sum()) / (n1 * n2)
        edges = np.unique(_quantiles_of_sorted(a, qs))[1:-1]
        pr = _counts_sorted(a, edges) / n1
        qc = _counts_sorted(b, edges) / n2
        ps = np.where(pr == 0, eps, pr)
        qs_ = np.where(qc == 0, eps, qc)
        out["psi"][j] = float(np.sum((qs_ - ps) * np.log(qs_ / ps)))
        m = (pr + qc) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            js = float(np.sum(np.where(pr > 0, pr * np.log(pr / m), 0.0)))
            js += float(np.sum(np.where(qc > 0, qc * np.log(qc / m), 0.0)))
        if js_base is not None:
            js /= math.log(js_base)
        out["jensenshannon"][j] = math.sqrt(max(js, 0.0) / 2.0)
    return out
