"""Server options (flags and environment) and the example model's config, without starting anything."""

from __future__ import annotations

import json

import pytest
from driftline_common.config import parse_config
from driftline_offline import server


def _uris(value, out):
    if isinstance(value, str) and value.startswith("s3://"):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _uris(v, out)
    elif isinstance(value, list):
        for v in value:
            _uris(v, out)
    return out


def test_example_config_points_at_the_stack_bucket():
    cfg = server.example_config("driftline-databucket")
    uris = _uris(cfg, [])
    assert len(uris) >= 6
    assert all(u.startswith("s3://driftline-databucket/") for u in uris), uris
    assert cfg["modelId"] == "example-classifier"
    # the example's train.py accepts exactly these (the fixture's "epochs" is not one of its hyperparameters)
    from driftline_examples.classifier import train

    assert set(cfg["training"]["hyperparameters"]) <= set(train.DEFAULTS)
    parsed = parse_config(cfg, model_id="example-classifier")  # valid as stored
    assert parsed.model_id == "example-classifier"
    # nothing but the bucket changed
    original = json.loads((server.REPO_ROOT / "tests/fixtures/model_config_binary.json").read_text())
    assert cfg["features"] == original["features"]
    assert cfg["thresholds"] == original["thresholds"]


def test_ports_from_flags_and_environment(monkeypatch):
    for name in ("DRIFTLINE_AWS_PORT", "DRIFTLINE_API_PORT", "DRIFTLINE_HOST"):
        monkeypatch.delenv(name, raising=False)
    args = server.parse_args([])
    assert (args.host, args.aws_port, args.api_port) == ("127.0.0.1", 4566, 3000)
    monkeypatch.setenv("DRIFTLINE_AWS_PORT", "4600")
    monkeypatch.setenv("DRIFTLINE_API_PORT", "3100")
    args = server.parse_args([])
    assert (args.aws_port, args.api_port) == (4600, 3100)
    args = server.parse_args(["--aws-port", "0", "--api-port", "5"])
    assert (args.aws_port, args.api_port) == (0, 5)


@pytest.mark.parametrize("argv", [["--aws-port", "70000"], ["--api-port", "-1"], ["--requests", "0"]])
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        server.parse_args(argv)
    assert exc.value.code == 2
    assert "must be" in capsys.readouterr().err


def test_bad_port_in_the_environment(monkeypatch):
    monkeypatch.setenv("DRIFTLINE_AWS_PORT", "http")
    with pytest.raises(SystemExit, match="DRIFTLINE_AWS_PORT='http' is not a port number"):
        server.parse_args([])


def test_scenario_options(monkeypatch):
    monkeypatch.delenv("DRIFTLINE_SCENARIO", raising=False)
    args = server.parse_args([])
    assert (args.scenario, args.day_seconds, args.no_example) == ("stable", 60.0, False)
    args = server.parse_args(["--scenario", "drift", "--day-seconds", "5"])
    assert (args.scenario, args.day_seconds) == ("drift", 5.0)
    assert server.parse_args(["--no-example"]).scenario == "none"  # empty: nothing to stream
    monkeypatch.setenv("DRIFTLINE_SCENARIO", "none")
    assert server.parse_args([]).scenario == "none"


@pytest.mark.parametrize("argv", [["--scenario", "chaos"], ["--day-seconds", "0"], ["--concurrency", "0"]])
def test_bad_scenario_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        server.parse_args(argv)
    assert exc.value.code == 2


def test_a_scenario_streams_days_of_traffic_and_runs_them():
    """``--scenario stable``: the demo's set-up, then one day of traffic per ``--day-seconds`` and the day's run."""
    import threading

    from driftline_offline import OfflineStack

    args = server.parse_args(["--scenario", "stable", "--day-seconds", "0.01", "--rows-per-day", "300"])
    app = server._App(args)
    with OfflineStack.running(server.REPO_ROOT / "template.yaml", parameters={"Stage": server.STAGE}) as stack:
        extra = app.setup(stack)
        assert extra["model"] == "example-classifier"
        assert (extra["scenario"], extra["day_seconds"]) == ("stable", "0.01")
        stopping = threading.Event()
        days: list[int] = []
        original = app.stream.day

        def day(d):
            original(d)
            days.append(d)
            if d >= 1:
                stopping.set()

        app.stream.day = day
        app.after_ready(stack, stopping)
        assert days == [0, 1]
        sfn = stack.client("stepfunctions")
        executions = sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        assert len(executions) >= 2
        assert all(e["status"] == "SUCCEEDED" for e in executions), executions
        example = app.stream.example
        assert stack.runtime.clock.now() >= example.day_start(2)  # the simulated clock ran ahead, day by day
        s3 = stack.client("s3")
        day1 = example.day_start(1).strftime("%Y/%m/%d")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.resource("DataBucket"),
                                                     Prefix="datacapture/").get("Contents", [])]
        assert any(f"/{day1}/" in k for k in keys), keys  # day 1's requests went through the endpoint
