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

This module is the public face (and the join); the work is split by concept: :mod:`~driftline_common.sources`
(which objects, their bytes), :mod:`~driftline_common.records` (per-record parsing, reasons, column types),
:mod:`~driftline_common.linescan` / :mod:`~driftline_common.columnar` (locating fields in bulk),
:mod:`~driftline_common.bulk_payloads` (CSV/JSON payloads in bulk), :mod:`~driftline_common.json_payloads`
(JSON payloads by layout), :mod:`~driftline_common.capture`,
:mod:`~driftline_common.ground_truth` and :mod:`~driftline_common.labelled_csv` (the dataset CSV).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from driftline_common import artifacts
from driftline_common import columnar as col
from driftline_common.capture import read_capture, read_capture_keys
from driftline_common.config import ModelConfig
from driftline_common.ground_truth import read_ground_truth
from driftline_common.labelled_csv import (
    Dataset,
    dataset_csv,
    parse_dataset_csv,
    read_dataset_text,
    score_columns,
    write_dataset,
    write_dataset_columns,
)
from driftline_common.records import REASONS, Captured, LabelledWindow, Labels, Prediction, _b, _s_array, norm_label
from driftline_common.s3io import S3Uri
from driftline_common.sources import (
    DEFAULT_MAX_OBJECT_BYTES,
    MAX_OBJECT_BYTES_ENV,
    _window_listing,
    capture_keys_in_window,
    capture_listing,
    hour_of_key,
    max_object_bytes,
    window_keys,
    window_objects,
)

__all__ = [
    "DEFAULT_MAX_OBJECT_BYTES", "MAX_OBJECT_BYTES_ENV", "REASONS", "Captured", "Dataset", "LabelledWindow", "Labels",
    "Prediction", "cached_labelled_window", "capture_keys_in_window", "capture_listing", "dataset_csv",
    "ground_truth_end", "hour_of_key", "join", "max_object_bytes", "norm_label", "parse_dataset_csv",
    "read_capture", "read_capture_keys", "read_dataset_text", "read_ground_truth", "read_labelled_window",
    "score_columns", "window_keys", "window_objects", "write_dataset", "write_dataset_columns",
]


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
    if rows.size and np.bincount(j[rows]).max() > 1:  # a label claimed twice: the first claimant takes it
        _, first = np.unique(j[rows], return_index=True)
        rows = np.sort(rows[first])
    ci = rows.astype(np.intp)
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
