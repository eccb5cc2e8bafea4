"""Run windows at the edges of ``datetime``, sent straight to each data function (a forged or corrupted state).

``StartRun`` only produces windows within [1970, 2200) (``driftline_common.edge.parse_time``), but every function
must still answer a forged ``run.window`` with a typed error. Found by the fuzz tests: ``runs.parse_run`` now
checks a window's times with the edge's range (1970-2200) and its span (at most 31 days), so no function overflows
``datetime`` or lists S3 hour by hour for centuries.
"""

from __future__ import annotations

from typing import Any

import pytest
from driftline_common.errors import DriftlineError

from tests.conftest import load_event
from tests.fuzz.conftest import typed_or_result

WINDOWS = {
    "year-9999": {"start": "9999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59Z"},
    "year-1-positive-offset": {"start": "0001-01-01T00:00:00+05:00", "end": "0001-01-02T00:00:00Z"},
}


def _call(module: str, event_name: str, window: dict[str, str]) -> Any:
    handler = __import__(f"{module}.handler", fromlist=["lambda_handler"]).lambda_handler
    event = load_event(event_name)
    event["run"]["window"] = window
    run = event["run"]
    return typed_or_result(handler, event, (f"runs/{run['modelId']}/{run['runId']}/",))


@pytest.mark.parametrize("window", [pytest.param(w, id=k) for k, w in WINDOWS.items()])
@pytest.mark.parametrize(("module", "event_name"), [
    ("metric_evaluator", "metric_evaluator_evaluate.json"),
    ("drift_checker", "drift_checker_check.json"),
    ("retrain_launcher", "retrain_launcher_decide.json"),
    ("deployer", "deployer_status.json"),
])
def test_a_window_datetime_cannot_shift_gets_a_typed_answer(world: dict[str, str], module: str, event_name: str,
                                                           window: dict[str, str]) -> None:
    out = _call(module, event_name, window)
    assert isinstance(out, dict | DriftlineError)


@pytest.mark.parametrize(("module", "event_name"), [
    ("metric_evaluator", "metric_evaluator_evaluate.json"),
    ("drift_checker", "drift_checker_check.json"),
])
def test_a_window_of_centuries_is_refused_before_any_listing(world: dict[str, str], module: str,
                                                             event_name: str) -> None:
    out = _call(module, event_name, {"start": "2025-01-01T00:00:00Z", "end": "2199-12-31T00:00:00Z"})
    assert isinstance(out, DriftlineError)
    assert type(out).__name__ == "InvalidEvent"
    assert "spans" in out.message
