"""Distances between distributions, numpy only.

SciPy-compatible: :func:`wasserstein_distance`, :func:`entropy`, :func:`jensenshannon`. Drift measures SciPy
lacks: :func:`normalized_wasserstein`, :func:`psi` / :func:`psi_from_counts`, :func:`hellinger_distance` /
:func:`hellinger_distance_samples`, :func:`total_variation_distance`, :func:`linf_distance` (SageMaker Model
Monitor's categorical check), :func:`category_proportions` and :func:`quantile_edges`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ._distributions import _entr, _float_dtype, _rel_entr, _scalar_or_array
from ._tests import _as_sample
from .exceptions import UndefinedMetricWarning


# ============================================================================================
# Wasserstein
# ============================================================================================
def _validate_distribution(values: Any, weights: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1:
        raise ValueError(f"{name}_values must be 1-D, got shape {vals.shape}.")
    if len(vals) == 0:
        raise ValueError(f"Distribution can't be empty: {name}_values has no observations.")
    if weights is None:
        return vals, None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != vals.shape:
        raise ValueError(
            f"Value and weight array-likes for the same empirical distribution must be of the same "
            f"size: {name}_values has shape {vals.shape}, {name}_weights has shape {w.shape}."
        )
    if np.any(w < 0):
        raise ValueError(f"All weights must be non-negative; {name}_weights has negative entries.")
    total = np.sum(w)
    if not 0 < total < np.inf:
        raise ValueError(
            f"Weight array-like sum must be positive and finite ({name}_weights sums to {total}). "
            "Set as None for an equal distribution of weight."
        )
    return vals, w


def _sorted_cdf_gap(
    a_sorted: np.ndarray,
    b_sorted: np.ndarray,
    a_cumw: np.ndarray | None = None,
    b_cumw: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled sorted values and ``|ECDF_a - ECDF_b|`` on them (right-continuous ECDFs)."""
    all_values = np.concatenate((a_sorted, b_sorted))
    all_values.sort(kind="stable")  # two sorted runs: a linear merge
    ia = a_sorted.searchsorted(all_values[:-1], "right")
    ib = b_sorted.searchsorted(all_values[:-1], "right")
    cdf_a = ia / a_sorted.size if a_cumw is None else a_cumw[ia] / a_cumw[-1]
    cdf_b = ib / b_sorted.size if b_cumw is None else b_cumw[ib] / b_cumw[-1]
    return all_values, np.abs(cdf_a - cdf_b)


def wasserstein_distance(u_values: Any, v_values: Any, u_weights: Any = None, v_weights: Any = None) -> float:
    """First Wasserstein (earth mover's) distance between two 1-D empirical distributions.

    ``W1 = integral |U(x) - V(x)| dx`` with ``U``, ``V`` the (weighted) empirical CDFs, as
    ``scipy.stats.wasserstein_distance``. Weights are normalised to sum to 1.

    Raises
    ------
    ValueError
        Empty values, weights of the wrong length, negative weights, or weights summing to 0/inf.

    Examples
    --------
    >>> float(wasserstein_distance([0, 1, 3], [5, 6, 8]))
    5.0
    """
    u, uw = _validate_distribution(u_values, u_weights, "u")
    v, vw = _validate_distribution(v_values, v_weights, "v")
    if uw is None:
        u_sorted, u_cum = np.sort(u), None
    else:
        order = np.argsort(u, kind="stable")
        u_sorted, u_cum = u[order], np.concatenate(([0.0], np.cumsum(uw[order])))
    if vw is None:
        v_sorted, v_cum = np.sort(v), None
    else:
        order = np.argsort(v, kind="stable")
        v_sorted, v_cum = v[order], np.concatenate(([0.0], np.cumsum(vw[order])))
    all_values, gap = _sorted_cdf_gap(u_sorted, v_sorted, u_cum, v_cum)
    # an undefined distance (inf - inf) gives NaN with numpy's "invalid value" RuntimeWarning, as SciPy
    return np.float64(np.dot(gap, np.diff(all_values)))  # a NumPy scalar, as SciPy


