"""JSON payloads read in bulk (``driftline_common.json_payloads``: msgspec's typed decode, then by layout): the rows
they take are decoded exactly as the per-record reader decodes them, and whatever they cannot prove is left to that
reader (differential tests against ``tests/unit/reference_datasets.py``, with many records of one layout and values
of every kind; each bulk path alone and both together)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from driftline_common import datasets as ds
from driftline_common import json_payloads as jp
from driftline_common.config import parse_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.unit import reference_datasets as ref
from tests.unit.test_columnar import END, START, assert_same_capture, objects  # noqa: F401 (fixture)

CFG = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))

#: request layouts (6 features: 5 numeric + 1 categorical) and response layouts, ``{}`` a value
INPUTS = ['{{"instances": [[{}, {}, {}, {}, {}, {}]]}}', "[{}, {}, {}, {}, {}, {}]",
          '{{"features": [{}, {}, {}, {}, {}, {}]}}', '{{"instances": [{{"features": [{}, {}, {}, {}, {}, {}]}}]}}',
          '{{"instances": [[{}, {}, {}, {}, {}, {}], [1, 2, 3, 4, 5, "a"]]}}',
          '{{"instances": [[{}, {}, {}, {}, {}, {}]], "features": [[1, 2, 3, 4, 5, "a"]]}}',
          '{{"instances": [[{}, {}, {}, {}, {}, {}, 7]]}}',
          '{{"instances": [[{}, {}, {}, {}, {}, {}]], "instances": []}}']
OUTPUTS = [('{{"predictions": [{{"score": {}, "predicted_label": {}}}]}}', "nl"), ("[{}, {}]", "nn"),
           ('{{"score": {}}}', "n"), ('{{"predictions": [{{"probabilities": [{}, {}, 0.5]}}]}}', "nn"),
           ('{{"predictions": [{{"predicted_label": {}}}]}}', "l"), ('{{"predictions": [{}, {}]}}', "nn"), ("{}", "n"),
           ('{{"predictions": [{{"score": {}, "predicted_label": {}, "probability": {}}}]}}', "nln"),
           ('{{"predictions": [{{"predicted_label": {}, "score": {}}}, {{"score": 0.5}}]}}', "ln"),
           ('{{"predictions": [{{"score": {}}}]}}', "n")]
GOOD_NUM = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr), st.integers(-10**6, 10**6).map(str))
ODD_NUM = st.sampled_from(["-0", "-0.0", "0", "1E5", "1e-7", "2.5e+3", "1e400", "-1e400",
                           "123456789012345678901234567890", "18446744073709551616",
                           "0.1000000000000000055511151231257827", '"0.5"', '"x"', '""',
                           "null", "true", "false", '"nan"', '"Infinity"'])
CATS = st.sampled_from(['"red"', '"blue"', '" red "', '""', '" "', '"é"', "1", "1.0", "2.5", "-0", "null", "true",
                        '"1.0"', '"a\\\\b"', '"q\\"t"', '"\\u00e9"', '"x\\ty"'])
LABELS = st.sampled_from(["0", "1", "1.0", '"1"', '"yes"', '""', "null", "true", '" "', "2"])


@st.composite
def window(draw: Any) -> list[str]:
    """Capture lines sharing one request and one response layout, values mostly plain, some of every kind."""
    layout_in = draw(st.sampled_from(INPUTS))
    layout_out = draw(st.sampled_from(OUTPUTS))
    odd = draw(st.sampled_from([0.0, 0.05, 0.3]))
    lines = []
    for i in range(draw(st.integers(1, 40))):
        def num() -> str:
            return draw(ODD_NUM) if draw(st.floats(0, 1)) < odd else draw(GOOD_NUM)
        cat = draw(CATS) if draw(st.floats(0, 1)) < odd else draw(st.sampled_from(['"red"', '"blue"', '"green"']))
        data_in = layout_in.format(*[num() for _ in range(5)], cat)
        label = draw(LABELS) if draw(st.floats(0, 1)) < max(odd, 0.2) else draw(st.sampled_from(["0", "1"]))
        data_out = layout_out[0].format(*[label if kind == "l" else num() for kind in layout_out[1]])
        rec = {"captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT", "data": data_in,
                              "encoding": "JSON"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": data_out,
                               "encoding": "JSON"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"i{i}", "inferenceTime": "2025-01-01T03:00:00Z"},
            "eventVersion": "0"}
        lines.append(json.dumps(rec, separators=(",", ":")))
    return lines


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(lines=window(), path=st.sampled_from(["both", "typed", "layout"]))
def test_bulk_payloads_match_per_record_reader(objects: dict[str, bytes], lines: list[str], path: str,  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        if path == "typed":  # the typed decode alone (the layouts take nothing)
            m.setattr(jp, "match_payloads", lambda *a: None)
        elif path == "layout":  # the layouts alone
            m.setattr(jp, "_typed", lambda *a: ([], np.zeros(0, dtype=np.int64)))
        _compare(objects, lines)


def _compare(objects: dict[str, bytes], lines: list[str]) -> None:  # noqa: F811
    objects.clear()
    objects["cap/2025/01/01/03/part.jsonl"] = ("\n".join(lines) + "\n").encode()
    keys = sorted(objects)
    assert_same_capture(ds.read_capture_keys(CFG, keys, START, END), ref.read_capture_keys(CFG, keys, START, END))


def _spans(payloads: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The payloads as they sit in a capture line (JSON string bodies, escaped), newline-separated."""
    raw = [json.dumps(p)[1:-1].encode() for p in payloads]
    a = np.frombuffer(b"\n".join(raw) + b"\n", dtype=np.uint8)
    lengths = np.asarray([len(r) for r in raw])
    s = np.cumsum(lengths + 1) - lengths - 1
    return a, s, s + lengths


