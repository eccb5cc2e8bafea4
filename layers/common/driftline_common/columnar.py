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

import msgspec
import numpy as np
import orjson

QUOTE, BACKSLASH, NEWLINE, COMMA = 34, 92, 10, 44
#: lines of one object are processed in chunks of about this many bytes (bounds the temporary arrays)
CHUNK_BYTES = 8 << 20
_FLOATS: msgspec.json.Decoder[list[float]] = msgspec.json.Decoder(list[float])
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


class ChunkLines:
    """The lines of one chunk: their number at once; their bounds (``ends`` without a ``\\r`` before the
    ``\\n``: ``\\r\\n`` is one line break, as for ``str.splitlines``) when first asked — a chunk msgspec reads
    whole never needs them."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk
        self.a = np.frombuffer(chunk, dtype=np.uint8)
        self.n = chunk.count(b"\n") + (not chunk.endswith(b"\n"))  # (as many as line_bounds finds)
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self._bounds is None:
            a = self.a
            starts, ends = line_bounds(a)
            cr = (ends > starts) & (a[np.maximum(ends - 1, 0)] == 13)
            self._bounds = starts, np.where(cr, ends - 1, ends)
        return self._bounds


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
    if int(lengths.min()) == width and np.all(starts[1:] - starts[:-1] == width + 1):
        # equally long values one separator apart (fixed-length ids): one strided copy
        rows = np.lib.stride_tricks.as_strided(a[int(starts[0]):], shape=(n, width), strides=(width + 1, 1))
        return np.ascontiguousarray(rows).view(f"S{width}").reshape(n)
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
    lo, hi = int(starts[0]), int(ends[-1]) + 1
    if hi <= a.size and hi - lo <= 2 * total and np.all(starts[1:] > ends[:-1]):
        # ordered disjoint values close together (a subset of laid-out values, or cells): one pass over their
        # range, dropping what lies between a value's end (the separator's place) and the next value
        out = a[lo:hi]
        if not np.array_equal(starts[1:], ends[:-1] + 1):
            mark = (np.bincount(ends[:-1] + 1 - lo, minlength=hi - lo + 1)
                    - np.bincount(starts[1:] - lo, minlength=hi - lo + 1))
            out = out[np.cumsum(mark[:-1]) == 0]
        elif np.all(a[ends] == sep):  # already laid out so (values one separator apart): one copy
            return out.copy()
        else:
            out = out.copy()
        out[np.cumsum(lengths) - 1] = sep
        return out
    offsets = np.cumsum(lengths) - lengths
    idx = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
    out = a[np.minimum(idx, a.size - 1)]
    out[np.cumsum(lengths) - 1] = sep
    return out


def unique_bytes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.unique(values, return_inverse=True)`` of an ``S`` array (inverse flat); strings of up to 8 bytes are
    sorted as integers (their bytes big-endian, zero padded: the same order as the byte strings)."""
    width = values.dtype.itemsize
    if width > 8 or values.size == 0:
        uniq, inv = np.unique(values, return_inverse=True)
        return uniq, inv.reshape(-1)
    padded = np.zeros((values.size, 8), dtype=np.uint8)
    padded[:, :width] = values.view(np.uint8).reshape(values.size, width)
    keys, inv = np.unique(padded.view(">u8").reshape(-1), return_inverse=True)
    uniq = keys.astype(">u8").view(np.uint8).reshape(-1, 8)[:, :width].copy().view(f"S{width}").reshape(-1)
    return uniq, inv.reshape(-1)


