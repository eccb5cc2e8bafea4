"""Decisions that fix what broke, end to end on the real template, ASL and handlers (offline).

A label-prior shift: the positive rate falls from ~0.5 to 0.1 while P(x | y) is unchanged (each day's rows are
drawn class by class from the undrifted population). The champion's ranking is intact — its ROC AUC cannot
improve and stays above its threshold — but its accuracy at the decision threshold 0.5 breaches. Judged on
``promotion.metric`` (ROC AUC) alone every remedy would be rejected; judged on what breached (accuracy, McNemar)
the recalibrated threshold — fitted on the previous window's labels, judged on the current one — is promoted,
recorded as a new model version without a new endpoint, and used by the next evaluation.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache

import numpy as np
import pytest
from driftline_examples import traffic
from driftline_examples.classifier import inference
from metric_evaluator.compare import compare_models
from sklearn.metrics import accuracy_score, roc_auc_score

from .conftest import CHAMPION_MODEL, ENDPOINT, MODEL_ID, ROWS_PER_DAY, Workflow, champion_assets, model_config

POSITIVE_RATE = 0.1


@lru_cache(maxsize=8)
def prior_shift_day(d: int) -> tuple[dict[str, str], dict[str, str], np.ndarray, np.ndarray]:
    """Day ``d`` with a positive rate of 0.1: rows drawn per class from the stable population (P(x|y) kept)."""
    X, y, _ = traffic.day(d, 10 * ROWS_PER_DAY, traffic.STABLE)
    rng = np.random.default_rng(1000 + d)
    k = int(POSITIVE_RATE * ROWS_PER_DAY)
    idx = rng.permutation(np.r_[rng.choice(np.flatnonzero(y == 1), k, replace=False),
                                rng.choice(np.flatnonzero(y == 0), ROWS_PER_DAY - k, replace=False)])
    X, y = X[idx], y[idx]
    ids = [f"prior-d{d:03d}-{i:06d}" for i in range(ROWS_PER_DAY)]
    _, model, _ = champion_assets()
    scores = inference.predict_fn(X, model)
    capture = traffic.capture_files(traffic.capture_records(X, scores, ids, d=d), prefix="datacapture",
                                    endpoint=ENDPOINT)
    labels = traffic.ground_truth_files(traffic.ground_truth_records(y, ids), prefix=f"labels/{MODEL_ID}",
                                        when=traffic.day_start(d) + timedelta(hours=23, minutes=30))
    return capture, labels, y, scores


def _write(wf: Workflow, d: int) -> tuple[np.ndarray, np.ndarray]:
    capture, labels, y, scores = prior_shift_day(d)
    for key, body in {**capture, **labels}.items():
        wf.put(key, body)
    return y, scores


def _output(execution: dict) -> dict:
    return json.loads(execution.get("output") or "null")


def test_prior_shift_promotes_the_recalibrated_threshold_without_a_new_endpoint(workflow: Workflow) -> None:
    wf = workflow
    cfg = model_config(wf.bucket)
    cfg["thresholds"] = [{"metric": "roc_auc", "min": 0.8}, {"metric": "accuracy", "min": 0.86}]
    wf.register(cfg)
    for d in (1, 2, 3):
        _write(wf, d)

    first = _output(wf.run_window(1, name="prior1"))
    assert first["decision"]["retrain"] is False
    assert first["decision"]["reasons"][-1] == "BREACH_NOT_SUSTAINED"

    execution = wf.run_window(2, name="prior2")
    assert execution["status"] == "SUCCEEDED", execution
    result = _output(execution)
    states = wf.states(execution["executionArn"])
    assert "ChooseRemedy" in states
    assert "Recalibrate" in states
    assert "Deploy" not in states
    assert "RefreshBaseline" not in states
    assert result["outcome"] == "deployed"
    assert "PERFORMANCE_BREACH" in result["decision"]["reasons"]

    y2, s2 = prior_shift_day(2)[2], prior_shift_day(2)[3]
    run = wf.runs()["prior2"]
    # the window breached accuracy (on its bound), not ROC AUC
    assert [b["metric"] for b in run["breaches"]] == ["accuracy"]
    assert run["breaches"][0]["interval"]["upper"] < 0.86
    assert result["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y2, s2), abs=1e-9)
    completed = wf.events_of("Evaluation Completed", "prior2")[0]
    assert completed["breaches"][0]["interval"]["method"] == "wilson"
    assert completed["intervals"]["roc_auc"]["method"] == "delong"
    assert completed["intervals"]["roc_auc"]["lower"] > 0.8  # the ranking is intact: no ROC AUC breach

    comparison = run["comparison"]
    assert comparison["promote"] is True
    assert comparison["remedy"] == "recalibration"
    assert comparison["mustImprove"] == ["accuracy"]
    assert comparison["verdicts"]["accuracy"] == "IMPROVED"
    assert comparison["verdicts"]["roc_auc"] == "NON_INFERIOR"
    assert comparison["reasons"][-1] == "RECALIBRATED"
    threshold = comparison["decisionThreshold"]
    # judged: the threshold fitted on day 1 (the decision's training window), not on the judged day 2
    decision = wf.events_of("Retrain Decision", "prior2")[0]
    assert decision["breachedMetrics"] == ["accuracy"]
    assert decision["recalibration"]["status"] == "FITTED"
    assert decision["recalibration"]["rows"] == ROWS_PER_DAY  # day 1 only
    judged = decision["recalibration"]["threshold"]
    fold = decision["recalibration"]["crossFit"]  # fitted on day 2, applied to day 1's rows
    assert fold["rows"] == ROWS_PER_DAY
    assert threshold == fold["deploy"]["threshold"]  # deployed: the fit on both days
    doc = json.loads(wf.get_text(comparison["resultUri"].split("/", 3)[3]))
    recal = doc["candidates"]["recalibrated"]
    assert recal["decisionThreshold"] == judged
    y1, s1 = prior_shift_day(1)[2], prior_shift_day(1)[3]
    assert accuracy_score(y1, s1 > judged) > accuracy_score(y1, s1 > 0.5)
    # on both folds' rows (cross-fitted): accuracy as sklearn has it; ROC AUC on the window, delta exactly 0
    n = len(y1) + len(y2)
    right = (accuracy_score(y2, s2 > judged, normalize=False)
             + accuracy_score(y1, s1 > fold["threshold"], normalize=False))
    assert recal["tests"]["accuracy"]["candidate"] == pytest.approx(right / n)
    assert recal["tests"]["accuracy"]["champion"] == pytest.approx(
        (accuracy_score(y2, s2 > 0.5, normalize=False) + accuracy_score(y1, s1 > 0.5, normalize=False)) / n)
    assert recal["tests"]["accuracy"]["pooledRows"] == len(y1)
    assert recal["tests"]["roc_auc"]["delta"] == 0.0
    assert recal["tests"]["accuracy"]["pvalue"] < 0.025  # the pooled test runs at alpha / 2

    # the old rule (the primary metric ROC AUC must improve) rejects this very remedy
    old = compare_models(wf_config(wf), y2.astype(str), s2, s2, breached=None, recalibration_threshold=judged)
    assert old["promote"] is False
    assert old["reasons"][0] == "BELOW_MARGIN:roc_auc"

    # a new model version, the same SageMaker model and endpoint config
    state = wf.model_state()
    champion = state["champion"]
    assert champion["kind"] == "recalibration"
    assert champion["version"] == 2
    assert champion["decisionThreshold"] == pytest.approx(threshold)
    assert champion["modelName"] == CHAMPION_MODEL
    assert state["previousChampion"]["version"] == 1
    endpoint = wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == CHAMPION_MODEL
    deployed = wf.events_of("Model Deployed", "prior2")
    assert deployed
    assert deployed[0]["kind"] == "recalibration"
    assert not wf.locks().get(f"retrain#{MODEL_ID}")

    # the next window is evaluated at the recalibrated threshold: healthy again
    third = _output(wf.run_window(3, name="prior3"))
    y3, s3 = prior_shift_day(3)[2], prior_shift_day(3)[3]
    assert third["metrics"]["accuracy"] == pytest.approx(accuracy_score(y3, s3 > threshold), abs=1e-12)
    assert third["metrics"]["accuracy"] > accuracy_score(y3, s3 > 0.5)
    assert third["decision"]["retrain"] is False
    assert "accuracy" not in [b["metric"] for b in wf.runs()["prior3"]["breaches"]]


def wf_config(wf: Workflow):  # type: ignore[no-untyped-def]
    from driftline_common.config import parse_config

    return parse_config(wf.config)


#: covariate drift only (P(y | x) unchanged) in two features: the champion stays healthy
VIRTUAL = traffic.Scenario("virtual", covariate=traffic.CovariateDrift(features=(3, 4), start_day=1, shift=1.5))


@lru_cache(maxsize=8)
def virtual_day(d: int) -> tuple[dict[str, str], dict[str, str]]:
    X, y, ids = traffic.day(d, ROWS_PER_DAY, VIRTUAL)
    _, model, _ = champion_assets()
    scores = inference.predict_fn(X, model)
    capture = traffic.capture_files(traffic.capture_records(X, scores, ids, d=d), prefix="datacapture",
                                    endpoint=ENDPOINT)
    labels = traffic.ground_truth_files(traffic.ground_truth_records(y, ids), prefix=f"labels/{MODEL_ID}",
                                        when=traffic.day_start(d) + timedelta(hours=23, minutes=30))
    return capture, labels


def test_drift_that_does_not_hurt_is_acknowledged_and_does_not_retrigger(workflow: Workflow) -> None:
    wf = workflow
    cfg = model_config(wf.bucket)
    cfg["retrainPolicy"] = {**cfg["retrainPolicy"], "cooldownHours": 0, "maxRetrainsPerPeriod": 5,
                            "maxDriftRetrainsPerPeriod": 5}
    wf.register(cfg)
    for d in (1, 2, 3):
        capture, labels = virtual_day(d)
        for key, body in {**capture, **labels}.items():
            wf.put(key, body)

    first = _output(wf.run_window(1, name="virtual1"))
    assert first["drift"]["detected"] is True
    assert first["decision"]["reasons"] == ["DATASET_DRIFT", "BREACH_NOT_SUSTAINED"]

    second = _output(wf.run_window(2, name="virtual2"))
    assert second["decision"]["retrain"] is True
    assert second["decision"]["reasons"] == ["DATASET_DRIFT"]  # drift alone: the model is healthy
    assert second["outcome"] == "champion_kept"
    comparison = wf.runs()["virtual2"]["comparison"]
    assert comparison["mustImprove"] == ["roc_auc"]  # nothing breached: the primary metric
    assert comparison["promote"] is False
    ack = wf.model_state()["driftAcknowledged"]
    assert ack["runId"] == "virtual2"
    assert set(ack["features"]) == set(second["drift"]["driftedFeatures"])
    assert wf.model_state()["retrains"][-1]["trigger"] == "drift"

    # the same drift the next day: acknowledged, no retrain although budget and cooldown would allow one
    third = _output(wf.run_window(3, name="virtual3"))
    assert third["drift"]["detected"] is True
    assert third["decision"]["retrain"] is False
    assert third["decision"]["reasons"] == ["DRIFT_ACKNOWLEDGED", "HEALTHY"]
    assert third["outcome"] == "healthy"
    assert len(wf.training_jobs()) == 1
    # alerting still sees the drift
    assert wf.events_of("Drift Detected", "virtual3")[0]["datasetDrift"] is True
