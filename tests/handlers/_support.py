"""Helpers shared by the handler tests: a Lambda context and a queue that records the Driftline bus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from tests.conftest import REGION


@dataclass
class Context:
    function_name: str = "driftline-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:driftline-test"
    aws_request_id: str = "req-1"


def bus_recorder(bus: str) -> str:
    """An SQS queue receiving every ``driftline`` event on ``bus``; returns its URL."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="bus-recorder")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="record", EventBusName=bus, EventPattern='{"source": ["driftline"]}')
    events.put_targets(Rule="record", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    out = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out
