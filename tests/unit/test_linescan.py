"""The msgspec scan of JSON Lines (``driftline_common.linescan``): which lines it takes, which it leaves, and that
the reader's result does not depend on it (the full differential test against the per-record reader is
``tests/unit/test_columnar.py``)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from driftline_common import columnar as col
from driftline_common import linescan
from driftline_common.capture import _capture_object
from driftline_common.config import parse_config

from tests.conftest import ROOT
from tests.unit.test_datasets import capture_line

PATHS = (("eventMetadata", "inferenceId"), ("eventMetadata", "eventId"), ("captureData", "endpointInput", "data"),
         ("captureData", "endpointInput", "encoding"), ("captureData", "endpointOutput", "data"),
         ("captureData", "endpointOutput", "encoding"))


def _line(i: int, **kw: Any) -> str:
    return capture_line(f"ev-{i}", [0.5 + i, 1, 2, 3, 4, "a"], f"0.{i % 10}\n", iid=f"inf-{i}", **kw)


def _bounds(chunk: bytes) -> col.ChunkLines:
    return col.ChunkLines(chunk)


def _scan(lines: list[str], sep: str = "\n") -> tuple[list[col.LineFields], np.ndarray]:
    chunk = (sep.join(lines) + sep).encode()
    got = linescan.scan_fields(chunk, _bounds(chunk), PATHS)
    assert got is not None
    return got


def _values(g: col.LineFields, path: tuple[str, ...]) -> list[bytes]:
    s, e = g.spans[path]
    return [g.a[i:j].tobytes() for i, j in zip(s.tolist(), e.tolist(), strict=True)]


def test_every_line_of_one_layout_is_taken_with_its_decoded_values() -> None:
    lines = [_line(i) for i in range(50)]
    groups, rest = _scan(lines)
    assert not rest.any()
    (g,) = groups
    assert g.lines.tolist() == list(range(50))
    for path in PATHS:
        expected = []
        for text in lines:
            value: Any = json.loads(text)
            for key in path:
                value = value[key]
            # the decoded string (msgspec unescapes it), UTF-8
            expected.append(value.encode())
        assert _values(g, path) == expected


@pytest.mark.parametrize("odd", [
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": NaN'),  # not JSON for orjson
    lambda i: _line(i)[:40],  # truncated
    lambda i: _line(i).replace("ev-", "ev\t"),  # a raw control character
    lambda i: _line(i).replace('"mode": "INPUT"', '"mode": "\\ud800"'),  # a lone surrogate (only json.loads takes it)
    lambda i: _line(i).replace('"mode": "INPUT"', '"mode": [1,]'),  # a trailing comma in a value nobody reads
    lambda i: _line(i) + " x",  # trailing characters
    lambda i: _line(i).replace(f'"inf-{i}"', "12"),  # a number id: the per-record parser decides (str(12))
    lambda i: _line(i).replace('"encoding": "CSV"', '"encoding": null', 1),  # not a string: per record
    lambda i: _line(i).replace('"data": "', '"dat": "', 1),  # no data: per record (missing_field)
    lambda i: _line(i).replace('"eventMetadata": {', '"eventMetadata": null, "x": {', 1),  # null metadata
    lambda i: "[1, 2]",  # not an object
])
def test_lines_msgspec_does_not_take_are_left_and_the_others_taken(odd: Any) -> None:
    lines = [_line(i) for i in range(10)]
    lines[4] = odd(4)
    groups, rest = _scan(lines)
    assert rest.tolist() == [i == 4 for i in range(10)]
    assert groups[0].lines.tolist() == [i for i in range(10) if i != 4]


@pytest.mark.parametrize("other", [
    lambda i: _line(i).replace('"mode": "INPUT"', '"mode": "IN\\u0050UT"'),  # an escape in a value nobody reads
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": 0'),  # another layout
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": 123456789012345678901234567890'),
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": 1e400'),
    lambda i: _line(i) + " ",  # trailing space
    lambda i: _line(i).replace('"captureData"', '"capture\\u0044ata"'),  # an escaped key is the same key
])
def test_other_valid_layouts_are_taken(other: Any) -> None:
    lines = [_line(i) for i in range(10)]
    lines[4] = other(4)
    groups, rest = _scan(lines)
    assert not rest.any()
    assert groups[0].lines.tolist() == list(range(10))
    assert _values(groups[0], ("eventMetadata", "eventId"))[4] == b"ev-4"
    assert groups[0].decoded


def test_duplicate_keys_keep_the_last_value_as_json_loads() -> None:
    line = _line(1)
    dup = line.replace('"eventMetadata": {', '"eventMetadata": {"eventId": "first", "inferenceId": "x"}, '
                                             '"eventMetadata": {', 1)
    assert json.loads(dup)["eventMetadata"]["eventId"] == "ev-1"
    groups, _ = _scan([dup, line.replace('"ev-1"', '"a", "eventId": "b"')])
    assert _values(groups[0], ("eventMetadata", "eventId")) == [b"ev-1", b"b"]
    assert _values(groups[0], ("eventMetadata", "inferenceId")) == [b"inf-1", b"inf-1"]


def test_missing_keys_read_as_the_per_record_defaults() -> None:
    line = _line(2).replace(', "encoding": "CSV"', "", 1).replace(', "inferenceId": "inf-2"', "")
    groups, rest = _scan([line])
    assert not rest.any()
    assert _values(groups[0], ("captureData", "endpointInput", "encoding")) == [b"CSV"]
    assert _values(groups[0], ("eventMetadata", "inferenceId")) == [b""]


def test_empty_lines_are_neither_taken_nor_left_and_crlf_is_one_break() -> None:
    lines = [_line(0), "", _line(1), _line(2)]
    groups, rest = _scan(lines, sep="\r\n")
    assert groups[0].lines.tolist() == [0, 2, 3]
    assert not rest.any()


def test_unicode_line_separators_are_not_scanned() -> None:
    lines = [_line(0), _line(1).replace("ev-1", "ev\u2028x")]
    chunk = ("\n".join(lines) + "\n").encode()
    assert linescan.scan_fields(chunk, _bounds(chunk), PATHS) is None  # the caller reads such a chunk otherwise
    chunk = (_line(0) + "\n" + _line(1).replace('": "', '":\r"', 1) + "\n").encode()  # a lone \r: a break there
    assert linescan.scan_fields(chunk, _bounds(chunk), PATHS) is None


def test_read_values_are_decoded_and_their_escaped_bytes_counted() -> None:
    lines = [_line(i) for i in range(4)]
    lines[1] = _line(1).replace('"ev-1"', '"ev-\\"q\\"-1"')
    lines[2] = _line(2).replace('"ev-2"', '"ev-\\u00e9\\n\\u0000-2"')  # non-ASCII, a newline and a NUL
    groups, _ = _scan(lines)
    (g,) = groups
    assert _values(g, ("eventMetadata", "eventId")) == [b"ev-0", b'ev-"q"-1', "ev-\u00e9\n\x00-2".encode(), b"ev-3"]
    assert _values(g, ("eventMetadata", "inferenceId")) == [b"inf-0", b"inf-1", b"inf-2", b"inf-3"]  # spans intact
    # quotes, backslashes and control characters (what JSON holds only escaped), per value
    assert g.escapes[("eventMetadata", "eventId")].tolist() == [0, 2, 2, 0]
    assert g.escapes[("captureData", "endpointOutput", "data")].tolist() == [1, 1, 1, 1]  # the final newline
    ids, ok = col.string_column(g.a, *g.spans[("eventMetadata", "eventId")], g.escapes[("eventMetadata", "eventId")],
                                decoded=True)
    assert ids.tolist()[:2] == [b"ev-0", b'ev-"q"-1']
    assert ok.tolist() == [True, True, False, True]  # a NUL would be lost in a fixed-width byte string


def test_reader_result_does_not_depend_on_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    lines = [_line(i) for i in range(40)]
    lines[7] = _line(7).replace('"mode": "INPUT"', '"mode": "IN\\u0050UT"')
    lines[9] = "{not json"  # one malformed line: the chunk is decoded line by line
    lines[11] = _line(3)  # a duplicate id
    lines[13] = _line(13).replace('"inf-13"', "13")  # a number id (per record: "13")
    lines[15] = "   "
    buf = ("\n".join(lines) + "\n").encode()

    def read() -> tuple[Any, Counter[str]]:
        bad: Counter[str] = Counter()
        parts, n = _capture_object(buf, 0, cfg.features, bad)
        assert n == len(lines)
        rows = [row for p in parts if p.n
                for row in zip(p.order.tolist(), p.rid.tolist(), *[f.tolist() for f in p.feats], p.scal.tolist(),
                               strict=True)]
        return sorted(rows), bad

    fast = read()
    monkeypatch.setattr(linescan, "scan_fields", lambda *a, **k: None)  # the general path for every chunk
    assert read() == fast
    assert fast[1] == Counter({"unparseable_line": 1})
    assert len(fast[0]) == 38  # 40 lines, one malformed, one blank (the duplicate is a row until deduplicated)
    assert (13, b"13") in [row[:2] for row in fast[0]]
