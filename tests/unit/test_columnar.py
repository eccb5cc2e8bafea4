"""The columnar reader gives exactly the columns and bad-record counts of the per-record reader.

``tests/unit/reference_datasets.py`` is the per-record reader Driftline shipped before (plus the non-finite score
fix): hypothesis generates windows of good and malformed SageMaker Data Capture / ground-truth records in every
encoding and layout, and both readers must agree on every id, feature, score, predicted label, label and count.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import os
import zlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from driftline_common import columnar as col
from driftline_common import datasets as ds
from driftline_common import ground_truth, labelled_csv, sources
from driftline_common.config import parse_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.unit import reference_datasets as ref

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 2, tzinfo=UTC)
BUCKET = "b"


def _cfg(problem: str = "binary") -> Any:
    data = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    if problem == "multiclass":
        data.update(problemType="multiclass", labels=["0", "1", "2"], positiveLabel=None,
                    thresholds=[{"metric": "accuracy", "min": 0.5}],
                    promotion={"metric": "accuracy", "minImprovement": 0.01, "minSamples": 10})
    elif problem == "regression":
        data.update(problemType="regression", labels=None, positiveLabel=None,
                    thresholds=[{"metric": "rmse", "max": 1.0}],
                    promotion={"metric": "rmse", "minImprovement": 0.01, "minSamples": 10})
    return parse_config(data)


@pytest.fixture
def objects(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Objects served to both readers without S3 (``{key: body}``)."""
    store: dict[str, bytes] = {}

    def get_bytes(uri: Any) -> bytes:
        return store[uri.key]

    monkeypatch.setattr(sources, "get_bytes", get_bytes)
    monkeypatch.setattr(ref, "get_bytes", get_bytes)
    monkeypatch.setattr(ref, "window_keys", lambda *a, **k: sorted(store))
    return store


# ---------------------------------------------------------------------------------------------------- strategies
NUM = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-1e400", "1e", "", "-", ".5", "5.", "1_0", " 1", "1 ", "0x10",
                     "1e-999", "+1", "--1", "1.2.3", "Infinity", "1e5", "1E+05", "١", "0.1\t", "e5", "."]),
)
CAT = st.sampled_from(["a", "b", " a", "", " ", "é", "a b", "1", "1.0", "NaN", "x\\y", "q\"t"])
JSON_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70), st.booleans(),
                       st.none(), NUM, CAT)
IDS = st.sampled_from(["a", "b", "c", "dup", "é-ü", 'x"y', "1", "a#0", "", "z\\n", "a\u2028b", "tab\tid"])


#: cells every reader takes (a request whose rows are all made of them is read in columns by the bulk paths)
GOOD_NUM = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
                     st.sampled_from(["1", "-2", " 1", "1e5", ".5", "1_0", "0.1\t"]))
GOOD_CAT = st.sampled_from(["a", "b", " a", "é", "a b", "1", "1.0", "NaN", "x\\y"])


@st.composite
def csv_row(draw: Any, good: bool = False) -> str:
    n = 6 if good else draw(st.sampled_from([6, 6, 6, 6, 5, 7]))
    num, cat = (GOOD_NUM, GOOD_CAT) if good else (NUM, CAT)
    cells = [draw(num) for _ in range(min(n, 5))] + [draw(cat) for _ in range(max(n - 5, 0))]
    return ",".join(cells)


