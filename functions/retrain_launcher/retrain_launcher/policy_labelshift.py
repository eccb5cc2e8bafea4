"""Label-shift breaches: a change in the windows' ground-truth class counts as evidence for a breach.

A label-prior shift (or a moved decision boundary) shows in the labels long before a threshold metric's
confidence bound does: at 1,000 rows a day a move of the positive rate from 0.15 to 0.35 is a chi-square of
about 220 in its first window (against five earlier ones), while the accuracy it costs (0.016, 1.3 standard
errors of one window) needs two to four windows to be seen by the metric alone. This module tests for such a
change and lets it lower the evidence a *harmful* change needs, never create it:

* the windows: the assessed windows the current champion *version* scored (ending after its ``since``) that
  carry their ``classCounts``, oldest first, the current window last (a window without counts ends the chain:
  only the windows after it are used);
* the change point: for every split of that chain into an earlier part (the reference, what the champion
  version saw before) and a later part ending at the current window, Pearson's chi-square homogeneity test of
  the two parts' summed class counts (``driftline_metrics.chi2_contingency``, numpy only, as
  ``scipy.stats.chi2_contingency`` without continuity correction; classes absent from both parts are dropped);
  the split with the largest statistic is the estimated shift, and its p-value is multiplied by the number of
  splits tried (Bonferroni: the split is chosen by the data) — a *label shift* when that is below ``alpha``;
* a *label-shift breach* of a thresholded metric (every metric but ``roc_auc``, which a prior shift cannot move)
  when, in addition, the later part spans at least ``consecutiveBreaches`` windows, the current window's point
  estimate is on the wrong side of the threshold, and so is the inverse-variance pooled point estimate of the
  windows since the shift (standard errors read off each window's one-sided bound, as the pooled and
  sequential rules do).

So the label test alone never retrains: a shift that does not hurt (the metric's point estimates on the right
side) is no breach, and after a remedy is deployed the new version's own windows are the reference, so an
absorbed shift cannot re-trigger. Regression has no classes: the rule does not apply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from retrain_launcher.policy_cusum import _z, deficit

#: the metric a pure label-prior shift cannot move (the ranking is P(x|y)'s): never a label-shift breach
PRIOR_INVARIANT = frozenset({"roc_auc"})
#: at most this many newest windows are searched for the change point
MAX_WINDOWS = 60


def class_counts(raw: Any) -> list[int] | None:
    """A window's ``classCounts`` as non-negative integers (``None`` when missing or malformed)."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or len(raw) < 2:
        return None
    out = []
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0 or v != int(v):
            return None
        out.append(int(v))
    return out if sum(out) > 0 else None


