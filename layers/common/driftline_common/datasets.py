"""Readers of the data a model produces and receives, and their join: shared by the evaluator and the drift checker.

Formats (``DataSource.format`` of the model config):

- ``sagemaker``: SageMaker Data Capture JSON Lines (``captureData.endpointInput`` / ``endpointOutput``, each
  with ``data``, ``encoding`` = ``CSV`` | ``JSON`` | ``BASE64`` and ``observedContentType``;
  ``eventMetadata.eventId`` / ``inferenceId`` / ``inferenceTime``) and SageMaker ground-truth JSON Lines
  (``groundTruthData.data`` / ``encoding``, ``eventMetadata.eventId``). Inputs may be a CSV row, a JSON list,
  ``{"instances": [...]}`` or ``{"features": [...]}``; outputs a CSV value/row, a JSON number or list, or
  ``{"predictions": [{"score": ..., "predicted_label": ...}]}``. A request with several rows yields several
  records whose ids get a ``#<row>`` suffix (the same convention joins their ground truth).
- ``csv``: a header row naming ``idColumn``, ``labelColumn`` / ``scoreColumn`` (or ``<scoreColumn>_<label>`` per
  class), ``timeColumn`` and the feature names.
- ``jsonl``: one object per line with the same keys (features by name, or a ``features`` list).

Objects are listed recursively under the source's base URI and kept when their key holds an hour segment
``yyyy/mm/dd/hh`` of the window (SageMaker's ``{base}/{variant}/yyyy/mm/dd/hh/`` and ``{base}/yyyy/mm/dd/hh/``
layouts both work); plain ``csv``/``jsonl`` objects without an hour segment are read too and their rows filtered
by ``timeColumn`` when it is present.

Predictions and labels are joined on ``inferenceId`` falling back to ``eventId`` (SageMaker writes the ground
truth's ``eventId`` as the capture's ``inferenceId`` when one was given, else its ``eventId``).

Bad records are counted per reason (:data:`REASONS`) and reported, never fatal and never silently dropped; a
file that is not text at all counts as one ``unreadable_file``. Nothing here writes to the source prefixes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import gc
import io
import json
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import orjson

from driftline_common import artifacts, linescan
from driftline_common import columnar as col
from driftline_common.aws import client
from driftline_common.config import DataSource, ModelConfig
from driftline_common.errors import ConfigurationError
from driftline_common.s3io import S3Uri, get_bytes, hourly_prefixes, list_objects

#: reasons a record is counted as bad
REASONS = (
    "unparseable_line",  # not JSON / not a CSV row
    "missing_field",  # captureData / groundTruthData / data missing
    "missing_id",  # neither inferenceId nor eventId (or the id column is empty)
    "bad_encoding",  # unknown encoding, or BASE64 that does not decode
    "wrong_feature_count",  # the input row has a different number of values than the config's features
    "non_numeric",  # a numeric feature, score or regression label that is not a finite number
    "missing_prediction",  # the output holds no score and no predicted label
    "row_count_mismatch",  # a request with a different number of input and output rows
    "unknown_label",  # a classification label that is not one of the config's labels
    "duplicate_id",  # a second record with the same id (the later one wins)
    "unreadable_file",  # an object that is not text at all (binary, not UTF-8, corrupt gzip)
    "object_too_large",  # an object larger than MAX_OBJECT_BYTES stored or once decompressed (not read)
)

_HOUR_RE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")
#: environment variable: the cap on one capture / ground-truth object's size, stored or decompressed (bytes)
MAX_OBJECT_BYTES_ENV = "MAX_OBJECT_BYTES"
DEFAULT_MAX_OBJECT_BYTES = 256 << 20


class _Bad(Exception):
    """A record-level problem: counted under ``reason``, never raised out of this module."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------------------- values
