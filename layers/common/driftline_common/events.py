"""Publishing Driftline's events on the custom bus (source ``driftline``).

``detail`` always carries ``modelId`` and ``runId`` plus structured numbers, thresholds, sample sizes and
decisions — never free text meant to be parsed. Numbers cross :mod:`driftline_common.numbers` (NaN/±inf as
``null`` with a ``numberNotes`` entry at the detail's root).
"""

from __future__ import annotations

from typing import Any, Literal

from driftline_common.aws import client
from driftline_common.errors import DriftlineError
from driftline_common.numbers import dumps
from driftline_common.settings import Settings

DetailType = Literal[
    "Evaluation Completed",
    "Drift Detected",
    "Retrain Decision",
    "Retrain Started",
    "Challenger Evaluated",
    "Model Deployed",
    "Deployment Rolled Back",
    "Run Failed",
    "Run Requested",
]
DETAIL_TYPES: tuple[str, ...] = DetailType.__args__  # type: ignore[attr-defined]


class EventPublishError(DriftlineError):
    """EventBridge rejected an event."""


def publish(settings: Settings, detail_type: DetailType, detail: dict[str, Any]) -> str:
    """Put one event on the stack's bus; returns its event id. Raises on a rejected entry."""
    if detail_type not in DETAIL_TYPES:
        raise ValueError(f"unknown detail-type {detail_type!r}; expected one of {DETAIL_TYPES}")
    if "modelId" not in detail:
        raise ValueError("event detail must carry modelId")
    resp = client("events").put_events(
        Entries=[
            {
                "Source": settings.event_source,
                "DetailType": detail_type,
                "Detail": dumps(detail, default=str),
                "EventBusName": settings.event_bus,
            }
        ]
    )
    entry = resp["Entries"][0]
    if resp.get("FailedEntryCount") or "EventId" not in entry:
        raise EventPublishError(
            f"EventBridge rejected {detail_type!r}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
        )
    return str(entry["EventId"])
