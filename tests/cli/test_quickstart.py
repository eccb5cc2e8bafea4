"""The README's "Quick start for your own model", run as written against ``make up``.

``make up`` runs as a subprocess on free loopback ports; the quick start's ``bash`` block is read from README.md
and every line is run in a fresh directory (``driftline`` is ``python -m driftline_cli`` when the console script
is not installed, ``python`` is this interpreter; the ``export`` line gets the server's actual URLs). Then the
results are checked: the backtest's files, the registered config and its baseline in S3, a run that ended, and
the other commands (``runs``, ``show``, ``report``, ``--window-end``) on the same stack.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from .conftest import ROOT, subprocess_env

START_TIMEOUT = 120.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    log = (tmp_path_factory.mktemp("up") / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "driftline_offline.server", "--aws-port", "0", "--api-port", "0",
                             "--no-example"], cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=log,
                            start_new_session=True, text=True)
    ready: list[str] = []
    event = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "driftline ready" in line:
                ready.append(line)
                event.set()
        event.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not event.wait(START_TIMEOUT) or not ready:
            raise AssertionError("make up did not start")
        yield dict(part.split("=", 1) for part in ready[0].split() if "=" in part)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def quickstart_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Quick start for your own model", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "the quick start has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _argv(line: str) -> list[str]:
    words = shlex.split(line)
    if words[0] == "driftline":
        installed = shutil.which("driftline", path=str(Path(sys.executable).parent))
        return [installed, *words[1:]] if installed else [sys.executable, "-m", "driftline_cli", *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    raise AssertionError(f"unexpected command in the quick start: {line}")


def test_readme_quick_start_runs_as_written(server: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "driftline_examples" / "classifier",
                    work / "examples" / "driftline_examples" / "classifier")
    env = subprocess_env()
    lines = quickstart_lines()
    assert [line.split()[1] for line in lines if line.startswith("driftline")] == [
        "init", "validate", "backtest", "register", "baseline", "run"]
    for line in lines:
        if line.startswith("export "):
            for assignment in shlex.split(line)[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value.replace("http://127.0.0.1:4566", server["aws"]).replace(
                    "http://127.0.0.1:3000", server["api"])
            continue
        started = time.monotonic()
        done = subprocess.run(_argv(line), cwd=work, env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        print(f"{time.monotonic() - started:6.1f} s  {line[:100]}")

    doc = json.loads((work / "build" / "backtest" / "backtest.json").read_text())
    assert doc["windowsReplayed"] == 7
    assert len(doc["windows"]) == 7
    for w in doc["windows"]:
        assert {"start", "end", "modelVersion", "metrics", "breaches", "drift", "decision", "deployed"} <= set(w)
        assert w["status"] == "SUCCEEDED"
        assert w["rows"] == 1000
        assert "roc_auc" in w["metrics"]
    # the sudden concept change on day 6 (window index 3 after 3 training days) breaches the thresholds
    assert any(w["breaches"] for w in doc["windows"][3:])
    assert not any(w["breaches"] for w in doc["windows"][:3])
    assert "<svg" in (work / "build" / "backtest" / "report.html").read_text()

    aws = {"endpoint_url": server["aws"], "region_name": "us-east-1", "aws_access_key_id": "test",
           "aws_secret_access_key": "test"}
    baseline = json.loads(boto3.client("s3", **aws).get_object(
        Bucket="driftline-databucket", Key="baselines/churn/baseline.json")["Body"].read())
    assert baseline["sampleSize"] == 10_000
    assert set(baseline["features"]) == {f"f{j}" for j in range(6)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "driftline_cli", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    runs = json.loads(cli("runs", "churn", "-o", "json").stdout)["runs"]
    assert len(runs) == 1
    assert runs[0]["status"] == "SUCCEEDED"
    shown = cli("show", "churn", runs[0]["runId"])
    assert shown.returncode == 0
    assert runs[0]["runId"] in shown.stdout
    assert "SUCCEEDED" in shown.stdout
    report = cli("report", "churn", "--to", "r.html")
    assert report.returncode == 0, report.stderr
    assert "<svg" in (work / "r.html").read_text() or "<table" in (work / "r.html").read_text()
    ended = cli("run", "churn", "--window-end", "2026-01-08T00:00:00Z", "--wait", "-o", "json")
    assert ended.returncode == 0, ended.stderr
    run = json.loads(ended.stdout)
    assert run["window"]["end"] == "2026-01-08T00:00:00Z"
    assert run["trigger"]["type"] == "manual"
    missing = cli("show", "churn", "no-such-run")
    assert missing.returncode == 1
    assert "404" in missing.stderr