def test_plain_requests_are_all_taken_with_the_values_orjson_reads() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 5))
    payloads = [json.dumps({"instances": [[*map(float, row), ["red", "blue"][i % 2]]]}) for i, row in enumerate(x)]
    payloads[6] = payloads[6].replace("red", "r\\u00e9d")  # an escape inside the payload: left to the slow path
    feats, taken = jp.json_inputs(*_spans(payloads), CFG.features)
    assert taken.sum() == 499
    assert not taken[6]
    got = np.stack(feats[:5], axis=1)
    np.testing.assert_array_equal(got[taken], x[taken])
    assert feats[5][taken].tolist() == [["red", "blue"][i % 2] for i in np.flatnonzero(taken).tolist()]


def test_plain_responses_are_all_taken() -> None:
    p = np.random.default_rng(6).random(300)
    payloads = [json.dumps({"predictions": [{"score": float(v), "predicted_label": int(v > 0.5)}]}) for v in p]
    kind, scal, _, _, label, taken = jp.json_outputs(*_spans(payloads))
    assert taken.all()
    assert (kind == 1).all()
    np.testing.assert_array_equal(scal, p)
    assert label.tolist() == [str(int(v > 0.5)) for v in p]


@pytest.mark.parametrize("payload", ['{"score": "0.5"}',  # a string score: value-dependent, per record
                                     '"0.5"', "0.5",  # not an object or array: per record
                                     '{"predictions": [{"score": true}]}'])
def test_layouts_that_need_a_per_value_decision_are_not_taken(payload: str) -> None:
    *_, taken = jp.json_outputs(*_spans([payload] * 3))
    assert not taken.any()


@pytest.mark.parametrize("payload", ['{"instances": [[1, 2, 3, 4, "5", "a"]]}',  # a numeric string
                                     '{"instances": [[1, 2, 3, 4, 5, 6]]}',  # a number for a category
                                     '{"instances": [[1, 2, 3, 4, 5, "a", 7]]}',  # one value too many
                                     '{"instances": [[1, 2, 3, 4, 5, "a"]], "x": 1}',  # another key
                                     '{"instances": [[1, 2, 3, 4, 1e400, "a"]]}',  # out of range
                                     '{"instances": [[1, 2, 3, 4, true, "a"]]}',
                                     '{"instances": [[1, 2, 3, 4, 5, " "]]}',  # a blank category
                                     '{"instances": [[1, 2, 3, 4, 5, "a"], [1, 2, 3, 4, 5, "a"]]}'])
def test_typed_requests_leave_what_the_per_record_reader_decides(payload: str) -> None:
    plain = '{"instances": [[1, 2, 3, 4, 5, "a"]]}'
    feats, taken = jp.typed_inputs(*_spans([plain, payload, plain]), CFG.features)
    assert taken.tolist() == [True, False, True]
    assert feats[0][[0, 2]].tolist() == [1.0, 1.0]
    assert feats[5][[0, 2]].tolist() == ["a", "a"]


@pytest.mark.parametrize(("payload", "score", "label"), [
    ('{"predictions": [{"score": -0, "predicted_label": 123456789012345678901234567890}]}', 0.0,
     "123456789012345678901234567890"),
    ('{"predictions": [{"predicted_label": " 1.0 ", "score": 1}]}', 1.0, "1"),
    ('{"predictions": [{"score": 2.2250738585072011e-308, "predicted_label": null}]}', 2.2250738585072011e-308, ""),
    ('{"predictions": [{"score": 0.1000000000000000055511151231257827, "score": 0.3}]}', 0.3, ""),
])
def test_typed_responses_decode_as_the_per_record_reader(payload: str, score: float, label: str) -> None:
    kind, scal, _, _, labels, taken = jp.typed_outputs(*_spans([payload]))
    assert taken.tolist() == [True]
    assert kind.tolist() == [1]
    assert scal[0] == score
    assert str(np.copysign(1, scal[0])) == "1.0"
    assert labels.tolist() == [label]
