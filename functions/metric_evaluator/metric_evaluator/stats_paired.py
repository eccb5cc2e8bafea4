"""Paired champion-vs-candidate tests of the evaluator (McNemar, bootstrap of the joint table, paired DeLong,
Poisson-weight bootstrap of per-row sums) and Holm's correction. The method per metric is tabled in
:mod:`metric_evaluator.stats`, which re-exports this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from metric_evaluator.stats_bounds import (
    _EPS,
    BATCH_ELEMENTS,
    BOOTSTRAP_MAX_ROWS,
    CONFUSION_METRICS,
    LOWER_IS_BETTER,
    MEAN_LOSS_METRICS,
    SEED,
    _ovr,
    confusion_metric,
    delong,
    norm_sf,
    per_row_loss,
    z_of,
)

__all__ = [
    "binom_sf_half",
    "bootstrap_sums",
    "holm",
    "joint_table",
    "paired_test",
    "poisson_weight_batches",
]



def joint_table(y: np.ndarray, pred_champion: np.ndarray, pred_candidate: np.ndarray, k: int) -> np.ndarray:
    """The ``(k, k, k)`` count table ``[label, champion prediction, candidate prediction]`` of paired rows (class
    indices in ``[0, k)``): a sufficient statistic of every confusion-matrix metric's paired comparison."""
    y, a, b = (np.asarray(v, dtype=np.int64) for v in (y, pred_champion, pred_candidate))
    return np.bincount((y * k + a) * k + b, minlength=k**3).reshape(k, k, k)


def _mcnemar_from_joint(cube: np.ndarray) -> tuple[int, int, int, int]:
    """``(championOnly, candidateOnly, bothCorrect, bothWrong)`` of a :func:`joint_table`."""
    k = cube.shape[0]
    idx = np.arange(k)
    a_right = np.zeros((k, k, k), dtype=bool)
    b_right = np.zeros((k, k, k), dtype=bool)
    a_right[idx, idx, :] = True
    b_right[idx, :, idx] = True
    return (int(cube[a_right & ~b_right].sum()), int(cube[~a_right & b_right].sum()),
            int(cube[a_right & b_right].sum()), int(cube[~a_right & ~b_right].sum()))


def binom_sf_half(k: int, m: int, *, mid_p: bool) -> float:
    """P(X >= k) for X ~ Binomial(m, 1/2) (``mid_p``: P(X > k) + P(X = k) / 2): McNemar's one-sided p-value."""
    if m == 0:
        return 1.0 if not mid_p else 0.5
    if k > m:
        return 0.0
    # log C(m, i) for i = k..m, by the recurrence C(m, i + 1) = C(m, i) (m - i) / (i + 1)
    i = np.arange(k, m, dtype=np.float64)
    start = math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)
    logs = start + np.concatenate([[0.0], np.cumsum(np.log(m - i) - np.log(i + 1))])
    probs = np.exp(logs - m * math.log(2))
    p = float(probs.sum())
    if mid_p:
        p -= 0.5 * float(probs[0])
    return min(1.0, max(0.0, p))


