"""Warnings and errors raised by :mod:`driftline_metrics`.

Kept in one module so that every part of the layer (classification, ranking,
regression, drift, bias, partial states) raises the same, importable types.
"""

from __future__ import annotations

__all__ = ["UndefinedMetricWarning"]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the given input (e.g. a 0/0 ratio).

    Mirrors ``sklearn.exceptions.UndefinedMetricWarning``: the metric still
    returns a value (``0.0``, ``1.0`` or ``nan`` as documented) and this
    warning says why.
    """
