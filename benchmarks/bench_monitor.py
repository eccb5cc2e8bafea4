"""Benchmark: the monitor step's data-quality and bias computations on a window of 1,000,000 rows.

- data quality: ``statistics_of`` + ``check`` of 5 numeric and 1 categorical feature against a baseline built
  from 100,000 training rows, and, side by side, the reference for the numeric drift distance: SciPy's
  ``ks_2samp`` on the raw baseline and window (``numeric_distance`` reads the baseline's KLL sketch, 2,048
  quantiles, instead: checked to agree within 0.005);
- bias: Clarify's 16 metrics of one categorical facet (``bias_report.analysis``) for a binary model. There is no
  installed reference implementation (``smclarify`` needs pandas and is not a dependency): absolute times only;
- the flip test (FT) of a 1,000,000-row window (5 numeric features, 30 % in the facet): ``bias_flip.flip_test``
  samples 10,000 facet rows and 5,000 others (its 50,000,000-distance cap); side by side, the same k-nearest-
  neighbour vote by scikit-learn's ``KNeighborsClassifier`` (the neighbour model of Clarify's implementation) on
  the same sampled rows, values checked equal, CPU-time ratio.

Distributions: normal, log-normal (skewed, heavy tail) and integer-valued features; a window with a mean shift.

Run: ``PYTHONPATH=layers/metrics:layers/common .venv/bin/python benchmarks/bench_monitor.py``
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from driftline_common import data_quality as dq
from driftline_common.bias_report import analysis
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow
from driftline_metrics.bias_flip import MAX_PAIRS, flip_test_detail
from scipy import stats as sps
from sklearn.neighbors import KNeighborsClassifier

N_TRAIN = 100_000
N_WINDOW = 1_000_000
KINDS = [("normal", "numeric"), ("shifted", "numeric"), ("lognormal", "numeric"), ("integer", "numeric"),
         ("wide", "numeric"), ("state", "categorical")]


def _columns(n: int, rng: np.random.Generator, shift: float) -> dict[str, np.ndarray]:
    return {
        "normal": rng.normal(0, 1, n), "shifted": rng.normal(shift, 1, n), "lognormal": rng.lognormal(0, 1, n),
        "integer": rng.integers(0, 50, n).astype(np.float64), "wide": rng.normal(0, 1e6, n),
        "state": rng.choice(np.array([f"s{i:02d}" for i in range(50)]), n),
    }


def best(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    train = _columns(N_TRAIN, rng, 0.0)
    window = _columns(N_WINDOW, rng, 0.3)
    base_stats = dq.statistics_of(KINDS, train)
    constraints = dq.parse_constraints(dq.suggest_constraints(base_stats), "bench", [k for k, _ in KINDS])
    baseline = dq.parse_statistics(base_stats, "bench")

    t_dq = best(lambda: (dq.statistics_of(KINDS, window), dq.check(constraints, baseline, KINDS, window)))
    print(f"data quality, {len(KINDS)} features x {N_WINDOW:,} rows: statistics + checks {t_dq:.2f} s")
    print("numeric distance per feature (ours: baseline KLL sketch; reference: scipy ks_2samp on raw samples)")
    worst = 0.0
    for name, kind in KINDS:
        if kind != "numeric":
            continue
        num = baseline[name]["numerical_statistics"]
        ours = best(lambda n=name, s=num: dq.numeric_distance(s, window[n]))
        ref = best(lambda n=name: sps.ks_2samp(train[n], window[n]))
        d_ours = dq.numeric_distance(num, window[name])
        d_ref = float(sps.ks_2samp(train[name], window[name]).statistic)
        assert abs(d_ours - d_ref) < 0.005, (name, d_ours, d_ref)
        worst = max(worst, ours / ref)
        print(f"  {name:10s} ours {ours * 1e3:8.1f} ms  scipy {ref * 1e3:8.1f} ms  ratio {ours / ref:5.2f}"
              f"  distance {d_ours:.4f} vs {d_ref:.4f}")
    print(f"  worst ratio ours/scipy: {worst:.2f}")

    cfg = parse_config({
        "modelId": "bench", "problemType": "binary", "endpointName": "bench",
        "dataCapture": {"s3Uri": "s3://bench-bucket/c"}, "groundTruth": {"s3Uri": "s3://bench-bucket/g"},
        "baselineUri": "s3://bench-bucket/b/baseline.json", "features": [{"name": "state", "type": "categorical"}],
        "labels": ["0", "1"], "training": {"imageUri": "x", "sourceUri": "s3://bench-bucket/s.tar.gz",
                                           "outputUri": "s3://bench-bucket/o", "trainingDataUri": "s3://bench-bucket/t"},
        "bias": {"facets": [{"name": "state", "values": ["s00", "s01"]}], "labelValuesOrThreshold": ["1"]},
    }, scope=None)
    y = np.where(rng.uniform(size=N_WINDOW) < 0.3, "1", "0")
    lw = LabelledWindow(ids=np.zeros(N_WINDOW, dtype="S1"), y_true=y, scores=rng.uniform(size=N_WINDOW),
                        predicted=np.zeros(N_WINDOW, dtype="U1"), features={"state": window["state"]},
                        bad_capture=Counter(), bad_ground_truth=Counter(), unmatched=0, unlabelled=0)
    assert cfg.bias is not None
    section = cfg.bias
    t_bias = best(lambda: analysis(cfg, section, lw))
    print(f"bias, 1 facet x {N_WINDOW:,} rows, 16 Clarify metrics: {t_bias:.2f} s")
    bench_flip(rng)


def cpu(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def bench_flip(rng: np.random.Generator) -> None:
    x = rng.normal(size=(N_WINDOW, 5)) * np.array([1.0, 10.0, 0.1, 1.0, 3.0])
    d = rng.uniform(size=N_WINDOW) < 0.3
    p = (x[:, 0] + 0.1 * x[:, 1] + np.where(d, -0.3, 0.0) + rng.normal(0, 1, N_WINDOW)) > 0
    full = flip_test_detail(x, d, p)
    # the rows the capped test used (same seed), for the reference on the same work
    pick = np.random.default_rng(0)
    qi = np.sort(pick.choice(int(d.sum()), size=full["queries"], replace=False))
    ri = np.sort(pick.choice(int((~d).sum()), size=full["references"], replace=False))
    xq, pq, xr, pr = x[d][qi], p[d][qi], x[~d][ri], p[~d][ri]
    sub_x, sub_d, sub_p = np.vstack([xr, xq]), np.r_[np.zeros(ri.size, bool), np.ones(qi.size, bool)], np.r_[pr, pq]
    ours = cpu(lambda: flip_test_detail(sub_x, sub_d, sub_p, max_pairs=1 << 62))
    ref = cpu(lambda: KNeighborsClassifier(n_neighbors=5).fit(xr, pr).predict(xq))
    counter = KNeighborsClassifier(n_neighbors=5).fit(xr, pr).predict(xq)
    expected = (np.count_nonzero(~pq & counter) - np.count_nonzero(pq & ~counter)) / qi.size
    assert abs(full["value"] - expected) < 1e-12, (full["value"], expected)
    whole = cpu(lambda: flip_test_detail(x, d, p), repeat=1)
    print(f"flip test, {N_WINDOW:,} rows (cap {MAX_PAIRS:,} distances: {full['queries']:,} x "
          f"{full['references']:,}): FT {full['value']:.4f}; whole call {whole:.2f} CPU-s; neighbour vote ours "
          f"{ours:.2f} CPU-s, scikit-learn {ref:.2f} CPU-s, ratio {ours / ref:.2f}")


if __name__ == "__main__":
    main()
