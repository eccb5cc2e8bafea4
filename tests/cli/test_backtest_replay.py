"""``driftline backtest`` end to end on small histories: binary with the history's own scores and a sweep,
regression and multiclass with their example models (each replay deploys its own offline stack)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from driftline_examples.history import write_history
from driftline_examples.scenarios import base
from driftline_offline.scenario import model_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "driftline_examples"

pytestmark = pytest.mark.slow


def _history(tmp_path: Path, scenario_name: str, *, days: int, rows: int, score: str | None = None) -> Path:
    path = tmp_path / "history.csv"
    write_history(path, base.get(scenario_name), days=days, rows=rows)
    if score is None:
        return path
    with path.open(newline="") as fh:
        table = list(csv.reader(fh))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*table[0], "score"])
        w.writerows([*r, score] for r in table[1:])
    return path


def _config(tmp_path: Path, scenario_name: str) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(model_config(base.get(scenario_name), "driftline-databucket")))
    return path


def test_history_scores_are_what_the_first_champion_is_judged_on_and_sweeps_compare(tmp_path: Path,
                                                                                     run_cli) -> None:
    # every captured score is the history's constant 0.5: the champion's ROC AUC on each window is exactly 0.5
    # (the model itself, trained on the same population, scores about 0.85)
    data = _history(tmp_path, "stable", days=5, rows=300, score="0.5")
    cfg = _config(tmp_path, "stable")
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "backtest", str(cfg), "--data", str(data), "--time-column", "event_time", "--label-column", "label",
        "--id-column", "request_id", "--score-column", "score", "--source-dir", str(EXAMPLES / "classifier"),
        "--train-windows", "2", "--out", str(out),
        "--set", 'thresholds=[{"metric": "roc_auc", "min": 0.6}]', "--set", "retrainPolicy.minSamples=100",
        "--set", "retrainPolicy.minNewLabels=100",
        "--sweep", "retrainPolicy.consecutiveBreaches=1,3")
    assert code == 0, err
    doc = json.loads((out / "backtest.json").read_text())
    assert [v["label"] for v in doc["variants"]] == ["retrainPolicy.consecutiveBreaches=1",
                                                     "retrainPolicy.consecutiveBreaches=3"]
    for variant in doc["variants"]:
        first = variant["windows"][0]
        assert first["modelVersion"] == "v1"
        assert first["metrics"]["roc_auc"] == 0.5
        assert first["breaches"] == ["roc_auc"]
        assert variant["config"]["thresholds"] == [{"metric": "roc_auc", "min": 0.6}]
    one, three = (v["windows"] for v in doc["variants"])
    # Driftline retrains on windows it has evaluated: the first evaluated window has none before it
    assert "NO_TRAINING_DATA" in one[0]["decision"]["reasons"]
    # the second breached window is enough for consecutiveBreaches=1, not for 3
    assert one[1]["decision"]["retrain"] is True
    assert three[1]["decision"]["retrain"] is False
    assert "BREACH_NOT_SUSTAINED" in three[1]["decision"]["reasons"]
    # the challenger (trained by the example's script) beats the constant history scores and is deployed; from
    # then on the rows go through the endpoint and the new model scores them
    assert one[1]["comparison"]["promote"] is True
    assert one[1]["deployed"] == "v2"
    assert one[2]["modelVersion"] == "v2"
    assert one[2]["metrics"]["roc_auc"] > 0.7
    assert doc["variants"][0]["summary"]["promotions"] == 1
    assert "policies" in stdout
    assert "consecutiveBreaches=1" in (out / "report.html").read_text()


@pytest.mark.parametrize(("scenario_name", "code_dir", "metric"), [
    ("regression-drift", "regressor", "rmse"), ("multiclass-drift", "multiclass", "f1_weighted")])
def test_regression_and_multiclass_histories_replay(tmp_path: Path, run_cli, scenario_name, code_dir,
                                                    metric) -> None:
    data = _history(tmp_path, scenario_name, days=4, rows=300)
    cfg = _config(tmp_path, scenario_name)
    code, stdout, err = run_cli(
        "backtest", str(cfg), "--data", str(data), "--time-column", "event_time", "--label-column", "label",
        "--source-dir", str(EXAMPLES / code_dir), "--train-windows", "2", "--out", str(tmp_path / "out"),
        "--output", "json")
    assert code == 0, err
    # stdout is the one JSON document; the functions' own logs (EMF metrics among them) are in functions.log
    assert json.loads(stdout)["out"] == str(tmp_path / "out")
    assert '"_aws"' in (tmp_path / "out" / "functions.log").read_text()
    doc = json.loads((tmp_path / "out" / "backtest.json").read_text())
    assert [w["rows"] for w in doc["windows"]] == [300, 300]
    assert all(w["status"] == "SUCCEEDED" and metric in w["metrics"] for w in doc["windows"])
    assert doc["summary"]["windows"] == 2


def test_each_window_capture_is_parsed_once(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # the evaluator and the drift checker (the pipeline's parallel Assess branches) both read the window's capture;
    # a replay runs one task at a time, so the second loads the run's window artifact the first wrote instead of
    # parsing the capture again (in one interpreter two concurrent parses would only share the GIL)
    from driftline_common import artifacts

    reads = {"calls": 0, "parses": 0}
    original = artifacts.cached_capture

    def counting(cfg, objects, start, end, cache, read, **kwargs):  # type: ignore[no-untyped-def]
        def parse():  # type: ignore[no-untyped-def]
            reads["parses"] += 1
            return read()

        reads["calls"] += 1
        return original(cfg, objects, start, end, cache, parse, **kwargs)

    monkeypatch.setattr(artifacts, "cached_capture", counting)
    data = _history(tmp_path, "stable", days=5, rows=300)
    code, _, err = run_cli(
        "backtest", str(_config(tmp_path, "stable")), "--data", str(data), "--time-column", "event_time",
        "--label-column", "label", "--id-column", "request_id", "--source-dir", str(EXAMPLES / "classifier"),
        "--train-windows", "2", "--out", str(tmp_path / "out"), "--output", "json")
    assert code == 0, err
    doc = json.loads((tmp_path / "out" / "backtest.json").read_text())
    windows = doc["summary"]["windows"]
    assert windows == 3
    assert all(w["status"] == "SUCCEEDED" for w in doc["windows"])
    assert reads["calls"] >= 2 * windows  # the evaluator, the drift checker (and the monitor) read it
    assert reads["parses"] == windows
