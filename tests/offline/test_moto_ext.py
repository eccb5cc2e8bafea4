"""One test per moto extension (see samlocal.moto_ext.EXTENSIONS): a moto upgrade shows what broke."""

import io
import json
import re
import tarfile
import threading
import time

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from samlocal import moto_ext
from samlocal.moto_ext import ddb as ext_ddb
from samlocal.moto_ext import sfn, sfn_map

from .conftest import FIXTURES


def _machine(stack, name, definition):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = "arn:aws:iam::123456789012:role/driftline-offline-execution-role"
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


def _run(stack, arn, payload=None, name=None):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    kwargs = {"stateMachineArn": arn, "input": json.dumps(payload or {})}
    if name:
        kwargs["name"] = name
    return stack.wait_execution(sfn.start_execution(**kwargs)["executionArn"])


def test_every_extension_is_installed(stack):
    assert moto_ext.installed() == frozenset(moto_ext.EXTENSIONS)


def test_lambda_dispatch_resource_arn_and_invoke_integration(stack):
    fn = stack.attribute("Failer", "Arn")
    arn = _machine(stack, "ext-lambda", {
        "StartAt": "Direct",
        "States": {
            "Direct": {"Type": "Task", "Resource": fn, "ResultPath": "$.direct", "Next": "Integration"},
            "Integration": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": fn, "Payload": {"mode": "ok", "n": 1}},
                            "OutputPath": "$.Payload", "End": True},
        },
    })
    out = _run(stack, arn, {"mode": "ok"})
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"ok": True, "echo": {"mode": "ok", "n": 1}}


def test_lambda_dispatch_error_types_match_task_failed_and_custom_names(stack):
    fn = stack.attribute("Failer", "Arn")
    arn = _machine(stack, "ext-lambda-errors", {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": fn,
                  "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Caught"}],
                  "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    })
    out = json.loads(_run(stack, arn, {"mode": "boom"})["output"])
    assert out["err"]["Error"] == "ValueError"
    assert json.loads(out["err"]["Cause"])["errorMessage"] == "boom"


def test_sfn_start_execution_without_a_name_gets_a_uuid(stack):
    arn = _machine(stack, "ext-noname", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    a = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    b = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert a != b
    assert not a.endswith(":None")
    assert len(a.split(":")[-1]) == 36
    assert stack.wait_execution(a)["status"] == "SUCCEEDED"


def test_sfn_sim_clock_and_fast_wait_timestamp(stack):
    arn = _machine(stack, "ext-wait", {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Timestamp": "2024-01-02T00:00:00Z", "Next": "S"},
            "S": {"Type": "Wait", "Seconds": 86400 * 30, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime"}, "End": True},
        },
    })
    started = time.perf_counter()
    out = _run(stack, arn)
    assert time.perf_counter() - started < 120  # the long interval is not waited in real time
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"])["entered"].startswith("2024-02-01T00:00:00")  # Jan 2 + 30 days


def test_sfn_fast_retry_uses_the_clock(stack):
    fn = stack.attribute("Failer", "Arn")
    arn = _machine(stack, "ext-retry", {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": fn, "End": True,
                         "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1000, "MaxAttempts": 2,
                                    "BackoffRate": 3}]}},
    })
    before = stack.runtime.clock.now()
    started = time.perf_counter()
    out = _run(stack, arn, {"mode": "flaky", "key": "ext-retry", "succeed_on": 3})
    assert time.perf_counter() - started < 120  # the long interval is not waited in real time
    assert out["status"] == "SUCCEEDED"
    assert (stack.runtime.clock.now() - before).total_seconds() == 1000 + 3000


def test_sfn_jsonata_is_evaluated(stack):
    arn = _machine(stack, "ext-jsonata", {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": {"total": "{% $sum($states.input.xs) %}",
                                                   "upper": "{% $uppercase($states.input.name) %}"},
                         "End": True}},
    })
    out = _run(stack, arn, {"xs": [1, 2, 3.5], "name": "drift"})
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"total": 6.5, "upper": "DRIFT"}


def test_wait_for_task_token_and_send_task_success_and_failure(stack):
    fn = stack.attribute("Approver", "Arn")
    stack.runtime.lambdas.find("Approver").load()  # its code directory on sys.path (the test may run alone)
    from fx_failer import handler as approver

    arn = _machine(stack, "ext-token", {
        "StartAt": "Approve",
        "States": {
            "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {"FunctionName": fn, "Payload": {"token.$": "$$.Task.Token"}},
                        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "No"}],
                        "End": True},
            "No": {"Type": "Pass", "End": True},
        },
    })
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    results = {}
    for outcome in ("approve", "reject"):
        n = len(approver.TOKENS)
        exe = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        deadline = time.monotonic() + 5
        while len(approver.TOKENS) == n and time.monotonic() < deadline:
            time.sleep(0.005)
        token = approver.TOKENS[-1]
        time.sleep(0.02)
        if outcome == "approve":
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        else:
            sfn.send_task_failure(taskToken=token, error="Rejected", cause="no")
        results[outcome] = stack.wait_execution(exe)
    assert json.loads(results["approve"]["output"]) == {"approved": True}
    assert json.loads(results["reject"]["output"])["rejected"]["Error"] == "Rejected"


