"""Reading ground truth (SageMaker ground-truth JSON Lines, ``csv``, ``jsonl``) into an id and a label column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np

from driftline_common import artifacts, linescan
from driftline_common import columnar as col
from driftline_common.bulk_payloads import (
    _EID,
    _GT_PATHS,
    _csv_payload_spans,
    _enc_codes,
    _norm_labels,
)
from driftline_common.capture import (
    _mapping_records,
    _per_record_lines,
)
from driftline_common.config import ModelConfig
from driftline_common.records import (
    Labels,
    _b,
    _Bad,
    _csv_rows,
    _decode_payload,
    _json,
    _NoGC,
    _s_array,
    _to_float,
    norm_label,
)
from driftline_common.s3io import S3Uri
from driftline_common.sources import (
    _object_bytes,
    _window_listing,
    max_object_bytes,
)


# ---------------------------------------------------------------------------------------------------- ground truth
def _label_of(cfg: ModelConfig, raw: Any, known: frozenset[str] | None = None) -> str | float:
    """The record's label; ``known`` is ``{norm_label(x) for x in cfg.labels}`` (computed here when not given)."""
    if isinstance(raw, dict):
        for key in ("label", "groundTruth", "ground_truth", "value", "target"):
            if key in raw:
                raw = raw[key]
                break
        else:
            raise _Bad("missing_field")
    if isinstance(raw, list):
        if len(raw) != 1:
            raise _Bad("unparseable_line")
        raw = raw[0]
    if cfg.problem_type == "regression":
        return _to_float(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise _Bad("missing_field")
    label = norm_label(raw)
    if label not in (known if known is not None else _known_labels(cfg)):
        raise _Bad("unknown_label")
    return label


def _known_labels(cfg: ModelConfig) -> frozenset[str]:
    return frozenset(norm_label(x) for x in cfg.labels or ())


def _gt_record(cfg: ModelConfig, line: str, known: frozenset[str]) -> tuple[str, str | float]:
    rec = _json(line)
    if not isinstance(rec, dict) or not isinstance(rec.get("groundTruthData"), dict):
        raise _Bad("missing_field")
    meta = rec.get("eventMetadata") or {}
    rid = str(meta.get("eventId") or "") if isinstance(meta, dict) else ""
    if not rid:
        raise _Bad("missing_id")
    kind, data = _decode_payload(rec["groundTruthData"])
    raw: Any = _json(data) if kind == "json" else (_csv_rows(data) or [[""]])[0]
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    return rid, _label_of(cfg, raw, known)


def _gt_into(cfg: ModelConfig, known: frozenset[str], orders: list[int], ids: list[str],
             values: list[str | float], order: int, line: str) -> None:
    rid, value = _gt_record(cfg, line, known)
    orders.append(order)
    ids.append(rid)
    values.append(value)


class _LabelRows:
    def __init__(self, regression: bool) -> None:
        self.regression = regression
        self.order: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(self, order: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
        if order.size:
            self.order.append(order)
            self.ids.append(ids)
            self.values.append(values)

    def add_list(self, order: list[int], ids: list[str], values: list[str | float]) -> None:
        if order:
            self.add(np.asarray(order, dtype=np.int64), _s_array([_b(i) for i in ids]),
                     np.asarray(values, dtype=np.float64 if self.regression else str))

    def build(self, bad: Counter[str], n_files: int) -> Labels:
        if not self.order:
            return Labels(ids=np.zeros(0, dtype="S1"),
                          values=np.zeros(0, dtype=np.float64 if self.regression else str), bad=bad, files=n_files)
        order = np.concatenate(self.order)
        ids = np.concatenate(self.ids)
        values = np.concatenate(self.values)
        if not np.all(order[1:] > order[:-1]):  # per-record rows came after the bulk ones: reorder
            perm = np.argsort(order, kind="stable")
            ids, values = ids[perm], values[perm]
        first, last = col.group_ids(ids)
        dup = ids.size - first.size
        if not dup:  # every label its own id: the columns as they are
            return Labels(ids=ids, values=values, bad=bad, files=n_files)
        bad["duplicate_id"] += dup
        return Labels(ids=ids[first], values=values[last], bad=bad, files=n_files)


def _gt_group(cfg: ModelConfig, g: col.LineFields, known: frozenset[str]) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray]:
    """``(ids, values, ok)`` of one template group of ground-truth lines parsed in bulk."""
    a = g.a
    m = g.lines.size
    regression = cfg.problem_type == "regression"
    values = np.full(m, np.nan) if regression else np.full(m, "", dtype="U1")
    data_path = ("groundTruthData", "data")
    if _EID not in g.spans or data_path not in g.spans or ("eventMetadata",) not in g.keys:
        return np.zeros(m, dtype="S1"), values, np.zeros(m, dtype=bool)
    ids, ok = col.string_column(a, *g.spans[_EID], g.escapes[_EID], decoded=g.decoded)
    ok &= ids != b""
    enc, enc_ok = _enc_codes(g, ("groundTruthData", "encoding"))
    ok &= enc_ok & (enc == 1)  # CSV labels in bulk; JSON and BASE64 labels per record
    rows = np.flatnonzero(ok)
    if rows.size:
        s, e = g.spans[data_path]
        e2, p_ok = _csv_payload_spans(g, s[rows], e[rows], g.escapes[data_path][rows])
        tokens_s, tokens_e = s[rows], e2
        if regression:
            blob = col.concat(a, tokens_s, tokens_e)
            lengths = tokens_e - tokens_s + 1
            tokens_s = np.cumsum(lengths) - lengths
            tokens_e = tokens_s + lengths - 1
            blob_ok = col.numeric_tokens_ok(blob, tokens_s, tokens_e) & p_ok
            v = np.full(rows.size, np.nan)
            if blob_ok.any():
                got, got_ok = col.parse_floats(blob, tokens_s[blob_ok], tokens_e[blob_ok])
                v[blob_ok] = got
                blob_ok[blob_ok] = got_ok
            values[rows] = v
            ok[rows] = blob_ok
        else:
            labels, lab_ok = _norm_labels(col.gather(a, tokens_s, tokens_e), single_cell=True)
            lab_ok &= p_ok & np.isin(labels, np.asarray(sorted(known), dtype=str))
            values = values.astype(labels.dtype) if labels.dtype.itemsize > values.dtype.itemsize else values
            values[rows] = labels
            ok[rows] = lab_ok
    return ids, values, ok


def read_ground_truth(cfg: ModelConfig, start: datetime, end: datetime, *, cache: S3Uri | None = None) -> Labels:
    """Labels that landed in ``[start, end)``; bad records counted, never raised (``cache``: see read_capture)."""
    src = cfg.ground_truth
    listing = _window_listing(src.s3_uri, start, end, src.format != "sagemaker")
    objects = [(key, size) for key, size, _etag in listing]
    if cache is None:
        return _read_ground_truth_objects(cfg, objects)
    return artifacts.cached_labels(cfg, listing, start, end, cache, lambda: _read_ground_truth_objects(cfg, objects),
                                   max_bytes=max_object_bytes())


def _read_ground_truth_objects(cfg: ModelConfig, objects: Sequence[tuple[str, int | None]]) -> Labels:
    src = cfg.ground_truth
    loc = S3Uri.parse(src.s3_uri)
    bad: Counter[str] = Counter()
    known = _known_labels(cfg)  # once per read, not once per record
    out = _LabelRows(cfg.problem_type == "regression")
    order_base = 0
    with _NoGC():
        for key, size in objects:
            buf = _object_bytes(loc.bucket, key, size, bad)
            if buf is None:
                continue
            slow_order: list[int] = []
            slow_ids: list[str] = []
            slow_values: list[str | float] = []
            if src.format == "sagemaker":
                lines_seen = 0
                for c_start, c_end in col.chunks(buf):
                    lines = col.ChunkLines(buf[c_start:c_end])
                    base = order_base + lines_seen
                    groups, rest = linescan.chunk_fields(lines, _GT_PATHS)
                    for g in groups:
                        ids, values, ok = _gt_group(cfg, g, known)
                        good = np.flatnonzero(ok)
                        out.add(base + g.lines[good].astype(np.int64), ids[good], values[good])
                        rest[g.lines[~ok]] = True

                    if rest.any():
                        _per_record_lines(lines.a, *lines.bounds(), np.flatnonzero(rest), base,
                                          partial(_gt_into, cfg, known, slow_order, slow_ids, slow_values), bad)
                    lines_seen += lines.n
                out.add_list(slow_order, slow_ids, slow_values)
                order_base += lines_seen + 1
                continue
            for i, rec in enumerate(_mapping_records(buf.decode("utf-8"), src.format, bad)):
                try:
                    rid = str(rec.get(src.id_column) or "").strip()
                    if not rid:
                        raise _Bad("missing_id")
                    if src.label_column not in rec:
                        raise _Bad("missing_field")
                    value = _label_of(cfg, rec[src.label_column], known)
                except _Bad as exc:
                    bad[exc.reason] += 1
                    continue
                slow_order.append(order_base + i)
                slow_ids.append(rid)
                slow_values.append(value)
            out.add_list(slow_order, slow_ids, slow_values)
            order_base += len(slow_order) + 1 + buf.count(b"\n")
    return out.build(bad, len(objects))
