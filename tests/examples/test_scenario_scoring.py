"""The suite's measures on hand-built timelines: every column of the table, with answers worked out by hand."""

from __future__ import annotations

import doctest

import pytest
from driftline_examples.scenarios import scoring
from driftline_examples.scenarios.scoring import Challenger, Day, breaches, episodes, score, verdict

ACC = [{"metric": "accuracy", "min": 0.7}, {"metric": "roc_auc", "min": 0.8}]
RMSE = [{"metric": "rmse", "max": 1.5}]


def _day(d: int, acc: float, *, auc: float = 0.85, serving: str = "v1", **kwargs: object) -> Day:
    return Day(d, serving, {"accuracy": acc, "roc_auc": auc}, **kwargs)  # type: ignore[arg-type]


def _challenger(promoted: bool, champ: dict[str, float], chall: dict[str, float], judged: list[str]) -> Challenger:
    return Challenger("job", promoted, judged, champ, chall)


def test_module_example() -> None:
    assert doctest.testmod(scoring).failed == 0


def test_breaches_min_max_and_undefined() -> None:
    assert breaches({"accuracy": 0.69, "roc_auc": 0.8}, ACC) == ["accuracy"]  # 0.8 is not below 0.8
    assert breaches({"accuracy": 0.71}, ACC) == ["roc_auc"]  # a missing value breaches
    assert breaches({"accuracy": float("nan"), "roc_auc": 0.9}, ACC) == ["accuracy"]
    assert breaches({"rmse": 1.51}, RMSE) == ["rmse"]
    assert breaches({"rmse": 1.5}, RMSE) == []


def test_episodes_are_maximal_runs_of_oracle_breaches() -> None:
    days = [_day(0, 0.8), _day(1, 0.6), _day(2, 0.6), _day(3, 0.8), _day(4, 0.8, auc=0.7), _day(5, 0.6)]
    assert episodes(days, ACC) == [(1, 2), (4, 5)]
    # a precomputed breach list (what the runner stores) wins over recomputation
    days[0].oracle_breaches = ["accuracy"]
    assert episodes(days, ACC)[0] == (0, 2)


def test_detection_delay_per_episode_and_never() -> None:
    days = [_day(0, 0.8), _day(1, 0.6), _day(2, 0.6), _day(3, 0.6, retrain=True), _day(4, 0.8),
            _day(5, 0.6), _day(6, 0.6), _day(7, 0.8, retrain=True)]
    s = score(days, ACC, retrain_windows=((1, 7),))
    assert s.episodes == [(1, 3), (5, 6)]
    # the first episode is retrained on its third day; the second ends (day 7 is healthy) without a retrain
    assert s.delays == [2, None]
    assert s.retrains == 2
    assert s.retrain_days == [3, 7]
    assert s.days_below == 5


def test_false_retrains_outside_windows_and_bad_promotions_counted_once_per_day() -> None:
    worse = _challenger(True, {"accuracy": 0.65}, {"accuracy": 0.60}, ["accuracy"])
    better = _challenger(True, {"accuracy": 0.65}, {"accuracy": 0.75}, ["accuracy"])
    days = [
        _day(0, 0.8, retrain=True),  # before the drift: outside the windows
        _day(1, 0.65, retrain=True, window_breaches=["accuracy"], challenger=worse),  # inside, but a bad promotion
        _day(2, 0.65, retrain=True, window_breaches=["accuracy"], challenger=better),  # inside, a real improvement
        _day(3, 0.8, serving="v2", retrain=True, challenger=worse),  # outside AND a bad promotion: counted once
    ]
    s = score(days, ACC, retrain_windows=((1, 2),))
    assert s.false_retrains == 3
    assert s.false_retrain_days == {
        0: ["outside the correct retrain windows"],
        1: ["promoted a challenger that is not better on the oracle"],
        3: ["outside the correct retrain windows", "promoted a challenger that is not better on the oracle"],
    }
    assert (s.promotions, s.real_promotions) == (3, 1)


def test_real_promotion_needs_every_judged_metric_better_in_its_direction() -> None:
    both = _challenger(True, {"accuracy": 0.6, "roc_auc": 0.7}, {"accuracy": 0.7, "roc_auc": 0.69},
                       ["accuracy", "roc_auc"])
    assert not scoring.is_real_improvement(both)  # ROC AUC got worse
    equal = _challenger(True, {"accuracy": 0.6}, {"accuracy": 0.6}, ["accuracy"])
    assert not scoring.is_real_improvement(equal)  # strictly better only
    rmse = _challenger(True, {"rmse": 3.2}, {"rmse": 1.0}, ["rmse"])
    assert scoring.is_real_improvement(rmse)  # lower is better
    assert not scoring.is_real_improvement(_challenger(True, {"rmse": 1.0}, {"rmse": 3.2}, ["rmse"]))
    assert not scoring.is_real_improvement(_challenger(True, {}, {}, []))


