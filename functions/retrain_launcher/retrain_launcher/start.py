"""The retrain launcher's ``start_run`` action: claim the trigger once, record the run, size its window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from driftline_common.config import ModelConfig, parse_config
from driftline_common.contracts.retrain_launcher import TRIGGER_TYPES, RunRequested, StartRun, run_request
from driftline_common.datasets import capture_listing
from driftline_common.edge import registered_config_item
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger
from driftline_common.store import iso, parse_iso, utcnow

from retrain_launcher.common import TRIGGER_CLAIM_TTL_SECONDS, Stores


def parse_request(request: Mapping[str, Any], *, run_id: str, started_at: datetime) -> dict[str, Any]:
    """Normalise the pipeline input (a direct request or a ``Run Requested`` envelope, checked by their contracts
    :class:`~driftline_common.contracts.retrain_launcher.RunRequest` / ``RunRequested``: InvalidEvent naming the
    field as the caller wrote it).

    Returns ``{"modelId", "trigger": {"type", "id", "time"}, "windowEnd"}``. For an envelope the trigger id is
    the detail's ``trigger.id`` when the publisher set one (the source event, e.g. a schedule tick), else the
    envelope's own ``id`` — so a redelivery of either maps to the same trigger. A direct request without a
    trigger is a manual run identified by its run id.
    """
    req = run_request(request)
    body = req.detail if isinstance(req, RunRequested) else req
    given = body.trigger
    kind: str | None
    if isinstance(req, RunRequested):
        kind = (given.type if given else None) or "manual"
        trigger_id = (given.id if given else None) or req.id
        trigger_time = (given.time if given else None) or req.time or started_at
    elif given is None or not given.model_fields_set:  # no trigger (or an empty one): a manual run
        kind, trigger_id, trigger_time = "manual", run_id, started_at
    else:
        kind, trigger_id, trigger_time = given.type, given.id, given.time or started_at
    if kind is None:
        raise InvalidEvent(f"'trigger.type' must be one of {list(TRIGGER_TYPES)}, got None", field="trigger.type")
    if not trigger_id:
        raise InvalidEvent(f"'trigger.id' must be a non-empty string, got {trigger_id!r}", field="trigger.id")
    if (kind == "approval") != (body.model_package_arn is not None):
        raise InvalidEvent("'modelPackageArn' is required with trigger type 'approval' and only with it",
                           field="modelPackageArn")
    return {
        "modelId": body.model_id,
        "trigger": {"type": kind, "id": trigger_id, "time": iso(trigger_time)},
        "windowEnd": iso(body.window_end) if body.window_end is not None else None,
        **({"modelPackageArn": body.model_package_arn} if body.model_package_arn else {}),
    }


def window_of(cfg: ModelConfig, *, trigger_time: datetime, window_end: datetime | None) -> tuple[datetime, datetime]:
    """``[end - windowHours, end)``; ``end`` = ``window_end`` or the trigger time floored to the hour."""
    end = window_end or trigger_time.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=cfg.window_hours), end


def start_run(event: StartRun, stores: Stores) -> dict[str, Any]:
    run_id = event.run_id
    started_at = event.started_at or utcnow()
    req = parse_request(event.request, run_id=run_id, started_at=started_at)  # InvalidEvent before any write
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
        **({"modelPackageArn": req["modelPackageArn"]} if req.get("modelPackageArn") else {}),
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
        configVersion=run["configVersion"], executionArn=event.execution_arn,
        **({"modelPackageArn": run["modelPackageArn"]} if run.get("modelPackageArn") else {}),
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
