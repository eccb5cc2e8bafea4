"""Small, typed helpers over S3: URIs, JSON documents, listing of time-partitioned prefixes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from driftline_common.aws import client
from driftline_common.errors import DataFormatError, InvalidEvent
from driftline_common.numbers import dumps, json_safe


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise InvalidEvent(f"expected an s3://bucket/key URI, got {uri!r}")
        bucket, _, key = uri[5:].partition("/")
        if not bucket:
            raise InvalidEvent(f"expected an s3://bucket/key URI, got {uri!r}")
        return cls(bucket, key)

    def child(self, *parts: str) -> S3Uri:
        key = "/".join(p.strip("/") for p in (self.key, *parts) if p.strip("/"))
        return S3Uri(self.bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def sanitize(obj: Any) -> Any:
    """``obj`` with NaN/±inf floats as ``None`` (JSON has no NaN), numpy values as Python ones, recursively.

    The values only: :func:`driftline_common.numbers.to_json` also records where each ``None`` came from.
    """
    return json_safe(obj)


def put_json(uri: str | S3Uri, document: Any) -> str:
    """Write ``document`` as JSON (server-side encryption is the bucket's default); return the URI.

    Numbers cross :mod:`driftline_common.numbers`: NaN/±inf become ``null`` with a note under the root's
    ``numberNotes``; the body never holds a bare ``NaN`` token.
    """
    loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
    body = dumps(document, separators=(",", ":"))
    client("s3").put_object(Bucket=loc.bucket, Key=loc.key, Body=body.encode(), ContentType="application/json")
    return str(loc)


def get_bytes(uri: str | S3Uri) -> bytes:
    loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
    try:
        return client("s3").get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise FileNotFoundError(str(loc)) from exc
        raise


def get_json(uri: str | S3Uri) -> Any:
    raw = get_bytes(uri)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(f"{uri} is not valid JSON: {exc}", uri=str(uri)) from None


def list_keys(uri: str | S3Uri) -> Iterator[tuple[str, int]]:
    """Yield ``(key, size)`` of every object under the prefix ``uri``."""
    for key, size, _etag in list_objects(uri):
        yield key, size


def list_objects(uri: str | S3Uri) -> Iterator[tuple[str, int, str]]:
    """Yield ``(key, size, etag)`` of every object under the prefix ``uri``."""
    loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
    paginator = client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=loc.bucket, Prefix=loc.key):
        for obj in page.get("Contents", []):
            yield obj["Key"], obj["Size"], str(obj.get("ETag", ""))


def hourly_prefixes(base: str | S3Uri, start: datetime, end: datetime) -> list[S3Uri]:
    """The ``yyyy/mm/dd/hh/`` prefixes SageMaker uses for capture and ground truth, for ``[start, end)``."""
    loc = S3Uri.parse(base) if isinstance(base, str) else base
    hour = start.replace(minute=0, second=0, microsecond=0)
    out = []
    while hour < end:
        out.append(loc.child(hour.strftime("%Y/%m/%d/%H")))
        hour += timedelta(hours=1)
    return out
