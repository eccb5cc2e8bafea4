"""Listing only a window's hours of an hour-partitioned prefix (capture, ground truth), not its whole history.

SageMaker writes Data Capture under ``<s3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/`` and ground truth under
``<s3Uri>/yyyy/mm/dd/hh/``. Listing the whole prefix to keep one window's keys costs one ``ListObjectsV2``
page per 1,000 objects of the prefix's entire history: after a year of hourly capture files every run lists
thousands of keys to read two dozen. Here the *partition parents* (the prefixes whose children are ``yyyy/``
folders) are found with delimiter listings a few levels deep, and each is listed from the window's first hour
(``StartAfter``) until the first key past its last hour: the cost follows the window, not the history.

The caller still filters the keys (the hour rule of :func:`driftline_common.sources._window_listing`), so a
key listed here that is not in the window is dropped; what this module must never do is miss a key of the
window. It falls back to the full listing (``None``) whenever the layout is not the plain partitioned one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from driftline_common.aws import client

_YEAR = re.compile(r"\d{4}/$")
#: how deep below the base the partition parents are looked for (capture: endpoint/variant/yyyy)
MAX_DEPTH = 3
#: more children than this at one level is not a plain partitioned layout: list everything instead
MAX_CHILDREN = 64


def _children(bucket: str, prefix: str) -> list[str] | None:
    """The ``/``-delimited child prefixes of ``prefix``; None when there are keys right under it or too many."""
    s3 = client("s3")
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        if page.get("Contents"):
            return None  # objects beside the folders: not a plain layout
        out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        if len(out) > MAX_CHILDREN:
            return None
    return out


def partition_parents(bucket: str, prefix: str) -> list[str] | None:
    """The prefixes under ``prefix`` whose children are ``yyyy/`` folders; None when the layout is not plain."""
    parents: list[str] = []
    level = [prefix]
    for _ in range(MAX_DEPTH + 1):
        deeper: list[str] = []
        for p in level:
            kids = _children(bucket, p)
            if kids is None:
                return None
            years = [k for k in kids if _YEAR.fullmatch(k[len(p):])]
            if years and len(years) != len(kids):
                return None  # year folders mixed with others
            if years:
                parents.append(p)
            else:
                deeper.extend(kids)
        if not deeper:
            return parents
        level = deeper
    return None  # partitions deeper than MAX_DEPTH


def window_listing(bucket: str, prefix: str, start: datetime, end: datetime
                   ) -> Iterator[tuple[str, int, str]] | None:
    """``(key, size, etag)`` of the objects of ``prefix``'s partitions from ``start``'s hour to before ``end``.

    None when ``prefix`` is not a plain hour-partitioned layout (the caller lists everything then).
    """
    parents = partition_parents(bucket, prefix)
    if parents is None:
        return None
    first = start.replace(minute=0, second=0, microsecond=0)
    last = (end - timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return _listed(bucket, parents, first.strftime("%Y/%m/%d/%H"), last.strftime("%Y/%m/%d/%H"))


def _listed(bucket: str, parents: list[str], first: str, stop: str) -> Iterator[tuple[str, int, str]]:
    paginator = client("s3").get_paginator("list_objects_v2")
    for parent in parents:
        done = False
        for page in paginator.paginate(Bucket=bucket, Prefix=parent, StartAfter=parent + first):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key[len(parent):len(parent) + len(stop)] >= stop:
                    done = True
                    break
                yield key, obj["Size"], str(obj.get("ETag", ""))
            if done:
                break
