"""Which objects make a window (listing by hour segment) and reading one object's bytes under the size cap."""

from __future__ import annotations

import codecs
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from driftline_common import columnar as col
from driftline_common.config import ModelConfig
from driftline_common.errors import ConfigurationError
from driftline_common.hour_listing import window_listing
from driftline_common.s3io import S3Uri, get_bytes, hourly_prefixes, list_objects

_HOUR_RE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")
#: environment variable: the cap on one capture / ground-truth object's size, stored or decompressed (bytes)
MAX_OBJECT_BYTES_ENV = "MAX_OBJECT_BYTES"
DEFAULT_MAX_OBJECT_BYTES = 256 << 20


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
    # the window's hours only (hour_listing), unless the layout is not plainly hour-partitioned
    listed = None if include_unpartitioned else window_listing(loc.bucket, prefix, start, end)
    for key, size, etag in listed if listed is not None else list_objects(S3Uri(loc.bucket, prefix)):
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
        if not raw.isascii():  # (ASCII is UTF-8: no need to decode it to know)
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