def normalized_wasserstein(reference: Any, current: Any, *, scale: str = "std") -> float:
    """Wasserstein distance divided by the spread of the reference sample.

    ``W1(reference, current) / s`` where ``s`` is the reference's population standard deviation
    (``scale='std'``, ``ddof=0``) or its interquartile range (``scale='iqr'``,
    ``np.quantile(reference, 0.75) - np.quantile(reference, 0.25)``, linear interpolation). The
    result is unit-free, so one threshold serves features of different scales. ``nan`` with an
    :class:`UndefinedMetricWarning` when ``s == 0`` (a constant reference).

    Examples
    --------
    >>> normalized_wasserstein([0.0, 2.0], [1.0, 3.0])
    1.0
    """
    if scale not in ("std", "iqr"):
        raise ValueError(f"scale must be 'std' or 'iqr', got {scale!r}.")
    ref, _ = _validate_distribution(reference, None, "reference")
    w = wasserstein_distance(ref, current)
    s = float(np.std(ref)) if scale == "std" else float(np.subtract(*np.quantile(ref, [0.75, 0.25])))
    if s == 0 or not math.isfinite(s):
        warnings.warn(
            f"normalized_wasserstein: the reference's {scale} is {s}; the distance is undefined (NaN).",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return math.nan
    return float(w / s)


# ============================================================================================
# Entropy, Jensen–Shannon
# ============================================================================================
def _unmask_pair(pk: Any, qk: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """As SciPy: a position masked in ``pk`` or ``qk`` is left out of both (1-D inputs only)."""
    arrays = [pk] if qk is None else [pk, qk]
    if any(np.ndim(a) != 1 for a in arrays) or len({np.shape(a) for a in arrays}) != 1:
        raise ValueError("entropy: masked arrays are supported as 1-D inputs of one length only.")
    keep = ~np.logical_or.reduce([np.ma.getmaskarray(a) for a in arrays])
    out = [np.ma.getdata(a)[keep] for a in arrays]
    return out[0], (out[1] if qk is not None else None)


def entropy(
    pk: Any,
    qk: Any = None,
    base: float | None = None,
    axis: int = 0,
    *,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> Any:
    """Shannon entropy ``-sum p log p``, or the Kullback–Leibler divergence ``sum p log(p / q)``.

    As ``scipy.stats.entropy``: ``pk`` (and ``qk``) are normalised to sum to 1 along ``axis``;
    ``base`` divides by ``log(base)`` (natural log by default); ``inf`` when ``q == 0 < p``.
    ``nan_policy``: a NaN gives NaN (``'propagate'``), raises (``'raise'``) or, for 1-D inputs, is
    left out with the position it shares with the other distribution (``'omit'``); ``keepdims``
    keeps the reduced axis. Masked elements of masked arrays are left out (1-D).

    Examples
    --------
    >>> float(entropy([0.5, 0.5], base=2))
    1.0
    """
    if base is not None and base <= 0:
        raise ValueError("`base` must be a positive number or `None`.")
    if nan_policy not in ("propagate", "raise", "omit"):
        raise ValueError("nan_policy must be one of {'propagate', 'raise', 'omit'}.")
    if isinstance(pk, np.ma.MaskedArray) or isinstance(qk, np.ma.MaskedArray):
        pk, qk = _unmask_pair(pk, qk)
    if nan_policy != "propagate":
        nan = np.isnan(np.asarray(pk, dtype=np.float64))
        if qk is not None:
            nan = nan | np.isnan(np.asarray(qk, dtype=np.float64))
        if nan.any():
            if nan_policy == "raise":
                raise ValueError("The input contains nan values")
            pk, qk = _unmask_pair(np.ma.masked_array(pk, mask=nan), qk)
    out_dtype = _float_dtype(pk, qk)
    p = np.asarray(pk, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if qk is not None:
            q = np.asarray(qk, dtype=np.float64)
            try:
                p, q = np.broadcast_arrays(p, q)
            except ValueError as exc:
                raise ValueError(
                    f"Array shapes are incompatible for broadcasting. pk: {p.shape}, qk: {q.shape}."
                ) from exc
            q = q / np.sum(q, axis=axis, keepdims=True)
        p = p / np.sum(p, axis=axis, keepdims=True)
    vec = _entr(p) if qk is None else _rel_entr(p, q)
    s = np.sum(vec, axis=axis, keepdims=keepdims)
    if base is not None:
        s = s / math.log(base)
    return _scalar_or_array(s, out_dtype)


def jensenshannon(p: Any, q: Any, base: float | None = None, *, axis: int = 0, keepdims: bool = False) -> Any:
    """Jensen–Shannon distance (the square root of the JS divergence), as SciPy's.

    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2``, after normalising ``p`` and
    ``q`` to sum to 1 along ``axis``; divided inside the root by ``log(base)`` when given (``base=2``
    bounds it by 1). A slice summing to 0 gives ``nan`` (with an :class:`UndefinedMetricWarning`).

    Examples
    --------
    >>> float(round(jensenshannon([1.0, 0.0], [0.0, 1.0], base=2), 12))
    1.0
    """
    out_dtype = _float_dtype(p, q)
    p_arr = np.asarray(p, dtype=np.float64)
    q_arr = np.asarray(q, dtype=np.float64)
    if p_arr.shape != q_arr.shape:
        try:
            p_arr, q_arr = np.broadcast_arrays(p_arr, q_arr)
        except ValueError as exc:
            raise ValueError(f"p and q must have the same shape, got {p_arr.shape} and {q_arr.shape}.") from exc
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sum(p_arr, axis=axis, keepdims=True)
        sq = np.sum(q_arr, axis=axis, keepdims=True)
        if np.any(sp == 0) or np.any(sq == 0):
            warnings.warn(
                "jensenshannon: a distribution sums to 0; its distance is undefined (NaN).",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        p_arr = p_arr / sp
        q_arr = q_arr / sq
        m = (p_arr + q_arr) / 2.0
        js = np.sum(_rel_entr(p_arr, m), axis=axis, keepdims=keepdims) + np.sum(
            _rel_entr(q_arr, m), axis=axis, keepdims=keepdims
        )
        if base is not None:
            js = js / np.log(base)
        return _scalar_or_array(np.sqrt(js / 2.0), out_dtype)


# ============================================================================================
# Binned measures: PSI, Hellinger, TVD, L-infinity
# ============================================================================================
def _quantiles_of_sorted(x_sorted: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x, q)`` (method='linear') from an already sorted ``x``, bit for bit."""
    n = x_sorted.size
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    prev_i = np.clip(prev.astype(np.intp), 0, n - 1)
    next_i = np.clip(prev_i + 1, 0, n - 1)
    a = x_sorted[prev_i]
    b = x_sorted[next_i]
    diff = b - a
    out = a + diff * gamma
    hi = gamma >= 0.5
    out[hi] = (b - diff * (1 - gamma))[hi]
    return out


def _check_bins(bins: Any) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")
    return int(bins)


def quantile_edges(reference: Any, bins: int = 10, *, assume_sorted: bool = False) -> np.ndarray:
    """Interior bin edges at the reference's quantiles ``1/bins, ..., (bins-1)/bins``, deduplicated.

    The edges are ``np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))[1:-1]`` (numpy's
    default 'linear' quantiles; the minimum and maximum are dropped because the outer bins are
    open-ended). Bin ``k`` of ``len(edges) + 1`` holds ``edges[k-1] <= x < edges[k]``, with
    ``edges[-1] = -inf`` and ``edges[len] = +inf``; the same convention as
    ``np.histogram(x, np.r_[-inf, edges, inf])``. Ties in the reference merge bins.

    Examples
    --------
    >>> quantile_edges(np.arange(11.0), bins=2)
    array([5.])
    """
    bins = _check_bins(bins)
    ref: np.ndarray = np.asarray(reference, dtype=np.float64).ravel()
    if ref.size == 0:
        raise ValueError("reference must not be empty.")
    if not assume_sorted:
        ref = np.sort(ref)
    if np.isnan(ref[-1]):
        raise ValueError("reference contains NaN; bin edges are undefined.")
    qs = _quantiles_of_sorted(ref, np.linspace(0.0, 1.0, bins + 1))
    return np.unique(qs)[1:-1]


def _counts_sorted(x_sorted: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of a sorted sample in the open-ended bins defined by interior ``edges``."""
    cum = x_sorted.searchsorted(edges, side="left")
    return np.diff(np.concatenate(([0], cum, [x_sorted.size])))


def _check_counts(c: Any, name: str) -> np.ndarray:
    arr = np.asarray(c, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative.")
    return arr


def _check_pair(p: Any, q: Any, what: str = "counts") -> tuple[np.ndarray, np.ndarray]:
    p_arr = _check_counts(p, f"reference {what}")
    q_arr = _check_counts(q, f"current {what}")
    if p_arr.shape != q_arr.shape:
        raise ValueError(f"reference and current {what} must have the same length, got {p_arr.size} and {q_arr.size}.")
    return p_arr, q_arr


def _normalise(c: np.ndarray, name: str) -> np.ndarray | None:
    s = c.sum()
    if s == 0:
        warnings.warn(f"{name} sum to 0; the measure is undefined (NaN).", UndefinedMetricWarning, stacklevel=3)
        return None
    return c / s


def psi_from_counts(reference_counts: Any, current_counts: Any, *, eps: float = 1e-4) -> float:
    """Population Stability Index from per-bin counts (or proportions) of two samples.

    Definition: with ``p_i = ref_i / sum(ref)`` and ``q_i = cur_i / sum(cur)``, every proportion
    equal to 0 is replaced by ``eps`` (no renormalisation; this is the smoothing of empty bins),
    then ``PSI = sum_i (q_i - p_i) * ln(q_i / p_i)``. PSI >= 0; a common reading is < 0.1 stable,
    0.1–0.25 moderate shift, > 0.25 major shift.

    Raises
    ------
    ValueError
        Counts not 1-D, of different lengths, negative or non-finite; ``eps`` not in (0, 1).

    Examples
    --------
    >>> round(psi_from_counts([50, 50], [25, 75]), 6)
    0.274653
    """
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}.")
    p, q = _check_pair(reference_counts, current_counts)
    pn = _normalise(p, "reference counts")
    qn = _normalise(q, "current counts")
    if pn is None or qn is None:
        return math.nan
    pn = np.where(pn == 0, eps, pn)
    qn = np.where(qn == 0, eps, qn)
    return float(np.sum((qn - pn) * np.log(qn / pn)))


def psi(reference: Any, current: Any, *, bins: int = 10, eps: float = 1e-4) -> float:
    """Population Stability Index of a numeric feature, bins from the reference's quantiles.

    The interior edges are :func:`quantile_edges` of ``reference`` (``bins`` quantile bins,
    duplicate edges from ties removed, the two outer bins open-ended so every current value is
    counted); both samples are counted in these bins (``edges[k-1] <= x < edges[k]``) and
    :func:`psi_from_counts` applies, with empty-bin proportions replaced by ``eps``:
    ``PSI = sum_i (q_i - p_i) ln(q_i / p_i)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=10_000)
    >>> psi(ref, ref) == 0.0
    True
    """
    ref = _as_sample(reference, "reference")
    cur = _as_sample(current, "current")
    if ref.size == 0 or cur.size == 0:
        raise ValueError("psi: reference and current must both be non-empty.")
    if np.isnan(ref).any() or np.isnan(cur).any():
        raise ValueError("psi: inputs contain NaN; drop or impute missing values first.")
    ref_s = np.sort(ref)
    edges = quantile_edges(ref_s, bins, assume_sorted=True)
    return psi_from_counts(_counts_sorted(ref_s, edges), _counts_sorted(np.sort(cur), edges), eps=eps)


def hellinger_distance(p: Any, q: Any) -> float:
    """Hellinger distance between two discrete distributions (probability vectors or counts).

    ``H(p, q) = sqrt(1/2 * sum_i (sqrt(p_i) - sqrt(q_i))^2) = sqrt(1 - sum_i sqrt(p_i q_i))``,
    after normalising each input to sum to 1; in ``[0, 1]``.

    Examples
    --------
    >>> hellinger_distance([1, 0], [0, 1])
    1.0
    """
    a, b = _check_pair(p, q, "probabilities")
    an = _normalise(a, "p")
    bn = _normalise(b, "q")
    if an is None or bn is None:
        return math.nan
    return float(min(1.0, math.sqrt(0.5 * float(np.sum((np.sqrt(an) - np.sqrt(bn)) ** 2)))))


def hellinger_distance_samples(reference: Any, current: Any, *, bins: Any = 10) -> float:
    """Hellinger distance between two numeric samples binned on shared edges.

    ``bins`` is an integer (that many equal-width bins spanning the pooled range of both samples,
    ``np.histogram_bin_edges(np.r_[reference, current], bins)``) or an explicit increasing
    sequence of edges; counts as ``np.histogram``; then :func:`hellinger_distance` of the counts.

    Examples
    --------
    >>> hellinger_distance_samples([0.0, 0.1], [0.9, 1.0], bins=2)
    1.0
    """
    ref = _as_sample(reference, "reference")
    cur = _as_sample(current, "current")
    if ref.size == 0 or cur.size == 0:
        raise ValueError("hellinger_distance_samples: reference and current must both be non-empty.")
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=_check_bins(bins))
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be a positive integer or a strictly increasing sequence of >= 2 edges.")
    return hellinger_distance(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0])


def total_variation_distance(p: Any, q: Any) -> float:
    """Total variation distance ``1/2 * sum_i |p_i - q_i|`` of two normalised discrete distributions.

    Inputs are counts or probabilities over the same categories (see :func:`category_proportions`);
    each is normalised to sum to 1. In ``[0, 1]``.

    Examples
    --------
    >>> total_variation_distance([3, 1], [1, 3])
    0.5
    """
    a, b = _check_pair(p, q, "probabilities")
    an = _normalise(a, "p")
    bn = _normalise(b, "q")
    if an is None or bn is None:
        return math.nan
    return float(0.5 * np.sum(np.abs(an - bn)))


def linf_distance(p: Any, q: Any) -> float:
    """L-infinity distance ``max_i |p_i - q_i|`` of two normalised discrete distributions.

    This is SageMaker Model Monitor's baseline-drift distance for categorical features (the
    largest difference of category frequencies between baseline and current data). For numerical
    features Model Monitor compares the two empirical CDFs by the same L-infinity norm, which is
    the two-sample Kolmogorov–Smirnov statistic: use ``ks_2samp(ref, cur).statistic``.

    Examples
    --------
    >>> linf_distance([3, 1], [1, 3])
    0.5
    """
    a, b = _check_pair(p, q, "probabilities")
    an = _normalise(a, "p")
    bn = _normalise(b, "q")
    if an is None or bn is None:
        return math.nan
    return float(np.max(np.abs(an - bn)))


def category_proportions(reference: Any, current: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align two categorical samples: ``(categories, p_reference, p_current)``.

    ``categories`` is the sorted union of values seen in either sample; the proportions are the
    frequencies of each category in each sample (0 where unseen). Feed them to
    :func:`linf_distance`, :func:`total_variation_distance`, :func:`psi_from_counts`, ...

    Examples
    --------
    >>> cats, p, q = category_proportions(["a", "a", "b"], ["b", "c"])
    >>> cats.tolist(), p.tolist(), q.tolist()
    (['a', 'b', 'c'], [0.6666666666666666, 0.3333333333333333, 0.0], [0.0, 0.5, 0.5])
    """
    ref = np.asarray(reference).ravel()
    cur = np.asarray(current).ravel()
    if ref.size == 0 or cur.size == 0:
        raise ValueError("category_proportions: reference and current must both be non-empty.")
    cats, inv = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    k = cats.size
    p = np.bincount(inv[: ref.size], minlength=k) / ref.size
    q = np.bincount(inv[ref.size :], minlength=k) / cur.size
    return cats, p, q