def _contains(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For sorted disjoint spans ``[starts, ends)``, whether each holds one of the sorted ``positions``."""
    if positions.size == 0 or starts.size == 0:
        return np.zeros(starts.size, dtype=bool)
    first = np.searchsorted(positions, starts, "left")
    return (first < positions.size) & (positions[np.minimum(first, positions.size - 1)] < ends)


# ---------------------------------------------------------------------------------------------------- JSON Lines
def _structural_quotes(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The quotes ``q`` of ``a`` that are not escaped (preceded by an even number of backslashes)."""
    prev = np.maximum(q - 1, 0)
    active = (q > 0) & (a[prev] == BACKSLASH)
    if not active.any():
        return q
    run = np.zeros(q.size, dtype=np.int64)
    k = 1
    while active.any():
        run += active
        k += 1
        pos = q - k
        active &= (pos >= 0) & (a[np.maximum(pos, 0)] == BACKSLASH)
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
                 keys: set[tuple[Any, ...]], backslashes: np.ndarray, quotes: np.ndarray,
                 escapes: dict[tuple[Any, ...], np.ndarray], *, decoded: bool = False) -> None:
        self.a = a
        self.lines = lines  # indices (in the chunk) of the matched lines
        self.spans = spans  # path -> (starts, ends) of the raw (escaped) string value, per matched line
        self.keys = keys  # the paths of every key of the layout (a key whose value is not a string too)
        self.backslashes = backslashes  # positions of every backslash of the chunk
        self.quotes = quotes  # positions of every quote of the chunk
        # path -> per matched line, the number of backslashes in the raw value; with ``decoded``, of the bytes
        # JSON holds only escaped (control characters, quotes, backslashes) in the decoded value
        self.escapes = escapes
        self.decoded = decoded  # the spans hold the values decoded (msgspec), not their raw JSON string bodies


