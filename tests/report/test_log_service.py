"""Every function's log lines carry its own ``service`` (issue 12.4)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from driftline_common.observability import SERVICE_ENV, logger

ROOT = Path(__file__).resolve().parents[2]


class _Ctx:
    function_name = "fn"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id = "req"


def _template() -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass


def test_every_function_names_its_own_service() -> None:
    resources = _template()["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    names = {k: ((v["Properties"].get("Environment") or {}).get("Variables") or {}).get(SERVICE_ENV)
             for k, v in functions.items()}
    assert all(names.values()), f"functions without {SERVICE_ENV}: {[k for k, v in names.items() if not v]}"
    assert len(set(names.values())) == len(names), f"two functions share a service name: {names}"
    assert names["ReportFunction"] == "report"


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@logger.inject_lambda_context(clear_state=True)
def _handler(event: dict[str, Any], context: Any) -> None:
    logger.info("hello", extra={"tag": event["tag"]})


def test_service_is_read_per_invocation(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The logger was created at import (no service then); each invocation logs its function's own name."""
    monkeypatch.setattr(logger.registered_handler, "stream", __import__("sys").stdout, raising=False)
    logger.setLevel(logging.INFO)
    for name in ("metric-evaluator", "drift-checker"):
        monkeypatch.setenv(SERVICE_ENV, name)
        _handler({"tag": name}, _Ctx())
    lines = [r for r in _lines(capsys) if r.get("message") == "hello"]
    assert [(r["service"], r["tag"]) for r in lines] == [("metric-evaluator", "metric-evaluator"),
                                                         ("drift-checker", "drift-checker")]
