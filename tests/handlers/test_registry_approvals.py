"""Approvals from anywhere: a Model Registry status change answers the waiting run (task token) exactly as the API
does, the API's answer sets the version's status, and an approved version nothing waits for becomes a run with
trigger ``approval`` — once. Moto for DynamoDB/SageMaker/EventBridge; Step Functions' ``SendTaskSuccess`` through
botocore's Stubber (which checks the request against the service model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from deployer.approved import prepare_approved
from deployer.handler import lambda_handler as deployer
from driftline_common import approvals
from driftline_common import model_registry as mr
from driftline_common.aws import client
from driftline_common.contracts import parse_event
from driftline_common.contracts.deployer import PrepareApproved
from driftline_common.errors import DeploymentFailed, RetrainInProgress
from driftline_common.settings import Settings
from driftline_common.store import LockStore, retrain_lock_id
from retrain_launcher.handler import lambda_handler as launcher

from tests.conftest import load_event
from tests.handlers._support import bus_recorder, drain
from tests.handlers.test_registry import CTX, MODEL, reg, register_event  # noqa: F401  (fixture)

TOKEN = "token-" + "x" * 40


@pytest.fixture
def waiting(reg: dict[str, Any], stack_env: dict[str, str]) -> Iterator[dict[str, Any]]:  # noqa: F811
    """Run ``run-w`` registered a PendingManualApproval version and waits in WaitForApproval."""
    reg["runs"].start(MODEL, "run-w")  # start_run records the run before any step writes to it
    out = deployer(register_event("run-w", requireApproval=True), CTX)
    launcher({"action": "request_approval", "run": {"modelId": MODEL, "runId": "run-w"}, "taskToken": TOKEN,
              "comparison": {"metric": "roc_auc"}, "registration": out}, CTX)
    with Stubber(client("stepfunctions")) as sfn:
        yield {**reg, "arn": out["modelPackageArn"], "sfn": sfn, "bus": bus_recorder(stack_env["EVENT_BUS_NAME"])}


def state_change(arn: str, status: str) -> dict[str, Any]:
    """The retrain launcher's input as the ModelPackageStateChanged rule's InputTransformer builds it."""
    return {"action": "package_state_change", "event": {
        "version": "0", "id": "e-1", "detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
        "account": "123456789012", "time": "2024-05-02T01:00:00Z", "region": "us-east-1", "resources": [arn],
        "detail": {"ModelPackageGroupName": "driftline-example-classifier", "ModelPackageArn": arn,
                   "ModelApprovalStatus": status}}}


def studio(sm: Any, arn: str, status: str, description: str | None = None) -> None:
    """``UpdateModelPackage`` as SageMaker Studio sends it. Plain moto (no offline runtime) drops the metadata a
    request does not restate, so it is restated here (SageMaker keeps it; offline, the sagemaker_model_registry
    extension does: tests/offline/test_moto_ext_registry.py)."""
    mr.update(sm, arn, status=status, description=description)


def expect_success(sfn: Stubber, approved: bool, by: Any = None, comment: Any = None) -> None:
    sfn.add_response("send_task_success", {}, {
        "taskToken": TOKEN, "output": json.dumps({"approved": approved, "by": by, "comment": comment})})


def test_approving_the_version_in_the_registry_answers_the_waiting_run(waiting: dict[str, Any]) -> None:
    arn = waiting["arn"]
    assert waiting["runs"].get(MODEL, "run-w")["approval"]["modelPackageArn"] == arn
    studio(waiting["sm"], arn, "Approved", "looks good")
    described = waiting["sm"].describe_model_package(ModelPackageName=arn)
    expect_success(waiting["sfn"], True, approvals_by(described), "looks good")
    out = launcher(state_change(arn, "Approved"), CTX)
    assert (out["outcome"], out["approval"]) == ("answered", "APPROVED")
    run = waiting["runs"].get(MODEL, "run-w")
    assert (run["approval"]["status"], run["approval"]["source"]) == ("APPROVED", "registry")
    assert run.get("approvalToken") is None
    # the same event delivered again (EventBridge delivers at least once): nothing sent twice
    again = launcher(state_change(arn, "Approved"), CTX)
    assert again["outcome"] == "ignored"
    waiting["sfn"].assert_no_pending_responses()
    assert drain(waiting["bus"]) == []  # and no run requested: the waiting run deploys it


def approvals_by(described: dict[str, Any]) -> str:
    by = described.get("LastModifiedBy") or {}
    return str(by.get("UserProfileName") or "SageMaker Model Registry")


def test_rejecting_in_the_registry_rejects_the_run(waiting: dict[str, Any]) -> None:
    arn = waiting["arn"]
    studio(waiting["sm"], arn, "Rejected")
    described = waiting["sm"].describe_model_package(ModelPackageName=arn)
    expect_success(waiting["sfn"], False, approvals_by(described), described.get("ApprovalDescription"))
    assert launcher(state_change(arn, "Rejected"), CTX)["approval"] == "REJECTED"
    assert waiting["runs"].get(MODEL, "run-w")["approval"]["status"] == "REJECTED"


def test_the_api_answer_sets_the_version_status_and_the_registry_event_is_then_ignored(
        waiting: dict[str, Any]) -> None:
    from api.handler import lambda_handler as api

    event = load_event("api_approve_run.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/models/{MODEL}/runs/run-w/approval"
    event["pathParameters"] = {"modelId": MODEL, "runId": "run-w"}
    event["body"] = json.dumps({"approved": True, "comment": "ship it"})
    expect_success(waiting["sfn"], True, "arn:aws:iam::123456789012:user/ml-engineer", "ship it")
    response = api(event, CTX)
    assert response["statusCode"] == 200, response["body"]
    package = waiting["sm"].describe_model_package(ModelPackageName=waiting["arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert "ship it" in package["ApprovalDescription"]
    assert package["CustomerMetadataProperties"]["driftline:runId"] == "run-w"  # lineage kept
    # SageMaker's state change event for that update: the run is answered and still running — nothing to do
    out = launcher(state_change(waiting["arn"], "Approved"), CTX)
    assert out["outcome"] == "ignored"
    assert drain(waiting["bus"]) == []


def test_concurrent_answers_reach_step_functions_once(waiting: dict[str, Any]) -> None:
    # another answer holds the claim (it is between its conditional write and SendTaskSuccess)
    waiting["runs"].table.update_item(Key={"modelId": MODEL, "runId": "run-w"},
                                      UpdateExpression="SET approvalClaim = :c", ExpressionAttributeValues={":c": "x"})
    with pytest.raises(approvals.ApprovalNotPending, match="being answered"):
        approvals.answer(waiting["runs"], MODEL, "run-w", approved=True, by="a", comment=None, source="api")
    waiting["sfn"].assert_no_pending_responses()  # no SendTaskSuccess was made


def test_an_approved_version_nothing_waits_for_requests_one_deploying_run(reg: dict[str, Any],  # noqa: F811
                                                                          stack_env: dict[str, str]) -> None:
    bus = bus_recorder(stack_env["EVENT_BUS_NAME"])
    reg["runs"].start(MODEL, "run-lost")
    out = deployer(register_event("run-lost", promote=False), CTX)  # the challenger lost: Rejected
    reg["runs"].update(MODEL, "run-lost", status="SUCCEEDED")
    assert launcher(state_change(out["modelPackageArn"], "Rejected"), CTX)["outcome"] == "ignored"
    # a person approves it in Studio later: a run with trigger approval is requested
    studio(reg["sm"], out["modelPackageArn"], "Approved")
    requested = launcher(state_change(out["modelPackageArn"], "Approved"), CTX)
    assert requested["outcome"] == "run_requested"
    [event] = drain(bus)
    assert event["detail-type"] == "Run Requested"
    assert event["detail"]["trigger"]["type"] == "approval"
    assert event["detail"]["modelPackageArn"] == out["modelPackageArn"]
    # the run starts once per version: a second delivery (or a concurrent approval) claims the same trigger
    first = launcher({"action": "start_run", "runId": "appr-1", "request": event}, CTX)
    second = launcher({"action": "start_run", "runId": "appr-2", "request": event}, CTX)
    assert (first["duplicate"], first["modelPackageArn"]) == (False, out["modelPackageArn"])
    assert (second["duplicate"], second["duplicateOf"]) == (True, "appr-1")
    # PrepareApprovedDeployment: the version's state for Deploy, under the model's lock
    state = deployer({"action": "prepare_approved", "run": first}, CTX)
    assert state["registration"]["modelPackageArn"] == out["modelPackageArn"]
    assert state["training"]["modelArtifacts"] == register_event()["training"]["modelArtifacts"]
    assert state["comparison"]["promote"] is True
    assert state["decision"]["training"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"].endswith(
        "/run-lost/train/")
    locks = LockStore(Settings.from_env())
    with pytest.raises(RetrainInProgress):
        locks.acquire(retrain_lock_id(MODEL), "another-run", ttl_seconds=60)
    # versions that were deployed, are the champion, or belong to no Driftline model are not redeployed
    champion_arn = reg["models"].get_state(MODEL)["champion"]["modelPackageArn"]
    assert launcher(state_change(champion_arn, "Approved"), CTX)["reason"] == "already the champion"


def test_prepare_refuses_a_version_no_longer_approved_or_of_another_model(reg: dict[str, Any]) -> None:  # noqa: F811
    out = deployer(register_event("run-x", promote=False), CTX)
    run = {"modelId": MODEL, "runId": "appr-x", "modelPackageArn": out["modelPackageArn"]}
    event = parse_event({"action": "prepare_approved", "run": run}, PrepareApproved)
    models, locks = reg["models"], LockStore(Settings.from_env())
    with pytest.raises(DeploymentFailed, match="no longer Approved"):
        prepare_approved(event, models, locks)
    other = parse_event({"action": "prepare_approved", "run": {**run, "modelId": "other-model"}}, PrepareApproved)
    with pytest.raises(DeploymentFailed, match="not a version of"):
        prepare_approved(other, models, locks)
    assert locks.table.get_item(Key={"lockId": retrain_lock_id(MODEL)}).get("Item") is None
