"""``make up`` end to end: the server as a subprocess on free ports, driven over HTTP with boto3 and requests.

One server is started for the module (about 10-15 s: deploy, seed the example model); the tests put a
``Run Requested`` event, wait for the execution, read its results from S3 and compare the metrics with
scikit-learn on the very captured data and ground truth the server wrote; call the HTTP API signed, unsigned
and badly signed; then stop the server with SIGTERM and check it exits 0 leaving no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = [
    "layers/metrics", "layers/common", "functions/metric_evaluator", "functions/drift_checker",
    "functions/retrain_launcher", "functions/deployer", "functions/api", "functions/trigger_router", "offline",
    "examples", ".",
]
MODEL = "example-classifier"
SECRET = "test"
START_TIMEOUT = 60.0
RUN_TIMEOUT = 45.0

pytestmark = pytest.mark.slow


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DRIFTLINE_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in PYTHONPATH)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (the server runs in its own session)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


class Server:
    """The server subprocess; stdout is drained in a thread (the functions log JSON there)."""

    def __init__(self, *args: str, tmp: Path) -> None:
        self.stderr_path = tmp / "server.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "driftline_offline.server", *args],
            cwd=ROOT, env=_server_env(), stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True, text=True,
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "ready" in line:
                self._ready.set()
        self._ready.set()  # EOF: the process ended

    def wait_ready(self, timeout: float) -> str:
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            self.kill()
            raise AssertionError(f"server not ready after {timeout} s:\n{self.stderr()[-3000:]}")
        ready = [line for line in self.lines if "ready" in line]
        assert len(ready) == 1, self.lines
        return ready[0]

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._stderr.close()


def _urls(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = Server("--scenario", "none", "--aws-port", "0", "--api-port", "0", tmp=tmp_path_factory.mktemp("server"))
    started = time.monotonic()
    line = srv.wait_ready(START_TIMEOUT)
    srv.startup_s = time.monotonic() - started
    srv.urls = _urls(line)
    yield srv
    srv.kill()


def _client(server: Any, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=server.urls["aws"], region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def completed_run(server: Any) -> dict[str, Any]:
    """Put one ``Run Requested`` event and wait for its execution to finish."""
    events, sfn = _client(server, "events"), _client(server, "stepfunctions")
    machine = server.urls["state_machine"]
    before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    started = time.monotonic()
    out = events.put_events(Entries=[{
        "EventBusName": "driftline-local", "Source": "driftline", "DetailType": "Run Requested",
        "Detail": json.dumps({"modelId": MODEL}),
    }])
    assert out["FailedEntryCount"] == 0
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        new = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"]
               if e["executionArn"] not in before]
        if new and new[0]["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, f"no finished execution after {RUN_TIMEOUT} s: {new}"
        time.sleep(0.2)
    assert len(new) == 1, new  # exactly one rule delivered the event once
    description = sfn.describe_execution(executionArn=new[0]["executionArn"])
    description["elapsed_s"] = time.monotonic() - started
    if description["status"] != "SUCCEEDED":  # say why, with the server's log
        history = sfn.get_execution_history(executionArn=new[0]["executionArn"], maxResults=1000)["events"]
        failures = [e for e in history if "Failed" in e["type"]]
        description["diagnosis"] = {"failures": failures[-3:], "stderr": server.stderr()[-4000:]}
    return description


def test_ready_line_names_the_endpoints(server):
    urls = server.urls
    assert urls["aws"].startswith("http://127.0.0.1:")
    assert urls["api"].startswith("http://127.0.0.1:")
    assert urls["bus"] == "driftline-local"
    assert urls["model"] == MODEL
    assert server.startup_s < START_TIMEOUT


def test_the_template_is_deployed_behind_the_aws_endpoint(server):
    buses = {b["Name"] for b in _client(server, "events").list_event_buses()["EventBuses"]}
    assert "driftline-local" in buses
    rules = _client(server, "events").list_rules(EventBusName="driftline-local")["Rules"]
    patterns = [json.loads(r["EventPattern"]) for r in rules if r.get("EventPattern")]
    assert {"source": ["driftline"], "detail-type": ["Run Requested"]} in patterns
    names = {f["FunctionName"] for f in _client(server, "lambda").list_functions()["Functions"]}
    assert {"driftline-local-api", "driftline-local-metric-evaluator", "driftline-local-drift-checker",
            "driftline-local-retrain-launcher", "driftline-local-deployer"} <= names
    tables = set(_client(server, "dynamodb").list_tables()["TableNames"])
    assert len(tables) == 3


def test_run_requested_event_runs_the_pipeline(server, completed_run):
    assert completed_run["status"] == "SUCCEEDED", completed_run
    assert completed_run["elapsed_s"] < RUN_TIMEOUT
    output = json.loads(completed_run["output"])
    assert output["modelId"] == MODEL
    assert output["runId"] == completed_run["name"]
    assert output["status"] == "SUCCEEDED"
    # one stable day against the baseline of the same population: healthy, no retrain on a first window
    assert output["decision"]["retrain"] is False
    history = _client(server, "stepfunctions").get_execution_history(
        executionArn=completed_run["executionArn"], maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    top_level = [name for name in entered if name in ("StartRun", "Assess", "Decide", "Train", "Complete",
                                                      "RecordFailure")]
    assert top_level == ["StartRun", "Assess", "Decide", "Complete"], entered


def _read_jsonl(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            records.extend(json.loads(line) for line in body.splitlines() if line.strip())
    return records


def test_results_in_s3_match_a_reference_computation(server, completed_run):
    """The run's metrics equal scikit-learn's on the captured scores and ground truth read back from S3."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    s3 = _client(server, "s3")
    bucket = server.urls["bucket"]
    output = json.loads(completed_run["output"])
    run_prefix = f"runs/{MODEL}/{output['runId']}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=run_prefix).get("Contents", [])]
    assert keys, f"no results under s3://{bucket}/{run_prefix}"
    drift_uri = output["drift"]["resultUri"]
    assert drift_uri.startswith(f"s3://{bucket}/{run_prefix}")
    drift = json.loads(s3.get_object(Bucket=bucket, Key=drift_uri[len(f"s3://{bucket}/"):])["Body"].read())
    assert isinstance(drift, dict)
    assert drift

    config = json.loads(s3.get_object(Bucket=bucket, Key=f"baselines/{MODEL}/baseline.json")["Body"].read())
    assert config  # the baseline the drift check used exists where the config says

    # the captured requests of the run's window (the 24 hours before the hour the run was requested in)
    window = drift["window"]
    start, end = (datetime.strptime(window[k], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for k in ("start", "end"))
    assert end - start == timedelta(hours=24)
    capture = [r for r in _read_jsonl(s3, bucket, "datacapture/")
               if start <= datetime.strptime(r["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=UTC) < end]
    truth = _read_jsonl(s3, bucket, "ground-truth/")
    labels = {r["eventMetadata"]["eventId"]: int(r["groundTruthData"]["data"]) for r in truth}
    scores = {r["eventMetadata"]["inferenceId"]: float(r["captureData"]["endpointOutput"]["data"]) for r in capture}
    ids = sorted(set(labels) & set(scores))
    assert len(ids) > 1000  # most of the seeded day (all of it unless the hour turned since start-up)
    y = [labels[i] for i in ids]
    p = [scores[i] for i in ids]
    metrics = output["metrics"]
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y, [int(s >= 0.5) for s in p]), abs=1e-9)
    assert output["drift"]["sampleSize"] == len(ids)


def test_the_champion_endpoint_serves_the_captured_model(server, completed_run):
    """The example's endpoint answers a captured request with the score captured for it, and captures it."""
    s3 = _client(server, "s3")
    bucket = server.urls["bucket"]
    seeded = _read_jsonl(s3, bucket, "datacapture/")
    record = seeded[len(seeded) // 2]
    request = record["captureData"]["endpointInput"]["data"]
    expected = float(record["captureData"]["endpointOutput"]["data"])
    runtime = _client(server, "sagemaker-runtime")
    out = runtime.invoke_endpoint(EndpointName="driftline-example-classifier", ContentType="text/csv",
                                  Body=request, InferenceId="from-the-test")
    assert float(out["Body"].read().decode().strip()) == pytest.approx(expected, rel=1e-12)
    after = _read_jsonl(s3, bucket, "datacapture/")
    mine = [r for r in after if r["eventMetadata"].get("inferenceId") == "from-the-test"]
    assert len(mine) == 1
    assert mine[0]["captureData"]["endpointInput"]["data"] == request


def _signed_get(url: str, *, secret: str | None = None, service: str = "execute-api") -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("test", secret or SECRET), service, "us-east-1").add_auth(request)
    return requests.get(url, headers=dict(request.headers.items()), timeout=30)


def test_api_lists_the_run_when_signed(server, completed_run):
    r = _signed_get(f"{server.urls['api']}/models/{MODEL}/runs")
    assert r.status_code == 200, r.text
    runs = r.json()["runs"]
    mine = [run for run in runs if run.get("runId") == completed_run["name"]]
    assert len(mine) == 1, runs
    assert mine[0]["status"] == "SUCCEEDED"


def test_api_refuses_unsigned_and_badly_signed_calls(server):
    url = f"{server.urls['api']}/models/{MODEL}/runs"
    unsigned = requests.get(url, timeout=30)
    assert unsigned.status_code == 403
    assert unsigned.json() == {"message": "Forbidden"}
    assert _signed_get(url, secret="wrong").status_code == 403
    assert _signed_get(url, service="lambda").status_code == 403
    # the local endpoint's own timestamp check: a signature from an hour ago is refused
    import botocore.auth

    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None)
    try:
        stale = _signed_get(url)
    finally:
        botocore.auth.get_current_datetime = real
    assert stale.status_code == 403


def test_sigterm_stops_cleanly_and_leaves_no_process(server):
    pid = server.proc.pid
    api = server.urls["api"]
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    code = server.proc.wait(timeout=30)
    assert code == 0, server.stderr()[-3000:]
    assert time.monotonic() - started < 30
    time.sleep(0.2)
    assert _group_members(pid) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(api, timeout=5)


def _busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


@pytest.mark.parametrize("which", ["--aws-port", "--api-port"])
def test_a_busy_port_fails_fast_with_a_clear_error(tmp_path, which):
    other = "--api-port" if which == "--aws-port" else "--aws-port"
    with _busy_port() as sock:
        port = sock.getsockname()[1]
        started = time.monotonic()
        srv = Server(which, str(port), other, "0", "--no-example", tmp=tmp_path)
        try:
            code = srv.proc.wait(timeout=START_TIMEOUT)
        finally:
            srv.kill()
    assert code == 1
    assert f"Port {port} is in use" in srv.stderr()
    assert not any("ready" in line for line in srv.lines)
    assert time.monotonic() - started < 10  # before the deployment, not after


def test_ctrl_c_stops_cleanly(tmp_path):
    srv = Server("--scenario", "none", "--aws-port", "0", "--api-port", "0", "--no-example", tmp=tmp_path)
    try:
        urls = _urls(srv.wait_ready(START_TIMEOUT))
        assert urls["model"] == "-"
        # the AWS endpoint answers before the interrupt
        assert "driftline-local" in {b["Name"] for b in boto3.client(
            "events", endpoint_url=urls["aws"], region_name="us-east-1", aws_access_key_id="test",
            aws_secret_access_key="test").list_event_buses()["EventBuses"]}
        os.kill(srv.proc.pid, signal.SIGINT)
        assert srv.proc.wait(timeout=30) == 0, srv.stderr()[-3000:]
        time.sleep(0.2)
        assert _group_members(srv.proc.pid) == []
    finally:
        srv.kill()


_CHILDREN_SCRIPT = """
import subprocess, sys
from samlocal.server import _child_pids, _terminate_children
polite = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
stubborn = subprocess.Popen(
    [sys.executable, "-c",
     "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('armed', flush=True); "
     "time.sleep(60)"],
    stdout=subprocess.PIPE, text=True)
assert stubborn.stdout.readline().strip() == "armed"
everyone = polite + [stubborn]
assert sorted(_child_pids()) == sorted(p.pid for p in everyone), (_child_pids(), [p.pid for p in everyone])
_terminate_children(timeout=1.0)
print([p.wait(5) for p in everyone])
"""


def test_terminate_children_ends_what_the_server_started():
    """Run in its own interpreter: it ends *its* children (a local training script), SIGKILL if SIGTERM is ignored."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILDREN_SCRIPT], cwd=ROOT, env=_server_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [-signal.SIGTERM, -signal.SIGTERM, -signal.SIGKILL]
