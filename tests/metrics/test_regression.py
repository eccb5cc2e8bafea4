"""Regression metrics against scikit-learn: single and multi-output, weights, multioutput options."""

from __future__ import annotations

import driftline_metrics as dm
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

NAMES = [
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "r2_score",
]
VALUES = st.one_of(st.sampled_from([0.0, 1.0, -2.5, 3.0]), st.floats(-1e3, 1e3, allow_nan=False))


@st.composite
def regression_problems(draw):
    n = draw(st.integers(1, 25))
    outputs = draw(st.sampled_from([None, 1, 2, 3]))
    shape = (n,) if outputs is None else (n, outputs)
    size = int(np.prod(shape))
    y_true = np.array(draw(st.lists(VALUES, min_size=size, max_size=size))).reshape(shape)
    if draw(st.booleans()):
        y_pred = y_true.copy()  # perfect predictions (r2 force_finite branches)
    else:
        y_pred = np.array(draw(st.lists(VALUES, min_size=size, max_size=size))).reshape(shape)
    if draw(st.booleans()):
        y_true = np.zeros(shape) + y_true.flat[0]  # constant target
    sw = draw(
        st.one_of(
            st.none(),
            st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array),
            st.lists(st.floats(0.1, 4.0), min_size=n, max_size=n).map(np.array),
        )
    )
    k = 1 if outputs is None else outputs
    multioutput = draw(
        st.sampled_from(["raw_values", "uniform_average", "variance_weighted", list(np.linspace(1, 2, k))])
    )
    return y_true, y_pred, sw, multioutput


@pytest.mark.parametrize("name", NAMES)
@given(problem=regression_problems())
def test_regression_against_reference(oracle, name, problem):
    y_true, y_pred, sw, multioutput = problem
    oracle(getattr(dm, name), getattr(skm, name), y_true, y_pred, sample_weight=sw, multioutput=multioutput)


@given(problem=regression_problems(), force_finite=st.booleans())
def test_r2_force_finite(oracle, problem, force_finite):
    y_true, y_pred, sw, multioutput = problem
    oracle(
        dm.r2_score, skm.r2_score, y_true, y_pred, sample_weight=sw, multioutput=multioutput,
        force_finite=force_finite,
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        pytest.param([1.0, 2.0], [1.0], id="length"),
        pytest.param([1.0, np.nan], [1.0, 2.0], id="nan"),
        pytest.param([1.0, 2.0], [1.0, np.inf], id="inf"),
        pytest.param([[1.0, 2.0]], [[1.0, 2.0, 3.0]], id="outputs"),
        pytest.param([], [], id="empty"),
        pytest.param(["a", "b"], [1.0, 2.0], id="strings"),
    ],
)
def test_regression_invalid(oracle, name, y_true, y_pred):
    oracle(getattr(dm, name), getattr(skm, name), y_true, y_pred)


@pytest.mark.parametrize("name", NAMES)
def test_regression_bad_multioutput(oracle, name):
    oracle(getattr(dm, name), getattr(skm, name), [[1.0, 2.0]] * 3, [[1.0, 2.5]] * 3, multioutput="bogus")
    oracle(getattr(dm, name), getattr(skm, name), [[1.0, 2.0]] * 3, [[1.0, 2.5]] * 3, multioutput=[1.0])
    oracle(getattr(dm, name), getattr(skm, name), [1.0, 2.0], [1.0, 2.5], multioutput=[1.0])