def test_events_delivery_from_put_events_task_and_sns_publish_task(stack):
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")
    q = sqs.create_queue(QueueName="ext-sns-sink")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.resource("AlertsTopic"), Protocol="sqs", Endpoint=q_arn,
                  Attributes={"RawMessageDelivery": "true"})
    arn = _machine(stack, "ext-events", {
        "StartAt": "Pub",
        "States": {
            "Pub": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                    "Parameters": {"Entries": [{"EventBusName": stack.attribute("Bus", "Arn"), "Source": "fx",
                                                "DetailType": "Score Requested", "Detail": {"modelId": "via-sfn"}}]},
                    "ResultPath": None, "Next": "Sns"},
            "Sns": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": stack.resource("AlertsTopic"), "Message": "hello"}, "End": True},
        },
    })
    assert _run(stack, arn)["status"] == "SUCCEEDED"
    scored = [d for d in stack.runtime.deliveries if d["rule"] == "driftline-Scorer-ScoreRequested"]
    assert scored[-1]["result"]["event"] == {"modelId": "via-sfn"}
    assert sqs.receive_message(QueueUrl=q)["Messages"][0]["Body"] == "hello"


def test_events_schedule_only_rules_do_not_match_events_and_disabled_rules_do_nothing(stack):
    events = boto3.client("events", region_name="us-east-1")
    events.put_events(Entries=[{"Source": "anything", "DetailType": "x", "Detail": "{}"}])  # default bus
    assert stack.runtime.started_executions == []  # the Daily/NoonRule schedule rules did not fire
    events.disable_rule(Name="driftline-Scorer-ScoreRequested", EventBusName="fx-bus-dev")
    events.put_events(Entries=[{"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Score Requested",
                                "Detail": "{}"}])
    assert [d for d in stack.runtime.deliveries if d["rule"] == "driftline-Scorer-ScoreRequested"] == []


# -- SageMaker -------------------------------------------------------------------------------------
def _upload_source_and_data(bucket="fx-data-dev-123456789012"):
    s3 = boto3.client("s3", region_name="us-east-1")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("train.py", "inference.py"):
            tar.add(FIXTURES / "sm_source" / name, arcname=name)
    s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=buf.getvalue())
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[1.0, -2.0, 5.0], size=(40, 3))
    s3.put_object(Bucket=bucket, Key="data/train/part-0.csv", Body="\n".join(",".join(map(str, r)) for r in X[:25]))
    s3.put_object(Bucket=bucket, Key="data/train/sub/part-1.csv",
                  Body="\n".join(",".join(map(str, r)) for r in X[25:]))
    return X


def _job(name, bucket="fx-data-dev-123456789012", **hps):
    return {
        "TrainingJobName": name,
        "HyperParameters": {"sagemaker_program": json.dumps("train.py"),
                            "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/code/sourcedir.tar.gz"),
                            **{k: json.dumps(v) for k, v in hps.items()}},
        "AlgorithmSpecification": {"TrainingImage": "sklearn:offline", "TrainingInputMode": "File",
                                   "MetricDefinitions": [{"Name": "norm", "Regex": "train_mean_norm=([0-9.]+)"}]},
        "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/train"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def _model_means(uri):
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket, key = uri[5:].split("/", 1)
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        means = np.load(io.BytesIO(tar.extractfile("means.npy").read()))
        env = json.loads(tar.extractfile("env.json").read())
    return means, env


def test_sagemaker_training_runs_the_script_in_script_mode(stack):
    X = _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_training_job(**_job("job-ok", scale=2.0))
    desc = sm.describe_training_job(TrainingJobName="job-ok")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == "s3://fx-data-dev-123456789012/models/job-ok/output/model.tar.gz"
    means, env = _model_means(uri)
    np.testing.assert_allclose(means, X.mean(axis=0) * 2.0)
    assert env["channels"] == ["train"]
    assert env["hps"] == {"scale": 2.0}
    assert env["hp_scale"] == "2.0"
    assert env["argv"] == ["--scale", "2.0"]
    assert env["training_env_job"] == "job-ok"
    metric = desc["FinalMetricDataList"][0]
    assert metric["MetricName"] == "norm"
    assert metric["Value"] == pytest.approx(float(np.abs(X.mean(axis=0) * 2).sum()), abs=1e-5)


def test_sagemaker_training_failure_sets_failed_with_the_failure_file(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_training_job(**_job("job-bad", fail="yes"))
    desc = sm.describe_training_job(TrainingJobName="job-bad")
    assert desc["TrainingJobStatus"] == "Failed"
    assert "asked to fail" in desc["FailureReason"]
    assert "ModelArtifacts" not in desc or not desc["ModelArtifacts"]


def test_sfn_sagemaker_create_training_job_sync(stack):
    _upload_source_and_data()
    params = _job("placeholder")
    params.pop("TrainingJobName")
    arn = _machine(stack, "ext-sm", {
        "StartAt": "Train",
        "States": {
            "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                      "Parameters": {**params, "TrainingJobName.$": "$.job",
                                     "HyperParameters": {**params["HyperParameters"], "fail.$": "$.fail"}},
                      "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Bad"}],
                      "End": True},
            "Bad": {"Type": "Pass", "End": True},
        },
    })
    ok = json.loads(_run(stack, arn, {"job": "sync-ok", "fail": "no"})["output"])
    assert ok["TrainingJobStatus"] == "Completed"
    assert ok["ModelArtifacts"]["S3ModelArtifacts"].endswith("/sync-ok/output/model.tar.gz")
    bad = json.loads(_run(stack, arn, {"job": "sync-bad", "fail": "yes"})["output"])
    assert bad["error"]["Error"] == "States.TaskFailed"
    assert json.loads(bad["error"]["Cause"])["TrainingJobStatus"] == "Failed"


def _deploy_model(sm, name, model_uri, capture=None):
    sm.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/sm", PrimaryContainer={
        "Image": "sklearn:offline", "ModelDataUrl": model_uri,
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                        "SAGEMAKER_SUBMIT_DIRECTORY": "s3://fx-data-dev-123456789012/code/sourcedir.tar.gz"}})
    kwargs = {"EndpointConfigName": f"{name}-config", "ProductionVariants": [{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
        "InitialVariantWeight": 1.0}]}
    if capture:
        kwargs["DataCaptureConfig"] = capture
    sm.create_endpoint_config(**kwargs)
    return f"{name}-config"


