"""Hypothesis tests, numpy only, as ``scipy.stats``: :func:`ks_2samp`, :func:`chisquare`, :func:`chi2_contingency`."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._distributions import _clip, _float_dtype, _scalar_or_array, _xlogy, chi2_sf, exact_two_sample_sf, kstwo_sf
from ._results import TupleBunch
from .exceptions import SmallSampleWarning


# ============================================================================================
# Kolmogorov–Smirnov two-sample test
# ============================================================================================
class KstestResult(TupleBunch):
    """Result of :func:`ks_2samp`: a tuple ``(statistic, pvalue)`` with SciPy's attributes.

    Attributes
    ----------
    statistic : numpy.float64
        The KS statistic (``D``, ``D+`` or ``D-`` by ``alternative``).
    pvalue : numpy.float64
        The p-value.
    statistic_location : numpy.float64
        The value of the pooled sample at which the statistic is attained.
    statistic_sign : numpy.int8
        ``+1`` if ``ECDF1 - ECDF2`` is maximal there, ``-1`` if minimal.
    """

    _fields = ("statistic", "pvalue")
    _extra_fields = ("statistic_location", "statistic_sign")


_MAX_AUTO_N = 10000
_F64 = np.dtype(np.float64)


def _ks_pvalue(d: float, n1: int, n2: int, alternative: str, mode: str) -> tuple[float, float]:
    """SciPy's p-value logic of ``ks_2samp`` for a statistic ``d``: returns ``(d, pvalue)``."""
    g = math.gcd(n1, n2)
    n1g = n1 // g
    n2g = n2 // g
    prob = -math.inf
    if mode == "auto":
        mode = "exact" if max(n1, n2) <= _MAX_AUTO_N else "asymp"
    elif mode == "exact" and n1g >= np.iinfo(np.int32).max / n2g:
        mode = "asymp"
        warnings.warn(
            f"Exact ks_2samp calculation not possible with samples sizes {n1} and {n2}. Switching to 'asymp'.",
            RuntimeWarning,
            stacklevel=3,
        )
    if mode == "exact":
        success, d, prob = exact_two_sample_sf(n1, n2, g, d, alternative)
        if not success:
            mode = "asymp"
            warnings.warn(
                "ks_2samp: Exact calculation unsuccessful. Switching to method=asymp.",
                RuntimeWarning,
                stacklevel=3,
            )
    if mode == "asymp":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        if alternative == "two-sided":
            prob = kstwo_sf(int(np.round(en)), d)
        else:
            z = math.sqrt(en) * d
            expt = -2 * z**2 - 2 * z * (m + 2 * n) / math.sqrt(m * n * (m + n)) / 3.0
            prob = math.exp(expt)
    return float(d), _clip(prob)


def _check_ks_options(alternative: str, method: str) -> str:
    if method not in ("auto", "exact", "asymp"):
        raise ValueError(f"Invalid value for method: {method!r}; expected 'auto', 'exact' or 'asymp'.")
    if not isinstance(alternative, str) or not alternative:
        raise ValueError(f"Invalid value for alternative: {alternative!r}.")
    alt = {"t": "two-sided", "g": "greater", "l": "less"}.get(alternative.lower()[0], alternative)
    if alt not in ("two-sided", "less", "greater"):
        raise ValueError(f"Invalid value for alternative: {alternative!r}; expected 'two-sided', 'less' or 'greater'.")
    return alt


def _as_sample(x: Any, name: str) -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):  # as SciPy: masked elements are left out
        x = x.compressed() if np.ndim(x) == 1 else x
        if np.ndim(x) != 1:
            raise ValueError(f"{name}: masked arrays are supported as 1-D samples only, got shape {np.shape(x)}.")
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a 1-D array-like of observations, got a scalar.")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.")
    return arr.astype(np.float64, copy=False)


def _mode_is_method(fun: Callable[..., Any]) -> Callable[..., Any]:
    """SciPy's alias: the keyword ``mode`` is the older name of ``method`` (both: ``TypeError``)."""

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "mode" in kwargs:
            if "method" in kwargs:
                raise TypeError(f"{fun.__name__}() got multiple values for argument now known as `method`")
            kwargs["method"] = kwargs.pop("mode")
        return fun(*args, **kwargs)

    return wrapper


