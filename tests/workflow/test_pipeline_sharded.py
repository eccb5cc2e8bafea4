"""The sharded path of the real ASL: a Distributed Map over the window's capture objects, then a reduce.

The same window is run twice in one deployed stack: once with the stored config (one Lambda per task, as
before sharding existed) and once with ``sharding.thresholdBytes = 1`` (every window is sharded,
``filesPerShard`` capture objects per child workflow). Both summaries must agree: counts-based metrics
exactly, ROC AUC / average precision within the bound the reduce returns; drift decisions and PSI effect sizes
equal (the sharded p-values come from a binned chi-square test instead of KS and are not compared).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from driftline_common.datasets import read_dataset_text
from sklearn.metrics import accuracy_score, roc_auc_score

from .conftest import MODEL_ID, Workflow, day_files, model_config

FILES_PER_SHARD = 5
EXACT = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc")


def output(execution: dict[str, Any]) -> dict[str, Any]:
    return json.loads(execution.get("output") or "null")


def s3_json(wf: Workflow, uri: str) -> Any:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return json.loads(wf.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def assessment(wf: Workflow, arn: str) -> dict[str, Any]:
    """``$.assessment`` as Decide received it (from the execution history)."""
    for event in wf.stack.history(arn):
        details = event.get("stateEnteredEventDetails") or {}
        if details.get("name") == "Decide":
            return json.loads(details["input"])["assessment"]
    raise AssertionError("Decide was not entered")


def test_sharded_run_uses_a_distributed_map_and_matches_the_one_shot_run(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("stable", 3)
    capture_keys = wf.keys("datacapture/")
    assert len(capture_keys) > 2 * FILES_PER_SHARD  # several shards

    one_shot = wf.run_window(3, name="day03-one-shot")
    assert one_shot["status"] == "SUCCEEDED", one_shot
    plain = assessment(wf, one_shot["executionArn"])
    assert "sharding" not in plain["evaluation"]
    assert "EvaluateShards" not in wf.states(one_shot["executionArn"])

    wf.register(model_config(wf.bucket, sharding={"thresholdBytes": 1, "filesPerShard": FILES_PER_SHARD}))
    sharded = wf.run_window(3, name="day03-sharded")
    assert sharded["status"] == "SUCCEEDED", sharded
    arn = sharded["executionArn"]
    states = wf.states(arn)
    assert {"EvaluateSharded", "EvaluateShards", "ReduceEvaluation", "CheckDriftSharded", "CheckDriftShards",
            "ReduceDrift"} <= set(states)
    assert "Evaluate" not in states
    assert "CheckDrift" not in states
    types = [e["type"] for e in wf.stack.history(arn)]
    assert types.count("MapRunStarted") == 2
    assert types.count("MapRunSucceeded") == 2
    assert "MapRunFailed" not in types

    got = assessment(wf, arn)
    ev, ev0 = got["evaluation"], plain["evaluation"]
    n_files = len(capture_keys)
    assert ev["sharding"]["shards"] == math.ceil(n_files / FILES_PER_SHARD)
    assert ev["sharding"]["files"] == n_files
    assert len(wf.keys(f"runs/{MODEL_ID}/day03-sharded/shards/evaluate/")) == 2 * ev["sharding"]["shards"]
    for key in ("status", "sampleSize", "badRecords", "unlabelled", "breaches", "breached", "thresholds"):
        assert ev[key] == ev0[key], key
    for name in EXACT:
        assert ev["metrics"][name] == pytest.approx(ev0["metrics"][name], rel=1e-12, abs=1e-12), name
    for name in ("log_loss", "brier"):
        assert ev["metrics"][name] == pytest.approx(ev0["metrics"][name], rel=1e-9), name
    bound = ev["sharding"]["rocAucErrorBound"]
    assert 0 <= bound < 1e-2
    assert abs(ev["metrics"]["roc_auc"] - ev0["metrics"]["roc_auc"]) <= bound
    assert abs(ev["metrics"]["average_precision"] - ev0["metrics"]["average_precision"]) <= (
        ev["sharding"]["averagePrecisionErrorBound"])
    # and against scikit-learn on the day's rows
    _, _, y, scores = day_files("stable", 3)
    assert ev["metrics"]["accuracy"] == pytest.approx(accuracy_score(y, scores > 0.5), abs=1e-12)
    assert abs(ev["metrics"]["roc_auc"] - roc_auc_score(y, scores)) <= bound

    # the reduce wrote the same labelled dataset (the paired comparison and retraining read it)
    def rows(uri: str) -> list[str]:
        def get(u: str) -> bytes:
            bucket, _, key = u[len("s3://"):].partition("/")
            return bytes(wf.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

        return read_dataset_text(uri, get).splitlines()  # the unsharded run keeps the columns, not the CSV

    a, b = rows(ev0["datasetUri"]), rows(ev["datasetUri"])
    assert a[0] == b[0]
    assert sorted(a[1:]) == sorted(b[1:])

    dr, dr0 = got["drift"], plain["drift"]
    for key in ("status", "detected", "driftedFeatures", "testedFeatures", "sampleSize", "badRecords"):
        assert dr[key] == dr0[key], key
    assert "binned" in dr["sharding"]["method"]
    doc, doc0 = s3_json(wf, dr["resultUri"]), s3_json(wf, dr0["resultUri"])
    assert doc["method"] == "binned"
    for name, feat in doc["features"].items():
        ref = doc0["features"][name]
        assert feat["status"] == ref["status"], name
        if feat["type"] == "numeric":
            assert feat["test"] == "chi2_binned"
            assert feat["effectSize"] == pytest.approx(ref["effectSize"], abs=1e-12), name  # same PSI, same bins
            assert feat["current"]["counts"] == ref["current"]["counts"], name
        else:
            for key in ("statistic", "pvalue", "effectSize"):
                assert feat[key] == pytest.approx(ref[key], abs=1e-12), (name, key)

    # Decide got the same contract: the run completed the same way
    assert output(sharded)["outcome"] == output(one_shot)["outcome"]
    assert output(sharded)["decision"]["reasons"] == output(one_shot)["decision"]["reasons"]

    # the sharded run's report has its charts, merged from the shards' pieces (reliability bins exact)
    rep, rep0 = (s3_json(wf, e["resultUri"].replace("evaluation.json", "report.json")) for e in (ev, ev0))
    c, c0 = rep["classification"], rep0["classification"]
    assert {"confusionMatrix", "roc", "pr", "calibration", "operatingPoint"} <= set(c)
    assert c["calibration"]["count"] == c0["calibration"]["count"]
    assert c["calibration"]["fractionPositive"] == pytest.approx(c0["calibration"]["fractionPositive"], rel=1e-12)
    assert not any("calibration" in m or "no scores" in m for m in rep["missing"])


def test_a_failing_shard_fails_the_map_and_the_run_is_recorded_failed(workflow: Workflow) -> None:
    wf = workflow
    wf.write_day("stable", 4)
    wf.register(model_config(wf.bucket, sharding={"thresholdBytes": 1, "filesPerShard": FILES_PER_SHARD}))
    baseline = wf.config["baselineUri"][len(f"s3://{wf.bucket}/"):]
    wf.client("s3").delete_object(Bucket=wf.bucket, Key=baseline)  # every check_shard raises BaselineNotFound

    execution = wf.run_window(4, name="day04-sharded-fails")
    assert execution["status"] == "FAILED", execution
    arn = execution["executionArn"]
    states = wf.states(arn)
    assert "CheckDriftShards" in states
    assert "ReduceDrift" not in states
    assert states[states.index("RecordFailure"):] == [
        "RecordFailure", "NotifyFailure", "PublishRunFailed", "ReportFailure", "FailureRecorded", "RunFailed"]
    assert "MapRunFailed" in [e["type"] for e in wf.stack.history(arn)]
    run = wf.runs()["day04-sharded-fails"]
    assert run["status"] == "FAILED"
    # Step Functions' reserved error of the Map, mapped to the pipeline's RunFailed by the fail action
    assert execution["error"] == "RunFailed"
    assert run["reason"].startswith("States.ExceedToleratedFailureThreshold")
