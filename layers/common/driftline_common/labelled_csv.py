"""The joined window as the labelled dataset CSV the evaluator writes (``datasetUri``), and reading it back."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.records import (
    LabelledWindow,
)
from driftline_common.s3io import S3Uri


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
