"""Lambda entry point of the metric evaluator: parse the event, dispatch on ``action``, return a JSON-safe dict.

Actions (docs/contracts.md): ``evaluate`` ``{run}``, ``compare`` ``{run, evaluation, training}`` and, for a
sharded run, ``evaluate_shard`` ``{run, items}`` (one Distributed Map child) and ``reduce`` ``{run, shards}``.
Domain errors propagate as the classes of :mod:`driftline_common.errors` (matched by name in the ASL).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.errors import InvalidEvent
from driftline_common.observability import logger, metrics, tracer
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore, parse_iso

from metric_evaluator.logic import RunRef, run_comparison, run_evaluation
from metric_evaluator.shards import run_evaluate_shard, run_reduce

ACTIONS = ("evaluate", "compare", "evaluate_shard", "reduce")


def _obj(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise InvalidEvent(f"'{name}' must be an object, got {type(value).__name__}", field=name)
    return value


def _str(obj: dict[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{where}.{name}' must be a non-empty string, got {value!r}", field=f"{where}.{name}")
    return value


def parse_run(event: dict[str, Any]) -> RunRef:
    """``$.run`` as produced by retrain_launcher ``start_run``: modelId, runId and window {start, end}."""
    run = _obj(event, "run")
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


def parse_action(event: Any) -> str:
    if not isinstance(event, dict):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidEvent(f"unknown action {action!r}; expected one of {list(ACTIONS)}", field="action")
    return str(action)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_action(event)
    run = parse_run(event)
    if action == "compare":
        evaluation = _obj(event, "evaluation")
        _str(evaluation, "datasetUri", "evaluation")
        training = _obj(event, "training")
        _str(training, "jobName", "training")
    settings = get_settings()
    logger.append_keys(modelId=run.model_id, runId=run.run_id, action=action)
    cfg = ModelStore(settings).get_config(run.model_id)
    if action == "evaluate":
        return run_evaluation(settings, cfg, run)
    if action == "evaluate_shard":
        return run_evaluate_shard(settings, cfg, run, event.get("items"))
    if action == "reduce":
        return run_reduce(settings, cfg, run, event.get("shards"))
    return run_comparison(settings, cfg, run, evaluation, training)
