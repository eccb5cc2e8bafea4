"""Every AWS call a function makes in a full offline run is allowed by its role in the deployed template.

IAM is not enforced offline, so a missing permission would only show on AWS (as the approval answers and the
alerts topic did). This runs the approval path end to end — registration through the API, two windows, a
retrain, the approval request on the encrypted alerts topic, the API's answer, the deployment, the baseline
refresh, the API's reads — records each boto3 call made inside a function invocation (and by the state
machine's tasks), maps it to the IAM action and resource AWS authorises (and the KMS use SNS makes on the
caller's behalf for an encrypted topic), and evaluates it against the caller's role in the SAM-translated
template with the stack's physical names.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import botocore.client
import pytest
from samlocal.lambda_runtime import FunctionSpec

from tests.conftest import load_event
from tests.template.iam_model import ACCOUNT, REGION, Stack, allows, as_list
from tests.workflow.conftest import MODEL_ID, TEMPLATE, Workflow, model_config
from tests.workflow.test_pipeline_more_paths import (
    api_approval,
    breach_first_window,
    start_window,
    wait_for_approval_request,
)
from tools.sam_translate import translate

_CURRENT = threading.local()
_IAM_PREFIX = {"stepfunctions": "states", "sagemaker-runtime": "sagemaker"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(function logical id, service, operation, params) of every boto3 call made inside a handler."""
    recorded: list[tuple[str, str, str, dict[str, Any]]] = []
    original_load = FunctionSpec.load
    original_call = botocore.client.BaseClient._make_api_call

    def load(self: FunctionSpec) -> Any:
        handler = original_load(self)

        def wrapped(event: Any, context: Any) -> Any:
            stack = _CURRENT.__dict__.setdefault("functions", [])
            stack.append(self.logical_id)
            try:
                return handler(event, context)
            finally:
                stack.pop()

        return wrapped

    def make_api_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        functions = getattr(_CURRENT, "functions", [])
        # outside a handler: the test itself (main thread) or the state machine's tasks (its execution threads)
        who = functions[-1] if functions else (
            None if threading.current_thread() is threading.main_thread() else "PipelineStateMachine")
        if who:
            # a streamed Body (file object) cannot be copied; the policy check needs only the resource fields
            fields = {k: v for k, v in params.items() if k != "Body"}
            recorded.append((who, self.meta.service_model.service_name, operation, copy.deepcopy(fields)))
        return original_call(self, operation, params)

    monkeypatch.setattr(FunctionSpec, "load", load)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return recorded


def _physical_names(wf: Workflow) -> dict[str, str]:
    names = {}
    for logical_id, res in wf.stack.resources.items():
        attrs = getattr(res, "attrs", {}) or {}
        name = attrs.get("TopicName") or attrs.get("QueueName") or attrs.get("Name") or res.ref
        if isinstance(name, str):
            names[logical_id] = name
    names["AlertsKey"] = wf.stack.resource("AlertsKey")
    return names