@st.composite
def capture_record(draw: Any) -> str:
    enc_in = draw(st.sampled_from(["CSV", "CSV", "JSON", "BASE64", "csv", "XML"]))
    enc_out = draw(st.sampled_from(["CSV", "CSV", "JSON", "BASE64"]))
    rows = draw(st.sampled_from([1, 1, 1, 1, 2, 3, 7]))
    good = rows > 1 and draw(st.booleans())  # a multi-row request of good cells (or one bad cell among them)
    if enc_in in ("CSV", "csv", "XML"):
        body_in: Any = "\n".join(draw(csv_row(good)) for _ in range(rows)) + draw(st.sampled_from(["", "", "\n", " ",
                                                                                                    "\r\n"]))
        data_in = body_in
    else:
        values = [[draw(st.one_of(st.floats(allow_nan=False, allow_infinity=False), JSON_VALUE))
                   for _ in range(5)] + [draw(st.one_of(CAT, JSON_VALUE))] for _ in range(rows)]
        shape = draw(st.sampled_from(["instances", "list", "features", "flat"]))
        body_in = ({"instances": values} if shape == "instances" else values if shape == "list"
                   else {"features": values[0]} if shape == "features" else values[0])
        # (indented: a payload holding newlines, which the decoded scan must not split)
        data_in = json.dumps(body_in, indent=draw(st.sampled_from([None, None, None, 1])))
    score = draw(st.one_of(NUM, st.sampled_from(["yes", "0.2,0.8", "0.1,0.2,0.7", "0.5,x", "1", ""]))) if not good \
        else draw(st.one_of(GOOD_NUM, st.sampled_from(["0.2,0.8", "0.1,0.2,0.7", "0.5,x", "nan"])))
    if enc_out == "CSV":
        data_out = "\n".join([score] * rows) + draw(st.sampled_from(["", "\n"]))
    else:
        pred = draw(st.sampled_from(["number", "dict", "list", "str", "label", "dict_label", "dict_label"]))
        s_val: Any = draw(st.one_of(st.floats(min_value=0, max_value=1), JSON_VALUE))
        one = ({"score": s_val} if pred == "dict" else
               {"score": s_val, "predicted_label": draw(st.one_of(CAT, JSON_VALUE))} if pred == "dict_label" else
               [s_val, 1 - s_val if isinstance(s_val, float) else 0.5]
               if pred == "list" else str(s_val) if pred == "str" else {"predicted_label": draw(CAT)}
               if pred == "label" else s_val)
        data_out = json.dumps({"predictions": [one] * rows} if pred in ("dict", "label", "dict_label") else
                              ([one] * rows if rows > 1 else one))
    if enc_in == "BASE64":
        data_in = draw(st.sampled_from([base64.b64encode(data_in.encode()).decode(), "!!"]))
    if enc_out == "BASE64":
        data_out = base64.b64encode(data_out.encode()).decode()
    meta: dict[str, Any] = {"eventId": draw(IDS), "inferenceTime": "2025-01-01T03:00:00Z"}
    if draw(st.booleans()):
        meta["inferenceId"] = draw(st.one_of(IDS, st.integers(0, 3)))
    rec: dict[str, Any] = {
        "captureData": {
            "endpointInput": {"observedContentType": "application/json" if enc_in != "CSV" else "text/csv",
                              "mode": "INPUT", "data": data_in, "encoding": enc_in},
            "endpointOutput": {"observedContentType": "application/json" if enc_out == "JSON" else "text/csv",
                               "mode": "OUTPUT", "data": data_out, "encoding": enc_out},
        },
        "eventMetadata": meta, "eventVersion": "0",
    }
    mutation = draw(st.sampled_from(["none"] * 8 + ["no_encoding", "meta_list", "no_capture", "garbage", "truncate",
                                                    "nan_literal", "extra_key", "null_encoding", "meta_null",
                                                    "data_null", "data_number", "big_int", "dup_meta", "escaped_key",
                                                    "lone_surrogate", "lone_cr", "infinity"]))
    if mutation == "no_encoding":
        del rec["captureData"]["endpointInput"]["encoding"]
    elif mutation == "meta_list":
        rec["eventMetadata"] = [1]
    elif mutation == "no_capture":
        del rec["captureData"]
    elif mutation == "extra_key":
        rec["captureData"]["endpointInput"]["extra"] = "v\\u00e9"
    elif mutation == "null_encoding":
        rec["captureData"]["endpointOutput"]["encoding"] = None
    elif mutation == "meta_null":
        rec["eventMetadata"] = None
    elif mutation == "data_null":
        rec["captureData"]["endpointInput"]["data"] = None
    elif mutation == "data_number":
        rec["captureData"]["endpointOutput"]["data"] = 0.5
    elif mutation == "big_int":  # beyond orjson's 64 bits: json.loads takes the line
        rec["captureData"]["endpointInput"]["extra"] = 2**70
    compact = draw(st.booleans())
    text = json.dumps(rec, separators=(",", ":") if compact else None, ensure_ascii=draw(st.booleans()))
    if mutation == "garbage":
        return draw(st.sampled_from(["{not json", "[1, 2]", "null", '"x"', "{}", "  "]))
    if mutation == "truncate":
        return text[: len(text) // 2]
    if mutation == "dup_meta":  # duplicate keys: the last value wins (as in a dict)
        return text.replace('"eventMetadata"', '"eventMetadata": {"eventId": "dup"}, "eventMetadata"', 1)
    if mutation == "escaped_key":
        return text.replace('"captureData"', '"capture\\u0044ata"', 1)
    if mutation == "lone_surrogate":  # only json.loads takes it
        return text.replace('"eventVersion"', '"x": "\\ud800", "eventVersion"', 1)
    if mutation == "lone_cr":  # str.splitlines breaks the line there
        return text.replace('"eventVersion"', '\r"eventVersion"', 1)
    if mutation == "infinity":
        return text.replace('"eventVersion"', '"x": -Infinity, "eventVersion"', 1)
    if mutation == "nan_literal":
        return text.replace('"eventVersion": "0"', '"eventVersion": NaN').replace('"eventVersion":"0"',
                                                                                     '"eventVersion":NaN')
    return text


@st.composite
def gt_record(draw: Any) -> str:
    enc = draw(st.sampled_from(["CSV", "CSV", "CSV", "JSON", "BASE64"]))
    label = draw(st.one_of(st.sampled_from(["0", "1", "2", "1.0", " 1", "", "7", "cat", "0,1", "nan", "1e309", "0.5"]),
                           NUM))
    if enc == "JSON":
        data = json.dumps(draw(st.one_of(st.just(label), st.integers(0, 3), st.just({"label": label}),
                                         st.just([label]))))
    elif enc == "BASE64":
        data = base64.b64encode(label.encode()).decode()
    else:
        data = label + draw(st.sampled_from(["", "", "\n"]))
    rec: dict[str, Any] = {"groundTruthData": {"data": data, "encoding": enc}, "eventMetadata": {"eventId": draw(IDS)},
                           "eventVersion": "0"}
    if draw(st.integers(0, 9)) == 0:
        rec["eventMetadata"] = None
    text = json.dumps(rec, separators=(",", ":") if draw(st.booleans()) else None)
    mutation = draw(st.sampled_from(["none"] * 6 + ["dup_data", "number_id", "no_meta", "garbage", "nan"]))
    if mutation == "dup_data":  # duplicate keys: the last value wins
        return text.replace('{"data"', '{"data": "1", "data"', 1)
    if mutation == "number_id":
        return text.replace('"eventId":', '"eventId": 3, "x":', 1)
    if mutation == "no_meta":
        return text.replace('"eventMetadata"', '"other"', 1)
    if mutation == "garbage":
        return "{"
    if mutation == "nan":
        return text.replace('"eventVersion"', '"x": NaN, "eventVersion"', 1)
    return text


@st.composite
def jsonl_objects(draw: Any, record: Any) -> list[bytes]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        lines = draw(st.lists(record, min_size=0, max_size=25))
        if lines and draw(st.integers(0, 3)) == 0:  # many copies of one layout (the bulk path's case)
            lines = lines + [lines[0]] * draw(st.integers(1, 20))
        sep = draw(st.sampled_from(["\n", "\n", "\r\n"]))
        body = sep.join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
        raw = body.encode()
        if draw(st.integers(0, 4)) == 0:
            raw = gzip.compress(raw)
        out.append(raw)
    return out


# ---------------------------------------------------------------------------------------------------- comparison
def _s(ids: np.ndarray) -> list[str]:
    return [v.decode("utf-8", "surrogatepass") if isinstance(v, bytes) else v for v in ids.tolist()]


def _same_array(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    else:
        assert a.tolist() == b.tolist()


def assert_same_capture(new: ds.Captured, old: ref.Captured) -> None:
    assert dict(new.bad) == dict(old.bad)
    assert _s(new.ids) == old.ids.tolist()
    assert _s(new.event_ids) == old.event_ids.tolist()
    _same_array(new.scores, old.scores)
    assert new.predicted.tolist() == old.predicted.tolist()
    assert list(new.features) == list(old.features)
    for name in old.features:
        _same_array(new.features[name], old.features[name])


#: windows per differential test in `make test`; `DRIFTLINE_INGEST_EXAMPLES=1000` for a long local soak
EXAMPLES = int(os.environ.get("DRIFTLINE_INGEST_EXAMPLES", "60"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


@PROFILE
@given(bodies=jsonl_objects(capture_record()))
def test_capture_matches_per_record_reader(objects: dict[str, bytes], bodies: list[bytes]) -> None:
    objects.clear()
    for i, body in enumerate(bodies):
        objects[f"cap/2025/01/01/0{i}/part.jsonl"] = body
    cfg = _cfg()
    keys = sorted(objects)
    new = ds.read_capture_keys(cfg, keys, START, END)
    old = ref.read_capture_keys(cfg, keys, START, END)
    assert_same_capture(new, old)


@PROFILE
@given(cap_bodies=jsonl_objects(capture_record()), gt_bodies=jsonl_objects(gt_record()),
       problem=st.sampled_from(["binary", "multiclass", "regression"]))
def test_ground_truth_and_join_match_per_record_reader(objects: dict[str, bytes], cap_bodies: list[bytes],
                                                       gt_bodies: list[bytes], problem: str) -> None:
    cfg = _cfg(problem)
    objects.clear()
    for i, body in enumerate(gt_bodies):
        objects[f"gt/2025/01/01/0{i}/part.jsonl"] = body
    keys = sorted(objects)
    new_labels = ground_truth._read_ground_truth_objects(cfg, [(k, None) for k in keys])
    old_labels = ref.read_ground_truth(cfg, START, END)
    assert dict(new_labels.bad) == dict(old_labels.bad)
    assert _s(new_labels.ids) == old_labels.ids.tolist()
    _same_array(new_labels.values, old_labels.values)
    objects.clear()
    for i, body in enumerate(cap_bodies):
        objects[f"cap/2025/01/01/0{i}/part.jsonl"] = body
    keys = sorted(objects)
    new_cap = ds.read_capture_keys(cfg, keys, START, END)
    old_cap = ref.read_capture_keys(cfg, keys, START, END)
    new_w, old_w = ds.join(new_cap, new_labels), ref.join(old_cap, old_labels)
    assert _s(new_w.ids) == old_w.ids.tolist()
    _same_array(new_w.y_true, old_w.y_true)
    _same_array(new_w.scores, old_w.scores)
    assert (new_w.unmatched, new_w.unlabelled) == (old_w.unmatched, old_w.unlabelled)
    for name in old_w.features:
        _same_array(new_w.features[name], old_w.features[name])


@pytest.mark.parametrize("big", [-(2**63) - 1, 2**64, 10**30, -(10**25)])
def test_integers_beyond_64_bits_match_per_record_reader(objects: dict[str, bytes], big: int) -> None:
    # orjson reads such an integer as a float; as a category or a predicted label it must stay the exact integer
    lines = []
    for i in range(30):
        body_in = json.dumps({"instances": [[0.5, 1, 2, 3, 4, big if i % 3 == 0 else "a"]]})
        body_out = json.dumps({"predictions": [{"score": 0.25, "predicted_label": big if i % 2 else 1}]})
        lines.append(json.dumps({"captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT", "data": body_in,
                              "encoding": "JSON"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": body_out,
                               "encoding": "JSON"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"i{i}"}, "eventVersion": "0"}))
    objects.clear()
    objects["cap/2025/01/01/00/part.jsonl"] = ("\n".join(lines) + "\n").encode()
    cfg = _cfg()
    keys = sorted(objects)
    new = ds.read_capture_keys(cfg, keys, START, END)
    assert_same_capture(new, ref.read_capture_keys(cfg, keys, START, END))
    assert str(big) in new.predicted.tolist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_plain_formats_match_per_record_reader(objects: dict[str, bytes], fmt: str) -> None:
    rng = np.random.default_rng(3)
    cfg = parse_config({**json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()),
                        "dataCapture": {"s3Uri": "s3://bkt/plain", "format": fmt}})
    rows = []
    for i in range(300):
        rec = {"inference_id": f"r{i % 250}", "inference_time": "2025-01-01T01:00:00Z",
               "score": "nan" if i % 97 == 0 else f"{rng.random():.6f}",
               **{f"f{j}": f"{rng.normal():.4f}" if i % 83 else "x" for j in range(5)}, "f5": "ab"[i % 2]}
        rows.append(rec)
    if fmt == "csv":
        header = list(rows[0])
        body = ",".join(header) + "\n" + "\n".join(",".join(str(r[h]) for h in header) for r in rows) + "\n1,2\n"
    else:
        body = "\n".join(json.dumps(r) for r in rows) + "\n{bad\n[1]\n"
    objects["plain/part"] = body.encode()
    assert_same_capture(ds.read_capture_keys(cfg, ["plain/part"], START, END),
                        ref.read_capture_keys(cfg, ["plain/part"], START, END))


# ---------------------------------------------------------------------------------------------------- building blocks
@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.eE+-", min_size=1, max_size=12), min_size=1, max_size=40))
def test_parse_floats_agrees_with_float(cells: list[str]) -> None:
    blob = np.frombuffer(("\n".join(cells) + "\n").encode(), dtype=np.uint8)
    lengths = np.asarray([len(c) for c in cells])
    starts = np.cumsum(lengths + 1) - lengths - 1
    values, ok = col.parse_floats(blob, starts, starts + lengths)
    for cell, v, good in zip(cells, values.tolist(), ok.tolist(), strict=True):
        try:
            expected = float(cell)
        except ValueError:
            expected = None
        if good:  # whatever the bulk parse accepts, it parsed as float() does (the sign of zero too), finite
            assert expected is not None
            assert v == expected
            assert math.copysign(1, v) == math.copysign(1, expected)
        elif expected is not None and np.isfinite(expected):
            # a cell the bulk parse refused although float() takes it: only next to a bad cell
            assert not all(ok), cells


JSON_NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["-0", "0", "-0.0", "-0e5", "0E-3", "1e-400", "-1e-400", "2.2250738585072011e-308",
                     "4.9406564584124654e-324", "2.4703282292062327e-324", "9007199254740993",
                     "1.7976931348623157e308", "0.1000000000000000055511151231257827", "1e23", "-1E+22"]),
)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(JSON_NUMBER, min_size=1, max_size=40))
def test_parse_floats_of_json_numbers_is_exact(cells: list[str]) -> None:
    blob = np.frombuffer(("\n".join(cells) + "\n").encode(), dtype=np.uint8)
    lengths = np.asarray([len(c) for c in cells])
    starts = np.cumsum(lengths + 1) - lengths - 1
    values, ok = col.parse_floats(blob, starts, starts + lengths)
    assert ok.all()
    for cell, v in zip(cells, values.tolist(), strict=True):
        assert v == float(cell)
        assert math.copysign(1, v) == math.copysign(1, float(cell))


