"""Vectorised building blocks of the columnar window reader (:mod:`driftline_common.datasets`).

Everything here works on whole objects as numpy byte arrays, never on Python objects per record:

- :func:`inflate` — an object's bytes, gunzipped by streaming with a hard cap on the decompressed size;
- :func:`json_lines_fields` — the string fields of JSON Lines records that share a layout, found by locating the
  (unescaped) quotes of every line at once and checking each line's keys and punctuation against a template
  learnt from one parsed line. A line that does not fit byte for byte is returned for per-record parsing;
- :func:`csv_cells` / :func:`parse_floats` — cells of single-line CSV payloads and their numbers, parsed in one
  pass over the joined payloads (``numpy.fromstring``, the same correctly rounded conversion as ``float``);
- :func:`group_ids` / :func:`lookup` — duplicate detection and joins on byte-string ids through a 64-bit hash
  sort (verified, so a hash collision can never join two different ids).

The rule everywhere: a fast path accepts a value only when it provably decodes to what the per-record parser
would produce; anything else is handed back to that parser, so bad records are counted exactly as before.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

QUOTE, BACKSLASH, NEWLINE, COMMA = 34, 92, 10, 44
#: lines of one object are processed in chunks of about this many bytes (bounds the temporary arrays)
CHUNK_BYTES = 8 << 20
_NUMERIC_BYTES = np.zeros(256, dtype=bool)
_NUMERIC_BYTES[list(b"0123456789.eE+-")] = True


class ObjectTooLarge(Exception):
    """The decompressed object would exceed the configured cap."""


# ---------------------------------------------------------------------------------------------------- bytes
def inflate(raw: bytes, max_bytes: int) -> bytes:
    """``raw`` gunzipped when it is gzip (every member), never holding more than ``max_bytes`` of output.

    Raises :class:`ObjectTooLarge` past the cap and ``OSError``/``EOFError``/``zlib.error`` on corrupt data.
    """
    if raw[:2] != b"\x1f\x8b":
        if len(raw) > max_bytes:
            raise ObjectTooLarge(len(raw))
        return raw
    out = bytearray()
    data = raw
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        while pending:
            chunk = d.decompress(pending, max_bytes + 1 - len(out))
            out += chunk
            if len(out) > max_bytes:
                raise ObjectTooLarge(len(out))
            pending = d.unconsumed_tail
            if not chunk and not pending:
                break
        if not d.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        data = d.unused_data.lstrip(b"\x00")  # gzip allows trailing zero padding between members
        if data and data[:2] != b"\x1f\x8b":
            raise OSError("not a gzipped file")
    return bytes(out)


def line_bounds(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` of the ``\\n``-separated lines of ``a`` (``ends`` excludes the newline)."""
    nl = np.flatnonzero(a == NEWLINE)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [a.size]))
    if starts.size > 1 and starts[-1] == a.size:  # a final newline ends the last line
        starts, ends = starts[:-1], ends[:-1]
    return starts.astype(np.int64), ends.astype(np.int64)


def chunks(buf: bytes, size: int = CHUNK_BYTES) -> list[tuple[int, int]]:
    """Byte ranges of ``buf`` of about ``size`` bytes each, cut after a newline."""
    out = []
    start = 0
    n = len(buf)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = buf.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else (buf.find(b"\n", end) + 1 or n)
        out.append((start, end))
        start = end
    return out


