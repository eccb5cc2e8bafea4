"""Sequential breaches: a one-sided CUSUM of each thresholded metric's per-window deficit in standard-error units.

Judging each window alone (its own confidence bound) is slow when the metric sits moderately below a threshold on
small windows: a deficit of 1.5 standard errors per window breaches a window's own 90 % bound only about two
windows in three, and one window that reads above the threshold by noise breaks any "every window below" rule.
The CUSUM accumulates the evidence of every window the current champion version scored instead:

* per window ``i`` and threshold, the deficit ``z_i = (min - value_i) / se_i`` (``max``: ``(value_i - max) /
  se_i``), positive on the wrong side, with the standard error read off the window's own one-sided bound on the
  threshold's side, ``se_i = |bound_i - value_i| / z(confidence_i)`` (the same bounds the evaluator reports for
  every metric: Wilson, DeLong, bootstrap, normal or delta-method intervals, docs/decisions.md section 1);
* ``S_i = max(0, S_{i-1} + min(z_i, reference + limit) - reference)``, ``S = 0`` before the champion version's
  first window and after any window without a finite value and bound for the metric;
* a *sequential breach* when ``S > limit``, the excursion (the run of windows with ``S > 0``) spans at least
  ``consecutiveBreaches`` windows, and the current window's point estimate is on the wrong side.

``reference`` (k) is the per-window drift subtracted, so a metric sitting above the threshold pulls ``S`` back
to 0; the cap ``reference + limit`` means one window can add at most ``limit`` (a single disastrous window, e.g.
a bad label batch, cannot carry later healthy windows into a breach), and the excursion length keeps
``consecutiveBreaches`` as the second guard. False-alarm and detection rates (Monte Carlo,
``tests/unit/test_decision_cusum.py``, docs/decisions.md) are functions of the margin in standard errors only,
so they hold for every metric, problem type and window size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from statistics import NormalDist
from typing import Any

#: at most this many per-window deficits are reported per sequential breach (the newest)
REPORTED_DEFICITS = 10


def deficit(row: Mapping[str, float], limit: float, side: str) -> float | None:
    """The window's deficit against a ``min``/``max`` threshold in standard-error units (positive = wrong side);
    ``None`` when the window has no usable standard error on that side."""
    z_row = _z(row["confidence"])
    bound = row["upper"] if side == "min" else row["lower"]
    se = abs(bound - row["value"]) / z_row
    if not math.isfinite(se):
        return None
    gap = (limit - row["value"]) if side == "min" else (row["value"] - limit)
    if se <= 0:  # a degenerate bound (e.g. accuracy 1.0): the side of the point estimate decides
        return None if gap > 0 else -math.inf
    return gap / se


@lru_cache(maxsize=64)
def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(confidence)


def cusum_breaches(thresholds: Sequence[Mapping[str, Any]],
                   windows: Sequence[Mapping[str, Mapping[str, float]] | None], *,
                   reference: float, limit: float, min_windows: int
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(breaches, statistics)`` of the CUSUM over ``windows`` (oldest first, the current window last; each a
    :func:`retrain_launcher.policy.window_evidence`, ``None`` for a gap that resets every statistic).

    ``statistics`` is ``[{"metric", "min"|"max": threshold, "statistic": S, "windows": excursion length}]`` for
    every thresholded metric the current window has evidence for; ``breaches`` lists the sequential breaches
    (``{"metric", "min"|"max", "statistic", "windows", "reference", "limit", "deficits"}``).

    Examples
    --------
    >>> w = {"accuracy": {"value": 0.818, "lower": 0.806, "upper": 0.830, "confidence": 0.9}}
    >>> up = {"accuracy": {"value": 0.835, "lower": 0.823, "upper": 0.846, "confidence": 0.9}}
    >>> t = [{"metric": "accuracy", "min": 0.83}]
    >>> [b["windows"] for b in cusum_breaches(t, [w, w], reference=0.25, limit=1.5, min_windows=2)[0]]
    [2]
    >>> cusum_breaches(t, [w, up, w], reference=0.25, limit=1.5, min_windows=2)[0]  # a window above: not yet
    []
    >>> [b["windows"] for b in cusum_breaches(t, [w, up, w, w], reference=0.25, limit=1.5, min_windows=2)[0]]
    [4]
    """
    breaches: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    if not windows or windows[-1] is None:
        return breaches, stats
    current = windows[-1]
    cap = reference + limit
    for t in thresholds:
        metric = t.get("metric")
        if not isinstance(metric, str) or metric not in current:
            continue
        for side in ("min", "max"):
            bound = t.get(side)
            if not isinstance(bound, int | float) or isinstance(bound, bool):
                continue
            s, length = 0.0, 0
            deficits: list[float] = []
            for w in windows:
                d = deficit(w[metric], float(bound), side) if w is not None and metric in w else None
                if d is None:
                    s, length, deficits = 0.0, 0, []
                    continue
                s = max(0.0, s + min(d, cap) - reference)
                length = length + 1 if s > 0 else 0
                deficits = [*deficits, d][-REPORTED_DEFICITS:] if s > 0 else []
            stats.append({"metric": metric, side: float(bound), "statistic": round(s, 4), "windows": length})
            last = deficit(current[metric], float(bound), side)
            if s > limit and length >= min_windows and last is not None and last > 0 and not any(
                    b["metric"] == metric for b in breaches):
                breaches.append({"metric": metric, side: float(bound), "statistic": s, "windows": length,
                                 "reference": reference, "limit": limit,
                                 "deficits": [round(x, 4) for x in deficits]})
    return breaches, stats
