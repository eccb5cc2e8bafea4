"""The decide action reads the windows' recorded class counts (``retrainPolicy.labelShift``): a label shift with the
metric below its threshold by point estimate since the shift is a breach, and the window's counts are recorded on
its run for the next decisions."""

from __future__ import annotations

from typing import Any

from retrain_launcher.handler import lambda_handler

from tests.handlers.test_decision_sequential_handler import ABOVE, BELOW
from tests.handlers.test_retrain_launcher import (  # noqa: F401 (fixtures)
    CTX,
    MODEL,
    _decide_setup,
    bus_log,
    record_past_window,
    stores,
)

# accuracy against min 0.75 on 800-row windows: HEALTHY well above it
HEALTHY = {"metrics": {"roc_auc": 0.86, "accuracy": 0.80},
           "intervals": {"accuracy": {"method": "wilson", "confidence": 0.9, "lower": 0.78, "upper": 0.8185},
                         "roc_auc": {"method": "delong", "confidence": 0.9, "lower": 0.84, "upper": 0.88}}}


def test_a_label_shift_with_the_metric_below_by_point_estimate_is_a_breach(
        stores: dict[str, Any], bus_log: str) -> None:  # noqa: F811 (the fixtures imported above)
    event = _decide_setup(stores)
    event["assessment"]["evaluation"].update(BELOW, breaches=[], breached=False, classCounts=[540, 260])
    event["assessment"]["drift"] = {"detected": False}
    # oldest first: three healthy windows at 15 % positives, then the shift: below, above by noise, the current below
    for days_ago, window, counts in ((5, HEALTHY, [680, 120]), (4, HEALTHY, [676, 124]), (3, HEALTHY, [684, 116]),
                                     (2, BELOW, [548, 252]), (1, ABOVE, [552, 248])):
        past = record_past_window(stores["runs"], days_ago, breached=False)
        stores["runs"].update(MODEL, past, **window, classCounts=counts)
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is True
    assert decision["reasons"] == ["PERFORMANCE_BREACH", "LABEL_SHIFT"]
    assert "sequentialBreaches" not in decision  # the window above reset the CUSUM
    [b] = decision["labelShiftBreaches"]
    assert b["metric"] == "accuracy"
    assert b["windows"] == 3
    assert b["value"] < 0.75
    shift = decision["labelShift"]
    assert shift["split"] == 3
    assert shift["adjustedPvalue"] < 0.001
    assert shift["since"] == "2024-04-29T00:00:00Z"  # the start of the first window after the shift (days_ago 2)
    assert decision["breachedMetrics"] == ["accuracy"]
    # the window's counts are on its run record: the next decision reads them
    assert stores["runs"].get(MODEL, event["run"]["runId"])["classCounts"] == [540, 260]


def test_without_recorded_counts_or_with_the_rule_off_nothing_changes(
        stores: dict[str, Any], bus_log: str) -> None:  # noqa: F811 (the fixtures imported above)
    event = _decide_setup(stores)
    event["assessment"]["evaluation"].update(BELOW, breaches=[], breached=False, classCounts=[540, 260])
    event["assessment"]["drift"] = {"detected": False}
    for days_ago, window in ((5, HEALTHY), (4, HEALTHY), (3, HEALTHY), (2, BELOW), (1, ABOVE)):
        past = record_past_window(stores["runs"], days_ago, breached=False)
        stores["runs"].update(MODEL, past, **window)  # runs recorded before classCounts existed
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is False
    assert "labelShift" not in decision
    assert "labelShiftBreaches" not in decision
