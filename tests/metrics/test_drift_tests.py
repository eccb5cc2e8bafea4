"""driftline_metrics._tests (re-exported by ``drift``) against SciPy: ``ks_2samp``, ``chisquare``,
``chi2_contingency``."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics import drift
from driftline_metrics.exceptions import UndefinedMetricWarning
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from tests.metrics._drift_support import FAST, quiet, samples


# ------------------------------------------------------------------ KS
@FAST
@given(
    x=samples(),
    y=samples(),
    ties=st.booleans(),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
    method=st.sampled_from(["auto", "exact", "asymp"]),
)
def test_ks_2samp_matches_scipy(x, y, ties, alternative, method):
    if ties:
        x, y = np.round(x / 300), np.round(y / 300)
    ref = quiet(stats.ks_2samp, x, y, alternative=alternative, method=method)
    ours = quiet(drift.ks_2samp, x, y, alternative=alternative, method=method)
    assert ours.statistic == pytest.approx(float(ref.statistic), rel=1e-15, abs=1e-15)
    assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-12, atol=1e-300)
    assert ours.statistic_location == ref.statistic_location
    assert ours.statistic_sign == ref.statistic_sign
    stat, p = ours  # unpacks like SciPy's
    assert (stat, p) == (ours.statistic, ours.pvalue)


@pytest.mark.parametrize(("n1", "n2"), [(1, 1), (1, 7), (3, 3), (10, 10), (13, 29), (100, 100), (150, 77), (400, 399)])
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_ks_exact_sizes(n1, n2, alternative):
    rng = np.random.default_rng(n1 * 1000 + n2)
    x, y = rng.normal(size=n1), rng.normal(0.4, 1, size=n2)
    ref = quiet(stats.ks_2samp, x, y, alternative=alternative, method="exact")
    ours = quiet(drift.ks_2samp, x, y, alternative=alternative, method="exact")
    assert_allclose([ours.statistic, ours.pvalue], [ref.statistic, ref.pvalue], rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize(("n1", "n2"), [(12000, 9000), (20000, 20000), (30000, 50), (10001, 3)])
def test_ks_auto_large_uses_asymp_like_scipy(n1, n2):
    rng = np.random.default_rng(n1 + n2)
    x, y = rng.normal(size=n1), rng.normal(0.02, 1, size=n2)
    for alternative in ("two-sided", "less", "greater"):
        ref = stats.ks_2samp(x, y, alternative=alternative)
        ours = drift.ks_2samp(x, y, alternative=alternative)
        assert_allclose([ours.statistic, ours.pvalue], [ref.statistic, ref.pvalue], rtol=1e-9, atol=1e-300)


def test_ks_exact_overflow_falls_back_with_warning_like_scipy():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=900), rng.normal(size=700)
    with pytest.warns(RuntimeWarning, match="Switching to method=asymp"):
        ref = stats.ks_2samp(x, y, alternative="less", method="exact")
    with pytest.warns(RuntimeWarning, match="Switching to method=asymp"):
        ours = drift.ks_2samp(x, y, alternative="less", method="exact")
    assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-12)


def test_ks_nan_and_empty_follow_scipy():
    assert np.isnan(drift.ks_2samp([1.0, np.nan], [2.0, 3.0]).pvalue)
    with pytest.warns(UndefinedMetricWarning):
        res = drift.ks_2samp([], [1.0, 2.0])
    assert np.isnan(res.statistic)
    assert np.isnan(res.pvalue)
    with pytest.raises(ValueError, match="method"):
        drift.ks_2samp([1.0], [2.0], method="bogus")
    with pytest.raises(ValueError, match="alternative"):
        drift.ks_2samp([1.0], [2.0], alternative="sideways")
    # N-D samples are tested along axis 0, as SciPy (tests/metrics/test_dropin.py has the rest)
    two_d = (np.eye(3), [[0.5, 1.0, 2.0]])
    assert_allclose(tuple(drift.ks_2samp(*two_d)), tuple(stats.ks_2samp(*two_d)))


@FAST
@given(
    obs=st.lists(st.integers(0, 50), min_size=2, max_size=12).map(np.array),
    with_exp=st.booleans(),
    ddof=st.integers(0, 1),
)
def test_chisquare_matches_scipy(obs, with_exp, ddof):
    if obs.sum() == 0:
        obs[0] = 1
    f_exp = None
    if with_exp:
        w = np.arange(1, obs.size + 1, dtype=float)
        f_exp = w / w.sum() * obs.sum()
    ref = quiet(stats.chisquare, obs, f_exp, ddof=ddof)
    ours = quiet(drift.chisquare, obs, f_exp, ddof=ddof)
    assert_allclose([ours.statistic, ours.pvalue], [ref.statistic, ref.pvalue], rtol=1e-10, equal_nan=True)


def test_chisquare_axis_and_errors():
    obs = np.array([[16, 18, 16, 14, 12, 12], [32, 24, 16, 28, 20, 24]]).T
    for axis in (0, None):
        ref = stats.chisquare(obs, axis=axis)
        ours = drift.chisquare(obs, axis=axis)
        assert_allclose(ours.statistic, ref.statistic, rtol=1e-12)
        assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-10)
    with pytest.raises(ValueError, match="sum of the observed"):
        drift.chisquare([1, 2, 3], [1, 1, 1])
    with pytest.raises(ValueError, match="broadcastable"):
        drift.chisquare([1, 2, 3], [1, 2])


@FAST
@given(
    table=st.integers(2, 4).flatmap(
        lambda r: st.integers(2, 4).flatmap(
            lambda c: st.lists(st.integers(1, 40), min_size=r * c, max_size=r * c).map(
                lambda v: np.array(v).reshape(r, c)
            )
        )
    ),
    correction=st.booleans(),
    lambda_=st.sampled_from([None, "log-likelihood", "cressie-read", 0.5]),
)
def test_chi2_contingency_matches_scipy(table, correction, lambda_):
    ref = stats.chi2_contingency(table, correction=correction, lambda_=lambda_)
    ours = drift.chi2_contingency(table, correction=correction, lambda_=lambda_)
    stat, p, dof, expected = ours
    assert dof == ref.dof
    assert_allclose(expected, ref.expected_freq, rtol=1e-13)
    assert_allclose([stat, p], [ref.statistic, ref.pvalue], rtol=1e-10)


def test_chi2_contingency_yates_and_errors():
    for table in ([[12, 3], [17, 16]], [[10, 10], [10, 10]], [[1, 2, 3]], [[[1, 2], [3, 4]], [[5, 6], [7, 9]]]):
        ref = stats.chi2_contingency(table)
        ours = drift.chi2_contingency(table)
        assert_allclose([ours.statistic, ours.pvalue, ours.dof], [ref.statistic, ref.pvalue, ref.dof], rtol=1e-10)
    with pytest.raises(ValueError, match="zero element"):
        drift.chi2_contingency([[0, 0], [1, 2]])
    with pytest.raises(ValueError, match="nonnegative"):
        drift.chi2_contingency([[-1, 2], [1, 2]])
    with pytest.raises(ValueError, match="No data"):
        drift.chi2_contingency(np.zeros((0, 2)))