def test_sagemaker_endpoint_serves_the_model_and_writes_data_capture(stack):
    X = _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
    sm.create_training_job(**_job("job-a", scale=1.0))
    uri = sm.describe_training_job(TrainingJobName="job-a")["ModelArtifacts"]["S3ModelArtifacts"]
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100,
               "DestinationS3Uri": "s3://fx-data-dev-123456789012/capture",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
               "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
    config = _deploy_model(sm, "model-a", uri, capture)
    sm.create_endpoint(EndpointName="ep", EndpointConfigName=config)
    body = "1,2,3\n0,0,0"
    resp = rt.invoke_endpoint(EndpointName="ep", Body=body, ContentType="text/csv", InferenceId="inf-1")
    got = [float(v) for v in resp["Body"].read().decode().split()]
    mean = X.mean(axis=0)
    np.testing.assert_allclose(got, [(np.array([1, 2, 3]) - mean).sum(), (-mean).sum()], atol=1e-6)
    assert resp["InvokedProductionVariant"] == "AllTraffic"
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fx-data-dev-123456789012", Prefix="capture/")["Contents"]]
    assert len(keys) == 1
    assert keys[0].startswith("capture/ep/AllTraffic/2024/01/01/00/")
    assert keys[0].endswith(".jsonl")
    record = json.loads(s3.get_object(Bucket="fx-data-dev-123456789012", Key=keys[0])["Body"].read())
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": body, "encoding": "CSV"}
    assert record["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert record["captureData"]["endpointOutput"]["encoding"] == "CSV"
    assert record["eventMetadata"]["inferenceId"] == "inf-1"
    assert record["eventMetadata"]["inferenceTime"] == "2024-01-01T00:00:00Z"
    assert record["eventVersion"] == "0"
    with pytest.raises(ClientError, match="ModelError"):
        rt.invoke_endpoint(EndpointName="ep", Body="{}", ContentType="application/json")


def test_sagemaker_update_endpoint_switches_model_or_rolls_back_on_alarm(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    sm.create_training_job(**_job("job-1", scale=1.0))
    sm.create_training_job(**_job("job-2", scale=0.0))
    artifacts = [
        sm.describe_training_job(TrainingJobName=j)["ModelArtifacts"]["S3ModelArtifacts"] for j in ("job-1", "job-2")
    ]
    c1 = _deploy_model(sm, "m1", artifacts[0])
    c2 = _deploy_model(sm, "m2", artifacts[1])
    sm.create_endpoint(EndpointName="ep2", EndpointConfigName=c1)
    before = rt.invoke_endpoint(EndpointName="ep2", Body="0,0,0", ContentType="text/csv")["Body"].read()
    policy = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE",
                                                                      "WaitIntervalInSeconds": 0}},
              "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "fx-errors-dev"}]}}
    cw.set_alarm_state(AlarmName="fx-errors-dev", StateValue="ALARM", StateReason="test")
    sm.update_endpoint(EndpointName="ep2", EndpointConfigName=c2, DeploymentConfig=policy)
    desc = sm.describe_endpoint(EndpointName="ep2")
    assert desc["EndpointConfigName"] == c1
    assert desc["EndpointStatus"] == "InService"
    assert "fx-errors-dev" in desc["FailureReason"]
    cw.set_alarm_state(AlarmName="fx-errors-dev", StateValue="OK", StateReason="test")
    sm.update_endpoint(EndpointName="ep2", EndpointConfigName=c2, DeploymentConfig=policy)
    desc = sm.describe_endpoint(EndpointName="ep2")
    assert desc["EndpointConfigName"] == c2
    assert "FailureReason" not in desc
    after = rt.invoke_endpoint(EndpointName="ep2", Body="0,0,0", ContentType="text/csv")["Body"].read()
    assert float(after) == 0.0  # scale 0 -> means 0 -> score 0
    assert float(before) != 0.0
    assert [d["status"] for d in stack.runtime.sagemaker.deployments] == ["RolledBack", "Switched"]


def test_lambda_invocations_run_at_once_and_recorded(stack):
    errors = []

    def call(i):
        try:
            out = stack.invoke("Scorer", {"i": i})
            assert out["event"] == {"i": i}
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r["event"]["i"] for r in stack.runtime.lambdas.invocations if r["function"] == "Scorer") == \
        list(range(8))


def test_sfn_keyword_path_bindings_are_evaluated(stack):
    # "RoleArn" is also an ASL keyword (Credentials): "RoleArn.$" must still be a path binding
    arn = _machine(stack, "ext-keyword-paths", {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True, "Parameters": {
            "RoleArn.$": "$.training.RoleArn", "Name.$": "$$.Execution.Name", "literal": "RoleArn.$"}}},
    })
    out = _run(stack, arn, {"training": {"RoleArn": "arn:aws:iam::123456789012:role/sm"}}, name="kw-run")
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"RoleArn": "arn:aws:iam::123456789012:role/sm", "Name": "kw-run",
                                         "literal": "RoleArn.$"}


def test_handlers_read_the_simulated_clock(stack, tmp_path):
    from datetime import datetime, timedelta

    from samlocal.lambda_runtime import FunctionSpec

    pkg = tmp_path / "fx_clock"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "handler.py").write_text(
        "from datetime import UTC, datetime\n\n\ndef lambda_handler(event, context):\n"
        "    return datetime.now(UTC).isoformat()\n")
    stack.runtime.lambdas.register(FunctionSpec(logical_id="Clock", function_name="fx-clock",
                                                handler="fx_clock.handler.lambda_handler", code_dir=tmp_path))
    start = stack.runtime.clock.now()
    assert datetime.fromisoformat(stack.invoke("Clock", {})) == start
    stack.runtime.clock.set(start + timedelta(days=3))
    assert datetime.fromisoformat(stack.invoke("Clock", {})) == start + timedelta(days=3)


