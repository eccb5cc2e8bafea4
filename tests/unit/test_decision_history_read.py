"""The decide step's history read (``retrain_launcher.decide.read_history``): the runs whose window ended after
``policy.history_since``, read with a DynamoDB filter, decide exactly as the model's whole history.

A differential test over random histories (breach streaks, reruns of a window, failed and running runs, gaps,
runs started before their window ended), model states (champion ``since``/``modelSince``, training cut-off,
acknowledged drift) and policies: the decision, the training sources, the score-drift reference and the
recalibration's windows are the same from the bounded read as from every run. The store's filter itself is
checked against moto in ``test_runs_filtered_by_window_end_among_the_newest``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from driftline_common.config import RetrainPolicy
from driftline_common.settings import get_settings
from driftline_common.store import RunStore, iso, parse_iso, window_end_floor
from retrain_launcher import policy as p
from retrain_launcher.common import HISTORY_LIMIT
from retrain_launcher.decide import (
    _training_sources,
    read_history,
    recalibration_sources,
    score_drift_reference,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = "history-model"
THRESHOLDS = [{"metric": "accuracy", "min": 0.75}, {"metric": "roc_auc", "min": 0.8}]


class Runs:
    """``RunStore.list`` over records in memory, as the store documents it (newest ``limit`` by ``startedAt``,
    then the filter on ``window.end``); counts the reads."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.reads: list[datetime | None] = []

    def list(self, model_id: str, *, limit: int = 50, newest_first: bool = True,
             window_end_after: datetime | None = None) -> list[dict[str, Any]]:
        self.reads.append(window_end_after)
        newest = sorted(self.records, key=lambda r: r["startedAt"], reverse=newest_first)[:limit]
        if window_end_after is None:
            return newest
        floor = window_end_floor(window_end_after)
        return [r for r in newest if isinstance((r.get("window") or {}).get("end"), str) and r["window"]["end"] > floor]


def _evidence(rng: random.Random, bad: bool) -> dict[str, Any]:
    """A window's metrics, intervals, breaches and class counts (bad: below the thresholds)."""
    n = rng.randint(200, 3000)
    acc = rng.uniform(0.62, 0.74) if bad else rng.uniform(0.74, 0.9)
    auc = rng.uniform(0.7, 0.8) if bad else rng.uniform(0.78, 0.93)
    se = 0.45 / n ** 0.5
    intervals = {m: {"method": "wilson", "lower": v - 1.28 * se, "upper": v + 1.28 * se, "confidence": 0.9}
                 for m, v in (("accuracy", acc), ("roc_auc", auc))}
    breaches = [{"metric": t["metric"], "min": t["min"], "interval": intervals[t["metric"]]}
                for t in THRESHOLDS if intervals[t["metric"]]["upper"] < t["min"]]
    positive = rng.randint(int(0.2 * n), int((0.55 if bad and rng.random() < 0.5 else 0.35) * n))
    return {"sampleSize": n, "metrics": {"accuracy": acc, "roc_auc": auc}, "intervals": intervals,
            "breaches": breaches, "breached": bool(breaches), "classCounts": [n - positive, positive]}


