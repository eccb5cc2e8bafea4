"""Data quality per feature and per shard, through the drift checker's ``monitor`` and ``check_shard`` actions.

A row with one missing value counts as missing for that feature only (Model Monitor's completeness); a sharded run's
statistics come from the summaries the shards wrote, and equal the one-shot window's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from drift_checker.handler import lambda_handler

from tests.conftest import load_event
from tests.handlers import test_drift_checker as dc
from tests.handlers.test_monitor import CONFIG, CTX, _get_json, _setup
from tests.handlers.test_sharded_actions import _batches


def _with_gaps(rows: list[list[Any]]) -> list[list[Any]]:
    for i in range(100):
        rows[i][0] = ""  # f0 missing in 100 rows
    for i in range(100, 150):
        rows[i][5] = ""  # f5 (categorical) missing in 50 rows
    for i in range(150, 160):
        rows[i][2] = "abc"  # f2 present but not a number in 10 rows
    return rows


def _features(stats: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f for f in stats["features"]}


def test_completeness_is_per_feature(stack_env: dict[str, str]) -> None:
    rows = _with_gaps(dc._rows(1000, np.random.default_rng(2)))
    _setup(CONFIG, rows)
    out = lambda_handler(load_event("drift_checker_monitor.json"), CTX)
    part = out["dataQuality"]
    assert part["itemCount"] == 1000  # no row dropped whole
    stats = _features(_get_json(part["statisticsUri"]))
    assert stats["f0"]["numerical_statistics"]["common"] == {"num_present": 900, "num_missing": 100}
    assert stats["f1"]["numerical_statistics"]["common"] == {"num_present": 1000, "num_missing": 0}
    assert stats["f5"]["string_statistics"]["common"] == {"num_present": 950, "num_missing": 50}
    # "abc" is present (not missing) in f2; its numeric statistics cover the 990 numbers
    assert stats["f2"]["numerical_statistics"]["common"] == {"num_present": 1000, "num_missing": 0}
    f1_values = np.array([r[1] for r in rows], dtype=float)
    assert stats["f1"]["numerical_statistics"]["sum"] == pytest.approx(float(f1_values.sum()))
    violations = _get_json(part["violationsUri"])["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {
        ("f0", "completeness_check"), ("f5", "completeness_check")}


def test_sharded_statistics_equal_the_one_shot_window(stack_env: dict[str, str]) -> None:
    _setup(CONFIG, [])
    rows = _with_gaps(dc._rows(1200, np.random.default_rng(3), shift=0.5))
    dc._write_capture(rows, hours=6)
    event = load_event("drift_checker_monitor.json")
    one = lambda_handler(event, CTX)["dataQuality"]
    assert one["source"] == "window"
    stats_one = _get_json(one["statisticsUri"])
    violations_one = _get_json(one["violationsUri"])
    results = [lambda_handler({"action": "check_shard", "run": event["run"], "items": b}, CTX)
               for b in _batches(dc.CAPTURE, 2)]
    assert len(results) == 3
    sharded = lambda_handler(event, CTX)["dataQuality"]
    assert sharded["source"] == "shards"
    stats = _get_json(sharded["statisticsUri"])
    assert stats["dataset"] == stats_one["dataset"] == {"item_count": 1200}
    for name, f in _features(stats).items():
        f1 = _features(stats_one)[name]
        if "string_statistics" in f:
            assert f["string_statistics"] == f1["string_statistics"]
            continue
        a, b = f1["numerical_statistics"], f["numerical_statistics"]
        assert b["common"] == a["common"]
        for key in ("sum", "mean", "std_dev", "min", "max"):
            assert b[key] == pytest.approx(a[key], rel=1e-9), (name, key)
        # fewer values per shard than the shard sketch keeps: the merged buckets are the exact ones
        assert b["distribution"]["kll"]["buckets"] == a["distribution"]["kll"]["buckets"]
    assert _get_json(sharded["violationsUri"]) == violations_one
    assert {v["constraint_check_type"] for v in violations_one["violations"]} >= {"completeness_check",
                                                                                  "baseline_drift_check"}


def test_a_shard_document_without_summaries_fails_the_data_quality_part_only(stack_env: dict[str, str]) -> None:
    _setup(CONFIG, dc._rows(300, np.random.default_rng(4)))
    event = load_event("drift_checker_monitor.json")
    run = event["run"]
    dc._s3().put_object(Bucket=dc.BUCKET, Key=f"runs/{run['modelId']}/{run['runId']}/shards/drift/old.json",
                        Body=b'{"schema": "driftline.drift-shard/v1", "features": {}}')
    out = lambda_handler(event, CTX)
    assert out["dataQuality"]["status"] == "failed"
    assert out["dataQuality"]["error"]["error"] == "DataFormatError"
    assert "holds no data-quality summaries" in out["dataQuality"]["error"]["message"]
    assert out["operational"]["status"] == "not_configured"  # the other parts went on
