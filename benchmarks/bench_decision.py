"""Side-by-side benchmark of the decision statistics (metric_evaluator.stats) at a million rows.

Run:  PYTHONPATH=layers/metrics:layers/common:functions/metric_evaluator .venv/bin/python benchmarks/bench_decision.py

For every thresholded-metric family, the paired champion-vs-candidate test and the window's confidence bound as
the evaluator runs them (400 resamples where a bootstrap is used), against the reference a user would otherwise
write: a row-resampling paired bootstrap with scikit-learn (timed on a few replicates, scaled to 400). Scores are
realistic and tie-heavy (probabilities rounded to 3 decimals, as many serving stacks emit them). Prints seconds and
the speed-up ratio (reference / ours).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for part in ("layers/metrics", "layers/common", "functions/metric_evaluator"):
    sys.path.insert(0, str(ROOT / part))

from metric_evaluator import stats  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

N = 1_000_000
RESAMPLES = 400
REF_REPLICATES = 2


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _reference(y: np.ndarray, a: np.ndarray, b: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], float]) -> float:
    """Seconds of a RESAMPLES-replicate row bootstrap of fn(b) - fn(a), extrapolated from REF_REPLICATES."""
    rng = np.random.default_rng(0)

    def one() -> None:
        idx = rng.integers(0, y.size, y.size)
        fn(y[idx], b[idx]) - fn(y[idx], a[idx])
    return _time(lambda: [one() for _ in range(REF_REPLICATES)]) / REF_REPLICATES * RESAMPLES


def main() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, N)
    a = np.round(1 / (1 + np.exp(-(1.0 * (2 * y - 1) + rng.normal(size=N)))), 3)
    b = np.round(1 / (1 + np.exp(-(1.2 * (2 * y - 1) + rng.normal(size=N)))), 3)
    pa, pb = (a > 0.5).astype(np.int64), (b > 0.5).astype(np.int64)
    yr = rng.normal(size=N)
    ra, rb = yr + rng.normal(0, 1.0, N), yr + rng.normal(0, 0.95, N)
    k = 5
    yk = rng.integers(0, k, N)
    la, lb = rng.normal(size=(N, k)) + np.eye(k)[yk], rng.normal(size=(N, k)) + 1.2 * np.eye(k)[yk]
    sa, sb = np.exp(la) / np.exp(la).sum(1, keepdims=True), np.exp(lb) / np.exp(lb).sum(1, keepdims=True)

    cases: list[tuple[str, str, Callable[[], Any], Callable[[], Any], float]] = [
        ("binary", "accuracy", lambda: stats.paired_test("accuracy", kind="binary", y=y, champion=(pa, a),
                                                         candidate=(pb, b), confidence=0.95),
         lambda: stats.window_bounds("accuracy", kind="binary", y=y, y_pred=pa, scores=a, confidence=0.9),
         _reference(y, pa, pb, skm.accuracy_score)),
        ("binary", "f1", lambda: stats.paired_test("f1", kind="binary", y=y, champion=(pa, a), candidate=(pb, b),
                                                   confidence=0.95, resamples=RESAMPLES),
         lambda: stats.window_bounds("f1", kind="binary", y=y, y_pred=pa, scores=a, confidence=0.9),
         _reference(y, pa, pb, skm.f1_score)),
        ("binary", "roc_auc", lambda: stats.paired_test("roc_auc", kind="binary", y=y, champion=(pa, a),
                                                        candidate=(pb, b), confidence=0.95),
         lambda: stats.window_bounds("roc_auc", kind="binary", y=y, y_pred=pa, scores=a, confidence=0.9),
         _reference(y, a, b, skm.roc_auc_score)),
        ("binary", "average_precision",
         lambda: stats.paired_test("average_precision", kind="binary", y=y, champion=(pa, a), candidate=(pb, b),
                                   confidence=0.95, resamples=RESAMPLES),
         lambda: stats.window_bounds("average_precision", kind="binary", y=y, y_pred=pa, scores=a,
                                     confidence=0.9),
         _reference(y, a, b, skm.average_precision_score)),
        ("regression", "rmse", lambda: stats.paired_test("rmse", kind="regression", y=yr, champion=(ra, None),
                                                         candidate=(rb, None), confidence=0.95,
                                                         resamples=RESAMPLES),
         lambda: stats.window_bounds("rmse", kind="regression", y=yr, y_pred=ra, scores=None, confidence=0.9),
         _reference(yr, ra, rb, skm.root_mean_squared_error)),
        ("regression", "r2", lambda: stats.paired_test("r2", kind="regression", y=yr, champion=(ra, None),
                                                       candidate=(rb, None), confidence=0.95, resamples=RESAMPLES),
         lambda: stats.window_bounds("r2", kind="regression", y=yr, y_pred=ra, scores=None, confidence=0.9),
         _reference(yr, ra, rb, skm.r2_score)),
        ("multiclass k=5", "f1 (macro)",
         lambda: stats.paired_test("f1", kind="multiclass", y=yk, champion=(sa.argmax(1), sa),
                                   candidate=(sb.argmax(1), sb), confidence=0.95, resamples=RESAMPLES),
         lambda: stats.window_bounds("f1", kind="multiclass", y=yk, y_pred=sa.argmax(1), scores=sa,
                                     confidence=0.9),
         _reference(yk, sa.argmax(1), sb.argmax(1), lambda t, p: skm.f1_score(t, p, average="macro"))),
        ("multiclass k=5", "roc_auc (ovr)",
         lambda: stats.paired_test("roc_auc", kind="multiclass", y=yk, champion=(sa.argmax(1), sa),
                                   candidate=(sb.argmax(1), sb), confidence=0.95),
         lambda: stats.window_bounds("roc_auc", kind="multiclass", y=yk, y_pred=sa.argmax(1), scores=sa,
                                     confidence=0.9),
         _reference(yk, sa, sb, lambda t, p: skm.roc_auc_score(t, p, multi_class="ovr"))),
    ]
    print(f"{N:,} rows; bootstrap resamples {RESAMPLES}; reference = sklearn row bootstrap "
          f"({REF_REPLICATES} replicates timed, scaled to {RESAMPLES})")
    print(f"{'problem':<16}{'metric':<20}{'paired test s':>14}{'bound s':>10}{'reference s':>13}{'ratio':>9}")
    worst = float("inf")
    for problem, metric, paired, bound, ref in cases:
        tp, tb = _time(paired), _time(bound)
        ratio = ref / tp
        worst = min(worst, ratio)
        print(f"{problem:<16}{metric:<20}{tp:>14.2f}{tb:>10.2f}{ref:>13.1f}{ratio:>8.0f}x")
    print(f"worst ratio: {worst:.0f}x")

    # the whole comparison as the compare action runs it: label encoding, champion, retrained challenger and the
    # recalibrated champion, the fixture config's thresholds (roc_auc, accuracy), accuracy breached
    import json

    from driftline_common.config import parse_config
    from metric_evaluator.compare import compare_models

    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    labels = y.astype(str)
    seconds = _time(lambda: compare_models(cfg, labels, a, b, breached=["accuracy"], recalibration_threshold=0.6))
    print(f"compare_models, binary, 2 candidates x (roc_auc, accuracy), {N:,} rows: {seconds:.2f} s")


if __name__ == "__main__":
    main()
