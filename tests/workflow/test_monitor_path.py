"""The monitor step end to end offline: the local endpoint publishes its AWS/SageMaker metrics (measured latency,
counted invocations) into moto's CloudWatch, the run reads them with GetMetricData and a breach alerts without
retraining; Model Monitor's files written by the baseline are checked on the same run."""

from __future__ import annotations

import json
from datetime import timedelta

from driftline_examples import traffic

from .conftest import MODEL_ID, Workflow, model_config


def test_operational_breach_from_the_local_endpoints_metrics(workflow: Workflow) -> None:
    wf = workflow
    cfg = model_config(wf.bucket)
    cfg["operational"] = [{"metric": "ModelLatency", "stat": "p99", "max": 1},  # 1 microsecond: always breached
                          {"metric": "Invocations", "min": 1}, {"metric": "ErrorRate", "max": 0.01}]
    wf.register(cfg)
    wf.write_day("stable", 5)
    wf.clock.set(traffic.day_start(5) + timedelta(hours=3))
    rows = traffic.day(5, 40, traffic.STABLE).X
    for i in range(0, 40, 10):
        wf.invoke_endpoint(rows[i:i + 10])
    execution = wf.run_window(5, name="day05")
    assert execution["status"] == "SUCCEEDED", execution
    monitor = json.loads(wf.get_text(f"runs/{MODEL_ID}/day05/monitor.json"))
    checks = {c["metric"]: c for c in monitor["operational"]["checks"]}
    assert checks["Invocations"]["value"] == 4
    assert checks["Invocations"]["status"] == "ok"
    assert checks["ModelLatency"]["value"] > 1
    assert checks["ModelLatency"]["status"] == "breached"
    assert checks["ErrorRate"]["value"] == 0
    assert monitor["signals"][-1] == "OPERATIONAL_BREACH"
    assert monitor["dataQuality"]["status"] == "ok"  # the baseline's constraints.json, checked on the same run
    run = wf.runs()["day05"]
    assert "OPERATIONAL_BREACH" in run["monitor"]["signals"]
    assert run["decision"]["retrain"] is False
    completed = wf.events_of("Evaluation Completed", "day05")[0]
    assert "OPERATIONAL_BREACH" in completed["monitor"]["signals"]
    alerts = [json.loads(a["Message"]) if "Message" in a else a for a in wf.alerts()]
    assert any("OPERATIONAL_BREACH" in a.get("signals", []) for a in alerts)
