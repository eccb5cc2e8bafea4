"""Bulk decoding of the fields of template-matching JSON Lines (:class:`columnar.LineFields`): payload encodings,
single-row CSV requests and responses (cells split and parsed with numpy), JSON bodies (unescaped and parsed in
one call). A row is taken only when it provably decodes as the per-record parser would decode it; every other row
is left to that parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from driftline_common import columnar as col
from driftline_common.records import (
    _Bad,
    _input_body_rows,
    _may_hold_big_int,
    norm_label,
)

# ---------------------------------------------------------------------------------------------------- bulk capture
_IID = ("eventMetadata", "inferenceId")
_EID = ("eventMetadata", "eventId")
_IN = ("captureData", "endpointInput")
_OUT = ("captureData", "endpointOutput")
_CAPTURE_PATHS = (_IID, _EID, (*_IN, "data"), (*_IN, "encoding"), (*_OUT, "data"), (*_OUT, "encoding"))
_GT_PATHS = (_EID, ("groundTruthData", "data"), ("groundTruthData", "encoding"))
_ENC_CODES = {"CSV": 1, "JSON": 2}


def _enc_codes(g: col.LineFields, path: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per line: 1 = CSV, 2 = JSON, 0 = anything else (BASE64, unknown); and a validity mask."""
    m = g.lines.size
    if path not in g.spans:  # no such key: SageMaker's default, CSV; a non-string value: per record
        return np.full(m, 0 if path in g.keys else 1, dtype=np.int8), np.ones(m, dtype=bool)
    values, ok = col.string_column(g.a, *g.spans[path], g.escapes[path], decoded=g.decoded)
    uniq, inv = col.unique_bytes(values)
    codes = np.asarray([_ENC_CODES.get(u.decode("utf-8", "replace").upper(), 0) for u in uniq.tolist()],
                       dtype=np.int8)
    return codes[inv], ok


