"""The one-pass layout scan (``driftline_common.linescan``): which lines it takes, which it leaves, and that the
reader's result does not depend on it (the full differential test against the per-record reader is
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


def _scan(lines: list[str], sep: str = "\n") -> tuple[list[col.LineFields], np.ndarray]:
    chunk = (sep.join(lines) + sep).encode()
    got = linescan.scan_fields(chunk, len(lines), PATHS)
    assert got is not None
    return got


def _values(g: col.LineFields, path: tuple[str, ...]) -> list[bytes]:
    s, e = g.spans[path]
    return [g.a[i:j].tobytes() for i, j in zip(s.tolist(), e.tolist(), strict=True)]


def test_every_line_of_one_layout_is_taken_with_its_raw_values() -> None:
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
            # the raw (still escaped) JSON string body, as it appears in the line
            expected.append(json.dumps(value)[1:-1].encode())
        assert _values(g, path) == expected


@pytest.mark.parametrize("odd", [
    lambda i: _line(i).replace('"mode": "INPUT"', '"mode": "IN\\u0050UT"'),  # an escape in a value nobody reads
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": 0'),  # another layout
    lambda i: _line(i).replace('"eventVersion": "0"', '"eventVersion": NaN'),  # not JSON for orjson
    lambda i: _line(i)[:40],  # truncated
    lambda i: _line(i) + " ",  # trailing space: another skeleton
    lambda i: _line(i).replace("ev-", "ev\t"),  # a raw control character
])
def test_lines_off_the_template_are_left(odd: Any) -> None:
    lines = [_line(i) for i in range(10)]
    lines[4] = odd(4)
    groups, rest = _scan(lines)
    assert rest.tolist() == [i == 4 for i in range(10)]
    assert groups[0].lines.tolist() == [i for i in range(10) if i != 4]


def test_empty_lines_are_neither_taken_nor_left_and_crlf_is_one_break() -> None:
    lines = [_line(0), "", _line(1), _line(2)]
    groups, rest = _scan(lines, sep="\r\n")
    assert groups[0].lines.tolist() == [0, 2, 3]
    assert not rest.any()


def test_unicode_line_separators_are_not_scanned() -> None:
    lines = [_line(0), _line(1).replace("ev-1", "ev\u2028x")]
    chunk = ("\n".join(lines) + "\n").encode()
    assert linescan.scan_fields(chunk, 2, PATHS) is None  # the caller reads such a chunk the general way


def test_escaped_read_values_are_kept_escaped_for_the_decoders() -> None:
    lines = [_line(i) for i in range(3)]
    lines[1] = _line(1).replace('"ev-1"', '"ev-\\"q\\"-1"')
    groups, _ = _scan(lines)
    assert _values(groups[0], ("eventMetadata", "eventId"))[1] == b'ev-\\"q\\"-1'
    assert groups[0].escapes[("eventMetadata", "eventId")].tolist() == [0, 2, 0]


def test_reader_result_does_not_depend_on_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    lines = [_line(i) for i in range(40)]
    lines[7] = _line(7).replace('"mode": "INPUT"', '"mode": "IN\\u0050UT"')
    lines[9] = "{not json"
    lines[11] = _line(3)  # a duplicate id
    buf = ("\n".join(lines) + "\n").encode()

    def read() -> tuple[Any, Counter[str]]:
        bad: Counter[str] = Counter()
        parts, n = _capture_object(buf, 0, cfg.features, bad)
        assert n == len(lines)
        rows = [(p.order.tolist(), p.rid.tolist(), [f.tolist() for f in p.feats], p.scal.tolist()) for p in parts
                if p.n]
        return sorted(rows), bad

    fast = read()
    monkeypatch.setattr(linescan, "scan_fields", lambda *a, **k: None)  # the general path for every chunk
    assert read() == fast
    assert fast[1] == Counter({"unparseable_line": 1})
