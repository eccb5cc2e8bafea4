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
  ``scipy.stats.chi2_contingency`` without continuity correction; classes absent from both parts are dropped,
  classes with an expected count under ``MIN_EXPECTED`` in the smaller part pooled into one cell). With
  ``dispersion="estimate"`` (the default) it is a quasi-likelihood test: real daily class rates vary beyond
  binomial noise, so the chi-square is divided by the dispersion phi, estimated from the windows' spread around
  their *own part's* rates (a real shift at the split does not inflate it; floored at 1) and referred to the F
  distribution with the estimate's degrees of freedom; ``"binomial"`` is the strict test (phi = 1). The split with
  the smallest p-value is the estimated shift, its p-value multiplied by the number of splits tried
  (Bonferroni: the split is chosen by the data) — a *label shift* when that is below ``alpha``;
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
#: a class whose expected count in either part of a split is below this is pooled (Cochran's rule for Pearson's
#: chi-square: its approximation fails on smaller expected counts, where one class can carry the statistic alone)
MIN_EXPECTED = 5.0
#: the dispersion is estimated from at least this many windows (one within-part degree of freedom per cell);
#: ``dispersion: "estimate"`` does not test a shorter chain (``dispersionSource: "too few windows"``): when the
#: day-to-day spread cannot be estimated, two windows that differ are no evidence of a shift
MIN_DISPERSION_WINDOWS = 3


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


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    out = d
    for m in range(1, 1000):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            out *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return out


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)`` (``scipy.special.betainc``), by its continued
    fraction on the side where it converges.

    >>> round(betainc(2.0, 3.0, 0.4), 10)
    0.5248
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def f_sf(f: float, dfn: float, dfd: float) -> float:
    """Survival function of Snedecor's F distribution (``scipy.stats.f.sf``).

    >>> round(f_sf(7.708647422, 1, 4), 6)
    0.05
    """
    if not f > 0:
        return 1.0
    return betainc(dfd / 2.0, dfn / 2.0, dfd / (dfd + dfn * f))


def pooling(col: np.ndarray, smaller: int, total: int, floor: float = MIN_EXPECTED) -> tuple[np.ndarray, list[int]]:
    """``(cells, pooled)``: the 0/1 matrix mapping the classes (rows) to the test's cells (columns) and the
    classes pooled. Classes absent from both parts are dropped; a class whose expected count in the smaller
    part (``smaller * col / total``) is below ``floor`` is pooled into one *other* cell; when that cell is itself
    below the floor it joins the smallest remaining class (so no row is dropped from the test).

    >>> cells, pooled = pooling(np.asarray([600, 300, 6, 5, 0]), 500, 911)  # 3.3 and 2.7 expected: other = 6.0
    >>> cells.shape, pooled
    ((5, 3), [2, 3])
    >>> pooling(np.asarray([600, 300, 2, 1, 0]), 500, 903)[0][:, 1].tolist()  # other = 1.7: joins class 1
    [0, 1, 1, 1, 0]
    """
    present = col > 0
    sparse = present & (smaller * col / total < floor) if total > 0 else present
    keep = np.flatnonzero(present & ~sparse)
    pooled = np.flatnonzero(sparse)
    other = pooled.size > 0 and (keep.size == 0 or smaller * col[pooled].sum() / total >= floor)
    cells = np.zeros((col.size, keep.size + int(other)), dtype=np.int64)
    cells[keep, np.arange(keep.size)] = 1
    if pooled.size:
        if other:
            cells[pooled, -1] = 1
        else:  # the other cell is sparse too: into the smallest kept class
            cells[pooled, int(np.argmin(col[keep]))] = 1
    return cells, pooled.tolist()


def within_dispersion(windows: np.ndarray, split: int) -> tuple[float, int]:
    """``(pearson, dof)``: Pearson's chi-square of each window's cell counts around its own part's pooled rates
    (the parts: ``windows[:split]`` and ``windows[split:]``), and its degrees of freedom ``(T - 2)(cells - 1)``.
    ``pearson / dof`` estimates the dispersion: 1 when the labels are independent, larger when the rates vary
    from window to window beyond binomial noise. Within the parts, so a real shift at ``split`` does not inflate
    it."""
    pearson = 0.0
    for part in (windows[:split], windows[split:]):
        sums = part.sum(axis=0)
        rates = sums / sums.sum()
        expected = part.sum(axis=1, keepdims=True) * rates[None, :]
        cells = expected > 0
        pearson += float(np.sum((part[cells] - expected[cells]) ** 2 / expected[cells]))
    return pearson, (windows.shape[0] - 2) * (windows.shape[1] - 1)


