"""The suite end to end on the offline stack: a short scenario with a known correct answer, every column checked.

The scenario (``tests/examples/scenario_plugin.py``) is registered from outside the library with ``--module``,
as a user would add one. The oracle column is checked against an independent computation: the champion trained
in process by the same ``train.py`` on the same training set, scored by scikit-learn on the same oracle rows.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from driftline_examples.classifier import train as trainer
from driftline_examples.scenarios import runner
from driftline_examples.scenarios.scoring import Day, score
from sklearn.metrics import accuracy_score, roc_auc_score

from tests.examples.scenario_plugin import SUDDEN


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("scenarios")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = runner.main(["--module", "tests.examples.scenario_plugin", "--only", "test-sudden",
                            "--out", str(out), "--quiet"])
    printed = buf.getvalue()
    assert code == 0, printed
    return json.loads((out / "results.json").read_text()), printed


def test_timeline_follows_the_pipeline_decisions(suite: tuple[dict[str, Any], str]) -> None:
    doc, _ = suite
    r = doc["scenarios"]["test-sudden"]
    days = r["timeline"]
    assert [d["day"] for d in days] == [0, 1, 2, 3]
    assert [d["status"] for d in days] == ["SUCCEEDED"] * 4
    assert [d["serving"] for d in days] == ["v1", "v1", "v1", "v2"]
    assert [d["retrain"] for d in days] == [False, False, True, False]
    assert "BREACH_NOT_SUSTAINED" in days[1]["reasons"]
    assert [bool(d["oracle_breaches"]) for d in days] == [False, True, True, False]
    c = days[2]["challenger"]
    assert c["promoted"] is True
    assert c["deployed"] is True
    assert set(c["judged"]) == set(days[2]["window_breaches"]) == {"roc_auc", "accuracy"}
    # the champion's oracle values in the comparison are the serving model's on that day
    assert c["champion_oracle"] == {m: days[2]["oracle"][m] for m in c["judged"]}
    for m in c["judged"]:
        assert c["challenger_oracle"][m] > c["champion_oracle"][m]


def test_oracle_values_agree_with_an_independent_computation(suite: tuple[dict[str, Any], str]) -> None:
    doc, _ = suite
    X, y = SUDDEN.training_set()
    hps = {**trainer.DEFAULTS, "l2": 1.0, "categorical": []}
    champion = trainer.fit(X, y, hps)
    for d in (0, 1):
        Xo, yo = SUDDEN.oracle(d)
        p = trainer.predict_proba(champion, Xo)
        got = doc["scenarios"]["test-sudden"]["timeline"][d]["oracle"]
        assert got["roc_auc"] == pytest.approx(roc_auc_score(yo, p), abs=1e-5)
        assert got["accuracy"] == pytest.approx(accuracy_score(yo, p > 0.5), abs=1e-5)
    # the drift is real on the oracle: the champion loses more than 0.2 of ROC AUC on day 1
    timeline = doc["scenarios"]["test-sudden"]["timeline"]
    assert timeline[1]["oracle"]["roc_auc"] < 0.7 < timeline[0]["oracle"]["roc_auc"]


def test_columns_and_verdict(suite: tuple[dict[str, Any], str]) -> None:
    doc, printed = suite
    r = doc["scenarios"]["test-sudden"]
    s = r["score"]
    assert s["episodes"] == [[1, 2]]
    assert s["delays"] == [1]  # breach visible on day 1, retrain decided on day 2
    assert (s["retrains"], s["false_retrains"], s["promotions"], s["real_promotions"]) == (1, 0, 1, 1)
    assert s["rejected_fixes"] == 0
    assert s["days_below"] == 2
    assert r["correct"] is True
    assert r["problems"] == []
    assert r["expected"]["retrainWindows"] == [[1, 3]]
    assert "| test-sudden | retrain within 1 window of day 1 | 1 | 0 | 1 / 1 | 0 | 1 | 2 / 4 | correct |" in printed
    assert "1 of 1 scenarios decided correctly" in printed


def test_list_and_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert "regression-drift" in listed
    assert "label-prior-shift" in listed
    with pytest.raises(SystemExit):
        runner.main(["--only", "no-such-scenario"])
    assert "unknown scenario" in capsys.readouterr().err


def test_table_marks_a_wrong_decision() -> None:
    days = [Day(d, "v1", {"roc_auc": 0.6, "accuracy": 0.6} if d else {"roc_auc": 0.9, "accuracy": 0.8})
            for d in range(4)]
    s = score(days, [{"metric": "accuracy", "min": 0.68}], retrain_windows=SUDDEN.expected.retrain_windows)
    result = runner.ScenarioResult(SUDDEN, days, s, ["breach from day 1 never retrained"], [], 0.0, 0.0)
    row = runner.table([result]).splitlines()[-1]
    assert row == ("| test-sudden | retrain within 1 window of day 1 | 0 | 0 | 0 / 0 | 0 | never | 3 / 4 "
                   "| WRONG: breach from day 1 never retrained |")


def test_version_labels_per_model_and_threshold() -> None:
    versions: dict[tuple[str, float], str] = {}
    assert runner._version(versions, "s3://b/m1.tar.gz", 0.5) == "v1"
    assert runner._version(versions, "s3://b/m1.tar.gz", 0.5) == "v1"
    assert runner._version(versions, "s3://b/m2.tar.gz", 0.5) == "v2"
    # a recalibrated decision threshold on the same artifact is the same model under another threshold
    assert runner._version(versions, "s3://b/m2.tar.gz", 0.35) == "v2@0.35"
    assert runner._version(versions, "s3://b/m3.tar.gz", 0.35) == "v3"