@given(ids=st.lists(st.binary(min_size=0, max_size=6).filter(lambda b: not b.endswith(b"\x00")), max_size=60))
def test_group_ids_and_lookup(ids: list[bytes]) -> None:
    arr = np.asarray(ids, dtype="S7") if ids else np.zeros(0, dtype="S1")
    first, last = col.group_ids(arr)
    seen: dict[bytes, list[int]] = {}
    for i, v in enumerate(ids):
        seen.setdefault(v, []).append(i)
    assert first.tolist() == [rows[0] for rows in seen.values()]
    assert last.tolist() == [rows[-1] for rows in seen.values()]
    keys = arr[first] if ids else arr
    probe = np.asarray([*ids, b"zz-not-there"], dtype="S13")
    got = col.lookup(keys, probe)
    assert got.tolist() == [list(seen).index(v) for v in ids] + [-1]


@given(values=st.lists(st.binary(min_size=0, max_size=10), max_size=60))
def test_unique_bytes_is_numpy_unique(values: list[bytes]) -> None:
    arr = np.asarray(values, dtype=bytes) if values else np.zeros(0, dtype="S3")
    uniq, inv = col.unique_bytes(arr)
    want_uniq, want_inv = np.unique(arr, return_inverse=True)
    assert uniq.dtype == arr.dtype
    assert uniq.tolist() == want_uniq.tolist()
    assert inv.tolist() == want_inv.reshape(-1).tolist()


