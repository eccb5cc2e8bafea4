"""SciPy's parameters on the layer's chi-square tests: ``chisquare(nan_policy=, keepdims=)`` and
``chi2_contingency(method=PermutationMethod/MonteCarloMethod)``, against SciPy as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from driftline_metrics import drift
from numpy.testing import assert_allclose, assert_equal

OBS = np.array([[16.0, 18, np.nan, 14, 12, 12], [1, 2, 3, 4, 5, 6], [np.nan] * 6])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [1, None])
@pytest.mark.parametrize("nan_policy", ["propagate", "omit"])
def test_chisquare_nan_policy_and_keepdims(nan_policy, axis, keepdims):
    kw = {"axis": axis, "nan_policy": nan_policy, "keepdims": keepdims}
    ours, ref = drift.chisquare(OBS, **kw), ss.chisquare(OBS, **kw)
    for o, r in zip(ours, ref, strict=True):
        assert np.shape(o) == np.shape(r)
        assert_allclose(o, r, rtol=1e-12, equal_nan=True)


def test_chisquare_nan_policy_omit_pairs_with_f_exp():
    obs = np.array([10.0, np.nan, 20, 30])
    exp = np.array([15.0, 5, 15, 30])
    ours = drift.chisquare(obs, exp, nan_policy="omit", sum_check=False)
    ref = ss.chisquare(obs, exp, nan_policy="omit", sum_check=False)
    assert_allclose(tuple(ours), tuple(ref), rtol=1e-12)


def test_chisquare_nan_policy_raise_and_invalid():
    with pytest.raises(ValueError, match="The input contains nan values"):
        drift.chisquare(OBS, axis=1, nan_policy="raise")
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        drift.chisquare([1, 2], nan_policy="bogus")


def test_chi2_contingency_exact_permutation_is_fishers_exact_test():
    table = np.arange(4).reshape(2, 2)
    res = drift.chi2_contingency(table, correction=False, method=ss.PermutationMethod(n_resamples=50000))
    assert_equal(res.statistic, ss.chi2_contingency(table, correction=False).statistic)
    assert_allclose(res.pvalue, ss.fisher_exact(table).pvalue, rtol=1e-15)


@pytest.mark.parametrize("method", [ss.PermutationMethod, ss.MonteCarloMethod])
def test_chi2_contingency_resampled_pvalue_near_the_asymptotic_one(method):
    rng = np.random.default_rng(2592340925)
    table = ss.random_table([300, 1000, 800], [200, 400, 800, 700], seed=rng).rvs()
    res = drift.chi2_contingency(table, correction=False, method=method(rng=rng, n_resamples=4000))
    ref = ss.chi2_contingency(table, correction=False)
    assert_allclose(res.statistic, ref.statistic, rtol=1e-12)
    assert_allclose(res.pvalue, ref.pvalue, atol=2e-2)
    assert np.isnan(res.dof)
    assert_equal(res.expected_freq, ref.expected_freq)


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        (np.arange(8).reshape(2, 2, 2), {"correction": False}, "only compatible with two-way tables"),
        (np.arange(4).reshape(2, 2), {}, "`correction=True` is not compatible with"),
        (np.arange(4).reshape(2, 2), {"correction": False, "lambda_": 2}, "`lambda_=2` is not compatible with"),
    ],
)
def test_chi2_contingency_method_errors(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        drift.chi2_contingency(table, method=ss.MonteCarloMethod(), **kwargs)


def test_chi2_contingency_unknown_method_and_rvs():
    table = np.arange(4).reshape(2, 2)
    with pytest.raises(ValueError, match="`method='herring'` not recognized"):
        drift.chi2_contingency(table, correction=False, method="herring")
    with pytest.raises(ValueError, match="its `rvs` attribute must be unspecified"):
        drift.chi2_contingency(table, correction=False, method=ss.MonteCarloMethod(rvs=ss.norm.rvs))


@pytest.mark.parametrize("axis", [None, 1])
def test_ks_2samp_keepdims_keeps_every_reduced_axis(axis):
    rng = np.random.default_rng(5)
    a, b = rng.random((2, 3, 4)), rng.random((2, 3, 4))
    ours = drift.ks_2samp(a, b, axis=axis, keepdims=True)
    ref = ss.ks_2samp(a, b, axis=axis, keepdims=True)
    for name in ("statistic", "pvalue", "statistic_location", "statistic_sign"):
        o, r = getattr(ours, name), getattr(ref, name)
        assert o.shape == r.shape, name
        assert o.dtype == r.dtype, name
        assert_allclose(o, r, rtol=1e-12)


def test_results_are_tuples_of_numpy_scalars_as_scipy():
    res = drift.chi2_contingency([[1, 2], [1, 2]])
    assert isinstance(res, tuple)
    assert tuple(res) == (res.statistic, res.pvalue, res.dof, res.expected_freq)
    ks = drift.ks_2samp(np.float32([1, 2, 3]), np.float32([2, 3, 4, 5]))
    assert len(ks) == 2
    assert type(ks.statistic) is np.float64
    assert type(ks.statistic_location) is np.float32
    assert type(drift.entropy(np.float32([1, 2]))) is np.float32
    assert type(drift.chisquare([1, 2, 3]).statistic) is np.float64
