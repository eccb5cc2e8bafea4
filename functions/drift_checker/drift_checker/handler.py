"""Lambda entry point of the drift checker: parse the event, dispatch on ``action``, return a JSON-safe dict.

Actions (docs/contracts.md): ``check`` ``{run}``, ``build_baseline`` ``{modelId, dataUri}`` and, for a sharded
run, ``check_shard`` ``{run, items}`` (one Distributed Map child) and ``reduce`` ``{run, shards}``.
Domain errors propagate as the classes of :mod:`driftline_common.errors` (matched by name in the ASL).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger, metrics, tracer
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore, parse_iso

from drift_checker.baseline import build_and_write
from drift_checker.logic import RunRef, run_check
from drift_checker.shards import check_shard, run_reduce

ACTIONS = ("check", "build_baseline", "check_shard", "reduce")


def _str(obj: dict[str, Any], name: str, where: str = "") -> str:
    value = obj.get(name)
    path = f"{where}.{name}" if where else name
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{path}' must be a non-empty string, got {value!r}", field=path)
    return value


def parse_run(event: dict[str, Any]) -> RunRef:
    run = event.get("run")
    if not isinstance(run, dict):
        raise InvalidEvent(f"'run' must be an object, got {type(run).__name__}", field="run")
    model_id = _str(run, "modelId", "run")
    run_id = _str(run, "runId", "run")
    if "/" in run_id or "/" in model_id:
        raise InvalidEvent("'run.modelId' and 'run.runId' must not contain '/'")
    window = run.get("window")
    if not isinstance(window, dict):
        raise InvalidEvent("'run.window' must be an object {start, end}", field="run.window")
    try:
        start = parse_iso(_str(window, "start", "run.window"))
        end = parse_iso(_str(window, "end", "run.window"))
    except ValueError as exc:
        raise InvalidEvent(f"'run.window' must hold ISO-8601 times: {exc}", field="run.window") from None
    if not start < end:
        raise InvalidEvent(f"'run.window' is empty: start {start} is not before end {end}", field="run.window")
    return RunRef(model_id, run_id, start, end)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidEvent(f"unknown action {action!r}; expected one of {list(ACTIONS)}", field="action")
    if action == "build_baseline":
        model_id = _str(event, "modelId")
        data_uri = _str(event, "dataUri")
        if not data_uri.startswith("s3://"):
            raise InvalidEvent(f"'dataUri' must be an s3:// URI, got {data_uri!r}", field="dataUri")
        settings = get_settings()
        logger.append_keys(modelId=model_id, action=action)
        cfg = ModelStore(settings).get_config(model_id)
        return build_and_write(cfg, data_uri)
    run = parse_run(event)
    settings = get_settings()
    logger.append_keys(modelId=run.model_id, runId=run.run_id, action=action)
    cfg = ModelStore(settings).get_config(run.model_id)
    if action == "check_shard":
        return check_shard(settings, cfg, run, event.get("items"))
    if action == "reduce":
        return run_reduce(settings, cfg, run, event.get("shards"))
    return run_check(settings, cfg, run)
