"""Sequential breaches (``retrainPolicy.sequentialBreaches``): a one-sided CUSUM of each thresholded metric's
per-window deficit in standard errors. Its false-alarm and detection rates are checked by Monte Carlo on the
evaluator's own window bounds for a binary (accuracy, Wilson), a regression (RMSE, normal) and a multiclass
(macro F1, multinomial bootstrap) metric."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from driftline_common.config import RetrainPolicy, parse_config
from driftline_common.errors import InvalidModelConfig
from metric_evaluator import stats
from retrain_launcher import policy as p
from retrain_launcher.policy_cusum import cusum_breaches, deficit

from tests.conftest import ROOT

END = datetime(2024, 5, 10, tzinfo=UTC)
ACC = [{"metric": "accuracy", "min": 0.83}]
K, H = 0.25, 1.5  # the documented defaults


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def acc_window(correct: int, n: int) -> dict[str, dict[str, float]]:
    lo, hi = stats.wilson_bounds(correct, n, 0.9)
    return {"accuracy": {"value": correct / n, "lower": lo, "upper": hi, "confidence": 0.9}}


def first_alarm(thresholds: list[dict[str, Any]], windows: list[dict[str, Any]], min_windows: int = 2) -> int | None:
    """The first window index at which the CUSUM declares a sequential breach (``None``: never)."""
    for t in range(len(windows)):
        if cusum_breaches(thresholds, windows[:t + 1], reference=K, limit=H, min_windows=min_windows)[0]:
            return t
    return None


def test_defaults_and_config_field() -> None:
    base = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    seq = parse_config(base).retrain_policy.sequential_breaches
    assert seq is not None
    assert (seq.reference, seq.limit) == (K, H)
    for bad, field in (({"limit": 0}, "limit"), ({"reference": -0.1}, "reference"), ({"limit": "x"}, "limit"),
                       ({"k": 1}, "k"), ({"limit": float("nan")}, "limit")):
        cfg = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "sequentialBreaches": bad}}
        with pytest.raises(InvalidModelConfig) as exc:
            parse_config(cfg)
        assert any(pr.startswith(f"retrainPolicy.sequentialBreaches.{field}") for pr in exc.value.details["problems"])
    off = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "sequentialBreaches": None}}
    assert parse_config(off).retrain_policy.sequential_breaches is None


def test_deficit_reads_the_standard_error_off_the_bound_on_the_thresholds_side() -> None:
    z = stats.z_of(0.9)
    row = {"value": 0.80, "lower": 0.78, "upper": 0.83, "confidence": 0.9}
    assert deficit(row, 0.82, "min") == pytest.approx(0.02 / (0.03 / z))
    rmse = {"value": 1.6, "lower": 1.5, "upper": 1.75, "confidence": 0.9}
    assert deficit(rmse, 1.5, "max") == pytest.approx(0.1 / (0.1 / z))
    # a degenerate bound: healthy when on the right side, no evidence when on the wrong side
    assert deficit({"value": 1.0, "lower": 0.99, "upper": 1.0, "confidence": 0.9}, 0.9, "min") == -np.inf
    assert deficit({"value": 0.5, "lower": 0.4, "upper": 0.5, "confidence": 0.9}, 0.9, "min") is None


def test_a_small_deficit_is_accumulated_where_pairs_of_windows_never_suffice() -> None:
    # 0.8 standard errors below the threshold in every window (1,000 rows): no window breaches on its own bound and
    # no pair of windows does by the pooled rule, the CUSUM does at the third window
    w = acc_window(820, 1000)
    assert w["accuracy"]["upper"] > 0.83
    assert deficit(w["accuracy"], 0.83, "min") == pytest.approx(0.85, abs=0.01)
    assert all(not p.pooled_breaches(ACC, [w, w], 0.9) for _ in range(1))
    assert first_alarm(ACC, [w] * 6) == 2
    [b] = cusum_breaches(ACC, [w] * 3, reference=K, limit=H, min_windows=2)[0]
    assert b["windows"] == 3
    assert b["statistic"] > H
    assert b["min"] == 0.83


def test_a_window_above_the_threshold_by_noise_does_not_discard_the_evidence() -> None:
    below, above = acc_window(815, 1000), acc_window(832, 1000)  # 1.26 standard errors below, 0.17 above
    # the pooled rule needs every window below: it waits for two below in a row
    assert not p.pooled_breaches(ACC, [above, below], 0.9)
    assert first_alarm(ACC, [below, above, below]) == 2


def test_one_disastrous_window_cannot_carry_later_healthy_windows() -> None:
    bad, healthy, slightly_below = acc_window(700, 1000), acc_window(845, 1000), acc_window(826, 1000)
    # one window adds at most ``limit``: alone it never breaches, and a healthy window after it pulls S back
    assert first_alarm(ACC, [bad]) is None
    assert first_alarm(ACC, [bad, healthy, slightly_below]) is None
    # a window at 0.70 followed by one at 0.80 is a sustained breach
    assert first_alarm(ACC, [bad, acc_window(800, 1000)]) == 1


def test_the_current_window_must_be_on_the_wrong_side_and_the_excursion_long_enough() -> None:
    low = acc_window(790, 1000)
    assert cusum_breaches(ACC, [low, low], reference=K, limit=H, min_windows=2)[0]
    assert not cusum_breaches(ACC, [low, low], reference=K, limit=H, min_windows=3)[0]
    assert cusum_breaches(ACC, [low, low, low], reference=K, limit=H, min_windows=3)[0]
    # S is far above the limit, but the current window reads above the threshold: no breach now
    assert not cusum_breaches(ACC, [low, low, low, acc_window(832, 1000)], reference=K, limit=H, min_windows=2)[0]
    # a gap (a window without evidence for the metric) resets
    assert not cusum_breaches(ACC, [low, None, low], reference=K, limit=H, min_windows=2)[0]
    assert not cusum_breaches(ACC, [low, {}, low], reference=K, limit=H, min_windows=2)[0]


def test_max_thresholds_accumulate_the_excess() -> None:
    rmse = [{"metric": "rmse", "max": 1.5}]
    w = {"rmse": {"value": 1.55, "lower": 1.50, "upper": 1.61, "confidence": 0.9}}  # 1.28 SE above: not alone
    assert first_alarm(rmse, [w] * 4) == 1
    healthy = {"rmse": {"value": 1.40, "lower": 1.35, "upper": 1.46, "confidence": 0.9}}
    assert first_alarm(rmse, [healthy] * 8) is None


# ------------------------------------------------------------------------------------------------- Monte Carlo
def _binary_accuracy(true: float, n: int, rng: np.random.Generator) -> dict[str, Any]:
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < true, y, 1 - y)
    b = stats.window_bounds("accuracy", kind="binary", y=y, y_pred=pred, scores=None, confidence=0.9)
    assert b is not None
    return {"accuracy": {"value": float(np.mean(y == pred)), **{k: b[k] for k in ("lower", "upper", "confidence")}}}


def _regression_rmse(sigma: float, n: int, rng: np.random.Generator) -> dict[str, Any]:
    y = rng.normal(10, 2, n)
    pred = y + rng.normal(0, sigma, n)
    b = stats.window_bounds("rmse", kind="regression", y=y, y_pred=pred, scores=None, confidence=0.9)
    assert b is not None
    value = float(np.sqrt(np.mean((pred - y) ** 2)))
    return {"rmse": {"value": value, **{k: b[k] for k in ("lower", "upper", "confidence")}}}


def _multiclass_f1(cm_probs: np.ndarray, n: int, rng: np.random.Generator) -> dict[str, Any]:
    cm = rng.multinomial(n, cm_probs.ravel()).reshape(3, 3)
    value = float(stats.confusion_metric("f1", cm[None], binary=False)[0])
    b = stats.confusion_bounds("f1", cm, 0.9, binary=False, resamples=400)
    return {"f1": {"value": value, "lower": b["lower"], "upper": b["upper"], "confidence": 0.9}}


def _rates(make: Callable[[bool], dict[str, Any]], thresholds: list[dict[str, Any]], trials: int,
           *, pre: int = 4, post: int = 8) -> tuple[float, float]:
    """(false alarms: any breach over ``pre + post`` healthy windows, detection: a breach within the first 3
    windows of a shift after ``pre`` healthy windows)."""
    false = detected = 0
    for _ in range(trials):
        healthy = [make(False) for _ in range(pre + post)]
        false += first_alarm(thresholds, healthy) is not None
        shifted = healthy[:pre] + [make(True) for _ in range(3)]
        t = first_alarm(thresholds, shifted)
        detected += t is not None and t >= pre
    return false / trials, detected / trials


def test_monte_carlo_binary_accuracy_false_alarms_and_detection() -> None:
    # 500-row windows; healthy 1 standard error above the threshold, shifted 1.65 standard errors below it
    rng = np.random.default_rng(11)
    n, thr = 500, 0.80
    se = np.sqrt(thr * (1 - thr) / n)
    thresholds = [{"metric": "accuracy", "min": thr}]
    false, detected = _rates(lambda shifted: _binary_accuracy(thr - 1.65 * se if shifted else thr + se, n, rng),
                             thresholds, 400)
    # the normal-theory rates (docs/decisions.md): ~0.025 false alarms in 12 windows, ~0.93 detected within 3
    assert false <= 0.06
    assert detected >= 0.85


def test_monte_carlo_regression_rmse_false_alarms_and_detection() -> None:
    rng = np.random.default_rng(12)
    n, thr = 500, 1.5
    se = thr / np.sqrt(2 * n)  # of the RMSE of normal errors
    thresholds = [{"metric": "rmse", "max": thr}]
    false, detected = _rates(lambda shifted: _regression_rmse(thr + 1.65 * se if shifted else thr - se, n, rng),
                             thresholds, 400)
    assert false <= 0.06
    assert detected >= 0.85


def test_monte_carlo_multiclass_macro_f1_false_alarms_and_detection() -> None:
    rng = np.random.default_rng(13)
    n = 600

    def cm_probs(acc: float) -> np.ndarray:
        prior = np.array([0.5, 0.3, 0.2])
        return np.array([[prior[i] * (acc if i == j else (1 - acc) / 2) for j in range(3)] for i in range(3)])

    # the standard error of macro F1 at this size, from the spread of the windows' values
    def f1_of(acc: float) -> float:
        return float(stats.confusion_metric("f1", (cm_probs(acc) * 1e6).round()[None], binary=False)[0])

    spread = np.std([_multiclass_f1(cm_probs(0.75), n, rng)["f1"]["value"] for _ in range(400)])
    thr = f1_of(0.75) - spread  # healthy: 1 standard error above
    low = 0.75
    while f1_of(low) > thr - 1.65 * spread:  # shifted: 1.65 standard errors below
        low -= 0.001
    thresholds = [{"metric": "f1", "min": thr}]
    false, detected = _rates(lambda shifted: _multiclass_f1(cm_probs(low if shifted else 0.75), n, rng),
                             thresholds, 150)
    assert false <= 0.08
    assert detected >= 0.8


def test_no_more_false_alarms_than_the_pooled_rule_and_more_power() -> None:
    # normal-theory windows (z-units): the pooled two-window rule vs the CUSUM, both with consecutiveBreaches 2
    rng = np.random.default_rng(5)
    z90 = stats.z_of(0.9)

    def window(mean: float) -> dict[str, Any]:
        value = 0.8 - 0.01 * rng.normal(mean, 1)  # 0.01 = one standard error; threshold 0.8
        return {"accuracy": {"value": value, "lower": value - 0.01 * z90, "upper": value + 0.01 * z90,
                             "confidence": 0.9}}

    thr = [{"metric": "accuracy", "min": 0.8}]

    def pooled_first(ws: list[dict[str, Any]]) -> int | None:
        return next((t for t in range(1, len(ws)) if p.pooled_breaches(thr, ws[t - 1:t + 1], 0.9)), None)

    trials = 800
    fa_pooled = fa_cusum = det_pooled = det_cusum = 0
    for _ in range(trials):
        healthy = [window(-1.0) for _ in range(16)]  # one standard error above the threshold
        fa_pooled += pooled_first(healthy) is not None
        fa_cusum += first_alarm(thr, healthy) is not None
        shifted = [window(-4) for _ in range(3)] + [window(0.7) for _ in range(6)]  # 0.7 SE below from window 3
        det_pooled += (pooled_first(shifted) or 0) >= 3
        det_cusum += (first_alarm(thr, shifted) or 0) >= 3
    # normal theory (docs/decisions.md): false alarms in 16 windows 0.044 (pooled) vs 0.033, detected within 6
    # windows 0.81 vs 0.84
    assert fa_cusum <= fa_pooled
    assert det_cusum > det_pooled


def test_decide_reports_sequential_breaches_and_resets_at_a_new_champion_version() -> None:
    pol = RetrainPolicy.model_validate({"consecutiveBreaches": 2, "minSamples": 100, "minNewLabels": 0})

    def run(days_ago: int, correct: int) -> dict[str, Any]:
        end = END - timedelta(days=days_ago)
        w = acc_window(correct, 1000)["accuracy"]
        return {"runId": f"r{days_ago}", "status": "SUCCEEDED", "startedAt": iso(end + timedelta(minutes=5)),
                "window": {"start": iso(end - timedelta(days=1)), "end": iso(end)}, "breached": False,
                "driftDetected": False, "sampleSize": 1000, "metrics": {"accuracy": w["value"]},
                "intervals": {"accuracy": {k: w[k] for k in ("lower", "upper", "confidence")}}}

    cur = acc_window(820, 1000)["accuracy"]
    evaluation = {"breached": False, "breaches": [], "sampleSize": 1000, "metrics": {"accuracy": cur["value"]},
                  "intervals": {"accuracy": {k: cur[k] for k in ("lower", "upper", "confidence")}},
                  "thresholds": ACC}
    history = [run(1, 820), run(2, 820)]

    def decide(state: dict[str, Any]) -> p.PolicyDecision:
        return p.decide(pol, evaluation=evaluation, drift={"detected": False}, history=history, state=state,
                        window_start=END - timedelta(days=1), window_end=END, now=END + timedelta(minutes=5),
                        run_id="current")

    d = decide({})
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH]
    assert d.breach_streak == 2
    assert d.details["breachedMetrics"] == ["accuracy"]
    assert d.details["sequentialBreaches"][0]["windows"] == 3
    # a champion version that started after the oldest window: two windows, not enough evidence yet
    later = decide({"champion": {"since": iso(END - timedelta(days=2, hours=-1))}})
    assert not later.retrain
    assert later.reasons == [p.HEALTHY]
    assert later.details["cusum"] == [{"metric": "accuracy", "min": 0.83, "statistic": pytest.approx(1.2, abs=0.05),
                                       "windows": 2}]
    # off: the per-window rule only
    off = p.decide(RetrainPolicy.model_validate({"consecutiveBreaches": 2, "minSamples": 100, "minNewLabels": 0,
                                                 "sequentialBreaches": None}),
                   evaluation=evaluation, drift={"detected": False}, history=history, state={},
                   window_start=END - timedelta(days=1), window_end=END, now=END + timedelta(minutes=5))
    assert not off.retrain
    assert "cusum" not in off.details
