"""JSON Lines fields by one regular-expression pass per chunk (the fast front of the columnar reader).

SageMaker writes every record of an endpoint in one layout: the same keys in the same order, the same
punctuation, only the contents of the string values change. :func:`scan_fields` parses one line with orjson,
turns its *skeleton* (everything but the contents of its string values) into a regular expression —
the skeleton's bytes literally, each string value as a character class — and runs that expression over the
whole chunk at once (``re.findall``: C speed, no Python object per record but the few field values we read).

A line matches only when it is the template line's skeleton byte for byte with string values that hold no
quote, no control character and (for the values nobody reads) no escape; the values we read may hold escapes,
which the callers validate (or hand back) exactly as for :func:`columnar.json_lines_fields`. Every other line
— another layout, malformed JSON, ``NaN``, control characters, a Unicode line separator (the per-record
reader splits lines as ``str.splitlines`` does) — is returned for the existing paths (other templates, then
the per-record parser), so what a line decodes to never depends on which path read it.

The result is a :class:`columnar.LineFields` over a compact buffer holding only the values read (each value
followed by a newline), so the bulk decoders of :mod:`driftline_common.datasets` work on it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import compress
from typing import Any

import numpy as np
import orjson

from driftline_common import columnar as col

#: a value that is read: any run of unescaped non-quote, non-control bytes and escapes (validated later)
_READ = rb'((?:[^"\\\x00-\x1f]++|\\[^\x00-\x1f])*+)'
#: a value nobody reads: no escape at all (an escape there is left to the per-record parser, as before)
_SKIP = rb'[^"\\\x00-\x1f]*+'
#: non-ASCII characters that make ``str.splitlines`` break a line (U+0085, U+2028, U+2029): chunks holding one
#: are not scanned (the ASCII ones, ``\r``, ``\x0b``, ``\x0c``, ``\x1c``-``\x1e``, never match a template)
_SPLITTERS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
#: a chunk leaves at least this many lines to the other layouts before they are searched in bulk
MIN_BULK_REST = 32


class Template:
    """A compiled layout: the expression, the paths of its groups and the paths of all its keys."""

    def __init__(self, pattern: re.Pattern[bytes], paths: list[tuple[Any, ...]], keys: set[tuple[Any, ...]]
                 ) -> None:
        self.pattern = pattern
        self.paths = paths
        self.keys = keys


def _quotes(line: bytes) -> list[int] | None:
    """Positions of the unescaped quotes of one line (``None`` when it holds a control byte)."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c < 0x20:
            return None
        if c == 92:
            i += 2
            continue
        if c == 34:
            out.append(i)
        i += 1
    return out


