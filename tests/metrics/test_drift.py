"""driftline_metrics.drift: the re-exports, ``feature_drift`` against the separate functions and
SciPy, and the numpy-only import."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics import drift
from hypothesis import given
from numpy.testing import assert_allclose
from scipy import stats
from scipy.spatial.distance import jensenshannon as sp_jensenshannon

from tests.metrics._drift_support import FAST, psi_reference, samples


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
        assert_allclose(out["psi"][j], psi_reference(ref[:, j], cur[:, j], 10, 1e-4), rtol=1e-10)
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
    assert_allclose(out["psi"][0], psi_reference(x, y, 4, 1e-4), rtol=1e-12, atol=1e-14)


def test_drift_reexports_every_public_name_of_the_concept_modules():
    from driftline_metrics import _distances, _distributions, _multitest, _tests

    for module in (_distributions, _tests, _distances, _multitest):
        defined = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        ]
        assert defined, module.__name__
        for name in defined:
            assert getattr(drift, name) is getattr(module, name), name
            assert name in drift.__all__, name
    assert all(hasattr(drift, name) for name in drift.__all__)
