"""Reading SageMaker Data Capture (and the plain ``csv``/``jsonl`` formats) into columns: rows collected per
chunk, in bulk where the layout allows it, per record otherwise; duplicates resolved as the per-record reader did.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from driftline_common import artifacts, json_payloads, linescan
from driftline_common import columnar as col
from driftline_common.bulk_payloads import (
    _CAPTURE_PATHS,
    _EID,
    _IID,
    _IN,
    _OUT,
    _csv_inputs,
    _csv_outputs,
    _enc_codes,
    _json_inputs,
    _json_payloads,
)
from driftline_common.config import DataSource, ModelConfig
from driftline_common.records import (
    Captured,
    Prediction,
    _b,
    _Bad,
    _decode_payload,
    _input_rows,
    _json,
    _NoGC,
    _output_body_rows,
    _output_rows,
    _prediction_of,
    _s_array,
    _to_float,
    norm_label,
)
from driftline_common.s3io import S3Uri
from driftline_common.sources import (
    _object_bytes,
    _window_listing,
    hour_of_key,
    max_object_bytes,
)


# ---------------------------------------------------------------------------------------------------- rows
class _Rows:
    """Rows of captured predictions in reading order, columnar (one chunk of an object, or several merged).

    ``order``/``sub`` sort the rows as the per-record reader met them (line number, row within the line);
    ``kind`` is 0 (no score), 1 (one float in ``scal``) or 2 (``width`` floats at ``vec[off:off + width]``).
    """

    def __init__(self, order: np.ndarray, sub: np.ndarray, rid: np.ndarray, eid: np.ndarray,
                 feats: list[np.ndarray], kind: np.ndarray, scal: np.ndarray, width: np.ndarray, off: np.ndarray,
                 vec: np.ndarray, label: np.ndarray) -> None:
        self.order, self.sub, self.rid, self.eid, self.feats = order, sub, rid, eid, feats
        self.kind, self.scal, self.width, self.off, self.vec, self.label = kind, scal, width, off, vec, label

    @property
    def n(self) -> int:
        return int(self.order.size)

    @staticmethod
    def concat(parts: list[_Rows], n_features: int, numeric: list[bool]) -> _Rows:
        parts = [p for p in parts if p.n]
        if not parts:
            return _Rows(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0, "S1"), np.zeros(0, "S1"),
                         [np.zeros(0) if numeric[j] else np.zeros(0, dtype=str) for j in range(n_features)],
                         np.zeros(0, np.int8), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64),
                         np.zeros(0), np.zeros(0, dtype=str))
        if len(parts) == 1:
            return parts[0]
        shift = np.cumsum([0] + [p.vec.size for p in parts[:-1]])
        return _Rows(
            np.concatenate([p.order for p in parts]), np.concatenate([p.sub for p in parts]),
            np.concatenate([p.rid for p in parts]), np.concatenate([p.eid for p in parts]),
            [np.concatenate([p.feats[j] for p in parts]) for j in range(n_features)],
            np.concatenate([p.kind for p in parts]), np.concatenate([p.scal for p in parts]),
            np.concatenate([p.width for p in parts]),
            np.concatenate([p.off + s for p, s in zip(parts, shift, strict=True)]),
            np.concatenate([p.vec for p in parts]), np.concatenate([p.label for p in parts]),
        )

    def take(self, idx: np.ndarray) -> _Rows:
        return _Rows(self.order[idx], self.sub[idx], self.rid[idx], self.eid[idx], [f[idx] for f in self.feats],
                     self.kind[idx], self.scal[idx], self.width[idx], self.off[idx], self.vec, self.label[idx])


class _RowList:
    """Rows found by the per-record parser (unusual records), converted to :class:`_Rows` at the end."""

    def __init__(self, features: Sequence[Any]) -> None:
        self.features = features
        self.order: list[int] = []
        self.sub: list[int] = []
        self.rid: list[bytes] = []
        self.eid: list[bytes] = []
        self.values: list[list[Any]] = []
        self.preds: list[Prediction] = []
        #: multi-row CSV requests taken whole (:func:`_csv_block`), in columns
        self.blocks: list[_Rows] = []

    def _row_values(self, row: Sequence[Any]) -> list[Any]:
        if len(row) != len(self.features):
            raise _Bad("wrong_feature_count")
        out: list[Any] = []
        for feat, v in zip(self.features, row, strict=True):
            if feat.type == "numeric":
                out.append(_to_float(v))
            else:
                if v is None or (isinstance(v, str) and not v.strip()):
                    raise _Bad("missing_field")
                out.append(norm_label(v))
        return out

    def add(self, order: int, rid: str, eid: str, row: Sequence[Any], pred: Prediction) -> None:
        values = self._row_values(row)
        if pred.score is None and pred.label is None:
            raise _Bad("missing_prediction")
        self.order.append(order)
        self.sub.append(len(self.sub))
        self.rid.append(_b(rid))
        self.eid.append(_b(eid))
        self.values.append(values)
        self.preds.append(pred)

    def add_sagemaker_line(self, order: int, line: str | bytes, bad: Counter[str]) -> None:
        rec = _json(line)
        if not isinstance(rec, dict) or not isinstance(rec.get("captureData"), dict):
            raise _Bad("missing_field")
        cap = rec["captureData"]
        meta = rec.get("eventMetadata") or {}
        if not isinstance(meta, dict):
            raise _Bad("missing_field")
        eid = str(meta.get("eventId") or "")
        rid = str(meta.get("inferenceId") or eid)
        if not rid:
            raise _Bad("missing_id")
        in_kind, in_text = _decode_payload(cap.get("endpointInput"))
        if in_kind == "csv":
            try:
                out_kind, out_text = _decode_payload(cap.get("endpointOutput"))
            except _Bad:
                out_kind = ""  # the row-by-row path below raises it, after the input's own checks
            if out_kind == "csv":
                block = _csv_block(order, rid, eid, in_text, out_text, self.features)
                if block is not None:
                    self.blocks.append(block)
                    return
        inputs = _input_rows(in_kind, in_text)
        outputs = _output_rows(*_decode_payload(cap.get("endpointOutput")))
        if len(inputs) != len(outputs):
            raise _Bad("row_count_mismatch")
        if len(inputs) == 1:
            self.add(order, rid, eid, inputs[0], outputs[0])
            return
        for i, (row, pred) in enumerate(zip(inputs, outputs, strict=True)):
            try:
                self.add(order, f"{rid}#{i}", f"{eid}#{i}" if eid else "", row, pred)
            except _Bad as exc:
                bad[exc.reason] += 1

    def add_mapping(self, order: int, rec: dict[str, Any], src: DataSource, labels: Sequence[str] | None) -> None:
        rid = str(rec.get(src.id_column) or "").strip()
        if not rid:
            raise _Bad("missing_id")
        if isinstance(rec.get("features"), list):
            row = rec["features"]
        else:
            missing = [f.name for f in self.features if f.name not in rec]
            if missing:
                raise _Bad("wrong_feature_count")
            row = [rec[f.name] for f in self.features]
        score: float | list[float] | None = None
        raw = rec.get(src.score_column)
        if raw is not None and raw != "":
            pred = _prediction_of(raw)
        elif labels and all(f"{src.score_column}_{lab}" in rec for lab in labels):
            score = [_to_float(rec[f"{src.score_column}_{lab}"]) for lab in labels]
            pred = Prediction(score, None)
        else:
            pred = Prediction(None, None)
        plabel = rec.get("predicted_label")
        if plabel not in (None, ""):
            pred = Prediction(pred.score, norm_label(plabel))
        self.add(order, rid, rid, row, pred)

    def rows(self) -> _Rows:
        n = len(self.order)
        kind = np.zeros(n, dtype=np.int8)
        scal = np.full(n, np.nan)
        width = np.zeros(n, dtype=np.int64)
        flat: list[float] = []
        off = np.zeros(n, dtype=np.int64)
        for i, p in enumerate(self.preds):
            if isinstance(p.score, list):
                kind[i], width[i], off[i] = 2, len(p.score), len(flat)
                flat.extend(p.score)
            elif isinstance(p.score, float):
                kind[i], scal[i] = 1, p.score
        feats = []
        for j, feat in enumerate(self.features):
            column = [v[j] for v in self.values]
            feats.append(np.asarray(column, dtype=np.float64) if feat.type == "numeric"
                         else np.asarray(column, dtype=str))
        rows = _Rows(np.asarray(self.order, dtype=np.int64), np.asarray(self.sub, dtype=np.int64),
                     _s_array(self.rid), _s_array(self.eid), feats, kind, scal, width, off,
                     np.asarray(flat, dtype=np.float64), np.asarray([p.label or "" for p in self.preds], dtype=str))
        if not self.blocks:
            return rows
        return _Rows.concat([rows, *self.blocks], len(self.features), [f.type == "numeric" for f in self.features])


def _csv_lines(text: str) -> list[str] | None:
    """The rows of a CSV payload as ``_csv_rows`` reads them, when splitting at line breaks and commas is exactly
    what the csv module does (no quote, no carriage return, no NUL); ``None`` otherwise."""
    if '"' in text or "\r" in text or "\x00" in text:
        return None
    return [line for line in text.strip().split("\n") if line]


def _csv_block(order: int, rid: str, eid: str, in_text: str, out_text: str, features: Sequence[Any]
               ) -> _Rows | None:
    """A multi-row CSV request (input and output) in columns at once, when every row is good: as many rows in as
    out, each input row with one cell per feature, every numeric cell and score a finite float, every category
    non-blank, every output row as wide as the first. ``None`` for anything else (a single row, a bad cell, quoting),
    which the row-by-row path then reads with its per-row reasons — so what a request decodes to is the same."""
    ins, outs = _csv_lines(in_text), _csv_lines(out_text)
    if ins is None or outs is None or len(ins) < 2 or len(ins) != len(outs):
        return None
    n, k = len(ins), len(features)
    cells = ",".join(ins).split(",")
    if len(cells) != n * k or any(line.count(",") != k - 1 for line in ins):
        return None
    w = outs[0].count(",") + 1
    scores_text = ",".join(outs).split(",")
    if len(scores_text) != n * w or any(line.count(",") != w - 1 for line in outs):
        return None
    try:
        scores = np.fromiter(map(float, scores_text), dtype=np.float64, count=n * w)
        feats: list[np.ndarray] = []
        for j, feat in enumerate(features):
            column = cells[j::k]
            if feat.type == "numeric":
                feats.append(np.fromiter(map(float, column), dtype=np.float64, count=n))
            elif all(c.strip() for c in column):
                feats.append(np.asarray([norm_label(c) for c in column], dtype=str))
            else:
                return None
    except ValueError:
        return None
    if not np.isfinite(scores).all() or not all(np.isfinite(f).all() for f in feats if f.dtype.kind == "f"):
        return None
    ids = _s_array([_b(f"{rid}#{i}") for i in range(n)])
    eids = _s_array([_b(f"{eid}#{i}") for i in range(n)]) if eid else np.zeros(n, dtype="S1")
    order_col, sub = np.full(n, order, dtype=np.int64), np.arange(n, dtype=np.int64)
    label = np.full(n, "", dtype="U1")
    if w == 1:  # one score a row (as _prediction_of of a number)
        return _Rows(order_col, sub, ids, eids, feats, np.ones(n, np.int8), scores, np.zeros(n, np.int64),
                     np.zeros(n, np.int64), np.zeros(0), label)
    # a list of ``w`` scores a row
    return _Rows(order_col, sub, ids, eids, feats, np.full(n, 2, np.int8), np.full(n, np.nan),
                 np.full(n, w, np.int64), sub * w, scores, label)


def _bulk_capture_group(g: col.LineFields, order_base: int, features: Sequence[Any]) -> tuple[_Rows, np.ndarray]:
    """The rows of one template group that parse in bulk; and the mask of lines left to the per-record parser."""
    a = g.a
    m = g.lines.size
    ok = np.ones(m, dtype=bool)
    odd = any(p in g.keys and p not in g.spans for p in (_IID, _EID))  # a non-string id: per record
    if (*_IN, "data") not in g.spans or (*_OUT, "data") not in g.spans or odd:
        return _RowList(features).rows(), np.ones(m, dtype=bool)
    if _EID in g.spans:
        eid, eid_ok = col.string_column(a, *g.spans[_EID], g.escapes[_EID], decoded=g.decoded)
        ok &= eid_ok
    else:
        eid = np.zeros(m, dtype="S1")
    if _IID in g.spans:
        iid, iid_ok = col.string_column(a, *g.spans[_IID], g.escapes[_IID], decoded=g.decoded)
        ok &= iid_ok
        width = max(iid.dtype.itemsize, eid.dtype.itemsize)
        rid = np.where(iid != b"", iid.astype(f"S{width}"), eid.astype(f"S{width}"))
    else:
        rid = eid
    ok &= rid != b""
    in_enc, in_enc_ok = _enc_codes(g, (*_IN, "encoding"))
    out_enc, out_enc_ok = _enc_codes(g, (*_OUT, "encoding"))
    ok &= in_enc_ok & out_enc_ok & (in_enc > 0) & (out_enc > 0)
    in_s, in_e = g.spans[(*_IN, "data")]
    out_s, out_e = g.spans[(*_OUT, "data")]
    k = len(features)

    feats: list[np.ndarray] = [np.full(m, np.nan) if f.type == "numeric" else np.full(m, "", dtype="U1")
                               for f in features]
    rows_csv = np.flatnonzero(ok & (in_enc == 1))
    if rows_csv.size:
        f_csv, f_ok = _csv_inputs(g, in_s[rows_csv], in_e[rows_csv], g.escapes[(*_IN, "data")][rows_csv], features)
        ok[rows_csv] &= f_ok
        for j in range(k):
            if feats[j].dtype.kind == "U" and f_csv[j].dtype.kind == "U":
                feats[j] = feats[j].astype(f"U{max(feats[j].dtype.itemsize, f_csv[j].dtype.itemsize) // 4}")
            feats[j][rows_csv[f_ok]] = f_csv[j][f_ok]
    rows_json = np.flatnonzero(ok & (in_enc == 2))
    if rows_json.size:  # by layout in one pass, then the others one by one
        f_fast, fast = json_payloads.json_inputs(a, in_s[rows_json], in_e[rows_json], features,
                                                  g.decoded)
        for j in range(k):
            if f_fast[j].dtype.kind == "U" and f_fast[j].dtype.itemsize > feats[j].dtype.itemsize:
                feats[j] = feats[j].astype(f_fast[j].dtype)
            feats[j][rows_json[fast]] = f_fast[j][fast]
        rows_json = rows_json[~fast]
    if rows_json.size:
        bodies, b_ok = _json_payloads(a, in_s[rows_json], in_e[rows_json], decoded=g.decoded)
        f_json, f_ok = _json_inputs(bodies, b_ok, features)
        ok[rows_json] &= f_ok
        sel = rows_json[f_ok]
        for j in range(k):
            if f_json[j].dtype.kind == "U" and f_json[j].dtype.itemsize > feats[j].dtype.itemsize:
                feats[j] = feats[j].astype(f_json[j].dtype)
            feats[j][sel] = f_json[j][f_ok]

    kind = np.zeros(m, dtype=np.int8)
    scal = np.full(m, np.nan)
    width_ = np.zeros(m, dtype=np.int64)
    label = np.full(m, "", dtype="U1")
    vec_rows = np.full((m, 0), np.nan)
    rows_csv = np.flatnonzero(ok & (out_enc == 1))
    if rows_csv.size:
        o_kind, o_scal, o_width, o_vec, o_ok = _csv_outputs(g, out_s[rows_csv], out_e[rows_csv],
                                                           g.escapes[(*_OUT, "data")][rows_csv])
        ok[rows_csv] &= o_ok
        kind[rows_csv], scal[rows_csv], width_[rows_csv] = o_kind, o_scal, o_width
        if o_vec.shape[1]:
            vec_rows = np.full((m, o_vec.shape[1]), np.nan)
            vec_rows[rows_csv] = o_vec
    rows_json = np.flatnonzero(ok & (out_enc == 2))
    if rows_json.size:  # by layout in one pass, then the others one by one
        o_kind, o_scal, o_width, o_vec, o_label, fast = json_payloads.json_outputs(a, out_s[rows_json],
                                                                                   out_e[rows_json], g.decoded)
        sel = rows_json[fast]
        kind[sel], scal[sel], width_[sel] = o_kind[fast], o_scal[fast], o_width[fast]
        if o_vec.shape[1] > vec_rows.shape[1]:
            grown = np.full((m, o_vec.shape[1]), np.nan)
            grown[:, :vec_rows.shape[1]] = vec_rows
            vec_rows = grown
        vec_rows[sel, :o_vec.shape[1]] = o_vec[fast]
        if o_label.dtype.itemsize > label.dtype.itemsize:
            label = label.astype(o_label.dtype)
        label[sel] = o_label[fast]
        rows_json = rows_json[~fast]
    if rows_json.size:
        bodies, b_ok = _json_payloads(a, out_s[rows_json], out_e[rows_json], decoded=g.decoded)
        preds: list[Prediction | None] = []
        for body, good in zip(bodies, b_ok.tolist(), strict=True):
            try:
                if not good:
                    raise _Bad("unparseable_line")
                outs = _output_body_rows(body)
                if len(outs) != 1 or (outs[0].score is None and outs[0].label is None):
                    raise _Bad("row_count_mismatch")
                preds.append(outs[0])
            except _Bad:
                preds.append(None)
        wmax = max((len(p.score) for p in preds if p is not None and isinstance(p.score, list)), default=0)
        if wmax > vec_rows.shape[1]:
            grown = np.full((m, wmax), np.nan)
            grown[:, :vec_rows.shape[1]] = vec_rows
            vec_rows = grown
        labels_json: list[str] = []
        for i, p in zip(rows_json.tolist(), preds, strict=True):
            if p is None:
                ok[i] = False
                labels_json.append("")
                continue
            labels_json.append(p.label or "")
            if isinstance(p.score, list):
                kind[i], width_[i] = 2, len(p.score)
                vec_rows[i, :len(p.score)] = p.score
            elif isinstance(p.score, float):
                kind[i], scal[i] = 1, p.score
        arr = np.asarray(labels_json, dtype=str)
        if arr.dtype.itemsize > label.dtype.itemsize:
            label = label.astype(arr.dtype)
        label[rows_json] = arr

    taken = np.flatnonzero(ok)
    keep: np.ndarray | slice = slice(None) if taken.size == m else taken  # all: the columns as they are
    kk = kind[keep]
    ww = width_[keep]
    vec_sel = np.arange(m)[keep][kk == 2]
    w_sel = ww[kk == 2]
    vec = vec_rows[vec_sel][np.arange(vec_rows.shape[1]) < w_sel[:, None]] if vec_sel.size else np.zeros(0)
    off = np.zeros(kk.size, dtype=np.int64)
    off[kk == 2] = np.cumsum(w_sel) - w_sel
    rows_out = _Rows(order_base + g.lines[keep].astype(np.int64), np.zeros(kk.size, dtype=np.int64),
                     rid[keep], eid[keep], [f[keep] for f in feats], kk, scal[keep], ww, off,
                     np.ascontiguousarray(vec, dtype=np.float64), label[keep])
    return rows_out, ~ok


def _per_record_lines(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, order_base: int,
                      handle: Any, bad: Counter[str]) -> None:
    """Run ``handle(order, line)`` on each line (split as ``str.splitlines`` would), counting ``_Bad``."""
    for i in lines.tolist():
        text = a[starts[i]:ends[i]].tobytes().decode("utf-8")
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                handle(order_base + i, line)
            except _Bad as exc:
                bad[exc.reason] += 1


def _capture_object(buf: bytes, order_base: int, features: Sequence[Any], bad: Counter[str]
                    ) -> tuple[list[_Rows], int]:
    """The rows of one SageMaker Data Capture object; the number of lines (for the next object's order)."""
    parts: list[_Rows] = []
    slow = _RowList(features)
    lines_seen = 0
    for c_start, c_end in col.chunks(buf):
        lines = col.ChunkLines(buf[c_start:c_end])
        base = order_base + lines_seen
        groups, rest = linescan.chunk_fields(lines, _CAPTURE_PATHS)
        for g in groups:
            rows, left = _bulk_capture_group(g, base, features)
            parts.append(rows)
            rest[g.lines[left]] = True
        if rest.any():
            _per_record_lines(lines.a, *lines.bounds(), np.flatnonzero(rest), base,
                              lambda order, line: slow.add_sagemaker_line(order, line, bad), bad)
        lines_seen += lines.n
    parts.append(slow.rows())
    return parts, lines_seen


# ---------------------------------------------------------------------------------------------------- capture
def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _in_window(when: str, start: datetime, end: datetime, partitioned: bool) -> bool:
    if partitioned:
        return True
    ts = _parse_time(when)
    return ts is None or start <= ts < end


def _mapping_records(text: str, fmt: str, bad: Counter[str]) -> Iterator[dict[str, Any]]:
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        for rec in reader:
            if None in rec or any(v is None for v in rec.values()):  # too many / too few cells
                bad["wrong_feature_count"] += 1
                continue
            yield rec
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rec = _json(line)
        except _Bad:
            bad["unparseable_line"] += 1
            continue
        if not isinstance(rec, dict):
            bad["unparseable_line"] += 1
            continue
        yield rec


def _build_captured(rows: _Rows, bad: Counter[str], n_files: int, features: Sequence[Any]) -> Captured:
    """Deduplicate (first position, last values, as the per-record reader did) and assemble the columns."""
    if not np.all(rows.order[1:] > rows.order[:-1]):  # per-record rows came after the bulk ones: reorder
        rows = rows.take(np.lexsort((rows.sub, rows.order)))
    first, last = col.group_ids(rows.rid)
    dup = rows.n - first.size
    if dup:
        bad["duplicate_id"] += dup
    # the columns of each id's last row: as they are when every row has its own id (no copies)
    pick: np.ndarray | slice = last if dup else slice(None)
    n = first.size
    kind = rows.kind[pick]
    width = rows.width[pick]
    lists = kind == 2
    widths = np.unique(width[lists])
    scores: np.ndarray
    if widths.size == 1 and not np.any(kind == 1):
        k = int(widths[0])
        scores = np.full((n, k), np.nan)
        sel = np.flatnonzero(lists)
        if sel.size:
            scores[sel] = rows.vec[rows.off[last[sel]][:, None] + np.arange(k)]
    else:
        scores = np.where(kind == 1, rows.scal[pick], np.nan)
        one = np.flatnonzero(lists & (width == 1))
        if one.size:
            scores[one] = rows.vec[rows.off[last[one]]]
    feats = {f.name: rows.feats[j][pick] for j, f in enumerate(features)}
    for f in features:
        if f.type == "numeric":
            feats[f.name] = np.asarray(feats[f.name], dtype=np.float64)
        else:
            feats[f.name] = np.asarray(feats[f.name], dtype=str)
    return Captured(ids=rows.rid[first if dup else pick], event_ids=rows.eid[pick], scores=scores,
                    predicted=np.asarray(rows.label[pick], dtype=str), features=feats, bad=bad, files=n_files)


def read_capture(cfg: ModelConfig, start: datetime, end: datetime, *, cache: S3Uri | None = None) -> Captured:
    """The captured predictions (and inputs) of ``[start, end)``; bad records counted, never raised.

    With ``cache`` (a run's ``window`` prefix), the columns are read from the artifact an earlier step of the
    same run wrote for the same window, objects and config, or read from the capture and written there.
    """
    src = cfg.data_capture
    listing = _window_listing(src.s3_uri, start, end, src.format != "sagemaker")
    objects = [(key, size) for key, size, _etag in listing]
    if cache is None:
        return _read_capture_objects(cfg, objects, start, end)
    return artifacts.cached_capture(cfg, listing, start, end, cache,
                                    lambda: _read_capture_objects(cfg, objects, start, end),
                                    max_bytes=max_object_bytes())


def read_capture_keys(cfg: ModelConfig, keys: Sequence[str], start: datetime, end: datetime) -> Captured:
    """The captured predictions of the objects ``keys`` (of the capture bucket), rows of ``[start, end)``."""
    return _read_capture_objects(cfg, [(k, None) for k in keys], start, end)


def _read_capture_objects(cfg: ModelConfig, objects: Sequence[tuple[str, int | None]], start: datetime,
                          end: datetime) -> Captured:
    src = cfg.data_capture
    loc = S3Uri.parse(src.s3_uri)
    features = cfg.features
    numeric = [f.type == "numeric" for f in features]
    bad: Counter[str] = Counter()
    parts: list[_Rows] = []
    order_base = 0
    with _NoGC():
        for key, size in objects:
            buf = _object_bytes(loc.bucket, key, size, bad)
            if buf is None:
                continue
            if src.format == "sagemaker":
                got, lines = _capture_object(buf, order_base, features, bad)
                parts.extend(got)
                order_base += lines + 1
                continue
            partitioned = hour_of_key(key) is not None
            slow = _RowList(features)
            for i, rec in enumerate(_mapping_records(buf.decode("utf-8"), src.format, bad)):
                try:
                    if not _in_window(str(rec.get(src.time_column) or ""), start, end, partitioned):
                        continue
                    slow.add_mapping(order_base + i, rec, src, cfg.labels)
                except _Bad as exc:
                    bad[exc.reason] += 1
            parts.append(slow.rows())
            order_base += len(slow.order) + 1 + buf.count(b"\n")
        rows = _Rows.concat(parts, len(features), numeric)
        return _build_captured(rows, bad, len(objects), features)