def gather(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The byte strings ``a[starts[i]:ends[i]]`` as a fixed-width ``S`` array (vectorised)."""
    n = starts.size
    lengths = ends - starts
    width = int(lengths.max()) if n else 0
    if width == 0:
        return np.zeros(n, dtype="S1")
    idx = starts[:, None] + np.arange(width)
    mat = a[np.minimum(idx, a.size - 1)]
    mat[idx >= ends[:, None]] = 0
    return np.ascontiguousarray(mat).view(f"S{width}").reshape(n)


def concat(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, sep: int = NEWLINE) -> np.ndarray:
    """``sep.join(a[s:e] ...)`` + a final ``sep``, as a uint8 array (vectorised gather)."""
    lengths = ends - starts + 1
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.cumsum(lengths) - lengths
    idx = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
    out = a[np.minimum(idx, a.size - 1)]
    out[np.cumsum(lengths) - 1] = sep
    return out


def _contains(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For sorted disjoint spans ``[starts, ends)``, whether each holds one of the sorted ``positions``."""
    if positions.size == 0 or starts.size == 0:
        return np.zeros(starts.size, dtype=bool)
    first = np.searchsorted(positions, starts, "left")
    return (first < positions.size) & (positions[np.minimum(first, positions.size - 1)] < ends)


# ---------------------------------------------------------------------------------------------------- JSON Lines
def _structural_quotes(a: np.ndarray) -> np.ndarray:
    """Positions of the quotes of ``a`` that are not escaped (preceded by an even number of backslashes)."""
    q = np.flatnonzero(a == QUOTE)
    bs = a == BACKSLASH
    if q.size == 0 or not bs.any():
        return q
    idx = np.arange(a.size, dtype=np.int64)
    last_plain = np.maximum.accumulate(np.where(bs, -1, idx))
    prev = q - 1
    run = np.where(prev >= 0, prev - last_plain[np.maximum(prev, 0)], 0)
    return q[run % 2 == 0]


def _template(obj: Any) -> list[tuple[str, Any]] | None:
    """The strings of a parsed JSON object in document order: ``("k", path)`` or ``("v", path)``."""
    out: list[tuple[str, Any]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                out.append(("k", (*path, k)))
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))
        elif isinstance(value, str):
            out.append(("v", path))

    if not isinstance(obj, dict):
        return None
    walk(obj, ())
    return out


def unescape(raw: np.ndarray | Sequence[bytes]) -> list[str] | None:
    """JSON string bodies (still escaped) decoded in one call; ``None`` when any is not a valid JSON string."""
    try:
        out = orjson.loads(b'["' + b'","'.join(raw) + b'"]')
    except orjson.JSONDecodeError:
        return None
    return out if isinstance(out, list) and len(out) == len(raw) else None


class LineFields:
    """The fields of the template-matching lines of one chunk (see :func:`json_lines_fields`)."""

    def __init__(self, a: np.ndarray, lines: np.ndarray, spans: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]],
                 keys: set[tuple[Any, ...]]) -> None:
        self.a = a
        self.lines = lines  # indices (in the chunk) of the matched lines
        self.spans = spans  # path -> (starts, ends) of the raw (escaped) string value, per matched line
        self.keys = keys  # the paths of every key of the layout (a key whose value is not a string too)


