"""Security contract of the deployed stack, checked on the SAM-translated template (what CloudFormation gets).

- every principal that writes to a KMS-encrypted topic, queue, bucket or log group may use the key as that
  service needs (SNS/SQS/S3 call KMS with the caller's credentials);
- each role writes only under the S3 prefixes its code writes; the API neither reads S3 nor deletes items;
- data outside the stack's bucket is readable only in the ``AllowedDataBuckets`` buckets;
- the key policy's service statements are bound to this account; the training image pulls to a parameter;
- reserved concurrency, log encryption and S3 access logging are in place.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.template.iam_model import (
    ACCOUNT,
    REGION,
    Stack,
    allows,
    as_list,
    key_policy_allows_service,
    key_policy_delegates_to_iam,
    matches,
    principals,
)
from tools.sam_translate import translate

TEMPLATE = ROOT / "template.yaml"

# what each service calls KMS for when a principal writes to a resource encrypted with a customer managed key
SNS_PUBLISH_NEEDS = ("kms:GenerateDataKey", "kms:Decrypt")
SQS_SEND_NEEDS = ("kms:GenerateDataKey", "kms:Decrypt")
S3_PUT_NEEDS = ("kms:GenerateDataKey", "kms:Decrypt")  # Decrypt: multipart uploads
S3_GET_NEEDS = ("kms:Decrypt",)
LOGS_NEEDS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")

FUNCTION_ROLES = {"MetricEvaluatorFunctionRole", "DriftCheckerFunctionRole", "RetrainLauncherFunctionRole",
                  "DeployerFunctionRole", "ApiFunctionRole", "TriggerRouterFunctionRole"}
# the prefixes of the data bucket each role writes (read from the code: runs.RunRef.prefix, the baseline
# refresh, prepare_training_data, the training job's OutputDataConfig and the endpoints' Data Capture)
WRITES = {
    "MetricEvaluatorFunctionRole": {"runs/"},
    "DriftCheckerFunctionRole": {"runs/", "baselines/"},
    "RetrainLauncherFunctionRole": {"training-data/"},
    "SageMakerExecutionRole": {"models/", "datacapture/"},
}
PREFIXES = ["runs/", "baselines/", "training-data/", "models/", "datacapture/", "ground-truth/", "code/",
            "other/", ""]
DATA_READERS = {"MetricEvaluatorFunctionRole", "DriftCheckerFunctionRole", "RetrainLauncherFunctionRole",
                "SageMakerExecutionRole"}


@cache
def translated() -> dict[str, Any]:
    return translate(TEMPLATE)


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(translated())


@pytest.fixture(scope="module")
def stack_with_data_buckets() -> Stack:
    return Stack(translated(), {"AllowedDataBuckets": "team-capture,team-labels"})


def roles(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    return {r: stack.role_statements(r) for r in stack.of_type("AWS::IAM::Role")}


def may_write_under(statements: list[dict[str, Any]], action: str, prefix_arn: str) -> bool:
    """Some object under ``prefix_arn`` may be written (a statement resource reaches into it)."""
    return any(
        s["Effect"] == "Allow" and any(matches(a, action, case_sensitive=False) for a in as_list(s["Action"]))
        and any(matches(r, prefix_arn + "x") or r.startswith(prefix_arn) for r in as_list(s.get("Resource")))
        for s in statements
    )


def service_writers(stack: Stack, arn: str, url: str | None = None) -> set[str]:
    """Service principals that write to ``arn``: resource policies, alarm actions, rule targets, DLQs."""
    found: set[str] = set()
    for kind, prop in (("AWS::SNS::TopicPolicy", "Topics"), ("AWS::SQS::QueuePolicy", "Queues"),
                       ("AWS::S3::BucketPolicy", "Bucket")):
        for pol in stack.of_type(kind).values():
            if arn in as_list(pol[prop]) or url in as_list(pol[prop]) or \
                    f"arn:aws:s3:::{as_list(pol[prop])[0]}" == arn:
                for s in as_list(pol["PolicyDocument"]["Statement"]):
                    if s["Effect"] == "Allow":
                        found.update(p for p in principals(s, "Service"))
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        actions = [*as_list(alarm.get("AlarmActions")), *as_list(alarm.get("OKActions")),
                   *as_list(alarm.get("InsufficientDataActions"))]
        if arn in actions:
            found.add("cloudwatch.amazonaws.com")
    for rule in stack.of_type("AWS::Events::Rule").values():
        for target in as_list(rule.get("Targets")):
            if arn in (target.get("Arn"), (target.get("DeadLetterConfig") or {}).get("Arn")):
                found.add("events.amazonaws.com")
    for sched in stack.of_type("AWS::Scheduler::Schedule").values():
        if arn in ((sched.get("Target") or {}).get("Arn"),
                   ((sched.get("Target") or {}).get("DeadLetterConfig") or {}).get("Arn")):
            found.add("scheduler.amazonaws.com")
    return found


def encrypted_targets(stack: Stack) -> list[tuple[str, str, str | None, str, tuple[str, ...]]]:
    """(resource, arn, queue url, key arn, write action) for every KMS-encrypted topic, queue and bucket."""
    out: list[tuple[str, str, str | None, str, tuple[str, ...]]] = []
    for logical_id, props in stack.of_type("AWS::SNS::Topic").items():
        if props.get("KmsMasterKeyId"):
            out.append((logical_id, stack.arn(logical_id), None, stack.key_arn(props["KmsMasterKeyId"]),
                        ("sns:Publish",)))
    for logical_id, props in stack.of_type("AWS::SQS::Queue").items():
        if props.get("KmsMasterKeyId"):
            out.append((logical_id, stack.arn(logical_id), stack.resolver.ref(logical_id),
                        stack.key_arn(props["KmsMasterKeyId"]), ("sqs:SendMessage",)))
    for logical_id, props in stack.of_type("AWS::S3::Bucket").items():
        for rule in (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", []):
            default = rule.get("ServerSideEncryptionByDefault") or {}
            if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
                out.append((logical_id, stack.arn(logical_id), None, stack.key_arn(default["KMSMasterKeyID"]),
                            ("s3:PutObject",)))
    return out


# ------------------------------------------------------------------------------------------ item 1: KMS
def test_the_translated_template_has_the_roles_sam_generates(stack: Stack) -> None:
    assert FUNCTION_ROLES | {"PipelineStateMachineRole", "SageMakerExecutionRole"} <= set(roles(stack))


def kms_gaps(stack: Stack) -> tuple[list[str], set[str]]:
    """What is missing for each writer of an encrypted topic/queue/bucket to use its key; and the writers."""
    needs = {"sns:Publish": SNS_PUBLISH_NEEDS, "sqs:SendMessage": SQS_SEND_NEEDS, "s3:PutObject": S3_PUT_NEEDS}
    problems: list[str] = []
    writers: set[str] = set()
    for logical_id, arn, url, key_arn, (action,) in encrypted_targets(stack):
        policy = stack.key_policy(key_arn)
        for role, statements in roles(stack).items():
            writes = (may_write_under(statements, action, arn + "/") if action == "s3:PutObject"
                      else allows(statements, action, arn))
            if not writes:
                continue
            writers.add(f"{role}->{logical_id}")
            if not key_policy_delegates_to_iam(policy):
                problems.append(f"{role}: key of {logical_id} does not let IAM policies grant its use")
            problems += [f"{role} writes to {logical_id} without {need} on its key"
                         for need in needs[action] if not allows(statements, need, key_arn)]
        for service in service_writers(stack, arn, url):
            writers.add(f"{service}->{logical_id}")
            problems += [f"{service} writes to {logical_id}; the key policy does not allow it {need}"
                         for need in needs[action] if not key_policy_allows_service(policy, service, need)]
    return problems, writers


def test_every_writer_to_an_encrypted_resource_may_use_its_key(stack: Stack) -> None:
    assert any(t[0] == "AlertsTopic" for t in encrypted_targets(stack))
    problems, writers = kms_gaps(stack)
    assert problems == []
    assert writers >= {"RetrainLauncherFunctionRole->AlertsTopic", "PipelineStateMachineRole->AlertsTopic",
                       "cloudwatch.amazonaws.com->AlertsTopic"}


def test_the_kms_check_finds_gaps_for_queues_buckets_and_services(tmp_path: Any) -> None:
    """The check above on a small template: a CMK queue (EventBridge DLQ, Lambda destination), a CMK bucket."""
    (tmp_path / "fn").mkdir()
    body = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Grant: {Type: String, Default: "no"}
Conditions:
  Granted: !Equals [!Ref Grant, "yes"]
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - {Effect: Allow, Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}, Action: "kms:*",
             Resource: "*"}
          - !If [Granted, {Effect: Allow, Principal: {Service: events.amazonaws.com},
                           Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*"}, !Ref AWS::NoValue]
  Queue:
    Type: AWS::SQS::Queue
    Properties: {KmsMasterKeyId: !Ref Key}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: !GetAtt Key.Arn}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: h.handler
      CodeUri: fn/
      EventInvokeConfig:
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Queue.Arn}
      Policies:
        - Statement:
            - {Effect: Allow, Action: s3:PutObject, Resource: !Sub "${Bucket.Arn}/out/*"}
            - !If [Granted, {Effect: Allow, Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                             Resource: !GetAtt Key.Arn}, !Ref AWS::NoValue]
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
            DeadLetterConfig: {Arn: !GetAtt Queue.Arn}
"""
    (tmp_path / "template.yaml").write_text(body)
    raw = translate(tmp_path / "template.yaml")
    problems, writers = kms_gaps(Stack(raw))
    assert writers == {"FnRole->Queue", "FnRole->Bucket", "events.amazonaws.com->Queue"}
    assert sorted(problems) == sorted([
        "FnRole writes to Queue without kms:GenerateDataKey on its key",
        "FnRole writes to Queue without kms:Decrypt on its key",
        "FnRole writes to Bucket without kms:GenerateDataKey on its key",
        "FnRole writes to Bucket without kms:Decrypt on its key",
        "events.amazonaws.com writes to Queue; the key policy does not allow it kms:GenerateDataKey",
        "events.amazonaws.com writes to Queue; the key policy does not allow it kms:Decrypt",
    ])
    assert kms_gaps(Stack(raw, {"Grant": "yes"}))[0] == []


