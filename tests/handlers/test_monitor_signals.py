"""DATA_QUALITY / OPERATIONAL_BREACH / BIAS in the retrain decision and the run's record and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from driftline_common.config import parse_config
from driftline_common.store import iso
from retrain_launcher import signals
from retrain_launcher.handler import lambda_handler
from retrain_launcher.policy import HEALTHY, PolicyDecision

from tests.conftest import REGION, load_event
from tests.handlers.test_retrain_launcher import (  # noqa: F401  (fixtures)
    CONFIG,
    CTX,
    MODEL,
    _decide_setup,
    bus_log,
    published,
    record_past_window,
    stores,
)

NOW = datetime(2025, 1, 2, tzinfo=UTC)


def _monitor(*found: str, configured: bool = True) -> dict[str, Any]:
    return {"monitor": {"signals": list(found), "dataQuality": {"status": "ok", "configured": configured,
                                                                "violations": 2},
                        "operational": {"status": "ok", "breached": []}, "bias": {"status": "not_configured"}}}


def _decision() -> PolicyDecision:
    return PolicyDecision(retrain=False, reasons=[HEALTHY], breach_streak=0, sample_size=900, new_labels=0,
                          retrains_in_period=0)


def test_signals_alert_and_never_retrain_by_default() -> None:
    cfg = parse_config(CONFIG, scope=None)
    d = signals.annotate(_decision(), cfg, _monitor("DATA_QUALITY", "BIAS"), {}, NOW)
    assert d.retrain is False
    assert d.reasons == [HEALTHY]
    assert d.details["monitorSignals"] == ["DATA_QUALITY", "BIAS"]
    assert signals.with_bias_breach(cfg, {"breached": False}, _monitor("BIAS")) == {"breached": False}
    unchanged = signals.annotate(_decision(), cfg, {}, {}, NOW)
    assert unchanged == _decision()


def test_bias_may_trigger_a_retrain_when_configured() -> None:
    cfg = parse_config({**CONFIG, "bias": {"facets": [{"name": "f0", "threshold": 0.0}],
                                           "labelValuesOrThreshold": ["1"], "retrain": True}}, scope=None)
    assert signals.with_bias_breach(cfg, {"breached": False}, _monitor("BIAS"))["breached"] is True
    assert signals.with_bias_breach(cfg, {"breached": False}, _monitor("DATA_QUALITY"))["breached"] is False


@pytest.mark.parametrize(("hours_ago", "window", "expected"), [(2, 24, True), (30, 24, False), (30, 48, True)])
def test_operational_breach_rolls_back_a_fresh_deployment(hours_ago: int, window: int, expected: bool) -> None:
    cfg = parse_config({**CONFIG, "deployment": {**CONFIG["deployment"], "rollbackWindowHours": window}},
                       scope=None)
    since = iso(NOW - timedelta(hours=hours_ago))
    state = {"champion": {"modelName": "m2", "endpointConfigName": "cfg-2", "since": since},
             "previousChampion": {"modelName": "m1", "endpointConfigName": "cfg-1", "version": 1}}
    retrain = PolicyDecision(retrain=True, reasons=["PERFORMANCE_BREACH"], breach_streak=3, sample_size=900,
                             new_labels=900, retrains_in_period=0)
    d = signals.annotate(retrain, cfg, _monitor("OPERATIONAL_BREACH"), state, NOW)
    assert d.details["monitorSignals"] == ["OPERATIONAL_BREACH"]
    if expected:
        assert d.reasons == ["PERFORMANCE_BREACH", "OPERATIONAL_BREACH"]
        assert d.details["rollback"]["endpointConfigName"] == "cfg-1"
        assert d.retrain is False  # roll back first, never retrain on an operational breach
    else:
        assert "rollback" not in d.details
        assert d.retrain is True  # the performance breach still retrains
    assert "rollback" not in signals.annotate(retrain, cfg, _monitor("OPERATIONAL_BREACH"),
                                              {"champion": state["champion"]}, NOW).details


def test_decide_and_complete_carry_the_signals(stores: dict[str, Any], bus_log: str,  # noqa: F811
                                               stack_env: dict[str, str]) -> None:
    event = _decide_setup(stores)
    event["assessment"].update(_monitor("DATA_QUALITY"))
    event["assessment"]["evaluation"]["breached"] = False
    event["assessment"]["drift"]["detected"] = False
    record_past_window(stores["runs"], 1, breached=False)
    decision = lambda_handler(event, CTX)
    assert decision["retrain"] is False
    assert "DATA_QUALITY" not in decision["reasons"]  # an alert, not a retrain reason
    assert decision["monitorSignals"] == ["DATA_QUALITY"]
    published(bus_log)

    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack_env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn)
    done = load_event("retrain_launcher_complete.json")
    done["assessment"].update(_monitor("DATA_QUALITY"))
    done["decision"] = {"retrain": False, "reasons": decision["reasons"]}
    stores["runs"].start(MODEL, done["run"]["runId"])
    result = lambda_handler(done, CTX)
    assert result["monitor"]["signals"] == ["DATA_QUALITY"]
    assert result["monitor"]["dataQuality"] == {"status": "ok", "configured": True, "violations": 2}
    assert stores["runs"].get(MODEL, done["run"]["runId"])["monitor"]["signals"] == ["DATA_QUALITY"]
    [ev] = published(bus_log)
    assert ev["detail-type"] == "Evaluation Completed"
    assert ev["detail"]["monitor"]["signals"] == ["DATA_QUALITY"]
    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert any("DATA_QUALITY on example-classifier" in m["Body"] for m in msgs)


def test_unconfigured_data_quality_is_recorded_but_pages_nobody() -> None:
    record = signals.run_record(_monitor("DATA_QUALITY", configured=False), {})
    assert record is not None
    assert record["signals"] == ["DATA_QUALITY"]
    assert signals.alert_message("m", "r", record) is None
    record = signals.run_record(_monitor("DATA_QUALITY", "BIAS", configured=False), {})
    alert = signals.alert_message("m", "r", record or {})
    assert alert is not None
    assert alert[0] == "Driftline: BIAS on m"
    assert signals.alert_message("m", "r", signals.run_record(_monitor("DATA_QUALITY"), {}) or {}) is not None