def json_lines_fields(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, paths: Sequence[tuple[Any, ...]],
                      *, max_templates: int = 4) -> tuple[list[LineFields], np.ndarray]:
    """Locate the string values at ``paths`` in every line that shares a layout with a parsed line.

    Returns the matched groups and a boolean mask of the lines left for per-record parsing (lines with control
    characters or Unicode line separators, layouts that do not fit, and lines whose template line is not a JSON
    object). Empty lines are neither matched nor left.
    """
    n = starts.size
    rest = ends > starts
    groups: list[LineFields] = []
    if n == 0:
        return groups, rest
    # lines that a per-record parser would split differently or reject: control characters, U+0085/2028/2029
    odd = np.flatnonzero((a < 0x20) & (a != NEWLINE))
    c2 = np.flatnonzero(a == 0xC2)
    c2 = c2[(c2 + 1 < a.size) & (a[np.minimum(c2 + 1, a.size - 1)] == 0x85)]
    e2 = np.flatnonzero(a == 0xE2)
    e2 = e2[(e2 + 2 < a.size)]
    e2 = e2[(a[e2 + 1] == 0x80) & ((a[e2 + 2] == 0xA8) | (a[e2 + 2] == 0xA9))]
    bad_pos = np.sort(np.concatenate((odd, c2, e2)))
    clean = rest & ~_contains(bad_pos, starts, ends)

    q = _structural_quotes(a)
    backslashes = np.flatnonzero(a == BACKSLASH)
    line_of = np.searchsorted(starts, q, "right") - 1
    counts = np.bincount(line_of, minlength=n)
    first_q = np.cumsum(counts) - counts
    candidates = clean & (counts > 0) & (counts % 2 == 0)
    tried = 0
    for c in np.unique(counts[candidates]):
        if tried >= max_templates:
            break
        rows = np.flatnonzero(candidates & (counts == c))
        tmpl = None
        for t in rows[:3]:
            try:
                obj = orjson.loads(a[starts[t]:ends[t]].tobytes())
            except orjson.JSONDecodeError:
                continue
            tmpl = _template(obj)
            if tmpl is not None and len(tmpl) * 2 == c:
                break
            tmpl = None
        tried += 1
        if tmpl is None:
            continue
        qt = q[first_q[t]:first_q[t] + c]
        # literal pieces (between strings, including the line's prefix and suffix) and keys must match exactly
        qm = q[first_q[rows][:, None] + np.arange(c)]  # (m, c)
        ok = np.ones(rows.size, dtype=bool)
        piece_starts = [starts[t], *(qt[1::2] + 1)]
        piece_ends = [*qt[0::2], ends[t]]
        m_starts = [starts[rows], *(qm[:, 1::2].T + 1)]
        m_ends = [*qm[:, 0::2].T, ends[rows]]
        for ps, pe, ms, me in zip(piece_starts, piece_ends, m_starts, m_ends, strict=True):
            expected = a[ps:pe]
            ok &= (me - ms) == expected.size
            if expected.size:
                ok &= np.all(a[np.minimum(ms[:, None] + np.arange(expected.size), a.size - 1)] == expected, axis=1)
        spans: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        valid_template = True
        for i, (kind, what) in enumerate(tmpl):
            s_t, e_t = qt[2 * i] + 1, qt[2 * i + 1]
            if kind == "k":
                key = str(what[-1]).encode()
                if a[s_t:e_t].tobytes() != key:  # an escaped or duplicate key: not a usable template
                    valid_template = False
                    break
                ms, me = qm[:, 2 * i] + 1, qm[:, 2 * i + 1]
                ok &= (me - ms) == len(key)
                if key:
                    ok &= np.all(a[np.minimum(ms[:, None] + np.arange(len(key)), a.size - 1)]
                                 == np.frombuffer(key, np.uint8), axis=1)
            elif what in paths:
                spans[what] = (qm[:, 2 * i] + 1, qm[:, 2 * i + 1])
            else:  # a value nobody reads must still be a valid JSON string: escapes are left to the parser
                ok &= ~_contains(backslashes, qm[:, 2 * i] + 1, qm[:, 2 * i + 1])
        if not valid_template or not ok.any():
            continue
        keep = np.flatnonzero(ok)
        spans = {p: (s[keep], e[keep]) for p, (s, e) in spans.items()}
        groups.append(LineFields(a, rows[keep], spans, {w for kind, w in tmpl if kind == "k"}))
        rest[rows[keep]] = False
    return groups, rest


