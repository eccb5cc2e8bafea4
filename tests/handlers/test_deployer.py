"""deployer: moto for DynamoDB/EventBridge, botocore's Stubber for SageMaker.

moto 5.2.5 has no ``UpdateEndpoint`` (nor blue/green ``DeploymentConfig``), so the SageMaker client alone is
stubbed with ``botocore.stub.Stubber``, which also validates every request against botocore's SageMaker
service model; the request builders are additionally checked with ``ParamValidator``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from botocore.validate import ParamValidator
from deployer.handler import lambda_handler
from deployer.requests import deployment_config, resource_name, update_endpoint_request
from driftline_common.aws import client
from driftline_common.config import parse_config
from driftline_common.errors import InvalidEvent
from driftline_common.settings import Settings
from driftline_common.store import ModelStore

from tests.conftest import load_event
from tests.handlers._support import Context, bus_recorder, drain

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
CTX = Context()
SM = "arn:aws:sagemaker:us-east-1:123456789012:"
ENDPOINT = CONFIG["endpointName"]
NEW = resource_name("example-classifier", "run-2024-05-02-0001")
CAPTURE = {"EnableCapture": True, "InitialSamplingPercentage": 50,
           "DestinationS3Uri": "s3://driftline-test-data/datacapture",
           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}


@pytest.fixture
def env(stack_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    models = ModelStore(Settings.from_env())
    models.put_config(parse_config(CONFIG))
    with Stubber(client("sagemaker")) as stub:
        yield {"models": models, "stub": stub, "bus": bus_recorder(stack_env["EVENT_BUS_NAME"]), **stack_env}
        stub.assert_no_pending_responses()


def input_shape(operation: str) -> Any:
    return botocore.session.get_session().get_service_model("sagemaker").operation_model(operation).input_shape


@pytest.mark.parametrize("strategy", ["canary", "linear", "all_at_once"])
def test_update_endpoint_request_is_valid(strategy: str) -> None:
    cfg = parse_config({**CONFIG, "deployment": {**CONFIG["deployment"], "strategy": strategy}})
    request = update_endpoint_request(cfg, endpoint_config_name="cfg")
    report = ParamValidator().validate(request, input_shape("UpdateEndpoint"))
    assert not report.has_errors(), report.generate_report()
    policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    assert routing["Type"] == {"canary": "CANARY", "linear": "LINEAR", "all_at_once": "ALL_AT_ONCE"}[strategy]
    assert routing["WaitIntervalInSeconds"] == CONFIG["deployment"]["waitMinutes"] * 60
    assert policy["TerminationWaitInSeconds"] == CONFIG["deployment"]["terminationWaitMinutes"] * 60
    assert 600 <= policy["MaximumExecutionTimeoutInSeconds"] <= 14400
    if strategy == "canary":
        assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}
    if strategy == "linear":
        assert routing["LinearStepSize"] == {"Type": "CAPACITY_PERCENT", "Value": 25}
    assert request["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "driftline-example-classifier-5xx"}]}
    no_alarms = parse_config({**CONFIG, "deployment": {**CONFIG["deployment"], "rollbackAlarms": []}})
    assert "AutoRollbackConfiguration" not in deployment_config(no_alarms)


def test_deploy_updates_the_endpoint_blue_green(env: dict[str, Any]) -> None:
    event = load_event("deployer_deploy.json")
    stub = env["stub"]
    stub.add_response("create_model", {"ModelArn": SM + "model/m"}, {
        "ModelName": NEW, "ExecutionRoleArn": env["SAGEMAKER_ROLE_ARN"],
        "PrimaryContainer": {"Image": CONFIG["training"]["imageUri"],
                             "ModelDataUrl": event["training"]["modelArtifacts"],
                             "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                             "SAGEMAKER_SUBMIT_DIRECTORY": CONFIG["training"]["sourceUri"]}},
        "Tags": [{"Key": "driftline:modelId", "Value": "example-classifier"},
                 {"Key": "driftline:runId", "Value": "run-2024-05-02-0001"}]})
    stub.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": SM + "endpoint/e", "EndpointConfigName": "old-config",
        "EndpointStatus": "InService", "CreationTime": "2024-01-01T00:00:00Z",
        "LastModifiedTime": "2024-01-01T00:00:00Z"},
        {"EndpointName": ENDPOINT})
    stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": "old-config", "EndpointConfigArn": SM + "endpoint-config/o",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "old-model"}],
        "DataCaptureConfig": CAPTURE, "CreationTime": "2024-01-01T00:00:00Z"}, {"EndpointConfigName": "old-config"})
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": SM + "endpoint-config/n"}, {
        "EndpointConfigName": NEW, "DataCaptureConfig": CAPTURE,
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": NEW, "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        "Tags": [{"Key": "driftline:modelId", "Value": "example-classifier"}]})
    cfg = parse_config(CONFIG)
    stub.add_response("update_endpoint", {"EndpointArn": SM + "endpoint/e"},
                      update_endpoint_request(cfg, endpoint_config_name=NEW))
    out = lambda_handler(event, CTX)
    assert out["status"] == "Updating"
    assert (out["modelName"], out["endpointConfigName"], out["previousEndpointConfigName"]) == (NEW, NEW, "old-config")
    assert out["version"] == 1


def test_deploy_creates_a_missing_endpoint(env: dict[str, Any]) -> None:
    stub = env["stub"]
    stub.add_response("create_model", {"ModelArn": SM + "model/m"})
    stub.add_client_error("describe_endpoint", "ValidationException", f'Could not find endpoint "{ENDPOINT}".')
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": SM + "endpoint-config/n"})
    stub.add_response("create_endpoint", {"EndpointArn": SM + "endpoint/e"},
                      {"EndpointName": ENDPOINT, "EndpointConfigName": NEW,
                       "Tags": [{"Key": "driftline:modelId", "Value": "example-classifier"}]})
    out = lambda_handler(load_event("deployer_deploy.json"), CTX)
    assert out["previousEndpointConfigName"] is None


def described(status: str, config: str, failure: str | None = None) -> dict[str, Any]:
    out = {"EndpointName": ENDPOINT, "EndpointArn": SM + "endpoint/e", "EndpointConfigName": config,
           "EndpointStatus": status,
           "CreationTime": "2024-01-01T00:00:00Z", "LastModifiedTime": "2024-01-01T00:00:00Z"}
    return {**out, "FailureReason": failure} if failure else out


def test_status_transitions(env: dict[str, Any]) -> None:
    event = load_event("deployer_status.json")
    stub, models = env["stub"], env["models"]
    models.put_state("example-classifier", {"champion": {"modelName": "initial"}})
    cases = [
        (described("Updating", "old-config"), "Updating"),
        (described("InService", "old-config", "Alarm driftline-example-classifier-5xx in ALARM"), "RolledBack"),
        (described("Failed", NEW, "ResourceLimitExceeded"), "Failed"),
        (described("InService", NEW), "InService"),
    ]
    for response, _ in cases:
        stub.add_response("describe_endpoint", response, {"EndpointName": ENDPOINT})
    results = [lambda_handler(copy.deepcopy(event), CTX) for _ in cases]
    assert [r["status"] for r in results] == [expected for _, expected in cases]
    assert results[1]["reason"] == "Alarm driftline-example-classifier-5xx in ALARM"
    assert results[2]["reason"] == "ResourceLimitExceeded"
    state = models.get_state("example-classifier")
    assert state["champion"]["modelName"] == NEW
    assert state["previousChampion"]["modelName"] == "initial"
    assert [e["detail-type"] for e in drain(env["bus"])] == ["Deployment Rolled Back", "Model Deployed"]


def test_bad_input(env: dict[str, Any]) -> None:
    event = load_event("deployer_deploy.json")
    del event["training"]["modelArtifacts"]
    with pytest.raises(InvalidEvent, match=r"training\.modelArtifacts"):
        lambda_handler(event, CTX)
    with pytest.raises(InvalidEvent, match="unknown action"):
        lambda_handler({"action": "undeploy"}, CTX)


def test_status_releases_the_runs_lock_once_the_deployment_settled(env: dict[str, Any]) -> None:
    """Deployed or rolled back: the retrain lock this run holds is released by the deployer itself."""
    from driftline_common.store import LockStore, retrain_lock_id

    event = load_event("deployer_status.json")
    run_id, model = event["run"]["runId"], event["run"]["modelId"]
    locks = LockStore(Settings.from_env())
    stub = env["stub"]
    for response, expect_release in ((described("Updating", "old-config"), False), (described("InService", NEW), True)):
        locks.acquire(retrain_lock_id(model), run_id, ttl_seconds=3600)
        stub.add_response("describe_endpoint", response, {"EndpointName": ENDPOINT})
        result = lambda_handler(copy.deepcopy(event), CTX)
        assert (locks.holder(retrain_lock_id(model)) is None) is expect_release, result["status"]
    # another run's lock is never released
    locks.acquire(retrain_lock_id(model), "another-run", ttl_seconds=3600)
    stub.add_response("describe_endpoint", described("InService", "old-config", "Alarm in ALARM"),
                      {"EndpointName": ENDPOINT})
    assert lambda_handler(copy.deepcopy(event), CTX)["status"] == "RolledBack"
    assert locks.holder(retrain_lock_id(model)) == "another-run"


def test_deploy_records_the_decision_and_the_champion_to_be_before_switching(env: dict[str, Any]) -> None:
    """Record first: a run whose decision cannot be recorded fails before UpdateEndpoint (nothing switched)."""
    from driftline_common.store import RunStore

    event = load_event("deployer_deploy.json")
    run_id = event["run"]["runId"]
    runs = RunStore(Settings.from_env())
    runs.start("example-classifier", run_id)
    env["models"].put_state("example-classifier", {"champion": {"modelName": "initial", "version": 1}})
    stub = env["stub"]
    stub.add_response("create_model", {"ModelArn": SM + "model/m"})
    stub.add_response("describe_endpoint", described("InService", "old-config"), {"EndpointName": ENDPOINT})
    stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": "old-config", "EndpointConfigArn": SM + "endpoint-config/old",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "old-model"}],
        "CreationTime": "2024-01-01T00:00:00Z"}, {"EndpointConfigName": "old-config"})
    stub.add_response("create_endpoint_config", {"EndpointConfigArn": SM + "endpoint-config/new"})
    recorded: dict[str, Any] = {}

    def update_endpoint_sees_the_records(**_kw: Any) -> None:
        recorded["run"] = runs.get("example-classifier", run_id)
        recorded["state"] = env["models"].get_state("example-classifier")

    hook = "provide-client-params.sagemaker.UpdateEndpoint"
    client("sagemaker").meta.events.register(hook, update_endpoint_sees_the_records)
    stub.add_response("update_endpoint", {"EndpointArn": SM + "endpoint/e"})
    event["comparison"]["pairedTest"] = {"method": "mcnemar", "pvalue": 2.7e-182}
    try:
        out = lambda_handler(event, CTX)
    finally:
        client("sagemaker").meta.events.unregister(hook, update_endpoint_sees_the_records)
    assert out["status"] == "Updating"
    assert recorded["run"]["deployment"]["status"] == "Switching"
    assert recorded["run"]["deployment"]["endpointConfigName"] == NEW
    assert recorded["run"]["comparison"]["pairedTest"]["pvalue"] == 0  # below DynamoDB's floor, noted
    assert recorded["run"]["numberNotes"]["comparison"]["$.pairedTest.pvalue"]["reason"] == "underflow"
    pending = recorded["state"]["pendingChampion"]
    assert (pending["modelName"], pending["runId"], pending["version"]) == (NEW, run_id, 2)
    assert recorded["state"]["champion"]["modelName"] == "initial"


def test_reconcile_aligns_the_records_with_what_the_endpoint_serves(env: dict[str, Any]) -> None:
    from driftline_common.store import LockStore, RunStore, retrain_lock_id

    event = load_event("deployer_reconcile.json")
    run_id, model = event["state"]["run"]["runId"], event["state"]["run"]["modelId"]
    settings = Settings.from_env()
    runs, locks, models, stub = RunStore(settings), LockStore(settings), env["models"], env["stub"]
    runs.start(model, run_id)
    models.put_state(model, {"champion": {"modelName": "initial"},
                             "pendingChampion": {"modelName": NEW, "runId": run_id, "version": 2}})
    locks.acquire(retrain_lock_id(model), run_id, ttl_seconds=3600)

    # still updating: nothing decided, the lock kept
    stub.add_response("describe_endpoint", described("Updating", "initial"), {"EndpointName": ENDPOINT})
    assert lambda_handler(copy.deepcopy(event), CTX)["deployed"] is None
    assert locks.holder(retrain_lock_id(model)) == run_id

    # serving the new model: champion, run and lock follow it; twice is the same as once
    for _ in range(2):
        stub.add_response("describe_endpoint", described("InService", NEW), {"EndpointName": ENDPOINT})
        out = lambda_handler(copy.deepcopy(event), CTX)
        assert out["deployed"] is True
        state = models.get_state(model)
        assert state["champion"]["endpointConfigName"] == NEW
        assert state["previousChampion"]["modelName"] == "initial"
        assert "pendingChampion" not in state
        assert runs.get(model, run_id)["deployment"]["status"] == "InService"
        assert locks.holder(retrain_lock_id(model)) is None


def test_reconcile_when_the_endpoint_kept_the_old_model(env: dict[str, Any]) -> None:
    event = load_event("deployer_reconcile.json")
    model, run_id = event["state"]["run"]["modelId"], event["state"]["run"]["runId"]
    env["models"].put_state(model, {"champion": {"modelName": "initial"},
                                    "pendingChampion": {"modelName": NEW, "runId": run_id}})
    env["stub"].add_response("describe_endpoint", described("InService", "initial"), {"EndpointName": ENDPOINT})
    out = lambda_handler(copy.deepcopy(event), CTX)
    assert (out["deployed"], out["servingEndpointConfigName"]) == (False, "initial")
    state = env["models"].get_state(model)
    assert state["champion"]["modelName"] == "initial"
    assert "pendingChampion" not in state
    # not a promoting run: nothing asked of SageMaker
    no_promotion = copy.deepcopy(event)
    no_promotion["state"]["comparison"]["promote"] = False
    assert lambda_handler(no_promotion, CTX) == {"deployed": False, "status": "NotDeploying"}