@_mode_is_method
def ks_2samp(
    data1: Any,
    data2: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    *,
    axis: int | None = 0,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> KstestResult:
    """Two-sample Kolmogorov–Smirnov test, as ``scipy.stats.ks_2samp``.

    Parameters
    ----------
    data1, data2 : array_like, 1-D
        The two samples (sizes may differ).
    alternative : {'two-sided', 'less', 'greater'}, default='two-sided'
        ``'less'``: the CDF of ``data1`` is less than that of ``data2`` somewhere (statistic
        ``D- = max(ECDF2 - ECDF1)``); ``'greater'``: ``D+ = max(ECDF1 - ECDF2)``.
    method : {'auto', 'exact', 'asymp'}, default='auto'
        ``'exact'``: the exact null distribution (Hodges' lattice-path counting); ``'asymp'``:
        for two-sided, the one-sample ``D_n`` distribution at ``n = round(n1 n2 / (n1 + n2))``
        (SciPy's choice), for one-sided Hodges' approximation ``exp(-2z^2 - 2z(m+2n)/sqrt(mn(m+n))/3)``.
        ``'auto'`` is exact when ``max(n1, n2) <= 10000``. Like SciPy, an exact computation that
        overflows falls back to 'asymp' with a ``RuntimeWarning``.

    axis : int or None, default=0
        The axis of N-D samples along which the test runs (the other axes broadcast); None
        flattens both samples.
    nan_policy : {'propagate', 'omit', 'raise'}, default='propagate'
        A NaN gives NaN results, is left out, or raises ``ValueError``, as SciPy.
    keepdims : bool, default=False
        Keep the reduced axis (length 1) in N-D results.

    Returns
    -------
    KstestResult
        ``statistic``, ``pvalue``, ``statistic_location``, ``statistic_sign``; unpacks as
        ``(statistic, pvalue)``.

    Notes
    -----
    As SciPy: an empty sample (or one empty after ``nan_policy='omit'``) gives all-NaN fields and
    a :class:`SmallSampleWarning` (SciPy's class when SciPy is imported); masked elements of a masked
    array are left out.

    Examples
    --------
    >>> res = ks_2samp([1.0, 2.0, 3.0], [1.5, 2.5, 10.0])
    >>> float(round(res.statistic, 4)), float(res.pvalue)
    (0.3333, 1.0)
    """
    alternative = _check_ks_options(alternative, method)
    if nan_policy not in ("propagate", "raise", "omit"):
        raise ValueError("nan_policy must be one of {'propagate', 'raise', 'omit'}.")
    a = _as_samples(data1, "data1")
    b = _as_samples(data2, "data2")
    if axis is None:
        a, b, axis = a.ravel(), b.ravel(), 0
    if a.ndim == 1 and b.ndim == 1:
        if nan_policy == "raise" and (np.isnan(a).any() or np.isnan(b).any()):
            raise ValueError("The input contains nan values")
        omit = nan_policy == "omit"
        if omit:
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        too_small = _TOO_SMALL_OMIT if omit else _TOO_SMALL
        res = _ks_2samp_1d(a, b, alternative, method, too_small, _float_dtype(data1, data2))
        if keepdims:  # the reduced axes kept: (1,) * the samples' dimensions (all of them for axis=None)
            shape = (1,) * max(np.ndim(data1), np.ndim(data2), 1)
            fields = (res.statistic, res.pvalue, res.statistic_location, res.statistic_sign)
            return KstestResult(*(np.full(shape, v) for v in fields))
        return res
    return _ks_2samp_nd(a, b, alternative, method, axis, nan_policy, keepdims)


_TOO_SMALL = (
    "One or more sample arguments is too small; all returned values will be NaN. "
    "See documentation for sample size requirements."
)
_TOO_SMALL_OMIT = (
    "After omitting NaNs, one or more sample arguments is too small; all returned values will be NaN. "
    "See documentation for sample size requirements."
)


def _as_samples(x: Any, name: str) -> np.ndarray:
    """A numeric sample of any dimension (masked 1-D samples lose their masked elements)."""
    if isinstance(x, np.ma.MaskedArray):
        if np.ndim(x) != 1:
            raise ValueError(f"{name}: masked arrays are supported as 1-D samples only, got shape {np.shape(x)}.")
        x = x.compressed()
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array-like of observations, got a scalar.")
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.")
    return arr.astype(np.float64, copy=False)


def _ks_2samp_nd(
    a: np.ndarray, b: np.ndarray, alternative: str, method: str, axis: int, nan_policy: str, keepdims: bool
) -> KstestResult:
    """The 1-D test on every axis-slice; the other axes broadcast, as SciPy's ``axis`` argument."""
    ndim = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    try:
        shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError as exc:
        raise ValueError("Array shapes are incompatible for broadcasting.") from exc
    a = np.broadcast_to(a, shape + a.shape[-1:])
    b = np.broadcast_to(b, shape + b.shape[-1:])
    if nan_policy == "raise" and (np.isnan(a).any() or np.isnan(b).any()):
        raise ValueError("The input contains nan values")
    out = np.full((4, *shape), np.nan)
    small = 0
    for idx in np.ndindex(*shape):
        x, y = a[idx], b[idx]
        if nan_policy == "omit":
            x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        if x.size == 0 or y.size == 0:
            small += 1
            continue
        r = _ks_2samp_1d(x, y, alternative, method, too_small="")
        out[(slice(None), *idx)] = (r.statistic, r.pvalue, r.statistic_location, r.statistic_sign)  # type: ignore[index]
    if small:
        total = int(np.prod(shape))
        msg = (
            "All axis-slices of one or more sample arguments are too small; all elements of returned arrays "
            "will be NaN. See documentation for sample size requirements."
            if small == total and nan_policy != "omit"
            else "After omitting NaNs, one or more axis-slices of one or more sample arguments is too small; "
            "corresponding elements of returned arrays will be NaN. See documentation for sample size requirements."
        )
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
    if keepdims:
        out = np.expand_dims(out, axis=(axis % ndim) + 1)
    fields = [out[i] if out[i].ndim else out[i][()] for i in range(4)]
    return KstestResult(*fields)


def _ks_2samp_1d(
    a: np.ndarray, b: np.ndarray, alternative: str, method: str, too_small: str, loc_dtype: Any = _F64
) -> KstestResult:
    nan = np.float64(math.nan)
    nan4 = KstestResult(nan, nan, nan, nan)
    if a.size == 0 or b.size == 0:
        if too_small:
            warnings.warn(too_small, SmallSampleWarning, stacklevel=3)
        return nan4
    if np.isnan(a).any() or np.isnan(b).any():
        return nan4
    a = np.sort(a)
    b = np.sort(b)
    n1, n2 = a.size, b.size
    data_all = np.concatenate([a, b])
    cddiffs = np.searchsorted(a, data_all, side="right") / n1 - np.searchsorted(b, data_all, side="right") / n2
    arg_min = int(np.argmin(cddiffs))
    arg_max = int(np.argmax(cddiffs))
    min_s = float(np.clip(-cddiffs[arg_min], 0, 1))
    max_s = float(cddiffs[arg_max])
    if alternative == "less" or (alternative == "two-sided" and min_s > max_s):
        d, loc, sign = min_s, float(data_all[arg_min]), -1
    else:
        d, loc, sign = max_s, float(data_all[arg_max]), 1
    d, prob = _ks_pvalue(d, n1, n2, alternative, method)
    # NumPy scalars as SciPy: float64 statistic and p-value, the location in the samples' dtype
    return KstestResult(np.float64(d), np.float64(prob), loc_dtype.type(loc), np.int8(sign))


# ============================================================================================
# Chi-square tests
# ============================================================================================
class Power_divergenceResult(TupleBunch):  # noqa: N801 - SciPy's name
    """Result of :func:`chisquare`: a tuple ``(statistic, pvalue)`` with those attributes."""

    _fields = ("statistic", "pvalue")


class Chi2ContingencyResult(TupleBunch):
    """Result of :func:`chi2_contingency`: a tuple ``(statistic, pvalue, dof, expected_freq)``."""

    _fields = ("statistic", "pvalue", "dof", "expected_freq")


_POWER_DIV_LAMBDA = {
    "pearson": 1.0,
    "log-likelihood": 0.0,
    "freeman-tukey": -0.5,
    "mod-log-likelihood": -1.0,
    "neyman": -2.0,
    "cressie-read": 2 / 3,
}


def _power_divergence(
    f_obs: Any, f_exp: Any, ddof: Any, axis: int | None, lambda_: Any, sum_check: bool = True
) -> Power_divergenceResult:
    if isinstance(lambda_, str):
        if lambda_ not in _POWER_DIV_LAMBDA:
            raise ValueError(f"invalid string for lambda_: {lambda_!r}. Valid strings are {list(_POWER_DIV_LAMBDA)}")
        lam = _POWER_DIV_LAMBDA[lambda_]
    else:
        lam = 1.0 if lambda_ is None else float(lambda_)
    obs = np.asarray(f_obs, dtype=np.float64)
    if axis is None:
        obs = obs.ravel()
        axis = 0
    if f_exp is not None:
        exp = np.asarray(f_exp, dtype=np.float64)
        try:
            obs, exp = np.broadcast_arrays(obs, exp if np.ndim(f_obs) == obs.ndim else exp.ravel())
        except ValueError as exc:
            raise ValueError(
                f"f_obs and f_exp must have broadcastable shapes, got {np.shape(f_obs)} and {np.shape(f_exp)}."
            ) from exc
        if sum_check:
            rtol = np.finfo(np.float64).eps ** 0.5
            with np.errstate(invalid="ignore", divide="ignore"):
                so = np.sum(obs, axis=axis)
                se = np.sum(exp, axis=axis)
                rel = np.abs(so - se) / np.minimum(so, se)
            if np.any(rel > rtol):
                raise ValueError(
                    "For each axis slice, the sum of the observed frequencies must agree with the sum "
                    f"of the expected frequencies to a relative tolerance of {rtol}, but the percent "
                    f"differences are:\n{rel}"
                )
    else:
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exp = np.mean(obs, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        if lam == 1:
            terms = (obs - exp) ** 2 / exp
        elif lam == 0:
            terms = 2.0 * _xlogy(obs, obs / exp)
        elif lam == -1:
            terms = 2.0 * _xlogy(exp, exp / obs)
        else:
            terms = obs * ((obs / exp) ** lam - 1)
            terms /= 0.5 * lam * (lam + 1)
    stat = np.sum(terms, axis=axis)
    num_obs = terms.shape[axis]
    df = num_obs - 1 - np.asarray(ddof, dtype=np.float64)
    pvalue = np.asarray(chi2_sf(stat, np.where(df > 0, df, np.nan)))
    # SciPy's chdtrc(0, x): 0 for x > 0 (a point mass at 0), nan at x == 0
    pvalue = np.where((df == 0) & (stat > 0), 0.0, pvalue)
    return Power_divergenceResult(_scalar_or_array(stat), _scalar_or_array(pvalue))


def chisquare(
    f_obs: Any,
    f_exp: Any = None,
    ddof: Any = 0,
    axis: int | None = 0,
    *,
    sum_check: bool = True,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> Power_divergenceResult:
    """Pearson's chi-square goodness-of-fit test, as ``scipy.stats.chisquare``.

    ``statistic = sum (f_obs - f_exp)^2 / f_exp`` along ``axis`` (``None``: the flattened array);
    ``f_exp`` defaults to the mean of ``f_obs`` (uniform). ``pvalue = chi2_sf(statistic, k - 1 - ddof)``
    with ``k`` the number of categories; ``nan`` when the degrees of freedom are not positive.

    Raises
    ------
    ValueError
        If ``f_obs`` and ``f_exp`` do not broadcast, or (``sum_check``) their sums differ by more
        than ``sqrt(eps)`` relatively.

    Examples
    --------
    >>> res = chisquare([16, 18, 16, 14, 12, 12])
    >>> float(round(res.statistic, 6)), float(round(res.pvalue, 6))
    (2.0, 0.849145)

    ``nan_policy`` (``'propagate'``, ``'omit'``: a NaN is left out with the ``f_exp`` value at its
    position, per axis-slice; ``'raise'``) and ``keepdims`` (keep the reduced axis) are SciPy's.
    """
    if nan_policy not in ("propagate", "raise", "omit"):
        raise ValueError("nan_policy must be one of {'propagate', 'raise', 'omit'}.")
    if nan_policy != "propagate":
        obs_f = np.asarray(f_obs, dtype=np.float64)
        exp_f = None if f_exp is None else np.asarray(f_exp, dtype=np.float64)
        has_nan = np.isnan(obs_f).any() or (exp_f is not None and np.isnan(exp_f).any())
        if has_nan and nan_policy == "raise":
            raise ValueError("The input contains nan values")
        if has_nan:
            res = _omit_slices(obs_f, exp_f, ddof, axis, sum_check)
            return _keep(res, axis, np.ndim(f_obs), keepdims)
    res = _power_divergence(f_obs, f_exp, ddof, axis, None, sum_check=sum_check)
    return _keep(res, axis, np.ndim(f_obs), keepdims)


def _keep(res: Power_divergenceResult, axis: int | None, ndim: int, keepdims: bool) -> Power_divergenceResult:
    """SciPy's ``keepdims``: the reduced axis (every axis for ``axis=None``) kept with length 1."""
    if not keepdims:
        return res
    ndim = max(ndim, 1)
    axes = tuple(range(ndim)) if axis is None else (axis % ndim,)
    stat, p = (np.expand_dims(np.asarray(v), axes) for v in (res.statistic, res.pvalue))
    return Power_divergenceResult(stat, p)


def _omit_slices(
    obs: np.ndarray, exp: np.ndarray | None, ddof: Any, axis: int | None, sum_check: bool
) -> Power_divergenceResult:
    """chisquare per axis-slice with NaN positions (in ``f_obs`` or ``f_exp``) left out."""
    if axis is None:
        obs, exp, axis = obs.ravel(), None if exp is None else exp.ravel(), 0
    if exp is not None:
        obs, exp = np.broadcast_arrays(obs, exp)
        exp = np.moveaxis(exp, axis, -1)
    obs = np.moveaxis(obs, axis, -1)
    shape = obs.shape[:-1]
    ddof_b = np.broadcast_to(np.asarray(ddof, dtype=np.float64), shape)
    stat = np.full(shape, np.nan)
    pvalue = np.full(shape, np.nan)
    for idx in np.ndindex(*shape):
        o = obs[idx]
        keep = ~np.isnan(o) if exp is None else ~(np.isnan(o) | np.isnan(exp[idx]))
        r = _power_divergence(o[keep], None if exp is None else exp[idx][keep], ddof_b[idx], 0, None, sum_check)
        stat[idx], pvalue[idx] = r.statistic, r.pvalue
    return Power_divergenceResult(_scalar_or_array(stat), _scalar_or_array(pvalue))


def chi2_contingency(
    observed: Any, correction: bool = True, lambda_: Any = None, *, method: Any = None
) -> Chi2ContingencyResult:
    """Chi-square test of independence in a contingency table, as ``scipy.stats.chi2_contingency``.

    ``expected = outer product of the margins / total^(ndim - 1)``;
    ``dof = expected.size - sum(expected.shape) + expected.ndim - 1``. With ``dof == 1`` and
    ``correction``, Yates' continuity correction moves each observed count towards its expectation
    by ``min(0.5, |expected - observed|)``. ``lambda_`` selects a Cressie–Read power divergence
    (``None`` = Pearson). ``dof == 0`` gives ``statistic = 0``, ``pvalue = 1``.

    Raises
    ------
    ValueError
        Negative or no counts, or an expected frequency of zero (an all-zero row or column).

    Examples
    --------
    >>> res = chi2_contingency([[12, 3], [17, 16]], correction=False)
    >>> res.dof, float(round(res.pvalue, 6))
    (1, 0.061412)

    ``method`` (SciPy's ``PermutationMethod`` / ``MonteCarloMethod``, two-way tables,
    ``correction=False``): the p-value from tables resampled with the observed margins; ``dof`` is NaN.
    """
    obs = np.asarray(observed)
    if obs.dtype.kind not in "iufb":
        raise ValueError(f"observed must be a numeric table, got dtype {obs.dtype}.")
    if np.any(obs < 0):
        raise ValueError("All values in `observed` must be nonnegative.")
    if obs.size == 0:
        raise ValueError("No data; `observed` has size 0.")
    d = obs.ndim
    total = obs.sum()
    expected: np.ndarray = np.ones((1,) * d)
    for k in range(d):
        other = tuple(j for j in range(d) if j != k)
        expected = expected * np.sum(obs, axis=other, keepdims=True)
    expected = expected / total ** (d - 1)
    if np.any(expected == 0):
        zeropos = tuple(int(i[0]) for i in np.nonzero(expected == 0))
        raise ValueError(f"The internally computed table of expected frequencies has a zero element at {zeropos}.")
    if method is not None:  # a resampling p-value (SciPy's PermutationMethod / MonteCarloMethod)
        from ._resampling import check_method, chi2_resampling_pvalue

        check_method(method, obs.ndim, correction, lambda_)
        stat = np.float64(np.sum((obs - expected) ** 2 / expected))
        pvalue = np.float64(chi2_resampling_pvalue(obs, expected, float(stat), method))
        return Chi2ContingencyResult(stat, pvalue, np.nan, expected)
    dof = int(expected.size - sum(expected.shape) + expected.ndim - 1)
    if dof == 0:
        return Chi2ContingencyResult(np.float64(0.0), np.float64(1.0), 0, expected)
    obs_f = obs.astype(np.float64)
    if dof == 1 and correction:
        diff = expected - obs_f
        obs_f = obs_f + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    res = _power_divergence(obs_f, expected, obs_f.size - 1 - dof, None, lambda_)
    return Chi2ContingencyResult(np.float64(res.statistic), np.float64(res.pvalue), dof, expected)
