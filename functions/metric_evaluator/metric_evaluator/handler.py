"""Lambda entry point of the metric evaluator: parse the event, dispatch on ``action``, return a JSON-safe dict.

Actions (docs/contracts.md): ``evaluate`` ``{run}``, ``compare`` ``{run, evaluation, training}`` and, for a
sharded run, ``evaluate_shard`` ``{run, items}`` (one Distributed Map child) and ``reduce`` ``{run, shards}``.
Domain errors propagate as the classes of :mod:`driftline_common.errors` (matched by name in the ASL).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.runs import parse_action, parse_run, require_obj, require_str
from driftline_common.settings import get_settings
from driftline_common.store import ModelStore

from metric_evaluator.compare import champion_decision_threshold, run_comparison
from metric_evaluator.evaluate import run_evaluation
from metric_evaluator.shards import run_evaluate_shard, run_reduce

ACTIONS = ("evaluate", "compare", "evaluate_shard", "reduce")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_action(event, ACTIONS)
    run = parse_run(event)
    if action == "compare":
        evaluation = require_obj(event, "evaluation")
        require_str(evaluation, "datasetUri", "evaluation")
        training = require_obj(event, "training")
        require_str(training, "jobName", "training")
    settings = get_settings()
    logger.append_keys(modelId=run.model_id, runId=run.run_id, action=action)
    store = ModelStore(settings)
    cfg = store.get_config(run.model_id)
    # the champion's decision threshold (a recalibration changes it without a new endpoint) for threshold metrics
    champion_threshold = champion_decision_threshold(store.get_state(run.model_id))
    if action == "compare":
        return run_comparison(settings, cfg, run, evaluation, training, decision=event.get("decision"),
                              champion_threshold=champion_threshold)
    if champion_threshold is not None:
        cfg = cfg.model_copy(update={"decision_threshold": champion_threshold})
    if action == "evaluate":
        return run_evaluation(settings, cfg, run)
    if action == "evaluate_shard":
        return run_evaluate_shard(settings, cfg, run, event.get("items"))
    if action == "reduce":
        return run_reduce(settings, cfg, run, event.get("shards"))
    raise AssertionError(action)  # parse_action admits only the actions above