def authorisations(service: str, operation: str, params: dict[str, Any], model: Stack
                   ) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS checks for one API call."""
    r, a = REGION, ACCOUNT
    prefix = _IAM_PREFIX.get(service, service)
    if service == "s3":
        obj = f"arn:aws:s3:::{params.get('Bucket')}/{params.get('Key', '')}"
        if operation in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
            return [("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}")]
        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObject", obj)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [("s3:PutObject", obj)]
        return [(f"s3:{operation}", obj)]
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            tables = list(params["RequestItems"])
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            tables = [next(iter(item.values()))["TableName"] for item in params["TransactItems"]]
            operation = {"TransactWriteItems": "PutItem", "TransactGetItems": "GetItem"}[operation]
        else:
            tables = [params["TableName"]]
        out = []
        for t in tables:
            arn = f"arn:aws:dynamodb:{r}:{a}:table/{t}"
            out.append((f"dynamodb:{operation}", f"{arn}/index/{params['IndexName']}" if params.get("IndexName")
                        else arn))
        return out
    if service == "events" and operation == "PutEvents":
        buses = {e.get("EventBusName", "default") for e in params["Entries"]}
        return [("events:PutEvents", b if b.startswith("arn:") else f"arn:aws:events:{r}:{a}:event-bus/{b}")
                for b in buses]
    if service == "sns" and operation == "Publish":
        out = [("sns:Publish", params["TopicArn"])]
        for logical_id, props in model.of_type("AWS::SNS::Topic").items():
            if model.arn(logical_id) == params["TopicArn"] and props.get("KmsMasterKeyId"):
                key = model.key_arn(props["KmsMasterKeyId"])
                out += [("kms:GenerateDataKey", key), ("kms:Decrypt", key)]  # SNS uses the caller's rights
        return out
    if service == "cloudwatch" and operation in ("PutDashboard", "GetDashboard", "DeleteDashboards"):
        names = params.get("DashboardNames") or [params["DashboardName"]]
        return [(f"cloudwatch:{operation}", f"arn:aws:cloudwatch::{a}:dashboard/{n}") for n in names]
    if service == "cloudwatch" and operation in ("PutMetricAlarm", "DeleteAlarms", "DescribeAlarms"):
        # DescribeAlarms by prefix is checked against the alarms it may return (alarm ARNs)
        names = (params.get("AlarmNames") or ([params["AlarmName"]] if params.get("AlarmName") else None)
                 or [f"{params.get('AlarmNamePrefix', '')}*"])
        return [(f"cloudwatch:{operation}", f"arn:aws:cloudwatch:{r}:{a}:alarm:{n}") for n in names]
    if service == "lambda" and operation == "Invoke":
        fn = params["FunctionName"]
        return [("lambda:InvokeFunction", fn if fn.startswith("arn:") else f"arn:aws:lambda:{r}:{a}:function:{fn}")]
    if service == "stepfunctions":
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            return [(f"states:{operation}", "*")]
        arn = params.get("stateMachineArn") or params.get("executionArn") or "*"
        return [(f"states:{operation}", arn)]
    if service == "sagemaker":
        kinds = {"Model": ("model", "ModelName"), "EndpointConfig": ("endpoint-config", "EndpointConfigName"),
                 "Endpoint": ("endpoint", "EndpointName"), "TrainingJob": ("training-job", "TrainingJobName")}
        for suffix, (kind, key) in kinds.items():
            if operation.endswith(suffix) and key in params:
                out = [(f"sagemaker:{operation}", f"arn:aws:sagemaker:{r}:{a}:{kind}/{params[key].lower()}")]
                if params.get("ExecutionRoleArn") or params.get("RoleArn"):
                    out.append(("iam:PassRole", params.get("ExecutionRoleArn") or params["RoleArn"]))
                return out
        if operation == "AddTags":
            return [("sagemaker:AddTags", params["ResourceArn"])]
        if operation in ("CreateModelPackageGroup", "DescribeModelPackageGroup"):
            return [(f"sagemaker:{operation}",
                     f"arn:aws:sagemaker:{r}:{a}:model-package-group/{params['ModelPackageGroupName'].lower()}")]
        if operation == "CreateModelPackage":  # a version of the group: model-package/<group>/<version>
            group = params["ModelPackageGroupName"].lower()
            return [("sagemaker:CreateModelPackage", f"arn:aws:sagemaker:{r}:{a}:model-package/{group}/1")]
        if operation == "ListModelPackages":  # a group's versions: authorised on model-package/<group>/*
            return [("sagemaker:ListModelPackages",
                     f"arn:aws:sagemaker:{r}:{a}:model-package/{params['ModelPackageGroupName'].lower()}/*")]
        if operation in ("DescribeModelPackage", "UpdateModelPackage"):
            name = params.get("ModelPackageArn") or params["ModelPackageName"]
            return [(f"sagemaker:{operation}",
                     name if name.startswith("arn:") else f"arn:aws:sagemaker:{r}:{a}:model-package/{name.lower()}")]
    return [(f"{prefix}:{operation}", "*")]


def test_every_call_of_every_function_is_allowed_by_its_role(calls: list[Any], workflow: Workflow) -> None:
    wf = workflow
    # registration through the API (PUT), with approval required so that every function and path runs
    put = copy.deepcopy(load_event("api_put_model.json"))
    cfg = model_config(wf.bucket)
    cfg["promotion"] = {**cfg["promotion"], "requireApproval": True}
    put["body"] = json.dumps(cfg)
    assert wf.stack.invoke("ApiFunction", put)["statusCode"] in (200, 201)
    breach_first_window(wf)
    arn = start_window(wf, 11, "day11")
    wait_for_approval_request(wf, arn, "day11")
    status, _ = api_approval(wf, "day11", {"approved": True, "comment": "challenger wins"})
    assert status == 200
    execution = wf.stack.wait_execution(arn, timeout=60)
    assert execution["status"] == "SUCCEEDED", execution
    for name in ("api_list_models.json", "api_get_model.json", "api_list_runs.json", "api_get_run.json",
                 "api_get_metrics.json"):
        event = json.loads(json.dumps(load_event(name)).replace("run-2024-05-02", "day11"))
        if event.get("pathParameters", {}).get("runId"):
            event["pathParameters"]["runId"] = "day11"
            event["rawPath"] = event["requestContext"]["http"]["path"] = f"/models/{MODEL_ID}/runs/day11"
        assert wf.stack.invoke("ApiFunction", event)["statusCode"] == 200, name
    # the trigger router on ground truth of a model that is not registered: it looks the models up, starts nothing
    landed = load_event("trigger_s3_ground_truth.json")
    landed["detail"]["bucket"]["name"] = wf.bucket
    landed["detail"]["object"]["key"] = "ground-truth/not-registered/2024/05/01/23/labels.jsonl"
    assert wf.stack.invoke("TriggerRouterFunction", landed)["models"] == []

    raw = translate(TEMPLATE, {"Stage": "local"})
    model = Stack(raw, {"Stage": "local"}, names=_physical_names(wf))
    role_of = {fn: props["Role"]["Fn::GetAtt"][0] for fn, props in
               ((k, v["Properties"]) for k, v in raw["Resources"].items() if v["Type"] == "AWS::Lambda::Function")}
    role_of["PipelineStateMachine"] = raw["Resources"]["PipelineStateMachine"]["Properties"]["RoleArn"][
        "Fn::GetAtt"][0]
    denied: set[str] = set()
    checked: dict[str, set[str]] = {}
    for function, service, operation, params in calls:
        statements = model.role_statements(role_of[function])
        for action, resource in authorisations(service, operation, params, model):
            checked.setdefault(function, set()).add(action)
            if not allows(statements, action, resource):
                denied.add(f"{function}: {action} on {resource}")
    assert not denied, "denied on AWS:\n" + "\n".join(sorted(denied))
    # the run went through every function, and the calls that matter were seen and checked
    assert set(checked) == set(role_of)
    assert {"s3:PutObject", "s3:GetObject", "s3:ListBucket"} <= checked["MetricEvaluatorFunction"]
    assert {"sns:Publish", "kms:GenerateDataKey", "dynamodb:UpdateItem"} <= checked["RetrainLauncherFunction"]
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "states:SendTaskSuccess"} <= checked["ApiFunction"]
    assert {"sagemaker:CreateModel", "iam:PassRole", "sagemaker:CreateModelPackage",
            "sagemaker:ListModelPackages"} <= checked["DeployerFunction"]
    assert "sagemaker:UpdateModelPackage" in checked["ApiFunction"]  # the API's answer sets the version's status
    assert "sagemaker:DescribeModelPackage" in checked["RetrainLauncherFunction"]  # the state change event
    assert {"lambda:InvokeFunction", "sagemaker:CreateTrainingJob", "iam:PassRole"} <= checked["PipelineStateMachine"]
    assert all(as_list(a) for a in checked.values())
