"""The decide action accumulates the windows' recorded bounds in a CUSUM (``retrainPolicy.sequentialBreaches``) and
reads their recorded class counts for label-shift breaches (``retrainPolicy.labelShift``)."""

from __future__ import annotations

from typing import Any

from retrain_launcher.common import lock_id
from retrain_launcher.handler import lambda_handler

from tests.handlers.test_decision_pooled_handler import load_event_like
from tests.handlers.test_retrain_launcher import (  # noqa: F401 (fixtures)
    CTX,
    MODEL,
    _decide_setup,
    bus_log,
    record_past_window,
    stores,
)

# accuracy against min 0.75 on 800-row windows (Wilson, 90 %): 0.735 is 1.0 standard error below (its own upper
# bound 0.7545 does not breach), 0.7525 is above the threshold
BELOW = {"metrics": {"roc_auc": 0.86, "accuracy": 0.735},
         "intervals": {"accuracy": {"method": "wilson", "confidence": 0.9, "lower": 0.7145, "upper": 0.7545},
                       "roc_auc": {"method": "delong", "confidence": 0.9, "lower": 0.84, "upper": 0.88}}}
ABOVE = {"metrics": {"roc_auc": 0.86, "accuracy": 0.7525},
         "intervals": {"accuracy": {"method": "wilson", "confidence": 0.9, "lower": 0.7324, "upper": 0.7715},
                       "roc_auc": {"method": "delong", "confidence": 0.9, "lower": 0.84, "upper": 0.88}}}


def test_a_small_sustained_deficit_accumulates_across_a_window_above_the_threshold(
        stores: dict[str, Any], bus_log: str) -> None:  # noqa: F811 (the fixtures imported above)
    event = _decide_setup(stores)
    event["assessment"]["evaluation"].update(BELOW, breaches=[], breached=False)
    event["assessment"]["drift"] = {"detected": False}
    # oldest first: below, above (by noise), below; none breaches on its own bound, no two in a row are both
    # below the threshold before the current window
    for days_ago, window in ((3, BELOW), (2, ABOVE), (1, BELOW)):
        past = record_past_window(stores["runs"], days_ago, breached=False)
        stores["runs"].update(MODEL, past, **window)
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is True
    assert decision["reasons"] == ["PERFORMANCE_BREACH"]
    [seq] = decision["sequentialBreaches"]
    assert seq["metric"] == "accuracy"
    assert seq["min"] == 0.75
    assert seq["windows"] == 4
    assert seq["statistic"] > seq["limit"] == 1.5
    assert len(seq["deficits"]) == 4
    assert seq["deficits"][1] < 0 < seq["deficits"][0]
    assert decision["breachedMetrics"] == ["accuracy"]
    assert {c["metric"]: c["windows"] for c in decision["cusum"]} == {"roc_auc": 0, "accuracy": 4}

    # the same windows scored by an earlier champion version do not count: a champion deployed after the
    # oldest two windows leaves one earlier window and the current one, not enough evidence
    state = stores["models"].get_state(MODEL)
    state["champion"] = {**(state.get("champion") or {}), "since": "2024-04-30T00:30:00Z"}
    state["retrains"] = []
    stores["models"].put_state(MODEL, state)
    stores["locks"].release(lock_id(MODEL), event["run"]["runId"])
    again = lambda_handler(load_event_like(event, "run-2024-05-02-0002"), CTX)
    assert again["retrain"] is False
    assert "sequentialBreaches" not in again
    assert {c["metric"]: c["windows"] for c in again["cusum"]}["accuracy"] == 2


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