def norm_label(value: Any) -> str:
    """Canonical string of a label or category: ``1``, ``1.0`` and ``"1"`` are the same class ``"1"``."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        return str(int(f)) if math.isfinite(f) and f.is_integer() else repr(f)
    s = str(value).strip()
    try:
        f = float(s)
    except ValueError:
        return s
    if math.isfinite(f) and f.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?([eE][+-]?\d+)?", s):
        return str(int(f))
    return s


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise _Bad("non_numeric")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise _Bad("non_numeric") from None
    if not math.isfinite(f):
        raise _Bad("non_numeric")
    return f


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text.strip())) if row]


# ---------------------------------------------------------------------------------------------------- payloads
def _decode_payload(payload: Any) -> tuple[str, str]:
    """``(kind, text)`` of a capture/ground-truth payload: kind is ``csv`` or ``json``."""
    if not isinstance(payload, dict) or "data" not in payload:
        raise _Bad("missing_field")
    data = payload["data"]
    if not isinstance(data, str):
        raise _Bad("missing_field")
    encoding = str(payload.get("encoding", "CSV")).upper()
    ctype = str(payload.get("observedContentType", "")).lower()
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _Bad("bad_encoding") from None
        return ("json" if "json" in ctype else "csv"), data
    if encoding == "CSV":
        return "csv", data
    if encoding == "JSON":
        return "json", data
    raise _Bad("bad_encoding")


def _json(text: str | bytes) -> Any:
    """Parse a JSON text: orjson, and the standard library for what orjson refuses (``NaN``, huge integers...)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Bad("unparseable_line") from None


def _input_rows(kind: str, text: str) -> list[list[Any]]:
    """Rows of feature values from a request body."""
    if kind == "csv":
        rows: list[list[Any]] = [list(r) for r in _csv_rows(text)]
        if not rows:
            raise _Bad("missing_field")
        return rows
    return _input_body_rows(_json(text))


def _input_body_rows(body: Any) -> list[list[Any]]:
    """Rows of feature values from a parsed JSON request body."""
    if isinstance(body, dict):
        for key in ("instances", "features", "inputs", "data"):
            if key in body:
                body = body[key]
                break
        else:
            raise _Bad("missing_field")
    if isinstance(body, dict) and "features" in body:  # {"instances": {"features": [...]}}
        body = body["features"]
    if not isinstance(body, list) or not body:
        raise _Bad("missing_field")
    if all(isinstance(r, list) for r in body):
        return body
    if all(isinstance(r, dict) and "features" in r for r in body):  # [{"features": [...]}, ...]
        return [r["features"] for r in body]
    if any(isinstance(r, list | dict) for r in body):
        raise _Bad("unparseable_line")
    return [body]


@dataclass(frozen=True)
class Prediction:
    """One output row: a score (float, or per-class list) and/or a predicted label."""

    score: float | list[float] | None
    label: str | None


def _prediction_of(obj: Any) -> Prediction:
    if isinstance(obj, bool):
        raise _Bad("non_numeric")
    if isinstance(obj, int | float):
        return Prediction(_to_float(obj), None)
    if isinstance(obj, list):
        return Prediction([_to_float(v) for v in obj], None) if obj else Prediction(None, None)
    if isinstance(obj, str):
        try:
            f = float(obj)
        except ValueError:
            return Prediction(None, norm_label(obj)) if obj.strip() else Prediction(None, None)
        if not math.isfinite(f):  # "nan", "inf", "1e309": a bad score, never a predicted label
            raise _Bad("non_numeric")
        return Prediction(f, None)
    if isinstance(obj, dict):
        score: float | list[float] | None = None
        for key in ("score", "scores", "probability", "probabilities", "prediction"):
            if key in obj and obj[key] is not None:
                raw = obj[key]
                score = [_to_float(v) for v in raw] if isinstance(raw, list) else _to_float(raw)
                break
        label = None
        for key in ("predicted_label", "label", "predicted_class"):
            if key in obj and obj[key] is not None:
                label = norm_label(obj[key])
                break
        return Prediction(score, label)
    raise _Bad("unparseable_line")


def _output_rows(kind: str, text: str) -> list[Prediction]:
    """Prediction rows from a response body."""
    if kind == "csv":
        rows = _csv_rows(text)
        if not rows:
            raise _Bad("missing_prediction")
        out = []
        for r in rows:
            if len(r) == 1:
                out.append(_prediction_of(r[0]))
            else:
                out.append(Prediction([_to_float(v) for v in r], None))
        return out
    return _output_body_rows(_json(text))


def _output_body_rows(body: Any) -> list[Prediction]:
    """Prediction rows from a parsed JSON response body."""
    if isinstance(body, dict) and "predictions" in body:
        body = body["predictions"]
        if not isinstance(body, list):
            body = [body]
        return [_prediction_of(p) for p in body]
    if isinstance(body, list) and body and all(isinstance(p, dict | list) for p in body):
        return [_prediction_of(p) for p in body]
    return [_prediction_of(body)]


# ---------------------------------------------------------------------------------------------------- results
@dataclass
class Captured:
    """The captured predictions of a window, one row per inference (numpy columns)."""

    ids: np.ndarray  # join key: inferenceId, else eventId (UTF-8 bytes, ``S`` dtype)
    event_ids: np.ndarray  # eventId (UTF-8 bytes, may be b"")
    scores: np.ndarray  # float (n,) or (n, k); NaN where absent
    predicted: np.ndarray  # predicted label (str, "" where absent)
    features: dict[str, np.ndarray]  # numeric -> float64, categorical -> str
    bad: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def __len__(self) -> int:
        return int(self.ids.size)


@dataclass
class Labels:
    ids: np.ndarray  # UTF-8 bytes (``S`` dtype)
    values: np.ndarray  # str labels (classification) or float64 (regression)
    bad: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def __len__(self) -> int:
        return int(self.ids.size)


@dataclass
class LabelledWindow:
    """Predictions joined with their labels (the rows every metric is computed on)."""

    ids: np.ndarray  # UTF-8 bytes (``S``) as read; str accepted
    y_true: np.ndarray  # str labels or float64
    scores: np.ndarray  # float (n,) or (n, k)
    predicted: np.ndarray  # str
    features: dict[str, np.ndarray]
    bad_capture: Counter[str]
    bad_ground_truth: Counter[str]
    unmatched: int  # labels whose id matches no captured prediction
    unlabelled: int  # captured predictions without a label (yet)

    @property
    def size(self) -> int:
        return int(self.ids.size)

    def bad_records(self) -> dict[str, int]:
        return {
            "capture": int(sum(self.bad_capture.values())),
            "groundTruth": int(sum(self.bad_ground_truth.values())),
            "unmatched": int(self.unmatched),
        }

    def bad_reasons(self) -> dict[str, dict[str, int]]:
        return {"capture": dict(sorted(self.bad_capture.items())),
                "groundTruth": dict(sorted(self.bad_ground_truth.items()))}


# ---------------------------------------------------------------------------------------------------- listing
def hour_of_key(key: str) -> datetime | None:
    """The hour a key is partitioned under (its last ``yyyy/mm/dd/hh`` segment), or None."""
    matches = list(_HOUR_RE.finditer(key))
    if not matches:
        return None
    y, mo, d, h = (int(g) for g in matches[-1].groups())
    try:
        return datetime(y, mo, d, h, tzinfo=UTC)
    except ValueError:
        return None


def _window_hours(loc: S3Uri, start: datetime, end: datetime) -> set[str]:
    return {"/".join(p.key.split("/")[-4:]) for p in hourly_prefixes(loc, start, end)}


def _key_in_window(rel: str, hours: set[str], include_unpartitioned: bool) -> bool:
    hour = hour_of_key(rel)
    if hour is None:
        return include_unpartitioned
    return hour.strftime("%Y/%m/%d/%H") in hours


def window_objects(base: str, start: datetime, end: datetime, *, include_unpartitioned: bool = False
                   ) -> list[tuple[str, int]]:
    """``(key, size)`` of the objects under ``base`` whose hour segment falls in ``[start, end)`` (sorted)."""
    return [(key, size) for key, size, _etag in _window_listing(base, start, end, include_unpartitioned)]