def test_sfn_parse_cache_reuses_the_tree_but_builds_fresh_components(stack):
    fn = stack.attribute("Failer", "Arn")
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": fn, "End": True,
                         "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}]}},
    }
    arn = _machine(stack, "ext-parse-cache", definition)
    text = json.dumps(definition)
    sfn._PARSE_TREES.pop(text, None)
    first = _run(stack, arn, {"mode": "flaky", "key": "ext-parse-1", "succeed_on": 2})
    assert text in sfn._PARSE_TREES
    tree = sfn._PARSE_TREES[text]
    # a second execution reuses the tree; its retrier starts from zero attempts again (fresh components)
    second = _run(stack, arn, {"mode": "flaky", "key": "ext-parse-2", "succeed_on": 2})
    third = _run(stack, arn, {"mode": "flaky", "key": "ext-parse-3", "succeed_on": 3})
    assert sfn._PARSE_TREES[text] is tree
    assert [first["status"], second["status"], third["status"]] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]


def test_sfn_parse_cache_validates_a_known_definition_without_parsing_it_again(stack, monkeypatch):
    """CreateStateMachine validates by parsing: a definition parsed before reuses its tree; a bad one still fails."""
    from moto.stepfunctions.parser.asl.parse import asl_parser

    parses = []
    real = asl_parser.ASLParser.state_machine
    monkeypatch.setattr(asl_parser.ASLParser, "state_machine", lambda self: parses.append(1) or real(self))
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"n": 7}, "End": True}}}
    sfn._PARSE_TREES.pop(json.dumps(definition), None)
    first = _machine(stack, "ext-validate-1", definition)
    assert len(parses) == 1
    second = _machine(stack, "ext-validate-2", definition)
    assert len(parses) == 1
    assert json.loads(_run(stack, second)["output"]) == json.loads(_run(stack, first)["output"]) == {"n": 7}
    with pytest.raises(ClientError, match="ASLParserException"):
        _machine(stack, "ext-validate-bad", {"StartAt": "P", "States": {"P": {"Type": "Nope"}}})
    with pytest.raises(ClientError, match="ASLParserException"):
        _machine(stack, "ext-validate-bad-2", {"StartAt": "P", "States": {"P": {"Type": "Nope"}}})


def test_sfn_parse_cache_frozen_tree_texts_match_antlr(stack):
    """A cached (frozen) tree's node texts are ANTLR's own, computed once; a tree not cached is not remembered."""
    from antlr4 import ParserRuleContext
    from antlr4.RuleContext import RuleContext
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = RuleContext.getText._driftline_original

    def nodes(tree):
        out, todo = [], [tree]
        while todo:
            n = todo.pop()
            out.append(n)
            todo.extend(c for c in n.children or () if isinstance(c, ParserRuleContext))
        return out

    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericGreaterThan": 1, "Next": "P"}], "Default": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "Iterator": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "End": True}}}, "ResultPath": "$.mapped", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"y.$": "$.x", "n": 1.5}, "End": True}}}
    text = json.dumps(definition)
    sfn._PARSE_TREES.pop(text, None)
    fresh = AmazonStateLanguageParser.parse(text)[1]  # parsed now: cached, so frozen
    assert sfn._PARSE_TREES[text] is fresh
    expected = [original(n) for n in nodes(fresh)]
    assert [n.getText() for n in nodes(fresh)] == expected == [n.getText() for n in nodes(fresh)]
    assert all("_driftline_text" in n.__dict__ for n in nodes(fresh))
    # the preprocessor over the frozen tree builds the same program as over an unfrozen parse of the same text
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser

    unfrozen = ASLParser(CommonTokenStream(ASLLexer(InputStream(text)))).state_machine()
    assert [original(n) for n in nodes(unfrozen)] == expected
    assert [n.getText() for n in nodes(unfrozen)] == expected
    assert not any("_driftline_text" in n.__dict__ for n in nodes(unfrozen))
    def shown(program):  # the components as text, without object addresses
        return re.sub(r" at 0x[0-9a-f]+", "", str(program))

    assert shown(Preprocessor().visit(fresh)) == shown(Preprocessor().visit(unfrozen))


def test_sfn_jsonpath_cache_matches_moto(stack):
    """A cached JSONPath expression finds and updates exactly as a freshly parsed one, every time it is used."""
    import copy

    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path_mod
    import moto.stepfunctions.parser.asl.utils.json_path as json_path_mod

    ext_parse, plain_parse = json_path_mod.parse, result_path_mod.parse
    ext_moto, plain_moto = ext_parse._driftline_original, plain_parse._driftline_original
    data = {"a": {"b": [1, 2, {"c": 3}], "d": None}, "items": [{"k": 1, "v": "x"}, {"k": 2, "v": "y"}], "n": 0}
    for path in ("$", "$.a", "$.a.b", "$.a.b[1]", "$.a.b[2].c", "$.items[*].v", "$.items[0:1]", "$.items[?(@.k>1)].v",
                 "$.a.d", "$.missing", "$['a']['b']"):
        for _ in range(2):
            got = [(str(m.full_path), m.value) for m in ext_parse(path).find(data)]
            assert got == [(str(m.full_path), m.value) for m in ext_moto(path).find(data)], path
        assert ext_parse(path) is ext_parse(path)
    for path in ("$.out", "$.a.new", "$.a.b[0]", "$"):
        for value in ({"r": 1}, [1, 2], "s"):
            want = plain_moto(path).update_or_create(copy.deepcopy(data), copy.deepcopy(value))
            for _ in range(2):
                assert plain_parse(path).update_or_create(copy.deepcopy(data), copy.deepcopy(value)) == want, path
    for bad in ("$.[", "$..[?(@.x"):
        for _ in range(2):
            with pytest.raises(Exception) as cached_error:
                ext_parse(bad)
            with pytest.raises(Exception) as moto_error:
                ext_moto(bad)
            assert type(cached_error.value) is type(moto_error.value)
            assert str(cached_error.value) == str(moto_error.value)
    assert extract_json_matches(json_path_mod, data)