def _history(rng: random.Random) -> tuple[list[dict[str, Any]], datetime, int]:
    """Random run records of consecutive windows (with gaps), and the current window's end and length."""
    hours = rng.choice([6, 24, 24, 24])
    end = T0
    bad = False
    runs: list[dict[str, Any]] = []
    n = rng.randint(0, 70)
    tail = rng.randint(1, 25) if rng.random() < 0.3 else 0  # a long streak of breaches up to the current window
    for i in range(n):
        end += timedelta(hours=hours * (rng.randint(2, 12) if rng.random() < 0.08 else 1))
        if rng.random() < 0.25:  # breaches come in streaks
            bad = not bad
        bad = bad or i >= n - tail
        status = rng.choices(["SUCCEEDED", "FAILED", "RUNNING"], [0.9, 0.07, 0.03])[0]
        lag = timedelta(minutes=rng.randint(1, 90)) * (-30 if rng.random() < 0.05 else 1)  # some start early
        run: dict[str, Any] = {
            "modelId": MODEL, "runId": f"run-{i:03d}", "status": status, "startedAt": iso(end + lag),
            "window": {"start": iso(end - timedelta(hours=hours)), "end": iso(end)},
        }
        if status == "SUCCEEDED" and rng.random() < 0.95:
            run.update(_evidence(rng, bad), driftDetected=rng.random() < 0.25,
                       datasetUri=f"s3://bucket/runs/{MODEL}/run-{i:03d}/dataset.csv")
        runs.append(run)
        if rng.random() < 0.06:  # a rerun of the same window, later
            again = {**run, **_evidence(rng, not bad), "runId": f"run-{i:03d}-again",
                     "startedAt": iso(end + timedelta(hours=rng.randint(1, 200))), "status": "SUCCEEDED",
                     "datasetUri": f"s3://bucket/runs/{MODEL}/run-{i:03d}-again/dataset.csv"}
            runs.append(again)
    return runs, end + timedelta(hours=hours), hours


def _time_in(rng: random.Random, runs: list[dict[str, Any]], end: datetime) -> str | None:
    """A time around the history, often in its last few days (or ``None``)."""
    if rng.random() < 0.1:
        return None
    if rng.random() < 0.4:
        return iso(end - timedelta(hours=rng.randint(0, 96)))
    first = parse_iso(runs[0]["window"]["start"]) if runs else end - timedelta(days=3)
    span = max(1, int((end - first).total_seconds()))
    return iso(first + timedelta(seconds=rng.randint(-86400, span)))


def _state(rng: random.Random, runs: list[dict[str, Any]], end: datetime) -> dict[str, Any]:
    state: dict[str, Any] = {}
    since = _time_in(rng, runs, end)
    if since is not None:
        champion: dict[str, Any] = {"since": since, "version": "v2"}
        if rng.random() < 0.3:  # recalibrated: the model has served since before
            champion["modelSince"] = _time_in(rng, runs, parse_iso(since)) or since
        state["champion"] = champion
    cutoff = _time_in(rng, runs, end)
    if cutoff is not None:
        state["trainingDataEnd" if rng.random() < 0.7 else "lastTrainedAt"] = cutoff
    state["retrains"] = [{"runId": f"old-{j}", "startedAt": t, "trigger": rng.choice(["performance", "drift"])}
                         for j in range(rng.randint(0, 3)) if (t := _time_in(rng, runs, end))]
    if rng.random() < 0.2 and (at := _time_in(rng, runs, end)):
        state["driftAcknowledged"] = {"at": at, "features": {"f1": 0.3}}
    return state


def _policy(rng: random.Random) -> RetrainPolicy:
    return RetrainPolicy.model_validate({
        "consecutiveBreaches": rng.randint(1, 4), "minSamples": rng.choice([1, 500]),
        "minNewLabels": rng.choice([0, 1000, 20000]), "cooldownHours": rng.choice([0, 24, 48]),
        "maxRetrainsPerPeriod": rng.choice([1, 2, 5]), "trainingWindowDays": rng.randint(1, 14),
        "triggers": rng.choice([["performance"], ["drift"], ["performance", "drift"]]),
        "pooledBreaches": rng.random() < 0.5,
        "sequentialBreaches": None if rng.random() < 0.2 else {"reference": 0.25, "limit": rng.choice([1.0, 1.5])},
        "labelShift": None if rng.random() < 0.2 else {"alpha": rng.choice([0.001, 0.05])},
    })


