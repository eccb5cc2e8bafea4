"""Mergeable moments for the window bounds of a sharded evaluation.

A sharded run never holds the window's rows in one place, so the bounds that :func:`stats.window_bounds` takes
from per-row values are rebuilt from per-shard sums that add up exactly:

- the mean-loss metrics (``mse``/``rmse``, ``mae``, ``mape``; binary ``log_loss``, ``brier``): ``[n, sum x,
  sum x^2]`` of the per-row loss, so the merged normal interval of the mean equals the one-shot one;
- ``r2``: the delta-method interval needs the (co)moments of ``a = e^2`` and ``b = (y - mean(y))^2`` around the
  *window's* mean, unknown to a shard. Each shard stores power sums of ``d = y - c`` around its own mean ``c``
  (orders 1-4) and of ``a``, ``a d``, ``a d^2``; the reducer shifts them to the window's mean with the binomial
  expansion (no cancellation: every shard's ``c`` is close to the window's mean);
- ``average_precision``: the logit interval (Boyd et al. 2013) needs only the value and the positives (from the
  merged confusion matrix).

Equal to the one-shot bounds up to float rounding (tested against :func:`stats.window_bounds`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from metric_evaluator.stats import _EPS, per_row_loss, z_of

MOMENTS_SCHEMA = "driftline.moments/v1"


def _sums(x: np.ndarray) -> list[float]:
    return [float(x.size), float(x.sum()), float(np.dot(x, x))]


def shard_moments(kind: str, y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """The mergeable moments of one shard's labelled rows (JSON-safe; empty when the rows are not finite).

    ``kind`` ``regression`` (``scores`` the predictions) or ``binary`` (``y`` 0/1, ``scores`` the positive
    class probabilities).
    """
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s))):
        return {}
    out: dict[str, Any] = {"schema": MOMENTS_SCHEMA, "rows": int(y.size)}
    if y.size == 0:
        return out
    if kind == "regression":
        e = s - y
        a = e * e
        out["mse"] = _sums(a)
        out["mae"] = _sums(np.abs(e))
        out["mape"] = _sums(np.abs(e) / np.maximum(np.abs(y), _EPS))
        c = float(y.mean())
        d = y - c
        d2 = d * d
        out["r2"] = {"c": c, "n": float(y.size), "d": [float(d.sum()), float(d2.sum()), float(np.dot(d2, d)),
                                                       float(np.dot(d2, d2))],
                     "a": [float(a.sum()), float(np.dot(a, a)), float(np.dot(a, d)), float(np.dot(a, d2))]}
        return out
    for metric in ("log_loss", "brier"):
        losses = per_row_loss(metric, kind="binary", y=y, scores=s)
        if losses is not None:
            out[metric] = _sums(losses)
    return out


def _add(parts: Iterable[Sequence[float]]) -> np.ndarray | None:
    rows = [np.asarray(p, dtype=np.float64) for p in parts]
    return np.sum(rows, axis=0) if rows else None


def _mean_interval(sums: np.ndarray, confidence: float) -> tuple[float, float] | None:
    n, s1, s2 = (float(v) for v in sums)
    if n < 2:
        return None
    mean = s1 / n
    var = max(s2 - n * mean * mean, 0.0) / (n - 1)
    half = z_of(confidence) * math.sqrt(var / n)
    return mean - half, mean + half


def _r2_interval(parts: Sequence[Mapping[str, Any]], confidence: float) -> tuple[float, float, float] | None:
    n = sum(float(p["n"]) for p in parts)
    if n < 2:
        return None
    ybar = sum(float(p["n"]) * float(p["c"]) + float(p["d"][0]) for p in parts) / n
    sa = sa2 = sb = sb2 = sab = 0.0
    for p in parts:
        k, (d1, d2, d3, d4), (a1, a2, ad1, ad2) = float(p["n"]), p["d"], p["a"]
        t = float(p["c"]) - ybar  # y - ybar = d + t
        sa += a1
        sa2 += a2
        sb += d2 + 2 * t * d1 + k * t * t
        sb2 += d4 + 4 * t * d3 + 6 * t * t * d2 + 4 * t**3 * d1 + k * t**4
        sab += ad2 + 2 * t * ad1 + t * t * a1
    ma, mb = sa / n, sb / n
    if mb <= 0:
        return None
    va, vb = (sa2 - n * ma * ma) / (n - 1), (sb2 - n * mb * mb) / (n - 1)
    cab = (sab - n * ma * mb) / (n - 1)
    var = (va / mb**2 - 2 * ma * cab / mb**3 + ma**2 * vb / mb**4) / n
    value, sd = 1 - ma / mb, math.sqrt(max(var, 0.0))
    z = z_of(confidence)
    return value, value - z * sd, min(1.0, value + z * sd)


def ap_logit_bounds(ap: float, n_pos: int, confidence: float) -> dict[str, Any] | None:
    """Logit interval of an average precision (Boyd et al. 2013): ``logit(AP) +- z / sqrt(n_pos AP (1 - AP))``."""
    if not (0 < ap < 1) or n_pos <= 0:
        return None
    logit, se = math.log(ap / (1 - ap)), 1 / math.sqrt(n_pos * ap * (1 - ap))
    z = z_of(confidence)
    return {"method": "logit", "lower": 1 / (1 + math.exp(-(logit - z * se))),
            "upper": 1 / (1 + math.exp(-(logit + z * se))), "confidence": confidence}


def bounds_from_moments(metrics: Sequence[str], values: Mapping[str, float], shards: Sequence[Mapping[str, Any]],
                        confidence: float, *, n_pos: int | None = None) -> dict[str, dict[str, Any]]:
    """Bounds of the thresholded ``metrics`` a sharded run can bound from its shards' :func:`shard_moments`
    (every shard must carry them) and, for ``average_precision``, the merged positives ``n_pos``."""
    raw = [d.get("moments") for d in shards]
    complete = bool(raw) and all(isinstance(m, Mapping) and m.get("schema") == MOMENTS_SCHEMA for m in raw)
    moments: list[Mapping[str, Any]] = [m for m in raw if isinstance(m, Mapping) and m.get("rows")] if complete else []
    out: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        if metric in out or not math.isfinite(values.get(metric, math.nan)):
            continue
        b: dict[str, Any] | None = None
        if metric == "average_precision" and n_pos is not None:
            b = ap_logit_bounds(float(values[metric]), n_pos, confidence)
        elif moments and metric == "r2" and all("r2" in m for m in moments):
            r = _r2_interval([m["r2"] for m in moments], confidence)
            b = None if r is None else {"method": "delta", "lower": r[1], "upper": r[2]}
        elif moments and all(("mse" if metric == "rmse" else metric) in m for m in moments):
            key = "mse" if metric == "rmse" else metric
            total = _add(m[key] for m in moments)
            if total is not None:
                iv = _mean_interval(total, confidence)
                if iv is not None:
                    lo, hi = max(iv[0], 0.0), iv[1]
                    if metric == "rmse":
                        b = {"method": "normal_sqrt", "lower": math.sqrt(lo), "upper": math.sqrt(max(hi, 0.0))}
                    else:
                        b = {"method": "normal", "lower": lo, "upper": hi}
        if b is not None and math.isfinite(b["lower"]) and math.isfinite(b["upper"]):
            out[metric] = {**b, "confidence": confidence}
    return out
