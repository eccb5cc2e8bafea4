"""Pooled breaches: the last ``consecutiveBreaches`` windows, each below a threshold by its point estimate, are
judged together (inverse-variance pooled bound at ``thresholdConfidence``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from driftline_common.config import RetrainPolicy, parse_config
from driftline_common.errors import InvalidModelConfig
from metric_evaluator import stats
from retrain_launcher import policy as p

from tests.conftest import ROOT

END = datetime(2024, 5, 10, tzinfo=UTC)
NOW = END + timedelta(minutes=5)
ACC = [{"metric": "roc_auc", "min": 0.85}, {"metric": "accuracy", "min": 0.825}]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def accuracy_window(correct: int, n: int, confidence: float = 0.9) -> tuple[dict[str, float], dict[str, Any]]:
    lo, hi = stats.wilson_bounds(correct, n, confidence)
    metrics = {"accuracy": correct / n, "roc_auc": 0.91}
    intervals = {"accuracy": {"method": "wilson", "confidence": confidence, "lower": lo, "upper": hi},
                 "roc_auc": {"method": "delong", "confidence": confidence, "lower": 0.90, "upper": 0.92}}
    return metrics, intervals


def run(days_ago: int, correct: int, n: int, *, breached: bool = False, with_intervals: bool = True
        ) -> dict[str, Any]:
    end = END - timedelta(days=days_ago)
    metrics, intervals = accuracy_window(correct, n)
    out = {"runId": f"r{days_ago}", "status": "SUCCEEDED", "startedAt": iso(end + timedelta(minutes=5)),
           "window": {"start": iso(end - timedelta(days=1)), "end": iso(end)},
           "breached": breached, "driftDetected": False, "sampleSize": n, "metrics": metrics,
           "breaches": [{"metric": "accuracy", "value": correct / n, "min": 0.825,
                         "interval": intervals["accuracy"]}] if breached else []}
    if with_intervals:
        out["intervals"] = intervals
    return out


def policy(**kw: Any) -> RetrainPolicy:
    # the pooled rule alone (opt-in since the sequential rule became the default)
    base = {"consecutiveBreaches": 2, "minSamples": 100, "minNewLabels": 0, "cooldownHours": 24,
            "maxRetrainsPerPeriod": 2, "periodDays": 7, "pooledBreaches": True, "sequentialBreaches": None}
    return RetrainPolicy.model_validate({**base, **kw})


def decide(pol: RetrainPolicy, correct: int, n: int, history: list[dict[str, Any]]) -> p.PolicyDecision:
    metrics, intervals = accuracy_window(correct, n)
    lo, hi = intervals["accuracy"]["lower"], intervals["accuracy"]["upper"]
    breaches = [{"metric": "accuracy", "value": correct / n, "min": 0.825, "interval": intervals["accuracy"]}] \
        if hi < 0.825 else []
    evaluation = {"breached": bool(breaches), "breaches": breaches, "sampleSize": n, "metrics": metrics,
                  "intervals": intervals, "thresholds": ACC}
    assert lo < hi
    return p.decide(pol, evaluation=evaluation, drift={"detected": False}, history=history, state={},
                    window_start=END - timedelta(days=1), window_end=END, now=NOW, run_id="current")


def test_two_windows_moderately_below_breach_jointly() -> None:
    # day 1: 0.805 (its own bound breaches), day 2: 0.817 (its own 90 % upper bound ~0.830 does not)
    history = [run(1, 1208, 1500, breached=True)]
    d = decide(policy(), 1226, 1500, history)
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH]
    assert d.breach_streak == 2
    [pooled] = d.details["pooledBreaches"]
    assert pooled["metric"] == "accuracy"
    assert pooled["windows"] == 2
    assert pooled["interval"]["upper"] < 0.825 < pooled["interval"]["upper"] + 0.01
    assert d.details["breachedMetrics"] == ["accuracy"]
    # the per-window rule alone (pooledBreaches off) sees a healthy window
    off = decide(policy(pooledBreaches=False), 1226, 1500, history)
    assert not off.retrain
    assert off.reasons == [p.HEALTHY]
    # neither window breaching on its own bound: still jointly below
    both = decide(policy(), 1226, 1500, [run(1, 1220, 1500)])
    assert both.retrain
    assert both.details["pooledBreaches"][0]["windows"] == 2


def test_runs_recorded_without_intervals_pool_with_their_breach_interval() -> None:
    d = decide(policy(), 1226, 1500, [run(1, 1208, 1500, breached=True, with_intervals=False)])
    assert d.retrain
    # a window that neither breached nor recorded its bounds cannot be pooled
    d = decide(policy(), 1226, 1500, [run(1, 1224, 1500, with_intervals=False)])
    assert not d.retrain


def test_one_bad_window_does_not_carry_a_window_above_the_threshold() -> None:
    # day 1 disastrous (0.70), day 2 at 0.83 (above the threshold by its point estimate): no pooled breach
    d = decide(policy(), 1245, 1500, [run(1, 1050, 1500, breached=True)])
    assert not d.retrain
    assert "pooledBreaches" not in d.details


def test_pooling_uses_exactly_consecutive_breaches_windows() -> None:
    # three windows each slightly below: two (k=2) are not enough evidence, three (k=3) are
    history = [run(1, 1225, 1500), run(2, 1225, 1500)]
    assert not decide(policy(consecutiveBreaches=2), 1225, 1500, history).retrain
    d3 = decide(policy(consecutiveBreaches=3), 1225, 1500, history)
    assert d3.retrain
    assert d3.details["pooledBreaches"][0]["windows"] == 3
    # consecutiveBreaches 1: the window's own bound only
    assert not decide(policy(consecutiveBreaches=1), 1226, 1500, [run(1, 1208, 1500, breached=True)]).retrain
    # fewer earlier windows than needed: nothing pooled
    assert not decide(policy(consecutiveBreaches=3), 1226, 1500, [run(1, 1208, 1500, breached=True)]).retrain


def test_max_thresholds_pool_the_lower_bounds() -> None:
    thresholds = [{"metric": "rmse", "max": 1.5}]
    w = {"rmse": {"value": 1.56, "lower": 1.50 - 0.01, "upper": 1.63, "confidence": 0.9}}
    assert p.pooled_breaches(thresholds, [w], 0.9) == []
    [b] = p.pooled_breaches(thresholds, [w, w, w], 0.9)
    assert b["max"] == 1.5
    assert b["interval"]["lower"] > 1.5
    # se_i = (value - lower) / z: three equal windows shrink it by sqrt(3)
    z = stats.z_of(0.9)
    assert b["interval"]["lower"] == pytest.approx(1.56 - z * (0.07 / z) / np.sqrt(3))
    healthy = {"rmse": {"value": 1.4, "lower": 1.3, "upper": 1.5, "confidence": 0.9}}
    assert p.pooled_breaches(thresholds, [w, healthy], 0.9) == []


def _pooled_rate(true_acc: float, n: int, k: int, confidence: float, trials: int, rng: np.random.Generator
                 ) -> tuple[float, float]:
    """(pooled rule, per-window rule) rates of a sustained breach of ``min 0.825`` over ``k`` windows."""
    thresholds = [{"metric": "accuracy", "min": 0.825}]
    pooled = per_window = 0
    for _ in range(trials):
        windows = []
        own = True
        for c in rng.binomial(n, true_acc, size=k):
            lo, hi = stats.wilson_bounds(int(c), n, confidence)
            windows.append({"accuracy": {"value": c / n, "lower": lo, "upper": hi, "confidence": confidence}})
            own = own and hi < 0.825
        pooled += bool(p.pooled_breaches(thresholds, windows, confidence)) or own
        per_window += own
    return pooled / trials, per_window / trials


def test_the_pooled_rule_keeps_its_level_and_is_more_powerful() -> None:
    rng = np.random.default_rng(7)
    trials = 4000
    # at the threshold the pooled test's level is 1 - confidence (Monte Carlo: 3 standard errors of slack)
    at, _ = _pooled_rate(0.825, 1500, 2, 0.9, trials, rng)
    assert at <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / trials)
    # a healthy model 0.03 above the threshold on small windows (150 rows): practically never
    healthy, _ = _pooled_rate(0.855, 150, 2, 0.9, trials, rng)
    assert healthy <= 0.02
    # 0.01 below the threshold at 1,500 rows: the pooled rule detects it far more often than two own bounds
    below, own = _pooled_rate(0.815, 1500, 2, 0.9, trials, rng)
    assert below > 0.5 > 2 * own


def test_pooled_breaches_config_field() -> None:
    base = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    assert parse_config(base).retrain_policy.pooled_breaches is False  # opt-in: the sequential rule is the default
    bad = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "pooledBreaches": "yes"}}
    with pytest.raises(InvalidModelConfig) as exc:
        parse_config(bad)
    assert any(pr.startswith("retrainPolicy.pooledBreaches") for pr in exc.value.details["problems"])
