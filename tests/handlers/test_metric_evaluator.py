"""metric_evaluator handler under moto: the events/ files, SageMaker-format data generated here."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.datasets import dataset_csv, read_dataset_text, read_labelled_window
from driftline_common.errors import DataFormatError, InvalidEvent, ModelNotFound
from driftline_common.settings import Settings
from driftline_common.store import ModelStore
from metric_evaluator.handler import lambda_handler
from sklearn import metrics as skm

from tests.conftest import REGION, ROOT, load_event
from tests.unit.test_datasets import capture_line, gt_line

BUCKET = "driftline-test-data"
CAPTURE = "datacapture/driftline-example-classifier/AllTraffic/2025/01/01"
GT = "ground-truth/example-classifier/2025/01/01"
CONFIG = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())


@dataclass
class Context:
    function_name: str = "driftline-test-metric-evaluator"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:driftline-test-metric-evaluator"
    aws_request_id: str = "req-1"


CTX = Context()


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _generate(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 5)) + 0.5 * y[:, None]
    score = 1 / (1 + np.exp(-(x.sum(axis=1) - 1.25 + rng.normal(0, 1.5, n))))
    return {"y": y, "x": x, "cat": rng.choice(["a", "b", "c"], n), "score": score}


def _write_window(data: dict[str, np.ndarray], *, hours: int = 4) -> None:
    n = data["y"].size
    per_hour = -(-n // hours)
    for h in range(hours):
        rows = range(h * per_hour, min(n, (h + 1) * per_hour))
        caps, gts = [], []
        for i in rows:
            row = [*(round(float(v), 6) for v in data["x"][i]), str(data["cat"][i])]
            enc = "JSON" if i % 3 == 0 else "CSV"
            out: Any = {"predictions": [{"score": float(data["score"][i])}]} if enc == "JSON" else repr(
                float(data["score"][i]))
            body: Any = {"instances": [row]} if enc == "JSON" else row
            iid = f"inf-{i}" if i % 2 == 0 else None
            caps.append(capture_line(f"ev-{i}", body, out, iid=iid, encoding=enc,
                                     when=f"2025-01-01T{h:02d}:10:00Z"))
            gts.append(gt_line(iid or f"ev-{i}", int(data["y"][i])))
        _s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/{h:02d}/capture-{h}.jsonl", Body="\n".join(caps).encode())
        _s3().put_object(Bucket=BUCKET, Key=f"{GT}/{h + 2:02d}/labels-{h}.jsonl", Body="\n".join(gts).encode())


@pytest.fixture
def env(stack_env: dict[str, str]) -> dict[str, str]:
    ModelStore(Settings.from_env()).put_config(parse_config(CONFIG))
    return stack_env


def _get_json(uri: str) -> Any:
    bucket, _, key = uri[5:].partition("/")
    return json.loads(_s3().get_object(Bucket=bucket, Key=key)["Body"].read())


def _get_text(uri: str) -> str:
    bucket, _, key = uri[5:].partition("/")
    return _s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_evaluate_event(env: dict[str, str]) -> None:
    data = _generate(600)
    _write_window(data)
    out = lambda_handler(load_event("metric_evaluator_evaluate.json"), CTX)
    assert len(json.dumps(out)) < 8 * 1024
    assert out["status"] == "ok"
    assert out["sampleSize"] == 600
    assert out["badRecords"] == {"capture": 0, "groundTruth": 0, "unmatched": 0}
    y, s = data["y"], data["score"]
    assert out["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert out["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, s > 0.5))
    expected = [b for b in ({"metric": "roc_auc", "value": out["metrics"]["roc_auc"], "min": 0.8},
                            {"metric": "accuracy", "value": out["metrics"]["accuracy"], "min": 0.75})
                if out["intervals"][b["metric"]]["upper"] < b["min"]]  # breached at thresholdConfidence 0.9
    assert [{k: b[k] for k in ("metric", "value", "min")} for b in out["breaches"]] == expected
    assert all(b["interval"] == out["intervals"][b["metric"]] for b in out["breaches"])
    assert out["breached"] is bool(expected)
    run_id = load_event("metric_evaluator_evaluate.json")["run"]["runId"]
    assert out["resultUri"] == f"s3://{BUCKET}/runs/example-classifier/{run_id}/evaluation.json"
    doc = _get_json(out["resultUri"])
    assert doc["details"]["confusionMatrix"]["matrix"] == skm.confusion_matrix(y, (s > 0.5).astype(int)).tolist()
    assert len(doc["details"]["rocCurve"]["fpr"]) <= 200
    # the dataset CSV is not written by the evaluation: its columns are kept, the CSV written when first read
    csv_key = f"runs/example-classifier/{run_id}/dataset.csv"
    assert out["datasetUri"] == f"s3://{BUCKET}/{csv_key}"
    listed = {o["Key"] for o in _s3().list_objects_v2(Bucket=BUCKET, Prefix=csv_key[:-4])["Contents"]}
    assert listed == {csv_key[:-4] + ".npz"}
    text = read_dataset_text(out["datasetUri"])
    lines = text.splitlines()
    assert lines[0].startswith("inference_id,label,score,predicted_label,f0")
    assert len(lines) == 601
    assert _get_text(out["datasetUri"]) == text  # stored for the next reader
    cfg = parse_config(CONFIG)
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    assert text == dataset_csv(cfg, read_labelled_window(cfg, start, end))  # what the evaluation wrote before


def test_corrupt_files_are_counted_and_left_untouched(env: dict[str, str]) -> None:
    data = _generate(300, seed=1)
    _write_window(data, hours=2)
    corrupt = {
        f"{CAPTURE}/05/corrupt.jsonl": b'{"captureData": \n' + capture_line("x", [1, 2, 3], "0.5").encode(),
        f"{CAPTURE}/06/binary.bin": bytes(range(256)) * 4,
        f"{GT}/07/corrupt.jsonl": b"not json\n" + gt_line("ev-1", "maybe").encode(),
    }
    for key, body in corrupt.items():
        _s3().put_object(Bucket=BUCKET, Key=key, Body=body)
    before = {o["Key"]: o["ETag"] for o in _s3().list_objects_v2(Bucket=BUCKET)["Contents"]}
    out = lambda_handler(load_event("metric_evaluator_evaluate.json"), CTX)
    assert out["sampleSize"] == 300
    assert out["badRecords"] == {"capture": 3, "groundTruth": 2, "unmatched": 0}
    doc = _get_json(out["resultUri"])
    assert doc["badRecordReasons"] == {
        "capture": {"unparseable_line": 1, "unreadable_file": 1, "wrong_feature_count": 1},
        "groundTruth": {"unknown_label": 1, "unparseable_line": 1},
    }
    after = {o["Key"]: o["ETag"] for o in _s3().list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {k: after[k] for k in before} == before  # nothing read was modified or removed


def test_empty_window_and_unknown_model(env: dict[str, str]) -> None:
    out = lambda_handler(load_event("metric_evaluator_evaluate.json"), CTX)
    assert out["status"] == "insufficient_data"
    assert out["sampleSize"] == 0
    assert out["breached"] is False
    event = load_event("metric_evaluator_evaluate.json")
    event["run"]["modelId"] = "nobody"
    with pytest.raises(ModelNotFound, match="nobody"):
        lambda_handler(event, CTX)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda e: e.pop("run"), "'run' must be an object"),
        (lambda e: e.update(action="explode"), "unknown action"),
        (lambda e: e.pop("action"), "unknown action"),
        (lambda e: e["run"].pop("runId"), "run.runId"),
        (lambda e: e["run"]["window"].update(start="yesterday"), "ISO.8601"),
        (lambda e: e["run"]["window"].update(start="2025-01-03T00:00:00Z"), "empty"),
    ],
)
def test_malformed_events(mutate: Any, match: str) -> None:
    """Rejected before any AWS call (no stack needed)."""
    event = load_event("metric_evaluator_evaluate.json")
    mutate(event)
    with pytest.raises(InvalidEvent, match=match):
        lambda_handler(event, CTX)


def _put_challenger(job: str, ids: list[str], scores: np.ndarray) -> None:
    body = "inference_id,score\n" + "".join(f"{i},{s!r}\n" for i, s in zip(ids, scores.tolist(), strict=True))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("evaluation_predictions.csv")
        info.size = len(body.encode())
        tar.addfile(info, io.BytesIO(body.encode()))
    _s3().put_object(Bucket=BUCKET, Key=f"models/example-classifier/{job}/output/output.tar.gz", Body=buf.getvalue())


def test_compare_event_promotes_a_clear_winner(env: dict[str, str]) -> None:
    data = _generate(600, seed=2)
    _write_window(data)
    evaluation = lambda_handler(load_event("metric_evaluator_evaluate.json"), CTX)
    event = load_event("metric_evaluator_compare.json")
    event["evaluation"] = evaluation
    job = event["training"]["jobName"]
    rows = [line.split(",") for line in read_dataset_text(evaluation["datasetUri"]).splitlines()[1:]]
    ids = [r[0] for r in rows]
    y = np.asarray([int(r[1]) for r in rows])
    rng = np.random.default_rng(3)
    strong = 1 / (1 + np.exp(-(3.0 * (2 * y - 1) + rng.normal(size=y.size))))
    _put_challenger(job, ids, strong)
    out = lambda_handler(event, CTX)
    champion = np.asarray([float(r[2]) for r in rows])
    assert out["promote"] is True
    assert out["reasons"][-1] == "CHALLENGER_BETTER"
    assert "IMPROVED:roc_auc" in out["reasons"]
    assert out["requireApproval"] is False
    assert out["sampleSize"] == 600
    assert out["champion"] == pytest.approx(skm.roc_auc_score(y, champion))
    assert out["challenger"] == pytest.approx(skm.roc_auc_score(y, strong))
    assert _get_json(out["resultUri"])["alignment"]["aligned"] == 600

    # the champion against itself (same scores): never promoted
    _put_challenger(job, ids, champion)
    same = lambda_handler(event, CTX)
    assert same["promote"] is False
    assert same["delta"] == 0.0
    assert "BELOW_MARGIN:roc_auc" in same["reasons"]


def test_compare_missing_training_output(env: dict[str, str]) -> None:
    _write_window(_generate(50, seed=4), hours=1)
    evaluation = lambda_handler(load_event("metric_evaluator_evaluate.json"), CTX)
    event = copy.deepcopy(load_event("metric_evaluator_compare.json"))
    event["evaluation"] = evaluation
    with pytest.raises(DataFormatError, match=r"output\.tar\.gz"):
        lambda_handler(event, CTX)
    del event["training"]["jobName"]
    with pytest.raises(InvalidEvent, match=r"training\.jobName"):
        lambda_handler(event, CTX)
