"""Lambda entry point of the report writer: validate the event, write the run's report, nothing else.

The state machine calls it last, on the success path (after ``Complete``) and on the failure path (after the
failure is recorded and published), and catches any error of it: a report never fails a run.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.settings import get_settings

from report import logic


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = logic.parse_event(event)
    logger.append_keys(modelId=request.model_id, runId=request.run_id, action="report")
    result = logic.write_report(get_settings(), request)
    metrics.add_dimension(name="modelId", value=request.model_id)
    metrics.add_metric(name="ReportGaps", unit=MetricUnit.Count, value=result["missing"])
    return result
