"""The trigger router's input (``functions/trigger_router``): an EventBridge event it routes to ``Run Requested``."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from driftline_common.contracts._base import Contract, FieldError, NonEmptyStr, TimeText, TriggerId


class SourceEvent(Contract):
    """A ``Scheduled Event``, an S3 ``Object Created`` or a ``CloudWatch Alarm State Change``."""

    id: TriggerId = Field(description="the source event's id (the trigger id of schedules and alarms)")
    time: TimeText = Field(description="the runs' windows end at this time")
    detail_type: NonEmptyStr = Field(alias="detail-type")
    detail: Any = Field(None, description="the source's detail (bucket and key, alarm name and state...)")

    @model_validator(mode="before")
    @classmethod
    def _envelope(cls, data: Any) -> Any:
        for name in ("id", "time", "detail-type"):
            if isinstance(data, dict) and (not isinstance(data.get(name), str) or not data[name]):
                raise FieldError("not an EventBridge event: '{field}' is missing", suffix=name)
        return data


EVENTS: dict[str, type[Contract]] = {"route": SourceEvent}