def test_group_ids_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(col, "hash_ids", lambda ids: np.zeros(ids.size, dtype=np.uint64))
    arr = np.asarray([b"b", b"a", b"b", b"c", b"a"])
    first, last = col.group_ids(arr)
    assert (first.tolist(), last.tolist()) == ([0, 1, 3], [2, 4, 3])
    assert col.lookup(arr[first], np.asarray([b"c", b"x", b"b"])).tolist() == [2, -1, 0]


def test_inflate_caps_and_handles_members() -> None:
    two = gzip.compress(b"abc\n") + gzip.compress(b"def\n")
    assert col.inflate(two, 100) == b"abc\ndef\n"
    bomb = gzip.compress(b"\0" * (4 << 20))
    with pytest.raises(col.ObjectTooLarge):
        col.inflate(bomb, 1 << 20)
    with pytest.raises((OSError, EOFError, zlib.error)):
        col.inflate(two[:-9], 100)
    with pytest.raises(col.ObjectTooLarge):
        col.inflate(b"x" * 101, 100)


TEXT = st.text(alphabet=st.sampled_from(list('ab,"\r\n x1é\t')), max_size=6)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 12), k=st.sampled_from([0, 1, 3]), regression=st.booleans(), data=st.data())
def test_dataset_csv_matches_csv_writer(n: int, k: int, regression: bool, data: Any) -> None:
    cfg = _cfg("regression" if regression else "multiclass")
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    ids = [data.draw(TEXT) for _ in range(n)]
    y = (np.asarray([data.draw(floats) for _ in range(n)], dtype=np.float64) if regression
         else np.asarray([data.draw(TEXT) for _ in range(n)], dtype=str))
    scores = np.asarray([[data.draw(floats) for _ in range(max(k, 1))] for _ in range(n)], dtype=np.float64)
    scores = scores.reshape(n, max(k, 1)) if k else scores.reshape(n, 1)[:, 0]
    predicted = np.asarray([data.draw(TEXT) for _ in range(n)], dtype=str)
    features = {f.name: (np.asarray([data.draw(floats) for _ in range(n)], dtype=np.float64)
                         if f.type == "numeric" else np.asarray([data.draw(TEXT) for _ in range(n)], dtype=str))
                for f in cfg.features}
    common = {"y_true": y, "scores": scores, "predicted": predicted, "features": features,
              "unmatched": 0, "unlabelled": 0}
    new = ds.LabelledWindow(ids=np.asarray([i.encode() for i in ids], dtype="S") if n else np.zeros(0, "S1"),
                            bad_capture=Counter(), bad_ground_truth=Counter(), **common)
    old = ref.LabelledWindow(ids=np.asarray(ids, dtype=str), bad_capture=Counter(), bad_ground_truth=Counter(),
                             **common)
    assert ds.dataset_csv(cfg, new) == ref.dataset_csv(cfg, old)
    # the deferred CSV: the columns through numpy.savez / numpy.load(allow_pickle=False), written byte for byte so
    buf = io.BytesIO()
    np.savez(buf, **labelled_csv.dataset_arrays(cfg, new))  # type: ignore[arg-type]
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        assert labelled_csv.csv_of_arrays({name: z[name] for name in z.files}) == ds.dataset_csv(cfg, new)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.binary(min_size=0, max_size=5).filter(lambda b: b"\n" not in b), max_size=12),
       same=st.booleans())