def split_test(arr: np.ndarray, split: int, *, dispersion: str, floor: float = MIN_EXPECTED) -> dict[str, Any]:
    """The homogeneity test of ``arr[:split]`` against ``arr[split:]`` (windows × classes), sparse classes pooled
    (:func:`pooling`). ``dispersion="binomial"``: Pearson's chi-square against the chi-square distribution.
    ``"estimate"`` (the quasi-likelihood test): the chi-square divided by the dispersion ``phi`` (the within-part
    estimate of :func:`within_dispersion`, floored at 1) and by its ``dof`` is referred to the F distribution
    with the estimate's degrees of freedom (``dispersionDof``), which accounts for the estimate's own noise; with
    fewer than ``MIN_DISPERSION_WINDOWS`` windows no test (p-value 1, ``dispersionSource: "too few windows"``)."""
    from driftline_metrics.drift import chi2_sf  # the layer's numpy survival function; imported when first needed

    before, after = arr[:split].sum(axis=0), arr[split:].sum(axis=0)
    total = int(before.sum() + after.sum())
    cells, pooled = pooling(before + after, int(min(before.sum(), after.sum())), total, floor)
    chi_square, _, dof = homogeneity((before @ cells).tolist(), (after @ cells).tolist())
    out = {"split": split, "statistic": chi_square, "chiSquare": chi_square, "dof": dof, "dispersion": 1.0,
           "dispersionEstimate": None, "dispersionDof": None, "dispersionSource": "binomial", "pooled": pooled,
           "before": before.tolist(), "after": after.tolist()}
    if dof == 0:
        return {**out, "pvalue": 1.0}
    if dispersion == "estimate" and arr.shape[0] >= MIN_DISPERSION_WINDOWS:
        pearson, df = within_dispersion(arr @ cells, split)
        phi = max(1.0, pearson / df)
        return {**out, "statistic": chi_square / phi, "dispersion": phi, "dispersionEstimate": pearson / df,
                "dispersionDof": df, "dispersionSource": "estimate", "pvalue": f_sf(chi_square / phi / dof, dof, df)}
    if dispersion == "estimate":
        return {**out, "dispersionSource": "too few windows", "pvalue": 1.0}
    return {**out, "pvalue": float(chi2_sf(chi_square, dof))}


def change_point(counts: Sequence[Sequence[int]], *, dispersion: str = "estimate",
                 floor: float = MIN_EXPECTED) -> dict[str, Any] | None:
    """The most likely label shift in ``counts`` (per window, oldest first): the split with the smallest p-value
    of :func:`split_test` (the largest statistic among equal p-values), with ``adjustedPvalue`` = its p-value
    times the number of splits tried (Bonferroni: the split is chosen by the data); ``None`` for fewer than two
    windows or windows of different class counts. The result has ``split`` (windows before it), ``statistic``
    (the chi-square divided by ``dispersion``), ``chiSquare``, ``pvalue``, ``adjustedPvalue``, ``dof``,
    ``dispersion`` (phi), ``dispersionEstimate`` (unfloored) and ``dispersionDof`` (``None`` when not
    estimated), ``dispersionSource`` (``"estimate"``, ``"binomial"`` or ``"too few windows"``), ``pooled`` (the
    classes pooled into one cell) and the ``before``/``after`` class counts.

    Examples
    --------
    >>> cp = change_point([[850, 150], [845, 155], [650, 350], [660, 340]], dispersion="binomial")
    >>> cp["split"], cp["adjustedPvalue"] < 1e-20
    (2, True)
    >>> counts = [[850, 150], [845, 155], [862, 138], [650, 350], [660, 340], [655, 345]]
    >>> cp = change_point(counts)  # the quasi-likelihood test: the chi-square over phi against F(1, 4)
    >>> cp["split"], cp["dispersionDof"], cp["dispersion"], round(cp["chiSquare"]), round(cp["adjustedPvalue"], 4)
    (3, 4, 1.0, 315, 0.0003)
    """
    if len(counts) < 2 or len({len(c) for c in counts}) != 1:
        return None
    arr = np.asarray(counts, dtype=np.int64)
    best = split_test(arr, 1, dispersion=dispersion, floor=floor)
    for split in range(2, len(counts)):
        res = split_test(arr, split, dispersion=dispersion, floor=floor)
        if (res["pvalue"], -res["statistic"]) < (best["pvalue"], -best["statistic"]):
            best = res
    best["adjustedPvalue"] = min(1.0, best["pvalue"] * (len(counts) - 1))
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
    *, alpha: float, min_windows: int, already: Sequence[str] = (), dispersion: str = "estimate",
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
    found = change_point([c for c, _ in chain], dispersion=dispersion)
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