def json_lines_fields(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, paths: Sequence[tuple[Any, ...]],
                      *, max_templates: int = 4) -> tuple[list[LineFields], np.ndarray]:
    """Locate the string values at ``paths`` in every line that shares a layout with a parsed line.

    A line matches a template line when it has as many (unescaped) quotes and its skeleton — the line without
    the contents of its string values — is byte for byte the template's: same keys, same punctuation and
    spacing, same non-string values. Its values then sit where the template's do.

    Returns the matched groups and a boolean mask of the lines left for per-record parsing (lines with control
    characters or Unicode line separators, layouts that do not fit, and lines whose template line is not a JSON
    object). Empty lines are neither matched nor left.
    """
    n = starts.size
    rest = ends > starts
    groups: list[LineFields] = []
    if n == 0:
        return groups, rest
    quotes = np.flatnonzero(a == QUOTE)
    backslashes = np.flatnonzero(a == BACKSLASH)
    # lines that a per-record parser would split differently or reject: control characters, U+0085/2028/2029
    control = a < 0x20
    odd: np.ndarray = np.zeros(0, dtype=np.int64)
    if np.count_nonzero(control) > n - 1:  # more than the newlines between the lines
        odd = np.flatnonzero(control & (a != NEWLINE))
    high = np.flatnonzero(a >= 0xC2) if a.size and a.max() >= 0xC2 else odd[:0]
    if high.size:
        nxt = a[np.minimum(high + 1, a.size - 1)]
        nxt2 = a[np.minimum(high + 2, a.size - 1)]
        sep = ((a[high] == 0xC2) & (nxt == 0x85)) | ((a[high] == 0xE2) & (nxt == 0x80) & ((nxt2 == 0xA8)
                                                                                           | (nxt2 == 0xA9)))
        odd = np.sort(np.concatenate((odd, high[sep])))
    clean = rest & ~_contains(odd, starts, ends)
    q = _structural_quotes(a, quotes) if backslashes.size else quotes
    first_q = np.searchsorted(q, starts)
    counts = np.searchsorted(q, ends) - first_q
    candidates = clean & (counts > 0) & (counts % 2 == 0)
    values, freq = np.unique(counts[candidates], return_counts=True)
    for c in values[np.argsort(-freq, kind="stable")][:max_templates]:
        rows = np.flatnonzero(candidates & (counts == c))
        tmpl = None
        t = -1
        for t in rows[:3].tolist():
            try:
                obj = orjson.loads(a[starts[t]:ends[t]].tobytes())
            except orjson.JSONDecodeError:
                continue
            tmpl = _template(obj)
            if tmpl is not None and len(tmpl) * 2 == c:
                break
            tmpl = None
        if tmpl is None:
            continue
        keys = [str(w[-1]).encode() for kind, w in tmpl if kind == "k"]
        qm = q[first_q[rows][:, None] + np.arange(c)]  # (m, c) quote positions of the candidate lines
        value_idx = [i for i, (kind, _) in enumerate(tmpl) if kind == "v"]
        key_idx = [i for i, (kind, _) in enumerate(tmpl) if kind == "k"]
        qt = q[first_q[t]:first_q[t] + c]
        if any(a[qt[2 * i] + 1:qt[2 * i + 1]].tobytes() != k for i, k in zip(key_idx, keys, strict=True)):
            continue  # an escaped key: not a usable template
        vs = qm[:, [2 * i for i in value_idx]] + 1
        ve = qm[:, [2 * i + 1 for i in value_idx]]
        # the skeleton: the segments around the values (keys, quotes, punctuation, non-string values)
        seg_start = np.concatenate((starts[rows][:, None], ve), axis=1)
        seg_end = np.concatenate((vs, ends[rows][:, None]), axis=1)
        seg_len = seg_end - seg_start
        t_pos = int(np.flatnonzero(rows == t)[0])
        t_len = seg_len[t_pos]
        ok = np.all(seg_len == t_len, axis=1)
        sel = np.flatnonzero(ok)
        if sel.size:  # byte-for-byte comparison of every segment with the template line's
            same = np.ones(sel.size, dtype=bool)
            # 8 bytes at a time: overlapping unaligned 64-bit words at every byte offset of the chunk
            words: np.ndarray = np.ndarray((max(a.size - 7, 0),), dtype=np.uint64, buffer=a, strides=(1,))
            for j, (seg0, length) in enumerate(zip(seg_start[t_pos].tolist(), t_len.tolist(), strict=True)):
                if length >= 8:
                    offs = np.minimum(np.arange(0, length, 8), length - 8)
                    block = words[seg_start[sel, j][:, None] + offs]
                    same &= (block == words[seg0 + offs]).all(axis=1)
                elif length:
                    block = a[seg_start[sel, j][:, None] + np.arange(length)]
                    same &= (block == a[seg0:seg0 + length]).all(axis=1)
            ok[sel] = same
        # backslashes (escapes) in every value: a value nobody reads must have none (the parser decides those)
        esc = (np.searchsorted(backslashes, ve.ravel()) - np.searchsorted(backslashes, vs.ravel())).reshape(ve.shape)
        spans: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        escapes: dict[tuple[Any, ...], np.ndarray] = {}
        for j, i in enumerate(value_idx):
            path = tmpl[i][1]
            if path in paths:
                spans[path] = (vs[:, j], ve[:, j])
                escapes[path] = esc[:, j]
            else:
                ok &= esc[:, j] == 0
        if not ok.any():
            continue
        keep = np.flatnonzero(ok)
        spans = {p: (s_[keep], e_[keep]) for p, (s_, e_) in spans.items()}
        escapes = {p: v[keep] for p, v in escapes.items()}
        groups.append(LineFields(a, rows[keep], spans, {w for kind, w in tmpl if kind == "k"}, backslashes, quotes,
                                 escapes))
        rest[rows[keep]] = False
    return groups, rest


def string_column(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, escapes: np.ndarray | None = None,
                  *, decoded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Decoded JSON string values as UTF-8 ``S`` bytes, and a mask of the values that are valid JSON strings.

    Values without a backslash are their own bytes; the others are unescaped (rare for ids and times). With
    ``decoded`` (values msgspec decoded; ``escapes`` counts their control characters, quotes and backslashes)
    every value is its own bytes, and one holding a NUL is not ok (lost at the end of a fixed-width byte string).
    """
    col = gather(a, starts, ends)
    ok = np.ones(starts.size, dtype=bool)
    if decoded:
        special = _contains(np.flatnonzero(a < 0x20), starts, ends) if escapes is None else escapes > 0
        for i in np.flatnonzero(special).tolist():
            ok[i] = not np.any(a[starts[i]:ends[i]] == 0)
        return col, ok
    esc = _contains(np.flatnonzero(a == BACKSLASH), starts, ends) if escapes is None else escapes > 0
    if esc.any():
        idx = np.flatnonzero(esc)
        values: list[bytes] = []
        for i in idx.tolist():
            try:
                v = orjson.loads(b'"' + a[starts[i]:ends[i]].tobytes() + b'"')
                if "\x00" in v:  # lost at the end of a fixed-width byte string: per record
                    raise UnicodeEncodeError("utf-8", v, 0, 1, "NUL")
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
    bad = np.concatenate(([0], np.cumsum(~_NUMERIC_BYTES[blob], dtype=np.int32)))
    return (ends > starts) & (bad[ends] == bad[starts])


def json_floats(blob: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The cells ``blob[starts[i]:ends[i]]`` as floats when every one is a JSON number (the usual case): one
    msgspec decode of the cells as a JSON array, correctly rounded as ``float()`` (a ``-0`` cell, which msgspec reads
    as the integer 0, made ``-0.0`` as ``float`` reads it); ``None`` otherwise (``+1``, ``.5``, ``1e400``, ``nan``…).
    The cells must hold no JSON whitespace (the ``-0`` check looks at their first byte)."""
    n = starts.size
    if not n:
        return None
    array = concat(blob, starts, ends, COMMA)
    array[-1] = ord("]")
    try:
        got = np.fromiter(_FLOATS.decode(b"[" + array.tobytes()), dtype=np.float64, count=n)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    zero = np.flatnonzero(got == 0)  # "-0" is read as the integer 0 (+0.0); float("-0") is -0.0
    got[zero[blob[starts[zero]] == ord("-")]] = -0.0
    return got


def parse_floats(blob: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of the cells ``blob[starts[i]:ends[i]]`` (already :func:`numeric_tokens_ok`).

    When every cell is a JSON number, one msgspec decode of the cells as a JSON array (correctly rounded, as
    ``float()``; a ``-0`` cell made ``-0.0`` as ``float`` reads it). Otherwise one ``numpy.fromstring`` pass over
    the cells joined by commas (``PyOS_string_to_double``: the conversion ``float()`` uses). A cell that does not
    parse stops the pass: the cells around the stop are marked not ok and the pass resumes after them, so ``ok``
    is exact for well-formed cells and conservative around bad ones.
    """
    n = starts.size
    got = json_floats(blob, starts, ends)
    if got is not None:
        return got, np.isfinite(got)
    values = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    pos = 0
    retries = 0
    while pos < n:
        # a sentinel cell: a partial parse of the last cell ("1e") stops before it, so it is detected too
        joined = concat(blob, starts[pos:], ends[pos:], COMMA).tobytes() + b"0"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = np.fromstring(joined, sep=",")
            except ValueError:  # a numpy that raises instead of stopping early: decide cell by cell
                got = np.asarray(_floats_until_bad(joined), dtype=np.float64)
        m = min(got.size, n - pos)
        if got.size == n - pos + 1:
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
    hs = np.sort(h)
    if np.all(hs[1:] != hs[:-1]):  # distinct hashes, distinct ids (the usual case): every row its own group
        rows = np.arange(n, dtype=np.int64)
        return rows, rows.copy()
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
    perm = np.argsort(hk)  # (ties only matter on the collision path, which sorts the strings themselves)
    hs = hk[perm]
    if np.any(hs[1:] == hs[:-1]):  # a collision among distinct keys: search the strings themselves
        perm = np.argsort(keys, kind="stable")
        ks = keys[perm]
        pos = np.minimum(np.searchsorted(ks, ids), ks.size - 1)
        found = ks[pos] == ids
    else:
        hi = hash_ids(ids)
        order = np.argsort(hi)  # searching sorted needles walks the keys in order (random ones miss the cache)
        pos = np.empty(hi.size, dtype=np.intp)
        pos[order] = np.minimum(np.searchsorted(hs, hi[order]), hs.size - 1)
        found = (hs[pos] == hi) & (keys[perm[pos]] == ids)
    return np.where(found, perm[pos], -1).astype(np.int64)
