"""driftline_metrics.drift against SciPy (the test-only oracle) and straightforward references."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from driftline_metrics import drift
from driftline_metrics.exceptions import UndefinedMetricWarning
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats
from scipy.spatial.distance import jensenshannon as sp_jensenshannon

FAST = settings(max_examples=25, deadline=None)


def samples(min_size: int = 1, max_size: int = 40, ties: bool = False) -> st.SearchStrategy:
    elems = st.integers(-5, 5).map(float) if ties else st.floats(-1e3, 1e3, allow_nan=False)
    return st.lists(elems, min_size=min_size, max_size=max_size).map(np.array)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


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
    ref = _quiet(stats.ks_2samp, x, y, alternative=alternative, method=method)
    ours = _quiet(drift.ks_2samp, x, y, alternative=alternative, method=method)
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
    ref = _quiet(stats.ks_2samp, x, y, alternative=alternative, method="exact")
    ours = _quiet(drift.ks_2samp, x, y, alternative=alternative, method="exact")
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
    with pytest.raises(ValueError, match="1-D"):
        drift.ks_2samp(np.ones((2, 2)), [2.0])


@pytest.mark.parametrize("n", [1, 2, 7, 60, 140, 141, 1000, 20000, 100000])
def test_kstwo_sf_matches_scipy(n):
    xs = np.concatenate([np.linspace(0.0005, 0.999, 60), [0.5 / n, 1.0 / n, 0.5, 1 - 1 / n]])
    ours = np.array([drift.kstwo_sf(n, float(x)) for x in xs])
    assert_allclose(ours, stats.kstwo.sf(xs, n), rtol=1e-9, atol=1e-300)


def test_kolmogorov_sf_matches_scipy():
    z = np.linspace(0.0, 6.0, 301)
    assert_allclose([drift.kolmogorov_sf(float(v)) for v in z], special.kolmogorov(z), rtol=1e-13, atol=1e-300)


def test_smirnov_sf_matches_scipy():
    for n in (1, 2, 10, 333, 5000):
        xs = np.linspace(0.001, 0.999, 50)
        assert_allclose([drift.smirnov_sf(n, float(x)) for x in xs], special.smirnov(n, xs), rtol=1e-10, atol=1e-300)


# ------------------------------------------------------------------ gamma / chi2
@FAST
@given(a=st.floats(0.05, 2e4), ratio=st.floats(0.0, 3.0))
def test_gammaincc_matches_scipy(a, ratio):
    x = a * ratio
    assert_allclose(drift.gammaincc(a, x), special.gammaincc(a, x), rtol=1e-10, atol=1e-300)


def test_chi2_sf_grid_matches_scipy():
    df = np.array([1, 2, 3, 5, 10, 30, 99, 1000, 10000])[:, None]
    x = np.array([0.01, 0.5, 1, 3, 10, 50, 200, 1200, 10500])[None, :]
    assert_allclose(drift.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-10, atol=1e-300)
    assert np.isnan(drift.chi2_sf(1.0, 0))


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
    ref = _quiet(stats.chisquare, obs, f_exp, ddof=ddof)
    ours = _quiet(drift.chisquare, obs, f_exp, ddof=ddof)
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


# ------------------------------------------------------------------ Wasserstein / entropy / JS
@FAST
@given(u=samples(), v=samples(), weighted=st.booleans(), ties=st.booleans(), data=st.data())
def test_wasserstein_matches_scipy(u, v, weighted, ties, data):
    if ties:
        u, v = np.round(u / 200), np.round(v / 200)
    uw = vw = None
    if weighted:
        uw = np.array(data.draw(st.lists(st.floats(0, 5), min_size=u.size, max_size=u.size)))
        vw = np.array(data.draw(st.lists(st.floats(0, 5), min_size=v.size, max_size=v.size)))
        uw[0] += 0.5
        vw[0] += 0.5
    ref = stats.wasserstein_distance(u, v, uw, vw)
    assert_allclose(drift.wasserstein_distance(u, v, uw, vw), ref, rtol=1e-12, atol=1e-9)


def test_wasserstein_integer_weights_equal_repetition():
    u, v = np.array([0.0, 1.5, 3.0]), np.array([1.0, 2.0])
    w = np.array([1, 3, 2])
    assert_allclose(drift.wasserstein_distance(u, v, w), drift.wasserstein_distance(np.repeat(u, w), v), rtol=1e-14)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([], [1.0]), "empty"),
        (([1.0, 2.0], [1.0], [1.0, -1.0]), "non-negative"),
        (([1.0, 2.0], [1.0], [1.0]), "same size"),
        (([1.0, 2.0], [1.0], [0.0, 0.0]), "positive and finite"),
    ],
)
def test_wasserstein_errors_where_scipy_raises(args, match):
    with pytest.raises(ValueError):
        stats.wasserstein_distance(*args)
    with pytest.raises(ValueError, match=match):
        drift.wasserstein_distance(*args)


def test_normalized_wasserstein_reference():
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(2, 3, 500), rng.normal(2.5, 3, 400)
    w = stats.wasserstein_distance(ref, cur)
    assert_allclose(drift.normalized_wasserstein(ref, cur), w / np.std(ref), rtol=1e-12)
    iqr = np.quantile(ref, 0.75) - np.quantile(ref, 0.25)
    assert_allclose(drift.normalized_wasserstein(ref, cur, scale="iqr"), w / iqr, rtol=1e-12)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(drift.normalized_wasserstein([1.0, 1.0], [2.0]))
    with pytest.raises(ValueError, match="scale"):
        drift.normalized_wasserstein(ref, cur, scale="mad")


probs = st.lists(st.floats(0, 10), min_size=1, max_size=10)


@FAST
@given(p=probs, data=st.data(), base=st.sampled_from([None, 2.0, 10.0]), with_q=st.booleans())
def test_entropy_matches_scipy(p, data, base, with_q):
    p = np.array(p)
    p[0] += 0.1
    q = None
    if with_q:
        q = np.array(data.draw(st.lists(st.floats(0, 10), min_size=p.size, max_size=p.size)))
        q[-1] += 0.1
    assert_allclose(drift.entropy(p, q, base=base), stats.entropy(p, q, base=base), rtol=1e-12, atol=1e-15)


def test_entropy_axis_and_base_error():
    a = np.arange(1.0, 13.0).reshape(3, 4)
    b = a[::-1] + 1
    for axis in (0, 1):
        assert_allclose(drift.entropy(a, b, axis=axis), stats.entropy(a, b, axis=axis), rtol=1e-12)
    assert np.isinf(drift.entropy([1, 2], [0, 1]))
    with pytest.raises(ValueError, match="base"):
        drift.entropy([1, 2], base=-1)


@FAST
@given(p=probs, data=st.data(), base=st.sampled_from([None, 2.0]))
def test_jensenshannon_matches_scipy(p, data, base):
    p = np.array(p)
    p[0] += 0.1
    q = np.array(data.draw(st.lists(st.floats(0, 10), min_size=p.size, max_size=p.size)))
    q[-1] += 0.1
    assert_allclose(drift.jensenshannon(p, q, base), sp_jensenshannon(p, q, base), rtol=1e-10, atol=1e-7)


def test_jensenshannon_axis_keepdims_and_zero_sum():
    a = np.arange(1.0, 13.0).reshape(3, 4)
    b = a + 12
    for axis in (0, 1):
        for keepdims in (False, True):
            assert_allclose(
                drift.jensenshannon(a, b, axis=axis, keepdims=keepdims),
                sp_jensenshannon(a, b, axis=axis, keepdims=keepdims),
                rtol=1e-12,
            )
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(drift.jensenshannon([0.0, 0.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        drift.jensenshannon([1.0, 2.0], [1.0, 2.0, 3.0])


# ------------------------------------------------------------------ PSI and binned distances
def _psi_reference(ref, cur, bins, eps):
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))[1:-1]
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    p = np.histogram(ref, full)[0] / len(ref)
    q = np.histogram(cur, full)[0] / len(cur)
    p = np.where(p == 0, eps, p)
    q = np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))


@FAST
@given(
    ref=samples(min_size=1, max_size=80),
    cur=samples(min_size=1, max_size=80),
    ties=st.booleans(),
    bins=st.integers(1, 12),
)
def test_psi_matches_numpy_reference(ref, cur, ties, bins):
    if ties:
        ref, cur = np.round(ref / 250), np.round(cur / 250)
    assert_allclose(drift.psi(ref, cur, bins=bins), _psi_reference(ref, cur, bins, 1e-4), rtol=1e-12, atol=1e-14)


@FAST
@given(x=samples(min_size=1, max_size=60), bins=st.integers(1, 15))
def test_quantile_edges_bit_identical_to_numpy(x, bins):
    ours = drift.quantile_edges(x, bins)
    assert_array_equal(ours, np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))[1:-1])


def test_psi_known_values_and_errors():
    # two equal bins, 50/50 -> 25/75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5)
    assert_allclose(drift.psi_from_counts([50, 50], [25, 75]), -0.25 * np.log(0.5) + 0.25 * np.log(1.5))
    assert_allclose(
        drift.psi_from_counts([10, 0], [5, 5], eps=1e-4), (0.5 - 1) * np.log(0.5) + (0.5 - 1e-4) * np.log(0.5 / 1e-4)
    )
    rng = np.random.default_rng(1)
    ref = rng.normal(size=2000)
    assert drift.psi(ref, ref) == 0.0
    assert drift.psi(ref, ref + 1.0) > 0.25
    with pytest.raises(ValueError, match="same length"):
        drift.psi_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        drift.psi_from_counts([1, -2], [1, 2])
    with pytest.raises(ValueError, match="non-empty"):
        drift.psi([], [1.0])
    with pytest.raises(ValueError, match="bins"):
        drift.psi([1.0], [1.0], bins=0)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(drift.psi_from_counts([0, 0], [1, 1]))


@FAST
@given(p=probs, data=st.data())
def test_distances_of_probability_vectors(p, data):
    p = np.array(p)
    p[0] += 0.1
    q = np.array(data.draw(st.lists(st.floats(0, 10), min_size=p.size, max_size=p.size)))
    q[-1] += 0.1
    pn, qn = p / p.sum(), q / q.sum()
    assert_allclose(drift.total_variation_distance(p, q), 0.5 * np.abs(pn - qn).sum(), rtol=1e-12, atol=1e-15)
    assert_allclose(drift.linf_distance(p, q), np.abs(pn - qn).max(), rtol=1e-12, atol=1e-15)
    h_ref = np.sqrt(max(0.0, 1 - np.sum(np.sqrt(pn * qn))))
    assert_allclose(drift.hellinger_distance(p, q), h_ref, rtol=1e-7, atol=1e-7)
    assert 0 <= drift.hellinger_distance(p, q) <= 1


def test_hellinger_samples_and_categorical_helpers():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=300), rng.normal(1, 1, size=200)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=7)
    ca, cb = np.histogram(a, edges)[0], np.histogram(b, edges)[0]
    assert_allclose(drift.hellinger_distance_samples(a, b, bins=7), drift.hellinger_distance(ca, cb), rtol=1e-14)
    assert_allclose(drift.hellinger_distance_samples(a, b, bins=edges), drift.hellinger_distance(ca, cb), rtol=1e-14)
    cats, p, q = drift.category_proportions(["x", "y", "y", "z"], ["y", "w"])
    assert cats.tolist() == ["w", "x", "y", "z"]
    assert_allclose(p, [0, 0.25, 0.5, 0.25])
    assert_allclose(q, [0.5, 0, 0.5, 0])
    assert drift.linf_distance(p, q) == 0.5
    # numerical features: Model Monitor's L-infinity of the ECDFs is the KS statistic
    assert drift.ks_2samp(a, b).statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    with pytest.raises(ValueError, match="bins"):
        drift.hellinger_distance_samples(a, b, bins=[1.0, 0.0])


# ------------------------------------------------------------------ multiple testing
def _bh_reference(p):
    p = np.asarray(p, float)
    m = p.size
    out = np.empty(m)
    for i in range(m):
        # adj_i = min over j with p_j >= p_i of m p_j / rank_j (rank = position in sorted order)
        order = np.argsort(p, kind="mergesort")
        ranks = np.empty(m, int)
        ranks[order] = np.arange(1, m + 1)
        cands = [p[j] / (ranks[j] / m) for j in range(m) if ranks[j] >= ranks[i]]
        out[i] = min(1.0, min(cands))
    return out


@FAST
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=30), alpha=st.sampled_from([0.01, 0.05, 0.2]))
def test_multiple_testing_reference(p, alpha):
    p = np.array(p)
    m = p.size
    assert_allclose(drift.bonferroni(p), np.minimum(p * m, 1))
    bh = drift.benjamini_hochberg(p)
    assert_allclose(bh, _bh_reference(p), rtol=1e-14)
    order = np.argsort(p)
    assert np.all(np.diff(bh[order]) >= 0)  # monotone
    assert np.all(bh <= 1)
    assert np.all(bh >= p * (1 - 1e-15))
    # step-up rule, written out
    sorted_p = np.sort(p)
    ok = np.nonzero(sorted_p <= np.arange(1, m + 1) / m * alpha)[0]
    k = ok.max() + 1 if ok.size else 0
    expected = p <= (sorted_p[k - 1] if k else -1.0)
    assert_array_equal(drift.multipletests_reject(p, alpha=alpha), expected)
    assert_array_equal(drift.multipletests_reject(p, alpha=alpha, method="bonferroni"), p <= alpha / m)


def test_multiple_testing_known_values_and_errors():
    # statsmodels multipletests([0.01, 0.02, 0.03, 0.04, 0.05], method='fdr_bh')[1] == [0.05] * 5
    assert_allclose(drift.benjamini_hochberg([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05] * 5)
    assert_allclose(drift.benjamini_hochberg([0.01, 0.5, 0.02]), [0.03, 0.5, 0.03])
    assert_allclose(drift.bonferroni([0.01, 0.5]), [0.02, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        drift.benjamini_hochberg([0.1, np.nan])
    with pytest.raises(ValueError, match="method"):
        drift.multipletests_reject([0.1], method="holm")


# ------------------------------------------------------------------ feature_drift
def test_feature_drift_equals_separate_functions():
    rng = np.random.default_rng(7)
    ref = rng.normal(size=(3000, 4))
    cur = rng.normal(0.05, 1.1, size=(2500, 4))
    cur[:, 3] = np.round(cur[:, 3])  # ties
    ref[:, 3] = np.round(ref[:, 3])
    out = drift.feature_drift(ref, cur, bins=10)
    for j in range(4):
        ks = stats.ks_2samp(ref[:, j], cur[:, j])
        assert_allclose([out["ks_statistic"][j], out["ks_pvalue"][j]], [ks.statistic, ks.pvalue], rtol=1e-10)
        assert_allclose(out["wasserstein"][j], stats.wasserstein_distance(ref[:, j], cur[:, j]), rtol=1e-10)
        assert_allclose(out["psi"][j], _psi_reference(ref[:, j], cur[:, j], 10, 1e-4), rtol=1e-10)
        edges = np.concatenate([[-np.inf], drift.quantile_edges(ref[:, j], 10), [np.inf]])
        hr, hc = np.histogram(ref[:, j], edges)[0], np.histogram(cur[:, j], edges)[0]
        assert_allclose(out["jensenshannon"][j], sp_jensenshannon(hr, hc), rtol=1e-10)
    with pytest.raises(ValueError, match="same number of features"):
        drift.feature_drift(ref, cur[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        drift.feature_drift(np.full((3, 1), np.nan), cur[:, :1])


def test_drift_module_imports_numpy_only():
    import subprocess
    import sys

    code = (
        "import sys, driftline_metrics.drift, driftline_metrics.bias;"
        "bad=[m for m in ('scipy','sklearn','pandas') if m in sys.modules];"
        "assert not bad, bad"
    )
    import os
    from pathlib import Path

    layer = Path(drift.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(layer)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@FAST
@given(x=samples(min_size=1, max_size=50, ties=True), y=samples(min_size=1, max_size=50, ties=True))
def test_feature_drift_small_samples_with_ties(x, y):
    out = drift.feature_drift(x, y, bins=4)
    ks = stats.ks_2samp(x, y)
    assert_allclose([out["ks_statistic"][0], out["ks_pvalue"][0]], [ks.statistic, ks.pvalue], rtol=1e-12)
    assert_allclose(out["wasserstein"][0], stats.wasserstein_distance(x, y), rtol=1e-12, atol=1e-12)
    assert_allclose(out["psi"][0], _psi_reference(x, y, 4, 1e-4), rtol=1e-12, atol=1e-14)
