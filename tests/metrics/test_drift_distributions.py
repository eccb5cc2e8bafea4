"""driftline_metrics._distributions (re-exported by ``drift``) against SciPy: the KS
distributions, the incomplete gamma and the chi-square survival function."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics import drift
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import special, stats

from tests.metrics._drift_support import FAST


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
