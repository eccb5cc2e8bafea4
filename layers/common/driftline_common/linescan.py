"""JSON Lines fields in bulk with msgspec (the fast front of the columnar reader).

A chunk of JSON Lines is decoded in one call (``msgspec.json.Decoder(...).decode_lines``) into typed
``msgspec.Struct`` records that declare only the keys the reader needs, each read value a ``str``; every other key
is validated and skipped in C, and msgspec unescapes the strings in C. :func:`chunk_fields` lays those decoded
values out in a :class:`columnar.LineFields` with ``decoded=True`` (a compact UTF-8 buffer holding only the values
read, each followed by a newline; the spans come from the values' lengths, since a decoded value may hold a
newline), which the bulk decoders of :mod:`driftline_common.bulk_payloads` and
:mod:`driftline_common.json_payloads` read without unescaping. Its ``escapes`` count, per value, the bytes JSON
holds only escaped (control characters, quotes, backslashes): the CSV paths take a payload only when it holds
none but a final newline, exactly the payloads they take from raw (escaped) values.

msgspec is stricter than the per-record parser (orjson, then the standard library): it rejects ``NaN``,
``Infinity``, lone surrogate escapes, control characters in strings, trailing commas… exactly as orjson does, and
accepts what orjson accepts (huge integers and ``1e400`` are skipped as valid numbers, duplicate keys keep the
last value, as ``dict`` does). A line it rejects, a line whose read value is not a string (a number id, a
``null`` payload, a missing ``data``) or whose container is not an object goes to the per-record parser, which
decides it exactly as before. When one line of a chunk fails, the chunk's lines are decoded one by one (the
others are still taken in bulk). A missing key reads as the per-record parser's default (``encoding``: ``CSV``;
ids: empty; anything else: ``None``, so per record, as a ``null`` is).

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
_DEFAULTS = {"encoding": "CSV", "eventId": "", "inferenceId": ""}

Path = tuple[Any, ...]


def _struct(name: str, paths: Sequence[Path]) -> type:
    """A Struct type holding the leaves of ``paths`` (``str``; ``None`` when null or missing without a
    default) under their nested objects."""
    fields: list[tuple[str, Any, Any]] = []
    for key in dict.fromkeys(str(p[0]) for p in paths):
        below = [p[1:] for p in paths if p[0] == key]
        if below == [()]:
            fields.append((key, str | None, _DEFAULTS.get(key)))
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


def _decode(decoder: msgspec.json.Decoder[Any], chunk: bytes, lines: col.ChunkLines) -> tuple[list[Any], np.ndarray]:
    """The records of the chunk's lines that decode, and their line indices (blank lines are neither)."""
    try:
        recs = decoder.decode_lines(chunk)
    except (msgspec.DecodeError, msgspec.ValidationError):
        recs = None
    if recs is not None and len(recs) == lines.n:  # every line a record (the usual case): no bounds needed
        return recs, np.arange(lines.n)
    starts, ends = lines.bounds()
    nonblank = np.flatnonzero(ends > starts)
    if recs is not None:
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


#: the bytes a JSON string holds only escaped: control characters, the quote and the backslash
_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[:0x20] = True
_SPECIAL[[col.QUOTE, col.BACKSLASH]] = True


class _Specials(dict[Path, np.ndarray]):
    """The number of bytes of each decoded value of a path that JSON holds only escaped (control characters,
    quotes, backslashes), counted when first asked (the JSON payloads' are never asked). ``plain``: the paths
    known to hold no quote or backslash."""

    def __init__(self, a: np.ndarray, spans: dict[Path, tuple[np.ndarray, np.ndarray]], plain: set[Path]) -> None:
        super().__init__()
        self.a, self.spans, self.plain = a, spans, plain

    def __missing__(self, path: Path) -> np.ndarray:
        s, e = self.spans[path]
        out: np.ndarray = np.zeros(s.size, dtype=np.int64)
        if s.size:
            lo = int(s[0])
            region = self.a[lo:int(e[-1])]
            # the usual case, in two passes: no quote or backslash, and no control character but the separators
            if path not in self.plain or np.count_nonzero(region < 0x20) != s.size - 1:
                at = np.flatnonzero(_SPECIAL[region]) + lo
                out = np.searchsorted(at, e) - np.searchsorted(at, s)
        self[path] = out
        return out


