"""The ``sagemaker_model_registry`` moto extension (samlocal.moto_ext.sagemaker_registry): one test, so a moto
upgrade shows what broke."""

import json

import boto3
from samlocal import moto_ext
from samlocal.sagemaker_packages import package_container

REGION = "us-east-1"
SPEC = {"Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1",
                        "ModelDataUrl": "s3://b/model.tar.gz", "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}],
        "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}


def _events_queue() -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="package-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="packages", EventPattern=json.dumps({
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [{"prefix": "driftline-"}]}}))
    events.put_targets(Rule="packages", Targets=[{"Id": "q", "Arn": arn}])
    return url


def _drain(url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    out = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_model_package_updates_merge_and_send_state_change_events(stack):
    assert "sagemaker_model_registry" in moto_ext.installed()
    url = _events_queue()
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model_package_group(ModelPackageGroupName="driftline-m")
    sm.create_model_package_group(ModelPackageGroupName="other-group")
    arn = sm.create_model_package(
        ModelPackageGroupName="driftline-m", InferenceSpecification=SPEC, ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"driftline:runId": "r1", "driftline:role": "challenger"})["ModelPackageArn"]
    sm.create_model_package(ModelPackageGroupName="other-group", InferenceSpecification=SPEC)
    [created] = _drain(url)  # the other group's package matched no rule
    assert created["source"] == "aws.sagemaker"
    assert created["resources"] == [arn]
    assert created["detail"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert created["detail"]["ModelPackageVersion"] == 1
    assert isinstance(created["detail"]["CreationTime"], int)  # epoch milliseconds, as SageMaker sends

    # approve as `aws sagemaker update-model-package` does: the metadata stays, the event says Approved
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"driftline:deployedBy": "r2"})
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {"driftline:runId": "r1", "driftline:role": "challenger",
                                                       "driftline:deployedBy": "r2"}
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "ok")
    approved, updated = _drain(url)
    assert approved["detail"]["ModelApprovalStatus"] == "Approved"
    assert updated["detail"]["CustomerMetadataProperties"]["driftline:deployedBy"] == "r2"

    # a model created from the package is served with the package's container
    assert package_container(arn)["ModelDataUrl"] == "s3://b/model.tar.gz"
    assert package_container(arn.replace("/1", "/9")) == {}
