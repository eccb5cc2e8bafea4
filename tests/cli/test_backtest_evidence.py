"""``backtest.json`` names the rule behind each breached metric of a decision (the window's own bound, pooled,
CUSUM, label shift), and the table shows the metrics another rule counted next to the window's own breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline_cli.backtest_cli import _breaches_cell
from driftline_common.config import RetrainPolicy
from retrain_launcher.policy import breach_evidence, decide

T0 = datetime(2024, 1, 1, tzinfo=UTC)


SE = 0.018  # the standard error of accuracy near 0.8 on 500 rows


def _interval(value: float) -> dict[str, float]:
    """A symmetric 90 % interval of ``value`` with standard error ``SE``."""
    z = 1.2815515655446004
    return {"lower": value - z * SE, "upper": value + z * SE, "confidence": 0.9}


def _history(values: list[float]) -> list[dict]:
    """Completed runs (newest first, as the run store lists them) whose accuracy is ``values``, none breaching by
    its own bound."""
    runs = []
    for i, v in enumerate(values):
        start = T0 + timedelta(days=i)
        runs.append({"runId": f"r{i}", "status": "SUCCEEDED", "window": {"start": start.isoformat(),
                     "end": (start + timedelta(days=1)).isoformat()}, "breached": False, "driftDetected": False,
                     "sampleSize": 500, "metrics": {"accuracy": v}, "intervals": {"accuracy": _interval(v)}})
    return runs[::-1]


def test_evidence_of_a_window_breach_and_of_each_rule() -> None:
    decision = {"pooledBreaches": [{"metric": "f1"}], "sequentialBreaches": [{"metric": "f1"}, {"metric": "recall"},
                {"metric": "accuracy"}], "labelShiftBreaches": [{"metric": "recall"}]}
    evidence = breach_evidence(["accuracy"], decision)
    assert evidence == {"accuracy": ["window", "cusum"], "f1": ["pooled", "cusum"], "recall": ["cusum", "label-shift"]}
    assert breach_evidence([], {"retrain": False, "reasons": ["HEALTHY"]}) == {}
    window = {"breaches": ["accuracy"], "decision": {"evidence": evidence}}
    assert _breaches_cell(window) == "accuracy,f1 (pooled+cusum),recall (cusum+label-shift)"
    assert _breaches_cell({"breaches": [], "decision": {"reasons": []}}) == ""


def test_a_cusum_breach_without_a_window_breach_is_named() -> None:
    """The real policy: windows each about one standard error below the threshold, none breaching by its own 90 %
    bound, add up in the CUSUM; the decision's evidence says ``cusum`` where the window's own breach list is
    empty."""
    policy = RetrainPolicy(consecutiveBreaches=2, minSamples=100, minNewLabels=0)
    value = 0.8 - SE
    history = _history([value] * 6)
    end = T0 + timedelta(days=7)
    evaluation = {"breached": False, "sampleSize": 500, "metrics": {"accuracy": value},
                  "intervals": {"accuracy": _interval(value)}, "thresholds": [{"metric": "accuracy", "min": 0.8}]}
    d = decide(policy, evaluation=evaluation, drift={"detected": False}, history=history, state={},
               window_start=end - timedelta(days=1), window_end=end, now=end)
    doc = d.to_dict()
    assert doc["sequentialBreaches"], doc
    assert "PERFORMANCE_BREACH" in doc["reasons"]
    evidence = doc["evidence"]  # what the run record and backtest.json keep
    assert evidence == {"accuracy": ["cusum"]}
    assert _breaches_cell({"breaches": [], "decision": {"evidence": evidence}}) == "accuracy (cusum)"
    # the same windows above the threshold: no breach, no evidence
    healthy = _history([0.8 + SE] * 6)
    ok = {**evaluation, "metrics": {"accuracy": 0.8 + SE}, "intervals": {"accuracy": _interval(0.8 + SE)}}
    d2 = decide(policy, evaluation=ok, drift={"detected": False}, history=healthy, state={},
                window_start=end - timedelta(days=1), window_end=end, now=end)
    assert d2.to_dict()["evidence"] == {}
