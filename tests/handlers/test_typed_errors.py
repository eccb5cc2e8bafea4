"""Every handler types what it did not expect: an unexpected exception leaves as ``InternalError`` naming the
original class and message (the state machine's Catch and the run record can say what happened), with the
traceback in the log and not in the error; domain errors pass through unchanged. The API answers 500 without
the original message or a trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from driftline_common.errors import InternalError, ModelNotFound

from tests.conftest import load_event
from tests.handlers._support import Context

CTX = Context()


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    return {}["missing-key-in-/var/task/secret.py"]


# (handler module, attribute replaced by a function that raises, canonical event)
CASES = [
    ("retrain_launcher.handler", "retrain_launcher.start.start_run", "retrain_launcher_start_run.json"),
    ("retrain_launcher.handler", "retrain_launcher.complete.complete", "retrain_launcher_complete.json"),
    ("deployer.handler", "deployer.logic.deploy", "deployer_deploy.json"),
    ("deployer.handler", "deployer.logic.status", "deployer_status.json"),
    ("metric_evaluator.handler", "metric_evaluator.handler.run_evaluation", "metric_evaluator_evaluate.json"),
    ("drift_checker.handler", "drift_checker.handler.run_check", "drift_checker_check.json"),
    ("drift_checker.handler", "drift_checker.handler.build_and_write", "drift_checker_build_baseline.json"),
    ("trigger_router.handler", "trigger_router.logic.route", "trigger_schedule.json"),
]


def _registered(stack_env: dict[str, str]) -> None:
    from pathlib import Path

    from driftline_common.config import parse_config
    from driftline_common.settings import get_settings
    from driftline_common.store import ModelStore

    cfg = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
    ModelStore(get_settings()).put_config(parse_config(cfg))


@pytest.mark.parametrize(("module", "target", "event"), CASES, ids=[c[1] for c in CASES])
def test_unexpected_exception_becomes_internal_error(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    module: str, target: str, event: str,
) -> None:
    import importlib

    _registered(stack_env)
    mod_name, _, attr = target.rpartition(".")
    monkeypatch.setattr(importlib.import_module(mod_name), attr, _boom)
    handler = importlib.import_module(module).lambda_handler
    with pytest.raises(InternalError) as info:
        handler(load_event(event), CTX)
    err = info.value
    assert type(err).__name__ == "InternalError"  # the errorType the ASL's Catch matches
    assert err.details == {"errorClass": "KeyError", "errorMessage": "'missing-key-in-/var/task/secret.py'"}
    assert str(err).startswith("unexpected KeyError: ")
    assert err.__cause__ is None
    assert err.__suppress_context__
    record = next(r for r in caplog.records if r.getMessage() == "unexpected error")
    assert record.errorClass == "KeyError"  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError


def test_domain_errors_pass_through_untouched(stack_env: dict[str, str]) -> None:
    from retrain_launcher.handler import lambda_handler

    with pytest.raises(ModelNotFound):  # nothing registered
        lambda_handler(load_event("retrain_launcher_start_run.json"), CTX)


def test_api_maps_the_unexpected_to_500_without_message_or_trace(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from api import logic
    from api.handler import lambda_handler

    monkeypatch.setattr(logic.Api, "get_model", _boom)
    resp = lambda_handler(load_event("api_get_model.json"), CTX)
    assert resp["statusCode"] == 500
    body = json.loads(resp["body"])
    assert body["error"] == "InternalError"
    assert body["message"] == "internal error"
    assert "secret.py" not in resp["body"]
    assert "KeyError" not in resp["body"]
    record = next(r for r in caplog.records if r.getMessage() == "unhandled error")
    assert record.errorClass == "KeyError"  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError
