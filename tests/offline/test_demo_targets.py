"""The demo prints whether each timing target was met, not only the target beside the number."""

from driftline_offline.demo import _versus


def test_a_missed_target_is_said():
    assert _versus(61.2, 60) == "(target < 60 s: MISSED)"
    assert _versus(0.51, 0.5) == "(target < 0.5 s: MISSED)"


def test_a_met_target_is_said():
    assert _versus(59.9, 60) == "(target < 60 s: met)"


def test_nothing_measured_is_said():
    assert _versus(None, 0.5) == "(target < 0.5 s: not measured)"
