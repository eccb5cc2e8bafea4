"""Readers of SageMaker Data Capture / ground truth, plain CSV / JSON Lines, and their join (moto S3)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from driftline_common.aws import reset_clients
from driftline_common.config import parse_config
from driftline_common.datasets import (
    dataset_csv,
    hour_of_key,
    join,
    norm_label,
    parse_dataset_csv,
    read_capture,
    read_dataset_text,
    read_ground_truth,
    read_labelled_window,
    window_keys,
    write_dataset_columns,
)
from driftline_common.errors import DataFormatError
from moto import mock_aws

from tests.conftest import ROOT

BUCKET = "driftline-test-data"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 2, tzinfo=UTC)
CAPTURE = "datacapture/driftline-example-classifier"
GT = "ground-truth/example-classifier"


def _cfg(**over: Any):
    data = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    data.update(over)
    return parse_config(data)


def capture_line(eid: str, row: list[Any], out: Any, *, iid: str | None = None, encoding: str = "CSV",
                 out_encoding: str | None = None, when: str = "2025-01-01T03:00:00Z") -> str:
    """One Data Capture record exactly as SageMaker writes it."""
    def payload(body: Any, enc: str, ctype: str) -> dict[str, Any]:
        if enc == "CSV":
            data = body if isinstance(body, str) else ",".join(str(v) for v in body)
        elif enc == "JSON":
            data = json.dumps(body)
        else:  # BASE64 of the CSV/JSON text
            text = json.dumps(body) if "json" in ctype else (body if isinstance(body, str)
                                                               else ",".join(str(v) for v in body))
            data = base64.b64encode(text.encode()).decode()
        return {"observedContentType": ctype, "mode": "INPUT", "data": data, "encoding": enc}

    oenc = out_encoding or encoding
    in_type = "application/json" if encoding == "JSON" or (encoding == "BASE64" and isinstance(row, dict)) \
        else "text/csv"
    out_type = "application/json" if oenc == "JSON" or (oenc == "BASE64" and isinstance(out, dict)) else "text/csv"
    meta = {"eventId": eid, "inferenceTime": when}
    if iid:
        meta["inferenceId"] = iid
    return json.dumps({
        "captureData": {"endpointInput": payload(row, encoding, in_type),
                        "endpointOutput": payload(out, oenc, out_type)},
        "eventMetadata": meta,
        "eventVersion": "0",
    })


def gt_line(eid: str, label: Any, *, encoding: str = "CSV") -> str:
    if encoding == "JSON":
        data = json.dumps(label)
    elif encoding == "BASE64":
        data = base64.b64encode(str(label).encode()).decode()
    else:
        data = str(label)
    return json.dumps({"groundTruthData": {"data": data, "encoding": encoding},
                       "eventMetadata": {"eventId": eid}, "eventVersion": "0"})


def put(key: str, body: str | bytes) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)


ROW = [0.1, 0.2, 0.3, 0.4, 0.5, "a"]


def _str(ids: np.ndarray) -> list[str]:
    """Ids as str (the reader keeps them as UTF-8 bytes)."""
    return [v.decode() if isinstance(v, bytes) else v for v in ids.tolist()]


@pytest.fixture
def s3() -> Iterator[None]:
    """Only S3 (cheaper than the whole stack): these readers touch nothing else."""
    reset_clients()
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield
    reset_clients()


def test_norm_label() -> None:
    assert norm_label(1) == norm_label(1.0) == norm_label("1") == norm_label("1.0") == "1"
    assert norm_label(True) == "1"
    assert norm_label("cat") == "cat"
    assert norm_label(0.25) == "0.25"


def test_hour_of_key_and_window_filter(s3: None) -> None:
    assert hour_of_key("AllTraffic/2025/01/01/03/x.jsonl") == datetime(2025, 1, 1, 3, tzinfo=UTC)
    assert hour_of_key("no/date/here.jsonl") is None
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/a.jsonl", "x")  # SageMaker layout with the variant
    put(f"{CAPTURE}/2025/01/01/23/b.jsonl", "x")  # without the variant
    put(f"{CAPTURE}/AllTraffic/2025/01/02/00/c.jsonl", "x")  # end is exclusive
    put(f"{CAPTURE}/AllTraffic/2024/12/31/23/d.jsonl", "x")  # before the window
    put(f"{CAPTURE}-other/AllTraffic/2025/01/01/03/e.jsonl", "x")  # another endpoint sharing the prefix
    keys = window_keys(f"s3://{BUCKET}/{CAPTURE}", START, END)
    assert sorted(k.rsplit("/", 1)[-1] for k in keys) == ["a.jsonl", "b.jsonl"]


@pytest.mark.parametrize(
    ("row", "out", "encoding", "expected_score", "expected_label"),
    [
        (ROW, "0.83", "CSV", 0.83, ""),
        ({"instances": [ROW]}, {"predictions": [{"score": 0.4, "predicted_label": 0}]}, "JSON", 0.4, "0"),
        ({"features": ROW}, 0.7, "JSON", 0.7, ""),
        (ROW, [0.9], "JSON", 0.9, ""),
        (ROW, "0.61", "BASE64", 0.61, ""),
        ({"instances": [ROW]}, {"predictions": [{"score": 0.2}]}, "BASE64", 0.2, ""),
        (ROW, "1", "CSV", 1.0, ""),
    ],
)
def test_capture_encodings(s3: None, row: Any, out: Any, encoding: str,
                           expected_score: float, expected_label: str) -> None:
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", capture_line("e1", row, out, encoding=encoding) + "\n")
    cap = read_capture(_cfg(), START, END)
    assert len(cap) == 1
    assert not cap.bad
    assert _str(cap.ids) == ["e1"]
    assert cap.scores[0] == pytest.approx(expected_score)
    assert cap.predicted[0] == expected_label
    np.testing.assert_allclose([cap.features[f"f{i}"][0] for i in range(5)], ROW[:5])
    assert cap.features["f5"].tolist() == ["a"]


def test_capture_predicted_label_only_and_multirow(s3: None) -> None:
    lines = [
        capture_line("e1", ROW, "yes", encoding="CSV"),
        capture_line("e2", "0.1,0.2,0.3,0.4,0.5,a\n1,2,3,4,5,b", "0.3\n0.9", encoding="CSV"),
    ]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", "\n".join(lines))
    cap = read_capture(_cfg(), START, END)
    assert _str(cap.ids) == ["e1", "e2#0", "e2#1"]
    assert np.isnan(cap.scores[0])
    assert cap.predicted[0] == "yes"
    np.testing.assert_allclose(cap.scores[1:], [0.3, 0.9])
    assert cap.features["f5"].tolist() == ["a", "a", "b"]


def test_bad_records_counted_by_reason(s3: None) -> None:
    good = capture_line("ok", ROW, "0.5")
    lines = [
        good,
        "{not json",  # unparseable_line
        json.dumps({"eventMetadata": {"eventId": "x"}}),  # missing_field
        capture_line("", ROW, "0.5"),  # missing_id
        capture_line("short", ROW[:4], "0.5"),  # wrong_feature_count
        capture_line("nan", ["abc", *ROW[1:]], "0.5"),  # non_numeric feature
        capture_line("noscore", ROW, "", encoding="CSV"),  # missing_prediction
        capture_line("rows", "1,2,3,4,5,a\n1,2,3,4,5,b", "0.5", encoding="CSV"),  # row_count_mismatch
        json.dumps({"captureData": {"endpointInput": {"data": "!!", "encoding": "BASE64"},
                                    "endpointOutput": {"data": "0.5", "encoding": "CSV"}},
                    "eventMetadata": {"eventId": "b64"}}),  # bad_encoding
        capture_line("ok", ROW, "0.6"),  # duplicate_id (the later one wins)
        "",
    ]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", "\n".join(lines))
    put(f"{CAPTURE}/AllTraffic/2025/01/01/04/binary.jsonl", bytes(range(256)))  # not text at all
    cap = read_capture(_cfg(), START, END)
    assert _str(cap.ids) == ["ok"]
    assert cap.scores.tolist() == [0.6]
    assert dict(cap.bad) == {
        "unparseable_line": 1, "missing_field": 1, "missing_id": 1, "wrong_feature_count": 1, "non_numeric": 1,
        "missing_prediction": 1, "row_count_mismatch": 1, "bad_encoding": 1, "duplicate_id": 1,
        "unreadable_file": 1,
    }


def test_gzip_file_and_empty_window(s3: None) -> None:
    assert len(read_capture(_cfg(), START, END)) == 0  # nothing at all: an empty result, not a crash
    put(f"{CAPTURE}/AllTraffic/2025/01/01/05/f.jsonl.gz", gzip.compress(capture_line("g", ROW, "0.2").encode()))
    assert _str(read_capture(_cfg(), START, END).ids) == ["g"]


@pytest.mark.parametrize("encoding", ["CSV", "JSON", "BASE64"])
def test_ground_truth_and_join_fallback(s3: None, encoding: str) -> None:
    caps = [
        capture_line("ev-1", ROW, "0.9", iid="inf-1"),  # joined on inferenceId
        capture_line("ev-2", ROW, "0.2"),  # no inferenceId: joined on eventId
        capture_line("ev-3", ROW, "0.4", iid="inf-3"),  # ground truth keyed by its eventId (fallback)
        capture_line("ev-4", ROW, "0.7"),  # no label yet
    ]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", "\n".join(caps))
    gts = [gt_line("inf-1", 1, encoding=encoding), gt_line("ev-2", 0, encoding=encoding),
           gt_line("ev-3", 1, encoding=encoding), gt_line("ghost", 0, encoding=encoding),
           gt_line("bad", 7, encoding=encoding)]
    # labels land later than the predictions (still read: up to one window after the end)
    put(f"{GT}/2025/01/02/10/gt.jsonl", "\n".join(gts))
    w = read_labelled_window(_cfg(), START, END)
    order = np.argsort(w.ids)
    assert _str(w.ids[order]) == ["ev-2", "inf-1", "inf-3"]
    assert w.y_true[order].tolist() == ["0", "1", "1"]
    np.testing.assert_allclose(w.scores[order], [0.2, 0.9, 0.4])
    assert w.unmatched == 1
    assert w.unlabelled == 1
    assert w.bad_records() == {"capture": 0, "groundTruth": 1, "unmatched": 1}
    assert w.bad_reasons()["groundTruth"] == {"unknown_label": 1}


def test_ground_truth_json_object_label(s3: None) -> None:
    put(f"{GT}/2025/01/01/10/gt.jsonl", gt_line("a", {"label": "1"}, encoding="JSON"))
    labels = read_ground_truth(_cfg(), START, END)
    assert _str(labels.ids) == ["a"]
    assert labels.values.tolist() == ["1"]


def test_plain_csv_and_jsonl_sources(s3: None) -> None:
    cfg = _cfg(dataCapture={"s3Uri": f"s3://{BUCKET}/plain/capture", "format": "csv"},
               groundTruth={"s3Uri": f"s3://{BUCKET}/plain/labels", "format": "jsonl", "labelColumn": "y"})
    put("plain/capture/part-0.csv",
        "inference_id,inference_time,score,f0,f1,f2,f3,f4,f5\n"
        "r1,2025-01-01T01:00:00Z,0.8,1,2,3,4,5,a\n"
        "r2,2025-01-01T02:00:00Z,0.3,1,2,3,4,5,b\n"
        "r3,2025-01-03T02:00:00Z,0.3,1,2,3,4,5,b\n"  # outside the window (by time column)
        "r4,2025-01-01T02:00:00Z,0.3,1,2,x,4,5,b\n"  # non-numeric
        "r5,2025-01-01T02:00:00Z,0.3,1,2\n")  # too few cells
    put("plain/labels/2025/01/01/05/l.jsonl",
        '{"inference_id": "r1", "y": 1}\n{"inference_id": "r2", "y": 0}\n[1]\n{"y": 1}\n')
    w = read_labelled_window(cfg, START, END)
    order = np.argsort(w.ids)
    assert _str(w.ids[order]) == ["r1", "r2"]
    assert w.y_true[order].tolist() == ["1", "0"]
    assert w.bad_reasons() == {"capture": {"non_numeric": 1, "wrong_feature_count": 1},
                               "groundTruth": {"missing_id": 1, "unparseable_line": 1}}


def test_dataset_csv_is_written_when_first_read(s3: None) -> None:
    caps = [capture_line(f"e{i}", [i, 2, 3, 4, 5, "a,b"], f"0.{i}") for i in range(1, 5)]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", "\n".join(caps))
    put(f"{GT}/2025/01/01/03/gt.jsonl", "\n".join(gt_line(f"e{i}", i % 2) for i in range(1, 5)))
    cfg = _cfg()
    w = join(read_capture(cfg, START, END), read_ground_truth(cfg, START, END))
    uri = f"s3://{BUCKET}/runs/m/r/dataset.csv"
    assert write_dataset_columns(uri, cfg, w) == uri
    s3c = boto3.client("s3", region_name="us-east-1")

    def keys() -> set[str]:
        return {o["Key"] for o in s3c.list_objects_v2(Bucket=BUCKET, Prefix="runs/").get("Contents", [])}

    assert keys() == {"runs/m/r/dataset.npz"}  # only the columns: no number formatted yet
    fetched: list[str] = []

    def get(u: str) -> bytes:  # another reader (the offline runtime's): nothing is stored through it
        fetched.append(u)
        return bytes(s3c.get_object(Bucket=BUCKET, Key=u.partition(f"{BUCKET}/")[2])["Body"].read())

    assert read_dataset_text(uri, get) == dataset_csv(cfg, w)
    assert fetched == [uri, f"s3://{BUCKET}/runs/m/r/dataset.npz"]
    assert keys() == {"runs/m/r/dataset.npz"}
    assert read_dataset_text(uri) == dataset_csv(cfg, w)
    assert keys() == {"runs/m/r/dataset.npz", "runs/m/r/dataset.csv"}  # stored for the next reader
    s3c.delete_object(Bucket=BUCKET, Key="runs/m/r/dataset.npz")
    assert read_dataset_text(uri) == dataset_csv(cfg, w)  # the CSV itself from now on
    with pytest.raises(FileNotFoundError):
        read_dataset_text(f"s3://{BUCKET}/runs/m/other/dataset.csv")
    put("runs/m/bad/dataset.npz", b"not an npz")
    with pytest.raises(DataFormatError, match="not readable") as bad:  # typed, and naming the object
        read_dataset_text(f"s3://{BUCKET}/runs/m/bad/dataset.csv")
    assert "runs/m/bad/dataset.csv" in str(bad.value)
    assert keys() >= {"runs/m/bad/dataset.npz"}
    assert "runs/m/bad/dataset.csv" not in keys()


def test_dataset_csv_roundtrip(s3: None) -> None:
    caps = [capture_line(f"e{i}", [i, 2, 3, 4, 5, "a,b"], f"0.{i}") for i in range(1, 5)]
    put(f"{CAPTURE}/AllTraffic/2025/01/01/03/f.jsonl", "\n".join(caps))
    put(f"{GT}/2025/01/01/03/gt.jsonl", "\n".join(gt_line(f"e{i}", i % 2) for i in range(1, 5)))
    cfg = _cfg()
    w = join(read_capture(cfg, START, END), read_ground_truth(cfg, START, END))
    text = dataset_csv(cfg, w)
    assert text.splitlines()[0] == "inference_id,label,score,predicted_label,f0,f1,f2,f3,f4,f5"
    back = parse_dataset_csv(cfg, text)
    assert back.ids.tolist() == _str(w.ids)
    assert back.y_true.tolist() == w.y_true.tolist()
    np.testing.assert_array_equal(back.scores, w.scores)
