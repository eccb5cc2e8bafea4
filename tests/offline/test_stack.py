"""Deploying the fixture SAM template into moto and running it."""

import json
from datetime import timedelta

import boto3
import pytest
from driftline_offline import OfflineStack, StackError

from .conftest import T0, TEMPLATE


def test_deploy_creates_every_resource_with_resolved_names(stack):
    s3, ddb, sns, events = (boto3.client(x, region_name="us-east-1") for x in ("s3", "dynamodb", "sns", "events"))
    assert stack.resource("DataBucket") == "fx-data-dev-123456789012"
    assert stack.resource("DataBucket") in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert stack.resource("ScratchBucket") in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    table = ddb.describe_table(TableName="fx-runs-dev")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    ttl = ddb.describe_time_to_live(TableName="fx-runs-dev")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"
    assert stack.resource("AlertsTopic") in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert "fx-bus-dev" in [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    rules = events.list_rules(EventBusName="fx-bus-dev")["Rules"]
    assert {r["Name"] for r in rules} >= {"driftline-TransformRule", "driftline-Scorer-ScoreRequested"}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = sfn.describe_state_machine(stateMachineArn=stack.resource("Pipeline"))["definition"]
    assert "${" not in definition
    assert stack.attribute("Scorer", "Arn") in definition
    assert stack.outputs == {"PipelineArn": stack.resource("Pipeline"), "BucketName": "fx-data-dev-123456789012"}
    assert stack.skipped["AlertsSubscription"] == "condition HasEmail is false"
    assert stack.apis == [{"function": "Scorer", "event": "Api", "type": "HttpApi", "Path": "/score", "Method": "post"}]
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["fx-errors-dev"]


def test_parameters_and_conditions_change_the_deployment():
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "prod"}, clock=T0) as st:
        assert st.resource("RunsTable") == "fx-runs-prod"
        assert st.outputs["ProdOnly"] == "prod-output"
        assert st.invoke("Scorer", {})["own_only"] == "prod-only"
    with pytest.raises(StackError, match="AllowedValues"), OfflineStack.running(TEMPLATE, parameters={"Stage": "x"}):
        pass


def test_invoke_sets_environment_context_and_layer_only_during_the_call(stack, monkeypatch):
    monkeypatch.setenv("STAGE", "outer")
    out = stack.invoke("Scorer", {"k": 1})
    assert out["stage"] == "dev"
    assert out["bucket"] == stack.resource("DataBucket")
    assert out["table"] == stack.resource("RunsTable")
    assert out["topic"] == stack.resource("AlertsTopic")
    assert out["machine"] == stack.resource("Pipeline")
    assert out["bus_arn"] == stack.attribute("Bus", "Arn")
    assert out["own_only"] == "dev-only"
    assert out["memory"] == 512  # function overrides Globals
    assert out["function_name"] == "fx-scorer-dev"
    assert out["arn"] == stack.attribute("Scorer", "Arn")
    assert out["remaining_positive"] is True
    assert out["layer"] == "from-fxcommon-layer"
    assert out["event"] == {"k": 1}
    import os

    assert os.environ["STAGE"] == "outer"
    assert "TABLE" not in os.environ


def test_invoke_raises_the_handlers_own_exception(stack):
    with pytest.raises(Exception, match="not found") as info:
        stack.invoke("Failer", {"mode": "missing", "modelId": "m9"})
    assert type(info.value).__name__ == "ModelNotFound"


def test_boto3_invoke_returns_the_lambda_error_envelope(stack):
    lam = boto3.client("lambda", region_name="us-east-1")
    ok = lam.invoke(FunctionName=stack.resource("Failer"), Payload=json.dumps({"mode": "ok"}))
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["ok"] is True
    bad = lam.invoke(FunctionName=stack.attribute("Failer", "Arn"), Payload=json.dumps({"mode": "missing"}))
    assert bad["FunctionError"] == "Unhandled"
    envelope = json.loads(bad["Payload"].read())
    assert envelope["errorType"] == "ModelNotFound"
    assert "not found" in envelope["errorMessage"]
    assert any("fx_failer" in line for line in envelope["stackTrace"])


