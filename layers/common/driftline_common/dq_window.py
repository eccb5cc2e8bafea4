"""The rows the window reader rejects for their feature values, read again feature by feature for data quality.

The window reader (:mod:`driftline_common.capture`) drops a row whose feature value is missing or not a number
as a whole (bad records ``missing_field`` / ``non_numeric``): the model-quality metrics need every feature of a
row. Model Monitor's data quality does not: completeness is per feature, and a row with one empty value still
counts for the others. :func:`rejected_rows` reads the window's capture once more, per record, keeps only the rows
the strict reader rejects for their values, and summarises them per feature — the present values, the missing
ones (absent, ``null`` or empty) and, for a numeric feature, the present values that are not finite numbers
(``strings``: a data-type problem, not a missing value). The data-quality part merges these summaries with the
strict reader's columns (:func:`driftline_common.dq_summary.merge`).

It costs a second, per-record parse of the window, so it runs only when the strict reader counted such rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from driftline_common.capture import _in_window, _mapping_records, _RowList
from driftline_common.config import ModelConfig
from driftline_common.dq_summary import Summary, of_values
from driftline_common.records import Prediction, _Bad, norm_label
from driftline_common.s3io import S3Uri
from driftline_common.sources import _object_bytes, _window_listing, hour_of_key

#: the strict reader's bad-record reasons of a row rejected for a feature value
VALUE_REASONS = ("missing_field", "non_numeric")


class _Complete(_Bad):
    """A row the strict reader keeps: not counted here."""

    def __init__(self) -> None:
        super().__init__("complete")


class _Lenient(_RowList):
    """Collects, per feature, the values of the rows that have a missing or non-numeric feature value."""

    def __init__(self, features: Sequence[Any]) -> None:
        super().__init__(features)
        self.rows_found = 0
        self.present: dict[str, list[Any]] = {f.name: [] for f in features}
        self.missing: Counter[str] = Counter()
        self.strings: dict[str, list[str]] = {f.name: [] for f in features}

    def _row_values(self, row: Sequence[Any]) -> list[Any]:
        if len(row) != len(self.features):
            raise _Bad("wrong_feature_count")
        cells: list[tuple[str, Any]] = []
        complete = True
        for feat, v in zip(self.features, row, strict=True):
            if v is None or (isinstance(v, str) and not v.strip()):
                cells.append(("missing", None))
                complete = False
            elif feat.type == "numeric":
                try:
                    f = float(v)
                except (TypeError, ValueError):
                    f = math.nan
                if isinstance(v, bool) or not math.isfinite(f):
                    cells.append(("string", str(v)))
                    complete = False
                else:
                    cells.append(("value", f))
            else:
                cells.append(("value", norm_label(v)))
        if complete:
            raise _Complete()
        self.rows_found += 1
        for feat, (state, value) in zip(self.features, cells, strict=True):
            if state == "missing":
                self.missing[feat.name] += 1
            elif state == "string":
                self.strings[feat.name].append(value)
            else:
                self.present[feat.name].append(value)
        return []

    def add(self, order: int, rid: str, eid: str, row: Sequence[Any], pred: Prediction) -> None:
        self._row_values(row)

    def add_mapping(self, order: int, rec: dict[str, Any], src: Any, labels: Sequence[str] | None) -> None:
        if not isinstance(rec.get("features"), list):  # a JSON record without a feature's key: that value is missing
            rec = {**{f.name: None for f in self.features}, **rec}
        super().add_mapping(order, rec, src, labels)

    def summaries(self) -> dict[str, Summary]:
        out = {}
        for f in self.features:
            values = (np.asarray(self.present[f.name], dtype=np.float64) if f.type == "numeric"
                      else np.asarray(self.present[f.name], dtype=str))
            out[f.name] = of_values(f.type, values, missing=self.missing[f.name], strings=self.strings[f.name])
        return out


def rejected_rows(cfg: ModelConfig, start: datetime, end: datetime, keys: Sequence[str] | None = None
                  ) -> tuple[int, dict[str, Summary]]:
    """The rows of ``[start, end)`` with a missing or non-numeric feature value, and their per-feature summaries
    (``keys``: only these capture objects, e.g. one shard's; default: the window's listing)."""
    src = cfg.data_capture
    loc = S3Uri.parse(src.s3_uri)
    objects: list[tuple[str, int | None]]
    if keys is None:
        objects = [(k, size) for k, size, _etag in _window_listing(src.s3_uri, start, end, src.format != "sagemaker")]
    else:
        objects = [(k, None) for k in keys]
    rows = _Lenient(cfg.features)
    ignored: Counter[str] = Counter()
    for key, size in objects:
        buf = _object_bytes(loc.bucket, key, size, ignored)
        if buf is None:
            continue
        if src.format == "sagemaker":
            for line in buf.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                try:
                    rows.add_sagemaker_line(0, line, ignored)
                except _Bad:
                    continue
            continue
        partitioned = hour_of_key(key) is not None
        for rec in _mapping_records(buf.decode("utf-8"), src.format, ignored):
            try:
                if not _in_window(str(rec.get(src.time_column) or ""), start, end, partitioned):
                    continue
                rows.add_mapping(0, rec, src, cfg.labels)
            except _Bad:
                continue
    return rows.rows_found, rows.summaries()
