"""Single-row JSON payloads in bulk by layout: one regular-expression pass over a chunk's payloads, no Python
object per record.

A model's requests and responses share one layout (``{"instances": [[0.1, -2.3, "red"]]}`` →
``{"predictions": [{"score": 0.83, "predicted_label": 1}]}``): the same keys, brackets and spacing; only the
numbers and the string values change. :func:`payload_template` turns the first payload into an expression — the
layout's bytes literally, each number a JSON-number group and each string value a group without escapes — and
runs it over all the payloads at once. Which group is which feature, score or label is found by running the
per-record functions (:func:`records._input_body_rows`, :func:`records._output_body_rows`) once on *probes* of
the layout: the payload with every number and string replaced by a recognisable sentinel (twice, with textual and
with numeric-looking strings: a group is used only when both probes put it in the same place, so a value-dependent
decision — a string score — is never taken in bulk). Numbers are converted in one ``numpy.fromstring`` pass
(correctly rounded, as orjson and ``float`` are), labels and categories with :func:`records.norm_label` once
per distinct value.

Before the layouts, the commonest SageMaker bodies are decoded by msgspec into typed Structs (:func:`typed_inputs`,
:func:`typed_outputs`): ``{"instances": [[...]]}`` with one value per feature — a JSON number (``float``) for a
numeric feature, a string for a categorical one — and ``{"predictions": [{"score": <number>,
"predicted_label": <int | string | null>}]}`` (``predicted_label`` optional), no other key. A body of another
shape or with another value type fails the typed decode and goes on to the layouts. msgspec's floats are
correctly rounded (as ``float`` and orjson), ``-0`` is ``0.0`` as orjson's integer ``0``, an out-of-range
number is refused (the per-record parser counts it ``non_numeric``).

A payload is taken only when it matches the layout byte for byte and its values are what the per-record parser
accepts (finite numbers, non-blank categories); every other payload is decided by the existing per-payload path
(:mod:`driftline_common.bulk_payloads`), which is exactly the per-record parser's decision.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
import numpy as np
import orjson

from driftline_common import columnar as col
from driftline_common import linescan
from driftline_common.records import (
    Prediction,
    _Bad,
    _input_body_rows,
    _json,
    _may_hold_big_int,
    _output_body_rows,
    norm_label,
)

_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_STR = rb'[^"\\\x00-\x1f]*+'
#: the tokens of a template payload: strings (keys or values) and numbers, in document order
_TOKENS = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\[^\x00-\x1f])*"|' + _NUM)
_COLON = re.compile(rb"[ \t\r\n]*:")
_NUM_BASE = 1_000_000
_STR_BASE = 2_000_000


class PayloadTemplate:
    """A compiled payload layout: the expression and the kind (``"n"`` number, ``"s"`` string) of each group."""

    def __init__(self, pattern: re.Pattern[bytes], kinds: list[str], probe: Callable[[bool], Any]) -> None:
        self.pattern = pattern
        self.kinds = kinds
        self.probe = probe  # probe(numeric_strings) -> the parsed layout with sentinels in its groups


def payload_template(text: bytes) -> PayloadTemplate | None:
    """The layout of one JSON payload (``None`` when it is not JSON, holds escapes in values, or no values)."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    parts: list[bytes] = [b"^(?:("]
    probe_parts: list[bytes | int] = []
    kinds: list[str] = []
    prev = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        is_str = tok[:1] == b'"'
        if is_str and _COLON.match(text, m.end()):
            continue  # a key: part of the layout
        if is_str and b"\\" in tok:
            return None
        literal = text[prev:m.start()]
        if not kinds:  # the first byte is a group of its own: it marks a matched payload
            parts.append(re.escape(literal[:1]) + b")" + re.escape(literal[1:]))
        else:
            parts.append(re.escape(literal))
        parts.append(b'"(' + _STR + b')"' if is_str else b"(" + _NUM + b")")
        probe_parts += [literal, len(kinds)]
        kinds.append("s" if is_str else "n")
        prev = m.end()
    if not kinds or prev == 0 or not text[:1] or text[:1] in b'"-0123456789':
        return None
    parts.append(re.escape(text[prev:]) + rb"|(.*))$")
    probe_parts.append(text[prev:])

    def probe(numeric_strings: bool) -> Any:
        out = []
        for p in probe_parts:
            if isinstance(p, bytes):
                out.append(p)
            elif kinds[p] == "n":
                out.append(b"%d.25" % (_NUM_BASE + p))
            else:
                out.append(b'"%d.75"' % (_STR_BASE + p) if numeric_strings else b'"@@%d@@"' % p)
        return orjson.loads(b"".join(out))

    return PayloadTemplate(re.compile(b"".join(parts), re.MULTILINE), kinds, probe)


def _hole(value: Any, numeric_strings: bool) -> tuple[str, int] | None:
    """Which group a probe value came from: ``("n", i)`` / ``("s", i)``, or ``None`` (not a sentinel)."""
    if isinstance(value, float) and not isinstance(value, bool):
        i = value - 0.25 - _NUM_BASE
        return ("n", int(i)) if i.is_integer() and 0 <= i < _NUM_BASE else None
    if isinstance(value, str):
        if numeric_strings:
            m = re.fullmatch(r"(\d+)\.75", value)
            return ("s", int(m.group(1)) - _STR_BASE) if m and int(m.group(1)) >= _STR_BASE else None
        m = re.fullmatch(r"@@(\d+)@@", value)
        if m:
            return ("s", int(m.group(1)))
        m = re.fullmatch(r"(\d+)\.25", value)  # a number group read as a label (norm_label of the float)
        return ("n", int(m.group(1)) - _NUM_BASE) if m and int(m.group(1)) >= _NUM_BASE else None
    return None


def _label_hole(value: str, numeric_strings: bool) -> tuple[str, int] | None:
    """A label (``norm_label`` of a group's value) back to its group."""
    m = re.fullmatch(r"(\d+)\.25", value)
    if m and int(m.group(1)) >= _NUM_BASE:
        return ("n", int(m.group(1)) - _NUM_BASE)
    return _hole(value, numeric_strings)


class _Match:
    """The groups of the payloads that match a template: ``taken`` rows and their group values (bytes)."""

    def __init__(self, taken: np.ndarray, groups: list[list[bytes]]) -> None:
        self.taken = taken
        self.groups = groups


def _unescaped_blob(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoded: bool = False) -> tuple[bytes, np.ndarray]:
    """The payloads (raw JSON string bodies) whose only escapes are ``\\"``, unescaped and newline-separated;
    and the indices of those payloads. With ``decoded`` (payloads msgspec already decoded): those holding no
    newline, as they are."""
    rows: np.ndarray = np.arange(s.size)
    if decoded:
        text = col.concat(a, s, e).tobytes()
        if text.count(b"\n") == s.size:  # no payload holds a newline (the usual case)
            return text, rows
        lo = int(s.min()) if s.size else 0
        newlines = np.flatnonzero(a[lo:int(e.max()) if s.size else 0] == col.NEWLINE) + lo
        inside = np.searchsorted(newlines, e) > np.searchsorted(newlines, s)
        if inside.any():
            rows = np.flatnonzero(~inside)
        return col.concat(a, s[rows], e[rows]).tobytes(), rows
    blob = col.concat(a, s, e)
    raw = blob.tobytes()
    if raw.count(b"\\") == raw.count(b'\\"'):  # every backslash is followed by a quote (two passes in C)
        return raw.replace(b'\\"', b'"'), rows
    bs = np.flatnonzero(blob == col.BACKSLASH)
    if bs.size:
        nxt = blob[np.minimum(bs + 1, blob.size - 1)]
        bad = bs[nxt != col.QUOTE]
        if bad.size:
            line_ends = np.cumsum(e - s + 1) - 1
            drop = np.zeros(s.size, dtype=bool)
            drop[np.searchsorted(line_ends, bad)] = True
            rows = np.flatnonzero(~drop)
            blob = col.concat(a, s[rows], e[rows])
    return blob.tobytes().replace(b'\\"', b'"'), rows


def match_payloads(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoded: bool = False
                   ) -> tuple[PayloadTemplate, _Match] | None:
    """Match the payloads ``a[s:e]`` (raw JSON string bodies) against the layout of the first of them."""
    if s.size == 0:
        return None
    text, rows = _unescaped_blob(a, s, e, decoded)
    if rows.size == 0:
        return None
    first = text[:text.find(b"\n")]
    t = payload_template(first)
    if t is None:
        return None
    found = t.pattern.findall(text)
    if text.endswith(b"\n") and len(found) == rows.size + 1:
        found.pop()  # the empty match after the final newline
    if len(found) != rows.size:
        return None
    columns = list(zip(*found, strict=True))
    hit = np.fromiter(map(bool, columns[0]), dtype=bool, count=rows.size)
    taken = np.zeros(s.size, dtype=bool)
    taken[rows[hit]] = True
    if hit.all():
        groups = [list(c) for c in columns[1:-1]]
    else:
        mask = hit.tolist()
        groups = [[v for v, h in zip(c, mask, strict=True) if h] for c in columns[1:-1]]
    return t, _Match(taken, groups)


def _numbers(tokens: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """JSON number tokens as floats (one pass, correctly rounded) and a finite mask."""
    if not tokens:
        return np.zeros(0), np.zeros(0, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.fromstring(b",".join(tokens), sep=",")
    if values.size != len(tokens):  # cannot happen for JSON number tokens; decide them one by one
        values = np.asarray([float(t) for t in tokens], dtype=np.float64)
    for i in np.flatnonzero(values == 0).tolist():  # the integer -0 is orjson's int 0, i.e. +0.0
        if tokens[i] == b"-0":
            values[i] = 0.0
    return values, np.isfinite(values)


def _labels(tokens: Sequence[bytes], kind: str, *, blank_ok: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``norm_label`` of each group value (a JSON number or string) once per distinct value; and ``ok``
    (False for a blank string unless ``blank_ok``: a blank category is missing, a blank predicted label is ``""``)."""
    arr = np.asarray(tokens, dtype=bytes) if tokens else np.zeros(0, dtype="S1")
    uniq, inv = col.unique_bytes(arr)
    labels: list[str] = []
    good: list[bool] = []
    for u in uniq.tolist():
        try:
            value: Any = (_json(u) if _may_hold_big_int(u) else orjson.loads(u)) if kind == "n" else u.decode("utf-8")
        except (orjson.JSONDecodeError, UnicodeDecodeError, _Bad):
            labels.append("")
            good.append(False)
            continue
        labels.append(norm_label(value))
        good.append(kind == "n" or blank_ok or bool(value.strip()))
    inv = inv.reshape(-1)
    return np.asarray(labels, dtype=str)[inv], np.asarray(good, dtype=bool)[inv]


# ---------------------------------------------------------------------------------------------------- typed
@cache
def _request_decoder(numeric: tuple[bool, ...]) -> msgspec.json.Decoder[Any]:
    row: Any = tuple[tuple(float if x else str for x in numeric)]  # type: ignore[misc]
    req = msgspec.defstruct("Request", [("instances", list[row])], forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(req)


_PRED: Any = msgspec.defstruct("Prediction", [("score", float), ("predicted_label", int | str | None, None)],
                          forbid_unknown_fields=True, gc=False)
_RESPONSE_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    msgspec.defstruct("Response", [("predictions", list[_PRED])], forbid_unknown_fields=True, gc=False))


def _typed(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoder: msgspec.json.Decoder[Any], decoded: bool = False
           ) -> tuple[list[Any], np.ndarray]:
    """The payloads ``a[s:e]`` (raw JSON string bodies whose only escapes are ``\\"``) that ``decoder`` takes,
    and their indices: all in one call, else one by one."""
    if s.size == 0:
        return [], np.zeros(0, dtype=np.int64)
    text, rows = _unescaped_blob(a, s, e, decoded)
    if rows.size == 0:
        return [], rows
    try:
        recs = decoder.decode_lines(text)
        if len(recs) == rows.size:
            return recs, rows
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    return linescan.decode_each(decoder, text.split(b"\n"), rows)


def _single(recs: list[Any], field: str, idx: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """The one element of each record's list ``field`` and its index, for the records whose list has one."""
    lists = list(map(attrgetter(field), recs))
    one = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)) == 1
    if not one.all():
        lists = [v for v, o in zip(lists, one.tolist(), strict=True) if o]
        idx = idx[one]
    return list(map(itemgetter(0), lists)), idx


def _distinct_labels(values: list[Any], *, blank_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    """``norm_label`` of ints / strings (``None``: ``""``) once per distinct value; ``ok`` False for a blank
    string unless ``blank_ok``."""
    distinct = list(set(values))
    code = {v: i for i, v in enumerate(distinct)}
    names = np.asarray(["" if v is None else norm_label(v) for v in distinct] or [""], dtype=str)
    good = np.asarray([blank_ok or (isinstance(v, str) and bool(v.strip())) for v in distinct] or [False])
    codes = np.fromiter(map(code.__getitem__, values), dtype=np.int64, count=len(values))
    return names[codes], good[codes]


def typed_inputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, features: Sequence[Any], decoded: bool = False
                 ) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature columns of the ``{"instances": [[...]]}`` requests of one row of the features' types (numbers for
    numeric features, non-blank strings for categorical ones), and the taken mask."""
    n = s.size
    taken = np.zeros(n, dtype=bool)
    feats: list[np.ndarray] = [np.full(n, np.nan) if f.type == "numeric" else np.full(n, "", dtype="U1")
                               for f in features]
    recs, idx = _typed(a, s, e, _request_decoder(tuple(f.type == "numeric" for f in features)), decoded)
    if not recs or not features:
        return feats, taken
    rows, idx = _single(recs, "instances", idx)
    ok = np.ones(idx.size, dtype=bool)
    every = idx.size == n  # every payload taken (the usual case): the columns as decoded
    for j, (feat, column) in enumerate(zip(features, zip(*rows, strict=True) if rows else [()] * len(features),
                                           strict=True)):
        if feat.type == "numeric":
            values = np.fromiter(column, dtype=np.float64, count=len(column))
            ok &= np.isfinite(values)
        else:
            values, l_ok = _distinct_labels(list(column), blank_ok=False)
            ok &= l_ok
        if every:
            feats[j] = values
        else:
            if values.dtype.kind == "U" and values.dtype.itemsize > feats[j].dtype.itemsize:
                feats[j] = feats[j].astype(values.dtype)
            feats[j][idx] = values
    taken[idx[ok]] = True
    return feats, taken


def typed_outputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoded: bool = False
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, scal, width, vec_rows, label, taken)`` of the ``{"predictions": [{"score": …,
    "predicted_label": …}]}`` responses of one prediction (as :func:`json_outputs`)."""
    n = s.size
    kind = np.zeros(n, dtype=np.int8)
    scal = np.full(n, np.nan)
    label = np.full(n, "", dtype="U1")
    taken = np.zeros(n, dtype=bool)
    recs, idx = _typed(a, s, e, _RESPONSE_DECODER, decoded)
    first, idx = _single(recs, "predictions", idx)
    scores = np.fromiter(map(attrgetter("score"), first), dtype=np.float64, count=len(first))
    labels, l_ok = _distinct_labels(list(map(attrgetter("predicted_label"), first)), blank_ok=True)
    ok = np.isfinite(scores) & l_ok
    scal[idx] = scores
    kind[idx] = 1
    label = label.astype(labels.dtype) if labels.dtype.itemsize > label.dtype.itemsize else label
    label[idx] = labels
    taken[idx[ok]] = True
    return kind, scal, np.zeros(n, dtype=np.int64), np.zeros((n, 0)), label, taken


# ---------------------------------------------------------------------------------------------------- requests
def _input_holes(t: PayloadTemplate, features: Sequence[Any]) -> list[tuple[str, int]] | None:
    """The group of each feature (``None`` when the layout is not one row of plain values of the right types)."""
    out: list[list[tuple[str, int] | None]] = []
    for numeric_strings in (False, True):
        try:
            rows = _input_body_rows(t.probe(numeric_strings))
        except _Bad:
            return None
        if len(rows) != 1 or not isinstance(rows[0], list) or len(rows[0]) != len(features):
            return None
        out.append([_hole(v, numeric_strings) for v in rows[0]])
    if out[0] != out[1] or any(h is None for h in out[0]):
        return None
    holes = [h for h in out[0] if h is not None]
    for h, feat in zip(holes, features, strict=True):
        if feat.type == "numeric" and h[0] != "n":  # a string holding a number: decided per record
            return None
    return holes


def json_inputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, features: Sequence[Any], decoded: bool = False
                ) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature columns of the single-row JSON requests taken in bulk (typed, then by layout), and the taken mask."""
    feats, taken = typed_inputs(a, s, e, features, decoded)
    rest = np.flatnonzero(~taken)
    if rest.size:
        more, more_taken = layout_inputs(a, s[rest], e[rest], features, decoded)
        sel = rest[more_taken]
        for j in range(len(features)):
            if more[j].dtype.kind == "U" and more[j].dtype.itemsize > feats[j].dtype.itemsize:
                feats[j] = feats[j].astype(more[j].dtype)
            feats[j][sel] = more[j][more_taken]
        taken[sel] = True
    return feats, taken


def layout_inputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, features: Sequence[Any], decoded: bool = False
                  ) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature columns of the single-row JSON requests that match the first one's layout, and the taken mask."""
    n = s.size
    taken = np.zeros(n, dtype=bool)
    feats: list[np.ndarray] = [np.full(n, np.nan) if f.type == "numeric" else np.full(n, "", dtype="U1")
                               for f in features]
    got = match_payloads(a, s, e, decoded)
    if got is None or not features:
        return feats, taken
    t, m = got
    holes = _input_holes(t, features)
    if holes is None:
        return feats, taken
    idx = np.flatnonzero(m.taken)
    ok = np.ones(idx.size, dtype=bool)
    for j, (feat, (kind, h)) in enumerate(zip(features, holes, strict=True)):
        if feat.type == "numeric":
            values, v_ok = _numbers(m.groups[h])
            feats[j][idx] = values
        else:
            labels, v_ok = _labels(m.groups[h], kind)
            feats[j] = feats[j].astype(labels.dtype) if labels.dtype.itemsize > feats[j].dtype.itemsize else feats[j]
            feats[j][idx] = labels
        ok &= v_ok
    taken[idx[ok]] = True
    return feats, taken


# ---------------------------------------------------------------------------------------------------- responses
def _output_holes(t: PayloadTemplate) -> tuple[Any, Any] | None:
    """``(score, label)`` of the layout's one prediction: score ``None`` | ``("n", i)`` | list of those; label
    ``None`` | ``(kind, i)`` | ``("c", constant)``. ``None`` when a value-dependent decision would be needed."""
    out = []
    for numeric_strings in (False, True):
        try:
            preds = _output_body_rows(t.probe(numeric_strings))
        except _Bad:
            return None
        if len(preds) != 1:
            return None
        p: Prediction = preds[0]
        if p.score is None and p.label is None:
            return None
        score: Any = None
        if isinstance(p.score, list):
            score = [_hole(v, numeric_strings) for v in p.score]
            if any(h is None or h[0] != "n" for h in score):
                return None
        elif p.score is not None:
            score = _hole(p.score, numeric_strings)
            if score is None or score[0] != "n":
                return None
        label: Any = None
        if p.label is not None:
            label = _label_hole(p.label, numeric_strings) or ("c", p.label)
        out.append((score, label))
    if out[0] != out[1]:
        return None
    return out[0]


def json_outputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoded: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, scal, width, vec_rows, label, taken)`` of the single-prediction JSON responses taken in bulk
    (typed, then by layout; ``kind`` 1: one score in ``scal``, 2: ``width`` scores in ``vec_rows``, 0: none)."""
    kind, scal, width, vec_rows, label, taken = typed_outputs(a, s, e, decoded)
    rest = np.flatnonzero(~taken)
    if rest.size:
        k2, s2, w2, v2, l2, t2 = layout_outputs(a, s[rest], e[rest], decoded)
        sel = rest[t2]
        kind[sel], scal[sel], width[sel] = k2[t2], s2[t2], w2[t2]
        if v2.shape[1]:
            vec_rows = np.full((s.size, v2.shape[1]), np.nan)
            vec_rows[sel] = v2[t2]
        label = label.astype(l2.dtype) if l2.dtype.itemsize > label.dtype.itemsize else label
        label[sel] = l2[t2]
        taken[sel] = True
    return kind, scal, width, vec_rows, label, taken


def layout_outputs(a: np.ndarray, s: np.ndarray, e: np.ndarray, decoded: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, scal, width, vec_rows, label, taken)`` of the single-prediction JSON responses that match the
    first one's layout (``kind`` 1: one score in ``scal``, 2: ``width`` scores in ``vec_rows``, 0: none)."""
    n = s.size
    kind = np.zeros(n, dtype=np.int8)
    scal = np.full(n, np.nan)
    width = np.zeros(n, dtype=np.int64)
    label = np.full(n, "", dtype="U1")
    taken = np.zeros(n, dtype=bool)
    got = match_payloads(a, s, e, decoded)
    holes = _output_holes(got[0]) if got is not None else None
    if got is None or holes is None:
        return kind, scal, width, np.zeros((n, 0)), label, taken
    _, m = got
    score, lab = holes
    idx = np.flatnonzero(m.taken)
    ok = np.ones(idx.size, dtype=bool)
    vec_rows = np.zeros((n, 0))
    if isinstance(score, list):
        vec_rows = np.full((n, len(score)), np.nan)
        for c, (_, h) in enumerate(score):
            values, v_ok = _numbers(m.groups[h])
            vec_rows[idx, c] = values
            ok &= v_ok
        kind[idx] = 2
        width[idx] = len(score)
    elif score is not None:
        values, v_ok = _numbers(m.groups[score[1]])
        scal[idx] = values
        ok &= v_ok
        kind[idx] = 1
    if lab is not None:
        if lab[0] == "c":
            labels = np.full(idx.size, lab[1], dtype=str)
        else:
            labels, l_ok = _labels(m.groups[lab[1]], lab[0], blank_ok=True)
            ok &= l_ok
        label = label.astype(labels.dtype) if labels.dtype.itemsize > label.dtype.itemsize else label
        label[idx] = labels
    taken[idx[ok]] = True
    return kind, scal, width, vec_rows, label, taken
