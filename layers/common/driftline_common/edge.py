"""Validation at the edge: what callers hand us (ids, times, run requests) checked before anything is written.

Every entry point (the HTTP API, the trigger router, the pipeline's ``start_run``) uses these helpers, so an
id that DynamoDB cannot key, a time that ``datetime`` cannot shift by a window, or a request for a model that
is not registered gets a typed error naming the field — never a ``ValueError``/``OverflowError`` deep inside
a run, and never an unbounded number of failure records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from driftline_common.config import MODEL_ID_PATTERN
from driftline_common.errors import InvalidEvent, ModelNotFound, RunNotFound
from driftline_common.observability import metrics

_MODEL_ID = re.compile(MODEL_ID_PATTERN)
#: Step Functions execution names (a run id is one): 1-80 characters, none of them a slash or a control one
_RUN_ID = re.compile(r"^[^\s/\x00-\x1f\x7f]{1,80}$")
#: the times a run may refer to: windows are shifted by up to a year, so the edges stay far from datetime's
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: trigger ids become part of a DynamoDB key (``trigger#<modelId>#<id>``, at most 2,048 bytes)
MAX_TRIGGER_ID = 512
#: DynamoDB's item size limit
MAX_ITEM_BYTES = 400 * 1024
#: Powertools metric counting run requests for model ids that are not registered (no run is recorded)
UNKNOWN_MODEL_METRIC = "UnknownModelRunRequests"


def _shown(value: Any) -> str:
    """``value`` as a message shows it: its repr, at most ~80 characters of it (a string is cut before quoting)."""
    if isinstance(value, str):
        return repr(value[:80] + "...") if len(value) > 80 else repr(value)
    text = repr(value)
    return text if len(text) <= 83 else text[:80] + "..."


def check_model_id(value: Any, field: str = "modelId") -> str:
    """``value`` as a model id (``[A-Za-z0-9-]{1,63}``, the config's pattern), or :class:`InvalidEvent`."""
    if not isinstance(value, str) or not _MODEL_ID.fullmatch(value):
        raise InvalidEvent(f"'{field}' must be a model id matching {MODEL_ID_PATTERN}, got {_shown(value)}",
                           field=field)
    return value


def check_run_id(value: Any, field: str = "runId") -> str:
    """``value`` as a run id (an execution name: 1-80 characters, no slash or whitespace), or InvalidEvent."""
    if not isinstance(value, str) or not _RUN_ID.fullmatch(value):
        raise InvalidEvent(f"'{field}' must be a run id (1 to 80 characters, no '/' or whitespace), got "
                           f"{_shown(value)}", field=field)
    return value


def parse_time(value: Any, field: str) -> datetime:
    """An ISO-8601 time between 1970 and 2200 (UTC; a time without offset is UTC), or :class:`InvalidEvent`."""
    if not isinstance(value, str) or not 4 <= len(value) <= 64:
        raise InvalidEvent(f"'{field}' must be an ISO 8601 time, got {value!r}", field=field)
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"'{field}' must be an ISO 8601 time, got {value!r}", field=field) from None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
    try:
        in_range = EARLIEST <= ts.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):  # year 1 with a positive offset: before datetime's own minimum
        in_range = False
    if not in_range:
        raise InvalidEvent(f"'{field}' must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, got {value!r}",
                           field=field)
    return ts.astimezone(UTC)


def check_run_request(request: Any) -> None:
    """Check the edge of a pipeline input (a direct request or a ``Run Requested`` envelope) before the run starts.

    Its contract (:class:`~driftline_common.contracts.retrain_launcher.RunRequest`, or ``RunRequested`` for an
    envelope): the model id, ``windowEnd``, the trigger's type, id and time; a wrong one raises
    :class:`InvalidEvent` naming the field as the caller wrote it (``detail.windowEnd``).
    """
    from driftline_common.contracts.retrain_launcher import run_request  # the contracts build on this module

    if not isinstance(request, Mapping):
        raise InvalidEvent(f"'request' must be a JSON object, got {type(request).__name__}", field="request")
    run_request(request)


def count_unknown_model() -> None:
    """One ``UnknownModelRunRequests`` (no dimension: the id is caller input and must not create series)."""
    with single_metric(name=UNKNOWN_MODEL_METRIC, unit=MetricUnit.Count, value=1, namespace=metrics.namespace):
        pass


def registered_config_item(models: Any, model_id: str) -> dict[str, Any]:
    """``models.get_config_item(model_id)``; a request for an unregistered id is counted, then re-raised."""
    try:
        item: dict[str, Any] = models.get_config_item(model_id)
    except ModelNotFound:
        count_unknown_model()
        raise
    return item


def failure_recordable(model_id: str, error: Mapping[str, Any], runs: Any, run_id: str) -> bool:
    """Whether a failed run may be recorded in the runs table.

    Not for an id that is no model id (DynamoDB could not key it), nor for a model that is not registered
    unless its run was already recorded: requests for unknown ids must not grow the runs table without bound
    (they are counted as ``UnknownModelRunRequests`` and the execution still fails, alerts and publishes).
    """
    if not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id) or not _RUN_ID.fullmatch(str(run_id)):
        return False
    if error.get("Error") != ModelNotFound.__name__:
        return True
    try:
        runs.get(model_id, run_id)
    except RunNotFound:
        return False
    return True


def _number_size(value: int | float | Decimal) -> int:
    digits = len(Decimal(str(value)).normalize().as_tuple().digits)
    return min(21, (digits + 1) // 2 + 1)


def item_size(value: Any) -> int:
    """DynamoDB's size of an item (or attribute value), in bytes, as AWS documents the computation.

    Strings count their UTF-8 bytes, numbers about one byte per two significant digits plus one, booleans and
    nulls one byte, maps and lists 3 bytes plus one per element plus the elements (and their names).
    """
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, int | float | Decimal):
        return _number_size(value)
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Mapping):
        return 3 + sum(1 + item_size(str(k)) + item_size(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + item_size(v) for v in value)
    return item_size(str(value))
