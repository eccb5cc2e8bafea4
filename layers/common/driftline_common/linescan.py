"""JSON Lines fields in bulk with msgspec (the fast front of the columnar reader).

A chunk of JSON Lines is decoded in one call (``msgspec.json.Decoder(...).decode_lines``) into typed
``msgspec.Struct`` records that declare only the keys the reader needs; every other key is validated and skipped
in C, and each value read is kept as ``msgspec.Raw`` — its JSON text exactly as it appears in the line (a string
still quoted and escaped). :func:`chunk_fields` joins those raw values into a :class:`columnar.LineFields` (a
compact buffer holding only the values read, each followed by a newline), so the bulk decoders of
:mod:`driftline_common.bulk_payloads` and :mod:`driftline_common.json_payloads` work on them unchanged.

msgspec is stricter than the per-record parser (orjson, then the standard library): it rejects ``NaN``,
``Infinity``, lone surrogate escapes, control characters in strings, trailing commas… exactly as orjson does, and
accepts what orjson accepts (huge integers and ``1e400`` are skipped as valid numbers, duplicate keys keep the
last value, as ``dict`` does). A line it rejects, a line whose read value is not a string (a number id, a
``null`` payload, a missing ``data``) or whose container is not an object goes to the per-record parser, which
decides it exactly as before. When one line of a chunk fails, the chunk's lines are decoded one by one (the
others are still taken in bulk). A missing key reads as the per-record parser's default (``encoding``: ``CSV``;
ids: empty; anything else: not a string, so per record).

Chunks holding a line break that ``str.splitlines`` (the per-record reader's split) sees and JSON does not —
U+0085, U+2028, U+2029 or a ``\\r`` not followed by ``\\n`` — are read by :func:`columnar.json_lines_fields`,
which leaves the lines holding them to the per-record parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from operator import attrgetter
from typing import Any

import msgspec
import numpy as np

from driftline_common import columnar as col

#: non-ASCII characters that make ``str.splitlines`` break a line (U+0085, U+2028, U+2029)
_SPLITTERS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
#: the value a missing key reads as (the per-record parser's default); any other missing value is not a string
_DEFAULTS = {"encoding": b'"CSV"', "eventId": b'""', "inferenceId": b'""'}
_NOT_A_STRING = b"null"

Path = tuple[Any, ...]


def _struct(name: str, paths: Sequence[Path]) -> type:
    """A Struct type holding the leaves of ``paths`` (``msgspec.Raw``) under their nested objects."""
    fields: list[tuple[str, Any, Any]] = []
    for key in dict.fromkeys(str(p[0]) for p in paths):
        below = [p[1:] for p in paths if p[0] == key]
        if below == [()]:
            fields.append((key, msgspec.Raw, msgspec.Raw(_DEFAULTS.get(key, _NOT_A_STRING))))
        else:
            sub = _struct(f"{name}_{key}", [p for p in below if p])
            fields.append((key, sub, msgspec.field(default_factory=sub)))
    return msgspec.defstruct(name, fields, gc=False)


@cache
def _reader(paths: tuple[Path, ...]) -> tuple[msgspec.json.Decoder[Any], list[Any], set[Path]]:
    """The decoder of records holding ``paths``, a getter per path and every key path (prefixes included)."""
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_struct("Record", paths))
    getters = [attrgetter(".".join(str(k) for k in p)) for p in paths]
    keys = {p[:i] for p in paths for i in range(1, len(p) + 1)}
    return decoder, getters, keys


def _lines_of(chunk: bytes, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray) -> list[bytes]:
    return [chunk[i:j] for i, j in zip(starts[lines].tolist(), ends[lines].tolist(), strict=True)]


def _decode(decoder: msgspec.json.Decoder[Any], chunk: bytes, starts: np.ndarray, ends: np.ndarray
            ) -> tuple[list[Any], np.ndarray]:
    """The records of the chunk's lines that decode, and their line indices (blank lines are neither)."""
    n = starts.size
    try:
        recs = decoder.decode_lines(chunk)
    except (msgspec.DecodeError, msgspec.ValidationError):
        recs = None
    nonblank = np.flatnonzero(ends > starts)
    if recs is not None:
        if len(recs) == n:
            return recs, np.arange(n)
        blank = [not line.strip(b" \t\r") for line in _lines_of(chunk, starts, ends, nonblank)]
        nonblank = nonblank[~np.asarray(blank, dtype=bool)] if blank else nonblank
        if len(recs) == nonblank.size:
            return recs, nonblank
    # one line (at least) is not what the decoder accepts: line by line, the others still in bulk
    return decode_each(decoder, _lines_of(chunk, starts, ends, nonblank), nonblank)


