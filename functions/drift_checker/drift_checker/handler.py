"""Lambda entry point of the drift checker: parse the event, dispatch on ``action``, return a JSON-safe dict.

Actions (docs/contracts.md): ``check`` ``{run}``, ``build_baseline`` ``{modelId, dataUri}`` and, for a sharded
run, ``check_shard`` ``{run, items}`` (one Distributed Map child) and ``reduce`` ``{run, shards}``; ``monitor``
``{run}`` (data quality, operational health, bias: docs/model-monitor.md).
Domain errors propagate as the classes of :mod:`driftline_common.errors` (matched by name in the ASL).
"""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.contracts import RunEvent, parse_event
from driftline_common.contracts.drift_checker import EVENTS, BuildBaseline
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.runs import parse_action
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore

from drift_checker.baseline import build_and_write
from drift_checker.logic import run_check
from drift_checker.monitor import run_monitor
from drift_checker.shards import check_shard, run_reduce

ACTIONS = ("check", "build_baseline", "check_shard", "reduce", "monitor")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_action(event, ACTIONS)
    parsed = parse_event(event, EVENTS[action])  # the action's contract: InvalidEvent naming the field
    if isinstance(parsed, BuildBaseline):
        settings = get_settings()
        logger.append_keys(modelId=parsed.model_id, action=action)
        cfg = ModelStore(settings).get_config(parsed.model_id)
        return build_and_write(cfg, parsed.data_uri)
    run = cast(RunEvent, parsed).run.ref()  # every other action works on the run's window
    settings = get_settings()
    logger.append_keys(modelId=run.model_id, runId=run.run_id, action=action)
    cfg = ModelStore(settings).get_config(run.model_id)
    if action == "check_shard":
        return check_shard(settings, cfg, run, event.get("items"))
    if action == "reduce":
        return run_reduce(settings, cfg, run, event.get("shards"))
    if action == "monitor":
        return run_monitor(settings, cfg, run)
    return run_check(settings, cfg, run)
