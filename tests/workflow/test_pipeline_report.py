"""The run report as the pipeline's last step, offline: written on success and on failure, never failing a run."""

from __future__ import annotations

import json

import pytest

from .conftest import MODEL_ID, Workflow


def _report(wf: Workflow, run_id: str, ext: str) -> bytes:
    return wf.client("s3").get_object(Bucket=wf.bucket, Key=f"runs/{MODEL_ID}/{run_id}/report.{ext}")["Body"].read()


def test_a_run_ends_with_its_report(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("stable", 10)
    execution = wf.run_window(10, name="stable10")
    assert execution["status"] == "SUCCEEDED", execution
    assert wf.states(execution["executionArn"])[-2:] == ["Report", "Succeeded"]
    doc = json.loads(_report(wf, "stable10", "json"))
    assert doc["runId"] == "stable10"
    assert doc["status"] == "SUCCEEDED"
    assert doc["classification"]["confusionMatrix"]["matrix"]
    assert doc["classification"]["calibration"]["count"]  # stored by the evaluator for the report
    page = _report(wf, "stable10", "html").decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page


def test_a_failed_run_gets_a_report_and_keeps_its_error(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("drift", 10)
    wf.client("s3").delete_object(Bucket=wf.bucket, Key=wf.config["baselineUri"].split("/", 3)[3])
    execution = wf.run_window(10, name="nobaseline")
    assert (execution["status"], execution["error"]) == ("FAILED", "BaselineNotFound")
    assert "ReportFailure" in wf.states(execution["executionArn"])
    doc = json.loads(_report(wf, "nobaseline", "json"))
    assert doc["status"] == "FAILED"
    assert doc["failure"].startswith("BaselineNotFound")


def test_a_failing_report_does_not_fail_the_run(workflow: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    import report.logic

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(report.logic, "write_report", boom)
    wf = workflow
    wf.write_day("stable", 10)
    execution = wf.run_window(10, name="stable10")
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["outcome"] == "healthy"  # the output is the run's result, unchanged
    assert wf.states(execution["executionArn"])[-2:] == ["Report", "Succeeded"]