def _decisions(policy: RetrainPolicy, history: list[dict[str, Any]], state: dict[str, Any], *, rng_seed: int,
               start: datetime, end: datetime, shifts: list[datetime]) -> dict[str, Any]:
    """Everything the decide step derives from the history, for one window (``shifts``: label-shift times to
    select the recalibration's windows at)."""
    rng = random.Random(rng_seed)  # the same current window for both histories
    evaluation = {**_evidence(rng, rng.random() < 0.5), "thresholds": THRESHOLDS}
    drift = {"detected": rng.random() < 0.3, "driftedFeatures": ["f1"], "effects": {"f1": 0.4}}
    decision = p.decide(policy, evaluation=evaluation, drift=drift, history=history, state=state,
                        window_start=start, window_end=end, now=end + timedelta(minutes=5), run_id="current",
                        score_drift={"psi": 0.3} if rng.random() < 0.5 else None)
    out = decision.to_dict()
    shift = decision.details.get("labelShift") or {}
    shift_since = parse_iso(shift["since"]) if shift.get("since") else None
    reference = score_drift_reference(state, history, run_id="current")
    return {
        "decision": out,
        "training": _training_sources(history, run_id="current", start=start, days=policy.training_window_days),
        "scoreDriftReference": reference and reference["runId"],
        "recalibration": recalibration_sources(state, history, run_id="current", start=start,
                                               days=policy.training_window_days, shift_since=shift_since),
        "recalibrationAtShifts": [
            recalibration_sources(state, history, run_id="current", start=start, days=policy.training_window_days,
                                  shift_since=t) for t in shifts],
    }


def _shifts(state: dict[str, Any], history: list[dict[str, Any]]) -> list[datetime]:
    """Where the label-shift test can place a shift: the start of a window the champion version scored (one that
    ended after its ``since``)."""
    since = ((state.get("champion") or {}).get("since"))
    if since is None:
        return []
    return sorted({parse_iso(r["window"]["start"]) for r in history
                   if r.get("window") and parse_iso(r["window"]["end"]) > parse_iso(since)})


def test_the_bounded_read_decides_as_the_whole_history() -> None:
    bounded = fallbacks = fewer = 0
    for seed in range(250):
        rng = random.Random(seed)
        runs, end, hours = _history(rng)
        start = end - timedelta(hours=hours)
        current = {"modelId": MODEL, "runId": "current", "status": "RUNNING", "startedAt": iso(end),
                   "window": {"start": iso(start), "end": iso(end)}}
        records = [*runs, current]
        state, policy = _state(rng, runs, end), _policy(rng)
        store = Runs(records)
        read = read_history(cast(RunStore, store), MODEL, policy, state, run_id="current", window_start=start,
                            window_end=end)
        whole = store.list(MODEL, limit=HISTORY_LIMIT)
        if store.reads[0] is not None:
            bounded += len(store.reads) == 2  # the bounded read, then this test's whole read
            fallbacks += len(store.reads) == 3
        fewer += len(read) < len(whole)
        shifts = _shifts(state, whole)
        assert _decisions(policy, read, state, rng_seed=seed, start=start, end=end, shifts=shifts) == _decisions(
            policy, whole, state, rng_seed=seed, start=start, end=end, shifts=shifts), seed
    # the cases cover both paths of read_history (the bounded read kept, and a second read of everything), and
    # most bounded reads leave runs out
    assert bounded > 100, bounded
    assert fallbacks >= 5, fallbacks
    assert fewer > 100, fewer


def test_history_since_reads_every_window_without_a_champion_since_or_a_training_cutoff() -> None:
    policy = RetrainPolicy.model_validate({"trainingWindowDays": 3})
    start = T0 + timedelta(days=30)
    assert p.history_since(policy, {}, start) is None
    assert p.history_since(policy, {"champion": {"since": iso(T0)}}, start) is None  # no cut-off: all labels count
    assert p.history_since(policy, {"trainingDataEnd": iso(T0)}, start) is None  # no since: CUSUM over everything
    state = {"champion": {"since": iso(T0 + timedelta(days=20)), "modelSince": iso(T0 + timedelta(days=10))},
             "trainingDataEnd": iso(T0 + timedelta(days=25))}
    assert p.history_since(policy, state, start) == T0 + timedelta(days=10)
    state = {"champion": {"since": iso(T0 + timedelta(days=29))}, "lastTrainedAt": iso(T0 + timedelta(days=29))}
    assert p.history_since(policy, state, start) == start - timedelta(days=3)  # the training sources' days


