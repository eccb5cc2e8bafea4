"""The retrain policy, one rule at a time (pure: no AWS, explicit clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from driftline_common.config import RetrainPolicy
from retrain_launcher import policy as p

END = datetime(2024, 5, 10, tzinfo=UTC)
NOW = END + timedelta(minutes=5)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_run(days_ago: int, *, breached: bool = False, drift: bool = False, n: int = 1000,
               status: str = "SUCCEEDED", run_id: str | None = None) -> dict[str, Any]:
    end = END - timedelta(days=days_ago)
    return {
        "runId": run_id or f"r{days_ago}", "status": status, "startedAt": iso(end + timedelta(minutes=5)),
        "window": {"start": iso(end - timedelta(days=1)), "end": iso(end)},
        "breached": breached, "driftDetected": drift, "sampleSize": n,
    }


def policy(**kw: Any) -> RetrainPolicy:
    base = {"consecutiveBreaches": 3, "minSamples": 500, "minNewLabels": 500, "cooldownHours": 24,
            "maxRetrainsPerPeriod": 2, "periodDays": 7}
    return RetrainPolicy.model_validate({**base, **kw})


def run_policy(pol: RetrainPolicy, *, breached: bool = True, drift: bool = False, n: int = 1000,
               history: list[dict[str, Any]] | None = None, state: dict[str, Any] | None = None) -> p.PolicyDecision:
    return p.decide(pol, evaluation={"breached": breached, "sampleSize": n}, drift={"detected": drift},
                    history=history or [], state=state or {}, window_start=END - timedelta(days=1),
                    window_end=END, now=NOW, run_id="current")


SUSTAINED = [window_run(1, breached=True), window_run(2, breached=True)]


def test_sustained_breach_retrains() -> None:
    d = run_policy(policy(), history=SUSTAINED)
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH]
    assert d.breach_streak == 3


def test_healthy_window() -> None:
    d = run_policy(policy(), breached=False, history=SUSTAINED)
    assert not d.retrain
    assert d.reasons == [p.HEALTHY]
    assert d.breach_streak == 0


def test_single_breached_window_is_noise() -> None:
    d = run_policy(policy(), history=[window_run(1), window_run(2)])
    assert not d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH, p.BREACH_NOT_SUSTAINED]
    assert d.breach_streak == 1


def test_streak_is_broken_by_a_healthy_window() -> None:
    history = [window_run(1, breached=True), window_run(2), window_run(3, breached=True), window_run(4, breached=True)]
    d = run_policy(policy(), history=history)
    assert d.breach_streak == 2
    assert p.BREACH_NOT_SUSTAINED in d.reasons


def test_duplicate_runs_of_a_window_count_once_and_failed_runs_are_skipped() -> None:
    history = [window_run(1, breached=True), window_run(1, breached=True, run_id="again"),
               window_run(2, status="FAILED"), {**window_run(2), "breached": True, "runId": "x"}]
    d = run_policy(policy(), history=history)
    assert d.breach_streak == 3
    d2 = run_policy(policy(), history=history[:3])  # the failed run of window 2 is not a healthy window either
    assert d2.breach_streak == 2


def test_current_run_in_history_is_ignored() -> None:
    current = {**window_run(0, breached=True), "runId": "current"}
    d = run_policy(policy(consecutiveBreaches=2), history=[current, window_run(1)])
    assert d.breach_streak == 1


def test_drift_signal_and_trigger_selection() -> None:
    history = [window_run(1, drift=True), window_run(2, drift=True)]
    d = run_policy(policy(), breached=False, drift=True, history=history)
    assert d.retrain
    assert d.reasons == [p.DATASET_DRIFT]
    only_perf = run_policy(policy(triggers=["performance"]), breached=False, drift=True, history=history)
    assert not only_perf.retrain
    assert only_perf.reasons == [p.SIGNAL_NOT_ENABLED]
    # a drifted earlier window does not sustain a performance-only policy
    mixed = run_policy(policy(triggers=["performance"]), breached=True, history=history)
    assert mixed.breach_streak == 1


def test_both_signals_reported() -> None:
    d = run_policy(policy(consecutiveBreaches=1), breached=True, drift=True)
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH, p.DATASET_DRIFT]


@pytest.mark.parametrize(("n", "expected"), [(499, False), (500, True)])
def test_min_samples(n: int, expected: bool) -> None:
    d = run_policy(policy(consecutiveBreaches=1, minNewLabels=0), n=n)
    assert d.retrain is expected
    assert (p.TOO_FEW_SAMPLES in d.reasons) is (not expected)


def test_new_labels_since_training() -> None:
    # trained on data up to 2 days ago: only the windows starting after the cut-off count (1000 + 1000)
    state = {"trainingDataEnd": iso(END - timedelta(days=2)), "lastTrainedAt": iso(END - timedelta(days=5))}
    d = run_policy(policy(minNewLabels=2500, cooldownHours=0), history=SUSTAINED, state=state)
    assert d.new_labels == 2000
    assert d.reasons == [p.PERFORMANCE_BREACH, p.TOO_FEW_NEW_LABELS]
    d2 = run_policy(policy(minNewLabels=2000, cooldownHours=0), history=SUSTAINED, state=state)
    assert d2.retrain
    # never retrained: every known window counts
    assert run_policy(policy(), history=SUSTAINED).new_labels == 3000


def test_cooldown() -> None:
    state = {"retrains": [{"runId": "old", "startedAt": iso(NOW - timedelta(hours=23))}]}
    d = run_policy(policy(minNewLabels=0), history=SUSTAINED, state=state)
    assert d.reasons == [p.PERFORMANCE_BREACH, p.COOLDOWN]
    assert d.details["cooldownUntil"] == iso(NOW + timedelta(hours=1))
    later = {"retrains": [{"runId": "old", "startedAt": iso(NOW - timedelta(hours=25))}]}
    assert run_policy(policy(minNewLabels=0), history=SUSTAINED, state=later).retrain


def test_budget_per_period() -> None:
    state = {"retrains": [{"runId": "a", "startedAt": iso(NOW - timedelta(days=6))},
                          {"runId": "b", "startedAt": iso(NOW - timedelta(days=2))}]}
    d = run_policy(policy(minNewLabels=0), history=SUSTAINED, state=state)
    assert d.reasons == [p.PERFORMANCE_BREACH, p.BUDGET_EXHAUSTED]
    assert d.retrains_in_period == 2
    older = {"retrains": [{"runId": "a", "startedAt": iso(NOW - timedelta(days=8))},
                          {"runId": "b", "startedAt": iso(NOW - timedelta(days=2))}]}
    assert run_policy(policy(minNewLabels=0), history=SUSTAINED, state=older).retrain
    assert run_policy(policy(minNewLabels=0, maxRetrainsPerPeriod=0), history=SUSTAINED).reasons[-1] == \
        p.BUDGET_EXHAUSTED


def test_every_blocking_reason_is_listed() -> None:
    state = {"retrains": [{"runId": "a", "startedAt": iso(NOW - timedelta(hours=1))}]}
    d = run_policy(policy(maxRetrainsPerPeriod=1), n=10, state=state)
    assert d.reasons == [p.PERFORMANCE_BREACH, p.BREACH_NOT_SUSTAINED, p.TOO_FEW_SAMPLES, p.TOO_FEW_NEW_LABELS,
                         p.COOLDOWN, p.BUDGET_EXHAUSTED]


def test_lock_held_and_no_data_turn_a_retrain_off() -> None:
    d = run_policy(policy(), history=SUSTAINED)
    held = p.with_lock_held(d, "other-run")
    assert (held.retrain, held.reasons[-1], held.details["lockHolder"]) == (False, p.LOCK_HELD, "other-run")
    assert p.with_no_training_data(d).reasons[-1] == p.NO_TRAINING_DATA
    assert held.to_dict()["breachStreak"] == 3