def _window_listing(base: str, start: datetime, end: datetime, include_unpartitioned: bool
                    ) -> list[tuple[str, int, str]]:
    """``(key, size, etag)`` of the window's objects (sorted)."""
    loc = S3Uri.parse(base)
    hours = _window_hours(loc, start, end)
    prefix = loc.key.rstrip("/") + "/" if loc.key else ""
    out = []
    for key, size, etag in list_objects(S3Uri(loc.bucket, prefix)):
        if key.endswith("/"):
            continue
        if _key_in_window(key[len(prefix):], hours, include_unpartitioned):
            out.append((key, size, etag))
    return sorted(out)


def window_keys(base: str, start: datetime, end: datetime, *, include_unpartitioned: bool = False) -> list[str]:
    """Keys under ``base`` whose hour segment falls in ``[start, end)`` (sorted)."""
    return [key for key, _size in window_objects(base, start, end, include_unpartitioned=include_unpartitioned)]


def capture_keys_in_window(cfg: ModelConfig, keys: Iterable[str], start: datetime, end: datetime) -> list[str]:
    """The keys among ``keys`` that :func:`read_capture` would read for ``[start, end)`` (same rule, sorted).

    A shard of a sharded run gets the objects of a listing that may be wider than the window (one
    ``ListObjectsV2`` prefix for the whole window): this keeps exactly the window's.
    """
    src = cfg.data_capture
    loc = S3Uri.parse(src.s3_uri)
    hours = _window_hours(loc, start, end)
    prefix = loc.key.rstrip("/") + "/" if loc.key else ""
    include = src.format != "sagemaker"
    return sorted(k for k in keys if k.startswith(prefix) and not k.endswith("/")
                  and _key_in_window(k[len(prefix):], hours, include))


def capture_listing(cfg: ModelConfig, start: datetime, end: datetime) -> dict[str, Any]:
    """What a sharded run lists: ``{"bucket", "prefix", "objects", "bytes"}`` of the window's capture.

    ``prefix`` is the longest common ``/``-ending prefix of the window's capture keys (the capture base
    when there are none), so one ``ListObjectsV2`` over it returns every object of the window (and possibly
    some outside it, which :func:`capture_keys_in_window` drops).
    """
    src = cfg.data_capture
    loc = S3Uri.parse(src.s3_uri)
    objects = window_objects(src.s3_uri, start, end, include_unpartitioned=src.format != "sagemaker")
    base = loc.key.rstrip("/") + "/" if loc.key else ""
    prefix = base
    if objects:
        dirs = [k.split("/")[:-1] for k, _ in objects]
        shared = 0
        while all(len(d) > shared and d[shared] == dirs[0][shared] for d in dirs):
            shared += 1
        prefix = "".join(f"{part}/" for part in dirs[0][:shared])
        if len(prefix) < len(base):
            prefix = base
    return {"bucket": loc.bucket, "prefix": prefix, "objects": len(objects),
            "bytes": int(sum(size for _, size in objects))}


def max_object_bytes() -> int:
    """The cap on one object's stored or decompressed size (``MAX_OBJECT_BYTES``, default 256 MiB)."""
    raw = os.environ.get(MAX_OBJECT_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_OBJECT_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{MAX_OBJECT_BYTES_ENV} must be a positive number of bytes, got {raw!r}",
                                 variable=MAX_OBJECT_BYTES_ENV)
    return value


def _object_bytes(bucket: str, key: str, size: int | None, bad: Counter[str]) -> bytes | None:
    """The text bytes of one object (gunzipped, BOM removed), or None when counted bad.

    An object larger than :func:`max_object_bytes` — as stored, or once decompressed — counts as one
    ``object_too_large`` and is never decompressed past the cap; one that is not UTF-8 text (binary, NUL bytes,
    corrupt gzip) counts as one ``unreadable_file``.
    """
    cap = max_object_bytes()
    if size is not None and size > cap:
        bad["object_too_large"] += 1
        return None
    try:
        raw = col.inflate(get_bytes(S3Uri(bucket, key)), cap)
    except col.ObjectTooLarge:
        bad["object_too_large"] += 1
        return None
    except (OSError, EOFError, zlib.error):
        bad["unreadable_file"] += 1
        return None
    if b"\x00" in raw:
        bad["unreadable_file"] += 1
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        bad["unreadable_file"] += 1
        return None
    return raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw


