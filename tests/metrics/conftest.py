"""Shared set-up for the metrics tests: a modest Hypothesis profile and the oracle comparison.

scikit-learn is the test-only oracle. ``oracle(ours, ref, *args, **kwargs)`` runs both on the same
inputs and checks that they agree on the outcome: same value (``assert_allclose``, NaN == NaN), same
warnings (``UndefinedMetricWarning`` and plain ``UserWarning``, by kind), or both raise (where the
reference raises, ours must raise ``ValueError`` — or the same built-in type, e.g. NotImplementedError).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "driftline-metrics",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
# `pytest --hypothesis-profile=driftline-thorough tests/metrics` for a long local soak
settings.register_profile("driftline-thorough", parent=settings.get_profile("driftline-metrics"), max_examples=1000)
settings.load_profile("driftline-metrics")


def _run(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, Any, set[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            return "raise", exc, set()
    kinds = set()
    for w in caught:
        if w.category.__name__ == "UndefinedMetricWarning":
            kinds.add("undefined")
        elif w.category is UserWarning:
            kinds.add("user")
    return "ok", value, kinds


def _assert_same_value(ours: Any, ref: Any) -> None:
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple)
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref, strict=True):
            _assert_same_value(o, r)
        return
    if ref is None:
        assert ours is None
        return
    ref_arr, ours_arr = np.asarray(ref), np.asarray(ours)
    assert ours_arr.shape == ref_arr.shape, (ours_arr, ref_arr)
    if ref_arr.dtype.kind in "iufb":
        np.testing.assert_allclose(ours_arr, ref_arr, rtol=1e-9, atol=1e-12, equal_nan=True)
    else:
        np.testing.assert_array_equal(ours_arr, ref_arr)
    if np.ndim(ref) == 0 and isinstance(ref, float):
        assert isinstance(ours, float), f"expected a Python float, got {type(ours)}"


def compare_with_reference(
    ours: Callable[..., Any], ref: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run ``ours`` and ``ref`` on the same inputs; assert the same outcome. Returns our value."""
    r_status, r_value, r_warn = _run(ref, args, kwargs)
    o_status, o_value, o_warn = _run(ours, args, kwargs)
    if r_status == "raise":
        assert o_status == "raise", f"reference raised {r_value!r}, ours returned {o_value!r}"
        expected = type(r_value) if type(r_value) in (NotImplementedError,) else ValueError
        assert isinstance(o_value, expected), f"ours raised {o_value!r}; reference raised {r_value!r}"
        assert str(o_value), "error message must say what was wrong"
        return None
    assert o_status == "ok", f"ours raised {o_value!r}; reference returned {r_value!r}"
    _assert_same_value(o_value, r_value)
    assert o_warn == r_warn, f"warnings differ: ours {o_warn}, reference {r_warn}"
    return o_value


@pytest.fixture(scope="session")
def oracle() -> Callable[..., Any]:
    return compare_with_reference
