"""The local HTTP API answers while a pipeline's function is busy (functions are not serialised process-wide)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from driftline_offline import OfflineStack
from samlocal.apigw import HttpApiApp, Route
from samlocal.sigv4 import SigV4Verifier
from werkzeug.serving import make_server

TEMPLATE = Path(__file__).resolve().parents[1] / "offline" / "fixtures" / "template.yaml"


@pytest.fixture
def served_stack():
    with OfflineStack.running(TEMPLATE, clock=datetime(2024, 1, 1, tzinfo=UTC)) as stack:
        app = HttpApiApp([Route("GET", "/health", "Approver")], stack.invoke, SigV4Verifier({"test": "test"}))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield stack, f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
            app.close()


def test_a_health_get_is_answered_while_a_pipeline_function_runs(served_stack):
    stack, base = served_stack
    entered, release = threading.Event(), threading.Event()

    def pipeline_step(event, context):  # a long pipeline step (an evaluation over a big window)
        entered.set()
        assert release.wait(30)
        return {"done": True}

    stack.runtime.lambdas.find("Scorer")._callable = pipeline_step
    stack.runtime.lambdas.find("Approver")._callable = lambda event, context: {"statusCode": 200, "body": "{}"}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="busy", roleArn="arn:aws:iam::123456789012:role/driftline-offline-execution-role",
        definition=json.dumps({"StartAt": "Evaluate", "States": {"Evaluate": {
            "Type": "Task", "Resource": stack.attribute("Scorer", "Arn"), "End": True}}}),
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    try:
        assert entered.wait(30), "the pipeline step did not start"
        request = AWSRequest(method="GET", url=f"{base}/health")
        SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(request)
        r = requests.get(f"{base}/health", headers=dict(request.headers.items()), timeout=10)
        assert r.status_code == 200, r.text
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # answered during the run
    finally:
        release.set()
    out = stack.wait_execution(arn, timeout=30)
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"done": True}
