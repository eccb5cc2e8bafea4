"""Lambda entry point of the trigger router (EventBridge targets): parse, route, publish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore

from trigger_router import logic


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    logger.append_keys(sourceEventId=event.get("id"), detailType=event.get("detail-type"))
    settings = get_settings()
    result = logic.route(event, settings, ModelStore(settings))
    # one event may target several models: a count, no modelId dimension
    metrics.add_metric(name="RunsRequested", unit=MetricUnit.Count, value=len(result["models"]))
    return result
