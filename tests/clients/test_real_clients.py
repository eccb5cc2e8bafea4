"""``make up`` driven by clients the project did not write, from their own virtual environments (``make clients``).

- SageMaker Python SDK v2 (``build/clients/v2``): ``Predictor.predict``, ``update_data_capture_config`` to a new
  destination at 20 % mid-hour (records land under the new prefix, in SageMaker's key layout, about one in five),
  ``disable/enable_data_capture``, ``S3Downloader``; ``endpoint_context()`` / ``list_monitors()`` get the JSON
  error of an operation the emulator does not implement at once (no retry, no HTML 500);
- SageMaker Python SDK v3's resources (``build/clients/v3``: ``sagemaker-core`` 2.x, which SDK v3 3.27 requires
  and re-exports; the full ``sagemaker==3.27.0`` did not resolve from the registry within 15 minutes):
  ``Endpoint.get()`` validates DescribeEndpoint's answer against the SDK's pydantic shapes, then ``invoke``;
- AWS CLI v1 (``build/clients/v2/bin/aws``): ``sagemaker describe-endpoint``, ``s3 ls``, ``cloudwatch
  list-dashboards`` / ``get-dashboard``, and an AWS error for a missing dashboard.

Each venv is created by ``make clients`` (pinned in requirements-clients-v2.txt / -v3.txt and their locks);
without it the tests are skipped and say so. The drivers (``drive_sdk_v2.py``, ``drive_sdk_v3.py``) import only
the clients.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_server import Server, _urls

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
V2 = ROOT / "build/clients/v2/bin"
V3 = ROOT / "build/clients/v3/bin"
ENDPOINT = "driftline-example-classifier"
BUCKET = "driftline-databucket"
CLIENT_TIMEOUT = 300
#: the stack deploys in ~15 s on an idle machine; these tests run as a CI step of their own, often on a busy one
START_TIMEOUT = 240.0

pytestmark = pytest.mark.slow
needs_v2 = pytest.mark.skipif(not (V2 / "python").exists() or not (V2 / "aws").exists(),
                              reason="no build/clients/v2 (SageMaker SDK v2 + AWS CLI v1): run `make clients`")
needs_v3 = pytest.mark.skipif(not (V3 / "python").exists(),
                              reason="no build/clients/v3 (SageMaker SDK v3): run `make clients`")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not (V2 / "python").exists() and not (V3 / "python").exists():
        pytest.skip("no client virtual environment under build/clients: run `make clients`")
    srv = Server("--scenario", "none", "--aws-port", "0", "--api-port", "0", tmp=tmp_path_factory.mktemp("clients"))
    srv.urls = _urls(srv.wait_ready(START_TIMEOUT))
    yield srv
    srv.kill()


def _client_env(server: Any) -> dict[str, str]:
    """A user's shell pointed at the local stack: no project code on the path, no AWS config files."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "DRIFTLINE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_ENDPOINT_URL=server.urls["aws"], SAGEMAKER_SUPPRESS_V2_WARNING="1")
    return env


def _run(server: Any, *argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=HERE, env=_client_env(server), capture_output=True,
                          text=True, timeout=CLIENT_TIMEOUT, check=False)


def _report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("DRIVER-REPORT ")]
    assert len(lines) == 1, proc.stdout[-3000:]
    return json.loads(lines[0].removeprefix("DRIVER-REPORT "))


@needs_v2
def test_aws_cli_v1(server: Any) -> None:
    aws = V2 / "aws"
    described = json.loads(_run(server, aws, "sagemaker", "describe-endpoint", "--endpoint-name", ENDPOINT,
                                "--output", "json").stdout)
    assert described["EndpointStatus"] == "InService"
    assert described["DataCaptureConfig"]["CaptureStatus"] == "Started"
    listing = _run(server, aws, "s3", "ls", f"s3://{BUCKET}/")
    assert listing.returncode == 0, listing.stderr
    assert "PRE datacapture/" in listing.stdout
    dashboards = json.loads(_run(server, aws, "cloudwatch", "list-dashboards", "--output", "json").stdout)
    name = dashboards["DashboardEntries"][0]["DashboardName"]
    body = json.loads(json.loads(_run(server, aws, "cloudwatch", "get-dashboard", "--dashboard-name", name,
                                      "--output", "json").stdout)["DashboardBody"])
    assert body["widgets"]
    missing = _run(server, aws, "cloudwatch", "get-dashboard", "--dashboard-name", "no-such-dashboard")
    assert missing.returncode == 255
    assert "(ResourceNotFound) when calling the GetDashboard operation" in missing.stderr


@needs_v2
def test_sagemaker_sdk_v2(server: Any) -> None:
    report = _report(_run(server, V2 / "python", HERE / "drive_sdk_v2.py", server.urls["aws"], ENDPOINT, BUCKET))
    assert report["sdk"].startswith("2.")
    assert 0.0 <= float(report["prediction"]) <= 1.0
    after = report["afterUpdate"]
    assert (after["CaptureStatus"], after["CurrentSamplingPercentage"]) == ("Started", 20)
    assert after["DestinationS3Uri"] == f"s3://{BUCKET}/capture-from-sdk-v2"
    captured = report["captured"]
    # SageMaker's layout under the new destination: <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl
    assert captured["files"]
    for uri in captured["files"]:
        parts = uri.removeprefix(f"s3://{BUCKET}/capture-from-sdk-v2/").split("/")
        assert parts[:2] == [ENDPOINT, "AllTraffic"]
        assert len(parts) == 7
        assert parts[-1].endswith(".jsonl")
    assert 1 <= captured["records"] <= 30  # 60 requests sampled at 20 %
    assert set(captured["inputs"]) == {"0.1,-0.2,0.3,1.2,-0.5,1"}
    assert report["afterDisable"]["CaptureStatus"] == "Stopped"
    assert report["afterEnable"]["CaptureStatus"] == "Started"
    for name in ("endpointContext", "listMonitors"):  # not emulated: AWS's JSON error at once
        err = report[name]["error"]
        assert (err["code"], err["status"], err["retries"]) == ("UnknownOperationException", 400, 0)


@needs_v3
def test_sagemaker_sdk_v3_endpoint(server: Any) -> None:
    report = _report(_run(server, V3 / "python", HERE / "drive_sdk_v3.py", ENDPOINT))
    assert report["sdk"].startswith("2.")  # sagemaker-core 2.x: the resources of SDK v3
    assert (report["name"], report["status"]) == (ENDPOINT, "InService")
    assert report["capture"]["status"] in ("Started", "Stopped")
    assert report["variants"] == ["AllTraffic"]
    assert 0.0 <= float(report["prediction"]) <= 1.0
