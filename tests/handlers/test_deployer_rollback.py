"""deployer ``rollback``: an operational breach right after a deployment puts the previous champion back."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY
from deployer.handler import lambda_handler
from driftline_common.errors import InvalidEvent
from driftline_common.settings import Settings
from driftline_common.store import RunStore

from tests.handlers._support import drain
from tests.handlers.test_deployer import CTX, ENDPOINT, SM, env  # noqa: F401  (fixture)

RUN = {"runId": "run-9", "modelId": "example-classifier"}
TARGET = {"endpointConfigName": "driftline-example-classifier-v1", "modelName": "m1", "version": 1,
          "from": "driftline-example-classifier-v2", "reason": "OPERATIONAL_BREACH"}


def _described(config: str) -> dict[str, Any]:
    return {"EndpointName": ENDPOINT, "EndpointArn": SM + "endpoint/e", "EndpointConfigName": config,
            "EndpointStatus": "InService", "CreationTime": "2024-01-01T00:00:00Z",
            "LastModifiedTime": "2024-01-01T00:00:00Z"}


def test_rollback_switches_back_and_records_it(env: dict[str, Any]) -> None:  # noqa: F811
    stub = env["stub"]
    env["models"].put_state("example-classifier", {
        "champion": {"modelName": "m2", "endpointConfigName": TARGET["from"]},
        "previousChampion": {"modelName": "m1", "endpointConfigName": TARGET["endpointConfigName"]}})
    runs = RunStore(Settings.from_env())
    runs.start("example-classifier", "run-9")
    stub.add_response("describe_endpoint", _described(TARGET["from"]), {"EndpointName": ENDPOINT})
    stub.add_response("update_endpoint", {"EndpointArn": SM + "endpoint/e"}, {
        "EndpointName": ENDPOINT, "EndpointConfigName": TARGET["endpointConfigName"],
        "DeploymentConfig": ANY})
    out = lambda_handler({"action": "rollback", "run": RUN, "decision": {"retrain": False, "rollback": TARGET}}, CTX)
    assert out["status"] == "RollingBack"
    assert out["endpointConfigName"] == TARGET["endpointConfigName"]
    state = env["models"].get_state("example-classifier")
    assert state["champion"]["modelName"] == "m1"
    assert state["previousChampion"]["modelName"] == "m2"
    assert runs.get("example-classifier", "run-9")["rollback"]["reason"] == "OPERATIONAL_BREACH"
    [ev] = drain(env["bus"])
    assert ev["detail-type"] == "Deployment Rolled Back"
    assert ev["detail"]["reason"] == "OPERATIONAL_BREACH"
    # a retried task finds the endpoint on the previous config already: no second update
    stub.add_response("describe_endpoint", _described(TARGET["endpointConfigName"]), {"EndpointName": ENDPOINT})
    again = lambda_handler({"action": "rollback", "run": RUN, "decision": {"rollback": TARGET}}, CTX)
    assert again["status"] == "RolledBack"


def test_rollback_needs_a_target(env: dict[str, Any]) -> None:  # noqa: F811
    with pytest.raises(InvalidEvent, match=r"decision\.rollback"):
        lambda_handler({"action": "rollback", "run": RUN, "decision": {"retrain": False}}, CTX)
