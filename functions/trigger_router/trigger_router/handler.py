"""Lambda entry point of the trigger router (EventBridge targets): parse, route, publish."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.contracts import parse_event
from driftline_common.contracts.trigger_router import SourceEvent
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore

from trigger_router import logic


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source = parse_event(event, SourceEvent)  # the router's contract: InvalidEvent naming the field
    logger.append_keys(sourceEventId=source.id, detailType=source.detail_type)
    settings = get_settings()
    result = logic.route(source, settings, ModelStore(settings))
    # one event may target several models: a count, no modelId dimension
    metrics.add_metric(name="RunsRequested", unit=MetricUnit.Count, value=len(result["models"]))
    return result
