"""Drift weighted by the model's sensitivity: dataset drift triggers a retrain only when it moved the champion's
scores (``retrainPolicy.scoreDriftPsi``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from driftline_common.config import RetrainPolicy, parse_config
from retrain_launcher import decide as decide_module
from retrain_launcher import policy as p
from retrain_launcher.policy_sensitivity import psi, score_psi
from sklearn.linear_model import LogisticRegression

from tests.unit.test_decision_policy import BASE, DRIFT

END = datetime(2024, 5, 10, tzinfo=UTC)


def _decide(pol: RetrainPolicy, score_drift: dict[str, Any] | None, *, breached: bool = False) -> p.PolicyDecision:
    return p.decide(pol, evaluation={"breached": breached, "sampleSize": 1000}, drift=DRIFT, history=[], state={},
                    window_start=END - timedelta(days=1), window_end=END, now=END, run_id="r",
                    score_drift=score_drift)


def test_psi_is_the_textbook_sum_over_the_reference_deciles() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=5000), rng.normal(0.5, 1.2, size=3000)
    edges = np.quantile(ref, np.linspace(0, 1, 11))[1:-1]
    p_ = np.histogram(ref, np.r_[-np.inf, edges, np.inf])[0] / ref.size
    q_ = np.histogram(cur, np.r_[-np.inf, edges, np.inf])[0] / cur.size
    assert psi(ref, cur) == pytest.approx(float(np.sum((q_ - p_) * np.log(q_ / p_))), rel=1e-9)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(psi(ref[:50], cur))  # too few rows
    two = score_psi(np.c_[ref, ref], np.c_[ref[:3000], cur])
    assert two is not None
    assert two["column"] == 1  # the worst per-class column
    assert score_psi(ref, np.c_[cur, cur]) is None


def test_drift_the_model_cannot_see_does_not_signal_a_retrain() -> None:
    """Virtual drift (two features the label ignores move by 2 SD): the features' PSI is > 3, the scores' < 0.1;
    drift in a feature the model uses moves the scores well past it."""
    rng = np.random.default_rng(1)
    coef = np.array([1.2, -1.0, 0.8, 0.5, 0.0, 0.0])

    def sample(n: int, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, 6)) + shift
        return x, (rng.random(n) < 1 / (1 + np.exp(-(x - shift * (coef == 0)) @ coef))).astype(int)

    model = LogisticRegression(max_iter=1000).fit(*sample(4000, np.zeros(6)))
    ref = model.predict_proba(sample(1500, np.zeros(6))[0])[:, 1]
    virtual = model.predict_proba(sample(1500, np.array([0, 0, 0, 0, 2.0, 2.0]))[0])[:, 1]
    harmful = model.predict_proba(sample(1500, np.array([1.0, 0, 0, 0, 0, 0]))[0])[:, 1]
    pol = RetrainPolicy.model_validate({"consecutiveBreaches": 1, "minSamples": 100, "minNewLabels": 0})
    quiet = _decide(pol, score_psi(ref, virtual))
    assert not quiet.retrain
    assert quiet.reasons == ["SCORES_UNCHANGED", "HEALTHY"]
    assert quiet.details["scoreDrift"]["psi"] < 0.1
    loud = _decide(pol, score_psi(ref, harmful))
    assert loud.retrain
    assert loud.reasons == ["DATASET_DRIFT"]
    # a performance breach is never gated; no measurement or no threshold: drift signals as before
    assert _decide(pol, score_psi(ref, virtual), breached=True).reasons == ["PERFORMANCE_BREACH"]
    assert _decide(pol, None).reasons == ["DATASET_DRIFT"]
    off = RetrainPolicy.model_validate({"consecutiveBreaches": 1, "minSamples": 100, "minNewLabels": 0,
                                        "scoreDriftPsi": None})
    assert _decide(off, score_psi(ref, virtual)).reasons == ["DATASET_DRIFT"]


def test_the_reference_is_the_champions_first_labelled_window(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config(BASE)
    rng = np.random.default_rng(2)

    def csv(scores: np.ndarray) -> str:
        return "inference_id,label,score\n" + "".join(f"i{i},1,{v:.6f}\n" for i, v in enumerate(scores))

    texts = {"s3://b/old.csv": csv(rng.random(500) * 0.2), "s3://b/first.csv": csv(rng.random(500)),
             "s3://b/later.csv": csv(rng.random(500)), "s3://b/now.csv": csv(rng.random(500))}
    monkeypatch.setattr(decide_module, "_window_text", lambda uri: texts.get(uri or ""))

    def run(rid: str, day: int, uri: str) -> dict[str, Any]:
        start = END - timedelta(days=day)
        return {"runId": rid, "status": "SUCCEEDED", "datasetUri": uri,
                "window": {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}}

    history = [run("later", 3, "s3://b/later.csv"), run("first", 5, "s3://b/first.csv"), run("old", 9, "s3://b/old.csv"),
               {**run("drifted", 6, "s3://b/old.csv"), "driftDetected": True}]
    state = {"champion": {"since": (END - timedelta(days=6)).isoformat()}}
    got = decide_module.measure_score_drift(cfg, state, history, run_id="now", window_uri="s3://b/now.csv")
    assert got is not None
    # not the window before the champion, not a drifted one (its scores are no reference), not a later one
    assert got["referenceRunId"] == "first"
    assert got["psi"] < 0.1
    assert decide_module.measure_score_drift(cfg, state, history, run_id="now", window_uri=None) is None
    # every window since the champion drifted: nothing to compare with, no gate
    drifted = [{**r, "driftDetected": True} for r in history]
    assert decide_module.measure_score_drift(cfg, state, drifted, run_id="now", window_uri="s3://b/now.csv") is None