def scan_fields(chunk: bytes, chunk_lines: col.ChunkLines, paths: Sequence[Path]
                ) -> tuple[list[col.LineFields], np.ndarray] | None:
    """The string values at ``paths`` of every line of ``chunk`` that msgspec decodes and where all are strings.

    ``chunk_lines``: the chunk's lines. Returns the group (zero or one; its values
    *decoded*: ``LineFields.decoded``) and the mask of the lines left to the per-record parser (blank lines are
    neither), or ``None`` when the chunk holds a line break JSON does not see (the caller then uses
    :func:`columnar.json_lines_fields`).
    """
    if not chunk.isascii() and any(s in chunk for s in _SPLITTERS):
        return None
    if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n"):
        return None
    decoder, getters, keys = _reader(tuple(paths))
    recs, lines = _decode(decoder, chunk, chunk_lines)
    columns: list[list[Any]] = [list(map(get, recs)) for get in getters]
    try:
        texts = ["\n".join(c) for c in columns]
    except TypeError:  # a null or missing value (None): the line goes to the per-record parser
        is_str = np.ones(lines.size, dtype=bool)
        for c in columns:
            is_str &= np.fromiter((v is not None for v in c), dtype=bool, count=len(c))
        keep = is_str.tolist()
        columns = [[v for v, k in zip(c, keep, strict=True) if k] for c in columns]
        lines = lines[is_str]
        texts = ["\n".join(c) for c in columns]
    m = lines.size
    rest: np.ndarray
    if m == chunk_lines.n:
        rest = np.zeros(m, dtype=bool)
    else:
        starts, ends = chunk_lines.bounds()
        rest = ends > starts
        rest[lines] = False
    if not m:
        return [], rest
    # the decoded values laid out path after path, each followed by a newline; in a path where no value holds a
    # newline (the usual case) every newline ends one, else the spans come from the values' UTF-8 lengths
    encoded = [t.encode() for t in texts]
    a = np.frombuffer(b"\n".join(encoded) + b"\n", dtype=np.uint8)
    ends_of: list[np.ndarray] = []
    offset = 0
    for c, t, b in zip(columns, texts, encoded, strict=True):
        if t.count("\n") == m - 1:
            ends_of.append(np.flatnonzero(a[offset:offset + len(b) + 1] == col.NEWLINE) + offset)
        else:
            size = np.fromiter(map(len, c) if len(b) == len(t) else map(len, map(str.encode, c)), dtype=np.int64,
                               count=m)
            ends_of.append(np.cumsum(size + 1) - 1 + offset)
        offset += len(b) + 1
    v_ends = np.concatenate(ends_of)
    v_starts = np.concatenate(([0], v_ends[:-1] + 1))
    spans = {path: (v_starts[j * m:(j + 1) * m], v_ends[j * m:(j + 1) * m]) for j, path in enumerate(paths)}
    empty = np.zeros(0, dtype=np.int64)
    plain = {path for path, text in zip(paths, texts, strict=True) if '"' not in text and "\\" not in text}
    return [col.LineFields(a, lines, spans, keys, empty, empty, _Specials(a, spans, plain), decoded=True)], rest


def chunk_fields(chunk_lines: col.ChunkLines, paths: Sequence[Path]) -> tuple[list[col.LineFields], np.ndarray]:
    """:func:`scan_fields`, or :func:`columnar.json_lines_fields` for a chunk it does not read.

    Same contract as :func:`columnar.json_lines_fields`: the matched groups and the mask of the lines left for
    the per-record parser.
    """
    got = scan_fields(chunk_lines.chunk, chunk_lines, paths)
    if got is None:
        return col.json_lines_fields(chunk_lines.a, *chunk_lines.bounds(), paths)
    return got
