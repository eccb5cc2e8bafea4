"""Test oracle: the per-record reader Driftline shipped before the columnar reader (plus the non-finite
score fix of issue 8.2), kept verbatim so that the bulk path can be proven to give the same columns and counts.

Readers of the data a model produces and receives, and their join: shared by the evaluator and the drift checker.

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
import csv
import gzip
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from driftline_common.aws import client
from driftline_common.config import DataSource, ModelConfig
from driftline_common.s3io import S3Uri, get_bytes, hourly_prefixes, list_keys

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
    "unreadable_file",  # an object that is not text at all (binary, not UTF-8)
)

_HOUR_RE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")
_GZIP_MAGIC = b"\x1f\x8b"


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


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise _Bad("unparseable_line") from None


def _input_rows(kind: str, text: str) -> list[list[Any]]:
    """Rows of feature values from a request body."""
    if kind == "csv":
        rows: list[list[Any]] = [list(r) for r in _csv_rows(text)]
        if not rows:
            raise _Bad("missing_field")
        return rows
    body = _json(text)
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
        if not math.isfinite(f):  # issue 8.2: "nan", "inf", "1e309" are bad scores, never labels
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
    body = _json(text)
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

    ids: np.ndarray  # join key: inferenceId, else eventId (str)
    event_ids: np.ndarray  # eventId (str, may be "")
    times: np.ndarray  # inferenceTime (ISO str, may be "")
    scores: np.ndarray  # float (n,) or (n, k); NaN where absent
    predicted: np.ndarray  # predicted label (str, "" where absent)
    features: dict[str, np.ndarray]  # numeric -> float64, categorical -> str
    bad: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def __len__(self) -> int:
        return int(self.ids.size)


@dataclass
class Labels:
    ids: np.ndarray  # str
    values: np.ndarray  # str labels (classification) or float64 (regression)
    bad: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def __len__(self) -> int:
        return int(self.ids.size)


@dataclass
class LabelledWindow:
    """Predictions joined with their labels (the rows every metric is computed on)."""

    ids: np.ndarray
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
    loc = S3Uri.parse(base)
    hours = _window_hours(loc, start, end)
    prefix = loc.key.rstrip("/") + "/" if loc.key else ""
    out = []
    for key, size in list_keys(S3Uri(loc.bucket, prefix)):
        if key.endswith("/"):
            continue
        if _key_in_window(key[len(prefix):], hours, include_unpartitioned):
            out.append((key, size))
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


def _text_of(raw: bytes) -> str | None:
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return None
    if b"\x00" in raw:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _read_texts(bucket: str, keys: Iterable[str], bad: Counter[str]) -> Iterator[str]:
    for key in keys:
        text = _text_of(get_bytes(S3Uri(bucket, key)))
        if text is None:
            bad["unreadable_file"] += 1
            continue
        yield text


# ---------------------------------------------------------------------------------------------------- capture
class _CaptureBuilder:
    def __init__(self, cfg: ModelConfig) -> None:
        self.features = cfg.features
        self.ids: list[str] = []
        self.event_ids: list[str] = []
        self.times: list[str] = []
        self.scores: list[float | list[float] | None] = []
        self.predicted: list[str] = []
        self.values: list[list[Any]] = []
        self.bad: Counter[str] = Counter()
        self.seen: dict[str, int] = {}

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

    def add(self, rid: str, eid: str, when: str, row: Sequence[Any], pred: Prediction) -> None:
        values = self._row_values(row)
        if pred.score is None and pred.label is None:
            raise _Bad("missing_prediction")
        if rid in self.seen:
            self.bad["duplicate_id"] += 1
            i = self.seen[rid]
            self.event_ids[i], self.times[i], self.values[i] = eid, when, values
            self.scores[i], self.predicted[i] = pred.score, pred.label or ""
            return
        self.seen[rid] = len(self.ids)
        self.ids.append(rid)
        self.event_ids.append(eid)
        self.times.append(when)
        self.values.append(values)
        self.scores.append(pred.score)
        self.predicted.append(pred.label or "")

    def add_sagemaker_line(self, line: str) -> None:
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
        when = str(meta.get("inferenceTime") or "")
        inputs = _input_rows(*_decode_payload(cap.get("endpointInput")))
        outputs = _output_rows(*_decode_payload(cap.get("endpointOutput")))
        if len(inputs) != len(outputs):
            raise _Bad("row_count_mismatch")
        if len(inputs) == 1:
            self.add(rid, eid, when, inputs[0], outputs[0])
            return
        for i, (row, pred) in enumerate(zip(inputs, outputs, strict=True)):
            try:
                self.add(f"{rid}#{i}", f"{eid}#{i}" if eid else "", when, row, pred)
            except _Bad as exc:
                self.bad[exc.reason] += 1

    def add_mapping(self, rec: dict[str, Any], src: DataSource, labels: Sequence[str] | None) -> None:
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
        self.add(rid, rid, str(rec.get(src.time_column) or ""), row, pred)

    def build(self, n_files: int) -> Captured:
        n = len(self.ids)
        scores: np.ndarray
        widths = {len(s) for s in self.scores if isinstance(s, list)}
        if widths and len(widths) == 1 and not any(isinstance(s, float) for s in self.scores):
            k = widths.pop()
            scores = np.full((n, k), np.nan)
            for i, s in enumerate(self.scores):
                if isinstance(s, list):
                    scores[i] = s
        else:
            scores = np.full(n, np.nan)
            for i, s in enumerate(self.scores):
                if isinstance(s, float):
                    scores[i] = s
                elif isinstance(s, list) and len(s) == 1:
                    scores[i] = s[0]
                # per-class scores of inconsistent widths stay NaN: the predicted label is kept
        features: dict[str, np.ndarray] = {}
        for j, feat in enumerate(self.features):
            col = [v[j] for v in self.values]
            features[feat.name] = (
                np.asarray(col, dtype=np.float64) if feat.type == "numeric" else np.asarray(col, dtype=str)
            )
        return Captured(
            ids=np.asarray(self.ids, dtype=str),
            event_ids=np.asarray(self.event_ids, dtype=str),
            times=np.asarray(self.times, dtype=str),
            scores=scores,
            predicted=np.asarray(self.predicted, dtype=str),
            features=features,
            bad=self.bad,
            files=n_files,
        )


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
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad["unparseable_line"] += 1
            continue
        if not isinstance(rec, dict):
            bad["unparseable_line"] += 1
            continue
        yield rec


def read_capture(cfg: ModelConfig, start: datetime, end: datetime) -> Captured:
    """The captured predictions (and inputs) of ``[start, end)``; bad records counted, never raised."""
    src = cfg.data_capture
    keys = window_keys(src.s3_uri, start, end, include_unpartitioned=src.format != "sagemaker")
    return read_capture_keys(cfg, keys, start, end)


def read_capture_keys(cfg: ModelConfig, keys: Sequence[str], start: datetime, end: datetime) -> Captured:
    """The captured predictions of the objects ``keys`` (of the capture bucket), rows of ``[start, end)``."""
    src = cfg.data_capture
    loc = S3Uri.parse(src.s3_uri)
    builder = _CaptureBuilder(cfg)
    for key in keys:
        texts = list(_read_texts(loc.bucket, [key], builder.bad))
        if not texts:
            continue
        text = texts[0]
        partitioned = hour_of_key(key) is not None
        if src.format == "sagemaker":
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    builder.add_sagemaker_line(line)
                except _Bad as exc:
                    builder.bad[exc.reason] += 1
            continue
        for rec in _mapping_records(text, src.format, builder.bad):
            try:
                if not _in_window(str(rec.get(src.time_column) or ""), start, end, partitioned):
                    continue
                builder.add_mapping(rec, src, cfg.labels)
            except _Bad as exc:
                builder.bad[exc.reason] += 1
    return builder.build(len(keys))


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


def read_ground_truth(cfg: ModelConfig, start: datetime, end: datetime) -> Labels:
    """Labels that landed in ``[start, end)``; bad records counted, never raised."""
    src = cfg.ground_truth
    loc = S3Uri.parse(src.s3_uri)
    keys = window_keys(src.s3_uri, start, end, include_unpartitioned=src.format != "sagemaker")
    bad: Counter[str] = Counter()
    by_id: dict[str, str | float] = {}
    known = _known_labels(cfg)  # once per read, not once per record

    def put(rid: str, value: str | float) -> None:
        if rid in by_id:
            bad["duplicate_id"] += 1
        by_id[rid] = value

    for text in _read_texts(loc.bucket, keys, bad):
        if src.format == "sagemaker":
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
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
                    put(rid, _label_of(cfg, raw, known))
                except _Bad as exc:
                    bad[exc.reason] += 1
            continue
        for rec in _mapping_records(text, src.format, bad):
            try:
                rid = str(rec.get(src.id_column) or "").strip()
                if not rid:
                    raise _Bad("missing_id")
                if src.label_column not in rec:
                    raise _Bad("missing_field")
                put(rid, _label_of(cfg, rec[src.label_column], known))
            except _Bad as exc:
                bad[exc.reason] += 1
    ids = np.asarray(list(by_id), dtype=str)
    vals = list(by_id.values())
    values = np.asarray(vals, dtype=np.float64) if cfg.problem_type == "regression" else np.asarray(vals, dtype=str)
    return Labels(ids=ids, values=values, bad=bad, files=len(keys))


# ---------------------------------------------------------------------------------------------------- join
def join(captured: Captured, labels: Labels) -> LabelledWindow:
    """Predictions with their labels: on ``inferenceId`` first, then ``eventId``."""
    index = {rid: i for i, rid in enumerate(labels.ids.tolist())}
    cap_rows: list[int] = []
    lab_rows: list[int] = []
    used: set[int] = set()
    for i, (rid, eid) in enumerate(zip(captured.ids.tolist(), captured.event_ids.tolist(), strict=True)):
        j = index.get(rid)
        if j is None and eid:
            j = index.get(eid)
        if j is None or j in used:
            continue
        used.add(j)
        cap_rows.append(i)
        lab_rows.append(j)
    ci = np.asarray(cap_rows, dtype=np.intp)
    li = np.asarray(lab_rows, dtype=np.intp)
    return LabelledWindow(
        ids=captured.ids[ci],
        y_true=labels.values[li],
        scores=captured.scores[ci],
        predicted=captured.predicted[ci],
        features={k: v[ci] for k, v in captured.features.items()},
        bad_capture=captured.bad,
        bad_ground_truth=labels.bad,
        unmatched=len(labels) - len(used),
        unlabelled=len(captured) - len(used),
    )


def ground_truth_end(cfg: ModelConfig, end: datetime) -> datetime:
    """Labels of a window's predictions may land up to one window later than the predictions."""
    return end + timedelta(hours=cfg.window_hours)


def read_labelled_window(cfg: ModelConfig, start: datetime, end: datetime) -> LabelledWindow:
    """Capture of ``[start, end)`` joined with the ground truth landed in ``[start, end + windowHours)``."""
    return join(read_capture(cfg, start, end), read_ground_truth(cfg, start, ground_truth_end(cfg, end)))


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


def dataset_csv(cfg: ModelConfig, window: LabelledWindow) -> str:
    """The joined window as CSV: ``inference_id,label,score(s),predicted_label,<features>``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [f.name for f in cfg.features]
    w.writerow(["inference_id", "label", *score_columns(cfg, window.scores), "predicted_label", *names])
    scores2d = window.scores if window.scores.ndim == 2 else window.scores[:, None]
    for i in range(window.size):
        w.writerow([
            window.ids[i], _fmt(window.y_true[i]), *(_fmt(s) for s in scores2d[i]), window.predicted[i],
            *(_fmt(window.features[n][i]) for n in names),
        ])
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
