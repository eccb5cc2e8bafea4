"""Which models an incoming EventBridge event concerns, and the ``Run Requested`` events for them.

Rules:

* ``Scheduled Event`` (``aws.events``): every registered model.
* ``Object Created`` (``aws.s3``): the models whose ``groundTruth.s3Uri`` is a prefix of the new object's
  ``s3://bucket/key``.
* ``CloudWatch Alarm State Change`` to ``ALARM``: the models that name the alarm in
  ``deployment.rollbackAlarms``, or whose ``endpointName`` is the ``EndpointName`` dimension of a metric the
  alarm watches, or whose ``modelId`` is the ``modelId`` dimension of such a metric (the per-threshold alarms
  ``PUT /models/{id}`` creates). Other states (``OK``, ``INSUFFICIENT_DATA``) request nothing.

Each ``Run Requested`` carries ``{"modelId", "trigger": {"type", "id", "time"}}``; the pipeline's idempotency
key is ``trigger#<modelId>#<id>``. For schedules and alarms ``id`` is the source event's id, so a redelivered
source event yields no second run. Ground truth arrives as many objects (SageMaker writes one per hour and
labelling jobs often more): its ``id`` is ``ground-truth:<hour of the event>``, so all the label files that land
within one hour start at most one run per model (debounce); later hours start the next one. Models whose stored
config is invalid are skipped with a warning (their own runs would fail with ``InvalidModelConfig``; one bad
config must not block the others).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from driftline_common.config import ModelConfig
from driftline_common.contracts.trigger_router import SourceEvent
from driftline_common.errors import InvalidEvent, InvalidModelConfig, ModelNotFound
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import ModelStore

SCHEDULE, OBJECT_CREATED, ALARM = "Scheduled Event", "Object Created", "CloudWatch Alarm State Change"
TRIGGER_TYPE = {SCHEDULE: "schedule", OBJECT_CREATED: "ground_truth", ALARM: "alarm"}


def _configs(models: ModelStore) -> Iterator[ModelConfig]:
    for model_id in models.list_models():
        try:
            yield models.get_config(model_id)
        except (InvalidModelConfig, ModelNotFound) as exc:
            logger.warning("skipping a model", extra={"modelId": model_id, "error": exc.message})


def _at(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...``, or ``None`` where a step is missing or not an object (events are input)."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _alarm_endpoints(detail: Mapping[str, Any], dimension: str = "EndpointName") -> set[str]:
    out = set()
    metrics = _at(detail, "configuration", "metrics")
    for metric in metrics if isinstance(metrics, list) else []:
        endpoint = _at(metric, "metricStat", "metric", "dimensions", dimension)
        if isinstance(endpoint, str) and endpoint:
            out.add(endpoint)
    return out


def target_models(event: SourceEvent, models: ModelStore) -> list[str]:
    """The model ids ``event`` concerns (see the module doc for the rules)."""
    kind = event.detail_type
    raw = event.detail
    detail: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if kind == SCHEDULE:
        return models.list_models()
    if kind == OBJECT_CREATED:
        bucket, key = _at(detail, "bucket", "name"), _at(detail, "object", "key")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            raise InvalidEvent("an 'Object Created' event needs detail.bucket.name and detail.object.key")
        uri = f"s3://{bucket}/{key}"
        return [c.model_id for c in _configs(models) if uri.startswith(c.ground_truth.s3_uri.rstrip("/") + "/")]
    if kind == ALARM:
        if _at(detail, "state", "value") != "ALARM":
            return []
        name = detail.get("alarmName")
        if not isinstance(name, str) or not name:
            raise InvalidEvent("a 'CloudWatch Alarm State Change' event needs detail.alarmName")
        endpoints = _alarm_endpoints(detail)
        model_ids = _alarm_endpoints(detail, "modelId")  # the per-threshold alarms the API creates per model
        return [c.model_id for c in _configs(models)
                if name in c.deployment.rollback_alarms or c.endpoint_name in endpoints or c.model_id in model_ids]
    raise InvalidEvent(f"unsupported event detail-type {str(kind)[:100]!r}; expected one of {sorted(TRIGGER_TYPE)}",
                       field="detail-type")


def trigger_id(event: SourceEvent) -> str:
    """The idempotency id of the run(s) an event requests (see the module doc)."""
    if event.detail_type == OBJECT_CREATED:
        hour = event.time[:13]  # ISO 8601 "YYYY-MM-DDTHH"
        if len(hour) != 13 or hour[10] != "T":
            raise InvalidEvent(f"an 'Object Created' event needs an ISO 8601 time, got {event.time!r}", field="time")
        return f"ground-truth:{hour}"
    return event.id


def route(event: SourceEvent, settings: Settings, models: ModelStore) -> dict[str, Any]:
    """``event`` (validated by its contract: an id, a time in [1970, 2200), a detail-type) routed to its models."""
    targets = target_models(event, models)
    trigger = {"type": TRIGGER_TYPE[event.detail_type], "id": trigger_id(event), "time": event.time}
    published = [publish(settings, "Run Requested", {"modelId": m, "trigger": trigger}) for m in targets]
    logger.info("runs requested", extra={"trigger": trigger, "models": targets})
    return {"trigger": trigger, "models": targets, "eventIds": published}
