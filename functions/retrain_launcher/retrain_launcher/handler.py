"""Lambda entry point of the retrain launcher: parse the event, dispatch on ``action``, nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.contracts import Contract, parse_event
from driftline_common.contracts.retrain_launcher import EVENTS
from driftline_common.observability import logger, metrics, task_boundary, tracer
from driftline_common.runs import parse_action
from driftline_common.settings import Settings, get_settings

from retrain_launcher import approval, complete, decide, fail, registry_events, start, tuning
from retrain_launcher.common import NO_DATA, Stores

#: an action: (the event, the event parsed by the action's contract, the stores, the settings) -> its result
Action = Callable[[Mapping[str, Any], Any, Stores, Settings], dict[str, Any]]

ACTIONS: dict[str, Action] = {
    "start_run": lambda _e, ev, s, _cfg: start.start_run(ev, s),
    "decide": lambda _e, ev, s, cfg: decide.decide(ev, s, cfg),
    "request_approval": lambda _e, ev, s, cfg: approval.request_approval(ev, s, cfg,
                                                                         topic_arn=cfg.alerts_topic_arn or None),
    "complete": lambda _e, ev, s, cfg: complete.complete(ev, s, cfg),
    "fail": lambda _e, ev, s, _cfg: fail.fail(ev, s),
    "package_state_change": lambda _e, ev, s, cfg: registry_events.package_state_change(ev, s, cfg),
    "tuning_result": lambda _e, ev, _s, _cfg: tuning.tuning_result(ev),
}


def record_metrics(action: str, event: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    """``decide``: one ``RetrainDecisions`` per model, plus a dimension-free ``Retrains`` when it retrains.

    ``complete``: ``EmptyWindows`` per model (1 for a ``no_data`` window, else 0) and a dimension-free
    ``ConsecutiveEmptyWindows`` (the run's streak of empty windows, 0 when it had data) that the template's
    ``EmptyWindowsAlarm`` watches.
    """
    if action == "complete":
        empty = result.get("outcome") == NO_DATA
        metrics.add_dimension(name="modelId", value=str(result["modelId"]))
        metrics.add_metric(name="EmptyWindows", unit=MetricUnit.Count, value=int(empty))
        streak = int(result.get("emptyWindowStreak") or 0) if empty else 0
        with single_metric(name="ConsecutiveEmptyWindows", unit=MetricUnit.Count, value=streak,
                           namespace=metrics.namespace):
            pass
        return
    if action != "decide":
        return
    metrics.add_dimension(name="modelId", value=str(event["run"]["modelId"]))  # validated by decide.decide
    metrics.add_metric(name="RetrainDecisions", unit=MetricUnit.Count, value=1)
    if result.get("retrain"):
        with single_metric(name="Retrains", unit=MetricUnit.Count, value=1, namespace=metrics.namespace):
            pass  # flushed on exit, without the invocation's modelId dimension


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@task_boundary
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_action(event, ACTIONS)
    parsed: Contract = parse_event(event, EVENTS[action])  # the action's contract: InvalidEvent naming the field
    settings = get_settings()
    run = event.get("run")
    if isinstance(run, Mapping):
        logger.append_keys(modelId=run.get("modelId"), runId=run.get("runId"))
    logger.append_keys(action=action)
    result = ACTIONS[action](event, parsed, Stores.from_settings(settings), settings)
    record_metrics(action, event, result)
    return result
