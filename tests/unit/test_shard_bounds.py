"""Window bounds of a sharded run (average precision, mean-loss and regression metrics) against the one-shot
bounds of the same rows."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from driftline_common.config import parse_config
from metric_evaluator import stats
from metric_evaluator.evaluate import evaluate_window
from metric_evaluator.shard_bounds import bounds_from_moments, shard_moments
from metric_evaluator.shards import merge_shards

from tests.unit.test_sharding import BINARY, regression_config, split, window

CUTS = [0, 130, 131, 700, 1500]  # one empty shard, one of a single row


def _shards(kind: str, y: np.ndarray, s: np.ndarray) -> list[dict[str, Any]]:
    edges = [*CUTS, y.size]
    return [{"moments": json.loads(json.dumps(shard_moments(kind, y[a:b], s[a:b])))}
            for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("offset", [0.0, 1e4])  # a large mean must not cancel the r2 moments
def test_regression_bounds_merge_to_the_one_shot_bounds(offset: float) -> None:
    rng = np.random.default_rng(3)
    y = offset + rng.gamma(2.0, 2.0, 2000)
    pred = y + rng.standard_t(5, 2000) * 0.8 + 0.1
    shards = _shards("regression", y, pred)
    values = {"mse": 1.0, "rmse": 1.0, "mae": 1.0, "mape": 1.0, "r2": 0.5}
    merged = bounds_from_moments(list(values), values, shards, 0.9)
    for metric in values:
        one = stats.window_bounds(metric, kind="regression", y=y, y_pred=pred, scores=None, confidence=0.9)
        assert one is not None
        assert merged[metric]["method"] == one["method"], metric
        assert merged[metric]["lower"] == pytest.approx(one["lower"], rel=1e-9), metric
        assert merged[metric]["upper"] == pytest.approx(one["upper"], rel=1e-9), metric


def test_binary_loss_and_average_precision_bounds_merge() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 2000)
    s = 1 / (1 + np.exp(-(1.5 * y - 0.75 + rng.normal(0, 1.2, 2000))))
    shards = _shards("binary", y, s)
    from driftline_metrics import average_precision_score

    ap = float(average_precision_score(y, s))
    values = {"log_loss": 0.5, "brier": 0.2, "average_precision": ap}
    merged = bounds_from_moments(list(values), values, shards, 0.9, n_pos=int(y.sum()))
    for metric in values:
        one = stats.window_bounds(metric, kind="binary", y=y, y_pred=(s > 0.5).astype(int), scores=s,
                                  confidence=0.9)
        assert one is not None
        assert merged[metric]["lower"] == pytest.approx(one["lower"], rel=1e-9), metric
        assert merged[metric]["upper"] == pytest.approx(one["upper"], rel=1e-9), metric


def test_a_shard_without_moments_leaves_the_metric_on_its_point_estimate() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(0, 1, 500)
    shards = _shards("regression", y, y + rng.normal(0, 1, 500))
    assert "rmse" in bounds_from_moments(["rmse"], {"rmse": 1.0}, shards, 0.9)
    shards[2] = {}  # a shard written before moments existed
    assert bounds_from_moments(["rmse"], {"rmse": 1.0}, shards, 0.9) == {}
    shards[2] = {"moments": {}}  # a shard with non-finite rows
    assert bounds_from_moments(["rmse", "r2"], {"rmse": 1.0, "r2": 0.1}, shards, 0.9) == {}


def test_merge_shards_reports_and_judges_the_merged_bounds() -> None:
    cfg = regression_config()  # rmse max 1.2, r2 min 0.5
    rng = np.random.default_rng(11)
    y = rng.normal(3.0, 2.0, 1000)
    pred = y + rng.normal(0.2, 1.25, 1000)  # rmse ~1.27: above 1.2 by its point estimate only
    full = window(y, pred, np.full(1000, ""))
    one = evaluate_window(cfg, full)
    merged = merge_shards(cfg, split(cfg, full, [100, 450, 451, 900], labels=1000))
    for metric in ("rmse", "r2"):
        assert merged["intervals"][metric]["lower"] == pytest.approx(one["intervals"][metric]["lower"], rel=1e-9)
        assert merged["intervals"][metric]["upper"] == pytest.approx(one["intervals"][metric]["upper"], rel=1e-9)
    assert [b["metric"] for b in merged["breaches"]] == [b["metric"] for b in one["breaches"]]

    bcfg = parse_config({**BINARY, "thresholds": [{"metric": "average_precision", "min": 0.5},
                                                   {"metric": "brier", "max": 0.3}]})
    yb = rng.integers(0, 2, 1500)
    s = 1 / (1 + np.exp(-(1.5 * yb - 0.75 + rng.normal(0, 1.2, 1500))))
    fullb = window(yb.astype(str), s, (s > 0.5).astype(int).astype(str))
    oneb = evaluate_window(bcfg, fullb)
    mergedb = merge_shards(bcfg, split(bcfg, fullb, [300, 1000], labels=1500))
    assert set(mergedb["intervals"]) == set(oneb["intervals"]) == {"average_precision", "brier"}
    assert mergedb["intervals"]["brier"]["upper"] == pytest.approx(oneb["intervals"]["brier"]["upper"], rel=1e-9)
    # average precision: the merged value comes from the score histogram, the bound follows it
    assert mergedb["intervals"]["average_precision"]["upper"] == pytest.approx(
        oneb["intervals"]["average_precision"]["upper"], abs=2e-3)
