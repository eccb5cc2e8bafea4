"""Powertools logger, tracer and metrics shared by every function (namespace ``Driftline``).

The service name comes from ``POWERTOOLS_SERVICE_NAME`` (set per function by the template).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Driftline")
