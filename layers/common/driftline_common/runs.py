"""The ``$.run`` reference every data function receives from the state machine, validated once.

``start_run`` (retrain_launcher) produces ``{"runId", "modelId", "window": {"start", "end"}, ...}``; the evaluator
and the drift checker parse it with their action's contract (:class:`driftline_common.contracts.Run`) and write
their results under :meth:`RunRef.prefix`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftline_common.errors import InvalidEvent
from driftline_common.s3io import S3Uri

#: the longest run window a function accepts: windowHours is at most 24 * 31
MAX_WINDOW = timedelta(hours=24 * 31)


@dataclass(frozen=True)
class RunRef:
    """The part of ``$.run`` the data functions need."""

    model_id: str
    run_id: str
    start: datetime
    end: datetime

    def prefix(self, bucket: str) -> S3Uri:
        """Where the run's results live: ``s3://<bucket>/runs/<modelId>/<runId>``."""
        return S3Uri(bucket, f"runs/{self.model_id}/{self.run_id}")


def parse_action(event: Any, actions: Collection[str]) -> str:
    """The ``action`` of a state-machine task event (every function dispatches on it)."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    action = event.get("action")
    if action not in actions:
        raise InvalidEvent(f"unknown action {action!r}; expected one of {sorted(actions)}", field="action")
    return str(action)


def parse_run(event: Mapping[str, Any]) -> RunRef:
    """``event["run"]`` as produced by ``start_run`` (:class:`driftline_common.contracts.Run`): modelId, runId and
    a non-empty ISO-8601 window of at most 31 days, each time in [1970, 2200)."""
    from driftline_common.contracts import WithRun, parse_event  # the contracts import RunRef from here

    return parse_event(event, WithRun).run.ref()
