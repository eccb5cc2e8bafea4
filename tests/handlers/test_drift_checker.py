"""drift_checker handler under moto: build_baseline and check from the events/ files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import numpy as np
import pytest
from drift_checker.baseline import main as baseline_cli
from drift_checker.handler import lambda_handler
from driftline_common.config import parse_config
from driftline_common.errors import BaselineNotFound, InvalidEvent, ModelNotFound
from driftline_common.settings import Settings
from driftline_common.store import ModelStore

from tests.conftest import REGION, ROOT, load_event
from tests.unit.test_datasets import capture_line

BUCKET = "driftline-test-data"
CAPTURE = "datacapture/driftline-example-classifier/AllTraffic/2025/01/01"
CONFIG = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
CATS = np.array(["a", "b", "c"])


@dataclass
class Context:
    function_name: str = "driftline-test-drift-checker"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:driftline-test-drift-checker"
    aws_request_id: str = "req-1"


CTX = Context()


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _rows(n: int, rng: np.random.Generator, shift: float = 0.0, cat_p: Any = (0.5, 0.3, 0.2)) -> list[list[Any]]:
    x = rng.normal(size=(n, 5))
    x[:, :2] += shift
    cats = rng.choice(CATS, n, p=list(cat_p))
    return [[*(round(float(v), 6) for v in x[i]), str(cats[i])] for i in range(n)]


@pytest.fixture
def env(stack_env: dict[str, str]) -> dict[str, str]:
    ModelStore(Settings.from_env()).put_config(parse_config(CONFIG))
    rng = np.random.default_rng(0)
    train = "\n".join(",".join(["1", *map(str, r)]) for r in _rows(5000, rng))  # label first, no header
    _s3().put_object(Bucket=BUCKET, Key="training-data/example-classifier/train.csv", Body=train.encode())
    return stack_env


def _write_capture(rows: list[list[Any]], hours: int = 3) -> None:
    per = -(-len(rows) // hours)
    for h in range(hours):
        lines = [capture_line(f"ev-{h}-{i}", r, "0.5", encoding="CSV")
                 for i, r in enumerate(rows[h * per:(h + 1) * per])]
        _s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/{h:02d}/c.jsonl", Body="\n".join(lines).encode())


def _get_json(uri: str) -> Any:
    bucket, _, key = uri[5:].partition("/")
    return json.loads(_s3().get_object(Bucket=bucket, Key=key)["Body"].read())


def test_build_baseline_then_check(env: dict[str, str]) -> None:
    out = lambda_handler(load_event("drift_checker_build_baseline.json"), CTX)
    assert out["baselineUri"] == CONFIG["baselineUri"]
    assert out["sampleSize"] == 5000
    assert out["layout"] == "label_first"
    baseline = _get_json(CONFIG["baselineUri"])
    assert sorted(baseline["features"]) == [f"f{i}" for i in range(6)]

    rng = np.random.default_rng(1)
    _write_capture(_rows(3000, rng))
    same = lambda_handler(load_event("drift_checker_check.json"), CTX)
    assert same["detected"] is False
    assert same["driftedFeatures"] == []
    assert same["sampleSize"] == 3000
    assert same["correction"] == "benjamini-hochberg"

    _write_capture(_rows(3000, rng, shift=1.0, cat_p=(0.1, 0.3, 0.6)))
    shifted = lambda_handler(load_event("drift_checker_check.json"), CTX)
    assert shifted["detected"] is True
    assert shifted["driftedFeatures"] == ["f0", "f1", "f5"]
    assert shifted["share"] == pytest.approx(0.5)
    assert len(json.dumps(shifted)) < 8 * 1024
    doc = _get_json(shifted["resultUri"])
    assert doc["features"]["f0"]["test"] == "ks_2samp"
    assert doc["features"]["f5"]["test"] == "chi2_contingency"
    assert doc["features"]["f2"]["drifted"] is False


def test_corrupt_capture_is_counted(env: dict[str, str]) -> None:
    lambda_handler(load_event("drift_checker_build_baseline.json"), CTX)
    _write_capture(_rows(100, np.random.default_rng(2)), hours=1)
    _s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/05/bad.jsonl", Body=b"{oops\n" + bytes([0xFF, 0xFE]) * 3)
    _s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/06/bin.gz", Body=b"\x1f\x8bnot gzip")
    out = lambda_handler(load_event("drift_checker_check.json"), CTX)
    assert out["sampleSize"] == 100
    assert out["badRecords"] == 2
    assert _get_json(out["resultUri"])["badRecordReasons"] == {"unreadable_file": 2}


def test_bad_input_and_missing_baseline(env: dict[str, str]) -> None:
    with pytest.raises(BaselineNotFound, match="baseline"):
        lambda_handler(load_event("drift_checker_check.json"), CTX)
    event = load_event("drift_checker_check.json")
    event["run"]["modelId"] = "nobody"
    with pytest.raises(ModelNotFound):
        lambda_handler(event, CTX)
    with pytest.raises(InvalidEvent, match="dataUri"):
        lambda_handler({"action": "build_baseline", "modelId": "example-classifier", "dataUri": "/tmp/x"}, CTX)
    with pytest.raises(InvalidEvent, match="unknown action"):
        lambda_handler({"action": "drift"}, CTX)
    with pytest.raises(InvalidEvent, match="run"):
        lambda_handler({"action": "check"}, CTX)


def test_baseline_cli(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    header = ",".join(["label", *(f"f{i}" for i in range(6))])
    (tmp_path / "train.csv").write_text(header + "\n" + "\n".join(",".join(["0", *map(str, r)])
                                                                  for r in _rows(200, rng)))
    (tmp_path / "model.json").write_text(json.dumps(CONFIG))
    out = tmp_path / "baseline.json"
    assert baseline_cli(["--config", str(tmp_path / "model.json"), "--data", str(tmp_path / "train.csv"),
                         "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["sampleSize"] == 200
    doc = json.loads(out.read_text())
    assert doc["layout"] == "header"
    assert doc["features"]["f5"]["counts"].keys() <= {"a", "b", "c"}
