"""The ``$.run`` reference every data function receives from the state machine, validated once.

``start_run`` (retrain_launcher) produces ``{"runId", "modelId", "window": {"start", "end"}, ...}``; the evaluator
and the drift checker parse it with :func:`parse_run` and write their results under :meth:`RunRef.prefix`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftline_common.edge import parse_time
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


def require_obj(event: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``event[name]`` as an object, or :class:`InvalidEvent` naming the field."""
    value = event.get(name)
    if not isinstance(value, dict):
        raise InvalidEvent(f"'{name}' must be an object, got {type(value).__name__}", field=name)
    return value


def require_str(obj: Mapping[str, Any], name: str, where: str = "") -> str:
    """``obj[name]`` as a non-empty string, or :class:`InvalidEvent` naming the field (``where.name``)."""
    value = obj.get(name)
    path = f"{where}.{name}" if where else name
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{path}' must be a non-empty string, got {value!r}", field=path)
    return value


def parse_run(event: Mapping[str, Any]) -> RunRef:
    """``event["run"]`` as produced by ``start_run``: modelId, runId and a non-empty ISO-8601 window."""
    run = require_obj(event, "run")
    model_id = require_str(run, "modelId", "run")
    run_id = require_str(run, "runId", "run")
    if "/" in run_id or "/" in model_id:
        raise InvalidEvent("'run.modelId' and 'run.runId' must not contain '/'")
    window = run.get("window")
    if not isinstance(window, dict):
        raise InvalidEvent("'run.window' must be an object {start, end}", field="run.window")
    # the same range as every time at the edge (1970-2200): a forged window can neither overflow datetime nor
    # make a function list S3 hour by hour for centuries
    start = parse_time(require_str(window, "start", "run.window"), "run.window.start")
    end = parse_time(require_str(window, "end", "run.window"), "run.window.end")
    if not start < end:
        raise InvalidEvent(f"'run.window' is empty: start {start} is not before end {end}", field="run.window")
    if end - start > MAX_WINDOW:
        raise InvalidEvent(f"'run.window' spans {end - start}, more than the longest window ({MAX_WINDOW}, "
                           "windowHours at most 744)", field="run.window")
    return RunRef(model_id, run_id, start, end)
