"""More of the pipeline's paths, end to end on the real ``template.yaml`` and ASL, offline.

- human approval (``promotion.requireApproval``): the execution parks in ``WaitForApproval`` with the task
  token on the run record until ``POST /models/{id}/runs/{runId}/approval`` (the API function) answers it;
  approved → deployed, rejected → the champion is kept;
- automatic rollback: a rollback alarm of ``deployment.rollbackAlarms`` in ALARM when the endpoint switches
  makes ``UpdateEndpoint`` roll back; the run completes ``rolled_back`` and the champion stays;
- the same ``Run Requested`` delivered to two executions running at the same time: exactly one does the work.

Traffic and set-up as in ``test_pipeline_paths``: day 10 of the ``drift`` scenario breaches once (no retrain
with ``consecutiveBreaches: 2``), day 11 breaches again and retrains; a challenger trained on day 10 beats the
champion on day 11.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from driftline_examples import traffic
from sklearn.metrics import roc_auc_score

from tests.conftest import load_event

from .conftest import CHAMPION_MODEL, ENDPOINT, MODEL_ID, Workflow, day_files, model_config

LOCK = f"retrain#{MODEL_ID}"
BRANCH_STATES = {"Evaluate", "CheckDrift"}
#: the Choice each branch starts with (unsharded runs go on to Evaluate / CheckDrift)
BRANCH_CHOICES = {"EvaluateSharded", "CheckDriftSharded"}
UP_TO_PROMOTION = ["StartRun", "IsDuplicate", "Assess", "Monitor", "Decide", "ShouldRetrain", "Train",
                   "ScoreChallenger", "RegisterVersion", "ShouldPromote"]
ROLLBACK_ALARM = "driftline-example-classifier-5xx"


# ------------------------------------------------------------------------------------------------ helpers
def main_line(wf: Workflow, arn: str) -> list[str]:
    return [s for s in wf.states(arn) if s not in BRANCH_STATES | BRANCH_CHOICES]


def output(execution: dict[str, Any]) -> dict[str, Any]:
    return json.loads(execution.get("output") or "null")


def register(wf: Workflow, **overrides: Any) -> None:
    """Store a new version of the model config (the fixture's, with ``overrides`` merged into its sections)."""
    cfg = model_config(wf.bucket)
    for section, values in overrides.items():
        cfg[section] = {**cfg[section], **values}
    wf.register(cfg)


def breach_first_window(wf: Workflow) -> None:
    """Day 10 of drift: breached, not yet sustained (no retrain)."""
    wf.write_day("drift", 10)
    wf.write_day("drift", 11)
    first = wf.run_window(10, name="day10")
    assert first["status"] == "SUCCEEDED", first
    assert output(first)["decision"]["reasons"][-1] == "BREACH_NOT_SUSTAINED"
    assert wf.training_jobs() == []


def start_window(wf: Workflow, d: int, name: str) -> str:
    """Start (without waiting) the run of day ``d``'s window, an hour after the day ended."""
    end = traffic.day_start(d + 1)
    wf.clock.set(end + timedelta(hours=1))
    return wf.stack.start_execution({"modelId": MODEL_ID, "windowEnd": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
                                    name=name)


def wait_for_approval_request(wf: Workflow, arn: str, run_id: str, timeout: float = 60.0
                              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Poll until ``WaitForApproval``'s ``request_approval`` returned (``TaskSubmitted`` in the history).

    Returns the run record and the function's result. The execution must stay RUNNING meanwhile.
    """
    sfn = wf.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        assert status == "RUNNING", f"the execution ended ({status}) instead of waiting for an approval"
        submitted = [e["taskSubmittedEventDetails"] for e in wf.stack.history(arn) if e["type"] == "TaskSubmitted"
                     and e["taskSubmittedEventDetails"]["resource"] == "invoke.waitForTaskToken"]
        if submitted:
            return wf.runs()[run_id], json.loads(submitted[0]["output"])["Payload"]
        assert time.monotonic() < deadline, f"no approval request after {timeout} s: {main_line(wf, arn)}"
        time.sleep(0.02)


def api_approval(wf: Workflow, run_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``POST /models/{modelId}/runs/{runId}/approval`` through the API function (API Gateway v2 event)."""
    event = copy.deepcopy(load_event("api_approve_run.json"))
    path = f"/models/{MODEL_ID}/runs/{run_id}/approval"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"modelId": MODEL_ID, "runId": run_id}
    event["body"] = json.dumps(body)
    response = wf.stack.invoke("ApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def alert_messages(wf: Workflow) -> list[dict[str, Any]]:
    return [json.loads(a["Message"]) if "Message" in a else a for a in wf.alerts()]


def endpoint_config(wf: Workflow) -> str:
    return wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]


def assert_serves_champion(wf: Workflow) -> None:
    """The endpoint answers with the champion's scores (the captured ones, computed at set-up)."""
    _, _, _, champion_scores = day_files("drift", 11)
    X11 = traffic.day(11, 600, traffic.DRIFT).X
    served = wf.invoke_endpoint(X11[:5])
    assert served == pytest.approx(champion_scores[:5], rel=1e-9)


# ---------------------------------------------------------------------------------------------------- 1
def test_approval_required_waits_for_the_api_then_deploys(workflow: Workflow) -> None:
    wf = workflow
    register(wf, promotion={"requireApproval": True})
    breach_first_window(wf)
    arn = start_window(wf, 11, "day11")

    # parked in WaitForApproval: RUNNING, the token on the run, an approval request on the alerts topic
    run, requested = wait_for_approval_request(wf, arn, "day11")
    assert requested == {"modelId": MODEL_ID, "runId": "day11", "notified": True}
    assert main_line(wf, arn)[-2:] == ["ShouldPromote", "WaitForApproval"]
    assert main_line(wf, arn)[:-1] == UP_TO_PROMOTION
    assert run["status"] == "RUNNING"
    assert run["approval"]["status"] == "PENDING"
    comparison = run["approval"]["comparison"]
    _, _, y11, champion_scores = day_files("drift", 11)
    assert comparison["champion"] == pytest.approx(roc_auc_score(y11, champion_scores), abs=1e-9)
    assert comparison["challenger"] > comparison["champion"]
    # the token stored on the run is the one Step Functions handed to the task
    [scheduled] = [e["taskScheduledEventDetails"] for e in wf.stack.history(arn) if e["type"] == "TaskScheduled"
                   and e["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"]
    token = json.loads(scheduled["parameters"])["Payload"]["taskToken"]
    assert token
    assert run["approvalToken"] == token
    [alert] = alert_messages(wf)
    assert (alert["modelId"], alert["runId"]) == (MODEL_ID, "day11")
    assert alert["approve"].startswith(f"POST /models/{MODEL_ID}/runs/day11/approval")
    assert alert["comparison"] == comparison
    # nothing deployed while waiting; the lock is held by the run
    assert endpoint_config(wf) == CHAMPION_MODEL
    assert wf.locks()[LOCK]["owner"] == "day11"
    # the API never returns the token
    got = wf.stack.invoke("ApiFunction", {**load_event("api_get_run.json"),
                                          "rawPath": f"/models/{MODEL_ID}/runs/day11",
                                          "pathParameters": {"modelId": MODEL_ID, "runId": "day11"}})
    assert got["statusCode"] == 200
    assert "approvalToken" not in json.loads(got["body"])
    time.sleep(0.2)
    assert wf.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"

    # approve through the API → SendTaskSuccess → Deploy → ... → SUCCEEDED
    status, body = api_approval(wf, "day11", {"approved": True, "comment": "challenger wins"})
    assert status == 200, body
    assert body["approval"]["status"] == "APPROVED"
    assert body["approval"]["approved"] is True
    assert body["approval"]["by"] == "arn:aws:iam::123456789012:user/ml-engineer"
    execution = wf.stack.wait_execution(arn, timeout=60)

    assert execution["status"] == "SUCCEEDED", execution
    assert main_line(wf, arn) == [*UP_TO_PROMOTION, "WaitForApproval", "IsApproved", "ChooseRemedy", "Deploy",
                                  "WaitForDeployment", "CheckDeployment", "IsDeployed", "RefreshBaseline",
                                  "Complete", "Report", "Succeeded"]
    result = output(execution)
    assert result["outcome"] == "deployed"
    deployment = result["deployment"]
    assert deployment["status"] == "InService"
    assert endpoint_config(wf) == deployment["endpointConfigName"] != CHAMPION_MODEL
    state = wf.model_state()
    assert state["champion"]["modelName"] == deployment["modelName"]
    assert state["previousChampion"]["modelName"] == CHAMPION_MODEL
    run = wf.runs()["day11"]
    assert (run["status"], run["outcome"]) == ("SUCCEEDED", "deployed")
    assert run["approval"]["status"] == "APPROVED"
    assert run.get("approvalToken") is None
    assert LOCK not in wf.locks()
    assert len(wf.events_of("Model Deployed", "day11")) == 1

    # a second answer is refused: the run no longer waits
    status, body = api_approval(wf, "day11", {"approved": False})
    assert status == 409
    assert body["error"] == "ApprovalNotPending"

    # the API's answer is the version's status in the Model Registry (one source of truth)
    sm = wf.client("sagemaker")
    version = sm.describe_model_package(ModelPackageName=run["approval"]["modelPackageArn"])
    assert version["ModelApprovalStatus"] == "Approved"
    assert "challenger wins" in version["ApprovalDescription"]
    assert version["CustomerMetadataProperties"]["driftline:deployedBy"] == "day11"

    # approving the initial champion's version again in the registry (nothing waits for it) deploys it: a run
    # with trigger 'approval' started by SageMaker's state change event
    [initial] = [p for p in sm.list_model_packages(ModelPackageGroupName=f"driftline-{MODEL_ID}")[
        "ModelPackageSummaryList"] if p["ModelPackageVersion"] == 1]
    before = len(wf.stack.runtime.started_executions)
    sm.update_model_package(ModelPackageArn=initial["ModelPackageArn"], ModelApprovalStatus="Approved",
                            ApprovalDescription="back to the champion")
    deadline = time.monotonic() + 30
    while len(wf.stack.runtime.started_executions) == before:
        assert time.monotonic() < deadline, "no run started by the approval"
        time.sleep(0.05)
    started = wf.stack.runtime.started_executions[before:]
    assert len(started) == 1, [wf.stack.wait_execution(a, timeout=60) for a in started]
    approval_arn = started[0]
    approval_run = wf.stack.wait_execution(approval_arn, timeout=60)
    assert approval_run["status"] == "SUCCEEDED", approval_run
    assert main_line(wf, approval_arn) == ["StartRun", "IsDuplicate", "PrepareApprovedDeployment", "Deploy",
                                           "WaitForDeployment", "CheckDeployment", "IsDeployed", "RefreshBaseline",
                                           "Complete", "Report", "Succeeded"]
    assert output(approval_run)["outcome"] == "deployed"
    assert_serves_champion(wf)
    state = wf.model_state()
    assert state["champion"]["modelPackageArn"] == initial["ModelPackageArn"]
    [approval_record] = [r for r in wf.runs().values() if (r.get("trigger") or {}).get("type") == "approval"]
    assert approval_record["trigger"]["id"].startswith(f"approval:{initial['ModelPackageArn']}:")
    assert LOCK not in wf.locks()


def test_rejected_approval_keeps_the_champion(workflow: Workflow) -> None:
    wf = workflow
    register(wf, promotion={"requireApproval": True})
    breach_first_window(wf)
    arn = start_window(wf, 11, "day11")
    wait_for_approval_request(wf, arn, "day11")

    # rejected in the Model Registry (Studio, `aws sagemaker update-model-package`): the run is answered exactly as
    # through the API (its task token), by SageMaker's state change event
    version = wf.runs()["day11"]["approval"]["modelPackageArn"]
    wf.client("sagemaker").update_model_package(ModelPackageArn=version, ModelApprovalStatus="Rejected",
                                                ApprovalDescription="not this week")
    execution = wf.stack.wait_execution(arn, timeout=60)

    assert execution["status"] == "SUCCEEDED", execution
    assert main_line(wf, arn) == [*UP_TO_PROMOTION, "WaitForApproval", "IsApproved", "Complete", "Report", "Succeeded"]
    result = output(execution)
    assert result["outcome"] == "rejected"
    assert result["deployment"] is None
    # one challenger trained, never deployed: the champion serves and stays recorded
    assert len(wf.training_jobs()) == 1
    assert endpoint_config(wf) == CHAMPION_MODEL
    assert_serves_champion(wf)
    state = wf.model_state()
    assert state["champion"]["modelName"] == CHAMPION_MODEL
    assert "previousChampion" not in state
    assert state["lastTrainingJob"] == wf.training_jobs()[0]
    run = wf.runs()["day11"]
    assert (run["status"], run["outcome"]) == ("SUCCEEDED", "rejected")
    assert run["approval"]["status"] == "REJECTED"
    assert (run["approval"]["comment"], run["approval"]["source"]) == ("not this week", "registry")
    assert LOCK not in wf.locks()
    assert wf.events_of("Model Deployed") == []
    assert [e["outcome"] for e in wf.events_of("Evaluation Completed", "day11")] == ["rejected"]
    assert wf.stack.runtime.sagemaker.deployments == []  # UpdateEndpoint never called


# ---------------------------------------------------------------------------------------------------- 2
def test_rollback_alarm_in_alarm_rolls_the_deployment_back(workflow: Workflow) -> None:
    wf = workflow
    register(wf, deployment={"rollbackAlarms": [ROLLBACK_ALARM]})
    breach_first_window(wf)
    cw = wf.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=ROLLBACK_ALARM, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cw.set_alarm_state(AlarmName=ROLLBACK_ALARM, StateValue="ALARM", StateReason="5xx on the canary")
    assert cw.describe_alarms(AlarmNames=[ROLLBACK_ALARM])["MetricAlarms"][0]["StateValue"] == "ALARM"
    execution = wf.run_window(11, name="day11")
    # only the test's executions (offline, an alarm state change is not routed to the trigger router)
    listed = wf.client("stepfunctions").list_executions(stateMachineArn=wf.stack.state_machine_arn)["executions"]
    assert sorted(e["name"] for e in listed) == ["day10", "day11"]

    assert execution["status"] == "SUCCEEDED", execution
    arn = execution["executionArn"]
    assert main_line(wf, arn) == [*UP_TO_PROMOTION, "ChooseRemedy", "Deploy", "WaitForDeployment", "CheckDeployment",
                                  "IsDeployed", "Complete", "Report", "Succeeded"]
    result = output(execution)
    assert result["outcome"] == "rolled_back"
    deployment = result["deployment"]
    assert deployment["status"] == "RolledBack"
    assert ROLLBACK_ALARM in deployment["reason"]
    assert deployment["previousEndpointConfigName"] == CHAMPION_MODEL

    # UpdateEndpoint was asked with the alarm as an auto-rollback alarm, and rolled back
    [switch] = [d for d in wf.stack.runtime.sagemaker.deployments if d["endpoint"] == ENDPOINT]
    assert switch["to"] == deployment["endpointConfigName"]
    assert switch["deployment_config"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": ROLLBACK_ALARM}]}
    assert switch["status"] == "RolledBack"

    # the endpoint still serves the champion's config; the champion is not replaced
    endpoint = wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == CHAMPION_MODEL
    assert_serves_champion(wf)
    state = wf.model_state()
    assert state["champion"]["modelName"] == CHAMPION_MODEL
    assert state["champion"]["version"] == 1
    assert "previousChampion" not in state

    run = wf.runs()["day11"]
    assert (run["status"], run["outcome"]) == ("SUCCEEDED", "rolled_back")
    assert run["deployment"]["status"] == "RolledBack"
    assert LOCK not in wf.locks()
    [rolled_back] = wf.events_of("Deployment Rolled Back", "day11")
    assert rolled_back["currentEndpointConfigName"] == CHAMPION_MODEL
    assert rolled_back["endpointConfigName"] == deployment["endpointConfigName"]
    assert ROLLBACK_ALARM in rolled_back["reason"]
    assert wf.events_of("Model Deployed") == []
    assert wf.events_of("Run Failed") == []


# ---------------------------------------------------------------------------------------------------- 3
def test_concurrent_duplicate_triggers_do_the_work_once(workflow: Workflow) -> None:
    wf = workflow
    breach_first_window(wf)
    wf.clock.set(traffic.day_start(12))
    sample = load_event("trigger_run_requested.json")
    entry = {
        "EventBusName": wf.stack.resource("EventBus"), "Source": sample["source"],
        "DetailType": sample["detail-type"], "Resources": sample["resources"],
        "Detail": {**sample["detail"], "trigger": {"type": "schedule", "id": "tick-2026-01-17",
                                                     "time": "2026-01-17T00:00:00Z"}},
    }
    before = len(wf.stack.runtime.started_executions)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def deliver() -> None:
        barrier.wait()
        results.append(wf.stack.put_events([entry]))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r["FailedEntryCount"] for r in results] == [0, 0]
    arns = wf.stack.runtime.started_executions[before:]
    assert len(arns) == 2
    executions = [wf.stack.wait_execution(a, timeout=60) for a in arns]
    assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]

    lines = {a: main_line(wf, a) for a in arns}
    duplicates = [a for a in arns if lines[a] == ["StartRun", "IsDuplicate", "DuplicateTrigger"]]
    workers = [a for a in arns if a not in duplicates]
    assert len(duplicates) == 1, lines
    assert len(workers) == 1, lines
    worker, duplicate = workers[0], duplicates[0]
    worker_name, duplicate_name = (a.rsplit(":", 1)[-1] for a in (worker, duplicate))
    assert "Train" in lines[worker]
    dup_run = output(next(e for e in executions if e["executionArn"] == duplicate))["run"]
    assert (dup_run["duplicate"], dup_run["duplicateOf"]) == (True, worker_name)

    assert len(wf.training_jobs()) == 1
    runs = wf.runs()
    assert runs[worker_name]["outcome"] == "deployed"
    assert duplicate_name not in runs
    assert wf.locks()[f"trigger#{MODEL_ID}#tick-2026-01-17"]["owner"] == worker_name
    assert LOCK not in wf.locks()
    assert len(wf.events_of("Retrain Started")) == 1
    assert len(wf.events_of("Model Deployed")) == 1
