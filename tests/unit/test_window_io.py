"""Reading a window from S3: read-once artifacts, non-finite scores (issue 8.2), the decompression cap (8.7)."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from driftline_common import capture
from driftline_common import columnar as col
from driftline_common import datasets as ds
from driftline_common.aws import reset_clients
from driftline_common.config import parse_config
from driftline_common.errors import ConfigurationError
from driftline_common.s3io import S3Uri
from metric_evaluator.evaluate import evaluate_window
from moto import mock_aws

from tests.conftest import ROOT
from tests.unit.test_datasets import CAPTURE, GT, ROW, capture_line, gt_line

BUCKET = "driftline-test-data"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 2, tzinfo=UTC)
CACHE = S3Uri(BUCKET, "runs/example-classifier/run-1/window")


def _cfg(**over: Any) -> Any:
    data = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    data.update(over)
    return parse_config(data)


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def put(key: str, body: str | bytes) -> None:
    _s3().put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)


@pytest.fixture
def s3() -> Iterator[None]:
    reset_clients()
    with mock_aws():
        _s3().create_bucket(Bucket=BUCKET)
        yield
    reset_clients()


def _window(n: int, seed: int = 0, *, hour: int = 3) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, n), 0.001, 0.999)
    caps = [capture_line(f"e{seed}-{i}", [*rng.normal(size=5).round(4).tolist(), "ab"[i % 2]], f"{score[i]:.6f}",
                         iid=f"i{seed}-{i}") for i in range(n)]
    gts = [gt_line(f"i{seed}-{i}", int(y[i])) for i in range(n)]
    return caps, gts


# ---------------------------------------------------------------------------------------------------- issue 8.2
@pytest.mark.parametrize("encoding", ["CSV", "JSON"])
def test_non_finite_scores_are_bad_records_and_never_switch_scoring(s3: None, encoding: str) -> None:
    caps, gts = _window(2001)
    put(f"{GT}/2025/01/01/05/gt.jsonl", "\n".join(gts))
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/clean.jsonl", "\n".join(caps))
    cfg = _cfg()
    clean = evaluate_window(cfg, ds.read_labelled_window(cfg, START, END))
    assert "roc_auc" in clean["metrics"]
    bad = ["nan", "inf", "-inf", "1e309", "NaN"]
    if encoding == "CSV":
        lines = [capture_line(f"bad-{i}", ROW, v, iid=f"i0-{i}") for i, v in enumerate(bad)]
    else:  # a JSON response: a bare NaN/Infinity literal, a huge number, or the score as a string
        outs: list[Any] = ["NaN", "Infinity", "-Infinity", "1e309", {"predictions": [{"score": "nan"}]}]
        lines = [capture_line(f"bad-{i}", ROW, o if isinstance(o, dict) else 0.5, iid=f"i0-{i}", encoding="JSON")
                 for i, o in enumerate(outs)]
        lines = [ln.replace('"data": "0.5"', f'"data": "{o}"') if isinstance(o, str) else ln
                 for ln, o in zip(lines, outs, strict=True)]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/04/bad.jsonl", "\n".join(lines))
    window = ds.read_labelled_window(cfg, START, END)
    assert window.bad_reasons()["capture"] == {"non_numeric": 5}
    assert window.size + 5 == 2006
    doc = evaluate_window(cfg, window)
    assert np.isfinite(doc["metrics"]["roc_auc"])
    assert doc["metrics"]["roc_auc"] == clean["metrics"]["roc_auc"]
    assert doc["metrics"]["accuracy"] == clean["metrics"]["accuracy"]
    assert "scores" not in doc["undefined"]


# ---------------------------------------------------------------------------------------------------- issue 8.7
def test_gzip_bomb_is_counted_and_never_inflated_past_the_cap(s3: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cap = 1 << 20
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(cap))
    bomb = gzip.compress(b" " * (64 << 20), compresslevel=9)  # 64 MiB of blanks in ~64 KiB
    assert len(bomb) < cap
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/bomb.jsonl.gz", bomb)
    put(f"{CAPTURE}/AllTraffic/2025/01/01/04/big.jsonl", b"x" * (cap + 1))  # too large as stored: never read
    put(f"{CAPTURE}/AllTraffic/2025/01/01/05/ok.jsonl.gz", gzip.compress(capture_line("g", ROW, "0.2").encode()))
    tracemalloc.start()
    try:
        cap_read = ds.read_capture(_cfg(), START, END)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert dict(cap_read.bad) == {"object_too_large": 2}
    assert [v.decode() for v in cap_read.ids.tolist()] == ["g"]
    assert peak < 32 << 20  # far below the 64 MiB the bomb expands to (moto and boto3 included)
    tracemalloc.start()
    try:
        with pytest.raises(col.ObjectTooLarge):
            col.inflate(bomb, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * cap  # the decompressor itself holds at most the cap (plus one chunk)


def test_max_object_bytes_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "lots")
    with pytest.raises(ConfigurationError, match="MAX_OBJECT_BYTES"):
        ds.max_object_bytes()
    monkeypatch.delenv("MAX_OBJECT_BYTES")
    assert ds.max_object_bytes() == 256 << 20


# ---------------------------------------------------------------------------------------------------- read once
def _artifacts() -> list[str]:
    listed = _s3().list_objects_v2(Bucket=BUCKET, Prefix=CACHE.key + "/").get("Contents", [])
    return sorted(o["Key"].rsplit("/", 1)[-1].split("-")[0] for o in listed)


def test_window_is_read_once_per_run_and_never_reused_for_other_data(s3: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    caps, gts = _window(300)
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/a.jsonl", "\n".join(caps))
    put(f"{GT}/2025/01/01/05/gt.jsonl", "\n".join(gts))
    cfg = _cfg()
    first = ds.read_labelled_window(cfg, START, END, cache=CACHE)
    assert _artifacts() == ["capture", "ground"]

    direct = ds.read_capture(cfg, START, END)
    reads: list[str] = []
    real = capture._read_capture_objects
    monkeypatch.setattr(capture, "_read_capture_objects", lambda *a: reads.append("capture") or real(*a))
    again = ds.read_capture(cfg, START, END, cache=CACHE)  # the drift checker of the same run
    assert reads == []
    assert again.ids.tolist() == direct.ids.tolist()
    np.testing.assert_array_equal(again.scores, direct.scores)
    for name, values in direct.features.items():
        assert again.features[name].tolist() == values.tolist()
    assert dict(again.bad) == dict(first.bad_capture)
    cached = ds.cached_labelled_window(cfg, START, END, CACHE)
    assert cached is not None
    assert cached.ids.tolist() == first.ids.tolist()
    assert cached.y_true.tolist() == first.y_true.tolist()

    # another config (one feature less) is another read
    other = _cfg(features=list(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
                           ["features"])[:5])
    ds.read_capture(other, START, END, cache=CACHE)
    assert reads == ["capture"]
    # a new capture object in the window: the artifact no longer describes it
    more, _ = _window(10, seed=1, hour=4)
    put(f"{CAPTURE}/AllTraffic/2025/01/01/04/b.jsonl", "\n".join(more))
    assert ds.cached_labelled_window(cfg, START, END, CACHE) is None
    grown = ds.read_capture(cfg, START, END, cache=CACHE)
    assert reads == ["capture", "capture"]
    assert len(grown) == 310
    # a rewritten object of the same size (another ETag) is not reused either
    put(f"{CAPTURE}/AllTraffic/2025/01/01/04/b.jsonl", "\n".join(more).replace("e1-0", "e1-X"))
    ds.read_capture(cfg, START, END, cache=CACHE)
    assert reads == ["capture", "capture", "capture"]


def test_unreadable_artifact_is_read_again(s3: None) -> None:
    caps, _gts = _window(50)
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/a.jsonl", "\n".join(caps))
    cfg = _cfg()
    ds.read_capture(cfg, START, END, cache=CACHE)
    key = _s3().list_objects_v2(Bucket=BUCKET, Prefix=CACHE.key + "/")["Contents"][0]["Key"]
    put(key, b"not an npz")
    assert len(ds.read_capture(cfg, START, END, cache=CACHE)) == 50
