"""The decide action records the window's bounds on the run, and a later window pools with them."""

from __future__ import annotations

from typing import Any

from driftline_common.config import parse_config
from retrain_launcher.handler import lambda_handler

from tests.conftest import load_event
from tests.handlers.test_retrain_launcher import (  # noqa: F401 (fixtures)
    CONFIG,
    CTX,
    MODEL,
    _decide_setup,
    bus_log,
    record_past_window,
    stores,
)


def test_decide_records_intervals_and_pools_the_next_window(
        stores: dict[str, Any], bus_log: str) -> None:  # noqa: F811 (the fixtures imported above)
    policy = {**CONFIG["retrainPolicy"], "pooledBreaches": True, "sequentialBreaches": None}
    stores["models"].put_config(parse_config({**CONFIG, "retrainPolicy": policy}))
    event = _decide_setup(stores)
    ev = event["assessment"]["evaluation"]
    # accuracy 0.735 on 800 rows against 0.75: its own 90 % upper bound (0.7545) does not breach; ROC AUC healthy
    ev.update(metrics={"roc_auc": 0.86, "accuracy": 0.735}, breaches=[], breached=False,
              intervals={"accuracy": {"method": "wilson", "confidence": 0.9, "lower": 0.7145, "upper": 0.7545},
                         "roc_auc": {"method": "delong", "confidence": 0.9, "lower": 0.84, "upper": 0.88}})
    event["assessment"]["drift"] = {"detected": False}
    past = record_past_window(stores["runs"], 1, breached=False)
    first = lambda_handler(event, CTX)
    assert first["retrain"] is False
    run_id = event["run"]["runId"]
    assert stores["runs"].get(MODEL, run_id)["intervals"]["accuracy"]["upper"] == 0.7545

    # the previous window recorded the same evidence: jointly below the threshold, the breach is sustained
    stores["runs"].update(MODEL, past, metrics=ev["metrics"], intervals=ev["intervals"])
    second = lambda_handler(load_event_like(event, "run-2024-05-02-0002"), CTX)
    assert second["retrain"] is True
    assert second["reasons"] == ["PERFORMANCE_BREACH"]
    assert [b["metric"] for b in second["pooledBreaches"]] == ["accuracy"]
    assert second["breachedMetrics"] == ["accuracy"]


def load_event_like(event: dict[str, Any], run_id: str) -> dict[str, Any]:
    out = load_event("retrain_launcher_decide.json")
    out["run"]["runId"] = run_id
    out["assessment"] = event["assessment"]
    return out
