"""Side-by-side benchmark: driftline_metrics vs the reference, in one process.

Run:  OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/bench_classification.py

Cases
-----
1. The binary set (confusion matrix, accuracy, precision, recall, F1, ROC AUC, average precision,
   log loss, Brier) on 1,000,000 rows, vs scikit-learn computing the same set (target: ours >= 10x faster).
2. ROC AUC on 10,000,000 rows vs one ``np.sort`` of the scores (target: ours <= 1.5x the sort).

Each timing is the best of several repeats; results are checked for agreement before timing.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# the layer as Lambda sees it (/opt/python); pytest gets the same path from pyproject.toml
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "metrics"))
dm = importlib.import_module("driftline_metrics")

BINARY_SET = (
    "confusion_matrix",
    "accuracy_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "roc_auc_score",
    "average_precision_score",
    "log_loss",
    "brier_score_loss",
)


def _best(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _binary_set(mod: Any, y: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> list[Any]:
    return [
        mod.confusion_matrix(y, y_pred),
        mod.accuracy_score(y, y_pred),
        mod.precision_score(y, y_pred),
        mod.recall_score(y, y_pred),
        mod.f1_score(y, y_pred),
        mod.roc_auc_score(y, score),
        mod.average_precision_score(y, score),
        mod.log_loss(y, score),
        mod.brier_score_loss(y, score),
    ]


def run(n_set: int = 1_000_000, n_auc: int = 10_000_000, repeats: int = 5, seed: int = 0) -> list[dict]:
    """Run both cases; return one dict per case with ours/reference seconds and their ratio."""
    import sklearn.metrics as skm  # reference only: never imported by the layer

    rng = np.random.default_rng(seed)
    rows = []

    y = (rng.random(n_set) < 0.3).astype(np.int64)
    score = np.clip(0.35 * y + 0.65 * rng.random(n_set), 0, 1)
    y_pred = (score >= 0.5).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_vals = _binary_set(dm, y, y_pred, score)
        ref_vals = _binary_set(skm, y, y_pred, score)
        for name, o, r in zip(BINARY_SET, ours_vals, ref_vals, strict=True):
            np.testing.assert_allclose(o, r, rtol=1e-9, err_msg=name)
        ours = _best(lambda: _binary_set(dm, y, y_pred, score), repeats)
        ref = _best(lambda: _binary_set(skm, y, y_pred, score), max(2, repeats // 2))
    rows.append(
        {
            "case": f"binary set ({len(BINARY_SET)} metrics), {n_set:,} rows, vs scikit-learn",
            "reference_name": "scikit-learn",
            "ours_s": ours,
            "reference_s": ref,
            "speedup": ref / ours,
            "target": 10,
        }
    )

    y10 = rng.random(n_auc) < 0.3
    s10 = rng.random(n_auc)
    np.testing.assert_allclose(dm.roc_auc_score(y10, s10), skm.roc_auc_score(y10[:200_000], s10[:200_000]), atol=0.01)
    ours = _best(lambda: dm.roc_auc_score(y10, s10), repeats)
    ref = _best(lambda: np.sort(s10), repeats)
    rows.append(
        {
            "case": f"roc_auc_score, {n_auc:,} rows, vs one np.sort of the scores (time ratio)",
            "reference_name": "one np.sort of the scores",
            "ours_s": ours,
            "reference_s": ref,
            "ratio": ours / ref,
            "target": "≤ 1.5× the sort",
            "met": ours / ref <= 1.5,
        }
    )
    return rows


def _table(rows: list[dict]) -> str:
    head = f"{'case':<84} {'ours s':>9} {'ref s':>9} {'ratio':>7}  target"
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r.get("speedup", r.get("ratio"))
        lines.append(f"{r['case']:<84} {r['ours_s']:>9.4f} {r['reference_s']:>9.4f} {ratio:>7.3f}  {r['target']}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(_table(run()))
