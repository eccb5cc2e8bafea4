"""Load test of ``make up``: signed run requests against a server subprocess, on loopback, bounded in count and time.

    .venv/bin/python benchmarks/load_up.py                 # 200 run requests over 60 s (the issue's load)
    .venv/bin/python benchmarks/load_up.py --requests 20 --seconds 10

Starts ``python -m driftline_offline.server`` on free loopback ports (its own process group), waits for the ready
line, then for ``--seconds`` sends ``--requests`` SigV4-signed ``POST /models/example-classifier/runs`` at an even
pace (each in its own thread, 30 s client timeout) while a health probe ``GET /models/example-classifier`` runs
once a second. Afterwards it waits (at most ``--drain`` s) until every execution those requests started has left
``RUNNING``, waits ``--settle`` s, and compares the server's resident memory with its value at the ready line.
The server is stopped with SIGTERM (SIGKILL after 30 s) in every case. Prints one JSON document and exits 1 if a
target is missed:

- every run request answered 2xx, p95 latency <= 2 s; every health probe answered 200, p95 <= 2 s;
- every request answered with an execution, and every execution started ends (not ``RUNNING``) within ``--drain`` s
  (the API starts one run per model and window, so the requests of one hour share one execution);
- resident memory after the runs within 20 % of the memory at start.

The server runs with ``--scenario none`` (no streamed traffic: the requests are the load) and its stderr goes to
``build/load_up/server.log``; the execution statuses are read with one ``ListExecutions`` every 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
PYTHONPATH = ("layers/metrics", "layers/common", "functions/metric_evaluator", "functions/drift_checker",
              "functions/retrain_launcher", "functions/deployer", "functions/api", "functions/trigger_router",
              "offline", "examples", ".")
MODEL = "example-classifier"
CREDENTIALS = Credentials("test", "test")
MAX_RUNTIME_S = 1800.0  # the whole benchmark stops by itself after this, whatever happens
LOG = ROOT / "build" / "load_up" / "server.log"  # the server's stderr (its functions' logs, warnings)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _signed(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(CREDENTIALS, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


class Server:
    def __init__(self, args: list[str], log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DRIFTLINE_"))}
        env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in PYTHONPATH)
        env["PYTHONUNBUFFERED"] = "1"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log.open("w")
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "driftline_offline.server", "--host", "127.0.0.1", "--aws-port", "0",
             "--api-port", "0", "--scenario", "none", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
        )
        self.ready_line = ""

    def wait_ready(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited with {self.proc.wait()} before it was ready")
            if "ready" in line:
                self.ready_line = line.strip()
                threading.Thread(target=self._drain, daemon=True).start()
                return dict(part.split("=", 1) for part in line.split() if "=" in part)
        raise TimeoutError(f"server not ready after {timeout} s")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                return self.proc.wait(10)
        return self.proc.returncode


def run(n_requests: int, seconds: float, drain: float, settle: float, server_args: list[str]) -> dict[str, Any]:
    started_at = time.monotonic()
    server = Server(server_args, LOG)
    try:
        urls = server.wait_ready(300)
        api, aws = urls["api"], urls["aws"]
        time.sleep(1.0)
        rss_start = _rss_mb(server.proc.pid)
        sfn = boto3.client("stepfunctions", endpoint_url=aws, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test",  # noqa: S106 - the offline stack's documented key
                           config=Config(retries={"max_attempts": 3}))

        runs: list[dict[str, Any]] = []
        probes: list[dict[str, Any]] = []
        lock = threading.Lock()
        stop_probe = threading.Event()

        def request_run(i: int) -> None:
            url = f"{api}/models/{MODEL}/runs"
            body = b"{}"
            t0 = time.perf_counter()
            record: dict[str, Any] = {"i": i}
            try:
                r = requests.post(url, data=body, headers=_signed("POST", url, body), timeout=30)
                record.update(status=r.status_code, arn=(r.json() or {}).get("executionArn") if r.ok else None)
            except requests.RequestException as exc:
                record.update(status=None, error=type(exc).__name__)
            record["latency_s"] = time.perf_counter() - t0
            with lock:
                runs.append(record)

        def probe() -> None:
            url = f"{api}/models/{MODEL}"
            while not stop_probe.wait(1.0):
                t0 = time.perf_counter()
                try:
                    status = requests.get(url, headers=_signed("GET", url), timeout=30).status_code
                except requests.RequestException:
                    status = None
                probes.append({"status": status, "latency_s": time.perf_counter() - t0})

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        load_start = time.monotonic()
        senders = []
        interval = seconds / n_requests
        for i in range(n_requests):
            delay = load_start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = threading.Thread(target=request_run, args=(i,), daemon=True)
            t.start()
            senders.append(t)
        for t in senders:
            t.join(35)  # each request has a 30 s client timeout: every answer is in before the executions are read
        send_s = time.monotonic() - load_start

        arns = [r["arn"] for r in runs if r.get("arn")]
        statuses: dict[str, str] = {}
        drain_deadline = time.monotonic() + drain
        machine = arns[0].replace(":execution:", ":stateMachine:").rsplit(":", 1)[0] if arns else ""
        wanted = set(arns)
        while arns and time.monotonic() < min(drain_deadline, started_at + MAX_RUNTIME_S):
            # one listing every 2 s (describing each execution every second would itself be the server's load)
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
                statuses.update({e["executionArn"]: e["status"] for e in page["executions"]
                                 if e["executionArn"] in wanted})
            if len(statuses) == len(wanted) and all(s != "RUNNING" for s in statuses.values()):
                break
            time.sleep(2.0)
        all_done_s = time.monotonic() - load_start
        stop_probe.set()
        prober.join(35)
        rss_peak_seen = _rss_mb(server.proc.pid)
        time.sleep(settle)
        rss_end = _rss_mb(server.proc.pid)

        latencies = sorted(r["latency_s"] for r in runs)
        probe_lat = sorted(p["latency_s"] for p in probes)
        outcome: dict[str, int] = {}
        for s in statuses.values():
            outcome[s] = outcome.get(s, 0) + 1
        result = {
            "requests": n_requests, "seconds": seconds, "send_s": round(send_s, 1),
            "answered_2xx": sum(1 for r in runs if r.get("status") in (200, 201, 202)),
            "other_status": sorted({str(r.get("status")) for r in runs} - {"200", "201", "202"}),
            "run_latency_s": {"p50": _p(latencies, 50), "p95": _p(latencies, 95), "max": latencies[-1] if latencies
                              else None},
            "health_probes": len(probes), "health_ok": sum(1 for p in probes if p["status"] == 200),
            "health_latency_s": {"p50": _p(probe_lat, 50), "p95": _p(probe_lat, 95),
                                 "max": probe_lat[-1] if probe_lat else None},
            # the API starts one run per model and window: requests within one hour share one execution
            "executions": len(wanted), "answers_with_execution": len(arns), "execution_status": outcome,
            "still_running": sum(1 for s in statuses.values() if s == "RUNNING") + (len(wanted) - len(statuses)),
            "all_done_after_s": round(all_done_s, 1),
            "server_cpu_s": round(_cpu_s(server.proc.pid), 1),
            "rss_mb": {"start": round(rss_start, 1), "after_runs": round(rss_peak_seen, 1),
                       "after_settle": round(rss_end, 1), "ratio": round(rss_end / rss_start, 3)},
        }
        for key in ("run_latency_s", "health_latency_s"):
            result[key] = {k: (round(v, 3) if v is not None else None) for k, v in result[key].items()}
        p95_run = result["run_latency_s"]["p95"]
        p95_health = result["health_latency_s"]["p95"]
        result["targets"] = {
            "all_answered_2xx": result["answered_2xx"] == n_requests,
            "run_p95_le_2s": p95_run is not None and p95_run <= 2.0,
            "health_all_ok": result["health_ok"] == len(probes) > 0,
            "health_p95_le_2s": p95_health is not None and p95_health <= 2.0,
            "all_executions_finished": result["still_running"] == 0 and len(arns) == n_requests and bool(wanted),
            "memory_within_20pct": rss_end <= 1.2 * rss_start,
        }
        result["met"] = all(result["targets"].values())
        return result
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=900.0, help="max seconds to wait for the executions")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the last execution and the memory")
    parser.add_argument("--server-arg", action="append", default=[], help="extra argument for the server")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 1000 or not 0 < args.seconds <= 600:
        parser.error("--requests must be in 1..1000 and --seconds in (0, 600]")
    result = run(args.requests, args.seconds, min(args.drain, MAX_RUNTIME_S), args.settle, args.server_arg)
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
