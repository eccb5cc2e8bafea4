"""Contract tests on template.yaml and the state machine definition."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.conftest import ROOT, create_stack_resources

TEMPLATE = ROOT / "template.yaml"
ASL = ROOT / "statemachines" / "pipeline.asl.json"
LAMBDA_TRANSIENT = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    return tpl


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return json.loads(ASL.read_text())


def resources(tpl: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == kind}


def iter_states(states: dict[str, Any]):
    for name, st in states.items():
        yield name, st
        for branch in st.get("Branches", []):
            yield from iter_states(branch["States"])
        if "ItemProcessor" in st:
            yield from iter_states(st["ItemProcessor"]["States"])


@pytest.mark.slow
def test_cfn_lint_is_clean() -> None:
    """``slow``: ``make test`` runs cfn-lint over the same template as a step of its own (``make cfn-lint``: these
    rules plus the serverless ones, failing on warnings too); ``make test-slow`` keeps the
    in-process check (6.5 CPU-s under coverage)."""
    from cfnlint.api import lint_all

    matches = lint_all(TEMPLATE.read_text())
    problems = [str(m) for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


def test_stage_parameter_has_allowed_values(template: dict[str, Any]) -> None:
    stage = template["Parameters"]["Stage"]
    assert set(stage["AllowedValues"]) >= {"dev", "prod", "local"}


def test_globals_runtime_and_powertools(template: dict[str, Any]) -> None:
    fn = template["Globals"]["Function"]
    assert fn["Runtime"] == "python3.11"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Tracing"] == "Active"
    assert "POWERTOOLS_METRICS_NAMESPACE" in fn["Environment"]["Variables"]


def test_substitutions_match_placeholders(template: dict[str, Any]) -> None:
    sm = template["Resources"]["PipelineStateMachine"]["Properties"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    assert placeholders == set(sm["DefinitionSubstitutions"])
    # no ARN or account id written into the definition itself
    assert "arn:aws:lambda" not in ASL.read_text()
    assert not re.search(r"\b\d{12}\b", ASL.read_text())


def test_every_lambda_task_retries_transient_errors_and_is_caught(asl: dict[str, Any]) -> None:
    tasks = [(n, s) for n, s in iter_states(asl["States"]) if s["Type"] == "Task"]
    lambda_tasks = [(n, s) for n, s in tasks if "Function" in s["Resource"] or "lambda:invoke" in s["Resource"]]
    assert len(lambda_tasks) >= 8
    for name, st in lambda_tasks:
        retried = {e for r in st.get("Retry", []) for e in r["ErrorEquals"]}
        assert retried >= LAMBDA_TRANSIENT, name
        for r in st["Retry"]:
            assert r.get("BackoffRate", 1) > 1, name
    failure_path = {"RecordFailure", "NotifyFailure", "PublishRunFailed", "ReconcileDeployment"}
    # at and after the endpoint switch a failure first reconciles the records with what the endpoint serves
    after_switch = {"Deploy", "CheckDeployment", "Complete"}
    # tasks inside the Assess branches (and their Distributed Map children) are caught by Assess itself
    parallel_branch_tasks = {n for branch in asl["States"]["Assess"]["Branches"]
                             for n, s in iter_states(branch["States"]) if s["Type"] == "Task"}
    assert parallel_branch_tasks == {"Evaluate", "CheckDrift", "EvaluateShard", "ReduceEvaluation",
                                     "CheckDriftShard", "ReduceDrift"}
    for name, st in tasks:
        if name in parallel_branch_tasks:
            continue
        if name == "RefreshBaseline":
            # after a successful deployment: a failure is recorded on the run, it does not fail the deployment
            assert st["Catch"][0]["Next"] == "Complete"
            continue
        if name == "Monitor":
            # data quality / operational / bias: a failure of the step never stops the model-quality decision
            assert st["Catch"][0]["Next"] == "Decide"
            continue
        if name == "Tune":
            # a failed tuning job becomes a TrainingFailed naming the objective metric first (docs/tuning.md)
            assert st["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TuningFailed"}]
            assert asl["States"]["TuningFailed"]["Catch"][-1]["Next"] == "RecordFailure"
            continue
        if name in ("Report", "ReportFailure"):
            # the run report never fails a run: caught into the state that follows it anyway
            assert st["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.reportError", "Next": st["Next"]}]
            continue
        catches = st.get("Catch", [])
        assert catches, f"{name} has no Catch"
        if name not in failure_path:
            first = "ReconcileDeployment" if name in after_switch else "RecordFailure"
            assert any("States.ALL" in c["ErrorEquals"] and c["Next"] == first for c in catches), name
    assert any("States.ALL" in c["ErrorEquals"] for c in asl["States"]["Assess"]["Catch"])


def test_failure_path_releases_notifies_and_publishes(asl: dict[str, Any]) -> None:
    st = asl["States"]
    assert st["RecordFailure"]["Parameters"]["action"] == "fail"
    assert st["RecordFailure"]["Next"] == "NotifyFailure"
    assert st["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert st["NotifyFailure"]["Next"] == "PublishRunFailed"
    assert st["PublishRunFailed"]["Resource"] == "arn:aws:states:::events:putEvents"
    assert st["PublishRunFailed"]["Parameters"]["Entries"][0]["DetailType"] == "Run Failed"
    assert st["PublishRunFailed"]["Next"] == "ReportFailure"  # the failed run's report, then the Fail state
    recorded = st[st["ReportFailure"]["Next"]]
    assert recorded["Type"] == "Choice"
    assert {st[c["Next"]]["Type"] for c in recorded["Choices"]} | {st[recorded["Default"]]["Type"]} == {"Fail"}


def test_training_uses_the_sync_service_integration(asl: dict[str, Any]) -> None:
    assert asl["States"]["Train"]["Resource"] == "arn:aws:states:::sagemaker:createTrainingJob.sync"


def test_functions_have_code_log_groups_and_scoped_policies(template: dict[str, Any]) -> None:
    fns = resources(template, "AWS::Serverless::Function")
    assert {"MetricEvaluatorFunction", "DriftCheckerFunction", "RetrainLauncherFunction", "DeployerFunction",
            "ApiFunction", "TriggerRouterFunction"} <= set(fns)
    log_groups = resources(template, "AWS::Logs::LogGroup")
    for name, fn in fns.items():
        props = fn["Properties"]
        module, func = props["Handler"].rsplit(".", 1)
        path = ROOT / props["CodeUri"] / (module.replace(".", "/") + ".py")
        assert path.exists(), f"{name}: handler module {path} missing"
        assert f"def {func}" in path.read_text() or f"{func} =" in path.read_text(), name
        wanted = {"Fn::Sub": f"/aws/lambda/${{{name}}}"}
        groups = [g for g in log_groups.values() if g["Properties"]["LogGroupName"] == wanted]
        assert len(groups) == 1, f"{name} has no explicit log group"
        assert groups[0]["Properties"]["RetentionInDays"]
        assert "POWERTOOLS_SERVICE_NAME" in props["Environment"]["Variables"]
        text = json.dumps(props.get("Policies", []))
        assert "FullAccess" not in text, name
        assert '"Action": "*"' not in text, name
        assert '"Action": ["*"]' not in text, name
        assert props.get("Policies"), f"{name} has no policies"


def test_every_function_has_sample_events(template: dict[str, Any]) -> None:
    events = {p.name for p in (ROOT / "events").glob("*.json")}
    for fn in resources(template, "AWS::Serverless::Function").values():
        pkg = fn["Properties"]["Handler"].split(".")[0]
        if pkg == "trigger_router":
            assert {"trigger_schedule.json", "trigger_s3_ground_truth.json", "trigger_alarm.json"} <= events
        else:
            assert any(e.startswith(pkg) for e in events), f"no events/{pkg}_*.json"
    for e in (ROOT / "events").glob("*.json"):
        json.loads(e.read_text())


def test_bucket_is_encrypted_versioned_private_and_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["DataBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    stmt = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in stmt)


def test_tables_encrypted_with_pitr(template: dict[str, Any]) -> None:
    for name, table in resources(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
    assert template["Resources"]["LocksTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def test_topic_and_queue_encrypted(template: dict[str, Any]) -> None:
    assert template["Resources"]["AlertsTopic"]["Properties"]["KmsMasterKeyId"]
    for q in resources(template, "AWS::SQS::Queue").values():
        assert q["Properties"].get("SqsManagedSseEnabled") or q["Properties"].get("KmsMasterKeyId")


def test_api_requires_iam_auth(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    assert api["Auth"]["EnableIamAuthorizer"] is True


def test_triggers_have_retry_and_dead_letter(template: dict[str, Any]) -> None:
    found = 0
    for res in template["Resources"].values():
        for ev in res.get("Properties", {}).get("Events", {}).values():
            if ev["Type"] in {"EventBridgeRule", "Schedule"}:
                found += 1
                assert ev["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
                assert ev["Properties"]["DeadLetterConfig"]["Arn"]
    assert found >= 4


def test_test_fixture_tables_match_template(template: dict[str, Any]) -> None:
    """tests/conftest.py creates the tables the handler tests use: they must have the template's keys."""
    import boto3
    from moto import mock_aws

    names = {"DRIFTLINE_BUCKET": "driftline-contract", "MODELS_TABLE": "ModelsTable", "RUNS_TABLE": "RunsTable",
             "LOCKS_TABLE": "LocksTable", "EVENT_BUS_NAME": "bus"}
    with mock_aws():
        create_stack_resources(names)
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for logical in ("ModelsTable", "RunsTable", "LocksTable"):
            desc = ddb.describe_table(TableName=logical)["Table"]
            props = template["Resources"][logical]["Properties"]
            assert desc["KeySchema"] == props["KeySchema"], logical
            lsis = [i["IndexName"] for i in desc.get("LocalSecondaryIndexes", [])]
            assert lsis == [i["IndexName"] for i in props.get("LocalSecondaryIndexes", [])], logical