def test_readers_of_an_encrypted_bucket_may_decrypt(stack: Stack) -> None:
    for logical_id, arn, _, key_arn, _ in encrypted_targets(stack):
        if not arn.startswith("arn:aws:s3:::"):
            continue
        for role, statements in roles(stack).items():
            if may_write_under(statements, "s3:GetObject", arn + "/"):
                assert all(allows(statements, n, key_arn) for n in S3_GET_NEEDS), (role, logical_id)


def test_encrypted_log_groups_have_a_key_the_logs_service_may_use(stack: Stack) -> None:
    groups = {k: p for k, p in stack.of_type("AWS::Logs::LogGroup").items() if p.get("KmsKeyId")}
    assert set(groups) == set(stack.of_type("AWS::Logs::LogGroup"))  # every group, execution data included
    service = f"logs.{REGION}.amazonaws.com"
    for logical_id, props in groups.items():
        policy = stack.key_policy(stack.key_arn(props["KmsKeyId"]))
        for need in LOGS_NEEDS:
            stmts = key_policy_allows_service(policy, service, need)
            assert stmts, (logical_id, need)
            for s in stmts:  # bound to the stack's log groups through the encryption context
                contexts = as_list(s["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
                group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{props['LogGroupName']}"
                assert any(matches(c, group_arn) for c in contexts), (logical_id, contexts)
                assert all(c.startswith(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/") for c in contexts)


# ------------------------------------------------------------------------------ item 9: least privilege
def test_key_policy_service_statements_are_bound_to_this_account(stack: Stack) -> None:
    service_statements = 0
    for props in stack.of_type("AWS::KMS::Key").values():
        for s in as_list(props["KeyPolicy"]["Statement"]):
            if not principals(s, "Service"):
                continue
            service_statements += 1
            cond = s.get("Condition") or {}
            source_account = (cond.get("StringEquals") or {}).get("aws:SourceAccount")
            logs_context = (cond.get("ArnLike") or {}).get("kms:EncryptionContext:aws:logs:arn")
            assert source_account == ACCOUNT or (
                logs_context and all(f":{ACCOUNT}:log-group:" in c for c in as_list(logs_context))), s
    assert service_statements >= 2


def test_each_role_writes_only_its_own_prefixes(stack: Stack) -> None:
    bucket = stack.arn("DataBucket")
    for role, statements in roles(stack).items():
        written = {p for p in PREFIXES if allows(statements, "s3:PutObject", f"{bucket}/{p}m/obj.json")}
        assert written == WRITES.get(role, set()), role
        assert not allows(statements, "s3:PutObject", f"{bucket}/x"), role
        assert not allows(statements, "s3:DeleteObject", f"{bucket}/runs/m/obj.json"), role


def test_no_role_writes_to_another_bucket(stack_with_data_buckets: Stack) -> None:
    for role, statements in roles(stack_with_data_buckets).items():
        for bucket in ("team-capture", "some-other-bucket"):
            assert not may_write_under(statements, "s3:PutObject", f"arn:aws:s3:::{bucket}/"), (role, bucket)


def test_api_reads_no_data_and_deletes_nothing(stack: Stack) -> None:
    api = stack.role_statements("ApiFunctionRole")
    assert not any(a.lower().startswith("s3:") for s in api for a in as_list(s["Action"]))
    for table in ("ModelsTable", "RunsTable", "LocksTable"):
        arn = stack.arn(table)
        assert not allows(api, "dynamodb:DeleteItem", arn), table
        assert not allows(api, "dynamodb:BatchWriteItem", arn), table
    assert not allows(api, "dynamodb:GetItem", stack.arn("LocksTable"))
    # what the code calls: configs put/get/scan; runs get/query (byStartedAt)/update (approval answers)
    for action in ("PutItem", "GetItem", "Scan"):
        assert allows(api, f"dynamodb:{action}", stack.arn("ModelsTable")), action
    for action in ("GetItem", "UpdateItem"):
        assert allows(api, f"dynamodb:{action}", stack.arn("RunsTable")), action
    assert allows(api, "dynamodb:Query", stack.arn("RunsTable") + "/index/byStartedAt")


def test_training_images_are_pulled_only_from_the_configured_repositories(stack: Stack) -> None:
    sm = stack.role_statements("SageMakerExecutionRole")
    default = translated()["Parameters"]["TrainingImageRepositoryArns"]["Default"].split(",")
    assert default
    for arn in default:
        assert allows(sm, "ecr:BatchGetImage", arn)
    account = default[0].split(":")[4]
    assert not allows(sm, "ecr:BatchGetImage", default[0].replace(account, "999999999999"))
    assert not allows(sm, "ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{account}:repository/not-a-framework")
    mine = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/*"
    sm = Stack(translated(), {"TrainingImageRepositoryArns": mine}).role_statements("SageMakerExecutionRole")
    assert allows(sm, "ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/model")
    assert not allows(sm, "ecr:GetDownloadUrlForLayer", default[0])


def test_allowed_data_buckets_are_readable_by_the_data_readers_only(stack: Stack,
                                                                    stack_with_data_buckets: Stack) -> None:
    for role, statements in roles(stack_with_data_buckets).items():
        for bucket in ("team-capture", "team-labels"):
            reads = allows(statements, "s3:GetObject", f"arn:aws:s3:::{bucket}/datacapture/x.jsonl")
            lists = allows(statements, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
            assert reads == (role in DATA_READERS), (role, bucket)
            # the state machine's Distributed Maps list the capture prefix; they read nothing
            assert lists == (role in DATA_READERS | {"PipelineStateMachineRole"}), (role, bucket)
        assert not allows(statements, "s3:GetObject", "arn:aws:s3:::some-other-bucket/x"), role
    # the default (empty list) adds no statement at all: no "arn:aws:s3:::" or "arn:aws:s3:::/*" resource
    for role, statements in roles(stack).items():
        for s in statements:
            for r in as_list(s.get("Resource")):
                assert r not in ("arn:aws:s3:::", "arn:aws:s3:::/*"), role


def test_allowed_data_buckets_reach_every_function(stack: Stack, stack_with_data_buckets: Stack) -> None:
    for st, want in ((stack, ""), (stack_with_data_buckets, "team-capture,team-labels")):
        fns = st.of_type("AWS::Lambda::Function")
        assert len(fns) >= 6
        for name, fn in fns.items():
            assert fn["Environment"]["Variables"]["ALLOWED_DATA_BUCKETS"] == want, name


# --------------------------------------------------------------------------- item 10: checkov findings fixed
def test_trigger_router_has_reserved_concurrency(stack: Stack) -> None:
    fn = stack.of_type("AWS::Lambda::Function")["TriggerRouterFunction"]
    assert 1 <= int(fn["ReservedConcurrentExecutions"]) <= 20


def test_data_bucket_logs_access_to_a_private_encrypted_tls_only_bucket(stack: Stack) -> None:
    buckets = stack.of_type("AWS::S3::Bucket")
    target = buckets["DataBucket"]["LoggingConfiguration"]["DestinationBucketName"]
    (log_id,) = [k for k in buckets if stack.name(k) == target]
    logs = buckets[log_id]
    assert all(logs["PublicAccessBlockConfiguration"].values())
    # server access log delivery supports SSE-S3 destinations only
    assert logs["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "SSEAlgorithm"] == "AES256"
    assert logs["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    (policy,) = [p for p in stack.of_type("AWS::S3::BucketPolicy").values() if p["Bucket"] == target]
    statements = as_list(policy["PolicyDocument"]["Statement"])
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
               for s in statements)
    (delivery,) = [s for s in statements if "logging.s3.amazonaws.com" in principals(s, "Service")]
    assert as_list(delivery["Action"]) == ["s3:PutObject"]
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == stack.arn("DataBucket")
    assert any(r["ExpirationInDays"] for r in logs["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r)


def test_checkov_suppressions_sit_next_to_the_resource_with_a_reason_and_are_documented() -> None:
    from samlocal.cfn_yaml import load_template

    doc = (ROOT / "docs" / "security.md").read_text()
    table = doc[doc.index("## checkov suppressions"):]
    found = 0
    for logical_id, res in load_template(TEMPLATE)["Resources"].items():
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            found += 1
            assert skip["id"].startswith("CKV_"), logical_id
            assert len(skip.get("comment", "")) >= 20, (logical_id, skip)
            assert f"| {skip['id']} " in table, skip["id"]
            if res["Type"] != "AWS::Serverless::Function":
                assert f"`{logical_id}`" in table, logical_id
    assert found >= 1


@pytest.mark.parametrize("buckets", ["", "team-capture,team-labels"])
def test_the_offline_stack_deploys_with_allowed_data_buckets(buckets: str) -> None:
    """The offline runtime resolves the conditional statements and passes the list to every function."""
    import boto3
    from driftline_offline import OfflineStack

    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local", "AllowedDataBuckets": buckets}) as st:
        lam = boto3.client("lambda", region_name=REGION)
        for logical_id in ("MetricEvaluatorFunction", "ApiFunction", "TriggerRouterFunction"):
            env = lam.get_function_configuration(FunctionName=st.resource(logical_id))["Environment"]
            assert env["Variables"]["ALLOWED_DATA_BUCKETS"] == buckets, logical_id
        assert "AccessLogsBucket" in st.resources
        assert "LogsKey" in st.resources