def test_pipeline_execution_happy_path_has_history(stack):
    # the speed of an execution is measured in benchmarks/bench_pipeline.py, not asserted here
    arn = stack.start_execution({"modelId": "m1", "mode": "ok"})
    out = stack.wait_execution(arn)
    assert out["status"] == "SUCCEEDED", out
    result = json.loads(out["output"])
    assert result["score"]["event"] == {"modelId": "m1", "mode": "ok"}
    assert result["check"]["result"]["ok"] is True
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="fx-runs-dev", Key={"pk": {"S": "m1"}, "sk": {"S": arn.split(":")[-1]}}
    )
    assert item["Item"]["stage"] == {"S": "dev"}
    types = [e["type"] for e in stack.history(arn)]
    assert types[0] == "ExecutionStarted"
    assert types[-1] == "ExecutionSucceeded"
    assert "WaitStateExited" in types
    # the putEvents task reached TransformRule's targets: the scorer with the transformed input
    delivered = [d for d in stack.runtime.deliveries if d["rule"] == "driftline-TransformRule"]
    scorer = [d for d in delivered if d["target"] == "scorer"]
    assert scorer[-1]["input"]["model"] == "m1"
    assert scorer[-1]["input"]["note"] == "model m1"


def test_wait_state_advances_the_simulated_clock_not_real_time(stack):
    before = stack.runtime.clock.now()
    out = stack.wait_execution(stack.start_execution({"modelId": "m1", "mode": "ok"}))
    assert out["status"] == "SUCCEEDED"
    assert stack.runtime.clock.now() - before >= timedelta(seconds=3600)
    assert out["startDate"] == before


def test_catch_matches_a_custom_exception_name(stack):
    out = stack.wait_execution(stack.start_execution({"modelId": "ghost", "mode": "missing"}))
    assert out["status"] == "SUCCEEDED"
    result = json.loads(out["output"])
    assert result["missing"] is True
    assert result["errorType"] == "ModelNotFound"
    assert result["cause"]["errorType"] == "ModelNotFound"
    assert "ghost" in result["cause"]["errorMessage"]


def test_unmatched_error_goes_to_states_all_and_fails(stack):
    out = stack.wait_execution(stack.start_execution({"modelId": "m", "mode": "boom"}))
    assert out["status"] == "FAILED"
    assert out["error"] == "PipelineFailed"


def test_retry_backoff_is_simulated(stack):
    before = stack.runtime.clock.now()
    out = stack.wait_execution(stack.start_execution({"modelId": "m", "mode": "flaky", "key": "k1", "succeed_on": 3}))
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"])["check"]["result"]["attempts"] == 3
    # Wait 3600 s + retries after 60 s and 120 s
    assert stack.runtime.clock.now() - before == timedelta(seconds=3600 + 60 + 120)


def test_retry_exhausted_falls_through_to_catch(stack):
    out = stack.wait_execution(stack.start_execution({"modelId": "m", "mode": "flaky", "key": "k2", "succeed_on": 9}))
    assert out["status"] == "FAILED"
    history = stack.history(out["executionArn"])
    failures = [e for e in history if e["type"] == "TaskFailed"]
    assert len(failures) == 4  # first attempt + MaxAttempts 3
    assert all(e["taskFailedEventDetails"]["error"] == "Flaky" for e in failures)


def test_put_events_through_boto3_reaches_state_machine_and_lambda_targets(stack):
    events = boto3.client("events", region_name="us-east-1")
    resp = events.put_events(
        Entries=[
            {"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Drift Detected",
             "Detail": json.dumps({"modelId": "m-drift", "mode": "ok"})},
            {"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Score Requested",
             "Detail": json.dumps({"modelId": "m-score"})},
            {"EventBusName": "fx-bus-dev", "Source": "other", "DetailType": "Drift Detected",
             "Detail": json.dumps({"modelId": "nobody"})},
        ]
    )
    assert resp["FailedEntryCount"] == 0
    assert len(stack.runtime.started_executions) == 1
    out = stack.wait_execution(stack.runtime.started_executions[0])
    assert json.loads(out["input"]) == {"modelId": "m-drift", "mode": "ok"}  # InputPath $.detail
    scored = [d for d in stack.runtime.deliveries if d["rule"] == "driftline-Scorer-ScoreRequested"]
    assert len(scored) == 1
    assert scored[0]["result"]["event"] == {"modelId": "m-score"}


