"""The event contracts: one model per function action, parsed through Powertools' parser, failures typed as
``InvalidEvent`` naming the field; the canonical events (``events/``) satisfy them; ``docs/contracts.md``'s
generated tables are fresh."""

from __future__ import annotations

import copy
import importlib
from typing import Any, get_args

import pytest
from driftline_common.config import MODEL_ID_PATTERN
from driftline_common.contracts import _base as base
from driftline_common.contracts import parse_event
from driftline_common.contracts.deployer import Recalibrate
from driftline_common.contracts.drift_checker import BuildBaseline
from driftline_common.contracts.metric_evaluator import Compare, EvaluateShard
from driftline_common.contracts.retrain_launcher import Fail, RunRequested, run_request
from driftline_common.contracts.trigger_router import SourceEvent
from driftline_common.errors import InvalidEvent

from tests.conftest import load_event
from tools import contracts_doc

FUNCTIONS = ("metric_evaluator", "drift_checker", "retrain_launcher", "deployer")
CANONICAL = {
    "metric_evaluator": ["metric_evaluator_evaluate.json", "metric_evaluator_compare.json"],
    "drift_checker": ["drift_checker_check.json", "drift_checker_build_baseline.json"],
    "retrain_launcher": ["retrain_launcher_start_run.json", "retrain_launcher_decide.json",
                         "retrain_launcher_request_approval.json", "retrain_launcher_complete.json",
                         "retrain_launcher_fail.json"],
    "deployer": ["deployer_deploy.json", "deployer_status.json", "deployer_reconcile.json"],
}