def _csv_payload_spans(g: col.LineFields, s: np.ndarray, e: np.ndarray, n_bs: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(ends, ok)``: single-line CSV payloads (no escape but a final newline, which is dropped).

    A quote inside a JSON string value is escaped, so these payloads hold no quote either. With ``g.decoded``,
    ``n_bs`` counts the payload's control characters, quotes and backslashes: the same payloads are taken.
    """
    a = g.a
    if g.decoded:
        last = a[np.maximum(e - 1, 0)]
        trailing_nl = (e - s >= 1) & ((last == col.NEWLINE) | (last == ord("\r")))
        cut = 1
    else:
        last2 = np.stack([a[np.maximum(e - 2, 0)], a[np.maximum(e - 1, 0)]], axis=1)
        trailing_nl = ((e - s >= 2) & (last2[:, 0] == col.BACKSLASH)
                       & ((last2[:, 1] == ord("n")) | (last2[:, 1] == ord("r"))))
        cut = 2
    ok = (n_bs == 0) | ((n_bs == 1) & trailing_nl)
    e = np.where((n_bs == 1) & trailing_nl, e - cut, e)
    return e, ok


def _norm_labels(tokens: np.ndarray, *, single_cell: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, ok)``: :func:`norm_label` of ``S`` tokens computed once per distinct token; blank -> not ok
    (and, with ``single_cell``, a token holding a comma: a CSV row of several cells)."""
    uniq, inv = col.unique_bytes(tokens)
    labels: list[str] = []
    good: list[bool] = []
    for u in uniq.tolist():
        text = u.decode("utf-8")
        labels.append(norm_label(text) if text.strip() else "")
        good.append(bool(text.strip()) and not (single_cell and "," in text))
    inv = inv.reshape(-1)
    return np.asarray(labels, dtype=str)[inv], np.asarray(good, dtype=bool)[inv]


def _floats_of_cells(blob: np.ndarray, cs: np.ndarray, ce: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of numeric cells: only ``0-9 . e E + -`` cells, parsed in one pass, finite.

    When the cells hold no space (the payloads hold no other JSON whitespace) and every one is a JSON number (the
    usual case), one msgspec decode decides them all, without the per-byte check: a JSON number is such a cell.
    """
    if not np.any(blob == ord(" ")):
        got = col.json_floats(blob, cs, ce)
        if got is not None:
            return got, np.isfinite(got)
    ok = col.numeric_tokens_ok(blob, cs, ce)
    values = np.full(cs.size, np.nan)
    if ok.any():
        v, v_ok = col.parse_floats(blob, cs[ok], ce[ok])
        values[ok] = v
        ok[ok] = v_ok
    return values, ok


def _csv_inputs(g: col.LineFields, s: np.ndarray, e: np.ndarray, n_bs: np.ndarray, features: Sequence[Any]
                ) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature columns of single-row CSV requests, parsed in bulk; ``ok`` marks rows that parsed exactly."""
    n = s.size
    k = len(features)
    e, ok = _csv_payload_spans(g, s, e, n_bs)
    feats: list[np.ndarray] = [np.full(n, np.nan) if f.type == "numeric" else np.full(n, "", dtype="U1")
                               for f in features]
    rows = np.flatnonzero(ok)
    if rows.size == 0 or k == 0:
        return feats, np.zeros(n, dtype=bool)
    blob = col.concat(g.a, s[rows], e[rows])
    per_line, c_start, c_end = col.csv_cells(blob, rows.size)
    first = np.cumsum(per_line) - per_line
    good = np.flatnonzero(per_line == k)
    base = first[good]
    sub_ok = np.ones(good.size, dtype=bool)
    num_idx = [j for j, f in enumerate(features) if f.type == "numeric"]
    sel = rows[good]
    if num_idx:
        cells = (base[:, None] + np.asarray(num_idx)).ravel()
        vals, v_ok = _floats_of_cells(blob, c_start[cells], c_end[cells])
        vals = vals.reshape(good.size, len(num_idx))
        sub_ok &= v_ok.reshape(good.size, len(num_idx)).all(axis=1)
        for col_i, j in enumerate(num_idx):
            feats[j][sel] = vals[:, col_i]
    for j, feat in enumerate(features):
        if feat.type == "numeric":
            continue
        labels, lab_ok = _norm_labels(col.gather(blob, c_start[base + j], c_end[base + j]))
        sub_ok &= lab_ok
        feats[j] = feats[j].astype(labels.dtype) if labels.dtype.itemsize > feats[j].dtype.itemsize else feats[j]
        feats[j][sel] = labels
    out_ok = np.zeros(n, dtype=bool)
    out_ok[sel] = sub_ok
    return feats, out_ok


def _csv_outputs(g: col.LineFields, s: np.ndarray, e: np.ndarray, n_bs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kind, scal, width, vec_rows, ok)`` of single-row CSV responses: one number, or one number per class.

    ``vec_rows`` is ``(n, max_width)`` (NaN padded). A single non-numeric cell (a predicted label) is left to
    the per-record parser.
    """
    n = s.size
    e, ok = _csv_payload_spans(g, s, e, n_bs)
    kind = np.zeros(n, dtype=np.int8)
    scal = np.full(n, np.nan)
    width = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return kind, scal, width, np.zeros((n, 0)), np.zeros(n, dtype=bool)
    blob = col.concat(g.a, s[rows], e[rows])
    per_line, c_start, c_end = col.csv_cells(blob, rows.size)
    vals, tok_ok = _floats_of_cells(blob, c_start, c_end)
    line_of_cell = np.repeat(np.arange(rows.size), per_line)
    line_ok = np.bincount(line_of_cell[~tok_ok], minlength=rows.size) == 0
    out_ok = np.zeros(n, dtype=bool)
    out_ok[rows] = line_ok
    width[rows] = per_line
    kind[rows] = np.where(per_line == 1, 1, 2)
    first = np.cumsum(per_line) - per_line
    single = per_line == 1
    scal[rows[single]] = vals[first[single]]
    wmax = int(per_line.max()) if per_line.size else 0
    multi = np.flatnonzero(per_line > 1)
    vec_rows = np.full((n, wmax if multi.size else 0), np.nan)
    if multi.size:
        idx = first[multi][:, None] + np.arange(wmax)
        mask = np.arange(wmax) < per_line[multi][:, None]
        vec_rows[rows[multi]] = np.where(mask, vals[np.minimum(idx, vals.size - 1)], np.nan)
    return kind, scal, width, vec_rows, out_ok


def _json_payloads(a: np.ndarray, s: np.ndarray, e: np.ndarray, *, decoded: bool = False
                   ) -> tuple[list[Any], np.ndarray]:
    """JSON payload bodies (unescaped, unless ``decoded``, and parsed in bulk); ``ok`` False where either step
    fails."""
    n = s.size
    raw = [a[i:j].tobytes() for i, j in zip(s.tolist(), e.tolist(), strict=True)]
    texts: list[Any] | None = raw if decoded else col.unescape(raw)
    ok = np.ones(n, dtype=bool)
    if texts is None:
        texts = []
        for i, r in enumerate(raw):
            one = col.unescape([r])
            ok[i] = one is not None
            texts.append(one[0] if one else "")
    bodies: list[Any] = [None] * n
    loads = orjson.loads
    for i, t in enumerate(texts):
        try:
            bodies[i] = loads(t)
        except orjson.JSONDecodeError:  # NaN...: the per-record parser decides
            ok[i] = False
        if _may_hold_big_int(t):  # an integer beyond 64 bits (orjson: a float): the per-record parser decides
            ok[i] = False
    return bodies, ok


def _json_inputs(bodies: list[Any], good: np.ndarray, features: Sequence[Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature columns of single-row JSON requests, converted column by column.

    A row is taken when its numeric features are JSON numbers (not booleans) and finite and its categorical
    features non-blank strings; anything else (strings holding numbers, ``null``, several rows...) is left to the
    per-record parser, which decides exactly as before.
    """
    n = len(bodies)
    k = len(features)
    rows: list[list[Any]] = []
    ok = np.zeros(n, dtype=bool)
    for i, (body, fine) in enumerate(zip(bodies, good.tolist(), strict=True)):
        if not fine:
            continue
        try:
            got = _input_body_rows(body)
        except _Bad:
            continue
        if len(got) == 1 and isinstance(got[0], list) and len(got[0]) == k:
            rows.append(got[0])
            ok[i] = True
    idx = np.flatnonzero(ok)
    feats: list[np.ndarray] = []
    row_ok = np.ones(idx.size, dtype=bool)
    for j, feat in enumerate(features):
        column = [r[j] for r in rows]
        if feat.type == "numeric":
            numeric = np.fromiter((type(v) is float or type(v) is int for v in column), dtype=bool,
                                  count=len(column))
            values: np.ndarray = np.full(len(column), np.nan)
            if numeric.all():
                values = np.asarray(column, dtype=np.float64)
            elif numeric.any():
                values[numeric] = np.asarray([v for v, good_v in zip(column, numeric.tolist(), strict=True)
                                              if good_v], dtype=np.float64)
            row_ok &= numeric & np.isfinite(values)
            full = np.full(n, np.nan)
            full[idx] = values
            feats.append(full)
        else:
            # (a NUL would be lost at the end of a fixed-width byte string: such values go per record)
            text = np.fromiter((type(v) is str and "\x00" not in v for v in column), dtype=bool, count=len(column))
            strings = np.asarray([v if t else "" for v, t in zip(column, text.tolist(), strict=True)], dtype=str)
            labels, lab_ok = _norm_labels(np.char.encode(strings, "utf-8") if strings.size else
                                          np.zeros(0, dtype="S1"))
            row_ok &= text & lab_ok
            full_l = np.full(n, "", dtype=labels.dtype if labels.size else "U1")
            full_l[idx] = labels
            feats.append(full_l)
    ok[idx] = row_ok
    return feats, ok