def holm(pvalues: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``."""
    order = sorted(range(len(pvalues)), key=lambda i: (not math.isfinite(pvalues[i]), pvalues[i]))
    m = len(pvalues)
    rejected = [False] * m
    for rank, i in enumerate(order):
        p = pvalues[i]
        if not (math.isfinite(p) and p <= alpha / (m - rank)):
            break
        rejected[i] = True
    return rejected


def _poisson_table() -> np.ndarray:
    """Poisson(1) inverse CDF on a 16-bit grid: ``table[u]`` for uniform 16-bit ``u`` is a Poisson(1) weight."""
    cdf = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])
    return np.searchsorted(cdf, (np.arange(65536) + 0.5) / 65536).astype(np.float32)


_POISSON = _poisson_table()


def poisson_weight_batches(n: int, resamples: int, seed: int, *, batch_elements: int = BATCH_ELEMENTS
                           ) -> Iterator[np.ndarray]:
    """Batches of Poisson(1) bootstrap weights ``(batch, n)`` (float32), ``resamples`` rows in all."""
    rng = np.random.default_rng(seed)
    per = max(1, min(resamples, batch_elements // max(n, 1)))
    done = 0
    while done < resamples:
        b = min(per, resamples - done)
        yield _POISSON[rng.integers(0, 65536, size=(b, n), dtype=np.uint16)]
        done += b


def bootstrap_sums(columns: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Weighted column sums ``(resamples, p)`` of ``columns`` (n, p) under Poisson bootstrap weights."""
    cols = np.asarray(columns, dtype=np.float64)
    # center the columns so float32 weights lose no precision on large sums; add the means back
    means = cols.mean(axis=0)
    centred = (cols - means).astype(np.float32)
    out = []
    for w in poisson_weight_batches(cols.shape[0], resamples, seed):
        tot = w.sum(axis=1, dtype=np.float64)
        out.append((w @ centred).astype(np.float64) + tot[:, None] * means[None, :])
        out[-1] = np.column_stack([out[-1], tot])
    return np.vstack(out)


def _subsample(n: int, seed: int, max_rows: int) -> tuple[np.ndarray | None, float]:
    """Rows of the m-out-of-n bootstrap (``None``: all rows) and the factor sqrt(m / n) of its deviations."""
    if n <= max_rows:
        return None, 1.0
    rows = np.sort(np.random.default_rng(seed + 1).choice(n, max_rows, replace=False))
    return rows, math.sqrt(max_rows / n)


def _rescale(deltas: np.ndarray, centre: float, factor: float) -> np.ndarray:
    """Bootstrap replicates of a subsample recentred on the full-sample delta, deviations scaled by ``factor``."""
    if factor == 1.0:
        return deltas
    finite = deltas[np.isfinite(deltas)]
    mid = float(np.mean(finite)) if finite.size else 0.0
    return np.asarray(centre + (deltas - mid) * factor)


def _loss_columns(metric: str, *, kind: str, y: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    if kind == "regression":
        e = np.asarray(scores, dtype=np.float64) - np.asarray(y, dtype=np.float64)
        if metric in ("mse", "rmse", "r2"):
            return e * e
        if metric == "mae":
            return np.abs(e)
        if metric == "mape":
            return np.abs(e) / np.maximum(np.abs(np.asarray(y, dtype=np.float64)), _EPS)
        return None
    return per_row_loss(metric, kind=kind, y=y, scores=scores)


def _from_sums(metric: str, loss_sum: np.ndarray, total: np.ndarray, sst: np.ndarray | None) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = loss_sum / total
        if metric == "rmse":
            return np.asarray(np.sqrt(np.maximum(mean, 0.0)))
        if metric == "r2" and sst is not None:
            return np.asarray(1.0 - loss_sum / sst)
        return np.asarray(mean)


def _result(metric: str, champion: float, candidate: float, deltas: np.ndarray | None, *, method: str,
            confidence: float, higher: bool, extra: dict[str, Any] | None = None,
            normal: tuple[float, float] | None = None) -> dict[str, Any]:
    """The common shape of a paired test: delta in the improvement direction, its one-sided bounds, p-value."""
    sign = 1.0 if higher else -1.0
    delta = sign * (candidate - champion)
    if normal is not None:
        se = normal[1]
        z = z_of(confidence)
        lo, hi = delta - z * se, delta + z * se
        p = (norm_sf(delta / se) if se > 0 else (0.0 if delta > 0 else 1.0)) if math.isfinite(se) else math.nan
        res = {"stdError": se}
    elif deltas is not None:
        d = sign * deltas[np.isfinite(deltas)]
        if d.size < 10:
            lo = hi = p = math.nan
        else:
            lo, hi = float(np.quantile(d, 1 - confidence)), float(np.quantile(d, confidence))
            p = float((np.sum(d <= 0) + 1) / (d.size + 1)) if delta > 0 else 1.0
        res = {"resamples": int(deltas.size), "valid": int(d.size)}
    else:
        lo = hi = p = math.nan
        res = {}
    return {"metric": metric, "method": method, "champion": champion, "candidate": candidate, "delta": delta,
            "lower": lo, "upper": hi, "confidence": confidence, "pvalue": p, **res, **(extra or {})}


def paired_test(metric: str, *, kind: str, y: np.ndarray, champion: tuple[np.ndarray, np.ndarray | None],
                candidate: tuple[np.ndarray, np.ndarray | None], confidence: float, mid_p: bool = True,
                resamples: int = 400, seed: int = SEED, max_rows: int = BOOTSTRAP_MAX_ROWS,
                extra_joint: np.ndarray | None = None) -> dict[str, Any]:
    """Champion vs candidate on the same rows for one metric; ``champion``/``candidate`` = ``(y_pred, scores)``.

    ``extra_joint``: for the confusion-matrix metrics only, a ``(k, k, k)`` count table ``[label, champion
    prediction, candidate prediction]`` of further paired rows, independent of the candidate's fit (a cross-fitted
    fold, :func:`joint_table`); it is added to these rows' table, so the test (McNemar's counts included) is on
    the pooled rows. Ignored by every other metric.

    Returns ``{"metric", "method", "champion", "candidate", "delta", "lower", "upper", "confidence", "pvalue", ...}``
    where ``delta`` is the improvement in the metric's direction (positive = candidate better), ``lower``/``upper``
    its one-sided bounds at ``confidence`` (each), ``pvalue`` the one-sided p-value of "candidate better".
    """
    higher = metric not in LOWER_IS_BETTER
    (pc, sc), (pn, sn) = champion, candidate
    y = np.asarray(y)
    n = y.size
    if kind != "regression" and metric in CONFUSION_METRICS:
        k = 2 if kind == "binary" else int(max(np.max(y, initial=0), np.max(pc, initial=0),
                                               np.max(pn, initial=0))) + 1
        if sc is not None and np.ndim(sc) == 2:
            k = max(k, sc.shape[1])
        binary = kind == "binary"
        pooled: dict[str, Any] = {}
        if extra_joint is not None:
            extra_joint = np.asarray(extra_joint, dtype=np.int64)
            k = max(k, extra_joint.shape[0])
        ok = (y >= 0) & (pc >= 0) & (pn >= 0)
        joint = joint_table(y[ok], pc[ok], pn[ok], k).reshape(-1)
        if extra_joint is not None:
            e = extra_joint.shape[0]
            pooled_table = joint.reshape(k, k, k)
            pooled_table[:e, :e, :e] += extra_joint
            joint = pooled_table.reshape(-1)
            pooled = {"pooledRows": int(extra_joint.sum()), "windowRows": int(ok.sum())}
        cm_c = joint.reshape(k, k, k).sum(axis=2)
        cm_n = joint.reshape(k, k, k).sum(axis=1)
        v_c = float(confusion_metric(metric, cm_c, binary=binary))
        v_n = float(confusion_metric(metric, cm_n, binary=binary))
        if metric == "accuracy":
            c_only, n_only, both_right, both_wrong = _mcnemar_from_joint(joint.reshape(k, k, k))
            m = c_only + n_only + both_right + both_wrong
            disc = c_only + n_only
            se = math.sqrt(max(disc - (n_only - c_only) ** 2 / m, 0.0)) / m if m else math.nan
            res = _result(metric, v_c, v_n, None, method="mcnemar_mid_p" if mid_p else "mcnemar_exact",
                          confidence=confidence, higher=True, normal=(v_n - v_c, se),
                          extra={"championOnly": c_only, "challengerOnly": n_only,
                                 "bothCorrect": both_right, "bothWrong": both_wrong, **pooled})
            res["pvalue"] = binom_sf_half(n_only, disc, mid_p=mid_p)
            return res
        rng = np.random.default_rng(seed)
        nz = np.flatnonzero(joint)
        total = int(joint.sum())
        deltas = np.empty(0)
        if total:
            draws = rng.multinomial(total, joint[nz] / total, size=resamples)
            full = np.zeros((resamples, k**3), dtype=np.int64)
            full[:, nz] = draws
            cube = full.reshape(resamples, k, k, k)
            # cube[b, label, champion, candidate]: candidate's matrix sums out the champion's axis
            deltas = (confusion_metric(metric, cube.sum(axis=2), binary=binary)
                      - confusion_metric(metric, cube.sum(axis=3), binary=binary))
        return _result(metric, v_c, v_n, deltas, method="joint_multinomial_bootstrap", confidence=confidence,
                       higher=higher, extra={"seed": seed, **pooled})
    if metric == "roc_auc" and sc is not None and sn is not None:
        if kind == "binary":
            aucs, cov = delong(y, [sc, sn])
            var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
            return _result(metric, float(aucs[0]), float(aucs[1]), None, method="delong", confidence=confidence,
                           higher=True, normal=(float(aucs[1] - aucs[0]), math.sqrt(max(var, 0.0))))
        vals_c, vals_n, sds = [], [], []
        for c, yc in enumerate(_ovr(y, sc.shape[1])):
            aucs, cov = delong(yc, [sc[:, c], sn[:, c]])
            if np.all(np.isfinite(aucs)):
                vals_c.append(float(aucs[0]))
                vals_n.append(float(aucs[1]))
                sds.append(math.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0)))
        if not vals_c:
            return _result(metric, math.nan, math.nan, None, method="delong_ovr", confidence=confidence, higher=True)
        return _result(metric, float(np.mean(vals_c)), float(np.mean(vals_n)), None, method="delong_ovr",
                       confidence=confidence, higher=True, normal=(0.0, float(np.mean(sds))))
    if metric == "average_precision" and kind == "binary" and sc is not None and sn is not None:
        from driftline_metrics import average_precision_score

        v_c, v_n = float(average_precision_score(y, sc)), float(average_precision_score(y, sn))
        rows, factor = _subsample(n, seed, max_rows)
        if rows is None:
            deltas = _ap_bootstrap_deltas(y, sc, sn, resamples, seed)
        else:
            deltas = _rescale(_ap_bootstrap_deltas(y[rows], sc[rows], sn[rows], resamples, seed), v_n - v_c, factor)
        return _result(metric, v_c, v_n, deltas, method="poisson_bootstrap", confidence=confidence, higher=True,
                       extra={"seed": seed, "bootstrapRows": int(n if rows is None else rows.size)})
    if metric in MEAN_LOSS_METRICS:
        src_c = pc if kind == "regression" else sc
        src_n = pn if kind == "regression" else sn
        if src_c is None or src_n is None:
            return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)
        lc = _loss_columns(metric, kind=kind, y=y, scores=src_c)
        ln = _loss_columns(metric, kind=kind, y=y, scores=src_n)
        if lc is None or ln is None or n < 2:
            return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)
        cols = [lc, ln]
        if metric == "r2":
            yv = np.asarray(y, dtype=np.float64)
            cols += [yv, yv * yv]
        table = np.column_stack(cols)
        rows, factor = _subsample(n, seed, max_rows)
        sums = bootstrap_sums(table if rows is None else table[rows], resamples, seed)
        tot = sums[:, -1]
        sst = None
        if metric == "r2":
            sst = sums[:, 3] - sums[:, 2] ** 2 / tot
        deltas = _from_sums(metric, sums[:, 1], tot, sst) - _from_sums(metric, sums[:, 0], tot, sst)
        sst0 = float(np.sum((np.asarray(y, dtype=np.float64) - np.mean(y)) ** 2)) if metric == "r2" else None
        v_c = float(_from_sums(metric, np.asarray(lc.sum()), np.asarray(float(n)),
                               None if sst0 is None else np.asarray(sst0)))
        v_n = float(_from_sums(metric, np.asarray(ln.sum()), np.asarray(float(n)),
                               None if sst0 is None else np.asarray(sst0)))
        deltas = _rescale(deltas, v_n - v_c, factor)
        return _result(metric, v_c, v_n, deltas, method="poisson_bootstrap", confidence=confidence, higher=higher,
                       extra={"seed": seed, "bootstrapRows": int(n if rows is None else rows.size)})
    return _result(metric, math.nan, math.nan, None, method="none", confidence=confidence, higher=higher)