def _events(function: str) -> dict[str, Any]:
    return dict(importlib.import_module(f"driftline_common.contracts.{function}").EVENTS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_handler_action_has_exactly_one_contract(function: str) -> None:
    handler = importlib.import_module(f"{function}.handler")
    assert set(handler.ACTIONS) == set(_events(function))
    for action, model in _events(function).items():
        assert get_args(model.model_fields["action"].annotation) == (action,)


@pytest.mark.parametrize(("function", "name"), [(f, n) for f, names in CANONICAL.items() for n in names])
def test_the_canonical_events_satisfy_their_contracts(function: str, name: str) -> None:
    event = load_event(name)
    parsed = parse_event(event, _events(function)[event["action"]])
    assert parsed.model_dump(by_alias=True, exclude_unset=True).keys() <= event.keys()
    if function == "retrain_launcher" and event["action"] == "start_run":
        assert isinstance(run_request(event["request"]), RunRequested)


@pytest.mark.parametrize("name", ["trigger_schedule.json", "trigger_alarm.json", "trigger_s3_ground_truth.json"])
def test_the_routers_canonical_events_satisfy_its_contract(name: str) -> None:
    assert parse_event(load_event(name), SourceEvent).detail_type == load_event(name)["detail-type"]


def test_parsing_goes_through_powertools_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = base.parse

    def spy(event: Any, model: Any) -> Any:
        calls.append(model)
        return real(event=event, model=model)

    monkeypatch.setattr(base, "parse", spy)
    parse_event(load_event("metric_evaluator_compare.json"), Compare)
    assert calls == [Compare]


def _error(event: Any, model: Any) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        parse_event(event, model)
    return info.value


RUN_ID = "must be a run id (1 to 80 characters, no '/' or whitespace)"

@pytest.mark.parametrize(("mutate", "field", "message"), [
    (lambda e: e.pop("run"), "run", "'run' must be an object, got NoneType"),
    (lambda e: e["run"].update(runId=""), "run.runId", f"'run.runId' {RUN_ID}, got ''"),
    (lambda e: e["run"].update(modelId=7), "run.modelId",
     f"'run.modelId' must be a model id matching {MODEL_ID_PATTERN}, got 7"),
    (lambda e: e["run"].update(runId="a/b"), "run.runId", f"'run.runId' {RUN_ID}, got 'a/b'"),
    (lambda e: e["run"]["window"].update(end="soon"), "run.window.end",
     "'run.window.end' must be an ISO 8601 time, got 'soon'"),
    (lambda e: e["run"]["window"].update(end="2300-01-01T00:00:00Z"), "run.window.end",
     "'run.window.end' must lie between 1970-01-01 and 2200-01-01, got '2300-01-01T00:00:00Z'"),
    (lambda e: e["run"]["window"].update(end=e["run"]["window"]["start"]), "run.window", "'run.window' is empty"),
    (lambda e: e["training"].pop("jobName"), "training.jobName", "'training.jobName' must be a non-empty string"),
    (lambda e: e.update(evaluation=[]), "evaluation", "'evaluation' must be an object, got list"),
    (lambda e: e.update(decision="yes"), "decision", "'decision' must be an object, got str"),
])
def test_a_wrong_field_is_named_with_what_was_expected(mutate: Any, field: str, message: str) -> None:
    event = load_event("metric_evaluator_compare.json")
    mutate(event)
    err = _error(event, Compare)
    assert err.details["field"] == field
    assert str(err).startswith(message)


def test_several_errors_report_the_first_and_count_the_rest() -> None:
    event = load_event("metric_evaluator_compare.json")
    del event["evaluation"], event["training"]
    err = _error(event, Compare)
    assert err.details["field"] == "evaluation"
    assert str(err).endswith("(and 1 more error)")


def test_lists_constraints_and_model_level_checks_name_the_field() -> None:
    event = load_event("metric_evaluator_evaluate.json") | {"action": "evaluate_shard", "items": [{"Key": "a"}, {}]}
    assert _error(event, EvaluateShard).details["field"] == "items[1].Key"
    router = load_event("trigger_schedule.json") | {"id": "x" * 600}
    err = _error(router, SourceEvent)
    assert err.details["field"] == "id"
    assert str(err).startswith("'id' must have at most 512 characters, got 'xxx")
    del router["detail-type"]
    assert str(_error(router, SourceEvent)) == "not an EventBridge event: 'detail-type' is missing"
    envelope = {"detail-type": "Run Requested", "detail": {"modelId": "m"}}  # no trigger id anywhere
    assert _error(envelope, RunRequested).details["field"] == "id"
    baseline = {"action": "build_baseline", "modelId": "m", "dataUri": "/tmp/x.csv"}
    assert str(_error(baseline, BuildBaseline)) == "'dataUri' must be an s3:// URI, got '/tmp/x.csv'"
    for threshold in (float("nan"), True, "0.5"):
        recal = {"action": "recalibrate", "run": {"modelId": "m", "runId": "r"},
                 "comparison": {"decisionThreshold": threshold}}
        assert _error(recal, Recalibrate).details["field"] == "comparison.decisionThreshold"


def test_a_value_shown_in_a_message_is_bounded() -> None:
    event = load_event("metric_evaluator_compare.json")
    event["run"]["runId"] = ["x" * 10_000]
    assert len(str(_error(event, Compare))) < 300


def test_the_failure_path_reads_anything_leniently() -> None:
    for state in (None, "text", 3, [], {"run": "x"}):
        parsed = parse_event({"action": "fail", "state": state, "error": "boom"}, Fail)
        assert parsed.error is None
        assert parsed.state == (state if isinstance(state, dict) else None)


def test_a_non_object_event_is_invalid() -> None:
    for event in ("{}", [], None, 3):
        assert "must be a JSON object" in str(_error(event, Compare))


def test_unknown_keys_are_kept() -> None:
    event = copy.deepcopy(load_event("metric_evaluator_compare.json"))
    event["run"]["problemType"] = "binary"
    event["evaluation"]["metrics"] = {"roc_auc": 0.9}
    parsed = parse_event(event, Compare)
    assert parsed.run.model_extra is not None
    assert parsed.run.model_extra["problemType"] == "binary"
    assert parsed.evaluation.model_dump(by_alias=True)["metrics"] == {"roc_auc": 0.9}


def test_docs_contracts_tables_are_fresh() -> None:
    text = contracts_doc.DOC.read_text()
    assert contracts_doc.render(text) == text, "docs/contracts.md is stale: run python -m tools.contracts_doc"


def test_the_doc_tool_rewrites_a_stale_table() -> None:
    text = contracts_doc.DOC.read_text()
    stale = text.replace("| `run.window.start` |", "| `run.window.begin` |", 1)
    assert stale != text
    assert contracts_doc.render(stale) == text


def test_start_runs_request_is_normalised_from_its_contract() -> None:
    from datetime import UTC, datetime

    from retrain_launcher.start import parse_request

    started = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    direct = parse_request({"modelId": "m"}, run_id="run-1", started_at=started)
    assert direct == {"modelId": "m", "trigger": {"type": "manual", "id": "run-1", "time": "2024-05-01T10:30:00Z"},
                      "windowEnd": None}
    envelope = {"id": "ev-1", "time": "2024-05-01T09:00:00Z", "detail-type": "Run Requested",
                "detail": {"modelId": "m", "windowEnd": "2024-05-01T00:00:00+02:00"}}
    assert parse_request(envelope, run_id="run-1", started_at=started) == {
        "modelId": "m", "trigger": {"type": "manual", "id": "ev-1", "time": "2024-05-01T09:00:00Z"},
        "windowEnd": "2024-04-30T22:00:00Z"}
    with pytest.raises(InvalidEvent) as info:
        parse_request({"modelId": "m", "trigger": {"id": "t"}}, run_id="run-1", started_at=started)
    assert info.value.details["field"] == "trigger.type"
    with pytest.raises(InvalidEvent) as info:
        parse_request({**envelope, "detail-type": "Other"}, run_id="run-1", started_at=started)
    assert info.value.details["field"] == "detail-type"
