"""Powertools logger, tracer and metrics shared by every function (namespace ``Driftline``), and the boundary
every state-machine handler returns through.

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by the template), read at every
invocation (:class:`ServiceLogger`), not only when the module is first imported: where several functions share
one process (the offline runtime) each log line still names the function that wrote it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from driftline_common.errors import DriftlineError, InternalError
from driftline_common.numbers import metric_value, to_json

SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"


class ServiceLogger(Logger):
    """Powertools' Logger whose ``service`` key is re-read from ``POWERTOOLS_SERVICE_NAME`` whenever the log
    structure is reset (``inject_lambda_context`` does it on every invocation), as a context key: per thread,
    so two functions logging at once in one process keep their own names."""

    def structure_logs(self, append: bool = False, formatter_options: dict | None = None, **keys: Any) -> None:
        super().structure_logs(append, formatter_options, **keys)
        service = os.environ.get(SERVICE_ENV)
        if service:
            self.thread_safe_append_keys(service=service)


logger = ServiceLogger()
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
