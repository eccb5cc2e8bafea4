"""Drop-in behaviours found by running the peers' own suites (tests/peer): inputs the peers treat
specially must not be scored silently otherwise, and the layer's warning is the peer's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import driftline_metrics as dm
import numpy as np
import pytest
import scipy.stats as ss
import sklearn.metrics as skm
from driftline_metrics import drift
from numpy.testing import assert_allclose

LAYER = Path(__file__).resolve().parents[2] / "layers" / "metrics"


def test_masked_samples_leave_the_masked_elements_out_as_scipy():
    x = np.ma.masked_array([1.0, 2, 3, 50, 4, 5], mask=[0, 0, 0, 1, 0, 0])
    y = np.ma.masked_array([1.5, 2.5, 3.5, -10], mask=[0, 0, 0, 1])
    assert_allclose(tuple(drift.ks_2samp(x, y)), tuple(ss.ks_2samp(x, y)))
    p = np.ma.masked_array([1.0, 2, 3, 4], mask=[0, 1, 0, 0])
    q = np.ma.masked_array([2.0, 2, 1, 4], mask=[0, 0, 1, 0])
    assert_allclose(drift.entropy(p), ss.entropy(p))
    assert_allclose(drift.entropy(p, q), ss.entropy(p, q))
    assert_allclose(drift.entropy(p, q.data), ss.entropy(p, q.data))


@pytest.mark.parametrize("fn", ["accuracy_score", "f1_score", "confusion_matrix"])
def test_legacy_sequence_of_sequences_and_bytes_raise_as_sklearn(fn):
    legacy = np.empty(3, dtype=object)
    legacy[:] = [[1, 2], [3], [1]]
    for y, exc in ((legacy, ValueError), (np.array([b"a", b"b", b"a"]), TypeError)):
        with pytest.raises(exc) as ref:
            getattr(skm, fn)(y, y)
        with pytest.raises(exc) as ours:
            getattr(dm, fn)(y, y)
        assert str(ours.value) == str(ref.value)


def _run(code: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(LAYER))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_undefined_metric_warning_is_sklearns_once_sklearn_is_imported():
    _run(
        "import warnings, sklearn.exceptions as se, driftline_metrics as dm\n"
        "assert issubclass(dm.UndefinedMetricWarning, se.UndefinedMetricWarning)\n"
        "warnings.simplefilter('error', se.UndefinedMetricWarning)\n"
        "try:\n    dm.precision_score([0, 0], [0, 0])\nexcept se.UndefinedMetricWarning:\n    pass\n"
        "else:\n    raise SystemExit('not caught by a filter on sklearn.exceptions.UndefinedMetricWarning')\n"
    )


def test_the_layer_alone_never_imports_sklearn():
    _run(
        "import sys, driftline_metrics as dm, driftline_metrics.drift\n"
        "assert 'sklearn' not in sys.modules\n"
        "assert dm.UndefinedMetricWarning.__mro__[1] is UserWarning\n"
    )


def test_log_loss_takes_the_deprecated_y_pred_name_as_sklearn():
    y, p = [0, 1, 1, 0], [0.2, 0.7, 0.6, 0.1]
    with pytest.warns(FutureWarning, match="renamed to `y_proba`"):
        ours = dm.log_loss(y, y_pred=p)
    with pytest.warns(FutureWarning):
        ref = skm.log_loss(y, y_pred=p)
    assert_allclose(ours, ref)
    with pytest.raises(ValueError, match="Cannot use both"):
        dm.log_loss(y, p, y_pred=p)


@pytest.mark.parametrize("nan_policy", ["propagate", "omit"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_ks_2samp_axis_nan_policy_keepdims_as_scipy(nan_policy, keepdims):
    rng = np.random.default_rng(40)
    a = rng.normal(size=(3, 30))
    b = rng.normal(0.3, 1.0, size=(1, 25))  # broadcasts against a's first axis
    a[1, 4] = np.nan
    kw = {"axis": 1, "nan_policy": nan_policy, "keepdims": keepdims}
    ours, ref = drift.ks_2samp(a, b, **kw), ss.ks_2samp(a, b, **kw)
    for field in ("statistic", "pvalue", "statistic_location", "statistic_sign"):
        assert_allclose(getattr(ours, field), getattr(ref, field), equal_nan=True)
        assert np.shape(getattr(ours, field)) == np.shape(getattr(ref, field))
    assert_allclose(tuple(drift.ks_2samp(a.T, b.T, axis=0)), tuple(ss.ks_2samp(a.T, b.T, axis=0)), equal_nan=True)
    flat = {"axis": None, "nan_policy": "omit"}
    assert_allclose(tuple(drift.ks_2samp(a, b, **flat)), tuple(ss.ks_2samp(a, b, **flat)))


def test_ks_2samp_nan_raise_and_small_samples_warn_as_scipy():
    with pytest.raises(ValueError, match="The input contains nan values"):
        drift.ks_2samp([1.0, np.nan], [2.0, 3.0], nan_policy="raise")
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        drift.ks_2samp([1.0], [2.0], nan_policy="drop")
    with pytest.warns(dm.UndefinedMetricWarning, match="too small") as record:
        res = drift.ks_2samp([np.nan, np.nan], [2.0, 3.0], nan_policy="omit")
    assert np.isnan(res.statistic)
    assert issubclass(record[0].category, RuntimeWarning)  # SciPy's SmallSampleWarning is a RuntimeWarning


def test_entropy_nan_policy_and_keepdims_as_scipy():
    p = np.array([0.2, np.nan, 0.5, 0.3])
    q = np.array([0.1, 0.4, np.nan, 0.5])
    for kw in ({"nan_policy": "omit"}, {"nan_policy": "propagate"}):
        assert_allclose(drift.entropy(p, q, **kw), ss.entropy(p, q, **kw), equal_nan=True)
        assert_allclose(drift.entropy(p, **kw), ss.entropy(p, **kw), equal_nan=True)
    with pytest.raises(ValueError, match="The input contains nan values"):
        drift.entropy(p, nan_policy="raise")
    m = np.random.default_rng(41).random((3, 4))
    for axis in (0, 1):
        ours, ref = drift.entropy(m, axis=axis, keepdims=True), ss.entropy(m, axis=axis, keepdims=True)
        assert_allclose(ours, ref)
        assert ours.shape == ref.shape


def test_multiclass_roc_auc_column_count_message_matches_sklearns():
    y, s = [0, 1, 2, 1], np.full((4, 2), 0.5)
    msg = "Number of classes in y_true not equal to the number of columns in 'y_score'"
    for mod in (skm, dm):
        with pytest.raises(ValueError, match=msg):
            mod.roc_auc_score(y, s, multi_class="ovr")
