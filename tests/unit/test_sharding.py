"""Shard and reduce logic without AWS: merged shard states against the one-shot evaluation of the same rows."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.datasets import LabelledWindow, capture_keys_in_window
from driftline_common.store import parse_iso
from metric_evaluator.evaluate import evaluate_window
from metric_evaluator.shards import merge_shards, shard_states

from tests.conftest import ROOT

BINARY = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())


def regression_config() -> Any:
    cfg = json.loads(json.dumps(BINARY))
    cfg["problemType"] = "regression"
    for key in ("labels", "positiveLabel"):
        cfg.pop(key)
    cfg["thresholds"] = [{"metric": "rmse", "max": 1.2}, {"metric": "r2", "min": 0.5}]
    cfg["promotion"]["metric"] = "rmse"
    return parse_config(cfg)


def window(y: np.ndarray, scores: np.ndarray, predicted: np.ndarray, *, unmatched: int = 0,
           unlabelled: int = 0, bad: Counter[str] | None = None) -> LabelledWindow:
    n = y.size
    return LabelledWindow(ids=np.asarray([f"id-{i}" for i in range(n)]), y_true=y, scores=scores,
                          predicted=predicted, features={}, bad_capture=bad or Counter(),
                          bad_ground_truth=Counter(), unmatched=unmatched, unlabelled=unlabelled)


def split(cfg: Any, w: LabelledWindow, cuts: list[int], labels: int) -> list[dict[str, Any]]:
    """Shard documents of ``w`` cut at ``cuts`` (each shard sees all ``labels`` of the window).

    Every shard also has one unlabelled prediction and one bad capture record (not among ``w``'s rows).
    """
    docs = []
    bounds = [0, *cuts, w.size]
    for a, b in itertools.pairwise(bounds):
        part = window(w.y_true[a:b], w.scores[a:b], w.predicted[a:b], unmatched=labels - (b - a),
                      unlabelled=1, bad=Counter({"non_numeric": 1}))
        docs.append(json.loads(json.dumps(shard_states(cfg, part, labels_in_window=labels))))
    return docs



def test_regression_shards_merge_to_the_one_shot_metrics() -> None:
    cfg = regression_config()
    rng = np.random.default_rng(11)
    y = rng.normal(3.0, 2.0, 1000)
    pred = y + rng.normal(0.2, 0.9, 1000)
    full = window(y, pred, np.full(1000, ""), unmatched=7, unlabelled=5, bad=Counter({"non_numeric": 5}))
    one = evaluate_window(cfg, full)
    merged = merge_shards(cfg, split(cfg, full, [100, 450, 451, 900], labels=1007))
    assert merged["sampleSize"] == one["sampleSize"] == 1000
    assert merged["badRecords"] == one["badRecords"] == {"capture": 5, "groundTruth": 0, "unmatched": 7}
    assert merged["unlabelled"] == one["unlabelled"]
    for name in ("mse", "rmse", "mae", "r2", "mape"):
        assert merged["metrics"][name] == pytest.approx(one["metrics"][name], rel=1e-12), name
    assert merged["breaches"] == [{**b, "value": pytest.approx(b["value"], rel=1e-12)} for b in one["breaches"]]


@pytest.mark.parametrize("missing_score_in_one_shard", [False, True])
def test_binary_shards_merge_to_the_one_shot_metrics(missing_score_in_one_shard: bool) -> None:
    cfg = parse_config(BINARY)
    rng = np.random.default_rng(12)
    n = 2000
    y = rng.integers(0, 2, n)
    s = np.clip(1 / (1 + np.exp(-(1.5 * y - 0.75 + rng.normal(0, 1.2, n)))), 0, 1)
    predicted = np.where(rng.random(n) < 0.8, (s > 0.5).astype(int), 1 - (s > 0.5).astype(int)).astype(str)
    if missing_score_in_one_shard:
        s[1500] = np.nan  # then the one-shot path uses the predicted labels for every row
    full = window(y.astype(str), s, predicted, unmatched=4, unlabelled=4, bad=Counter({"non_numeric": 4}))
    one = evaluate_window(cfg, full)
    merged = merge_shards(cfg, split(cfg, full, [300, 1000, 1700], labels=n + 4))
    for name in ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc"):
        assert merged["metrics"][name] == pytest.approx(one["metrics"][name], rel=1e-12), name
    assert merged["details"]["confusionMatrix"] == one["details"]["confusionMatrix"]
    if missing_score_in_one_shard:
        assert "roc_auc" not in merged["metrics"]
        assert "roc_auc" not in one["metrics"]
        assert merged["undefined"]["scores"] == one["undefined"]["scores"]
        return
    bound = merged["sharding"]["rocAucErrorBound"]
    assert abs(merged["metrics"]["roc_auc"] - one["metrics"]["roc_auc"]) <= bound
    assert abs(merged["metrics"]["average_precision"] - one["metrics"]["average_precision"]) <= (
        merged["sharding"]["averagePrecisionErrorBound"])
    for name in ("log_loss", "brier"):
        assert merged["metrics"][name] == pytest.approx(one["metrics"][name], rel=1e-10), name


def test_scores_outside_unit_interval_leave_ranking_undefined_with_a_note() -> None:
    cfg = parse_config(BINARY)
    y = np.array(["0", "1"] * 50)
    s = np.linspace(-2, 3, 100)
    merged = merge_shards(cfg, split(cfg, window(y, s, np.full(100, "")), [50], labels=100))
    one = evaluate_window(cfg, window(y, s, np.full(100, "")))
    assert merged["metrics"]["accuracy"] == pytest.approx(one["metrics"]["accuracy"])
    assert np.isnan(merged["metrics"]["roc_auc"])
    assert np.isfinite(one["metrics"]["roc_auc"])
    assert "[0, 1]" in merged["undefined"]["roc_auc"]


def test_capture_keys_in_window_keeps_what_read_capture_would_read() -> None:
    cfg = parse_config(BINARY)
    base = "datacapture/driftline-example-classifier"
    keys = [f"{base}/AllTraffic/2025/01/01/{h:02d}/x.jsonl" for h in (0, 13, 23)] + [
        f"{base}/AllTraffic/2025/01/02/00/late.jsonl", f"{base}/AllTraffic/2024/12/31/23/early.jsonl",
        f"{base}/AllTraffic/notes.txt", "elsewhere/2025/01/01/03/x.jsonl", f"{base}/AllTraffic/2025/01/01/05/"]
    got = capture_keys_in_window(cfg, keys, parse_iso("2025-01-01T00:00:00Z"), parse_iso("2025-01-02T00:00:00Z"))
    assert got == sorted(keys[:3])