def test_rejected_fixes() -> None:
    fixes = _challenger(False, {"accuracy": 0.65}, {"accuracy": 0.78}, ["accuracy"])
    improves_but_still_below = _challenger(False, {"accuracy": 0.60}, {"accuracy": 0.68}, ["accuracy"])
    drift_only = _challenger(False, {"roc_auc": 0.85}, {"roc_auc": 0.86}, ["roc_auc"])  # nothing breached
    promoted = _challenger(True, {"accuracy": 0.65}, {"accuracy": 0.78}, ["accuracy"])
    days = [
        _day(0, 0.65, retrain=True, window_breaches=["accuracy"], challenger=fixes),
        _day(1, 0.60, retrain=True, window_breaches=["accuracy"], challenger=improves_but_still_below),
        _day(2, 0.8, retrain=True, challenger=drift_only),
        _day(3, 0.65, retrain=True, window_breaches=["accuracy"], challenger=promoted),
    ]
    assert score(days, ACC, retrain_windows=((0, 3),)).rejected_fixes == 1
    # a breach found by pooling windows (the window's own bound did not breach) counts too
    pooled = Challenger("job", False, ["accuracy"], {"accuracy": 0.65}, {"accuracy": 0.78}, breached=["accuracy"])
    days.append(_day(4, 0.65, retrain=True, challenger=pooled))
    assert score(days, ACC, retrain_windows=((0, 4),)).rejected_fixes == 2


def test_verdicts() -> None:
    kw = {"retrain_windows": ((2, 9),), "tolerated_retrains": 0, "max_delay": 2, "max_days_below": 3, "last_day": 9}
    fixed = _challenger(True, {"accuracy": 0.6}, {"accuracy": 0.75}, ["accuracy"])
    good = [_day(0, 0.8), _day(1, 0.8), _day(2, 0.6), _day(3, 0.6, retrain=True, window_breaches=["accuracy"],
                                                              challenger=fixed), _day(4, 0.8, serving="v2")]
    assert verdict(score(good, ACC, retrain_windows=((2, 9),)), retrain_expected=True, **kw) == []
    slow = [_day(d, 0.6 if d >= 2 else 0.8, retrain=d == 6) for d in range(10)]
    problems = verdict(score(slow, ACC, retrain_windows=((2, 9),)), retrain_expected=True, **kw)
    assert "breach from day 2 retrained after 4 windows (max 2)" in problems
    assert "no promotion that was a real improvement" in problems
    assert "8 days below threshold (max 3)" in problems
    never = [_day(d, 0.6 if d >= 2 else 0.8) for d in range(10)]
    assert "breach from day 2 never retrained" in verdict(score(never, ACC, retrain_windows=((2, 9),)),
                                                          retrain_expected=True, **kw)
    # an episode that starts too close to the end to be retrained in time is not "never retrained"
    late = [_day(d, 0.6 if d == 9 else 0.8) for d in range(10)]
    assert verdict(score(late, ACC, retrain_windows=((2, 9),)), retrain_expected=True,
                   **{**kw, "max_days_below": None}) == []
    noise = [_day(d, 0.8, retrain=d in (3, 7)) for d in range(10)]
    s = score(noise, ACC)
    assert verdict(s, retrain_expected=False, **{**kw, "retrain_windows": ()}) == ["2 false retrain(s) (tolerated 0)"]
    assert verdict(s, retrain_expected=False, **{**kw, "retrain_windows": (), "tolerated_retrains": 2}) == []
    failed = [_day(0, 0.8, status="FAILED")]
    assert verdict(score(failed, ACC), retrain_expected=False, **{**kw, "retrain_windows": ()}) == ["1 failed run(s)"]


def test_unknown_metric_direction_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        scoring.better("no_such_metric", 1.0, 0.0)


def test_score_json_is_plain() -> None:
    import json

    days = [_day(0, 0.6, retrain=True)]
    doc = score(days, ACC).to_json()
    assert json.loads(json.dumps(doc, allow_nan=False))["false_retrain_days"] == {"0": ["outside the correct "
                                                                                      "retrain windows"]}


def test_a_remedy_without_a_retrain_counts_as_acting() -> None:
    """A recalibration (a challenger compared and promoted, no retraining) detects the episode and is judged."""
    fixed = _challenger(True, {"accuracy": 0.6}, {"accuracy": 0.75}, ["accuracy"])
    worse = _challenger(True, {"accuracy": 0.6}, {"accuracy": 0.55}, ["accuracy"])
    days = [_day(0, 0.8), _day(1, 0.6), _day(2, 0.6, window_breaches=["accuracy"], challenger=fixed),
            _day(3, 0.8, serving="v1@0.4"), _day(4, 0.8, serving="v1@0.4", challenger=worse)]
    s = score(days, ACC, retrain_windows=((1, 4),))
    assert s.delays == [1]
    assert s.retrains == 0
    assert (s.promotions, s.real_promotions) == (2, 1)
    assert s.false_retrain_days == {4: ["promoted a challenger that is not better on the oracle"]}