def homogeneity(before: Sequence[int], after: Sequence[int]) -> tuple[float, float, int]:
    """``(statistic, pvalue, dof)`` of Pearson's chi-square homogeneity test of two class-count vectors (classes
    absent from both dropped; ``(0, 1, 0)`` when fewer than two classes remain or either part is empty)."""
    table = np.asarray([before, after], dtype=np.int64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        return 0.0, 1.0, 0
    from driftline_metrics.drift import chi2_contingency  # the layer's numpy test; imported when first needed

    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def change_point(counts: Sequence[Sequence[int]]) -> dict[str, Any] | None:
    """The most likely label shift in ``counts`` (per window, oldest first): ``{"split", "statistic", "pvalue",
    "adjustedPvalue", "dof", "before", "after"}`` where ``split`` is the number of windows before it and
    ``adjustedPvalue`` the p-value times the number of splits tried; ``None`` for fewer than two windows or
    windows of different class counts.

    Examples
    --------
    >>> cp = change_point([[850, 150], [845, 155], [650, 350], [660, 340]])
    >>> cp["split"], cp["adjustedPvalue"] < 1e-20
    (2, True)
    >>> change_point([[850, 150], [845, 155]])["adjustedPvalue"] > 0.5
    True
    """
    if len(counts) < 2 or len({len(c) for c in counts}) != 1:
        return None
    arr = np.asarray(counts, dtype=np.int64)
    total = arr.sum(axis=0)
    cum = np.cumsum(arr, axis=0)
    best: dict[str, Any] = {"statistic": -1.0}
    splits = len(counts) - 1
    for split in range(1, len(counts)):
        before = cum[split - 1]
        stat, p, dof = homogeneity(before.tolist(), (total - before).tolist())
        if stat > best["statistic"]:
            best = {"split": split, "statistic": stat, "pvalue": p, "dof": dof,
                    "before": before.tolist(), "after": (total - before).tolist()}
    best["adjustedPvalue"] = min(1.0, best["pvalue"] * splits)
    return best


def _pooled_value(rows: Sequence[Mapping[str, float]], side: str) -> float | None:
    """The inverse-variance weighted mean of the windows' values (standard errors off the ``side``'s bound)."""
    values, weights = [], []
    for r in rows:
        bound = r["upper"] if side == "min" else r["lower"]
        se = abs(bound - r["value"]) / _z(r["confidence"])
        if not (math.isfinite(se) and se > 0):
            return None
        values.append(r["value"])
        weights.append(1.0 / (se * se))
    if not weights:
        return None
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def label_shift_breaches(
    thresholds: Sequence[Mapping[str, Any]],
    windows: Sequence[tuple[Sequence[int] | None, Mapping[str, Mapping[str, float]] | None]],
    *, alpha: float, min_windows: int, already: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``(breaches, test)`` of the label-shift rule over ``windows`` (oldest first, the current window last; each
    ``(classCounts or None, window_evidence or None)``).

    ``test`` is the change point's test (:func:`change_point`, with ``windows`` = the later part's length,
    ``alpha`` and ``shift`` = adjusted p-value below ``alpha``; ``None`` without two windows with counts);
    ``breaches`` the label-shift breaches (``{"metric", "min"|"max", "value": pooled point estimate since the
    shift, "windows", "pvalue"}``) of metrics not in ``already`` (those breached by another rule).

    Examples
    --------
    >>> acc = lambda v: {"accuracy": {"value": v, "lower": v - 0.015, "upper": v + 0.015, "confidence": 0.9}}
    >>> before = [([850, 150], acc(0.86))] * 4
    >>> t = [{"metric": "accuracy", "min": 0.83}]
    >>> after = [([650, 350], acc(0.818)), ([640, 360], acc(0.835)), ([655, 345], acc(0.818))]
    >>> [b["windows"] for b in label_shift_breaches(t, before + after, alpha=0.001, min_windows=2)[0]]
    [3]
    >>> label_shift_breaches(t, before + after[:2], alpha=0.001, min_windows=2)[0]  # current window above
    []
    >>> healthy = [([650, 350], acc(0.845))] * 3  # the labels moved, the metric did not: no breach
    >>> label_shift_breaches(t, before + healthy, alpha=0.001, min_windows=2)[0]
    []
    """
    chain: list[tuple[list[int], Mapping[str, Mapping[str, float]]]] = []
    for raw, evidence in list(windows)[-MAX_WINDOWS:]:
        counts = class_counts(raw)
        if counts is None or (chain and len(counts) != len(chain[0][0])):
            chain = [] if counts is None else [(counts, evidence or {})]
            continue
        chain.append((counts, evidence or {}))
    if len(chain) < 2 or class_counts(windows[-1][0]) is None:
        return [], None
    found = change_point([c for c, _ in chain])
    if found is None:
        return [], None
    since = chain[found["split"]:]
    test = {**found, "windows": len(since), "alpha": alpha, "shift": found["adjustedPvalue"] < alpha}
    if not test["shift"] or len(since) < min_windows:
        return [], test
    current = since[-1][1]
    breaches: list[dict[str, Any]] = []
    for t in thresholds:
        metric = t.get("metric")
        if (not isinstance(metric, str) or metric in PRIOR_INVARIANT or metric in already or metric not in current
                or any(b["metric"] == metric for b in breaches)):
            continue
        for side in ("min", "max"):
            limit = t.get(side)
            if not isinstance(limit, int | float) or isinstance(limit, bool):
                continue
            last = deficit(current[metric], float(limit), side)
            if last is None or not last > 0:
                continue
            pooled = _pooled_value([e[metric] for _, e in since if metric in e], side)
            if pooled is None or not (pooled < limit if side == "min" else pooled > limit):
                continue
            breaches.append({"metric": metric, side: float(limit), "value": pooled, "windows": len(since),
                             "pvalue": found["adjustedPvalue"]})
            break
    return breaches, test