def test_failed_lambda_target_goes_to_its_dead_letter_queue(stack):
    stack.put_events([{"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Transform Me",
                       "Detail": {"modelId": "m-dlq"}}])
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="fx-dlq-dev")["QueueUrl"]
    msgs = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    assert json.loads(msgs[0]["Body"])["detail"] == {"modelId": "m-dlq"}
    assert msgs[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ValueError"


def test_events_carry_the_simulated_time(stack):
    stack.runtime.clock.set(T0 + timedelta(days=3, hours=5))
    stack.put_events([{"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Transform Me",
                       "Detail": {"modelId": "m-t"}}])
    scorer = [d for d in stack.runtime.deliveries if d["target"] == "scorer"]
    assert scorer[-1]["input"]["when"] == "2024-01-04T05:00:00Z"


def test_advance_clock_fires_rate_and_cron_schedules_in_order(stack):
    arns = stack.advance_clock(T0 + timedelta(days=7))
    inputs = [json.loads(stack.wait_execution(a)["input"])["modelId"] for a in arns]
    # rate(1 day): Jan 2..8 at 00:00 (7), cron noon Mon-Fri: Jan 1..5 (5)
    assert inputs.count("m-daily") == 7
    assert inputs.count("m-noon") == 5
    starts = [stack.wait_execution(a)["startDate"] for a in arns]
    assert starts == sorted(starts)
    assert inputs[0] == "m-noon"  # Monday Jan 1 12:00 comes before Jan 2 00:00
    assert stack.runtime.clock.now() >= T0 + timedelta(days=7)
    schedule_event = next(d for d in stack.runtime.deliveries if d["rule"] == "driftline-NoonRule")["event"]
    assert schedule_event["detail-type"] == "Scheduled Event"
    assert schedule_event["time"] == "2024-01-01T12:00:00Z"


def test_fire_schedules_fires_only_what_is_due_now(stack):
    assert stack.fire_schedules(T0 + timedelta(hours=1)) == []
    arns = stack.fire_schedules(T0 + timedelta(days=1))
    assert [json.loads(stack.wait_execution(a)["input"])["modelId"] for a in arns] == ["m-daily"]


def test_s3_object_created_reaches_an_eventbridge_rule_on_the_default_bus(stack):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=stack.resource("DataBucket"), Key="ground-truth/m1/2024-01-01.jsonl", Body=b"{}\n")
    s3.put_object(Bucket=stack.resource("DataBucket"), Key="other/x.csv", Body=b"1\n")
    landed = [d for d in stack.runtime.deliveries if d["rule"] == "driftline-Scorer-GroundTruthLanded"]
    assert len(landed) == 1
    event = landed[0]["result"]["event"]
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["object"]["key"] == "ground-truth/m1/2024-01-01.jsonl"
    assert event["time"] == "2024-01-01T00:00:00Z"  # the simulated clock


def test_invoke_cli_prints_the_result_or_the_error_envelope(tmp_path, capsys):
    from samlocal.invoke import main  # the emulator's CLI (Driftline's make invoke also seeds the example)

    event = tmp_path / "e.json"
    event.write_text(json.dumps({"mode": "ok", "x": 1}))
    assert main(["Failer", "-e", str(event), "--template", str(TEMPLATE)]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "echo": {"mode": "ok", "x": 1}}
    event.write_text(json.dumps({"mode": "missing", "modelId": "m"}))
    assert main(["Failer", "-e", str(event), "--template", str(TEMPLATE), "--parameter-overrides", "Stage=prod"]) == 1
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["errorType"] == "ModelNotFound"
    assert main(["Nope", "--template", str(TEMPLATE)]) == 2