def test_domain_errors_are_caught_by_name_and_exist(asl: dict[str, Any]) -> None:
    """The named Catch lists real classes of driftline_common.errors (a rename must break this test)."""
    import driftline_common.errors as errors

    named: set[str] = set()
    for name, st in iter_states(asl["States"]):
        for catch in st.get("Catch", []):
            if "States.ALL" not in catch["ErrorEquals"]:
                named.update(catch["ErrorEquals"])
                assert catch["Next"] in ("RecordFailure", "ReconcileDeployment"), name
    assert {"ModelNotFound", "InvalidModelConfig", "BaselineNotFound", "DataFormatError"} <= named
    for error in named:
        cls = getattr(errors, error, None)
        assert isinstance(cls, type), error
        assert issubclass(cls, errors.DriftlineError), error


def test_wildcard_resources_only_where_aws_requires_them(template: dict[str, Any]) -> None:
    allowed = {"states:SendTaskSuccess", "states:SendTaskFailure", "ecr:GetAuthorizationToken",
               "cloudwatch:GetMetricData",
               "cloudwatch:PutMetricData", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
               "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
               "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", "kms:*", "kms:GenerateDataKey*",
               "kms:Decrypt", "kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:Describe*"}  # key policies

    def statements(node: Any):
        if isinstance(node, dict):
            if "Effect" in node and "Action" in node:
                yield node
            for v in node.values():
                yield from statements(v)
        elif isinstance(node, list):
            for v in node:
                yield from statements(v)

    for stmt in statements(template["Resources"]):
        if stmt["Effect"] == "Allow" and stmt.get("Resource") == "*":
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            assert set(actions) <= allowed, actions


def test_every_resource_policy_denies_insecure_transport(template: dict[str, Any]) -> None:
    """The bucket, the dead-letter queue and the alerts topic refuse requests not made over TLS."""
    for logical in ("DataBucketPolicy", "TriggerDeadLetterQueuePolicy", "AlertsTopicPolicy"):
        statements = template["Resources"][logical]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        ), logical