def test_history_suffices_needs_a_window_that_ends_the_streak_and_the_pooled_windows() -> None:
    end = T0 + timedelta(days=10)

    def run(day: int, breached: bool, drift: bool = False) -> dict[str, Any]:
        w_end = T0 + timedelta(days=day)
        return {"runId": f"r{day}", "status": "SUCCEEDED", "startedAt": iso(w_end), "breached": breached,
                "driftDetected": drift, "window": {"start": iso(w_end - timedelta(days=1)), "end": iso(w_end)}}

    policy = RetrainPolicy.model_validate({"consecutiveBreaches": 3, "triggers": ["performance"]})
    assert not p.history_suffices(policy, [run(9, True), run(8, True)], run_id="c", window_end=end)
    assert p.history_suffices(policy, [run(9, True), run(8, False)], run_id="c", window_end=end)
    # drift is no signal when the policy does not trigger on it: it ends the streak
    assert p.history_suffices(policy, [run(9, True), run(8, False, drift=True)], run_id="c", window_end=end)
    both = RetrainPolicy.model_validate({"consecutiveBreaches": 3})
    assert not p.history_suffices(both, [run(9, True), run(8, False, drift=True)], run_id="c", window_end=end)
    pooled = RetrainPolicy.model_validate({"consecutiveBreaches": 3, "pooledBreaches": True})
    assert not p.history_suffices(pooled, [run(9, False)], run_id="c", window_end=end)  # 2 windows pooled
    assert p.history_suffices(pooled, [run(9, False), run(8, False)], run_id="c", window_end=end)


@pytest.mark.parametrize("after", ["2026-03-10T00:00:00Z", "2026-03-10T23:59:59Z"])
def test_window_end_floor_is_below_every_later_time_in_any_offset(after: str) -> None:
    floor = window_end_floor(parse_iso(after))
    later = parse_iso(after) + timedelta(seconds=1)
    for offset in range(-14, 15):
        local = later.astimezone(datetime.fromisoformat(f"2026-01-01T00:00:00{offset:+03d}:00").tzinfo)
        assert local.isoformat() > floor
    assert iso(parse_iso(after) - timedelta(days=3)) < floor  # and it does filter


def test_runs_filtered_by_window_end_among_the_newest(stack_env: dict[str, str]) -> None:
    """``RunStore.list(window_end_after=...)`` on moto: the same runs as :class:`Runs` (the filter applied to the
    newest ``limit`` runs, every page read), runs without a window left out."""
    store = RunStore(get_settings())
    rng = random.Random(7)
    records, end, _ = _history(rng)
    records.append({"modelId": MODEL, "runId": "no-window", "status": "FAILED", "startedAt": iso(end)})
    for record in records:
        store.start(MODEL, record["runId"], **{k: v for k, v in record.items() if k not in ("modelId", "runId")})
    memory = Runs(records)
    ids = [[r["runId"] for r in got] for got in (memory.list(MODEL, limit=len(records)),
                                                  store.list(MODEL, limit=len(records)))]
    assert ids[0] == ids[1]
    for days in (0, 5, 20, 60):
        after = T0 + timedelta(days=days)
        for limit in (3, 25, 500):
            want = [r["runId"] for r in memory.list(MODEL, limit=limit, window_end_after=after)]
            got = store.list(MODEL, limit=limit, window_end_after=after)
            assert [r["runId"] for r in got] == want, (days, limit)
    assert "no-window" not in [r["runId"] for r in store.list(MODEL, limit=500, window_end_after=T0)]
