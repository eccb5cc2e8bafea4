"""The decision rules added for issue 10, one reason code at a time: acknowledged drift, the separate drift budget,
the breached metrics, when a recalibration is tried, the recalibration threshold fit, the promotion verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from driftline_common.config import RetrainPolicy, parse_config
from driftline_common.errors import InvalidModelConfig
from metric_evaluator import stats
from metric_evaluator.compare import compare_models
from retrain_launcher import policy as p
from retrain_launcher.recalibration import fit_threshold
from sklearn.metrics import accuracy_score, f1_score

from tests.conftest import ROOT

BASE = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
END = datetime(2024, 5, 10, tzinfo=UTC)
NOW = END + timedelta(minutes=5)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cfg(**over: Any):  # type: ignore[no-untyped-def]
    return parse_config({**BASE, **over})


def window_run(days_ago: int, *, breached: bool = False, drift: bool = False) -> dict[str, Any]:
    end = END - timedelta(days=days_ago)
    return {"runId": f"r{days_ago}", "status": "SUCCEEDED", "startedAt": iso(end + timedelta(minutes=5)),
            "window": {"start": iso(end - timedelta(days=1)), "end": iso(end)},
            "breached": breached, "driftDetected": drift, "sampleSize": 1000}


def policy(**kw: Any) -> RetrainPolicy:
    base = {"consecutiveBreaches": 1, "minSamples": 100, "minNewLabels": 0, "cooldownHours": 24,
            "maxRetrainsPerPeriod": 2, "periodDays": 7}
    return RetrainPolicy.model_validate({**base, **kw})


def decide(pol: RetrainPolicy, *, breached: bool = False, drift: dict[str, Any] | None = None,
           state: dict[str, Any] | None = None, history: list[dict[str, Any]] | None = None,
           breaches: list[dict[str, Any]] | None = None) -> p.PolicyDecision:
    evaluation = {"breached": breached, "sampleSize": 1000, "breaches": breaches or []}
    return p.decide(pol, evaluation=evaluation, drift=drift or {"detected": False}, history=history or [],
                    state=state or {}, window_start=END - timedelta(days=1), window_end=END, now=NOW,
                    run_id="current")


DRIFT = {"detected": True, "driftedFeatures": ["f2", "f4"], "effects": {"f2": 0.5, "f4": 0.3}}


# ------------------------------------------------------------------------------------------------ acknowledged drift
def test_acknowledged_drift_does_not_retrigger_but_new_or_larger_drift_does() -> None:
    pol = policy()
    assert decide(pol, drift=DRIFT).retrain  # first time: a drift-only retrain
    state = p.acknowledge({}, drift=DRIFT, run_id="r0", now=NOW - timedelta(days=3))
    assert state["driftAcknowledged"]["features"] == {"f2": 0.5, "f4": 0.3}

    same = decide(pol, drift=DRIFT, state=state)
    assert not same.retrain
    assert same.reasons == ["DRIFT_ACKNOWLEDGED", "HEALTHY"]

    slightly_larger = {**DRIFT, "effects": {"f2": 0.7, "f4": 0.3}}  # < 1.5 x 0.5
    assert not decide(pol, drift=slightly_larger, state=state).retrain

    larger = {**DRIFT, "effects": {"f2": 0.8, "f4": 0.3}}  # >= 1.5 x 0.5
    d = decide(pol, drift=larger, state=state)
    assert d.retrain
    assert d.reasons == ["DATASET_DRIFT"]
    assert d.details["unacknowledgedDrift"] == ["f2"]

    new_feature = {"detected": True, "driftedFeatures": ["f2", "f4", "f1"], "effects": {"f2": 0.5, "f4": 0.3,
                                                                                          "f1": 0.25}}
    assert decide(pol, drift=new_feature, state=state).details["unacknowledgedDrift"] == ["f1"]
    # a configurable factor
    assert not decide(policy(driftEffectFactor=2.0), drift=larger, state=state).retrain


def test_acknowledged_drift_still_lets_a_performance_breach_through() -> None:
    state = p.acknowledge({}, drift=DRIFT, run_id="r0", now=NOW - timedelta(days=3))
    d = decide(policy(), breached=True, drift=DRIFT, state=state)
    assert d.retrain
    assert d.reasons == ["PERFORMANCE_BREACH"]


def test_windows_before_the_acknowledgement_do_not_sustain_a_drift_streak() -> None:
    state = p.acknowledge({}, drift=DRIFT, run_id="r1", now=END - timedelta(days=1, minutes=-30))
    history = [window_run(1, drift=True), window_run(2, drift=True)]
    new = {"detected": True, "driftedFeatures": ["f0"], "effects": {"f0": 0.4}}
    d = decide(policy(consecutiveBreaches=2), drift=new, state=state, history=history)
    assert d.breach_streak == 1
    assert "BREACH_NOT_SUSTAINED" in d.reasons
    assert decide(policy(consecutiveBreaches=2), drift=new, history=history).breach_streak == 3


def test_should_acknowledge_only_a_healthy_drift_only_retrain_that_did_not_deploy() -> None:
    drift_decision = {"retrain": True, "trigger": "drift"}
    assert p.should_acknowledge(drift_decision, {"breached": False}, "champion_kept")
    assert not p.should_acknowledge(drift_decision, {"breached": False}, "deployed")
    assert not p.should_acknowledge(drift_decision, {"breached": True}, "champion_kept")
    assert not p.should_acknowledge({"retrain": True, "trigger": "performance"}, {"breached": False},
                                    "champion_kept")
    assert not p.should_acknowledge({"retrain": False}, {"breached": False}, "healthy")


# ------------------------------------------------------------------------------------------------ budgets
def _retrains(*entries: tuple[int, str | None]) -> dict[str, Any]:
    return {"retrains": [{"runId": f"x{i}", "startedAt": iso(NOW - timedelta(hours=h)),
                          **({"trigger": t} if t else {})} for i, (h, t) in enumerate(entries)]}


def test_drift_only_retrains_have_their_own_budget() -> None:
    spent = _retrains((30, "drift"))  # one drift retrain in the period (default budget 1)
    d = decide(policy(), drift=DRIFT, state=spent)
    assert not d.retrain
    assert d.reasons == ["DATASET_DRIFT", "DRIFT_BUDGET_EXHAUSTED"]
    assert decide(policy(maxDriftRetrainsPerPeriod=2), drift=DRIFT, state=spent).retrain
    # ... which never blocks a performance retrain, nor does a drift retrain's cooldown
    recent = _retrains((30, "drift"), (2, "drift"))
    perf = decide(policy(), breached=True, drift=DRIFT, state=recent)
    assert perf.retrain
    assert perf.details["trigger"] == "performance"
    # performance retrains: their own budget (an entry without trigger is a performance retrain)
    assert decide(policy(), breached=True, state=_retrains((30, None), (40, "performance"))).reasons == [
        "PERFORMANCE_BREACH", "BUDGET_EXHAUSTED"]
    # a drift-only retrain waits for any retrain's cooldown
    assert "COOLDOWN" in decide(policy(maxDriftRetrainsPerPeriod=5), drift=DRIFT,
                                state=_retrains((2, "performance"))).reasons


def test_breached_metrics_and_when_a_recalibration_is_tried() -> None:
    breaches = [{"metric": "accuracy", "value": 0.7, "min": 0.75}, {"metric": "accuracy", "value": 0.7, "min": 0.8}]
    d = decide(policy(), breached=True, breaches=breaches)
    assert d.to_dict()["breachedMetrics"] == ["accuracy"]
    assert p.wants_recalibration("binary", True, ["accuracy"])
    assert p.wants_recalibration("binary", True, ["recall", "log_loss"])
    assert not p.wants_recalibration("binary", True, ["accuracy", "roc_auc"])  # the ranking broke
    assert not p.wants_recalibration("binary", True, ["roc_auc"])
    assert not p.wants_recalibration("binary", False, ["accuracy"])
    assert p.wants_recalibration("multiclass", True, ["accuracy"])  # per-class score offsets
    assert not p.wants_recalibration("regression", True, ["accuracy"])
    assert not p.wants_recalibration("binary", True, [])


# ------------------------------------------------------------------------------------------------ threshold fit
def test_fit_threshold_maximises_the_breached_metric_over_every_cut() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(800) < 0.15).astype(int)
    s = 1 / (1 + np.exp(-(1.5 * (2 * y - 1) + rng.normal(size=800))))
    c = cfg(thresholds=[{"metric": "accuracy", "min": 0.99}])
    fit = fit_threshold(c, y, s, ["accuracy"])
    assert fit is not None
    best = max(accuracy_score(y, s > t) for t in np.unique(s))
    assert accuracy_score(y, s > fit["threshold"]) == pytest.approx(best)
    assert fit["fitted"]["accuracy"] == pytest.approx(best)
    f1_fit = fit_threshold(cfg(thresholds=[{"metric": "f1", "min": 0.99}]), y, s, ["f1"])
    assert f1_fit is not None
    assert f1_score(y, s > f1_fit["threshold"]) == pytest.approx(max(f1_score(y, s > t) for t in np.unique(s)[:-1]))
    # satisfying every threshold first: recall >= 0.9 constrains the accuracy-optimal cut
    both = fit_threshold(cfg(thresholds=[{"metric": "accuracy", "min": 0.99}, {"metric": "recall", "min": 0.9}]),
                         y, s, ["accuracy"])
    assert both is not None
    assert both["fitted"]["recall"] >= 0.9
    assert fit_threshold(c, y[:50], s[:50], ["accuracy"]) is None  # too few rows


# ------------------------------------------------------------------------------------------------ promotion verdicts
def _prior_shift(n: int = 2000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    return y, 1 / (1 + np.exp(-(1.4 * (2 * y - 1) + rng.normal(size=n))))


def test_breached_accuracy_is_judged_by_mcnemar_and_the_recalibration_wins() -> None:
    y, s = _prior_shift()
    c = cfg()  # thresholds roc_auc >= 0.8, accuracy >= 0.75, promotion.metric roc_auc
    thr = fit_threshold(c, *_prior_shift(seed=2), ["accuracy"])["threshold"]  # fitted on other rows
    res = compare_models(c, y.astype(str), s, s, breached=["accuracy"], recalibration_threshold=thr)
    assert res["promote"] is True
    assert res["remedy"] == "recalibration"
    assert res["reasons"] == ["IMPROVED:accuracy", "NON_INFERIOR:roc_auc", "RECALIBRATED"]
    recal = res["candidates"]["recalibrated"]["tests"]["accuracy"]
    assert recal["method"] == "mcnemar_mid_p"
    assert recal["candidate"] == pytest.approx(accuracy_score(y, s > thr))
    assert recal["pvalue"] < 0.05
    assert recal["championOnly"] < recal["challengerOnly"]
    assert res["pairedTest"]["mcnemar"]["challengerOnly"] == recal["challengerOnly"]  # the winner's counts
    # the retrained "challenger" here is the champion itself: not better on accuracy
    assert res["candidates"]["retrained"]["verdicts"][0] == "BELOW_MARGIN:accuracy"
    # without the breach, the primary metric decides: ROC AUC cannot improve under a prior shift
    old = compare_models(c, y.astype(str), s, s, recalibration_threshold=thr)
    assert old["promote"] is False
    assert old["reasons"][0] == "BELOW_MARGIN:roc_auc"


def test_a_regressed_other_metric_blocks_promotion() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 3000)
    champion = 1 / (1 + np.exp(-(1.5 * (2 * y - 1) + rng.normal(size=3000))))
    # the challenger ranks better but predicts positive almost never at 0.5: accuracy collapses
    challenger = 0.45 / (1 + np.exp(-(2.5 * (2 * y - 1) + rng.normal(size=3000))))
    res = compare_models(cfg(), y.astype(str), champion, challenger)
    assert "IMPROVED:roc_auc" in res["reasons"]
    assert "REGRESSED:accuracy" in res["reasons"]
    assert res["promote"] is False
    assert res["metrics"]["accuracy"]["lower"] < -res["metrics"]["accuracy"]["margin"]
    # a margin wide enough accepts it
    loose = compare_models(cfg(promotion={**BASE["promotion"], "nonInferiorityMargins": {"accuracy": 0.6}}),
                           y.astype(str), champion, challenger)
    assert loose["promote"] is True
    assert "NON_INFERIOR:accuracy" in loose["reasons"]


def test_holm_across_several_breached_metrics() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 1500)
    champion = 1 / (1 + np.exp(-(0.6 * (2 * y - 1) + rng.normal(size=1500))))
    challenger = 1 / (1 + np.exp(-(1.6 * (2 * y - 1) + rng.normal(size=1500))))
    res = compare_models(cfg(), y.astype(str), champion, challenger, breached=["roc_auc", "accuracy"])
    assert res["mustImprove"] == ["roc_auc", "accuracy"]
    assert res["mustNotRegress"] == []
    assert res["reasons"] == ["IMPROVED:roc_auc", "IMPROVED:accuracy", "CHALLENGER_BETTER"]
    assert all(res["metrics"][m]["holmRejected"] for m in ("roc_auc", "accuracy"))
    # the verdicts are Holm's step-down decisions on the one-sided p-values, at promotion.alpha
    nudged = np.where(rng.random(1500) < 0.03, y, (champion > 0.5).astype(int)) * 0.02 + champion * 0.98
    mixed = compare_models(cfg(), y.astype(str), champion, nudged, breached=["accuracy", "roc_auc"])
    pvals = [mixed["metrics"][m]["pvalue"] for m in ("roc_auc", "accuracy")]
    assert [mixed["metrics"][m]["holmRejected"] for m in ("roc_auc", "accuracy")] == stats.holm(pvals, 0.05)


def test_multiclass_and_regression_are_judged_on_their_breached_metrics() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 1500)

    def proba(sig: float) -> np.ndarray:
        logits = rng.normal(size=(1500, 3)) + sig * np.eye(3)[y]
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mc = cfg(problemType="multiclass", labels=["a", "b", "c"], positiveLabel=None,
             thresholds=[{"metric": "f1", "min": 0.8}, {"metric": "roc_auc", "min": 0.7}])
    labels = np.asarray(["a", "b", "c"])[y]
    res = compare_models(mc, labels, proba(0.5), proba(2.0), breached=["f1"],
                         recalibration_threshold=0.3)  # ignored: a decision threshold is binary only
    assert res["reasons"] == ["IMPROVED:f1", "NON_INFERIOR:roc_auc", "CHALLENGER_BETTER"]
    assert "recalibrated" not in res["candidates"]
    assert res["metrics"]["f1"]["method"] == "joint_multinomial_bootstrap"

    yr = rng.normal(size=1500)
    reg = cfg(problemType="regression", labels=None, positiveLabel=None, decisionThreshold=0.5,
              thresholds=[{"metric": "rmse", "max": 0.5}, {"metric": "mae", "max": 0.5}],
              promotion={"metric": "rmse", "minSamples": 100})
    out = compare_models(reg, yr, yr + rng.normal(0, 1.0, 1500), yr + rng.normal(0, 0.7, 1500), breached=["rmse"])
    assert out["reasons"] == ["IMPROVED:rmse", "NON_INFERIOR:mae", "CHALLENGER_BETTER"]
    assert out["metrics"]["rmse"]["method"] == "poisson_bootstrap"


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("section", "values", "field"), [
    ("promotion", {"nonInferiorityMargin": -0.01}, "promotion.nonInferiorityMargin"),
    ("promotion", {"alpha": 1.0}, "promotion.alpha"),
    ("promotion", {"metric": "accuracy_weighted"}, "promotion.metric"),
    ("promotion", {"nonInferiorityMargins": {"accuracy": -1}}, "promotion.nonInferiorityMargins.accuracy"),
    ("promotion", {"nonInferiorityMargins": {"nope": 0.1}}, "promotion.nonInferiorityMargins"),
    ("promotion", {"mcnemar": "asymptotic"}, "promotion.mcnemar"),
    ("retrainPolicy", {"thresholdConfidence": 1.0}, "retrainPolicy.thresholdConfidence"),
    ("retrainPolicy", {"thresholdConfidence": 0}, "retrainPolicy.thresholdConfidence"),
    ("retrainPolicy", {"driftEffectFactor": 0.5}, "retrainPolicy.driftEffectFactor"),
    ("retrainPolicy", {"maxDriftRetrainsPerPeriod": -1}, "retrainPolicy.maxDriftRetrainsPerPeriod"),
    ("retrainPolicy", {"scoreDriftPsi": -0.1}, "retrainPolicy.scoreDriftPsi"),
    ("retrainPolicy", {"scoreDriftPsi": "high"}, "retrainPolicy.scoreDriftPsi"),
])
def test_invalid_policy_fields_are_rejected_naming_the_field(section: str, values: dict[str, Any],
                                                             field: str) -> None:
    with pytest.raises(InvalidModelConfig) as err:
        parse_config({**BASE, section: {**BASE[section], **values}})
    assert err.value.http_status == 400
    assert any(problem.startswith(field) for problem in err.value.details["problems"]), err.value.message


def test_an_old_config_gets_the_documented_defaults() -> None:
    c = parse_config(BASE)  # the fixture has none of the new fields
    assert c.retrain_policy.threshold_confidence == 0.9
    assert c.retrain_policy.max_drift_retrains_per_period == 1
    assert c.retrain_policy.drift_effect_factor == 1.5
    assert c.retrain_policy.score_drift_psi == 0.1
    assert parse_config({**BASE, "retrainPolicy": {**BASE["retrainPolicy"], "scoreDriftPsi": None}}
                        ).retrain_policy.score_drift_psi is None  # null: no gate
    assert (c.promotion.alpha, c.promotion.non_inferiority_margin, c.promotion.mcnemar) == (0.05, 0.02, "mid-p")
    assert c.promotion.recalibration is True
    assert c.promotion.bootstrap_resamples == 400
    assert parse_config(c.to_item()) == c  # round trip through the stored item