def decode_each(decoder: msgspec.json.Decoder[Any], lines: Sequence[bytes], index: np.ndarray
                ) -> tuple[list[Any], np.ndarray]:
    """The ``lines`` the decoder takes, one call each, and their ``index`` values (the others are skipped)."""
    out: list[Any] = []
    taken: list[int] = []
    decode = decoder.decode
    for i, line in zip(index.tolist(), lines, strict=False):
        try:
            out.append(decode(line))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        taken.append(i)
    return out, np.asarray(taken, dtype=np.int64)


class _Escapes(dict[Path, np.ndarray]):
    """The number of backslashes in each value of a path, counted when first asked (most paths hold none, and
    the JSON payloads' are never asked)."""

    def __init__(self, a: np.ndarray, spans: dict[Path, tuple[np.ndarray, np.ndarray]], has: dict[Path, bool]
                 ) -> None:
        super().__init__()
        self.a, self.spans, self.has = a, spans, has

    def __missing__(self, path: Path) -> np.ndarray:
        s, e = self.spans[path]
        if not self.has[path] or not s.size:
            out: np.ndarray = np.zeros(s.size, dtype=np.int64)
        else:
            lo = int(s[0])
            bs = np.flatnonzero(self.a[lo:int(e[-1])] == col.BACKSLASH) + lo
            out = np.searchsorted(bs, e) - np.searchsorted(bs, s)
        self[path] = out
        return out


def scan_fields(chunk: bytes, starts: np.ndarray, ends: np.ndarray, paths: Sequence[Path]
                ) -> tuple[list[col.LineFields], np.ndarray] | None:
    """The string values at ``paths`` of every line of ``chunk`` that msgspec decodes and where all are strings.

    ``starts``/``ends``: the chunk's lines (``\\r\\n`` stripped). Returns the group (zero or one) and the mask of
    the lines left to the per-record parser (blank lines are neither), or ``None`` when the chunk holds a line
    break JSON does not see (the caller then uses :func:`columnar.json_lines_fields`).
    """
    if not chunk.isascii() and any(s in chunk for s in _SPLITTERS):
        return None
    if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n"):
        return None
    rest = ends > starts
    decoder, getters, keys = _reader(tuple(paths))
    recs, lines = _decode(decoder, chunk, starts, ends)
    m = lines.size
    if not m:
        return [], rest
    # each path's raw values, one per line; when every one is a string (the usual case: a JSON value that starts
    # and ends with a quote is one), their contents are the column with each quote-newline-quote boundary (which
    # only a boundary holds: a value has no raw newline) made a newline, without its first and last quotes
    columns = [b"\n".join(map(get, recs)) for get in getters]
    contents = [c.replace(b'"\n"', b"\n") for c in columns]
    if not all(c[:1] == b'"' and c[-1:] == b'"' and len(r) == len(c) - 2 * (m - 1)
               for c, r in zip(columns, contents, strict=True)):
        is_str = np.ones(m, dtype=bool)
        for get in getters:
            is_str &= np.fromiter((bytes(v)[:1] == b'"' for v in map(get, recs)), dtype=bool, count=m)
        rest[lines[~is_str]] = True
        recs = [r for r, good in zip(recs, is_str.tolist(), strict=True) if good]
        lines = lines[is_str]
        m = lines.size
        rest[lines] = False
        if not m:
            return [], rest
        contents = [b"\n".join(map(get, recs)).replace(b'"\n"', b"\n") for get in getters]
    else:
        rest[lines] = False
    # the contents of every value read, each followed by a newline
    buf = b"\n".join([memoryview(c)[1:-1] for c in contents]) + b"\n"
    a = np.frombuffer(buf, dtype=np.uint8)
    v_ends = np.flatnonzero(a == col.NEWLINE)
    v_starts = np.concatenate(([0], v_ends[:-1] + 1))
    spans = {path: (v_starts[j * m:(j + 1) * m], v_ends[j * m:(j + 1) * m]) for j, path in enumerate(paths)}
    escapes = _Escapes(a, spans, {path: b"\\" in c for path, c in zip(paths, contents, strict=True)})
    return [col.LineFields(a, lines, spans, keys, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                           escapes)], rest


def chunk_fields(chunk: bytes, a: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 paths: Sequence[Path]) -> tuple[list[col.LineFields], np.ndarray]:
    """:func:`scan_fields`, or :func:`columnar.json_lines_fields` for a chunk it does not read.

    Same contract as :func:`columnar.json_lines_fields`: the matched groups and the mask of the lines left for
    the per-record parser (``a``/``starts``/``ends``: the chunk as bytes and its lines, ``\\r\\n`` stripped).
    """
    got = scan_fields(chunk, starts, ends, paths)
    if got is None:
        return col.json_lines_fields(a, starts, ends, paths)
    return got
