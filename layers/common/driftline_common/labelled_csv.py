"""The joined window as the labelled dataset CSV the evaluator writes (``datasetUri``), and reading it back."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.errors import DataFormatError
from driftline_common.observability import logger
from driftline_common.records import (
    LabelledWindow,
)
from driftline_common.s3io import S3Uri, get_bytes


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


def dataset_header(cfg: ModelConfig, window: LabelledWindow) -> list[str]:
    names = [f.name for f in cfg.features]
    return ["inference_id", "label", *score_columns(cfg, window.scores), "predicted_label", *names]


def _csv_of(header: list[str], ids: np.ndarray, y_true: np.ndarray, scores: np.ndarray, predicted: np.ndarray,
            features: list[np.ndarray]) -> str:
    """The rows as ``csv.writer`` writes them, built column by column, a block of rows at a time."""
    scores2d = scores if scores.ndim == 2 else scores[:, None]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(header)
    for lo in range(0, int(ids.size), _CSV_BLOCK):  # a block of rows at a time: memory stays bounded
        rows = slice(lo, lo + _CSV_BLOCK)
        columns = [_text_column(np.asarray(ids[rows])), _text_column(np.asarray(y_true[rows])),
                   *(_text_column(np.ascontiguousarray(scores2d[rows, j])) for j in range(scores2d.shape[1])),
                   _text_column(np.asarray(predicted[rows])),
                   *(_text_column(np.asarray(f[rows])) for f in features)]
        buf.write("\n".join(map(",".join, zip(*columns, strict=True))))
        buf.write("\n")
    return buf.getvalue()


def dataset_csv(cfg: ModelConfig, window: LabelledWindow) -> str:
    """The joined window as CSV: ``inference_id,label,score(s),predicted_label,<features>`` (what
    ``csv.writer`` writes, built column by column)."""
    return _csv_of(dataset_header(cfg, window), window.ids, window.y_true, window.scores, window.predicted,
                   [window.features[f.name] for f in cfg.features])


def write_dataset(uri: str, cfg: ModelConfig, window: LabelledWindow) -> str:
    """Write the dataset CSV itself at ``uri`` (the sharded reduce, which has no joined window to keep)."""
    loc = S3Uri.parse(uri)
    client("s3").put_object(Bucket=loc.bucket, Key=loc.key, Body=dataset_csv(cfg, window).encode(),
                            ContentType="text/csv")
    return str(loc)


# ---------------------------------------------------------------------------------------------------- deferred CSV
#: the columns behind a dataset CSV that is written when first read (``dataset.npz`` beside ``dataset.csv``)
DATASET_SCHEMA = "driftline.labelled-window/v1"


def columns_uri(uri: str | S3Uri) -> S3Uri:
    """Where the columns of the dataset CSV ``uri`` are kept: the same key with ``.npz`` for ``.csv``."""
    loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
    return S3Uri(loc.bucket, loc.key.removesuffix(".csv") + ".npz")


def dataset_arrays(cfg: ModelConfig, window: LabelledWindow) -> dict[str, np.ndarray]:
    """The joined window's columns and CSV header (plain arrays: ``numpy.savez``, no pickles)."""
    names = [f.name for f in cfg.features]
    arrays = {"ids": _plain(window.ids), "y_true": _plain(window.y_true), "scores": np.asarray(window.scores),
              "predicted": _plain(window.predicted),
              "meta": np.asarray(json.dumps({"schema": DATASET_SCHEMA, "header": dataset_header(cfg, window),
                                             "features": len(names)}, allow_nan=False))}
    for i, name in enumerate(names):
        arrays[f"feature_{i}"] = _plain(window.features[name])
    return arrays


def _plain(values: np.ndarray) -> np.ndarray:
    """``values`` without object dtype (which ``numpy.load(allow_pickle=False)`` refuses)."""
    values = np.asarray(values)
    if values.dtype.kind != "O":
        return values
    return np.asarray([v if isinstance(v, bytes) else str(v) for v in values.tolist()])


def csv_of_arrays(arrays: dict[str, np.ndarray]) -> str:
    """The dataset CSV of :func:`dataset_arrays`' columns (byte for byte what :func:`dataset_csv` writes)."""
    meta = json.loads(str(arrays["meta"]))
    if meta.get("schema") != DATASET_SCHEMA:
        raise ValueError(f"not a Driftline labelled window: schema {meta.get('schema')!r}")
    return _csv_of(list(meta["header"]), arrays["ids"], arrays["y_true"], arrays["scores"], arrays["predicted"],
                   [arrays[f"feature_{i}"] for i in range(int(meta["features"]))])


def write_dataset_columns(uri: str, cfg: ModelConfig, window: LabelledWindow) -> str:
    """Keep the joined window as columns beside the dataset CSV ``uri`` (returned), which is only written when
    first read (:func:`read_dataset_text`): most runs never read it, and formatting a million rows of numbers
    as text costs a third of reading them."""
    from driftline_common.artifacts import upload_arrays

    loc = S3Uri.parse(uri)
    if not upload_arrays(columns_uri(loc), dataset_arrays(cfg, window)):
        return write_dataset(uri, cfg, window)  # the columns could not be stored: the CSV itself, as before
    return str(loc)


def read_dataset_text(uri: str, get: Callable[[str], bytes] | None = None) -> str:
    """The dataset CSV at ``uri``: the object itself, or — when the evaluator kept only its columns
    (:func:`write_dataset_columns`) — written from them now (and stored at ``uri`` for the next reader).

    ``get``: another reader of S3 objects (``FileNotFoundError`` or a ``NoSuchKey`` error when missing); the CSV
    is then not stored. Raises ``FileNotFoundError`` when neither exists, :class:`DataFormatError` on unreadable
    columns (a corrupt ``dataset.npz``).
    """
    fetch = get or (lambda u: get_bytes(u))
    try:
        return fetch(uri).decode("utf-8")
    except FileNotFoundError:
        pass
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") not in ("NoSuchKey", "404"):
            raise
    loc = S3Uri.parse(uri)
    if not loc.key.endswith(".csv"):
        raise FileNotFoundError(uri)
    try:
        raw = fetch(str(columns_uri(loc)))
    except FileNotFoundError:
        raise FileNotFoundError(uri) from None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") not in ("NoSuchKey", "404"):
            raise
        raise FileNotFoundError(uri) from None
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            text = csv_of_arrays({k: z[k] for k in z.files})
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"the columns of {uri} are not readable: {exc}"[:500], uri=uri) from None
    if get is None:
        try:
            client("s3").put_object(Bucket=loc.bucket, Key=loc.key, Body=text.encode(), ContentType="text/csv")
        except ClientError as exc:  # best effort: the next reader writes it again
            logger.warning("dataset CSV not stored", extra={"uri": uri, "error": str(exc)[:300]})
    return text


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