def extract_json_matches(json_path_mod, data):
    """moto's ``extract_json`` through the cache: values, singleton unpacking, the no-such-path error."""
    assert json_path_mod.extract_json("$.a.b[1]", data) == 2
    assert json_path_mod.extract_json("$.items[*].k", data) == [1, 2]
    with pytest.raises(json_path_mod.NoSuchJsonPathError):
        json_path_mod.extract_json("$.nope", data)
    return True


def test_sfn_termination_signal_wakes_wait_execution(stack):
    arn = _machine(stack, "ext-termination", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    before = stack.runtime.terminations
    out = _run(stack, arn, {"x": 1})
    assert out["status"] == "SUCCEEDED"
    assert stack.runtime.terminations == before + 1


def test_sfn_ended_executions_let_their_evaluation_go_and_keep_history_and_output(stack):
    import gc
    import weakref

    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arn = _machine(stack, "ext-release", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"big": "x" * 1000}, "ResultPath": "$.r", "Next": "Q"},
        "Q": {"Type": "Pass", "End": True}}})
    out = _run(stack, arn, {"x": 1}, name="release-1")
    assert out["status"] == "SUCCEEDED"
    backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
    execution = next(e for e in backend.describe_state_machine(arn).executions
                     if e.execution_arn == out["executionArn"])
    env = execution.exec_worker.env
    assert isinstance(env, sfn._FinishedEnvironment)
    gone = weakref.ref(env.event_manager)  # what is kept is only the event history
    history = stack.history(out["executionArn"])
    assert [e["type"] for e in history][-1] == "ExecutionSucceeded"
    assert json.loads(out["output"]) == {"x": 1, "r": {"big": "x" * 1000}}
    assert json.loads(stack.client("stepfunctions").describe_execution(executionArn=out["executionArn"])["output"])[
        "r"]["big"] == "x" * 1000
    gc.collect()
    assert gone() is not None


def test_ddb_fast_attribute_values_match_the_generic_serializer(stack):
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    item = {
        "pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"BOOL": False}, "nul": {"NULL": True}, "empty": {"S": ""},
        "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "y"}, {"M": {}}, {"L": []}]}, "s": {"SS": ["p", "q"]}}},
        "ns": {"NS": ["1", "2"]},
    }
    service_model = get_service_model("dynamodb")
    op = service_model.operation_model("GetItem")
    cls = get_serializer_class("dynamodb", "json")

    def body():
        return json.loads(cls(operation_model=op).serialize({"Item": item})["body"])

    fast = body()
    from samlocal import REGISTRY

    REGISTRY.deactivate(stack.runtime)  # no current runtime: moto's generic serializer
    try:
        generic = body()
    finally:
        REGISTRY.activate(stack.runtime)
    assert fast == generic == {"Item": item}
    assert ext_ddb._plain_attribute_value(item["m"]) == item["m"]
    with pytest.raises(ext_ddb._NotPlain):
        ext_ddb._plain_attribute_value({"B": b"x"})
    # a round trip through boto3 (binary included: the generic path) gives back what was written
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="ext-ddb", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="ext-ddb", Item={**item, "bin": {"B": b"\x00\x01"}})
    got = ddb.get_item(TableName="ext-ddb", Key={"pk": {"S": "a"}})["Item"]
    assert got == {**item, "bin": {"B": b"\x00\x01"}}


