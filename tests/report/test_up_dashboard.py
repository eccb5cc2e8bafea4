"""``make up`` exposes each model's CloudWatch dashboard and alarms through moto's CloudWatch, as a user reads them
with ``aws --endpoint-url ... cloudwatch get-dashboard`` / ``describe-alarms``: created by a signed
``PUT /models/{id}`` to the stack's HTTP API, gone after ``DELETE /models/{id}``.

One server subprocess (``--no-example``: nothing seeded, no pipeline runs), driven over HTTP; the AWS CLI of the
virtualenv when present (the commands of docs/reports.md), else boto3 against the same endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.server.test_server import START_TIMEOUT, Server, _urls

ROOT = Path(__file__).resolve().parents[2]
MODEL = "dash-check"
STAGE = "local"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = Server("--no-example", "--aws-port", "0", "--api-port", "0", tmp=tmp_path_factory.mktemp("up"))
    srv.urls = _urls(srv.wait_ready(START_TIMEOUT))
    yield srv
    srv.kill()


def _signed(method: str, url: str, body: Any = None) -> requests.Response:
    data = json.dumps(body) if body is not None else None
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"} if data
                         else {})
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers.items()), timeout=60)


def _aws_cli() -> str | None:
    local = Path(sys.executable).with_name("aws")
    return str(local) if local.exists() else shutil.which("aws")


def cloudwatch(up: Any, command: str, *args: str) -> tuple[int, dict[str, Any]]:
    """``aws cloudwatch <command> <args>`` against the server's AWS endpoint: (exit status, JSON output)."""
    cli = _aws_cli()
    if cli is not None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
        out = subprocess.run([cli, "--endpoint-url", up.urls["aws"], "--output", "json", "cloudwatch", command, *args],
                             capture_output=True, text=True, env=env, timeout=60, check=False)
        return out.returncode, (json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else
                                {"error": out.stderr})
    cw = boto3.client("cloudwatch", endpoint_url=up.urls["aws"], region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    params = {args[i].lstrip("-").title().replace("-", ""): args[i + 1] for i in range(0, len(args), 2)}
    try:
        return 0, getattr(cw, command.replace("-", "_"))(**params)
    except cw.exceptions.ClientError as exc:
        return 255, {"error": str(exc)}


def test_put_creates_and_delete_removes_the_models_dashboard_and_alarms(up: Any) -> None:
    text = (ROOT / "tests" / "fixtures" / "model_config_binary.json").read_text()
    body = json.loads(text.replace("s3://driftline-test-data/", "s3://driftline-databucket/"))  # the stack's bucket
    body["modelId"] = MODEL
    api = up.urls["api"]
    put = _signed("PUT", f"{api}/models/{MODEL}", body)
    assert put.status_code == 200, put.text

    code, got = cloudwatch(up, "get-dashboard", "--dashboard-name", f"driftline-{STAGE}-{MODEL}")
    assert code == 0, got
    dashboard = json.loads(got["DashboardBody"])
    titles = [w.get("properties", {}).get("title", "") for w in dashboard["widgets"]]
    for t in body["thresholds"]:
        assert any(t["metric"] in title for title in titles), (t, titles)
    code, got = cloudwatch(up, "describe-alarms", "--alarm-name-prefix", f"driftline-{STAGE}-{MODEL}-")
    assert code == 0, got
    alarms = {a["AlarmName"]: a for a in got["MetricAlarms"]}
    assert set(alarms) == {f"driftline-{STAGE}-{MODEL}-{t['metric']}" for t in body["thresholds"]}
    for t in body["thresholds"]:
        a = alarms[f"driftline-{STAGE}-{MODEL}-{t['metric']}"]
        assert a["MetricName"] == t["metric"]
        assert a["Threshold"] == t["min"]
        assert {"Name": "modelId", "Value": MODEL} in a["Dimensions"]
        assert a["AlarmActions"], a  # the alerts topic

    deleted = _signed("DELETE", f"{api}/models/{MODEL}")
    assert deleted.status_code in (200, 204), deleted.text
    code, got = cloudwatch(up, "get-dashboard", "--dashboard-name", f"driftline-{STAGE}-{MODEL}")
    assert code != 0
    assert "ResourceNotFound" in got["error"] or "does not exist" in got["error"], got
    code, got = cloudwatch(up, "describe-alarms", "--alarm-name-prefix", f"driftline-{STAGE}-{MODEL}-")
    assert code == 0, got
    assert got["MetricAlarms"] == []
