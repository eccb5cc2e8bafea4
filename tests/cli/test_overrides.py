"""``--set`` / ``--sweep`` of ``driftline backtest``: paths into the config, every combination of a sweep."""

from __future__ import annotations

import pytest
from driftline_cli.aws import CliError
from driftline_cli.backtest_cli import apply_override, variants

CFG = {"thresholds": [{"metric": "roc_auc", "min": 0.8}], "retrainPolicy": {"consecutiveBreaches": 2}}


def test_set_changes_one_field_and_leaves_the_original() -> None:
    out = apply_override(CFG, "retrainPolicy.consecutiveBreaches", 3)
    assert out["retrainPolicy"]["consecutiveBreaches"] == 3
    assert CFG["retrainPolicy"]["consecutiveBreaches"] == 2
    assert apply_override(CFG, "thresholds.0.min", 0.75)["thresholds"][0] == {"metric": "roc_auc", "min": 0.75}


@pytest.mark.parametrize("path", ["thresholds.1.min", "thresholds.x.min", "thresholds.0.min.deeper"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(CliError):
        apply_override(CFG, path, 1)


def test_sweeps_make_every_combination_after_the_sets() -> None:
    got = variants(CFG, ["retrainPolicy.consecutiveBreaches=3"],
                   ["thresholds.0.min=0.75,0.8", "retrainPolicy.cooldownHours=24,48,72"])
    assert len(got) == 6
    labels = [label for label, _ in got]
    assert labels[0] == "thresholds.0.min=0.75 retrainPolicy.cooldownHours=24"
    assert all(cfg["retrainPolicy"]["consecutiveBreaches"] == 3 for _, cfg in got)
    assert {(c["thresholds"][0]["min"], c["retrainPolicy"]["cooldownHours"]) for _, c in got} == {
        (a, b) for a in (0.75, 0.8) for b in (24, 48, 72)}
    assert variants(CFG, [], []) == [("config", CFG)]
    with pytest.raises(CliError):
        variants(CFG, ["no-equals-sign"], [])