def _ap_bootstrap_deltas(y: np.ndarray, sc: np.ndarray, sn: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Poisson-bootstrap replicates of AP(candidate) - AP(champion), the same weights for both (paired).

    Per model, every row's tie group (distinct score, highest first) is computed once; a replicate's weighted
    positives and totals per group come from one ``bincount`` over the batch, then AP = sum over groups of the
    recall step times the precision at that group (sklearn's definition).
    """
    yv = (np.asarray(y) == 1).astype(np.float64)
    groups = []
    for s in (sc, sn):
        uniq, inverse = np.unique(-np.asarray(s, dtype=np.float64), return_inverse=True)
        groups.append((inverse.astype(np.int64), uniq.size))
    out = []
    for w in poisson_weight_batches(yv.size, resamples, seed, batch_elements=BATCH_ELEMENTS // 8):
        b = w.shape[0]
        vals = []
        for g, size in groups:
            idx = (g[None, :] + size * np.arange(b)[:, None]).ravel()
            wf = w.astype(np.float64).ravel()
            tp = np.cumsum(np.bincount(idx, weights=wf * np.tile(yv, b), minlength=b * size).reshape(b, size),
                           axis=1)
            pp = np.cumsum(np.bincount(idx, weights=wf, minlength=b * size).reshape(b, size), axis=1)
            tot = tp[:, -1:]
            with np.errstate(divide="ignore", invalid="ignore"):
                prec = np.where(pp > 0, tp / np.where(pp > 0, pp, 1), 0.0)
                rec = tp / tot
            d_rec = np.diff(rec, axis=1, prepend=0.0)
            vals.append(np.sum(d_rec * prec, axis=1))
        out.append(vals[1] - vals[0])
    return np.concatenate(out)
