"""Warnings and errors raised by :mod:`driftline_metrics`.

Kept in one module so that every part of the layer (classification, ranking,
regression, drift, bias, partial states) raises the same, importable types.
"""

from __future__ import annotations

import sys

__all__ = ["UndefinedMetricWarning"]


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