def test_gather_equals_the_python_slices(values: list[bytes], same: bool) -> None:
    if same and values:  # equally long values one separator apart: the strided path
        values = [v.ljust(5, b"x")[:5] for v in values]
    buf = b"\n".join(values) + b"\n"
    a = np.frombuffer(buf, dtype=np.uint8)
    lengths = np.asarray([len(v) for v in values], dtype=np.int64)
    starts = np.cumsum(lengths + 1) - lengths - 1
    got = col.gather(a, starts, starts + lengths)
    assert got.tolist() == np.asarray(values, dtype=bytes).tolist() if values else got.size == 0


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=1, max_size=60), cuts=st.lists(st.integers(0, 60), max_size=16),
       shuffle=st.booleans(), sep=st.sampled_from([col.NEWLINE, col.COMMA]))
def test_concat_equals_the_python_join(data: bytes, cuts: list[int], shuffle: bool, sep: int) -> None:
    # spans [s, e) each with a byte of its own at e (ordered and disjoint, or not when shuffled)
    points = sorted({c % len(data) for c in cuts})
    starts = np.asarray(points[0::2], dtype=np.int64)
    ends = np.asarray(points[1::2] + ([len(data) - 1] if len(points) % 2 else []), dtype=np.int64)
    n = min(starts.size, ends.size)
    starts, ends = starts[:n], ends[:n]
    if shuffle:
        order = np.random.default_rng(len(data)).permutation(n)
        starts, ends = starts[order], ends[order]
    a = np.frombuffer(data, dtype=np.uint8)
    want = b"".join(data[s:e] + bytes([sep]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
    assert col.concat(a, starts, ends, sep).tobytes() == want
