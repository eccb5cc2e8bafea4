"""Read a window once per run: its parsed columns stored as a compact ``.npz`` under the run prefix.

The first step of a run that reads the window's capture (the evaluator or the drift checker, which run in
parallel) or its ground truth writes ``runs/<modelId>/<runId>/window/{capture,ground-truth}-<key>.npz``; the
other branch, the shards of a sharded run and the challenger comparison load it instead of parsing the objects
again. ``<key>`` is a SHA-256 of everything the columns depend on: the window, the source (URI, format,
columns), the config's problem type, features and labels, the decompression cap and the listing of the objects
read (key, size, ETag). A new or rewritten object, or a config change, gives another key, so an artifact is
never reused for data it was not read from; two steps reading at the same time both parse and write the same
bytes (harmless). Writing is best effort: a failed write (or an unreadable artifact) only costs a re-read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from driftline_common.aws import client
from driftline_common.config import ModelConfig
from driftline_common.observability import logger
from driftline_common.s3io import S3Uri

if TYPE_CHECKING:
    from driftline_common.datasets import Captured, Labels

SCHEMA = "driftline.window-columns/v1"
#: artifacts up to this size are written with one PutObject (larger ones by a multipart upload)
SINGLE_PUT_BYTES = 64 << 20


def fingerprint(kind: str, cfg: ModelConfig, objects: Sequence[tuple[Any, ...]], start: datetime, end: datetime,
                max_bytes: int) -> str:
    """The key of an artifact: what the columns were read from and with."""
    src = cfg.data_capture if kind == "capture" else cfg.ground_truth
    doc = {
        "schema": SCHEMA, "kind": kind, "source": src.model_dump(mode="json"), "problemType": cfg.problem_type,
        "features": [f.model_dump(mode="json") for f in cfg.features], "labels": list(cfg.labels or []),
        "positiveLabel": cfg.positive_label, "start": start.isoformat(), "end": end.isoformat(),
        "maxObjectBytes": max_bytes, "objects": [list(o) for o in objects],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, allow_nan=False).encode()).hexdigest()


#: a multipart upload (artifacts over SINGLE_PUT_BYTES) in the calling thread too: a function's S3 calls then
#: run where its role and its logs are
_TRANSFER = TransferConfig(use_threads=False)


def _exists(uri: S3Uri) -> bool:
    """Whether the artifact exists (a listing: no GetObject error for the usual first read of a run)."""
    try:
        listed = client("s3").list_objects_v2(Bucket=uri.bucket, Prefix=uri.key, MaxKeys=1)
    except ClientError:
        return False
    return any(o.get("Key") == uri.key for o in listed.get("Contents", []))


def _download(uri: S3Uri) -> dict[str, np.ndarray] | None:
    if not _exists(uri):
        return None
    fd, path = tempfile.mkstemp(suffix=".npz")
    os.close(fd)
    try:
        body = client("s3").get_object(Bucket=uri.bucket, Key=uri.key)["Body"]
        with open(path, "wb") as fh:
            shutil.copyfileobj(body, fh, 8 << 20)  # streamed to /tmp: one request, no transfer threads
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in ("404", "NoSuchKey", "403", "AccessDenied"):
            logger.warning("window artifact not readable", extra={"uri": str(uri), "error": code})
        return None
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("window artifact not readable", extra={"uri": str(uri), "error": str(exc)})
        return None
    finally:
        os.unlink(path)


def _upload(uri: S3Uri, arrays: dict[str, np.ndarray]) -> bool:
    """Write ``arrays`` as an ``.npz`` at ``uri``; whether it was written (failures are logged, not raised)."""
    fd, path = tempfile.mkstemp(suffix=".npz")
    os.close(fd)
    try:
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        if os.path.getsize(path) <= SINGLE_PUT_BYTES:
            with open(path, "rb") as fh:
                client("s3").put_object(Bucket=uri.bucket, Key=uri.key, Body=fh,
                                        ContentType="application/octet-stream")
        else:  # multipart from the file: never the whole artifact in memory twice
            client("s3").upload_file(path, uri.bucket, uri.key, Config=_TRANSFER,
                                     ExtraArgs={"ContentType": "application/octet-stream"})
    except (ClientError, OSError) as exc:
        logger.warning("window artifact not written", extra={"uri": str(uri), "error": str(exc)})
        return False
    finally:
        os.unlink(path)
    return True


#: the artifact writer for other columns kept under a run (the dataset's, :mod:`driftline_common.labelled_csv`)
upload_arrays = _upload


def _meta(**values: Any) -> np.ndarray:
    return np.asarray(json.dumps(values, sort_keys=True, allow_nan=False))


def capture_arrays(cap: Captured, names: Sequence[str]) -> dict[str, np.ndarray]:
    arrays = {"ids": cap.ids, "event_ids": cap.event_ids, "scores": cap.scores, "predicted": cap.predicted,
              "meta": _meta(bad=dict(cap.bad), files=cap.files, features=list(names), schema=SCHEMA)}
    for i, name in enumerate(names):
        arrays[f"feature_{i}"] = cap.features[name]
    return arrays


def captured_of(arrays: dict[str, np.ndarray], names: Sequence[str]) -> Captured | None:
    from driftline_common.datasets import Captured

    meta = json.loads(str(arrays["meta"]))
    if meta.get("schema") != SCHEMA or meta.get("features") != list(names):
        return None
    return Captured(ids=arrays["ids"], event_ids=arrays["event_ids"], scores=arrays["scores"],
                    predicted=arrays["predicted"],
                    features={name: arrays[f"feature_{i}"] for i, name in enumerate(names)},
                    bad=Counter(meta["bad"]), files=int(meta["files"]))


def cached_capture(cfg: ModelConfig, objects: Sequence[tuple[Any, ...]], start: datetime, end: datetime,
                   cache: S3Uri, read: Callable[[], Captured], *, max_bytes: int) -> Captured:
    """The capture columns from the run's artifact when one was written for exactly this read, else ``read()``
    (and the artifact written)."""
    uri = cache.child(f"capture-{fingerprint('capture', cfg, objects, start, end, max_bytes)[:40]}.npz")
    names = [f.name for f in cfg.features]
    arrays = _download(uri)
    if arrays is not None:
        got = captured_of(arrays, names)
        if got is not None:
            return got
    cap = read()
    _upload(uri, capture_arrays(cap, names))
    return cap


def cached_labels(cfg: ModelConfig, objects: Sequence[tuple[Any, ...]], start: datetime, end: datetime,
                  cache: S3Uri, read: Callable[[], Labels], *, max_bytes: int) -> Labels:
    """The ground-truth columns, as :func:`cached_capture`."""
    from driftline_common.datasets import Labels

    uri = cache.child(f"ground-truth-{fingerprint('ground_truth', cfg, objects, start, end, max_bytes)[:40]}.npz")
    arrays = _download(uri)
    if arrays is not None:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("schema") == SCHEMA:
            return Labels(ids=arrays["ids"], values=arrays["values"], bad=Counter(meta["bad"]),
                          files=int(meta["files"]))
    labels = read()
    _upload(uri, {"ids": labels.ids, "values": labels.values,
                  "meta": _meta(bad=dict(labels.bad), files=labels.files, schema=SCHEMA)})
    return labels


def cached_capture_only(cfg: ModelConfig, objects: Sequence[tuple[Any, ...]], start: datetime, end: datetime,
                        cache: S3Uri, *, max_bytes: int) -> Captured | None:
    """The capture columns if the run's artifact for exactly this read exists (never reads the objects)."""
    uri = cache.child(f"capture-{fingerprint('capture', cfg, objects, start, end, max_bytes)[:40]}.npz")
    arrays = _download(uri)
    return captured_of(arrays, [f.name for f in cfg.features]) if arrays is not None else None


def cached_labels_only(cfg: ModelConfig, objects: Sequence[tuple[Any, ...]], start: datetime, end: datetime,
                       cache: S3Uri, *, max_bytes: int) -> Labels | None:
    """The ground-truth columns if the run's artifact for exactly this read exists."""
    from driftline_common.datasets import Labels

    uri = cache.child(f"ground-truth-{fingerprint('ground_truth', cfg, objects, start, end, max_bytes)[:40]}.npz")
    arrays = _download(uri)
    if arrays is None:
        return None
    meta = json.loads(str(arrays["meta"]))
    return Labels(ids=arrays["ids"], values=arrays["values"], bad=Counter(meta["bad"]), files=int(meta["files"]))