def string_column(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decoded JSON string values as UTF-8 ``S`` bytes, and a mask of the values that are valid JSON strings.

    Values without a backslash are their own bytes; the others are unescaped (rare for ids and times).
    """
    col = gather(a, starts, ends)
    ok = np.ones(starts.size, dtype=bool)
    esc = _contains(np.flatnonzero(a == BACKSLASH), starts, ends)
    if esc.any():
        idx = np.flatnonzero(esc)
        values: list[bytes] = []
        for i in idx.tolist():
            try:
                v = orjson.loads(b'"' + a[starts[i]:ends[i]].tobytes() + b'"')
                values.append(v.encode("utf-8"))
            except (orjson.JSONDecodeError, UnicodeEncodeError):
                ok[i] = False
                values.append(b"")
        width = max(col.dtype.itemsize, *(len(v) for v in values))
        col = col.astype(f"S{width}")
        col[idx] = values
    return col, ok


# ---------------------------------------------------------------------------------------------------- CSV cells
def csv_cells(blob: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cells_per_line, cell_starts, cell_ends)`` of ``n`` newline-terminated lines without quotes.

    ``cell_starts``/``cell_ends`` are flat, line after line; line ``i`` owns ``cells_per_line[i]`` of them.
    """
    seps = np.flatnonzero((blob == COMMA) | (blob == NEWLINE))
    is_nl = blob[seps] == NEWLINE
    line_of_sep = np.cumsum(is_nl) - is_nl
    per_line = np.bincount(line_of_sep, minlength=n)[:n]
    cell_ends = seps
    cell_starts = np.concatenate(([0], seps[:-1] + 1)) if seps.size else seps
    return per_line, cell_starts, cell_ends


def numeric_tokens_ok(blob: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per cell: non-empty and made only of ``0-9 . e E + -`` (the only cells the bulk float parse takes)."""
    bad = np.flatnonzero(~_NUMERIC_BYTES[blob])
    return (ends > starts) & ~_contains(bad, starts, ends)


def parse_floats(blob: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of the cells ``blob[starts[i]:ends[i]]`` (already :func:`numeric_tokens_ok`).

    One ``numpy.fromstring`` pass over the cells joined by commas (``PyOS_string_to_double``: the conversion
    ``float()`` uses). A cell that does not parse stops the pass: the cells around the stop are marked not ok and
    the pass resumes after them, so ``ok`` is exact for well-formed cells and conservative around bad ones.
    """
    n = starts.size
    values = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    pos = 0
    retries = 0
    while pos < n:
        joined = concat(blob, starts[pos:], ends[pos:], COMMA).tobytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = np.fromstring(joined, sep=",")
            except ValueError:  # a numpy that raises instead of stopping early: decide cell by cell
                got = np.asarray(_floats_until_bad(joined), dtype=np.float64)
        m = min(got.size, n - pos)
        if m == n - pos:
            values[pos:] = got[:m]
            ok[pos:] = True
            break
        # cells pos .. pos+m-2 parsed fully; cell pos+m-1 may be a partial parse of a bad cell, pos+m failed
        good = max(m - 1, 0)
        values[pos:pos + good] = got[:good]
        ok[pos:pos + good] = True
        pos += good + 2 if m else 1
        retries += 1
        if retries > 64:  # many bad cells: leave the rest to the per-record parser
            break
    ok &= np.isfinite(values)
    return values, ok


def _floats_until_bad(joined: bytes) -> list[float]:
    out = []
    for cell in joined.split(b","):
        try:
            out.append(float(cell))
        except ValueError:
            break
    return out


# ---------------------------------------------------------------------------------------------------- ids
def hash_ids(ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each byte string of an ``S`` array (vectorised; equal strings, equal hashes)."""
    n = ids.size
    width = ids.dtype.itemsize
    words = -(-width // 8)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :width] = ids.view(np.uint8).reshape(n, width)
    w = padded.view(np.uint64).reshape(n, words)
    h = np.full(n, 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(words):
            h ^= w[:, j]
            h *= np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(32)
    return h


def group_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, last)``: for each distinct id (ordered by first occurrence), its first and last row."""
    n = ids.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    h = hash_ids(ids)
    perm = np.argsort(h, kind="stable")
    hs = h[perm]
    ids_sorted = ids[perm]
    new = np.ones(n, dtype=bool)
    new[1:] = hs[1:] != hs[:-1]
    same_hash_diff_id = ~new[1:] & (ids_sorted[1:] != ids_sorted[:-1])
    if same_hash_diff_id.any():  # a 64-bit collision: sort on the strings themselves
        perm = np.argsort(ids, kind="stable")
        ids_sorted = ids[perm]
        new = np.ones(n, dtype=bool)
        new[1:] = ids_sorted[1:] != ids_sorted[:-1]
    group_start = np.flatnonzero(new)
    group_end = np.concatenate((group_start[1:], [n])) - 1
    first = perm[group_start]
    last = perm[group_end]
    order = np.argsort(first, kind="stable")
    return first[order].astype(np.int64), last[order].astype(np.int64)


def lookup(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Index into the distinct ``keys`` of each of ``ids`` (``-1`` when absent)."""
    if keys.size == 0 or ids.size == 0:
        return np.full(ids.size, -1, dtype=np.int64)
    width = max(keys.dtype.itemsize, ids.dtype.itemsize)
    keys = keys.astype(f"S{width}")
    ids = ids.astype(f"S{width}")
    hk = hash_ids(keys)
    perm = np.argsort(hk, kind="stable")
    hs = hk[perm]
    if np.any(hs[1:] == hs[:-1]):  # a collision among distinct keys: search the strings themselves
        perm = np.argsort(keys, kind="stable")
        ks = keys[perm]
        pos = np.minimum(np.searchsorted(ks, ids), ks.size - 1)
        found = ks[pos] == ids
    else:
        hi = hash_ids(ids)
        pos = np.minimum(np.searchsorted(hs, hi), hs.size - 1)
        found = (hs[pos] == hi) & (keys[perm[pos]] == ids)
    return np.where(found, perm[pos], -1).astype(np.int64)
