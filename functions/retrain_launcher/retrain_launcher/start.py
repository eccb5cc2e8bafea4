"""The retrain launcher's ``start_run`` action: claim the trigger once, record the run, size its window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from driftline_common.config import ModelConfig, parse_config
from driftline_common.datasets import capture_listing
from driftline_common.edge import check_run_request, registered_config_item
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger
from driftline_common.store import iso, parse_iso, utcnow

from retrain_launcher.common import (
    TRIGGER_CLAIM_TTL_SECONDS,
    TRIGGER_TYPES,
    Stores,
    _mapping,
    _string,
    _time,
)


def parse_request(request: Mapping[str, Any], *, run_id: str, started_at: datetime) -> dict[str, Any]:
    """Normalise the pipeline input (a direct request or a ``Run Requested`` envelope).

    Returns ``{"modelId", "trigger": {"type", "id", "time"}, "windowEnd"}``. For an envelope the trigger id is
    the detail's ``trigger.id`` when the publisher set one (the source event, e.g. a schedule tick), else the
    envelope's own ``id`` — so a redelivery of either maps to the same trigger. A direct request without a
    trigger is a manual run identified by its run id.
    """
    if "detail-type" in request:
        if request.get("detail-type") != "Run Requested":
            raise InvalidEvent(
                f"expected a 'Run Requested' event, got detail-type {request.get('detail-type')!r}",
                field="detail-type",
            )
        body = _mapping(request, "detail")
        trigger = _mapping(body, "trigger", required=False)
        trigger = {
            "type": trigger.get("type", "manual"),
            "id": trigger.get("id") or _string(request, "id"),
            "time": trigger.get("time") or request.get("time") or iso(started_at),
        }
    else:
        body = dict(request)
        trigger = _mapping(body, "trigger", required=False)
        if not trigger:
            trigger = {"type": "manual", "id": run_id, "time": iso(started_at)}
    model_id = _string(body, "modelId")
    if trigger.get("type") not in TRIGGER_TYPES:
        raise InvalidEvent(f"trigger.type must be one of {TRIGGER_TYPES}, got {trigger.get('type')!r}",
                           field="trigger.type")
    if not isinstance(trigger.get("id"), str) or not trigger["id"]:
        raise InvalidEvent(f"trigger.id must be a non-empty string, got {trigger.get('id')!r}", field="trigger.id")
    trigger_time = _time(trigger.get("time") or iso(started_at), "trigger.time")
    window_end = body.get("windowEnd")
    return {
        "modelId": model_id,
        "trigger": {"type": trigger["type"], "id": trigger["id"], "time": iso(trigger_time)},
        "windowEnd": iso(_time(window_end, "windowEnd")) if window_end is not None else None,
    }


def window_of(cfg: ModelConfig, *, trigger_time: datetime, window_end: datetime | None) -> tuple[datetime, datetime]:
    """``[end - windowHours, end)``; ``end`` = ``window_end`` or the trigger time floored to the hour."""
    end = window_end or trigger_time.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=cfg.window_hours), end


def start_run(event: Mapping[str, Any], stores: Stores) -> dict[str, Any]:
    run_id = _string(event, "runId")
    started_at = _time(event["startedAt"], "startedAt") if event.get("startedAt") else utcnow()
    check_run_request(event.get("request"))  # InvalidEvent: model id, windowEnd and trigger at the edge
    req = parse_request(_mapping(event, "request"), run_id=run_id, started_at=started_at)
    model_id = req["modelId"]
    item = registered_config_item(stores.models, model_id)  # ModelNotFound, counted
    cfg = parse_config(item["config"], model_id=model_id)  # InvalidModelConfig
    window_end = parse_iso(req["windowEnd"]) if req["windowEnd"] else None
    start, end = window_of(cfg, trigger_time=parse_iso(req["trigger"]["time"]), window_end=window_end)
    run = {
        "runId": run_id,
        "modelId": model_id,
        "problemType": cfg.problem_type,
        "window": {"start": iso(start), "end": iso(end)},
        "trigger": req["trigger"],
        "duplicate": False,
        "configVersion": int(item.get("version", 0)),
    }
    run.update(sharding_of(cfg, start, end))
    owner = stores.locks.claim_once(
        f"trigger#{model_id}#{req['trigger']['id']}", run_id, ttl_seconds=TRIGGER_CLAIM_TTL_SECONDS
    )
    if owner != run_id:
        logger.info("duplicate trigger", extra={"modelId": model_id, "trigger": req["trigger"], "handledBy": owner})
        return {**run, "duplicate": True, "duplicateOf": owner}
    stores.runs.start(
        model_id, run_id,
        startedAt=iso(started_at), window=run["window"], trigger=run["trigger"], problemType=cfg.problem_type,
        configVersion=run["configVersion"], executionArn=event.get("executionArn"),
    )
    logger.info("run started", extra={"modelId": model_id, "runId": run_id, "window": run["window"]})
    return run


def sharding_of(cfg: ModelConfig, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"sharded": bool}`` and, when sharded, where the Distributed Map lists the capture and its batch size.

    ``{"sharded": False}`` when the config sets no ``sharding.thresholdBytes`` (the flag is always present so
    the state machine's Choice reads a value rather than probing for a missing path). Sharded when the window's
    capture objects hold more than ``sharding.thresholdBytes`` bytes (sizes from ListObjectsV2). Multiclass
    models are never sharded: their ROC AUC and log loss have no mergeable state.
    """
    if cfg.sharding is None or cfg.sharding.threshold_bytes is None:
        return {"sharded": False}
    listing = capture_listing(cfg, start, end)
    sharded = listing["bytes"] > cfg.sharding.threshold_bytes and cfg.problem_type != "multiclass"
    if not sharded:
        return {"sharded": False}
    return {"sharded": True, "shards": {"bucket": listing["bucket"], "prefix": listing["prefix"],
                                        "objects": listing["objects"], "bytes": listing["bytes"],
                                        "filesPerShard": cfg.sharding.files_per_shard}}