def template(line: bytes, paths: Sequence[tuple[Any, ...]]) -> Template | None:
    """The expression matching the lines laid out as ``line`` (a JSON object), capturing ``paths``' values.

    ``None`` when the line is not a JSON object, holds a control byte or an escaped key.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    tmpl = col._template(obj)
    q = _quotes(line)
    if tmpl is None or q is None or len(q) != 2 * len(tmpl) or any(s in line for s in _SPLITTERS):
        return None
    parts = [b"^("]
    groups: list[tuple[Any, ...]] = []
    prev = 0
    first = True
    for i, (kind, path) in enumerate(tmpl):
        qs, qe = q[2 * i], q[2 * i + 1]
        if kind == "k":
            if line[qs + 1:qe] != str(path[-1]).encode():
                return None  # an escaped key
            continue
        literal = line[prev:qs + 1]
        if first:  # the first byte is a group of its own (a cached one-byte object): it marks a matched line
            literal = re.escape(literal[:1]) + b")" + re.escape(literal[1:])
            first = False
        else:
            literal = re.escape(literal)
        parts.append(literal)
        if path in paths and path not in groups:
            parts.append(_READ)
            groups.append(path)
        else:
            parts.append(_SKIP)
        prev = qe
    if first:  # no string value at all: nothing to read
        return None
    parts.append(re.escape(line[prev:]))
    # every line yields exactly one match: the template's groups, or the whole line in the last group
    pattern = b"^(?:" + b"".join(parts) + rb"|(.*?))\r?$"
    return Template(re.compile(pattern, re.MULTILINE), groups, {w for kind, w in tmpl if kind == "k"})


def _fields(t: Template, values: list[list[bytes]], lines: np.ndarray) -> col.LineFields:
    """A :class:`columnar.LineFields` over a buffer of the read values, each followed by a newline.

    A matched value holds no raw control byte, so the newlines of the buffer are exactly its separators.
    """
    buf = b"\n".join([b"\n".join(column) for column in values]) + b"\n" if values else b""
    a = np.frombuffer(buf, dtype=np.uint8)
    ends = np.flatnonzero(a == col.NEWLINE)
    starts = np.concatenate(([0], ends[:-1] + 1)) if ends.size else ends
    backslashes = np.flatnonzero(a == col.BACKSLASH) if b"\\" in buf else np.zeros(0, dtype=np.int64)
    m = lines.size
    spans: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
    escapes: dict[tuple[Any, ...], np.ndarray] = {}
    for j, path in enumerate(t.paths):
        s, e = starts[j * m:(j + 1) * m], ends[j * m:(j + 1) * m]
        spans[path] = (s, e)
        escapes[path] = (np.searchsorted(backslashes, e) - np.searchsorted(backslashes, s) if backslashes.size
                         else np.zeros(m, dtype=np.int64))
    return col.LineFields(a, lines, spans, t.keys, backslashes, np.zeros(0, dtype=np.int64), escapes)


def scan_fields(chunk: bytes, n_lines: int, paths: Sequence[tuple[Any, ...]], *, tries: int = 3
                ) -> tuple[list[col.LineFields], np.ndarray] | None:
    """The fields of the lines of ``chunk`` that share the layout of its first parseable line.

    Returns the matched group (zero or one) and the mask of the ``n_lines`` lines left for the other paths,
    or ``None`` when this chunk is not scanned at all (line separators other than ``\\n``, or the scan did not
    see ``n_lines`` lines): the caller then uses :func:`columnar.json_lines_fields` for the whole chunk.
    """
    if not chunk.isascii() and any(s in chunk for s in _SPLITTERS):
        return None
    rest = np.ones(n_lines, dtype=bool)
    t = None
    pos = 0
    for _ in range(tries):
        nl = chunk.find(b"\n", pos)
        line = chunk[pos:nl if nl >= 0 else len(chunk)]
        line = line[:-1] if line.endswith(b"\r") else line
        t = template(line, paths) if line.strip() else None
        if t is not None or nl < 0:
            break
        pos = nl + 1
    if t is None:
        return [], rest
    found = t.pattern.findall(chunk)
    if chunk.endswith(b"\n") and found:
        found.pop()  # the empty match after the final newline (not a line)
    if len(found) != n_lines:
        return None
    columns = list(zip(*found, strict=True)) if found else [()] * (len(t.paths) + 2)
    if n_lines and len(b"".join(columns[0])) == n_lines:  # one marker byte per line: every line matched
        lines: np.ndarray = np.arange(n_lines)
        values = [list(columns[1 + j]) for j in range(len(t.paths))]
        rest[:] = False
    else:
        hit = np.fromiter(map(bool, columns[0]), dtype=bool, count=n_lines)
        lines = np.flatnonzero(hit)
        values = [list(compress(columns[1 + j], hit.tolist())) for j in range(len(t.paths))]
        empty = np.fromiter(map(len, columns[-1]), dtype=np.int64, count=n_lines) == 0
        rest[lines] = False
        rest[empty & ~hit] = False  # empty lines are neither matched nor left (as json_lines_fields)
    if not lines.size:
        return [], rest
    return [_fields(t, values, lines)], rest


def chunk_fields(chunk: bytes, a: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 paths: Sequence[tuple[Any, ...]]) -> tuple[list[col.LineFields], np.ndarray]:
    """:func:`scan_fields`, then :func:`columnar.json_lines_fields` for what it leaves (other layouts).

    Same contract as :func:`columnar.json_lines_fields`: the matched groups and the mask of the lines left for
    the per-record parser (``a``/``starts``/``ends``: the chunk as bytes and its lines, ``\r\n`` stripped).
    """
    got = scan_fields(chunk, starts.size, paths)
    if got is None:
        return col.json_lines_fields(a, starts, ends, paths)
    groups, rest = got
    idx = np.flatnonzero(rest)
    if idx.size >= MIN_BULK_REST:
        more, left = col.json_lines_fields(a, starts[idx], ends[idx], paths)
        for g in more:
            g.lines = idx[g.lines]
        rest[idx] = left
        groups = [*groups, *more]
    return groups, rest
