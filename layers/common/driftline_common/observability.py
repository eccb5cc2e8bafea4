"""Powertools logger, tracer and metrics shared by every function (namespace ``Driftline``), and the boundary
every state-machine handler returns through.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by the template).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from driftline_common.errors import DriftlineError, InternalError
from driftline_common.numbers import metric_value, to_json

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Driftline")

F = TypeVar("F", bound=Callable[..., Any])


def task_boundary(handler: F) -> F:
    """Wrap a Lambda handler: its result crosses the JSON number boundary; an unexpected exception becomes a typed
    :class:`~driftline_common.errors.InternalError` (original class and message in its message and details,
    the traceback in the log only), so the state machine's ``Catch`` and the run record always name what
    happened. Domain errors (:class:`~driftline_common.errors.DriftlineError`) pass through unchanged."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            result = handler(event, context)
        except DriftlineError:
            raise
        except Exception as exc:
            error = InternalError.from_exception(exc)
            logger.exception("unexpected error", extra={"error": "InternalError", **error.details})
            raise error from None
        return to_json(result)

    return wrapper  # type: ignore[return-value]


def add_metric(name: str, value: Any, unit: MetricUnit = MetricUnit.NoUnit) -> bool:
    """Add a metric through the CloudWatch number boundary; a value CloudWatch cannot take is skipped (logged).

    Returns whether the metric was added.
    """
    emitted = metric_value(value)
    if emitted is None:
        logger.info("metric not emitted: no CloudWatch value", extra={"metric": name, "value": repr(value)})
        return False
    metrics.add_metric(name=name, unit=unit, value=emitted)
    return True
