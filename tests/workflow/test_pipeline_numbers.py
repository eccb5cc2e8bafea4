"""Deploy last, record first — the real ASL and handlers, offline.

1. A decisive win: a champion that is wrong on every row of a full window against a good challenger gives a
   McNemar p-value far below DynamoDB's 1e-130 floor; the run still SUCCEEDS, promoted and deployed, with the
   p-value recorded as documented (0 in the runs table with its log10 in ``numberNotes``, exact in S3).
2. A failure injected at each bookkeeping step after the endpoint switch: a transient one is absorbed by the
   ASL's Retry; a persistent one ends the run recorded as ``DEPLOYED_BOOKKEEPING_FAILED`` — and in every case
   the recorded state (runs table, champion record, lock) equals what the endpoint serves.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from boto3.dynamodb.types import TypeSerializer
from driftline_examples import traffic

from .conftest import CHAMPION_MODEL, ENDPOINT, MODEL_ID, Workflow

LOCK = f"retrain#{MODEL_ID}"
#: rows of a full window here: enough that a decisive McNemar p-value (2 * 0.5**m over m discordant rows) falls
#: below what even boto3's DynamoDB context can serialize (~1e-165), as the 2.7e-182 of the issue did, and stays
#: above the smallest double (the p-value is still a positive float)
DECISIVE_ROWS = 900
BRANCH = {"Evaluate", "CheckDrift", "EvaluateSharded", "CheckDriftSharded"}


def write_badly_wrong_day(wf: Workflow, d: int) -> np.ndarray:
    """Day ``d`` of stable traffic whose captured champion scores are wrong on every row (0.1 for a positive,
    0.9 for a negative); the ground truth is the true labels."""
    X, y, ids = traffic.day(d, DECISIVE_ROWS, traffic.SCENARIOS["stable"])
    scores = np.where(y == 1, 0.1, 0.9)
    records = traffic.capture_records(X, scores, ids, d=d)
    files = {**traffic.capture_files(records, prefix="datacapture", endpoint=ENDPOINT),
             **traffic.ground_truth_files(traffic.ground_truth_records(y, ids), prefix=f"labels/{MODEL_ID}",
                                          when=traffic.day_start(d) + timedelta(hours=23, minutes=30))}
    for key, body in files.items():
        wf.put(key, body)
    return y


def promoting_run(wf: Workflow) -> dict[str, Any]:
    """Day 10 breaches (not yet sustained), day 11 retrains, wins decisively and deploys."""
    write_badly_wrong_day(wf, 10)
    write_badly_wrong_day(wf, 11)
    first = wf.run_window(10, name="day10")
    assert first["status"] == "SUCCEEDED", first
    return wf.run_window(11, name="day11")


def serving(wf: Workflow) -> str:
    endpoint = wf.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    return str(endpoint["EndpointConfigName"])


def assert_records_equal_what_is_served(wf: Workflow, run_id: str) -> str:
    served = serving(wf)
    state = wf.model_state()
    assert state["champion"]["endpointConfigName"] == served
    assert "pendingChampion" not in state
    assert LOCK not in wf.locks()
    run = wf.runs()[run_id]
    assert run["deployment"]["endpointConfigName"] == served
    assert run["deployment"]["status"] == "InService"
    assert run["outcome"] == "deployed"
    return served


def test_decisive_win_succeeds_promoted_deployed_with_its_p_value_recorded(workflow: Workflow) -> None:
    wf = workflow
    execution = promoting_run(wf)

    assert execution["status"] == "SUCCEEDED", execution
    states = [s for s in wf.states(execution["executionArn"]) if s not in BRANCH]
    assert states[-6:] == ["CheckDeployment", "IsDeployed", "RefreshBaseline", "Complete", "Report", "Succeeded"]
    served = assert_records_equal_what_is_served(wf, "day11")
    assert served != CHAMPION_MODEL
    run = wf.runs()["day11"]
    assert run["status"] == "SUCCEEDED"

    # the exact p-value, in the run's comparison document on S3 (JSON holds any finite double)
    doc = json.loads(wf.get_text(f"runs/{MODEL_ID}/day11/comparison.json"))
    mcnemar = doc["pairedTest"]["mcnemar"]
    assert mcnemar["championOnly"] == 0  # the champion is right on no row
    assert mcnemar["challengerOnly"] > 0.7 * DECISIVE_ROWS
    p = mcnemar["pvalue"]
    # the premise: below what DynamoDB can hold, below what boto3 can even serialize
    assert 0 < p < 1e-130
    with pytest.raises(decimal.Underflow):
        TypeSerializer().serialize({"p": decimal.Decimal(repr(p))})
    assert p == pytest.approx(2 * 0.5 ** mcnemar["challengerOnly"], rel=1e-9)

    # the runs table: 0 with the log10 in the comparison's number notes
    assert run["comparison"]["pairedTest"]["mcnemar"]["pvalue"] == 0
    note = run["numberNotes"]["comparison"]["$.pairedTest.mcnemar.pvalue"]
    assert note["reason"] == "underflow"
    assert note["log10"] == pytest.approx(math.log10(p), abs=1e-6)
    assert float(note["value"]) == p
    # events carry the exact value
    evaluated = wf.events_of("Challenger Evaluated", "day11")[0]
    assert evaluated["pairedTest"]["mcnemar"]["pvalue"] == p
    assert [d["endpointConfigName"] for d in wf.events_of("Model Deployed", "day11")] == [served]
    # the run report draws both models from the comparison's chart data (same rows as the tests)
    report = json.loads(wf.get_text(f"runs/{MODEL_ID}/day11/report.json"))
    models = report["comparison"]["charts"]["models"]
    assert set(models) >= {"champion", "challenger"}
    assert models["champion"]["confusionMatrix"] == doc["charts"]["models"]["champion"]["confusionMatrix"]
    html = wf.get_text(f"runs/{MODEL_ID}/day11/report.html")
    assert 'data-chart="comparison roc curve"' in html
    assert 'data-chart="challenger confusion matrix counts and row-normalised"' in html


# ---------------------------------------------------------------------------------------------- injected failures
def _inject(monkeypatch: pytest.MonkeyPatch, action: tuple[Any, str], target: tuple[Any, str], *,
            times: int | None, run_id: str = "day11") -> dict[str, int]:
    """Make ``target`` raise while ``action`` runs for ``run_id``: ``times`` times, or always (``None``)."""
    calls = {"active": 0, "raised": 0}
    action_owner, action_name = action
    target_owner, target_name = target
    real_action: Callable[..., Any] = getattr(action_owner, action_name)
    real_target: Callable[..., Any] = getattr(target_owner, target_name)

    def wrapped_action(event: Any, *args: Any, **kwargs: Any) -> Any:
        # the action receives its parsed contract (``event.run.run_id``); a raw dict before parsing
        run = getattr(event, "run", None) if not isinstance(event, dict) else event.get("run")
        event_run_id = getattr(run, "run_id", None) if not isinstance(run, dict) else run.get("runId")
        if event_run_id != run_id:
            return real_action(event, *args, **kwargs)
        calls["active"] += 1
        try:
            return real_action(event, *args, **kwargs)
        finally:
            calls["active"] -= 1

    def failing(*args: Any, **kwargs: Any) -> Any:
        if calls["active"] and (times is None or calls["raised"] < times):
            calls["raised"] += 1
            raise RuntimeError(f"injected failure in {target_name}")
        return real_target(*args, **kwargs)

    monkeypatch.setattr(action_owner, action_name, wrapped_action)
    monkeypatch.setattr(target_owner, target_name, failing)
    return calls


def _points() -> list[tuple[str, str, str]]:
    """(step's action, object holding the failing call, the call) for every bookkeeping call after the switch."""
    return [
        ("status", "ModelStore", "record_champion"),
        ("status", "RunStore", "update"),
        ("status", "deployer.logic", "publish"),
        ("status", "LockStore", "release"),
        ("complete", "ModelStore", "record_champion"),
        ("complete", "ModelStore", "put_state"),
        ("complete", "RunStore", "update"),
        ("complete", "retrain_launcher.complete", "publish"),
        ("complete", "LockStore", "release"),
    ]


def _resolve(action: str, owner: str) -> tuple[tuple[Any, str], Any]:
    import deployer.logic
    import retrain_launcher.complete
    from driftline_common import store

    actions = {"status": (deployer.logic, "status"), "complete": (retrain_launcher.complete, "complete")}
    owners = {"ModelStore": store.ModelStore, "RunStore": store.RunStore, "LockStore": store.LockStore,
              "deployer.logic": deployer.logic, "retrain_launcher.complete": retrain_launcher.complete}
    return actions[action], owners[owner]


#: the first failure point of each step runs in ``make test``; the rest of the matrix (the same two retrain-and-deploy
#: executions each, ~30-60 s apiece on the 2-core machine) is marked ``slow`` and runs in ``make test-slow``
_FIRST_OF_EACH_STEP = {("status", "ModelStore", "record_champion"), ("complete", "ModelStore", "record_champion")}


def _matrix(points: list[tuple[str, str, str]], ids: list[str]) -> list[Any]:
    return [pytest.param(*p, id=i, marks=() if p in _FIRST_OF_EACH_STEP else pytest.mark.slow)
            for p, i in zip(points, ids, strict=True)]


@pytest.mark.parametrize(("action", "owner", "call"), _matrix(_points(), [f"{a}-{o}.{c}" for a, o, c in _points()]))
def test_persistent_failure_after_the_switch_is_recorded_as_deployed(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch, action: str, owner: str, call: str,
) -> None:
    wf = workflow
    step, target = _resolve(action, owner)
    calls = _inject(monkeypatch, step, (target, call), times=None)
    execution = promoting_run(wf)

    assert calls["raised"] >= 3  # the step was retried before the failure path ran
    assert execution["status"] == "FAILED"
    assert execution["error"] == "InternalError"
    states = [s for s in wf.states(execution["executionArn"]) if s not in BRANCH]
    assert states[-7:] == ["ReconcileDeployment", "RecordFailure", "NotifyFailure", "PublishRunFailed",
                           "ReportFailure", "FailureRecorded", "RunFailed"]
    served = assert_records_equal_what_is_served(wf, "day11")
    assert served != CHAMPION_MODEL
    run = wf.runs()["day11"]
    assert run["status"] == "DEPLOYED_BOOKKEEPING_FAILED"
    assert run["reason"].startswith(f"InternalError: unexpected RuntimeError: injected failure in {call}")
    assert wf.model_state()["previousChampion"]["modelName"] == CHAMPION_MODEL
    assert [(f["error"], f["deployed"]) for f in wf.events_of("Run Failed", "day11")] == [("InternalError", True)]


@pytest.mark.parametrize(("action", "owner", "call"), [
    ("status", "RunStore", "update"),
    pytest.param("complete", "RunStore", "update", marks=pytest.mark.slow),
])
def test_transient_failure_after_the_switch_is_retried_and_the_run_succeeds(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch, action: str, owner: str, call: str,
) -> None:
    wf = workflow
    step, target = _resolve(action, owner)
    calls = _inject(monkeypatch, step, (target, call), times=1)
    execution = promoting_run(wf)

    assert calls["raised"] == 1
    assert execution["status"] == "SUCCEEDED", execution
    assert "ReconcileDeployment" not in wf.states(execution["executionArn"])
    assert_records_equal_what_is_served(wf, "day11")
    assert wf.runs()["day11"]["status"] == "SUCCEEDED"


def test_failed_baseline_refresh_after_the_switch_keeps_the_run_deployed(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import drift_checker.handler

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("injected failure in build_and_write")

    monkeypatch.setattr(drift_checker.handler, "build_and_write", broken)
    execution = promoting_run(wf := workflow)

    assert execution["status"] == "SUCCEEDED", execution
    assert_records_equal_what_is_served(wf, "day11")
    run = wf.runs()["day11"]
    assert run["status"] == "SUCCEEDED"
    assert run["baselineRefresh"]["status"] == "FAILED"
    assert run["baselineRefresh"]["reason"].startswith("InternalError: unexpected RuntimeError: injected")


def test_a_value_the_runs_table_cannot_hold_fails_before_the_switch_not_after(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the number boundary the decisive p-value made the run fail after the switch; recording the decision
    first means a store failure leaves the endpoint untouched."""
    import deployer.logic

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("injected failure recording the decision")

    monkeypatch.setattr(deployer.logic, "record_before_switch", refuse)
    execution = promoting_run(wf := workflow)

    assert execution["status"] == "FAILED"
    assert serving(wf) == CHAMPION_MODEL
    state = wf.model_state()
    assert state["champion"]["modelName"] == CHAMPION_MODEL
    assert "pendingChampion" not in state
    run = wf.runs()["day11"]
    assert run["status"] == "FAILED"
    assert LOCK not in wf.locks()
