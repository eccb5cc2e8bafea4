"""Per-record parsing of SageMaker payloads and values, the bad-record reasons and the window's column types.

The per-record parser decides every record the bulk paths (:mod:`driftline_common.bulk_payloads`,
:mod:`driftline_common.linescan`) do not take, so what a record decodes to, and why it is bad, is defined here.
"""

from __future__ import annotations

import base64
import binascii
import csv
import gc
import io
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

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


#: an integer literal of 19 digits or more may lie beyond 64 bits, which orjson reads as a float (the standard
#: library as the exact integer); a text holding one is decided by the standard library
_LONG_DIGITS = re.compile(r"[0-9]{19}")
_LONG_DIGITS_B = re.compile(rb"[0-9]{19}")


def _may_hold_big_int(text: str | bytes) -> bool:
    pattern: Any = _LONG_DIGITS_B if isinstance(text, bytes) else _LONG_DIGITS
    return pattern.search(text) is not None


def _json(text: str | bytes) -> Any:
    """Parse a JSON text: orjson, and the standard library for what orjson refuses (``NaN``, integers beyond 64
    bits, which orjson reads as floats...)."""
    try:
        out = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        if not _may_hold_big_int(text):
            return out
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
