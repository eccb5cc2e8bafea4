"""driftline_metrics._distances (re-exported by ``drift``) against SciPy and straightforward
references: Wasserstein, entropy, Jensen–Shannon, PSI and the binned distances."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics import drift
from driftline_metrics.exceptions import UndefinedMetricWarning
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.spatial.distance import jensenshannon as sp_jensenshannon

from tests.metrics._drift_support import FAST, probs, psi_reference, samples


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
    assert_allclose(drift.psi(ref, cur, bins=bins), psi_reference(ref, cur, bins, 1e-4), rtol=1e-12, atol=1e-14)


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
