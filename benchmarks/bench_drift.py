"""Benchmark: per-feature drift (KS + Wasserstein + PSI + Jensen–Shannon), ours vs SciPy.

20 features x 100,000 rows of reference and of current data. Ours is
``driftline_metrics.drift.feature_drift`` (one sort per sample, shared by the four measures);
the reference calls SciPy's functions separately on the same data: ``scipy.stats.ks_2samp``
(asymptotic p-value, as 'auto' picks for n > 10,000), ``scipy.stats.wasserstein_distance``, PSI as
the numpy composition ``np.quantile`` edges + ``np.histogram`` (SciPy has no PSI) and
``scipy.spatial.distance.jensenshannon`` on the same histograms. Both results are checked to agree.

Run: ``OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/bench_drift.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from driftline_metrics.drift import feature_drift
except ModuleNotFoundError:  # run as a script from the repository root: use the layer's source
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "metrics"))
    from driftline_metrics.drift import feature_drift

N_ROWS = 100_000
N_FEATURES = 20
BINS = 10
EPS = 1e-4


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(N_ROWS, N_FEATURES))
    shift = np.linspace(0.0, 0.2, N_FEATURES)
    cur = rng.normal(loc=shift, scale=1.05, size=(N_ROWS, N_FEATURES))
    return ref, cur


def _scipy_feature_drift(ref: np.ndarray, cur: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import ks_2samp, wasserstein_distance

    k = ref.shape[1]
    out = {name: np.empty(k) for name in ("ks_statistic", "ks_pvalue", "wasserstein", "psi", "jensenshannon")}
    for j in range(k):
        r, c = ref[:, j], cur[:, j]
        ks = ks_2samp(r, c)
        out["ks_statistic"][j], out["ks_pvalue"][j] = ks.statistic, ks.pvalue
        out["wasserstein"][j] = wasserstein_distance(r, c)
        inner = np.unique(np.quantile(r, np.linspace(0, 1, BINS + 1)))[1:-1]
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        hr = np.histogram(r, edges)[0]
        hc = np.histogram(c, edges)[0]
        p = hr / hr.sum()
        q = hc / hc.sum()
        ps, qs = np.where(p == 0, EPS, p), np.where(q == 0, EPS, q)
        out["psi"][j] = np.sum((qs - ps) * np.log(qs / ps))
        out["jensenshannon"][j] = jensenshannon(hr, hc)
    return out


def _best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(repeats: int = 5) -> list[dict]:
    """Time ours and the SciPy composition; returns one row per case (seconds, ratio, max abs diff)."""
    ref, cur = _data()
    t_ours, ours = _best_of(lambda: feature_drift(ref, cur, bins=BINS, eps=EPS), repeats)
    t_ref, theirs = _best_of(lambda: _scipy_feature_drift(ref, cur), repeats)
    diffs = {k: float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours}
    return [
        {
            "case": f"KS+W+PSI+JS {N_FEATURES} features x {N_ROWS:,} rows",
            "ours_s": t_ours,
            "reference_s": t_ref,
            "speedup": t_ref / t_ours,
            "target": 5.0,
            "max_abs_diff": max(diffs.values()),
            "max_abs_diff_by_measure": diffs,
        }
    ]


def main() -> None:
    rows = run()
    header = f"{'case':<40} {'ours (s)':>9} {'scipy (s)':>10} {'speed-up':>9} {'target':>7} {'max |diff|':>11}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:<40} {r['ours_s']:>9.3f} {r['reference_s']:>10.3f} {r['speedup']:>8.1f}x "
            f"{r['target']:>6.0f}x {r['max_abs_diff']:>11.2e}"
        )


if __name__ == "__main__":
    main()
