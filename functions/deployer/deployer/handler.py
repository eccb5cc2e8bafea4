"""Lambda entry point of the deployer: parse the event, dispatch on ``action``, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger, tracer
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore, RunStore

from deployer import logic

ACTIONS = ("deploy", "status")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidEvent(f"unknown action {action!r}; expected one of {list(ACTIONS)}", action=action)
    settings = get_settings()
    run = event.get("run")
    if isinstance(run, Mapping):
        logger.append_keys(modelId=run.get("modelId"), runId=run.get("runId"))
    logger.append_keys(action=action)
    if action == "deploy":
        return logic.deploy(event, settings, ModelStore(settings))
    return logic.status(event, settings, ModelStore(settings), RunStore(settings))
