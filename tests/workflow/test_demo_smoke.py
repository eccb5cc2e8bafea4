"""The demo's day-by-day driver on the real template: short runs of both scenarios, end to end.

Everything a user sees in ``make demo`` happens here too, only shorter: the example is set up by
:func:`driftline_offline.scenario.seed_example` (a real script-mode training job, the baseline action, an
endpoint with Data Capture, the config registered through the API function), each day's traffic goes through
``InvokeEndpoint`` in multi-row CSV requests, its ground truth lands in SageMaker's format and the template's
daily schedule starts the run. The drift scenario is ``traffic.DRIFT`` with its drift moved to day 1 (no ramp)
so that four days show the whole story: healthy, a first breach, the sustained breach that retrains, deploys
the challenger, and a recovered day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from driftline_common.aws import reset_clients
from driftline_common.config import parse_config
from driftline_common.datasets import parse_dataset_csv, read_dataset_text
from driftline_examples import traffic
from driftline_examples.report import render_report
from driftline_offline import OfflineStack
from driftline_offline import demo as demo_mod
from driftline_offline.scenario import (
    ENDPOINT_NAME,
    MODEL_ID,
    TEMPLATE,
    DayResult,
    Example,
    api_event,
    seed_example,
)
from sklearn.metrics import accuracy_score, roc_auc_score

ROWS = 800
EARLY_DRIFT = replace(
    traffic.DRIFT,
    covariate=replace(traffic.DRIFT.covariate, start_day=1, ramp_days=1),
    concept=replace(traffic.DRIFT.concept, start_day=1, ramp_days=1),
)
SUMMARY_DAY_KEYS = {"day", "model_version", "metrics", "drift", "decision", "deployed_version", "execution_status"}


@dataclass
class Simulated:
    """What a scenario left behind, read before its stack closed (two moto stacks cannot be open at once)."""

    config: dict[str, Any]
    labels: dict[int, tuple[list[str], Any]]
    results: list[DayResult]
    days: list[dict[str, Any]]
    training_jobs: list[str]
    endpoint_config: str
    evaluations: dict[int, dict[str, Any]]
    dataset0: str
    details: dict[str, Any]


def _simulate(scenario: traffic.Scenario, n_days: int) -> Simulated:
    reset_clients()
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"}, clock=traffic.ORIGIN) as stack:
        ex = seed_example(stack, scenario=scenario, rows_per_day=ROWS)
        results, days = [], []
        for d in range(n_days):
            serving = (ex.models().get_state(MODEL_ID).get("champion") or {}).get("version")
            if d:
                ex.send_traffic(d)
                ex.write_ground_truth(d)
            results.append(ex.run_day(d))
            days.append(demo_mod.day_entry(results[-1], serving))
        sm = stack.client("sagemaker")
        jobs = [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]]
        config = sm.describe_endpoint(EndpointName=ENDPOINT_NAME)["EndpointConfigName"]
        evaluations = {r.day: json.loads(ex.get(r.run["evaluationUri"])) for r in results if r.run.get("evaluationUri")}
        dataset0 = read_dataset_text(results[0].run["datasetUri"], ex.get) if results[0].run.get("datasetUri") else ""
        details = demo_mod.scenario_details(ex, results, days)
        sim = Simulated(ex.config, dict(ex.labels), results, days, jobs, config, evaluations, dataset0, details)
    reset_clients()
    return sim


@pytest.fixture(scope="module")
def drift() -> Simulated:
    return _simulate(EARLY_DRIFT, 4)


@pytest.fixture(scope="module")
def stable() -> Simulated:
    return _simulate(traffic.STABLE, 3)


# ------------------------------------------------------------------------------------------------ both
@pytest.mark.parametrize("name", ["drift", "stable"])
def test_every_scheduled_run_succeeds_on_one_record_per_row(name: str, request: pytest.FixtureRequest) -> None:
    sim: Simulated = request.getfixturevalue(name)
    for r in sim.results:
        assert r.status == "SUCCEEDED", r.error
        assert r.run["trigger"]["type"] == "schedule"
        start = traffic.day_start(r.day).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert r.run["window"]["start"] == start
        # 6 multi-row requests a day; the evaluator and the drift checker count every row, none is bad
        assert r.run["sampleSize"] == ROWS
        assert r.run["drift"]["sampleSize"] == ROWS
        evaluation = sim.evaluations[r.day]
        assert evaluation["badRecords"] == {"capture": 0, "groundTruth": 0, "unmatched": 0}
        assert evaluation["unlabelled"] == 0


def test_metrics_match_a_reference_on_the_joined_rows(drift: Simulated) -> None:
    """Day 0: the joined labels are the traffic's true labels, and the metrics are scikit-learn's on those rows."""
    r = drift.results[0]
    cfg = parse_config(drift.config)
    data = parse_dataset_csv(cfg, drift.dataset0)
    ids, y = drift.labels[0]
    truth = dict(zip(ids, (str(int(v)) for v in y), strict=True))
    assert sorted(data.ids.tolist()) == sorted(ids)
    assert [truth[i] for i in data.ids.tolist()] == data.y_true.tolist()
    y_true = (data.y_true == "1").astype(int)
    assert r.result["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y_true, data.scores), abs=1e-12)
    assert r.result["metrics"]["accuracy"] == pytest.approx(accuracy_score(y_true, data.scores > 0.5), abs=1e-12)


# ------------------------------------------------------------------------------------------------ drift
def test_drift_healthy_then_breach_then_sustained_breach_retrains(drift: Simulated) -> None:
    day0, day1, day2, _ = drift.days
    assert day0["decision"] == {"retrain": False, "reasons": ["HEALTHY"]}
    assert not day0["drift"]["detected"]
    # the first drifted day breaches and drifts, but one window is not a sustained breach
    assert day1["decision"]["retrain"] is False
    assert day1["decision"]["reasons"][0] == "PERFORMANCE_BREACH"
    assert "BREACH_NOT_SUSTAINED" in day1["decision"]["reasons"]
    assert day1["drift"]["detected"]
    assert {"f2", "f4"} <= set(day1["drift"]["drifted_features"])
    assert day1["metrics"]["roc_auc"] < 0.8 <= day0["metrics"]["roc_auc"]
    # the second one retrains (consecutiveBreaches: 2)
    # (DATASET_DRIFT joins the reasons only when the champion's own scores moved: retrainPolicy.scoreDriftPsi)
    assert day2["decision"]["retrain"] is True
    assert day2["decision"]["reasons"][0] == "PERFORMANCE_BREACH"
    assert set(day2["decision"]["reasons"]) <= {"PERFORMANCE_BREACH", "DATASET_DRIFT"}
    assert drift.results[2].result["outcome"] == "deployed"
    # the new champion's training data became the baseline: the shifted population is no longer "drift"
    assert drift.results[2].result["baselineRefresh"]["status"] == "REFRESHED"
    assert drift.days[3]["decision"] == {"retrain": False, "reasons": ["HEALTHY"]}
    assert not drift.days[3]["drift"]["detected"]


def test_drift_challenger_scored_on_the_same_rows_wins_and_is_deployed(drift: Simulated) -> None:
    run = drift.results[2].run
    comparison = run["comparison"]
    assert comparison["promote"] is True
    assert comparison["sampleSize"] == ROWS  # the window's rows, scored by both models
    assert comparison["challenger"] > comparison["champion"] + drift.config["promotion"]["minImprovement"]
    assert comparison["pairedTest"]["lower"] > 0
    # one real training job besides the champion's, and the endpoint now serves the challenger
    assert len(drift.training_jobs) == 2
    assert run["training"]["jobName"] in drift.training_jobs
    assert drift.endpoint_config == run["deployment"]["endpointConfigName"]
    assert [d["deployed_version"] for d in drift.days] == [None, None, "v2", None]
    assert [d["model_version"] for d in drift.days] == ["v1", "v1", "v1", "v2"]


def test_drift_metrics_recover_after_the_deployment(drift: Simulated) -> None:
    before, after = drift.days[2], drift.days[3]
    assert after["metrics"]["roc_auc"] > before["metrics"]["roc_auc"] + 0.05
    assert after["metrics"]["roc_auc"] >= 0.8
    assert after["metrics"]["accuracy"] >= 0.72
    assert after["decision"]["retrain"] is False
    assert "PERFORMANCE_BREACH" not in after["decision"]["reasons"]


# ------------------------------------------------------------------------------------------------ stable
def test_stable_never_retrains(stable: Simulated) -> None:
    assert all(d["decision"] == {"retrain": False, "reasons": ["HEALTHY"]} for d in stable.days)
    assert all(not d["drift"]["detected"] for d in stable.days)
    assert all(d["metrics"]["roc_auc"] >= 0.8 and d["metrics"]["accuracy"] >= 0.72 for d in stable.days)
    assert stable.training_jobs == [f"{MODEL_ID}-champion"]
    assert stable.endpoint_config == f"driftline-{MODEL_ID}-v1"


# ------------------------------------------------------------------------------------------------ summary
def test_summary_has_exactly_the_issue_schema(drift: Simulated, stable: Simulated) -> None:
    summary = {"scenarios": {"drift": demo_mod.scenario_summary(drift.days),
                             "stable": demo_mod.scenario_summary(stable.days)}}
    text = json.dumps(summary, allow_nan=False)
    for name, s in json.loads(text)["scenarios"].items():
        assert set(s) == {"days", "retrains", "deployments", "executions"}
        for d in s["days"]:
            assert set(d) == SUMMARY_DAY_KEYS
            assert set(d["drift"]) == {"detected", "drifted_features"}
            assert set(d["decision"]) == {"retrain", "reasons"}
            assert {"accuracy", "precision", "recall", "f1", "roc_auc"} <= set(d["metrics"])
            assert all(isinstance(v, float) for v in d["metrics"].values())
        assert s["executions"] == {"SUCCEEDED": len(s["days"])}, name
    assert (summary["scenarios"]["drift"]["retrains"], summary["scenarios"]["drift"]["deployments"]) == (1, 1)
    assert (summary["scenarios"]["stable"]["retrains"], summary["scenarios"]["stable"]["deployments"]) == (0, 0)
    details = {"drift": drift.details}
    curves = details["drift"]["curves"]
    assert any("challenger" in k for k in curves)
    assert any("champion" in k for k in curves)
    assert set(details["drift"]["feature_drift"]) == {f"f{j}" for j in range(6)}
    page = render_report(summary, details)
    assert page.count("<svg") >= 6


# ------------------------------------------------------------------------------------------------ main
def test_demo_main_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = demo_mod.main(["--days", "2", "--rows", "600", "--scenario", "stable", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [d["day"] for d in summary["scenarios"]["stable"]["days"]] == [0, 1]
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "one pipeline execution" in out


def test_demo_main_fails_with_the_reason_and_still_writes_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def seed_without_baseline(stack: OfflineStack, **kwargs: Any) -> Example:
        ex = seed_example(stack, **kwargs)
        bucket, _, key = ex.config["baselineUri"].removeprefix("s3://").partition("/")
        stack.client("s3").delete_object(Bucket=bucket, Key=key)
        return ex

    monkeypatch.setattr(demo_mod, "seed_example", seed_without_baseline)
    code = demo_mod.main(["--days", "1", "--rows", "600", "--scenario", "stable", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "BaselineNotFound" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["scenarios"]["stable"]["executions"] == {"FAILED": 1}
    assert (tmp_path / "report.html").is_file()


def test_seed_example_on_a_stack_deployed_mid_day() -> None:
    """``make up`` deploys at the wall-clock time: day 0 is then today, and its run comes from a Run Requested event."""
    from datetime import UTC, datetime

    reset_clients()
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"},
                              clock=datetime(2026, 3, 2, 14, 30, tzinfo=UTC)) as stack:
        ex = seed_example(stack, rows_per_day=600)
        assert ex.origin == datetime(2026, 3, 2, tzinfo=UTC)
        got = stack.invoke("ApiFunction", api_event("GET", f"/models/{MODEL_ID}", route="/models/{modelId}",
                                                     path_parameters={"modelId": MODEL_ID}))
        assert got["statusCode"] == 200
        assert json.loads(got["body"])["state"]["champion"]["version"] == 1
        r = ex.run_day(0)
        assert r.status == "SUCCEEDED", r.error
        assert r.run["trigger"]["type"] == "manual"
        assert r.run["window"] == {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}
        assert r.run["sampleSize"] == 600
        with pytest.raises(ValueError, match="past the example's day 0"):
            seed_example(stack, origin=datetime(2026, 3, 1, tzinfo=UTC))
    reset_clients()