def _read_texts(bucket: str, keys: Iterable[str], bad: Counter[str]) -> Iterator[str]:
    for key in keys:
        raw = _object_bytes(bucket, key, None, bad)
        if raw is not None:
            yield raw.decode("utf-8")


class _NoGC:
    """Pause the cyclic garbage collector while parsing (millions of acyclic containers trigger it for nothing)."""

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


def _b(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _s_array(values: Sequence[bytes]) -> np.ndarray:
    return np.asarray(values, dtype=bytes) if len(values) else np.zeros(0, dtype="S1")


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
        inputs = _input_rows(*_decode_payload(cap.get("endpointInput")))
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
        return _Rows(np.asarray(self.order, dtype=np.int64), np.asarray(self.sub, dtype=np.int64),
                     _s_array(self.rid), _s_array(self.eid), feats, kind, scal, width, off,
                     np.asarray(flat, dtype=np.float64), np.asarray([p.label or "" for p in self.preds], dtype=str))


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
    values, ok = col.string_column(g.a, *g.spans[path], g.escapes[path])
    uniq, inv = np.unique(values, return_inverse=True)
    codes = np.asarray([_ENC_CODES.get(u.decode("utf-8", "replace").upper(), 0) for u in uniq.tolist()],
                       dtype=np.int8)
    return codes[inv.reshape(-1)], ok


def _csv_payload_spans(g: col.LineFields, s: np.ndarray, e: np.ndarray, n_bs: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(ends, ok)``: single-line CSV payloads (no escape but a final newline, which is dropped).

    A quote inside a JSON string value is escaped, so these payloads hold no quote either.
    """
    a = g.a
    last2 = np.stack([a[np.maximum(e - 2, 0)], a[np.maximum(e - 1, 0)]], axis=1)
    trailing_nl = ((e - s >= 2) & (last2[:, 0] == col.BACKSLASH)
                   & ((last2[:, 1] == ord("n")) | (last2[:, 1] == ord("r"))))
    ok = (n_bs == 0) | ((n_bs == 1) & trailing_nl)
    e = np.where((n_bs == 1) & trailing_nl, e - 2, e)
    return e, ok


def _norm_labels(tokens: np.ndarray, *, single_cell: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, ok)``: :func:`norm_label` of ``S`` tokens computed once per distinct token; blank -> not ok
    (and, with ``single_cell``, a token holding a comma: a CSV row of several cells)."""
    uniq, inv = np.unique(tokens, return_inverse=True)
    labels: list[str] = []
    good: list[bool] = []
    for u in uniq.tolist():
        text = u.decode("utf-8")
        labels.append(norm_label(text) if text.strip() else "")
        good.append(bool(text.strip()) and not (single_cell and "," in text))
    inv = inv.reshape(-1)
    return np.asarray(labels, dtype=str)[inv], np.asarray(good, dtype=bool)[inv]


def _floats_of_cells(blob: np.ndarray, cs: np.ndarray, ce: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of numeric cells: only ``0-9 . e E + -`` cells, parsed in one pass, finite."""
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


def _json_payloads(a: np.ndarray, s: np.ndarray, e: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """JSON payload bodies (unescaped and parsed in bulk); ``ok`` False where either step fails."""
    n = s.size
    raw = [a[i:j].tobytes() for i, j in zip(s.tolist(), e.tolist(), strict=True)]
    texts = col.unescape(raw)
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
        except orjson.JSONDecodeError:  # NaN, huge integers...: the per-record parser decides
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


def _bulk_capture_group(g: col.LineFields, order_base: int, features: Sequence[Any]) -> tuple[_Rows, np.ndarray]:
    """The rows of one template group that parse in bulk; and the mask of lines left to the per-record parser."""
    a = g.a
    m = g.lines.size
    ok = np.ones(m, dtype=bool)
    odd = any(p in g.keys and p not in g.spans for p in (_IID, _EID))  # a non-string id: per record
    if (*_IN, "data") not in g.spans or (*_OUT, "data") not in g.spans or odd:
        return _RowList(features).rows(), np.ones(m, dtype=bool)
    if _EID in g.spans:
        eid, eid_ok = col.string_column(a, *g.spans[_EID], g.escapes[_EID])
        ok &= eid_ok
    else:
        eid = np.zeros(m, dtype="S1")
    if _IID in g.spans:
        iid, iid_ok = col.string_column(a, *g.spans[_IID], g.escapes[_IID])
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
    if rows_json.size:
        bodies, b_ok = _json_payloads(a, in_s[rows_json], in_e[rows_json])
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
    if rows_json.size:
        bodies, b_ok = _json_payloads(a, out_s[rows_json], out_e[rows_json])
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

    keep = np.flatnonzero(ok)
    kk = kind[keep]
    ww = width_[keep]
    vec_sel = keep[kk == 2]
    w_sel = ww[kk == 2]
    vec = vec_rows[vec_sel][np.arange(vec_rows.shape[1]) < w_sel[:, None]] if vec_sel.size else np.zeros(0)
    off = np.zeros(keep.size, dtype=np.int64)
    off[kk == 2] = np.cumsum(w_sel) - w_sel
    rows_out = _Rows(order_base + g.lines[keep].astype(np.int64), np.zeros(keep.size, dtype=np.int64),
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
        a = np.frombuffer(buf, dtype=np.uint8, count=c_end - c_start, offset=c_start)
        starts, ends = col.line_bounds(a)
        cr = (ends > starts) & (a[np.maximum(ends - 1, 0)] == 13)
        ends = np.where(cr, ends - 1, ends)  # "\r\n" is one line break (as str.splitlines)
        base = order_base + lines_seen
        groups, rest = linescan.chunk_fields(buf[c_start:c_end], a, starts, ends, _CAPTURE_PATHS)
        for g in groups:
            rows, left = _bulk_capture_group(g, base, features)
            parts.append(rows)
            rest[g.lines[left]] = True
        _per_record_lines(a, starts, ends, np.flatnonzero(rest), base,
                          lambda order, line: slow.add_sagemaker_line(order, line, bad), bad)
        lines_seen += starts.size
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
    n = first.size
    kind = rows.kind[last]
    width = rows.width[last]
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
        scores = np.where(kind == 1, rows.scal[last], np.nan)
        one = np.flatnonzero(lists & (width == 1))
        if one.size:
            scores[one] = rows.vec[rows.off[last[one]]]
    feats = {f.name: rows.feats[j][last] for j, f in enumerate(features)}
    for f in features:
        if f.type == "numeric":
            feats[f.name] = np.asarray(feats[f.name], dtype=np.float64)
        else:
            feats[f.name] = np.asarray(feats[f.name], dtype=str)
    return Captured(ids=rows.rid[first], event_ids=rows.eid[last], scores=scores,
                    predicted=np.asarray(rows.label[last], dtype=str), features=feats, bad=bad, files=n_files)


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
        perm = np.argsort(order, kind="stable")
        ids, values = ids[perm], values[perm]
        first, last = col.group_ids(ids)
        dup = ids.size - first.size
        if dup:
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
    ids, ok = col.string_column(a, *g.spans[_EID], g.escapes[_EID])
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
                    a = np.frombuffer(buf, dtype=np.uint8, count=c_end - c_start, offset=c_start)
                    starts, ends = col.line_bounds(a)
                    cr = (ends > starts) & (a[np.maximum(ends - 1, 0)] == 13)
                    ends = np.where(cr, ends - 1, ends)
                    base = order_base + lines_seen
                    groups, rest = linescan.chunk_fields(buf[c_start:c_end], a, starts, ends, _GT_PATHS)
                    for g in groups:
                        ids, values, ok = _gt_group(cfg, g, known)
                        good = np.flatnonzero(ok)
                        out.add(base + g.lines[good].astype(np.int64), ids[good], values[good])
                        rest[g.lines[~ok]] = True

                    _per_record_lines(a, starts, ends, np.flatnonzero(rest), base,
                                      partial(_gt_into, cfg, known, slow_order, slow_ids, slow_values), bad)
                    lines_seen += starts.size
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


# ---------------------------------------------------------------------------------------------------- join
def _as_bytes(ids: np.ndarray) -> np.ndarray:
    if ids.dtype.kind == "S":
        return ids
    return _s_array([_b(str(v)) for v in ids.tolist()])


def join(captured: Captured, labels: Labels) -> LabelledWindow:
    """Predictions with their labels: on ``inferenceId`` first, then ``eventId`` (vectorised).

    As the per-record join did: a captured row takes the label of its id, else of its event id; a label
    goes to the first captured row (in reading order) that claims it.
    """
    cap_ids = _as_bytes(captured.ids)
    lab_ids = _as_bytes(labels.ids)
    j = col.lookup(lab_ids, cap_ids)
    eids = _as_bytes(captured.event_ids)
    missing = np.flatnonzero((j < 0) & (eids != b""))
    if missing.size:
        j[missing] = col.lookup(lab_ids, eids[missing])
    rows = np.flatnonzero(j >= 0)
    _, first = np.unique(j[rows], return_index=True)
    ci = np.sort(rows[first]).astype(np.intp)
    li = j[ci].astype(np.intp)
    used = ci.size
    return LabelledWindow(
        ids=captured.ids[ci],
        y_true=labels.values[li],
        scores=captured.scores[ci],
        predicted=captured.predicted[ci],
        features={k: v[ci] for k, v in captured.features.items()},
        bad_capture=captured.bad,
        bad_ground_truth=labels.bad,
        unmatched=len(labels) - used,
        unlabelled=len(captured) - used,
    )


def cached_labelled_window(cfg: ModelConfig, start: datetime, end: datetime, cache: S3Uri) -> LabelledWindow | None:
    """The joined window from the run's artifacts when both exist for exactly the current objects (else None);
    never reads capture or ground-truth objects."""
    cap_src, gt_src = cfg.data_capture, cfg.ground_truth
    gt_end = ground_truth_end(cfg, end)
    cap_listing = _window_listing(cap_src.s3_uri, start, end, cap_src.format != "sagemaker")
    captured = artifacts.cached_capture_only(cfg, cap_listing, start, end, cache, max_bytes=max_object_bytes())
    if captured is None:
        return None
    gt_listing = _window_listing(gt_src.s3_uri, start, gt_end, gt_src.format != "sagemaker")
    labels = artifacts.cached_labels_only(cfg, gt_listing, start, gt_end, cache, max_bytes=max_object_bytes())
    return join(captured, labels) if labels is not None else None


def ground_truth_end(cfg: ModelConfig, end: datetime) -> datetime:
    """Labels of a window's predictions may land up to one window later than the predictions."""
    return end + timedelta(hours=cfg.window_hours)


def read_labelled_window(cfg: ModelConfig, start: datetime, end: datetime, *, cache: S3Uri | None = None
                         ) -> LabelledWindow:
    """Capture of ``[start, end)`` joined with the ground truth landed in ``[start, end + windowHours)``."""
    return join(read_capture(cfg, start, end, cache=cache),
                read_ground_truth(cfg, start, ground_truth_end(cfg, end), cache=cache))


# ---------------------------------------------------------------------------------------------------- dataset CSV
def score_columns(cfg: ModelConfig, scores: np.ndarray) -> list[str]:
    if scores.ndim == 2:
        labels = cfg.labels or [str(i) for i in range(scores.shape[1])]
        if len(labels) != scores.shape[1]:
            labels = [str(i) for i in range(scores.shape[1])]
        return [f"score_{lab}" for lab in labels]
    return ["score"]


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return "" if not math.isfinite(float(v)) else repr(float(v))
    return str(v)


def _csv_quoted_chars() -> str:
    """The characters that make ``csv.writer`` (``lineterminator="\\n"``) quote a cell, on this Python."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["\r", "x"])
    return ',"\n' + ("\r" if buf.getvalue().startswith('"') else "")


_CSV_SPECIAL = re.compile("[" + re.escape(_csv_quoted_chars()) + "]")


def _text_column(values: np.ndarray) -> list[str]:
    """A column as CSV cells (vectorised): floats as ``repr`` (empty when not finite), ids decoded, quoted as
    ``csv.writer`` quotes (only cells holding a comma, a quote or a line break)."""
    if values.dtype.kind == "f":
        text = list(map(repr, values.tolist()))
        bad = np.flatnonzero(~np.isfinite(values))
        for i in bad.tolist():
            text[i] = ""
        return text
    if values.dtype.kind == "S":
        try:
            out = list(values.astype("U").tolist())
        except UnicodeDecodeError:
            out = [v.decode("utf-8", "surrogatepass") for v in values.tolist()]
    elif values.dtype.kind == "U":
        out = list(values.tolist())
    else:
        out = [_fmt(v) for v in values.tolist()]
    if out and _CSV_SPECIAL.search("".join(out)):
        out = ['"' + v.replace('"', '""') + '"' if _CSV_SPECIAL.search(v) else v for v in out]
    return out


_CSV_BLOCK = 65_536


def dataset_csv(cfg: ModelConfig, window: LabelledWindow) -> str:
    """The joined window as CSV: ``inference_id,label,score(s),predicted_label,<features>`` (what
    ``csv.writer`` writes, built column by column)."""
    names = [f.name for f in cfg.features]
    header = ["inference_id", "label", *score_columns(cfg, window.scores), "predicted_label", *names]
    scores2d = window.scores if window.scores.ndim == 2 else window.scores[:, None]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(header)
    for lo in range(0, window.size, _CSV_BLOCK):  # a block of rows at a time: memory stays bounded
        rows = slice(lo, lo + _CSV_BLOCK)
        columns = [_text_column(np.asarray(window.ids[rows])), _text_column(np.asarray(window.y_true[rows])),
                   *(_text_column(np.ascontiguousarray(scores2d[rows, j])) for j in range(scores2d.shape[1])),
                   _text_column(np.asarray(window.predicted[rows])),
                   *(_text_column(np.asarray(window.features[n][rows])) for n in names)]
        buf.write("\n".join(map(",".join, zip(*columns, strict=True))))
        buf.write("\n")
    return buf.getvalue()


def write_dataset(uri: str, cfg: ModelConfig, window: LabelledWindow) -> str:
    loc = S3Uri.parse(uri)
    client("s3").put_object(Bucket=loc.bucket, Key=loc.key, Body=dataset_csv(cfg, window).encode(),
                            ContentType="text/csv")
    return str(loc)


@dataclass
class Dataset:
    """A labelled dataset CSV read back (the evaluator's ``datasetUri``)."""

    ids: np.ndarray
    y_true: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray


def parse_dataset_csv(cfg: ModelConfig, text: str) -> Dataset:
    """Read back what :func:`dataset_csv` wrote (raises ValueError on a header that does not fit)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[:2] != ["inference_id", "label"]:
        raise ValueError(f"not a Driftline dataset CSV: header {header[:3] if header else header!r}")
    score_idx = [i for i, h in enumerate(header) if h == "score" or h.startswith("score_")]
    pred_idx = header.index("predicted_label") if "predicted_label" in header else None
    ids, labels, scores, preds = [], [], [], []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"dataset row with {len(row)} cells, header has {len(header)}")
        ids.append(row[0])
        labels.append(row[1])
        scores.append([float(row[i]) if row[i] else math.nan for i in score_idx])
        preds.append(row[pred_idx] if pred_idx is not None else "")
    sc = np.asarray(scores, dtype=np.float64).reshape(len(ids), len(score_idx))
    y = np.asarray(labels, dtype=np.float64) if cfg.problem_type == "regression" else np.asarray(labels, dtype=str)
    return Dataset(
        ids=np.asarray(ids, dtype=str), y_true=y, scores=sc[:, 0] if len(score_idx) == 1 else sc,
        predicted=np.asarray(preds, dtype=str),
    )
