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