def _paged_table(name):
    """A DynamoDB client and a new table ``name`` keyed by ``pk`` (string) and ``sk`` (number)."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     BillingMode="PAY_PER_REQUEST")
    return ddb


def test_ddb_fast_item_size_and_copy_match_moto(stack):
    import copy
    import random

    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    size, deepcopy = DynamoType.size, DynamoType.__deepcopy__
    rng = random.Random(7)

    def value(depth):
        kind = rng.choice(["S", "N", "BOOL", "NULL", "SS", "NS", "B"] + (["M", "L"] * 2 if depth < 4 else []))
        if kind == "M":
            return {"M": {f"k{i}é"[: rng.randint(1, 4)] + str(i): value(depth + 1) for i in range(rng.randint(0, 4))}}
        if kind == "L":
            return {"L": [value(depth + 1) for _ in range(rng.randint(0, 4))]}
        return {kind: {"S": "ü" * rng.randint(0, 5), "N": str(rng.uniform(-1e6, 1e6)), "BOOL": rng.random() < 0.5,
                       "NULL": True, "SS": ["a", "bé"], "NS": ["1", "2.5"], "B": b"\x00\x01\x02"}[kind]}

    for _ in range(200):
        attrs = {"pk": {"S": "a"}, **{f"a{i}": value(0) for i in range(rng.randint(1, 6))}}
        item = Item(DynamoType({"S": "a"}), None, attrs)
        for v in item.attrs.values():
            assert size(v) == size.original(v)
            got, want = copy.deepcopy(v), deepcopy.original(v, {})
            assert got.to_json() == want.to_json()
            assert got == v
            if v.type in ("M", "L"):
                assert got.value is not v.value  # fresh nodes: mutating the copy leaves the item alone
        assert item.size() == sum(len(k.encode()) + size.original(v) for k, v in item.attrs.items())
    # the 1 MB page limit still falls where moto puts it: items of just over 100,000 bytes page at 9 of them
    ddb = _paged_table("ext-size")
    for i in range(14):
        ddb.put_item(TableName="ext-size", Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                 "m": {"M": {"x": {"L": [{"S": "y" * 1000}] * 100}}}})
    page = ddb.query(TableName="ext-size", KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}})
    assert page["Count"] == 9
    assert page["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "8"}}


def test_ddb_fast_results_match_moto(stack):
    import random

    from moto.dynamodb.models import utilities
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from samlocal import REGISTRY

    rng = random.Random(11)

    def value(depth):
        kind = rng.choice(["S", "N", "BOOL", "NULL", "SS", "NS", "B", "BS"] + (["M", "L"] * 2 if depth < 4 else []))
        if kind == "M":
            return {"M": {f"k{i}": value(depth + 1) for i in range(rng.randint(0, 4))}}
        if kind == "L":
            return {"L": [value(depth + 1) for _ in range(rng.randint(0, 4))]}
        return {kind: {"S": "ü" * rng.randint(0, 5), "N": str(rng.uniform(-1e6, 1e6)), "BOOL": rng.random() < 0.5,
                       "NULL": True, "SS": ["a", "bé"], "NS": ["1", "2.5"], "B": "AAEC", "BS": ["AAEC", "AQ=="]}[kind]}

    fast, moto = utilities.dynamo_to_dict, utilities.dynamo_to_dict.original
    for _ in range(200):
        attrs = {"pk": {"S": "a"}, **{f"a{i}": value(0) for i in range(rng.randint(1, 6))}}
        item = Item(DynamoType({"S": "a"}), None, attrs)
        doc = {"Items": [item.attrs, item.attrs], "Count": 2, "Item": item, "x": [1.5, None, True, "s"]}
        assert fast(doc) == moto(doc)

    # queries page where moto pages them, also after the items grew (an item is sized once per call, not kept)
    ddb = _paged_table("ext-results")

    def fill(width):
        for i in range(14):
            ddb.put_item(TableName="ext-results", Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                        "m": {"M": {"x": {"L": [{"S": "y" * width}] * 100}}}})

    def pages():
        out, start = [], {}
        while True:
            page = ddb.query(TableName="ext-results", KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "p"}}, **start)
            out.append(page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    for width in (1000, 2500):
        fill(width)
        ours = pages()
        with REGISTRY.suspended(stack.runtime):  # no current runtime: moto as shipped
            shipped = pages()
        assert ours == shipped
        assert [len(p) for p in ours] == ([9, 5] if width == 1000 else [3, 3, 3, 3, 2])
    assert ext_ddb._SIZES.sizes is None  # nothing kept between calls


def test_ddb_query_prefilter_matches_moto(stack, monkeypatch):
    """Filtered queries of the table, an index projecting ``ALL`` and a ``KEYS_ONLY`` one (filtered after the
    copy, as moto does): the same pages, counts and items as moto as shipped; only the kept items are copied."""
    import copy
    import random

    from samlocal import REGISTRY

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    ddb.create_table(
        TableName="ext-prefilter", KeySchema=keys, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in (("pk", "S"), ("sk", "N"),
                                                                                    ("at", "S"))],
        LocalSecondaryIndexes=[{"IndexName": "byAt", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [keys[0], {"AttributeName": "at", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{"IndexName": "keys", "KeySchema": [{"AttributeName": "at", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    rng = random.Random(5)
    for i in range(60):
        item = {"pk": {"S": "p"}, "sk": {"N": str(i)}, "at": {"S": f"2026-{1 + i % 12:02d}-{rng.randint(1, 28):02d}"},
                "pad": {"S": "x" * rng.choice([10, 40000])}}
        if rng.random() < 0.8:
            item["w"] = {"M": {"end": {"S": f"2026-{rng.randint(1, 12):02d}-01"}}}
        ddb.put_item(TableName="ext-prefilter", Item=item)
    copied = []
    real = copy.deepcopy

    def counting(x, memo=None):
        if type(x) is list:
            copied.append(len(x))
        return real(x, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)

    def pages(**query):
        out, start = [], {}
        while True:
            page = ddb.query(TableName="ext-prefilter", **query, **start)
            out.append({k: page[k] for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey") if k in page})
            if "LastEvaluatedKey" not in page:
                return out
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    filtered = {"FilterExpression": "#w.#e > :x", "ExpressionAttributeNames": {"#w": "w", "#e": "end"}}
    for index, limit in ((None, 25), ("byAt", 7), ("byAt", 100)):
        query = {"KeyConditionExpression": "pk = :p", "ScanIndexForward": False, "Limit": limit, **filtered,
                 "ExpressionAttributeValues": {":p": {"S": "p"}, ":x": {"S": "2026-07"}},
                 **({"IndexName": index} if index else {})}
        copied.clear()
        ours = pages(**query)
        kept = sum(p["Count"] for p in ours)
        assert 0 < kept < sum(p["ScannedCount"] for p in ours)
        assert sum(copied) == kept  # only the items the filter kept were copied
        with REGISTRY.suspended(stack.runtime):  # no current runtime: moto as shipped
            assert pages(**query) == ours
    keys_only = {"IndexName": "keys", "KeyConditionExpression": "#a = :a", "FilterExpression": "sk > :n",
                 "ExpressionAttributeNames": {"#a": "at"},
                 "ExpressionAttributeValues": {":a": {"S": "2026-01-05"}, ":n": {"N": "3"}}}
    ours = pages(**keys_only)
    with REGISTRY.suspended(stack.runtime):
        assert pages(**keys_only) == ours
    assert ext_ddb._PREFILTER.expr is None


def test_ddb_update_action_counts_match_moto(stack):
    """Updates of many attributes, every clause kind, and expressions with repeated clauses: the same items and the
    same errors as moto as shipped."""
    import random

    from samlocal import REGISTRY

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="ext-actions", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    rng = random.Random(11)

    def update(key, expression, values):
        try:
            ddb.update_item(TableName="ext-actions", Key={"pk": {"S": key}}, UpdateExpression=expression,
                            **({"ExpressionAttributeValues": values} if values else {}))
        except ClientError as exc:
            return exc.response["Error"]
        return ddb.get_item(TableName="ext-actions", Key={"pk": {"S": key}})["Item"]

    cases = [(f"SET {', '.join(f'a{i} = :v{i}' for i in range(80))}",
              {f":v{i}": {"N": str(i)} for i in range(80)})]
    for _ in range(40):
        clauses, values = [], {}
        for kind in rng.choices(["SET", "ADD", "REMOVE"], k=rng.randint(1, 4)):
            names = [f"b{rng.randint(0, 30)}" for _ in range(rng.randint(1, 5))]
            if kind == "SET":
                clauses.append("SET " + ", ".join(f"{n} = :s{len(values) + j}" for j, n in enumerate(names)))
                values.update({f":s{len(values) + j}": {"S": n} for j, n in enumerate(names)})
            elif kind == "ADD":
                clauses.append("ADD " + ", ".join(f"{n}x :n{len(values) + j}" for j, n in enumerate(names)))
                values.update({f":n{len(values) + j}": {"N": "1"} for j in range(len(names))})
            else:
                clauses.append("REMOVE " + ", ".join(names))
        cases.append((" ".join(clauses), values))
    outcomes = set()
    for i, (expression, values) in enumerate(cases):
        ours = update(f"k{i}", expression, values)
        with REGISTRY.suspended(stack.runtime):  # no current runtime: moto as shipped
            shipped = update(f"m{i}", expression, values)
        if "Code" not in ours:
            shipped = {k: v for k, v in shipped.items() if k != "pk"}
            ours = {k: v for k, v in ours.items() if k != "pk"}
        assert ours == shipped, expression
        outcomes.add(ours["Message"] if "Code" in ours else "ok")
    assert "ok" in outcomes  # updates that succeed, and each clause repeated (moto's TooManyClauses)
    for clause in ("ADD", "REMOVE", "SET"):
        assert any(f'The "{clause}" section can only be used once' in o for o in outcomes), clause


def test_sfn_distributed_map_reads_s3_in_batches(stack):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="ext-dmap")
    n = 1003  # more than one ListObjectsV2 page
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]  # written straight into the backend (1003 API calls cost ~10 s);
    for i in range(n):  # the Map still reads them through ListObjectsV2, page by page
        backend.put_object("ext-dmap", f"in/{i:04d}.txt", b"x" * (i % 7))
    s3.put_object(Bucket="ext-dmap", Key="other/skip.txt", Body=b"x")
    arn = _machine(stack, "ext-dmap", {
        "StartAt": "M",
        "States": {"M": {
            "Type": "Map",
            "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                           "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.prefix"}},
            "ItemBatcher": {"MaxItemsPerBatchPath": "$.per", "BatchInput": {"tag.$": "$.tag", "fixed": 1}},
            "MaxConcurrency": 4,
            "ToleratedFailurePercentage": 0,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True, "Parameters": {
                    "n.$": "States.ArrayLength($.Items)", "input.$": "$.BatchInput", "items.$": "$.Items"}}},
            },
            "End": True,
        }},
    })
    out = _run(stack, arn, {"bucket": "ext-dmap", "prefix": "in/", "per": 250, "tag": "t"})
    assert out["status"] == "SUCCEEDED", out
    batches = json.loads(out["output"])
    assert [b["n"] for b in batches] == [250, 250, 250, 250, 3]
    assert all(b["input"] == {"tag": "t", "fixed": 1} for b in batches)
    items = [i for b in batches for i in b["items"]]
    assert [i["Key"] for i in items] == [f"in/{i:04d}.txt" for i in range(n)]
    assert [i["Size"] for i in items] == [i % 7 for i in range(n)]
    assert all(isinstance(i["LastModified"], str) and i["LastModified"].endswith("Z") for i in items)
    history = boto3.client("stepfunctions", region_name="us-east-1").get_execution_history(
        executionArn=out["executionArn"])["events"]
    assert {"MapRunStarted", "MapRunSucceeded"} <= {e["type"] for e in history}


def test_sfn_distributed_map_batches_by_bytes_and_normalises_the_definition():
    items = [{"Key": f"k{i}", "Size": i} for i in range(10)]
    size = len(json.dumps(items[0])) + 1
    batches = sfn_map.make_batches(items, {"MaxInputBytesPerBatch": 3 * size}, {})
    assert [len(b["Items"]) for b in batches] == [3, 3, 3, 1]
    assert [i for b in batches for i in b["Items"]] == items
    assert "BatchInput" not in batches[0]
    with pytest.raises(ValueError, match="MaxItemsPerBatch"):
        sfn_map.make_batches(items, {"BatchInput": {}}, {})
    text = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailurePercentage": 5, "End": True,
                                          "ItemBatcher": {"MaxItemsPerBatch": 2},
                                          "ItemProcessor": {"StartAt": "X", "States": {"X": {
                                              "Type": "Pass", "End": True}}}}}}]}}})
    normalised, batchers = sfn_map._normalise_map_states(text)
    assert batchers == {"M": {"MaxItemsPerBatch": 2}}
    m = json.loads(normalised)["States"]["P"]["Branches"][0]["States"]["M"]
    assert "ItemBatcher" not in m
    assert m["ToleratedFailurePercentage"] == 5.0
    plain = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert sfn_map._normalise_map_states(plain) == (plain, {})
    # Step Functions fails a Map Run above either tolerance (count or percentage)
    assert sfn_map._exceeds_tolerance(1, 10, 0, 0.0)
    assert not sfn_map._exceeds_tolerance(1, 10, 1, 10.0)
    assert sfn_map._exceeds_tolerance(2, 10, 5, 10.0)
    assert sfn_map._exceeds_tolerance(2, 10, 1, 50.0)


def test_sfn_distributed_map_child_failure_fails_the_map_and_is_caught_around_a_parallel(stack):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="ext-dmap-fail")
    for i in range(4):
        s3.put_object(Bucket="ext-dmap-fail", Key=f"in/{i}.txt", Body=b"x")
    arn = _machine(stack, "ext-dmap-fail", {
        "StartAt": "Par",
        "States": {
            "Par": {"Type": "Parallel", "Branches": [{"StartAt": "M", "States": {"M": {
                "Type": "Map",
                "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                               "Parameters": {"Bucket": "ext-dmap-fail", "Prefix": "in/"}},
                "ItemBatcher": {"MaxItemsPerBatch": 2},
                "ToleratedFailurePercentage": 0,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                  "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}},
                "End": True}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    })
    out = _run(stack, arn, {})
    assert out["status"] == "SUCCEEDED", out
    error = json.loads(out["output"])["error"]
    assert error["Error"] == "States.ExceedToleratedFailureThreshold"
    assert "2 of 2" in error["Cause"]


def test_kms_lazy_private_key_only_for_keys_that_never_sign(stack):
    from moto.kms.models import kms_backends
    from samlocal.moto_ext.kms import LazyPrivateKey

    kms = boto3.client("kms", region_name="us-east-1")
    symmetric = kms.create_key(Description="data")["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    keys = kms_backends["123456789012"]["us-east-1"].keys
    assert isinstance(keys[symmetric].private_key, LazyPrivateKey)
    assert not keys[symmetric].private_key.generated
    assert not isinstance(keys[signing].private_key, LazyPrivateKey)
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert not keys[symmetric].private_key.generated
    signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=signing, Message=b"m", Signature=signature,
                      SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    with pytest.raises(ClientError):
        kms.create_key(KeySpec="RSA_1024", KeyUsage="SIGN_VERIFY")
    # a first use generates it with moto's own generator
    assert keys[symmetric].private_key.public_key() is not None
    assert keys[symmetric].private_key.generated


def test_s3_prefix_listing_reads_only_the_prefix_and_answers_as_moto(stack, monkeypatch):
    from moto.s3.models import S3Backend, s3_backends
    from moto.s3.utils import _VersionedKeyStore

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="ext-listing")
    s3.put_bucket_versioning(Bucket="ext-listing", VersioningConfiguration={"Status": "Enabled"})
    names = [f"runs/m/{r:02d}/{leaf}" for r in range(12) for leaf in ("a.json", "b.json", "deep/c.json")]
    names += ["runs/m", "runs/mx/1", "other/runs/m/1", "runs/m/05/a.json"]  # an overwrite: two versions
    for name in names:
        s3.put_object(Bucket="ext-listing", Key=name, Body=b"x")
    s3.delete_object(Bucket="ext-listing", Key="runs/m/03/b.json")  # a delete marker is latest
    backend = s3_backends["123456789012"]["aws"]
    bucket = backend.get_bucket("ext-listing")
    original = S3Backend.list_objects.__wrapped__.original

    def names_of(result):
        keys, folders, truncated, marker = result
        return [k.name for k in keys], list(folders), truncated, marker

    for prefix, delimiter, marker, max_keys in [
        ("runs/m/", None, None, None), ("runs/m/", "/", None, None), ("runs/m", None, None, None),
        ("runs/m/0", "/", None, 3), ("runs/m/", None, "runs/m/04/b.json", 5), ("nothing/", None, None, None),
    ]:
        ours = backend.list_objects(bucket, prefix, delimiter, marker, max_keys)
        assert names_of(ours) == names_of(original(backend, bucket, prefix, delimiter, marker, max_keys))
    listed = s3.list_objects_v2(Bucket="ext-listing", Prefix="runs/m/03/")["Contents"]
    assert [o["Key"] for o in listed] == ["runs/m/03/a.json", "runs/m/03/deep/c.json"]

    # ListObjectsV2 from a StartAfter, page by page with continuation tokens: the same pages as moto's
    v2 = S3Backend.list_objects_v2
    original_v2 = getattr(v2, "__wrapped__", v2).original

    def pages(listing, prefix, delimiter, start_after, max_keys):
        out, token = [], None
        while True:
            keys, truncated, token = listing(backend, bucket, prefix, delimiter, token, start_after, max_keys)
            out.append([k if isinstance(k, str) else k.name for k in keys])
            if not truncated:
                return out

    for prefix, delimiter, start_after, max_keys in [
        ("runs/m/", None, "runs/m/04/b.json", 5), ("runs/m/", "/", "runs/m/04", 3), ("runs/m/", "/", "runs/m/04/", 2),
        ("runs/m/0", "/", "runs/m/05/deep/c.json", 1000), ("runs/m", None, "runs/m", 4), ("runs/", "/", "runs/m/11", 2),
        ("runs/m/", None, "runs/m/03/b.json", 1000), ("runs/m/", None, "zzz", 10), ("runs/m/", "/", None, 4),
    ]:
        assert pages(v2, prefix, delimiter, start_after, max_keys) == \
            pages(original_v2, prefix, delimiter, start_after, max_keys), (prefix, delimiter, start_after)
    after = s3.list_objects_v2(Bucket="ext-listing", Prefix="runs/m/", StartAfter="runs/m/10/deep/c.json")
    assert [o["Key"] for o in after["Contents"]] == [f"runs/m/11/{leaf}" for leaf in ("a.json", "b.json",
                                                                                      "deep/c.json")]

    def every_key(self):
        raise AssertionError("a prefix listing read every key of the bucket")

    monkeypatch.setattr(_VersionedKeyStore, "items", every_key)
    assert s3.list_objects_v2(Bucket="ext-listing", Prefix="runs/mx/")["KeyCount"] == 1
    assert s3.list_objects_v2(Bucket="ext-listing", Prefix="runs/m/", StartAfter="runs/m/11/b.json")["KeyCount"] == 1
