"""The deployer records a multiclass recalibration (per-class score offsets) as a new version, no new endpoint."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from deployer.handler import lambda_handler as deployer_handler
from driftline_common.errors import InvalidEvent

from tests.handlers.test_decision_actions import CTX, MODEL, RUN, env  # noqa: F401 (fixture)


def test_recalibrate_records_class_offsets(env: dict[str, Any]) -> None:  # noqa: F811 (the fixture)
    models, runs = env["models"], env["runs"]
    models.put_state(MODEL, {"champion": {"modelName": "m-v1", "endpointConfigName": "m-v1", "version": 1,
                                          "since": "2024-04-01T00:00:00Z"}})
    runs.start(MODEL, RUN["runId"])
    bad = {"action": "recalibrate", "run": RUN, "comparison": {"remedy": "recalibration", "classOffsets": [0, 1, 2]}}
    with pytest.raises(InvalidEvent, match="2 classes"):  # the fixture model is binary: 2 labels
        deployer_handler(copy.deepcopy(bad), CTX)
    with pytest.raises(InvalidEvent, match=r"classOffsets\[1\]' must be a finite number"):
        deployer_handler({**bad, "comparison": {"classOffsets": [0, "x"]}}, CTX)
    event = {**bad, "comparison": {"remedy": "recalibration", "classOffsets": [0.0, 1.25]}}
    out = deployer_handler(copy.deepcopy(event), CTX)
    assert (out["kind"], out["strategy"], out["modelName"], out["version"]) == (
        "recalibration", "classOffsets", "m-v1", 2)
    assert out["classOffsets"] == [0.0, 1.25]
    champion = models.get_state(MODEL)["champion"]
    assert champion["classOffsets"] == [0.0, 1.25]
    assert champion["endpointConfigName"] == "m-v1"
    # a retried call returns the recorded version
    assert deployer_handler(copy.deepcopy(event), CTX)["version"] == 2
