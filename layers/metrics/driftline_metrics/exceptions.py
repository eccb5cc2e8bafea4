"""Warnings and errors raised by :mod:`driftline_metrics`.

Kept in one module so that every part of the layer (classification, ranking,
regression, drift, bias, partial states) raises the same, importable types.
"""

from __future__ import annotations

import sys

__all__ = ["SmallSampleWarning", "UndefinedMetricWarning"]


def _peer_base() -> type[Warning]:
    """scikit-learn's ``UndefinedMetricWarning`` when scikit-learn is already imported (so that a
    user's ``warnings`` filters on it catch the layer's too), else ``UserWarning``. Looked up in
    ``sys.modules`` only: the layer never imports scikit-learn."""
    peer = getattr(sys.modules.get("sklearn.exceptions"), "UndefinedMetricWarning", None)
    return peer if isinstance(peer, type) and issubclass(peer, Warning) else UserWarning


class UndefinedMetricWarning(_peer_base()):  # type: ignore[misc]
    """A metric is undefined for the given input (e.g. a 0/0 ratio).

    Mirrors ``sklearn.exceptions.UndefinedMetricWarning``: the metric still
    returns a value (``0.0``, ``1.0`` or ``nan`` as documented) and this
    warning says why.
    """


def _scipy_small_sample() -> tuple[type[Warning], ...]:
    """SciPy's ``SmallSampleWarning`` when SciPy's stats are already imported (looked up only)."""
    peer = getattr(sys.modules.get("scipy.stats._axis_nan_policy"), "SmallSampleWarning", None)
    return (peer,) if isinstance(peer, type) and issubclass(peer, Warning) else (RuntimeWarning,)


class SmallSampleWarning(UndefinedMetricWarning, *_scipy_small_sample()):  # type: ignore[misc]
    """A sample is too small for the statistic (e.g. empty): the result is NaN.

    Mirrors ``scipy.stats``' ``SmallSampleWarning`` (a ``RuntimeWarning``); a subclass of it when
    SciPy is already imported, and of :class:`UndefinedMetricWarning` always.
    """
