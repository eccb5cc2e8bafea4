"""An empty window through the real ASL and handlers, offline: the run ends ``no_data`` (not ``healthy``), its
``Evaluation Completed`` says so, the alerts topic is told, and consecutive empty windows are counted."""

from __future__ import annotations

import json

from .conftest import CHAMPION_MODEL, MODEL_ID, Workflow


def test_empty_windows_end_no_data_with_event_alert_and_streak(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("stable", 2)  # a window with data first: it is not part of the empty streak
    first = wf.run_window(2, name="day02")
    assert first["status"] == "SUCCEEDED", first
    assert json.loads(first["output"])["outcome"] == "healthy"

    outputs = []
    for d in (3, 4):  # nothing captured, nothing labelled
        execution = wf.run_window(d, name=f"day0{d}")
        assert execution["status"] == "SUCCEEDED", execution
        outputs.append(json.loads(execution["output"]))

    assert [(o["outcome"], o["emptyWindowStreak"]) for o in outputs] == [("no_data", 1), ("no_data", 2)]
    assert all(o["metrics"] == {} for o in outputs)
    runs = wf.runs()
    assert [(runs[r]["status"], runs[r]["outcome"]) for r in ("day02", "day03", "day04")] == [
        ("SUCCEEDED", "healthy"), ("SUCCEEDED", "no_data"), ("SUCCEEDED", "no_data")]
    completed = {e["runId"]: e["outcome"] for e in wf.events_of("Evaluation Completed")}
    assert completed == {"day02": "healthy", "day03": "no_data", "day04": "no_data"}
    alerts = [json.loads(a["Message"]) if "Message" in a else a for a in wf.alerts()]
    assert [(a["runId"], a["outcome"], a["emptyWindowStreak"]) for a in alerts] == [
        ("day03", "no_data", 1), ("day04", "no_data", 2)]
    assert all(a["modelId"] == MODEL_ID for a in alerts)
    assert wf.training_jobs() == []
    assert wf.model_state()["champion"]["modelName"] == CHAMPION_MODEL
