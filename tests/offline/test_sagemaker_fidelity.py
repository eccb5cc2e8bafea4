"""Local SageMaker as real clients see it: every answer carries what botocore's service model marks required,
operations the emulator does not implement answer with AWS's JSON error, Data Capture follows its destination."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from .test_moto_ext import _deploy_model, _job, _upload_source_and_data

BUCKET = "fx-data-dev-123456789012"


def missing_required(shape: Any, value: Any, path: str = "$") -> list[str]:
    """Paths of members botocore's ``shape`` marks required that ``value`` (a parsed response) lacks."""
    out: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if name not in value:
                out.append(f"{path}.{name}")
        for name, member in shape.members.items():
            if name in value:
                out.extend(missing_required(member, value[name], f"{path}.{name}"))
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(missing_required(shape.member, item, f"{path}[{i}]"))
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, item in value.items():
            out.extend(missing_required(shape.value, item, f"{path}.{k}"))
    return out


def _check(problems: list[str], client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """Call ``operation``; add ``"Operation: $.path"`` to ``problems`` for every required member it lacks."""
    response = getattr(client, _snake(operation))(**params)
    op = client.meta.service_model.operation_model(operation)
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if op.output_shape is not None:
        problems.extend(f"{operation}: {p}" for p in missing_required(op.output_shape, body))
    return response


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


def test_the_validator_finds_a_missing_required_member():
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("DescribeEndpoint").output_shape
    assert "$.DataCaptureConfig.CaptureStatus" in missing_required(shape, {
        "EndpointName": "e", "EndpointArn": "a", "EndpointStatus": "InService", "CreationTime": 0,
        "LastModifiedTime": 0, "DataCaptureConfig": {"EnableCapture": True, "DestinationS3Uri": "s3://b/p",
                                                     "CurrentSamplingPercentage": 10}})


def test_every_sagemaker_answer_has_the_fields_botocore_requires(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
    problems: list[str] = []
    _check(problems, sm, "CreateTrainingJob", **_job("job-fields", scale=1.0))
    job = _check(problems, sm, "DescribeTrainingJob", TrainingJobName="job-fields")
    _check(problems, sm, "ListTrainingJobs")
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 50,
               "DestinationS3Uri": f"s3://{BUCKET}/capture",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    config = _deploy_model(sm, "m-fields", uri, capture)
    _check(problems, sm, "DescribeModel", ModelName="m-fields")
    _check(problems, sm, "ListModels")
    _check(problems, sm, "DescribeEndpointConfig", EndpointConfigName=config)
    _check(problems, sm, "ListEndpointConfigs")
    _check(problems, sm, "CreateEndpoint", EndpointName="ep-fields", EndpointConfigName=config)
    started = _check(problems, sm, "DescribeEndpoint", EndpointName="ep-fields")
    _check(problems, sm, "ListEndpoints")
    _check(problems, rt, "InvokeEndpoint", EndpointName="ep-fields", Body="1,2,3", ContentType="text/csv")
    off = _deploy_model(sm, "m-fields-off", uri, {**capture, "EnableCapture": False})
    _check(problems, sm, "UpdateEndpoint", EndpointName="ep-fields", EndpointConfigName=off)
    stopped = _check(problems, sm, "DescribeEndpoint", EndpointName="ep-fields")
    _check(problems, sm, "ListTags", ResourceArn=stopped["EndpointArn"])
    assert problems == [], "\n".join(problems)
    assert started["DataCaptureConfig"]["CaptureStatus"] == "Started"
    assert started["DataCaptureConfig"]["CurrentSamplingPercentage"] == 50
    assert started["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{BUCKET}/capture"
    assert started["ProductionVariants"][0]["VariantName"] == "AllTraffic"
    assert stopped["DataCaptureConfig"]["CaptureStatus"] == "Stopped"


@pytest.mark.parametrize(("service", "operation", "code", "status"), [
    ("sagemaker", "list_monitoring_schedules", "UnknownOperationException", 400),  # SDK v2 list_monitors()
    ("sagemaker", "list_contexts", "UnknownOperationException", 400),  # SDK v2 endpoint_context()
    ("sns", "get_sms_sandbox_account_status", "InvalidAction", 400),  # a query protocol
])
def test_an_operation_moto_lacks_answers_with_aws_error_for_an_unknown_action(stack, service, operation, code,
                                                                            status):
    client = boto3.client(service, region_name="us-east-1")
    with pytest.raises(ClientError) as exc:
        getattr(client, operation)()
    err = exc.value.response
    assert err["Error"]["Code"] == code
    assert "not implemented" in err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err["ResponseMetadata"].get("RetryAttempts", 0) == 0  # surfaced at once, not retried


def _records(s3: Any, prefix: str) -> dict[str, list[dict[str, Any]]]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return {k: [json.loads(line) for line in s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().splitlines()]
            for k in sorted(keys)}


def test_data_capture_follows_an_update_to_a_new_destination_mid_hour(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    sm.create_training_job(**_job("job-cap", scale=1.0))
    uri = sm.describe_training_job(TrainingJobName="job-cap")["ModelArtifacts"]["S3ModelArtifacts"]
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": f"s3://{BUCKET}/cap-a",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
               "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
    sm.create_endpoint(EndpointName="ep-cap", EndpointConfigName=_deploy_model(sm, "m-cap-a", uri, capture))
    for i in range(3):
        stack.runtime.clock.advance(60)
        rt.invoke_endpoint(EndpointName="ep-cap", Body="1,2,3", ContentType="text/csv", InferenceId=f"a-{i}")
    before = _records(s3, "cap-a/")
    assert [len(v) for v in before.values()] == [3]  # appended to one object
    # the SDK's enable_data_capture(): a new config capturing elsewhere at 20 %, then UpdateEndpoint (same hour)
    moved = {**capture, "InitialSamplingPercentage": 20, "DestinationS3Uri": f"s3://{BUCKET}/cap-b"}
    sm.update_endpoint(EndpointName="ep-cap", EndpointConfigName=_deploy_model(sm, "m-cap-b", uri, moved))
    assert sm.describe_endpoint(EndpointName="ep-cap")["DataCaptureConfig"]["DestinationS3Uri"].endswith("/cap-b")
    for i in range(10):
        stack.runtime.clock.advance(60)
        rt.invoke_endpoint(EndpointName="ep-cap", Body="1,2,3", ContentType="text/csv", InferenceId=f"b-{i}")
    assert _records(s3, "cap-a/") == before  # the old destination's object is complete and untouched
    after = _records(s3, "cap-b/")
    assert len(after) == 1
    key, records = next(iter(after.items()))
    assert key.startswith("cap-b/ep-cap/AllTraffic/2024/01/01/00/")
    assert [r["eventMetadata"]["inferenceId"] for r in records] == ["b-4", "b-9"]  # 20 % of 10


def test_data_capture_rolls_over_to_a_new_object(stack):
    _upload_source_and_data()
    sm = boto3.client("sagemaker", region_name="us-east-1")
    rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    sm.create_training_job(**_job("job-roll", scale=1.0))
    uri = sm.describe_training_job(TrainingJobName="job-roll")["ModelArtifacts"]["S3ModelArtifacts"]
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": f"s3://{BUCKET}/roll",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    sm.create_endpoint(EndpointName="ep-roll", EndpointConfigName=_deploy_model(sm, "m-roll", uri, capture))
    stack.runtime.sagemaker.capture_object_bytes = 600  # about two records per object
    for i in range(5):
        stack.runtime.clock.advance(1)
        rt.invoke_endpoint(EndpointName="ep-roll", Body="1,2,3", ContentType="text/csv", InferenceId=f"r-{i}")
    objects = _records(s3, "roll/")
    assert len(objects) >= 2
    ids = [r["eventMetadata"]["inferenceId"] for records in objects.values() for r in records]
    assert sorted(ids) == [f"r-{i}" for i in range(5)]  # every record once, none lost by a roll-over
    stack.runtime.clock.advance(3600)  # a new hour starts a new object under its own prefix
    rt.invoke_endpoint(EndpointName="ep-roll", Body="1,2,3", ContentType="text/csv", InferenceId="next-hour")
    assert len(_records(s3, "roll/ep-roll/AllTraffic/2024/01/01/01/")) == 1
