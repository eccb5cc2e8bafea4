"""Sharded actions under moto: ``evaluate_shard`` / ``check_shard`` on batches of capture files, then ``reduce``.

The same window is evaluated (checked) once by the one-shot action and once split into several shards; the
merged results must equal the one-shot ones (counts-based metrics exactly, ROC AUC / average precision within
the error bound the reduce reports, drift decisions and effect sizes).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from drift_checker.handler import lambda_handler as drift_handler
from driftline_common.config import parse_config
from driftline_common.errors import InvalidEvent
from driftline_common.settings import Settings
from driftline_common.store import ModelStore
from metric_evaluator.handler import lambda_handler as evaluator_handler
from sklearn import metrics as skm

from tests.conftest import load_event
from tests.handlers import test_drift_checker as dc
from tests.handlers import test_metric_evaluator as me

EXACT = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc")


def _batches(prefix: str, per: int, extra: list[str] = ()) -> list[list[dict[str, Any]]]:
    listing = me._s3().list_objects_v2(Bucket=me.BUCKET, Prefix=prefix)["Contents"]
    items = [{"Key": o["Key"], "Size": o["Size"]} for o in listing] + [{"Key": k, "Size": 1} for k in extra]
    return [items[i:i + per] for i in range(0, len(items), per)]


@pytest.fixture
def env(stack_env: dict[str, str]) -> dict[str, str]:
    ModelStore(Settings.from_env()).put_config(parse_config(me.CONFIG))
    return stack_env


def test_evaluate_shards_then_reduce_equals_the_one_shot_evaluation(env: dict[str, str]) -> None:
    data = me._generate(900, seed=3)
    me._write_window(data, hours=7)
    # a corrupt line in one capture file, labels without a prediction, an object outside the window
    me._s3().put_object(Bucket=me.BUCKET, Key=f"{me.CAPTURE}/03/corrupt.jsonl", Body=b'{"captureData": \n')
    me._s3().put_object(Bucket=me.BUCKET, Key=f"{me.GT}/09/extra.jsonl",
                        Body="\n".join(me.gt_line(f"orphan-{i}", 1) for i in range(4)).encode())
    outside = "datacapture/driftline-example-classifier/AllTraffic/2025/01/02/05/late.jsonl"
    me._s3().put_object(Bucket=me.BUCKET, Key=outside, Body=me._s3().get_object(
        Bucket=me.BUCKET, Key=f"{me.CAPTURE}/00/capture-0.jsonl")["Body"].read())

    event = load_event("metric_evaluator_evaluate.json")
    one = evaluator_handler(event, me.CTX)
    batches = _batches(me.CAPTURE, 3, extra=[outside])
    assert len(batches) == 3
    results = [evaluator_handler({"action": "evaluate_shard", "run": event["run"], "items": b}, me.CTX)
               for b in batches]
    assert sum(r["files"] for r in results) == 8  # 7 hours + the corrupt file; the late object skipped
    assert len({r["shardId"] for r in results}) == 3
    merged = evaluator_handler({"action": "reduce", "run": event["run"], "shards": results}, me.CTX)

    assert one["sampleSize"] == merged["sampleSize"] == 900
    assert merged["badRecords"] == one["badRecords"] == {"capture": 1, "groundTruth": 0, "unmatched": 4}
    for key in ("status", "unlabelled", "thresholds", "breached"):
        assert merged[key] == one[key], key
    # the same breaches; a breach carries the metric's value (ROC AUC: within the bound below)
    # (and an interval: the same Wilson bound for accuracy, Hanley-McNeil instead of DeLong for ROC AUC)
    assert [{k: v for k, v in b.items() if k not in ("value", "interval")} for b in merged["breaches"]] == [
        {k: v for k, v in b.items() if k not in ("value", "interval")} for b in one["breaches"]]
    assert merged["intervals"]["accuracy"] == pytest.approx(one["intervals"]["accuracy"])
    assert merged["intervals"]["roc_auc"]["method"] == "hanley_mcneil"
    assert merged["intervals"]["roc_auc"]["upper"] == pytest.approx(one["intervals"]["roc_auc"]["upper"], abs=0.01)
    assert [b["metric"] for b in one["breaches"]] == ["roc_auc", "accuracy"]
    for name in EXACT:
        assert merged["metrics"][name] == pytest.approx(one["metrics"][name], rel=1e-12, abs=1e-15), name
    for name in ("log_loss", "brier"):
        assert merged["metrics"][name] == pytest.approx(one["metrics"][name], rel=1e-10), name
    sharding = merged["sharding"]
    assert sharding["shards"] == 3
    assert 0 < sharding["rocAucErrorBound"] < 1e-3
    assert abs(merged["metrics"]["roc_auc"] - one["metrics"]["roc_auc"]) <= sharding["rocAucErrorBound"]
    assert abs(merged["metrics"]["average_precision"] - one["metrics"]["average_precision"]) <= (
        sharding["averagePrecisionErrorBound"])
    y, s = data["y"], data["score"]
    assert one["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert merged["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, s > 0.5))
    assert merged["metrics"]["mcc"] == pytest.approx(skm.matthews_corrcoef(y, s > 0.5))

    # the same evaluation document details and labelled rows
    doc, doc1 = me._get_json(merged["resultUri"]), me._get_json(one["resultUri"])
    assert doc["details"]["confusionMatrix"] == doc1["details"]["confusionMatrix"]
    assert doc["details"]["classCounts"] == doc1["details"]["classCounts"]
    assert doc["badRecordReasons"] == doc1["badRecordReasons"]
    a, b = me.read_dataset_text(one["datasetUri"]).splitlines(), me._get_text(merged["datasetUri"]).splitlines()
    assert a[0] == b[0]
    assert sorted(a[1:]) == sorted(b[1:])


def test_reduce_rejects_bad_shard_lists(env: dict[str, str]) -> None:
    run = load_event("metric_evaluator_evaluate.json")["run"]
    with pytest.raises(InvalidEvent, match="shards"):
        evaluator_handler({"action": "reduce", "run": run, "shards": [{"uri": "x"}]}, me.CTX)
    with pytest.raises(InvalidEvent, match="items"):
        evaluator_handler({"action": "evaluate_shard", "run": run, "items": ["key"]}, me.CTX)


@pytest.fixture
def drift_env(stack_env: dict[str, str]) -> dict[str, str]:
    ModelStore(Settings.from_env()).put_config(parse_config(dc.CONFIG))
    rng = np.random.default_rng(0)
    train = "\n".join(",".join(["1", *map(str, r)]) for r in dc._rows(5000, rng))
    dc._s3().put_object(Bucket=dc.BUCKET, Key="training-data/example-classifier/train.csv", Body=train.encode())
    drift_handler(load_event("drift_checker_build_baseline.json"), dc.CTX)
    return stack_env


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_check_shards_then_reduce_matches_the_one_shot_check(drift_env: dict[str, str], shift: float) -> None:
    rng = np.random.default_rng(5)
    dc._write_capture(dc._rows(3000, rng, shift=shift, cat_p=(0.1, 0.3, 0.6) if shift else (0.5, 0.3, 0.2)),
                      hours=6)
    event = load_event("drift_checker_check.json")
    one = drift_handler(event, dc.CTX)
    results = [drift_handler({"action": "check_shard", "run": event["run"], "items": b}, dc.CTX)
               for b in _batches(dc.CAPTURE, 2)]
    assert len(results) == 3
    merged = drift_handler({"action": "reduce", "run": event["run"], "shards": results}, dc.CTX)
    for key in ("status", "detected", "driftedFeatures", "share", "testedFeatures", "sampleSize", "badRecords"):
        assert merged[key] == one[key], key
    assert merged["detected"] is bool(shift)
    assert "binned" in merged["sharding"]["method"]
    doc, doc1 = dc._get_json(merged["resultUri"]), dc._get_json(one["resultUri"])
    assert doc["method"] == "binned"
    for name in [f"f{i}" for i in range(5)]:
        f, f1 = doc["features"][name], doc1["features"][name]
        assert f["test"] == "chi2_binned"
        assert f["effectSize"] == pytest.approx(f1["effectSize"], abs=1e-12)  # PSI on the same bins
        assert f["current"]["counts"] == f1["current"]["counts"]
        assert 0 <= f["ksBinned"] <= f1["statistic"] + 1e-12  # a KS statistic at the bin edges only
        assert 0 <= f["jensenShannon"] <= 1
        assert math.isfinite(f["pvalue"])
    cat, cat1 = doc["features"]["f5"], doc1["features"]["f5"]
    for key in ("test", "statistic", "pvalue", "dof", "effectSize", "current"):
        assert cat[key] == pytest.approx(cat1[key]) if isinstance(cat[key], float) else cat[key] == cat1[key], key


def test_shard_ids_are_stable_and_order_free() -> None:
    from driftline_common.shards import shard_id

    assert shard_id(["a", "b"]) == shard_id(["b", "a"])
    assert shard_id(["a", "b"]) != shard_id(["a", "c"])
    assert json.dumps(shard_id(["x"]))


# ------------------------------------------------------------------------------------------------ start_run
@pytest.mark.parametrize(("sharding", "expected"), [
    (None, None),  # no sharding config: the run is exactly as before (no 'sharded' key)
    ({"thresholdBytes": 10**9}, False),
    ({"thresholdBytes": 100, "filesPerShard": 2}, True),
])
def test_start_run_shards_a_window_whose_capture_exceeds_the_threshold(
        stack_env: dict[str, str], sharding: dict[str, Any] | None, expected: bool | None) -> None:
    from retrain_launcher.handler import lambda_handler as launcher

    cfg = dict(me.CONFIG)
    if sharding is not None:
        cfg["sharding"] = sharding
    ModelStore(Settings.from_env()).put_config(parse_config(cfg))
    base = "datacapture/driftline-example-classifier/AllTraffic"
    sizes = {f"{base}/2024/05/01/{h:02d}/c.jsonl": 40 + h for h in (0, 7, 23)}
    sizes[f"{base}/2024/04/30/23/before.jsonl"] = 1000  # outside the window: not counted
    sizes[f"{base}/2024/05/02/00/after.jsonl"] = 1000
    for key, size in sizes.items():
        me._s3().put_object(Bucket=me.BUCKET, Key=key, Body=b"x" * size)
    run = launcher(load_event("retrain_launcher_start_run.json"), me.CTX)
    if expected is None:
        # no sharding configured: never sharded, nothing listed
        assert run["sharded"] is False
        assert "shards" not in run
        return
    assert run["sharded"] is expected
    if expected:
        assert run["shards"] == {"bucket": me.BUCKET, "prefix": f"{base}/2024/05/01/", "objects": 3,
                                 "bytes": 40 * 3 + 30, "filesPerShard": 2}
    else:
        assert "shards" not in run
